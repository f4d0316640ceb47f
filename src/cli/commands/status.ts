/** `dropship status`: one drop's status, size, type, thumbnails and links. */
import { isLockedView, type DropView, type ProtectedDropView } from '../../client/index.js';
import { parse, serverOf } from '../args.js';
import { EXIT } from '../exit.js';
import { clientFor, teller, json, print, type Io } from '../io.js';
import { formatBytes } from '../render.js';
import { onlyTarget } from '../target.js';
import { help } from './help.js';

/** A protected drop not unlocked shows only its status: say so, and how to see more. */
function describeLocked(v: ProtectedDropView): string {
  return [
    ['id', v.id],
    ['status', v.status],
    ['expires', v.expiresAt],
    ['protected', 'yes: password-protected (name, size and file are shown once unlocked: dropship download <id> --password …)'],
  ]
    .filter((r): r is [string, string] => r[1] !== undefined)
    .map(([k, val]) => `${k.padEnd(10)} ${val}`)
    .join('\n');
}

function describe(v: DropView): string {
  const rows: [string, string | undefined][] = [
    ['id', v.id],
    ['name', v.name],
    ['status', v.failureReason ? `${v.status} (${v.failureReason})` : v.status],
    ['size', `${formatBytes(v.size)} (${v.size} bytes)`],
    ['type', v.type],
    ['created', v.createdAt],
    ['expires', v.expiresAt],
    ['protected', v.protected ? 'yes: password-protected' : undefined],
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

export async function status(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {});
  if (values.help) return help(io, 'status');
  const target = onlyTarget(positionals, 'status');
  const v = await clientFor(serverOf(values.server, target.server, io.env), values['api-key'] ?? io.env.DROPSHIP_API_KEY, teller(io, values.quiet)).status(target.id, io.signal);
  if (values.json) json(io, v);
  else print(io, isLockedView(v) ? describeLocked(v) : describe(v));
  return EXIT.OK;
}
