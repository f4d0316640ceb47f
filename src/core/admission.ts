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

/**
 * The one counting rule behind every slot (tickets, upload slots, streams, event streams):
 * a full pool refuses anyone ('total'), an owner at its share refuses only that owner
 * ('owner'); both full reports the pool. The counted-slots adapters (src/ports/slots.ts) apply
 * it atomically where the counts live — in memory, or in one Lua script on Redis.
 */
export function slotRefusal(open: { total: number; forOwner: number }, limits: TicketLimits): 'total' | 'owner' | undefined {
  if (open.total >= limits.total) return 'total';
  if (open.forOwner >= limits.perOwner) return 'owner';
  return undefined;
}

/** A refusal as an admission answer, with how long to wait. */
export function ticketRefusal(reason: 'total' | 'owner'): Admission {
  return { ok: false, reason, retryAfter: reason === 'total' ? RETRY_AFTER_TOTAL : RETRY_AFTER_OWNER };
}

export function admit(open: { total: number; forOwner: number }, limits: TicketLimits): Admission {
  const refused = slotRefusal(open, limits);
  return refused ? ticketRefusal(refused) : { ok: true };
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

/** A refusal of the slot counter ('owner' is the client) as a connection admission answer. */
export function connectionRefusal(reason: 'total' | 'owner'): ConnectionAdmission {
  return reason === 'total'
    ? { ok: false, reason: 'total', status: 503, retryAfter: RETRY_AFTER_CONNECTION_TOTAL }
    : { ok: false, reason: 'client', status: 429, retryAfter: RETRY_AFTER_CONNECTION_CLIENT };
}

export function admitConnection(open: { total: number; forClient: number }, limits: ConnectionLimits): ConnectionAdmission {
  const refused = slotRefusal({ total: open.total, forOwner: open.forClient }, { total: limits.total, perOwner: limits.perClient });
  return refused ? connectionRefusal(refused) : { ok: true };
}
