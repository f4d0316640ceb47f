/**
 * Lazy part-URL signing: URLs live minutes, so they are signed in batches just ahead of the
 * parts about to be sent, never all 10,000 up front.
 */
import type { SignedPart } from './types.js';

/** A URL this close to its expiry is signed again before use: S3 checks expiry when the request arrives. */
export const EXPIRY_MARGIN_MS = 5_000;

/**
 * The part numbers to sign when part `needed` has no usable URL: `needed` first, then the
 * next parts in upload order that have none either and are not being signed already.
 */
export function planSignBatch(
  needed: number,
  upcoming: Iterable<number>,
  hasUsableUrl: (partNumber: number) => boolean,
  beingSigned: (partNumber: number) => boolean,
  max = 100,
): number[] {
  const batch = [needed];
  const seen = new Set(batch);
  for (const n of upcoming) {
    if (batch.length >= max) break;
    if (seen.has(n) || hasUsableUrl(n) || beingSigned(n)) continue;
    seen.add(n);
    batch.push(n);
  }
  return batch;
}

/** Signed URLs by part number, with their expiry. */
export class UrlCache {
  private readonly now: () => number;
  private readonly urls = new Map<number, { url: string; size: number; expiresAt: number; headers: Record<string, string> }>();
  constructor(now: () => number = () => Date.now()) {
    this.now = now;
  }

  add(parts: SignedPart[]) {
    for (const p of parts) {
      // An older server sends no headers: nothing extra to send then.
      this.urls.set(p.partNumber, { url: p.url, size: p.size, expiresAt: Date.parse(p.expiresAt), headers: { ...(p.headers ?? {}) } });
    }
  }

  /** The URL if it will still be valid when the request reaches S3. */
  usable(partNumber: number): { url: string; size: number; expiresAt: number; headers: Record<string, string> } | undefined {
    const u = this.urls.get(partNumber);
    return u && u.expiresAt - this.now() > EXPIRY_MARGIN_MS ? u : undefined;
  }

  expired(partNumber: number): boolean {
    const u = this.urls.get(partNumber);
    return !u || u.expiresAt <= this.now();
  }

  drop(partNumber: number) {
    this.urls.delete(partNumber);
  }
}

/** Splits part numbers into the api's maximum batch size. */
export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
