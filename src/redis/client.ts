/**
 * The Redis (or Valkey) connection behind the shared limits, from DROPSHIP_REDIS_URL
 * (`redis://[:password@]host:port[/db]`, or `rediss://` for TLS — ElastiCache with in-transit
 * encryption). Tuned to fail fast rather than hang a request: a command waits for at most one
 * reconnection attempt and one second, then fails; the callers decide what a failure means
 * (rate limits fail open, slots fail closed: docs/operations.md).
 */
import { Redis } from 'ioredis';

export interface RedisLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** Milliseconds a command may take before it fails (a hung or unreachable server). */
export const REDIS_COMMAND_TIMEOUT_MS = 1000;
/** At most one "unavailable" line per this many milliseconds, however often it reconnects. */
const LOG_EVERY_MS = 10_000;

export function createRedisClient(url: string, log?: RedisLog): Redis {
  const client = new Redis(url, {
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    // Reconnect forever, backing off to 2 s: a Redis restart heals without restarting the api.
    retryStrategy: (times) => Math.min(times * 100, 2000),
    // The connection is the only state: nothing to resubscribe, scripts are loaded on demand.
    enableAutoPipelining: true,
  });
  let lastLog = 0;
  let down = false;
  client.on('error', (err: Error) => {
    const now = Date.now();
    if (now - lastLog < LOG_EVERY_MS) return;
    lastLog = now;
    down = true;
    log?.warn({ err: { message: err.message } }, 'redis unavailable: rate limits are not counted (fail open), new tickets and streams are refused with 503 until it is back');
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    lastLog = 0;
    log?.info({}, 'redis reachable again: shared limits counted');
  });
  return client;
}

export type { Redis };
