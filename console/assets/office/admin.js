// 台账导出, 工作人员账号, 急时战时名录, 操作日志.
import { get, post, download } from './api.js';
import { h, pageHeader, section, field, input, select, table, pager, setParams, act, ok, empty, dateTime, regionName, val } from './ui.js';
import { EXPORT_KIND, ROLE, DEPARTMENT, EMERGENCY, MERCHANT_CATEGORY, label, options } from './labels.js';
import { can, me } from './roles.js';
import { auditTable } from './audit.js';

export async function render(root, ctx) {
  if (ctx.key === 'exports') return exportsPage(root);
  if (ctx.key === 'users') return users(root, ctx);
  if (ctx.key === 'roster') return roster(root, ctx);
  return audit(root, ctx);
}

function exportsPage(root) {
  const f = h('form', { id: 'export-form', class: 'filters' },
    field('台账', select({ id: 'export-kind', name: 'kind' }, options(EXPORT_KIND), 'merchants')),
    field('格式', select({ id: 'export-format', name: 'format' }, [['xlsx', 'Excel（.xlsx）'], ['csv', 'CSV']], 'xlsx')),
    field('行政区划代码', input({ id: 'export-region', name: 'region', placeholder: '默认本级', maxlength: 6 })),
    field('开始日期', input({ id: 'export-from', name: 'from', type: 'date' })),
    field('结束日期', input({ id: 'export-to', name: 'to', type: 'date' })),
    h('button', { type: 'submit', id: 'export-submit', class: 'primary' }, '下载'));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    const kind = f.kind.value, format = f.querySelector('#export-format').value;
    const q = new URLSearchParams({ format });
    for (const k of ['region', 'from', 'to']) { const v = val(f, `#export-${k}`); if (v) q.set(k, v); }
    act(f.querySelector('#export-submit'), async () => {
      const r = await download(`/api/v1/admin/exports/${kind}?${q}`, `${EXPORT_KIND[kind]}.${format}`);
      ok(`已下载 ${r.name}（${(r.size / 1024).toFixed(1)} KB）`);
    });
  });
  root.append(pageHeader('台账导出', h('p', { class: 'muted' }, 'Excel 为中文表头，时间为北京时间，金额以元计；个人信息已脱敏；每次导出均记入操作日志')), section(null, f));
}

async function users(root, ctx) {
  const role = ctx.params.get('role') || '';
  const page = Number(ctx.params.get('page') || 1);
  const data = await get('/api/v1/admin/users', { role, page, per_page: 20 });
  const filter = h('form', { class: 'filters', id: 'users-filter' },
    field('角色', select({ id: 'users-role', name: 'role' }, options(ROLE), role, '全部角色')),
    h('button', { type: 'submit' }, '筛选'));
  filter.addEventListener('submit', (e) => { e.preventDefault(); setParams({ role: filter.role.value }); });
  root.append(pageHeader('工作人员账号'), filter);
  if (can('staff.create')) {
    const roles = options(ROLE).filter(([r]) => r !== 'merchant_staff' && (me.role === 'super_admin' || r !== 'super_admin'));
    const f = h('form', { id: 'user-form', class: 'inline-form' },
      field('用户名', input({ id: 'user-username', name: 'username', autocomplete: 'off' })),
      field('初始密码', input({ id: 'user-password', name: 'password', type: 'password', autocomplete: 'new-password' }), '至少 12 个字符'),
      field('角色', select({ id: 'user-role', name: 'role' }, roles, 'reviewer')),
      field('行政区划代码', input({ id: 'user-region', name: 'region_code', value: me.region_code || '', maxlength: 6 })),
      field('联审部门（审核员）', select({ id: 'user-department', name: 'department' }, options(DEPARTMENT), '', '无')),
      h('button', { type: 'submit', id: 'user-submit', class: 'primary' }, '创建账号'));
    f.addEventListener('submit', (e) => {
      e.preventDefault();
      act(f.querySelector('#user-submit'), async () => {
        const u = await post('/api/v1/admin/users', {
          username: val(f, '#user-username') || '', password: f.querySelector('#user-password').value, role: f.querySelector('#user-role').value,
          region_code: val(f, '#user-region'), department: val(f, '#user-department'),
        });
        ok(`账号 ${u.username} 已创建`);
        window.dispatchEvent(new HashChangeEvent('hashchange'));
      });
    });
    root.append(section('新建账号', f));
  }
  root.append(data.items.length ? table([
    { title: '用户名', render: (u) => u.username },
    { title: '角色', render: (u) => label(ROLE, u.role) },
    { title: '区划', render: (u) => (u.region_code ? regionName(u.region_code) : '全国') },
    { title: '部门', render: (u) => label(DEPARTMENT, u.department) },
    { title: '所属商户', render: (u) => (u.merchant_id ? h('a', { href: `#/merchants/${u.merchant_id}` }, '查看') : '—') },
    { title: '状态', render: (u) => (u.disabled ? '已停用' : '正常') },
    { title: '创建时间', render: (u) => dateTime(u.created_at) },
  ], data.items) : empty('没有账号'), pager(data.page, data.per_page, data.total, (p) => setParams({ role, page: p })));
}

