/* client.h: the client role's privileged half: identity, token, state. */
#ifndef FZC_CLIENT_H
#define FZC_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "ipc/ipc.h"

struct client;
struct event_base;

struct client_options {
	const char	*ifname;
	int		 threads;
	const char	*api_url;
	const char	*ca_file;	/* NULL: system store */
	const char	*token_file;
	const char	*state_dir;
	const char	*name;		/* NULL: the host name */
};

struct client	*client_new(struct event_base *, const struct client_options *);
int		 client_send_config(struct client *, struct ipc_chan *);
bool		 client_owns(uint16_t);
int		 client_dispatch(struct client *, struct ipc_chan *,
		    const struct ipc_msg *,
		    const char **);
struct device	*client_device(const struct client *);
void		 client_free(struct client *);

#endif
