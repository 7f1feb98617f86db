//! Holders (持卡人): tokens bound to one card and its version, and the extractor that
//! proves a request comes from the holder of an active card.

use actix_web::{web, FromRequest, HttpRequest};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::db::cards::CardRow;
use crate::db::{self, CardId};
use crate::error::ApiError;
use crate::startup::AppState;

const ACCESS: &str = "holder";
const REFRESH: &str = "holder_refresh";
pub const ACCESS_TTL_SECS: i64 = 3600;
pub const REFRESH_TTL_SECS: i64 = 30 * 24 * 3600;

#[derive(Debug, Serialize, Deserialize)]
struct HolderClaims {
    sub: CardId,
    ver: i32,
    typ: String,
    iat: i64,
    exp: i64,
}

/// Signs and checks holder tokens (HS256 under `YONGJUN_JWT_SECRET`; the `typ` claim
/// keeps them apart from staff tokens).
pub struct HolderTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

impl HolderTokens {
    pub fn new(secret: &[u8]) -> HolderTokens {
        HolderTokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    fn sign(&self, card: CardId, version: i32, typ: &str, ttl: i64) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = HolderClaims {
            sub: card,
            ver: version,
            typ: typ.into(),
            iat: now,
            exp: now + ttl,
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    pub fn issue(&self, card: CardId, version: i32) -> anyhow::Result<TokenPair> {
        Ok(TokenPair {
            access_token: self.sign(card, version, ACCESS, ACCESS_TTL_SECS)?,
            refresh_token: self.sign(card, version, REFRESH, REFRESH_TTL_SECS)?,
            expires_in: ACCESS_TTL_SECS,
        })
    }

    fn check(&self, token: &str, typ: &str) -> Option<(CardId, i32)> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        let data = jsonwebtoken::decode::<HolderClaims>(token, &self.decoding, &validation).ok()?;
        (data.claims.typ == typ).then_some((data.claims.sub, data.claims.ver))
    }

    /// The card a refresh token names; the caller checks the card is still active.
    pub fn check_refresh(&self, token: &str) -> Option<CardId> {
        self.check(token, REFRESH).map(|(card, _)| card)
    }
}

/// The holder of an active card, at the card's current version: any change to the card
/// (suspension, revocation, reissue) makes earlier access tokens useless at once.
#[derive(Debug, Clone)]
pub struct Holder {
    pub card: CardRow,
}

impl FromRequest for Holder {
    type Error = ApiError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Holder, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = super::bearer_token(req).map(str::to_owned);
        // Spawned so the database call is never dropped half-way (see telemetry::observe).
        let lookup = actix_web::rt::spawn(async move {
            let state = state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no app state")))?;
            let (card_id, version) = token
                .as_deref()
                .and_then(|t| state.holder_tokens.check(t, ACCESS))
                .ok_or_else(|| {
                    ApiError::unauthorized(
                        "unauthenticated",
                        "a valid holder access token is required",
                    )
                })?;
            let mut pooled = state.db.get().await?;
            let card = db::cards::find(&mut pooled.conn(), card_id)
                .await?
                .ok_or_else(|| {
                    ApiError::unauthorized(
                        "unauthenticated",
                        "a valid holder access token is required",
                    )
                })?;
            let status = card.effective_status(db::now()).to_owned();
            if card.version != version || status != "active" {
                return Err(ApiError::unauthorized(
                    "token_revoked",
                    "the card has changed since this token was issued; refresh it or activate the card again",
                )
                .with("card_status", status));
            }
            Ok(Holder { card })
        });
        Box::pin(async move { lookup.await.map_err(ApiError::internal)? })
    }
}
