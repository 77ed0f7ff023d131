# tests.sh: the integration tests; each t_* function fails by returning
# non-zero. Sourced by run.sh, run with lib.sh's helpers.

# data_plane_confined PID: tunneld's data plane runs as fzc-tunneld with
# NET_ADMIN (bit 12) alone, ambient too for the gateway's nft, no-new-privs,
# under its seccomp filter.
data_plane_confined() {
	local pid=$1 uid gid f
	uid=$(id -u fzc-tunneld)
	gid=$(id -g fzc-tunneld)
	[ "$(proc_field "$pid" Uid)" = "$uid $uid $uid $uid" ] ||
	    fail "tunneld Uid: $(proc_field "$pid" Uid)" || return 1
	[ "$(proc_field "$pid" Gid)" = "$gid $gid $gid $gid" ] ||
	    fail "tunneld Gid: $(proc_field "$pid" Gid)" || return 1
	[ "$(proc_field "$pid" Groups)" = "$gid" ] ||
	    fail "tunneld Groups: $(proc_field "$pid" Groups)" || return 1
	for f in CapInh CapPrm CapEff CapBnd CapAmb; do
		[ "$(proc_field "$pid" $f)" = 0000000000001000 ] ||
		    fail "tunneld $f: $(proc_field "$pid" $f)" || return 1
	done
	[ "$(proc_field "$pid" NoNewPrivs)" = 1 ] ||
	    fail "tunneld NoNewPrivs" || return 1
	[ "$(proc_field "$pid" Seccomp)" = 2 ] ||
	    fail "tunneld Seccomp: $(proc_field "$pid" Seccomp)" || return 1
}

