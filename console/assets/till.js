// The cashier's page (/till): scan a holder's QR code, verify it, redeem an offer;
// verify offline with the JWKS and the revocation feed when the network is gone, queue
// those redemptions and upload them when it returns (README, "Verifying offline").
import {
  verifyTokenOffline, verifyDetached, mergeRevocations, peekJws, rfc3339,
} from '/assets/offline.js';
import {
  $, h, clear, formatFen, parseYuan, offerTerms, remainingText, holderLine, problemNode,
  formatTime,
} from '/assets/till/ui.js';

const LS = {
  key: 'yj.till.key',
  jwks: 'yj.till.jwks',
  feed: 'yj.till.revocations',
  queue: 'yj.till.queue',
  jtis: 'yj.till.jtis',
  offers: 'yj.till.offers',
  log: 'yj.till.uploaded',
  merchant: 'yj.till.merchant',
};
const FEED_EVERY_MS = 5 * 60 * 1000;
const TICK_MS = 15 * 1000;

const load = (k, fallback) => {
  try { const v = localStorage.getItem(k); return v === null ? fallback : JSON.parse(v); } catch (_) { return fallback; }
};
const save = (k, v) => localStorage.setItem(k, JSON.stringify(v));
const terminalKey = () => localStorage.getItem(LS.key) || '';

// ---------------------------------------------------------------- network state
let online = navigator.onLine !== false;
function setOnline(value) {
  online = value;
  const el = $('#net-status');
  el.dataset.online = String(value);
  el.textContent = value ? '在线' : '离线';
  el.title = value ? '已连接服务器' : '无法连接服务器：扫码将离线核验，核销记录联网后自动上传';
}

/** fetch with the terminal key; a network failure throws TypeError (and marks us offline). */
async function api(path, { method = 'GET', body, headers = {}, raw = false } = {}) {
  const init = { method, headers: { Authorization: 'Bearer ' + terminalKey(), ...headers }, cache: 'no-store' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    setOnline(false);
    throw err instanceof TypeError ? err : new TypeError(String(err));
  }
  setOnline(true);
  if (raw) return res;
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
  return { status: res.status, ok: res.ok, data, res };
}
const isNetworkError = (err) => err instanceof TypeError;

// ---------------------------------------------------------------- offline data
let lastFeedAt = 0;
let feedError = '';

async function fetchJwks() {
  const res = await fetch('/.well-known/jwks.json', { cache: 'no-store' });
  setOnline(true);
  if (!res.ok) throw new Error('jwks ' + res.status);
  const jwks = await res.json();
  if (!jwks || !Array.isArray(jwks.keys)) throw new Error('jwks malformed');
  save(LS.jwks, { ...jwks, fetched_at: new Date().toISOString() });
  return jwks;
}

