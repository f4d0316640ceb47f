/** DROPSHIP_KEYS_FILE: API keys with policies; every bad file stops start-up naming the problem. */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, derivedKeyId, keySha256, loadConfig, webhooksForKey } from '../../src/config.js';

const secret = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
const hook = { url: 'https://billing.internal/hooks/dropship', secret, events: ['drop.ready', 'drop.failed'] };
const SECRET_KEY = 'billing-secret-key-0123456789';
const billing = {
  id: 'billing',
  key: SECRET_KEY,
  maxFileSize: 104857600,
  allowedTypes: ['image/*', 'application/pdf'],
  defaultExpiresIn: 86400,
  maxExpiresIn: 604800,
  webhooks: [hook],
};
const hex = (s: string) => createHash('sha256').update(s).digest('hex');

/** A config read from a keys file given as text (no file system involved). */
const withFile = (text: string, env: Record<string, string> = {}) =>
  loadConfig({ DROPSHIP_KEYS_FILE: '/etc/dropship/keys.json', ...env }, { readFile: () => text });

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('no ConfigError');
}

describe('DROPSHIP_KEYS_FILE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dropship-keys-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a real file: ids, hashed keys, policies and webhooks', () => {
    const path = join(dir, 'keys.json');
    writeFileSync(path, JSON.stringify({ keys: [billing, { id: 'ci', keySha256: hex('ci-key-0123456789abc').toUpperCase() }] }));
    const c = loadConfig({ DROPSHIP_KEYS_FILE: path });
    expect(c.keys).toEqual([
      {
        id: 'billing',
        sha256: hex(SECRET_KEY),
        maxFileSize: 104857600,
        allowedTypes: ['image/*', 'application/pdf'],
        defaultExpiresIn: 86400,
        maxExpiresIn: 604800,
        webhooks: [hook],
      },
      { id: 'ci', sha256: hex('ci-key-0123456789abc'), webhooks: [] },
    ]);
    // The secret itself is kept nowhere in the configuration.
    expect(JSON.stringify(c)).not.toContain(SECRET_KEY);
    expect(keySha256(SECRET_KEY)).toBe(hex(SECRET_KEY));
  });

  it('keeps DROPSHIP_API_KEYS working beside it, each with an id derived from its hash', () => {
    const c = withFile(JSON.stringify({ keys: [billing] }), { DROPSHIP_API_KEYS: 'legacy-one,legacy-two' });
    expect(c.keys.map((k) => k.id)).toEqual(['billing', derivedKeyId(hex('legacy-one')), derivedKeyId(hex('legacy-two'))]);
    expect(derivedKeyId(hex('legacy-one'))).toBe(`key-${hex('legacy-one').slice(0, 16)}`);
    expect(c.keys[1]).toEqual({ id: derivedKeyId(hex('legacy-one')), sha256: hex('legacy-one'), webhooks: [] });
    expect(loadConfig({ DROPSHIP_API_KEYS: 'a' }).keys).toEqual([{ id: derivedKeyId(hex('a')), sha256: hex('a'), webhooks: [] }]);
    expect(loadConfig({}).keys).toEqual([]);
  });

  it('looks up the webhooks of a key by its id', () => {
    const lookup = webhooksForKey(withFile(JSON.stringify({ keys: [billing, { id: 'ci', key: 'ci-key-0123456789abc' }] })));
    expect(lookup('billing')).toEqual([hook]);
    expect(lookup('ci')).toEqual([]);
    expect(lookup('nobody')).toEqual([]);
  });

  it('refuses a file that cannot be read, naming it', () => {
    const p = problems(() => loadConfig({ DROPSHIP_KEYS_FILE: join(dir, 'missing.json') }));
    expect(p).toEqual([expect.stringMatching(/^DROPSHIP_KEYS_FILE \(.*missing\.json\): cannot be read \(ENOENT/)]);
  });

  const entry = (over: Record<string, unknown>) => JSON.stringify({ keys: [{ ...billing, ...over }] });
  it.each([
    ['not JSON', '{"keys": [', /DROPSHIP_KEYS_FILE \(\/etc\/dropship\/keys\.json\): not JSON/],
    ['an array at the top', '[]', /DROPSHIP_KEYS_FILE \(.*\): /],
    ['no keys list', '{}', /DROPSHIP_KEYS_FILE \(.*\): .*keys/],
    ['an unknown top-level field', JSON.stringify({ keys: [], version: 2 }), /unknown field "version"/],
    ['an unknown field in a key', entry({ quota: 5 }), /keys\[0\]: unknown field "quota"/],
    ['an id with a slash', entry({ id: 'bill/ing' }), /keys\[0\]\.id/],
    ['a short key', entry({ key: 'short' }), /keys\[0\]\.key/],
    ['a keySha256 that is not hex', entry({ key: undefined, keySha256: 'xyz' }), /keys\[0\]\.keySha256/],
    ['both key and keySha256', entry({ keySha256: hex('x') }), /keys\[0\]: needs exactly one of "key" and "keySha256"/],
    ['neither key nor keySha256', entry({ key: undefined }), /keys\[0\]: needs exactly one of "key" and "keySha256"/],
    ['a negative maxFileSize', entry({ maxFileSize: -1 }), /keys\[0\]\.maxFileSize/],
    ['a maxFileSize over DROPSHIP_MAX_FILE_SIZE', entry({ maxFileSize: 6 * 1024 ** 4 }), /keys\[0\]\.maxFileSize: .* more than DROPSHIP_MAX_FILE_SIZE/],
    ['a fractional maxFileSize', entry({ maxFileSize: 1.5 }), /keys\[0\]\.maxFileSize/],
    ['a malformed allowed type', entry({ allowedTypes: ['image'] }), /keys\[0\]\.allowedTypes\.0/],
    ['an upper-case allowed type', entry({ allowedTypes: ['Image/PNG'] }), /keys\[0\]\.allowedTypes\.0/],
    ['*/* as an allowed type', entry({ allowedTypes: ['*/*'] }), /keys\[0\]\.allowedTypes\.0/],
    ['an empty allowedTypes', entry({ allowedTypes: [] }), /keys\[0\]\.allowedTypes/],
    ['a maxExpiresIn over the server maximum', entry({ maxExpiresIn: 31 * 86400 }), /keys\[0\]\.maxExpiresIn: .* more than DROPSHIP_MAX_EXPIRES_IN/],
    ['a maxExpiresIn under 60', entry({ maxExpiresIn: 30, defaultExpiresIn: undefined }), /keys\[0\]\.maxExpiresIn: must be 0 \(no maximum\) or at least 60/],
    ['maxExpiresIn 0 while the server has a maximum', entry({ maxExpiresIn: 0, defaultExpiresIn: undefined }), /keys\[0\]\.maxExpiresIn: 0 \(no maximum\) needs DROPSHIP_MAX_EXPIRES_IN=0/],
    ['a defaultExpiresIn over the key maximum', entry({ defaultExpiresIn: 604801 }), /keys\[0\]\.defaultExpiresIn: 604801 is more than the key's maxExpiresIn/],
    ['a defaultExpiresIn under 60', entry({ defaultExpiresIn: 10 }), /keys\[0\]\.defaultExpiresIn: must be 0 \(never\) or at least 60/],
    ['a defaultExpiresIn of 0 with a maximum', entry({ defaultExpiresIn: 0 }), /keys\[0\]\.defaultExpiresIn: 0 \(never\) needs a maxExpiresIn of 0/],
    ['a bad webhook URL', entry({ webhooks: [{ ...hook, url: 'ftp://x' }] }), /keys\[0\]\.webhooks\[0\]\.url/],
    ['webhooks that are not a list', entry({ webhooks: hook }), /keys\[0\]\.webhooks: must be a JSON array/],
    ['an unknown webhook event', entry({ webhooks: [{ ...hook, events: ['drop.made'] }] }), /keys\[0\]\.webhooks\[0\]\.events/],
    [
      'a duplicate id',
      JSON.stringify({ keys: [billing, { ...billing, key: 'another-key-0123456789' }] }),
      /duplicate key id "billing"/,
    ],
    [
      'a duplicate key (one as its hash)',
      JSON.stringify({ keys: [billing, { id: 'other', keySha256: hex(SECRET_KEY) }] }),
      /the key of "other" is also the key of "billing"/,
    ],
  ])('refuses %s, naming the problem', (_what, text, message) => {
    const p = problems(() => withFile(text));
    expect(p.join('\n')).toMatch(message);
  });

  it('refuses a keys-file key that is also in DROPSHIP_API_KEYS', () => {
    const p = problems(() => withFile(JSON.stringify({ keys: [billing] }), { DROPSHIP_API_KEYS: SECRET_KEY }));
    expect(p.join('\n')).toMatch(/is also the key of "billing"/);
  });

  it('lists every bad entry at once', () => {
    const p = problems(() => withFile(JSON.stringify({ keys: [{ ...billing, maxFileSize: -1 }, { ...billing, id: 'x', color: 'red' }] })));
    expect(p.some((x) => /keys\[0\]\.maxFileSize/.test(x))).toBe(true);
    expect(p.some((x) => /keys\[1\]: unknown field "color"/.test(x))).toBe(true);
    // Every problem names the file.
    for (const x of p) expect(x).toMatch(/^DROPSHIP_KEYS_FILE \(\/etc\/dropship\/keys\.json\) keys\[[01]\]/);
  });

  it('accepts no maximum where the server has none', () => {
    const c = withFile(entry({ maxExpiresIn: 0, defaultExpiresIn: 0 }), { DROPSHIP_MAX_EXPIRES_IN: '0' });
    expect(c.keys[0]).toMatchObject({ maxExpiresIn: 0, defaultExpiresIn: 0 });
  });
});

describe('DROPSHIP_KEYS_FILE beside other problems', () => {
  it('reports the keys file\'s problems with the other variables\' in one go', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'x', DROPSHIP_KEYS_FILE: 'k.json' }, { readFile: () => '{"keys": [{"id": "a"}]}' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const p = (err as ConfigError).problems.join('\n');
    expect(p).toMatch(/PORT=/);
    expect(p).toMatch(/keys\[0\]: needs exactly one of "key" and "keySha256"/);
  });
});
