/*
 * Whether and when to connect to the portal again: the classification of
 * a refused connect (PROTOCOL.md 1.6), Retry-After and the reconnect
 * backoff (1.8). Pure functions: time and randomness come from the
 * caller.
 */

#ifndef FZC_PORTAL_BACKOFF_H
#define FZC_PORTAL_BACKOFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/timer.h"

#define PORTAL_BACKOFF_FIRST_NS		(1ULL * NSEC_PER_SEC)
#define PORTAL_BACKOFF_FIRST_FIXED_NS	(15ULL * NSEC_PER_SEC)
#define PORTAL_BACKOFF_INITIAL_NS	(NSEC_PER_SEC / 2)
#define PORTAL_BACKOFF_MAX_NS		(60ULL * NSEC_PER_SEC)

enum portal_verdict {
	PORTAL_RETRY = 0,	/* hiccup: wait, then reconnect */
	PORTAL_STOP,		/* fatal, keep the token */
	PORTAL_STOP_SIGNOUT,	/* fatal, delete the token */
};

struct portal_backoff {
	bool		 joined_once;
	bool		 running;	/* within a run of failures */
	uint64_t	 start;		/* when the run began */
	uint64_t	 interval;
	uint64_t	 budget;	/* --max-partition-time; 0: none */
};

enum portal_verdict	portal_backoff_classify(int, const char *, size_t);
bool	portal_backoff_retry_after(const char *, time_t, uint64_t *);
void	portal_backoff_init(struct portal_backoff *, uint64_t);
void	portal_backoff_joined(struct portal_backoff *);
void	portal_backoff_reset(struct portal_backoff *);
bool	portal_backoff_next(struct portal_backoff *, uint64_t, uint32_t,
	    uint64_t *);
bool	portal_backoff_delay(struct portal_backoff *, uint64_t,
	    const char *, time_t, uint32_t, uint64_t *);

#endif
