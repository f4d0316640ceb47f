/**
 * /v1/collections: one share link for several drops — create, add a drop, read, delete — and
 * GET /c/:id, the collection's page for people (every file, live status, Download all).
 * Creating one needs what creating a drop needs; changing one needs its owner token, and
 * adding a drop also that drop's own token.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DropshipError, fail } from '../../core/errors.js';
import { protectedCollectionView, type Collection } from '../../core/collections.js';
import { refuseCrossSiteForm } from '../../core/fetch-metadata.js';
import { UNLOCK_COOKIE } from '../../core/unlock.js';
import { UnlockBody, UnlockResponse } from '../schemas/drops.js';
import type { Unlocks } from '../services/unlock.js';
import { renderLockedPage } from '../share/page.js';
import { described, examples } from '../schemas/examples.js';
import {
  CollectionDeleted,
  CollectionParams,
  CollectionReaderView,
  CollectionView,
  CreateCollectionBody,
  CreateCollectionResponse,
  DropRef,
} from '../schemas/collections.js';
import { COMMON_ERRORS, JSON_BODY_ERRORS, errorResponses, security } from '../schemas/responses.js';
import { clientId, makeUploaderCheck, ownerToken } from '../plugins/auth.js';
import type { CollectionService } from '../services/collections.js';
import type { WebAssets } from '../share/assets.js';
import { pagePolicies } from '../share/csp.js';
import { renderCollectionErrorPage, renderCollectionPage } from '../share/collection-page.js';

/** The collection page's script and styles in the Vite build (src/web/vite.config.ts). */
export const COLLECTION_ENTRY = 'collection.ts';
const ICON = 'favicon.svg';

const OwnerHeader = Type.Object({ 'x-owner-token': Type.Optional(Type.String({ description: 'The collection\'s owner token.' })) });
const ReaderHeaders = Type.Object({
  'x-owner-token': Type.Optional(Type.String({ description: 'The collection\'s owner token: shows a password-protected collection.' })),
  'x-unlock-token': Type.Optional(Type.String({ description: 'The `unlockToken` of POST /c/{id}/unlock: shows a password-protected collection.' })),
});
const FORM_TYPE = 'application/x-www-form-urlencoded';
const HtmlPage = (description: string) => ({ description, content: { 'text/html': { schema: Type.String() } } });

