// The office and partner console: login, session, navigation and hash routing.
import { api, get, session, setUnauthorizedHandler, ApiError } from './office/api.js';
import { h, clear, fail, hideMessage, showMessage, parseHash, loading } from './office/ui.js';
import { me, navItems, isOffice } from './office/roles.js';
import { ROLE, DEPARTMENT } from './office/labels.js';

const view = () => document.getElementById('view');

const ROUTES = {
  dashboard: () => import('./office/dashboard.js'),
  applications: () => import('./office/merchants.js'),
  merchants: () => import('./office/merchant.js'),
  offers: () => import('./office/offers.js'),
  beneficiaries: () => import('./office/beneficiaries.js'),
  complaints: () => import('./office/oversight.js'),
  inspections: () => import('./office/inspections.js'),
  exports: () => import('./office/admin.js'),
  users: () => import('./office/admin.js'),
  roster: () => import('./office/admin.js'),
  audit: () => import('./office/admin.js'),
  needs: () => import('./office/needs.js'),
  resources: () => import('./office/needs.js'),
  tasks: () => import('./office/tasks.js'),
  profile: () => import('./office/partner.js'),
  'my-offers': () => import('./office/partner.js'),
  terminals: () => import('./office/partner.js'),
  redemptions: () => import('./office/partner.js'),
  'my-resources': () => import('./office/partner.js'),
};
const NAV_OF_ROUTE = { merchants: 'applications' };

function renderLogin() {
  document.getElementById('nav').hidden = true;
  document.getElementById('account').hidden = true;
  document.body.classList.remove('signed-in');
  const v = clear(view());
  const form = h('form', { id: 'login-form', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'login-username' }, '用户名'),
      h('input', { id: 'login-username', name: 'username', autocomplete: 'username', required: true })),
    h('div', { class: 'field' }, h('label', { for: 'login-password' }, '密码'),
      h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    h('button', { type: 'submit', id: 'login-submit', class: 'primary' }, '登录'));
  form.addEventListener('submit', onLogin);
  v.append(h('section', { class: 'login-box', id: 'login-box' },
    h('h1', null, '工作人员登录'),
    h('p', { class: 'muted' }, '退役军人事务部门、双拥办及拥军商户工作人员使用'),
    form));
  document.getElementById('login-username').focus();
}

async function onLogin(e) {
  e.preventDefault();
  const btn = document.getElementById('login-submit');
  const username = document.getElementById('login-username').value.trim();
  const password = document.getElementById('login-password').value;
  if (!username || !password) {
    showMessage('error', '请输入用户名和密码', 'validation_failed');
    return;
  }
  btn.disabled = true;
  try {
    const answer = await api('POST', '/api/v1/auth/login', { username, password });
    session.save(answer.access_token, answer.role);
    hideMessage();
    await loadAccount();
    const target = location.hash && !/^#\/?(login)?$/.test(location.hash) ? null : `#/${navItems()[0][0]}`;
    if (target) location.hash = target; else route();
  } catch (err) {
    fail(err);
    document.getElementById('login-password').select();
  } finally { btn.disabled = false; }
}

async function loadAccount() {
  me.role = session.role;
  me.id = session.subject();
  me.username = null; me.region_code = null; me.department = null; me.merchant = null;
  if (me.role === 'merchant_staff') {
    try { me.merchant = await get('/api/v1/merchant/profile'); } catch (e) { if (e instanceof ApiError && e.status === 401) throw e; }
  } else if (me.id) {
    try {
      const u = await get(`/api/v1/admin/users/${me.id}`);
      Object.assign(me, { username: u.username, region_code: u.region_code, department: u.department });
    } catch (e) { if (e instanceof ApiError && e.status === 401) throw e; }
  }
  renderChrome();
}

function renderChrome() {
  document.body.classList.add('signed-in');
  const nav = clear(document.getElementById('nav'));
  nav.hidden = false;
  nav.append(h('ul', null, navItems().map(([key, text]) => h('li', null, h('a', { href: `#/${key}`, dataset: { nav: key } }, text)))));
  const acct = document.getElementById('account');
  acct.hidden = false;
  const who = [];
  if (me.role === 'merchant_staff') who.push(me.merchant ? me.merchant.name : '拥军商户');
  else {
    if (me.username) who.push(me.username);
    if (me.department) who.push(DEPARTMENT[me.department] || me.department);
    if (me.region_code) who.push(me.region_code);
  }
  who.push(ROLE[me.role] || me.role);
  document.getElementById('account-name').textContent = who.join(' · ');
}

function logout() {
  session.clear();
  Object.assign(me, { role: null, id: null });
  hideMessage();
  history.replaceState(null, '', location.pathname + '#/login');
  renderLogin();
}

let routeSeq = 0;
async function route() {
  if (!session.token) { renderLogin(); return; }
  const { parts, params } = parseHash();
  const items = navItems();
  let key = parts[0];
  if (!key || key === 'login' || !ROUTES[key]) { location.replace(`#/${items[0][0]}`); return; }
  const navKey = NAV_OF_ROUTE[key] || key;
  const partnerKeys = ['profile', 'my-offers', 'terminals', 'redemptions', 'my-resources'];
  const allowed = items.some(([k]) => k === navKey) || (key === 'merchants' && isOffice());
  if (!allowed || (me.role === 'merchant_staff') !== partnerKeys.includes(key)) {
    location.replace(`#/${items[0][0]}`);
    return;
  }
  document.querySelectorAll('#nav a').forEach((a) => {
    if (a.dataset.nav === navKey) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  });
  const seq = ++routeSeq;
  const v = clear(view());
  v.append(loading());
  try {
    const mod = await ROUTES[key]();
    if (seq !== routeSeq) return;
    const container = h('div', { class: 'page', dataset: { page: key } });
    await mod.render(container, { key, parts, params, isCurrent: () => seq === routeSeq });
    if (seq !== routeSeq) return;
    clear(v).append(container);
  } catch (err) {
    if (seq !== routeSeq || !session.token) return;
    clear(v).append(h('p', { class: 'empty' }, '页面加载失败。'));
    fail(err);
  }
}

async function start() {
  setUnauthorizedHandler(() => {
    Object.assign(me, { role: null, id: null });
    renderLogin();
    showMessage('error', '登录已失效，请重新登录', 'unauthenticated');
  });
  document.getElementById('logout').addEventListener('click', logout);
  window.addEventListener('hashchange', () => { route(); });
  const form = document.getElementById('login-form');
  if (form) form.addEventListener('submit', onLogin);
  if (session.token) {
    try { await loadAccount(); } catch { return; }
    route();
  } else renderLogin();
}

start();
