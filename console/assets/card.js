// The holder's page (/card): activate a card, show its rotating QR code, the offers the
// holder may use (near them on consent), their redemptions, and a complaint form.
import { peekJws } from '/assets/offline.js';
import {
  $, h, clear, formatFen, formatDate, formatTime, offerTerms, remainingText, problemNode,
  label, CATEGORY, HONOR, PRODUCT, MERCHANT_CATEGORY, maskCardNo, maskName,
} from '/assets/till/ui.js';

const LS = { access: 'yj.holder.access', refresh: 'yj.holder.refresh', offers: 'yj.holder.offer-info' };
const DAY = 24 * 3600 * 1000;

// ---------------------------------------------------------------- tokens and calls
let refreshing = null;

function storeTokens(t) {
  localStorage.setItem(LS.access, t.access_token);
  localStorage.setItem(LS.refresh, t.refresh_token);
}
function clearTokens() {
  localStorage.removeItem(LS.access);
  localStorage.removeItem(LS.refresh);
}

async function refreshTokens() {
  const refreshToken = localStorage.getItem(LS.refresh);
  if (!refreshToken) return false;
  if (!refreshing) {
    refreshing = (async () => {
      const res = await fetch('/api/v1/holder/token/refresh', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh_token: refreshToken }), cache: 'no-store',
      });
      if (!res.ok) return false;
      storeTokens(await res.json());
      return true;
    })().finally(() => { refreshing = null; });
  }
  return refreshing;
}

class SignedOut extends Error {}

/** A holder call: on 401 refresh once and retry; when that fails, back to activation. */
async function call(path, { method = 'GET', body } = {}, retried = false) {
  const access = localStorage.getItem(LS.access);
  if (!access) { signedOut(); throw new SignedOut(); }
  const init = { method, headers: { Authorization: 'Bearer ' + access }, cache: 'no-store' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  if (res.status === 401 && !retried) {
    let ok = false;
    try { ok = await refreshTokens(); } catch (_) { ok = false; }
    if (ok) return call(path, { method, body }, true);
    signedOut('登录已失效或优待卡已停用，请重新激活');
    throw new SignedOut();
  }
  if (res.status === 401) { signedOut('登录已失效，请重新激活'); throw new SignedOut(); }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
  return { status: res.status, ok: res.ok, data };
}

function netMessage(err) {
  return err instanceof TypeError ? '网络连接失败，请稍后重试' : (err && err.message) || '出错了';
}

// ---------------------------------------------------------------- views
function signedOut(message) {
  stopQr();
  clearTokens();
  $('#holder-view').hidden = true;
  $('#activate-form').hidden = false;
  $('#activate-msg').textContent = message || '';
  $('#card-no').focus();
}

async function onActivate(event) {
  event.preventDefault();
  const msg = $('#activate-msg');
  const cardNo = $('#card-no').value.replace(/[\s-]/g, '');
  const code = $('#activation-code').value.trim();
  if (!/^\d{16}$/.test(cardNo)) { msg.textContent = '卡号应为 16 位数字'; $('#card-no').focus(); return; }
  if (!code) { msg.textContent = '请输入激活码'; $('#activation-code').focus(); return; }
  const button = $('#activate-submit');
  button.disabled = true;
  msg.textContent = '正在激活…';
  try {
    const res = await fetch('/api/v1/holder/activate', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ card_no: cardNo, activation_code: code }), cache: 'no-store',
    });
    const data = await res.json().catch(() => null);
    if (!res.ok) { clear(msg).append(problemNode(data, res.status)); return; }
    storeTokens(data);
    $('#card-no').value = '';
    $('#activation-code').value = '';
    msg.textContent = '';
    await showHolder();
  } catch (err) {
    msg.textContent = netMessage(err);
  } finally {
    button.disabled = false;
  }
}

async function showHolder() {
  $('#activate-form').hidden = true;
  $('#holder-view').hidden = false;
  try {
    await loadCard();
  } catch (err) {
    if (err instanceof SignedOut) return;
    clear($('#card-info')).append(h('p', {}, netMessage(err)));
  }
  startQr();
  loadOffers(false).then(loadRedemptions).catch(() => {});
}

