#!/usr/bin/env bash
# The billing-run benchmark (docs/spec.md 8, issue 7; run by bench/run.sh, or on its own):
#   BENCH_BILLING_SIZES=10000,100000 bash bench/billing.sh
# Starts ospay-sandbox and a fresh ospayd on the test clock, points the organization's
# Cielo at the sandbox with automatic recurrence on, and runs bench_billing: customers
# with a card (tokenized at the sandbox) and a recurring service, then for each size N
# (ascending, one day apart) N invoices due that day and a measured Billing/RunNow.
# For each size, bench_ref_curl (a bare curl-multi client) sends N of the same Cielo
# sales to the same sandbox, as many in flight as the run's bound, once before the runs
# and once after them (so a burst of the machine's other tenants hits one side less),
# and a line gives the ratio of the run's charges/s to the mean of its two requests/s
# (docs/spec.md 8: >= 0.5), with the server's RssAnon before and at its peak during the run
# (flat in N).
# ospayd and bench_ref_curl (what is measured) run on core 0; the sandbox and the
# load on core 1. The sandbox's capture webhooks are dropped at the sandbox (a
# webhook fault), so both sides pay the same sandbox work; webhook intake is the
# webhook benchmark's. Every process started here is stopped by its pid.
#   BENCH_BILLING_SIZES      sizes, ascending (10000,100000)
#   BENCH_BILLING_CUSTOMERS  customers, each with a card and a service (default: the
#                            largest size, at most 100,000; past that a customer has
#                            several invoices due the same day, each charged on its own)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${OSPAY_BUILD_DIR:-build}
sizes=${BENCH_BILLING_SIZES:-10000,100000}
largest=${sizes##*,}
customers=${BENCH_BILLING_CUSTOMERS:-$((largest < 100000 ? largest : 100000))}
# 09:00 on 2026-01-05 in the organization's UTC-03:00: every size's day is whole.
clock=2026-01-05T12:00:00Z date0=2026-01-05
dir=$(mktemp -d /tmp/ospay-bench-billing-XXXXXX)

# shellcheck source=bench/lib.sh
source bench/lib.sh
trap bench_cleanup EXIT

umask 077
"$build/ospayd" init --data "$dir/srv" >"$dir/init.json"
token=$(jq -r .admin_token.token "$dir/init.json")
org=$(jq -r .organization.id "$dir/init.json")
unit=$(jq -r .unit.id "$dir/init.json")
# Info lines (one per attempt) go to a file, as a deployment's would.
"${srv_pin[@]}" "$build/ospayd" serve --data "$dir/srv" --rpc 127.0.0.1:0 \
	--https 127.0.0.1:0 --allow-private-gateways --test-clock "$clock" >"$dir/srv.out" 2>"$dir/srv.log" &
srv=$!
bench_pids+=("$srv")
line=$(bench_wait_line "$dir/srv.out" '^listening' "$srv")
rpc=$(sed -n 's/.*rpc=\([^ ]*\).*/\1/p' <<<"$line")
https=$(sed -n 's/.*https=\([^ ]*\).*/\1/p' <<<"$line")

"${load_pin[@]}" "$build/ospay-sandbox" --listen 127.0.0.1:0 --log-level warn \
	--webhook-base "https://$https" --webhook-ca "$dir/srv/tls.crt" \
	>"$dir/sbx.out" 2>"$dir/sbx.log" &
sbx=$!
bench_pids+=("$sbx")
sb=http://$(bench_wait_line "$dir/sbx.out" '^listening' "$sbx" | sed 's/^listening //')

# Throwaway credentials of this run, registered at the sandbox and given to ospayd on
# standard input (never argv).
r() { head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
mid=mid-$(r) mkey=mkey-$(r) hook=$(r)
curl -fsS -XPOST "$sb/control/orgs/$org/cielo" -d "{\"merchant_id\":\"$mid\",
	\"merchant_key\":\"$mkey\",\"notification_headers\":{\"X-Cielo-Hook\":\"$hook\"}}" >/dev/null
curl -fsS -XPOST "$sb/control/webhook-faults" -d '{"service":"cielo","kind":"drop"}' >/dev/null
echo "{\"merchant_id\":\"$mid\",\"merchant_key\":\"$mkey\",\"webhook_headers\":{\"X-Cielo-Hook\":\"$hook\"}}" |
	OSPAY_ADDR=$rpc OSPAY_TOKEN=$token "$build/ospay" gateways set cielo --base-url "$sb/cielo" \
		--credentials - --allow-automatic-recurrence >/dev/null

# The reference: N sales at the run's bound in flight (printed, and kept per size).
limit=$(curl -sS --cacert "$dir/srv/tls.crt" -H "Authorization: Bearer $(cat "$dir/srv/metrics.token")" "https://$https/metrics" |
	awk '$1 == "ospay_billing_in_flight_limit" { print $2 }')
ref() {
	BENCH_CIELO_MERCHANT_ID=$mid BENCH_CIELO_MERCHANT_KEY=$mkey "${srv_pin[@]}" \
		"$build/bench/bench_ref_curl" --url "$sb/cielo" --count "$1" --concurrency "$limit" \
		</dev/null | tee -a "$dir/ref-$1.json"
}
for n in ${sizes//,/ }; do
	ref "$n"
done

"${load_pin[@]}" "$build/bench/bench_billing" --addr "$rpc" --token "$token" --unit "$unit" \
	--pid "$srv" --date "$date0" --sizes "$sizes" --customers "$customers" \
	--metrics "https://$https/metrics" --cacert "$dir/srv/tls.crt" \
	--metrics-token-file "$dir/srv/metrics.token" >"$dir/runs.json"
cat "$dir/runs.json"

first=$(head -n1 "$dir/runs.json")
while read -r run; do
	n=$(jq .invoices <<<"$run")
	ref "$n"
	ref=$(jq -sc '{requests_per_s: (map(.requests_per_s) | add / length * 10 | round / 10),
		client_cpu_per_request_us: (map(.client_cpu_per_request_us) | add / length),
		rounds: map(.requests_per_s)}' "$dir/ref-$n.json")
	# Memory flat in N: the run's growth over RssAnon before it, beside the smallest size's.
	jq -nc --argjson f "$run" --argjson r "$ref" --argjson s "$first" '
		($f.charges_per_s / $r.requests_per_s) as $ratio |
		{bench: "billing_run_vs_curl", invoices: $f.invoices, wall_s: $f.wall_s,
		 charges_per_s: $f.charges_per_s, reference_requests_per_s: $r.requests_per_s,
		 reference_rounds: $r.rounds,
		 ratio: (($ratio * 1000 | round) / 1000), target_ratio: 0.5,
		 cpu_ratio: (if $f.server_cpu_per_charge_us > 0 then
			($r.client_cpu_per_request_us / $f.server_cpu_per_charge_us * 1000 | round)
			/ 1000 else null end),
		 in_flight_max: $f.in_flight_max, calls_in_flight_max: $f.calls_in_flight_max,
		 in_flight_limit: $f.in_flight_limit, writes_per_commit: $f.writes_per_commit,
		 commit_share: (($f.commit_s / $f.wall_s * 1000 | round) / 1000),
		 rss_anon_before_kb: $f.rss_anon_before_kb, rss_anon_peak_kb: $f.rss_anon_peak_kb,
		 rss_anon_growth_kb: ($f.rss_anon_peak_kb - $f.rss_anon_before_kb),
		 smallest: {invoices: $s.invoices,
			rss_anon_growth_kb: ($s.rss_anon_peak_kb - $s.rss_anon_before_kb)},
		 met: ($ratio >= 0.5)}'
done <"$dir/runs.json"
bench_stop "$sbx"
bench_stop "$srv"
