#!/usr/bin/env python3
"""Writes the seed corpora under tests/fuzz/corpus/ (run from anywhere).

Each seed is a small valid input in the format its harness documents at
the top of fuzz_<name>.c.  Messages the harness can repair (STUN lengths,
transaction ids, MESSAGE-INTEGRITY, FINGERPRINT) are written with
placeholders and the repair bits set.
"""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))
CORPUS = os.path.join(HERE, "corpus")


def write(name, seed, data):
    d = os.path.join(CORPUS, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, seed), "wb") as f:
        f.write(data)


def rec(op, data):
    return struct.pack(">BH", op, len(data)) + data


# --- ipc ------------------------------------------------------------------

AF_INET, AF_INET6 = 2, 10
SOCK_DGRAM = 2


def ipc(type_, payload, id_=0):
    return struct.pack("=HHIII", type_, 1, len(payload), id_, 0) + payload


def prefix(family, plen, addr):
    return struct.pack("=BB2x16s", family, plen, addr)


def sockaddr(family, port, addr):
    return struct.pack("=HHI16s", family, port, 0, addr)


def ipc_seeds():
    v4 = bytes([10, 8, 0, 0])
    # Bit 0 of the first byte: the receiver is controld.
    write("fuzz_ipc", "hello-to-controld",
          b"\x01" + ipc(1, struct.pack("=IIQ", 4242, 0, 1700000000)))
    write("fuzz_ipc", "hello-to-tunneld",
          b"\x00" + ipc(1, struct.pack("=IIQ", 4243, 1, 1700000000)))
    write("fuzz_ipc", "socket-with-fd",
          b"\x03" + ipc(17, struct.pack("=iiII", AF_INET, SOCK_DGRAM,
                                        0x667a63, 0), 7))
    write("fuzz_ipc", "route-add",
          b"\x00" + ipc(81, b"0f6a8c1e-5b8e-4d5f-9a3c-11a2b3c4d5e6".ljust(
              40, b"\0") + prefix(AF_INET, 16, v4 + bytes(12)), 9))
    write("fuzz_ipc", "tun-addresses",
          b"\x00" + ipc(80, prefix(AF_INET, 32, bytes([100, 64, 0, 2]) +
                                   bytes(12)) +
                        prefix(AF_INET6, 128, bytes([0xfd] + [0] * 14 +
                                                    [2]))))
    write("fuzz_ipc", "relay-add",
          b"\x00" + ipc(83, b"9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d".ljust(
              40, b"\0") + sockaddr(AF_INET, 3478, bytes([203, 0, 113, 9]) +
                                    bytes(12)) +
              b"1767225600:c2FsdHNhbHQ".ljust(256, b"\0") +
              b"cGFzc3dvcmRwYXNzd29yZA".ljust(256, b"\0") +
              struct.pack("=q", 1767225600)))
    write("fuzz_ipc", "token-result-recv",
          b"\x05" + ipc(68, struct.pack("=iI", 0, 1)))
    write("fuzz_ipc", "state-ack",
          b"\x01" + ipc(95, struct.pack("=Ii", 81, 0)))
    write("fuzz_ipc", "network-changed",
          b"\x01" + ipc(104, struct.pack("=II", 4, 0)))
    write("fuzz_ipc", "peer-path-relayed",
          b"\x01" + ipc(100, b"77aa11bb-22cc-4d33-8e44-55ff66aa77bb".ljust(
              40, b"\0") + bytes(range(32)) + struct.pack("=BB6x", 3, 1) +
              sockaddr(AF_INET, 3478, bytes([203, 0, 113, 9]) + bytes(12))))
    write("fuzz_ipc", "settings-set",
          b"\x00" + ipc(101, b"wss://portal.example.com".ljust(512, b"\0") +
                        bytes(512) + struct.pack("=BB6x", 4, 0), 3))
    write("fuzz_ipc", "settings",
          b"\x01" + ipc(102, bytes(512) +
                        b"wss://api.firezone.dev".ljust(512, b"\0") +
                        struct.pack("=BB6x", 0, 3)))
    # A DNS query for git.example.com A, to the first sentinel, and back.
    query = (bytes.fromhex("123401000001000000000000") +
             b"\x03git\x07example\x03com\x00\x00\x01\x00\x01")
    client = sockaddr(AF_INET, 40000, bytes([100, 64, 0, 2]) + bytes(12))
    sentinel = sockaddr(AF_INET, 53, bytes([100, 100, 111, 1]) + bytes(12))
    write("fuzz_ipc", "dns-query",
          b"\x01" + ipc(128, client + sentinel +
                        struct.pack("=II", len(query), 0) +
                        query.ljust(4000, b"\0")))
    sentinel6 = bytes([0xfd, 0, 0x20, 0x21, 0x11, 0x11, 0x80, 0, 1, 0, 1, 0,
                       1, 0x11, 0, 2])
    write("fuzz_ipc", "dns-config",
          b"\x00" + ipc(168, struct.pack("=II", 2, 0) +
                        prefix(AF_INET, 32, bytes([100, 100, 111, 1]) +
                               bytes(12)) +
                        prefix(AF_INET6, 128, sentinel6) + bytes(20 * 6) +
                        b"corp.example.com".ljust(256, b"\0")))
    write("fuzz_ipc", "system-resolv-with-fd",
          b"\x03" + ipc(169, bytes(4)))
    # The client's portal configuration, with the DNS control tunneld
    # settled on (etc-resolv-conf).
    write("fuzz_ipc", "portal-config",
          b"\x01" + ipc(64, b"wss://api.example.test".ljust(512, b"\0") +
                        b"/etc/fzc/ca.pem".ljust(256, b"\0") +
                        b"box".ljust(256, b"\0") +
                        b"5c0a4d62-3f1e-4a2b-9c1d-2e3f4a5b6c7d".ljust(
                            40, b"\0") +
                        bytes(32) + bytes([0, 1, 2]) + bytes(5)))
    # A TCP SYN to the sentinel, and a SYN-ACK back (IPC_DNS_TCP).
    syn = struct.pack(">HHIIBBHHHBBH", 40000, 53, 1000, 0, 6 << 4, 0x02,
                      65535, 0, 0, 2, 4, 1460)
    write("fuzz_ipc", "dns-tcp-query",
          b"\x01" + ipc(128, client + sentinel +
                        struct.pack("=II", len(syn), 1) +
                        syn.ljust(4000, b"\0")))
    synack = struct.pack(">HHIIBBHHH", 53, 40000, 77, 1001, 5 << 4, 0x12,
                         1220, 0, 0)
    write("fuzz_ipc", "dns-tcp-reply",
          b"\x00" + ipc(129, client + sentinel +
                        struct.pack("=II", len(synack), 1) +
                        synack.ljust(4000, b"\0")))
    write("fuzz_ipc", "dns-reply",
          b"\x00" + ipc(129, client + sentinel +
                        struct.pack("=II", len(query), 0) +
                        query.ljust(4000, b"\0")))


