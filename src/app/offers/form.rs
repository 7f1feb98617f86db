//! An offer as merchant staff write it: the fields of a new offer, or the changed
//! fields of an existing one, merged into the stored row and checked as a whole.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::db::offers::OfferRow;
use crate::db::stored::join_list;
use crate::db::{self, Conn};
use crate::domain::beneficiary::{Category, Honor};
use crate::domain::offer::{self as rules, Channel, HolderPeriod, OfferKind, OfferTerms};
use crate::error::AppResult;
use crate::validate::{parse_vocab, Fields};

/// A new offer, or the changes to one (absent fields stay as they are).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(example = json!({"title": "八一专享：就餐八折", "description": "现役军人及家属凭卡就餐八折", "kind": "percent_off",
    "percent_off": 20, "eligible_categories": ["active_duty", "military_family"], "companions_allowed": 2,
    "valid_from": "2026-07-01T00:00:00Z", "valid_until": "2026-12-31T16:00:00Z", "recurring_dates": ["08-01"],
    "total_quota": 500, "per_holder_limit": 1, "per_holder_period": "year", "channel": "in_store"}))]
pub struct OfferRequest {
    pub title: Option<String>,
    pub description: Option<String>,
    /// percent_off, amount_off, fixed_price, free, priority_service (绿色通道) or gift.
    pub kind: Option<String>,
    pub percent_off: Option<i32>,
    pub amount_off_fen: Option<i64>,
    pub price_fen: Option<i64>,
    pub gift: Option<String>,
    pub eligible_categories: Option<Vec<String>>,
    pub min_honor: Option<String>,
    pub companions_allowed: Option<i32>,
    pub valid_from: Option<chrono::DateTime<chrono::Utc>>,
    pub valid_until: Option<chrono::DateTime<chrono::Utc>>,
    pub recurring_dates: Option<Vec<String>>,
    pub total_quota: Option<i64>,
    pub per_holder_limit: Option<i32>,
    /// day, week, month, year or lifetime.
    pub per_holder_period: Option<String>,
    /// in_store (default) or online.
    pub channel: Option<String>,
    pub card_products: Option<Vec<String>>,
}

impl OfferRequest {
    /// Whether any field changes what a holder gets (back to review if so).
    pub fn is_material(&self) -> bool {
        let fields = [
            ("kind", self.kind.is_some()),
            ("percent_off", self.percent_off.is_some()),
            ("amount_off_fen", self.amount_off_fen.is_some()),
            ("price_fen", self.price_fen.is_some()),
            ("gift", self.gift.is_some()),
            ("eligible_categories", self.eligible_categories.is_some()),
            ("min_honor", self.min_honor.is_some()),
            ("companions_allowed", self.companions_allowed.is_some()),
            ("valid_from", self.valid_from.is_some()),
            ("valid_until", self.valid_until.is_some()),
            ("recurring_dates", self.recurring_dates.is_some()),
            ("total_quota", self.total_quota.is_some()),
            ("per_holder_limit", self.per_holder_limit.is_some()),
            ("per_holder_period", self.per_holder_period.is_some()),
            ("channel", self.channel.is_some()),
            ("card_products", self.card_products.is_some()),
        ];
        fields
            .iter()
            .any(|(field, present)| *present && rules::is_material_change(field))
    }