async function loadCard() {
  const r = await call('/api/v1/holder/card');
  const info = clear($('#card-info'));
  if (!r.ok) { info.append(problemNode(r.data, r.status)); return; }
  const c = r.data;
  const honors = (c.holder.honors || []).map((x) => label(HONOR, x)).join('、');
  const statusText = { active: '有效', suspended: '已暂停', revoked: '已注销', expired: '已过期' }[c.status] || c.status;
  info.append(
    h('p', { class: 'card-no', 'aria-label': '卡号（已隐藏部分）' }, maskCardNo(c.card_no)),
    h('p', { class: 'card-meta' }, maskName(c.holder.name), ' · ', label(CATEGORY, c.holder.category),
      honors ? ' · ' + honors : ''),
    h('p', { class: 'card-meta' }, label(PRODUCT, c.product), ' · 有效期至 ', formatDate(c.expires_at), ' ',
      h('span', { class: 'card-status' }, statusText)),
  );
}

// ---------------------------------------------------------------- QR
let qrTimer = null;
let qrTick = null;
let qrExpiresAt = 0; // local ms
let qrRefreshAt = 0; // local ms

function stopQr() {
  clearTimeout(qrTimer);
  clearInterval(qrTick);
  qrTimer = null;
  qrTick = null;
  const img = $('#qr');
  img.dataset.token = '';
  img.src = 'data:,';
}

function startQr() {
  stopQr();
  refreshQr();
  qrTick = setInterval(renderCountdown, 1000);
}

function renderCountdown() {
  const cap = $('#qr-caption');
  const img = $('#qr');
  if (!img.dataset.token) return;
  const left = Math.ceil((qrExpiresAt - Date.now()) / 1000);
  if (left <= 0) {
    img.classList.add('expired');
    cap.textContent = '二维码已过期，正在刷新…';
    cap.classList.add('warn');
    return;
  }
  cap.classList.remove('warn');
  cap.textContent = `请向收银员出示。${Math.max(0, Math.ceil((qrRefreshAt - Date.now()) / 1000))} 秒后自动刷新`;
}

async function refreshQr() {
  clearTimeout(qrTimer);
  const cap = $('#qr-caption');
  let r;
  try {
    r = await call('/api/v1/holder/card/qr', { method: 'POST' });
  } catch (err) {
    if (err instanceof SignedOut) return;
    cap.textContent = '网络连接失败，正在重试…';
    cap.classList.add('warn');
    qrTimer = setTimeout(refreshQr, 5000);
    return;
  }
  if (!r.ok) {
    clear(cap).append(problemNode(r.data, r.status));
    qrTimer = setTimeout(refreshQr, 10000);
    return;
  }
  const { token, expires_at: expiresAt, svg } = r.data;
  const img = $('#qr');
  img.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(svg);
  img.dataset.token = token;
  img.dataset.expiresAt = expiresAt;
  img.classList.remove('expired');
  // The lifetime from the token itself (exp - iat), measured on our clock from now, so
  // a phone whose clock is off still refreshes in time.
  const claims = (peekJws(token) || {}).claims || {};
  const lifetime = Number.isFinite(claims.exp - claims.iat) ? (claims.exp - claims.iat) * 1000 : 60000;
  const now = Date.now();
  qrExpiresAt = now + lifetime;
  const lead = Math.min(10000, lifetime / 4);
  qrRefreshAt = now + Math.max(1000, lifetime - lead);
  qrTimer = setTimeout(refreshQr, qrRefreshAt - now);
  renderCountdown();
}

// ---------------------------------------------------------------- offers
// The first page is counted (the total is shown); the next ones follow its cursor,
// which costs the server only the page.
let offersCursor = null;
let offersMessage = '';
let offersNear = null; // {lat, lng, merchants: Map}

function offerInfo() {
  try { return JSON.parse(localStorage.getItem(LS.offers) || '{}'); } catch (_) { return {}; }
}
function rememberOfferInfo(items) {
  const all = offerInfo();
  for (const o of items) {
    all[o.id] = { title: o.title, merchant_id: o.merchant_id, merchant_name: o.merchant_name };
  }
  localStorage.setItem(LS.offers, JSON.stringify(all));
}

