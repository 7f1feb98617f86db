// API access: the staff token lives in sessionStorage only; every call sends it as a
// Bearer header; a 401 ends the session and returns to the login form.
const TOKEN_KEY = 'yongjun.staff.token';
const ROLE_KEY = 'yongjun.staff.role';

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && problem.detail) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
    this.code = this.problem.code || `http_${status}`;
  }
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

export const session = {
  get token() { return sessionStorage.getItem(TOKEN_KEY); },
  get role() { return sessionStorage.getItem(ROLE_KEY); },
  save(token, role) {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(ROLE_KEY, role);
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(ROLE_KEY);
  },
  // The account id is the token's `sub` claim (the login answer does not carry it).
  subject() {
    const t = this.token;
    if (!t) return null;
    try {
      const part = t.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      const json = JSON.parse(atob(part + '='.repeat((4 - part.length % 4) % 4)));
      return json.sub || null;
    } catch { return null; }
  },
};

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === '' || v === false && k !== 'flagged') continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function readProblem(res) {
  const text = await res.text();
  if (!text) return null;
  try { return JSON.parse(text); } catch { return { detail: text.slice(0, 200) }; }
}

function handleUnauthorized(res, path) {
  if (res.status === 401 && !path.startsWith('/api/v1/auth/login')) {
    session.clear();
    onUnauthorized();
  }
}

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const token = session.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, { code: 'network_error', detail: '无法连接服务器，请检查网络后重试' });
  }
  if (res.status === 204) return null;
  const data = await readProblem(res);
  if (!res.ok) {
    handleUnauthorized(res, path);
    throw new ApiError(res.status, data);
  }
  return data;
}

export const get = (path, params) => api('GET', path + query(params));
export const post = (path, body = {}) => api('POST', path, body);
export const patch = (path, body) => api('PATCH', path, body);
export const put = (path, body) => api('PUT', path, body);
export const del = (path) => api('DELETE', path);

// Multipart upload through XMLHttpRequest so the upload's progress can be shown.
export function upload(path, formData, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    const token = session.token;
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded, e.total); };
    xhr.onerror = () => reject(new ApiError(0, { code: 'network_error', detail: '上传失败，无法连接服务器' }));
    xhr.onload = () => {
      let data = null;
      try { data = xhr.responseText ? JSON.parse(xhr.responseText) : null; } catch { data = { detail: xhr.responseText.slice(0, 200) }; }
      if (xhr.status >= 200 && xhr.status < 300) { resolve(data); return; }
      if (xhr.status === 401) { session.clear(); onUnauthorized(); }
      reject(new ApiError(xhr.status, data));
    };
    xhr.send(formData);
  });
}

// A download with the Authorization header: fetch → blob → object URL → <a download>.
export async function download(path, fallbackName) {
  const headers = {};
  const token = session.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try { res = await fetch(path, { headers }); } catch {
    throw new ApiError(0, { code: 'network_error', detail: '无法连接服务器，请检查网络后重试' });
  }
  if (!res.ok) {
    const data = await readProblem(res);
    handleUnauthorized(res, path);
    throw new ApiError(res.status, data);
  }
  const blob = await res.blob();
  let name = fallbackName;
  const cd = res.headers.get('Content-Disposition') || '';
  const star = /filename\*=UTF-8''([^;]+)/i.exec(cd);
  const plain = /filename="?([^";]+)"?/i.exec(cd);
  if (star) { try { name = decodeURIComponent(star[1]); } catch { /* keep fallback */ } } else if (plain) name = plain[1];
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return { name, size: blob.size };
}
