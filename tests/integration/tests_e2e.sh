# tests_e2e.sh: end to end, client and gateway (both fzc) through the stub
# portal and coturn, in the topology of lib.sh's e2e_topology (issue 6, and
# the two-tunneld NAT traversal tests of issue 5). Sourced by run.sh; each
# t_* runs in its own subshell.

E2E_RES_INET=c3b2a190-8f7e-4d6c-b5a4-93827160f5e4

# te_healthy: the stub saw nothing wrong from either side, and no daemon
# log has a sanitizer report (scripts/test runs these with ASan+UBSan).
te_healthy() {
	local v f
	v=$(e2e_stub '{"cmd":"state"}' | python3 -c '
import json, sys
print(json.dumps(json.loads(sys.stdin.readline())["violations"]))')
	[ "$v" = "[]" ] || fail "stub portal violations: $v" || return 1
	for f in "$WORK"/cl/tunneld.log "$WORK"/gw*/tunneld.log; do
		[ -f "$f" ] || continue
		! grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:' \
		    "$f" || fail "sanitizer report in $f:" \
		    "$(grep -A12 'Sanitizer\|runtime error:' "$f" | head -30)" ||
		    return 1
	done
}

# te_count ROLE EVENT: how many EVENT frames the stub got from ROLE.
te_count() {
	e2e_stub '{"cmd":"state","role":"'"$1"'"}' | python3 -c '
import json, sys
v = json.loads(sys.stdin.readline())
print(sum(1 for m in v["messages"] if m["event"] == sys.argv[1]))' "$2"
}

# te_first_packet IP: the very first packet to IP (no authorization yet)
# is answered; prints its round-trip time in ms.
te_first_packet() {
	local out
	out=$(ip netns exec "$E2E_C" ping -c 1 -W 15 "$1" 2>&1) ||
	    fail "first packet to $1 not answered: $out;" \
	    "client log: $(tail -20 "$E2E_CLOG")" || return 1
	sed -n 's/.*icmp_seq=1 .*time=\([0-9.]*\) ms.*/\1/p' <<<"$out"
}

# te_ping_bg FILE IP [INTERVAL]: a timestamped ping running in the
# background until killed; sets TE_PING.
te_ping_bg() {
	ip netns exec "$E2E_C" ping -D -n -i "${3:-0.2}" -W 1 "$2" \
	    >"$1" 2>&1 &
	TE_PING=$!
	PIDS+=("$TE_PING")
}

# te_replies FILE [FROM [TO]]: timestamps of the echo replies in FILE,
# between FROM and TO (Unix seconds), one a line.
te_replies() {
	awk -v from="${2:-0}" -v to="${3:-1e12}" '
	    /bytes from/ { t = substr($1, 2, length($1) - 2) + 0
	        if (t >= from && t <= to) printf "%.3f\n", t }' "$1"
}

# te_max_gap FILE FROM TO: the longest time without a reply in [FROM, TO].
te_max_gap() {
	{ echo "$2"; te_replies "$1" "$2" "$3"; echo "$3"; } |
	    awk 'NR > 1 { g = $1 - p; if (g > m) m = g } { p = $1 }
	         END { printf "%.2f\n", m }'
}

now_s() {
	echo "${EPOCHREALTIME}"
}

# fsum A B: A + B, to the millisecond (awk's print would round Unix times
# to 6 digits).
fsum() {
	awk "BEGIN{printf \"%.3f\", $1 + $2}"
}

# te_iperf_bg SECONDS [IP]: iperf3 client -> resource, JSON into
# $WORK/iperf3.json; sets TE_IPERF.
te_iperf_bg() {
	ip netns exec "$E2E_C" iperf3 -c "${2:-10.20.0.2}" -t "$1" -i 1 -J \
	    >"$WORK/iperf3.json" 2>"$WORK/iperf3.err" &
	TE_IPERF=$!
	PIDS+=("$TE_IPERF")
}

# te_iperf_check: the iperf3 run ended well and no 1 s interval was empty;
# prints the per-second Mbit/s.
te_iperf_check() {
	wait "$TE_IPERF" ||
	    fail "iperf3 failed: $(cat "$WORK/iperf3.err";
	    head -c 2000 "$WORK/iperf3.json")" || return 1
	python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
iv = [i["sum"]["bits_per_second"] / 1e6 for i in j["intervals"]]
print("Mbit/s per second: " + " ".join("%.0f" % x for x in iv))
empty = [n for n, x in enumerate(iv) if x < 0.5]
sys.exit("intervals without traffic: %s" % empty if empty else 0)' \
	    "$WORK/iperf3.json" || fail "traffic stopped during the run"
}

te_path() {
	local p
	p=$(e2e_peer_path)
	echo "path: $p" >&2
	echo "${p%% *}"
}

te_path_is() {
	[ "$(te_path 2>/dev/null)" = "$1" ]
}

