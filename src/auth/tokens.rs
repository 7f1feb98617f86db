//! Staff and holder tokens: HS256 JWTs under `YONGJUN_JWT_SECRET`, told apart by their
//! `typ` claim.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::db::{CardId, StaffUserId};
use crate::domain::Role;

/// Signs and checks staff access tokens.
pub struct StaffTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub ttl_secs: u32,
}

#[derive(Debug, Serialize, Deserialize)]
struct StaffClaims {
    sub: StaffUserId,
    role: Role,
    typ: String,
    iat: i64,
    exp: i64,
}

const STAFF_TOKEN_TYPE: &str = "staff";

impl StaffTokens {
    pub fn new(secret: &[u8], ttl_secs: u32) -> StaffTokens {
        StaffTokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            ttl_secs,
        }
    }

    pub fn issue(&self, id: StaffUserId, role: Role) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = StaffClaims {
            sub: id,
            role,
            typ: STAFF_TOKEN_TYPE.into(),
            iat: now,
            exp: now + i64::from(self.ttl_secs),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// The account a valid, unexpired staff token names.
    pub fn check(&self, token: &str) -> Option<StaffUserId> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        let data = jsonwebtoken::decode::<StaffClaims>(token, &self.decoding, &validation).ok()?;
        (data.claims.typ == STAFF_TOKEN_TYPE).then_some(data.claims.sub)
    }
}

const HOLDER_ACCESS: &str = "holder";
const HOLDER_REFRESH: &str = "holder_refresh";
pub const HOLDER_ACCESS_TTL_SECS: i64 = 3600;
pub const HOLDER_REFRESH_TTL_SECS: i64 = 30 * 24 * 3600;

#[derive(Debug, Serialize, Deserialize)]
struct HolderClaims {
    sub: CardId,
    ver: i32,
    typ: String,
    iat: i64,
    exp: i64,
}

/// Signs and checks holder tokens, bound to one card and its version.
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
            access_token: self.sign(card, version, HOLDER_ACCESS, HOLDER_ACCESS_TTL_SECS)?,
            refresh_token: self.sign(card, version, HOLDER_REFRESH, HOLDER_REFRESH_TTL_SECS)?,
            expires_in: HOLDER_ACCESS_TTL_SECS,
        })
    }

    fn check(&self, token: &str, typ: &str) -> Option<(CardId, i32)> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        let data = jsonwebtoken::decode::<HolderClaims>(token, &self.decoding, &validation).ok()?;
        (data.claims.typ == typ).then_some((data.claims.sub, data.claims.ver))
    }

    /// The card and version a valid access token names.
    pub fn check_access(&self, token: &str) -> Option<(CardId, i32)> {
        self.check(token, HOLDER_ACCESS)
    }

    /// The card a refresh token names; the caller checks the card is still active.
    pub fn check_refresh(&self, token: &str) -> Option<CardId> {
        self.check(token, HOLDER_REFRESH).map(|(card, _)| card)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_of_one_kind_are_not_accepted_as_another() {
        let staff = StaffTokens::new(b"a secret that is long enough to sign with", 60);
        let holders = HolderTokens::new(b"a secret that is long enough to sign with");
        let id = StaffUserId::new();
        let staff_token = staff.issue(id, Role::Auditor).unwrap();
        assert_eq!(staff.check(&staff_token), Some(id));
        assert_eq!(holders.check_access(&staff_token), None);

        let card = CardId::new();
        let pair = holders.issue(card, 3).unwrap();
        assert_eq!(holders.check_access(&pair.access_token), Some((card, 3)));
        assert_eq!(holders.check_refresh(&pair.refresh_token), Some(card));
        assert_eq!(holders.check_access(&pair.refresh_token), None);
        assert_eq!(holders.check_refresh(&pair.access_token), None);
        assert_eq!(staff.check(&pair.access_token), None);
    }
}
