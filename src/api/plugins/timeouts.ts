/**
 * Slow-client guards. Node's own requestTimeout would also cut a legitimate multi-GiB
 * streaming upload, so it is off; instead:
 * - headers must arrive within HEADERS_TIMEOUT (Node's headersTimeout);
 * - every route but the streaming ones must have its whole body within BODY_DEADLINE,
 *   measured from the first byte of the request to the handler;
 * - idle keep-alive sockets close after KEEP_ALIVE;
 * - the streaming routes have their own idle timeout (services/stream.ts).
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route reads its body as a stream for as long as the client keeps sending. */
    streaming?: boolean;
  }
}

export const HEADERS_TIMEOUT_MS = 20_000;
export const BODY_DEADLINE_MS = 30_000;

export default fp(async function timeouts(app: FastifyInstance) {
  app.server.headersTimeout = HEADERS_TIMEOUT_MS;
  app.server.requestTimeout = 0;
  const timers = new WeakMap<object, NodeJS.Timeout>();
  const clear = (req: object) => {
    clearTimeout(timers.get(req));
    timers.delete(req);
  };
  app.addHook('onRequest', async (req) => {
    if (req.routeOptions.config?.streaming) return;
    timers.set(
      req,
      setTimeout(() => {
        req.log.info('request body too slow: connection cut');
        req.raw.destroy();
      }, BODY_DEADLINE_MS),
    );
  });
  app.addHook('preHandler', async (req) => clear(req));
  app.addHook('onResponse', async (req) => clear(req));
  app.addHook('onRequestAbort', async (req) => clear(req));
});
