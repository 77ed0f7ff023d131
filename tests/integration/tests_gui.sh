# tests_gui.sh: the control socket's watch subscription (issue 12) and, under
# Xvfb, the GUI (fzc-gui) against the real daemons and the stub portal.
# Uses the pt_* helpers of lib_portal.sh.

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
	    r['address'] == '10.30.0.0/24' and r['site'] == 'HQ' and
	    r['status'] == 'unknown'
	    for r in $(gw_last resources)['resources'])" ||
	    pt_fail "new resource not pushed: $(tail -n 2 "$out")" || return 1
	# A refusal is the only word the portal says of a site's presence.
	pt_ctl "{\"cmd\": \"push\", \"event\":
	    \"authorization_creation_failed\", \"payload\":
	    {\"resource_id\": \"$id\", \"reason\": \"offline\"}}" ||
	    fail "push authorization_creation_failed" || return 1
	wait_until 5 gw_events "$out" "[(r['status'],
	    r['authorization_failed']) for r in
	    $(gw_last resources)['resources'] if r['id'] == '$id'] ==
	    [('failed', 'offline')]" ||
	    pt_fail "refusal not pushed: $(tail -n 2 "$out")" || return 1
	fzc_cli "$PT_DIR" resources | grep -q ' failed (offline)$' ||
	    fail "fzc resources: $(fzc_cli "$PT_DIR" resources)" || return 1
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
	kill -0 "$wpid" ||
	    fail "the watcher exited: $(cat "$WORK/watch.err")" || return 1
	# The human form: a header per event, then the part that changed.
	fzc_cli "$PT_DIR" status --watch >"$WORK/watch.txt" 2>&1 &
	PIDS+=($!)
	wait_until 5 grep -q \
	    '^portal:    signed_out (signed out), client role$' \
	    "$WORK/watch.txt" &&
	    grep -qx -- '--- resources' "$WORK/watch.txt" ||
	    fail "human output: $(cat "$WORK/watch.txt")" || return 1
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

# gw_paths FILE: the paths of the peers in the last peers event.
gw_paths() {
	echo "[p.get('path') for p in $(gw_last peers)['peers']]"
}

# gw_asked: how often controld asked the client's tunneld for counters.
gw_asked() {
	grep -c 'controld asked for the counters' "$E2E_CDIR/tunneld.log"
}

# 2. End to end (a gateway, coturn): the authorization of a resource and
# its peer's path are pushed to a watcher, then the move to the relay when
# the direct path is blocked. tunneld pushes them (IPC_PEER_PATH): nobody
# asks it for counters meanwhile, and the peer carries what only the push
# and the portal tell, its gateway id, its site and its resources.
t_watch_peer_path() {
	local out=$WORK/watch.out asked
	e2e_topology flat || return 1
	asked=$(gw_asked)
	fzc_cli "$E2E_CDIR" --json status --watch >"$out" 2>"$WORK/watch.err" &
	PIDS+=($!)
	wait_until 5 gw_events "$out" "$(gw_paths) == []" ||
	    fail "no empty peers event first: $(cat "$out")" || return 1
	te_first_packet 10.20.0.2 >/dev/null || return 1
	wait_until 5 gw_events "$out" "any(r['id'] == '$E2E_RES1' and
	    r['authorized'] for r in $(gw_last resources)['resources'])" ||
	    fail "authorization not pushed: $(tail -n 3 "$out")" || return 1
	wait_until 10 gw_events "$out" "$(gw_paths) == ['direct']" ||
	    fail "direct path not pushed: $(tail -n 3 "$out")" || return 1
	gw_events "$out" "[(p['kind'], p['state'], p['site'],
	    len(p['public_key'])) for p in $(gw_last peers)['peers']] ==
	    [('gateway', 'connected', 'Site A', 44)] and
	    [p['id'] for p in $(gw_last peers)['peers']] ==
	    [r['gateway'] for r in $(gw_last resources)['resources']
	    if r['id'] == '$E2E_RES1'] and
	    [r['status'] for r in $(gw_last resources)['resources']
	    if r['id'] == '$E2E_RES1'] == ['connected']" ||
	    fail "peer not named: $(tail -n 3 "$out")" || return 1
	te_ping_bg "$WORK/ping.txt" 10.20.0.2
	e2e_block_direct || return 1
	wait_until 20 gw_events "$out" "$(gw_paths) == ['relayed']" ||
	    fail "relayed path not pushed: $(tail -n 3 "$out");" \
	    "now: $(e2e_peer_path)" || return 1
	kill "$TE_PING"
	gw_events "$out" "[(p['relay_of'], 'relay' in p) for p in
	    $(gw_last peers)['peers']] in ([('us', True)], [('peer', True)])" ||
	    fail "no relay named: $(tail -n 1 "$out")" || return 1
	[ "$(gw_asked)" = "$asked" ] ||
	    fail "controld polled tunneld: $(($(gw_asked) - asked)) times" ||
	    return 1
	# Counters move all the time; a peers event only when a path did.
	gw_events "$out" "len([e for e in evs if e.get('event') == 'peers'])
	    <= 6" ||
	    fail "peers pushed without a change: $(grep -c peers "$out")" ||
	    return 1
	# fzc peers names the gateway and keeps its key.
	fzc_cli "$E2E_CDIR" peers | grep -q '^peer: gateway in Site A (' ||
	    fail "fzc peers: $(fzc_cli "$E2E_CDIR" peers)" || return 1
	fzc_cli "$E2E_CDIR" peers | grep -q '^  public key: .*=$' ||
	    fail "fzc peers lost the key: $(fzc_cli "$E2E_CDIR" peers)"
}

