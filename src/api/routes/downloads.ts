/**
 * /d/:id/download and /d/:id/thumb/:w: 302s to short-lived presigned GETs.
 *
 * HEAD /d/:id/download (link unfurlers, chat previews, link checkers) answers what a GET
 * would without counting a download; for a drop with maxDownloads it redirects to the share
 * page instead of a download URL, since a URL nobody counted would be a free download.
 */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { DropService } from '../services/drops.js';
import { DropParams, ErrorResponse } from '../schemas/drops.js';

export default async function downloadRoutes(app: FastifyInstance, opts: { drops: DropService }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { drops } = opts;

  r.get(
    '/d/:id/download',
    {
      schema: {
        tags: ['share'],
        summary: 'Redirect (302) to a short-lived download URL; the file comes as an attachment under its name',
        params: DropParams,
        response: { 302: Type.Null(), 404: ErrorResponse, 409: ErrorResponse, 410: ErrorResponse },
      },
    },
    async (req, reply) => {
      const probe = req.method === 'HEAD';
      const url = (await drops.downloadUrl(req.params.id, { probe })) ?? `${app.config.publicUrl}/d/${req.params.id}`;
      return reply.header('cache-control', 'no-store').redirect(url, 302);
    },
  );

  r.get(
    '/d/:id/thumb/:w',
    {
      schema: {
        tags: ['share'],
        summary: 'Redirect (302) to a thumbnail (WebP)',
        params: Type.Object({ id: DropParams.properties.id, w: Type.Integer({ minimum: 1, maximum: 8192 }) }),
        response: { 302: Type.Null(), 404: ErrorResponse },
      },
    },
    async (req, reply) => {
      const url = await drops.thumbnailUrl(req.params.id, req.params.w);
      return reply.header('cache-control', 'private, max-age=60').redirect(url, 302);
    },
  );
}
