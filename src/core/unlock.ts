/**
 * Unlocking a password-protected drop: who sees what, the unlock token (the cookie the share
 * page sets, or the `X-Unlock-Token` a program sends) and the failed-attempt limits.
 *
 * The unlock token is `<expiry ms>.<HMAC-SHA256, base64url>` over the drop id, the expiry and
 * the drop's stored password hash, keyed with the server's secret (DROPSHIP_UNLOCK_SECRET).
 * Without the secret it cannot be made; it is worthless for another drop; it stops working at
 * its expiry; and changing or removing the password (a new hash, with a new salt) voids every
 * token made before. The hash itself never leaves the server: it is only MAC input.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Name of the unlock cookie (`Path=/d/{id}`: one per drop). */
export const UNLOCK_COOKIE = 'dropship_unlock';

function mac(secret: string, id: string, expiresAt: number, passwordHash: string): Buffer {
  return createHmac('sha256', secret).update(`dropship-unlock-v1\n${id}\n${expiresAt}\n${passwordHash}`).digest();
}

/** A token that unlocks drop `id` until `expiresAt` (ms since the epoch). */
export function signUnlockToken(args: { secret: string; id: string; passwordHash: string; expiresAt: number }): string {
  return `${args.expiresAt}.${mac(args.secret, args.id, args.expiresAt, args.passwordHash).toString('base64url')}`;
}

/** Whether `token` unlocks drop `id` (with this password hash) at `now`. */
export function checkUnlockToken(
  token: string | undefined,
  args: { secret: string; id: string; passwordHash: string; now: Date },
): boolean {
  if (token === undefined || token.length > 128) return false;
  const m = /^([0-9]{1,15})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return false;
  const expiresAt = Number(m[1]);
  if (args.now.getTime() >= expiresAt) return false;
  // Compared as text: base64url's last character has bits that decoding ignores, so two
  // spellings of one MAC exist; only the canonical one is accepted.
  const given = Buffer.from(m[2]!, 'ascii');
  const want = Buffer.from(mac(args.secret, args.id, expiresAt, args.passwordHash).toString('base64url'), 'ascii');
  return given.length === want.length && timingSafeEqual(given, want);
}

/** Who is asking, as the api established it. */
export interface Reader {
  /** Holds the drop's owner token. */
  owner: boolean;
  /** Is the API key that created the drop. */
  creatorKey: boolean;
  /** Holds a valid unlock token for the drop. */
  unlocked: boolean;
}

/**
 * What a reader sees of a drop: everything (`full`), or — for a password-protected drop the
 * reader has not unlocked, does not own and did not create — only that it exists, its status
 * and its expiry (`protected`).
 */
export function readerSees(drop: { protected: boolean }, reader: Reader): 'full' | 'protected' {
  if (!drop.protected) return 'full';
  return reader.owner || reader.creatorKey || reader.unlocked ? 'full' : 'protected';
}

export interface AttemptLimits {
  /** Attempts one client may make on one drop within the window. */
  perClient: number;
  /** Attempts all clients together may make on one drop within the window. */
  perDrop: number;
  windowMs: number;
}

/**
 * Whether another unlock attempt may be made, given the times (ms) of the attempts already
 * counted in the window — this client's on this drop, and everyone's on this drop. Refused:
 * seconds until the oldest counted attempt leaves the window (at least 1).
 */
export function attemptVerdict(
  counted: { client: readonly number[]; drop: readonly number[] },
  now: number,
  limits: AttemptLimits,
): { ok: true } | { ok: false; scope: 'client' | 'drop'; retryAfter: number } {
  const since = now - limits.windowMs;
  const client = counted.client.filter((t) => t > since);
  const drop = counted.drop.filter((t) => t > since);
  const wait = (ts: number[]) => Math.max(1, Math.ceil((Math.min(...ts) + limits.windowMs - now) / 1000));
  if (client.length >= limits.perClient) return { ok: false, scope: 'client', retryAfter: wait(client) };
  if (drop.length >= limits.perDrop) return { ok: false, scope: 'drop', retryAfter: wait(drop) };
  return { ok: true };
}
