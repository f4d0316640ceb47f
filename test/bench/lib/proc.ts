/**
 * Processes under test: spawning them (api, Companion, worker) with their own environment,
 * reading what they cost from /proc (CPU seconds, peak RSS, bytes read), and stopping them
 * by pid. Every wait is bounded.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { BENCH_ROOT } from './env.js';

const CLK_TCK = 100; // getconf CLK_TCK on Linux x86-64

export interface ProcSample {
  /**
   * CPU seconds of the process: the sum of its threads' on-CPU nanoseconds
   * (/proc/<pid>/task/<tid>/schedstat), which resolves the few milliseconds a direct upload
   * costs the api; utime + stime from /proc/<pid>/stat (10 ms ticks) when that is unavailable.
   */
  cpuSeconds: number;
  /** utime + stime from /proc/<pid>/stat, 10 ms resolution (cross-check). */
  cpuTickSeconds: number;
  rssBytes: number;
  /** VmHWM: peak RSS since start or since the last resetPeak(). */
  peakRssBytes: number;
  /** Bytes the process passed to read() — sockets included (/proc/<pid>/io rchar). */
  readBytes: number;
  at: number;
}

const kb = (status: string, field: string) => {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
};

export function sampleProc(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start at state (field 3).
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  const cpuTickSeconds = (utime + stime) / CLK_TCK;
  let cpuNs = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        cpuNs += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        /* the thread ended between listing and reading */
      }
    }
  } catch {
    cpuNs = NaN;
  }
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  const rchar = Number(/^rchar:\s+(\d+)/m.exec(io)?.[1] ?? NaN);
  return {
    cpuSeconds: Number.isFinite(cpuNs) && cpuNs > 0 ? cpuNs / 1e9 : cpuTickSeconds,
    cpuTickSeconds,
    rssBytes: kb(status, 'VmRSS'),
    peakRssBytes: kb(status, 'VmHWM'),
    readBytes: rchar,
    at: performance.now(),
  };
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0), so the next peak is the measured run's own. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export interface Delta {
  cpuSeconds: number;
  peakRssBytes: number;
  /** RSS just before the run (after warm-up). */
  idleRssBytes: number;
  readBytes: number;
}

export const delta = (a: ProcSample, b: ProcSample): Delta => ({
  cpuSeconds: b.cpuSeconds - a.cpuSeconds,
  peakRssBytes: b.peakRssBytes,
  idleRssBytes: a.rssBytes,
  readBytes: b.readBytes - a.readBytes,
});

/** Pids whose command line contains `needle` (e.g. the emulator's), read from /proc. */
export function findPids(needle: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(needle)) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * The pid listening on 127.0.0.1:`port` (the emulator's, so several emulators on one machine
 * are never summed), from `ss`; falls back to every LocalStack runtime when `ss` can't say.
 */
export function listeningPids(port: number): number[] {
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
    const pids = [...new Set([...out.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])))];
    if (pids.length) return pids;
  } catch {
    /* no ss */
  }
  return findPids('localstack.runtime.main');
}

/** CPU seconds of several processes together (those that vanished count as 0). */
export function cpuOf(pids: number[]): number {
  let sum = 0;
  for (const pid of pids) {
    try {
      sum += sampleProc(pid).cpuSeconds;
    } catch {
      /* exited */
    }
  }
  return sum;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const running = new Set<ChildProcess>();

/** Kills (by pid) every child this run started and that is still alive: for exits and Ctrl-C. */
export function killAllChildren(): void {
  for (const c of running) {
    if (c.exitCode === null && c.pid) {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  running.clear();
}

/** Counts a process this run spawned itself (e.g. a redis-server) among those killAllChildren() ends. */
export function trackChild(proc: ChildProcess): void {
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
}

export interface Child {
  pid: number;
  proc: ChildProcess;
  output(): string;
  /** Resolves with the first output line matching, or rejects after ms. */
  waitForLine(re: RegExp, ms: number): Promise<{ line: string; at: number }>;
  stop(): Promise<void>;
}

export function startChild(script: string, env: Record<string, string>, name: string, cwd = BENCH_ROOT): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (!proc.pid) throw new Error(`${name}: could not spawn`);
  running.add(proc);
  let out = '';
  const watchers: { re: RegExp; resolve: (v: { line: string; at: number }) => void }[] = [];
  let partial = '';
  const onData = (d: Buffer) => {
    const s = d.toString();
    out = (out + s).slice(-20_000);
    const lines = (partial + s).split('\n');
    partial = lines.pop() ?? '';
    const at = performance.now();
    for (const line of lines) {
      for (let i = watchers.length - 1; i >= 0; i--) {
        if (watchers[i]!.re.test(line)) {
          watchers[i]!.resolve({ line, at });
          watchers.splice(i, 1);
        }
      }
    }
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  exited.then(() => running.delete(proc));
  return {
    pid: proc.pid,
    proc,
    output: () => out,
    waitForLine(re, ms) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${name}: no line matching ${re} within ${ms} ms; output:\n${out.slice(-3000)}`)), ms);
        watchers.push({
          re,
          resolve: (v) => {
            clearTimeout(t);
            resolve(v);
          },
        });
        void exited.then(() => {
          clearTimeout(t);
          reject(new Error(`${name} exited (${proc.exitCode}) before printing ${re}; output:\n${out.slice(-3000)}`));
        });
      });
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Polls url until it answers 200, or throws after ms (with the child's output). */
export async function waitHealthy(url: string, child: Child, ms: number, name: string): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child.proc.exitCode !== null) throw new Error(`${name} exited with ${child.proc.exitCode}:\n${child.output().slice(-3000)}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await r.arrayBuffer();
      if (r.ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not answer ${url} within ${ms} ms:\n${child.output().slice(-3000)}`);
}
