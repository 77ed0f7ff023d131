# tests_portal.sh: fzc against the stub portal (tests/portal/), issue 4.
# Sourced by run.sh; each t_portal_* runs in its own subshell and work
# directory, with its own network namespace where the stub listens on
# 127.0.0.1 (TLS, with a CA made per test). The stub helpers the other
# suites share (pt_setup, pt_ctl, ...) are in lib_portal.sh; the pt_* here
# serve these tests only.

# ---------------------------------------------------------------------------

# 1. Connect, join, init: resources listed with their fields, tunnel
# addresses and the CIDR route shipped to tunneld, no protocol violation.
t_portal_connect_init() {
	pt_setup init || return 1
	pt_connected || return 1
	wait_until 5 pt_res_true 'len(r) == 3' ||
	    pt_fail "resources: $(pt_res r)" || return 1
	pt_res r
	pt_res_true "r['$PT_CIDR'] == {'id': '$PT_CIDR', 'type': 'cidr',
	    'name': 'HQ LAN', 'address': '10.20.0.0/16', 'site': 'HQ',
	    'authorized': False, 'status': 'unknown'}" ||
	    fail "cidr: $(pt_res "r['$PT_CIDR']")" ||
	    return 1
	pt_res_true "r['$PT_DNS'] == {'id': '$PT_DNS', 'type': 'dns',
	    'name': 'GitLab', 'address': '*.git.corp.example.com',
	    'site': 'HQ', 'authorized': False, 'status': 'unknown',
	    'names': []}" ||
	    fail "dns: $(pt_res "r['$PT_DNS']")" || return 1
	pt_res_true "r['$PT_INET']['type'] == 'internet' and
	    r['$PT_INET']['site'] == 'Internet' and
	    r['$PT_INET']['authorized'] is False" ||
	    fail "internet: $(pt_res "r['$PT_INET']")" || return 1
	# tunneld got the tunnel addresses, the CIDR route and the relay.
	wait_until 5 grep -q 'client state: IPC_TUN_ADDRESSES 100.71.34.9/32' \
	    "$TLOG" || pt_fail "no tunnel addresses in tunneld" || return 1
	wait_until 5 grep -q \
	    "client state: IPC_ROUTE_ADD 10.20.0.0/16 $PT_CIDR\$" "$TLOG" ||
	    pt_fail "no route for the CIDR resource in tunneld" || return 1
	wait_until 5 grep -q "client state: IPC_RELAY_ADD .*$PT_RELAY1" \
	    "$TLOG" || pt_fail "no relay in tunneld" || return 1
	grep -q 'client state: .*: ' "$TLOG" &&
	    { grep 'client state: .*: ' "$TLOG"; pt_fail "tunneld refused state"; } &&
	    return 1
	# 1.8/2.3: set_snownet_capabilities right after the join.
	pt_wait message '"set_snownet_capabilities"' 5 ||
	    pt_fail "no set_snownet_capabilities after the join" || return 1
	[ "$(pt_state 'v["joins"]')" = 1 ] ||
	    pt_fail "joins: $(pt_state 'v["joins"]')" || return 1
	# The token is nowhere in the logs or the process list.
	! grep -q "$PT_TOKEN" "$TLOG" || fail "token in the log" || return 1
	! ps -eo args | grep -v grep | grep -q "$PT_TOKEN" ||
	    fail "token in the process list" || return 1
	pt_no_violations || return 1
	pt_alive || return 1
	# Issue 4 item 8: scripts rely on every entry having id, type, name,
	# address, site and authorized (null where there is no value).
	pt_res_true "all(set(x) >= {'id', 'type', 'name', 'address', 'site',
	    'authorized'} for x in r.values())" ||
	    fail "entries without all six keys: $(pt_res "r['$PT_INET']")"
}

# 2. Live changes: resource created, updated (new name, new address),
# deleted; config_changed; relays_presence.
t_portal_live_changes() {
	local id=2b9c4d6e-8f10-4a2b-9c3d-4e5f60718293 res
	pt_setup live || return 1
	pt_connected || return 1
	wait_until 5 pt_res_true 'len(r) == 3' ||
	    pt_fail "resources after init: $(pt_res r)" || return 1
	res='{"id": "'$id'", "type": "cidr", "address": "10.30.0.0/24",
	    "name": "Lab", "address_description": null, "filters": [],
	    "sites": [{"id": "'$PT_SITE'", "name": "HQ"}]}'
	pt_ctl "{\"cmd\": \"create_resource\", \"resource\": $res}" ||
	    fail "create_resource" || return 1
	wait_until 5 pt_res_true "r.get('$id', {}).get('name') == 'Lab' and
	    r['$id']['address'] == '10.30.0.0/24' and
	    r['$id']['type'] == 'cidr' and r['$id']['site'] == 'HQ'" ||
	    pt_fail "created resource: $(pt_res r)" || return 1
	wait_until 5 grep -q "IPC_ROUTE_ADD 10.30.0.0/24 $id\$" "$TLOG" ||
	    pt_fail "no route for the new resource" || return 1
	# Update: a new name, then a new address (the route moves).
	pt_ctl "{\"cmd\": \"update_resource\", \"resource\":
	    ${res/\"Lab\"/\"Lab 2\"}}" || fail "update_resource" || return 1
	wait_until 5 pt_res_true "r['$id']['name'] == 'Lab 2'" ||
	    pt_fail "name change not applied: $(pt_res "r['$id']")" ||
	    return 1
	res=${res/\"Lab\"/\"Lab 3\"}
	pt_ctl "{\"cmd\": \"update_resource\", \"resource\":
	    ${res/10.30.0.0\/24/10.31.0.0\/24}}" ||
	    fail "update_resource" || return 1
	wait_until 5 pt_res_true "r['$id']['name'] == 'Lab 3' and
	    r['$id']['address'] == '10.31.0.0/24'" ||
	    pt_fail "address change not applied: $(pt_res "r['$id']")" ||
	    return 1
	wait_until 5 grep -q "IPC_ROUTE_ADD 10.31.0.0/24 $id\$" "$TLOG" ||
	    pt_fail "no route for the new address" || return 1
	grep -q "IPC_ROUTE_DEL 10.30.0.0/24 $id\$" "$TLOG" ||
	    pt_fail "old route not withdrawn" || return 1
	[ "$(pt_res 'len(r)')" = 4 ] || fail "resources: $(pt_res r)" ||
	    return 1
	# Delete (bare id string): gone, route withdrawn, others untouched.
	pt_ctl "{\"cmd\": \"delete_resource\", \"id\": \"$id\"}" ||
	    fail "delete_resource" || return 1
	wait_until 5 pt_res_true "'$id' not in r" ||
	    pt_fail "deleted resource still listed" || return 1
	wait_until 5 grep -q "IPC_ROUTE_DEL 10.31.0.0/24 $id\$" "$TLOG" ||
	    pt_fail "route of the deleted resource not withdrawn" || return 1
	pt_res_true "sorted(r) == sorted(['$PT_CIDR', '$PT_DNS', '$PT_INET'])" ||
	    fail "resources after delete: $(pt_res r)" || return 1
	# Deleting the CIDR resource of the init withdraws its route too.
	pt_ctl "{\"cmd\": \"delete_resource\", \"id\": \"$PT_CIDR\"}" ||
	    fail "delete_resource" || return 1
	wait_until 5 grep -q "IPC_ROUTE_DEL 10.20.0.0/16 $PT_CIDR\$" "$TLOG" ||
	    pt_fail "route of the init's CIDR resource not withdrawn" ||
	    return 1
	pt_res_true "sorted(r) == sorted(['$PT_DNS', '$PT_INET'])" ||
	    fail "resources after delete: $(pt_res r)" || return 1
	# config_changed: applied (logged) and shipped to tunneld again.
	local n
	n=$(grep -c 'client state: IPC_TUN_ADDRESSES' "$TLOG")
	pt_ctl '{"cmd": "config_changed", "interface":
	    {"search_domain": "new.example.com",
	     "upstream_do53": [{"ip": "10.20.0.54"}, {"ip": "10.20.0.55"}]}}' ||
	    fail "config_changed" || return 1
	wait_until 5 grep -q 'portal: configuration changed' "$TLOG" ||
	    pt_fail "config_changed not applied" || return 1
	ship_count() {
		[ "$(grep -c 'client state: IPC_TUN_ADDRESSES 100.71.34.9/32' \
		    "$TLOG")" -gt "$n" ]
	}
	wait_until 5 ship_count ||
	    pt_fail "interface not shipped to tunneld after config_changed" ||
	    return 1
	# relays_presence: relay 1 goes, relay 2 comes.
	pt_ctl '{"cmd": "relays_presence", "disconnected_ids": ["'$PT_RELAY1'"],
	    "connected": [{"id": "'$PT_RELAY2'", "addrs": ["203.0.113.9:3478"],
	    "stamp_secret": "relay-secret-2"}]}' ||
	    fail "relays_presence" || return 1
	wait_until 5 grep -q "client state: IPC_RELAY_DEL .*$PT_RELAY1" \
	    "$TLOG" || pt_fail "no IPC_RELAY_DEL for the relay gone" ||
	    return 1
	wait_until 5 grep -q "client state: IPC_RELAY_ADD .*$PT_RELAY2" \
	    "$TLOG" || pt_fail "no IPC_RELAY_ADD for the new relay" ||
	    return 1
	! grep 'client state: .*: ' "$TLOG" ||
	    pt_fail "tunneld refused some state" || return 1
	grep -q 'portal: malformed' "$TLOG" &&
	    { grep 'portal: malformed' "$TLOG"; fail "good message dropped"; } &&
	    return 1
	# All on the first connection.
	[ "$(pt_state 'v["connection_count"]')" = 1 ] ||
	    pt_fail "reconnected: $(pt_state 'v["connection_count"]')" ||
	    return 1
	pt_connected || return 1
	pt_no_violations || return 1
	pt_alive
}

