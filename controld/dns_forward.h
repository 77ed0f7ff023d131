/*
 * dns_forward.h: queries forwarded to upstream resolvers and waiting for
 * their answers, sans-IO. Each goes out under an id of ours, so that
 * applications' ids never collide, and its answer is taken only from the
 * resolver it was sent to, with that id, before it expires. A truncated
 * answer is asked again over TCP, and the full one made to fit the
 * application's UDP size.
 */
#ifndef FZC_DNS_FORWARD_H
#define FZC_DNS_FORWARD_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controld/portal_msg.h"
#include "ipc/ipc.h"

#define DNS_FORWARD_MAX		1024	/* waiting at once */
#define DNS_FORWARD_TIMEOUT_NS	(5ULL * 1000000000ULL)
#define DNS_HDR_LEN		12
#define DNS_UDP_SIZE		512	/* without EDNS (RFC 1035 4.2.1) */
#define DNS_PORT		53

struct dns_forward_query {
	uint16_t		 id;		/* ours, on the wire */
	uint16_t		 client_id;	/* the application's */
	int			 upstream;
	uint64_t		 conn;		/* dns_tcp's; 0: over UDP */
	uint16_t		 udp_size;	/* over UDP: the most it takes */
	struct ipc_sockaddr	 client;
	struct ipc_sockaddr	 sentinel;
	uint64_t		 expires;
};

struct dns_forward {
	struct dns_forward_query	 v[DNS_FORWARD_MAX];
	size_t				 n;
};

void	 dns_forward_expire(struct dns_forward *, uint64_t);
int	 dns_forward_add(struct dns_forward *, uint8_t *, size_t,
	    const struct dns_forward_query *, uint16_t, uint64_t);
int	 dns_forward_add_random(struct dns_forward *, uint8_t *, size_t,
	    const struct dns_forward_query *, uint64_t);
socklen_t dns_forward_sockaddr(const struct portal_addr *, uint16_t,
	    struct sockaddr_storage *);
bool dns_forward_answer(struct dns_forward *, uint8_t *, size_t, int, uint64_t,
	    struct dns_forward_query *);
uint8_t *dns_forward_retry_query(const uint8_t *, size_t, size_t *);
uint8_t *dns_forward_fit(const uint8_t *, size_t, size_t, size_t *);

#endif
