// 双清单任务: the joint task list (GET/POST /admin/tasks), overdue ones marked (逾期),
// a task with its progress, status changes and completion with its evidence.
import { get, post } from './api.js';
import {
  h, pageHeader, section, dl, field, input, textarea, select, table, pager, setParams, act, ok, empty,
  dateTime, date, badge, regionName, val,
} from './ui.js';
import { TASK_DIRECTION, TASK_STATUS, TASK_EVENT, label, options } from './labels.js';
import { can, me } from './roles.js';

const refresh = () => window.dispatchEvent(new HashChangeEvent('hashchange'));

// The status, and 逾期 when the server says the task is past its deadline.
export function taskStatus(t) {
  const kind = { open: 'warn', in_progress: 'info', done: 'ok', closed: 'plain' }[t.status];
  return [badge(label(TASK_STATUS, t.status), kind, t.status), t.overdue ? h('span', { class: 'badge badge-bad overdue', dataset: { overdue: 'true' } }, '逾期') : null];
}

// Attachments' names typed one per line or separated by commas.
const names = (text) => text.split(/[\n,，、]+/).map((x) => x.trim()).filter(Boolean);

export async function render(root, ctx) {
  if (ctx.parts[1]) return task(root, ctx.parts[1]);
  return list(root, ctx);
}

async function list(root, ctx) {
  const p = ctx.params;
  const f0 = {
    status: p.get('status') || '', direction: p.get('direction') || '', overdue: p.get('overdue') || '',
    mine: p.get('mine') || '', region: p.get('region') || '', page: Number(p.get('page') || 1),
  };
  const data = await get('/api/v1/admin/tasks', { ...f0, per_page: 20 });
  const f = h('form', { class: 'filters', id: 'task-filter', role: 'search' },
    field('清单', select({ id: 'task-filter-direction', name: 'direction' }, options(TASK_DIRECTION), f0.direction, '两张清单')),
    field('状态', select({ id: 'task-filter-status', name: 'status' }, options(TASK_STATUS), f0.status, '全部状态')),
    field('逾期', select({ id: 'task-filter-overdue', name: 'overdue' }, [['true', '仅逾期']], f0.overdue, '不限')),
    field('责任人', select({ id: 'task-filter-mine', name: 'mine' }, [['true', '仅本人负责']], f0.mine, '不限')),
    field('行政区划代码', input({ id: 'task-filter-region', name: 'region', value: f0.region, maxlength: 6 })),
    h('button', { type: 'submit', class: 'primary', id: 'task-filter-submit' }, '查询'));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    setParams({ direction: f.direction.value, status: f.status.value, overdue: f.overdue.value, mine: f.mine.value, region: f.region.value.trim() });
  });
  const set = Object.entries(f0).filter(([k, v]) => v && k !== 'page');
  const shown = set.length === 0 ? '' : (set.length === 1 ? `${set[0][0]}=${set[0][1]}` : null);
  const tabs = h('div', { class: 'tabs', role: 'group', 'aria-label': '快速筛选' },
    [['', '全部'], ['overdue=true', '逾期'], ['status=in_progress', '推进中'], ['mine=true', '本人负责']].map(([q, t]) =>
      h('a', { href: `#/tasks${q ? `?${q}` : ''}`, class: shown === q ? 'tab current' : 'tab', 'aria-current': shown === q ? 'true' : null, dataset: { tab: q || 'all' } }, t)));
  root.append(pageHeader('双清单任务', h('p', { class: 'muted' }, '军地互办实事：明确责任单位、责任人和完成时限，逐项跟踪至办结；超过时限未办结的标为逾期')), tabs);
  if (can('tasks.write')) root.append(taskForm());
  root.append(f, data.items.length ? table([
    { title: '任务', render: (t) => [h('a', { href: `#/tasks/${t.id}` }, t.title), t.need_id ? h('div', { class: 'muted' }, h('a', { href: `#/needs/${t.need_id}` }, '来自需求清单')) : null] },
    { title: '清单', render: (t) => label(TASK_DIRECTION, t.direction) },
    { title: '所在地', render: (t) => regionName(t.region_code) },
    { title: '责任单位', render: (t) => t.owner_unit },
    { title: '责任人', render: (t) => t.owner_user },
    { title: '完成时限', render: (t) => date(t.deadline) },
    { title: '状态', render: (t) => taskStatus(t) },
    { title: '年度项目', render: (t) => (t.publish ? '是' : '') },
  ], data.items, { onRow: (t) => { location.hash = `#/tasks/${t.id}`; } }) : empty(f0.overdue ? '没有逾期的任务' : '没有符合条件的任务'),
  pager(data.page, data.per_page, data.total, (pg) => setParams({ ...f0, page: pg })));
  // Overdue rows are marked on the row too, for the eye.
  for (const t of data.items) if (t.overdue) root.querySelector(`tr[data-id="${CSS.escape(t.id)}"]`)?.classList.add('overdue-row');
}