# The topology itself: NATs as the modes say, coturn reachable through
# them (fzc netcheck), the stub portal over TLS from both sides.
t_e2e_topology() {
	local out m ns
	e2e_net nat 1 || return 1
	e2e_pki || return 1
	e2e_coturn || return 1
	e2e_resources 1 || return 1
	e2e_scenario || return 1
	e2e_portal || return 1
	for ns in "$E2E_C" "${E2E_G[1]}"; do
		out=$(e2e_check_relay "$ns" 2>&1) ||
		    fail "netcheck from $ns: $out" || return 1
		echo "$out"
		m=10.80.2.2
		[ "$ns" = "$E2E_C" ] || m=10.80.3.2
		grep -q "srflx: *$m:" <<<"$out" ||
		    fail "srflx from $ns is not the NAT's $m" || return 1
	done
	# The client's host address is not routed from the gateway's side.
	! ip netns exec "${E2E_G[1]}" ping -c 1 -W 1 "$E2E_CLIENT_IP" \
	    >/dev/null 2>&1 || fail "client reachable without NAT" ||
	    return 1
	ip netns exec "$E2E_C" python3 -c '
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
s = ctx.wrap_socket(socket.create_connection((sys.argv[2], int(sys.argv[3])),
                    timeout=5), server_hostname=sys.argv[2])
print("TLS to the portal:", s.version())' "$E2E_CA" "$E2E_PORTAL_IP" \
	    "$E2E_PORT" || fail "portal not reachable over TLS" || return 1
	# The resource is not reachable from the client without the tunnel.
	! ip netns exec "$E2E_C" ping -c 1 -W 1 10.20.0.2 >/dev/null 2>&1 ||
	    fail "resource reachable outside the tunnel" || return 1
	e2e_gateway 1 || return 1
	e2e_gateway_online 1 15 ||
	    fail "gateway not joined: $(tail -20 "${E2E_GLOG[1]}")" ||
	    return 1
	e2e_client || return 1
	wait_until 15 e2e_client_connected ||
	    fail "client not connected: $(tail -15 "$E2E_CLOG")" || return 1
	wait_until 5 e2e_route 10.20.0.0/24 ||
	    fail "no route to 10.20.0.0/24:" \
	    "$(ip -n "$E2E_C" route show table all)" || return 1
	# fzc's own (marked) packets to a resource address, such as ICE checks
	# to the gateway's address 10.20.0.1, do not take the tunnel.
	ip netns exec "$E2E_C" ip route get 10.20.0.1 | grep -q 'dev fzc0' &&
	    ip netns exec "$E2E_C" ip route get 10.20.0.1 mark 0x667a63 |
	    grep -q 'dev eth0' ||
	    fail "routes by mark: $(ip -n "$E2E_C" rule)" || return 1
	te_healthy
}

# te_download URL PATH RELAY-BYTES-BEFORE: the download from URL matches
# its sha256, the path is PATH, and the relay carried under 1 MiB of it
# (direct) or all of it (relayed).
te_download() {
	local url=$1 want=$2 rb0=$3 sha n
	sha=$(e2e_fetch "$url" "$WORK/fetch.txt")
	echo "download of $url: $(cat "$WORK/fetch.txt" 2>/dev/null) (s, bytes)"
	[ "$sha" = "$E2E_FILE_SHA" ] ||
	    fail "sha256 $sha, want $E2E_FILE_SHA" || return 1
	n=$((($(e2e_relay_bytes) - rb0) >> 20))
	echo "relay link carried $n MiB"
	[ "$(te_path)" = "$want" ] ||
	    fail "path $(e2e_peer_path), want $want" || return 1
	if [ "$want" = direct ]; then
		[ "$n" -lt 1 ] || fail "direct, yet $n MiB via the relay"
	else
		[ "$n" -ge "$E2E_FILE_MIB" ] ||
		    fail "relayed, yet only $n MiB via the relay"
	fi
}

# te_cidr MODE PATH: the first packet to a CIDR resource gets the
# authorization through the portal and the gateway and is answered; ping
# and a 32 MiB HTTP download with sha256 match; the path is PATH, and the
# relay carried the download (relayed) or not (direct).
te_cidr() {
	local mode=$1 want=$2 rtt rb0
	e2e_topology "$mode" || return 1
	rb0=$(e2e_relay_bytes)
	rtt=$(te_first_packet 10.20.0.2) || return 1
	echo "first packet answered after $rtt ms"
	[ "$(te_count client request_authorization)" = 1 ] ||
	    fail "$(te_count client request_authorization) requests" ||
	    return 1
	[ "$(te_count gateway authorization_created)" = 1 ] ||
	    fail "gateway acks: $(te_count gateway authorization_created)" ||
	    return 1
	ip netns exec "$E2E_C" ping -c 5 -i 0.2 -W 2 10.20.0.2 ||
	    fail "ping through the tunnel" || return 1
	te_download http://10.20.0.2/file.bin "$want" "$rb0" || return 1
	[ "$(te_count client request_authorization)" = 1 ] ||
	    fail "authorization asked again" || return 1
	te_healthy
}

