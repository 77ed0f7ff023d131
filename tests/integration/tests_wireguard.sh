# tests_wireguard.sh: plain WireGuard mode against wireguard-go (and fzc
# against fzc). Sourced by run.sh; each t_* runs in its own subshell.
#
# Topology: namespace A (fzc) and B (wireguard-go or a second fzc) joined
# by a veth pair, 10.88.0.1/24 and fd88::1/64 on A; inner addresses
# 10.99.0.1 / fd99::1 (A) and 10.99.0.2 / fd99::2 (B), MTU 1280.
#
# FZC_WIREGUARD_GO=PATH runs every test against that wireguard-go binary
# (a newer build) instead of the one on the PATH. fzc's TUN offloads are
# on unless a test sets FZC_OFFLOAD=0 (which fzc-tunneld reads).

# wg_setup: namespaces, veth and keys; sets NA, NB.
wg_setup() {
	new_netns NA a || return 1
	new_netns NB b || return 1
	ip link add "va$$" netns "$NA" type veth peer name "vb$$" netns "$NB"
	ip -n "$NA" addr add 10.88.0.1/24 dev "va$$"
	ip -n "$NB" addr add 10.88.0.2/24 dev "vb$$"
	ip -n "$NA" addr add fd88::1/64 dev "va$$" nodad
	ip -n "$NB" addr add fd88::2/64 dev "vb$$" nodad
	ip -n "$NA" link set "va$$" up
	ip -n "$NB" link set "vb$$" up
	local k
	(
		umask 077
		for k in a b; do
			wg genkey >"$WORK/$k.key"
			wg pubkey <"$WORK/$k.key" >"$WORK/$k.pub"
		done
		wg genpsk >"$WORK/psk"
		wg genpsk >"$WORK/wrongpsk"
	)
}

# wg_conf SIDE PSKFILE: a wg-quick file for side a or b.
wg_conf() {
	local me=$1 psk=$2 peer n p
	if [ "$me" = a ]; then
		peer=b n=1 p=2
	else
		peer=a n=2 p=1
	fi
	cat <<CONF
# fzc integration test, side $me
[Interface]
PrivateKey = $(cat "$WORK/$me.key")
Address = 10.99.0.$n/24, fd99::$n/64
ListenPort = 5182$n
MTU = 1280

[Peer]
PublicKey = $(cat "$WORK/$peer.pub")
PresharedKey = $(cat "$psk")
Endpoint = 10.88.0.$p:5182$p
AllowedIPs = 10.99.0.$p/32, fd99::$p/128
CONF
}

# fzc_up SIDE NS THREADS [PSKFILE]: fzc-tunneld for that side; sets TPID.
fzc_up() {
	local side=$1 ns=$2 threads=$3 psk=${4:-$WORK/psk}
	wg_conf "$side" "$psk" >"$WORK/$side.conf"
	chmod 600 "$WORK/$side.conf"
	start_tunneld "$ns" "$WORK/$side" --wireguard "$WORK/$side.conf" \
	    --interface "fz$side$$" --threads "$threads"
	wait_until 10 grep -q 'is up' "$TLOG" ||
	    fail "fzc on $side did not come up: $(cat "$TLOG")" || return 1
}

# wggo_up: wireguard-go on side b; its interface name is unique per run
# because its control socket lives in /var/run/wireguard for all netns.
wggo_up() {
	local psk=${1:-$WORK/psk}
	WGIF=wgb$$
	ip netns exec "$NB" env WG_PROCESS_FOREGROUND=1 \
	    "${FZC_WIREGUARD_GO:-wireguard-go}" "$WGIF" \
	    >>"$WORK/wggo.log" 2>&1 &
	WGPID=$!
	PIDS+=("$WGPID")
	wait_until 5 ip -n "$NB" link show "$WGIF" || fail "wireguard-go" ||
	    return 1
	ip netns exec "$NB" wg set "$WGIF" private-key "$WORK/b.key" \
	    listen-port 51822 peer "$(cat "$WORK/a.pub")" \
	    preshared-key "$psk" endpoint 10.88.0.1:51821 \
	    allowed-ips 10.99.0.1/32,fd99::1/128 || return 1
	ip -n "$NB" addr add 10.99.0.2/24 dev "$WGIF"
	ip -n "$NB" addr add fd99::2/64 dev "$WGIF" nodad
	ip -n "$NB" link set "$WGIF" mtu 1280 up
}