// A task put on the list without a need (by default the second list: 部队为地方办实事).
function taskForm() {
  const f = h('form', { id: 'task-form', class: 'stack-form' },
    h('div', { class: 'grid2' },
      field('任务名称', input({ id: 'new-task-title', name: 'title', placeholder: '例如：助力春耕' })),
      field('清单', select({ id: 'new-task-direction', name: 'direction' }, options(TASK_DIRECTION), 'troops_for_locality'))),
    h('div', { class: 'grid3' },
      field('行政区划代码', input({ id: 'new-task-region', name: 'region_code', value: me.region_code || '', maxlength: 6 })),
      field('责任单位', input({ id: 'new-task-owner-unit', name: 'owner_unit', placeholder: '例如：驻沁某部' })),
      field('责任人（工作人员用户名）', input({ id: 'new-task-owner-user', name: 'owner_user', value: me.username || '', autocomplete: 'off' })),
      field('完成时限', input({ id: 'new-task-deadline', name: 'deadline', type: 'date' }), '可为过去的日期（补录原有台账）')),
    field('措施', textarea({ id: 'new-task-measures', name: 'measures' })),
    h('div', { class: 'field' }, h('span', { class: 'check' }, h('input', { type: 'checkbox', id: 'new-task-publish', name: 'publish' }), h('label', { for: 'new-task-publish' }, '列入年度拥军项目清单（公开）'))),
    h('button', { type: 'submit', id: 'new-task-submit', class: 'primary' }, '登记任务'));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    act(f.querySelector('#new-task-submit'), async () => {
      const t = await post('/api/v1/admin/tasks', {
        direction: f.querySelector('#new-task-direction').value, title: val(f, '#new-task-title'),
        region_code: val(f, '#new-task-region'), owner_unit: val(f, '#new-task-owner-unit'),
        owner_user: val(f, '#new-task-owner-user'), measures: f.querySelector('#new-task-measures').value.trim(),
        deadline: val(f, '#new-task-deadline'), publish: f.querySelector('#new-task-publish').checked,
      });
      ok(`任务“${t.title}”已登记`);
      location.hash = `#/tasks/${t.id}`;
    });
  });
  return h('details', { class: 'card', id: 'task-form-box' }, h('summary', null, '登记任务（不来自需求清单）'), f);
}

