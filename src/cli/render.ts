/**
 * Progress on stderr (stdout carries only results, so `dropship upload f | xargs ...` works).
 * On a terminal: a bar per file plus a total line, redrawn in place. Elsewhere (CI logs,
 * pipes): plain lines — when a file starts, as parts complete (at most every few seconds per
 * file), and when it ends.
 */
import { formatBytes, type UploadProgress } from '../client/index.js';

// The same sizes as the share page and the upload page show (src/core/format.ts).
export { formatBytes };

export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '--';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function bar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(f * width);
  return `${'█'.repeat(full)}${'░'.repeat(width - full)}`;
}

const fractionOf = (p: Pick<UploadProgress, 'bytesSent' | 'bytesTotal'>) => (p.bytesTotal === 0 ? 1 : p.bytesSent / p.bytesTotal);
const percent = (p: Pick<UploadProgress, 'bytesSent' | 'bytesTotal'>) => `${Math.floor(fractionOf(p) * 100)}%`.padStart(4);

/** One terminal line: `name  ████░░░░  45%  12.0 MiB/27.0 MiB  5.1 MiB/s  ETA 3s`, fitted to `columns`. */
export function barLine(label: string, p: UploadProgress, columns: number): string {
  const stats = `${percent(p)}  ${formatBytes(p.bytesSent)}/${formatBytes(p.bytesTotal)}  ${formatBytes(Math.round(p.bytesPerSecond))}/s  ETA ${formatDuration(p.etaSeconds)}`;
  const labelWidth = Math.max(8, Math.min(30, columns - stats.length - 14));
  const shown = label.length > labelWidth ? `${label.slice(0, labelWidth - 1)}…` : label.padEnd(labelWidth);
  // Stay one column short of the edge: writing the last column makes some terminals wrap.
  const barWidth = Math.max(5, Math.min(30, columns - 1 - labelWidth - stats.length - 4));
  return `${shown}  ${bar(fractionOf(p), barWidth)}  ${stats}`.slice(0, Math.max(20, columns - 1));
}

/** One log line: `name: 12% 8.0 MiB/64.0 MiB, parts 1/8, 5.1 MiB/s, ETA 12s` (no parts for a download). */
export function plainLine(label: string, p: UploadProgress): string {
  const parts = p.partCount > 0 ? `, parts ${p.partsDone}/${p.partCount}` : '';
  return `${label}: ${percent(p).trim()} ${formatBytes(p.bytesSent)}/${formatBytes(p.bytesTotal)}${parts}, ${formatBytes(Math.round(p.bytesPerSecond))}/s, ETA ${formatDuration(p.etaSeconds)}`;
}

/** The total line's label: files finished of all, and how many of those failed. */
export function totalLabel(done: number, failed: number, all: number): string {
  return `total (${done - failed}/${all} files${failed ? `, ${failed} failed` : ''})`;
}

/** Sum of several files' progress for the total line. */
export function totalOf(items: UploadProgress[]): UploadProgress {
  const t = items.reduce(
    (a, p) => ({
      bytesSent: a.bytesSent + p.bytesSent,
      bytesTotal: a.bytesTotal + p.bytesTotal,
      partsDone: a.partsDone + p.partsDone,
      partCount: a.partCount + p.partCount,
      bytesPerSecond: a.bytesPerSecond + p.bytesPerSecond,
      bytesResumed: a.bytesResumed + p.bytesResumed,
      bytesTransferred: a.bytesTransferred + p.bytesTransferred,
    }),
    { bytesSent: 0, bytesTotal: 0, partsDone: 0, partCount: 0, bytesPerSecond: 0, bytesResumed: 0, bytesTransferred: 0 },
  );
  const left = t.bytesTotal - t.bytesSent;
  return { ...t, etaSeconds: left === 0 ? 0 : t.bytesPerSecond > 0 ? left / t.bytesPerSecond : undefined };
}

export interface Reporter {
  /** A message for people, printed above any live bars. */
  log(line: string): void;
  /** Registers a file; `expected` is its size for the total line before its ticket exists. */
  start(label: string, expected: number): number;
  progress(handle: number, p: UploadProgress): void;
  /** The file is finished: `ok` false for a failed or interrupted one (left out of the total's bytes). */
  end(handle: number, line: string, ok?: boolean): void;
  /** Runs a write to another stream (results on stdout) with the live bars out of the way. */
  around(write: () => void): void;
  stop(): void;
}

