//! Card products (卡种) and cards (优待卡): issue, suspend, reinstate, revoke, reissue.
//! Every change bumps the card's version, is audited in its transaction and drops the
//! card's cached snapshot after the commit.

use chrono::NaiveDateTime;

use crate::app::beneficiaries::load_scoped;
use crate::app::identity::AdminUser;
use crate::app::permissions::Operation;
use crate::app::{invalidate, Listed, Page};
use crate::cache::{keys, Cache};
use crate::crypto::DataCipher;
use crate::db::audit::{self, AuditEntry};
use crate::db::cards::{self, CardFilter, CardRow, ProductRow};
use crate::db::{self, BeneficiaryId, CardId, Conn, Db};
use crate::domain::beneficiary::{card_transition, CardAction, CardStatus};
use crate::domain::card_no::CardNo;
use crate::error::{is_unique_violation, AppError, AppResult, Code};

/// Card numbers start with this prefix (then 11 random digits and a Luhn digit).
const CARD_PREFIX: &str = "8860";

/// The card products: general, medical, grain, book, and any added.
pub async fn products(db: &Db, admin: &AdminUser) -> AppResult<Vec<ProductRow>> {
    admin.require(Operation::CardProductsRead)?;
    let mut pooled = db.get().await?;
    Ok(cards::products(&mut pooled.conn()).await?)
}

/// Adds a card product (super administrators: products are national configuration).
pub async fn create_product(db: &Db, admin: &AdminUser, row: ProductRow) -> AppResult<ProductRow> {
    admin.require(Operation::CardProductsWrite)?;
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    if cards::product(&mut conn, &row.code).await?.is_some() {
        return Err(AppError::conflict(
            Code::ProductExists,
            "a card product with this code exists",
        ));
    }
    conn.transaction(async |tx| {
        cards::insert_product(tx, &row).await?;
        audit::record(
            tx,
            &admin.actor(),
            AuditEntry {
                action: "card_product.create",
                entity_type: "card_product",
                entity_id: row.code.clone(),
                details: Some(serde_json::json!({"name": row.name,
                    "default_valid_years": row.default_valid_years})),
                ..Default::default()
            },
        )
        .await?;
        Ok::<_, AppError>(())
    })
    .await?;
    Ok(row)
}

/// A card with the one-time activation code it was issued with.
#[derive(Debug)]
pub struct IssuedCard {
    pub card: CardRow,
    /// Give it to the holder with the card number; it works once and is stored hashed.
    pub activation_code: String,
}

fn new_activation_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    (0..10)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// The keyed hash an activation code is stored as.
pub fn activation_hash(cipher: &DataCipher, code: &str) -> String {
    cipher.lookup_hash(&format!("activation:{}", code.trim().to_uppercase()))
}

/// A card row to insert, with a fresh number and activation code.
fn new_card(
    cipher: &DataCipher,
    beneficiary: BeneficiaryId,
    product: &str,
    years: i32,
    now: NaiveDateTime,
) -> IssuedCard {
    let code = new_activation_code();
    let expires_at = now
        .checked_add_months(chrono::Months::new(12 * years.max(1) as u32))
        .unwrap_or(NaiveDateTime::MAX);
    let card = CardRow {
        id: CardId::new(),
        card_no: CardNo::generate(CARD_PREFIX).as_str().to_owned(),
        beneficiary_id: beneficiary,
        product: product.to_owned(),
        status: CardStatus::Active.as_str().to_owned(),
        status_reason: None,
        version: 1,
        issued_at: now,
        expires_at,
        activation_code_hash: Some(activation_hash(cipher, &code)),
        activated_at: None,
        replaced_by: None,
        status_changed_at: now,
        created_at: now,
        updated_at: now,
    };
    IssuedCard {
        card,
        activation_code: code,
    }
}

fn card_exists() -> AppError {
    AppError::conflict(
        Code::CardExists,
        "this beneficiary already has a live card of this product",
    )
}

/// Inserts a card, drawing a new number in the (rare) event the random one is taken.
async fn insert_card(tx: &mut Conn<'_>, mut issued: IssuedCard) -> AppResult<IssuedCard> {
    for _ in 0..5 {
        if cards::find_by_no(tx, &issued.card.card_no).await?.is_none() {
            cards::insert(tx, &issued.card).await.map_err(|e| {
                if is_unique_violation(&e) {
                    card_exists()
                } else {
                    AppError::from(e)
                }
            })?;
            return Ok(issued);
        }
        issued.card.card_no = CardNo::generate(CARD_PREFIX).as_str().to_owned();
    }
    Err(AppError::internal(anyhow::anyhow!(
        "could not draw a free card number"
    )))
}

