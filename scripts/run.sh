#!/usr/bin/env bash
# `make run`: first run creates ./var/ (store, 0600 master key, TLS certificate,
# organization, unit, admin token printed once). Every run starts ospay-sandbox
# and ospayd, points the organization's gateways and notifier at the sandbox,
# and stays in the foreground; Ctrl-C stops both (by pid).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=${OSPAY_BUILD_DIR:-build}
var=${OSPAY_VAR:-var}
rpc=${OSPAY_RPC_LISTEN:-127.0.0.1:7411}
https=${OSPAY_HTTPS_LISTEN:-127.0.0.1:7443}
sandbox=${OSPAY_SANDBOX_LISTEN:-127.0.0.1:7480}
extra=()
# The development server runs on the test clock (docs/spec.md 4.10) so that `make demo`
# and you can move time with `ospay clock advance`. It starts at the time it
# had when it was last stopped (kept in $var/test-clock), or now on a first run.
#   OSPAY_TEST_CLOCK=2026-12-01T09:00:00-03:00   start at that time instead
#   OSPAY_TEST_CLOCK=off                         the wall clock (Clock/* unimplemented)
# Listeners: OSPAY_RPC_LISTEN (127.0.0.1:7411), OSPAY_HTTPS_LISTEN (:7443),
# OSPAY_SANDBOX_LISTEN (:7480), OSPAY_SANDBOX_MTLS_LISTEN (:7481, the Pix PSP over mutual TLS).
clock_file=$var/test-clock
clock=${OSPAY_TEST_CLOCK:-}
if [[ -z $clock && -s $clock_file ]]; then
	clock=$(cat "$clock_file")
fi
if [[ -z $clock ]]; then
	clock=$(date -u +%Y-%m-%dT%H:%M:%SZ)
fi
if [[ $clock != off ]]; then
	extra+=(--test-clock "$clock")
fi

mkdir -p "$var"
chmod 700 "$var"
umask 077
if [[ ! -f $var/data/master.key ]]; then
	"$build/ospayd" init --data "$var/data" >"$var/init.json"
	echo "First run: created $var/data. Keep this; the admin token is shown only now:"
	cat "$var/init.json"
	echo "(a copy is in $var/init.json, mode 0600, for make demo; delete it if you like)"
fi
token=$(sed -n 's/.*"token": "\(ospt_[^"]*\)".*/\1/p' "$var/init.json")
org=$(sed -n '/"organization"/,/}/s/.*"id": \([0-9]*\).*/\1/p' "$var/init.json" | head -n1)

# Development credentials for the sandbox, made once and kept with the data (0600).
creds=$var/sandbox-credentials.json
if [[ ! -f $creds ]]; then
	r() { head -c 18 /dev/urandom | base64 | tr '+/' '-_'; }
	cat >"$creds" <<EOC
{"merchant_id": "mid-$(r)", "merchant_key": "mkey-$(r)", "cielo_hook": "$(r)",
 "client_id": "cid-$(r)", "client_secret": "$(r)", "seller_id": "seller-$(r)",
 "api_token": "$(r)", "api_key": "zapi-$(r)", "api_secret": "$(r)", "zapme_hook": "$(r)"}
EOC
fi
val() { sed -n "s/.*\"$1\": \"\([^\"]*\)\".*/\1/p" "$creds"; }