# --- ipc_seq: sequences a controld sends, first byte role and failures ----

def uuid(n):
    return ("%08x-0000-4000-8000-%012x" % (n, n)).encode().ljust(40, b"\0")


def host(ip):
    if len(ip) == 4:
        return prefix(AF_INET, 32, ip + bytes(12))
    return prefix(AF_INET6, 128, ip)


def cidr(ip, plen):
    return prefix(AF_INET if len(ip) == 4 else AF_INET6, plen,
                  ip + bytes(16 - len(ip)))


def cred(s):
    return s.encode().ljust(256, b"\0")


TUN4 = bytes([100, 64, 0, 5])
TUN6 = bytes([0xfd, 0, 0x20, 0x21, 0x11, 0x11] + [0] * 9 + [5])
GW4 = bytes([100, 64, 0, 9])
GW6 = bytes([0xfd, 0, 0x20, 0x21, 0x11, 0x11] + [0] * 9 + [9])
RELAY = (uuid(50) + sockaddr(AF_INET, 3478, bytes([203, 0, 113, 9]) +
                             bytes(12)) +
         cred("1767225600:c2FsdHNhbHQ") + cred("cGFzc3dvcmRwYXNzd29yZA") +
         struct.pack("=q", 1767225600))


def gw_resource(n, net, filters=()):
    f = b"".join(struct.pack("=BxHH", *x) for x in filters)
    return (uuid(n) + struct.pack("=BB2x", 1, len(filters)) + net +
            f.ljust(32 * 6, b"\0"))


