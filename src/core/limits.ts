// What an uploader may ask for, as GET /v1/limits tells a client before it uploads: the
// largest file, the lifetimes on offer, the download limit. Pure: the server's bounds and,
// for a verified API key, that key's policy (the keys file) in, the effective limits out.
// test/unit/limits.test.ts has the tables.

import { lifetimeLimits, maxFileSize, type UploadPolicy } from './policy.js';
import { MIN_EXPIRES_IN, type LifetimeLimits } from './retention.js';

const HOUR = 3600;
const DAY = 24 * HOUR;

/** Lifetimes a page offers (seconds): the ones within the bounds, plus the default. */
export const EXPIRY_CHOICES = [HOUR, 6 * HOUR, DAY, 3 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 90 * DAY, 365 * DAY] as const;

/** The largest `maxDownloads` a drop may have (the ticket schema's maximum). */
export const MAX_DOWNLOADS = 1_000_000;

export interface UploadLimits {
  /** Largest file, in bytes. */
  maxFileSize: number;
  expiry: {
    /** Seconds a drop lives when the client does not say; 0 = never expires. */
    default: number;
    /** Longest lifetime a client may ask for; 0 = no maximum. */
    max: number;
    /** Lifetimes to offer, ascending; 0 (never) last where the server allows drops that never expire. */
    options: number[];
  };
  maxDownloads: { max: number };
  /** Media types this key may upload (`type/*` wildcards); absent: any. */
  allowedTypes?: string[];
}

/** The lifetimes to offer within `limits`: the standard choices that fit, the default, and 0 (never) when allowed. */
export function expiryOptions(limits: LifetimeLimits): number[] {
  const { defaultSeconds, maxSeconds } = limits;
  const fits = (s: number) => s >= MIN_EXPIRES_IN && (maxSeconds === 0 || s <= maxSeconds);
  const set = new Set<number>(EXPIRY_CHOICES.filter(fits));
  // The maximum itself is a choice (say 2 days), as is an odd default (say 45 minutes).
  if (maxSeconds > 0) set.add(maxSeconds);
  if (defaultSeconds > 0 && fits(defaultSeconds)) set.add(defaultSeconds);
  const options = [...set].sort((a, b) => a - b);
  return maxSeconds === 0 ? [...options, 0] : options;
}

/** The limits an uploader gets: the server's, narrowed by its key's policy where it has one. */
export function uploadLimits(server: { maxFileSize: number; lifetime: LifetimeLimits }, policy?: UploadPolicy): UploadLimits {
  const lifetime = lifetimeLimits(policy, server.lifetime);
  return {
    maxFileSize: maxFileSize(policy, server.maxFileSize),
    expiry: { default: lifetime.defaultSeconds, max: lifetime.maxSeconds, options: expiryOptions(lifetime) },
    maxDownloads: { max: MAX_DOWNLOADS },
    ...(policy?.allowedTypes !== undefined ? { allowedTypes: [...policy.allowedTypes] } : {}),
  };
}
