//! Card QR tokens: compact JWS signed with Ed25519 (EdDSA), claims `sub` (card id),
//! `ver` (card version), `iat`, `exp`, `jti` and `cexp` (the card's own expiry).
//! Terminals verify them, online or offline with the public keys of
//! `/.well-known/jwks.json`. The same keys sign the revocation feed as a detached JWS
//! (RFC 7515 appendix F), so a terminal can trust a feed however it arrived.

use anyhow::Context;
use base64::Engine;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::db::CardId;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A fresh Ed25519 private key as PKCS#8 PEM, for development.
pub fn generate_signing_key_pem() -> String {
    let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    key.to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .map(|pem| pem.to_string())
        .unwrap_or_default()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QrClaims {
    pub sub: CardId,
    pub ver: i32,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    /// The card's expiry (Unix seconds): an offline terminal refuses an expired card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cexp: Option<i64>,
}

/// Seconds of clock difference tolerated between the terminal and the server.
pub const LEEWAY_SECS: i64 = 2;

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrError {
    Expired,
    Invalid,
}

struct VerifyingKey {
    kid: String,
    x: String,
    decoding: DecodingKey,
}

/// The signing key and every key still accepted for verification.
pub struct QrKeys {
    kid: String,
    encoding: EncodingKey,
    verifying: Vec<VerifyingKey>,
    validation: Validation,
    /// Signature and claims only: the lifetime is checked against another time.
    unexpired: Validation,
}

fn public_parts(signing: &SigningKey) -> anyhow::Result<VerifyingKey> {
    let public = signing.verifying_key().to_bytes();
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(public);
    // The key id is derived from the public key, so every process agrees on it.
    let kid = hex::encode(&sha2::Sha256::digest(public)[..8]);
    let decoding = DecodingKey::from_ed_components(&x).context("public key")?;
    Ok(VerifyingKey { kid, x, decoding })
}

impl QrKeys {
    pub fn from_pem(pem: &str) -> anyhow::Result<QrKeys> {
        Self::with_previous(pem, &[])
    }

    /// The current key signs; `previous` keys (during a rotation) still verify.
    pub fn with_previous(pem: &str, previous: &[&str]) -> anyhow::Result<QrKeys> {
        let signing = SigningKey::from_pkcs8_pem(pem.trim()).context("parsing the PEM")?;
        let encoding = EncodingKey::from_ed_pem(pem.trim().as_bytes()).context("signing key")?;
        let current = public_parts(&signing)?;
        let mut verifying = vec![current];
        for old in previous {
            let old = SigningKey::from_pkcs8_pem(old.trim()).context("parsing a previous key")?;
            verifying.push(public_parts(&old)?);
        }
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.leeway = LEEWAY_SECS as u64;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let mut unexpired = validation.clone();
        unexpired.validate_exp = false;
        Ok(QrKeys {
            kid: verifying[0].kid.clone(),
            encoding,
            verifying,
            validation,
            unexpired,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// A token for `card` at `version`, valid `ttl_secs`, carrying the card's expiry
    /// `card_expires` (Unix seconds): `(token, claims)`.
    pub fn sign(
        &self,
        card: CardId,
        version: i32,
        ttl_secs: u32,
        card_expires: Option<i64>,
    ) -> anyhow::Result<(String, QrClaims)> {
        let now = chrono::Utc::now().timestamp();
        let claims = QrClaims {
            sub: card,
            ver: version,
            iat: now,
            exp: now + i64::from(ttl_secs),
            jti: uuid::Uuid::new_v4().simple().to_string(),
            cexp: card_expires,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        Ok((
            jsonwebtoken::encode(&header, &claims, &self.encoding)?,
            claims,
        ))
    }

    fn key_for(&self, kid: Option<&str>) -> Result<&VerifyingKey, QrError> {
        match kid {
            Some(kid) => self
                .verifying
                .iter()
                .find(|k| k.kid == kid)
                .ok_or(QrError::Invalid),
            None => Ok(&self.verifying[0]),
        }
    }

    /// Checks signature and expiry. Costs one Ed25519 verification.
    pub fn verify(&self, token: &str) -> Result<QrClaims, QrError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| QrError::Invalid)?;
        let key = self.key_for(header.kid.as_deref())?;
        match jsonwebtoken::decode::<QrClaims>(token, &key.decoding, &self.validation) {
            Ok(data) => Ok(data.claims),
            Err(e) if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature) => {
                Err(QrError::Expired)
            }
            Err(_) => Err(QrError::Invalid),
        }
    }

    /// Checks the signature, and that the token was live at `at` (Unix seconds, with
    /// the leeway): what a terminal that verified it offline at `at` saw.
    pub fn verify_at(&self, token: &str, at: i64) -> Result<QrClaims, QrError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| QrError::Invalid)?;
        let key = self.key_for(header.kid.as_deref())?;
        let claims = jsonwebtoken::decode::<QrClaims>(token, &key.decoding, &self.unexpired)
            .map_err(|_| QrError::Invalid)?
            .claims;
        if at + LEEWAY_SECS < claims.iat || at - LEEWAY_SECS > claims.exp {
            return Err(QrError::Expired);
        }
        Ok(claims)
    }

    /// A detached JWS (RFC 7515 appendix F) of `payload` under the signing key:
    /// `header..signature`, the payload left out; a verifier puts it back.
    pub fn sign_detached(&self, payload: &[u8]) -> anyhow::Result<String> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        let header = b64(&serde_json::to_vec(&header)?);
        let input = format!("{header}.{}", b64(payload));
        let signature =
            jsonwebtoken::crypto::sign(input.as_bytes(), &self.encoding, Algorithm::EdDSA)?;
        Ok(format!("{header}..{signature}"))
    }

    /// Whether `jws` (detached) signs `payload` with one of the verifying keys.
    pub fn verify_detached(&self, jws: &str, payload: &[u8]) -> bool {
        let Some((header, signature)) = jws.split_once("..") else {
            return false;
        };
        let kid = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .ok()
            .and_then(|json| serde_json::from_slice::<Header>(&json).ok())
            .map(|h| h.kid);
        let Some(kid) = kid else {
            return false;
        };
        let Ok(key) = self.key_for(kid.as_deref()) else {
            return false;
        };
        let input = format!("{header}.{}", b64(payload));
        jsonwebtoken::crypto::verify(signature, input.as_bytes(), &key.decoding, Algorithm::EdDSA)
            .unwrap_or(false)
    }

    /// The JWK Set of every verifying key (RFC 8037 OKP keys).
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<serde_json::Value> = self
            .verifying
            .iter()
            .map(|k| serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": k.x, "kid": k.kid, "alg": "EdDSA", "use": "sig"}))
            .collect();
        serde_json::json!({ "keys": keys })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_back() {
        let pem = generate_signing_key_pem();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        QrKeys::from_pem(&pem).unwrap();
        assert!(QrKeys::from_pem("not a key").is_err());
    }

    #[test]
    fn sign_verify_expire_and_rotate() {
        let old_pem = generate_signing_key_pem();
        let old = QrKeys::from_pem(&old_pem).unwrap();
        let new_pem = generate_signing_key_pem();
        let rotated = QrKeys::with_previous(&new_pem, &[&old_pem]).unwrap();
        let card = CardId::new();

        let (token, claims) = rotated.sign(card, 3, 60, Some(2_000_000_000)).unwrap();
        let checked = rotated.verify(&token).unwrap();
        assert_eq!(
            (checked.sub, checked.ver, checked.jti),
            (card, 3, claims.jti)
        );
        // Tokens of the previous key still verify during the rotation.
        let (old_token, _) = old.sign(card, 3, 60, None).unwrap();
        assert!(rotated.verify(&old_token).is_ok());
        assert_eq!(rotated.jwks()["keys"].as_array().unwrap().len(), 2);
        // The old key alone does not know the new one.
        assert_eq!(old.verify(&token).unwrap_err(), QrError::Invalid);

        let (expired, _) = {
            let mut header = Header::new(Algorithm::EdDSA);
            header.kid = Some(rotated.kid().to_owned());
            let now = chrono::Utc::now().timestamp();
            let claims = QrClaims {
                sub: card,
                ver: 3,
                iat: now - 120,
                exp: now - 60,
                jti: "x".into(),
                cexp: None,
            };
            (
                jsonwebtoken::encode(&header, &claims, &rotated.encoding).unwrap(),
                (),
            )
        };
        assert_eq!(rotated.verify(&expired).unwrap_err(), QrError::Expired);
        // Verified offline while it was live: accepted; after its life: not.
        let now = chrono::Utc::now().timestamp();
        assert!(rotated.verify_at(&expired, now - 90).is_ok());
        assert_eq!(
            rotated.verify_at(&expired, now).unwrap_err(),
            QrError::Expired
        );
        assert_eq!(
            rotated.verify_at(&expired, now - 200).unwrap_err(),
            QrError::Expired
        );
        assert_eq!(checked.cexp, Some(2_000_000_000));
        let mut tampered = token.clone();
        tampered.replace_range(tampered.len() - 4.., "AAAA");
        assert_eq!(rotated.verify(&tampered).unwrap_err(), QrError::Invalid);
        assert_eq!(rotated.verify("garbage").unwrap_err(), QrError::Invalid);
        assert_eq!(
            rotated.verify_at(&tampered, now).unwrap_err(),
            QrError::Invalid
        );
    }

    #[test]
    fn a_detached_signature_signs_exactly_its_payload() {
        let keys = QrKeys::from_pem(&generate_signing_key_pem()).unwrap();
        let body = br#"{"cards":[],"next_cursor":null}"#;
        let jws = keys.sign_detached(body).unwrap();
        assert_eq!(jws.split('.').count(), 3);
        assert_eq!(jws.split('.').nth(1), Some(""), "the payload is detached");
        assert!(keys.verify_detached(&jws, body));
        assert!(!keys.verify_detached(&jws, br#"{"cards":[1],"next_cursor":null}"#));
        let other = QrKeys::from_pem(&generate_signing_key_pem()).unwrap();
        assert!(!other.verify_detached(&jws, body));
        assert!(!keys.verify_detached("garbage", body));
    }
}
