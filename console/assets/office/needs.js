// 需求清单 and 资源目录: the needs of the troops (GET/POST /needs), a need with the
// resources that fit it, its status and its taking up as a task; the resources directory.
import { get, post } from './api.js';
import {
  h, pageHeader, section, dl, field, input, textarea, select, table, pager, setParams, button, act, ok, empty,
  dateTime, date, badge, regionName, val,
} from './ui.js';
import {
  NEED_CATEGORY, URGENCY, NEED_STATUS, RESOURCE_MODE, EMERGENCY, label, options,
} from './labels.js';
import { can, me } from './roles.js';
import { taskStatus } from './tasks.js';

const refresh = () => window.dispatchEvent(new HashChangeEvent('hashchange'));

export async function render(root, ctx) {
  if (ctx.key === 'resources') return resources(root, ctx);
  if (ctx.parts[1]) return need(root, ctx.parts[1]);
  return needs(root, ctx);
}

export function needStatus(status) {
  const kind = { open: 'warn', matched: 'info', in_progress: 'info', done: 'ok', closed: 'plain' }[status];
  return badge(label(NEED_STATUS, status), kind, status);
}

function urgencyBadge(urgency) {
  if (urgency === 'routine') return label(URGENCY, urgency);
  return badge(label(URGENCY, urgency), urgency === 'emergency' ? 'bad' : 'warn');
}

// ---- the list of needs ----------------------------------------------------------
async function needs(root, ctx) {
  const p = ctx.params;
  const f0 = {
    status: p.get('status') || '', category: p.get('category') || '', urgency: p.get('urgency') || '',
    region: p.get('region') || '', page: Number(p.get('page') || 1),
  };
  const data = await get('/api/v1/needs', { ...f0, per_page: 20 });
  const f = h('form', { class: 'filters', id: 'need-filter', role: 'search' },
    field('状态', select({ id: 'need-filter-status', name: 'status' }, options(NEED_STATUS), f0.status, '全部状态')),
    field('类别', select({ id: 'need-filter-category', name: 'category' }, options(NEED_CATEGORY), f0.category, '全部类别')),
    field('紧急程度', select({ id: 'need-filter-urgency', name: 'urgency' }, options(URGENCY), f0.urgency, '不限')),
    field('行政区划代码', input({ id: 'need-filter-region', name: 'region', value: f0.region, maxlength: 6 })),
    h('button', { type: 'submit', class: 'primary' }, '查询'));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    setParams({ status: f.status.value, category: f.category.value, urgency: f.urgency.value, region: f.region.value.trim() });
  });
  root.append(pageHeader('需求清单', h('p', { class: 'muted' }, '部队提出的需求，对接资源、立项办理，直至办结')));
  if (can('needs.write')) root.append(needForm());
  root.append(f, data.items.length ? table([
    { title: '需求', render: (n) => [h('a', { href: `#/needs/${n.id}` }, n.title), n.description ? h('div', { class: 'muted' }, n.description) : null] },
    { title: '类别', render: (n) => label(NEED_CATEGORY, n.category) },
    { title: '紧急程度', render: (n) => urgencyBadge(n.urgency) },
    { title: '提出单位', render: (n) => n.requesting_unit },
    { title: '所在地', render: (n) => regionName(n.region_code) },
    { title: '受益人数', class: 'num', render: (n) => n.beneficiaries_count },
    { title: '期望时间', render: (n) => date(n.wanted_by) },
    { title: '状态', render: (n) => needStatus(n.status) },
    { title: '提出时间', render: (n) => dateTime(n.created_at) },
  ], data.items, { onRow: (n) => { location.hash = `#/needs/${n.id}`; } }) : empty('没有符合条件的需求'),
  pager(data.page, data.per_page, data.total, (pg) => setParams({ ...f0, page: pg })));
}

