//! What every handler can reach, grouped: the database, the cache, the keys, the point
//! of sale's own copies, the policy, the metrics. `startup` builds it; handlers hand its
//! parts to the use cases (`app`), which never see it whole.

use crate::app::demo::DemoContext;
use crate::app::pos::writes::RedemptionQueue;
use crate::app::pos::{LocalCaches, PointOfSale};
use crate::app::Policy;
use crate::auth::qr::QrKeys;
use crate::auth::tokens::{HolderTokens, StaffTokens};
use crate::cache::Cache;
use crate::crypto::DataCipher;
use crate::db::Db;
use crate::telemetry::Metrics;

pub struct AppState {
    pub db: Db,
    pub cache: Cache,
    pub keys: Keys,
    /// This process's copies of terminal look-ups and merchant snapshots.
    pub pos: LocalCaches,
    /// Redemptions waiting to be written together (group commit).
    pub redemptions: RedemptionQueue,
    pub policy: Policy,
    pub metrics: Metrics,
    /// The OpenAPI document served at `/openapi.yaml`.
    pub openapi_yaml: String,
}

/// Secrets and what is derived from them.
pub struct Keys {
    pub staff_tokens: StaffTokens,
    pub holder_tokens: HolderTokens,
    /// Signs and verifies card QR tokens.
    pub qr: QrKeys,
    /// Encrypts and hashes personal data (ID numbers, phones), terminal keys and
    /// activation codes.
    pub cipher: DataCipher,
    /// Verified against when a user name is unknown, so sign-in timing does not tell.
    pub dummy_password_hash: String,
}

impl AppState {
    /// What the till's use cases need.
    pub fn point_of_sale(&self) -> PointOfSale<'_> {
        PointOfSale {
            db: &self.db,
            cache: &self.cache,
            qr: &self.keys.qr,
            local: &self.pos,
            queue: &self.redemptions,
            qr_ttl_secs: self.policy.qr_ttl_secs,
            offline_max_age_hours: self.policy.offline_max_age_hours,
            max_bill_fen: self.policy.max_bill_fen,
        }
    }

    /// What `yongjun demo` builds its world with.
    pub fn demo(&self) -> DemoContext<'_> {
        DemoContext {
            db: &self.db,
            cache: &self.cache,
            cipher: &self.keys.cipher,
            qr: &self.keys.qr,
            local: &self.pos,
            queue: &self.redemptions,
            policy: &self.policy,
        }
    }
}
