/**
 * Slow-client guards. Node's own requestTimeout would also cut a legitimate multi-GiB
 * streaming upload, so it is off; instead:
 * - headers must arrive within DROPSHIP_HEADERS_TIMEOUT_MS (Node's headersTimeout, checked
 *   every second — see the server factory in app.ts);
 * - every route but the streaming ones must have its whole body within
 *   DROPSHIP_BODY_TIMEOUT_MS, measured from the request's start to the handler;
 * - idle keep-alive sockets close after the keep-alive timeout;
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

export default fp(async function timeouts(app: FastifyInstance) {
  const deadline = app.config.DROPSHIP_BODY_TIMEOUT_MS;
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
      }, deadline),
    );
  });
  app.addHook('preHandler', async (req) => clear(req));
  app.addHook('onResponse', async (req) => clear(req));
  app.addHook('onRequestAbort', async (req) => clear(req));
});
