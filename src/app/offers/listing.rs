//! The offers a phone lists: active offers of active merchants, for anyone, or those a
//! holder may use now with the uses left for them.

use super::{remaining_for_holder, OfferRules};
use crate::app::identity::Holder;
use crate::app::merchants::directory::{run_search, DirectoryQuery, DirectorySearch};
use crate::app::Page;
use crate::db::merchants::MerchantRow;
use crate::db::offers::{self, OfferRow};
use crate::db::{self, Conn, Db, MerchantId};
use crate::domain::beneficiary::{Category, Honor};
use crate::domain::china_today;
use crate::domain::merchant::MerchantStatus;
use crate::error::{AppError, AppResult};
use crate::validate::Fields;
use serde::Deserialize;
use utoipa::IntoParams;

/// A listing query, as asked for.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
pub struct OfferQuery {
    /// Merchant category.
    pub category: Option<String>,
    /// Merchant region subtree.
    pub region: Option<String>,
    /// `lat,lng`: merchants within `radius_km` (default 10), nearest first.
    pub near: Option<String>,
    pub radius_km: Option<f64>,
    /// Only offers this beneficiary category may use.
    pub eligible_for: Option<String>,
    pub merchant_id: Option<MerchantId>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// One listed offer with its merchant.
#[derive(Debug)]
pub struct Listing {
    pub offer: OfferRow,
    pub merchant: MerchantRow,
    pub distance_km: Option<f64>,
    /// For a holder: uses left in the current period (`Some(None)`: no per-holder limit).
    pub remaining_for_holder: Option<Option<i64>>,
}

/// Whom a listing is for.
struct Viewer<'a> {
    category: Category,
    honors: &'a [Honor],
    product: &'a str,
}

/// Active offers of active merchants matching the query, in merchant order (nearest
/// first with `near`). Merchants are searched as in the directory (up to 500).
async fn matching(
    conn: &mut Conn<'_>,
    params: &OfferQuery,
    viewer: Option<&Viewer<'_>>,
) -> AppResult<(Vec<(OfferRow, OfferRules, MerchantRow, Option<f64>)>, Page)> {
    let mut f = Fields::new();
    let page = f.page(params.page, params.per_page);
    let eligible_for = f.optional_str("eligible_for", params.eligible_for.as_deref(), |raw| {
        Category::parse_any(raw).ok_or("is not a beneficiary category")
    });
    let (page, eligible_for) = f.finish((page, eligible_for))?;
    let directory = DirectoryQuery {
        category: params.category.clone(),
        region: params.region.clone(),
        near: params.near.clone(),
        radius_km: params.radius_km,
        page: Some(1),
        per_page: Some(100),
        ..Default::default()
    };
    let mut search = DirectorySearch::parse(conn, &directory).await?;
    let mut merchants: Vec<(MerchantRow, Option<f64>)> = Vec::new();
    if let Some(id) = params.merchant_id {
        if let Some(row) = db::merchants::find(conn, id).await? {
            if row.effective_status(china_today())? == MerchantStatus::Active {
                merchants.push((row, None));
            }
        }
    } else {
        for page_no in 1..=5 {
            search.page = Page {
                page: page_no,
                per_page: 100,
            };
            let (rows, total) = run_search(conn, &search).await?;
            let done = rows.len() < 100 || i64::from(page_no) * 100 >= total;
            merchants.extend(rows);
            if done {
                break;
            }
        }
    }
    let ids: Vec<MerchantId> = merchants.iter().map(|(m, _)| m.id).collect();
    let all_offers = offers::active_offers_of(conn, &ids).await?;
    let now = db::now();
    let mut rows = Vec::new();
    for (merchant, distance) in &merchants {
        for offer in all_offers.iter().filter(|o| o.merchant_id == merchant.id) {
            let rules = OfferRules::of(offer)?;
            if !rules.available_at(offer, now) {
                continue;
            }
            if let Some(category) = eligible_for {
                if !rules.categories.is_empty() && !rules.categories.contains(&category) {
                    continue;
                }
            }
            if let Some(viewer) = viewer {
                if !rules.eligible(viewer.category, viewer.honors, viewer.product) {
                    continue;
                }
            }
            rows.push((offer.clone(), rules, merchant.clone(), *distance));
        }
    }
    Ok((rows, page))
}

fn paged(
    rows: Vec<(OfferRow, OfferRules, MerchantRow, Option<f64>)>,
    page: Page,
    remaining: impl Fn(&OfferRow, &OfferRules) -> Option<Option<i64>>,
) -> (Vec<Listing>, i64) {
    let total = rows.len() as i64;
    let items = rows
        .into_iter()
        .skip(page.offset() as usize)
        .take(page.limit() as usize)
        .map(|(offer, rules, merchant, distance_km)| Listing {
            remaining_for_holder: remaining(&offer, &rules),
            offer,
            merchant,
            distance_km,
        })
        .collect();
    (items, total)
}

/// Active offers of active merchants, for anyone.
pub async fn public_offers(db: &Db, params: &OfferQuery) -> AppResult<((Vec<Listing>, i64), Page)> {
    let mut pooled = db.get().await?;
    let (rows, page) = matching(&mut pooled.conn(), params, None).await?;
    Ok((paged(rows, page, |_, _| None), page))
}

/// The offers this holder may use now, with the uses left for them.
pub async fn holder_offers(
    db: &Db,
    holder: &Holder,
    params: &OfferQuery,
) -> AppResult<((Vec<Listing>, i64), Page)> {
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let beneficiary = db::beneficiaries::find(&mut conn, holder.card.beneficiary_id)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("card without beneficiary")))?;
    let honors = beneficiary.honor_list()?;
    let viewer = Viewer {
        category: beneficiary.category()?,
        honors: &honors,
        product: &holder.card.product,
    };
    let (rows, page) = matching(&mut conn, params, Some(&viewer)).await?;
    let uses = offers::holder_uses(&mut conn, beneficiary.id).await?;
    let now = db::now();
    let listed = paged(rows, page, |offer, rules| {
        Some(remaining_for_holder(offer, rules, &uses, now))
    });
    Ok((listed, page))
}
