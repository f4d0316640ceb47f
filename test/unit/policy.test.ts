/** Per-key policies (src/core/policy.ts) and the worker's sniffed-type decision (src/core/processing.ts). */
import { describe, expect, it } from 'vitest';
import { checkTicket, lifetimeLimits, maxFileSize, typeAllowed } from '../../src/core/policy.js';
import { checkSniffedType } from '../../src/core/processing.js';

const MIB = 1024 * 1024;

describe('typeAllowed', () => {
  it.each([
    ['image/png', ['image/*'], true],
    ['IMAGE/PNG; q=1', ['image/*'], true],
    ['application/pdf', ['image/*', 'application/pdf'], true],
    ['application/pdf', ['image/*'], false],
    ['application/pdfx', ['application/pdf'], false],
    ['imagex/png', ['image/*'], false],
    ['image', ['image/*'], false],
    ['image/', ['image/*'], false],
    ['/png', ['image/*'], false],
    ['anything/at-all', undefined, true],
  ] as const)('%s against %j → %s', (type, allowed, expected) => {
    expect(typeAllowed(type, allowed as string[] | undefined)).toBe(expected);
  });
});

describe('checkTicket', () => {
  const policy = { maxFileSize: MIB, allowedTypes: ['image/*'] };
  it.each([
    ['no policy', undefined, { size: 10 * MIB, type: 'application/pdf' }, 'ok'],
    ['within every limit', policy, { size: MIB, type: 'image/png' }, 'ok'],
    ['over maxFileSize', policy, { size: 2 * MIB, type: 'image/png' }, 'FILE_TOO_LARGE'],
    ['a type not allowed', policy, { size: 10, type: 'application/pdf' }, 'TYPE_NOT_ALLOWED'],
    ['no declared type', policy, { size: 10 }, 'TYPE_NOT_ALLOWED'],
    ['an empty declared type', policy, { size: 10, type: ' ' }, 'TYPE_NOT_ALLOWED'],
    ['a stream of unknown length', policy, { type: 'image/png' }, 'ok'],
    ['size only, any type', { maxFileSize: MIB }, { size: 5 }, 'ok'],
    ['types only, any size', { allowedTypes: ['application/pdf'] }, { size: 5 * 1024 * MIB, type: 'application/pdf' }, 'ok'],
  ] as const)('%s → %s', (_what, p, req, expected) => {
    const r = checkTicket(p, req);
    expect(r.ok ? 'ok' : r.code).toBe(expected);
  });

  it('says what is allowed', () => {
    expect(checkTicket(policy, { size: 2 * MIB, type: 'image/png' })).toMatchObject({ details: { maxSize: MIB } });
    expect(checkTicket(policy, { size: 1, type: 'application/pdf' })).toMatchObject({
      details: { allowedTypes: ['image/*'], type: 'application/pdf' },
      message: expect.stringContaining('image/*'),
    });
  });
});

describe('lifetimeLimits and maxFileSize', () => {
  const server = { defaultSeconds: 7 * 86400, maxSeconds: 30 * 86400 };
  it.each([
    ['no policy', undefined, server],
    ['a key with both', { defaultExpiresIn: 86400, maxExpiresIn: 604800 }, { defaultSeconds: 86400, maxSeconds: 604800 }],
    ['a maximum below the server default', { maxExpiresIn: 3600 }, { defaultSeconds: 3600, maxSeconds: 3600 }],
    ['a maximum above the server default', { maxExpiresIn: 14 * 86400 }, { defaultSeconds: 7 * 86400, maxSeconds: 14 * 86400 }],
    ['a default only', { defaultExpiresIn: 600 }, { defaultSeconds: 600, maxSeconds: 30 * 86400 }],
  ] as const)('%s', (_what, p, expected) => {
    expect(lifetimeLimits(p, server)).toEqual(expected);
  });

  it('a server that never expires gives a key with a maximum that maximum as default', () => {
    expect(lifetimeLimits({ maxExpiresIn: 600 }, { defaultSeconds: 0, maxSeconds: 0 })).toEqual({ defaultSeconds: 600, maxSeconds: 600 });
  });

  it('never lets a key above the server', () => {
    expect(maxFileSize(undefined, 100)).toBe(100);
    expect(maxFileSize({ maxFileSize: 10 }, 100)).toBe(10);
    expect(maxFileSize({ maxFileSize: 1000 }, 100)).toBe(100);
  });
});

describe('checkSniffedType (the worker, after sniffing)', () => {
  it.each([
    ['no allowed types recorded', undefined, 'application/pdf', 'application/x-msdownload', true],
    ['bytes of an allowed type', ['image/*'], 'image/png', 'image/jpeg', true],
    ['PNG declared, PDF bytes', ['image/*'], 'image/png', 'application/pdf', false],
    ['exact type', ['application/pdf'], 'application/pdf', 'application/pdf', true],
    ['unknown binary', ['image/*'], 'image/png', 'application/octet-stream', false],
    ['text declared as an allowed text type', ['text/csv'], 'text/csv', 'text/plain', true],
    ['text declared as a type not allowed', ['text/csv'], 'text/html', 'text/plain', false],
    ['text bytes for an image key', ['image/*'], 'image/png', 'text/plain', false],
  ] as const)('%s', (_what, allowed, declared, sniffed, ok) => {
    const m = { type: declared, ...(allowed ? { allowedTypes: [...allowed] } : {}) };
    const r = checkSniffedType(m, sniffed);
    expect(r.ok).toBe(ok);
    if (!r.ok) expect(r.reason).toMatch(new RegExp(`^type not allowed: the bytes are ${sniffed.replace('/', '\\/')}`));
  });
});
