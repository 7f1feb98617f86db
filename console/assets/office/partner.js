// The partner's pages (merchant_staff): profile, offers, terminals, redemptions, resources.
import { get, post, patch, del } from './api.js';
import {
  h, clear, section, pageHeader, dl, field, input, textarea, select, checkboxes, checked, button, act, ok, val,
  table, pager, setParams, dateTime, date, money, empty, badge, regionName,
} from './ui.js';
import {
  MERCHANT_STATUS, MERCHANT_KIND, MERCHANT_CATEGORY, EMERGENCY, OFFER_KIND, PERIOD, CHANNEL,
  BENEFICIARY_CATEGORY, HONOR, REDEMPTION_STATUS, label, options,
} from './labels.js';
import { terms, limits, validity, offerStatus } from './offer-format.js';
import { resourceForm, resourceTable } from './needs.js';
import { me } from './roles.js';

const refresh = () => window.dispatchEvent(new HashChangeEvent('hashchange'));

export async function render(root, ctx) {
  if (ctx.key === 'profile') return profile(root);
  if (ctx.key === 'my-offers') return offers(root, ctx);
  if (ctx.key === 'terminals') return terminals(root, ctx);
  if (ctx.key === 'my-resources') return resources(root, ctx);
  return redemptions(root, ctx);
}

// ---- profile ------------------------------------------------------------------
async function profile(root) {
  const m = await get('/api/v1/merchant/profile');
  root.append(pageHeader(m.name, badge(label(MERCHANT_STATUS, m.status), m.status === 'active' ? 'ok' : 'warn', m.status),
    m.badge_no ? badge(`荣誉标识 ${m.badge_no}`, 'info') : null));
  root.append(section('登记信息（由主管部门维护）', dl([
    ['商户类型', label(MERCHANT_KIND, m.kind)], ['行业', label(MERCHANT_CATEGORY, m.category)],
    ['所在地', regionName(m.region_code)], ['协议到期', date(m.agreement_end)],
    ['联系人', m.contact_name], ['联系电话', m.contact_phone_masked],
  ])));
  const f = h('form', { id: 'profile-form', class: 'stack-form' },
    h('div', { class: 'grid2' },
      field('联系人', input({ id: 'profile-contact-name', name: 'contact_name', value: m.contact_name })),
      field('联系电话', input({ id: 'profile-contact-phone', name: 'contact_phone', placeholder: `当前 ${m.contact_phone_masked}，不改请留空`, inputmode: 'tel' }))),
    field('地址', input({ id: 'profile-address', name: 'address', value: m.address })),
    h('div', { class: 'grid2' },
      field('纬度', input({ id: 'profile-latitude', name: 'latitude', type: 'number', step: 'any', value: m.latitude })),
      field('经度', input({ id: 'profile-longitude', name: 'longitude', type: 'number', step: 'any', value: m.longitude }))),
    field('拥军内容', textarea({ id: 'profile-services', name: 'services', value: m.services })),
    field('具体措施', textarea({ id: 'profile-measures', name: 'measures', value: m.measures })),
    field('服务承诺', textarea({ id: 'profile-commitments', name: 'commitments', value: m.commitments })),
    h('div', { class: 'field' }, h('span', { class: 'label' }, '急时战时能力'), checkboxes('emergency_capabilities', options(EMERGENCY), m.emergency_capabilities || [])),
    field('急时战时承诺', textarea({ id: 'profile-emergency-commitment', name: 'emergency_commitment', value: m.emergency_commitment })),
    h('button', { type: 'submit', id: 'profile-submit', class: 'primary' }, '保存资料'));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    const body = {};
    for (const k of ['contact_name', 'address', 'services', 'measures', 'commitments', 'emergency_commitment']) {
      const v = f[k].value.trim();
      if (v !== (m[k] || '')) body[k] = v;
    }
    const phone = f.contact_phone.value.trim();
    if (phone) body.contact_phone = phone;
    const lat = Number(f.latitude.value), lng = Number(f.longitude.value);
    if (lat !== m.latitude || lng !== m.longitude) { body.latitude = lat; body.longitude = lng; }
    const caps = checked(f, 'emergency_capabilities');
    if (caps.join() !== (m.emergency_capabilities || []).join()) body.emergency_capabilities = caps;
    if (!Object.keys(body).length) { ok('没有需要保存的修改'); return; }
    act(f.querySelector('#profile-submit'), async () => { await patch('/api/v1/merchant/profile', body); ok('商户资料已保存'); refresh(); });
  });
  root.append(section('对外公开的资料（可自行维护）', f));
}

