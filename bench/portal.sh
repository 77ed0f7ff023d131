#!/bin/bash
# bench/portal.sh: the portal session's costs (issue 4, "Benchmarks"), all
# measured in one run against the stub portal (tests/portal/) over TLS, in a
# private network namespace:
#
#  * time for fzc-controld to take an `init` with N resources (default
#    10,000; a mix of dns and cidr resources with realistic fields) until
#    the control socket's `resources` command lists all N, several times;
#    next to it, as the reference, Python's json.loads of the same frame on
#    the same machine (the stub's own interpreter);
#  * fzc-controld's VmRSS and VmHWM idle with 0 resources, after the first
#    N-resource init and after the last one;
#  * reconnect time after the stub is killed and started again at once on
#    the same port.
#
# Run as root. The report goes to stdout, progress to stderr; -o FILE also
# writes the numbers as TSV. Nothing is asserted: the exit status is
# non-zero only when a setup step fails, and the message says which.
set -euo pipefail

usage() {
	cat <<EOF
usage: $0 [-q] [-n RESOURCES] [-r REPS] [-o FILE] [-b BUILDDIR] [-l LOGDIR]
  -q            quick check of the script: 1,000 resources, 2 repetitions
  -n RESOURCES  resources in the init (default 10000; 1000 with -q)
  -r REPS       repetitions of the init and of the restart (default 5; 2 with -q)
  -o FILE       also write the results to FILE as TSV
  -b BUILDDIR   where fzc, fzc-tunneld and fzc-controld were built
                (default: \$FZC_BUILD, else build/plain, else the source tree)
  -l LOGDIR     keep the daemons' and the stub's logs there
EOF
}

BENCH=portal.sh
. "$(dirname "$0")/lib.sh"
BUILD=
QUICK=0
NRES=
REPS=
OUT=
LOGDIR=
while getopts "qn:r:o:b:l:h" opt; do
	case $opt in
	q) QUICK=1 ;;
	n) NRES=$OPTARG ;;
	r) REPS=$OPTARG ;;
	o) OUT=$OPTARG ;;
	b) BUILD=$OPTARG ;;
	l) LOGDIR=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || { usage >&2; exit 2; }
if [ "$QUICK" = 1 ]; then
	NRES=${NRES:-1000} REPS=${REPS:-2}
else
	NRES=${NRES:-10000} REPS=${REPS:-5}
fi
[[ $NRES =~ ^[0-9]+$ ]] && [ "$NRES" -ge 1 ] && [ "$NRES" -le 100000 ] ||
    { echo "-n: a number of resources from 1 to 100000: $NRES" >&2; exit 2; }
[[ $REPS =~ ^[1-9][0-9]*$ ]] || { echo "-r: not a count: $REPS" >&2; exit 2; }

PY=/usr/bin/python3      # Debian's, with python3-websockets: the stub's
STUB=$SRCDIR/tests/portal/stub_portal.py
TOKEN=bench-token-$$
CONNECT_TIMEOUT=30       # first sign-in, and each reconnect
APPLY_TIMEOUT=60         # one init, from send_init to all resources listed

# --- prerequisites --------------------------------------------------------

bench_need_root "network namespace, TUN device"
bench_need_tools "iproute2 openssl" ip openssl awk
[ -x "$PY" ] || die "$PY not found (apt-get install -y python3 python3-websockets)"
"$PY" -c 'import websockets' 2>/dev/null ||
    die "$PY cannot import websockets (apt-get install -y python3-websockets)"
[ -r "$STUB" ] || die "no stub portal at $STUB"
bench_build "$BUILD"
bench_outputs

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# --- resources, and their removal on any exit ----------------------------

NS=fzcpb-$$
bench_workdir
FZC_SOCK=$WORK/run/control.sock
STUB_SOCK=$WORK/stub.sock
FZC_LOG=$WORK/fzc.log
STUB_LOG=$WORK/stub.log
TUNNELD_PID=
STUB_PID=
PORT=

