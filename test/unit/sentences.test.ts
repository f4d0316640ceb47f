// Every error the server can answer reaches people as a sentence (CLI and web app), in human units.
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/core/errors.js';
import { KNOWN_CODES, sentenceFor } from '../../src/client/sentences.js';

describe('sentenceFor', () => {
  it('has a sentence for every code in the server catalogue, and none for codes it does not have', () => {
    expect(KNOWN_CODES.sort()).toEqual(Object.keys(ERRORS).sort());
  });
  it.each(Object.keys(ERRORS))('%s reads as a sentence, not a code or a schema path', (code) => {
    const s = sentenceFor(code)!;
    expect(s).toMatch(/^[A-Z].*[.)]$/);
    expect(s).not.toContain(code);
    expect(s).not.toMatch(/body\/|params\/|querystring\//);
  });
  it('says sizes in human units', () => {
    expect(sentenceFor('FILE_TOO_LARGE', { maxSize: 5 * 1024 ** 3 })).toBe('The file is too large: this server accepts files up to 5.00 GiB.');
  });
  it('says how long to wait when the server said', () => {
    expect(sentenceFor('RATE_LIMITED', undefined, 12)).toBe('Too many requests from here. Try again in 12 s.');
    expect(sentenceFor('RATE_LIMITED')).toBe('Too many requests from here. Try again in a moment.');
  });
  it('leaves codes it does not know to the caller (a newer server)', () => {
    expect(sentenceFor('SOMETHING_NEW')).toBeUndefined();
    expect(sentenceFor('toString')).toBeUndefined();
  });
});
