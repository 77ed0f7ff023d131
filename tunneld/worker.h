/* worker.h: a data-plane thread owning one TUN queue and one UDP socket. */
#ifndef FZC_WORKER_H
#define FZC_WORKER_H

#include "ipc/ipc.h"
#include "tunneld/udp.h"

struct peer_tables;
struct tun;
struct worker;

struct worker	*worker_new(struct peer_tables *, int, const struct tun *, int,
		    const struct udp_caps *);
int		 worker_start(struct worker *);
void		 worker_stop(struct worker *);
void		 worker_free(struct worker *);
void		 worker_stats(struct worker *, struct ipc_worker_stats *);

#endif