async function roster(root, ctx) {
  const p = ctx.params;
  const f0 = { capability: p.get('capability') || '', region: p.get('region') || '', page: Number(p.get('page') || 1) };
  const data = await get('/api/v1/admin/emergency-roster', { ...f0, per_page: 50 });
  const f = h('form', { class: 'filters', id: 'roster-filter' },
    field('保障能力', select({ id: 'roster-capability', name: 'capability' }, options(EMERGENCY), f0.capability, '全部')),
    field('行政区划代码', input({ id: 'roster-region', name: 'region', value: f0.region, maxlength: 6 })),
    h('button', { type: 'submit', class: 'primary' }, '查询'));
  f.addEventListener('submit', (e) => { e.preventDefault(); setParams({ capability: f.capability.value, region: f.region.value.trim() }); });
  root.append(pageHeader('急时战时保障名录', h('p', { class: 'muted' }, '已入驻且承诺急时战时支援的拥军商户及联系人')), f);
  root.append(data.items.length ? table([
    { title: '商户', render: (m) => h('a', { href: `#/merchants/${m.id}` }, m.name) },
    { title: '行业', render: (m) => label(MERCHANT_CATEGORY, m.category) },
    { title: '保障能力', render: (m) => m.emergency_capabilities.map((c) => label(EMERGENCY, c)).join('、') },
    { title: '联系人', render: (m) => m.contact_name },
    { title: '电话', render: (m) => h('a', { href: `tel:${m.contact_phone}` }, m.contact_phone) },
    { title: '地址', render: (m) => [regionName(m.region_code), ' ', m.address] },
  ], data.items) : empty('名录为空'), pager(data.page, data.per_page, data.total, (pg) => setParams({ ...f0, page: pg })));
}

async function audit(root, ctx) {
  const p = ctx.params;
  const f0 = { entity_type: p.get('entity_type') || '', entity_id: p.get('entity_id') || '', actor: p.get('actor') || '', page: Number(p.get('page') || 1) };
  const data = await get('/api/v1/admin/audit-log', { ...f0, per_page: 50 });
  const f = h('form', { class: 'filters', id: 'audit-filter' },
    field('对象类型', select({ id: 'audit-entity-type', name: 'entity_type' }, [['merchant', '商户'], ['offer', '优待项目'], ['beneficiary', '优抚对象'], ['card', '优待卡'], ['staff', '账号'], ['complaint', '投诉'], ['inspection', '抽查'], ['export', '导出'], ['target', '年度目标'], ['need', '需求'], ['resource', '资源'], ['task', '任务']], f0.entity_type, '全部')),
    field('对象 ID', input({ id: 'audit-entity-id', name: 'entity_id', value: f0.entity_id })),
    field('操作人', input({ id: 'audit-actor', name: 'actor', value: f0.actor })),
    h('button', { type: 'submit', class: 'primary' }, '查询'));
  f.addEventListener('submit', (e) => { e.preventDefault(); setParams({ entity_type: f.entity_type.value, entity_id: f.entity_id.value.trim(), actor: f.actor.value.trim() }); });
  root.append(pageHeader('操作日志', h('p', { class: 'muted' }, '谁、何时、因何做了什么，最新在前')), f,
    data.items.length ? auditTable(data.items) : empty('没有记录'), pager(data.page, data.per_page, data.total, (pg) => setParams({ ...f0, page: pg })));
}
