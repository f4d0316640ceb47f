/** The five commands. Each returns an exit code; results go to stdout, everything for people to stderr. */
import { open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  DropshipApiError,
  DropshipClient,
  DropshipResumeError,
  apiErrorFromResponse,
  type DropView,
  type UploadProgress,
} from '../client/index.js';
import { fileSource } from '../client/node.js';
import { parse, parseDuration, parsePositiveInt, serverOf } from './args.js';
import { CliError, EXIT, UsageError, errorCodeOf, exitCodeOf, messageOf } from './exit.js';
import { filenameFromDisposition, sanitizeFilename } from './filename.js';
import { createReporter, formatBytes } from './render.js';
import { StateStore, fileKey, stateFilePath } from './state.js';
import { parseTarget } from './target.js';

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Fires on Ctrl-C / SIGTERM. */
  signal: AbortSignal;
}

const say = (io: Io, line: string) => io.stderr.write(`${line}\n`);
const print = (io: Io, line: string) => io.stdout.write(`${line}\n`);
const json = (io: Io, value: unknown) => io.stdout.write(`${JSON.stringify(value)}\n`);

function clientFor(server: string, apiKey: string | undefined) {
  return new DropshipClient({ baseUrl: server, ...(apiKey ? { apiKey } : {}) });
}

// ───────────────────────────────────────────── upload

export interface UploadResult {
  file: string;
  ok: boolean;
  id?: string;
  ownerToken?: string;
  name?: string;
  size?: number;
  status?: string;
  shareUrl?: string;
  downloadUrl?: string;
  /** Whether an earlier, interrupted upload of this file was continued. */
  resumed?: boolean;
  /** Bytes this run sent (less than size when resuming). */
  bytesSent?: number;
  error?: { code: string; message: string };
  exitCode: number;
}

/** Errors after which an earlier upload cannot be continued and a fresh one is the fix. */
function cannotResume(e: unknown): boolean {
  if (e instanceof DropshipResumeError) return true;
  return (
    e instanceof DropshipApiError &&
    ['DROP_NOT_FOUND', 'DROP_NOT_UPLOADING', 'DROP_EXPIRED', 'OWNER_TOKEN_INVALID', 'UNAUTHORIZED'].includes(e.code)
  );
}

