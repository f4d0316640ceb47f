/** `dropship download`: the drop's file under its (made safe) name, written whole or not at all. */
import { open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { apiErrorFromResponse } from '../../client/index.js';
import { parse, serverOf } from '../args.js';
import { CliError, EXIT } from '../exit.js';
import { filenameFromDisposition, sanitizeFilename } from '../filename.js';
import { json, print, say, type Io } from '../io.js';
import { formatBytes } from '../render.js';
import { onlyTarget } from '../target.js';
import { help } from './help.js';

export async function download(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { output: { type: 'string', short: 'o' }, force: { type: 'boolean', short: 'f' } });
  if (values.help) return help(io, 'download');
  const target = onlyTarget(positionals, 'download');
  const server = serverOf(values.server, target.server, io.env);

  // The api answers with a 302 to a short-lived presigned GET; follow it ourselves so an
  // error answer from the api (404, 409 not ready, 410 gone) is read as one.
  const first = await fetch(`${server}/d/${encodeURIComponent(target.id)}/download`, { redirect: 'manual', signal: io.signal });
  const firstText = await first.text();
  if (first.status < 300 || first.status >= 400) throw apiErrorFromResponse(first, firstText);
  const location = first.headers.get('location');
  if (!location) throw new CliError('the server sent a redirect without a location', EXIT.FAILURE, 'BAD_REDIRECT');
  const res = await fetch(new URL(location, server), { signal: io.signal });
  if (!res.ok || !res.body) {
    await res.text().catch(() => '');
    throw new CliError(`storage answered HTTP ${res.status} for the download`, EXIT.FAILURE, 'DOWNLOAD_FAILED');
  }
  const expected = res.headers.get('content-length') !== null ? Number(res.headers.get('content-length')) : undefined;

  const toStdout = values.output === '-';
  let dest: string | undefined;
  if (!toStdout) {
    const fromServer = sanitizeFilename(filenameFromDisposition(res.headers.get('content-disposition'))) ?? `dropship-${target.id}`;
    if (values.output) {
      const out = resolve(io.cwd, values.output);
      const isDir = await stat(out).then((s) => s.isDirectory(), () => false);
      dest = isDir ? join(out, fromServer) : out;
    } else {
      dest = join(io.cwd, fromServer);
    }
    // A name picked by the uploader never silently replaces a local file; -o or --force does.
    if (!values.force && !(values.output && dest === resolve(io.cwd, values.output))) {
      if (await stat(dest).then(() => true, () => false)) {
        await res.body.cancel().catch(() => {});
        throw new CliError(`${dest} exists; use -o <file> or --force`, EXIT.FAILURE, 'FILE_EXISTS');
      }
    }
  }

  let received = 0;
  if (toStdout) {
    for await (const chunk of chunks(res.body)) {
      received += chunk.byteLength;
      if (!io.stdout.write(chunk)) await new Promise((r) => io.stdout.once('drain', r));
    }
  } else {
    // Written next to the destination and renamed into place only when complete and flushed:
    // nobody ever sees a half-downloaded file under the real name.
    const tmp = join(dirname(dest!), `.${basename(dest!)}.${randomBytes(4).toString('hex')}.dropship-partial`);
    const fh = await open(tmp, 'wx', 0o644);
    try {
      for await (const chunk of chunks(res.body)) {
        await fh.write(chunk);
        received += chunk.byteLength;
      }
      if (expected !== undefined && received !== expected) {
        throw new CliError(`download ended after ${received} of ${expected} bytes`, EXIT.FAILURE, 'DOWNLOAD_TRUNCATED');
      }
      await fh.sync();
      await fh.close();
      await rename(tmp, dest!);
    } catch (e) {
      await fh.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      throw e;
    }
  }
  if (values.json) json(io, { id: target.id, file: dest ?? '-', size: received });
  else if (!toStdout) print(io, dest!);
  if (!values.quiet) say(io, `${target.id}: ${formatBytes(received)}${dest ? ` → ${dest}` : ''}`);
  return EXIT.OK;
}

/** A web ReadableStream as an async iterable (the DOM typings don't declare it iterable). */
async function* chunks(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}
