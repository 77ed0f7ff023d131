/*
 * ipc.h: the fzc-tunneld <-> fzc-controld contract.
 *
 * One message per sendmsg over a SOCK_SEQPACKET socketpair: a fixed header
 * followed by exactly one fixed-layout payload struct, and at most one
 * file descriptor (SCM_RIGHTS) whose meaning comes from the message type.
 * Both ends run on the same host from the same build, so payloads are in
 * host byte order; every field is still range-checked on receipt.
 */
#ifndef FZC_IPC_H
#define FZC_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bumped on any incompatible change; checked on every message. */
#define IPC_VERSION		1

/* fzc-controld finds the channel on this descriptor after exec. */
#define IPC_CHANNEL_FD		3
/* ... and the listening control socket, bound by fzc-tunneld, on this. */
#define IPC_CONTROL_FD		4

#define IPC_MAX_PAYLOAD		4096

/* Who sent a message: each type is valid in one direction only. */
enum ipc_peer {
	IPC_PEER_TUNNELD = 1,
	IPC_PEER_CONTROLD = 2,
};

/*
 * Numbered explicitly in blocks per subsystem. Never renumber; retired
 * values stay here marked unused.
 */
enum ipc_type {
	IPC_NONE = 0,

	/* 1-15: channel */
	IPC_HELLO = 1,			/* both ways, first message */

	/* 16-31: protected sockets */
	IPC_SOCKET_REQUEST = 16,	/* controld -> tunneld */
	IPC_SOCKET = 17,		/* tunneld -> controld, carries fd */
	IPC_SOCKET_FAILED = 18,		/* tunneld -> controld */

	/* 32-47: plain WireGuard mode (--wireguard FILE) */
	IPC_WG_FILE = 32,		/* tunneld -> controld, carries fd */
	IPC_WG_ERROR = 33,		/* controld -> tunneld */
	IPC_WG_INTERFACE = 34,		/* controld -> tunneld */
	IPC_WG_ADDRESS = 35,		/* controld -> tunneld */
	IPC_WG_PEER = 36,		/* controld -> tunneld */
	IPC_WG_ALLOWED_IP = 37,		/* controld -> tunneld */
	IPC_WG_COMMIT = 38,		/* controld -> tunneld */

	/* 48-63: status and counters */
	IPC_STATS_REQUEST = 48,		/* controld -> tunneld */
	IPC_PEER_STATS = 49,		/* tunneld -> controld */
	IPC_WORKER_STATS = 50,		/* tunneld -> controld */
	IPC_STATS_END = 51,		/* tunneld -> controld */
	IPC_RELAY_STATS = 52,		/* tunneld -> controld */

	/* 64-79: portal session, identity and token */
	IPC_PORTAL_CONFIG = 64,		/* tunneld -> controld */
	IPC_TOKEN = 65,			/* tunneld -> controld, carries fd */
	IPC_TOKEN_DELETE = 66,		/* controld -> tunneld */
	IPC_TOKEN_STORE = 67,		/* controld -> tunneld */
	IPC_TOKEN_RESULT = 68,		/* tunneld -> controld */
	IPC_INTERNET_SET = 69,		/* controld -> tunneld, STATE_ACK'd */

	/* 80-95: client state from the portal, and tunneld's answers */
	IPC_TUN_ADDRESSES = 80,		/* controld -> tunneld */
	IPC_ROUTE_ADD = 81,		/* controld -> tunneld */
	IPC_ROUTE_DEL = 82,		/* controld -> tunneld */
	IPC_RELAY_ADD = 83,		/* controld -> tunneld */
	IPC_RELAY_DEL = 84,		/* controld -> tunneld */
	IPC_GATEWAY_PEER = 85,		/* controld -> tunneld */
	IPC_REMOTE_CANDIDATE = 86,	/* controld -> tunneld */
	IPC_REMOTE_CANDIDATE_DEL = 87,	/* controld -> tunneld */
	IPC_AUTHZ_FAILED = 88,		/* controld -> tunneld */
	IPC_STATE_ACK = 95,		/* tunneld -> controld */
#define IPC_STATE_FIRST	IPC_TUN_ADDRESSES	/* the types STATE_ACK answers */
#define IPC_STATE_LAST	IPC_AUTHZ_FAILED

