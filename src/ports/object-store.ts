/**
 * The object store port: the only S3 operations dropship uses (as tusd's S3API lists only
 * the calls it makes). src/aws/store.ts implements it over S3, src/memory/store.ts in memory;
 * test/contract/object-store.ts holds both to the same behaviour.
 *
 * Semantics every adapter keeps:
 * - a missing key or upload is `undefined` (head, getText, listParts), never an error;
 * - `put` with `ifNoneMatch` fails with PreconditionFailed when the key exists, with `ifMatch`
 *   when the stored ETag differs — the manifests' optimistic concurrency rests on this;
 * - `abortMultipart` and `deleteKeys` are idempotent;
 * - ETags are quoted strings, as S3 returns them.
 */
import type { Readable } from 'node:stream';

export interface StoredPart {
  partNumber: number;
  size: number;
  etag: string;
}

export interface ObjectHead {
  size: number;
  etag: string;
  contentType?: string;
}

export interface PutOptions {
  contentType: string;
  /** Create only: fail with PreconditionFailed if the key exists. */
  ifNoneMatch?: boolean;
  /** Replace only the object with this ETag: otherwise PreconditionFailed. */
  ifMatch?: string;
  cacheControl?: string;
  /** Object tags (S3 lifecycle rules filter on them); a put replaces the object's tags. */
  tags?: Record<string, string>;
  signal?: AbortSignal;
}

export interface ListOptions {
  /** Start after this key (exclusive), as S3's StartAfter: earlier keys are never read. */
  startAfter?: string;
  /** Stop before the first key ≥ this (keys are listed in order, so later pages are never read). */
  before?: string;
  /** At most this many keys. */
  limit?: number;
}

/** A conditional write lost: the key exists (If-None-Match) or changed (If-Match). */
export class PreconditionFailed extends Error {
  readonly key: string;
  constructor(key: string) {
    super(`precondition failed for ${key}`);
    this.name = 'PreconditionFailed';
    this.key = key;
  }
}

export interface ObjectStore {
  readonly bucket: string;
  createMultipart(key: string, contentType: string): Promise<string>;
  /** Every part held for the upload (all pages), by part number; undefined when the upload is gone. */
  listParts(key: string, uploadId: string): Promise<StoredPart[] | undefined>;
  uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer, signal?: AbortSignal): Promise<string>;
  /** Publishes the object from the listed parts; returns its ETag. */
  completeMultipart(key: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<string>;
  /** Idempotent: an upload that is already gone is not an error. */
  abortMultipart(key: string, uploadId: string): Promise<void>;
  listMultipartUploads(prefix: string): Promise<{ key: string; uploadId: string }[]>;
  head(key: string): Promise<ObjectHead | undefined>;
  getText(key: string): Promise<{ text: string; etag: string } | undefined>;
  /** Bytes start..endInclusive; fails when the key does not exist. */
  getRange(key: string, start: number, endInclusive: number): Promise<Buffer>;
  getStream(key: string): Promise<Readable>;
  /** Writes the object; returns its ETag. */
  put(key: string, body: Buffer | string, opts: PutOptions): Promise<string>;
  /**
   * Server-side copy of `from` to `to` (bytes and content type), only while `from` still has
   * the ETag `ifSourceMatch`: otherwise — or when `from` is gone — PreconditionFailed.
   * Returns the new object's ETag.
   */
  copy(from: string, to: string, opts: { ifSourceMatch: string }): Promise<string>;
  /** Every key under the prefix (all pages), in lexicographic order; `opts` ends the listing early. */
  listKeys(prefix: string, opts?: ListOptions): Promise<string[]>;
  /** Replaces the object's tags; fails when the key does not exist. */
  putTags(key: string, tags: Record<string, string>): Promise<void>;
  /** The object's tags; undefined when the key does not exist. */
  getTags(key: string): Promise<Record<string, string> | undefined>;
  /** Idempotent: keys that do not exist are not an error. */
  deleteKeys(keys: string[]): Promise<void>;
  /** Whether the bucket answers (readiness); throws when it does not. */
  probe(signal?: AbortSignal): Promise<void>;
}
