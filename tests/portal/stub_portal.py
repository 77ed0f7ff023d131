#!/usr/bin/python3
"""Stub Firezone portal for fzc's tests.

Speaks the portal side of ../shared/PROTOCOL.md (sections 1, 2 and 3):
Phoenix channels (V1 JSON) over a WebSocket, on /client/v2/websocket and
/gateway/v2/websocket.  It is deliberately *strict*: everything the client
sends is checked against the protocol notes, and every deviation is a
"violation" - logged to stderr on a line starting with "VIOLATION:",
recorded (the control command `state` returns them all) and, by default,
answered by closing the WebSocket with code 1008 (policy violation).

Runs on Debian 12's /usr/bin/python3 with python3-websockets 10.4 (the
legacy asyncio API) and the standard library only.  See README.md next to
this file for the command line, the scenario format and the control
commands.
"""

import argparse
import asyncio
import base64
import binascii
import copy
import hashlib
import hmac
import http
import json
import os
import re
import secrets
import ssl
import sys
import time
import urllib.parse
import uuid

import websockets
import websockets.exceptions
import websockets.frames
import websockets.legacy.server

# ---------------------------------------------------------------------------
# Constants from PROTOCOL.md

# 1.2: the query parameters a client may send, in the only order allowed.
CLIENT_QUERY_ORDER = ["external_id", "name", "device_serial", "device_uuid",
                      "identifier_for_vendor", "firebase_installation_id",
                      "public_key"]
GATEWAY_QUERY_ORDER = ["external_id", "name", "public_key"]
# Only iOS / Android clients send these; a Linux client never does.
MOBILE_ONLY_PARAMS = {"identifier_for_vendor", "firebase_installation_id"}

# 1.3: the headers connlib sends, and nothing else.
EXPECTED_HEADERS = ["host", "connection", "upgrade", "sec-websocket-version",
                    "sec-websocket-key", "user-agent", "x-authorization"]

# 1.4: components the portal recognises in the User-Agent.
UA_COMPONENTS = ["connlib", "headless-client", "gui-client", "apple-client",
                 "android-client", "gateway", "relay"]
# 1.4: first version given "sites" / "site_id" instead of gateway_group keys,
# and first version given device-pool resources, per client component.
SITES_MIN = {"headless-client": (1, 5, 6), "gui-client": (1, 5, 10),
             "apple-client": (1, 5, 11), "android-client": (1, 5, 8)}
DEVICE_POOL_MIN = {"headless-client": (1, 5, 9), "gui-client": (1, 5, 13),
                   "apple-client": (1, 5, 16), "android-client": (1, 5, 11)}
INTERNET_MIN = (1, 3, 0)

# Section 3: gateway TURN credentials expire on 2038-01-01, so they are stable.
GATEWAY_RELAY_EXPIRES_AT = 2145916800

# Key for the dummy flow-log JWTs (3: the signature is never verified).
JWT_KEY = b"fzc stub portal flow log key"

# Namespace for the stable ids this stub makes up (device ids per external_id).
STUB_NS = uuid.UUID("6f7a632d-7374-7562-2d70-6f7274616c21")

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                     r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
HEX64_RE = re.compile(r"^[0-9a-f]{64}$")
# <OS name>/<OS version> <component>/<X.Y.Z> (<arch>; <kernel>)
UA_RE = re.compile(r"^(?P<os>[^\s/]+)/(?P<osver>[^\s/]+) "
                   r"(?P<comp>[a-z-]+)/(?P<ver>\d+\.\d+\.\d+) "
                   r"\((?P<arch>[^;()]+); (?P<kernel>[^;()]+)\)$")
# An SDP candidate attribute value without "a=" (2.2, 2.3).
CANDIDATE_RE = re.compile(
    r"^candidate:\S+ \d+ (?i:udp|tcp) \d+ \S+ \d+ typ (host|srflx|prflx|relay)"
    r"( raddr \S+ rport \d+)?( \S+ \S+)*$")


def log(msg):
    print("stub_portal: " + msg, file=sys.stderr, flush=True)


def now():
    return time.time()


def parse_version(s):
    """'1.5.6' -> (1, 5, 6); None when malformed."""
    if not isinstance(s, str) or not re.match(r"^\d+\.\d+\.\d+$", s):
        return None
    return tuple(int(x) for x in s.split("."))


def b64_nopad(data):
    # 2.2: TURN salt and password are standard base64 *without* padding.
    return base64.b64encode(data).decode().rstrip("=")


