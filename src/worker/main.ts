/**
 * The worker process: the composition root for the queue consumer. It builds the AWS
 * adapters, long-polls the queue that S3 notifies, hands each message to the handler, and on
 * SIGINT/SIGTERM stops polling and lets in-flight messages finish (past the 25 s grace period
 * they are handed back to the queue; the 30 s timer below is the last resort). Scale by
 * running more of these processes. Every DROPSHIP_SWEEP_INTERVAL seconds it also runs the
 * retention sweep (sweeper.ts), which deletes expired drops. The same handler also runs as an AWS Lambda: see
 * lambda.ts and docs/worker.md.
 */
import pino from 'pino';
import { loadConfig, ConfigError } from '../config.js';
import { createAwsAdapters } from '../aws/adapters.js';
import { createManifestRepo } from '../ports/manifests.js';
import { systemClock } from '../ports/clock.js';
import { createMessageHandler } from './handler.js';
import { createSweep, startSweeper } from './sweeper.js';
import { startWorker } from './worker.js';

let config;
try {
  config = loadConfig();
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(`dropship worker: ${e.message}`);
    process.exit(78);
  }
  throw e;
}
const log = pino({ level: config.LOG_LEVEL, base: { proc: 'worker' } });
const aws = createAwsAdapters(config);
const queueUrl = await aws.queue.url();
const manifests = createManifestRepo(aws.store);
const handle = createMessageHandler({
  store: aws.store,
  manifests,
  config,
  log: log.child({ part: 'handler' }),
  clock: systemClock,
});
const worker = startWorker({ config, queue: aws.queue, handle, log });
// The retention sweep: deletes expired drops (every worker may run it; see sweeper.ts).
const sweeper =
  config.DROPSHIP_SWEEP_INTERVAL > 0
    ? startSweeper(createSweep({ store: aws.store, manifests, clock: systemClock, log: log.child({ part: 'sweep' }) }), {
        intervalMs: config.DROPSHIP_SWEEP_INTERVAL * 1000,
        log: log.child({ part: 'sweep' }),
      })
    : undefined;
log.info({ queueUrl, concurrency: config.DROPSHIP_WORKER_CONCURRENCY, sweepInterval: config.DROPSHIP_SWEEP_INTERVAL }, 'worker consuming');

let closing = false;
const shutdown = async (signal: string) => {
  if (closing) return;
  closing = true;
  log.info({ signal }, 'worker shutting down: finishing in-flight messages');
  const force = setTimeout(() => process.exit(1), 30_000);
  force.unref();
  await Promise.all([worker.stop(), sweeper?.stop()]);
  aws.close();
  process.exit(0);
};
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));
