//! The row of the listing query, read by name: an offer's columns and its merchant's,
//! each prefixed (both tables have an `id`, a `status`, …), in one flat row.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::sql_types::{BigInt, Date, Double, Integer, Nullable, Text, Timestamp};

use crate::db::ids::DbUuid;
use crate::db::merchants::MerchantRow;
use crate::db::offers::OfferRow;
use crate::db::{MerchantId, OfferId};

/// One listed offer.
#[derive(Debug, Clone)]
pub struct Hit {
    pub offer: OfferRow,
    pub merchant: MerchantRow,
    /// The distance key of "near" (PostgreSQL: the chord on the unit sphere; SQLite:
    /// kilometres); 0 without it. What a `Cursor::Nearest` carries.
    pub order_key: f64,
    /// For a holder: uses counted in the offer's current period (`None`: none yet, or
    /// no per-holder period).
    pub used: Option<i32>,
    /// Rows in all, for `Window::Counted`.
    pub total: Option<i64>,
}

/// One row of the listing query, by name: the offer's columns (`o_`), the merchant's
/// (`m_`), the distance key, the holder's uses and the count.
#[derive(diesel::QueryableByName)]
pub(super) struct HitRow {
    #[diesel(sql_type = DbUuid)]
    o_id: OfferId,
    #[diesel(sql_type = DbUuid)]
    o_merchant_id: MerchantId,
    #[diesel(sql_type = Text)]
    o_title: String,
    #[diesel(sql_type = Text)]
    o_description: String,
    #[diesel(sql_type = Text)]
    o_kind: String,
    #[diesel(sql_type = Nullable<Integer>)]
    o_percent_off: Option<i32>,
    #[diesel(sql_type = Nullable<BigInt>)]
    o_amount_off_fen: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    o_price_fen: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    o_gift: Option<String>,
    #[diesel(sql_type = Text)]
    o_eligible_categories: String,
    #[diesel(sql_type = Nullable<Text>)]
    o_min_honor: Option<String>,
    #[diesel(sql_type = Integer)]
    o_companions_allowed: i32,
    #[diesel(sql_type = Timestamp)]
    o_valid_from: NaiveDateTime,
    #[diesel(sql_type = Nullable<Timestamp>)]
    o_valid_until: Option<NaiveDateTime>,
    #[diesel(sql_type = Text)]
    o_recurring_dates: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    o_total_quota: Option<i64>,
    #[diesel(sql_type = BigInt)]
    o_used_total: i64,
    #[diesel(sql_type = Nullable<Integer>)]
    o_per_holder_limit: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    o_per_holder_period: Option<String>,
    #[diesel(sql_type = Text)]
    o_channel: String,
    #[diesel(sql_type = Text)]
    o_card_products: String,
    #[diesel(sql_type = Text)]
    o_status: String,
    #[diesel(sql_type = Nullable<Text>)]
    o_status_reason: Option<String>,
    #[diesel(sql_type = Timestamp)]
    o_created_at: NaiveDateTime,
    #[diesel(sql_type = Timestamp)]
    o_updated_at: NaiveDateTime,
    #[diesel(sql_type = DbUuid)]
    m_id: MerchantId,
    #[diesel(sql_type = Text)]
    m_name: String,
    #[diesel(sql_type = Text)]
    m_kind: String,
    #[diesel(sql_type = Nullable<Text>)]
    m_credit_code: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    m_legal_representative: Option<String>,
    #[diesel(sql_type = Text)]
    m_contact_name: String,
    #[diesel(sql_type = Text)]
    m_contact_phone: String,
    #[diesel(sql_type = Text)]
    m_address: String,
    #[diesel(sql_type = Text)]
    m_region_code: String,
    #[diesel(sql_type = Text)]
    m_category: String,
    #[diesel(sql_type = Double)]
    m_latitude: f64,
    #[diesel(sql_type = Double)]
    m_longitude: f64,
    #[diesel(sql_type = Text)]
    m_services: String,
    #[diesel(sql_type = Text)]
    m_measures: String,
    #[diesel(sql_type = Text)]
    m_commitments: String,
    #[diesel(sql_type = Text)]
    m_emergency_capabilities: String,
    #[diesel(sql_type = Text)]
    m_status: String,
    #[diesel(sql_type = Nullable<Text>)]
    m_status_reason: Option<String>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    m_notice_ends_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Text>)]
    m_agreement_no: Option<String>,
    #[diesel(sql_type = Nullable<Date>)]
    m_agreement_start: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Date>)]
    m_agreement_end: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Text>)]
    m_badge_no: Option<String>,
    #[diesel(sql_type = Timestamp)]
    m_created_at: NaiveDateTime,
    #[diesel(sql_type = Timestamp)]
    m_updated_at: NaiveDateTime,
    #[diesel(sql_type = Nullable<Timestamp>)]
    m_admitted_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Text>)]
    m_exit_review_reason: Option<String>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    m_exit_review_flagged_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    m_exit_review_cleared_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Text)]
    m_emergency_commitment: String,
    #[diesel(sql_type = Double)]
    order_key: f64,
    #[diesel(sql_type = Nullable<Integer>)]
    used: Option<i32>,
    #[diesel(sql_type = Nullable<BigInt>)]
    total: Option<i64>,
}

