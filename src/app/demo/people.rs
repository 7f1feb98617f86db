//! The demo's people and numbers, from fixed lists and a fixed seed: names, valid
//! GB 11643 ID numbers and 统一社会信用代码 (each with its check character), phones,
//! and the small random-number generator every choice of the demo is drawn from.

use crate::app::beneficiaries::{BeneficiaryInput, CreateBeneficiaryRequest};
use crate::domain::{credit_code, id_number};
use crate::error::{AppError, AppResult};

/// SplitMix64: a few lines, no crate, and the same world on every run.
pub struct Draw(u64);

impl Draw {
    pub fn new(seed: u64) -> Draw {
        Draw(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1).max(1) as u64) as i64
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const SURNAMES: [&str; 24] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗", "梁", "宋", "郑", "韩",
];
const GIVEN: [&str; 30] = [
    "建国", "卫东", "志强", "海军", "国庆", "秀英", "丽华", "建军", "红梅", "振华", "保国", "春生",
    "玉兰", "晓东", "立新", "桂英", "永胜", "明亮", "文军", "思源", "向阳", "卫国", "淑珍", "长征",
    "爱民", "德明", "翠英", "光荣", "凤霞", "拥军",
];

/// The beneficiaries' home offices: 沁水县 and two districts of 深圳.
pub const QINSHUI: &str = "140521";
pub const LUOHU: &str = "440303";
pub const FUTIAN: &str = "440304";

/// How many beneficiaries the demo registers.
pub const PEOPLE: usize = 300;

/// A valid 18-character ID number: region, date of birth, sequence, check character.
pub fn id_number(region: &str, birth: chrono::NaiveDate, seq: usize) -> AppResult<String> {
    let first17 = format!("{region}{}{:03}", birth.format("%Y%m%d"), seq % 1000);
    let check = id_number::check_character(&first17)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("demo ID number {seq}: bad body")))?;
    Ok(format!("{first17}{check}"))
}

/// A valid 统一社会信用代码 of an enterprise registered in `region` (the `n`th).
pub fn credit_code(region: &str, n: usize) -> AppResult<String> {
    let first17 = format!("91{region}MA5GC{n:04}");
    let check = credit_code::check_character(&first17)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("demo credit code {n}: bad body")))?;
    Ok(format!("{first17}{check}"))
}

/// A mobile number of the demo (13900000000 upwards, never a real pattern of anyone).
pub fn phone(n: usize) -> String {
    format!("139{:08}", 20_260_000 + n * 37)
}

/// Which office registers the `i`th person: 2 in 5 沁水县, 2 in 5 罗湖区, 1 in 5 福田区.
pub fn region_of(i: usize) -> &'static str {
    match i % 5 {
        0 | 1 => QINSHUI,
        2 | 3 => LUOHU,
        _ => FUTIAN,
    }
}

/// The `i`th beneficiary: a name, a valid ID number, a category and honours. Person 0
/// is the 沁水县 veteran whose card the demo prints.
pub fn person(i: usize) -> AppResult<BeneficiaryInput> {
    let region = region_of(i);
    let category = match i % 20 {
        0..=7 => "veteran",
        8..=10 => "active_duty",
        11..=14 => "military_family",
        15 => "disabled_veteran",
        16 => "martyr_family",
        17 => "civilian_personnel",
        18 => "illness_death_family",
        _ => "other_entitled",
    };
    let year = match category {
        "active_duty" | "civilian_personnel" => 1975 + (i * 7) % 25,
        _ => 1945 + (i * 7) % 50,
    } as i32;
    let birth =
        chrono::NaiveDate::from_ymd_opt(year, 1 + (i * 5 % 12) as u32, 1 + (i * 11 % 28) as u32)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("demo birth date {i}")))?;
    let honors: Vec<String> = match (i % 37, i % 13) {
        (0, _) if i > 0 => vec!["second_class_merit".into()],
        (_, 0) => vec!["third_class_merit".into()],
        _ if i == 111 => vec!["combat_hero".into(), "first_class_merit".into()],
        _ => Vec::new(),
    };
    let name = format!(
        "{}{}",
        SURNAMES[i % SURNAMES.len()],
        GIVEN[(i / SURNAMES.len() + i * 7) % GIVEN.len()]
    );
    let request = CreateBeneficiaryRequest {
        name: Some(name),
        id_number: Some(id_number(region, birth, i)?),
        phone: (i % 6 != 5).then(|| phone(i)),
        category: Some(category.into()),
        honors,
        region_code: Some(region.into()),
        primary_beneficiary_id: None,
        relation: None,
    };
    BeneficiaryInput::parse(&request).map_err(|errors| {
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        AppError::internal(anyhow::anyhow!(
            "demo beneficiary {i} is invalid: {}",
            fields.join(", ")
        ))
    })
}

/// The card products the `i`th person holds besides the general card.
pub fn extra_products(i: usize) -> Vec<&'static str> {
    let mut products = Vec::new();
    if i.is_multiple_of(4) {
        products.push("medical");
    }
    if region_of(i) != QINSHUI && i.is_multiple_of(3) {
        products.push("grain");
    }
    if i % 5 == 1 || i.is_multiple_of(7) {
        products.push("book");
    }
    products
}
