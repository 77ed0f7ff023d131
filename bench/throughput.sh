#!/bin/bash
# bench/throughput.sh: TCP throughput through fzc, through wireguard-go and
# over a bare veth, side by side in one run (issue 3, "Benchmark").
#
# Two network namespaces, A and B, joined by a veth pair; one tunnel at a
# time between them, inner MTU 1280; iperf3 from A to B ("fwd") and from B
# to A ("rev", iperf3 -R). Run as root. Prints a table on stdout; -o FILE
# also writes the results as TSV. The numbers are reported, never judged:
# the exit status is non-zero only when a setup step fails.
set -euo pipefail

usage() {
	cat <<EOF
usage: $0 [-q] [-t SECONDS] [-o FILE] [-b BUILDDIR] [-l LOGDIR]
  -t SECONDS  length of each iperf3 run (default 10)
  -q          quick check of the script: 2 s runs, 1 stream only
  -o FILE     also write the results to FILE as TSV
  -b BUILDDIR where fzc, fzc-tunneld and fzc-controld were built
              (default: \$FZC_BUILD, else build/plain, else the source tree)
  -l LOGDIR   keep the daemons' logs, fzc status and iperf3 JSON there
EOF
}

BENCH=throughput.sh
. "$(dirname "$0")/lib.sh"
BUILD=
DURATION=
QUICK=0
OUT=
LOGDIR=
while getopts "t:o:b:l:qh" opt; do
	case $opt in
	t) DURATION=$OPTARG ;;
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
if [ -z "$DURATION" ]; then
	if [ "$QUICK" = 1 ]; then DURATION=2; else DURATION=10; fi
fi
[[ $DURATION =~ ^[1-9][0-9]*$ ]] || { echo "-t: not a number of seconds: $DURATION" >&2; exit 2; }
if [ "$QUICK" = 1 ]; then STREAMS=(1); else STREAMS=(1 4); fi

# --- prerequisites --------------------------------------------------------

bench_need_root "network namespaces, TUN"
bench_need_tools "wireguard-go wireguard-tools iperf3 iproute2 iputils-ping jq" \
    ip ss ping iperf3 wireguard-go wg jq awk timeout
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

