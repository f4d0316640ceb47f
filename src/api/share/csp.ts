/**
 * Content-Security-Policy for the pages the api serves. The global helmet policy (plugins/
 * platform.ts) is for JSON and redirects; pages get stricter, per-route policies: no inline
 * script or style anywhere, scripts only from our own origin, and the S3 origin only where a
 * page really talks to S3 (the SPA PUTs parts there; the share page's thumbnails redirect there).
 */
import type { Config } from '../../config.js';
import { s3Origin as s3OriginOf } from '../../core/s3-address.js';

/** The S3 origin for a configuration (src/core/s3-address.ts: the signer's own rule). */
export function s3Origin(config: Pick<Config, 'AWS_ENDPOINT_URL' | 'DROPSHIP_BUCKET' | 'AWS_REGION' | 's3PathStyle'>): string {
  return s3OriginOf({
    bucket: config.DROPSHIP_BUCKET,
    region: config.AWS_REGION,
    endpoint: config.AWS_ENDPOINT_URL,
    pathStyle: config.s3PathStyle,
  });
}

type Directives = Record<string, string[]>;

export function cspHeader(d: Directives): string {
  return Object.entries(d)
    .map(([k, v]) => [k, ...v].join(' '))
    .join('; ');
}

const base: Directives = {
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'"],
  'connect-src': ["'self'"],
  'font-src': ["'self'"],
  'manifest-src': ["'self'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
  'object-src': ["'none'"],
};

export interface PagePolicies {
  /** The upload app: part PUTs go to S3; the QR code is a canvas, previews may be blob: URLs. */
  spa: string;
  /** Share page: thumbnails are 302s to S3, live status comes from our own SSE endpoint. */
  share: string;
  /**
   * Collection page: thumbnails are 302s to S3, and "Download all" fetches each file (a 302
   * from /d/:id/download to S3) to zip it in the browser; live status polls our own api.
   */
  collection: string;
  /** 404 and error pages: styles and nothing else. */
  plain: string;
  /** A protected drop's password form: styles, and a form that posts to our own origin. */
  locked: string;
}

export function pagePolicies(config: Parameters<typeof s3Origin>[0]): PagePolicies {
  const s3 = s3Origin(config);
  return {
    spa: cspHeader({ ...base, 'img-src': ["'self'", 'data:', 'blob:'], 'connect-src': ["'self'", s3] }),
    share: cspHeader({ ...base, 'img-src': ["'self'", s3] }),
    collection: cspHeader({ ...base, 'img-src': ["'self'", s3], 'connect-src': ["'self'", s3] }),
    plain: cspHeader({ ...base, 'script-src': ["'none'"], 'connect-src': ["'none'"] }),
    locked: cspHeader({ ...base, 'script-src': ["'none'"], 'connect-src': ["'none'"], 'form-action': ["'self'"] }),
  };
}
