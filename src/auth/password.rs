//! Argon2id password hashing, run off the async runtime.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// Hashes `password` with Argon2id (default parameters: 19 MiB, 2 passes).
pub fn hash(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| anyhow::anyhow!("making a salt: {e}"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
}

/// Whether `password` matches `phc_hash`; a malformed hash matches nothing.
pub fn verify(password: &str, phc_hash: &str) -> bool {
    match PasswordHash::new(phc_hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Hashes on the blocking pool; Argon2 takes tens of milliseconds of CPU.
pub async fn hash_blocking(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash(&password)).await?
}

pub async fn verify_blocking(password: String, phc_hash: String) -> anyhow::Result<bool> {
    Ok(tokio::task::spawn_blocking(move || verify(&password, &phc_hash)).await?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn hash_then_verify() {
        let hashed = super::hash("correct horse battery").unwrap();
        assert!(hashed.starts_with("$argon2id$"));
        assert!(super::verify("correct horse battery", &hashed));
        assert!(!super::verify("correct horse battery!", &hashed));
        assert!(!super::verify("anything", "not a hash"));
    }
}
