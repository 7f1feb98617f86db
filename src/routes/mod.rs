//! HTTP handlers, one module per resource. Handlers are thin: they parse, check access,
//! call `db`/`domain`, and shape the answer.

pub mod admin_merchants;
pub mod audit;
pub mod auth;
pub mod beneficiaries;
pub mod cards;
pub mod complaints;
pub mod evaluation;
pub mod exports;
pub mod health;
pub mod holder;
pub mod inspections;
pub mod merchants;
pub mod offers;
pub mod pos;
pub mod regions;
pub mod stats;
pub mod users;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, FieldError};

/// `page` and `per_page` of every list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    /// 1-based page number. Default 1.
    pub page: Option<u32>,
    /// Items per page, 1 to 100. Default 20.
    pub per_page: Option<u32>,
}

#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub page: u32,
    pub per_page: u32,
}

impl PageQuery {
    pub fn resolve(&self) -> Result<Page, ApiError> {
        let mut errors = Vec::new();
        let page = self.page.unwrap_or(1);
        if page == 0 {
            errors.push(FieldError::new("page", "must be at least 1"));
        }
        let per_page = self.per_page.unwrap_or(20);
        if !(1..=100).contains(&per_page) {
            errors.push(FieldError::new("per_page", "must be between 1 and 100"));
        }
        if errors.is_empty() {
            Ok(Page { page, per_page })
        } else {
            Err(ApiError::validation(errors))
        }
    }
}

impl PageQuery {
    /// Like [`PageQuery::resolve`], but adds its errors to those of the other fields.
    pub fn collect(&self, errors: &mut Vec<FieldError>) -> Option<Page> {
        self.resolve().map_err(|e| errors.extend(e.errors)).ok()
    }
}

/// An optional `region` parameter (blank counts as absent), or its error in `errors`.
pub fn region_code_param(
    raw: Option<&str>,
    errors: &mut Vec<FieldError>,
) -> Option<crate::domain::RegionCode> {
    let raw = raw.map(str::trim).filter(|r| !r.is_empty())?;
    crate::domain::RegionCode::parse(raw)
        .map_err(|m| errors.push(FieldError::new("region", m)))
        .ok()
}

/// The `LIKE` pattern of an optional `region` query parameter (a subtree), or its error.
pub fn region_param(raw: Option<&str>, errors: &mut Vec<FieldError>) -> Option<String> {
    region_code_param(raw, errors).map(|code| code.like_pattern())
}

impl Page {
    pub fn offset(&self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.per_page)
    }

    pub fn limit(&self) -> i64 {
        i64::from(self.per_page)
    }

    pub fn wrap<T>(&self, items: Vec<T>, total: i64) -> Paged<T> {
        Paged {
            items,
            total,
            page: self.page,
            per_page: self.per_page,
        }
    }
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

/// RFC 3339 UTC rendering of a stored timestamp.
pub fn utc(time: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    time.and_utc()
}

/// Registers every `/api/v1` route; each handler carries its OpenAPI description.
pub fn api_v1(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    // The till's two calls first: the router tries resources in order and matches each
    // pattern with a path parameter by regex, so a route at the end of this list pays
    // for every pattern before it (9 % of a warm verification's CPU when it was there).
    cfg.service(pos::verify)
        .service(pos::redeem)
        .service(auth::login)
        .service(regions::list_regions)
        .service(regions::get_region)
        // the public directory
        .service(merchants::apply)
        .service(merchants::directory)
        .service(merchants::get_merchant)
        .service(merchants::public_notices)
        .service(merchants::file_objection)
        // admission and exit
        .service(admin_merchants::list_merchants)
        .service(admin_merchants::get_merchant)
        .service(admin_merchants::record_review)
        .service(admin_merchants::approve)
        .service(admin_merchants::reject)
        .service(admin_merchants::resolve_objection)
        .service(admin_merchants::activate)
        .service(admin_merchants::suspend)
        .service(admin_merchants::reinstate)
        .service(admin_merchants::revoke)
        .service(admin_merchants::create_staff)
        .service(admin_merchants::emergency_roster)
        .service(audit::audit_log)
        // beneficiaries and cards
        .service(beneficiaries::import)
        .service(beneficiaries::create)
        .service(beneficiaries::list)
        .service(beneficiaries::get)
        .service(beneficiaries::update)
        .service(cards::list_products)
        .service(cards::create_product)
        .service(cards::issue)
        .service(cards::list)
        .service(cards::get)
        .service(cards::suspend)
        .service(cards::reinstate)
        .service(cards::revoke)
        .service(cards::reissue)
        // holders
        .service(holder::activate)
        .service(holder::refresh)
        .service(holder::holder_card)
        // offers and the point of sale
        .service(offers::create)
        .service(offers::list_own)
        .service(offers::update)
        .service(offers::pause)
        .service(offers::resume)
        .service(offers::end)
        .service(offers::approve)
        .service(offers::reject)
        .service(offers::public_list)
        .service(offers::holder_list)
        .service(pos::create_terminal)
        .service(pos::list_terminals)
        .service(pos::delete_terminal)
        .service(pos::card_qr)
        .service(pos::void)
        .service(pos::merchant_redemptions)
        .service(pos::holder_redemptions)
        .service(pos::revocations)
        // oversight
        .service(stats::stats)
        .service(exports::export)
        .service(complaints::file_complaint)
        .service(complaints::list_complaints)
        .service(complaints::resolve_complaint)
        .service(admin_merchants::exit_review)
        .service(evaluation::evaluation)
        .service(inspections::create_inspection)
        .service(inspections::list_inspections)
        .service(inspections::get_inspection)
        .service(inspections::record_results)
        // staff accounts
        .service(users::create_user)
        .service(users::list_users)
        .service(users::get_user);
}

/// Routes outside `/api/v1`: operations and the contract.
pub fn root(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(health::metrics)
        .service(health::openapi_yaml)
        .service(pos::jwks);
}

/// A `YYYY-MM-DD` query parameter (China calendar day); blank is absent. Years outside
/// 2000–2199 are refused, so no range can reach past what the data can hold.
pub fn date_param(
    errors: &mut Vec<FieldError>,
    field: &str,
    raw: Option<&str>,
) -> Option<chrono::NaiveDate> {
    use chrono::Datelike;
    let raw = raw.map(str::trim).filter(|r| !r.is_empty())?;
    match chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        Ok(d) if (2000..=2199).contains(&d.year()) => Some(d),
        Ok(_) => {
            errors.push(FieldError::new(field, "must lie between 2000 and 2199"));
            None
        }
        Err(_) => {
            errors.push(FieldError::new(field, "must be a date, YYYY-MM-DD"));
            None
        }
    }
}
