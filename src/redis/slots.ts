/**
 * Counted slots on Redis/Valkey (`shared: true`): every api replica counts in the same pools.
 *
 * A pool is three keys under one hash tag (`{pool}`), so a script touches one cluster slot:
 *   `<prefix>slots:{pool}`         sorted set: slot id → its time (until, ms since the epoch)
 *   `<prefix>slots:{pool}:owners`  hash: slot id → owner
 *   `<prefix>slots:{pool}:o:<owner>` sorted set: that owner's slot ids → their time
 * Every operation is one Lua script, so it is atomic: it first drops the slots whose time
 * has come (score ≤ now), then counts and changes. `take` applies the same rule as
 * `slotRefusal` in src/core/admission.ts (both held to test/contract/slots.ts). Times come
 * from the caller (`now`), never from the server: the replicas' clocks decide, as they do for
 * every other deadline in dropship.
 *
 * Any failure to reach Redis becomes `STORAGE_UNAVAILABLE` (503, Retry-After: the limit
 * fails closed: a slot that cannot be counted is not handed out).
 */
import type { Redis } from 'ioredis';
import { DropshipError, fail } from '../core/errors.js';
import type { CountedSlots, SlotClaim, SlotLimits, SlotRefusal } from '../ports/slots.js';

/** Seconds a client refused because Redis is down should wait. */
export const RETRY_AFTER_UNAVAILABLE = 5;

const PRUNE = `
local function prune(slots, owners, oprefix, now)
  local gone = redis.call('ZRANGEBYSCORE', slots, '-inf', now)
  for _, id in ipairs(gone) do
    local o = redis.call('HGET', owners, id)
    if o then redis.call('ZREM', oprefix .. o, id) end
    redis.call('HDEL', owners, id)
  end
  if #gone > 0 then redis.call('ZREMRANGEBYSCORE', slots, '-inf', now) end
end
`;

// KEYS: slots, owners, owner's set. ARGV: owner-set prefix, now, id, owner, until, total, perOwner.
const TAKE = `${PRUNE}
prune(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
local id = ARGV[3]
if redis.call('ZSCORE', KEYS[1], id) then
  local o = redis.call('HGET', KEYS[2], id)
  redis.call('ZADD', KEYS[1], ARGV[5], id)
  if o then redis.call('ZADD', ARGV[1] .. o, ARGV[5], id) end
  return 'ok'
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[6]) then return 'total' end
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[7]) then return 'owner' end
redis.call('ZADD', KEYS[1], ARGV[5], id)
redis.call('ZADD', KEYS[3], ARGV[5], id)
redis.call('HSET', KEYS[2], id, ARGV[4])
return 'ok'
`;

// KEYS: slots, owners. ARGV: owner-set prefix, now, id, until.
const EXTEND = `${PRUNE}
prune(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
local id = ARGV[3]
if not redis.call('ZSCORE', KEYS[1], id) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[4], id)
local o = redis.call('HGET', KEYS[2], id)
if o then redis.call('ZADD', ARGV[1] .. o, ARGV[4], id) end
return 1
`;

// KEYS: slots, owners. ARGV: owner-set prefix, id.
const RELEASE = `
local o = redis.call('HGET', KEYS[2], ARGV[2])
if o then redis.call('ZREM', ARGV[1] .. o, ARGV[2]) end
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[1], ARGV[2])
return 1
`;

// KEYS: slots, owners, owner's set. ARGV: owner-set prefix, now.
const COUNTS = `${PRUNE}
prune(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
return { redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[3]) }
`;

// KEYS: slots, owners, set to list (the pool's or an owner's). ARGV: owner-set prefix, now.
const HELD = `${PRUNE}
prune(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
return redis.call('ZRANGE', KEYS[3], 0, -1)
`;

interface SlotCommands {
  dropshipSlotTake(k1: string, k2: string, k3: string, ...argv: string[]): Promise<string>;
  dropshipSlotExtend(k1: string, k2: string, ...argv: string[]): Promise<number>;
  dropshipSlotRelease(k1: string, k2: string, ...argv: string[]): Promise<number>;
  dropshipSlotCounts(k1: string, k2: string, k3: string, ...argv: string[]): Promise<[number, number]>;
  dropshipSlotHeld(k1: string, k2: string, k3: string, ...argv: string[]): Promise<string[]>;
}

/** A score as Redis reads it: Infinity is `+inf`. */
const score = (ms: number) => (ms === Number.POSITIVE_INFINITY ? '+inf' : String(Math.floor(ms)));

export function redisSlots(client: Redis, prefix = 'dropship:'): CountedSlots {
  const commands = client as unknown as Redis & SlotCommands;
  const define = (name: keyof SlotCommands, numberOfKeys: number, lua: string) => {
    if (!(name in client)) client.defineCommand(name, { numberOfKeys, lua });
  };
  define('dropshipSlotTake', 3, TAKE);
  define('dropshipSlotExtend', 2, EXTEND);
  define('dropshipSlotRelease', 2, RELEASE);
  define('dropshipSlotCounts', 3, COUNTS);
  define('dropshipSlotHeld', 3, HELD);

  const keys = (pool: string) => {
    const base = `${prefix}slots:{${pool}}`;
    return { slots: base, owners: `${base}:owners`, ownerPrefix: `${base}:o:` };
  };

  async function run<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (e) {
      if (e instanceof DropshipError) throw e;
      throw fail('STORAGE_UNAVAILABLE', 'the shared limits store is unavailable; retry shortly', {}, RETRY_AFTER_UNAVAILABLE);
    }
  }

  return {
    shared: true,

    take: (pool: string, claim: SlotClaim, limits: SlotLimits, now: number) =>
      run(async () => {
        const k = keys(pool);
        const r = await commands.dropshipSlotTake(
          k.slots,
          k.owners,
          k.ownerPrefix + claim.owner,
          k.ownerPrefix,
          score(now),
          claim.id,
          claim.owner,
          score(claim.until),
          String(limits.total),
          String(limits.perOwner),
        );
        return r === 'ok' ? undefined : (r as SlotRefusal);
      }),

    extend: (pool: string, id: string, until: number, now: number) =>
      run(async () => {
        const k = keys(pool);
        return (await commands.dropshipSlotExtend(k.slots, k.owners, k.ownerPrefix, score(now), id, score(until))) === 1;
      }),

    release: (pool: string, id: string) =>
      run(async () => {
        const k = keys(pool);
        await commands.dropshipSlotRelease(k.slots, k.owners, k.ownerPrefix, id);
      }),

    counts: (pool: string, owner: string, now: number) =>
      run(async () => {
        const k = keys(pool);
        const [total, forOwner] = await commands.dropshipSlotCounts(k.slots, k.owners, k.ownerPrefix + owner, k.ownerPrefix, score(now));
        return { total, forOwner };
      }),

    held: (pool: string, now: number, owner?: string) =>
      run(async () => {
        const k = keys(pool);
        return commands.dropshipSlotHeld(k.slots, k.owners, owner === undefined ? k.slots : k.ownerPrefix + owner, k.ownerPrefix, score(now));
      }),
  };
}
