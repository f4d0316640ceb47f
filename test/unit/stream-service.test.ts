/**
 * The streaming pipeline (src/api/services/stream.ts) over the in-memory store: how a body
 * becomes parts, what the manifest records and when, the limits, and the rollback on every
 * failure. The route around it and the real S3 are covered in routes-upload.test.ts and
 * test/integration/stream.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { DropshipError } from '../../src/core/errors.js';
import { hashOwnerToken } from '../../src/core/ids.js';
import { dropKeys } from '../../src/core/layout.js';
import type { Manifest } from '../../src/core/manifest.js';
import { memorySlots, memoryStore, s3Error, type MemoryStore } from '../../src/memory/index.js';
import { createManifestRepo } from '../../src/ports/manifests.js';
import { createStreamService } from '../../src/api/services/stream.js';

const MIB = 1024 * 1024;
const T0 = new Date('2030-01-01T00:00:00.000Z');

function setup(env: Record<string, string> = {}, store: MemoryStore = memoryStore()) {
  const config = loadConfig({ DROPSHIP_BUCKET: 'memory', ...env });
  const manifests = createManifestRepo(store);
  const service = createStreamService({ config, store, manifests, clock: () => T0, slots: memorySlots() });
  const manifestsIn = () =>
    [...store.objects.entries()].filter(([k]) => k.endsWith('/manifest.json')).map(([, o]) => JSON.parse(o.body.toString()) as Manifest);
  return { config, store, service, manifestsIn };
}

const upload = (s: ReturnType<typeof setup>, body: Readable, length?: number, onIdle = () => {}) =>
  s.service.upload(body, { name: 'f.bin', type: 'application/octet-stream', ...(length !== undefined ? { length } : {}), onIdle });

async function failure(p: Promise<unknown>): Promise<DropshipError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DropshipError);
  return e as DropshipError;
}

/** A rolled-back upload: no multipart upload, no original, its manifest a cancelled tombstone. */
function expectRolledBack(s: ReturnType<typeof setup>) {
  expect(s.store.uploads.size).toBe(0);
  expect([...s.store.objects.keys()].filter((k) => k.endsWith('/original'))).toEqual([]);
  expect(s.manifestsIn().map((m) => m.status)).toEqual(['cancelled']);
}