	/* 96-111: what the data plane needs from the portal */
	IPC_NEED_AUTHZ = 96,		/* tunneld -> controld */
	IPC_LOCAL_CANDIDATE = 97,	/* tunneld -> controld */
	IPC_LOCAL_CANDIDATE_DEL = 98,	/* tunneld -> controld */
	IPC_NO_RELAYS = 99,		/* tunneld -> controld */
	/* 104-111: network changes */
	IPC_NETWORK_CHANGED = 104,	/* tunneld -> controld */

	/* 100-103: what the control socket shows */
	IPC_PEER_PATH = 100,		/* tunneld -> controld */
	IPC_SETTINGS_SET = 101,		/* controld -> tunneld, STATE_ACK'd */
	IPC_SETTINGS = 102,		/* tunneld -> controld */

	/* 112-127: gateway state from the portal, answered by IPC_STATE_ACK */
	IPC_CLIENT_PEER = 112,		/* controld -> tunneld */
	IPC_ACCESS_DEL = 113,		/* controld -> tunneld */
	IPC_GW_RESOURCE = 114,		/* controld -> tunneld */
	IPC_AUTHZ_KEEP = 115,		/* controld -> tunneld */
#define IPC_GW_STATE_FIRST	IPC_CLIENT_PEER
#define IPC_GW_STATE_LAST	IPC_AUTHZ_KEEP

	/* 128-159: the DNS stub resolver (PROTOCOL 4.6) */
	IPC_DNS_QUERY = 128,		/* tunneld -> controld */
	IPC_DNS_REPLY = 129,		/* controld -> tunneld */
	IPC_P2P_SEND = 130,		/* controld -> tunneld */
	IPC_P2P_RECV = 131,		/* tunneld -> controld */
	IPC_PROXY_STATE = 132,		/* controld -> tunneld, client */
	IPC_GW_DNS_MAP = 133,		/* controld -> tunneld, gateway,
					   STATE_ACK'd once in nftables */
	/* 152-159: names of DNS resources kept across controld restarts */
	IPC_PROXY_NAME = 152,		/* controld -> tunneld, client */
	IPC_PROXY_NAMES = 153,		/* tunneld -> controld, carries fd */
	IPC_GW_DNS_PATTERN = 154,	/* both ways, gateway */
	IPC_GW_CLIENT = 155,		/* tunneld -> controld, gateway */

	/* 168-175: the system's DNS configuration (PROTOCOL 4.6) */
	IPC_DNS_CONFIG = 168,		/* controld -> tunneld, STATE_ACK'd */
	IPC_SYSTEM_RESOLV = 169,	/* tunneld -> controld, carries fd */

	IPC_TYPE_MAX
};

struct ipc_hdr {
	uint16_t	type;
	uint16_t	version;
	uint32_t	len;		/* payload bytes after the header */
	uint32_t	id;		/* request id, echoed in the answer */
	uint32_t	reserved;	/* zero */
};

/* IPC_HELLO: identifies the sender, once, before anything else. */
struct ipc_hello {
	uint32_t	pid;
	uint32_t	restarts;	/* times tunneld restarted controld */
	uint64_t	started;	/* CLOCK_REALTIME seconds */
};

/* IPC_SOCKET_REQUEST: a socket outside the tunnel, SO_MARK set. */
struct ipc_socket_request {
	int32_t		family;		/* AF_INET or AF_INET6 */
	int32_t		type;		/* SOCK_STREAM or SOCK_DGRAM */
};

/* IPC_SOCKET: the requested socket is the attached fd. */
struct ipc_socket {
	int32_t		family;
	int32_t		type;
	uint32_t	mark;
	uint32_t	reserved;	/* zero */
};

/* IPC_SOCKET_FAILED: why tunneld could not create the socket. */
struct ipc_socket_failed {
	int32_t		error;		/* errno value, 1..4095 */
};

/* Building blocks of the payloads below. */
struct ipc_prefix {
	uint8_t		family;		/* AF_INET or AF_INET6 */
	uint8_t		prefixlen;
	uint8_t		reserved[2];	/* zero */
	uint8_t		addr[16];	/* AF_INET: first 4 bytes, rest zero */
};

struct ipc_sockaddr {
	uint16_t	family;		/* AF_INET or AF_INET6 */
	uint16_t	port;		/* host byte order, not 0 */
	uint32_t	scope_id;
	uint8_t		addr[16];
};

#define IPC_NAME_MAX		256
#define IPC_TEXT_MAX		512
#define IPC_WG_MAX_PEERS	1024
/* Allowed IPs of all peers together: each is a route and a table entry. */
#define IPC_WG_MAX_ALLOWED_IPS	4096
#define IPC_WG_KEY_LEN		32