def b64url_nopad(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def form_encode(value):
    """application/x-www-form-urlencoded, byte for byte as Rust's
    form_urlencoded (used by connlib's url crate) writes it: ASCII
    alphanumerics and *-._ kept, space as '+', the rest %XX upper case."""
    out = []
    for b in value.encode("utf-8"):
        c = chr(b)
        if (b < 128 and c.isalnum()) or c in "*-._":
            out.append(c)
        elif c == " ":
            out.append("+")
        else:
            out.append("%%%02X" % b)
    return "".join(out)


def form_decode(raw):
    """Strict inverse of form_encode; raises ValueError on bad escapes or
    bytes that are not UTF-8."""
    if re.search(r"%(?![0-9A-Fa-f]{2})", raw):
        raise ValueError("bad percent escape")
    data = urllib.parse.unquote_to_bytes(raw.replace("+", " "))
    return data.decode("utf-8")


def valid_pubkey(s):
    """1.2: standard base64 with padding, exactly 44 chars, 32 bytes."""
    if not isinstance(s, str) or len(s) != 44:
        return False
    try:
        raw = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        return False
    return len(raw) == 32 and base64.b64encode(raw).decode() == s


def valid_uuid(s):
    return isinstance(s, str) and UUID_RE.match(s) is not None


# ---------------------------------------------------------------------------
# Derivations of PROTOCOL 2.2 and 2.5.  These are what the tests compare
# the client's behaviour (and the selftest's independent code) against.

def turn_credentials(public_key, expires_at, stamp_secret,
                     password_form="firezone"):
    """2.2: salt = b64nopad(SHA-256(public key text)); username =
    "<expires_at>:<salt>"; password = b64nopad(SHA-256(
    "<expires_at>:<stamp_secret>:<salt>")).  password_form "coturn" gives
    the password coturn computes in its use-auth-secret mode (the TURN REST
    API: base64(HMAC-SHA1(static-auth-secret, username)), padded), so that
    a stock coturn can stand in for Firezone's relay; the username is the
    same, and coturn reads its leading number as the expiry."""
    salt = b64_nopad(hashlib.sha256(public_key.encode()).digest())
    username = "%d:%s" % (expires_at, salt)
    if password_form == "coturn":
        password = base64.b64encode(hmac.new(
            stamp_secret.encode(), username.encode(),
            hashlib.sha1).digest()).decode()
    elif password_form == "firezone":
        password = b64_nopad(hashlib.sha256(
            ("%d:%s:%s" % (expires_at, stamp_secret, salt)).encode())
            .digest())
    else:
        raise ValueError("unknown relay password_form %r" % password_form)
    return username, password


def derive_psk(client_id, client_pk, client_psk_base, gw_id, gw_pk,
               gw_psk_base):
    """2.5: PBKDF2-HMAC-SHA256, 1 iteration, 32 bytes; password = client
    psk_base || gateway psk_base; salt names both ids and keys."""
    salt = "WG_PSK|C_ID:%s|G_ID:%s|C_PK:%s|G_PK:%s" % (
        client_id, gw_id, client_pk, gw_pk)
    key = hashlib.pbkdf2_hmac("sha256", client_psk_base + gw_psk_base,
                              salt.encode(), 1, 32)
    return base64.b64encode(key).decode()


def derive_ice(client_id, client_pk, gw_id, gw_pk):
    """2.5: SHA-256 of "<cid>:<cpk>:<gid>:<gpk>" in lower-case unpadded
    base32 (52 chars), cut into ufrag/pwd for the client then the gateway."""
    digest = hashlib.sha256(("%s:%s:%s:%s" % (
        client_id, client_pk, gw_id, gw_pk)).encode()).digest()
    s = base64.b32encode(digest).decode().rstrip("=").lower()
    return ({"username": s[0:4], "password": s[4:26]},
            {"username": s[26:30], "password": s[30:52]})


def mint_jwt(claims):
    """A dummy flow-log ingest token with the shape section 3 requires
    (HS256, 3 segments, non-empty signature)."""
    head = b64url_nopad(json.dumps({"alg": "HS256", "typ": "JWT"},
                                   separators=(",", ":")).encode())
    body = b64url_nopad(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(JWT_KEY, (head + "." + body).encode(),
                   hashlib.sha256).digest()
    return head + "." + body + "." + b64url_nopad(sig)


def stable_psk_base(what):
    # Devices whose scenario entry gives no psk_base get a reproducible one,
    # so two runs of the same scenario derive the same PSKs.
    return hashlib.sha256(("psk_base:" + what).encode()).digest()


def gateway_compatible(client_ver, gw_ver):
    """1.4: gateway >= X.(Y-1).0 and < X.(Y+2).0 for a client X.Y.Z."""
    x, y, _ = client_ver
    return (x, max(y - 1, 0), 0) <= gw_ver < (x, y + 2, 0)


# ---------------------------------------------------------------------------
# Scenario

DEFAULT_SCENARIO = {
    # Accepted bearer tokens, in addition to --token / --token-file.
    "tokens": [],
    # 2.2: the client token's expiry, used as the client's TURN expires_at.
    "token_expires_at": None,           # default: start time + 7 days
    "account_slug": "acme",
    # Connection checks.
    "path_prefix": "",                  # API URL path before /client/v2/...
    "allow_v1": False,                  # accept /client/websocket (v1 names)
    "expect_host": None,                # exact Host header value, if set
    "allow_headers": [],                # extra request headers tolerated
    "external_id_form": "sha256",       # "sha256" (64 hex) or "any"
    "client_ua_component": "headless-client",
    "client_ua_min": "1.5.6",           # sites payload ...
    "client_ua_max": "1.5.7",           # ... and no c2c / device pools
    "gateway_ua_component": "gateway",
    "ref_rule": "consecutive",          # or "increasing"
    "authorization_min_interval": 1.8,  # 2.3: 2 s per resource, less jitter
    "close_on_violation": True,
    # Behaviours.
    "http_status": [],                  # [{status, retry_after, body, count}]
    "ignore_heartbeats": False,
    "no_join_reply": False,
    "join_error": None,                 # reason for an error join reply
    "join_reply_delay": 0,
    "no_init": False,
    "disconnect_reason": None,          # pushed disconnect after join
    "disconnect_after": 0,
    "idle_timeout": 37,                 # 1.1: server closes after silence
    "heartbeat_min_interval": 9.0,      # 1.7: every 10 s; 0 = no check
    "authorization_failures": {},       # resource id or "*" -> {reason, ...}
    "authorization_delay": 0,
    "gateway_ack_timeout": 15,          # 2.4
    # Data.
    "client": {},                       # {id, psk_base}
    "clients": {},                      # external_id -> {id, psk_base,
                                        #                 ipv4, ipv6}
    "interface": {"ipv4": "100.64.0.2", "ipv6": "fd00:2021:1111::2",
                  "search_domain": None, "upstream_do53": [],
                  "upstream_doh": []},
    "resources": [],
    "relays": [],
    "sites": [],
    "gateways": [],
    "authorizations": [],
    "flow_logs": {"api_url": "https://flow-logs.invalid/",
                  "upload_interval_secs": 0, "upload_batch_size": 1000},
}


def load_scenario(path):
    sc = copy.deepcopy(DEFAULT_SCENARIO)
    if path:
        with open(path) as f:
            user = json.load(f)
        if not isinstance(user, dict):
            raise ValueError("scenario must be a JSON object")
        for k, v in user.items():
            if k not in sc:
                raise ValueError("unknown scenario key %r" % k)
            sc[k] = v
    if isinstance(sc["http_status"], dict):
        sc["http_status"] = [sc["http_status"]]
    for e in sc["http_status"]:
        http.HTTPStatus(int(e["status"]))       # ValueError if unknown
    for r in sc["relays"]:
        if "addrs" not in r and "addr" in r:
            r["addrs"] = [r["addr"]]
        turn_credentials("", 0, "", r.get("password_form", "firezone"))
    return sc


# ---------------------------------------------------------------------------
# Portal state

class Conn:
    """One WebSocket connection (client or gateway role)."""

    def __init__(self, num, role, ws):
        self.num = num
        self.role = role
        self.ws = ws
        self.topic = role
        self.v1 = False
        self.query = {}
        self.public_key = None
        self.external_id = None
        self.ua = None
        self.ua_version = None
        self.device_id = None
        self.connect_violations = []
        self.last_ref = None
        self.frames = 0
        self.join_seen = False
        self.joined = False         # join reply sent
        self.closing = False
        self.last_auth_request = {}  # resource id -> monotonic time
        self.gateway = None         # scenario gateway entry (gateway role)
        self.gateways_told = set()  # gateway ids in authorization_created
        self.opened = time.monotonic()
        self.last_heartbeat = None
        self.heartbeats_here = 0


class Portal:
    def __init__(self, scenario, tokens, state_file=None):
        self.sc = scenario
        self.state_file = state_file
        self.tokens = set(tokens) | set(scenario["tokens"]) | {
            g["token"] for g in scenario["gateways"] if g.get("token")}
        self.start = now()
        if self.sc["token_expires_at"] is None:
            self.sc["token_expires_at"] = int(self.start) + 7 * 86400
        self.http_queue = [dict(e) for e in scenario["http_status"]]
        self.conns = []             # open Conn objects, oldest first
        self.next_conn = 1
        self.violations = []
        self.pending = {}           # create_authorization ref -> record
        # (client conn number, gateway id) -> [(event, candidates)]: a
        # gateway's candidates for a client that has not yet been told
        # about that gateway, passed on right after authorization_created.
        self.held = {}
        # (client id, resource id) -> gateway id, for every authorization
        # given: feeds the gateway's init, resource_updated, reject_access.
        self.grants = {}
        # (client id or None for all, resource id): policies a test revoked;
        # requests for them are answered not_found (2.2).
        self.revoked = set()
        self.load_state()
        self.port = None
        self.stats = {role: {"connection_attempts": 0, "connections": 0,
                             "http_answers": [], "heartbeats": 0,
                             "heartbeat_times": [], "joins": 0,
                             "last_user_agent": None, "last_query": None,
                             "last_path": None, "last_headers": None,
                             "messages": [], "idle_timeouts": 0}
                      for role in ("client", "gateway")}
        for g in self.sc["gateways"]:
            # Simulated gateways need what the authorization is made of.
            if not valid_uuid(g.get("id")) or (
                    g.get("simulated", True) and
                    not valid_pubkey(g.get("public_key"))):
                raise ValueError("scenario gateway %r needs a UUID id and a "
                                 "base64 public_key" % g)
            g.setdefault("version", "1.6.1")
            g.setdefault("online", True)
            g.setdefault("simulated", True)

    # -- bookkeeping -------------------------------------------------------

    def load_state(self):
        """--state-file: what a real portal keeps in its database across a
        restart (authorizations given, revoked policies, gateways' public
        keys), so that a restarted stub lists the same authorizations in a
        reconnecting gateway's init."""
        if not self.state_file or not os.path.exists(self.state_file):
            return
        with open(self.state_file) as f:
            st = json.load(f)
        self.grants = {(c, r): g for c, r, g in st.get("grants", [])}
        self.revoked = {(c, r) for c, r in st.get("revoked", [])}
        self.sc["token_expires_at"] = st.get("token_expires_at",
                                             self.sc["token_expires_at"])
        log("state from %s: %d authorizations" % (self.state_file,
                                                   len(self.grants)))

    def save_state(self):
        if not self.state_file:
            return
        tmp = self.state_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"grants": [[c, r, g] for (c, r), g in
                                  sorted(self.grants.items())],
                       "revoked": sorted([c, r] for c, r in self.revoked),
                       "token_expires_at": self.sc["token_expires_at"]}, f)
        os.replace(tmp, self.state_file)

    def violation(self, conn, what, frame=None):
        rec = {"time": round(now() - self.start, 3), "what": what,
               "role": conn.role if conn else None,
               "conn": conn.num if conn else None}
        if frame is not None:
            rec["frame"] = frame if len(frame) <= 2000 else \
                frame[:2000] + "...(%d chars)" % len(frame)
        self.violations.append(rec)
        print("VIOLATION: %s (%s connection %s)" % (
            what, rec["role"], rec["conn"]), file=sys.stderr, flush=True)
        return rec

    def current(self, role="client", num=None):
        """The connection a control command addresses: the given number,
        else the newest open connection of that role."""
        for c in reversed(self.conns):
            if c.closing:
                continue
            if num is not None:
                if c.num == num:
                    return c
            elif c.role == role:
                return c
        return None

    def joined_conns(self, role):
        return [c for c in self.conns if c.role == role and c.joined
                and not c.closing]

    # -- renderings --------------------------------------------------------

    def client_entry(self, conn):
        # Per-device entry by external_id, else the scenario's one client.
        return self.sc["clients"].get(conn.external_id) or self.sc["client"]

    def client_id(self, conn):
        cid = self.client_entry(conn).get("id")
        if cid:
            return cid
        # 1.2: same external_id -> same device row -> same id.
        return str(uuid.uuid5(STUB_NS, "client:" + (conn.external_id or "")))

    def client_addresses(self, conn):
        e = self.client_entry(conn)
        return (e.get("ipv4", self.sc["interface"].get("ipv4")),
                e.get("ipv6", self.sc["interface"].get("ipv6")))

    def client_psk_base(self, conn):
        b = self.client_entry(conn).get("psk_base")
        if b:
            return base64.b64decode(b)
        return stable_psk_base(self.client_id(conn))

    def gateway_psk_base(self, g):
        if g.get("psk_base"):
            return base64.b64decode(g["psk_base"])
        return stable_psk_base(g["id"])

    def uses_sites(self, conn):
        comp, ver = conn.ua_version or (None, None)
        return ver is not None and ver >= SITES_MIN.get(comp, (0, 0, 0))

    def render_interface(self, conn):
        iface = copy.deepcopy(self.sc["interface"])
        iface["ipv4"], iface["ipv6"] = self.client_addresses(conn)
        iface.setdefault("search_domain", None)
        iface.setdefault("upstream_do53", [])
        iface.setdefault("upstream_doh", [])
        if "upstream_dns" not in iface:
            # 2.2: the legacy list mirrors Do53, IPv6 bracketed.
            iface["upstream_dns"] = [
                {"protocol": "ip_port",
                 "address": ("[%s]:53" if ":" in u["ip"] else "%s:53")
                 % u["ip"]} for u in iface["upstream_do53"]]
        return iface

    def render_resource(self, res, conn):
        """Client view of a scenario resource (given with `sites`), or None
        when the portal would not send it to this client version."""
        r = copy.deepcopy(res)
        comp, ver = conn.ua_version or (None, (0, 0, 0))
        t = r.get("type")
        if t == "internet" and ver < INTERNET_MIN:
            return None
        if t in ("static_device_pool", "dynamic_device_pool") and \
                ver < DEVICE_POOL_MIN.get(comp, (99, 0, 0)):
            return None
        if "sites" in r and not self.uses_sites(conn):
            r["gateway_groups"] = r.pop("sites")
        return r

    def render_resources(self, conn):
        out = []
        for res in self.sc["resources"]:
            r = self.render_resource(res, conn)
            if r is not None:
                out.append(r)
        return out

    def render_relays(self, relays, conn):
        expires = GATEWAY_RELAY_EXPIRES_AT if conn.role == "gateway" \
            else int(self.sc["token_expires_at"])
        out = []
        for r in relays:
            for addr in r.get("addrs", []):
                if r.get("type", "turn") == "stun":
                    out.append({"id": r["id"], "type": "stun", "addr": addr})
                    continue
                user, pw = turn_credentials(conn.public_key or "", expires,
                                            r.get("stamp_secret", ""),
                                            r.get("password_form",
                                                  "firezone"))
                out.append({"id": r["id"], "type": "turn", "addr": addr,
                            "username": user, "password": pw,
                            "expires_at": expires})
        return out

    def client_init(self, conn):
        return {"interface": self.render_interface(conn),
                "resources": self.render_resources(conn),
                "relays": self.render_relays(self.sc["relays"], conn),
                "authorizations": copy.deepcopy(self.sc["authorizations"]),
                "flow_logs": copy.deepcopy(self.sc["flow_logs"])}

    def gateway_init(self, conn):
        g = conn.gateway or {}
        return {"interface": {"ipv4": g.get("ipv4", "100.64.0.100"),
                              "ipv6": g.get("ipv6", "fd00:2021:1111::100")},
                "config": {"ipv4_masquerade_enabled": True,
                           "ipv6_masquerade_enabled": True},
                "relays": self.render_relays(self.sc["relays"], conn),
                "account_slug": self.sc["account_slug"],
                "authorizations": [
                    {"client_id": cid, "resource_id": rid,
                     "expires_at": int(self.sc["token_expires_at"])}
                    for (cid, rid), gid in sorted(self.grants.items())
                    if gid == g.get("id")],
                "flow_logs": copy.deepcopy(self.sc["flow_logs"])}

    # -- sending -----------------------------------------------------------

    async def send_obj(self, conn, event, payload, ref=None, topic=None):
        # Compact and raw UTF-8, as Phoenix's Jason encoder writes it.
        frame = json.dumps({"topic": topic or conn.topic, "event": event,
                            "payload": payload, "ref": ref},
                           separators=(",", ":"), ensure_ascii=False)
        await self.send_raw(conn, frame)

    async def send_raw(self, conn, data, opcode="text"):
        if isinstance(data, str) and opcode == "text":
            await conn.ws.send(data)
        else:
            op = websockets.frames.Opcode.BINARY if opcode == "binary" \
                else websockets.frames.Opcode.TEXT
            if isinstance(data, str):
                data = data.encode()
            # Lets tests send text frames with invalid UTF-8.
            await conn.ws.write_frame(True, op, data)

    async def reply(self, conn, ref, topic, status="ok", response=None):
        await self.send_obj(conn, "phx_reply",
                            {"status": status, "response": response or {}},
                            ref=ref, topic=topic)

    async def broadcast(self, role, event, payload_for):
        n = 0
        for c in self.joined_conns(role):
            try:
                await self.send_obj(c, event, payload_for(c))
                n += 1
            except websockets.exceptions.ConnectionClosed:
                pass
        return n


