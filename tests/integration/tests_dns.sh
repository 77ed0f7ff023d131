# tests_dns.sh: the client's DNS stub resolver (PROTOCOL.md 4.6) against
# the stub portal, with dnsmasq as the upstream resolver and dig as the
# application, asking the sentinel directly (fzc does not point the
# system's resolver at it yet).
# Sourced by run.sh; each t_* runs in its own subshell.

DNS_RES=0f6a8c1e-5b8e-4d5f-9a3c-11a2b3c4d5e6
DNS_RES4=c7d2e9a1-4b3f-4c5d-8e6f-7a8b9c0d1e2f
DNS_SITE=5d1b0c9a-7e3f-4a21-8c6d-9e8f7a6b5c4d
DNS_GW=77aa11bb-22cc-4d33-8e44-55ff66aa77bb
DNS_UPSTREAM=10.53.0.53
DNS_SENTINEL=100.100.111.1

# dns_portal PORT: the stub portal on 127.0.0.1:PORT (0: any), its port
# in DNS_PORT.
dns_portal() {
	ip netns exec "$NS" /usr/bin/python3 \
	    "$SRCDIR/tests/portal/stub_portal.py" --plain \
	    --listen "127.0.0.1:$1" --token dns-token \
	    --scenario "$WORK/scenario.json" --control "$CTL" \
	    >"$WORK/portal.out" 2>>"$WORK/portal.log" &
	PORTAL_PID=$!
	PIDS+=("$PORTAL_PID")
	wait_until 10 grep -q '^PORT ' "$WORK/portal.out" ||
	    fail "stub portal: $(cat "$WORK/portal.log")" || return 1
	DNS_PORT=$(awk '/^PORT /{print $2}' "$WORK/portal.out")
}

# dns_up: dnsmasq on 10.53.0.53 in the namespace, the stub portal giving
# two DNS resources and dnsmasq as upstream_do53, fzc signed in.
dns_up() {
	new_netns NS dns || return 1
	DIR=$WORK/a
	CTL=$WORK/portal.ctl
	mkdir -p "$DIR"
	chmod 755 "$DIR"
	# The upstream's own link (a veth pair: no dummy devices everywhere).
	ip -n "$NS" link add up0 type veth peer name up1
	ip -n "$NS" addr add "$DNS_UPSTREAM/24" dev up0
	ip -n "$NS" link set up1 up
	ip -n "$NS" link set up0 up
	ip netns exec "$NS" dnsmasq --keep-in-foreground --no-resolv \
	    --no-hosts --user=root --pid-file= --bind-interfaces \
	    --listen-address="$DNS_UPSTREAM" --port=53 \
	    --address=/plain.example.org/10.9.8.7 \
	    --address=/plain.example.org/2001:db8::7 \
	    --txt-record=plain.example.org,"upstream answer" \
	    --log-facility="$WORK/dnsmasq.log" --log-queries \
	    ${DNS_UPSTREAM_EXTRA:-} &
	PIDS+=($!)
	cat >"$WORK/scenario.json" <<JSON
{
  "sites": [{"id": "$DNS_SITE", "name": "HQ"}],
  "interface": {"ipv4": "100.64.0.2", "ipv6": "fd00:2021:1111::2",
                "search_domain": "corp.example.com",
                "upstream_do53": [{"ip": "$DNS_UPSTREAM"}],
                "upstream_doh": []},
  "resources": [
    {"id": "$DNS_RES", "type": "dns", "address": "*.corp.example.com",
     "name": "Corp", "address_description": null, "filters": [],
     "sites": [{"id": "$DNS_SITE", "name": "HQ"}], "ip_stack": "dual"},
    {"id": "$DNS_RES4", "type": "dns", "address": "v4.corp.example.com",
     "name": "Corp v4", "address_description": null, "filters": [],
     "sites": [{"id": "$DNS_SITE", "name": "HQ"}],
     "ip_stack": "ipv4_only"}
  ],
  "gateways": [{"id": "$DNS_GW", "site_id": "$DNS_SITE",
                "public_key": "xLeUfO5Lnz0pPj/xBmkAIb+9UjAZs/JHWIv4VggjpAQ=",
                "ipv4": "100.82.5.17", "ipv6": "fd00:2021:1111::3:9c4e",
                "version": "1.6.1", "online": true}]
}
JSON
	dns_portal 0 || return 1
	echo dns-token >"$DIR/token"
	chmod 600 "$DIR/token"
	start_tunneld "$NS" "$DIR" --api-url "ws://127.0.0.1:$DNS_PORT" \
	    --interface "fzdn$$"
	wait_until 10 portal_connected ||
	    fail "not connected: $(cat "$TLOG")" || return 1
	wait_until 5 grep -q 'dns: sentinel 100.100.111.1 forwards to 10.53.0.53' \
	    "$TLOG" || fail "no sentinel: $(cat "$TLOG")" || return 1
	wait_until 5 dns_dig_ok plain.example.org ||
	    fail "no answer through the sentinel: $(cat "$TLOG")" || return 1
}

# dns_dig SERVER ARGS...: dig in the namespace, short answers, sorted.
dns_dig() {
	local server=$1
	shift
	ip netns exec "$NS" dig +tries=1 +time=2 "@$server" "$@"
}

dns_dig_ok() {
	dns_dig "$DNS_SENTINEL" +short "$1" | grep -q '^[0-9]' 
}

