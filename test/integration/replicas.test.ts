/**
 * Limits that hold across api replicas (DROPSHIP_REDIS_URL): two listening apps on one
 * emulator and one real redis-server (test/setup/redis.ts), a client talking to both. The rate
 * limit, the open-ticket cap and the event-stream cap count once for both replicas; a drop
 * cancelled on one replica gets no part URL from the other; and with Redis gone, reads keep
 * working while new tickets and streams are refused 503 STORAGE_UNAVAILABLE.
 * Without Redis each replica counts its own (the documented per-process default).
 */
import { randomUUID } from 'node:crypto';
import { request, type ClientRequest } from 'node:http';
import { spawn } from 'node:child_process';
import { TEST_ENV } from '../support/names.js';
import { freePort } from '../support/redis-server.js';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { api, createTicket, putPart, startApi, type TestApi } from '../support/app.js';
import { eventually } from '../support/env.js';
import { startRedis } from '../support/redis-server.js';

const MIB = 1024 * 1024;
const opened: TestApi[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((a) => a.close()));
});

/** Two replicas sharing one Redis (keys under a prefix of this test's own), or none. */
async function replicas(env: Record<string, string> = {}, redisUrl: string | undefined = inject('redisUrl')): Promise<[TestApi, TestApi]> {
  const shared: Record<string, string> = redisUrl ? { DROPSHIP_REDIS_URL: redisUrl, DROPSHIP_REDIS_PREFIX: `test-${randomUUID()}:` } : {};
  const a = await startApi({ ...shared, ...env });
  const b = await startApi({ ...shared, ...env });
  opened.push(a, b);
  return [a, b];
}

/** 100 requests from one client, alternating between the replicas: how many were not 429. */
async function admitted(a: TestApi, b: TestApi, n = 100): Promise<number> {
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const r = await fetch(`${(i % 2 ? a : b).base}/v1/drops/V1StGXR8_Z5jdHi6B-myT`);
    await r.arrayBuffer();
    if (r.status !== 429) ok++;
  }
  return ok;
}

describe('rate limits across replicas', () => {
  it('DROPSHIP_RATE_LIMIT=50: 100 requests split between two replicas admit 50, not 100', async () => {
    const [a, b] = await replicas({ DROPSHIP_RATE_LIMIT: '50' });
    const n = await admitted(a, b);
    expect(n).toBeLessThanOrEqual(55);
    expect(n).toBeGreaterThanOrEqual(45);
  });

  it('without DROPSHIP_REDIS_URL each replica counts its own: the same client gets 50 from each', async () => {
    const [a, b] = await replicas({ DROPSHIP_RATE_LIMIT: '50' }, '');
    expect(await admitted(a, b)).toBe(100);
  });
});

