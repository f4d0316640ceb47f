/**
 * Builds the Fastify application (plugins and routes) without listening, so tests drive it
 * through `inject` or a listening server alike. `server.ts` listens and shuts down.
 */
import Fastify, { type FastifyInstance } from 'fastify';
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
import { installValidators } from './plugins/validation.js';
import health from './routes/health.js';
import dropsRoutes from './routes/drops.js';
import downloadRoutes from './routes/downloads.js';

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
  }
}

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const { config, aws } = opts;
  const app = Fastify({
    logger: opts.logger ?? { level: config.LOG_LEVEL },
    // 10,000 parts × {partNumber, etag} in one complete call is ~0.6 MB; 2 MiB leaves room.
    bodyLimit: 2 * 1024 * 1024,
    trustProxy: false,
    // A client must send its whole request (headers and body) within this time; the
    // streaming route has its own idle timeout instead. Cuts slowloris connections.
    requestTimeout: 120_000,
    connectionTimeout: 0,
    keepAliveTimeout: 72_000,
    return503OnClosing: true,
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
  const drops = createDropService({
    config,
    store,
    manifests: createManifestRepo(store),
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

  await app.register(errors);
  await app.register(platform);
  await app.register(health);
  await app.register(dropsRoutes, { drops });
  await app.register(downloadRoutes, { drops });
  return app;
}
