// The merchant page: details, 联审, approval, public notice objections, activation,
// suspension/reinstatement/revocation/rejection, renewal, corrections, audit trail.
import { get, post, patch } from './api.js';
import {
  h, clear, section, pageHeader, dl, field, input, textarea, select, button, act, ok, val,
  table, regionName, dateTime, date, money, num, badge, empty, todayChina,
} from './ui.js';
import {
  MERCHANT_KIND, MERCHANT_CATEGORY, DEPARTMENT, VERDICT, EMERGENCY, OBJECTION_STATUS, EXIT_DECISION,
  ACTION, MERCHANT_STATUS, label, options,
} from './labels.js';
import { can, me } from './roles.js';
import { statusBadge } from './merchants.js';
import { auditTable } from './audit.js';

export async function render(root, ctx) {
  const id = ctx.parts[1];
  const m = await get(`/api/v1/admin/merchants/${encodeURIComponent(id)}`);
  await draw(root, m);
}

async function draw(root, m) {
  const reload = async (message) => {
    const fresh = await get(`/api/v1/admin/merchants/${m.id}`);
    clear(root);
    await draw(root, fresh);
    if (message) ok(message);
  };
  const run = (btn, fn, message) => act(btn, async () => { await fn(); await reload(message); });

  root.append(pageHeader(m.name, statusBadge(m.status), m.badge_no ? badge(`荣誉标识 ${m.badge_no}`, 'info') : null,
    m.exit_review ? badge('待退出复核', 'bad') : null),
  h('p', null, h('a', { href: '#/applications' }, '← 返回商户列表')));

  root.append(section('登记信息', dl([
    ['商户类型', label(MERCHANT_KIND, m.kind)],
    ['行业', label(MERCHANT_CATEGORY, m.category)],
    ['统一社会信用代码', m.credit_code],
    ['法定代表人', m.legal_representative],
    ['所在地', regionName(m.region_code)],
    ['地址', m.address],
    ['经纬度', `${m.latitude}, ${m.longitude}`],
    ['联系人', m.contact_name],
    ['联系电话', m.contact_phone || m.contact_phone_masked],
    ['拥军内容', m.services],
    ['具体措施', m.measures],
    ['服务承诺', m.commitments],
    ['急时战时能力', (m.emergency_capabilities || []).map((c) => label(EMERGENCY, c)).join('、') || '—'],
    ['急时战时承诺', m.emergency_commitment],
    ['合作协议', m.agreement_no ? `${m.agreement_no}（${date(m.agreement_start)} 至 ${date(m.agreement_end)}）` : '—'],
    ['公示截止', m.notice_ends_at ? dateTime(m.notice_ends_at) : null],
    ['准入时间', m.admitted_at ? dateTime(m.admitted_at) : null],
    ['状态说明', m.status_reason],
    ['申请时间', dateTime(m.created_at)],
  ])));

  root.append(reviewsSection(m, run));
  const decide = decisionSection(m, run);
  if (decide) root.append(decide);
  root.append(objectionsSection(m, run));
  if (m.exit_review) root.append(exitReviewSection(m, run));
  if (can('merchants.decide') && !['rejected', 'revoked'].includes(m.status)) {
    root.append(correctionSection(m, run), staffSection(m));
  }
  if (can('evaluations.read')) root.append(await evaluationSection(m));
  root.append(await trailSection(m));
}

