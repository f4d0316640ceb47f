/**
 * Where the CLI takes a drop's password from: `--password <p>`, `--password-stdin` (the first
 * line of stdin) or the environment variable DROPSHIP_PASSWORD. A password in argv is seen
 * by every user of the machine (`ps`, /proc/<pid>/cmdline) and lands in shell history, so
 * scripts should use stdin or the environment (readable only by the process's own user).
 */
import { DropshipApiError } from '../client/index.js';
import { CliError, EXIT, UsageError } from './exit.js';
import type { Io } from './io.js';

export const PASSWORD_OPTIONS = {
  password: { type: 'string' },
  'password-stdin': { type: 'boolean' },
} as const;

async function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
    if (text.includes('\n') || text.length > 4096) break;
  }
  return text.split(/\r?\n/)[0] ?? '';
}

/** The password the user gave, if any (a usage error for two sources or an empty one). */
export async function passwordOf(values: { password?: string; 'password-stdin'?: boolean }, io: Io): Promise<string | undefined> {
  if (values.password !== undefined && values['password-stdin']) throw new UsageError('give --password or --password-stdin, not both');
  let p: string | undefined = values.password;
  if (values['password-stdin']) {
    if (!io.stdin) throw new UsageError('--password-stdin: no standard input');
    p = await firstLine(io.stdin);
  }
  p ??= io.env.DROPSHIP_PASSWORD || undefined;
  if (p !== undefined && p.length === 0) throw new UsageError('the password is empty');
  return p;
}

/** A wrong or missing password, in a sentence for people (exit 6, like other refused credentials). */
export function passwordError(e: unknown, id: string): unknown {
  if (!(e instanceof DropshipApiError)) return e;
  if (e.code === 'PASSWORD_WRONG') return new CliError(`wrong password for drop ${id}`, EXIT.UNAUTHORIZED, e.code);
  if (e.code === 'PASSWORD_REQUIRED') {
    return new CliError(`drop ${id} is password-protected: give --password, --password-stdin or DROPSHIP_PASSWORD`, EXIT.UNAUTHORIZED, e.code);
  }
  if (e.code === 'RATE_LIMITED' && e.status === 429) {
    return new CliError(`too many password attempts on drop ${id}; try again later`, EXIT.BUSY, e.code);
  }
  return e;
}
