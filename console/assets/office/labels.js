// Chinese names of every vocabulary the API speaks (docs/design.md).
export const ROLE = {
  super_admin: '超级管理员', region_admin: '区域管理员', reviewer: '联审审核员',
  auditor: '审计员', military_liaison: '部队联络员', merchant_staff: '商户工作人员',
};
export const MERCHANT_STATUS = {
  pending: '待审核', under_review: '联审中', public_notice: '公示中', active: '已入驻',
  suspended: '已暂停', revoked: '已退出', rejected: '已驳回', expired: '协议到期',
};
export const MERCHANT_KIND = {
  enterprise: '企业', social_org: '社会组织', individual_business: '个体工商户', volunteer_team: '志愿服务队',
};
export const MERCHANT_CATEGORY = {
  medical: '医疗', pharmacy: '药店', finance: '金融', insurance: '保险', grain_oil: '粮油',
  telecom: '通信', aviation: '航空', transport: '交通出行', fuel: '加油', books_culture: '图书文化',
  tourism: '旅游景区', dining: '餐饮', lodging: '住宿', retail: '零售', elderly_care: '养老',
  education: '教育', legal: '法律服务', housing: '住房', other: '其他',
};
export const DEPARTMENT = {
  discipline_inspection: '纪检监察', civil_affairs: '民政', human_resources: '人社',
  emergency_management: '应急管理', market_regulation: '市场监管', military: '部队',
};
export const VERDICT = { pass: '通过', fail: '不通过' };
export const EMERGENCY = {
  transport: '运输', logistics: '物流', medical: '医疗救护', telecom: '通信保障',
  radio_spectrum: '无线电频谱', technology: '技术支持', supplies: '物资供应',
};
export const BENEFICIARY_CATEGORY = {
  active_duty: '现役军人', civilian_personnel: '军队文职人员', military_family: '军属',
  veteran: '退役军人', disabled_veteran: '残疾军人', martyr_family: '烈士遗属',
  duty_death_family: '因公牺牲军人遗属', illness_death_family: '病故军人遗属', other_entitled: '其他优抚对象',
};
export const HONOR = {
  combat_hero: '战斗英雄', first_class_merit: '一等功', second_class_merit: '二等功', third_class_merit: '三等功',
};
export const CARD_STATUS = { active: '正常', suspended: '已挂失/暂停', revoked: '已注销', expired: '已过期' };
export const CARD_PRODUCT = { general: '拥军优待卡', medical: '专属医疗卡', grain: '深拥粮卡', book: '书香优待卡' };
export const OFFER_KIND = {
  percent_off: '折扣', amount_off: '立减', fixed_price: '优惠价', free: '免费',
  priority_service: '优先服务', gift: '赠品',
};
export const OFFER_STATUS = {
  pending_review: '待审核', active: '已上架', paused: '已暂停', ended: '已结束', rejected: '已驳回',
};
export const PERIOD = { day: '每天', week: '每周', month: '每月', year: '每年', lifetime: '终身' };
export const CHANNEL = { in_store: '到店', online: '线上' };
export const REDEMPTION_STATUS = { completed: '已核销', voided: '已作废' };
export const COMPLAINT_STATUS = { open: '待处理', resolved: '已处理' };
export const COMPLAINT_OUTCOME = { upheld: '属实', mediated: '已调解', dismissed: '不属实' };
export const OBJECTION_STATUS = { open: '待处理', upheld: '异议成立', dismissed: '异议不成立' };
export const INSPECTION_OUTCOME = { compliant: '合格', non_compliant: '不合格' };
export const EXIT_DECISION = { retain: '保留', suspend: '暂停', revoke: '退出' };
export const EXPORT_KIND = {
  merchants: '拥军商户台账', redemptions: '核销记录', beneficiaries: '优抚对象台账', stats: '统计报表',
  tasks: '任务台账（双清单）',
};
// Needs, resources and the joint task list (src/domain/needs.rs).
export const NEED_CATEGORY = {
  transport: '交通', logistics: '物流', medical: '医疗', telecom: '通信', education: '教育',
  employment: '就业', legal: '法律', culture: '文化', supplies: '物资', daily_life: '生活', other: '其他',
};
export const URGENCY = { routine: '一般', urgent: '紧急', emergency: '急时战时' };
export const NEED_STATUS = { open: '待对接', matched: '已对接', in_progress: '办理中', done: '已办结', closed: '已关闭' };
export const RESOURCE_MODE = { peacetime: '平时', emergency: '急时战时' };
export const TASK_DIRECTION = { locality_for_troops: '地方为部队办实事', troops_for_locality: '部队为地方办实事' };
export const TASK_STATUS = { open: '未开始', in_progress: '推进中', done: '已完成', closed: '已关闭' };
export const TASK_EVENT = { note: '进展', status: '状态变更', completion: '办结' };
export const SOURCE = { set: '本级设定', default: '默认', sum_of_cities: '各市合计', sum_of_provinces: '各省合计' };
export const TARGET = {
  new_partners: '新增拥军商户', insurance_gifts: '赠送保险', activities: '拥军活动', people_served: '服务人次',
};
export const ACTION = {
  'merchant.apply': '提交申请', 'merchant.record_review': '联审意见', 'merchant.approve': '联审通过',
  'merchant.reject': '驳回', 'merchant.uphold_objection': '异议成立', 'merchant.dismiss_objection': '异议不成立',
  'merchant.activate': '签约入驻', 'merchant.suspend': '暂停', 'merchant.reinstate': '恢复',
  'merchant.revoke': '退出', 'merchant.expire': '协议到期', 'merchant.renew': '续签',
  'merchant.update': '修改登记信息', 'merchant.update_profile': '商户更新资料', 'merchant.flag': '列入退出复核',
  'merchant.exit_review': '退出复核决定', 'merchant.end_notice': '公示期结束（演示数据）',
  'need.create': '发布需求', 'need.status': '需求状态变更', 'resource.create': '登记资源',
  'task.create': '任务立项', 'task.note': '记录进展', 'task.status': '任务状态变更', 'task.complete': '任务办结',
};

export function label(map, key) {
  if (key === null || key === undefined || key === '') return '—';
  return map[key] || key;
}
export function options(map) { return Object.entries(map); }
