/*
 * dns_upstream.h: the effective upstream resolvers and their sentinels
 * (PROTOCOL.md 4.6): the portal's Do53 list, else its DoH list, else
 * the resolvers the system had before fzc, each reached through one
 * sentinel address inside the tunnel.
 */
#ifndef FZC_DNS_UPSTREAM_H
#define FZC_DNS_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controld/portal_msg.h"

#include <jansson.h>

#define DNS_UPSTREAM_MAX	8
#define DNS_UPSTREAM_URL_MAX	1025	/* the portal's longest, and NUL */

struct dns_upstream {
	struct portal_addr	 addr;		/* the resolver, port 53 */
	char			 url[DNS_UPSTREAM_URL_MAX]; /* DoH, or "" */
	struct portal_addr	 sentinel;	/* where applications ask */
};

/* Where the list came from, for the log and status. */
enum dns_upstream_source {
	DNS_UPSTREAM_NONE,
	DNS_UPSTREAM_PORTAL_DO53,
	DNS_UPSTREAM_PORTAL_DOH,
	DNS_UPSTREAM_SYSTEM,
};

size_t dns_upstream_parse_resolv(const char *, struct portal_addr *, size_t);
bool	 dns_upstream_is_sentinel(const struct portal_addr *);
enum dns_upstream_source dns_upstream_effective(const struct portal_interface *,
	    const struct portal_addr *, size_t, struct dns_upstream *, size_t *);
int	 dns_upstream_by_sentinel(const struct dns_upstream *, size_t,
	    const struct portal_addr *);
const char *dns_upstream_source_name(enum dns_upstream_source);
json_t	*dns_upstream_json(const struct dns_upstream *, size_t,
	    enum dns_upstream_source);

#endif
