/**
 * The client SDK against a fake api + S3 (a fetch function), for behaviour the emulator
 * cannot produce on demand: throttling answers, expired-URL refusals, browser XHR progress,
 * lazy signing of thousands of parts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DropshipApiError, DropshipClient, type UploadProgress } from '../../src/client/index.js';
import { bytesSource } from '../support/client.js';

interface FakeOptions {
  size: number;
  partSize: number;
  /** How the fake S3 answers a part PUT; undefined → 200 with an ETag. */
  s3?: (partNumber: number, url: URL) => Response | undefined;
  /** How the fake api answers; undefined → the normal answer. */
  api?: (method: string, path: string) => Response | undefined;
  ttlMs?: number;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

function fakeDropship(o: FakeOptions) {
  const partCount = o.size === 0 ? 1 : Math.ceil(o.size / o.partSize);
  const sizeOf = (n: number) => (n < partCount ? o.partSize : o.size - o.partSize * (partCount - 1));
  let version = 0;
  const signCalls: number[][] = [];
  const puts: { partNumber: number; bytes: number; version: number }[] = [];
  const stored = new Map<number, string>();
  const calls: string[] = [];
  let completed: { partNumber: number; etag: string }[] | undefined;
  const sign = (numbers: number[]) =>
    numbers.map((n) => ({
      partNumber: n,
      url: `https://s3.test/b/drops/ID/original?partNumber=${n}&v=${++version}`,
      size: sizeOf(n),
      expiresAt: new Date(Date.now() + (o.ttlMs ?? 600_000)).toISOString(),
    }));
  const view = (status: string) => ({
    id: 'ID',
    status,
    name: 'f',
    size: o.size,
    type: 'application/octet-stream',
    createdAt: new Date().toISOString(),
    expiresAt: new Date().toISOString(),
    thumbnail: 'pending',
    thumbnails: [],
    shareUrl: 'http://api.test/d/ID',
    downloadUrl: 'http://api.test/d/ID/download',
  });
  const f: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    if (url.host === 's3.test') {
      const n = Number(url.searchParams.get('partNumber'));
      const body = init?.body as Uint8Array;
      const fake = o.s3?.(n, url);
      if (fake) return fake;
      expect(body.byteLength).toBe(sizeOf(n));
      puts.push({ partNumber: n, bytes: body.byteLength, version: Number(url.searchParams.get('v')) });
      stored.set(n, `"etag-${n}"`);
      return new Response(null, { status: 200, headers: { etag: `"etag-${n}"` } });
    }
    calls.push(`${method} ${url.pathname}`);
    const fake = o.api?.(method, url.pathname);
    if (fake) return fake;
    if (method === 'POST' && url.pathname === '/v1/drops') {
      const first = Array.from({ length: Math.min(100, partCount) }, (_, i) => i + 1);
      return json(201, {
        id: 'ID',
        shareUrl: 'http://api.test/d/ID',
        ownerToken: 'TOKEN',
        status: 'uploading',
        upload: { mode: 'multipart', partSize: o.partSize, partCount, expiresAt: new Date().toISOString() },
        parts: sign(first),
      });
    }
    if (method === 'POST' && url.pathname.endsWith('/parts')) {
      const { partNumbers } = JSON.parse(String(init?.body)) as { partNumbers: number[] };
      signCalls.push(partNumbers);
      return json(200, { parts: sign(partNumbers) });
    }
    if (method === 'POST' && url.pathname.endsWith('/complete')) {
      completed = (JSON.parse(String(init?.body)) as { parts: { partNumber: number; etag: string }[] }).parts;
      return json(200, view('processing'));
    }
    if (method === 'DELETE') return json(200, view('cancelled'));
    if (method === 'GET') return json(200, view('uploading'));
    return json(404, { error: { code: 'ROUTE_NOT_FOUND', message: 'no' } });
  };
  return {
    fetch: f,
    signCalls,
    puts,
    calls,
    get completed() {
      return completed;
    },
  };
}

const quick = { random: () => 0 };