# Names of DNS resources get 4 + 4 proxy IPs with TTL 1; the rest is
# the upstream's answer; PTR, HTTPS and Firefox's canary as 4.6 says.
t_dns_stub_answers() {
	local out ttl a aaaa
	dns_up || return 1
	out=$(dns_dig "$DNS_SENTINEL" +noall +answer web.corp.example.com A)
	echo "$out"
	a=$(echo "$out" | awk '$4 == "A" {print $5}' | sort)
	[ "$(echo "$a" | wc -l)" = 4 ] &&
	    [ "$a" = "$(printf '100.96.0.%s\n' 1 2 3 4)" ] ||
	    fail "A: $out" || return 1
	ttl=$(echo "$out" | awk '{print $2}' | sort -u)
	[ "$ttl" = 1 ] || fail "TTL $ttl" || return 1
	out=$(dns_dig "$DNS_SENTINEL" +noall +answer WEB.corp.example.com AAAA)
	aaaa=$(echo "$out" | awk '$4 == "AAAA" {print $5}' | sort)
	[ "$aaaa" = "$(printf 'fd00:2021:1111:8000::%s\n' '' 1 2 3)" ] ||
	    fail "AAAA: $out" || return 1
	# The apex matches `*.`; the next name gets the next addresses.
	[ "$(dns_dig "$DNS_SENTINEL" +short corp.example.com A | head -1)" = \
	    100.96.0.5 ] || fail "apex" || return 1
	# ip_stack ipv4_only: A records, no AAAA, and still NOERROR.
	[ "$(dns_dig "$DNS_SENTINEL" +short v4.corp.example.com A |
	    wc -l)" = 4 ] || fail "ipv4_only A" || return 1
	out=$(dns_dig "$DNS_SENTINEL" v4.corp.example.com AAAA)
	echo "$out" | grep -q 'status: NOERROR' &&
	    echo "$out" | grep -q 'ANSWER: 0' ||
	    fail "ipv4_only AAAA: $out" || return 1
	[ "$(dns_dig "$DNS_SENTINEL" +short -x 100.96.0.3)" = \
	    web.corp.example.com. ] || fail "PTR v4" || return 1
	[ "$(dns_dig "$DNS_SENTINEL" +short -x fd00:2021:1111:8000::2)" = \
	    web.corp.example.com. ] || fail "PTR v6" || return 1
	out=$(dns_dig "$DNS_SENTINEL" web.corp.example.com TYPE65)
	echo "$out" | grep -q 'status: NOERROR' &&
	    echo "$out" | grep -q 'ANSWER: 0' ||
	    fail "HTTPS: $out" || return 1
	dns_dig "$DNS_SENTINEL" use-application-dns.net A |
	    grep -q 'status: NXDOMAIN' || fail "canary" || return 1
	# fzc resources: each name asked for, with its proxy IPs.
	fzc_cli "$DIR" --json resources | python3 -c '
import json, sys
rs = {r["id"]: r for r in json.load(sys.stdin)["resources"]}
n = {x["name"]: x["proxy_ips"] for x in rs[sys.argv[1]]["names"]}
assert n["web.corp.example.com"][0] == "100.96.0.1", n
assert n["web.corp.example.com"][4] == "fd00:2021:1111:8000::", n
assert len(n["web.corp.example.com"]) == 8, n
v4 = rs[sys.argv[2]]["names"][0]
assert v4["name"] == "v4.corp.example.com" and len(v4["proxy_ips"]) == 4, v4
' "$DNS_RES" "$DNS_RES4" ||
	    fail "fzc resources: $(fzc_cli "$DIR" --json resources)" ||
	    return 1
	fzc_cli "$DIR" resources | grep -q \
	    '^  web.corp.example.com  *100.96.0.1, 100.96.0.2' ||
	    fail "human output: $(fzc_cli "$DIR" resources)" || return 1
	# Forwarded: what dnsmasq itself says, record for record.
	for t in A AAAA TXT MX; do
		[ "$(dns_dig "$DNS_SENTINEL" +short plain.example.org $t)" = \
		    "$(dns_dig "$DNS_UPSTREAM" +short plain.example.org $t)" ] ||
		    fail "forwarded $t differs" || return 1
	done
	[ -n "$(dns_dig "$DNS_SENTINEL" +short plain.example.org TXT)" ] ||
	    fail "no TXT from upstream" || return 1
	dns_dig "$DNS_SENTINEL" nothing.example.org A |
	    grep -q 'status: NXDOMAIN\|status: REFUSED' ||
	    fail "upstream's error not passed on" || return 1
	# Resource names never reach the upstream.
	! grep -q 'corp.example.com' "$WORK/dnsmasq.log" ||
	    fail "resource name leaked: $(cat "$WORK/dnsmasq.log")" ||
	    return 1
}

# A packet to a proxy IP asks for the authorization of its resource, as
# the first packet to a CIDR resource does.
t_dns_proxy_ip_authorizes() {
	local ip
	dns_up || return 1
	ip=$(dns_dig "$DNS_SENTINEL" +short git.corp.example.com A | head -1)
	[ -n "$ip" ] || fail "no proxy IP" || return 1
	ip -n "$NS" route get "$ip" | grep -q "dev fzdn$$" ||
	    fail "proxy IP not routed into the tunnel" || return 1
	ip netns exec "$NS" ping -c 1 -W 1 "$ip" >/dev/null 2>&1
	stub '{"cmd":"wait","what":"message","value":"request_authorization",
	    "timeout":5}' >/dev/null ||
	    fail "no request_authorization: $(cat "$TLOG")" || return 1
	stub '{"cmd":"state"}' | python3 -c '
import json, sys
m = [x for x in json.load(sys.stdin)["messages"]
     if x["event"] == "request_authorization"]
assert m[0]["payload"]["resource_id"] == sys.argv[1], m' "$DNS_RES" ||
	    fail "authorization asked for the wrong resource" || return 1
	wait_until 5 grep -q "client state: IPC_GATEWAY_PEER .* $DNS_GW" \
	    "$TLOG" || fail "gateway peer not shipped" || return 1
	stub '{"cmd":"state"}' | grep -q '"violations": \[\]' ||
	    fail "stub saw violations" || return 1
}

# Proxy IPs are the process's: the same after the portal restarts, and
# after controld is killed (tunneld gives the new one the names back); a
# new name then takes the next number, not one a name had.
t_dns_proxy_ips_stable() {
	local before after old
	dns_up || return 1
	dns_dig "$DNS_SENTINEL" +short a.corp.example.com A >/dev/null
	before=$(dns_dig "$DNS_SENTINEL" +short b.corp.example.com A | sort)
	[ -n "$before" ] || fail "no answer" || return 1
	kill "$PORTAL_PID"
	wait "$PORTAL_PID" 2>/dev/null
	not_connected() { ! portal_connected; }
	wait_until 10 not_connected || fail "still connected" || return 1
	: >"$WORK/portal.out"
	dns_portal "$DNS_PORT" || return 1
	wait_until 40 portal_connected ||
	    fail "no reconnect: $(tail -20 "$TLOG")" || return 1
	after=$(dns_dig "$DNS_SENTINEL" +short b.corp.example.com A | sort)
	[ "$before" = "$after" ] ||
	    fail "proxy IPs moved: $before / $after" || return 1
	[ "$(dns_dig "$DNS_SENTINEL" +short -x "$(echo "$after" |
	    head -1)")" = b.corp.example.com. ] || fail "PTR after" ||
	    return 1
	old=$(controld_pid "$DIR")
	kill -KILL "$old"
	wait_until 15 controld_replaced "$DIR" "$old" ||
	    fail "no new controld" || return 1
	wait_until 40 portal_connected ||
	    fail "no reconnect: $(tail -20 "$TLOG")" || return 1
	grep -q 'dns: 2 names keep their proxy IPs from before the restart' \
	    "$TLOG" || fail "names not given back: $(grep dns: "$TLOG" |
	    tail -5)" || return 1
	after=$(dns_dig "$DNS_SENTINEL" +short b.corp.example.com A | sort)
	[ "$before" = "$after" ] ||
	    fail "proxy IPs moved with controld: $before / $after" || return 1
	[ "$(dns_dig "$DNS_SENTINEL" +short -x 100.96.0.1)" = \
	    a.corp.example.com. ] || fail "PTR of a after controld" || return 1
	after=$(dns_dig "$DNS_SENTINEL" +short c.corp.example.com A | head -1)
	[ "$after" = 100.96.0.9 ] || fail "new name at $after" || return 1
}

# 200 malformed datagrams to the sentinel: dropped, logged, and both
# daemons carry on answering.
t_dns_malformed_queries() {
	local cpid
	dns_up || return 1
	cpid=$(controld_pid "$DIR")
	ip netns exec "$NS" python3 -c '
import os, random, socket, struct
random.seed(13)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
good = bytes.fromhex("abcd01000001000000000000") + \
    b"\x03web\x04corp\x07example\x03com\x00\x00\x01\x00\x01"
for i in range(200):
    k = i % 4
    if k == 0:
        m = os.urandom(random.randint(0, 600))
    elif k == 1:
        m = good[:random.randint(0, len(good) - 1)]
    elif k == 2:
        m = bytearray(good)
        for _ in range(4):
            m[random.randrange(len(m))] = random.randrange(256)
        m = bytes(m)
    else:
        # A compression pointer to itself, counts that lie.
        m = struct.pack(">HHHHHH", i, 0x0100, 1, 5, 5, 5) + b"\xc0\x0c" + \
            b"\x00\x01\x00\x01"
    s.sendto(m, ("100.100.111.1", 53))
' || fail "sending" || return 1
	wait_until 5 grep -q 'dns: malformed query dropped' "$TLOG" ||
	    fail "nothing logged" || return 1
	kill -0 "$TPID" || fail "tunneld died" || return 1
	[ "$(controld_pid "$DIR")" = "$cpid" ] ||
	    fail "controld restarted" || return 1
	[ "$(dns_dig "$DNS_SENTINEL" +short web.corp.example.com A |
	    wc -l)" = 4 ] || fail "no answer after the flood" || return 1
	[ "$(dns_dig "$DNS_SENTINEL" +short plain.example.org A)" = \
	    10.9.8.7 ] || fail "no forwarding after the flood" || return 1
}

