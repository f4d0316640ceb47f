// Whether a request that spends the uploader's quota (it creates a drop) may come from where
// it says it comes from. A page on another site can make a visitor's browser send a GET with
// no script at all (`<img src="https://dropship/s3/params?...">`, a link, a frame); such a GET
// carries the visitor's address, so with public uploads on it would create drops and spend
// the visitor's open-ticket slots. Browsers label every request (Fetch Metadata, supported by
// all current engines): Uppy's fetch is `Sec-Fetch-Mode: cors` / `Sec-Fetch-Dest: empty`;
// an image, a navigation or a frame is not. A cross-origin fetch names its `Origin`, which
// must then be one the operator allows (DROPSHIP_CORS_ORIGINS). Requests without these headers
// (curl, SDKs, servers forwarding to dropship) are not from a browser and pass.

export interface FetchMetadata {
  secFetchMode?: string;
  secFetchDest?: string;
  origin?: string;
}

/** Modes a script's fetch/XHR has; anything else (navigate, no-cors, websocket…) is not one. */
const SCRIPT_MODES: ReadonlySet<string> = new Set(['cors', 'same-origin']);

export function refuseCrossSite(
  h: FetchMetadata,
  allowed: { ownOrigin: string; corsOrigins: readonly string[] },
): { ok: true } | { ok: false; reason: string } {
  if (h.secFetchMode !== undefined && !SCRIPT_MODES.has(h.secFetchMode)) {
    return { ok: false, reason: `Sec-Fetch-Mode ${h.secFetchMode}: only a script's fetch may create an upload here` };
  }
  if (h.secFetchDest !== undefined && h.secFetchDest !== 'empty') {
    return { ok: false, reason: `Sec-Fetch-Dest ${h.secFetchDest}: only a script's fetch may create an upload here` };
  }
  if (h.origin !== undefined && h.origin !== allowed.ownOrigin && !allowed.corsOrigins.includes('*') && !allowed.corsOrigins.includes(h.origin)) {
    return { ok: false, reason: `origin ${h.origin} is not allowed (DROPSHIP_CORS_ORIGINS)` };
  }
  return { ok: true };
}

/**
 * Whether a form post that must come from dropship's own page (the unlock form) may be
 * taken. A current browser labels it with `Sec-Fetch-Site`, which no page can forge: only
 * same-origin (or none: typed or bookmarked) passes. Its `Origin` is no help there — the
 * share page's `Referrer-Policy: no-referrer` makes the browser send `Origin: null` for its
 * own form. A browser without Fetch Metadata is judged by `Origin`, which must then be ours.
 * A cross-site post is refused — it could only spend the visitor's password attempts or
 * unlock a drop in the visitor's browser with the attacker's password (login CSRF).
 * Requests with neither header are not from a browser and pass.
 */
export function refuseCrossSiteForm(
  h: { secFetchSite?: string; origin?: string },
  ownOrigin: string,
): { ok: true } | { ok: false; reason: string } {
  if (h.secFetchSite !== undefined) {
    return h.secFetchSite === 'same-origin' || h.secFetchSite === 'none'
      ? { ok: true }
      : { ok: false, reason: `Sec-Fetch-Site ${h.secFetchSite}: this form is taken only from its own page` };
  }
  // `null` is also what an opaque origin (a sandboxed frame, a data: page) sends.
  if (h.origin !== undefined && h.origin !== ownOrigin) {
    return { ok: false, reason: `origin ${h.origin}: this form is taken only from its own page` };
  }
  return { ok: true };
}
