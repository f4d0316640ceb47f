/** The pure password and unlock decisions (src/core/passwords.ts, src/core/unlock.ts). */
import { describe, expect, it } from 'vitest';
import { hashPassword, parsePasswordHash, passwordLengthOk, redactPasswordsInUrl, verifyPassword } from '../../src/core/passwords.js';
import { attemptVerdict, checkUnlockToken, readerSees, signUnlockToken } from '../../src/core/unlock.js';
import { refuseCrossSiteForm } from '../../src/core/fetch-metadata.js';

const FAST = { N: 1024, r: 8, p: 1 };

describe('password hashes', () => {
  it('verifies the right password only, with a new salt every time', async () => {
    const a = await hashPassword('correct horse', FAST);
    const b = await hashPassword('correct horse', FAST);
    expect(a).not.toBe(b);
    expect(a.startsWith('scrypt$1024$8$1$')).toBe(true);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('correct hors', a)).toBe(false);
    expect(await verifyPassword('Correct horse', a)).toBe(false);
  });

  it('uses the parameters recorded with the hash (they can change later)', async () => {
    const older = await hashPassword('pw-pw-pw', { N: 2048, r: 4, p: 2 });
    expect(parsePasswordHash(older)?.params).toEqual({ N: 2048, r: 4, p: 2 });
    expect(await verifyPassword('pw-pw-pw', older)).toBe(true);
    expect((await hashPassword('x'.repeat(4))).split('$').slice(1, 4)).toEqual(['32768', '8', '1']);
  });

  it('treats the same text in either Unicode normal form as one password', async () => {
    expect(await verifyPassword('caf\u0065\u0301', await hashPassword('caf\u00e9', FAST))).toBe(true);
  });

  it.each([
    ['not scrypt', 'bcrypt$10$x$y$z$w'],
    ['N not a power of two', 'scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['N too large (memory bomb)', 'scrypt$4194304$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['r too large', 'scrypt$1024$64$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['p zero', 'scrypt$1024$8$0$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['short key', 'scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAA'],
    ['missing part', 'scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA'],
  ])('an unreadable stored hash (%s) verifies nothing', async (_what, stored) => {
    expect(parsePasswordHash(stored)).toBeUndefined();
    expect(await verifyPassword('anything', stored)).toBe(false);
  });

  it.each([
    ['abc', false],
    ['abcd', true],
    ['x'.repeat(256), true],
    ['x'.repeat(257), false],
    ['😀😀😀😀', true],
  ])('length of %j acceptable: %s', (p, ok) => expect(passwordLengthOk(p)).toBe(ok));

  it.each([
    ['/s3/params?filename=a&metadata[password]=hunter2&x=1', '/s3/params?filename=a&metadata[password]=[redacted]&x=1'],
    ['/s3/params?metadata%5Bpassword%5D=hunter2', '/s3/params?metadata%5Bpassword%5D=[redacted]'],
    ['/d/x?password=hunter2', '/d/x?password=[redacted]'],
    ['/v1/drops', '/v1/drops'],
    ['/s3/params?filename=password.txt', '/s3/params?filename=password.txt'],
  ])('redacts %s in logs', (url, logged) => expect(redactPasswordsInUrl(url)).toBe(logged));
});

describe('unlock tokens', () => {
  const base = { secret: 's'.repeat(32), id: 'V1StGXR8_Z5jdHi6B-myT', passwordHash: 'scrypt$1$2$3$salt$key' };
  const now = new Date('2030-01-01T00:00:00Z');
  const token = signUnlockToken({ ...base, expiresAt: now.getTime() + 3600_000 });

  it.each([
    ['the token as made', token, base, now, true],
    ['one ms before expiry', token, base, new Date(now.getTime() + 3599_999), true],
    ['at its expiry', token, base, new Date(now.getTime() + 3600_000), false],
    ['another drop', token, { ...base, id: 'A1StGXR8_Z5jdHi6B-myT' }, now, false],
    ['a changed password', token, { ...base, passwordHash: 'scrypt$1$2$3$salt$other' }, now, false],
    ['another secret', token, { ...base, secret: 't'.repeat(32) }, now, false],
    ['expiry rewritten', token.replace(/^\d+/, String(now.getTime() + 86400_000)), base, now, false],
    ['no token', undefined, base, now, false],
    ['junk', 'abc.def', base, now, false],
    ['too long', `${'9'.repeat(200)}.x`, base, now, false],
  ] as const)('%s: %s', (_what, t, args, at, ok) => {
    expect(checkUnlockToken(t, { ...args, now: at })).toBe(ok);
  });
});

describe('who sees a drop', () => {
  const none = { owner: false, creatorKey: false, unlocked: false };
  it.each([
    [false, none, 'full'],
    [true, none, 'protected'],
    [true, { ...none, owner: true }, 'full'],
    [true, { ...none, creatorKey: true }, 'full'],
    [true, { ...none, unlocked: true }, 'full'],
  ] as const)('protected %s, reader %j: %s', (prot, reader, sees) => {
    expect(readerSees({ protected: prot }, reader)).toBe(sees);
  });
});

describe('attempt limits', () => {
  const limits = { perClient: 5, perDrop: 50, windowMs: 900_000 };
  const at = (n: number, t: number) => Array.from({ length: n }, () => t);
  it.each([
    ['no attempts yet', { client: [], drop: [] }, 1000, { ok: true }],
    ['4 by this client', { client: at(4, 0), drop: at(4, 0) }, 1000, { ok: true }],
    ['5 by this client', { client: at(5, 0), drop: at(5, 0) }, 1000, { ok: false, scope: 'client', retryAfter: 899 }],
    ['5 that left the window', { client: at(5, 0), drop: at(5, 0) }, 900_000, { ok: true }],
    ['oldest leaves soonest', { client: [0, 100_000, 100_000, 100_000, 100_000], drop: [] }, 899_500, { ok: false, scope: 'client', retryAfter: 1 }],
    ['50 on the drop by others', { client: [], drop: at(50, 0) }, 60_000, { ok: false, scope: 'drop', retryAfter: 840 }],
    ['49 on the drop', { client: [], drop: at(49, 0) }, 60_000, { ok: true }],
  ] as const)('%s', (_what, counted, now, verdict) => {
    expect(attemptVerdict({ client: [...counted.client], drop: [...counted.drop] }, now, limits)).toEqual(verdict);
  });
});

describe('the unlock form comes only from its own page', () => {
  const own = 'https://drops.example';
  it.each([
    [{}, true],
    [{ secFetchSite: 'same-origin', origin: own }, true],
    [{ secFetchSite: 'none' }, true],
    // The share page's no-referrer policy: Chromium sends Origin: null for its own form.
    [{ secFetchSite: 'same-origin', origin: 'null' }, true],
    [{ origin: own }, true],
    [{ secFetchSite: 'same-site', origin: 'https://other.drops.example' }, false],
    [{ secFetchSite: 'cross-site', origin: 'https://evil.example' }, false],
    [{ origin: 'https://evil.example' }, false],
    [{ origin: 'null' }, false],
  ])('%j: %s', (h, ok) => expect(refuseCrossSiteForm(h, own).ok).toBe(ok));
});