describe('slots across replicas', () => {
  it('the open-ticket cap per client counts the tickets of both replicas; one finished on either frees it for both', async () => {
    const [a, b] = await replicas({ DROPSHIP_MAX_OPEN_TICKETS: '3' });
    const t1 = await createTicket(a.base, { name: 'a1.bin', size: 6 });
    await createTicket(a.base, { name: 'a2.bin', size: 6 });
    await createTicket(b.base, { name: 'b1.bin', size: 6 });
    for (const r of [a, b]) {
      const refused = await api(r.base, 'POST', '/v1/drops', { name: 'more.bin', size: 6 });
      expect(refused.status).toBe(429);
      expect(refused.body).toMatchObject({ error: { code: 'TOO_MANY_OPEN_TICKETS' } });
      expect(refused.headers.get('retry-after')).toBeTruthy();
    }
    // A ticket of A's, cancelled through B: both replicas admit one more.
    expect((await api(b.base, 'DELETE', `/v1/drops/${t1.id}`, undefined, { 'x-owner-token': t1.ownerToken })).status).toBe(200);
    expect((await api(a.base, 'POST', '/v1/drops', { name: 'again.bin', size: 6 })).status).toBe(201);
    expect((await api(b.base, 'POST', '/v1/drops', { name: 'over.bin', size: 6 })).status).toBe(429);
  });

  it('the event-stream cap per client counts the streams open on both replicas, and a closed one frees its slot', async () => {
    const [a, b] = await replicas({ DROPSHIP_EVENT_STREAMS_PER_CLIENT: '2' });
    const t = await createTicket(a.base, { name: 'watched.bin', size: 6 });
    const streams = [new AbortController(), new AbortController()];
    const first = await fetch(`${a.base}/v1/drops/${t.id}/events`, { signal: streams[0]!.signal });
    const second = await fetch(`${b.base}/v1/drops/${t.id}/events`, { signal: streams[1]!.signal });
    expect([first.status, second.status]).toEqual([200, 200]);
    for (const r of [a, b]) {
      const third = await api(r.base, 'GET', `/v1/drops/${t.id}/events`);
      expect(third.status).toBe(429);
      expect(third.body).toMatchObject({ error: { code: 'TOO_MANY_EVENT_STREAMS' } });
    }
    streams[0]!.abort();
    const again = await eventually(async () => {
      const c = new AbortController();
      const r = await fetch(`${b.base}/v1/drops/${t.id}/events`, { signal: c.signal });
      if (r.status === 200) return c;
      await r.arrayBuffer();
      return undefined;
    });
    again.abort();
    streams[1]!.abort();
  });
});

/** A curl-style streaming PUT that sends a first chunk and then holds its slot; `answer` resolves if the api answers early (a refusal). */
function holdStream(base: string): { req: ClientRequest; answer: Promise<{ status: number; body: string }> } {
  const u = new URL(`${base}/held.bin`);
  const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'PUT', headers: { 'transfer-encoding': 'chunked' } });
  const answer = new Promise<{ status: number; body: string }>((resolve) => {
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
  });
  req.on('error', () => {});
  req.write(Buffer.alloc(1024));
  return { req, answer };
}

describe('streaming slots across replicas', () => {
  it('a client streaming on replica A holds its one streaming slot on B too: 429 TOO_MANY_STREAMS there', async () => {
    const [a, b] = await replicas({ DROPSHIP_STREAM_SLOTS_PER_CLIENT: '1' });
    const held = holdStream(a.base);
    try {
      await eventually(async () => a.app.streamStats().active === 1 || undefined);
      const refused = holdStream(b.base);
      const answer = await refused.answer;
      refused.req.destroy();
      expect(answer.status).toBe(429);
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'TOO_MANY_STREAMS' } });
    } finally {
      held.req.destroy();
    }
    // The slot comes back once A's stream is gone: B takes a stream now.
    await eventually(async () => a.app.streamStats().active === 0 || undefined, 15_000);
    const again = holdStream(b.base);
    try {
      await eventually(async () => b.app.streamStats().active === 1 || undefined);
    } finally {
      again.req.destroy();
    }
  });
});

describe('a replica that dies', () => {
  it('frees the event-stream slots it held once their lease lapses (DROPSHIP_SLOT_LEASE_MS), with no one releasing them', async () => {
    const shared = { DROPSHIP_REDIS_URL: inject('redisUrl'), DROPSHIP_REDIS_PREFIX: `test-${randomUUID()}:`, DROPSHIP_SLOT_LEASE_MS: '2000', DROPSHIP_EVENT_STREAMS_PER_CLIENT: '1' };
    const b = await startApi(shared);
    opened.push(b);
    const port = await freePort();
    const dying = spawn(process.execPath, ['--import', 'tsx', 'src/api/server.ts'], {
      env: { ...process.env, ...TEST_ENV, ...shared, AWS_ENDPOINT_URL: inject('awsEndpoint'), HOST: '127.0.0.1', PORT: String(port), DROPSHIP_PUBLIC_UPLOADS: 'true' },
      stdio: 'ignore',
    });
    try {
      const a = `http://127.0.0.1:${port}`;
      await eventually(async () => (await fetch(`${a}/healthz`)).status === 200 || undefined, 60_000, 200);
      const t = await createTicket(a, { name: 'watched.bin', size: 6 });
      const held = new AbortController();
      expect((await fetch(`${a}/v1/drops/${t.id}/events`, { signal: held.signal })).status).toBe(200);
      expect((await api(b.base, 'GET', `/v1/drops/${t.id}/events`)).status).toBe(429);
      // SIGKILL: nothing is released, nothing renews the lease.
      dying.kill('SIGKILL');
      await new Promise<void>((r) => dying.once('exit', () => r()));
      held.abort();
      const again = await eventually(async () => {
        const c = new AbortController();
        const r = await fetch(`${b.base}/v1/drops/${t.id}/events`, { signal: c.signal });
        if (r.status === 200) return c;
        await r.arrayBuffer();
        return undefined;
      }, 15_000, 250);
      again.abort();
    } finally {
      if (dying.exitCode === null && dying.signalCode === null) dying.kill('SIGKILL');
    }
  });
});

