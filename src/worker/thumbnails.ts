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
 */
import sharp, { type Metadata, type OutputInfo } from 'sharp';

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
