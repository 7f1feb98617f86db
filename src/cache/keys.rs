//! Keys of every cached thing, all relative to the configured prefix.

pub fn region(code: &str) -> String {
    format!("region:{code}")
}

/// Snapshot of a card: status, version, holder category and honours, masked name.
pub fn card(id: &crate::db::CardId) -> String {
    format!("card:{id}")
}

/// A spent QR token id: refused at once, before the database is asked.
pub fn jti(jti: &str) -> String {
    format!("jti:{jti}")
}

/// A terminal look-up by the keyed hash of its API key.
pub fn terminal(key_hash: &str) -> String {
    format!("terminal:{key_hash}")
}

/// Snapshot of a merchant: status, agreement end and its public face.
pub fn merchant(id: &crate::db::MerchantId) -> String {
    format!("merchant:{id}")
}

/// The point of sale's merchant snapshot (with the active offers; the directory's
/// `merchant:` entry has none). Invalidated with `merchant:` (see
/// [`super::Cache::invalidate`]).
pub fn pos_merchant(id: &crate::db::MerchantId) -> String {
    format!("pos_merchant:{id}")
}

/// The version token of the point of sale's merchant snapshot: a few bytes that tell
/// a process whether its own copy is still the one cached. Invalidated with
/// `merchant:`.
pub fn pos_merchant_version(id: &crate::db::MerchantId) -> String {
    format!("pos_merchant_ver:{id}")
}

/// Not a key: an invalidation naming it tells this process's in-memory layers to drop
/// every copy they hold. The cache sends it (in this process only) when invalidations
/// may have been missed: its listener lost or regained its subscription.
pub const EVERYTHING: &str = "*";

/// The channel (under the prefix) on which invalidations are published.
pub(super) const INVALIDATION_CHANNEL: &str = "invalidate";

/// `keys` and every key that goes stale with one of them.
pub(super) fn with_companions(keys: Vec<String>) -> Vec<String> {
    let mut all = Vec::with_capacity(keys.len() * 3);
    for key in keys {
        if let Some(id) = key.strip_prefix("merchant:") {
            all.push(format!("pos_merchant:{id}"));
            all.push(format!("pos_merchant_ver:{id}"));
        }
        all.push(key);
    }
    all
}
