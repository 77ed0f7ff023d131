/*
 * peer.c: the tables the main thread shares with the workers. The main
 * thread alone changes them and retires what it takes out; workers read
 * them without locks and announce their quiescent states (qsbr.c).
 */
#include <sys/socket.h>

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timer.h"
#include "common/util.h"
#include "tunneld/peer.h"
#include "tunneld/qsbr.h"
#include "tunneld/routes.h"

/* Packets held for a resource wait this long for its authorization. */
#define PEER_HOLD_NS		(20 * NSEC_PER_SEC)

/*
 * Index table: receiver index -> keypair or pending initiation. Entries
 * are immutable but for kp, set once when the handshake completes.
 */
struct peer_index {
	struct peer_index *_Atomic next;
	uint32_t		 index;
	struct peer		*peer;
	struct keypair *_Atomic	 kp;	/* NULL: a pending initiation */
};

void
peer_tables_init(struct peer_tables *t, unsigned mtu, int nworkers,
    peer_kick_fn *kick, void *arg)
{
	size_t	 i;

	memset(t, 0, sizeof(*t));
	t->mtu = mtu;
	t->qsbr = qsbr_new(nworkers, kick, arg);
	atomic_init(&t->routes, routes_copy(NULL));
	proxymap_init(&t->proxies);
	for (i = 0; i < PEER_INDEX_BUCKETS; i++)
		atomic_init(&t->index[i], NULL);
	handoff_init(&t->handoff);
	atomic_init(&t->take_ctl, false);
	atomic_init(&t->timers_pending, 0);
	atomic_init(&t->unrouted, false);
}

/* The workers are gone. */
void
peer_tables_clear(struct peer_tables *t)
{
	struct peer_index	*e;
	struct routes		*r = atomic_load(&t->routes);
	size_t			 i;

	qsbr_free(t->qsbr);
	for (i = 0; i < PEER_INDEX_BUCKETS; i++)
		while ((e = atomic_load(&t->index[i])) != NULL) {
			atomic_store(&t->index[i], atomic_load(&e->next));
			free(e);
		}
	for (i = 0; i < r->nres; i++)
		routes_resource_free(r->res[i]);
	routes_free(r);
	proxymap_clear(&t->proxies);
	handoff_free(&t->handoff);
}

void
peer_init(struct peer *peer, struct peer_tables *t)
{
	peer->tables = t;
	pthread_mutex_init(&peer->tx_lock, NULL);
	pace_init(&peer->pace, t->relay_pace, PEER_PACE_BURST);
	pthread_mutex_init(&peer->lock, NULL);
}

/* A worker may have staged a packet after the peer was removed. */
void
peer_fini(struct peer *peer)
{
	stage_clear(&peer->staged);
	pthread_mutex_destroy(&peer->lock);
	pthread_mutex_destroy(&peer->tx_lock);
}

/* The main thread's view: it is the only writer. */
static struct peer_index *_Atomic *
index_slot(struct peer_tables *t, uint32_t index)
{
	struct peer_index *_Atomic	*slot;
	struct peer_index		*e;

	slot = &t->index[index % PEER_INDEX_BUCKETS];
	while ((e = atomic_load_explicit(slot, memory_order_relaxed)) !=
	    NULL && e->index != index)
		slot = &e->next;
	return (slot);
}

static struct peer_index *
index_find(struct peer_tables *t, uint32_t index)
{
	return (atomic_load_explicit(index_slot(t, index),
	    memory_order_relaxed));
}

/* Published with release: a worker that finds it sees it whole. */
uint32_t
peer_index_insert(struct peer_tables *t, struct peer *peer,
    struct keypair *kp)
{
	struct peer_index *_Atomic	*head;
	struct peer_index		*e;
	uint32_t			 index;

	do {
		index = randombytes_random();
	} while (index == 0 || index_find(t, index) != NULL);
	e = xcalloc(1, sizeof(*e));
	e->index = index;
	e->peer = peer;
	atomic_init(&e->kp, kp);
	head = &t->index[index % PEER_INDEX_BUCKETS];
	atomic_init(&e->next, atomic_load_explicit(head,
	    memory_order_relaxed));
	atomic_store_explicit(head, e, memory_order_release);
	return (index);
}

