// Where S3 URLs point: the one rule the signer uses to build presigned URLs and the pages'
// Content-Security-Policy uses to allow them. An endpoint (an emulator, another S3) is used
// as given, path-style or with the bucket as a subdomain; otherwise AWS's regional endpoint.

export interface S3Address {
  protocol: string;
  hostname: string;
  port?: number;
  /** Path before the object key: `/{bucket}` path-style, else the endpoint's own path. */
  pathPrefix: string;
}

export interface S3Location {
  bucket: string;
  region: string;
  /** AWS_ENDPOINT_URL, or empty/undefined for AWS itself. */
  endpoint?: string | undefined;
  pathStyle: boolean;
}

export function s3Address({ bucket, region, endpoint, pathStyle }: S3Location): S3Address {
  if (endpoint) {
    const u = new URL(endpoint);
    const base = u.pathname.replace(/\/+$/, '');
    const port = u.port ? { port: Number(u.port) } : {};
    return pathStyle
      ? { protocol: u.protocol, hostname: u.hostname, ...port, pathPrefix: `${base}/${bucket}` }
      : { protocol: u.protocol, hostname: `${bucket}.${u.hostname}`, ...port, pathPrefix: base };
  }
  const host = region === 'us-east-1' ? 's3.amazonaws.com' : `s3.${region}.amazonaws.com`;
  return pathStyle
    ? { protocol: 'https:', hostname: host, pathPrefix: `/${bucket}` }
    : { protocol: 'https:', hostname: `${bucket}.${host}`, pathPrefix: '' };
}

/** `host[:port]` of an address, as the Host header and URLs carry it. */
export function hostOf(a: S3Address): string {
  return a.port ? `${a.hostname}:${a.port}` : a.hostname;
}

/** The origin presigned URLs point at (for CSP `connect-src` / `img-src`). */
export function s3Origin(loc: S3Location): string {
  const a = s3Address(loc);
  return `${a.protocol}//${hostOf(a)}`;
}
