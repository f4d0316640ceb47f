/**
 * Builds the Fastify application (plugins and routes) without listening, so tests drive it
 * through `inject` or a listening server alike. `server.ts` listens and shuts down.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from '../config.js';
import type { AwsClients } from '../aws/clients.js';
import errors from './plugins/errors.js';
import { installValidators } from './plugins/validation.js';
import health from './routes/health.js';

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
    queueUrl(): Promise<string>;
  }
}

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger ?? { level: opts.config.LOG_LEVEL },
    // 10,000 parts × {partNumber, etag} in one complete call is ~0.6 MB; 2 MiB leaves room.
    bodyLimit: 2 * 1024 * 1024,
    trustProxy: false,
    requestIdHeader: false,
    // Slow clients are cut rather than holding sockets (slowloris); the streaming route
    // manages its own idle timeout.
    connectionTimeout: 0,
    requestTimeout: 120_000,
    keepAliveTimeout: 72_000,
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>();

  installValidators(app);
  app.decorate('config', opts.config);
  app.decorate('aws', opts.aws);
  let queueUrl: Promise<string> | undefined = opts.queueUrl ? Promise.resolve(opts.queueUrl) : undefined;
  app.decorate('queueUrl', () => {
    queueUrl ??= import('./queue-url.js').then((m) => m.lookupQueueUrl(opts.aws.sqs, opts.config));
    queueUrl.catch(() => (queueUrl = undefined));
    return queueUrl;
  });

  await app.register(errors);
  await app.register(health);
  return app;
}