# ---------------------------------------------------------------------------
# Connect-time checks (PROTOCOL 1.1 - 1.4)

def check_connect(portal, conn, path, headers):
    """Fills conn from the upgrade request and returns the violations (a
    list of strings).  Also returns whether the WebSocket handshake itself
    is broken (then no upgrade is possible, the answer is HTTP 400)."""
    sc = portal.sc
    bad = []
    broken = False

    # 1.1 / 1.2: path.
    target, sep, query = path.partition("?")
    prefix = sc["path_prefix"].rstrip("/")
    paths = {prefix + "/client/v2/websocket": ("client", False),
             prefix + "/gateway/v2/websocket": ("gateway", False)}
    if sc["allow_v1"]:
        paths[prefix + "/client/websocket"] = ("client", True)
    if target in paths:
        conn.role, conn.v1 = paths[target]
    else:
        bad.append("path %r is not one of %s" % (target, sorted(paths)))
        conn.role = "gateway" if "/gateway" in target else "client"
    conn.topic = conn.role

    # 1.2: query, order and encoding.
    order = CLIENT_QUERY_ORDER if conn.role == "client" \
        else GATEWAY_QUERY_ORDER
    names = []
    if not sep or query == "":
        bad.append("no query string")
    else:
        for pair in query.split("&"):
            name, eq, raw = pair.partition("=")
            if not eq:
                bad.append("query pair %r has no '='" % pair)
                continue
            try:
                value = form_decode(raw)
            except ValueError as e:
                bad.append("query %s: undecodable value %r (%s)" %
                           (name, raw, e))
                continue
            if form_encode(value) != raw:
                bad.append("query %s: %r is not form-urlencoded as connlib "
                           "does (expected %r)" %
                           (name, raw, form_encode(value)))
            if name in conn.query:
                bad.append("query parameter %s repeated" % name)
            elif name not in order:
                bad.append("unknown query parameter %r" % name)
            else:
                names.append(name)
                conn.query[name] = value
        if names != sorted(names, key=order.index):
            bad.append("query parameters out of order: %s (order of 1.2: %s)"
                       % (",".join(names), ",".join(order)))
        if names and names[-1] != "public_key":
            bad.append("public_key is not the last query parameter")
    for name in ("external_id", "public_key"):
        if name not in conn.query:
            bad.append("required query parameter %s missing" % name)
    for name in MOBILE_ONLY_PARAMS & set(conn.query):
        bad.append("query parameter %s is for mobile clients only" % name)
    for name, value in conn.query.items():
        if name != "public_key" and not 1 <= len(value) <= 255:
            bad.append("query %s: length %d not in 1..255" %
                       (name, len(value)))
    ext = conn.query.get("external_id")
    if ext is not None:
        conn.external_id = ext
        if valid_uuid(ext):
            bad.append("external_id is a bare UUID; 1.2 sends its SHA-256")
        elif sc["external_id_form"] == "sha256" and not HEX64_RE.match(ext):
            bad.append("external_id %r is not 64 lower-case hex chars" % ext)
    pk = conn.query.get("public_key")
    if pk is not None:
        if valid_pubkey(pk):
            conn.public_key = pk
        else:
            bad.append("public_key %r is not 44-char padded base64 of 32 "
                       "bytes" % pk)

    # 1.3: headers, each exactly once, and nothing else.
    allowed = set(EXPECTED_HEADERS) | {h.lower() for h in sc["allow_headers"]}
    counts = {}
    for name, _ in headers.raw_items():
        counts[name.lower()] = counts.get(name.lower(), 0) + 1
    for name, n in counts.items():
        if name not in allowed:
            bad.append("unexpected header %s" % name)
        elif n > 1:
            bad.append("header %s sent %d times" % (name, n))
    for name in EXPECTED_HEADERS:
        if name not in counts:
            bad.append("header %s missing" % name)
            if name not in ("user-agent", "x-authorization", "host"):
                broken = True

    def one(name):
        v = headers.get_all(name)
        return v[0] if v else None

    host = one("host")
    if host is not None:
        if host.startswith("["):
            has_port = not host.endswith("]")
        else:
            has_port = ":" in host
        if has_port:
            bad.append("Host %r carries a port (1.3: no port)" % host)
        if sc["expect_host"] is not None and host != sc["expect_host"]:
            bad.append("Host %r, expected %r" % (host, sc["expect_host"]))
    if one("connection") is not None and one("connection") != "Upgrade":
        bad.append("Connection %r, expected 'Upgrade'" % one("connection"))
        if "upgrade" not in one("connection").lower():
            broken = True
    if one("upgrade") is not None and one("upgrade") != "websocket":
        bad.append("Upgrade %r, expected 'websocket'" % one("upgrade"))
        if one("upgrade").lower() != "websocket":
            broken = True
    if one("sec-websocket-version") not in (None, "13"):
        bad.append("Sec-WebSocket-Version %r" % one("sec-websocket-version"))
        broken = True
    key = one("sec-websocket-key")
    if key is not None:
        try:
            ok = len(base64.b64decode(key, validate=True)) == 16
        except (binascii.Error, ValueError):
            ok = False
        if not ok:
            bad.append("Sec-WebSocket-Key %r is not base64 of 16 bytes" % key)
            broken = True

    # 1.4: User-Agent.
    ua = one("user-agent")
    conn.ua = ua
    if ua is not None:
        if not all(32 <= ord(ch) < 127 for ch in ua):
            bad.append("User-Agent has non-printable or non-ASCII chars")
        m = UA_RE.match(ua)
        want = sc["client_ua_component"] if conn.role == "client" \
            else sc["gateway_ua_component"]
        if not m:
            bad.append("User-Agent %r is not '<OS>/<OS version> <component>/"
                       "<X.Y.Z> (<arch>; <kernel>)'" % ua)
        else:
            comp, ver = m.group("comp"), parse_version(m.group("ver"))
            conn.ua_version = (comp, ver)
            if comp != want:
                bad.append("User-Agent component %r, expected %r" %
                           (comp, want))
            if conn.role == "client":
                lo = parse_version(sc["client_ua_min"])
                hi = parse_version(sc["client_ua_max"])
                if (lo and ver < lo) or (hi and ver >= hi):
                    bad.append("User-Agent version %s outside [%s, %s)" % (
                        m.group("ver"), sc["client_ua_min"],
                        sc["client_ua_max"]))
        if conn.ua_version is None:
            # Still pick the portal's view of the version (first token
            # naming a known component) so renderings stay sensible.
            for tok in ua.split(" "):
                comp, _, v = tok.partition("/")
                if comp in UA_COMPONENTS and parse_version(v):
                    conn.ua_version = (comp, parse_version(v))
                    break

    # 1.3: token.
    auth = one("x-authorization")
    conn.token = None
    if auth is not None:
        if not auth.startswith("Bearer "):
            bad.append("X-Authorization does not start with 'Bearer '")
        else:
            tok = auth[len("Bearer "):]
            if tok == "" or re.search(r"\s", tok):
                bad.append("token empty or containing whitespace")
            conn.token = tok
    return bad, broken


