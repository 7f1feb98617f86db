// 概览: the office's figures as pictures (GET /admin/stats, /admin/targets).
import { get, put } from './api.js';
import { h, section, pageHeader, money, num, field, input, button, act, ok, table, setParams, regionName, dateTime } from './ui.js';
import { monthBars, hBars, progress, donut } from './charts.js';
import { MERCHANT_STATUS, MERCHANT_CATEGORY, BENEFICIARY_CATEGORY, CARD_PRODUCT, OFFER_KIND, TARGET, SOURCE, NEED_CATEGORY, label } from './labels.js';
import { can, me } from './roles.js';

function monthsBetween(from, to, byMonth) {
  const map = new Map(byMonth.map((m) => [m.key, m]));
  const out = [];
  let [y, m] = from.split('-').map(Number);
  const [ty, tm] = to.split('-').map(Number);
  while (y < ty || (y === ty && m <= tm)) {
    const key = `${y}-${String(m).padStart(2, '0')}`;
    const row = map.get(key) || { count: 0, discount_fen: 0 };
    out.push({ key, label: `${y}年${m}月`, short: `${m}月`, count: row.count, discount_fen: row.discount_fen });
    m += 1; if (m > 12) { m = 1; y += 1; }
    if (out.length > 36) break;
  }
  return out;
}

function kpi(title, value, sub) {
  return h('div', { class: 'kpi' }, h('div', { class: 'kpi-title' }, title), h('div', { class: 'kpi-value' }, value), sub ? h('div', { class: 'kpi-sub' }, sub) : null);
}

export async function render(root, ctx) {
  const p = ctx.params;
  const filters = { region: p.get('region') || '', from: p.get('from') || '', to: p.get('to') || '' };
  const stats = await get('/api/v1/admin/stats', filters);
  const region = stats.region || filters.region || me.region_code || '';
  let targets = null;
  try { targets = await get('/api/v1/admin/targets', { region: region || undefined }); } catch { targets = null; }

  const form = h('form', { class: 'filters', id: 'stats-filter' },
    field('行政区划代码', input({ id: 'stats-region', name: 'region', value: filters.region, placeholder: '默认本级', inputmode: 'numeric', maxlength: 6 })),
    field('开始日期', input({ id: 'stats-from', name: 'from', type: 'date', value: stats.from })),
    field('结束日期', input({ id: 'stats-to', name: 'to', type: 'date', value: stats.to })),
    h('button', { type: 'submit', class: 'primary' }, '查询'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    setParams({ region: form.region.value.trim(), from: form.from.value, to: form.to.value });
  });

  const r = stats.redemptions;
  const m = stats.merchants;
  const active = (m.by_status.find((x) => x.key === 'active') || {}).count || 0;
  const pendingCount = m.by_status.filter((x) => ['pending', 'under_review', 'public_notice'].includes(x.key)).reduce((a, x) => a + x.count, 0);

  root.append(pageHeader(`概览 · ${stats.region_name || '全国'}`, h('p', { class: 'muted' }, `统计区间 ${stats.from} 至 ${stats.to}（北京时间）`)), form);
  root.append(h('div', { class: 'kpis' },
    kpi('拥军商户', num(m.total), `已入驻 ${num(active)}，待处理 ${num(pendingCount)}`),
    kpi('优抚对象', num(stats.beneficiaries.total)),
    kpi('优待卡', num(stats.cards.total)),
    kpi('核销人次', num(r.count), `其中离线 ${num(r.offline)}`),
    kpi('累计优惠', money(r.discount_fen)),
    kpi('异地互认', num(r.cross_region.count), money(r.cross_region.discount_fen))));

  root.append(section('每月核销人次与优惠金额', monthBars(monthsBetween(stats.from, stats.to, r.by_month), { title: '每月核销人次与优惠金额' })));

  // Admissions and targets.
  const year = stats.admissions[stats.admissions.length - 1];
  const tp = stats.targets.find((t) => year && t.year === year.year) || stats.targets[0];
  const targetBlock = section(`${year ? year.year : ''}年度目标完成情况`);
  if (year) {
    targetBlock.append(h('h3', null, `新增拥军商户：已准入 ${num(year.admitted)} 家，目标 ${num(year.target)} 家`),
      progress(year.admitted, year.target, { title: '本年准入商户与目标' }));
  }
  if (tp) {
    for (const k of ['insurance_gifts', 'activities', 'people_served']) {
      const t = tp[k];
      targetBlock.append(h('h3', null, `${TARGET[k]}（${label(SOURCE, t.source)}）`),
        t.actual === null || t.actual === undefined
          ? h('p', { class: 'muted' }, `目标 ${t.target === null ? '未设' : num(t.target)}；系统暂不统计完成数`)
          : progress(t.actual, t.target, { title: TARGET[k] }));
    }
  }
  if (targets && (targets.region_code || region) && can('targets.write')) targetBlock.append(targetsForm(targets, region));
  root.append(targetBlock);

  root.append(h('div', { class: 'grid2' },
    section('商户状态分布', donut(m.by_status.map((x) => ({ label: label(MERCHANT_STATUS, x.key), value: x.count })), { title: '商户状态分布' })),
    section('商户行业分布', hBars(m.by_category.map((x) => ({ label: label(MERCHANT_CATEGORY, x.key), value: x.count })), { title: '商户行业分布', kind: 'b' }))));

  const pairs = r.cross_region.pairs.map((x) => ({ label: `${x.holder_region_name || x.holder_region_code} → ${x.bearing_region_name || x.bearing_region_code}`, value: x.count }));
  root.append(h('div', { class: 'grid2' },
    section('异地互认（持卡人所在地 → 承担地）', pairs.length ? hBars(pairs, { title: '异地互认', kind: 'c' }) : h('p', { class: 'empty' }, '本期无异地核销')),
    section('各地核销人次', hBars(r.by_region.map((x) => ({ label: x.name || x.key, value: x.count })), { title: '各地核销人次', kind: 'a' }))));

  root.append(h('div', { class: 'grid2' },
    section('持卡人类别', hBars(r.by_holder_category.map((x) => ({ label: label(BENEFICIARY_CATEGORY, x.key), value: x.count })), { title: '核销按持卡人类别' })),
    section('优待方式', hBars(r.by_offer_kind.map((x) => ({ label: label(OFFER_KIND, x.key), value: x.discount_fen })), { title: '优惠金额按优待方式', format: money, kind: 'b' }))));

  root.append(h('div', { class: 'grid2' },
    section('优待卡（按卡种）', hBars(stats.cards.by_product.map((x) => ({ label: label(CARD_PRODUCT, x.key), value: x.count })), { title: '优待卡按卡种', kind: 'c' })),
    section('优抚对象（按类别）', hBars(stats.beneficiaries.by_category.map((x) => ({ label: label(BENEFICIARY_CATEGORY, x.key), value: x.count })), { title: '优抚对象按类别' }))));

  root.append(needsBlock(stats.needs));

  root.append(section('核销最多的十家商户', r.top_merchants.length ? table([
    { title: '商户', render: (x) => h('a', { href: `#/merchants/${x.merchant_id}` }, x.name) },
    { title: '所在地', render: (x) => regionName(x.region_code) },
    { title: '核销人次', class: 'num', render: (x) => num(x.count) },
    { title: '优惠金额', class: 'num', render: (x) => money(x.discount_fen) },
  ], r.top_merchants, { rowId: (x) => x.merchant_id, onRow: (x) => { location.hash = `#/merchants/${x.merchant_id}`; } }) : h('p', { class: 'empty' }, '暂无核销')));
}

