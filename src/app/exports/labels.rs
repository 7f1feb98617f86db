//! What the offices read in an export: Chinese labels of stored codes, and the headers
//! of each table.

use super::model::ExportKind;
use crate::domain::beneficiary::{Category, Honor};

pub fn merchant_status_label(code: &str) -> &str {
    match code {
        "pending" => "待审核",
        "under_review" => "联审中",
        "public_notice" => "公示中",
        "active" => "已准入",
        "suspended" => "已暂停",
        "revoked" => "已撤销",
        "rejected" => "未通过",
        "expired" => "已到期",
        other => other,
    }
}

/// A need category's Chinese name (需求类别).
pub fn need_category_label(code: &str) -> &str {
    crate::domain::needs::NeedCategory::parse(code).map_or(code, |c| c.label())
}

pub fn merchant_kind_label(code: &str) -> &str {
    match code {
        "enterprise" => "企业",
        "social_org" => "社会组织",
        "individual_business" => "个体工商户",
        "volunteer_team" => "志愿服务队",
        other => other,
    }
}

pub fn merchant_category_label(code: &str) -> &str {
    match code {
        "medical" => "医疗",
        "pharmacy" => "药店",
        "finance" => "金融",
        "insurance" => "保险",
        "grain_oil" => "粮油",
        "telecom" => "通信",
        "aviation" => "航空",
        "transport" => "交通",
        "fuel" => "加油",
        "books_culture" => "书店文化",
        "tourism" => "旅游",
        "dining" => "餐饮",
        "lodging" => "住宿",
        "retail" => "零售",
        "elderly_care" => "养老",
        "education" => "教育",
        "legal" => "法律服务",
        "housing" => "住房",
        "other" => "其他",
        other => other,
    }
}

pub fn offer_kind_label(code: &str) -> &str {
    match code {
        "percent_off" => "折扣",
        "amount_off" => "立减",
        "fixed_price" => "优惠价",
        "free" => "免费",
        "priority_service" => "优先服务",
        "gift" => "赠品",
        other => other,
    }
}

pub fn redemption_status_label(code: &str) -> &str {
    match code {
        "completed" => "已核销",
        "voided" => "已作废",
        other => other,
    }
}

pub fn card_status_label(code: &str) -> &str {
    match code {
        "active" => "正常",
        "suspended" => "已暂停",
        "revoked" => "已注销",
        "expired" => "已过期",
        other => other,
    }
}

pub fn holder_category_label(code: &str) -> &str {
    match Category::parse(code) {
        Some(category) => category.chinese(),
        None => code,
    }
}

/// `,second_class_merit,combat_hero,` → `二等功、战斗英雄`.
pub(crate) fn honors_label(stored: &str) -> String {
    stored
        .split(',')
        .filter(|h| !h.is_empty())
        .map(|h| match Honor::parse(h) {
            Some(honor) => honor.chinese(),
            None => h,
        })
        .collect::<Vec<_>>()
        .join("、")
}

pub(crate) const MERCHANT_HEADERS: &[&str] = &[
    "商户名称",
    "主体类型",
    "统一社会信用代码",
    "行业类别",
    "行政区划代码",
    "所在地区",
    "联系人",
    "联系电话",
    "地址",
    "状态",
    "荣誉标识编号",
    "协议编号",
    "协议开始日期",
    "协议结束日期",
    "准入时间",
    "登记时间",
    "商户编号",
];

pub(crate) const REDEMPTION_HEADERS: &[&str] = &[
    "核销时间",
    "商户名称",
    "商户行政区划代码",
    "商户所在地区",
    "行业类别",
    "优待项目",
    "优待类型",
    "卡号",
    "卡种",
    "持卡人类别",
    "持卡人行政区划代码",
    "持卡人所在地区",
    "消费金额（元）",
    "优惠金额（元）",
    "同行人数",
    "状态",
    "作废原因",
    "作废时间",
    "核销编号",
];

pub(crate) const BENEFICIARY_HEADERS: &[&str] = &[
    "姓名",
    "身份证号",
    "手机号",
    "类别",
    "荣誉",
    "行政区划代码",
    "所在地区",
    "与主优抚对象关系",
    "持有卡种",
    "登记时间",
    "优抚对象编号",
];

/// The joint task list's ledger (台账): one row per task.
pub(crate) const TASK_HEADERS: &[&str] = &[
    "清单",
    "任务名称",
    "行政区划代码",
    "所在地区",
    "责任单位",
    "责任人",
    "措施",
    "完成时限",
    "状态",
    "是否逾期",
    "开始时间",
    "完成时间",
    "进展情况",
    "办结佐证",
    "关闭原因",
    "年度项目",
    "登记时间",
    "任务编号",
];

/// The tables of an export's kind, in order (for documentation and tests).
pub fn headers(kind: ExportKind) -> &'static [&'static str] {
    match kind {
        ExportKind::Merchants => MERCHANT_HEADERS,
        ExportKind::Redemptions => REDEMPTION_HEADERS,
        ExportKind::Beneficiaries => BENEFICIARY_HEADERS,
        ExportKind::Stats => &["项目", "数值"],
        ExportKind::Tasks => TASK_HEADERS,
    }
}
