// 抽查: reproducible samples of active partners and their results.
import { get, post } from './api.js';
import { h, pageHeader, section, dl, field, input, select, table, pager, setParams, button, act, ok, empty, dateTime, regionName, val } from './ui.js';
import { INSPECTION_OUTCOME, MERCHANT_CATEGORY, label, options } from './labels.js';
import { can, me } from './roles.js';

export async function render(root, ctx) {
  if (ctx.parts[1]) return detail(root, ctx.parts[1]);
  const page = Number(ctx.params.get('page') || 1);
  const data = await get('/api/v1/admin/inspections', { page, per_page: 20 });
  root.append(pageHeader('抽查', h('p', { class: 'muted' }, '按随机种子从已入驻商户中抽取样本，凭种子可复核抽样结果')));
  if (can('inspections.write')) {
    const f = h('form', { id: 'inspection-form', class: 'inline-form' },
      field('行政区划代码', input({ id: 'inspection-region', name: 'region', value: me.region_code || '', maxlength: 6 })),
      field('样本数', input({ id: 'inspection-sample-size', name: 'sample_size', type: 'number', min: 1, value: 10 })),
      field('随机种子（留空自动生成）', input({ id: 'inspection-seed', name: 'seed', type: 'number', min: 0 })),
      h('button', { type: 'submit', id: 'inspection-submit', class: 'primary' }, '抽取样本'));
    f.addEventListener('submit', (e) => {
      e.preventDefault();
      act(f.querySelector('#inspection-submit'), async () => {
        const seed = val(f, '#inspection-seed');
        const i = await post('/api/v1/admin/inspections', { region: val(f, '#inspection-region'), sample_size: Number(val(f, '#inspection-sample-size') || 10), seed: seed ? Number(seed) : null });
        ok(`已抽取 ${i.items.length} 家（候选 ${i.population} 家）`);
        location.hash = `#/inspections/${i.id}`;
      });
    });
    root.append(section('新建抽查', f));
  }
  root.append(data.items.length ? table([
    { title: '时间', render: (i) => dateTime(i.created_at) },
    { title: '区划', render: (i) => regionName(i.region_code) },
    { title: '样本/候选', render: (i) => `${i.sampled} / ${i.population}` },
    { title: '已记录', render: (i) => i.recorded },
    { title: '不合格', render: (i) => i.non_compliant },
    { title: '种子', render: (i) => String(i.seed) },
    { title: '抽查人', render: (i) => i.created_by },
  ], data.items, { onRow: (i) => { location.hash = `#/inspections/${i.id}`; } }) : empty('尚无抽查'), pager(data.page, data.per_page, data.total, (pg) => setParams({ page: pg })));
}

async function detail(root, id) {
  const i = await get(`/api/v1/admin/inspections/${encodeURIComponent(id)}`);
  root.append(pageHeader('抽查详情'), h('p', null, h('a', { href: '#/inspections' }, '← 返回抽查列表')),
    section(null, dl([['区划', regionName(i.region_code)], ['样本数', i.sample_size], ['候选数', i.population], ['随机种子', String(i.seed)], ['抽查人', i.created_by], ['时间', dateTime(i.created_at)]])));
  const write = can('inspections.write');
  const form = h('form', { id: 'results-form' });
  form.append(table([
    { title: '序号', render: (x) => x.position },
    { title: '商户', render: (x) => h('a', { href: `#/merchants/${x.merchant_id}` }, x.name) },
    { title: '行业', render: (x) => label(MERCHANT_CATEGORY, x.category) },
    { title: '地址', render: (x) => x.address },
    { title: '结果', render: (x) => (write ? field('结果', select({ id: `result-${x.merchant_id}`, name: `outcome-${x.merchant_id}`, dataset: { merchant: x.merchant_id } }, options(INSPECTION_OUTCOME), x.outcome || '', '未记录')) : label(INSPECTION_OUTCOME, x.outcome)) },
    { title: '备注', render: (x) => (write ? field('备注', input({ id: `notes-${x.merchant_id}`, name: `notes-${x.merchant_id}`, value: x.notes || '' })) : (x.notes || '')) },
    { title: '记录时间', render: (x) => dateTime(x.recorded_at) },
  ], i.items, { rowId: (x) => x.merchant_id }));
  if (write && i.items.length) {
    form.append(h('button', { type: 'submit', id: 'results-submit', class: 'primary' }, '保存结果'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const results = [];
      for (const x of i.items) {
        const outcome = form.querySelector(`#result-${CSS.escape(x.merchant_id)}`).value;
        if (!outcome) continue;
        results.push({ merchant_id: x.merchant_id, outcome, notes: form.querySelector(`#notes-${CSS.escape(x.merchant_id)}`).value.trim() || null });
      }
      if (!results.length) { ok('没有需要保存的结果'); return; }
      act(form.querySelector('#results-submit'), async () => {
        await post(`/api/v1/admin/inspections/${i.id}/results`, { results });
        ok(`已保存 ${results.length} 条结果；不合格的商户已列入退出复核`);
        window.dispatchEvent(new HashChangeEvent('hashchange'));
      });
    });
  }
  root.append(section('样本与结果', i.items.length ? form : empty('本次没有抽到商户')));
}
