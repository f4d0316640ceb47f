/** /v1/drops: tickets, part signing, resume, completion, cancellation, status, live status. */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { isTerminal, uploadDeadline } from '../../core/manifest.js';
import { dropView } from '../drop-view.js';
import type { DropService } from '../services/drops.js';
import type { EventStreams } from '../services/events.js';
import {
  CompleteBody,
  CreateDropBody,
  CreateDropResponse,
  DropParams,
  DropView,
  ErrorResponse,
  PartsBody,
  PartsResponse,
  UploadedPartsResponse,
} from '../schemas/drops.js';
import { clientId, makeUploaderCheck, ownerToken } from '../plugins/auth.js';

const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ErrorResponse]));
const OwnerHeader = Type.Object({ 'x-owner-token': Type.Optional(Type.String({ description: 'The drop\'s owner token.' })) });

export default async function dropsRoutes(app: FastifyInstance, opts: { drops: DropService; events: EventStreams }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { drops, events } = opts;
  const base = app.config.publicUrl;
  const uploader = makeUploaderCheck(app.config);

  r.post(
    '/v1/drops',
    {
      schema: {
        tags: ['drops'],
        summary: 'Create a drop: an upload ticket with its first part URLs and the share link',
        body: CreateDropBody,
        response: { 201: CreateDropResponse, ...errors(400, 401, 413, 429, 503) },
      },
    },
    async (req, reply) => {
      const who = uploader(req);
      const { manifest, ownerToken: token, parts } = await drops.create({ ...req.body, owner: who.id });
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
        params: DropParams,
        headers: OwnerHeader,
        body: PartsBody,
        response: { 200: PartsResponse, ...errors(400, 401, 403, 404, 409, 410) },
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
        params: DropParams,
        headers: OwnerHeader,
        response: { 200: UploadedPartsResponse, ...errors(401, 403, 404, 409, 410) },
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
        params: DropParams,
        headers: OwnerHeader,
        body: CompleteBody,
        response: { 200: DropView, ...errors(400, 401, 403, 404, 409, 410) },
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
        params: DropParams,
        headers: OwnerHeader,
        response: { 200: DropView, ...errors(401, 403, 404) },
      },
    },
    async (req) => dropView(await drops.cancel(req.params.id, ownerToken(req)), base),
  );

  r.get(
    '/v1/drops/:id',
    {
      schema: {
        tags: ['drops'],
        summary: 'Status of a drop (anyone holding the id)',
        params: DropParams,
        response: { 200: DropView, ...errors(404, 410) },
      },
    },
    async (req, reply) => {
      const m = await drops.status(req.params.id);
      reply.header('cache-control', isTerminal(m.status) ? 'public, max-age=5' : 'no-store');
      return dropView(m, base);
    },
  );

  r.get(
    '/v1/drops/:id/events',
    {
      schema: {
        tags: ['drops'],
        summary: 'Server-sent events: `status` with the drop view on every change, until ready/failed/cancelled/expired',
        params: DropParams,
        produces: ['text/event-stream'],
        response: { 404: ErrorResponse, 429: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (req, reply) => {
      // Caps, the shared poll and shutdown: services/events.ts.
      const stream = await events.admit(req.params.id, clientId(req));
      reply.hijack();
      stream.run(reply.raw);
    },
  );
}
