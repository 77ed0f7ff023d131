# tests_gui.sh: the control socket's watch subscription (issue 12) and, under
# Xvfb, the GUI (fzc-gui) against the real daemons and the stub portal.
# Uses the pt_* helpers of tests_portal.sh.

# gw_events FILE EXPR: EXPR over evs, the events `fzc --json status --watch`
# wrote to FILE (one JSON object a line), holds.
gw_events() {
	python3 -c '
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$1" "$2"
}

# gw_last KIND: the last event of that kind, as (lambda e: ...) sees it.
gw_last() {
	echo "[e for e in evs if e.get('event') == '$1'][-1]"
}

# 1. A watcher gets the state at once, then every change the portal makes
# (resource created, renamed, deleted), the Internet switch and sign-out,
# each pushed on the one connection it opened; a wrong version is refused.
t_watch_pushes_changes() {
	local id=2b9c4d6e-8f10-4a2b-9c3d-4e5f60718293 res out wpid
	pt_setup watch || return 1
	pt_connected || return 1
	out=$WORK/watch.out
	fzc_cli "$PT_DIR" --json status --watch >"$out" 2>"$WORK/watch.err" &
	wpid=$!
	PIDS+=("$wpid")
	wait_until 5 gw_events "$out" "evs[0] == {'ok': True, 'version': 1}
	    and len($(gw_last resources)['resources']) == 3 and
	    $(gw_last portal)['portal']['state'] == 'connected' and
	    $(gw_last portal)['portal']['internet'] == 'off'" ||
	    pt_fail "first events: $(cat "$out")" || return 1
	res='{"id": "'$id'", "type": "cidr", "address": "10.30.0.0/24",
	    "name": "Lab", "address_description": null, "filters": [],
	    "sites": [{"id": "'$PT_SITE'", "name": "HQ"}]}'
	pt_ctl "{\"cmd\": \"create_resource\", \"resource\": $res}" ||
	    fail "create_resource" || return 1
	wait_until 5 gw_events "$out" "any(r['name'] == 'Lab' and
	    r['address'] == '10.30.0.0/24' and r['site'] == 'HQ'
	    for r in $(gw_last resources)['resources'])" ||
	    pt_fail "new resource not pushed: $(tail -n 2 "$out")" || return 1
	pt_ctl "{\"cmd\": \"update_resource\", \"resource\":
	    ${res/\"Lab\"/\"Lab 2\"}}" || fail "update_resource" || return 1
	wait_until 5 gw_events "$out" "[r['name'] for r in
	    $(gw_last resources)['resources'] if r['id'] == '$id'] ==
	    ['Lab 2']" ||
	    pt_fail "rename not pushed: $(tail -n 2 "$out")" || return 1
	pt_ctl "{\"cmd\": \"delete_resource\", \"id\": \"$id\"}" ||
	    fail "delete_resource" || return 1
	wait_until 5 gw_events "$out" "len($(gw_last resources)['resources'])
	    == 3" || pt_fail "delete not pushed: $(tail -n 2 "$out")" ||
	    return 1
	fzc_cli "$PT_DIR" internet on >/dev/null || fail "internet on" ||
	    return 1
	wait_until 5 gw_events "$out" "$(gw_last portal)['portal']['internet']
	    == 'on'" || pt_fail "Internet switch not pushed" || return 1
	fzc_cli "$PT_DIR" sign-out >/dev/null || fail "sign-out" || return 1
	wait_until 5 gw_events "$out" "$(gw_last portal)['portal']['state']
	    == 'signed_out'" || pt_fail "sign-out not pushed" || return 1
	# Events only: the watcher never got a second reply.
	gw_events "$out" "sum('ok' in e for e in evs) == 1 and
	    all(e.get('event') in ('portal', 'resources', 'peers')
	    for e in evs[1:])" || fail "stray lines: $(cat "$out")" ||
	    return 1
	kill -0 "$wpid" || fail "the watcher exited: $(cat "$WORK/watch.err")" ||
	    return 1
	# Another version of the protocol is refused with a reason.
	[ "$(python3 -c '
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"{\"command\":\"watch\",\"version\":2}\n")
print(json.loads(s.makefile().readline())["error"])' \
	    "$PT_DIR/run/control.sock")" = "unsupported protocol version; \
this fzc-controld speaks version 1" ] || fail "version 2 not refused" ||
	    return 1
	pt_no_violations || return 1
	pt_alive
}
