//! The offers a phone lists: active offers of active merchants that can be used now, for
//! anyone, or those a holder may use with the uses left for them. One query over every
//! matching merchant ([`crate::db::offer_search`]), newest offer first, or nearest
//! merchant first with `near`.
//!
//! Two ways to page: `page`/`per_page`, counted (`total`), which costs the whole match
//! set; or a `cursor` (empty for the first page, then the answer's `next_cursor`), not
//! counted, which reads little more than the page itself. Both answer `has_more` and
//! `next_cursor`, so a client can start counted and continue by cursor.

use base64::Engine;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{remaining_for_holder, OfferRules};
use crate::app::identity::Holder;
use crate::app::merchants::directory::{distance_km, parse_near};
use crate::db::merchants::MerchantRow;
use crate::db::offer_search::{self, Cursor, HolderView, Near, OfferSearch, Window};
use crate::db::offers::OfferRow;
use crate::db::{self, Db, MerchantId, OfferId};
use crate::domain::beneficiary::Category;
use crate::domain::china_today;
use crate::domain::merchant::MerchantCategory;
use crate::domain::offer::{period_key, Channel, OfferKind};
use crate::error::{AppError, AppResult};
use crate::validate::Fields;

/// A listing query, as asked for.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
pub struct OfferQuery {
    /// Merchant category.
    pub category: Option<String>,
    /// A region code: the merchant's region lies in its subtree (440300 finds 440303).
    pub region: Option<String>,
    /// `lat,lng`: merchants within `radius_km`, nearest first (offers of one merchant
    /// oldest first). Without it, newest offer first.
    pub near: Option<String>,
    /// Radius around `near`, 0.1 to 200 km. Default 10.
    pub radius_km: Option<f64>,
    /// Only offers this beneficiary category may use (code or Chinese name).
    pub eligible_for: Option<String>,
    pub merchant_id: Option<MerchantId>,
    /// An offer kind: percent_off, amount_off, fixed_price, free, priority_service, gift.
    pub kind: Option<String>,
    /// in_store or online.
    pub channel: Option<String>,
    /// Text in the offer's title or description or in the merchant's name (at most 100
    /// characters).
    pub q: Option<String>,
    /// Keyset paging: empty for the first page, then the `next_cursor` of the page
    /// before. Such pages are not counted (`total` and `page` are null); not with `page`.
    pub cursor: Option<String>,
    /// 1-based page number, counted (`total`). Default 1.
    pub page: Option<u32>,
    /// Items per page, 1 to 100. Default 20.
    pub per_page: Option<u32>,
}

/// One listed offer with its merchant.
#[derive(Debug)]
pub struct Listing {
    pub offer: OfferRow,
    pub merchant: MerchantRow,
    pub distance_km: Option<f64>,
    /// For a holder: uses left in the current period (`Some(None)`: no per-holder limit).
    pub remaining_for_holder: Option<Option<i64>>,
}

/// One page of a listing.
#[derive(Debug)]
pub struct OfferPage {
    pub items: Vec<Listing>,
    /// Offers matching in all; `None` for a cursor's page.
    pub total: Option<i64>,
    /// The page number; `None` for a cursor's page.
    pub page: Option<u32>,
    pub per_page: u32,
    pub has_more: bool,
    /// Where the next page starts, when there is one.
    pub next_cursor: Option<String>,
}

const CURSOR_MESSAGE: &str = "is not a cursor of this listing: pass the next_cursor of the \
     page before, or an empty cursor for the first page";

