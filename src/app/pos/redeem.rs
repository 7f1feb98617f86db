//! Redemption (核销): idempotent by `Idempotency-Key`, a token spent once, the offer's
//! total quota and the holder's limit never exceeded whatever the concurrency; voids
//! within 24 hours; the ledgers of merchants and holders. Offline verifications are
//! redeemed here too, judged as of the time the terminal checked the token.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::Digest;
use utoipa::ToSchema;

use super::verify::CardSnapshot;
pub use super::writes::Answer;
use super::writes::{refusal_answer, used_up, Prepared, Queued, Written};
use super::{PointOfSale, Reason};
use crate::app::identity::{Holder, MerchantStaff, Terminal};
use crate::app::offers::OfferRules;
use crate::app::{invalidate, Listed, Page};
use crate::auth::qr::QrError;
use crate::cache::{keys, Cache};
use crate::db::audit::{self, AuditEntry};
use crate::db::cards::CardRow;
use crate::db::offers::{self, RedemptionOwner, RedemptionRow};
use crate::db::{self, CardId, Conn, Db, OfferId, RedemptionId, TerminalId};
use crate::domain::card_no::CardNo;
use crate::domain::china_today;
use crate::domain::merchant::MerchantStatus;
use crate::domain::offer::{self as rules, HolderPeriod, RedemptionStatus};
use crate::error::{AppError, AppResult, Code};

/// A redemption asked for.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"token": "eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiJ9…", "offer_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "bill_fen": 12800, "companions": 1}))]
pub struct RedeemRequest {
    pub token: String,
    pub offer_id: OfferId,
    /// The bill in fen, for discounts that depend on it: from 0 to
    /// `YONGJUN_MAX_BILL_FEN` (default 1000000000, 10,000,000.00 yuan).
    pub bill_fen: Option<i64>,
    /// Family members who came along (同行直系亲属).
    pub companions: Option<i32>,
    /// When the terminal checked the token without the network (the offline procedure
    /// of the README): the token and the card are judged as they were then; the quota
    /// and the holder's limit as they are now. At most `YONGJUN_OFFLINE_MAX_AGE_HOURS`
    /// (default 72) old.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_offline_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A redemption as a till, a merchant and a holder see it; also the answer a
/// redemption stores with its `Idempotency-Key` and replays.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = RedemptionView, example = json!({"id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e71", "offer_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f",
    "card_no_masked": "8860********9017", "bill_fen": 12800, "discount_fen": 2560, "companions": 1, "status": "completed",
    "redeemed_at": "2026-08-01T04:12:09Z",
    "merchant_region_code": "440303", "holder_region_code": "140521", "offline": false}))]
pub struct Receipt {
    pub id: RedemptionId,
    pub offer_id: OfferId,
    pub card_no_masked: String,
    pub bill_fen: Option<i64>,
    pub discount_fen: i64,
    pub companions: i32,
    pub status: String,
    pub redeemed_at: chrono::DateTime<chrono::Utc>,
    /// Where it was used and where the holder belongs (异地互认 when they differ).
    pub merchant_region_code: String,
    pub holder_region_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voided_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Verified by the terminal without the network, and uploaded later.
    #[serde(default)]
    pub offline: bool,
    /// When the terminal verified it offline (absent for an online redemption).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_offline_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Receipt {
    pub fn of(row: &RedemptionRow, card_no_masked: String) -> Receipt {
        Receipt {
            id: row.id,
            offer_id: row.offer_id,
            card_no_masked,
            bill_fen: row.bill_fen,
            discount_fen: row.discount_fen,
            companions: row.companions,
            status: row.status.clone(),
            redeemed_at: row.redeemed_at.and_utc(),
            merchant_region_code: row.merchant_region_code.clone(),
            holder_region_code: row.holder_region_code.clone(),
            voided_at: row.voided_at.map(|at| at.and_utc()),
            offline: row.offline,
            verified_offline_at: row.verified_offline_at.map(|at| at.and_utc()),
        }
    }
}

