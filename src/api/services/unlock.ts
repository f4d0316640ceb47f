/**
 * Password-protected drops in the api: who a request is to a drop (owner token, the creating
 * API key, an unlock token from the cookie or `X-Unlock-Token`), unlock attempts with their
 * limits, and the unlock tokens themselves (src/core/unlock.ts signs and checks them).
 *
 * Attempts are counted before the password is checked — an attempt in flight already counts,
 * so parallel guesses cannot slip past the limit — and a right password forgets that client's
 * attempts on the drop. The counts live in this process's memory (like every other limit of
 * the api): with N replicas a client gets up to N times the attempts.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../../config.js';
import { isProtected } from '../../core/drop-view.js';
import { fail } from '../../core/errors.js';
import { ownerTokenMatches } from '../../core/ids.js';
import type { Manifest } from '../../core/manifest.js';
import type { Collection } from '../../core/collections.js';
import { verifyPassword } from '../../core/passwords.js';
import { attemptVerdict, checkUnlockToken, readerSees, signUnlockToken, UNLOCK_COOKIE, type Reader } from '../../core/unlock.js';
import type { Clock } from '../../ports/clock.js';
import { makeApiKeyCheck, ownerToken } from '../plugins/auth.js';

export type Unlocks = ReturnType<typeof createUnlocks>;

/**
 * A drop or a collection, as far as unlocking goes. `tokenId` names it in the unlock token
 * and the attempt counts: the drop's id, or `c/<id>` for a collection, so a drop's token
 * never opens a collection of the same id.
 */
interface Lockable {
  tokenId: string;
  passwordHash?: string;
  ownerTokenHash: string;
  keyId?: string;
}
const lockableDrop = (m: Manifest): Lockable => ({
  tokenId: m.id,
  ownerTokenHash: m.ownerTokenHash,
  ...(m.passwordHash !== undefined && { passwordHash: m.passwordHash }),
  ...(m.keyId !== undefined && { keyId: m.keyId }),
});
const lockableCollection = (c: Collection): Lockable => ({
  tokenId: `c/${c.id}`,
  ownerTokenHash: c.ownerTokenHash,
  ...(c.passwordHash !== undefined && { passwordHash: c.passwordHash }),
  ...(c.keyId !== undefined && { keyId: c.keyId }),
});

/** The unlock token a request carries: the `X-Unlock-Token` header, else the drop's cookie. */
export function unlockTokenOf(req: FastifyRequest): string | undefined {
  const h = req.headers['x-unlock-token'];
  if (typeof h === 'string' && h.length > 0) return h;
  const c = req.cookies?.[UNLOCK_COOKIE];
  return typeof c === 'string' && c.length > 0 ? c : undefined;
}

