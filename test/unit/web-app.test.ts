/**
 * The upload page's pure parts: the "Your drops" store (localStorage, capped, surviving a
 * full or missing storage), the choices' words and parsing, the size check before upload,
 * copy feedback's fallbacks, and a sentence for every error code the server can answer.
 */
import { describe, expect, it } from 'vitest';
import { DropshipApiError } from '../../src/client/index.js';
import { ERRORS, type ErrorCode } from '../../src/core/errors.js';
import { copyShortcut, writeClipboard } from '../../src/web/app/copy.js';
import { explain, SENTENCES } from '../../src/web/app/messages.js';
import { sentenceFor } from '../../src/client/sentences.js';
import { MAX_ENTRIES, MyDropsStore, STORAGE_KEY, statusWords, type MyDrop } from '../../src/web/app/my-drops.js';
import { checkPassword, describeChoices, expiryWords, lifetimeLabel, parseDownloadLimit, refusal } from '../../src/web/app/options.js';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/** localStorage as a Map, optionally full above `quota` characters, or throwing on every access. */
function fakeStorage(opts: { quota?: number; broken?: boolean } = {}) {
  const m = new Map<string, string>();
  return {
    map: m,
    getItem(k: string) {
      if (opts.broken) throw new DOMException('denied', 'SecurityError');
      return m.get(k) ?? null;
    },
    setItem(k: string, v: string) {
      if (opts.broken) throw new DOMException('denied', 'SecurityError');
      if (opts.quota !== undefined && v.length > opts.quota) throw new DOMException('full', 'QuotaExceededError');
      m.set(k, v);
    },
    removeItem(k: string) {
      m.delete(k);
    },
  };
}

const entry = (id: string, over: Partial<MyDrop> = {}): MyDrop => ({
  kind: 'drop',
  id,
  ownerToken: `token-${id}`,
  name: `${id}.bin`,
  size: 10,
  shareUrl: `https://drop.example.com/d/${id}`,
  createdAt: '2030-01-01T00:00:00.000Z',
  ...over,
});

describe('MyDropsStore', () => {
  it('keeps entries across instances (reloads), newest first, one per kind and id', () => {
    const storage = fakeStorage();
    const a = new MyDropsStore(storage);
    a.add(entry('one'));
    a.add(entry('two'));
    a.add(entry('one', { name: 'renamed.bin' }));
    a.add(entry('one', { kind: 'collection', name: '3 files' }));
    const b = new MyDropsStore(storage);
    expect(b.list().map((e) => [e.kind, e.id, e.name])).toEqual([
      ['collection', 'one', '3 files'],
      ['drop', 'one', 'renamed.bin'],
      ['drop', 'two', 'two.bin'],
    ]);
    expect(b.problem).toBeUndefined();
    expect(JSON.parse(storage.map.get(STORAGE_KEY)!)[0]).toMatchObject({ kind: 'collection', ownerToken: 'token-one' });
  });

  it('updates, removes and clears; a cleared list leaves nothing in storage', () => {
    const storage = fakeStorage();
    const s = new MyDropsStore(storage);
    s.add(entry('a'));
    s.add(entry('b'));
    s.update('drop', 'a', { status: 'ready', expiresAt: '2030-01-04T00:00:00.000Z' });
    expect(s.find('drop', 'a')).toMatchObject({ status: 'ready', expiresAt: '2030-01-04T00:00:00.000Z' });
    s.update('collection', 'a', { status: 'gone' });
    expect(s.find('collection', 'a')).toBeUndefined();
    s.remove('drop', 'b');
    expect(s.list().map((e) => e.id)).toEqual(['a']);
    s.clear();
    expect(s.list()).toEqual([]);
    expect(storage.map.has(STORAGE_KEY)).toBe(false);
  });

  it(`holds at most ${MAX_ENTRIES} entries: the oldest go`, () => {
    const s = new MyDropsStore(fakeStorage());
    for (let i = 0; i < MAX_ENTRIES + 5; i++) s.add(entry(`d${i}`));
    const ids = s.list().map((e) => e.id);
    expect(ids).toHaveLength(MAX_ENTRIES);
    expect(ids[0]).toBe(`d${MAX_ENTRIES + 4}`);
    expect(ids).not.toContain('d4');
    expect(ids).toContain('d5');
  });

  it('storage full: keeps the newest entries that fit and says so', () => {
    const storage = fakeStorage({ quota: 1500 });
    const s = new MyDropsStore(storage);
    for (let i = 0; i < 20; i++) s.add(entry(`d${i}`));
    expect(s.problem).toBe('full');
    const kept = s.list();
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(20);
    expect(kept[0]!.id).toBe('d19');
  });

  it('storage unavailable (blocked, private mode): the list lives for this visit and says so', () => {
    for (const storage of [undefined, fakeStorage({ broken: true })]) {
      const s = new MyDropsStore(storage);
      expect(s.problem).toBe('unavailable');
      s.add(entry('a'));
      expect(s.list().map((e) => e.id)).toEqual(['a']);
    }
  });

  it('ignores what is not an entry (another version, a hand edit)', () => {
    const storage = fakeStorage();
    storage.setItem(STORAGE_KEY, JSON.stringify([entry('ok'), { id: 'x' }, null, entry('bad', { kind: 'folder' as 'drop' })]));
    expect(new MyDropsStore(storage).list().map((e) => e.id)).toEqual(['ok']);
    storage.setItem(STORAGE_KEY, '{not json');
    expect(new MyDropsStore(storage).list()).toEqual([]);
  });

  it('says what state an entry is in', () => {
    const now = Date.parse('2030-01-02T00:00:00.000Z');
    expect(statusWords({ status: 'ready' }, now)).toBe('Ready');
    expect(statusWords({ status: 'cancelled' }, now)).toMatch(/Deleted.*no longer works/);
    expect(statusWords({ status: 'gone' }, now)).toMatch(/^Gone/);
    expect(statusWords({ expiresAt: '2030-01-01T00:00:00.000Z' }, now)).toMatch(/^Expired/);
  });
});

