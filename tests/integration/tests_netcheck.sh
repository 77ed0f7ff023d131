# tests_netcheck.sh: fzc netcheck against coturn, with no daemon running.
# Sourced by run.sh; each t_* runs in its own subshell.
#
# Topology, direct: namespace C (the client, 10.77.1.2/24, fd77:1::2/64) and
# R (coturn, 10.77.1.3/24, fd77:1::3/64) joined by a veth pair.
# Behind NAT: C (10.77.1.2) - (10.77.1.1) N (10.77.2.1) - R (10.77.2.2 and
# 10.77.2.3), N masquerading what leaves toward R.

NC_SECRET=netcheck-static-auth-secret

# nc_link IF NS1 ADDR1 NS2 ADDR2...: a veth pair IF between NS1 and NS2,
# with ADDR1 on the NS1 side and every further address on the NS2 side.
nc_link() {
	local ifname=$1 ns1=$2 a1=$3 ns2=$4 a
	shift 4
	ip link add "$ifname" netns "$ns1" type veth peer name "$ifname" \
	    netns "$ns2" || return 1
	ip -n "$ns1" addr add "$a1" dev "$ifname"
	for a in "$@"; do
		ip -n "$ns2" addr add "$a" dev "$ifname"
	done
	ip -n "$ns1" link set "$ifname" up
	ip -n "$ns2" link set "$ifname" up
}

# nc_direct: C and R on one link; sets NCC, NCR.
nc_direct() {
	new_netns NCC client || return 1
	new_netns NCR relay || return 1
	nc_link nc0 "$NCC" 10.77.1.2/24 "$NCR" 10.77.1.3/24 || return 1
	ip -n "$NCC" addr add fd77:1::2/64 dev nc0 nodad
	ip -n "$NCR" addr add fd77:1::3/64 dev nc0 nodad
}

# nc_nat [MASQUERADE OPTIONS]: C behind router N, R with two addresses;
# sets NCC, NCN, NCR.
nc_nat() {
	command -v nft >/dev/null && command -v conntrack >/dev/null ||
	    fail "nft or conntrack missing: apt-get install nftables" \
	    "conntrack" || return 1
	new_netns NCC client || return 1
	new_netns NCN router || return 1
	new_netns NCR relay || return 1
	nc_link nc0 "$NCC" 10.77.1.2/24 "$NCN" 10.77.1.1/24 || return 1
	nc_link nc1 "$NCN" 10.77.2.1/24 "$NCR" 10.77.2.2/24 10.77.2.3/24 ||
	    return 1
	ip -n "$NCC" route add default via 10.77.1.1
	ip netns exec "$NCN" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$NCN" nft -f - <<NFT || return 1
table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "nc1" masquerade $*
	}
}
NFT
}

# coturn_up ADDR...: coturn in NCR on ADDR:3478, realm firezone, TURN REST
# API credentials; relayed addresses are ADDR[0]:49152-49999. Sets TLOG.
coturn_up() {
	local a
	command -v turnserver >/dev/null ||
	    fail "turnserver missing: apt-get install coturn" || return 1
	TLOG=$WORK/turnserver.log
	{
		echo "listening-port=3478"
		for a in "$@"; do
			echo "listening-ip=$a"
		done
		cat <<CONF
relay-ip=$1
min-port=49152
max-port=49999
realm=firezone
use-auth-secret
static-auth-secret=$NC_SECRET
no-tls
no-dtls
no-tcp
no-cli
verbose
simple-log
log-file=$TLOG
pidfile=$WORK/turnserver.pid
userdb=$WORK/turndb
CONF
	} >"$WORK/turnserver.conf"
	ip netns exec "$NCR" turnserver -c "$WORK/turnserver.conf" \
	    >"$WORK/turnserver.out" 2>&1 &
	PIDS+=($!)
	coturn_listening() {
		local s
		s=$(ip netns exec "$NCR" ss -Hlun) || return 1
		for a in "$@"; do
			[[ $a == *:* ]] && a="[$a]"
			grep -qF "$a:3478 " <<<"$s" || return 1
		done
	}
	wait_until 5 coturn_listening "$@" ||
	    fail "coturn did not start: $(cat "$WORK/turnserver.out")" ||
	    return 1
}

