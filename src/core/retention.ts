// Retention: how long a drop lives, and what deletes it afterwards. Pure decisions only.
//
// A drop's lifetime is `expiresIn` seconds from creation, bounded by the operator's maximum
// (DROPSHIP_MAX_EXPIRES_IN; 0 = no maximum, and then `expiresIn: 0` asks for a drop that never
// expires). Two mechanisms delete an expired drop's objects:
//
// - the sweep (src/worker/sweeper.ts), prompt: every drop with a lifetime has a marker
//   `index/expiry/{yyyymmddhhmm}/{id}` written when it is created. Keys sort by time, so the
//   sweep lists the index from its start up to the current minute — only the buckets that are
//   due — reads each drop's manifest, and deletes what has expired (then its marker);
// - S3 lifecycle rules (real AWS), a day-granular backstop: every object of a drop is tagged
//   with a retention class of at least its lifetime, and provisioning sets one Expiration rule
//   per class. Every object is written at or after its drop's creation, so a rule of
//   ⌈lifetime⌉ days can only fire after the drop has expired, never before.

import { isDropId } from './ids.js';
import { dropExpiry, type Manifest } from './manifest.js';

export const MIN_EXPIRES_IN = 60;
export const EXPIRY_INDEX_PREFIX = 'index/expiry/';
export const RETENTION_TAG = 'dropship-retention';
/** Lifecycle classes in days; a drop gets the smallest class at least as long as its lifetime. */
export const RETENTION_DAYS = [1, 2, 3, 4, 5, 6, 7, 14, 30, 60, 90, 180, 365] as const;
const DAY = 86_400;

export interface LifetimeLimits {
  /** Seconds a drop lives when the client does not say; 0 = never expires. */
  defaultSeconds: number;
  /** Longest lifetime a client may ask for; 0 = no maximum (and `expiresIn: 0` means never). */
  maxSeconds: number;
}

export type LifetimeDecision =
  /** `seconds: undefined`: the drop never expires. */
  | { ok: true; seconds: number | undefined }
  | { ok: false; reason: string; min: number; max: number };

/** The lifetime a drop gets for the client's `expiresIn` (seconds; undefined = the default). */
export function decideLifetime(requested: number | undefined, limits: LifetimeLimits): LifetimeDecision {
  const { defaultSeconds, maxSeconds } = limits;
  const refuse = (reason: string): LifetimeDecision => ({ ok: false, reason, min: MIN_EXPIRES_IN, max: maxSeconds });
  const wanted = requested ?? defaultSeconds;
  if (!Number.isSafeInteger(wanted) || wanted < 0) return refuse('expiresIn must be a whole number of seconds');
  if (wanted === 0) {
    return maxSeconds === 0 ? { ok: true, seconds: undefined } : refuse(`drops expire here: expiresIn must be ${MIN_EXPIRES_IN}..${maxSeconds}`);
  }
  if (wanted < MIN_EXPIRES_IN) return refuse(`expiresIn must be at least ${MIN_EXPIRES_IN} seconds`);
  if (maxSeconds > 0 && wanted > maxSeconds) return refuse(`expiresIn may be at most ${maxSeconds} seconds`);
  return { ok: true, seconds: wanted };
}

/** The drop's expiry and its upload deadline (the ticket's TTL, never past the expiry). */
export function dropDeadlines(now: Date, lifetime: number | undefined, ticketTtl: number): { expiresAt: Date | null; uploadExpiresAt: Date } {
  const t = now.getTime();
  const upload = lifetime === undefined ? ticketTtl : Math.min(ticketTtl, lifetime);
  return { expiresAt: lifetime === undefined ? null : new Date(t + lifetime * 1000), uploadExpiresAt: new Date(t + upload * 1000) };
}

/** Seconds a presigned URL may live: its TTL, never past `until` (ms); at least 1. */
export function urlLifetime(ttl: number, now: Date, until: number | undefined): number {
  if (until === undefined) return ttl;
  return Math.max(1, Math.min(ttl, Math.floor((until - now.getTime()) / 1000)));
}

