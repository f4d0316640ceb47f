/** Command-line parsing on node:util parseArgs (no framework: five commands and a dozen flags don't need one). */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './exit.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

/** Options every command accepts. */
export const GLOBAL_OPTIONS = {
  server: { type: 'string' },
  'api-key': { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** A bare drop id (21 URL-safe characters); older ids may begin with '-'. */
const DROP_ID_ARG = /^[A-Za-z0-9_-]{21}$/;

export function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  const all = { ...GLOBAL_OPTIONS, ...options };
  const known = new Set(Object.entries(all).flatMap(([name, o]) => [`--${name}`, ...('short' in o && o.short ? [`-${o.short}`] : [])]));
  // The options that take a value, by both spellings: "-o" and "--output" → "--output".
  const takesValue = new Map<string, string>();
  for (const [name, o] of Object.entries(all)) {
    if (o.type !== 'string') continue;
    takesValue.set(`--${name}`, `--${name}`);
    if ('short' in o && o.short) takesValue.set(`-${o.short}`, `--${name}`);
  }
  // An argument shaped like a drop id is the id, even when it begins with '-': after '--'
  // parseArgs takes it as a positional instead of an unknown option.
  const ids: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    if (a === '--') {
      rest.push(...args.slice(i));
      break;
    }
    if (takesValue.has(a) && next !== undefined && next.startsWith('-') && !known.has(next) && next !== '--') {
      // A value that begins with '-' is still the value (parseArgs calls it ambiguous): owner
      // tokens are base64url, and 1 in 64 begins with '-'. One of the options is not a value.
      rest.push(`${takesValue.get(a)!}=${next}`);
      i++;
    } else if (a.startsWith('-') && DROP_ID_ARG.test(a) && !known.has(a)) {
      ids.push(a);
    } else {
      rest.push(a);
    }
  }
  try {
    const tail = ids.length && !rest.includes('--') ? ['--', ...ids] : ids;
    return parseArgs({ args: [...rest, ...tail], options: all, allowPositionals: true, strict: true });
  } catch (e) {
    // parseArgs reports unknown options and missing values as TypeErrors with ERR_PARSE_ARGS_* codes.
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

const UNIT_SECONDS: Record<string, number> = {
  ms: 0.001, msec: 0.001, millisecond: 0.001, milliseconds: 0.001,
  s: 1, sec: 1, secs: 1, second: 1, seconds: 1,
  m: 60, min: 60, mins: 60, minute: 60, minutes: 60,
  h: 3600, hr: 3600, hrs: 3600, hour: 3600, hours: 3600,
  d: 86_400, day: 86_400, days: 86_400,
  w: 604_800, week: 604_800, weeks: 604_800,
};

/**
 * A duration as people write it → seconds: "90" (seconds), "90s", "5m", "2h", "7d", "1w",
 * "1.5h", "2h30m", "3 days", "1 week 2 days". Case and spaces do not matter.
 */
export function parseDuration(value: string, flag: string): number {
  const text = value.trim().toLowerCase();
  const bad = () => new UsageError(`${flag} must be a duration like 90, 90s, 5m, 2h, 3d, 1w or "3 days" (got "${value}")`);
  if (/^\d+(?:\.\d+)?$/.test(text)) return Number(text);
  const re = /(\d+(?:\.\d+)?)\s*([a-z]+)\s*/y;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    const unit = m && Object.hasOwn(UNIT_SECONDS, m[2]!) ? UNIT_SECONDS[m[2]!] : undefined;
    if (!m || unit === undefined) throw bad();
    total += Number(m[1]) * unit;
    at = re.lastIndex;
  }
  if (at === 0) throw bad();
  return total;
}

/** A drop's lifetime for --expires: a duration, or "never" (0: where the server allows drops that never expire). */
export function parseLifetime(value: string, flag: string): number {
  if (/^\s*(never|0)\s*$/i.test(value)) return 0;
  return Math.round(parseDuration(value, flag));
}

export function parsePositiveInt(value: string | undefined, flag: string, fallback: number, max = 1000): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw new UsageError(`${flag} must be a whole number from 1 to ${max} (got "${value}")`);
  }
  return Number(value);
}

/** --server flag, then the server named by a drop URL, then DROPSHIP_URL, then the default. */
export function serverOf(flag: string | undefined, fromTarget: string | undefined, env: NodeJS.ProcessEnv): string {
  const s = flag ?? fromTarget ?? env.DROPSHIP_URL ?? DEFAULT_SERVER;
  try {
    const u = new URL(s);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new UsageError(`the server must be an http(s) URL (got "${s}")`);
  }
  return s.replace(/\/+$/, '');
}