# pt_msgs EXPR: EXPR over ms, the stub's recorded client frames.
pt_msgs() {
	pt_state "(lambda ms: $1)(v['messages'])"
}

# 3. Heartbeats: unanswered ones make the client reconnect after ~40 s
# (1.7: more than 3 outstanding); answered ones come every ~10 s and keep
# the connection.
t_portal_heartbeats() {
	local t n
	pt_setup hb '"ignore_heartbeats": true' || return 1
	pt_connected || return 1
	pt_wait disconnected "" 55 ||
	    pt_fail "still on the first connection after 55 s of unanswered heartbeats" ||
	    return 1
	pt_ctl '{"cmd": "ignore_heartbeats", "on": false}' || return 1
	pt_connected 10 || return 1
	pt_msgs '[(m["conn"], m["event"], m["time"]) for m in ms]' |
	    cut -c1-1500
	# The first connection: 3 or 4 heartbeats, none answered, then the
	# client (not the stub's idle timeout) dropped it ~40 s after it
	# opened; the second connection follows within the backoff.
	n=$(pt_msgs 'len([m for m in ms if m["conn"] == 1 and
	    m["event"] == "heartbeat"])')
	[ "$n" = 3 ] || [ "$n" = 4 ] ||
	    pt_fail "$n heartbeats on the first connection" || return 1
	[ "$(pt_state 'v["idle_timeouts"]')" = 0 ] ||
	    pt_fail "the stub closed for idleness, not the client" || return 1
	t=$(pt_msgs '
	    [m["time"] for m in ms if m["conn"] == 2 and
	     m["event"] == "phx_join"][0] -
	    [m["time"] for m in ms if m["conn"] == 1 and
	     m["event"] == "phx_join"][0]')
	echo "second join $t s after the first"
	python3 -c "import sys; sys.exit(not 38 <= $t <= 45)" ||
	    pt_fail "reconnected $t s after the first join, not ~40 s" ||
	    return 1
	# Re-joined, capabilities sent again.
	[ "$(pt_state 'v["joins"]')" = 2 ] || pt_fail "joins" || return 1
	pt_wait message '"set_snownet_capabilities"' 5 ||
	    pt_fail "no set_snownet_capabilities" || return 1
	[ "$(pt_msgs 'len([m for m in ms if m["conn"] == 2 and
	    m["event"] == "set_snownet_capabilities"])')" = 1 ] ||
	    pt_fail "no set_snownet_capabilities after the re-join" ||
	    return 1
	# Answered heartbeats: two more, ~10 s apart, same connection.
	n=$(pt_state 'v["heartbeats_seen"]')
	pt_wait heartbeats $((n + 2)) 25 ||
	    pt_fail "fewer than 2 heartbeats in 25 s" || return 1
	t=$(pt_msgs '(lambda h: h[1] - h[0])([m["time"] for m in ms
	    if m["conn"] == 2 and m["event"] == "heartbeat"][:2])')
	echo "answered heartbeats $t s apart"
	python3 -c "import sys; sys.exit(not 9.5 <= $t <= 10.8)" ||
	    pt_fail "heartbeats $t s apart" || return 1
	t=$(pt_msgs '[m["time"] for m in ms if m["conn"] == 2 and
	    m["event"] == "heartbeat"][0] - [m["time"] for m in ms
	    if m["conn"] == 2 and m["event"] == "phx_join"][0]')
	python3 -c "import sys; sys.exit(not 9.0 <= $t <= 10.8)" ||
	    pt_fail "first heartbeat $t s after the join" || return 1
	[ "$(pt_state 'v["connection_count"]')" = 2 ] ||
	    pt_fail "reconnected although heartbeats were answered" ||
	    return 1
	pt_pstate_is connected || pt_fail "not connected" || return 1
	pt_no_violations || return 1
	pt_alive
}

