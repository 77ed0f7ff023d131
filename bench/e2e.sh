#!/bin/bash
# bench/e2e.sh: fzc end to end, in the topology of the end-to-end tests
# (tests/integration/lib.sh, e2e_topology): stub portal, coturn, an fzc
# gateway with a resource network behind it, an fzc client (issue 6,
# "Benchmarks").
#
# 1. Time from the first packet to its answer through a fresh
#    authorization (portal, gateway, ICE, WireGuard handshake), direct
#    (flat topology) and relayed (NATs mapping per destination, direct path
#    blocked): each sample restarts the client, whose new key makes the
#    authorization a new one. The same for a DNS resource by name: from
#    the query to the stub resolver to the first byte of an HTTP answer.
# 2. iperf3 client -> resource host through the gateway: fzc with
#    --threads 1 and 2 on each side (direct), fzc relayed through coturn
#    unpaced and paced (-P, FZC_RELAY_PACE), and wireguard-go <-> wireguard-go over the same namespaces and links
#    as the reference of bench/throughput.sh; ratios against it. For each
#    run: the CPU use of the client's and the gateway's tunnel process
#    and of coturn, and UDP datagrams dropped for full socket buffers in
#    the client's, the relay's and the gateway's namespaces, so that a
#    relayed run shows whether the relay or fzc is the bottleneck.
# Numbers are printed, never judged; the exit status is non-zero only when
# a setup step fails.
set -uo pipefail

usage() {
	cat <<EOF
usage: $0 [-q] [-t SECONDS] [-n SAMPLES] [-p PHASES] [-P MBIT] [-b BUILDDIR]
  -t SECONDS  length of each iperf3 run (default 10)
  -p PHASES   only these, comma-separated (default: all): first-direct,
              first-relayed, first-dns, tp-wg, tp-t1, tp-t2, tp-relay,
              tp-relay-paced
  -P MBIT     the pace of the relayed paths in tp-relay-paced
              (FZC_RELAY_PACE; default 250)
  -n SAMPLES  fresh authorizations timed per path (default 5)
  -q          quick check of the script: 3 s runs, 2 samples, 1 stream
  -b BUILDDIR where fzc, fzc-tunneld and fzc-controld were built
              (default: \$FZC_BUILD, else build/plain, else the source tree)
EOF
}

BENCH=e2e.sh
. "$(dirname "$0")/lib.sh"
BUILD=
DURATION=
SAMPLES=
QUICK=0
PHASES=
PACE=250
while getopts "t:n:p:P:b:qh" opt; do
	case $opt in
	t) DURATION=$OPTARG ;;
	n) SAMPLES=$OPTARG ;;
	p) PHASES=$OPTARG ;;
	P) PACE=$OPTARG ;;
	q) QUICK=1 ;;
	b) BUILD=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || { usage >&2; exit 2; }
if [ "$QUICK" = 1 ]; then
	DURATION=${DURATION:-3} SAMPLES=${SAMPLES:-2} STREAMS=(1)
else
	DURATION=${DURATION:-10} SAMPLES=${SAMPLES:-5} STREAMS=(1 4)
fi
[[ $DURATION =~ ^[1-9][0-9]*$ && $SAMPLES =~ ^[1-9][0-9]*$ &&
    $PACE =~ ^[1-9][0-9]*$ ]] ||
    { usage >&2; exit 2; }

bench_need_root "network namespaces, TUN"
bench_need_tools "iproute2 nftables iputils-ping iperf3 coturn wireguard-go wireguard-tools openssl python3 curl dnsmasq" \
    ip nft ping iperf3 turnserver wireguard-go wg openssl python3 curl dnsmasq
bench_build "$BUILD"
CLK_TCK=$(getconf CLK_TCK)
export CLK_TCK
B=$BUILD
FZC_RUN=bench$$
export B SRCDIR FZC_RUN
RES=$(mktemp -d /tmp/fzc-bench-e2e.XXXXXX)
trap 'rm -rf "$RES"' EXIT
trap 'echo "e2e.sh: interrupted" >&2; exit 130' INT TERM HUP

