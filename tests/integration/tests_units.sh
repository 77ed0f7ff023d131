# tests_units.sh: the packaged service files, checked without a systemd
# manager (tests/system/ boots one).

# The gateway unit passes systemd-analyze verify with no warning, and
# runs the gateway role on state of its own.
t_gateway_unit() {
	local unit=$WORK/fzc-gateway.service out
	sed "s|^ExecStart=/usr/sbin/fzc-tunneld|ExecStart=$B/fzc-tunneld|" \
	    "$SRCDIR/packaging/systemd/fzc-gateway.service" >"$unit"
	out=$(systemd-analyze verify --recursive-errors=no --man=no \
	    "$unit" 2>&1) || fail "verify: $out" || return 1
	[ -z "$out" ] || fail "verify printed: $out" || return 1
	grep -q -- '--role gateway' "$unit" || fail "not the gateway" ||
	    return 1
	grep -q -- '--state-dir /var/lib/fzc-gateway' "$unit" &&
	    grep -q '^ReadWritePaths=/etc/fzc /var/lib/fzc-gateway$' "$unit" ||
	    fail "state shared with the client" || return 1
}

# The sysusers and tmpfiles snippets are what systemd accepts.
t_service_snippets() {
	local root=$WORK/root out uid d
	mkdir -p "$root/etc"
	: >"$root/etc/passwd"
	: >"$root/etc/group"
	out=$(systemd-sysusers --root="$root" \
	    "$SRCDIR/packaging/systemd/sysusers/fzc.conf" 2>&1) ||
	    fail "sysusers: $out" || return 1
	grep -q '^fzc:x:[0-9]*:[0-9]*:fzc VPN client:/:/usr/sbin/nologin$' \
	    "$root/etc/passwd" || fail "$(cat "$root/etc/passwd")" || return 1
	grep -q '^fzc:x:' "$root/etc/group" || fail "no group" || return 1
	out=$(systemd-tmpfiles --root="$root" --create \
	    "$SRCDIR/packaging/systemd/tmpfiles/fzc.conf" 2>&1) ||
	    fail "tmpfiles: $out" || return 1
	# The data plane's alone (the uid as the root's passwd has it).
	uid=$(sed -n 's/^fzc-tunneld:x:\([0-9]*\):.*/\1/p' "$root/etc/passwd")
	[ -n "$uid" ] || fail "no user fzc-tunneld" || return 1
	for d in etc/fzc var/lib/fzc var/lib/fzc-gateway; do
		[ "$(stat -c '%a %u' "$root/$d")" = "700 $uid" ] ||
		    fail "/$d: $(stat -c '%a %u' "$root/$d")" || return 1
	done
	[ "$(stat -c '%a %u' "$root/etc/fzc/gateway-token")" = "600 $uid" ] ||
	    fail "gateway-token: $(stat -c '%a %u' "$root/etc/fzc/gateway-token")" ||
	    return 1
}