/// Issues a card of a product to a beneficiary: one live card per beneficiary and
/// product (an expired one is recorded as expired and replaced). `valid_years`
/// (1 to 50) defaults to the product's.
pub async fn issue(
    db: &Db,
    cache: &Cache,
    cipher: &DataCipher,
    admin: &AdminUser,
    id: BeneficiaryId,
    product: &str,
    valid_years: Option<i32>,
) -> AppResult<IssuedCard> {
    admin.require(Operation::CardsWrite)?;
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let beneficiary = load_scoped(&mut conn, admin, id).await?;
    let product = cards::product(&mut conn, product.trim())
        .await?
        .ok_or_else(|| {
            AppError::invalid_field(
                "product",
                "is not a card product (see GET /api/v1/admin/card-products)",
            )
        })?;
    let years = valid_years.unwrap_or(product.default_valid_years);
    if !(1..=50).contains(&years) {
        return Err(AppError::invalid_field(
            "valid_years",
            "must be between 1 and 50",
        ));
    }
    let now = db::now();
    let live = cards::live_card(&mut conn, beneficiary.id, &product.code).await?;
    let template = new_card(cipher, beneficiary.id, &product.code, years, now);
    let actor = admin.actor();
    let (issued, expired_old) = conn
        .transaction(async |tx| {
            let mut expired_old = None;
            if let Some(old) = &live {
                if old.effective_status(now)? != CardStatus::Expired {
                    return Err(card_exists().with("card_id", old.id.to_string()));
                }
                // The old card has run out: record it as expired before replacing it.
                cards::change_status(
                    tx,
                    old.id,
                    old.version,
                    CardStatus::Expired.as_str(),
                    Some("expires_at passed"),
                    None,
                    now,
                )
                .await?
                .ok_or_else(|| {
                    AppError::conflict(Code::ConcurrentChange, "the card changed meanwhile; retry")
                })?;
                expired_old = Some(old.id);
            }
            let issued = insert_card(tx, template).await?;
            let card = &issued.card;
            audit::record(
                tx,
                &actor,
                AuditEntry {
                    action: "card.issue",
                    entity_type: "card",
                    entity_id: card.id.to_string(),
                    region_code: Some(&beneficiary.region_code),
                    after_status: Some(CardStatus::Active.as_str()),
                    details: Some(serde_json::json!({"product": card.product,
                        "beneficiary_id": beneficiary.id, "card_no_last4": &card.card_no[12..]})),
                    ..Default::default()
                },
            )
            .await?;
            Ok::<_, AppError>((issued, expired_old))
        })
        .await?;
    if let Some(old) = expired_old {
        invalidate(cache, vec![keys::card(&old)]).await;
    }
    tracing::info!(card_id = %issued.card.id, "card issued");
    Ok(issued)
}

/// What cards an office lists by.
#[derive(Debug, Default)]
pub struct CardQuery {
    pub beneficiary_id: Option<BeneficiaryId>,
    /// As stored.
    pub status: Option<CardStatus>,
    /// Digits only.
    pub card_no: Option<String>,
}

/// Cards of beneficiaries in the caller's region.
pub async fn list(
    db: &Db,
    admin: &AdminUser,
    query: CardQuery,
    page: Page,
) -> AppResult<Listed<CardRow>> {
    admin.require(Operation::CardsRead)?;
    let filter = CardFilter {
        beneficiary_id: query.beneficiary_id,
        region_like: admin.region_like(),
        status: query.status.map(|s| s.as_str().to_owned()),
        card_no: query.card_no,
    };
    let mut pooled = db.get().await?;
    let (rows, total) =
        cards::list(&mut pooled.conn(), &filter, page.offset(), page.limit()).await?;
    Ok((
        rows.into_iter().map(|row| shown_to(admin, row)).collect(),
        total,
    ))
}

/// The card as `admin` may see it: whole card numbers for the deciders, masked for
/// everyone else (auditors).
fn shown_to(admin: &AdminUser, mut card: CardRow) -> CardRow {
    if !admin.sees_whole_card_numbers() {
        card.card_no = crate::domain::card_no::mask(&card.card_no);
    }
    card
}