# te_v6 MODE PATH: the e2e world in dual stack (lib.sh, E2E_IPV6): the
# client signals IPv6 candidates (host, server-reflexive behind a NAT,
# relayed), the first packet to fd20::2 gets the authorization of the
# IPv6 CIDR resource, and a 32 MiB download from it over IPv6 through the
# tunnel is as te_download says.
te_v6() {
	local E2E_IPV6=1 mode=$1 want=$2 rb0 srflx=
	e2e_topology "$mode" || return 1
	wait_until 5 e2e_route fd20::/64 ||
	    fail "no route to fd20::/64:" \
	    "$(ip -n "$E2E_C" -6 route show table all)" ||
	    return 1
	rb0=$(e2e_relay_bytes)
	te_first_packet fd20::2 >/dev/null || return 1
	te_download "http://[fd20::2]/file.bin" "$want" "$rb0" || return 1
	[ "$mode" = flat ] || srflx=fd80:2::2
	e2e_stub '{"cmd":"state","role":"client"}' | python3 -c '
import json, sys
v = json.loads(sys.stdin.readline())
cands = [c for m in v["messages"]
         if m["event"] == "new_gateway_ice_candidates"
         for c in m["payload"].get("candidates", [])]
want = [("host", "fd81::2"), ("relay", "fd80:1::2")]
if sys.argv[1]:
    want.append(("srflx", sys.argv[1]))
missing = [w for w in want
           if not any(c.split()[4] == w[1] and c.split()[7] == w[0]
                      for c in cands)]
print("IPv6 candidates signalled:",
      [c for c in cands if ":" in c.split()[4]])
sys.exit("no IPv6 candidate %s" % missing if missing else 0)' "$srflx" ||
	    fail "IPv6 candidates missing" || return 1
	te_healthy
}

# Dual stack behind home routers: IPv6 inside the tunnel, direct.
t_e2e_ipv6_direct() {
	te_v6 nat direct
}

# Dual stack, symmetric NATs and the direct path blocked: IPv6 inside the
# tunnel, through the relay.
t_e2e_ipv6_relayed() {
	te_v6 relay relayed
}

# Flat: host candidates reach each other; the direct host pair is the
# path (issue 5: "on one link: a direct host pair is nominated").
t_e2e_cidr_direct() {
	te_cidr flat direct || return 1
	e2e_peer_path | grep -q '^direct 10\.82\.0\.2:' ||
	    fail "not the gateway's host address: $(e2e_peer_path)"
}

# Both sides behind endpoint-dependent NATs with the direct path blocked:
# everything through coturn.
t_e2e_cidr_relayed() {
	te_cidr relay relayed
}

# FZC_RELAY_PACE in both tunnelds' environment: the relayed download
# through the paced path is whole, and both said they pace.
t_e2e_cidr_relayed_paced() {
	local FZC_RELAY_PACE=100
	export FZC_RELAY_PACE
	te_cidr relay relayed || return 1
	grep -q 'relayed paths paced to 100 Mbit/s' "$E2E_CLOG" ||
	    fail "client: no pace in its log" || return 1
	grep -q 'relayed paths paced to 100 Mbit/s' "${E2E_GLOG[1]}" ||
	    fail "gateway: no pace in its log"
}

# Behind home routers on both sides (a mapping per host, inbound only in
# answer): ICE punches through, the srflx pair carries the download and the
# relay under 1 MiB of it.
t_e2e_cidr_nat() {
	te_cidr nat direct || return 1
	e2e_peer_path | grep -q '^direct 10\.80\.3\.2:' ||
	    fail "not the gateway's NAT address: $(e2e_peer_path)"
}

# Behind NATs that map per destination on both sides: the srflx pair
# cannot connect and the relay takes over, with nothing blocked.
t_e2e_cidr_symmetric() {
	te_cidr symmetric relayed
}

# Issue 5: the direct path blocked after the connection is up: traffic
# moves to the relay within 10 s.
t_e2e_direct_blocked_moves_to_relay() {
	local t0 gap end
	e2e_topology flat || return 1
	te_first_packet 10.20.0.2 >/dev/null || return 1
	wait_until 5 te_path_is direct ||
	    fail "not direct at first: $(e2e_peer_path)" || return 1
	te_ping_bg "$WORK/ping.txt" 10.20.0.2
	sleep 2
	t0=$(now_s)
	e2e_block_direct || return 1
	wait_until 15 te_path_is relayed
	end=$(now_s)
	# Replies are looked for until 13 s after the block at least.
	sleep "$(awk "BEGIN{d = $t0 + 13 - $end; print (d > 3 ? d : 3)}")"
	kill "$TE_PING"
	echo "path after blocking: $(e2e_peer_path);" \
	    "blocked packets: $(e2e_blocked_packets)"
	gap=$(te_max_gap "$WORK/ping.txt" "$t0" "$(now_s)")
	echo "longest gap without a reply after the block: $gap s"
	[ "$(te_path)" = relayed ] ||
	    fail "not relayed $(fsum "$end" "-$t0") s after" \
	    "the block: $(grep -i 'ice\|relay\|path' "$E2E_CLOG" | tail -15)" ||
	    return 1
	awk "BEGIN{exit !($gap < 10)}" ||
	    fail "no reply for $gap s" || return 1
	[ -n "$(te_replies "$WORK/ping.txt" "$(fsum "$t0" 10)")" ] ||
	    fail "no replies 10 s after the block" || return 1
}

# te_udp_icmp IP PORT: sends a UDP datagram with IP_RECVERR and prints the
# ICMP error that comes back as "type/code", or "none" after 3 s.
te_udp_icmp() {
	ip netns exec "$E2E_C" python3 -c '
import select, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 11, 1)          # IP_RECVERR
s.connect((sys.argv[1], int(sys.argv[2])))
s.send(b"x")
p = select.poll()
p.register(s, select.POLLERR)
if not p.poll(3000):
    print("none")
    sys.exit()