describe('stream service: bodies into parts', () => {
  it('keeps no chunk it has passed on, so memory stays bounded however long the body', async () => {
    // A full collection before the last chunk: of the first half of the body, nothing may be
    // left but what S3 (here: the memory store's own copies) holds. A read loop that keeps
    // every chunk alive until the upload ends holds the whole file in memory.
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const s = setup();
    const CHUNK = 256 * 1024;
    const COUNT = 160; // 40 MiB: five 8 MiB parts
    const refs: WeakRef<Buffer>[] = [];
    let alive = -1;
    async function* body() {
      for (let i = 0; i < COUNT; i++) {
        if (i === COUNT - 1) {
          await new Promise((r) => setImmediate(r));
          gc();
          alive = refs.slice(0, COUNT / 2).filter((r) => r.deref() !== undefined).length;
        }
        const b = randomBytes(CHUNK);
        refs.push(new WeakRef(b));
        yield b;
      }
    }
    const r = await upload(s, Readable.from(body()), CHUNK * COUNT);
    expect(r.bytes).toBe(CHUNK * COUNT);
    expect(alive).toBe(0);
  });

  it('a known-length body: parts of the plan, the manifest sized before publishing, the drop processing', async () => {
    const s = setup();
    const data = randomBytes(20 * MIB + 5);
    const r = await upload(s, Readable.from([data.subarray(0, 3 * MIB), data.subarray(3 * MIB)]), data.length);
    expect(r.bytes).toBe(data.length);
    expect(hashOwnerToken(r.ownerToken)).toBe(r.manifest.ownerTokenHash);
    expect(r.manifest).toMatchObject({
      status: 'processing',
      name: 'f.bin',
      size: data.length,
      source: 'stream',
      upload: { mode: 'multipart', partSize: 8 * MIB, partCount: 3 },
      createdAt: T0.toISOString(),
      expiresAt: new Date(T0.getTime() + s.config.DROPSHIP_DEFAULT_EXPIRES_IN * 1000).toISOString(),
    });
    expect(r.manifest.upload.expiresAt).toBe(new Date(T0.getTime() + s.config.DROPSHIP_TICKET_TTL * 1000).toISOString());
    expect(r.manifest.upload.uploadId).toEqual(expect.any(String));
    const stored = s.store.objects.get(dropKeys(r.manifest.id).original)!;
    expect(Buffer.compare(stored.body, data)).toBe(0);
    expect(stored.etag).toMatch(/-3"$/);
    expect(s.store.uploads.size).toBe(0);
    expect(s.service.stats.bytesReceived).toBe(data.length);
  });

  it('a body of exactly one part, or less, is one PutObject and no multipart upload', async () => {
    for (const size of [0, 5, 8 * MIB]) {
      const s = setup();
      const data = randomBytes(size);
      const r = await upload(s, Readable.from(size ? [data] : []), size);
      expect(r.manifest).toMatchObject({ size, upload: { mode: 'single', partSize: size, partCount: 1 } });
      expect(s.store.calls.filter((c) => c.op === 'createMultipart')).toEqual([]);
      expect(Buffer.compare(s.store.objects.get(dropKeys(r.manifest.id).original)!.body, data)).toBe(0);
    }
  });

  it('a chunked body (no length) uses 16 MiB parts and records the size it counted', async () => {
    const s = setup();
    const data = randomBytes(16 * MIB + 1);
    const r = await upload(s, Readable.from([data.subarray(0, 10), data.subarray(10)]));
    expect(r.manifest).toMatchObject({ size: data.length, upload: { mode: 'multipart', partSize: 16 * MIB, partCount: 2 } });
    const sizes = s.store.calls.filter((c) => c.op === 'uploadPart').length;
    expect(sizes).toBe(2);
  });

  it('never has more than DROPSHIP_STREAM_PARTS_IN_FLIGHT parts on their way at once', async () => {
    const s = setup({ DROPSHIP_STREAM_PARTS_IN_FLIGHT: '2' });
    let flying = 0;
    let most = 0;
    const put = s.store.uploadPart;
    s.store.uploadPart = async (...a) => {
      most = Math.max(most, ++flying);
      await new Promise((r) => setTimeout(r, 20));
      flying--;
      return put(...a);
    };
    const data = randomBytes(48 * MIB);
    await upload(s, Readable.from([data]), 48 * MIB);
    expect(most).toBe(2);
    // … and every one of them landed before the upload was completed.
    expect(Buffer.compare(s.store.objects.get(dropKeys(s.manifestsIn()[0]!.id).original)!.body, data)).toBe(0);
  });
});

describe('stream service: limits and rollback', () => {
  it('a body longer than its Content-Length, or ending early, is LENGTH_MISMATCH and rolled back', async () => {
    const long = setup();
    const over = await failure(upload(long, Readable.from([Buffer.alloc(11)]), 10));
    // Cut at the byte that crosses the length, not at the end of the body.
    expect([over.code, over.message]).toEqual(['LENGTH_MISMATCH', 'the body is longer than its Content-Length']);
    expectRolledBack(long);
    const short = setup();
    const e = await failure(upload(short, Readable.from([Buffer.alloc(9 * MIB)]), 20 * MIB));
    expect([e.code, e.status]).toEqual(['LENGTH_MISMATCH', 400]);
    expect(e.message).toMatch(/9437184 of 20971520/);
    expectRolledBack(short);
  });

  it('a body crossing the size limit is cut with FILE_TOO_LARGE, naming the limit', async () => {
    const s = setup({ DROPSHIP_STREAM_MAX_SIZE: String(9 * MIB) });
    const e = await failure(upload(s, Readable.from([randomBytes(8 * MIB), randomBytes(MIB), randomBytes(1)])));
    expect([e.code, e.details, e.message]).toEqual(['FILE_TOO_LARGE', { maxSize: 9 * MIB }, `the body is larger than ${9 * MIB} bytes`]);
    expectRolledBack(s);
    // Exactly the limit is fine.
    const ok = setup({ DROPSHIP_STREAM_MAX_SIZE: String(9 * MIB) });
    expect((await upload(ok, Readable.from([randomBytes(9 * MIB)]))).bytes).toBe(9 * MIB);
  });

  it('the smaller of the stream and file limits applies', async () => {
    const s = setup({ DROPSHIP_STREAM_MAX_SIZE: String(100 * MIB), DROPSHIP_MAX_FILE_SIZE: String(MIB) });
    expect((await failure(upload(s, Readable.from([randomBytes(MIB + 1)])))).details).toEqual({ maxSize: MIB });
  });

  it('a client silent past the idle timeout is cut: onIdle, STREAM_IDLE_TIMEOUT, rolled back', async () => {
    const s = setup({ DROPSHIP_STREAM_IDLE_TIMEOUT_MS: '200' });
    const body = new PassThrough();
    body.write(randomBytes(1000));
    let idled = 0;
    const e = await failure(upload(s, body, 5000, () => idled++));
    expect([e.code, e.message, idled]).toEqual(['STREAM_IDLE_TIMEOUT', 'no data for 200 ms', 1]);
    expectRolledBack(s);
  });

  it('S3 failing on a part: the error surfaces, the upload is aborted and checked gone, nothing published', async () => {
    const s = setup();
    s.store.failNext('uploadPart', s3Error(500), 1);
    await expect(upload(s, Readable.from([randomBytes(20 * MIB)]), 20 * MIB)).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    expectRolledBack(s);
    expect(s.store.calls.filter((c) => c.op === 'listParts').length).toBeGreaterThanOrEqual(1);
  });

  it('an abort that leaves parts behind (S3 storing one as it aborts) is repeated until the upload is gone', async () => {
    const s = setup();
    s.store.failNext('uploadPart', s3Error(500), 1);
    const abort = s.store.abortMultipart;
    let aborts = 0;
    s.store.abortMultipart = async (key, id) => {
      if (++aborts === 1) return; // the first abort "misses" a part still being stored
      return abort(key, id);
    };
    await expect(upload(s, Readable.from([randomBytes(20 * MIB)]), 20 * MIB)).rejects.toBeDefined();
    expect(aborts).toBe(2);
    expectRolledBack(s);
  });

  it('a failure after publishing (the last manifest write) deletes the published object too', async () => {
    const s = setup();
    const put = s.store.put;
    let manifestWrites = 0;
    s.store.put = async (key, body, o) => {
      if (key.endsWith('manifest.json') && o.ifMatch && ++manifestWrites === 2) throw s3Error(503, 'SlowDown');
      return put(key, body, o);
    };
    await expect(upload(s, Readable.from([Buffer.from('hello')]), 5)).rejects.toBeDefined();
    expect(s.store.uploads.size).toBe(0);
    expect([...s.store.objects.keys()].filter((k) => k.endsWith('/original'))).toEqual([]);
  });

  it('slots: DROPSHIP_STREAM_SLOTS in all, released once each; a full house is 503 STREAM_SLOTS_FULL with Retry-After', async () => {
    const s = setup({ DROPSHIP_STREAM_SLOTS: '2', DROPSHIP_STREAM_SLOTS_PER_CLIENT: '2' });
    const a = await s.service.acquire('ip:a');
    const b = await s.service.acquire('ip:b');
    expect(await s.service.full()).toBe(true);
    let e: unknown;
    try {
      await s.service.acquire('ip:c');
    } catch (err) {
      e = err;
    }
    expect(e).toMatchObject({ code: 'STREAM_SLOTS_FULL', status: 503, retryAfter: 5, message: 'all streaming upload slots are busy; retry shortly' });
    a.release();
    a.release();
    expect(await s.service.full()).toBe(false);
    (await s.service.acquire('ip:c')).release();
    b.release();
  });

});

/** Waits (on real turns of the event loop, which no fake clock touches) until `cond` holds. */
async function until(cond: () => boolean) {
  for (let i = 0; i < 20_000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  expect(cond()).toBe(true);
}
/** Moves the fake clock in steps until `p` settles; answers how it settled. */
async function settle<T>(p: Promise<T>, stepMs = 50, maxSteps = 2000): Promise<{ value?: T; error?: unknown }> {
  let out: { value?: T; error?: unknown } | undefined;
  p.then(
    (value) => (out = { value }),
    (error: unknown) => (out = { error }),
  );
  for (let i = 0; i < maxSteps && !out; i++) await vi.advanceTimersByTimeAsync(stepMs);
  expect(out, 'the upload never settled').toBeDefined();
  return out!;
}
const opts = (slot?: Awaited<ReturnType<ReturnType<typeof setup>['service']['acquire']>>, length?: number, onIdle = () => {}) => ({
  name: 'f.bin',
  type: 'application/octet-stream',
  onIdle,
  ...(length !== undefined ? { length } : {}),
  ...(slot ? { slot } : {}),
});

describe('stream service: what is stored', () => {
  it('while the body streams in, the manifest says uploading with the declared size; a chunked body says 0 until counted', async () => {
    const s = setup();
    const body = new PassThrough();
    const p = upload(s, body, 5000);
    await until(() => s.manifestsIn().length === 1);
    expect(s.manifestsIn()[0]).toMatchObject({ status: 'uploading', size: 5000, source: 'stream', upload: { mode: 'multipart', partSize: 8 * MIB, partCount: 0 } });
    body.end(randomBytes(5000));
    expect((await p).manifest).toMatchObject({ size: 5000, upload: { mode: 'single' } });
    const chunked = setup();
    const b2 = new PassThrough();
    const p2 = upload(chunked, b2);
    await until(() => chunked.manifestsIn().length === 1);
    expect(chunked.manifestsIn()[0]).toMatchObject({ size: 0, upload: { mode: 'multipart', partSize: 16 * MIB } });
    b2.end(randomBytes(10));
    expect((await p2).manifest.size).toBe(10);
  });

  it('a drop with a lifetime gets its expiry marker; one that never expires gets none', async () => {
    const s = setup();
    const r = await upload(s, Readable.from([Buffer.from('abc')]), 3);
    expect([...s.store.objects.keys()].filter((k) => k.startsWith('index/expiry/'))).toEqual([expect.stringMatching(new RegExp(`/${r.manifest.id}$`))]);
    const forever = setup({ DROPSHIP_DEFAULT_EXPIRES_IN: '0', DROPSHIP_MAX_EXPIRES_IN: '0' });
    const f = await upload(forever, Readable.from([Buffer.from('abc')]), 3);
    expect(f.manifest.expiresAt).toBeUndefined();
    expect([...forever.store.objects.keys()].filter((k) => k.startsWith('index/'))).toEqual([]);
  });

  it('the object is stored as application/octet-stream, whatever the declared type, by either path', async () => {
    for (const size of [3, 20 * MIB]) {
      const s = setup();
      const r = await s.service.upload(Readable.from([randomBytes(size)]), { name: 'a.png', type: 'image/png', length: size, onIdle: () => {} });
      expect(s.store.objects.get(dropKeys(r.manifest.id).original)!.contentType).toBe('application/octet-stream');
    }
  });

  it('chunks that end exactly on part boundaries: each part once, no empty part at the end', async () => {
    for (const length of [24 * MIB, undefined]) {
      const s = setup();
      const data = randomBytes(24 * MIB);
      const chunks = [0, 1, 2].map((i) => data.subarray(i * 8 * MIB, (i + 1) * 8 * MIB));
      const r = await upload(s, Readable.from(chunks), length);
      const stored = s.store.objects.get(dropKeys(r.manifest.id).original)!;
      expect(Buffer.compare(stored.body, data)).toBe(0);
      const parts = length === undefined ? 2 : 3; // 16 MiB parts without a length
      expect(r.manifest.upload.partCount).toBe(parts);
      expect(stored.etag).toMatch(new RegExp(`-${parts}"$`));
    }
  });

  it('a full part goes to S3 as soon as it is full, before more of the body arrives', async () => {
    for (const [length, part] of [[40 * MIB, 8 * MIB], [undefined, 16 * MIB]] as const) {
      const s = setup();
      const body = new PassThrough();
      const p = upload(s, body, length);
      body.write(randomBytes(part));
      await until(() => s.store.calls.some((c) => c.op === 'uploadPart'));
      body.destroy();
      await p.catch(() => {});
    }
  });

  it('parts that land out of order are completed in order', async () => {
    const s = setup({ DROPSHIP_STREAM_PARTS_IN_FLIGHT: '3' });
    const put = s.store.uploadPart;
    s.store.uploadPart = async (key, id, n, body, signal) => {
      await new Promise((r) => setTimeout(r, n === 1 ? 40 : n === 2 ? 20 : 0));
      return put(key, id, n, body, signal);
    };
    const data = randomBytes(20 * MIB);
    const r = await upload(s, Readable.from([data]), data.length);
    expect(Buffer.compare(s.store.objects.get(dropKeys(r.manifest.id).original)!.body, data)).toBe(0);
  });
});

describe('stream service: failures on the way', () => {
  afterEach(() => vi.useRealTimers());

  it('a drop cancelled while its body streams in: 409 DROP_NOT_UPLOADING naming its status, rolled back', async () => {
    const s = setup();
    s.store.beforeCall = async (op) => {
      if (op !== 'createMultipart') return;
      s.store.beforeCall = undefined;
      await createManifestRepo(s.store).applyEvent(s.manifestsIn()[0]!.id, { type: 'cancel', at: T0 });
    };
    const e = await failure(upload(s, Readable.from([randomBytes(20 * MIB)]), 20 * MIB));
    expect([e.code, e.status, e.message]).toEqual(['DROP_NOT_UPLOADING', 409, 'the drop is cancelled']);
    expectRolledBack(s);
  });

  it('a drop deleted while its body streams in: DROP_NOT_UPLOADING, "gone", nothing left in storage', async () => {
    const s = setup();
    s.store.beforeCall = async (op) => {
      if (op !== 'createMultipart') return;
      s.store.beforeCall = undefined;
      await s.store.deleteKeys([dropKeys(s.manifestsIn()[0]!.id).manifest]);
    };
    const e = await failure(upload(s, Readable.from([randomBytes(20 * MIB)]), 20 * MIB));
    expect([e.code, e.message]).toEqual(['DROP_NOT_UPLOADING', 'the drop is gone']);
    expect(s.store.uploads.size).toBe(0);
    expect([...s.store.objects.keys()].filter((k) => k.endsWith('/original'))).toEqual([]);
  });

  it('S3 refusing a part stops reading the body at once', async () => {
    const s = setup();
    s.store.failNext('uploadPart', s3Error(500), 1);
    let pulled = 0;
    async function* body() {
      for (let i = 0; i < 8; i++) {
        pulled++;
        yield randomBytes(8 * MIB);
      }
    }
    await expect(upload(s, Readable.from(body()), 64 * MIB)).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    expect(pulled).toBeLessThan(8);
    expectRolledBack(s);
  });

  it('S3 refusing the last part: the error surfaces and nothing is published', async () => {
    const s = setup();
    const put = s.store.uploadPart;
    s.store.uploadPart = async (key, id, n, body, signal) => {
      if (n === 3) throw s3Error(500);
      return put(key, id, n, body, signal);
    };
    await expect(upload(s, Readable.from([randomBytes(20 * MIB)]), 20 * MIB)).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    expectRolledBack(s);
  });

  it('a multipart failure after publishing (the last manifest write) deletes the published object', async () => {
    const s = setup();
    const put = s.store.put;
    let manifestWrites = 0;
    s.store.put = async (key, body, o) => {
      // upload_started, measured, then complete: the third fails.
      if (key.endsWith('manifest.json') && o.ifMatch && ++manifestWrites === 3) throw s3Error(503, 'SlowDown');
      return put(key, body, o);
    };
    await expect(upload(s, Readable.from([randomBytes(20 * MIB)]), 20 * MIB)).rejects.toBeDefined();
    expect(s.store.uploads.size).toBe(0);
    expect([...s.store.objects.keys()].filter((k) => k.endsWith('/original'))).toEqual([]);
  });

  it('an abort S3 never honours is tried 5 times, 200, 400, 600 and 800 ms apart, then the failure is answered', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const s = setup();
    s.store.failNext('uploadPart', s3Error(500), 1);
    const start = Date.now();
    const aborts: number[] = [];
    s.store.abortMultipart = async () => void aborts.push(Date.now() - start);
    const out = await settle(upload(s, Readable.from([randomBytes(20 * MIB)]), 20 * MIB));
    expect(out.error).toMatchObject({ $metadata: { httpStatusCode: 500 } });
    expect(aborts).toEqual([0, 200, 600, 1200, 2000]);
    expect(s.manifestsIn().map((m) => m.status)).toEqual(['cancelled']);
  });

  it('a part in flight when another fails may land for 10 s; then it is cancelled and the upload rolled back', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const s = setup();
    const start = Date.now();
    let cancelledAt: number | undefined;
    const put = s.store.uploadPart;
    s.store.uploadPart = async (key, id, n, body, signal) => {
      if (n === 2) throw s3Error(500);
      if (n === 1) {
        // A hung connection: only the abort signal ends it.
        return new Promise<string>((_, reject) =>
          signal!.addEventListener('abort', () => {
            cancelledAt = Date.now() - start;
            reject(signal!.reason);
          }),
        );
      }
      return put(key, id, n, body, signal);
    };
    const out = await settle(upload(s, Readable.from([randomBytes(20 * MIB)]), 20 * MIB), 100);
    expect(out.error).toMatchObject({ $metadata: { httpStatusCode: 500 } });
    expect(cancelledAt).toBe(10_000);
    expectRolledBack(s);
  });
});

