/**
 * Prometheus metrics at /metrics (prom-client): request latency by route and status,
 * process metrics, and gauges read at scrape time from the services (streaming uploads in
 * progress, streamed bytes, event streams). Each app gets its own registry, so tests can
 * build many apps. With DROPSHIP_METRICS_TOKEN set, /metrics answers only
 * `Authorization: Bearer <token>` (401 otherwise); unset, it is public.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { fail } from '../../core/errors.js';
import { bearerKey } from './auth.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

export default fp(async function metrics(app: FastifyInstance) {
  const registry = new Registry();
  // prom-client samples event-loop delay every 10 ms by default: a timer wake-up 100 times a
  // second that cost an idle api ~7-10 ms of CPU per second on the 2-core bench machine
  // (npm run bench; a third of the api's CPU during a 1 GiB direct upload). Every 100 ms
  // still catches any stall that matters and costs ~1 ms per second.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  const duration = new Histogram({
    name: 'dropship_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
    registers: [registry],
  });
  const started = new WeakMap<object, bigint>();
  app.addHook('onRequest', async (req) => {
    started.set(req, process.hrtime.bigint());
  });
  app.addHook('onResponse', async (req, reply) => {
    const t = started.get(req);
    if (t === undefined) return;
    // The route pattern, not the URL: ids must not become label values.
    const route = req.routeOptions.url ?? 'unmatched';
    duration.observe({ method: req.method, route, status: String(reply.statusCode) }, Number(process.hrtime.bigint() - t) / 1e9);
  });

  new Gauge({
    name: 'dropship_stream_uploads_active',
    help: 'Streaming (curl) uploads in progress',
    registers: [registry],
    collect() {
      this.set(app.streamStats().active);
    },
  });
  new Counter({
    name: 'dropship_stream_bytes_received_total',
    help: 'Body bytes received by the streaming route',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(app.streamStats().bytesReceived);
    },
  });

  const token = app.config.DROPSHIP_METRICS_TOKEN ? digest(app.config.DROPSHIP_METRICS_TOKEN) : undefined;
  new Counter({
    name: 'dropship_stream_uploads_cut_total',
    help: 'Streaming uploads cut for their pace (too slow, too long), displaced starving streams included',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(app.streamStats().cut);
    },
  });
  new Gauge({
    name: 'dropship_event_streams_open',
    help: 'Server-sent event streams open',
    registers: [registry],
    collect() {
      this.set(app.events.stats().open);
    },
  });

  // Hidden from the OpenAPI document: Prometheus text for operators' scrapers, not an api to
  // integrate with (the document's front page says so).
  app.get('/metrics', { schema: { hide: true }, config: { rateLimit: false } }, async (req, reply) => {
    if (token) {
      const sent = bearerKey(req);
      if (!sent || !timingSafeEqual(digest(sent), token)) {
        reply.header('www-authenticate', 'Bearer realm="metrics"');
        throw fail('UNAUTHORIZED', 'metrics need Authorization: Bearer <DROPSHIP_METRICS_TOKEN>');
      }
    }
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
});
