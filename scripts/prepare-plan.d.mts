// Types of prepare-plan.mjs (plain JavaScript: it runs before node_modules exists), for the tests.
type Plan = { action: 'use'; path: string } | { action: 'apt' } | { action: 'ask'; message: string };
export function needsInstall(s: { lockMtimeMs: number; installedMtimeMs: number | undefined }): boolean;
export function browserPlan(s: { found: string | undefined; root: boolean; apt: boolean }): Plan;
export function browserCandidates(env: Record<string, string | undefined>): string[];
export function redisPlan(s: { found: string | undefined; root: boolean; apt: boolean }): Plan;
export function redisCandidates(env: Record<string, string | undefined>): string[];
