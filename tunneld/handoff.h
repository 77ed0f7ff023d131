/*
 * handoff.h: what the workers hand to the main thread: handshakes, STUN
 * and TURN traffic, DNS queries to the sentinels, and the control packets
 * peers send inside the tunnel (PROTOCOL 4.6), in bounded queues,
 * with an eventfd to wake it.
 */
#ifndef FZC_HANDOFF_H
#define FZC_HANDOFF_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define HANDOFF_HS_MAX		256	/* handshake messages queued */
#define HANDOFF_CTL_MAX		64	/* STUN and TURN messages queued */
#define HANDOFF_DNS_MAX		64	/* queries to the sentinels queued */
#define HANDOFF_P2P_MAX		32	/* control packets from peers */
#define HANDOFF_MSG_MAX		1500

/* A datagram a worker hands to the main thread. */
struct handoff_dgram {
	uint8_t			 msg[HANDOFF_MSG_MAX];
	size_t			 len;
	struct sockaddr_in6	 src;
	uint32_t		 peer;		/* the p2p queue's: peer id */
};

/* Bounded: a flood fills it and the rest is dropped, and counted. */
struct handoff_queue {
	pthread_mutex_t		 lock;
	struct handoff_dgram	*v;
	int			 cap;
	int			 head;
	int			 len;
};

struct handoff {
	struct handoff_queue	 hs;
	struct handoff_queue	 ctl;
	struct handoff_queue	 dns;
	struct handoff_queue	 p2p;
	int			 fd;		/* eventfd: wakes main */
	_Atomic int		 pending;
};

/* handoff.c */
void	handoff_init(struct handoff *);
void	handoff_free(struct handoff *);
int	handoff_push(struct handoff_queue *, const uint8_t *, size_t,
	    const struct sockaddr_in6 *);
int	handoff_push_peer(struct handoff_queue *, const uint8_t *, size_t,
	    uint32_t);
int	handoff_pop(struct handoff_queue *, struct handoff_dgram *);
void	handoff_wake(struct handoff *);
void	handoff_woken(struct handoff *);

#endif
