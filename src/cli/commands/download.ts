/**
 * `dropship download`: the drop's file under its (made safe) name, written whole or not at
 * all. A body that breaks off is resumed with Range requests from the bytes received
 * (client/resume.ts), and the known crash of Node's bundled undici when a server closes the
 * connection while the body is held back (nodejs/undici#5360: an AssertionError thrown from
 * the socket's 'end' handler, uncatchable where the body is read) is caught for the time of
 * the download and turned into such a break.
 */
import { open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { apiErrorFromResponse, DropshipApiError, openResumable, type ResumableDownload } from '../../client/index.js';
import { PASSWORD_OPTIONS, passwordError, passwordOf } from '../password.js';
import { parse, serverOf } from '../args.js';
import { CliError, EXIT } from '../exit.js';
import { filenameFromDisposition, sanitizeFilename } from '../filename.js';
import { clientFor, json, print, say, teller, type Io } from '../io.js';
import { createReporter, formatBytes } from '../render.js';
import { onlyTarget } from '../target.js';
import { help } from './help.js';

export async function download(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { output: { type: 'string', short: 'o' }, force: { type: 'boolean', short: 'f' }, ...PASSWORD_OPTIONS });
  if (values.help) return help(io, 'download');
  const target = onlyTarget(positionals, 'download');
  const server = serverOf(values.server, target.server, io.env);
  const password = await passwordOf(values, io);

  // A password-protected drop is unlocked first; its token goes with the download request.
  let unlockToken: string | undefined;
  if (password !== undefined) {
    try {
      unlockToken = (await clientFor(server, values['api-key'] ?? io.env.DROPSHIP_API_KEY, teller(io, values.quiet)).unlock(target.id, password, io.signal)).unlockToken;
    } catch (e) {
      // A password for a drop that has none: download it as it is.
      if (!(e instanceof DropshipApiError && e.code === 'DROP_NOT_PROTECTED')) throw passwordError(e, target.id);
    }
  }

  // The api answers with a 302 to a short-lived presigned GET; follow it ourselves so an
  // error answer from the api (404, 409 not ready, 410 gone) is read as one.
  const first = await fetch(`${server}/d/${encodeURIComponent(target.id)}/download`, {
    redirect: 'manual',
    signal: io.signal,
    ...(unlockToken ? { headers: { 'x-unlock-token': unlockToken } } : {}),
  });
  const firstText = await first.text();
  if (first.status < 300 || first.status >= 400) throw passwordError(apiErrorFromResponse(first, firstText), target.id);
  const location = first.headers.get('location');
  if (!location) throw new CliError('the server sent a redirect without a location', EXIT.FAILURE, 'BAD_REDIRECT');
  let dl: ResumableDownload | undefined;
  const guard = undiciGuard((err) => dl?.interrupt(err));
  try {
    dl = await openResumable(new URL(location, server), {
      signal: io.signal,
      onRetry: (got, err) => {
        if (!values.quiet) say(io, `${target.id}: connection lost after ${formatBytes(got)} (${(err as Error)?.message ?? err}); resuming`);
      },
    });
    return await save(dl);
  } finally {
    guard.remove();
  }

  async function save(dl: ResumableDownload): Promise<number> {
    const res = dl.response;
    if (!res.ok || !res.body) {
      await res.text().catch(() => '');
      throw new CliError(`storage answered HTTP ${res.status} for the download`, EXIT.FAILURE, 'DOWNLOAD_FAILED');
    }
    const expected = dl.size;

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
    // Progress on stderr, as for uploads: a bar on a terminal, a line every few seconds elsewhere.
    const reporter = createReporter(io.stderr, {
      quiet: values.quiet ?? false,
      signal: io.signal,
      plainEveryMs: Number(io.env.DROPSHIP_PROGRESS_EVERY_MS ?? 5000),
    });
    const handle = reporter.start(dest ? basename(dest) : target.id, expected ?? 0);
    const started = Date.now();
    const tick = () => {
      const seconds = (Date.now() - started) / 1000;
      const rate = seconds > 0 ? received / seconds : 0;
      const total = expected ?? received;
      reporter.progress(handle, {
        bytesSent: received,
        bytesTotal: total,
        partsDone: 0,
        partCount: 0,
        bytesPerSecond: rate,
        etaSeconds: rate > 0 ? (total - received) / rate : undefined,
        bytesResumed: 0,
        bytesTransferred: received,
      });
    };
    try {
      await receive();
      reporter.end(handle, `${target.id}: ${formatBytes(received)}${dest ? ` → ${dest}` : ''}`);
    } catch (e) {
      reporter.end(handle, `${dest ? basename(dest) : target.id}: ${io.signal.aborted ? 'interrupted' : 'failed'}`, false);
      throw e;
    } finally {
      reporter.stop();
    }
    if (values.json) json(io, { id: target.id, file: dest ?? '-', size: received });
    else if (!toStdout) print(io, dest!);
    return EXIT.OK;

    async function receive() {
      if (toStdout) {
        for await (const chunk of dl.body) {
          received += chunk.byteLength;
          tick();
          if (!io.stdout.write(chunk)) await new Promise((r) => io.stdout.once('drain', r));
        }
      } else {
        // Written next to the destination and renamed into place only when complete and flushed:
        // nobody ever sees a half-downloaded file under the real name.
        const tmp = join(dirname(dest!), `.${basename(dest!)}.${randomBytes(4).toString('hex')}.dropship-partial`);
        const fh = await open(tmp, 'wx', 0o644);
        try {
          for await (const chunk of dl.body) {
            await fh.write(chunk);
            received += chunk.byteLength;
            tick();
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
    }
  }
}

/** nodejs/undici#5360: `assert(!this.paused)` in the HTTP/1 parser, thrown from the socket's 'end' handler. */
export const isUndiciSocketEndAssertion = (e: unknown): boolean =>
  (e as { code?: string })?.code === 'ERR_ASSERTION' && /onHttpSocketEnd|client-h1|undici/.test((e as Error)?.stack ?? '');

/**
 * While installed, the undici assertion above interrupts the download (which then resumes)
 * instead of killing the process; any other uncaught exception is re-thrown as if the guard
 * were not there.
 */
export function undiciGuard(interrupt: (err: unknown) => void): { remove(): void } {
  const onUncaught = (err: unknown) => {
    if (isUndiciSocketEndAssertion(err)) return interrupt(err);
    process.removeListener('uncaughtException', onUncaught);
    setImmediate(() => {
      throw err;
    });
  };
  process.on('uncaughtException', onUncaught);
  return { remove: () => void process.removeListener('uncaughtException', onUncaught) };
}
