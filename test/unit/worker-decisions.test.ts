/** The worker's pure decisions: status plan, verification, sniffing, outcomes, backoff, batching. */
import { describe, expect, it } from 'vitest';
import { DROP_STATUSES, newManifest } from '../../src/core/manifest.js';
import {
  combineOutcomes,
  done,
  looksLikeText,
  checkPublished,
  planForStatus,
  retry,
  retryDelaySeconds,
  skipped,
  sniffedTypeOf,
  SVG_MAX_BYTES,
  SVG_NAMESPACE,
  svgRenderDensity,
  svgVerdict,
  thumbnailPlan,
  verifyObject,
  type SvgFacts,
} from '../../src/core/processing.js';
import { consumerBatchSizes } from '../../src/worker/worker.js';

const manifest = newManifest({
  id: 'V1StGXR8_Z5jdHi6B-myT',
  name: 'a.jpg',
  size: 1000,
  type: 'image/jpeg',
  ownerTokenHash: 'a'.repeat(64),
  upload: { mode: 'single', partSize: 1000, partCount: 1 },
  source: 'ticket',
  now: new Date('2030-01-01T00:00:00Z'),
  expiresAt: new Date('2030-01-02T00:00:00Z'),
});

describe('planForStatus', () => {
  it.each([
    ['uploading', 'process'],
    ['processing', 'process'],
    ['ready', 'check'],
    ['failed', 'check'],
    ['cancelled', 'remove'],
    ['expired', 'remove'],
  ] as const)('%s → %s', (status, plan) => {
    expect(planForStatus(status)).toBe(plan);
  });

  it('covers every status', () => {
    for (const s of DROP_STATUSES) expect(['process', 'check', 'remove']).toContain(planForStatus(s));
  });
});

describe('checkPublished', () => {
  const ready = { status: 'ready' as const, size: 1000, etag: '"abc"' };
  it.each([
    ['ready, the verified object again (quotes aside)', ready, { size: 1000, etag: 'abc' }, 'skip'],
    ['ready, nothing stored', ready, undefined, 'skip'],
    ['ready, same size, other ETag', ready, { size: 1000, etag: '"def"' }, 'replaced'],
    ['ready, other size', ready, { size: 999, etag: '"abc"' }, 'replaced'],
    ['ready without a recorded ETag, same size', { status: 'ready' as const, size: 1000 }, { size: 1000, etag: '"x"' }, 'skip'],
    ['failed, bytes stored', { status: 'failed' as const, size: 1000 }, { size: 1000, etag: '"x"' }, 'remove'],
    ['failed, nothing stored', { status: 'failed' as const, size: 1000 }, undefined, 'skip'],
  ] as const)('%s → %s', (_, m, head, action) => {
    expect(checkPublished(m, head).action).toBe(action);
  });
});

describe('verifyObject', () => {
  it('accepts the announced size, refuses any other or a missing object', () => {
    expect(verifyObject(manifest, { size: 1000, etag: '"e"' })).toEqual({ ok: true });
    expect(verifyObject(manifest, { size: 999, etag: '"e"' })).toEqual({
      ok: false,
      reason: 'size mismatch: announced 1000 bytes, stored 999',
    });
    expect(verifyObject(manifest, undefined)).toEqual({ ok: false, reason: 'object missing' });
  });
});

describe('thumbnailPlan', () => {
  it.each([
    ['image/jpeg', 10, 'decode'],
    ['image/png', 10, 'decode'],
    ['image/webp', 10, 'decode'],
    ['image/gif', 10, 'decode'],
    ['image/avif', 10, 'decode'],
    ['image/tiff', 10, 'decode'],
    ['image/heic', 10, 'none'],
    ['application/pdf', 10, 'none'],
    ['text/plain', 10, 'none'],
    ['image/jpeg', 101, 'refuse'],
    ['image/svg+xml', 10, 'svg'],
    ['image/svg+xml', 101, 'refuse'],
  ] as const)('%s of %i bytes (limit 100) → %s', (type, size, kind) => {
    expect(thumbnailPlan(type, size, 100).kind).toBe(kind);
  });

  it('caps an SVG at SVG_MAX_BYTES whatever the image limit', () => {
    expect(thumbnailPlan('image/svg+xml', SVG_MAX_BYTES, 64 * 1024 ** 2)).toEqual({ kind: 'svg' });
    expect(thumbnailPlan('image/svg+xml', SVG_MAX_BYTES + 1, 64 * 1024 ** 2)).toEqual({
      kind: 'refuse',
      reason: `SVG is ${SVG_MAX_BYTES + 1} bytes, over the ${SVG_MAX_BYTES}-byte limit`,
    });
  });
});

