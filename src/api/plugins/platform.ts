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
    max: config.DROPSHIP_RATE_LIMIT,
    timeWindow: 60_000,
    keyGenerator: (req) => verifiedKey(req) ?? clientId(req),
    errorResponseBuilder: (_req, ctx) => {
      const err = new Error(`rate limit: at most ${ctx.max} requests per minute; retry in ${ctx.after}`) as Error & {
        statusCode: number;
      };
      err.statusCode = 429;
      return err;
    },
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'dropship',
        version: '1',
        description: 'Instant file sharing: presigned multipart uploads straight to S3.',
      },
      tags: [
        { name: 'drops', description: 'Upload tickets, parts, completion, status' },
        { name: 'share', description: 'Share links and downloads' },
        { name: 'ops', description: 'Health and readiness' },
        { name: 'uppy', description: 'Companion-compatible S3 routes for @uppy/aws-s3 (docs/uppy.md)' },
      ],
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer' },
          ownerToken: { type: 'apiKey', in: 'header', name: 'X-Owner-Token' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true }, config: { rateLimit: false } }, async () => app.swagger());
});
