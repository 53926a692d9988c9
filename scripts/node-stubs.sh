#!/usr/bin/env bash
# Installs the npm packages pinned in package.json (npm ci, when node_modules/ is missing
# or older than package-lock.json) and writes the Connect stubs of proto/ for Node into
# DIR/gen (buf generate with buf.gen.yaml). Used by examples/node/ and the Node tests.
#   scripts/node-stubs.sh DIR
set -euo pipefail
out=$(realpath -m "${1:?usage: scripts/node-stubs.sh DIR}")
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ ! -x node_modules/.bin/protoc-gen-es || ! -d node_modules/@connectrpc/connect-node ||
	package-lock.json -nt node_modules/.package-lock.json ]]; then
	npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
npx --no-install buf generate -o "$out"
