/* udp.c: the data-plane UDP sockets, one per worker on one port. */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "tunneld/udp.h"

static int
udp_fail(int fd, const char **why, const char *what)
{
	int	 saved_errno = errno;

	*why = what;
	close(fd);
	errno = saved_errno;
	return (-1);
}

/*
 * A dual-stack socket on port (0: the kernel picks, *bound gets it).
 * SO_REUSEPORT lets every worker bind the same port; the kernel then
 * hashes each remote address to one socket, so all packets of a peer
 * reach the same worker in order. SO_MARK keeps the encrypted packets
 * out of the tunnel once the Internet resource routes everything in.
 */
int
udp_open(uint16_t port, uint16_t *bound, struct udp_caps *caps,
    const char **why)
{
	struct sockaddr_in6	 sin6;
	socklen_t		 len = sizeof(sin6);
	uint32_t		 mark = FZC_FWMARK;
	int			 fd, on = 1, off = 0, size = UDP_SOCKBUF;

	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		*why = "socket(AF_INET6, SOCK_DGRAM)";
		return (-1);
	}
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) == -1)
		return (udp_fail(fd, why, "IPV6_V6ONLY"));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1)
		return (udp_fail(fd, why, "SO_REUSEPORT"));
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) == -1)
		return (udp_fail(fd, why, "SO_MARK"));
	/* FORCE variants: we run with CAP_NET_ADMIN, rmem_max is too small. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof(size)) == -1 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) == -1)
		return (udp_fail(fd, why, "SO_RCVBUF"));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size,
	    sizeof(size)) == -1 &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)) == -1)
		return (udp_fail(fd, why, "SO_SNDBUF"));
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_any;
	sin6.sin6_port = htons(port);
	if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == -1)
		return (udp_fail(fd, why, "bind"));
	if (getsockname(fd, (struct sockaddr *)&sin6, &len) == -1)
		return (udp_fail(fd, why, "getsockname"));
	*bound = ntohs(sin6.sin6_port);
	/* Probes: both options are refused by kernels that lack them. */
	caps->gro = setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof(on)) == 0;
	caps->gso = setsockopt(fd, SOL_UDP, UDP_SEGMENT, &off,
	    sizeof(off)) == 0;
	return (fd);
}

/* Everything is kept as IPv6, IPv4 as v4-mapped, for the one socket. */
void
udp_addr_to_v6(const struct sockaddr *sa, struct sockaddr_in6 *out)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)sa;

	if (sa->sa_family == AF_INET6) {
		memcpy(out, sa, sizeof(*out));
		return;
	}
	memset(out, 0, sizeof(*out));
	out->sin6_family = AF_INET6;
	out->sin6_port = sin->sin_port;
	out->sin6_addr.s6_addr[10] = 0xff;
	out->sin6_addr.s6_addr[11] = 0xff;
	memcpy(&out->sin6_addr.s6_addr[12], &sin->sin_addr, 4);
}

/* An address from controld (a peer's endpoint, a relay) in that form. */
void
udp_ipc_to_v6(const struct ipc_sockaddr *sa, struct sockaddr_in6 *out)
{
	memset(out, 0, sizeof(*out));
	out->sin6_family = AF_INET6;
	out->sin6_port = htons(sa->port);
	if (sa->family == AF_INET) {
		out->sin6_addr.s6_addr[10] = 0xff;
		out->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&out->sin6_addr.s6_addr[12], sa->addr, 4);
	} else {
		memcpy(&out->sin6_addr, sa->addr, 16);
		out->sin6_scope_id = sa->scope_id;
	}
}

const char *
udp_addr_str(const struct sockaddr_in6 *sin6, char *buf, size_t size)
{
	char	 a[INET6_ADDRSTRLEN];

	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], a, sizeof(a));
		snprintf(buf, size, "%s:%u", a, ntohs(sin6->sin6_port));
	} else {
		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
		snprintf(buf, size, "[%s]:%u", a, ntohs(sin6->sin6_port));
	}
	return (buf);
}