# gs_set SETTINGS-ARGS...: fzc settings, JSON reply on stdout.
gs_set() {
	fzc_cli "$PT_DIR" --json settings "$@"
}

# gs_is EXPR: EXPR over s, the settings the daemon reports, holds.
gs_is() {
	fzc_cli "$PT_DIR" --json settings | python3 -c '
import json, sys
s = json.load(sys.stdin)["settings"]
sys.exit(0 if eval("(" + sys.argv[1] + ")") else 1)' "$1"
}

# gs_debug: how many debug lines of tunneld's about the counters so far.
gs_debug() {
	grep -c 'controld asked for the counters' "$TLOG"
}

# 3. The settings the daemon keeps, as Firezone's advanced settings: the
# API URL and the log level, validated, saved in the state directory,
# applied at once (a new URL reconnects, a level filters the next line),
# kept by a restarted controld, and back to the command line's on reset.
t_settings() {
	local url n err
	pt_setup settings || return 1
	pt_connected || return 1
	url="wss://127.0.0.1:$PT_PORT"
	gs_is "s['api_url'] == {'value': '$url', 'default': '$url',
	    'custom': False} and s['log_level'] == {'value': 'debug',
	    'default': 'debug', 'custom': False}" ||
	    fail "defaults: $(gs_set)" || return 1
	# Bad input: refused with a reason, nothing saved, daemon running.
	for bad in "api-url ws://127.0.0.1:$PT_PORT" "api-url https://x" \
	    "api-url wss://u:secret@127.0.0.1:1" "log-level loud" \
	    "api-url wss://" "log-level"; do
		# shellcheck disable=SC2086
		if err=$(fzc_cli "$PT_DIR" settings $bad 2>&1); then
			fail "accepted: settings $bad" || return 1
		fi
		case $err in *secret*)
			fail "the user info echoed: $err" || return 1 ;;
		esac
	done
	fzc_cli "$PT_DIR" settings api-url "ws://127.0.0.1:$PT_PORT" 2>&1 |
	    grep -q 'unencrypted' || fail "no reason for ws://" || return 1
	# Group fzc reads them; changing them takes fzc-admin, as sign-in.
	err=$(setpriv --reuid=nobody --regid=nogroup --groups=fzc "$B/fzc" \
	    --control-socket "$PT_DIR/run/control.sock" settings) ||
	    fail "a member of fzc cannot read: $err" || return 1
	if err=$(setpriv --reuid=nobody --regid=nogroup --groups=fzc \
	    "$B/fzc" --control-socket "$PT_DIR/run/control.sock" settings \
	    log-level info 2>&1); then
		fail "a member of fzc changed the settings" || return 1
	fi
	grep -q 'needs root or group fzc-admin' <<<"$err" ||
	    fail "no reason: $err" || return 1
	[ ! -e "$PT_DIR/state/settings" ] ||
	    fail "saved: $(cat "$PT_DIR/state/settings")" || return 1
	pt_alive || return 1
	# The log level applies to the daemons at once.
	gs_set log-level info >/dev/null || fail "log-level info" || return 1
	n=$(gs_debug)
	fzc_cli "$PT_DIR" status >/dev/null
	[ "$(gs_debug)" = "$n" ] || fail "still logging debug" || return 1
	gs_is "s['log_level'] == {'value': 'info', 'default': 'debug',
	    'custom': True}" || fail "level not reported: $(gs_set)" ||
	    return 1
	# A URL where no portal listens: the session moves to it at once.
	gs_set api-url "wss://127.0.0.1:1" >/dev/null ||
	    fail "api-url: $(gs_set api-url "wss://127.0.0.1:1")" || return 1
	wait_until 10 pt_pstate_is waiting ||
	    pt_fail "not waiting after the URL moved: $(pt_pstate)" ||
	    return 1
	grep -qx 'api-url wss://127.0.0.1:1' "$PT_DIR/state/settings" &&
	    grep -qx 'log-level info' "$PT_DIR/state/settings" ||
	    fail "not saved: $(cat "$PT_DIR/state/settings")" || return 1
	# A restarted controld gets them from tunneld.
	kill "$(controld_pid "$PT_DIR")" || fail "kill controld" || return 1
	wait_until 10 gs_is "s['api_url']['value'] == 'wss://127.0.0.1:1' and
	    s['log_level']['value'] == 'info'" ||
	    fail "lost with controld: $(gs_set)" || return 1
	# Back to the defaults: the portal again, and debug lines.
	gs_set api-url default log-level default >/dev/null ||
	    fail "reset" || return 1
	pt_connected 15 || return 1
	n=$(gs_debug)
	fzc_cli "$PT_DIR" status >/dev/null
	[ "$(gs_debug)" -gt "$n" ] || fail "debug not back" || return 1
	[ ! -s "$PT_DIR/state/settings" ] ||
	    fail "reset left: $(cat "$PT_DIR/state/settings")" || return 1
	fzc_cli "$PT_DIR" settings | grep -qx \
	    "api-url:   $url (default)" || fail "human output:" \
	    "$(fzc_cli "$PT_DIR" settings)" || return 1
	pt_alive
}

