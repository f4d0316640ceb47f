/**
 * /v1/collections: one share link for several drops — create, add a drop, read, delete — and
 * GET /c/:id, the collection's page for people (every file, live status, Download all).
 * Creating one needs what creating a drop needs; changing one needs its owner token, and
 * adding a drop also that drop's own token.
 */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DropshipError } from '../../core/errors.js';
import { described, examples } from '../schemas/examples.js';
import { CollectionDeleted, CollectionParams, CollectionView, CreateCollectionBody, CreateCollectionResponse, DropRef } from '../schemas/collections.js';
import { COMMON_ERRORS, JSON_BODY_ERRORS, errorResponses, security } from '../schemas/responses.js';
import { makeUploaderCheck, ownerToken } from '../plugins/auth.js';
import type { CollectionService } from '../services/collections.js';
import type { WebAssets } from '../share/assets.js';
import { pagePolicies } from '../share/csp.js';
import { renderCollectionErrorPage, renderCollectionPage } from '../share/collection-page.js';

/** The collection page's script and styles in the Vite build (src/web/vite.config.ts). */
export const COLLECTION_ENTRY = 'collection.ts';
const ICON = 'favicon.svg';

const OwnerHeader = Type.Object({ 'x-owner-token': Type.Optional(Type.String({ description: 'The collection\'s owner token.' })) });
const HtmlPage = (description: string) => ({ description, content: { 'text/html': { schema: Type.String() } } });

export default async function collectionRoutes(app: FastifyInstance, opts: { collections: CollectionService; assets: WebAssets }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { collections, assets } = opts;
  const base = app.config.publicUrl;
  const uploader = makeUploaderCheck(app.config);
  const csp = pagePolicies(app.config);

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
      const { collection, ownerToken: token } = await collections.create({ title: req.body.title, drops: req.body.drops, keyId: who.key?.id });
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
        summary: 'A collection: its title and every drop as the public sees it, in the order added',
        operationId: 'getCollection',
        security: security.anonymous,
        params: CollectionParams,
        response: {
          200: described(CollectionView, 'The collection as anyone holding its id sees it.', examples.collectionView),
          ...errorResponses(...COMMON_ERRORS, 'COLLECTION_NOT_FOUND', 'COLLECTION_DELETED', 'COLLECTION_EXPIRED', 'STORAGE_BUSY'),
        },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      return collections.get(req.params.id);
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
      reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('x-content-type-options', 'nosniff');
      const page = { ...assets.entry(COLLECTION_ENTRY), icon: assets.file(ICON) };
      try {
        const v = await collections.get(req.params.id);
        return reply.header('content-security-policy', csp.collection).send(renderCollectionPage(v, page));
      } catch (e) {
        if (e instanceof DropshipError && (e.status === 404 || e.status === 410)) {
          return reply
            .status(e.status)
            .header('content-security-policy', csp.plain)
            .send(renderCollectionErrorPage({ ...page, scripts: [] }, { status: e.status, code: e.code, message: e.message }));
        }
        throw e;
      }
    },
  );
}
