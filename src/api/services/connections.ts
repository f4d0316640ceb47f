/**
 * Long-lived connections (server-sent event streams) held by this api process, per client and
 * in total; the decision is src/core/admission.ts admitConnection. In memory, per replica.
 */
import { admitConnection, type ConnectionAdmission, type ConnectionLimits } from '../../core/admission.js';

/** Counts long-lived connections per client and in total; the caller decides with admitConnection. */
export class ConnectionCounts {
  readonly #perClient = new Map<string, number>();
  #total = 0;

  get total(): number {
    return this.#total;
  }

  of(client: string): number {
    return this.#perClient.get(client) ?? 0;
  }

  /** Admits and counts one connection; answers a release that is safe to call more than once. */
  take(client: string, limits: ConnectionLimits): ConnectionAdmission & { release?: () => void } {
    const d = admitConnection({ total: this.#total, forClient: this.of(client) }, limits);
    if (!d.ok) return d;
    this.#total++;
    this.#perClient.set(client, this.of(client) + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.#total--;
        const n = this.of(client) - 1;
        // Stryker disable next-line ConditionalExpression,EqualityOperator: a client kept at 0 counts as one absent (`?? 0` in `of`); only memory differs.
        if (n <= 0) this.#perClient.delete(client);
        else this.#perClient.set(client, n);
      },
    };
  }
}