/* IPC_WG_FILE: the configuration file named here is the attached fd. */
struct ipc_wg_file {
	char		name[IPC_NAME_MAX];	/* NUL-terminated */
};

/* IPC_WG_ERROR: the file was rejected; tunneld reports it and exits. */
struct ipc_wg_error {
	char		text[IPC_TEXT_MAX];	/* NUL-terminated, printable */
};

/* IPC_WG_INTERFACE: first message of a configuration. */
struct ipc_wg_interface {
	uint8_t		private_key[IPC_WG_KEY_LEN];
	uint16_t	listen_port;	/* 0: pick one */
	uint16_t	mtu;		/* 576..65535 */
	uint32_t	naddrs;		/* IPC_WG_ADDRESS messages that follow */
	uint32_t	npeers;		/* IPC_WG_PEER messages that follow */
	uint32_t	reserved;	/* zero */
};

/* IPC_WG_ADDRESS: an address of the tunnel interface. */
struct ipc_wg_address {
	struct ipc_prefix	prefix;
};

/* IPC_WG_PEER: peers are numbered 0..npeers-1 in order. */
struct ipc_wg_peer {
	uint32_t		peer_id;
	uint8_t			public_key[IPC_WG_KEY_LEN];
	uint8_t			psk[IPC_WG_KEY_LEN];	/* zero: none */
	uint8_t			has_endpoint;		/* 0 or 1 */
	uint8_t			reserved;		/* zero */
	uint16_t		persistent_keepalive;	/* s, 0: off */
	struct ipc_sockaddr	endpoint;
};

/* IPC_WG_ALLOWED_IP: a prefix routed to, and accepted from, a peer. */
struct ipc_wg_allowed_ip {
	uint32_t		peer_id;
	struct ipc_prefix	prefix;
};

/* IPC_WG_COMMIT, IPC_STATS_REQUEST, IPC_STATS_END: no data. */
struct ipc_empty {
	uint32_t	reserved;	/* zero */
};

/* IPC_PEER_STATS: one per peer, answering IPC_STATS_REQUEST. */
struct ipc_peer_stats {
	uint32_t		peer_id;
	uint32_t		has_endpoint;	/* 0, 1, or 2: a relay's */
	uint8_t			public_key[IPC_WG_KEY_LEN];
	struct ipc_sockaddr	endpoint;
	uint64_t		last_handshake;	/* CLOCK_REALTIME s, 0: never */
	uint64_t		rx_bytes;
	uint64_t		tx_bytes;
	uint64_t		handshake_failures;
};

#define IPC_URL_MAX		512
#define IPC_PATH_MAX		256
#define IPC_ID_MAX		40	/* a UUID and NUL, padded */
#define IPC_TOKEN_MAX		2048
#define IPC_CRED_MAX		256

/*
 * IPC_PEER_PATH: a peer's connection came, moved to another path, or
 * went; sent as it happens, and for every connection after a hello.
 */
#define IPC_PATH_CONNECTING	1	/* ICE checks, no path yet */
#define IPC_PATH_DIRECT		2
#define IPC_PATH_RELAYED	3	/* through a TURN relay */
#define IPC_PATH_LOST		4	/* the connection is gone */
struct ipc_peer_path {
	char			id[IPC_ID_MAX];	/* the gateway's or client's */
	uint8_t			public_key[IPC_WG_KEY_LEN];
	uint8_t			state;		/* IPC_PATH_* */
	uint8_t			our_relay;	/* RELAYED: 1 ours, 0 the
						   peer's; else 0 */
	uint8_t			reserved[6];	/* zero */
	struct ipc_sockaddr	endpoint;	/* DIRECT: the peer; RELAYED:
						   on the relay; else zero */
};

/*
 * IPC_SETTINGS_SET: the user's settings, as Firezone's advanced settings;
 * tunneld saves them in its state directory. The default_* fields are
 * zero. IPC_SETTINGS: the settings saved, and the defaults (the command
 * line's) they override; after every hello and every change.
 */
#define IPC_LOG_DEFAULT		0	/* log_level: none set */
#define IPC_LOG_MAX		4	/* else enum log_level + 1 */
struct ipc_settings {
	char		api_url[IPC_URL_MAX];	/* "": none set; else ws:// or
						   wss://, NUL-terminated */
	char		default_api_url[IPC_URL_MAX];
	uint8_t		log_level;		/* IPC_LOG_DEFAULT or 1..4 */
	uint8_t		default_log_level;	/* 1..4 */
	uint8_t		reserved[6];		/* zero */
};

