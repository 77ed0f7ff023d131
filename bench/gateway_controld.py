#!/usr/bin/env python3
"""A stand-in for fzc-controld in the gateway role, for
bench/gateway_firewall.sh: fzc-tunneld execs it (--controld) with the IPC
channel on fd 3, as it would fzc-controld.

usage: gateway_controld.py IPC_H OUT CLIENTS

It gives the gateway its tunnel addresses, then authorizes CLIENTS clients
at once (one IPC_CLIENT_PEER each, as fast as the channel takes them) for
one resource, 10.20.0.0/16 with tcp/443 and ICMP. Meanwhile a second
thread sends a probe every 10 ms (IPC_ACCESS_DEL of a pair tunneld does
not know, answered at once with ENOENT) and times its answer: how long the
event loop could not get to a message. OUT gets one JSON object: when the
burst started (Unix s), when the last authorization was acknowledged
(seconds after the start), errors, and the probes' latencies (seconds).
"""
import hashlib, json, os, signal, socket, struct, sys, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))
from tunneld_standin import Ipc  # noqa: E402  (the message numbers, send)

AF4, AF6 = socket.AF_INET, socket.AF_INET6


def prefix(addr):
    fam = AF6 if ":" in addr else AF4
    b = socket.inet_pton(fam, addr)
    return struct.pack("=BBxx", fam, 128 if fam == AF6 else 32) + \
        b + bytes(16 - len(b))


def uuid(kind, n):
    return ("%08x-0000-4000-8000-%012x" % (kind, n)).encode().ljust(40, b"\0")


def cred(s):
    return s.encode().ljust(256, b"\0")


def client_peer(i, expires):
    key = hashlib.sha256(b"client %d" % i).digest()
    v4 = "100.65.%d.%d" % (i >> 8, i & 255)
    v6 = "fd00:2021:1111::1:%x" % i
    # 10.20.0.0/16; tcp/443 and icmp (struct ipc_filter: proto, 0, ports).
    res = (uuid(2, 1) + struct.pack("=BBxx", 1, 2) +
           struct.pack("=BBxx", AF4, 16) + bytes([10, 20]) + bytes(14) +
           struct.pack("=BxHH", socket.IPPROTO_TCP, 443, 443) +
           struct.pack("=BxHH", socket.IPPROTO_ICMP, 0, 0) + bytes(6 * 30))
    return (uuid(1, i) + key + bytes(32) + prefix(v4) + prefix(v6) +
            cred("g%d" % i) + cred("gwpassword%022d" % i) +
            cred("c%d" % i) + cred("clpassword%022d" % i) +
            struct.pack("=q", expires) + res)


def main():
    ipc_h, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ipc = Ipc(ipc_h)
    T = ipc.T
    ipc.sock = socket.socket(fileno=3)

    # Both threads send: one message per sendmsg needs no lock of ours,
    # and the probes do not wait for the burst's turn at one.
    def send(t, payload, id_):
        ipc.sock.sendmsg([struct.pack("=HHIII", t, 1, len(payload), id_, 0)
                          + payload])
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    acked = {}          # id -> (time, error)
    probes = {}         # id -> send time
    latency = []
    lock = threading.Lock()
    cv = threading.Condition(lock)

    def reader():
        while True:
            m = ipc.recv()
            if m is None:
                os._exit(0)
            t, p, id_ = m
            if t != T["IPC_STATE_ACK"]:
                continue
            now = time.monotonic()
            err = struct.unpack_from("=i", p, 4)[0]
            with cv:
                if id_ in probes:
                    latency.append(now - probes.pop(id_))
                else:
                    acked[id_] = (now, err)
                cv.notify_all()

    ipc.hello()
    threading.Thread(target=reader, daemon=True).start()
    send(T["IPC_TUN_ADDRESSES"], prefix("100.82.0.1") +
         prefix("fd00:2021:1111::82:1"), 1)
    with cv:
        if not cv.wait_for(lambda: 1 in acked, 30) or acked[1][1] != 0:
            json.dump({"error": "tunnel addresses not acknowledged: %s" %
                       (acked.get(1),)}, open(out, "w"))
            return 1
    first, last = 1000, 1000 + n - 1
    done = threading.Event()

    def prober():
        k = 0
        while not done.is_set():
            k += 1
            id_ = 10 ** 8 + k
            with lock:
                probes[id_] = time.monotonic()
            send(T["IPC_ACCESS_DEL"], uuid(3, k) + uuid(4, k), id_)
            time.sleep(0.01)

    expires = int(time.time()) + 7200
    msgs = [client_peer(i, expires) for i in range(n)]
    started = time.time()
    t0 = time.monotonic()
    threading.Thread(target=prober, daemon=True).start()
    for i, m in enumerate(msgs):
        send(T["IPC_CLIENT_PEER"], m, first + i)
    sent = time.monotonic() - t0
    with cv:
        cv.wait_for(lambda: all(i in acked for i in range(first, last + 1)),
                    1800)
        got = [acked[i] for i in range(first, last + 1) if i in acked]
    # A little more of the probes after the burst, then the pending ones.
    time.sleep(0.3)
    done.set()
    with cv:
        cv.wait_for(lambda: not probes, 60)
        lat = sorted(latency)
        lost = len(probes)
    json.dump({
        "clients": n,
        "started": started,
        "sent_s": sent,
        "acked": len(got),
        "errors": sum(1 for _, e in got if e != 0),
        "all_acked_s": max(t for t, _ in got) - t0 if got else None,
        "probes": len(lat),
        "probes_unanswered": lost,
        "probe_max_s": lat[-1] if lat else None,
        "probe_p50_s": lat[len(lat) // 2] if lat else None,
        "probe_p99_s": lat[int(len(lat) * 0.99)] if lat else None,
    }, open(out, "w"))
    # Stay until tunneld goes: it kills what it started.
    while True:
        time.sleep(3600)


sys.exit(main())