PROBLEMS = {
    400: ("Bad Request", "invalid_connect_params", "invalid connect params"),
    401: ("Unauthorized", "invalid_token", "Invalid token"),
    402: ("Payment Required", "limits_exceeded", "Limits exceeded"),
    403: ("Forbidden", "unauthenticated", "Forbidden"),
    409: ("Conflict", "device_identity_conflict", "Conflict"),
    429: ("Too Many Requests", "rate_limit", "Rate limited"),
    500: ("Internal Server Error", "unhandled_connect_error", "Error"),
    503: ("Service Unavailable", "rate_limit", "Rate limited"),
}


def http_answer(spec):
    """(status, headers, body) for an HTTP error answer; spec has status and
    optionally retry_after, code, detail, body (object or string),
    content_type.  The default body is 1.6's problem+json."""
    status = int(spec["status"])
    title, code, detail = PROBLEMS.get(status, ("Error", "error", "error"))
    headers = []
    if spec.get("retry_after") is not None:
        headers.append(("Retry-After", str(spec["retry_after"])))
    body = spec.get("body")
    if body is None:
        body = {"type": "about:blank", "title": title, "status": status,
                "detail": spec.get("detail", detail),
                "code": spec.get("code", code)}
    if isinstance(body, str):
        ctype = spec.get("content_type", "text/html")
        data = body.encode()
    else:
        ctype = spec.get("content_type", "application/problem+json")
        data = json.dumps(body).encode()
    headers.append(("Content-Type", ctype))
    return http.HTTPStatus(status), headers, data


class StubProtocol(websockets.legacy.server.WebSocketServerProtocol):
    """Runs the connect checks before the upgrade, where the raw request
    line and headers are still at hand."""

    portal = None
    accepted_at = None

    def connection_made(self, transport):
        # Heartbeat spacing counts from the TCP accept, the earliest moment
        # a client could start its 10 s timer.
        self.accepted_at = time.monotonic()
        super().connection_made(transport)

    async def process_request(self, path, headers):
        p = self.portal
        conn = Conn(p.next_conn, "client", self)
        p.next_conn += 1
        conn.opened = self.accepted_at or conn.opened
        self.conn = conn
        bad, broken = check_connect(p, conn, path, headers)
        st = p.stats[conn.role]
        st["connection_attempts"] += 1
        st["last_path"] = path.partition("?")[0]
        st["last_query"] = path.partition("?")[2]
        st["last_user_agent"] = conn.ua
        # The token never goes into the recorded headers.
        st["last_headers"] = [[k, "Bearer <redacted>" if
                               k.lower() == "x-authorization" else v]
                              for k, v in headers.raw_items()]
        log("connection %d (%s): GET %s" % (conn.num, conn.role, path))
        for what in bad:
            conn.connect_violations.append(p.violation(conn, what))

        def answer(spec):
            st["http_answers"].append({"conn": conn.num,
                                       "status": int(spec["status"])})
            log("connection %d: answering HTTP %s" % (conn.num,
                                                       spec["status"]))
            return http_answer(spec)

        # Scripted HTTP answers win: the test is about the client's
        # reaction to them, and the violations are recorded anyway.
        for spec in p.http_queue:
            # An entry may be limited to one role ("role": "gateway").
            if spec.get("role", conn.role) != conn.role:
                continue
            spec["count"] = spec.get("count", 1) - 1
            if spec["count"] <= 0:
                p.http_queue.remove(spec)
            return answer(spec)
        if broken:
            return answer({"status": 400, "code": "invalid_connect_params",
                           "detail": "VIOLATION: " + "; ".join(bad)})
        if bad and p.sc["close_on_violation"]:
            return None     # upgrade, then close with 1008 in the handler
        if p.tokens and conn.token not in p.tokens:
            return answer({"status": 401})
        if conn.role == "gateway" and any(
                c.role == "gateway" and not c.closing and
                c.external_id == conn.external_id for c in p.conns):
            # Section 3: one connection per gateway at a time.
            return answer({"status": 409,
                           "code": "gateway_already_connected"})
        return None


# ---------------------------------------------------------------------------
# Frames (PROTOCOL 1.7) and channel messages (2.3, 3)

class FrameError(Exception):
    pass


def strict_json(text):
    def pairs(items):
        d = {}
        for k, v in items:
            if k in d:
                raise FrameError("duplicate key %r" % k)
            d[k] = v
        return d

    def constant(name):
        raise FrameError("non-JSON constant %s" % name)

    try:
        return json.loads(text, object_pairs_hook=pairs,
                          parse_constant=constant)
    except (ValueError, RecursionError) as e:
        raise FrameError("not JSON: %s" % e)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check_uuid_field(payload, key, bad):
    if not valid_uuid(payload.get(key)):
        bad.append("%s %r is not a UUID" % (key, payload.get(key)))


def check_candidates(payload, bad):
    cands = payload.get("candidates")
    if not isinstance(cands, list):
        bad.append("candidates is not a list")
        return
    for c in cands:
        if not isinstance(c, str) or not CANDIDATE_RE.match(c):
            bad.append("candidate %r is not an SDP candidate value" % (c,))


def check_keys(payload, required, optional, bad):
    if not isinstance(payload, dict):
        bad.append("payload is not an object")
        return False
    for k in required:
        if k not in payload:
            bad.append("payload misses %s" % k)
    for k in payload:
        if k not in required and k not in optional:
            bad.append("payload has unexpected key %s" % k)
    return True


