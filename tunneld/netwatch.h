/*
 * netwatch.h: whether the network under the tunnel changed, so that the
 * data plane and the portal connection move onto the new path (connlib's
 * "reset", PROTOCOL.md 1.8).
 *
 * The core is sans-IO: it reads rtnetlink messages (links, addresses,
 * routes) handed to it, keeps what it has seen, and says whether one
 * changed the uplink: a default route in the main table came or went,
 * or on a link such a route goes through (any link while none is
 * known) the link came up or a global address came or went; fzc's own
 * device is not the uplink, nor are the links of containers and VMs. Bursts (a link coming up brings its addresses and routes)
 * are debounced into one reset. A jump of CLOCK_BOOTTIME against
 * CLOCK_MONOTONIC (the host slept) or of the monotonic clock against the
 * check interval (the process was stopped) counts as a change too.
 *
 * netwatch_new() wraps it in a multicast rtnetlink socket and timers on
 * an event base and calls back with the reason (IPC_NET_*).
 */
#ifndef FZC_NETWATCH_H
#define FZC_NETWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/timer.h"

struct event_base;
struct nlmsghdr;

/* Quiet this long after the last event of a burst... */
#define NETWATCH_DEBOUNCE_NS	(500 * NSEC_PER_MSEC)
/* ... but no longer than this after its first. */
#define NETWATCH_MAX_DELAY_NS	(2 * NSEC_PER_SEC)
/* The clocks are compared this often... */
#define NETWATCH_CLOCK_NS	(10 * NSEC_PER_SEC)
/* ... and a jump beyond this is a sleep or a stop. */
#define NETWATCH_JUMP_NS	(5 * NSEC_PER_SEC)

#define NETWATCH_MAX_LINKS	64
#define NETWATCH_MAX_ADDRS	64
#define NETWATCH_MAX_ROUTES	32

struct netwatch_addr {
	int		ifindex;
	uint8_t		family;
	uint8_t		addr[16];
};

struct netwatch_route {
	int		oif;
	uint8_t		family;
	uint8_t		gateway[16];
	uint32_t	priority;
};

struct netwatch_state {
	int			 ignore;	/* our device's ifindex, 0 */
	struct {
		int		 ifindex;
		bool		 up;
	}			 links[NETWATCH_MAX_LINKS];
	size_t			 nlinks;
	struct netwatch_addr	 addrs[NETWATCH_MAX_ADDRS];
	size_t			 naddrs;
	struct netwatch_route	 routes[NETWATCH_MAX_ROUTES];
	size_t			 nroutes;

	int			 pending;	/* IPC_NET_*, 0: none */
	uint64_t		 first;
	uint64_t		 last;

	bool			 have_clock;
	uint64_t		 mono;		/* at the last check */
	uint64_t		 boot;
};

void	 netwatch_init(struct netwatch_state *);
void	 netwatch_ignore_link(struct netwatch_state *, int);
/*
 * One message: learns what it says; a notification (not an answer to a
 * dump, learn true) that changed the uplink starts or extends a burst.
 * Returns the IPC_NET_* reason it saw, or 0.
 */
int	 netwatch_input(struct netwatch_state *, uint64_t, const struct nlmsghdr *,
	    bool);
/* A change learned otherwise (news the kernel dropped): a burst too. */
void	 netwatch_note(struct netwatch_state *, uint64_t, int);
/* When netwatch_due() has something to say; TIMER_NEVER: nothing. */
uint64_t netwatch_deadline(const struct netwatch_state *);
/* The reason of the burst that is over by now, or 0; forgets it. */
int	 netwatch_due(struct netwatch_state *, uint64_t);
/* The clocks now: IPC_NET_RESUME after a sleep or a stop, else 0. */
int	 netwatch_clock(struct netwatch_state *, uint64_t, uint64_t);

struct netwatch;
typedef void netwatch_fn(void *, int);

struct netwatch	*netwatch_new(struct event_base *, netwatch_fn *, void *);
void		 netwatch_ignore(struct netwatch *, int);
void		 netwatch_free(struct netwatch *);

#endif
