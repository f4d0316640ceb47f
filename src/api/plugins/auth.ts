/**
 * Who may do what:
 * - uploaders: `Authorization: Bearer <key>` with a key from DROPSHIP_API_KEYS, or anyone
 *   when DROPSHIP_PUBLIC_UPLOADS is on. A key that is sent but unknown is always refused.
 * - owners: the drop's owner token (X-Owner-Token), checked against its hash in the manifest.
 * - readers: anyone holding the drop id.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
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

export function makeUploaderCheck(config: Config) {
  const keys = config.apiKeys.map(digest);
  return function uploader(req: FastifyRequest): Uploader {
    const key = bearerKey(req);
    if (key !== undefined) {
      const d = digest(key);
      // Compare digests (equal length) in constant time against every key.
      const ok = keys.reduce((acc, k) => timingSafeEqual(k, d) || acc, false);
      if (!ok) throw fail('UNAUTHORIZED', 'unknown API key');
      return { id: `key:${d.toString('hex').slice(0, 16)}`, authenticated: true };
    }
    if (!config.DROPSHIP_PUBLIC_UPLOADS) throw fail('UNAUTHORIZED', 'an API key is required (Authorization: Bearer <key>)');
    return { id: `ip:${req.ip}`, authenticated: false };
  };
}

export const ownerToken = (req: FastifyRequest): string | undefined => {
  const v = req.headers['x-owner-token'];
  return typeof v === 'string' && v.length > 0 && v.length <= 128 ? v : undefined;
};
