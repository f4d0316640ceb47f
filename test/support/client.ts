/** Helpers for tests of the client SDK and the CLI: in-memory sources and fetch wrappers that misbehave on purpose. */
import type { UploadSource } from '../../src/client/index.js';

export function bytesSource(data: Uint8Array, name = 'file.bin'): UploadSource & { reads: number } {
  const src = {
    name,
    size: data.length,
    reads: 0,
    async slice(start: number, end: number) {
      src.reads++;
      return data.slice(start, end);
    },
  };
  return src;
}

export interface PutRecord {
  partNumber: number;
  bytes: number;
}

/** Is this request a part PUT to S3 (not an api call)? */
export const isPartPut = (url: string, init?: RequestInit) => (init?.method ?? 'GET') === 'PUT' && !url.includes('/v1/');

export const partNumberOf = (url: string) => Number(new URL(url).searchParams.get('partNumber') ?? '1');

export const bodySize = (init?: RequestInit) => {
  const b = init?.body;
  if (b instanceof Blob) return b.size;
  if (b instanceof Uint8Array) return b.byteLength;
  return 0;
};

/**
 * A fetch that records every part PUT and lets a test interfere with one before it is sent:
 * `intercept` may throw (a network error), return a Response (S3 never sees the request), or
 * return undefined to let it through.
 */
export function recordingFetch(
  intercept: (info: { url: string; partNumber: number; attempt: number }) => Promise<Response | undefined> | Response | undefined = () =>
    undefined,
) {
  const puts: PutRecord[] = [];
  const apiCalls: { method: string; url: string }[] = [];
  const attempts = new Map<number, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  const f: typeof fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!isPartPut(url, init)) {
      apiCalls.push({ method: init?.method ?? 'GET', url });
      return fetch(input, init);
    }
    const partNumber = partNumberOf(url);
    const attempt = (attempts.get(partNumber) ?? 0) + 1;
    attempts.set(partNumber, attempt);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      const fake = await intercept({ url, partNumber, attempt });
      if (fake) return fake;
      const res = await fetch(input, init);
      if (res.ok) puts.push({ partNumber, bytes: bodySize(init) });
      return res;
    } finally {
      inFlight--;
    }
  };
  return {
    fetch: f,
    puts,
    apiCalls,
    attempts,
    get maxInFlight() {
      return maxInFlight;
    },
    bytesPut: () => puts.reduce((s, p) => s + p.bytes, 0),
  };
}