/* IPC_PORTAL_CONFIG: what controld needs to sign in, once after hello. */
struct ipc_portal_config {
	char		api_url[IPC_URL_MAX];	/* NUL-terminated */
	char		ca_file[IPC_PATH_MAX];	/* "": system store */
	char		name[IPC_NAME_MAX];	/* device name */
	char		device_id[IPC_ID_MAX];	/* UUID from the state dir */
	uint8_t		public_key[IPC_WG_KEY_LEN];	/* tunneld keeps the
							   private half */
	uint8_t		role;		/* IPC_ROLE_CLIENT or _GATEWAY */
	uint8_t		internet;	/* 0 or 1: the saved Internet switch */
	uint8_t		dns_control;	/* IPC_DNS_CONTROL_*, for status */
	uint8_t		reserved[5];	/* zero */
};
/* The system DNS control tunneld settled on (--dns-control). */
#define IPC_DNS_CONTROL_NONE		0	/* the gateway: no sentinels */
#define IPC_DNS_CONTROL_DISABLED	1
#define IPC_DNS_CONTROL_RESOLV_CONF	2
#define IPC_DNS_CONTROL_RESOLVED	3

/*
 * IPC_INTERNET_SET: the user turned the Internet resource on or off;
 * tunneld saves it in its state directory for the next start.
 */
struct ipc_internet {
	uint8_t		enabled;	/* 0 or 1 */
	uint8_t		reserved[7];	/* zero */
};
#define IPC_ROLE_CLIENT		0
#define IPC_ROLE_GATEWAY	1

/*
 * IPC_TOKEN: the attached fd reads the token (the root-only file, or a
 * memfd holding FIREZONE_TOKEN). No fd: IPC_TOKEN_RESULT says none.
 */

/* IPC_TOKEN_STORE: fzc sign-in; tunneld writes the token file. */
struct ipc_token {
	char		token[IPC_TOKEN_MAX];	/* NUL-terminated, printable */
};

/* IPC_TOKEN_RESULT: answer to STORE/DELETE, and "no token" at start. */
struct ipc_token_result {
	int32_t		error;		/* 0 or an errno value */
	uint32_t	have_token;	/* 0 or 1 */
};

/* IPC_TUN_ADDRESSES: the device's tunnel addresses from init. */
struct ipc_tun_addresses {
	struct ipc_prefix	ipv4;	/* /32 */
	struct ipc_prefix	ipv6;	/* /128 */
};

/* IPC_ROUTE_ADD, IPC_ROUTE_DEL: a CIDR resource routed into the tunnel. */
struct ipc_route {
	char			resource_id[IPC_ID_MAX];
	struct ipc_prefix	prefix;
};

/* IPC_RELAY_ADD: a TURN relay with its credentials. */
struct ipc_relay {
	char			id[IPC_ID_MAX];
	struct ipc_sockaddr	addr;
	char			username[IPC_CRED_MAX];
	char			password[IPC_CRED_MAX];	/* secret */
	int64_t			expires_at;	/* Unix time */
};

/* IPC_RELAY_DEL: the relay is gone. */
struct ipc_relay_id {
	char			id[IPC_ID_MAX];
};

#define IPC_CANDIDATE_MAX	256

/* IPC_GATEWAY_PEER: authorization_created, the gateway as a peer. */
struct ipc_gateway_peer {
	char			gateway_id[IPC_ID_MAX];
	char			resource_id[IPC_ID_MAX];
	uint8_t			public_key[IPC_WG_KEY_LEN];
	uint8_t			psk[IPC_WG_KEY_LEN];	/* secret */
	struct ipc_prefix	gateway_ipv4;		/* /32 */
	struct ipc_prefix	gateway_ipv6;		/* /128 */
	char			local_ufrag[IPC_CRED_MAX];
	char			local_pwd[IPC_CRED_MAX];	/* secret */
	char			remote_ufrag[IPC_CRED_MAX];
	char			remote_pwd[IPC_CRED_MAX];	/* secret */
};

/* IPC_*_CANDIDATE*: an ICE candidate in the SDP form of PROTOCOL 2.2. */
struct ipc_candidate {
	char			gateway_id[IPC_ID_MAX];
	char			candidate[IPC_CANDIDATE_MAX];
};

/*
 * IPC_NEED_AUTHZ: a packet went to a resource nobody authorized yet.
 * IPC_AUTHZ_FAILED: the portal refused it; what was held for it goes.
 */
