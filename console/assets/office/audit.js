// The audit trail table, shared by the merchant page and the audit log page.
import { h, table, dateTime } from './ui.js';
import { ACTION, MERCHANT_STATUS, NEED_STATUS, TASK_STATUS, label } from './labels.js';

const STATUS_OF = { need: NEED_STATUS, task: TASK_STATUS };

export function auditTable(items) {
  return table([
    { title: '时间', render: (a) => dateTime(a.created_at) },
    { title: '操作人', render: (a) => a.actor },
    { title: '操作', render: (a) => h('span', { title: a.action }, ACTION[a.action] || a.action) },
    { title: '对象', render: (a) => entity(a) },
    { title: '状态变化', render: (a) => { const m = STATUS_OF[a.entity_type] || MERCHANT_STATUS; return a.before_status || a.after_status ? `${label(m, a.before_status)} → ${label(m, a.after_status)}` : ''; } },
    { title: '理由/说明', render: (a) => a.reason || details(a.details) },
  ], items);
}

const LINKS = { merchant: ['merchants', '商户'], need: ['needs', '需求'], task: ['tasks', '任务'] };
function entity(a) {
  const short = `${String(a.entity_id).slice(0, 8)}…`;
  const link = LINKS[a.entity_type];
  return link ? h('a', { href: `#/${link[0]}/${a.entity_id}` }, `${link[1]} ${short}`) : `${a.entity_type} ${short}`;
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
