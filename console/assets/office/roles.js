// What each role may do, after docs/permissions.md (the server decides; this only
// hides what would be refused).
const OFFICE = ['super_admin', 'region_admin', 'reviewer', 'auditor'];
const ADMINS = ['super_admin', 'region_admin'];
const READERS = ['super_admin', 'region_admin', 'auditor'];
// A unit's contact (部队联络员) posts and follows needs, reads resources and tasks.
const LISTS = [...READERS, 'military_liaison'];

const RULES = {
  'merchants.read': OFFICE,
  'merchants.decide': ADMINS,
  'merchants.review': ['super_admin', 'region_admin', 'reviewer'],
  'evaluations.read': READERS,
  'audit_log.read': READERS,
  'beneficiaries.read': READERS,
  'beneficiaries.write': ADMINS,
  'cards.read': READERS,
  'cards.write': ADMINS,
  'card_products.read': READERS,
  'complaints.read': READERS,
  'complaints.resolve': ADMINS,
  'emergency_roster.read': READERS,
  'exports.read': READERS,
  'inspections.read': READERS,
  'inspections.write': ADMINS,
  'offers.read': READERS,
  'offers.decide': ADMINS,
  'stats.read': READERS,
  'targets.read': READERS,
  'targets.write': ADMINS,
  'staff.read': READERS,
  'staff.create': ADMINS,
  'needs.read': LISTS,
  'needs.write': [...ADMINS, 'military_liaison'],
  'resources.read': LISTS,
  'resources.write': ADMINS,
  'tasks.read': LISTS,
  'tasks.write': ADMINS,
  merchant: ['merchant_staff'],
};

export const me = { role: null, id: null, username: null, region_code: null, department: null, merchant: null };

export function can(op) { return (RULES[op] || []).includes(me.role); }
export function isOffice() { return OFFICE.includes(me.role); }

export const OFFICE_NAV = [
  ['dashboard', '概览', 'stats.read'],
  ['applications', '商户准入', 'merchants.read'],
  ['offers', '优待项目审核', 'offers.read'],
  ['beneficiaries', '优抚对象与卡', 'beneficiaries.read'],
  ['complaints', '投诉与退出复核', 'complaints.read'],
  ['inspections', '抽查', 'inspections.read'],
  ['needs', '需求清单', 'needs.read'],
  ['resources', '资源目录', 'resources.read'],
  ['tasks', '双清单任务', 'tasks.read'],
  ['exports', '台账导出', 'exports.read'],
  ['users', '工作人员账号', 'staff.read'],
  ['roster', '急时战时名录', 'emergency_roster.read'],
  ['audit', '操作日志', 'audit_log.read'],
];
export const PARTNER_NAV = [
  ['profile', '商户资料'],
  ['my-offers', '优待项目'],
  ['terminals', '收银终端'],
  ['redemptions', '核销记录'],
  ['my-resources', '资源'],
];

export function navItems() {
  if (me.role === 'merchant_staff') return PARTNER_NAV;
  return OFFICE_NAV.filter(([, , op]) => can(op)).map(([k, t]) => [k, t]);
}
