// The audit trail table, shared by the merchant page and the audit log page.
import { h, table, dateTime } from './ui.js';
import { ACTION, MERCHANT_STATUS, label } from './labels.js';

export function auditTable(items) {
  return table([
    { title: '时间', render: (a) => dateTime(a.created_at) },
    { title: '操作人', render: (a) => a.actor },
    { title: '操作', render: (a) => h('span', { title: a.action }, ACTION[a.action] || a.action) },
    { title: '对象', render: (a) => (a.entity_type === 'merchant' ? h('a', { href: `#/merchants/${a.entity_id}` }, `商户 ${a.entity_id.slice(0, 8)}…`) : `${a.entity_type} ${String(a.entity_id).slice(0, 8)}…`) },
    { title: '状态变化', render: (a) => (a.before_status || a.after_status ? `${label(MERCHANT_STATUS, a.before_status)} → ${label(MERCHANT_STATUS, a.after_status)}` : '') },
    { title: '理由/说明', render: (a) => a.reason || details(a.details) },
  ], items);
}

function details(d) {
  if (!d || typeof d !== 'object') return '';
  const parts = [];
  for (const [k, v] of Object.entries(d)) {
    if (v === null || v === undefined) continue;
    parts.push(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`);
    if (parts.length > 4) break;
  }
  return h('small', { class: 'muted' }, parts.join('；'));
}
