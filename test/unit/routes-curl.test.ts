/**
 * What a person with a shell sees: `curl host/` prints usage (not the app's HTML), every JSON
 * answer ends with a newline, and the `curl -T` answer carries the one line that deletes the
 * drop again. Through `inject` on the in-memory adapters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryApp, type MemoryApp } from '../support/memory-app.js';

let t: MemoryApp;
beforeAll(async () => {
  t = await memoryApp();
});
afterAll(async () => {
  await t?.close();
});

describe('GET / for command-line clients', () => {
  it.each(['curl/8.5.0', 'Wget/1.21.4', 'HTTPie/3.2.2'])('%s gets plain-text usage naming this server', async (ua) => {
    const r = await t.call('GET', '/', { headers: { 'user-agent': ua, accept: '*/*' } });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(r.body).toContain('curl -T photo.jpg http://drops.test/');
    expect(r.body).toContain('curl -X DELETE -H "X-Owner-Token: <token>" http://drops.test/v1/drops/<id>');
    expect(r.headers.vary).toContain('user-agent');
  });

  it('a browser (or curl asking for HTML) still gets the app', async () => {
    for (const headers of [
      { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0', accept: 'text/html,application/xhtml+xml' },
      { 'user-agent': 'curl/8.5.0', accept: 'text/html' },
    ]) {
      const r = await t.call('GET', '/', { headers });
      expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(r.body).not.toContain('curl -T photo.jpg');
    }
  });

  it('with API keys required, the usage shows the Authorization header', async () => {
    const keyed = await memoryApp({ DROPSHIP_PUBLIC_UPLOADS: 'false', DROPSHIP_API_KEYS: 'k1' });
    try {
      const r = await keyed.call('GET', '/', { headers: { 'user-agent': 'curl/8.5.0' } });
      expect(r.body).toContain('curl -H "Authorization: Bearer $DROPSHIP_API_KEY" -T photo.jpg');
    } finally {
      await keyed.close();
    }
  });
});

describe('JSON answers end with a newline', () => {
  it('a drop view, an error and a validation error: one line each, Content-Length included', async () => {
    const created = await t.call('POST', '/v1/drops', { body: { name: 'a.txt', size: 3 } });
    expect(created.statusCode).toBe(201);
    const view = await t.call('GET', `/v1/drops/${created.json<{ id: string }>().id}`);
    const missing = await t.call('GET', '/v1/drops/AAAAAAAAAAAAAAAAAAAAA');
    const invalid = await t.call('POST', '/v1/drops', { body: { name: '', size: -1 } });
    for (const r of [created, view, missing, invalid]) {
      expect(r.body.endsWith('}\n')).toBe(true);
      expect(r.body.indexOf('\n')).toBe(r.body.length - 1);
      expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.body));
      expect(() => JSON.parse(r.body)).not.toThrow();
    }
    expect(missing.statusCode).toBe(404);
    expect(invalid.statusCode).toBe(400);
  });
});

describe('the curl -T answer', () => {
  it('is the link alone in the body, with the delete command (filled in) in a header that works', async () => {
    const r = await t.app.inject({ method: 'PUT', url: '/notes.txt', payload: Buffer.from('hello'), headers: { 'content-type': 'application/octet-stream' } });
    expect(r.statusCode).toBe(201);
    const id = String(r.headers['x-drop-id']);
    const token = String(r.headers['x-owner-token']);
    expect(r.body).toBe(`http://drops.test/d/${id}\n`);
    expect(r.headers['x-delete-command']).toBe(`curl -X DELETE -H 'X-Owner-Token: ${token}' http://drops.test/v1/drops/${id}`);
    const del = await t.call('DELETE', `/v1/drops/${id}`, { owner: token });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toMatchObject({ status: 'cancelled' });
  });
});
