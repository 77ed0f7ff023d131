/*
 * dns_resolve.h: the gateway's own name resolution for DNS resources
 * (PROTOCOL.md 4.6), and the client's of its DoH servers, with the
 * system's resolvers through c-ares, on the event loop: a lookup never
 * blocks it.
 */
#ifndef FZC_DNS_RESOLVE_H
#define FZC_DNS_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "controld/dns_p2p.h"

#define DNS_RESOLVE_MAX		16	/* addresses kept per name */

struct dns_resolve;
struct event_base;

/*
 * A lookup's end: the addresses (n 0: none, or it failed, why says how),
 * or the resolver went away first (n 0, why NULL: do nothing).
 */
typedef void dns_resolve_fn(void *, const struct dns_p2p_ip *, size_t,
    const char *);

/*
 * A query's end: the resolver's answer as it came, whatever its rcode; or
 * none (NULL, why says how); or the resolver went away first (NULL, why
 * NULL: do nothing).
 */
typedef void dns_resolve_raw_fn(void *, const uint8_t *, size_t, const char *);

/* A fresh, unconnected socket (family, type) for c-ares; -1: none. */
typedef int dns_resolve_socket_fn(void *, int, int);

struct dns_resolve *dns_resolve_new(struct event_base *);
void	 dns_resolve_free(struct dns_resolve *);
/*
 * Asks these servers (port 53) instead of /etc/resolv.conf's, through
 * sockets from fn: the client resolves its own names (its DoH servers')
 * with the system's resolvers while the system asks fzc's sentinels.
 */
int	 dns_resolve_set_servers(struct dns_resolve *, const struct dns_p2p_ip *,
	    size_t, dns_resolve_socket_fn *, void *);
void	 dns_resolve_name(struct dns_resolve *, const char *, dns_resolve_fn *,
	    void *);
void	 dns_resolve_raw(struct dns_resolve *, const char *, int,
	    dns_resolve_raw_fn *, void *);

#endif
