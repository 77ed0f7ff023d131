# tests_sysdns.sh: the system's resolver while the client runs (issue 13,
# --dns-control). Each namespace has its own /etc/resolv.conf (new_netns
# makes it, ip netns exec mounts it), which the default mode rewrites.
# Uses dns_up and its world from tests_dns.sh.
# Sourced by run.sh; each t_* runs in its own subshell.

# sd_file: the resolv.conf fzc sees in the test's namespace.
sd_file() {
	echo "/etc/netns/$NS/resolv.conf"
}

sd_start() {
	start_tunneld "$NS" "$DIR" --api-url "ws://127.0.0.1:$DNS_PORT" \
	    --interface "fzdn$$" "$@"
}

sd_controld_gone() {
	! ip netns pids "$NS" | xargs -r ps -o comm= -p 2>/dev/null |
	    grep -q '^fzc-controld'
}

# sd_stop SIGNAL: tunneld gone, and its controld with it.
sd_stop() {
	kill "-$1" "$TPID"
	wait "$TPID" 2>/dev/null
	wait_until 5 sd_controld_gone
}

sd_rewritten() {
	grep -q '^nameserver 100.100.111.1$' "$(sd_file)"
}

# The default mode here (no systemd-resolved) rewrites the file in place:
# the sentinel, the portal's search domain before the system's, the
# system's options; names resolve through it; a stop puts back the very
# bytes, and so does the next start after a kill -9.
t_sysdns_resolv_conf() {
	local orig=$WORK/orig.conf out
	dns_up || return 1
	grep -q 'dns: system DNS control: etc-resolv-conf' "$TLOG" ||
	    fail "mode: $(grep 'system DNS' "$TLOG")" || return 1
	wait_until 5 sd_rewritten ||
	    fail "not rewritten: $(cat "$(sd_file)")" || return 1
	grep -q '^search corp.example.com$' "$(sd_file)" ||
	    fail "search: $(cat "$(sd_file)")" || return 1
	# The system's resolver now asks fzc: forwarded, local and by the
	# search domain.
	out=$(ip netns exec "$NS" getent ahostsv4 plain.example.org)
	grep -q '^10.9.8.7 ' <<<"$out" || fail "forwarded: $out" || return 1
	out=$(ip netns exec "$NS" getent ahostsv4 web.corp.example.com)
	grep -q '^100.96.0.[0-9]* ' <<<"$out" ||
	    fail "resource name: $out" || return 1
	out=$(ip netns exec "$NS" getent ahostsv4 git)
	grep -q '^100.96.0.[0-9]* .*git.corp.example.com' <<<"$out" ||
	    fail "search domain: $out" || return 1
	sd_stop TERM
	# A system file with search domains and options of its own.
	printf '# the system'"'"'s\nsearch lan.example\noptions ndots:2 timeout:1\nnameserver %s\n' \
	    "$DNS_UPSTREAM" >"$(sd_file)"
	cp "$(sd_file)" "$orig"
	sd_start || return 1
	wait_until 10 sd_rewritten ||
	    fail "not rewritten again: $(tail -5 "$TLOG")" || return 1
	grep -q '^search corp.example.com lan.example$' "$(sd_file)" &&
	    grep -q '^options ndots:2 timeout:1$' "$(sd_file)" &&
	    ! grep -q "$DNS_UPSTREAM" "$(sd_file)" ||
	    fail "merged: $(cat "$(sd_file)")" || return 1
	[ -e "$DIR/state/resolv.conf.before-fzc" ] ||
	    fail "no copy of the original in the state directory" || return 1
	# Forwarding still goes to the system's resolver, read from the
	# original, not from the file fzc wrote.
	out=$(ip netns exec "$NS" getent ahostsv4 plain.example.org)
	grep -q '^10.9.8.7 ' <<<"$out" || fail "forwarded: $out" || return 1
	sd_stop KILL
	sd_rewritten || fail "a kill -9 cannot put anything back" || return 1
	sd_start || return 1
	wait_until 10 grep -q 'put back as it was before fzc' "$TLOG" ||
	    fail "no restore at start: $(tail -5 "$TLOG")" || return 1
	wait_until 10 sd_rewritten || fail "not rewritten after the restart" ||
	    return 1
	sd_stop TERM
	cmp -s "$orig" "$(sd_file)" ||
	    fail "not put back byte for byte: $(diff "$orig" "$(sd_file)")" ||
	    return 1
	[ ! -e "$DIR/state/resolv.conf.before-fzc" ] ||
	    fail "copy left behind" || return 1
}

# --dns-control disabled (and FIREZONE_DNS_CONTROL, Firezone's variable)
# leaves the file alone while DNS to the sentinels still works; a mode
# fzc does not know is refused at the start.
t_sysdns_disabled() {
	local before out
	new_netns NS sdd || return 1
	out=$(ip netns exec "$NS" "$B/fzc-tunneld" --dns-control bogus 2>&1) &&
	    fail "--dns-control bogus accepted" || true
	grep -q 'use systemd-resolved, etc-resolv-conf or disabled' <<<"$out" ||
	    fail "bad mode: $out" || return 1
	out=$(FIREZONE_DNS_CONTROL=bogus ip netns exec "$NS" \
	    "$B/fzc-tunneld" 2>&1) && fail "FIREZONE_DNS_CONTROL accepted" ||
	    true
	grep -q 'FIREZONE_DNS_CONTROL bogus' <<<"$out" ||
	    fail "bad variable: $out" || return 1
	FIREZONE_DNS_CONTROL=disabled dns_up || return 1
	before=$(cat "$(sd_file)")
	grep -q 'dns: system DNS control: disabled' "$TLOG" ||
	    fail "mode: $(grep 'system DNS' "$TLOG")" || return 1
	dns_dig_ok plain.example.org || fail "sentinel" || return 1
	sleep 1
	[ "$(cat "$(sd_file)")" = "$before" ] ||
	    fail "file changed: $(cat "$(sd_file)")" || return 1
}
