// 优抚对象与卡: search, register, import (CSV/XLSX), a person's cards and the card letter.
import { get, post, upload } from './api.js';
import {
  h, clear, section, pageHeader, dl, field, input, select, checkboxes, checked, button, act, ok, fail, val,
  table, pager, setParams, dateTime, date, empty, badge, regionName,
} from './ui.js';
import { BENEFICIARY_CATEGORY, HONOR, CARD_STATUS, CARD_PRODUCT, label, options } from './labels.js';
import { can } from './roles.js';

const refresh = () => window.dispatchEvent(new HashChangeEvent('hashchange'));
const ID_RE = /^\d{17}[\dXx]$|^\d{15}$/;

export async function render(root, ctx) {
  if (ctx.parts[1]) return person(root, ctx.parts[1]);
  const p = ctx.params;
  const f0 = { q: p.get('q') || '', category: p.get('category') || '', region: p.get('region') || '', page: Number(p.get('page') || 1) };
  const query = { category: f0.category, region: f0.region, page: f0.page, per_page: 20 };
  if (ID_RE.test(f0.q)) query.id_number = f0.q.toUpperCase(); else query.q = f0.q;
  const data = await get('/api/v1/admin/beneficiaries', query);

  const f = h('form', { class: 'filters', id: 'beneficiary-filter', role: 'search' },
    field('姓名或身份证号', input({ id: 'beneficiary-q', name: 'q', value: f0.q })),
    field('类别', select({ id: 'beneficiary-filter-category', name: 'category' }, options(BENEFICIARY_CATEGORY), f0.category, '全部类别')),
    field('行政区划代码', input({ id: 'beneficiary-filter-region', name: 'region', value: f0.region, maxlength: 6 })),
    h('button', { type: 'submit', class: 'primary', id: 'beneficiary-search' }, '查询'));
  f.addEventListener('submit', (e) => { e.preventDefault(); setParams({ q: f.q.value.trim(), category: f.category.value, region: f.region.value.trim() }); });
  root.append(pageHeader('优抚对象与优待卡', h('p', { class: 'muted' }, '身份证号、手机号加密保存，列表中只显示脱敏信息；按完整身份证号可精确查找')), f);
  if (can('beneficiaries.write')) root.append(createSection(), importSection());
  root.append(data.items.length ? table([
    { title: '姓名', render: (b) => h('a', { href: `#/beneficiaries/${b.id}` }, b.name) },
    { title: '身份证号', render: (b) => b.id_number_masked },
    { title: '手机号', render: (b) => b.phone_masked || '—' },
    { title: '类别', render: (b) => label(BENEFICIARY_CATEGORY, b.category) },
    { title: '荣誉', render: (b) => b.honors.map((x) => label(HONOR, x)).join('、') || '—' },
    { title: '所在地', render: (b) => regionName(b.region_code) },
    { title: '登记时间', render: (b) => dateTime(b.created_at) },
  ], data.items, { onRow: (b) => { location.hash = `#/beneficiaries/${b.id}`; } }) : empty('没有符合条件的优抚对象'),
  pager(data.page, data.per_page, data.total, (pg) => setParams({ ...f0, page: pg })));
}

function createSection() {
  const f = h('form', { id: 'beneficiary-form', class: 'inline-form' },
    field('姓名', input({ id: 'beneficiary-name', name: 'name' })),
    field('身份证号', input({ id: 'beneficiary-id-number', name: 'id_number', maxlength: 18 })),
    field('手机号', input({ id: 'beneficiary-phone', name: 'phone', inputmode: 'tel' })),
    field('类别', select({ id: 'beneficiary-category', name: 'category' }, options(BENEFICIARY_CATEGORY), 'veteran')),
    field('行政区划代码', input({ id: 'beneficiary-region', name: 'region_code', maxlength: 6 })),
    field('与军人关系（军属）', input({ id: 'beneficiary-relation', name: 'relation' })),
    h('div', { class: 'field' }, h('span', { class: 'label' }, '荣誉'), checkboxes('honors', options(HONOR))),
    h('button', { type: 'submit', id: 'beneficiary-submit', class: 'primary' }, '登记'));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    act(f.querySelector('#beneficiary-submit'), async () => {
      const b = await post('/api/v1/admin/beneficiaries', {
        name: val(f, '#beneficiary-name'), id_number: val(f, '#beneficiary-id-number'), phone: val(f, '#beneficiary-phone'),
        category: val(f, '#beneficiary-category'), region_code: val(f, '#beneficiary-region'), relation: val(f, '#beneficiary-relation'),
        honors: checked(f, 'honors'),
      });
      ok(`已登记 ${b.name}`);
      location.hash = `#/beneficiaries/${b.id}`;
    });
  });
  return h('details', { class: 'card' }, h('summary', null, '登记优抚对象'), f);
}