class Session:
    """Drives one connection after the upgrade."""

    def __init__(self, portal, conn):
        self.p = portal
        self.c = conn

    async def violate(self, what, frame=None):
        self.p.violation(self.c, what, frame)
        if self.p.sc["close_on_violation"] and not self.c.closing:
            self.c.closing = True
            reason = ("violation: " + what).encode()[:120].decode(
                "utf-8", "ignore")
            # Awaited: returning from the handler first would make
            # websockets close with 1000 instead.
            await self.c.ws.close(1008, reason)

    async def run(self):
        c, p = self.c, self.p
        st = p.stats[c.role]
        st["connections"] += 1
        if c.connect_violations and p.sc["close_on_violation"]:
            c.closing = True
            await c.ws.close(1008, "violation: " + c.connect_violations[0][
                "what"].encode()[:100].decode("utf-8", "ignore"))
            return
        idle = p.sc["idle_timeout"]
        while not c.closing:
            try:
                if idle:
                    data = await asyncio.wait_for(c.ws.recv(), idle)
                else:
                    data = await c.ws.recv()
            except asyncio.TimeoutError:
                # 1.1: the portal drops a connection that stays silent.
                st["idle_timeouts"] += 1
                log("connection %d: idle for %ss, closing" % (c.num, idle))
                c.closing = True
                await c.ws.close(1000, "idle timeout")
                return
            except (websockets.exceptions.ConnectionClosed,
                    asyncio.CancelledError) as e:
                # websockets itself fails the connection on a broken frame
                # (unmasked, invalid UTF-8 in a text frame, too big, bad
                # opcode) with 1002/1007/1009, codes this stub never uses:
                # the client's fault, hence a violation.  (recv() then
                # raises CancelledError rather than ConnectionClosed.)
                sent = c.ws.close_sent
                # Echoing the client's own close is not refusing a frame.
                if sent is not None and sent.code in (1002, 1007, 1009) \
                        and not c.closing \
                        and not c.ws.close_rcvd_then_sent:
                    p.violation(c, "WebSocket frame refused by the server: "
                                "%d %s" % (sent.code, sent.reason))
                elif isinstance(e, asyncio.CancelledError) and sent is None:
                    raise
                return
            await self.frame(data)

    async def frame(self, data):
        c, p = self.c, self.p
        c.frames += 1
        if isinstance(data, bytes):
            return await self.violate("binary frame (1.7: text frames only)",
                                      repr(data[:200]))
        try:
            msg = strict_json(data)
        except FrameError as e:
            return await self.violate(str(e), data)
        if not isinstance(msg, dict):
            return await self.violate("frame is not a JSON object", data)
        keys = set(msg)
        want = {"topic", "event", "payload", "ref"}
        if keys != want:
            return await self.violate(
                "frame keys %s, expected exactly topic,event,payload,ref" %
                ",".join(sorted(keys)), data)
        topic, event, payload, ref = (msg["topic"], msg["event"],
                                      msg["payload"], msg["ref"])
        if not isinstance(topic, str) or not isinstance(event, str):
            return await self.violate("topic or event is not a string", data)
        if not is_int(ref):
            return await self.violate("ref %r is not a JSON integer" %
                                      (ref,), data)
        if payload is not None and not isinstance(payload, dict):
            return await self.violate("payload is neither an object nor "
                                      "null", data)
        # 1.7: refs count from 0 (the join) and go up by one per message.
        if c.last_ref is None:
            if ref != 0:
                return await self.violate("first ref is %d, not 0" % ref,
                                          data)
        elif p.sc["ref_rule"] == "increasing":
            if ref <= c.last_ref:
                return await self.violate("ref %d after %d" %
                                          (ref, c.last_ref), data)
        elif ref != c.last_ref + 1:
            return await self.violate("ref %d after %d (expected %d)" % (
                ref, c.last_ref, c.last_ref + 1), data)
        c.last_ref = ref
        if c.frames == 1 and not (event == "phx_join" and topic == c.topic):
            return await self.violate("first frame is not phx_join on %r" %
                                      c.topic, data)
        st = p.stats[c.role]
        st["messages"].append({"time": round(now() - p.start, 3),
                               "conn": c.num, "topic": topic,
                               "event": event, "payload": payload,
                               "ref": ref})
        del st["messages"][:-10000]
        if topic == "phoenix":
            if event != "heartbeat":
                return await self.violate("event %r on topic phoenix" %
                                          event, data)
            if payload != {}:
                return await self.violate("heartbeat payload is not {}",
                                          data)
            st["heartbeats"] += 1
            # 1.7: one every 10 s, the first 10 s after the socket opened.
            t = time.monotonic()
            gap = t - (c.last_heartbeat or c.opened)
            c.last_heartbeat = t
            if p.sc["heartbeat_min_interval"] and \
                    gap < p.sc["heartbeat_min_interval"]:
                return await self.violate(
                    "heartbeat %.2f s after the %s (1.7: every 10 s)" % (
                        gap, "previous one" if c.heartbeats_here > 0
                        else "socket opened"), data)
            c.heartbeats_here += 1
            st["heartbeat_times"].append(round(now() - p.start, 3))
            del st["heartbeat_times"][:-1000]
            if not p.sc["ignore_heartbeats"]:
                await p.reply(c, ref, "phoenix")
            return
        if topic != c.topic:
            # Phoenix itself would answer "unmatched topic".
            await p.reply(c, ref, topic, "error",
                          {"reason": "unmatched topic"})
            return await self.violate("message on topic %r, not %r" %
                                      (topic, c.topic), data)
        if event == "phx_join":
            if payload not in (None, {}):
                return await self.violate("join payload is neither null nor "
                                          "{}", data)
            return await self.join(ref)
        if event == "phx_leave":
            c.joined = False
            await p.reply(c, ref, topic)
            return
        if not c.joined:
            return await self.violate("%s sent before the join reply" %
                                      event, data)
        if c.role == "client":
            await self.client_message(event, payload, ref, data)
        else:
            await self.gateway_message(event, payload, ref, data)

    async def join(self, ref):
        c, p = self.c, self.p
        c.join_seen = True
        p.stats[c.role]["joins"] += 1
        if c.role == "gateway":
            bind_gateway(p, c)
        if p.sc["no_join_reply"]:
            log("connection %d: join not answered (scenario)" % c.num)
            return
        if p.sc["join_reply_delay"]:
            await asyncio.sleep(p.sc["join_reply_delay"])
        if p.sc["join_error"]:
            await p.reply(c, ref, c.topic, "error",
                          {"reason": p.sc["join_error"]})
            return
        await p.reply(c, ref, c.topic)
        c.joined = True
        if not p.sc["no_init"]:
            init = p.client_init(c) if c.role == "client" \
                else p.gateway_init(c)
            await p.send_obj(c, "init", init)
        if p.sc["disconnect_reason"]:
            asyncio.ensure_future(self.scheduled_disconnect())

    async def scheduled_disconnect(self):
        await asyncio.sleep(self.p.sc["disconnect_after"])
        if not self.c.closing:
            await do_disconnect(self.p, self.c, self.p.sc["disconnect_reason"])

    # -- client -> portal (2.3) ---------------------------------------------

    async def client_message(self, event, payload, ref, data):
        c, p = self.c, self.p
        bad = []
        request_name = "create_flow" if c.v1 else "request_authorization"
        if event == request_name:
            if check_keys(payload, ["resource_id", "connected_gateway_ids"],
                          [], bad):
                check_uuid_field(payload, "resource_id", bad)
                ids = payload.get("connected_gateway_ids")
                if not isinstance(ids, list) or not all(
                        valid_uuid(i) for i in ids):
                    bad.append("connected_gateway_ids is not a list of "
                               "UUIDs")
            if not bad:
                rid = payload["resource_id"]
                t = time.monotonic()
                last = c.last_auth_request.get(rid)
                c.last_auth_request[rid] = t
                if last is not None and \
                        t - last < p.sc["authorization_min_interval"]:
                    bad.append("request_authorization for %s %.2f s after "
                               "the previous one (2.3: at most one per 2 s)"
                               % (rid, t - last))
            if bad:
                return await self.violate("; ".join(bad), data)
            asyncio.ensure_future(authorize(p, c, payload))
        elif event in ("new_gateway_ice_candidates",
                       "invalidate_gateway_ice_candidates"):
            if check_keys(payload, ["gateway_id", "candidates"], [], bad):
                check_uuid_field(payload, "gateway_id", bad)
                check_candidates(payload, bad)
            if bad:
                return await self.violate("; ".join(bad), data)
            # 2.3: forwarded to that gateway as ice_candidates.
            gc = gateway_conn(p, payload["gateway_id"])
            if gc is not None:
                out = "ice_candidates" if event.startswith("new") \
                    else "invalidate_ice_candidates"
                await p.send_obj(gc, out, {"client_id": p.client_id(c),
                                           "candidates":
                                           payload["candidates"]})
        elif event == "no_relays":
            if payload != {}:
                return await self.violate("no_relays payload is not {}", data)
            # 2.3: answered with a fresh relays_presence.
            await p.send_obj(c, "relays_presence", {
                "disconnected_ids": [],
                "connected": p.render_relays(p.sc["relays"], c)})
        elif event == "set_snownet_capabilities":
            if check_keys(payload, ["iceless"], [], bad):
                if payload.get("iceless") is not False:
                    bad.append("iceless must be false (2.3)")
            if bad:
                return await self.violate("; ".join(bad), data)
        else:
            # 2.4: unknown (or wrong-version) event -> error reply.  For
            # fzc, sending one is a bug, hence also a violation.
            await p.reply(c, ref, c.topic, "error",
                          {"reason": "unknown_message"})
            await self.violate("unknown client event %r" % event, data)

    # -- gateway -> portal (3) ---------------------------------------------

    async def gateway_message(self, event, payload, ref, data):
        c, p = self.c, self.p
        bad = []
        if event == "authorization_created":
            if check_keys(payload, ["ref"], [], bad) and \
                    not isinstance(payload.get("ref"), str):
                bad.append("ref is not a string")
            if bad:
                return await self.violate("; ".join(bad), data)
            rec = p.pending.pop(payload["ref"], None)
            if rec is None or rec["gateway_conn"] is not c:
                await p.reply(c, ref, c.topic, "error",
                              {"reason": "invalid_ref"})
                return
            await p.reply(c, ref, c.topic)
            # The client's half goes out before the next gateway frame is
            # read, so that candidates the gateway sends after its ack
            # reach the client after authorization_created.
            if not rec["future"].done():
                await rec["deliver"]()
                rec["future"].set_result(True)
        elif event in ("broadcast_ice_candidates",
                       "broadcast_invalidated_ice_candidates"):
            if check_keys(payload, ["client_ids", "candidates"], [], bad):
                ids = payload.get("client_ids")
                if not isinstance(ids, list) or not all(
                        valid_uuid(i) for i in ids):
                    bad.append("client_ids is not a list of UUIDs")
                check_candidates(payload, bad)
            if bad:
                return await self.violate("; ".join(bad), data)
            out = "ice_candidates" if event == "broadcast_ice_candidates" \
                else "invalidate_ice_candidates"
            gid = c.gateway["id"]
            for cc in p.joined_conns("client"):
                if p.client_id(cc) not in payload["client_ids"]:
                    continue
                if gid not in cc.gateways_told and any(
                        r["client_conn"] is cc and r["gateway_id"] == gid
                        for r in p.pending.values()):
                    # Sent before the ack: the client would not know
                    # the gateway yet.
                    p.held.setdefault((cc.num, gid), []).append(
                        (out, payload["candidates"]))
                    continue
                await p.send_obj(cc, out, {"gateway_id": gid,
                                           "candidates":
                                           payload["candidates"]})
        elif event == "set_snownet_capabilities":
            if check_keys(payload, ["iceless"], [], bad) and \
                    payload.get("iceless") is not False:
                bad.append("iceless must be false")
            if bad:
                return await self.violate("; ".join(bad), data)
        elif event == "no_relays":
            if payload != {}:
                return await self.violate("no_relays payload is not {}", data)
            await p.send_obj(c, "relays_presence", {
                "disconnected_ids": [],
                "connected": p.render_relays(p.sc["relays"], c)})
        else:
            await p.reply(c, ref, c.topic, "error",
                          {"reason": "unknown_message"})
            await self.violate("unknown gateway event %r" % event, data)


