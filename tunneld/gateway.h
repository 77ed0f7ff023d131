/* gateway.h: the gateway role's privileged half (PROTOCOL 3). */
#ifndef FZC_GATEWAY_H
#define FZC_GATEWAY_H

#include <stdbool.h>
#include <stdint.h>

#include "ipc/ipc.h"
#include "tunneld/client.h"	/* struct client_options: both roles' */

struct gateway;
struct event_base;

struct gateway	*gateway_new(struct event_base *,
		    const struct client_options *);
int		 gateway_send_config(struct gateway *, struct ipc_chan *);
bool		 gateway_owns(uint16_t);
int		 gateway_dispatch(struct gateway *, struct ipc_chan *,
		    const struct ipc_msg *, const char **);
struct device	*gateway_device(const struct gateway *);
void		 gateway_free(struct gateway *);

#endif
