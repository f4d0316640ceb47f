#!/usr/bin/env sh
# Runs a compiled entry point (`npm start`, `npm run start:worker`): plain node on dist/, no
# tsx, under Node 22+ (scripts/node.sh). Production runs what `npm run build` made; when it
# has not been built, say so instead of letting node print a module-not-found trace.
set -eu
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
entry=$1
shift
if [ ! -f "$root/$entry" ]; then
  echo "dropship: $entry is missing: run \`npm run build\` first (production runs the compiled JavaScript in dist/)" >&2
  exit 1
fi
exec sh "$root/scripts/node.sh" "$root/$entry" "$@"
