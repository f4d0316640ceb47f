import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DROP_EVENT_TYPES,
  DROP_STATUSES,
  apply,
  dropExpiry,
  effectiveStatus,
  uploadDeadline,
  isTerminal,
  newManifest,
  type DropEvent,
  type DropEventType,
  type DropStatus,
  type Manifest,
} from '../../src/core/manifest.js';

const T0 = new Date('2030-01-01T00:00:00.000Z');
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);
const LIFETIME = 30 * 24 * 3600;

function args(): Parameters<typeof newManifest>[0] {
  return {
    id: 'V1StGXR8_Z5jdHi6B-myT',
    name: 'a.txt',
    size: 3,
    type: 'text/plain',
    ownerTokenHash: 'a'.repeat(64),
    upload: { mode: 'single', partSize: 3, partCount: 1 },
    source: 'ticket',
    now: T0,
    expiresAt: at(LIFETIME),
  };
}

function base(overrides: Partial<Manifest> = {}): Manifest {
  return {
    ...newManifest({
      id: 'V1StGXR8_Z5jdHi6B-myT',
      name: 'holiday.jpg',
      size: 20 * 1024 * 1024,
      type: 'image/jpeg',
      ownerTokenHash: 'a'.repeat(64),
      upload: { mode: 'multipart', uploadId: 'upload-1', partSize: 8 * 1024 * 1024, partCount: 3 },
      source: 'ticket',
      now: T0,
      // A lifetime of 30 days; the upload deadline is an hour.
      expiresAt: at(LIFETIME),
      uploadExpiresAt: at(3600),
    }),
    ...overrides,
  };
}

const events: { [K in DropEventType]: Extract<DropEvent, { type: K }> } = {
  complete: { type: 'complete', at: at(10), etag: 'etag-3' },
  processed: {
    type: 'processed',
    at: at(20),
    sniffedType: 'image/jpeg',
    width: 4000,
    height: 3000,
    thumbnail: 'ready',
    thumbnails: [{ width: 256, height: 192, key: 'drops/V1StGXR8_Z5jdHi6B-myT/thumb-256.webp' }],
  },
  verify_failed: { type: 'verify_failed', at: at(20), reason: 'size mismatch' },
  replaced: { type: 'replaced', at: at(50), reason: 'object replaced after verification' },
  cancel: { type: 'cancel', at: at(30) },
  expire: { type: 'expire', at: at(4000) },
  upload_started: { type: 'upload_started', at: at(5), uploadId: 'upload-1' },
  measured: { type: 'measured', at: at(8), size: 20 * 1024 * 1024 + 1, upload: { mode: 'multipart', partSize: 8 * 1024 * 1024, partCount: 3 } },
  downloaded: { type: 'downloaded', at: at(40) },
  posted: { type: 'posted', at: at(6), etag: '"form-1"' },
};

type Outcome = DropStatus | 'no-op' | 'invalid';

// Rows: current status; columns: event. The whole state machine in one place.
const TABLE: Record<DropStatus, Record<DropEventType, Outcome>> = {
  uploading: { complete: 'processing', processed: 'ready', verify_failed: 'failed', replaced: 'invalid', cancel: 'cancelled', expire: 'expired', upload_started: 'no-op', measured: 'uploading', downloaded: 'invalid', posted: 'invalid' },
  processing: { complete: 'no-op', processed: 'ready', verify_failed: 'failed', replaced: 'invalid', cancel: 'cancelled', expire: 'invalid', upload_started: 'invalid', measured: 'invalid', downloaded: 'no-op', posted: 'invalid' },
  ready: { complete: 'no-op', processed: 'no-op', verify_failed: 'invalid', replaced: 'failed', cancel: 'cancelled', expire: 'invalid', upload_started: 'invalid', measured: 'invalid', downloaded: 'no-op', posted: 'invalid' },
  failed: { complete: 'invalid', processed: 'invalid', verify_failed: 'no-op', replaced: 'no-op', cancel: 'cancelled', expire: 'invalid', upload_started: 'invalid', measured: 'invalid', downloaded: 'invalid', posted: 'invalid' },
  cancelled: { complete: 'invalid', processed: 'invalid', verify_failed: 'invalid', replaced: 'invalid', cancel: 'no-op', expire: 'invalid', upload_started: 'invalid', measured: 'invalid', downloaded: 'invalid', posted: 'invalid' },
  expired: { complete: 'invalid', processed: 'invalid', verify_failed: 'invalid', replaced: 'invalid', cancel: 'cancelled', expire: 'no-op', upload_started: 'invalid', measured: 'invalid', downloaded: 'invalid', posted: 'invalid' },
};

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

