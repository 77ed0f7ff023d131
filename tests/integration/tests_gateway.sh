# tests_gateway.sh: fzc-tunneld --role gateway against the stub portal:
# the tunnel device, its routes and nftables table, authorizations as set
# elements through create_authorization, resource_updated, reject_access,
# expiry and a new init, the clean-up on exit, and the rules with real
# traffic, first on their own, then with an fzc client. Sourced by run.sh;
# each t_gateway_* runs in its own subshell.
#
# Uses the stub helpers of lib_portal.sh (pt_setup, pt_ctl, pt_wait,
# pt_no_violations, pt_fail) and lib.sh's e2e topology; gateway helpers
# are gw_*.

GW_ID=77aa11bb-22cc-4d33-8e44-55ff66aa77bb
GW_CLIENT=d2b6f1a0-3c4e-4f5a-9b8c-7d6e5f4a3b2c
GW_CLIENT_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
GW_C4=100.71.34.9
GW_C6=fd00:2021:1111::a:3b21
GW_RES1=a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7a
GW_RES2=0f6a8c1e-5b8e-4d5f-9a3c-11a2b3c4d5e6
GW_RES3=c3b2a190-8f7e-4d6c-b5a4-93827160f5e4
GW_TABLE=fzc_fzcg0

# gw_start NAME [TUNNELD ARGS...]: the stub and a gateway (interface
# fzcg0) in a namespace of their own, joined, its table installed.
gw_start() {
	local name=$1
	shift
	pt_setup "$name" '"gateways": [{"id": "'$GW_ID'",
	    "site_id": "'$PT_SITE'", "token": "gw-token-1",
	    "ipv4": "100.82.0.1", "ipv6": "fd00:2021:1111::82:1",
	    "simulated": false}]' gw-token-1 --role gateway \
	    --interface fzcg0 "$@" || return 1
	pt_wait gateway "\"$GW_ID\"" 15 ||
	    pt_fail "the gateway never joined" || return 1
	wait_until 10 gw_nft list table inet "$GW_TABLE" ||
	    pt_fail "no table inet $GW_TABLE" || return 1
}

gw_nft() {
	ip netns exec "$PT_NS" nft "$@"
}

# gw_set SET: the elements of one of our sets, on one line.
gw_set() {
	gw_nft list set inet "$GW_TABLE" "$1" | tr -s ' \t\n' ' '
}

# gw_set_has SET TEXT / gw_set_lacks SET TEXT
gw_set_has() {
	gw_set "$1" | grep -qF -- "$2"
}

gw_set_lacks() {
	! gw_set "$1" | grep -qF -- "$2"
}

# gw_authz REF RESOURCE-JSON [EXPIRES_IN]: a create_authorization from the
# portal for GW_CLIENT (PROTOCOL 3), pushed to the gateway.
gw_authz() {
	local exp=$(($(date +%s) + ${3:-3600}))
	pt_ctl '{"cmd": "push", "role": "gateway",
	  "event": "create_authorization", "payload": {"ref": "'$1'",
	  "resource": '"$2"',
	  "client": {"id": "'$GW_CLIENT'", "public_key": "'$GW_CLIENT_KEY'",
	    "preshared_key": "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8=",
	    "ipv4": "'$GW_C4'", "ipv6": "'$GW_C6'", "version": "1.5.12",
	    "device_os_name": "Debian", "device_os_version": "12",
	    "device_serial": null, "device_uuid": null,
	    "firebase_installation_id": null, "identifier_for_vendor": null},
	  "client_ice_credentials": {"username": "mfrg",
	    "password": "gzdfmnbxgi3tqojqgeztcm"},
	  "gateway_ice_credentials": {"username": "xk4q",
	    "password": "n5rw6zlsmvzxizlfnvqxgz"},
	  "expires_at": '$exp',
	  "subject": {"actor_id": "5a0f0b3e-9d4c-4e1b-8f2a-3c4d5e6f7a8b",
	    "actor_name": "Jane Doe", "actor_email": "jane@example.com",
	    "actor_type": "account_user",
	    "auth_provider_id": "7b1e2c3d-4f5a-4b6c-9d8e-0f1a2b3c4d5e",
	    "ip": "203.0.113.44", "ip_region": "DE", "ip_city": "Berlin",
	    "ip_lat": 52.5, "ip_lon": 13.4, "user_agent": "fzc test"},
	  "use_iceless": false,
	  "flow_logs_ingest_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0In0.c2ln"
	}}'
}

