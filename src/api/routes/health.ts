/** Liveness (the process answers) and readiness (S3 bucket and SQS queue reachable). */
import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import { errorResponses, security } from '../schemas/responses.js';

const Check = Type.Object({ ok: Type.Boolean(), ms: Type.Number() });
const Ready = Type.Object({ ok: Type.Boolean(), checks: Type.Object({ s3: Check, sqs: Check }) });

async function timed(fn: () => Promise<unknown>) {
  const t = performance.now();
  try {
    await fn();
    return { ok: true, ms: Math.round(performance.now() - t) };
  } catch {
    return { ok: false, ms: Math.round(performance.now() - t) };
  }
}

export default async function health(app: FastifyInstance) {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['ops'],
        summary: 'Liveness: the process answers',
        operationId: 'getHealth',
        security: security.anonymous,
        response: { 200: Type.Object({ ok: Type.Boolean() }, { description: 'Alive.', examples: [{ ok: true }] }), ...errorResponses('RATE_LIMITED') },
      },
    },
    async () => ({ ok: true }),
  );

  const ready = {
    tags: ['ops'],
    summary: 'Readiness: S3 bucket and SQS queue reachable (each probe timed, at most 3 s)',
    operationId: 'getReadiness',
    security: security.anonymous,
    response: {
      200: { ...Ready, description: 'Ready: both reachable.', examples: [{ ok: true, checks: { s3: { ok: true, ms: 12 }, sqs: { ok: true, ms: 9 } } }] },
      503: { ...Ready, description: 'Not ready: `checks` says which failed.', examples: [{ ok: false, checks: { s3: { ok: true, ms: 12 }, sqs: { ok: false, ms: 3000 } } }] },
      ...errorResponses('RATE_LIMITED'),
    },
  };
  app.get('/readyz', { schema: ready }, async (_req, reply) => {
    const [s3, sqs] = await Promise.all([
      timed(() => app.probes.store(AbortSignal.timeout(3000))),
      timed(() => app.probes.queue(AbortSignal.timeout(3000))),
    ]);
    const ok = s3.ok && sqs.ok;
    return reply.status(ok ? 200 : 503).send({ ok, checks: { s3, sqs } });
  });
}
