//! The writes of redemptions, several concurrent ones in one transaction (group
//! commit, [`GroupCommit`]): keys, holder uses, ledger rows and quotas, each with
//! multi-row statements where they can be, and each redemption's refusal still its own.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::group_commit::{Batched, GroupCommit, Slot, Unanswered};
use super::shown::ShownCounts;
use super::Reason;
use crate::app::invalidate;
use crate::cache::{keys, Cache};
use crate::db::offers::{self, RedemptionRow};
use crate::db::redemption_batch::{self as batch, KeyClaim};
use crate::db::{self, Conn, Db, MerchantId, OfferId, PoolUnavailable, TerminalId};
use crate::error::{AppError, AppResult, Code};

/// The answer of a redemption request: its status and JSON body (a `Receipt` or a
/// problem), as first given for its `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// A redemption that passed every check that reading can make; the writes in
/// [`write_redemption`] may still refuse it (spent token, quota, holder limit).
pub(super) struct Prepared {
    pub(super) row: RedemptionRow,
    pub(super) card_no_masked: String,
    pub(super) holder_limit: Option<i32>,
    /// Whether the offer has a total quota, counted on its shards.
    pub(super) counted: bool,
}

/// A prepared redemption on its way to a batch, with the key it claims and the answer
/// it gives when written.
pub struct Queued {
    pub(super) prepared: Prepared,
    pub(super) terminal: TerminalId,
    pub(super) key: String,
    pub(super) request_hash: String,
    /// The receipt, as JSON.
    pub(super) body: String,
}

/// What a batch did with one redemption.
pub enum Written {
    /// Written; the answer is the receipt it was queued with.
    Redeemed,
    /// Refused by a write (spent token, quota, holder limit); the refusal is stored
    /// with its key already.
    Refused(Answer),
    /// Its key was claimed before: the stored answer is the one to give.
    KeyTaken,
}

impl Batched for Queued {
    type Outcome = AppResult<Written>;

    fn exclusive(&self) -> Vec<String> {
        let row = &self.prepared.row;
        let mut keys = vec![
            format!("key {} {}", self.terminal, self.key),
            format!("jti {}", row.jti),
        ];
        if self.prepared.holder_limit.is_some() {
            keys.push(format!(
                "use {} {} {}",
                row.offer_id, row.beneficiary_id, row.period_key
            ));
        }
        keys
    }
}

/// This process's queue of redemptions to write (group commit), and the showings of
/// the limited offers' counts that follow the batches.
pub struct RedemptionQueue {
    batches: GroupCommit<Queued>,
    shown: Arc<ShownCounts>,
}

/// A queue for `db`: one batch at a time on SQLite (one writer), `slots` on
/// PostgreSQL; at most `max_batch` redemptions per transaction.
pub fn redemption_queue(db: &Db, slots: usize, max_batch: usize) -> RedemptionQueue {
    let slots = match db {
        Db::Sqlite(_) => 1,
        Db::Pg(_) => slots,
    };
    RedemptionQueue {
        batches: GroupCommit::new(slots, max_batch),
        shown: Arc::default(),
    }
}

impl RedemptionQueue {
    /// Queues a redemption and returns what its batch did with it, once the batch
    /// committed and the caches heard of it.
    pub(super) async fn submit(
        &self,
        item: Queued,
        db: &Db,
        cache: &Cache,
        spent_ttl: Duration,
    ) -> Result<AppResult<Written>, Unanswered> {
        let (db, cache, shown) = (db.clone(), cache.clone(), self.shown.clone());
        self.batches
            .submit(item, move |items, slot| {
                write_batch(
                    db.clone(),
                    cache.clone(),
                    shown.clone(),
                    spent_ttl,
                    items,
                    slot,
                )
            })
            .await
    }
}

pub(super) fn refusal_answer(refusal: &AppError) -> AppResult<Answer> {
    Ok(Answer {
        status: refusal.status(),
        body: serde_json::to_string(&refusal.problem()).map_err(AppError::internal)?,
    })
}

