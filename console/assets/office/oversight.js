// 投诉与退出复核: complaints (resolve) and merchants flagged for exit review.
import { get, post } from './api.js';
import { h, pageHeader, section, field, input, select, table, pager, setParams, button, act, ok, empty, dateTime, badge, regionName } from './ui.js';
import { COMPLAINT_STATUS, COMPLAINT_OUTCOME, BENEFICIARY_CATEGORY, label, options } from './labels.js';
import { can } from './roles.js';

const refresh = () => window.dispatchEvent(new HashChangeEvent('hashchange'));

export async function render(root, ctx) {
  const p = ctx.params;
  const f0 = { status: p.has('status') ? p.get('status') : 'open', page: Number(p.get('page') || 1) };
  const [data, flagged] = await Promise.all([
    get('/api/v1/admin/complaints', { ...f0, per_page: 20 }),
    get('/api/v1/admin/merchants', { flagged: 'true', per_page: 50 }),
  ]);
  root.append(pageHeader('投诉与退出复核'));
  root.append(section(`待退出复核的商户（${flagged.total}）`, flagged.items.length ? table([
    { title: '商户', render: (m) => h('a', { href: `#/merchants/${m.id}` }, m.name) },
    { title: '所在地', render: (m) => regionName(m.region_code) },
    { title: '列入原因', render: (m) => m.exit_review.reason },
    { title: '列入时间', render: (m) => dateTime(m.exit_review.flagged_at) },
  ], flagged.items, { onRow: (m) => { location.hash = `#/merchants/${m.id}`; } }) : empty('没有待复核的商户')));

  const f = h('form', { class: 'filters', id: 'complaint-filter' },
    field('状态', select({ id: 'complaint-status', name: 'status' }, options(COMPLAINT_STATUS), f0.status, '全部')),
    h('button', { type: 'submit' }, '筛选'));
  f.addEventListener('submit', (e) => { e.preventDefault(); setParams({ status: f.status.value || '' }); });
  root.append(section('持卡人投诉', f, data.items.length ? table([
    { title: '时间', render: (c) => dateTime(c.created_at) },
    { title: '商户', render: (c) => h('a', { href: `#/merchants/${c.merchant_id}` }, c.merchant_name) },
    { title: '投诉人', render: (c) => `${c.holder.name_masked}（${label(BENEFICIARY_CATEGORY, c.holder.category)}）` },
    { title: '评分', class: 'num', render: (c) => `${c.rating} / 5` },
    { title: '内容', render: (c) => c.content },
    { title: '状态', render: (c) => [badge(label(COMPLAINT_STATUS, c.status), c.status === 'open' ? 'warn' : 'ok', c.status), c.outcome ? ` ${label(COMPLAINT_OUTCOME, c.outcome)}` : ''] },
    { title: '处理', render: (c) => (c.status === 'open' && can('complaints.resolve') ? resolveForm(c) : (c.resolution_comment || '—')) },
  ], data.items) : empty('没有投诉'), pager(data.page, data.per_page, data.total, (pg) => setParams({ ...f0, page: pg }))));
}

function resolveForm(c) {
  const outcome = select({ id: `complaint-outcome-${c.id}`, name: 'outcome' }, options(COMPLAINT_OUTCOME), 'upheld');
  const comment = input({ id: `complaint-comment-${c.id}`, name: 'comment', placeholder: '处理意见' });
  const b = button('处理', { class: 'primary', dataset: { action: 'resolve-complaint', id: c.id } });
  b.addEventListener('click', () => act(b, async () => {
    await post(`/api/v1/admin/complaints/${c.id}/resolve`, { outcome: outcome.value, comment: comment.value.trim() || null });
    ok('投诉已处理');
    refresh();
  }));
  return h('div', { class: 'row-form' }, field('结论', outcome), field('处理意见', comment), b);
}
