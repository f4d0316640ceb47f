/**
 * An ObjectStore in memory with S3's semantics, multipart included: conditional writes
 * (PreconditionFailed), quoted MD5 ETags (`md5-of-md5s-N` for multipart objects), the part
 * rules CompleteMultipartUpload checks (every part but the last at least 5 MiB, ascending
 * numbers, ETags that match) and S3's error names and statuses. test/contract/ runs the same
 * suite against this and against the emulator, so it cannot drift from S3.
 *
 * For tests it also records every call, can fail the next calls of an operation, and can run
 * a hook before each call (a racing writer, a cancel landing mid-job).
 */
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { PreconditionFailed, type ObjectStore, type StoredPart } from '../ports/object-store.js';

export const MIN_COMPLETE_PART_SIZE = 5 * 1024 * 1024;

interface StoredObject {
  body: Buffer;
  etag: string;
  contentType: string;
  cacheControl?: string;
  tags: Record<string, string>;
}

interface Upload {
  key: string;
  contentType: string;
  parts: Map<number, { body: Buffer; etag: string }>;
}

export interface MemoryStore extends ObjectStore {
  readonly objects: Map<string, StoredObject>;
  readonly uploads: Map<string, Upload>;
  readonly calls: { op: string; key: string }[];
  /** Makes the next `times` calls of `op` throw `error`. */
  failNext(op: string, error: Error, times?: number): void;
  /** Runs before each call: lets a test change the world mid-operation. */
  beforeCall?: (op: string, key: string) => void | Promise<void>;
}

