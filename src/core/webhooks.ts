// Webhook decisions that need no I/O: which receivers hear of which event, the message that
// carries one delivery through the deliveries queue, its stable webhook-id, the body, the
// retry schedule, and what answer counts as delivered. The worker signs and sends
// (src/worker/deliveries.ts); test/unit/webhooks.test.ts covers what is here.
//
// One message per (event, receiver): a slow or dead receiver only ever delays its own
// deliveries. The message names its receiver (scope + URL), never its secret — the secret is
// looked up when the delivery is made, so secrets never sit in the queue and a rotated one
// is used from the next attempt on.

import { createHash } from 'node:crypto';
import { dropView, type DropView } from './drop-view.js';
import { dropExpiry, type Manifest } from './manifest.js';

export const WEBHOOK_EVENT_TYPES = ['drop.ready', 'drop.failed', 'drop.deleted', 'drop.expired'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENT_TYPES)[number];

/** A receiver as configured (DROPSHIP_WEBHOOKS, or a key's `webhooks`). */
export interface Receiver {
  url: string;
  /** `whsec_<base64>`. */
  secret: string;
  events: readonly WebhookEvent[];
}

/** Where a receiver was configured: `global` (DROPSHIP_WEBHOOKS) or `key:<id>` (that API key's). */
export type ReceiverScope = 'global' | `key:${string}`;

export interface ScopedReceiver {
  scope: ReceiverScope;
  receiver: Receiver;
}

/** The receivers of one drop: the global ones, then those of the key that created it (`keyId`). */
export function receiversOf(
  m: Pick<Manifest, 'keyId'>,
  global: readonly Receiver[],
  byKey: (keyId: string) => readonly Receiver[],
): ScopedReceiver[] {
  const out: ScopedReceiver[] = global.map((receiver) => ({ scope: 'global' as const, receiver }));
  if (m.keyId !== undefined) {
    for (const receiver of byKey(m.keyId)) out.push({ scope: `key:${m.keyId}`, receiver });
  }
  return out;
}

/**
 * `targetsFor(manifest)`: the receivers told of a drop, from the global list and a lookup of a
 * key's own receivers by key id (today's keys carry none: `() => []`).
 */
export function webhookTargets(global: readonly Receiver[], byKey: (keyId: string) => readonly Receiver[] = () => []) {
  return function targetsFor(m: Pick<Manifest, 'keyId'>): ScopedReceiver[] {
    return receiversOf(m, global, byKey);
  };
}

const b64url = (s: string) => createHash('sha256').update(s).digest('base64url');

/** A receiver's identity in ids: its scope and URL (not its secret, which may be rotated). */
export function receiverRef(scope: ReceiverScope, url: string): string {
  return b64url(`${scope}\n${url}`).slice(0, 22);
}

/**
 * The `webhook-id` of one event of one drop to one receiver. Derived, never random: every
 * retry and every duplicate enqueue of the same delivery carries the same id, which is what
 * receivers de-duplicate on.
 */
export function webhookId(dropId: string, event: WebhookEvent, scope: ReceiverScope, url: string): string {
  return `msg_${b64url(`${dropId}\n${event}\n${receiverRef(scope, url)}`).slice(0, 32)}`;
}

/** The drop view a webhook carries: the public view plus the creator's metadata, when there is some. */
export type WebhookData = DropView & { metadata?: Record<string, string> };

export interface WebhookBody {
  type: WebhookEvent;
  timestamp: string;
  data: WebhookData;
}

/**
 * When the event happened, read from the manifest so a duplicate enqueue renders the same
 * body: ready → readyAt; failed → the failing write (updatedAt); expired → the end of the
 * lifetime; deleted → the cancel's time, which the api passes (it announces before writing).
 */
export function eventTime(event: WebhookEvent, m: Manifest, at?: Date): string {
  if (at) return at.toISOString();
  if (event === 'drop.ready' && m.readyAt) return m.readyAt;
  if (event === 'drop.expired') {
    const end = dropExpiry(m);
    if (end !== undefined) return new Date(end).toISOString();
  }
  return m.updatedAt;
}

export function webhookBody(event: WebhookEvent, m: Manifest, base: string, at?: Date): WebhookBody {
  const data: WebhookData = dropView(m, base);
  if (m.metadata !== undefined) data.metadata = { ...m.metadata };
  return { type: event, timestamp: eventTime(event, m, at), data };
}

/** One delivery on the deliveries queue. */
export interface DeliveryMessage {
  v: 1;
  /** The webhook-id. */
  id: string;
  event: WebhookEvent;
  dropId: string;
  receiver: { scope: ReceiverScope; url: string };
  /** The exact body sent (and signed) on every attempt. */
  body: string;
  /**
   * Set when the message was sent before the state it announces was written (the api's
   * cancel): the consumer delivers only once the manifest confirms it. `tries` counts the
   * checks that found it not yet written.
   */
  confirm?: { status: 'cancelled'; tries: number };
}

