/* control.h: the local control socket of fzc-controld. */
#ifndef FZC_CONTROL_H
#define FZC_CONTROL_H

#include <sys/types.h>

#include <jansson.h>
#include <stdint.h>

#include "ipc/ipc.h"

struct control;
struct event_base;
struct session;
struct tunneld_chan;

/* The daemons' status reply, around tunneld's worker counters. */
typedef json_t	*control_status_fn(void *, json_t *);

/* What the control socket works with, all owned by controld.c. */
struct control_env {
	struct event_base	*base;
	struct tunneld_chan	*tc;
	struct session		*session;
	gid_t			 gid;		/* fzc: may connect */
	/* fzc-admin: may also change sign-in and routing; -1: none */
	gid_t			 admin_gid;
	control_status_fn	*status;
	void			*arg;
};

/* What changed, for control_notify(). */
#define CONTROL_CHANGED_PORTAL		0x01	/* state, Internet switch */
#define CONTROL_CHANGED_RESOURCES	0x02	/* list or authorizations */
#define CONTROL_CHANGED_PEERS		0x04	/* a peer may come or go */

struct control	*control_init(const struct control_env *, int);
void		 control_notify(struct control *, int);
void		 control_free(struct control *);
int		 control_socket_answer(struct control *, uint32_t, int, int);
int		 control_stats(struct control *, const struct ipc_msg *);

#endif
