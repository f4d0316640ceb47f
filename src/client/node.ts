/** Node-only helpers for the SDK: files on disk as upload sources, hashing. Not for browsers. */
import { open, stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { UploadSource } from './upload.js';

/**
 * A file on disk as an upload source. Each slice opens the file and reads just that range,
 * so memory stays at one part per worker whatever the file size. A file that shrank since
 * it was measured fails loudly instead of uploading short parts.
 */
export async function fileSource(path: string, opts: { name?: string; type?: string } = {}): Promise<UploadSource> {
  const st = await stat(path);
  if (!st.isFile()) throw new Error(`${path} is not a regular file`);
  return {
    name: opts.name ?? basename(path),
    size: st.size,
    ...(opts.type ? { type: opts.type } : {}),
    lastModified: st.mtimeMs,
    async slice(start: number, end: number) {
      const fh = await open(path, 'r');
      try {
        const buf = new Uint8Array(end - start);
        let filled = 0;
        while (filled < buf.length) {
          const { bytesRead } = await fh.read(buf, filled, buf.length - filled, start + filled);
          if (bytesRead === 0) throw new Error(`${path} ended early at byte ${start + filled}: it changed during the upload`);
          filled += bytesRead;
        }
        return buf;
      } finally {
        await fh.close();
      }
    },
  };
}

/** Hex SHA-256 of a file, streamed (for CreateDropInput.sha256). */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}
