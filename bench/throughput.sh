#!/bin/bash
# bench/throughput.sh: TCP throughput through fzc, through wireguard-go and
# over a bare veth, side by side in one run (issue 3, "Benchmark"; issue
# 14, "The benchmark tells the truth").
#
# Two network namespaces, A and B, joined by a veth pair; one tunnel at a
# time between them, inner MTU 1280; iperf3 from A to B ("fwd") and from B
# to A ("rev", iperf3 -R). The rows run interleaved, REPS times over, and
# each measurement waits for a quiet CPU first. Run as root. Prints a table
# of medians and ranges on stdout; -o FILE also writes every repetition as
# TSV. The numbers are reported, never judged: the exit status is non-zero
# only when a setup step fails.
set -euo pipefail

usage() {
	cat <<EOF
usage: $0 [-q] [-t SECONDS] [-r REPS] [-R ROWS] [-Q PCT] [-W SECONDS] [-o FILE]
          [-b BUILDDIR] [-l LOGDIR] [--wireguard-go PATH]...
          [--baseline BUILDDIR]
  -t SECONDS  length of each iperf3 run (default 10)
  -r REPS     repetitions of every row, interleaved (default 3)
  -R ROWS     only these rows, comma-separated (default: all; names as in
              the TSV: bare, wggo, wggoN, fzc-wggo, fzc-t1, fzc-t2,
              fzc-t2-base, fzc-t2-nooffload, fzc-t4)
  -Q PCT      a quiet CPU: at most PCT % of all CPUs busy over 1 s before
              each run (default 10)
  -W SECONDS  the longest wait for a quiet CPU before a run (default 60);
              a run measured on a busy CPU gets a note
  -q          quick check of the script: 2 s runs, 1 stream, 1 repetition
  -o FILE     also write the results to FILE as TSV, one line a repetition
  -b BUILDDIR where fzc, fzc-tunneld and fzc-controld were built
              (default: \$FZC_BUILD, else build/plain, else the source tree)
  -l LOGDIR   keep the daemons' logs, fzc status and iperf3 JSON there
  --wireguard-go PATH
              another wireguard-go binary (a newer build): adds a row of it
              against itself; repeatable
  --baseline BUILDDIR
              another build of fzc (of an earlier commit, say): adds the row
              fzc-t2-base, that build's fzc -t2 <-> itself, for a before and
              after measured in one run
EOF
}

BENCH=throughput.sh
. "$(dirname "$0")/lib.sh"
BUILD=
DURATION=
REPS=
QUICK=0
OUT=
LOGDIR=
ONLY=
QUIET_PCT=10
QUIET_WAIT=60
# WGGO[0] is Debian's, on the PATH; the others come from --wireguard-go.
WGGO=(wireguard-go)
BASE=
ARGS=()
while [ $# -gt 0 ]; do
	case $1 in
	--wireguard-go)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		WGGO+=("$2")
		shift 2
		;;
	--wireguard-go=*)
		WGGO+=("${1#*=}")
		shift
		;;
	--baseline)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		BASE=$2
		shift 2
		;;
	--baseline=*)
		BASE=${1#*=}
		shift
		;;
	--help) usage; exit 0 ;;
	*) ARGS+=("$1"); shift ;;
	esac
done
set -- ${ARGS[@]+"${ARGS[@]}"}
while getopts "t:r:R:Q:W:o:b:l:qh" opt; do
	case $opt in
	t) DURATION=$OPTARG ;;
	r) REPS=$OPTARG ;;
	R) ONLY=$OPTARG ;;
	Q) QUIET_PCT=$OPTARG ;;
	W) QUIET_WAIT=$OPTARG ;;
	q) QUICK=1 ;;
	o) OUT=$OPTARG ;;
	b) BUILD=$OPTARG ;;
	l) LOGDIR=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || { usage >&2; exit 2; }
if [ "$QUICK" = 1 ]; then
	DURATION=${DURATION:-2} REPS=${REPS:-1} STREAMS=(1)
else
	DURATION=${DURATION:-10} REPS=${REPS:-3} STREAMS=(1 4)
