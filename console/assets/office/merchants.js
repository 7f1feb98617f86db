// 商户准入: the office's list of merchants and applications (GET /admin/merchants).
import { get } from './api.js';
import { h, pageHeader, field, input, select, table, pager, setParams, regionName, dateTime, badge, empty } from './ui.js';
import { MERCHANT_STATUS, MERCHANT_CATEGORY, MERCHANT_KIND, label, options } from './labels.js';

export function statusBadge(status) {
  const kind = { active: 'ok', pending: 'warn', under_review: 'warn', public_notice: 'info', suspended: 'bad', revoked: 'bad', rejected: 'bad', expired: 'plain' }[status];
  return badge(label(MERCHANT_STATUS, status), kind, status);
}

export async function render(root, ctx) {
  const p = ctx.params;
  const f = {
    status: p.has('status') ? p.get('status') : '',
    q: p.get('q') || '', region: p.get('region') || '', category: p.get('category') || '',
    flagged: p.get('flagged') || '', page: Number(p.get('page') || 1),
  };
  const data = await get('/api/v1/admin/merchants', { ...f, per_page: 20 });

  const form = h('form', { class: 'filters', id: 'merchant-filter', role: 'search' },
    field('状态', select({ id: 'filter-status', name: 'status' }, options(MERCHANT_STATUS), f.status, '全部状态')),
    field('关键词', input({ id: 'filter-q', name: 'q', value: f.q, placeholder: '名称、地址或拥军内容' })),
    field('行业', select({ id: 'filter-category', name: 'category' }, options(MERCHANT_CATEGORY), f.category, '全部行业')),
    field('行政区划代码', input({ id: 'filter-region', name: 'region', value: f.region, inputmode: 'numeric', maxlength: 6 })),
    field('退出复核', select({ id: 'filter-flagged', name: 'flagged' }, [['true', '仅待复核'], ['false', '不含待复核']], f.flagged, '不限')),
    h('button', { type: 'submit', class: 'primary' }, '查询'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    setParams({ status: form.status.value, q: form.q.value.trim(), category: form.category.value, region: form.region.value.trim(), flagged: form.flagged.value });
  });

  const tabs = h('div', { class: 'tabs', role: 'group', 'aria-label': '按状态快速筛选' },
    [['', '全部'], ['pending', '待审核'], ['under_review', '联审中'], ['public_notice', '公示中'], ['active', '已入驻'], ['suspended', '已暂停']].map(([v, t]) =>
      h('a', { href: `#/applications${v ? `?status=${v}` : ''}`, class: f.status === v ? 'tab current' : 'tab', 'aria-current': f.status === v ? 'true' : null }, t)));

  root.append(pageHeader('商户准入与管理', h('p', { class: 'muted' }, '受理拥军商户申请，组织军地联审、社会公示、签约入驻，以及暂停、恢复、退出')), tabs, form);
  if (!data.items.length) { root.append(empty('没有符合条件的商户')); return; }
  root.append(table([
    { title: '商户名称', render: (m) => h('a', { href: `#/merchants/${m.id}` }, m.name) },
    { title: '类型', render: (m) => label(MERCHANT_KIND, m.kind) },
    { title: '行业', render: (m) => label(MERCHANT_CATEGORY, m.category) },
    { title: '所在地', render: (m) => regionName(m.region_code) },
    { title: '联系人', render: (m) => `${m.contact_name} ${m.contact_phone_masked}` },
    { title: '状态', render: (m) => [statusBadge(m.status), m.exit_review ? badge('待退出复核', 'bad') : null] },
    { title: '申请时间', render: (m) => dateTime(m.created_at) },
  ], data.items, { onRow: (m) => { location.hash = `#/merchants/${m.id}`; } }));
  root.append(pager(data.page, data.per_page, data.total, (page) => setParams({ ...f, page })));
}