/// Writes a batch in one transaction; if the transaction fails as a whole (a deadlock
/// with another writer, a lost connection), each redemption again in one of its own,
/// so one failure is not everybody's.
/// After the commit the slot is free, and the cache hears of the batch: the tokens it
/// spent, and the snapshots it made stale (a card's, for the holder's use of a limited
/// offer), each named once however many redemptions changed it; each limited offer it
/// counted on is shown with its new count ([`ShownCounts`], which drops the merchant's
/// snapshot). All of it before the answers go out.
async fn write_batch(
    db: Db,
    cache: Cache,
    shown: Arc<ShownCounts>,
    spent_ttl: Duration,
    items: Vec<Queued>,
    slot: Slot,
) -> Vec<AppResult<Written>> {
    let outcomes = write_batch_rows(&db, &items).await;
    drop(slot);
    let mut stale = BTreeSet::new();
    let mut counted: BTreeMap<OfferId, MerchantId> = BTreeMap::new();
    let mut spent = Vec::new();
    for (item, outcome) in items.iter().zip(&outcomes) {
        let row = &item.prepared.row;
        // A refusal by these writes (the quota's, in a rush) shows the count too: one
        // that a crash lost between a commit and its showing comes back at the first
        // refusal, not only at start-up.
        if item.prepared.counted && matches!(outcome, Ok(Written::Redeemed | Written::Refused(_))) {
            counted.insert(row.offer_id, row.merchant_id);
        }
        if let Ok(Written::Redeemed) = outcome {
            if item.prepared.holder_limit.is_some() {
                stale.insert(keys::card(&row.card_id));
            }
            spent.push((keys::jti(&row.jti), "1".to_owned()));
        }
    }
    if !spent.is_empty() || !counted.is_empty() {
        // On the one multiplexed cache connection at once: one wait, not several. A
        // spent mark that is lost costs nothing but speed (the ledger refuses the token).
        let shows = counted
            .iter()
            .map(|(&offer, &merchant)| shown.show(&db, &cache, offer, merchant));
        let (_, _, _) = tokio::join!(
            invalidate(&cache, stale.into_iter().collect()),
            cache.set_many(&spent, spent_ttl),
            futures_util::future::join_all(shows),
        );
    }
    outcomes
}

async fn write_batch_rows(db: &Db, items: &[Queued]) -> Vec<AppResult<Written>> {
    let mut pooled = match db.get().await {
        Ok(pooled) => pooled,
        Err(unavailable) => {
            return items
                .iter()
                .map(|_| Err(PoolUnavailable(unavailable.0.clone()).into()))
                .collect()
        }
    };
    let mut conn = pooled.conn();
    let outcomes = match conn
        .transaction(async |tx| write_all(tx, items).await)
        .await
    {
        Ok(written) => written.into_iter().map(Ok).collect(),
        Err(error) if items.len() == 1 => vec![Err(error)],
        Err(error) => {
            tracing::warn!(%error, redemptions = items.len(), "a batch failed; writing its redemptions one by one");
            let mut outcomes = Vec::with_capacity(items.len());
            for item in items {
                let one = std::slice::from_ref(item);
                let written = conn.transaction(async |tx| write_all(tx, one).await).await;
                outcomes.push(written.map(|mut w| w.remove(0)));
            }
            outcomes
        }
    };
    outcomes
}

/// The shard the next batch starts on.
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

