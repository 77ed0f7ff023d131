#!/bin/bash
# bench/dns.sh: fzc's DNS stub resolver (issue 13, "Benchmark"), measured in
# one run in a private network namespace, with dnsperf as the application
# and dnsmasq as the upstream resolver:
#
#  * queries per second, with dnsperf keeping -w queries outstanding, for
#    `fzc-local` (names of a DNS resource, which fzc answers itself),
#    `fzc-fwd` (other names, which fzc forwards to the upstream),
#    `dnsmasq-fwd` (the same names through a dnsmasq that forwards to the
#    same upstream without caching, as fzc does not cache: the reference)
#    and `upstream` (the upstream asked directly, for scale);
#  * latency percentiles of the same four at a fixed, moderate rate (-Q),
#    from dnsperf's per-query report;
#  * fzc-controld's and fzc-tunneld's VmRSS idle and after 10,000
#    distinct resource names have been asked for (each name gets its proxy
#    IPs, routed into the tunnel, for the life of the process).
#
# The rows run interleaved, -r times. Run as root. The report goes to
# stdout, progress to stderr; -o FILE also writes the numbers as TSV.
# Nothing is asserted: the exit status is non-zero only when a setup step
# fails, and the message says which.
set -euo pipefail

usage() {
	cat <<EOF
usage: $0 [-q] [-t SECONDS] [-r REPS] [-w QUERIES] [-Q QPS] [-n NAMES]
          [-o FILE] [-b BUILDDIR] [-l LOGDIR]
  -q            quick check of the script: 2 s runs, 1 repetition, 1,000 names
  -t SECONDS    length of each dnsperf run (default 10)
  -r REPS       repetitions of every row (default 3)
  -w QUERIES    queries dnsperf keeps outstanding at full speed (default 100)
  -Q QPS        the rate of the latency runs (default 2000)
  -n NAMES      distinct resource names asked for the memory figure
                (default 10000)
  -o FILE       also write the results to FILE as TSV
  -b BUILDDIR   where fzc, fzc-tunneld and fzc-controld were built
                (default: \$FZC_BUILD, else build/plain, else the source tree)
  -l LOGDIR     keep the daemons' logs there
EOF
}

BENCH=dns.sh
. "$(dirname "$0")/lib.sh"
BUILD=
SECS=10
REPS=3
WINDOW=100
QPS=2000
NNAMES=10000
OUT=
LOGDIR=
while getopts "qt:r:w:Q:n:o:b:l:h" opt; do
	case $opt in
	q) SECS=2 REPS=1 NNAMES=1000 ;;
	t) SECS=$OPTARG ;;
	r) REPS=$OPTARG ;;
	w) WINDOW=$OPTARG ;;
	Q) QPS=$OPTARG ;;
	n) NNAMES=$OPTARG ;;
	o) OUT=$OPTARG ;;
	b) BUILD=$OPTARG ;;
	l) LOGDIR=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
for v in SECS REPS WINDOW QPS NNAMES; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] ||
	    { echo "$0: not a positive number: ${!v}" >&2; exit 2; }
done

PY=/usr/bin/python3      # Debian's, with python3-websockets: the stub's
STUB=$SRCDIR/tests/portal/stub_portal.py
TOKEN=bench-token-$$
UPSTREAM=10.53.0.53      # dnsmasq answering everything itself
REFERENCE=10.53.0.54     # dnsmasq forwarding to UPSTREAM, no cache
SENTINEL=100.100.111.1   # fzc's sentinel for UPSTREAM (PROTOCOL.md 4.6)
RES_ID=0f6a8c1e-5b8e-4d5f-9a3c-11a2b3c4d5e6
SITE_ID=5d1b0c9a-7e3f-4a21-8c6d-9e8f7a6b5c4d
GW_ID=77aa11bb-22cc-4d33-8e44-55ff66aa77bb

# --- prerequisites --------------------------------------------------------

bench_need_root "network namespace, TUN device"
bench_need_tools "iproute2 dnsmasq dnsperf" ip dnsmasq dnsperf awk sort
[ -x "$PY" ] || die "$PY not found (apt-get install -y python3 python3-websockets)"
"$PY" -c 'import websockets' 2>/dev/null ||
    die "$PY cannot import websockets (apt-get install -y python3-websockets)"
bench_build "$BUILD"
bench_outputs
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

NS=fzcdb-$$
bench_workdir
FZC_SOCK=$WORK/run/control.sock
FZC_LOG=$WORK/fzc.log
TUNNELD_PID=
PIDS=()

