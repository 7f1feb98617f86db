//! Verification (核验), the hot path: one Ed25519 check and, when the cache is warm, one
//! cache round trip for the card snapshot, the merchant's version token and the spent
//! mark of the token. The database fills what the cache lacks (or all of it while the
//! cache is unreachable). Spends nothing.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::{MerchantCopy, PointOfSale, Reason};
use crate::app::identity::Terminal;
use crate::app::merchants::directory::MerchantSnapshot;
use crate::app::offers::{remaining_for_holder, OfferRules};
use crate::auth::qr::QrError;
use crate::cache::keys;
use crate::db::beneficiaries::BeneficiaryRow;
use crate::db::cards::CardRow;
use crate::db::offers::{self, OfferRow};
use crate::db::{self, BeneficiaryId, CardId, Conn, MerchantId, OfferId, Stored};
use crate::domain::beneficiary::{mask_name, CardStatus, Category, Honor};
use crate::domain::card_no::CardNo;
use crate::domain::china_today;
use crate::domain::merchant::MerchantStatus;
use crate::error::AppResult;

/// How long a card snapshot may live in the cache (changes delete it at once).
const CARD_TTL: Duration = Duration::from_secs(60);
const MERCHANT_TTL: Duration = Duration::from_secs(60);

/// What verification needs of a card and its holder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CardSnapshot {
    pub card_id: CardId,
    pub card_no_masked: String,
    pub product: String,
    pub status: CardStatus,
    pub version: i32,
    pub expires_at: NaiveDateTime,
    pub beneficiary_id: BeneficiaryId,
    pub name_masked: String,
    pub category: Category,
    pub honors: Vec<Honor>,
    pub region_code: String,
    /// `(offer, period_key, used)` of this holder.
    pub usage: Vec<(OfferId, String, i32)>,
}

impl CardSnapshot {
    pub fn of(
        card: &CardRow,
        beneficiary: BeneficiaryRow,
        usage: Vec<(OfferId, String, i32)>,
    ) -> Stored<CardSnapshot> {
        Ok(CardSnapshot {
            card_id: card.id,
            card_no_masked: CardNo::parse(&card.card_no)
                .map(|c| c.masked())
                .unwrap_or_default(),
            product: card.product.clone(),
            status: card.status()?,
            version: card.version,
            expires_at: card.expires_at,
            beneficiary_id: beneficiary.id,
            name_masked: mask_name(&beneficiary.name),
            category: beneficiary.category()?,
            honors: beneficiary.honor_list()?,
            region_code: beneficiary.region_code,
            usage,
        })
    }

    /// The reason this card cannot be used now, if any.
    pub fn refusal(&self, now: NaiveDateTime) -> Option<Reason> {
        match self.status {
            CardStatus::Suspended => Some(Reason::CardSuspended),
            CardStatus::Revoked => Some(Reason::CardRevoked),
            CardStatus::Expired => Some(Reason::CardExpired),
            CardStatus::Active if self.expires_at <= now => Some(Reason::CardExpired),
            CardStatus::Active => None,
        }
    }
}

async fn build_card_snapshot(
    conn: &mut Conn<'_>,
    card: &CardRow,
) -> AppResult<Option<CardSnapshot>> {
    let Some(beneficiary) = db::beneficiaries::find(conn, card.beneficiary_id).await? else {
        return Ok(None);
    };
    let usage = offers::holder_uses(conn, beneficiary.id).await?;
    Ok(Some(CardSnapshot::of(card, beneficiary, usage)?))
}