describe('choices', () => {
  it.each([
    [3600, '1 hour'],
    [6 * 3600, '6 hours'],
    [86_400, '1 day'],
    [3 * 86_400, '3 days'],
    [14 * 86_400, '14 days'],
    [30 * 86_400, '30 days'],
    [365 * 86_400, '1 year'],
    [45 * 60, '45 minutes'],
    [90 * 60, '90 minutes'],
    [100_000, '1 day'],
    [0, 'never expires'],
  ])('lifetime %i s is "%s"', (s, words) => {
    expect(lifetimeLabel(s)).toBe(words);
  });

  it.each([
    ['2030-01-04T00:00:00.000Z', 'expires in 3 days'],
    ['2030-01-01T05:30:00.000Z', 'expires in 5 hours'],
    ['2030-01-01T00:01:59.000Z', 'expires in 1 minute'],
    ['2030-01-01T00:00:30.000Z', 'expires in 30 seconds'],
    ['2029-12-31T00:00:00.000Z', 'expired'],
    [undefined, 'never expires'],
  ])('expiry %s from midnight: "%s"', (at, words) => {
    expect(expiryWords(at, Date.parse('2030-01-01T00:00:00.000Z'))).toBe(words);
  });

  it.each<[string, number | undefined | 'error']>([
    ['', undefined],
    ['  ', undefined],
    ['1', 1],
    ['25', 25],
    ['1000000', 1_000_000],
    ['0', 'error'],
    ['-3', 'error'],
    ['2.5', 'error'],
    ['ten', 'error'],
    ['1000001', 'error'],
  ])('download limit "%s" → %s', (text, expected) => {
    const r = parseDownloadLimit(text, 1_000_000);
    if (expected === 'error') expect(r).toMatchObject({ ok: false, message: expect.stringMatching(/whole number from 1 to 1,000,000/) });
    else expect(r).toEqual({ ok: true, value: expected });
  });

  it('passwords: empty is none, 4..256 characters', () => {
    expect(checkPassword('')).toEqual({ ok: true, value: undefined });
    expect(checkPassword('abc')).toMatchObject({ ok: false, message: expect.stringMatching(/at least 4/) });
    expect(checkPassword('abcd')).toEqual({ ok: true, value: 'abcd' });
    expect(checkPassword('é'.repeat(256))).toMatchObject({ ok: true });
    expect(checkPassword('x'.repeat(257))).toMatchObject({ ok: false, message: expect.stringMatching(/at most 256/) });
  });

  it('a card says what its drop was made with', () => {
    const limits = { expiry: { default: 7 * 86_400, max: 30 * 86_400, options: [] } };
    expect(describeChoices({}, limits)).toBe('Expires after 7 days · no download limit');
    expect(describeChoices({ expiresIn: 3600, maxDownloads: 1, password: 'abcd' }, limits)).toBe(
      'Expires after 1 hour · at most 1 download · password needed to download',
    );
    expect(describeChoices({ expiresIn: 0, maxDownloads: 5 }, limits)).toBe('Never expires · at most 5 downloads');
  });

  it('a file over the server\'s limit is refused before upload, in human units', () => {
    expect(refusal({ name: 'holiday.mov', size: 7.2 * GIB }, { maxFileSize: 5 * GIB })).toBe(
      '“holiday.mov” is 7.20 GiB; this server accepts files up to 5.00 GiB.',
    );
    expect(refusal({ name: 'ok.bin', size: 5 * GIB }, { maxFileSize: 5 * GIB })).toBeUndefined();
    expect(refusal({ name: 'unknown.bin', size: 5 * GIB }, undefined)).toBeUndefined();
  });
});

