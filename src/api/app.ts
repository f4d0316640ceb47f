/**
 * Builds the Fastify application (plugins and routes) without listening, so tests drive it
 * through `inject` or a listening server alike. `server.ts` listens and shuts down.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { createServer } from 'node:http';
import cookie from '@fastify/cookie';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config, WebhookTarget } from '../config.js';
import { createAnnouncer } from '../ports/announcer.js';
import { webhookTargets } from '../core/webhooks.js';
import { redactPasswordsInUrl } from '../core/passwords.js';
import { systemClock, type Clock } from '../ports/clock.js';
import { createManifestRepo } from '../ports/manifests.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { Queue } from '../ports/queue.js';
import type { Signer } from '../ports/signer.js';
import { createDropService, type DropService } from './services/drops.js';
import { OpenTickets } from './services/tickets.js';
import { createStreamService, type StreamStats } from './services/stream.js';
import { createEventStreams, type EventStreams } from './services/events.js';
import { createListing } from './services/listing.js';
import { createUnlocks } from './services/unlock.js';
import { createCollectionService } from './services/collections.js';
import { createCollectionRepo } from '../ports/collections.js';
import { dropView } from './drop-view.js';
import errors from './plugins/errors.js';
import jsonNewline from './plugins/json-newline.js';
import platform from './plugins/platform.js';
import timeouts from './plugins/timeouts.js';
import metrics from './plugins/metrics.js';
import { installValidators } from './plugins/validation.js';
import health from './routes/health.js';
import limitsRoutes from './routes/limits.js';
import dropsRoutes from './routes/drops.js';
import downloadRoutes from './routes/downloads.js';
import webRoutes from './routes/web.js';
import shareRoutes, { ICON, SHARE_ENTRY } from './routes/share.js';
import uppyRoutes from './routes/uppy.js';
import streamRoutes from './routes/stream.js';
import collectionRoutes, { COLLECTION_ENTRY } from './routes/collections.js';
import { webAssets } from './share/assets.js';
import { pagePolicies } from './share/csp.js';
import { renderErrorPage } from './share/page.js';
import { renderCollectionErrorPage } from './share/collection-page.js';

/** What the app depends on: configuration and ports, never SDK clients (src/api/server.ts builds them). */
export interface AppDeps {
  config: Config;
  store: ObjectStore;
  signer: Signer;
  /** Only probed, for readiness. */
  queue: Pick<Queue, 'probe'>;
  /** The webhook deliveries queue (drop.deleted is enqueued by the api); absent: no webhooks from the api. */
  deliveries?: Pick<Queue, 'send'>;
  /** A key's own webhook receivers, by key id (the keys file); default none. */
  webhooksOfKey?: (keyId: string) => WebhookTarget[];
  clock?: Clock;
  logger?: boolean | object;
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    clock: Clock;
    drops: DropService;
    /** Readiness probes of the storage and the queue. */
    probes: { store: ObjectStore['probe']; queue: Queue['probe'] };
    /** Streaming uploads in progress, body bytes received, streams cut for their pace and slots taken from starving ones (also for /metrics). */
    streamStats(): StreamStats;
    /** Server-sent event streams: open streams, drops polled, manifest reads by the polls. */
    events: EventStreams;
  }
}

/**
 * Logged requests name their URL with any password in the query replaced (Uppy's one-request
 * upload carries `metadata[password]` there); bodies and headers are never logged.
 */
function withRedaction(logger: boolean | object): boolean | object {
  if (logger === false) return false;
  const opts = logger === true ? {} : (logger as { serializers?: Record<string, unknown> });
  const req = (r: { method: string; url: string; host?: string; ip?: string; socket?: { remotePort?: number } }) => ({
    method: r.method,
    url: redactPasswordsInUrl(r.url),
    host: r.host,
    remoteAddress: r.ip,
    remotePort: r.socket?.remotePort,
  });
  return { ...opts, serializers: { ...opts.serializers, req } };
}

