#!/bin/bash
# bench/gateway_firewall.sh: the gateway's firewall under a burst of
# authorizations (issue 16, "Gateway firewall without blocking").
#
# fzc-tunneld --role gateway runs in a network namespace of its own with
# bench/gateway_controld.py in place of fzc-controld; that stand-in gives
# it tunnel addresses and then authorizes CLIENTS clients (default 1000)
# at once, each for 10.20.0.0/16 with tcp/443 and ICMP (two set elements
# a client), while it times a probe message every 10 ms. Reported, per
# build (-B names an older one to run first, for before and after in one
# run):
#   all acked     seconds from the first authorization sent to the last
#                 acknowledged; tunneld acknowledges an authorization once
#                 its set elements are in place (before the runner: after
#                 its own nft run; with it: after the transaction that
#                 carries it), so this is when the last client's rules
#                 were in
#   in place      seconds until `nft list` shows every client in the sets
#                 port4 and icmp4 at once (polled every 0.2 s); "-" when
#                 that never happened, with a note why (ICE gives a client
#                 without candidates up after 10 s, and its rules go)
#   nft runs      nft processes started (debug lines of the log; "-" for a
#                 build without them)
#   probe max/p50 the answer time of the probes (IPC_ACCESS_DEL of a pair
#                 tunneld does not know, answered at once): how long a
#                 message from controld waited while tunneld was busy
#   loop blocked  the longest lateness of a 50 ms timer in tunneld (its
#                 debug log; "-" for a build without it): how long the
#                 event loop served nothing else, ICE and handshakes
#                 included
#   table gone    the table was removed when tunneld exited on SIGTERM
# Run as root. The numbers are reported, never judged: the exit status is
# non-zero only when a setup step fails.
set -euo pipefail

usage() {
	cat <<EOF
usage: $0 [-n CLIENTS] [-b BUILDDIR] [-B BUILDDIR] [-l LOGDIR]
  -n CLIENTS  clients authorized at once (default 1000, at most 1024)
  -b BUILDDIR where fzc-tunneld was built (default: \$FZC_BUILD, else
              build/plain, else the source tree)
  -B BUILDDIR an older build to measure first, as "before"
  -l LOGDIR   keep tunneld's logs and the stand-in's figures there
EOF
}

BENCH=gateway_firewall.sh
. "$(dirname "$0")/lib.sh"
BUILD=
BEFORE=
LOGDIR=
CLIENTS=1000
while getopts "n:b:B:l:h" opt; do
	case $opt in
	n) CLIENTS=$OPTARG ;;
	b) BUILD=$OPTARG ;;
	B) BEFORE=$OPTARG ;;
	l) LOGDIR=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
[[ $CLIENTS =~ ^[0-9]+$ ]] && [ "$CLIENTS" -ge 1 ] &&
    [ "$CLIENTS" -le 1024 ] || { usage >&2; exit 2; }

bench_need_root "network namespaces, TUN, nftables"
bench_need_tools "nftables iproute2 python3" nft ip python3
if [ -n "$BEFORE" ]; then
	[ -x "$BEFORE/fzc-tunneld" ] || die "no $BEFORE/fzc-tunneld"
	BEFORE=$(cd "$BEFORE" && pwd)
fi
bench_build "$BUILD"
bench_outputs
bench_workdir

TPID=
cleanup() {
	set +e
	trap - EXIT INT TERM HUP
	[ -z "$TPID" ] || bench_stop KILL "$TPID"
	bench_cleanup
}
trap cleanup EXIT
trap 'echo "gateway_firewall.sh: interrupted" >&2; exit 130' INT TERM HUP

TABLE=fzc_fzcg0

# count NS SET: the clients (100.65.x.y) among the elements of SET.
count() {
	{ ip netns exec "$1" nft list set inet "$TABLE" "$2" 2>/dev/null ||
	    true; } | grep -o '100\.65\.[0-9]*\.[0-9]*' | sort -u | wc -l
}

now() {
	date +%s.%N
}

