/*
 * dns_tcpup.h: queries to upstream resolvers over TCP (RFC 7766): those
 * that came over TCP, and those whose UDP answer was truncated. Each
 * gets a protected TCP socket of its own from tunneld, carries one query
 * (under an id of ours) and its answer, and is closed.
 */
#ifndef FZC_DNS_TCPUP_H
#define FZC_DNS_TCPUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controld/dns_forward.h"
#include "controld/portal_msg.h"

#define DNS_TCPUP_MAX		64	/* at once */

struct dns_tcpup;
struct event_base;
struct tunneld_chan;

/*
 * The answer for who (its id the application's again), or NULL: none
 * came; fallback, fallback_len: what dns_tcpup_ask() was given.
 */
typedef void dns_tcpup_done_fn(void *, const struct dns_forward_query *,
	    const uint8_t *, size_t, const uint8_t *, size_t);

struct dns_tcpup *dns_tcpup_new(struct event_base *, struct tunneld_chan *,
		    dns_tcpup_done_fn *, void *);
void		 dns_tcpup_free(struct dns_tcpup *);
bool dns_tcpup_ask(struct dns_tcpup *, const struct portal_addr *,
    const uint8_t *, size_t, const struct dns_forward_query *, const uint8_t *,
    size_t);
int dns_tcpup_socket(struct dns_tcpup *, uint32_t, int);

#endif
