/* ipc.c: encoding, strict decoding and fd passing for the IPC channel. */
#include <sys/socket.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "ipc/ipc.h"

enum ipc_fd_rule {
	IPC_FD_NONE,
	IPC_FD_REQUIRED,
};

struct ipc_rule {
	const char		*name;
	size_t			 len;
	enum ipc_peer		 from;	/* 0: either side */
	enum ipc_fd_rule	 fd;
	const char		*(*check)(const struct ipc_msg *);
};

static const char *
check_hello(const struct ipc_msg *m)
{
	if (m->u.hello.pid == 0)
		return ("hello: pid 0");
	return (NULL);
}

static const char *
check_family_type(int32_t family, int32_t type)
{
	if (family != AF_INET && family != AF_INET6)
		return ("socket: family not AF_INET or AF_INET6");
	if (type != SOCK_STREAM && type != SOCK_DGRAM)
		return ("socket: type not SOCK_STREAM or SOCK_DGRAM");
	return (NULL);
}

static const char *
check_socket_request(const struct ipc_msg *m)
{
	return (check_family_type(m->u.socket_request.family,
	    m->u.socket_request.type));
}

static const char *
check_socket(const struct ipc_msg *m)
{
	if (m->u.socket.reserved != 0)
		return ("socket: reserved field not zero");
	return (check_family_type(m->u.socket.family, m->u.socket.type));
}

static const char *
check_socket_failed(const struct ipc_msg *m)
{
	if (m->u.socket_failed.error < 1 || m->u.socket_failed.error > 4095)
		return ("socket failed: error out of range");
	return (NULL);
}

#define RULE(t, s, f, fd, c)	[t] = { #t, sizeof(s), f, fd, c }
static const struct ipc_rule ipc_rules[IPC_TYPE_MAX] = {
	RULE(IPC_HELLO, struct ipc_hello, 0, IPC_FD_NONE, check_hello),
	RULE(IPC_SOCKET_REQUEST, struct ipc_socket_request,
	    IPC_PEER_CONTROLD, IPC_FD_NONE, check_socket_request),
	RULE(IPC_SOCKET, struct ipc_socket, IPC_PEER_TUNNELD,
	    IPC_FD_REQUIRED, check_socket),
	RULE(IPC_SOCKET_FAILED, struct ipc_socket_failed, IPC_PEER_TUNNELD,
	    IPC_FD_NONE, check_socket_failed),
};
#undef RULE

const char *
ipc_type_name(uint16_t type)
{
	if (type >= IPC_TYPE_MAX || ipc_rules[type].name == NULL)
		return ("IPC_UNKNOWN");
	return (ipc_rules[type].name);
}

size_t
ipc_encode(uint8_t *buf, size_t bufsz, enum ipc_type type, uint32_t id,
    const void *payload, size_t len)
{
	struct ipc_hdr	 hdr;

	if (len > IPC_MAX_PAYLOAD || sizeof(hdr) + len > bufsz)
		return (0);
	memset(&hdr, 0, sizeof(hdr));
	hdr.type = type;
	hdr.version = IPC_VERSION;
	hdr.len = (uint32_t)len;
	hdr.id = id;
	memcpy(buf, &hdr, sizeof(hdr));
	if (len > 0)
		memcpy(buf + sizeof(hdr), payload, len);
	return (sizeof(hdr) + len);
}

int
ipc_decode(enum ipc_peer self, const uint8_t *buf, size_t n, int has_fd,
    struct ipc_msg *msg, const char **why)
{
	const struct ipc_rule	*rule;

