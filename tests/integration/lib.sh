# lib.sh: helpers for fzc's integration tests (sourced by run.sh).
# Each test gets its own network namespace and work directory; everything
# created here is removed on exit.

B=${B:?build directory}
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
WORK=$(mktemp -d /tmp/fzc-it.XXXXXX)
# The fzc user must be able to reach the control sockets below WORK.
chmod 755 "$WORK"
NETNS=()
PIDS=()

cleanup() {
	local pid ns
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	sleep 0.2
	for pid in "${PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
	done
	for ns in "${NETNS[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		ip netns del "$ns" 2>/dev/null
		rm -rf "/etc/netns/$ns"
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
	echo "    assertion failed: $*" >&2
	return 1
}

# new_netns VAR NAME: a private network namespace with loopback up, its
# name stored in VAR. Not used as $(...): the cleanup list must be ours.
new_netns() {
	local _nsname="fzct$FZC_RUN-$BASHPID-$2"
	ip netns add "$_nsname" || return 1
	NETNS+=("$_nsname")
	# ip netns exec mounts this over /etc/resolv.conf: a client's DNS
	# control (the default rewrites the file) stays in its namespace.
	mkdir -p "/etc/netns/$_nsname"
	cat /etc/resolv.conf >"/etc/netns/$_nsname/resolv.conf" 2>/dev/null ||
	    : >"/etc/netns/$_nsname/resolv.conf"
	ip -n "$_nsname" link set lo up
	printf -v "$1" %s "$_nsname"
}

# start_tunneld NS DIR [ARGS...]: fzc-tunneld in NS, socket in DIR/run.
# Sets TPID and TLOG.
start_tunneld() {
	local ns=$1 dir=$2
	shift 2
	mkdir -p "$dir"
	chmod 755 "$dir"
	# The data plane runs as fzc-tunneld: the token and the state are
	# its own, as the packages' tmpfiles.d makes them.
	chown fzc-tunneld: "$dir"
	[ ! -e "$dir/state" ] || chown -R fzc-tunneld: "$dir/state"
	[ ! -e "$dir/token" ] || chown fzc-tunneld: "$dir/token"
	TLOG=$dir/tunneld.log
	# ip netns exec replaces itself with the command: $! is tunneld.
	# Client-role state stays in DIR; no portal unless a test gives one.
	ip netns exec "$ns" "$B/fzc-tunneld" --controld "$B/fzc-controld" \
	    --control-socket "$dir/run/control.sock" --log-level debug \
	    --state-dir "$dir/state" --token-file "$dir/token" "$@" \
	    2>"$TLOG" &
	TPID=$!
	PIDS+=("$TPID")
}

# fzc_cli DIR ARGS...: the CLI against the instance in DIR.
fzc_cli() {
	local dir=$1
	shift
	"$B/fzc" --control-socket "$dir/run/control.sock" "$@"
}

# status_field DIR JQPATH: one field of `fzc --json status`.
status_field() {
	fzc_cli "$1" --json status | python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[k]
print(v)' "$2"
}

controld_pid() {
	status_field "$1" controld.pid
}

# controld_replaced DIR OLD: a controld other than pid OLD answers.
controld_replaced() {
	local p
	p=$(controld_pid "$1") && [ "$p" != "$2" ]
}

proc_field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | xargs
}

