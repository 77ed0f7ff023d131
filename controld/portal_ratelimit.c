/*
 * The client's requests for authorization (PROTOCOL.md 2.3): tunneld
 * asks at every packet for a resource not yet authorized, the portal
 * hears at most one request per resource every 2 s.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "controld/portal_msg.h"
#include "controld/portal_ratelimit.h"

struct portal_ratelimit_ent {
	char		 id[PORTAL_ID_SIZE];
	uint64_t	 last;
};

/*
 * At most one request_authorization per resource every 2 s.  Entries
 * older than that are dropped on every call, so the table only holds
 * resources asked for in the last 2 s.
 */
bool
portal_ratelimit_allow(struct portal_ratelimit *rl,
    const char *resource_id, uint64_t now)
{
	struct portal_ratelimit_ent	*ents;
	char				 id[PORTAL_ID_SIZE];
	size_t				 i, j, cap;

	if (!portal_msg_uuid(resource_id, id))
		return (false);
	for (i = j = 0; i < rl->n; i++) {
		if (now >= rl->ents[i].last &&
		    now - rl->ents[i].last >= PORTAL_RATELIMIT_NS)
			continue;
		rl->ents[j++] = rl->ents[i];
	}
	rl->n = j;
	for (i = 0; i < rl->n; i++) {
		if (strcmp(rl->ents[i].id, id) == 0)
			return (false);
	}
	if (rl->n == rl->cap) {
		cap = rl->cap == 0 ? 16 : rl->cap * 2;
		/* Failing open only costs an extra request. */
		if ((ents = reallocarray(rl->ents, cap, sizeof(*ents))) ==
		    NULL)
			return (true);
		rl->ents = ents;
		rl->cap = cap;
	}
	memcpy(rl->ents[rl->n].id, id, sizeof(id));
	rl->ents[rl->n].last = now;
	rl->n++;
	return (true);
}

void
portal_ratelimit_clear(struct portal_ratelimit *rl)
{
	free(rl->ents);
	memset(rl, 0, sizeof(*rl));
}
