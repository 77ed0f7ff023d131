/* check_ipc.c: the IPC codec, its rejections and fd passing. */
#include <sys/socket.h>

#include <netinet/in.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/ipc.h"
#include "tests/unit/check_main.h"

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

/* A table, a message a line or two: clang-format would reflow it. */
/* clang-format off */
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
	{ IPC_PEER_STATS, IPC_PEER_CONTROLD, 0, sizeof(struct ipc_peer_stats),
	    { .peer_stats = { 2, 2, { 7 }, { AF_INET, 3478, 0, { 10, 0, 0, 9 } },
	    1700000000, 100, 200, 0 } } },
	{ IPC_WORKER_STATS, IPC_PEER_CONTROLD, 0,
	    sizeof(struct ipc_worker_stats),
	    { .worker_stats = { 1, 0, 10, 20, 30, 40, 5, 6, 0, { 1, 2 } } } },
	{ IPC_STATS_END, IPC_PEER_CONTROLD, 0, sizeof(struct ipc_empty),
	    { .empty = { 0 } } },
	{ IPC_RELAY_STATS, IPC_PEER_CONTROLD, 0,
	    sizeof(struct ipc_relay_stats),
	    { .relay_stats = { "0f6a8c1e-5b8e-4d5f-9a3c-11a2b3c4d5e6",
	    { AF_INET, 3478, 0, { 10, 0, 0, 9 } }, 3, 0, 1, 1, 1200,
	    { AF_INET, 40000, 0, { 10, 0, 0, 2 } },
	    { { AF_INET, 50000, 0, { 10, 0, 0, 9 } } } } } },
	{ IPC_PORTAL_CONFIG, IPC_PEER_CONTROLD, 0,
	    sizeof(struct ipc_portal_config),
	    { .portal_config = { "wss://api.example.test", "", "box",
	    "5c0a4d62-3f1e-4a2b-9c1d-2e3f4a5b6c7d", { 1 } } } },
	{ IPC_PORTAL_CONFIG, IPC_PEER_CONTROLD, 0,
	    sizeof(struct ipc_portal_config),
	    { .portal_config = { "wss://api.example.test", "", "gw-1",
	    "5c0a4d62-3f1e-4a2b-9c1d-2e3f4a5b6c7d", { 1 },
	    IPC_ROLE_GATEWAY } } },
	{ IPC_PORTAL_CONFIG, IPC_PEER_CONTROLD, 0,
	    sizeof(struct ipc_portal_config),
	    { .portal_config = { "wss://api.example.test", "", "box",
	    "5c0a4d62-3f1e-4a2b-9c1d-2e3f4a5b6c7d", { 1 },
	    IPC_ROLE_CLIENT, 1, IPC_DNS_CONTROL_RESOLV_CONF } } },
	{ IPC_INTERNET_SET, IPC_PEER_TUNNELD, 0, sizeof(struct ipc_internet),
	    { .internet = { 1, { 0 } } } },
	{ IPC_AUTHZ_FAILED, IPC_PEER_TUNNELD, 0,
	    sizeof(struct ipc_resource_id),
	    { .resource_id = { "0f6a8c1e-5b8e-4d5f-9a3c-11a2b3c4d5e6" } } },
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
	{ IPC_PEER_PATH, IPC_PEER_CONTROLD, 0, sizeof(struct ipc_peer_path),
	    { .peer_path = { "77aa11bb-22cc-4d33-8e44-55ff66aa77bb", { 4 },
	    IPC_PATH_RELAYED, 1, { 0 },
	    { AF_INET, 3478, 0, { 10, 0, 0, 9 } } } } },
	{ IPC_PEER_PATH, IPC_PEER_CONTROLD, 0, sizeof(struct ipc_peer_path),
	    { .peer_path = { "77aa11bb-22cc-4d33-8e44-55ff66aa77bb", { 4 },
	    IPC_PATH_LOST } } },
	{ IPC_NETWORK_CHANGED, IPC_PEER_CONTROLD, 0,
	    sizeof(struct ipc_network_changed),
	    { .network_changed = { IPC_NET_RESUME, 0 } } },
	{ IPC_SETTINGS_SET, IPC_PEER_TUNNELD, 0, sizeof(struct ipc_settings),
	    { .settings = { "wss://portal.example.com/api", "", 4 } } },
	{ IPC_SETTINGS_SET, IPC_PEER_TUNNELD, 0, sizeof(struct ipc_settings),
	    { .settings = { "", "", IPC_LOG_DEFAULT } } },
	{ IPC_SETTINGS, IPC_PEER_CONTROLD, 0, sizeof(struct ipc_settings),
	    { .settings = { "ws://127.0.0.1:8080", "wss://api.firezone.dev",
	    IPC_LOG_DEFAULT, 3 } } },
	{ IPC_CLIENT_PEER, IPC_PEER_TUNNELD, 0,
	    sizeof(struct ipc_client_peer),
	    { .client_peer = { "d2b6f1a0-3c4e-4f5a-9b8c-7d6e5f4a3b2c", { 4 },
	    { 5 }, { AF_INET, 32, { 0 }, { 100, 71, 34, 9 } },
	    { AF_INET6, 128, { 0 }, { 0xfd, [15] = 9 } },
	    "gufrag", "gpassword-0123456789012", "cufrag",
	    "cpassword-0123456789012", 1767225600,
	    { "a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7a", IPC_RES_CIDR, 3, { 0 },
	    { AF_INET, 16, { 0 }, { 10, 20 } },
	    { { IPPROTO_TCP, 0, 443, 443 }, { IPPROTO_UDP, 0, 0, 65535 },
	    { IPPROTO_ICMP, 0, 0, 0 } } } } } },
	{ IPC_CLIENT_PEER, IPC_PEER_TUNNELD, 0,
	    sizeof(struct ipc_client_peer),
	    { .client_peer = { "d2b6f1a0-3c4e-4f5a-9b8c-7d6e5f4a3b2c", { 4 },
	    { 5 }, { AF_INET, 32, { 0 }, { 100, 71, 34, 9 } },
	    { AF_INET6, 128, { 0 }, { 0xfd, [15] = 9 } },
	    "gufrag", "gpassword-0123456789012", "cufrag",
	    "cpassword-0123456789012", 1,
	    { "c3b2a190-8f7e-4d6c-b5a4-93827160f5e4", IPC_RES_INTERNET } } } },
	{ IPC_ACCESS_DEL, IPC_PEER_TUNNELD, 0, sizeof(struct ipc_access),
	    { .access = { "d2b6f1a0-3c4e-4f5a-9b8c-7d6e5f4a3b2c",
	    "a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7a" } } },
	{ IPC_GW_RESOURCE, IPC_PEER_TUNNELD, 0, sizeof(struct ipc_gw_resource),
	    { .gw_resource = { "a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7a",
	    IPC_RES_CIDR, 1, { 0 },
	    { AF_INET6, 64, { 0 }, { 0xfd, 0, 0, 0, 0, 0, 0, 1 } },
	    { { IPPROTO_UDP, 0, 53, 53 } } } } },
	{ IPC_AUTHZ_KEEP, IPC_PEER_TUNNELD, 0, sizeof(struct ipc_authz_keep),
	    { .authz_keep = { 2, 0,
	    { { "d2b6f1a0-3c4e-4f5a-9b8c-7d6e5f4a3b2c",
	    "a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7a" },
	    { "d2b6f1a0-3c4e-4f5a-9b8c-7d6e5f4a3b2c",
	    "c3b2a190-8f7e-4d6c-b5a4-93827160f5e4" } } } } },
	{ IPC_AUTHZ_KEEP, IPC_PEER_TUNNELD, 0, sizeof(struct ipc_authz_keep),
	    { .authz_keep = { 0 } } },
	{ IPC_STATE_ACK, IPC_PEER_CONTROLD, 0, sizeof(struct ipc_state_ack),
	    { .state_ack = { IPC_CLIENT_PEER, EINVAL } } },
	{ IPC_STATE_ACK, IPC_PEER_CONTROLD, 0, sizeof(struct ipc_state_ack),
	    { .state_ack = { IPC_AUTHZ_KEEP, 0 } } },
	{ IPC_DNS_QUERY, IPC_PEER_CONTROLD, 0, sizeof(struct ipc_dns),
	    { .dns = { { AF_INET, 40000, 0, { 100, 71, 34, 9 } },
	    { AF_INET, 53, 0, { 100, 100, 111, 1 } }, 12, 0,
	    { 0x12, 0x34, 1 } } } },
	{ IPC_DNS_REPLY, IPC_PEER_TUNNELD, 0, sizeof(struct ipc_dns),
	    { .dns = { { AF_INET6, 40000, 0, { 0xfd, [15] = 9 } },
	    { AF_INET6, 53, 0, { 0xfd, 0, 0x20, 0x21, 0x11, 0x11, 0x80, 0,
	    1, 0, 1, 0, 1, 0x11, 0, 2 } }, 13, 0, { 0x12, 0x34, 0x81 } } } },
	/* TCP segments: the ports in the message's direction. */
	{ IPC_DNS_QUERY, IPC_PEER_CONTROLD, 0, sizeof(struct ipc_dns),
	    { .dns = { { AF_INET, 40000, 0, { 100, 71, 34, 9 } },
	    { AF_INET, 53, 0, { 100, 100, 111, 1 } }, 24, IPC_DNS_TCP,
	    { 40000 >> 8, 40000 & 0xff, 0, 53, [12] = 0x60, [13] = 0x02,
	    [20] = 2, 4, 5, 0xb4 } } } },
	{ IPC_DNS_REPLY, IPC_PEER_TUNNELD, 0, sizeof(struct ipc_dns),
	    { .dns = { { AF_INET, 40000, 0, { 100, 71, 34, 9 } },
	    { AF_INET, 53, 0, { 100, 100, 111, 1 } }, 22, IPC_DNS_TCP,
	    { 0, 53, 40000 >> 8, 40000 & 0xff, [12] = 0x50, [13] = 0x18,
	    [20] = 'h', 'i' } } } },
	{ IPC_P2P_SEND, IPC_PEER_TUNNELD, 0, sizeof(struct ipc_p2p),
	    { .p2p = { "77aa11bb-22cc-4d33-8e44-55ff66aa77bb",
	    IPC_P2P_ASSIGNED_IPS, { 0 }, 2, "{}" } } },
	{ IPC_P2P_RECV, IPC_PEER_CONTROLD, 0, sizeof(struct ipc_p2p),
	    { .p2p = { "d2b6f1a0-3c4e-4f5a-9b8c-7d6e5f4a3b2c",
	    IPC_P2P_DOMAIN_STATUS, { 0 }, 3, "[1]" } } },
	{ IPC_PROXY_STATE, IPC_PEER_TUNNELD, 0,
	    sizeof(struct ipc_proxy_state),
	    { .proxy_state = { "a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7a", 1,
	    { 0 }, { { AF_INET, 32, { 0 }, { 100, 96, 0, 1 } },
	    { AF_INET, 32, { 0 }, { 100, 96, 0, 2 } },
	    { AF_INET, 32, { 0 }, { 100, 96, 0, 3 } },
	    { AF_INET, 32, { 0 }, { 100, 96, 0, 4 } },
	    { AF_INET6, 128, { 0 }, { 0xfd, 0, 0x20, 0x21, 0x11, 0x11,
	    0x80 } },
	    { AF_INET6, 128, { 0 }, { 0xfd, 0, 0x20, 0x21, 0x11, 0x11,
	    0x80, [15] = 1 } },
	    { AF_INET6, 128, { 0 }, { 0xfd, 0, 0x20, 0x21, 0x11, 0x11,
	    0x80, [15] = 2 } },
	    { AF_INET6, 128, { 0 }, { 0xfd, 0, 0x20, 0x21, 0x11, 0x11,
	    0x80, [15] = 3 } } } } } },
	{ IPC_GW_DNS_MAP, IPC_PEER_TUNNELD, 0, sizeof(struct ipc_gw_dns_map),
	    { .gw_dns_map = { "d2b6f1a0-3c4e-4f5a-9b8c-7d6e5f4a3b2c",
	    "a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7a", 2, 0,
	    { { { AF_INET, 32, { 0 }, { 100, 96, 0, 1 } },
	    { AF_INET, 32, { 0 }, { 10, 20, 0, 2 } } },
	    { { AF_INET6, 128, { 0 }, { 0xfd, 0, 0x20, 0x21, 0x11, 0x11,
	    0x80 } } } } } } },
	{ IPC_DNS_CONFIG, IPC_PEER_TUNNELD, 0, sizeof(struct ipc_dns_config),
	    { .dns_config = { 2, 0,
	    { { AF_INET, 32, { 0 }, { 100, 100, 111, 1 } },
	    { AF_INET6, 128, { 0 }, { 0xfd, 0, 0x20, 0x21, 0x11, 0x11, 0x80, 0,
	    1, 0, 1, 0, 1, 0x11, 0, 2 } } }, "corp.example-1.com" } } },
	{ IPC_DNS_CONFIG, IPC_PEER_TUNNELD, 0, sizeof(struct ipc_dns_config),
	    { .dns_config = { 0 } } },
	{ IPC_PROXY_NAME, IPC_PEER_TUNNELD, 0, sizeof(struct ipc_proxy_name),
	    { .proxy_name = { 99999, 0, "a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7a",
	    "git_1.corp.example.com" } } },
	{ IPC_PROXY_NAMES, IPC_PEER_CONTROLD, 1, sizeof(struct ipc_empty),
	    { .empty = { 0 } } },
	{ IPC_GW_DNS_PATTERN, IPC_PEER_TUNNELD, 0,
	    sizeof(struct ipc_gw_dns_pattern),
	    { .gw_dns_pattern = { "3c1e5a7b-9d2f-4e6a-8b0c-1d2e3f4a5b6c",
	    "**.Corp.example.com" } } },
	{ IPC_GW_DNS_PATTERN, IPC_PEER_CONTROLD, 0,
	    sizeof(struct ipc_gw_dns_pattern),
	    { .gw_dns_pattern = { "3c1e5a7b-9d2f-4e6a-8b0c-1d2e3f4a5b6c",
	    "" } } },
	{ IPC_GW_CLIENT, IPC_PEER_CONTROLD, 0, sizeof(struct ipc_gw_client),
	    { .gw_client = { "d2b6f1a0-3c4e-4f5a-9b8c-7d6e5f4a3b2c",
	    { AF_INET, 32, { 0 }, { 100, 64, 0, 2 } },
	    { AF_INET6, 128, { 0 }, { 0xfd, 0, 0x20, 0x21, 0x11, 0x11,
	    [15] = 2 } } } } },
};
#define NSAMPLES	(sizeof(samples) / sizeof(samples[0]))
/* clang-format on */

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

