# tests_cli.sh: the command line as users meet it: options on either side
# of the command, help on stdout, one version everywhere, exit statuses.

# The version configure.ac gives, as the build saw it.
built_version() {
	sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$B/config.h"
}

t_cli_help_version_exit_codes() {
	local v out rc prog cmd
	v=$(built_version)
	[ -n "$v" ] || fail "no PACKAGE_VERSION in config.h" || return 1
	for prog in fzc fzc-tunneld fzc-controld; do
		out=$("$B/$prog" --version) || fail "$prog --version" ||
		    return 1
		[ "$out" = "$prog $v" ] || fail "$prog: $out" || return 1
	done
	[ "$("$B/fzc" -V)" = "fzc $v" ] || fail "-V" || return 1
	# Help goes to stdout with status 0, whichever way it is asked for.
	for cmd in --help -h help "help status" "status --help" \
	    "status -h" "netcheck --help" "help netcheck"; do
		out=$("$B/fzc" $cmd 2>"$WORK/err") ||
		    fail "fzc $cmd: status $?" || return 1
		grep -q '^usage: fzc' <<<"$out" || fail "fzc $cmd: $out" ||
		    return 1
		[ ! -s "$WORK/err" ] || fail "fzc $cmd wrote to stderr" ||
		    return 1
	done
	grep -q 'exit status: 0 success, 1 failure, 2 usage error, 3' \
	    <<<"$("$B/fzc" --help)" || fail "exit codes not in --help" ||
	    return 1
	for prog in fzc-tunneld fzc-controld; do
		"$B/$prog" --help | grep -q "^usage: $prog" ||
		    fail "$prog --help" || return 1
	done
	# Usage errors: status 2, the reason on stderr, nothing on stdout.
	for cmd in "" bogus "status extra" "status -x" "internet maybe" \
	    "help bogus" "--bogus status" "status --control-socket"; do
		out=$("$B/fzc" $cmd 2>"$WORK/err")
		rc=$?
		[ "$rc" = 2 ] || fail "fzc $cmd: status $rc" || return 1
		[ -z "$out" ] && [ -s "$WORK/err" ] ||
		    fail "fzc $cmd: out '$out'" || return 1
	done
	# Nothing listening: status 3, and what to do about it.
	for cmd in status "status --json" "--json status" peers; do
		out=$("$B/fzc" --control-socket "$WORK/none.sock" $cmd 2>&1)
		rc=$?
		[ "$rc" = 3 ] || fail "fzc $cmd: status $rc" || return 1
		grep -q 'systemctl start fzc' <<<"$out" ||
		    fail "fzc $cmd: $out" || return 1
	done
}

# Options after the command reach the daemon as options before it do.
t_cli_options_after_command() {
	local ns sock out
	new_netns ns cli || return 1
	start_tunneld "$ns" "$WORK/a"
	sock=$WORK/a/run/control.sock
	wait_until 5 fzc_cli "$WORK/a" status || fail "no status" || return 1
	out=$("$B/fzc" status --json --control-socket "$sock") ||
	    fail "status --json --control-socket: $out" || return 1
	python3 -c 'import json,sys; assert json.load(sys.stdin)["ok"]' \
	    <<<"$out" || fail "not JSON: $out" || return 1
	out=$("$B/fzc" status --control-socket="$sock" --json) ||
	    fail "--control-socket=: $out" || return 1
	grep -q '"ok":true' <<<"$out" || fail "$out" || return 1
	out=$("$B/fzc" --json status --control-socket "$sock") ||
	    fail "mixed: $out" || return 1
	grep -q '"ok":true' <<<"$out" || fail "$out" || return 1
	# Not in group fzc: refused with status 1 and told what to do.
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$B/fzc" status --control-socket "$sock" 2>&1)
	[ $? = 1 ] || fail "nobody: status $?: $out" || return 1
	grep -q 'usermod -aG fzc' <<<"$out" || fail "$out" || return 1
}

# A control socket in a directory only root may write (issue 11: controld
# used to bind it itself and failed there forever). fzc-tunneld binds it
# and hands it over; it outlives a controld restart and goes at exit.
t_control_socket_root_dir() {
	local ns sock out
	sock=/run/fzct-$FZC_RUN-$BASHPID.sock
	new_netns ns rootdir || return 1
	mkdir -p "$WORK/a"
	ip netns exec "$ns" "$B/fzc-tunneld" --controld "$B/fzc-controld" \
	    --control-socket "$sock" --state-dir "$WORK/a/state" \
	    --token-file "$WORK/a/token" 2>"$WORK/log" &
	local tpid=$!
	PIDS+=("$tpid")
	wait_until 5 "$B/fzc" status --control-socket "$sock" ||
	    fail "no status: $(cat "$WORK/log")" || return 1
	[ "$(stat -c '%a %U %G' "$sock")" = "660 root fzc" ] ||
	    fail "socket: $(stat -c '%a %U %G' "$sock")" || return 1
	[ "$("$B/fzc" --json status --control-socket "$sock" |
	    python3 -c 'import json,sys
print(json.load(sys.stdin)["tunneld"]["controld_restarts"])')" = 0 ] ||
	    fail "controld restarted: $(cat "$WORK/log")" || return 1
	# A new controld serves the same socket (the spawner, tunneld's other
	# child, stays).
	kill -KILL "$("$B/fzc" --json status --control-socket "$sock" |
	    python3 -c 'import json,sys
print(json.load(sys.stdin)["controld"]["pid"])')"
	wait_until 8 grep -q 'restarting controld' "$WORK/log" ||
	    fail "no restart" || return 1
	wait_until 8 "$B/fzc" status --control-socket "$sock" ||
	    fail "no status after the restart" || return 1
	kill -TERM "$tpid"
	wait "$tpid"
	[ ! -e "$sock" ] || { rm -f "$sock"; fail "socket left"; } ||
	    return 1
}
