// DOM helpers: elements are built with the DOM API (no HTML strings), so no inline
// style or handler can slip in and every text is escaped by construction.
import { get } from './api.js';
import { DEPARTMENT } from './labels.js';

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  applyAttrs(el, attrs);
  append(el, children);
  return el;
}

function applyAttrs(el, attrs) {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked' || k === 'selected' || k === 'disabled' || k === 'required' || k === 'multiple') el[k] = !!v;
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null) continue;
    if (k === 'class') el.setAttribute('class', v);
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

// ---- formatting -------------------------------------------------------------
export function money(fen) {
  if (fen === null || fen === undefined) return '—';
  const neg = fen < 0;
  const v = Math.abs(Number(fen));
  const yuan = Math.floor(v / 100).toLocaleString('zh-CN');
  const cents = String(v % 100).padStart(2, '0');
  return `${neg ? '-' : ''}¥${yuan}.${cents}`;
}
const DT = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit',
  hour: '2-digit', minute: '2-digit', hour12: false,
});
const D = new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' });
export function dateTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : DT.format(d);
}
export function date(value) {
  if (!value) return '—';
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : D.format(d).replace(/\//g, '-');
}
// Today in China time, YYYY-MM-DD.
export function todayChina() {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  return parts;
}
export function num(n) { return n === null || n === undefined ? '—' : Number(n).toLocaleString('zh-CN'); }

// ---- messages ---------------------------------------------------------------
export function showMessage(kind, text, code, fieldErrors) {
  const box = document.getElementById('message');
  clear(box);
  box.dataset.kind = kind;
  box.hidden = false;
  box.append(h('span', { class: 'text' }, text));
  if (code) box.append(' ', h('small', { class: 'code' }, code));
  if (fieldErrors && fieldErrors.length) {
    box.append(h('ul', { class: 'field-errors' }, fieldErrors.map((e) => h('li', null, `${e.field}：${e.message}`))));
  }
  box.append(h('button', { type: 'button', class: 'close', 'aria-label': '关闭提示', onclick: hideMessage }, '×'));
  if (kind === 'ok') { clearTimeout(showMessage.t); showMessage.t = setTimeout(hideMessage, 6000); } else clearTimeout(showMessage.t);
}
export function hideMessage() {
  const box = document.getElementById('message');
  box.hidden = true;
  clear(box);
  delete box.dataset.kind;
}
export function ok(text) { showMessage('ok', text); }
export function fail(err) {
  if (err && err.status !== undefined) {
    const p = err.problem || {};
    let detail = p.detail || err.message || '操作失败';
    const extra = [];
    if (p.missing_departments && p.missing_departments.length) extra.push(`尚缺部门意见：${p.missing_departments.map((d) => DEPARTMENT[d] || d).join('、')}`);
    if (p.failed_departments && p.failed_departments.length) extra.push(`未通过部门：${p.failed_departments.map((d) => DEPARTMENT[d] || d).join('、')}`);
    if (p.current_status) extra.push(`当前状态：${p.current_status}`);
    if (p.notice_ends_at) extra.push(`公示截止：${dateTime(p.notice_ends_at)}`);
    if (extra.length) detail += `（${extra.join('；')}）`;
    showMessage('error', detail, err.code, p.errors);
    markFieldErrors(p.errors);
  } else {
    showMessage('error', String((err && err.message) || err || '操作失败'), 'client_error');
    console.error(err);
  }
}

// Marks the inputs whose name matches a problem's field.
function markFieldErrors(errors) {
  document.querySelectorAll('.invalid').forEach((el) => el.classList.remove('invalid'));
  for (const e of errors || []) {
    const el = document.querySelector(`#view [name="${CSS.escape(e.field)}"]`);
    if (el) { el.classList.add('invalid'); el.setAttribute('aria-invalid', 'true'); }
  }
}

// Runs an async action with its button disabled, reporting errors in #message.
export async function act(button, fn) {
  if (button) button.disabled = true;
  try { return await fn(); } catch (e) { fail(e); return undefined; } finally { if (button) button.disabled = false; }
}

// ---- forms ------------------------------------------------------------------
let uid = 0;
export function field(labelText, control, hint) {
  if (!control.id) control.id = `f${++uid}`;
  return h('div', { class: 'field' }, h('label', { for: control.id }, labelText), control, hint ? h('small', { class: 'hint' }, hint) : null);
}
export function input(attrs) { return h('input', { type: 'text', ...attrs }); }
export function textarea(attrs) { return h('textarea', { rows: 3, ...attrs }); }
export function select(attrs, entries, selected, emptyLabel) {
  const el = h('select', attrs);
  if (emptyLabel !== undefined) el.append(h('option', { value: '' }, emptyLabel));
  for (const [v, t] of entries) el.append(h('option', { value: v, selected: String(v) === String(selected ?? '') }, t));
  if (selected !== undefined && selected !== null) el.value = selected;
  return el;
}
export function checkboxes(name, entries, checked = []) {
  return h('fieldset', { class: 'checks' }, entries.map(([v, t]) => {
    const id = `f${++uid}`;
    return h('span', { class: 'check' }, h('input', { type: 'checkbox', id, name, value: v, checked: checked.includes(v) }), h('label', { for: id }, t));
  }));
}
export function checked(root, name) {
  return [...root.querySelectorAll(`input[name="${name}"]:checked`)].map((x) => x.value);
}
export function button(text, attrs = {}) { return h('button', { type: 'button', ...attrs }, text); }
export function val(root, sel) {
  const el = root.querySelector(sel);
  if (!el) return null;
  const v = el.value.trim();
  return v === '' ? null : v;
}

// ---- layout blocks ----------------------------------------------------------
export function section(title, ...children) {
  return h('section', { class: 'card' }, title ? h('h2', null, title) : null, ...children);
}
export function pageHeader(title, ...extra) {
  return h('header', { class: 'page-head' }, h('h1', null, title), ...extra);
}
export function dl(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(Boolean).map(([k, v]) => [h('dt', null, k), h('dd', null, v === null || v === undefined || v === '' ? '—' : v)]));
}
export function badge(text, kind, status) {
  return h('span', { class: `badge badge-${kind || 'plain'}`, dataset: status ? { status } : undefined }, text);
}
export function empty(text) { return h('p', { class: 'empty' }, text); }
export function loading() { return h('p', { class: 'loading', role: 'status' }, '正在加载…'); }

