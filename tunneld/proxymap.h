/*
 * proxymap.h: the names of DNS resources the client's stub resolver
 * answered (PROTOCOL 4.6), by the number controld gave each. A proxy IP
 * leads to its name's number by a sum (ipc_proxy_name), so a worker finds
 * the name, and its gateway, in constant time however many names there
 * are, and a name costs no route of its own. Slots are set by the main
 * thread and read by workers without locks; a name taken out is freed
 * through the reclamation.
 */
#ifndef FZC_PROXYMAP_H
#define FZC_PROXYMAP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/ipc.h"
#include "tunneld/stage.h"

struct peer;

/* PROTOCOL 4.6: packets a name holds until its gateway takes it. */
#define PROXYMAP_HELD_MAX	32
#define PROXYMAP_CHUNK		1024
#define PROXYMAP_CHUNKS \
	((IPC_PROXY_MAX_NAMES + PROXYMAP_CHUNK - 1) / PROXYMAP_CHUNK)

struct proxymap_name {
	char			 id[IPC_ID_MAX];	/* its resource */
	/* Bit i: the name's proxy IP i (4 IPv4, then 4 IPv6) is routed. */
	_Atomic uint8_t		 routed;
	struct peer *_Atomic	 peer;		/* the gateway took it */
	_Atomic int		 wanted;	/* set by workers */
	uint64_t		 last_report;	/* main thread only */
	pthread_mutex_t		 lock;
	struct stage		*held;		/* under lock; NULL: none */
};

typedef struct proxymap_name *_Atomic proxymap_slot;

struct proxymap {
	proxymap_slot *_Atomic	 chunk[PROXYMAP_CHUNKS];
};

/* Main thread. */
void	 proxymap_init(struct proxymap *);
void	 proxymap_clear(struct proxymap *);
struct proxymap_name *proxymap_put(struct proxymap *, uint32_t, const char *);
struct proxymap_name *proxymap_take(struct proxymap *, uint32_t);
void	 proxymap_name_free(void *);
int	 proxymap_drop(struct proxymap_name *);
int	 proxymap_expire(struct proxymap_name *, uint64_t, uint64_t);

/* Any thread. */
struct proxymap_name *proxymap_get(const struct proxymap *, uint32_t);
struct proxymap_name *proxymap_next(const struct proxymap *, uint32_t *);
struct proxymap_name *proxymap_lookup(const struct proxymap *, const uint8_t *,
    size_t, bool, bool *);
bool proxymap_hold(struct proxymap_name *, unsigned, const uint8_t *, size_t);

#endif