// ---- the expiry index -------------------------------------------------------------------

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** The index bucket of a time: its UTC minute as yyyymmddhhmm. */
export function expiryBucket(at: Date): string {
  return `${pad(at.getUTCFullYear(), 4)}${pad(at.getUTCMonth() + 1)}${pad(at.getUTCDate())}${pad(at.getUTCHours())}${pad(at.getUTCMinutes())}`;
}

export function expiryIndexKey(id: string, expiresAt: Date): string {
  if (!isDropId(id)) throw new RangeError('not a drop id');
  return `${EXPIRY_INDEX_PREFIX}${expiryBucket(expiresAt)}/${id}`;
}

/** The marker's bucket and drop id, or undefined for a key that is not a marker. */
export function parseExpiryIndexKey(key: string): { bucket: string; id: string } | undefined {
  if (!key.startsWith(EXPIRY_INDEX_PREFIX)) return undefined;
  const [bucket, id, ...rest] = key.slice(EXPIRY_INDEX_PREFIX.length).split('/');
  if (!bucket || !/^\d{12}$/.test(bucket) || !id || !isDropId(id) || rest.length) return undefined;
  return { bucket, id };
}

/**
 * Where a sweep at `now` stops listing (exclusive): every bucket up to the current minute is
 * due or may hold something due; later ones are not looked at.
 */
export function sweepListEnd(now: Date): string {
  return `${EXPIRY_INDEX_PREFIX}${expiryBucket(new Date(now.getTime() + 60_000))}`;
}

export type SweepAction =
  /** Delete the drop's objects (manifest last), then the marker. */
  | { kind: 'purge'; reason: string }
  /** Not due yet (a marker of the current minute): leave it for a later sweep. */
  | { kind: 'wait' }
  /** The drop does not expire (any more): drop the marker only. */
  | { kind: 'unindex'; reason: string };

/** What the sweep does with a marker of `bucket`, given the drop's manifest (undefined: none). */
export function sweepAction(bucket: string, manifest: Manifest | undefined, now: Date): SweepAction {
  if (!manifest) {
    // The marker is written just before the manifest. Once its whole minute is past, the
    // drop's lifetime (≥ 60 s) is too, so a missing manifest is a drop already deleted or a
    // creation that failed: clean up. Within the minute the manifest may still be on its way.
    return bucket < expiryBucket(now) ? { kind: 'purge', reason: 'no manifest' } : { kind: 'wait' };
  }
  const end = dropExpiry(manifest);
  if (end === undefined) return { kind: 'unindex', reason: 'the drop does not expire' };
  return now.getTime() >= end ? { kind: 'purge', reason: 'expired' } : { kind: 'wait' };
}

// ---- lifecycle classes ----------------------------------------------------------------

/** The retention class (tag value) of a lifetime in seconds; undefined: no lifecycle rule applies. */
export function retentionClass(lifetime: number | undefined): string | undefined {
  if (lifetime === undefined) return undefined;
  const days = RETENTION_DAYS.find((d) => d * DAY >= lifetime);
  return days === undefined ? undefined : `d${days}`;
}

/** Tags every object of this drop is written with (empty for drops that never expire or old manifests). */
export function retentionTags(m: Manifest): Record<string, string> {
  const end = dropExpiry(m);
  const cls = end === undefined ? undefined : retentionClass(Math.ceil((end - Date.parse(m.createdAt)) / 1000));
  return cls ? { [RETENTION_TAG]: cls } : {};
}

/** The lifecycle Expiration rules provisioning sets: one per class. */
export function retentionRules(): { id: string; tag: { key: string; value: string }; days: number }[] {
  return RETENTION_DAYS.map((days) => ({ id: `dropship-retention-d${days}`, tag: { key: RETENTION_TAG, value: `d${days}` }, days }));
}

/**
 * Days after initiation at which S3 may abort an incomplete multipart upload: never before the
 * upload's deadline (the ticket TTL), and S3 counts whole days.
 */
export function abortIncompleteDays(ticketTtl: number): number {
  return Math.max(1, Math.ceil(ticketTtl / DAY));
}
