/*
 * qsbr.c: quiescent-state-based reclamation. A global epoch counts
 * retirements; each reader publishes the epoch it last saw at a quiescent
 * state, 0 while offline. An object retired at epoch e may go once every
 * reader shows 0 or at least e: all of them have dropped what they held
 * when it was unlinked.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/util.h"
#include "tunneld/qsbr.h"

/* A cache line each: readers write theirs at every batch. */
struct qsbr_reader {
	_Atomic uint64_t	 seen;		/* 0: offline */
	char			 pad[64 - sizeof(uint64_t)];
};

struct qsbr_retired {
	void			*p;
	qsbr_free_fn		*fn;
	uint64_t		 epoch;
};

struct qsbr {
	_Atomic uint64_t	 epoch;
	struct qsbr_reader	*readers;
	int			 nreaders;
	qsbr_kick_fn		*kick;	/* something waits now */
	void			*kick_arg;
	struct qsbr_retired	*v;
	size_t			 n;
	size_t			 cap;
};

/* Readers start offline: none holds anything before it first runs. */
struct qsbr *
qsbr_new(int nreaders, qsbr_kick_fn *kick, void *arg)
{
	struct qsbr	*q;
	int		 i;

	q = xcalloc(1, sizeof(*q));
	atomic_init(&q->epoch, 1);
	q->nreaders = nreaders;
	if (nreaders > 0)
		q->readers = xcalloc((size_t)nreaders, sizeof(*q->readers));
	for (i = 0; i < nreaders; i++)
		atomic_init(&q->readers[i].seen, 0);
	q->kick = kick;
	q->kick_arg = arg;
	return (q);
}

/* Every reader must be gone: what waits is freed now. */
void
qsbr_free(struct qsbr *q)
{
	size_t	 i;

	if (q == NULL)
		return;
	for (i = 0; i < q->n; i++)
		q->v[i].fn(q->v[i].p);
	free(q->v);
	free(q->readers);
	free(q);
}

/*
 * p is unlinked already. The increment orders the unlink before any
 * reader's later view of the new epoch.
 */
void
qsbr_retire(struct qsbr *q, void *p, qsbr_free_fn *fn)
{
	uint64_t	 e;

	if (p == NULL)
		return;
	e = atomic_fetch_add(&q->epoch, 1) + 1;
	if (q->n == q->cap) {
		q->cap = q->cap == 0 ? 16 : q->cap * 2;
		q->v = xreallocarray(q->v, q->cap, sizeof(*q->v));
	}
	q->v[q->n].p = p;
	q->v[q->n].fn = fn;
	q->v[q->n].epoch = e;
	if (q->n++ == 0 && q->kick != NULL)
		q->kick(q->kick_arg);
}

/* Frees what every reader has passed; returns how many still wait. */
size_t
qsbr_reclaim(struct qsbr *q)
{
	uint64_t	 min = UINT64_MAX, seen;
	size_t		 i, j;
	int		 r;

	if (q->n == 0)
		return (0);
	/* Pairs with the fence in qsbr_online (a Dekker handshake). */
	atomic_thread_fence(memory_order_seq_cst);
	for (r = 0; r < q->nreaders; r++) {
		seen = atomic_load_explicit(&q->readers[r].seen,
		    memory_order_acquire);
		if (seen != 0 && seen < min)
			min = seen;
	}
	for (i = j = 0; i < q->n; i++) {
		if (q->v[i].epoch <= min)
			q->v[i].fn(q->v[i].p);
		else
			q->v[j++] = q->v[i];
	}
	q->n = j;
	return (q->n);
}

/* Release: what the reader did before is done before a free. */
void
qsbr_quiescent(struct qsbr *q, int r)
{
	atomic_store_explicit(&q->readers[r].seen,
	    atomic_load_explicit(&q->epoch, memory_order_acquire),
	    memory_order_release);
}

void
qsbr_offline(struct qsbr *q, int r)
{
	atomic_store_explicit(&q->readers[r].seen, 0, memory_order_release);
}

/*
 * Back from sleep. Either the main thread's next reclaim sees this store,
 * or this reader's next loads see what the main thread unlinked before
 * it: the two fences cannot both miss.
 */
void
qsbr_online(struct qsbr *q, int r)
{
	qsbr_quiescent(q, r);
	atomic_thread_fence(memory_order_seq_cst);
}