# nc_creds: NC_USER and NC_PASS as a Firezone portal hands them out:
# "<expiry>:<salt>", the salt from a client key. The password follows
# coturn's TURN REST API (base64 of HMAC-SHA1 over the username); to the
# client both are opaque strings.
nc_creds() {
	local salt
	salt=$(head -c 32 /dev/urandom | base64 | tr -d '\n' |
	    openssl dgst -sha256 -binary | base64 | tr -d '=\n')
	NC_USER="$(($(date +%s) + 3600)):$salt"
	NC_PASS=$(printf %s "$NC_USER" |
	    openssl dgst -sha1 -hmac "$NC_SECRET" -binary | base64)
	(umask 077 && printf '%s\n' "$NC_PASS" >"$WORK/password")
}

# nc_json JSON EXPR: EXPR, a Python expression over the parsed JSON j, holds.
nc_json() {
	python3 -c '
import ipaddress, json, sys
j = json.loads(sys.argv[1])
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$1" "$2" ||
	    fail "$2 in $1"
}

# relayed_ok JSON I ADDR: entry I allocated, relayed only on ADDR:49152-49999.
relayed_ok() {
	nc_json "$1" "j['relays'][$2]['allocation']['ok'] is True and
	    j['relays'][$2]['allocation']['error'] is None and
	    len(j['relays'][$2]['allocation']['relayed']) >= 1 and
	    all(r.rsplit(':', 1)[0] == '$3' and
	    49152 <= int(r.rsplit(':', 1)[1]) <= 49999
	    for r in j['relays'][$2]['allocation']['relayed'])"
}