def ipc_seq_seeds():
    a = cidr(bytes([10, 55, 0, 0]), 24)
    peer = (uuid(7) + uuid(1) + bytes(range(32)) + bytes(32) + host(GW4) +
            host(GW6) + cred("lufr") + cred("l" * 24) + cred("rufr") +
            cred("r" * 24))
    cand = uuid(7) + (b"candidate:1 1 UDP 2130706431 10.0.0.9 51820 typ " \
        b"host").ljust(256, b"\0")
    s = rec(1, b"") + rec(80, host(TUN4) + host(TUN6))
    s += rec(81, uuid(1) + a) + rec(81, uuid(2) + a) + rec(82, uuid(1) + a)
    s += rec(83, RELAY) + rec(85, peer) + rec(86, cand) + rec(87, cand)
    s += rec(69, struct.pack("=B7x", 1))
    s += rec(81, uuid(3) + cidr(bytes(4), 0)) + rec(82, uuid(3) +
                                                    cidr(bytes(4), 0))
    s += rec(101, b"wss://portal.example.com".ljust(512, b"\0") +
             bytes(512) + struct.pack("=BB6x", 4, 0))
    s += rec(67, b"a-token".ljust(2048, b"\0")) + rec(66, bytes(4))
    s += rec(48, bytes(4)) + rec(1, b"") + rec(84, uuid(50)) + \
        rec(88, uuid(1))
    s += rec(80, host(bytes([100, 64, 0, 6])) + host(TUN6))
    s += rec(168, struct.pack("=II", 1, 0) +
             host(bytes([100, 100, 111, 1])) + bytes(20 * 7) +
             b"corp.example.com".ljust(256, b"\0"))
    write("fuzz_ipc_seq", "client", b"\x00" + s)
    write("fuzz_ipc_seq", "client-device-fails", b"\x04" + s)
    client = (uuid(20) + bytes(range(32)) + bytes(32) + host(TUN4) +
              host(TUN6) + cred("lufr") + cred("l" * 24) + cred("rufr") +
              cred("r" * 24) + struct.pack("=q", 4102444800))
    s = rec(1, b"") + rec(80, host(GW4) + host(GW6)) + rec(83, RELAY)
    s += rec(112, client + gw_resource(1, a, [(6, 80, 80), (17, 53, 53)]))
    s += rec(112, client + gw_resource(2, cidr(bytes([10, 56, 0, 0]), 16)))
    s += rec(114, gw_resource(1, a, [(1, 0, 0)]))
    s += rec(115, struct.pack("=II", 1, 0) +
             (uuid(20) + uuid(1)).ljust(40 * 80, b"\0"))
    s += rec(113, uuid(20) + uuid(1)) + rec(1, b"") + rec(48, bytes(4))
    write("fuzz_ipc_seq", "gateway", b"\x01" + s)
    write("fuzz_ipc_seq", "gateway-nft-fails", b"\x81" + s)


# --- p2p ------------------------------------------------------------------

P2P_RES = b"0f6a8c1e-5b8e-4d5f-9a3c-11a2b3c4d5e6"
P2P_ASSIGNED = (b'{"resource":"' + P2P_RES + b'","domain":'
                b'"git.corp.example.com","proxy_ips":["100.96.0.1",'
                b'"100.96.0.2","100.96.0.3","100.96.0.4",'
                b'"fd00:2021:1111:8000::","fd00:2021:1111:8000::1",'
                b'"fd00:2021:1111:8000::2","fd00:2021:1111:8000::3"]}')
P2P_STATUS = (b'{"resource":"' + P2P_RES + b'","domain":'
              b'"git.corp.example.com","status":"Active"}')


def p2p_packet(event, body):
    # PROTOCOL 4.6: IPv6 from :: to ::, next header 255, 8-byte header.
    return struct.pack(">BxxxHBB32s", 0x60, 8 + len(body), 255, 0,
                       bytes(32)) + bytes([event]) + bytes(7) + body


def p2p_seeds():
    write("fuzz_p2p", "json",
          rec(0, P2P_ASSIGNED) + rec(1, P2P_STATUS) +
          rec(1, P2P_STATUS.replace(b"Active", b"Inactive")))
    write("fuzz_p2p", "packets",
          rec(2, p2p_packet(0, P2P_ASSIGNED)) +
          rec(3, p2p_packet(1, P2P_STATUS)) +
          rec(2, p2p_packet(2, b"")))


def p2p_ipc_seeds():
    gw = b"77aa11bb-22cc-4d33-8e44-55ff66aa77bb".ljust(40, b"\0")
    write("fuzz_ipc", "p2p-send",
          b"\x00" + ipc(130, gw + struct.pack("=B3xI", 0,
                                               len(P2P_ASSIGNED)) +
                        P2P_ASSIGNED.ljust(1024, b"\0")))
    write("fuzz_ipc", "p2p-recv",
          b"\x01" + ipc(131, gw + struct.pack("=B3xI", 1, len(P2P_STATUS)) +
                        P2P_STATUS.ljust(1024, b"\0")))
    ips = b"".join(prefix(AF_INET, 32, bytes([100, 96, 0, i]) + bytes(12))
                   for i in range(1, 5))
    ips += b"".join(prefix(AF_INET6, 128, bytes.fromhex(
        "fd002021111180000000000000000000")[:15] + bytes([i]))
        for i in range(4))
    write("fuzz_ipc", "proxy-state",
          b"\x00" + ipc(132, P2P_RES.ljust(40, b"\0") +
                        struct.pack("=B7x", 1) + ips))
    pairs = prefix(AF_INET, 32, bytes([100, 96, 0, 1]) + bytes(12)) + \
        prefix(AF_INET, 32, bytes([10, 20, 0, 2]) + bytes(12)) + \
        prefix(AF_INET6, 128, bytes.fromhex(
            "fd002021111180000000000000000000")) + bytes(20)
    write("fuzz_ipc", "gw-dns-map",
          b"\x00" + ipc(133, gw + P2P_RES.ljust(40, b"\0") +
                        struct.pack("=II", 2, 0) + pairs +
                        bytes(6 * 40)))