# ---------------------------------------------------------------------------
# The end-to-end topology (tests_e2e.sh, scripts/demo, bench/e2e.sh): a
# stub portal (TLS), coturn, gateways behind NAT routers with a resource
# network each, a client behind its own NAT router, all joined by an
# "internet" router namespace. Only 10.80-83.x and 10.20/10.30.x, inside the
# namespaces.
#
#  P portal 10.80.0.2 -- p0 .1 --+
#  R coturn 10.80.1.2 -- r0 .1 --+-- I (router; 10.80.K.1)
#   (E2E_RELAYS=2: a second coturn on 10.80.1.3, same link)
#  NC wan 10.80.2.2  --- c0 .1 --+     NC lan 10.81.0.1 -- C client 10.81.0.2
#  NG1 wan 10.80.3.2 --- g1 .1 --+     NG1 lan 10.82.0.1 -- G1 10.82.0.2
#  NG2 wan 10.80.4.2 --- g2 .1 --+     NG2 lan 10.83.0.1 -- G2 10.83.0.2
#  G1 res 10.20.0.1 -- RES1 10.20.0.2  (site A; HTTP on 80, 443 and 22,
#  G2 res 10.30.0.1 -- RES2 10.30.0.2   iperf3 on 5201; site B)
#
# Modes: flat  - the routers only route, I knows every LAN: host
#                candidates reach each other (direct path);
#        nat   - NC and NGk behave as home routers: one host behind each,
#                translated one to one to the WAN address with its ports
#                kept (endpoint-independent mapping), and from the WAN only
#                what answers the host's own traffic gets in (conntrack):
#                direct only by hole punching the srflx pair;
#        symmetric - NC and NGk masquerade fully-random (a mapping per
#                destination): the srflx pair cannot connect, the relay
#                takes over;
#        relay - symmetric, and I drops whatever goes between the client's
#                side and the gateways' sides: only the relay connects them.
# e2e_block_direct / e2e_unblock_direct add and remove I's drop rule in any
# mode.
#
# E2E_IPV6=1: dual stack. Every address 10.80.K.X above also has
# fd80:K::X, every 10.L.0.X also fdL::X (all /64), with the same routes
# and the same NAT behaviour in IPv6; coturn listens and relays on R's
# IPv6 address too, which the scenario lists as the relay's second
# address; site A has the CIDR resource fd20::/64 beside 10.20.0.0/24
# (E2E_RES1V6), served by its resource host on fd20::2.
#
# E2E_RELAYS (1 or 2, default 1): how many relays, each its own coturn on
# its own address of R (E2E_RELAY_IPS[K], id E2E_RELAY_IDS[K]), all with
# the same secret and all in the scenario; e2e_relay_bytes_of counts each
# one's traffic.

E2E_SITE1=5d1b0c9a-7e3f-4a21-8c6d-9e8f7a6b5c4d
E2E_SITE2=1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6
E2E_RES1=a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7a
E2E_RES2=9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a
E2E_GW1=77aa11bb-22cc-4d33-8e44-55ff66aa77bb
E2E_GW2=0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f
E2E_CLIENT_ID=d2b6f1a0-3c4e-4f5a-9b8c-7d6e5f4a3b2c
E2E_RELAY_ID=6b7d1f52-2c0e-4a8e-9d40-0c1b2d3e4f50
E2E_PORTAL_IP=10.80.0.2
E2E_RELAY_IP=10.80.1.2
E2E_RELAY_ID2=9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d
E2E_RELAY_IPS=(- "$E2E_RELAY_IP" 10.80.1.3)
E2E_RELAY_IDS=(- "$E2E_RELAY_ID" "$E2E_RELAY_ID2")
E2E_CLIENT_IP=10.81.0.2
# Resource host of gateway K: 10.${E2E_RESNET[K]}.0.2.
E2E_RESNET=(- 20 30)
E2E_FILE_MIB=32
E2E_RES1V6=3c5e7a9b-1d2f-4a6b-8c0d-e1f2a3b4c5d6

# link_pair IF NS1 ADDR1 NS2 ADDR2: a veth pair named IF on both ends.
link_pair() {
	ip link add "$1" netns "$2" type veth peer name "$1" netns "$4" ||
	    return 1
	ip -n "$2" addr add "$3" dev "$1" &&
	    ip -n "$4" addr add "$5" dev "$1" &&
	    ip -n "$2" link set "$1" up &&
	    ip -n "$4" link set "$1" up
}

e2e_v6() {
	[ "${E2E_IPV6:-0}" = 1 ]
}

# e2e_v6_of 10.A.B.C[/N]: the IPv6 twin of an address of the e2e world.
e2e_v6_of() {
	local a b c
	IFS=. read -r _ a b c <<<"${1%/*}"
	if [ "$a" = 80 ]; then
		echo "fd80:$b::$c"
	else
		echo "fd$a::$c"
	fi
}

# e2e_link IF NS1 ADDR1 NS2 ADDR2: link_pair, and with E2E_IPV6=1 the
# addresses' twins (without duplicate address detection: usable at once).
e2e_link() {
	link_pair "$@" || return 1
	e2e_v6 || return 0
	ip -n "$2" -6 addr add "$(e2e_v6_of "$3")/64" dev "$1" nodad &&
	    ip -n "$4" -6 addr add "$(e2e_v6_of "$5")/64" dev "$1" nodad
}