# controld runs as fzc, with no capability at all and no-new-privs, under
# its seccomp filter, in a session of its own with stdin from /dev/null,
# without the proxy and certificate variables tunneld was given, and with
# its files narrowed by Landlock where the kernel has it.
t_controld_unprivileged() {
	local ns pid spid uid gid f env
	new_netns ns priv || return 1
	https_proxy=http://192.0.2.1:3128 SSL_CERT_FILE=/tmp/evil.pem \
	    FZC_SECCOMP=kill start_tunneld "$ns" "$WORK/a" \
	    --api-url wss://192.0.2.1:1 --ca-file /etc/ssl/certs/ca-certificates.crt
	wait_until 5 fzc_cli "$WORK/a" status || fail "no status" || return 1
	pid=$(controld_pid "$WORK/a")
	uid=$(id -u fzc)
	gid=$(id -g fzc)
	[ "$(proc_field "$pid" Uid)" = "$uid $uid $uid $uid" ] ||
	    fail "Uid: $(proc_field "$pid" Uid)" || return 1
	[ "$(proc_field "$pid" Gid)" = "$gid $gid $gid $gid" ] ||
	    fail "Gid: $(proc_field "$pid" Gid)" || return 1
	[ "$(proc_field "$pid" Groups)" = "$gid" ] ||
	    fail "Groups: $(proc_field "$pid" Groups)" || return 1
	for f in CapInh CapPrm CapEff CapBnd CapAmb; do
		[ "$(proc_field "$pid" $f)" = 0000000000000000 ] ||
		    fail "$f: $(proc_field "$pid" $f)" || return 1
	done
	[ "$(proc_field "$pid" NoNewPrivs)" = 1 ] || fail NoNewPrivs ||
	    return 1
	[ "$(proc_field "$pid" Seccomp)" = 2 ] ||
	    fail "Seccomp: $(proc_field "$pid" Seccomp)" || return 1
	[ "$(ps -o sid= -p "$pid" | xargs)" = "$pid" ] ||
	    fail "not a session leader: sid $(ps -o sid= -p "$pid")" ||
	    return 1
	[ "$(readlink "/proc/$pid/fd/0")" = /dev/null ] ||
	    fail "stdin: $(readlink "/proc/$pid/fd/0")" || return 1
	env=$(tr '\0' '\n' <"/proc/$pid/environ")
	echo "controld's environment: $(echo $env)"
	grep -vq '^FZC_\|^[AUL]*SAN_OPTIONS=' <<<"$env" &&
	    fail "controld inherited more: $env" && return 1
	grep -qx FZC_SECCOMP=kill <<<"$env" ||
	    fail "FZC_SECCOMP not passed on" || return 1
	if python3 -c '
import ctypes, sys
libc = ctypes.CDLL(None)
sys.exit(libc.syscall(444, None, 0, 1) < 1)'; then
		wait_until 5 grep -q 'files: narrowed by Landlock.*the directory of /etc/ssl/certs/ca-certificates.crt' "$TLOG" ||
		    fail "no Landlock: $(grep files: "$TLOG")" || return 1
	else
		grep -q 'files: no Landlock' "$TLOG" ||
		    fail "Landlock missing, and not said" || return 1
	fi
	# controld is the data plane's child, started by the spawner, the
	# data plane's other child.
	[ "$(proc_field "$pid" PPid)" = "$TPID" ] || fail "PPid" || return 1
	spid=$(tr ' ' '\n' <"/proc/$TPID/task/$TPID/children" | grep -vx "$pid")
	[ "$(proc_field "$spid" PPid)" = "$TPID" ] ||
	    fail "no spawner: $spid" || return 1
	# The spawner stays root with SETUID, SETGID, SETPCAP, KILL (bits
	# 7, 6, 8, 5) and nothing more, also by exec.
	[ "$(proc_field "$spid" Uid)" = "0 0 0 0" ] ||
	    fail "spawner Uid: $(proc_field "$spid" Uid)" || return 1
	for f in CapPrm CapEff CapBnd; do
		[ "$(proc_field "$spid" $f)" = 00000000000001e0 ] ||
		    fail "spawner $f: $(proc_field "$spid" $f)" || return 1
	done
	for f in CapInh CapAmb; do
		[ "$(proc_field "$spid" $f)" = 0000000000000000 ] ||
		    fail "spawner $f: $(proc_field "$spid" $f)" || return 1
	done
	[ "$(proc_field "$spid" NoNewPrivs)" = 1 ] ||
	    fail "spawner NoNewPrivs" || return 1
	data_plane_confined "$TPID" || return 1
	[ "$(status_field "$WORK/a" tunneld.pid)" = "$TPID" ] ||
	    fail "tunneld pid in status" || return 1
}

# kill -9 of controld: a new one answers within 5 s.
t_controld_restart() {
	local ns old new
	new_netns ns restart || return 1
	start_tunneld "$ns" "$WORK/a"
	wait_until 5 fzc_cli "$WORK/a" status || fail "no status" || return 1
	old=$(controld_pid "$WORK/a")
	kill -KILL "$old"
	wait_until 5 controld_replaced "$WORK/a" "$old" ||
	    fail "no new controld in 5 s" || return 1
	new=$(controld_pid "$WORK/a")
	[ "$(proc_field "$new" PPid)" = "$TPID" ] || fail "PPid" || return 1
	[ "$(status_field "$WORK/a" tunneld.controld_restarts)" = 1 ] ||
	    fail "restart count" || return 1
	kill -0 "$TPID" || fail "tunneld died" || return 1
}

# SIGTERM to tunneld ends both within 5 s, status 0.
t_sigterm() {
	local ns cpid rc
	new_netns ns term || return 1
	start_tunneld "$ns" "$WORK/a"
	wait_until 5 fzc_cli "$WORK/a" status || fail "no status" || return 1
	cpid=$(controld_pid "$WORK/a")
	kill -TERM "$TPID"
	gone() { ! kill -0 "$TPID" 2>/dev/null && ! kill -0 "$cpid" 2>/dev/null; }
	wait_until 5 gone || fail "still running after 5 s" || return 1
	wait "$TPID"
	rc=$?
	[ "$rc" = 0 ] || fail "tunneld exit status $rc" || return 1
	[ ! -e "$WORK/a/run/control.sock" ] ||
	    fail "control socket left behind" || return 1
	grep -q 'controld (pid [0-9]*) exited with status 0' "$TLOG" ||
	    fail "controld did not exit cleanly" || return 1
}

