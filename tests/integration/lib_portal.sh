# lib_portal.sh: the stub portal (tests/portal/) and fzc-tunneld against
# it, for the suites that need a portal (tests_portal.sh, tests_gateway.sh,
# tests_gui.sh); sourced by lib.sh.
#
# Helpers (pt_*) keep their state in PT_* variables: PT_NS (namespace),
# PT_DIR (the fzc instance), PT_SOCK (the stub's control socket), PT_PORT,
# PT_SPID (the stub's pid) and PT_SLOG (the stub's log, every line stamped
# with the wall-clock time it was written, for timing assertions).

PT_STUB=$SRCDIR/tests/portal/stub_portal.py

# Ids used by the scenarios (made up).
PT_SITE=5d1b0c9a-7e3f-4a21-8c6d-9e8f7a6b5c4d
PT_ISITE=e1d2c3b4-a596-4877-8695-a4b3c2d1e0f9
PT_CIDR=a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7a
PT_DNS=0f6a8c1e-5b8e-4d5f-9a3c-11a2b3c4d5e6
PT_INET=c3b2a190-8f7e-4d6c-b5a4-93827160f5e4
PT_RELAY1=6b7d1f52-2c0e-4a8e-9d40-0c1b2d3e4f50
PT_RELAY2=9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d
PT_TOKEN=tok-good-1
PT_TOKEN2=tok-good-2

# The scenario of most tests: a CIDR, a DNS and the Internet resource, one
# dual-stack relay, two accepted tokens.
pt_scenario() {
	cat <<JSON
{
  "tokens": ["$PT_TOKEN", "$PT_TOKEN2"],
  "interface": {"ipv4": "100.71.34.9", "ipv6": "fd00:2021:1111::a:3b21",
                "search_domain": "corp.example.com",
                "upstream_do53": [{"ip": "10.20.0.53"}], "upstream_doh": []},
  "sites": [{"id": "$PT_SITE", "name": "HQ"},
            {"id": "$PT_ISITE", "name": "Internet"}],
  "resources": [
    {"id": "$PT_CIDR", "type": "cidr", "address": "10.20.0.0/16",
     "name": "HQ LAN", "address_description": null, "filters": [],
     "sites": [{"id": "$PT_SITE", "name": "HQ"}]},
    {"id": "$PT_DNS", "type": "dns", "address": "*.git.corp.example.com",
     "name": "GitLab", "address_description": "https://git.corp.example.com",
     "filters": [{"protocol": "tcp", "port_range_start": 443,
                  "port_range_end": 443}, {"protocol": "icmp"}],
     "sites": [{"id": "$PT_SITE", "name": "HQ"}], "ip_stack": "dual"},
    {"id": "$PT_INET", "type": "internet", "can_be_disabled": true,
     "sites": [{"id": "$PT_ISITE", "name": "Internet"}]}],
  "relays": [{"id": "$PT_RELAY1",
              "addrs": ["198.51.100.7:3478", "[2001:db8:7::5]:3478"],
              "stamp_secret": "relay-secret-1"}]${1:+,
  $1}
}
JSON
}

# pt_ca DIR: a CA (DIR/ca.crt, DIR/ca.key).
pt_ca() {
	mkdir -p "$1" && chmod 755 "$1" &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$1/ca.key" -out "$1/ca.crt" -days 2 \
	    -subj "/CN=fzc test CA $RANDOM" 2>/dev/null &&
	chmod 644 "$1/ca.crt"
}

# pt_cert CADIR NAME CN SAN: a server certificate CADIR/NAME.{crt,key}
# signed by the CA in CADIR.
pt_cert() {
	local d=$1 n=$2
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout "$d/$n.key" -out "$d/$n.csr" -subj "/CN=$3" 2>/dev/null &&
	echo "subjectAltName=$4" >"$d/$n.ext" &&
	openssl x509 -req -in "$d/$n.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
	    -CAcreateserial -out "$d/$n.crt" -days 2 -extfile "$d/$n.ext" \
	    2>/dev/null
}

# pt_stamp: copies stdin to stdout, each line prefixed by the time it came.
pt_stamp() {
	local line
	while IFS= read -r line; do
		printf '%s %s\n' "$EPOCHREALTIME" "$line"
	done
}

# pt_stub NS SOCK CERTBASE SCENARIO LISTEN: the stub portal in NS; sets
# PT_PORT, PT_SPID and PT_SLOG. CERTBASE "" for ws://.
pt_stub() {
	local ns=$1 sock=$2 cert=$3 sc=$4 listen=$5 n
	PT_NSTUB=$((${PT_NSTUB:-0} + 1))
	n=$WORK/stub$PT_NSTUB
	PT_SLOG=$n.log
	mkfifo "$n.fifo" || return 1
	pt_stamp <"$n.fifo" >"$PT_SLOG" &
	PIDS+=($!)
	if [ -n "$cert" ]; then
		set -- --cert "$cert.crt" --key "$cert.key"
	else
		set -- --plain
	fi
	ip netns exec "$ns" /usr/bin/python3 "$PT_STUB" --listen "$listen" \
	    "$@" --scenario "$sc" --control "$sock" >"$n.out" 2>"$n.fifo" &
	PT_SPID=$!
	PIDS+=("$PT_SPID")
	wait_until 10 grep -q '^PORT ' "$n.out" ||
	    { cat "$PT_SLOG"; fail "stub portal did not start"; } || return 1
	PT_PORT=$(sed -n 's/^PORT //p' "$n.out")
}

