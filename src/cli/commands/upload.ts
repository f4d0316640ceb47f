/**
 * `dropship upload`: files straight to S3 in parallel parts, resumable, one result line per
 * file in argument order. With several files, a collection of the uploaded ones follows: its
 * link on a last line of its own (`--no-collection` skips it).
 */
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { DropshipApiError, DropshipClient, DropshipResumeError, isLockedView, type DropView, type UploadProgress } from '../../client/index.js';
import { PASSWORD_OPTIONS, passwordOf } from '../password.js';
import { fileSource } from '../../client/node.js';
import { parse, parseDuration, parseLifetime, parsePositiveInt, serverOf } from '../args.js';
import { CliError, EXIT, INTERRUPTED, UsageError, errorCodeOf, exitCodeOf, messageOf } from '../exit.js';
import { clientFor, json, print, type Io } from '../io.js';
import { createReporter, formatBytes } from '../render.js';
import { StateStore, fileKey, stateFilePath } from '../state.js';
import { help } from './help.js';

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

/** `--meta k=v` (repeatable) → metadata; the server checks names and sizes. */
export function parseMeta(pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs?.length) return undefined;
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq < 1) throw new UsageError(`--meta must be name=value (got "${p}")`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

export async function upload(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    concurrency: { type: 'string', short: 'c' },
    parallel: { type: 'string', short: 'p' },
    retries: { type: 'string' },
    expires: { type: 'string' },
    'expires-in': { type: 'string' },
    'max-downloads': { type: 'string' },
    meta: { type: 'string', multiple: true },
    'no-resume': { type: 'boolean' },
    wait: { type: 'boolean' },
    timeout: { type: 'string' },
    ...PASSWORD_OPTIONS,
    'no-collection': { type: 'boolean' },
    title: { type: 'string' },
  });
  if (values.help) return help(io, 'upload');
  if (positionals.length === 0) throw new UsageError('upload needs at least one file');
  const server = serverOf(values.server, undefined, io.env);
  const apiKey = values['api-key'] ?? io.env.DROPSHIP_API_KEY;
  const concurrency = parsePositiveInt(values.concurrency, '--concurrency', 4, 64);
  const parallel = parsePositiveInt(values.parallel, '--parallel', 2, 16);
  const retries = values.retries === undefined ? 5 : parsePositiveInt(values.retries, '--retries', 5, 100);
  if (values.expires !== undefined && values['expires-in'] !== undefined) throw new UsageError('give --expires or --expires-in, not both');
  const expiresFlag = values.expires !== undefined ? '--expires' : '--expires-in';
  const expiresText = values.expires ?? values['expires-in'];
  const expiresIn = expiresText ? parseLifetime(expiresText, expiresFlag) : undefined;
  const maxDownloads = values['max-downloads'] ? parsePositiveInt(values['max-downloads'], '--max-downloads', 1, 1_000_000) : undefined;
  const metadata = parseMeta(values.meta);
  const timeoutMs = values.timeout ? parseDuration(values.timeout, '--timeout') * 1000 : undefined;
  const password = await passwordOf(values, io);

  const state = new StateStore(stateFilePath(io.env));
  const reporter = createReporter(io.stderr, {
    quiet: values.quiet ?? false,
    signal: io.signal,
    plainEveryMs: Number(io.env.DROPSHIP_PROGRESS_EVERY_MS ?? 5000),
  });
  const client = clientFor(server, apiKey, values.quiet ? undefined : (line) => reporter.log(line));

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
          ...(metadata ? { metadata } : {}),
          ...(password !== undefined ? { password } : {}),
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
      if (values.wait) view = await waitForReady(client, view.id, token, timeoutMs, io);
      const exitCode = view.status === 'ready' || view.status === 'processing' ? EXIT.OK : EXIT.DROP_GONE;
      reporter.end(handle, `${source.name}: ${view.status} ${view.shareUrl}`, exitCode === EXIT.OK);
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
      const message = interrupted ? INTERRUPTED : messageOf(e);
      const line = `${basename(file)}: ${interrupted ? message : `failed: ${message}`}`;
      if (handle !== undefined) reporter.end(handle, line, false);
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
  let collected: number = EXIT.OK;
  try {
    await Promise.all(Array.from({ length: Math.min(parallel, positionals.length) }, worker));
    // A password-protected drop cannot join a collection (its page would show it without the
    // password): with --password the files keep their own protected links only.
    if (positionals.length > 1 && !values['no-collection'] && !io.signal.aborted) {
      if (password !== undefined) reporter.log('no collection link: password-protected files cannot share one; each file has its own protected link');
      else collected = await collect(results as UploadResult[]);
    }
  } finally {
    reporter.stop();
  }
  return results.find((r) => r && r.exitCode !== EXIT.OK)?.exitCode ?? collected;

  /** One link for every file that was uploaded: a collection, printed last. */
  async function collect(done: UploadResult[]): Promise<number> {
    const drops = done.filter((r) => r.ok && r.id && r.ownerToken).map((r) => ({ id: r.id!, ownerToken: r.ownerToken! }));
    if (drops.length === 0) return EXIT.OK;
    const first = done.find((r) => r.ok)?.name ?? '';
    const title = values.title ?? (drops.length > 1 ? `${first} and ${drops.length - 1} more` : first);
    try {
      const c = await client.createCollection({ title, drops }, io.signal);
      await remember(() => state.collectionCreated(c.id, { ownerToken: c.ownerToken, server, shareUrl: c.shareUrl, createdAt: new Date().toISOString() }));
      reporter.log(`collection of ${drops.length} files: ${c.shareUrl}`);
      reporter.around(() => {
        if (values.json) json(io, { collection: { id: c.id, shareUrl: c.shareUrl, ownerToken: c.ownerToken, title, drops: drops.map((d) => d.id) } });
        else print(io, c.shareUrl);
      });
      return EXIT.OK;
    } catch (e) {
      reporter.log(`the files are uploaded, but one link for them all could not be made: ${messageOf(e)}`);
      if (values.json) reporter.around(() => json(io, { collection: null, error: { code: errorCodeOf(e), message: messageOf(e) } }));
      return exitCodeOf(e);
    }
  }
}

/** With the owner token, so a password-protected drop shows itself in full. */
async function waitForReady(client: DropshipClient, id: string, ownerToken: string | undefined, timeoutMs: number | undefined, io: Io): Promise<DropView> {
  const v = await client.waitUntil(id, {
    statuses: ['ready'],
    signal: io.signal,
    ...(ownerToken ? { ownerToken } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    pollMs: 1000,
  });
  if (isLockedView(v)) throw new CliError(`drop ${id} is password-protected and the owner token did not unlock it`, EXIT.UNAUTHORIZED, 'PASSWORD_REQUIRED');
  return v;
}
