/**
 * Rasterises one SVG with sharp (librsvg) into a PNG — run as a child process by
 * `rasteriseSvg` in thumbnails.ts, so a render that will not end can be killed: librsvg draws
 * a document in one call that sharp's own timeout cannot interrupt. Called directly only by
 * tests. Self-contained on purpose (sharp and node: built-ins only): the child runs this file
 * as it is, compiled or not.
 *
 *   node svg-raster.js <density> <maxPixels>   < image.svg   > image.png
 */
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';

sharp.cache(false);

export async function renderSvg(svg: Buffer, density: number, maxPixels: number): Promise<Buffer> {
  // `unlimited: false` (the default) keeps librsvg's own guards: XML depth, entity
  // amplification, the number of elements loaded and referenced.
  return sharp(svg, { density, limitInputPixels: maxPixels, failOn: 'error' })
    .png({ compressionLevel: 1 })
    .toBuffer();
}

async function main(args: string[]) {
  const density = Number(args[0]);
  const maxPixels = Number(args[1]);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const png = await renderSvg(Buffer.concat(chunks), density, maxPixels);
  await new Promise<void>((resolve, reject) => process.stdout.write(png, (e) => (e ? reject(e) : resolve())));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`${(e instanceof Error ? e.message : String(e)).split('\n')[0]}\n`);
      process.exit(1);
    },
  );
}
