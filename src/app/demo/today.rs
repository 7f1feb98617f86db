//! Today, through the till's and the office's own use cases: sales redeemed from live
//! QR tokens (`app::pos::redeem`), one voided by the partner's staff, holders'
//! complaints (three against one partner, which flags it for exit review), one
//! resolved, and a spot check (抽查) with its first results.

use super::partners::Partner;
use super::people::{Draw, QINSHUI};
use super::registry::Registry;
use super::{DemoContext, Offices};
use crate::app::identity::Holder;
use crate::app::offers::OfferRules;
use crate::app::oversight::complaints::{self, NewComplaint};
use crate::app::oversight::inspections::{self, SpotResult};
use crate::app::pos::redeem::{self, Receipt, RedeemRequest};
use crate::app::pos::{self, PointOfSale};
use crate::db::offers::OfferRow;
use crate::db::RedemptionId;
use crate::domain::offer::OfferKind;
use crate::domain::oversight::{ComplaintOutcome, InspectionOutcome};
use crate::domain::RegionCode;
use crate::error::{AppError, AppResult};

/// What today brought.
pub struct Today {
    pub sales: usize,
    pub complaints: usize,
}

/// Redeems `offer` at `partner` for person `i` from a fresh QR token of the card the
/// offer asks for; `None` when the person cannot have it (no such card, not eligible,
/// limit reached: the till's refusal).
async fn sell(
    ctx: &DemoContext<'_>,
    partner: &Partner,
    offer: &OfferRow,
    registry: &Registry,
    i: usize,
    draw: &mut Draw,
) -> AppResult<Option<RedemptionId>> {
    let (Some((terminal, _)), Some(person)) = (&partner.terminal, registry.people.get(i)) else {
        return Ok(None);
    };
    let rules = OfferRules::of(offer)?;
    let product = rules
        .card_products
        .first()
        .map_or("general", String::as_str);
    let Some(card) = person.card(product) else {
        return Ok(None);
    };
    if !rules.eligible(person.category, &person.honors, &card.product) {
        return Ok(None);
    }
    let holder = Holder { card: card.clone() };
    let (token, _) = pos::card_qr(ctx.qr, ctx.policy.qr_ttl_secs, &holder)?;
    let bill_fen = match rules.terms.kind {
        OfferKind::PercentOff | OfferKind::FixedPrice => Some(draw.between(40, 400) * 100),
        OfferKind::AmountOff => Some(draw.between(200, 400) * 100),
        _ => None,
    };
    let request = RedeemRequest {
        token,
        offer_id: offer.id,
        bill_fen,
        companions: Some(0),
        verified_offline_at: None,
    };
    let pos = PointOfSale {
        db: ctx.db,
        cache: ctx.cache,
        qr: ctx.qr,
        local: ctx.local,
        queue: ctx.queue,
        qr_ttl_secs: ctx.policy.qr_ttl_secs,
        offline_max_age_hours: ctx.policy.offline_max_age_hours,
        max_bill_fen: ctx.policy.max_bill_fen,
    };
    let key = format!("demo-today-{}-{}-{i}", partner.n, offer.id);
    let answer = redeem::redeem(&pos, terminal, &key, &request).await?;
    if answer.status != 201 {
        return Ok(None);
    }
    let receipt: Receipt = serde_json::from_str(&answer.body).map_err(AppError::internal)?;
    Ok(Some(receipt.id))
}

/// `count` sales of `partner`'s first offer, to people from `from` on who can have it:
/// `(person, redemption)`.
async fn sales(
    ctx: &DemoContext<'_>,
    partner: &Partner,
    registry: &Registry,
    from: usize,
    count: usize,
    draw: &mut Draw,
) -> AppResult<Vec<(usize, RedemptionId)>> {
    let mut sold = Vec::new();
    let Some(offer) = partner.offers.first() else {
        return Ok(sold);
    };
    for i in (from..registry.people.len()).chain(0..from) {
        if sold.len() == count {
            break;
        }
        if let Some(id) = sell(ctx, partner, offer, registry, i, draw).await? {
            sold.push((i, id));
        }
    }
    Ok(sold)
}