# ---------------------------------------------------------------------------
# Gateways and authorizations

def bind_gateway(p, conn):
    """Matches a connecting gateway with its scenario entry (by external_id,
    then public key), or adds one, and marks it live."""
    def live(g):
        return gateway_conn(p, g["id"]) is not None

    for g in p.sc["gateways"]:
        if (g.get("external_id") and g["external_id"] == conn.external_id) \
                or g.get("public_key") == conn.public_key:
            break
    else:
        # A gateway token names its site (and here its scenario entry), as
        # a real portal's gateway token names the site: the first entry
        # with that token that no connected gateway holds.
        for g in p.sc["gateways"]:
            if g.get("token") and g["token"] == conn.token and not live(g):
                g["external_id"] = conn.external_id
                break
        else:
            g = None
    if g is None:
        sites = p.sc["sites"]
        g = {"id": str(uuid.uuid5(STUB_NS, "gateway:" +
                                  (conn.external_id or ""))),
             "external_id": conn.external_id,
             "site_id": sites[0]["id"] if sites else None,
             "ipv4": "100.64.0.%d" % (100 + len(p.sc["gateways"])),
             "ipv6": "fd00:2021:1111::%x" % (0x100 + len(p.sc["gateways"])),
             "online": True, "simulated": False}
        p.sc["gateways"].append(g)
    g["public_key"] = conn.public_key
    g["simulated"] = False
    if conn.ua_version:
        g["version"] = "%d.%d.%d" % conn.ua_version[1]
    conn.gateway = g


def gateway_conn(p, gid):
    for c in reversed(p.conns):
        if c.role == "gateway" and c.joined and not c.closing and \
                c.gateway and c.gateway["id"] == gid:
            return c
    return None


def choose_gateway(p, conn, res, connected_ids):
    """2.3: prefer an eligible gateway we already have a tunnel to, else
    the highest version among the site's eligible ones (first on ties, so
    tests are deterministic).  Returns (gateway, failure reason)."""
    sites = res.get("sites") or res.get("gateway_groups") or []
    site_ids = {s.get("id") for s in sites}
    online = []
    for g in p.sc["gateways"]:
        if g.get("site_id") not in site_ids:
            continue
        live = gateway_conn(p, g["id"]) is not None
        if live or (g.get("simulated", True) and g.get("online", True)):
            online.append(g)
    if not online:
        return None, "offline"
    cver = (conn.ua_version or (None, (1, 5, 6)))[1]
    eligible = [g for g in online if parse_version(g.get("version")) and
                gateway_compatible(cver, parse_version(g["version"]))]
    if not eligible:
        return None, "version_mismatch"
    for g in eligible:
        if g["id"] in connected_ids:
            return g, None
    best = max(parse_version(g["version"]) for g in eligible)
    return [g for g in eligible if parse_version(g["version"]) == best][0], \
        None


def authorization_parts(p, conn, g, res):
    """The values both halves of an authorization share (2.5)."""
    cid = p.client_id(conn)
    psk = derive_psk(cid, conn.public_key, p.client_psk_base(conn),
                     g["id"], g["public_key"], p.gateway_psk_base(g))
    cice, gice = derive_ice(cid, conn.public_key, g["id"], g["public_key"])
    t = int(now())
    token = mint_jwt({
        "account_id": str(uuid.uuid5(STUB_NS, "account")), "iat": t,
        "exp": t + 3600, "uploads_enabled": False, "role": "initiator",
        "initiator_device_id": cid, "responder_device_id": g["id"],
        "policy_authorization_id": str(uuid.uuid4()),
        "policy_id": str(uuid.uuid5(STUB_NS, "policy")),
        "resource_id": res["id"], "resource_name": res.get("name", ""),
        "initiator_actor_id": str(uuid.uuid5(STUB_NS, "actor")),
        "initiator_actor_name": "Test User", "authorized_at": t,
        "authorization_expires_at": int(p.sc["token_expires_at"])})
    return cid, psk, cice, gice, token


async def authorize(p, conn, req):
    """Answers one request_authorization (2.2, 2.4), through a live
    gateway's ack when the chosen gateway is connected."""
    try:
        await authorize_inner(p, conn, req)
    except websockets.exceptions.ConnectionClosed:
        # The client or the gateway went away meanwhile: nothing to answer.
        log("connection %d: authorization abandoned, connection closed" %
            conn.num)


