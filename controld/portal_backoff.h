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

#define PORTAL_NSEC			1000000000ULL
#define PORTAL_BACKOFF_FIRST_NS		(1ULL * PORTAL_NSEC)
#define PORTAL_BACKOFF_FIRST_BUDGET_NS	(15ULL * PORTAL_NSEC)
#define PORTAL_BACKOFF_INITIAL_NS	(PORTAL_NSEC / 2)
#define PORTAL_BACKOFF_MAX_NS		(60ULL * PORTAL_NSEC)

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
	uint64_t	 budget;	/* after a join; 0: no limit */
};

enum portal_verdict	portal_backoff_classify(int, const char *, size_t);
bool	portal_backoff_retry_after(const char *, time_t, uint64_t *);
void	portal_backoff_init(struct portal_backoff *, uint64_t);
void	portal_backoff_joined(struct portal_backoff *);
bool	portal_backoff_next(struct portal_backoff *, uint64_t, uint32_t,
	    uint64_t *);
bool	portal_backoff_delay(struct portal_backoff *, uint64_t,
	    const char *, time_t, uint32_t, uint64_t *);

#endif