/** Fetches the revocation feed (every page, each signature checked) into localStorage. */
async function refreshOfflineData() {
  if (!terminalKey()) return;
  let jwks;
  try {
    jwks = await fetchJwks();
  } catch (err) {
    if (isNetworkError(err)) { setOnline(false); return; }
    feedError = '无法获取签名密钥';
    renderOfflineData();
    return;
  }
  const stored = load(LS.feed, null);
  const cards = stored ? { ...stored.cards } : {};
  let since = stored && stored.since;
  let cursor = null;
  let first = null;
  try {
    for (let page = 0; page < 1000; page++) {
      const params = new URLSearchParams();
      if (cursor) params.set('cursor', cursor);
      else if (since) params.set('since', since);
      params.set('limit', '1000');
      const res = await api('/api/v1/pos/revocations?' + params, { raw: true });
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (res.status === 422 && since && !cursor) {
        // e.g. our `since` is ahead of the server's clock: start again from scratch.
        since = null;
        for (const k of Object.keys(cards)) delete cards[k];
        continue;
      }
      if (!res.ok) {
        let problem = null;
        try { problem = JSON.parse(new TextDecoder().decode(bytes)); } catch (_) { /* */ }
        feedError = (problem && problem.detail) || ('吊销名单获取失败 (' + res.status + ')');
        renderOfflineData();
        return;
      }
      let check = await verifyDetached(res.headers.get('Yongjun-Signature'), bytes, jwks);
      if (!check.ok && check.reason === 'unknown_kid') {
        jwks = await fetchJwks();
        check = await verifyDetached(res.headers.get('Yongjun-Signature'), bytes, jwks);
      }
      if (!check.ok) {
        feedError = '吊销名单签名校验失败，已拒绝使用该数据';
        renderOfflineData();
        return;
      }
      const body = JSON.parse(new TextDecoder().decode(bytes));
      if (!first) first = body;
      mergeRevocations(cards, body.cards);
      if (!body.next_cursor) break;
      cursor = body.next_cursor;
    }
  } catch (err) {
    if (isNetworkError(err)) return; // keep the copy we have
    feedError = '吊销名单处理失败：' + err.message;
    renderOfflineData();
    return;
  }
  if (!first) return;
  save(LS.feed, {
    cards,
    since: first.issued_at,
    issued_at: first.issued_at,
    valid_until: first.valid_until,
    fetched_at: new Date().toISOString(),
  });
  feedError = '';
  lastFeedAt = Date.now();
  try { await refreshOffers(); } catch (_) { /* kept from before */ }
  renderOfflineData();
}

function feedStale(feed) {
  return !feed || !feed.valid_until || Date.parse(feed.valid_until) < Date.now();
}

function renderOfflineData() {
  const el = $('#offline-data');
  const jwks = load(LS.jwks, null);
  const feed = load(LS.feed, null);
  el.classList.remove('warn');
  if (!jwks || !feed) {
    el.textContent = '离线核验数据尚未下载' + (feedError ? '：' + feedError : '');
    el.classList.add('warn');
    return;
  }
  const n = Object.keys(feed.cards || {}).length;
  const offers = Object.keys(load(LS.offers, {})).length;
  const stale = feedStale(feed);
  // What a till has for a network cut: keys, the feed, and this shop's offers.
  el.dataset.ready = String(!stale && !feedError);
  el.dataset.offers = String(offers);
  el.textContent = `离线核验数据：密钥 ${jwks.keys.length} 个，停用卡 ${n} 张，本店优惠 ${offers} 项；更新于 ${formatTime(feed.issued_at)}，`
    + (stale ? `已于 ${formatTime(feed.valid_until)} 过期，离线核验结果可能不准确，请尽快联网` : `有效至 ${formatTime(feed.valid_until)}`)
    + (feedError ? `（${feedError}）` : '');
  if (stale || feedError) el.classList.add('warn');
}

// used jti: a token redeems once, offline too
function usedJtis() {
  const now = Math.floor(Date.now() / 1000);
  const all = load(LS.jtis, {});
  let changed = false;
  for (const [jti, exp] of Object.entries(all)) {
    if (exp + 300 < now) { delete all[jti]; changed = true; }
  }
  if (changed) save(LS.jtis, all);
  return all;
}
function markJtiUsed(claims) {
  const all = usedJtis();
  all[claims.jti] = claims.exp;
  save(LS.jtis, all);
}

// The offers we can offer offline: this merchant's active offers from the public
// listing, and those seen in online verifications. The terminal's merchant comes from
// GET /api/v1/pos/terminal (or, failing that, the first verification that lists an
// offer); until it is known the public listing is kept only while it is small.
async function refreshOffers() {
  if (!localStorage.getItem(LS.merchant)) {
    const me = await api('/api/v1/pos/terminal').catch(() => null);
    if (me && me.ok && me.data && me.data.merchant_id) localStorage.setItem(LS.merchant, me.data.merchant_id);
  }
  const merchant = localStorage.getItem(LS.merchant);
  const params = new URLSearchParams({ per_page: '100' });
  if (merchant) params.set('merchant_id', merchant);
  const res = await fetch('/api/v1/offers?' + params, { cache: 'no-store' });
  if (!res.ok) return;
  const data = await res.json();
  if (!merchant && data.total > 100) return;
  const now = Date.now();
  const all = {};
  for (const o of data.items) all[o.id] = { ...o, seen_at: now, unconfirmed: !merchant };
  save(LS.offers, all);
}

