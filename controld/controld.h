/* controld.h: state shared by fzc-controld's files. */
#ifndef FZC_CONTROLD_H
#define FZC_CONTROLD_H

#include <sys/types.h>

#include <stdint.h>

#include "ipc/ipc.h"

struct event_base;
struct control;
struct session;

struct controld {
	struct event_base	*base;
	struct event		*ev_ipc;
	struct event		*ev_ipc_write;
	struct ipc_chan		 chan;
	struct event		*ev_sigterm;
	struct event		*ev_sigint;
	int			 ipc_fd;
	int			 tunneld_hello;
	struct ipc_hello	 tunneld;
	uint64_t		 started;
	uint32_t		 next_id;
	gid_t			 gid;
	struct control		*control;
	struct session		*session;
	int			 wg_configured;
};

/* controld.c */
int	controld_request_socket(struct controld *, int, int, uint32_t *);
int	controld_request_stats(struct controld *, uint32_t *);
void	controld_send(struct controld *, enum ipc_type, uint32_t,
	    const void *, size_t);

/* wireguard.c */
void	wireguard_configure(struct controld *, const struct ipc_msg *);

/* control.c: what changed, for control_notify() */
#define CONTROL_CHANGED_PORTAL		0x01	/* state, Internet switch */
#define CONTROL_CHANGED_RESOURCES	0x02	/* list or authorizations */
#define CONTROL_CHANGED_PEERS		0x04	/* a peer may come or go */

struct control	*control_init(struct controld *, const char *);
void		 control_notify(struct control *, int);
void		 control_free(struct control *);
int		 control_socket_answer(struct control *, uint32_t, int, int);
int		 control_stats(struct control *, const struct ipc_msg *);

#endif