/// The card and merchant snapshots, and whether the token's id is already spent.
///
/// The merchant snapshot (with its offers, the largest entry) is also kept in process,
/// beside the version token it was cached under; the round trip reads the token, not
/// the snapshot. A change deletes the token with the snapshot before it answers, so no
/// process uses its copy after that, whether or not it has heard the invalidation yet.
async fn snapshots(
    pos: &PointOfSale<'_>,
    card: CardId,
    merchant: MerchantId,
    jti: &str,
) -> AppResult<(Option<CardSnapshot>, Option<Arc<MerchantSnapshot>>, bool)> {
    let card_key = keys::card(&card);
    let merchant_key = keys::pos_merchant(&merchant);
    let version_key = keys::pos_merchant_version(&merchant);
    let cached = pos
        .cache
        .get_many(&[card_key.clone(), keys::jti(jti), version_key.clone()])
        .await;
    let (mut card_snap, mut merchant_snap, mut spent, cache_up) = match cached {
        Ok(values) => {
            let mut values = values.into_iter();
            let card_json = values.next().flatten();
            let spent = values.next().flatten().is_some();
            let version = values.next().flatten();
            let merchant_snap = match version {
                Some(version) => current_merchant(pos, merchant, &merchant_key, version).await,
                None => None,
            };
            (
                card_json.and_then(|v| serde_json::from_str::<CardSnapshot>(&v).ok()),
                merchant_snap,
                spent,
                true,
            )
        }
        Err(_) => (None, None, false, false),
    };
    // A missing merchant snapshot: wait for this process's load of it under way, if
    // any, and take what it cached (held until this one's own load is cached).
    let mut _turn = None;
    if merchant_snap.is_none() && cache_up {
        let gate = pos
            .local
            .merchant_loads
            .get_with(merchant, || Arc::new(tokio::sync::Mutex::new(())));
        _turn = Some(gate.lock_owned().await);
        if let Ok(Some(version)) = pos.cache.get(&version_key).await {
            merchant_snap = current_merchant(pos, merchant, &merchant_key, version).await;
        }
    }
    if card_snap.is_none() || merchant_snap.is_none() || !cache_up {
        let mut pooled = pos.db.get().await?;
        let mut conn = pooled.conn();
        if card_snap.is_none() {
            if let Some(row) = db::cards::find(&mut conn, card).await? {
                card_snap = build_card_snapshot(&mut conn, &row).await?;
                if let (Some(snap), true) = (&card_snap, cache_up) {
                    set_json(pos, &card_key, snap, CARD_TTL).await;
                }
            }
        }
        if merchant_snap.is_none() {
            if let Some(row) = db::merchants::find(&mut conn, merchant).await? {
                let mut snap = MerchantSnapshot::of(&row)?;
                snap.offers = offers::merchant_offers(&mut conn, merchant, Some("active")).await?;
                let snap = Arc::new(snap);
                if cache_up {
                    cache_merchant(pos, merchant, merchant_key, version_key, &snap).await;
                }
                merchant_snap = Some(snap);
            }
        }
        if !cache_up {
            // Without the cache, the ledger says whether the token was spent.
            spent = offers::jti_spent(&mut conn, jti).await?;
        }
    }
    Ok((card_snap, merchant_snap, spent))
}

/// The merchant snapshot cached under `version`: this process's copy when it has that
/// version, else the cached one (then kept here).
async fn current_merchant(
    pos: &PointOfSale<'_>,
    merchant: MerchantId,
    merchant_key: &str,
    version: String,
) -> Option<Arc<MerchantSnapshot>> {
    if let Some(local) = pos.local.merchants.get(&merchant) {
        if *local.version == *version {
            return Some(local.snapshot);
        }
    }
    let json = pos.cache.get(merchant_key).await.ok().flatten()?;
    let snapshot = Arc::new(serde_json::from_str::<MerchantSnapshot>(&json).ok()?);
    pos.local.merchants.insert(
        merchant,
        MerchantCopy {
            version: Arc::from(version),
            snapshot: snapshot.clone(),
        },
    );
    Some(snapshot)
}

/// Caches a merchant snapshot read from the database under a new version token, in the
/// cache and in this process.
async fn cache_merchant(
    pos: &PointOfSale<'_>,
    merchant: MerchantId,
    merchant_key: String,
    version_key: String,
    snapshot: &Arc<MerchantSnapshot>,
) {
    let Ok(json) = serde_json::to_string(&**snapshot) else {
        return;
    };
    let version = uuid::Uuid::new_v4().simple().to_string();
    let entries = [(merchant_key, json), (version_key, version.clone())];
    match pos.cache.set_many(&entries, MERCHANT_TTL).await {
        Ok(()) => pos.local.merchants.insert(
            merchant,
            MerchantCopy {
                version: Arc::from(version),
                snapshot: snapshot.clone(),
            },
        ),
        Err(error) => tracing::warn!(%error, "cache write failed"),
    }
}

