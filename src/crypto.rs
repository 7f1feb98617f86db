//! Protection of personal data at rest: values such as national ID numbers are
//! stored encrypted, next to a keyed hash that allows exact look-up and
//! de-duplication without decrypting every row.

use std::fmt;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::{anyhow, bail};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Labels for deriving the subkeys. Changing one makes every stored value
/// undecryptable or unfindable, so a new scheme needs a new version, not an edit.
const ENCRYPTION_LABEL: &[u8] = b"yongjun/aes-256-gcm/v1";
const LOOKUP_LABEL: &[u8] = b"yongjun/lookup-hmac/v1";

/// Marks the format of stored ciphertexts, leaving room for key rotation or a new
/// algorithm without guessing what an old row holds.
const VERSION_PREFIX: &str = "v1:";

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Encrypts personal data and computes its look-up hashes from the one configured
/// data key. The two uses get separate derived keys, so a leak of look-up hashes
/// (e.g. via an index or a log) says nothing about the encryption key.
pub struct DataCipher {
    aead: Aes256Gcm,
    lookup: Hmac<Sha256>,
}

impl DataCipher {
    pub fn new(key: &[u8; 32]) -> DataCipher {
        let encryption_key = derive(key, ENCRYPTION_LABEL);
        let lookup_key = derive(key, LOOKUP_LABEL);
        DataCipher {
            aead: Aes256Gcm::new(&encryption_key.into()),
            lookup: hmac_sha256(&lookup_key),
        }
    }

    /// `v1:` + base64(nonce ‖ ciphertext ‖ tag). Each call draws a fresh nonce, so
    /// equal values give unequal ciphertexts and rows cannot be matched by content.
    pub fn encrypt(&self, plaintext: &str) -> anyhow::Result<String> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self
            .aead
            .encrypt(&nonce, plaintext.as_bytes())
            .map_err(|_| anyhow!("encryption failed"))?;
        let mut blob = Vec::with_capacity(NONCE_LEN + sealed.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&sealed);
        Ok(format!("{VERSION_PREFIX}{}", STANDARD.encode(blob)))
    }

    /// Errors say what went wrong in general terms only: they may be logged, and must
    /// carry neither the plaintext nor the stored value.
    pub fn decrypt(&self, stored: &str) -> anyhow::Result<String> {
        let Some(encoded) = stored.strip_prefix(VERSION_PREFIX) else {
            bail!("encrypted value has an unknown format");
        };
        let blob = STANDARD
            .decode(encoded)
            .map_err(|_| anyhow!("encrypted value is not valid base64"))?;
        if blob.len() < NONCE_LEN + TAG_LEN {
            bail!("encrypted value is too short");
        }
        let (nonce, sealed) = blob.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce
            .try_into()
            .map_err(|_| anyhow!("encrypted value is too short"))?;
        let opened = self
            .aead
            .decrypt(&Nonce::from(nonce), sealed)
            .map_err(|_| {
                anyhow!("encrypted value does not authenticate (wrong key or altered data)")
            })?;
        // Dropping the source error on purpose: `FromUtf8Error` holds the bytes.
        String::from_utf8(opened).map_err(|_| anyhow!("decrypted value is not UTF-8"))
    }

    /// Lower-case hex HMAC-SHA256 of `value` under the look-up key: the same value
    /// always gives the same hash, so it can back a unique index, yet without the key
    /// the small space of ID numbers cannot be enumerated against it as a plain hash
    /// could. Callers hash the normalized form (e.g. `IdNumber::expose`).
    pub fn lookup_hash(&self, value: &str) -> String {
        let mut mac = self.lookup.clone();
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

impl fmt::Debug for DataCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataCipher([redacted])")
    }
}

fn derive(key: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let mut mac = hmac_sha256(key);
    mac.update(label);
    mac.finalize().into_bytes().into()
}