# phase NAME FUNCTION ARGS...: FUNCTION in a subshell with a topology of
# its own (lib.sh's), removed when it ends; its results go to $RES/NAME.
# Skipped unless -p names it (or there is no -p).
phase() {
	local name=$1
	shift
	[ -z "$PHASES" ] || [[ ,$PHASES, == *,$name,* ]] || return 0
	(
		. "$SRCDIR/tests/integration/lib.sh"
		trap 'set +e; cleanup' EXIT
		trap 'exit 130' INT TERM HUP
		fail() {
			echo "e2e.sh: $*" >&2
			return 1
		}
		"$@" >"$RES/$name"
	) || die "$name: $(tail -3 "$RES/$name" 2>/dev/null)"
}

# fresh_client I CHECK...: sample I's client, the last one stopped (a new
# key makes the next authorization a new one), connected and CHECK true.
fresh_client() {
	local i=$1
	shift
	if [ "$i" -gt 1 ]; then
		kill -TERM "$E2E_CPID"
		wait "$E2E_CPID"
	fi
	e2e_client || return 1
	wait_until 15 e2e_client_connected && wait_until 5 "$@" ||
	    fail "client $i not connected" || return 1
}

# first_answers MODE: SAMPLES times, a fresh client and one ping; one
# round-trip time in ms a line.
first_answers() {
	local i out
	E2E_FILE_MIB=1
	e2e_topology "$1" || return 1
	for ((i = 1; i <= SAMPLES; i++)); do
		if [ "$i" -gt 1 ]; then
			fresh_client "$i" e2e_route 10.20.0.0/24 || return 1
		fi
		out=$(ip netns exec "$E2E_C" ping -c 1 -W 20 10.20.0.2) ||
		    fail "$1: sample $i not answered: $(tail -5 "$E2E_CLOG")" ||
		    return 1
		sed -n 's/.*icmp_seq=1 .*time=\([0-9.]*\) ms.*/\1/p' <<<"$out"
		progress "$1: first answer $i/$SAMPLES after $(sed -n \
		    's/.*time=\([0-9.]*\) ms.*/\1/p' <<<"$out") ms ($(e2e_peer_path))"
	done
}

sentinel_ready() {
	grep -q 'dns: sentinel 100.100.111.1 forwards' "$E2E_CLOG"
}

# first_dns: SAMPLES times, a fresh client and one HTTP GET by the name of
# a DNS resource ("*.corp.example.com", resolved by the gateway's own
# dnsmasq): the stub's answer, the authorization, AssignedIps and the
# gateway's resolution and translation all lie between the query and the
# first byte. "lookup first-byte" in ms a line.
first_dns() {
	local i out res
	E2E_FILE_MIB=1
	res='[{"id": "3c1e5a7b-9d2f-4e6a-8b0c-1d2e3f4a5b6c", "type": "dns",
	    "address": "*.corp.example.com", "name": "Corp",
	    "address_description": null, "filters": [],
	    "sites": [{"id": "'$E2E_SITE1'", "name": "Site A"}],
	    "ip_stack": "dual"}]'
	e2e_net flat 1 || return 1
	echo "nameserver 10.20.0.2" >"/etc/netns/${E2E_G[1]}/resolv.conf"
	echo "nameserver 10.99.0.53" >"/etc/netns/$E2E_C/resolv.conf"
	ip netns exec "${E2E_RESNS[1]}" dnsmasq --keep-in-foreground \
	    --no-resolv --no-hosts --user=root --pid-file= --bind-interfaces \
	    --listen-address=10.20.0.2 --port=53 \
	    --address=/app.corp.example.com/10.20.0.2 &
	PIDS+=($!)
	e2e_pki && e2e_coturn && e2e_resources 1 && e2e_scenario "$res" &&
	    e2e_portal && e2e_gateway 1 || return 1
	e2e_gateway_online 1 15 || fail "gateway not joined" || return 1
	for ((i = 1; i <= SAMPLES; i++)); do
		fresh_client "$i" sentinel_ready || return 1
		out=$(ip netns exec "$E2E_C" curl -sS -o /dev/null -m 30 \
		    -w '%{time_namelookup} %{time_starttransfer}\n' \
		    http://app.corp.example.com/file.bin) ||
		    fail "sample $i: no answer: $(tail -5 "$E2E_CLOG")" ||
		    return 1
		awk '{ printf "%.1f %.1f\n", $1 * 1000, $2 * 1000 }' <<<"$out"
		progress "dns: first byte $i/$SAMPLES after" \
		    "$(awk '{ print $2 * 1000 }' <<<"$out") ms"
	done
}

