/** The CountedSlots contract (test/contract/slots.ts) against a real redis-server (test/setup/redis.ts). */
import { afterAll, inject } from 'vitest';
import { createRedisClient } from '../../src/redis/client.js';
import { redisSlots } from '../../src/redis/slots.js';
import { slotsContract } from '../contract/slots.js';

const clients = [createRedisClient(inject('redisUrl')), createRedisClient(inject('redisUrl'))];
afterAll(() => clients.forEach((c) => c.disconnect()));

slotsContract('redis', { slots: () => redisSlots(clients[0]!, 'contract:'), twin: () => redisSlots(clients[1]!, 'contract:'), shared: true });
