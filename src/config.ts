/**
 * One typed configuration, read from environment variables and validated at start-up.
 * The TypeBox schema is the single source: the static type is derived from it, defaults
 * live in it, and a bad value stops the process with a message naming the variable.
 *
 * The same code runs against LocalStack, other emulators and real AWS: only
 * AWS_ENDPOINT_URL, credentials and region differ.
 */
import { Type, type Static, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { isIPv4, isIPv6 } from 'node:net';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const Int = (def: number, min: number, description: string, max = Number.MAX_SAFE_INTEGER) =>
  Type.Integer({ default: def, minimum: min, maximum: max, description });
const Bool = (def: boolean, description: string) => Type.Boolean({ default: def, description });
const Str = (def: string, description: string, minLength = 0) =>
  Type.String({ default: def, description, minLength });

export const ConfigSchema = Type.Object({
  HOST: Str('127.0.0.1', 'Address the api listens on.', 1),
  PORT: Int(8080, 0, 'Port the api listens on (0 picks a free port).', 65535),
  DROPSHIP_PUBLIC_URL: Str('', 'Base URL users see in share links (default http://HOST:PORT).'),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info', description: 'pino log level.' },
  ),

  AWS_REGION: Str('us-east-1', 'AWS region of the bucket and queue.', 1),
  AWS_ENDPOINT_URL: Str('', 'Endpoint of an S3/SQS emulator (empty: real AWS).'),
  DROPSHIP_S3_PATH_STYLE: Type.Union([Type.Literal('auto'), Type.Literal('true'), Type.Literal('false')], {
    default: 'auto',
    description: 'Path-style S3 addressing; auto = on when AWS_ENDPOINT_URL is set.',
  }),
  DROPSHIP_BUCKET: Str('dropship', 'S3 bucket holding drops.', 3),
  DROPSHIP_QUEUE_NAME: Str('dropship-events', 'SQS queue receiving the bucket notifications.', 1),
  DROPSHIP_DLQ_NAME: Str('dropship-events-dlq', 'Dead-letter queue for messages that keep failing.', 1),
  DROPSHIP_QUEUE_URL: Str('', 'Queue URL (default: looked up from DROPSHIP_QUEUE_NAME).'),
  DROPSHIP_TRUST_PROXY: Str(
    '',
    'Proxies whose X-Forwarded-For is believed: empty = none (the socket address is the client), a hop count (`1` behind one load balancer), or comma-separated addresses/CIDRs of the proxies (`10.0.0.0/8,loopback`).',
  ),
  DROPSHIP_METRICS_TOKEN: Str('', 'When set, /metrics answers only `Authorization: Bearer <this token>` (401 otherwise); empty = public.'),
  DROPSHIP_CORS_ORIGINS: Str('*', 'Comma-separated origins allowed to PUT parts to the bucket and call the api.'),

  DROPSHIP_API_KEYS: Str('', 'Comma-separated API keys accepted as "Authorization: Bearer <key>" (each with the server\'s limits).'),
  DROPSHIP_KEYS_FILE: Str(
    '',
    'Path of a JSON keys file: API keys (or their SHA-256) with an `id` and per-key limits — maxFileSize, allowedTypes, defaultExpiresIn, maxExpiresIn, webhooks (docs/operations.md).',
  ),
  DROPSHIP_WEBHOOKS: Str(
    '',
    'Global webhooks, a JSON array of `{ "url", "secret": "whsec_<base64>", "events": ["drop.ready", …] }`: told of every drop (docs/webhooks.md).',
  ),
  DROPSHIP_DELIVERIES_QUEUE_NAME: Str('dropship-deliveries', 'SQS queue holding webhook deliveries, one message per event and receiver.', 1),
  DROPSHIP_DELIVERIES_DLQ_NAME: Str('dropship-deliveries-dlq', 'Dead-letter queue for webhook deliveries whose retries are spent.', 1),
  DROPSHIP_DELIVERIES_QUEUE_URL: Str('', 'Deliveries queue URL (default: looked up from DROPSHIP_DELIVERIES_QUEUE_NAME).'),
  DROPSHIP_WEBHOOK_RETRY_SCHEDULE: Str(
    '5,60,300,1800,7200,18000,36000,36000',
    'Seconds a webhook delivery waits after each failed attempt, comma-separated (each ≤ 43200); after the last, the message goes to the deliveries DLQ. The default spans about 27 hours. Provisioning sets the queue\'s maxReceiveCount to the count + 1.',
    1,
  ),
  DROPSHIP_WEBHOOK_TIMEOUT_MS: Int(5000, 100, 'A webhook receiver must answer within this time, or the attempt fails and is retried.', 60_000),
  DROPSHIP_WEBHOOK_CONCURRENCY: Int(4, 1, 'Webhook deliveries one worker makes at once (a consumer of its own, apart from the S3 events).', 100),
  DROPSHIP_WEBHOOK_DLQ_CHECK_INTERVAL: Int(60, 0, 'Seconds between the worker\'s checks of the deliveries DLQ depth (logged as a warning when not empty; 0 = off).', 86_400),
  DROPSHIP_PUBLIC_UPLOADS: Bool(false, 'Allow anonymous upload tickets (on in `npm run dev`).'),
  DROPSHIP_MAX_FILE_SIZE: Int(5 * 1024 ** 4, 0, 'Largest file accepted, in bytes (413 above).', 5 * 1024 ** 4),
  DROPSHIP_SINGLE_PUT_MAX: Int(16 * 1024 ** 2, 0, 'Files up to this size get a single-PUT ticket.', 5 * 1024 ** 3),
  DROPSHIP_TICKET_TTL: Int(24 * 3600, 60, 'Seconds an upload ticket lives (never past the drop\'s lifetime): an upload not completed by then expires.', 7 * 24 * 3600),
  DROPSHIP_DEFAULT_EXPIRES_IN: Int(7 * 24 * 3600, 0, 'Seconds a drop lives when the client sends no expiresIn (0 = never expires; needs DROPSHIP_MAX_EXPIRES_IN=0).'),
  DROPSHIP_MAX_EXPIRES_IN: Int(30 * 24 * 3600, 0, 'Longest lifetime, in seconds, a client may ask for (0 = no maximum: clients may also send expiresIn 0 for a drop that never expires).'),
  DROPSHIP_PART_URL_TTL: Int(15 * 60, 10, 'Seconds a signed part URL lives.', 7 * 24 * 3600),
  DROPSHIP_DOWNLOAD_URL_TTL: Int(5 * 60, 10, 'Seconds a download redirect URL lives.', 7 * 24 * 3600),
  DROPSHIP_LIMITED_DOWNLOAD_URL_TTL: Int(
    30,
    5,
    'Seconds a download URL of a drop with maxDownloads lives (each counted download is one URL, usable again while it lives).',
    3600,
  ),
  DROPSHIP_PARTS_PER_BATCH: Int(100, 1, 'Most part URLs signed in one request.', 10_000),
  DROPSHIP_TICKET_PARTS: Int(16, 1, 'Part URLs signed into the ticket itself (enough to start; clients sign the rest in batches as they go).', 10_000),
  DROPSHIP_MAX_OPEN_TICKETS: Int(100, 1, 'Open (uploading) drops one API key or IP may hold.'),
  DROPSHIP_UPLOAD_SLOTS: Int(10_000, 1, 'Open uploads this api replica accepts before answering 503.'),
  DROPSHIP_RATE_LIMIT: Int(600, 1, 'Api requests per minute per API key or IP.'),
  DROPSHIP_PAGE_RATE_LIMIT: Int(
    3000,
    1,
    'Page requests per minute per IP (the upload page and its files, share and collection pages, thumbnails, download links), counted apart from api requests.',
  ),
  DROPSHIP_UNLOCK_SECRET: Str(
    '',
    'Secret (at least 32 characters) that signs the unlock cookies and tokens of password-protected drops. Empty: a random secret per process, so unlocks do not survive a restart and, with several api replicas, one replica\'s unlock is refused by the others: replicas must share one.',
  ),
  DROPSHIP_UNLOCK_TTL: Int(3600, 60, 'Seconds an unlock of a password-protected drop (its cookie or token) lasts.', 30 * 86_400),
  DROPSHIP_UNLOCK_ATTEMPTS: Int(5, 1, 'Password attempts one client (address, IPv6 /64) may make on one drop per DROPSHIP_UNLOCK_WINDOW before answering 429 (per api replica).'),
  DROPSHIP_UNLOCK_DROP_ATTEMPTS: Int(50, 1, 'Password attempts all clients together may make on one drop per DROPSHIP_UNLOCK_WINDOW before answering 429 (per api replica).'),
  DROPSHIP_UNLOCK_WINDOW: Int(900, 1, 'Seconds over which password attempts are counted.', 86_400),
  DROPSHIP_EVENT_STREAMS: Int(2000, 1, 'Server-sent event streams (GET /v1/drops/:id/events) this api replica holds open before answering 503.'),
  DROPSHIP_EVENT_STREAMS_PER_CLIENT: Int(20, 1, 'Event streams one client (address, IPv6 /64) may hold open before answering 429.'),
  DROPSHIP_EVENT_POLL_MS: Int(1000, 100, 'How often the one shared poll of a watched drop reads its manifest.', 60_000),
  DROPSHIP_EVENT_STREAM_MAX_MS: Int(15 * 60_000, 1000, 'An event stream ends after this long (EventSource clients reconnect).'),
  DROPSHIP_STREAM_SLOTS: Int(8, 1, 'Concurrent curl streaming uploads before answering 503.'),
  DROPSHIP_STREAM_SLOTS_PER_CLIENT: Int(2, 1, 'Concurrent curl streaming uploads one client (API key, or address with IPv6 by /64) may hold before answering 429.'),
  DROPSHIP_STREAM_MIN_BYTES_PER_S: Int(
    8192,
    0,
    'A streaming client must average at least this many bytes per second over every rate window, or it is cut (408) and rolled back; time the api itself holds the body back (S3 slower than the client) does not count.',
  ),
  DROPSHIP_STREAM_RATE_WINDOW_MS: Int(20_000, 1000, 'Length of the window over which the streaming minimum rate is measured.'),
  DROPSHIP_STREAM_MAX_DURATION_MS: Int(4 * 3600_000, 1000, 'A streaming upload that takes longer than this is cut (408) and rolled back.'),
  DROPSHIP_STREAM_IDLE_TIMEOUT_MS: Int(30_000, 100, 'A streaming client silent this long is cut and rolled back.'),
  DROPSHIP_HEADERS_TIMEOUT_MS: Int(20_000, 100, 'A client must send its request headers within this time (slowloris guard).'),
  DROPSHIP_BODY_TIMEOUT_MS: Int(30_000, 100, 'A client must send a JSON request body within this time (the streaming routes use the idle timeout instead).'),
  DROPSHIP_STREAM_MAX_SIZE: Int(50 * 1024 ** 3, 0, 'Largest body the curl streaming route accepts (413 above).', 5 * 1024 ** 4),
  DROPSHIP_STREAM_PARTS_IN_FLIGHT: Int(2, 1, 'Parts one streaming upload sends to S3 at once (memory is about (this + 1) × part size).', 16),

  DROPSHIP_SWEEP_INTERVAL: Int(30, 0, 'Seconds between retention sweeps in each worker process (deletes expired drops; 0 = off).', 86_400),
  DROPSHIP_WORKER_CONCURRENCY: Int(2, 1, 'Messages one worker handles at once.', 100),
  DROPSHIP_THUMB_WIDTHS: Str('256,1024', 'Thumbnail widths in pixels, comma-separated.', 1),
  DROPSHIP_MAX_PIXELS: Int(100_000_000, 1, 'Images above this many pixels get no thumbnail (decompression-bomb guard).'),
  DROPSHIP_MAX_IMAGE_BYTES: Int(
    64 * 1024 ** 2,
    1,
    'Images larger than this many bytes get no thumbnail (the worker reads an image into memory to decode it).',
  ),
  DROPSHIP_WORKER_VISIBILITY_TIMEOUT: Int(
    60,
    2,
    'Seconds a received message stays hidden; the worker extends it while a job runs, so a crashed worker\'s message returns after this.',
    43_200,
  ),
  DROPSHIP_WORKER_WAIT_TIME: Int(
    10,
    1,
    'Seconds each SQS receive long-polls; a stopping worker waits for its last receive, so also the longest a shutdown waits for it.',
    20,
  ),
  DROPSHIP_WORKER_RETRY_DELAY: Int(
    5,
    0,
    'Seconds before a failed message is retried; doubles with every receive, up to 15 minutes.',
    900,
  ),
});