async def authorize_inner(p, conn, req):
    v1 = conn.v1
    ok_event = "flow_created" if v1 else "authorization_created"
    fail_event = "flow_creation_failed" if v1 else \
        "authorization_creation_failed"
    rid = req["resource_id"]
    if p.sc["authorization_delay"]:
        await asyncio.sleep(p.sc["authorization_delay"])
    fails = p.sc["authorization_failures"]
    fail = fails.get(rid) or fails.get("*")
    res = None
    for r in p.sc["resources"]:
        if r.get("id") == rid and p.render_resource(r, conn) is not None:
            res = r
    if fail is None and (res is None or
                         (p.client_id(conn), rid) in p.revoked or
                         (None, rid) in p.revoked):
        fail = {"reason": "not_found"}
    g = None
    if fail is None:
        g, reason = choose_gateway(p, conn, res, req["connected_gateway_ids"])
        if g is None:
            fail = {"reason": reason}
    if fail is not None:
        payload = {"resource_id": rid}
        payload.update(fail)
        log("connection %d: %s %s: %s" % (conn.num, fail_event, rid,
                                          fail.get("reason")))
        await p.send_obj(conn, fail_event, payload)
        return
    cid, psk, cice, gice, token = authorization_parts(p, conn, g, res)
    payload = {"resource_id": rid, "gateway_id": g["id"],
               ("site_id" if p.uses_sites(conn) else "gateway_group_id"):
               g.get("site_id"),
               "gateway_public_key": g["public_key"],
               "gateway_ipv4": g.get("ipv4"), "gateway_ipv6": g.get("ipv6"),
               "preshared_key": psk,
               "client_ice_credentials": cice,
               "gateway_ice_credentials": gice,
               "use_iceless": False,
               "flow_logs_ingest_token": token}

    async def deliver():
        if conn.closing:
            return
        p.grants[(cid, rid)] = g["id"]
        p.save_state()
        await p.send_obj(conn, ok_event, payload)
        log("connection %d: %s %s via gateway %s" % (conn.num, ok_event,
                                                      rid, g["id"]))
        conn.gateways_told.add(g["id"])
        for event, cands in p.held.pop((conn.num, g["id"]), []):
            await p.send_obj(conn, event, {"gateway_id": g["id"],
                                           "candidates": cands})

    gc = gateway_conn(p, g["id"])
    if gc is not None:
        # Section 3: the gateway half first, the client only after the ack.
        for ref, rec in list(p.pending.items()):
            if rec["client_conn"] is conn and rec["resource_id"] == rid:
                # 2.4: a newer request supersedes the pending one.
                rec["future"].cancel()
                del p.pending[ref]
        ref = "SFMyNTY." + secrets.token_urlsafe(24)
        fut = asyncio.get_event_loop().create_future()
        p.pending[ref] = {"client_conn": conn, "gateway_conn": gc,
                          "gateway_id": g["id"], "resource_id": rid,
                          "future": fut, "deliver": deliver}
        comp, ver = conn.ua_version or ("headless-client", (1, 5, 6))
        m = UA_RE.match(conn.ua or "")
        log("connection %d: create_authorization %s to gateway %s "
            "(connection %d)" % (conn.num, rid, g["id"], gc.num))
        await p.send_obj(gc, "create_authorization", {
            "ref": ref,
            "resource": gateway_resource_view(res),
            "client": {"id": cid, "public_key": conn.public_key,
                       "preshared_key": psk,
                       "ipv4": p.client_addresses(conn)[0],
                       "ipv6": p.client_addresses(conn)[1],
                       "version": "%d.%d.%d" % ver,
                       "device_os_name": m.group("os") if m else None,
                       "device_os_version": m.group("osver") if m else None,
                       "device_serial": conn.query.get("device_serial"),
                       "device_uuid": conn.query.get("device_uuid"),
                       "firebase_installation_id": None,
                       "identifier_for_vendor": None},
            "client_ice_credentials": cice,
            "gateway_ice_credentials": gice,
            "expires_at": int(p.sc["token_expires_at"]),
            "subject": {"actor_id": str(uuid.uuid5(STUB_NS, "actor")),
                        "actor_name": "Test User",
                        "actor_email": "test@example.com",
                        "actor_type": "account_user",
                        "auth_provider_id": str(uuid.uuid5(STUB_NS, "idp")),
                        "ip": "127.0.0.1", "ip_region": None,
                        "ip_city": None, "ip_lat": None, "ip_lon": None,
                        "user_agent": conn.ua},
            "use_iceless": False,
            "flow_logs_ingest_token": token})
        try:
            # shield: the ack handler delivers, then resolves fut; a
            # timeout must not cancel it under the handler's feet.
            await asyncio.wait_for(asyncio.shield(fut),
                                   p.sc["gateway_ack_timeout"])
        except asyncio.CancelledError:
            return
        except asyncio.TimeoutError:
            if p.pending.pop(ref, None) is None:
                return      # acknowledged meanwhile, delivered there
            if not any(r["client_conn"] is conn and
                       r["gateway_id"] == g["id"]
                       for r in p.pending.values()):
                p.held.pop((conn.num, g["id"]), None)
            log("connection %d: gateway %s did not acknowledge %s in %ss: "
                "offline" % (conn.num, g["id"], rid,
                             p.sc["gateway_ack_timeout"]))
            await p.send_obj(conn, fail_event, {"resource_id": rid,
                                                "reason": "offline"})
            return
        return
    await deliver()


def gateway_resource_view(res):
    """Section 3: dns/cidr keep id,type,address,name,filters; internet is
    just id and type."""
    if res.get("type") == "internet":
        return {"id": res["id"], "type": "internet"}
    return {k: copy.deepcopy(res.get(k)) for k in
            ("id", "type", "address", "name", "filters")}


def grant_gateways(p, rid):
    """Live gateway connections holding an authorization for rid."""
    gids = {gid for (cid, r), gid in p.grants.items() if r == rid}
    return [gc for gc in (gateway_conn(p, gid) for gid in sorted(gids))
            if gc is not None]


async def reject_access(p, rid, client_id):
    n = 0
    for (cid, r), gid in list(p.grants.items()):
        if r != rid or (client_id is not None and cid != client_id):
            continue
        del p.grants[(cid, r)]
        p.save_state()
        gc = gateway_conn(p, gid)
        if gc is not None:
            await p.send_obj(gc, "reject_access",
                             {"client_id": cid, "resource_id": rid})
            n += 1
    return n


async def do_disconnect(p, conn, reason):
    # 1.7: disconnect {reason} just before the portal closes the channel.
    await p.send_obj(conn, "disconnect", {"reason": reason})
    conn.closing = True
    await asyncio.sleep(0.2)
    # Not awaited: close() waits for the peer's Close echo.
    asyncio.ensure_future(conn.ws.close(1000, "disconnect"))


# ---------------------------------------------------------------------------
# Control channel: one JSON object per line in, one JSON line out.

def upsert(lst, item):
    for i, old in enumerate(lst):
        if old.get("id") == item.get("id"):
            lst[i] = item
            return True
    lst.append(item)
    return False