/**
 * The messages announcing `event` for drop `m`: one per receiver subscribed to it. `at` is
 * the event's time when the manifest does not hold it yet (cancel).
 */
export function deliveriesFor(
  event: WebhookEvent,
  m: Manifest,
  receivers: readonly ScopedReceiver[],
  base: string,
  opts: { at?: Date; confirm?: boolean } = {},
): DeliveryMessage[] {
  const subscribed = receivers.filter((r) => r.receiver.events.includes(event));
  if (!subscribed.length) return [];
  const body = JSON.stringify(webhookBody(event, m, base, opts.at));
  return subscribed.map(({ scope, receiver }) => ({
    v: 1 as const,
    id: webhookId(m.id, event, scope, receiver.url),
    event,
    dropId: m.id,
    receiver: { scope, url: receiver.url },
    body,
    ...(opts.confirm ? { confirm: { status: 'cancelled' as const, tries: 0 } } : {}),
  }));
}

/** The event a settled status announces (ready, failed); others announce nothing from the worker. */
export function settledEvent(status: Manifest['status']): WebhookEvent | undefined {
  return status === 'ready' ? 'drop.ready' : status === 'failed' ? 'drop.failed' : undefined;
}

/** The sweep announces drop.expired for every drop it deletes, except those their owner deleted (told as drop.deleted). */
export function expiryAnnounced(m: Pick<Manifest, 'status'>): boolean {
  return m.status !== 'cancelled';
}

export function parseDeliveryMessage(text: string): { ok: true; message: DeliveryMessage } | { ok: false; reason: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const m = v as Partial<DeliveryMessage> | null;
  if (!m || typeof m !== 'object' || m.v !== 1) return { ok: false, reason: 'not a delivery message (v 1)' };
  if (typeof m.id !== 'string' || typeof m.dropId !== 'string' || typeof m.body !== 'string') return { ok: false, reason: 'id, dropId or body missing' };
  if (!WEBHOOK_EVENT_TYPES.includes(m.event as WebhookEvent)) return { ok: false, reason: `unknown event ${String(m.event)}` };
  const r = m.receiver;
  if (!r || typeof r.url !== 'string' || (r.scope !== 'global' && !(typeof r.scope === 'string' && r.scope.startsWith('key:')))) {
    return { ok: false, reason: 'receiver missing' };
  }
  return { ok: true, message: m as DeliveryMessage };
}

/** What an attempt's answer means: 2xx delivered; anything else (3xx included: redirects are not followed) is retried. */
export function deliveryVerdict(answer: { status: number } | { error: string }): { delivered: boolean; reason: string } {
  if ('error' in answer) return { delivered: false, reason: answer.error };
  const s = answer.status;
  if (s >= 200 && s < 300) return { delivered: true, reason: `HTTP ${s}` };
  if (s >= 300 && s < 400) return { delivered: false, reason: `HTTP ${s}: redirects are not followed` };
  return { delivered: false, reason: `HTTP ${s}` };
}

/**
 * Seconds a delivery waits after its `receiveCount`-th attempt failed: the schedule's entry,
 * and 0 once the schedule is spent — the next receive then moves the message to the
 * dead-letter queue (its maxReceiveCount is the schedule's length + 1, `deliveriesMaxReceiveCount`).
 */
export function deliveryRetryDelay(receiveCount: number, schedule: readonly number[]): number {
  const n = Number.isSafeInteger(receiveCount) && receiveCount > 0 ? receiveCount : 1;
  return n <= schedule.length ? schedule[n - 1]! : 0;
}

/** The deliveries queue's maxReceiveCount: the first attempt plus one per scheduled retry. */
export function deliveriesMaxReceiveCount(schedule: readonly number[]): number {
  return schedule.length + 1;
}

/** Checks before a cancel is confirmed (api announces, then writes); spaced by CONFIRM_DELAY_SECONDS. */
export const CONFIRM_TRIES = 6;
export const CONFIRM_DELAY_SECONDS = 5;

/** A message awaiting confirmation, given the manifest's current status (undefined: no manifest). */
export function confirmDecision(
  message: DeliveryMessage,
  status: Manifest['status'] | undefined,
): { action: 'deliver' } | { action: 'wait'; next: DeliveryMessage } | { action: 'drop'; reason: string } {
  const c = message.confirm;
  if (!c) return { action: 'deliver' };
  // Cancelled, expired since, or purged by the sweep after the cancel: the cancel happened.
  if (status === undefined || status === 'cancelled' || status === 'expired') return { action: 'deliver' };
  if (c.tries + 1 >= CONFIRM_TRIES) return { action: 'drop', reason: `the drop is still ${status}: the delete was never recorded` };
  return { action: 'wait', next: { ...message, confirm: { ...c, tries: c.tries + 1 } } };
}