# 4. Join timeout: no reply to the join, the client gives up after 5 s
# and connects again.
t_portal_join_timeout() {
	local t
	pt_setup join '"no_join_reply": true' || return 1
	pt_wait message '"phx_join"' 10 || pt_fail "no join" || return 1
	pt_ctl '{"cmd": "set", "key": "no_join_reply", "value": false}' ||
	    return 1
	# Not connected while the join is unanswered.
	sleep 1
	[ "$(pt_pstate)" = connecting ] ||
	    pt_fail "state $(pt_pstate) while the join is unanswered" ||
	    return 1
	pt_connected 10 || return 1
	t=$(pt_msgs '
	    [m["time"] for m in ms if m["conn"] == 2 and
	     m["event"] == "phx_join"][0] -
	    [m["time"] for m in ms if m["conn"] == 1 and
	     m["event"] == "phx_join"][0]')
	echo "second join $t s after the first"
	python3 -c "import sys; sys.exit(not 5.0 <= $t <= 7.0)" ||
	    pt_fail "re-joined $t s after the unanswered join" || return 1
	[ "$(pt_state 'v["connection_count"]')" = 2 ] ||
	    pt_fail "connections: $(pt_state 'v["connection_count"]')" ||
	    return 1
	wait_until 5 pt_res_true 'len(r) == 3' ||
	    pt_fail "no init after the re-join" || return 1
	pt_no_violations || return 1
	pt_alive
}

# pt_attempts_stay N SECONDS: the stub sees no more than N connection
# attempts during SECONDS.
pt_attempts_stay() {
	sleep "$2"
	[ "$(pt_state 'v["connection_attempts"]')" = "$1" ] ||
	    pt_fail "connection attempts: $(pt_state 'v["connection_attempts"]'), expected $1" ||
	    return 1
}

# pt_sign_in TOKEN: fzc sign-in, the token on standard input.
pt_sign_in() {
	printf '%s\n' "$1" | fzc_cli "$PT_DIR" sign-in ||
	    pt_fail "fzc sign-in failed" || return 1
}

# 5. 401: invalid_token (and missing_token) signs out and deletes the
# token; another 401 (a problem body with another code, or no problem body)
# signs out and keeps the token; fzc sign-in with a good token connects
# again.
t_portal_401() {
	local tf
	pt_setup auth "" tok-unknown || return 1
	tf=$PT_DIR/token
	wait_until 10 pt_pstate_is signed_out ||
	    pt_fail "not signed out after 401 invalid_token" || return 1
	grep -q 'answering HTTP 401' "$PT_SLOG" || pt_fail "no 401" ||
	    return 1
	wait_until 5 test ! -e "$tf" ||
	    pt_fail "token file kept after invalid_token" || return 1
	[ -n "$(status_field "$PT_DIR" portal.reason)" ] ||
	    pt_fail "no reason given" || return 1
	status_field "$PT_DIR" portal.reason
	pt_alive || return 1
	pt_attempts_stay 1 2 || return 1
	# Signing in with a good token reconnects.
	pt_sign_in "$PT_TOKEN" || return 1
	[ "$(cat "$tf")" = "$PT_TOKEN" ] && [ "$(stat -c %a "$tf")" = 600 ] ||
	    pt_fail "token file not stored (mode $(stat -c %a "$tf"))" ||
	    return 1
	pt_connected 10 || return 1
	# 401 with another code: signed out, the token stays.
	pt_ctl '{"cmd": "set_http_status", "status": 401,
	    "code": "account_suspended", "detail": "Suspended"}' \
	    '{"cmd": "close"}' || return 1
	wait_until 10 pt_pstate_is signed_out ||
	    pt_fail "not signed out after 401 account_suspended" || return 1
	pt_alive || return 1
	[ "$(cat "$tf" 2>/dev/null)" = "$PT_TOKEN" ] ||
	    pt_fail "token file lost after a 401 other than invalid_token" ||
	    return 1
	pt_attempts_stay 3 2 || return 1
	# A 401 without a problem body (a proxy's page): the same.
	pt_sign_in "$PT_TOKEN2" || return 1
	pt_connected 10 || return 1
	pt_ctl '{"cmd": "set_http_status", "status": 401,
	    "body": "<html><body>Unauthorized</body></html>",
	    "content_type": "text/html"}' '{"cmd": "close"}' || return 1
	wait_until 10 pt_pstate_is signed_out ||
	    pt_fail "not signed out after a 401 without problem body" ||
	    return 1
	[ "$(cat "$tf" 2>/dev/null)" = "$PT_TOKEN2" ] ||
	    pt_fail "token file lost after a bare 401" || return 1
	pt_attempts_stay 5 2 || return 1
	# And a new sign-in still works; 401 missing_token deletes the token
	# as invalid_token does.
	pt_sign_in "$PT_TOKEN" || return 1
	pt_connected 10 || return 1
	pt_ctl '{"cmd": "set_http_status", "status": 401,
	    "code": "missing_token", "detail": "Missing token"}' \
	    '{"cmd": "close"}' || return 1
	wait_until 10 pt_pstate_is signed_out ||
	    pt_fail "not signed out after 401 missing_token" || return 1
	wait_until 5 test ! -e "$tf" ||
	    pt_fail "token file kept after missing_token" || return 1
	pt_attempts_stay 7 2 || return 1
	pt_sign_in "$PT_TOKEN2" || return 1
	pt_connected 10 || return 1
	[ "$(pt_state '[a["status"] for a in v["http_answers"]]')" = \
	    "[401, 401, 401, 401]" ] ||
	    pt_fail "HTTP answers: $(pt_state 'v["http_answers"]')" ||
	    return 1
	! grep -q -e "$PT_TOKEN" -e "$PT_TOKEN2" -e tok-unknown "$TLOG" ||
	    fail "a token in the log" || return 1
	pt_no_violations || return 1
	pt_alive
}

# pt_slog_time REGEX [N]: the time the stub logged the Nth line (default
# 1) matching REGEX.
pt_slog_time() {
	grep -E -- "$1" "$PT_SLOG" | sed -n "${2:-1}p" | cut -d' ' -f1
}

# 6. 403 and 500 are hiccups (retried every second while never
# connected); 503 with Retry-After: 2 delays the next attempt by 2 s.
t_portal_http_errors() {
	local t0 t1 gap i n r
	pt_setup http '"http_status": [{"status": 403, "count": 2},
	    {"status": 500, "count": 2}]' || return 1
	wait_until 5 eval '[ "$(status_field "$PT_DIR" portal.state)" = waiting ] &&
	    status_field "$PT_DIR" portal.reason | grep -q 403' ||
	    pt_fail "no waiting state after a 403" || return 1
	pt_connected 15 || return 1
	[ "$(pt_state '[a["status"] for a in v["http_answers"]]')" = \
	    "[403, 403, 500, 500]" ] ||
	    pt_fail "HTTP answers: $(pt_state 'v["http_answers"]')" ||
	    return 1
	[ "$(pt_state 'v["connection_attempts"]')" = 5 ] ||
	    pt_fail "attempts: $(pt_state 'v["connection_attempts"]')" ||
	    return 1
	# 1.8: while never connected, one attempt a second.
	for i in 1 2 3 4; do
		t0=$(pt_slog_time 'GET /client' $i)
		t1=$(pt_slog_time 'GET /client' $((i + 1)))
		gap=$(python3 -c "print(round($t1 - $t0, 3))")
		echo "attempt $((i + 1)) $gap s after attempt $i"
		python3 -c "import sys; sys.exit(not 1.0 <= $gap <= 2.5)" ||
		    pt_fail "attempt $((i + 1)) came $gap s after attempt $i" ||
		    return 1
	done
	# 503 with Retry-After: 2 on the next attempt, after a dropped
	# connection.
	pt_ctl '{"cmd": "set_http_status", "status": 503, "retry_after": 2}' \
	    '{"cmd": "close"}' || return 1
	wait_until 5 eval '[ "$(status_field "$PT_DIR" portal.state)" = waiting ] &&
	    status_field "$PT_DIR" portal.reason | grep -q 503' ||
	    pt_fail "no waiting state after the 503" || return 1
	# fzc status counts down from the 2 s of Retry-After.
	t0=$EPOCHREALTIME
	r=$(status_field "$PT_DIR" portal.retry_in_s)
	t1=$EPOCHREALTIME
	gap=$(pt_slog_time 'answering HTTP 503')
	echo "retry in $r s, $(python3 -c "print(round($t0 - $gap, 3))") s after the 503"
	python3 -c "import sys; sys.exit(not
	    2 - ($t1 - $gap) - 0.2 <= $r <= 2 - ($t0 - $gap) + 0.2)" ||
	    pt_fail "retry_in_s $r after Retry-After: 2" || return 1
	pt_connected 10 || return 1
	n=$(grep -c 'GET /client' "$PT_SLOG")
	t0=$(pt_slog_time 'answering HTTP 503')
	t1=$(pt_slog_time 'GET /client' "$n")
	gap=$(python3 -c "print(round($t1 - $t0, 3))")
	echo "attempt after the 503: $gap s later"
	python3 -c "import sys; sys.exit(not 2.0 <= $gap <= 3.5)" ||
	    pt_fail "next attempt $gap s after the 503 (Retry-After: 2)" ||
	    return 1
	[ "$(pt_state '[a["status"] for a in v["http_answers"]]')" = \
	    "[403, 403, 500, 500, 503]" ] ||
	    pt_fail "HTTP answers: $(pt_state 'v["http_answers"]')" ||
	    return 1
	[ "$(pt_state 'v["connection_attempts"]')" = 7 ] ||
	    pt_fail "attempts: $(pt_state 'v["connection_attempts"]')" ||
	    return 1
	[ -e "$PT_DIR/token" ] || pt_fail "token file lost" || return 1
	pt_no_violations || return 1
	pt_alive
}