export type Config = Static<typeof ConfigSchema> & {
  /** Derived, not read: whether S3 is addressed path-style. */
  s3PathStyle: boolean;
  apiKeys: string[];
  corsOrigins: string[];
  thumbWidths: number[];
  publicUrl: string;
  /** Parsed DROPSHIP_TRUST_PROXY, in the form Fastify's `trustProxy` takes. */
  trustProxy: TrustProxy;
  /** Parsed DROPSHIP_WEBHOOKS: the receivers told of every drop. */
  webhooks: WebhookTarget[];
  /** Parsed DROPSHIP_WEBHOOK_RETRY_SCHEDULE: seconds before each retry. */
  webhookRetrySchedule: number[];
  /** Every accepted API key with its policy: the keys file's, then DROPSHIP_API_KEYS' (default policy). */
  keys: ApiKey[];
};

/**
 * One accepted API key. The secret itself is never kept: `sha256` is the hex SHA-256 of the
 * key's UTF-8 bytes (what `Authorization: Bearer <key>` is compared against, in constant time).
 */
export interface ApiKey {
  /** The key's name: the keys file's `id`, or `key-<first 16 hex of sha256>` for DROPSHIP_API_KEYS. */
  id: string;
  sha256: string;
  /** Largest file this key may upload, in bytes (never above DROPSHIP_MAX_FILE_SIZE). */
  maxFileSize?: number;
  /** Media types this key may upload: exact (`application/pdf`) or `type/*`; absent: any. */
  allowedTypes?: string[];
  /** Seconds a drop of this key lives when the client sends no expiresIn. */
  defaultExpiresIn?: number;
  /** Longest lifetime this key may ask for (0: no maximum, only where the server has none). */
  maxExpiresIn?: number;
  /** Receivers told of this key's drops (besides the global DROPSHIP_WEBHOOKS). */
  webhooks: WebhookTarget[];
}

