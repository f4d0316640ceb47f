/**
 * Webhook deliveries: the consumer of the deliveries queue, apart from the S3-event consumer
 * (its own lanes, DROPSHIP_WEBHOOK_CONCURRENCY), so a slow or dead receiver never holds up a
 * thumbnail, and one message per (event, receiver), so it never holds up another receiver.
 *
 * Each message is one attempt: look the receiver up again (its secret is never in the queue;
 * one removed from the configuration is not called any more), sign the unchanged body with
 * the stable webhook-id and the attempt's timestamp (Standard Webhooks, `standardwebhooks`),
 * POST it with a DROPSHIP_WEBHOOK_TIMEOUT_MS deadline and no redirects followed. A 2xx
 * deletes the message; anything else leaves it hidden for the schedule's next delay
 * (DROPSHIP_WEBHOOK_RETRY_SCHEDULE) and, once that is spent, the queue's redrive policy moves
 * it to the deliveries DLQ, which the worker watches (`watchDeadLetters`).
 *
 * A message sent before the state it announces was written (the api's delete) is delivered
 * only once the manifest confirms it; until then it is sent again, delayed, a bounded number
 * of times (`confirmDecision` in src/core/webhooks.ts).
 */
import type { Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import type { Config, WebhookEventType } from '../config.js';
import type { Clock } from '../ports/clock.js';
import type { ManifestRepo } from '../ports/manifests.js';
import type { Queue } from '../ports/queue.js';
import { done, retry, skipped, type Outcome } from '../core/processing.js';
import {
  CONFIRM_DELAY_SECONDS,
  confirmDecision,
  deliveryRetryDelay,
  deliveryVerdict,
  parseDeliveryMessage,
  type Receiver,
  type ReceiverScope,
  type WebhookEvent,
} from '../core/webhooks.js';
import { startWorker, type RunningWorker } from './worker.js';
import type { MessageHandler } from './handler.js';

// The configuration's event names and the core's are one list.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const webhookEventsMatchConfig: Same<WebhookEventType, WebhookEvent> = true;

export interface DeliveryDeps {
  manifests: Pick<ManifestRepo, 'get'>;
  /** The receiver as configured now; undefined when it is no longer configured. */
  receiver: (scope: ReceiverScope, url: string) => Receiver | undefined;
  /** Puts a message back on the deliveries queue, delayed (confirmation pending). */
  requeue: (body: string, delaySeconds: number) => Promise<unknown>;
  timeoutMs: number;
  clock: Clock;
  log: Pick<Logger, 'info' | 'warn'>;
  fetch?: typeof fetch;
}

/** Finds a configured receiver by scope and URL: the global list, or a key's own (by key id). */
export function receiverLookup(global: readonly Receiver[], byKey: (keyId: string) => readonly Receiver[] = () => []) {
  return (scope: ReceiverScope, url: string): Receiver | undefined => {
    const list = scope === 'global' ? global : byKey(scope.slice('key:'.length));
    return list.find((r) => r.url === url);
  };
}

export function createDeliveryHandler(deps: DeliveryDeps): MessageHandler {
  const send = deps.fetch ?? fetch;
  return async function deliver(text: string): Promise<Outcome> {
    const parsed = parseDeliveryMessage(text);
    if (!parsed.ok) {
      deps.log.warn({ reason: parsed.reason, body: text.slice(0, 300) }, 'invalid delivery message dropped');
      return skipped(`invalid delivery message: ${parsed.reason}`);
    }
    const msg = parsed.message;
    const fields = { webhookId: msg.id, dropId: msg.dropId, event: msg.event, url: msg.receiver.url };

    if (msg.confirm) {
      const rec = await deps.manifests.get(msg.dropId);
      const decision = confirmDecision(msg, rec?.manifest.status);
      if (decision.action === 'wait') {
        await deps.requeue(JSON.stringify(decision.next), CONFIRM_DELAY_SECONDS);
        return done(`awaiting confirmation (drop is ${rec?.manifest.status}); sent again`);
      }
      if (decision.action === 'drop') {
        deps.log.info({ ...fields, reason: decision.reason }, 'webhook not sent');
        return skipped(decision.reason);
      }
    }

    const receiver = deps.receiver(msg.receiver.scope, msg.receiver.url);
    if (!receiver || !receiver.events.includes(msg.event)) {
      deps.log.info(fields, 'webhook receiver no longer configured for this event; delivery dropped');
      return skipped('receiver no longer configured');
    }
    const at = deps.clock();
    const started = Date.now();
    let answer: { status: number } | { error: string };
    try {
      const signature = new Webhook(receiver.secret).sign(msg.id, at, msg.body);
      const res = await send(receiver.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'dropship-webhooks',
          'webhook-id': msg.id,
          'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
          'webhook-signature': signature,
        },
        body: msg.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(deps.timeoutMs),
      });
      // Nothing of the answer but its status matters; free the connection.
      await res.body?.cancel().catch(() => {});
      answer = { status: res.status };
    } catch (e) {
      const err = e as Error;
      answer = { error: err?.name === 'TimeoutError' ? `no answer within ${deps.timeoutMs} ms` : `${err?.name ?? 'Error'}: ${err?.message ?? String(e)}` };
    }
    const verdict = deliveryVerdict(answer);
    const logged = { ...fields, ms: Date.now() - started, result: verdict.reason };
    if (verdict.delivered) {
      deps.log.info(logged, 'webhook delivered');
      return done(`delivered: ${verdict.reason}`);
    }
    deps.log.warn(logged, 'webhook attempt failed');
    return retry(verdict.reason);
  };
}

