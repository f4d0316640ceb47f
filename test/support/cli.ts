/** Runs the real `dropship` CLI (bin/dropship.js) as a child process, as a user's shell would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const DROPSHIP_BIN = fileURLToPath(new URL('../../bin/dropship.js', import.meta.url));

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string>;
  cwd?: string;
}

export function startCli(args: string[], opts: CliOptions = {}): { child: ChildProcess; done: Promise<CliRun>; stderrSoFar(): string } {
  // The node running the tests (>= 22), so the bin script runs in this process tree without re-exec.
  const child = spawn(process.execPath, [DROPSHIP_BIN, ...args], {
    cwd: opts.cwd ?? process.cwd(),
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done, stderrSoFar: () => stderr };
}

export const runCli = (args: string[], opts: CliOptions = {}) => startCli(args, opts).done;