/*
 * Field-level rejections of the gateway-role payloads: a valid sample
 * with one thing wrong in it.
 */
static const struct sample *
find_sample(enum ipc_type type)
{
	size_t	 i;

	for (i = 0; i < NSAMPLES; i++)
		if (samples[i].type == type)
			return (&samples[i]);
	ck_abort_msg("no sample of type %d", type);
	return (NULL);
}

static void
mut_role(union ipc_payload *u)
{
	u->portal_config.role = 2;
}

static void
mut_config_reserved(union ipc_payload *u)
{
	u->portal_config.reserved[4] = 1;
}

static void
mut_config_internet(union ipc_payload *u)
{
	u->portal_config.internet = 2;
}

static void
mut_config_dns_control(union ipc_payload *u)
{
	u->portal_config.dns_control = IPC_DNS_CONTROL_RESOLVED + 1;
}

/* The gateway has no sentinels, so no DNS control to show. */
static void
mut_config_gw_dns_control(union ipc_payload *u)
{
	u->portal_config.role = IPC_ROLE_GATEWAY;
	u->portal_config.dns_control = IPC_DNS_CONTROL_DISABLED;
}

static void
mut_internet(union ipc_payload *u)
{
	u->internet.enabled = 2;
}

static void
mut_internet_reserved(union ipc_payload *u)
{
	u->internet.reserved[0] = 1;
}