describe('stream service: idle clients', () => {
  afterEach(() => vi.useRealTimers());

  it('a client that never sends a byte is cut after the idle timeout', async () => {
    const s = setup({ DROPSHIP_STREAM_IDLE_TIMEOUT_MS: '200' });
    let idled = 0;
    const e = await failure(upload(s, new PassThrough(), 5000, () => idled++));
    expect([e.code, idled]).toEqual(['STREAM_IDLE_TIMEOUT', 1]);
    expectRolledBack(s);
  });

  it('a client sending more often than the idle timeout is never cut, however long it takes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const s = setup({ DROPSHIP_STREAM_IDLE_TIMEOUT_MS: '200' });
    const body = new PassThrough();
    let idled = 0;
    const p = upload(s, body, 10, () => idled++);
    for (let i = 0; i < 9; i++) {
      body.write(Buffer.from('x'));
      await vi.advanceTimersByTimeAsync(150);
    }
    body.end(Buffer.from('x'));
    const out = await settle(p, 10);
    expect(out.value?.bytes).toBe(10);
    expect(idled).toBe(0);
  });

  it('once the body is in, S3 taking its time is not the client being idle; nor is anything after a failure', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const s = setup({ DROPSHIP_STREAM_IDLE_TIMEOUT_MS: '200' });
    let idled = 0;
    s.store.beforeCall = async (op, key) => {
      if (op === 'put' && key.endsWith('/original')) await new Promise((r) => setTimeout(r, 1000));
    };
    const out = await settle(upload(s, Readable.from([Buffer.from('abc')]), 3, () => idled++));
    expect(out.value?.bytes).toBe(3);
    s.store.beforeCall = undefined;
    s.store.failNext('uploadPart', s3Error(500), 1);
    const failed = await settle(upload(s, Readable.from([randomBytes(20 * MIB)]), 20 * MIB, () => idled++));
    expect(failed.error).toBeDefined();
    await vi.advanceTimersByTimeAsync(1000);
    expect(idled).toBe(0);
  });
});

