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

#include <stddef.h>
#include <stdint.h>

/* Bumped on any incompatible change; checked on every message. */
#define IPC_VERSION		1

/* fzc-controld finds the channel on this descriptor after exec. */
#define IPC_CHANNEL_FD		3

#define IPC_MAX_PAYLOAD		1024

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

struct ipc_msg {
	struct ipc_hdr	 hdr;
	union {
		struct ipc_hello		hello;
		struct ipc_socket_request	socket_request;
		struct ipc_socket		socket;
		struct ipc_socket_failed	socket_failed;
		uint8_t				raw[IPC_MAX_PAYLOAD];
	} u;
	int		 fd;		/* -1 when none came with it */
};

enum ipc_recv_result {
	IPC_RECV_OK,
	IPC_RECV_EOF,
	IPC_RECV_ERROR,		/* system error, see errno */
	IPC_RECV_MALFORMED,	/* rejected, see why; any fd closed */
};

#define IPC_MSG_MAX	(sizeof(struct ipc_hdr) + IPC_MAX_PAYLOAD)

/* ipc.c */
const char		*ipc_type_name(uint16_t);
size_t			 ipc_encode(uint8_t *, size_t, enum ipc_type, uint32_t,
			    const void *, size_t);
int			 ipc_decode(enum ipc_peer, const uint8_t *, size_t, int,
			    struct ipc_msg *, const char **);
int			 ipc_send(int, enum ipc_type, uint32_t, const void *,
			    size_t, int);
enum ipc_recv_result	 ipc_recv(int, enum ipc_peer, struct ipc_msg *,
			    const char **);

#endif