# pt_backoff_bound DOWN: 1.8's bound on the wait for the first attempt
# after a portal that was down DOWN seconds is back: the client, once
# connected, retries after 0.5 s x 1.5^n with a jitter of +-50 %, so at
# most n attempts (the shortest delays) fit in DOWN, and the next one
# comes at the latest 0.75 s x 1.5^n later.
pt_backoff_bound() {
	python3 -c '
import sys
down, t, n = float(sys.argv[1]), 0.0, 0
while True:
    t += 0.25 * 1.5 ** n
    if t > down:
        break
    n += 1
print(round(0.75 * 1.5 ** n, 3))' "$1"
}

# 7. Portal killed (SIGKILL) and restarted on the same port 2 s later: the
# client reconnects within the backoff bound and joins again.
t_portal_restart() {
	local t_kill t_up t_get down bound late n
	pt_setup restart || return 1
	pt_connected || return 1
	wait_until 5 pt_res_true 'len(r) == 3' || pt_fail "no init" ||
	    return 1
	n=$(grep -c 'portal: connecting' "$TLOG")
	kill -KILL "$PT_SPID"
	t_kill=$EPOCHREALTIME
	wait_until 5 eval '[ "$(pt_pstate)" = waiting ]' ||
	    pt_fail "the client did not notice the portal was gone" ||
	    return 1
	status_field "$PT_DIR" portal.reason
	sleep 2
	# It kept trying while the portal was down.
	[ "$(grep -c 'portal: connecting' "$TLOG")" -ge $((n + 2)) ] ||
	    pt_fail "fewer than 2 attempts while the portal was down" ||
	    return 1
	pt_stub "$PT_NS" "$PT_SOCK" "$PT_PKI/srv" "$WORK/restart/scenario.json" \
	    "127.0.0.1:$PT_PORT" || return 1
	t_up=$(head -n 1 "$PT_SLOG" | cut -d' ' -f1)
	pt_connected 15 || return 1
	t_get=$(pt_slog_time 'GET /client')
	down=$(python3 -c "print(round($t_up - $t_kill, 3))")
	late=$(python3 -c "print(round($t_get - $t_up, 3))")
	bound=$(pt_backoff_bound "$down")
	echo "portal down $down s, client back $late s later (bound $bound s)"
	python3 -c "import sys; sys.exit(not $late <= $bound + 0.3)" ||
	    pt_fail "reconnected $late s after the portal was back (bound $bound s)" ||
	    return 1
	# Re-joined on the first attempt, fresh init, capabilities again.
	[ "$(pt_state 'v["connection_attempts"]')" = 1 ] &&
	    [ "$(pt_state 'v["joins"]')" = 1 ] ||
	    pt_fail "attempts/joins at the new portal" || return 1
	pt_wait message '"set_snownet_capabilities"' 5 ||
	    pt_fail "no set_snownet_capabilities after the re-join" ||
	    return 1
	wait_until 5 pt_res_true 'len(r) == 3' ||
	    pt_fail "resources after the re-join: $(pt_res r)" || return 1
	[ "$(grep -c 'portal: init with 3 resources' "$TLOG")" = 2 ] ||
	    pt_fail "no second init" || return 1
	pt_no_violations || return 1
	pt_alive
}

# 8. disconnect {reason: token_expired}: signed out, token discarded (1.7:
# like 401 invalid_token), no reconnect.
t_portal_token_expired() {
	pt_setup expired || return 1
	pt_connected || return 1
	pt_ctl '{"cmd": "disconnect", "reason": "token_expired"}' ||
	    return 1
	wait_until 5 pt_pstate_is signed_out ||
	    pt_fail "not signed out after disconnect token_expired" ||
	    return 1
	status_field "$PT_DIR" portal.reason
	pt_wait disconnected "" 5 || pt_fail "connection left open" ||
	    return 1
	wait_until 5 test ! -e "$PT_DIR/token" ||
	    pt_fail "token file kept after token_expired" || return 1
	pt_alive || return 1
	pt_attempts_stay 1 2 || return 1
	pt_no_violations
}

# pt_tls_refused PATTERN: the instance in PT_DIR (its portal in PT_SOCK)
# cannot connect because of TLS: waiting, a reason matching PATTERN in
# fzc status and in controld's log, retried, nothing reached the stub.
pt_tls_refused() {
	local reason
	wait_until 15 eval '[ "$(pt_pstate)" = waiting ]' ||
	    pt_fail "state $(pt_pstate), not waiting" || return 1
	reason=$(status_field "$PT_DIR" portal.reason)
	echo "reason: $reason"
	echo "$reason" | grep -Eiq -- "$1" ||
	    pt_fail "reason '$reason' does not say why ($1)" || return 1
	grep 'portal: waiting' "$TLOG" | grep -Eiq -- "$1" ||
	    pt_fail "controld did not log why" || return 1
	# Retried as a hiccup (1 s apart while never connected).
	retried() {
		[ "$(grep -c 'portal: connecting' "$TLOG")" -ge 3 ]
	}
	wait_until 15 retried || pt_fail "not retried" || return 1
	wait_until 5 eval '[ "$(pt_pstate)" = waiting ]' ||
	    pt_fail "state $(pt_pstate) after retries, not waiting" ||
	    return 1
	[ "$(pt_state 'v["connection_attempts"]')" = 0 ] ||
	    pt_fail "an HTTP request got through" || return 1
	[ -e "$PT_DIR/token" ] || pt_fail "token file lost" || return 1
	pt_no_violations || return 1
	pt_alive
}

