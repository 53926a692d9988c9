#!/usr/bin/env bash
# make bench (about 5 minutes) / make bench-quick (BENCH_QUICK=1, under 1 minute):
# runs the benchmarks and prints one JSON line per result (docs/spec.md 8, issue 7).
#   bench_orders_list   Orders/List page time at 1,000 and 1,000,000 stored orders
#                       (100,000 in quick mode).
#   Orders/Get  64 x 16 through libospay vs bench_ref_echo (bare libuv echo of frames
#               of the same sizes, driven by the same loadgen in raw mode).
#   Orders/Create durable 64 x 16 vs bench_ref_lmdb (the same records and index
#               entries in durable transactions of the batch size ospayd committed,
#               from its /metrics).
# Every figure is judged against a reference run in the same invocation, because the
# machine is shared and noisy. The server (and each reference server or writer) runs
# on core 0, the load on core 1.
#   bench/webhooks.sh   webhooks over TLS keep-alive, stored durably, vs nginx.
#   bench/rss_idle.sh   idle RssAnon with 1,000,000 orders (100,000 in quick mode).
#   bench/plot          Orders/Get throughput and p99 charts (PNG) in bench/out.
#   bench/billing.sh    (at the end) the billing run vs a bare curl-multi client:
#                       10,000 and 100,000 due invoices (BENCH_BILLING_N=1000000 for 100,000
#                       and 1,000,000, past make bench's 10 minutes), 200 and 2,000 in quick mode.
# Every process started here is stopped by its pid, on success or failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${OSPAY_BUILD_DIR:-build}
quick=${BENCH_QUICK:-0}
if [[ $quick == 1 ]]; then
	secs=2 warm=0.5 seed=1000 list_orders=100000 rounds=1
else
	secs=10 warm=1 seed=1000 list_orders=1000000 rounds=3
fi
conns=64 inflight=16
dir=$(mktemp -d /tmp/ospay-bench-XXXXXX)

# Process stops (bench_stop, bench_cleanup), core pinning, waiting and /metrics.
# shellcheck source=bench/lib.sh
source bench/lib.sh
trap bench_cleanup EXIT

# ---- Webhooks over TLS vs nginx, idle RssAnon with 1,000,000 orders, and the Orders/Get
# charts: scripts of their own, each starting and stopping its own processes.
bash bench/webhooks.sh
bash bench/rss_idle.sh
bash bench/plot --out "${BENCH_OUT:-bench/out}"

# ---- Orders/List at 1,000 and 1,000,000 (in process)
"${srv_pin[@]}" "$build/bench/bench_orders_list" --orders 1000 --orders "$list_orders" \
	--dir "$dir"

# ---- ospayd, fresh (sets srv, rpc, https, token)
bench_ospayd_up "$dir/srv"

load=("${load_pin[@]}" "$build/bench/bench_loadgen" --conns "$conns" --inflight "$inflight"
	--duration "$secs" --warmup "$warm")

# Figure and reference alternate, $rounds times each, so that a burst of noise from the
# machine's other tenants hits one round rather than one side; the summary line gives
# the median of the rounds' ratios. cpu_ratio (the reference's CPU per frame or record
# over the server's CPU per call, from /proc and getrusage) is given beside the
# throughput ratio: it holds steady when other tenants take the cores away. For
# Create it leaves out the fsync waits, so it says how much of the gap is CPU.
summary() {
	jq -sc --arg bench "$1" --argjson target "$2" --argjson p99 "$3" '
		def median: sort | .[(length - 1) / 2 | floor];
		(map(.ratio) | median) as $ratio | (map(.p99_us) | median) as $p |
		{bench: $bench, rounds: length, ratios: map(.ratio), ratio: $ratio,
		 target_ratio: $target, p99_us: $p, cpu_ratio: (map(.cpu_ratio) | median)}
		+ (if $p99 > 0 then {target_p99_us: $p99} else {} end)
		+ {met: ($ratio >= $target and ($p99 == 0 or $p <= $p99))}'
}

