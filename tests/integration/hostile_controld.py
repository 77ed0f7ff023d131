#!/usr/bin/env python3
"""A stand-in for fzc-controld that asks fzc-tunneld for what it must
refuse (issue 16): fzc-tunneld execs it as it would fzc-controld
(--controld), with the IPC channel on fd 3.

FZC_HOSTILE_IPC_H names ipc/ipc.h (for the message numbers),
FZC_HOSTILE_LOG the file that gets one JSON line per answer, and
FZC_HOSTILE_GO a file whose appearance starts the second phase (requests
that are allowed, for the route sharing). The first phase runs at once.
"""
import json, os, re, signal, socket, struct, sys, time

T = {}
for m in re.finditer(r"^\s+(IPC_[A-Z0-9_]+) = (\d+),",
                     open(os.environ["FZC_HOSTILE_IPC_H"]).read(), re.M):
    T.setdefault(m.group(1), int(m.group(2)))
out = open(os.environ["FZC_HOSTILE_LOG"], "a", buffering=1)
go = os.environ["FZC_HOSTILE_GO"]
ch = socket.socket(fileno=3)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
next_id = 1


def prefix(addr):
    if ":" in addr:
        return struct.pack("=BBxx", socket.AF_INET6, 128) + \
            socket.inet_pton(socket.AF_INET6, addr)
    return struct.pack("=BBxx", socket.AF_INET, 32) + \
        socket.inet_pton(socket.AF_INET, addr) + bytes(12)


def net(cidr):
    a, n = cidr.split("/")
    fam = socket.AF_INET6 if ":" in a else socket.AF_INET
    b = socket.inet_pton(fam, a)
    return struct.pack("=BBxx", fam, int(n)) + b + bytes(16 - len(b))


def uuid(n):
    return ("%08x-0000-4000-8000-%012x" % (n, n)).encode().ljust(40, b"\0")


def send(t, payload, id_=0):
    ch.sendmsg([struct.pack("=HHIII", t, 1, len(payload), id_, 0) +
                payload])


def ask(name, t, payload, answer):
    """Send, wait for the answer of type ANSWER to this id, log it."""
    global next_id
    id_ = next_id
    next_id += 1
    send(T[t], payload, id_)
    end = time.monotonic() + 10
    while time.monotonic() < end:
        data = ch.recv(65536)
        if not data:
            sys.exit(0)
        typ, _, n, rid, _ = struct.unpack_from("=HHIII", data)
        if typ == T[answer] and rid == id_:
            err = struct.unpack_from("=i", data, 16 + 4)[0] \
                if answer == "IPC_STATE_ACK" else \
                struct.unpack_from("=i", data, 16)[0]
            out.write(json.dumps({"name": name, "error": err}) + "\n")
            return
    out.write(json.dumps({"name": name, "error": "no answer"}) + "\n")


def tun(v4, v6):
    return prefix(v4) + prefix(v6)


def gateway_peer(v4, v6):
    cred = lambda s: s.encode().ljust(256, b"\0")
    return (uuid(7) + uuid(8) + bytes(range(32)) + bytes(32) +
            prefix(v4) + prefix(v6) + cred("lufr") +
            cred("l" * 24) + cred("rufr") + cred("r" * 24))


send(T["IPC_HELLO"], struct.pack("=IIQ", os.getpid(), 0, int(time.time())))
role = os.environ.get("FZC_HOSTILE_ROLE", "client")
if role == "gateway":
    ask("token store", "IPC_TOKEN_STORE", b"evil-token".ljust(2048, b"\0"),
        "IPC_TOKEN_RESULT")
    ask("token delete", "IPC_TOKEN_DELETE", bytes(4), "IPC_TOKEN_RESULT")
    ask("tun addresses on the LAN", "IPC_TUN_ADDRESSES",
        tun("192.168.1.77", "fd00:2021:1111::7"), "IPC_STATE_ACK")
else:
    ask("tun addresses on the LAN", "IPC_TUN_ADDRESSES",
        tun("10.0.0.5", "fd00:2021:1111::5"), "IPC_STATE_ACK")
    ask("tun IPv6 outside Firezone's", "IPC_TUN_ADDRESSES",
        tun("100.64.0.5", "2001:db8::5"), "IPC_STATE_ACK")
    ask("gateway at a public address", "IPC_GATEWAY_PEER",
        gateway_peer("8.8.8.8", "fd00:2021:1111::9"), "IPC_STATE_ACK")
    out.write(json.dumps({"phase": 1}) + "\n")
    while not os.path.exists(go):
        time.sleep(0.05)
    ask("tun addresses", "IPC_TUN_ADDRESSES",
        tun("100.64.0.5", "fd00:2021:1111::5"), "IPC_STATE_ACK")
    ask("route of A", "IPC_ROUTE_ADD", uuid(1) + net("10.55.0.0/24"),
        "IPC_STATE_ACK")
    ask("same route of B", "IPC_ROUTE_ADD", uuid(2) + net("10.55.0.0/24"),
        "IPC_STATE_ACK")
    ask("route of A gone", "IPC_ROUTE_DEL", uuid(1) + net("10.55.0.0/24"),
        "IPC_STATE_ACK")
    out.write(json.dumps({"phase": 2}) + "\n")
while True:
    if not ch.recv(65536):
        break
