# lib.sh: a booted Debian 12 under systemd-nspawn for the package tests
# (sourced by tests/system/run.sh).
#
# The root is made once with debootstrap and kept in $FZC_SYS_CACHE
# (default /var/tmp/fzc-system), under a key of everything it is made
# from: a change to the suite, the package list, the host's apt sources
# or the recipe below makes a new one, and the old ones are removed. Each
# test boots a copy-on-write overlay of it, thrown away afterwards.
# Downloaded .debs are kept in the cache too, for the next run.

FZC_SYS_CACHE=${FZC_SYS_CACHE:-/var/tmp/fzc-system}
SYS_SUITE=bookworm
SYS_INCLUDE=systemd,systemd-sysv,dbus,iproute2,ca-certificates
SYS_RECIPE=2	# bump when the way the root is made changes

SYS_LAYERS=()
SYS_NETNS=()
SYS_LINKS=()

# The host's Debian mirror for the suite, from its apt configuration.
sys_mirror() {
	apt-get indextargets --format '$(REPO_URI) $(RELEASE)' |
	    awk -v s="$SYS_SUITE" '$2 == s { print $1; exit }'
}

# The host's sources, as the container will use them.
sys_sources() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
	    /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && printf '== %s\n' "${f##*/}" && cat "$f"
	done
}

sys_key() {
	{
		echo "$SYS_SUITE $SYS_INCLUDE $SYS_RECIPE $(sys_mirror)"
		sys_sources
	} | sha256sum | cut -c1-16
}

# sys_root: prints the cached root's path, making it first if needed.
# Two runs at once would remove each other's half-made root: the second
# waits for the first (flock on the cache's lock file).
sys_root() {
	mkdir -p "$FZC_SYS_CACHE" || return 1
	(
		flock 9 || exit 1
		sys_root_locked
	) 9>"$FZC_SYS_CACHE/lock"
}

sys_root_locked() {
	local key root tmp mirror f
	key=$(sys_key)
	root=$FZC_SYS_CACHE/root-$key
	if [ -f "$root/.fzc-complete" ]; then
		echo "$root"
		return 0
	fi
	# Stale roots (another key) and half-made ones go.
	for f in "$FZC_SYS_CACHE"/root-* "$FZC_SYS_CACHE"/tmp-*; do
		[ -e "$f" ] && [ "$f" != "$root" ] && rm -rf "$f"
	done
	rm -rf "$root"
	mirror=$(sys_mirror)
	[ -n "$mirror" ] || {
		echo "no $SYS_SUITE mirror in the host's apt sources" >&2
		return 1
	}
	tmp=$FZC_SYS_CACHE/tmp-$key
	echo "==> debootstrap $SYS_SUITE from $mirror (cached in" \
	    "$FZC_SYS_CACHE)" >&2
	debootstrap --variant=minbase --include="$SYS_INCLUDE" \
	    "$SYS_SUITE" "$tmp" "$mirror" >"$FZC_SYS_CACHE/debootstrap.log" \
	    2>&1 || {
		tail -20 "$FZC_SYS_CACHE/debootstrap.log" >&2
		return 1
	}
	# The host's sources (security updates included), not just the
	# mirror debootstrap used.
	rm -f "$tmp"/etc/apt/sources.list
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
	    /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && cp "$f" "$tmp/etc/apt/${f#/etc/apt/}"
	done
	echo fzc-test >"$tmp/etc/hostname"
	# No first-boot questions, no units that wait for hardware.
	: >"$tmp/etc/machine-id"
	# apt's daily timers would take the archives' lock from a test's
	# apt-get at a booted container's start.
	ln -sf /dev/null "$tmp/etc/systemd/system/apt-daily.timer"
	ln -sf /dev/null "$tmp/etc/systemd/system/apt-daily-upgrade.timer"
	systemd-nspawn -q --register=no --keep-unit -D "$tmp" --pipe sh -c \
	    'apt-get update -qq && apt-get clean' >&2 || return 1
	touch "$tmp/.fzc-complete"
	mv "$tmp" "$root"
	echo "$root"
}

