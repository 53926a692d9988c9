#!/usr/bin/env bash
# Webhooks over TLS keep-alive, stored durably, vs nginx `return 200` over plain HTTP
# (docs/spec.md 8 row 3, issue 7). Run by bench/run.sh; alone: bash bench/webhooks.sh.
#
# ospayd (core 0) is configured for PagoLivre at a running ospay-sandbox (core 1,
# with the load: it plays the service), which holds $refs payment links that
# bench_webhooks setup also registers in ospayd's store, as Orders/Finalize does.
# bench_webhooks (core 1) then POSTs PagoLivre notifications for those links,
# each with a distinct eventId and the organization's accessToken, over $conns
# TLS keep-alive connections: each is authenticated, stored durably (200 after the
# commit) and re-queried at the sandbox. The reference is nginx from Debian
# (installed with apt-get when missing) with its own config and prefix under the
# scratch directory, one process (master_process off) on core 0, answering
# `return 200` to the same POSTs from the same client over plain HTTP.
# Figure and reference alternate $rounds times; the summary is the median ratio.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
quick=${BENCH_QUICK:-0}
if [[ $quick == 1 ]]; then
	secs=2 warm=0.5 rounds=1
else
	secs=8 warm=1 rounds=3
fi
conns=${WEBHOOK_CONNS:-256} refs=${WEBHOOK_REFS:-1000}
dir=$(mktemp -d /tmp/ospay-bench-wh-XXXXXX)
trap bench_cleanup EXIT

if ! command -v nginx >/dev/null && [[ -x /usr/sbin/nginx ]]; then
	PATH=$PATH:/usr/sbin
fi
if ! command -v nginx >/dev/null; then
	echo "bench: installing nginx-light (the webhook reference, docs/spec.md 8)" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light >&2 ||
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx >&2
fi

# ---- ospayd and the sandbox
# All connections come from loopback: lift the per-address cap above $conns.
bench_ospayd_up "$dir/srv" --gateway-max-inflight 256 --https-max-conns-per-addr 4096
"${load_pin[@]}" "$build/ospay-sandbox" --listen 127.0.0.1:0 \
	--webhook-base "https://localhost:${https##*:}" --webhook-ca "$dir/srv/tls.crt" \
	>"$dir/sbx.out" 2>"$dir/sbx.log" &
sbx=$!
bench_pids+=("$sbx")
sb=http://$(bench_wait_line "$dir/sbx.out" '^listening' "$sbx" | sed 's/^listening //')
pl_token=bench-pl-$RANDOM$RANDOM
curl -fsS -XPOST "$sb/control/orgs/$org/pagolivre" -d "{\"token\":\"$pl_token\"}" >/dev/null
echo "{\"api_token\":\"$pl_token\"}" |
	OSPAY_ADDR=$rpc OSPAY_TOKEN=$token "$build/ospay" gateways set pagolivre \
		--base-url "$sb/pagolivre" --credentials - >/dev/null
"$build/bench/bench_webhooks" setup --data "$dir/srv" --org "$org" --sandbox "$sb" \
	--token "$pl_token" --refs "$refs"

# ---- nginx, its own prefix and config; a free port found by trying
mkdir -p "$dir/nginx/body"
ngx_up() {
	local port i
	for ((i = 0; i < 20; i++)); do
		port=$((20000 + RANDOM % 30000))
		cat >"$dir/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process off;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log;
events { worker_connections 4096; }
http {
	access_log off;
	keepalive_requests 100000000;
	keepalive_timeout 60s;
	client_body_temp_path $dir/nginx/body;
	server {
		listen 127.0.0.1:$port;
		location / { return 200; }
	}
}
EOF
		"${srv_pin[@]}" nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" \
			2>>"$dir/nginx/stderr" &
		ngx=$!
		bench_pids+=("$ngx")
		local j
		for ((j = 0; j < 50; j++)); do
			if curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; then
				ngx_addr=127.0.0.1:$port
				return 0
			fi
			kill -0 "$ngx" 2>/dev/null || break
			sleep 0.1
		done
		bench_stop "$ngx"
	done
	echo "bench: nginx did not start: $(tail -3 "$dir/nginx/error.log" "$dir/nginx/stderr")" >&2
	return 1
}

# Every accepted event is re-queried at the sandbox after its commit: waits (120 s at
# most) until all are, so that none runs on the server core during the reference's
# round; prints the seconds waited past the end of the figure's run.
requery_drain() {
	local accepted requeried i
	accepted=$(bench_metric 'ospay_webhooks_total{result="accepted"}' "$dir/srv")
	for ((i = 0; i < 1200; i++)); do
		requeried=$(bench_metric ospay_webhook_requeries_total "$dir/srv")
		((requeried >= accepted)) && break
		sleep 0.1
	done
	awk -v i="$i" 'BEGIN { printf "%.1f", i / 10 }'
}

load=("${load_pin[@]}" "$build/bench/bench_webhooks" load --org "$org" --token "$pl_token"
	--refs "$refs" --conns "$conns" --duration "$secs" --warmup "$warm")
: >"$dir/ratios"
for ((round = 1; round <= rounds; round++)); do
	fig=$("${load[@]}" --tls --cacert "$dir/srv/tls.crt" --addr "$https" --pid "$srv" \
		--id-prefix "r$round" --label webhooks_tls)
	echo "$fig"
	drain_s=$(requery_drain)
	ngx_up
	ref=$("${load[@]}" --addr "$ngx_addr" --pid "$ngx" --id-prefix "n$round" --label ref_nginx)
	echo "$ref"
	bench_stop "$ngx"
	jq -nc --argjson f "$fig" --argjson r "$ref" --argjson round "$round" \
		--argjson drain "$drain_s" '
		($f.requests_per_s / $r.requests_per_s) as $ratio |
		{bench: "webhooks_vs_nginx_round", round: $round, conns: $f.conns,
		 figure_requests_per_s: $f.requests_per_s,
		 reference_requests_per_s: $r.requests_per_s,
		 ratio: (($ratio * 1000 | round) / 1000), p99_us: $f.p99_us,
		 reference_p99_us: $r.p99_us, requery_drain_s: $drain,
		 cpu_ratio: (($r.server_cpu_per_req_us / $f.server_cpu_per_req_us * 1000 | round)
			/ 1000)}' | tee -a "$dir/ratios"
done

accepted=$(bench_metric 'ospay_webhooks_total{result="accepted"}' "$dir/srv")
requeried=$(bench_metric ospay_webhook_requeries_total "$dir/srv")
coalesced=$(bench_metric ospay_webhook_requery_coalesced_total "$dir/srv")
coalesced=${coalesced:-0} # older ospayd: no such counter
jq -sc --argjson acc "$accepted" --argjson req "$requeried" --argjson coal "$coalesced" \
	--argjson refs "$refs" '
	def median: sort | .[(length - 1) / 2 | floor];
	(map(.ratio) | median) as $ratio |
	{bench: "webhooks_vs_nginx", rounds: length, ratios: map(.ratio), ratio: $ratio,
	 target_ratio: 0.15, p99_us: (map(.p99_us) | median),
	 cpu_ratio: (map(.cpu_ratio) | median), events_accepted: $acc,
	 events_requeried: $req, events_coalesced: $coal, refs: $refs,
	 met: ($ratio >= 0.15)}' <"$dir/ratios"