/// The checks of one redemption, from fresh rows (not snapshots: this is the write path).
async fn prepare_redemption(
    tx: &mut Conn<'_>,
    pos: &PointOfSale<'_>,
    terminal: &Terminal,
    req: &RedeemRequest,
) -> AppResult<Prepared> {
    // A bill no till can mean is refused before anything is read: one absurd amount in
    // the ledger would otherwise weigh on every figure summed from it.
    if req.bill_fen.is_some_and(|bill| bill > pos.max_bill_fen) {
        return Err(AppError::invalid_field(
            "bill_fen",
            rules::at_most(pos.max_bill_fen),
        ));
    }
    let now = db::now();
    let token = req.token.trim();
    // When the card and the token are judged: now, or when the terminal verified it
    // offline.
    let (claims, judged_at) = match req.verified_offline_at {
        None => (pos.qr.verify(token).map_err(token_refusal)?, now),
        Some(at) => {
            let at = offline_time(pos, at.naive_utc(), now)?;
            let claims = pos
                .qr
                .verify_at(token, at.and_utc().timestamp())
                .map_err(token_refusal)?;
            (claims, at)
        }
    };
    // Two joined reads (card with holder, merchant with offer) instead of four keep the
    // transaction short.
    let (card, beneficiary) = db::cards::find_with_holder(tx, claims.sub)
        .await?
        .ok_or_else(|| Reason::TokenInvalid.error())?;
    // The holder's usage is not read here: the per-holder limit is enforced by its own
    // conditional update in `write_redemption`.
    let snapshot = CardSnapshot::of(&card, beneficiary, Vec::new())?;
    if req.verified_offline_at.is_none() || card.version == claims.ver {
        // Online, or offline with a card unchanged since the token was signed (as it
        // is now, it was then): the card's status first, then the token's version.
        if let Some(reason) = snapshot.refusal(judged_at) {
            return Err(reason.error());
        }
        if card.version != claims.ver {
            return Err(Reason::TokenInvalid.error());
        }
    } else if card.version > claims.ver {
        card_then(tx, &card, &claims, judged_at).await?;
    } else {
        return Err(Reason::TokenInvalid.error());
    }
    let (merchant, offer) = offers::merchant_with_offer(tx, terminal.merchant_id, req.offer_id)
        .await?
        .ok_or_else(|| Reason::MerchantInactive.error())?;
    if merchant.effective_status(china_today())? != MerchantStatus::Active {
        return Err(Reason::MerchantInactive.error());
    }
    let offer = offer.ok_or_else(|| {
        AppError::unprocessable(
            Code::OfferNotActive,
            "本店没有这项优待 (this merchant has no such offer)",
        )
    })?;
    let rules = OfferRules::of(&offer)?;
    // The service was given when the token was checked.
    if !rules.available_at(&offer, judged_at) {
        return Err(AppError::unprocessable(
            Code::OfferNotActive,
            "这项优待当前不可用 (the offer is not available now)",
        ));
    }
    if !rules.eligible(snapshot.category, &snapshot.honors, &card.product) {
        return Err(AppError::unprocessable(
            Code::NotEligible,
            "持卡人不符合这项优待的条件 (the holder is not eligible for this offer)",
        ));
    }
    let companions = req.companions.unwrap_or(0);
    if companions < 0 || companions > offer.companions_allowed {
        return Err(AppError::unprocessable(
            Code::CompanionsExceeded,
            format!("这项优待最多可带 {} 名同行亲属", offer.companions_allowed),
        )
        .with("companions_allowed", offer.companions_allowed));
    }
    let discount = rules::discount_fen(&rules.terms, req.bill_fen).map_err(|code| match code {
        "bill_required" => AppError::invalid_field("bill_fen", "is required for this offer"),
        // Terms stored before they were checked as they are now (an amount above the
        // bound): the offer cannot be used until the merchant changes it.
        "invalid_terms" => AppError::unprocessable(
            Code::OfferNotActive,
            "这项优待的条款无效，需由商户修改 (the offer's terms are out of range)",
        ),
        _ => AppError::invalid_field("bill_fen", "must not be negative"),
    })?;
    let (holder_limit, period) = match (offer.per_holder_limit, rules.period) {
        (Some(limit), Some(period)) => (Some(limit), period),
        _ => (None, HolderPeriod::Lifetime),
    };
    let period_key = rules::period_key(period, now);
    if offer
        .total_quota
        .is_some_and(|quota| offer.used_total >= quota)
    {
        // Used up: refused here rather than by the writes (a rush on a used-up offer
        // writes nothing), with the refusal the writes would give, in their order.
        return Err(used_up(
            tx,
            &offer,
            snapshot.beneficiary_id,
            holder_limit,
            &period_key,
            &claims.jti,
        )
        .await?);
    }
    let row = RedemptionRow {
        id: RedemptionId::new(),
        offer_id: offer.id,
        merchant_id: merchant.id,
        terminal_id: terminal.id,
        card_id: card.id,
        beneficiary_id: snapshot.beneficiary_id,
        jti: claims.jti.clone(),
        period_key,
        bill_fen: req.bill_fen,
        discount_fen: discount,
        companions,
        merchant_region_code: merchant.region_code.clone(),
        holder_region_code: snapshot.region_code.clone(),
        status: RedemptionStatus::Completed.as_str().into(),
        void_reason: None,
        voided_at: None,
        redeemed_at: now,
        holder_category: snapshot.category.as_str().to_owned(),
        card_product: card.product.clone(),
        offer_kind: offer.kind.clone(),
        merchant_category: merchant.category.clone(),
        offline: req.verified_offline_at.is_some(),
        verified_offline_at: req.verified_offline_at.map(|_| judged_at),
    };
    Ok(Prepared {
        row,
        card_no_masked: snapshot.card_no_masked,
        holder_limit,
        counted: offer.total_quota.is_some(),
    })
}

