/** The upload page's memory of the collections it made (app/batch.ts), with storage passed in. */
import { describe, expect, it } from 'vitest';
import { CollectionStore, batchTitle, type RememberedCollection } from '../../src/web/app/batch.js';

function memoryStorage() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k), m };
}

const entry = (id: string): RememberedCollection => ({ id, shareUrl: `http://x/c/${id}`, ownerToken: `t-${id}`, title: 'T', createdAt: '2030-01-01T00:00:00.000Z', dropIds: [] });

describe('CollectionStore', () => {
  it('keeps what a list of the browser\'s uploads needs: id, link, owner token, title, drops; newest first', () => {
    const storage = memoryStorage();
    const store = new CollectionStore(storage);
    let changes = 0;
    store.onChange = () => changes++;
    store.save(entry('a'));
    store.save(entry('b'));
    store.addDrop('a', 'd1');
    store.addDrop('a', 'd1');
    store.addDrop('nope', 'd2');
    expect(new CollectionStore(storage).list().map((c) => [c.id, c.ownerToken, c.dropIds])).toEqual([
      ['b', 't-b', []],
      ['a', 't-a', ['d1']],
    ]);
    store.remove('b');
    store.remove('a');
    expect(storage.m.size).toBe(0);
    expect(changes).toBe(5);
  });

  it('ignores junk and survives storage that throws', () => {
    const storage = memoryStorage();
    storage.setItem('dropship.collections.v1', JSON.stringify([{ id: 1 }, entry('ok'), 'x']));
    expect(new CollectionStore(storage).list().map((c) => c.id)).toEqual(['ok']);
    storage.setItem('dropship.collections.v1', '{not json');
    expect(new CollectionStore(storage).list()).toEqual([]);
    const broken = { getItem: () => null, setItem: () => { throw new Error('full'); }, removeItem: () => {} };
    expect(() => new CollectionStore(broken).save(entry('a'))).not.toThrow();
    expect(new CollectionStore(undefined).list()).toEqual([]);
  });
});

describe('batchTitle', () => {
  it.each<[string[], string]>([
    [['a.jpg', 'b.pdf', 'c.zip'], 'a.jpg and 2 more'],
    [['a.jpg', 'b.pdf'], 'a.jpg and 1 more'],
    [['a.jpg'], 'a.jpg'],
  ])('%j → %s', (names, title) => expect(batchTitle(names.map((name) => ({ name }) as File))).toBe(title));
});