    /// Merges this request into `row` and checks the offer that results, every bad
    /// field reported at once.
    pub(crate) async fn apply(&self, conn: &mut Conn<'_>, row: &mut OfferRow) -> AppResult<()> {
        let mut f = Fields::new();
        let title = self.title.as_deref().or(Some(&row.title));
        if let Some(title) = f.text("title", title, 100) {
            row.title = title;
        }
        let description = self.description.as_deref().or(Some(&row.description));
        row.description = f
            .optional_free_text("description", description, 2000)
            .flatten()
            .unwrap_or_default();
        let kind = f.check::<OfferKind, _>(
            "kind",
            parse_vocab(self.kind.as_deref().unwrap_or(&row.kind)),
        );
        if self.kind.is_some() {
            // A new kind starts from its own terms only.
            row.percent_off = None;
            row.amount_off_fen = None;
            row.price_fen = None;
            row.gift = None;
        }
        if self.percent_off.is_some() {
            row.percent_off = self.percent_off;
        }
        if self.amount_off_fen.is_some() {
            row.amount_off_fen = self.amount_off_fen;
        }
        if self.price_fen.is_some() {
            row.price_fen = self.price_fen;
        }
        if self.gift.is_some() {
            row.gift = self.gift.clone();
        }
        if let Some(kind) = kind {
            row.kind = kind.as_str().to_owned();
            let terms = OfferTerms {
                kind,
                percent_off: row.percent_off,
                amount_off_fen: row.amount_off_fen,
                price_fen: row.price_fen,
                gift: row.gift.clone(),
            };
            for (field, message) in rules::check_terms(&terms) {
                f.error(field, message);
            }
        }
        if let Some(categories) = &self.eligible_categories {
            let parsed = f.list("eligible_categories", categories, |raw| {
                Category::parse_any(raw).ok_or("is not a beneficiary category")
            });
            if let Some(parsed) = parsed {
                let names: Vec<&str> = parsed.iter().map(|c| c.as_str()).collect();
                row.eligible_categories = join_list(&names);
            }
        }
        if let Some(raw) = &self.min_honor {
            match Honor::parse_any(raw) {
                Some(h) => row.min_honor = Some(h.as_str().to_owned()),
                None if raw.trim().is_empty() => row.min_honor = None,
                None => f.error("min_honor", "is not an honour"),
            }
        }
        if let Some(n) = self.companions_allowed {
            if !(0..=10).contains(&n) {
                f.error("companions_allowed", "must be between 0 and 10");
            }
            row.companions_allowed = n;
        }
        let from_ok = f.service_years("valid_from", self.valid_from.as_ref());
        let until_ok = f.service_years("valid_until", self.valid_until.as_ref());
        if let Some(from) = self.valid_from.filter(|_| from_ok) {
            row.valid_from = from.naive_utc();
        }
        if self.valid_until.is_some() && until_ok {
            row.valid_until = self.valid_until.map(|u| u.naive_utc());
        }
        if row.valid_until.is_some_and(|until| until <= row.valid_from) {
            f.error("valid_until", "must be after valid_from");
        }
        if let Some(dates) = &self.recurring_dates {
            if let Some(parsed) =
                f.list("recurring_dates", dates, |raw| rules::parse_month_day(raw))
            {
                row.recurring_dates = join_list(&parsed);
            }
        }
        if self.total_quota.is_some() {
            row.total_quota = self.total_quota;
        }
        if row.total_quota.is_some_and(|q| q < 1 || q < row.used_total) {
            f.error(
                "total_quota",
                "must be at least 1 and not below what is used",
            );
        }
        if self.per_holder_limit.is_some() {
            row.per_holder_limit = self.per_holder_limit;
        }
        if let Some(raw) = &self.per_holder_period {
            if let Some(p) = f.check::<HolderPeriod, _>("per_holder_period", parse_vocab(raw)) {
                row.per_holder_period = Some(p.as_str().to_owned());
            }
        }
        match (row.per_holder_limit, &row.per_holder_period) {
            (Some(limit), _) if limit < 1 => f.error("per_holder_limit", "must be at least 1"),
            (Some(_), None) => f.error("per_holder_period", "is required with per_holder_limit"),
            _ => {}
        }
        if let Some(raw) = &self.channel {
            if let Some(c) = f.check::<Channel, _>("channel", parse_vocab(raw)) {
                row.channel = c.as_str().to_owned();
            }
        }
        if let Some(products) = &self.card_products {
            let known: Vec<String> = db::cards::products(conn)
                .await?
                .into_iter()
                .map(|p| p.code)
                .collect();
            let parsed = f.list("card_products", products, |raw| {
                known
                    .iter()
                    .find(|k| *k == raw.trim())
                    .ok_or("is not a card product")
            });
            if let Some(parsed) = parsed {
                row.card_products = join_list(&parsed);
            }
        }
        f.finish(Some(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Vocabulary;

    #[test]
    fn material_fields_send_an_offer_back_to_review_and_titles_do_not() {
        let blank = OfferRequest {
            title: None,
            description: None,
            kind: None,
            percent_off: None,
            amount_off_fen: None,
            price_fen: None,
            gift: None,
            eligible_categories: None,
            min_honor: None,
            companions_allowed: None,
            valid_from: None,
            valid_until: None,
            recurring_dates: None,
            total_quota: None,
            per_holder_limit: None,
            per_holder_period: None,
            channel: None,
            card_products: None,
        };
        let retitled = OfferRequest {
            title: Some("新标题".into()),
            description: Some("新说明".into()),
            ..blank.clone()
        };
        assert!(!retitled.is_material());
        let cheaper = OfferRequest {
            percent_off: Some(30),
            ..blank
        };
        assert!(cheaper.is_material());
        assert_eq!(Channel::one_of(), "must be in_store or online");
    }
}