static void
mut_relay_nrelayed(union ipc_payload *u)
{
	u->relay_stats.nrelayed = 2;	/* the second slot is all zero */
}

static void
mut_relay_state(union ipc_payload *u)
{
	u->relay_stats.state = 7;
}

static void
mut_peer_path(union ipc_payload *u)
{
	u->peer_stats.has_endpoint = 3;
}

static void
mut_client_id(union ipc_payload *u)
{
	snprintf(u->client_peer.client_id, IPC_ID_MAX, "d2b6f1a0");
}

static void
mut_client_id_unterminated(union ipc_payload *u)
{
	memset(u->client_peer.client_id, 'a', IPC_ID_MAX);
}

static void
mut_client_v4_len(union ipc_payload *u)
{
	u->client_peer.client_ipv4.prefixlen = 24;
}

static void
mut_client_v6_family(union ipc_payload *u)
{
	u->client_peer.client_ipv6.family = AF_INET;
}

static void
mut_pwd_unterminated(union ipc_payload *u)
{
	memset(u->client_peer.remote_pwd, 'p', IPC_CRED_MAX);
}

static void
mut_ufrag_control(union ipc_payload *u)
{
	u->client_peer.local_ufrag[0] = '\n';
}

static void
mut_expires(union ipc_payload *u)
{
	u->client_peer.expires_at = 0;
}