# gw_res ID CIDR FILTERS-JSON: a CIDR resource in the gateway's view.
gw_res() {
	printf '{"id": "%s", "type": "cidr", "address": "%s", "name": "R", ' \
	    "$1" "$2"
	printf '"filters": %s}' "$3"
}

gw_tcp() {
	printf '{"protocol": "tcp", "port_range_start": %s, ' "$1"
	printf '"port_range_end": %s}' "${2:-$1}"
}

# gw_acked REF: the stub got authorization_created for REF.
gw_acked() {
	/usr/bin/python3 "$PT_STUB" ctl "$PT_SOCK" \
	    '{"cmd":"state","role":"gateway"}' | python3 -c '
import json, sys
v = json.loads(sys.stdin.readline())
sys.exit(not any(m["event"] == "authorization_created" and
                 m["payload"] == {"ref": sys.argv[1]} for m in v["messages"]))
' "$1"
}

# gw_candidate: a candidate of GW_CLIENT for the gateway, at an address
# where nothing answers, paired with the gateway's host candidate on a
# link to nowhere (gw_dummy, through PT_NS_HOOK: a veth pair). The client never connects;
# without a candidate pair ICE gives up after 10 s and the gateway
# forgets it, which a slow run (a loaded machine) reaches before the test
# is done. Checks that go unanswered go on for minutes.
gw_dummy() {
	ip -n "$1" link add dummy0 type veth peer name dummy1 &&
	    ip -n "$1" addr add 192.0.2.1/24 dev dummy0 &&
	    ip -n "$1" link set dummy1 up && ip -n "$1" link set dummy0 up
}

gw_candidate() {
	pt_ctl '{"cmd": "push", "role": "gateway", "event": "ice_candidates",
	    "payload": {"client_id": "'$GW_CLIENT'", "candidates":
	    ["candidate:1 1 udp 2130706431 192.0.2.9 9 typ host"]}}'
}

gw_log_has() {
	grep -qF -- "$1" "$TLOG"
}

