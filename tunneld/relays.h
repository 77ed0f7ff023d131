/*
 * relays.h: TURN allocations on the portal's relays: local candidates,
 * and the relayed paths ICE may choose.
 */
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

struct relays_callbacks {
	/* A server-reflexive or relayed address learned, or (false) lost. */
	void	(*candidate)(void *, bool, const struct stun_addr *, bool);
	/* Data from a peer through the allocation with this relayed address. */
	void	(*data)(void *, const struct stun_addr *,
		    const struct stun_addr *, const uint8_t *, size_t,
		    const struct sockaddr_in6 *);
	void	 *arg;
};

struct relays	*relays_new(struct event_base *, struct device *,
		    const struct relays_callbacks *);
int		 relays_add(struct relays *, const struct ipc_relay *);
int		 relays_del(struct relays *, const char *);
void		 relays_reset(struct relays *);
bool		 relays_input(struct relays *, const uint8_t *, size_t,
		    const struct sockaddr_in6 *);
int		 relays_send(struct relays *, const struct stun_addr *,
		    const struct stun_addr *, const uint8_t *, size_t);
int		 relays_channel(struct relays *, const struct stun_addr *,
		    const struct stun_addr *, struct sockaddr_in6 *,
		    uint16_t *);
bool		 relays_allocated(const struct relays *);
bool		 relays_host_of(const struct relays *, const struct stun_addr *);
int		 relays_send_stats(struct relays *, struct ipc_chan *,
		    uint32_t);
void		 relays_free(struct relays *);

#endif
