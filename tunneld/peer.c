/*
 * peer.c: the tables the main thread shares with the workers. The main
 * thread changes them, under the locks documented beside each structure
 * in peer.h; workers read them for every packet.
 */
#include <sys/socket.h>

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "tunneld/iphdr.h"
#include "tunneld/peer.h"

/* Packets held for a resource wait this long for its authorization. */
#define PEER_HOLD_NS		(20 * 1000000000ULL)

/* Index table: receiver index -> keypair or pending initiation. */
struct peer_index {
	struct peer_index	*next;
	uint32_t		 index;
	struct peer		*peer;
	struct keypair		*kp;	/* NULL: a pending initiation */
};

struct peer_aip {
	uint8_t			 addr[16];
	uint8_t			 prefixlen;
	struct peer		*peer;
};

void
peer_tables_init(struct peer_tables *t, unsigned mtu)
{
	memset(t, 0, sizeof(*t));
	t->mtu = mtu;
	pthread_rwlock_init(&t->index_lock, NULL);
	pthread_rwlock_init(&t->table_lock, NULL);
	pthread_mutex_init(&t->held_lock, NULL);
	handoff_init(&t->handoff);
}

void
peer_tables_clear(struct peer_tables *t)
{
	struct peer_index	*e;
	size_t			 i;

	for (i = 0; i < PEER_INDEX_BUCKETS; i++)
		while ((e = t->index[i]) != NULL) {
			t->index[i] = e->next;
			free(e);
		}
	free(t->aip4.v);
	free(t->aip6.v);
	for (i = 0; i < t->nresources; i++) {
		stage_clear(&t->resources[i]->held, t->mtu);
		free(t->resources[i]);
	}
	free(t->resources);
	handoff_free(&t->handoff);
	pthread_mutex_destroy(&t->held_lock);
	pthread_rwlock_destroy(&t->table_lock);
	pthread_rwlock_destroy(&t->index_lock);
}

void
peer_init(struct peer *peer, struct peer_tables *t)
{
	peer->tables = t;
	pthread_mutex_init(&peer->lock, NULL);
}

/* A worker may have staged a packet after the peer was removed. */
void
peer_fini(struct peer *peer)
{
	pthread_mutex_lock(&peer->lock);
	stage_clear(&peer->staged, peer->tables->mtu);
	pthread_mutex_unlock(&peer->lock);
	pthread_mutex_destroy(&peer->lock);
}

static struct peer_index **
index_slot(struct peer_tables *t, uint32_t index)
{
	struct peer_index	**e;

	e = &t->index[index % PEER_INDEX_BUCKETS];
	while (*e != NULL && (*e)->index != index)
		e = &(*e)->next;
	return (e);
}

uint32_t
peer_index_insert(struct peer_tables *t, struct peer *peer,
    struct keypair *kp)
{
	struct peer_index	*e;
	uint32_t		 index;

	e = xcalloc(1, sizeof(*e));
	pthread_rwlock_wrlock(&t->index_lock);
	do {
		index = randombytes_random();
	} while (index == 0 || *index_slot(t, index) != NULL);
	e->index = index;
	e->peer = peer;
	e->kp = kp;
	e->next = t->index[index % PEER_INDEX_BUCKETS];
	t->index[index % PEER_INDEX_BUCKETS] = e;
	pthread_rwlock_unlock(&t->index_lock);
	return (index);
}

void
peer_index_remove(struct peer_tables *t, uint32_t index)
{
	struct peer_index	**slot, *e;

	pthread_rwlock_wrlock(&t->index_lock);
	if ((e = *(slot = index_slot(t, index))) != NULL)
		*slot = e->next;
	pthread_rwlock_unlock(&t->index_lock);
	free(e);
}

void
peer_index_set_keypair(struct peer_tables *t, uint32_t index,
    struct keypair *kp)
{
	struct peer_index	*e;

	pthread_rwlock_wrlock(&t->index_lock);
	if ((e = *index_slot(t, index)) != NULL)
		e->kp = kp;
	pthread_rwlock_unlock(&t->index_lock);
}

