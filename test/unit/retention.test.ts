import { describe, expect, it } from 'vitest';
import { newManifest, type Manifest } from '../../src/core/manifest.js';
import {
  abortIncompleteDays,
  decideLifetime,
  dropDeadlines,
  expiryBucket,
  expiryIndexKey,
  parseExpiryIndexKey,
  retentionClass,
  retentionRules,
  retentionTags,
  sweepAction,
  sweepListEnd,
  urlLifetime,
} from '../../src/core/retention.js';

const ID = 'V1StGXR8_Z5jdHi6B-myT';
const T0 = new Date('2030-01-01T00:00:00.000Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const DAY = 86_400;

const manifest = (lifetime: number | null, upload = 3600): Manifest =>
  newManifest({
    id: ID,
    name: 'a.txt',
    size: 3,
    type: 'text/plain',
    ownerTokenHash: 'a'.repeat(64),
    upload: { mode: 'single', partSize: 3, partCount: 1 },
    source: 'ticket',
    now: T0,
    expiresAt: lifetime === null ? null : at(lifetime),
    uploadExpiresAt: at(upload),
  });

describe('decideLifetime', () => {
  const limits = { defaultSeconds: 7 * DAY, maxSeconds: 30 * DAY };
  it.each<[number | undefined, { defaultSeconds: number; maxSeconds: number }, number | undefined | 'refused']>([
    [undefined, limits, 7 * DAY],
    [60, limits, 60],
    [30 * DAY, limits, 30 * DAY],
    [30 * DAY + 1, limits, 'refused'],
    [59, limits, 'refused'],
    [1, limits, 'refused'],
    [0, limits, 'refused'], // "never" only where the operator allows it
    [-1, limits, 'refused'],
    [1.5 * 60, limits, 90],
    [60.5, limits, 'refused'],
    [0, { defaultSeconds: 7 * DAY, maxSeconds: 0 }, undefined],
    [365 * DAY * 10, { defaultSeconds: 7 * DAY, maxSeconds: 0 }, 365 * DAY * 10],
    [undefined, { defaultSeconds: 0, maxSeconds: 0 }, undefined],
  ])('expiresIn %s with %j -> %s', (requested, l, expected) => {
    const d = decideLifetime(requested, l);
    if (expected === 'refused') expect(d).toMatchObject({ ok: false, min: 60, max: l.maxSeconds });
    else expect(d).toEqual({ ok: true, seconds: expected });
  });
});

describe('dropDeadlines', () => {
  it('the upload deadline is the ticket TTL, never past the drop expiry', () => {
    expect(dropDeadlines(T0, 7 * DAY, DAY)).toEqual({ expiresAt: at(7 * DAY), uploadExpiresAt: at(DAY) });
    expect(dropDeadlines(T0, 60, DAY)).toEqual({ expiresAt: at(60), uploadExpiresAt: at(60) });
    expect(dropDeadlines(T0, undefined, DAY)).toEqual({ expiresAt: null, uploadExpiresAt: at(DAY) });
  });
});

describe('urlLifetime', () => {
  it.each<[number, number, number | undefined, number]>([
    [300, 0, undefined, 300],
    [300, 0, 3600, 300],
    [300, 0, 60, 60],
    [300, 59.5, 60, 1], // under a second left: at least 1
    [300, 10, 60, 50],
  ])('ttl %i at +%is until +%ss -> %i', (ttl, now, until, expected) => {
    expect(urlLifetime(ttl, at(now), until === undefined ? undefined : at(until).getTime())).toBe(expected);
  });
});

describe('the expiry index', () => {
  it('buckets by UTC minute, and keys sort by time', () => {
    expect(expiryBucket(new Date('2030-02-03T04:05:59.999Z'))).toBe('203002030405');
    expect(expiryIndexKey(ID, new Date('2030-02-03T04:05:06Z'))).toBe(`index/expiry/203002030405/${ID}`);
    const a = expiryIndexKey(ID, new Date('2030-02-03T09:59:00Z'));
    const b = expiryIndexKey(ID, new Date('2030-02-03T10:00:00Z'));
    expect(a < b).toBe(true);
    expect(() => expiryIndexKey('../x', T0)).toThrow(RangeError);
  });

  it('parses its own keys and nothing else', () => {
    expect(parseExpiryIndexKey(`index/expiry/203002030405/${ID}`)).toEqual({ bucket: '203002030405', id: ID });
    for (const k of [`index/expiry/2030020304/${ID}`, `index/expiry/203002030405/${ID}/x`, 'index/expiry/203002030405/bad', `drops/${ID}/original`]) {
      expect(parseExpiryIndexKey(k)).toBeUndefined();
    }
  });

  it('a sweep lists every bucket up to the current minute and none after', () => {
    const now = new Date('2030-02-03T04:05:30Z');
    const end = sweepListEnd(now);
    expect(expiryIndexKey(ID, new Date('2030-02-03T04:05:59Z')) < end).toBe(true);
    expect(expiryIndexKey(ID, new Date('2029-12-31T23:59:00Z')) < end).toBe(true);
    expect(expiryIndexKey(ID, new Date('2030-02-03T04:06:00Z')) < end).toBe(false);
  });
});

describe('sweepAction', () => {
  const bucket = expiryBucket(at(60));
  it.each<[string, Manifest | undefined, number, string]>([
    ['expired', manifest(60), 60, 'purge'],
    ['expired long ago', manifest(60), 10 * DAY, 'purge'],
    ['not yet (same minute)', manifest(60), 59, 'wait'],
    ['never expires', manifest(null), 60, 'unindex'],
    ['no manifest, minute over', undefined, 120, 'purge'],
    ['no manifest, minute not over (creation may be on its way)', undefined, 60, 'wait'],
  ])('%s -> %s', (_label, m, now, kind) => {
    expect(sweepAction(bucket, m, at(now)).kind).toBe(kind);
  });

  it('a legacy manifest (no upload deadline field) is unindexed, not deleted', () => {
    const m = manifest(60);
    const legacy: Manifest = { ...m, upload: { mode: 'single', partSize: 3, partCount: 1 } };
    expect(sweepAction(bucket, legacy, at(10 * DAY)).kind).toBe('unindex');
  });
});

describe('retention classes and lifecycle rules', () => {
  it.each<[number | undefined, string | undefined]>([
    [60, 'd1'],
    [DAY, 'd1'],
    [DAY + 1, 'd2'],
    [7 * DAY, 'd7'],
    [7 * DAY + 1, 'd14'],
    [30 * DAY, 'd30'],
    [365 * DAY, 'd365'],
    [365 * DAY + 1, undefined],
    [undefined, undefined],
  ])('lifetime %s -> %s (never shorter than the lifetime)', (lifetime, cls) => {
    expect(retentionClass(lifetime)).toBe(cls);
    if (cls) expect(Number(cls.slice(1)) * DAY).toBeGreaterThanOrEqual(lifetime!);
  });

  it('tags a manifest by its lifetime; none for drops that never expire', () => {
    expect(retentionTags(manifest(7 * DAY))).toEqual({ 'dropship-retention': 'd7' });
    expect(retentionTags(manifest(null))).toEqual({});
  });

  it('one Expiration rule per class, each filtering on its tag', () => {
    const rules = retentionRules();
    expect(rules.map((r) => r.days)).toEqual([1, 2, 3, 4, 5, 6, 7, 14, 30, 60, 90, 180, 365]);
    for (const r of rules) expect(r.tag).toEqual({ key: 'dropship-retention', value: `d${r.days}` });
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
  });

  it.each([
    [60, 1],
    [DAY, 1],
    [DAY + 1, 2],
    [7 * DAY, 7],
  ])('incomplete uploads with a %is ticket are aborted after %i days, never before the deadline', (ttl, days) => {
    expect(abortIncompleteDays(ttl)).toBe(days);
    expect(days * DAY).toBeGreaterThanOrEqual(ttl);
  });
});
