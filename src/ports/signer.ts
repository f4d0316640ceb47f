/**
 * The signer port: presigned URLs the clients use to move bytes straight to and from S3.
 * Every PUT signs `content-length`, so S3 itself refuses a body of any other size.
 * src/aws/signer.ts implements it with SigV4; src/memory/signer.ts makes URLs that name
 * what they allow (tests read them back).
 */

export interface SignedUrl {
  url: string;
  expiresAt: Date;
  /**
   * Request headers that are part of the signature: the client must send each of them with
   * the bytes, or S3 refuses the request (403). A single PUT carries `if-none-match: *`.
   */
  headers: Record<string, string>;
}

export interface PutSignRequest {
  key: string;
  contentLength: number;
  expiresIn: number;
  /** Multipart part, when signing UploadPart. */
  part?: { uploadId: string; partNumber: number };
  /**
   * Signs `If-None-Match: *` into a PutObject URL: S3 creates the object only if the key is
   * absent (412 otherwise), so a published object can never be overwritten with the same URL.
   * Not for parts: UploadPart has no conditional form.
   */
  createOnly?: boolean;
}

/**
 * A GET whose response headers are all chosen here (S3's `response-*` overrides), so nothing
 * the uploader sent with the PUT (Content-Encoding, Cache-Control, Expires, Content-Language,
 * Content-Type, Content-Disposition) comes back on the download.
 */
export interface GetSignRequest {
  key: string;
  expiresIn: number;
  responseContentDisposition?: string;
  responseContentType: string;
  responseContentEncoding: string;
  responseCacheControl: string;
  responseExpires: Date;
  /** S3 has no way to remove the header: an explicit value (e.g. `und`) replaces the uploader's. */
  responseContentLanguage: string;
}

/** The `response-*` query parameters of a GET, the same for every adapter. */
export function responseOverrides(req: GetSignRequest): Record<string, string> {
  return {
    ...(req.responseContentDisposition ? { 'response-content-disposition': req.responseContentDisposition } : {}),
    'response-content-type': req.responseContentType,
    'response-content-encoding': req.responseContentEncoding,
    'response-cache-control': req.responseCacheControl,
    'response-expires': req.responseExpires.toUTCString(),
    'response-content-language': req.responseContentLanguage,
  };
}

export interface PostSignRequest {
  key: string;
  /** The exact size the POST's body must have (content-length-range size..size). */
  size: number;
  expiresIn: number;
}

export interface SignedPost {
  url: string;
  fields: Record<string, string>;
}

export interface Signer {
  signPut(req: PutSignRequest, now: Date): Promise<SignedUrl>;
  signGet(req: GetSignRequest, now: Date): Promise<SignedUrl>;
  /** A browser form upload (S3 POST policy) for one key and exactly `size` bytes. */
  signPost(req: PostSignRequest, now: Date): Promise<SignedPost>;
}
