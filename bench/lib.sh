# shellcheck shell=bash disable=SC2034  # sourced: the variables are for the caller
# Helpers for the bench scripts (bench/run.sh, and those that also run on their
# own: bench/webhooks.sh, bench/rss_idle.sh, bench/plot): sourced, never run. The caller sets $dir (a
# scratch directory it removes) and calls bench_cleanup from its EXIT trap.
# Every process started through bench_start is stopped by its pid.

build=${OSPAY_BUILD_DIR:-build}
bench_pids=()

# Server and references on core 0, load on core 1, when taskset and two cores exist.
srv_pin=() load_pin=()
if command -v taskset >/dev/null && [[ $(nproc) -ge 2 ]]; then
	srv_pin=(taskset -c 0) load_pin=(taskset -c 1)
fi

# SIGTERM, then SIGKILL after 10 s; only processes this script started.
bench_stop() {
	local p=$1 i
	kill -TERM "$p" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	# Forgotten once stopped, so cleanup never signals a reused pid.
	local keep=() q
	for q in "${bench_pids[@]}"; do
		[[ $q == "$p" ]] || keep+=("$q")
	done
	bench_pids=(${keep[@]+"${keep[@]}"})
}

bench_cleanup() {
	local p
	for p in ${bench_pids[@]+"${bench_pids[@]}"}; do
		bench_stop "$p"
	done
	[[ -n ${dir:-} ]] && rm -rf "$dir"
}

# Waits (10 s at most) for a line matching $2 in file $1 written by pid $3; prints it.
bench_wait_line() {
	local f=$1 pat=$2 p=$3 i
	for ((i = 0; i < 100; i++)); do
		if grep -q "$pat" "$f" 2>/dev/null; then
			grep -m1 "$pat" "$f"
			return 0
		fi
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	echo "bench: no '$pat' in $f" >&2
	return 1
}

# A fresh ospayd in $1 (pinned to the server core), extra serve arguments after it.
# Sets srv (pid), rpc, https, token, org.
bench_ospayd_up() {
	local d=$1 init line
	shift
	init=$("$build/ospayd" init --data "$d")
	token=$(jq -r .admin_token.token <<<"$init")
	org=$(jq -r .organization.id <<<"$init")
	bench_ospayd_start "$d" "$@"
}

# Starts ospayd on an existing data directory $1; sets srv, rpc, https.
bench_ospayd_start() {
	local d=$1 line
	shift
	"${srv_pin[@]}" "$build/ospayd" serve --data "$d" --rpc 127.0.0.1:0 \
		--https 127.0.0.1:0 --allow-private-gateways "$@" >"$d.out" 2>"$d.log" &
	srv=$!
	bench_pids+=("$srv")
	line=$(bench_wait_line "$d.out" '^listening' "$srv")
	rpc=$(sed -n 's/.*rpc=\([^ ]*\).*/\1/p' <<<"$line")
	https=$(sed -n 's/.*https=\([^ ]*\).*/\1/p' <<<"$line")
}

# One counter of ospayd's /metrics ($2: the data directory, for its certificate).
bench_metric() {
	curl -sS --cacert "$2/tls.crt" -H "Authorization: Bearer $(cat "$2/metrics.token")" "https://$https/metrics" |
		awk -v m="$1" '$1 == m { print $2 }'
}

# RssAnon of pid $1 in KiB.
bench_rss_anon_kb() {
	awk '$1 == "RssAnon:" { print $2 }' "/proc/$1/status"
}
