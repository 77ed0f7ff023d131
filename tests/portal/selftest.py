#!/usr/bin/python3
"""Self-test of stub_portal.py.

Starts the stub (plain ws, then TLS with a throwaway CA made by openssl),
talks to it as a correct client would with a hand-written WebSocket client
(raw bytes, so every header and frame is under our control, as in fzc's C
client), checks the derived PSK / ICE / TURN credentials against the
independent computation below (written from PROTOCOL.md 2.2 and 2.5, not
imported from the stub), then connects as wrong clients and checks that
the violations are recorded.  Last line: "N passed, N failed"; exit 0 only
when nothing failed.
"""

import base64
import hashlib
import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
STUB = os.path.join(HERE, "stub_portal.py")
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") \
    else sys.executable

passed = 0
failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok   %s" % name)
    else:
        failed += 1
        print("FAIL %s %s" % (name, detail))
    return cond


# ---------------------------------------------------------------------------
# Independent derivations, from PROTOCOL.md's words.

def expected_turn(pubkey_b64, expires_at, secret):
    # 2.2: salt = base64-no-pad(SHA-256(public key as its base64 text));
    # username "<expires_at>:<salt>"; password base64-no-pad(SHA-256(
    # "<expires_at>:<secret>:<salt>")).
    salt = base64.b64encode(hashlib.sha256(pubkey_b64.encode()).digest()) \
        .decode().replace("=", "")
    pw = base64.b64encode(hashlib.sha256(
        ("{}:{}:{}".format(expires_at, secret, salt)).encode()).digest()) \
        .decode().replace("=", "")
    return "{}:{}".format(expires_at, salt), pw


def expected_psk(cid, cpk, cbase, gid, gpk, gbase):
    # 2.5: PBKDF2-HMAC-SHA256, one iteration, 32 bytes, password
    # = client psk_base || gateway psk_base.
    salt = "WG_PSK|C_ID:" + cid + "|G_ID:" + gid + "|C_PK:" + cpk + \
        "|G_PK:" + gpk
    # One PBKDF2 iteration of one block is HMAC(password, salt || INT(1)).
    import hmac
    block = hmac.new(cbase + gbase, salt.encode() + b"\x00\x00\x00\x01",
                     hashlib.sha256).digest()
    return base64.b64encode(block).decode()


def expected_ice(cid, cpk, gid, gpk):
    # 2.5: base32 lower-case, no padding, of SHA-256("cid:cpk:gid:gpk");
    # 0-3 / 4-25 client ufrag / pwd, 26-29 / 30-51 gateway ufrag / pwd.
    d = hashlib.sha256(":".join([cid, cpk, gid, gpk]).encode()).digest()
    s = base64.b32encode(d).decode().lower().rstrip("=")
    assert len(s) == 52
    return ({"username": s[:4], "password": s[4:26]},
            {"username": s[26:30], "password": s[30:]})


# ---------------------------------------------------------------------------
# A minimal WebSocket client (RFC 6455), enough for these tests.