// A table; `onRow(item)` makes rows clickable and keyboard-activable.
export function table(columns, items, { onRow, rowId = (x) => x.id, caption } = {}) {
  const thead = h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.title))));
  const tbody = h('tbody');
  for (const item of items) {
    const tr = h('tr', { dataset: { id: rowId(item) } });
    if (onRow) {
      tr.tabIndex = 0;
      tr.classList.add('clickable');
      tr.addEventListener('click', (e) => {
        if (e.target.closest('button, a, input, select, textarea, label')) return;
        onRow(item, tr);
      });
      tr.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' && e.target === tr) { e.preventDefault(); onRow(item, tr); }
      });
    }
    for (const c of columns) tr.append(h('td', { class: c.class }, c.render(item)));
    tbody.append(tr);
  }
  return h('div', { class: 'table-wrap' }, h('table', null, caption ? h('caption', null, caption) : null, thead, tbody));
}

export function pager(page, perPage, total, go) {
  const pages = Math.max(1, Math.ceil(total / perPage));
  return h('nav', { class: 'pager', 'aria-label': '分页' },
    button('上一页', { disabled: page <= 1, 'data-page': 'prev', onclick: () => go(page - 1) }),
    h('span', null, `第 ${page} / ${pages} 页，共 ${num(total)} 条`),
    button('下一页', { disabled: page >= pages, 'data-page': 'next', onclick: () => go(page + 1) }));
}

// ---- region names -------------------------------------------------------------
const regionCache = new Map();
export function regionName(code) {
  if (!code) return '—';
  const span = h('span', { class: 'region', title: code }, code);
  let p = regionCache.get(code);
  if (!p) {
    p = get(`/api/v1/regions/${encodeURIComponent(code)}`).then((r) => r.name).catch(() => null);
    regionCache.set(code, p);
  }
  p.then((name) => { if (name) span.textContent = `${name}`; });
  return span;
}

// Hash helpers: '#/merchants/ID?x=1' → {parts:['merchants','ID'], params}
export function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, qs] = raw.split('?');
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(qs || '') };
}
export function setParams(params) {
  const { parts } = parseHash();
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  const target = `#/${parts.map(encodeURIComponent).join('/')}${s ? `?${s}` : ''}`;
  if (location.hash !== target) location.hash = target; else window.dispatchEvent(new HashChangeEvent('hashchange'));
}
