/*
 * qsbr.h: quiescent-state-based reclamation between the workers, which
 * read the shared tables without locks, and the main thread, which alone
 * changes them. A worker announces a quiescent state (it holds no pointer
 * into the tables) at the top of each batch and goes offline while it
 * sleeps. The main thread unlinks an object, retires it, and frees it once
 * every worker has been quiescent since, or offline.
 */
#ifndef FZC_QSBR_H
#define FZC_QSBR_H

#include <stddef.h>

struct qsbr;
typedef void qsbr_free_fn(void *);
typedef void qsbr_kick_fn(void *);

/* qsbr.c: the main thread */
struct qsbr	*qsbr_new(int, qsbr_kick_fn *, void *);
void		 qsbr_free(struct qsbr *);
void		 qsbr_retire(struct qsbr *, void *, qsbr_free_fn *);
size_t		 qsbr_reclaim(struct qsbr *);

/* qsbr.c: reader i, a worker */
void		 qsbr_quiescent(struct qsbr *, int);
void		 qsbr_offline(struct qsbr *, int);
void		 qsbr_online(struct qsbr *, int);

#endif
