/**
 * Part URLs: which parts of which drop may be signed, for how long, and a short-lived
 * per-process copy of the manifests that part signing reads.
 *
 * Part signing is the hot path (a 10,000-part upload asks 100 times), so it reads the
 * manifest through a copy at most SIGNING_CACHE_MS old instead of from S3 on every batch. The
 * owner-token hash and the plan never change; a drop this process completes, cancels or
 * expires is evicted at once (DropRecords.onTerminal), and one another replica finished
 * meanwhile has no multipart upload left, so S3 refuses any part sent with such a URL. A
 * single-PUT drop is always read fresh before signing (DropService.signParts), and its URL is
 * create-only anyway.
 *
 * With several replicas sharing limits (DROPSHIP_REDIS_URL) the copy is off (`enabled:
 * false`): a drop cancelled or completed on one replica is refused at once by every other
 * (409), instead of getting URLs that only S3 would refuse. Each batch then costs one manifest
 * GET — one per up to DROPSHIP_PARTS_PER_BATCH URLs (docs/architecture.md, "Shared limits").
 */
import { fail } from '../../core/errors.js';
import { dropKeys } from '../../core/layout.js';
import { uploadDeadline, type Manifest } from '../../core/manifest.js';
import { urlLifetime } from '../../core/retention.js';
import { partSizeOf, planOf } from '../../core/parts.js';
import type { Clock } from '../../ports/clock.js';
import type { ManifestRecord } from '../../ports/manifests.js';
import type { Signer } from '../../ports/signer.js';

export interface SignedPart {
  partNumber: number;
  url: string;
  size: number;
  expiresAt: string;
  /** Headers the client must send with the PUT (signed into the URL); `{}` when none. */
  headers: Record<string, string>;
}

export const SIGNING_CACHE_MS = 10_000;
const SIGNING_CACHE_MAX = 10_000;

export function createSigningCache(load: (id: string) => Promise<ManifestRecord>, clock: Clock, opts: { enabled?: boolean } = {}) {
  const cache = new Map<string, { rec: ManifestRecord; at: number }>();
  const enabled = opts.enabled ?? true;
  return {
    async get(id: string): Promise<ManifestRecord> {
      if (!enabled) return load(id);
      const now = clock().getTime();
      const hit = cache.get(id);
      if (hit && now - hit.at < SIGNING_CACHE_MS) return hit.rec;
      const rec = await load(id);
      if (cache.size >= SIGNING_CACHE_MAX) cache.delete(cache.keys().next().value!);
      cache.set(id, { rec, at: now });
      return rec;
    },
    evict(id: string): void {
      cache.delete(id);
    },
  };
}

/** The part numbers a request may sign: within the plan, no repeats, at most `perBatch`. */
export function checkPartNumbers(m: Manifest, partNumbers: number[], perBatch: number): void {
  const bad = partNumbers.filter((n) => n < 1 || n > m.upload.partCount);
  if (bad.length) throw fail('PART_NUMBER_INVALID', `part numbers must be 1..${m.upload.partCount}`, { invalid: bad.slice(0, 20) });
  if (new Set(partNumbers).size !== partNumbers.length) throw fail('PART_NUMBER_INVALID', 'part numbers must not repeat');
  if (partNumbers.length > perBatch) throw fail('PART_NUMBER_INVALID', `at most ${perBatch} parts per request`);
}

/** Signs PUT URLs for the parts, each bound to its planned size, living at most `ttl` and never past the ticket. */
export async function signPartUrls(signer: Signer, m: Manifest, partNumbers: number[], ttl: number, now: Date): Promise<SignedPart[]> {
  const plan = planOf(m.size, m.upload);
  const key = dropKeys(m.id).original;
  const expiresIn = urlLifetime(ttl, now, uploadDeadline(m));
  return Promise.all(
    partNumbers.map(async (partNumber) => {
      const size = partSizeOf(plan, partNumber);
      const signed = await signer.signPut(
        {
          key,
          contentLength: size,
          expiresIn,
          // A single PUT may only create the object: once it is published, S3 refuses the
          // same URL (412), so the bytes behind a verified drop never change.
          ...(m.upload.mode === 'multipart' ? { part: { uploadId: m.upload.uploadId!, partNumber } } : { createOnly: true }),
        },
        now,
      );
      return { partNumber, url: signed.url, size, expiresAt: signed.expiresAt.toISOString(), headers: signed.headers };
    }),
  );
}