describe('api calls', () => {
  it('sits out a 429 with a short Retry-After and then succeeds', async () => {
    let refused = 0;
    const fake = fakeDropship({
      size: 1,
      partSize: 1,
      api: (m) => (m === 'GET' && refused++ < 2 ? json(429, { error: { code: 'RATE_LIMITED', message: 'slow down' } }, { 'retry-after': '0' }) : undefined),
    });
    const v = await new DropshipClient({ baseUrl: 'http://api.test', fetch: fake.fetch }).status('ID');
    expect(v.status).toBe('uploading');
    expect(fake.calls.filter((c) => c === 'GET /v1/drops/ID')).toHaveLength(3);
  });

  it('hands a long Retry-After to the caller instead of hanging', async () => {
    const fake = fakeDropship({
      size: 1,
      partSize: 1,
      api: (m) => (m === 'POST' ? json(503, { error: { code: 'UPLOAD_SLOTS_FULL', message: 'full' } }, { 'retry-after': '3600' }) : undefined),
    });
    const err = await new DropshipClient({ baseUrl: 'http://api.test', fetch: fake.fetch })
      .createDrop({ name: 'f', size: 1 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DropshipApiError);
    expect(err).toMatchObject({ status: 503, code: 'UPLOAD_SLOTS_FULL', retryAfter: 3600 });
    expect(fake.calls).toHaveLength(1);
  });

  it('does not resend a ticket request lost on the network (it may have created a drop)', async () => {
    let n = 0;
    const f: typeof fetch = async () => {
      n++;
      throw new TypeError('fetch failed');
    };
    await expect(new DropshipClient({ baseUrl: 'http://api.test', fetch: f }).createDrop({ name: 'f', size: 1 })).rejects.toThrow(TypeError);
    expect(n).toBe(1);
  });

  it('sends the API key and the owner token', async () => {
    const seen: Headers[] = [];
    const fake = fakeDropship({ size: 1, partSize: 1 });
    const f: typeof fetch = (input, init) => {
      seen.push(new Headers(init?.headers));
      return fake.fetch(input, init);
    };
    const c = new DropshipClient({ baseUrl: 'http://api.test/', fetch: f, apiKey: 'k3y' });
    await c.deleteDrop('ID', 'TOKEN');
    expect(seen[0]!.get('authorization')).toBe('Bearer k3y');
    expect(seen[0]!.get('x-owner-token')).toBe('TOKEN');
  });

  it('signParts splits large requests into batches of 100', async () => {
    const fake = fakeDropship({ size: 250, partSize: 1 });
    const parts = await new DropshipClient({ baseUrl: 'http://api.test', fetch: fake.fetch }).signParts(
      'ID',
      'TOKEN',
      Array.from({ length: 250 }, (_, i) => i + 1),
    );
    expect(parts).toHaveLength(250);
    expect(fake.signCalls.map((c) => c.length)).toEqual([100, 100, 50]);
  });
});

describe('upload engine', () => {
  it('signs lazily: the ticket covers the first 100 parts, later ones are signed in batches as they come up', async () => {
    const fake = fakeDropship({ size: 1000, partSize: 4 }); // 250 parts
    const c = new DropshipClient({ baseUrl: 'http://api.test', fetch: fake.fetch });
    const signedWhenPutting: number[] = [];
    const f: typeof fetch = (input, init) => {
      if (String(input).includes('s3.test')) signedWhenPutting.push(fake.signCalls.length);
      return fake.fetch(input, init);
    };
    await new DropshipClient({ baseUrl: c.baseUrl, fetch: f }).upload(bytesSource(new Uint8Array(1000)), { concurrency: 4 });
    expect(fake.signCalls.every((b) => b.length <= 100)).toBe(true);
    expect(fake.signCalls[0]![0]).toBe(101);
    // No extra URLs were signed before the first 100 parts had started.
    expect(signedWhenPutting.slice(0, 100).every((s) => s === 0)).toBe(true);
    expect(fake.signCalls.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 150 }, (_, i) => i + 101));
    expect(fake.completed).toHaveLength(250);
    expect(fake.completed![249]).toEqual({ partNumber: 250, etag: '"etag-250"' });
  });

  it('re-signs a part whose URL S3 refused as expired, without spending a retry', async () => {
    const fake = fakeDropship({
      size: 30,
      partSize: 10,
      s3: (n, url) =>
        n === 2 && url.searchParams.get('v') === '2'
          ? new Response('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>', { status: 403 })
          : undefined,
    });
    await new DropshipClient({ baseUrl: 'http://api.test', fetch: fake.fetch }).upload(bytesSource(new Uint8Array(30)), {
      ...quick,
      retries: 0,
    });
    expect(fake.signCalls).toEqual([[2]]);
    expect(fake.puts.find((p) => p.partNumber === 2)?.version).toBe(4);
    expect(fake.completed?.map((p) => p.partNumber)).toEqual([1, 2, 3]);
  });

  it('signs URLs again before use once they are about to expire', async () => {
    const fake = fakeDropship({ size: 20, partSize: 10, ttlMs: 1_000 });
    await new DropshipClient({ baseUrl: 'http://api.test', fetch: fake.fetch }).upload(bytesSource(new Uint8Array(20)));
    // Both ticket URLs (versions 1 and 2) were inside the expiry margin; neither was sent to S3.
    expect(fake.puts).toHaveLength(2);
    expect(fake.puts.every((p) => p.version > 2)).toBe(true);
    expect(fake.signCalls.flat()).toEqual(expect.arrayContaining([1, 2]));
  });

  it('a 403 that is not about expiry fails the upload at once', async () => {
    const fake = fakeDropship({
      size: 10,
      partSize: 10,
      s3: () => new Response('<Error><Code>SignatureDoesNotMatch</Code></Error>', { status: 403 }),
    });
    const err = await new DropshipClient({ baseUrl: 'http://api.test', fetch: fake.fetch })
      .upload(bytesSource(new Uint8Array(10)), quick)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'DropshipTransferError', status: 403, partNumber: 1 });
    expect(fake.signCalls).toEqual([]);
  });

  it('holds at most `concurrency` parts in memory', async () => {
    let held = 0;
    let maxHeld = 0;
    const fake = fakeDropship({ size: 100, partSize: 5 });
    const src = bytesSource(new Uint8Array(100));
    const slice = src.slice.bind(src);
    src.slice = async (a, b) => {
      held++;
      maxHeld = Math.max(maxHeld, held);
      return slice(a, b);
    };
    const f: typeof fetch = async (input, init) => {
      const r = await fake.fetch(input, init);
      if (String(input).includes('s3.test')) held--;
      return r;
    };
    await new DropshipClient({ baseUrl: 'http://api.test', fetch: f }).upload(src, { concurrency: 3 });
    expect(maxHeld).toBeLessThanOrEqual(3);
    expect(src.reads).toBe(20);
  });

  it('abort deletes the drop on the server by default, and not with deleteOnAbort: false', async () => {
    for (const deleteOnAbort of [true, false]) {
      const ctrl = new AbortController();
      const fake = fakeDropship({ size: 30, partSize: 10 });
      const err = await new DropshipClient({ baseUrl: 'http://api.test', fetch: fake.fetch })
        .upload(bytesSource(new Uint8Array(30)), {
          concurrency: 1,
          signal: ctrl.signal,
          deleteOnAbort,
          onProgress: (p) => p.partsDone === 1 && ctrl.abort(),
        })
        .catch((e: unknown) => e);
      expect((err as Error).name).toBe('AbortError');
      expect(fake.calls.includes('DELETE /v1/drops/ID')).toBe(deleteOnAbort);
      expect(fake.completed).toBeUndefined();
    }
  });
});

