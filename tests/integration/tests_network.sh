# tests_network.sh: networks that come and go under the client (issue 15):
# a boot without network, an address that moves during a download, a
# suspend and resume. The e2e topology of lib.sh: stub portal, coturn, an
# fzc gateway, the client in flat mode. Sourced by run.sh; each t_* runs in
# its own subshell; te_* helpers come from tests_e2e.sh.

# tn_world [MODE]: everything but the client: namespaces (flat unless
# MODE), coturn, the resource, the stub portal and gateway 1 joined.
tn_world() {
	e2e_net "${1:-flat}" || return 1
	e2e_pki || return 1
	e2e_coturn || return 1
	e2e_resources 1 || return 1
	e2e_scenario || return 1
	e2e_portal || return 1
	e2e_gateway 1 || return 1
	e2e_gateway_online 1 15 ||
	    fail "gateway not joined: $(tail -15 "${E2E_GLOG[1]}")" || return 1
}

tn_pstate() {
	status_field "$E2E_CDIR" portal.state 2>/dev/null
}

# tn_relay_from IP: the client's relay allocation is up and the relay
# sees the client at IP.
tn_relay_from() {
	fzc_cli "$E2E_CDIR" --json netcheck 2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin).get("relays", [])
sys.exit(not r or r[0].get("state") != "allocated" or
         not str(r[0].get("server_reflexive", "")).startswith(sys.argv[1] + ":"))
' "$1"
}

# tn_slow_fetch URL OUT: the body of URL read 64 KiB every 20 ms (about
# 3 MB/s, so that a change of network falls in the middle); "sha256 bytes
# seconds" into OUT when done, "error: ..." when not. Sets TN_FETCH.
tn_slow_fetch() {
	ip netns exec "$E2E_C" /usr/bin/python3 - "$1" "$2" <<'PY' &
import hashlib, sys, time, urllib.request
t = time.monotonic()
h = hashlib.sha256()
n = 0
try:
    with urllib.request.urlopen(sys.argv[1], timeout=60) as r:
        while True:
            b = r.read(1 << 16)
            if not b:
                break
            h.update(b)
            n += len(b)
            time.sleep(0.02)
    out = "%s %d %.1f" % (h.hexdigest(), n, time.monotonic() - t)
except Exception as e:
    out = "error: %s after %d bytes" % (e, n)
with open(sys.argv[2], "w") as f:
    f.write(out + "\n")
PY
	TN_FETCH=$!
	PIDS+=("$TN_FETCH")
}

# tn_fetch_matches: tn_slow_fetch has ended with the file's sha256; the
# client's ICE, relay and network log lines when not.
tn_fetch_matches() {
	local out
	wait "$TN_FETCH"
	out=$(cat "$WORK/fetch.txt")
	echo "download: $out"
	[ "${out%% *}" = "$E2E_FILE_SHA" ] ||
	    fail "download after the move: $out;" \
	    "$(grep -i 'ice\|relay\|path\|network\|portal' "$E2E_CLOG" |
	    tail -25)"
}

