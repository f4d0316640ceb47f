// The worker's decisions that need no I/O: what a manifest's status means for a new event,
// whether the stored object is the one the manifest announced, which sniffed types get
// thumbnails, whether the sniffed type is one the creating key may upload, how a message's
// outcomes combine, how long a failed message waits.
// src/worker/handler.ts does the I/O around them; test/unit/worker-decisions.test.ts covers them.

import type { DropStatus, Manifest } from './manifest.js';
import { essence, typeAllowed } from './policy.js';

/** What the worker learnt of the stored object (a HEAD). */
export interface StoredObject {
  size: number;
  etag: string;
}

/**
 * What the consumer does with a message: `done` and `skipped` delete it, `retry` leaves it
 * for redelivery (and, after the queue's maxReceiveCount, the DLQ).
 */
export type Outcome = { outcome: 'done' | 'skipped' | 'retry'; reason: string };

export const done = (reason: string): Outcome => ({ outcome: 'done', reason });
export const skipped = (reason: string): Outcome => ({ outcome: 'skipped', reason });
export const retry = (reason: string): Outcome => ({ outcome: 'retry', reason });

/**
 * uploading/processing: the object is there, verify and process it (the S3 event may beat
 * the api's `complete`, hence uploading too). ready/failed: a duplicate event, or bytes that
 * must not be there — `checkPublished` decides. cancelled/expired: the bytes must not stay;
 * remove them.
 */
export function planForStatus(status: DropStatus): 'process' | 'check' | 'remove' {
  switch (status) {
    case 'uploading':
    case 'processing':
      return 'process';
    case 'ready':
    case 'failed':
      return 'check';
    case 'cancelled':
    case 'expired':
      return 'remove';
  }
}

const unquote = (etag: string) => etag.replace(/^(W\/)?"|"$/g, '');

/**
 * An event for a drop the worker already settled. ready: the object it verified (same size
 * and, when recorded, same ETag) is a duplicate event — skip; anything else is bytes nobody
 * verified — `replaced` (fail the drop, then delete them). failed: a failed drop keeps no
 * bytes, so whatever is there is removed. Nothing stored: skip.
 */
export function checkPublished(
  m: Pick<Manifest, 'status' | 'size' | 'etag'>,
  head: StoredObject | undefined,
): { action: 'skip'; reason: string } | { action: 'replaced'; reason: string } | { action: 'remove'; reason: string } {
  if (!head) return { action: 'skip', reason: `drop is already ${m.status}` };
  if (m.status === 'failed') return { action: 'remove', reason: 'drop is failed: the object stored since was removed' };
  if (head.size !== m.size) {
    return { action: 'replaced', reason: `object replaced after verification: ${m.size} bytes verified, ${head.size} stored` };
  }
  if (m.etag !== undefined && unquote(head.etag) !== unquote(m.etag)) {
    return { action: 'replaced', reason: 'object replaced after verification: its ETag is not the one verified' };
  }
  return { action: 'skip', reason: `drop is already ${m.status}` };
}

/**
 * The type the worker sniffed from the bytes against the allowed types recorded in the
 * manifest. The sniffer tells binary formats apart but calls every text file `text/plain`,
 * so a `text/plain` sniff passes when the declared type is an allowed `text/*` type.
 */
export function checkSniffedType(
  m: { allowedTypes?: string[]; type: string },
  sniffedType: string,
): { ok: true } | { ok: false; reason: string } {
  const allowed = m.allowedTypes;
  if (allowed === undefined || typeAllowed(sniffedType, allowed)) return { ok: true };
  const declared = essence(m.type);
  if (essence(sniffedType) === 'text/plain' && declared.startsWith('text/') && typeAllowed(declared, allowed)) return { ok: true };
  return { ok: false, reason: `type not allowed: the bytes are ${sniffedType}; this key may upload only ${allowed.join(', ')}` };
}

export function verifyObject(m: Manifest, head: StoredObject | undefined): { ok: true } | { ok: false; reason: string } {
  if (!head) return { ok: false, reason: 'object missing' };
  if (head.size !== m.size) return { ok: false, reason: `size mismatch: announced ${m.size} bytes, stored ${head.size}` };
  return { ok: true };
}

/** Types sharp decodes reliably from its prebuilt libvips; HEIC and SVG are left out on purpose. */
export const THUMBNAILABLE_TYPES: ReadonlySet<string> = new Set([
  'image/jpeg',
  'image/png',
  'image/webp',
  'image/gif',
  'image/avif',
  'image/tiff',
]);

export type ThumbnailPlan = { kind: 'decode' } | { kind: 'none' } | { kind: 'refuse'; reason: string };

export function thumbnailPlan(sniffedType: string, size: number, maxImageBytes: number): ThumbnailPlan {
  if (!THUMBNAILABLE_TYPES.has(sniffedType)) return { kind: 'none' };
  if (size > maxImageBytes) {
    return { kind: 'refuse', reason: `image is ${size} bytes, over the ${maxImageBytes}-byte decode limit` };
  }
  return { kind: 'decode' };
}

/**
 * The type to record: file-type's answer when it has one (it only knows binary formats);
 * otherwise text/plain for UTF-8 without control bytes, else application/octet-stream.
 * `head` is the first bytes of the object; `complete` says whether it is the whole object
 * (if not, a multi-byte character may be cut at its end, which is no reason to call it binary).
 */
export function sniffedTypeOf(detected: string | undefined, head: Uint8Array, complete: boolean): string {
  if (detected) return detected;
  return looksLikeText(head, complete) ? 'text/plain' : 'application/octet-stream';
}

export function looksLikeText(bytes: Uint8Array, complete: boolean): boolean {
  if (bytes.length === 0) return false;
  for (const b of bytes) {
    // Tab, LF, FF, CR and ESC occur in real text; other C0 controls and NUL mean binary.
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0c && b !== 0x0d && b !== 0x1b) return false;
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: !complete });
    return true;
  } catch {
    return false;
  }
}

/** A message with several records: any retry retries it all (every step is idempotent). */
export function combineOutcomes(outcomes: Outcome[]): Outcome {
  const pick = (o: Outcome['outcome']) => outcomes.filter((x) => x.outcome === o);
  for (const kind of ['retry', 'done', 'skipped'] as const) {
    const found = pick(kind);
    if (found.length) return { outcome: kind, reason: found.map((x) => x.reason).join('; ') };
  }
  return skipped('no records');
}

export const MAX_RETRY_DELAY_SECONDS = 900;

/**
 * Exponential backoff by delivery: base, 2×base, 4×base ... after the 1st, 2nd, 3rd receive,
 * capped at 15 minutes. A transient S3 outage gets room to pass before the queue's
 * maxReceiveCount sends the message to the DLQ.
 */
export function retryDelaySeconds(receiveCount: number, baseSeconds: number): number {
  const n = Number.isSafeInteger(receiveCount) && receiveCount > 0 ? receiveCount : 1;
  return Math.min(MAX_RETRY_DELAY_SECONDS, baseSeconds * 2 ** Math.min(n - 1, 20));
}