describe('copy feedback', () => {
  it('the shortcut follows the platform', () => {
    expect(copyShortcut('MacIntel')).toBe('⌘C');
    expect(copyShortcut('iPhone')).toBe('⌘C');
    expect(copyShortcut('Linux x86_64')).toBe('Ctrl+C');
    expect(copyShortcut('Win32')).toBe('Ctrl+C');
  });

  it('a refused or missing clipboard is false, not an error', async () => {
    const written: string[] = [];
    await expect(writeClipboard('x', { writeText: async (t) => void written.push(t) })).resolves.toBe(true);
    await expect(writeClipboard('x', { writeText: () => Promise.reject(new DOMException('no', 'NotAllowedError')) })).resolves.toBe(false);
    await expect(writeClipboard('x', undefined)).resolves.toBe(false);
    expect(written).toEqual(['x']);
  });
});

describe('every error code the server can answer has a sentence', () => {
  const codes = Object.keys(ERRORS) as ErrorCode[];

  it.each(codes)('%s', (code) => {
    // The upload's own sentence (it names the file), else the SDK's, complete for every code.
    expect(SENTENCES[code] ?? sentenceFor(code), `${code} has no sentence`).toBeDefined();
    const e = new DropshipApiError(ERRORS[code], code, 'the server\'s own words', { maxSize: 5 * GIB, allowedTypes: ['image/*'] });
    const ex = explain(e, 'report.pdf', true);
    expect(ex.message).not.toContain(code);
    expect(ex.message.length).toBeGreaterThan(15);
    expect(ex.message).toMatch(/[.!?]$/);
  });

  it('sizes are in human units, waits in seconds', () => {
    expect(explain(new DropshipApiError(413, 'FILE_TOO_LARGE', 'x', { maxSize: 5 * GIB }), 'big.iso', true).message).toBe(
      '“big.iso” is too large: this server accepts files up to 5.00 GiB.',
    );
    expect(explain(new DropshipApiError(503, 'UPLOAD_SLOTS_FULL', 'x', undefined, 7), 'a', true)).toEqual({
      message: 'The server is busy. Trying again in 7 s.',
      retryable: true,
      retryAfter: 7,
    });
    expect(explain(new DropshipApiError(415, 'TYPE_NOT_ALLOWED', 'x', { allowedTypes: ['image/*', 'application/pdf'] }), 'a.zip', true).message).toBe(
      '“a.zip” is a kind of file this server does not take (it takes image/*, application/pdf).',
    );
  });

  it('the upload table holds only codes of the catalogue', () => {
    for (const code of Object.keys(SENTENCES)) expect(codes).toContain(code);
  });
});
