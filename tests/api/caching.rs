//! What a phone on a weak network is spared: the reads it repeats carry a strong `ETag`
//! and a `Cache-Control`, answer 304 to `If-None-Match`, and large JSON answers of reads
//! come gzip-compressed when asked for; the point of sale's answers are left as they were.

use std::io::Read;

use serde_json::{json, Value};

use crate::helpers::*;
use crate::pos::{offer, open_shop, qr, redeem, ten_percent};

struct Raw {
    status: u16,
    headers: reqwest::header::HeaderMap,
    bytes: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_default()
    }

    /// The body as JSON, unzipped when it says it is gzip.
    fn json(&self) -> Value {
        let mut text = Vec::new();
        if self.header("content-encoding") == "gzip" {
            flate2::read::GzDecoder::new(&self.bytes[..])
                .read_to_end(&mut text)
                .expect("a gzip body");
        } else {
            text = self.bytes.clone();
        }
        serde_json::from_slice(&text).expect("a JSON body")
    }
}

/// A GET with the headers given, its body as sent (reqwest here decompresses nothing).
async fn raw(app: &TestApp, path: &str, token: Option<&str>, headers: &[(&str, &str)]) -> Raw {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    Raw {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        bytes: response.bytes().await.unwrap().to_vec(),
    }
}

/// Offers enough for the listing to pass the gzip threshold.
async fn shop_with_offers(app: &TestApp) -> crate::pos::Shop {
    let shop = open_shop(app).await;
    for n in 0..4 {
        offer(
            app,
            &shop,
            json!({"title": format!("凭卡九折第{n}档"), "kind": "percent_off", "percent_off": 10,
                   "description": "凭优待卡享受九折优惠，可与店内会员折扣同享，节假日照常。"}),
        )
        .await;
    }
    shop
}

crate::instant_backends! {
    async fn the_offer_list_is_gzipped_tagged_and_answers_304(app) {
        let shop = shop_with_offers(&app).await;
        let plain = raw(&app, "/api/v1/offers", None, &[]).await;
        assert_eq!(plain.status, 200);
        assert!(plain.bytes.len() >= yongjun::http::caching::GZIP_FROM, "{} bytes", plain.bytes.len());
        assert_eq!(plain.header("content-encoding"), "");
        assert_eq!(plain.header("cache-control"), "public, max-age=60");
        assert_eq!(plain.header("vary"), "Accept-Encoding");
        let tag = plain.header("etag").to_owned();
        assert!(tag.starts_with('"') && tag.ends_with('"') && tag.len() == 34, "{tag}");

        let zipped = raw(&app, "/api/v1/offers", None, &[("Accept-Encoding", "gzip, br")]).await;
        assert_eq!(zipped.status, 200);
        assert_eq!(zipped.header("content-encoding"), "gzip");
        assert!(zipped.bytes.len() < plain.bytes.len() / 2, "{} of {} bytes", zipped.bytes.len(), plain.bytes.len());
        assert_eq!(zipped.json(), plain.json());
        assert_eq!(zipped.header("etag"), format!("{}-gzip\"", &tag[..tag.len() - 1]));

        // A repeat naming either tag is a 304 without a body.
        for kept in [tag.clone(), zipped.header("etag").to_owned()] {
            let again = raw(&app, "/api/v1/offers", None, &[("If-None-Match", &kept), ("Accept-Encoding", "gzip")]).await;
            assert_eq!(again.status, 304, "{kept}");
            assert!(again.bytes.is_empty());
            assert_eq!(again.header("cache-control"), "public, max-age=60");
            assert!(!again.header("etag").is_empty());
        }
        let other = raw(&app, "/api/v1/offers", None, &[("If-None-Match", "\"0000\"")]).await;
        assert_eq!(other.status, 200);

        // A change to the list changes the tag: the kept one no longer holds.
        offer(&app, &shop, ten_percent()).await;
        let changed = raw(&app, "/api/v1/offers", None, &[("If-None-Match", &tag)]).await;
        assert_eq!(changed.status, 200);
        assert_ne!(changed.header("etag"), tag);
        assert_eq!(changed.json()["items"].as_array().unwrap().len(), 5);
    }

    async fn each_repeated_read_says_how_long_it_may_be_kept(app) {
        let shop = shop_with_offers(&app).await;
        let merchant = format!("/api/v1/merchants/{}", shop.merchant_id);
        for (path, token, cache_control) in [
            ("/api/v1/merchants", None, "public, max-age=60"),
            (merchant.as_str(), None, "public, max-age=60"),
            ("/api/v1/regions", None, "public, max-age=3600"),
            ("/.well-known/jwks.json", None, "public, max-age=300"),
            ("/api/v1/holder/offers", Some(shop.holder.as_str()), "private, max-age=60"),
        ] {
            let first = raw(&app, path, token, &[("Accept-Encoding", "gzip")]).await;
            assert_eq!(first.status, 200, "{path}");
            assert_eq!(first.header("cache-control"), cache_control, "{path}");
            let tag = first.header("etag").to_owned();
            assert!(tag.starts_with('"'), "{path}: {tag:?}");
            // A large answer is compressed, a small one is not.
            let large = first.json().to_string().len() >= yongjun::http::caching::GZIP_FROM;
            assert_eq!(first.header("content-encoding") == "gzip", large, "{path}");
            let again = raw(&app, path, token, &[("If-None-Match", &tag)]).await;
            assert_eq!(again.status, 304, "{path}");
        }
        // The holder's offers are theirs: without the token, no answer to keep.
        let anonymous = raw(&app, "/api/v1/holder/offers", None, &[]).await;
        assert_eq!(anonymous.status, 401);
        assert_eq!(anonymous.header("etag"), "");
    }

    async fn the_point_of_sale_answers_are_neither_tagged_nor_compressed(app) {
        let shop = shop_with_offers(&app).await;
        let deal = offer(&app, &shop, ten_percent()).await;
        let token = qr(&app, &shop.holder).await;
        let verified = app
            .send(
                app.client
                    .post(app.url("/api/v1/pos/verify"))
                    .bearer_auth(&shop.terminal)
                    .header("Accept-Encoding", "gzip")
                    .json(&json!({"token": token})),
            )
            .await;
        assert_eq!(verified.status, 200, "{}", verified.body);
        // Long enough to be compressed, were it a read.
        assert!(verified.body.to_string().len() >= yongjun::http::caching::GZIP_FROM, "{}", verified.body);
        assert!(verified.headers.get("content-encoding").is_none());
        assert!(verified.headers.get("etag").is_none());
        assert_eq!(verified.headers["cache-control"], "no-store");
        let receipt = redeem(
            &app,
            &shop.terminal,
            &uuid::Uuid::new_v4().to_string(),
            json!({"token": token, "offer_id": deal["id"], "bill_fen": 10000}),
        )
        .await;
        assert_eq!(receipt.status, 201, "{}", receipt.body);
        assert!(receipt.headers.get("etag").is_none());
        assert_eq!(receipt.headers["cache-control"], "no-store");
        // The holder's redemptions are not among the cached reads.
        let history = raw(&app, "/api/v1/holder/redemptions", Some(&shop.holder), &[]).await;
        assert_eq!(history.status, 200);
        assert_eq!(history.header("etag"), "");
        assert_eq!(history.header("cache-control"), "no-store");
    }
}
