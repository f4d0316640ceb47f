/**
 * The ObjectStore port (src/ports/object-store.ts) over S3: the only S3 calls dropship makes.
 *
 * Object layout (see src/core/layout.ts):
 *   drops/{id}/original        the file; the key is server-made, never the user's name
 *   drops/{id}/posted/original a form upload, until the worker copies it to original
 *   drops/{id}/manifest.json   the drop's state, written with conditional requests
 *   drops/{id}/thumb-{w}.webp  thumbnails
 *
 * Manifests are the database. Creation uses If-None-Match: * (two tickets can never share
 * an id) and every update If-Match on the ETag that was read, so racing writers (the api
 * completing, the worker marking ready) retry on 412 instead of losing an update.
 *
 * IAM (api): s3:PutObject, s3:GetObject, s3:DeleteObject, s3:ListBucket,
 * s3:ListMultipartUploadParts, s3:AbortMultipartUpload (CreateMultipartUpload and
 * CompleteMultipartUpload are covered by s3:PutObject), s3:PutObjectTagging (a put with tags).
 * Worker: s3:GetObject, s3:PutObject, s3:PutObjectTagging (CopyObject needs GetObject on the
 * source and PutObject on the target), s3:DeleteObject, s3:ListBucket,
 * s3:AbortMultipartUpload (the retention sweep).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { PreconditionFailed, type ObjectStore, type StoredPart } from '../ports/object-store.js';

const status = (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
const name = (e: unknown) => (e as { name?: string }).name;

/** What a 403 on reading a key turned out to be, once the bucket was listed. */
export class StorageForbidden extends Error {
  constructor(key: string, why: string) {
    super(`S3 answered 403 for ${key}: ${why}`);
    this.name = 'StorageForbidden';
  }
}

