/**
 * Limits that must hold against a hostile client, through `inject` on the in-memory
 * adapters: the rate limit's buckets (verified keys, client addresses, IPv6 /64s, trusted
 * proxies), /metrics protection, what counts as a download, the event-stream caps.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryApp, type MemoryApp } from '../support/memory-app.js';

let apps: MemoryApp[] = [];
afterEach(async () => {
  await Promise.all(apps.map((a) => a.close()));
  apps = [];
});
async function app(env: Record<string, string> = {}) {
  const a = await memoryApp(env);
  apps.push(a);
  return a;
}

const get = (t: MemoryApp, url: string, opts: { headers?: Record<string, string>; remoteAddress?: string } = {}) =>
  t.app.inject({ method: 'GET', url, headers: opts.headers ?? {}, ...(opts.remoteAddress ? { remoteAddress: opts.remoteAddress } : {}) });

describe('rate limit buckets', () => {
  it('random Bearer tokens are limited like anonymous requests from their address', async () => {
    const t = await app({ DROPSHIP_RATE_LIMIT: '5' });
    const codes = [];
    for (let i = 0; i < 8; i++) {
      const r = await get(t, '/healthz', { headers: { authorization: `Bearer ${randomBytes(12).toString('hex')}` } });
      codes.push(r.statusCode);
    }
    expect(codes).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    // … and they share the address's bucket with plain anonymous requests.
    expect((await get(t, '/healthz')).statusCode).toBe(429);
  });

  it('a verified API key has its own bucket, apart from its address', async () => {
    const t = await app({ DROPSHIP_RATE_LIMIT: '3', DROPSHIP_API_KEYS: 'k-one,k-two' });
    for (let i = 0; i < 3; i++) expect((await get(t, '/healthz')).statusCode).toBe(200);
    expect((await get(t, '/healthz')).statusCode).toBe(429);
    for (let i = 0; i < 3; i++) expect((await get(t, '/healthz', { headers: { authorization: 'Bearer k-one' } })).statusCode).toBe(200);
    expect((await get(t, '/healthz', { headers: { authorization: 'Bearer k-one' } })).statusCode).toBe(429);
    expect((await get(t, '/healthz', { headers: { authorization: 'Bearer k-two' } })).statusCode).toBe(200);
  });

  it('IPv6 clients are bucketed by /64', async () => {
    const t = await app({ DROPSHIP_RATE_LIMIT: '2' });
    expect((await get(t, '/healthz', { remoteAddress: '2001:db8:1:2::1' })).statusCode).toBe(200);
    expect((await get(t, '/healthz', { remoteAddress: '2001:db8:1:2::2' })).statusCode).toBe(200);
    expect((await get(t, '/healthz', { remoteAddress: '2001:db8:1:2:ffff::3' })).statusCode).toBe(429);
    expect((await get(t, '/healthz', { remoteAddress: '2001:db8:1:3::1' })).statusCode).toBe(200);
  });

  it('X-Forwarded-For is ignored by default: a client cannot pick its bucket', async () => {
    const t = await app({ DROPSHIP_RATE_LIMIT: '2' });
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await get(t, '/healthz', { headers: { 'x-forwarded-for': `198.51.100.${i}` } })).statusCode);
    expect(codes).toEqual([200, 200, 429]);
  });

  it.each([['1'], ['127.0.0.0/8'], ['loopback']])('DROPSHIP_TRUST_PROXY=%s: clients behind the proxy get their own buckets', async (trust) => {
    const t = await app({ DROPSHIP_RATE_LIMIT: '2', DROPSHIP_TRUST_PROXY: trust });
    const from = (ip: string) => get(t, '/healthz', { headers: { 'x-forwarded-for': ip } });
    expect((await from('198.51.100.1')).statusCode).toBe(200);
    expect((await from('198.51.100.1')).statusCode).toBe(200);
    expect((await from('198.51.100.1')).statusCode).toBe(429);
    expect((await from('198.51.100.2')).statusCode).toBe(200);
    // IPv6 behind the proxy: by /64 as well.
    expect((await from('2001:db8::1')).statusCode).toBe(200);
    expect((await from('2001:db8::2')).statusCode).toBe(200);
    expect((await from('2001:db8::3')).statusCode).toBe(429);
  });

  it('a proxy that is not trusted cannot forward for others', async () => {
    const t = await app({ DROPSHIP_RATE_LIMIT: '1', DROPSHIP_TRUST_PROXY: '10.0.0.0/8' });
    expect((await get(t, '/healthz', { headers: { 'x-forwarded-for': '198.51.100.1' } })).statusCode).toBe(200);
    expect((await get(t, '/healthz', { headers: { 'x-forwarded-for': '198.51.100.2' } })).statusCode).toBe(429);
  });

  it('open-ticket limits use the same buckets: an IPv6 /64 holds one quota', async () => {
    const t = await app({ DROPSHIP_MAX_OPEN_TICKETS: '2' });
    const create = (remoteAddress: string) =>
      t.app.inject({ method: 'POST', url: '/v1/drops', payload: { name: 'a.txt', size: 10 }, remoteAddress });
    expect((await create('2001:db8:5::1')).statusCode).toBe(201);
    expect((await create('2001:db8:5::2')).statusCode).toBe(201);
    const third = await create('2001:db8:5::3');
    expect(third.statusCode).toBe(429);
    expect(third.json().error.code).toBe('TOO_MANY_OPEN_TICKETS');
    expect((await create('2001:db8:6::1')).statusCode).toBe(201);
  });
});

describe('/metrics', () => {
  it('is public by default', async () => {
    const t = await app();
    const r = await get(t, '/metrics');
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain('dropship_http_request_duration_seconds');
  });

  it('with DROPSHIP_METRICS_TOKEN answers only that Bearer token', async () => {
    const t = await app({ DROPSHIP_METRICS_TOKEN: 's3cret-scrape' });
    const none = await get(t, '/metrics');
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('UNAUTHORIZED');
    expect(none.body).not.toContain('dropship_');
    expect((await get(t, '/metrics', { headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(401);
    const ok = await get(t, '/metrics', { headers: { authorization: 'Bearer s3cret-scrape' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('dropship_http_request_duration_seconds');
  });
});
