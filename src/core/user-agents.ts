// Who is asking for `/`: a person's browser gets the upload app, a command-line HTTP client
// (curl, Wget, HTTPie, …) gets plain-text usage, the way transfer.sh answers them.

const COMMAND_LINE = /^(curl|wget|httpie|xh|aria2|powershell|libfetch|fetch)\b/i;

/**
 * Whether the request comes from a command-line client that wants text: its User-Agent
 * names one, and it did not ask for HTML (`Accept: text/html` always gets the app).
 */
export function wantsPlainText(userAgent: string | undefined, accept: string | undefined): boolean {
  if (accept && /\btext\/html\b/i.test(accept)) return false;
  return userAgent !== undefined && COMMAND_LINE.test(userAgent.trim());
}

/** The text `curl host/` prints: how to upload, check, download and delete from a shell. */
export function usageText(base: string, opts: { keyRequired: boolean; maxStreamBytes: string }): string {
  const auth = opts.keyRequired ? ` -H "Authorization: Bearer $DROPSHIP_API_KEY"` : '';
  return `dropship — instant file sharing

Upload (the answer is the share link; the X-Owner-Token header is what deletes it):
  curl${auth} -T photo.jpg ${base}/
  curl${auth} -T - ${base}/v1/stream/log.txt < log.txt        (unknown length)
  curl${auth} -D headers.txt -T photo.jpg ${base}/           (keep the headers: the owner token)

Status, download, delete:
  curl ${base}/v1/drops/<id>
  curl -L -O -J ${base}/d/<id>/download
  curl -X DELETE -H "X-Owner-Token: <token>" ${base}/v1/drops/<id>
  (the X-Delete-Command header of the upload's answer is this last line, filled in)

Files up to ${opts.maxStreamBytes} through this route; larger ones and resumable uploads:
the dropship CLI or the API (${base}/docs).
`;
}
