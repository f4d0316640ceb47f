/**
 * The api process: the composition root (config, the AWS adapters behind the ports, where the
 * limits are counted — Redis shared by every replica with DROPSHIP_REDIS_URL, else this
 * process's memory —, the app), listening, and a graceful shutdown on SIGINT/SIGTERM (stop accepting, finish
 * in-flight requests, exit).
 */
import { loadConfig, ConfigError, webhooksForKey } from '../config.js';
import { createAwsAdapters } from '../aws/adapters.js';
import { memorySlots } from '../memory/slots.js';
import { createRedisLimits } from '../redis/index.js';
import { buildApp } from './app.js';

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`dropship api: ${e.message}`);
      process.exit(78); // EX_CONFIG
    }
    throw e;
  }
  const aws = createAwsAdapters(config);
  // Logged through the app's logger once it exists (the client only logs after a failure).
  const sink: { log?: { warn(o: object, m: string): void; info(o: object, m: string): void } } = {};
  const redis = config.DROPSHIP_REDIS_URL
    ? createRedisLimits(config, { warn: (o, m) => sink.log?.warn(o, m), info: (o, m) => sink.log?.info(o, m) })
    : undefined;
  const app = await buildApp({
    config,
    store: aws.store,
    signer: aws.signer,
    queue: aws.queue,
    deliveries: aws.deliveries,
    webhooksOfKey: webhooksForKey(config),
    slots: redis?.slots ?? memorySlots(),
    ...(redis ? { rateLimitRedis: redis.rateLimitRedis } : {}),
  });
  sink.log = app.log;
  app.log.info({ sharedLimits: redis !== undefined }, redis ? 'limits shared by every replica (Redis)' : 'limits counted per replica (no DROPSHIP_REDIS_URL)');
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    await app.close();
    await redis?.close();
    aws.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  await app.listen({ host: config.HOST, port: config.PORT });
}

await main();