# The DNS resources end to end (issue 13 items 2 and 3): the world of
# tests_e2e.sh with an fzc gateway, whose system resolver is dnsmasq on
# the resource host of site A (10.20.0.2), and an fzc client asking its
# sentinel with dig.
TD_RES=3c1e5a7b-9d2f-4e6a-8b0c-1d2e3f4a5b6c
TD_RES_F=6e5d4c3b-2a19-4f8e-9d7c-6b5a4f3e2d1c

# td_topology [cidr]: e2e_topology flat, with "*.corp.example.com" and
# "secure.corp.example.com" (tcp/443 only) on site A, and with cidr the
# CIDR resource of site A (which covers the real address behind the
# names, and is a reason for the client to stay connected).
td_topology() {
	local res=
	[ "${1:-}" != cidr ] || res='
	  {"id": "'$E2E_RES1'", "type": "cidr", "address": "10.20.0.0/24",
	   "name": "Site A LAN", "filters": [],
	   "sites": [{"id": "'$E2E_SITE1'", "name": "Site A"}]},'
	res='['"$res"'
	  {"id": "'$TD_RES'", "type": "dns", "address": "*.corp.example.com",
	   "name": "Corp", "address_description": null, "filters": [],
	   "sites": [{"id": "'$E2E_SITE1'", "name": "Site A"}],
	   "ip_stack": "dual"},
	  {"id": "'$TD_RES_F'", "type": "dns",
	   "address": "secure.corp.example.com", "name": "Secure",
	   "address_description": null,
	   "filters": [{"protocol": "tcp", "port_range_start": 443,
	                "port_range_end": 443}],
	   "sites": [{"id": "'$E2E_SITE1'", "name": "Site A"}],
	   "ip_stack": "dual"}]'
	e2e_net flat 1 || return 1
	# ip netns exec puts /etc/netns/NS/resolv.conf (new_netns made it)
	# in place of the host's: the gateway's is dnsmasq; the client's, for
	# its sentinel, an address nothing answers on, outside every resource
	# (with a search domain: fzc's rewrite keeps it, and dig takes no
	# bare "search" line).
	echo "nameserver 10.20.0.2" >"/etc/netns/${E2E_G[1]}/resolv.conf"
	printf 'nameserver 10.99.0.53\nsearch corp.example.com\n' \
	    >"/etc/netns/$E2E_C/resolv.conf"
	ip netns exec "${E2E_RESNS[1]}" dnsmasq --keep-in-foreground \
	    --no-resolv --no-hosts --user=root --pid-file= --bind-interfaces \
	    --listen-address=10.20.0.2 --port=53 \
	    --address=/app.corp.example.com/10.20.0.2 \
	    --address=/other.corp.example.com/10.20.0.2 \
	    --address=/secure.corp.example.com/10.20.0.2 \
	    --log-facility="$WORK/dnsmasq.log" --log-queries &
	PIDS+=($!)
	e2e_pki || return 1
	e2e_coturn || return 1
	e2e_resources 1 || return 1
	e2e_scenario "$res" || return 1
	e2e_portal || return 1
	e2e_gateway 1 || return 1
	e2e_gateway_online 1 15 ||
	    fail "gateway not joined: $(tail -15 "${E2E_GLOG[1]}")" ||
	    return 1
	e2e_client || return 1
	wait_until 15 e2e_client_connected ||
	    fail "client not connected: $(tail -15 "$E2E_CLOG")" || return 1
	wait_until 5 grep -q 'dns: sentinel 100.100.111.1 forwards' \
	    "$E2E_CLOG" || fail "no sentinel: $(tail "$E2E_CLOG")"
}

# td_proxy NAME: the first IPv4 proxy IP the client's stub gives NAME.
td_proxy() {
	ip netns exec "$E2E_C" dig +tries=1 +time=2 @100.100.111.1 +short \
	    "$1" A | head -1
}

# td_status NAME: NAME's DomainStatus as `fzc resources` shows it.
td_status() {
	fzc_cli "$E2E_CDIR" --json resources | python3 -c '
import json, sys
for r in json.load(sys.stdin)["resources"]:
    for n in r.get("names", []):
        if n["name"] == sys.argv[1]:
            print(n["status"])' "$1"
}

# td_map: the gateway's proxy-IP translations, "client . proxy : real".
td_map() {
	ip netns exec "${E2E_G[1]}" nft list map inet fzcdns_fzcg0 proxy4 |
	    tr -d '\n' | sed -n 's/.*elements = { \([^}]*\) }.*/\1/p' |
	    tr ',' '\n' | sed 's/^[[:space:]]*//'
}

# A name of a DNS resource end to end: the proxy IP asks for the
# authorization, AssignedIps reaches the gateway, which resolves the name
# with its own resolver and translates; a 32 MiB download through the
# proxy IP matches its sha256.
t_dns_e2e_fetch() {
	local ip sha
	td_topology || return 1
	ip=$(td_proxy app.corp.example.com)
	[ "$ip" = 100.96.0.1 ] || fail "proxy IP $ip" || return 1
	sha=$(e2e_fetch "http://$ip/file.bin" "$WORK/fetch.txt")
	echo "download through $ip: $(cat "$WORK/fetch.txt" 2>/dev/null)"
	[ "$sha" = "$E2E_FILE_SHA" ] ||
	    fail "sha256 $sha, want $E2E_FILE_SHA; client:" \
	    "$(grep dns: "$E2E_CLOG" | tail -5); gateway:" \
	    "$(grep dns: "${E2E_GLOG[1]}" | tail -5)" || return 1
	[ "$(td_status app.corp.example.com)" = active ] ||
	    fail "status $(td_status app.corp.example.com)" || return 1
	td_map | grep -qx "100.64.0.[0-9]* . 100.96.0.1 : 10.20.0.2" ||
	    fail "translations: $(td_map)" || return 1
	grep -q 'dns: client .*: app.corp.example.com resolved, 8 of 8' \
	    "${E2E_GLOG[1]}" || grep -q 'app.corp.example.com resolved, 4 of 8' \
	    "${E2E_GLOG[1]}" || fail "no resolution logged" || return 1
	grep -q 'app.corp.example.com' "$WORK/dnsmasq.log" ||
	    fail "the gateway's resolver was not asked" || return 1
	te_healthy
}

# td_gateway_controld_killed: the gateway's controld killed; its successor
# has the portal's init.
td_gateway_controld_killed() {
	local old
	old=$(controld_pid "$WORK/gw1")
	kill -KILL "$old"
	wait_until 15 controld_replaced "$WORK/gw1" "$old" ||
	    fail "no new controld at the gateway" || return 1
	td_inits() {
		[ "$(grep -c 'portal: init with' "${E2E_GLOG[1]}")" -ge 2 ]
	}
	wait_until 30 td_inits || fail "the gateway's controld not back"
}

