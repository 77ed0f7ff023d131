# tests_client.sh: the client role against the stub portal: the tunnel
# device from init, routes for CIDR resources, the first packet to a
# resource leading to an authorization, and what reaches tunneld.
# Sourced by run.sh; each t_* runs in its own subshell.

CL_RES=a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7a
CL_RES2=0f3e5c7a-9b1d-4e2f-8a6c-4d2b0e8f6a1c
CL_SITE=5d1b0c9a-7e3f-4a21-8c6d-9e8f7a6b5c4d
CL_GW=77aa11bb-22cc-4d33-8e44-55ff66aa77bb

# cl_up [SCENARIO-EXTRA-JSON]: stub portal (ws://, in the namespace) and
# fzc signed in; sets NS, CTL, DIR.
cl_up() {
	local extra=${1:-} port
	if [ -n "${NETNS_PRESET:-}" ]; then
		NS=$NETNS_PRESET
	else
		new_netns NS client || return 1
	fi
	DIR=$WORK/a
	CTL=$WORK/portal.ctl
	mkdir -p "$DIR"
	chmod 755 "$DIR"
	cat >"$WORK/scenario.json" <<JSON
{
  "sites": [{"id": "$CL_SITE", "name": "HQ"}],
  "resources": [
    {"id": "$CL_RES", "type": "cidr", "address": "10.20.0.0/16",
     "name": "HQ LAN", "filters": [],
     "sites": [{"id": "$CL_SITE", "name": "HQ"}]},
    {"id": "$CL_RES2", "type": "cidr", "address": "10.30.1.0/24",
     "name": "Lab", "filters": [],
     "sites": [{"id": "$CL_SITE", "name": "HQ"}]}
  ],
  "gateways": [{"id": "$CL_GW", "site_id": "$CL_SITE",
                "public_key": "xLeUfO5Lnz0pPj/xBmkAIb+9UjAZs/JHWIv4VggjpAQ=",
                "ipv4": "100.82.5.17", "ipv6": "fd00:2021:1111::3:9c4e",
                "version": "1.6.1", "online": true}]
  $extra
}
JSON
	ip netns exec "$NS" /usr/bin/python3 "$SRCDIR/tests/portal/stub_portal.py" \
	    --plain --listen 127.0.0.1:0 --token cl-token \
	    --scenario "$WORK/scenario.json" --control "$CTL" \
	    >"$WORK/portal.out" 2>"$WORK/portal.log" &
	PIDS+=($!)
	wait_until 10 grep -q '^PORT ' "$WORK/portal.out" ||
	    fail "stub portal: $(cat "$WORK/portal.log")" || return 1
	port=$(awk '/^PORT /{print $2}' "$WORK/portal.out")
	echo cl-token >"$DIR/token"
	chmod 600 "$DIR/token"
	start_tunneld "$NS" "$DIR" --api-url "ws://127.0.0.1:$port" \
	    --interface "fzcl$$"
	wait_until 10 portal_connected ||
	    fail "not connected: $(cat "$TLOG")" || return 1
	wait_until 5 has_route 10.20.0.0/16 ||
	    fail "no route: $(ip -n "$NS" route show table all)" || return 1
}

# has_route PREFIX: routed into the tunnel device.
has_route() {
	ip -n "$NS" route show table all "$1" | grep -q "dev fzcl$$"
}

portal_connected() {
	fzc_cli "$DIR" --json status | grep -q '"portal":{"state":"connected"'
}

# stub CMD...: control commands; each must travel as one line.
stub() {
	local a args=()
	for a in "$@"; do
		a=${a//$'\n'/ }
		args+=("${a//$'\t'/ }")
	done
	/usr/bin/python3 "$SRCDIR/tests/portal/stub_portal.py" ctl "$CTL" \
	    "${args[@]}"
}

resource_field() {
	fzc_cli "$DIR" --json resources | python3 -c '
import json, sys
for r in json.load(sys.stdin)["resources"]:
    if r["id"] == sys.argv[1]:
        print(r.get(sys.argv[2]))' "$1" "$2"
}

# The tunnel device comes up with init's addresses and resource routes.
t_client_device_from_init() {
	local out
	cl_up || return 1
	out=$(ip -n "$NS" addr show "fzcl$$")
	echo "$out" | grep -q 'inet 100.64.0.2/32' &&
	    echo "$out" | grep -q 'inet6 fd00:2021:1111::2/128' &&
	    echo "$out" | grep -q 'mtu 1280' ||
	    fail "addresses: $out" || return 1
	ip -n "$NS" route show table all 10.30.1.0/24 | grep -q "fzcl$$" ||
	    fail "second route missing" || return 1
	grep -q 'client state: IPC_TUN_ADDRESSES 100.64.0.2/32' "$TLOG" ||
	    fail "tunnel addresses not shipped" || return 1
	# A deleted resource takes its route along; an added one brings one.
	stub '{"cmd":"delete_resource","id":"'"$CL_RES2"'"}' >/dev/null ||
	    return 1
	no_route() { ! has_route 10.30.1.0/24; }
	wait_until 5 no_route ||
	    fail "route of a deleted resource stays" || return 1
	stub '{"cmd":"create_resource","resource":{"id":"'"$CL_RES2"'",
	    "type":"cidr","address":"10.40.0.0/16","name":"Lab 2",
	    "filters":[],"sites":[{"id":"'"$CL_SITE"'","name":"HQ"}]}}' \
	    >/dev/null || return 1
	wait_until 5 has_route 10.40.0.0/16 ||
	    fail "route of a new resource missing" || return 1
}

