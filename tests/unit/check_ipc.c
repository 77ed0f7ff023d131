/* check_ipc.c: the IPC codec, its rejections and fd passing. */
#include <sys/socket.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/ipc.h"

static int	sv[2];

static void
setup(void)
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC,
	    0, sv), 0);
}

static void
teardown(void)
{
	close(sv[0]);
	close(sv[1]);
}

static int
count_fds(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	ck_assert_ptr_nonnull(d = opendir("/proc/self/fd"));
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return (n);
}

/* Raw sendmsg, so that tests can send what ipc_send never would. */
static void
send_raw(const void *buf, size_t len, const int *fds, size_t nfds)
{
	char		 cbuf[CMSG_SPACE(8 * sizeof(int))];
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*cmsg;

	memset(&mh, 0, sizeof(mh));
	memset(cbuf, 0, sizeof(cbuf));
	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cmsg), fds, nfds * sizeof(int));
	}
	ck_assert_int_eq(sendmsg(sv[0], &mh, 0), (ssize_t)len);
}

/* Every message type, valid, with the side that receives it. */
static const struct sample {
	enum ipc_type	 type;
	enum ipc_peer	 receiver;
	int		 with_fd;
	size_t		 len;
	union ipc_payload u;
} samples[] = {
	{ IPC_HELLO, IPC_PEER_TUNNELD, 0, sizeof(struct ipc_hello),
	    { .hello = { 4242, 0, 1700000000 } } },
	{ IPC_HELLO, IPC_PEER_CONTROLD, 0, sizeof(struct ipc_hello),
	    { .hello = { 17, 3, 1800000000 } } },
	{ IPC_SOCKET_REQUEST, IPC_PEER_TUNNELD, 0,
	    sizeof(struct ipc_socket_request),
	    { .socket_request = { AF_INET6, SOCK_STREAM } } },
	{ IPC_SOCKET, IPC_PEER_CONTROLD, 1, sizeof(struct ipc_socket),
	    { .socket = { AF_INET, SOCK_DGRAM, 0x667a63, 0 } } },
	{ IPC_SOCKET_FAILED, IPC_PEER_CONTROLD, 0,
	    sizeof(struct ipc_socket_failed),
	    { .socket_failed = { EMFILE } } },
	{ IPC_WG_FILE, IPC_PEER_CONTROLD, 1, sizeof(struct ipc_wg_file),
	    { .wg_file = { "/etc/wireguard/wg0.conf" } } },
	{ IPC_WG_ERROR, IPC_PEER_TUNNELD, 0, sizeof(struct ipc_wg_error),
	    { .wg_error = { "wg0.conf:3: PrivateKey is not a valid key" } } },
	{ IPC_WG_INTERFACE, IPC_PEER_TUNNELD, 0,
	    sizeof(struct ipc_wg_interface),
	    { .wg_interface = { { 1, 2, 3 }, 51820, 1280, 2, 1, 0 } } },
	{ IPC_WG_ADDRESS, IPC_PEER_TUNNELD, 0, sizeof(struct ipc_wg_address),
	    { .wg_address = { { AF_INET, 24, { 0 }, { 10, 1, 2, 0 } } } } },
	{ IPC_WG_PEER, IPC_PEER_TUNNELD, 0, sizeof(struct ipc_wg_peer),
	    { .wg_peer = { 3, { 9 }, { 8 }, 1, 0, 25,
	    { AF_INET6, 51820, 0, { 0xfd, [15] = 1 } } } } },
	{ IPC_WG_ALLOWED_IP, IPC_PEER_TUNNELD, 0,
	    sizeof(struct ipc_wg_allowed_ip),
	    { .wg_allowed_ip = { 3, { AF_INET6, 64, { 0 }, { 0xfd } } } } },
	{ IPC_WG_COMMIT, IPC_PEER_TUNNELD, 0, sizeof(struct ipc_empty),
	    { .empty = { 0 } } },
	{ IPC_STATS_REQUEST, IPC_PEER_TUNNELD, 0, sizeof(struct ipc_empty),
	    { .empty = { 0 } } },
	{ IPC_PEER_STATS, IPC_PEER_CONTROLD, 0, sizeof(struct ipc_peer_stats),
	    { .peer_stats = { 1, 1, { 7 }, { AF_INET, 9, 0, { 10, 0, 0, 1 } },
	    1700000000, 100, 200, 0 } } },
	{ IPC_WORKER_STATS, IPC_PEER_CONTROLD, 0,
	    sizeof(struct ipc_worker_stats),
	    { .worker_stats = { 1, 0, 10, 20, 30, 40, 5, 6, 0, { 1, 2 } } } },
	{ IPC_STATS_END, IPC_PEER_CONTROLD, 0, sizeof(struct ipc_empty),
	    { .empty = { 0 } } },
	{ IPC_PORTAL_CONFIG, IPC_PEER_CONTROLD, 0,
	    sizeof(struct ipc_portal_config),
	    { .portal_config = { "wss://api.example.test", "", "box",
	    "5c0a4d62-3f1e-4a2b-9c1d-2e3f4a5b6c7d", { 1 } } } },
	{ IPC_TOKEN, IPC_PEER_CONTROLD, 1, sizeof(struct ipc_empty),
	    { .empty = { 0 } } },
	{ IPC_TOKEN_DELETE, IPC_PEER_TUNNELD, 0, sizeof(struct ipc_empty),
	    { .empty = { 0 } } },
	{ IPC_TOKEN_STORE, IPC_PEER_TUNNELD, 0, sizeof(struct ipc_token),
	    { .token = { "SFMyNTY.g2gDaAJtAAAAJDA" } } },
	{ IPC_TOKEN_RESULT, IPC_PEER_CONTROLD, 0,
	    sizeof(struct ipc_token_result),
	    { .token_result = { EACCES, 1 } } },
	{ IPC_TUN_ADDRESSES, IPC_PEER_TUNNELD, 0,
	    sizeof(struct ipc_tun_addresses),
	    { .tun_addresses = { { AF_INET, 32, { 0 }, { 100, 64, 0, 7 } },
	    { AF_INET6, 128, { 0 }, { 0xfd, 0, 0x20, 0x21, [15] = 7 } } } } },
	{ IPC_ROUTE_ADD, IPC_PEER_TUNNELD, 0, sizeof(struct ipc_route),
	    { .route = { "a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7a", { AF_INET, 16, { 0 }, { 10, 5 } } } } },
	{ IPC_ROUTE_DEL, IPC_PEER_TUNNELD, 0, sizeof(struct ipc_route),
	    { .route = { "a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7a", { AF_INET, 16, { 0 }, { 10, 5 } } } } },
	{ IPC_RELAY_ADD, IPC_PEER_TUNNELD, 0, sizeof(struct ipc_relay),
	    { .relay = { "6b7d1f52-2c0e-4a8e-9d40-0c1b2d3e4f50", { AF_INET, 3478, 0, { 10, 0, 0, 9 } },
	    "1700000000:fz", "secret", 1700000000 } } },
	{ IPC_RELAY_DEL, IPC_PEER_TUNNELD, 0, sizeof(struct ipc_relay_id),
	    { .relay_id = { "6b7d1f52-2c0e-4a8e-9d40-0c1b2d3e4f50" } } },
	{ IPC_STATE_ACK, IPC_PEER_CONTROLD, 0, sizeof(struct ipc_state_ack),
	    { .state_ack = { IPC_ROUTE_ADD, 0 } } },
	{ IPC_GATEWAY_PEER, IPC_PEER_TUNNELD, 0,
	    sizeof(struct ipc_gateway_peer),
	    { .gateway_peer = { "77aa11bb-22cc-4d33-8e44-55ff66aa77bb", "a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7a", { 4 }, { 5 },
	    { AF_INET, 32, { 0 }, { 100, 82, 5, 17 } },
	    { AF_INET6, 128, { 0 }, { 0xfd, [15] = 3 } },
	    "cufrag", "cpassword-0123456789012", "gufrag",
	    "gpassword-0123456789012" } } },
	{ IPC_REMOTE_CANDIDATE, IPC_PEER_TUNNELD, 0,
	    sizeof(struct ipc_candidate),
	    { .candidate = { "77aa11bb-22cc-4d33-8e44-55ff66aa77bb",
	    "candidate:1 1 udp 2130706431 10.0.0.2 52625 typ host" } } },
	{ IPC_REMOTE_CANDIDATE_DEL, IPC_PEER_TUNNELD, 0,
	    sizeof(struct ipc_candidate),
	    { .candidate = { "77aa11bb-22cc-4d33-8e44-55ff66aa77bb",
	    "candidate:1 1 udp 2130706431 10.0.0.2 52625 typ host" } } },
	{ IPC_NEED_AUTHZ, IPC_PEER_CONTROLD, 0, sizeof(struct ipc_resource_id),
	    { .resource_id = { "a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7a" } } },
	{ IPC_LOCAL_CANDIDATE, IPC_PEER_CONTROLD, 0,
	    sizeof(struct ipc_candidate),
	    { .candidate = { "77aa11bb-22cc-4d33-8e44-55ff66aa77bb",
	    "candidate:2 1 udp 1694498815 192.0.2.1 52625 typ srflx raddr "
	    "10.0.0.1 rport 52625" } } },
	{ IPC_LOCAL_CANDIDATE_DEL, IPC_PEER_CONTROLD, 0,
	    sizeof(struct ipc_candidate),
	    { .candidate = { "77aa11bb-22cc-4d33-8e44-55ff66aa77bb",
	    "candidate:2 1 udp 1694498815 192.0.2.1 52625 typ srflx" } } },
	{ IPC_NO_RELAYS, IPC_PEER_CONTROLD, 0, sizeof(struct ipc_gateway_id),
	    { .gateway_id = { "77aa11bb-22cc-4d33-8e44-55ff66aa77bb" } } },
};
#define NSAMPLES	(sizeof(samples) / sizeof(samples[0]))