# One relay, both families: srflx is the client's own address, as coturn
# saw it; relayed addresses in coturn's range; allocations deleted.
t_netcheck_success() {
	local out rc s i
	nc_direct || return 1
	coturn_up 10.77.1.3 fd77:1::3 || return 1
	nc_creds
	out=$(ip netns exec "$NCC" "$B/fzc" --json netcheck \
	    --relay 10.77.1.3:3478 --username "$NC_USER" \
	    --password-file "$WORK/password" \
	    --relay "[fd77:1::3]" --username "$NC_USER" \
	    --password-file "$WORK/password")
	rc=$?
	echo "$out"
	[ "$rc" = 0 ] || fail "exit status $rc" || return 1
	nc_json "$out" "len(j['relays']) == 2 and
	    [r['relay'] for r in j['relays']] == ['10.77.1.3:3478',
	    '[fd77:1::3]'] and
	    j['relays'][0]['address'] == '10.77.1.3:3478' and
	    j['relays'][1]['address'] == '[fd77:1::3]:3478' and
	    all(r['reachable'] is True and
	    isinstance(r['rtt_ms'], (int, float)) and
	    0 <= r['rtt_ms'] < 1000 for r in j['relays']) and
	    j['relays'][0]['srflx'].startswith('10.77.1.2:') and
	    j['relays'][1]['srflx'].startswith('[fd77:1::2]:') and
	    j['nat'] == {'endpoint_independent': None}" || return 1
	relayed_ok "$out" 0 10.77.1.3 || return 1
	relayed_ok "$out" 1 10.77.1.3 || return 1
	# coturn names the client's address when it drops a session.
	for i in 0 1; do
		s=$(python3 -c 'import json, sys
print(json.loads(sys.argv[1])["relays"][int(sys.argv[2])]["srflx"])' \
		    "$out" "$i")
		wait_until 5 grep -qF "remote $s, reason" "$TLOG" ||
		    fail "coturn never saw $s" || return 1
	done
	[ "$(grep -c 'refreshed, .*lifetime=0' "$TLOG")" = 2 ] ||
	    fail "allocations not deleted" || return 1
	out=$(ip netns exec "$NCC" "$B/fzc" netcheck --relay 10.77.1.3 \
	    --username "$NC_USER" --password-file "$WORK/password" 2>&1)
	rc=$?
	echo "$out"
	[ "$rc" = 0 ] || fail "exit status $rc" || return 1
	grep -q '^	reachable:  yes, rtt [0-9.]* ms$' <<<"$out" &&
	    grep -q '^	srflx:      10\.77\.1\.2:[0-9]*$' <<<"$out" &&
	    grep -q '^	allocation: ok, relayed 10\.77\.1\.3:49[0-9]*$' \
	    <<<"$out" || fail "human output" || return 1
	! grep -qF -e "$NC_PASS" -e "$NC_USER" <<<"$out" ||
	    fail "credentials printed" || return 1
}

# A wrong password: reachable, allocation refused, exit 1, nothing secret
# printed, and one authenticated attempt only.
t_netcheck_bad_password() {
	local out rc wrong
	nc_direct || return 1
	coturn_up 10.77.1.3 || return 1
	nc_creds
	wrong=${NC_PASS%????}AAA=
	out=$(ip netns exec "$NCC" "$B/fzc" --json netcheck \
	    --relay 10.77.1.3 --username "$NC_USER" --password "$wrong" 2>&1)
	rc=$?
	echo "$out"
	[ "$rc" = 1 ] || fail "exit status $rc" || return 1
	nc_json "$out" "j['relays'][0]['reachable'] is True and
	    j['relays'][0]['allocation']['ok'] is False and
	    j['relays'][0]['allocation']['relayed'] == [] and
	    'credentials' in j['relays'][0]['allocation']['error']" ||
	    return 1
	# One 401 asks for credentials, the second refuses them: no retry.
	sleep 1
	[ "$(grep -c 'error 401' "$TLOG")" = 2 ] ||
	    fail "$(grep -c 'error 401' "$TLOG") answers 401" || return 1
	! grep -qF -e "$wrong" -e "$NC_USER" -e "$NC_PASS" <<<"$out" ||
	    fail "credentials printed" || return 1
	out=$(ip netns exec "$NCC" "$B/fzc" netcheck --relay 10.77.1.3 \
	    --username "$NC_USER" --password "$wrong" 2>&1)
	rc=$?
	echo "$out"
	[ "$rc" = 1 ] || fail "exit status $rc" || return 1
	grep -q 'allocation: failed, relay rejected the credentials' \
	    <<<"$out" || fail "human output" || return 1
	! grep -qF -e "$wrong" -e "$NC_USER" -e "$NC_PASS" <<<"$out" ||
	    fail "credentials printed" || return 1
}

# Nothing listens: unreachable after 5 s, exit 1; meanwhile the password
# is gone from /proc/PID/cmdline.
t_netcheck_no_answer() {
	local pid rc start elapsed out cmdline
	nc_direct || return 1
	nc_creds
	start=${EPOCHREALTIME/./}
	# ip netns exec becomes fzc: $! is fzc's pid.
	ip netns exec "$NCC" "$B/fzc" --json netcheck --relay 10.77.1.3 \
	    --username "$NC_USER" --password "$NC_PASS" >"$WORK/out" 2>&1 &
	pid=$!
	sleep 1
	cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline")
	echo "cmdline: $cmdline"
	grep -q 'netcheck --relay' <<<"$cmdline" ||
	    fail "not fzc's command line" || return 1
	! grep -qF "$NC_PASS" <<<"$cmdline" ||
	    fail "password still in /proc/$pid/cmdline" || return 1
	wait "$pid"
	rc=$?
	elapsed=$(((${EPOCHREALTIME/./} - start) / 1000))
	out=$(cat "$WORK/out")
	echo "$out (${elapsed} ms)"
	[ "$rc" = 1 ] || fail "exit status $rc" || return 1
	[ "$elapsed" -ge 4500 ] && [ "$elapsed" -lt 8000 ] ||
	    fail "took $elapsed ms" || return 1
	nc_json "$out" "j['relays'][0]['reachable'] is False and
	    j['relays'][0]['rtt_ms'] is None and
	    j['relays'][0]['srflx'] is None and
	    j['relays'][0]['allocation']['ok'] is False and
	    j['relays'][0]['allocation']['error'] == 'no answer within 5 s'"
}

# nc_mapping DST: the NAT's mapping of the conntrack entry toward DST:3478,
# and the client's source port, as "ADDR:PORT SPORT".
nc_mapping() {
	ip netns exec "$NCN" conntrack -L -p udp --orig-dst "$1" \
	    --dport 3478 2>/dev/null | python3 -c '
import re, sys
e = sys.stdin.read().split("\n")[0]
kv = re.findall(r"(\w+)=(\S+)", e)
orig, reply = dict(kv[:4]), dict(kv[4:8])
print("%s:%s %s" % (reply["dst"], reply["dport"], orig["sport"]))'
}

# nc_nat_check EXPECTED: two relay addresses behind the NAT; the verdict is
# EXPECTED (True or False), and each srflx is the router's mapping for it.
nc_nat_check() {
	local out rc m2 m3
	coturn_up 10.77.2.2 10.77.2.3 || return 1
	nc_creds
	out=$(ip netns exec "$NCC" "$B/fzc" --json netcheck \
	    --relay 10.77.2.2 --username "$NC_USER" --password "$NC_PASS" \
	    --relay 10.77.2.3 --username "$NC_USER" --password "$NC_PASS")
	rc=$?
	echo "$out"
	[ "$rc" = 0 ] || fail "exit status $rc" || return 1
	relayed_ok "$out" 0 10.77.2.2 || return 1
	relayed_ok "$out" 1 10.77.2.2 || return 1
	m2=$(nc_mapping 10.77.2.2)
	m3=$(nc_mapping 10.77.2.3)
	echo "conntrack: 10.77.2.2 -> $m2, 10.77.2.3 -> $m3"
	[ -n "$m2" ] && [ -n "$m3" ] || fail "no conntrack entries" ||
	    return 1
	nc_json "$out" "j['relays'][0]['srflx'] == '${m2% *}' and
	    j['relays'][1]['srflx'] == '${m3% *}' and
	    j['relays'][0]['srflx'].startswith('10.77.2.1:') and
	    j['nat']['endpoint_independent'] is $1" || return 1
	# The same local socket spoke to both relays.
	[ "${m2#* }" = "${m3#* }" ] || fail "two client ports" || return 1
	if [ "$1" = True ]; then
		[ "${m2% *}" = "${m3% *}" ]
	else
		[ "${m2% *}" != "${m3% *}" ]
	fi || fail "conntrack disagrees with $1" || return 1
}

# Plain MASQUERADE keeps the client's port: one mapping for both relays.
t_netcheck_nat_independent() {
	local m port
	nc_nat || return 1
	nc_nat_check True || return 1
	m=$(nc_mapping 10.77.2.2)
	port=${m% *}
	[ "${port##*:}" = "${m#* }" ] || fail "MASQUERADE changed the port"
}

# fully-random gives every destination its own port: endpoint-dependent.
t_netcheck_nat_dependent() {
	nc_nat fully-random || return 1
	nc_nat_check False
}

# Command-line errors: exit 2, a reason, nothing on standard output.
t_netcheck_usage() {
	local out err rc args
	while IFS= read -r args; do
		out=$(eval "\"\$B/fzc\" netcheck $args" 2>"$WORK/err")
		rc=$?
		err=$(cat "$WORK/err")
		echo "netcheck $args: $rc: $err"
		[ "$rc" = 2 ] || fail "exit status $rc" || return 1
		[ -z "$out" ] || fail "output: $out" || return 1
		[ -n "$err" ] || fail "no reason given" || return 1
		! grep -q hunter2 <<<"$err" || fail "password printed" ||
		    return 1
	done <<'ARGS'
--relay
--relay 10.0.0.1
--relay 10.0.0.1 --username u
--relay 10.0.0.1 --password hunter2
--username u --password hunter2 --relay 10.0.0.1
--relay 10.0.0.1 --username u --password hunter2 --password hunter2
--relay 10.0.0.1 --username u --username u --password hunter2
--relay 10.0.0.1:0 --username u --password hunter2
--relay 10.0.0.1:65536 --username u --password hunter2
--relay 10.0.0.1: --username u --password hunter2
--relay [fd00::1 --username u --password hunter2
--relay :3478 --username u --password hunter2
--relay 10.0.0.1 --username u --password-file /nonexistent
--relay 10.0.0.1 --username u --password hunter2 extra
--bogus
ARGS
	# Without --relay it asks the daemon, which must be running (exit
	# status 3 says it is not).
	out=$("$B/fzc" --control-socket "$WORK/none.sock" netcheck 2>&1)
	rc=$?
	[ "$rc" = 3 ] || fail "exit status $rc" || return 1
	[ "$(head -n 1 <<<"$out")" = "fzc: fzc is not running (nothing \
listens on $WORK/none.sock)" ] || fail "$out" || return 1
}
