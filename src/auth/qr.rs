//! The Ed25519 key that signs card QR tokens (used by the point-of-sale issue).

use anyhow::Context;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::SigningKey;

/// A fresh Ed25519 private key as PKCS#8 PEM, for development.
pub fn generate_signing_key_pem() -> String {
    let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    key.to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .map(|pem| pem.to_string())
        .unwrap_or_default()
}

/// The signing key and what is derived from it.
pub struct QrKeys {
    pub signing: SigningKey,
}

impl QrKeys {
    pub fn from_pem(pem: &str) -> anyhow::Result<QrKeys> {
        let signing = SigningKey::from_pkcs8_pem(pem.trim()).context("parsing the PEM")?;
        Ok(QrKeys { signing })
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
}
