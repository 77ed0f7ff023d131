/*
 * fuzz_ipc: ipc_decode() and the receive-side checks of ipc_recv(), for
 * both receiving sides.  The first input byte picks the side (bit 0),
 * whether an fd is said to be attached (bit 1), and whether the bytes go
 * through ipc_recv_check() with MSG_TRUNC (bit 3) or MSG_CTRUNC (bit 4)
 * set in place of a real recvmsg() (bit 2); the rest is the datagram.
 */
#include "ipc/ipc.c"

#include "tests/fuzz/fuzz.h"

static void
check_accepted(enum ipc_peer self, const uint8_t *buf, size_t n,
    const struct ipc_msg *m)
{
	uint8_t	 out[IPC_MSG_MAX];
	size_t	 len;

	/* Accepted means: known type, sent by the other side. */
	FUZZ_ASSERT(m->hdr.type > IPC_NONE && m->hdr.type < IPC_TYPE_MAX);
	FUZZ_ASSERT(ipc_rules[m->hdr.type].name != NULL);
	FUZZ_ASSERT(ipc_rules[m->hdr.type].from != self);
	FUZZ_ASSERT(strcmp(ipc_type_name(m->hdr.type), "IPC_UNKNOWN") != 0);
	/* One spelling per message: encoding gives back the same bytes. */
	len = ipc_encode(out, sizeof(out), m->hdr.type, m->hdr.id, &m->u,
	    m->hdr.len);
	FUZZ_ASSERT(len == n);
	FUZZ_ASSERT(memcmp(out, buf, n) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_msg		*m;
	struct msghdr		 mh;
	enum ipc_peer		 self;
	enum ipc_recv_result	 r;
	const char		*why = NULL;
	uint8_t			 ctl, *buf;
	size_t			 n;
	int			 has_fd;

	if (size < 1)
		return (0);
	ctl = data[0];
	n = size - 1;
	self = ctl & 1 ? IPC_PEER_CONTROLD : IPC_PEER_TUNNELD;
	has_fd = (ctl & 2) != 0;
	/* An exact-size copy, so that ASan sees any read past the end. */
	if ((buf = malloc(n > 0 ? n : 1)) == NULL ||
	    (m = malloc(sizeof(*m))) == NULL)
		abort();
	memcpy(buf, data + 1, n);
	memset(m, 0xa5, sizeof(*m));

	if (ctl & 4) {
		/* No control data, so no fd is ever closed here. */
		memset(&mh, 0, sizeof(mh));
		if (ctl & 8)
			mh.msg_flags |= MSG_TRUNC;
		if (ctl & 16)
			mh.msg_flags |= MSG_CTRUNC;
		m->fd = -1;
		r = ipc_recv_check(self, buf, (ssize_t)n, &mh, m, &why);
		FUZZ_ASSERT(m->fd == -1);
		if (r == IPC_RECV_OK) {
			FUZZ_ASSERT((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
			    == 0);
			check_accepted(self, buf, n, m);
		} else if (r == IPC_RECV_MALFORMED)
			FUZZ_ASSERT(why != NULL);
		else
			FUZZ_ASSERT(r == IPC_RECV_EOF && n == 0);
	} else if (ipc_decode(self, buf, n, has_fd, m, &why) == 0) {
		FUZZ_ASSERT(n <= IPC_MSG_MAX);
		FUZZ_ASSERT((ipc_rules[m->hdr.type].fd == IPC_FD_REQUIRED) ==
		    has_fd);
		check_accepted(self, buf, n, m);
	} else
		FUZZ_ASSERT(why != NULL);

	free(m);
	free(buf);
	return (0);
}