static void
mut_res_type(union ipc_payload *u)
{
	u->client_peer.resource.type = 4;
}

static void
mut_res_host_bits(union ipc_payload *u)
{
	u->client_peer.resource.prefix.addr[3] = 1;
}

static void
mut_res_reserved(union ipc_payload *u)
{
	u->client_peer.resource.reserved[1] = 1;
}

static void
mut_res_id(union ipc_payload *u)
{
	u->client_peer.resource.id[0] = '\0';
}

static void
mut_internet_prefix(union ipc_payload *u)
{
	u->client_peer.resource.type = IPC_RES_INTERNET;
}

static void
mut_nfilters(union ipc_payload *u)
{
	u->client_peer.resource.nfilters = IPC_MAX_FILTERS + 1;
}

static void
mut_filter_proto(union ipc_payload *u)
{
	u->client_peer.resource.filters[1].proto = IPPROTO_SCTP;
}

static void
mut_filter_range(union ipc_payload *u)
{
	u->client_peer.resource.filters[0].port_start = 444;
}

static void
mut_filter_end0(union ipc_payload *u)
{
	u->client_peer.resource.filters[1].port_end = 0;
}

static void
mut_filter_icmp_port(union ipc_payload *u)
{
	u->client_peer.resource.filters[2].port_end = 1;
}

static void
mut_filter_reserved(union ipc_payload *u)
{
	u->client_peer.resource.filters[0].reserved = 1;
}

static void
mut_filter_unused(union ipc_payload *u)
{
	u->client_peer.resource.filters[3].proto = IPPROTO_TCP;
}

static void
mut_gw_res_v6_host_bits(union ipc_payload *u)
{
	u->gw_resource.prefix.addr[8] = 1;
}

static void
mut_gw_res_family(union ipc_payload *u)
{
	u->gw_resource.prefix.family = AF_UNIX;
}

static void
mut_access_resource(union ipc_payload *u)
{
	snprintf(u->access.resource_id, IPC_ID_MAX, "not-a-uuid");
}

static void
mut_keep_n(union ipc_payload *u)
{
	u->authz_keep.n = IPC_MAX_KEEP + 1;
}

static void
mut_keep_reserved(union ipc_payload *u)
{
	u->authz_keep.reserved = 1;
}

static void
mut_keep_unused(union ipc_payload *u)
{
	u->authz_keep.v[2].client_id[0] = 'x';
}

static void
mut_keep_entry(union ipc_payload *u)
{
	u->authz_keep.v[1].resource_id[5] = '\0';
}

static void
mut_net_why(union ipc_payload *u)
{
	u->network_changed.why = IPC_NET_MAX + 1;
}

static void
mut_net_none(union ipc_payload *u)
{
	u->network_changed.why = 0;
}

static void
mut_net_reserved(union ipc_payload *u)
{
	u->network_changed.reserved = 1;
}

static void
mut_ack_between(union ipc_payload *u)
{
	u->state_ack.type = IPC_NO_RELAYS;
}

static void
mut_ack_past(union ipc_payload *u)
{
	u->state_ack.type = IPC_AUTHZ_KEEP + 1;
}

static void
mut_dns_not_sentinel(union ipc_payload *u)
{
	u->dns.sentinel.addr[2] = 112;
}