# --- dns_stub -------------------------------------------------------------

def dns_query(qid, name, qtype, flags=0x0100, edns=False):
    q = struct.pack(">HHHHHH", qid, flags, 1, 0, 0, 1 if edns else 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", qtype, 1)
    if edns:
        q += b"\0" + struct.pack(">HHIH", 41, 1232, 0, 0)
    return q


def dns_stub_seeds():
    write("fuzz_dns_stub", "a-aaaa-ptr",
          rec(0, dns_query(1, "web.corp.example.com", 1)) +
          rec(0, dns_query(2, "web.corp.example.com", 28, edns=True)) +
          rec(0, dns_query(3, "1.0.96.100.in-addr.arpa", 12)) +
          rec(0, dns_query(4, "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
                              "0.0.0.8.1.1.1.1.1.2.0.2.0.0.d.f.ip6.arpa", 12)))
    write("fuzz_dns_stub", "special",
          rec(1, dns_query(5, "use-application-dns.net", 1)) +
          rec(1, dns_query(6, "example.com", 65)) +
          rec(1, dns_query(7, "plain.example.org", 16)) +
          rec(1, dns_query(8, "x.a.y", 1, flags=0x2800)))
    # Upstream answers: truncated, and one too big for 512 bytes.
    txt = b"".join(bytes([200]) + bytes([97 + i]) * 200 for i in range(4))
    big = (bytes.fromhex("424281800001000100000001") +
           dns_query(0, "big.example.org", 16)[12:] + b"\xc0\x0c" +
           struct.pack(">HHIH", 16, 1, 0, len(txt)) + txt +
           b"\x00" + struct.pack(">HHIH", 41, 1232, 0, 0))
    write("fuzz_dns_stub", "upstream-answers",
          rec(2, dns_query(9, "big.example.org", 16, flags=0x8380,
                           edns=True)) +
          rec(2, big) + rec(6, big))


# --- dns_remote -----------------------------------------------------------

def dns_answer(qid, name, qtype, rdatas):
    a = struct.pack(">HHHHHH", qid, 0x8180, 1, len(rdatas), 0, 0)
    for label in name.split("."):
        a += bytes([len(label)]) + label.encode()
    a += b"\0" + struct.pack(">HH", qtype, 1)
    for rd in rdatas:
        a += b"\xc0\x0c" + struct.pack(">HHIH", qtype, 1, 60, len(rd)) + rd
    return a


def dns_remote_seeds():
    srv = struct.pack(">HHH", 1, 10, 8080) + b"\x03app\x04corp\x07example" \
        b"\x03com\x00"
    write("fuzz_dns_remote", "srv-answered",
          rec(0, dns_query(1, "_http._tcp.app.corp.example.com", 33,
                           edns=True)) +
          rec(1, dns_answer(0xbeef, "_http._tcp.app.corp.example.com", 33,
                            [srv, srv])))
    write("fuzz_dns_remote", "txt-truncated",
          rec(0, dns_query(2, "App.Corp.example.com", 16)) +
          rec(1, dns_answer(7, "app.corp.example.com", 16,
                            [b"\xff" + b"x" * 255] * 3)))
    write("fuzz_dns_remote", "refused",
          rec(0, dns_query(3, "a.corp.example.com", 1)) +
          rec(0, dns_query(4, "a.corp.example.com", 16, flags=0x2800)) +
          rec(0, dns_query(5, "a\\.b.example.org", 16)))


def tcp_seg(seq, ack, flags, data=b"", mss=None):
    opts = struct.pack(">BBH", 2, 4, mss) if mss else b""
    return struct.pack(">HHIIBBHHH", 40000, 53, seq, ack,
                       (20 + len(opts)) // 4 << 4, flags, 65535, 0,
                       0) + opts + data


def dns_tcp_seeds():
    # ACK numbers relative to the responder's ISS, as the harness takes
    # them.
    q1 = dns_query(1, "web.corp.example.com", 1)
    q2 = dns_query(2, "plain.example.org", 16)
    wire = (struct.pack(">H", len(q1)) + q1 +
            struct.pack(">H", len(q2)) + q2)
    write("fuzz_dns_tcp", "syn-data-fin",
          rec(0, tcp_seg(1000, 0, 0x02, mss=1460)) +
          rec(0, tcp_seg(1001, 1, 0x18, wire)) +
          rec(1, struct.pack(">H", 300)) +
          rec(2, struct.pack(">H", 250)) +
          rec(0, tcp_seg(1001 + len(wire), 1, 0x11)) +
          rec(3, b"\x01") +
          rec(2, struct.pack(">H", 20000)))
    write("fuzz_dns_tcp", "two-conns-rst",
          rec(0, tcp_seg(7, 0, 0x02)) + rec(4, tcp_seg(9, 0, 0x02)) +
          rec(0, tcp_seg(8, 0, 0x04)) + rec(4, tcp_seg(10, 5, 0x10)))


# --- wgconf ---------------------------------------------------------------

PRIV = "sHOsRzId4ZdiKVr4LCat1GqMLcgGeQLp6Z5fzJVsMls="
PUB1 = "oMWpZyCPd7KpUabhC6ylzRAtugZu9/okX/14jTxU5jo="
PUB2 = "nZiTydSJPhIn/OcM1CT2it+gbQq/M80Fa5aaj0D4DDk="
PSK = "dW9ttqjLmV2RSq6Zb0wUc4MWxbI9bgw9oGbc6eFbww4="

FULL = f"""[Interface]
PrivateKey = {PRIV}
ListenPort = 51820
MTU = 1420
Address = 10.8.0.2/24, fd00:8::2/64
DNS = 10.8.0.1
PostUp = true

[Peer]
PublicKey = {PUB1}
PresharedKey = {PSK}
Endpoint = 192.0.2.1:51820
AllowedIPs = 10.8.0.0/24, 0.0.0.0/0
AllowedIPs = ::/0
PersistentKeepalive = 25

[Peer]
PublicKey = {PUB2}
Endpoint = [2001:db8::1]:443
AllowedIPs = 192.168.7.0/24
"""


def wgconf_seeds():
    write("fuzz_wgconf", "full", b"\x00" + FULL.encode())
    write("fuzz_wgconf", "full-fd", b"\x04" + FULL.encode())
    write("fuzz_wgconf", "crlf-hostname",
          b"\x03" + FULL.replace("\n", "\r\n").replace(
              "[2001:db8::1]:443", "vpn.example.com:443").encode())
    write("fuzz_wgconf", "bad-key",
          b"\x00" + f"[Interface]\nPrivateKey = {PRIV[:-2]}\n".encode())
    write("fuzz_wgconf", "unknown-key",
          b"\x00" + f"[Interface]\nPrivateKey = {PRIV}\nFooBar = 1\n"
          .encode())


# --- STUN -----------------------------------------------------------------

MAGIC = 0x2112A442


def msg_type(method, cls):
    return ((method & 0x000f) | ((cls & 1) << 4) | ((method & 0x0070) << 1)
            | ((cls & 2) << 7) | ((method & 0x0f80) << 2))


def attr(t, v):
    pad = (4 - len(v) % 4) % 4
    return struct.pack(">HH", t, len(v)) + v + b"\0" * pad


def stun(method, cls, attrs, txid=bytes(12)):
    body = b"".join(attrs)
    return struct.pack(">HHI", msg_type(method, cls), len(body), MAGIC) + \
        txid + body


def xaddr4(ip, port, txid=bytes(12)):
    x = struct.pack(">I", MAGIC)
    return struct.pack(">BBH", 0, 1, port ^ (MAGIC >> 16)) + \
        bytes(a ^ b for a, b in zip(bytes(ip), x))


MI = attr(0x0008, bytes(20))
FP = attr(0x8028, bytes(4))

RFC_REQUEST = bytes.fromhex(
    "000100582112a442b7e7a701bc34d686fa87dfae"
    "802200105354554e207465737420636c69656e74"
    "002400046e0001ff"
    "80290008932ff9b151263b36"
    "000600096576746a3a68367659202020"
    "000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2"
    "80280004e57a3bcf")
RFC_V4 = bytes.fromhex(
    "0101003c2112a442b7e7a701bc34d686fa87dfae"
    "8022000b7465737420766563746f7220"
    "002000080001a147e112a643"
    "000800142b91f599fd9e90c38c7489f92af9ba53f06be7d7"
    "80280004c07d4c96")
RFC_V6 = bytes.fromhex(
    "010100482112a442b7e7a701bc34d686fa87dfae"
    "8022000b7465737420766563746f7220"
    "002000140002a1470113a9faa5d3f179bc25f4b5bed2b9d9"
    "00080014a382954e4be67bf11784c97c8292c275bfe3ed41"
    "80280004c8fb0b4c")
RFC_LT = bytes.fromhex(
    "000100602112a44278ad3433c6ad72c029da412e"
    "00060012e3839ee38388e383aae38383e382afe382b90000"
    "0015001c662f2f3439396b3935346436"
    "4f4c33346f4c39465354767936347341"
    "0014000b6578616d706c652e6f726700"
    "00080014f67024656dd64a3e02b8e0712e85c9a28ca89666")


def stun_seeds():
    write("fuzz_stun", "rfc5769-request", b"\x00" + RFC_REQUEST)
    write("fuzz_stun", "rfc5769-v4-response", b"\x00" + RFC_V4)
    write("fuzz_stun", "rfc5769-v6-response", b"\x00" + RFC_V6)
    write("fuzz_stun", "rfc5769-long-term", b"\x00" + RFC_LT)
    write("fuzz_stun", "resealed-short", b"\x03" + stun(
        0x001, 0, [attr(0x0006, b"lfrg:rfrg"),
                   attr(0x0024, struct.pack(">I", 0x6e0001ff)),
                   attr(0x802A, bytes(8)), attr(0x0025, b""), MI, FP]))
    write("fuzz_stun", "resealed-long", b"\x05" + stun(
        0x003, 2, [attr(0x0016, xaddr4([198, 51, 100, 7], 50000)),
                   attr(0x000D, struct.pack(">I", 600)),
                   attr(0x0020, xaddr4([203, 0, 113, 4], 40000)),
                   attr(0x8022, b"relay"), MI, FP]))
    write("fuzz_stun", "error-unknown", b"\x01" + stun(
        0x003, 3, [attr(0x0009, bytes([0, 0, 4, 1]) + b"Unauthorized"),
                   attr(0x0014, b"example.org"), attr(0x0015, b"nonce"),
                   attr(0x000A, struct.pack(">HH", 0x0030, 0x0031)),
                   attr(0x0030, b"x")]))
    write("fuzz_stun", "channeldata", b"\x00" +
          struct.pack(">HH", 0x4000, 4) + b"ping")


# --- TURN -----------------------------------------------------------------

TURN_DGRAM = 0
HDR, TXID, SEAL = 4, 8, 16


def turn_dgram(m, k=0, seal=False):
    op = TURN_DGRAM | HDR | TXID | (k << 5) | (SEAL and 16 or 0)
    return rec(op, m)


def turn_seeds():
    bind_ok = stun(0x001, 2, [attr(0x0020, xaddr4([203, 0, 113, 4],
                                                   40000))])
    alloc_401 = stun(0x003, 3, [
        attr(0x0009, bytes([0, 0, 4, 1]) + b"Unauthorized"),
        attr(0x0014, b"firezone"), attr(0x0015, b"c2VjcmV0bm9uY2U")])
    alloc_ok = stun(0x003, 2, [
        attr(0x0016, xaddr4([198, 51, 100, 7], 50000)),
        attr(0x000D, struct.pack(">I", 600)),
        attr(0x0020, xaddr4([203, 0, 113, 4], 40000)), MI, FP])
    perm_ok = stun(0x008, 2, [MI, FP])
    chan_ok = stun(0x009, 2, [MI, FP])
    peer = struct.pack(">H", 52625) + bytes([192, 0, 2, 50])
    chdata = struct.pack(">HH", 0x4000, 5) + b"hello\0\0\0"
    data_ind = stun(0x007, 1, [attr(0x0012, xaddr4([192, 0, 2, 50], 1)),
                               attr(0x0013, b"relayed")])
    stale = stun(0x004, 3, [attr(0x0009, bytes([0, 0, 4, 38]) + b"Stale"),
                            attr(0x0015, b"bmV3bm9uY2U")])
    s = (turn_dgram(bind_ok) + turn_dgram(alloc_401) +
         turn_dgram(alloc_ok, seal=True))
    write("fuzz_turn", "allocate", s)
    s2 = (s + rec(2, peer) + turn_dgram(chan_ok, 0, True) +
          turn_dgram(perm_ok, 1, True) + rec(0, chdata) +
          rec(2 | 4, peer + b"payload") + rec(0 | HDR, data_ind))
    write("fuzz_turn", "channel", s2)
    s3 = (s2 + rec(1 | 4, struct.pack(">H", 301)) +
          turn_dgram(stale, 0) + rec(1 | 4, struct.pack(">H", 400)) +
          rec(3, b"") + turn_dgram(stun(0x004, 2, [MI, FP]), 0, True))
    write("fuzz_turn", "refresh-close", s3)
    write("fuzz_turn", "timeout", rec(1 | 4, struct.pack(">H", 9)))


# --- ICE ------------------------------------------------------------------

def ice_seeds():
    req = stun(0x001, 0, [attr(0x0006, b"lfrg:rfrg"),
                          attr(0x0024, struct.pack(">I", 0x6e0001ff)),
                          attr(0x802A, bytes(7) + b"\x01"),
                          attr(0x0025, b""), MI, FP])
    req_ctl = stun(0x001, 0, [attr(0x0006, b"lfrg:rfrg"),
                              attr(0x0024, struct.pack(">I", 0x6e0001ff)),
                              attr(0x8029, bytes(7) + b"\x01"), MI, FP])
    ok = stun(0x001, 2, [attr(0x0020, xaddr4([10, 0, 0, 1], 50000)),
                         MI, FP])
    conflict = stun(0x001, 3, [attr(0x0009, bytes([0, 0, 4, 87]) +
                                    b"Role Conflict"), MI, FP])
    cands = [
        b"candidate:4021987365 1 udp 1694498815 198.51.100.20 41873 typ "
        b"srflx raddr 0.0.0.0 rport 0",
        b"candidate:77 1 udp 16777215 2001:db8:7::5 50001 typ relay "
        b"raddr 2001:db8:7::1 rport 3478 generation 0",
        b"candidate:a+/Z 1 udp 1862270975 fe80::1 9 typ prflx",
        b"candidate:9 1 UDP 2130706431 10.0.0.3 52626 typ host",
    ]
    # Path byte 0: local host 10.0.0.1, remote 10.0.0.2.
    tick = rec(1, struct.pack(">H", 60))
    s = b"\x00" + rec(0 | HDR | SEAL, b"\x00" + req) + tick
    s += rec(0 | HDR | TXID | SEAL, b"\x00" + ok) + tick + tick
    write("fuzz_ice", "controlled-connect", s)
    s = b"\x01" + tick + rec(0 | HDR | TXID | SEAL, b"\x00" + ok) + tick
    s += rec(0 | HDR | TXID | SEAL, b"\x00" + ok) + tick
    s += rec(0 | HDR | SEAL, b"\x08" + req_ctl)
    write("fuzz_ice", "controlling-connect", s)
    s = b"\x01" + tick + rec(0 | HDR | TXID | SEAL, b"\x00" + conflict)
    s += rec(0 | HDR | SEAL, b"\x00" + req) + rec(1 | 4, b"\x00\x1e")
    write("fuzz_ice", "conflict-timeout", s)
    s = b"\x00" + b"".join(rec(2, c) for c in cands)
    s += rec(2 | 4, cands[0]) + rec(3 | 8, b"\x00") + rec(3 | 16, b"\x00")
    write("fuzz_ice", "candidates", s)


# --- WireGuard ------------------------------------------------------------

def wg_seeds():
    init = struct.pack("<I", 7) + struct.pack(">Q", 1) + b"ping"
    s = rec(1, init) + rec(1, struct.pack("<I", 8) + struct.pack(">Q", 2))
    write("fuzz_wg", "handshake", s)
    s = rec(1 | 16 | 8, struct.pack("<I", 9) + struct.pack(">Q", 3))
    s += rec(2, b"") + rec(2, b"\x05\x01")
    write("fuzz_wg", "cookie", s)
    s = rec(3, struct.pack("<Q", 0) + b"payload") + \
        rec(3, struct.pack("<Q", 5000) + b"x") + \
        rec(3, struct.pack("<Q", 2) + b"") + \
        rec(3, struct.pack("<Q", 5000) + b"x") + \
        rec(3 | 8, struct.pack("<Q", 7) + b"\x03\x02") + \
        rec(4 | 8, b"\x00\xb4") + rec(3, struct.pack("<Q", 8))
    write("fuzz_wg", "transport", s)
    raw1 = struct.pack("<I", 1) + bytes(144)
    raw2 = struct.pack("<II", 2, 5) + bytes(84)
    raw3 = struct.pack("<II", 3, 0) + bytes(56)
    raw4 = struct.pack("<IIQ", 4, 0, 0) + bytes(16)
    s = rec(0 | 8, raw1) + rec(0 | 8 | 16, raw2) + rec(0 | 16, raw3) + \
        rec(0 | 16, raw4) + rec(0 | 8 | 32, raw1)
    write("fuzz_wg", "raw", s)


# --- portal ---------------------------------------------------------------

PORTAL_EVENTS = {
    "authorization_created": "authorization_created",
    "authorization_creation_failed": "authorization_creation_failed",
    "config_changed": "config_changed",
    "disconnect": "disconnect",
    "ice_candidates": "ice_candidates",
    "init": "init",
    "relays_presence": "relays_presence",
    "resource_cidr": "resource_created_or_updated",
    "resource_dns": "resource_created_or_updated",
    "resource_internet": "resource_created_or_updated",
    # The gateway role's (section 3); every payload meets both decoders.
    "gw_create_authorization": "create_authorization",
    "gw_ice_candidates": "ice_candidates",
    "gw_init": "init",
    "gw_reject_access": "reject_access",
    "gw_resource_updated": "resource_updated",
}


def frame(event, payload, ref=b"null", topic=b"client"):
    return (b'{"topic":"' + topic + b'","event":"' + event.encode() +
            b'","payload":' + payload + b',"ref":' + ref + b'}')


def portal_seeds():
    data = os.path.join(TOP, "tests", "unit", "data", "portal")
    for base, event in sorted(PORTAL_EVENTS.items()):
        with open(os.path.join(data, base + ".json"), "rb") as f:
            payload = f.read().strip()
        write("fuzz_portal", "push-" + base,
              rec(0, frame(event, payload)) + rec(3, payload))
    s = rec(0, frame("resource_deleted",
                     b'"0f6a8c1e-5b8e-4d5f-9a3c-11a2b3c4d5e6"'))
    s += rec(1 | 4, b"\x00\x0b") + rec(0, frame(
        "phx_reply", b'{"status":"ok","response":{}}', b"1", b"phoenix"))
    s += rec(0, frame("phx_reply", b'{"status":"error","response":'
                      b'{"reason":"unmatched topic"}}', b"7"))
    s += rec(0, frame("phx_error", b"{}")) + rec(2, b"")
    s += rec(0, frame("phx_reply", b'{"status":"ok","response":{}}', b"0"))
    s += rec(0, frame("disconnect", b'{"reason":"token_expired"}'))
    write("fuzz_portal", "channel", s)
    s = rec(1 | 4, b"\x00\x0b") + rec(1 | 4, b"\x00\x0b") + \
        rec(1 | 4, b"\x00\x0b") + rec(1 | 4, b"\x00\x0b") + \
        rec(0, frame("phx_close", b"{}"))
    write("fuzz_portal", "heartbeats", s)


# --- ws -------------------------------------------------------------------

def ws_frame(opcode, payload, fin=True, mask=None):
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload)
    m = 0x80 if mask else 0
    if n < 126:
        h = struct.pack(">BB", b0, m | n)
    elif n < 65536:
        h = struct.pack(">BBH", b0, m | 126, n)
    else:
        h = struct.pack(">BBQ", b0, m | 127, n)
    if mask:
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
        h += mask
    return h + payload


