//! The figures of `GET /admin/stats` as tables, one per sheet (the stats export).

use super::labels::*;
use super::model::{Cell, Table};
use crate::app::stats::{self, Stats};

/// Turns a stored code into what a table shows.
type Label = fn(&str) -> &str;

fn count_rows(rows: &[stats::Count], label: Label) -> Vec<Vec<Cell>> {
    rows.iter()
        .map(|c| vec![Cell::text(label(&c.key)), Cell::Int(c.count)])
        .collect()
}

fn sum_rows(rows: &[stats::Sum], label: Label) -> Vec<Vec<Cell>> {
    rows.iter()
        .map(|s| {
            vec![
                Cell::text(label(&s.key)),
                Cell::Int(s.count),
                Cell::Yuan(s.discount_fen),
            ]
        })
        .collect()
}

fn same(code: &str) -> &str {
    code
}

/// The figures as tables, one per sheet.
pub fn stats_tables(s: &Stats) -> Vec<(Table, Vec<Vec<Cell>>)> {
    let r = &s.redemptions;
    let mut tables = Vec::new();
    tables.push((
        Table::new("概况", &["项目", "数值"]),
        vec![
            vec![
                Cell::text("地区"),
                Cell::Text(match (&s.region, &s.region_name) {
                    (Some(code), Some(name)) => format!("{name}（{code}）"),
                    (Some(code), None) => code.clone(),
                    _ => "全部".into(),
                }),
            ],
            vec![Cell::text("起始日期"), Cell::Date(s.from)],
            vec![Cell::text("截止日期"), Cell::Date(s.to)],
            vec![Cell::text("商户总数"), Cell::Int(s.merchants.total)],
            vec![Cell::text("优抚对象总数"), Cell::Int(s.beneficiaries.total)],
            vec![Cell::text("优待卡总数"), Cell::Int(s.cards.total)],
            vec![Cell::text("核销人次"), Cell::Int(r.count)],
            vec![Cell::text("优惠总额（元）"), Cell::Yuan(r.discount_fen)],
            vec![Cell::text("异地核销人次"), Cell::Int(r.cross_region.count)],
            vec![
                Cell::text("异地优惠总额（元）"),
                Cell::Yuan(r.cross_region.discount_fen),
            ],
            vec![Cell::text("新增需求"), Cell::Int(s.needs.opened)],
            vec![Cell::text("完成需求"), Cell::Int(s.needs.done)],
            vec![
                Cell::text("完成用时中位数（天）"),
                s.needs
                    .median_days_to_done
                    .map_or(Cell::Empty, Cell::Number),
            ],
            vec![
                Cell::text("按时完成率（%）"),
                s.needs
                    .done_by_deadline_percent
                    .map_or(Cell::Empty, Cell::Number),
            ],
            vec![Cell::text("逾期任务"), Cell::Int(s.needs.overdue)],
        ],
    ));
    tables.push((
        Table::new("商户按状态", &["状态", "商户数"]),
        count_rows(&s.merchants.by_status, merchant_status_label),
    ));
    tables.push((
        Table::new("商户按行业", &["行业类别", "商户数"]),
        count_rows(&s.merchants.by_category, merchant_category_label),
    ));
    tables.push((
        Table::new("商户按主体类型", &["主体类型", "商户数"]),
        count_rows(&s.merchants.by_kind, merchant_kind_label),
    ));
    tables.push((
        Table::new(
            "年度新增准入",
            &["年份", "新增准入", "年度目标", "完成率（%）"],
        ),
        s.admissions
            .iter()
            .map(|a| {
                vec![
                    Cell::Int(i64::from(a.year)),
                    Cell::Int(a.admitted),
                    Cell::Int(a.target),
                    a.attainment_percent.map_or(Cell::Empty, Cell::Number),
                ]
            })
            .collect(),
    ));
    tables.push((
        Table::new(
            "新增准入按地区",
            &["年份", "行政区划代码", "地区", "新增准入"],
        ),
        s.admissions
            .iter()
            .flat_map(|a| {
                a.by_region.iter().map(move |g| {
                    vec![
                        Cell::Int(i64::from(a.year)),
                        Cell::text(&g.region_code),
                        Cell::opt_text(g.region_name.clone()),
                        Cell::Int(g.admitted),
                    ]
                })
            })
            .collect(),
    ));
    tables.push((
        Table::new("优抚对象按类别", &["类别", "人数"]),
        count_rows(&s.beneficiaries.by_category, holder_category_label),
    ));
    tables.push((
        Table::new("优待卡按卡种", &["卡种", "张数"]),
        count_rows(&s.cards.by_product, same),
    ));
    tables.push((
        Table::new("优待卡按状态", &["状态", "张数"]),
        count_rows(&s.cards.by_status, card_status_label),
    ));
    tables.push((
        Table::new("优待卡按卡种和状态", &["卡种", "状态", "张数"]),
        s.cards
            .by_product_status
            .iter()
            .map(|p| {
                vec![
                    Cell::text(&p.product),
                    Cell::text(card_status_label(&p.status)),
                    Cell::Int(p.count),
                ]
            })
            .collect(),
    ));
    let sums: [(&str, &str, &[stats::Sum], Label); 5] = [
        ("核销按月份", "月份", &r.by_month, same),
        (
            "核销按持卡人类别",
            "持卡人类别",
            &r.by_holder_category,
            holder_category_label,
        ),
        (
            "核销按行业",
            "行业类别",
            &r.by_merchant_category,
            merchant_category_label,
        ),
        ("核销按卡种", "卡种", &r.by_card_product, same),
        (
            "核销按优待类型",
            "优待类型",
            &r.by_offer_kind,
            offer_kind_label,
        ),
    ];
    for (sheet, key, rows, label) in sums {
        let mut table = Table::new(sheet, &[]);
        table.headers = vec![key, "核销人次", "优惠金额（元）"];
        tables.push((table, sum_rows(rows, label)));
    }
    tables.push((
        Table::new(
            "核销按地区",
            &["行政区划代码", "地区", "核销人次", "优惠金额（元）"],
        ),
        r.by_region
            .iter()
            .map(|g| {
                vec![
                    Cell::text(&g.key),
                    Cell::opt_text(g.name.clone()),
                    Cell::Int(g.count),
                    Cell::Yuan(g.discount_fen),
                ]
            })
            .collect(),
    ));
    tables.push((
        Table::new(
            "异地核销",
            &[
                "持卡人行政区划代码",
                "持卡人所在地区",
                "承担地区代码",
                "承担地区",
                "核销人次",
                "优惠金额（元）",
            ],
        ),
        r.cross_region
            .pairs
            .iter()
            .map(|p| {
                vec![
                    Cell::text(&p.holder_region_code),
                    Cell::opt_text(p.holder_region_name.clone()),
                    Cell::text(&p.bearing_region_code),
                    Cell::opt_text(p.bearing_region_name.clone()),
                    Cell::Int(p.count),
                    Cell::Yuan(p.discount_fen),
                ]
            })
            .collect(),
    ));
    tables.push((
        Table::new(
            "核销商户排行",
            &[
                "商户名称",
                "行政区划代码",
                "核销人次",
                "优惠金额（元）",
                "商户编号",
            ],
        ),
        r.top_merchants
            .iter()
            .map(|m| {
                vec![
                    Cell::text(&m.name),
                    Cell::text(&m.region_code),
                    Cell::Int(m.count),
                    Cell::Yuan(m.discount_fen),
                    Cell::Text(m.merchant_id.to_string()),
                ]
            })
            .collect(),
    ));
    let need_rows = |groups: &[stats::NeedGroup], label: Label, named: bool| {
        groups
            .iter()
            .map(|g| {
                let mut row = vec![Cell::text(label(&g.key))];
                if named {
                    row.push(Cell::opt_text(g.name.clone()));
                }
                row.extend([
                    Cell::Int(g.opened),
                    Cell::Int(g.done),
                    g.median_days_to_done.map_or(Cell::Empty, Cell::Number),
                    Cell::Int(g.done_with_deadline),
                    Cell::Int(g.done_by_deadline),
                    g.done_by_deadline_percent.map_or(Cell::Empty, Cell::Number),
                    Cell::Int(g.overdue),
                ]);
                row
            })
            .collect::<Vec<_>>()
    };
    const NEED_FIGURES: [&str; 7] = [
        "新增需求",
        "完成需求",
        "完成用时中位数（天）",
        "有时限的完成需求",
        "按时完成",
        "按时完成率（%）",
        "逾期任务",
    ];
    let mut table = Table::new("需求按地区", &[]);
    table.headers = [&["行政区划代码", "地区"][..], &NEED_FIGURES].concat();
    tables.push((table, need_rows(&s.needs.by_region, same, true)));
    let mut table = Table::new("需求按类别", &[]);
    table.headers = [&["需求类别"][..], &NEED_FIGURES].concat();
    tables.push((
        table,
        need_rows(&s.needs.by_category, need_category_label, false),
    ));
    tables
}