cleanup() {
	set +e
	trap - EXIT INT TERM HUP
	[ -n "$TUNNELD_PID" ] && bench_stop TERM "$TUNNELD_PID"
	[ -n "$STUB_PID" ] && bench_stop KILL "$STUB_PID"
	if [ -n "$LOGDIR" ]; then
		cp "$FZC_LOG" "$STUB_LOG" "$LOGDIR/" 2>/dev/null
	fi
	bench_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- the helper: scenario, reference, and the timed loops -----------------

# Python, because it talks to two UNIX sockets in tight loops: the stub's
# control channel and fzc-controld's control socket (the one `fzc` uses;
# one JSON request a line, one JSON answer a line).
cat >"$WORK/helper.py" <<'PY'
import json, random, socket, statistics, sys, time, uuid

def rpc(path, obj, timeout=30):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    s.sendall(json.dumps(obj).encode() + b"\n")
    buf = bytearray()
    while not buf.endswith(b"\n"):
        b = s.recv(1 << 20)
        if not b:
            break
        buf += b
    s.close()
    return json.loads(buf)

def stub(sock, obj, timeout=30):
    r = rpc(sock, obj, timeout)
    if not r.get("ok"):
        raise RuntimeError("stub %s: %s" % (obj.get("cmd"), r.get("error")))
    return r

def fzc(sock, command):
    r = rpc(sock, {"command": command})
    if not r.get("ok", True) and "error" in r:
        raise RuntimeError("fzc %s: %s" % (command, r["error"]))
    return r

def nres(sock):
    return len(fzc(sock, "resources")["resources"])

def portal(sock):
    st = fzc(sock, "status")
    return st.get("portal") or {}, st

def gen(n, out):
    """A scenario with n resources: 60 % dns, 40 % cidr (IPv4 nets, single
    IPv4 and IPv6 hosts, IPv6 nets), names, descriptions, filters, ip_stack
    and one of 8 sites each, as PROTOCOL 2.2 shows them."""
    rnd = random.Random(4)
    ns = uuid.UUID("8b0c3f5e-0f7a-4c1e-9d7e-6a5b4c3d2e1f")
    sites = [{"id": str(uuid.uuid5(ns, "site%d" % i)), "name": name}
             for i, name in enumerate(["HQ", "Frankfurt DC", "us-east-1",
                                       "Lab", "Branch Office Lyon",
                                       "eu-west-3", "Staging", "Backup"])]
    filters = [[], [{"protocol": "tcp", "port_range_start": 443,
                     "port_range_end": 443}],
               [{"protocol": "tcp", "port_range_start": 22,
                 "port_range_end": 22},
                {"protocol": "tcp", "port_range_start": 443,
                 "port_range_end": 443}, {"protocol": "icmp"}],
               [{"protocol": "udp", "port_range_start": 53,
                 "port_range_end": 53},
                {"protocol": "tcp", "port_range_start": 8000,
                 "port_range_end": 8100}]]
    words = ["git", "wiki", "ci", "grafana", "db", "vault", "jira", "k8s",
             "mail", "ldap", "files", "build", "api", "metrics", "registry"]
    res = []
    for i in range(n):
        w = words[i % len(words)]
        r = {"id": str(uuid.uuid5(ns, "res%d" % i))}
        if i % 5 < 3:
            dom = "%s-%05d.%s.corp.example.com" % (w, i, sites[i % 8]["name"]
                                                  .split()[0].lower())
            r.update(type="dns",
                     address=("*." + dom) if i % 3 == 0 else
                     ("**." + dom) if i % 7 == 0 else dom,
                     name="%s %d" % (w.capitalize(), i),
                     address_description="https://%s/" % dom
                     if i % 2 else None)
            stack = ["dual", "ipv4_only", "ipv6_only", None][i % 4]
            if stack:
                r["ip_stack"] = stack
        else:
            k = i % 4
            if k == 0:
                a = "10.%d.%d.0/24" % (i // 256 % 256, i % 256)
            elif k == 1:
                a = "172.%d.%d.%d/32" % (16 + i // 65536 % 16,
                                        i // 256 % 256, i % 256)
            elif k == 2:
                a = "fd00:%x:%x::/64" % (i // 65536 + 1, i % 65536)
            else:
                a = "fd01::%x:%x/128" % (i // 65536 + 1, i % 65536)
            r.update(type="cidr", address=a,
                     name="%s net %d" % (w.upper(), i),
                     address_description=None if i % 3 else
                     "%s servers, rack %d" % (w, i % 40))
        r["filters"] = filters[rnd.randrange(4)]
        r["sites"] = [sites[i % 8]]
        res.append(r)
    sc = {"sites": sites, "resources": res,
          # No init at join: the benchmark decides when one is sent.
          "no_init": True,
          # fzc's heartbeats are not what is measured here.
          "idle_timeout": 0}
    with open(out, "w") as f:
        json.dump(sc, f)
    print(sum(r["type"] == "dns" for r in res),
          sum(r["type"] == "cidr" for r in res))

def render(scenario, stubdir, empty):
    """The client init the stub sends, built by the stub's own code."""
    sys.path.insert(0, stubdir)
    import stub_portal as sp
    sc = sp.load_scenario(scenario)
    if empty:
        sc["resources"] = []
    p = sp.Portal(sc, [])
    c = sp.Conn(1, "client", None)
    c.ua_version = ("headless-client", (1, 5, 6))
    c.public_key = "A" * 43 + "="
    return p.client_init(c), sp

def ref(scenario, stubdir, reps, empty_out):
    init, sp = render(scenario, stubdir, False)
    frame = json.dumps({"topic": "client", "event": "init", "payload": init,
                        "ref": None}, separators=(",", ":"),
                       ensure_ascii=False)
    t = []
    for _ in range(reps):
        t0 = time.perf_counter()
        json.loads(frame)
        t.append(time.perf_counter() - t0)
    empty, _ = render(scenario, stubdir, True)
    with open(empty_out, "w") as f:
        json.dump(empty, f)
    print(len(frame.encode()), "%.3f" % (min(t) * 1e3),
          "%.3f" % (statistics.median(t) * 1e3))

def wait_state(fsock, want, timeout, ssock=None):
    """Polls until portal.state is `want` (and, given the stub's socket,
    the stub has a joined client: fzc is connected to this stub, not still
    believing in a dead one); prints the wall clock then."""
    end = time.time() + timeout
    while True:
        try:
            p, st = portal(fsock)
            if p.get("state") == want and (
                    ssock is None or stub(ssock, {"cmd": "state"})["joined"]):
                print("%.6f" % time.time(),
                      (st.get("controld") or {}).get("pid", 0))
                return 0
        except (OSError, ValueError, RuntimeError):
            p = {}
        if time.time() > end:
            print("timeout", json.dumps(p))
            return 1
        time.sleep(0.005)

def init_rep(ssock, fsock, n, timeout, empty_file):
    """One init: an empty init first (pushed, so that fzc lists 0), then
    send_init; the clock runs from the send_init command (t0) and from its
    answer, once the stub has written the frame (t1), to the first
    `resources` answer listing n (t2).  Prints 'ok t2-t0 t2-t1 ms' or
    'fail <why>'."""
    if not empty_init(ssock, fsock, empty_file):
        print("fail the empty init did not empty the list in 10 s")
        return
    conns = stub(ssock, {"cmd": "state"})["connection_count"]
    t0 = time.perf_counter()
    stub(ssock, {"cmd": "send_init"}, timeout)
    t1 = time.perf_counter()
    end = t0 + timeout
    last_state = 0.0
    seen = 0
    while True:
        k = nres(fsock)
        now = time.perf_counter()
        if k == n:
            print("ok %.3f %.3f" % ((now - t0) * 1e3, (now - t1) * 1e3))
            return
        seen = max(seen, k)
        if now - last_state > 0.05:
            last_state = now
            p, _ = portal(fsock)
            if p.get("state") != "connected":
                print("fail portal.state %s (%s) %.0f ms after send_init; "
                      "%d resources listed" % (
                          p.get("state"), p.get("reason", "no reason"),
                          (now - t0) * 1e3, k))
                return
            if stub(ssock, {"cmd": "state"})["connection_count"] != conns:
                print("fail fzc reconnected %.0f ms after send_init; %d "
                      "resources listed" % ((now - t0) * 1e3, k))
                return
        if now > end:
            print("fail %d of %d resources listed %d s after send_init" %
                  (k, n, timeout))
            return
        time.sleep(0.002)

def empty_init(ssock, fsock, empty_file):
    """Pushes an init with 0 resources and waits until fzc lists none."""
    with open(empty_file) as f:
        empty = json.load(f)
    stub(ssock, {"cmd": "wait", "what": "joined", "timeout": 30}, 35)
    stub(ssock, {"cmd": "push", "event": "init", "payload": empty})
    end = time.time() + 10
    while nres(fsock) != 0:
        if time.time() > end:
            return False
        time.sleep(0.005)
    return True

def cmd_status(fsock, key):
    p, st = portal(fsock)
    if key == "pid":
        print((st.get("controld") or {}).get("pid", ""))
    elif key == "state":
        print(p.get("state", ""), p.get("reason", ""))
    else:
        print(json.dumps(st))

def cli_check(path):
    """Reads `fzc --json resources` output; prints what it held."""
    try:
        with open(path) as f:
            r = json.load(f)
        if isinstance(r, dict):
            r = r.get("resources")
        print("%d entries" % len(r))
    except (ValueError, TypeError) as e:
        print("unreadable (%s)" % e)

def stats():
    """min, median, max of the numbers on stdin."""
    v = [float(x) for x in sys.stdin.read().split()]
    if not v:
        print("- - - 0")
    else:
        print("%.3f %.3f %.3f %d" % (min(v), statistics.median(v), max(v),
                                     len(v)))

if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "gen":
        gen(int(a[1]), a[2])
    elif a[0] == "ref":
        ref(a[1], a[2], int(a[3]), a[4])
    elif a[0] == "wait-state":
        sys.exit(wait_state(a[1], a[2], float(a[3]),
                            a[4] if len(a) > 4 else None))
    elif a[0] == "init-rep":
        init_rep(a[1], a[2], int(a[3]), float(a[4]), a[5])
    elif a[0] == "empty":
        sys.exit(0 if empty_init(a[1], a[2], a[3]) else 1)
    elif a[0] == "status":
        cmd_status(a[1], a[2])
    elif a[0] == "cli-check":
        cli_check(a[1])
    elif a[0] == "stats":
        stats()
PY
helper() {
	"$PY" "$WORK/helper.py" "$@"
}

# --- setup ----------------------------------------------------------------

progress "network namespace $NS"
bench_netns "$NS"

progress "a throwaway CA and a certificate for the stub portal"
{
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$WORK/ca.key" -out "$WORK/ca.crt" -days 1 \
	    -subj "/CN=fzc bench CA" &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$WORK/portal.key" -out "$WORK/portal.csr" \
	    -subj "/CN=127.0.0.1" &&
	printf 'subjectAltName=IP:127.0.0.1\n' >"$WORK/san" &&
	openssl x509 -req -in "$WORK/portal.csr" -CA "$WORK/ca.crt" \
	    -CAkey "$WORK/ca.key" -CAcreateserial -days 1 \
	    -extfile "$WORK/san" -out "$WORK/portal.crt"
} >"$WORK/openssl.log" 2>&1 || die "openssl: $(tail -3 "$WORK/openssl.log")"

progress "scenario with $NRES resources"
read -r NDNS NCIDR < <(helper gen "$NRES" "$WORK/scenario.json") ||
    die "generating the scenario"
[ -n "${NCIDR:-}" ] || die "generating the scenario"

# start_stub LISTEN: the stub portal in the namespace; sets STUB_PID, PORT.
start_stub() {
	local listen=$1 end
	: >"$WORK/stub.out"
	echo "--- stub started, listen $listen" >>"$STUB_LOG"
	ip netns exec "$NS" "$PY" "$STUB" --listen "$listen" \
	    --cert "$WORK/portal.crt" --key "$WORK/portal.key" \
	    --token "$TOKEN" --scenario "$WORK/scenario.json" \
	    --control "$STUB_SOCK" >"$WORK/stub.out" 2>>"$STUB_LOG" &
	STUB_PID=$!
	# Killed on purpose: no "Killed" job notice from bash.
	disown "$STUB_PID"
	end=$((SECONDS + 15))
	until grep -q '^PORT ' "$WORK/stub.out"; do
		alive "$STUB_PID" ||
		    die "stub portal exited at start: $(tail -3 "$STUB_LOG")"
		[ "$SECONDS" -lt "$end" ] ||
		    die "stub portal not listening after 15 s"
		sleep 0.002
	done
	PORT=$(awk '/^PORT /{print $2; exit}' "$WORK/stub.out")
}

progress "starting the stub portal"
start_stub 127.0.0.1:0

progress "starting fzc-tunneld (and fzc-controld as user fzc)"
(umask 077 && printf '%s\n' "$TOKEN" >"$WORK/token") || die "token file"
# The data plane's, which runs as fzc-tunneld.
chown fzc-tunneld: "$WORK/token" || die "token file"
# fzc-tunneld makes WORK/run (for user fzc) and WORK/state itself.
ip netns exec "$NS" "$BUILD/fzc-tunneld" --controld "$BUILD/fzc-controld" \
    --control-socket "$FZC_SOCK" --state-dir "$WORK/state" \
    --token-file "$WORK/token" --api-url "wss://127.0.0.1:$PORT" \
    --ca-file "$WORK/ca.crt" --name fzc-bench --log-level info \
    2>"$FZC_LOG" &
TUNNELD_PID=$!
helper wait-state "$FZC_SOCK" connected "$CONNECT_TIMEOUT" >"$WORK/ws.out" ||
    die "fzc did not reach portal.state connected in ${CONNECT_TIMEOUT} s: $(cat "$WORK/ws.out"); log: $(tail -5 "$FZC_LOG")"
CPID=$(helper status "$FZC_SOCK" pid)
[ -n "$CPID" ] && [ -r "/proc/$CPID/status" ] ||
    die "no fzc-controld pid in fzc --json status"

# rss PID: VmRSS and VmHWM in KiB.
rss() {
	awk '/^VmRSS:/{r=$2} /^VmHWM:/{h=$2} END{print r+0, h+0}' \
	    "/proc/$1/status" 2>/dev/null || echo "0 0"
}

# --- measurements ---------------------------------------------------------

# The reference first, while fzc is idle: the stub's interpreter decoding
# the very init frame the stub sends (built by the stub's own code).
progress "reference: $PY json.loads of the init frame"
read -r FRAME_BYTES REF_MIN REF_MED < <(helper ref "$WORK/scenario.json" \
    "$SRCDIR/tests/portal" "$((REPS < 5 ? 5 : REPS))" "$WORK/empty-init.json") ||
    die "rendering the init frame with the stub's code"
[ -n "${REF_MED:-}" ] || die "rendering the init frame with the stub's code"

# Idle: joined, an init with 0 resources applied, then a moment of quiet.
helper empty "$STUB_SOCK" "$FZC_SOCK" "$WORK/empty-init.json" ||
    die "pushing an init with 0 resources"
sleep 2
read -r RSS_IDLE HWM_IDLE < <(rss "$CPID")

progress "init with $NRES resources, $REPS times"
INIT_TOTAL=()
INIT_AFTER=()
INIT_FAILS=()
RSS_FIRST=
for i in $(seq "$REPS"); do
	r=$(helper init-rep "$STUB_SOCK" "$FZC_SOCK" "$NRES" "$APPLY_TIMEOUT" \
	    "$WORK/empty-init.json") || die "init $i: helper failed"
	progress "  init $i: $r"
	case $r in
	ok\ *)
		read -r _ tot aft <<<"$r"
		INIT_TOTAL+=("$tot")
		INIT_AFTER+=("$aft")
		;;
	*)
		INIT_FAILS+=("init $i: ${r#fail }")
		;;
	esac
	if [ -z "$RSS_FIRST" ]; then
		case $r in ok\ *) FIRST_OK=1 ;; *) FIRST_OK=0 ;; esac
		RSS_FIRST=$(rss "$CPID")
		# What `fzc --json resources` itself makes of this list.
		"$BUILD/fzc" --control-socket "$FZC_SOCK" --json resources \
		    >"$WORK/cli.out" 2>"$WORK/cli.err" && CLI_RC=0 || CLI_RC=$?
		CLI_SEEN=$(helper cli-check "$WORK/cli.out")
		CLI_ERR=$(head -c 300 "$WORK/cli.err")
	fi
	# After a refused init fzc reconnects: wait for it before going on.
	helper wait-state "$FZC_SOCK" connected "$CONNECT_TIMEOUT" \
	    >"$WORK/ws.out" ||
	    die "after init $i, fzc not connected again in ${CONNECT_TIMEOUT} s: $(cat "$WORK/ws.out")"
done
sleep 1
read -r RSS_LAST HWM_LAST < <(rss "$CPID")
read -r RSS_FIRST_R HWM_FIRST < <(echo "$RSS_FIRST")
CPID_AFTER_INIT=$(helper status "$FZC_SOCK" pid)

progress "portal restarts: SIGKILL, started again at once on port $PORT, $REPS times"
RC_DOWN=()
RC_UP=()
RC_TOTAL=()
RC_FAILS=()
for i in $(seq "$REPS"); do
	helper wait-state "$FZC_SOCK" connected "$CONNECT_TIMEOUT" \
	    >"$WORK/ws.out" ||
	    die "before restart $i, fzc not connected: $(cat "$WORK/ws.out")"
	sleep 0.5
	t_kill=$EPOCHREALTIME
	alive "$STUB_PID" || die "restart $i: the stub portal was not running"
	bench_stop KILL "$STUB_PID"
	STUB_PID=
	start_stub "127.0.0.1:$PORT"
	t_up=$EPOCHREALTIME
	if helper wait-state "$FZC_SOCK" connected "$CONNECT_TIMEOUT" \
	    "$STUB_SOCK" >"$WORK/ws.out"; then
		read -r t_conn _ <"$WORK/ws.out"
		read -r down up total < <(awk -v k="$t_kill" -v u="$t_up" \
		    -v c="$t_conn" 'BEGIN{printf "%.1f %.1f %.1f\n",
		    (u-k)*1e3, (c-u)*1e3, (c-k)*1e3}')
		progress "  restart $i: stub down $down ms, connected $up ms after it listened"
		RC_DOWN+=("$down")
		RC_UP+=("$up")
		RC_TOTAL+=("$total")
	else
		RC_FAILS+=("restart $i: not connected after ${CONNECT_TIMEOUT} s: $(cat "$WORK/ws.out")")
		progress "  restart $i: not connected in ${CONNECT_TIMEOUT} s"
	fi
done
CPID_END=$(helper status "$FZC_SOCK" pid 2>/dev/null || echo "?")
STUB_VIOL=$("$PY" "$STUB" ctl "$STUB_SOCK" '{"cmd":"state"}' 2>/dev/null |
    "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["violations"]))' 2>/dev/null || echo "?")

progress "stopping fzc-tunneld"
bench_stop TERM "$TUNNELD_PID"
TUNNELD_END=${STOPPED[$TUNNELD_PID]}
TUNNELD_PID=

# --- report ---------------------------------------------------------------

# st NUMBER...: "min median max n" of the arguments.
st() {
	printf '%s\n' "$@" | helper stats
}
mib() {
	awk -v k="$1" 'BEGIN{printf "%.1f", k/1024}'
}
fmt() {
	if [ "$1" = - ]; then echo "-"; else awk -v v="$1" 'BEGIN{printf "%.1f", v}'; fi
}
ratio() {
	if [ "$1" = - ]; then echo "-"; else awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1fx", a/b}'; fi
}
TSV=()
tsv() {
	TSV+=("$(printf '%s\t%s\t%s\t%s' "$@")")
}

read -r IT_MIN IT_MED IT_MAX IT_N < <(st ${INIT_TOTAL[@]+"${INIT_TOTAL[@]}"})
read -r IA_MIN IA_MED IA_MAX _ < <(st ${INIT_AFTER[@]+"${INIT_AFTER[@]}"})
read -r RD_MIN RD_MED RD_MAX _ < <(st ${RC_DOWN[@]+"${RC_DOWN[@]}"})
read -r RU_MIN RU_MED RU_MAX _ < <(st ${RC_UP[@]+"${RC_UP[@]}"})
read -r RT_MIN RT_MED RT_MAX RT_N < <(st ${RC_TOTAL[@]+"${RC_TOTAL[@]}"})

if [ "$CPID_END" != "$CPID" ]; then
	note "fzc-controld pid changed during the run ($CPID at the start, $CPID_AFTER_INIT after the inits, $CPID_END at the end): it was restarted, so memory figures after that are of a new process"
fi
for f in ${INIT_FAILS[@]+"${INIT_FAILS[@]}"}; do
	note "not applied: $f"
done
for f in ${RC_FAILS[@]+"${RC_FAILS[@]}"}; do
	note "$f"
done
if [ "$CLI_RC" != 0 ] || [ "$CLI_SEEN" != "$NRES entries" ]; then
	note "\`fzc --json resources\` after the first init: exit $CLI_RC, ${CLI_SEEN}${CLI_ERR:+, stderr: $CLI_ERR} (the timings above read the same \`resources\` command from the control socket directly)"
else
	note "\`fzc --json resources\` after the first init: $CLI_SEEN, as the control socket said"
fi
case $TUNNELD_END in
0) ;;
killed) note "fzc-tunneld still running 5 s after SIGTERM, killed" ;;
gone:*) note "fzc-tunneld had exited (status ${TUNNELD_END#gone:}) before the end" ;;
*) note "fzc-tunneld exited with status $TUNNELD_END after SIGTERM" ;;
esac
[ "$STUB_VIOL" = 0 ] ||
    note "stub portal: $STUB_VIOL protocol violations recorded since its last start (see its log)"
