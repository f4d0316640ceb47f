/**
 * An ObjectStore in memory, for unit tests of code that depends on the port (the handler).
 * It keeps S3's conditional-write rules (If-Match / If-None-Match → PreconditionFailed)
 * and records every call, so tests can assert what was (not) written. Integration tests
 * use the real store against the emulator instead.
 */
import { createHash } from 'node:crypto';
import { PreconditionFailed, type ObjectStore } from '../../src/aws/store.js';

export interface MemoryStore extends ObjectStore {
  objects: Map<string, { body: Buffer; etag: string; contentType: string }>;
  calls: { op: string; key: string }[];
  /** Makes the next calls of `op` (optionally only for keys matching) throw `error`. */
  failNext(op: string, error: Error, times?: number): void;
  /** Runs before each call: lets a test change the world mid-handler (a racing writer). */
  beforeCall?: (op: string, key: string) => void | Promise<void>;
}

export function s3Error(status: number, name = 'InternalError'): Error {
  return Object.assign(new Error(`${name} (${status})`), { name, $metadata: { httpStatusCode: status } });
}

export function memoryStore(bucket = 'memory'): MemoryStore {
  const objects: MemoryStore['objects'] = new Map();
  const calls: MemoryStore['calls'] = [];
  const failures: { op: string; error: Error; times: number }[] = [];

  const store: MemoryStore = {
    bucket,
    objects,
    calls,
    failNext(op, error, times = 1) {
      failures.push({ op, error, times });
    },
    createMultipart: unsupported,
    listParts: unsupported,
    uploadPart: unsupported,
    completeMultipart: unsupported,
    abortMultipart: unsupported,
    listMultipartUploads: unsupported,
    getStream: unsupported,
    async head(key) {
      await enter('head', key);
      const o = objects.get(key);
      return o && { size: o.body.length, etag: o.etag, contentType: o.contentType };
    },
    async getText(key) {
      await enter('getText', key);
      const o = objects.get(key);
      return o && { text: o.body.toString('utf8'), etag: o.etag };
    },
    async getRange(key, start, endInclusive) {
      await enter('getRange', key);
      const o = objects.get(key);
      if (!o) throw s3Error(404, 'NoSuchKey');
      return Buffer.from(o.body.subarray(start, endInclusive + 1));
    },
    async put(key, body, opts) {
      await enter('put', key);
      const existing = objects.get(key);
      if (opts.ifNoneMatch && existing) throw new PreconditionFailed(key);
      if (opts.ifMatch && existing?.etag !== opts.ifMatch) throw new PreconditionFailed(key);
      const buf = Buffer.isBuffer(body) ? body : Buffer.from(body);
      const etag = `"${createHash('md5').update(buf).digest('hex')}"`;
      objects.set(key, { body: buf, etag, contentType: opts.contentType });
      return etag;
    },
    async listKeys(prefix) {
      await enter('listKeys', prefix);
      return [...objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    },
    async deleteKeys(keys) {
      for (const key of keys) {
        await enter('delete', key);
        objects.delete(key);
      }
    },
  };

  async function enter(op: string, key: string) {
    calls.push({ op, key });
    await store.beforeCall?.(op, key);
    const f = failures.find((x) => x.op === op && x.times > 0);
    if (f) {
      f.times--;
      throw f.error;
    }
  }
  return store;
}

function unsupported(): never {
  throw new Error('not used by the code under test');
}
