/**
 * Who may do what:
 * - uploaders: `Authorization: Bearer <key>` with a key from DROPSHIP_KEYS_FILE or
 *   DROPSHIP_API_KEYS, or anyone when DROPSHIP_PUBLIC_UPLOADS is on. A key that is sent but
 *   unknown is always refused. A verified uploader carries its key (id and policy).
 * - owners: the drop's owner token (X-Owner-Token), checked against its hash in the manifest.
 * - readers: anyone holding the drop id.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import { clientKey } from '../../core/clients.js';
import { fail } from '../../core/errors.js';
import type { ApiKey, Config } from '../../config.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

export interface Uploader {
  /** Identity for per-uploader limits: the key's hash prefix, or the client IP. */
  id: string;
  authenticated: boolean;
  /** The verified key, with its id and policy; absent for anonymous uploaders. */
  key?: ApiKey;
}

/** Anything with request headers: a Fastify request, or Node's (before Fastify sees it). */
type WithHeaders = Pick<FastifyRequest, 'headers'> | { headers: IncomingHttpHeaders };

export function bearerKey(req: WithHeaders): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : '';
}

/** The client's bucket for per-client limits: its address, IPv6 by /64 (src/core/clients.ts). */
export const clientId = (req: FastifyRequest): string => clientKey(req.ip);

/**
 * The configured key a request's Bearer key is, undefined when none is sent, or `null` when
 * one is sent that is not a configured key.
 */
export function makeApiKeyCheck(config: Pick<Config, 'keys'>) {
  const keys = config.keys.map((k) => ({ key: k, digest: Buffer.from(k.sha256, 'hex') }));
  return function apiKey(req: WithHeaders): ApiKey | undefined | null {
    const key = bearerKey(req);
    if (key === undefined) return undefined;
    const d = digest(key);
    // Compare digests (equal length) in constant time against every key, with no early exit.
    let found: ApiKey | null = null;
    for (const k of keys) if (timingSafeEqual(k.digest, d)) found = k.key;
    return found;
  };
}

/** The identity of a key for per-uploader limits and the rate limit. */
const identity = (k: ApiKey) => `key:${k.sha256.slice(0, 16)}`;

/**
 * The identity of a verified API key (`key:<hash prefix>`), undefined when no Bearer key is
 * sent, or `null` when one is sent that is not a configured key.
 */
export function makeKeyCheck(config: Pick<Config, 'keys'>) {
  const apiKey = makeApiKeyCheck(config);
  return function verifiedKey(req: FastifyRequest): string | undefined | null {
    const k = apiKey(req);
    return k ? identity(k) : k;
  };
}

/** The caller's verified key, which a route requires: 401 without one or with an unknown one. */
export function makeKeyRequirement(config: Pick<Config, 'keys'>) {
  const apiKey = makeApiKeyCheck(config);
  return function requireKey(req: FastifyRequest): ApiKey {
    const k = apiKey(req);
    if (k === null) throw fail('UNAUTHORIZED', 'unknown API key');
    if (k === undefined) throw fail('UNAUTHORIZED', 'an API key is required (Authorization: Bearer <key>)');
    return k;
  };
}

export function makeUploaderCheck(config: Config) {
  const apiKey = makeApiKeyCheck(config);
  return function uploader(req: FastifyRequest): Uploader {
    const key = apiKey(req);
    if (key === null) throw fail('UNAUTHORIZED', 'unknown API key');
    if (key !== undefined) return { id: identity(key), authenticated: true, key };
    if (!config.DROPSHIP_PUBLIC_UPLOADS) throw fail('UNAUTHORIZED', 'an API key is required (Authorization: Bearer <key>)');
    return { id: clientId(req), authenticated: false };
  };
}

export const ownerToken = (req: FastifyRequest): string | undefined => {
  const v = req.headers['x-owner-token'];
  return typeof v === 'string' && v.length > 0 && v.length <= 128 ? v : undefined;
};
