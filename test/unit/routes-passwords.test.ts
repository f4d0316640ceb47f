/**
 * Password-protected drops over the memory app: what comes out of every route before and
 * after unlocking, the unlock form and JSON, the unlock cookie (forged, expired, another
 * drop's, a changed password), the owner token and the creating key, the attempt limits,
 * and that the password never reaches a log.
 */
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { loadConfig } from '../../src/config.js';
import { dropKeys } from '../../src/core/layout.js';
import { hashPassword } from '../../src/core/passwords.js';
import { signUnlockToken, UNLOCK_COOKIE } from '../../src/core/unlock.js';
import { memoryAdapters } from '../../src/memory/index.js';
import { memoryApp, T0, type MemoryApp } from '../support/memory-app.js';

// Each password check is a real scrypt at the default cost (32 MiB, on the thread pool); a
// test of the attempt limits makes several, which on shared cores can pass 5 s. Not a timing
// assertion: only room for the work.
vi.setConfig({ testTimeout: 60_000 });

const PASSWORD = 'correct horse battery';
const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const KEY_A = 'key-a-0123456789abcdef';
const KEY_B = 'key-b-0123456789abcdef';
const keysFile = { keys: [{ id: 'a', key: KEY_A }, { id: 'b', key: KEY_B }] };

let t: MemoryApp;
beforeEach(async () => {
  t = await memoryApp({ DROPSHIP_UNLOCK_SECRET: SECRET }, { keysFile });
});
afterEach(() => t.close());

const code = (r: { json(): { error?: { code?: string } } }) => r.json().error?.code;

/** A ready drop with a 256 px thumbnail; `password` protects it. */
async function ready(opts: { password?: string; key?: string; name?: string } = {}) {
  const r = await t.call('POST', '/v1/drops', {
    body: { name: opts.name ?? 'secret-plans.pdf', size: 3, type: 'application/pdf', ...(opts.password ? { password: opts.password } : {}) },
    ...(opts.key ? { headers: { authorization: `Bearer ${opts.key}` } } : {}),
  });
  expect(r.statusCode).toBe(201);
  const tk = r.json();
  await t.put(tk.parts[0].url, Buffer.from('abc'), tk.parts[0].headers);
  await t.call('POST', `/v1/drops/${tk.id}/complete`, { owner: tk.ownerToken });
  await t.store.put(dropKeys(tk.id).thumb(256), Buffer.from('webp'), { contentType: 'image/webp' });
  await t.manifests.applyEvent(tk.id, {
    type: 'processed',
    at: t.now(),
    sniffedType: 'application/pdf',
    width: 600,
    height: 800,
    thumbnail: 'ready',
    thumbnails: [{ width: 256, height: 341, key: dropKeys(tk.id).thumb(256) }],
  });
  return tk as { id: string; ownerToken: string };
}

/** Unlocks with the form and answers the cookie value. */
async function unlockCookie(id: string, password = PASSWORD): Promise<string> {
  const r = await form(id, password);
  expect(r.statusCode).toBe(303);
  const cookie = [r.headers['set-cookie']].flat().find((c) => c?.startsWith(`${UNLOCK_COOKIE}=`))!;
  return cookie.split(';')[0]!.slice(UNLOCK_COOKIE.length + 1);
}

function form(id: string, password: string, headers: Record<string, string> = {}) {
  return t.app.inject({
    method: 'POST',
    url: `/d/${id}/unlock`,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', origin: 'http://drops.test', ...headers },
    payload: new URLSearchParams({ password }).toString(),
  });
}

const withCookie = (value: string) => ({ cookie: `${UNLOCK_COOKIE}=${value}` });

