/**
 * The shared limits on Redis/Valkey, built from the configuration: one connection, the
 * counted slots on it, and the same client for @fastify/rate-limit's Redis store. The api's
 * composition root (src/api/server.ts) builds it when DROPSHIP_REDIS_URL is set.
 */
import type { Config } from '../config.js';
import type { CountedSlots } from '../ports/slots.js';
import { createRedisClient, type RedisLog } from './client.js';
import { redisSlots } from './slots.js';

export interface RedisLimits {
  slots: CountedSlots;
  /** For AppDeps.rateLimitRedis: the client and the key prefix of the rate-limit counters. */
  rateLimitRedis: { client: unknown; nameSpace: string };
  close(): Promise<void>;
}

export function createRedisLimits(config: Pick<Config, 'DROPSHIP_REDIS_URL' | 'DROPSHIP_REDIS_PREFIX'>, log?: RedisLog): RedisLimits {
  const client = createRedisClient(config.DROPSHIP_REDIS_URL, log);
  const prefix = config.DROPSHIP_REDIS_PREFIX;
  return {
    slots: redisSlots(client, prefix),
    rateLimitRedis: { client, nameSpace: `${prefix}rate:` },
    async close() {
      await client.quit().catch(() => client.disconnect());
    },
  };
}