export const WEBHOOK_EVENTS = ['drop.ready', 'drop.failed', 'drop.deleted', 'drop.expired'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** One webhook receiver: where to POST, the Standard Webhooks secret to sign with, which events. */
export interface WebhookTarget {
  url: string;
  /** `whsec_<base64>`; the bytes after the prefix are the HMAC key. */
  secret: string;
  events: WebhookEventType[];
}

const WebhookTargetSchema = Type.Object(
  {
    url: Type.String({ pattern: '^https?://[^/\\s]+' }),
    secret: Type.String({ pattern: '^whsec_[A-Za-z0-9+/]{16,}={0,2}$' }),
    events: Type.Array(Type.Union(WEBHOOK_EVENTS.map((e) => Type.Literal(e))), { minItems: 1, uniqueItems: true }),
  },
  { additionalProperties: false },
);

/**
 * Validates a list of webhook targets (DROPSHIP_WEBHOOKS, or a key's `webhooks` in the keys
 * file); `where` prefixes every problem so the message names the setting.
 */
export function parseWebhookTargets(value: unknown, where: string): { ok: true; targets: WebhookTarget[] } | { ok: false; problems: string[] } {
  if (!Array.isArray(value)) return { ok: false, problems: [`${where}: must be a JSON array of webhooks`] };
  const problems: string[] = [];
  value.forEach((t, i) => {
    for (const e of Value.Errors(WebhookTargetSchema, t)) {
      problems.push(`${where}[${i}]${e.instancePath.replace(/\//g, '.')}: ${e.message}`);
    }
  });
  return problems.length ? { ok: false, problems } : { ok: true, targets: value as WebhookTarget[] };
}

/** DROPSHIP_WEBHOOK_RETRY_SCHEDULE: comma-separated seconds, each 0..43200 (SQS's longest visibility timeout), 1..50 of them. */
function parseRetrySchedule(text: string): { ok: true; schedule: number[] } | { ok: false; reason: string } {
  const parts = list(text);
  if (!parts.length || parts.length > 50) return { ok: false, reason: 'needs 1 to 50 comma-separated delays in seconds' };
  const schedule = parts.map(Number);
  if (schedule.some((d) => !Number.isInteger(d) || d < 0 || d > 43_200)) {
    return { ok: false, reason: 'every delay must be a whole number of seconds, 0..43200' };
  }
  return { ok: true, schedule };
}

function parseWebhooksVar(raw: string, problems: string[]): WebhookTarget[] {
  if (!raw.trim()) return [];
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    problems.push(`DROPSHIP_WEBHOOKS: not JSON (${(e as Error).message})`);
    return [];
  }
  const r = parseWebhookTargets(json, 'DROPSHIP_WEBHOOKS');
  if (!r.ok) {
    problems.push(...r.problems);
    return [];
  }
  return r.targets;
}