// ---- offers -------------------------------------------------------------------
async function offers(root, ctx) {
  const page = Number(ctx.params.get('page') || 1);
  const data = await get('/api/v1/merchant/offers', { page, per_page: 20 });
  const editing = ctx.params.get('edit');
  const current = editing ? data.items.find((o) => o.id === editing) : null;
  root.append(pageHeader('优待项目', h('p', { class: 'muted' }, '新建或实质性修改的项目须经主管部门审核后上架')));
  const formBox = section(current ? `修改“${current.title}”` : '新建优待项目', offerForm(current));
  root.append(formBox);
  if (!data.items.length) { root.append(empty('尚未发布优待项目')); return; }
  root.append(section('我的优待项目', table([
    { title: '项目', render: (o) => [h('strong', null, o.title), o.description ? h('div', { class: 'muted' }, o.description) : null] },
    { title: '优待', render: (o) => terms(o) },
    { title: '限制', render: (o) => limits(o) },
    { title: '有效期', render: (o) => validity(o) },
    { title: '剩余名额', class: 'num', render: (o) => (o.remaining_total === null || o.remaining_total === undefined ? '不限' : o.remaining_total) },
    { title: '状态', render: (o) => offerStatus(o) },
    { title: '操作', render: (o) => offerActions(o) },
  ], data.items, { onRow: (o) => setParams({ edit: o.id }) })), pager(data.page, data.per_page, data.total, (p) => setParams({ page: p })));
}

function offerActions(o) {
  const out = [];
  const mk = (action, text, cls, message) => {
    const b = button(text, { class: cls, dataset: { action, id: o.id } });
    b.addEventListener('click', () => {
      if (action === 'end-offer' && !window.confirm(`确定结束“${o.title}”？结束后不可恢复。`)) return;
      act(b, async () => { await post(`/api/v1/merchant/offers/${o.id}/${action.replace('-offer', '')}`, {}); ok(message); refresh(); });
    });
    out.push(b);
  };
  if (['active', 'paused', 'rejected', 'pending_review'].includes(o.status)) {
    const e = button('修改', { dataset: { action: 'edit-offer', id: o.id } });
    e.addEventListener('click', () => setParams({ edit: o.id }));
    out.push(e);
  }
  if (o.status === 'active') mk('pause-offer', '暂停', '', '已暂停');
  if (o.status === 'paused') mk('resume-offer', '恢复', '', '已恢复');
  if (['pending_review', 'active', 'paused'].includes(o.status)) mk('end-offer', '结束', 'danger', '已结束');
  return h('div', { class: 'buttons' }, out);
}

const toLocalInput = (iso) => {
  if (!iso) return '';
  const d = new Date(new Date(iso).getTime() + 8 * 3600 * 1000);
  return d.toISOString().slice(0, 16);
};
// A datetime-local value, read as China time, to RFC 3339.
const fromLocalInput = (v) => (v ? `${v}:00+08:00` : null);
const yuanToFen = (v) => (v === null || v === '' ? null : Math.round(Number(v) * 100));