_, anc, _, _ = s.recvmsg(64, 512, socket.MSG_ERRQUEUE)
for level, typ, data in anc:
    if level == socket.IPPROTO_IP and typ == 11:
        errno_, origin, t, c = struct.unpack("=IBBB", data[:7])
        print("%d/%d" % (t, c))
        break
else:
    print("none")' "$1" "$2"
}

# te_tcp_connect IP PORT: "ok", or the error and how long it took.
te_tcp_connect() {
	ip netns exec "$E2E_C" python3 -c '
import socket, sys, time
t = time.monotonic()
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
    print("ok")
except OSError as e:
    print("%s %.2f" % (e.errno, time.monotonic() - t))' "$1" "$2"
}

# Filters: tcp/443 and icmp allowed, tcp/22 (served by the resource host)
# refused by the gateway with ICMP "administratively prohibited"; then
# icmp taken out of the filters (resource_updated): ping refused.
t_e2e_filters() {
	local out
	e2e_topology flat 1 '[
	  {"id": "'$E2E_RES1'", "type": "cidr", "address": "10.20.0.0/24",
	   "name": "Site A LAN",
	   "filters": [{"protocol": "tcp", "port_range_start": 443,
	                "port_range_end": 443}, {"protocol": "icmp"}],
	   "sites": [{"id": "'$E2E_SITE1'", "name": "Site A"}]}]' ||
	    return 1
	te_first_packet 10.20.0.2 >/dev/null || return 1
	out=$(e2e_fetch http://10.20.0.2:443/index.html 2>&1)
	[ "$out" = "$(sha256sum <"$WORK/www1/index.html" | cut -d' ' -f1)" ] ||
	    fail "tcp/443: $out" || return 1
	out=$(te_tcp_connect 10.20.0.2 22)
	echo "tcp/22: $out"
	# 113 EHOSTUNREACH is how Linux reports ICMP 3/13 on a TCP connect,
	# at once; a silent drop would time out.
	[[ $out =~ ^113\ [0-2]\. ]] ||
	    fail "tcp/22 not refused at once with EHOSTUNREACH: $out" ||
	    return 1
	out=$(te_udp_icmp 10.20.0.2 22)
	echo "udp/22: ICMP $out"
	[ "$out" = 3/13 ] ||
	    fail "udp/22: ICMP $out, want 3/13 (administratively" \
	    "prohibited)" || return 1
	e2e_stub '{"cmd":"update_resource","resource":
	  {"id": "'$E2E_RES1'", "type": "cidr", "address": "10.20.0.0/24",
	   "name": "Site A LAN",
	   "filters": [{"protocol": "tcp", "port_range_start": 443,
	                "port_range_end": 443}],
	   "sites": [{"id": "'$E2E_SITE1'", "name": "Site A"}]}}' \
	    >/dev/null || return 1
	no_ping() {
		! ip netns exec "$E2E_C" ping -c 1 -W 1 10.20.0.2
	}
	wait_until 5 no_ping ||
	    fail "ping still answered after icmp left the filters" ||
	    return 1
	out=$(ip netns exec "$E2E_C" ping -c 1 -W 2 10.20.0.2 2>&1)
	echo "$out"
	out=$(e2e_fetch http://10.20.0.2:443/index.html 2>&1)
	[ "$out" = "$(sha256sum <"$WORK/www1/index.html" | cut -d' ' -f1)" ] ||
	    fail "tcp/443 after the update: $out" || return 1
	te_healthy
}

# Two sites, two gateways: both resources at once; gateway 1 killed: site
# B keeps working; gateway 1 restarted: site A recovers.
t_e2e_two_sites() {
	local t0 t1 gap
	e2e_topology flat 2 || return 1
	te_first_packet 10.20.0.2 >/dev/null || return 1
	te_first_packet 10.30.0.2 >/dev/null || return 1
	[ "$(fzc_cli "$E2E_CDIR" --json peers |
	    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["peers"]))')" = 2 ] ||
	    fail "not two peers: $(fzc_cli "$E2E_CDIR" peers)" || return 1
	te_ping_bg "$WORK/pingB.txt" 10.30.0.2
	sleep 1
	t0=$(now_s)
	kill -KILL "${E2E_GPID[1]}"
	e2e_stub '{"cmd":"wait","what":"gateway_offline",
	    "value":"'"$E2E_GW1"'","timeout":10}' >/dev/null ||
	    fail "the stub still has gateway 1" || return 1
	! ip netns exec "$E2E_C" ping -c 2 -W 1 10.20.0.2 >/dev/null ||
	    fail "site A answers with its gateway dead" || return 1
	sleep 2
	e2e_gateway 1 || return 1
	e2e_gateway_online 1 20 ||
	    fail "gateway 1 not back: $(tail -20 "${E2E_GLOG[1]}")" ||
	    return 1
	wait_until 60 ip netns exec "$E2E_C" ping -c 1 -W 1 10.20.0.2
	t1=$(now_s)
	kill "$TE_PING"
	gap=$(te_max_gap "$WORK/pingB.txt" "$t0" "$t1")
	echo "site A back $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s" \
	    "after the kill; site B's longest gap: $gap s"
	ip netns exec "$E2E_C" ping -c 2 -W 2 10.20.0.2 ||
	    fail "site A not back within 60 s of the restart:" \
	    "$(grep -i "$E2E_GW1\|authoriz" "$E2E_CLOG" | tail -15)" ||
	    return 1
	awk "BEGIN{exit !($gap < 2)}" ||
	    fail "site B interrupted for $gap s" || return 1
	te_healthy
}

