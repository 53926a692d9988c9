#!/usr/bin/env bash
# make bench: runs every benchmark and prints one JSON line per result.
# The full load harness of SPEC 8 (issue 7) is not written yet; this runs what exists:
#   bench_orders_list   Orders/List page time at 1,000 and 1,000,000 stored orders.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${OSPAY_BUILD_DIR:-build}
dir=$(mktemp -d /tmp/ospay-bench-XXXXXX)
trap 'rm -rf "$dir"' EXIT
# Pinned to one core when taskset exists, so the other core's noise matters less.
pin=()
command -v taskset >/dev/null && pin=(taskset -c 0)
"${pin[@]}" "$build/bench/bench_orders_list" --orders 1000 --orders 1000000 --dir "$dir"