/// Today's sales, a void, complaints and a spot check.
pub async fn happen(
    ctx: &DemoContext<'_>,
    offices: &Offices,
    partners: &[Partner],
    registry: &Registry,
    draw: &mut Draw,
) -> AppResult<Today> {
    let by_name = |name: &str| partners.iter().find(|p| p.name == name);
    let mut today = Today {
        sales: 0,
        complaints: 0,
    };
    // The featured pharmacy: sales, one voided at once, one complained about.
    if let Some(pharmacy) = partners.first() {
        let sold = sales(ctx, pharmacy, registry, 2, 8, draw).await?;
        today.sales += sold.len();
        if let (Some(staff), Some((_, first))) = (&pharmacy.staff, sold.first()) {
            let reason = "顾客取消购买".to_string();
            redeem::void(ctx.db, ctx.cache, staff, *first, reason).await?;
        }
        if let Some((person, id)) = sold.get(3) {
            let complaint = complain(
                ctx,
                registry,
                pharmacy,
                *person,
                *id,
                3,
                "店员未主动告知同行家属可同享优惠",
            )
            .await?;
            let comment = "已调解，商户向持卡人致歉并补足优惠".to_string();
            complaints::resolve(
                ctx.db,
                &offices.shenzhen,
                complaint,
                ComplaintOutcome::Mediated,
                comment,
            )
            .await?;
            today.complaints += 1;
        }
    }
    // Three holders complain about one partner: it is flagged for exit review (退出复核).
    if let Some(unicom) = by_name("中国联通罗湖拥军营业厅") {
        let sold = sales(ctx, unicom, registry, 40, 3, draw).await?;
        today.sales += sold.len();
        let grievances = [
            (1, "出示优待卡后店员拒绝给予九折优惠"),
            (2, "要求先办理套餐才给优惠，与公示不符"),
            (2, "优惠窗口长期无人，排队半小时"),
        ];
        for ((person, id), (rating, content)) in sold.iter().zip(grievances) {
            complain(ctx, registry, unicom, *person, *id, rating, content).await?;
            today.complaints += 1;
        }
    }
    // A few priority services (绿色通道), in 深圳 and in 沁水县.
    for name in [
        "罗湖区人民医院拥军门诊",
        "沁水县人民医院",
        "深圳航空拥军服务中心",
    ] {
        let Some(partner) = by_name(name) else {
            continue;
        };
        let from = if partner.region == QINSHUI { 5 } else { 7 };
        if let Some(offer) = partner.offers.iter().find(|o| o.kind == "priority_service") {
            for i in (from..registry.people.len()).step_by(10).take(3) {
                if sell(ctx, partner, offer, registry, i, draw)
                    .await?
                    .is_some()
                {
                    today.sales += 1;
                }
            }
        }
    }
    spot_check(ctx, offices).await?;
    Ok(today)
}

async fn complain(
    ctx: &DemoContext<'_>,
    registry: &Registry,
    partner: &Partner,
    person: usize,
    redemption: RedemptionId,
    rating: i32,
    content: &str,
) -> AppResult<crate::db::complaints::ComplaintId> {
    let card = registry
        .people
        .get(person)
        .and_then(|p| p.card("general"))
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("demo complaint without a card")))?;
    let holder = Holder { card: card.clone() };
    let complaint = NewComplaint {
        merchant_id: partner.id,
        redemption_id: Some(redemption),
        rating,
        content: content.into(),
    };
    let (row, _) = complaints::file(ctx.db, &ctx.policy.exit_review, &holder, complaint).await?;
    Ok(row.id)
}

/// A spot check of 深圳市's active partners, two results recorded (one non-compliant,
/// which flags that partner for exit review), the rest still to visit.
async fn spot_check(ctx: &DemoContext<'_>, offices: &Offices) -> AppResult<()> {
    let region = RegionCode::parse("440300").map_err(|m| AppError::internal(anyhow::anyhow!(m)))?;
    let record =
        inspections::create(ctx.db, &offices.shenzhen, region, 6, Some(20_261_201)).await?;
    let mut results = Vec::new();
    for (sampled, (outcome, notes)) in record.items.iter().zip([
        (InspectionOutcome::Compliant, "优待标识醒目，执行到位"),
        (InspectionOutcome::NonCompliant, "未设置拥军优先窗口"),
    ]) {
        results.push(SpotResult {
            merchant_id: sampled.item.merchant_id,
            outcome,
            notes: Some(notes.into()),
        });
    }
    inspections::record_results(ctx.db, &offices.shenzhen, record.inspection.id, results).await?;
    Ok(())
}