/// HMAC zero-pads a key shorter than the hash's 64-byte block (RFC 2104), so padding
/// it here gives the same MAC while using the constructor that cannot fail.
fn hmac_sha256(key: &[u8; 32]) -> Hmac<Sha256> {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(key);
    <Hmac<Sha256> as KeyInit>::new(&block.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;

    const KEY: [u8; 32] = [7; 32];
    const OTHER_KEY: [u8; 32] = [8; 32];

    fn cipher() -> DataCipher {
        DataCipher::new(&KEY)
    }

    fn blob_of(stored: &str) -> Vec<u8> {
        STANDARD
            .decode(stored.strip_prefix("v1:").unwrap())
            .unwrap()
    }

    #[test]
    fn round_trip() {
        let c = cipher();
        for plaintext in ["11010519491231002X", "张三 住北京市海淀区", "", "a"] {
            let stored = c.encrypt(plaintext).unwrap();
            assert!(stored.starts_with("v1:"), "{stored}");
            assert_eq!(c.decrypt(&stored).unwrap(), plaintext);
            // A cipher built again from the same key reads it too.
            assert_eq!(DataCipher::new(&KEY).decrypt(&stored).unwrap(), plaintext);
        }
    }

    #[test]
    fn stored_form_is_nonce_ciphertext_and_tag() {
        let plaintext = "11010519491231002X";
        let stored = cipher().encrypt(plaintext).unwrap();
        assert_eq!(blob_of(&stored).len(), 12 + plaintext.len() + 16);
        assert!(!stored.contains(plaintext));
    }

    #[test]
    fn equal_values_encrypt_differently() {
        let c = cipher();
        let a = c.encrypt("11010519491231002X").unwrap();
        let b = c.encrypt("11010519491231002X").unwrap();
        assert_ne!(a, b);
        assert_ne!(blob_of(&a)[..12], blob_of(&b)[..12]);
    }

    #[test]
    fn another_key_cannot_decrypt() {
        let stored = cipher().encrypt("11010519491231002X").unwrap();
        let err = DataCipher::new(&OTHER_KEY).decrypt(&stored).unwrap_err();
        assert!(!format!("{err:#}").contains("11010519491231002X"));
        assert!(!format!("{err:?}").contains("11010519491231002X"));
    }

    #[test]
    fn any_flipped_byte_fails() {
        let c = cipher();
        let stored = c.encrypt("11010519491231002X").unwrap();
        let blob = blob_of(&stored);
        for i in 0..blob.len() {
            let mut tampered = blob.clone();
            tampered[i] ^= 0x01;
            let tampered = format!("v1:{}", STANDARD.encode(&tampered));
            assert!(c.decrypt(&tampered).is_err(), "byte {i}");
        }
    }

    #[test]
    fn malformed_values_are_errors() {
        let c = cipher();
        let stored = c.encrypt("x").unwrap();
        let short = format!("v1:{}", STANDARD.encode([0u8; 27]));
        for bad in [
            "",
            "11010519491231002X",
            &stored[3..],
            &format!("v2:{}", &stored[3..]),
            "v1:not base64!",
            "v1:",
            &short,
            &stored[..stored.len() - 4],
        ] {
            assert!(c.decrypt(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lookup_hash_is_deterministic_hex() {
        let c = cipher();
        let h = c.lookup_hash("11010519491231002X");
        assert_eq!(h, c.lookup_hash("11010519491231002X"));
        assert_eq!(h, DataCipher::new(&KEY).lookup_hash("11010519491231002X"));
        assert_eq!(h.len(), 64);
        assert!(
            h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            "{h}"
        );
        assert_ne!(h, c.lookup_hash("110105194912310021"));
    }

    #[test]
    fn lookup_hash_depends_on_the_key() {
        let value = "11010519491231002X";
        let h = cipher().lookup_hash(value);
        assert_ne!(h, DataCipher::new(&OTHER_KEY).lookup_hash(value));
        assert_ne!(h, hex::encode(Sha256::digest(value.as_bytes())));
        // Nor is it keyed with the configured key directly: that one only derives.
        let mut direct = <Hmac<Sha256> as Mac>::new_from_slice(&KEY).unwrap();
        direct.update(value.as_bytes());
        assert_ne!(h, hex::encode(direct.finalize().into_bytes()));
    }

    #[test]
    fn subkeys_are_independent() {
        let enc = derive(&KEY, ENCRYPTION_LABEL);
        let lookup = derive(&KEY, LOOKUP_LABEL);
        assert_ne!(enc, lookup);
        assert_ne!(enc, KEY);
        assert_ne!(lookup, KEY);
    }

    #[test]
    fn padded_key_matches_the_standard_hmac() {
        let mut ours = hmac_sha256(&KEY);
        let mut standard = <Hmac<Sha256> as Mac>::new_from_slice(&KEY).unwrap();
        ours.update(b"yongjun");
        standard.update(b"yongjun");
        assert_eq!(
            ours.finalize().into_bytes(),
            standard.finalize().into_bytes()
        );
    }

    #[test]
    fn hmac_matches_a_published_vector() {
        // RFC 4231 test case 2 needs a 4-byte key, so it checks the padding trick
        // through the general constructor against the published output.
        let mut block = [0u8; 32];
        block[..4].copy_from_slice(b"Jefe");
        let mut mac = hmac_sha256(&block);
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(format!("{:?}", cipher()), "DataCipher([redacted])");
    }
}
