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
