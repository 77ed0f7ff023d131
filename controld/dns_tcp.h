/*
 * dns_tcp.h: DNS over TCP to the sentinels (PROTOCOL.md 4.6, RFC 7766),
 * sans-IO: the TCP end of the connections applications open to a
 * sentinel's port 53. Segments come from tunneld as the application sent
 * them; the DNS messages they carry (2-byte length first, several per
 * connection) are taken out with dns_tcp_query() and answered with
 * dns_tcp_answer(); the segments to send go to the send function.
 * Everything is bounded: connections, bytes buffered, queries waiting;
 * idle connections are closed.
 */
#ifndef FZC_DNS_TCP_H
#define FZC_DNS_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/ipc.h"

#define DNS_TCP_CONNS_MAX	64
#define DNS_TCP_MSG_MAX		IPC_DNS_MAX	/* a query */
#define DNS_TCP_ANSWER_MAX	65535		/* what the prefix can say */
#define DNS_TCP_TX_MAX		(256 * 1024)	/* per connection */
#define DNS_TCP_BYTES_MAX	(2 * 1024 * 1024)	/* all connections */
#define DNS_TCP_PENDING_MAX	16	/* queries not answered yet, each */
/*
 * Our MSS, and the most the window ever offers: one segment in flight
 * keeps the kernel from handing tunneld a TSO super-packet bigger than
 * its queue's slots.
 */
#define DNS_TCP_MSS		1220
#define DNS_TCP_RTO_NS		(200ULL * 1000000ULL)	/* doubles */
#define DNS_TCP_TRIES		6
#define DNS_TCP_IDLE_NS		(10ULL * 1000000000ULL)

/* A segment for tunneld: IPC_DNS_REPLY with IPC_DNS_TCP. */
typedef void dns_tcp_send_fn(void *, const struct ipc_dns *);

struct dns_tcp_conn;

struct dns_tcp {
	dns_tcp_send_fn		*send;
	void			*arg;
	struct dns_tcp_conn	*c[DNS_TCP_CONNS_MAX];
	size_t			 n;
	size_t			 bytes;		/* answers buffered */
	uint64_t		 next_id;
	uint64_t		 nsent;		/* segments sent */
	struct ipc_dns		 seg;		/* the one being sent */
};

/* A query taken out of a connection. */
struct dns_tcp_query {
	uint64_t		 conn;		/* for dns_tcp_answer() */
	struct ipc_sockaddr	 client;
	struct ipc_sockaddr	 sentinel;
	size_t			 len;
	uint8_t			 msg[DNS_TCP_MSG_MAX];
};

void	 dns_tcp_init(struct dns_tcp *, dns_tcp_send_fn *, void *);
void	 dns_tcp_clear(struct dns_tcp *);
void	 dns_tcp_input(struct dns_tcp *, uint64_t, const struct ipc_dns *);
bool	 dns_tcp_query(struct dns_tcp *, struct dns_tcp_query *);
void	 dns_tcp_answer(struct dns_tcp *, uint64_t, uint64_t, const uint8_t *,
	    size_t);
void	 dns_tcp_timeout(struct dns_tcp *, uint64_t);
uint64_t dns_tcp_deadline(const struct dns_tcp *);

#endif
