/**
 * GET /v1/limits: what an upload may ask for here (largest file, lifetimes, download limit),
 * so a page or a CLI can offer the choices and refuse an oversized file before uploading.
 * No I/O: the configuration and, with a verified API key, that key's policy.
 */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { uploadLimits } from '../../core/limits.js';
import { fail } from '../../core/errors.js';
import { LimitsHeaders, LimitsResponse } from '../schemas/limits.js';
import { errorResponses } from '../schemas/responses.js';
import { makeApiKeyCheck } from '../plugins/auth.js';

export default async function limitsRoutes(app: FastifyInstance) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const config = app.config;
  const apiKey = makeApiKeyCheck(config);
  const server = {
    maxFileSize: config.DROPSHIP_MAX_FILE_SIZE,
    lifetime: { defaultSeconds: config.DROPSHIP_DEFAULT_EXPIRES_IN, maxSeconds: config.DROPSHIP_MAX_EXPIRES_IN },
  };

  r.get(
    '/v1/limits',
    {
      schema: {
        tags: ['drops'],
        operationId: 'getLimits',
        summary: 'What an upload may ask for here: largest file, lifetimes, download limit (the calling key\'s, with one)',
        // Anyone; a key (optional) gets its own limits.
        security: [{}, { apiKey: [] }],
        headers: LimitsHeaders,
        response: {
          200: LimitsResponse,
          ...errorResponses('UNAUTHORIZED', 'RATE_LIMITED'),
        },
      },
    },
    async (req, reply) => {
      const key = apiKey(req);
      // A key that is sent must be one of ours, as everywhere else: its limits would be a guess.
      if (key === null) throw fail('UNAUTHORIZED', 'unknown API key');
      // The answer depends on the key asking: no shared cache may hand it to another.
      reply.header('vary', 'authorization');
      reply.header('cache-control', 'private, max-age=60');
      return {
        ...uploadLimits(server, key),
        passwords: true,
        keyRequired: !config.DROPSHIP_PUBLIC_UPLOADS,
      };
    },
  );
}
