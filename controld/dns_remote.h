/*
 * dns_remote.h: SRV and TXT queries for names of DNS resources, which the
 * resource's gateway answers from its own resolver on its tunnel address,
 * UDP port 53535 (PROTOCOL.md 4.6). Sans-IO: what the gateway takes from
 * a client's query, its refusals, and the resolver's answer made the
 * client's. A client's query is untrusted: parsed here, in controld.
 */
#ifndef FZC_DNS_REMOTE_H
#define FZC_DNS_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controld/dns_pattern.h"

#define DNS_REMOTE_PORT		53535
/* The largest answer: one UDP datagram in a 1280-byte tunnel packet. */
#define DNS_REMOTE_MAX		1232

struct dns_remote_query {
	uint16_t	 id;		/* the client's */
	uint16_t	 type;		/* SRV or TXT */
	bool		 rd;
	size_t		 limit;		/* the largest answer it takes */
	char		 asked[DNS_NAME_MAX + 1];	/* as asked, no dot */
	char		 name[DNS_NAME_MAX + 1];	/* lower case */
};

enum dns_remote_action {
	DNS_REMOTE_DROP,	/* malformed, or not a query: why says how */
	DNS_REMOTE_REPLY,	/* answered here (not SRV or TXT): reply */
	DNS_REMOTE_ASK,		/* q for the resolver, once allowed */
};

enum dns_remote_action dns_remote_parse(const uint8_t *, size_t,
    struct dns_remote_query *, uint8_t **, size_t *, const char **);
uint8_t	*dns_remote_error(const struct dns_remote_query *, int, size_t *);
uint8_t	*dns_remote_answer(const struct dns_remote_query *, const uint8_t *,
	    size_t, size_t *);

#endif
