# scripts/lib.sh: shared by scripts/test, scripts/demo, the test libraries
# and the benchmarks (sourced; it only defines).

# Every Debian 12 package the build, the tests and the demo use.
FZC_PACKAGES=(
	build-essential autoconf automake pkg-config
	libsodium-dev libb2-dev libevent-dev libjansson-dev
	libcurl4-openssl-dev libwslay-dev libmnl-dev libseccomp-dev
	libsystemd-dev libssl-dev zlib1g-dev libbsd-dev check libldns-dev
	libc-ares-dev
	iproute2 util-linux procps passwd systemd
	python3 python3-websockets openssl
	wireguard-go wireguard-tools iputils-ping netcat-openbsd iperf3 ethtool
	coturn nftables conntrack dnsmasq-base bind9-dnsutils dnsdist
	clang-14 libclang-rt-14-dev clang-format
	libgtk-4-dev libdbusmenu-glib-dev libarchive-dev
	xvfb xauth dbus at-spi2-core python3-gi gir1.2-atspi-2.0
	python3-pyatspi xdotool imagemagick libglib2.0-bin
	gir1.2-gdkpixbuf-2.0 librsvg2-common
	desktop-file-utils appstream
	debhelper dpkg-dev fakeroot lintian rpm rpmlint
	debootstrap systemd-container
)

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

fzc_need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "$0: run as root (it installs packages and creates" \
		    "network namespaces)" >&2
		exit 1
	fi
}

# Installs whatever is missing; touches the network only if something is.
fzc_install_deps() {
	local missing=() p
	for p in "${FZC_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "==> installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# --no-install-recommends: recommends would pull in a kernel image.
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# fzc_build DIR [CONFIGURE ARGS...]: an out-of-tree build in DIR.
fzc_build() {
	local dir=$1
	shift
	[ -x configure ] || autoreconf -fi
	mkdir -p "$dir"
	(cd "$dir" && ../../configure -q "$@" && make -s -j"$(nproc)")
}