# 1. The gateway's own state: device, routes, table; authorizations come
# and go as set elements; everything is gone after SIGTERM.
t_gateway_rules() {
	local rc
	PT_NS_HOOK=gw_dummy gw_start gwrules || return 1
	# Confined as the client's; nft, which it runs, still does its work.
	data_plane_confined "$TPID" || return 1
	# Forwarding is off in a new namespace: said, not changed.
	gw_log_has "net.ipv4.ip_forward = 1" ||
	    pt_fail "no warning about net.ipv4.ip_forward" || return 1
	gw_log_has "net.ipv6.conf.all.forwarding = 1" ||
	    pt_fail "no warning about IPv6 forwarding" || return 1
	[ "$(ip netns exec "$PT_NS" sysctl -n net.ipv4.ip_forward)" = 0 ] ||
	    fail "ip_forward changed" || return 1
	ip -n "$PT_NS" addr show fzcg0 | grep -q 'inet 100.82.0.1/32' ||
	    pt_fail "no tunnel address" || return 1
	ip -n "$PT_NS" route show table all 100.64.0.0/11 |
	    grep -q 'dev fzcg0' ||
	    pt_fail "clients' IPv4 range not routed into the tunnel" ||
	    return 1
	ip -n "$PT_NS" -6 route show table all fd00:2021:1111::/107 |
	    grep -q 'dev fzcg0' ||
	    pt_fail "clients' IPv6 range not routed into the tunnel" ||
	    return 1
	# Not for fzc's own marked sockets: a path never leads through itself.
	! ip netns exec "$PT_NS" ip route get 100.64.0.9 mark 0x667a63 2>&1 |
	    grep -q 'dev fzcg0' ||
	    pt_fail "marked traffic to a client goes into the tunnel" ||
	    return 1
	gw_nft list chain inet "$GW_TABLE" forward |
	    grep -q 'iifname "fzcg0" jump from_tunnel' ||
	    pt_fail "no forward rule for the tunnel" || return 1
	gw_nft list chain inet "$GW_TABLE" from_tunnel |
	    grep -q 'reject with icmpx admin-prohibited' ||
	    pt_fail "no admin-prohibited reject" || return 1

	# Two resources for one client; the stub hears authorization_created.
	gw_authz ref-1 "$(gw_res "$GW_RES1" 10.20.0.0/16 "[$(gw_tcp 443)]")"
	gw_candidate
	gw_authz ref-2 "$(gw_res "$GW_RES2" 10.20.5.0/24 '[]')"
	wait_until 5 gw_acked ref-1 && wait_until 5 gw_acked ref-2 ||
	    pt_fail "no authorization_created from the gateway" || return 1
	gw_set_has port4 "$GW_C4 . 10.20.0.0/16 . tcp . 443" &&
	    gw_set_has all4 "$GW_C4 . 10.20.5.0/24" ||
	    pt_fail "elements missing: $(gw_set port4) $(gw_set all4)" ||
	    return 1
	# One WireGuard peer for the client; `fzc status` as in the client role.
	[ "$(status_field "$PT_DIR" state)" = running ] &&
	    fzc_cli "$PT_DIR" --json peers | grep -qF "\"$GW_CLIENT_KEY\"" ||
	    pt_fail "no peer for the client in fzc peers" || return 1
	# The Internet resource: everywhere, both families.
	gw_authz ref-3 '{"id": "'$GW_RES3'", "type": "internet"}'
	wait_until 5 gw_acked ref-3 ||
	    pt_fail "internet resource not acknowledged" || return 1
	gw_set_has all4 "$GW_C4 . 0.0.0.0/0" &&
	    gw_set_has all6 "$GW_C6 . ::/0" &&
	    gw_set_lacks all4 "10.20.5.0/24" ||
	    pt_fail "internet elements: $(gw_set all4) $(gw_set all6)" ||
	    return 1
	pt_ctl '{"cmd": "push", "role": "gateway", "event": "reject_access",
	    "payload": {"client_id": "'$GW_CLIENT'",
	    "resource_id": "'$GW_RES3'"}}'
	wait_until 5 gw_set_has all4 "$GW_C4 . 10.20.5.0/24" &&
	    gw_set_lacks all6 "$GW_C6" ||
	    pt_fail "internet elements stayed: $(gw_set all4)" || return 1

	# resource_updated: new filters for every client of the resource.
	pt_ctl '{"cmd": "push", "role": "gateway", "event": "resource_updated",
	    "payload": '"$(gw_res "$GW_RES1" 10.20.0.0/16 \
	    "[$(gw_tcp 80 90), {\"protocol\": \"icmp\"}]")"'}'
	wait_until 5 gw_set_has port4 "$GW_C4 . 10.20.0.0/16 . tcp . 80-90" &&
	    gw_set_lacks port4 "tcp . 443" &&
	    gw_set_has icmp4 "$GW_C4 . 10.20.0.0/16" ||
	    pt_fail "filters not updated: $(gw_set port4)" || return 1

	# reject_access of one resource, then of the last: the client goes.
	pt_ctl '{"cmd": "push", "role": "gateway", "event": "reject_access",
	    "payload": {"client_id": "'$GW_CLIENT'",
	    "resource_id": "'$GW_RES2'"}}'
	wait_until 5 gw_set_lacks all4 "10.20.5.0/24" ||
	    pt_fail "rejected resource stayed: $(gw_set all4)" || return 1
	gw_set_has port4 "tcp . 80-90" ||
	    pt_fail "the other resource went too" || return 1
	pt_ctl '{"cmd": "push", "role": "gateway", "event": "reject_access",
	    "payload": {"client_id": "'$GW_CLIENT'",
	    "resource_id": "'$GW_RES1'"}}'
	wait_until 5 gw_log_has "client $GW_CLIENT: no authorization left" ||
	    pt_fail "client not closed" || return 1
	gw_set_lacks port4 "$GW_C4" && gw_set_lacks icmp4 "$GW_C4" ||
	    pt_fail "elements left: $(gw_set port4)" || return 1

	# Expiry: no word from the portal (in 6 s: a loaded machine takes a
	# few to pass it on).
	gw_authz ref-4 "$(gw_res "$GW_RES2" 10.20.5.0/24 '[]')" 6
	gw_candidate
	wait_until 6 gw_set_has all4 "$GW_C4 . 10.20.5.0/24" ||
	    pt_fail "no element for ref-4" || return 1
	wait_until 12 gw_set_lacks all4 "$GW_C4" ||
	    pt_fail "expired authorization stayed" || return 1

	# A new init lists no authorization: what the gateway held goes.
	gw_authz ref-5 "$(gw_res "$GW_RES2" 10.20.5.0/24 '[]')"
	gw_candidate
	wait_until 5 gw_set_has all4 "$GW_C4 . 10.20.5.0/24" ||
	    pt_fail "no element for ref-5" || return 1
	pt_ctl '{"cmd": "send_init", "role": "gateway"}'
	wait_until 5 gw_set_lacks all4 "$GW_C4" ||
	    pt_fail "authorization kept after an init without it" || return 1
	pt_no_violations || return 1

	kill -TERM "$TPID"
	wait "$TPID"
	rc=$?
	[ "$rc" = 0 ] || pt_fail "tunneld exit status $rc" || return 1
	! gw_nft list table inet "$GW_TABLE" >/dev/null 2>&1 ||
	    fail "table left after exit" || return 1
	! ip -n "$PT_NS" route show table all 100.64.0.0/11 | grep -q . &&
	    ! ip -n "$PT_NS" rule | grep -q 0x667a63 ||
	    fail "route or rule left after exit" || return 1
	! ip -n "$PT_NS" link show fzcg0 >/dev/null 2>&1 ||
	    fail "tunnel device left after exit" || return 1
}