# e2e_default NS GW: NS's default route via GW, and via its twin.
e2e_default() {
	ip -n "$1" route add default via "$2" || return 1
	e2e_v6 || return 0
	ip -n "$1" -6 route add default via "$(e2e_v6_of "$2")"
}

# e2e_net MODE [GATEWAYS]: the namespaces, links, routes and NAT rules;
# GATEWAYS (1 or 2, default 1) gateway sites. Sets E2E_I, E2E_P, E2E_R,
# E2E_NC, E2E_C, E2E_NG[K], E2E_G[K], E2E_RESNS[K], E2E_MODE, E2E_NGW.
e2e_net() {
	local mode=$1 ngw=${2:-1} k wan lan
	case $mode in flat|nat|symmetric|relay) ;; *)
		fail "e2e_net: mode $mode is not flat, nat, symmetric or relay"
		return 1 ;;
	esac
	command -v nft >/dev/null ||
	    fail "nft missing: apt-get install nftables" || return 1
	E2E_MODE=$mode
	E2E_NGW=$ngw
	E2E_NG=(-) E2E_G=(-) E2E_RESNS=(-)
	new_netns E2E_I inet || return 1
	new_netns E2E_P portal || return 1
	new_netns E2E_R relay || return 1
	new_netns E2E_NC cnat || return 1
	new_netns E2E_C client || return 1
	ip netns exec "$E2E_I" sysctl -qw net.ipv4.ip_forward=1 \
	    net.ipv6.conf.all.forwarding=1
	e2e_link p0 "$E2E_I" 10.80.0.1/24 "$E2E_P" 10.80.0.2/24 || return 1
	e2e_link r0 "$E2E_I" 10.80.1.1/24 "$E2E_R" 10.80.1.2/24 || return 1
	e2e_default "$E2E_P" 10.80.0.1
	e2e_default "$E2E_R" 10.80.1.1
	e2e_relay_net || return 1
	e2e_site_router "$E2E_NC" c0 2 81 || return 1
	e2e_link eth0 "$E2E_NC" 10.81.0.1/24 "$E2E_C" 10.81.0.2/24 ||
	    return 1
	e2e_default "$E2E_C" 10.81.0.1
	for ((k = 1; k <= ngw; k++)); do
		new_netns "E2E_NG[$k]" "gnat$k" || return 1
		new_netns "E2E_G[$k]" "gw$k" || return 1
		new_netns "E2E_RESNS[$k]" "res$k" || return 1
		e2e_site_router "${E2E_NG[k]}" "g$k" $((2 + k)) $((81 + k)) ||
		    return 1
		e2e_link eth0 "${E2E_NG[k]}" "10.$((81 + k)).0.1/24" \
		    "${E2E_G[k]}" "10.$((81 + k)).0.2/24" || return 1
		e2e_default "${E2E_G[k]}" "10.$((81 + k)).0.1"
		ip netns exec "${E2E_G[k]}" sysctl -qw net.ipv4.ip_forward=1 \
		    net.ipv6.conf.all.forwarding=1
		e2e_link res0 "${E2E_G[k]}" "10.${E2E_RESNET[k]}.0.1/24" \
		    "${E2E_RESNS[k]}" "10.${E2E_RESNET[k]}.0.2/24" || return 1
		e2e_default "${E2E_RESNS[k]}" "10.${E2E_RESNET[k]}.0.1"
	done
	[ "$mode" = relay ] && { e2e_block_direct || return 1; }
	return 0
}

