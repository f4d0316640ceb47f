/**
 * The ObjectStore contract: one suite, run against the in-memory adapter in the unit project
 * (test/unit/contract-memory.test.ts) and against S3 on the emulator in the integration
 * project (test/integration/contract-aws.test.ts), so the fake every unit test stands on
 * behaves like S3 — conditional writes, multipart rules, pagination, odd keys, errors.
 * (After Go CDK's blob/drivertest.)
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PreconditionFailed, type ObjectStore } from '../../src/ports/object-store.js';

const MIB = 1024 * 1024;

export interface StoreHarness {
  /** A store whose keys under `prefix` belong to this run alone. */
  store(): ObjectStore;
  prefix: string;
}

const rejectsWith = async (p: Promise<unknown>, match: (e: unknown) => boolean) => {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected a rejection').toBeDefined();
  expect(match(e), `unexpected error ${String(e)}`).toBe(true);
};
const statusOf = (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

export function objectStoreContract(name: string, h: StoreHarness): void {
  const key = (k: string) => `${h.prefix}${k}`;

  describe(`ObjectStore contract: ${name}`, () => {
    it('writes, reads and heads an object; a missing one is undefined', async () => {
      const s = h.store();
      const etag = await s.put(key('a.txt'), 'hello', { contentType: 'text/plain' });
      expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
      expect(await s.getText(key('a.txt'))).toEqual({ text: 'hello', etag });
      expect(await s.head(key('a.txt'))).toMatchObject({ size: 5, etag, contentType: 'text/plain' });
      expect((await s.getRange(key('a.txt'), 1, 3)).toString()).toBe('ell');
      expect((await s.getRange(key('a.txt'), 3, 100)).toString()).toBe('lo');
      expect(await s.head(key('missing'))).toBeUndefined();
      expect(await s.getText(key('missing'))).toBeUndefined();
      await rejectsWith(s.getRange(key('missing'), 0, 1), (e) => statusOf(e) === 404);
      const chunks: Buffer[] = [];
      for await (const c of await s.getStream(key('a.txt'))) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe('hello');
    });

    it('conditional writes: If-None-Match refuses an existing key, If-Match a changed one', async () => {
      const s = h.store();
      const first = await s.put(key('c.json'), '{"v":1}', { contentType: 'application/json', ifNoneMatch: true });
      await rejectsWith(s.put(key('c.json'), '{"v":2}', { contentType: 'application/json', ifNoneMatch: true }), (e) => e instanceof PreconditionFailed);
      const second = await s.put(key('c.json'), '{"v":2}', { contentType: 'application/json', ifMatch: first });
      expect(second).not.toBe(first);
      await rejectsWith(s.put(key('c.json'), '{"v":3}', { contentType: 'application/json', ifMatch: first }), (e) => e instanceof PreconditionFailed);
      expect((await s.getText(key('c.json')))?.text).toBe('{"v":2}');
    });

    it('copy: copies bytes and type only while the source has the ETag asked for; a changed or missing source is PreconditionFailed', async () => {
      const s = h.store();
      const etag = await s.put(key('copy/src'), 'first bytes', { contentType: 'text/plain' });
      const copied = await s.copy(key('copy/src'), key('copy/dst'), { ifSourceMatch: etag });
      expect(copied).toBe(etag);
      expect(await s.getText(key('copy/dst'))).toEqual({ text: 'first bytes', etag });
      expect(await s.head(key('copy/dst'))).toMatchObject({ size: 11, contentType: 'text/plain' });
      await s.put(key('copy/src'), 'other bytes', { contentType: 'text/plain' });
      await rejectsWith(s.copy(key('copy/src'), key('copy/dst'), { ifSourceMatch: etag }), (e) => e instanceof PreconditionFailed);
      await rejectsWith(s.copy(key('copy/missing'), key('copy/dst2'), { ifSourceMatch: etag }), (e) => e instanceof PreconditionFailed);
      expect((await s.getText(key('copy/dst')))?.text).toBe('first bytes');
      expect(await s.head(key('copy/dst2'))).toBeUndefined();
    });

    it('keys with spaces, plus signs and non-ASCII letters round-trip', async () => {
      const s = h.store();
      const odd = key('my photo+1 (ü)/ñ.txt');
      await s.put(odd, 'x', { contentType: 'text/plain' });
      expect(await s.listKeys(key('my photo+1 (ü)/'))).toEqual([odd]);
      expect((await s.getText(odd))?.text).toBe('x');
    });

    it('lists every key under a prefix in order, across pages, and deletes idempotently', async () => {
      const s = h.store();
      const keys = Array.from({ length: 1005 }, (_, i) => key(`many/${String(i).padStart(4, '0')}`));
      for (let i = 0; i < keys.length; i += 50) {
        await Promise.all(keys.slice(i, i + 50).map((k) => s.put(k, '', { contentType: 'application/octet-stream' })));
      }
      await s.put(key('manyother'), '', { contentType: 'text/plain' });
      expect(await s.listKeys(key('many/'))).toEqual(keys);
      // Ended early: before a key (exclusive, past the first page) or after a count.
      expect(await s.listKeys(key('many/'), { before: key('many/1002') })).toEqual(keys.slice(0, 1002));
      expect(await s.listKeys(key('many/'), { before: key('many/0003x') })).toEqual(keys.slice(0, 4));
      expect(await s.listKeys(key('many/'), { limit: 3 })).toEqual(keys.slice(0, 3));
      expect(await s.listKeys(key('many/'), { before: key('many/0500'), limit: 1001 })).toEqual(keys.slice(0, 500));
      // Started late: after a key (exclusive, also one that is not stored), across pages, with a count.
      expect(await s.listKeys(key('many/'), { startAfter: key('many/0002') })).toEqual(keys.slice(3));
      expect(await s.listKeys(key('many/'), { startAfter: key('many/0002x'), limit: 2 })).toEqual(keys.slice(3, 5));
      expect(await s.listKeys(key('many/'), { startAfter: key('many/1004') })).toEqual([]);
      expect(await s.listKeys(key('many/'), { startAfter: key('many/0001'), before: key('many/0004') })).toEqual(keys.slice(2, 4));
      // A startAfter before the prefix lists the whole prefix.
      expect(await s.listKeys(key('many/'), { startAfter: key('many'), limit: 1 })).toEqual(keys.slice(0, 1));
      await s.deleteKeys([...keys, key('never-was')]);
      await s.deleteKeys([keys[0]!]);
      expect(await s.listKeys(key('many/'))).toEqual([]);
      expect(await s.listKeys(key('many'))).toEqual([key('manyother')]);
    });

    it('multipart: parts listed in order with sizes and ETags; complete publishes their bytes once', async () => {
      const s = h.store();
      const k = key('mp/original');
      const id = await s.createMultipart(k, 'application/octet-stream');
      const a = randomBytes(5 * MIB);
      const b = randomBytes(1234);
      const eb = await s.uploadPart(k, id, 2, b);
      const ea0 = await s.uploadPart(k, id, 1, randomBytes(5 * MIB));
      const ea = await s.uploadPart(k, id, 1, a); // the same part again: the last one wins
      expect(ea).not.toBe(ea0);
      expect(await s.listParts(k, id)).toEqual([
        { partNumber: 1, size: a.length, etag: ea },
        { partNumber: 2, size: b.length, etag: eb },
      ]);
      expect((await s.listMultipartUploads(key('mp/'))).map((u) => u.uploadId)).toContain(id);
      const etag = await s.completeMultipart(k, id, [
        { partNumber: 1, etag: ea },
        { partNumber: 2, etag: eb },
      ]);
      expect(etag).toMatch(/^"[0-9a-f]{32}-2"$/);
      expect(await s.head(k)).toMatchObject({ size: a.length + b.length, etag });
      expect(Buffer.compare(await s.getRange(k, 0, a.length + b.length - 1), Buffer.concat([a, b]))).toBe(0);
      expect(await s.listParts(k, id)).toBeUndefined();
      expect((await s.listMultipartUploads(key('mp/'))).map((u) => u.uploadId)).not.toContain(id);
    });

    it('multipart: complete refuses an unknown ETag and a small part that is not the last', async () => {
      const s = h.store();
      const k = key('bad/original');
      const id = await s.createMultipart(k, 'application/octet-stream');
      const e1 = await s.uploadPart(k, id, 1, randomBytes(1024));
      const e2 = await s.uploadPart(k, id, 2, randomBytes(1024));
      await rejectsWith(s.completeMultipart(k, id, [{ partNumber: 1, etag: '"0123456789abcdef0123456789abcdef"' }]), (e) => statusOf(e) === 400);
      await rejectsWith(
        s.completeMultipart(k, id, [
          { partNumber: 1, etag: e1 },
          { partNumber: 2, etag: e2 },
        ]),
        (e) => statusOf(e) === 400,
      );
      expect(await s.head(k)).toBeUndefined();
      expect(await s.listParts(k, id)).toHaveLength(2);
      await s.abortMultipart(k, id);
    });

    it('abort is idempotent; an aborted upload has no parts and takes none', async () => {
      const s = h.store();
      const k = key('ab/original');
      const id = await s.createMultipart(k, 'application/octet-stream');
      await s.uploadPart(k, id, 1, randomBytes(10));
      await s.abortMultipart(k, id);
      await s.abortMultipart(k, id);
      expect(await s.listParts(k, id)).toBeUndefined();
      await rejectsWith(s.uploadPart(k, id, 2, randomBytes(10)), (e) => statusOf(e) === 404);
      expect(await s.listMultipartUploads(key('ab/'))).toEqual([]);
    });

    it('tags: a put sets them (and replaces them), putTags replaces them, a missing key has none', async () => {
      const s = h.store();
      const k = key('tags/obj');
      await s.put(k, 'x', { contentType: 'text/plain', tags: { 'dropship-retention': 'd7' } });
      expect(await s.getTags(k)).toEqual({ 'dropship-retention': 'd7' });
      await s.putTags(k, { 'dropship-retention': 'd30', other: 'a b' });
      expect(await s.getTags(k)).toEqual({ 'dropship-retention': 'd30', other: 'a b' });
      await s.put(k, 'y', { contentType: 'text/plain' });
      expect(await s.getTags(k)).toEqual({});
      expect(await s.getTags(key('tags/missing'))).toBeUndefined();
      await rejectsWith(s.putTags(key('tags/missing'), { a: 'b' }), (e) => statusOf(e) === 404);
    });

    it('the bucket answers a probe', async () => {
      await expect(h.store().probe(AbortSignal.timeout(3000))).resolves.toBeUndefined();
    });
  });
}