# The gateway's controld killed: the new one takes back the patterns
# tunneld kept (the portal's init lists authorizations, not resources), so
# the client, still authorized, gets a new name of the resource through.
t_dns_e2e_gateway_restart() {
	local ip sha
	td_topology || return 1
	ip=$(td_proxy app.corp.example.com)
	sha=$(e2e_fetch "http://$ip/file.bin")
	[ "$sha" = "$E2E_FILE_SHA" ] || fail "before: sha256 $sha" || return 1
	td_gateway_controld_killed || return 1
	ip=$(td_proxy other.corp.example.com)
	sha=$(e2e_fetch "http://$ip/file.bin")
	[ "$sha" = "$E2E_FILE_SHA" ] ||
	    fail "after: sha256 $sha; gateway: $(grep dns: "${E2E_GLOG[1]}" |
	    tail -5)" || return 1
	[ "$(td_status other.corp.example.com)" = active ] ||
	    fail "status $(td_status other.corp.example.com)" || return 1
	te_healthy
}

# A name the gateway's resolver does not know: DomainStatus Inactive, the
# client drops what it held for it, says so, and shows it.
t_dns_e2e_inactive() {
	local ip
	td_topology || return 1
	ip=$(td_proxy nx.corp.example.com)
	[ -n "$ip" ] || fail "no proxy IP" || return 1
	ip netns exec "$E2E_C" ping -c 1 -W 3 "$ip" >/dev/null 2>&1 &&
	    fail "an inactive name answered" && return 1
	wait_until 10 grep -q \
	    'dns: gateway .* does not take nx.corp.example.com (inactive)' \
	    "$E2E_CLOG" || fail "client: $(grep dns: "$E2E_CLOG")" ||
	    return 1
	grep -q 'nx.corp.example.com does not resolve here' \
	    "${E2E_GLOG[1]}" || fail "gateway: $(grep dns: "${E2E_GLOG[1]}")" ||
	    return 1
	[ "$(td_status nx.corp.example.com)" = inactive ] ||
	    fail "status $(td_status nx.corp.example.com)" || return 1
	[ -z "$(td_map)" ] || fail "translations: $(td_map)" || return 1
	te_healthy
}

# The gateway takes a name only for a resource the client is authorized
# for and whose pattern matches it: a name outside the pattern (the
# portal narrowed it for the gateway) is refused; reject_access takes the
# resource's translations away, and AssignedIps for it is refused after.
t_dns_e2e_refused() {
	local app other
	td_topology cidr || return 1
	te_first_packet 10.20.0.2 >/dev/null || return 1
	app=$(td_proxy app.corp.example.com)
	[ "$(e2e_fetch "http://$app/index.html")" = \
	    "$(sha256sum <"$WORK/www1/index.html" | cut -d' ' -f1)" ] ||
	    fail "app not reached" || return 1
	e2e_stub '{"cmd":"push","role":"gateway","event":"resource_updated",
	  "payload": {"id": "'$TD_RES'", "type": "dns",
	   "address": "app.corp.example.com", "name": "Corp",
	   "filters": []}}' >/dev/null || return 1
	wait_until 5 grep -q "portal: resource $TD_RES updated" \
	    "${E2E_GLOG[1]}" || fail "no update at the gateway" || return 1
	other=$(td_proxy other.corp.example.com)
	ip netns exec "$E2E_C" ping -c 1 -W 3 "$other" >/dev/null 2>&1 &&
	    fail "a refused name answered" && return 1
	wait_until 10 grep -q 'other.corp.example.com for resource .* refused: the name does not match' \
	    "${E2E_GLOG[1]}" || fail "gateway: $(grep dns: "${E2E_GLOG[1]}")" ||
	    return 1
	wait_until 5 eval '[ "$(td_status other.corp.example.com)" = inactive ]' ||
	    fail "status $(td_status other.corp.example.com)" || return 1
	! td_map | grep -q " . $other :" || fail "other translated" || return 1
	td_map | grep -q " . $app :" || fail "app lost: $(td_map)" ||
	    return 1
	# reject_access: the resource's translations go; the client stays
	# connected for the CIDR resource.
	e2e_stub '{"cmd":"reject_access","resource_id":"'$TD_RES'",
	    "client_id":"'$E2E_CLIENT_ID'"}' | grep -q '"sent": 1' ||
	    fail "reject_access not sent" || return 1
	wait_until 5 eval '[ -z "$(td_map)" ]' ||
	    fail "translations left: $(td_map)" || return 1
	td_proxy app.corp.example.com >/dev/null
	wait_until 10 grep -q 'app.corp.example.com for resource .* refused: not authorized' \
	    "${E2E_GLOG[1]}" || fail "gateway: $(grep dns: "${E2E_GLOG[1]}")" ||
	    return 1
	ip netns exec "$E2E_C" ping -c 1 -W 2 10.20.0.2 >/dev/null ||
	    fail "the CIDR resource went too" || return 1
	te_healthy
}

# The filters of a DNS resource hold for the real address behind its
# proxy IP: tcp/443 passes, tcp/22 and tcp/80 (both served there) are
# refused at once.
t_dns_e2e_filters() {
	local ip out
	td_topology || return 1
	ip=$(td_proxy secure.corp.example.com)
	out=$(e2e_fetch "http://$ip:443/index.html" 2>&1)
	[ "$out" = "$(sha256sum <"$WORK/www1/index.html" | cut -d' ' -f1)" ] ||
	    fail "tcp/443: $out; $(grep dns: "$E2E_CLOG" | tail -3)" ||
	    return 1
	out=$(te_tcp_connect "$ip" 22)
	echo "tcp/22: $out"
	[[ $out =~ ^113\ [0-2]\. ]] ||
	    fail "tcp/22 not refused at once with EHOSTUNREACH: $out" ||
	    return 1
	out=$(te_tcp_connect "$ip" 80)
	echo "tcp/80: $out"
	[[ $out =~ ^113\  ]] || fail "tcp/80 not refused: $out" || return 1
	te_healthy
}

# SRV and TXT for names of DNS resources (issue 13 items 1 and 3): the
# client's stub sends them through the tunnel to the resource's gateway,
# UDP port 53535 on its tunnel address, which asks its own resolver
# (dnsmasq on site A's resource host) for a client authorized for a DNS
# resource whose pattern matches the name, and refuses everyone else.
# The client's own upstream (dnsmasq on 10.99.0.53 in its namespace)
# answers the rest.
TS_RES=9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d
TS_GW4=100.82.0.1
TS_GW6=fd00:2021:1111::1:821
TS_SRV=_http._tcp.app.corp.example.com

