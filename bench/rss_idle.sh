#!/usr/bin/env bash
# Idle RssAnon with 1,000,000 orders stored (docs/spec.md 8 row 5: <= 64 MiB; 100,000 with
# BENCH_QUICK=1). Run by bench/run.sh; alone: bash bench/rss_idle.sh.
#
# A fresh ospayd (core 0) is given the orders through Orders/Create by the load
# generator (core 1, 64 x 16, durable), then left idle for 3 s (1 s in quick mode): its
# RssAnon (heap, stacks, allocator caches: what the orders cost in memory) is read from
# /proc, and again after a restart on the same store. LMDB's map is file-backed and
# counts as RssFile (page cache the kernel takes back), which is printed beside it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
if [[ ${BENCH_QUICK:-0} == 1 ]]; then
	orders=100000 idle=1
else
	orders=1000000 idle=3
fi
orders=${RSS_ORDERS:-$orders}
dir=$(mktemp -d /tmp/ospay-bench-rss-XXXXXX)
trap bench_cleanup EXIT

rss_of() {
	awk '$1 == "RssAnon:" { a = $2 } $1 == "RssFile:" { f = $2 }
		END { printf "{\"rss_anon_kb\":%d,\"rss_file_kb\":%d}", a, f }' "/proc/$1/status"
}

bench_ospayd_up "$dir/srv"
load=$("${load_pin[@]}" "$build/bench/bench_loadgen" --addr "$rpc" --token "$token" \
	--conns 64 --inflight 16 --count "$orders" --warmup 0 --get-pct 0 --pid "$srv" \
	--label rss_orders_create)
echo "$load"
sleep "$idle"
after_load=$(rss_of "$srv")
bench_stop "$srv"
bench_ospayd_start "$dir/srv"
sleep "$idle"
after_restart=$(rss_of "$srv")
bench_stop "$srv"
jq -nc --argjson l "$load" --argjson a "$after_load" --argjson b "$after_restart" \
	--argjson n "$orders" '
	{bench: "idle_rss_anon", orders: $n, orders_created: $l.calls,
	 rss_anon_kb_idle_after_load: $a.rss_anon_kb, rss_file_kb_idle_after_load: $a.rss_file_kb,
	 rss_anon_kb_idle_after_restart: $b.rss_anon_kb,
	 rss_file_kb_idle_after_restart: $b.rss_file_kb,
	 rss_anon_kb_peak_under_load: $l.server_rss_anon_peak_kb, target_kb: 65536,
	 met: ([$a.rss_anon_kb, $b.rss_anon_kb] | max <= 65536)}'
