/** makeThumbnails: buffers in, WebP thumbnails (or a reason) out. No I/O. */
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { makeThumbnails } from '../../src/worker/thumbnails.js';
import { animatedGif, orientedJpeg, pngBomb, regionColour, solid, truncatedJpeg } from '../support/images.js';

const opts = { widths: [256, 1024], maxPixels: 100_000_000 };

async function ok(input: Buffer, o = opts) {
  const r = await makeThumbnails(input, o);
  if (!r.ok) throw new Error(`expected thumbnails, got: ${r.reason}`);
  return r;
}

describe('makeThumbnails', () => {
  it('orients by EXIF: a landscape JPEG tagged orientation 6 gives portrait thumbnails, red corner at top-right', async () => {
    const r = await ok(await orientedJpeg(1600, 1200, 6));
    expect([r.width, r.height]).toEqual([1200, 1600]);
    expect(r.thumbs.map((t) => [t.requestedWidth, t.width, t.height])).toEqual([
      [256, 256, 341],
      [1024, 1024, 1365],
    ]);
    const big = r.thumbs[1]!.data;
    const meta = await sharp(big).metadata();
    expect(meta.format).toBe('webp');
    expect(meta.orientation).toBeUndefined();
    const topRight = await regionColour(big, 1024 - 60, 10, 50, 50);
    const topLeft = await regionColour(big, 10, 10, 50, 50);
    expect(topRight.r).toBeGreaterThan(200);
    expect(topRight.g).toBeLessThan(60);
    expect(topLeft.r).toBeLessThan(150);
  });

  it('never enlarges, and each width once: an image narrower than the smallest width gets one thumbnail of its size', async () => {
    const r = await ok(await solid(100, 80, '#123456').png().toBuffer());
    expect(r.thumbs.map((t) => [t.requestedWidth, t.width, t.height])).toEqual([[256, 100, 80]]);
    const mid = await ok(await solid(600, 300, '#123456').png().toBuffer());
    expect(mid.thumbs.map((t) => [t.requestedWidth, t.width, t.height])).toEqual([
      [256, 256, 128],
      [1024, 600, 300],
    ]);
    const exact = await ok(await solid(256, 100, '#123456').png().toBuffer());
    expect(exact.thumbs.map((t) => [t.requestedWidth, t.width])).toEqual([[256, 256]]);
  });

  it('fits very tall images into width × 4·width', async () => {
    const r = await ok(await solid(300, 6000, '#abcdef').png().toBuffer());
    expect([r.width, r.height]).toEqual([300, 6000]);
    expect(r.thumbs.map((t) => [t.width, t.height])).toEqual([
      [51, 1024],
      [205, 4096],
    ]);
  });

  it('takes the first frame of an animated GIF', async () => {
    const r = await ok(await animatedGif());
    expect([r.width, r.height]).toEqual([300, 200]);
    const c = await regionColour(r.thumbs[0]!.data, 10, 10, 20, 20);
    expect(c.r).toBeGreaterThan(200);
    expect(c.b).toBeLessThan(60);
  });

  it('keeps transparency and converts 16-bit input to 8-bit sRGB', async () => {
    const png16 = await sharp({ create: { width: 64, height: 64, channels: 4, background: { r: 0, g: 128, b: 255, alpha: 0.5 } } })
      .toColourspace('rgb16')
      .png()
      .toBuffer();
    const r = await ok(png16);
    const meta = await sharp(r.thumbs[0]!.data).metadata();
    expect(meta.hasAlpha).toBe(true);
    expect(meta.depth).toBe('uchar');
  });

  it('refuses a truncated JPEG', async () => {
    const r = await makeThumbnails(await truncatedJpeg(), opts);
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/^corrupt image: /) });
  });

  it('refuses bytes that are no image at all', async () => {
    const r = await makeThumbnails(Buffer.from('definitely not an image'), opts);
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/^unreadable image/) });
  });

  it('refuses a decompression bomb from its header, quickly', async () => {
    const started = Date.now();
    const r = await makeThumbnails(await pngBomb(60_000, 60_000), opts);
    expect(r).toEqual({ ok: false, reason: 'image is 60000x60000 pixels, over the 100000000-pixel limit' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('applies the configured pixel limit, even below what sharp itself allows', async () => {
    // 12000×12000 = 144 MP: under sharp's default limit (268 MP), over ours.
    const r = await makeThumbnails(await pngBomb(12_000, 12_000), { widths: [256], maxPixels: 100_000_000 });
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/pixel limit/) });
    const small = await makeThumbnails(await solid(200, 200, '#000').png().toBuffer(), { widths: [256], maxPixels: 200 * 199 });
    expect(small).toMatchObject({ ok: false });
  });
});