struct peer *
peer_index_pending(struct peer_tables *t, uint32_t index)
{
	struct peer_index	*e;
	struct peer		*peer = NULL;

	pthread_rwlock_rdlock(&t->index_lock);
	if ((e = *index_slot(t, index)) != NULL && e->kp == NULL)
		peer = e->peer;
	pthread_rwlock_unlock(&t->index_lock);
	return (peer);
}

/* Keypairs are shared with workers and freed by the last reference. */

struct keypair *
peer_keypair_new(struct peer *peer, const struct wg_keypair *src)
{
	struct keypair	*kp;

	kp = xcalloc(1, sizeof(*kp));
	memcpy(&kp->kp, src, sizeof(kp->kp));
	atomic_init(&kp->kp.send_counter, atomic_load(&src->send_counter));
	atomic_init(&kp->refs, 1);
	pthread_mutex_init(&kp->replay_lock, NULL);
	kp->peer = peer;
	return (kp);
}

void
peer_keypair_put(struct keypair *kp)
{
	if (atomic_fetch_sub(&kp->refs, 1) != 1)
		return;
	pthread_mutex_destroy(&kp->replay_lock);
	wg_transport_keypair_clear(&kp->kp);
	free(kp);
}

/* Takes a keypair out of service: first unreachable, then released. */
void
peer_keypair_retire(struct peer_tables *t, struct keypair *kp)
{
	if (kp == NULL)
		return;
	peer_index_remove(t, kp->kp.local_index);
	peer_keypair_put(kp);
}

struct keypair *
peer_keypair_get(struct peer_tables *t, uint32_t index)
{
	struct peer_index	*e;
	struct keypair		*kp = NULL;

	pthread_rwlock_rdlock(&t->index_lock);
	if ((e = *index_slot(t, index)) != NULL && e->kp != NULL) {
		kp = e->kp;
		atomic_fetch_add(&kp->refs, 1);
	}
	pthread_rwlock_unlock(&t->index_lock);
	return (kp);
}

/* The keypair to send with, referenced, or NULL: handshake needed. */
struct keypair *
peer_current_keypair(struct peer *peer)
{
	struct keypair	*kp;

	pthread_mutex_lock(&peer->lock);
	if ((kp = peer->current) != NULL)
		atomic_fetch_add(&kp->refs, 1);
	pthread_mutex_unlock(&peer->lock);
	return (kp);
}

/* A worker saw data on the responder's new keypair: it becomes current. */
void
peer_confirm(struct peer *peer, struct keypair *kp)
{
	struct keypair	*old = NULL;

	pthread_mutex_lock(&peer->lock);
	if (peer->next == kp) {
		old = peer->previous;
		peer->previous = peer->current;
		peer->current = kp;
		peer->next = NULL;
	}
	pthread_mutex_unlock(&peer->lock);
	/* Rare (once per handshake): a worker may take the write lock. */
	peer_keypair_retire(peer->tables, old);
	peer_raise(peer, PEER_EV_CONFIRMED);
}

void
peer_raise(struct peer *peer, uint32_t ev)
{
	struct peer_tables	*t = peer->tables;
	uint32_t		 old;

	old = atomic_fetch_or_explicit(&peer->events, ev,
	    memory_order_relaxed);
	if ((old & ev) == ev)
		return;
	/* A handshake to start, or a session confirmed: no waiting. */
	if ((ev & (PEER_EV_WANT_HANDSHAKE | PEER_EV_CONFIRMED)) != 0 ||
	    atomic_exchange(&t->timers_pending, 1) == 0)
		handoff_wake(&t->handoff);
}

void
peer_stage(struct peer *peer, const uint8_t *pkt, size_t len)
{
	pthread_mutex_lock(&peer->lock);
	stage_push(&peer->staged, peer->tables->mtu, pkt, len);
	pthread_mutex_unlock(&peer->lock);
}

