#!/usr/bin/env bash
# Orders/Get over Connect (docs/connect.md), JSON and binary protobuf, against the binary
# protocol in the same run. Run by bench/run.sh; alone: bash bench/connect.sh.
#
# One fresh ospayd (core 0). Each round: bench_loadgen (core 1) seeds 1,000 orders and
# measures Orders/Get over the binary protocol through libospay; then bench_connect
# (core 1, libcurl multi over TLS keep-alive) measures Orders/Get over Connect in JSON,
# then in binary protobuf, on ids of the seeded orders. The same concurrency for all
# three: $conns connections with one call in flight each, since a Connect unary call over
# HTTP/1.1 holds its connection until answered (the binary protocol's own 64 x 16 figure
# is bench/run.sh's). Ratios are Connect calls/s over binary-protocol calls/s; the
# summary is the median of the rounds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_timing
conns=${CONNECT_CONNS:-64}
dir=$(mktemp -d /tmp/ospay-bench-connect-XXXXXX)
trap bench_cleanup EXIT

bench_ospayd_up "$dir/srv"
: >"$dir/ratios"
for ((round = 1; round <= rounds; round++)); do
	bin=$("${load_pin[@]}" "$build/bench/bench_loadgen" --addr "$rpc" --token "$token" \
		--conns "$conns" --inflight 1 --duration "$secs" --warmup "$warm" --get-pct 100 \
		--seed 1000 --pid "$srv" --label orders_get_binary)
	echo "$bin"
	for codec in json proto; do
		res=$("${load_pin[@]}" "$build/bench/bench_connect" --url "https://$https" \
			--token "$token" --cacert "$dir/srv/tls.crt" --codec "$codec" --conns "$conns" \
			--duration "$secs" --warmup "$warm" --ids 1000 --pid "$srv" \
			--label "orders_get_connect_$codec")
		echo "$res"
		declare "res_$codec=$res"
	done
	# shellcheck disable=SC2154  # res_json, res_proto: declared above
	jq -nc --argjson b "$bin" --argjson j "$res_json" --argjson p "$res_proto" \
		--argjson round "$round" '
		def r(x): (x * 1000 | round) / 1000;
		{bench: "orders_get_connect_round", round: $round, conns: $b.conns, inflight: 1,
		 binary_calls_per_s: $b.calls_per_s, json_calls_per_s: $j.calls_per_s,
		 proto_calls_per_s: $p.calls_per_s,
		 json_ratio: r($j.calls_per_s / $b.calls_per_s),
		 proto_ratio: r($p.calls_per_s / $b.calls_per_s),
		 binary_p99_us: $b.p99_us, json_p99_us: $j.p99_us, proto_p99_us: $p.p99_us,
		 json_cpu_ratio: r($b.server_cpu_per_call_us / $j.server_cpu_per_call_us),
		 proto_cpu_ratio: r($b.server_cpu_per_call_us / $p.server_cpu_per_call_us)}' |
		tee -a "$dir/ratios"
done
jq -sc '
	def median: sort | .[(length - 1) / 2 | floor];
	{bench: "orders_get_connect_vs_binary", rounds: length, conns: .[0].conns, inflight: 1,
	 json_ratio: (map(.json_ratio) | median), proto_ratio: (map(.proto_ratio) | median),
	 json_cpu_ratio: (map(.json_cpu_ratio) | median),
	 proto_cpu_ratio: (map(.proto_cpu_ratio) | median),
	 binary_p99_us: (map(.binary_p99_us) | median), json_p99_us: (map(.json_p99_us) | median),
	 proto_p99_us: (map(.proto_p99_us) | median)}' <"$dir/ratios"
bench_stop "$srv"
