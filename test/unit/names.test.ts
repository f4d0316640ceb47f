import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contentDisposition, downloadContentType, safeMimeType, sanitizeName, type NameRejection } from '../../src/core/names.js';

const utf8Length = (s: string): number => new TextEncoder().encode(s).length;
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const FORBIDDEN = /[\u0000-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

// Names built from the characters that matter here, mixed with arbitrary Unicode.
const trickyChar = fc.oneof(
  fc.constantFrom('/', '\\', '.', ' ', '\t', '\n', '\r', '\u0000', '\u007F', '\u0085', '\u00A0', '\u2028', '\u202E', '"', '%', ';', "'", '*'),
  fc.constantFrom('\uD83D', '\uDE00', 'e\u0301', '😀', 'ü'),
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }),
);
const anyName = fc.oneof(
  fc.string({ unit: trickyChar, maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
);

describe('sanitizeName', () => {
  it.each([
    ['a plain name', 'photo.jpg', 'photo.jpg'],
    ['surrounding whitespace', '  report.pdf \t\n', 'report.pdf'],
    ['inner spaces', 'my photo (1).jpg', 'my photo (1).jpg'],
    ['NFD input', 'e\u0301te\u0301.txt', '\u00e9t\u00e9.txt'],
    ['emoji and CJK', '😀 写真.png', '😀 写真.png'],
    ['punctuation that is legal in a name', 'a:b*?<>|"\'%;.txt', 'a:b*?<>|"\'%;.txt'],
    ['leading dots', '..hidden', '..hidden'],
    ['three dots', '...', '...'],
    ['exactly 255 UTF-8 bytes', `${'é'.repeat(127)}a`, `${'é'.repeat(127)}a`],
    ['300 NFD bytes that are 200 NFC bytes', 'e\u0301'.repeat(100), '\u00e9'.repeat(100)],
  ])('accepts %s', (_label, raw, name) => {
    expect(sanitizeName(raw)).toEqual({ ok: true, name });
  });

  it.each<[string, string, NameRejection]>([
    ['empty', '', 'EMPTY'],
    ['only spaces', '   ', 'EMPTY'],
    ['only Unicode spaces', '\u00A0\u3000\u2003', 'EMPTY'],
    ['NUL', 'a\u0000b', 'CONTROL_CHAR'],
    ['a C0 control', 'a\u001Fb', 'CONTROL_CHAR'],
    ['an inner newline', 'a\nb.txt', 'CONTROL_CHAR'],
    ['an inner CR', 'a\rb.txt', 'CONTROL_CHAR'],
    ['DEL', 'a\u007Fb', 'CONTROL_CHAR'],
    ['a C1 control (NEL)', 'a\u0085b', 'CONTROL_CHAR'],
    ['the last C1 control', 'a\u009Fb', 'CONTROL_CHAR'],
    ['a line separator', 'a\u2028b', 'CONTROL_CHAR'],
    ['a right-to-left override', 'invoice\u202Efdp.exe', 'CONTROL_CHAR'],
    ['a bidi isolate', 'a\u2066b', 'CONTROL_CHAR'],
    ['a slash', 'a/b.txt', 'PATH_SEPARATOR'],
    ['a traversal path', '../../etc/passwd', 'PATH_SEPARATOR'],
    ['a backslash', '..\\boot.ini', 'PATH_SEPARATOR'],
    ['an absolute path', '/etc/passwd', 'PATH_SEPARATOR'],
    ['"."', '.', 'DOT_NAME'],
    ['".."', '..', 'DOT_NAME'],
    ['".." with whitespace', ' .. ', 'DOT_NAME'],
    ['a lone high surrogate', 'a\uD800b', 'INVALID_UNICODE'],
    ['a lone low surrogate', 'a\uDC00b', 'INVALID_UNICODE'],
    ['a reversed surrogate pair', 'a\uDE00\uD83Db', 'INVALID_UNICODE'],
    ['256 ASCII bytes', 'a'.repeat(256), 'TOO_LONG'],
    ['256 bytes of emoji', '😀'.repeat(64), 'TOO_LONG'],
    ['256 bytes of 2-byte letters', 'é'.repeat(128), 'TOO_LONG'],
  ])('rejects %s', (_label, raw, reason) => {
    expect(sanitizeName(raw)).toEqual({ ok: false, reason });
  });

  // JavaScript callers and unvalidated JSON can hand over anything: it is refused, not thrown on.
  it.each([undefined, null, 42, ['a.txt'], { name: 'a.txt' }])('rejects the non-string %j as EMPTY', (raw) => {
    expect(sanitizeName(raw as unknown as string)).toEqual({ ok: false, reason: 'EMPTY' });
  });

  it('only ever returns a safe, normalised, trimmed display name', () => {
    fc.assert(
      fc.property(anyName, (raw) => {
        const result = sanitizeName(raw);
        if (!result.ok) return;
        const { name } = result;
        expect(name).not.toMatch(FORBIDDEN);
        expect(name).not.toMatch(LONE_SURROGATE);
        expect(name).not.toMatch(/[/\\]/);
        expect(['', '.', '..']).not.toContain(name);
        expect(name).toBe(name.trim());
        expect(name).toBe(name.normalize('NFC'));
        expect(utf8Length(name)).toBeLessThanOrEqual(255);
      }),
      { numRuns: 1_000 },
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(anyName, (raw) => {
        const result = sanitizeName(raw);
        if (result.ok) expect(sanitizeName(result.name)).toEqual(result);
      }),
      { numRuns: 1_000 },
    );
  });

  it('accepts any ordinary name', () => {
    const ordinary = fc
      .string({ unit: fc.constantFrom(...'abcXYZ019 -_.()éü写😀'), minLength: 1, maxLength: 60 })
      .filter((s) => !['', '.', '..'].includes(s.trim()));
    fc.assert(
      fc.property(ordinary, (raw) => {
        expect(sanitizeName(raw)).toEqual({ ok: true, name: raw.trim() });
      }),
    );
  });
});

describe('contentDisposition', () => {
  it.each([
    ['ASCII', 'photo.jpg', `attachment; filename="photo.jpg"; filename*=UTF-8''photo.jpg`],
    [
      'accented letters and spaces',
      'naïve résumé.pdf',
      `attachment; filename="na_ve r_sum_.pdf"; filename*=UTF-8''na%C3%AFve%20r%C3%A9sum%C3%A9.pdf`,
    ],
    [
      'quote, backslash, percent and semicolon',
      'a"b\\c%d;e.txt',
      `attachment; filename="a_b_c_d_e.txt"; filename*=UTF-8''a%22b%5Cc%25d%3Be.txt`,
    ],
    [
      "characters outside RFC 5987 attr-char: ' ( ) *",
      "it's (1)*.txt",
      `attachment; filename="it's (1)*.txt"; filename*=UTF-8''it%27s%20%281%29%2A.txt`,
    ],
    ['an astral character as one "_"', '😀.png', `attachment; filename="_.png"; filename*=UTF-8''%F0%9F%98%80.png`],
    // Percent-encoding an attr-char is allowed; only "!" and "~" escape encodeURIComponent.
    ['other punctuation', 'a!#$&+-.^_`|~z', `attachment; filename="a!#$&+-.^_\`|~z"; filename*=UTF-8''a!%23%24%26%2B-.%5E_%60%7C~z`],
  ])('encodes %s', (_label, name, header) => {
    expect(contentDisposition(name)).toBe(header);
  });

  it('supports inline', () => {
    expect(contentDisposition('a.png', 'inline')).toBe(`inline; filename="a.png"; filename*=UTF-8''a.png`);
  });

  it('neutralises header injection even for unsanitised input', () => {
    const header = contentDisposition('x.txt"\r\nSet-Cookie: a=b');
    expect(header).not.toMatch(/[\r\n]/);
    expect(header).toBe(`attachment; filename="x.txt___Set-Cookie: a=b"; filename*=UTF-8''x.txt%22%0D%0ASet-Cookie%3A%20a%3Db`);
  });

  const HEADER = /^(attachment|inline); filename="([^"\\]*)"; filename\*=UTF-8''((?:[A-Za-z0-9!#$&+\-.^_`|~]|%[0-9A-F]{2})*)$/;

  it('is printable ASCII, well-formed, and filename* decodes back to the name', () => {
    fc.assert(
      fc.property(anyName, fc.constantFrom('attachment', 'inline' as const), (name, disposition) => {
        const header = contentDisposition(name, disposition);
        expect(header).toMatch(/^[\x20-\x7E]*$/);
        const match = HEADER.exec(header);
        expect(match).not.toBeNull();
        const [, kind, fallback, encoded] = match ?? [];
        expect(kind).toBe(disposition);
        expect(fallback).toHaveLength([...name].length);
        const wellFormed = name.replace(new RegExp(LONE_SURROGATE.source, 'g'), '\uFFFD');
        expect(decodeURIComponent(encoded ?? '')).toBe(wellFormed);
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('safeMimeType', () => {
  it.each([
    ['image/png', 'image/png'],
    ['Image/PNG', 'image/png'],
    ['text/plain; charset=utf-8', 'text/plain'],
    ['  application/json  ', 'application/json'],
    ['image/svg+xml', 'image/svg+xml'],
    ['application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
    [`application/${'a'.repeat(115)}`, `application/${'a'.repeat(115)}`], // 127 characters
  ])('keeps %s as %s', (declared, expected) => {
    expect(safeMimeType(declared)).toBe(expected);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['no subtype', 'image'],
    ['empty subtype', 'image/'],
    ['empty type', '/png'],
    ['a wildcard', '*/*'],
    ['a wildcard subtype', 'image/*'],
    ['two slashes', 'image/png/x'],
    ['a space inside', 'text /plain'],
    ['non-ASCII', 'bild/ü'],
    ['a leading symbol', '-x/y'],
    ['CRLF injection', 'text/html\r\nX-Injected: 1'],
    ['128 characters', `application/${'a'.repeat(116)}`],
    ['only parameters', '; charset=utf-8'],
  ])('falls back to application/octet-stream for %s', (_label, declared) => {
    expect(safeMimeType(declared)).toBe('application/octet-stream');
  });

  it('always returns a short, lower-case type/subtype and is idempotent', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constant(undefined)), (declared) => {
        const type = safeMimeType(declared);
        expect(type).toMatch(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/);
        expect(type.length).toBeLessThanOrEqual(127);
        expect(safeMimeType(type)).toBe(type);
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('downloadContentType: active types never go out as themselves', () => {
  it.each([
    ['image/png', 'image/png'],
    ['application/pdf', 'application/pdf'],
    [undefined, 'application/octet-stream'],
    ['image/svg+xml', 'application/octet-stream'],
    ['IMAGE/SVG+XML', 'application/octet-stream'],
    ['text/html', 'application/octet-stream'],
    ['application/xhtml+xml', 'application/octet-stream'],
    ['application/xml', 'application/octet-stream'],
  ])('%s → %s', (sniffed, served) => {
    expect(downloadContentType(sniffed)).toBe(served);
  });
});