bool
peer_path(struct peer *peer, struct sockaddr_in6 *dst, uint16_t *channel)
{
	bool	 has;

	pthread_mutex_lock(&peer->lock);
	has = peer->has_endpoint;
	*dst = peer->endpoint;
	*channel = peer->channel;
	pthread_mutex_unlock(&peer->lock);
	return (has);
}

/* Allowed IPs: longest prefix first, so the first match wins. */

static int
aip_cmp(const void *a, const void *b)
{
	return ((int)((const struct peer_aip *)b)->prefixlen -
	    (int)((const struct peer_aip *)a)->prefixlen);
}

static int
prefix_match(const uint8_t *prefix, uint8_t prefixlen, const uint8_t *addr)
{
	unsigned	 full = prefixlen / 8, rest = prefixlen % 8;

	if (memcmp(prefix, addr, full) != 0)
		return (0);
	return (rest == 0 ||
	    ((prefix[full] ^ addr[full]) & (0xff00 >> rest)) == 0);
}

static struct peer *
aip_lookup(const struct peer_aip_table *t, const uint8_t *addr)
{
	size_t	 i;

	for (i = 0; i < t->n; i++)
		if (prefix_match(t->v[i].addr, t->v[i].prefixlen, addr))
			return (t->v[i].peer);
	return (NULL);
}

static struct peer *
lookup_addr(struct peer_tables *t, const uint8_t *pkt, size_t len, int src)
{
	if (len >= IP4_HDR_MIN && iphdr_version(pkt) == IPHDR_V4)
		return (aip_lookup(&t->aip4, pkt + (src ? IP4_SRC : IP4_DST)));
	if (len >= IP6_HDR_LEN && iphdr_version(pkt) == IPHDR_V6)
		return (aip_lookup(&t->aip6, pkt + (src ? IP6_SRC : IP6_DST)));
	return (NULL);
}

struct peer *
peer_lookup_dst(struct peer_tables *t, const uint8_t *pkt, size_t len)
{
	struct peer	*peer;

	pthread_rwlock_rdlock(&t->table_lock);
	peer = lookup_addr(t, pkt, len, 0);
	pthread_rwlock_unlock(&t->table_lock);
	return (peer);
}

bool
peer_src_allowed(struct peer_tables *t, struct peer *peer,
    const uint8_t *pkt, size_t len)
{
	struct peer	*p;

	pthread_rwlock_rdlock(&t->table_lock);
	p = lookup_addr(t, pkt, len, 1);
	pthread_rwlock_unlock(&t->table_lock);
	return (p == peer);
}

int
peer_add_allowed_ip(struct peer_tables *t, struct peer *peer,
    const struct ipc_prefix *p)
{
	struct peer_aip_table	*a = p->family == AF_INET ? &t->aip4 :
	    &t->aip6;
	size_t			 i;

	for (i = 0; i < a->n; i++)
		if (a->v[i].prefixlen == p->prefixlen &&
		    memcmp(a->v[i].addr, p->addr, 16) == 0)
			return (-1);
	pthread_rwlock_wrlock(&t->table_lock);
	a->v = xreallocarray(a->v, a->n + 1, sizeof(*a->v));
	memcpy(a->v[a->n].addr, p->addr, 16);
	a->v[a->n].prefixlen = p->prefixlen;
	a->v[a->n].peer = peer;
	a->n++;
	qsort(a->v, a->n, sizeof(*a->v), aip_cmp);
	pthread_rwlock_unlock(&t->table_lock);
	return (0);
}

static void
aip_remove_peer(struct peer_aip_table *a, const struct peer *peer)
{
	size_t	 i, j;

	for (i = j = 0; i < a->n; i++)
		if (a->v[i].peer != peer)
			a->v[j++] = a->v[i];
	a->n = j;
}

void
peer_remove_allowed_ips(struct peer_tables *t, const struct peer *peer)
{
	pthread_rwlock_wrlock(&t->table_lock);
	aip_remove_peer(&t->aip4, peer);
	aip_remove_peer(&t->aip6, peer);
	pthread_rwlock_unlock(&t->table_lock);
}

