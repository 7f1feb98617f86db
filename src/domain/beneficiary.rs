//! Beneficiaries (优抚对象): categories, honours, and the rules of their cards.

vocabulary! {
    /// Who a beneficiary is (优抚对象类别).
    pub enum Category: "a beneficiary category" {
        /// 现役军人
        ActiveDuty => "active_duty",
        /// 军队文职人员
        CivilianPersonnel => "civilian_personnel",
        /// 军属
        MilitaryFamily => "military_family",
        /// 退役军人
        Veteran => "veteran",
        /// 残疾军人
        DisabledVeteran => "disabled_veteran",
        /// 烈士遗属
        MartyrFamily => "martyr_family",
        /// 因公牺牲军人遗属
        DutyDeathFamily => "duty_death_family",
        /// 病故军人遗属
        IllnessDeathFamily => "illness_death_family",
        /// 其他优抚对象
        OtherEntitled => "other_entitled",
    }
}

impl Category {
    pub fn chinese(self) -> &'static str {
        match self {
            Category::ActiveDuty => "现役军人",
            Category::CivilianPersonnel => "军队文职人员",
            Category::MilitaryFamily => "军属",
            Category::Veteran => "退役军人",
            Category::DisabledVeteran => "残疾军人",
            Category::MartyrFamily => "烈士遗属",
            Category::DutyDeathFamily => "因公牺牲军人遗属",
            Category::IllnessDeathFamily => "病故军人遗属",
            Category::OtherEntitled => "其他优抚对象",
        }
    }

    /// The code or the Chinese name (as office spreadsheets write it).
    pub fn parse_any(raw: &str) -> Option<Category> {
        let raw = raw.trim();
        Category::parse(raw).or_else(|| Category::ALL.into_iter().find(|c| c.chinese() == raw))
    }

    /// Family categories, which may link to the primary beneficiary.
    pub fn is_family(self) -> bool {
        matches!(
            self,
            Category::MilitaryFamily
                | Category::MartyrFamily
                | Category::DutyDeathFamily
                | Category::IllnessDeathFamily
        )
    }
}

vocabulary! {
    /// Honours (荣誉), from the highest.
    pub enum Honor: "an honour" {
        /// 战斗英雄
        CombatHero => "combat_hero",
        /// 一等功
        FirstClassMerit => "first_class_merit",
        /// 二等功
        SecondClassMerit => "second_class_merit",
        /// 三等功
        ThirdClassMerit => "third_class_merit",
    }
}

impl Honor {
    pub fn chinese(self) -> &'static str {
        match self {
            Honor::CombatHero => "战斗英雄",
            Honor::FirstClassMerit => "一等功",
            Honor::SecondClassMerit => "二等功",
            Honor::ThirdClassMerit => "三等功",
        }
    }

    pub fn parse_any(raw: &str) -> Option<Honor> {
        let raw = raw.trim();
        Honor::parse(raw).or_else(|| Honor::ALL.into_iter().find(|h| h.chinese() == raw))
    }

    /// 4 for a combat hero down to 1 for third-class merit: "third_class_merit or
    /// higher" is `rank() >= 1`.
    pub fn rank(self) -> u8 {
        match self {
            Honor::CombatHero => 4,
            Honor::FirstClassMerit => 3,
            Honor::SecondClassMerit => 2,
            Honor::ThirdClassMerit => 1,
        }
    }
}

/// Parses honours given as a list, or as one text split on `,` `，` `、` `;` `|`
/// (spreadsheets), in either language; duplicates collapse, order follows rank.
pub fn parse_honors<S: AsRef<str>>(items: &[S]) -> Result<Vec<Honor>, String> {
    let mut honors = Vec::new();
    for item in items {
        for part in item
            .as_ref()
            .split([',', '，', '、', ';', '|'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let honor = Honor::parse_any(part).ok_or_else(|| {
                format!(
                    "unknown honour {part:?}: use {}",
                    Honor::ALL.map(|h| h.as_str()).join(", ")
                )
            })?;
            if !honors.contains(&honor) {
                honors.push(honor);
            }
        }
    }
    honors.sort_by_key(|h| std::cmp::Reverse(h.rank()));
    Ok(honors)
}

vocabulary! {
    /// A card's status. `expired` is also read from `expires_at` without anyone acting.
    pub enum CardStatus: "a card status" {
        Active => "active",
        Suspended => "suspended",
        Revoked => "revoked",
        Expired => "expired",
    }
}

vocabulary! {
    /// What an office does to a card.
    pub enum CardAction: "a card action" {
        Suspend => "suspend",
        Reinstate => "reinstate",
        Revoke => "revoke",
        Reissue => "reissue",
    }
}

/// The status a card action leads to, or `None` when it is not allowed from `from`.
/// A reissue revokes the old card (a new one is issued beside it).
pub fn card_transition(from: CardStatus, action: CardAction) -> Option<CardStatus> {
    use CardAction::*;
    use CardStatus::*;
    match (from, action) {
        (Active, Suspend) => Some(Suspended),
        (Suspended, Reinstate) => Some(Active),
        (Active | Suspended | Expired, Revoke) => Some(Revoked),
        (Active | Suspended | Expired, Reissue) => Some(Revoked),
        _ => None,
    }
}

/// A masked name for cashiers: the surname and the last character (张*明, 李*).
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => chars[0].to_string(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_in_both_languages() {
        assert_eq!(Category::parse_any("veteran"), Some(Category::Veteran));
        assert_eq!(Category::parse_any(" 退役军人 "), Some(Category::Veteran));
        assert_eq!(
            Category::parse_any("烈士遗属"),
            Some(Category::MartyrFamily)
        );
        assert_eq!(Category::parse_any("soldier"), None);
        assert!(Category::MilitaryFamily.is_family());
        assert!(!Category::Veteran.is_family());
        for c in Category::ALL {
            assert_eq!(Category::parse_any(c.chinese()), Some(c));
        }
    }

    #[test]
    fn honours_parse_and_rank() {
        assert_eq!(
            parse_honors(&["三等功、战斗英雄", "third_class_merit"]).unwrap(),
            vec![Honor::CombatHero, Honor::ThirdClassMerit]
        );
        assert_eq!(parse_honors::<&str>(&[]).unwrap(), vec![]);
        assert!(parse_honors(&["五等功"]).is_err());
        assert!(Honor::CombatHero.rank() > Honor::FirstClassMerit.rank());
        assert!(Honor::SecondClassMerit.rank() > Honor::ThirdClassMerit.rank());
    }

    #[test]
    fn card_transitions() {
        use CardAction::*;
        use CardStatus::*;
        let legal = [
            (Active, Suspend, Suspended),
            (Suspended, Reinstate, Active),
            (Active, Revoke, Revoked),
            (Suspended, Revoke, Revoked),
            (Expired, Revoke, Revoked),
            (Active, Reissue, Revoked),
            (Suspended, Reissue, Revoked),
            (Expired, Reissue, Revoked),
        ];
        for from in CardStatus::ALL {
            for action in CardAction::ALL {
                let expected = legal
                    .iter()
                    .find(|(f, a, _)| *f == from && *a == action)
                    .map(|(_, _, t)| *t);
                assert_eq!(card_transition(from, action), expected, "{from} {action}");
            }
        }
    }

    #[test]
    fn names_are_masked_for_cashiers() {
        assert_eq!(mask_name("张三明"), "张*明");
        assert_eq!(mask_name("李四"), "李*");
        assert_eq!(mask_name("欧阳娜娜"), "欧**娜");
        assert_eq!(mask_name("王"), "王");
        assert_eq!(mask_name(""), "");
    }
}