fi
[[ $DURATION =~ ^[1-9][0-9]*$ ]] || { echo "-t: not a number of seconds: $DURATION" >&2; exit 2; }
[[ $REPS =~ ^[1-9][0-9]*$ ]] || { echo "-r: not a number: $REPS" >&2; exit 2; }
[[ $QUIET_PCT =~ ^[0-9]+$ ]] || { echo "-Q: not a percentage: $QUIET_PCT" >&2; exit 2; }
[[ $QUIET_WAIT =~ ^[0-9]+$ ]] || { echo "-W: not a number of seconds: $QUIET_WAIT" >&2; exit 2; }
for ((i = 1; i < ${#WGGO[@]}; i++)); do
	[ -x "${WGGO[$i]}" ] ||
	    { echo "--wireguard-go: not an executable: ${WGGO[$i]}" >&2; exit 2; }
	WGGO[i]=$(cd "$(dirname "${WGGO[$i]}")" && pwd)/$(basename "${WGGO[$i]}")
done
if [ -n "$BASE" ]; then
	for f in fzc fzc-tunneld fzc-controld; do
		[ -x "$BASE/$f" ] ||
		    { echo "--baseline: no $BASE/$f" >&2; exit 2; }
	done
	BASE=$(cd "$BASE" && pwd)
fi

# --- prerequisites --------------------------------------------------------

bench_need_root "network namespaces, TUN"
bench_need_tools "wireguard-go wireguard-tools iperf3 iproute2 iputils-ping jq ethtool" \
    ip ss ping iperf3 wireguard-go wg jq awk timeout ethtool
bench_build "$BUILD"
bench_outputs
CLK_TCK=$(getconf CLK_TCK)

# --- resources, and their removal on any exit ----------------------------

# $$ in every name: wireguard-go's socket directory is shared by all
# namespaces, and several runs may coexist.
TAG=$$
NS_A=fzcb-$TAG-a
NS_B=fzcb-$TAG-b
VETH_A=fzbv${TAG}a
VETH_B=fzbv${TAG}b
TUN_A=fzbt${TAG}a
TUN_B=fzbt${TAG}b
VETH_ADDR_A=10.88.0.1
VETH_ADDR_B=10.88.0.2
INNER_A=10.99.0.1
INNER_B=10.99.0.2
WG_PORT=51820
IPERF_PORT=5299
MTU=1280

bench_workdir
ROW_PIDS=()      # every daemon of the current row, stopped at its end
TUNNEL_PIDS=()   # whose CPU time is charged to the tunnel
TUNNELD_PIDS=()  # fzc-tunneld processes, for RSS (A first)
FZC_DIRS=()      # the fzc instances of the current row
declare -A DIR_BUILD # the build each of them runs
declare -A PID_NAME  # daemons of the current row whose exit status matters
declare -A PID_LOG   # and their logs
ROW=             # the current row, for notes
IPERF_SPID=      # the iperf3 server of the current run

teardown_row() {
	local ns dev
	local pid rc st
	if [ -n "$IPERF_SPID" ]; then
		bench_stop TERM "$IPERF_SPID"
		IPERF_SPID=
	fi
	if [ ${#ROW_PIDS[@]} -gt 0 ]; then
		bench_stop TERM "${ROW_PIDS[@]}"
	fi
	# A daemon that does not stop cleanly on SIGTERM is worth a note.
	for pid in "${!PID_NAME[@]}"; do
		st=${STOPPED[$pid]:-?}
		rc=${st#gone:}
		if [[ $rc =~ ^[0-9]+$ ]] && [ "$rc" -gt 128 ]; then
			rc="$rc (signal $(kill -l $((rc - 128))))"
		fi
		if [ "$st" = killed ]; then
			note "$ROW: ${PID_NAME[$pid]} still running 5 s after SIGTERM, killed"
		elif [[ $st == gone:* ]]; then
			note "$ROW: ${PID_NAME[$pid]} (pid $pid) had exited with status $rc before the end of the row; its log ends: $(tail -n 4 "${PID_LOG[$pid]}" | tr '\n' '|')"
		elif [ "$rc" != 0 ]; then
			note "$ROW: ${PID_NAME[$pid]} exited with status $rc after SIGTERM"
		fi
	done
	PID_NAME=()
	PID_LOG=()
	# Normally gone with their daemons; make sure for the next row.
	for ns in "${BENCH_NETNS[@]}"; do
		for dev in "$TUN_A" "$TUN_B"; do
			ip -n "$ns" link del "$dev" 2>/dev/null || true
		done
	done
	rm -f "/var/run/wireguard/$TUN_A.sock" "/var/run/wireguard/$TUN_B.sock"
	ROW_PIDS=()
	TUNNEL_PIDS=()
	TUNNELD_PIDS=()
	FZC_DIRS=()
}

cleanup() {
	set +e
	trap - EXIT INT TERM HUP
	teardown_row
	bench_cleanup
}
trap cleanup EXIT
trap 'echo "throughput.sh: interrupted" >&2; exit 130' INT TERM HUP

# --- the two namespaces and the veth pair ---------------------------------

progress "setting up namespaces $NS_A and $NS_B in $WORK"
bench_netns "$NS_A" "$NS_B"
ip link add "$VETH_A" netns "$NS_A" type veth peer name "$VETH_B" \
    netns "$NS_B" || die "veth pair $VETH_A/$VETH_B"
{
	ip -n "$NS_A" addr add "$VETH_ADDR_A/24" dev "$VETH_A" &&
	    ip -n "$NS_B" addr add "$VETH_ADDR_B/24" dev "$VETH_B" &&
	    ip -n "$NS_A" link set "$VETH_A" up &&
	    ip -n "$NS_B" link set "$VETH_B" up
} || die "veth addresses and link up"
wait_until 5 ip netns exec "$NS_A" ping -c 1 -W 1 "$VETH_ADDR_B" ||
    die "no ping over the bare veth"

# One key pair per side and a shared PSK, used by whichever implementation
# runs on that side.
(
	umask 077
	wg genkey >"$WORK/key-a" && wg pubkey <"$WORK/key-a" >"$WORK/pub-a" &&
	    wg genkey >"$WORK/key-b" && wg pubkey <"$WORK/key-b" >"$WORK/pub-b" &&
	    wg genpsk >"$WORK/psk"
) || die "key generation (wg genkey)"

# side_vars SIDE: the namespace, names and addresses of side a or b.
side_vars() {
	if [ "$1" = a ]; then
		S_NS=$NS_A S_TUN=$TUN_A S_INNER=$INNER_A
		P_INNER=$INNER_B P_VETH=$VETH_ADDR_B P=b
	else
		S_NS=$NS_B S_TUN=$TUN_B S_INNER=$INNER_B
		P_INNER=$INNER_A P_VETH=$VETH_ADDR_A P=a
	fi
}

# start_wggo ROW SIDE BIN: wireguard-go BIN on SIDE, configured with wg(8).
start_wggo() {
	local row=$1 side=$2 bin=$3 log pid
	side_vars "$side"
	log=$WORK/$row-r$REP-wireguard-go-$side.log
	# ip netns exec and env exec in turn: $! is wireguard-go itself.
	ip netns exec "$S_NS" env WG_PROCESS_FOREGROUND=1 "$bin" \
	    "$S_TUN" >"$log" 2>&1 &
	pid=$!
	ROW_PIDS+=("$pid")
	TUNNEL_PIDS+=("$pid")
	PID_NAME[$pid]="wireguard-go ($side)"
	PID_LOG[$pid]=$log
	wait_until 5 test -S "/var/run/wireguard/$S_TUN.sock" ||
	    die "$row: wireguard-go ($side) has no UAPI socket after 5 s: $(tail -3 "$log")"
	ip netns exec "$S_NS" wg set "$S_TUN" private-key "$WORK/key-$side" \
	    listen-port "$WG_PORT" peer "$(cat "$WORK/pub-$P")" \
	    preshared-key "$WORK/psk" allowed-ips "$P_INNER/32" \
	    endpoint "$P_VETH:$WG_PORT" || die "$row: wg set ($side)"
	{
		ip -n "$S_NS" addr add "$S_INNER/24" dev "$S_TUN" &&
		    ip -n "$S_NS" link set "$S_TUN" mtu "$MTU" up
	} || die "$row: address, MTU, up of $S_TUN ($side)"
}

# fzc_cli DIR ARGS...: the fzc of the build that instance DIR runs.
fzc_cli() {
	local dir=$1
	shift
	"${DIR_BUILD[$dir]}/fzc" --control-socket "$dir/run/control.sock" "$@"
}

# start_fzc ROW SIDE THREADS OFFLOAD BUILD: fzc-tunneld of BUILD in plain
# WireGuard mode on SIDE; OFFLOAD 0 turns its TUN offloads off
# (FZC_OFFLOAD=0).
start_fzc() {
	local row=$1 side=$2 threads=$3 offload=$4 build=$5 dir pid cpid
	side_vars "$side"
	dir=$WORK/$row-r$REP-fzc-$side
	mkdir -p "$dir"
	chmod 755 "$dir"
	DIR_BUILD[$dir]=$build
	(
		umask 077
		cat >"$dir/wg.conf" <<EOF
[Interface]
PrivateKey = $(cat "$WORK/key-$side")
Address = $S_INNER/24
ListenPort = $WG_PORT
MTU = $MTU

[Peer]
PublicKey = $(cat "$WORK/pub-$P")
PresharedKey = $(cat "$WORK/psk")
Endpoint = $P_VETH:$WG_PORT
AllowedIPs = $P_INNER/32
EOF
	) || die "$row: writing $dir/wg.conf"
	ip netns exec "$S_NS" env FZC_OFFLOAD="$offload" \
	    "$build/fzc-tunneld" --wireguard "$dir/wg.conf" \
	    --interface "$S_TUN" --threads "$threads" \
	    --controld "$build/fzc-controld" \
	    --control-socket "$dir/run/control.sock" >"$dir/tunneld.log" 2>&1 &
	pid=$!
	ROW_PIDS+=("$pid")
	TUNNELD_PIDS+=("$pid")
	FZC_DIRS+=("$dir")
	PID_NAME[$pid]="fzc-tunneld ($side)"
	PID_LOG[$pid]=$dir/tunneld.log
	wait_until 10 fzc_cli "$dir" status ||
	    die "$row: fzc-tunneld ($side) not answering on its control socket after 10 s: $(tail -3 "$dir/tunneld.log")"
	wait_until 10 grep -q "$S_TUN is up" "$dir/tunneld.log" ||
	    die "$row: fzc-tunneld ($side) did not bring $S_TUN up in 10 s: $(tail -3 "$dir/tunneld.log")"
	cpid=$(fzc_cli "$dir" --json status | jq -er .controld.pid) ||
	    die "$row: no controld pid in fzc status ($side)"
	TUNNEL_PIDS+=("$pid" "$cpid")
}

# status_kib PID FIELD: a /proc/PID/status field in KiB.
status_kib() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null ||
	    true
}

# --- measurements ---------------------------------------------------------

# tun_drops: packets the tunnel devices of both sides dropped (TX: the
# kernel found the device's queue full, i.e. the tunnel process did not
# read fast enough; RX: the process wrote what the kernel refused).
tun_drops() {
	local ns dev total=0 n
	for ns in "$NS_A" "$NS_B"; do
		for dev in "$TUN_A" "$TUN_B"; do
			n=$(ip -n "$ns" -j -s link show dev "$dev" 2>/dev/null |
			    jq '.[0].stats64 | .tx.dropped + .rx.dropped') ||
			    continue
			total=$((total + n))
		done
	done
	echo "$total"
}

# udp_rcvbuf_errors: UDP datagrams dropped for a full receive buffer, both
# namespaces together (/proc/net/snmp is per namespace). The overflow that
# makes wireguard-go lose packets shows here.
udp_rcvbuf_errors() {
	local ns total=0 n
	for ns in "$NS_A" "$NS_B"; do
		n=$(ip netns exec "$ns" cat /proc/net/snmp | awk '$1 == "Udp:" {
		    if (!h) { for (i = 2; i <= NF; i++) if ($i == "RcvbufErrors") c = i; h = 1 }
		    else print $c }')
		total=$((total + n))
	done
	echo "$total"
}

# cpu_busy_pct: the percentage of all CPUs busy (anything but idle and
# iowait, /proc/stat) over the next second.
cpu_busy_pct() {
	local -a a b
	read -r -a a </proc/stat
	sleep 1
	read -r -a b </proc/stat
	awk -v a="${a[*]:1:8}" -v b="${b[*]:1:8}" 'BEGIN {
	    split(a, x); split(b, y)
	    for (i = 1; i <= 8; i++) t += y[i] - x[i]
	    idle = y[4] - x[4] + y[5] - x[5]
	    printf "%d", (t > 0 ? 100 * (t - idle) / t + 0.5 : 0) }'
}

# wait_quiet KEY: waits until at most QUIET_PCT % of the CPUs are busy
# (the tunnel is idle then: what is busy is someone else), at most
# QUIET_WAIT s; BUSY[KEY] is the last reading, noted if still too high.
wait_quiet() {
	local key=$1 busy end=$((SECONDS + QUIET_WAIT))
	while :; do
		busy=$(cpu_busy_pct)
		[ "$busy" -le "$QUIET_PCT" ] && break
		if [ "$SECONDS" -ge "$end" ]; then
			note "${key//|/ }: CPU still ${busy}% busy after ${QUIET_WAIT} s of waiting (threshold ${QUIET_PCT}%): measured anyway"
			break
		fi
	done
	BUSY[$key]=$busy
}

# offloads SIDE: the offloads ethtool -k shows on SIDE's tunnel device.
offloads() {
	side_vars "$1"
	ip netns exec "$S_NS" ethtool -k "$S_TUN" 2>/dev/null | awk '
	    $2 != "on" { next }
	    $1 == "tx-checksumming:" { o = o " csum" }
	    $1 == "tx-tcp-segmentation:" { o = o " tso4" }
	    $1 == "tx-tcp6-segmentation:" { o = o " tso6" }
	    $1 == "tx-udp-segmentation:" { o = o " uso" }
	    END { sub(/^ /, "", o); print o == "" ? "none" : o }'
}

# fzc_reorders: the reorderings the workers of the current row's fzc
# instances counted so far (a received counter below the greatest its
# keypair had accepted), both sides together; empty for a row without fzc.
fzc_reorders() {
	local dir n total=0
	[ ${#FZC_DIRS[@]} -gt 0 ] || return 0
	for dir in "${FZC_DIRS[@]}"; do
		n=$(fzc_cli "$dir" --json status 2>/dev/null |
		    jq -e '[.workers[].reorders] | add // 0') || return 0
		total=$((total + n))
	done
	echo "$total"
}

gone() {
	! alive "$1"
}

iperf_listening() {
	[ -n "$(ip netns exec "$NS_B" ss -Htln "sport = :$IPERF_PORT")" ]
}

declare -A GBPS RETR BYTES CPUS CPUGB HWM IDLE UDPDROP TUNDROP BUSY OFFL REORD

# measure ROW DIR STREAMS TARGET: one iperf3 run from A to TARGET in B,
# repetition REP.
measure() {
	local row=$1 dir=$2 streams=$3 target=$4 key json sjson spid
	local c0 c1 u0 d0 r0 r1 rev=() pid hwm
	key="$row|$dir|$streams|$REP"
	json=$WORK/$row-r$REP-$dir-P$streams.json
	sjson=$WORK/$row-r$REP-$dir-P$streams-server.json
	[ "$dir" = rev ] && rev=(-R)
	for pid in "${ROW_PIDS[@]}"; do
		if ! alive "$pid"; then
			progress "$row: $dir, $streams stream(s): skipped, tunnel process $pid is gone"
			GBPS[$key]=ERR
			return 0
		fi
	done
	ip netns exec "$NS_B" iperf3 -s -1 -p "$IPERF_PORT" --json \
	    >"$sjson" 2>&1 &
	spid=$!
	IPERF_SPID=$spid
	wait_until 5 iperf_listening ||
	    die "$row: iperf3 server not listening after 5 s"
	wait_quiet "$key"
	progress "$row: $dir, $streams stream(s), ${DURATION}s, repetition $REP of $REPS (CPU ${BUSY[$key]}% busy before)"
	# The peak is per run: clear_refs 5 resets VmHWM to the current RSS.
	for pid in "${TUNNELD_PIDS[@]}"; do
		{ echo 5 >"/proc/$pid/clear_refs"; } 2>/dev/null || true
	done
	u0=$(udp_rcvbuf_errors)
	d0=$(tun_drops)
	r0=$(fzc_reorders)
	c0=0
	if [ ${#TUNNEL_PIDS[@]} -gt 0 ]; then
		c0=$(cpu_ticks "${TUNNEL_PIDS[@]}") ||
		    { note "$row: a tunnel process is gone"; c0=; }
	fi
	if ! timeout $((DURATION + 30)) ip netns exec "$NS_A" iperf3 \
	    -c "$target" -p "$IPERF_PORT" -t "$DURATION" -P "$streams" \
	    "${rev[@]}" --json >"$json" 2>&1; then
		note "$row $dir P$streams rep $REP: iperf3 failed: $(jq -r '.error // empty' "$json" 2>/dev/null || tail -1 "$json")"
		[ -z "$LOGDIR" ] || cp "$json" "$LOGDIR/" 2>/dev/null || true
		bench_stop TERM "$spid"
		IPERF_SPID=
		GBPS[$key]=ERR
		return 0
	fi
	c1=0
	if [ ${#TUNNEL_PIDS[@]} -gt 0 ] && [ -n "$c0" ]; then
		c1=$(cpu_ticks "${TUNNEL_PIDS[@]}") ||
		    { note "$row: a tunnel process is gone"; c1=; }
	fi
	UDPDROP[$key]=$(($(udp_rcvbuf_errors) - u0))
	r1=$(fzc_reorders)
	[ -z "$r0" ] || [ -z "$r1" ] || REORD[$key]=$((r1 - r0))
	[ "$row" = bare ] || TUNDROP[$key]=$(($(tun_drops) - d0))
	# The larger peak of the two sides.
	for pid in "${TUNNELD_PIDS[@]}"; do
		hwm=$(status_kib "$pid" VmHWM)
		[ -z "$hwm" ] || [ "$hwm" -le "${HWM[$key]:-0}" ] ||
		    HWM[$key]=$hwm
	done
	# The one-off server exits by itself once it has written its JSON.
	wait_until 5 gone "$spid" || true
	bench_stop TERM "$spid"
	IPERF_SPID=
	# Receiver's rate and byte count; the sender's retransmits (iperf3
	# reports the server's with -R).
	GBPS[$key]=$(jq -r '(.end.sum_received.bits_per_second // empty) / 1e9' "$json")
	if [ -z "${GBPS[$key]}" ]; then
		note "$row $dir P$streams rep $REP: no result in iperf3's JSON"
		GBPS[$key]=ERR
		return 0
	fi
	BYTES[$key]=$(jq -r '.end.sum_received.bytes' "$json")
	RETR[$key]=$(jq -r '.end.sum_sent.retransmits // "-"' "$json")
	if [ ${#TUNNEL_PIDS[@]} -gt 0 ] && [ -n "$c0" ] && [ -n "$c1" ]; then
		CPUS[$key]=$(awk -v t=$((c1 - c0)) -v hz="$CLK_TCK" \
		    'BEGIN { printf "%.2f", t / hz }')
		CPUGB[$key]=$(awk -v s="${CPUS[$key]}" -v b="${BYTES[$key]}" \
		    'BEGIN { if (b > 0) printf "%.2f", s / (b / 1e9); else print "-" }')
	fi
	if [ -n "$LOGDIR" ]; then
		cp "$json" "$sjson" "$LOGDIR/" 2>/dev/null || true
	fi
	sleep 1 # let queues drain and timers settle between runs
}

# fzc_notes ROW: what fzc's own counters and log say about the row.
fzc_notes() {
	local row=$1 dir side st summary bad
	for dir in "${FZC_DIRS[@]}"; do
		side=${dir##*-}
		if ! st=$(fzc_cli "$dir" --json status 2>&1); then
			note "$row: fzc ($side) status failed: $st"
			continue
		fi
		[ -z "$LOGDIR" ] || echo "$st" >"$LOGDIR/$row-r$REP-fzc-$side-status.json"
		summary=$(echo "$st" | jq -r '
		    .workers as $w |
		    def tot(f): [$w[] | f] | add;
		    "tx \(tot(.tx_packets)) pkts in \(tot(.tx_syscalls)) syscalls, "
		    + "rx \(tot(.rx_packets)) pkts in \(tot(.rx_syscalls)) syscalls, "
		    + "per worker tx \([$w[] | .tx_packets]) rx \([$w[] | .rx_packets]), "
		    + "reorders \(tot(.reorders)), drops "
		    + ([$w[].drops | to_entries[]] | group_by(.key)
		       | map({key: .[0].key, value: (map(.value) | add)})
		       | map(select(.value > 0)) | from_entries | tostring)')
		note "$row rep $REP: fzc ($side): $summary"
		# <3> error, <4> warning (journald prefixes).
		bad=$(grep -E '^<[0-4]>' "$dir/tunneld.log" | sort | uniq -c |
		    sort -rn | head -5 || true)
		if [ -n "$bad" ]; then
			note "$row rep $REP: fzc ($side) log errors/warnings:
$bad"
		fi
		if [ -n "$LOGDIR" ]; then
			fzc_cli "$dir" peers >"$LOGDIR/$row-r$REP-fzc-$side-peers.txt" 2>&1 ||
			    true
		fi
	done
}

# start_side ROW SIDE KIND: KIND is wggoN (WGGO[N]), fzc-tT (T threads),
# fzc-tT-nooffload or fzc-tT-base (the --baseline build).
start_side() {
	local row=$1 side=$2 kind=$3 threads offload=1 build=$BUILD
	case $kind in
	wggo*)
		start_wggo "$row" "$side" "${WGGO[${kind#wggo}]}"
		;;
	fzc-t*)
		threads=${kind#fzc-t}
		if [[ $threads == *-nooffload ]]; then
			threads=${threads%-nooffload}
			offload=0
		elif [[ $threads == *-base ]]; then
			threads=${threads%-base}
			build=$BASE
		fi
		start_fzc "$row" "$side" "$threads" "$offload" "$build"
		;;
	esac
}

# run_row ROW: one repetition (REP) of ROW, as ROW_KA/ROW_KB define it.
run_row() {
	local row=$1 target=$INNER_B dir streams pid side o
	ROW=$row
	progress "$row: setting up (${ROW_NAME[$row]}), repetition $REP of $REPS"
	if [ "${ROW_KA[$row]}" = bare ]; then
		target=$VETH_ADDR_B
	else
		start_side "$row" a "${ROW_KA[$row]}"
		start_side "$row" b "${ROW_KB[$row]}"
		# The first ping starts the handshake; allow a retry or two.
		wait_until 15 ip netns exec "$NS_A" ping -c 1 -W 1 "$INNER_B" ||
		    die "$row: no ping through the tunnel in 15 s"
		wait_until 5 ip netns exec "$NS_B" ping -c 1 -W 1 "$INNER_A" ||
		    die "$row: no ping back through the tunnel in 5 s"
		OFFL[$row]="$(offloads a) | $(offloads b)"
		# Idle: after setup and handshake, before the bulk traffic.
		sleep 1
		for pid in "${TUNNELD_PIDS[@]}"; do
			o=$(status_kib "$pid" VmRSS)
			[ -z "$o" ] || [ "$o" -le "${IDLE[$row]:-0}" ] ||
			    IDLE[$row]=$o
		done
	fi
	for streams in "${STREAMS[@]}"; do
		for dir in fwd rev; do
			measure "$row" "$dir" "$streams" "$target"
		done
	done
	for pid in "${ROW_PIDS[@]}"; do
		alive "$pid" ||
		    note "$row rep $REP: ${PID_NAME[$pid]} (pid $pid) died during the row"
	done
	# Counters of the last repetition only, to keep the notes short.
	if [ ${#FZC_DIRS[@]} -gt 0 ] && [ "$REP" = "$REPS" ]; then
		fzc_notes "$row"
	fi
	teardown_row
	# After teardown, so that the logs include the shutdown.
	if [ -n "$LOGDIR" ]; then
		for side in a b; do
			cp "$WORK/$row-r$REP-fzc-$side/tunneld.log" \
			    "$LOGDIR/$row-r$REP-fzc-$side-tunneld.log" 2>/dev/null ||
			    true
			cp "$WORK/$row-r$REP-wireguard-go-$side.log" "$LOGDIR/" \
			    2>/dev/null || true
		done
	fi
}

# The rows: id, name, kind on A, kind on B. wggo is the reference.
ROWS=()
declare -A ROW_NAME ROW_KA ROW_KB
add_row() {
	if [ -n "$ONLY" ] && [[ ,$ONLY, != *,$1,* ]]; then
		return
	fi
	ROWS+=("$1")
	ROW_NAME[$1]=$2 ROW_KA[$1]=$3 ROW_KB[$1]=$4
}

# wggo_version BIN
wggo_version() {
	"$1" --version 2>&1 | awk '{ print $2; exit }'
}

add_row bare "bare veth (no tunnel)" bare bare
add_row wggo "wireguard-go <-> itself" wggo0 wggo0
for ((i = 1; i < ${#WGGO[@]}; i++)); do
	add_row "wggo$i" "wg-go $(wggo_version "${WGGO[$i]}") <-> itself" \
	    "wggo$i" "wggo$i"
done
add_row fzc-wggo "fzc -t2 <-> wireguard-go" fzc-t2 wggo0
add_row fzc-t1 "fzc <-> fzc --threads 1" fzc-t1 fzc-t1
add_row fzc-t2 "fzc <-> fzc --threads 2" fzc-t2 fzc-t2
[ -z "$BASE" ] ||
    add_row fzc-t2-base "fzc -t2, baseline build" fzc-t2-base fzc-t2-base
add_row fzc-t2-nooffload "fzc -t2, FZC_OFFLOAD=0" fzc-t2-nooffload \
    fzc-t2-nooffload
add_row fzc-t4 "fzc <-> fzc --threads 4" fzc-t4 fzc-t4
[ ${#ROWS[@]} -gt 0 ] || { echo "-R: no such rows: $ONLY" >&2; exit 2; }

START_DATE=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
# Interleaved: a slow spell of the machine hits every row alike.
for ((REP = 1; REP <= REPS; REP++)); do
	for row in "${ROWS[@]}"; do
		run_row "$row"
	done
done

# --- report ---------------------------------------------------------------

mib() {
	[ -n "${1:-}" ] || { echo -; return; }
	awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'
}

# stats FORMAT: "median min-max" of the numeric values on stdin, one a
# line, in FORMAT ("-" when there are none); one value prints alone.
stats() {
	awk -v f="$1" '
	    $1 ~ /^[0-9.]+$/ { v[n++] = $1 }
	    END {
		if (n == 0) { print "-"; exit }
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++)
				if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		m = n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
		if (n == 1) printf f "\n", m
		else printf f " " f "-" f "\n", m, v[0], v[n - 1] }'
}

# values ARRAY ROW DIR STREAMS: the repetitions' values of one cell.
values() {
	local -n arr=$1
	local r
	for ((r = 1; r <= REPS; r++)); do
		echo "${arr[$2|$3|$4|$r]:-}"
	done
}

median() {
	stats "$1" | cut -d' ' -f1
}

header() {
	local i
	echo "fzc throughput benchmark, $START_DATE"
	echo "kernel $(uname -r), $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), load average $START_LOAD at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
	echo "fzc $(git -C "$SRCDIR" describe --always --dirty 2>/dev/null || echo unknown) from $BUILD; $(iperf3 --version | head -1 | cut -d' ' -f1-2)"
	[ -z "$BASE" ] ||
	    echo "baseline: fzc $(git -C "$BASE" describe --always --dirty 2>/dev/null || echo unknown) from $BASE"
	echo "wireguard-go: $(wggo_version wireguard-go) ($(command -v wireguard-go), the reference)"
	for ((i = 1; i < ${#WGGO[@]}; i++)); do
		echo "wg-go $(wggo_version "${WGGO[$i]}") (${WGGO[$i]})"
	done
	echo "iperf3 TCP ${DURATION}s per run, A -> B (fwd) and B -> A (rev, -R); inner MTU $MTU; $REPS repetitions, rows interleaved; fzc -t2 <-> wireguard-go: fzc on A (the iperf3 client side)"
	echo "quiet CPU before each run: at most $QUIET_PCT% busy (waited up to $QUIET_WAIT s); busy before the runs: $(printf '%s\n' "${BUSY[@]}" | stats '%d%%' | sed 's/^/median /; s/ \([0-9]\)/, range \1/')"
}

{
	header
	echo
	printf '%-28s %-3s %1s %-19s %5s %-15s %-16s %5s %5s %7s %6s %-15s\n' \
	    "" "" "" "" "ratio" "TCP" "tunnel" "RSS" "RSS" "UDP" "TUN" "fzc"
	printf '%-28s %-3s %1s %-19s %5s %-15s %-16s %5s %5s %7s %6s %-15s\n' \
	    "row" "dir" "P" "Gbit/s median range" "to ref" "retrans" \
	    "CPU s/GB" "peak" "idle" "rcvbuf" "drops" "reorders"
	for row in "${ROWS[@]}"; do
		for streams in "${STREAMS[@]}"; do
			for dir in fwd rev; do
				mapfile -t g < <(values GBPS "$row" "$dir" "$streams")
				mapfile -t ref < <(values GBPS wggo "$dir" "$streams")
				gm=$(printf '%s\n' "${g[@]}" | median '%.3f')
				rm_=$(printf '%s\n' "${ref[@]}" | median '%.3f')
				ratio=$(awk -v g="$gm" -v r="$rm_" 'BEGIN {
				    if (g == "-" || r == "-" || r == 0) print "-";
				    else printf "%.2f", g / r }')
				peak=$(values HWM "$row" "$dir" "$streams" | sort -n | tail -1)
				printf '%-28s %-3s %1s %-19s %5s %-15s %-16s %5s %5s %7s %6s %-15s\n' \
				    "${ROW_NAME[$row]}" "$dir" "$streams" \
				    "$(printf '%s\n' "${g[@]}" | stats '%.3f')" \
				    "$ratio" \
				    "$(values RETR "$row" "$dir" "$streams" | stats '%d')" \
				    "$(values CPUGB "$row" "$dir" "$streams" | stats '%.2f')" \
				    "$(mib "$peak")" "$(mib "${IDLE[$row]:-}")" \
				    "$(values UDPDROP "$row" "$dir" "$streams" | median '%d')" \
				    "$(values TUNDROP "$row" "$dir" "$streams" | median '%d')" \
				    "$(values REORD "$row" "$dir" "$streams" | stats '%d')"
			done
		done
	done
	echo
	echo "Gbit/s: receiver side, median and range of the repetitions (ERR"
	echo "runs left out; see the notes). retrans: sender side. CPU s/GB:"
	echo "utime+stime of the tunnel processes of both sides (all threads; fzc:"
	echo "tunneld and controld) per 10^9 bytes received. RSS peak: the largest"
	echo "VmHWM of fzc-tunneld (MiB) during any run; idle: VmRSS after the"
	echo "handshake, before iperf3 (the larger side). UDP rcvbuf: datagrams"
	echo "dropped for a full socket receive buffer, both namespaces. TUN drops:"
	echo "packets dropped by the tunnel devices of both sides (RX + TX); both"
	echo "medians. fzc reorders: received counters below the greatest one"
	echo "their keypair had accepted, both sides, median and range (fzc rows"
	echo "only)."
	echo
	echo "offloads on each side's tunnel device (ethtool -k; A | B):"
	for row in "${ROWS[@]}"; do
		[ -z "${OFFL[$row]:-}" ] ||
		    printf '  %-28s %s\n' "${ROW_NAME[$row]}" "${OFFL[$row]}"
	done
	if [ ${#NOTES[@]} -gt 0 ]; then
		echo
		echo "notes:"
		for n in "${NOTES[@]}"; do
			echo "  $n"
		done
	fi
}

if [ -n "$OUT" ]; then
	{
		header | sed 's/^/# /'
		printf 'row\trepetition\tdirection\tstreams\tduration_s\tgbit_s\tretransmits\tbytes_received\ttunnel_cpu_s\tcpu_s_per_gb\tpeak_rss_kib\tidle_rss_kib\tudp_rcvbuf_errors\ttun_drops\tcpu_busy_pct_before\toffloads\tfzc_reorders\n'
		for row in "${ROWS[@]}"; do
			for ((REP = 1; REP <= REPS; REP++)); do
				for streams in "${STREAMS[@]}"; do
					for dir in fwd rev; do
						key="$row|$dir|$streams|$REP"
						printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
						    "$row" "$REP" "$dir" "$streams" "$DURATION" \
						    "${GBPS[$key]:-ERR}" "${RETR[$key]:--}" \
						    "${BYTES[$key]:--}" "${CPUS[$key]:--}" \
						    "${CPUGB[$key]:--}" "${HWM[$key]:--}" \
						    "${IDLE[$row]:--}" "${UDPDROP[$key]:--}" \
						    "${TUNDROP[$key]:--}" "${BUSY[$key]:--}" \
						    "${OFFL[$row]:--}" "${REORD[$key]:--}"
					done
				done
			done
		done
	} >"$OUT"
fi