static void
mut_dns_port(union ipc_payload *u)
{
	u->dns.sentinel.port = 5353;
}

static void
mut_dns_family(union ipc_payload *u)
{
	u->dns.client.family = AF_INET6;
}

static void
mut_dns_short(union ipc_payload *u)
{
	u->dns.len = 11;
}

static void
mut_dns_long(union ipc_payload *u)
{
	u->dns.len = IPC_DNS_MAX + 1;
}

static void
mut_dns_tail(union ipc_payload *u)
{
	u->dns.data[IPC_DNS_MAX - 1] = 1;
}

static void
mut_dns_flags(union ipc_payload *u)
{
	u->dns.flags = 2;
}

/* The UDP query made a TCP segment from the application's port. */
static void
mut_dns_tcp(union ipc_payload *u)
{
	u->dns.flags = IPC_DNS_TCP;
	u->dns.len = 20;
	memset(u->dns.data, 0, 20);
	u->dns.data[0] = 40000 >> 8;
	u->dns.data[1] = 40000 & 0xff;
	u->dns.data[3] = 53;
	u->dns.data[12] = 0x50;
}

static void
mut_dns_tcp_short(union ipc_payload *u)
{
	mut_dns_tcp(u);
	u->dns.len = 19;
	u->dns.data[19] = 0;
}

static void
mut_dns_tcp_off(union ipc_payload *u)
{
	mut_dns_tcp(u);
	u->dns.data[12] = 0x60;
}

static void
mut_dns_tcp_port(union ipc_payload *u)
{
	mut_dns_tcp(u);
	u->dns.data[3] = 54;
}

static void
mut_dns_tcp_dir(union ipc_payload *u)
{
	mut_dns_tcp(u);
	u->dns.data[0] = 0;
	u->dns.data[1] = 53;
	u->dns.data[2] = 40000 >> 8;
	u->dns.data[3] = 40000 & 0xff;
}

static void
mut_p2p_event(union ipc_payload *u)
{
	u->p2p.event = 2;	/* Goodbye is tunneld's own */
}

static void
mut_p2p_empty(union ipc_payload *u)
{
	memset(u->p2p.data, 0, sizeof(u->p2p.data));
	u->p2p.len = 0;
}

static void
mut_p2p_tail(union ipc_payload *u)
{
	u->p2p.data[IPC_P2P_MAX - 1] = '}';
}

static void
mut_p2p_peer(union ipc_payload *u)
{
	u->p2p.peer_id[3] = '\0';
}

static void
mut_proxy_sentinel(union ipc_payload *u)
{
	u->proxy_state.ips[2].addr[1] = 100;
	u->proxy_state.ips[2].addr[2] = 111;
}

static void
mut_proxy_tunnel(union ipc_payload *u)
{
	u->proxy_state.ips[0].addr[1] = 64;
}

static void
mut_proxy_v6_range(union ipc_payload *u)
{
	u->proxy_state.ips[7].addr[13] = 0x20;
}

/* Name 0's first three, name 1's first. */
static void
mut_proxy_two_names(union ipc_payload *u)
{
	u->proxy_state.ips[3].addr[3] = 5;
}

static void
mut_proxy_order(union ipc_payload *u)
{
	struct ipc_prefix	 t = u->proxy_state.ips[0];

	u->proxy_state.ips[0] = u->proxy_state.ips[4];
	u->proxy_state.ips[4] = t;
}

static void
mut_proxy_active(union ipc_payload *u)
{
	u->proxy_state.active = 2;
}

static void
mut_name_number(union ipc_payload *u)
{
	u->proxy_name.k = IPC_PROXY_MAX_NAMES;
}

static void
mut_name_upper(union ipc_payload *u)
{
	u->proxy_name.name[0] = 'G';
}

static void
mut_name_space(union ipc_payload *u)
{
	u->proxy_name.name[3] = ' ';
}

static void
mut_name_tail(union ipc_payload *u)
{
	u->proxy_name.name[IPC_PROXY_NAME_MAX] = 'x';
}

static void
mut_pattern_newline(union ipc_payload *u)
{
	u->gw_dns_pattern.pattern[2] = '\n';
}

static void
mut_pattern_tail(union ipc_payload *u)
{
	u->gw_dns_pattern.pattern[IPC_PATTERN_MAX] = '*';
}

static void
mut_gw_client_net(union ipc_payload *u)
{
	u->gw_client.ipv4.prefixlen = 24;
}

static void
mut_gw_client_v6(union ipc_payload *u)
{
	u->gw_client.ipv6.family = AF_INET;
}

static void
mut_map_family(union ipc_payload *u)
{
	u->gw_dns_map.v[0].real.family = AF_INET6;
	u->gw_dns_map.v[0].real.prefixlen = 128;
}

static void
mut_map_net(union ipc_payload *u)
{
	u->gw_dns_map.v[0].real.prefixlen = 24;
	u->gw_dns_map.v[0].real.addr[3] = 0;
}

static void
mut_map_none(union ipc_payload *u)
{
	u->gw_dns_map.n = 0;
}

static void
mut_map_many(union ipc_payload *u)
{
	u->gw_dns_map.n = IPC_PROXY_IPS + 1;
}