async function loadOffers(more) {
  const list = $('#offers-list');
  const msg = $('#offers-msg');
  if (!more) { offersCursor = null; clear(list); }
  const params = new URLSearchParams({ per_page: '20' });
  if (more && offersCursor) params.set('cursor', offersCursor);
  if (offersNear) {
    params.set('near', `${offersNear.lat.toFixed(5)},${offersNear.lng.toFixed(5)}`);
    params.set('radius_km', '10');
  }
  msg.textContent = '正在加载…';
  let r;
  try {
    r = await call('/api/v1/holder/offers?' + params);
  } catch (err) {
    if (!(err instanceof SignedOut)) msg.textContent = netMessage(err);
    throw err;
  }
  if (!r.ok) { clear(msg).append(problemNode(r.data, r.status)); return; }
  const { items, total, has_more: hasMore, next_cursor: nextCursor } = r.data;
  offersCursor = nextCursor;
  rememberOfferInfo(items);
  for (const o of items) {
    const m = offersNear && offersNear.merchants.get(o.merchant_id);
    list.append(h('li', { dataset: { offerId: o.id, merchantId: o.merchant_id } },
      h('span', { class: 'offer-title' }, o.title),
      h('span', { class: 'offer-terms' }, offerTerms(o)),
      h('span', { class: 'offer-meta' }, o.merchant_name, ' · ', label(MERCHANT_CATEGORY, o.merchant_category),
        m && m.distance_km != null ? ` · ${m.distance_km.toFixed(1)} 公里` : ''),
      m && m.address ? h('span', { class: 'offer-meta' }, m.address) : '',
      o.description ? h('span', { class: 'offer-meta' }, o.description) : '',
      h('span', { class: 'offer-left' }, remainingText(o),
        o.valid_until ? ' · 截至 ' + formatDate(o.valid_until) : '')));
  }
  if (total != null) {
    offersMessage = total === 0
      ? (offersNear ? '附近 10 公里内暂无可用优惠' : '暂无可用优惠')
      : (offersNear ? `附近 10 公里内 ${total} 项可用优惠，由近及远` : `共 ${total} 项可用优惠`);
  }
  msg.textContent = offersMessage;
  $('#offers-more').hidden = !hasMore;
}

function setTab(near) {
  $('#all-offers').setAttribute('aria-pressed', String(!near));
  $('#near-me').setAttribute('aria-pressed', String(near));
}

function onNearMe() {
  const msg = $('#offers-msg');
  if (!('geolocation' in navigator)) { msg.textContent = '此浏览器不支持定位'; return; }
  msg.textContent = '正在获取您的位置（仅用于查找附近商户，不会保存）…';
  navigator.geolocation.getCurrentPosition(async (pos) => {
    const lat = pos.coords.latitude;
    const lng = pos.coords.longitude;
    const merchants = new Map();
    try {
      const q = new URLSearchParams({ near: `${lat.toFixed(5)},${lng.toFixed(5)}`, radius_km: '10', per_page: '100' });
      const res = await fetch('/api/v1/merchants?' + q, { cache: 'no-store' });
      if (res.ok) for (const m of (await res.json()).items) merchants.set(m.id, m);
    } catch (_) { /* distances are a nicety */ }
    offersNear = { lat, lng, merchants };
    setTab(true);
    loadOffers(false).catch(() => {});
  }, (err) => {
    msg.textContent = err.code === 1 ? '未获得定位授权，显示全部可用优惠' : '无法获取位置，请稍后重试';
  }, { enableHighAccuracy: false, timeout: 15000, maximumAge: 300000 });
}

// ---------------------------------------------------------------- redemptions and complaints
let redemptionsPage = 1;
let redemptions = [];

async function loadRedemptions(more) {
  const list = $('#redemptions');
  if (!more) { redemptionsPage = 1; redemptions = []; clear(list); }
  let r;
  try {
    r = await call(`/api/v1/holder/redemptions?page=${redemptionsPage}&per_page=20`);
  } catch (err) {
    if (!(err instanceof SignedOut)) list.append(h('li', { class: 'empty' }, netMessage(err)));
    return;
  }
  if (!r.ok) { list.append(h('li', {}, problemNode(r.data, r.status))); return; }
  const { items, total, has_more: hasMore, next_cursor: nextCursor } = r.data;
  offersCursor = nextCursor;
  const info = offerInfo();
  redemptions.push(...items);
  for (const x of items) {
    const o = info[x.offer_id];
    const voided = x.status === 'voided';
    list.append(h('li', { dataset: { redemptionId: x.id }, class: voided ? 'voided-row' : '' },
      h('span', { class: 'offer-title' }, o ? o.title : '优惠核销', o && o.merchant_name ? ' · ' + o.merchant_name : ''),
      h('span', { class: voided ? 'discount voided' : 'discount' }, '优惠 ', formatFen(x.discount_fen)),
      h('span', { class: 'offer-meta' },
        x.bill_fen != null ? '消费 ' + formatFen(x.bill_fen) + ' · ' : '',
        formatTime(x.redeemed_at), ' · ', x.card_no_masked,
        voided ? ' · 已撤销' : '', x.offline ? ' · 离线核验' : '')));
  }
  if (!redemptions.length) list.append(h('li', { class: 'empty' }, '还没有核销记录'));
  $('#redemptions-more').hidden = page * perPage >= total;
  fillComplaintChoices();
}

