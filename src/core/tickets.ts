/**
 * Open upload tickets held by this api process: the limits per uploader (API key or IP)
 * and the process-wide upload slots. State is in memory, per replica — dropship has no
 * database, and these limits exist to keep one replica healthy, not as global quotas;
 * with N replicas the effective limits are N times these (docs/operations.md).
 */
export interface TicketLimits {
  perOwner: number;
  total: number;
}

export type Admission = { ok: true } | { ok: false; reason: 'owner' | 'total'; retryAfter: number };

export class OpenTickets {
  private readonly byId = new Map<string, { owner: string; expiresAt: number }>();
  private readonly perOwner = new Map<string, number>();

  constructor(
    private readonly limits: TicketLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Reserves a slot for `id` if both limits allow it. */
  admit(id: string, owner: string, expiresAt: number): Admission {
    this.prune();
    if (this.byId.size >= this.limits.total) return { ok: false, reason: 'total', retryAfter: 30 };
    if ((this.perOwner.get(owner) ?? 0) >= this.limits.perOwner) return { ok: false, reason: 'owner', retryAfter: 60 };
    this.byId.set(id, { owner, expiresAt });
    this.perOwner.set(owner, (this.perOwner.get(owner) ?? 0) + 1);
    return { ok: true };
  }

  /** Releases the slot (complete, cancel, expiry, failed creation); unknown ids are ignored. */
  release(id: string): void {
    const t = this.byId.get(id);
    if (!t) return;
    this.byId.delete(id);
    const n = (this.perOwner.get(t.owner) ?? 1) - 1;
    if (n <= 0) this.perOwner.delete(t.owner);
    else this.perOwner.set(t.owner, n);
  }

  get size(): number {
    this.prune();
    return this.byId.size;
  }

  countFor(owner: string): number {
    this.prune();
    return this.perOwner.get(owner) ?? 0;
  }

  private prune(): void {
    const now = this.now();
    for (const [id, t] of this.byId) if (t.expiresAt <= now) this.release(id);
  }
}
