/**
 * The api process: the composition root (config, the AWS adapters behind the ports, the
 * app), listening, and a graceful shutdown on SIGINT/SIGTERM (stop accepting, finish
 * in-flight requests, exit).
 */
import { loadConfig, ConfigError, webhooksForKey } from '../config.js';
import { createAwsAdapters } from '../aws/adapters.js';
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
  const app = await buildApp({ config, store: aws.store, signer: aws.signer, queue: aws.queue, deliveries: aws.deliveries, webhooksOfKey: webhooksForKey(config) });
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    await app.close();
    aws.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  await app.listen({ host: config.HOST, port: config.PORT });
}

await main();