# e2e_site_router NS IF K LAN: router NS, its WAN on IF (10.80.K.2, I's end
# 10.80.K.1), its LAN 10.LAN.0.0/24 on eth0 (linked by the caller); NAT as
# the mode says.
e2e_site_router() {
	local ns=$1 ifname=$2 k=$3 lan=$4
	e2e_link "$ifname" "$E2E_I" "10.80.$k.1/24" "$ns" "10.80.$k.2/24" ||
	    return 1
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 \
	    net.ipv6.conf.all.forwarding=1
	e2e_default "$ns" "10.80.$k.1"
	if [ "$E2E_MODE" = flat ]; then
		ip -n "$E2E_I" route add "10.$lan.0.0/24" via "10.80.$k.2"
		! e2e_v6 || ip -n "$E2E_I" -6 route add "fd$lan::/64" \
		    via "fd80:$k::2"
		return
	fi
	if [ "$E2E_MODE" = nat ]; then
		# An unanswered packet from the WAN is translated, then dropped
		# before conntrack keeps it: it leaves no entry that would make
		# the host's own mapping take another port.
		ip netns exec "$ns" nft -f - <<NFT
table ip nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "$ifname" ip daddr 10.80.$k.2 dnat to 10.$lan.0.2
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "$ifname" ip saddr 10.$lan.0.2 snat to 10.80.$k.2
	}
}
table ip6 nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "$ifname" ip6 daddr fd80:$k::2 dnat to fd$lan::2
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "$ifname" ip6 saddr fd$lan::2 snat to fd80:$k::2
	}
}
table inet filter {
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "$ifname" ct state established,related accept
		iifname "$ifname" counter drop
	}
}
NFT
		return
	fi
	ip netns exec "$ns" nft -f - <<NFT
table inet nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "$ifname" masquerade fully-random
	}
}
NFT
}

# e2e_block_direct: I drops everything between the client's side (c0) and
# the gateways' sides (g*); the portal and the relay stay reachable.
e2e_block_direct() {
	ip netns exec "$E2E_I" nft -f - <<'NFT'
table inet e2eblock {
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "c0" oifname "g*" counter drop
		iifname "g*" oifname "c0" counter drop
	}
}
NFT
}

e2e_unblock_direct() {
	ip netns exec "$E2E_I" nft delete table inet e2eblock
}

# e2e_blocked_packets: packets I dropped between the sides so far.
e2e_blocked_packets() {
	ip netns exec "$E2E_I" nft list table inet e2eblock 2>/dev/null |
	    awk '/counter packets/ { for (i = 1; i <= NF; i++)
	        if ($i == "packets") n += $(i + 1) } END { print n + 0 }'
}

# e2e_relay_bytes: bytes through the relay's link so far, both ways.
e2e_relay_bytes() {
	ip -n "$E2E_R" -s -j link show r0 | python3 -c '
import json, sys
s = json.load(sys.stdin)[0]["stats64"]
print(s["rx"]["bytes"] + s["tx"]["bytes"])'
}

# e2e_nrelays: E2E_RELAYS, checked (1 or 2).
e2e_nrelays() {
	case ${E2E_RELAYS:-1} in
	1|2) echo "${E2E_RELAYS:-1}" ;;
	*) fail "E2E_RELAYS=$E2E_RELAYS is not 1 or 2"; return 1 ;;
	esac
}

# e2e_relay_net: R's further addresses (E2E_RELAYS), and a byte counter
# per relay address in R (packets to it in, from it out, loopback between
# two relays included).
e2e_relay_net() {
	local n k rules=
	n=$(e2e_nrelays) || return 1
	for ((k = 2; k <= n; k++)); do
		ip -n "$E2E_R" addr add "${E2E_RELAY_IPS[k]}/24" dev r0 ||
		    return 1
		! e2e_v6 || ip -n "$E2E_R" -6 addr add \
		    "$(e2e_v6_of "${E2E_RELAY_IPS[k]}")/64" dev r0 nodad ||
		    return 1
	done
	for ((k = 1; k <= n; k++)); do
		rules+="counter relay$k { }
		chain in$k { type filter hook input priority filter;
		    ip daddr ${E2E_RELAY_IPS[k]} counter name relay$k; }
		chain out$k { type filter hook output priority filter;
		    ip saddr ${E2E_RELAY_IPS[k]} counter name relay$k; }
		"
	done
	ip netns exec "$E2E_R" nft -f - <<NFT
table ip e2erelays {
	$rules
}
NFT
}

# e2e_relay_bytes_of K: bytes to and from relay K's address so far.
e2e_relay_bytes_of() {
	ip netns exec "$E2E_R" nft list counter ip e2erelays "relay$1" |
	    awk '/packets/ { for (i = 1; i <= NF; i++)
	        if ($i == "bytes") print $(i + 1) }'
}