/* Unlinked at once; a worker walking past it may still be on it. */
void
peer_index_remove(struct peer_tables *t, uint32_t index)
{
	struct peer_index *_Atomic	*slot;
	struct peer_index		*e;

	slot = index_slot(t, index);
	if ((e = atomic_load_explicit(slot, memory_order_relaxed)) == NULL)
		return;
	atomic_store_explicit(slot, atomic_load_explicit(&e->next,
	    memory_order_relaxed), memory_order_release);
	qsbr_retire(t->qsbr, e, free);
}

void
peer_index_set_keypair(struct peer_tables *t, uint32_t index,
    struct keypair *kp)
{
	struct peer_index	*e;

	if ((e = index_find(t, index)) != NULL)
		atomic_store_explicit(&e->kp, kp, memory_order_release);
}

struct peer *
peer_index_pending(struct peer_tables *t, uint32_t index)
{
	struct peer_index	*e;

	if ((e = index_find(t, index)) != NULL &&
	    atomic_load_explicit(&e->kp, memory_order_relaxed) == NULL)
		return (e->peer);
	return (NULL);
}

/* A worker's lookup: valid until its next quiescent state. */
struct keypair *
peer_keypair_by_index(struct peer_tables *t, uint32_t index)
{
	struct peer_index	*e;

	e = atomic_load_explicit(&t->index[index % PEER_INDEX_BUCKETS],
	    memory_order_acquire);
	while (e != NULL && e->index != index)
		e = atomic_load_explicit(&e->next, memory_order_acquire);
	return (e == NULL ? NULL :
	    atomic_load_explicit(&e->kp, memory_order_acquire));
}

struct keypair *
peer_keypair_new(struct peer *peer, const struct wg_keypair *src)
{
	struct keypair	*kp;

	kp = xcalloc(1, sizeof(*kp));
	memcpy(&kp->kp, src, sizeof(kp->kp));
	atomic_init(&kp->kp.send_counter, atomic_load(&src->send_counter));
	pthread_mutex_init(&kp->replay_lock, NULL);
	kp->peer = peer;
	return (kp);
}

static void
keypair_free(void *arg)
{
	struct keypair	*kp = arg;

	pthread_mutex_destroy(&kp->replay_lock);
	wg_transport_keypair_clear(&kp->kp);
	free(kp);
}

/*
 * Takes a keypair out of service: out of the index, and out of the
 * peer's slots already (the caller's part); freed when no worker has it.
 */
void
peer_keypair_retire(struct peer_tables *t, struct keypair *kp)
{
	if (kp == NULL)
		return;
	peer_index_remove(t, kp->kp.local_index);
	qsbr_retire(t->qsbr, kp, keypair_free);
}

/* The keypair a worker's rotation displaced, retired by the main thread. */
void
peer_keypair_collect(struct peer *peer)
{
	struct keypair	*kp;

	pthread_mutex_lock(&peer->lock);
	kp = peer->displaced;
	peer->displaced = NULL;
	pthread_mutex_unlock(&peer->lock);
	peer_keypair_retire(peer->tables, kp);
}

/* The keypair to send with, or NULL: handshake needed. */
struct keypair *
peer_current_keypair(struct peer *peer)
{
	struct keypair	*kp;

	pthread_mutex_lock(&peer->lock);
	kp = peer->current;
	pthread_mutex_unlock(&peer->lock);
	return (kp);
}

/*
 * A worker saw data on the responder's new keypair: it becomes current.
 * Only the main thread retires, so the displaced keypair waits for it;
 * while one waits, the next rotation does too (a later packet retries).
 */