# pt_setup NAME [SCENARIO-EXTRA [TOKEN [TUNNELD ARGS...]]]: a namespace,
# the stub portal and fzc-tunneld with TOKEN (default PT_TOKEN, "" for
# none) in its token file, all under WORK/NAME. SCENARIO-EXTRA: more keys
# for pt_scenario. The test PKI (WORK/pki) is made on first use; PT_CERT
# names the server certificate in it (default srv, for 127.0.0.1) and
# PT_CAFILE the CA file given to fzc (default the test CA). PT_NS_HOOK, if
# set, is run with the namespace's name before anything starts in it.
pt_setup() {
	local name=$1 extra=${2-} token=${3-$PT_TOKEN}
	shift 3 2>/dev/null || shift $#
	new_netns PT_NS "$name" || return 1
	[ -z "${PT_NS_HOOK:-}" ] || "$PT_NS_HOOK" "$PT_NS" || return 1
	mkdir -p "$WORK/$name" && chmod 755 "$WORK/$name" || return 1
	PT_DIR=$WORK/$name/fzc
	PT_SOCK=$WORK/$name/portal.sock
	PT_PKI=$WORK/pki
	if [ ! -e "$PT_PKI/srv.crt" ]; then
		pt_ca "$PT_PKI" && pt_cert "$PT_PKI" srv 127.0.0.1 \
		    "DNS:portal.test,IP:127.0.0.1" ||
		    fail "cannot make the test PKI" || return 1
	fi
	pt_scenario "$extra" >"$WORK/$name/scenario.json"
	pt_stub "$PT_NS" "$PT_SOCK" "$PT_PKI/${PT_CERT:-srv}" \
	    "$WORK/$name/scenario.json" 127.0.0.1:0 || return 1
	mkdir -p "$PT_DIR"
	if [ -n "$token" ]; then
		(umask 077; printf '%s\n' "$token" >"$PT_DIR/token")
	fi
	start_tunneld "$PT_NS" "$PT_DIR" --api-url "wss://127.0.0.1:$PT_PORT" \
	    --ca-file "${PT_CAFILE:-$PT_PKI/ca.crt}" --name "fzc-it-$name" "$@"
}

# pt_ctl COMMAND...: commands to the stub (JSON each); false if one fails.
# Answers go to WORK/ctl.log.
pt_ctl() {
	# One command a line: newlines in the JSON become spaces.
	/usr/bin/python3 "$PT_STUB" ctl "$PT_SOCK" "${@//$'\n'/ }" \
	    >>"$WORK/ctl.log" 2>&1
}

# pt_wait WHAT [VALUE [TIMEOUT]]: the stub's wait command.
pt_wait() {
	local v=
	[ -n "${2-}" ] && v=", \"value\": $2"
	pt_ctl "{\"cmd\": \"wait\", \"what\": \"$1\"$v, \"timeout\": ${3:-10}}"
}

# pt_state EXPR: a Python expression over v, the stub's state (client
# role); prints the result (JSON unless a string).
pt_state() {
	/usr/bin/python3 "$PT_STUB" ctl "$PT_SOCK" '{"cmd":"state"}' |
	    python3 -c '
import json, sys
v = json.loads(sys.stdin.readline())
r = eval(sys.argv[1])
print(r if isinstance(r, str) else json.dumps(r))' "$1"
}

# pt_no_violations: the stub saw nothing wrong.
pt_no_violations() {
	local n
	n=$(pt_state 'len(v["violations"])') || fail "no stub state" ||
	    return 1
	[ "$n" = 0 ] && return 0
	pt_state 'v["violations"]' | cut -c1-2000 >&2
	fail "$n protocol violations recorded by the stub"
}

# pt_res EXPR: a Python expression over r, fzc's resources keyed by id.
pt_res() {
	fzc_cli "$PT_DIR" --json resources | python3 -c '
import json, sys
o = json.load(sys.stdin)
r = {x["id"]: x for x in o["resources"]}
v = eval(sys.argv[1])
print(v if isinstance(v, str) else json.dumps(v))' "$1"
}

# pt_res_true EXPR: EXPR over r holds.
pt_res_true() {
	[ "$(pt_res "bool($1)")" = true ]
}

pt_pstate() {
	status_field "$PT_DIR" portal.state
}

pt_pstate_is() {
	[ "$(pt_pstate)" = "$1" ]
}

# pt_alive: tunneld and a controld are running.
pt_alive() {
	local cpid
	kill -0 "$TPID" 2>/dev/null || fail "tunneld died" || return 1
	cpid=$(controld_pid "$PT_DIR") && kill -0 "$cpid" 2>/dev/null ||
	    fail "no controld" || return 1
}

# pt_dump: the logs, for a failing test's output.
pt_dump() {
	echo "--- stub log (last lines)"
	tail -n 15 "$PT_SLOG" | cut -c1-300
	echo "--- tunneld/controld log (last lines)"
	tail -n 25 "$TLOG" | cut -c1-300
	echo "--- status"
	fzc_cli "$PT_DIR" --json status 2>&1 | cut -c1-600
}

# pt_fail MESSAGE: dump the logs, then fail.
pt_fail() {
	pt_dump >&2
	fail "$@"
}

# pt_connected [TIMEOUT]: the stub saw a join and fzc says connected.
pt_connected() {
	pt_wait joined "" "${1:-10}" || pt_fail "the client never joined" ||
	    return 1
	wait_until 5 pt_pstate_is connected ||
	    pt_fail "portal state $(pt_pstate), not connected" || return 1
}