cleanup() {
	set +e
	trap - EXIT INT TERM HUP
	[ -n "$TUNNELD_PID" ] && bench_stop TERM "$TUNNELD_PID"
	[ ${#PIDS[@]} -gt 0 ] && bench_stop TERM "${PIDS[@]}"
	if [ -n "$LOGDIR" ]; then
		cp "$FZC_LOG" "$WORK"/*.log "$LOGDIR/" 2>/dev/null
	fi
	bench_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- setup ----------------------------------------------------------------

progress "network namespace $NS, dnsmasq upstream and reference"
bench_netns "$NS"
ip -n "$NS" link add up0 type veth peer name up1
ip -n "$NS" addr add "$UPSTREAM/24" dev up0
ip -n "$NS" addr add "$REFERENCE/24" dev up0
ip -n "$NS" link set up1 up
ip -n "$NS" link set up0 up
ip netns exec "$NS" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
    --user=root --pid-file= --bind-interfaces --listen-address="$UPSTREAM" \
    --address=/fwd.example.org/10.9.8.7 --dns-forward-max=1000 \
    --log-facility="$WORK/upstream.log" &
PIDS+=($!)
ip netns exec "$NS" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
    --user=root --pid-file= --bind-interfaces \
    --listen-address="$REFERENCE" --server="$UPSTREAM" --cache-size=0 \
    --dns-forward-max=1000 --log-facility="$WORK/reference.log" &
PIDS+=($!)

cat >"$WORK/scenario.json" <<JSON
{
  "sites": [{"id": "$SITE_ID", "name": "HQ"}],
  "interface": {"ipv4": "100.64.0.2", "ipv6": "fd00:2021:1111::2",
                "upstream_do53": [{"ip": "$UPSTREAM"}],
                "upstream_doh": []},
  "resources": [
    {"id": "$RES_ID", "type": "dns", "address": "*.corp.example.com",
     "name": "Corp", "address_description": null, "filters": [],
     "sites": [{"id": "$SITE_ID", "name": "HQ"}], "ip_stack": "dual"}
  ],
  "gateways": [{"id": "$GW_ID", "site_id": "$SITE_ID",
                "public_key": "xLeUfO5Lnz0pPj/xBmkAIb+9UjAZs/JHWIv4VggjpAQ=",
                "ipv4": "100.82.5.17", "ipv6": "fd00:2021:1111::3:9c4e",
                "version": "1.6.1", "online": true}]
}
JSON

progress "stub portal and fzc"
ip netns exec "$NS" "$PY" "$STUB" --plain --listen 127.0.0.1:0 \
    --token "$TOKEN" --scenario "$WORK/scenario.json" \
    --control "$WORK/stub.sock" >"$WORK/stub.out" 2>"$WORK/stub.log" &
PIDS+=($!)
end=$((SECONDS + 15))
until grep -q '^PORT ' "$WORK/stub.out"; do
	[ "$SECONDS" -lt "$end" ] || die "stub portal not listening: $(tail -3 "$WORK/stub.log")"
	sleep 0.05
done
PORT=$(awk '/^PORT /{print $2; exit}' "$WORK/stub.out")
(umask 077 && printf '%s\n' "$TOKEN" >"$WORK/token") || die "token file"
# The data plane's, which runs as fzc-tunneld.
chown fzc-tunneld: "$WORK/token" || die "token file"
ip netns exec "$NS" "$BUILD/fzc-tunneld" --controld "$BUILD/fzc-controld" \
    --control-socket "$FZC_SOCK" --state-dir "$WORK/state" \
    --token-file "$WORK/token" --api-url "ws://127.0.0.1:$PORT" \
    --name fzc-bench --log-level info --interface "fzdb$$" \
    2>"$FZC_LOG" &
TUNNELD_PID=$!

# dig_ok SERVER NAME: an A record comes back.
dig_ok() {
	ip netns exec "$NS" dnsperf -s "$1" -l 1 -n 1 -v \
	    -d <(echo "$2 A") 2>/dev/null | grep -q '^> NOERROR'
}
end=$((SECONDS + 30))
until dig_ok "$SENTINEL" a.fwd.example.org &&
    dig_ok "$SENTINEL" a.corp.example.com; do
	alive "$TUNNELD_PID" || die "fzc-tunneld exited: $(tail -5 "$FZC_LOG")"
	[ "$SECONDS" -lt "$end" ] ||
	    die "no answers from the sentinel after 30 s: $(tail -5 "$FZC_LOG")"
	sleep 0.2
done
dig_ok "$REFERENCE" a.fwd.example.org || die "the reference dnsmasq does not answer"
CPID=$("$BUILD/fzc" --control-socket "$FZC_SOCK" --json status |
    "$PY" -c 'import json,sys; print((json.load(sys.stdin).get("controld") or {}).get("pid",""))')
[ -n "$CPID" ] && [ -r "/proc/$CPID/status" ] ||
    die "no fzc-controld pid in fzc --json status"

# rss PID: VmRSS in KiB.
rss() {
	awk '/^VmRSS:/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0
}
RSS_IDLE=$(rss "$CPID")
TRSS_IDLE=$(rss "$TUNNELD_PID")

# The query files: 1,000 names of each kind, A and AAAA alternating.
"$PY" - "$WORK" <<'PY'
import sys
w = sys.argv[1]
for kind, zone in (("local", "corp.example.com"), ("fwd", "fwd.example.org")):
    with open(f"{w}/{kind}.txt", "w") as f:
        for i in range(1000):
            f.write(f"n{i}.{zone} {'A' if i % 2 == 0 else 'AAAA'}\n")
PY

# --- measurements ---------------------------------------------------------

ROWS=(fzc-local fzc-fwd dnsmasq-fwd upstream)
declare -A SERVER=([fzc-local]=$SENTINEL [fzc-fwd]=$SENTINEL
    [dnsmasq-fwd]=$REFERENCE [upstream]=$UPSTREAM)
declare -A FILE=([fzc-local]=local [fzc-fwd]=fwd [dnsmasq-fwd]=fwd
    [upstream]=fwd)
declare -A QPSV LOST P50 P99 P999

# perf ROW: dnsperf at full speed; appends "qps lost%" to QPSV[ROW].
perf() {
	local out qps lost
	out=$(ip netns exec "$NS" dnsperf -s "${SERVER[$1]}" -l "$SECS" \
	    -c 4 -q "$WINDOW" -d "$WORK/${FILE[$1]}.txt" 2>&1) || true
	qps=$(awk '/Queries per second:/{print $4}' <<<"$out")
	lost=$(awk '/Queries lost:/{gsub(/[()%]/, "", $4); print $4}' <<<"$out")
	QPSV[$1]+="${qps:-0} "
	LOST[$1]+="${lost:-100} "
}

# lat ROW: dnsperf at QPS; appends the 50th, 99th and 99.9th percentile
# of the per-query latencies, in ms.
lat() {
	local p
	p=$(ip netns exec "$NS" dnsperf -s "${SERVER[$1]}" -l "$SECS" \
	    -Q "$QPS" -d "$WORK/${FILE[$1]}.txt" -v 2>/dev/null |
	    awk '/^> /{print $NF * 1000}' | sort -g | awk '
	    { v[NR] = $1 }
	    END {
		if (NR == 0) { print "- - -"; exit }
		i50 = int(NR * 0.50); i99 = int(NR * 0.99); i999 = int(NR * 0.999)
		if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1; if (i999 < 1) i999 = 1
		printf "%.3f %.3f %.3f\n", v[i50], v[i99], v[i999]
	    }')
	read -r a b c <<<"$p"
	P50[$1]+="$a "
	P99[$1]+="$b "
	P999[$1]+="$c "
}

for rep in $(seq "$REPS"); do
	for row in "${ROWS[@]}"; do
		progress "rep $rep/$REPS: $row, ${SECS} s at full speed"
		perf "$row"
	done
	for row in "${ROWS[@]}"; do
		progress "rep $rep/$REPS: $row, ${SECS} s at $QPS queries/s"
		lat "$row"
	done
done

progress "$NNAMES distinct resource names, each asked once"
"$PY" - "$WORK" "$NNAMES" <<'PY'
import sys
with open(f"{sys.argv[1]}/many.txt", "w") as f:
    for i in range(int(sys.argv[2])):
        f.write(f"m{i}.corp.example.com A\n")
PY
MANY=$(ip netns exec "$NS" dnsperf -s "$SENTINEL" -n 1 -q 50 \
    -d "$WORK/many.txt" 2>&1 | awk '/Queries completed:/{print $3}')
sleep 1
RSS_MANY=$(rss "$CPID")
TRSS_MANY=$(rss "$TUNNELD_PID")
NAMES_KEPT=$("$BUILD/fzc" --control-socket "$FZC_SOCK" --json resources |
    "$PY" -c 'import json,sys
print(sum(len(r.get("names", [])) for r in json.load(sys.stdin)["resources"]))')
CPID_END=$("$BUILD/fzc" --control-socket "$FZC_SOCK" --json status |
    "$PY" -c 'import json,sys; print((json.load(sys.stdin).get("controld") or {}).get("pid",""))')

bench_stop TERM "$TUNNELD_PID"
TUNNELD_END=${STOPPED[$TUNNELD_PID]}
TUNNELD_PID=

# --- report ---------------------------------------------------------------

# med WORDS: "median min max" of numbers.
med() {
	tr ' ' '\n' <<<"$1" | grep -v '^$' | grep -v '^-$' | sort -g | awk '
	    { v[NR] = $1 }
	    END {
		if (NR == 0) { print "- - -"; exit }
		printf "%s %s %s\n", v[int((NR + 1) / 2)], v[1], v[NR]
	    }'
}

echo "fzc DNS benchmark: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load at start $LOAD_START"
echo "$REPS repetitions, ${SECS} s each; full speed: dnsperf -c 4 -q $WINDOW; latency: -Q $QPS"
echo
printf '%-12s %22s %10s %8s %18s %18s %18s\n' row "queries/s (range)" \
    "vs dnsmasq" "lost %" "p50 ms (range)" "p99 ms (range)" "p99.9 ms"
read -r REF_Q _ _ < <(med "${QPSV[dnsmasq-fwd]}")
TSV=()
for row in "${ROWS[@]}"; do
	read -r q qmin qmax < <(med "${QPSV[$row]}")
	read -r l _ _ < <(med "${LOST[$row]}")
	read -r p50 p50min p50max < <(med "${P50[$row]}")
	read -r p99 p99min p99max < <(med "${P99[$row]}")
	read -r p999 _ _ < <(med "${P999[$row]}")
	ratio=$(awk -v a="$q" -v b="$REF_Q" 'BEGIN{ if (b > 0) printf "%.2fx", a/b; else print "-" }')
	printf '%-12s %8.0f (%5.0f-%5.0f) %10s %8s %6s (%s-%s) %6s (%s-%s) %18s\n' \
	    "$row" "$q" "$qmin" "$qmax" "$ratio" "$l" "$p50" "$p50min" \
	    "$p50max" "$p99" "$p99min" "$p99max" "$p999"
	TSV+=("$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s' "$row" "$q" "$ratio" \
	    "$l" "$p50" "$p99" "$p999")")
done
echo
printf 'fzc-controld VmRSS: %.1f MiB idle, %.1f MiB after %s of %s distinct resource names answered (%s names kept)\n' \
    "$(awk -v k="$RSS_IDLE" 'BEGIN{print k/1024}')" \
    "$(awk -v k="$RSS_MANY" 'BEGIN{print k/1024}')" "${MANY:-0}" \
    "$NNAMES" "$NAMES_KEPT"
printf 'fzc-tunneld VmRSS (data plane): %.1f MiB idle, %.1f MiB after them\n' \
    "$(awk -v k="$TRSS_IDLE" 'BEGIN{print k/1024}')" \
    "$(awk -v k="$TRSS_MANY" 'BEGIN{print k/1024}')"
TSV+=("$(printf 'controld_rss_kib\t%s\t%s\t%s' "$RSS_IDLE" "$RSS_MANY" "$NNAMES")")
TSV+=("$(printf 'tunneld_rss_kib\t%s\t%s\t%s' "$TRSS_IDLE" "$TRSS_MANY" "$NNAMES")")

[ "$CPID_END" = "$CPID" ] ||
    note "fzc-controld was restarted during the run (pid $CPID, then $CPID_END): the memory figure is of a new process"
case $TUNNELD_END in
0) ;;
killed) note "fzc-tunneld still running 5 s after SIGTERM, killed" ;;
*) note "fzc-tunneld ended with $TUNNELD_END" ;;
esac
if grep -qE '^<[0-4]>' "$FZC_LOG"; then
	note "fzc log, warnings and errors (count, text):"
	while IFS= read -r l; do
		NOTES+=("    $l")
	done < <(grep -E '^<[0-4]>' "$FZC_LOG" | sed 's/^<[0-9]>//' |
	    sort | uniq -c | sort -rn | head -8 | sed 's/^ *//')
fi
note "the time from a first query for a DNS resource to its first byte through a fresh authorization: bench/e2e.sh -p first-dns (it needs a gateway)"
note "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "Notes:"
for n in "${NOTES[@]}"; do
	echo "  $n"
done
if [ -n "$OUT" ]; then
	printf '%s\n' "${TSV[@]}" >"$OUT"
fi