# ---------------------------------------------------------------------------
# The GUI, under Xvfb with a session bus and the accessibility bus, run by a
# desktop user in group fzc (fzc-gui refuses root). tests/gui/gui_test.py
# drives it; this sets the stage and checks what only root can see.

GUI_USER=fzc-gui-test

# gui_user: the desktop user, in group fzc, made once; in fzc-admin too,
# since it signs in and out.
gui_user() {
	getent passwd "$GUI_USER" >/dev/null ||
	    useradd --system --no-create-home --shell /usr/sbin/nologin \
	    -G fzc "$GUI_USER"
	usermod -aG fzc-admin "$GUI_USER"
}

# gui_other_user: a desktop user outside group fzc, made once.
gui_other_user() {
	getent passwd fzc-gui-other >/dev/null ||
	    useradd --system --no-create-home --shell /usr/sbin/nologin \
	    fzc-gui-other
}

# gui_home DIR: a home for the desktop user with fzc-gui's settings, the
# stand-in browser and fzc-gui as the handler of the sign-in deep links.
gui_home() {
	local h=$1 apps
	apps=$h/.local/share/applications
	mkdir -p "$h/.config/fzc-gui" "$apps" "$h/out" || return 1
	cat >"$h/.config/fzc-gui/settings.ini" <<INI
[sign-in]
auth_url=https://portal.test/auth
account_slug=acme
INI
	cat >"$apps/stand-in-browser.desktop" <<DESKTOP
[Desktop Entry]
Type=Application
Name=Stand-in browser
Exec=$SRCDIR/tests/gui/browser.sh $h/out/browser.log %u
MimeType=x-scheme-handler/http;x-scheme-handler/https;
DESKTOP
	sed "s|^Exec=.*|Exec=$B/fzc-gui --control-socket \
$PT_DIR/run/control.sock %u|" \
	    "$SRCDIR/packaging/desktop/dev.fzc.Gui.desktop" \
	    >"$apps/dev.fzc.Gui.desktop"
	cat >"$h/.config/mimeapps.list" <<LIST
[Default Applications]
x-scheme-handler/http=stand-in-browser.desktop
x-scheme-handler/https=stand-in-browser.desktop
x-scheme-handler/firezone-fd0020211111=dev.fzc.Gui.desktop
LIST
	update-desktop-database "$apps" || return 1
	mkdir -p "$h/run" && chmod 700 "$h/run"
	chown -R "$GUI_USER" "$h"
}