# A protected socket arrives in controld with SO_MARK set, read back there.
t_protected_socket() {
	local ns fam typ out
	new_netns ns mark || return 1
	start_tunneld "$ns" "$WORK/a"
	wait_until 5 fzc_cli "$WORK/a" status || fail "no status" || return 1
	for fam in inet inet6; do
		for typ in udp tcp; do
			out=$(fzc_cli "$WORK/a" --json debug protected-socket \
			    $fam $typ) || fail "$fam/$typ: $out" || return 1
			echo "$out"
			echo "$out" | grep -q "\"family\":\"$fam\"" &&
			    echo "$out" | grep -q "\"type\":\"$typ\"" &&
			    echo "$out" | grep -q '"mark":6716003[,}]' ||
			    fail "$fam/$typ: $out" || return 1
		done
	done
}

# The control socket: 0660 group fzc; root and members of fzc get in,
# others are refused by the file mode and, past it, by SO_PEERCRED.
t_control_access() {
	local ns sock out
	new_netns ns access || return 1
	start_tunneld "$ns" "$WORK/a"
	wait_until 5 fzc_cli "$WORK/a" status || fail "no status" || return 1
	sock=$WORK/a/run/control.sock
	[ "$(stat -c '%a %G' "$sock")" = "660 fzc" ] ||
	    fail "socket mode $(stat -c '%a %G' "$sock")" || return 1
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$B/fzc" --control-socket "$sock" status 2>&1) &&
	    fail "nobody got in: $out" && return 1
	echo "$out" | grep -q 'permission denied' || fail "$out" || return 1
	# With CAP_DAC_OVERRIDE the file mode no longer stops nobody:
	# controld's own check must.
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    --inh-caps=+dac_override --ambient-caps=+dac_override \
	    "$B/fzc" --control-socket "$sock" status 2>&1) &&
	    fail "nobody got past SO_PEERCRED: $out" && return 1
	echo "$out" | grep -q 'not root and not in group fzc' ||
	    fail "$out" || return 1
	grep -q "refused uid $(id -u nobody)" "$TLOG" ||
	    fail "refusal not logged" || return 1
	# A member of group fzc (supplementary) is let in.
	out=$(setpriv --reuid=nobody --regid=nogroup --groups=fzc \
	    "$B/fzc" --control-socket "$sock" status 2>&1) ||
	    fail "member of fzc refused: $out" || return 1
	echo "$out" | grep -q '^daemons:   running' || fail "$out" || return 1
}

# Two instances side by side, one per namespace, each with its own socket.
t_two_instances() {
	local ns1 ns2 p1 p2
	new_netns ns1 one || return 1
	new_netns ns2 two || return 1
	start_tunneld "$ns1" "$WORK/a"
	local t1=$TPID
	start_tunneld "$ns2" "$WORK/b"
	wait_until 5 fzc_cli "$WORK/a" status || fail "a: no status" || return 1
	wait_until 5 fzc_cli "$WORK/b" status || fail "b: no status" || return 1
	p1=$(status_field "$WORK/a" tunneld.pid)
	p2=$(status_field "$WORK/b" tunneld.pid)
	[ "$p1" = "$t1" ] && [ "$p2" = "$TPID" ] && [ "$p1" != "$p2" ] ||
	    fail "pids $p1 $p2" || return 1
	# A second tunneld on a socket that is in use refuses, and the first
	# keeps answering.
	start_tunneld "$ns1" "$WORK/a"
	wait_until 5 grep -q 'already listening' "$TLOG" ||
	    fail "no refusal for a socket in use" || return 1
	[ "$(status_field "$WORK/a" tunneld.pid)" = "$t1" ] ||
	    fail "first instance lost its socket" || return 1
}