function needForm() {
  const f = h('form', { id: 'need-form', class: 'stack-form' },
    h('div', { class: 'grid2' },
      field('需求名称', input({ id: 'need-title', name: 'title', required: true, placeholder: '例如：官兵子女寒假托管' })),
      field('提出单位', input({ id: 'need-unit', name: 'requesting_unit', placeholder: '例如：驻沁某部' }))),
    field('需求说明', textarea({ id: 'need-description', name: 'description' })),
    h('div', { class: 'grid3' },
      field('类别', select({ id: 'need-category', name: 'category' }, options(NEED_CATEGORY), 'daily_life')),
      field('紧急程度', select({ id: 'need-urgency', name: 'urgency' }, options(URGENCY), 'routine')),
      field('行政区划代码', input({ id: 'need-region', name: 'region_code', value: me.region_code || '', maxlength: 6 })),
      field('受益人数', input({ id: 'need-count', name: 'beneficiaries_count', type: 'number', min: 0, value: 0 }), '只填人数，不填姓名'),
      field('期望完成日期', input({ id: 'need-wanted-by', name: 'wanted_by', type: 'date' }))),
    h('button', { type: 'submit', id: 'need-submit', class: 'primary' }, '发布需求'));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    act(f.querySelector('#need-submit'), async () => {
      const count = val(f, '#need-count');
      const n = await post('/api/v1/needs', {
        title: val(f, '#need-title'), description: f.description.value.trim(), category: f.category.value,
        urgency: f.urgency.value, region_code: val(f, '#need-region'), requesting_unit: val(f, '#need-unit'),
        beneficiaries_count: count === null ? 0 : Number(count), wanted_by: val(f, '#need-wanted-by'),
      });
      ok(`需求“${n.title}”已发布`);
      refresh();
    });
  });
  return h('details', { class: 'card', id: 'need-form-box' }, h('summary', null, '发布需求'), f);
}

// ---- one need -------------------------------------------------------------------
async function need(root, id) {
  const n = await get(`/api/v1/needs/${encodeURIComponent(id)}`);
  const tasks = can('tasks.read') ? await get('/api/v1/admin/tasks', { need_id: n.id, per_page: 50 }) : null;
  const open = !['done', 'closed'].includes(n.status);
  root.append(pageHeader(n.title, needStatus(n.status), urgencyBadge(n.urgency)),
    h('p', null, h('a', { href: '#/needs' }, '← 返回需求清单')),
    section(null, dl([
      ['类别', label(NEED_CATEGORY, n.category)], ['提出单位', n.requesting_unit], ['所在地', regionName(n.region_code)],
      ['受益人数', n.beneficiaries_count], ['期望完成日期', date(n.wanted_by)], ['说明', n.description],
      ['状态', h('span', { id: 'need-status', dataset: { status: n.status } }, label(NEED_STATUS, n.status))],
      n.close_reason ? ['关闭原因', n.close_reason] : null,
      ['提出人', n.created_by], ['提出时间', dateTime(n.created_at)], n.done_at ? ['办结时间', dateTime(n.done_at)] : null,
    ])));

  const suggested = section('可对接的资源（同类别、覆盖所在地、当前可用，优先排前）', n.suggestions.length ? table([
    { title: '资源', render: (r) => r.title },
    { title: '提供方', render: (r) => r.merchant_name },
    { title: '能力', render: (r) => capacity(r) },
    { title: '服务地区', render: (r) => regionName(r.region_code) },
    { title: '方式', render: (r) => label(RESOURCE_MODE, r.mode) },
    { title: '可用期', render: (r) => availability(r) },
  ], n.suggestions) : empty('暂无匹配的资源'));
  suggested.id = 'suggestions';
  root.append(suggested);

  if (n.urgency === 'emergency') {
    const roster = section('急时战时保障名录中可响应的商户', n.emergency_roster.length ? table([
      { title: '商户', render: (m) => m.name },
      { title: '所在地', render: (m) => regionName(m.region_code) },
      { title: '保障能力', render: (m) => m.emergency_capabilities.map((c) => label(EMERGENCY, c)).join('、') },
      { title: '承诺', render: (m) => m.emergency_commitment },
    ], n.emergency_roster, { rowId: (m) => m.merchant_id }) : empty('名录中暂无具备相应保障能力的商户'));
    roster.id = 'emergency-roster';
    root.append(roster);
  }

  if (tasks) {
    const box = section('立项任务', tasks.items.length ? table([
      { title: '任务', render: (t) => h('a', { href: `#/tasks/${t.id}` }, t.title) },
      { title: '责任单位', render: (t) => t.owner_unit },
      { title: '责任人', render: (t) => t.owner_user },
      { title: '完成时限', render: (t) => date(t.deadline) },
      { title: '状态', render: (t) => taskStatus(t) },
    ], tasks.items, { onRow: (t) => { location.hash = `#/tasks/${t.id}`; } }) : empty('尚未立项'));
    box.id = 'need-tasks';
    root.append(box);
  }
  if (open && can('tasks.write')) root.append(takeUpForm(n));
  if (open && can('needs.write')) root.append(statusForm(n));
}

