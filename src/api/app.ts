/**
 * Builds the Fastify application (plugins and routes) without listening, so tests drive it
 * through `inject` or a listening server alike. `server.ts` listens and shuts down.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { createServer } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from '../config.js';
import type { AwsClients } from '../aws/clients.js';
import { createObjectStore } from '../aws/store.js';
import { createManifestRepo } from '../aws/manifests.js';
import { createSigner, credentialsOf } from '../aws/signer.js';
import { OpenTickets } from '../core/tickets.js';
import { createDropService, type DropService } from './services/drops.js';
import errors from './plugins/errors.js';
import platform from './plugins/platform.js';
import timeouts from './plugins/timeouts.js';
import metrics from './plugins/metrics.js';
import { installValidators } from './plugins/validation.js';
import health from './routes/health.js';
import dropsRoutes from './routes/drops.js';
import downloadRoutes from './routes/downloads.js';
import webRoutes from './routes/web.js';
import shareRoutes from './routes/share.js';
import uppyRoutes from './routes/uppy.js';
import { webAssets } from './share/assets.js';
import streamRoutes from './routes/stream.js';
import { createStreamService } from './services/stream.js';

export interface AppOptions {
  config: Config;
  aws: AwsClients;
  /** Queue URL when already known (provisioning returns it); otherwise looked up by name. */
  queueUrl?: string;
  logger?: boolean | object;
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    aws: AwsClients;
    drops: DropService;
    queueUrl(): Promise<string>;
    /** Streaming uploads in progress and body bytes received (also for /metrics). */
    streamStats(): { active: number; bytesReceived: number };
  }
}

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const { config, aws } = opts;
  const app = Fastify({
    logger: opts.logger ?? { level: config.LOG_LEVEL },
    // 10,000 parts × {partNumber, etag} in one complete call is ~0.6 MB; 2 MiB leaves room.
    bodyLimit: 2 * 1024 * 1024,
    trustProxy: false,
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
  app.decorate('aws', aws);
  let queueUrl: Promise<string> | undefined = opts.queueUrl ? Promise.resolve(opts.queueUrl) : undefined;
  app.decorate('queueUrl', () => {
    queueUrl ??= import('./queue-url.js').then((m) => m.lookupQueueUrl(aws.sqs, config));
    queueUrl.catch(() => (queueUrl = undefined));
    return queueUrl;
  });

  const store = createObjectStore(aws.s3, config.DROPSHIP_BUCKET);
  const manifests = createManifestRepo(store);
  const drops = createDropService({
    config,
    store,
    manifests,
    signer: createSigner({
      bucket: config.DROPSHIP_BUCKET,
      region: config.AWS_REGION,
      endpoint: config.AWS_ENDPOINT_URL || undefined,
      pathStyle: config.s3PathStyle,
      credentials: credentialsOf(aws.s3),
    }),
    tickets: new OpenTickets({ perOwner: config.DROPSHIP_MAX_OPEN_TICKETS, total: config.DROPSHIP_UPLOAD_SLOTS }),
  });
  app.decorate('drops', drops);
  const stream = createStreamService({ config, store, manifests });
  app.decorate('streamStats', () => ({ ...stream.stats }));

  await app.register(errors);
  await app.register(timeouts);
  await app.register(metrics);
  await app.register(platform);
  await app.register(health);
  await app.register(dropsRoutes, { drops });
  await app.register(downloadRoutes, { drops });
  const web = webAssets();
  await app.register(webRoutes, { assets: web });
  await app.register(shareRoutes, { drops, assets: web });
  await app.register(uppyRoutes, { drops });
  await app.register(streamRoutes, { stream });
  return app;
}
