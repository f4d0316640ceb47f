/**
 * Thumbnails with sharp: bytes in, WebP thumbnails out (or the reason there are none).
 *
 * Untrusted input, so:
 *   - the header is read first and an image over the pixel limit is refused before a single
 *     pixel is decoded (a 60000×60000 PNG can be a few hundred bytes and would need 10 GB);
 *     sharp's own limitInputPixels guards the decode too;
 *   - `failOn: 'error'` refuses truncated and corrupt data rather than thumbnailing garbage
 *     (not 'warning', which also refuses harmless oddities phone cameras write);
 *   - every pipeline has a time limit.
 * The image is decoded ONCE: oriented by its EXIF tag, shrunk to the largest width into raw
 * pixels; every width is encoded from that raw buffer, and each resulting width once (an
 * image narrower than a width is not enlarged, so it gets one thumbnail of its own size). Animated GIF/WebP and multi-page TIFF
 * give their first frame. Thumbnails are sRGB, without metadata (no EXIF/GPS leaks).
 *
 * SVG (`makeSvgThumbnails`) is a document librsvg executes, so before it is drawn: it is
 * parsed strictly and refused if it could reach outside itself or is too big a program
 * (`svgVerdict`), drawn at the density that gives the largest thumbnail box (not at its
 * declared size, which may be 100000000 px wide) with the same pixel limit, and drawn in a
 * child process killed after SVG_RENDER_TIMEOUT_MS — librsvg renders in one call that
 * sharp's timeout cannot stop. The PNG it gives then takes the path above.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { SVG_RENDER_TIMEOUT_MS, svgRenderDensity, svgVerdict } from '../core/processing.js';
import { inspectSvg } from './svg.js';

// The libvips operation cache speeds up repeated operations on the same input; a worker
// never sees the same image twice, so the cache would only hold memory.
sharp.cache(false);

/** A very tall image is fitted into width × (4 × width) so its raw pixels stay small. */
const MAX_ASPECT = 4;
const WEBP_QUALITY = 80;
// Effort 2 encodes a 1024 px thumbnail about twice as fast as the default 4, for files a few
// percent larger: the worker's CPU goes further.
const WEBP_EFFORT = 2;
const PIPELINE_TIMEOUT_SECONDS = 60;

export interface ThumbnailOptions {
  widths: number[];
  maxPixels: number;
}

export interface EncodedThumbnail {
  /** The width asked for (the key's name); `width` may be smaller (never enlarged). */
  requestedWidth: number;
  width: number;
  height: number;
  data: Buffer;
}

export type ThumbnailResult =
  | { ok: true; width: number; height: number; format: string; thumbs: EncodedThumbnail[] }
  | { ok: false; reason: string };

const box = (w: number) => ({ width: w, height: w * MAX_ASPECT, fit: 'inside' as const, withoutEnlargement: true });

function reasonOf(prefix: string, e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return `${prefix}: ${message.split('\n')[0]!.slice(0, 200)}`;
}

export async function makeThumbnails(input: Buffer, opts: ThumbnailOptions): Promise<ThumbnailResult> {
  if (opts.widths.length === 0) throw new RangeError('no thumbnail widths');
  const widths = [...new Set(opts.widths)].sort((a, b) => a - b);

  // Header only (no pixels): limitInputPixels is lifted here so the reason can name the size.
  let meta: Metadata;
  try {
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (e) {
    return { ok: false, reason: reasonOf('unreadable image', e) };
  }
  const { width, height } = meta.autoOrient;
  if (!(width > 0 && height > 0)) return { ok: false, reason: 'unreadable image: no dimensions' };
  if (width * height > opts.maxPixels) {
    return { ok: false, reason: `image is ${width}x${height} pixels, over the ${opts.maxPixels}-pixel limit` };
  }

  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await sharp(input, { failOn: 'error', limitInputPixels: opts.maxPixels, sequentialRead: true })
      .rotate()
      .resize(box(widths.at(-1)!))
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .timeout({ seconds: PIPELINE_TIMEOUT_SECONDS })
      .toBuffer({ resolveWithObject: true });
  } catch (e) {
    return { ok: false, reason: reasonOf('corrupt image', e) };
  }

  const raw = {
    width: decoded.info.width,
    height: decoded.info.height,
    channels: decoded.info.channels as 1 | 2 | 3 | 4,
  };
  const thumbs: EncodedThumbnail[] = [];
  try {
    for (const w of widths) {
      // Never enlarged: once a thumbnail has the decoded image's own size, every larger width
      // would be the same picture again (and list the same width twice). One per width.
      const last = thumbs.at(-1);
      if (last && last.width === raw.width && last.height === raw.height) break;
      const { data, info } = await sharp(decoded.data, { raw })
        .resize(box(w))
        .webp({ quality: WEBP_QUALITY, effort: WEBP_EFFORT })
        .timeout({ seconds: PIPELINE_TIMEOUT_SECONDS })
        .toBuffer({ resolveWithObject: true });
      if (thumbs.some((t) => t.width === info.width)) continue;
      thumbs.push({ requestedWidth: w, width: info.width, height: info.height, data });
    }
  } catch (e) {
    // WebP stops at 16383 px a side, and a stuck encoder hits the timeout: neither gets
    // better on a retry.
    return { ok: false, reason: reasonOf('cannot encode thumbnail', e) };
  }
  return { ok: true, width, height, format: meta.format, thumbs };
}