async fn set_json<T: Serialize>(pos: &PointOfSale<'_>, key: &str, value: &T, ttl: Duration) {
    if let Ok(json) = serde_json::to_string(value) {
        if let Err(error) = pos.cache.set(key, &json, ttl).await {
            tracing::warn!(%error, "cache write failed");
        }
    }
}

/// An offer the holder may use here now.
#[derive(Debug, Clone, Copy)]
pub struct Usable {
    /// Its place in the merchant snapshot's offers.
    pub index: usize,
    /// Uses left for the holder; `None`: no per-holder limit.
    pub remaining_for_holder: Option<i64>,
}

/// What a scan showed.
// Built once per scan and consumed at once: boxing the snapshot would cost an
// allocation on the hot path for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Verification {
    Valid {
        card: CardSnapshot,
        merchant: Arc<MerchantSnapshot>,
        usable: Vec<Usable>,
    },
    Refused(Reason),
}

impl Verification {
    /// The usable offers with the uses left for the holder (none when refused).
    pub fn offers(&self) -> Vec<(&OfferRow, Option<i64>)> {
        match self {
            Verification::Valid {
                merchant, usable, ..
            } => usable
                .iter()
                .map(|u| (&merchant.offers[u.index], u.remaining_for_holder))
                .collect(),
            Verification::Refused(_) => Vec::new(),
        }
    }
}

/// The offers of `merchant` that `card` may use now.
fn usable_offers(
    card: &CardSnapshot,
    merchant: &MerchantSnapshot,
    now: NaiveDateTime,
) -> Stored<Vec<Usable>> {
    let mut usable = Vec::new();
    for (index, offer) in merchant.offers.iter().enumerate() {
        let rules = OfferRules::of(offer)?;
        if !rules.available_at(offer, now)
            || !rules.eligible(card.category, &card.honors, &card.product)
        {
            continue;
        }
        if offer.total_quota.is_some_and(|q| offer.used_total >= q) {
            continue;
        }
        let remaining = remaining_for_holder(offer, &rules, &card.usage, now);
        if remaining == Some(0) {
            continue;
        }
        usable.push(Usable {
            index,
            remaining_for_holder: remaining,
        });
    }
    Ok(usable)
}

/// Verifies a scanned card at this terminal's merchant.
pub async fn verify(
    pos: &PointOfSale<'_>,
    terminal: &Terminal,
    token: &str,
) -> AppResult<Verification> {
    let claims = match pos.qr.verify(token.trim()) {
        Ok(claims) => claims,
        Err(QrError::Expired) => return Ok(Verification::Refused(Reason::TokenExpired)),
        Err(QrError::Invalid) => return Ok(Verification::Refused(Reason::TokenInvalid)),
    };
    let (card, merchant, spent) =
        snapshots(pos, claims.sub, terminal.merchant_id, &claims.jti).await?;
    let now = db::now();
    let (Some(card), Some(merchant)) = (card, merchant) else {
        return Ok(Verification::Refused(Reason::TokenInvalid));
    };
    if let Some(reason) = card.refusal(now) {
        return Ok(Verification::Refused(reason));
    }
    if card.version != claims.ver {
        return Ok(Verification::Refused(Reason::TokenInvalid));
    }
    if merchant.effective_status(china_today()) != MerchantStatus::Active {
        return Ok(Verification::Refused(Reason::MerchantInactive));
    }
    if spent {
        return Ok(Verification::Refused(Reason::TokenUsed));
    }
    let usable = usable_offers(&card, &merchant, now)?;
    Ok(Verification::Valid {
        card,
        merchant,
        usable,
    })
}
