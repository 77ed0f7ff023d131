#!/usr/bin/env bash
# run.sh BUILDDIR [TEST...]: fzc's integration tests, as root. Each test runs
# in a subshell with its own network namespaces and work directory.
set -u
[ "$(id -u)" = 0 ] || { echo "run.sh: must run as root" >&2; exit 2; }
B=$(cd "${1:?usage: run.sh BUILDDIR [TEST...]}" && pwd)
shift
HERE=$(cd "$(dirname "$0")" && pwd)
SRCDIR=$(cd "$HERE/../.." && pwd)
# Namespaces of this run carry its pid, so that the cleanup check below
# does not count another run's.
FZC_RUN=$$
# The real parts are Debian's (python3 with python3-websockets, dnsmasq,
# ...): a python3 earlier in PATH, such as a pyenv shim, lacks those
# modules, or takes a second to start, which timing-bound waits miss.
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export B HERE SRCDIR FZC_RUN PATH

# The tests need the fzc and fzc-tunneld users and groups and group
# fzc-admin; they create them and nothing else.
for u in fzc fzc-tunneld; do
	getent passwd $u >/dev/null ||
	    useradd --system --user-group --no-create-home \
	    --shell /usr/sbin/nologin $u
done
getent group fzc-admin >/dev/null || groupadd --system fzc-admin

for f in "$HERE"/tests*.sh; do
	. "$f"
done
if [ $# -gt 0 ]; then
	tests=("$@")
else
	mapfile -t tests < <(cat "$HERE"/tests*.sh | grep -o '^t_[a-z0-9_]*')
fi

passed=0
failed=0
logdir=$(mktemp -d /tmp/fzc-it-logs.XXXXXX)
for t in "${tests[@]}"; do
	log=$logdir/$t.log
	if ( . "$HERE/lib.sh"; ${FZC_TRACE:+set -x}; "$t" ) >"$log" 2>&1; then
		echo "PASS: $t"
		passed=$((passed + 1))
	else
		echo "FAIL: $t"
		sed 's/^/    /' "$log" | tail -40
		failed=$((failed + 1))
	fi
done
rm -rf "$logdir"
# Tests must leave nothing behind: a namespace left over is a failure.
left=$(ip netns list | grep -c "^fzct$FZC_RUN-" || true)
left=$((left + $(find /etc/netns -maxdepth 1 -name "fzct$FZC_RUN-*" \
    2>/dev/null | wc -l)))
if [ "$left" -gt 0 ]; then
	echo "FAIL: cleanup ($left test namespaces left behind)"
	failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
