/** Downloads that survive a broken connection (src/client/resume.ts; the CLI's `download` reads through it). */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DownloadResumeError, openResumable } from '../../src/client/index.js';
import { isUndiciSocketEndAssertion } from '../../src/cli/commands/download.js';

const DATA = randomBytes(100_000);

/** A body that sends `upTo` bytes of `data` from `from`, then breaks off (or ends). */
function body(from: number, upTo: number, breakOff: boolean) {
  let at = from;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (at < upTo) {
        c.enqueue(new Uint8Array(DATA.subarray(at, Math.min(upTo, at + 10_000))));
        at += 10_000;
      } else if (breakOff) c.error(Object.assign(new TypeError('terminated'), { cause: new Error('other side closed') }));
      else c.close();
    },
  });
}

/** Storage that breaks each answer off after `chunk` bytes, and honours Range. */
function storage(chunk: number, opts: { ignoreRange?: boolean; etag?: string } = {}) {
  const requests: Record<string, string>[] = [];
  const f = (async (_url: string, init?: RequestInit) => {
    const h = Object.fromEntries(Object.entries((init?.headers as Record<string, string>) ?? {}));
    requests.push(h);
    const m = /^bytes=(\d+)-$/.exec(h.range ?? '');
    const from = m && !opts.ignoreRange ? Number(m[1]) : 0;
    const upTo = Math.min(DATA.length, from + chunk);
    const headers: Record<string, string> = { 'content-length': String(DATA.length - from), etag: opts.etag ?? '"e1"' };
    if (m && !opts.ignoreRange) headers['content-range'] = `bytes ${from}-${DATA.length - 1}/${DATA.length}`;
    return new Response(body(from, upTo, upTo < DATA.length), { status: m && !opts.ignoreRange ? 206 : 200, headers });
  }) as typeof fetch;
  return { f, requests };
}

const collect = async (g: AsyncGenerator<Uint8Array>) => {
  const parts: Uint8Array[] = [];
  for await (const c of g) parts.push(c);
  return Buffer.concat(parts);
};

describe('openResumable', () => {
  it('a body that breaks off is resumed with Range from the bytes received (and If-Match), until whole', async () => {
    const s = storage(30_000);
    const retries: number[] = [];
    const dl = await openResumable('http://s3.test/o', { fetch: s.f, delayMs: () => 0, onRetry: (got) => retries.push(got) });
    expect(dl.size).toBe(DATA.length);
    expect(Buffer.compare(await collect(dl.body), DATA)).toBe(0);
    expect(retries).toEqual([30_000, 60_000, 90_000]);
    expect(s.requests.slice(1)).toEqual([
      { range: 'bytes=30000-', 'if-match': '"e1"' },
      { range: 'bytes=60000-', 'if-match': '"e1"' },
      { range: 'bytes=90000-', 'if-match': '"e1"' },
    ]);
  });

  it('bounded: after `attempts` resumes the break is the error', async () => {
    const s = storage(10_000);
    const dl = await openResumable('http://s3.test/o', { fetch: s.f, attempts: 2, delayMs: () => 0 });
    await expect(collect(dl.body)).rejects.toThrow(/terminated/);
    expect(s.requests).toHaveLength(3);
  });

  it('a server that ignores the range is not stitched onto what was received', async () => {
    const s = storage(30_000, { ignoreRange: true });
    const dl = await openResumable('http://s3.test/o', { fetch: s.f, delayMs: () => 0 });
    await expect(collect(dl.body)).rejects.toBeInstanceOf(DownloadResumeError);
  });

  it('interrupt() breaks a stuck transfer off, and it resumes', async () => {
    let n = 0;
    const f = (async (_u: string, init?: RequestInit) => {
      n++;
      if (n === 1) {
        // Sends 50,000 bytes, then hangs until aborted (what a transfer looks like after undici's parser assertion).
        const stream = new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new Uint8Array(DATA.subarray(0, 50_000)));
            init!.signal!.addEventListener('abort', () => c.error(init!.signal!.reason));
          },
        });
        return new Response(stream, { headers: { 'content-length': String(DATA.length), etag: '"e1"' } });
      }
      return new Response(body(50_000, DATA.length, false), {
        status: 206,
        headers: { 'content-length': String(DATA.length - 50_000), 'content-range': `bytes 50000-${DATA.length - 1}/${DATA.length}` },
      });
    }) as typeof fetch;
    const dl = await openResumable('http://s3.test/o', { fetch: f, delayMs: () => 0 });
    const parts: Uint8Array[] = [];
    for await (const c of dl.body) {
      parts.push(c);
      if (parts.length === 1) setTimeout(() => dl.interrupt(new Error('undici assertion')), 10);
    }
    expect(Buffer.compare(Buffer.concat(parts), DATA)).toBe(0);
    expect(n).toBe(2);
  });

  it('recognises the undici#5360 assertion and nothing else', () => {
    const undici = Object.assign(new Error('assert(!this.paused)'), {
      code: 'ERR_ASSERTION',
      stack: 'AssertionError [ERR_ASSERTION]\n    at Parser.finish (node:internal/deps/undici/undici:6000:5)\n    at Socket.onHttpSocketEnd (node:internal/deps/undici/undici:7000:30)',
    });
    expect(isUndiciSocketEndAssertion(undici)).toBe(true);
    expect(isUndiciSocketEndAssertion(Object.assign(new Error('x'), { code: 'ERR_ASSERTION', stack: 'at mine (a.js:1:1)' }))).toBe(false);
    expect(isUndiciSocketEndAssertion(new TypeError('terminated'))).toBe(false);
  });
});
