//! The point of sale: terminals and their keys, card QR tokens, verification (the hot
//! path, served from the cache: [`verify`]), idempotent quota-safe redemption and voids
//! ([`redeem`]), and what a terminal needs to keep verifying offline.

pub mod feed;
pub mod group_commit;
pub mod redeem;
pub mod shown;
pub mod verify;
pub mod writes;

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use utoipa::ToSchema;

use crate::app::identity::{Holder, MerchantStaff, Terminal};
use crate::app::invalidate;
use crate::app::merchants::directory::MerchantSnapshot;
use crate::auth::qr::{QrClaims, QrKeys};
use crate::cache::{keys, Cache};
use crate::crypto::DataCipher;
use crate::db::audit::{self, AuditEntry};
use crate::db::terminals::{self, TerminalRow};
use crate::db::{self, Db, MerchantId, TerminalId};
use crate::error::{AppError, AppResult, Code, Kind};

/// How long this process keeps its own copy of a merchant snapshot at most (each use
/// checks its version against the cache's first).
pub const LOCAL_MERCHANT_TTL: Duration = Duration::from_secs(60);
/// How long this process keeps a terminal look-up (dropped at once on any invalidation
/// of its key heard from the cache).
pub const LOCAL_TERMINAL_TTL: Duration = Duration::from_secs(30);

/// This process's own copies of what the till asks for on every scan.
pub struct LocalCaches {
    /// API key hash → terminal.
    pub terminals: moka::sync::Cache<String, Terminal>,
    /// Merchant snapshots for verification (the largest entry the hot path would
    /// otherwise fetch and parse on every scan), each with the version token it was
    /// cached under: used only while the cache still holds that token.
    pub merchants: moka::sync::Cache<MerchantId, MerchantCopy>,
    /// One load of a merchant snapshot from the database at a time: after an
    /// invalidation (every batch of a limited offer makes one) the tills of that
    /// merchant wait for the one load instead of all loading it at once.
    pub merchant_loads: moka::sync::Cache<MerchantId, Arc<tokio::sync::Mutex<()>>>,
}

impl LocalCaches {
    pub fn new() -> LocalCaches {
        LocalCaches {
            terminals: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(LOCAL_TERMINAL_TTL)
                .build(),
            merchants: moka::sync::Cache::builder()
                .max_capacity(50_000)
                .time_to_live(LOCAL_MERCHANT_TTL)
                .build(),
            merchant_loads: moka::sync::Cache::builder()
                .max_capacity(50_000)
                .time_to_idle(LOCAL_MERCHANT_TTL)
                .build(),
        }
    }

    /// Forgets what any process invalidated: a terminal key, or (when invalidations
    /// were missed: `None`, or [`keys::EVERYTHING`] among the keys) everything.
    pub fn forget(&self, invalidated: Option<&[String]>) {
        let keys = match invalidated {
            Some(keys) if !keys.iter().any(|k| k == keys::EVERYTHING) => keys,
            _ => {
                self.terminals.invalidate_all();
                self.merchants.invalidate_all();
                return;
            }
        };
        for key in keys {
            if let Some(hash) = key.strip_prefix("terminal:") {
                self.terminals.invalidate(hash);
            }
        }
    }
}

impl Default for LocalCaches {
    fn default() -> Self {
        LocalCaches::new()
    }
}

/// A process's own copy of a merchant snapshot and the version token it was cached
/// under.
#[derive(Clone)]
pub struct MerchantCopy {
    pub(crate) version: Arc<str>,
    pub(crate) snapshot: Arc<MerchantSnapshot>,
}

/// What the till's use cases need: the pool, the cache, the QR keys, this process's
/// copies and the QR lifetime.
#[derive(Clone, Copy)]
pub struct PointOfSale<'a> {
    pub db: &'a Db,
    pub cache: &'a Cache,
    pub qr: &'a QrKeys,
    pub local: &'a LocalCaches,
    /// Where redemptions wait to be written together.
    pub queue: &'a writes::RedemptionQueue,
    pub qr_ttl_secs: u32,
    /// How old an offline verification may be when its redemption arrives.
    pub offline_max_age_hours: u32,
    /// The largest bill a redemption may carry, in fen.
    pub max_bill_fen: i64,
}

/// Why a scan cannot be honoured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    TokenInvalid,
    TokenExpired,
    TokenUsed,
    CardSuspended,
    CardRevoked,
    CardExpired,
    MerchantInactive,
}

impl Reason {
    pub fn code(self) -> Code {
        match self {
            Reason::TokenInvalid => Code::TokenInvalid,
            Reason::TokenExpired => Code::TokenExpired,
            Reason::TokenUsed => Code::TokenUsed,
            Reason::CardSuspended => Code::CardSuspended,
            Reason::CardRevoked => Code::CardRevoked,
            Reason::CardExpired => Code::CardExpired,
            Reason::MerchantInactive => Code::MerchantInactive,
        }
    }

    /// One line for the cashier.
    pub fn message(self) -> &'static str {
        match self {
            Reason::TokenInvalid => "二维码无效，请持卡人刷新优待卡二维码后重新出示",
            Reason::TokenExpired => "二维码已过期，请持卡人刷新后重新出示",
            Reason::TokenUsed => "该二维码已使用，请持卡人刷新后重新出示",
            Reason::CardSuspended => "该优待卡已暂停使用，请持卡人联系发卡单位",
            Reason::CardRevoked => "该优待卡已注销，不能享受优待",
            Reason::CardExpired => "该优待卡已过期，请持卡人办理续期",
            Reason::MerchantInactive => "本店暂不能提供拥军优待，请联系退役军人事务部门",
        }
    }

    /// The refusal of a redemption for this reason.
    pub fn error(self) -> AppError {
        let kind = match self {
            Reason::TokenInvalid | Reason::TokenExpired => Kind::Unprocessable,
            _ => Kind::Conflict,
        };
        AppError::new(kind, self.code(), self.message())
    }
}