# The portal killed and restarted (same port) during an iperf3 run: no
# second without traffic; client and gateway reconnect.
t_e2e_portal_restart() {
	local n0
	e2e_topology flat || return 1
	te_first_packet 10.20.0.2 >/dev/null || return 1
	te_iperf_bg 12
	sleep 3
	kill -KILL "$E2E_PORTAL_PID"
	wait "$E2E_PORTAL_PID" 2>/dev/null
	sleep 2
	e2e_portal "$E2E_PORT" || return 1
	e2e_gateway_online 1 20 ||
	    fail "gateway did not come back: $(tail -10 "${E2E_GLOG[1]}")" ||
	    return 1
	wait_until 20 e2e_client_connected ||
	    fail "client did not come back: $(tail -10 "$E2E_CLOG")" ||
	    return 1
	te_iperf_check || return 1
	ip netns exec "$E2E_C" ping -c 2 -W 2 10.20.0.2 ||
	    fail "no ping after the run" || return 1
	te_healthy
}

# te_pubkey ROLE: the public_key query parameter of ROLE's last connection.
te_pubkey() {
	e2e_stub '{"cmd":"state","role":"'"$1"'"}' | python3 -c '
import json, sys, urllib.parse
v = json.loads(sys.stdin.readline())
print(urllib.parse.parse_qs(v["last_query"])["public_key"][0])'
}

# controld killed on each side during an iperf3 run: traffic keeps
# flowing, controld comes back and rejoins with the same public key, and
# the connection is the same one (ICE did not start again).
t_e2e_controld_killed() {
	local pk gpk cpid gcpid nc ng
	e2e_topology flat || return 1
	te_first_packet 10.20.0.2 >/dev/null || return 1
	pk=$(te_pubkey client)
	gpk=$(te_pubkey gateway)
	nc=$(te_count client phx_join)
	ng=$(te_count gateway phx_join)
	cpid=$(controld_pid "$E2E_CDIR")
	gcpid=$(controld_pid "$WORK/gw1")
	te_iperf_bg 12
	sleep 2
	kill -KILL "$cpid"
	sleep 3
	kill -KILL "$gcpid"
	back() {
		local p
		p=$(controld_pid "$1") && [ "$p" != "$2" ] &&
		    [ "$(te_count "$3" phx_join)" -gt "$4" ]
	}
	wait_until 20 back "$E2E_CDIR" "$cpid" client "$nc" ||
	    fail "client controld not back and joined:" \
	    "$(tail -10 "$E2E_CLOG")" || return 1
	wait_until 20 back "$WORK/gw1" "$gcpid" gateway "$ng" ||
	    fail "gateway controld not back and joined:" \
	    "$(tail -10 "${E2E_GLOG[1]}")" || return 1
	te_iperf_check || return 1
	[ "$(te_pubkey client)" = "$pk" ] ||
	    fail "client rejoined with another key" || return 1
	[ "$(te_pubkey gateway)" = "$gpk" ] ||
	    fail "gateway rejoined with another key" || return 1
	[ "$(grep -c "ICE with $E2E_GW1: checking" "$E2E_CLOG")" = 1 ] ||
	    fail "the client's connection was made again:" \
	    "$(grep "ICE with" "$E2E_CLOG")" || return 1
	te_healthy
}

# te_stops_within FILE T0 SECONDS: replies in FILE before T0, none after
# T0 + SECONDS.
te_stops_within() {
	local last after
	[ -n "$(te_replies "$1" 0 "$2")" ] ||
	    fail "no replies before the change" || return 1
	last=$(te_replies "$1" "$2" | tail -n 1)
	after=$(te_replies "$1" "$(fsum "$2" "$3")")
	echo "last reply $(awk "BEGIN{printf \"%.2f\", ${last:-$2} - $2}")" \
	    "s after the change"
	[ -z "$after" ] ||
	    fail "replies more than $3 s after the change: $after"
}

# A revoked policy (reject_access to the gateway; the client keeps the
# resource but is refused from now on): traffic stops within 2 s.
t_e2e_reject_access() {
	local t0
	e2e_topology flat || return 1
	te_first_packet 10.20.0.2 >/dev/null || return 1
	te_ping_bg "$WORK/ping.txt" 10.20.0.2 0.1
	sleep 1
	t0=$(now_s)
	e2e_stub '{"cmd":"revoke_policy","resource_id":"'"$E2E_RES1"'",
	    "keep_resource":true}' | grep -q '"rejected": 1' ||
	    fail "reject_access not sent" || return 1
	sleep 5
	kill "$TE_PING"
	te_stops_within "$WORK/ping.txt" "$t0" 2 || return 1
	te_healthy
}

# resource_deleted: traffic stops within 2 s and the route is gone.
t_e2e_resource_deleted() {
	local t0 t1
	e2e_topology flat || return 1
	te_first_packet 10.20.0.2 >/dev/null || return 1
	te_ping_bg "$WORK/ping.txt" 10.20.0.2 0.1
	sleep 1
	t0=$(now_s)
	e2e_stub '{"cmd":"delete_resource","id":"'"$E2E_RES1"'"}' \
	    >/dev/null || return 1
	no_route() { ! e2e_route 10.20.0.0/24; }
	wait_until 2 no_route
	t1=$(now_s)
	sleep 4
	kill "$TE_PING"
	no_route ||
	    fail "route still there: $(ip -n "$E2E_C" route show table all)" ||
	    return 1
	echo "route gone after $(awk "BEGIN{printf \"%.2f\", $t1 - $t0}") s"
	te_stops_within "$WORK/ping.txt" "$t0" 2 || return 1
	te_healthy
}