# A packet to an unauthorized resource asks the portal, once, and the
# authorization reaches tunneld as a gateway peer.
t_client_first_packet_authorizes() {
	local n
	cl_up || return 1
	[ "$(resource_field "$CL_RES" authorized)" = False ] ||
	    fail "authorized before any packet" || return 1
	ip netns exec "$NS" ping -c 3 -i 0.2 -W 1 10.20.0.5 >/dev/null 2>&1
	stub '{"cmd":"wait","what":"message","value":"request_authorization",
	    "timeout":5}' >/dev/null ||
	    fail "no request_authorization at the portal" || return 1
	stub '{"cmd":"state"}' | python3 -c '
import json, sys
m = [x for x in json.load(sys.stdin)["messages"]
     if x["event"] == "request_authorization"]
assert len(m) == 1, "%d requests for one resource in 1 s" % len(m)
p = m[0]["payload"]
assert p["resource_id"] == sys.argv[1], p
assert p["connected_gateway_ids"] == [], p' "$CL_RES" ||
	    fail "request_authorization payload" || return 1
	authorized() { [ "$(resource_field "$CL_RES" authorized)" = True ]; }
	wait_until 5 authorized
	[ "$(resource_field "$CL_RES" authorized)" = True ] ||
	    fail "not authorized: $(fzc_cli "$DIR" --json resources)" ||
	    return 1
	grep -q "client state: IPC_GATEWAY_PEER 100.82.5.17/32 $CL_GW" \
	    "$TLOG" || fail "gateway peer not shipped: $(cat "$TLOG")" ||
	    return 1
	n=$(fzc_cli "$DIR" --json status | python3 -c '
import json, sys
print(sum(w["drops"]["unauthorized"] for w in json.load(sys.stdin)["workers"]))')
	[ "$n" -ge 1 ] || fail "unauthorized drops not counted: $(fzc_cli "$DIR" --json status)" || return 1
	# A second resource asks again, naming the gateway now connected.
	ip netns exec "$NS" ping -c 1 -W 1 10.30.1.9 >/dev/null 2>&1
	stub '{"cmd":"wait","what":"message","value":"request_authorization",
	    "count":2,"timeout":5}' >/dev/null ||
	    fail "no second request" || return 1
	stub '{"cmd":"state"}' | python3 -c '
import json, sys
m = [x for x in json.load(sys.stdin)["messages"]
     if x["event"] == "request_authorization"]
assert m[-1]["payload"]["resource_id"] == sys.argv[1], m[-1]
assert m[-1]["payload"]["connected_gateway_ids"] == [sys.argv[2]], m[-1]
' "$CL_RES2" "$CL_GW" || fail "connected_gateway_ids not sent" || return 1
	stub '{"cmd":"state"}' | grep -q '"violations": \[\]' ||
	    fail "stub saw violations" || return 1
}

t_client_authorization_failed() {
	cl_up ', "authorization_failures": {"*": {"reason": "offline"}}' ||
	    return 1
	ip netns exec "$NS" ping -c 1 -W 1 10.20.0.5 >/dev/null 2>&1
	wait_until 5 grep -q "authorization for $CL_RES failed: offline" \
	    "$TLOG" || fail "failure not logged: $(cat "$TLOG")" || return 1
	[ "$(resource_field "$CL_RES" authorized)" = False ] &&
	    [ "$(resource_field "$CL_RES" authorization_failed)" = offline ] ||
	    fail "$(fzc_cli "$DIR" --json resources)" || return 1
}