pids=()
stop() {
	# Keep the test clock for the next start: the data may already be dated ahead of now.
	if [[ $clock != off && -n ${token:-} ]]; then
		OSPAY_ADDR=$rpc OSPAY_TOKEN=$token "$build/ospay" --json clock now 2>/dev/null |
			sed -n 's/.*"now": "\([^"]*\)".*/\1/p' >"$clock_file.new" &&
			[[ -s $clock_file.new ]] && mv "$clock_file.new" "$clock_file"
		rm -f "$clock_file.new"
	fi
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap stop EXIT
trap 'exit 0' INT TERM

# Waits for a "listening ..." line from a background process writing to $1.
wait_listening() {
	for _ in $(seq 100); do
		grep -q '^listening' "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "run: $2 did not start; its output:" >&2
	cat "$1" >&2
	return 1
}

out=$(mktemp -d)
# The gateways and notifier point at the sandbox on loopback: allowed here only.
# Pix Automático's PSP (the sandbox's mutual-TLS listener) presents ospayd's own development
# certificate (it names localhost), so ospayd trusts it as the PSP's CA (--gateway-ca); it is
# also ospayd's client identity at the PSP. Development only: a real PSP issues its own.
setsid "$build/ospayd" serve --data "$var/data" --rpc "$rpc" --https "$https" \
	--allow-private-gateways --gateway-ca "$var/data/tls.crt" ${extra[@]+"${extra[@]}"} >"$out/ospayd" &
pids+=($!)
wait_listening "$out/ospayd" ospayd
cat "$out/ospayd"

pix_mtls=${OSPAY_SANDBOX_MTLS_LISTEN:-127.0.0.1:7481}
setsid "$build/ospay-sandbox" --listen "$sandbox" --webhook-base "https://localhost:${https##*:}" \
	--webhook-ca "$var/data/tls.crt" --mtls-listen "$pix_mtls" --mtls-cert "$var/data/tls.crt" \
	--mtls-key "$var/data/tls.key" --mtls-client-ca "$var/data/tls.crt" >"$out/sandbox" &
pids+=($!)
wait_listening "$out/sandbox" ospay-sandbox
echo "sandbox $(cat "$out/sandbox")"

# The sandbox keeps state in memory: register the organization at each service.
sb=http://$sandbox
ctl() { curl -fsS -XPOST "$sb/control/orgs/$org/$1" -d "$2" >/dev/null; }
ctl cielo "{\"merchant_id\":\"$(val merchant_id)\",\"merchant_key\":\"$(val merchant_key)\",\"notification_headers\":{\"X-Ospay-Hook\":\"$(val cielo_hook)\"}}"
ctl getnet "{\"client_id\":\"$(val client_id)\",\"client_secret\":\"$(val client_secret)\",\"seller_id\":\"$(val seller_id)\"}"
ctl pagolivre "{\"token\":\"$(val api_token)\"}"
ctl pix "{\"client_id\":\"pix-$(val client_id)\",\"client_secret\":\"$(val client_secret)\"}"
ctl zapme "{\"api\":\"$(val api_key)\",\"secret\":\"$(val api_secret)\",\"webhook_secret\":\"$(val zapme_hook)\",\"webhook_header\":\"X-ZapMe-Secret\"}"

# And point ospayd's gateways at it (credentials on standard input, never argv).
export OSPAY_ADDR=$rpc OSPAY_TOKEN=$token
ospay=$build/ospay
echo "{\"merchant_id\":\"$(val merchant_id)\",\"merchant_key\":\"$(val merchant_key)\",\"webhook_headers\":{\"X-Ospay-Hook\":\"$(val cielo_hook)\"}}" |
	"$ospay" gateways set cielo --base-url "$sb/cielo" --credentials - >/dev/null
echo "{\"client_id\":\"$(val client_id)\",\"client_secret\":\"$(val client_secret)\",\"seller_id\":\"$(val seller_id)\"}" |
	"$ospay" gateways set getnet --base-url "$sb/getnet" --credentials - >/dev/null
echo "{\"api_token\":\"$(val api_token)\"}" |
	"$ospay" gateways set pagolivre --base-url "$sb/pagolivre" --credentials - >/dev/null
echo "{\"api_key\":\"$(val api_key)\",\"api_secret\":\"$(val api_secret)\",\"webhook_headers\":{\"X-ZapMe-Secret\":\"$(val zapme_hook)\"}}" |
	"$ospay" notifier set --base-url "$sb/zapme" --channel whatsapp --credentials - >/dev/null
# Pix Automático: the PSP over mutual TLS; it calls ospayd back at its HTTPS listener.
pix_settings=$out/pix-settings.json
echo "{\"account\": \"012682\", \"callback_base_url\": \"https://localhost:${https##*:}\"}" >"$pix_settings"
echo "{\"client_id\":\"pix-$(val client_id)\",\"client_secret\":\"$(val client_secret)\"}" |
	"$ospay" gateways set pix --base-url "https://localhost:${pix_mtls##*:}/pix" --credentials - \
		--client-cert "$var/data/tls.crt" --client-key "$var/data/tls.key" --pix "$pix_settings" >/dev/null
echo "gateways (cielo, getnet, pagolivre, pix) and notifier (zapme) point at the sandbox"
unset OSPAY_TOKEN

cat <<EOT

Talk to the server from another terminal:
  export OSPAY_ADDR=$rpc
  export OSPAY_TOKEN=<admin_token.token from the first run's JSON, or in $var/init.json>
  $build/ospay whoami
  $build/ospay units list
  $build/ospay gateways get cielo
  $build/ospay clock now              (the test clock; OSPAY_TEST_CLOCK=off make run for the wall clock)
  make demo                           (the whole story of docs/spec.md 4, step by step)
  curl --cacert $var/data/tls.crt -H "Authorization: Bearer \$(cat $var/data/metrics.token)" https://localhost:${https##*:}/metrics
The sandbox's control API is at $sb/control (docs/sandbox.md).
Stop with Ctrl-C (both processes drain and exit).

EOT
# Foreground: until ospayd exits (or Ctrl-C).
wait "${pids[0]}"
