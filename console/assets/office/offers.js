// 优待项目审核: the office's queue of offers (GET /admin/offers), approve or reject.
import { get, post } from './api.js';
import { h, pageHeader, field, input, select, table, pager, setParams, button, act, ok, empty, regionName } from './ui.js';
import { OFFER_STATUS, OFFER_KIND, label, options } from './labels.js';
import { terms, limits, validity, offerStatus } from './offer-format.js';
import { can } from './roles.js';

export async function render(root, ctx) {
  const p = ctx.params;
  const f = { status: p.get('status') || 'pending_review', q: p.get('q') || '', page: Number(p.get('page') || 1) };
  const data = await get('/api/v1/admin/offers', { ...f, per_page: 20 });
  const refresh = () => window.dispatchEvent(new HashChangeEvent('hashchange'));

  const form = h('form', { class: 'filters', id: 'offer-filter', role: 'search' },
    field('状态', select({ id: 'offer-filter-status', name: 'status' }, options(OFFER_STATUS), f.status)),
    field('关键词', input({ id: 'offer-filter-q', name: 'q', value: f.q, placeholder: '标题、说明或商户名称' })),
    h('button', { type: 'submit', class: 'primary' }, '查询'));
  form.addEventListener('submit', (e) => { e.preventDefault(); setParams({ status: form.status.value, q: form.q.value.trim() }); });

  root.append(pageHeader('优待项目审核', h('p', { class: 'muted' }, '商户新建或实质性修改的优待项目，经审核后方可上架核销')), form);
  if (!data.items.length) { root.append(empty(f.status === 'pending_review' ? '没有待审核的优待项目' : '没有符合条件的优待项目')); return; }

  const decide = can('offers.decide') && f.status === 'pending_review';
  root.append(table([
    { title: '优待项目', render: (o) => [h('strong', null, o.title), o.description ? h('div', { class: 'muted' }, o.description) : null] },
    { title: '商户', render: (o) => [h('a', { href: `#/merchants/${o.merchant_id}` }, o.merchant_name), h('div', { class: 'muted' }, regionName(o.merchant_region_code))] },
    { title: '方式', render: (o) => [label(OFFER_KIND, o.kind), h('div', null, terms(o))] },
    { title: '限制', render: (o) => limits(o) },
    { title: '有效期', render: (o) => validity(o) },
    { title: '状态', render: (o) => offerStatus(o) },
    decide ? { title: '审核', render: (o) => decisionCell(o, refresh) } : null,
  ].filter(Boolean), data.items));
  root.append(pager(data.page, data.per_page, data.total, (page) => setParams({ ...f, page })));
}

function decisionCell(o, refresh) {
  const reason = input({ id: `offer-reason-${o.id}`, name: 'reason', placeholder: '驳回须填写理由' });
  const approve = button('通过', { class: 'primary', dataset: { action: 'approve-offer', id: o.id } });
  const reject = button('驳回', { class: 'danger', dataset: { action: 'reject-offer', id: o.id } });
  approve.addEventListener('click', () => act(approve, async () => {
    await post(`/api/v1/admin/offers/${o.id}/approve`, {});
    ok(`“${o.title}”已审核通过并上架`);
    refresh();
  }));
  reject.addEventListener('click', () => act(reject, async () => {
    await post(`/api/v1/admin/offers/${o.id}/reject`, { reason: reason.value.trim() || null });
    ok(`“${o.title}”已驳回`);
    refresh();
  }));
  return h('div', { class: 'row-form' }, field('驳回理由', reason), h('div', { class: 'buttons' }, approve, reject));
}
