/**
 * The external Fastify plugins, configured once: OpenAPI (/openapi.json, UI at /docs),
 * security headers, CORS for browser clients on other origins, and rate limiting that
 * answers 429 with Retry-After in the api's error shape. The limit is kept per verified API
 * key, otherwise per client address (IPv6 by /64): a Bearer string that is not a configured
 * key buys no bucket of its own, so random tokens cannot escape the limit.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import helmet from '@fastify/helmet';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import { clientId, makeKeyCheck } from './auth.js';
import { isPageRequest } from '../../core/clients.js';
import { ErrorBody } from '../schemas/responses.js';
import { OWNER_COOKIE } from '../schemas/uppy.js';

/** The document's front page: how the pieces fit, for someone integrating from it alone. */
const API_DESCRIPTION = `Instant file sharing: the api signs, S3 carries the bytes. A client asks for an upload
ticket, PUTs the file's parts straight to S3 with presigned URLs, and holds a share link before
the last byte lands.

## Upload a file (tag \`drops\`)

1. **Ticket**: \`POST /v1/drops\` with \`{ name, size }\` (optional \`type\`, \`sha256\`, \`expiresIn\`,
   \`maxDownloads\`), \`Authorization: Bearer <API key>\` unless the server allows public uploads.
   The answer (201) holds the drop \`id\`, its \`shareUrl\`, the \`ownerToken\` (shown once: keep it),
   the plan (\`upload.mode\` \`single\` or \`multipart\`, \`partSize\`, \`partCount\`, the deadline
   \`upload.expiresAt\`) and the first signed \`parts\`.
2. **Sign parts in batches**: \`POST /v1/drops/{id}/parts\` with \`{ partNumbers: [...] }\` and
   \`X-Owner-Token\` answers fresh URLs for the parts the ticket did not carry, or whose URL ran out
   (URLs live minutes; the batch size is limited by the server).
3. **PUT each part** to its \`url\`, exactly \`size\` bytes, in parallel and in any order, sending
   every header in the entry's \`headers\` (they are signed; S3 refuses the PUT without them).
   Keep each response's \`ETag\`. A \`single\` upload is one part, whose headers carry
   \`if-none-match: *\`.
4. **Complete**: \`POST /v1/drops/{id}/complete\` (optionally with the \`{ partNumber, etag }\` list)
   checks every part against the plan and completes; the drop becomes \`processing\`, then \`ready\`
   once the worker has verified it. Idempotent: a retry answers the same drop.
5. **Watch**: \`GET /v1/drops/{id}\` (poll) or \`GET /v1/drops/{id}/events\` (server-sent events).

Resume with \`GET /v1/drops/{id}/parts\` (what S3 already holds); abort or delete with
\`DELETE /v1/drops/{id}\` (idempotent).

## Errors

Every error is the \`Error\` schema: \`{ "error": { "code", "message", "details"? } }\`. Branch on
\`code\` (the enum lists every code); \`429\` and \`503\` carry \`Retry-After\`. Any route may also
answer \`429 RATE_LIMITED\` and \`500 INTERNAL\`.

## Other ways in

\`PUT /{name}\` and \`PUT /v1/stream/{name}\` stream a body through the server (tag \`stream\`);
the \`/s3/...\` routes speak Uppy Companion's protocol (tag \`uppy\`). Not listed here: the upload
page (\`GET /\`, \`/assets/*\`: HTML and files for browsers), \`/metrics\` (Prometheus text for
operators) and this document itself (\`/openapi.json\`, UI at \`/docs\`).`;

export default fp(async function platform(app: FastifyInstance) {
  const config = app.config;
  const verifiedKey = makeKeyCheck(config);

  await app.register(helmet, {
    // The api answers JSON and redirects; the share page and SPA set their own stricter CSP.
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:', '*'],
        connectSrc: ["'self'", '*'],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
      },
    },
    crossOriginResourcePolicy: { policy: 'same-site' },
    strictTransportSecurity: config.publicUrl.startsWith('https:'),
  });

  await app.register(cors, {
    origin: config.corsOrigins.includes('*') ? true : config.corsOrigins,
    methods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
    allowedHeaders: ['content-type', 'authorization', 'x-owner-token', 'uppy-versions'],
    exposedHeaders: ['x-drop-id', 'x-owner-token', 'retry-after', 'location'],
    maxAge: 3600,
  });

  await app.register(rateLimit, {
    // Page views (share pages, their thumbnails and files, download links) count in a budget
    // of their own, apart from api calls: one share view is several requests.
    max: (req) => (isPageRequest(req.method, req.url) ? config.DROPSHIP_PAGE_RATE_LIMIT : config.DROPSHIP_RATE_LIMIT),
    timeWindow: 60_000,
    keyGenerator: (req) => `${isPageRequest(req.method, req.url) ? 'page:' : ''}${verifiedKey(req) ?? clientId(req)}`,
    errorResponseBuilder: (_req, ctx) => {
      const err = new Error(`rate limit: at most ${ctx.max} requests per minute; retry in ${ctx.after}`) as Error & {
        statusCode: number;
      };
      err.statusCode = 429;
      return err;
    },
  });

  // The shared error body, published once as #/components/schemas/Error (routes: errorResponses()).
  app.addSchema(ErrorBody);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'dropship',
        version: '1',
        license: { name: 'MIT', identifier: 'MIT' },
        description: API_DESCRIPTION,
      },
      servers: [{ url: config.publicUrl, description: 'This server (DROPSHIP_PUBLIC_URL)' }],
      tags: [
        { name: 'drops', description: 'The native upload api: tickets, part signing, resume, completion, cancellation, status and live status (see the flow above).' },
        { name: 'collections', description: 'One share link for several drops: create a collection, add drops to it (each with its own owner token), read it with every drop\'s public view, delete it (and its drops).' },
        { name: 'stream', description: 'Path B: the body is streamed through the server into S3 (`curl -T file host/`). Raw bytes in, the share URL out as text.' },
        { name: 'share', description: 'What a share link leads to: the HTML share page and the 302 redirects to short-lived presigned downloads and thumbnails.' },
        { name: 'uppy', description: 'Companion-compatible S3 routes, so `@uppy/aws-s3` (v6, `companionEndpoint`) uploads into dropship; every upload becomes a drop. The shapes (`PartNumber`, `ETag`, ...) are Companion\'s, not the native api\'s.' },
        { name: 'ops', description: 'Liveness and readiness for load balancers and orchestrators.' },
      ],
      components: {
        securitySchemes: {
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API key from DROPSHIP_API_KEYS: `Authorization: Bearer <key>`. Needed to create drops unless the server allows public uploads; an unknown key is always refused.',
          },
          ownerToken: {
            type: 'apiKey',
            in: 'header',
            name: 'x-owner-token',
            description: 'The drop\'s owner token (`ownerToken` in the answer that created it, shown once): needed to sign parts, list parts, complete, cancel or delete.',
          },
          uppyOwnerCookie: {
            type: 'apiKey',
            in: 'cookie',
            name: OWNER_COOKIE,
            description: 'HttpOnly cookie holding the owner token, set by `POST /s3/multipart` with `Path=/s3/multipart/{uploadId}` (Uppy sends no custom headers).',
          },
        },
      },
    },
    // Components are named by their $id (`Error`), not def-0, def-1...
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  // The document does not list itself (nor the UI's routes under /docs, which swagger-ui hides).
  app.get('/openapi.json', { schema: { hide: true }, config: { rateLimit: false } }, async () => app.swagger());
});