START_TEST(test_encode_decode)
{
	const struct sample	*s = &samples[_i];
	uint8_t			 buf[IPC_MSG_MAX];
	struct ipc_msg		 msg;
	const char		*why = NULL;
	size_t			 n;

	n = ipc_encode(buf, sizeof(buf), s->type, 77 + _i, &s->u, s->len);
	ck_assert_uint_eq(n, sizeof(struct ipc_hdr) + s->len);
	ck_assert_int_eq(ipc_decode(s->receiver, buf, n, s->with_fd, &msg,
	    &why), 0);
	ck_assert_ptr_null(why);
	ck_assert_uint_eq(msg.hdr.type, s->type);
	ck_assert_uint_eq(msg.hdr.version, IPC_VERSION);
	ck_assert_uint_eq(msg.hdr.id, 77 + _i);
	ck_assert_uint_eq(msg.hdr.len, s->len);
	ck_assert_mem_eq(&msg.u, &s->u, s->len);
	ck_assert_str_ne(ipc_type_name(s->type), "IPC_UNKNOWN");
}
END_TEST

START_TEST(test_send_recv)
{
	const struct sample	*s = &samples[_i];
	struct ipc_msg		 msg;
	const char		*why;
	int			 p[2] = { -1, -1 }, fd = -1, before;
	char			 c = 0;

	before = count_fds();
	if (s->with_fd) {
		ck_assert_int_eq(pipe(p), 0);
		fd = p[1];
	}
	ck_assert_int_eq(ipc_send(sv[0], s->type, 9, &s->u, s->len, fd), 0);
	ck_assert_int_eq(ipc_recv(sv[1], s->receiver, &msg, &why),
	    IPC_RECV_OK);
	ck_assert_uint_eq(msg.hdr.type, s->type);
	ck_assert_mem_eq(&msg.u, &s->u, s->len);
	if (s->with_fd) {
		/* The received descriptor is the same pipe, and works. */
		ck_assert_int_ge(msg.fd, 0);
		ck_assert_int_ne(msg.fd, p[1]);
		ck_assert_int_eq(fcntl(msg.fd, F_GETFD) & FD_CLOEXEC,
		    FD_CLOEXEC);
		ck_assert_int_eq(write(msg.fd, "x", 1), 1);
		ck_assert_int_eq(read(p[0], &c, 1), 1);
		ck_assert_int_eq(c, 'x');
		close(msg.fd);
		close(p[0]);
		close(p[1]);
	} else
		ck_assert_int_eq(msg.fd, -1);
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

enum { NO_FD, ONE_FD, TWO_FDS, FOUR_FDS };

static const struct bad {
	const char	*what;
	const char	*reason;	/* part of the logged reason */
	enum ipc_peer	 receiver;
	uint16_t	 type;
	uint16_t	 version;
	uint32_t	 hdrlen_delta;	/* added to the true payload length */
	size_t		 payload;	/* bytes actually sent after header */
	uint32_t	 reserved;
	int		 fds;
	int32_t		 f0, f1;	/* first payload words */
} bads[] = {
	{ "unknown type", "unknown message type", IPC_PEER_TUNNELD, 1000, IPC_VERSION, 0, 16, 0,
	    NO_FD, 1, 0 },
	{ "type NONE", "unknown message type", IPC_PEER_TUNNELD, IPC_NONE, IPC_VERSION, 0, 0, 0,
	    NO_FD, 0, 0 },
	{ "wrong version", "version", IPC_PEER_TUNNELD, IPC_HELLO, IPC_VERSION + 1, 0,
	    sizeof(struct ipc_hello), 0, NO_FD, 1, 0 },
	{ "payload too long", "wrong payload length", IPC_PEER_TUNNELD, IPC_HELLO, IPC_VERSION, 0,
	    sizeof(struct ipc_hello) + 4, 0, NO_FD, 1, 0 },
	{ "payload too short", "wrong payload length", IPC_PEER_TUNNELD, IPC_HELLO, IPC_VERSION, 0,
	    sizeof(struct ipc_hello) - 4, 0, NO_FD, 1, 0 },
	{ "header length lies", "header length disagrees", IPC_PEER_TUNNELD, IPC_HELLO, IPC_VERSION, 4,
	    sizeof(struct ipc_hello), 0, NO_FD, 1, 0 },
	{ "shorter than header", "shorter than the header", IPC_PEER_TUNNELD, IPC_HELLO, IPC_VERSION, 0,
	    (size_t)-8, 0, NO_FD, 1, 0 },
	{ "reserved header field", "reserved header", IPC_PEER_TUNNELD, IPC_HELLO, IPC_VERSION,
	    0, sizeof(struct ipc_hello), 1, NO_FD, 1, 0 },
	{ "wrong direction", "direction", IPC_PEER_CONTROLD, IPC_SOCKET_REQUEST,
	    IPC_VERSION, 0, sizeof(struct ipc_socket_request), 0, NO_FD,
	    AF_INET, SOCK_DGRAM },
	{ "wrong direction with fd", "direction", IPC_PEER_TUNNELD, IPC_SOCKET,
	    IPC_VERSION, 0, sizeof(struct ipc_socket), 0, ONE_FD, AF_INET,
	    SOCK_DGRAM },
	{ "fd on a type that takes none", "takes none", IPC_PEER_TUNNELD, IPC_HELLO,
	    IPC_VERSION, 0, sizeof(struct ipc_hello), 0, ONE_FD, 1, 0 },
	{ "no fd where one is required", "expected but absent", IPC_PEER_CONTROLD, IPC_SOCKET,
	    IPC_VERSION, 0, sizeof(struct ipc_socket), 0, NO_FD, AF_INET,
	    SOCK_DGRAM },
	{ "two fds", "more than one fd", IPC_PEER_CONTROLD, IPC_SOCKET, IPC_VERSION, 0,
	    sizeof(struct ipc_socket), 0, TWO_FDS, AF_INET, SOCK_DGRAM },
	{ "control data truncated", "control data truncated", IPC_PEER_CONTROLD, IPC_SOCKET,
	    IPC_VERSION, 0, sizeof(struct ipc_socket), 0, FOUR_FDS, AF_INET,
	    SOCK_DGRAM },
	{ "message truncated", "message truncated", IPC_PEER_TUNNELD, IPC_HELLO, IPC_VERSION, 0,
	    IPC_MAX_PAYLOAD + 64, 0, ONE_FD, 1, 0 },
	{ "hello pid 0", "pid 0", IPC_PEER_TUNNELD, IPC_HELLO, IPC_VERSION, 0,
	    sizeof(struct ipc_hello), 0, NO_FD, 0, 0 },
	{ "socket family AF_UNIX", "family", IPC_PEER_TUNNELD, IPC_SOCKET_REQUEST,
	    IPC_VERSION, 0, sizeof(struct ipc_socket_request), 0, NO_FD,
	    AF_UNIX, SOCK_DGRAM },
	{ "socket type SOCK_RAW", "type not", IPC_PEER_TUNNELD, IPC_SOCKET_REQUEST,
	    IPC_VERSION, 0, sizeof(struct ipc_socket_request), 0, NO_FD,
	    AF_INET, SOCK_RAW },
	{ "socket failed errno 0", "out of range", IPC_PEER_CONTROLD, IPC_SOCKET_FAILED,
	    IPC_VERSION, 0, sizeof(struct ipc_socket_failed), 0, NO_FD, 0,
	    0 },
	{ "wg error with control characters", "control characters",
	    IPC_PEER_TUNNELD, IPC_WG_ERROR, IPC_VERSION, 0,
	    sizeof(struct ipc_wg_error), 0, NO_FD, 0x1b414141, 0 },
	{ "wg allowed ip /33", "invalid prefix", IPC_PEER_TUNNELD,
	    IPC_WG_ALLOWED_IP, IPC_VERSION, 0,
	    sizeof(struct ipc_wg_allowed_ip), 0, NO_FD, 0,
	    AF_INET | 33 << 8 },
	{ "wg address family", "invalid address", IPC_PEER_TUNNELD,
	    IPC_WG_ADDRESS, IPC_VERSION, 0, sizeof(struct ipc_wg_address), 0,
	    NO_FD, 99, 0 },
	{ "wg peer id too big", "id out of range", IPC_PEER_TUNNELD,
	    IPC_WG_PEER, IPC_VERSION, 0, sizeof(struct ipc_wg_peer), 0,
	    NO_FD, IPC_WG_MAX_PEERS, 0 },
	{ "wg interface mtu 0", "out of range", IPC_PEER_TUNNELD,
	    IPC_WG_INTERFACE, IPC_VERSION, 0,
	    sizeof(struct ipc_wg_interface), 0, NO_FD, 0, 0 },
	{ "commit reserved", "reserved", IPC_PEER_TUNNELD, IPC_WG_COMMIT,
	    IPC_VERSION, 0, sizeof(struct ipc_empty), 0, NO_FD, 1, 0 },
	{ "stats from the wrong side", "direction", IPC_PEER_TUNNELD,
	    IPC_PEER_STATS, IPC_VERSION, 0, sizeof(struct ipc_peer_stats), 0,
	    NO_FD, 0, 0 },
	{ "empty token", "empty token", IPC_PEER_TUNNELD, IPC_TOKEN_STORE,
	    IPC_VERSION, 0, sizeof(struct ipc_token), 0, NO_FD, 0, 0 },
	{ "token without fd", "expected but absent", IPC_PEER_CONTROLD,
	    IPC_TOKEN, IPC_VERSION, 0, sizeof(struct ipc_empty), 0, NO_FD, 0,
	    0 },
	{ "tunnel address not /32", "not an IPv4 /32", IPC_PEER_TUNNELD,
	    IPC_TUN_ADDRESSES, IPC_VERSION, 0,
	    sizeof(struct ipc_tun_addresses), 0, NO_FD, AF_INET | 24 << 8,
	    0 },
	{ "ack of a foreign type", "out of range", IPC_PEER_CONTROLD,
	    IPC_STATE_ACK, IPC_VERSION, 0, sizeof(struct ipc_state_ack), 0,
	    NO_FD, IPC_HELLO, 0 },
	{ "resource id not a UUID", "not a UUID", IPC_PEER_CONTROLD,
	    IPC_NEED_AUTHZ, IPC_VERSION, 0, sizeof(struct ipc_resource_id), 0,
	    NO_FD, 0x31313131, 0 },
	{ "socket failed errno huge", "out of range", IPC_PEER_CONTROLD, IPC_SOCKET_FAILED,
	    IPC_VERSION, 0, sizeof(struct ipc_socket_failed), 0, NO_FD,
	    100000, 0 },
};
#define NBADS	(sizeof(bads) / sizeof(bads[0]))

START_TEST(test_reject)
{
	const struct bad	*b = &bads[_i];
	uint8_t			 buf[IPC_MSG_MAX + 128];
	struct ipc_hdr		 hdr;
	struct ipc_msg		 msg;
	const char		*why = NULL;
	int			 fds[4], nfds = 0, i, before;
	size_t			 len;

	before = count_fds();
	memset(buf, 0, sizeof(buf));
	memset(&hdr, 0, sizeof(hdr));
	hdr.type = b->type;
	hdr.version = b->version;
	hdr.reserved = b->reserved;
	if (b->payload == (size_t)-8) {
		len = sizeof(hdr) - 8;
		hdr.len = 0;
	} else {
		len = sizeof(hdr) + b->payload;
		hdr.len = (uint32_t)b->payload + b->hdrlen_delta;
	}
	memcpy(buf, &hdr, sizeof(hdr));
	memcpy(buf + sizeof(hdr), &b->f0, sizeof(b->f0));
	memcpy(buf + sizeof(hdr) + 4, &b->f1, sizeof(b->f1));
	if (b->type == IPC_HELLO)	/* pid is the first word */
		memcpy(buf + sizeof(hdr), &b->f0, sizeof(b->f0));
	nfds = b->fds == ONE_FD ? 1 : b->fds == TWO_FDS ? 2 :
	    b->fds == FOUR_FDS ? 4 : 0;
	for (i = 0; i < nfds; i++)
		ck_assert_int_ge(fds[i] = open("/dev/null", O_RDONLY), 0);
	send_raw(buf, len, fds, (size_t)nfds);
	for (i = 0; i < nfds; i++)
		close(fds[i]);

	ck_assert_int_eq(ipc_recv(sv[1], b->receiver, &msg, &why),
	    IPC_RECV_MALFORMED);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, b->reason) != NULL, "%s: got \"%s\"",
	    b->what, why);
	ck_assert_int_eq(msg.fd, -1);
	/* Whatever descriptors came with the message are closed again. */
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