# A TCP client and server for the traffic test: "serve ADDR PORT" answers
# every connection with the peer's address; "connect ADDR PORT" prints
# that answer, or "errno N" (timeouts are errno 110).
gw_tcp_py() {
	cat >"$WORK/tcp.py" <<'PY'
import socket, sys
mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
if mode == "serve":
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(16)
    print("listening", flush=True)
    while True:
        c, peer = s.accept()
        c.sendall((peer[0] + "\n").encode())
        c.close()
s.settimeout(3)
try:
    s.connect((addr, port))
    print(s.recv(100).decode().strip())
except OSError as e:
    print("errno %d" % (e.errno or 110))
PY
}

# gw_serve NS ADDR PORT: a gw_tcp_py server, up.
gw_serve() {
	ip netns exec "$1" /usr/bin/python3 "$WORK/tcp.py" serve "$2" "$3" \
	    >"$WORK/serve-$2-$3.out" 2>&1 &
	PIDS+=($!)
	wait_until 5 grep -q listening "$WORK/serve-$2-$3.out" ||
	    fail "server $2 port $3 did not start" || return 1
}

gw_connect() {
	ip netns exec "$1" /usr/bin/python3 "$WORK/tcp.py" connect "$2" "$3"
}

# gw_expect NS ADDR PORT WANT: a connection from NS gives WANT.
gw_expect() {
	local got
	got=$(gw_connect "$1" "$2" "$3")
	[ "$got" = "$4" ] ||
	    fail "$1 -> $2 port $3: '$got', expected '$4'" || return 1
}

gw_mac() {
	ip -n "$1" -j link show "$2" | python3 -c '
import json, sys
print(json.load(sys.stdin)[0]["address"])'
}

# gw_world: the namespaces of the traffic test, the gateway's table loaded
# in GW_FW between GW_CL (the client's tunnel addresses) and GW_RESNS
# (10.20.5.2, fd20::2).
gw_world() {
	local ns
	new_netns GW_FW gwfw || return 1
	new_netns GW_CL gwcl || return 1
	new_netns GW_RESNS gwres || return 1
	ip link add fzcg0 netns "$GW_FW" type veth peer name eth0 \
	    netns "$GW_CL" &&
	    ip link add res0 netns "$GW_FW" type veth peer name eth0 \
	    netns "$GW_RESNS" || return 1
	ip -n "$GW_FW" addr add 10.99.0.1/24 dev fzcg0
	ip -n "$GW_FW" addr add fd99::1/64 dev fzcg0 nodad
	ip -n "$GW_FW" addr add 10.20.5.1/24 dev res0
	ip -n "$GW_FW" addr add fd20::1/64 dev res0 nodad
	ip -n "$GW_CL" addr add 10.99.0.2/24 dev eth0
	ip -n "$GW_CL" addr add fd99::2/64 dev eth0 nodad
	ip -n "$GW_CL" addr add "$GW_C4/32" dev eth0
	ip -n "$GW_CL" addr add "$GW_C6/128" dev eth0 nodad
	ip -n "$GW_RESNS" addr add 10.20.5.2/24 dev eth0
	ip -n "$GW_RESNS" addr add fd20::2/64 dev eth0 nodad
	for ns in "$GW_FW" "$GW_CL" "$GW_RESNS"; do
		ip -n "$ns" link set lo up
		ip -n "$ns" link set eth0 up 2>/dev/null
	done
	ip -n "$GW_FW" link set fzcg0 up && ip -n "$GW_FW" link set res0 up
	# The tunnel is layer 3: the table lets no neighbour discovery in
	# from it, so the veth standing in for it gets static neighbours.
	ip -n "$GW_CL" neigh add fd99::1 dev eth0 nud permanent lladdr \
	    "$(gw_mac "$GW_FW" fzcg0)"
	ip -n "$GW_FW" neigh add fd99::2 dev fzcg0 nud permanent lladdr \
	    "$(gw_mac "$GW_CL" eth0)"
	ip -n "$GW_CL" route add 10.20.0.0/16 via 10.99.0.1 src "$GW_C4"
	ip -n "$GW_CL" route add fd20::/64 via fd99::1 src "$GW_C6"
	ip -n "$GW_FW" route add "$GW_C4/32" via 10.99.0.2
	ip -n "$GW_FW" route add "$GW_C6/128" via fd99::2
	ip -n "$GW_RESNS" route add default via 10.20.5.1
	ip -n "$GW_RESNS" route add default via fd20::1
	ip netns exec "$GW_FW" sysctl -qw net.ipv4.ip_forward=1 \
	    net.ipv6.conf.all.forwarding=1
	gw_nft list table inet "$GW_TABLE" >"$WORK/table.nft"
	ip netns exec "$GW_FW" nft -f "$WORK/table.nft" ||
	    fail "the gateway's table does not load: $(cat "$WORK/table.nft")" ||
	    return 1
}

