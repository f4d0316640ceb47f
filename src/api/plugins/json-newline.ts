/**
 * Every JSON body ends with a newline, so `curl host/v1/drops/ID` leaves the shell prompt on
 * a line of its own (as curl-friendly services do). onSend runs before Content-Length is
 * set, so the length stays right; streams (SSE, downloads) are left alone.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export default fp(async function jsonNewline(app: FastifyInstance) {
  app.addHook('onSend', async (_req, reply, payload) => {
    if (typeof payload !== 'string' || payload.endsWith('\n')) return payload;
    const type = reply.getHeader('content-type');
    return typeof type === 'string' && /^application\/(?:[\w.+-]+\+)?json\b/i.test(type) ? `${payload}\n` : payload;
  });
});
