# lib.sh: helpers for fzc's integration tests (sourced by run.sh).
# Each test gets its own network namespace and work directory; everything
# created here is removed on exit.

B=${B:?build directory}
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

# wait_until SECONDS COMMAND...: true once COMMAND succeeds, polling every
# 0.1 s; false when SECONDS of wall-clock time pass first.
wait_until() {
	local end=$((${EPOCHREALTIME/./} + $1 * 1000000))
	shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "${EPOCHREALTIME/./}" -ge "$end" ] && return 1
		sleep 0.1
	done
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

proc_field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | xargs
}
