/**
 * Exit codes scripts can rely on. Stable: add new ones, never renumber.
 * (Listed in `dropship --help` and docs/cli.md; keep the three in step.)
 */
import { DropshipApiError, DropshipResumeError, DropshipTransferError, sentenceFor } from '../client/index.js';

export const EXIT = {
  OK: 0,
  /** Anything else: network, S3, server error, local file trouble. */
  FAILURE: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  /** The drop failed, expired or was cancelled (or can no longer be downloaded). */
  DROP_GONE: 4,
  /** The server stayed busy or kept rate-limiting us after retries (429/503). */
  BUSY: 5,
  /** Missing or wrong API key or owner token. */
  UNAUTHORIZED: 6,
  /** `wait --timeout` ran out. */
  TIMEOUT: 7,
  /** Interrupted by SIGINT/SIGTERM (128 + 2, as shells report it). */
  INTERRUPTED: 130,
} as const;

export const EXIT_HELP = `Exit codes:
  0  success
  1  failure (network, storage, server error, local file problem)
  2  usage error (unknown command or option, bad value, missing argument)
  3  drop not found
  4  drop failed, expired or cancelled (or its download limit is used up)
  5  server busy or rate limited, still after retries
  6  not authorized (missing or wrong API key or owner token)
  7  timed out (wait --timeout)
  130 interrupted (Ctrl-C); an interrupted upload resumes when run again`;

/** What Ctrl-C leaves behind: uploads resume, downloads start again (nothing half-written stays). */
export const INTERRUPTED = 'interrupted — run the same command to resume';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure with a chosen exit code and a message for people. */
export class CliError extends Error {
  readonly exitCode: number;
  readonly code: string;
  override readonly name = 'CliError';
  constructor(message: string, exitCode: number, code = 'CLI_ERROR') {
    super(message);
    this.exitCode = exitCode;
    this.code = code;
  }
}

const GONE_CODES = new Set(['DROP_EXPIRED', 'DOWNLOAD_LIMIT_REACHED', 'DROP_NOT_UPLOADING', 'DROP_NOT_READY']);

export function exitCodeOf(e: unknown): number {
  if (e instanceof UsageError) return EXIT.USAGE;
  if (e instanceof CliError) return e.exitCode;
  if (e instanceof DropshipApiError) {
    if (e.code === 'DROP_NOT_FOUND' || e.code === 'COLLECTION_NOT_FOUND') return EXIT.NOT_FOUND;
    if (e.status === 401 || e.status === 403) return EXIT.UNAUTHORIZED;
    if (e.status === 429 || e.status === 503) return EXIT.BUSY;
    if (GONE_CODES.has(e.code) || e.status === 410) return EXIT.DROP_GONE;
    return EXIT.FAILURE;
  }
  if (e instanceof Error && e.name === 'TimeoutError') return EXIT.TIMEOUT;
  if (e instanceof Error && e.name === 'AbortError') return EXIT.INTERRUPTED;
  return EXIT.FAILURE;
}

/** Machine-readable code for --json output. */
export function errorCodeOf(e: unknown): string {
  if (e instanceof DropshipApiError) return e.code;
  if (e instanceof DropshipResumeError) return e.code;
  if (e instanceof DropshipTransferError) return 'TRANSFER_FAILED';
  if (e instanceof CliError) return e.code;
  if (e instanceof UsageError) return 'USAGE';
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) return e.name === 'TimeoutError' ? 'TIMEOUT' : 'INTERRUPTED';
  if (e instanceof Error && 'code' in e && typeof e.code === 'string') return e.code;
  if (unreachableMessage(e)) return 'SERVER_UNREACHABLE';
  return 'FAILURE';
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the name did not resolve',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'timed out connecting',
};

/** A fetch that never reached a server ("fetch failed" with a system error as cause), in words. */
export function unreachableMessage(e: unknown): string | undefined {
  if (!(e instanceof TypeError) || !(e.cause instanceof Error)) return undefined;
  const cause = e.cause as Error & { code?: string; address?: string; port?: number; hostname?: string };
  const what = cause.code ? NETWORK_CODES[cause.code] : undefined;
  if (!what) return undefined;
  const where = cause.hostname ?? (cause.address ? `${cause.address}${cause.port ? `:${cause.port}` : ''}` : 'the server');
  return `cannot reach ${where} (${what}): is the dropship server running there? Point at it with --server <url> or DROPSHIP_URL`;
}

/** Codes whose server message names the exact field and bound: said after the sentence. */
const SPECIFIC = new Set(['VALIDATION_FAILED', 'SIZE_INVALID', 'PART_NUMBER_INVALID']);

export function messageOf(e: unknown): string {
  const unreachable = unreachableMessage(e);
  if (unreachable) return unreachable;
  if (e instanceof DropshipApiError) {
    const sentence = sentenceFor(e.code, e.details, e.retryAfter);
    if (sentence) return SPECIFIC.has(e.code) ? `${sentence} (${e.message})` : sentence;
  }
  if (e instanceof Error) {
    const cause = e.cause instanceof Error ? `: ${e.cause.message}` : '';
    return `${e.message}${cause}`;
  }
  return String(e);
}
