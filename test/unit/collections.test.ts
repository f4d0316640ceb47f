/** The pure decisions of collections: membership, the limit, the lifetime, the view, the sweep, zip names. */
import { describe, expect, it } from 'vitest';
import {
  addable,
  addDrops,
  cleanTitle,
  collectionExpiry,
  collectionExpiryKey,
  collectionRetentionTags,
  collectionState,
  collectionSweepAction,
  collectionView,
  markDeleted,
  newCollection,
  parseCollectionExpiryKey,
  type Candidate,
  type Collection,
} from '../../src/core/collections.js';
import type { DropStatus } from '../../src/core/manifest.js';
import { uniqueNames } from '../../src/core/zip-names.js';

const T0 = new Date('2030-01-01T00:00:00.000Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const ms = (s: number) => T0.getTime() + s * 1000;
const DAY = 86_400;
const ids = ['AAAAAAAAAAAAAAAAAAAAA', 'BBBBBBBBBBBBBBBBBBBBB', 'CCCCCCCCCCCCCCCCCCCCC', 'DDDDDDDDDDDDDDDDDDDDD'];
const CID = 'Q3bTn8vLk2Xw9pRz4HsYd';
const fresh = (over: Partial<Collection> = {}): Collection => ({ ...newCollection({ id: CID, ownerTokenHash: 'a'.repeat(64), now: T0, emptyLifetime: DAY }), ...over });
/** `expiresIn` null: the drop never expires. */
const cand = (i: number, status: DropStatus = 'uploading', expiresIn: number | null = 7 * DAY): Candidate => ({
  id: ids[i]!,
  status,
  expiresAt: expiresIn === null ? undefined : ms(expiresIn),
});

describe('addable: which drops may join a collection', () => {
  it.each<[DropStatus, boolean]>([
    ['uploading', true],
    ['processing', true],
    ['ready', true],
    ['failed', false],
    ['cancelled', false],
    ['expired', false],
  ])('%s → %s', (status, ok) => expect(addable(status)).toBe(ok));
});

describe('collectionExpiry: until its last drop expires, never less than the empty lifetime', () => {
  it.each<[string, (number | undefined)[], number | undefined]>([
    ['no drops: the empty lifetime', [], ms(DAY)],
    ['drops shorter than the empty lifetime', [ms(60), ms(3600)], ms(DAY)],
    ['the latest drop', [ms(3 * DAY), ms(7 * DAY), ms(2 * DAY)], ms(7 * DAY)],
    ['a drop that never expires: never', [ms(3 * DAY), undefined], undefined],
  ])('%s', (_what, drops, end) => expect(collectionExpiry(T0.getTime(), DAY, drops)).toBe(end));
});

describe('cleanTitle', () => {
  it.each<[string | undefined, string | undefined]>([
    [undefined, undefined],
    ['', undefined],
    ['   ', undefined],
    ['  Holiday  ', 'Holiday'],
    ['a\u0000b\nc', 'a b c'],
    ['x'.repeat(500), 'x'.repeat(200)],
  ])('%j → %j', (t, want) => expect(cleanTitle(t)).toBe(want));
});

describe('newCollection', () => {
  it('starts empty, lives the empty lifetime, keeps title and key', () => {
    const c = newCollection({ id: CID, ownerTokenHash: 'h', now: T0, emptyLifetime: DAY, title: ' Trip ', keyId: 'k1' });
    expect(c).toEqual({ v: 1, id: CID, title: 'Trip', ownerTokenHash: 'h', createdAt: T0.toISOString(), expiresAt: at(DAY).toISOString(), keyId: 'k1', drops: [] });
  });
  it('refuses an id that is not server-made', () => {
    expect(() => newCollection({ id: '../x', ownerTokenHash: 'h', now: T0, emptyLifetime: DAY })).toThrow(RangeError);
  });
});

describe('addDrops', () => {
  it('adds in the order given and extends the expiry to the latest drop', () => {
    const r = addDrops(fresh(), [cand(0, 'ready', 3 * DAY), cand(1, 'uploading', 7 * DAY)], at(10), DAY);
    expect(r.ok && r.changed).toBe(true);
    if (!r.ok) return;
    expect(r.collection.drops).toEqual([
      { id: ids[0], addedAt: at(10).toISOString() },
      { id: ids[1], addedAt: at(10).toISOString() },
    ]);
    expect(r.collection.expiresAt).toBe(at(7 * DAY).toISOString());
  });

  it('a drop already in it stays where it is (idempotent)', () => {
    const first = addDrops(fresh(), [cand(0), cand(1)], at(10), DAY);
    if (!first.ok) throw new Error('refused');
    const again = addDrops(first.collection, [cand(1), cand(0)], at(20), DAY);
    expect(again).toEqual({ ok: true, collection: first.collection, changed: false });
    const more = addDrops(first.collection, [cand(1), cand(2), cand(2)], at(20), DAY);
    expect(more.ok && more.collection.drops.map((d) => d.id)).toEqual([ids[0], ids[1], ids[2]]);
  });

  it('never shortens the expiry, and a never-expiring drop makes it never expire', () => {
    const long = addDrops(fresh(), [cand(0, 'ready', 30 * DAY)], at(1), DAY);
    if (!long.ok) throw new Error('refused');
    const short = addDrops(long.collection, [cand(1, 'ready', 2 * DAY)], at(2), DAY);
    expect(short.ok && short.collection.expiresAt).toBe(at(30 * DAY).toISOString());
    const never = addDrops(long.collection, [cand(2, 'ready', null)], at(2), DAY);
    expect(never.ok && never.collection.expiresAt).toBeNull();
    const after = never.ok ? addDrops(never.collection, [cand(3, 'ready', DAY)], at(3), DAY) : never;
    expect(after.ok && after.collection.expiresAt).toBeNull();
  });

  it.each<DropStatus>(['failed', 'cancelled', 'expired'])('refuses a %s drop, adding none of the batch', (status) => {
    expect(addDrops(fresh(), [cand(0), cand(1, status)], at(1), DAY)).toEqual({ ok: false, code: 'NOT_ADDABLE', dropId: ids[1], status });
  });

  it('refuses past the limit, all or nothing; up to it is fine', () => {
    const one = addDrops(fresh(), [cand(0)], at(1), DAY, 2);
    if (!one.ok) throw new Error('refused');
    expect(addDrops(one.collection, [cand(1), cand(2)], at(2), DAY, 2)).toEqual({ ok: false, code: 'FULL', max: 2 });
    const two = addDrops(one.collection, [cand(1)], at(2), DAY, 2);
    expect(two.ok && two.collection.drops).toHaveLength(2);
    // Adding one already in a full collection is no change, not a refusal.
    expect(two.ok && addDrops(two.collection, [cand(0)], at(3), DAY, 2).ok).toBe(true);
  });

  it('refuses a deleted or expired collection', () => {
    expect(addDrops(fresh({ deletedAt: at(5).toISOString() }), [cand(0)], at(6), DAY)).toEqual({ ok: false, code: 'DELETED' });
    expect(addDrops(fresh(), [cand(0)], at(DAY), DAY)).toEqual({ ok: false, code: 'EXPIRED' });
  });
});

describe('collectionState and markDeleted', () => {
  it.each<[string, Partial<Collection>, number, string]>([
    ['new', {}, 0, 'live'],
    ['just before its expiry', {}, DAY - 1, 'live'],
    ['at its expiry', {}, DAY, 'expired'],
    ['never expiring, much later', { expiresAt: null }, 3650 * DAY, 'live'],
    ['deleted', { deletedAt: at(1).toISOString() }, 2, 'deleted'],
  ])('%s → %s', (_w, over, s, state) => expect(collectionState(fresh(over), at(s))).toBe(state));

  it('marks once', () => {
    const d = markDeleted(fresh(), at(5));
    expect(d.changed).toBe(true);
    expect(d.collection.deletedAt).toBe(at(5).toISOString());
    expect(markDeleted(d.collection, at(9))).toEqual({ collection: d.collection, changed: false });
  });
});

describe('collectionView', () => {
  it('lists the drops still there in the order added', () => {
    const c = fresh({ title: 'Trip', drops: ids.slice(0, 3).map((id) => ({ id, addedAt: T0.toISOString() })) });
    const views = new Map([
      [ids[2]!, { n: 2 }],
      [ids[0]!, { n: 0 }],
    ]);
    expect(collectionView(c, 'http://x', views)).toEqual({
      id: CID,
      title: 'Trip',
      createdAt: T0.toISOString(),
      expiresAt: at(DAY).toISOString(),
      shareUrl: `http://x/c/${CID}`,
      drops: [{ n: 0 }, { n: 2 }],
    });
    expect(collectionView(fresh({ expiresAt: null }), 'http://x', new Map())).toEqual({ id: CID, title: null, createdAt: T0.toISOString(), shareUrl: `http://x/c/${CID}`, drops: [] });
  });
});

describe('uniqueNames: zip entries never collide', () => {
  it.each<[string[], string[]]>([
    [['a.txt', 'b.txt'], ['a.txt', 'b.txt']],
    [['a.txt', 'a.txt', 'a.txt'], ['a.txt', 'a (2).txt', 'a (3).txt']],
    [['A.TXT', 'a.txt'], ['A.TXT', 'a (2).txt']],
    [['README', 'README'], ['README', 'README (2)']],
    [['.env', '.env'], ['.env', '.env (2)']],
    [['a (2).txt', 'a.txt', 'a.txt'], ['a (2).txt', 'a.txt', 'a (3).txt']],
    [['x.tar.gz', 'x.tar.gz'], ['x.tar.gz', 'x.tar (2).gz']],
  ])('%j → %j', (names, want) => expect(uniqueNames(names)).toEqual(want));
});

describe('the collection expiry index and the sweep', () => {
  it('keys a marker by the UTC minute and parses it back; junk is not a marker', () => {
    const key = collectionExpiryKey(CID, new Date('2030-01-08T12:34:56Z'));
    expect(key).toBe(`index/collection-expiry/203001081234/${CID}`);
    expect(parseCollectionExpiryKey(key)).toEqual({ bucket: '203001081234', id: CID });
    for (const junk of ['index/collection-expiry/2030/x', `index/collection-expiry/203001081234/${CID}/x`, `index/expiry/203001081234/${CID}`]) {
      expect(parseCollectionExpiryKey(junk)).toBeUndefined();
    }
    expect(() => collectionExpiryKey('../..', T0)).toThrow(RangeError);
  });

  const bucket = (s: number) => collectionExpiryKey(CID, at(s)).split('/')[2]!;
  it.each<[string, string, Collection | undefined, number, string]>([
    ['due', bucket(DAY), fresh(), DAY, 'purge'],
    ['not yet', bucket(DAY), fresh(), DAY - 30, 'wait'],
    ['stale: the expiry grew since', bucket(DAY), fresh({ expiresAt: at(7 * DAY).toISOString() }), DAY + 60, 'unindex'],
    ['never expires now', bucket(DAY), fresh({ expiresAt: null }), DAY + 60, 'unindex'],
    ['deleted and due: the tombstone goes', bucket(DAY), fresh({ deletedAt: at(5).toISOString() }), DAY, 'purge'],
    ['no record, minute past', bucket(DAY), undefined, DAY + 120, 'purge'],
    ['no record, same minute (creation on its way)', bucket(DAY), undefined, DAY, 'wait'],
  ])('%s', (_w, b, c, s, kind) => expect(collectionSweepAction(b, c, at(s)).kind).toBe(kind));

  it('tags the record with the retention class of its lifetime', () => {
    expect(collectionRetentionTags(fresh())).toEqual({ 'dropship-retention': 'd1' });
    expect(collectionRetentionTags(fresh({ expiresAt: at(10 * DAY).toISOString() }))).toEqual({ 'dropship-retention': 'd14' });
    expect(collectionRetentionTags(fresh({ expiresAt: null }))).toEqual({});
  });
});