struct ipc_resource_id {
	char			id[IPC_ID_MAX];
};

/* IPC_NO_RELAYS: a connection needs a relay and none is allocated. */
struct ipc_gateway_id {
	char			id[IPC_ID_MAX];
};

/*
 * IPC_NETWORK_CHANGED: tunneld saw the uplink change and has reset the
 * data plane (relays, candidates, ICE); controld reconnects to the portal
 * at once, without backoff.
 */
#define IPC_NET_LINK_UP		1	/* a link came up */
#define IPC_NET_ADDRESS		2	/* an address came or went */
#define IPC_NET_ROUTE		3	/* a default route came or went */
#define IPC_NET_RESUME		4	/* the host slept, or we stalled */
#define IPC_NET_SIGNAL		5	/* SIGHUP: the administrator asked */
#define IPC_NET_MAX		IPC_NET_SIGNAL
struct ipc_network_changed {
	uint32_t		why;		/* IPC_NET_* */
	uint32_t		reserved;	/* zero */
};

/*
 * Gateway role. The portal's view of a resource, as create_authorization
 * and resource_updated give it; a DNS resource never gets here.
 */
#define IPC_MAX_FILTERS		32
#define IPC_RES_CIDR		1
#define IPC_RES_INTERNET	2
#define IPC_RES_DNS \
	3 /* no prefix: its names' addresses
					   come with IPC_GW_DNS_MAP */

struct ipc_filter {
	uint8_t		proto;		/* IPPROTO_TCP, _UDP or _ICMP (ICMP
					   means ICMPv6 too) */
	uint8_t		reserved;	/* zero */
	uint16_t	port_start;	/* tcp/udp: start <= end, end >= 1;
					   icmp: both 0 */
	uint16_t	port_end;
};

/* IPC_GW_RESOURCE: resource_updated, the filters of a resource changed. */
struct ipc_gw_resource {
	char			id[IPC_ID_MAX];
	uint8_t			type;		/* IPC_RES_* */
	uint8_t			nfilters;	/* 0: everything allowed */
	uint8_t			reserved[2];	/* zero */
	struct ipc_prefix	prefix;		/* CIDR, host bits zero; all
						   zero for internet and dns */
	struct ipc_filter	filters[IPC_MAX_FILTERS]; /* unused: zero */
};

/* IPC_CLIENT_PEER: create_authorization, a client as a peer. */
struct ipc_client_peer {
	char			client_id[IPC_ID_MAX];
	uint8_t			public_key[IPC_WG_KEY_LEN];
	uint8_t			psk[IPC_WG_KEY_LEN];	/* secret */
	struct ipc_prefix	client_ipv4;		/* /32 */
	struct ipc_prefix	client_ipv6;		/* /128 */
	char			local_ufrag[IPC_CRED_MAX];	/* ours */
	char			local_pwd[IPC_CRED_MAX];	/* secret */
	char			remote_ufrag[IPC_CRED_MAX];	/* client's */
	char			remote_pwd[IPC_CRED_MAX];	/* secret */
	int64_t			expires_at;		/* Unix s, > 0 */
	struct ipc_gw_resource	resource;
};

/* IPC_ACCESS_DEL: reject_access, one (client, resource) pair revoked. */
struct ipc_access {
	char			client_id[IPC_ID_MAX];
	char			resource_id[IPC_ID_MAX];
};

/*
 * IPC_AUTHZ_KEEP: once after each init, the pairs still authorized;
 * tunneld drops every other it holds. An init listing more pairs than
 * fit is not followed by this message at all.
 */
#define IPC_MAX_KEEP	40
struct ipc_authz_keep {
	uint32_t		n;		/* 0..IPC_MAX_KEEP */
	uint32_t		reserved;	/* zero */
	struct ipc_access	v[IPC_MAX_KEEP];	/* unused: zero */
};

/*
 * IPC_DNS_QUERY: a UDP datagram an application sent to a sentinel's port
 * 53, as the TUN device gave it. IPC_DNS_REPLY: controld's answer, which
 * tunneld writes to the TUN device from that sentinel to the application.
 * The sentinels are 100.100.111.0/24 and
 * fd00:2021:1111:8000:100:100:111:0/120; the DNS message is parsed in
 * controld only.
 * With IPC_DNS_TCP, data is a TCP segment (header and payload) between
 * the same two ends instead, its ports those of client and sentinel in
 * the direction of the message; tunneld fills in the reply's checksum.
 * controld's TCP responder (dns_tcp.c) is the other end.
 */