# ts_topology [cidr]: the world of td_topology with "**.corp.example.com"
# (and with cidr site A's CIDR resource), dnsmasq with SRV and TXT records
# at the gateway's side, and the client's upstream.
ts_topology() {
	local res=
	[ "${1:-}" != cidr ] || res='
	  {"id": "'$E2E_RES1'", "type": "cidr", "address": "10.20.0.0/24",
	   "name": "Site A LAN", "filters": [],
	   "sites": [{"id": "'$E2E_SITE1'", "name": "Site A"}]},'
	res='['"$res"'
	  {"id": "'$TS_RES'", "type": "dns", "address": "**.corp.example.com",
	   "name": "Corp", "address_description": null, "filters": [],
	   "sites": [{"id": "'$E2E_SITE1'", "name": "Site A"}],
	   "ip_stack": "dual"}]'
	e2e_net flat 1 || return 1
	echo "nameserver 10.20.0.2" >"/etc/netns/${E2E_G[1]}/resolv.conf"
	echo "nameserver 10.99.0.53" >"/etc/netns/$E2E_C/resolv.conf"
	ip netns exec "${E2E_RESNS[1]}" dnsmasq --keep-in-foreground \
	    --no-resolv --no-hosts --user=root --pid-file= --bind-interfaces \
	    --listen-address=10.20.0.2 --port=53 --local=/corp.example.com/ \
	    --local=/example.org/ \
	    --srv-host="$TS_SRV,app.corp.example.com,8080,1,10" \
	    --srv-host="$TS_SRV,app2.corp.example.com,8081,2,20" \
	    --srv-host=_http._tcp.outside.example.org,app.corp.example.com,80 \
	    --txt-record=app.corp.example.com,"v=fzc gateway","second string" \
	    --txt-record=outside.example.org,"outside every pattern" \
	    --log-facility="$WORK/dnsmasq.log" --log-queries &
	PIDS+=($!)
	# The client's upstream, outside the tunnel, with records of its own.
	ip -n "$E2E_C" link add up0 type veth peer name up1
	ip -n "$E2E_C" addr add 10.99.0.53/24 dev up0
	ip -n "$E2E_C" link set up1 up
	ip -n "$E2E_C" link set up0 up
	ip netns exec "$E2E_C" dnsmasq --keep-in-foreground --no-resolv \
	    --no-hosts --user=root --pid-file= --bind-interfaces \
	    --listen-address=10.99.0.53 --port=53 \
	    --srv-host=_sip._udp.plain.example.org,sip.plain.example.org,5060 \
	    --txt-record=plain.example.org,"client upstream" \
	    --log-facility="$WORK/upstream.log" --log-queries &
	PIDS+=($!)
	e2e_pki || return 1
	e2e_coturn || return 1
	e2e_resources 1 || return 1
	e2e_scenario "$res" || return 1
	e2e_portal || return 1
	e2e_gateway 1 || return 1
	e2e_gateway_online 1 15 ||
	    fail "gateway not joined: $(tail -15 "${E2E_GLOG[1]}")" ||
	    return 1
	e2e_client || return 1
	wait_until 15 e2e_client_connected ||
	    fail "client not connected: $(tail -15 "$E2E_CLOG")" || return 1
	wait_until 5 grep -q 'dns: sentinel 100.100.111.1 forwards' \
	    "$E2E_CLOG" || fail "no sentinel: $(tail "$E2E_CLOG")"
}

# ts_dig NS SERVER ARGS...: dig in NS, one try, answers sorted.
ts_dig() {
	local ns=$1 server=$2
	shift 2
	ip netns exec "$ns" dig +tries=1 +time=3 "@$server" "$@" | sort
}

# ts_gateway_view ARGS...: what the gateway's resolver itself says.
ts_gateway_view() {
	ts_dig "${E2E_G[1]}" 10.20.0.2 +short "$@"
}

# SRV and TXT of resource names come from the gateway's resolver, record
# for record, the first one after the authorization it asks for; other
# names from the client's upstream; the resolver's NXDOMAIN passes on.
t_dns_srv_txt() {
	local out want
	ts_topology || return 1
	want=$(ts_gateway_view "$TS_SRV" SRV)
	[ "$(echo "$want" | wc -l)" = 2 ] || fail "dnsmasq: $want" || return 1
	# The first query waits for the authorization and the connection.
	out=$(ts_dig "$E2E_C" 100.100.111.1 +time=10 +short "$TS_SRV" SRV)
	[ "$out" = "$want" ] ||
	    fail "SRV through the tunnel: '$out', want '$want';" \
	    "$(grep 'dns\|authoriz' "$E2E_CLOG" | tail -8)" || return 1
	grep -q "portal: resource $TS_RES authorized" "$E2E_CLOG" ||
	    fail "no authorization" || return 1
	# Over TCP to the sentinel too (the gateway is asked over UDP).
	out=$(ts_dig "$E2E_C" 100.100.111.1 +tcp +short "$TS_SRV" SRV)
	[ "$out" = "$(ts_gateway_view "$TS_SRV" SRV)" ] ||
	    fail "SRV over TCP: '$out'" || return 1
	want=$(ts_gateway_view app.corp.example.com TXT)
	[ -n "$want" ] || fail "dnsmasq TXT" || return 1
	out=$(ts_dig "$E2E_C" 100.100.111.1 +short APP.corp.example.com TXT)
	[ "$out" = "$want" ] || fail "TXT: '$out', want '$want'" || return 1
	out=$(ts_dig "$E2E_C" 100.100.111.1 nope.corp.example.com TXT)
	grep -q 'status: NXDOMAIN' <<<"$out" ||
	    fail "the resolver's NXDOMAIN: $out" || return 1
	grep -q "$TS_SRV" "$WORK/dnsmasq.log" &&
	    grep -q 'nope.corp.example.com' "$WORK/dnsmasq.log" ||
	    fail "the gateway's resolver was not asked" || return 1
	# Outside every pattern: the client's upstream, not the gateway.
	want=$(ts_dig "$E2E_C" 10.99.0.53 +short _sip._udp.plain.example.org \
	    SRV)
	[ -n "$want" ] &&
	    [ "$(ts_dig "$E2E_C" 100.100.111.1 +short \
	    _sip._udp.plain.example.org SRV)" = "$want" ] ||
	    fail "forwarded SRV" || return 1
	[ "$(ts_dig "$E2E_C" 100.100.111.1 +short plain.example.org TXT)" = \
	    '"client upstream"' ] || fail "forwarded TXT" || return 1
	! grep -q 'plain.example.org' "$WORK/dnsmasq.log" ||
	    fail "the gateway was asked for plain.example.org" || return 1
	! grep -q 'corp.example.com' "$WORK/upstream.log" ||
	    fail "a resource name reached the client's upstream" || return 1
	te_healthy
}

# The gateway's controld restarted: the portal's init names the client's
# authorization but not its tunnel addresses; tunneld gives them back, so
# the client's SRV and TXT queries are still answered, not REFUSED.
t_dns_srv_gateway_restart() {
	local out want
	ts_topology || return 1
	want=$(ts_gateway_view "$TS_SRV" SRV)
	out=$(ts_dig "$E2E_C" 100.100.111.1 +time=10 +short "$TS_SRV" SRV)
	[ -n "$want" ] && [ "$out" = "$want" ] ||
	    fail "SRV before: '$out', want '$want'" || return 1
	td_gateway_controld_killed || return 1
	want=$(ts_gateway_view app.corp.example.com TXT)
	out=$(ts_dig "$E2E_C" 100.100.111.1 +short app.corp.example.com TXT)
	[ -n "$want" ] && [ "$out" = "$want" ] ||
	    fail "TXT after the restart: '$out', want '$want'; gateway:" \
	    "$(grep 'dns:' "${E2E_GLOG[1]}" | tail -5)" || return 1
	te_healthy
}