const capacity = (r) => [r.capacity, r.capacity_amount !== null && r.capacity_amount !== undefined ? h('div', { class: 'muted' }, `${r.capacity_amount} ${r.capacity_unit || ''}`) : null];
const availability = (r) => `${r.available_from ? date(r.available_from) : '即日'} 至 ${r.available_until ? date(r.available_until) : '长期'}`;

// 立项: an office takes the need up as a task (POST /admin/tasks).
function takeUpForm(n) {
  const partners = new Map(n.suggestions.map((r) => [r.merchant_id, r.merchant_name]));
  const f = h('form', { id: 'take-up-form', class: 'stack-form' },
    h('div', { class: 'grid2' },
      field('责任单位', input({ id: 'task-owner-unit', name: 'owner_unit', placeholder: '例如：沁水县教育局' })),
      field('责任人（工作人员用户名）', input({ id: 'task-owner-user', name: 'owner_user', value: me.username || '', autocomplete: 'off' }))),
    field('措施', textarea({ id: 'task-measures', name: 'measures' })),
    h('div', { class: 'grid3' },
      field('完成时限', input({ id: 'task-deadline', name: 'deadline', type: 'date', value: n.wanted_by || '' })),
      field('承办商户', select({ id: 'task-merchant', name: 'merchant_id' }, [...partners.entries()], '', '不指定')),
      h('div', { class: 'field' }, h('span', { class: 'label' }, '年度项目'),
        h('span', { class: 'check' }, h('input', { type: 'checkbox', id: 'task-publish', name: 'publish' }), h('label', { for: 'task-publish' }, '列入年度拥军项目清单（公开）')))),
    h('button', { type: 'submit', id: 'take-up-submit', class: 'primary' }, '立项'));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    act(f.querySelector('#take-up-submit'), async () => {
      const t = await post('/api/v1/admin/tasks', {
        need_id: n.id, owner_unit: val(f, '#task-owner-unit'), owner_user: val(f, '#task-owner-user'),
        measures: f.measures.value.trim(), deadline: val(f, '#task-deadline'), merchant_id: val(f, '#task-merchant'),
        publish: f.querySelector('#task-publish').checked,
      });
      ok(`已立项：${t.title}，完成时限 ${t.deadline}`);
      location.hash = `#/tasks/${t.id}`;
    });
  });
  return section('立项办理', f);
}

function statusForm(n) {
  const next = ['matched', 'in_progress', 'done', 'closed'];
  const rank = { open: 0, matched: 1, in_progress: 2 }[n.status];
  const choices = next.filter((s, i) => s === 'closed' || i + 1 > rank).map((s) => [s, label(NEED_STATUS, s)]);
  const f = h('form', { id: 'need-status-form', class: 'inline-form' },
    field('改为', select({ id: 'need-next-status', name: 'status' }, choices, 'closed')),
    field('理由（关闭时必填）', input({ id: 'need-reason', name: 'reason' })),
    h('button', { type: 'submit', id: 'need-status-submit' }, '变更状态'));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    act(f.querySelector('#need-status-submit'), async () => {
      const status = f.querySelector('#need-next-status').value;
      const moved = await post(`/api/v1/needs/${n.id}/status`, { status, reason: val(f, '#need-reason') });
      ok(`需求已${label(NEED_STATUS, moved.status)}`);
      refresh();
    });
  });
  return section('需求状态', h('p', { class: 'muted' }, '状态只能向前变更；立项的任务推进时需求随之变更'), f);
}