/// A card and its beneficiary's region, if the caller covers it; 404 otherwise.
async fn load_card(
    conn: &mut Conn<'_>,
    admin: &AdminUser,
    id: CardId,
) -> AppResult<(CardRow, String)> {
    let not_found = || AppError::not_found(Code::CardNotFound, "no such card");
    let card = cards::find(conn, id).await?.ok_or_else(not_found)?;
    let beneficiary = db::beneficiaries::find(conn, card.beneficiary_id)
        .await?
        .ok_or_else(not_found)?;
    if admin.covers_code(&beneficiary.region_code) {
        Ok((card, beneficiary.region_code))
    } else {
        Err(not_found())
    }
}

/// One card.
pub async fn get(db: &Db, admin: &AdminUser, id: CardId) -> AppResult<CardRow> {
    admin.require(Operation::CardsRead)?;
    let mut pooled = db.get().await?;
    let card = load_card(&mut pooled.conn(), admin, id).await?.0;
    Ok(shown_to(admin, card))
}

/// Applies a card action in a transaction with its audit entry; a reissue also issues
/// the replacement. The changed card and, for a reissue, the new one.
pub async fn act(
    db: &Db,
    cache: &Cache,
    cipher: &DataCipher,
    admin: &AdminUser,
    id: CardId,
    action: CardAction,
    reason: String,
) -> AppResult<(CardRow, Option<IssuedCard>)> {
    admin.require(Operation::CardsWrite)?;
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let (card, region_code) = load_card(&mut conn, admin, id).await?;
    let now = db::now();
    let from = card.effective_status(now)?;
    let to = card_transition(from, action).ok_or_else(|| {
        AppError::conflict(
            Code::InvalidTransition,
            format!("cannot {action} a card that is {from}"),
        )
        .with("current_status", from.as_str())
    })?;
    let replacement = (action == CardAction::Reissue).then(|| {
        let years = ((card.expires_at - card.issued_at).num_days() / 365).clamp(1, 50) as i32;
        new_card(cipher, card.beneficiary_id, &card.product, years, now)
    });
    let actor = admin.actor();
    let result = conn
        .transaction(async |tx| {
            let replaced_by = replacement.as_ref().map(|issued| issued.card.id);
            // Revoke first (one live card per product), insert the replacement, then
            // link the two (the link is a foreign key to the new row).
            let mut changed = cards::change_status(
                tx,
                card.id,
                card.version,
                to.as_str(),
                Some(&reason),
                None,
                now,
            )
            .await?
            .ok_or_else(|| {
                AppError::conflict(
                    Code::ConcurrentChange,
                    "the card changed meanwhile; reload and retry",
                )
            })?;
            let audit_action = format!("card.{action}");
            audit::record(
                tx,
                &actor,
                AuditEntry {
                    action: &audit_action,
                    entity_type: "card",
                    entity_id: card.id.to_string(),
                    region_code: Some(&region_code),
                    before_status: Some(from.as_str()),
                    after_status: Some(to.as_str()),
                    reason: Some(&reason),
                    details: replaced_by.map(|r| serde_json::json!({"replaced_by": r})),
                },
            )
            .await?;
            let issued = match replacement {
                Some(template) => {
                    let issued = insert_card(tx, template).await?;
                    let new = &issued.card;
                    cards::set_replaced_by(tx, card.id, new.id).await?;
                    changed.replaced_by = Some(new.id);
                    audit::record(
                        tx,
                        &actor,
                        AuditEntry {
                            action: "card.issue",
                            entity_type: "card",
                            entity_id: new.id.to_string(),
                            region_code: Some(&region_code),
                            after_status: Some(CardStatus::Active.as_str()),
                            reason: Some(&reason),
                            details: Some(serde_json::json!({"product": new.product,
                                "replaces": card.id, "beneficiary_id": new.beneficiary_id,
                                "card_no_last4": &new.card_no[12..]})),
                            ..Default::default()
                        },
                    )
                    .await?;
                    Some(issued)
                }
                None => None,
            };
            Ok::<_, AppError>((changed, issued))
        })
        .await?;
    invalidate(cache, vec![keys::card(&card.id)]).await;
    tracing::info!(card_id = %card.id, action = action.as_str(), "card changed");
    Ok(result)
}