#define IPC_DNS_MIN		12	/* a DNS header */
#define IPC_DNS_MAX		4000
#define IPC_DNS_TCP		0x1	/* flags: data is a TCP segment */
#define IPC_DNS_TCP_MIN		20	/* a TCP header */
struct ipc_dns {
	struct ipc_sockaddr	 client;	/* the application */
	struct ipc_sockaddr	 sentinel;	/* same family, port 53 */
	uint32_t		 len;		/* IPC_DNS_MIN (IPC_DNS_TCP_MIN
						   with IPC_DNS_TCP) ..
						   IPC_DNS_MAX */
	uint32_t		 flags;		/* 0 or IPC_DNS_TCP */
	uint8_t			 data[IPC_DNS_MAX];	/* past len: zero */
};

/*
 * IPC_P2P_SEND, IPC_P2P_RECV: a control packet of PROTOCOL 4.6 inside the
 * tunnel, to or from the peer named (the gateway in the client role, the
 * client in the gateway role). tunneld frames it and never reads the
 * JSON, which controld parses.
 */
#define IPC_P2P_ASSIGNED_IPS	0
#define IPC_P2P_DOMAIN_STATUS	1
#define IPC_P2P_MAX		1024	/* JSON bytes; fits the inner MTU */
struct ipc_p2p {
	char			 peer_id[IPC_ID_MAX];
	uint8_t			 event;		/* IPC_P2P_ASSIGNED_IPS or
						   _DOMAIN_STATUS */
	uint8_t			 reserved[3];	/* zero */
	uint32_t		 len;		/* 1..IPC_P2P_MAX */
	uint8_t			 data[IPC_P2P_MAX];	/* past len: zero */
};

/*
 * IPC_PROXY_STATE (client role): the gateway answered AssignedIps for a
 * name. active 1: its proxy IPs go to the resource's gateway and what was
 * held for them follows; 0: what is held for them is dropped.
 */
#define IPC_PROXY_PER_FAMILY	4
#define IPC_PROXY_IPS		8	/* 4 IPv4 /32, then 4 IPv6 /128 */
/* Far fewer than the ranges hold: a bound on what a flood can take. */
#define IPC_PROXY_MAX_NAMES	100000
/*
 * IPC_PROXY_NAME (client role): controld gave number k (proxy IPs 4k to
 * 4k+3 of each family) to a name of resource_id. tunneld keeps the names
 * and gives them back to a restarted controld (IPC_PROXY_NAMES: a sealed
 * memfd of "k resource_id name" lines), so that a name keeps its proxy
 * IPs for as long as tunneld runs.
 */
#define IPC_PROXY_NAME_MAX	253	/* text form, no trailing dot */
struct ipc_proxy_name {
	uint32_t		 k;		/* < IPC_PROXY_MAX_NAMES */
	uint32_t		 reserved;	/* zero */
	char			 resource_id[IPC_ID_MAX];
	char			 name[IPC_PROXY_NAME_MAX + 1];	/* past the
								   NUL: zero */
};

/*
 * IPC_GW_DNS_PATTERN (gateway role): the name pattern of DNS resource id
 * (empty: id is no DNS resource now). controld tells tunneld each one it
 * learns; tunneld gives them back to a restarted controld, which needs
 * them for the AssignedIps of clients authorized before it started and
 * does not hear them again in the portal's init.
 */
#define IPC_PATTERN_MAX		253
struct ipc_gw_dns_pattern {
	char			 id[IPC_ID_MAX];
	char			 pattern[IPC_PATTERN_MAX + 1];	/* past the
								   NUL: zero */
};

/*
 * IPC_GW_CLIENT (gateway role): a client tunneld kept from before controld
 * restarted, with its tunnel addresses, which the portal's init does not
 * give again: port 53535 knows the client by them.
 */
struct ipc_gw_client {
	char			 client_id[IPC_ID_MAX];
	struct ipc_prefix	 ipv4;		/* /32 */
	struct ipc_prefix	 ipv6;		/* /128 */
};

struct ipc_proxy_state {
	char			 resource_id[IPC_ID_MAX];
	uint8_t			 active;	/* 0 or 1 */
	uint8_t			 reserved[7];	/* zero */
	struct ipc_prefix	 ips[IPC_PROXY_IPS];
};