describe('apply: transition table', () => {
  const rows = DROP_STATUSES.flatMap((from) => DROP_EVENT_TYPES.map((event) => [from, event, TABLE[from][event]] as const));

  it('covers every status and event', () => {
    expect(rows).toHaveLength(60);
  });

  it.each(rows)('%s + %s -> %s', (from, eventType, outcome) => {
    const m = deepFreeze(base({ status: from }));
    const result = apply(m, events[eventType]);
    if (outcome === 'invalid') {
      expect(result).toEqual({ ok: false, code: 'INVALID_TRANSITION', from, event: eventType });
    } else if (outcome === 'no-op') {
      expect(result).toEqual({ ok: true, manifest: m, changed: false });
    } else {
      expect(result.ok && result.changed).toBe(true);
      if (!result.ok) return;
      expect(result.manifest.status).toBe(outcome);
      expect(result.manifest.updatedAt).toBe(events[eventType].at.toISOString());
    }
  });
});

describe('apply: the events that keep the status', () => {
  // (The table's drop is multipart, which takes no form upload: posted is invalid in every row.)
  it('posted records the first form upload of a single drop; the same one again is a no-op, another one is refused', () => {
    const single = deepFreeze(base({ upload: { mode: 'single', partSize: 3000, partCount: 1, expiresAt: at(3600).toISOString() }, source: 'uppy', size: 3000 }));
    const r = apply(single, { type: 'posted', at: at(6), etag: '"form-1"' });
    expect(r).toMatchObject({ ok: true, changed: true, manifest: { status: 'uploading', upload: { mode: 'single', postedEtag: '"form-1"' }, updatedAt: at(6).toISOString() } });
    if (!r.ok) return;
    expect(apply(r.manifest, { type: 'posted', at: at(7), etag: '"form-1"' })).toEqual({ ok: true, manifest: r.manifest, changed: false });
    expect(apply(r.manifest, { type: 'posted', at: at(7), etag: '"replayed"' })).toEqual({ ok: false, code: 'INVALID_TRANSITION', from: 'uploading', event: 'posted' });
    for (const status of ['processing', 'ready', 'failed', 'cancelled', 'expired'] as const) {
      expect(apply({ ...single, status }, { type: 'posted', at: at(6), etag: '"form-1"' })).toMatchObject({ ok: false, code: 'INVALID_TRANSITION' });
    }
  });

  const streaming = () => base({ upload: { mode: 'multipart', partSize: 16 * 1024 * 1024, partCount: 0 }, source: 'stream', size: 0 });

  it('upload_started records the multipart upload once; a second, other id is refused', () => {
    const r = apply(deepFreeze(streaming()), { type: 'upload_started', at: at(5), uploadId: 'u-1' });
    expect(r).toMatchObject({ ok: true, changed: true, manifest: { status: 'uploading', thumbnail: 'pending', upload: { uploadId: 'u-1' }, updatedAt: at(5).toISOString() } });
    if (!r.ok) return;
    expect(apply(r.manifest, { type: 'upload_started', at: at(6), uploadId: 'u-1' })).toMatchObject({ ok: true, changed: false });
    expect(apply(r.manifest, { type: 'upload_started', at: at(6), uploadId: 'u-2' })).toMatchObject({ ok: false, code: 'INVALID_TRANSITION' });
  });

  it('measured records the counted size and plan, keeping the upload id of a multipart upload', () => {
    const started = apply(streaming(), { type: 'upload_started', at: at(5), uploadId: 'u-1' });
    if (!started.ok) throw new Error('setup');
    const multi = apply(started.manifest, { type: 'measured', at: at(9), size: 40, upload: { mode: 'multipart', partSize: 16, partCount: 3 } });
    expect(multi).toMatchObject({ ok: true, changed: true, manifest: { size: 40, upload: { mode: 'multipart', uploadId: 'u-1', partSize: 16, partCount: 3 } } });
    const single = apply(streaming(), { type: 'measured', at: at(9), size: 7, upload: { mode: 'single', partSize: 7, partCount: 1 } });
    expect(single.ok && single.manifest.upload).toEqual({ mode: 'single', partSize: 7, partCount: 1 });
    expect(single.ok && single.manifest.size).toBe(7);
  });

  it('downloaded counts up to maxDownloads and then refuses with LIMIT_REACHED', () => {
    let m = base({ status: 'ready', maxDownloads: 2 });
    for (const n of [1, 2]) {
      const r = apply(m, { type: 'downloaded', at: at(40 + n) });
      expect(r).toMatchObject({ ok: true, changed: true, manifest: { downloads: n, status: 'ready' } });
      if (r.ok) m = r.manifest;
    }
    expect(apply(m, { type: 'downloaded', at: at(50) })).toEqual({ ok: false, code: 'LIMIT_REACHED', from: 'ready', event: 'downloaded' });
    expect(m.updatedAt).toBe(at(42).toISOString());
  });
});

