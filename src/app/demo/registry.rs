//! The demo's beneficiaries and their cards, registered and issued by the offices'
//! own use cases (each audited as `beneficiary.create` and `card.issue`), and a few
//! later changes to cards (挂失, 注销, 补办).

use super::people::{extra_products, person, PEOPLE};
use super::{DemoContext, Offices};
use crate::app::beneficiaries;
use crate::app::cards::{self, IssuedCard};
use crate::db::beneficiaries::BeneficiaryRow;
use crate::db::cards::CardRow;
use crate::domain::beneficiary::{CardAction, Category, Honor};
use crate::error::AppResult;

/// One registered person and their live cards.
pub struct Person {
    pub row: BeneficiaryRow,
    pub category: Category,
    pub honors: Vec<Honor>,
    /// Live cards, the general card first.
    pub cards: Vec<CardRow>,
}

impl Person {
    /// The person's live card of `product`.
    pub fn card(&self, product: &str) -> Option<&CardRow> {
        self.cards.iter().find(|c| c.product == product)
    }
}

/// Everyone registered, and the card the demo prints (never activated).
pub struct Registry {
    pub people: Vec<Person>,
    pub demo_card: IssuedCard,
}

/// Registers [`PEOPLE`] beneficiaries, each by the office of their region, and issues
/// each a general card and the products [`extra_products`] names.
pub async fn register(ctx: &DemoContext<'_>, offices: &Offices) -> AppResult<Registry> {
    let mut people = Vec::with_capacity(PEOPLE);
    let mut demo_card = None;
    for i in 0..PEOPLE {
        let input = person(i)?;
        let office = offices.office_for(input.region.as_str());
        let (category, honors) = (input.category, input.honors.clone());
        let row = beneficiaries::create(ctx.db, ctx.cipher, office, input).await?;
        let mut issued_cards = Vec::new();
        for product in std::iter::once("general").chain(extra_products(i)) {
            let issued =
                cards::issue(ctx.db, ctx.cache, ctx.cipher, office, row.id, product, None).await?;
            issued_cards.push(issued.card.clone());
            if i == 0 && product == "general" {
                demo_card = Some(issued);
            }
        }
        people.push(Person {
            row,
            category,
            honors,
            cards: issued_cards,
        });
    }
    let demo_card = demo_card.ok_or_else(|| {
        crate::error::AppError::internal(anyhow::anyhow!("the demo card was not issued"))
    })?;
    Ok(Registry { people, demo_card })
}

/// A holder reports a card lost (挂失, suspended), one is revoked, one reissued (补办):
/// the card list shows every status, and the revocation feed has entries.
pub async fn change_cards(
    ctx: &DemoContext<'_>,
    offices: &Offices,
    registry: &mut Registry,
) -> AppResult<()> {
    let changes = [
        (17, CardAction::Suspend, "持卡人挂失"),
        (42, CardAction::Suspend, "持卡人挂失"),
        (23, CardAction::Revoke, "优抚对象身份变更，予以注销"),
        (29, CardAction::Reissue, "卡片损坏，补办新卡"),
    ];
    for (i, action, reason) in changes {
        let Some(person) = registry.people.get_mut(i) else {
            continue;
        };
        let Some(card) = person.card("general").cloned() else {
            continue;
        };
        let office = offices.office_for(&person.row.region_code);
        let (db, cache, cipher) = (ctx.db, ctx.cache, ctx.cipher);
        let (changed, reissued) =
            cards::act(db, cache, cipher, office, card.id, action, reason.into()).await?;
        person.cards.retain(|c| c.id != changed.id);
        if let Some(new) = reissued {
            person.cards.insert(0, new.card);
        }
    }
    Ok(())
}
