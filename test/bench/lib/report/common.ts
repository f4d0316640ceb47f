/** What every section of report.md shares: its shape and the small helpers for figures. */
import { MIB, num, spread, type Spread, type Target } from '../stats.js';

/** One section of report.md: its markdown lines and the budgets it contributes to the Targets table. */
export interface Section {
  md: string[];
  targets: Target[];
}

export const mib = (b: number) => b / MIB;
export const pct = (x: number) => `${num(x * 100)} %`;

/** Ratios a/b paired by key (repetition, size…), summarised. */
export function pairedRatio<T>(as: T[], bs: T[], key: (t: T) => string, value: (t: T) => number): Spread {
  const byKey = new Map(bs.map((b) => [key(b), b]));
  const ratios: number[] = [];
  for (const a of as) {
    const b = byKey.get(key(a));
    if (b) ratios.push(value(a) / value(b));
  }
  return spread(ratios);
}