function offerForm(o) {
  const kindSel = select({ id: 'offer-kind', name: 'kind' }, options(OFFER_KIND), o ? o.kind : 'percent_off');
  const f = h('form', { id: 'offer-form', class: 'stack-form' },
    h('div', { class: 'grid2' },
      field('项目名称', input({ id: 'offer-title', name: 'title', value: o ? o.title : '', required: true, placeholder: '例如：凭卡购药九折' })),
      field('优待方式', kindSel)),
    field('说明', textarea({ id: 'offer-description', name: 'description', value: o ? o.description : '' })),
    h('div', { class: 'grid3' },
      h('div', { class: 'kind-field', dataset: { kind: 'percent_off' } }, field('优惠比例（%）', input({ id: 'offer-percent-off', name: 'percent_off', type: 'number', min: 1, max: 100, value: o && o.percent_off !== null ? o.percent_off : '' }), '10 表示九折')),
      h('div', { class: 'kind-field', dataset: { kind: 'amount_off' } }, field('立减金额（元）', input({ id: 'offer-amount-off', name: 'amount_off', type: 'number', min: 0, step: '0.01', value: o && o.amount_off_fen !== null ? (o.amount_off_fen / 100).toFixed(2) : '' }))),
      h('div', { class: 'kind-field', dataset: { kind: 'fixed_price' } }, field('优惠价（元）', input({ id: 'offer-price', name: 'price', type: 'number', min: 0, step: '0.01', value: o && o.price_fen !== null ? (o.price_fen / 100).toFixed(2) : '' }))),
      h('div', { class: 'kind-field', dataset: { kind: 'gift' } }, field('赠品', input({ id: 'offer-gift', name: 'gift', value: o && o.gift ? o.gift : '' }))),
      field('总名额', input({ id: 'offer-total-quota', name: 'total_quota', type: 'number', min: 1, value: o && o.total_quota !== null ? o.total_quota : '', placeholder: '不限' })),
      field('每人限用次数', input({ id: 'offer-per-holder-limit', name: 'per_holder_limit', type: 'number', min: 1, value: o && o.per_holder_limit !== null ? o.per_holder_limit : '', placeholder: '不限' })),
      field('限用周期', select({ id: 'offer-per-holder-period', name: 'per_holder_period' }, options(PERIOD), o && o.per_holder_period ? o.per_holder_period : 'year')),
      field('可带家属人数', input({ id: 'offer-companions', name: 'companions_allowed', type: 'number', min: 0, value: o ? o.companions_allowed : 0 })),
      field('渠道', select({ id: 'offer-channel', name: 'channel' }, options(CHANNEL), o ? o.channel : 'in_store')),
      field('开始时间（北京时间）', input({ id: 'offer-valid-from', name: 'valid_from', type: 'datetime-local', value: o ? toLocalInput(o.valid_from) : '' }), '留空为立即'),
      field('结束时间（北京时间）', input({ id: 'offer-valid-until', name: 'valid_until', type: 'datetime-local', value: o ? toLocalInput(o.valid_until) : '' }), '留空为长期'),
      field('最低荣誉', select({ id: 'offer-min-honor', name: 'min_honor' }, options(HONOR), o ? o.min_honor : '', '不限'))),
    h('div', { class: 'field' }, h('span', { class: 'label' }, '限定对象（不选为全部优抚对象）'), checkboxes('eligible_categories', options(BENEFICIARY_CATEGORY), o ? o.eligible_categories : [])),
    field('固定日期（MM-DD，逗号分隔）', input({ id: 'offer-recurring', name: 'recurring_dates', value: o ? (o.recurring_dates || []).join(',') : '', placeholder: '例如 08-01' })),
    h('div', { class: 'buttons' },
      h('button', { type: 'submit', id: 'offer-submit', class: 'primary' }, o ? '保存修改（实质修改须重新审核）' : '提交审核'),
      o ? button('取消修改', { id: 'offer-cancel', onclick: () => setParams({}) }) : null));
  const sync = () => f.querySelectorAll('.kind-field').forEach((el) => { el.hidden = el.dataset.kind !== kindSel.value; });
  kindSel.addEventListener('change', sync);
  sync();
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    const kind = kindSel.value;
    const n = (name) => { const v = f[name].value.trim(); return v === '' ? null : Number(v); };
    const body = {
      title: f.title.value.trim(), description: f.description.value.trim(), kind,
      total_quota: n('total_quota'), per_holder_limit: n('per_holder_limit'),
      per_holder_period: n('per_holder_limit') ? f.per_holder_period.value : null,
      companions_allowed: n('companions_allowed') ?? 0, channel: f.channel.value,
      valid_from: fromLocalInput(f.valid_from.value), valid_until: fromLocalInput(f.valid_until.value),
      min_honor: f.min_honor.value || null, eligible_categories: checked(f, 'eligible_categories'),
      recurring_dates: f.recurring_dates.value.split(/[,，\s]+/).filter(Boolean),
    };
    if (kind === 'percent_off') body.percent_off = n('percent_off');
    if (kind === 'amount_off') body.amount_off_fen = yuanToFen(f.amount_off.value.trim());
    if (kind === 'fixed_price') body.price_fen = yuanToFen(f.price.value.trim());
    if (kind === 'gift') body.gift = f.gift.value.trim() || null;
    if (!o) {
      for (const k of Object.keys(body)) if (body[k] === null) delete body[k];
      act(f.querySelector('#offer-submit'), async () => {
        const created = await post('/api/v1/merchant/offers', body);
        ok(`“${created.title}”已提交，等待主管部门审核`);
        f.reset(); sync();
        refresh();
      });
      return;
    }
    // Send only what changed, so a change of wording alone keeps the offer's status.
    const changes = {};
    const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
    for (const [k, v] of Object.entries(body)) {
      let before = o[k];
      if (k === 'valid_from' || k === 'valid_until') { if (same(toLocalInput(o[k]), f[k].value)) continue; }
      else if (k === 'description') before = o.description || '';
      if (!same(v, before)) changes[k] = v;
    }
    if (!Object.keys(changes).length) { ok('没有需要保存的修改'); return; }
    act(f.querySelector('#offer-submit'), async () => {
      const saved = await patch(`/api/v1/merchant/offers/${o.id}`, changes);
      ok(saved.status === 'pending_review' ? '已保存，等待重新审核' : '已保存');
      setParams({});
    });
  });
  return f;
}