function reviewsSection(m, run) {
  const prog = m.review_progress || { missing: [], failed: [], complete: false };
  const sec = section('军地联审');
  sec.append(h('p', { class: prog.complete ? 'ok-text' : 'muted', id: 'review-progress' },
    prog.complete ? '各部门均已通过，可以审批。' : [
      prog.missing.length ? `尚缺意见：${prog.missing.map((d) => label(DEPARTMENT, d)).join('、')}。` : '',
      prog.failed.length ? ` 未通过：${prog.failed.map((d) => label(DEPARTMENT, d)).join('、')}。` : '',
    ].join('')));
  const reviews = m.reviews || [];
  sec.append(reviews.length ? table([
    { title: '部门', render: (r) => label(DEPARTMENT, r.department) },
    { title: '意见', render: (r) => badge(label(VERDICT, r.verdict), r.verdict === 'pass' ? 'ok' : 'bad', r.verdict) },
    { title: '说明', render: (r) => r.comment },
    { title: '审核人', render: (r) => r.reviewer },
    { title: '时间', render: (r) => dateTime(r.created_at) },
    { title: '', render: (r) => (r.current ? '有效' : h('span', { class: 'muted' }, '已被替代')) },
  ], reviews) : empty('尚无部门意见'));

  if (can('merchants.review') && ['pending', 'under_review'].includes(m.status)) {
    const own = me.role === 'reviewer';
    const deps = own ? [[me.department, label(DEPARTMENT, me.department)]] : options(DEPARTMENT);
    const firstMissing = own ? me.department : (prog.missing[0] || prog.failed[0] || 'discipline_inspection');
    const form = h('form', { class: 'inline-form', id: 'review-form' },
      h('h3', null, own ? `记录本部门（${label(DEPARTMENT, me.department)}）意见` : '记录部门意见'),
      field('部门', select({ id: 'review-department', name: 'department', disabled: own }, deps, firstMissing)),
      field('意见', select({ id: 'review-verdict', name: 'verdict' }, options(VERDICT), 'pass')),
      field('说明', textarea({ id: 'review-comment', name: 'comment', placeholder: '例如：符合条件' })),
      button('提交意见', { class: 'primary', dataset: { action: 'review' } }));
    const btn = form.querySelector('[data-action="review"]');
    btn.type = 'submit';
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      run(btn, () => post(`/api/v1/admin/merchants/${m.id}/reviews`, {
        department: form.querySelector('#review-department').value,
        verdict: form.querySelector('#review-verdict').value,
        comment: form.querySelector('#review-comment').value.trim(),
      }), '部门意见已记录');
    });
    sec.append(form);
  }
  return sec;
}

function decisionSection(m, run) {
  if (!can('merchants.decide')) return null;
  const st = m.status;
  const sec = section('审批与处置');
  const path = (a) => `/api/v1/admin/merchants/${m.id}/${a}`;

  if (['pending', 'under_review'].includes(st)) {
    const form = h('div', { class: 'inline-form' },
      h('h3', null, '联审通过，进入社会公示'),
      field('审批意见（可选）', input({ id: 'approve-comment', name: 'comment', placeholder: '联审通过' })),
      button('审批通过', { class: 'primary', dataset: { action: 'approve' } }));
    const b = form.querySelector('button');
    b.addEventListener('click', () => run(b, () => post(path('approve'), { comment: val(form, '#approve-comment') }), '已审批通过，进入社会公示'));
    sec.append(form);
  }
  if (['public_notice', 'expired'].includes(st)) {
    const year = todayChina().slice(0, 4);
    const form = h('div', { class: 'inline-form' },
      h('h3', null, st === 'expired' ? '重新签约' : '签订合作协议，正式入驻'),
      m.notice_ends_at ? h('p', { class: 'muted' }, `公示截止：${dateTime(m.notice_ends_at)}`) : null,
      field('协议编号', input({ id: 'agreement-no', name: 'agreement_no', placeholder: `例如 LH-${year}-001` })),
      field('协议开始日期', input({ id: 'agreement-start', name: 'agreement_start', type: 'date', value: todayChina() })),
      field('协议结束日期', input({ id: 'agreement-end', name: 'agreement_end', type: 'date', value: `${Number(year) + 3}-12-31` })),
      button('签约入驻', { class: 'primary', dataset: { action: 'activate' } }));
    const b = form.querySelector('button');
    b.addEventListener('click', () => run(b, () => post(path('activate'), {
      agreement_no: val(form, '#agreement-no'), agreement_start: val(form, '#agreement-start'), agreement_end: val(form, '#agreement-end'),
    }), '已签约入驻'));
    sec.append(form);
  }
  if (['active', 'expired'].includes(st)) {
    const form = h('div', { class: 'inline-form' },
      h('h3', null, '续签合作协议'),
      field('新协议编号', input({ id: 'renew-no', name: 'agreement_no' })),
      field('开始日期（默认今天）', input({ id: 'renew-start', name: 'agreement_start', type: 'date' })),
      field('结束日期', input({ id: 'renew-end', name: 'agreement_end', type: 'date' })),
      button('续签', { dataset: { action: 'renew' } }));
    const b = form.querySelector('button');
    b.addEventListener('click', () => run(b, () => post(path('renew'), {
      agreement_no: val(form, '#renew-no'), agreement_start: val(form, '#renew-start'), agreement_end: val(form, '#renew-end'),
    }), '已续签'));
    sec.append(form);
  }
  const moves = [];
  if (['pending', 'under_review'].includes(st)) moves.push(['reject', '驳回申请', 'danger', '已驳回申请']);
  if (st === 'active') moves.push(['suspend', '暂停', 'warn', '已暂停']);
  if (st === 'suspended') moves.push(['reinstate', '恢复', '', '已恢复']);
  if (['active', 'suspended', 'expired'].includes(st)) moves.push(['revoke', '退出（撤销资格）', 'danger', '已退出']);
  if (moves.length) {
    const box = h('div', { class: 'inline-form' },
      h('h3', null, '状态处置'),
      field('理由', textarea({ id: 'reason', name: 'reason', placeholder: '必填：说明处置理由' })),
      h('div', { class: 'buttons' }, moves.map(([a, t, cls]) => button(t, { class: cls, dataset: { action: a } }))));
    for (const [a, , , message] of moves) {
      const b = box.querySelector(`[data-action="${a}"]`);
      b.addEventListener('click', () => {
        if ((a === 'revoke' || a === 'reject') && !window.confirm(`确定${a === 'revoke' ? '退出' : '驳回'}“${m.name}”？此操作不可撤销。`)) return;
        run(b, () => post(path(a), { reason: val(box, '#reason') }), message);
      });
    }
    sec.append(box);
  }
  if (!sec.querySelector('.inline-form')) sec.append(empty(`当前状态（${label(MERCHANT_STATUS, st)}）无可执行的操作`));
  return sec;
}

