export function needsInstall(s: { lockMtimeMs: number; installedMtimeMs: number | undefined }): boolean;
export type BrowserPlan = { action: 'use'; path: string } | { action: 'apt' } | { action: 'ask'; message: string };
export function browserPlan(s: { found: string | undefined; root: boolean; apt: boolean }): BrowserPlan;
export function browserCandidates(env: Record<string, string | undefined>): string[];
