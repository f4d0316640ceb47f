/**
 * The api process: the composition root (config, AWS clients, app), listening, and a
 * graceful shutdown on SIGINT/SIGTERM (stop accepting, finish in-flight requests, exit).
 */
import { loadConfig, ConfigError } from '../config.js';
import { createAwsClients, destroyAwsClients } from '../aws/clients.js';
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
  const aws = createAwsClients(config);
  const app = await buildApp({ config, aws });
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    await app.close();
    destroyAwsClients(aws);
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  await app.listen({ host: config.HOST, port: config.PORT });
}

await main();
