//! The periodic sweep: agreements whose end date has passed make their merchant
//! `expired` (`merchant.expire`), and cards that reach `expires_at` become `expired`
//! (`card.expire`, and so a place in the revocation feed), each audited under the actor
//! `system` in the transaction of its change, the cached snapshots dropped after.
//!
//! Safe with several processes: on PostgreSQL one takes a transaction-scoped advisory
//! lock and the others skip the round; on either backend every change is conditional
//! (on the status or version read), so a row is never expired twice.

use crate::app::invalidate;
use crate::cache::{keys, Cache};
use crate::db::audit::{self, Actor, AuditEntry};
use crate::db::merchants::{self, MerchantChanges};
use crate::db::{self, Conn, Db};
use crate::domain::beneficiary::CardStatus;
use crate::domain::china_today;
use crate::domain::merchant::MerchantStatus;
use crate::error::{AppError, AppResult};

/// Rows changed per transaction.
const BATCH: i64 = 500;

/// What one sweep changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub merchants: usize,
    pub cards: usize,
    /// Another process held the sweep's lock: this one did nothing.
    pub skipped: bool,
}

/// Marks every lapsed agreement and card expired, in batches.
pub async fn sweep(db: &Db, cache: &Cache) -> AppResult<Swept> {
    let mut swept = Swept::default();
    loop {
        let mut pooled = db.get().await?;
        let mut conn = pooled.conn();
        let batch = conn
            .transaction(async |tx| {
                if !db::try_job_lock(tx, db::JOB_SWEEP).await? {
                    return Ok::<_, AppError>(None);
                }
                let merchants = expire_merchants(tx).await?;
                let cards = expire_cards(tx).await?;
                Ok(Some((merchants, cards)))
            })
            .await?;
        drop(pooled);
        let Some((merchants, cards)) = batch else {
            swept.skipped = true;
            return Ok(swept);
        };
        let mut stale: Vec<String> = merchants.iter().map(keys::merchant).collect();
        stale.extend(cards.iter().map(keys::card));
        invalidate(cache, stale).await;
        swept.merchants += merchants.len();
        swept.cards += cards.len();
        if (merchants.len() as i64) < BATCH && (cards.len() as i64) < BATCH {
            if swept.merchants + swept.cards > 0 {
                tracing::info!(
                    merchants = swept.merchants,
                    cards = swept.cards,
                    "expired lapsed agreements and cards"
                );
            }
            return Ok(swept);
        }
    }
}

async fn expire_merchants(tx: &mut Conn<'_>) -> AppResult<Vec<db::MerchantId>> {
    let today = china_today();
    let now = db::now();
    let mut expired = Vec::new();
    for merchant in merchants::lapsed_agreements(tx, today, BATCH).await? {
        let changes = MerchantChanges {
            status: Some(MerchantStatus::Expired.as_str()),
            status_reason: Some(Some("agreement ended")),
            updated_at: Some(now),
            ..Default::default()
        };
        let active = MerchantStatus::Active.as_str();
        if merchants::update_if_status(tx, merchant.id, active, &changes)
            .await?
            .is_none()
        {
            continue;
        }
        audit::record(
            tx,
            &Actor::system(),
            AuditEntry {
                action: "merchant.expire",
                entity_type: "merchant",
                entity_id: merchant.id.to_string(),
                region_code: Some(&merchant.region_code),
                before_status: Some(active),
                after_status: Some(MerchantStatus::Expired.as_str()),
                reason: Some("agreement ended"),
                details: Some(serde_json::json!({"agreement_no": merchant.agreement_no,
                    "agreement_end": merchant.agreement_end})),
            },
        )
        .await?;
        expired.push(merchant.id);
    }
    Ok(expired)
}

async fn expire_cards(tx: &mut Conn<'_>) -> AppResult<Vec<db::CardId>> {
    let now = db::now();
    let mut expired = Vec::new();
    for (card, region_code) in db::cards::lapsed_cards(tx, now, BATCH).await? {
        let to = CardStatus::Expired.as_str();
        let reason = Some("expires_at passed");
        if db::cards::change_status(tx, card.id, card.version, to, reason, None, now)
            .await?
            .is_none()
        {
            continue;
        }
        audit::record(
            tx,
            &Actor::system(),
            AuditEntry {
                action: "card.expire",
                entity_type: "card",
                entity_id: card.id.to_string(),
                region_code: Some(&region_code),
                before_status: Some(CardStatus::Active.as_str()),
                after_status: Some(to),
                reason,
                details: Some(serde_json::json!({"expires_at": card.expires_at.and_utc()})),
            },
        )
        .await?;
        expired.push(card.id);
    }
    Ok(expired)
}