/*
 * IPC_GW_DNS_MAP (gateway role): a client's proxy IPs of one name of a
 * DNS resource it is authorized for, each translated to a real address of
 * the same family, or (real all zero) no longer translated.
 */
struct ipc_dns_pair {
	struct ipc_prefix	 proxy;		/* a /32 or /128 of the
						   proxy ranges */
	struct ipc_prefix	 real;		/* same family, a host; or
						   all zero */
};
struct ipc_gw_dns_map {
	char			 client_id[IPC_ID_MAX];
	char			 resource_id[IPC_ID_MAX];
	uint32_t		 n;		/* 1..IPC_PROXY_IPS */
	uint32_t		 reserved;	/* zero */
	struct ipc_dns_pair	 v[IPC_PROXY_IPS];	/* past n: zero */
};

/* IPC_STATE_ACK: tunneld validated and keeps a state message. */
struct ipc_state_ack {
	uint32_t	type;		/* the message acknowledged */
	int32_t		error;		/* 0, or errno: rejected */
};

/*
 * IPC_DNS_CONFIG: what the system's resolver is to ask while fzc runs: the
 * sentinels in use, one per upstream, in order, and the portal's search
 * domain. n 0: the system's own configuration back.
 */
#define IPC_DNS_MAX_SERVERS	8
#define IPC_DOMAIN_MAX		256
struct ipc_dns_config {
	uint32_t		n;		/* 0..IPC_DNS_MAX_SERVERS */
	uint32_t		reserved;	/* zero */
	struct ipc_prefix	servers[IPC_DNS_MAX_SERVERS];	/* sentinels,
						   /32 or /128; unused zero */
	char			search_domain[IPC_DOMAIN_MAX];	/* "": none;
						   else a DNS name, NUL-terminated */
};

/*
 * IPC_SYSTEM_RESOLV: the attached fd reads resolv.conf as the system had
 * it before fzc changed it, for the resolvers controld forwards to.
 */

/* Drop reasons counted by the workers. */
enum ipc_drop {
	IPC_DROP_NO_PEER,	/* no allowed-ips match for the destination */
	IPC_DROP_NO_SESSION,	/* staging queue full while handshaking */
	IPC_DROP_BAD_PACKET,	/* not IP, or shorter than its header says */
	IPC_DROP_DECRYPT,	/* authentication failed */
	IPC_DROP_REPLAY,	/* counter replayed or too old */
	IPC_DROP_UNKNOWN_INDEX,	/* no keypair for the receiver index */
	IPC_DROP_SOURCE,	/* inner source not in the peer's allowed ips */
	IPC_DROP_QUEUE_FULL,	/* handshake queue to the main thread full */
	IPC_DROP_SEND,		/* UDP send failed */
	IPC_DROP_TUN_WRITE,	/* TUN write failed */
	IPC_DROP_UNAUTHORIZED,	/* a resource not authorized yet */
	IPC_DROP_MAX
};

/* IPC_WORKER_STATS: one per worker, answering IPC_STATS_REQUEST. */
struct ipc_worker_stats {
	uint32_t	worker;
	uint32_t	reserved;	/* zero */
	uint64_t	tx_packets;
	uint64_t	tx_bytes;
	uint64_t	rx_packets;
	uint64_t	rx_bytes;
	uint64_t	tx_syscalls;
	uint64_t	rx_syscalls;
	uint64_t	reorders;	/* inner flow packets seen out of order */
	uint64_t	drops[IPC_DROP_MAX];
};

/*
 * IPC_RELAY_STATS: one per relay, answering IPC_STATS_REQUEST in the
 * client and gateway roles; what `fzc netcheck` reports. No credentials.
 */
struct ipc_relay_stats {
	char			id[IPC_ID_MAX];
	struct ipc_sockaddr	addr;
	uint8_t			state;		/* turn.h: 0 idle .. 6 failed */
	uint8_t			error;		/* turn.h's enum, 0: none */
	uint8_t			has_srflx;	/* 0 or 1 */
	uint8_t			nrelayed;	/* 0..2 */
	uint32_t		rtt_us;		/* BINDING, 0: none yet */
	struct ipc_sockaddr	srflx;		/* zero unless has_srflx */
	struct ipc_sockaddr	relayed[2];	/* zero past nrelayed */
};

