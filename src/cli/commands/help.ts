/** The usage text and each command's --help. */
import { EXIT } from '../exit.js';
import type { Io } from '../io.js';

export const USAGE = `dropship — instant file sharing: upload files straight to S3, get share links.

Usage:
  dropship upload <files...>      upload; prints one share link per file (in argument order),
                                  then, for several files, one link for them all
  dropship status <id|url>        show a drop's status (or a collection's files)
  dropship wait <id|url>          wait until the drop is ready
  dropship download <id|url>      download a drop's file
  dropship delete <id|url>        delete a drop, or a collection and its drops (needs the owner token)
  dropship list                   the API key's drops, newest first
  dropship <command> --help       options of one command

Global options:
  --server <url>     api base URL (env DROPSHIP_URL; default ${'http://127.0.0.1:8080'});
                     a drop URL given as argument names its own server
  --api-key <key>    API key for uploads (env DROPSHIP_API_KEY)
  --json             machine-readable output on stdout
  -q, --quiet        no progress or status messages on stderr
  -h, --help         this help;  --version  the version

Results go to stdout, progress and messages to stderr.
`;

const COMMAND_HELP: Record<string, string> = {
  upload: `dropship upload <files...> [options]

Uploads each file straight to S3 in parallel parts and prints its share link on stdout, one
line per file in argument order. An interrupted upload (Ctrl-C, a crash, a lost connection)
is remembered by path, size and modification time and resumes when the same file is
uploaded again.

With more than one file, the uploaded files also become one collection: its link (a page
listing every file, with Download all) is printed on a last line of its own, after the
files' lines. \`dropship status <collection url>\` lists its files; \`dropship delete
<collection url>\` deletes it and its files.

Options:
  -c, --concurrency <n>   parts in flight per file (default 4)
  -p, --parallel <n>      files at a time (default 2)
      --retries <n>       retries per part after transient errors (default 5)
      --expires <dur>     how long the drop lives, e.g. 2h, 3d, 1w or "3 days" (server default otherwise;
                          never = never expires, where the server allows it); also --expires-in
      --max-downloads <n> the link stops working after n downloads
      --meta <k=v>        private metadata, repeatable (shown only to this API key and the owner token)
      --password <p>      protect the drops with a password (4..256 characters); scripts should
                          prefer --password-stdin (first line of stdin) or env DROPSHIP_PASSWORD,
                          which other users of the machine cannot read in the process list
      --password-stdin    read the password from the first line of stdin
      --no-resume         start over even if an earlier upload of the file is unfinished
      --wait              after uploading, wait until each drop is ready
      --timeout <dur>     with --wait: give up after this long (exit 7)
      --no-collection     several files: no collection, only one link per file
      --title <text>      the collection's title (default: "<first name> and N more")
      --json              one JSON object per line per file:
                          {file, ok, id, ownerToken, name, size, status, shareUrl,
                           downloadUrl, resumed, bytesSent, exitCode} or
                          {file, ok: false, error: {code, message}, exitCode};
                          then, for several files, {collection: {id, shareUrl,
                          ownerToken, title, drops}}
`,
  status: `dropship status <id|url> [--json]

Prints the drop's status (uploading, processing, ready, failed, cancelled, expired), size,
type, thumbnails and links; a password-protected drop shows only its status, expiry and that
it is protected. Exits 0 whenever the drop exists, 3 when it does not. Given a
collection's URL (…/c/<id>), prints its title and one line per file: status, size, link,
name (exit 4 once it was deleted or has expired).
`,
  wait: `dropship wait <id|url> [--timeout <dur>] [--interval <dur>] [--json]

Waits until the drop is ready and prints its share link. Exits 4 if it ends failed, expired
or cancelled instead, 7 when --timeout runs out.
`,
  download: `dropship download <id|url> [-o <file|dir|->] [--force] [--password <p> | --password-stdin]

Saves the file under the name it was uploaded with (made safe: no paths, no hidden names)
in the current directory, or where -o says ("-" for stdout). Written to a temporary file
and renamed when complete. Refuses to replace an existing file unless -o names it or
--force is given. A password-protected drop needs its password: --password, --password-stdin
(first line of stdin) or env DROPSHIP_PASSWORD; a wrong one exits 6.
`,
  list: `dropship list [--status <status>] [--limit <n>] [--json]

Lists the API key's drops (--api-key or DROPSHIP_API_KEY), newest first, one line each: id,
status, size, created, name. --status keeps one status (uploading, processing, ready,
failed, cancelled, expired); --limit stops after the newest n. --json prints each drop's view,
metadata included, one JSON object per line.
`,
  delete: `dropship delete <id|url> [--owner-token <token>]

Deletes the drop (or cancels its upload). The owner token comes from --owner-token, env
DROPSHIP_OWNER_TOKEN, or this machine's record of its own uploads. Given a collection's URL
(…/c/<id>), deletes the collection and every file in it.
`,
};

export function help(io: Io, command?: string): number {
  io.stdout.write(command ? COMMAND_HELP[command]! : USAGE);
  return EXIT.OK;
}
