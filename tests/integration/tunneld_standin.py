"""The part of fzc-tunneld that a test stand-in needs to run fzc-controld.

Both the gateway-role tests (tests_portal.sh) and the golden-frame tests
(tests_fidelity.sh) replace fzc-tunneld with a small program that speaks the
IPC format; this module is what they share: the message numbers read from
ipc/ipc.h, starting controld as the fzc user with its IPC socket on fd 3 and
the control socket on fd 4, the portal configuration and the token, and the
answers every such stand-in gives (sockets, statistics).
"""
import array, fcntl, os, pwd, re, socket, struct, threading, time


class Ipc:
    def __init__(self, ipc_h):
        self.T = {}
        for m in re.finditer(r"^\s+(IPC_[A-Z0-9_]+) = (\d+),",
                             open(ipc_h).read(), re.M):
            self.T.setdefault(m.group(1), int(m.group(2)))
        T = self.T
        self.NAME = {v: k for k, v in T.items()
                     if not k.startswith("IPC_PEER")}
        # What controld waits to see acknowledged with IPC_STATE_ACK.
        self.STATE = set(range(T["IPC_TUN_ADDRESSES"], T["IPC_STATE_ACK"])) \
            | set(range(T["IPC_CLIENT_PEER"], T["IPC_AUTHZ_KEEP"] + 1)) \
            | {T["IPC_INTERNET_SET"]}
        self.sock = None
        self.pid = None
        self._lock = threading.Lock()

    def start_controld(self, controld, ctlsock):
        """Bind the control socket as tunneld does and run controld."""
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pw = pwd.getpwnam("fzc")
        ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ls.bind(ctlsock)
        os.chown(ctlsock, 0, pw.pw_gid)
        os.chmod(ctlsock, 0o660)
        ls.listen(16)
        pid = os.fork()
        if pid == 0:
            i = fcntl.fcntl(b.fileno(), fcntl.F_DUPFD, 10)
            c = fcntl.fcntl(ls.fileno(), fcntl.F_DUPFD, 10)
            os.dup2(i, 3)
            os.dup2(c, 4)
            os.closerange(5, 1024)
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
            os.execv(controld, [controld, "--control-socket", ctlsock,
                                "--log-level", "debug"])
        b.close()
        ls.close()
        self.sock, self.pid = a, pid

    def send(self, t, payload, id_=0, fd=None):
        m = struct.pack("=HHIII", t, 1, len(payload), id_, 0) + payload
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                array.array("i", [fd]))] if fd is not None else []
        with self._lock:
            self.sock.sendmsg([m], anc)

    def hello(self):
        self.send(self.T["IPC_HELLO"], struct.pack("=IIQ", os.getpid(), 0,
                                                   int(time.time())))

    def recv(self):
        """The next message as (type, payload, id), or None at the end."""
        try:
            data, _, _, _ = self.sock.recvmsg(8192, socket.CMSG_SPACE(16))
        except OSError:
            return None
        if not data:
            return None
        t, _, n, id_, _ = struct.unpack_from("=HHIII", data)
        return t, data[16:16 + n], id_

    def configure(self, api, ca, name, gateway, token):
        """Answer controld's hello: the portal's configuration, the token."""
        cfg = (api.encode().ljust(512, b"\0") + ca.encode().ljust(256, b"\0")
               + name.encode().ljust(256, b"\0")
               + b"0e1d2c3b-4a59-4687-9a5b-6c7d8e9f0a1b".ljust(40, b"\0")
               + bytes(range(32)) + bytes([1 if gateway else 0]) + bytes(7))
        self.send(self.T["IPC_PORTAL_CONFIG"], cfg)
        r, w = os.pipe()
        os.write(w, token.encode() + b"\n")
        os.close(w)
        self.send(self.T["IPC_TOKEN"], bytes(4), fd=r)
        os.close(r)

    def answer(self, t, p, id_):
        """Give a socket or empty statistics; False for other messages."""
        if t == self.T["IPC_SOCKET_REQUEST"]:
            fam, typ = struct.unpack("=ii", p)
            s = socket.socket(fam, typ)
            self.send(self.T["IPC_SOCKET"],
                      struct.pack("=iiII", fam, typ, 0, 0), id_, s.fileno())
            s.close()
        elif t == self.T["IPC_STATS_REQUEST"]:
            self.send(self.T["IPC_STATS_END"], bytes(4), id_)
        else:
            return False
        return True


def cstr(b):
    return b.split(b"\0", 1)[0].decode()