/** Draws an SVG at a density into PNG bytes; refuses (throws) past `maxPixels`. */
export type SvgRasteriser = (svg: Buffer, density: number, maxPixels: number) => Promise<Buffer>;

/** The largest PNG a child may send back: the box (1024 × 4096 by default) as RGBA, with room. */
const MAX_RASTER_BYTES = 128 * 1024 ** 2;

/**
 * The rasteriser the worker uses: `svg-raster` in a child process of this same node, killed
 * (SIGKILL) when it runs past `timeoutMs`. A fresh process per SVG costs tens of
 * milliseconds; SVG uploads are few, and a runaway render takes nothing else down with it.
 */
export function childProcessRasteriser(timeoutMs = SVG_RENDER_TIMEOUT_MS): SvgRasteriser {
  const script = fileURLToPath(new URL(`./svg-raster${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));
  // Run from the sources (tests, npm run dev), the child strips the types itself.
  const flags = script.endsWith('.ts') ? ['--experimental-strip-types', '--no-warnings'] : [];
  return (svg, density, maxPixels) =>
    new Promise<Buffer>((resolve, reject) => {
      const child = spawn(process.execPath, [...flags, script, String(density), String(maxPixels)], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      let outBytes = 0;
      let err = '';
      let failure: Error | undefined;
      const stop = (e: Error) => {
        failure ??= e;
        child.kill('SIGKILL');
      };
      const timer = setTimeout(() => stop(new Error(`SVG rendering took longer than ${timeoutMs / 1000} s`)), timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => {
        outBytes += chunk.length;
        if (outBytes > MAX_RASTER_BYTES) stop(new Error('SVG rendering gave too large a raster'));
        else out.push(chunk);
      });
      child.stderr.on('data', (chunk: Buffer) => {
        if (err.length < 2000) err += chunk.toString('utf8');
      });
      child.stdin.on('error', () => {}); // a child that died early: its exit says why
      child.on('error', (e) => stop(e));
      child.on('close', (code) => {
        clearTimeout(timer);
        if (failure) reject(failure);
        else if (code === 0) resolve(Buffer.concat(out));
        else reject(new Error(err.trim().split('\n')[0] || `SVG renderer exited with ${code}`));
      });
      child.stdin.end(svg);
    });
}

/**
 * Thumbnails of an SVG: checked, drawn to fill the largest width's box, then thumbnailed as
 * any PNG. `width` and `height` are the SVG's own (its declared size at 72 dpi).
 */
export async function makeSvgThumbnails(svg: Buffer, opts: ThumbnailOptions & { rasterise: SvgRasteriser }): Promise<ThumbnailResult> {
  if (opts.widths.length === 0) throw new RangeError('no thumbnail widths');
  const verdict = svgVerdict(inspectSvg(svg));
  if (!verdict.ok) return verdict;
  // The declared size only: librsvg parses (bounded by the check above), draws nothing.
  let meta: Metadata;
  try {
    meta = await sharp(svg, { limitInputPixels: false }).metadata();
  } catch (e) {
    return { ok: false, reason: reasonOf('unreadable SVG', e) };
  }
  const plan = svgRenderDensity({ width: meta.width, height: meta.height }, Math.max(...opts.widths), opts.maxPixels, MAX_ASPECT);
  if (!plan.ok) return plan;
  let png: Buffer;
  try {
    png = await opts.rasterise(svg, plan.density, opts.maxPixels);
  } catch (e) {
    return { ok: false, reason: reasonOf('cannot render SVG', e) };
  }
  const made = await makeThumbnails(png, opts);
  return made.ok ? { ...made, width: meta.width, height: meta.height, format: 'svg' } : made;
}