export async function upload(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    concurrency: { type: 'string', short: 'c' },
    parallel: { type: 'string', short: 'p' },
    retries: { type: 'string' },
    'expires-in': { type: 'string' },
    'max-downloads': { type: 'string' },
    'no-resume': { type: 'boolean' },
    wait: { type: 'boolean' },
    timeout: { type: 'string' },
  });
  if (values.help) return help(io, 'upload');
  if (positionals.length === 0) throw new UsageError('upload needs at least one file');
  const server = serverOf(values.server, undefined, io.env);
  const apiKey = values['api-key'] ?? io.env.DROPSHIP_API_KEY;
  const concurrency = parsePositiveInt(values.concurrency, '--concurrency', 4, 64);
  const parallel = parsePositiveInt(values.parallel, '--parallel', 2, 16);
  const retries = values.retries === undefined ? 5 : parsePositiveInt(values.retries, '--retries', 5, 100);
  const expiresIn = values['expires-in'] ? Math.round(parseDuration(values['expires-in'], '--expires-in')) : undefined;
  const maxDownloads = values['max-downloads'] ? parsePositiveInt(values['max-downloads'], '--max-downloads', 1, 1_000_000) : undefined;
  const timeoutMs = values.timeout ? parseDuration(values.timeout, '--timeout') * 1000 : undefined;

  const client = clientFor(server, apiKey);
  const state = new StateStore(stateFilePath(io.env));
  const reporter = createReporter(io.stderr, {
    quiet: values.quiet ?? false,
    plainEveryMs: Number(io.env.DROPSHIP_PROGRESS_EVERY_MS ?? 5000),
  });

  // The state file only enables resuming and token-less delete: if it cannot be written
  // (read-only home, full disk), say so once and upload anyway.
  let stateWarned = false;
  const remember = async (write: () => Promise<void>) => {
    try {
      await write();
    } catch (e) {
      if (!stateWarned) reporter.log(`warning: cannot write ${state.path} (${messageOf(e)}); uploads will not resume`);
      stateWarned = true;
    }
  };

  const one = async (file: string): Promise<UploadResult> => {
    const abs = resolve(io.cwd, file);
    let handle: number | undefined;
    let last: UploadProgress | undefined;
    try {
      const st = await stat(abs).catch((e: NodeJS.ErrnoException) => {
        throw new CliError(`${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`, EXIT.FAILURE, e.code ?? 'FILE_UNREADABLE');
      });
      if (!st.isFile()) throw new CliError(`${file}: not a regular file`, EXIT.FAILURE, 'NOT_A_FILE');
      const source = await fileSource(abs);
      const key = fileKey(abs, st.size, st.mtimeMs);
      handle = reporter.start(source.name, st.size);
      const h = handle;
      const pending = values['no-resume'] ? undefined : await state.pending(key).catch(() => undefined);
      let ticketToken: string | undefined;
      const resume = pending && pending.server === server ? { id: pending.id, ownerToken: pending.ownerToken } : undefined;

      const run = (resumeFrom?: { id: string; ownerToken: string }) =>
        client.upload(source, {
          concurrency,
          retries,
          signal: io.signal,
          // Ctrl-C keeps the drop so the next run resumes it; `dropship delete` discards it.
          deleteOnAbort: false,
          ...(resumeFrom ? { resume: resumeFrom } : {}),
          ...(expiresIn !== undefined ? { expiresIn } : {}),
          ...(maxDownloads !== undefined ? { maxDownloads } : {}),
          onTicket: async (t) => {
            ticketToken = t.ownerToken;
            if (!resumeFrom) {
              await remember(() =>
                state.started(key, {
                  id: t.id,
                  ownerToken: t.ownerToken,
                  server,
                  shareUrl: t.shareUrl,
                  name: source.name,
                  startedAt: new Date().toISOString(),
                }),
              );
            }
            reporter.log(`${source.name}: ${resumeFrom ? 'resuming' : 'uploading'} ${formatBytes(st.size)} → ${t.shareUrl}`);
          },
          onProgress: (p) => {
            last = p;
            reporter.progress(h, p);
          },
        });

      let view: DropView;
      let resumed = false;
      if (resume) {
        try {
          view = await run(resume);
          resumed = true;
        } catch (e) {
          if (!cannotResume(e)) throw e;
          reporter.log(`${source.name}: the earlier upload cannot be continued (${errorCodeOf(e)}); starting over`);
          await remember(() => state.forget(key));
          view = await run();
        }
      } else {
        view = await run();
      }
      const token = ticketToken ?? resume?.ownerToken;
      await remember(() =>
        state.finished(key, view.id, {
          ownerToken: token ?? '',
          server,
          name: view.name,
          shareUrl: view.shareUrl,
          completedAt: new Date().toISOString(),
        }),
      );
      if (values.wait) view = await waitForReady(client, view.id, timeoutMs, io);
      reporter.end(handle, `${source.name}: ${view.status} ${view.shareUrl}`);
      const exitCode = view.status === 'ready' || view.status === 'processing' ? EXIT.OK : EXIT.DROP_GONE;
      return {
        file,
        ok: exitCode === EXIT.OK,
        id: view.id,
        ...(token ? { ownerToken: token } : {}),
        name: view.name,
        size: view.size,
        status: view.status,
        shareUrl: view.shareUrl,
        downloadUrl: view.downloadUrl,
        resumed,
        bytesSent: last?.bytesTransferred ?? 0,
        exitCode,
      };
    } catch (e) {
      const interrupted = io.signal.aborted;
      const message = interrupted ? 'interrupted; run the same command again to resume' : messageOf(e);
      if (handle !== undefined) reporter.end(handle, `${basename(file)}: failed: ${message}`);
      else reporter.log(`${file}: ${message}`);
      return {
        file,
        ok: false,
        error: { code: interrupted ? 'INTERRUPTED' : errorCodeOf(e), message },
        exitCode: interrupted ? EXIT.INTERRUPTED : exitCodeOf(e),
      };
    }
  };

  // Files run `parallel` at a time; results are printed in argument order as soon as every
  // earlier file has finished, so line N of the output belongs to file N.
  const results: (UploadResult | undefined)[] = new Array(positionals.length);
  let printed = 0;
  const flush = () => {
    while (printed < results.length && results[printed]) {
      const r = results[printed++]!;
      reporter.around(() => {
        if (values.json) json(io, r);
        else if (r.ok) print(io, r.shareUrl!);
      });
    }
  };
  let next = 0;
  const worker = async () => {
    while (next < positionals.length) {
      const i = next++;
      results[i] = await one(positionals[i]!);
      flush();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(parallel, positionals.length) }, worker));
  } finally {
    reporter.stop();
  }
  return results.find((r) => r && r.exitCode !== EXIT.OK)?.exitCode ?? EXIT.OK;
}

