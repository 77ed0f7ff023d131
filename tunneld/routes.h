/*
 * routes.h: where an inner packet goes: the peers' allowed IPs, the CIDR
 * resources that hold packets until they are authorized, and the relays
 * ChannelData may come from. A table is immutable once published: the
 * main thread changes a copy and swaps it in, workers read without locks.
 */
#ifndef FZC_ROUTES_H
#define FZC_ROUTES_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ipc/ipc.h"
#include "tunneld/stage.h"

struct peer;

#define ROUTES_MAX_RELAYS	16

struct routes_aip {
	uint8_t			 addr[16];
	uint8_t			 prefixlen;
	struct peer		*peer;
};

/*
 * A CIDR resource: packets to it with no peer ask for authorization. Its
 * identity is immutable; what it holds changes, under its lock.
 */
struct routes_resource {
	uint8_t			 addr[16];
	uint8_t			 prefixlen;
	int			 family;
	char			 id[IPC_ID_MAX];
	_Atomic int		 wanted;	/* set by workers */
	uint64_t		 last_report;	/* main thread only */
	pthread_mutex_t		 lock;
	struct stage		 held;
};

struct routes {
	struct routes_aip	*aip4;		/* longest prefix first */
	size_t			 naip4;
	struct routes_aip	*aip6;
	size_t			 naip6;
	struct routes_resource	**res;		/* shared between tables */
	size_t			 nres;
	/* PROTOCOL 4.1: ChannelData is taken from these relays only. */
	struct sockaddr_in6	 relays[ROUTES_MAX_RELAYS];
	size_t			 nrelays;
};

/* routes.c: building a table, main thread */
struct routes	*routes_copy(const struct routes *);
void		 routes_free(void *);
int		 routes_add_aip(struct routes *, struct peer *,
		    const struct ipc_prefix *);
void		 routes_del_peer(struct routes *, const struct peer *);
struct routes_resource *routes_add_resource(struct routes *,
		    const struct ipc_prefix *, const char *);
struct routes_resource *routes_del_resource(struct routes *,
		    const struct ipc_prefix *, const char *);
void		 routes_resource_free(void *);
bool		 routes_has_relay(const struct routes *,
		    const struct sockaddr_in6 *);
int		 routes_add_relay(struct routes *, const struct sockaddr_in6 *);
bool		 routes_del_relay(struct routes *, const struct sockaddr_in6 *);

/* routes.c: reading a published table, any thread */
struct peer	*routes_lookup(const struct routes *, const uint8_t *, size_t,
		    bool);
struct routes_resource *routes_resource_for(const struct routes *,
		    const uint8_t *, size_t);

#endif