# Candidates from the portal reach tunneld, parsed; bad ones are refused.
t_client_candidates_to_tunneld() {
	cl_up || return 1
	ip netns exec "$NS" ping -c 1 -W 1 10.20.0.5 >/dev/null 2>&1
	wait_until 5 grep -q 'IPC_GATEWAY_PEER' "$TLOG" ||
	    fail "no authorization" || return 1
	stub '{"cmd":"push","event":"ice_candidates","payload":{
	    "gateway_id":"'"$CL_GW"'","candidates":[
	    "candidate:7 1 udp 2130706431 10.0.0.2 52625 typ host",
	    "candidate:8 1 udp 2130706431 10.0.0.3 notaport typ host"]}}' \
	    >/dev/null || return 1
	wait_until 5 grep -q \
	    'IPC_REMOTE_CANDIDATE .*candidate:7 1 udp 2130706431 10.0.0.2 52625 typ host$' \
	    "$TLOG" || fail "candidate not kept: $(cat "$TLOG")" || return 1
	grep -q "candidate for gateway $CL_GW rejected" "$TLOG" ||
	    fail "bad candidate not refused" || return 1
	stub '{"cmd":"push","event":"invalidate_ice_candidates","payload":{
	    "gateway_id":"'"$CL_GW"'","candidates":[
	    "candidate:7 1 udp 2130706431 10.0.0.2 52625 typ host"]}}' \
	    >/dev/null || return 1
	wait_until 5 grep -q 'IPC_REMOTE_CANDIDATE_DEL .*10.0.0.2 52625' \
	    "$TLOG" || fail "invalidation not shipped" || return 1
	kill -0 "$TPID" || fail "tunneld died" || return 1
}

# Local candidates: host addresses, and server-reflexive and relayed ones
# from a TURN allocation on the portal's relay (coturn), reach the portal
# as new_gateway_ice_candidates once a gateway is authorized.
t_client_local_candidates() {
	local cands out
	new_netns NS relayns || return 1
	# coturn on the loopback of the namespace the client will use.
	# An interface with an address, for a host candidate (this kernel
	# has no dummy links; a veth pair does as well).
	ip link add "vh$$" netns "$NS" type veth peer name "vi$$" netns "$NS"
	ip -n "$NS" addr add 10.77.0.1/24 dev "vh$$"
	ip -n "$NS" link set "vh$$" up
	ip -n "$NS" link set "vi$$" up
	cat >"$WORK/turnserver.conf" <<CONF
listening-ip=127.0.0.1
relay-ip=127.0.0.1
listening-port=3478
min-port=49152
max-port=49300
realm=firezone
no-auth
no-tls
no-dtls
no-cli
log-file=$WORK/turn.log
pidfile=$WORK/turn.pid
CONF
	ip netns exec "$NS" turnserver -c "$WORK/turnserver.conf" \
	    >/dev/null 2>&1 &
	PIDS+=($!)
	# cl_up makes its own namespace: run this one's pieces by hand.
	NETNS_PRESET=$NS cl_up ', "relays": [{"id":
	    "6b7d1f52-2c0e-4a8e-9d40-0c1b2d3e4f50",
	    "addrs": ["127.0.0.1:3478"], "stamp_secret": "test"}]' ||
	    return 1
	wait_until 5 grep -q 'client state: IPC_RELAY_ADD' "$TLOG" ||
	    fail "relay not shipped" || return 1
	ip netns exec "$NS" ping -c 1 -W 1 10.20.0.5 >/dev/null 2>&1
	stub '{"cmd":"wait","what":"message",
	    "value":"new_gateway_ice_candidates","count":3,"timeout":10}' \
	    >/dev/null || fail "candidates missing: $(stub \
	    '{"cmd":"state"}' | head -c 3000)" || return 1
	cands=$(stub '{"cmd":"state"}' | python3 -c '
import json, sys
for m in json.load(sys.stdin)["messages"]:
    if m["event"] == "new_gateway_ice_candidates":
        for c in m["payload"]["candidates"]:
            print(c)')
	echo "$cands"
	echo "$cands" | grep -q ' 10\.77\.0\.1 [0-9]* typ host$' ||
	    fail "no host candidate" || return 1
	echo "$cands" | grep -q ' 127\.0\.0\.1 [0-9]* typ srflx raddr' ||
	    fail "no srflx candidate" || return 1
	echo "$cands" | grep -Eq ' 127\.0\.0\.1 49(1[5-9][0-9]|2[0-9][0-9]|300) typ relay' ||
	    fail "no relayed candidate" || return 1
	# fzc netcheck without --relay reports the portal's relays as
	# tunneld's TURN clients see them, and never their credentials.
	out=$(fzc_cli "$DIR" netcheck) || fail "netcheck failed: $out" ||
	    return 1
	echo "$out"
	echo "$out" | grep -q '^relay 127.0.0.1:3478 ' &&
	    echo "$out" | grep -q 'answers: yes, round trip' &&
	    echo "$out" | grep -q 'server-reflexive address: 127.0.0.1:' &&
	    echo "$out" | grep -q 'allocation: allocated' &&
	    echo "$out" | grep -Eq 'relayed address: 127.0.0.1:49[0-9]{3}' ||
	    fail "netcheck output incomplete" || return 1
	fzc_cli "$DIR" --json netcheck | grep -qi 'password\|username' &&
	    fail "netcheck shows credentials" && return 1
	stub '{"cmd":"state"}' | grep -q '"violations": \[\]' ||
	    fail "stub saw violations" || return 1
}

