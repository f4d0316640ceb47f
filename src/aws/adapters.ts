/**
 * Every port over AWS, built once per process from the configuration: what a composition
 * root (src/api/server.ts, src/worker/main.ts, src/worker/lambda.ts, tests) hands to the
 * program. `close()` releases the SDK clients' sockets.
 */
import type { Config } from '../config.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { Queue } from '../ports/queue.js';
import type { Signer } from '../ports/signer.js';
import { createAwsClients, destroyAwsClients, type AwsClients } from './clients.js';
import { createQueue } from './queue.js';
import { createSigner, credentialsOf } from './signer.js';
import { createObjectStore } from './store.js';

export interface AwsAdapters {
  store: ObjectStore;
  signer: Signer;
  queue: Queue & { url(): Promise<string> };
  /** The webhook deliveries queue and its dead-letter queue. */
  deliveries: Queue & { url(): Promise<string> };
  deliveriesDlq: Queue & { url(): Promise<string> };
  /** The SDK clients, for provisioning and tests that inspect AWS directly. */
  clients: AwsClients;
  close(): void;
}

export function createAwsAdapters(config: Config, opts: { queueUrl?: string; clients?: AwsClients } = {}): AwsAdapters {
  const clients = opts.clients ?? createAwsClients(config);
  return {
    store: createObjectStore(clients.s3, config.DROPSHIP_BUCKET),
    signer: createSigner({
      bucket: config.DROPSHIP_BUCKET,
      region: config.AWS_REGION,
      endpoint: config.AWS_ENDPOINT_URL || undefined,
      pathStyle: config.s3PathStyle,
      credentials: credentialsOf(clients.s3),
      s3: clients.s3,
    }),
    queue: createQueue(clients.sqs, {
      ...((opts.queueUrl ?? config.DROPSHIP_QUEUE_URL) ? { url: opts.queueUrl ?? config.DROPSHIP_QUEUE_URL } : {}),
      name: config.DROPSHIP_QUEUE_NAME,
    }),
    deliveries: createQueue(clients.sqs, {
      ...(config.DROPSHIP_DELIVERIES_QUEUE_URL ? { url: config.DROPSHIP_DELIVERIES_QUEUE_URL } : {}),
      name: config.DROPSHIP_DELIVERIES_QUEUE_NAME,
    }),
    deliveriesDlq: createQueue(clients.sqs, { name: config.DROPSHIP_DELIVERIES_DLQ_NAME }),
    clients,
    close: () => destroyAwsClients(clients),
  };
}
