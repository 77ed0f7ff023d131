#!/usr/bin/python3
"""A gateway's side of ICE, just enough for fzc's client-role test: answer
connectivity checks (controlled, short-term credentials of PROTOCOL 2.5)
on one UDP address, then report the WireGuard handshake initiation that
arrives on the nominated path.

usage: ice_responder.py ADDR PORT CLIENT_ID CLIENT_PK GW_ID GW_PK
Prints "CHECK <username> <use-candidate>" per check answered and
"WG-INIT <src>" when a 148-byte message type 1 arrives, then exits 0.
"""
import hashlib
import hmac
import socket
import struct
import sys
import zlib

sys.path.insert(0, __file__.rsplit("/", 3)[0] + "/tests/portal")
import stub_portal  # noqa: E402  (derive_ice: PROTOCOL 2.5)

COOKIE = 0x2112A442


def attrs(msg):
    off, out = 20, {}
    while off + 4 <= len(msg):
        t, n = struct.unpack("!HH", msg[off:off + 4])
        out.setdefault(t, msg[off + 4:off + 4 + n])
        off += 4 + ((n + 3) & ~3)
    return out


def response(req, src, key):
    txid = req[8:20]
    ip, port = src[0], src[1]
    xport = port ^ (COOKIE >> 16)
    xip = struct.unpack("!I", socket.inet_aton(ip))[0] ^ COOKIE
    body = struct.pack("!HHBBHI", 0x0020, 8, 0, 1, xport, xip)
    # MESSAGE-INTEGRITY over the header with the length up to it.
    head = struct.pack("!HHI", 0x0101, len(body) + 24, COOKIE) + txid
    mac = hmac.new(key, head + body, hashlib.sha1).digest()
    body += struct.pack("!HH", 0x0008, 20) + mac
    head = struct.pack("!HHI", 0x0101, len(body) + 8, COOKIE) + txid
    crc = (zlib.crc32(head + body) ^ 0x5354554E) & 0xFFFFFFFF
    body += struct.pack("!HHI", 0x8028, 4, crc)
    return head + body


def main():
    addr, port, cid, cpk, gid, gpk = sys.argv[1:7]
    _, gice = stub_portal.derive_ice(cid, cpk, gid, gpk)
    key = gice["password"].encode()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, int(port)))
    s.settimeout(30)
    while True:
        msg, src = s.recvfrom(2048)
        if len(msg) == 148 and msg[0] == 1:
            print("WG-INIT %s:%d" % src, flush=True)
            return 0
        if len(msg) >= 20 and struct.unpack("!I", msg[4:8])[0] == COOKIE \
                and struct.unpack("!H", msg[0:2])[0] == 0x0001:
            a = attrs(msg)
            user = a.get(0x0006, b"").decode(errors="replace")
            print("CHECK %s %d" % (user, 0x0025 in a), flush=True)
            s.sendto(response(msg, src, key), src)


sys.exit(main())