# Refusals at start: not root, unknown user, controld run by hand as root.
t_refusals() {
	local out
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$B/fzc-tunneld" --controld "$B/fzc-controld" 2>&1) &&
	    fail "ran unprivileged" && return 1
	echo "$out" | grep -q 'must be started as root' || fail "$out" ||
	    return 1
	out=$("$B/fzc-tunneld" --user fzc-no-such-user \
	    --controld "$B/fzc-controld" 2>&1) && fail "ran" && return 1
	echo "$out" | grep -q "user 'fzc-no-such-user' does not exist" ||
	    fail "$out" || return 1
	out=$("$B/fzc-controld" 3</dev/null 2>&1) && fail "ran as root" &&
	    return 1
	echo "$out" | grep -q 'refusing to run as root' || fail "$out" ||
	    return 1
	out=$("$B/fzc-tunneld" --log-level loud 2>&1) && fail "ran" && return 1
	echo "$out" | grep -q "unknown log level 'loud'" || fail "$out" ||
	    return 1
}

# A controld that sends garbage is treated as compromised: killed, logged,
# restarted (and the replacement, garbage again, meets the same fate).
t_malformed_ipc_restarts() {
	local ns fake
	new_netns ns bad || return 1
	fake=$WORK/fake-controld
	cat >"$fake" <<'PY'
#!/usr/bin/python3
import os, socket, time
s = socket.socket(fileno=3)
s.send(b"\x01\x00\x01\x00\xff\xff\x00\x00" + b"\x00" * 8)
time.sleep(30)
PY
	chmod 755 "$fake"
	mkdir -p "$WORK/a"
	ip netns exec "$ns" "$B/fzc-tunneld" --controld "$fake" \
	    --control-socket "$WORK/a/run/control.sock" \
	    --state-dir "$WORK/a/state" --token-file "$WORK/a/token" \
	    2>"$WORK/log" &
	PIDS+=($!)
	wait_until 8 grep -c 'restarting controld' "$WORK/log" ||
	    fail "no restart" || return 1
	grep -q 'controld sent a malformed IPC_HELLO message: header length disagrees' "$WORK/log" ||
	    fail "reason not logged" || return 1
	cnt() { [ "$(grep -c 'killed by signal 9' "$WORK/log")" -ge 2 ]; }
	wait_until 8 cnt || fail "replacement not killed" || return 1
	cat "$WORK/log"
}

# READY=1 reaches systemd's notify socket once controld is up.
t_sd_notify() {
	local ns out
	new_netns ns notify || return 1
	python3 - "$WORK/notify" >"$WORK/notified" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o777)	# as systemd's: the data plane is not root
s.settimeout(10)
print(s.recv(4096).decode(), flush=True)
PY
	PIDS+=($!)
	wait_until 5 test -S "$WORK/notify" || fail "listener" || return 1
	NOTIFY_SOCKET=$WORK/notify start_tunneld "$ns" "$WORK/a"
	wait_until 8 grep -q 'READY=1' "$WORK/notified" ||
	    fail "no READY=1: $(cat "$WORK/notified")" || return 1
	fzc_cli "$WORK/a" status || fail "not answering when ready" || return 1
}

# The unit passes systemd-analyze verify, with no warning at all.
t_systemd_unit() {
	local unit=$WORK/fzc.service out
	sed "s|^ExecStart=.*|ExecStart=$B/fzc-tunneld|" \
	    "$SRCDIR/packaging/systemd/fzc.service" >"$unit"
	out=$(systemd-analyze verify --recursive-errors=no --man=no \
	    "$unit" 2>&1) || fail "verify: $out" || return 1
	[ -z "$out" ] || fail "verify printed: $out" || return 1
	grep -q '^Type=notify$' "$unit" || fail "not Type=notify" || return 1
}