function rememberOffers(offers) {
  if (offers.length && offers[0].merchant_id) {
    if (localStorage.getItem(LS.merchant) !== offers[0].merchant_id) {
      localStorage.setItem(LS.merchant, offers[0].merchant_id);
      refreshOffers().catch(() => {});
    }
  }
  const all = load(LS.offers, {});
  const now = Date.now();
  for (const o of offers) all[o.id] = { ...o, seen_at: now };
  for (const [id, o] of Object.entries(all)) {
    if (now - o.seen_at > 30 * 24 * 3600 * 1000) delete all[id];
    else if (o.valid_until && Date.parse(o.valid_until) < now) delete all[id];
  }
  save(LS.offers, all);
}

// ---------------------------------------------------------------- queue
const queue = () => load(LS.queue, []);
function renderQueue() {
  const q = queue();
  const el = $('#queue');
  el.dataset.count = String(q.length);
  el.textContent = q.length ? `${q.length} 笔离线核销待上传` : '没有待上传的离线核销';
  el.classList.toggle('warn', q.length > 0);
  const list = clear($('#queue-list'));
  for (const item of q) {
    list.append(h('li', { class: 'pending', dataset: { key: item.key } },
      h('span', { class: 'tag' }, '待上传'), ' ', item.offer_title || '优惠', ' · ',
      item.body.bill_fen != null ? '消费 ' + formatFen(item.body.bill_fen) : '无金额',
      h('small', {}, ' 离线核验于 ' + formatTime(item.body.verified_offline_at))));
  }
  for (const entry of load(LS.log, []).slice(0, 10)) {
    const ok = entry.status === 'uploaded';
    list.append(h('li', { class: ok ? 'done' : 'refused', dataset: { key: entry.key } },
      h('span', { class: 'tag' }, ok ? '已上传' : '被拒绝'), ' ', entry.offer_title || '优惠', ' · ',
      ok ? '优惠 ' + formatFen(entry.discount_fen) : entry.detail || '',
      ok ? '' : h('small', { class: 'code' }, ' ' + (entry.code || '')),
      h('small', {}, ' ' + formatTime(entry.at))));
  }
}

let uploading = false;
async function uploadQueue() {
  if (uploading || !terminalKey()) return;
  uploading = true;
  try {
    for (;;) {
      const q = queue();
      if (!q.length) break;
      const item = q[0];
      let r;
      try {
        r = await api('/api/v1/pos/redemptions', {
          method: 'POST', body: item.body, headers: { 'Idempotency-Key': item.key },
        });
      } catch (err) {
        if (isNetworkError(err)) break;
        throw err;
      }
      // keep it for later: the server could not judge it now
      if (r.status >= 500 || r.status === 401 || r.status === 408 || r.status === 429) break;
      const entry = { key: item.key, offer_title: item.offer_title, at: new Date().toISOString() };
      if (r.ok) {
        Object.assign(entry, { status: 'uploaded', discount_fen: r.data.discount_fen, id: r.data.id });
      } else {
        const p = r.data || {};
        Object.assign(entry, {
          status: 'refused', code: p.code || String(r.status),
          detail: p.code === 'idempotency_key_reused' ? '该笔在断网前已核销成功' : p.detail,
        });
      }
      save(LS.log, [entry, ...load(LS.log, [])].slice(0, 50));
      save(LS.queue, queue().filter((x) => x.key !== item.key));
      renderQueue();
    }
  } finally {
    uploading = false;
    renderQueue();
  }
}

// ---------------------------------------------------------------- verdict and sale
let current = null; // {token, offline, verifiedAt, offers, selected, pending}

function resetSale() {
  current = null;
  $('#verdict-box').hidden = true;
  $('#sale-form').hidden = true;
  clear($('#offers'));
  $('#sale-msg').textContent = '';
}