export type DeliverySettings = Pick<
  Config,
  'DROPSHIP_WEBHOOK_CONCURRENCY' | 'DROPSHIP_WEBHOOK_TIMEOUT_MS' | 'DROPSHIP_WORKER_WAIT_TIME' | 'webhookRetrySchedule'
>;

/** The deliveries consumer: the worker's queue loop with its own lanes, visibility and retry schedule. */
export function startDeliveries(opts: {
  config: DeliverySettings;
  queue: Queue;
  handle: MessageHandler;
  log: Logger;
  shutdownGraceMs?: number;
}): RunningWorker {
  const c = opts.config;
  const schedule = c.webhookRetrySchedule;
  return startWorker({
    config: {
      DROPSHIP_WORKER_CONCURRENCY: c.DROPSHIP_WEBHOOK_CONCURRENCY,
      // An attempt never takes longer than its timeout; the heartbeat covers the rest.
      DROPSHIP_WORKER_VISIBILITY_TIMEOUT: Math.max(10, Math.ceil(c.DROPSHIP_WEBHOOK_TIMEOUT_MS / 1000) * 3),
      DROPSHIP_WORKER_RETRY_DELAY: 0,
      DROPSHIP_WORKER_WAIT_TIME: c.DROPSHIP_WORKER_WAIT_TIME,
    },
    queue: opts.queue,
    handle: opts.handle,
    log: opts.log,
    retryDelay: (n) => deliveryRetryDelay(n, schedule),
    ...(opts.shutdownGraceMs !== undefined ? { shutdownGraceMs: opts.shutdownGraceMs } : {}),
  });
}

/** Logs the deliveries DLQ's depth every `intervalMs` (a warning when deliveries have been given up). */
export function watchDeadLetters(dlq: Pick<Queue, 'size'>, opts: { intervalMs: number; log: Pick<Logger, 'warn' | 'debug'> }): { stop(): void } {
  let last = -1;
  const check = async () => {
    try {
      const depth = await dlq.size();
      if (depth > 0) opts.log.warn({ dlqDepth: depth }, 'webhook deliveries in the dead-letter queue');
      else if (last !== 0) opts.log.debug({ dlqDepth: 0 }, 'webhook dead-letter queue empty');
      last = depth;
    } catch (err) {
      opts.log.warn({ err }, 'could not read the webhook dead-letter queue depth');
    }
  };
  void check();
  const timer = setInterval(() => void check(), opts.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
