/* handoff.c: bounded queues from the workers to the main thread. */
#include <sys/eventfd.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "tunneld/handoff.h"

static void
queue_init(struct handoff_queue *q, int cap)
{
	pthread_mutex_init(&q->lock, NULL);
	q->v = xcalloc((size_t)cap, sizeof(*q->v));
	q->cap = cap;
	q->head = q->len = 0;
}

static void
queue_free(struct handoff_queue *q)
{
	explicit_bzero(q->v, (size_t)q->cap * sizeof(*q->v));
	free(q->v);
	pthread_mutex_destroy(&q->lock);
}

void
handoff_init(struct handoff *h)
{
	queue_init(&h->hs, HANDOFF_HS_MAX);
	queue_init(&h->ctl, HANDOFF_CTL_MAX);
	queue_init(&h->dns, HANDOFF_DNS_MAX);
	queue_init(&h->p2p, HANDOFF_P2P_MAX);
	if ((h->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		fatal("eventfd");
	atomic_init(&h->pending, 0);
}

void
handoff_free(struct handoff *h)
{
	close(h->fd);
	queue_free(&h->hs);
	queue_free(&h->ctl);
	queue_free(&h->dns);
	queue_free(&h->p2p);
}

/* 0, or -1: the queue is full (or the datagram too long) and it is not. */
static int
handoff_push_from(struct handoff_queue *q, const uint8_t *msg, size_t len,
    const struct sockaddr_in6 *src, uint32_t peer)
{
	struct handoff_dgram	*d;

	if (len > HANDOFF_MSG_MAX)
		return (-1);
	pthread_mutex_lock(&q->lock);
	if (q->len == q->cap) {
		pthread_mutex_unlock(&q->lock);
		return (-1);
	}
	d = &q->v[(q->head + q->len++) % q->cap];
	memcpy(d->msg, msg, len);
	d->len = len;
	d->src = *src;
	d->peer = peer;
	pthread_mutex_unlock(&q->lock);
	return (0);
}

int
handoff_push(struct handoff_queue *q, const uint8_t *msg, size_t len,
    const struct sockaddr_in6 *src)
{
	return (handoff_push_from(q, msg, len, src, 0));
}

/* A packet from inside a peer's tunnel: the peer, not an address. */
int
handoff_push_peer(struct handoff_queue *q, const uint8_t *msg, size_t len,
    uint32_t peer)
{
	static const struct sockaddr_in6	 none;

	return (handoff_push_from(q, msg, len, &none, peer));
}

/* The oldest datagram into *out; returns the backlog it was in, 0: none. */
int
handoff_pop(struct handoff_queue *q, struct handoff_dgram *out)
{
	int	 backlog;

	pthread_mutex_lock(&q->lock);
	if ((backlog = q->len) > 0) {
		*out = q->v[q->head];
		q->head = (q->head + 1) % q->cap;
		q->len--;
	}
	pthread_mutex_unlock(&q->lock);
	return (backlog);
}

/* Wakes the main thread; one pending wake-up is enough for any number. */
void
handoff_wake(struct handoff *h)
{
	uint64_t	 one = 1;

	if (atomic_exchange(&h->pending, 1) == 0 &&
	    write(h->fd, &one, sizeof(one)) == -1)
		log_warn("eventfd");
}

/* The main thread, woken: the next wake-up writes again. */
void
handoff_woken(struct handoff *h)
{
	uint64_t	 v;

	if (read(h->fd, &v, sizeof(v)) == -1 && errno != EAGAIN)
		log_warn("eventfd");
	atomic_store(&h->pending, 0);
}
