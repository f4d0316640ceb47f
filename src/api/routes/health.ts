/** Liveness (the process answers) and readiness (S3 bucket and SQS queue reachable). */
import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';

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
    { schema: { tags: ['ops'], response: { 200: Type.Object({ ok: Type.Boolean() }) } } },
    async () => ({ ok: true }),
  );

  app.get('/readyz', { schema: { tags: ['ops'], response: { 200: Ready, 503: Ready } } }, async (_req, reply) => {
    const [s3, sqs] = await Promise.all([
      timed(() => app.probes.store(AbortSignal.timeout(3000))),
      timed(() => app.probes.queue(AbortSignal.timeout(3000))),
    ]);
    const ok = s3.ok && sqs.ok;
    return reply.status(ok ? 200 : 503).send({ ok, checks: { s3, sqs } });
  });
}
