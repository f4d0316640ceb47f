/** `dropship list`: the API key's drops, newest first (GET /v1/drops, page by page). */
import type { DropStatus, DropView } from '../../client/index.js';
import { parse, parsePositiveInt, serverOf } from '../args.js';
import { EXIT, UsageError } from '../exit.js';
import { clientFor, json, print, type Io } from '../io.js';
import { formatBytes } from '../render.js';
import { help } from './help.js';

const STATUSES: readonly string[] = ['uploading', 'processing', 'ready', 'failed', 'cancelled', 'expired'];

/** One line per drop: id, status, size, created, name. */
const line = (v: DropView) => [v.id, v.status.padEnd(10), formatBytes(v.size).padStart(10), v.createdAt, v.name].join('  ');

export async function list(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    status: { type: 'string' },
    limit: { type: 'string' },
  });
  if (values.help) return help(io, 'list');
  if (positionals.length) throw new UsageError('list takes no arguments');
  if (values.status !== undefined && !STATUSES.includes(values.status)) {
    throw new UsageError(`--status must be one of ${STATUSES.join(', ')} (got "${values.status}")`);
  }
  // Without --limit: every drop; with it, at most that many (the newest).
  const max = values.limit === undefined ? Infinity : parsePositiveInt(values.limit, '--limit', 50, 1_000_000);
  const apiKey = values['api-key'] ?? io.env.DROPSHIP_API_KEY;
  if (!apiKey) throw new UsageError('list needs an API key: --api-key or DROPSHIP_API_KEY');
  const client = clientFor(serverOf(values.server, undefined, io.env), apiKey);
  let n = 0;
  for await (const v of client.allDrops({
    limit: Math.min(100, max),
    signal: io.signal,
    ...(values.status !== undefined ? { status: values.status as DropStatus } : {}),
  })) {
    if (values.json) json(io, v);
    else print(io, line(v));
    if (++n >= max) break;
  }
  return EXIT.OK;
}