describe('svgVerdict', () => {
  const clean: SvgFacts = {
    root: { name: 'svg', ns: SVG_NAMESPACE },
    doctype: false,
    instructions: [],
    xinclude: false,
    references: ['#a', ' #b ', ''],
    imports: 0,
    cssEscapes: false,
    elements: 10,
    depth: 3,
  };
  it('accepts a self-contained document (same-document references only)', () => {
    expect(svgVerdict(clean)).toEqual({ ok: true });
    expect(svgVerdict({ ...clean, elements: 50_000, depth: 128 })).toEqual({ ok: true });
  });

  it.each<[string, Partial<SvgFacts>, string]>([
    ['malformed XML', { error: 'unclosed tag: svg' }, 'not well-formed XML (unclosed tag: svg)'],
    ['no root', { root: undefined }, 'the root element is not <svg> in the SVG namespace'],
    ['an HTML root', { root: { name: 'html', ns: 'http://www.w3.org/1999/xhtml' } }, 'the root element is not <svg>'],
    ['<svg> without the namespace', { root: { name: 'svg', ns: '' } }, 'the root element is not <svg>'],
    ['a DOCTYPE', { doctype: true }, 'it has a DOCTYPE'],
    ['xml-stylesheet', { instructions: ['xml-stylesheet href="a.css"'] }, 'it has a processing instruction (<?xml-stylesheet href="a.css"?>)'],
    ['XInclude', { xinclude: true }, 'it uses XInclude'],
    ['a file URL', { references: ['#a', 'file:///etc/passwd'] }, 'it references something outside itself (file:///etc/passwd)'],
    ['a relative path', { references: ['red.png'] }, 'outside itself (red.png)'],
    ['another file\'s element', { references: ['other.svg#x'] }, 'outside itself (other.svg#x)'],
    ['an http URL', { references: ['http://127.0.0.1:9/x'] }, 'outside itself (http://127.0.0.1:9/x)'],
    ['a data: URI', { references: ['data:image/png;base64,AAAA'] }, 'outside itself (data:image/png;base64,AAAA)'],
    ['a long URL, shortened', { references: [`http://a/${'x'.repeat(200)}`] }, `outside itself (http://a/${'x'.repeat(68)}...)`],
    ['@import', { imports: 1 }, 'its style sheet has an @import'],
    ['CSS escapes', { cssEscapes: true }, 'its CSS has escapes'],
    ['too many elements', { elements: 50_001 }, 'it has 50001 elements, over the 50000-element limit'],
    ['too deep', { depth: 129 }, 'its elements nest 129 deep, over the limit of 128'],
  ])('refuses %s', (_, change, reason) => {
    const v = svgVerdict({ ...clean, ...change });
    expect(v.ok).toBe(false);
    expect(!v.ok && v.reason).toMatch(/^SVG refused: /);
    expect(!v.ok && v.reason).toContain(reason);
  });
});

describe('svgRenderDensity', () => {
  it.each([
    // declared size → density so the drawing fills 1024 wide (or 4096 high)
    [{ width: 200, height: 100 }, 368.64, 1024, 512],
    [{ width: 16, height: 16 }, 4608, 1024, 1024],
    [{ width: 1024, height: 1024 }, 72, 1024, 1024],
    [{ width: 100, height: 10_000 }, 29.49, 41, 4096],
    [{ width: 720_000, height: 72_000 }, 1, 10_000, 1000],
  ])('%o → %f dpi, %i×%i', (declared, density, width, height) => {
    const plan = svgRenderDensity(declared, 1024, 100_000_000);
    expect(plan).toMatchObject({ ok: true, width, height });
    expect(plan.ok && plan.density).toBeCloseTo(density, 1);
  });

  it('refuses a size that is over the pixel limit even at 1 dpi, and no size at all', () => {
    expect(svgRenderDensity({ width: 100_000_000, height: 100_000_000 }, 1024, 100_000_000)).toEqual({
      ok: false,
      reason: 'SVG is 100000000x100000000, over the 100000000-pixel limit even drawn at 1 dpi',
    });
    expect(svgRenderDensity({ width: 0, height: 10 }, 1024, 100)).toEqual({ ok: false, reason: 'SVG refused: it declares no size' });
    expect(svgRenderDensity({ width: Number.NaN, height: 10 }, 1024, 100).ok).toBe(false);
  });

  it('never draws above sharp\'s 100000 dpi', () => {
    expect(svgRenderDensity({ width: 0.001, height: 0.001 }, 1024, 100_000_000)).toMatchObject({ ok: true, density: 100_000, width: 1, height: 1 });
  });
});