# e2e_pki: a throwaway CA and the portal's certificate for 10.80.0.2.
# Sets E2E_CA.
e2e_pki() {
	local d=$WORK/pki
	mkdir -p "$d"
	E2E_CA=$d/ca.crt
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/ca.key" -out "$d/ca.crt" -days 1 \
	    -subj "/CN=fzc e2e CA" 2>/dev/null &&
	    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/portal.key" -out "$d/portal.csr" \
	    -subj "/CN=$E2E_PORTAL_IP" 2>/dev/null &&
	    printf 'subjectAltName=IP:%s\n' "$E2E_PORTAL_IP" >"$d/san" &&
	    openssl x509 -req -in "$d/portal.csr" -CA "$d/ca.crt" \
	    -CAkey "$d/ca.key" -CAcreateserial -days 1 -extfile "$d/san" \
	    -out "$d/portal.crt" 2>/dev/null ||
	    fail "e2e_pki: openssl failed" || return 1
	chmod 644 "$d/ca.crt"
}

# e2e_coturn: coturn in R on 10.80.1.2:3478, realm firezone, TURN REST
# credentials (use-auth-secret) with E2E_RELAY_SECRET, relayed ports
# 49152-49999; with E2E_RELAYS=2 a second one on 10.80.1.3, same secret.
# Sets E2E_COTURN_LOG and E2E_COTURN_PID (the first), E2E_COTURN_LOGS[K]
# and E2E_COTURN_PIDS[K].
e2e_coturn() {
	local n k
	command -v turnserver >/dev/null ||
	    fail "turnserver missing: apt-get install coturn" || return 1
	n=$(e2e_nrelays) || return 1
	E2E_RELAY_SECRET=${E2E_RELAY_SECRET:-e2e-$(head -c 12 /dev/urandom |
	    od -An -tx1 | tr -d ' \n')}
	E2E_COTURN_PIDS=(-) E2E_COTURN_LOGS=(-)
	for ((k = 1; k <= n; k++)); do
		e2e_coturn_one "$k" || return 1
	done
	E2E_COTURN_LOG=${E2E_COTURN_LOGS[1]}
	E2E_COTURN_PID=${E2E_COTURN_PIDS[1]}
}

# e2e_coturn_one K: relay K's coturn (files turnserver.* for the first,
# turnserver2.* for the second).
e2e_coturn_one() {
	local k=$1 ip=${E2E_RELAY_IPS[$1]} f=$WORK/turnserver ip6=
	[ "$k" = 1 ] || f+=$k
	E2E_COTURN_LOGS[k]=$f.log
	! e2e_v6 || ip6=$(e2e_v6_of "$ip")
	cat >"$f.conf" <<CONF
listening-ip=$ip
relay-ip=$ip
${ip6:+listening-ip=$ip6
relay-ip=$ip6}
listening-port=3478
min-port=49152
max-port=49999
realm=firezone
use-auth-secret
static-auth-secret=$E2E_RELAY_SECRET
no-tls
no-dtls
no-tcp
no-cli
simple-log
log-file=$f.log
pidfile=$f.pid
userdb=${f/turnserver/turndb}
CONF
	ip netns exec "$E2E_R" turnserver -c "$f.conf" >"$f.out" 2>&1 &
	E2E_COTURN_PIDS[k]=$!
	PIDS+=("$!")
	e2e_coturn_listening() {
		ip netns exec "$E2E_R" ss -Hlun | grep -qF "$ip:3478 "
	}
	wait_until 5 e2e_coturn_listening ||
	    fail "coturn $k did not start: $(cat "$f.out")" || return 1
}

# e2e_check_relay NS: fzc netcheck from NS against coturn with credentials
# made as the stub makes them; prints its report, fails if no allocation.
e2e_check_relay() {
	local user pass
	user="$(($(date +%s) + 3600)):e2echeck"
	pass=$(printf %s "$user" |
	    openssl dgst -sha1 -hmac "$E2E_RELAY_SECRET" -binary | base64)
	(umask 077 && printf '%s\n' "$pass" >"$WORK/netcheck.pw")
	ip netns exec "$1" "$B/fzc" netcheck --relay "$E2E_RELAY_IP:3478" \
	    --username "$user" --password-file "$WORK/netcheck.pw"
}