# udp_buf_errors NS: "RcvbufErrors SndbufErrors" of NS's UDP sockets
# (/proc/net/snmp is per namespace).
udp_buf_errors() {
	ip netns exec "$1" cat /proc/net/snmp | awk '$1 == "Udp:" {
	    if (!h) { for (i = 2; i <= NF; i++) c[$i] = i; h = 1 }
	    else print $c["RcvbufErrors"], $c["SndbufErrors"] }'
}

# backlog_drops: packets dropped for a full per-CPU input queue
# (netdev_max_backlog), which veth pairs feed; machine-wide.
backlog_drops() {
	local processed dropped rest n=0
	while read -r processed dropped rest; do
		n=$((n + 16#$dropped))
	done </proc/net/softnet_stat
	echo "$n"
}

# counters CPID GPID RPID: CPU ticks of the client's and the gateway's
# tunnel process and of the relay (- if none), udp_buf_errors of the
# client's, the relay's and the gateway's namespaces, and backlog_drops.
counters() {
	local pid
	for pid in "$@"; do
		if [ "$pid" = - ]; then
			echo -n "- "
		else
			echo -n "$(cpu_ticks "$pid" || echo -) "
		fi
	done
	echo "$(udp_buf_errors "$E2E_C") $(udp_buf_errors "$E2E_R")" \
	    "$(udp_buf_errors "${E2E_G[1]}") $(backlog_drops)"
}

# iperf_runs LABEL CPID GPID RPID: iperf3 to the resource host with each
# stream count; lines "LABEL STREAMS GBITS RETRANS" and then, over the
# run, the CPU use (% of one CPU) of the client's tunnel process, the
# gateway's and the relay (CPID, GPID, RPID; - for none), the UDP receive
# and send buffer drops in the client's, the relay's and the gateway's
# namespaces, and the machine's input queue drops.
iperf_runs() {
	local label=$1 p j c0 c1
	shift
	for p in "${STREAMS[@]}"; do
		c0=$(counters "$@")
		j=$(ip netns exec "$E2E_C" iperf3 -c 10.20.0.2 -t "$DURATION" \
		    -P "$p" -J) || { fail "$label: iperf3 -P $p failed"; return 1; }
		c1=$(counters "$@")
		python3 -c '
import json, sys
e = json.loads(sys.argv[1])["end"]
c0, c1 = sys.argv[4].split(), sys.argv[5].split()
hz, secs = int(sys.argv[6]), e["sum_received"]["seconds"]
def d(i):
    return "-" if "-" in (c0[i], c1[i]) else int(c1[i]) - int(c0[i])
cpu = ["-" if d(i) == "-" else "%.0f" % (100 * d(i) / hz / secs)
       for i in range(3)]
print(sys.argv[2], "|", sys.argv[3], "%.3f" % (e["sum_received"]["bits_per_second"]
      / 1e9), e["sum_sent"].get("retransmits", 0), *cpu,
      *[d(i) for i in range(3, 10)])' "$j" "$label" "$p" "$c0" "$c1" "$CLK_TCK"
		progress "$label, $p stream(s): done"
	done
}

# fzc_throughput MODE THREADS LABEL [PACE]: PACE (Mbit/s) paces the
# relayed paths of both tunnelds.
fzc_throughput() {
	E2E_FILE_MIB=1
	E2E_TUNNELD_ARGS=(--threads "$2")
	[ -z "${4:-}" ] || export FZC_RELAY_PACE=$4
	e2e_topology "$1" || return 1
	ip netns exec "$E2E_C" ping -c 1 -W 20 10.20.0.2 >/dev/null ||
	    fail "$3: no answer: $(tail -5 "$E2E_CLOG")" || return 1
	progress "$3: path $(e2e_peer_path)"
	iperf_runs "$3" "$E2E_CPID" "${E2E_GPID[1]}" "${E2E_COTURN_PIDS[1]}"
}

# wg_throughput: wireguard-go in the client's and the gateway's
# namespaces (flat topology, the same links), the resource network routed
# through it; the gateway forwards as the fzc gateway does.
wg_throughput() {
	local c=wgb$$c g=wgb$$g cpid gpid
	E2E_FILE_MIB=1
	e2e_net flat 1 && e2e_resources 1 || return 1
	(umask 077 && wg genkey >"$WORK/c.key" && wg genkey >"$WORK/g.key" &&
	    wg genpsk >"$WORK/psk") || return 1
	wg pubkey <"$WORK/c.key" >"$WORK/c.pub"
	wg pubkey <"$WORK/g.key" >"$WORK/g.pub"
	# ip netns exec and env exec in turn: $! is wireguard-go itself.
	ip netns exec "$E2E_C" env WG_PROCESS_FOREGROUND=1 wireguard-go "$c" \
	    >"$WORK/wgc.log" 2>&1 &
	cpid=$!
	PIDS+=($!)
	ip netns exec "${E2E_G[1]}" env WG_PROCESS_FOREGROUND=1 wireguard-go \
	    "$g" >"$WORK/wgg.log" 2>&1 &
	gpid=$!
	PIDS+=($!)
	wait_until 5 test -S "/var/run/wireguard/$c.sock" &&
	    wait_until 5 test -S "/var/run/wireguard/$g.sock" ||
	    fail "wireguard-go did not start" || return 1
	ip netns exec "${E2E_G[1]}" wg set "$g" private-key "$WORK/g.key" \
	    listen-port 51820 peer "$(cat "$WORK/c.pub")" \
	    preshared-key "$WORK/psk" allowed-ips 10.99.0.1/32 &&
	    ip netns exec "$E2E_C" wg set "$c" private-key "$WORK/c.key" \
	    peer "$(cat "$WORK/g.pub")" preshared-key "$WORK/psk" \
	    endpoint 10.82.0.2:51820 allowed-ips 10.99.0.2/32,10.20.0.0/24 &&
	    ip -n "$E2E_C" addr add 10.99.0.1/24 dev "$c" &&
	    ip -n "$E2E_C" link set "$c" mtu 1280 up &&
	    ip -n "$E2E_C" route add 10.20.0.0/24 dev "$c" &&
	    ip -n "${E2E_G[1]}" addr add 10.99.0.2/24 dev "$g" &&
	    ip -n "${E2E_G[1]}" link set "$g" mtu 1280 up ||
	    fail "wireguard-go setup" || return 1
	wait_until 10 ip netns exec "$E2E_C" ping -c 1 -W 1 10.20.0.2 ||
	    fail "no ping through wireguard-go" || return 1
	iperf_runs "wireguard-go" "$cpid" "$gpid" -
	rm -f "/var/run/wireguard/$c.sock" "/var/run/wireguard/$g.sock"
}

progress "first answers through a fresh authorization, $SAMPLES each"
phase first-direct first_answers flat
phase first-relayed first_answers relay
phase first-dns first_dns
progress "throughput, iperf3 ${DURATION} s, streams ${STREAMS[*]}"
phase tp-wg wg_throughput
phase tp-t1 fzc_throughput flat 1 "fzc direct, --threads 1"
phase tp-t2 fzc_throughput flat 2 "fzc direct, --threads 2"
phase tp-relay fzc_throughput relay 2 "fzc relayed, --threads 2"
phase tp-relay-paced fzc_throughput relay 2 "fzc relayed, $PACE Mbit/s" "$PACE"

echo "# fzc end to end: $(uname -r), $(nproc) CPUs, $(date -u +%FT%TZ)"
if [ -s "$RES/first-direct" ] || [ -s "$RES/first-relayed" ]; then
	echo
	echo "Time from the first packet to its answer through a fresh authorization"
	echo "(ms; ping -c 1 right after the client connected; $SAMPLES samples)"
	printf '  %-10s %8s %8s %8s\n' path min median max
	for m in direct relayed; do
		[ -s "$RES/first-$m" ] || continue
		sort -n "$RES/first-$m" | awk -v m="$m" '
		    { v[NR] = $1 }
		    END { printf "  %-10s %8.1f %8.1f %8.1f\n", m, v[1],
			(NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2),
			v[NR] }'
	done
fi
if [ -s "$RES/first-dns" ]; then
	echo
	echo "A DNS resource by name through a fresh authorization (ms; curl"
	echo "right after the client connected: the stub's answer, then the"
	echo "first byte; $SAMPLES samples)"
	printf '  %-12s %8s %8s %8s\n' "" min median max
	for col in 1 2; do
		awk -v c="$col" '{ print $c }' "$RES/first-dns" | sort -n |
		    awk -v m="$([ "$col" = 1 ] && echo lookup || echo first-byte)" '
		    { v[NR] = $1 }
		    END { printf "  %-12s %8.1f %8.1f %8.1f\n", m, v[1],
			(NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2),
			v[NR] }'
	done
fi
echo
echo "iperf3 client -> resource through the gateway, $DURATION s (Gbit/s;"
echo "ratio to wireguard-go <-> wireguard-go on the same path; CPU: % of one"
echo "CPU over the run, of the client's and the gateway's tunnel process and"
echo "of coturn; UDP buffer drops: datagrams dropped for a full receive/send"
echo "socket buffer in the client's, the relay's and the gateway's namespace;"
echo "backlog: packets dropped for a full input queue, machine-wide)"
cat "$RES"/tp-wg "$RES"/tp-t1 "$RES"/tp-t2 "$RES"/tp-relay \
    "$RES"/tp-relay-paced 2>/dev/null |
    python3 -c '
import sys
rows, ref = [], {}
for line in sys.stdin:
    label, rest = line.split(" | ")
    streams, gbit, retr, *more = rest.split()
    rows.append((label, streams, float(gbit), int(retr), more))
    if label == "wireguard-go":
        ref[streams] = float(gbit)
print("  %-26s %2s %6s %5s %7s %13s %23s" % ("", "", "", "", "",
                                           "CPU %", "UDP buffer drops rcv/snd"))
print("  %-26s %2s %6s %5s %7s %4s %4s %4s %7s %7s %7s %7s" % ("row", "P",
      "Gbit/s", "ratio", "retrans", "clnt", "gw", "relay", "client", "relay",
      "gateway", "backlog"))
for label, streams, gbit, retr, m in rows:
    r = "%5.2f" % (gbit / ref[streams]) if ref.get(streams) else "    -"
    print("  %-26s %2s %6.2f %5s %7d %4s %4s %4s %7s %7s %7s %7s" % (label,
          streams, gbit, r, retr, m[0], m[1], m[2], m[3] + "/" + m[4],
          m[5] + "/" + m[6], m[7] + "/" + m[8], m[9]))'
