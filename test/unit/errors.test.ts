import { describe, expect, it } from 'vitest';
import { DropshipError, ERRORS, fail, type ErrorCode } from '../../src/core/errors.js';

const codes = Object.keys(ERRORS) as ErrorCode[];

describe('DropshipError', () => {
  it.each(codes)('%s carries its catalogue status', (code) => {
    const error = new DropshipError(code, 'something went wrong');
    expect(error.code).toBe(code);
    expect(error.status).toBe(ERRORS[code]);
  });

  it('is an Error that names itself in logs and stack traces', () => {
    const error = new DropshipError('DROP_NOT_FOUND', 'no such drop');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('DropshipError');
    expect(String(error)).toBe('DropshipError: no such drop');
    expect(error.stack?.startsWith('DropshipError: no such drop')).toBe(true);
  });

  it('keeps details and Retry-After when given, and has none otherwise', () => {
    const full = new DropshipError('UPLOAD_SLOTS_FULL', 'busy', { slots: 4 }, 7);
    expect(full.details).toEqual({ slots: 4 });
    expect(full.retryAfter).toBe(7);
    const bare = new DropshipError('INTERNAL', 'oops');
    expect(bare.details).toBeUndefined();
    expect(bare.retryAfter).toBeUndefined();
  });
});

describe('fail', () => {
  it('makes the same DropshipError the constructor does, for throwing in one expression', () => {
    const error = fail('RATE_LIMITED', 'slow down', { limit: 100 }, 30);
    expect(error).toBeInstanceOf(DropshipError);
    expect(error).toMatchObject({ code: 'RATE_LIMITED', status: 429, message: 'slow down', details: { limit: 100 }, retryAfter: 30 });
    expect(() => {
      throw fail('DROP_EXPIRED', 'gone');
    }).toThrow(expect.objectContaining({ code: 'DROP_EXPIRED', status: 410 }));
  });
});

describe('ERRORS', () => {
  it('maps every code to an HTTP error status', () => {
    expect(codes.length).toBeGreaterThan(0);
    for (const code of codes) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(ERRORS[code]).toBeGreaterThanOrEqual(400);
      expect(ERRORS[code]).toBeLessThan(600);
    }
  });

  it.each<[ErrorCode, number]>([
    ['VALIDATION_FAILED', 400],
    ['OWNER_TOKEN_INVALID', 403],
    ['DROP_NOT_FOUND', 404],
    ['DROP_NOT_READY', 409],
    ['DROP_EXPIRED', 410],
    ['FILE_TOO_LARGE', 413],
    ['RATE_LIMITED', 429],
    ['INTERNAL', 500],
    ['STORAGE_UNAVAILABLE', 503],
  ])('keeps %s at %i (clients branch on it)', (code, status) => {
    expect(ERRORS[code]).toBe(status);
  });
});