wggo_down() {
	kill "$WGPID" 2>/dev/null
	wait "$WGPID" 2>/dev/null
	rm -f "/var/run/wireguard/$WGIF.sock"
}

pings() {
	ip netns exec "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1
}

tcp_listening() {
	[ -n "$(ip netns exec "$1" ss -Hltn "sport = :5001")" ]
}

# transfer FROM_NS TO_NS DST_ADDR: 64 MiB over TCP, sha256 compared.
transfer() {
	local from=$1 to=$2 dst=$3 sent got
	head -c $((64 << 20)) /dev/urandom >"$WORK/payload"
	sent=$(sha256sum <"$WORK/payload")
	rm -f "$WORK/received"
	ip netns exec "$to" timeout 60 nc -l -N "$dst" 5001 \
	    >"$WORK/received" &
	local lpid=$!
	wait_until 5 tcp_listening "$to" ||
	    fail "receiver not listening after 5 s" || return 1
	ip netns exec "$from" timeout 60 nc -N "$dst" 5001 \
	    <"$WORK/payload" || fail "sender failed" || return 1
	wait "$lpid"
	got=$(sha256sum <"$WORK/received")
	[ "$sent" = "$got" ] ||
	    fail "64 MiB $from -> $to: sha256 differs ($(stat -c %s \
	    "$WORK/received") bytes arrived)" || return 1
	echo "64 MiB $from -> $dst: sha256 ok"
}

peer_field() {
	fzc_cli "$1" --json peers | python3 -c '
import json, sys
print(json.load(sys.stdin)["peers"][0].get(sys.argv[1], ""))' "$2"
}

worker_drops() {
	fzc_cli "$1" --json status | python3 -c '
import json, sys
w = json.load(sys.stdin)["workers"]
print(sum(x["drops"][sys.argv[1]] for x in w))' "$2"
}

t_wg_ping_wireguard_go() {
	wg_setup || return 1
	wggo_up || return 1
	fzc_up a "$NA" 2 || return 1
	wait_until 10 pings "$NA" 10.99.0.2 || fail "A -> B v4" || return 1
	pings "$NA" fd99::2 || fail "A -> B v6" || return 1
	pings "$NB" 10.99.0.1 || fail "B -> A v4" || return 1
	pings "$NB" fd99::1 || fail "B -> A v6" || return 1
	[ -n "$(peer_field "$WORK/a" latest_handshake)" ] &&
	    [ "$(peer_field "$WORK/a" latest_handshake)" != 0 ] ||
	    fail "no handshake in fzc peers" || return 1
	[ "$(peer_field "$WORK/a" endpoint)" = 10.88.0.2:51822 ] ||
	    fail "endpoint $(peer_field "$WORK/a" endpoint)" || return 1
	fzc_cli "$WORK/a" peers
	# Routes and addresses go with the daemon.
	kill -TERM "$TPID"
	wait "$TPID" || fail "tunneld exit status $?: $(cat "$TLOG")" || return 1
	! ip -n "$NA" link show "fza$$" 2>/dev/null ||
	    fail "interface left behind" || return 1
	! ip -n "$NA" route | grep -q 10.99.0 ||
	    fail "routes left behind" || return 1
}

wg_transfer_threads() {
	wg_setup || return 1
	wggo_up || return 1
	fzc_up a "$NA" "$1" || return 1
	wait_until 10 pings "$NA" 10.99.0.2 || fail "no tunnel" || return 1
	transfer "$NA" "$NB" 10.99.0.2 || return 1
	transfer "$NB" "$NA" 10.99.0.1 || return 1
	fzc_cli "$WORK/a" --json status
}

# Both ways and both families, with fzc's TUN offloads on and off: TCP
# super-packets cut into segments and coalesced again against a peer that
# sends and takes plain packets.
wg_transfer_offload() {
	wg_setup || return 1
	wggo_up || return 1
	FZC_OFFLOAD=$1 fzc_up a "$NA" 2 || return 1
	wait_until 10 pings "$NA" 10.99.0.2 || fail "no tunnel" || return 1
	if [ "$1" = 0 ]; then
		grep -q 'TUN offload off' "$TLOG" ||
		    fail "FZC_OFFLOAD=0 but offloads on: $(grep workers "$TLOG")" ||
		    return 1
	else
		grep -q 'TUN offload TSO' "$TLOG" ||
		    fail "no TUN offload: $(grep workers "$TLOG")" || return 1
	fi
	transfer "$NA" "$NB" 10.99.0.2 || return 1
	transfer "$NB" "$NA" 10.99.0.1 || return 1
	transfer "$NA" "$NB" fd99::2 || return 1
	transfer "$NB" "$NA" fd99::1 || return 1
	[ "$(worker_drops "$WORK/a" bad_packet)" = 0 ] &&
	    [ "$(worker_drops "$WORK/a" tun_write)" = 0 ] ||
	    fail "drops: $(fzc_cli "$WORK/a" --json status)" || return 1
}

