/**
 * The local file name for a download, from the server's Content-Disposition. The name comes
 * from whoever uploaded the file, so it is treated as hostile: only a bare file name survives,
 * never a path, a hidden or reserved name, or control characters.
 */

/** The filename from a Content-Disposition value, preferring RFC 6266/5987 `filename*`. */
export function filenameFromDisposition(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const star = /filename\*\s*=\s*([^;]+)/i.exec(header);
  if (star) {
    const value = star[1]!.trim().replace(/^"(.*)"$/, '$1');
    const m = /^([\w!#$%&+^`{}~-]+)'[^']*'(.*)$/.exec(value);
    if (m) {
      try {
        const charset = m[1]!.toLowerCase();
        if (charset === 'utf-8') return decodeURIComponent(m[2]!);
        if (charset === 'iso-8859-1') return unescape(m[2]!);
      } catch {
        /* malformed percent-encoding: fall back to the plain filename */
      }
    }
  }
  const quoted = /(?:^|;)\s*filename\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(header);
  if (quoted) return quoted[1]!.replace(/\\(.)/g, '$1');
  const bare = /(?:^|;)\s*filename\s*=\s*([^;\s]+)/i.exec(header);
  return bare?.[1];
}

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
const MAX_BYTES = 255;

/** A safe single path segment, or undefined when nothing usable is left. */
export function sanitizeFilename(name: string | undefined): string | undefined {
  if (!name) return undefined;
  // Last path segment for either separator: "../../.ssh/authorized_keys" → "authorized_keys".
  let s = name.split(/[/\\]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  s = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
  s = s.replace(/[<>:"|?*]/g, '_');
  s = s.trim().replace(/^\.+/, '').replace(/[. ]+$/, '');
  if (!s) return undefined;
  if (WINDOWS_RESERVED.test(s)) s = `_${s}`;
  const enc = new TextEncoder();
  while (enc.encode(s).length > MAX_BYTES) {
    // Shorten the stem and keep the extension, so the file still opens with the right program.
    const dot = s.lastIndexOf('.');
    const ext = dot > 0 && s.length - dot <= 16 ? s.slice(dot) : '';
    const stem = [...s.slice(0, s.length - ext.length)];
    stem.pop();
    s = stem.join('') + ext;
  }
  return s;
}
