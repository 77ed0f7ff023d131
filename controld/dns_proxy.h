/*
 * dns_proxy.h: proxy IPs for the names of DNS resources (PROTOCOL.md
 * 4.5, 4.6): 4 IPv4 addresses from 100.96.0.0/11 and 4 IPv6 addresses
 * from fd00:2021:1111:8000::/107 per name, handed out in order and kept
 * for the life of the process, so that an application that resolved a
 * name before a portal reconnect still reaches it after.
 */
#ifndef FZC_DNS_PROXY_H
#define FZC_DNS_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controld/dns_pattern.h"
#include "ipc/ipc.h"

#define DNS_PROXY_PER_FAMILY	IPC_PROXY_PER_FAMILY
#define DNS_PROXY_MAX_NAMES	IPC_PROXY_MAX_NAMES

struct dns_proxy_name {
	char		 name[DNS_NAME_MAX + 1];	/* lower case, no
							   trailing dot */
	uint8_t		 v4[DNS_PROXY_PER_FAMILY][4];
	uint8_t		 v6[DNS_PROXY_PER_FAMILY][16];
};

struct dns_proxy_bucket;
struct dns_proxy {
	struct dns_proxy_name	**names;	/* by allocation order */
	size_t			  nnames;
	size_t			  cap;
	struct dns_proxy_bucket	**buckets;	/* by name */
	size_t			  nbuckets;
};

void	 dns_proxy_init(struct dns_proxy *);
void	 dns_proxy_clear(struct dns_proxy *);
const struct dns_proxy_name *dns_proxy_get(struct dns_proxy *, const char *,
	    bool *);
const struct dns_proxy_name *dns_proxy_restore(struct dns_proxy *, size_t,
	    const char *);
const struct dns_proxy_name *dns_proxy_find(const struct dns_proxy *,
	    const char *);
const struct dns_proxy_name *dns_proxy_by_addr(const struct dns_proxy *, int,
	    const uint8_t *);
bool	 dns_proxy_in_range(int, const uint8_t *);

#endif