static void
mut_map_past_n(union ipc_payload *u)
{
	u->gw_dns_map.n = 1;
}

static void
mut_map_not_proxy(union ipc_payload *u)
{
	u->gw_dns_map.v[0].proxy.addr[0] = 10;
}

static void
mut_path_state(union ipc_payload *u)
{
	u->peer_path.state = IPC_PATH_LOST + 1;
}

static void
mut_path_relay_direct(union ipc_payload *u)
{
	u->peer_path.state = IPC_PATH_DIRECT;
}

static void
mut_path_endpoint(union ipc_payload *u)
{
	u->peer_path.state = IPC_PATH_CONNECTING;
	u->peer_path.our_relay = 0;
}

static void
mut_path_reserved(union ipc_payload *u)
{
	u->peer_path.reserved[5] = 1;
}

static void
mut_path_id(union ipc_payload *u)
{
	u->peer_path.id[36] = 'x';
}

static void
mut_settings_scheme(union ipc_payload *u)
{
	snprintf(u->settings.api_url, IPC_URL_MAX, "https://x.example");
}

static void
mut_settings_userinfo(union ipc_payload *u)
{
	snprintf(u->settings.api_url, IPC_URL_MAX, "wss://u:p@x.example");
}

static void
mut_settings_level(union ipc_payload *u)
{
	u->settings.log_level = IPC_LOG_MAX + 1;
}

static void
mut_settings_default(union ipc_payload *u)
{
	u->settings.default_log_level = 3;
}

static void
mut_settings_unterminated(union ipc_payload *u)
{
	memset(u->settings.api_url, 'a', IPC_URL_MAX);
}

static void
mut_settings_reserved(union ipc_payload *u)
{
	u->settings.reserved[0] = 1;
}

static void
mut_dnsc_count(union ipc_payload *u)
{
	u->dns_config.n = IPC_DNS_MAX_SERVERS + 1;
}

static void
mut_dnsc_not_sentinel(union ipc_payload *u)
{
	u->dns_config.servers[0].addr[2] = 112;
}

static void
mut_dnsc_prefix(union ipc_payload *u)
{
	u->dns_config.servers[0].prefixlen = 24;
	u->dns_config.servers[0].addr[3] = 0;
}

static void
mut_dnsc_unused(union ipc_payload *u)
{
	u->dns_config.servers[2].family = AF_INET;
}

static void
mut_dnsc_newline(union ipc_payload *u)
{
	snprintf(u->dns_config.search_domain, IPC_DOMAIN_MAX,
	    "corp.example.com\nnameserver 8.8.8.8");
}

static void
mut_dnsc_dot(union ipc_payload *u)
{
	snprintf(u->dns_config.search_domain, IPC_DOMAIN_MAX, ".example.com");
}

static void
mut_dnsc_label(union ipc_payload *u)
{
	memset(u->dns_config.search_domain, 'a', 64);
}

static void
mut_dnsc_tail(union ipc_payload *u)
{
	u->dns_config.search_domain[IPC_DOMAIN_MAX - 1] = 'x';
}