	if (n < sizeof(msg->hdr)) {
		*why = "shorter than the header";
		return (-1);
	}
	memcpy(&msg->hdr, buf, sizeof(msg->hdr));
	if (msg->hdr.version != IPC_VERSION) {
		*why = "wrong protocol version";
		return (-1);
	}
	if (msg->hdr.type >= IPC_TYPE_MAX ||
	    ipc_rules[msg->hdr.type].name == NULL) {
		*why = "unknown message type";
		return (-1);
	}
	rule = &ipc_rules[msg->hdr.type];
	if (rule->from != 0 && rule->from == self) {
		*why = "message type not valid in this direction";
		return (-1);
	}
	if (msg->hdr.reserved != 0) {
		*why = "reserved header field not zero";
		return (-1);
	}
	if (msg->hdr.len != n - sizeof(msg->hdr)) {
		*why = "header length disagrees with message size";
		return (-1);
	}
	if (msg->hdr.len != rule->len) {
		*why = "wrong payload length for the type";
		return (-1);
	}
	if (rule->fd == IPC_FD_REQUIRED && !has_fd) {
		*why = "file descriptor expected but absent";
		return (-1);
	}
	if (rule->fd == IPC_FD_NONE && has_fd) {
		*why = "file descriptor attached to a type that takes none";
		return (-1);
	}
	memset(&msg->u, 0, sizeof(msg->u));
	memcpy(&msg->u, buf + sizeof(msg->hdr), msg->hdr.len);
	if (rule->check != NULL && (*why = rule->check(msg)) != NULL)
		return (-1);
	return (0);
}

int
ipc_send(int sock, enum ipc_type type, uint32_t id, const void *payload,
    size_t len, int fd)
{
	uint8_t		 buf[IPC_MSG_MAX];
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct cmsghdr	*cmsg;
	struct msghdr	 mh;
	struct iovec	 iov;
	size_t		 n;

	if ((n = ipc_encode(buf, sizeof(buf), type, id, payload, len)) == 0) {
		errno = EMSGSIZE;
		return (-1);
	}
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = n;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd != -1) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		mh.msg_control = cmsgbuf.buf;
		mh.msg_controllen = sizeof(cmsgbuf.buf);
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	/* MSG_NOSIGNAL: a dead peer is an error to handle, not a SIGPIPE. */
	if (sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) == -1)
		return (-1);
	return (0);
}

/* Closes every descriptor a control message brought in. */
static int
collect_fds(struct msghdr *mh, int *fd)
{
	struct cmsghdr	*cmsg;
	size_t		 i, nfds;
	int		 count = 0, f;

	*fd = -1;
	for (cmsg = CMSG_FIRSTHDR(mh); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(mh, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS) {
			count += 2;	/* anything else is unexpected */
			continue;
		}
		nfds = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++) {
			memcpy(&f, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(int));
			if (*fd == -1)
				*fd = f;
			else
				close(f);
			count++;
		}
	}
	return (count);
}

enum ipc_recv_result
ipc_recv(int sock, enum ipc_peer self, struct ipc_msg *msg, const char **why)
{
	uint8_t		 buf[IPC_MSG_MAX];
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct msghdr	 mh;
	struct iovec	 iov;
	ssize_t		 n;
	int		 nfds;

	msg->fd = -1;
	*why = NULL;
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cmsgbuf.buf;
	mh.msg_controllen = sizeof(cmsgbuf.buf);

	/* CLOEXEC: a received fd must never leak into an exec'd child. */
	n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n == -1)
		return (IPC_RECV_ERROR);
	nfds = collect_fds(&mh, &msg->fd);
	if (n == 0 && nfds == 0)
		return (IPC_RECV_EOF);
	if (mh.msg_flags & MSG_TRUNC)
		*why = "message truncated (larger than any known type)";
	else if (mh.msg_flags & MSG_CTRUNC)
		*why = "control data truncated (more than one fd?)";
	else if (nfds > 1)
		*why = "more than one fd or unexpected control data";
	else if (ipc_decode(self, buf, (size_t)n, msg->fd != -1, msg,
	    why) == 0)
		return (IPC_RECV_OK);
	if (msg->fd != -1) {
		close(msg->fd);
		msg->fd = -1;
	}
	return (IPC_RECV_MALFORMED);
}
