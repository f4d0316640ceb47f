/**
 * One typed configuration, read from environment variables and validated at start-up.
 * The TypeBox schema is the single source: the static type is derived from it, defaults
 * live in it, and a bad value stops the process with a message naming the variable.
 *
 * The same code runs against LocalStack, other emulators and real AWS: only
 * AWS_ENDPOINT_URL, credentials and region differ.
 */
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { isIPv4, isIPv6 } from 'node:net';

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

  DROPSHIP_API_KEYS: Str('', 'Comma-separated API keys accepted as "Authorization: Bearer <key>".'),
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
    'Page requests per minute per IP (the upload page and its files, share pages, thumbnails, download links), counted apart from api requests.',
  ),
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
};

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
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
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
  if (problems.length) throw new ConfigError(problems);
  return {
    webhooks,
    webhookRetrySchedule: schedule.ok ? schedule.schedule : [],
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