START_TEST(test_eof)
{
	struct ipc_msg	 msg;
	const char	*why;

	close(sv[0]);
	sv[0] = open("/dev/null", O_RDONLY);
	ck_assert_int_eq(ipc_recv(sv[1], IPC_PEER_TUNNELD, &msg, &why),
	    IPC_RECV_EOF);
}
END_TEST

START_TEST(test_nothing_pending)
{
	struct ipc_msg	 msg;
	const char	*why;

	ck_assert_int_eq(ipc_recv(sv[1], IPC_PEER_TUNNELD, &msg, &why),
	    IPC_RECV_ERROR);
	ck_assert_int_eq(errno, EAGAIN);
}
END_TEST

START_TEST(test_encode_limits)
{
	uint8_t	 buf[IPC_MSG_MAX];
	uint8_t	 big[IPC_MAX_PAYLOAD + 1];

	memset(big, 0, sizeof(big));
	ck_assert_uint_eq(ipc_encode(buf, sizeof(buf), IPC_HELLO, 0, big,
	    sizeof(big)), 0);
	ck_assert_uint_eq(ipc_encode(buf, 8, IPC_HELLO, 0, big, 0), 0);
	ck_assert_int_eq(ipc_send(sv[0], IPC_HELLO, 0, big, sizeof(big), -1),
	    -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_str_eq(ipc_type_name(IPC_SOCKET), "IPC_SOCKET");
	ck_assert_str_eq(ipc_type_name(12345), "IPC_UNKNOWN");
	ck_assert_str_eq(ipc_type_name(IPC_NONE), "IPC_UNKNOWN");
}
END_TEST

START_TEST(test_prefixes)
{
	static const struct {
		struct ipc_prefix	p;
		int			address, prefix;
	} t[] = {
		{ { AF_INET, 24, { 0 }, { 10, 1, 2, 0 } }, 1, 1 },
		{ { AF_INET, 24, { 0 }, { 10, 1, 2, 3 } }, 1, 0 },
		{ { AF_INET, 23, { 0 }, { 10, 1, 3, 0 } }, 1, 0 },
		{ { AF_INET, 32, { 0 }, { 10, 1, 2, 3 } }, 1, 1 },
		{ { AF_INET, 0, { 0 }, { 0 } }, 1, 1 },
		{ { AF_INET, 33, { 0 }, { 0 } }, 0, 0 },
		{ { AF_INET, 8, { 0 }, { 10, [4] = 1 } }, 0, 0 },
		{ { AF_INET, 8, { 1 }, { 10 } }, 0, 0 },
		{ { AF_INET6, 64, { 0 }, { 0xfd, [7] = 1 } }, 1, 1 },
		{ { AF_INET6, 64, { 0 }, { 0xfd, [8] = 1 } }, 1, 0 },
		{ { AF_INET6, 127, { 0 }, { [15] = 1 } }, 1, 0 },
		{ { AF_INET6, 128, { 0 }, { [15] = 1 } }, 1, 1 },
		{ { AF_INET6, 129, { 0 }, { 0 } }, 0, 0 },
		{ { AF_UNIX, 0, { 0 }, { 0 } }, 0, 0 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ck_assert_msg(ipc_address_valid(&t[i].p) == t[i].address,
		    "address case %zu", i);
		ck_assert_msg(ipc_prefix_valid(&t[i].p) == t[i].prefix,
		    "prefix case %zu", i);
	}
}
END_TEST

static int	wants;

static void
count_want(void *arg)
{
	(void)arg;
	wants++;
}

/* Nothing is lost or reordered when the socket is full; fds survive. */
START_TEST(test_chan_queue)
{
	struct ipc_chan		 ch;
	struct ipc_hello	 h;
	struct ipc_msg		 msg;
	const char		*why;
	int			 small = 4096, i, n, rc, p[2], before;
	char			 c;

	before = count_fds();
	ck_assert_int_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small,
	    sizeof(small)), 0);
	wants = 0;
	ipc_chan_init(&ch, sv[0], count_want, NULL);
	memset(&h, 0, sizeof(h));
	for (i = 0; i < 2000; i++) {
		h.pid = (uint32_t)i + 1;
		ck_assert_int_eq(ipc_chan_send(&ch, IPC_HELLO, (uint32_t)i,
		    &h, sizeof(h), -1), 0);
	}
	ck_assert_ptr_nonnull(ch.head);
	ck_assert_int_eq(wants, 1);
	/* A queued fd is our duplicate: the caller may close its own. */
	ck_assert_int_eq(pipe(p), 0);
	memset(&msg, 0, sizeof(msg));
	ck_assert_int_eq(ipc_chan_send(&ch, IPC_SOCKET, 2000, &samples[3].u,
	    sizeof(struct ipc_socket), p[1]), 0);
	close(p[1]);
	n = 0;
	for (;;) {
		rc = ipc_chan_flush(&ch);
		ck_assert_int_ne(rc, -1);
		while (ipc_recv(sv[1], IPC_PEER_CONTROLD, &msg, &why) ==
		    IPC_RECV_OK) {
			ck_assert_uint_eq(msg.hdr.id, (uint32_t)n);
			if (n < 2000)
				ck_assert_uint_eq(msg.u.hello.pid,
				    (uint32_t)n + 1);
			else {
				ck_assert_int_eq(write(msg.fd, "q", 1), 1);
				ck_assert_int_eq(read(p[0], &c, 1), 1);
				ck_assert_int_eq(c, 'q');
				close(msg.fd);
			}
			n++;
		}
		if (rc == 0)
			break;
	}
	ck_assert_int_eq(n, 2001);
	ck_assert_ptr_null(ch.head);
	ck_assert_uint_eq(ch.bytes, 0);
	close(p[0]);
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

/* A broken channel reports the error; what was queued is freed. */
START_TEST(test_chan_broken)
{
	struct ipc_chan		 ch;
	struct ipc_hello	 h = { 1, 0, 0 };

	ipc_chan_init(&ch, sv[0], NULL, NULL);
	close(sv[1]);
	sv[1] = open("/dev/null", O_RDONLY);
	ck_assert_int_eq(ipc_chan_send(&ch, IPC_HELLO, 0, &h, sizeof(h), -1),
	    -1);
	ck_assert_int_eq(errno, EPIPE);
	ipc_chan_clear(&ch);
}
END_TEST

static Suite *
ipc_suite(void)
{
	Suite	*s = suite_create("ipc");
	TCase	*tc;

	tc = tcase_create("codec");
	tcase_add_loop_test(tc, test_encode_decode, 0, NSAMPLES);
	tcase_add_test(tc, test_prefixes);
	suite_add_tcase(s, tc);

	tc = tcase_create("socket");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_send_recv, 0, NSAMPLES);
	tcase_add_loop_test(tc, test_reject, 0, NBADS);
	tcase_add_test(tc, test_eof);
	tcase_add_test(tc, test_nothing_pending);
	tcase_add_test(tc, test_encode_limits);
	tcase_add_test(tc, test_chan_queue);
	tcase_add_test(tc, test_chan_broken);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(ipc_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