// ---- one task -------------------------------------------------------------------
async function task(root, id) {
  const t = await get(`/api/v1/admin/tasks/${encodeURIComponent(id)}`);
  const open = !['done', 'closed'].includes(t.status);
  root.append(pageHeader(t.title, taskStatus(t)),
    h('p', null, h('a', { href: '#/tasks' }, '← 返回任务列表'), t.need_id ? [' · ', h('a', { href: `#/needs/${t.need_id}`, id: 'task-need' }, '查看需求')] : null),
    section(null, dl([
      ['清单', label(TASK_DIRECTION, t.direction)], ['所在地', regionName(t.region_code)],
      ['责任单位', t.owner_unit], ['责任人', t.owner_user], ['措施', t.measures],
      ['完成时限', [date(t.deadline), t.overdue ? ' （已逾期）' : '']],
      ['状态', h('span', { id: 'task-status', dataset: { status: t.status, overdue: String(t.overdue) } }, label(TASK_STATUS, t.status))],
      t.merchant_id && can('merchants.read') ? ['承办商户', h('a', { href: `#/merchants/${t.merchant_id}` }, '查看')] : null,
      ['年度项目', t.publish ? '是（公开）' : '否'],
      t.evidence ? ['办结佐证', t.evidence] : null, t.close_reason ? ['关闭原因', t.close_reason] : null,
      ['登记时间', dateTime(t.created_at)], t.started_at ? ['开始时间', dateTime(t.started_at)] : null,
      t.done_at ? ['完成时间', dateTime(t.done_at)] : null,
    ])));
  const events = section('进展记录', t.events.length ? table([
    { title: '时间', render: (e) => dateTime(e.created_at) },
    { title: '类型', render: (e) => h('span', { dataset: { kind: e.kind } }, label(TASK_EVENT, e.kind)) },
    { title: '内容', render: (e) => [e.status ? h('strong', null, `${label(TASK_STATUS, e.status)} `) : null, e.body] },
    { title: '附件', render: (e) => e.attachments.join('、') },
    { title: '记录人', render: (e) => e.author },
  ], t.events) : empty('尚无进展记录'));
  events.id = 'task-events';
  root.append(events);
  if (!open || !can('tasks.write')) return;
  root.append(noteForm(t), statusForm(t), completeForm(t));
}

function noteForm(t) {
  const f = h('form', { id: 'note-form', class: 'stack-form' },
    field('进展情况', textarea({ id: 'note-body', name: 'body' })),
    field('附件名称（每行一个，文件另行存档）', textarea({ id: 'note-attachments', name: 'attachments', rows: 2 })),
    h('button', { type: 'submit', id: 'note-submit', class: 'primary' }, '记录进展'));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    act(f.querySelector('#note-submit'), async () => {
      await post(`/api/v1/admin/tasks/${t.id}/notes`, { body: f.querySelector('#note-body').value.trim(), attachments: names(f.querySelector('#note-attachments').value) });
      ok('进展已记录');
      refresh();
    });
  });
  return section('记录进展', f);
}

function statusForm(t) {
  const choices = (t.status === 'open' ? [['in_progress', '开始推进']] : []).concat([['closed', '关闭']]);
  const f = h('form', { id: 'task-status-form', class: 'inline-form' },
    field('改为', select({ id: 'task-next-status', name: 'status' }, choices, choices[0][0])),
    field('理由（关闭时必填）', input({ id: 'task-reason', name: 'reason' })),
    h('button', { type: 'submit', id: 'task-status-submit' }, '变更状态'));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    const status = f.querySelector('#task-next-status').value;
    if (status === 'closed' && !window.confirm(`确定关闭任务“${t.title}”？关闭后不可恢复。`)) return;
    act(f.querySelector('#task-status-submit'), async () => {
      const moved = await post(`/api/v1/admin/tasks/${t.id}/status`, { status, reason: val(f, '#task-reason') });
      ok(`任务已${label(TASK_STATUS, moved.status)}`);
      refresh();
    });
  });
  return section('任务状态', f);
}

function completeForm(t) {
  const f = h('form', { id: 'complete-form', class: 'stack-form' },
    field('办结佐证', textarea({ id: 'complete-evidence', name: 'evidence', placeholder: '例如：托管班已开班，35 名官兵子女入班' })),
    field('附件名称（每行一个）', textarea({ id: 'complete-attachments', name: 'attachments', rows: 2 })),
    h('button', { type: 'submit', id: 'complete-submit', class: 'primary' }, '办结'));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    act(f.querySelector('#complete-submit'), async () => {
      await post(`/api/v1/admin/tasks/${t.id}/complete`, { evidence: f.querySelector('#complete-evidence').value.trim(), attachments: names(f.querySelector('#complete-attachments').value) });
      ok('任务已办结');
      refresh();
    });
  });
  return section('办结', f);
}