static const struct mutation {
	const char	*what;
	const char	*reason;
	enum ipc_type	 type;
	void		(*mutate)(union ipc_payload *);
} mutations[] = {
	{ "unknown role", "unknown role", IPC_PORTAL_CONFIG, mut_role },
	{ "config reserved", "reserved", IPC_PORTAL_CONFIG,
	    mut_config_reserved },
	{ "config internet flag", "internet flag", IPC_PORTAL_CONFIG,
	    mut_config_internet },
	{ "config DNS control", "DNS control", IPC_PORTAL_CONFIG,
	    mut_config_dns_control },
	{ "gateway DNS control", "DNS control", IPC_PORTAL_CONFIG,
	    mut_config_gw_dns_control },
	{ "internet flag", "flag not 0 or 1", IPC_INTERNET_SET, mut_internet },
	{ "internet reserved", "reserved", IPC_INTERNET_SET,
	    mut_internet_reserved },
	{ "peer path 3", "endpoint flag", IPC_PEER_STATS, mut_peer_path },
	{ "relay stats nrelayed", "invalid endpoint", IPC_RELAY_STATS,
	    mut_relay_nrelayed },
	{ "relay stats state", "out of range", IPC_RELAY_STATS,
	    mut_relay_state },
	{ "client id short", "not a UUID", IPC_CLIENT_PEER, mut_client_id },
	{ "client id unterminated", "NUL", IPC_CLIENT_PEER,
	    mut_client_id_unterminated },
	{ "client ipv4 /24", "IPv4 /32", IPC_CLIENT_PEER, mut_client_v4_len },
	{ "client ipv6 family", "IPv6 /128", IPC_CLIENT_PEER,
	    mut_client_v6_family },
	{ "pwd unterminated", "NUL", IPC_CLIENT_PEER, mut_pwd_unterminated },
	{ "ufrag control char", "control", IPC_CLIENT_PEER, mut_ufrag_control },
	{ "expires_at 0", "expires_at", IPC_CLIENT_PEER, mut_expires },
	{ "resource type 4", "unknown type", IPC_CLIENT_PEER, mut_res_type },
	{ "resource host bits", "invalid CIDR", IPC_CLIENT_PEER,
	    mut_res_host_bits },
	{ "resource reserved", "reserved", IPC_CLIENT_PEER, mut_res_reserved },
	{ "resource id empty", "not a UUID", IPC_CLIENT_PEER, mut_res_id },
	{ "internet with prefix", "internet with a prefix", IPC_CLIENT_PEER,
	    mut_internet_prefix },
	{ "too many filters", "too many", IPC_CLIENT_PEER, mut_nfilters },
	{ "filter sctp", "protocol", IPC_CLIENT_PEER, mut_filter_proto },
	{ "filter start > end", "port range", IPC_CLIENT_PEER,
	    mut_filter_range },
	{ "filter end 0", "port range", IPC_CLIENT_PEER, mut_filter_end0 },
	{ "icmp with ports", "icmp", IPC_CLIENT_PEER, mut_filter_icmp_port },
	{ "filter reserved", "reserved", IPC_CLIENT_PEER, mut_filter_reserved },
	{ "unused filter slot", "unused filter", IPC_CLIENT_PEER,
	    mut_filter_unused },
	{ "gw resource v6 host bits", "invalid CIDR", IPC_GW_RESOURCE,
	    mut_gw_res_v6_host_bits },
	{ "gw resource family", "invalid CIDR", IPC_GW_RESOURCE,
	    mut_gw_res_family },
	{ "access resource id", "not a UUID", IPC_ACCESS_DEL,
	    mut_access_resource },
	{ "keep count", "count", IPC_AUTHZ_KEEP, mut_keep_n },
	{ "keep reserved", "reserved", IPC_AUTHZ_KEEP, mut_keep_reserved },
	{ "keep unused slot", "unused slot", IPC_AUTHZ_KEEP, mut_keep_unused },
	{ "keep entry id", "not a UUID", IPC_AUTHZ_KEEP, mut_keep_entry },
	{ "path state 5", "state out of range", IPC_PEER_PATH, mut_path_state },
	{ "our relay on a direct path", "relay flag", IPC_PEER_PATH,
	    mut_path_relay_direct },
	{ "endpoint while connecting", "invalid endpoint", IPC_PEER_PATH,
	    mut_path_endpoint },
	{ "path reserved", "reserved", IPC_PEER_PATH, mut_path_reserved },
	{ "path id too long", "not a UUID", IPC_PEER_PATH, mut_path_id },
	{ "network change why", "out of range", IPC_NETWORK_CHANGED,
	    mut_net_why },
	{ "network change none", "out of range", IPC_NETWORK_CHANGED,
	    mut_net_none },
	{ "network change reserved", "reserved", IPC_NETWORK_CHANGED,
	    mut_net_reserved },
	{ "settings https", "not ws", IPC_SETTINGS_SET, mut_settings_scheme },
	{ "settings user info", "user info", IPC_SETTINGS_SET,
	    mut_settings_userinfo },
	{ "settings level 5", "log level", IPC_SETTINGS_SET,
	    mut_settings_level },
	{ "settings set with a default", "defaults", IPC_SETTINGS_SET,
	    mut_settings_default },
	{ "settings unterminated", "NUL", IPC_SETTINGS_SET,
	    mut_settings_unterminated },
	{ "settings reserved", "reserved", IPC_SETTINGS_SET,
	    mut_settings_reserved },
	{ "ack of IPC_NO_RELAYS", "out of range", IPC_STATE_ACK,
	    mut_ack_between },
	{ "ack past the gateway block", "out of range", IPC_STATE_ACK,
	    mut_ack_past },
	{ "dns not to a sentinel", "sentinel", IPC_DNS_QUERY,
	    mut_dns_not_sentinel },
	{ "dns port", "port 53", IPC_DNS_REPLY, mut_dns_port },
	{ "dns families differ", "invalid addresses", IPC_DNS_QUERY,
	    mut_dns_family },
	{ "dns shorter than a header", "length", IPC_DNS_QUERY, mut_dns_short },
	{ "dns too long", "length", IPC_DNS_REPLY, mut_dns_long },
	{ "dns bytes past the length", "past the length", IPC_DNS_REPLY,
	    mut_dns_tail },
	{ "dns flags", "unknown flags", IPC_DNS_QUERY, mut_dns_flags },
	{ "dns tcp shorter than a header", "length", IPC_DNS_QUERY,
	    mut_dns_tcp_short },
	{ "dns tcp data offset", "does not fit", IPC_DNS_QUERY,
	    mut_dns_tcp_off },
	{ "dns tcp port", "ports", IPC_DNS_QUERY, mut_dns_tcp_port },
	{ "dns tcp direction", "ports", IPC_DNS_QUERY, mut_dns_tcp_dir },
	{ "p2p goodbye", "unknown event", IPC_P2P_SEND, mut_p2p_event },
	{ "p2p empty", "length", IPC_P2P_RECV, mut_p2p_empty },
	{ "p2p bytes past the length", "past the length", IPC_P2P_SEND,
	    mut_p2p_tail },
	{ "p2p peer not a UUID", "UUID", IPC_P2P_SEND, mut_p2p_peer },
	{ "proxy state sentinel", "proxy IPs", IPC_PROXY_STATE,
	    mut_proxy_sentinel },
	{ "proxy state tunnel IP", "proxy IPs", IPC_PROXY_STATE,
	    mut_proxy_tunnel },
	{ "proxy state past /107", "proxy IPs", IPC_PROXY_STATE,
	    mut_proxy_v6_range },
	{ "proxy state order", "proxy IPs", IPC_PROXY_STATE, mut_proxy_order },
	{ "proxy state two names", "proxy IPs of a name", IPC_PROXY_STATE,
	    mut_proxy_two_names },
	{ "proxy name number", "number", IPC_PROXY_NAME, mut_name_number },
	{ "proxy name upper case", "lower-case", IPC_PROXY_NAME,
	    mut_name_upper },
	{ "proxy name space", "lower-case", IPC_PROXY_NAME, mut_name_space },
	{ "proxy name past NUL", "lower-case", IPC_PROXY_NAME, mut_name_tail },
	{ "dns pattern newline", "printable", IPC_GW_DNS_PATTERN,
	    mut_pattern_newline },
	{ "dns pattern past NUL", "printable", IPC_GW_DNS_PATTERN,
	    mut_pattern_tail },
	{ "gateway client /24", "addresses", IPC_GW_CLIENT, mut_gw_client_net },
	{ "gateway client IPv6 family", "addresses", IPC_GW_CLIENT,
	    mut_gw_client_v6 },
	{ "proxy state flag", "flag", IPC_PROXY_STATE, mut_proxy_active },
	{ "dns map family", "family", IPC_GW_DNS_MAP, mut_map_family },
	{ "dns map network", "host", IPC_GW_DNS_MAP, mut_map_net },
	{ "dns map none", "count", IPC_GW_DNS_MAP, mut_map_none },
	{ "dns map too many", "count", IPC_GW_DNS_MAP, mut_map_many },
	{ "dns map pair past n", "unused pair", IPC_GW_DNS_MAP,
	    mut_map_past_n },
	{ "dns map not a proxy IP", "not a proxy IP", IPC_GW_DNS_MAP,
	    mut_map_not_proxy },
	{ "dns config count", "count", IPC_DNS_CONFIG, mut_dnsc_count },
	{ "dns config upstream itself", "not a sentinel", IPC_DNS_CONFIG,
	    mut_dnsc_not_sentinel },
	{ "dns config sentinel /24", "not a sentinel", IPC_DNS_CONFIG,
	    mut_dnsc_prefix },
	{ "dns config unused server", "unused", IPC_DNS_CONFIG,
	    mut_dnsc_unused },
	{ "dns config newline in the domain", "not a DNS name", IPC_DNS_CONFIG,
	    mut_dnsc_newline },
	{ "dns config leading dot", "not a DNS name", IPC_DNS_CONFIG,
	    mut_dnsc_dot },
	{ "dns config label of 64", "not a DNS name", IPC_DNS_CONFIG,
	    mut_dnsc_label },
	{ "dns config bytes after the domain", "after the search domain",
	    IPC_DNS_CONFIG, mut_dnsc_tail },
};
#define NMUTATIONS	(sizeof(mutations) / sizeof(mutations[0]))

