/**
 * SVG thumbnails in-process: what the strict parser finds (src/worker/svg.ts), what is refused
 * before librsvg sees a byte, and the thumbnails of an SVG that passes — drawn in-process here
 * (`renderSvg`); the child process, its time limit and what librsvg itself does with hostile
 * documents are tested against the real thing in test/integration/svg.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';
import sharp from 'sharp';
import { inspectSvg, xmlRootOf } from '../../src/worker/svg.js';
import { makeSvgThumbnails } from '../../src/worker/thumbnails.js';
import { renderSvg } from '../../src/worker/svg-raster.js';
import { SVG_NAMESPACE } from '../../src/core/processing.js';
import { regionColour } from '../support/images.js';
import {
  billionLaughs,
  deeplyNestedSvg,
  externalSvgs,
  hugeSvg,
  manyElementsSvg,
  plainSvg,
  scriptedSvg,
} from '../support/svgs.js';

const OPTS = { widths: [256, 1024], maxPixels: 100_000_000 };
const TARGET = { file: 'file:///etc/passwd', path: '/etc/passwd', svgFile: 'file:///tmp/red.svg', http: 'http://127.0.0.1:9' };

describe('inspectSvg', () => {
  it('reads the root, every reference and the size of the tree', () => {
    const facts = inspectSvg(plainSvg());
    expect(facts).toEqual({
      root: { name: 'svg', ns: SVG_NAMESPACE },
      doctype: false,
      instructions: [],
      xinclude: false,
      references: ['#sq'],
      imports: 0,
      cssEscapes: false,
      elements: 4,
      depth: 2,
    });
  });

  it('finds url() in attributes and style sheets, quoted or not, and ignores an <a> link', () => {
    const facts = inspectSvg(
      Buffer.from(
        `<svg xmlns="${SVG_NAMESPACE}"><style>rect{fill:url( "#g" )} @IMPORT 'x.css';</style>` +
          `<a href="https://example.com/"><rect fill="url(#g)" style="stroke:url('p.svg#q')"/></a></svg>`,
      ),
    );
    expect(facts.references).toEqual(['#g', '#g', 'p.svg#q']);
    expect(facts.imports).toBe(1);
  });

  it('reports malformed XML, and an entity it was never told of, as errors', () => {
    expect(inspectSvg(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg">')).error).toBeTruthy();
    expect(inspectSvg(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg">&x;</svg>')).error).toMatch(/entity/i);
    expect(inspectSvg(Buffer.from([0x3c, 0x73, 0xff, 0x3e])).error).toBeTruthy();
  });

  it('xmlRootOf reads the root from a head that stops mid-document', () => {
    const svg = plainSvg();
    const head = svg.subarray(0, svg.length - 30);
    expect(xmlRootOf(head)).toEqual({ name: 'svg', ns: SVG_NAMESPACE });
    expect(xmlRootOf(Buffer.from('hello world'))).toBeUndefined();
    expect(xmlRootOf(Buffer.from('<html><body>'))).toEqual({ name: 'html', ns: '' });
  });
});

describe('makeSvgThumbnails', () => {
  it('draws a plain SVG into WebP thumbnails of every width, at the size wanted', async () => {
    const made = await makeSvgThumbnails(plainSvg(), { ...OPTS, rasterise: renderSvg });
    expect(made).toMatchObject({ ok: true, width: 200, height: 100, format: 'svg' });
    const thumbs = made.ok ? made.thumbs : [];
    expect(thumbs.map((t) => [t.requestedWidth, t.width, t.height])).toEqual([
      [256, 256, 128],
      [1024, 1024, 512],
    ]);
    const big = thumbs[1]!.data;
    expect((await sharp(big).metadata()).format).toBe('webp');
    // the green square (x 10–90 of 200) and its <use> copy (x 110–190) are drawn; blue between
    const near = (c: { r: number; g: number; b: number }, hex: string) =>
      [c.r, c.g, c.b].every((v, i) => Math.abs(v - parseInt(hex.slice(i * 2, i * 2 + 2), 16)) < 8);
    expect(near(await regionColour(big, 100, 100, 200, 200), '2a9d8f')).toBe(true);
    expect(near(await regionColour(big, 600, 100, 200, 200), '2a9d8f')).toBe(true);
    expect(near(await regionColour(big, 470, 100, 60, 200), '1d3557')).toBe(true);
  });

  it('draws an SVG with only a viewBox at the viewBox\'s proportions; scripts and foreignObject draw nothing', async () => {
    const viewBoxOnly = await makeSvgThumbnails(plainSvg(''), { ...OPTS, rasterise: renderSvg });
    expect(viewBoxOnly).toMatchObject({ ok: true, width: 200, height: 100 });
    expect(await makeSvgThumbnails(scriptedSvg(), { ...OPTS, rasterise: renderSvg })).toMatchObject({ ok: true, width: 100, height: 100 });
  });

  const hostile: [string, Buffer, RegExp][] = [
    ...Object.entries(externalSvgs(TARGET)).map(([name, svg]): [string, Buffer, RegExp] => [
      name,
      svg,
      /^SVG refused: (it references something outside itself|it has a DOCTYPE|it has a processing instruction|it uses XInclude|its style sheet has an @import|its CSS has escapes)/,
    ]),
    ['billion laughs', billionLaughs(), /^SVG refused: it has a DOCTYPE/],
    ['5,000 nested groups', deeplyNestedSvg(), /^SVG refused: its elements nest 5002 deep/],
    ['60,000 elements', manyElementsSvg(), /^SVG refused: it has 60001 elements/],
    ['width="100000000"', hugeSvg(), /^SVG is 100000000x100000000, over the 100000000-pixel limit even drawn at 1 dpi/],
  ];
  it.each(hostile)('refuses %s without drawing it', async (_, svg, reason) => {
    const rasterise = vi.fn(renderSvg);
    const made = await makeSvgThumbnails(svg, { ...OPTS, rasterise });
    expect(made.ok).toBe(false);
    expect(!made.ok && made.reason).toMatch(reason);
    expect(rasterise).not.toHaveBeenCalled();
  });

  it('a renderer that fails or gives no image is a reason, not a crash', async () => {
    const failing = async () => {
      throw new Error('SVG rendering took longer than 20 s');
    };
    expect(await makeSvgThumbnails(plainSvg(), { ...OPTS, rasterise: failing })).toEqual({
      ok: false,
      reason: 'cannot render SVG: SVG rendering took longer than 20 s',
    });
    const junk = await makeSvgThumbnails(plainSvg(), { ...OPTS, rasterise: async () => Buffer.from('not a png') });
    expect(junk).toMatchObject({ ok: false, reason: expect.stringMatching(/^unreadable image/) });
  });
});