# ---- Orders/Get vs the echo
: >"$dir/get.ratios"
for ((round = 1; round <= rounds; round++)); do
	get=$("${load[@]}" --addr "$rpc" --token "$token" --pid "$srv" --get-pct 100 \
		--seed "$seed" --label orders_get)
	echo "$get"
	req=$(jq .req_frame_bytes <<<"$get")
	resp=$(jq .resp_frame_bytes <<<"$get")
	"${srv_pin[@]}" "$build/bench/bench_ref_echo" --reply-bytes "$resp" >"$dir/echo.out" &
	echo_pid=$!
	bench_pids+=("$echo_pid")
	echo_addr=$(bench_wait_line "$dir/echo.out" '^listening' "$echo_pid" | sed 's/^listening //')
	echo_res=$("${load[@]}" --raw --addr "$echo_addr" --req-bytes "$req" --resp-bytes "$resp" \
		--pid "$echo_pid" --label ref_echo)
	echo "$echo_res"
	bench_stop "$echo_pid"
	jq -nc --argjson f "$get" --argjson r "$echo_res" --argjson round "$round" '
		($f.calls_per_s / $r.calls_per_s) as $ratio |
		{bench: "orders_get_vs_echo_round", round: $round, conns: $f.conns,
		 inflight: $f.inflight, figure_calls_per_s: $f.calls_per_s,
		 reference_frames_per_s: $r.calls_per_s, ratio: (($ratio * 1000 | round) / 1000),
		 p99_us: $f.p99_us, reference_p99_us: $r.p99_us,
		 cpu_ratio: (($r.server_cpu_per_call_us / $f.server_cpu_per_call_us * 1000 | round)
			/ 1000)}' | tee -a "$dir/get.ratios"
done
summary orders_get_vs_echo 0.25 2000 <"$dir/get.ratios"

# ---- Orders/Create (durable) vs the bare LMDB writer
: >"$dir/create.ratios"
for ((round = 1; round <= rounds; round++)); do
	commits0=$(bench_metric ospay_store_commits_total "$dir/srv")
	writes0=$(bench_metric ospay_store_writes_committed_total "$dir/srv")
	create=$("${load[@]}" --addr "$rpc" --token "$token" --pid "$srv" --get-pct 0 \
		--label orders_create)
	echo "$create"
	commits1=$(bench_metric ospay_store_commits_total "$dir/srv")
	writes1=$(bench_metric ospay_store_writes_committed_total "$dir/srv")
	# The server's own batch size in this round: mutations made durable per commit.
	commits=$((commits1 - commits0))
	batch=$(((writes1 - writes0 + commits / 2) / (commits > 0 ? commits : 1)))
	((batch >= 1)) || batch=1
	record=$(jq .order_record_bytes <<<"$create")
	# The reference's store grows across rounds as the server's does.
	lmdb=$("${srv_pin[@]}" "$build/bench/bench_ref_lmdb" --dir "$dir/lmdb" --batch "$batch" \
		--record-bytes "$record" --seconds "$secs")
	echo "$lmdb"
	jq -nc --argjson f "$create" --argjson r "$lmdb" --argjson c "$commits" \
		--argjson round "$round" '
		($f.calls_per_s / $r.records_per_s) as $ratio |
		{bench: "orders_create_vs_lmdb_round", round: $round, conns: $f.conns,
		 inflight: $f.inflight, figure_records_per_s: $f.calls_per_s,
		 reference_records_per_s: $r.records_per_s, server_commits: $c, batch: $r.batch,
		 ratio: (($ratio * 1000 | round) / 1000), p99_us: $f.p99_us,
		 cpu_ratio: (($r.cpu_per_record_us / $f.server_cpu_per_call_us * 1000 | round)
			/ 1000)}' |
		tee -a "$dir/create.ratios"
done
summary orders_create_vs_lmdb 0.5 0 <"$dir/create.ratios"
bench_stop "$srv"

# ---- The billing run vs a bare curl-multi client (its own ospayd and sandbox; two
# sizes, a tenth and the whole, for the run's memory flat in the number of invoices)
if [[ $quick == 1 ]]; then
	billing_sizes=200,2000
else
	billing_n=${BENCH_BILLING_N:-100000}
	billing_sizes=$((billing_n / 10)),$billing_n
fi
OSPAY_BUILD_DIR=$build BENCH_BILLING_SIZES=$billing_sizes bash bench/billing.sh