// ---- the resources directory ----------------------------------------------------
async function resources(root, ctx) {
  const p = ctx.params;
  const f0 = { category: p.get('category') || '', mode: p.get('mode') || '', region: p.get('region') || '', page: Number(p.get('page') || 1) };
  const data = await get('/api/v1/resources', { ...f0, per_page: 20 });
  const f = h('form', { class: 'filters', id: 'resource-filter', role: 'search' },
    field('类别', select({ id: 'resource-filter-category', name: 'category' }, options(NEED_CATEGORY), f0.category, '全部类别')),
    field('方式', select({ id: 'resource-filter-mode', name: 'mode' }, options(RESOURCE_MODE), f0.mode, '不限')),
    field('行政区划代码', input({ id: 'resource-filter-region', name: 'region', value: f0.region, maxlength: 6 })),
    h('button', { type: 'submit', class: 'primary' }, '查询'));
  f.addEventListener('submit', (e) => { e.preventDefault(); setParams({ category: f.category.value, mode: f.mode.value, region: f.region.value.trim() }); });
  root.append(pageHeader('资源目录', h('p', { class: 'muted' }, '拥军商户可提供的资源，自动推荐给同类别、覆盖所在地的需求')));
  if (can('resources.write')) {
    const partners = can('merchants.read') ? await get('/api/v1/admin/merchants', { status: 'active', per_page: 100 }) : { items: [] };
    const form = resourceForm(me.region_code || '', async (body) => {
      const r = await post('/api/v1/admin/resources', body);
      ok(`已为“${r.merchant_name}”登记资源“${r.title}”`);
      refresh();
    }, partners.items.map((m) => [m.id, m.name]));
    root.append(h('details', { class: 'card', id: 'resource-form-box' }, h('summary', null, '代商户登记资源'), form));
  }
  root.append(f, resourceTable(data.items, true), pager(data.page, data.per_page, data.total, (pg) => setParams({ ...f0, page: pg })));
}

export function resourceTable(items, withPartner) {
  if (!items.length) return empty('没有资源');
  return table([
    { title: '资源', render: (r) => r.title },
    withPartner ? { title: '提供方', render: (r) => r.merchant_name } : null,
    { title: '类别', render: (r) => label(NEED_CATEGORY, r.category) },
    { title: '能力', render: (r) => capacity(r) },
    { title: '服务地区', render: (r) => regionName(r.region_code) },
    { title: '方式', render: (r) => label(RESOURCE_MODE, r.mode) },
    { title: '可用期', render: (r) => availability(r) },
    { title: '登记时间', render: (r) => dateTime(r.created_at) },
  ].filter(Boolean), items);
}

// The form of a resource; `partners` (id, name) adds the partner to choose (an office).
export function resourceForm(region, save, partners) {
  const f = h('form', { id: 'resource-form', class: 'stack-form' },
    partners ? field('商户', select({ id: 'resource-merchant', name: 'merchant_id' }, partners, partners.length ? partners[0][0] : '')) : null,
    h('div', { class: 'grid2' },
      field('资源名称', input({ id: 'resource-title', name: 'title', required: true, placeholder: '例如：寒暑假托管班' })),
      field('类别', select({ id: 'resource-category', name: 'category' }, options(NEED_CATEGORY), 'daily_life'))),
    field('能力说明', textarea({ id: 'resource-capacity', name: 'capacity', placeholder: '例如：每期 40 名儿童' })),
    h('div', { class: 'grid3' },
      field('数量', input({ id: 'resource-amount', name: 'capacity_amount', type: 'number', min: 0 })),
      field('单位', input({ id: 'resource-unit', name: 'capacity_unit', placeholder: '人、次、车' })),
      field('服务地区（行政区划代码）', input({ id: 'resource-region', name: 'region_code', value: region, maxlength: 6 })),
      field('可用起始日期', input({ id: 'resource-from', name: 'available_from', type: 'date' }), '留空为即日'),
      field('可用截止日期', input({ id: 'resource-until', name: 'available_until', type: 'date' }), '留空为长期'),
      field('方式', select({ id: 'resource-mode', name: 'mode' }, options(RESOURCE_MODE), 'peacetime'))),
    h('button', { type: 'submit', id: 'resource-submit', class: 'primary' }, '登记资源'));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    const amount = val(f, '#resource-amount');
    const body = {
      title: val(f, '#resource-title'), category: f.category.value, capacity: f.capacity.value.trim(),
      capacity_amount: amount === null ? null : Number(amount), capacity_unit: val(f, '#resource-unit'),
      region_code: val(f, '#resource-region'), available_from: val(f, '#resource-from'),
      available_until: val(f, '#resource-until'), mode: f.mode.value,
    };
    if (partners) body.merchant_id = val(f, '#resource-merchant');
    act(f.querySelector('#resource-submit'), () => save(body));
  });
  return f;
}