# sys_layer VAR: a fresh overlay over the cached root; its merged
# directory goes into VAR.
sys_layer() {
	local _root _d
	_root=$(sys_root) || return 1
	_d=$(mktemp -d "$FZC_SYS_CACHE/layer.XXXXXX")
	mkdir "$_d/upper" "$_d/work" "$_d/merged"
	mount -t overlay overlay -o \
	    "lowerdir=$_root,upperdir=$_d/upper,workdir=$_d/work" \
	    "$_d/merged" || return 1
	SYS_LAYERS+=("$_d")
	mkdir -p "$FZC_SYS_CACHE/archives"
	printf -v "$1" %s "$_d/merged"
}

# sys_fetch DIR PKG...: the packages' dependencies downloaded into the
# shared archive cache, on the host's network, before the boot.
sys_fetch() {
	local dir=$1
	shift
	systemd-nspawn -q --register=no --keep-unit -D "$dir" --pipe \
	    --bind="$FZC_SYS_CACHE/archives:/var/cache/apt/archives" \
	    --bind-ro="$SYS_DIST:/var/tmp/dist" sh -c \
	    "DEBIAN_FRONTEND=noninteractive apt-get install -qq -y \
	    --download-only $* >/dev/null || { apt-get update -qq &&
	    DEBIAN_FRONTEND=noninteractive apt-get install -qq -y \
	    --download-only $* >/dev/null; }"
}

# sys_boot DIR NAME [NSPAWN ARGS...]: boots DIR; sets SYS_PID (nspawn)
# and SYS_LEADER (the container's PID 1), and waits until systemd says
# running or degraded.
sys_boot() {
	local dir=$1 name=$2 i state
	shift 2
	systemd-nspawn -q -b -D "$dir" -M "$name" --register=no --keep-unit \
	    --bind=/dev/net/tun \
	    --bind="$FZC_SYS_CACHE/archives:/var/cache/apt/archives" \
	    --bind-ro="$SYS_DIST:/var/tmp/dist" "$@" \
	    >"${dir%/merged}/console.log" 2>&1 </dev/null &
	SYS_PID=$!
	SYS_LEADER=
	for ((i = 0; i < 300; i++)); do
		SYS_LEADER=$(sys_find_leader)
		[ -n "$SYS_LEADER" ] && break
		sleep 0.1
	done
	[ -n "$SYS_LEADER" ] || {
		echo "container did not start:" >&2
		tail -20 "${dir%/merged}/console.log" >&2
		return 1
	}
	for ((i = 0; i < 300; i++)); do
		state=$(sys_exec systemctl is-system-running 2>/dev/null)
		case $state in
		running|degraded) return 0 ;;
		esac
		sleep 0.1
	done
	echo "container not running after 30 s: $state" >&2
	return 1
}

# The container's PID 1: nspawn's child once it is systemd (before, the
# child may be nspawn's own short-lived helper).
sys_find_leader() {
	local p
	for p in $(pgrep -P "$SYS_PID"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ] &&
		    echo "$p" && return
	done
}

# sys_exec CMD...: CMD inside the booted container.
sys_exec() {
	nsenter --all --target "$SYS_LEADER" -- env -i \
	    PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
	    DEBIAN_FRONTEND=noninteractive "$@"
}

# sys_link NS VAR: a veth pair, one end in NS as 10.213.0.1/24, the
# other (its name in VAR) for the container.
sys_link() {
	local _ns=$1 a=fzs$$a b=fzs$$b
	ip link add "$a" type veth peer name "$b" || return 1
	SYS_LINKS+=("$b")
	ip link set "$a" netns "$_ns"
	ip -n "$_ns" addr add 10.213.0.1/24 dev "$a"
	ip -n "$_ns" link set "$a" up
	printf -v "$2" %s "$b"
}

sys_poweroff() {
	[ -n "${SYS_PID:-}" ] || return 0
	kill -0 "$SYS_PID" 2>/dev/null || return 0
	# SIGRTMIN+4 asks systemd in the container to power off.
	kill -s RTMIN+4 "$SYS_LEADER" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$SYS_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$SYS_PID" 2>/dev/null
	wait "$SYS_PID" 2>/dev/null
	SYS_PID=
}

sys_cleanup() {
	local d l ns
	sys_poweroff
	for d in "${SYS_LAYERS[@]}"; do
		umount "$d/merged" 2>/dev/null || umount -l "$d/merged"
		rm -rf "$d"
	done
	for l in "${SYS_LINKS[@]}"; do
		ip link del "$l" 2>/dev/null
	done
	for ns in "${SYS_NETNS[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL
		ip netns del "$ns" 2>/dev/null
	done
}