function showVerdict({ valid, offline, title, lines, code }) {
  const box = $('#verdict-box');
  box.hidden = false;
  const v = clear($('#verdict'));
  v.dataset.valid = String(valid);
  v.dataset.offline = String(!!offline);
  v.append(h('div', { class: 'verdict-title' }, valid ? '✓ ' + title : '✗ ' + title,
    offline ? h('span', { class: 'badge' }, '离线核验') : ''));
  for (const line of lines) if (line) v.append(h('p', { class: 'verdict-line' }, line));
  if (code) v.append(h('small', { class: 'code' }, code));
}

function renderOffers(offers, { offline }) {
  const list = clear($('#offers'));
  for (const o of offers) {
    const li = h('li', {
      tabindex: '0', role: 'option', 'aria-selected': 'false', dataset: { offerId: o.id },
    },
    h('span', { class: 'offer-title' }, o.title),
    h('span', { class: 'offer-terms' }, offerTerms(o)),
    offline && o.merchant_name ? h('span', { class: 'offer-meta' }, o.merchant_name) : '',
    h('span', { class: 'offer-left' }, offline ? '离线：剩余次数以上传时为准' : remainingText(o)));
    li.addEventListener('click', () => selectOffer(o.id));
    li.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); selectOffer(o.id); }
      if (e.key === 'ArrowDown' && li.nextElementSibling) { e.preventDefault(); li.nextElementSibling.focus(); }
      if (e.key === 'ArrowUp' && li.previousElementSibling) { e.preventDefault(); li.previousElementSibling.focus(); }
    });
    list.append(li);
  }
}

const needsBill = (o) => ['percent_off', 'amount_off', 'fixed_price'].includes(o.kind);

function selectOffer(id) {
  if (!current) return;
  const o = current.offers.find((x) => x.id === id);
  if (!o) return;
  current.selected = o;
  for (const li of $('#offers').children) {
    const on = li.dataset.offerId === id;
    li.classList.toggle('selected', on);
    li.setAttribute('aria-selected', String(on));
  }
  $('#sale-form').hidden = false;
  $('#sale-offer').textContent = '已选：' + o.title + '（' + offerTerms(o) + '）';
  const bill = $('#bill');
  bill.required = needsBill(o);
  $('#companions-row').hidden = !(o.companions_allowed > 0);
  $('#companions').max = String(o.companions_allowed || 0);
  $('#sale-msg').textContent = '';
  $('#redeem').disabled = false;
  bill.focus();
}

async function onScan(event) {
  event.preventDefault();
  const input = $('#scan');
  const token = input.value.trim();
  input.value = '';
  if (!token) return;
  resetSale();
  $('#receipt').hidden = true;
  if (!terminalKey()) { showSetup(); return; }
  const verifiedAt = new Date();
  let r;
  try {
    r = await api('/api/v1/pos/verify', { method: 'POST', body: { token } });
  } catch (err) {
    if (!isNetworkError(err)) throw err;
    await offlineVerify(token, verifiedAt);
    return;
  }
  if (r.status === 200 && r.data) {
    const d = r.data;
    if (d.valid) {
      const offers = d.offers || [];
      rememberOffers(offers);
      current = { token, offline: false, verifiedAt, offers, selected: null, pending: null, card: d.card };
      showVerdict({
        valid: true, title: '可以享受拥军优待',
        lines: [holderLine(d.holder, d.card),
          offers.length ? '请选择优惠，输入消费金额后确认核销' : '身份有效，但本店目前没有该持卡人可用的优惠，可提供优先服务'],
      });
      renderOffers(offers, { offline: false });
      afterVerdict(offers);
    } else {
      showVerdict({ valid: false, title: '不能享受优惠', lines: [d.message || '该二维码不能使用'], code: d.reason });
      input.focus();
    }
    return;
  }
  const p = r.data || {};
  if (r.status === 401) {
    showVerdict({ valid: false, title: '终端密钥无效', lines: [p.detail || '请重新设置终端 API 密钥'], code: p.code });
    showSetup();
    return;
  }
  showVerdict({ valid: false, title: '核验失败', lines: [p.detail || ('服务器返回 ' + r.status)], code: p.code });
  input.focus();
}