describe('apply: what each transition records', () => {
  it('complete records when and the ETag', () => {
    const result = apply(base(), events.complete);
    expect(result).toMatchObject({ ok: true, changed: true, manifest: { status: 'processing', completedAt: at(10).toISOString(), etag: 'etag-3' } });
  });

  it('processed records the sniffed facts and thumbnails and keeps the API completion time', () => {
    const processing = apply(base(), events.complete);
    if (!processing.ok) throw new Error('setup');
    const ready = apply(processing.manifest, events.processed);
    expect(ready).toMatchObject({
      ok: true,
      manifest: {
        status: 'ready',
        completedAt: at(10).toISOString(),
        readyAt: at(20).toISOString(),
        sniffedType: 'image/jpeg',
        width: 4000,
        height: 3000,
        thumbnail: 'ready',
        thumbnails: [{ width: 256, height: 192, key: 'drops/V1StGXR8_Z5jdHi6B-myT/thumb-256.webp' }],
        etag: 'etag-3',
      },
    });
  });

  it('processed straight from uploading sets completedAt too', () => {
    const result = apply(base(), events.processed);
    expect(result).toMatchObject({ ok: true, manifest: { status: 'ready', completedAt: at(20).toISOString() } });
  });

  it('processed keeps a thumbnail failure without failing the drop', () => {
    const result = apply(base({ status: 'processing' }), {
      ...events.processed,
      thumbnail: 'failed',
      thumbnails: [],
      thumbnailError: 'corrupt image',
    });
    expect(result).toMatchObject({ ok: true, manifest: { status: 'ready', thumbnail: 'failed', thumbnailError: 'corrupt image', thumbnails: [] } });
  });

  it('verify_failed records the reason and stops the thumbnail spinner', () => {
    const result = apply(base({ status: 'processing' }), events.verify_failed);
    expect(result).toMatchObject({ ok: true, manifest: { status: 'failed', failureReason: 'size mismatch', thumbnail: 'none' } });
  });

  it('replaced fails a ready drop with the reason and forgets its thumbnails', () => {
    const ready = base({ status: 'ready', thumbnail: 'ready', thumbnails: [{ width: 256, height: 192, key: 'k' }], etag: '"a"' });
    const r = apply(ready, events.replaced);
    expect(r.ok && r.manifest).toMatchObject({ status: 'failed', failureReason: 'object replaced after verification', thumbnail: 'none', thumbnails: [] });
  });

  it.each(['cancel', 'expire'] as const)('%s from uploading stops the thumbnail spinner', (type) => {
    const result = apply(base(), events[type]);
    expect(result).toMatchObject({ ok: true, manifest: { thumbnail: 'none' } });
  });

  it('cancel of a ready drop keeps its thumbnail facts', () => {
    const ready = apply(base(), events.processed);
    if (!ready.ok) throw new Error('setup');
    const cancelled = apply(ready.manifest, events.cancel);
    expect(cancelled).toMatchObject({ ok: true, manifest: { status: 'cancelled', thumbnail: 'ready' } });
  });

  it('never moves updatedAt backwards when clocks disagree', () => {
    const m = base({ updatedAt: at(100).toISOString() });
    const result = apply(m, events.complete); // event stamped at +10 s
    expect(result).toMatchObject({ ok: true, manifest: { status: 'processing', updatedAt: at(100).toISOString() } });
  });

  it('does not mutate its input or the event', () => {
    const m = deepFreeze(base());
    const e = deepFreeze(structuredClone(events.processed));
    const snapshot = structuredClone(m);
    const result = apply(m, e);
    expect(m).toEqual(snapshot);
    if (!result.ok) throw new Error('expected a transition');
    // The result shares no mutable parts with the input.
    result.manifest.upload.partCount = 99;
    result.manifest.thumbnails.push({ width: 1, height: 1, key: 'x' });
    expect(m).toEqual(snapshot);
    expect(e.thumbnails).toHaveLength(1);
  });
});

