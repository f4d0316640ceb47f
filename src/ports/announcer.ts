/**
 * Announcing a drop's event to its webhook receivers: one message per subscribed receiver on
 * the deliveries queue (built by src/core/webhooks.ts), sent through any Queue. The worker
 * (ready, failed), the sweep (expired) and the api (deleted) all announce through this; the
 * worker's delivery consumer (src/worker/deliveries.ts) signs and sends them.
 *
 * `announce` resolves once the queue holds every message and throws if any send failed:
 * callers keep their own work retryable until then (see docs/webhooks.md, crash safety).
 */
import { deliveriesFor, type ScopedReceiver, type WebhookEvent } from '../core/webhooks.js';
import type { Manifest } from '../core/manifest.js';
import type { Queue } from './queue.js';

export interface Announcer {
  /** Sends the event's deliveries; resolves with how many were sent. */
  announce(event: WebhookEvent, m: Manifest, opts?: { at?: Date; confirm?: boolean; delaySeconds?: number }): Promise<number>;
}

/** Announces nothing: for processes with no webhooks configured and tests that do not look. */
export const silentAnnouncer: Announcer = { announce: async () => 0 };

export function createAnnouncer(deps: {
  queue: Pick<Queue, 'send'>;
  /** The receivers of a drop (`webhookTargets(global, byKey)` from src/core/webhooks.ts). */
  targetsFor: (m: Manifest) => ScopedReceiver[];
  /** DROPSHIP_PUBLIC_URL: the links in the payload start with it. */
  publicUrl: string;
}): Announcer {
  return {
    async announce(event, m, opts = {}) {
      const messages = deliveriesFor(event, m, deps.targetsFor(m), deps.publicUrl, opts);
      await Promise.all(
        messages.map((d) => deps.queue.send(JSON.stringify(d), opts.delaySeconds ? { delaySeconds: opts.delaySeconds } : {})),
      );
      return messages.length;
    },
  };
}