async function offlineVerify(token, verifiedAt) {
  const jwks = load(LS.jwks, null);
  const feed = load(LS.feed, null);
  const result = await verifyTokenOffline(token, {
    jwks, revoked: (feed && feed.cards) || {}, usedJtis: usedJtis(),
    now: Math.floor(verifiedAt.getTime() / 1000),
  });
  if (!result.valid) {
    showVerdict({ valid: false, offline: true, title: '不能享受优惠', lines: [result.message], code: result.reason });
    $('#scan').focus();
    return;
  }
  const merchant = localStorage.getItem(LS.merchant);
  const offers = Object.values(load(LS.offers, {}))
    .filter((o) => !merchant || !o.merchant_id || o.merchant_id === merchant)
    .filter((o) => !o.valid_until || Date.parse(o.valid_until) > Date.now())
    .sort((a, b) => a.title.localeCompare(b.title, 'zh-CN'));
  const unconfirmed = !merchant && offers.some((o) => o.unconfirmed);
  current = { token, offline: true, verifiedAt, claims: result.claims, offers, selected: null, pending: null };
  showVerdict({
    valid: true, offline: true, title: '可以享受拥军优待',
    lines: [
      '网络中断：已用本机密钥离线核验此二维码（签名、有效期、停用名单）',
      feedStale(feed) ? '⚠ 离线停用名单已过期，结果可能不准确' : '',
      unconfirmed ? '⚠ 本机尚未确认所属商户，请只选择本店的优惠' : '',
      offers.length ? '请选择优惠并输入金额，核销记录将在联网后自动上传；名额以上传时为准，可能被拒绝'
        : '本机没有缓存本店优惠，可先提供优先服务，联网后再核销',
    ],
  });
  renderOffers(offers, { offline: true });
  afterVerdict(offers);
}

function afterVerdict(offers) {
  if (offers.length === 1) selectOffer(offers[0].id);
  else if (offers.length) $('#offers').firstElementChild.focus();
  else $('#scan').focus();
}

function estimateDiscount(o, billFen) {
  if (billFen == null) return 0;
  switch (o.kind) {
    case 'percent_off': return Math.round((billFen * o.percent_off) / 100);
    case 'amount_off': return Math.min(o.amount_off_fen || 0, billFen);
    case 'fixed_price': return Math.max(billFen - (o.price_fen || 0), 0);
    case 'free': return billFen;
    default: return 0;
  }
}

async function onRedeem(event) {
  event.preventDefault();
  const msg = $('#sale-msg');
  msg.textContent = '';
  if (!current || !current.selected) { msg.textContent = '请先选择优惠'; return; }
  const o = current.selected;
  const billText = $('#bill').value.trim();
  let billFen = null;
  if (billText) {
    billFen = parseYuan(billText);
    if (billFen === null) { msg.textContent = '金额格式不正确，例如 128.00'; $('#bill').focus(); return; }
  } else if (needsBill(o)) {
    msg.textContent = '请输入消费金额'; $('#bill').focus(); return;
  }
  const body = { token: current.token, offer_id: o.id };
  if (billFen !== null) body.bill_fen = billFen;
  if (o.companions_allowed > 0) {
    const c = parseInt($('#companions').value || '0', 10);
    if (!(c >= 0 && c <= o.companions_allowed)) { msg.textContent = `同行人数为 0–${o.companions_allowed}`; return; }
    body.companions = c;
  }
  if (current.offline) { queueOffline(o, body); return; }
  // one Idempotency-Key per sale attempt; a retry of the same sale reuses key and body
  const bodyText = JSON.stringify(body);
  if (!current.pending || current.pending.body !== bodyText) {
    current.pending = { key: crypto.randomUUID(), body: bodyText };
  }
  const { key } = current.pending;
  const button = $('#redeem');
  button.disabled = true;
  let r;
  try {
    r = await api('/api/v1/pos/redemptions', { method: 'POST', body: bodyText, headers: { 'Idempotency-Key': key } });
  } catch (err) {
    if (!isNetworkError(err)) throw err;
    button.disabled = false;
    clear(msg).append('网络中断，未能确认是否核销成功。请点“确认核销”重试（不会重复核销），或',
      offlineButton(o, body), '。');
    return;
  }
  button.disabled = false;
  if (r.status === 201 || r.status === 200) {
    showReceipt({ offer: o, view: r.data, offline: false });
    return;
  }
  const p = r.data || {};
  clear(msg).append(problemNode(p, r.status));
  if (['token_used', 'token_expired', 'token_invalid', 'card_suspended', 'card_revoked', 'card_expired'].includes(p.code)) {
    current.pending = null;
  }
}

