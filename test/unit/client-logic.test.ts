/** Pure parts of the client SDK: backoff schedule, failure classification, progress maths, batching. */
import { describe, expect, it } from 'vitest';
import {
  ProgressMeter,
  UrlCache,
  backoffDelay,
  chunk,
  classifyPartFailure,
  parseRetryAfter,
  partSize,
  planSignBatch,
  retryDelay,
} from '../../src/client/index.js';

describe('backoff', () => {
  it('doubles per attempt, between half and all of the window', () => {
    const low = [0, 1, 2, 3, 4].map((a) => backoffDelay(a, {}, () => 0));
    const high = [0, 1, 2, 3, 4].map((a) => backoffDelay(a, {}, () => 1));
    expect(low).toEqual([250, 500, 1000, 2000, 4000]);
    expect(high).toEqual([500, 1000, 2000, 4000, 8000]);
  });

  it('never exceeds the cap, however many attempts', () => {
    for (let a = 0; a < 40; a++) expect(backoffDelay(a, { maxMs: 20_000 }, () => 1)).toBeLessThanOrEqual(20_000);
    expect(backoffDelay(30, { maxMs: 20_000 }, () => 0)).toBe(10_000);
  });

  it("follows the server's Retry-After, bounded by the cap", () => {
    expect(retryDelay(0, 3, {}, () => 0)).toBe(3000);
    expect(retryDelay(0, 3600, { maxMs: 30_000 }, () => 0)).toBe(30_000);
    expect(retryDelay(2, undefined, {}, () => 0)).toBe(1000);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('7')).toBe(7);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe('what to do after a part PUT failed', () => {
  const http = (status: number, body = '', urlExpired = false) => ({ kind: 'http' as const, status, body, urlExpired });
  it.each([
    ['network error', { kind: 'network' as const }, 'retry'],
    ['500', http(500), 'retry'],
    ['503 SlowDown', http(503), 'retry'],
    ['408', http(408), 'retry'],
    ['429', http(429), 'retry'],
    ['403 "Request has expired"', http(403, '<Code>AccessDenied</Code><Message>Request has expired</Message>'), 'refresh'],
    ['403 after the URL expiry passed', http(403, '<Code>AccessDenied</Code>', true), 'refresh'],
    ['403 signature mismatch', http(403, '<Code>SignatureDoesNotMatch</Code>'), 'fatal'],
    ['400', http(400), 'fatal'],
    ['404 NoSuchUpload', http(404, '<Code>NoSuchUpload</Code>'), 'fatal'],
  ])('%s → %s', (_l, failure, expected) => {
    expect(classifyPartFailure(failure)).toBe(expected);
  });
});

describe('progress', () => {
  it('counts confirmed and in-flight bytes; a retried attempt no longer counts', () => {
    let now = 0;
    const m = new ProgressMeter(300, 3, () => now);
    m.partProgress(1, 40);
    m.partProgress(2, 10);
    expect(m.snapshot()).toMatchObject({ bytesSent: 50, partsDone: 0 });
    m.partRetry(2);
    expect(m.snapshot().bytesSent).toBe(40);
    now = 1000;
    m.partDone(1, 100);
    expect(m.snapshot()).toMatchObject({ bytesSent: 100, partsDone: 1, bytesTotal: 300, partCount: 3 });
    // Sent again after the retry: the wire saw 10 + 100 bytes for part 2.
    m.partDone(2, 100);
    expect(m.snapshot().bytesTransferred).toBe(210);
  });

  it('speed over the window and ETA from it', () => {
    let now = 0;
    const m = new ProgressMeter(1000, 10, () => now, 5000);
    expect(m.snapshot()).toMatchObject({ bytesPerSecond: 0, etaSeconds: undefined });
    now = 1000;
    m.partDone(1, 100);
    now = 2000;
    m.partDone(2, 100);
    const s = m.snapshot();
    expect(s.bytesPerSecond).toBe(100);
    expect(s.etaSeconds).toBe(8);
  });

  it('speed reflects the last window, not the whole upload', () => {
    let now = 0;
    const m = new ProgressMeter(10_000, 100, () => now, 5000);
    let n = 0;
    for (; now < 10_000; ) {
      now += 1000;
      m.partDone(++n, 100); // 100 B/s for 10 s
    }
    while (now < 15_000) {
      now += 100;
      m.partDone(++n, 100); // then 1000 B/s for 5 s
    }
    expect(m.snapshot().bytesPerSecond).toBeCloseTo(1000);
  });

  it('resumed parts are done but not transferred', () => {
    const m = new ProgressMeter(300, 3, () => 0);
    m.resumedPart(100);
    m.resumedPart(100);
    expect(m.snapshot()).toMatchObject({ bytesSent: 200, bytesResumed: 200, bytesTransferred: 0, partsDone: 2 });
  });

  it('an empty file is complete with no ETA to wait for', () => {
    expect(new ProgressMeter(0, 1, () => 0).snapshot()).toMatchObject({ bytesSent: 0, etaSeconds: 0 });
  });
});

describe('lazy signing', () => {
  it('signs the needed part first, then the next unsigned ones, up to the batch size', () => {
    const fresh = new Set([3, 4]);
    const signing = new Set([6]);
    const batch = planSignBatch(2, [2, 3, 4, 5, 6, 7, 8, 9], (n) => fresh.has(n), (n) => signing.has(n), 4);
    expect(batch).toEqual([2, 5, 7, 8]);
  });

  it('never asks for more than 100 parts at once', () => {
    const upcoming = Array.from({ length: 10_000 }, (_, i) => i + 1);
    const batch = planSignBatch(1, upcoming, () => false, () => false);
    expect(batch).toHaveLength(100);
    expect(batch.at(-1)).toBe(100);
    expect(chunk(upcoming, 100)).toHaveLength(100);
    expect(chunk([1, 2, 3], 2)).toEqual([[1, 2], [3]]);
  });

  it('treats a URL about to expire as unusable and an expired one as expired', () => {
    let now = Date.parse('2025-01-01T00:00:00Z');
    const urls = new UrlCache(() => now);
    urls.add([{ partNumber: 1, url: 'u', size: 5, expiresAt: '2025-01-01T00:00:10Z', headers: { 'if-none-match': '*' } }]);
    expect(urls.usable(1)?.headers).toEqual({ 'if-none-match': '*' });
    expect(urls.usable(1)?.url).toBe('u');
    now += 6_000;
    expect(urls.usable(1)).toBeUndefined();
    expect(urls.expired(1)).toBe(false);
    now += 5_000;
    expect(urls.expired(1)).toBe(true);
    expect(urls.expired(2)).toBe(true);
  });

  it('the last part takes the remainder', () => {
    const tk = { upload: { mode: 'multipart' as const, partSize: 10, partCount: 3, expiresAt: '' } };
    expect([1, 2, 3].map((n) => partSize(tk, 25, n))).toEqual([10, 10, 5]);
    expect(partSize({ upload: { ...tk.upload, partSize: 0, partCount: 1 } }, 0, 1)).toBe(0);
  });
});