/* Every payload, for receive buffers and tables of samples. */
union ipc_payload {
	struct ipc_hello		hello;
	struct ipc_socket_request	socket_request;
	struct ipc_socket		socket;
	struct ipc_socket_failed	socket_failed;
	struct ipc_wg_file		wg_file;
	struct ipc_wg_error		wg_error;
	struct ipc_wg_interface		wg_interface;
	struct ipc_wg_address		wg_address;
	struct ipc_wg_peer		wg_peer;
	struct ipc_wg_allowed_ip	wg_allowed_ip;
	struct ipc_empty		empty;
	struct ipc_peer_stats		peer_stats;
	struct ipc_peer_path		peer_path;
	struct ipc_worker_stats		worker_stats;
	struct ipc_relay_stats		relay_stats;
	struct ipc_portal_config	portal_config;
	struct ipc_internet		internet;
	struct ipc_settings		settings;
	struct ipc_token		token;
	struct ipc_token_result		token_result;
	struct ipc_tun_addresses	tun_addresses;
	struct ipc_route		route;
	struct ipc_relay		relay;
	struct ipc_relay_id		relay_id;
	struct ipc_state_ack		state_ack;
	struct ipc_gateway_peer		gateway_peer;
	struct ipc_candidate		candidate;
	struct ipc_resource_id		resource_id;
	struct ipc_gateway_id		gateway_id;
	struct ipc_network_changed	network_changed;
	struct ipc_client_peer		client_peer;
	struct ipc_access		access;
	struct ipc_gw_resource		gw_resource;
	struct ipc_authz_keep		authz_keep;
	struct ipc_dns			dns;
	struct ipc_p2p			p2p;
	struct ipc_proxy_state		proxy_state;
	struct ipc_proxy_name		proxy_name;
	struct ipc_gw_dns_pattern	gw_dns_pattern;
	struct ipc_gw_client		gw_client;
	struct ipc_gw_dns_map		gw_dns_map;
	struct ipc_dns_config		dns_config;
	uint8_t				raw[IPC_MAX_PAYLOAD];
};

struct ipc_msg {
	struct ipc_hdr		 hdr;
	union ipc_payload	 u;
	int			 fd;		/* -1 when none came with it */
};

enum ipc_recv_result {
	IPC_RECV_OK,
	IPC_RECV_EOF,
	IPC_RECV_ERROR,		/* system error, see errno */
	IPC_RECV_MALFORMED,	/* rejected, see why; any fd closed */
};

#define IPC_MSG_MAX	(sizeof(struct ipc_hdr) + IPC_MAX_PAYLOAD)

/* A peer this far behind in reading is not well. */
#define IPC_QUEUE_MAX	(16 * 1024 * 1024)

/*
 * One end of the channel with an outgoing queue: a message that does not
 * fit the socket now waits, in order, instead of being lost. want_write
 * is called when the queue becomes non-empty; the caller then calls
 * ipc_chan_flush() whenever the socket is writable.
 */
struct ipc_queued;
struct ipc_chan {
	int			 fd;
	struct ipc_queued	*head;
	struct ipc_queued	*tail;
	size_t			 bytes;
	void			(*want_write)(void *);
	void			*arg;
};

/* ipc.c */
int			 ipc_address_valid(const struct ipc_prefix *);
int			 ipc_prefix_valid(const struct ipc_prefix *);
int			 ipc_sockaddr_valid(const struct ipc_sockaddr *);
int			 ipc_dns_sentinel(int, const uint8_t *);
long			 ipc_proxy_number(int, const uint8_t *);
long			 ipc_proxy_name(int, const uint8_t *, unsigned *);
int			 ipc_proxy_ip(const struct ipc_prefix *);
int			 ipc_proxy_name_valid(const char *, size_t);
int			 ipc_word_valid(const char *, size_t, bool);
int			 ipc_domain_valid(const char *, size_t);
const char		*ipc_type_name(uint16_t);
size_t			 ipc_encode(uint8_t *, size_t, enum ipc_type, uint32_t,
			    const void *, size_t);
int			 ipc_decode(enum ipc_peer, const uint8_t *, size_t, int,
			    struct ipc_msg *, const char **);
int			 ipc_send(int, enum ipc_type, uint32_t, const void *,
			    size_t, int);
enum ipc_recv_result	 ipc_recv(int, enum ipc_peer, struct ipc_msg *,
			    const char **);
void			 ipc_chan_init(struct ipc_chan *, int,
			    void (*)(void *), void *);
int			 ipc_chan_send(struct ipc_chan *, enum ipc_type,
			    uint32_t, const void *, size_t, int);
int			 ipc_chan_flush(struct ipc_chan *);
void			 ipc_chan_clear(struct ipc_chan *);

#endif
