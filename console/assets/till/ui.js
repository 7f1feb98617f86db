// Small DOM and formatting helpers shared by the till (/till) and the card (/card) pages.
// No inline styles anywhere: classes only (the CSP forbids style attributes).
import {
  BENEFICIARY_CATEGORY as CATEGORY, HONOR, CARD_PRODUCT as PRODUCT, MERCHANT_CATEGORY, PERIOD,
} from '../office/labels.js';

export const $ = (sel, root = document) => root.querySelector(sel);

/** h('li', {class, dataset: {offerId}, tabindex}, ...children) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'text') el.textContent = v;
    else if (k === 'style') throw new Error('no inline styles');
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}
function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false || c === '') continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function formatFen(fen) {
  if (fen === null || fen === undefined) return '—';
  const n = Number(fen);
  const sign = n < 0 ? '-' : '';
  const a = Math.abs(Math.trunc(n));
  return `${sign}¥${Math.floor(a / 100).toLocaleString('zh-CN')}.${String(a % 100).padStart(2, '0')}`;
}

/** '128.00' → 12800; '128' → 12800; '0.5' → 50; anything else → null. */
export function parseYuan(text) {
  const m = /^\s*(\d{1,13})(?:\.(\d{1,2}))?\s*$/.exec(String(text).replace(/[,，]/g, ''));
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] || '').padEnd(2, '0'));
}

export function formatTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString('zh-CN', { hour12: false });
}

export function formatDate(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleDateString('zh-CN');
}

// One vocabulary for every page: the office's labels.
export { CATEGORY, HONOR, PRODUCT, MERCHANT_CATEGORY, PERIOD };
export const label = (map, code) => map[code] || code || '';

export function offerTerms(o) {
  switch (o.kind) {
    case 'percent_off': {
      const zhe = (100 - o.percent_off) / 10;
      return `${zhe}折（优惠 ${o.percent_off}%）`;
    }
    case 'amount_off': return `立减 ${formatFen(o.amount_off_fen)}`;
    case 'fixed_price': return `优惠价 ${formatFen(o.price_fen)}`;
    case 'free': return '免费';
    case 'priority_service': return '优先服务';
    case 'gift': return '赠品：' + (o.gift || '');
    default: return o.kind || '';
  }
}

export function remainingText(o) {
  const parts = [];
  if (o.remaining_for_holder !== null && o.remaining_for_holder !== undefined) {
    parts.push(`本人${label(PERIOD, o.per_holder_period)}剩余 ${o.remaining_for_holder} 次`);
  } else {
    parts.push('本人不限次数');
  }
  if (o.remaining_total !== null && o.remaining_total !== undefined) parts.push(`总名额剩余 ${o.remaining_total}`);
  if (o.companions_allowed > 0) parts.push(`可带 ${o.companions_allowed} 名亲属`);
  return parts.join(' · ');
}

export function holderLine(holder, card) {
  const bits = [];
  if (holder) {
    bits.push(holder.name_masked || holder.name);
    bits.push(label(CATEGORY, holder.category));
    if (holder.honors && holder.honors.length) bits.push(holder.honors.map((x) => label(HONOR, x)).join('、'));
  }
  if (card) {
    bits.push(label(PRODUCT, card.product));
    bits.push(card.card_no_masked || '');
  }
  return bits.filter(Boolean).join(' · ');
}

/** An RFC 9457 problem: the Chinese detail, the English code in small print beside it. */
export function problemNode(problem, status) {
  const p = problem || {};
  const detail = p.detail || (status ? `请求失败（${status}）` : '请求失败');
  const node = h('span', { class: 'problem' }, detail, ' ', h('small', { class: 'code', lang: 'en' }, p.code || String(status || '')));
  if (Array.isArray(p.errors) && p.errors.length) {
    node.append(h('small', { class: 'fields' }, ' ' + p.errors.map((e) => `${e.field}: ${e.message}`).join('; ')));
  }
  return node;
}

export function maskCardNo(no) {
  const s = String(no || '');
  return s.length > 8 ? s.slice(0, 4) + '*'.repeat(s.length - 8) + s.slice(-4) : s;
}
export function maskName(name) {
  const s = Array.from(String(name || ''));
  if (s.length <= 1) return s.join('');
  if (s.length === 2) return s[0] + '*';
  return s[0] + '*'.repeat(s.length - 2) + s[s.length - 1];
}