describe('browsers: part PUTs through XMLHttpRequest', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('reports byte-level progress and reads the ETag', async () => {
    const sent: number[] = [];
    class FakeXhr {
      status = 0;
      responseText = '';
      upload: { onprogress: ((e: { loaded: number }) => void) | null } = { onprogress: null };
      onload: (() => void) | null = null;
      onerror: (() => void) | null = null;
      ontimeout: (() => void) | null = null;
      onabort: (() => void) | null = null;
      private url = '';
      open(_m: string, url: string) {
        this.url = url;
      }
      getResponseHeader(name: string) {
        return name.toLowerCase() === 'etag' ? `"x${new URL(this.url).searchParams.get('partNumber')}"` : null;
      }
      abort() {
        this.onabort?.();
      }
      send(body: Uint8Array) {
        sent.push(body.byteLength);
        // Two progress events per part, as a browser would fire while the body leaves (spaced
        // beyond the SDK's 100 ms progress throttle).
        setTimeout(() => {
          this.upload.onprogress?.({ loaded: body.byteLength / 2 });
          setTimeout(() => {
            this.upload.onprogress?.({ loaded: body.byteLength });
            this.status = 200;
            this.onload?.();
          }, 150);
        }, 150);
      }
    }
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    const fake = fakeDropship({ size: 20, partSize: 10 });
    const progress: UploadProgress[] = [];
    // The api calls still go through fetch; only part PUTs use XHR.
    await new DropshipClient({ baseUrl: 'http://api.test', fetch: fake.fetch }).upload(bytesSource(new Uint8Array(20)), {
      transport: 'xhr',
      concurrency: 1,
      onProgress: (p) => progress.push(p),
    });
    expect(sent).toEqual([10, 10]);
    expect(progress.map((p) => p.bytesSent)).toContain(5);
    expect(fake.completed).toEqual([
      { partNumber: 1, etag: '"x1"' },
      { partNumber: 2, etag: '"x2"' },
    ]);
  });
});