udp_bound() {
	[ -n "$(ip netns exec "$1" ss -Huln "sport = :5002")" ]
}

# udp_gso FROM_NS TO_NS DST: 100 UDP_SEGMENT sends of 16 datagrams of
# 1,000 bytes each (a UDP super-packet for the TUN device when the kernel
# has USO); every datagram that arrives must be whole and as sent, and
# nearly all must arrive (UDP, paced: a veth loses none unless starved).
udp_gso() {
	local from=$1 to=$2 dst=$3 got
	ip netns exec "$to" timeout 30 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET,
    socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind((sys.argv[1], 5002))
s.settimeout(5)
n = bad = 0
try:
    while n < 1600:
        d = s.recv(4096)
        i = int.from_bytes(d[:4], "big")
        if len(d) != 1000 or d[4:] != bytes((i + k) % 251 for k in range(996)):
            bad += 1
        n += 1
except socket.timeout:
    pass
print(n, bad)' "$dst" >"$WORK/udp.txt" &
	local rpid=$!
	wait_until 5 udp_bound "$to" ||
	    fail "UDP receiver not bound after 5 s" || return 1
	ip netns exec "$from" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET,
    socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_UDP, 103, 1000)  # UDP_SEGMENT
for b in range(100):
    s.sendto(b"".join(i.to_bytes(4, "big") +
        bytes((i + k) % 251 for k in range(996))
        for i in range(b * 16, b * 16 + 16)), (sys.argv[1], 5002))
    time.sleep(0.01)' "$dst" || fail "UDP GSO sender failed" || return 1
	wait "$rpid"
	got=$(cat "$WORK/udp.txt")
	echo "UDP GSO $from -> $dst: received, damaged: $got"
	[ "${got#* }" = 0 ] && [ "${got% *}" -ge 1520 ] ||
	    fail "UDP GSO $from -> $dst: $got of 1600 received, damaged" ||
	    return 1
}

# UDP super-packets (USO) cut by fzc for wireguard-go, and back.
t_wg_udp_gso() {
	wg_setup || return 1
	wggo_up || return 1
	fzc_up a "$NA" 2 || return 1
	wait_until 10 pings "$NA" 10.99.0.2 || fail "no tunnel" || return 1
	udp_gso "$NA" "$NB" 10.99.0.2 || return 1
	udp_gso "$NA" "$NB" fd99::2 || return 1
	udp_gso "$NB" "$NA" 10.99.0.1 || return 1
	[ "$(worker_drops "$WORK/a" bad_packet)" = 0 ] ||
	    fail "drops: $(fzc_cli "$WORK/a" --json status)" || return 1
}

t_wg_transfer_offload_on() { wg_transfer_offload 1; }
t_wg_transfer_offload_off() { wg_transfer_offload 0; }

t_wg_transfer_threads_1() { wg_transfer_threads 1; }
t_wg_transfer_threads_2() { wg_transfer_threads 2; }
t_wg_transfer_threads_4() { wg_transfer_threads 4; }

t_wg_fzc_to_fzc() {
	wg_setup || return 1
	fzc_up a "$NA" 2 || return 1
	fzc_up b "$NB" 2 || return 1
	wait_until 10 pings "$NA" 10.99.0.2 || fail "A -> B" || return 1
	pings "$NB" fd99::1 || fail "B -> A v6" || return 1
	transfer "$NA" "$NB" 10.99.0.2 || return 1
	transfer "$NB" "$NA" fd99::1 || return 1
}

