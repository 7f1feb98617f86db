// Offline verification of card QR tokens (README, "Verifying offline").
// Pure functions over WebCrypto (Ed25519); no DOM, no storage: usable from the till and
// from node (globalThis.crypto.subtle) for testing.

const subtle = globalThis.crypto && globalThis.crypto.subtle;
const enc = new TextEncoder();
const dec = new TextDecoder();

export function b64urlDecode(text) {
  const s = String(text).replace(/-/g, '+').replace(/_/g, '/');
  const padded = s + '='.repeat((4 - (s.length % 4)) % 4);
  const bin = atob(padded);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function b64urlEncode(bytes) {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let bin = '';
  for (let i = 0; i < u8.length; i += 0x8000) {
    bin += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000));
  }
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function decodeJson(part) {
  return JSON.parse(dec.decode(b64urlDecode(part)));
}

/** Whether this browser's WebCrypto verifies Ed25519. */
export async function ed25519Supported() {
  if (!subtle) return false;
  try {
    await subtle.importKey('jwk', {
      kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
    }, { name: 'Ed25519' }, false, ['verify']);
    return true;
  } catch (_) {
    return false;
  }
}

const keyCache = new Map();

async function keyFor(jwks, kid) {
  const jwk = jwks && Array.isArray(jwks.keys) && jwks.keys.find((k) => k.kid === kid);
  if (!jwk) return null;
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') return null;
  const cacheKey = kid + ':' + jwk.x;
  if (!keyCache.has(cacheKey)) {
    keyCache.set(cacheKey, subtle.importKey(
      'jwk', { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, { name: 'Ed25519' }, false, ['verify']));
  }
  return keyCache.get(cacheKey);
}

/** Reads a compact JWS's header and claims without checking anything. */
export function peekJws(token) {
  const parts = String(token).trim().split('.');
  if (parts.length !== 3) return null;
  try {
    return { header: decodeJson(parts[0]), claims: decodeJson(parts[1]), parts };
  } catch (_) {
    return null;
  }
}

/**
 * Checks a detached JWS (RFC 7515 appendix F), `BASE64URL(header)..BASE64URL(sig)`,
 * over the exact body bytes. Answers {ok, reason, kid}.
 */
export async function verifyDetached(signature, bodyBytes, jwks) {
  const parts = String(signature || '').trim().split('.');
  if (parts.length !== 3 || parts[1] !== '') return { ok: false, reason: 'malformed' };
  let header;
  try { header = decodeJson(parts[0]); } catch (_) { return { ok: false, reason: 'malformed' }; }
  if (header.alg !== 'EdDSA') return { ok: false, reason: 'alg', kid: header.kid };
  const key = await keyFor(jwks, header.kid);
  if (!key) return { ok: false, reason: 'unknown_kid', kid: header.kid };
  const input = enc.encode(parts[0] + '.' + b64urlEncode(bodyBytes));
  const ok = await subtle.verify({ name: 'Ed25519' }, key, b64urlDecode(parts[2]), input);
  return { ok, reason: ok ? null : 'bad_signature', kid: header.kid };
}

export const OFFLINE_MESSAGES = {
  token_invalid: '二维码无效或签名不符，请持卡人刷新二维码后重试',
  unknown_kid: '离线密钥缺少此二维码的签名密钥，请联网后重试',
  no_keys: '尚未下载离线核验密钥，无法离线核验，请联网后重试',
  token_expired: '二维码已过期，请持卡人刷新二维码',
  token_not_yet_valid: '二维码时间异常，请核对收银台时钟',
  card_expired: '该优待卡已过有效期',
  card_revoked: '该优待卡已注销，不能享受优惠',
  card_suspended: '该优待卡已暂停使用，请持卡人联系发卡单位',
  token_used: '该二维码已核销过，请持卡人刷新二维码',
};

/**
 * Checks a QR token offline, step 4 of the README:
 *   the signature verifies with the JWKS key of its kid (alg EdDSA);
 *   iat - 2 <= now <= exp + 2; now < cexp;
 *   its card (sub) is not in the feed with a version >= the token's ver;
 *   its jti has not been accepted before.
 * options: {jwks, revoked: {card_id: {status, version}}, usedJtis: {jti: exp}, now: seconds}
 * Answers {valid, reason, message, claims, kid}.
 */
export async function verifyTokenOffline(token, options) {
  const { jwks, revoked = {}, usedJtis = {} } = options;
  const now = options.now !== undefined ? options.now : Math.floor(Date.now() / 1000);
  const fail = (reason, extra) => ({
    valid: false, reason, message: OFFLINE_MESSAGES[reason] || reason, ...extra,
  });
  if (!jwks || !Array.isArray(jwks.keys) || jwks.keys.length === 0) return fail('no_keys');
  const jws = peekJws(token);
  if (!jws) return fail('token_invalid');
  const { header, claims, parts } = jws;
  if (header.alg !== 'EdDSA' || typeof header.kid !== 'string') return fail('token_invalid');
  const key = await keyFor(jwks, header.kid);
  if (!key) return fail('unknown_kid', { kid: header.kid });
  let ok = false;
  try {
    ok = await subtle.verify({ name: 'Ed25519' }, key, b64urlDecode(parts[2]),
      enc.encode(parts[0] + '.' + parts[1]));
  } catch (_) {
    ok = false;
  }
  if (!ok) return fail('token_invalid');
  const { sub, ver, iat, exp, jti, cexp } = claims;
  if (typeof sub !== 'string' || !Number.isInteger(ver) || !Number.isFinite(iat)
      || !Number.isFinite(exp) || typeof jti !== 'string' || !Number.isFinite(cexp)) {
    return fail('token_invalid');
  }
  if (now < iat - 2) return fail('token_not_yet_valid', { claims });
  if (now > exp + 2) return fail('token_expired', { claims });
  if (!(now < cexp)) return fail('card_expired', { claims });
  const entry = revoked[sub];
  if (entry && entry.version >= ver) {
    const reason = entry.status === 'suspended' ? 'card_suspended'
      : entry.status === 'expired' ? 'card_expired' : 'card_revoked';
    return fail(reason, { claims, revocation: entry });
  }
  if (Object.prototype.hasOwnProperty.call(usedJtis, jti)) return fail('token_used', { claims });
  return { valid: true, reason: null, message: null, claims, kid: header.kid };
}

/** Folds a feed page's cards into the map, keeping per card the highest version. */
export function mergeRevocations(map, cards) {
  for (const c of cards || []) {
    const have = map[c.card_id];
    if (!have || c.version >= have.version) {
      map[c.card_id] = { status: c.status, version: c.version, changed_at: c.changed_at };
    }
  }
  return map;
}

/** RFC 3339 at whole seconds, UTC. */
export function rfc3339(date) {
  return new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