# th_answers LOG: the answers the hostile controld logged, "name=error"
# a line.
th_answers() {
	python3 -c '
import json, sys
for l in open(sys.argv[1]):
    v = json.loads(l)
    if "name" in v:
        print("%s=%s" % (v["name"], v["error"]))' "$1"
}

# A compromised fzc-controld (hostile_controld.py, run by tunneld in its
# place) asks for tunnel addresses on the LAN and outside Firezone's
# ranges, and for a gateway at a public address: each is refused (EPERM)
# with a log line, the namespace's links, addresses, routes, rules and
# ruleset stay byte for byte, and tunneld keeps running. Then, allowed: a
# route two resources share stays until the second one goes.
t_hostile_controld() {
	local ns log=$WORK/hostile.log before after a
	new_netns ns hostile || return 1
	install -m 666 /dev/null "$log"
	before=$(te_snapshot "$ns")
	FZC_HOSTILE_IPC_H=$SRCDIR/ipc/ipc.h FZC_HOSTILE_LOG=$log \
	    FZC_HOSTILE_GO=$WORK/go start_tunneld "$ns" "$WORK/a" \
	    --controld "$SRCDIR/tests/integration/hostile_controld.py"
	wait_until 15 grep -q '"phase": 1' "$log" ||
	    fail "no first phase: $(cat "$log"; tail -5 "$TLOG")" || return 1
	a=$(th_answers "$log")
	echo "$a"
	[ "$(grep -c '=1$' <<<"$a")" = 3 ] ||
	    fail "not all three refused with EPERM" || return 1
	[ "$(grep -c 'refused: a tunnel address outside' "$TLOG")" = 3 ] ||
	    fail "refusals not in the log: $(grep refused "$TLOG")" ||
	    return 1
	after=$(te_snapshot "$ns")
	diff <(echo "$before") <(echo "$after") ||
	    fail "the namespace changed" || return 1
	kill -0 "$TPID" || fail "tunneld died" || return 1
	touch "$WORK/go"
	wait_until 15 grep -q '"phase": 2' "$log" ||
	    fail "no second phase: $(tail -5 "$TLOG")" || return 1
	a=$(th_answers "$log" | tail -n 4)
	echo "$a"
	[ "$(grep -c '=0$' <<<"$a")" = 4 ] ||
	    fail "allowed requests refused" || return 1
	ip -n "$ns" route show table all 10.55.0.0/24 | grep -q . ||
	    fail "the shared route went with the first resource" || return 1
	kill -0 "$TPID" || fail "tunneld died" || return 1
}

# The same in the gateway role: controld may neither store nor delete the
# operator's token (it stays as it was), nor put the tunnel on the LAN;
# and fzc-controld itself refuses sign-in and sign-out there.
t_hostile_controld_gateway() {
	local ns log=$WORK/hostile.log a
	new_netns ns hostgw || return 1
	install -m 666 /dev/null "$log"
	mkdir -p "$WORK/g"
	(umask 077 && echo operator-token >"$WORK/g/token")
	FZC_HOSTILE_ROLE=gateway FZC_HOSTILE_IPC_H=$SRCDIR/ipc/ipc.h \
	    FZC_HOSTILE_LOG=$log FZC_HOSTILE_GO=$WORK/go \
	    start_tunneld "$ns" "$WORK/g" --role gateway --interface fzcg0 \
	    --controld "$SRCDIR/tests/integration/hostile_controld.py"
	wait_until 15 eval '[ "$(th_answers "$log" | wc -l)" = 3 ]' ||
	    fail "answers: $(cat "$log"; tail -5 "$TLOG")" || return 1
	a=$(th_answers "$log")
	echo "$a"
	[ "$(grep -c '=1$' <<<"$a")" = 3 ] ||
	    fail "not all three refused with EPERM" || return 1
	[ "$(cat "$WORK/g/token")" = operator-token ] ||
	    fail "the token changed" || return 1
	grep -q 'IPC_TOKEN_DELETE refused: the gateway role keeps its token' \
	    "$TLOG" || fail "no log line for the refused delete" || return 1
	kill -0 "$TPID" || fail "tunneld died" || return 1
	kill "$TPID"
	wait "$TPID" 2>/dev/null
	start_tunneld "$ns" "$WORK/g" --role gateway --interface fzcg0
	wait_until 5 fzc_cli "$WORK/g" status || fail "no status" || return 1
	! fzc_cli "$WORK/g" sign-out 2>"$WORK/err" ||
	    fail "sign-out accepted in the gateway role" || return 1
	grep -q "the gateway's token is the operator's" "$WORK/err" ||
	    fail "sign-out refused without saying why: $(cat "$WORK/err")" ||
	    return 1
	[ "$(cat "$WORK/g/token")" = operator-token ] ||
	    fail "the token changed" || return 1
}

