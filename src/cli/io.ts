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
  /** For `--password-stdin`. */
  stdin?: NodeJS.ReadableStream;
}

export const say = (io: Io, line: string) => io.stderr.write(`${line}\n`);
export const print = (io: Io, line: string) => io.stdout.write(`${line}\n`);
export const json = (io: Io, value: unknown) => io.stdout.write(`${JSON.stringify(value)}\n`);

/** The longest Retry-After the CLI sits out (a person is waiting; longer ones fail with exit 5). */
export const CLI_MAX_RETRY_AFTER = 120;

/** A client for the server; with `tell`, each wait on a busy server is said in words first. */
export function clientFor(server: string, apiKey: string | undefined, tell?: (line: string) => void) {
  return new DropshipClient({
    baseUrl: server,
    ...(apiKey ? { apiKey } : {}),
    maxRetryAfter: CLI_MAX_RETRY_AFTER,
    ...(tell
      ? {
          onRetry: ({ status, waitMs }: { status: number; waitMs: number }) =>
            tell(`server ${status === 429 ? 'rate-limited us' : 'busy'} (HTTP ${status}); retrying in ${Math.ceil(waitMs / 1000)} s`),
        }
      : {}),
  });
}

/** Where a command tells people things on stderr: nowhere with --quiet. */
export const teller = (io: Io, quiet: boolean | undefined) => (quiet ? undefined : (line: string) => say(io, line));