# run NAME BUILDDIR: one measurement; appends a row to ROWS.
ROWS=()
run() {
	local name=$1 build=$2 dir=$WORK/$1 ns=fzcbench$$-$1
	local out=$dir/figures.json log=$dir/tunneld.log start t_place=-
	local end runs blocked gone most n4 acked_at=
	mkdir -p "$dir/run"
	chmod 755 "$dir"
	echo bench-token >"$dir/token"
	chmod 600 "$dir/token"
	install -m 666 /dev/null "$out"
	# tunneld execs this as it would fzc-controld, as the user fzc.
	cat >"$dir/controld" <<EOF
#!/bin/sh
exec /usr/bin/python3 "$SRCDIR/bench/gateway_controld.py" \\
    "$SRCDIR/ipc/ipc.h" "$out" $CLIENTS
EOF
	chmod 755 "$dir/controld"
	bench_netns "$ns"
	progress "$name: $build/fzc-tunneld, $CLIENTS clients"
	ip netns exec "$ns" "$build/fzc-tunneld" --role gateway \
	    --interface fzcg0 --controld "$dir/controld" \
	    --control-socket "$dir/run/control.sock" --log-level debug \
	    --state-dir "$dir/state" --token-file "$dir/token" 2>"$log" &
	TPID=$!
	wait_until 30 ip netns exec "$ns" nft list table inet "$TABLE" \
	    >/dev/null 2>&1 || die "$name: no table; log: $(tail -5 "$log")"
	# Until all are in, or 3 s after the last acknowledgement.
	end=$((SECONDS + 1800))
	most=0
	while [ "$SECONDS" -lt "$end" ]; do
		n4=$(count "$ns" port4)
		[ "$n4" -le "$most" ] || most=$n4
		if [ "$n4" = "$CLIENTS" ] &&
		    [ "$(count "$ns" icmp4)" = "$CLIENTS" ]; then
			t_place=$(now)
			break
		fi
		alive "$TPID" || die "$name: tunneld exited: $(tail -5 "$log")"
		if [ -z "$acked_at" ] && grep -q clients "$out"; then
			acked_at=$SECONDS
		fi
		[ -z "$acked_at" ] || [ "$SECONDS" -lt $((acked_at + 3)) ] ||
		    break
		sleep 0.2
	done
	wait_until 600 grep -q clients "$out" ||
	    die "$name: the stand-in gave no figures: $(cat "$out")"
	if [ "$t_place" = - ]; then
		note "$name: never all in place: at most $most clients at once in port4; $(grep -c 'connection failed; dropped' "$log") clients dropped when ICE gave up (10 s without a candidate pair) before the last was added"
	fi
	bench_stop TERM "$TPID"
	[ "${STOPPED[$TPID]}" = 0 ] ||
	    note "$name: tunneld ended: ${STOPPED[$TPID]}"
	TPID=
	gone=yes
	ip netns exec "$ns" nft list table inet "$TABLE" >/dev/null 2>&1 &&
	    gone=no
	# Lines only builds with the runner write.
	if grep -q 'nft transaction' "$log"; then
		runs=$(grep -c 'nft transaction' "$log")
		blocked=$({ grep -o 'event loop blocked for [0-9.]*' "$log" ||
		    true; } | awk '{ if ($5 > m) m = $5 }
		    END { print m == "" ? "<0.050" : m }')
	else
		runs=-
		blocked=-
	fi
	[ "$t_place" = - ] || t_place=$(python3 -c "
import json, sys
f = json.load(open(sys.argv[1]))
print('%.1f' % (float(sys.argv[2]) - f['started']))" "$out" "$t_place")
	ROWS+=("$(python3 -c '
import json, sys
f = json.load(open(sys.argv[1]))
if "error" in f:
    print(sys.argv[2], "error:", f["error"])
    sys.exit()
r = lambda v: "-" if v is None else "%.3f" % v
print("%-7s %7d %7d %6d %10s %9s %7s %10s %10s %10s %5s" % (sys.argv[2],
      f["clients"], f["acked"], f["errors"], r(f["all_acked_s"]),
      sys.argv[3], sys.argv[4], r(f["probe_max_s"]), r(f["probe_p50_s"]),
      sys.argv[5], sys.argv[6]))' "$out" "$name" "$t_place" "$runs" \
	    "$blocked" "$gone")")
	grep -q 'nft refused' "$log" &&
	    note "$name: $(grep -m1 'nft refused' "$log")"
	if [ -n "$LOGDIR" ]; then
		cp "$log" "$LOGDIR/tunneld-$name.log"
		cp "$out" "$LOGDIR/figures-$name.json"
	fi
	ip netns del "$ns"
	BENCH_NETNS=()
}

[ -z "$BEFORE" ] || run before "$BEFORE"
run after "$BUILD"

echo "# gateway firewall: $CLIENTS clients authorized at once; seconds"
echo "# $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(nft --version)"
printf '%-7s %7s %7s %6s %10s %9s %7s %10s %10s %10s %5s\n' build clients \
    acked errors "all acked" "in place" "nft runs" "probe max" \
    "probe p50" "loop block" "table gone"
printf '%s\n' "${ROWS[@]}"
for n in "${NOTES[@]+"${NOTES[@]}"}"; do
	echo "# note: $n"
done