function offlineButton(o, body) {
  const b = h('button', { type: 'button', class: 'plain inline' }, '改为离线记录，联网后上传');
  b.addEventListener('click', async () => {
    const jwks = load(LS.jwks, null);
    const feed = load(LS.feed, null);
    const at = new Date();
    const result = await verifyTokenOffline(current.token, {
      jwks, revoked: (feed && feed.cards) || {}, usedJtis: usedJtis(), now: Math.floor(at.getTime() / 1000),
    });
    if (!result.valid) { clear($('#sale-msg')).append(problemNode({ code: result.reason, detail: result.message })); return; }
    current.offline = true;
    current.claims = result.claims;
    current.verifiedAt = at;
    queueOffline(o, body, current.pending && current.pending.key);
  });
  return b;
}

function queueOffline(o, body, key) {
  const item = {
    key: key || crypto.randomUUID(),
    offer_title: o.title,
    queued_at: new Date().toISOString(),
    body: { ...body, verified_offline_at: rfc3339(current.verifiedAt) },
  };
  save(LS.queue, [...queue(), item]);
  const claims = current.claims || (peekJws(current.token) || {}).claims;
  if (claims && claims.jti) markJtiUsed(claims);
  renderQueue();
  showReceipt({ offer: o, offline: true, estimate: estimateDiscount(o, body.bill_fen ?? null), body: item.body });
}

function showReceipt({ offer, view, offline, estimate, body }) {
  const box = clear($('#receipt'));
  box.hidden = false;
  box.dataset.offline = String(offline);
  const bill = offline ? body.bill_fen : view.bill_fen;
  const discount = offline ? estimate : view.discount_fen;
  box.append(
    h('h2', {}, offline ? '已离线记录（待上传）' : '核销成功'),
    h('p', { class: 'receipt-offer' }, offer.title),
    h('dl', {},
      h('dt', {}, offline ? '预计优惠' : '优惠金额'), h('dd', { class: 'discount' }, formatFen(discount)),
      bill != null ? [h('dt', {}, '消费金额'), h('dd', { class: 'bill' }, formatFen(bill))] : [],
      bill != null ? [h('dt', {}, '应收金额'), h('dd', { class: 'payable' }, formatFen(Math.max(bill - discount, 0)))] : [],
      !offline ? [h('dt', {}, '卡号'), h('dd', {}, view.card_no_masked)] : [],
      h('dt', {}, '时间'), h('dd', {}, formatTime(offline ? body.verified_offline_at : view.redeemed_at)),
      !offline ? [h('dt', {}, '核销编号'), h('dd', { class: 'small' }, view.id)] : []),
    offline ? h('p', { class: 'hint' }, '网络恢复后自动上传；名额和次数以上传时为准，若被拒绝会在“离线待上传”中显示。') : '',
  );
  $('#verdict-box').hidden = true;
  current = null;
  $('#scan').focus();
}

// ---------------------------------------------------------------- setup
function showSetup() {
  $('#till-setup').hidden = false;
  $('#till-setup-cancel').hidden = !terminalKey();
  $('#till-main').hidden = !terminalKey();
  $('#till-key').focus();
}