async def control(p, cmd):
    c = cmd.get("cmd")
    role = cmd.get("role", "client")
    conn = p.current(role, cmd.get("conn"))

    def need_conn():
        if conn is None:
            raise KeyError("no open %s connection" % role)
        return conn

    if c == "state":
        st = p.stats[role]
        out = {"connected": conn is not None,
               "joined": bool(conn and conn.joined),
               "open_connections": [x.num for x in p.conns
                                    if x.role == role and not x.closing],
               "violations": p.violations,
               "port": p.port}
        out.update(copy.deepcopy(st))
        out["connection_count"] = st["connections"]
        out["heartbeats_seen"] = st["heartbeats"]
        if role == "gateway":
            out["gateways"] = p.sc["gateways"]
        return out
    if c == "push":
        conn = need_conn()
        if "raw" in cmd:
            await p.send_raw(conn, cmd["raw"], cmd.get("opcode", "text"))
        elif "raw_b64" in cmd:
            await p.send_raw(conn, base64.b64decode(cmd["raw_b64"]),
                             cmd.get("opcode", "text"))
        else:
            await p.send_obj(conn, cmd["event"], cmd.get("payload"),
                             cmd.get("ref"), cmd.get("topic"))
        return {}
    if c in ("create_resource", "update_resource"):
        res = cmd["resource"]
        existed = upsert(p.sc["resources"], res)
        if c == "update_resource" and not existed:
            raise KeyError("no resource %s" % res.get("id"))
        n = 0
        for cc in p.joined_conns("client"):
            r = p.render_resource(res, cc)
            if r is not None:
                await p.send_obj(cc, "resource_created_or_updated", r)
                n += 1
        # Section 3: gateways serving it hear about new filters.
        for gc in grant_gateways(p, res.get("id")):
            await p.send_obj(gc, "resource_updated",
                             gateway_resource_view(res))
        return {"sent": n}
    if c == "delete_resource":
        rid = cmd["id"]
        p.sc["resources"] = [r for r in p.sc["resources"]
                             if r.get("id") != rid]
        await reject_access(p, rid, None)
        # 2.2: the payload is the bare id string.
        return {"sent": await p.broadcast("client", "resource_deleted",
                                          lambda cc: rid)}
    if c == "relays_presence":
        gone = cmd.get("disconnected_ids", [])
        new = cmd.get("connected", [])
        for r in new:
            if "addrs" not in r and "addr" in r:
                r["addrs"] = [r["addr"]]
        p.sc["relays"] = [r for r in p.sc["relays"] if r["id"] not in gone]
        for r in new:
            upsert(p.sc["relays"], r)
        n = 0
        for r in ("client", "gateway"):
            n += await p.broadcast(r, "relays_presence", lambda cc: {
                "disconnected_ids": gone,
                "connected": p.render_relays(new, cc)})
        return {"sent": n}
    if c == "config_changed":
        p.sc["interface"].update(cmd["interface"])
        if "upstream_do53" in cmd["interface"] and \
                "upstream_dns" not in cmd["interface"]:
            p.sc["interface"].pop("upstream_dns", None)
        return {"sent": await p.broadcast("client", "config_changed",
                                          lambda cc: {"interface":
                                                      p.render_interface(cc)})}
    if c == "reject_access":
        # A revoked policy as a gateway sees it (the client is not told;
        # delete_resource does both).
        return {"sent": await reject_access(p, cmd["resource_id"],
                                            cmd.get("client_id"))}
    if c == "revoke_policy":
        # The policy granting resource_id (to client_id, else to everyone)
        # is gone: gateways holding the authorization get reject_access,
        # further requests are answered not_found, and the clients get
        # resource_deleted unless "keep_resource" (another policy still
        # shows them the resource, e.g. with conditions that now fail).
        rid, cid = cmd["resource_id"], cmd.get("client_id")
        p.revoked.add((cid, rid))
        p.save_state()
        n = await reject_access(p, rid, cid)
        sent = 0
        if not cmd.get("keep_resource"):
            for cc in p.joined_conns("client"):
                if cid is None or p.client_id(cc) == cid:
                    await p.send_obj(cc, "resource_deleted", rid)
                    sent += 1
        return {"rejected": n, "sent": sent}
    if c == "restore_policy":
        p.revoked.discard((cmd.get("client_id"), cmd["resource_id"]))
        p.save_state()
        return {}
    if c == "move":
        # The portal gives a device other tunnel addresses: a full init
        # follows (2.2 init: "re-sent if the device's tunnel IPs change";
        # 3: the same for a gateway).  Later authorizations carry them.
        conn = need_conn()
        if conn.role == "client":
            e = p.client_entry(conn)
            where = e if "ipv4" in e else p.sc["interface"]
        else:
            where = conn.gateway
        where["ipv4"], where["ipv6"] = cmd["ipv4"], cmd["ipv6"]
        await p.send_obj(conn, "init", p.client_init(conn) if
                         conn.role == "client" else p.gateway_init(conn))
        return {}
    if c == "send_init":
        conn = need_conn()
        await p.send_obj(conn, "init", p.client_init(conn) if
                         conn.role == "client" else p.gateway_init(conn))
        return {}
    if c == "disconnect":
        await do_disconnect(p, need_conn(), cmd.get("reason",
                                                     "token_expired"))
        return {}
    if c == "close":
        # Drops the TCP connection: no Close frame, no FIN handshake.
        conn = need_conn()
        conn.closing = True
        conn.ws.transport.abort()
        return {}
    if c == "close_ws":
        conn = need_conn()
        conn.closing = True
        asyncio.ensure_future(conn.ws.close(cmd.get("code", 1000),
                                            cmd.get("reason", "")))
        return {}
    if c == "set_http_status":
        spec = {k: cmd[k] for k in ("status", "retry_after", "body", "code",
                                    "detail", "content_type", "count",
                                    "role")
                if k in cmd}
        http.HTTPStatus(int(spec["status"]))    # ValueError if unknown
        if spec.get("count", 1) <= 0:
            p.http_queue = []
        else:
            p.http_queue.append(spec)
        return {"queued": len(p.http_queue)}
    if c == "ignore_heartbeats":
        p.sc["ignore_heartbeats"] = bool(cmd.get("on", True))
        return {}
    if c == "set":
        # Any scenario key, e.g. {"cmd":"set","key":"no_join_reply",
        # "value":true} or authorization_failures.
        if cmd["key"] not in p.sc:
            raise KeyError("unknown scenario key %r" % cmd["key"])
        p.sc[cmd["key"]] = cmd["value"]
        if cmd["key"] == "http_status":
            v = cmd["value"]
            p.http_queue = [dict(e) for e in
                            (v if isinstance(v, list) else [v])]
        return {}
    if c == "wait":
        return await wait_for_condition(p, cmd, role)
    if c == "clear":
        p.violations.clear()
        for st in p.stats.values():
            st["messages"].clear()
            st["http_answers"].clear()
        return {}
    raise KeyError("unknown command %r" % c)


async def wait_for_condition(p, cmd, role):
    """{"cmd":"wait","what":W,"value":V,"timeout":T}: returns once the
    condition holds, ok=false after T seconds (default 10).  W is one of
    joined, connected, disconnected (no value); connections, heartbeats,
    violations (value = at least that many in total); message (value = an
    event name, "count" = at least that many received); gateway /
    gateway_offline (value = a gateway id joined / not joined)."""
    what, value = cmd["what"], cmd.get("value")
    deadline = time.monotonic() + float(cmd.get("timeout", 10))
    st = p.stats[role]

    def holds():
        conn = p.current(role)
        if what == "joined":
            return conn is not None and conn.joined
        if what == "connected":
            return conn is not None
        if what == "disconnected":
            return conn is None
        if what == "connections":
            return st["connections"] >= int(value)
        if what == "heartbeats":
            return st["heartbeats"] >= int(value)
        if what == "violations":
            return len(p.violations) >= int(value)
        if what == "message":
            return sum(1 for m in st["messages"] if m["event"] == value) \
                >= int(cmd.get("count", 1))
        if what == "gateway":
            return gateway_conn(p, value) is not None
        if what == "gateway_offline":
            return gateway_conn(p, value) is None
        raise KeyError("unknown wait condition %r" % what)

    while not holds():
        if time.monotonic() > deadline:
            raise TimeoutError("timeout waiting for %s %s" % (what, value))
        await asyncio.sleep(0.05)
    return {}


async def control_client(p, reader, writer):
    while True:
        line = await reader.readline()
        if not line:
            break
        try:
            cmd = json.loads(line)
            if not isinstance(cmd, dict):
                raise ValueError("command is not a JSON object")
            out = {"ok": True}
            out.update(await control(p, cmd))
        except Exception as e:      # a bad command must not end the channel
            out = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        writer.write((json.dumps(out) + "\n").encode())
        await writer.drain()
    writer.close()


# ---------------------------------------------------------------------------
# Main

def parse_listen(s):
    host, _, port = s.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


async def main_async(args):
    tokens = list(args.token or [])
    if args.token_file:
        with open(args.token_file) as f:
            tokens += [t.strip() for t in f if t.strip()]
    portal = Portal(load_scenario(args.scenario), tokens, args.state_file)
    StubProtocol.portal = portal
    ctx = None
    if not args.plain:
        if not (args.cert and args.key):
            sys.exit("stub_portal: TLS needs --cert and --key (or --plain)")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(args.cert, args.key)

    async def handler(ws):
        conn = ws.conn
        conn.ws = ws
        portal.conns.append(conn)
        try:
            await Session(portal, conn).run()
        finally:
            conn.closing = True
            portal.conns.remove(conn)
            log("connection %d closed (code %s)" % (conn.num, ws.close_code))

    host, port = parse_listen(args.listen)
    server = await websockets.serve(
        handler, host, port, ssl=ctx, create_protocol=StubProtocol,
        compression=None,       # connlib negotiates no extension
        ping_interval=None,     # Phoenix relies on the client's heartbeats
        max_size=16 * 1024 * 1024, server_header=None)
    portal.port = server.sockets[0].getsockname()[1]
    if args.control:
        if os.path.exists(args.control):
            os.unlink(args.control)
        await asyncio.start_unix_server(
            lambda r, w: control_client(portal, r, w), path=args.control)
    # Printed last: once "PORT" is out, the portal and the control socket
    # both accept connections.
    print("PORT %d" % portal.port, flush=True)
    log("listening on %s:%d (%s)" % (host, portal.port,
                                     "ws" if args.plain else "wss"))
    stop = asyncio.get_event_loop().create_future()
    for sig in (2, 15):
        asyncio.get_event_loop().add_signal_handler(
            sig, lambda: stop.done() or stop.set_result(None))
    await stop
    server.close()
    if args.control and os.path.exists(args.control):
        os.unlink(args.control)


def ctl_main(argv):
    """stub_portal.py ctl SOCKET JSON...: sends each command, prints each
    answer; exit status 1 if any answer is not ok.  For shell tests."""
    import socket
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(argv[0])
    f = s.makefile("rwb")
    rc = 0
    for cmd in argv[1:]:
        f.write(cmd.encode() + b"\n")
        f.flush()
        line = f.readline().decode()
        sys.stdout.write(line)
        if not json.loads(line).get("ok"):
            rc = 1
    return rc


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "ctl":
        sys.exit(ctl_main(sys.argv[2:]))
    ap = argparse.ArgumentParser(description="Stub Firezone portal")
    ap.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT")
    ap.add_argument("--cert", help="PEM certificate chain (TLS)")
    ap.add_argument("--key", help="PEM private key (TLS)")
    ap.add_argument("--plain", action="store_true", help="ws:// without TLS")
    ap.add_argument("--token", action="append",
                    help="accepted bearer token (repeatable)")
    ap.add_argument("--token-file", help="file of accepted tokens, one a line")
    ap.add_argument("--scenario", help="scenario JSON file")
    ap.add_argument("--control", help="UNIX socket path for the control "
                    "channel")
    ap.add_argument("--state-file", help="keep authorizations and revoked "
                    "policies here across restarts")
    args = ap.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
