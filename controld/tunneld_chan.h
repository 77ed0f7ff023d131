/*
 * tunneld_chan.h: controld's end of the IPC channel to tunneld, as the
 * session, the control socket and the WireGuard mode use it: messages
 * queue when tunneld is busy, requests take ids from one counter.
 */
#ifndef FZC_TUNNELD_CHAN_H
#define FZC_TUNNELD_CHAN_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/ipc.h"

struct event;
struct event_base;

struct tunneld_chan {
	struct ipc_chan	 chan;
	struct event	*ev_write;
	uint32_t	 next_id;
};

void		 tunneld_chan_init(struct tunneld_chan *, struct event_base *,
		    int);
void		 tunneld_chan_clear(struct tunneld_chan *);
void		 tunneld_chan_send(struct tunneld_chan *, enum ipc_type,
		    uint32_t, const void *, size_t);
uint32_t	 tunneld_chan_request(struct tunneld_chan *, enum ipc_type,
		    const void *, size_t);
int		 tunneld_chan_request_socket(struct tunneld_chan *, int, int,
		    uint32_t *);
int		 tunneld_chan_request_stats(struct tunneld_chan *, uint32_t *);

#endif