// ---- terminals ----------------------------------------------------------------
async function terminals(root, ctx) {
  const page = Number(ctx.params.get('page') || 1);
  const data = await get('/api/v1/merchant/terminals', { page, per_page: 20 });
  root.append(pageHeader('收银终端', h('p', { class: 'muted' }, '每台收银设备一个终端密钥，用于扫码核验与核销')));
  const keyBox = h('div', { id: 'terminal-key-box', class: 'secret', hidden: true });
  const f = h('form', { id: 'terminal-form', class: 'inline-form' },
    field('终端名称', input({ id: 'terminal-name', name: 'name', placeholder: '例如：一号收银台', required: true })),
    h('button', { type: 'submit', id: 'terminal-submit', class: 'primary' }, '新建终端'));
  const list = h('div');
  const drawList = (d) => {
    clear(list);
    list.append(d.items.length ? table([
      { title: '终端名称', render: (t) => t.name },
      { title: '创建时间', render: (t) => dateTime(t.created_at) },
      { title: '操作', render: (t) => { const b = button('删除', { class: 'danger', dataset: { action: 'delete-terminal', id: t.id } }); b.addEventListener('click', () => { if (!window.confirm(`删除终端“${t.name}”？该终端的密钥将立即失效。`)) return; act(b, async () => { await del(`/api/v1/merchant/terminals/${t.id}`); ok(`终端“${t.name}”已删除`); drawList(await get('/api/v1/merchant/terminals', { page, per_page: 20 })); }); }); return b; } },
    ], d.items) : empty('尚无终端'), pager(d.page, d.per_page, d.total, (p) => setParams({ page: p })));
  };
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    act(f.querySelector('#terminal-submit'), async () => {
      const t = await post('/api/v1/merchant/terminals', { name: f.name.value.trim() });
      clear(keyBox);
      keyBox.hidden = false;
      const code = h('code', { id: 'terminal-key' }, t.api_key);
      const copy = button('复制密钥', { id: 'terminal-key-copy' });
      copy.addEventListener('click', async () => { try { await navigator.clipboard.writeText(t.api_key); ok('已复制'); } catch { ok('请手动选中复制'); } });
      keyBox.append(h('p', null, h('strong', null, `终端“${t.name}”的密钥（只显示这一次，请立即填入收银设备）：`)), code, ' ', copy);
      f.reset();
      ok(`终端“${t.name}”已创建`);
      drawList(await get('/api/v1/merchant/terminals', { page, per_page: 20 }));
    });
  });
  drawList(data);
  root.append(section('新建终端', f, keyBox), section('终端列表', list));
}

