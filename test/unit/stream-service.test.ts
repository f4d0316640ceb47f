/**
 * The streaming pipeline (src/api/services/stream.ts) over the in-memory store: how a body
 * becomes parts, what the manifest records and when, the limits, and the rollback on every
 * failure. The route around it and the real S3 are covered in routes-upload.test.ts and
 * test/integration/stream.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { DropshipError } from '../../src/core/errors.js';
import { hashOwnerToken } from '../../src/core/ids.js';
import { dropKeys } from '../../src/core/layout.js';
import type { Manifest } from '../../src/core/manifest.js';
import { memoryStore, s3Error, type MemoryStore } from '../../src/memory/index.js';
import { createManifestRepo } from '../../src/ports/manifests.js';
import { createStreamService } from '../../src/api/services/stream.js';

const MIB = 1024 * 1024;
const T0 = new Date('2030-01-01T00:00:00.000Z');

function setup(env: Record<string, string> = {}, store: MemoryStore = memoryStore()) {
  const config = loadConfig({ DROPSHIP_BUCKET: 'memory', ...env });
  const manifests = createManifestRepo(store);
  const service = createStreamService({ config, store, manifests, clock: () => T0 });
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
    await upload(s, Readable.from([randomBytes(48 * MIB)]), 48 * MIB);
    expect(most).toBe(2);
  });
});

describe('stream service: limits and rollback', () => {
  it('a body longer than its Content-Length, or ending early, is LENGTH_MISMATCH and rolled back', async () => {
    const long = setup();
    expect((await failure(upload(long, Readable.from([Buffer.alloc(11)]), 10))).code).toBe('LENGTH_MISMATCH');
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
    expect([e.code, e.details]).toEqual(['FILE_TOO_LARGE', { maxSize: 9 * MIB }]);
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
    expect([e.code, idled]).toEqual(['STREAM_IDLE_TIMEOUT', 1]);
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

  it('slots: DROPSHIP_STREAM_SLOTS in all, released once each; a full house is 503 STREAM_SLOTS_FULL with Retry-After', () => {
    const s = setup({ DROPSHIP_STREAM_SLOTS: '2', DROPSHIP_STREAM_SLOTS_PER_CLIENT: '2' });
    const a = s.service.acquire('ip:a');
    const b = s.service.acquire('ip:b');
    expect(s.service.full()).toBe(true);
    let e: unknown;
    try {
      s.service.acquire('ip:c');
    } catch (err) {
      e = err;
    }
    expect(e).toMatchObject({ code: 'STREAM_SLOTS_FULL', status: 503, retryAfter: 5 });
    a.release();
    a.release();
    expect(s.service.full()).toBe(false);
    s.service.acquire('ip:c').release();
    b.release();
  });

});