# 2. The rules with real traffic. A WireGuard client is not needed to try
# them: the gateway's table, elements and all, is loaded into a namespace
# where a veth carries the tunnel device's name (names are per namespace),
# between a "client" namespace with the client's tunnel addresses and a
# "resource" namespace. Authorized: 10.20.0.0/16 and fd20::/64, tcp/443.
t_gateway_traffic() {
	local fw cl res out
	gw_start gwtraffic || return 1
	gw_authz ref-1 "$(gw_res "$GW_RES1" 10.20.0.0/16 "[$(gw_tcp 443)]")"
	gw_authz ref-2 "$(gw_res "$GW_RES2" fd20::/64 "[$(gw_tcp 443)]")"
	wait_until 15 gw_set_has port6 "$GW_C6 . fd20::/64 . tcp . 443" &&
	    gw_set_has port4 "$GW_C4 . 10.20.0.0/16 . tcp . 443" ||
	    pt_fail "elements missing: $(gw_set port4) $(gw_set port6)" ||
	    return 1

	gw_world || return 1
	fw=$GW_FW cl=$GW_CL res=$GW_RESNS
	gw_tcp_py
	for a in 10.20.5.2 fd20::2; do
		gw_serve "$res" "$a" 443 && gw_serve "$res" "$a" 22 || return 1
	done
	gw_serve "$fw" 10.20.5.1 8080 && gw_serve "$fw" 10.20.5.1 443 &&
	    gw_serve "$cl" "$GW_C4" 443 || return 1

	# Authorized, and masqueraded: the resource sees the gateway.
	gw_expect "$cl" 10.20.5.2 443 10.20.5.1 || return 1
	gw_expect "$cl" fd20::2 443 fd20::1 || return 1
	# Not authorized: ICMP administratively prohibited, at once
	# (EHOSTUNREACH for IPv4, EACCES for IPv6), not a timeout.
	gw_expect "$cl" 10.20.5.2 22 "errno 113" || return 1
	gw_expect "$cl" fd20::2 22 "errno 13" || return 1
	out=$(ip netns exec "$cl" ping -c 1 -W 2 10.20.5.2 2>&1)
	grep -q "Packet filtered" <<<"$out" ||
	    fail "ping not refused as filtered: $out" || return 1
	# The gateway itself: only what is authorized (10.20.5.1 is in the
	# resource's range).
	gw_expect "$cl" 10.20.5.1 443 "$GW_C4" || return 1
	gw_expect "$cl" 10.20.5.1 8080 "errno 113" || return 1
	# Nothing behind the gateway opens a connection to a client.
	gw_expect "$res" "$GW_C4" 443 "errno 110" || return 1
	gw_expect "$fw" "$GW_C4" 443 10.99.0.1 || return 1
	pt_no_violations
}