# ICE with a gateway's candidate: checks go out with the PROTOCOL 2.5
# credentials, the gateway's answers nominate the path, and the WireGuard
# handshake initiation arrives at the gateway's address on that path.
t_client_ice_nominates_wireguard_path() {
	local cpk out
	new_netns NS icec || return 1
	new_netns GW iceg || return 1
	ip link add "vc$$" netns "$NS" type veth peer name "vg$$" netns "$GW"
	ip -n "$NS" addr add 10.77.0.1/24 dev "vc$$"
	ip -n "$GW" addr add 10.77.0.2/24 dev "vg$$"
	ip -n "$NS" link set "vc$$" up
	ip -n "$GW" link set "vg$$" up
	ip -n "$GW" link set lo up
	NETNS_PRESET=$NS cl_up ', "client": {"id":
	    "d2b6f1a0-3c4e-4f5a-9b8c-7d6e5f4a3b2c"}' || return 1
	cpk=$(stub '{"cmd":"state"}' | python3 -c '
import json, sys, urllib.parse
q = urllib.parse.parse_qs(json.load(sys.stdin)["last_query"])
print(q["public_key"][0])')
	ip netns exec "$GW" /usr/bin/python3 \
	    "$SRCDIR/tests/integration/ice_responder.py" 10.77.0.2 51820 \
	    d2b6f1a0-3c4e-4f5a-9b8c-7d6e5f4a3b2c "$cpk" "$CL_GW" \
	    xLeUfO5Lnz0pPj/xBmkAIb+9UjAZs/JHWIv4VggjpAQ= \
	    >"$WORK/gw.out" 2>"$WORK/gw.err" &
	local rpid=$!
	PIDS+=("$rpid")
	ip netns exec "$NS" ping -c 1 -W 1 10.20.0.5 >/dev/null 2>&1
	wait_until 5 grep -q 'IPC_GATEWAY_PEER' "$TLOG" ||
	    fail "no authorization" || return 1
	stub '{"cmd":"push","event":"ice_candidates","payload":{
	    "gateway_id":"'"$CL_GW"'","candidates":[
	    "candidate:g1 1 udp 2130706431 10.77.0.2 51820 typ host"]}}' \
	    >/dev/null || return 1
	# A packet to the resource makes the handshake worth starting.
	wait_until 15 grep -q '^WG-INIT 10.77.0.1:' "$WORK/gw.out" ||
	    fail "no WireGuard initiation on the nominated path: $(cat \
	    "$WORK/gw.out" "$WORK/gw.err"; grep -i 'ice\|gateway' "$TLOG")" ||
	    return 1
	out=$(cat "$WORK/gw.out")
	echo "$out"
	echo "$out" | grep -Eq '^CHECK [a-z2-7]{4}:[a-z2-7]{4} 1$' ||
	    fail "no check with USE-CANDIDATE and ufrag pair" || return 1
	grep -q "$CL_GW: WireGuard goes directly to 10.77.0.2 port 51820" \
	    "$TLOG" ||
	    fail "nomination not logged" || return 1
}

# routing_snapshot: every rule and route of the client namespace.
# The TUN device's link-local address is new with each device, and its
# routes list by interface index: left out, and sorted.
routing_snapshot() {
	{
		ip -n "$NS" -4 rule show
		ip -n "$NS" -6 rule show
		ip -n "$NS" -4 route show table all
		ip -n "$NS" -6 route show table all | grep -v '^local fe80::'
	} | sort
}