if grep -q '^VIOLATION' "$STUB_LOG"; then
	note "stub portal log, VIOLATION lines (count, text):"
	while IFS= read -r l; do
		NOTES+=("    $l")
	done < <(grep '^VIOLATION' "$STUB_LOG" |
	    sed 's/ (client connection [0-9]*)$//' | sort | uniq -c |
	    sort -rn | head -8 | sed 's/^ *//')
fi
# Warnings and errors (priorities 0-4) of the daemons, counted by text.
if grep -qE '^<[0-4]>' "$FZC_LOG"; then
	note "fzc log, warnings and errors (count, text):"
	while IFS= read -r l; do
		NOTES+=("    $l")
	done < <(grep -E '^<[0-4]>' "$FZC_LOG" | sort | uniq -c | sort -rn |
	    head -12 | sed 's/^ *//')
else
	note "fzc log: no warnings or errors"
fi

{
	echo "fzc portal benchmark (bench/portal.sh): $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) CPUs"
	echo "load average at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "mode: $([ "$QUICK" = 1 ] && echo quick || echo full), stub portal over TLS on 127.0.0.1 in namespace $NS, build $BUILD"
	echo
	echo "init with $NRES resources ($NDNS dns, $NCIDR cidr): frame of $FRAME_BYTES bytes, $REPS times"
	printf '  %-46s %10s %10s %10s\n' "" min median max
	printf '  %-46s %10s %10s %10s\n' "fzc: send_init -> all listed (ms)" \
	    "$(fmt "$IT_MIN")" "$(fmt "$IT_MED")" "$(fmt "$IT_MAX")"
	printf '  %-46s %10s %10s %10s\n' "fzc: frame written -> all listed (ms)" \
	    "$(fmt "$IA_MIN")" "$(fmt "$IA_MED")" "$(fmt "$IA_MAX")"
	printf '  %-46s %10s %10s\n' "reference: $PY json.loads (ms)" \
	    "$(fmt "$REF_MIN")" "$(fmt "$REF_MED")"
	printf '  %-46s %10s %10s\n' "ratio send_init -> listed / json.loads" \
	    "$(ratio "$IT_MIN" "$REF_MIN")" "$(ratio "$IT_MED" "$REF_MED")"
	printf '  %-46s %10s %10s\n' "ratio written -> listed / json.loads" \
	    "$(ratio "$IA_MIN" "$REF_MIN")" "$(ratio "$IA_MED" "$REF_MED")"
	echo "  applied: $IT_N of $REPS"
	echo
	echo "fzc-controld memory (pid $CPID; target after the init: under 20 MiB)"
	printf '  %-46s %10s %10s\n' "" "VmRSS MiB" "VmHWM MiB"
	printf '  %-46s %10s %10s\n' "idle, connected, 0 resources" \
	    "$(mib "$RSS_IDLE")" "$(mib "$HWM_IDLE")"
	printf '  %-46s %10s %10s\n' "after the first init of $NRES$([ "$FIRST_OK" = 1 ] || echo ' (not applied)')" \
	    "$(mib "$RSS_FIRST_R")" "$(mib "$HWM_FIRST")"
	printf '  %-46s %10s %10s\n' "after init $REPS" \
	    "$(mib "$RSS_LAST")" "$(mib "$HWM_LAST")"
	echo
	echo "reconnect after a portal restart (stub SIGKILLed, started again at once, same port), $REPS times"
	printf '  %-46s %10s %10s %10s\n' "" min median max
	printf '  %-46s %10s %10s %10s\n' "stub down: kill -> listening again (ms)" \
	    "$(fmt "$RD_MIN")" "$(fmt "$RD_MED")" "$(fmt "$RD_MAX")"
	printf '  %-46s %10s %10s %10s\n' "listening -> portal.state connected (ms)" \
	    "$(fmt "$RU_MIN")" "$(fmt "$RU_MED")" "$(fmt "$RU_MAX")"
	printf '  %-46s %10s %10s %10s\n' "kill -> portal.state connected (ms)" \
	    "$(fmt "$RT_MIN")" "$(fmt "$RT_MED")" "$(fmt "$RT_MAX")"
	echo "  reconnected: $RT_N of $REPS (PROTOCOL 1.8: first retry 0.5 s after the drop, x1.5 with jitter;"
	echo "  connected = join answered, confirmed by the new stub; it sends no init on these joins)"
	echo
	echo "notes:"
	for n in "${NOTES[@]}"; do
		echo "  $n"
	done
}