# start_wggo ROW SIDE: wireguard-go on SIDE, configured with wg(8).
start_wggo() {
	local row=$1 side=$2 log pid
	side_vars "$side"
	log=$WORK/$row-wireguard-go-$side.log
	# ip netns exec and env exec in turn: $! is wireguard-go itself.
	ip netns exec "$S_NS" env WG_PROCESS_FOREGROUND=1 wireguard-go \
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

fzc_cli() {
	local dir=$1
	shift
	"$BUILD/fzc" --control-socket "$dir/run/control.sock" "$@"
}

# start_fzc ROW SIDE THREADS: fzc-tunneld in plain WireGuard mode on SIDE.
start_fzc() {
	local row=$1 side=$2 threads=$3 dir pid cpid
	side_vars "$side"
	dir=$WORK/$row-fzc-$side
	mkdir -p "$dir"
	chmod 755 "$dir"
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
	ip netns exec "$S_NS" "$BUILD/fzc-tunneld" --wireguard "$dir/wg.conf" \
	    --interface "$S_TUN" --threads "$threads" \
	    --controld "$BUILD/fzc-controld" \
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

# cpu_ticks PID...: utime+stime summed. /proc/PID/stat of a process counts
# all of its threads, live and exited, so no need to walk task/.
cpu_ticks() {
	local pid stat total=0
	local -a f
	for pid in "$@"; do
		stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
		# comm may hold spaces: split after its closing parenthesis.
		read -r -a f <<<"${stat##*) }"
		total=$((total + f[11] + f[12]))
	done
	echo "$total"
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

declare -A GBPS RETR BYTES CPUS CPUGB HWM_A HWM_B IDLE_A IDLE_B UDPDROP TUNDROP
ROWS=()
declare -A ROW_NAME
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

gone() {
	! alive "$1"
}

iperf_listening() {
	[ -n "$(ip netns exec "$NS_B" ss -Htln "sport = :$IPERF_PORT")" ]
}

# measure ROW DIR STREAMS TARGET: one iperf3 run from A to TARGET in B.
measure() {
	local row=$1 dir=$2 streams=$3 target=$4 key json sjson spid
	local c0 c1 u0 d0 rev=() pid
	key="$row|$dir|$streams"
	json=$WORK/$row-$dir-P$streams.json
	sjson=$WORK/$row-$dir-P$streams-server.json
	[ "$dir" = rev ] && rev=(-R)
	for pid in "${ROW_PIDS[@]}"; do
		if ! alive "$pid"; then
			progress "$row: $dir, $streams stream(s): skipped, tunnel process $pid is gone"
			GBPS[$key]=ERR
			return 0
		fi
	done
	progress "$row: $dir, $streams stream(s), ${DURATION}s"
	ip netns exec "$NS_B" iperf3 -s -1 -p "$IPERF_PORT" --json \
	    >"$sjson" 2>&1 &
	spid=$!
	IPERF_SPID=$spid
	wait_until 5 iperf_listening ||
	    die "$row: iperf3 server not listening after 5 s"
	# The peak is per run: clear_refs 5 resets VmHWM to the current RSS.
	for pid in "${TUNNELD_PIDS[@]}"; do
		{ echo 5 >"/proc/$pid/clear_refs"; } 2>/dev/null || true
	done
	u0=$(udp_rcvbuf_errors)
	d0=$(tun_drops)
	c0=0
	if [ ${#TUNNEL_PIDS[@]} -gt 0 ]; then
		c0=$(cpu_ticks "${TUNNEL_PIDS[@]}") ||
		    { note "$row: a tunnel process is gone"; c0=; }
	fi
	if ! timeout $((DURATION + 30)) ip netns exec "$NS_A" iperf3 \
	    -c "$target" -p "$IPERF_PORT" -t "$DURATION" -P "$streams" \
	    "${rev[@]}" --json >"$json" 2>&1; then
		note "$row $dir P$streams: iperf3 failed: $(jq -r '.error // empty' "$json" 2>/dev/null || tail -1 "$json")"
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
	[ "$row" = bare ] || TUNDROP[$key]=$(($(tun_drops) - d0))
	if [ ${#TUNNELD_PIDS[@]} -ge 1 ]; then
		HWM_A[$key]=$(status_kib "${TUNNELD_PIDS[0]}" VmHWM)
	fi
	if [ ${#TUNNELD_PIDS[@]} -ge 2 ]; then
		HWM_B[$key]=$(status_kib "${TUNNELD_PIDS[1]}" VmHWM)
	fi
	# The one-off server exits by itself once it has written its JSON.
	wait_until 5 gone "$spid" || true
	bench_stop TERM "$spid"
	IPERF_SPID=
	# Receiver's rate and byte count; the sender's retransmits (iperf3
	# reports the server's with -R).
	GBPS[$key]=$(jq -r '(.end.sum_received.bits_per_second // empty) / 1e9' "$json")
	if [ -z "${GBPS[$key]}" ]; then
		note "$row $dir P$streams: no result in iperf3's JSON"
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
		[ -z "$LOGDIR" ] || echo "$st" >"$LOGDIR/$row-fzc-$side-status.json"
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
		note "$row: fzc ($side): $summary"
		# <3> error, <4> warning (journald prefixes).
		bad=$(grep -E '^<[0-4]>' "$dir/tunneld.log" | sort | uniq -c |
		    sort -rn | head -5 || true)
		if [ -n "$bad" ]; then
			note "$row: fzc ($side) log errors/warnings:
$bad"
		fi
		if [ -n "$LOGDIR" ]; then
			fzc_cli "$dir" peers >"$LOGDIR/$row-fzc-$side-peers.txt" 2>&1 ||
			    true
		fi
	done
}

# run_row ROW NAME KIND_A KIND_B THREADS: KIND is bare, wggo or fzc.
run_row() {
	local row=$1 name=$2 ka=$3 kb=$4 threads=$5 target=$INNER_B
	local dir streams pid side kind
	ROWS+=("$row")
	ROW_NAME[$row]=$name
	ROW=$row
	progress "$row: setting up ($name)"
	if [ "$ka" = bare ]; then
		target=$VETH_ADDR_B
	else
		for side in a b; do
			kind=$ka
			[ "$side" = b ] && kind=$kb
			if [ "$kind" = fzc ]; then
				start_fzc "$row" "$side" "$threads"
			else
				start_wggo "$row" "$side"
			fi
		done
		# The first ping starts the handshake; allow a retry or two.
		wait_until 15 ip netns exec "$NS_A" ping -c 1 -W 1 "$INNER_B" ||
		    die "$row: no ping through the tunnel in 15 s"
		wait_until 5 ip netns exec "$NS_B" ping -c 1 -W 1 "$INNER_A" ||
		    die "$row: no ping back through the tunnel in 5 s"
		# Idle: after setup and handshake, before the bulk traffic.
		sleep 1
		if [ ${#TUNNELD_PIDS[@]} -ge 1 ]; then
			IDLE_A[$row]=$(status_kib "${TUNNELD_PIDS[0]}" VmRSS)
		fi
		if [ ${#TUNNELD_PIDS[@]} -ge 2 ]; then
			IDLE_B[$row]=$(status_kib "${TUNNELD_PIDS[1]}" VmRSS)
		fi
	fi
	for streams in "${STREAMS[@]}"; do
		for dir in fwd rev; do
			measure "$row" "$dir" "$streams" "$target"
		done
	done
	for pid in "${ROW_PIDS[@]}"; do
		alive "$pid" ||
		    note "$row: ${PID_NAME[$pid]} (pid $pid) died during the row"
	done
	[ ${#FZC_DIRS[@]} -eq 0 ] || fzc_notes "$row"
	teardown_row
	# After teardown, so that the logs include the shutdown.
	if [ -n "$LOGDIR" ]; then
		for side in a b; do
			cp "$WORK/$row-fzc-$side/tunneld.log" \
			    "$LOGDIR/$row-fzc-$side-tunneld.log" 2>/dev/null || true
			cp "$WORK/$row-wireguard-go-$side.log" "$LOGDIR/" \
			    2>/dev/null || true
		done
	fi
}

START_DATE=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
run_row bare "bare veth (no tunnel)" bare bare 0
run_row wggo-wggo "wireguard-go <-> wireguard-go" wggo wggo 0
run_row fzc-wggo "fzc -t2 <-> wireguard-go" fzc wggo 2
run_row fzc-fzc-t1 "fzc <-> fzc --threads 1" fzc fzc 1
run_row fzc-fzc-t2 "fzc <-> fzc --threads 2" fzc fzc 2
run_row fzc-fzc-t4 "fzc <-> fzc --threads 4" fzc fzc 4

# --- report ---------------------------------------------------------------

mib() {
	[ -n "${1:-}" ] || { echo -; return; }
	awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'
}

max_kib() {
	local a=${1:-} b=${2:-}
	if [ -z "$a" ]; then echo "$b"; elif [ -z "$b" ]; then echo "$a"
	elif [ "$a" -ge "$b" ]; then echo "$a"; else echo "$b"; fi
}

header() {
	echo "fzc throughput benchmark, $START_DATE"
	echo "kernel $(uname -r), $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), load average $START_LOAD at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
	echo "fzc $(git -C "$SRCDIR" describe --always --dirty 2>/dev/null || echo unknown) from $BUILD; wireguard-go $(wireguard-go --version 2>&1 | awk '{ print $2; exit }'); $(iperf3 --version | head -1 | cut -d' ' -f1-2)"
	echo "iperf3 TCP ${DURATION}s per run, A -> B (fwd) and B -> A (rev, -R); inner MTU $MTU; fzc -t2 <-> wireguard-go: fzc on A (the iperf3 client side)"
}

{
	header
	echo
	printf '%-29s %-3s %1s %6s %6s %7s %8s %7s %7s %7s %7s\n' \
	    "" "" "" "" "ratio" "TCP" "tunnel" "tunneld" "tunneld" "UDP" "TUN"
	printf '%-29s %-3s %1s %6s %6s %7s %8s %7s %7s %7s %7s\n' \
	    "row" "dir" "P" "Gbit/s" "to ref" "retrans" "CPU s/GB" \
	    "peakMiB" "idleMiB" "rcvbuf" "drops"
	for row in "${ROWS[@]}"; do
		for streams in "${STREAMS[@]}"; do
			for dir in fwd rev; do
				key="$row|$dir|$streams"
				ref=${GBPS[wggo-wggo|$dir|$streams]:-}
				g=${GBPS[$key]:-ERR}
				if [ "$g" = ERR ]; then
					printf '%-29s %-3s %1s %6s\n' \
					    "${ROW_NAME[$row]}" "$dir" "$streams" ERR
					continue
				fi
				ratio=$(awk -v g="$g" -v r="$ref" 'BEGIN {
				    if (r == "" || r == "ERR" || r == 0) print "-";
				    else printf "%.2f", g / r }')
				peak=$(max_kib "${HWM_A[$key]:-}" "${HWM_B[$key]:-}")
				idle=$(max_kib "${IDLE_A[$row]:-}" "${IDLE_B[$row]:-}")
				printf '%-29s %-3s %1s %6.3f %6s %7s %8s %7s %7s %7s %7s\n' \
				    "${ROW_NAME[$row]}" "$dir" "$streams" "$g" "$ratio" \
				    "${RETR[$key]}" "${CPUGB[$key]:--}" "$(mib "$peak")" \
				    "$(mib "$idle")" "${UDPDROP[$key]}" \
				    "${TUNDROP[$key]:--}"
			done
		done
	done
	echo
	echo "Gbit/s: receiver side. retrans: sender side. CPU s/GB: utime+stime of"
	echo "the tunnel processes of both sides (all threads; fzc: tunneld and"
	echo "controld) per 10^9 bytes received. peak: VmHWM of fzc-tunneld during"
	echo "the run, idle: VmRSS after the handshake, before iperf3 (the larger of"
	echo "the two sides; - where no fzc-tunneld runs). UDP rcvbuf: datagrams"
	echo "dropped for a full socket receive buffer, both namespaces. TUN drops:"
	echo "packets dropped by the tunnel devices of both sides (RX + TX)."
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
		printf 'row\tdirection\tstreams\tduration_s\tgbit_s\tratio_to_ref\tretransmits\tbytes_received\ttunnel_cpu_s\tcpu_s_per_gb\tpeak_rss_kib_a\tpeak_rss_kib_b\tidle_rss_kib_a\tidle_rss_kib_b\tudp_rcvbuf_errors\ttun_drops\n'
		for row in "${ROWS[@]}"; do
			for streams in "${STREAMS[@]}"; do
				for dir in fwd rev; do
					key="$row|$dir|$streams"
					ref=${GBPS[wggo-wggo|$dir|$streams]:-}
					g=${GBPS[$key]:-ERR}
					ratio=$(awk -v g="$g" -v r="$ref" 'BEGIN {
					    if (g == "ERR" || r == "" || r == "ERR" || r == 0) print "-";
					    else printf "%.4f", g / r }')
					printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
					    "$row" "$dir" "$streams" "$DURATION" "$g" "$ratio" \
					    "${RETR[$key]:--}" "${BYTES[$key]:--}" \
					    "${CPUS[$key]:--}" "${CPUGB[$key]:--}" \
					    "${HWM_A[$key]:--}" "${HWM_B[$key]:--}" \
					    "${IDLE_A[$row]:--}" "${IDLE_B[$row]:--}" \
					    "${UDPDROP[$key]:--}" "${TUNDROP[$key]:--}"
				done
			done
		done
	} >"$OUT"
fi