describe('sniffing', () => {
  it('trusts file-type when it recognises the bytes', () => {
    expect(sniffedTypeOf('image/png', Buffer.from('hello'), true)).toBe('image/png');
  });

  it('calls UTF-8 without control bytes text, anything else octet-stream', () => {
    expect(sniffedTypeOf(undefined, Buffer.from('hello\r\n\tworld ü €'), true)).toBe('text/plain');
    expect(sniffedTypeOf(undefined, Buffer.from([0x68, 0x00, 0x69]), true)).toBe('application/octet-stream');
    expect(sniffedTypeOf(undefined, Buffer.from([0xff, 0xfe, 0x41]), true)).toBe('application/octet-stream');
    expect(sniffedTypeOf(undefined, Buffer.alloc(0), true)).toBe('application/octet-stream');
  });

  it('calls XML text whose root is <svg> in the SVG namespace image/svg+xml, any other XML what it was', () => {
    const svg = { name: 'svg', ns: SVG_NAMESPACE };
    const head = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>');
    expect(sniffedTypeOf(undefined, head, true, svg)).toBe('image/svg+xml');
    expect(sniffedTypeOf('application/xml', head, true, svg)).toBe('image/svg+xml');
    expect(sniffedTypeOf(undefined, head, true, { name: 'svg', ns: '' })).toBe('text/plain');
    expect(sniffedTypeOf('application/xml', head, true, { name: 'feed', ns: 'http://www.w3.org/2005/Atom' })).toBe('application/xml');
    expect(sniffedTypeOf(undefined, head, true)).toBe('text/plain');
    // a binary format file-type knows stays that, whatever a parser made of its bytes
    expect(sniffedTypeOf('image/png', head, true, svg)).toBe('image/png');
    expect(sniffedTypeOf(undefined, Buffer.from([0x3c, 0x00]), true, svg)).toBe('application/octet-stream');
  });

  it('forgives a multi-byte character cut at the end of a partial head, not of a whole file', () => {
    const cut = Buffer.from('abc €').subarray(0, 5); // "€" is 3 bytes; 1 of them kept
    expect(looksLikeText(cut, false)).toBe(true);
    expect(looksLikeText(cut, true)).toBe(false);
  });
});

describe('combineOutcomes', () => {
  it('retries if any record must retry, else done if any was done, else skipped', () => {
    expect(combineOutcomes([done('a'), retry('b'), skipped('c')])).toEqual(retry('b'));
    expect(combineOutcomes([skipped('a'), done('b')])).toEqual(done('b'));
    expect(combineOutcomes([skipped('a'), skipped('b')])).toEqual(skipped('a; b'));
  });
});

describe('retryDelaySeconds', () => {
  it('doubles with each receive from the base, capped at 15 minutes', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelaySeconds(n, 5))).toEqual([5, 10, 20, 40, 80]);
    expect(retryDelaySeconds(12, 5)).toBe(900);
    expect(retryDelaySeconds(1000, 5)).toBe(900);
    expect(retryDelaySeconds(3, 0)).toBe(0);
  });

  it('treats a missing or odd receive count as the first', () => {
    expect(retryDelaySeconds(NaN, 5)).toBe(5);
    expect(retryDelaySeconds(0, 5)).toBe(5);
  });
});

describe('consumerBatchSizes', () => {
  it('splits concurrency into receives of at most 10', () => {
    expect(consumerBatchSizes(1)).toEqual([1]);
    expect(consumerBatchSizes(2)).toEqual([2]);
    expect(consumerBatchSizes(10)).toEqual([10]);
    expect(consumerBatchSizes(25)).toEqual([10, 10, 5]);
    expect(consumerBatchSizes(100).reduce((a, b) => a + b)).toBe(100);
  });
});