// 需求清单 and 双清单: what was asked, what was done and how fast, what is late.
function needsBlock(n) {
  const share = n.done_by_deadline_percent === null ? '—' : `${n.done_by_deadline_percent}%`;
  const days = n.median_days_to_done === null ? '—' : `${n.median_days_to_done} 天`;
  const block = section('需求清单与双清单', h('div', { class: 'kpis', id: 'needs-kpis' },
    kpi('新增需求', num(n.opened)),
    kpi('完成需求', num(n.done), `完成用时中位数 ${days}`),
    kpi('按时完成率', share, `有时限的完成需求 ${num(n.done_with_deadline)}，按时 ${num(n.done_by_deadline)}`),
    h('a', { href: '#/tasks?overdue=true', class: 'kpi-link' }, kpi('逾期任务', num(n.overdue), '点此查看逾期任务'))));
  const rows = (groups, name) => table([
    { title: name.title, render: name.render },
    { title: '新增', class: 'num', render: (x) => num(x.opened) },
    { title: '完成', class: 'num', render: (x) => num(x.done) },
    { title: '用时中位数（天）', class: 'num', render: (x) => (x.median_days_to_done === null ? '—' : x.median_days_to_done) },
    { title: '按时完成率', class: 'num', render: (x) => (x.done_by_deadline_percent === null ? '—' : `${x.done_by_deadline_percent}%`) },
    { title: '逾期任务', class: 'num', render: (x) => num(x.overdue) },
  ], groups, { rowId: (x) => x.key });
  if (n.by_region.length || n.by_category.length) {
    block.append(h('div', { class: 'grid2' },
      h('div', { id: 'needs-by-region' }, h('h3', null, '按地区'), rows(n.by_region, { title: '地区', render: (x) => x.name || regionName(x.key) })),
      h('div', { id: 'needs-by-category' }, h('h3', null, '按类别'), rows(n.by_category, { title: '类别', render: (x) => label(NEED_CATEGORY, x.key) }))));
  } else {
    block.append(h('p', { class: 'empty' }, '本期无需求'));
  }
  return block;
}

function targetsForm(targets, region) {
  const f = h('form', { class: 'inline-form', id: 'targets-form' },
    h('h3', null, `设定 ${targets.region_name || region} ${targets.year} 年度目标`),
    ...['new_partners', 'insurance_gifts', 'activities', 'people_served'].map((k) =>
      field(TARGET[k], input({ id: `target-${k}`, name: k, type: 'number', min: 0, value: targets[k].value ?? '', placeholder: '留空为默认' }))),
    h('button', { type: 'submit', id: 'targets-submit' }, '保存目标'),
    targets.updated_by ? h('small', { class: 'muted' }, `上次由 ${targets.updated_by} 于 ${dateTime(targets.updated_at)} 设定`) : null);
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    const body = { year: targets.year };
    for (const k of ['new_partners', 'insurance_gifts', 'activities', 'people_served']) {
      const v = f[k].value.trim();
      body[k] = v === '' ? null : Number(v);
    }
    act(f.querySelector('button[type=submit]'), async () => {
      await put(`/api/v1/admin/targets/${targets.region_code || region}`, body);
      ok('年度目标已保存');
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    });
  });
  return f;
}