describe('creating a protected drop', () => {
  it('stores only a salted scrypt hash with its parameters in the manifest, and no view shows it', async () => {
    const tk = await ready({ password: PASSWORD });
    const m = (await t.manifests.get(tk.id))!.manifest;
    expect(m.passwordHash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    const raw = t.store.objects.get(dropKeys(tk.id).manifest)!.body.toString();
    expect(raw).not.toContain(PASSWORD);
    const owner = await t.call('GET', `/v1/drops/${tk.id}`, { owner: tk.ownerToken });
    expect(owner.json()).toMatchObject({ name: 'secret-plans.pdf', protected: true });
    expect(owner.body).not.toContain('scrypt');
    expect(owner.body).not.toContain('passwordHash');
  });

  it.each([
    ['too short', 'abc'],
    ['too long', 'x'.repeat(257)],
  ])('a password %s is 400 PASSWORD_INVALID, naming the field but not the value', async (_what, password) => {
    const r = await t.call('POST', '/v1/drops', { body: { name: 'a.txt', size: 3, password } });
    expect([r.statusCode, code(r)]).toEqual([400, 'PASSWORD_INVALID']);
    expect(r.json().error.details.field).toBe('body/password');
    expect(r.body).not.toContain(password);
  });

  it('a password that is not text is PASSWORD_INVALID too', async () => {
    const r = await t.call('POST', '/v1/drops', { body: { name: 'a.txt', size: 3, password: 12345 } });
    expect([r.statusCode, code(r)]).toEqual([400, 'PASSWORD_INVALID']);
  });

  it('the curl route takes X-Password, and refuses a short one before reading the body', async () => {
    const put = (headers: Record<string, string>) =>
      t.app.inject({ method: 'PUT', url: '/notes.txt', headers: { 'content-type': 'text/plain', ...headers }, payload: 'hello' });
    const bad = await put({ 'x-password': 'abc' });
    expect([bad.statusCode, code(bad)]).toEqual([400, 'PASSWORD_INVALID']);
    const ok = await put({ 'x-password': PASSWORD });
    expect(ok.statusCode).toBe(201);
    const id = ok.headers['x-drop-id'] as string;
    expect((await t.manifests.get(id))!.manifest.passwordHash).toMatch(/^scrypt\$/);
    expect((await t.call('GET', `/v1/drops/${id}`)).json()).toEqual({ id, status: 'processing', expiresAt: expect.any(String), protected: true });
    const v1 = await t.app.inject({ method: 'PUT', url: '/v1/stream/b.txt', headers: { 'x-password': PASSWORD }, payload: 'hi' });
    expect((await t.manifests.get(v1.headers['x-drop-id'] as string))!.manifest.passwordHash).toBeDefined();
  });

  it('the Uppy routes take meta.password (multipart body and /s3/params query); an empty one is no password', async () => {
    const mp = await t.call('POST', '/s3/multipart', { body: { filename: 'big.bin', metadata: { size: 20 * 1024 * 1024, password: PASSWORD } } });
    expect(mp.statusCode).toBe(200);
    expect((await t.manifests.get(mp.json().id))!.manifest.passwordHash).toMatch(/^scrypt\$/);
    const none = await t.call('POST', '/s3/multipart', { body: { filename: 'big.bin', metadata: { size: 20 * 1024 * 1024, password: '' } } });
    expect((await t.manifests.get(none.json().id))!.manifest.passwordHash).toBeUndefined();
    const short = await t.call('POST', '/s3/multipart', { body: { filename: 'big.bin', metadata: { size: 20 * 1024 * 1024, password: 'abc' } } });
    expect([short.statusCode, code(short)]).toEqual([400, 'PASSWORD_INVALID']);
    const params = await t.call('GET', `/s3/params?filename=a.txt&metadata[size]=3&metadata[password]=${encodeURIComponent(PASSWORD)}`);
    expect(params.statusCode).toBe(200);
    expect((await t.manifests.get(params.json().id))!.manifest.passwordHash).toMatch(/^scrypt\$/);
    const shortQ = await t.call('GET', '/s3/params?filename=a.txt&metadata[size]=3&metadata[password]=abc');
    expect([shortQ.statusCode, code(shortQ)]).toEqual([400, 'PASSWORD_INVALID']);
  });
});

describe('before unlocking, nothing about the file comes out', () => {
  it('GET /v1/drops/:id shows only id, status, expiry and protected', async () => {
    const tk = await ready({ password: PASSWORD });
    const r = await t.call('GET', `/v1/drops/${tk.id}`);
    expect(r.json()).toEqual({ id: tk.id, status: 'ready', expiresAt: expect.any(String), protected: true });
    expect(r.headers.vary).toContain('x-unlock-token');
  });

  it('the event stream shows only those fields', async () => {
    const tk = await ready({ password: PASSWORD });
    const r = await t.call('GET', `/v1/drops/${tk.id}/events`);
    const data = JSON.parse(/^data: (.*)$/m.exec(r.body)![1]!);
    expect(data).toEqual({ id: tk.id, status: 'ready', expiresAt: expect.any(String), protected: true });
    expect(r.body).not.toContain('secret-plans');
  });

  it('download (GET and HEAD) and thumbnails are 401 PASSWORD_REQUIRED; a browser gets the styled page', async () => {
    const tk = await ready({ password: PASSWORD });
    for (const [method, url] of [
      ['GET', `/d/${tk.id}/download`],
      ['HEAD', `/d/${tk.id}/download`],
      ['GET', `/d/${tk.id}/thumb/256`],
      ['HEAD', `/d/${tk.id}/thumb/256`],
    ] as const) {
      const r = await t.app.inject({ method, url });
      expect([method, url, r.statusCode, r.headers.location]).toEqual([method, url, 401, undefined]);
      if (method === 'GET') expect(code(r)).toBe('PASSWORD_REQUIRED');
    }
    const page = await t.app.inject({ method: 'GET', url: `/d/${tk.id}/download`, headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(401);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('Password required');
    expect(page.body).not.toContain('secret-plans');
  });

  it('the share page is a password form with no name, size, type, thumbnail, dates or file preview tags', async () => {
    const tk = await ready({ password: PASSWORD });
    const r = await t.app.inject({ method: 'GET', url: `/d/${tk.id}`, headers: { accept: 'text/html' } });
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain(`<form class="unlock" id="unlock" method="post" action="/d/${tk.id}/unlock">`);
    expect(r.body).toContain('type="password"');
    for (const leak of ['secret-plans', 'pdf', 'PDF', '3 B', 'thumb', 'Uploaded', 'Expires', 'og:image', 'og:description', 'og:url']) {
      expect([leak, r.body.includes(leak)]).toEqual([leak, false]);
    }
    expect(r.body).toContain('<meta property="og:title" content="A password-protected file">');
    expect(r.headers['content-security-policy']).toContain("form-action 'self'");
    expect(r.headers['content-security-policy']).toContain("script-src 'none'");
  });

  it('lookup: the calling key sees its own protected drop in full, another key only its status', async () => {
    const tk = await ready({ password: PASSWORD, key: KEY_A });
    const mine = await t.call('POST', '/v1/drops/lookup', { body: { ids: [tk.id] }, headers: { authorization: `Bearer ${KEY_A}` } });
    expect(mine.json().drops[0]).toMatchObject({ id: tk.id, name: 'secret-plans.pdf', protected: true });
    const theirs = await t.call('POST', '/v1/drops/lookup', { body: { ids: [tk.id] }, headers: { authorization: `Bearer ${KEY_B}` } });
    expect(theirs.json().drops).toEqual([{ id: tk.id, status: 'ready', expiresAt: expect.any(String), protected: true }]);
  });

  it('the listing shows the key its own protected drops in full', async () => {
    const tk = await ready({ password: PASSWORD, key: KEY_A });
    const r = await t.call('GET', '/v1/drops', { headers: { authorization: `Bearer ${KEY_A}` } });
    expect(r.json().drops).toEqual([expect.objectContaining({ id: tk.id, name: 'secret-plans.pdf', protected: true })]);
    expect(r.body).not.toContain('scrypt');
  });

  it('the creating key and the owner token see everything, and the owner token downloads', async () => {
    const tk = await ready({ password: PASSWORD, key: KEY_A });
    expect((await t.call('GET', `/v1/drops/${tk.id}`, { headers: { authorization: `Bearer ${KEY_A}` } })).json()).toMatchObject({ name: 'secret-plans.pdf' });
    expect((await t.call('GET', `/v1/drops/${tk.id}`, { headers: { authorization: `Bearer ${KEY_B}` } })).json()).not.toHaveProperty('name');
    expect((await t.call('GET', `/v1/drops/${tk.id}`, { owner: tk.ownerToken })).json()).toMatchObject({ name: 'secret-plans.pdf' });
    expect((await t.call('GET', `/d/${tk.id}/download`, { owner: tk.ownerToken })).statusCode).toBe(302);
    expect((await t.call('GET', `/d/${tk.id}/download`, { owner: 'x'.repeat(43) })).statusCode).toBe(401);
  });

  it('a drop without a password is unchanged: full view, downloads, no protected field', async () => {
    const tk = await ready();
    const v = (await t.call('GET', `/v1/drops/${tk.id}`)).json();
    expect(v).toMatchObject({ name: 'secret-plans.pdf' });
    expect(v).not.toHaveProperty('protected');
    expect((await t.call('GET', `/d/${tk.id}/download`)).statusCode).toBe(302);
    const json = await t.call('POST', `/d/${tk.id}/unlock`, { body: { password: PASSWORD } });
    expect([json.statusCode, code(json)]).toEqual([409, 'DROP_NOT_PROTECTED']);
    expect((await form(tk.id, PASSWORD)).statusCode).toBe(303);
  });
});

describe('POST /d/:id/unlock', () => {
  it('the form: a right password answers 303 to the page with an HttpOnly, Lax, path-scoped cookie that reveals the page and the file', async () => {
    const tk = await ready({ password: PASSWORD });
    const r = await form(tk.id, PASSWORD);
    expect([r.statusCode, r.headers.location]).toEqual([303, `/d/${tk.id}`]);
    const set = [r.headers['set-cookie']].flat()[0]!;
    expect(set).toMatch(new RegExp(`^${UNLOCK_COOKIE}=[0-9]+\\.[A-Za-z0-9_-]{43}; Max-Age=3600; Path=/d/${tk.id}; HttpOnly; SameSite=Lax$`));
    const cookie = await unlockCookie(tk.id);
    const page = await t.app.inject({ method: 'GET', url: `/d/${tk.id}`, headers: withCookie(cookie) });
    expect(page.body).toContain('secret-plans.pdf');
    expect(page.body).toContain('Uploaded');
    expect(page.body).toContain('Expires');
    expect(page.body).toContain('in 7 days');
    expect((await t.app.inject({ method: 'GET', url: `/d/${tk.id}/download`, headers: withCookie(cookie) })).statusCode).toBe(302);
    expect((await t.app.inject({ method: 'GET', url: `/d/${tk.id}/thumb/256`, headers: withCookie(cookie) })).statusCode).toBe(302);
  });

  it('the cookie is Secure when the public URL is https', async () => {
    const s = await memoryApp({ DROPSHIP_PUBLIC_URL: 'https://drops.test' });
    try {
      const c = await s.call('POST', '/v1/drops', { body: { name: 'a.txt', size: 3, password: PASSWORD } });
      const r = await s.app.inject({
        method: 'POST',
        url: `/d/${c.json().id}/unlock`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://drops.test' },
        payload: `password=${encodeURIComponent(PASSWORD)}`,
      });
      expect([r.headers['set-cookie']].flat()[0]).toContain('; Secure');
    } finally {
      await s.close();
    }
  });

  it('the form: a wrong password answers the form again with "Wrong password" and 401', async () => {
    const tk = await ready({ password: PASSWORD });
    const r = await form(tk.id, 'not the password');
    expect(r.statusCode).toBe(401);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.body).toContain('Wrong password');
    expect(r.body).toContain('<form class="unlock"');
    expect(r.body).not.toContain('secret-plans');
    expect(r.headers['set-cookie']).toBeUndefined();
  });

  it('JSON: the unlock token, which X-Unlock-Token accepts on the view, the download and the thumbnails', async () => {
    const tk = await ready({ password: PASSWORD });
    const wrong = await t.call('POST', `/d/${tk.id}/unlock`, { body: { password: 'nope nope' } });
    expect([wrong.statusCode, code(wrong)]).toEqual([401, 'PASSWORD_WRONG']);
    const r = await t.call('POST', `/d/${tk.id}/unlock`, { body: { password: PASSWORD } });
    expect(r.statusCode).toBe(200);
    const { unlockToken, expiresAt } = r.json();
    expect(expiresAt).toBe(new Date(T0.getTime() + 3600_000).toISOString());
    const h = { 'x-unlock-token': unlockToken };
    expect((await t.call('GET', `/v1/drops/${tk.id}`, { headers: h })).json()).toMatchObject({ name: 'secret-plans.pdf', protected: true });
    expect((await t.call('GET', `/d/${tk.id}/download`, { headers: h })).statusCode).toBe(302);
    expect((await t.call('GET', `/d/${tk.id}/thumb/256`, { headers: h })).statusCode).toBe(302);
  });

  it('a cross-site form post is refused (403 CROSS_SITE_REFUSED) and counts no attempt', async () => {
    const tk = await ready({ password: PASSWORD });
    const cross = await form(tk.id, PASSWORD, { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' });
    expect(cross.statusCode).toBe(403);
    expect(cross.headers['set-cookie']).toBeUndefined();
    // A browser without Fetch Metadata: judged by its Origin.
    const old = await t.app.inject({
      method: 'POST',
      url: `/d/${tk.id}/unlock`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      payload: `password=${encodeURIComponent(PASSWORD)}`,
    });
    expect(old.statusCode).toBe(403);
    // The share page's own form, as Chromium sends it (no-referrer: Origin null).
    expect((await form(tk.id, PASSWORD, { origin: 'null' })).statusCode).toBe(303);
  });

  it('a too-short password from the form is a page (400), not JSON; unknown drops are the 404 page', async () => {
    const tk = await ready({ password: PASSWORD });
    const r = await t.app.inject({
      method: 'POST',
      url: `/d/${tk.id}/unlock`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      payload: 'password=ab',
    });
    expect(r.statusCode).toBe(400);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.body).toContain('Not a valid password');
    const missing = await form('V1StGXR8_Z5jdHi6B-myT', PASSWORD);
    expect(missing.statusCode).toBe(404);
    expect(missing.body).toContain('No such drop');
  });

  it('unlocking counts no download of a limited drop', async () => {
    const r = await t.call('POST', '/v1/drops', { body: { name: 'a.txt', size: 3, password: PASSWORD, maxDownloads: 1 } });
    const tk = r.json();
    await t.put(tk.parts[0].url, Buffer.from('abc'), tk.parts[0].headers);
    await t.call('POST', `/v1/drops/${tk.id}/complete`, { owner: tk.ownerToken });
    const cookie = await unlockCookie(tk.id);
    await unlockCookie(tk.id);
    expect((await t.manifests.get(tk.id))!.manifest.downloads ?? 0).toBe(0);
    expect((await t.app.inject({ method: 'HEAD', url: `/d/${tk.id}/download`, headers: withCookie(cookie) })).statusCode).toBe(302);
    expect((await t.manifests.get(tk.id))!.manifest.downloads ?? 0).toBe(0);
    expect((await t.app.inject({ method: 'GET', url: `/d/${tk.id}/download`, headers: withCookie(cookie) })).statusCode).toBe(302);
    expect((await t.manifests.get(tk.id))!.manifest.downloads).toBe(1);
  });
});

describe('the unlock cookie cannot be forged or reused', () => {
  it('a forged, tampered, expired or other drop\'s cookie is refused', async () => {
    const tk = await ready({ password: PASSWORD });
    const other = await ready({ password: PASSWORD, name: 'other.pdf' });
    const good = await unlockCookie(tk.id);
    const otherCookie = await unlockCookie(other.id);
    const hash = (await t.manifests.get(tk.id))!.manifest.passwordHash!;
    const [exp, mac] = good.split('.') as [string, string];
    const far = T0.getTime() + 365 * 86400_000;
    const refused = {
      'random bytes': `${far}.${'A'.repeat(43)}`,
      'expiry moved later': `${far}.${mac}`,
      'mac flipped': `${exp}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`,
      'another drop\'s cookie': otherCookie,
      'signed with another secret': signUnlockToken({ secret: 'another-secret-another-secret-another', id: tk.id, passwordHash: hash, expiresAt: far }),
      garbage: 'not-a-token',
    };
    for (const [what, value] of Object.entries(refused)) {
      const r = await t.app.inject({ method: 'GET', url: `/d/${tk.id}/download`, headers: withCookie(value) });
      expect([what, r.statusCode]).toEqual([what, 401]);
      const page = await t.app.inject({ method: 'GET', url: `/d/${tk.id}`, headers: withCookie(value) });
      expect([what, page.body.includes('secret-plans')]).toEqual([what, false]);
    }
    expect((await t.app.inject({ method: 'GET', url: `/d/${tk.id}/download`, headers: withCookie(good) })).statusCode).toBe(302);
  });

  it('expires after DROPSHIP_UNLOCK_TTL', async () => {
    const tk = await ready({ password: PASSWORD });
    const cookie = await unlockCookie(tk.id);
    t.advance(3599);
    expect((await t.app.inject({ method: 'GET', url: `/d/${tk.id}/download`, headers: withCookie(cookie) })).statusCode).toBe(302);
    t.advance(1);
    expect((await t.app.inject({ method: 'GET', url: `/d/${tk.id}/download`, headers: withCookie(cookie) })).statusCode).toBe(401);
  });

  it('a changed password voids the cookies made before', async () => {
    const tk = await ready({ password: PASSWORD });
    const cookie = await unlockCookie(tk.id);
    const newHash = await hashPassword('a brand new password');
    await t.manifests.rewrite(tk.id, (m) => ({ ...m, passwordHash: newHash }));
    expect((await t.app.inject({ method: 'GET', url: `/d/${tk.id}/download`, headers: withCookie(cookie) })).statusCode).toBe(401);
  });

  it('another process with the same DROPSHIP_UNLOCK_SECRET accepts the cookie; one without the secret does not', async () => {
    const tk = await ready({ password: PASSWORD });
    const cookie = await unlockCookie(tk.id);
    for (const [secret, status] of [[SECRET, 302], ['', 401]] as const) {
      const config = loadConfig({ DROPSHIP_BUCKET: 'memory', DROPSHIP_PUBLIC_URL: 'http://drops.test', DROPSHIP_UNLOCK_SECRET: secret });
      const other = await buildApp({ config, ...memoryAdapters('memory'), store: t.store, signer: t.signer, clock: t.now, logger: false });
      try {
        const r = await other.inject({ method: 'GET', url: `/d/${tk.id}/download`, headers: withCookie(cookie) });
        expect([secret, r.statusCode]).toEqual([secret, status]);
      } finally {
        await other.close();
      }
    }
  });
});

describe('attempt limits', () => {
  it('5 failed attempts per client per drop, then 429 RATE_LIMITED with Retry-After (even for the right password) until the window passes', async () => {
    const tk = await ready({ password: PASSWORD });
    for (let i = 0; i < 5; i++) expect((await form(tk.id, `wrong ${i}`)).statusCode).toBe(401);
    const json = await t.call('POST', `/d/${tk.id}/unlock`, { body: { password: PASSWORD } });
    expect([json.statusCode, code(json)]).toEqual([429, 'RATE_LIMITED']);
    expect(json.headers['retry-after']).toBe('900');
    const page = await form(tk.id, PASSWORD);
    expect(page.statusCode).toBe(429);
    expect(page.body).toContain('Too many attempts');
    expect(page.headers['retry-after']).toBe('900');
    // Another client may still try; another drop is not affected.
    const elsewhere = await t.app.inject({
      method: 'POST',
      url: `/d/${tk.id}/unlock`,
      remoteAddress: '198.51.100.7',
      headers: { 'content-type': 'application/json' },
      payload: { password: PASSWORD },
    });
    expect(elsewhere.statusCode).toBe(200);
    t.advance(600);
    expect((await t.call('POST', `/d/${tk.id}/unlock`, { body: { password: PASSWORD } })).headers['retry-after']).toBe('300');
    t.advance(300);
    expect((await t.call('POST', `/d/${tk.id}/unlock`, { body: { password: PASSWORD } })).statusCode).toBe(200);
  });

  it('a right password clears the client\'s count', async () => {
    const tk = await ready({ password: PASSWORD });
    for (let i = 0; i < 4; i++) await form(tk.id, `wrong ${i}`);
    await unlockCookie(tk.id);
    for (let i = 0; i < 4; i++) expect((await form(tk.id, `wrong ${i}`)).statusCode).toBe(401);
  });

  it('a per-drop ceiling across clients', async () => {
    const c = await memoryApp({ DROPSHIP_UNLOCK_DROP_ATTEMPTS: '3' });
    try {
      const tk = (await c.call('POST', '/v1/drops', { body: { name: 'a.txt', size: 3, password: PASSWORD } })).json();
      const from = (ip: string, password: string) =>
        c.app.inject({ method: 'POST', url: `/d/${tk.id}/unlock`, remoteAddress: ip, headers: { 'content-type': 'application/json' }, payload: { password } });
      for (const ip of ['192.0.2.1', '192.0.2.2', '192.0.2.3']) expect((await from(ip, 'wrong one')).statusCode).toBe(401);
      const fourth = await from('192.0.2.4', PASSWORD);
      expect([fourth.statusCode, fourth.json().error.details]).toEqual([429, { scope: 'drop' }]);
      expect(fourth.headers['retry-after']).toBe('900');
    } finally {
      await c.close();
    }
  });
});

describe('collections', () => {
  it('refuse a password-protected drop (it would be shown there without its password); nothing of it leaks', async () => {
    const tk = await ready({ password: PASSWORD });
    const r = await t.call('POST', '/v1/collections', { body: { title: 'album', drops: [{ id: tk.id, ownerToken: tk.ownerToken }] } });
    expect([r.statusCode, code(r), r.json().error.details]).toEqual([409, 'DROP_NOT_ADDABLE', { dropId: tk.id, reason: 'protected' }]);
    const c = (await t.call('POST', '/v1/collections', { body: { title: 'album' } })).json();
    const add = await t.call('POST', `/v1/collections/${c.id}/drops`, { owner: c.ownerToken, body: { id: tk.id, ownerToken: tk.ownerToken } });
    expect([add.statusCode, code(add)]).toEqual([409, 'DROP_NOT_ADDABLE']);
    const view = await t.call('GET', `/v1/collections/${c.id}`);
    expect(view.json().drops).toEqual([]);
    expect(view.body).not.toContain('secret-plans');
  });
});

describe('password-protected collections', () => {
  async function protectedCollection() {
    const a = await ready({ name: 'holiday-01.jpg' });
    const b = await ready({ name: 'holiday-02.jpg' });
    const r = await t.call('POST', '/v1/collections', {
      body: { title: 'Family holiday', password: PASSWORD, drops: [a, b].map((d) => ({ id: d.id, ownerToken: d.ownerToken })) },
    });
    expect(r.statusCode).toBe(201);
    return { ...(r.json() as { id: string; ownerToken: string }), drops: [a.id, b.id] };
  }
  const collectionForm = (id: string, password: string) =>
    t.app.inject({
      method: 'POST',
      url: `/c/${id}/unlock`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', origin: 'null' },
      payload: new URLSearchParams({ password }).toString(),
    });

  it('a short password is PASSWORD_INVALID; the record keeps only a scrypt hash', async () => {
    const bad = await t.call('POST', '/v1/collections', { body: { password: 'abc' } });
    expect([bad.statusCode, code(bad)]).toEqual([400, 'PASSWORD_INVALID']);
    const c = await protectedCollection();
    const raw = [...t.store.objects.entries()].find(([k]) => k.startsWith(`collections/${c.id}/`))![1].body.toString();
    expect(raw).toMatch(/"passwordHash":"scrypt\$32768\$8\$1\$/);
    expect(raw).not.toContain(PASSWORD);
  });

  it('until unlocked: no title, no drops (not even their ids) from the api or the page', async () => {
    const c = await protectedCollection();
    const v = await t.call('GET', `/v1/collections/${c.id}`);
    expect(v.json()).toEqual({ id: c.id, expiresAt: expect.any(String), protected: true });
    const page = await t.app.inject({ method: 'GET', url: `/c/${c.id}`, headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(`action="/c/${c.id}/unlock"`);
    expect(page.body).toContain('Password-protected collection');
    for (const leak of ['Family holiday', 'holiday-0', ...c.drops]) expect([leak, page.body.includes(leak)]).toEqual([leak, false]);
    expect(page.headers['content-security-policy']).toContain("form-action 'self'");
  });

  it('the owner token shows it; the form unlocks it with a cookie scoped to /c/{id}; JSON answers a token', async () => {
    const c = await protectedCollection();
    expect((await t.call('GET', `/v1/collections/${c.id}`, { owner: c.ownerToken })).json()).toMatchObject({ title: 'Family holiday', protected: true });
    const wrong = await collectionForm(c.id, 'nope nope');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain('Wrong password');
    expect(wrong.body).not.toContain('Family holiday');
    const ok = await collectionForm(c.id, PASSWORD);
    expect([ok.statusCode, ok.headers.location]).toEqual([303, `/c/${c.id}`]);
    const set = [ok.headers['set-cookie']].flat()[0]!;
    expect(set).toContain(`Path=/c/${c.id}; HttpOnly; SameSite=Lax`);
    const cookie = set.split(';')[0]!.slice(UNLOCK_COOKIE.length + 1);
    const page = await t.app.inject({ method: 'GET', url: `/c/${c.id}`, headers: withCookie(cookie) });
    expect(page.body).toContain('Family holiday');
    expect(page.body).toContain('holiday-01.jpg');
    // The collection's cookie opens the collection only, never a drop of the same id or another collection.
    expect((await t.app.inject({ method: 'GET', url: `/d/${c.drops[0]}`, headers: withCookie(cookie) })).body).toContain('holiday-01.jpg');
    const json = await t.call('POST', `/c/${c.id}/unlock`, { body: { password: PASSWORD } });
    const token = json.json().unlockToken as string;
    expect((await t.call('GET', `/v1/collections/${c.id}`, { headers: { 'x-unlock-token': token } })).json()).toMatchObject({ title: 'Family holiday' });
    const other = await protectedCollection();
    expect((await t.call('GET', `/v1/collections/${other.id}`, { headers: { 'x-unlock-token': token } })).json()).toEqual({
      id: other.id,
      expiresAt: expect.any(String),
      protected: true,
    });
  });

  it('attempts on a collection are limited like a drop\'s', async () => {
    const c = await protectedCollection();
    for (let i = 0; i < 5; i++) expect((await collectionForm(c.id, `wrong ${i}`)).statusCode).toBe(401);
    const r = await t.call('POST', `/c/${c.id}/unlock`, { body: { password: PASSWORD } });
    expect([r.statusCode, code(r), r.headers['retry-after']]).toEqual([429, 'RATE_LIMITED', '900']);
  });
});

describe('the password never reaches a log', () => {
  it('not on creation (ticket, curl header, Uppy body and query), a failed attempt, a success or a validation error', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const config = loadConfig({ DROPSHIP_BUCKET: 'memory', DROPSHIP_PUBLIC_UPLOADS: 'true', DROPSHIP_PUBLIC_URL: 'http://drops.test', LOG_LEVEL: 'trace' });
    const app = await buildApp({ config, ...memoryAdapters('memory'), clock: () => T0, logger: { level: 'trace', stream } });
    const secret = 'hunter2-ultra-secret';
    try {
      const created = await app.inject({ method: 'POST', url: '/v1/drops', payload: { name: 'a.txt', size: 3, password: secret } });
      expect(created.statusCode).toBe(201);
      const id = created.json().id as string;
      const wrong = `${secret}-wrong`;
      expect((await app.inject({ method: 'POST', url: `/d/${id}/unlock`, payload: { password: wrong } })).statusCode).toBe(401);
      expect(
        (await app.inject({ method: 'POST', url: `/d/${id}/unlock`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `password=${wrong}` })).statusCode,
      ).toBe(401);
      expect((await app.inject({ method: 'POST', url: `/d/${id}/unlock`, payload: { password: secret } })).statusCode).toBe(200);
      expect((await app.inject({ method: 'POST', url: '/v1/drops', payload: { name: 'a.txt', size: 3, password: 'x'.repeat(300) + secret } })).statusCode).toBe(400);
      expect((await app.inject({ method: 'PUT', url: '/c.txt', headers: { 'x-password': secret }, payload: 'abc' })).statusCode).toBe(201);
      expect((await app.inject({ method: 'PUT', url: '/c.txt', headers: { 'x-password': 'x'.repeat(300) + secret }, payload: 'abc' })).statusCode).toBe(400);
      expect(
        (await app.inject({ method: 'POST', url: '/s3/multipart', payload: { filename: 'b.bin', metadata: { size: 20 * 1024 * 1024, password: secret } } })).statusCode,
      ).toBe(200);
      expect((await app.inject({ method: 'GET', url: `/s3/params?filename=a.txt&metadata[size]=3&metadata[password]=${secret}` })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
    const log = lines.join('');
    expect(log).toContain('/s3/params?filename=a.txt&metadata[size]=3&metadata[password]=[redacted]');
    expect(log).toContain('incoming request');
    expect(log).not.toContain('hunter2');
  });
});