void
peer_confirm(struct peer *peer, struct keypair *kp)
{
	bool	 done = false;

	pthread_mutex_lock(&peer->lock);
	if (peer->next == kp && peer->displaced == NULL) {
		peer->displaced = peer->previous;
		peer->previous = peer->current;
		peer->current = kp;
		peer->next = NULL;
		done = true;
	}
	pthread_mutex_unlock(&peer->lock);
	if (done)
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

/* Routing table: the workers' view, valid until their next quiescence. */

static struct routes *
routes_now(struct peer_tables *t)
{
	return (atomic_load_explicit(&t->routes, memory_order_acquire));
}

/* The main thread's copy to change, then publish. */
static struct routes *
routes_edit(struct peer_tables *t)
{
	return (routes_copy(atomic_load_explicit(&t->routes,
	    memory_order_relaxed)));
}

static void
routes_publish(struct peer_tables *t, struct routes *r)
{
	struct routes	*old;

	old = atomic_exchange_explicit(&t->routes, r, memory_order_acq_rel);
	qsbr_retire(t->qsbr, old, routes_free);
}

/* A proxy IP goes to its name's gateway, whatever the routes say. */
static struct peer *
peer_route(struct peer_tables *t, const uint8_t *pkt, size_t len, bool src)
{
	struct proxymap_name	*n;
	bool			 proxy;

	if ((n = proxymap_lookup(&t->proxies, pkt, len, src, &proxy)) != NULL)
		return (atomic_load_explicit(&n->peer, memory_order_acquire));
	if (proxy)
		return (NULL);
	return (routes_lookup(routes_now(t), pkt, len, src));
}

struct peer *
peer_lookup_dst(struct peer_tables *t, const uint8_t *pkt, size_t len)
{
	return (peer_route(t, pkt, len, false));
}

bool
peer_src_allowed(struct peer_tables *t, struct peer *peer,
    const uint8_t *pkt, size_t len)
{
	return (peer_route(t, pkt, len, true) == peer);
}

bool
peer_is_relay(struct peer_tables *t, const struct sockaddr_in6 *src)
{
	return (routes_has_relay(routes_now(t), src));
}

int
peer_add_allowed_ip(struct peer_tables *t, struct peer *peer,
    const struct ipc_prefix *p)
{
	struct routes	*r = routes_edit(t);

	if (routes_add_aip(r, peer, p) == -1) {
		routes_free(r);
		return (-1);
	}
	routes_publish(t, r);
	return (0);
}

void
peer_remove_allowed_ips(struct peer_tables *t, const struct peer *peer)
{
	struct routes		*r = routes_edit(t);
	struct proxymap_name	*n;
	struct peer		*p;
	uint32_t		 k = 0;

	routes_del_peer(r, peer);
	routes_publish(t, r);
	while ((n = proxymap_next(&t->proxies, &k)) != NULL) {
		p = (struct peer *)peer;
		atomic_compare_exchange_strong(&n->peer, &p, NULL);
	}
}

/*
 * A packet no peer takes: if a resource covers its destination, hold it
 * and flag the resource (or the name of a DNS resource) for the main
 * thread, which asks for an authorization (PROTOCOL 2.3).
 */
bool
peer_unrouted(struct peer_tables *t, const uint8_t *pkt, size_t len)
{
	struct routes_resource	*r;
	struct proxymap_name	*n;
	_Atomic int		*wanted;
	bool			 proxy;

	if ((n = proxymap_lookup(&t->proxies, pkt, len, false, &proxy)) !=
	    NULL) {
		(void)proxymap_hold(n, t->mtu, pkt, len);
		wanted = &n->wanted;
	} else if (proxy)
		return (false);
	else if ((r = routes_resource_for(routes_now(t), pkt, len)) != NULL) {
		pthread_mutex_lock(&r->lock);
		stage_push(&r->held, t->mtu, pkt, len);
		pthread_mutex_unlock(&r->lock);
		wanted = &r->wanted;
	} else
		return (false);
	atomic_store(&t->unrouted, true);
	if (atomic_exchange(wanted, 1) == 0)
		handoff_wake(&t->handoff);
	return (true);
}

/*
 * Proxy IP which of name k of resource id is routed (add) or no longer.
 * A name nothing routes goes, with what it held. -1: k is another
 * resource's, or (taking out) not routed.
 */
int
peer_proxy_route(struct peer_tables *t, uint32_t k, const char *id,
    unsigned which, bool add)
{
	struct proxymap_name	*n;
	uint8_t			 bit = 1u << which;

	if (add) {
		if ((n = proxymap_put(&t->proxies, k, id)) == NULL)
			return (-1);
		atomic_fetch_or(&n->routed, bit);
		return (0);
	}
	if ((n = proxymap_get(&t->proxies, k)) == NULL ||
	    strcmp(n->id, id) != 0 || (atomic_load(&n->routed) & bit) == 0)
		return (-1);
	if ((atomic_fetch_and(&n->routed, (uint8_t)~bit) & ~bit) == 0)
		qsbr_retire(t->qsbr, proxymap_take(&t->proxies, k),
		    proxymap_name_free);
	return (0);
}

/*
 * Name k's gateway took it: its proxy IPs go to peer, and so do the
 * packets it held, in order, once the handshake completes. Returns how
 * many it held.
 */
int
peer_proxy_gateway(struct peer_tables *t, uint32_t k, struct peer *peer)
{
	struct proxymap_name	*n;
	int			 held = 0;

	if ((n = proxymap_get(&t->proxies, k)) == NULL)
		return (0);
	pthread_mutex_lock(&n->lock);
	atomic_store_explicit(&n->peer, peer, memory_order_release);
	if (n->held != NULL) {
		held = n->held->n;
		pthread_mutex_lock(&peer->lock);
		stage_move(&peer->staged, n->held);
		pthread_mutex_unlock(&peer->lock);
		free(n->held);
		n->held = NULL;
	}
	pthread_mutex_unlock(&n->lock);
	return (held);
}

/* The gateway did not take name k: what it held goes. */
int
peer_proxy_drop(struct peer_tables *t, uint32_t k)
{
	struct proxymap_name	*n;

	if ((n = proxymap_get(&t->proxies, k)) == NULL)
		return (0);
	return (proxymap_drop(n));
}

int
peer_add_resource(struct peer_tables *t, const struct ipc_prefix *p,
    const char *id)
{
	struct routes	*r = routes_edit(t);

	if (routes_add_resource(r, p, id) == NULL) {
		routes_free(r);
		return (-1);
	}
	routes_publish(t, r);
	return (0);
}

int
peer_del_resource(struct peer_tables *t, const struct ipc_prefix *p,
    const char *id)
{
	struct routes		*r = routes_edit(t);
	struct routes_resource	*res;

	if ((res = routes_del_resource(r, p, id)) == NULL) {
		routes_free(r);
		return (-1);
	}
	routes_publish(t, r);
	qsbr_retire(t->qsbr, res, routes_resource_free);
	return (0);
}

/* Whether a resource entry is id's, and only's route when only is given. */
static bool
peer_held_for(const struct routes_resource *res, const char *id,
    const struct ipc_prefix *only)
{
	size_t	 alen;

	if (strcmp(res->id, id) != 0)
		return (false);
	if (only == NULL)
		return (true);
	alen = only->family == AF_INET ? 4 : 16;
	return (res->family == only->family &&
	    res->prefixlen == only->prefixlen &&
	    memcmp(res->addr, only->addr, alen) == 0);
}

/* The portal refused the resource: what was held for it goes. */
int
peer_drop_held(struct peer_tables *t, const char *id)
{
	struct routes		*r = routes_now(t);
	struct routes_resource	*res;
	struct proxymap_name	*pn;
	size_t			 i;
	uint32_t		 k = 0;
	int			 n = 0;

	for (i = 0; i < r->nres; i++) {
		res = r->res[i];
		if (!peer_held_for(res, id, NULL))
			continue;
		pthread_mutex_lock(&res->lock);
		n += res->held.n;
		stage_clear(&res->held);
		pthread_mutex_unlock(&res->lock);
	}
	while ((pn = proxymap_next(&t->proxies, &k)) != NULL)
		if (strcmp(pn->id, id) == 0)
			n += proxymap_drop(pn);
	return (n);
}

/*
 * The packets held so far for the resource's route only go to the peer
 * now authorized for it, in order, to be sent once its handshake
 * completes.
 */
int
peer_claim_held(struct peer_tables *t, struct peer *peer, const char *id,
    const struct ipc_prefix *only)
{
	struct routes		*r = routes_now(t);
	struct routes_resource	*res;
	size_t			 i;
	int			 n = 0;

	for (i = 0; i < r->nres; i++) {
		res = r->res[i];
		if (!peer_held_for(res, id, only))
			continue;
		pthread_mutex_lock(&res->lock);
		n += res->held.n;
		pthread_mutex_lock(&peer->lock);
		stage_move(&peer->staged, &res->held);
		pthread_mutex_unlock(&peer->lock);
		pthread_mutex_unlock(&res->lock);
	}
	return (n);
}

static void
peer_log_expired(const char *id, int n)
{
	if (n > 0)
		log_info("resource %s: %d packets held for it dropped: "
			 "no authorization in %d s",
		    id, n, (int)(PEER_HOLD_NS / NSEC_PER_SEC));
}

/*
 * A flagged holder goes to fn at most once a second: a flood asks once.
 * A flag raised within that second stays raised, for the next scan: the
 * packet that raised it may be the only one (a move, a ping). Returns when
 * that scan is due, or 0.
 */
static uint64_t
peer_report(_Atomic int *wanted, uint64_t *last, const char *id, uint64_t now,
    peer_report_fn *fn, void *arg)
{
	if (atomic_load(wanted) == 0)
		return (0);
	if (*last != 0 && now - *last < NSEC_PER_SEC)
		return (*last + NSEC_PER_SEC);
	atomic_store(wanted, 0);
	*last = now;
	if (fn != NULL)
		fn(arg, id);
	return (0);
}

static uint64_t
peer_earlier(uint64_t a, uint64_t b)
{
	return (a == 0 || (b != 0 && b < a) ? b : a);
}

/*
 * The resources and names workers flagged go to fn. What waited too long
 * for an answer is dropped. Returns when a report held back is due, or 0.
 */
uint64_t
peer_report_unrouted(struct peer_tables *t, uint64_t now, peer_report_fn *fn,
    void *arg)
{
	struct routes		*r = routes_now(t);
	struct routes_resource	*res;
	struct proxymap_name	*pn;
	size_t			 i;
	uint32_t		 k = 0;
	uint64_t		 due = 0;
	int			 n;

	if (!atomic_exchange(&t->unrouted, false) &&
	    now - t->unrouted_scan < NSEC_PER_SEC)
		return (0);
	t->unrouted_scan = now;
	for (i = 0; i < r->nres; i++) {
		res = r->res[i];
		pthread_mutex_lock(&res->lock);
		n = 0;
		if (res->held.n > 0 && now - res->held.since > PEER_HOLD_NS) {
			n = res->held.n;
			stage_clear(&res->held);
		}
		pthread_mutex_unlock(&res->lock);
		peer_log_expired(res->id, n);
		due = peer_earlier(due,
		    peer_report(&res->wanted, &res->last_report, res->id, now,
			fn, arg));
	}
	while ((pn = proxymap_next(&t->proxies, &k)) != NULL) {
		peer_log_expired(pn->id,
		    proxymap_expire(pn, now, PEER_HOLD_NS));
		due = peer_earlier(due,
		    peer_report(&pn->wanted, &pn->last_report, pn->id, now, fn,
			arg));
	}
	if (due != 0)
		atomic_store(&t->unrouted, true);
	return (due);
}

int
peer_relay_add(struct peer_tables *t, const struct sockaddr_in6 *a)
{
	struct routes	*r;

	if (routes_has_relay(routes_now(t), a))
		return (0);
	r = routes_edit(t);
	if (routes_add_relay(r, a) == -1) {
		routes_free(r);
		return (-1);
	}
	routes_publish(t, r);
	return (0);
}

void
peer_relay_del(struct peer_tables *t, const struct sockaddr_in6 *a)
{
	struct routes	*r = routes_edit(t);

	if (routes_del_relay(r, a))
		routes_publish(t, r);
	else
		routes_free(r);
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

enum peer_queued
peer_queue_control(struct peer_tables *t, const uint8_t *msg, size_t len,
    const struct sockaddr_in6 *src)
{
	if (len > HANDOFF_MSG_MAX || !atomic_load(&t->take_ctl))
		return (PEER_NOT_OURS);
	if (handoff_push(&t->handoff.ctl, msg, len, src) == -1)
		return (PEER_QUEUE_FULL);
	handoff_wake(&t->handoff);
	return (PEER_QUEUED);
}
