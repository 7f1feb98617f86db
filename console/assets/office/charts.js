// Inline SVG charts, built with the DOM (no library, nothing off the origin).
import { h, s, money, num } from './ui.js';

const W = 640;

// Vertical bars by month: count (bars) and amount saved (second bar series).
export function monthBars(months, { title }) {
  const H = 240, padL = 44, padR = 56, padT = 16, padB = 40;
  const nice = (v) => Math.max(4, Math.ceil(v / 4) * 4);
  const maxCount = nice(Math.max(0, ...months.map((m) => m.count)));
  const maxFen = nice(Math.ceil(Math.max(0, ...months.map((m) => m.discount_fen)) / 100)) * 100;
  const innerW = W - padL - padR, innerH = H - padT - padB;
  const slot = innerW / Math.max(1, months.length);
  const bw = Math.max(4, Math.min(22, slot / 2 - 3));
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': title });
  svg.append(s('title', null, title));
  for (let i = 0; i <= 4; i++) {
    const y = padT + innerH - (innerH * i) / 4;
    svg.append(s('line', { x1: padL, x2: W - padR, y1: y, y2: y, class: 'grid' }));
    svg.append(s('text', { x: padL - 6, y: y + 4, class: 'axis', 'text-anchor': 'end' }, num(Math.round((maxCount * i) / 4))));
    svg.append(s('text', { x: W - padR + 6, y: y + 4, class: 'axis' }, `¥${Math.round((maxFen * i) / 4 / 100)}`));
  }
  months.forEach((m, i) => {
    const x = padL + slot * i + slot / 2;
    const hc = (innerH * m.count) / maxCount;
    const hf = (innerH * m.discount_fen) / maxFen;
    const r1 = s('rect', { x: x - bw - 1, y: padT + innerH - hc, width: bw, height: Math.max(0, hc), class: 'bar bar-count' });
    r1.append(s('title', null, `${m.label}：${num(m.count)} 人次`));
    const r2 = s('rect', { x: x + 1, y: padT + innerH - hf, width: bw, height: Math.max(0, hf), class: 'bar bar-amount' });
    r2.append(s('title', null, `${m.label}：优惠 ${money(m.discount_fen)}`));
    svg.append(r1, r2, s('text', { x, y: H - padB + 16, class: 'axis', 'text-anchor': 'middle' }, m.short));
  });
  return h('figure', { class: 'chart-box' }, svg,
    h('figcaption', null, h('span', { class: 'legend legend-count' }, '核销人次（左轴）'), ' ', h('span', { class: 'legend legend-amount' }, '优惠金额（右轴，元）')));
}

// Horizontal bars for a list of {label, value, title}.
export function hBars(rows, { title, format = num, kind = 'a' }) {
  if (!rows.length) return h('p', { class: 'empty' }, '暂无数据');
  const W = 400, rowH = 24, labelW = 110, valueW = 70;
  const H = rows.length * rowH + 8;
  const max = Math.max(1, ...rows.map((r) => r.value));
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': title });
  svg.append(s('title', null, title));
  rows.forEach((r, i) => {
    const y = 4 + i * rowH;
    const w = ((W - labelW - valueW) * r.value) / max;
    svg.append(s('text', { x: labelW - 8, y: y + 16, class: 'axis', 'text-anchor': 'end' }, r.label));
    const rect = s('rect', { x: labelW, y: y + 3, width: Math.max(1, w), height: rowH - 8, rx: 3, class: `bar bar-${kind}` });
    rect.append(s('title', null, `${r.label}：${format(r.value)}`));
    svg.append(rect, s('text', { x: labelW + w + 6, y: y + 16, class: 'value' }, format(r.value)));
  });
  return h('figure', { class: 'chart-box' }, svg);
}

// A progress bar against a target.
export function progress(actual, target, { title }) {
  const pct = target ? Math.min(100, (actual / target) * 100) : 0;
  const H = 44;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart progress', role: 'img', 'aria-label': title });
  svg.append(s('title', null, title));
  svg.append(s('rect', { x: 0, y: 8, width: W, height: 22, rx: 11, class: 'track' }));
  svg.append(s('rect', { x: 0, y: 8, width: Math.max(pct ? 22 : 0, (W * pct) / 100), height: 22, rx: 11, class: 'fill' }));
  svg.append(s('text', { x: W / 2, y: 24, class: 'progress-text', 'text-anchor': 'middle' },
    target ? `${num(actual)} / ${num(target)}（${((actual / target) * 100).toFixed(1)}%）` : `${num(actual)}（未设目标）`));
  return h('figure', { class: 'chart-box' }, svg);
}

// A donut for shares (e.g. partners by status).
export function donut(rows, { title }) {
  if (!rows.length) return h('p', { class: 'empty' }, '暂无数据');
  const total = rows.reduce((a, r) => a + r.value, 0) || 1;
  const size = 180, r = 70, c = 2 * Math.PI * r;
  const svg = s('svg', { viewBox: `0 0 ${size} ${size}`, class: 'chart donut', role: 'img', 'aria-label': title });
  svg.append(s('title', null, title));
  let offset = 0;
  rows.forEach((row, i) => {
    const len = (c * row.value) / total;
    const circle = s('circle', {
      cx: size / 2, cy: size / 2, r, class: `slice slice-${i % 8}`,
      'stroke-dasharray': `${len} ${c - len}`, 'stroke-dashoffset': -offset,
      transform: `rotate(-90 ${size / 2} ${size / 2})`,
    });
    circle.append(s('title', null, `${row.label}：${num(row.value)}`));
    svg.append(circle);
    offset += len;
  });
  svg.append(s('text', { x: size / 2, y: size / 2 + 8, 'text-anchor': 'middle', class: 'donut-total' }, num(total)));
  const legend = h('ul', { class: 'donut-legend' }, rows.map((row, i) => h('li', null, h('span', { class: `swatch slice-${i % 8}` }), `${row.label} ${num(row.value)}`)));
  return h('figure', { class: 'chart-box donut-box' }, svg, legend);
}