function importSection() {
  const bar = h('progress', { id: 'import-progress', max: 100, value: 0, hidden: true });
  const status = h('p', { id: 'import-status', class: 'muted', role: 'status' });
  const report = h('div', { id: 'import-report', class: 'import-report' });
  const f = h('form', { id: 'import-form', class: 'inline-form' },
    h('p', { class: 'muted' }, '首行为列名：姓名、身份证号、手机号、类别、荣誉、行政区划（也可用英文列名）。同一文件重复导入不会重复登记。'),
    field('文件（CSV 或 XLSX）', h('input', { type: 'file', id: 'import-file', name: 'file', accept: '.csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' })),
    field('方式', select({ id: 'import-mode', name: 'mode' }, [['all_or_nothing', '全部成功才保存'], ['partial', '保存正确的行']], 'all_or_nothing')),
    h('button', { type: 'submit', id: 'import-submit', class: 'primary' }, '导入'));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    const file = f.querySelector('#import-file').files[0];
    if (!file) { fail(new Error('请选择要导入的文件')); return; }
    const fd = new FormData();
    fd.append('file', file, file.name);
    bar.hidden = false; bar.value = 0; clear(report);
    status.textContent = '正在上传…';
    act(f.querySelector('#import-submit'), async () => {
      const mode = f.querySelector('#import-mode').value;
      const r = await upload(`/api/v1/admin/beneficiaries/import?mode=${mode}`, fd, (loaded, total) => {
        bar.value = Math.round((loaded / total) * 100);
        status.textContent = loaded < total ? `正在上传 ${bar.value}%` : '上传完成，正在校验…';
      });
      bar.value = 100;
      status.textContent = r.stored ? '导入完成' : '未保存（存在错误行）';
      report.append(dl([
        ['总行数', r.rows], ['新增', r.created], ['更新', r.updated], ['未变化', r.unchanged], ['错误行', r.failed_count],
        ['结果', r.stored ? '已保存' : '未保存'],
      ]));
      if (r.failed.length) {
        report.append(table([
          { title: '行号', render: (x) => x.row },
          { title: '问题', render: (x) => x.errors.map((er) => `${er.field}：${er.message}`).join('；') },
        ], r.failed, { rowId: (x) => `row-${x.row}` }));
      }
      ok(`导入${r.stored ? '完成' : '未保存'}：新增 ${r.created}，更新 ${r.updated}，未变化 ${r.unchanged}，错误 ${r.failed_count}`);
    }).catch(() => {});
  });
  return h('details', { class: 'card' }, h('summary', null, '批量导入（CSV / XLSX）'), f, bar, status, report);
}

async function person(root, id) {
  const b = await get(`/api/v1/admin/beneficiaries/${encodeURIComponent(id)}`);
  const cards = await get('/api/v1/admin/cards', { beneficiary_id: b.id, per_page: 100 });
  root.append(pageHeader(b.name, badge(label(BENEFICIARY_CATEGORY, b.category), 'info')), h('p', null, h('a', { href: '#/beneficiaries' }, '← 返回列表')));
  root.append(section('基本信息', dl([
    ['身份证号', b.id_number_masked], ['手机号', b.phone_masked], ['类别', label(BENEFICIARY_CATEGORY, b.category)],
    ['荣誉', b.honors.map((x) => label(HONOR, x)).join('、') || '—'], ['所在地', regionName(b.region_code)],
    ['关系', b.relation], ['登记时间', dateTime(b.created_at)], ['更新时间', dateTime(b.updated_at)],
  ])));
  const letterWrap = h('div', { class: 'letter-wrap', id: 'card-letter-wrap' });
  const cardSec = section('优待卡');
  cardSec.append(cards.items.length ? table([
    { title: '卡号', render: (c) => c.card_no },
    { title: '卡种', render: (c) => label(CARD_PRODUCT, c.product) },
    { title: '状态', render: (c) => [badge(label(CARD_STATUS, c.status), c.status === 'active' ? 'ok' : 'bad', c.status), c.status_reason ? h('small', { class: 'muted' }, c.status_reason) : null] },
    { title: '已激活', render: (c) => (c.activated ? '是' : '否') },
    { title: '发卡', render: (c) => dateTime(c.issued_at) },
    { title: '有效期至', render: (c) => date(c.expires_at) },
    can('cards.write') ? { title: '操作', render: (c) => cardActions(c, b, letterWrap) } : null,
  ].filter(Boolean), cards.items) : empty('尚未发卡'));
  if (can('cards.write')) {
    let products = [];
    try { products = (await get('/api/v1/admin/card-products', { per_page: 100 })).items.map((p) => [p.code, p.name]); } catch { products = options(CARD_PRODUCT); }
    const f = h('form', { id: 'issue-form', class: 'inline-form' },
      field('卡种', select({ id: 'card-product', name: 'product' }, products, 'general')),
      field('有效年限（留空为卡种默认）', input({ id: 'card-valid-years', name: 'valid_years', type: 'number', min: 1 })),
      h('button', { type: 'submit', class: 'primary', dataset: { action: 'issue-card' } }, '发卡'));
    f.addEventListener('submit', (e) => {
      e.preventDefault();
      act(f.querySelector('button'), async () => {
        const v = val(f, '#card-valid-years');
        const card = await post(`/api/v1/admin/beneficiaries/${b.id}/cards`, { product: f.querySelector('#card-product').value, valid_years: v ? Number(v) : null });
        ok(`已发卡 ${card.card_no}，请打印开卡通知书交持卡人`);
        showLetter(letterWrap, b, card);
      });
    });
    cardSec.append(f);
  }
  root.append(cardSec, letterWrap);
}