describe('apply: the API and the worker commute', () => {
  it.each([
    ['complete then processed', ['complete', 'processed']],
    ['processed then complete', ['processed', 'complete']],
  ] as const)('%s ends ready with the worker’s results', (_label, order) => {
    let m = base();
    const changes: boolean[] = [];
    for (const type of order) {
      const result = apply(m, events[type]);
      if (!result.ok) throw new Error(`${type} refused`);
      changes.push(result.changed);
      m = result.manifest;
    }
    expect(m).toMatchObject({ status: 'ready', sniffedType: 'image/jpeg', thumbnail: 'ready', readyAt: at(20).toISOString() });
    expect(m.thumbnails).toHaveLength(1);
    // In the second order the API's complete finds the work done: nothing to write.
    expect(changes).toEqual(order[0] === 'complete' ? [true, true] : [true, false]);
  });

  it('any interleaving of repeated completes and processed events ends ready', () => {
    const steps = fc.array(fc.constantFrom('complete' as const, 'processed' as const), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(steps, (sequence) => {
        fc.pre(sequence.includes('processed'));
        let m = base();
        for (const type of sequence) {
          const result = apply(m, events[type]);
          expect(result.ok).toBe(true);
          if (result.ok) m = result.manifest;
        }
        expect(m.status).toBe('ready');
        expect(m.sniffedType).toBe('image/jpeg');
      }),
    );
  });
});