// ---- redemptions --------------------------------------------------------------
async function redemptions(root, ctx) {
  const page = Number(ctx.params.get('page') || 1);
  const [data, offersPage] = await Promise.all([
    get('/api/v1/merchant/redemptions', { page, per_page: 20 }),
    get('/api/v1/merchant/offers', { per_page: 100 }),
  ]);
  const titles = new Map(offersPage.items.map((o) => [o.id, o.title]));
  root.append(pageHeader('核销记录', h('p', { class: 'muted' }, '核销后 24 小时内可作废，名额随之退回')));
  if (!data.items.length) { root.append(empty('暂无核销记录')); return; }
  root.append(table([
    { title: '核销时间', render: (r) => [dateTime(r.redeemed_at), r.offline ? h('div', { class: 'muted' }, `离线核验 ${dateTime(r.verified_offline_at)}`) : null] },
    { title: '优待项目', render: (r) => titles.get(r.offer_id) || r.offer_id.slice(0, 8) },
    { title: '卡号', render: (r) => r.card_no_masked },
    { title: '消费金额', class: 'num', render: (r) => money(r.bill_fen) },
    { title: '优惠金额', class: 'num', render: (r) => money(r.discount_fen) },
    { title: '同行家属', class: 'num', render: (r) => r.companions },
    { title: '持卡人所在地', render: (r) => regionName(r.holder_region_code) },
    { title: '状态', render: (r) => badge(label(REDEMPTION_STATUS, r.status), r.status === 'completed' ? 'ok' : 'plain', r.status) },
    { title: '作废', render: (r) => (r.status === 'completed' ? voidForm(r) : (r.voided_at ? dateTime(r.voided_at) : '')) },
  ], data.items));
  root.append(pager(data.page, data.per_page, data.total, (p) => setParams({ page: p })));
}

function voidForm(r) {
  const reason = input({ id: `void-reason-${r.id}`, name: 'reason', placeholder: '作废理由' });
  const b = button('作废', { class: 'danger', dataset: { action: 'void', id: r.id } });
  b.addEventListener('click', () => act(b, async () => {
    await post(`/api/v1/merchant/redemptions/${r.id}/void`, { reason: reason.value.trim() || null });
    ok('核销已作废，名额已退回');
    refresh();
  }));
  return h('div', { class: 'row-form' }, field('作废理由', reason), b);
}

// ---- resources ----------------------------------------------------------------
async function resources(root, ctx) {
  const page = Number(ctx.params.get('page') || 1);
  const data = await get('/api/v1/merchant/resources', { page, per_page: 20 });
  root.append(pageHeader('资源', h('p', { class: 'muted' }, '本商户可为部队提供的资源；主管部门和部队联络员在需求清单中可看到推荐')));
  const form = resourceForm(me.merchant ? me.merchant.region_code : '', async (body) => {
    const r = await post('/api/v1/merchant/resources', body);
    ok(`资源“${r.title}”已登记`);
    refresh();
  });
  root.append(section('登记资源', form), section('我的资源', resourceTable(data.items, false)),
    pager(data.page, data.per_page, data.total, (p) => setParams({ page: p })));
}