/** Trust the nearest `n` hops (what Fastify does for a number, which its types do not list). */
const hops = (n: number) => (_addr: string, i: number) => i < n;

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, store, signer } = deps;
  const clock = deps.clock ?? systemClock;
  const app = Fastify({
    logger: withRedaction(deps.logger ?? { level: config.LOG_LEVEL }),
    // 10,000 parts × {partNumber, etag} in one complete call is ~0.6 MB; 2 MiB leaves room.
    bodyLimit: 2 * 1024 * 1024,
    // DROPSHIP_TRUST_PROXY: false (the socket address is the client), a hop count or the proxies' addresses.
    trustProxy: typeof config.trustProxy === 'number' ? hops(config.trustProxy) : config.trustProxy,
    // Slow clients are handled by plugins/timeouts.ts (headers and body deadlines, the
    // streaming routes' idle timeout); Node's whole-request timeout would cut big uploads.
    // Node checks its timeouts every 30 s by default: once a second makes them bite.
    serverFactory: (handler) =>
      createServer(
        { headersTimeout: config.DROPSHIP_HEADERS_TIMEOUT_MS, requestTimeout: 0, connectionsCheckingInterval: 1000 },
        handler,
      ),
    keepAliveTimeout: 72_000,
    return503OnClosing: true,
    // S3 multipart upload ids (in Uppy's /s3/multipart/:uploadId paths) run past the default 100.
    routerOptions: { maxParamLength: 1024 },
  }).withTypeProvider<TypeBoxTypeProvider>();

  installValidators(app);
  app.decorate('config', config);
  app.decorate('clock', clock);
  app.decorate('probes', { store: (signal?: AbortSignal) => store.probe(signal), queue: (signal?: AbortSignal) => deps.queue.probe(signal) });

  const manifests = createManifestRepo(store);
  // Uploads the worker finished (uploading → ready without the api) free their slot when
  // admission rechecks them (services/tickets.ts).
  const tickets = new OpenTickets({ perOwner: config.DROPSHIP_MAX_OPEN_TICKETS, total: config.DROPSHIP_UPLOAD_SLOTS }, clock, async (id) => {
    // No manifest yet: that ticket's creation is still on its way (a failed one releases itself).
    const rec = await manifests.get(id);
    return rec === undefined || rec.manifest.status === 'uploading';
  });
  const announce = deps.deliveries
    ? createAnnouncer({ queue: deps.deliveries, targetsFor: webhookTargets(config.webhooks, deps.webhooksOfKey), publicUrl: config.publicUrl })
    : undefined;
  const drops = createDropService({ config, store, manifests, signer, tickets, clock, ...(announce ? { announce } : {}) });
  app.decorate('drops', drops);
  const events = createEventStreams({
    status: (id) => drops.status(id),
    render: (m) => dropView(m, config.publicUrl),
    limits: {
      perClient: config.DROPSHIP_EVENT_STREAMS_PER_CLIENT,
      total: config.DROPSHIP_EVENT_STREAMS,
      maxMs: config.DROPSHIP_EVENT_STREAM_MAX_MS,
      pingMs: 15_000,
    },
    pollMs: config.DROPSHIP_EVENT_POLL_MS,
    onError: (err) => app.log.warn({ err }, 'event stream poll failed'),
  });
  app.decorate('events', events);
  // Open event streams would hold app.close() (and a deploy) until they end: end them first.
  app.addHook('preClose', async () => events.closeAll());
  const stream = createStreamService({ config, store, manifests, clock });
  app.decorate('streamStats', () => {
    const { active, bytesReceived, cut, evicted } = stream.stats;
    return { active, bytesReceived, cut, evicted };
  });

  const unlocks = createUnlocks({ config, clock });
  const web = webAssets();
  const plainCsp = pagePolicies(config).plain;
  await app.register(cookie);
  // Registered before the newline plugin, so its onSend hook sees the JSON as sent.
  await app.register(errors, {
    renderHtml: (e) =>
      e.code.startsWith('COLLECTION_')
        ? { html: renderCollectionErrorPage({ ...web.entry(COLLECTION_ENTRY), icon: web.file(ICON), scripts: [] }, e), csp: plainCsp }
        : { html: renderErrorPage({ ...web.entry(SHARE_ENTRY), icon: web.file(ICON), scripts: [] }, e), csp: plainCsp },
  });
  await app.register(jsonNewline);
  await app.register(timeouts);
  await app.register(metrics);
  await app.register(platform);
  await app.register(health);
  await app.register(limitsRoutes);
  await app.register(dropsRoutes, { drops, events, listing: createListing({ store, manifests, clock }), unlocks });
  await app.register(downloadRoutes, { drops, unlocks });
  await app.register(webRoutes, { assets: web });
  await app.register(shareRoutes, { drops, assets: web, unlocks });
  await app.register(uppyRoutes, { drops });
  await app.register(streamRoutes, { stream });
  const collections = createCollectionService({
    collections: createCollectionRepo(store),
    drops,
    clock,
    publicUrl: config.publicUrl,
    emptyLifetime: config.DROPSHIP_TICKET_TTL,
    render: (m) => dropView(m, config.publicUrl),
  });
  await app.register(collectionRoutes, { collections, assets: web, unlocks });
  return app;
}
