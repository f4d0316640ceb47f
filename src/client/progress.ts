/**
 * Upload progress: bytes confirmed plus bytes in flight, a speed over a sliding window and
 * an ETA. Pure (the clock is injected) so the maths is unit-tested.
 */

export interface UploadProgress {
  /** Bytes in S3 or on their way, including parts that were already there when resuming. */
  bytesSent: number;
  bytesTotal: number;
  partsDone: number;
  partCount: number;
  /** Speed of this session's transfer over the last few seconds; 0 until measurable. */
  bytesPerSecond: number;
  /** Seconds left at the current speed; undefined while the speed is unknown. */
  etaSeconds: number | undefined;
  /** Bytes that were already in S3 when a resumed upload started (not sent again). */
  bytesResumed: number;
  /** Bytes this call actually put on the wire, retries included. */
  bytesTransferred: number;
}

export class ProgressMeter {
  readonly bytesTotal: number;
  readonly partCount: number;
  private readonly now: () => number;
  /** How far back the speed looks, in ms: long enough to smooth bursts of whole parts. */
  private readonly windowMs: number;
  private done = 0;
  private partsDone = 0;
  private resumed = 0;
  private transferred = 0;
  private readonly inFlight = new Map<number, number>();
  private samples: { t: number; bytes: number }[] = [];

  constructor(bytesTotal: number, partCount: number, now: () => number = () => Date.now(), windowMs = 5_000) {
    this.bytesTotal = bytesTotal;
    this.partCount = partCount;
    this.now = now;
    this.windowMs = windowMs;
    this.samples.push({ t: now(), bytes: 0 });
  }

  /** Parts found in S3 on resume: counted as done, not as transferred. */
  resumedPart(size: number) {
    this.resumed += size;
    this.done += size;
    this.partsDone += 1;
  }

  /** Bytes of the current attempt of a part that have left (XHR progress); resets on retry. */
  partProgress(partNumber: number, loaded: number) {
    const before = this.inFlight.get(partNumber) ?? 0;
    if (loaded > before) this.transferred += loaded - before;
    this.inFlight.set(partNumber, loaded);
    this.sample();
  }

  /** A failed attempt: its bytes no longer count as sent (they will be sent again). */
  partRetry(partNumber: number) {
    this.inFlight.delete(partNumber);
  }

  partDone(partNumber: number, size: number) {
    const before = this.inFlight.get(partNumber) ?? 0;
    if (size > before) this.transferred += size - before;
    this.inFlight.delete(partNumber);
    this.done += size;
    this.partsDone += 1;
    this.sample();
  }

  private sample() {
    const t = this.now();
    this.samples.push({ t, bytes: this.transferred });
    // Keep one sample older than the window so the rate always spans the full window.
    while (this.samples.length > 2 && this.samples[1]!.t <= t - this.windowMs) this.samples.shift();
  }

  snapshot(): UploadProgress {
    let flying = 0;
    for (const v of this.inFlight.values()) flying += v;
    const bytesSent = Math.min(this.bytesTotal, this.done + flying);
    const t = this.now();
    const first = this.samples[0]!;
    const elapsed = (t - first.t) / 1000;
    const bytesPerSecond = elapsed > 0 ? (this.transferred - first.bytes) / elapsed : 0;
    const left = this.bytesTotal - bytesSent;
    return {
      bytesSent,
      bytesTotal: this.bytesTotal,
      partsDone: this.partsDone,
      partCount: this.partCount,
      bytesPerSecond,
      etaSeconds: left === 0 ? 0 : bytesPerSecond > 0 ? left / bytesPerSecond : undefined,
      bytesResumed: this.resumed,
      bytesTransferred: this.transferred,
    };
  }
}