# Port 53535 itself: REFUSED to a client not authorized for the DNS
# resource, for a name outside its pattern and for other types; answered
# once authorized, over IPv6 too; nothing from outside the tunnel; 200
# malformed datagrams change nothing.
t_dns_srv_refused() {
	local gpid out want
	ts_topology cidr || return 1
	te_first_packet 10.20.0.2 >/dev/null || return 1
	gpid=$(controld_pid "$WORK/gw1")
	out=$(ts_dig "$E2E_C" "$TS_GW4" -p 53535 "$TS_SRV" SRV)
	grep -q 'status: REFUSED' <<<"$out" ||
	    fail "unauthorized client: $out; gateway:" \
	    "$(grep 'dns:\|53535' "${E2E_GLOG[1]}" | tail -5)" || return 1
	want=$(ts_gateway_view "$TS_SRV" SRV)
	[ "$(ts_dig "$E2E_C" 100.100.111.1 +time=10 +short "$TS_SRV" SRV)" = \
	    "$want" ] || fail "SRV through the sentinel" || return 1
	[ "$(ts_dig "$E2E_C" "$TS_GW4" -p 53535 +short "$TS_SRV" SRV)" = \
	    "$want" ] || fail "authorized, straight to 53535" || return 1
	[ "$(ts_dig "$E2E_C" "$TS_GW6" -p 53535 +short "$TS_SRV" SRV)" = \
	    "$want" ] || fail "over IPv6" || return 1
	# The gateway does not give out a name outside the pattern, which its
	# resolver knows.
	out=$(ts_dig "$E2E_C" "$TS_GW4" -p 53535 outside.example.org TXT)
	grep -q 'status: REFUSED' <<<"$out" ||
	    fail "outside the pattern: $out" || return 1
	out=$(ts_dig "$E2E_C" "$TS_GW4" -p 53535 app.corp.example.com A)
	grep -q 'status: REFUSED' <<<"$out" || fail "type A: $out" || return 1
	! grep -q 'outside.example.org' "$WORK/dnsmasq.log" ||
	    fail "the resolver was asked for a refused name" || return 1
	[ -n "$(ts_gateway_view outside.example.org TXT)" ] ||
	    fail "dnsmasq: no outside.example.org" || return 1
	# From the resource's side, not the tunnel: nothing at all.
	out=$(ts_dig "${E2E_RESNS[1]}" "$TS_GW4" -p 53535 "$TS_SRV" SRV)
	! grep -q 'status:' <<<"$out" || fail "answered outside the tunnel:" \
	    "$out" || return 1
	ip netns exec "$E2E_C" python3 -c '
import os, random, socket, struct
random.seed(53535)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
good = struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0) + \
    b"\x05_http\x04_tcp\x03app\x04corp\x07example\x03com\x00\x00\x21\x00\x01"
for i in range(200):
    k = i % 5
    if k == 0:
        m = os.urandom(random.randint(0, 1400))
    elif k == 1:
        m = good[:random.randint(0, len(good) - 1)]
    elif k == 2:
        m = bytearray(good)
        for _ in range(4):
            m[random.randrange(len(m))] = random.randrange(256)
        m = bytes(m)
    elif k == 3:
        m = struct.pack(">HHHHHH", i, 0x0100, 1, 5, 5, 5) + b"\xc0\x0c" + \
            b"\x00\x21\x00\x01"
    else:
        # A response, not a query.
        m = bytes([good[0], good[1], good[2] | 0x80]) + good[3:]
    s.sendto(m, ("100.82.0.1", 53535))
' || fail "sending" || return 1
	kill -0 "${E2E_GPID[1]}" || fail "gateway tunneld died" || return 1
	[ "$(controld_pid "$WORK/gw1")" = "$gpid" ] ||
	    fail "gateway controld restarted" || return 1
	[ "$(ts_dig "$E2E_C" "$TS_GW4" -p 53535 +short "$TS_SRV" SRV)" = \
	    "$want" ] || fail "no answer after the malformed ones" || return 1
	te_healthy
}

# DNS over HTTPS (issue 13 item 1): the portal gives only upstream_doh,
# https://doh.test/dns-query; dnsdist serves it on 10.54.0.54:443 with a
# certificate of the test CA, which fzc trusts through --ca-file as it
# does the portal's, and asks dnsmasq (10.53.0.53), which is also the
# system's resolver that fzc looks doh.test up with.
DOH_ADDR=10.54.0.54

# doh_dnsdist: dnsdist in the namespace, its pid in DOH_PID; its query
# log is WORK/doh-queries.log.
doh_dnsdist() {
	cat >"$WORK/dnsdist.conf" <<LUA
setLocal("127.0.0.1:5300")
-- No security polling: nothing leaves the namespace.
setSecurityPollSuffix("")
addDOHLocal("$DOH_ADDR:443", "$WORK/pki/doh.crt", "$WORK/pki/doh.key",
    "/dns-query")
newServer({address = "$DNS_UPSTREAM:53", checkInterval = 3600})
addAction(AllRule(), LogAction("$WORK/doh-queries.log", false, true, false))
LUA
	ip netns exec "$NS" dnsdist --supervised --disable-syslog \
	    -C "$WORK/dnsdist.conf" >>"$WORK/dnsdist.out" 2>&1 &
	DOH_PID=$!
	PIDS+=("$DOH_PID")
	wait_until 10 eval 'ip netns exec "$NS" ss -tlnH |
	    grep -q "$DOH_ADDR:443"' ||
	    fail "dnsdist: $(cat "$WORK/dnsdist.out")" || return 1
}

doh_up() {
	new_netns NS doh || return 1
	DIR=$WORK/a
	mkdir -p "$DIR"
	chmod 755 "$DIR"
	ip -n "$NS" link add up0 type veth peer name up1
	ip -n "$NS" addr add "$DNS_UPSTREAM/24" dev up0
	ip -n "$NS" link add doh0 type veth peer name doh1
	ip -n "$NS" addr add "$DOH_ADDR/24" dev doh0
	local l
	for l in up0 up1 doh0 doh1; do
		ip -n "$NS" link set "$l" up
	done
	echo "nameserver $DNS_UPSTREAM" >"/etc/netns/$NS/resolv.conf"
	ip netns exec "$NS" dnsmasq --keep-in-foreground --no-resolv \
	    --no-hosts --user=root --pid-file= --bind-interfaces \
	    --listen-address="$DNS_UPSTREAM" --port=53 \
	    --address=/doh.test/"$DOH_ADDR" \
	    --address=/plain.example.org/10.9.8.7 \
	    --address=/plain.example.org/2001:db8::7 \
	    --txt-record=plain.example.org,"upstream answer" \
	    --log-facility="$WORK/dnsmasq.log" --log-queries &
	PIDS+=($!)
	pt_ca "$WORK/pki" && pt_cert "$WORK/pki" srv 127.0.0.1 \
	    "DNS:portal.test,IP:127.0.0.1" &&
	    pt_cert "$WORK/pki" doh doh.test "DNS:doh.test" &&
	    chmod 644 "$WORK/pki/doh.key" ||
	    fail "cannot make the test PKI" || return 1
	doh_dnsdist || return 1
	cat >"$WORK/scenario.json" <<JSON
{
  "sites": [{"id": "$DNS_SITE", "name": "HQ"}],
  "interface": {"ipv4": "100.64.0.2", "ipv6": "fd00:2021:1111::2",
                "search_domain": null, "upstream_do53": [],
                "upstream_doh": [{"url": "https://doh.test/dns-query"}]},
  "resources": [
    {"id": "$DNS_RES", "type": "dns", "address": "*.corp.example.com",
     "name": "Corp", "address_description": null, "filters": [],
     "sites": [{"id": "$DNS_SITE", "name": "HQ"}], "ip_stack": "dual"}
  ]
}
JSON
	pt_stub "$NS" "$WORK/portal.ctl" "$WORK/pki/srv" \
	    "$WORK/scenario.json" 127.0.0.1:0 || return 1
	echo dns-token >"$DIR/token"
	chmod 600 "$DIR/token"
	start_tunneld "$NS" "$DIR" --api-url "wss://127.0.0.1:$PT_PORT" \
	    --ca-file "$WORK/pki/ca.crt" --interface "fzdo$$"
	wait_until 10 portal_connected ||
	    fail "not connected: $(cat "$TLOG")" || return 1
	wait_until 5 grep -q 'dns: sentinel 100.100.111.1 forwards over HTTPS to https://doh.test/dns-query' \
	    "$TLOG" || fail "no DoH sentinel: $(cat "$TLOG")" || return 1
}

