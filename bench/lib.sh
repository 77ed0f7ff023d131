# bench/lib.sh: what the benchmarks share, sourced once each has set BENCH
# (its name, for messages): messages and notes, the checks of root, tools
# and build, a work directory and network namespaces removed on exit,
# waiting, and stopping the processes they started.

SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$SRCDIR/scripts/lib.sh"

die() {
	echo "$BENCH: setup failed: $*" >&2
	exit 1
}

progress() {
	echo "# $*" >&2
}

# note TEXT: a line for the notes under the report.
NOTES=()
note() {
	NOTES+=("$*")
}

# bench_need_root WHY
bench_need_root() {
	[ "$(id -u)" = 0 ] || die "must run as root ($1)"
}

# bench_need_tools PACKAGES TOOL...: every TOOL is on the PATH; else the
# message names the Debian PACKAGES to install.
bench_need_tools() {
	local pkgs=$1 tool
	shift
	for tool in "$@"; do
		command -v "$tool" >/dev/null ||
		    die "$tool not found (apt-get install -y --no-install-recommends $pkgs)"
	done
}

# bench_build [DIR]: sets BUILD to the absolute path of DIR, else of
# $FZC_BUILD, else of build/plain if fzc was built there, else of the
# source tree; fzc, fzc-tunneld and fzc-controld must be in it, and the
# users fzc and fzc-tunneld the daemons run as must exist.
bench_build() {
	local dir=${1:-${FZC_BUILD:-}} f
	if [ -z "$dir" ]; then
		dir=$SRCDIR
		[ -x "$SRCDIR/build/plain/fzc-tunneld" ] && dir=$SRCDIR/build/plain
	fi
	for f in fzc fzc-tunneld fzc-controld; do
		[ -x "$dir/$f" ] || die "no $dir/$f: build fzc and pass -b BUILDDIR"
	done
	BUILD=$(cd "$dir" && pwd)
	for f in fzc fzc-tunneld; do
		id $f >/dev/null 2>&1 ||
		    die "user $f missing (useradd --system --user-group --no-create-home --shell /usr/sbin/nologin $f)"
	done
}

# bench_outputs: LOGDIR (if set) made and absolute, OUT (if set) writable.
bench_outputs() {
	if [ -n "${LOGDIR:-}" ]; then
		mkdir -p "$LOGDIR" || die "cannot create $LOGDIR"
		LOGDIR=$(cd "$LOGDIR" && pwd)
	fi
	if [ -n "${OUT:-}" ]; then
		: >"$OUT" || die "cannot write $OUT"
	fi
}

# bench_workdir: WORK, a fresh directory the user fzc can reach (the
# daemons' control sockets live below it); removed by bench_cleanup.
WORK=
bench_workdir() {
	WORK=$(mktemp -d "/tmp/fzc-bench-${BENCH%.sh}.XXXXXX")
	chmod 755 "$WORK"
}

# cpu_ticks PID...: utime+stime summed. /proc/PID/stat of a process counts
# all of its threads, live and exited, so no need to walk task/.
cpu_ticks() {
	local pid stat total=0
	local -a f
	for pid in "$@"; do
		stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
		# comm may hold spaces: split after its closing parenthesis.
		read -r -a f <<<"${stat##*) }"
		total=$((total + f[11] + f[12]))
	done
	echo "$total"
}

# bench_netns NS...: network namespaces with loopback up, removed by
# bench_cleanup with every process left inside them.
BENCH_NETNS=()
bench_netns() {
	local ns
	for ns in "$@"; do
		ip netns add "$ns" || die "ip netns add $ns"
		BENCH_NETNS+=("$ns")
		# Mounted over /etc/resolv.conf by ip netns exec: a client's
		# DNS control stays in the namespace.
		mkdir -p "/etc/netns/$ns"
		cat /etc/resolv.conf >"/etc/netns/$ns/resolv.conf" 2>/dev/null ||
		    : >"/etc/netns/$ns/resolv.conf"
		ip -n "$ns" link set lo up || die "loopback up in $ns"
	done
}

# bench_cleanup: the namespaces (and whatever still runs in them: only
# ours) and the work directory. For the EXIT trap, after the script's own
# stopping of its daemons.
bench_cleanup() {
	local ns pids
	for ns in "${BENCH_NETNS[@]}"; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		# shellcheck disable=SC2086 # one pid per word
		[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
		ip netns del "$ns" 2>/dev/null
		rm -rf "/etc/netns/$ns"
	done
	BENCH_NETNS=()
	[ -z "$WORK" ] || rm -rf "$WORK"
}

# alive PID: still our child (not a pid reused after bash reaped ours)
# and not a zombie. Every daemon here is started with &.
alive() {
	local st
	local -a f
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	# After the comm (which may hold spaces): state, ppid.
	read -r -a f <<<"${st##*) }"
	[ "${f[0]}" != Z ] && [ "${f[1]}" = "$$" ]
}

# bench_stop SIGNAL PID...: SIGNAL, up to 5 s for the exit, then SIGKILL.
# STOPPED[PID] says how each ended: its exit status, "killed", or
# "gone:STATUS" when it had exited before.
declare -A STOPPED
bench_stop() {
	local sig=$1 pid end rc
	shift
	for pid in "$@"; do
		unset "STOPPED[$pid]"
		if alive "$pid"; then
			kill "-$sig" "$pid" 2>/dev/null || true
		else
			rc=0
			wait "$pid" 2>/dev/null || rc=$?
			STOPPED[$pid]=gone:$rc
		fi
	done
	end=$((SECONDS + 5))
	for pid in "$@"; do
		[ -z "${STOPPED[$pid]:-}" ] || continue
		while alive "$pid" && [ "$SECONDS" -lt "$end" ]; do
			sleep 0.05
		done
		if alive "$pid"; then
			kill -KILL "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
			STOPPED[$pid]=killed
			continue
		fi
		rc=0
		wait "$pid" 2>/dev/null || rc=$?
		STOPPED[$pid]=$rc
	done
}

