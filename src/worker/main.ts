/**
 * The worker process: the composition root for the queue consumer. It builds the AWS
 * adapters, long-polls the queue that S3 notifies, hands each message to the handler, and on
 * SIGINT/SIGTERM stops polling and lets in-flight messages finish (past the 25 s grace period
 * they are handed back to the queue; the 30 s timer below is the last resort). Scale by
 * running more of these processes. Every DROPSHIP_SWEEP_INTERVAL seconds it also runs the
 * retention sweep (sweeper.ts), which deletes expired drops. It also consumes the webhook
 * deliveries queue with a loop and lanes of its own (deliveries.ts), and watches the
 * deliveries DLQ's depth. The same handlers also run as an AWS Lambda: see lambda.ts and
 * docs/worker.md.
 */
import pino from 'pino';
import { loadConfig, ConfigError, webhooksForKey } from '../config.js';
import { createAwsAdapters } from '../aws/adapters.js';
import { createManifestRepo } from '../ports/manifests.js';
import { systemClock } from '../ports/clock.js';
import { createMessageHandler } from './handler.js';
import { createSweep, startSweeper } from './sweeper.js';
import { startWorker } from './worker.js';
import { createAnnouncer } from '../ports/announcer.js';
import { webhookTargets } from '../core/webhooks.js';
import { createDeliveryHandler, receiverLookup, startDeliveries, watchDeadLetters } from './deliveries.js';

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
// Per-key receivers come from the keys file; until it exists, keys have none.
const webhooksOfKey = webhooksForKey(config);
const announce = createAnnouncer({
  queue: aws.deliveries,
  targetsFor: webhookTargets(config.webhooks, webhooksOfKey),
  publicUrl: config.publicUrl,
});
const handle = createMessageHandler({
  store: aws.store,
  manifests,
  config,
  log: log.child({ part: 'handler' }),
  clock: systemClock,
  announce,
});
const worker = startWorker({ config, queue: aws.queue, handle, log });
const deliveryLog = log.child({ part: 'deliveries' });
const deliveries = startDeliveries({
  config,
  queue: aws.deliveries,
  handle: createDeliveryHandler({
    manifests,
    receiver: receiverLookup(config.webhooks, webhooksOfKey),
    requeue: (body, delaySeconds) => aws.deliveries.send(body, { delaySeconds }),
    timeoutMs: config.DROPSHIP_WEBHOOK_TIMEOUT_MS,
    clock: systemClock,
    log: deliveryLog,
  }),
  log: deliveryLog,
});
const deadLetters =
  config.DROPSHIP_WEBHOOK_DLQ_CHECK_INTERVAL > 0
    ? watchDeadLetters(aws.deliveriesDlq, { intervalMs: config.DROPSHIP_WEBHOOK_DLQ_CHECK_INTERVAL * 1000, log: deliveryLog })
    : undefined;
// The retention sweep: deletes expired drops (every worker may run it; see sweeper.ts).
const sweeper =
  config.DROPSHIP_SWEEP_INTERVAL > 0
    ? startSweeper(createSweep({ store: aws.store, manifests, clock: systemClock, log: log.child({ part: 'sweep' }), announce }), {
        intervalMs: config.DROPSHIP_SWEEP_INTERVAL * 1000,
        log: log.child({ part: 'sweep' }),
      })
    : undefined;
log.info(
  {
    queueUrl,
    concurrency: config.DROPSHIP_WORKER_CONCURRENCY,
    sweepInterval: config.DROPSHIP_SWEEP_INTERVAL,
    webhooks: config.webhooks.length,
    deliveryConcurrency: config.DROPSHIP_WEBHOOK_CONCURRENCY,
  },
  'worker consuming',
);

let closing = false;
const shutdown = async (signal: string) => {
  if (closing) return;
  closing = true;
  log.info({ signal }, 'worker shutting down: finishing in-flight messages');
  const force = setTimeout(() => process.exit(1), 30_000);
  force.unref();
  deadLetters?.stop();
  await Promise.all([worker.stop(), deliveries.stop(), sweeper?.stop()]);
  aws.close();
  process.exit(0);
};
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));
