/** A worker on the run's emulator, built the way src/worker/main.ts builds one. */
import type { Logger } from 'pino';
import { createAwsAdapters } from '../../src/aws/adapters.js';
import type { AwsClients } from '../../src/aws/clients.js';
import type { Config } from '../../src/config.js';
import { systemClock } from '../../src/ports/clock.js';
import { createManifestRepo } from '../../src/ports/manifests.js';
import { createMessageHandler, type MessageHandler } from '../../src/worker/handler.js';
import { startWorker, type RunningWorker } from '../../src/worker/worker.js';

export interface TestWorkerOptions {
  config: Config;
  queueUrl: string;
  log: Logger;
  shutdownGraceMs?: number;
  /** SDK clients to use (e.g. pointed at a fault proxy); closed by the caller. */
  clients?: AwsClients;
  /** Wraps the real handler (to watch outcomes) or replaces it (plumbing tests). */
  handler?: (real: MessageHandler) => MessageHandler;
}

export function startTestWorker(opts: TestWorkerOptions): RunningWorker {
  const aws = createAwsAdapters(opts.config, { queueUrl: opts.queueUrl, ...(opts.clients ? { clients: opts.clients } : {}) });
  const real = createMessageHandler({
    store: aws.store,
    manifests: createManifestRepo(aws.store),
    config: opts.config,
    log: opts.log.child({ part: 'handler' }),
    clock: systemClock,
  });
  const worker = startWorker({
    config: opts.config,
    queue: aws.queue,
    handle: opts.handler ? opts.handler(real) : real,
    log: opts.log,
    ...(opts.shutdownGraceMs !== undefined ? { shutdownGraceMs: opts.shutdownGraceMs } : {}),
  });
  return {
    async stop() {
      await worker.stop();
      if (!opts.clients) aws.close();
    },
  };
}