function fillComplaintChoices() {
  const select = clear($('#complaint-redemption'));
  const info = offerInfo();
  const recent = redemptions.filter((x) => x.status === 'completed' && Date.now() - Date.parse(x.redeemed_at) < 90 * DAY);
  select.append(h('option', { value: '' }, recent.length ? '请选择一次消费' : '近 90 天没有可评价的消费'));
  for (const x of recent) {
    const o = info[x.offer_id];
    select.append(h('option', { value: x.id },
      `${formatDate(x.redeemed_at)} · ${o ? o.merchant_name + ' · ' + o.title : '优惠核销'} · 优惠 ${formatFen(x.discount_fen)}`));
  }
  $('#complaint-submit').disabled = !recent.length;
  onComplaintChoice();
}

let directoryLoaded = false;
async function onComplaintChoice() {
  const id = $('#complaint-redemption').value;
  const x = redemptions.find((r) => r.id === id);
  const o = x && offerInfo()[x.offer_id];
  const row = $('#complaint-merchant-row');
  // The redemption view names its offer but not its merchant: when the offer is not
  // among those we have seen, the holder picks the merchant.
  row.hidden = !x || !!(o && o.merchant_id);
  $('#complaint-merchant').required = !row.hidden;
  if (!row.hidden && !directoryLoaded) {
    directoryLoaded = true;
    const select = clear($('#complaint-merchant'));
    select.append(h('option', { value: '' }, '请选择商户'));
    try {
      const q = new URLSearchParams({ per_page: '100' });
      if (x && x.merchant_region_code) q.set('region', x.merchant_region_code);
      const res = await fetch('/api/v1/merchants?' + q, { cache: 'no-store' });
      if (res.ok) for (const m of (await res.json()).items) select.append(h('option', { value: m.id }, m.name));
    } catch (_) { directoryLoaded = false; }
  }
}

async function onComplaint(event) {
  event.preventDefault();
  const msg = $('#complaint-msg');
  msg.classList.remove('ok');
  const id = $('#complaint-redemption').value;
  const x = redemptions.find((r) => r.id === id);
  if (!x) { msg.textContent = '请选择一次消费'; return; }
  const o = offerInfo()[x.offer_id];
  const merchantId = (o && o.merchant_id) || $('#complaint-merchant').value;
  if (!merchantId) { msg.textContent = '请选择商户'; return; }
  const rating = document.querySelector('#complaint-rating input:checked');
  if (!rating) { msg.textContent = '请选择评分'; return; }
  const content = $('#complaint-content').value.trim();
  if (!content) { msg.textContent = '请填写内容'; $('#complaint-content').focus(); return; }
  $('#complaint-submit').disabled = true;
  try {
    const r = await call('/api/v1/holder/complaints', {
      method: 'POST',
      body: { merchant_id: merchantId, redemption_id: x.id, rating: Number(rating.value), content },
    });
    if (!r.ok) { clear(msg).append(problemNode(r.data, r.status)); return; }
    msg.classList.add('ok');
    msg.textContent = `已提交（${r.data.merchant_name}，评分 ${r.data.rating}），发卡单位将核实处理`;
    $('#complaint-content').value = '';
    rating.checked = false;
  } catch (err) {
    if (!(err instanceof SignedOut)) msg.textContent = netMessage(err);
  } finally {
    $('#complaint-submit').disabled = false;
  }
}

// ---------------------------------------------------------------- start
function start() {
  $('#activate-form').addEventListener('submit', onActivate);
  $('#qr-refresh').addEventListener('click', () => refreshQr());
  $('#near-me').addEventListener('click', onNearMe);
  $('#all-offers').addEventListener('click', () => { offersNear = null; setTab(false); loadOffers(false).catch(() => {}); });
  $('#offers-more').addEventListener('click', () => { loadOffers(true).catch(() => {}); });
  $('#redemptions-more').addEventListener('click', () => { redemptionsPage += 1; loadRedemptions(true); });
  $('#complaint-redemption').addEventListener('change', onComplaintChoice);
  $('#complaint-form').addEventListener('submit', onComplaint);
  $('#logout').addEventListener('click', () => signedOut('已退出登录'));
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && localStorage.getItem(LS.access)
        && Date.now() > qrRefreshAt - 2000) refreshQr();
  });
  if (localStorage.getItem(LS.access)) showHolder();
  else signedOut();
}

start();