function objectionsSection(m, run) {
  const list = m.objections || [];
  const sec = section('社会公示异议');
  if (!list.length) { sec.append(empty(m.status === 'public_notice' ? '公示期内暂无异议' : '无异议')); return sec; }
  sec.append(table([
    { title: '异议内容', render: (o) => o.content },
    { title: '联系电话', render: (o) => o.contact_phone_masked || '—' },
    { title: '提出时间', render: (o) => dateTime(o.created_at) },
    { title: '状态', render: (o) => badge(label(OBJECTION_STATUS, o.status), o.status === 'open' ? 'warn' : 'plain', o.status) },
    { title: '处理', render: (o) => (o.status === 'open' && can('merchants.decide') ? objectionForm(m, o, run) : [o.resolution_comment || '', o.resolved_at ? h('small', { class: 'muted' }, ` ${dateTime(o.resolved_at)}`) : '']) },
  ], list));
  return sec;
}

function objectionForm(m, o, run) {
  const f = h('div', { class: 'row-form' },
    field('结论', select({ id: `objection-outcome-${o.id}`, name: 'outcome' }, [['dismissed', '异议不成立（继续公示）'], ['upheld', '异议成立（驳回申请）']], 'dismissed')),
    field('说明', input({ id: `objection-comment-${o.id}`, name: 'comment' })),
    button('处理异议', { dataset: { action: 'resolve-objection', objectionId: o.id } }));
  const b = f.querySelector('button');
  b.addEventListener('click', () => run(b, () => post(`/api/v1/admin/merchants/${m.id}/objections/${o.id}/resolve`, {
    outcome: f.querySelector('select').value, comment: f.querySelector('input').value.trim(),
  }), '异议已处理'));
  return f;
}

function exitReviewSection(m, run) {
  const sec = section('退出复核', dl([['列入原因', m.exit_review.reason], ['列入时间', dateTime(m.exit_review.flagged_at)]]));
  if (can('merchants.decide')) {
    const f = h('div', { class: 'inline-form' },
      field('复核决定', select({ id: 'exit-decision', name: 'decision' }, options(EXIT_DECISION), 'retain')),
      field('理由', textarea({ id: 'exit-reason', name: 'reason' })),
      button('提交复核决定', { class: 'primary', dataset: { action: 'exit-review' } }));
    const b = f.querySelector('button');
    b.addEventListener('click', () => run(b, () => post(`/api/v1/admin/merchants/${m.id}/exit-review`, {
      decision: val(f, '#exit-decision'), reason: val(f, '#exit-reason'),
    }), '复核决定已记录'));
    sec.append(f);
  }
  return sec;
}