# te_snapshot NS: what fzc may change in NS: links, addresses, rules, all
# routing tables, the nftables ruleset (IPv6 link-local addresses, which
# come and go with duplicate address detection, left out).
te_snapshot() {
	{
		ip -n "$1" -o link show | sed 's/^[0-9]*: //; s/ state .*//'
		ip -n "$1" -o addr show
		ip -n "$1" rule show
		ip -n "$1" -6 rule show
		ip -n "$1" route show table all
		ip -n "$1" -6 route show table all
		ip netns exec "$1" nft list ruleset
	} 2>&1 | grep -v 'fe80::'
}

# te_stop_daemons: SIGTERM to the client's and gateway 1's tunneld: both
# exit 0 and leave no process in their namespaces.
te_stop_daemons() {
	local rc pids
	kill -TERM "$E2E_CPID" "${E2E_GPID[1]}"
	wait "$E2E_CPID"
	rc=$?
	[ "$rc" = 0 ] || fail "client tunneld exited with $rc" || return 1
	wait "${E2E_GPID[1]}"
	rc=$?
	[ "$rc" = 0 ] || fail "gateway tunneld exited with $rc" || return 1
	sleep 0.5
	pids=$(ip netns pids "$E2E_C"; ip netns pids "${E2E_G[1]}")
	[ -z "$pids" ] ||
	    fail "processes left: $(ps -o pid,cmd -p "$(echo $pids |
	    tr ' ' ,)")"
}

# After a run with traffic, SIGTERM to both daemons: both exit 0 and
# leave the client's and the gateway's namespaces as they were.
t_e2e_nothing_left() {
	local before_c before_g
	e2e_net flat 1 || return 1
	e2e_pki && e2e_coturn && e2e_resources 1 && e2e_scenario &&
	    e2e_portal || return 1
	before_c=$(te_snapshot "$E2E_C")
	before_g=$(te_snapshot "${E2E_G[1]}")
	e2e_gateway 1 || return 1
	e2e_gateway_online 1 15 || fail "gateway not joined" || return 1
	e2e_client || return 1
	wait_until 15 e2e_client_connected || fail "not connected" ||
	    return 1
	te_first_packet 10.20.0.2 >/dev/null || return 1
	te_stop_daemons || return 1
	diff <(echo "$before_c") <(te_snapshot "$E2E_C") ||
	    fail "the client's namespace changed" || return 1
	diff <(echo "$before_g") <(te_snapshot "${E2E_G[1]}") ||
	    fail "the gateway's namespace changed" || return 1
	te_healthy
}

# te_internet_topology: the flat world with site A's CIDR resource and
# the Internet resource, which can be disabled.
te_internet_topology() {
	e2e_topology flat 1 '[
	  {"id": "'$E2E_RES1'", "type": "cidr", "address": "10.20.0.0/24",
	   "name": "Site A LAN", "filters": [],
	   "sites": [{"id": "'$E2E_SITE1'", "name": "Site A"}]},
	  {"id": "'$E2E_RES_INET'", "type": "internet", "can_be_disabled": true,
	   "sites": [{"id": "'$E2E_SITE1'", "name": "Site A"}]}]'
}

# te_echo_server IP: an "internet" web server on the portal's host, on
# IP port 8080, that answers with the address it sees.
te_echo_server() {
	ip netns exec "$E2E_P" /usr/bin/python3 -c '
import http.server, socket, socketserver, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        b = self.client_address[0].encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
class S(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6 if ":" in sys.argv[1] else \
        socket.AF_INET
    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]
S((sys.argv[1], 8080), H).serve_forever()' "$1" &
	PIDS+=($!)
	wait_until 5 te_whoami "$1" || fail "no echo server on $1"
}

# te_whoami IP: the client's address as the echo server on IP sees it.
te_whoami() {
	local host=$1
	[[ $host != *:* ]] || host="[$host]"
	ip netns exec "$E2E_C" python3 -c '
import sys, urllib.request
print(urllib.request.urlopen("http://%s:8080/" % sys.argv[1],
                             timeout=5).read().decode())' "$host"
}