/*
 * A packet no peer takes: if a resource covers its destination, hold it
 * and flag the resource for the main thread, which asks for an
 * authorization (PROTOCOL 2.3).
 */
bool
peer_unrouted(struct peer_tables *t, const uint8_t *pkt, size_t len)
{
	struct peer_resource	*best = NULL, *r;
	const uint8_t		*dst;
	size_t			 i;
	int			 family;

	if (len >= IP4_HDR_MIN && iphdr_version(pkt) == IPHDR_V4) {
		family = AF_INET;
		dst = pkt + IP4_DST;
	} else if (len >= IP6_HDR_LEN && iphdr_version(pkt) == IPHDR_V6) {
		family = AF_INET6;
		dst = pkt + IP6_DST;
	} else
		return (false);
	pthread_rwlock_rdlock(&t->table_lock);
	for (i = 0; i < t->nresources; i++) {
		r = t->resources[i];
		if (r->family == family &&
		    prefix_match(r->addr, r->prefixlen, dst) &&
		    (best == NULL || r->prefixlen > best->prefixlen))
			best = r;
	}
	if (best != NULL) {
		pthread_mutex_lock(&t->held_lock);
		stage_push(&best->held, t->mtu, pkt, len);
		pthread_mutex_unlock(&t->held_lock);
		if (atomic_exchange(&best->wanted, 1) == 0)
			handoff_wake(&t->handoff);
	}
	pthread_rwlock_unlock(&t->table_lock);
	return (best != NULL);
}

static bool
same_resource(const struct peer_resource *r, const struct ipc_prefix *p,
    const char *id)
{
	return (strcmp(r->id, id) == 0 && r->family == p->family &&
	    r->prefixlen == p->prefixlen && memcmp(r->addr, p->addr, 16) == 0);
}

int
peer_add_resource(struct peer_tables *t, const struct ipc_prefix *p,
    const char *id)
{
	struct peer_resource	*r;
	size_t			 i;

	for (i = 0; i < t->nresources; i++)
		if (same_resource(t->resources[i], p, id))
			return (-1);
	r = xcalloc(1, sizeof(*r));
	memcpy(r->addr, p->addr, sizeof(r->addr));
	r->prefixlen = p->prefixlen;
	r->family = p->family;
	snprintf(r->id, sizeof(r->id), "%s", id);
	pthread_rwlock_wrlock(&t->table_lock);
	t->resources = xreallocarray(t->resources, t->nresources + 1,
	    sizeof(*t->resources));
	t->resources[t->nresources++] = r;
	pthread_rwlock_unlock(&t->table_lock);
	return (0);
}

int
peer_del_resource(struct peer_tables *t, const struct ipc_prefix *p,
    const char *id)
{
	struct peer_resource	*r = NULL;
	size_t			 i;

	pthread_rwlock_wrlock(&t->table_lock);
	for (i = 0; i < t->nresources; i++)
		if (same_resource(t->resources[i], p, id)) {
			r = t->resources[i];
			t->resources[i] = t->resources[--t->nresources];
			break;
		}
	pthread_rwlock_unlock(&t->table_lock);
	if (r != NULL)
		stage_clear(&r->held, t->mtu);
	free(r);
	return (r == NULL ? -1 : 0);
}

/* The portal refused the resource: what was held for it goes. */
int
peer_drop_held(struct peer_tables *t, const char *id)
{
	size_t	 i;
	int	 n = 0;

	pthread_mutex_lock(&t->held_lock);
	for (i = 0; i < t->nresources; i++)
		if (strcmp(t->resources[i]->id, id) == 0) {
			n += t->resources[i]->held.n;
			stage_clear(&t->resources[i]->held, t->mtu);
		}
	pthread_mutex_unlock(&t->held_lock);
	return (n);
}

/*
 * The resource's packets held so far go to the peer now authorized for
 * it, in order, to be sent once its handshake completes.
 */
