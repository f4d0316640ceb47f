/**
 * The signer port: presigned URLs the clients use to move bytes straight to and from S3.
 * Every PUT signs `content-length`, so S3 itself refuses a body of any other size.
 * src/aws/signer.ts implements it with SigV4; src/memory/signer.ts makes URLs that name
 * what they allow (tests read them back).
 */

export interface SignedUrl {
  url: string;
  expiresAt: Date;
}

export interface PutSignRequest {
  key: string;
  contentLength: number;
  expiresIn: number;
  /** Multipart part, when signing UploadPart. */
  part?: { uploadId: string; partNumber: number };
}

export interface GetSignRequest {
  key: string;
  expiresIn: number;
  responseContentDisposition?: string;
  responseContentType?: string;
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