/// The writes of prepared redemptions, in an order every batch follows (keys, holder
/// uses, ledger, quotas; each sorted) so two batches never wait on each other in a
/// circle. A refusal of one leaves the others written and is stored with its key.
async fn write_all(tx: &mut Conn<'_>, items: &[Queued]) -> AppResult<Vec<Written>> {
    let now = db::now();
    let n = items.len();
    let mut refused: Vec<Option<AppError>> = (0..n).map(|_| None).collect();
    let mut sorted: Vec<usize> = (0..n).collect();

    // The keys, with the receipts they answer when all goes well (the usual case: no
    // second write of the key).
    sorted.sort_by(|&a, &b| {
        (items[a].terminal, &items[a].key).cmp(&(items[b].terminal, &items[b].key))
    });
    let claims: Vec<KeyClaim<'_>> = sorted
        .iter()
        .map(|&i| KeyClaim {
            terminal: items[i].terminal,
            key: &items[i].key,
            request_hash: &items[i].request_hash,
            status: 201,
            body: &items[i].body,
        })
        .collect();
    let claimed = batch::claim_keys(tx, &claims, now).await?;
    let mut taken = vec![false; n];
    for (&i, claimed) in sorted.iter().zip(claimed) {
        taken[i] = !claimed;
    }

    // Per-holder limits: one conditional update each.
    let mut used = vec![false; n];
    let limited = |i: &usize| !taken[*i] && items[*i].prepared.holder_limit.is_some();
    let mut holders: Vec<usize> = (0..n).filter(limited).collect();
    holders.sort_by_key(|&i| {
        let row = &items[i].prepared.row;
        (row.offer_id, row.beneficiary_id, row.period_key.clone())
    });
    for i in holders {
        let (row, limit) = (&items[i].prepared.row, items[i].prepared.holder_limit);
        let limit = limit.unwrap_or(0);
        if offers::take_holder_use(tx, row.offer_id, row.beneficiary_id, &row.period_key, limit)
            .await?
        {
            used[i] = true;
        } else {
            refused[i] = Some(holder_limit_reached());
        }
    }

    // The ledger: a spent token is caught by the unique `jti` (no separate look-up).
    let mut writing: Vec<usize> = (0..n)
        .filter(|&i| !taken[i] && refused[i].is_none())
        .collect();
    writing.sort_by(|&a, &b| items[a].prepared.row.jti.cmp(&items[b].prepared.row.jti));
    let rows: Vec<&RedemptionRow> = writing.iter().map(|&i| &items[i].prepared.row).collect();
    let written = if rows.is_empty() {
        Vec::new()
    } else {
        batch::insert_redemptions(tx, &rows).await?
    };
    let mut in_ledger = vec![false; n];
    for (&i, written) in writing.iter().zip(written) {
        if written {
            in_ledger[i] = true;
        } else {
            refused[i] = Some(Reason::TokenUsed.error());
        }
    }

    // Quotas last, one update of one shard per offer for the whole batch (a shard's
    // lock is held until the commit, so the less after it the better).
    let mut counted: BTreeMap<OfferId, Vec<usize>> = BTreeMap::new();
    for i in (0..n).filter(|&i| in_ledger[i] && items[i].prepared.counted) {
        counted
            .entry(items[i].prepared.row.offer_id)
            .or_default()
            .push(i);
    }
    let mut unwritten = Vec::new();
    // Each batch starts on the next shard: batches at once count on different rows.
    let shard = NEXT_SHARD.fetch_add(1, Ordering::Relaxed);
    for (offer, waiting) in counted {
        let granted = db::quota::take(tx, offer, shard, waiting.len() as i64).await?;
        for &i in waiting.iter().skip(usize::try_from(granted).unwrap_or(0)) {
            refused[i] = Some(quota_exhausted());
            unwritten.push(items[i].prepared.row.id);
        }
    }
    if !unwritten.is_empty() {
        batch::delete_redemptions(tx, &unwritten).await?;
    }

    // What the refused had taken is given back, and their keys answer the refusal.
    let mut outcomes = Vec::with_capacity(n);
    for (i, item) in items.iter().enumerate() {
        if taken[i] {
            outcomes.push(Written::KeyTaken);
            continue;
        }
        let Some(refusal) = refused[i].take() else {
            outcomes.push(Written::Redeemed);
            continue;
        };
        let row = &item.prepared.row;
        if used[i] {
            offers::give_back_holder_use(tx, row.offer_id, row.beneficiary_id, &row.period_key)
                .await?;
        }
        let answer = refusal_answer(&refusal)?;
        batch::set_answer(
            tx,
            item.terminal,
            &item.key,
            i32::from(answer.status),
            &answer.body,
        )
        .await?;
        outcomes.push(Written::Refused(answer));
    }
    Ok(outcomes)
}

/// The refusal of a redemption of an offer whose quota is used up: the holder's limit
/// if it is reached too, else a spent token, else the quota.
pub(super) async fn used_up(
    tx: &mut Conn<'_>,
    offer: &offers::OfferRow,
    beneficiary: db::BeneficiaryId,
    holder_limit: Option<i32>,
    period_key: &str,
    jti: &str,
) -> AppResult<AppError> {
    if let Some(limit) = holder_limit {
        let uses = offers::holder_uses(tx, beneficiary).await?;
        let used = uses
            .iter()
            .find(|(o, p, _)| *o == offer.id && p == period_key)
            .map_or(0, |(_, _, used)| *used);
        if used >= limit {
            return Ok(holder_limit_reached());
        }
    }
    if offers::jti_spent(tx, jti).await? {
        return Ok(Reason::TokenUsed.error());
    }
    Ok(quota_exhausted())
}

fn holder_limit_reached() -> AppError {
    AppError::conflict(
        Code::HolderLimitReached,
        "持卡人本期已用完这项优待 (the holder has used this offer up for the period)",
    )
}

fn quota_exhausted() -> AppError {
    AppError::conflict(
        Code::QuotaExhausted,
        "这项优待的名额已用完 (the offer's quota is used up)",
    )
}
