#!/usr/bin/env bash
# Rebuilds ../console/vendor/codemirror.js (one minified ES module) and its licence file from
# the exact versions in package-lock.json. Needs Node.js and npm; hirelay itself does not.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
out=../console/vendor
mkdir -p "$out"
npx esbuild entry.js --bundle --format=esm --minify --legal-comments=none \
  --target=es2020 --outfile="$out/codemirror.js"
# Every package in the bundle is MIT; one copy of each distinct licence text goes beside it.
{
  echo "server/console/vendor/codemirror.js bundles these packages (versions in server/console-vendor/package-lock.json):"
  echo
  for dir in node_modules/codemirror node_modules/@codemirror/* node_modules/@lezer/* node_modules/style-mod node_modules/w3c-keyname node_modules/crelt; do
    [ -f "$dir/package.json" ] || continue
    node -e 'const p=require("./'"$dir"'/package.json"); console.log(`- ${p.name} ${p.version} (${p.license})`)'
  done
  echo
  cat node_modules/@codemirror/view/LICENSE
} > "$out/LICENSE-codemirror.txt"
ls -l "$out"