# wireguard-go restarts with the same keys and has forgotten the session:
# traffic resumes within 20 s, whichever side sends first.
wg_restart() {
	local first=$1 start
	wg_setup || return 1
	wggo_up || return 1
	fzc_up a "$NA" 2 || return 1
	wait_until 10 pings "$NA" 10.99.0.2 || fail "no tunnel" || return 1
	wggo_down
	wggo_up || return 1
	start=$SECONDS
	if [ "$first" = fzc ]; then
		wait_until 20 pings "$NA" 10.99.0.2 ||
		    fail "fzc first: no traffic after 20 s" || return 1
	else
		wait_until 20 pings "$NB" 10.99.0.1 ||
		    fail "wireguard-go first: no traffic after 20 s" ||
		    return 1
	fi
	echo "resumed after $((SECONDS - start)) s"
}

t_wg_peer_restart_fzc_sends_first() { wg_restart fzc; }
t_wg_peer_restart_peer_sends_first() { wg_restart wggo; }

t_wg_wrong_psk() {
	wg_setup || return 1
	wggo_up "$WORK/wrongpsk" || return 1
	fzc_up a "$NA" 2 || return 1
	! wait_until 12 pings "$NA" 10.99.0.2 ||
	    fail "traffic flowed with a wrong PSK" || return 1
	[ "$(peer_field "$WORK/a" latest_handshake)" = 0 ] ||
	    fail "a handshake completed" || return 1
	grep -q 'handshake response rejected.*wrong preshared key' "$TLOG" ||
	    fail "not reported: $(cat "$TLOG")" || return 1
	[ "$(grep -c 'handshake response rejected' "$TLOG")" = 1 ] ||
	    fail "reported more than once per attempt" || return 1
}

# Garbage at the UDP port: nothing crashes, the session stays as it was.
t_wg_random_datagrams() {
	local hs
	wg_setup || return 1
	wggo_up || return 1
	fzc_up a "$NA" 2 || return 1
	wait_until 10 pings "$NA" 10.99.0.2 || fail "no tunnel" || return 1
	hs=$(peer_field "$WORK/a" latest_handshake)
	ip netns exec "$NB" python3 - <<'PY' || return 1
import os, random, socket
random.seed(7)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(10000):
    kind = i % 5
    if kind == 0:
        n = random.randint(0, 1500)
        b = os.urandom(n)
    else:
        # Well-formed type and length, random content: reaches deeper.
        t, n = [(1, 148), (2, 92), (3, 64), (4, random.randint(32, 1400))][kind - 1]
        b = bytes([t, 0, 0, 0]) + os.urandom(n - 4)
    s.sendto(b, ("10.88.0.1", 51821))
PY
	sleep 1
	kill -0 "$TPID" || fail "tunneld died" || return 1
	fzc_cli "$WORK/a" status || fail "controld not answering" || return 1
	pings "$NA" 10.99.0.2 || fail "tunnel broken" || return 1
	[ "$(peer_field "$WORK/a" latest_handshake)" = "$hs" ] ||
	    fail "handshake state changed" || return 1
	[ "$(peer_field "$WORK/a" endpoint)" = 10.88.0.2:51822 ] ||
	    fail "endpoint moved" || return 1
	[ "$(worker_drops "$WORK/a" bad_packet)" -gt 0 ] &&
	    [ "$(worker_drops "$WORK/a" unknown_index)" -gt 0 ] ||
	    fail "drops not counted" || return 1
	fzc_cli "$WORK/a" --json status
}

t_wg_config_errors() {
	local ns out
	new_netns ns conf || return 1
	mkdir -p "$WORK/c"
	printf '[Interface]\nPrivateKey = nope\n' >"$WORK/bad.conf"
	ip netns exec "$ns" "$B/fzc-tunneld" --controld "$B/fzc-controld" \
	    --control-socket "$WORK/c/run/c.sock" --wireguard "$WORK/bad.conf" \
	    2>"$WORK/err" && fail "bad file accepted" && return 1
	grep -q "$WORK/bad.conf:2: PrivateKey" "$WORK/err" ||
	    fail "no FILE:LINE: $(cat "$WORK/err")" || return 1
	! grep -q nope "$WORK/err" || fail "value echoed" || return 1
	out=$(ip netns exec "$ns" "$B/fzc-tunneld" --controld \
	    "$B/fzc-controld" --control-socket "$WORK/c/run/c.sock" \
	    --wireguard "$WORK/missing.conf" 2>&1) && fail "ran" && return 1
	echo "$out" | grep -q "opening $WORK/missing.conf: No such file" ||
	    fail "$out" || return 1
}
