/**
 * Limits that must hold against a hostile client, through `inject` on the in-memory
 * adapters: the rate limit's buckets (verified keys, client addresses, IPv6 /64s, trusted
 * proxies), /metrics protection, what counts as a download, the event-stream caps.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
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

describe('server-sent events', () => {
  async function uploading(t: MemoryApp) {
    const r = await t.call('POST', '/v1/drops', { body: { name: 'a.txt', size: 3 } });
    expect(r.statusCode).toBe(201);
    return r.json<{ id: string; ownerToken: string; parts: { url: string; headers?: Record<string, string> }[] }>();
  }

  async function listen(t: MemoryApp, id: string, remoteAddress = '127.0.0.1') {
    const ac = new AbortController();
    const res = await t.app.inject({ method: 'GET', url: `/v1/drops/${id}/events`, remoteAddress, payloadAsStream: true, signal: ac.signal });
    let text = '';
    let ended = false;
    const s = res.stream();
    const done = new Promise<void>((resolve) => {
      s.on('data', (c: Buffer) => (text += c.toString()));
      s.on('error', () => {});
      s.on('end', () => ((ended = true), resolve()));
      s.on('close', () => ((ended = true), resolve()));
    });
    // An error answer ends at once: read it whole.
    if (res.statusCode !== 200) await done;
    const r = { statusCode: res.statusCode, headers: res.headers, json: () => JSON.parse(text) as { error: { code: string } } };
    return { r, done, abort: () => ac.abort(), text: () => text, ended: () => ended };
  }

  const manifestGets = (t: MemoryApp, id: string) => t.store.calls.filter((c) => c.op === 'get' && c.key === `drops/${id}/manifest.json`).length;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('a client holds at most DROPSHIP_EVENT_STREAMS_PER_CLIENT streams: 429 TOO_MANY_EVENT_STREAMS with Retry-After', async () => {
    const t = await app({ DROPSHIP_EVENT_STREAMS_PER_CLIENT: '2' });
    const d = await uploading(t);
    const a = await listen(t, d.id, '198.51.100.7');
    const b = await listen(t, d.id, '198.51.100.7');
    expect([a.r.statusCode, b.r.statusCode]).toEqual([200, 200]);
    const c = await listen(t, d.id, '198.51.100.7');
    expect([c.r.statusCode, c.r.json().error.code, c.r.headers['retry-after']]).toEqual([429, 'TOO_MANY_EVENT_STREAMS', '10']);
    // Another client is not affected; a client's IPv6 /64 is one client.
    expect((await listen(t, d.id, '198.51.100.8')).r.statusCode).toBe(200);
    expect((await listen(t, d.id, '2001:db8::1')).r.statusCode).toBe(200);
    expect((await listen(t, d.id, '2001:db8::2')).r.statusCode).toBe(200);
    expect((await listen(t, d.id, '2001:db8::3')).r.statusCode).toBe(429);
    // Closing one gives the slot back.
    a.abort();
    await a.done;
    await sleep(20);
    expect((await listen(t, d.id, '198.51.100.7')).r.statusCode).toBe(200);
  });

  it('the process holds at most DROPSHIP_EVENT_STREAMS: 503 EVENT_STREAMS_FULL with Retry-After', async () => {
    const t = await app({ DROPSHIP_EVENT_STREAMS: '3' });
    const d = await uploading(t);
    for (let i = 1; i <= 3; i++) expect((await listen(t, d.id, `198.51.100.${i}`)).r.statusCode).toBe(200);
    const r = (await listen(t, d.id, '198.51.100.4')).r;
    expect([r.statusCode, r.json().error.code, r.headers['retry-after']]).toEqual([503, 'EVENT_STREAMS_FULL', '5']);
  });

  it('with the default settings, one client cannot open hundreds of streams', async () => {
    const t = await app();
    const d = await uploading(t);
    const rs = [];
    for (let i = 0; i < 40; i++) rs.push((await listen(t, d.id)).r.statusCode);
    expect(rs.filter((s) => s === 200).length).toBe(t.config.DROPSHIP_EVENT_STREAMS_PER_CLIENT);
    expect(rs.filter((s) => s === 429).length).toBe(40 - t.config.DROPSHIP_EVENT_STREAMS_PER_CLIENT);
  });

  it('50 streams on one drop share one manifest poll, and every one gets each change', async () => {
    // A short poll (the smallest DROPSHIP_EVENT_POLL_MS allowed) so the test waits a few polls, not seconds.
    const t = await app({ DROPSHIP_EVENT_POLL_MS: '100' });
    const d = await uploading(t);
    const before = manifestGets(t, d.id);
    const opening = Date.now();
    const streams = [];
    for (let i = 0; i < 50; i++) streams.push(await listen(t, d.id, `198.51.100.${i}`));
    expect(streams.every((s) => s.r.statusCode === 200)).toBe(true);
    // Opening them read the manifest once (the first stream); the others started from the
    // poll's copy — at most the polls that ran meanwhile besides.
    expect(manifestGets(t, d.id) - before).toBeLessThanOrEqual(2 + Math.floor((Date.now() - opening) / 100));
    const opened = manifestGets(t, d.id);
    await sleep(350);
    // One poll per interval for the drop (3 in 350 ms), not one per stream (150).
    expect(manifestGets(t, d.id) - opened).toBeLessThanOrEqual(4);
    expect(t.app.events.stats()).toMatchObject({ open: 50, watched: 1 });
    await t.put(d.parts[0]!.url, Buffer.from('abc'), d.parts[0]!.headers);
    expect((await t.call('POST', `/v1/drops/${d.id}/complete`, { owner: d.ownerToken })).statusCode).toBe(200);
    await t.manifests.applyEvent(d.id, { type: 'processed', at: t.now(), sniffedType: 'text/plain', thumbnail: 'none', thumbnails: [] });
    await Promise.race([Promise.all(streams.map((s) => s.done)), sleep(3000)]);
    for (const s of streams) {
      expect(s.ended()).toBe(true);
      expect(s.text()).toMatch(/"status":"ready"/);
    }
    expect(t.app.events.stats()).toMatchObject({ open: 0, watched: 0 });
  });

  it('app.close() ends every open stream at once', async () => {
    const t = await memoryApp({ DROPSHIP_EVENT_POLL_MS: '100' });
    const d = await uploading(t);
    const streams = await Promise.all([1, 2, 3].map((i) => listen(t, d.id, `198.51.100.${i}`)));
    expect(streams.map((s) => s.r.statusCode)).toEqual([200, 200, 200]);
    const started = Date.now();
    await t.close();
    await Promise.race([Promise.all(streams.map((s) => s.done)), sleep(2000)]);
    expect(streams.map((s) => s.ended())).toEqual([true, true, true]);
    expect(Date.now() - started).toBeLessThan(1500);
    // … and nothing keeps polling storage (a poll loop left running keeps the process alive).
    const reads = manifestGets(t, d.id);
    await sleep(350);
    // Three polls' time (DROPSHIP_EVENT_POLL_MS 100) without a read.
    expect(manifestGets(t, d.id)).toBe(reads);
  });

  it('a stream on a finished drop sends its status and ends; an unknown drop is 404 and holds no slot', async () => {
    const t = await app({ DROPSHIP_EVENT_STREAMS_PER_CLIENT: '1' });
    for (let i = 0; i < 3; i++) expect((await listen(t, 'AAAAAAAAAAAAAAAAAAAAA')).r.statusCode).toBe(404);
    const d = await uploading(t);
    await t.call('DELETE', `/v1/drops/${d.id}`, { owner: d.ownerToken });
    const s = await listen(t, d.id);
    await s.done;
    expect(s.text()).toMatch(/"status":"cancelled"/);
    expect((await listen(t, d.id)).r.statusCode).toBe(200);
  });
});

describe('streaming uploads (curl -T)', () => {
  const tricklers: (() => void)[] = [];
  afterEach(() => {
    for (const stop of tricklers.splice(0)) stop();
    vi.useRealTimers();
  });

  /**
   * The route measures a client's pace on `performance.now()`. Faked (and only it: timers and
   * sockets stay real), it stands still unless the test moves it, so seconds of a client's
   * time pass at once; the pace checks still run on their real interval and judge that time.
   */
  function paceClock() {
    vi.useFakeTimers({ toFake: ['performance'] });
    return { pass: (ms: number) => void vi.advanceTimersByTime(ms) };
  }

  /** A body that sends one byte every `everyMs`, never finishing, declared as `length` bytes. */
  function trickle(t: MemoryApp, remoteAddress: string, everyMs: number, length = 100_000) {
    const body = new Readable({ read() {} });
    const timer = setInterval(() => body.push(Buffer.from('x')), everyMs);
    tricklers.push(() => {
      clearInterval(timer);
      body.destroy();
    });
    // Cutting the body destroys inject's request stream, so `inject` rejects with the error the
    // body was destroyed with (over a socket the client gets it as the answer:
    // test/integration/stream.test.ts).
    return t.app
      .inject({
        method: 'PUT',
        url: '/slow.bin',
        payload: body,
        remoteAddress,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(length) },
      })
      .then(
        (r) => ({ status: r.statusCode, code: (r.json() as { error?: { code: string } }).error?.code }),
        (e: { status?: number; code?: string }) => ({ status: e.status, code: e.code }),
      );
  }
  const upload = (t: MemoryApp, remoteAddress: string, bytes: Buffer) =>
    t.app.inject({ method: 'PUT', url: '/fast.bin', payload: bytes, remoteAddress, headers: { 'content-type': 'application/octet-stream' } });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const until = async (cond: () => boolean, ms = 3000) => {
    const end = Date.now() + ms;
    while (!cond() && Date.now() < end) await sleep(20);
    expect(cond()).toBe(true);
  };

  it('a client holds at most DROPSHIP_STREAM_SLOTS_PER_CLIENT (2) streams: 429 TOO_MANY_STREAMS; others are not affected', async () => {
    const t = await app();
    void trickle(t, '203.0.113.1', 100);
    void trickle(t, '203.0.113.1', 100);
    await until(() => t.app.streamStats().active === 2);
    const third = await upload(t, '203.0.113.1', randomBytes(1000));
    expect([third.statusCode, third.json().error.code, third.headers['retry-after']]).toEqual([429, 'TOO_MANY_STREAMS', '10']);
    expect((await upload(t, '203.0.113.2', randomBytes(1000))).statusCode).toBe(201);
  });

  it('slower than the minimum rate over a window: 408 STREAM_TOO_SLOW, rolled back', async () => {
    const clock = paceClock();
    const t = await app({ DROPSHIP_STREAM_MIN_BYTES_PER_S: '1000', DROPSHIP_STREAM_RATE_WINDOW_MS: '1000' });
    const started = Date.now();
    const pending = trickle(t, '203.0.113.1', 100);
    await until(() => t.app.streamStats().bytesReceived > 0);
    // Not a whole window of the client's time yet: nobody judges it.
    await sleep(300);
    expect(t.app.streamStats()).toMatchObject({ active: 1, cut: 0 });
    clock.pass(1000);
    const r = await pending;
    expect(r).toEqual({ status: 408, code: 'STREAM_TOO_SLOW' });
    // Judged by the next pace check (a quarter of the window), not at the end of the body.
    expect(Date.now() - started).toBeLessThan(3000);
    const manifests = () => [...t.store.objects.keys()].filter((k) => k.endsWith('manifest.json'));
    const statuses = () => manifests().map((k) => JSON.parse(t.store.objects.get(k)!.body.toString()).status);
    await until(() => t.app.streamStats().active === 0 && statuses().join() === 'cancelled');
  });

  it('longer than DROPSHIP_STREAM_MAX_DURATION_MS: 408 STREAM_TOO_LONG', async () => {
    const clock = paceClock();
    const t = await app({ DROPSHIP_STREAM_MIN_BYTES_PER_S: '0', DROPSHIP_STREAM_MAX_DURATION_MS: '1500', DROPSHIP_STREAM_RATE_WINDOW_MS: '1000' });
    const pending = trickle(t, '203.0.113.1', 50);
    await until(() => t.app.streamStats().active === 1);
    clock.pass(1499);
    await sleep(300);
    // A millisecond short of the limit it is still going.
    expect(t.app.streamStats()).toMatchObject({ active: 1, cut: 0 });
    clock.pass(1);
    expect(await pending).toEqual({ status: 408, code: 'STREAM_TOO_LONG' });
  });

  it('defaults: 8 trickling clients hold every slot, yet a fast upload gets in by displacing the slowest', async () => {
    const clock = paceClock();
    const t = await app();
    expect(t.config.DROPSHIP_STREAM_SLOTS).toBe(8);
    const slow = Array.from({ length: 8 }, (_, i) => trickle(t, `203.0.113.${10 + i}`, 2000));
    await until(() => t.app.streamStats().active === 8);
    // Younger than the grace period (5 s), nobody is starving yet: a newcomer is refused.
    clock.pass(4999);
    const early = await upload(t, '127.0.0.1', randomBytes(1000));
    expect([early.statusCode, early.json().error.code]).toEqual([503, 'STREAM_SLOTS_FULL']);
    clock.pass(201);
    const data = randomBytes(3 * 1024 * 1024);
    const victim = await upload(t, '127.0.0.1', data);
    expect(victim.statusCode, victim.body).toBe(201);
    expect(Buffer.compare(t.store.objects.get(`drops/${String(victim.headers['x-drop-id'])}/original`)!.body, data)).toBe(0);
    const cut = await Promise.race([Promise.any(slow), sleep(1000).then(() => undefined)]);
    expect(cut).toEqual({ status: 408, code: 'STREAM_TOO_SLOW' });
    expect(t.app.streamStats()).toMatchObject({ active: 7 });
  }, 15_000);
});