# e2e_resources K: the resource host of gateway K: a random file of
# E2E_FILE_MIB MiB (sha256 in E2E_FILE_SHA) served by HTTP on ports 80 and
# 443, a third HTTP server on 22 (so a refused tcp/22 is the gateway's
# doing), and an iperf3 server.
e2e_resources() {
	local k=$1 ns=${E2E_RESNS[$1]} ip=10.${E2E_RESNET[$1]}.0.2 port
	local www=$WORK/www$k ips
	ips=$ip
	! e2e_v6 || ips+=,$(e2e_v6_of "$ip")
	mkdir -p "$www"
	head -c $((E2E_FILE_MIB << 20)) /dev/urandom >"$www/file.bin"
	echo "hello from site $k ($ip)" >"$www/index.html"
	E2E_FILE_SHA=$(sha256sum "$www/file.bin" | cut -d' ' -f1)
	echo "$E2E_FILE_SHA" >"$www/file.sha256"
	# Not python3 -m http.server: its server_bind() looks the address up
	# in DNS (socket.getfqdn), which hangs in a namespace without one.
	ip netns exec "$ns" /usr/bin/python3 -c '
import functools, http.server, socket, socketserver, sys, threading
class Server(http.server.ThreadingHTTPServer):
    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]
class Server6(Server):
    address_family = socket.AF_INET6
handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                            directory=sys.argv[2])
servers = [(Server6 if ":" in a else Server)((a, int(p)), handler)
           for a in sys.argv[1].split(",") for p in sys.argv[3:]]
for s in servers[1:]:
    threading.Thread(target=s.serve_forever, daemon=True).start()
servers[0].serve_forever()' "$ips" "$www" 80 443 22 >"$WORK/http$k.log" 2>&1 &
	PIDS+=($!)
	ip netns exec "$ns" iperf3 -s -B "$ip" >"$WORK/iperf3-$k.log" 2>&1 &
	PIDS+=($!)
	e2e_res_listening() {
		local s
		s=$(ip netns exec "$ns" ss -Hltn) || return 1
		for port in 80 443 22 5201; do
			grep -qF "$ip:$port " <<<"$s" || return 1
		done
		! e2e_v6 || grep -qF "[$(e2e_v6_of "$ip")]:80 " <<<"$s"
	}
	wait_until 5 e2e_res_listening ||
	    fail "resource servers of site $k not listening" || return 1
}

# e2e_scenario [RESOURCES-JSON]: the stub's scenario: sites A and B, the
# resources (default: 10.20.0.0/24 on A and 10.30.0.0/24 on B, no
# filters), the relays with coturn-form credentials, and the gateways, live
# only (offline until they connect), bound by their tokens.
e2e_scenario() {
	local res=${1:-} k gws= relays= n
	[ -n "$res" ] || res='[
	  {"id": "'$E2E_RES1'", "type": "cidr", "address": "10.20.0.0/24",
	   "name": "Site A LAN", "filters": [],
	   "sites": [{"id": "'$E2E_SITE1'", "name": "Site A"}]},
	  {"id": "'$E2E_RES2'", "type": "cidr", "address": "10.30.0.0/24",
	   "name": "Site B LAN", "filters": [],
	   "sites": [{"id": "'$E2E_SITE2'", "name": "Site B"}]}'"$(! e2e_v6 ||
	    echo ',
	  {"id": "'$E2E_RES1V6'", "type": "cidr", "address": "fd20::/64",
	   "name": "Site A LAN (IPv6)", "filters": [],
	   "sites": [{"id": "'$E2E_SITE1'", "name": "Site A"}]}')"']'
	E2E_GWIDS=(- "$E2E_GW1" "$E2E_GW2")
	E2E_GWSITES=(- "$E2E_SITE1" "$E2E_SITE2")
	# Tunnel addresses inside the device ranges (PROTOCOL 4.5), which the
	# client routes into the tunnel for the gateways' port 53535.
	for k in 1 2; do
		gws+="${gws:+,}"'
	  {"id": "'${E2E_GWIDS[k]}'", "site_id": "'${E2E_GWSITES[k]}'",
	   "token": "e2e-gateway-'$k'-token",
	   "ipv4": "100.82.0.'$k'", "ipv6": "fd00:2021:1111::1:82'$k'",
	   "simulated": false}'
	done
	n=$(e2e_nrelays) || return 1
	for ((k = 1; k <= n; k++)); do
		relays+="${relays:+,}"'
	    {"id": "'${E2E_RELAY_IDS[k]}'",
	     "addrs": ["'${E2E_RELAY_IPS[k]}':3478"'"$(! e2e_v6 ||
	        echo ', "['"$(e2e_v6_of "${E2E_RELAY_IPS[k]}")"']:3478"')"'],
	     "stamp_secret": "'$E2E_RELAY_SECRET'",
	     "password_form": "coturn"}'
	done
	cat >"$WORK/scenario.json" <<JSON
{
  "client": {"id": "$E2E_CLIENT_ID"},
  "sites": [{"id": "$E2E_SITE1", "name": "Site A"},
            {"id": "$E2E_SITE2", "name": "Site B"}],
  "resources": $res,
  "relays": [$relays],
  "gateways": [$gws],
  "close_on_violation": ${E2E_STRICT:-true}
}
JSON
}

