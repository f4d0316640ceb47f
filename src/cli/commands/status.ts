/** `dropship status`: one drop's status, size, type, thumbnails and links; or a collection's files. */
import { isLockedView, type CollectionView, type DropView, type ProtectedDropView } from '../../client/index.js';
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

function describeCollection(c: CollectionView): string {
  const head = [
    `id         ${c.id}`,
    `title      ${c.title ?? '(none)'}`,
    `created    ${c.createdAt}`,
    ...(c.expiresAt ? [`expires    ${c.expiresAt}`] : []),
    `share      ${c.shareUrl}`,
    `files      ${c.drops.length}`,
  ];
  // One line per file: status, size, share link, name (the name last: it may hold spaces).
  const width = Math.max(0, ...c.drops.map((d) => d.status.length));
  const rows = c.drops.map((d) => `  ${d.status.padEnd(width)}  ${formatBytes(d.size).padStart(10)}  ${d.shareUrl}  ${d.name}`);
  return [...head, ...rows].join('\n');
}

export async function status(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {});
  if (values.help) return help(io, 'status');
  const target = onlyTarget(positionals, 'status', ['drop', 'collection']);
  const client = clientFor(serverOf(values.server, target.server, io.env), values['api-key'] ?? io.env.DROPSHIP_API_KEY, teller(io, values.quiet));
  if (target.kind === 'collection') {
    const c = await client.getCollection(target.id, io.signal);
    if (values.json) json(io, c);
    // A password-protected collection shows only that it exists and when it expires.
    else if (!('drops' in c)) print(io, [['id', c.id], ['expires', c.expiresAt ?? 'never'], ['protected', 'yes: password-protected (its files are listed once unlocked)']].map(([k, v]) => `${k!.padEnd(10)} ${v}`).join('\n'));
    else print(io, describeCollection(c));
    return EXIT.OK;
  }
  const v = await client.status(target.id, io.signal);
  if (values.json) json(io, v);
  else print(io, isLockedView(v) ? describeLocked(v) : describe(v));
  return EXIT.OK;
}
