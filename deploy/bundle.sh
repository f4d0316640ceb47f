#!/usr/bin/env sh
# `npm run deploy:bundle`: the worker Lambda's code in deploy/.build/worker (git-ignored), from
# a fresh `npm run build`: dist/, package.json and the production dependencies for Lambda's
# Linux x64 (sharp's prebuilt libvips for linux-x64 glibc), whatever machine this runs on.
set -eu
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
out="$root/deploy/.build/worker"
rm -rf "$out"
mkdir -p "$out"
cp -R "$root/dist" "$out/dist"
cp "$root/package.json" "$root/package-lock.json" "$out/"
cd "$out"
npm ci --omit=dev --os=linux --cpu=x64 --libc=glibc --no-audit --no-fund --loglevel=error
rm package-lock.json
echo "dropship: worker bundle in deploy/.build/worker ($(du -sh . | cut -f1))" >&2