# Forwarded names go to the DoH server, over one HTTP/2 connection, and
# answer as its backend does; the server down: SERVFAIL or nothing, and
# both daemons carry on; back up: answers again. `fzc status` shows the
# DNS control and the upstream.
t_dns_doh() {
	local t cpid out
	doh_up || return 1
	wait_until 8 dns_dig_ok plain.example.org ||
	    fail "no answer through DoH: $(grep dns: "$TLOG")" || return 1
	for t in A AAAA TXT MX; do
		[ "$(dns_dig "$DNS_SENTINEL" +short plain.example.org $t)" = \
		    "$(dns_dig "$DNS_UPSTREAM" +short plain.example.org $t)" ] ||
		    fail "forwarded $t differs" || return 1
	done
	dns_dig "$DNS_SENTINEL" nothing.example.org A |
	    grep -q 'status: NXDOMAIN\|status: REFUSED' ||
	    fail "the backend's error not passed on" || return 1
	# A query over TCP to the sentinel goes out over DoH as well.
	[ "$(dns_dig "$DNS_SENTINEL" +tcp +short plain.example.org TXT)" = \
	    '"upstream answer"' ] || fail "over TCP" || return 1
	grep -q 'plain.example.org. AAAA' "$WORK/doh-queries.log" ||
	    fail "dnsdist saw nothing: $(cat "$WORK/doh-queries.log")" ||
	    return 1
	# Resource names stay local; doh.test came from the system's resolver.
	! grep -q 'corp.example.com' "$WORK/doh-queries.log" ||
	    fail "resource name leaked" || return 1
	[ "$(dns_dig "$DNS_SENTINEL" +short web.corp.example.com A |
	    wc -l)" = 4 ] || fail "no proxy IPs" || return 1
	grep -q 'query\[A\] doh.test' "$WORK/dnsmasq.log" ||
	    fail "doh.test not looked up" || return 1
	grep -q 'dns: DoH server doh.test answers, over HTTP/2' "$TLOG" ||
	    fail "not HTTP/2: $(grep 'dns: DoH' "$TLOG")" || return 1
	out=$(ip netns exec "$NS" ss -tnH state established \
	    dst "$DOH_ADDR:443")
	[ "$(echo "$out" | grep -c .)" = 1 ] ||
	    fail "connections to the DoH server: $out" || return 1
	# fzc status: the mode tunneld settled on, the sentinel, the URL.
	fzc_cli "$DIR" --json status | python3 -c '
import json, sys
d = json.load(sys.stdin)["dns"]
assert d["control"] == "etc-resolv-conf", d
assert d["source"] == "portal_doh", d
assert d["upstreams"] == [{"sentinel": "100.100.111.1",
    "url": "https://doh.test/dns-query", "source": "portal_doh"}], d
' || fail "fzc --json status: $(fzc_cli "$DIR" --json status)" ||
	    return 1
	fzc_cli "$DIR" status | grep -q \
	    '^  sentinel 100.100.111.1 -> https://doh.test/dns-query (portal, DoH)$' ||
	    fail "fzc status: $(fzc_cli "$DIR" status)" || return 1
	# The DoH server goes away.
	cpid=$(controld_pid "$DIR")
	kill "$DOH_PID"
	wait "$DOH_PID" 2>/dev/null
	out=$(dns_dig "$DNS_SENTINEL" plain.example.org A)
	echo "$out" | grep -q 'status: SERVFAIL\|timed out' ||
	    fail "with the server down: $out" || return 1
	wait_until 5 grep -q 'dns: DoH server doh.test fails' "$TLOG" ||
	    fail "not logged: $(grep 'dns: DoH' "$TLOG")" || return 1
	kill -0 "$TPID" || fail "tunneld died" || return 1
	[ "$(controld_pid "$DIR")" = "$cpid" ] ||
	    fail "controld restarted" || return 1
	doh_dnsdist || return 1
	wait_until 10 dns_dig_ok plain.example.org ||
	    fail "no answer once the server is back" || return 1
	grep -q 'dns: DoH server doh.test answers again' "$TLOG" ||
	    fail "recovery not logged" || return 1
	dns_tcp_clean
}

# fzc status with the portal's Do53 resolver: the sentinel, the address,
# the source, and the DNS control the test namespace gets by default.
t_dns_status() {
	dns_up || return 1
	fzc_cli "$DIR" --json status | python3 -c '
import json, sys
d = json.load(sys.stdin)["dns"]
assert d == {"control": "etc-resolv-conf", "source": "portal_do53",
    "upstreams": [{"sentinel": "100.100.111.1", "address": "10.53.0.53",
                   "source": "portal_do53"}]}, d
' || fail "fzc --json status: $(fzc_cli "$DIR" --json status)" ||
	    return 1
	fzc_cli "$DIR" status | grep -qx \
	    'dns:       system DNS control etc-resolv-conf' ||
	    fail "fzc status: $(fzc_cli "$DIR" status)" || return 1
	fzc_cli "$DIR" status | grep -qx \
	    '  sentinel 100.100.111.1 -> 10.53.0.53 (portal)' ||
	    fail "fzc status: $(fzc_cli "$DIR" status)" || return 1
}

# --- DNS over TCP to the sentinels (controld/dns_tcp.c) -------------------

# dns_tcp_py ARGS...: python3 in the namespace, its program on stdin:
# the TCP clients below (pipelined queries, malformed input).
dns_tcp_py() {
	ip netns exec "$NS" python3 - "$@"
}

# dig +tcp to the sentinel: a resource name gets its proxy IPs, a
# forwarded name the upstream's answer, as the upstream gives it over
# TCP itself.
t_dns_tcp_answers() {
	local out a up
	dns_up || return 1
	out=$(dns_dig "$DNS_SENTINEL" +tcp +noall +answer web.corp.example.com A)
	echo "$out"
	a=$(echo "$out" | awk '$4 == "A" {print $5}' | sort)
	[ "$a" = "$(printf '100.96.0.%s\n' 1 2 3 4)" ] ||
	    fail "A over TCP: $out" || return 1
	out=$(dns_dig "$DNS_SENTINEL" +tcp +short web.corp.example.com AAAA |
	    sort)
	[ "$out" = "$(printf 'fd00:2021:1111:8000::%s\n' '' 1 2 3)" ] ||
	    fail "AAAA over TCP: $out" || return 1
	for t in A AAAA TXT; do
		out=$(dns_dig "$DNS_SENTINEL" +tcp +noall +answer \
		    plain.example.org "$t")
		up=$(dns_dig "$DNS_UPSTREAM" +tcp +noall +answer \
		    plain.example.org "$t")
		echo "$t: $out"
		[ -n "$out" ] && [ "$out" = "$up" ] ||
		    fail "$t forwarded over TCP: '$out', upstream '$up'" ||
		    return 1
	done
	# An error answer too.
	out=$(dns_dig "$DNS_SENTINEL" +tcp nothing.example.org A |
	    grep -o 'status: [A-Z]*')
	up=$(dns_dig "$DNS_UPSTREAM" +tcp nothing.example.org A |
	    grep -o 'status: [A-Z]*')
	[ -n "$out" ] && [ "$out" = "$up" ] ||
	    fail "error over TCP: '$out', upstream '$up'" || return 1
	dns_tcp_clean
}