# 9. TLS: a server certificate from another CA, then one for another host
# name (signed by the right CA): refused with a clear reason, retried.
t_portal_tls() {
	pt_ca "$WORK/otherca" || fail "cannot make a CA" || return 1
	PT_CAFILE=$WORK/otherca/ca.crt pt_setup tlsca || return 1
	pt_tls_refused 'certificate|issuer|verif' || return 1
	pt_cert "$WORK/pki" other other.test "DNS:other.test" ||
	    fail "cannot make a certificate" || return 1
	PT_CERT=other pt_setup tlshost || return 1
	pt_tls_refused 'name|host' || return 1
	! grep -q "$PT_TOKEN" "$TLOG" || fail "token in the log"
}

# pt_ctl_file FILE: the stub commands in FILE (one JSON a line, any size)
# on one control connection; false at the first one that fails.
pt_ctl_file() {
	/usr/bin/python3 - "$PT_SOCK" "$1" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
f = s.makefile("rwb")
for line in open(sys.argv[2], "rb"):
    f.write(line)
    f.flush()
    a = json.loads(f.readline())
    if not a.get("ok"):
        sys.exit("stub refused %s...: %s" % (line[:80], a))
PY
}

# pt_malformed HALF OUT: the commands of one half of the malformed-frame
# test: 24 frames that are broken JSON, Phoenix or payloads, each followed
# by a good resource_created_or_updated (create_resource); then OUT.utf8
# gets a text frame that is not UTF-8 and OUT.last one more good
# resource. Good
# resource n of half h: id gid(h*25+n), 10.100.(h*25+n).0/24, "good-N".
# Broken ones that could be taken for resources use bad ids, which must
# never show up.
pt_malformed() {
	python3 - "$1" "$2" "$PT_SITE" <<'PY'
import base64, json, sys
h, out, site = int(sys.argv[1]), sys.argv[2], sys.argv[3]
gid = lambda i: "%08x-1111-4111-8111-%012x" % (i, i)
bid = lambda i: "%08x-dead-4bad-8bad-%012x" % (i, i)
sites = [{"id": site, "name": "HQ"}]

def res(i, good, **kw):
    r = {"id": gid(i) if good else bid(i), "type": "cidr",
         "address": "10.%d.%d.0/24" % (100 if good else 200, i),
         "name": ("good-%d" if good else "bad-%d") % i,
         "address_description": None, "filters": [], "sites": sites}
    for k, v in kw.items():
        if v is None:
            r.pop(k)
        else:
            r[k] = v
    return r

def frame(event, payload, **kw):
    f = {"topic": "client", "event": event, "payload": payload, "ref": None}
    f.update(kw)
    return json.dumps(f)

RCU = "resource_created_or_updated"
# The stub's control channel reads lines of up to 64 KiB: the huge
# strings are 60,000 characters (UUIDs are 36).
big = "x" * 60000
b = lambda k: h * 100 + k      # bad resource numbers of this half
first_good = h * 25
broken = [
    # bad JSON
    "this is not JSON at all",
    frame(RCU, res(b(1), False))[:-9],
    frame(RCU, res(b(2), False)) + " trailing",
    frame(RCU, res(b(3), False)).replace('"ref": null',
                                         '"ref": null, "ref": null'),
    frame(RCU, res(b(4), False)).replace('"filters": []',
                                         '"filters": NaN'),
    "",
    # V2 array form instead of V1's object
    json.dumps([None, None, "client", RCU, res(b(6), False)]),
    # wrong types
    frame(RCU, res(b(7), False), topic=5),
    frame(["x"], res(b(8), False)),
    frame(RCU, "a string"),
    frame(RCU, res(b(11), False, id=12345)),
    frame(RCU, res(b(13), False, address=10)),
    frame(RCU, res(b(14), False, sites="HQ")),
    frame("resource_deleted", {"id": gid(first_good)}),
    frame("init", {"interface": {"ipv4": "100.64.9.9"}, "resources": "x",
                   "relays": [], "authorizations": []}),
    # missing keys
    frame(RCU, res(b(17), False, type=None)),
    json.dumps({"topic": "client", "payload": res(b(18), False),
                "ref": None}),
    # huge strings
    frame(big, res(b(19), False)),
    frame(RCU, res(b(20), False, name=big, address=12345)),
    frame(RCU, res(b(21), False, id=big)),
    frame(RCU, res(b(25), False), topic=big),
    # deep nesting
    frame(RCU, None).replace("null", "[" * 30000 + "]" * 30000, 1),
    frame(RCU, res(b(22), False, type=None)).replace(
        '"filters": []', '"filters": ' + '{"a": ' * 5000 + '1' + '}' * 5000),
    # a lone surrogate: not Unicode
    frame(RCU, res(b(23), False, address=5)).replace('"bad-',
                                                     '"\\udc80bad-'),
]
assert len(broken) == 24
with open(out, "w") as f:
    for n, text in enumerate(broken):
        print(json.dumps({"cmd": "push", "raw": text}), file=f)
        print(json.dumps({"cmd": "create_resource",
                          "resource": res(h * 25 + n, True)}), file=f)
# The 25th: invalid UTF-8 on the wire, then the 25th good one.
with open(out + ".utf8", "w") as f:
    raw = frame(RCU, res(b(24), False)).encode().replace(b"bad-",
                                                         b"\xff\xfebad-")
    print(json.dumps({"cmd": "push",
                      "raw_b64": base64.b64encode(raw).decode()}), file=f)
with open(out + ".last", "w") as f:
    print(json.dumps({"cmd": "create_resource",
                      "resource": res(h * 25 + 24, True)}), file=f)
PY
}

# pt_rss PID: VmRSS in kB.
pt_rss() {
	sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"
}

# pt_goods N: exactly the 3 resources of the init and good ones 0..N-1.
pt_goods() {
	pt_res_true "sorted(r) == sorted(['$PT_CIDR', '$PT_DNS', '$PT_INET'] +
	    ['%08x-1111-4111-8111-%012x' % (i, i) for i in range($1)]) and
	    all(r['%08x-1111-4111-8111-%012x' % (i, i)]['name'] ==
	        'good-%d' % i for i in range($1))"
}

