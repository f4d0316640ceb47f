/** `dropship wait`: polls until the drop is ready (exit 0), gone (4) or the timeout runs out (7). */
import { parse, parseDuration, serverOf } from '../args.js';
import { EXIT } from '../exit.js';
import { clientFor, teller, json, print, say, type Io } from '../io.js';
import { onlyTarget } from '../target.js';
import { help } from './help.js';

export async function wait(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { timeout: { type: 'string', short: 't' }, interval: { type: 'string' } });
  if (values.help) return help(io, 'wait');
  const target = onlyTarget(positionals, 'wait');
  const timeoutMs = values.timeout ? parseDuration(values.timeout, '--timeout') * 1000 : undefined;
  const pollMs = values.interval ? Math.max(200, parseDuration(values.interval, '--interval') * 1000) : 1000;
  const client = clientFor(serverOf(values.server, target.server, io.env), values['api-key'] ?? io.env.DROPSHIP_API_KEY, teller(io, values.quiet));
  const v = await client.waitUntil(target.id, {
    statuses: ['ready'],
    signal: io.signal,
    pollMs,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    onStatus: (s) => !values.quiet && say(io, `${s.id}: ${s.status}`),
  });
  // A password-protected drop shows only its status: the share link is built from the id.
  const shareUrl = 'shareUrl' in v ? v.shareUrl : `${client.baseUrl}/d/${v.id}`;
  const reason = 'failureReason' in v ? v.failureReason : undefined;
  if (values.json) json(io, v);
  else print(io, v.status === 'ready' ? shareUrl : `${v.status}${reason ? `: ${reason}` : ''}`);
  if (v.status === 'ready') return EXIT.OK;
  say(io, `drop ${v.id} is ${v.status}${reason ? ` (${reason})` : ''}`);
  return EXIT.DROP_GONE;
}