interface Item {
  label: string;
  expected: number;
  progress?: UploadProgress;
  done: boolean;
  failed: boolean;
  lastPlain: number;
  lastParts: number;
}

export function createReporter(
  out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
  opts: { plainEveryMs?: number; quiet?: boolean; signal?: AbortSignal } = {},
): Reporter {
  const items: Item[] = [];
  if (opts.quiet) {
    return { log: (l) => out.write(`${l}\n`), start: () => 0, progress() {}, end() {}, around: (w) => w(), stop() {} };
  }
  if (!out.isTTY) {
    const every = opts.plainEveryMs ?? 5000;
    return {
      log: (l) => out.write(`${l}\n`),
      start(label, expected) {
        items.push({ label, expected, done: false, failed: false, lastPlain: 0, lastParts: 0 });
        return items.length - 1;
      },
      progress(h, p) {
        const it = items[h]!;
        it.progress = p;
        // A line when parts complete (downloads have none: as bytes arrive), at most every
        // `every` ms per file: readable in a log, and the first completed part always shows.
        const moved = p.partCount > 0 ? p.partsDone > it.lastParts : p.bytesSent > 0;
        if (moved && Date.now() - it.lastPlain >= every) {
          it.lastPlain = Date.now();
          it.lastParts = p.partsDone;
          out.write(`${plainLine(it.label, p)}\n`);
        }
      },
      end(h, line, ok = true) {
        items[h]!.done = true;
        items[h]!.failed = !ok;
        out.write(`${line}\n`);
      },
      around: (w) => w(),
      stop() {},
    };
  }

  // Terminal: redraw the live block (one line per unfinished file, plus a total) in place.
  let drawn = 0;
  let dirty = false;
  // After Ctrl-C nothing is redrawn: the bars go, and the lines that follow (each file's
  // "interrupted") are not mixed with the terminal's echo of ^C.
  let frozen = false;
  const columns = () => out.columns ?? 80;
  const clear = () => {
    if (drawn > 0) out.write(`\x1b[${drawn}A\x1b[0J`);
    drawn = 0;
  };
  const draw = () => {
    clear();
    if (frozen) return;
    const live = items.filter((i) => !i.done);
    const lines = live.map((i) => barLine(i.label, i.progress ?? emptyProgress(i.expected), columns()));
    if (items.length > 1) {
      // Failed files are not bytes on their way: the total counts the others.
      const total = totalOf(items.filter((i) => !i.failed).map((i) => i.progress ?? emptyProgress(i.expected)));
      const done = items.filter((i) => i.done).length;
      lines.push(barLine(totalLabel(done, items.filter((i) => i.failed).length, items.length), total, columns()));
    }
    for (const l of lines) out.write(`${l}\n`);
    drawn = lines.length;
    dirty = false;
  };
  const timer = setInterval(() => dirty && draw(), 150);
  timer.unref();
  const freeze = () => {
    clear();
    // Start on a fresh line: the terminal echoed ^C where the cursor was.
    out.write('\r\x1b[K');
    frozen = true;
  };
  if (opts.signal?.aborted) frozen = true;
  else opts.signal?.addEventListener('abort', freeze, { once: true });
  return {
    log(l) {
      clear();
      out.write(`${l}\n`);
      draw();
    },
    start(label, expected) {
      items.push({ label, expected, done: false, failed: false, lastPlain: 0, lastParts: 0 });
      dirty = true;
      return items.length - 1;
    },
    progress(h, p) {
      items[h]!.progress = p;
      dirty = true;
    },
    end(h, line, ok = true) {
      const it = items[h]!;
      it.done = true;
      it.failed = !ok;
      if (ok && !it.progress) it.progress = { ...emptyProgress(it.expected), bytesSent: it.expected };
      clear();
      out.write(`${line}\n`);
      draw();
    },
    around(write) {
      // stdout and stderr usually share the terminal: the cursor maths only holds if the bars
      // are gone while something else writes.
      clear();
      write();
      draw();
    },
    stop() {
      clearInterval(timer);
      opts.signal?.removeEventListener('abort', freeze);
      draw();
    },
  };
}

function emptyProgress(total: number): UploadProgress {
  return { bytesSent: 0, bytesTotal: total, partsDone: 0, partCount: 0, bytesPerSecond: 0, etaSeconds: undefined, bytesResumed: 0, bytesTransferred: 0 };
}