function cardActions(c, b, letterWrap) {
  const reason = input({ id: `card-reason-${c.id}`, name: 'reason', placeholder: '理由' });
  const acts = [];
  if (c.status === 'active') acts.push(['suspend', '挂失/暂停']);
  if (c.status === 'suspended') acts.push(['reinstate', '恢复']);
  if (['active', 'suspended', 'expired'].includes(c.status)) acts.push(['reissue', '补换卡'], ['revoke', '注销']);
  if (!acts.length) return '—';
  const buttons = acts.map(([a, t]) => {
    const btn = button(t, { class: a === 'revoke' ? 'danger' : '', dataset: { action: `card-${a}`, id: c.id } });
    btn.addEventListener('click', () => {
      if (a === 'revoke' && !window.confirm(`注销卡 ${c.card_no}？此操作不可撤销。`)) return;
      act(btn, async () => {
        const r = await post(`/api/v1/admin/cards/${c.id}/${a}`, { reason: reason.value.trim() || null });
        if (a === 'reissue') {
          ok(`已补发新卡 ${r.card_no}，原卡已注销`);
          showLetter(letterWrap, b, r);
          const wrap = letterWrap.parentNode;
          // keep the letter on screen; the card list refreshes on the next visit
          wrap.querySelectorAll(`tr[data-id="${c.id}"] .badge`).forEach((x) => { x.textContent = label(CARD_STATUS, 'revoked'); });
        } else { ok('卡片状态已更新'); refresh(); }
      });
    });
    return btn;
  });
  return h('div', { class: 'row-form' }, field('理由', reason), ...buttons);
}

function showLetter(wrap, b, card) {
  clear(wrap);
  const letter = h('article', { class: 'letter', id: 'card-letter' },
    h('h2', null, '优待卡开卡通知书'),
    h('p', null, `${b.name} 同志：`),
    h('p', null, `您的${label(CARD_PRODUCT, card.product)}已制发。请在手机上打开“拥军优待”应用，输入下列卡号和激活码完成激活。激活码只可使用一次，请妥善保管，切勿告诉他人。`),
    dl([['卡号', h('span', { class: 'code-line', id: 'letter-card-no' }, card.card_no.replace(/(\d{4})(?=\d)/g, '$1 '))],
      ['激活码', h('span', { class: 'code-line', id: 'card-activation-code' }, card.activation_code)],
      ['有效期至', date(card.expires_at)], ['发卡日期', date(card.issued_at)]]),
    h('p', { class: 'sign' }, '退役军人事务局（双拥办）', h('br'), date(card.issued_at)));
  const print = button('打印通知书', { id: 'print-letter', class: 'primary' });
  print.addEventListener('click', () => {
    document.body.classList.add('printing-letter');
    window.print();
    setTimeout(() => document.body.classList.remove('printing-letter'), 500);
  });
  wrap.append(h('h2', null, '开卡通知书（激活码只显示这一次）'), h('div', { class: 'buttons' }, print), letter);
  wrap.scrollIntoView({ block: 'start' });
}