int
peer_claim_held(struct peer_tables *t, struct peer *peer, const char *id)
{
	struct peer_resource	*r;
	size_t			 i;
	int			 k, n = 0;

	pthread_mutex_lock(&t->held_lock);
	for (i = 0; i < t->nresources; i++) {
		r = t->resources[i];
		if (strcmp(r->id, id) != 0)
			continue;
		for (k = 0; k < r->held.n; k++)
			peer_stage(peer, r->held.buf + (size_t)k * t->mtu,
			    r->held.len[k]);
		n += r->held.n;
		stage_clear(&r->held, t->mtu);
	}
	pthread_mutex_unlock(&t->held_lock);
	return (n);
}

/*
 * The resources workers flagged go to fn, at most once a second each: a
 * flood asks once. What waited too long for an answer is dropped.
 */
void
peer_report_unrouted(struct peer_tables *t, uint64_t now,
    peer_report_fn *fn, void *arg)
{
	struct peer_resource	*r;
	size_t			 i;

	for (i = 0; i < t->nresources; i++) {
		r = t->resources[i];
		pthread_mutex_lock(&t->held_lock);
		if (r->held.n > 0 && now - r->held.since > PEER_HOLD_NS) {
			log_info("resource %s: %d packets held for it dropped: "
			    "no authorization in %llu s", r->id, r->held.n,
			    (unsigned long long)(PEER_HOLD_NS / WG_NSEC));
			stage_clear(&r->held, t->mtu);
		}
		pthread_mutex_unlock(&t->held_lock);
		if (atomic_exchange(&r->wanted, 0) == 0 ||
		    (r->last_report != 0 && now - r->last_report < WG_NSEC))
			continue;
		r->last_report = now;
		if (fn != NULL)
			fn(arg, r->id);
	}
}

static bool
same_addr(const struct sockaddr_in6 *a, const struct sockaddr_in6 *b)
{
	return (a->sin6_port == b->sin6_port &&
	    memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)) == 0);
}

bool
peer_is_relay(struct peer_tables *t, const struct sockaddr_in6 *src)
{
	size_t	 i;
	bool	 found = false;

	pthread_rwlock_rdlock(&t->table_lock);
	for (i = 0; i < t->nrelays && !found; i++)
		found = same_addr(&t->relays[i], src);
	pthread_rwlock_unlock(&t->table_lock);
	return (found);
}

int
peer_relay_add(struct peer_tables *t, const struct sockaddr_in6 *a)
{
	int	 rc = 0;

	if (peer_is_relay(t, a))
		return (0);
	pthread_rwlock_wrlock(&t->table_lock);
	if (t->nrelays == PEER_MAX_RELAYS)
		rc = -1;
	else
		t->relays[t->nrelays++] = *a;
	pthread_rwlock_unlock(&t->table_lock);
	return (rc);
}

void
peer_relay_del(struct peer_tables *t, const struct sockaddr_in6 *a)
{
	size_t	 i;

	pthread_rwlock_wrlock(&t->table_lock);
	for (i = 0; i < t->nrelays; i++)
		if (same_addr(&t->relays[i], a)) {
			t->relays[i] = t->relays[--t->nrelays];
			break;
		}
	pthread_rwlock_unlock(&t->table_lock);
}

int
peer_queue_handshake(struct peer_tables *t, const uint8_t *msg, size_t len,
    const struct sockaddr_in6 *src)
{
	if (len > WG_INITIATION_LEN ||
	    handoff_push(&t->handoff.hs, msg, len, src) == -1)
		return (-1);
	handoff_wake(&t->handoff);
	return (0);
}

/* -2: no agent takes it (plain WireGuard mode); -1: the queue is full. */
int
peer_queue_control(struct peer_tables *t, const uint8_t *msg, size_t len,
    const struct sockaddr_in6 *src)
{
	if (len > HANDOFF_MSG_MAX || !atomic_load(&t->take_ctl))
		return (-2);
	if (handoff_push(&t->handoff.ctl, msg, len, src) == -1)
		return (-1);
	handoff_wake(&t->handoff);
	return (0);
}
