/**
 * /v1/drops: tickets, part signing, resume, completion, cancellation, status, live status, a
 * key's listing and batch status. Private metadata is shown only to the key that created the
 * drop or its owner token (`privateView`); every other reader gets the public view.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { described, examples } from '../schemas/examples.js';
import { ownerTokenMatches } from '../../core/ids.js';
import { isTerminal, uploadDeadline, type Manifest } from '../../core/manifest.js';
import type { Listing } from '../services/listing.js';
import { dropView } from '../drop-view.js';
import { protectedView } from '../../core/drop-view.js';
import type { DropService } from '../services/drops.js';
import type { Unlocks } from '../services/unlock.js';
import type { EventStreams } from '../services/events.js';
import {
  CompleteBody,
  CreateDropBody,
  CreateDropResponse,
  DropParams,
  DropView,
  ListQuery,
  ListResponse,
  LookupBody,
  LookupResponse,
  PartsBody,
  PartsResponse,
  ReaderView,
  UploadedPartsResponse,
} from '../schemas/drops.js';
import { COMMON_ERRORS, JSON_BODY_ERRORS, errorResponses, security } from '../schemas/responses.js';
import { clientId, makeApiKeyCheck, makeKeyRequirement, makeUploaderCheck, ownerToken } from '../plugins/auth.js';

const OwnerHeader = Type.Object({ 'x-owner-token': Type.Optional(Type.String({ description: 'The drop\'s owner token.' })) });

const KeyHeader = Type.Object({
  authorization: Type.Optional(Type.String({ description: 'Bearer <API key>: the key that created the drop sees its metadata.' })),
  'x-owner-token': Type.Optional(Type.String({ description: 'The drop\'s owner token: its holder sees the metadata.' })),
  'x-unlock-token': Type.Optional(Type.String({ description: 'The `unlockToken` of POST /d/{id}/unlock: shows a password-protected drop.' })),
});

export default async function dropsRoutes(app: FastifyInstance, opts: { drops: DropService; events: EventStreams; listing: Listing; unlocks: Unlocks }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { drops, events, listing, unlocks } = opts;
  const base = app.config.publicUrl;
  const uploader = makeUploaderCheck(app.config);
  const apiKey = makeApiKeyCheck(app.config);
  const requireKey = makeKeyRequirement(app.config);

  /**
   * Whether this request may see the drop's private metadata: the key that created it, or
   * its owner token. Status is public, so a key or token that is not the drop's is no error
   * here (a client may hold a key of another server): it just gets the public view.
   */
  function privateView(req: FastifyRequest, m: Manifest): boolean {
    const key = apiKey(req);
    if (key && m.keyId === key.id) return true;
    const token = ownerToken(req);
    return token !== undefined && ownerTokenMatches(token, m.ownerTokenHash);
  }

  r.get(
    '/v1/drops',
    {
      schema: {
        tags: ['drops'],
        operationId: 'listDrops',
        summary: 'The calling API key\'s drops, newest first, with their metadata (cursor pagination)',
        security: [{ apiKey: [] }],
        querystring: ListQuery,
        response: {
          200: described(ListResponse, 'A page of the key\'s drops, newest first; `nextCursor` fetches the next one.'),
          ...errorResponses(...COMMON_ERRORS, 'UNAUTHORIZED', 'STORAGE_BUSY'),
        },
      },
    },
    async (req, reply) => {
      const key = requireKey(req);
      const page = await listing.list(key.id, {
        limit: req.query.limit ?? 50,
        ...(req.query.cursor !== undefined && { cursor: req.query.cursor }),
        ...(req.query.status !== undefined && { status: req.query.status }),
      });
      reply.header('cache-control', 'private, no-store');
      return { drops: page.drops.map((m) => dropView(m, base, { withMetadata: true })), nextCursor: page.nextCursor };
    },
  );

  r.post(
    '/v1/drops/lookup',
    {
      schema: {
        tags: ['drops'],
        operationId: 'lookupDrops',
        summary: 'Status of up to 100 drops at once, in the order asked (metadata only for the calling key\'s drops)',
        security: [{ apiKey: [] }],
        body: LookupBody,
        response: {
          200: described(LookupResponse, 'One entry per id asked, in that order: the drop view, or `{ id, status: "not_found" }`.'),
          ...errorResponses(...COMMON_ERRORS, ...JSON_BODY_ERRORS, 'UNAUTHORIZED', 'STORAGE_BUSY'),
        },
      },
    },
    async (req, reply) => {
      const key = requireKey(req);
      const found = await listing.lookup(req.body.ids);
      reply.header('cache-control', 'private, no-store');
      return {
        drops: req.body.ids.map((id, i) => {
          const m = found[i];
          if (!m) return { id, status: 'not_found' as const };
          // The key's own drops in full (it created them); another key's protected drop: its status only.
          if (m.keyId === key.id) return dropView(m, base, { withMetadata: true });
          return unlocks.sees(req, m) === 'full' ? dropView(m, base) : protectedView(m);
        }),
      };
    },
  );

  r.post(
    '/v1/drops',
    {
      schema: {
        tags: ['drops'],
        summary: 'Create a drop: an upload ticket with its first part URLs and the share link',
        operationId: 'createDrop',
        security: security.uploader(app.config.DROPSHIP_PUBLIC_UPLOADS),
        body: described(CreateDropBody, 'What is about to be uploaded.', examples.createDrop),
        response: {
          201: described(CreateDropResponse, 'The ticket: keep `ownerToken`, PUT the parts, then complete.', examples.ticket),
          ...errorResponses(...COMMON_ERRORS, ...JSON_BODY_ERRORS, 'NAME_INVALID', 'SIZE_INVALID', 'PASSWORD_INVALID', 'UNAUTHORIZED', 'FILE_TOO_LARGE', 'TOO_MANY_OPEN_TICKETS', 'UPLOAD_SLOTS_FULL'),
        },
      },
    },
    async (req, reply) => {
      const who = uploader(req);
      const { manifest, ownerToken: token, parts } = await drops.create({ ...req.body, owner: who.id, ...(who.key && { key: who.key }) });
      reply.header('cache-control', 'no-store');
      return reply.status(201).send({
        id: manifest.id,
        shareUrl: `${base}/d/${manifest.id}`,
        ownerToken: token,
        status: 'uploading' as const,
        upload: {
          mode: manifest.upload.mode,
          partSize: manifest.upload.partSize,
          partCount: manifest.upload.partCount,
          expiresAt: new Date(uploadDeadline(manifest)).toISOString(),
        },
        ...(manifest.expiresAt ? { expiresAt: manifest.expiresAt } : {}),
        parts,
      });
    },
  );

  r.post(
    '/v1/drops/:id/parts',
    {
      schema: {
        tags: ['drops'],
        summary: 'Sign a batch of part URLs (each bound to its exact size)',
        operationId: 'signParts',
        security: security.owner,
        params: DropParams,
        headers: OwnerHeader,
        body: described(PartsBody, 'Part numbers to sign, at most DROPSHIP_PARTS_PER_BATCH.', examples.partNumbers),
        response: {
          200: described(PartsResponse, 'One signed URL per part asked for.', examples.signedParts),
          ...errorResponses(...COMMON_ERRORS, ...JSON_BODY_ERRORS, 'PART_NUMBER_INVALID', 'UNAUTHORIZED', 'OWNER_TOKEN_INVALID', 'DROP_NOT_FOUND', 'DROP_NOT_UPLOADING', 'DROP_EXPIRED', 'STORAGE_BUSY'),
        },
      },
    },
    async (req) => ({ parts: await drops.signParts(req.params.id, ownerToken(req), req.body.partNumbers) }),
  );

  r.get(
    '/v1/drops/:id/parts',
    {
      schema: {
        tags: ['drops'],
        summary: 'Parts already in S3, for resuming an upload',
        operationId: 'listParts',
        security: security.owner,
        params: DropParams,
        headers: OwnerHeader,
        response: {
          200: described(UploadedPartsResponse, 'The plan and the parts S3 holds so far.', examples.uploadedParts),
          ...errorResponses(...COMMON_ERRORS, 'UNAUTHORIZED', 'OWNER_TOKEN_INVALID', 'DROP_NOT_FOUND', 'DROP_NOT_UPLOADING', 'DROP_EXPIRED', 'STORAGE_BUSY'),
        },
      },
    },
    async (req) => {
      const { manifest, parts } = await drops.listParts(req.params.id, ownerToken(req));
      return { partSize: manifest.upload.partSize, partCount: manifest.upload.partCount, parts };
    },
  );

  r.post(
    '/v1/drops/:id/complete',
    {
      schema: {
        tags: ['drops'],
        summary: 'Finish the upload after checking every part against the plan; idempotent',
        operationId: 'completeDrop',
        security: security.owner,
        params: DropParams,
        headers: OwnerHeader,
        body: described(CompleteBody, 'Optionally the ETag of every part, checked against what S3 holds; `{}` lets the server read them.', examples.complete),
        response: {
          200: described(DropView, 'The drop, now `processing` (or already `ready`).', examples.processingView),
          ...errorResponses(
            ...COMMON_ERRORS,
            ...JSON_BODY_ERRORS,
            'UNAUTHORIZED',
            'OWNER_TOKEN_INVALID',
            'DROP_NOT_FOUND',
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
    async (req) => dropView(await drops.complete(req.params.id, ownerToken(req), req.body?.parts), base),
  );

  r.delete(
    '/v1/drops/:id',
    {
      schema: {
        tags: ['drops'],
        summary: 'Abort the upload or delete the drop (its file and thumbnails); idempotent',
        operationId: 'deleteDrop',
        security: security.owner,
        params: DropParams,
        headers: OwnerHeader,
        response: {
          200: described(DropView, 'The drop, now `cancelled` (its manifest stays as a tombstone).', examples.cancelledView),
          // A DELETE may carry a body: nothing reads it, but a body of another type is still refused (415).
          ...errorResponses(...COMMON_ERRORS, ...JSON_BODY_ERRORS, 'UNAUTHORIZED', 'OWNER_TOKEN_INVALID', 'DROP_NOT_FOUND', 'STORAGE_BUSY'),
        },
      },
    },
    async (req) => dropView(await drops.cancel(req.params.id, ownerToken(req)), base),
  );

  r.get(
    '/v1/drops/:id',
    {
      schema: {
        tags: ['drops'],
        summary:
          'Status of a drop (anyone holding the id; its metadata only for the key that created it or the owner token; a password-protected drop only its status until unlocked)',
        operationId: 'getDrop',
        security: security.anonymous,
        params: DropParams,
        headers: KeyHeader,
        response: {
          200: described(
            ReaderView,
            'The drop as anyone holding its id sees it (with `metadata` for the key that created it or its owner token). A password-protected drop shows `{ id, status, expiresAt, protected: true }` unless the caller holds its owner token, is the key that created it or sends an `X-Unlock-Token`.',
            examples.readyView,
          ),
          ...errorResponses(...COMMON_ERRORS, 'DROP_NOT_FOUND', 'DROP_EXPIRED', 'STORAGE_BUSY'),
        },
      },
    },
    async (req, reply) => {
      const m = await drops.status(req.params.id);
      const mine = privateView(req, m);
      const sees = unlocks.sees(req, m);
      // The answer depends on who asks: no shared cache may hand one reader's view to another.
      reply.header('vary', 'authorization, x-owner-token, x-unlock-token');
      const personal = mine || (sees === 'full' && m.passwordHash !== undefined);
      reply.header('cache-control', personal ? 'private, no-store' : isTerminal(m.status) ? 'public, max-age=5' : 'no-store');
      return sees === 'full' ? dropView(m, base, { withMetadata: mine }) : protectedView(m);
    },
  );

  r.get(
    '/v1/drops/:id/events',
    {
      schema: {
        tags: ['drops'],
        summary: 'Server-sent events: `status` with the drop view on every change, until ready/failed/cancelled/expired',
        operationId: 'watchDrop',
        security: security.anonymous,
        params: DropParams,
        response: {
          200: {
            description:
              'A `text/event-stream`: `event: status` whose `data` is the drop view (schema of `getDrop`; a password-protected drop: `{ id, status, expiresAt, protected: true }`), sent at once and on every change; a `: ping` comment every 15 s. The stream ends on a terminal status, after DROPSHIP_EVENT_STREAM_MAX_MS (an EventSource reconnects) or on shutdown.',
            content: { 'text/event-stream': { schema: Type.String(), example: examples.eventStream } },
          },
          ...errorResponses(...COMMON_ERRORS, 'DROP_NOT_FOUND', 'TOO_MANY_EVENT_STREAMS', 'EVENT_STREAMS_FULL'),
        },
      },
    },
    async (req, reply) => {
      // Caps, the shared poll and shutdown: services/events.ts.
      // A password-protected drop's stream shows its status only (an owner token shows all).
      const stream = await events.admit(req.params.id, clientId(req), (m) => (unlocks.sees(req, m) === 'full' ? dropView(m, base) : protectedView(m)));
      reply.hijack();
      stream.run(reply.raw);
    },
  );
}