# e2e_portal [PORT]: the stub portal in P over TLS (port 0: any), control
# socket $WORK/portal.ctl, its database in $WORK/portal.state (so that it
# can be restarted on the same port). Sets E2E_PORT, E2E_PORTAL_PID,
# E2E_API.
e2e_portal() {
	local port=${1:-0}
	: >"$WORK/portal.out"
	ip netns exec "$E2E_P" /usr/bin/python3 \
	    "$SRCDIR/tests/portal/stub_portal.py" \
	    --listen "$E2E_PORTAL_IP:$port" --cert "$WORK/pki/portal.crt" \
	    --key "$WORK/pki/portal.key" --token e2e-client-token \
	    --scenario "$WORK/scenario.json" --control "$WORK/portal.ctl" \
	    --state-file "$WORK/portal.state" \
	    >"$WORK/portal.out" 2>>"$WORK/portal.log" &
	E2E_PORTAL_PID=$!
	PIDS+=("$E2E_PORTAL_PID")
	wait_until 10 grep -q '^PORT ' "$WORK/portal.out" ||
	    fail "stub portal: $(tail -5 "$WORK/portal.log")" || return 1
	E2E_PORT=$(awk '/^PORT /{print $2}' "$WORK/portal.out")
	E2E_API=wss://$E2E_PORTAL_IP:$E2E_PORT
}

# e2e_stub CMD...: control commands to the stub, one JSON line each.
e2e_stub() {
	local a args=()
	for a in "$@"; do
		a=${a//$'\n'/ }
		args+=("${a//$'\t'/ }")
	done
	/usr/bin/python3 "$SRCDIR/tests/portal/stub_portal.py" ctl \
	    "$WORK/portal.ctl" "${args[@]}"
}

# e2e_gateway K [ARGS...]: fzc-tunneld --role gateway in G_K, its state in
# $WORK/gwK (device id fixed, so restarts keep the gateway's identity),
# token e2e-gateway-K-token. Sets E2E_GPID[K] and E2E_GLOG[K].
e2e_gateway() {
	local k=$1 dir=$WORK/gw$1
	shift
	mkdir -p "$dir/state"
	chmod 755 "$dir"
	[ -f "$dir/state/device-id" ] ||
	    printf '0e2e0000-0000-4000-8000-00000000000%d\n' "$k" \
	    >"$dir/state/device-id"
	(umask 077 && echo "e2e-gateway-$k-token" >"$dir/token")
	start_tunneld "${E2E_G[k]}" "$dir" --role gateway --api-url "$E2E_API" \
	    --ca-file "$E2E_CA" --name "e2e-gateway-$k" --interface fzcg0 "$@"
	E2E_GPID[k]=$TPID
	E2E_GLOG[k]=$TLOG
}

# e2e_gateway_online K [SECONDS]: the stub has gateway K joined.
e2e_gateway_online() {
	e2e_stub '{"cmd":"wait","what":"gateway","value":"'"${E2E_GWIDS[$1]}"'",
	    "timeout":'"${2:-0}"'}' >/dev/null
}

# e2e_client [ARGS...]: fzc-tunneld (client role) in C, state in $WORK/cl,
# interface fzc0. Sets E2E_CPID, E2E_CLOG, E2E_CDIR.
e2e_client() {
	E2E_CDIR=$WORK/cl
	mkdir -p "$E2E_CDIR"
	chmod 755 "$E2E_CDIR"
	(umask 077 && echo e2e-client-token >"$E2E_CDIR/token")
	start_tunneld "$E2E_C" "$E2E_CDIR" --api-url "$E2E_API" \
	    --ca-file "$E2E_CA" --name e2e-client --interface fzc0 "$@"
	E2E_CPID=$TPID
	E2E_CLOG=$TLOG
}

