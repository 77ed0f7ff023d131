# tests_e2e.sh: end to end, client and gateway (both fzc) through the stub
# portal and coturn, in the topology of lib.sh's e2e_topology (issue 6, and
# the two-tunneld NAT traversal tests of issue 5). Sourced by run.sh; each
# t_* runs in its own subshell.

# The topology itself: NATs as the modes say, coturn reachable through
# them (fzc netcheck), the stub portal over TLS from both sides.
t_e2e_topology() {
	local out m
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
	e2e_client || return 1
	wait_until 15 e2e_client_connected ||
	    fail "client not connected: $(tail -15 "$E2E_CLOG")" || return 1
	wait_until 5 e2e_route 10.20.0.0/24 ||
	    fail "no route to 10.20.0.0/24: $(ip -n "$E2E_C" route)" ||
	    return 1
}