export function createObjectStore(s3: S3Client, bucket: string): ObjectStore {
  const Bucket = bucket;

  /**
   * Without s3:ListBucket, S3 answers a missing key with 403 (it will not say what does not
   * exist), not 404. A 403 is therefore settled by listing the key: absent from the listing
   * → missing (undefined, like a 404); listed → a real access problem; the listing itself
   * refused → the role lacks s3:ListBucket, and the error says so (a missing key cannot be
   * told from a forbidden one; docs/operations.md has the policy).
   */
  async function missingOrForbidden(key: string, e: unknown): Promise<undefined> {
    let listed: boolean;
    try {
      const r = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: key, MaxKeys: 1 }));
      listed = (r.Contents ?? []).some((o) => o.Key === key);
    } catch (le) {
      if (status(le) === 403) throw new StorageForbidden(key, 'the role lacks s3:ListBucket, so a missing key cannot be told from a forbidden one (docs/operations.md)');
      throw le;
    }
    if (listed) throw e;
    return undefined;
  }

  return {
    bucket,

    async createMultipart(key, contentType) {
      const r = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: key, ContentType: contentType }));
      if (!r.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
      return r.UploadId;
    },

    async listParts(key, uploadId) {
      const parts: StoredPart[] = [];
      let marker: string | undefined;
      try {
        do {
          const r = await s3.send(
            new ListPartsCommand({ Bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker, MaxParts: 1000 }),
          );
          for (const p of r.Parts ?? []) {
            parts.push({ partNumber: p.PartNumber!, size: p.Size!, etag: p.ETag! });
          }
          marker = r.IsTruncated ? r.NextPartNumberMarker : undefined;
        } while (marker);
      } catch (e) {
        if (name(e) === 'NoSuchUpload' || status(e) === 404) return undefined;
        throw e;
      }
      return parts;
    },

    async uploadPart(key, uploadId, partNumber, body, signal) {
      const r = await s3.send(
        new UploadPartCommand({ Bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: body, ContentLength: body.length }),
        signal ? { abortSignal: signal } : {},
      );
      if (!r.ETag) throw new Error('UploadPart returned no ETag');
      return r.ETag;
    },

    async completeMultipart(key, uploadId, parts) {
      const r = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
        }),
      );
      return r.ETag ?? '';
    },

    async abortMultipart(key, uploadId) {
      try {
        await s3.send(new AbortMultipartUploadCommand({ Bucket, Key: key, UploadId: uploadId }));
      } catch (e) {
        if (name(e) === 'NoSuchUpload' || status(e) === 404) return;
        throw e;
      }
    },

    async listMultipartUploads(prefix) {
      const out: { key: string; uploadId: string }[] = [];
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      do {
        const r = await s3.send(
          new ListMultipartUploadsCommand({ Bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
        );
        for (const u of r.Uploads ?? []) out.push({ key: u.Key!, uploadId: u.UploadId! });
        keyMarker = r.IsTruncated ? r.NextKeyMarker : undefined;
        uploadIdMarker = r.IsTruncated ? r.NextUploadIdMarker : undefined;
      } while (keyMarker);
      return out;
    },

    async head(key) {
      try {
        const r = await s3.send(new HeadObjectCommand({ Bucket, Key: key }));
        return { size: r.ContentLength ?? 0, etag: r.ETag ?? '', ...(r.ContentType ? { contentType: r.ContentType } : {}) };
      } catch (e) {
        if (status(e) === 404 || name(e) === 'NotFound' || name(e) === 'NoSuchKey') return undefined;
        if (status(e) === 403) return missingOrForbidden(key, e);
        throw e;
      }
    },

    async getText(key) {
      try {
        const r = await s3.send(new GetObjectCommand({ Bucket, Key: key }));
        return { text: await r.Body!.transformToString(), etag: r.ETag ?? '' };
      } catch (e) {
        if (status(e) === 404 || name(e) === 'NoSuchKey') return undefined;
        if (status(e) === 403) return missingOrForbidden(key, e);
        throw e;
      }
    },

    async getRange(key, start, endInclusive) {
      const r = await s3.send(new GetObjectCommand({ Bucket, Key: key, Range: `bytes=${start}-${endInclusive}` }));
      return Buffer.from(await r.Body!.transformToByteArray());
    },

    async getStream(key) {
      const r = await s3.send(new GetObjectCommand({ Bucket, Key: key }));
      return r.Body as Readable;
    },

    async put(key, body, opts) {
      try {
        const r = await s3.send(
          new PutObjectCommand({
            Bucket,
            Key: key,
            Body: body,
            // Stated, not left to the SDK: for an empty body (every index entry) it cannot tell
            // the length and warns on each write.
            ContentLength: typeof body === 'string' ? Buffer.byteLength(body) : body.length,
            ContentType: opts.contentType,
            ...(opts.cacheControl ? { CacheControl: opts.cacheControl } : {}),
            ...(opts.tags && Object.keys(opts.tags).length ? { Tagging: new URLSearchParams(opts.tags).toString() } : {}),
            ...(opts.ifNoneMatch ? { IfNoneMatch: '*' } : {}),
            ...(opts.ifMatch ? { IfMatch: opts.ifMatch } : {}),
          }),
          opts.signal ? { abortSignal: opts.signal } : {},
        );
        return r.ETag ?? '';
      } catch (e) {
        // 412 for a failed If-Match / If-None-Match; 409 when S3 saw a concurrent conditional write.
        if (status(e) === 412 || status(e) === 409 || name(e) === 'PreconditionFailed') throw new PreconditionFailed(key);
        throw e;
      }
    },

    async copy(from, to, opts) {
      try {
        const r = await s3.send(
          new CopyObjectCommand({
            Bucket,
            Key: to,
            // The source is "bucket/key", URL-encoded (our keys are ASCII, but say what S3 expects).
            CopySource: `${Bucket}/${from.split('/').map(encodeURIComponent).join('/')}`,
            CopySourceIfMatch: opts.ifSourceMatch,
          }),
        );
        return r.CopyObjectResult?.ETag ?? '';
      } catch (e) {
        // 412: the source changed; 404: it is gone. Either way not the object asked for.
        if (status(e) === 412 || status(e) === 404 || name(e) === 'PreconditionFailed' || name(e) === 'NoSuchKey') {
          throw new PreconditionFailed(from);
        }
        throw e;
      }
    },

    async listKeys(prefix, opts = {}) {
      const keys: string[] = [];
      const limit = opts.limit ?? Infinity;
      let token: string | undefined;
      do {
        const MaxKeys = Math.min(1000, limit - keys.length);
        const r = await s3.send(new ListObjectsV2Command({
            Bucket,
            Prefix: prefix,
            ContinuationToken: token,
            MaxKeys,
            // S3 ignores StartAfter once a continuation token is sent; the first page needs it.
            ...(token === undefined && opts.startAfter !== undefined ? { StartAfter: opts.startAfter } : {}),
          }),);
        for (const o of r.Contents ?? []) {
          // Keys come in order: the first one past `before` ends the listing, later pages unread.
          if (opts.before !== undefined && o.Key! >= opts.before) return keys;
          keys.push(o.Key!);
          if (keys.length >= limit) return keys;
        }
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
      return keys;
    },

    async putTags(key, tags) {
      await s3.send(
        new PutObjectTaggingCommand({
          Bucket,
          Key: key,
          Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
        }),
      );
    },

    async getTags(key) {
      try {
        const r = await s3.send(new GetObjectTaggingCommand({ Bucket, Key: key }));
        return Object.fromEntries((r.TagSet ?? []).map((t) => [t.Key!, t.Value!]));
      } catch (e) {
        if (status(e) === 404 || name(e) === 'NoSuchKey') return undefined;
        throw e;
      }
    },

    async probe(signal) {
      await s3.send(new HeadBucketCommand({ Bucket }), signal ? { abortSignal: signal } : {});
    },

    async deleteKeys(keys) {
      for (let i = 0; i < keys.length; i += 1000) {
        const batch = keys.slice(i, i + 1000);
        const r = await s3.send(
          new DeleteObjectsCommand({ Bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
        );
        if (r.Errors?.length) throw new Error(`could not delete ${r.Errors.length} objects (first: ${r.Errors[0]?.Key})`);
      }
    },
  };
}
