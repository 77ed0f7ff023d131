/* udp.h: the data-plane UDP sockets, one per worker on one port. */
#ifndef FZC_UDP_H
#define FZC_UDP_H

#include <sys/socket.h>

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "ipc/ipc.h"

/* Older libc headers lack the UDP offload socket options. */
#ifndef UDP_SEGMENT
#define UDP_SEGMENT	103
#endif
#ifndef UDP_GRO
#define UDP_GRO		104
#endif

/* Socket buffers sized for ~1 Gbit/s with tens of ms of scheduling lag. */
#define UDP_SOCKBUF		(8 * 1024 * 1024)
/* Budget both for old kernels' 64-segment cap and the 64 KiB datagram. */
#define UDP_GSO_MAX_SEGS	48

struct udp_caps {
	bool	 gso;
	bool	 gro;
};

int	udp_open(uint16_t, uint16_t *, struct udp_caps *, const char **);
void	udp_addr_to_v6(const struct sockaddr *, struct sockaddr_in6 *);
void	udp_ipc_to_v6(const struct ipc_sockaddr *, struct sockaddr_in6 *);
const char *udp_addr_str(const struct sockaddr_in6 *, char *, size_t);

#endif
