/**
 * What a command gets from the process (passed in, so main() runs without one) and how it
 * writes: results to stdout, everything for people to stderr. Every command returns an exit code.
 */
import { DropshipClient } from '../client/index.js';

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Fires on Ctrl-C / SIGTERM. */
  signal: AbortSignal;
}

export const say = (io: Io, line: string) => io.stderr.write(`${line}\n`);
export const print = (io: Io, line: string) => io.stdout.write(`${line}\n`);
export const json = (io: Io, value: unknown) => io.stdout.write(`${JSON.stringify(value)}\n`);

export function clientFor(server: string, apiKey: string | undefined) {
  return new DropshipClient({ baseUrl: server, ...(apiKey ? { apiKey } : {}) });
}
