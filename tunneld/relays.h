/* relays.h: TURN allocations on the portal's relays, for local candidates. */
#ifndef FZC_RELAYS_H
#define FZC_RELAYS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/ipc.h"
#include "tunneld/nat/stun.h"

struct event_base;
struct device;
struct relays;

/* A server-reflexive or relayed address learned; related: the base. */
typedef void relays_candidate_fn(void *, bool, const struct stun_addr *);

struct relays	*relays_new(struct event_base *, struct device *,
		    relays_candidate_fn *, void *);
int		 relays_add(struct relays *, const struct ipc_relay *);
int		 relays_del(struct relays *, const char *);
bool		 relays_input(struct relays *, const uint8_t *, size_t,
		    const struct sockaddr_in6 *);
size_t		 relays_count(const struct relays *);
void		 relays_free(struct relays *);

#endif
