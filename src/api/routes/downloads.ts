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
import type { Unlocks } from '../services/unlock.js';
import { DropParams } from '../schemas/drops.js';
import { COMMON_ERRORS, errorResponses, security } from '../schemas/responses.js';

const Redirect = (description: string) => ({
  description,
  type: 'null' as const,
  headers: { location: { type: 'string', format: 'uri', description: 'Where to go: a presigned URL that lives minutes.' } },
});

/** A protected drop's file and thumbnails need its unlock cookie (or `X-Unlock-Token`) or owner token. */
const UnlockHeaders = Type.Object({
  'x-unlock-token': Type.Optional(Type.String({ description: 'The `unlockToken` of POST /d/{id}/unlock (browsers send the `dropship_unlock` cookie instead).' })),
  'x-owner-token': Type.Optional(Type.String({ description: 'The drop\'s owner token, which always unlocks.' })),
});

export default async function downloadRoutes(app: FastifyInstance, opts: { drops: DropService; unlocks: Unlocks }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { drops, unlocks } = opts;

  r.get(
    '/d/:id/download',
    {
      schema: {
        tags: ['share'],
        summary: 'Redirect (302) to a short-lived download URL; the file comes as an attachment under its name',
        description:
          'Not JSON: a 302 whose `Location` is a presigned S3 GET (`Content-Disposition: attachment`, the sniffed type). For a drop with `maxDownloads`, each 302 to the file counts one download. A password-protected drop answers 401 `PASSWORD_REQUIRED` until unlocked (its `dropship_unlock` cookie, `X-Unlock-Token` or `X-Owner-Token`). `HEAD` answers what a `GET` would without counting; for a limited drop it redirects to the share page instead.',
        operationId: 'downloadDrop',
        security: security.anonymous,
        params: DropParams,
        headers: UnlockHeaders,
        response: {
          302: Redirect('To the file (or, for `HEAD` of a limited drop, to the share page).'),
          ...errorResponses(...COMMON_ERRORS, 'PASSWORD_REQUIRED', 'DROP_NOT_FOUND', 'DROP_NOT_READY', 'DROP_EXPIRED', 'DOWNLOAD_LIMIT_REACHED', 'STORAGE_BUSY'),
        },
      },
    },
    async (req, reply) => {
      const probe = req.method === 'HEAD';
      const guard = (m: Parameters<Unlocks['requireAccess']>[1]) => unlocks.requireAccess(req, m);
      const url = (await drops.downloadUrl(req.params.id, { probe, guard })) ?? `${app.config.publicUrl}/d/${req.params.id}`;
      return reply.header('cache-control', 'no-store').redirect(url, 302);
    },
  );

  r.get(
    '/d/:id/thumb/:w',
    {
      schema: {
        tags: ['share'],
        summary: 'Redirect (302) to a thumbnail (WebP)',
        description: 'Not JSON: a 302 to a presigned GET of an `image/webp` thumbnail. `w` is one of the `thumbnails[].width` of the drop view.',
        operationId: 'getThumbnail',
        security: security.anonymous,
        params: Type.Object({ id: DropParams.properties.id, w: Type.Integer({ minimum: 1, maximum: 8192, description: 'Thumbnail width in pixels', examples: [256] }) }),
        headers: UnlockHeaders,
        response: {
          302: Redirect('To the thumbnail.'),
          ...errorResponses(...COMMON_ERRORS, 'PASSWORD_REQUIRED', 'DROP_NOT_FOUND', 'THUMBNAIL_NOT_FOUND', 'DROP_EXPIRED'),
        },
      },
    },
    async (req, reply) => {
      const url = await drops.thumbnailUrl(req.params.id, req.params.w, (m) => unlocks.requireAccess(req, m));
      return reply.header('cache-control', 'private, max-age=60').redirect(url, 302);
    },
  );
}