async function waitForReady(client: DropshipClient, id: string, timeoutMs: number | undefined, io: Io): Promise<DropView> {
  return client.waitUntil(id, { statuses: ['ready'], signal: io.signal, ...(timeoutMs !== undefined ? { timeoutMs } : {}), pollMs: 1000 });
}

// ───────────────────────────────────────────── status, wait

function describe(v: DropView): string {
  const rows: [string, string | undefined][] = [
    ['id', v.id],
    ['name', v.name],
    ['status', v.failureReason ? `${v.status} (${v.failureReason})` : v.status],
    ['size', `${formatBytes(v.size)} (${v.size} bytes)`],
    ['type', v.type],
    ['created', v.createdAt],
    ['completed', v.completedAt],
    ['ready', v.readyAt],
    ['thumbnail', v.thumbnails.length ? `${v.thumbnail} (${v.thumbnails.map((t) => `${t.width}px`).join(', ')})` : v.thumbnail],
    ['share', v.shareUrl],
    ['download', v.downloadUrl],
  ];
  return rows
    .filter((r): r is [string, string] => r[1] !== undefined)
    .map(([k, val]) => `${k.padEnd(10)} ${val}`)
    .join('\n');
}

function onlyTarget(positionals: string[], command: string) {
  if (positionals.length !== 1) throw new UsageError(`${command} needs exactly one drop id or URL`);
  return parseTarget(positionals[0]!);
}

export async function status(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {});
  if (values.help) return help(io, 'status');
  const target = onlyTarget(positionals, 'status');
  const v = await clientFor(serverOf(values.server, target.server, io.env), values['api-key'] ?? io.env.DROPSHIP_API_KEY).status(target.id, io.signal);
  if (values.json) json(io, v);
  else print(io, describe(v));
  return EXIT.OK;
}

export async function wait(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { timeout: { type: 'string', short: 't' }, interval: { type: 'string' } });
  if (values.help) return help(io, 'wait');
  const target = onlyTarget(positionals, 'wait');
  const timeoutMs = values.timeout ? parseDuration(values.timeout, '--timeout') * 1000 : undefined;
  const pollMs = values.interval ? Math.max(200, parseDuration(values.interval, '--interval') * 1000) : 1000;
  const client = clientFor(serverOf(values.server, target.server, io.env), values['api-key'] ?? io.env.DROPSHIP_API_KEY);
  const v = await client.waitUntil(target.id, {
    statuses: ['ready'],
    signal: io.signal,
    pollMs,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    onStatus: (s) => !values.quiet && say(io, `${s.id}: ${s.status}`),
  });
  if (values.json) json(io, v);
  else print(io, v.status === 'ready' ? v.shareUrl : `${v.status}${v.failureReason ? `: ${v.failureReason}` : ''}`);
  if (v.status === 'ready') return EXIT.OK;
  say(io, `drop ${v.id} is ${v.status}${v.failureReason ? ` (${v.failureReason})` : ''}`);
  return EXIT.DROP_GONE;
}

// ───────────────────────────────────────────── download

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

// ───────────────────────────────────────────── delete