# 10. 50 malformed frames interleaved with 50 good pushes: every good one
# applied, no broken one, daemons alive, controld's memory not growing,
# and no leak when it exits.
t_portal_malformed() {
	local cpid h conns rss=() dropped asan= bound=256
	# Under ASan freed memory sits in a quarantine (256 MB) and RSS only
	# grows: without it RSS says whether memory is reused. ASan's own
	# allocator and shadow memory still add some 500 kB between the
	# halves (20 kB without ASan), and LeakSanitizer checks at the exit.
	if grep -q __asan_init "$B/fzc-controld"; then
		asan=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0
		bound=1024
	fi
	ASAN_OPTIONS=$asan pt_setup malformed || return 1
	pt_connected || return 1
	wait_until 5 pt_res_true 'len(r) == 3' || pt_fail "no init" ||
	    return 1
	cpid=$(controld_pid "$PT_DIR")
	rss+=("$(pt_rss "$cpid")")
	for h in 0 1; do
		pt_malformed "$h" "$WORK/half$h" ||
		    fail "cannot make the frames" || return 1
		conns=$(pt_state 'v["connection_count"]')
		pt_ctl_file "$WORK/half$h" || pt_fail "stub commands" ||
		    return 1
		# Broken JSON, Phoenix frames or payloads are dropped and
		# the session goes on: same connection, all good ones in.
		wait_until 10 pt_goods $((h * 25 + 24)) ||
		    pt_fail "half $h: good resources missing or broken ones applied: $(pt_res 'sorted(x["name"] or "-" for x in r.values())' | cut -c1-600)" ||
		    return 1
		[ "$(pt_state 'v["connection_count"]')" = "$conns" ] ||
		    pt_fail "half $h: the connection was dropped" || return 1
		pt_alive || return 1
		# A text frame that is not UTF-8 fails the WebSocket (RFC 6455
		# 8.1); the client connects again, the session goes on.
		pt_ctl_file "$WORK/half$h.utf8" || pt_fail "stub commands" ||
		    return 1
		pt_wait connections $((conns + 1)) 10 ||
		    pt_fail "half $h: the connection survived a text frame that is not UTF-8" ||
		    return 1
		pt_connected 10 || return 1
		pt_ctl_file "$WORK/half$h.last" || pt_fail "stub commands" ||
		    return 1
		wait_until 15 pt_goods $((h * 25 + 25)) ||
		    pt_fail "half $h: after the non-UTF-8 frame: $(pt_res 'len(r)')" ||
		    return 1
		pt_alive || return 1
		[ "$(controld_pid "$PT_DIR")" = "$cpid" ] ||
		    pt_fail "controld was restarted" || return 1
		rss+=("$(pt_rss "$cpid")")
	done
	echo "controld VmRSS: start ${rss[0]} kB, after half 1 ${rss[1]} kB, after half 2 ${rss[2]} kB"
	[ $((rss[2] - rss[1])) -le "$bound" ] ||
	    pt_fail "controld's RSS grew by $((rss[2] - rss[1])) kB in the second half (bound $bound kB)" ||
	    return 1
	[ "$(status_field "$PT_DIR" tunneld.controld_restarts)" = 0 ] ||
	    pt_fail "controld restarted" || return 1
	# A clean exit (with ASan: LeakSanitizer found nothing).
	kill -TERM "$TPID"
	wait_until 10 eval '! kill -0 "$TPID" 2>/dev/null' ||
	    pt_fail "tunneld did not stop" || return 1
	grep -q "controld (pid $cpid) exited with status 0" "$TLOG" &&
	    ! grep -q -e 'Sanitizer' -e 'runtime error' "$TLOG" ||
	    { grep -A20 -e 'Sanitizer' -e 'runtime error' -e "pid $cpid" \
	    "$TLOG" | head -n 30; fail "controld did not exit cleanly"; } ||
	    return 1
	# Each dropped frame was logged with a reason: 22 a half, all but the
	# unknown event and the unknown topic, which are merely ignored.
	dropped=$(grep -cE 'portal: (malformed .* dropped|frame dropped)' "$TLOG")
	echo "$dropped frames logged as dropped:"
	grep -E 'portal: (malformed .* dropped|frame dropped)' "$TLOG" |
	    cut -c1-160 | sort | uniq -c | sort -rn
	[ "$dropped" -ge 44 ] ||
	    fail "only $dropped of the 44 malformed frames logged as dropped (with a reason)" ||
	    return 1
	pt_no_violations
}

# 11. fzc sign-out: token file deleted, signed out, connection closed.
t_portal_sign_out() {
	pt_setup signout || return 1
	pt_connected || return 1
	fzc_cli "$PT_DIR" sign-out || pt_fail "fzc sign-out failed" ||
	    return 1
	[ ! -e "$PT_DIR/token" ] || pt_fail "token file kept" || return 1
	pt_pstate_is signed_out || pt_fail "state $(pt_pstate)" || return 1
	status_field "$PT_DIR" portal.reason
	pt_wait disconnected "" 5 ||
	    pt_fail "the connection is still open at the stub" || return 1
	pt_alive || return 1
	pt_attempts_stay 1 2 || return 1
	pt_pstate_is signed_out || pt_fail "state $(pt_pstate)" || return 1
	pt_no_violations
}

# ---------------------------------------------------------------------------
# The gateway role of fzc-controld (PROTOCOL.md 3), against the stub, with
# a stand-in for fzc-tunneld: pt_fake_tunneld writes a Python program that
# starts fzc-controld as the fzc user on an IPC socketpair, gives it the
# gateway role and a token, passes the sockets it asks for, acknowledges
# every state message (IPC_CLIENT_PEER for a client id starting with "e"
# with EINVAL), and logs what it gets as JSON lines. After an accepted
# IPC_CLIENT_PEER it reports two local candidates, withdraws one and says
# it has no relay, for that client, as the data plane would. What it shares
# with the golden-frame driver is in tunneld_standin.py.
pt_fake_tunneld() {
	cat <<'PY'
import errno, json, os, signal, socket, struct, sys
from tunneld_standin import Ipc, cstr

ipc_h, controld, ctlsock, token, api, ca, log = sys.argv[1:8]
I = Ipc(ipc_h)
T = I.T
out = open(log, "w", buffering=1)

def put(**kw):
    out.write(json.dumps(kw) + "\n")

def prefix(b):
    fam, plen = b[0], b[1]
    a = socket.inet_ntop(socket.AF_INET if fam == socket.AF_INET else
                         socket.AF_INET6, b[4:8] if fam == socket.AF_INET
                         else b[4:20]) if fam else ""
    return "%s/%d" % (a, plen)

def resource(b):
    n = b[41]
    f = [struct.unpack_from("=BBHH", b, 64 + 6 * i) for i in range(n)]
    return {"id": cstr(b[:40]), "type": b[40], "prefix": prefix(b[44:64]),
            "filters": [[p, s, e] for p, _, s, e in f]}

def decode(t, p):
    d = {}
    if t == T["IPC_TUN_ADDRESSES"]:
        d = {"ipv4": prefix(p[:20]), "ipv6": prefix(p[20:40])}
    elif t in (T["IPC_RELAY_ADD"], T["IPC_RELAY_DEL"]):
        d = {"id": cstr(p[:40])}
    elif t == T["IPC_CLIENT_PEER"]:
        d = {"client_id": cstr(p[:40]), "client_ipv4": prefix(p[104:124]),
             "local_ufrag": cstr(p[144:400]),
             "remote_ufrag": cstr(p[656:912]),
             "expires_at": struct.unpack_from("=q", p, 1168)[0],
             "resource": resource(p[1176:1432])}
    elif t == T["IPC_ACCESS_DEL"]:
        d = {"client_id": cstr(p[:40]), "resource_id": cstr(p[40:80])}
    elif t == T["IPC_GW_RESOURCE"]:
        d = {"resource": resource(p)}
    elif t == T["IPC_AUTHZ_KEEP"]:
        n = struct.unpack_from("=I", p)[0]
        d = {"pairs": [[cstr(p[8 + 80 * i:48 + 80 * i]),
                        cstr(p[48 + 80 * i:88 + 80 * i])] for i in range(n)]}
    elif t in (T["IPC_REMOTE_CANDIDATE"], T["IPC_REMOTE_CANDIDATE_DEL"]):
        d = {"peer": cstr(p[:40]), "candidate": cstr(p[40:296])}
    return d

I.start_controld(controld, ctlsock)
pid = I.pid
send = I.send

def stop(*_):
    os.kill(pid, signal.SIGTERM)
    st = os.waitpid(pid, 0)[1]
    sys.stderr.write("fake tunneld: controld exited with status %d\n" %
                     os.waitstatus_to_exitcode(st))
    sys.exit(0)

signal.signal(signal.SIGTERM, stop)

def cand(cid, c):
    return cid.encode().ljust(40, b"\0") + c.encode().ljust(256, b"\0")

I.hello()
while True:
    m = I.recv()
    if m is None:
        break
    t, p, id_ = m
    put(type=I.NAME.get(t, str(t)), ipc_id=id_, **decode(t, p))
    if t == T["IPC_HELLO"]:
        I.configure(api, ca, "fzc-it-gw", True, token)
    elif I.answer(t, p, id_):
        continue
    elif t in I.STATE:
        err = 0
        cid = decode(t, p).get("client_id", "")
        if t == T["IPC_CLIENT_PEER"] and cid.startswith("e"):
            err = errno.EINVAL
        send(T["IPC_STATE_ACK"], struct.pack("=Ii", t, err), id_)
        if t == T["IPC_CLIENT_PEER"] and err == 0:
            send(T["IPC_LOCAL_CANDIDATE"], cand(cid, "candidate:1 1 udp "
                 "2130706431 10.0.0.2 52625 typ host"))
            send(T["IPC_LOCAL_CANDIDATE"], cand(cid, "candidate:2 1 udp "
                 "1694498815 192.0.2.7 40000 typ srflx raddr 10.0.0.2 "
                 "rport 52625"))
            send(T["IPC_LOCAL_CANDIDATE_DEL"], cand(cid, "candidate:1 1 "
                 "udp 2130706431 10.0.0.2 52625 typ host"))
            send(T["IPC_NO_RELAYS"], cid.encode().ljust(40, b"\0"))
stop()
PY
}

