// Whether a new upload ticket may open: the per-uploader limit (API key or client address)
// and the process-wide upload slots. Pure: the caller counts what is open and passes it in.

export interface TicketLimits {
  perOwner: number;
  total: number;
}

export type Admission = { ok: true } | { ok: false; reason: 'owner' | 'total'; retryAfter: number };

/** Seconds a refused uploader should wait: slots free up as uploads finish, owners as theirs do. */
export const RETRY_AFTER_TOTAL = 30;
export const RETRY_AFTER_OWNER = 60;

export function admit(open: { total: number; forOwner: number }, limits: TicketLimits): Admission {
  if (open.total >= limits.total) return { ok: false, reason: 'total', retryAfter: RETRY_AFTER_TOTAL };
  if (open.forOwner >= limits.perOwner) return { ok: false, reason: 'owner', retryAfter: RETRY_AFTER_OWNER };
  return { ok: true };
}

/** Tickets whose deadline has passed no longer count (at the deadline itself they are gone). */
export function isOpen(ticket: { expiresAt: number }, now: number): boolean {
  return ticket.expiresAt > now;
}

/**
 * Long-lived connections (event streams, streaming uploads): one client may hold
 * `perClient`, the process `total`. A full process is 503 (anyone would be refused), a
 * client at its share 429 (it should close one of its own first).
 */
export interface ConnectionLimits {
  perClient: number;
  total: number;
}

export type ConnectionAdmission = { ok: true } | { ok: false; reason: 'client' | 'total'; status: 429 | 503; retryAfter: number };

export const RETRY_AFTER_CONNECTION_TOTAL = 5;
export const RETRY_AFTER_CONNECTION_CLIENT = 10;

export function admitConnection(open: { total: number; forClient: number }, limits: ConnectionLimits): ConnectionAdmission {
  if (open.total >= limits.total) return { ok: false, reason: 'total', status: 503, retryAfter: RETRY_AFTER_CONNECTION_TOTAL };
  if (open.forClient >= limits.perClient) return { ok: false, reason: 'client', status: 429, retryAfter: RETRY_AFTER_CONNECTION_CLIENT };
  return { ok: true };
}