fn token_refusal(error: QrError) -> AppError {
    match error {
        QrError::Expired => Reason::TokenExpired.error(),
        QrError::Invalid => Reason::TokenInvalid.error(),
    }
}

/// An offline verification time, if it can be accepted now: not in the future (beyond
/// the clock leeway), not older than the policy allows.
fn offline_time(
    pos: &PointOfSale<'_>,
    at: chrono::NaiveDateTime,
    now: chrono::NaiveDateTime,
) -> AppResult<chrono::NaiveDateTime> {
    if at > now + chrono::Duration::seconds(crate::auth::qr::LEEWAY_SECS) {
        return Err(AppError::invalid_field(
            "verified_offline_at",
            "lies in the future",
        ));
    }
    let hours = pos.offline_max_age_hours;
    if now - at > chrono::Duration::hours(i64::from(hours)) {
        return Err(AppError::unprocessable(
            Code::OfflineTooOld,
            format!(
                "离线核验已超过 {hours} 小时，不能再补录 (verified offline more than {hours} hours ago)"
            ),
        )
        .with("max_age_hours", hours));
    }
    Ok(at.min(now))
}

/// Whether the card, which changed since the token was signed, was still usable at
/// `at`: the change that ended the token's version came after `at`, and the card had
/// not lapsed by then. Otherwise the refusal its change (or its expiry) gives.
async fn card_then(
    tx: &mut Conn<'_>,
    card: &CardRow,
    claims: &crate::auth::qr::QrClaims,
    at: chrono::NaiveDateTime,
) -> AppResult<()> {
    let Some((status, changed_at)) = db::cards::version_began(tx, card.id, claims.ver + 1).await?
    else {
        // Changed before changes were recorded: nothing tells when.
        return Err(Reason::TokenInvalid.error());
    };
    if changed_at <= at {
        use crate::domain::beneficiary::CardStatus;
        let status = CardStatus::parse(&status)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("card change status {status:?}")))?;
        return Err(match status {
            CardStatus::Suspended => Reason::CardSuspended,
            CardStatus::Expired => Reason::CardExpired,
            // Revoked or reissued (the old card is revoked); reinstated cards begin a
            // version as active, which a token of the suspended one never had.
            CardStatus::Revoked | CardStatus::Active => Reason::CardRevoked,
        }
        .error());
    }
    let expires = claims
        .cexp
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map_or(card.expires_at, |t| t.naive_utc());
    if expires <= at {
        return Err(Reason::CardExpired.error());
    }
    Ok(())
}