# The control socket's tiers: a member of fzc reads (status) but may not
# sign in, sign out or switch the Internet resource; a member of
# fzc-admin (and fzc) may. A member holding 8 connections gets no ninth,
# and root still gets in.
t_control_tiers() {
	local ns sock out
	new_netns ns tiers || return 1
	start_tunneld "$ns" "$WORK/a"
	wait_until 5 fzc_cli "$WORK/a" status || fail "no status" || return 1
	sock=$WORK/a/run/control.sock
	echo tok-tiers >"$WORK/tok"
	chmod 644 "$WORK/tok"
	member() {
		setpriv --reuid=nobody --regid=nogroup --groups="$1" \
		    "$B/fzc" --control-socket "$sock" "${@:2}"
	}
	member fzc status >/dev/null || fail "member cannot read" || return 1
	for c in sign-in sign-out "internet on"; do
		# shellcheck disable=SC2086
		out=$(member fzc $c <"$WORK/tok" 2>&1) &&
		    fail "member of fzc may $c: $out" && return 1
		grep -q 'needs root or group fzc-admin' <<<"$out" ||
		    fail "$c: $out" || return 1
	done
	[ ! -e "$WORK/a/token" ] || fail "a token was stored" || return 1
	out=$(member fzc,fzc-admin sign-in <"$WORK/tok" 2>&1) ||
	    fail "admin may not sign in: $out" || return 1
	[ "$(cat "$WORK/a/token")" = tok-tiers ] ||
	    fail "token not stored" || return 1
	out=$(member fzc,fzc-admin sign-out 2>&1) ||
	    fail "admin may not sign out: $out" || return 1
	[ ! -e "$WORK/a/token" ] || fail "token not deleted" || return 1
	# A member opens 12 connections and keeps those that answer.
	install -m 666 /dev/null "$WORK/held"
	setpriv --reuid=nobody --regid=nogroup --groups=fzc \
	    /usr/bin/python3 - "$sock" "$WORK/held" "$WORK/go" <<'PY' &
import os, socket, sys, time
held, refused = [], 0
for i in range(12):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(sys.argv[1])
        s.sendall(b'{"command":"resources"}\n')
        if not s.recv(65536):
            raise ConnectionResetError
        held.append(s)
    except OSError:
        refused += 1
with open(sys.argv[2], "w") as f:
    f.write("%d %d\n" % (len(held), refused))
while not os.path.exists(sys.argv[3]):
    time.sleep(0.05)
PY
	PIDS+=($!)
	wait_until 10 grep -q . "$WORK/held" || fail "no count" || return 1
	out=$(cat "$WORK/held")
	echo "held and refused: $out"
	[ "$out" = "8 4" ] || fail "per-user limit: $out" || return 1
	grep -q "too many connections, refusing uid $(id -u nobody)" \
	    "$TLOG" || fail "refusal not logged" || return 1
	fzc_cli "$WORK/a" status >/dev/null ||
	    fail "root locked out while a member holds 8" || return 1
	touch "$WORK/go"
}