async function onSaveKey(event) {
  event.preventDefault();
  const msg = $('#till-setup-msg');
  const value = $('#till-key').value.trim();
  if (!value) { msg.textContent = '请输入终端 API 密钥'; return; }
  msg.textContent = '正在校验…';
  const previous = terminalKey();
  localStorage.setItem(LS.key, value);
  try {
    const r = await api('/api/v1/pos/revocations?limit=1');
    if (r.status === 401) {
      if (previous) localStorage.setItem(LS.key, previous); else localStorage.removeItem(LS.key);
      clear(msg).append(problemNode(r.data || { code: 'unauthenticated', detail: '密钥无效' }, 401));
      return;
    }
  } catch (err) {
    if (!isNetworkError(err)) throw err; // offline: keep it, check later
  }
  if (previous && previous !== value) {
    localStorage.removeItem(LS.feed);
    localStorage.removeItem(LS.offers);
    localStorage.removeItem(LS.merchant);
  }
  msg.textContent = '';
  $('#till-key').value = '';
  $('#till-setup').hidden = true;
  $('#till-main').hidden = false;
  $('#scan').focus();
  refreshOfflineData();
  uploadQueue();
}

// ---------------------------------------------------------------- camera
function setupCamera() {
  const button = $('#camera');
  if (!('BarcodeDetector' in window) || !navigator.mediaDevices) { button.hidden = true; return; }
  button.hidden = false;
  let stream = null;
  let running = false;
  const stop = () => {
    running = false;
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
    $('#camera-box').hidden = true;
  };
  button.addEventListener('click', async () => {
    let detector;
    try {
      detector = new window.BarcodeDetector({ formats: ['qr_code'] });
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
    } catch (err) {
      stop();
      $('#sale-msg').textContent = '';
      showVerdict({ valid: false, title: '无法打开摄像头', lines: ['请允许使用摄像头，或使用扫码枪'], code: err.name });
      return;
    }
    const video = $('#camera-video');
    video.srcObject = stream;
    $('#camera-box').hidden = false;
    await video.play();
    running = true;
    const loop = async () => {
      if (!running) return;
      try {
        const codes = await detector.detect(video);
        if (codes.length && codes[0].rawValue) {
          stop();
          $('#scan').value = codes[0].rawValue;
          $('#scan-form').requestSubmit();
          return;
        }
      } catch (_) { /* next frame */ }
      requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
  });
  $('#camera-stop').addEventListener('click', stop);
}

// ---------------------------------------------------------------- ticking
async function probe() {
  try {
    const res = await fetch('/healthz', { cache: 'no-store' });
    setOnline(res.ok || res.status < 500);
  } catch (_) {
    setOnline(false);
  }
}

async function tick() {
  if (!terminalKey()) return;
  if (!online) await probe();
  if (!online) return;
  if (queue().length) await uploadQueue();
  if (Date.now() - lastFeedAt > FEED_EVERY_MS) await refreshOfflineData();
  renderOfflineData();
}

function start() {
  setOnline(online);
  $('#till-setup').addEventListener('submit', onSaveKey);
  $('#till-setup-cancel').addEventListener('click', () => { $('#till-setup').hidden = true; $('#scan').focus(); });
  $('#till-change').addEventListener('click', showSetup);
  $('#scan-form').addEventListener('submit', onScan);
  $('#sale-form').addEventListener('submit', onRedeem);
  $('#sync-now').addEventListener('click', async () => { await probe(); lastFeedAt = 0; await tick(); });
  window.addEventListener('online', () => { tick(); });
  window.addEventListener('offline', () => setOnline(false));
  setupCamera();
  renderQueue();
  renderOfflineData();
  if (!terminalKey()) {
    showSetup();
  } else {
    $('#till-main').hidden = false;
    $('#scan').focus();
  }
  tick();
  setInterval(tick, TICK_MS);
  setInterval(renderOfflineData, 60 * 1000);
}

start();