/** An error shaped like the SDK's: a name and `$metadata.httpStatusCode`. */
export function s3Error(status: number, name = 'InternalError'): Error {
  return Object.assign(new Error(`${name} (${status})`), { name, $metadata: { httpStatusCode: status } });
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest();
const quoted = (hex: string) => `"${hex}"`;
const unquote = (etag: string) => etag.replaceAll('"', '');

export function memoryStore(bucket = 'memory'): MemoryStore {
  const objects = new Map<string, StoredObject>();
  const uploads = new Map<string, Upload>();
  const calls: MemoryStore['calls'] = [];
  const failures: { op: string; error: Error; times: number }[] = [];

  async function enter(op: string, key: string) {
    calls.push({ op, key });
    await store.beforeCall?.(op, key);
    const f = failures.find((x) => x.op === op && x.times > 0);
    if (f) {
      f.times--;
      throw f.error;
    }
  }

  function upload(key: string, uploadId: string): Upload {
    const u = uploads.get(uploadId);
    if (!u || u.key !== key) throw s3Error(404, 'NoSuchUpload');
    return u;
  }

  function object(key: string): StoredObject {
    const o = objects.get(key);
    if (!o) throw s3Error(404, 'NoSuchKey');
    return o;
  }

  const store: MemoryStore = {
    bucket,
    objects,
    uploads,
    calls,
    failNext(op, error, times = 1) {
      failures.push({ op, error, times });
    },

    async createMultipart(key, contentType) {
      await enter('createMultipart', key);
      const uploadId = randomUUID();
      uploads.set(uploadId, { key, contentType, parts: new Map() });
      return uploadId;
    },

    async listParts(key, uploadId) {
      await enter('listParts', key);
      const u = uploads.get(uploadId);
      if (!u || u.key !== key) return undefined;
      return [...u.parts.entries()]
        .sort(([a], [b]) => a - b)
        .map(([partNumber, p]): StoredPart => ({ partNumber, size: p.body.length, etag: p.etag }));
    },

    async uploadPart(key, uploadId, partNumber, body, signal) {
      await enter('uploadPart', key);
      signal?.throwIfAborted();
      if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) throw s3Error(400, 'InvalidArgument');
      const u = upload(key, uploadId);
      const etag = quoted(md5(body).toString('hex'));
      u.parts.set(partNumber, { body: Buffer.from(body), etag });
      return etag;
    },

    async completeMultipart(key, uploadId, parts) {
      await enter('completeMultipart', key);
      const u = upload(key, uploadId);
      if (parts.length === 0) throw s3Error(400, 'MalformedXML');
      const chosen = parts.map((p, i) => {
        if (i > 0 && p.partNumber <= parts[i - 1]!.partNumber) throw s3Error(400, 'InvalidPartOrder');
        const stored = u.parts.get(p.partNumber);
        if (!stored || unquote(stored.etag) !== unquote(p.etag)) throw s3Error(400, 'InvalidPart');
        return stored;
      });
      if (chosen.slice(0, -1).some((p) => p.body.length < MIN_COMPLETE_PART_SIZE)) throw s3Error(400, 'EntityTooSmall');
      const body = Buffer.concat(chosen.map((p) => p.body));
      const etag = quoted(`${md5(Buffer.concat(chosen.map((p) => Buffer.from(unquote(p.etag), 'hex')))).toString('hex')}-${chosen.length}`);
      objects.set(key, { body, etag, contentType: u.contentType, tags: {} });
      uploads.delete(uploadId);
      return etag;
    },

    async abortMultipart(key, uploadId) {
      await enter('abortMultipart', key);
      const u = uploads.get(uploadId);
      if (u && u.key === key) uploads.delete(uploadId);
    },

    async listMultipartUploads(prefix) {
      await enter('listMultipartUploads', prefix);
      return [...uploads.entries()]
        .filter(([, u]) => u.key.startsWith(prefix))
        .map(([uploadId, u]) => ({ key: u.key, uploadId }))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },

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
      const o = object(key);
      if (start >= o.body.length) throw s3Error(416, 'InvalidRange');
      return Buffer.from(o.body.subarray(start, endInclusive + 1));
    },

    async getStream(key) {
      await enter('getStream', key);
      return Readable.from([object(key).body]);
    },

    async put(key, body, opts) {
      await enter('put', key);
      opts.signal?.throwIfAborted();
      const existing = objects.get(key);
      if (opts.ifNoneMatch && existing) throw new PreconditionFailed(key);
      if (opts.ifMatch !== undefined && (!existing || unquote(existing.etag) !== unquote(opts.ifMatch))) throw new PreconditionFailed(key);
      const buf = Buffer.isBuffer(body) ? Buffer.from(body) : Buffer.from(body, 'utf8');
      const etag = quoted(md5(buf).toString('hex'));
      objects.set(key, {
        body: buf,
        etag,
        contentType: opts.contentType,
        ...(opts.cacheControl ? { cacheControl: opts.cacheControl } : {}),
        tags: { ...opts.tags },
      });
      return etag;
    },

    async copy(from, to, opts) {
      await enter('copy', to);
      const source = objects.get(from);
      if (!source || unquote(source.etag) !== unquote(opts.ifSourceMatch)) throw new PreconditionFailed(from);
      objects.set(to, { ...source, body: Buffer.from(source.body), tags: { ...source.tags } });
      return source.etag;
    },

    async listKeys(prefix, opts = {}) {
      await enter('listKeys', prefix);
      const keys = [...objects.keys()].filter(
          (k) =>
            k.startsWith(prefix) &&
            (opts.before === undefined || k < opts.before) &&
            (opts.startAfter === undefined || k > opts.startAfter),
        )
        .sort();
      return opts.limit === undefined ? keys : keys.slice(0, opts.limit);
    },

    async putTags(key, tags) {
      await enter('putTags', key);
      object(key).tags = { ...tags };
    },

    async getTags(key) {
      await enter('getTags', key);
      const o = objects.get(key);
      return o && { ...o.tags };
    },

    async deleteKeys(keys) {
      for (const key of keys) {
        await enter('delete', key);
        objects.delete(key);
      }
    },

    async probe(signal) {
      await enter('probe', '');
      signal?.throwIfAborted();
    },
  };
  return store;
}
