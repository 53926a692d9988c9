#!/usr/bin/env bash
# Installs the Debian 12 packages ospay needs to build, test and lint — only the
# missing ones. Silent and fast (one dpkg-query) when everything is present.
#
#   OSPAY_NO_INSTALL=1   skip entirely (you manage packages yourself)
#   scripts/deps.sh fuzz also installs clang and its libFuzzer runtime (make fuzz)
#   scripts/deps.sh demo also installs jq (make demo reads the CLI's --json with it)
#
# Node.js and npm (only for `make lint`, which runs buf from package.json) are
# taken from PATH when present — NodeSource, nvm or /usr/local installs are not
# known to dpkg — and installed from Debian only when absent.
set -euo pipefail

if [[ "${OSPAY_NO_INSTALL:-0}" == 1 ]]; then
	exit 0
fi

pkgs=(
	build-essential cmake pkg-config
	libuv1-dev libprotobuf-c-dev protobuf-c-compiler node-llhttp
	libcurl4-openssl-dev liblmdb-dev libmbedtls-dev libjansson-dev libcriterion-dev libutf8proc-dev
	protobuf-compiler python3-protobuf
	php-cli php-curl
	curl openssl ca-certificates
	clang-format
)
if [[ "${1:-}" == fuzz ]]; then
	pkgs+=(clang libclang-rt-14-dev)
fi
if [[ "${1:-}" == demo ]]; then
	pkgs+=(jq)
fi
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps: no dpkg-query (not Debian?); install these yourself: ${pkgs[*]}" >&2
	exit 0
fi

# One line per known package: "NAME STATUS"; the second status letter is 'i' when
# the package is installed. Packages dpkg has never seen print nothing.
declare -A ok=()
while read -r name status; do
	[[ "${status:1:1}" == i ]] && ok["$name"]=1
done < <(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${pkgs[@]}" 2>/dev/null || true)

missing=()
for p in "${pkgs[@]}"; do
	[[ -n "${ok[$p]:-}" ]] || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
	exit 0
fi

sudo=()
if ((EUID != 0)); then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "deps: missing ${missing[*]}; run as root or install sudo" >&2
		exit 1
	fi
	sudo=(sudo)
fi

echo "deps: installing ${missing[*]}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o Dpkg::Use-Pty=0)
if ! "${apt[@]}" update >"$log" 2>&1 ||
	! "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
	cat "$log" >&2
	echo "deps: apt-get failed (full output above)" >&2
	exit 1
fi
echo "deps: done"