/// A cursor as the client holds it: opaque, URL-safe.
fn encode_cursor(cursor: Cursor) -> String {
    let raw = match cursor {
        Cursor::Newest { id } => format!("i:{id}"),
        Cursor::Nearest { key, id } => format!("n:{key}:{id}"),
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_cursor(text: &str) -> Option<Cursor> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()?;
    let raw = String::from_utf8(raw).ok()?;
    match raw.split(':').collect::<Vec<_>>()[..] {
        ["i", id] => Some(Cursor::Newest {
            id: id.parse::<OfferId>().ok()?,
        }),
        ["n", key, id] => {
            let key: f64 = key.parse().ok()?;
            (key.is_finite() && key >= 0.0).then_some(())?;
            Some(Cursor::Nearest {
                key,
                id: id.parse::<OfferId>().ok()?,
            })
        }
        _ => None,
    }
}

/// A checked query: the search, the window and the page size.
struct Checked {
    search: OfferSearch,
    window: Window,
    page: Option<u32>,
    per_page: u32,
}

/// Checks every parameter, every bad one reported at once.
fn check(params: &OfferQuery) -> AppResult<Checked> {
    let mut f = Fields::new();
    let page = f.page(params.page, params.per_page);
    let category = f.optional_vocab::<MerchantCategory>("category", params.category.as_deref());
    let region = f.region("region", params.region.as_deref());
    let radius = params.radius_km.unwrap_or(10.0);
    if !(0.1..=200.0).contains(&radius) {
        f.error("radius_km", "must be between 0.1 and 200");
    }
    let near = f.optional_str("near", params.near.as_deref(), parse_near);
    let eligible_for = f.optional_str("eligible_for", params.eligible_for.as_deref(), |raw| {
        Category::parse_any(raw).ok_or("is not a beneficiary category")
    });
    let kind = f.optional_vocab::<OfferKind>("kind", params.kind.as_deref());
    let channel = f.optional_vocab::<Channel>("channel", params.channel.as_deref());
    let q = f.optional_text("q", params.q.as_deref(), 100);
    let cursor = match params.cursor.as_deref().map(str::trim) {
        None => Some(None),
        Some(_) if params.page.is_some() => {
            f.error("page", "cannot be combined with cursor");
            None
        }
        Some("") => Some(Some(None)),
        Some(raw) => f
            .check("cursor", decode_cursor(raw).map(Some).ok_or(CURSOR_MESSAGE))
            .map(Some),
    };
    let (page, category, region, near, eligible_for, kind, channel, q, cursor) = f.finish((
        page,
        category,
        region,
        near,
        eligible_for,
        kind,
        channel,
        q,
        cursor,
    ))?;
    let near = near.map(|center| Near {
        center,
        radius_km: radius,
    });
    let window = match cursor {
        None => Window::Counted {
            offset: page.offset(),
            limit: page.limit(),
        },
        Some(cursor) => {
            let fits = match cursor {
                None => true,
                Some(Cursor::Newest { .. }) => near.is_none(),
                Some(Cursor::Nearest { .. }) => near.is_some(),
            };
            if !fits {
                return Err(AppError::invalid_field(
                    "cursor",
                    "belongs to a listing in another order (with or without near)",
                ));
            }
            Window::After {
                cursor,
                limit: page.limit(),
            }
        }
    };
    Ok(Checked {
        search: OfferSearch {
            merchant: params.merchant_id,
            merchant_category: category.map(|c| c.as_str().to_owned()),
            region_like: region.map(|r| r.like_pattern()),
            near,
            eligible_for,
            holder: None,
            kind: kind.map(|k| k.as_str().to_owned()),
            channel: channel.map(|c| c.as_str().to_owned()),
            q,
        },
        page: matches!(window, Window::Counted { .. }).then_some(page.page),
        per_page: page.per_page,
        window,
    })
}

/// Runs a checked query and shapes its page; `holder` adds the uses left.
async fn list(db: &Db, checked: Checked) -> AppResult<OfferPage> {
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let (now, today) = (db::now(), china_today());
    let search = &checked.search;
    let hits = offer_search::search(&mut conn, search, checked.window, now, today).await?;
    let total = match checked.window {
        Window::Counted { offset, .. } => Some(match hits.first() {
            Some(hit) => hit.total.unwrap_or(0),
            None if offset == 0 => 0,
            None => {
                // A page past the end has no row to carry the count: count alone.
                let first = Window::Counted {
                    offset: 0,
                    limit: 0,
                };
                let hits = offer_search::search(&mut conn, search, first, now, today).await?;
                hits.first().and_then(|h| h.total).unwrap_or(0)
            }
        }),
        Window::After { .. } => None,
    };
    let per_page = checked.per_page as usize;
    let has_more = hits.len() > per_page;
    let near = checked.search.near;
    let mut items = Vec::with_capacity(per_page);
    let mut next_cursor = None;
    for hit in hits.into_iter().take(per_page) {
        let rules = OfferRules::of(&hit.offer)?;
        next_cursor = Some(match near {
            Some(_) => Cursor::Nearest {
                key: hit.order_key,
                id: hit.offer.id,
            },
            None => Cursor::Newest { id: hit.offer.id },
        });
        let remaining = checked.search.holder.as_ref().map(|_| {
            let uses: Vec<(OfferId, String, i32)> = match (hit.used, rules.period) {
                (Some(used), Some(period)) => vec![(hit.offer.id, period_key(period, now), used)],
                _ => Vec::new(),
            };
            remaining_for_holder(&hit.offer, &rules, &uses, now)
        });
        let distance = near.map(|n| {
            let d = distance_km(n.center, (hit.merchant.latitude, hit.merchant.longitude));
            (d * 1000.0).round() / 1000.0
        });
        items.push(Listing {
            offer: hit.offer,
            merchant: hit.merchant,
            distance_km: distance,
            remaining_for_holder: remaining,
        });
    }
    Ok(OfferPage {
        items,
        total,
        page: checked.page,
        per_page: checked.per_page,
        has_more,
        next_cursor: next_cursor.filter(|_| has_more).map(encode_cursor),
    })
}

/// Active offers of active merchants, usable now, for anyone.
pub async fn public_offers(db: &Db, params: &OfferQuery) -> AppResult<OfferPage> {
    list(db, check(params)?).await
}

/// The offers this holder may use now, with the uses left for them.
pub async fn holder_offers(db: &Db, holder: &Holder, params: &OfferQuery) -> AppResult<OfferPage> {
    let mut checked = check(params)?;
    let beneficiary = {
        let mut pooled = db.get().await?;
        db::beneficiaries::find(&mut pooled.conn(), holder.card.beneficiary_id)
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("card without beneficiary")))?
    };
    checked.search.holder = Some(HolderView {
        beneficiary: beneficiary.id,
        category: beneficiary.category()?,
        honors: beneficiary.honor_list()?,
        product: holder.card.product.clone(),
    });
    list(db, checked).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_anything_else_is_refused() {
        let id = OfferId::new();
        for cursor in [
            Cursor::Newest { id },
            Cursor::Nearest {
                key: 0.001_234_567_890_123_4,
                id,
            },
            Cursor::Nearest { key: 0.0, id },
        ] {
            let text = encode_cursor(cursor);
            assert!(text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            assert_eq!(decode_cursor(&text), Some(cursor));
        }
        let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        for bad in [
            "x".to_owned(),
            "%%".to_owned(),
            forged.encode("i:not-a-uuid"),
            forged.encode(format!("n:-1:{id}")),
            forged.encode(format!("n:NaN:{id}")),
            forged.encode(format!("q:{id}")),
        ] {
            assert_eq!(decode_cursor(&bad), None, "{bad}");
        }
    }
}