# pt_gw_state EXPR: EXPR over v, the stub's state for the gateway role.
pt_gw_state() {
	/usr/bin/python3 "$PT_STUB" ctl "$PT_SOCK" \
	    '{"cmd":"state","role":"gateway"}' | python3 -c '
import json, sys
v = json.loads(sys.stdin.readline())
m = [x for x in v["messages"] if x["topic"] == "gateway"]
r = eval(sys.argv[1])
print(r if isinstance(r, str) else json.dumps(r))' "$1"
}

# pt_gw_ipc EXPR: EXPR over l, the IPC messages the fake tunneld got.
pt_gw_ipc() {
	python3 -c '
import json, sys
l = [json.loads(x) for x in open(sys.argv[2])]
r = eval(sys.argv[1])
print(r if isinstance(r, str) else json.dumps(r))' "$1" "$PT_GWLOG"
}

pt_gw_ipc_true() {
	[ "$(pt_gw_ipc "bool($1)")" = true ]
}

pt_gw_state_true() {
	[ "$(pt_gw_state "bool($1)")" = true ]
}

# 12. The gateway role: URL, User-Agent and topic; init to tunneld (tunnel
# addresses, relays, the authorizations kept); create_authorization to
# IPC_CLIENT_PEER and, after tunneld's ack, authorization_created {ref}
# (nothing after a refusal); candidates both ways, batched per client;
# no_relays; reject_access and resource_updated; token_expired stops it
# without a reconnect storm, and keeps the token. No violation at the end.
t_portal_gateway_role() {
	local d ref=SFMyNTY.g2gDaAJtAAAAJGZ6Yy1pdC1yZWY cid cid2 rid=$PT_CIDR
	local ca cc
	cid=d2b6f1a0-3c4e-4f5a-9b8c-7d6e5f4a3b2c
	cid2=e2b6f1a0-3c4e-4f5a-9b8c-7d6e5f4a3b2c
	new_netns PT_NS gw || return 1
	d=$WORK/gw
	mkdir -p "$d/run" && chmod 755 "$d" && chown fzc "$d/run" || return 1
	PT_DIR=$d
	PT_SOCK=$d/portal.sock
	PT_PKI=$WORK/pki
	PT_GWLOG=$d/ipc.jsonl
	pt_ca "$PT_PKI" && pt_cert "$PT_PKI" srv 127.0.0.1 \
	    "DNS:portal.test,IP:127.0.0.1" || fail "no test PKI" || return 1
	pt_scenario '"authorizations": []' >"$d/scenario.json"
	pt_stub "$PT_NS" "$PT_SOCK" "$PT_PKI/srv" "$d/scenario.json" \
	    127.0.0.1:0 || return 1
	pt_fake_tunneld >"$d/fake_tunneld.py"
	TLOG=$d/controld.log
	PYTHONPATH=$SRCDIR/tests/integration \
	    ip netns exec "$PT_NS" /usr/bin/python3 "$d/fake_tunneld.py" \
	    "$SRCDIR/ipc/ipc.h" "$B/fzc-controld" "$d/run/control.sock" \
	    "$PT_TOKEN" "wss://127.0.0.1:$PT_PORT" "$PT_PKI/ca.crt" \
	    "$PT_GWLOG" 2>"$TLOG" &
	TPID=$!
	PIDS+=("$TPID")
	pt_ctl '{"cmd":"wait","what":"joined","role":"gateway","timeout":10}' ||
	    pt_fail "the gateway never joined" || return 1

	# Connect (1.2-1.4, 3): path, query, User-Agent, topic.
	pt_gw_state 'v["last_path"] + " " + v["last_query"]'
	pt_gw_state 'v["last_user_agent"]'
	pt_gw_state_true 'v["last_path"] == "/gateway/v2/websocket" and
	    v["last_query"].startswith("external_id=") and
	    "&name=fzc-it-gw&public_key=" in v["last_query"]' ||
	    pt_fail "path or query" || return 1
	pt_gw_state_true '" gateway/1.5.6 (" in v["last_user_agent"]' ||
	    pt_fail "User-Agent" || return 1
	pt_ctl '{"cmd":"wait","what":"message","value":"set_snownet_capabilities","role":"gateway"}' ||
	    pt_fail "no set_snownet_capabilities after the join" || return 1
	[ "$(status_field "$d" portal.role)" = gateway ] ||
	    pt_fail "status role $(status_field "$d" portal.role)" || return 1

	# init: tunnel addresses, both relay addresses, the (empty) keep list.
	wait_until 5 pt_gw_ipc_true '[x for x in l if x["type"] == "IPC_AUTHZ_KEEP" and x["pairs"] == []]' ||
	    pt_fail "no IPC_AUTHZ_KEEP: $(cat "$PT_GWLOG")" || return 1
	pt_gw_ipc '[x["type"] for x in l if x["type"].startswith("IPC_") and x["type"] not in ("IPC_HELLO", "IPC_SOCKET_REQUEST")]'
	pt_gw_ipc_true '[x["type"] for x in l if x["type"] in ("IPC_TUN_ADDRESSES", "IPC_RELAY_ADD", "IPC_AUTHZ_KEEP")] == ["IPC_TUN_ADDRESSES", "IPC_RELAY_ADD", "IPC_RELAY_ADD", "IPC_AUTHZ_KEEP"]' ||
	    pt_fail "init order" || return 1

	# create_authorization -> IPC_CLIENT_PEER -> ack -> authorization_created.
	ca=$(python3 -c '
import json, sys
p = json.load(open(sys.argv[1] + "/tests/unit/data/portal/gw_create_authorization.json"))
p["ref"] = sys.argv[2]
p["client"]["id"] = sys.argv[3]
print(json.dumps({"cmd": "push", "role": "gateway",
                  "event": "create_authorization", "payload": p}))' \
	    "$SRCDIR" "$ref" "$cid")
	pt_ctl "$ca" || pt_fail "push create_authorization" || return 1
	pt_ctl '{"cmd":"wait","what":"message","value":"authorization_created","role":"gateway"}' ||
	    pt_fail "no authorization_created" || return 1
	pt_gw_state_true "[x['payload'] for x in m if x['event'] == 'authorization_created'] == [{'ref': '$ref'}]" ||
	    pt_fail "authorization_created: $(pt_gw_state 'm')" || return 1
	pt_gw_ipc_true "[x for x in l if x['type'] == 'IPC_CLIENT_PEER' and
	    x['client_id'] == '$cid' and x['local_ufrag'] == 'xk4q' and
	    x['remote_ufrag'] == 'mfrg' and x['client_ipv4'] == '100.71.34.9/32' and
	    x['expires_at'] == 1767225600 and x['resource']['prefix'] == '10.20.0.0/16' and
	    x['resource']['filters'] == [[6, 80, 80], [6, 443, 500], [17, 53, 53], [1, 0, 0]]]" ||
	    pt_fail "IPC_CLIENT_PEER: $(grep CLIENT_PEER "$PT_GWLOG")" || return 1
	# The data plane's candidates: the two additions in one message.
	pt_ctl '{"cmd":"wait","what":"message","value":"broadcast_invalidated_ice_candidates","role":"gateway"}' ||
	    pt_fail "no broadcast_invalidated_ice_candidates" || return 1
	pt_gw_state "[(x['event'], x['payload']) for x in m if x['event'].startswith('broadcast')]"
	pt_gw_state_true "[len(x['payload']['candidates']) for x in m if x['event'] == 'broadcast_ice_candidates'] == [2] and
	    all(x['payload']['client_ids'] == ['$cid'] for x in m if x['event'].startswith('broadcast'))" ||
	    pt_fail "candidates not batched per client" || return 1
	pt_ctl '{"cmd":"wait","what":"message","value":"no_relays","role":"gateway"}' ||
	    pt_fail "no no_relays" || return 1
	# The stub answers no_relays with relays_presence: the relays again.
	wait_until 5 pt_gw_ipc_true '[x["type"] for x in l].count("IPC_RELAY_ADD") == 4' ||
	    pt_fail "relays_presence not shipped" || return 1

	# A refused peer: logged, no authorization_created.
	cc=${ca//$cid/$cid2}
	pt_ctl "${cc//$ref/$ref-2}" || pt_fail "push create_authorization" ||
	    return 1
	wait_until 5 grep -q "tunneld refused client $cid2 for resource $rid" \
	    "$TLOG" || pt_fail "refusal not logged" || return 1
	sleep 0.5
	pt_gw_state_true "len([x for x in m if x['event'] == 'authorization_created']) == 1" ||
	    pt_fail "authorization_created after a refusal" || return 1
	# A resource of a type the gateway does not serve: refused with a
	# reason.
	pt_ctl "${ca//\"cidr\"/\"static_device_pool\"}" || return 1
	wait_until 5 grep -q "create_authorization refused: resource.type: a type fzc's gateway does not know" \
	    "$TLOG" || pt_fail "unknown resource type not refused" || return 1

	# The portal's candidates, reject_access, resource_updated.
	pt_ctl "{\"cmd\":\"push\",\"role\":\"gateway\",\"event\":\"ice_candidates\",
	    \"payload\":{\"client_id\":\"$cid\",\"candidates\":[
	    \"candidate:9 1 udp 2130706431 10.9.0.2 52625 typ host\"]}}" \
	    "{\"cmd\":\"push\",\"role\":\"gateway\",\"event\":\"reject_access\",
	    \"payload\":{\"client_id\":\"$cid\",\"resource_id\":\"$rid\"}}" \
	    "{\"cmd\":\"push\",\"role\":\"gateway\",\"event\":\"resource_updated\",
	    \"payload\":{\"id\":\"$rid\",\"type\":\"cidr\",\"address\":\"10.20.0.0/16\",
	    \"name\":\"HQ LAN\",\"filters\":[{\"protocol\":\"udp\"}]}}" ||
	    pt_fail "pushes" || return 1
	wait_until 5 pt_gw_ipc_true "[x for x in l if x['type'] == 'IPC_GW_RESOURCE' and
	    x['resource']['filters'] == [[17, 0, 65535]]]" ||
	    pt_fail "no IPC_GW_RESOURCE" || return 1
	pt_gw_ipc_true "[x for x in l if x['type'] == 'IPC_REMOTE_CANDIDATE' and
	    x['peer'] == '$cid' and x['candidate'].startswith('candidate:9 ')] and
	    [x for x in l if x['type'] == 'IPC_ACCESS_DEL' and
	    x == dict(x, client_id='$cid', resource_id='$rid')]" ||
	    pt_fail "IPC: $(cat "$PT_GWLOG")" || return 1

	# Every init is followed by its keep list.
	pt_ctl '{"cmd":"send_init","role":"gateway"}' || return 1
	wait_until 5 pt_gw_ipc_true "[x['type'] for x in l].count('IPC_AUTHZ_KEEP') == 2" ||
	    pt_fail "no IPC_AUTHZ_KEEP after the second init" || return 1
	pt_no_violations || return 1

	# token_expired: stopped, token kept, no reconnect.
	pt_ctl '{"cmd":"disconnect","role":"gateway","reason":"token_expired"}' ||
	    return 1
	wait_until 5 eval '[ "$(status_field "$d" portal.state)" = signed_out ]' ||
	    pt_fail "state $(status_field "$d" portal.state)" || return 1
	status_field "$d" portal.reason
	sleep 3
	[ "$(pt_gw_state 'v["connection_attempts"]')" = 1 ] ||
	    pt_fail "reconnected after token_expired" || return 1
	! grep -q IPC_TOKEN_DELETE "$PT_GWLOG" ||
	    pt_fail "the gateway token was deleted" || return 1
	grep -q 'gateway (token_expired)' "$TLOG" ||
	    pt_fail "no clear log line" || return 1
	pt_no_violations || return 1
	# A clean exit (with ASan: LeakSanitizer found nothing).
	kill -TERM "$TPID"
	wait_until 10 grep -q 'controld exited' "$TLOG" ||
	    pt_fail "controld did not stop" || return 1
	grep -q 'controld exited with status 0' "$TLOG" &&
	    ! grep -q -e 'Sanitizer' -e 'runtime error' "$TLOG" ||
	    { grep -A20 -e 'Sanitizer' -e 'runtime error' "$TLOG" |
	    head -n 30; fail "controld did not exit cleanly"; }
}