export async function remove(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { 'owner-token': { type: 'string' } });
  if (values.help) return help(io, 'delete');
  const target = onlyTarget(positionals, 'delete');
  const state = new StateStore(stateFilePath(io.env));
  const known = await state.ownerTokenOf(target.id);
  const token = values['owner-token'] ?? io.env.DROPSHIP_OWNER_TOKEN ?? known?.ownerToken;
  if (!token) {
    throw new UsageError(`no owner token for ${target.id}: this machine did not upload it; pass --owner-token`);
  }
  const server = serverOf(values.server, target.server ?? known?.server, io.env);
  const v = await clientFor(server, values['api-key'] ?? io.env.DROPSHIP_API_KEY).deleteDrop(target.id, token, io.signal);
  await state.deleted(target.id);
  if (values.json) json(io, v);
  else print(io, `${v.id} ${v.status}`);
  return EXIT.OK;
}

// ───────────────────────────────────────────── help

export const USAGE = `dropship — instant file sharing: upload files straight to S3, get share links.

Usage:
  dropship upload <files...>      upload; prints one share link per file (in argument order)
  dropship status <id|url>        show a drop's status
  dropship wait <id|url>          wait until the drop is ready
  dropship download <id|url>      download a drop's file
  dropship delete <id|url>        delete a drop (needs its owner token)
  dropship <command> --help       options of one command

Global options:
  --server <url>     api base URL (env DROPSHIP_URL; default ${'http://127.0.0.1:8080'});
                     a drop URL given as argument names its own server
  --api-key <key>    API key for uploads (env DROPSHIP_API_KEY)
  --json             machine-readable output on stdout
  -q, --quiet        no progress or status messages on stderr
  -h, --help         this help;  --version  the version

Results go to stdout, progress and messages to stderr.
`;

const COMMAND_HELP: Record<string, string> = {
  upload: `dropship upload <files...> [options]

Uploads each file straight to S3 in parallel parts and prints its share link on stdout, one
line per file in argument order. An interrupted upload (Ctrl-C, a crash, a lost connection)
is remembered by path, size and modification time and resumes when the same file is
uploaded again.

Options:
  -c, --concurrency <n>   parts in flight per file (default 4)
  -p, --parallel <n>      files at a time (default 2)
      --retries <n>       retries per part after transient errors (default 5)
      --expires-in <dur>  how long the upload may take, e.g. 2h (server caps it)
      --max-downloads <n> the drop stops downloading after n downloads
      --no-resume         start over even if an earlier upload of the file is unfinished
      --wait              after uploading, wait until each drop is ready
      --timeout <dur>     with --wait: give up after this long (exit 7)
      --json              one JSON object per line per file:
                          {file, ok, id, ownerToken, name, size, status, shareUrl,
                           downloadUrl, resumed, bytesSent, exitCode} or
                          {file, ok: false, error: {code, message}, exitCode}
`,
  status: `dropship status <id|url> [--json]

Prints the drop's status (uploading, processing, ready, failed, cancelled, expired), size,
type, thumbnails and links. Exits 0 whenever the drop exists, 3 when it does not.
`,
  wait: `dropship wait <id|url> [--timeout <dur>] [--interval <dur>] [--json]

Waits until the drop is ready and prints its share link. Exits 4 if it ends failed, expired
or cancelled instead, 7 when --timeout runs out.
`,
  download: `dropship download <id|url> [-o <file|dir|->] [--force]

Saves the file under the name it was uploaded with (made safe: no paths, no hidden names)
in the current directory, or where -o says ("-" for stdout). Written to a temporary file
and renamed when complete. Refuses to replace an existing file unless -o names it or
--force is given.
`,
  delete: `dropship delete <id|url> [--owner-token <token>]

Deletes the drop (or cancels its upload). The owner token comes from --owner-token, env
DROPSHIP_OWNER_TOKEN, or this machine's record of its own uploads.
`,
};

export function help(io: Io, command?: string): number {
  io.stdout.write(command ? COMMAND_HELP[command]! : USAGE);
  return EXIT.OK;
}
