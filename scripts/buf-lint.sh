#!/usr/bin/env bash
# Lints proto/ with buf (configuration: buf.yaml), using the buf version pinned in
# package.json / package-lock.json. Installs it into node_modules/ on first use.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ ! -x node_modules/.bin/buf ]]; then
	echo "buf-lint: installing buf (npm ci)"
	npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
npx --no-install buf lint
