/**
 * GET /d/:id — the share page people open from a link: server-rendered HTML with the drop's
 * name, size, type, thumbnail, download button and live status. Unknown ids get a 404 page
 * (HTML too: people, not programs, follow share links).
 *
 * A password-protected drop shows a password form instead, and nothing about the file, until
 * POST /d/:id/unlock sets its unlock cookie (`Path=/d/{id}`, HttpOnly, SameSite=Lax; Secure
 * when the public URL is https) — or, for a program posting JSON, answers the unlock token.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import formbody from '@fastify/formbody';
import { Type } from 'typebox';
import { DropshipError, fail } from '../../core/errors.js';
import { protectedView } from '../../core/drop-view.js';
import { refuseCrossSiteForm } from '../../core/fetch-metadata.js';
import type { Manifest } from '../../core/manifest.js';
import { UNLOCK_COOKIE } from '../../core/unlock.js';
import type { DropService } from '../services/drops.js';
import type { Unlocks } from '../services/unlock.js';
import { dropView } from '../drop-view.js';
import { pagePolicies } from '../share/csp.js';
import { renderLockedPage, renderNotFoundPage, renderSharePage } from '../share/page.js';
import type { WebAssets } from '../share/assets.js';
import { DropParams, UnlockBody, UnlockResponse } from '../schemas/drops.js';
import { COMMON_ERRORS, JSON_BODY_ERRORS, errorResponses, security } from '../schemas/responses.js';
import { clientId } from '../plugins/auth.js';
import { described } from '../schemas/examples.js';

/** The share page's own script and styles in the Vite build (src/web/vite.config.ts). */
export const SHARE_ENTRY = 'share.ts';
export const ICON = 'favicon.svg';

const HtmlPage = (description: string) => ({ description, content: { 'text/html': { schema: Type.String() } } });

const FORM_TYPE = 'application/x-www-form-urlencoded';