def ws_seeds():
    hello = ws_frame(1, b'{"event":"phx_reply"}')
    write("fuzz_ws", "open-text-close",
          rec(1, hello) + rec(2, b'{"event":"heartbeat"}') +
          rec(0, ws_frame(8, struct.pack(">H", 1000) + b"bye")))
    write("fuzz_ws", "fragments-ping",
          rec(1, ws_frame(1, b'{"a":', fin=False)) +
          rec(0, ws_frame(9, b"p")) + rec(0, ws_frame(0, b"1}")) +
          rec(0, ws_frame(2, b"\x00binary")))
    write("fuzz_ws", "bad-utf8", rec(1, ws_frame(1, b"\xc3\x28")))
    write("fuzz_ws", "masked-from-server",
          rec(1, ws_frame(1, b"x", mask=b"\x01\x02\x03\x04")))
    write("fuzz_ws", "too-long", rec(1, struct.pack(">BBQ", 0x81, 127,
                                                    1 << 40)))
    write("fuzz_ws", "split-101",
          rec(0, b"HTTP/1.1 101 Switching Protocols\r\nUpgr") +
          rec(0, b"ade: websocket\r\nConnection: upgrade\r\n"
                 b"Sec-WebSocket-Accept: AAAA\r\n\r\n"))
    write("fuzz_ws", "401-body",
          rec(0, b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 13\r\n"
                 b"Retry-After: 30\r\n\r\n") + rec(0, b"invalid_token"))
    write("fuzz_ws", "503-chunked",
          rec(0, b"HTTP/1.1 503 Service Unavailable\r\n"
                 b"Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello"
                 b"\r\n") + rec(0, b"6\r\n world\r\n0\r\n\r\n"))
    write("fuzz_ws", "url", rec(3, b"wss://[fd00::1]:8443/socket?a=b"))


if __name__ == "__main__":
    ws_seeds()
    ipc_seeds()
    ipc_seq_seeds()
    p2p_ipc_seeds()
    p2p_seeds()
    dns_stub_seeds()
    dns_remote_seeds()
    dns_tcp_seeds()
    wgconf_seeds()
    stun_seeds()
    turn_seeds()
    ice_seeds()
    wg_seeds()
    portal_seeds()
