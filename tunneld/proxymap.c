/*
 * proxymap.c: names of DNS resources by number, for the workers. A chunk
 * of slots is made when its first name comes and stays until the map
 * goes, so that a worker's pointer to it is never left dangling.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "tunneld/iphdr.h"
#include "tunneld/proxymap.h"

void
proxymap_init(struct proxymap *m)
{
	size_t	 i;

	for (i = 0; i < PROXYMAP_CHUNKS; i++)
		atomic_init(&m->chunk[i], NULL);
}

/* Once no worker runs: everything goes. */
void
proxymap_clear(struct proxymap *m)
{
	proxymap_slot	*c;
	size_t		 i, j;

	for (i = 0; i < PROXYMAP_CHUNKS; i++) {
		if ((c = atomic_load(&m->chunk[i])) == NULL)
			continue;
		for (j = 0; j < PROXYMAP_CHUNK; j++)
			proxymap_name_free(atomic_load(&c[j]));
		free(c);
		atomic_store(&m->chunk[i], NULL);
	}
}

static proxymap_slot *
slot(const struct proxymap *m, uint32_t k)
{
	proxymap_slot	*c;

	if (k >= IPC_PROXY_MAX_NAMES ||
	    (c = atomic_load_explicit(&m->chunk[k / PROXYMAP_CHUNK],
	    memory_order_acquire)) == NULL)
		return (NULL);
	return (&c[k % PROXYMAP_CHUNK]);
}

struct proxymap_name *
proxymap_get(const struct proxymap *m, uint32_t k)
{
	proxymap_slot	*s;

	if ((s = slot(m, k)) == NULL)
		return (NULL);
	return (atomic_load_explicit(s, memory_order_acquire));
}

/* The first name numbered *k or more, *k past it; NULL: none. */
struct proxymap_name *
proxymap_next(const struct proxymap *m, uint32_t *k)
{
	struct proxymap_name	*n;

	while (*k < IPC_PROXY_MAX_NAMES) {
		if (slot(m, *k) == NULL) {
			*k = (*k / PROXYMAP_CHUNK + 1) * PROXYMAP_CHUNK;
			continue;
		}
		if ((n = proxymap_get(m, (*k)++)) != NULL)
			return (n);
	}
	return (NULL);
}

/*
 * Name k of resource id: the one there, or a new one with nothing routed
 * yet. NULL: k is out of range, or another resource's.
 */
struct proxymap_name *
proxymap_put(struct proxymap *m, uint32_t k, const char *id)
{
	struct proxymap_name	*n;
	proxymap_slot		*c;
	size_t			 i;

	if (k >= IPC_PROXY_MAX_NAMES)
		return (NULL);
	if ((n = proxymap_get(m, k)) != NULL)
		return (strcmp(n->id, id) == 0 ? n : NULL);
	if (slot(m, k) == NULL) {
		c = xreallocarray(NULL, PROXYMAP_CHUNK, sizeof(*c));
		for (i = 0; i < PROXYMAP_CHUNK; i++)
			atomic_init(&c[i], NULL);
		atomic_store_explicit(&m->chunk[k / PROXYMAP_CHUNK], c,
		    memory_order_release);
	}
	n = xcalloc(1, sizeof(*n));
	snprintf(n->id, sizeof(n->id), "%s", id);
	atomic_init(&n->routed, 0);
	atomic_init(&n->peer, NULL);
	atomic_init(&n->wanted, 0);
	pthread_mutex_init(&n->lock, NULL);
	atomic_store_explicit(slot(m, k), n, memory_order_release);
	return (n);
}

/* Name k out of the map, for the caller to retire, or NULL. */
struct proxymap_name *
proxymap_take(struct proxymap *m, uint32_t k)
{
	proxymap_slot	*s;

	if ((s = slot(m, k)) == NULL)
		return (NULL);
	return (atomic_exchange_explicit(s, NULL, memory_order_acq_rel));
}

void
proxymap_name_free(void *arg)
{
	struct proxymap_name	*n = arg;

	if (n == NULL)
		return;
	(void)proxymap_drop(n);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

/* Under the name's lock: what it holds goes; returns how many packets. */
static int
held_free(struct proxymap_name *n)
{
	int	 k;

	if (n->held == NULL)
		return (0);
	k = n->held->n;
	stage_clear(n->held);
	free(n->held);
	n->held = NULL;
	return (k);
}

int
proxymap_drop(struct proxymap_name *n)
{
	int	 k;

	pthread_mutex_lock(&n->lock);
	k = held_free(n);
	pthread_mutex_unlock(&n->lock);
	return (k);
}

/* What the name held since before now - age is dropped; how many. */
int
proxymap_expire(struct proxymap_name *n, uint64_t now, uint64_t age)
{
	int	 k = 0;

	pthread_mutex_lock(&n->lock);
	if (n->held != NULL && now - n->held->since > age)
		k = held_free(n);
	pthread_mutex_unlock(&n->lock);
	return (k);
}

/*
 * The name whose routed proxy IP is the packet's destination (or source),
 * or NULL. *proxy says whether that address is a proxy IP at all: one no
 * name routes goes nowhere else either.
 */
struct proxymap_name *
proxymap_lookup(const struct proxymap *m, const uint8_t *pkt, size_t len,
    bool src, bool *proxy)
{
	struct proxymap_name	*n;
	const uint8_t		*addr;
	unsigned		 which;
	long			 k;
	int			 family;

	*proxy = false;
	if (len >= IP4_HDR_MIN && iphdr_version(pkt) == IPHDR_V4) {
		family = AF_INET;
		addr = pkt + (src ? IP4_SRC : IP4_DST);
	} else if (len >= IP6_HDR_LEN && iphdr_version(pkt) == IPHDR_V6) {
		family = AF_INET6;
		addr = pkt + (src ? IP6_SRC : IP6_DST);
	} else
		return (NULL);
	if ((k = ipc_proxy_name(family, addr, &which)) == -1)
		return (NULL);
	*proxy = true;
	if ((n = proxymap_get(m, (uint32_t)k)) == NULL ||
	    (atomic_load_explicit(&n->routed, memory_order_relaxed) &
	    (1u << which)) == 0)
		return (NULL);
	return (n);
}

/* false: dropped (the name holds PROXYMAP_HELD_MAX already, or no room). */
bool
proxymap_hold(struct proxymap_name *n, unsigned mtu, const uint8_t *pkt,
    size_t len)
{
	bool	 held = false;

	pthread_mutex_lock(&n->lock);
	if (n->held == NULL)
		n->held = calloc(1, sizeof(*n->held));
	if (n->held != NULL && n->held->n < PROXYMAP_HELD_MAX)
		held = stage_push(n->held, mtu, pkt, len);
	pthread_mutex_unlock(&n->lock);
	return (held);
}