# gui_run HOME [SHOTS]: gui_test.py as the desktop user in a fresh X
# display and session bus; its output is the test's.
gui_run() {
	local h=$1
	runuser -u "$GUI_USER" -- env -i PATH=/usr/bin:/bin HOME="$h" \
	    USER="$GUI_USER" XDG_RUNTIME_DIR="$h/run" GSK_RENDERER=cairo \
	    GTK_A11Y=atspi NO_AT_BRIDGE=0 ASAN_OPTIONS=detect_leaks=0 \
	    FZC_GUI="$B/fzc-gui" FZC_CLI="$B/fzc" SRCDIR="$SRCDIR" \
	    FZC_SOCK="$PT_DIR/run/control.sock" FZC_TLOG="$TLOG" \
	    PT_STUB="$PT_STUB" PT_SOCK="$PT_SOCK" PT_SITE="$PT_SITE" \
	    PT_CIDR="$PT_CIDR" PT_DNS="$PT_DNS" MODE="${GUI_MODE-}" \
	    OUT="$h/out" SHOTS="${2-}" \
	    xvfb-run -a -e "$h/out/xvfb.err" -s "-screen 0 1024x768x24" \
	    dbus-run-session -- /usr/bin/python3 "$SRCDIR/tests/gui/gui_test.py"
}

# 2. The whole GUI against the real daemons and the stub portal: resources
# by name, the Internet switch, a pushed resource change, the tray item and
# its menu, notifications, sign-out, browser sign-in with a wrong and the
# right state, single instance; the token never on the GUI's disk or log.
t_gui_window() {
	local h out token pasted t drv
	[ -x "$B/fzc-gui" ] ||
	    fail "no fzc-gui in $B (configure found no GTK 4?)" || return 1
	gui_user || fail "cannot make the desktop user" || return 1
	# No tokens in the scenario: the stub takes whatever the GUI brings.
	pt_setup gui '"tokens": []' || return 1
	pt_connected || return 1
	# The desktop user drives the stub too.
	chmod 666 "$PT_SOCK"
	h=$WORK/gui/home
	gui_home "$h" || fail "cannot set up the desktop user's home" ||
	    return 1
	out=$h/out
	# run.sh keeps a failing test's last 40 lines: the driver's go last.
	# It asks, with a file, for fzc-controld to be killed.
	gui_run "$h" "${FZC_GUI_SHOTS-}" >"$out/run.log" 2>&1 &
	drv=$!
	while kill -0 "$drv" 2>/dev/null; do
		if [ -e "$out/kill-controld" ]; then
			kill -KILL "$(controld_pid "$PT_DIR")"
			rm -f "$out/kill-controld"
		fi
		sleep 0.1
	done
	if ! wait "$drv"; then
		pt_dump | tail -8
		sed 's/^/gui: /' "$out/gui.err" | tail -6
		sed 's/^/xvfb: /' "$out/xvfb.err" | tail -3
		grep -v '^dbus-daemon\|SpiRegistry' "$out/run.log" | tail -20
		fail "gui_test.py failed"
		return 1
	fi
	cat "$out/run.log"
	# The daemon holds the token the browser flow made: nonce || fragment.
	token=$(cat "$out/expected-token")
	[ "$(cat "$PT_DIR/token")" = "$token" ] ||
	    fail "token file: $(cat "$PT_DIR/token"), not nonce||fragment" ||
	    return 1
	# Neither token is in the GUI's files (settings, its log) nor in the
	# daemons' log.
	pasted=$(cat "$out/pasted-token")
	rm -f "$out/expected-token" "$out/pasted-token"
	for t in "$token" "$pasted"; do
		! grep -rqF "$t" "$h" "$TLOG" ||
		    fail "a token is in $(grep -rlF "$t" "$h" "$TLOG")" ||
		    return 1
	done
	grep -q 'sign-in: callback accepted for account acme' \
	    "$h/.cache/fzc-gui/fzc-gui.log" ||
	    fail "the GUI's log has no sign-in record" || return 1
	pt_no_violations || return 1
	pt_alive
}