if [ -n "$OUT" ]; then
	tsv init_send_to_listed ms min "$IT_MIN"
	tsv init_send_to_listed ms median "$IT_MED"
	tsv init_send_to_listed ms max "$IT_MAX"
	tsv init_written_to_listed ms min "$IA_MIN"
	tsv init_written_to_listed ms median "$IA_MED"
	tsv init_applied count value "$IT_N"
	tsv init_reference_json_loads ms min "$REF_MIN"
	tsv init_reference_json_loads ms median "$REF_MED"
	tsv init_frame bytes value "$FRAME_BYTES"
	tsv controld_idle_vmrss KiB value "$RSS_IDLE"
	tsv controld_idle_vmhwm KiB value "$HWM_IDLE"
	tsv controld_after_first_init_vmrss KiB value "$RSS_FIRST_R"
	tsv controld_after_first_init_vmhwm KiB value "$HWM_FIRST"
	tsv controld_after_last_init_vmrss KiB value "$RSS_LAST"
	tsv controld_after_last_init_vmhwm KiB value "$HWM_LAST"
	tsv reconnect_stub_down ms min "$RD_MIN"
	tsv reconnect_stub_down ms median "$RD_MED"
	tsv reconnect_listening_to_connected ms min "$RU_MIN"
	tsv reconnect_listening_to_connected ms median "$RU_MED"
	tsv reconnect_kill_to_connected ms min "$RT_MIN"
	tsv reconnect_kill_to_connected ms median "$RT_MED"
	tsv reconnect_connected count value "$RT_N"
	{
		echo "# fzc bench/portal.sh $(date -u '+%Y-%m-%dT%H:%M:%SZ') $(uname -r) $(nproc) CPUs"
		echo "# resources $NRES ($NDNS dns, $NCIDR cidr), repetitions $REPS"
		printf 'metric\tunit\tstat\tvalue\n'
		printf '%s\n' "${TSV[@]}"
	} >"$OUT"
fi