function correctionSection(m, run) {
  const f = h('form', { class: 'inline-form', id: 'correction-form' },
    field('名称', input({ id: 'fix-name', name: 'name', value: m.name })),
    field('类型', select({ id: 'fix-kind', name: 'kind' }, options(MERCHANT_KIND), m.kind)),
    field('行业', select({ id: 'fix-category', name: 'category' }, options(MERCHANT_CATEGORY), m.category)),
    field('行政区划代码', input({ id: 'fix-region', name: 'region_code', value: m.region_code, maxlength: 6 })),
    field('修改理由', input({ id: 'fix-reason', name: 'reason', placeholder: '必填，例如：营业执照名称变更' })),
    h('button', { type: 'submit', dataset: { action: 'update' } }, '保存修改'));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    const body = { reason: val(f, '#fix-reason') };
    if (f.name.value.trim() !== m.name) body.name = f.name.value.trim();
    if (f.kind.value !== m.kind) body.kind = f.kind.value;
    if (f.category.value !== m.category) body.category = f.category.value;
    if (f.region_code.value.trim() !== m.region_code) body.region_code = f.region_code.value.trim();
    run(f.querySelector('button'), () => patch(`/api/v1/admin/merchants/${m.id}`, body), '登记信息已修改');
  });
  const d = h('details', { class: 'card' }, h('summary', null, '更正登记信息（名称、类型、行业、区划）'), f);
  return d;
}

function staffSection(m) {
  const f = h('form', { class: 'inline-form', id: 'merchant-staff-form' },
    field('用户名', input({ id: 'staff-username', name: 'username', autocomplete: 'off' })),
    field('初始密码', input({ id: 'staff-password', name: 'password', type: 'password', autocomplete: 'new-password' }), '至少 12 个字符'),
    h('button', { type: 'submit', dataset: { action: 'create-staff' } }, '开通账号'));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    act(f.querySelector('button'), async () => {
      const u = await post(`/api/v1/admin/merchants/${m.id}/staff`, { username: val(f, '#staff-username'), password: f.password.value });
      f.reset();
      ok(`已为商户开通工作人员账号 ${u.username}`);
    });
  });
  return h('details', { class: 'card' }, h('summary', null, '为商户开通工作人员账号'), f);
}

async function evaluationSection(m) {
  const sec = section('效果评估（近 90 天）');
  try {
    const e = await get(`/api/v1/admin/merchants/${m.id}/evaluation`);
    sec.append(dl([
      ['统计区间', `${e.from} 至 ${e.to}`],
      ['核销人次', num(e.redemptions)],
      ['服务持卡人', num(e.distinct_holders)],
      ['优惠金额', money(e.discount_total_fen)],
      ['投诉', num(e.complaints)],
      ['投诉率', e.complaint_rate === null || e.complaint_rate === undefined ? '—' : `${(e.complaint_rate * 100).toFixed(1)}%`],
      ['平均评分', e.average_rating === null || e.average_rating === undefined ? '—' : e.average_rating.toFixed(1)],
      ['最近抽查', e.last_spot_check ? `${e.last_spot_check.outcome === 'compliant' ? '合格' : '不合格'}（${dateTime(e.last_spot_check.recorded_at)}）` : '—'],
    ]));
  } catch (err) { sec.append(empty(`无法读取：${err.message}`)); }
  return sec;
}

async function trailSection(m) {
  const sec = section('操作记录');
  if (can('audit_log.read')) {
    try {
      const log = await get('/api/v1/admin/audit-log', { entity_id: m.id, per_page: 100 });
      sec.append(log.items.length ? auditTable(log.items) : empty('暂无记录'));
      return sec;
    } catch { /* fall back to the record's own history */ }
  }
  const hist = m.history || [];
  sec.append(hist.length ? auditTable(hist) : empty('暂无记录'));
  return sec;
}

export { ACTION };