const KEY_ID = '^[A-Za-z0-9_.-]{1,64}$';
const MEDIA_RANGE = '^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/(\\*|[a-z0-9][a-z0-9!#$&^_.+-]{0,126})$';

const KeyEntrySchema = Type.Object(
  {
    id: Type.String({ pattern: KEY_ID }),
    key: Type.Optional(Type.String({ pattern: '^[\\x21-\\x7e]{16,512}$' })),
    keySha256: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{64}$' })),
    maxFileSize: Type.Optional(Type.Integer({ minimum: 0 })),
    allowedTypes: Type.Optional(Type.Array(Type.String({ pattern: MEDIA_RANGE }), { minItems: 1, maxItems: 100, uniqueItems: true })),
    defaultExpiresIn: Type.Optional(Type.Integer({ minimum: 0 })),
    maxExpiresIn: Type.Optional(Type.Integer({ minimum: 0 })),
    webhooks: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);
const KeysFileSchema = Type.Object({ keys: Type.Array(Type.Unknown(), { maxItems: 10_000 }) }, { additionalProperties: false });

/** Hex SHA-256 of an API key, as the keys file's `keySha256` holds it (`printf %s "$KEY" | sha256sum`). */
export const keySha256 = (key: string): string => createHash('sha256').update(key).digest('hex');

/** The id of a DROPSHIP_API_KEYS key: stable, derived from its hash, never the secret. */
export const derivedKeyId = (sha256: string): string => `key-${sha256.slice(0, 16)}`;

const schemaProblems = (schema: TSchema, value: unknown, where: string): string[] =>
  [...Value.Errors(schema, value)].map((e) => {
    const path = e.instancePath.replace(/\//g, '.');
    const extra = (e.params as { additionalProperties?: string[] } | undefined)?.additionalProperties;
    return extra?.length ? `${where}${path}: unknown field ${extra.map((f) => JSON.stringify(f)).join(', ')}` : `${where}${path}: ${e.message}`;
  });

interface GlobalLimits {
  maxFileSize: number;
  defaultExpiresIn: number;
  maxExpiresIn: number;
}

/** Validates one keys-file entry against the server's limits; problems are pushed, the key returned when it is sound. */
function parseKeyEntry(entry: unknown, where: string, limits: GlobalLimits, problems: string[]): ApiKey | undefined {
  const found = schemaProblems(KeyEntrySchema, entry, where);
  if (found.length) {
    problems.push(...found);
    return undefined;
  }
  const e = entry as Static<typeof KeyEntrySchema>;
  const before = problems.length;
  if ((e.key === undefined) === (e.keySha256 === undefined)) problems.push(`${where}: needs exactly one of "key" and "keySha256"`);
  if (e.maxFileSize !== undefined && e.maxFileSize > limits.maxFileSize) {
    problems.push(`${where}.maxFileSize: ${e.maxFileSize} is more than DROPSHIP_MAX_FILE_SIZE (${limits.maxFileSize})`);
  }
  const gmax = limits.maxExpiresIn;
  const max = e.maxExpiresIn ?? gmax;
  if (e.maxExpiresIn !== undefined) {
    if (e.maxExpiresIn === 0 && gmax !== 0) problems.push(`${where}.maxExpiresIn: 0 (no maximum) needs DROPSHIP_MAX_EXPIRES_IN=0`);
    else if (e.maxExpiresIn > 0 && e.maxExpiresIn < 60) problems.push(`${where}.maxExpiresIn: must be 0 (no maximum) or at least 60`);
    else if (gmax > 0 && e.maxExpiresIn > gmax) problems.push(`${where}.maxExpiresIn: ${e.maxExpiresIn} is more than DROPSHIP_MAX_EXPIRES_IN (${gmax})`);
  }
  if (e.defaultExpiresIn !== undefined) {
    const d = e.defaultExpiresIn;
    if (d > 0 && d < 60) problems.push(`${where}.defaultExpiresIn: must be 0 (never) or at least 60`);
    else if (d === 0 && max !== 0) problems.push(`${where}.defaultExpiresIn: 0 (never) needs a maxExpiresIn of 0`);
    else if (max > 0 && d > max) problems.push(`${where}.defaultExpiresIn: ${d} is more than the key's maxExpiresIn (${max})`);
  }
  const hooks = e.webhooks === undefined ? { ok: true as const, targets: [] } : parseWebhookTargets(e.webhooks, `${where}.webhooks`);
  if (!hooks.ok) problems.push(...hooks.problems);
  if (problems.length > before || !hooks.ok) return undefined;
  return {
    id: e.id,
    sha256: e.keySha256 !== undefined ? e.keySha256.toLowerCase() : keySha256(e.key!),
    ...(e.maxFileSize !== undefined && { maxFileSize: e.maxFileSize }),
    ...(e.allowedTypes !== undefined && { allowedTypes: e.allowedTypes }),
    ...(e.defaultExpiresIn !== undefined && { defaultExpiresIn: e.defaultExpiresIn }),
    ...(e.maxExpiresIn !== undefined && { maxExpiresIn: e.maxExpiresIn }),
    webhooks: hooks.targets,
  };
}

/** Reads DROPSHIP_KEYS_FILE (when set) and DROPSHIP_API_KEYS into one list; every problem names the file and the entry. */
function parseKeys(
  file: string,
  envKeys: string[],
  limits: GlobalLimits,
  readFile: (path: string) => string,
  problems: string[],
): ApiKey[] {
  const keys: ApiKey[] = [];
  if (file) {
    const where = `DROPSHIP_KEYS_FILE (${file})`;
    let json: unknown;
    let text: string | undefined;
    try {
      text = readFile(file);
    } catch (e) {
      problems.push(`${where}: cannot be read (${(e as Error).message})`);
    }
    if (text !== undefined) {
      try {
        json = JSON.parse(text);
      } catch (e) {
        problems.push(`${where}: not JSON (${(e as Error).message})`);
      }
    }
    if (json !== undefined) {
      const top = schemaProblems(KeysFileSchema, json, where);
      if (top.length) problems.push(...top);
      else {
        (json as { keys: unknown[] }).keys.forEach((entry, i) => {
          const k = parseKeyEntry(entry, `${where} keys[${i}]`, limits, problems);
          if (k) keys.push(k);
        });
      }
    }
  }
  for (const key of envKeys) {
    const sha256 = keySha256(key);
    keys.push({ id: derivedKeyId(sha256), sha256, webhooks: [] });
  }
  const ids = new Map<string, number>();
  const hashes = new Map<string, number>();
  keys.forEach((k, i) => {
    if (ids.has(k.id)) problems.push(`DROPSHIP_KEYS_FILE: duplicate key id ${JSON.stringify(k.id)}`);
    if (hashes.has(k.sha256)) {
      problems.push(`DROPSHIP_KEYS_FILE: the key of ${JSON.stringify(k.id)} is also the key of ${JSON.stringify(keys[hashes.get(k.sha256)!]!.id)} (keys must be distinct, DROPSHIP_API_KEYS included)`);
    }
    ids.set(k.id, i);
    hashes.set(k.sha256, i);
  });
  return keys;
}

/** The receivers a key's drops are told of (its own, not the global DROPSHIP_WEBHOOKS); none for an unknown id. */
export function webhooksForKey(config: Pick<Config, 'keys'>): (keyId: string) => WebhookTarget[] {
  const byId = new Map(config.keys.map((k) => [k.id, k.webhooks]));
  return (keyId) => byId.get(keyId) ?? [];
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
    this.name = 'ConfigError';
  }
}

const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** What `DROPSHIP_TRUST_PROXY` means: no proxy, a number of hops, or the proxies' addresses. */
export type TrustProxy = false | number | string[];

const NAMED = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** Parses `DROPSHIP_TRUST_PROXY`: empty/`false`/`0` → off, `N` → N hops, else addresses or CIDRs. */
function parseTrustProxy(v: string): { ok: true; value: TrustProxy } | { ok: false; reason: string } {
  const s = v.trim();
  if (s === '' || s === 'false' || s === '0') return { ok: true, value: false };
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    return n <= 100 ? { ok: true, value: n } : { ok: false, reason: 'a hop count must be 0..100' };
  }
  const list = s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  for (const e of list) {
    if (NAMED.has(e)) continue;
    const [ip, bits, more] = e.split('/');
    const max = isIPv4(ip ?? '') ? 32 : isIPv6(ip ?? '') ? 128 : 0;
    if (!max || more !== undefined) return { ok: false, reason: `${JSON.stringify(e)} is not an address or CIDR` };
    if (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= max)) {
      return { ok: false, reason: `${JSON.stringify(e)} has a bad prefix length` };
    }
  }
  return { ok: true, value: list };
}