/// The answer stored with a key somebody else claimed: replayed when the request is
/// the same, refused when the key was used for another.
async fn stored_answer(
    conn: &mut Conn<'_>,
    terminal: TerminalId,
    key: &str,
    request_hash: &str,
) -> AppResult<Answer> {
    let (hash, status, body) = offers::stored_answer(conn, terminal, key)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("claimed key without a row")))?;
    if hash != request_hash {
        return Err(AppError::unprocessable(
            Code::IdempotencyKeyReused,
            "this Idempotency-Key was used for a different request",
        ));
    }
    // A key is only ever claimed together with its answer (the columns stay nullable
    // for rows written before that was so).
    match (status, body) {
        (Some(status), Some(body)) => Ok(Answer {
            status: status as u16,
            body,
        }),
        _ => Err(AppError::internal(anyhow::anyhow!(
            "idempotency key stored without its answer"
        ))),
    }
}

/// Records a redemption. The same `key` with the same request answers the first answer
/// again (status and body) and changes nothing; a token redeems once; the offer's total
/// quota and the holder's limit hold under any concurrency. A refusal is an answer too
/// (stored with its key); only a failure of ours is an `Err`.
///
/// The checks read fresh rows on a connection of their own; the writes go to this
/// process's [`RedemptionQueue`], which writes the redemptions of concurrent tills in
/// one transaction (group commit) and answers each on its own.
pub async fn redeem(
    pos: &PointOfSale<'_>,
    terminal: &Terminal,
    key: &str,
    request: &RedeemRequest,
) -> AppResult<Answer> {
    let canonical = serde_json::to_string(request).map_err(AppError::internal)?;
    let request_hash = hex::encode(sha2::Sha256::digest(canonical.as_bytes()));
    let prepared = {
        let mut pooled = pos.db.get().await?;
        prepare_redemption(&mut pooled.conn(), pos, terminal, request).await
    };
    let refusal = match prepared {
        Ok(prepared) => {
            let receipt = Receipt::of(&prepared.row, prepared.card_no_masked.clone());
            let body = serde_json::to_string(&receipt).map_err(AppError::internal)?;
            let row = &prepared.row;
            let (id, discount_fen) = (row.id, row.discount_fen);
            let queued = Queued {
                prepared,
                terminal: terminal.id,
                key: key.to_owned(),
                request_hash: request_hash.clone(),
                body: body.clone(),
            };
            let spent_ttl = Duration::from_secs(u64::from(pos.qr_ttl_secs) + 120);
            let written = pos
                .queue
                .submit(queued, pos.db, pos.cache, spent_ttl)
                .await
                .map_err(AppError::internal)??;
            match written {
                Written::Redeemed => {
                    tracing::info!(redemption_id = %id, discount_fen, "redeemed");
                    return Ok(Answer { status: 201, body });
                }
                Written::Refused(answer) => return Ok(answer),
                Written::KeyTaken => {
                    let mut pooled = pos.db.get().await?;
                    return stored_answer(&mut pooled.conn(), terminal.id, key, &request_hash)
                        .await;
                }
            }
        }
        Err(refusal) if refusal.kind.is_refusal() => refusal,
        Err(other) => return Err(other),
    };
    // Refused by the checks: the refusal is kept with the key, so a retry hears the
    // same answer; if the key was claimed before, its answer wins.
    let answer = refusal_answer(&refusal)?;
    let mut pooled = pos.db.get().await?;
    let mut conn = pooled.conn();
    let claimed = conn
        .transaction(async |tx| {
            offers::claim_key(
                tx,
                terminal.id,
                key,
                &request_hash,
                i32::from(answer.status),
                &answer.body,
                db::now(),
            )
            .await
        })
        .await?;
    if claimed {
        Ok(answer)
    } else {
        stored_answer(&mut conn, terminal.id, key, &request_hash).await
    }
}

