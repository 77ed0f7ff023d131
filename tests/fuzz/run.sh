#!/bin/sh
#
# tests/fuzz/run.sh [SECONDS [HARNESS...]]: build every libFuzzer harness in
# tests/fuzz/ (or the ones named, e.g. fuzz_ws) with clang and run each for
# SECONDS (default 10) on a temporary copy of its seed corpus.  Nothing is written into the repository.  Prints
# "PASS: fuzz_x (N runs)" or "FAIL: fuzz_x ..." per harness, then
# "N passed, N failed"; exits non-zero if any harness failed.
#
# CC (default clang-14, else clang) and FUZZ_KEEP=1 (keep the temp dir)
# may be set in the environment.

set -u

secs=${1:-10}
[ $# -gt 0 ] && shift
case $secs in
''|*[!0-9]*)
	echo "usage: $0 [SECONDS [HARNESS...]]" >&2
	exit 2
	;;
esac

top=$(cd "$(dirname "$0")/../.." && pwd) || exit 2
cd "$top" || exit 2

if [ -z "${CC:-}" ]; then
	if command -v clang-14 >/dev/null 2>&1; then
		CC=clang-14
	else
		CC=clang
	fi
fi

passed=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fzc-fuzz.XXXXXX") || exit 2
if [ "${FUZZ_KEEP:-0}" != 1 ]; then
	# Kept when something failed: the reproducers live there.
	trap 'if [ "$failed" -eq 0 ]; then rm -rf "$tmp"; else
	    echo "reproducers kept in $tmp" >&2; fi' EXIT
fi

CFLAGS="-std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined
    -fno-sanitize-recover=undefined -I."

# The libraries each harness links, by pkg-config name.
pkgs() {
	case $1 in
	fuzz_ipc|fuzz_firewall|fuzz_dns_tcp)	echo "" ;;
	fuzz_wgconf)	echo "libsodium" ;;
	fuzz_stun|fuzz_turn|fuzz_ice)	echo "libcrypto zlib" ;;
	fuzz_wg)	echo "libsodium libb2 libcrypto" ;;
	fuzz_portal)	echo "jansson libsodium libcrypto" ;;
	fuzz_dns_stub)	echo "ldns jansson" ;;
	fuzz_dns_remote)	echo "ldns" ;;
	fuzz_ws)	echo "libcurl libevent libcrypto" ;;
	fuzz_ipc_seq)	echo "libsodium libevent libsystemd" ;;
	fuzz_p2p)	echo "jansson" ;;
	esac
}

# What pkg-config does not know (Debian's wslay has no .pc file), and the
# sources a harness links rather than includes.
extra_libs() {
	case $1 in
	fuzz_ws)	echo "-lwslay" ;;
	fuzz_dns_stub)	echo "ipc/ipc.c" ;;
	fuzz_ipc_seq)	echo "ipc/ipc.c common/log.c common/util.c" \
	    "common/timer.c tunneld/role.c tunneld/role_settings.c" \
	    "tunneld/client.c tunneld/gateway.c tunneld/sysdns.c" \
	    "tunneld/p2p.c tunneld/dnat.c" ;;
	esac
}

if [ $# -gt 0 ]; then
	srcs=$(for h in "$@"; do echo "tests/fuzz/$h.c"; done)
else
	srcs=$(ls tests/fuzz/fuzz_*.c)
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

for src in $srcs; do
	if [ ! -f "$src" ]; then
		echo "FAIL: $src: no such harness"
		failed=$((failed + 1))
		continue
	fi
	name=$(basename "$src" .c)
	bin="$tmp/bin/$name"
	log="$tmp/log/$name.log"
	art="$tmp/artifacts/$name"
	corp="$tmp/corpus/$name"
	mkdir -p "$tmp/bin" "$tmp/log" "$art" "$corp"

	# shellcheck disable=SC2046,SC2086
	if ! $CC $CFLAGS -o "$bin" "$src" $(pkgs "$name" |
	    xargs -r pkg-config --cflags --libs) $(extra_libs "$name") \
	    >"$tmp/log/$name.build" 2>&1
	then
		echo "FAIL: $name (build failed, see $tmp/log/$name.build)"
		cat "$tmp/log/$name.build" >&2
		failed=$((failed + 1))
		continue
	fi
	if [ -d "tests/fuzz/corpus/$name" ]; then
		cp -R "tests/fuzz/corpus/$name/." "$corp/"
	fi

	"$bin" -max_total_time="$secs" -timeout=30 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$art/" "$corp" \
	    >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
	    tail -n 1)
	repro=$(ls "$art" 2>/dev/null | head -n 1)
	if [ "$rc" -eq 0 ] && [ -z "$repro" ]; then
		echo "PASS: $name (${runs:-0} runs)"
		passed=$((passed + 1))
	else
		if [ -n "$repro" ]; then
			echo "FAIL: $name (exit $rc): reproducer $art/$repro," \
			    "log $log"
		else
			echo "FAIL: $name (exit $rc): no reproducer, log $log"
		fi
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|    #[0-9] )' \
		    "$log" | head -n 20 >&2
		failed=$((failed + 1))
	fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