// ---------- terminals ----------

/// The keyed hash a terminal's API key is stored and looked up as.
pub fn terminal_key_hash(cipher: &DataCipher, api_key: &str) -> String {
    cipher.lookup_hash(&format!("terminal:{api_key}"))
}

/// The terminal an API key belongs to: this process's copy, else the database (then
/// kept here). `None` for an unknown or deleted key. The copy is used only while the
/// cache is trusted: otherwise this process may not be hearing invalidations.
pub async fn terminal_by_key(
    db: &Db,
    cipher: &DataCipher,
    cache: &Cache,
    local: &LocalCaches,
    api_key: &str,
) -> AppResult<Option<Terminal>> {
    let hash = terminal_key_hash(cipher, api_key);
    if cache.is_trusted() {
        if let Some(terminal) = local.terminals.get(&hash) {
            return Ok(Some(terminal));
        }
    }
    let mut pooled = db.get().await?;
    let Some(row) = terminals::by_key_hash(&mut pooled.conn(), &hash).await? else {
        return Ok(None);
    };
    let terminal = Terminal {
        id: row.id,
        merchant_id: row.merchant_id,
    };
    local.terminals.insert(hash, terminal.clone());
    Ok(Some(terminal))
}

/// Which till a key belongs to: its merchant, and that merchant's status today (a till
/// that starts offline learns here whose offers it may show).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"terminal_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e70",
    "merchant_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "merchant_name": "罗湖拥军大药房",
    "merchant_status": "active"}))]
pub struct TerminalProfile {
    pub terminal_id: TerminalId,
    pub merchant_id: MerchantId,
    pub merchant_name: String,
    pub merchant_status: String,
}

pub async fn terminal_profile(db: &Db, terminal: &Terminal) -> AppResult<TerminalProfile> {
    let mut pooled = db.get().await?;
    let merchant = db::merchants::find(&mut pooled.conn(), terminal.merchant_id)
        .await?
        .ok_or_else(|| {
            AppError::unauthorized(Code::Unauthenticated, "the terminal's merchant is gone")
        })?;
    let status = merchant.effective_status(crate::domain::china_today())?;
    Ok(TerminalProfile {
        terminal_id: terminal.id,
        merchant_id: merchant.id,
        merchant_name: merchant.name,
        merchant_status: status.as_str().to_owned(),
    })
}

/// Registers a terminal of the caller's merchant: its row and its API key, which is
/// shown only now (stored as a keyed hash).
pub async fn create_terminal(
    db: &Db,
    cipher: &DataCipher,
    staff: &MerchantStaff,
    name: String,
) -> AppResult<(TerminalRow, String)> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let secret: String = (0..32)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect();
    let api_key = format!("yjt_{secret}");
    let row = TerminalRow {
        id: TerminalId::new(),
        merchant_id: staff.merchant_id,
        name,
        api_key_hash: terminal_key_hash(cipher, &api_key),
        created_at: db::now(),
        deleted_at: None,
    };
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let actor = staff.user.actor();
    conn.transaction(async |tx| {
        terminals::insert(tx, &row).await?;
        audit::record(
            tx,
            &actor,
            AuditEntry {
                action: "terminal.create",
                entity_type: "terminal",
                entity_id: row.id.to_string(),
                details: Some(
                    serde_json::json!({"merchant_id": row.merchant_id, "name": row.name}),
                ),
                ..Default::default()
            },
        )
        .await?;
        Ok::<_, AppError>(())
    })
    .await?;
    Ok((row, api_key))
}

/// The caller's merchant's terminals.
pub async fn terminals(db: &Db, staff: &MerchantStaff) -> AppResult<Vec<TerminalRow>> {
    let mut pooled = db.get().await?;
    Ok(terminals::of_merchant(&mut pooled.conn(), staff.merchant_id).await?)
}

/// Deletes a terminal: its key is refused at once, in every process.
pub async fn delete_terminal(
    db: &Db,
    cache: &Cache,
    local: &LocalCaches,
    staff: &MerchantStaff,
    id: TerminalId,
) -> AppResult<()> {
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let actor = staff.user.actor();
    let hash = conn
        .transaction(async |tx| {
            let hash = terminals::delete(tx, staff.merchant_id, id, db::now())
                .await?
                .ok_or_else(|| AppError::not_found(Code::TerminalNotFound, "no such terminal"))?;
            audit::record(
                tx,
                &actor,
                AuditEntry {
                    action: "terminal.delete",
                    entity_type: "terminal",
                    entity_id: id.to_string(),
                    ..Default::default()
                },
            )
            .await?;
            Ok::<_, AppError>(hash)
        })
        .await?;
    local.terminals.invalidate(&hash);
    invalidate(cache, vec![keys::terminal(&hash)]).await;
    Ok(())
}

// ---------- QR tokens ----------

/// A fresh QR token for the holder's card: `(token, claims)`.
pub fn card_qr(qr: &QrKeys, ttl_secs: u32, holder: &Holder) -> AppResult<(String, QrClaims)> {
    let card = &holder.card;
    let expires = card.expires_at.and_utc().timestamp();
    Ok(qr.sign(card.id, card.version, ttl_secs, Some(expires))?)
}
