/**
 * Companion-compatible S3 routes, so that Uppy's @uppy/aws-s3 (v6, `companionEndpoint`)
 * uploads into dropship and every upload becomes a drop. See docs/uppy.md for the client side.
 * (One file for all of them, over 300 lines: they are one protocol, Companion's, whose routes
 * share the key/uploadId authorisation and the owner cookie; schemas are in schemas/uppy.ts.)
 *
 *   POST   /s3/multipart                          create  {filename, type, metadata} → {key, uploadId}
 *   GET    /s3/multipart/:uploadId?key=           parts already in S3 → [{PartNumber, Size, ETag}]
 *   GET    /s3/multipart/:uploadId/:partNumber    one signed part URL → {url, expires}
 *   GET    /s3/multipart/:uploadId/batch          several → {presignedUrls: {n: url}}
 *   POST   /s3/multipart/:uploadId/complete       {parts: [{PartNumber, ETag}]} → {location, key}
 *   DELETE /s3/multipart/:uploadId?key=           abort: cancels the drop
 *   GET    /s3/params?filename=&type=&metadata[size]=   one-request upload: an S3 POST policy
 *
 * Mapping onto dropship: the Uppy `key` is the drop's object key `drops/{id}/original` (for a
 * one-request upload `drops/{id}/posted/original`, which the worker publishes) and the
 * `uploadId` is S3's multipart upload id. Neither authorises anything (the upload id is in
 * every part URL): creating needs the same uploader rights as POST /v1/drops, and everything
 * after needs the drop's owner token, as an `X-Owner-Token` header or — because Uppy 6's
 * Companion client sends no custom headers — an HttpOnly cookie that create sets with
 * `Path=/s3/multipart/{uploadId}`, so each upload's cookie reaches only that upload's routes.
 * The pair must also match: the manifest of the key's drop records that upload id.
 *
 * Part sizes: dropship signs each part URL for an exact Content-Length from the drop's plan,
 * and Uppy cuts the file by its own rule, so the plan is made Uppy's way: the file size comes
 * in `metadata.size` (Uppy does not send it by itself) and the part size is what Uppy's
 * S3Uploader computes from `getChunkSize` — by default ceil(size / 10,000), at least 5 MiB;
 * a client with its own getChunkSize sends that value as `metadata.partSize`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { fail } from '../../core/errors.js';
import { refuseCrossSite } from '../../core/fetch-metadata.js';
import { ownerTokenMatches } from '../../core/ids.js';
import { dropIdFromKey, dropKeys, isOriginalKey } from '../../core/layout.js';
import { uploadDeadline } from '../../core/manifest.js';
import { MAX_PART_SIZE, MAX_SINGLE_PUT_SIZE, uppyPartSize } from '../../core/parts.js';
import type { DropService } from '../services/drops.js';
import {
  BatchQuery,
  CompleteBody,
  CompleteResponse,
  CreateBody,
  CreateResponse,
  KeyQuery,
  OwnerHeader,
  ParamsQuery,
  ParamsResponse,
  PartParams,
  PartsListResponse,
  PresignedUrlsResponse,
  SignedPartResponse,
  UploadParams,
  EmptyResponse,
  OWNER_COOKIE,
  type Count,
} from '../schemas/uppy.js';
import { COMMON_ERRORS, JSON_BODY_ERRORS, errorResponses, security } from '../schemas/responses.js';
import { described, examples } from '../schemas/examples.js';
import { makeUploaderCheck, ownerToken } from '../plugins/auth.js';

export { OWNER_COOKIE };

const toCount = (v: Count | undefined) => (v === undefined ? undefined : Number(v));

export default async function uppyRoutes(app: FastifyInstance, opts: { drops: DropService }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { drops } = opts;
  const config = app.config;
  const now = () => app.clock().getTime();
  const base = config.publicUrl;
  const uploader = makeUploaderCheck(config);
  const secure = base.startsWith('https:');
  // Uppy signs every part with a request of its own (about 20 a second on a fast link with
  // its 5 MiB parts), so the per-part routes get ten times the general per-client budget.
  const partRoutes = { rateLimit: { max: config.DROPSHIP_RATE_LIMIT * 10, timeWindow: 60_000 } };

  const cookiePath = (uploadId: string) => `/s3/multipart/${encodeURIComponent(uploadId)}`;
  const cookieOptions = (uploadId: string) => ({ path: cookiePath(uploadId), httpOnly: true, sameSite: 'strict' as const, secure });
  function setOwnerCookie(reply: FastifyReply, uploadId: string, token: string, maxAge: number) {
    reply.setCookie(OWNER_COOKIE, token, { ...cookieOptions(uploadId), maxAge });
  }
  function clearOwnerCookie(reply: FastifyReply, uploadId: string) {
    reply.clearCookie(OWNER_COOKIE, cookieOptions(uploadId));
  }
  /** The owner token from the cookie (at most 128 characters: tokens are 43). */
  const cookieToken = (req: FastifyRequest) => {
    const v = req.cookies[OWNER_COOKIE];
    return v && v.length <= 128 ? v : undefined;
  };

  /** Uppy sends an empty meta field as "" : no password. */
  const passwordOf = (p: unknown) => (typeof p === 'string' && p !== '' ? { password: p } : {});

  /** Creates a drop through DropService (names, limits, tickets, manifest), planned the way Uppy cuts the file. */
  async function createForUppy(
    req: FastifyRequest,
    input: { name: string; size: number; type?: string; password?: string; passwordField: string },
    plan: { mode: 'multipart'; partSize: number } | { mode: 'single' },
  ) {
    const who = uploader(req);
    const { manifest, ownerToken: token } = await drops.create({
      ...input,
      owner: who.id,
      ...(who.key && { key: who.key }),
      source: 'uppy',
      signFirstBatch: false,
      plan,
    });
    return { manifest, ownerToken: token, key: dropKeys(manifest.id).original };
  }

  /** The drop behind an Uppy key/uploadId pair, if the request holds its owner token. */
  async function authorise(req: FastifyRequest, uploadId: string, key: string) {
    const id = dropIdFromKey(key);
    if (!id || !isOriginalKey(key)) throw fail('DROP_NOT_FOUND', 'no upload with this key');
    const token = ownerToken(req) ?? cookieToken(req);
    if (!token) throw fail('UNAUTHORIZED', 'this needs the owner token: the cookie set when the upload was created, or X-Owner-Token');
    const rec = await drops.load(id);
    if (!ownerTokenMatches(token, rec.manifest.ownerTokenHash)) throw fail('OWNER_TOKEN_INVALID', 'the owner token does not match this upload');
    if (rec.manifest.upload.uploadId !== uploadId) throw fail('DROP_NOT_FOUND', 'no upload with this id for this key');
    return { id, token, manifest: rec.manifest };
  }

  r.post(
    '/s3/multipart',
    {
      schema: {
        tags: ['uppy'],
        summary: 'Uppy: create a multipart upload (a new drop planned the way Uppy cuts the file)',
        description:
          'Companion\'s `createMultipartUpload`. The file size must come in `metadata.size` (or `size`); the part size is the one Uppy\'s S3 uploader computes (ceil(size / 10,000), at least 5 MiB) or `metadata.partSize`. Sets the owner cookie for the routes that follow.',
        operationId: 'uppyCreateMultipartUpload',
        security: security.uploader(config.DROPSHIP_PUBLIC_UPLOADS),
        body: described(CreateBody, 'The file Uppy is about to upload.', examples.uppy.create),
        response: {
          200: {
            ...described(CreateResponse, 'The new drop\'s upload; the owner cookie is set.', examples.uppy.created),
            headers: { 'set-cookie': { type: 'string', description: `\`${OWNER_COOKIE}=<owner token>; Path=/s3/multipart/{uploadId}; HttpOnly; SameSite=Strict\`` } },
          },
          ...errorResponses(...COMMON_ERRORS, ...JSON_BODY_ERRORS, 'NAME_INVALID', 'SIZE_INVALID', 'PASSWORD_INVALID', 'UNAUTHORIZED', 'FILE_TOO_LARGE', 'TYPE_NOT_ALLOWED', 'TOO_MANY_OPEN_TICKETS', 'UPLOAD_SLOTS_FULL'),
        },
      },
    },
    async (req, reply) => {
      const size = toCount(req.body.size) ?? toCount(req.body.metadata?.size);
      if (size === undefined) {
        throw fail('VALIDATION_FAILED', 'metadata.size is required: add the file size to Uppy\'s meta (see docs/uppy.md)', {
          field: 'body/metadata/size',
        });
      }
      if (size < 1) throw fail('SIZE_INVALID', 'an empty file has no parts; Uppy sends it through /s3/params');
      const partSize = uppyPartSize(size, toCount(req.body.metadata?.partSize));
      if (partSize > MAX_PART_SIZE) throw fail('SIZE_INVALID', `parts may be at most ${MAX_PART_SIZE} bytes`);
      const type = req.body.type ?? req.body.metadata?.type;
      const { manifest, ownerToken: token, key } = await createForUppy(
        req,
        { name: req.body.filename, size, ...(type ? { type } : {}), ...passwordOf(req.body.metadata?.password), passwordField: 'body/metadata/password' },
        { mode: 'multipart', partSize },
      );
      const uploadId = manifest.upload.uploadId!;
      const ttl = Math.max(1, Math.floor((uploadDeadline(manifest) - now()) / 1000));
      setOwnerCookie(reply, uploadId, token, ttl);
      reply.header('cache-control', 'no-store');
      return {
        key,
        uploadId,
        bucket: config.DROPSHIP_BUCKET,
        id: manifest.id,
        shareUrl: `${base}/d/${manifest.id}`,
        ownerToken: token,
        partSize: manifest.upload.partSize,
        partCount: manifest.upload.partCount,
      };
    },
  );

  r.get(
    '/s3/multipart/:uploadId',
    {
      config: partRoutes,
      schema: {
        tags: ['uppy'],
        summary: 'Uppy: parts already uploaded (resume)',
        operationId: 'uppyListParts',
        security: security.uppyOwner,
        params: UploadParams,
        querystring: KeyQuery,
        headers: OwnerHeader,
        response: {
          200: described(PartsListResponse, 'The parts S3 holds so far.', examples.uppy.parts),
          ...errorResponses(...COMMON_ERRORS, 'UNAUTHORIZED', 'OWNER_TOKEN_INVALID', 'DROP_NOT_FOUND', 'DROP_NOT_UPLOADING', 'DROP_EXPIRED', 'STORAGE_BUSY'),
        },
      },
    },
    async (req) => {
      const { id, token } = await authorise(req, req.params.uploadId, req.query.key);
      const { parts } = await drops.listParts(id, token);
      return parts.map((p) => ({ PartNumber: p.partNumber, Size: p.size, ETag: p.etag }));
    },
  );

  r.get(
    '/s3/multipart/:uploadId/batch',
    {
      config: partRoutes,
      schema: {
        tags: ['uppy'],
        summary: 'Uppy: sign several part URLs',
        operationId: 'uppySignParts',
        security: security.uppyOwner,
        params: UploadParams,
        querystring: BatchQuery,
        headers: OwnerHeader,
        response: {
          200: described(PresignedUrlsResponse, 'One URL per part number asked for, each bound to the part\'s exact size.', examples.uppy.batch),
          ...errorResponses(...COMMON_ERRORS, 'PART_NUMBER_INVALID', 'UNAUTHORIZED', 'OWNER_TOKEN_INVALID', 'DROP_NOT_FOUND', 'DROP_NOT_UPLOADING', 'DROP_EXPIRED', 'STORAGE_BUSY'),
        },
      },
    },
    async (req) => {
      const { id, token } = await authorise(req, req.params.uploadId, req.query.key);
      const numbers = req.query.partNumbers.split(',').map(Number);
      const parts = await drops.signParts(id, token, numbers);
      return { presignedUrls: Object.fromEntries(parts.map((p) => [String(p.partNumber), p.url])) };
    },
  );

  r.get(
    '/s3/multipart/:uploadId/:partNumber',
    {
      config: partRoutes,
      schema: {
        tags: ['uppy'],
        summary: 'Uppy: sign one part URL (bound to the part\'s exact size)',
        operationId: 'uppySignPart',
        security: security.uppyOwner,
        params: PartParams,
        querystring: KeyQuery,
        headers: OwnerHeader,
        response: {
          200: described(SignedPartResponse, 'The part\'s URL and how long it lives.', examples.uppy.signed),
          ...errorResponses(...COMMON_ERRORS, 'PART_NUMBER_INVALID', 'UNAUTHORIZED', 'OWNER_TOKEN_INVALID', 'DROP_NOT_FOUND', 'DROP_NOT_UPLOADING', 'DROP_EXPIRED', 'STORAGE_BUSY'),
        },
      },
    },
    async (req) => {
      const { id, token } = await authorise(req, req.params.uploadId, req.query.key);
      const [part] = await drops.signParts(id, token, [req.params.partNumber]);
      return { url: part!.url, expires: Math.max(0, Math.round((Date.parse(part!.expiresAt) - now()) / 1000)) };
    },
  );

  r.post(
    '/s3/multipart/:uploadId/complete',
    {
      schema: {
        tags: ['uppy'],
        summary: 'Uppy: finish the upload (the drop moves to processing)',
        operationId: 'uppyCompleteMultipartUpload',
        security: security.uppyOwner,
        params: UploadParams,
        querystring: KeyQuery,
        headers: OwnerHeader,
        body: described(CompleteBody, 'Every part with the ETag S3 answered for it.', examples.uppy.complete),
        response: {
          200: described(CompleteResponse, 'The drop is complete; the owner cookie is cleared.', examples.uppy.completed),
          ...errorResponses(
            ...COMMON_ERRORS,
            ...JSON_BODY_ERRORS,
            'UNAUTHORIZED', 'OWNER_TOKEN_INVALID', 'DROP_NOT_FOUND',
            'DROP_NOT_UPLOADING',
            'PART_MISSING',
            'PART_UNEXPECTED',
            'PART_SIZE_MISMATCH',
            'PART_ETAG_MISMATCH',
            'DROP_EXPIRED',
            'STORAGE_BUSY',
          ),
        },
      },
    },
    async (req, reply) => {
      const { id, token } = await authorise(req, req.params.uploadId, req.query.key);
      const m = await drops.complete(
        id,
        token,
        req.body.parts.map((p) => ({ partNumber: p.PartNumber, etag: p.ETag })),
      );
      clearOwnerCookie(reply, req.params.uploadId);
      const shareUrl = `${base}/d/${id}`;
      return { location: shareUrl, key: req.query.key, bucket: config.DROPSHIP_BUCKET, id, shareUrl, status: m.status };
    },
  );

  r.delete(
    '/s3/multipart/:uploadId',
    {
      schema: {
        tags: ['uppy'],
        summary: 'Uppy: abort the upload (the drop is cancelled; S3 drops its parts)',
        operationId: 'uppyAbortMultipartUpload',
        security: security.uppyOwner,
        params: UploadParams,
        querystring: KeyQuery,
        headers: OwnerHeader,
        response: {
          200: described(EmptyResponse, 'Aborted; the owner cookie is cleared.', [{}]),
          ...errorResponses(...COMMON_ERRORS, ...JSON_BODY_ERRORS, 'UNAUTHORIZED', 'OWNER_TOKEN_INVALID', 'DROP_NOT_FOUND', 'STORAGE_BUSY'),
        },
      },
    },
    async (req, reply) => {
      const { id, token } = await authorise(req, req.params.uploadId, req.query.key);
      await drops.cancel(id, token);
      clearOwnerCookie(reply, req.params.uploadId);
      return {};
    },
  );

  r.get(
    '/s3/params',
    {
      schema: {
        tags: ['uppy'],
        summary: 'Uppy: one-request upload — an S3 POST policy for exactly metadata[size] bytes',
        description:
          'Companion\'s `getUploadParameters`, for files up to 5 GiB: POST the `fields` and the file (last) as `multipart/form-data` to `url`. Nothing calls back when the POST is done: the worker moves the drop to `ready` when S3 reports the object. Only a script\'s `fetch` from this origin or an allowed one may call it (`Sec-Fetch-*`, `Origin`).',
        operationId: 'uppyGetUploadParameters',
        security: security.uploader(config.DROPSHIP_PUBLIC_UPLOADS),
        querystring: ParamsQuery,
        response: {
          200: described(ParamsResponse, 'The POST policy, bound to this key and exactly this size.', examples.uppy.params),
          ...errorResponses(...COMMON_ERRORS, 'NAME_INVALID', 'SIZE_INVALID', 'PASSWORD_INVALID', 'UNAUTHORIZED', 'CROSS_SITE_REFUSED', 'FILE_TOO_LARGE', 'TYPE_NOT_ALLOWED', 'TOO_MANY_OPEN_TICKETS', 'UPLOAD_SLOTS_FULL'),
        },
      },
    },
    async (req, reply) => {
      // A GET anyone's page can make a visitor's browser send (<img src>): only a script's
      // fetch, from this origin or an allowed one, may spend the visitor's quota here.
      const header = (name: string) => {
        const v = req.headers[name];
        return typeof v === 'string' ? v : undefined;
      };
      const site = refuseCrossSite(
        {
          ...(header('sec-fetch-mode') !== undefined && { secFetchMode: header('sec-fetch-mode') }),
          ...(header('sec-fetch-dest') !== undefined && { secFetchDest: header('sec-fetch-dest') }),
          ...(header('origin') !== undefined && { origin: header('origin') }),
        },
        { ownOrigin: new URL(base).origin, corsOrigins: config.corsOrigins },
      );
      if (!site.ok) throw fail('CROSS_SITE_REFUSED', site.reason);
      const raw = req.query['metadata[size]'];
      if (raw === undefined) {
        throw fail('VALIDATION_FAILED', 'metadata[size] is required: add the file size to Uppy\'s meta (see docs/uppy.md)', {
          field: 'querystring/metadata[size]',
        });
      }
      const size = Number(raw);
      if (size > MAX_SINGLE_PUT_SIZE) {
        throw fail('SIZE_INVALID', `one-request uploads are limited to ${MAX_SINGLE_PUT_SIZE} bytes; let Uppy use multipart`);
      }
      const { manifest, ownerToken: token } = await createForUppy(
        req,
        {
          name: req.query.filename,
          size,
          ...(req.query.type ? { type: req.query.type } : {}),
          ...passwordOf(req.query['metadata[password]']),
          passwordField: 'querystring/metadata[password]',
        },
        { mode: 'single' },
      );
      // S3 checks the policy: this key, exactly `size` bytes. Nothing calls back when the POST
      // is done, so the worker's S3 event is what moves this drop on: it publishes the form
      // upload as the drop's original (once), then verifies it (uploading → ready).
      const { post, expires, key } = await drops.signPost(manifest);
      reply.header('cache-control', 'no-store');
      return {
        method: 'POST' as const,
        url: post.url,
        fields: post.fields,
        expires,
        key,
        id: manifest.id,
        shareUrl: `${base}/d/${manifest.id}`,
        ownerToken: token,
      };
    },
  );
}