e2e_client_connected() {
	fzc_cli "$E2E_CDIR" --json status |
	    grep -q '"portal":{"state":"connected"'
}

# e2e_route PREFIX: PREFIX routed into the client's tunnel device.
e2e_route() {
	local f=-4
	[[ $1 != *:* ]] || f=-6
	ip -n "$E2E_C" "$f" route show table all "$1" | grep -q 'dev fzc0'
}

# e2e_topology MODE [GATEWAYS] [RESOURCES-JSON]: everything: namespaces,
# coturn, resource servers, the stub portal, GATEWAYS gateways (default 1)
# connected, and the client connected with the resource routes in place.
# E2E_TUNNELD_ARGS (an array, e.g. (--threads 1)) goes to every tunneld.
e2e_topology() {
	local mode=$1 ngw=${2:-1} res=${3:-} k
	e2e_net "$mode" "$ngw" || return 1
	e2e_pki || return 1
	e2e_coturn || return 1
	for ((k = 1; k <= ngw; k++)); do
		e2e_resources "$k" || return 1
	done
	e2e_scenario "$res" || return 1
	e2e_portal || return 1
	for ((k = 1; k <= ngw; k++)); do
		e2e_gateway "$k" ${E2E_TUNNELD_ARGS[@]+"${E2E_TUNNELD_ARGS[@]}"} ||
		    return 1
	done
	for ((k = 1; k <= ngw; k++)); do
		e2e_gateway_online "$k" 15 ||
		    fail "gateway $k not joined at the portal in 15 s:" \
		    "$(tail -15 "${E2E_GLOG[k]}")" || return 1
	done
	e2e_client ${E2E_TUNNELD_ARGS[@]+"${E2E_TUNNELD_ARGS[@]}"} ||
	    return 1
	wait_until 15 e2e_client_connected ||
	    fail "client not connected: $(tail -15 "$E2E_CLOG")" || return 1
	wait_until 5 e2e_route 10.20.0.0/24 ||
	    fail "no route to 10.20.0.0/24:" \
	    "$(ip -n "$E2E_C" route show table all)" || return 1
}

# e2e_fetch URL [OUT]: HTTP GET from the client's namespace; the body's
# sha256 (or the error) on stdout; OUT keeps "seconds bytes".
e2e_fetch() {
	ip netns exec "$E2E_C" /usr/bin/python3 - "$@" <<'PY'
import hashlib, sys, time, urllib.request
t = time.monotonic()
h = hashlib.sha256()
n = 0
try:
    with urllib.request.urlopen(sys.argv[1], timeout=30) as r:
        while True:
            b = r.read(1 << 16)
            if not b:
                break
            h.update(b)
            n += len(b)
except Exception as e:
    print("error: %s" % e)
    sys.exit(1)
if len(sys.argv) > 2:
    with open(sys.argv[2], "w") as f:
        f.write("%.3f %d\n" % (time.monotonic() - t, n))
print(h.hexdigest())
PY
}

# e2e_peer_path [DIR]: "direct ENDPOINT" or "relayed ENDPOINT" for the
# client's (or the instance in DIR's) first peer with an endpoint (relayed
# when the endpoint is on a relay's address or the peer says so), "none"
# without one.
e2e_peer_path() {
	fzc_cli "${1:-$E2E_CDIR}" --json peers 2>/dev/null | python3 -c '
import json, sys
try:
    peers = json.load(sys.stdin).get("peers", [])
except ValueError:
    peers = []
for p in peers:
    ep = p.get("endpoint")
    if not ep:
        continue
    host = ep.rsplit(":", 1)[0].strip("[]")
    relayed = p.get("relayed") is True or p.get("path") == "relayed" or \
        host in sys.argv[1:]
    print("%s %s" % ("relayed" if relayed else "direct", ep))
    break
else:
    print("none")' "${E2E_RELAY_IPS[@]:1:${E2E_RELAYS:-1}}"
}

. "$(dirname "${BASH_SOURCE[0]}")/lib_portal.sh"