describe('apply: random event sequences', () => {
  const eventArb: fc.Arbitrary<DropEvent> = fc
    .tuple(fc.constantFrom(...DROP_EVENT_TYPES), fc.integer({ min: -100, max: 10_000 }))
    .map(([type, seconds]) => ({ ...events[type], at: at(seconds) }) as DropEvent);

  it('follow the table, only leave terminal states by cancel, and never go back in time', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 20 }), (sequence) => {
        let m = deepFreeze(base());
        for (const e of sequence) {
          const from = m.status;
          const expected = TABLE[from][e.type];
          const result = apply(m, e);
          if (!result.ok) {
            expect(expected).toBe('invalid');
            continue;
          }
          const next = result.manifest;
          expect(DROP_STATUSES).toContain(next.status);
          expect(next.status).toBe(expected === 'no-op' ? from : expected);
          if (!result.changed) expect(next).toBe(m);
          // A `measured` repeating the size already recorded changes nothing.
          const repeat = e.type === 'measured' && m.size === e.size;
          expect(result.changed).toBe(expected !== 'no-op' && !repeat);
          if (isTerminal(from) && next.status !== from) expect(['cancel', 'replaced']).toContain(e.type);
          expect(Date.parse(next.updatedAt)).toBeGreaterThanOrEqual(Date.parse(m.updatedAt));
          m = deepFreeze(next);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('newManifest', () => {
  it('starts an upload', () => {
    const m = base();
    expect(m).toEqual({
      version: 1,
      id: 'V1StGXR8_Z5jdHi6B-myT',
      status: 'uploading',
      name: 'holiday.jpg',
      size: 20 * 1024 * 1024,
      type: 'image/jpeg',
      createdAt: T0.toISOString(),
      updatedAt: T0.toISOString(),
      expiresAt: at(LIFETIME).toISOString(),
      ownerTokenHash: 'a'.repeat(64),
      upload: { mode: 'multipart', uploadId: 'upload-1', partSize: 8 * 1024 * 1024, partCount: 3, expiresAt: at(3600).toISOString() },
      source: 'ticket',
      thumbnail: 'pending',
      thumbnails: [],
    });
    // Absent options are absent keys, so the JSON in S3 carries no nulls.
    expect(Object.keys(m)).not.toContain('sha256');
    expect(Object.keys(m)).not.toContain('maxDownloads');
  });

  it('keeps the optional fields it is given', () => {
    const m = newManifest({
      id: 'V1StGXR8_Z5jdHi6B-myT',
      name: 'a.txt',
      size: 3,
      type: 'text/plain',
      sha256: 'b'.repeat(64),
      ownerTokenHash: 'a'.repeat(64),
      upload: { mode: 'single', partSize: 3, partCount: 1 },
      source: 'stream',
      maxDownloads: 5,
      now: T0,
      expiresAt: at(60),
    });
    expect(m).toMatchObject({ sha256: 'b'.repeat(64), maxDownloads: 5, source: 'stream', upload: { mode: 'single', partSize: 3, partCount: 1 } });
    expect(Object.keys(m.upload)).not.toContain('uploadId');
  });
});

describe('isTerminal', () => {
  it.each([
    ['uploading', false],
    ['processing', false],
    ['ready', true],
    ['failed', true],
    ['cancelled', true],
    ['expired', true],
  ] as const)('%s -> %s', (status, terminal) => {
    expect(isTerminal(status)).toBe(terminal);
  });
});

describe('effectiveStatus', () => {
  it.each<[DropStatus, number, DropStatus]>([
    ['uploading', 3599, 'uploading'],
    ['uploading', 3600, 'uploading'],
    ['uploading', 3601, 'expired'],
    ['processing', 7200, 'processing'],
    ['ready', 7200, 'ready'],
    ['cancelled', 7200, 'cancelled'],
    // The drop's lifetime: at expiresAt and after, every status reads expired.
    ...DROP_STATUSES.map((s): [DropStatus, number, DropStatus] => [s, LIFETIME - 1, s === 'uploading' ? 'expired' : s]),
    ...DROP_STATUSES.map((s): [DropStatus, number, DropStatus] => [s, LIFETIME, 'expired']),
    ...DROP_STATUSES.map((s): [DropStatus, number, DropStatus] => [s, LIFETIME + 1, 'expired']),
  ])('%s at +%is -> %s', (status, seconds, expected) => {
    expect(effectiveStatus(base({ status }), at(seconds))).toBe(expected);
  });

  it('a manifest from before drop lifetimes: expiresAt is the upload deadline and the drop never expires', () => {
    const legacy = base({ expiresAt: at(3600).toISOString(), upload: { mode: 'single', partSize: 1, partCount: 1 } });
    expect(uploadDeadline(legacy)).toBe(at(3600).getTime());
    expect(dropExpiry(legacy)).toBeUndefined();
    expect(effectiveStatus(legacy, at(3601))).toBe('expired');
    expect(effectiveStatus({ ...legacy, status: 'ready' }, at(10 * LIFETIME))).toBe('ready');
  });

  it('a drop that never expires has no expiresAt, only an upload deadline', () => {
    const m = newManifest({ ...args(), expiresAt: null, uploadExpiresAt: at(3600) });
    expect(Object.keys(m)).not.toContain('expiresAt');
    expect(m.upload.expiresAt).toBe(at(3600).toISOString());
    expect(effectiveStatus({ ...m, status: 'ready' }, at(100 * LIFETIME))).toBe('ready');
    expect(() => newManifest({ ...args(), expiresAt: null })).toThrow(RangeError);
  });

  it('the upload deadline is never after the drop expiry', () => {
    const m = newManifest({ ...args(), expiresAt: at(60), uploadExpiresAt: at(3600) });
    expect(m.upload.expiresAt).toBe(at(60).toISOString());
    expect(newManifest({ ...args(), expiresAt: at(60) }).upload.expiresAt).toBe(at(60).toISOString());
  });
});

describe('apply: the deadlines', () => {
  it.each(DROP_EVENT_TYPES)('%s keeps the drop expiry and the upload deadline', (type) => {
    for (const status of DROP_STATUSES) {
      const m = base({ status });
      const r = apply(m, events[type]);
      if (!r.ok) continue;
      expect([r.manifest.expiresAt, r.manifest.upload.expiresAt], `${status} + ${type}`).toEqual([m.expiresAt, m.upload.expiresAt]);
    }
  });
});

describe('apply: past the lifetime', () => {
  const late = at(LIFETIME + 5);
  it.each(DROP_STATUSES)('%s + expire -> expired (any state, once the lifetime has passed)', (status) => {
    const r = apply(base({ status }), { type: 'expire', at: late });
    expect(r).toMatchObject({ ok: true, manifest: { status: 'expired' }, changed: status !== 'expired' });
  });

  it.each(DROP_EVENT_TYPES.filter((t) => t !== 'expire' && t !== 'cancel'))('%s is refused on every status', (type) => {
    for (const status of DROP_STATUSES) {
      const r = apply(base({ status, maxDownloads: 5 }), { ...events[type], at: late } as DropEvent);
      expect(r.ok, `${status} + ${type}`).toBe(false);
    }
  });

  it('the owner may still delete it', () => {
    expect(apply(base({ status: 'ready' }), { type: 'cancel', at: late })).toMatchObject({ ok: true, manifest: { status: 'cancelled' } });
  });
});

describe('the creating key in the manifest', () => {
  const args = () => ({
    id: 'V1StGXR8_Z5jdHi6B-myT',
    name: 'a.png',
    size: 10,
    type: 'image/png',
    ownerTokenHash: 'h',
    upload: { mode: 'single' as const, partSize: 10, partCount: 1 },
    source: 'ticket' as const,
    now: new Date('2030-01-01T00:00:00Z'),
    expiresAt: new Date('2030-01-02T00:00:00Z'),
  });

  it('records keyId, allowedTypes and metadata (copies, not the caller\'s objects); empty metadata is not written', () => {
    const metadata = { a: '1' };
    const allowedTypes = ['image/*'];
    const m = newManifest({ ...args(), keyId: 'billing', metadata, allowedTypes });
    expect(m).toMatchObject({ keyId: 'billing', metadata: { a: '1' }, allowedTypes: ['image/*'] });
    metadata.a = '2';
    allowedTypes.push('text/*');
    expect(m.metadata).toEqual({ a: '1' });
    expect(m.allowedTypes).toEqual(['image/*']);
    const plain = newManifest({ ...args(), metadata: {} });
    expect(Object.keys(plain)).not.toContain('metadata');
    expect(Object.keys(plain)).not.toContain('keyId');
    expect(Object.keys(plain)).not.toContain('allowedTypes');
  });

  it('keeps them through every transition', () => {
    const m = newManifest({ ...args(), keyId: 'billing', metadata: { a: '1' }, allowedTypes: ['image/*'] });
    const at = new Date('2030-01-01T00:01:00Z');
    const r = apply(m, { type: 'verify_failed', at, reason: 'type not allowed' });
    expect(r.ok && r.manifest).toMatchObject({ status: 'failed', keyId: 'billing', metadata: { a: '1' }, allowedTypes: ['image/*'] });
  });
});