export default async function shareRoutes(app: FastifyInstance, opts: { drops: DropService; assets: WebAssets; unlocks: Unlocks }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { drops, assets, unlocks } = opts;
  const csp = pagePolicies(app.config);
  const base = app.config.publicUrl;
  const ownOrigin = new URL(base).origin;
  const secure = base.startsWith('https:');
  // The unlock form's body; registered in this plugin only, so no JSON route takes form bodies.
  await app.register(formbody, { bodyLimit: 4096 });

  const page = () => ({ ...assets.entry(SHARE_ENTRY), icon: assets.file(ICON) });
  const htmlHeaders = (reply: FastifyReply) =>
    reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff');
  /** The password form: no script, form posts to our own origin only. */
  const locked = (reply: FastifyReply, m: Manifest, status: number, error?: string) =>
    htmlHeaders(reply)
      .status(status)
      .header('content-security-policy', csp.locked)
      .send(renderLockedPage(protectedView(m), { ...page(), scripts: [] }, error ? { error } : {}));

  r.get(
    '/d/:id',
    {
      schema: {
        tags: ['share'],
        summary: 'Share page (HTML): name, size, preview, download button, live status',
        // Malformed ids are answered with the same 404 page as unknown ones, so no maxLength 400 here.
        description:
          'For people, not programs: the page a `shareUrl` opens. Programs read `GET /v1/drops/{id}` instead. A password-protected drop shows a password form (and nothing about the file) until unlocked. Rate limiting and storage failures answer the JSON `Error`.',
        operationId: 'sharePage',
        security: security.anonymous,
        params: Type.Object({ id: Type.String({ maxLength: 512, description: 'Drop id' }) }),
        response: {
          200: HtmlPage('The share page (HTML), whatever the drop\'s status; the password form for a protected drop not yet unlocked.'),
          410: HtmlPage('The share page (HTML) of a drop that was deleted (or cancelled) or has expired: it says so, and the link leads to no file.'),
          404: HtmlPage('A "no such drop" page (HTML), for unknown and malformed ids alike.'),
          ...errorResponses('VALIDATION_FAILED', 'RATE_LIMITED', 'STORAGE_UNAVAILABLE', 'STORAGE_BUSY'),
        },
      },
    },
    async (req, reply) => {
      htmlHeaders(reply);
      try {
        const m = await drops.status(req.params.id);
        // A deleted or expired drop is gone for good: 410, still as a page that says so.
        const gone = m.status === 'cancelled' || m.status === 'expired';
        if (unlocks.sees(req, m) === 'protected') return locked(reply, m, gone ? 410 : 200);
        return reply
          .status(gone ? 410 : 200)
          .header('content-security-policy', csp.share)
          .send(renderSharePage(dropView(m, base), page(), { now: app.clock() }));
      } catch (e) {
        if (e instanceof DropshipError && e.code === 'DROP_NOT_FOUND') {
          return reply.status(404).header('content-security-policy', csp.plain).send(renderNotFoundPage({ ...page(), scripts: [] }));
        }
        throw e;
      }
    },
  );

  const isForm = (req: FastifyRequest) => (req.headers['content-type'] ?? '').toLowerCase().startsWith(FORM_TYPE);
  const header = (req: FastifyRequest, name: string) => {
    const v = req.headers[name];
    return typeof v === 'string' ? v : undefined;
  };

  r.post(
    '/d/:id/unlock',
    {
      schema: {
        tags: ['share'],
        summary: 'Unlock a password-protected drop: the share page\'s form, or JSON for programs',
        description:
          'The share page\'s form posts `password` as `application/x-www-form-urlencoded`: a right password answers 303 to the share page with the unlock cookie set, a wrong one the form again with 401. JSON `{ "password" }` answers the `unlockToken` (send it as `X-Unlock-Token`; the cookie is set too). Failed attempts are limited per client and per drop (429 `RATE_LIMITED` with `Retry-After`). A cross-site form post is refused (403 `CROSS_SITE_REFUSED`).',
        operationId: 'unlockDrop',
        security: security.anonymous,
        params: DropParams,
        body: described(UnlockBody, 'The password (form field or JSON).', [{ password: 'correct horse' }]),
        response: {
          200: described(UnlockResponse, 'Unlocked: the token and when it ends; the `dropship_unlock` cookie is set (Path=/d/{id}).', [
            { id: 'V1StGXR8_Z5jdHi6B-myT', unlockToken: '1924992000000.dGhpcyBpcyBub3QgYSByZWFsIHRva2VuIGJ1dCBpdCBmaXRz', expiresAt: '2030-12-31T23:00:00.000Z' },
          ]),
          303: { description: 'The form was right: back to the share page, unlocked (cookie set).', type: 'null' as const },
          ...errorResponses(
            ...COMMON_ERRORS,
            ...JSON_BODY_ERRORS,
            'PASSWORD_INVALID',
            'PASSWORD_WRONG',
            'CROSS_SITE_REFUSED',
            'DROP_NOT_FOUND',
            'DROP_NOT_PROTECTED',
          ),
        },
      },
    },
    async (req, reply) => {
      const form = isForm(req);
      const site = refuseCrossSiteForm(
        {
          ...(header(req, 'sec-fetch-site') !== undefined && { secFetchSite: header(req, 'sec-fetch-site') }),
          ...(header(req, 'origin') !== undefined && { origin: header(req, 'origin') }),
        },
        ownOrigin,
      );
      if (!site.ok) throw fail('CROSS_SITE_REFUSED', site.reason);
      const m = await drops.status(req.params.id).catch((e: unknown) => {
        if (form && e instanceof DropshipError && e.code === 'DROP_NOT_FOUND') return undefined;
        throw e;
      });
      if (!m) {
        return htmlHeaders(reply).status(404).header('content-security-policy', csp.plain).send(renderNotFoundPage({ ...page(), scripts: [] }));
      }
      const sharePage = `/d/${m.id}`;
      if (m.passwordHash === undefined) {
        if (form) return reply.header('cache-control', 'no-store').redirect(sharePage, 303);
        throw fail('DROP_NOT_PROTECTED', 'this drop has no password: read it without unlocking');
      }
      let unlocked: { token: string; expiresAt: Date };
      try {
        unlocked = await unlocks.attempt({ ...m, passwordHash: m.passwordHash }, req.body.password, clientId(req));
      } catch (e) {
        if (form && e instanceof DropshipError && (e.code === 'PASSWORD_WRONG' || e.code === 'RATE_LIMITED')) {
          if (e.retryAfter !== undefined) reply.header('retry-after', String(e.retryAfter));
          const words = e.code === 'PASSWORD_WRONG' ? 'Wrong password. Please try again.' : `Too many attempts. Please wait ${e.retryAfter ?? 60} seconds, then try again.`;
          return locked(reply, m, e.status, words);
        }
        throw e;
      }
      reply.setCookie(UNLOCK_COOKIE, unlocked.token, {
        path: sharePage,
        httpOnly: true,
        sameSite: 'lax',
        secure,
        maxAge: app.config.DROPSHIP_UNLOCK_TTL,
      });
      reply.header('cache-control', 'no-store');
      if (form) return reply.redirect(sharePage, 303);
      return { id: m.id, unlockToken: unlocked.token, expiresAt: unlocked.expiresAt.toISOString() };
    },
  );
}