export default async function collectionRoutes(app: FastifyInstance, opts: { collections: CollectionService; assets: WebAssets; unlocks: Unlocks }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { collections, assets, unlocks } = opts;
  const base = app.config.publicUrl;
  const uploader = makeUploaderCheck(app.config);
  const csp = pagePolicies(app.config);
  // The unlock form's body; registered in this plugin only.
  await app.register(formbody, { bodyLimit: 4096 });
  const pageAssets = () => ({ ...assets.entry(COLLECTION_ENTRY), icon: assets.file(ICON) });
  const htmlHeaders = (reply: FastifyReply) =>
    reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').header('x-content-type-options', 'nosniff');
  /** The password form of a protected collection: no title, no drops, no script. */
  const locked = (reply: FastifyReply, c: Collection, status: number, error?: string) =>
    htmlHeaders(reply)
      .status(status)
      .header('content-security-policy', csp.locked)
      .send(renderLockedPage(protectedCollectionView(c), { ...pageAssets(), scripts: [] }, { kind: 'collection', ...(error ? { error } : {}) }));
  const errorPage = (reply: FastifyReply, e: DropshipError) =>
    htmlHeaders(reply)
      .status(e.status)
      .header('content-security-policy', csp.plain)
      .send(renderCollectionErrorPage({ ...pageAssets(), scripts: [] }, { status: e.status, code: e.code, message: e.message }));

  r.post(
    '/v1/collections',
    {
      schema: {
        tags: ['collections'],
        summary: 'Create a collection: one share link for several drops (optionally with its first drops)',
        operationId: 'createCollection',
        security: security.uploader(app.config.DROPSHIP_PUBLIC_UPLOADS),
        body: described(CreateCollectionBody, 'A title, and drops to put in it now (each with its own owner token).', examples.createCollection),
        response: {
          201: described(CreateCollectionResponse, 'The collection: keep `ownerToken` to add drops or delete it.', examples.collectionCreated),
          ...errorResponses(
            ...COMMON_ERRORS,
            ...JSON_BODY_ERRORS,
            'PASSWORD_INVALID',
            'UNAUTHORIZED',
            'OWNER_TOKEN_INVALID',
            'DROP_NOT_FOUND',
            'DROP_NOT_ADDABLE',
            'COLLECTION_FULL',
            'STORAGE_BUSY',
          ),
        },
      },
    },
    async (req, reply) => {
      const who = uploader(req);
      const { collection, ownerToken: token } = await collections.create({
        title: req.body.title,
        drops: req.body.drops,
        keyId: who.key?.id,
        password: req.body.password,
      });
      reply.header('cache-control', 'no-store');
      return reply.status(201).send({ id: collection.id, shareUrl: `${base}/c/${collection.id}`, ownerToken: token });
    },
  );

  r.post(
    '/v1/collections/:id/drops',
    {
      schema: {
        tags: ['collections'],
        summary: 'Add a drop to a collection (its owner token and the drop\'s); idempotent',
        operationId: 'addToCollection',
        security: security.owner,
        params: CollectionParams,
        headers: OwnerHeader,
        body: described(DropRef, 'The drop and its own owner token.', examples.addToCollection),
        response: {
          200: described(CollectionView, 'The collection with the drop in it (once, however often it is added).', examples.collectionView),
          ...errorResponses(
            ...COMMON_ERRORS,
            ...JSON_BODY_ERRORS,
            'UNAUTHORIZED',
            'OWNER_TOKEN_INVALID',
            'COLLECTION_NOT_FOUND',
            'DROP_NOT_FOUND',
            'DROP_NOT_ADDABLE',
            'COLLECTION_FULL',
            'COLLECTION_DELETED',
            'COLLECTION_EXPIRED',
            'STORAGE_BUSY',
          ),
        },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      return collections.addDrop(req.params.id, ownerToken(req), req.body);
    },
  );

  r.get(
    '/v1/collections/:id',
    {
      schema: {
        tags: ['collections'],
        summary: 'A collection: its title and every drop as the public sees it, in the order added (a password-protected one: only its id and expiry until unlocked)',
        operationId: 'getCollection',
        security: security.anonymous,
        params: CollectionParams,
        headers: ReaderHeaders,
        response: {
          200: described(
            CollectionReaderView,
            'The collection as anyone holding its id sees it; a password-protected one `{ id, expiresAt, protected: true }` unless the caller holds its owner token, is the key that created it or sends an `X-Unlock-Token`.',
            examples.collectionView,
          ),
          ...errorResponses(...COMMON_ERRORS, 'COLLECTION_NOT_FOUND', 'COLLECTION_DELETED', 'COLLECTION_EXPIRED', 'STORAGE_BUSY'),
        },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store').header('vary', 'authorization, x-owner-token, x-unlock-token');
      const c = await collections.live(req.params.id);
      return unlocks.seesCollection(req, c) === 'full' ? collections.view(c) : protectedCollectionView(c);
    },
  );

  r.delete(
    '/v1/collections/:id',
    {
      schema: {
        tags: ['collections'],
        summary: 'Delete a collection and every drop in it; idempotent',
        operationId: 'deleteCollection',
        security: security.owner,
        params: CollectionParams,
        headers: OwnerHeader,
        response: {
          200: described(CollectionDeleted, 'Deleted: the collection and its drops answer 410 from now on.', examples.collectionDeleted),
          ...errorResponses(...COMMON_ERRORS, ...JSON_BODY_ERRORS, 'UNAUTHORIZED', 'OWNER_TOKEN_INVALID', 'COLLECTION_NOT_FOUND', 'STORAGE_BUSY'),
        },
      },
    },
    async (req) => ({ ...(await collections.remove(req.params.id, ownerToken(req))), status: 'deleted' as const }),
  );

  r.get(
    '/c/:id',
    {
      schema: {
        tags: ['share'],
        summary: 'Collection page (HTML): every file with its size, preview and live status, per-file downloads and Download all',
        description:
          'For people, not programs: the page a collection\'s `shareUrl` opens. Programs read `GET /v1/collections/{id}`. Unknown, deleted and expired collections get an HTML page with the status (404, 410).',
        operationId: 'collectionPage',
        security: security.anonymous,
        // Malformed ids get the same 404 page as unknown ones.
        params: Type.Object({ id: Type.String({ maxLength: 512, description: 'Collection id' }) }),
        response: {
          200: HtmlPage('The collection page (HTML).'),
          404: HtmlPage('A "no such collection" page (HTML), for unknown and malformed ids alike.'),
          410: HtmlPage('A "deleted" or "expired" page (HTML).'),
          ...errorResponses('VALIDATION_FAILED', 'RATE_LIMITED', 'STORAGE_UNAVAILABLE', 'STORAGE_BUSY'),
        },
      },
    },
    async (req, reply) => {
      htmlHeaders(reply);
      try {
        const c = await collections.live(req.params.id);
        if (unlocks.seesCollection(req, c) === 'protected') return locked(reply, c, 200);
        return reply.header('content-security-policy', csp.collection).send(renderCollectionPage(await collections.view(c), pageAssets()));
      } catch (e) {
        if (e instanceof DropshipError && (e.status === 404 || e.status === 410)) return errorPage(reply, e);
        throw e;
      }
    },
  );

  const header = (req: FastifyRequest, name: string) => {
    const v = req.headers[name];
    return typeof v === 'string' ? v : undefined;
  };

  r.post(
    '/c/:id/unlock',
    {
      schema: {
        tags: ['share'],
        summary: 'Unlock a password-protected collection: the collection page\'s form, or JSON for programs',
        description:
          'As `POST /d/{id}/unlock`, for a collection: the form answers 303 to `/c/{id}` with the `dropship_unlock` cookie (`Path=/c/{id}`), a wrong password the form again with 401; JSON answers the `unlockToken` (send it as `X-Unlock-Token` to `GET /v1/collections/{id}`). Attempts are limited per client and per collection (429 with `Retry-After`).',
        operationId: 'unlockCollection',
        security: security.anonymous,
        params: CollectionParams,
        body: described(UnlockBody, 'The password (form field or JSON).', [{ password: 'correct horse' }]),
        response: {
          200: described(UnlockResponse, 'Unlocked: the token and when it ends; the cookie is set (Path=/c/{id}).'),
          303: { description: 'The form was right: back to the collection page, unlocked (cookie set).', type: 'null' as const },
          ...errorResponses(
            ...COMMON_ERRORS,
            ...JSON_BODY_ERRORS,
            'PASSWORD_INVALID',
            'PASSWORD_WRONG',
            'CROSS_SITE_REFUSED',
            'COLLECTION_NOT_FOUND',
            'COLLECTION_DELETED',
            'COLLECTION_EXPIRED',
            'DROP_NOT_PROTECTED',
          ),
        },
      },
    },
    async (req, reply) => {
      const form = (req.headers['content-type'] ?? '').toLowerCase().startsWith(FORM_TYPE);
      const site = refuseCrossSiteForm(
        {
          ...(header(req, 'sec-fetch-site') !== undefined && { secFetchSite: header(req, 'sec-fetch-site') }),
          ...(header(req, 'origin') !== undefined && { origin: header(req, 'origin') }),
        },
        new URL(base).origin,
      );
      if (!site.ok) throw fail('CROSS_SITE_REFUSED', site.reason);
      let c: Collection;
      try {
        c = await collections.live(req.params.id);
      } catch (e) {
        if (form && e instanceof DropshipError && (e.status === 404 || e.status === 410)) return errorPage(reply, e);
        throw e;
      }
      const page = `/c/${c.id}`;
      if (c.passwordHash === undefined) {
        if (form) return reply.header('cache-control', 'no-store').redirect(page, 303);
        throw fail('DROP_NOT_PROTECTED', 'this collection has no password: read it without unlocking');
      }
      let unlocked: { token: string; expiresAt: Date };
      try {
        unlocked = await unlocks.attempt(c, req.body.password, clientId(req));
      } catch (e) {
        if (form && e instanceof DropshipError && (e.code === 'PASSWORD_WRONG' || e.code === 'RATE_LIMITED')) {
          if (e.retryAfter !== undefined) reply.header('retry-after', String(e.retryAfter));
          const words = e.code === 'PASSWORD_WRONG' ? 'Wrong password. Please try again.' : `Too many attempts. Please wait ${e.retryAfter ?? 60} seconds, then try again.`;
          return locked(reply, c, e.status, words);
        }
        throw e;
      }
      reply.setCookie(UNLOCK_COOKIE, unlocked.token, {
        path: page,
        httpOnly: true,
        sameSite: 'lax',
        secure: base.startsWith('https:'),
        maxAge: app.config.DROPSHIP_UNLOCK_TTL,
      });
      reply.header('cache-control', 'no-store');
      if (form) return reply.redirect(page, 303);
      return { id: c.id, unlockToken: unlocked.token, expiresAt: unlocked.expiresAt.toISOString() };
    },
  );
}
