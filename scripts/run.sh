#!/usr/bin/env bash
# `make run`: first run creates ./var/ (store, 0600 master key, TLS certificate,
# organization, unit, admin token printed once), then serves in the foreground.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=${OSPAY_BUILD_DIR:-build}
var=${OSPAY_VAR:-var}
rpc=${OSPAY_RPC_LISTEN:-127.0.0.1:7411}
https=${OSPAY_HTTPS_LISTEN:-127.0.0.1:7443}
extra=()
# OSPAY_TEST_CLOCK=2026-12-01T09:00:00-03:00 starts the server on the test clock.
if [[ -n ${OSPAY_TEST_CLOCK:-} ]]; then
	extra+=(--test-clock "$OSPAY_TEST_CLOCK")
fi

mkdir -p "$var"
chmod 700 "$var"
if [[ ! -f $var/data/master.key ]]; then
	umask 077
	"$build/ospayd" init --data "$var/data" >"$var/init.json"
	echo "First run: created $var/data. Keep this; the admin token is shown only now:"
	cat "$var/init.json"
	echo "(a copy is in $var/init.json, mode 0600, for make demo; delete it if you like)"
fi

cat <<EOT

Talk to the server from another terminal:
  export OSPAY_ADDR=$rpc
  export OSPAY_TOKEN=<admin_token.token from the JSON above or $var/init.json>
  $build/ospay whoami
  $build/ospay units list
Stop with Ctrl-C (drains calls, commits, exits 0).

EOT
exec "$build/ospayd" serve --data "$var/data" --rpc "$rpc" --https "$https" ${extra[@]+"${extra[@]}"}