describe('part signing across replicas', () => {
  it('a drop cancelled on replica A gets no part URL from replica B, and a URL B signed before cannot store a byte', async () => {
    const [a, b] = await replicas();
    const t = await createTicket(a.base, { name: 'big.bin', size: 20 * MIB });
    expect(t.upload.mode).toBe('multipart');
    const sign = (r: TestApi) => api<{ parts: { url: string; size: number }[] }>(r.base, 'POST', `/v1/drops/${t.id}/parts`, { partNumbers: [2] }, { 'x-owner-token': t.ownerToken });
    const before = await sign(b);
    expect(before.status).toBe(200);
    expect((await api(a.base, 'DELETE', `/v1/drops/${t.id}`, undefined, { 'x-owner-token': t.ownerToken })).status).toBe(200);
    const after = await sign(b);
    expect(after.status).toBe(409);
    expect(after.body).toMatchObject({ error: { code: 'DROP_NOT_UPLOADING', details: { status: 'cancelled' } } });
    // The URL from before the cancel: its multipart upload is gone, S3 refuses the part.
    const part = before.body.parts[0]!;
    expect((await putPart(part.url, new Uint8Array(part.size))).status).toBe(404);
  });
});

describe('Redis unavailable', () => {
  it('reads keep working (rate limits fail open); new tickets and event streams are refused 503 STORAGE_UNAVAILABLE until it is back', async () => {
    const redis = await startRedis();
    try {
      const [a] = await replicas({ DROPSHIP_RATE_LIMIT: '1000' }, redis.url);
      const t = await createTicket(a.base, { name: 'before.bin', size: 6 });
      await redis.stop();

      const read = await api(a.base, 'GET', `/v1/drops/${t.id}`);
      expect(read.status).toBe(200);
      const ticket = await api(a.base, 'POST', '/v1/drops', { name: 'during.bin', size: 6 });
      expect(ticket.status).toBe(503);
      expect(ticket.body).toMatchObject({ error: { code: 'STORAGE_UNAVAILABLE' } });
      expect(ticket.headers.get('retry-after')).toBe('5');
      const events = await api(a.base, 'GET', `/v1/drops/${t.id}/events`);
      expect(events.status).toBe(503);
      expect(events.body).toMatchObject({ error: { code: 'STORAGE_UNAVAILABLE' } });
      // A drop whose ticket was taken before still completes (its release waits for nothing).
      expect((await api(a.base, 'DELETE', `/v1/drops/${t.id}`, undefined, { 'x-owner-token': t.ownerToken })).status).toBe(200);

      // Back on the same port: the client reconnects by itself.
      const again = await startRedis({ port: redis.port });
      try {
        const created = await eventually(async () => {
          const r = await api(a.base, 'POST', '/v1/drops', { name: 'after.bin', size: 6 });
          return r.status === 201 ? r : undefined;
        }, 15_000, 200);
        expect(created.status).toBe(201);
      } finally {
        await again.stop();
      }
    } finally {
      await redis.stop();
    }
  });
});