describe('stream service: pace and slots', () => {
  afterEach(() => vi.useRealTimers());
  /** The pace runs on performance.now() and its checks on setInterval: both fake, moved together. */
  const paceClock = () => vi.useFakeTimers({ toFake: ['performance', 'setInterval', 'clearInterval'] });
  const pass = (ms: number) => vi.advanceTimersByTime(ms);
  /** Until the upload has written its manifest and begun reading (and judging) the body. */
  const started = async (s: ReturnType<typeof setup>) => {
    await until(() => s.manifestsIn().length === 1);
    await new Promise((r) => setImmediate(r));
  };

  it('below the minimum rate over a window: cut STREAM_TOO_SLOW naming both, judged every quarter window, rolled back', async () => {
    paceClock();
    const s = setup({ DROPSHIP_STREAM_MIN_BYTES_PER_S: '1000', DROPSHIP_STREAM_RATE_WINDOW_MS: '1200' });
    const slot = await s.service.acquire('ip:a');
    const body = new PassThrough();
    const p = s.service.upload(body, opts(slot, 100_000));
    body.write(Buffer.alloc(100));
    await until(() => s.service.stats.bytesReceived === 100);
    pass(1199);
    await new Promise((r) => setImmediate(r));
    expect(s.service.stats.cut).toBe(0);
    pass(1);
    const e = await failure(p);
    expect(e).toMatchObject({ code: 'STREAM_TOO_SLOW', status: 408, message: 'slower than 1000 bytes/s over 1200 ms' });
    expect(s.service.stats.cut).toBe(1);
    expectRolledBack(s);
    slot.release();
  });

  it('a client above the minimum rate is never cut, window after window', async () => {
    paceClock();
    const s = setup({ DROPSHIP_STREAM_MIN_BYTES_PER_S: '1000', DROPSHIP_STREAM_RATE_WINDOW_MS: '1000' });
    const slot = await s.service.acquire('ip:a');
    const body = new PassThrough();
    const p = s.service.upload(body, opts(slot, 6 * 1200));
    for (let i = 1; i <= 6; i++) {
      body.write(Buffer.alloc(1200));
      await until(() => s.service.stats.bytesReceived === i * 1200);
      pass(600);
    }
    body.end();
    expect((await p).bytes).toBe(6 * 1200);
    expect(s.service.stats.cut).toBe(0);
    slot.release();
  });

  it('time the api spends waiting for S3 does not count against the client; its own time after does', async () => {
    paceClock();
    const s = setup({ DROPSHIP_STREAM_MIN_BYTES_PER_S: '10000000', DROPSHIP_STREAM_RATE_WINDOW_MS: '1000', DROPSHIP_STREAM_PARTS_IN_FLIGHT: '1' });
    let landed = false;
    s.store.beforeCall = (op) => {
      if (op !== 'uploadPart') return;
      pass(5000); // S3 is slow: five windows pass while the part is stored
      landed = true;
    };
    const slot = await s.service.acquire('ip:a');
    const body = new PassThrough();
    const p = s.service.upload(body, opts(slot, 16 * MIB));
    body.write(randomBytes(8 * MIB));
    await until(() => landed);
    await new Promise((r) => setImmediate(r));
    expect(s.service.stats.cut).toBe(0);
    // Then the client itself stalls for a window.
    pass(1000);
    expect((await failure(p)).code).toBe('STREAM_TOO_SLOW');
    slot.release();
  });

  it('past DROPSHIP_STREAM_MAX_DURATION_MS: cut STREAM_TOO_LONG naming the limit', async () => {
    paceClock();
    const s = setup({ DROPSHIP_STREAM_MIN_BYTES_PER_S: '0', DROPSHIP_STREAM_RATE_WINDOW_MS: '1000', DROPSHIP_STREAM_MAX_DURATION_MS: '1000' });
    const slot = await s.service.acquire('ip:a');
    const p = s.service.upload(new PassThrough(), opts(slot, 10));
    await started(s);
    pass(1000);
    expect(await failure(p)).toMatchObject({ code: 'STREAM_TOO_LONG', status: 408, message: 'a streaming upload may take at most 1000 ms' });
    slot.release();
  });

  it('a finished upload is judged no more: its pace stops, and its slot cannot be taken as starving', async () => {
    paceClock();
    const s = setup({ DROPSHIP_STREAM_SLOTS: '1', DROPSHIP_STREAM_MIN_BYTES_PER_S: '1000', DROPSHIP_STREAM_RATE_WINDOW_MS: '1000' });
    const slot = await s.service.acquire('ip:a');
    expect((await s.service.upload(Readable.from([Buffer.from('abc')]), opts(slot, 3))).bytes).toBe(3);
    pass(10_000);
    expect(s.service.stats.cut).toBe(0);
    // Its slot is still held (the route releases it after answering): a newcomer waits.
    await expect(s.service.acquire('ip:b')).rejects.toThrow(expect.objectContaining({ code: 'STREAM_SLOTS_FULL' }));
    expect(s.service.stats.evicted).toBe(0);
    slot.release();
  });

  it('a failed upload is judged no more either', async () => {
    paceClock();
    const s = setup({ DROPSHIP_STREAM_MIN_BYTES_PER_S: '1000', DROPSHIP_STREAM_RATE_WINDOW_MS: '1000' });
    s.store.failNext('uploadPart', s3Error(500), 1);
    const slot = await s.service.acquire('ip:a');
    await expect(s.service.upload(Readable.from([randomBytes(20 * MIB)]), opts(slot, 20 * MIB))).rejects.toBeDefined();
    // Its pace check is stopped, not left running for as long as the process lives.
    expect(vi.getTimerCount()).toBe(0);
    pass(10_000);
    expect(s.service.stats.cut).toBe(0);
    slot.release();
  });

  it('a full house: a newcomer takes the slot of the stream slowest over its own time, which is cut STREAM_TOO_SLOW', async () => {
    paceClock();
    const s = setup({ DROPSHIP_STREAM_SLOTS: '2', DROPSHIP_STREAM_SLOTS_PER_CLIENT: '1', DROPSHIP_STREAM_MIN_BYTES_PER_S: '1000' });
    const first = await s.service.acquire('ip:first');
    const second = await s.service.acquire('ip:second');
    // `second` streams from time 0: 3000 bytes in 10 s, 300 B/s.
    const b2 = new PassThrough();
    const p2 = s.service.upload(b2, opts(second, MIB));
    b2.write(Buffer.alloc(3000));
    await until(() => s.service.stats.bytesReceived === 3000);
    pass(5000);
    // `first` from 5 s on: 2000 bytes in 5 s, 400 B/s — fewer bytes, but faster.
    const b1 = new PassThrough();
    const p1 = s.service.upload(b1, opts(first, MIB));
    b1.write(Buffer.alloc(2000));
    await until(() => s.service.stats.bytesReceived === 5000);
    pass(5000);
    const newcomer = await s.service.acquire('ip:new');
    expect(await failure(p2)).toMatchObject({ code: 'STREAM_TOO_SLOW', status: 408, message: 'slower than 1000 bytes/s while others wait for a slot' });
    expect([s.service.stats.active, s.service.stats.evicted, s.service.stats.cut]).toEqual([2, 1, 1]);
    b1.end(Buffer.alloc(MIB - 2000));
    expect((await p1).bytes).toBe(MIB);
    for (const x of [first, second, newcomer]) x.release();
  });

  it('a client at its own limit is refused 429 TOO_MANY_STREAMS naming it, and no other stream is cut for it', async () => {
    paceClock();
    const s = setup({ DROPSHIP_STREAM_SLOTS: '3', DROPSHIP_STREAM_SLOTS_PER_CLIENT: '1', DROPSHIP_STREAM_MIN_BYTES_PER_S: '1000' });
    const mine = await s.service.acquire('ip:a');
    const theirs = await s.service.acquire('ip:b');
    const p = s.service.upload(new PassThrough(), opts(theirs, MIB));
    await started(s);
    pass(6000); // `theirs` is starving
    await expect(s.service.acquire('ip:a')).rejects.toThrow(
      expect.objectContaining({ code: 'TOO_MANY_STREAMS', status: 429, message: 'at most 1 streaming uploads per client at once', details: { max: 1 } }),
    );
    expect([s.service.stats.active, s.service.stats.evicted]).toEqual([2, 0]);
    // A full house frees a starving slot, but never past the newcomer's own limit.
    const third = await s.service.acquire('ip:c');
    await expect(s.service.acquire('ip:a')).rejects.toThrow(expect.objectContaining({ code: 'TOO_MANY_STREAMS' }));
    await p.catch(() => {});
    for (const x of [mine, theirs, third]) x.release();
  });
});