# A machine that boots before its network: the client starts with its
# uplink down and keeps trying (waiting, with the reason and the next
# try), well past the 15 s after which it used to sign out; when the
# uplink comes up, the network change makes it connect at once, and the
# tunnel works.
t_network_boot_offline() {
	local reason retry sha
	tn_world || return 1
	ip -n "$E2E_C" link set eth0 down
	e2e_client || return 1
	wait_until 10 eval '[ "$(tn_pstate)" = waiting ]' ||
	    fail "state $(tn_pstate), not waiting: $(tail -15 "$E2E_CLOG")" ||
	    return 1
	sleep 25
	[ "$(tn_pstate)" = waiting ] ||
	    fail "state $(tn_pstate) after 25 s without network:" \
	    "$(status_field "$E2E_CDIR" portal.reason)" || return 1
	reason=$(status_field "$E2E_CDIR" portal.reason)
	retry=$(status_field "$E2E_CDIR" portal.retry_in_s)
	echo "after 25 s: waiting ($reason), next try in $retry s"
	[ -n "$reason" ] || fail "no reason shown" || return 1
	fzc_cli "$E2E_CDIR" status | grep -q '^portal: *waiting (.*), retrying in ' ||
	    fail "fzc status: $(fzc_cli "$E2E_CDIR" status)" || return 1
	[ -e "$E2E_CDIR/token" ] || fail "token file lost" || return 1
	# The uplink comes up: link, then its default route.
	ip -n "$E2E_C" link set eth0 up
	ip -n "$E2E_C" route replace default via 10.81.0.1
	# Connected soon after: faster than the backoff (by now 5 s and
	# more between tries) would have it.
	wait_until 4 e2e_client_connected ||
	    fail "not connected 4 s after the uplink came up:" \
	    "$(tail -20 "$E2E_CLOG")" || return 1
	# A try of the backoff may land before the debounced change (0.5 s):
	# the change must still be seen and acted on.
	wait_until 3 grep -q 'network change: ' "$E2E_CLOG" ||
	    fail "tunneld saw no network change" || return 1
	wait_until 3 grep -q 'portal: the network changed; connecting again now' \
	    "$E2E_CLOG" || fail "controld did not reconnect at once" ||
	    return 1
	wait_until 5 e2e_route 10.20.0.0/24 ||
	    fail "no route to the resource" || return 1
	te_first_packet 10.20.0.2 >/dev/null || return 1
	sha=$(e2e_fetch http://10.20.0.2/file.bin)
	[ "$sha" = "$E2E_FILE_SHA" ] || fail "sha256 $sha" || return 1
	te_healthy
}

# --max-partition-time: without a portal for that long the session ends
# (signed out, saying why) and keeps the token; a bad value is refused at
# the start.
t_network_max_partition_time() {
	local reason out
	tn_world || return 1
	out=$(ip netns exec "$E2E_C" "$B/fzc-tunneld" --max-partition-time \
	    5x 2>&1) && fail "--max-partition-time 5x accepted" || true
	grep -q 'not a duration' <<<"$out" ||
	    fail "bad duration: $out" || return 1
	ip -n "$E2E_C" link set eth0 down
	MAX_PARTITION_TIME=1m e2e_client --max-partition-time 8s || return 1
	wait_until 5 eval '[ "$(tn_pstate)" = waiting ]' ||
	    fail "state $(tn_pstate), not waiting" || return 1
	wait_until 15 eval '[ "$(tn_pstate)" = signed_out ]' ||
	    fail "still $(tn_pstate) 15 s later" || return 1
	reason=$(status_field "$E2E_CDIR" portal.reason)
	echo "reason: $reason"
	grep -q 'max-partition-time' <<<"$reason" ||
	    fail "reason does not say why: $reason" || return 1
	[ -e "$E2E_CDIR/token" ] || fail "token file lost" || return 1
	kill -0 "$E2E_CPID" || fail "tunneld gone" || return 1
}

# During a download through the tunnel the client moves to another
# address: the download completes intact, the gateway sees the client at
# its new address, and the path is direct again.
t_network_address_move() {
	local gw
	tn_world || return 1
	e2e_client || return 1
	wait_until 15 e2e_client_connected ||
	    fail "client not connected: $(tail -15 "$E2E_CLOG")" || return 1
	wait_until 5 e2e_route 10.20.0.0/24 || fail "no route" || return 1
	te_first_packet 10.20.0.2 >/dev/null || return 1
	wait_until 10 te_path_is direct ||
	    fail "not direct at first: $(e2e_peer_path)" || return 1
	tn_slow_fetch http://10.20.0.2/file.bin "$WORK/fetch.txt"
	sleep 3
	[ ! -s "$WORK/fetch.txt" ] ||
	    fail "the download ended before the move: $(cat "$WORK/fetch.txt")" ||
	    return 1
	echo "moving the client from $E2E_CLIENT_IP to 10.81.0.3"
	ip netns exec "$E2E_C" sysctl -qw net.ipv4.conf.eth0.promote_secondaries=1
	ip -n "$E2E_C" addr add 10.81.0.3/24 dev eth0
	ip -n "$E2E_C" addr del "$E2E_CLIENT_IP/24" dev eth0
	ip -n "$E2E_C" route replace default via 10.81.0.1
	tn_fetch_matches || return 1
	grep -q 'network change: an address changed' "$E2E_CLOG" ||
	    fail "tunneld saw no address change" || return 1
	gw() {
		e2e_peer_path "$WORK/gw1" | grep -q '^direct 10\.81\.0\.3:'
	}
	wait_until 20 gw ||
	    fail "the gateway's path to the client: $(e2e_peer_path "$WORK/gw1")" ||
	    return 1
	wait_until 10 te_path_is direct ||
	    fail "path after the move: $(e2e_peer_path)" || return 1
	ip netns exec "$E2E_C" ping -c 3 -i 0.2 -W 2 10.20.0.2 >/dev/null ||
	    fail "no ping after the move" || return 1
	# The relay: allocated, and seeing the client at its new address
	# (a refresh from there is refused: a new allocation, no 437 loop).
	wait_until 15 tn_relay_from 10.81.0.3 ||
	    fail "relay after the move: $(fzc_cli "$E2E_CDIR" netcheck);" \
	    "$(grep -i 'relay' "$E2E_CLOG" | tail -10)" || return 1
	te_healthy
}

# A suspend, simulated by stopping both client daemons for 20 s (the
# monotonic clock runs on, as it does not while asleep; the check of the
# clocks sees either): on SIGCONT tunneld notices, resets, controld
# reconnects to the portal at once, and traffic flows again.
t_network_suspend() {
	local cpid n
	tn_world || return 1
	e2e_client || return 1
	wait_until 15 e2e_client_connected ||
	    fail "client not connected: $(tail -15 "$E2E_CLOG")" || return 1
	wait_until 5 e2e_route 10.20.0.0/24 || fail "no route" || return 1
	te_first_packet 10.20.0.2 >/dev/null || return 1
	cpid=$(controld_pid "$E2E_CDIR") || fail "no controld pid" || return 1
	n=$(grep -c 'portal: connecting' "$E2E_CLOG")
	kill -STOP "$E2E_CPID" "$cpid"
	sleep 20
	kill -CONT "$E2E_CPID" "$cpid"
	wait_until 10 grep -q 'network change: the host slept' "$E2E_CLOG" ||
	    fail "tunneld did not notice the stop" || return 1
	wait_until 10 eval '[ "$(grep -c "portal: connecting" "$E2E_CLOG")" -gt "$n" ]' ||
	    fail "controld did not reconnect" || return 1
	wait_until 10 e2e_client_connected ||
	    fail "not connected after the resume: $(tail -15 "$E2E_CLOG")" ||
	    return 1
	wait_until 10 ip netns exec "$E2E_C" ping -c 1 -W 1 10.20.0.2 ||
	    fail "no traffic after the resume" || return 1
	te_healthy
}

# During a download the client moves behind another home router (the
# laptop goes from one Wi-Fi to another): a second router NC2 (WAN
# 10.80.5.2, LAN 10.84.0.0/24) on the client's second link, which comes up
# as the first goes down. The download completes intact, the gateway
# sees the client at the new router's address, directly, and the client's
# path is direct again.
t_network_nat_move() {
	local t0 gap
	tn_world nat || return 1
	new_netns E2E_NC2 cnat2 || return 1
	e2e_site_router "$E2E_NC2" c5 5 84 || return 1
	link_pair eth1 "$E2E_NC2" 10.84.0.1/24 "$E2E_C" 10.84.0.2/24 ||
	    return 1
	ip -n "$E2E_C" link set eth1 down
	e2e_client || return 1
	wait_until 15 e2e_client_connected ||
	    fail "client not connected: $(tail -15 "$E2E_CLOG")" || return 1
	wait_until 5 e2e_route 10.20.0.0/24 || fail "no route" || return 1
	te_first_packet 10.20.0.2 >/dev/null || return 1
	wait_until 15 te_path_is direct ||
	    fail "not direct at first: $(e2e_peer_path)" || return 1
	te_ping_bg "$WORK/ping.txt" 10.20.0.2
	tn_slow_fetch http://10.20.0.2/file.bin "$WORK/fetch.txt"
	sleep 3
	[ ! -s "$WORK/fetch.txt" ] ||
	    fail "the download ended before the move: $(cat "$WORK/fetch.txt")" ||
	    return 1
	t0=$(now_s)
	echo "moving the client from behind 10.80.2.2 to behind 10.80.5.2"
	ip -n "$E2E_C" link set eth0 down
	ip -n "$E2E_C" link set eth1 up
	ip -n "$E2E_C" route replace default via 10.84.0.1
	tn_fetch_matches || return 1
	gw() {
		e2e_peer_path "$WORK/gw1" | grep -q '^direct 10\.80\.5\.2:'
	}
	wait_until 20 gw ||
	    fail "the gateway's path to the client: $(e2e_peer_path "$WORK/gw1")" ||
	    return 1
	wait_until 10 te_path_is direct ||
	    fail "path after the move: $(e2e_peer_path)" || return 1
	sleep 1
	kill "$TE_PING"
	gap=$(te_max_gap "$WORK/ping.txt" "$t0" "$(now_s)")
	echo "longest gap without a ping reply after the move: $gap s"
	awk "BEGIN{exit !($gap < 10)}" || fail "no reply for $gap s" ||
	    return 1
	te_healthy
}
