/**
 * Path B, the curl streaming route, against the emulator: round trips of every size,
 * chunked bodies, and each safeguard — idle timeout, disconnects, slots, size limits —
 * proven by what is left in S3 afterwards (nothing).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MIB } from '../../src/core/parts.js';
import { api, bucketState as bucketStateOf, download, sha256, startApi, type TestApi } from '../support/app.js';
import { eventually, isolatedStorage } from '../support/env.js';

const run = promisify(execFile);
let env: Record<string, string> = {};
const dir = mkdtempSync(join(tmpdir(), 'dropship-stream-'));
let s: TestApi;

beforeAll(async () => {
  ({ env } = await isolatedStorage('stream-test'));
  s = await startApi({ ...env, DROPSHIP_STREAM_IDLE_TIMEOUT_MS: '1500', DROPSHIP_STREAM_SLOTS: '2' });
});
afterAll(async () => s?.close());

const bucketState = () => bucketStateOf(s.store);

/** A raw HTTP client: sends exactly what the test says, when it says. */
function rawPut(path: string, headers: Record<string, string>) {
  const url = new URL(s.base);
  const sock = connect(Number(url.port), url.hostname);
  let response = '';
  sock.on('data', (d) => (response += d.toString('latin1')));
  const closed = new Promise<void>((r) => sock.on('close', () => r()));
  sock.on('error', () => {});
  sock.write(`PUT ${path} HTTP/1.1\r\nHost: ${url.host}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
  return { sock, closed, response: () => response };
}

/** Waits until the server has received more than `since` body bytes and no stream is active. */
const waitIdle = (since: number) =>
  eventually(async () => {
    const st = s.app.streamStats();
    return (st.bytesReceived > since && st.active === 0) || undefined;
  }, 15_000);

describe('curl -T round trips', () => {
  it.each([0, 1, 100 * MIB])('%i bytes with Content-Length, verified by download', async (size) => {
    const file = join(dir, `f-${size}.bin`);
    const data = randomBytes(size);
    writeFileSync(file, data);
    const { stdout } = await run('curl', ['-sS', '--fail-with-body', '-T', file, `${s.base}/`], { maxBuffer: 1 << 20 });
    const url = stdout.trim();
    expect(url).toMatch(new RegExp(`^${s.base}/d/[A-Za-z0-9_-]{21}$`));
    const id = url.split('/').pop()!;
    const view = await api<{ status: string; name: string; size: number }>(s.base, 'GET', `/v1/drops/${id}`);
    expect(view.body).toMatchObject({ status: 'processing', name: `f-${size}.bin`, size });
    const got = await download(s.base, id);
    expect(sha256(got.data!)).toBe(sha256(data));
  }, 120_000);

  it('a chunked body of unknown length (curl -T -) spanning several parts', async () => {
    const file = join(dir, 'chunked.bin');
    const data = randomBytes(40 * MIB + 7);
    writeFileSync(file, data);
    const { stdout } = await run('sh', ['-c', `curl -sS --fail-with-body -T - '${s.base}/v1/stream/piped%20name.bin' < '${file}'`]);
    const id = stdout.trim().split('/').pop()!;
    const view = await api<{ name: string; size: number }>(s.base, 'GET', `/v1/drops/${id}`);
    expect(view.body).toMatchObject({ name: 'piped name.bin', size: data.length });
    expect(sha256((await download(s.base, id)).data!)).toBe(sha256(data));
  }, 120_000);

  it('answers with the drop id and an owner token that can delete it', async () => {
    const r = await fetch(`${s.base}/v1/stream/x.txt`, { method: 'PUT', body: 'hello' });
    expect(r.status).toBe(201);
    const id = r.headers.get('x-drop-id')!;
    const token = r.headers.get('x-owner-token')!;
    expect((await r.text()).trim()).toBe(`${s.base}/d/${id}`);
    const del = await api(s.base, 'DELETE', `/v1/drops/${id}`, undefined, { 'x-owner-token': token });
    expect(del.status).toBe(200);
  });
});

describe('safeguards leave nothing behind', () => {
  it('a client that stalls past the idle timeout is cut and rolled back', async () => {
    const before = await bucketState();
    const received = s.app.streamStats().bytesReceived;
    const c = rawPut('/v1/stream/slow.bin', { 'content-length': String(20 * MIB) });
    c.sock.write(randomBytes(9 * MIB)); // more than one part: a multipart upload exists
    await c.closed; // the server cuts the connection
    await waitIdle(received);
    expect(await bucketState()).toEqual(before);
  });

  it('a client that disconnects half-way leaves no upload and no drop', async () => {
    const before = await bucketState();
    const received = s.app.streamStats().bytesReceived;
    const c = rawPut('/v1/stream/half.bin', { 'content-length': String(32 * MIB) });
    c.sock.write(randomBytes(16 * MIB), () => c.sock.destroy());
    await waitIdle(received);
    expect(await bucketState()).toEqual(before);
  });

  it('when the slots are full the next request gets 503 + Retry-After before its body is read', async () => {
    expect(s.app.streamStats().active).toBe(0);
    const holders = [rawPut('/v1/stream/a.bin', { 'content-length': '1000' }), rawPut('/v1/stream/b.bin', { 'content-length': '1000' })];
    // Keep both holders alive (a byte every 300 ms, well inside the idle timeout).
    const keepAlive = setInterval(() => holders.forEach((h) => h.sock.write('x')), 300);
    await eventually(async () => s.app.streamStats().active === 2 || undefined);
    const received = s.app.streamStats().bytesReceived;

    // curl's way: Expect: 100-continue. The answer replaces the 100; the body is never sent.
    const polite = rawPut('/v1/stream/c.bin', { 'content-length': '5000000', expect: '100-continue' });
    await polite.closed;
    expect(polite.response()).toMatch(/^HTTP\/1\.1 503/);
    expect(polite.response()).not.toMatch(/100 Continue/);
    expect(polite.response()).toMatch(/retry-after: \d+/i);

    // Without Expect: the refusal arrives while the body is still unsent.
    const eager = rawPut('/v1/stream/d.bin', { 'content-length': '5000000' });
    await eventually(async () => eager.response().length > 0 || undefined);
    expect(eager.response()).toMatch(/^HTTP\/1\.1 503/);
    expect(eager.response()).toMatch(/"code":"STREAM_SLOTS_FULL"/);
    eager.sock.destroy();
    expect(s.app.streamStats().bytesReceived).toBe(received);

    clearInterval(keepAlive);
    for (const h of holders) h.sock.destroy();
    await waitIdle(0);
  });
});

describe('size limits', () => {
  let small: TestApi;
  beforeAll(async () => {
    small = await startApi({ ...env, DROPSHIP_STREAM_MAX_SIZE: String(10 * MIB) });
  });
  afterAll(async () => small?.close());

  it('a Content-Length over the limit is refused with 413 at once', async () => {
    // Only the headers are sent: the answer must not wait for a body.
    const url = new URL(small.base);
    const sock: Socket = connect(Number(url.port), url.hostname);
    let text = '';
    sock.on('data', (d) => (text += d));
    sock.write(`PUT /v1/stream/big.bin HTTP/1.1\r\nHost: x\r\nContent-Length: ${10 * MIB + 1}\r\n\r\n`);
    await eventually(async () => text.length > 0 || undefined);
    sock.destroy();
    expect(text).toMatch(/^HTTP\/1\.1 413/);
    expect(text).toMatch(/"code":"FILE_TOO_LARGE"/);
  });

  it('a chunked body crossing the limit is cut, answered 413 and rolled back', async () => {
    const before = await bucketState();
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 12; i++) c.enqueue(randomBytes(MIB));
        c.close();
      },
    });
    const r = await fetch(`${small.base}/v1/stream/over.bin`, { method: 'PUT', body, duplex: 'half' } as RequestInit).catch(
      (e: unknown) => e,
    );
    if (r instanceof Response) {
      expect(r.status).toBe(413);
      expect(await r.json()).toMatchObject({ error: { code: 'FILE_TOO_LARGE' } });
    }
    await eventually(async () => small.app.streamStats().active === 0 || undefined);
    expect(await bucketState()).toEqual(before);
  });
});

describe('trickling clients cannot keep others out (default limits)', () => {
  let d: TestApi;
  beforeAll(async () => {
    d = await startApi({ ...env });
  });
  afterAll(async () => d?.close());

  /** A PUT from `localAddress` that sends one body byte every 2 s. */
  function trickler(localAddress: string) {
    const url = new URL(d.base);
    const sock = connect({ port: Number(url.port), host: url.hostname, localAddress });
    let response = '';
    sock.on('data', (b) => (response += b.toString('latin1')));
    sock.on('error', () => {});
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    sock.write(`PUT /v1/stream/slow.bin HTTP/1.1\r\nHost: ${url.host}\r\nContent-Length: 1000000\r\n\r\n`);
    const timer = setInterval(() => sock.write('x'), 2000);
    return { sock, closed, response: () => response, stop: () => (clearInterval(timer), sock.destroy()) };
  }

  it("8 connections from 127.0.0.2..9 sending 1 byte every 2 s; a victim's curl -T from 127.0.0.1 still succeeds", async () => {
    expect(d.config.DROPSHIP_STREAM_SLOTS).toBe(8);
    const slow = Array.from({ length: 8 }, (_, i) => trickler(`127.0.0.${i + 2}`));
    try {
      await eventually(async () => d.app.streamStats().active === 8 || undefined);
      // The tricklers have been under the minimum rate long enough to be displaced.
      await new Promise((r) => setTimeout(r, 5500));
      const file = join(dir, 'victim.bin');
      const data = randomBytes(4 * MIB);
      writeFileSync(file, data);
      const { stdout } = await run('curl', ['-sS', '--fail-with-body', '--interface', '127.0.0.1', '-T', file, `${d.base}/`], { maxBuffer: 1 << 20 });
      const id = stdout.trim().split('/').pop()!;
      const got = await download(d.base, id);
      expect(sha256(got.data!)).toBe(sha256(data));
      // The victim took the slot of one trickler, which was told why.
      await eventually(async () => slow.some((t) => /"code":"STREAM_TOO_SLOW"/.test(t.response())) || undefined);
      const cut = slow.filter((t) => /^HTTP\/1\.1 408/.test(t.response()));
      expect(cut.length).toBeGreaterThanOrEqual(1);
      expect(d.app.streamStats().evicted).toBeGreaterThanOrEqual(1);
    } finally {
      for (const t of slow) t.stop();
    }
    await eventually(async () => d.app.streamStats().active === 0 || undefined, 15_000);
  }, 60_000);

  it('one client holds at most DROPSHIP_STREAM_SLOTS_PER_CLIENT streams: the next is 429 TOO_MANY_STREAMS', async () => {
    const held = [trickler('127.0.0.20'), trickler('127.0.0.20')];
    try {
      await eventually(async () => d.app.streamStats().active === 2 || undefined);
      const third = trickler('127.0.0.20');
      await eventually(async () => third.response().length > 0 || undefined);
      expect(third.response()).toMatch(/^HTTP\/1\.1 429/);
      expect(third.response()).toMatch(/"code":"TOO_MANY_STREAMS"/);
      expect(third.response()).toMatch(/retry-after: \d+/i);
      third.stop();
    } finally {
      for (const t of held) t.stop();
    }
    await eventually(async () => d.app.streamStats().active === 0 || undefined, 15_000);
  });
});