export function createUnlocks(deps: { config: Config; clock: Clock }) {
  const { config, clock } = deps;
  // Without a configured secret every process makes its own: unlocks then hold only on this
  // replica and until it restarts (README, DROPSHIP_UNLOCK_SECRET).
  const secret = config.DROPSHIP_UNLOCK_SECRET || randomBytes(32).toString('base64url');
  const apiKey = makeApiKeyCheck(config);
  const limits = { perClient: config.DROPSHIP_UNLOCK_ATTEMPTS, perDrop: config.DROPSHIP_UNLOCK_DROP_ATTEMPTS, windowMs: config.DROPSHIP_UNLOCK_WINDOW * 1000 };
  /** Attempt times per drop, and per drop and client. */
  const byDrop = new Map<string, number[]>();
  const byClient = new Map<string, number[]>();

  const prune = (map: Map<string, number[]>, key: string, now: number) => {
    const kept = (map.get(key) ?? []).filter((t) => t > now - limits.windowMs);
    if (kept.length) map.set(key, kept);
    else map.delete(key);
    return kept;
  };
  // Forget whole windows that have passed, so the maps never grow without bound.
  let lastSweep = 0;
  function sweep(now: number) {
    if (now - lastSweep < limits.windowMs) return;
    lastSweep = now;
    for (const k of [...byDrop.keys()]) prune(byDrop, k, now);
    for (const k of [...byClient.keys()]) prune(byClient, k, now);
  }

  function unlocked(req: FastifyRequest, t: Lockable): boolean {
    if (!t.passwordHash) return false;
    return checkUnlockToken(unlockTokenOf(req), { secret, id: t.tokenId, passwordHash: t.passwordHash, now: clock() });
  }

  function reader(req: FastifyRequest, t: Lockable): Reader {
    const key = apiKey(req);
    const token = ownerToken(req);
    return {
      owner: token !== undefined && ownerTokenMatches(token, t.ownerTokenHash),
      creatorKey: Boolean(key && t.keyId !== undefined && t.keyId === key.id),
      unlocked: unlocked(req, t),
    };
  }

  /** What this request sees of a drop or a collection. */
  const sees = (req: FastifyRequest, t: Lockable): 'full' | 'protected' =>
    t.passwordHash !== undefined ? readerSees({ protected: true }, reader(req, t)) : 'full';

  return {
    /** What this request sees of the drop: `full`, or `protected` (status only). */
    sees(req: FastifyRequest, m: Manifest): 'full' | 'protected' {
      return isProtected(m) ? sees(req, lockableDrop(m)) : 'full';
    },

    /** What this request sees of a collection (its owner token, the creating key or its unlock token show all). */
    seesCollection(req: FastifyRequest, c: Collection): 'full' | 'protected' {
      return sees(req, lockableCollection(c));
    },

    /** Refuses (401 PASSWORD_REQUIRED) a request that may not read the protected drop's file or thumbnails. */
    requireAccess(req: FastifyRequest, m: Manifest): void {
      if (this.sees(req, m) === 'protected') {
        throw fail('PASSWORD_REQUIRED', 'this drop is password-protected: unlock it first (POST /d/{id}/unlock)', { id: m.id });
      }
    },

    /**
     * Checks a password against a protected drop, counting the attempt first: 429 past the
     * limits, 401 PASSWORD_WRONG for a wrong one; on success the unlock token and its expiry.
     */
    async attempt(target: Manifest | Collection, password: string, client: string): Promise<{ token: string; expiresAt: Date }> {
      const t = 'version' in target ? lockableDrop(target) : lockableCollection(target);
      if (t.passwordHash === undefined) throw new TypeError('nothing to unlock');
      const m = { id: t.tokenId, passwordHash: t.passwordHash };
      const now = clock().getTime();
      sweep(now);
      const clientKey = `${m.id}\n${client}`;
      const verdict = attemptVerdict({ client: prune(byClient, clientKey, now), drop: prune(byDrop, m.id, now) }, now, limits);
      if (!verdict.ok) {
        throw fail(
          'RATE_LIMITED',
          verdict.scope === 'client'
            ? `too many password attempts on this drop; try again in ${verdict.retryAfter} s`
            : `too many password attempts on this drop from everyone; try again in ${verdict.retryAfter} s`,
          { scope: verdict.scope },
          verdict.retryAfter,
        );
      }
      byClient.set(clientKey, [...(byClient.get(clientKey) ?? []), now]);
      byDrop.set(m.id, [...(byDrop.get(m.id) ?? []), now]);
      if (!(await verifyPassword(password, m.passwordHash))) throw fail('PASSWORD_WRONG', 'wrong password');
      // A right password is no guess: it leaves the drop's ceiling and clears this client's count.
      byClient.delete(clientKey);
      const mine = byDrop.get(m.id) ?? [];
      const at = mine.indexOf(now);
      if (at >= 0) mine.splice(at, 1);
      const expiresAt = new Date(clock().getTime() + config.DROPSHIP_UNLOCK_TTL * 1000);
      return { token: signUnlockToken({ secret, id: m.id, passwordHash: m.passwordHash, expiresAt: expiresAt.getTime() }), expiresAt };
    },
  };
}
