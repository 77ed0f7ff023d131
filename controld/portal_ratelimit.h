/* portal_ratelimit.h: at most one authorization request per resource. */

#ifndef FZC_PORTAL_RATELIMIT_H
#define FZC_PORTAL_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/timer.h"

#define PORTAL_RATELIMIT_NS	(2 * NSEC_PER_SEC)

struct portal_ratelimit_ent;

struct portal_ratelimit {
	struct portal_ratelimit_ent	*ents;
	size_t				 n;
	size_t				 cap;
};

bool	portal_ratelimit_allow(struct portal_ratelimit *, const char *,
	    uint64_t);
void	portal_ratelimit_clear(struct portal_ratelimit *);

#endif