# Internet resource: on -> a host beyond the gateway's side sees the
# gateway's address, while the portal connection (same host) stays
# outside the tunnel; off -> routing identical to before.
t_e2e_internet() {
	local before after seen n0
	te_internet_topology || return 1
	te_echo_server "$E2E_PORTAL_IP" || return 1
	whoami() {
		te_whoami "$E2E_PORTAL_IP"
	}
	seen=$(whoami)
	[ "$seen" = "$E2E_CLIENT_IP" ] || fail "off: seen as $seen" ||
	    return 1
	before=$(te_snapshot "$E2E_C" | grep -v 'fzc0\|^[0-9]*: lo')
	n0=$(e2e_stub '{"cmd":"state"}' | python3 -c '
import json, sys; print(json.loads(sys.stdin.readline())["connection_count"])')
	fzc_cli "$E2E_CDIR" internet on || fail "fzc internet on" ||
	    return 1
	is_gw() { [ "$(whoami)" = 10.82.0.2 ]; }
	wait_until 15 is_gw ||
	    fail "on: seen as $(whoami 2>&1), not the gateway's 10.82.0.2" ||
	    return 1
	sleep 12
	[ "$(e2e_stub '{"cmd":"state"}' | python3 -c '
import json, sys; print(json.loads(sys.stdin.readline())["connection_count"])')" = "$n0" ] &&
	    e2e_client_connected ||
	    fail "the portal connection did not survive: $(tail -5 "$E2E_CLOG")" ||
	    return 1
	fzc_cli "$E2E_CDIR" internet off || fail "fzc internet off" ||
	    return 1
	wait_until 5 eval '[ "$(whoami)" = "$E2E_CLIENT_IP" ]' ||
	    fail "off again: seen as $(whoami 2>&1)" || return 1
	after=$(te_snapshot "$E2E_C" | grep -v 'fzc0\|^[0-9]*: lo')
	diff <(echo "$before") <(echo "$after") ||
	    fail "routing differs after off" || return 1
	te_healthy
}

# Internet resource in dual stack: on -> an IPv6 host beyond the gateway's
# side sees the gateway's IPv6 address (::/0 through the tunnel), off ->
# the client's own again.
t_e2e_internet_ipv6() {
	local E2E_IPV6=1 seen
	te_internet_topology || return 1
	te_echo_server fd80::2 || return 1
	seen=$(te_whoami fd80::2)
	[ "$seen" = fd81::2 ] || fail "off: seen as $seen" || return 1
	fzc_cli "$E2E_CDIR" internet on || fail "fzc internet on" ||
	    return 1
	wait_until 15 eval '[ "$(te_whoami fd80::2)" = fd82::2 ]' ||
	    fail "on: seen as $(te_whoami fd80::2 2>&1), not the gateway's" \
	    "fd82::2" || return 1
	fzc_cli "$E2E_CDIR" internet off || fail "fzc internet off" ||
	    return 1
	wait_until 5 eval '[ "$(te_whoami fd80::2)" = fd81::2 ]' ||
	    fail "off again: seen as $(te_whoami fd80::2 2>&1)" || return 1
	te_healthy
}

# te_allocated DIR N: the instance in DIR has N relay allocations.
te_allocated() {
	[ "$(fzc_cli "$1" --json netcheck 2>/dev/null | python3 -c '
import json, sys
print(sum(1 for r in json.load(sys.stdin).get("relays", [])
          if r.get("state") == "allocated"))')" = "$2" ]
}

# te_path_via IP [DIR]: the client's (DIR's) path is relayed, on relay
# address IP.
te_path_via() {
	[[ $(e2e_peer_path "${2:-$E2E_CDIR}") == "relayed $1:"* ]]
}

# te_relay_deltas SECONDS: the bytes each relay's address carried in the
# next SECONDS, as "B1 B2".
te_relay_deltas() {
	local a1 a2 b1 b2
	a1=$(e2e_relay_bytes_of 1) && a2=$(e2e_relay_bytes_of 2) || return 1
	sleep "$1"
	b1=$(e2e_relay_bytes_of 1) && b2=$(e2e_relay_bytes_of 2) || return 1
	echo "$((b1 - a1)) $((b2 - a2))"
}

# Issue 5: relays removed live. Two relays, the only paths between client
# and gateway; the one carrying the traffic goes away (coturn killed and
# relays_presence with it in disconnected_ids to both sides): traffic is
# back through the other relay within 15 s and stays there, a 16 MiB
# download gets through, both daemons exit cleanly afterwards.
t_e2e_relay_removed_live() {
	local E2E_RELAYS=2 E2E_FILE_MIB=16
	local d dv gone keep t0 t1 gap sha out rb
	e2e_topology relay || return 1
	for d in "$E2E_CDIR" "$WORK/gw1"; do
		wait_until 10 te_allocated "$d" 2 ||
		    fail "$d: not allocated on both relays:" \
		    "$(fzc_cli "$d" netcheck 2>&1)" || return 1
	done
	te_first_packet 10.20.0.2 >/dev/null || return 1
	wait_until 10 te_path_is relayed ||
	    fail "not relayed: $(e2e_peer_path)" || return 1
	te_ping_bg "$WORK/ping.txt" 10.20.0.2
	sleep 1
	dv=($(te_relay_deltas 2)) || return 1
	echo "before: relay 1 ${dv[0]} B, relay 2 ${dv[1]} B in 2 s;" \
	    "path: $(e2e_peer_path)"
	gone=1 keep=2
	[ "${dv[1]}" -le "${dv[0]}" ] || gone=2 keep=1
	[ "${dv[gone - 1]}" -gt 2000 ] ||
	    fail "no relay carries the ping" || return 1
	echo "removing relay $gone (${E2E_RELAY_IPS[gone]})"
	t0=$(now_s)
	kill -KILL "${E2E_COTURN_PIDS[gone]}"
	out=$(e2e_stub '{"cmd":"relays_presence",
	    "disconnected_ids":["'"${E2E_RELAY_IDS[gone]}"'"],
	    "connected":[]}') || fail "relays_presence: $out" || return 1
	[[ $out == *'"sent": 2'* ]] ||
	    fail "relays_presence not sent to both sides: $out" || return 1
	wait_until 15 te_path_via "${E2E_RELAY_IPS[keep]}"
	t1=$(now_s)
	echo "path $(fsum "$t1" "-$t0") s after the removal: $(e2e_peer_path)"
	rb=$(e2e_relay_bytes_of "$keep")
	sha=$(e2e_fetch http://10.20.0.2/file.bin "$WORK/fetch.txt")
	rb=$((($(e2e_relay_bytes_of "$keep") - rb) >> 20))
	echo "download: $(cat "$WORK/fetch.txt" 2>/dev/null) (s, bytes);" \
	    "relay $keep carried $rb MiB"
	# Replies are looked for until 20 s after the removal: past the ICE
	# timeout (16.5 s) of checks that went through the removed relay.
	sleep "$(awk "BEGIN{d = $t0 + 17 - $(now_s); print (d > 0 ? d : 0)}")"
	dv=($(te_relay_deltas 3)) || return 1
	kill "$TE_PING"
	echo "after: relay 1 ${dv[0]} B, relay 2 ${dv[1]} B in the last 3 s"
	gap=$(te_max_gap "$WORK/ping.txt" "$t0" "$(now_s)")
	echo "longest gap without a reply after the removal: $gap s"
	te_path_via "${E2E_RELAY_IPS[keep]}" ||
	    fail "path not on relay $keep: $(e2e_peer_path);" \
	    "client: $(grep -i 'relay\|ICE\|WireGuard goes' "$E2E_CLOG" |
	    tail -15); gateway: $(grep -i 'relay\|ICE\|WireGuard goes' \
	    "${E2E_GLOG[1]}" | tail -15)" || return 1
	echo "gateway's path: $(e2e_peer_path "$WORK/gw1")"
	te_path_via "${E2E_RELAY_IPS[keep]}" "$WORK/gw1" ||
	    fail "the gateway's path is not on relay $keep" || return 1
	[ "$sha" = "$E2E_FILE_SHA" ] ||
	    fail "sha256 $sha, want $E2E_FILE_SHA" || return 1
	# In and out of the relay: twice the file at least.
	[ "$rb" -ge $((2 * E2E_FILE_MIB)) ] ||
	    fail "only $rb MiB of the download via relay $keep" || return 1
	awk "BEGIN{exit !($gap < 15)}" ||
	    fail "no reply for $gap s" || return 1
	[ -n "$(te_replies "$WORK/ping.txt" "$(fsum "$t0" 15)")" ] ||
	    fail "no replies 15 s after the removal" || return 1
	[ "${dv[keep - 1]}" -gt 2000 ] ||
	    fail "relay $keep does not carry the ping" || return 1
	[ "${dv[gone - 1]}" -lt "$((dv[keep - 1] / 4))" ] ||
	    fail "still sending to the removed relay" || return 1
	te_healthy || return 1
	# Nothing left behind: both exit cleanly (and LeakSanitizer, in a
	# sanitizer build, has its say in the logs checked below).
	te_stop_daemons || return 1
	te_healthy
}

# The client loses its path (all its UDP dropped) long enough to give the
# gateway up, while the gateway, whose consent checks are slower, keeps
# its side. The client's next packet asks again; the gateway, still
# connected, signals its candidates again, and the client's new agent
# finds the direct path from them (not only as peer-reflexive).
t_e2e_client_reconnects_to_kept_gateway() {
	local mark
	e2e_topology flat || return 1
	te_first_packet 10.20.0.2 >/dev/null || return 1
	wait_until 5 te_path_is direct ||
	    fail "not direct at first: $(e2e_peer_path)" || return 1
	ip netns exec "$E2E_C" nft -f - <<'NFT'
table inet te_cut {
	chain output {
		type filter hook output priority filter; policy accept;
		meta l4proto udp drop
	}
	chain input {
		type filter hook input priority filter; policy accept;
		meta l4proto udp drop
	}
}
NFT
	client_dropped() {
		grep -q "gateway $E2E_GW1: connection disconnected; dropped" \
		    "$E2E_CLOG"
	}
	wait_until 20 client_dropped ||
	    fail "the client kept the gateway: $(grep -i 'ice' "$E2E_CLOG" |
	    tail -5)" || return 1
	mark=$(wc -l <"$E2E_CLOG")
	ip netns exec "$E2E_C" nft delete table inet te_cut
	grep -q "client $E2E_CLIENT_ID: connection .*; dropped" \
	    "${E2E_GLOG[1]}" &&
	    fail "the gateway dropped the client too; the test needs it kept" &&
	    return 1
	ip netns exec "$E2E_C" ping -c 1 -W 10 10.20.0.2 >/dev/null ||
	    fail "no answer after the reconnection: $(tail -20 "$E2E_CLOG")" ||
	    return 1
	tail -n +"$mark" "$E2E_CLOG" | grep -q \
	    'client state: IPC_REMOTE_CANDIDATE .* typ host' ||
	    fail "no candidates from the kept gateway: $(tail -n +"$mark" \
	    "$E2E_CLOG" | grep -i 'candidate\|ICE' | head -10)" || return 1
	wait_until 5 te_path_is direct ||
	    fail "not direct again: $(e2e_peer_path)" || return 1
	te_healthy || return 1
}