class WS:
    def __init__(self, sock, rest):
        self.s = sock
        self.buf = rest

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send_frame(self, opcode, data):
        head = bytes([0x80 | opcode])
        n = len(data)
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.s.sendall(head + mask + body)

    def send(self, obj):
        text = obj if isinstance(obj, str) else json.dumps(obj)
        self.send_frame(1, text.encode())

    def recv_frame(self, timeout=5):
        self.s.settimeout(timeout)
        b0, b1 = self._read(2)
        n = b1 & 0x7f
        if n == 126:
            n = struct.unpack("!H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read(8))[0]
        return b0 & 0x0f, self._read(n)

    def recv(self, timeout=5):
        """The next text frame as JSON, or ("close", code, reason)."""
        while True:
            op, data = self.recv_frame(timeout)
            if op == 1:
                return json.loads(data)
            if op == 8:
                code = struct.unpack("!H", data[:2])[0] if data else None
                try:
                    self.send_frame(8, data[:2])
                except OSError:
                    pass
                return ("close", code, data[2:].decode("utf-8", "replace"))

    def close(self):
        self.s.close()


def upgrade(port, target, headers, tls_ctx=None, server_name=None):
    """Writes the upgrade request exactly as given; returns (status,
    response headers, body, WS or None)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    if tls_ctx is not None:
        s = tls_ctx.wrap_socket(s, server_hostname=server_name)
    req = "GET %s HTTP/1.1\r\n" % target
    for k, v in headers:
        req += "%s: %s\r\n" % (k, v)
    s.sendall((req + "\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    rh = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        rh[k.strip().lower()] = v.strip()
    if status != 101:
        n = int(rh.get("content-length", "0"))
        while len(rest) < n:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
        s.close()
        return status, rh, rest, None
    return status, rh, b"", WS(s, rest)


def form(v):
    # application/x-www-form-urlencoded as Rust's form_urlencoded does it.
    out = ""
    for b in v.encode():
        c = chr(b)
        if c.isascii() and c.isalnum() or c in "*-._":
            out += c
        elif c == " ":
            out += "+"
        else:
            out += "%%%02X" % b
    return out


# ---------------------------------------------------------------------------
# Fixture

TOKEN = "selftest.token.0123456789"
DEVICE_UUID = "8c1f0e52-33a1-4c1b-9d4e-2a7b6c5d4e3f"
EXTERNAL_ID = hashlib.sha256(DEVICE_UUID.encode()).hexdigest()
CLIENT_PK = base64.b64encode(bytes(range(1, 33))).decode()   # has + and /
CLIENT_ID = "d2b6f1a0-3c4e-4f5a-9b8c-7d6e5f4a3b2c"
CLIENT_PSK_BASE = bytes(range(100, 132))
GW_ID = "77aa11bb-22cc-4d33-8e44-55ff66aa77bb"
GW_PK = base64.b64encode(bytes(range(200, 232))).decode()
GW_PSK_BASE = bytes(range(50, 82))
SITE_ID = "5d1b0c9a-7e3f-4a21-8c6d-9e8f7a6b5c4d"
RES_CIDR = "a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7a"
RES_DNS = "0f6a8c1e-5b8e-4d5f-9a3c-11a2b3c4d5e6"
RES_NEW = "c3b2a190-8f7e-4d6c-b5a4-93827160f5e4"
RELAY_ID = "6b7d1f52-2c0e-4a8e-9d40-0c1b2d3e4f50"
RELAY_SECRET = "relay-stamp-secret-42"
EXPIRES = 1767225600
UA = "Debian/12 headless-client/1.5.6 (x86_64; 6.1.0-18-amd64)"

SCENARIO = {
    "token_expires_at": EXPIRES,
    # This test heartbeats at once; the 10 s spacing is checked separately.
    "heartbeat_min_interval": 0,
    "client": {"id": CLIENT_ID,
               "psk_base": base64.b64encode(CLIENT_PSK_BASE).decode()},
    "interface": {"ipv4": "100.71.34.9", "ipv6": "fd00:2021:1111::a:3b21",
                  "search_domain": "corp.example.com",
                  "upstream_do53": [{"ip": "10.20.0.53"}],
                  "upstream_doh": []},
    "sites": [{"id": SITE_ID, "name": "HQ"}],
    "resources": [
        {"id": RES_CIDR, "type": "cidr", "address": "10.20.0.0/16",
         "name": "HQ LAN", "address_description": None, "filters": [],
         "sites": [{"id": SITE_ID, "name": "HQ"}]},
        {"id": RES_DNS, "type": "dns", "address": "*.git.corp.example.com",
         "name": "GitLab", "address_description": None,
         "filters": [{"protocol": "tcp", "port_range_start": 443,
                      "port_range_end": 443}],
         "sites": [{"id": SITE_ID, "name": "HQ"}], "ip_stack": "dual"}],
    "relays": [{"id": RELAY_ID, "addrs": ["127.0.0.1:3478", "[::1]:3478"],
                "stamp_secret": RELAY_SECRET}],
    "gateways": [{"id": GW_ID, "site_id": SITE_ID, "public_key": GW_PK,
                  "ipv4": "100.82.5.17", "ipv6": "fd00:2021:1111::3:9c4e",
                  "psk_base": base64.b64encode(GW_PSK_BASE).decode(),
                  "version": "1.6.1"}],
}


def good_target(pk=CLIENT_PK):
    return ("/client/v2/websocket?external_id=%s&name=%s&public_key=%s" %
            (EXTERNAL_ID, form("self test box"), form(pk)))


def good_headers(token=TOKEN, host="portal.test"):
    return [("Host", host), ("Connection", "Upgrade"),
            ("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", base64.b64encode(os.urandom(16)).decode()),
            ("User-Agent", UA), ("X-Authorization", "Bearer " + token)]


class Stub:
    def __init__(self, tmp, extra):
        self.ctl_path = os.path.join(tmp, "ctl-%d.sock" % len(os.listdir(tmp)))
        self.stderr = open(os.path.join(tmp, "stub-%d.log" %
                                        len(os.listdir(tmp))), "w+")
        self.proc = subprocess.Popen(
            [PY, STUB, "--listen", "127.0.0.1:0", "--token", TOKEN,
             "--control", self.ctl_path] + extra,
            stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("PORT "), line
        self.port = int(line.split()[1])
        self.ctl = socket.socket(socket.AF_UNIX)
        self.ctl.connect(self.ctl_path)
        self.ctlf = self.ctl.makefile("rwb")

    def cmd(self, **kw):
        self.ctlf.write(json.dumps(kw).encode() + b"\n")
        self.ctlf.flush()
        return json.loads(self.ctlf.readline())

    def stop(self):
        self.ctl.close()
        self.proc.terminate()
        self.proc.wait(5)


def join(ws):
    ws.send({"topic": "client", "event": "phx_join", "payload": None,
             "ref": 0})
    return ws.recv(), ws.recv()


# ---------------------------------------------------------------------------
# Tests

def correct_client(stub, tls_ctx=None, label="plain"):
    st, rh, _, ws = upgrade(stub.port, good_target(), good_headers(),
                            tls_ctx, "portal.test")
    if not check(label + ": upgrade answered 101", st == 101, st):
        return
    key_ok = "sec-websocket-accept" in rh
    check(label + ": Sec-WebSocket-Accept present", key_ok)
    reply, init = join(ws)
    check(label + ": join reply ok {} with ref 0", reply == {
        "topic": "client", "event": "phx_reply", "ref": 0,
        "payload": {"status": "ok", "response": {}}}, reply)
    check(label + ": init pushed with ref null",
          init.get("event") == "init" and init.get("ref") is None and
          set(init) == {"topic", "event", "payload", "ref"}, init)
    p = init["payload"]
    check(label + ": init interface", p["interface"]["ipv4"] == "100.71.34.9"
          and p["interface"]["upstream_dns"] == [
              {"protocol": "ip_port", "address": "10.20.0.53:53"}],
          p["interface"])
    check(label + ": init resources use 'sites' for headless 1.5.6",
          [r["id"] for r in p["resources"]] == [RES_CIDR, RES_DNS] and
          all("sites" in r and "gateway_groups" not in r
              for r in p["resources"]), p["resources"])
    u, pw = expected_turn(CLIENT_PK, EXPIRES, RELAY_SECRET)
    check(label + ": init relays, one per address, TURN credentials per 2.2",
          p["relays"] == [
              {"id": RELAY_ID, "type": "turn", "addr": a, "username": u,
               "password": pw, "expires_at": EXPIRES}
              for a in ("127.0.0.1:3478", "[::1]:3478")], p["relays"])
    check(label + ": init authorizations and flow_logs",
          p["authorizations"] == [] and "api_url" in p["flow_logs"])

    ws.send({"topic": "client", "event": "set_snownet_capabilities",
             "payload": {"iceless": False}, "ref": 1})
    ws.send({"topic": "phoenix", "event": "heartbeat", "payload": {},
             "ref": 2})
    hb = ws.recv()
    check(label + ": heartbeat answered", hb == {
        "topic": "phoenix", "event": "phx_reply", "ref": 2,
        "payload": {"status": "ok", "response": {}}}, hb)

    ws.send({"topic": "client", "event": "request_authorization",
             "payload": {"resource_id": RES_CIDR,
                         "connected_gateway_ids": []}, "ref": 3})
    a = ws.recv()
    ap = a.get("payload", {})
    cice, gice = expected_ice(CLIENT_ID, CLIENT_PK, GW_ID, GW_PK)
    check(label + ": authorization_created", a.get("event") ==
          "authorization_created" and ap.get("resource_id") == RES_CIDR and
          ap.get("gateway_id") == GW_ID and ap.get("site_id") == SITE_ID and
          ap.get("gateway_public_key") == GW_PK and
          ap.get("gateway_ipv4") == "100.82.5.17" and
          ap.get("use_iceless") is False, a)
    check(label + ": PSK per 2.5", ap.get("preshared_key") == expected_psk(
        CLIENT_ID, CLIENT_PK, CLIENT_PSK_BASE, GW_ID, GW_PK, GW_PSK_BASE),
        ap.get("preshared_key"))
    check(label + ": ICE credentials per 2.5",
          ap.get("client_ice_credentials") == cice and
          ap.get("gateway_ice_credentials") == gice,
          (ap.get("client_ice_credentials"), cice))
    tok = ap.get("flow_logs_ingest_token", "").split(".")
    hdr = json.loads(base64.urlsafe_b64decode(tok[0] + "==")) \
        if len(tok) == 3 else {}
    check(label + ": flow_logs_ingest_token is a 3-part HS256 JWT",
          len(tok) == 3 and hdr.get("alg") == "HS256" and tok[2] != "")

    ws.send({"topic": "client", "event": "request_authorization",
             "payload": {"resource_id": "00000000-0000-4000-8000-000000000000",
                         "connected_gateway_ids": [GW_ID]}, "ref": 4})
    f = ws.recv()
    check(label + ": unknown resource -> authorization_creation_failed "
          "not_found", f.get("event") == "authorization_creation_failed" and
          f["payload"] == {"resource_id":
                           "00000000-0000-4000-8000-000000000000",
                           "reason": "not_found"}, f)
    ws.send({"topic": "client", "event": "new_gateway_ice_candidates",
             "payload": {"gateway_id": GW_ID, "candidates": [
                 "candidate:1 1 udp 2130706431 192.168.1.23 52625 typ host"]},
             "ref": 5})
    ws.send({"topic": "client", "event": "no_relays", "payload": {},
             "ref": 6})
    r = ws.recv()
    check(label + ": no_relays answered by relays_presence",
          r.get("event") == "relays_presence" and
          r["payload"]["disconnected_ids"] == [] and
          len(r["payload"]["connected"]) == 2, r)

    w = stub.cmd(cmd="wait", what="message", value="no_relays", timeout=2)
    check(label + ": wait for a received event", w["ok"], w)
    w = stub.cmd(cmd="wait", what="heartbeats", value=5, timeout=0.2)
    check(label + ": wait times out with ok false", not w["ok"] and
          "timeout" in w["error"], w)
    s = stub.cmd(cmd="state")
    check(label + ": state: connected, joined, no violations",
          s["ok"] and s["connected"] and s["joined"] and
          s["violations"] == [], s.get("violations"))
    check(label + ": state: heartbeat, UA, query recorded",
          s["heartbeats_seen"] == 1 and s["last_user_agent"] == UA and
          s["last_query"] == good_target().partition("?")[2])
    check(label + ": state: client messages recorded",
          [m["event"] for m in s["messages"]] == [
              "phx_join", "set_snownet_capabilities", "heartbeat",
              "request_authorization", "request_authorization",
              "new_gateway_ice_candidates", "no_relays"],
          [m["event"] for m in s["messages"]])

    # Live control.
    new = {"id": RES_NEW, "type": "cidr", "address": "10.30.0.0/24",
           "name": "Lab", "address_description": "lab", "filters": [],
           "sites": [{"id": SITE_ID, "name": "HQ"}]}
    stub.cmd(cmd="create_resource", resource=new)
    m = ws.recv()
    check(label + ": create_resource pushed", m.get("event") ==
          "resource_created_or_updated" and m["payload"] == new, m)
    new["name"] = "Caf\u00e9 lab"
    stub.cmd(cmd="update_resource", resource=new)
    op, data = ws.recv_frame()
    check(label + ": update_resource pushed in raw UTF-8, compact",
          op == 1 and "Café lab".encode() in data and b'", "' not in data,
          data)
    stub.cmd(cmd="delete_resource", id=RES_NEW)
    m = ws.recv()
    check(label + ": delete_resource pushes the bare id",
          m.get("event") == "resource_deleted" and m["payload"] == RES_NEW, m)
    stub.cmd(cmd="config_changed", interface={"search_domain": "x.example"})
    m = ws.recv()
    check(label + ": config_changed", m.get("event") == "config_changed" and
          m["payload"]["interface"]["search_domain"] == "x.example", m)
    stub.cmd(cmd="relays_presence", disconnected_ids=[RELAY_ID], connected=[
        {"id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
         "addrs": ["127.0.0.2:3478"], "stamp_secret": "s2"}])
    m = ws.recv()
    u2, p2 = expected_turn(CLIENT_PK, EXPIRES, "s2")
    check(label + ": relays_presence with derived credentials",
          m.get("event") == "relays_presence" and
          m["payload"]["disconnected_ids"] == [RELAY_ID] and
          m["payload"]["connected"][0]["username"] == u2 and
          m["payload"]["connected"][0]["password"] == p2, m)
    stub.cmd(cmd="push", raw_b64=base64.b64encode(b'{"x":"\xff"}').decode())
    op, data = ws.recv_frame()
    check(label + ": push raw_b64 sends the bytes as a text frame",
          op == 1 and data == b'{"x":"\xff"}', (op, data))
    stub.cmd(cmd="disconnect", reason="token_expired")
    m = ws.recv()
    c = ws.recv()
    check(label + ": disconnect pushed, then Close",
          m.get("event") == "disconnect" and
          m["payload"] == {"reason": "token_expired"} and c[0] == "close", c)
    ws.close()


def ctl_cli(stub):
    # The shell tests' way in: stub_portal.py ctl SOCKET JSON...
    out = subprocess.run([PY, STUB, "ctl", stub.ctl_path,
                          '{"cmd":"state"}', '{"cmd":"nonsense"}'],
                         capture_output=True, text=True, timeout=10)
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    check("ctl CLI: one answer per command, exit 1 on a failed one",
          len(lines) == 2 and lines[0]["ok"] and not lines[1]["ok"] and
          out.returncode == 1, out)


def behaviours(stub):
    stub.cmd(cmd="clear")
    seen = stub.cmd(cmd="state")["heartbeats_seen"]
    st, _, _, ws = upgrade(stub.port, good_target(), good_headers())
    join(ws)
    stub.cmd(cmd="ignore_heartbeats", on=True)
    ws.send({"topic": "phoenix", "event": "heartbeat", "payload": {},
             "ref": 1})
    try:
        ws.recv(timeout=0.5)
        silent = False
    except socket.timeout:
        silent = True
    s = stub.cmd(cmd="state")
    check("ignore_heartbeats: not answered, but counted",
          silent and s["heartbeats_seen"] == seen + 1, s["heartbeats_seen"])
    stub.cmd(cmd="ignore_heartbeats", on=False)
    stub.cmd(cmd="close")
    try:
        got = ws.recv(timeout=2)
    except EOFError:
        got = "eof"
    check("close: TCP dropped without a Close frame", got == "eof", got)
    ws.close()

    stub.cmd(cmd="set", key="join_error", value="unauthorized")
    st, _, _, ws = upgrade(stub.port, good_target(), good_headers())
    ws.send({"topic": "client", "event": "phx_join", "payload": {},
             "ref": 0})
    r = ws.recv()
    check("join_error: error reply to the join", r.get("payload") == {
        "status": "error", "response": {"reason": "unauthorized"}}, r)
    ws.close()
    stub.cmd(cmd="set", key="join_error", value=None)

    stub.cmd(cmd="set", key="idle_timeout", value=0.5)
    st, _, _, ws = upgrade(stub.port, good_target(), good_headers())
    join(ws)
    c = ws.recv(timeout=3)
    check("idle_timeout: silent connection closed", isinstance(c, tuple)
          and c[1] == 1000 and
          stub.cmd(cmd="state")["idle_timeouts"] == 1, c)
    ws.close()
    stub.cmd(cmd="set", key="idle_timeout", value=37)

    stub.cmd(cmd="set", key="authorization_failures",
             value={RES_CIDR: {"reason": "forbidden",
                               "violated_properties": ["remote_ip"]}})
    st, _, _, ws = upgrade(stub.port, good_target(), good_headers())
    join(ws)
    ws.send({"topic": "client", "event": "request_authorization",
             "payload": {"resource_id": RES_CIDR,
                         "connected_gateway_ids": []}, "ref": 1})
    f = ws.recv()
    check("authorization_failures: scripted forbidden", f.get("payload") == {
        "resource_id": RES_CIDR, "reason": "forbidden",
        "violated_properties": ["remote_ip"]}, f)
    ws.close()
    stub.cmd(cmd="set", key="authorization_failures", value={})

    # v1 socket (2.4): create_flow -> flow_created, only when allowed.
    stub.cmd(cmd="set", key="allow_v1", value=True)
    st, _, _, ws = upgrade(stub.port, good_target().replace("/v2", ""),
                           good_headers())
    join(ws)
    ws.send({"topic": "client", "event": "create_flow",
             "payload": {"resource_id": RES_DNS,
                         "connected_gateway_ids": []}, "ref": 1})
    f = ws.recv()
    check("allow_v1: create_flow answered by flow_created",
          f.get("event") == "flow_created" and
          f["payload"]["gateway_id"] == GW_ID, f)
    ws.close()
    stub.cmd(cmd="set", key="allow_v1", value=False)
    check("behaviours: no violations", stub.cmd(cmd="state")[
        "violations"] == [], stub.cmd(cmd="state")["violations"])


def http_answers(stub):
    r = stub.cmd(cmd="set_http_status", status=503, retry_after=2, count=1)
    st, rh, body, _ = upgrade(stub.port, good_target(), good_headers())
    b = json.loads(body or b"{}")
    check("set_http_status 503 with Retry-After",
          r["ok"] and st == 503 and rh.get("retry-after") == "2" and
          rh.get("content-type") == "application/problem+json" and
          b.get("code") == "rate_limit", (st, rh, body))
    st, _, _, ws = upgrade(stub.port, good_target(), good_headers())
    check("count consumed: next connection upgraded", st == 101, st)
    if ws:
        ws.close()
    st, _, body, _ = upgrade(stub.port, good_target(),
                             good_headers(token="wrong"))
    check("unknown token -> 401 invalid_token", st == 401 and
          json.loads(body).get("code") == "invalid_token", (st, body))


def wrong_clients(stub):
    stub.cmd(cmd="clear")

    def violations():
        return stub.cmd(cmd="state")["violations"]

    # Query out of order: public_key before name.
    target = ("/client/v2/websocket?external_id=%s&public_key=%s&name=box" %
              (EXTERNAL_ID, form(CLIENT_PK)))
    st, _, _, ws = upgrade(stub.port, target, good_headers())
    c = ws.recv() if ws else None
    v = violations()
    check("bad query order: closed with 1008", st == 101 and c and
          c[0] == "close" and c[1] == 1008, (st, c))
    check("bad query order: violation recorded",
          any("out of order" in x["what"] for x in v), v)
    if ws:
        ws.close()

    # Missing X-Authorization.
    stub.cmd(cmd="clear")
    hs = [h for h in good_headers() if h[0] != "X-Authorization"]
    st, _, _, ws = upgrade(stub.port, good_target(), hs)
    c = ws.recv() if ws else None
    check("missing header: closed with 1008", c and c[1] == 1008, c)
    check("missing header: violation recorded", any(
        "x-authorization missing" in x["what"] for x in violations()))
    if ws:
        ws.close()

    # Unencoded public key ('/' and '+' and '=' left raw), Host with port.
    stub.cmd(cmd="clear")
    target = ("/client/v2/websocket?external_id=%s&public_key=%s" %
              (EXTERNAL_ID, CLIENT_PK))
    st, _, _, ws = upgrade(stub.port, target,
                           good_headers(host="portal.test:443"))
    v = violations()
    check("raw public key and Host port: both recorded",
          any("form-urlencoded" in x["what"] for x in v) and
          any("carries a port" in x["what"] for x in v), v)
    if ws:
        ws.close()

    # A frame with a fifth key after a good join.
    stub.cmd(cmd="clear")
    st, _, _, ws = upgrade(stub.port, good_target(), good_headers())
    join(ws)
    ws.send({"topic": "phoenix", "event": "heartbeat", "payload": {},
             "ref": 1, "join_ref": None})
    c = ws.recv()
    v = violations()
    check("fifth key: closed with 1008", c[0] == "close" and c[1] == 1008, c)
    check("fifth key: violation recorded with the frame", any(
        "expected exactly topic,event,payload,ref" in x["what"] and
        "join_ref" in x.get("frame", "") for x in v), v)
    ws.close()

    # Join with ref 1, and a channel message before joining.
    stub.cmd(cmd="clear")
    st, _, _, ws = upgrade(stub.port, good_target(), good_headers())
    ws.send({"topic": "client", "event": "phx_join", "payload": None,
             "ref": 1})
    c = ws.recv()
    check("first ref not 0: violation", c[1] == 1008 and any(
        "first ref" in x["what"] for x in violations()), c)
    ws.close()

    # Two request_authorization for one resource within 2 s.
    stub.cmd(cmd="clear")
    st, _, _, ws = upgrade(stub.port, good_target(), good_headers())
    join(ws)
    for ref in (1, 2):
        ws.send({"topic": "client", "event": "request_authorization",
                 "payload": {"resource_id": RES_CIDR,
                             "connected_gateway_ids": []}, "ref": ref})
    while True:
        m = ws.recv()
        if isinstance(m, tuple):
            break
    check("request_authorization twice in 2 s: violation", any(
        "at most one per 2 s" in x["what"] for x in violations()))
    ws.close()

    # A heartbeat right after the socket opened (1.7: every 10 s).
    stub.cmd(cmd="clear")
    stub.cmd(cmd="set", key="heartbeat_min_interval", value=9)
    st, _, _, ws = upgrade(stub.port, good_target(), good_headers())
    join(ws)
    ws.send({"topic": "phoenix", "event": "heartbeat", "payload": {},
             "ref": 1})
    c = ws.recv()
    check("early heartbeat: violation", isinstance(c, tuple) and
          c[1] == 1008 and any("after the socket opened" in x["what"]
                               for x in violations()), c)
    ws.close()
    stub.cmd(cmd="set", key="heartbeat_min_interval", value=0)

    # Text frame with invalid UTF-8, refused by websockets itself.
    stub.cmd(cmd="clear")
    st, _, _, ws = upgrade(stub.port, good_target(), good_headers())
    join(ws)
    ws.send_frame(1, b'{"topic":"\xff"}')
    c = ws.recv()
    ws.close()      # websockets records the failure once the TCP is gone
    stub.cmd(cmd="wait", what="violations", value=1, timeout=5)
    check("invalid UTF-8 frame: 1007 and a violation", c[1] == 1007 and any(
        "1007" in x["what"] for x in violations()), (c, violations()))

    # Malformed frames of several kinds, each on a fresh connection.
    bad_frames = [
        ("not JSON", '{"topic":'),
        ("array", '[1,2]'),
        ("string ref", '{"topic":"phoenix","event":"heartbeat",'
                       '"payload":{},"ref":"1"}'),
        ("duplicate key", '{"topic":"phoenix","topic":"phoenix",'
                          '"event":"heartbeat","payload":{},"ref":1}'),
        ("missing payload", '{"topic":"phoenix","event":"heartbeat",'
                            '"ref":1}'),
        ("ref gap", '{"topic":"phoenix","event":"heartbeat",'
                    '"payload":{},"ref":5}'),
        ("heartbeat on client topic", '{"topic":"client","event":'
                                      '"heartbeat","payload":{},"ref":1}'),
        ("legacy event", '{"topic":"client","event":"create_flow",'
                         '"payload":{"resource_id":"%s",'
                         '"connected_gateway_ids":[]},"ref":1}' % RES_CIDR),
        ("iceless true", '{"topic":"client","event":'
                         '"set_snownet_capabilities","payload":'
                         '{"iceless":true},"ref":1}'),
        ("bad candidate", '{"topic":"client","event":'
                          '"new_gateway_ice_candidates","payload":'
                          '{"gateway_id":"%s","candidates":["x"]},"ref":1}'
                          % GW_ID),
    ]
    for name, frame in bad_frames:
        stub.cmd(cmd="clear")
        st, _, _, ws = upgrade(stub.port, good_target(), good_headers())
        join(ws)
        ws.send(frame)
        while True:
            c = ws.recv()
            if isinstance(c, tuple):
                break
        v = violations()
        check("malformed frame (%s): 1008 and one violation" % name,
              c[1] == 1008 and len(v) == 1, (c, v))
        ws.close()

    # A channel message before the join reply.
    stub.cmd(cmd="clear")
    stub.cmd(cmd="set", key="no_join_reply", value=True)
    st, _, _, ws = upgrade(stub.port, good_target(), good_headers())
    ws.send({"topic": "client", "event": "phx_join", "payload": None,
             "ref": 0})
    ws.send({"topic": "client", "event": "no_relays", "payload": {},
             "ref": 1})
    c = ws.recv()
    check("no_join_reply, then a channel message: violation",
          c[1] == 1008 and "before the join reply" in violations()[0]["what"],
          c)
    ws.close()
    stub.cmd(cmd="set", key="no_join_reply", value=False)

    # Stderr carries the VIOLATION lines.
    stub.stderr.flush()
    stub.stderr.seek(0)
    check("violations logged on stderr",
          sum(1 for line in stub.stderr if line.startswith("VIOLATION:"))
          >= 6)


GW_EXTERNAL_ID = hashlib.sha256(b"gateway-1").hexdigest()
GW_UA = "Debian/12 gateway/1.6.1 (x86_64; 6.1.0-18-amd64)"


def gateway_role(stub):
    """Section 3: a live gateway gets init, then the gateway half of an
    authorization; the client is answered only after the gateway's ack."""
    stub.cmd(cmd="clear")
    target = ("/gateway/v2/websocket?external_id=%s&name=gw-1&public_key=%s"
              % (GW_EXTERNAL_ID, form(GW_PK)))
    hs = [(k, GW_UA if k == "User-Agent" else v) for k, v in good_headers()]
    st, _, _, gw = upgrade(stub.port, target, hs)
    if not check("gateway: upgrade answered 101", st == 101, st):
        return
    gw.send({"topic": "gateway", "event": "phx_join", "payload": None,
             "ref": 0})
    reply, init = gw.recv(), gw.recv()
    check("gateway: join reply on topic gateway", reply == {
        "topic": "gateway", "event": "phx_reply", "ref": 0,
        "payload": {"status": "ok", "response": {}}}, reply)
    p = init.get("payload", {})
    # The relay set is the one left by correct_client's relays_presence.
    u, pw = expected_turn(GW_PK, 2145916800, "s2")
    check("gateway: init with interface, config and 2038 TURN credentials",
          init.get("event") == "init" and
          p["interface"] == {"ipv4": "100.82.5.17",
                             "ipv6": "fd00:2021:1111::3:9c4e"} and
          p["config"]["ipv4_masquerade_enabled"] is True and
          p["relays"][0]["username"] == u and
          p["relays"][0]["password"] == pw, p)
    st2, _, body, _ = upgrade(stub.port, target, hs)
    check("gateway: second connection of the same gateway -> 409",
          st2 == 409 and json.loads(body)["code"] ==
          "gateway_already_connected", (st2, body))

    st, _, _, ws = upgrade(stub.port, good_target(), good_headers())
    join(ws)
    ws.send({"topic": "client", "event": "request_authorization",
             "payload": {"resource_id": RES_DNS,
                         "connected_gateway_ids": []}, "ref": 1})
    ca = gw.recv()
    cp = ca.get("payload", {})
    cice, gice = expected_ice(CLIENT_ID, CLIENT_PK, GW_ID, GW_PK)
    check("gateway: create_authorization with PSK and ICE credentials",
          ca.get("event") == "create_authorization" and
          cp["client"]["id"] == CLIENT_ID and
          cp["client"]["public_key"] == CLIENT_PK and
          cp["client"]["preshared_key"] == expected_psk(
              CLIENT_ID, CLIENT_PK, CLIENT_PSK_BASE, GW_ID, GW_PK,
              GW_PSK_BASE) and
          cp["client_ice_credentials"] == cice and
          cp["gateway_ice_credentials"] == gice and
          cp["resource"] == {"id": RES_DNS, "type": "dns",
                             "address": "*.git.corp.example.com",
                             "name": "GitLab",
                             "filters": [{"protocol": "tcp",
                                          "port_range_start": 443,
                                          "port_range_end": 443}]}, ca)
    gw.send({"topic": "gateway", "event": "authorization_created",
             "payload": {"ref": cp.get("ref")}, "ref": 1})
    ack = gw.recv()
    check("gateway: ack answered ok", ack.get("event") == "phx_reply" and
          ack["ref"] == 1 and ack["payload"]["status"] == "ok", ack)
    a = ws.recv()
    check("gateway: client gets authorization_created after the ack",
          a.get("event") == "authorization_created" and
          a["payload"]["gateway_id"] == GW_ID and
          a["payload"]["client_ice_credentials"] == cice, a)

    cand = "candidate:1 1 udp 2130706431 192.168.1.23 52625 typ host"
    ws.send({"topic": "client", "event": "new_gateway_ice_candidates",
             "payload": {"gateway_id": GW_ID, "candidates": [cand]},
             "ref": 2})
    m = gw.recv()
    check("gateway: client candidates forwarded as ice_candidates",
          m.get("event") == "ice_candidates" and m["payload"] == {
              "client_id": CLIENT_ID, "candidates": [cand]}, m)
    gw.send({"topic": "gateway", "event": "broadcast_ice_candidates",
             "payload": {"client_ids": [CLIENT_ID], "candidates": [cand]},
             "ref": 2})
    m = ws.recv()
    check("gateway: gateway candidates forwarded to the client",
          m.get("event") == "ice_candidates" and m["payload"] == {
              "gateway_id": GW_ID, "candidates": [cand]}, m)

    upd = dict(SCENARIO["resources"][1], filters=[{"protocol": "icmp"}])
    stub.cmd(cmd="update_resource", resource=upd)
    m1, m2 = ws.recv(), gw.recv()
    check("gateway: update_resource -> resource_updated to the gateway",
          m1.get("event") == "resource_created_or_updated" and
          m2.get("event") == "resource_updated" and
          m2["payload"]["filters"] == [{"protocol": "icmp"}] and
          "sites" not in m2["payload"], m2)

    stub.cmd(cmd="set", key="gateway_ack_timeout", value=0.5)
    ws.send({"topic": "client", "event": "request_authorization",
             "payload": {"resource_id": RES_CIDR,
                         "connected_gateway_ids": [GW_ID]}, "ref": 3})
    gw.recv()       # create_authorization, deliberately not acknowledged
    f = ws.recv()
    check("gateway: no ack in time -> offline", f.get("event") ==
          "authorization_creation_failed" and
          f["payload"]["reason"] == "offline", f)
    stub.cmd(cmd="delete_resource", id=RES_DNS)
    m1, m2 = ws.recv(), gw.recv()
    check("gateway: delete_resource -> resource_deleted and reject_access",
          m1.get("event") == "resource_deleted" and m2 == {
              "topic": "gateway", "event": "reject_access", "ref": None,
              "payload": {"client_id": CLIENT_ID, "resource_id": RES_DNS}},
          (m1, m2))
    s = stub.cmd(cmd="state", role="gateway")
    check("gateway: state for role gateway, no violations",
          s["connected"] and s["joined"] and
          stub.cmd(cmd="state")["violations"] == [],
          stub.cmd(cmd="state")["violations"])
    ws.close()
    gw.close()


GW2_ID = "0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f"
GW2_PK = base64.b64encode(bytes(range(150, 182))).decode()
GW2_TOKEN = "gateway.token.site.b"
SITE2_ID = "1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6"
RES_B = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
COTURN_SECRET = "coturn-static-auth-secret"

SCENARIO_GW = {
    "token_expires_at": EXPIRES,
    "heartbeat_min_interval": 0,
    "client": {"id": CLIENT_ID},
    "sites": [{"id": SITE_ID, "name": "HQ"}, {"id": SITE2_ID, "name": "B"}],
    "resources": [
        {"id": RES_CIDR, "type": "cidr", "address": "10.20.0.0/24",
         "name": "HQ LAN", "filters": [],
         "sites": [{"id": SITE_ID, "name": "HQ"}]},
        {"id": RES_B, "type": "cidr", "address": "10.30.0.0/24",
         "name": "B LAN", "filters": [],
         "sites": [{"id": SITE2_ID, "name": "B"}]}],
    "relays": [{"id": RELAY_ID, "addrs": ["127.0.0.1:3478"],
                "stamp_secret": COTURN_SECRET, "password_form": "coturn"}],
    # Live gateways known only by their token: offline until they connect.
    "gateways": [{"id": GW_ID, "site_id": SITE_ID, "token": "gateway.token.a",
                  "ipv4": "100.82.0.1", "ipv6": "fd00:2021:1111::82:1",
                  "simulated": False},
                 {"id": GW2_ID, "site_id": SITE2_ID, "token": GW2_TOKEN,
                  "ipv4": "100.82.0.2", "ipv6": "fd00:2021:1111::82:2",
                  "simulated": False}],
}


def ask(ws, rid, ref, connected=()):
    """A client's request_authorization (2.3)."""
    ws.send({"topic": "client", "event": "request_authorization",
             "payload": {"resource_id": rid,
                         "connected_gateway_ids": list(connected)},
             "ref": ref})


def gateway_connect(stub, token, pk, name):
    target = ("/gateway/v2/websocket?external_id=%s&name=%s&public_key=%s"
              % (hashlib.sha256(name.encode()).hexdigest(), name, form(pk)))
    hs = [(k, GW_UA if k == "User-Agent" else v)
          for k, v in good_headers(token)]
    st, _, _, gw = upgrade(stub.port, target, hs)
    if st != 101:
        return st, None, None
    gw.send({"topic": "gateway", "event": "phx_join", "payload": None,
             "ref": 0})
    gw.recv()
    return st, gw, gw.recv()


def gateways_by_token(stub):
    """Gateways bound to their scenario entry (and site) by their token;
    coturn-form relay passwords; site choice; a gateway's candidates sent
    before its ack reach the client after authorization_created."""
    import hmac
    import time
    st, _, _, ws = upgrade(stub.port, good_target(), good_headers())
    _, init = join(ws)
    u = init["payload"]["relays"][0]["username"]
    check("coturn form: password = base64(HMAC-SHA1(secret, username))",
          init["payload"]["relays"][0]["password"] == base64.b64encode(
              hmac.new(COTURN_SECRET.encode(), u.encode(),
                       hashlib.sha1).digest()).decode() and
          u == expected_turn(CLIENT_PK, EXPIRES, "x")[0],
          init["payload"]["relays"])
    ask(ws, RES_B, 1)
    f = ws.recv()
    check("token gateways: offline before the gateway connects",
          f.get("event") == "authorization_creation_failed" and
          f["payload"]["reason"] == "offline", f)
    st, gw2, ginit = gateway_connect(stub, GW2_TOKEN, GW2_PK, "gw-b")
    check("token gateways: gateway B's token binds it to its entry",
          st == 101 and ginit["payload"]["interface"]["ipv4"] ==
          "100.82.0.2", (st, ginit))
    w1 = stub.cmd(cmd="wait", what="gateway", value=GW2_ID, timeout=1)
    w2 = stub.cmd(cmd="wait", what="gateway", value=GW_ID, timeout=0.2)
    check("token gateways: wait for a gateway by id",
          w1["ok"] and not w2["ok"], (w1, w2))
    st, _, _, _ = upgrade(stub.port, good_target(),
                          good_headers("gateway.token.unknown"))
    check("token gateways: unknown token still refused", st == 401, st)
    time.sleep(2)
    ask(ws, RES_B, 2)
    ca = gw2.recv()
    check("token gateways: create_authorization to the site's gateway",
          ca.get("event") == "create_authorization" and
          ca["payload"]["resource"]["id"] == RES_B, ca)
    cand = "candidate:1 1 udp 2130706431 10.82.0.2 52625 typ host"
    gw2.send({"topic": "gateway", "event": "broadcast_ice_candidates",
              "payload": {"client_ids": [CLIENT_ID], "candidates": [cand]},
              "ref": 1})
    gw2.send({"topic": "gateway", "event": "authorization_created",
              "payload": {"ref": ca["payload"]["ref"]}, "ref": 2})
    a, c = ws.recv(), ws.recv()
    check("token gateways: candidates sent before the ack follow "
          "authorization_created",
          a.get("event") == "authorization_created" and
          a["payload"]["gateway_id"] == GW2_ID and
          a["payload"]["site_id"] == SITE2_ID and
          c.get("event") == "ice_candidates" and
          c["payload"] == {"gateway_id": GW2_ID, "candidates": [cand]},
          (a, c))
    gw2.send({"topic": "gateway", "event": "broadcast_ice_candidates",
              "payload": {"client_ids": [CLIENT_ID], "candidates": [cand]},
              "ref": 3})
    gw2.recv()      # phx_reply to the ack
    c = ws.recv()
    check("token gateways: later candidates forwarded at once",
          c.get("event") == "ice_candidates", c)
    stub.cmd(cmd="reject_access", resource_id=RES_B, client_id=CLIENT_ID)
    m = gw2.recv()
    check("token gateways: reject_access reaches the gateway",
          m.get("event") == "reject_access" and m["payload"] == {
              "client_id": CLIENT_ID, "resource_id": RES_B}, m)
    # A revoked policy: the gateway is told, the client keeps the resource
    # (keep_resource) but is refused from now on; restore undoes it.
    time.sleep(2)
    ask(ws, RES_B, 3, [GW2_ID])
    ca = gw2.recv()
    gw2.send({"topic": "gateway", "event": "authorization_created",
              "payload": {"ref": ca["payload"]["ref"]}, "ref": 4})
    gw2.recv()
    ws.recv()
    r = stub.cmd(cmd="revoke_policy", resource_id=RES_B, keep_resource=True)
    m = gw2.recv()
    time.sleep(2)
    ask(ws, RES_B, 4, [GW2_ID])
    f = ws.recv()
    check("revoke_policy: reject_access to the gateway, then not_found",
          r.get("rejected") == 1 and r.get("sent") == 0 and
          m.get("event") == "reject_access" and
          f.get("event") == "authorization_creation_failed" and
          f["payload"]["reason"] == "not_found", (r, m, f))
    r = stub.cmd(cmd="revoke_policy", resource_id=RES_CIDR,
                 client_id=CLIENT_ID)
    m = ws.recv()
    check("revoke_policy: resource_deleted to the client by default",
          r.get("sent") == 1 and m.get("event") == "resource_deleted" and
          m["payload"] == RES_CIDR, (r, m))
    stub.cmd(cmd="restore_policy", resource_id=RES_B)
    time.sleep(2)
    ask(ws, RES_B, 5, [GW2_ID])
    ca = gw2.recv()
    check("restore_policy: authorized again",
          ca.get("event") == "create_authorization", ca)
    s = stub.cmd(cmd="state")
    check("token gateways: no violations", s["violations"] == [],
          s["violations"])
    ws.close()
    gw2.close()
    w = stub.cmd(cmd="wait", what="gateway_offline", value=GW2_ID, timeout=5)
    check("token gateways: wait for a gateway to go", w["ok"], w)


def state_file_restart(tmp, scen_gw):
    """--state-file: authorizations survive a restart and reappear in the
    reconnecting gateway's init."""
    state = os.path.join(tmp, "state.json")
    stub = Stub(tmp, ["--plain", "--scenario", scen_gw,
                      "--state-file", state])
    try:
        _, gw2, _ = gateway_connect(stub, GW2_TOKEN, GW2_PK, "gw-b")
        st, _, _, ws = upgrade(stub.port, good_target(), good_headers())
        join(ws)
        ask(ws, RES_B, 1)
        ca = gw2.recv()
        gw2.send({"topic": "gateway", "event": "authorization_created",
                  "payload": {"ref": ca["payload"]["ref"]}, "ref": 1})
        gw2.recv()
        ws.recv()
        ws.close()
        gw2.close()
    finally:
        stub.stop()
    stub = Stub(tmp, ["--plain", "--scenario", scen_gw,
                      "--state-file", state])
    try:
        _, gw2, init = gateway_connect(stub, GW2_TOKEN, GW2_PK, "gw-b")
        check("state file: a restarted stub lists the authorization",
              [(a["client_id"], a["resource_id"]) for a in
               init["payload"]["authorizations"]] == [(CLIENT_ID, RES_B)],
              init["payload"]["authorizations"])
        gw2.close()
    finally:
        stub.stop()


def make_ca(tmp):
    """Throwaway CA and a server certificate for portal.test / 127.0.0.1."""
    def run(*args):
        subprocess.run(["openssl"] + list(args), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ca_key, ca_crt = os.path.join(tmp, "ca.key"), os.path.join(tmp, "ca.crt")
    key, csr, crt = (os.path.join(tmp, n) for n in
                     ("srv.key", "srv.csr", "srv.crt"))
    ext = os.path.join(tmp, "ext.cnf")
    run("req", "-x509", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", ca_key,
        "-out", ca_crt, "-days", "2", "-subj", "/CN=fzc test CA")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=portal.test")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:portal.test,IP:127.0.0.1\n")
    run("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key,
        "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext)
    return ca_crt, crt, key


def write_json(tmp, name, obj):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        json.dump(obj, f)
    return path


def main():
    tmp = tempfile.mkdtemp(prefix="fzc-stub-selftest-")
    scen = write_json(tmp, "scenario.json", SCENARIO)

    stub = Stub(tmp, ["--plain", "--scenario", scen])
    try:
        correct_client(stub)
        ctl_cli(stub)
        behaviours(stub)
        http_answers(stub)
        wrong_clients(stub)
        gateway_role(stub)
    finally:
        stub.stop()

    scen_gw = write_json(tmp, "scenario-gw.json", SCENARIO_GW)
    stub = Stub(tmp, ["--plain", "--scenario", scen_gw])
    try:
        gateways_by_token(stub)
    finally:
        stub.stop()
    state_file_restart(tmp, scen_gw)

    ca, crt, key = make_ca(tmp)
    stub = Stub(tmp, ["--cert", crt, "--key", key, "--scenario", scen])
    try:
        ctx = ssl.create_default_context(cafile=ca)
        correct_client(stub, ctx, "tls")
        wrong = ssl.create_default_context()     # system CAs only
        try:
            upgrade(stub.port, good_target(), good_headers(), wrong,
                    "portal.test")
            refused = False
        except ssl.SSLError:
            refused = True
        check("tls: unknown CA refused by the client side", refused)
    finally:
        stub.stop()
    subprocess.run(["rm", "-rf", tmp])
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(0 if failed == 0 else 1)


if __name__ == "__main__":
    main()
