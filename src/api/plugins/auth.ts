/**
 * Who may do what:
 * - uploaders: `Authorization: Bearer <key>` with a key from DROPSHIP_API_KEYS, or anyone
 *   when DROPSHIP_PUBLIC_UPLOADS is on. A key that is sent but unknown is always refused.
 * - owners: the drop's owner token (X-Owner-Token), checked against its hash in the manifest.
 * - readers: anyone holding the drop id.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { clientKey } from '../../core/clients.js';
import { fail } from '../../core/errors.js';
import type { Config } from '../../config.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

export interface Uploader {
  /** Identity for per-uploader limits: the key's hash prefix, or the client IP. */
  id: string;
  authenticated: boolean;
}

export function bearerKey(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : '';
}

/** The client's bucket for per-client limits: its address, IPv6 by /64 (src/core/clients.ts). */
export const clientId = (req: FastifyRequest): string => clientKey(req.ip);

/**
 * The identity of a verified API key (`key:<hash prefix>`), undefined when no Bearer key is
 * sent, or `null` when one is sent that is not a configured key.
 */
export function makeKeyCheck(config: Config) {
  const keys = config.apiKeys.map(digest);
  return function verifiedKey(req: FastifyRequest): string | undefined | null {
    const key = bearerKey(req);
    if (key === undefined) return undefined;
    const d = digest(key);
    // Compare digests (equal length) in constant time against every key.
    const ok = keys.reduce((acc, k) => timingSafeEqual(k, d) || acc, false);
    return ok ? `key:${d.toString('hex').slice(0, 16)}` : null;
  };
}

export function makeUploaderCheck(config: Config) {
  const verifiedKey = makeKeyCheck(config);
  return function uploader(req: FastifyRequest): Uploader {
    const key = verifiedKey(req);
    if (key === null) throw fail('UNAUTHORIZED', 'unknown API key');
    if (key !== undefined) return { id: key, authenticated: true };
    if (!config.DROPSHIP_PUBLIC_UPLOADS) throw fail('UNAUTHORIZED', 'an API key is required (Authorization: Bearer <key>)');
    return { id: clientId(req), authenticated: false };
  };
}

export const ownerToken = (req: FastifyRequest): string | undefined => {
  const v = req.headers['x-owner-token'];
  return typeof v === 'string' && v.length > 0 && v.length <= 128 ? v : undefined;
};