# Several queries on one connection, sent at once (RFC 7766 pipelining),
# in segments cut anywhere: every one answered, ids matched; then a clean
# close from the application.
t_dns_tcp_pipelined() {
	dns_up || return 1
	dns_tcp_py "$DNS_SENTINEL" <<'PY' || fail "pipelined" || return 1
import socket, struct, sys, time

def q(i, name, t):
    m = struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0)
    for l in name.split("."):
        m += bytes([len(l)]) + l.encode()
    return m + b"\x00" + struct.pack(">HH", t, 1)

names = [("web.corp.example.com", 1), ("plain.example.org", 1),
         ("b.corp.example.com", 28), ("plain.example.org", 16),
         ("v4.corp.example.com", 1)]
s = socket.create_connection((sys.argv[1], 53), timeout=5)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
wire = b"".join(struct.pack(">H", len(m)) + m
                for m in (q(100 + i, n, t) for i, (n, t) in enumerate(names)))
# Cut in odd places: inside a length prefix, inside a message.
for a, b in ((0, 1), (1, 30), (30, 31), (31, len(wire))):
    s.sendall(wire[a:b])
    time.sleep(0.05)
buf, got = b"", {}
while len(got) < len(names):
    d = s.recv(4096)
    if not d:
        sys.exit("closed after %d answers" % len(got))
    buf += d
    while len(buf) >= 2 and len(buf) >= 2 + struct.unpack(">H", buf[:2])[0]:
        n = struct.unpack(">H", buf[:2])[0]
        m, buf = buf[2:2 + n], buf[2 + n:]
        i, flags, qd, an = struct.unpack(">HHHH", m[:8])
        assert flags & 0x8000 and flags & 0xf == 0, (i, flags)
        assert an > 0, (i, an)
        got[i] = an
assert sorted(got) == list(range(100, 100 + len(names))), got
print("answers:", got)
s.shutdown(socket.SHUT_WR)
assert s.recv(1) == b"", "no FIN after the answers"
PY
	wait_until 5 grep -q "plain.example.org" "$WORK/dnsmasq.log" ||
	    fail "not forwarded" || return 1
	dns_tcp_clean
}

# Malformed TCP: garbage and lying lengths on real connections, raw
# segments with any flags, a flood of SYNs over the connection cap. Both
# daemons carry on, and DNS over TCP still answers.
t_dns_tcp_malformed() {
	local cpid
	dns_up || return 1
	cpid=$(controld_pid "$DIR")
	dns_tcp_py "$DNS_SENTINEL" <<'PY' || fail "sending" || return 1
import os, random, socket, struct, sys
random.seed(13)
dst = sys.argv[1]
# Connections that say something wrong.
for i in range(40):
    try:
        s = socket.create_connection((dst, 53), timeout=2)
        k = i % 4
        if k == 0:
            s.sendall(os.urandom(random.randint(1, 3000)))
        elif k == 1:
            s.sendall(struct.pack(">H", random.randint(0, 11)) + b"x" * 11)
        elif k == 2:
            s.sendall(b"\xff\xff" + os.urandom(2000))
        else:
            s.sendall(struct.pack(">H", 40) + os.urandom(40))
        s.close()
    except OSError as e:
        print("connection", i, e)
# Raw segments to port 53 with any flags, sequence numbers and options.
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
for i in range(300):
    off = random.randint(5, 15)
    opts = os.urandom((off - 5) * 4)
    seg = struct.pack(">HHIIBBHHH", random.randint(1024, 65535), 53,
                      random.getrandbits(32), random.getrandbits(32),
                      off << 4, random.getrandbits(8),
                      random.getrandbits(16), 0, 0) + opts + \
        os.urandom(random.randint(0, 200))
    r.sendto(seg, (dst, 0))
# SYNs over the cap: connections left open, then more refused.
import errno, select
held = []
for i in range(120):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex((dst, 53))
    held.append(s)
up = refused = 0
for s in held:
    select.select([], [s], [], 5)
    e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    up += e == 0
    refused += e == errno.ECONNREFUSED
print("SYN flood: %d connected, %d refused" % (up, refused))
assert up <= 64 and up + refused == len(held), (up, refused)
for s in held:
    s.close()
PY
	sleep 1
	kill -0 "$TPID" || fail "tunneld died" || return 1
	[ "$(controld_pid "$DIR")" = "$cpid" ] ||
	    fail "controld restarted" || return 1
	wait_until 15 dns_tcp_ok || fail "no answer over TCP after" || return 1
	[ "$(dns_dig "$DNS_SENTINEL" +short web.corp.example.com A |
	    wc -l)" = 4 ] || fail "no answer over UDP after" || return 1
	dns_tcp_clean
}

# An upstream that truncates over UDP (512 bytes at most) and a TXT
# answer of about 1 KB: asked over UDP with room for it, fzc asks again
# over TCP and gives the whole answer; without room, a truncated one as
# the upstream gives; asked over TCP, the upstream is asked over TCP.
t_dns_tcp_truncated() {
	local big out up
	big=$(printf '%0250d' 0 | tr 0 a),$(printf '%0250d' 0 | tr 0 b)
	big=$big,$(printf '%0250d' 0 | tr 0 c),$(printf '%0250d' 0 | tr 0 d)
	DNS_UPSTREAM_EXTRA="--edns-packet-max=512 --txt-record=big.example.org,$big"
	dns_up || return 1
	up=$(dns_dig "$DNS_UPSTREAM" +ignore +bufsize=1232 big.example.org TXT)
	echo "$up" | grep -q 'flags:.* tc' ||
	    fail "the upstream does not truncate: $up" || return 1
	up=$(dns_dig "$DNS_UPSTREAM" +tcp +noall +answer big.example.org TXT)
	[ "$(echo "$up" | wc -c)" -gt 1000 ] || fail "upstream: $up" ||
	    return 1
	out=$(dns_dig "$DNS_SENTINEL" +ignore +bufsize=1232 big.example.org TXT)
	! echo "$out" | grep -q 'flags:.* tc' || fail "truncated: $out" ||
	    return 1
	out=$(dns_dig "$DNS_SENTINEL" +ignore +bufsize=1232 +noall +answer \
	    big.example.org TXT)
	[ "$out" = "$up" ] || fail "UDP: '$out', upstream over TCP '$up'" ||
	    return 1
	# No room: TC and no records, as the upstream's own.
	for o in +noedns +bufsize=600; do
		out=$(dns_dig "$DNS_SENTINEL" +ignore "$o" big.example.org TXT)
		echo "$out" | grep -q 'flags:.* tc' &&
		    echo "$out" | grep -q 'ANSWER: 0' ||
		    fail "$o: $out" || return 1
	done
	out=$(dns_dig "$DNS_SENTINEL" +tcp +noall +answer big.example.org TXT)
	[ "$out" = "$up" ] || fail "TCP: '$out', upstream '$up'" || return 1
	# A small answer is not asked again.
	[ "$(dns_dig "$DNS_SENTINEL" +short plain.example.org A)" = \
	    10.9.8.7 ] || fail "small answer" || return 1
	dns_tcp_clean
}

dns_tcp_ok() {
	[ "$(dns_dig "$DNS_SENTINEL" +tcp +short plain.example.org A)" = \
	    10.9.8.7 ]
}

# No sanitizer report from either daemon (the sanitizer build).
dns_tcp_clean() {
	! grep -q 'ERROR: AddressSanitizer\|runtime error:' "$TLOG" ||
	    fail "sanitizer report: $(grep -A12 'Sanitizer\|runtime error:' \
	    "$TLOG" | head -30)"
}
