/*
 * dns_stub.h: what the stub resolver does with one query to a sentinel
 * (PROTOCOL.md 4.6), sans-IO: answer it here (names of DNS resources,
 * their proxy IPs, use-application-dns.net), drop it (malformed), or
 * leave it to the upstream resolver.
 */
#ifndef FZC_DNS_STUB_H
#define FZC_DNS_STUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controld/dns_proxy.h"
#include "controld/portal_msg.h"

#define DNS_STUB_TTL	1	/* s: proxy IPs are asked for again soon */

enum dns_stub_action {
	DNS_STUB_DROP,		/* malformed: why says how */
	DNS_STUB_REPLY,		/* reply, len: the answer */
	DNS_STUB_FORWARD,	/* for the upstream resolver */
	DNS_STUB_GATEWAY,	/* SRV or TXT of resource_id's name: for the
				   resource's gateway */
};

/* The DNS resource whose pattern matches a name best, if any. */
typedef bool dns_stub_lookup_fn(void *, const char *, char[PORTAL_ID_SIZE],
	    enum portal_ip_stack *);

struct dns_stub_result {
	enum dns_stub_action		 action;
	const char			*why;
	uint8_t				*reply;		/* free() it */
	size_t				 len;
	/* A resource name answered with proxy IPs; fresh: new ones. */
	const struct dns_proxy_name	*proxy;
	bool				 fresh;
	char				 resource_id[PORTAL_ID_SIZE];
	uint16_t			 udp_size;	/* the asker's */
};

void	 dns_stub_query(struct dns_proxy *, dns_stub_lookup_fn *, void *,
	    const uint8_t *, size_t, struct dns_stub_result *);

#endif