/** Reads and validates the configuration; throws ConfigError naming every bad variable. */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  opts: { readFile?: (path: string) => string } = {},
): Config {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.properties)) {
    const v = env[key];
    if (v !== undefined && v !== '') raw[key] = v.trim();
  }
  const withDefaults = Value.Default(ConfigSchema, raw);
  const value = Value.Convert(ConfigSchema, withDefaults) as Record<string, unknown>;
  const problems: string[] = [];
  for (const e of Value.Errors(ConfigSchema, value)) {
    const name = e.instancePath.replace(/^\//, '') || '(config)';
    problems.push(`${name}=${JSON.stringify(raw[name] ?? value[name])}: ${e.message}`);
  }
  const c = value as Static<typeof ConfigSchema>;
  const thumbWidths = list(c.DROPSHIP_THUMB_WIDTHS ?? '').map(Number);
  if (thumbWidths.some((w) => !Number.isInteger(w) || w < 16 || w > 8192)) {
    problems.push(`DROPSHIP_THUMB_WIDTHS=${JSON.stringify(c.DROPSHIP_THUMB_WIDTHS)}: widths must be integers 16..8192`);
  }
  const max = c.DROPSHIP_MAX_EXPIRES_IN;
  const def = c.DROPSHIP_DEFAULT_EXPIRES_IN;
  if (typeof max === 'number' && max > 0 && max < 60) problems.push(`DROPSHIP_MAX_EXPIRES_IN=${max}: must be 0 (no maximum) or at least 60`);
  if (typeof def === 'number' && typeof max === 'number') {
    if (def > 0 && def < 60) problems.push(`DROPSHIP_DEFAULT_EXPIRES_IN=${def}: must be 0 (never) or at least 60`);
    else if (def === 0 && max !== 0) problems.push('DROPSHIP_DEFAULT_EXPIRES_IN=0: drops that never expire need DROPSHIP_MAX_EXPIRES_IN=0');
    else if (max > 0 && def > max) problems.push(`DROPSHIP_DEFAULT_EXPIRES_IN=${def}: more than DROPSHIP_MAX_EXPIRES_IN (${max})`);
  }
  if (c.DROPSHIP_UNLOCK_SECRET && c.DROPSHIP_UNLOCK_SECRET.length < 32) problems.push('DROPSHIP_UNLOCK_SECRET: must be at least 32 characters (or empty: a random one per process)');
  if (c.AWS_ENDPOINT_URL && !/^https?:\/\/[^/]+/.test(c.AWS_ENDPOINT_URL)) {
    problems.push(`AWS_ENDPOINT_URL=${JSON.stringify(c.AWS_ENDPOINT_URL)}: must be an http(s) URL`);
  }
  if (c.DROPSHIP_PUBLIC_URL && !/^https?:\/\/[^/]+/.test(c.DROPSHIP_PUBLIC_URL)) {
    problems.push(`DROPSHIP_PUBLIC_URL=${JSON.stringify(c.DROPSHIP_PUBLIC_URL)}: must be an http(s) URL`);
  }
  const trust = parseTrustProxy(c.DROPSHIP_TRUST_PROXY ?? '');
  if (!trust.ok) problems.push(`DROPSHIP_TRUST_PROXY=${JSON.stringify(c.DROPSHIP_TRUST_PROXY)}: ${trust.reason}`);
  const webhooks = parseWebhooksVar(c.DROPSHIP_WEBHOOKS ?? '', problems);
  const schedule = parseRetrySchedule(c.DROPSHIP_WEBHOOK_RETRY_SCHEDULE ?? '');
  if (!schedule.ok) problems.push(`DROPSHIP_WEBHOOK_RETRY_SCHEDULE=${JSON.stringify(c.DROPSHIP_WEBHOOK_RETRY_SCHEDULE)}: ${schedule.reason}`);
  // The keys file is checked against the server's limits, so it waits for them to be sound.
  const limitsSound = [c.DROPSHIP_MAX_FILE_SIZE, c.DROPSHIP_DEFAULT_EXPIRES_IN, c.DROPSHIP_MAX_EXPIRES_IN].every(Number.isSafeInteger);
  const keys = !limitsSound
    ? []
    : parseKeys(
        c.DROPSHIP_KEYS_FILE ?? '',
        list(c.DROPSHIP_API_KEYS ?? ''),
        { maxFileSize: c.DROPSHIP_MAX_FILE_SIZE, defaultExpiresIn: c.DROPSHIP_DEFAULT_EXPIRES_IN, maxExpiresIn: c.DROPSHIP_MAX_EXPIRES_IN },
        opts.readFile ?? ((path) => readFileSync(path, 'utf8')),
        problems,
      );
  if (problems.length) throw new ConfigError(problems);
  return {
    webhooks,
    webhookRetrySchedule: schedule.ok ? schedule.schedule : [],
    keys,
    ...c,
    s3PathStyle: c.DROPSHIP_S3_PATH_STYLE === 'auto' ? Boolean(c.AWS_ENDPOINT_URL) : c.DROPSHIP_S3_PATH_STYLE === 'true',
    apiKeys: list(c.DROPSHIP_API_KEYS),
    corsOrigins: list(c.DROPSHIP_CORS_ORIGINS),
    trustProxy: trust.ok ? trust.value : false,
    thumbWidths: [...new Set(thumbWidths)].sort((a, b) => a - b),
    publicUrl: (c.DROPSHIP_PUBLIC_URL || `http://${c.HOST.includes(':') ? `[${c.HOST}]` : c.HOST}:${c.PORT}`).replace(/\/+$/, ''),
  };
}

/** Variable name, default and description of every setting: the README's table is made from this. */
export function describeConfig(): { name: string; default: unknown; description: string }[] {
  return Object.entries(ConfigSchema.properties).map(([name, s]) => ({
    name,
    default: (s as { default?: unknown }).default,
    description: (s as { description?: string }).description ?? '',
  }));
}
