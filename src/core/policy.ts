// Per-key upload policies (the keys file, src/config.ts): what a key may upload, decided
// without I/O. The api applies `checkTicket` on every upload route before anything is
// created; the worker applies `checkSniffedType` to the type it read from the bytes, with the
// allowed types the manifest recorded at creation (so the worker needs no keys file;
// `checkSniffedType` in processing.ts).
// test/unit/policy.test.ts covers every rule.

import type { LifetimeLimits } from './retention.js';

/** The parts of a key's policy that bound an upload. */
export interface UploadPolicy {
  maxFileSize?: number;
  allowedTypes?: readonly string[];
  defaultExpiresIn?: number;
  maxExpiresIn?: number;
}

/** The media type without parameters, lower-cased (`Image/PNG; x=1` → `image/png`). */
export function essence(type: string): string {
  return type.split(';', 1)[0]!.trim().toLowerCase();
}

/** Whether `type` matches one of `allowed` (exact types and `type/*` wildcards); no list allows everything. */
export function typeAllowed(type: string, allowed: readonly string[] | undefined): boolean {
  if (allowed === undefined) return true;
  const t = essence(type);
  const slash = t.indexOf('/');
  if (slash <= 0 || slash === t.length - 1) return false;
  const major = t.slice(0, slash);
  return allowed.some((a) => a === t || (a.endsWith('/*') && a.slice(0, -2) === major));
}

export type PolicyRefusal =
  | { ok: false; code: 'FILE_TOO_LARGE'; message: string; details: { maxSize: number } }
  | { ok: false; code: 'TYPE_NOT_ALLOWED'; message: string; details: { allowedTypes: string[]; type?: string } };

/**
 * A ticket (or stream) against the key's policy, before anything is created: its size
 * against maxFileSize (`size` undefined: a stream of unknown length, cut at the limit
 * later), its declared type against allowedTypes. A key limited to some types must declare
 * one: an upload that names none is refused.
 */
export function checkTicket(policy: UploadPolicy | undefined, req: { size?: number; type?: string }): { ok: true } | PolicyRefusal {
  if (!policy) return { ok: true };
  if (policy.maxFileSize !== undefined && req.size !== undefined && req.size > policy.maxFileSize) {
    return {
      ok: false,
      code: 'FILE_TOO_LARGE',
      message: `this API key may upload files of at most ${policy.maxFileSize} bytes`,
      details: { maxSize: policy.maxFileSize },
    };
  }
  const allowed = policy.allowedTypes;
  if (allowed !== undefined) {
    const declared = req.type === undefined || req.type.trim() === '' ? undefined : essence(req.type);
    if (declared === undefined) {
      return {
        ok: false,
        code: 'TYPE_NOT_ALLOWED',
        message: `this API key may upload only ${allowed.join(', ')}: declare the file's type`,
        details: { allowedTypes: [...allowed] },
      };
    }
    if (!typeAllowed(declared, allowed)) {
      return {
        ok: false,
        code: 'TYPE_NOT_ALLOWED',
        message: `this API key may not upload ${declared}; allowed: ${allowed.join(', ')}`,
        details: { allowedTypes: [...allowed], type: declared },
      };
    }
  }
  return { ok: true };
}

/** The lifetime bounds of a key: its own where it has them, else the server's. */
export function lifetimeLimits(policy: UploadPolicy | undefined, server: LifetimeLimits): LifetimeLimits {
  if (!policy) return server;
  const maxSeconds = policy.maxExpiresIn ?? server.maxSeconds;
  let defaultSeconds = policy.defaultExpiresIn ?? server.defaultSeconds;
  // A key whose maximum is below the server's default gets its maximum as the default.
  if (policy.defaultExpiresIn === undefined && maxSeconds > 0 && (defaultSeconds === 0 || defaultSeconds > maxSeconds)) {
    defaultSeconds = maxSeconds;
  }
  return { defaultSeconds, maxSeconds };
}

/** The largest file a key may upload: its own limit, never above the server's. */
export function maxFileSize(policy: UploadPolicy | undefined, serverMax: number): number {
  return policy?.maxFileSize === undefined ? serverMax : Math.min(policy.maxFileSize, serverMax);
}