/// Voids a redemption within 24 hours (a mistaken scan, a cancelled purchase): the
/// quota and the holder's use are given back.
pub async fn void(
    db: &Db,
    cache: &Cache,
    staff: &MerchantStaff,
    id: RedemptionId,
    reason: String,
) -> AppResult<Receipt> {
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let row = offers::find_redemption(&mut conn, id)
        .await?
        .filter(|r| r.merchant_id == staff.merchant_id)
        .ok_or_else(|| AppError::not_found(Code::RedemptionNotFound, "no such redemption"))?;
    let now = db::now();
    let already = || AppError::conflict(Code::AlreadyVoided, "this redemption is already voided");
    if row.status()? != RedemptionStatus::Completed {
        return Err(already());
    }
    if now - row.redeemed_at > chrono::Duration::hours(24) {
        return Err(AppError::conflict(
            Code::VoidWindowPassed,
            "a redemption can be voided within 24 hours",
        ));
    }
    let actor = staff.user.actor();
    let voided = conn
        .transaction(async |tx| {
            let voided = offers::void_redemption(tx, row.id, &reason, now)
                .await?
                .ok_or_else(already)?;
            // The holder's use before the offer's row, in the order redemptions take
            // them (no two transactions wait on each other in a circle).
            offers::give_back_holder_use(tx, row.offer_id, row.beneficiary_id, &row.period_key)
                .await?;
            offers::give_back_quota(tx, row.offer_id).await?;
            audit::record(
                tx,
                &actor,
                AuditEntry {
                    action: "redemption.void",
                    entity_type: "redemption",
                    entity_id: row.id.to_string(),
                    region_code: Some(&row.merchant_region_code),
                    before_status: Some(RedemptionStatus::Completed.as_str()),
                    after_status: Some(RedemptionStatus::Voided.as_str()),
                    reason: Some(&reason),
                    details: Some(serde_json::json!({"offer_id": row.offer_id,
                        "discount_fen": row.discount_fen})),
                },
            )
            .await?;
            Ok::<_, AppError>(voided)
        })
        .await?;
    // The holder's use and the offer's count changed.
    invalidate(
        cache,
        vec![
            keys::card(&voided.card_id),
            keys::merchant(&voided.merchant_id),
        ],
    )
    .await;
    let masked = card_no_masked(&mut conn, voided.card_id).await?;
    Ok(Receipt::of(&voided, masked))
}

async fn card_no_masked(conn: &mut Conn<'_>, id: CardId) -> AppResult<String> {
    Ok(db::cards::find(conn, id)
        .await?
        .and_then(|c| CardNo::parse(&c.card_no).ok())
        .map(|c| c.masked())
        .unwrap_or_default())
}

async fn ledger(db: &Db, owner: RedemptionOwner, page: Page) -> AppResult<Listed<Receipt>> {
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let (rows, total) =
        offers::list_redemptions(&mut conn, owner, page.offset(), page.limit()).await?;
    let mut receipts = Vec::with_capacity(rows.len());
    for row in rows {
        let masked = card_no_masked(&mut conn, row.card_id).await?;
        receipts.push(Receipt::of(&row, masked));
    }
    Ok((receipts, total))
}

/// The caller's merchant's redemptions, newest first.
pub async fn merchant_redemptions(
    db: &Db,
    staff: &MerchantStaff,
    page: Page,
) -> AppResult<Listed<Receipt>> {
    ledger(db, RedemptionOwner::Merchant(staff.merchant_id), page).await
}

/// The holder's own redemptions, newest first (every card of the person).
pub async fn holder_redemptions(
    db: &Db,
    holder: &Holder,
    page: Page,
) -> AppResult<Listed<Receipt>> {
    ledger(
        db,
        RedemptionOwner::Beneficiary(holder.card.beneficiary_id),
        page,
    )
    .await
}