# 2b. nft refuses a transaction (the tables changed behind tunneld's
# back): the sets are rebuilt from what tunneld holds, and the message is
# acknowledged once they are; when even that and emptying the sets fail,
# the authorization is refused (EIO) and the portal never hears it was
# created. tunneld keeps running either way.
t_gateway_nft_refused() {
	local refused
	PT_NS_HOOK=gw_dummy gw_start gwrefused || return 1
	gw_authz ref-1 "$(gw_res "$GW_RES1" 10.20.0.0/16 "[$(gw_tcp 443)]")"
	gw_candidate
	gw_authz ref-2 "$(gw_res "$GW_RES2" 10.20.5.0/24 '[]')"
	wait_until 10 gw_acked ref-2 &&
	    gw_set_has all4 "$GW_C4 . 10.20.5.0/24" ||
	    pt_fail "no element for ref-2: $(gw_set all4)" || return 1
	# The element goes; its deletion by tunneld is then refused.
	gw_nft delete element inet "$GW_TABLE" all4 \
	    "{ $GW_C4 . 10.20.5.0/24 }" || fail "deleting the element" ||
	    return 1
	pt_ctl '{"cmd": "push", "role": "gateway", "event": "reject_access",
	    "payload": {"client_id": "'$GW_CLIENT'",
	    "resource_id": "'$GW_RES2'"}}'
	wait_until 10 gw_log_has "firewall sets of $GW_TABLE rebuilt" ||
	    pt_fail "no rebuild after a refused transaction" || return 1
	gw_log_has "nft refused the rules" ||
	    pt_fail "the refusal was not logged" || return 1
	gw_set_has port4 "$GW_C4 . 10.20.0.0/16 . tcp . 443" &&
	    gw_set_lacks all4 "$GW_C4" ||
	    pt_fail "sets after the rebuild: $(gw_set port4) $(gw_set all4)" ||
	    return 1
	# No table at all: nothing can be rebuilt, or emptied.
	gw_nft delete table inet "$GW_TABLE" || fail "deleting the table" ||
	    return 1
	gw_authz ref-3 '{"id": "'$GW_RES3'", "type": "internet"}'
	refused="tunneld refused client $GW_CLIENT for resource $GW_RES3"
	wait_until 10 gw_log_has "$refused: Input/output error" ||
	    pt_fail "the authorization was not refused" || return 1
	gw_log_has "nft refused to empty the sets" ||
	    pt_fail "the failed lockdown was not logged" || return 1
	! gw_acked ref-3 || pt_fail "authorization_created for ref-3" ||
	    return 1
	kill -0 "$TPID" || pt_fail "tunneld died" || return 1
	pt_no_violations
}

# 3. --role takes client or gateway, and gateway is no WireGuard mode.
t_gateway_role_usage() {
	local out rc
	out=$("$B/fzc-tunneld" --role bogus 2>&1)
	rc=$?
	[ "$rc" = 2 ] && grep -q "unknown role 'bogus'" <<<"$out" ||
	    fail "--role bogus: status $rc, '$out'" || return 1
	out=$("$B/fzc-tunneld" --role gateway --wireguard /dev/null 2>&1)
	rc=$?
	[ "$rc" = 2 ] && grep -q "no --role gateway" <<<"$out" ||
	    fail "--role gateway --wireguard: status $rc, '$out'" || return 1
}

# 4. With a real client (fzc in the client role) in lib.sh's e2e topology:
# the authorized port passes, another gets ICMP "administratively
# prohibited" from the gateway's tunnel address, and reject_access ends
# the connection with a Goodbye the client hears.
t_gateway_e2e_filters() {
	local res out
	res='[{"id": "'$E2E_RES1'", "type": "cidr", "address": "10.20.0.0/24",
	    "name": "Site A LAN", "filters": [{"protocol": "tcp",
	    "port_range_start": 80, "port_range_end": 80}],
	    "sites": [{"id": "'$E2E_SITE1'", "name": "Site A"}]}]'
	e2e_topology flat 1 "$res" || return 1
	out=$(e2e_fetch http://10.20.0.2/index.html) ||
	    fail "tcp/80 through the gateway: $out" || return 1
	gw_tcp_py
	gw_expect "$E2E_C" 10.20.0.2 22 "errno 113" || return 1
	out=$(ip netns exec "$E2E_C" ping -c 1 -W 2 10.20.0.2 2>&1)
	grep -q "From 100.82.0.1 .*Packet filtered" <<<"$out" ||
	    fail "ping not refused by the gateway: $out" || return 1
	e2e_stub '{"cmd": "reject_access", "resource_id": "'$E2E_RES1'"}' \
	    >/dev/null || return 1
	wait_until 5 grep -q "goodbye sent" "${E2E_GLOG[1]}" ||
	    fail "no goodbye: $(tail -5 "${E2E_GLOG[1]}")" || return 1
	wait_until 5 grep -q "gateway $E2E_GW1 said goodbye" "$E2E_CLOG" ||
	    fail "the client did not hear the goodbye" || return 1
}
