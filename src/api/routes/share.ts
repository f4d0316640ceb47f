/**
 * GET /d/:id — the share page people open from a link: server-rendered HTML with the drop's
 * name, size, type, thumbnail, download button and live status. Unknown ids get a 404 page
 * (HTML too: people, not programs, follow share links).
 */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DropshipError } from '../../core/errors.js';
import type { DropService } from '../services/drops.js';
import { dropView } from '../drop-view.js';
import { pagePolicies } from '../share/csp.js';
import { renderNotFoundPage, renderSharePage } from '../share/page.js';
import type { WebAssets } from '../share/assets.js';
import { errorResponses, security } from '../schemas/responses.js';

/** The share page's own script and styles in the Vite build (src/web/vite.config.ts). */
export const SHARE_ENTRY = 'share.ts';
export const ICON = 'favicon.svg';

const HtmlPage = (description: string) => ({ description, content: { 'text/html': { schema: Type.String() } } });

export default async function shareRoutes(app: FastifyInstance, opts: { drops: DropService; assets: WebAssets }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { drops, assets } = opts;
  const csp = pagePolicies(app.config);
  const base = app.config.publicUrl;

  r.get(
    '/d/:id',
    {
      schema: {
        tags: ['share'],
        summary: 'Share page (HTML): name, size, preview, download button, live status',
        // Malformed ids are answered with the same 404 page as unknown ones, so no maxLength 400 here.
        description:
          'For people, not programs: the page a `shareUrl` opens. Programs read `GET /v1/drops/{id}` instead. Rate limiting and storage failures answer the JSON `Error`.',
        operationId: 'sharePage',
        security: security.anonymous,
        params: Type.Object({ id: Type.String({ maxLength: 512, description: 'Drop id' }) }),
        response: {
          200: HtmlPage('The share page (HTML) of a drop that is uploading, processing, ready or failed.'),
          410: HtmlPage('The share page (HTML) of a drop that was deleted (or cancelled) or has expired: it says so, and the link leads to no file.'),
          404: HtmlPage('A "no such drop" page (HTML), for unknown and malformed ids alike.'),
          ...errorResponses('VALIDATION_FAILED', 'RATE_LIMITED', 'STORAGE_UNAVAILABLE', 'STORAGE_BUSY'),
        },
      },
    },
    async (req, reply) => {
      reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('x-content-type-options', 'nosniff');
      const page = { ...assets.entry(SHARE_ENTRY), icon: assets.file(ICON) };
      try {
        const m = await drops.status(req.params.id);
        // A deleted or expired drop is gone for good: 410, still as a page that says so.
        const gone = m.status === 'cancelled' || m.status === 'expired';
        return reply
          .status(gone ? 410 : 200)
          .header('content-security-policy', csp.share)
          .send(renderSharePage(dropView(m, base), page));
      } catch (e) {
        if (e instanceof DropshipError && e.code === 'DROP_NOT_FOUND') {
          return reply.status(404).header('content-security-policy', csp.plain).send(renderNotFoundPage({ ...page, scripts: [] }));
        }
        throw e;
      }
    },
  );
}