START_TEST(test_reject_field)
{
	const struct mutation	*t = &mutations[_i];
	const struct sample	*s = find_sample(t->type);
	union ipc_payload	 u;
	uint8_t			 buf[IPC_MSG_MAX];
	struct ipc_msg		 msg;
	const char		*why = NULL;
	size_t			 n;

	/* The sample itself passes; the mutated copy does not. */
	u = s->u;
	t->mutate(&u);
	n = ipc_encode(buf, sizeof(buf), s->type, 1, &u, s->len);
	ck_assert_uint_ne(n, 0);
	ck_assert_int_eq(ipc_decode(s->receiver, buf, n, 0, &msg, &why), -1);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, t->reason) != NULL, "%s: got \"%s\"",
	    t->what, why);
}
END_TEST

/* The gateway messages go from controld to tunneld only. */
START_TEST(test_gateway_direction)
{
	static const enum ipc_type types[] = { IPC_CLIENT_PEER,
	    IPC_ACCESS_DEL, IPC_GW_RESOURCE, IPC_AUTHZ_KEEP };
	const struct sample	*s = find_sample(types[_i]);
	uint8_t			 buf[IPC_MSG_MAX];
	struct ipc_msg		 msg;
	const char		*why = NULL;
	size_t			 n;

	n = ipc_encode(buf, sizeof(buf), s->type, 1, &s->u, s->len);
	ck_assert_int_eq(ipc_decode(IPC_PEER_CONTROLD, buf, n, 0, &msg, &why),
	    -1);
	ck_assert_ptr_nonnull(strstr(why, "direction"));
	ck_assert_int_eq(ipc_decode(IPC_PEER_TUNNELD, buf, n - 1, 0, &msg,
	    &why), -1);
	ck_assert_int_eq(ipc_decode(IPC_PEER_TUNNELD, buf, n, 1, &msg, &why),
	    -1);
	ck_assert_ptr_nonnull(strstr(why, "takes none"));
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
	tcase_add_loop_test(tc, test_reject_field, 0, NMUTATIONS);
	tcase_add_loop_test(tc, test_gateway_direction, 0, 4);
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

const struct check_main check_main = {
	.suites = { ipc_suite },
};