# The Internet resource: off by default; on, default routes go into the
# tunnel from a table of their own, with the rules that keep fzc's marked
# sockets out, and traffic to anywhere asks for its authorization; off,
# the routing is what it was; the switch survives a restart.
t_client_internet_resource() {
	local before after res=1c9e8d7f-6a5b-4c3d-9e2f-0a1b2c3d4e5f
	cl_up || return 1
	# A way out that is not the tunnel, as on a real machine.
	new_netns INET inet || return 1
	ip link add "vn$$" netns "$NS" type veth peer name "vo$$" netns "$INET"
	ip -n "$NS" addr add 10.99.0.1/24 dev "vn$$"
	ip -n "$INET" addr add 10.99.0.2/24 dev "vo$$"
	ip -n "$NS" link set "vn$$" up
	ip -n "$INET" link set "vo$$" up
	ip -n "$NS" route add default via 10.99.0.2
	stub '{"cmd":"create_resource","resource":{"id":"'"$res"'",
	    "type":"internet","name":"Internet","sites":[{"id":"'"$CL_SITE"'",
	    "name":"HQ"}]}}' >/dev/null || return 1
	wait_until 5 sh -c "'$B/fzc' --control-socket '$DIR/run/control.sock' \
	    resources | grep -q internet" ||
	    fail "no internet resource: $(fzc_cli "$DIR" resources)" ||
	    return 1
	fzc_cli "$DIR" --json status | grep -q '"internet":"off"' ||
	    fail "internet not off by default" || return 1
	before=$(routing_snapshot)
	echo "$before" | grep -q 'lookup 6716003' &&
	    fail "rules before the switch" && return 1

	fzc_cli "$DIR" internet on || fail "internet on failed" || return 1
	rules_in() {
		ip -n "$NS" -4 rule | grep -q \
		    '^32001:.*not from all fwmark 0x667a63 lookup 6716003' &&
		ip -n "$NS" -4 rule | grep -q \
		    '^32000:.*lookup main suppress_prefixlength 0' &&
		ip -n "$NS" -6 rule | grep -q 'fwmark 0x667a63 lookup 6716003'
	}
	wait_until 5 rules_in || fail "rules: $(ip -n "$NS" rule)" || return 1
	ip -n "$NS" route show table 6716003 | grep -q "^default dev fzcl$$" &&
	    ip -n "$NS" -6 route show table 6716003 |
	    grep -q "^default dev fzcl$$" ||
	    fail "default routes: $(ip -n "$NS" route show table all)" ||
	    return 1
	fzc_cli "$DIR" --json status | grep -q '"internet":"on"' &&
	    fzc_cli "$DIR" status | grep -q '^internet:  on$' &&
	    fzc_cli "$DIR" status | grep -q '^portal:    connected, client role$' ||
	    fail "status does not say on: $(fzc_cli "$DIR" status)" ||
	    return 1
	# Anything not more specific now asks for the Internet resource.
	ip netns exec "$NS" ping -c 1 -W 1 192.0.2.7 >/dev/null 2>&1
	stub '{"cmd":"wait","what":"message","value":"request_authorization",
	    "count":1,"timeout":5}' >/dev/null &&
	    stub '{"cmd":"state"}' | grep -q "\"resource_id\": \"$res\"" ||
	    fail "no authorization asked for the Internet resource" ||
	    return 1
	# fzc's own sockets still leave by the veth, marked.
	ip netns exec "$NS" ip route get 10.99.0.2 mark 0x667a63 |
	    grep -q "dev vn$$" ||
	    fail "marked traffic goes into the tunnel" || return 1
	ip netns exec "$NS" ip route get 192.0.2.7 | grep -q "dev fzcl$$" ||
	    fail "unmarked traffic does not go into the tunnel" || return 1

	# Kept across a restart of the daemons.
	kill -TERM "$TPID"
	wait "$TPID" 2>/dev/null
	routing_snapshot | grep -q 6716003 &&
	    fail "rules or routes left at exit: $(routing_snapshot)" &&
	    return 1
	start_tunneld "$NS" "$DIR" --api-url "ws://127.0.0.1:$(awk \
	    '/^PORT /{print $2}' "$WORK/portal.out")" --interface "fzcl$$"
	wait_until 10 portal_connected || fail "not reconnected" || return 1
	wait_until 5 rules_in || fail "setting lost at restart" || return 1

	fzc_cli "$DIR" internet off || fail "internet off failed" || return 1
	no_rules() { ! ip -n "$NS" rule | grep -q 6716003; }
	wait_until 5 no_rules || fail "rules stay" || return 1
	after=$(routing_snapshot)
	[ "$after" = "$before" ] ||
	    fail "routing differs: $(diff <(echo "$before") \
	    <(echo "$after"))" || return 1
	fzc_cli "$DIR" --json status | grep -q '"internet":"off"' ||
	    fail "status does not say off" || return 1
	stub '{"cmd":"state"}' | grep -q '"violations": \[\]' ||
	    fail "stub saw violations" || return 1
}
