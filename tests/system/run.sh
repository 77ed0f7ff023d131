#!/usr/bin/env bash
# run.sh [DIST]: the packages in DIST (default dist/, from scripts/package)
# as a user meets them, on a booted Debian 12 under systemd-nspawn (see
# lib.sh): the .deb installed with apt, signed in against the stub portal,
# restarted, upgraded, stopped and purged; the .rpm installed with rpm and
# its scriptlets, started and erased. As root. Ends with "N passed, N
# failed".
set -u
[ "$(id -u)" = 0 ] || { echo "run.sh: must run as root" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
SRCDIR=$(cd "$HERE/../.." && pwd)
SYS_DIST=$(cd "${1:-$SRCDIR/dist}" && pwd)
. "$SRCDIR/scripts/lib.sh"
. "$HERE/lib.sh"

DEB=$(ls "$SYS_DIST"/fzc_*.deb 2>/dev/null | tail -n 1)
# fzc-[0-9]: not fzc-gui's.
RPM=$(ls "$SYS_DIST"/fzc-[0-9]*.rpm 2>/dev/null | tail -n 1)
GUI_DEB=$(ls "$SYS_DIST"/fzc-gui_*.deb 2>/dev/null | tail -n 1)
[ -n "$DEB" ] && [ -n "$RPM" ] ||
    { echo "run.sh: no fzc .deb and .rpm in $SYS_DIST" >&2; exit 2; }
DEB=/var/tmp/dist/${DEB##*/}
RPM=/var/tmp/dist/${RPM##*/}
[ -n "$GUI_DEB" ] && GUI_DEB=/var/tmp/dist/${GUI_DEB##*/}
TOKEN=tok-system-test
PORTAL_IP=10.213.0.1
CT_IP=10.213.0.2

fail() {
	echo "    assertion failed: $*" >&2
	return 1
}

# A stub portal over TLS in a namespace of its own, reachable from the
# container over a veth pair. Sets PORTAL_URL, and CA to the CA's file.
start_portal() {
	local ns=fzcsys$$ d=$WORK/pki port
	ip netns add "$ns" || return 1
	SYS_NETNS+=("$ns")
	ip -n "$ns" link set lo up
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/ca.key" -out "$d/ca.crt" -days 1 \
	    -subj "/CN=fzc system test CA" 2>/dev/null &&
	    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/portal.key" -out "$d/portal.csr" \
	    -subj "/CN=$PORTAL_IP" 2>/dev/null &&
	    printf 'subjectAltName=IP:%s\n' "$PORTAL_IP" >"$d/san" &&
	    openssl x509 -req -in "$d/portal.csr" -CA "$d/ca.crt" \
	    -CAkey "$d/ca.key" -CAcreateserial -days 1 -extfile "$d/san" \
	    -out "$d/portal.crt" 2>/dev/null || fail "openssl" || return 1
	CA=$d/ca.crt
	sys_link "$ns" LINK || return 1
	cat >"$WORK/scenario.json" <<'JSON'
{
  "interface": {"ipv4": "100.71.34.9", "ipv6": "fd00:2021:1111::a:3b21",
                "search_domain": "corp.example.com",
                "upstream_do53": [{"ip": "10.213.0.1"}], "upstream_doh": []},
  "sites": [{"id": "5d1b0c9a-7e3f-4a21-8c6d-9e8f7a6b5c4d", "name": "HQ"},
            {"id": "e1d2c3b4-a596-4877-8695-a4b3c2d1e0f9",
             "name": "Internet"}],
  "resources": [
    {"id": "a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7a", "type": "cidr",
     "address": "10.20.0.0/16", "name": "HQ LAN",
     "address_description": null, "filters": [],
     "sites": [{"id": "5d1b0c9a-7e3f-4a21-8c6d-9e8f7a6b5c4d",
                "name": "HQ"}]},
    {"id": "0f6a8c1e-5b8e-4d5f-9a3c-11a2b3c4d5e6", "type": "dns",
     "address": "*.corp.example.com", "name": "Corp",
     "address_description": null, "filters": [], "ip_stack": "dual",
     "sites": [{"id": "5d1b0c9a-7e3f-4a21-8c6d-9e8f7a6b5c4d",
                "name": "HQ"}]},
    {"id": "c3b2a190-8f7e-4d6c-b5a4-93827160f5e4", "type": "internet",
     "can_be_disabled": true,
     "sites": [{"id": "e1d2c3b4-a596-4877-8695-a4b3c2d1e0f9",
                "name": "Internet"}]}],
  "relays": []
}
JSON
	: >"$WORK/portal.out"
	ip netns exec "$ns" /usr/bin/python3 \
	    "$SRCDIR/tests/portal/stub_portal.py" --listen "$PORTAL_IP:0" \
	    --cert "$d/portal.crt" --key "$d/portal.key" --token "$TOKEN" \
	    --scenario "$WORK/scenario.json" >"$WORK/portal.out" \
	    2>"$WORK/portal.log" &
	wait_until 10 grep -q '^PORT ' "$WORK/portal.out" ||
	    fail "stub portal: $(tail -5 "$WORK/portal.log")" || return 1
	PORTAL_URL=wss://$PORTAL_IP:$(awk '/^PORT /{print $2}' \
	    "$WORK/portal.out")
}

# The container's end of the veth, moved in (nspawn's
# --network-interface wants udev to have seen it) and addressed.
container_net() {
	ip link set "$LINK" netns "$SYS_LEADER" &&
	    sys_exec ip addr add "$CT_IP/24" dev "$LINK" &&
	    sys_exec ip link set "$LINK" up
}

# active_no_restarts UNIT: active now, and still, with no restart, a
# moment later (a failing start hides behind "Could not execute").
active_no_restarts() {
	wait_until 15 sh -c "[ \"\$(nsenter --all --target $SYS_LEADER \
	    systemctl is-active $1)\" = active ]" ||
	    fail "$1 not active: $(sys_exec systemctl status "$1" |
	    tail -20)" || return 1
	sleep 3
	[ "$(sys_exec systemctl is-active "$1")" = active ] ||
	    fail "$1 did not stay active: $(sys_exec journalctl -u "$1" |
	    tail -20)" || return 1
	[ "$(sys_exec systemctl show -P NRestarts "$1")" = 0 ] ||
	    fail "$1 restarted: $(sys_exec journalctl -u "$1" | tail -20)" ||
	    return 1
}

# fzc's processes in the container (minbase has no pgrep).
fzc_procs() {
	sys_exec sh -c 'cat /proc/[0-9]*/comm 2>/dev/null' | grep '^fzc-'
}

# Under systemd as by hand: one fzc-tunneld (the data plane) runs as
# fzc-tunneld under its seccomp filter.
data_plane_confined() {
	local out
	out=$(sys_exec sh -c 'u=$(id -u fzc-tunneld)
	for d in /proc/[0-9]*; do
		[ "$(cat $d/comm 2>/dev/null)" = fzc-tunneld ] || continue
		grep -q "^Uid:[[:space:]]*$u[[:space:]]" $d/status &&
		    grep -q "^Seccomp:[[:space:]]*2" $d/status && echo confined
	done')
	[ "$out" = confined ] || fail "no confined data plane: $out" || return 1
}

portal_state() {
	sys_exec fzc --json status | python3 -c \
	    'import json,sys; print(json.load(sys.stdin)["portal"]["state"])'
}

connected() {
	[ "$(portal_state 2>/dev/null)" = connected ]
}

# What fzc leaves in the kernel: the TUN device, its routes, the rules to
# fzc's tables (0x667a63, 0x667a64) or with fzc's mark.
fzc_net_traces() {
	sys_exec ip -o link show type tun
	sys_exec ip -o route show table all | grep -E 'dev fzc|table 671600[34]'
	sys_exec ip -o rule show | grep -E '0x667a63|671600[34]'
	sys_exec ip -o -6 rule show | grep -E '0x667a63|671600[34]'
}

t_deb() {
	local dir id id2 out
	start_portal || return 1
	sys_layer dir || return 1
	sys_fetch "$dir" "$DEB" || fail "fetching dependencies" || return 1
	sys_boot "$dir" "fzct$$" --private-network || return 1
	container_net || return 1

	echo "==> apt-get install the .deb"
	sys_exec apt-get install -y -q "$DEB" >"$WORK/apt.log" 2>&1 ||
	    fail "apt-get install: $(tail -20 "$WORK/apt.log")" || return 1
	active_no_restarts fzc.service || return 1
	# The data plane and the spawner, both fzc-tunneld; controld.
	[ "$(fzc_procs | sort | tr '\n' ' ')" = \
	    "fzc-controld fzc-tunneld fzc-tunneld " ] ||
	    fail "processes: $(fzc_procs)" || return 1
	data_plane_confined || return 1
	[ "$(sys_exec systemctl is-enabled fzc-gateway.service)" = disabled ] ||
	    fail "fzc-gateway enabled" || return 1
	[ "$(sys_exec systemctl is-active fzc-gateway.service)" = inactive ] ||
	    fail "fzc-gateway running" || return 1
	out=$(sys_exec systemd-analyze verify --recursive-errors=yes --man=no \
	    fzc.service fzc-gateway.service 2>&1) ||
	    fail "verify: $out" || return 1
	out=$(sys_exec fzc status) || fail "fzc status: $out" || return 1
	grep -q '^daemons:   running' <<<"$out" || fail "$out" || return 1
	sys_exec getent passwd fzc >/dev/null || fail "no user fzc" || return 1
	sys_exec getent group fzc-admin >/dev/null ||
	    fail "no group fzc-admin" || return 1
	[ "$(sys_exec stat -c '%a %G' /run/fzc/control.sock)" = "660 fzc" ] ||
	    fail "control socket mode" || return 1
	sys_exec man -w fzc >/dev/null 2>&1 ||
	    [ -e "$dir/usr/share/man/man1/fzc.1.gz" ] ||
	    fail "no man page" || return 1

	echo "==> sign in against the stub portal"
	cp "$CA" "$dir/etc/fzc-test-ca.pem"
	chmod 644 "$dir/etc/fzc-test-ca.pem"
	printf 'FIREZONE_API_URL=%s\nFZC_OPTS=--ca-file /etc/fzc-test-ca.pem\n' \
	    "$PORTAL_URL" >"$dir/etc/default/fzc"
	sys_exec systemctl restart fzc.service || fail "restart" || return 1
	active_no_restarts fzc.service || return 1
	printf '%s\n' "$TOKEN" | nsenter --all --target "$SYS_LEADER" \
	    fzc sign-in >/dev/null || fail "fzc sign-in" || return 1
	wait_until 15 connected || fail "not connected: $(sys_exec fzc status;
	    tail -5 "$WORK/portal.log")" || return 1
	sys_exec fzc resources | grep -q 'HQ LAN' ||
	    fail "no resources" || return 1
	sys_exec fzc internet on >/dev/null || fail "internet on" || return 1
	[ -n "$(fzc_net_traces)" ] || fail "no TUN device or rules" || return 1

	echo "==> restart keeps the device id, the token, the switch"
	id=$(sys_exec cat /var/lib/fzc/device-id)
	[ -n "$id" ] || fail "no device id" || return 1
	sys_exec systemctl restart fzc.service || fail "restart" || return 1
	active_no_restarts fzc.service || return 1
	wait_until 15 connected || fail "not connected after restart" ||
	    return 1
	[ "$(sys_exec cat /var/lib/fzc/device-id)" = "$id" ] ||
	    fail "device id changed on restart" || return 1

	echo "==> upgrade (reinstall) keeps them too"
	sys_exec apt-get install -y -q --reinstall "$DEB" >"$WORK/apt.log" \
	    2>&1 || fail "reinstall: $(tail -20 "$WORK/apt.log")" || return 1
	active_no_restarts fzc.service || return 1
	wait_until 15 connected || fail "not connected after upgrade" ||
	    return 1
	id2=$(sys_exec cat /var/lib/fzc/device-id)
	[ "$id2" = "$id" ] || fail "device id changed: $id2" || return 1
	sys_exec fzc --json status | grep -q '"internet":"on"' ||
	    fail "Internet switch lost: $(sys_exec fzc --json status)" ||
	    return 1
	grep -q "$TOKEN" "$dir/etc/fzc/token" || fail "token lost" || return 1

	echo "==> the token as a credential (LoadCredential=token:...)"
	mkdir -p "$dir/etc/systemd/system/fzc.service.d"
	printf '[Service]\nLoadCredential=token:/etc/fzc/token\n' \
	    >"$dir/etc/systemd/system/fzc.service.d/credential.conf"
	sys_exec systemctl daemon-reload
	sys_exec systemctl restart fzc.service || fail "restart" || return 1
	active_no_restarts fzc.service || return 1
	wait_until 15 connected || fail "not connected with the credential" ||
	    return 1
	sys_exec journalctl -b -u fzc.service |
	    grep -q 'token from the credential /run/credentials/fzc.service/token' ||
	    fail "credential not used" || return 1
	rm -r "$dir/etc/systemd/system/fzc.service.d"
	sys_exec systemctl daemon-reload
	# The gateway unit loads its token that way, and starts without one.
	sys_exec systemctl start fzc-gateway.service ||
	    fail "gateway start" || return 1
	active_no_restarts fzc-gateway.service || return 1
	echo gateway-token >"$dir/etc/fzc/gateway-token"
	sys_exec systemctl restart fzc-gateway.service ||
	    fail "gateway restart" || return 1
	active_no_restarts fzc-gateway.service || return 1
	sys_exec journalctl -b -u fzc-gateway.service |
	    grep -q 'token from the credential' ||
	    fail "gateway credential not used" || return 1
	sys_exec fzc --control-socket /run/fzc-gateway/control.sock status |
	    grep -q 'gateway role' || fail "gateway status" || return 1
	sys_exec systemctl stop fzc-gateway.service

	echo "==> stop removes the device, routes and rules"
	sys_exec systemctl stop fzc.service || fail "stop" || return 1
	out=$(fzc_net_traces)
	[ -z "$out" ] || fail "left after stop: $out" || return 1
	sys_exec systemctl start fzc.service || fail "start" || return 1
	active_no_restarts fzc.service || return 1

	echo "==> purge leaves nothing"
	# An enabled, running gateway goes too.
	sys_exec systemctl enable --now fzc-gateway.service 2>/dev/null ||
	    fail "gateway enable" || return 1
	sys_exec apt-get purge -y -q fzc >"$WORK/apt.log" 2>&1 ||
	    fail "purge: $(tail -20 "$WORK/apt.log")" || return 1
	out=$(fzc_procs)
	[ -z "$out" ] || fail "processes left: $out" || return 1
	out=$(sys_exec systemctl list-units --all --no-legend 'fzc*')
	[ -z "$out" ] || fail "units left: $out" || return 1
	out=$(sys_exec systemctl list-unit-files --no-legend 'fzc*')
	[ -z "$out" ] || fail "unit files left: $out" || return 1
	for f in /var/lib/fzc /etc/fzc /run/fzc /etc/default/fzc \
	    /usr/sbin/fzc-tunneld; do
		! sys_exec test -e "$f" || fail "$f left" || return 1
	done
	! sys_exec getent passwd fzc >/dev/null || fail "user fzc left" ||
	    return 1
	! sys_exec getent group fzc-admin >/dev/null ||
	    fail "group fzc-admin left" || return 1
	out=$(fzc_net_traces)
	[ -z "$out" ] || fail "left after purge: $out" || return 1
}

# The desktop package: fzc-gui installed with apt beside fzc (nothing it
# links to missing), runs headless for --version as a desktop user and
# refuses root, its desktop entry, AppStream metadata and icons installed
# and valid, and it goes again with apt, leaving fzc running.
t_gui_deb() {
	local dir out f app=/usr/share/applications/dev.fzc.Gui.desktop
	local info=/usr/share/metainfo/dev.fzc.Gui.metainfo.xml
	[ -n "$GUI_DEB" ] || fail "no fzc-gui .deb in $SYS_DIST" || return 1
	sys_layer dir || return 1
	sys_fetch "$dir" "$DEB" "$GUI_DEB" || fail "fetching dependencies" ||
	    return 1
	sys_boot "$dir" "fzcg$$" --private-network || return 1

	echo "==> apt-get install fzc and fzc-gui"
	sys_exec apt-get install -y -q "$DEB" "$GUI_DEB" >"$WORK/apt.log" \
	    2>&1 || fail "apt-get install: $(tail -20 "$WORK/apt.log")" ||
	    return 1
	active_no_restarts fzc.service || return 1
	[ "$(sys_exec sh -c 'command -v fzc-gui')" = /usr/bin/fzc-gui ] ||
	    fail "no fzc-gui in PATH" || return 1
	out=$(sys_exec ldd /usr/bin/fzc-gui) || fail "ldd: $out" || return 1
	! grep -q 'not found' <<<"$out" ||
	    fail "libraries missing: $(grep 'not found' <<<"$out")" ||
	    return 1
	out=$(sys_exec runuser -u nobody -- fzc-gui --version 2>&1) ||
	    fail "fzc-gui --version: $out" || return 1
	[ "$out" = "fzc-gui $(dpkg-deb -f "$SYS_DIST/${GUI_DEB##*/}" \
	    Version | sed 's/-[^-]*$//')" ] ||
	    fail "fzc-gui --version said: $out" || return 1
	if out=$(sys_exec fzc-gui --version 2>&1); then
		fail "fzc-gui ran as root: $out" || return 1
	fi
	grep -q 'refusing to run as root' <<<"$out" ||
	    fail "no reason for refusing root: $out" || return 1

	echo "==> desktop entry, metadata and icons"
	for f in "$app" "$info" \
	    /usr/share/icons/hicolor/scalable/apps/dev.fzc.Gui.svg \
	    /usr/share/icons/hicolor/scalable/status/fzc-connected.svg \
	    /usr/share/man/man1/fzc-gui.1.gz; do
		[ -s "$dir$f" ] || fail "$f not installed" || return 1
	done
	out=$(desktop-file-validate "$dir$app" 2>&1) && [ -z "$out" ] ||
	    fail "desktop-file-validate: $out" || return 1
	grep -qx 'Exec=fzc-gui %u' "$dir$app" &&
	    grep -q '^MimeType=.*x-scheme-handler/firezone-fd0020211111;' \
	    "$dir$app" || fail "entry: $(cat "$dir$app")" || return 1
	out=$(appstreamcli validate --no-net "$dir$info" 2>&1) ||
	    fail "appstreamcli: $out" || return 1

	echo "==> apt-get purge fzc-gui leaves fzc running"
	sys_exec apt-get purge -y -q fzc-gui >"$WORK/apt.log" 2>&1 ||
	    fail "purge: $(tail -20 "$WORK/apt.log")" || return 1
	for f in /usr/bin/fzc-gui "$app" "$info"; do
		! sys_exec test -e "$f" || fail "$f left" || return 1
	done
	active_no_restarts fzc.service
}

# The .rpm into a Debian layer: rpm (with an empty database, hence
# --nodeps) runs the spec's scriptlets under the container's systemd.
t_rpm() {
	local dir deps out
	sys_layer dir || return 1
	# What the .deb depends on, by Debian's names, and rpm itself.
	deps=$(dpkg-deb -f "$SYS_DIST/${DEB##*/}" Depends |
	    sed 's/([^)]*)//g; s/|[^,]*//g; s/,/ /g')
	systemd-nspawn -q --register=no --keep-unit -D "$dir" --pipe \
	    --bind="$FZC_SYS_CACHE/archives:/var/cache/apt/archives" sh -c \
	    "DEBIAN_FRONTEND=noninteractive apt-get install -qq -y \
	    --no-install-recommends rpm $deps >/dev/null" ||
	    fail "installing rpm and the libraries" || return 1
	sys_boot "$dir" "fzcr$$" --private-network || return 1

	echo "==> rpm -i (scriptlets under systemd)"
	sys_exec rpm --initdb >/dev/null 2>&1
	out=$(sys_exec rpm -i --nodeps "$RPM" 2>&1) ||
	    fail "rpm -i: $out" || return 1
	active_no_restarts fzc.service || return 1
	# The data plane and the spawner, both fzc-tunneld; controld.
	[ "$(fzc_procs | sort | tr '\n' ' ')" = \
	    "fzc-controld fzc-tunneld fzc-tunneld " ] ||
	    fail "processes: $(fzc_procs)" || return 1
	data_plane_confined || return 1
	[ "$(sys_exec systemctl is-enabled fzc-gateway.service)" = disabled ] ||
	    fail "fzc-gateway enabled" || return 1
	sys_exec fzc status | grep -q '^daemons:   running' ||
	    fail "fzc status" || return 1
	# --nodeps: Debian's libraries are not in the rpm database.
	out=$(sys_exec rpm -V --nodeps fzc 2>&1) || fail "rpm -V: $out" ||
	    return 1

	echo "==> rpm -e"
	out=$(sys_exec rpm -e fzc 2>&1) || fail "rpm -e: $out" || return 1
	out=$(fzc_procs)
	[ -z "$out" ] || fail "processes left: $out" || return 1
	for f in /var/lib/fzc /etc/fzc /run/fzc /usr/sbin/fzc-tunneld; do
		! sys_exec test -e "$f" || fail "$f left" || return 1
	done
	! sys_exec getent passwd fzc >/dev/null || fail "user fzc left" ||
	    return 1
}

# The system's resolver under the service (--dns-control's default): the
# container's /etc/resolv.conf rewritten and put back byte for byte at the
# stop; then with systemd-resolved installed, the tunnel link's DNS
# servers and routing domain in resolved, a name of a DNS resource
# resolved through it, and nothing left in resolved after the stop.
t_deb_dns() {
	local dir before ifname out
	start_portal || return 1
	sys_layer dir || return 1
	sys_fetch "$dir" "$DEB" systemd-resolved ||
	    fail "fetching dependencies" || return 1
	sys_boot "$dir" "fzcd$$" --private-network --resolv-conf=copy-host ||
	    return 1
	container_net || return 1
	sys_exec apt-get install -y -q "$DEB" >"$WORK/apt.log" 2>&1 ||
	    fail "apt-get install: $(tail -20 "$WORK/apt.log")" || return 1
	cp "$CA" "$dir/etc/fzc-test-ca.pem"
	chmod 644 "$dir/etc/fzc-test-ca.pem"
	printf 'FIREZONE_API_URL=%s\nFZC_OPTS=--ca-file /etc/fzc-test-ca.pem\n' \
	    "$PORTAL_URL" >"$dir/etc/default/fzc"
	sys_exec systemctl stop fzc.service
	before=$(sys_exec sha256sum /etc/resolv.conf)
	sys_exec systemctl start fzc.service || fail "start" || return 1
	active_no_restarts fzc.service || return 1
	printf '%s\n' "$TOKEN" | nsenter --all --target "$SYS_LEADER" \
	    fzc sign-in >/dev/null || fail "fzc sign-in" || return 1
	wait_until 15 connected || fail "not connected: $(sys_exec fzc status)" ||
	    return 1

	echo "==> /etc/resolv.conf asks fzc's sentinel"
	wait_until 10 sys_exec grep -q '^nameserver 100.100.111.1$' \
	    /etc/resolv.conf ||
	    fail "not rewritten: $(sys_exec cat /etc/resolv.conf;
	    sys_exec journalctl -u fzc.service | grep dns: | tail -5)" ||
	    return 1
	sys_exec grep -q '^search corp.example.com' /etc/resolv.conf ||
	    fail "search: $(sys_exec cat /etc/resolv.conf)" || return 1
	sys_exec journalctl -u fzc.service |
	    grep -q 'system DNS control: etc-resolv-conf' ||
	    fail "mode not logged" || return 1
	sys_exec systemctl stop fzc.service || fail "stop" || return 1
	[ "$(sys_exec sha256sum /etc/resolv.conf)" = "$before" ] ||
	    fail "not put back: $(sys_exec cat /etc/resolv.conf)" || return 1

	echo "==> with systemd-resolved"
	sys_exec apt-get install -y -q systemd-resolved >"$WORK/apt.log" 2>&1 ||
	    fail "installing systemd-resolved: $(tail -20 "$WORK/apt.log")" ||
	    return 1
	# The bus takes resolved's policy once told to, and resolved its name
	# once started after that.
	sys_exec systemctl reload dbus.service
	sys_exec systemctl restart systemd-resolved.service
	wait_until 15 sys_exec resolvectl status >/dev/null ||
	    fail "resolved not on the bus: $(sys_exec resolvectl status 2>&1)" ||
	    return 1
	sys_exec systemctl start fzc.service || fail "start" || return 1
	active_no_restarts fzc.service || return 1
	wait_until 15 connected || fail "not connected" || return 1
	ifname=$(sys_exec ip -o link show type tun | awk -F': ' '{print $2; exit}')
	[ -n "$ifname" ] || fail "no TUN device" || return 1
	wait_until 10 sh -c "nsenter --all --target $SYS_LEADER resolvectl \
	    dns $ifname | grep -q 100.100.111.1" ||
	    fail "link DNS: $(sys_exec resolvectl status "$ifname";
	    sys_exec journalctl -u fzc.service | grep dns: | tail -5)" ||
	    return 1
	out=$(sys_exec resolvectl domain "$ifname")
	grep -q '~\.' <<<"$out" && grep -q 'corp.example.com' <<<"$out" ||
	    fail "link domains: $out" || return 1
	sys_exec journalctl -u fzc.service |
	    grep -q 'system DNS control: systemd-resolved' ||
	    fail "mode not logged" || return 1
	out=$(sys_exec resolvectl query --legend=no -4 web.corp.example.com 2>&1)
	grep -q '100\.96\.' <<<"$out" ||
	    fail "a resource name through resolved: $out" || return 1
	sys_exec systemctl stop fzc.service || fail "stop" || return 1
	! sys_exec resolvectl dns | grep -q 100.100.111.1 ||
	    fail "left in resolved: $(sys_exec resolvectl dns)" || return 1
}

passed=0
failed=0
tests=(t_deb t_deb_dns t_gui_deb t_rpm)
[ $# -gt 1 ] && tests=("${@:2}")
for t in "${tests[@]}"; do
	WORK=$(mktemp -d /tmp/fzc-sys.XXXXXX)
	start=$SECONDS
	if ( trap sys_cleanup EXIT; "$t" ) >"$WORK/log" 2>&1; then
		echo "PASS: $t ($((SECONDS - start)) s)"
		passed=$((passed + 1))
	else
		echo "FAIL: $t"
		sed 's/^/    /' "$WORK/log" | tail -40
		failed=$((failed + 1))
	fi
	rm -rf "$WORK"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