impl From<HitRow> for Hit {
    fn from(r: HitRow) -> Hit {
        Hit {
            offer: OfferRow {
                id: r.o_id,
                merchant_id: r.o_merchant_id,
                title: r.o_title,
                description: r.o_description,
                kind: r.o_kind,
                percent_off: r.o_percent_off,
                amount_off_fen: r.o_amount_off_fen,
                price_fen: r.o_price_fen,
                gift: r.o_gift,
                eligible_categories: r.o_eligible_categories,
                min_honor: r.o_min_honor,
                companions_allowed: r.o_companions_allowed,
                valid_from: r.o_valid_from,
                valid_until: r.o_valid_until,
                recurring_dates: r.o_recurring_dates,
                total_quota: r.o_total_quota,
                used_total: r.o_used_total,
                per_holder_limit: r.o_per_holder_limit,
                per_holder_period: r.o_per_holder_period,
                channel: r.o_channel,
                card_products: r.o_card_products,
                status: r.o_status,
                status_reason: r.o_status_reason,
                created_at: r.o_created_at,
                updated_at: r.o_updated_at,
            },
            merchant: MerchantRow {
                id: r.m_id,
                name: r.m_name,
                kind: r.m_kind,
                credit_code: r.m_credit_code,
                legal_representative: r.m_legal_representative,
                contact_name: r.m_contact_name,
                contact_phone: r.m_contact_phone,
                address: r.m_address,
                region_code: r.m_region_code,
                category: r.m_category,
                latitude: r.m_latitude,
                longitude: r.m_longitude,
                services: r.m_services,
                measures: r.m_measures,
                commitments: r.m_commitments,
                emergency_capabilities: r.m_emergency_capabilities,
                status: r.m_status,
                status_reason: r.m_status_reason,
                notice_ends_at: r.m_notice_ends_at,
                agreement_no: r.m_agreement_no,
                agreement_start: r.m_agreement_start,
                agreement_end: r.m_agreement_end,
                badge_no: r.m_badge_no,
                created_at: r.m_created_at,
                updated_at: r.m_updated_at,
                admitted_at: r.m_admitted_at,
                exit_review_reason: r.m_exit_review_reason,
                exit_review_flagged_at: r.m_exit_review_flagged_at,
                exit_review_cleared_at: r.m_exit_review_cleared_at,
                emergency_commitment: r.m_emergency_commitment,
            },
            order_key: r.order_key,
            used: r.used,
            total: r.total,
        }
    }
}

/// The select list of [`HitRow`] (without the key, uses and count).
pub(super) const HIT_COLUMNS: &str = "offers.id AS o_id, offers.merchant_id AS o_merchant_id, offers.title AS o_title, offers.description AS o_description, offers.kind AS o_kind, offers.percent_off AS o_percent_off, offers.amount_off_fen AS o_amount_off_fen, offers.price_fen AS o_price_fen, offers.gift AS o_gift, offers.eligible_categories AS o_eligible_categories, offers.min_honor AS o_min_honor, offers.companions_allowed AS o_companions_allowed, offers.valid_from AS o_valid_from, offers.valid_until AS o_valid_until, offers.recurring_dates AS o_recurring_dates, offers.total_quota AS o_total_quota, offers.used_total AS o_used_total, offers.per_holder_limit AS o_per_holder_limit, offers.per_holder_period AS o_per_holder_period, offers.channel AS o_channel, offers.card_products AS o_card_products, offers.status AS o_status, offers.status_reason AS o_status_reason, offers.created_at AS o_created_at, offers.updated_at AS o_updated_at, merchants.id AS m_id, merchants.name AS m_name, merchants.kind AS m_kind, merchants.credit_code AS m_credit_code, merchants.legal_representative AS m_legal_representative, merchants.contact_name AS m_contact_name, merchants.contact_phone AS m_contact_phone, merchants.address AS m_address, merchants.region_code AS m_region_code, merchants.category AS m_category, merchants.latitude AS m_latitude, merchants.longitude AS m_longitude, merchants.services AS m_services, merchants.measures AS m_measures, merchants.commitments AS m_commitments, merchants.emergency_capabilities AS m_emergency_capabilities, merchants.status AS m_status, merchants.status_reason AS m_status_reason, merchants.notice_ends_at AS m_notice_ends_at, merchants.agreement_no AS m_agreement_no, merchants.agreement_start AS m_agreement_start, merchants.agreement_end AS m_agreement_end, merchants.badge_no AS m_badge_no, merchants.created_at AS m_created_at, merchants.updated_at AS m_updated_at, merchants.admitted_at AS m_admitted_at, merchants.exit_review_reason AS m_exit_review_reason, merchants.exit_review_flagged_at AS m_exit_review_flagged_at, merchants.exit_review_cleared_at AS m_exit_review_cleared_at, merchants.emergency_commitment AS m_emergency_commitment";