# 3. fzc-gui refuses root, and tells a desktop user outside group fzc
# exactly what to do.
t_gui_refusals() {
	local out h GUI_USER=fzc-gui-other GUI_MODE=not-in-group
	[ -x "$B/fzc-gui" ] || fail "no fzc-gui in $B" || return 1
	out=$("$B/fzc-gui" 2>&1) && fail "fzc-gui ran as root" && return 1
	grep -q 'refusing to run as root' <<<"$out" ||
	    fail "no reason given to root: $out" || return 1
	gui_other_user || fail "cannot make the user" || return 1
	pt_setup guiother || return 1
	pt_connected || return 1
	h=$WORK/guiother/home
	gui_home "$h" || return 1
	if ! gui_run "$h" >"$h/out/run.log" 2>&1; then
		sed 's/^/gui: /' "$h/out/gui.err" | tail -6
		grep -v '^dbus-daemon\|SpiRegistry' "$h/out/run.log" | tail -20
		fail "gui_test.py failed"
		return 1
	fi
	cat "$h/out/run.log"
	# The socket's mode stopped it; the GUI's log says so too.
	grep -q 'fzc daemon: Permission denied .*not in group fzc' \
	    "$h/out/gui.err" || fail "no reason in the GUI's log" || return 1
	pt_alive
}

# 4. The desktop files are valid (desktop-file-validate, appstreamcli) and
# `make install` puts fzc-gui, its entry (the deep-link handler), icons and
# metadata where desktops look for them.
t_gui_desktop_files() {
	local d=$SRCDIR/packaging/desktop inst=$WORK/inst f
	[ -x "$B/fzc-gui" ] || fail "no fzc-gui in $B" || return 1
	desktop-file-validate "$d/dev.fzc.Gui.desktop" ||
	    fail "desktop entry invalid" || return 1
	grep -qx 'MimeType=x-scheme-handler/firezone-fd0020211111;' \
	    "$d/dev.fzc.Gui.desktop" || fail "no deep-link MIME type" ||
	    return 1
	appstreamcli validate --no-net --pedantic \
	    "$d/dev.fzc.Gui.metainfo.xml" || fail "AppStream invalid" ||
	    return 1
	make -s -C "$B" install DESTDIR="$inst" >/dev/null ||
	    fail "make install failed" || return 1
	for f in bin/fzc-gui share/applications/dev.fzc.Gui.desktop \
	    share/metainfo/dev.fzc.Gui.metainfo.xml \
	    share/icons/hicolor/scalable/apps/dev.fzc.Gui.svg \
	    share/icons/hicolor/scalable/status/fzc-connected.svg \
	    share/icons/hicolor/scalable/status/fzc-connecting.svg \
	    share/icons/hicolor/scalable/status/fzc-signed-out.svg; do
		[ -s "$(find "$inst" -path "*/$f" | head -1)" ] ||
		    fail "$f not installed" || return 1
	done
	# The icons are SVG that the desktop's image loader renders.
	for f in "$d"/icons/*.svg; do
		[ "$(/usr/bin/python3 -c '
import sys, gi
gi.require_version("GdkPixbuf", "2.0")
from gi.repository import GdkPixbuf
p = GdkPixbuf.Pixbuf.new_from_file_at_size(sys.argv[1], 48, 48)
print(p.get_width(), p.get_height())' "$f")" = "48 48" ] ||
		    fail "$f does not render" || return 1
	done
}
