/** Test images made with sharp, including the hostile ones (truncated, decompression bomb). */
import sharp from 'sharp';
import { crc32 } from 'node:zlib';

/**
 * A landscape photo-like JPEG (busy texture, so it is as large and slow to decode as a real
 * one) with a red block in its top-left corner, tagged with an EXIF orientation. Orientation
 * 6 means "rotate 90° clockwise to display": the shown image is portrait and the red block
 * sits at its top-right.
 */
export async function orientedJpeg(width: number, height: number, orientation: number, quality = 90): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  let seed = 0x2545f491;
  const redW = Math.floor(width / 10);
  const redH = Math.floor(height / 10);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      if (x < redW && y < redH) {
        raw[i] = 255;
        raw[i + 1] = 0;
        raw[i + 2] = 0;
        continue;
      }
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      const n = seed & 63;
      raw[i] = 60 + n;
      raw[i + 1] = 90 + ((x * 97) / width + n) / 2;
      raw[i + 2] = 120 + ((y * 97) / height + n) / 2;
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality }).withMetadata({ orientation }).toBuffer();
}

export const solid = (width: number, height: number, background: string) =>
  sharp({ create: { width, height, channels: 3, background } });

export const pngImage = () => solid(640, 480, '#2a9d8f').png().toBuffer();
export const webpImage = () => solid(500, 800, '#e9c46a').webp().toBuffer();

/** Two frames, red then blue: the thumbnail must be the red one. */
export async function animatedGif(): Promise<Buffer> {
  const frames = await Promise.all(['#ff0000', '#0000ff'].map((c) => solid(300, 200, c).png().toBuffer()));
  return sharp(frames, { join: { animated: true } }).gif({ delay: [100, 100] }).toBuffer();
}

/** The first half of a JPEG: a valid header, then the data just stops. */
export async function truncatedJpeg(): Promise<Buffer> {
  const whole = await orientedJpeg(1200, 900, 1);
  return whole.subarray(0, Math.floor(whole.length / 2));
}

/**
 * A PNG of a few hundred bytes whose header declares width × height pixels (60000×60000 is
 * 10.8 GB of RGB to decode): a real small PNG with its IHDR size fields patched and the
 * chunk's CRC recomputed, so decoders believe it.
 */
export async function pngBomb(width = 60_000, height = 60_000): Promise<Buffer> {
  const png = Buffer.from(await solid(16, 16, '#ffffff').png().toBuffer());
  // Signature (8) | IHDR length (4) | "IHDR" (4) | width (4) | height (4) | 5 more bytes | CRC.
  if (png.toString('latin1', 12, 16) !== 'IHDR') throw new Error('unexpected PNG layout');
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

/** Mean RGB of a w×h region of a decoded image. */
export async function regionColour(image: Buffer, left: number, top: number, width: number, height: number) {
  const { data, info } = await sharp(image).extract({ left, top, width, height }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const sum = [0, 0, 0];
  for (let i = 0; i < data.length; i += info.channels) for (let c = 0; c < 3; c++) sum[c]! += data[i + c]!;
  const n = data.length / info.channels;
  return { r: sum[0]! / n, g: sum[1]! / n, b: sum[2]! / n };
}
