/*
 * dns_gateway.h: the gateway's DNS server for its clients' SRV and TXT
 * queries (PROTOCOL.md 4.6): UDP port 53535 on the gateway's tunnel
 * addresses, answered from the gateway's own resolver for a client
 * authorized for a DNS resource whose pattern matches the name, REFUSED
 * for anyone else.
 */
#ifndef FZC_DNS_GATEWAY_H
#define FZC_DNS_GATEWAY_H

#include <stdbool.h>
#include <stdint.h>

#include "controld/portal_msg.h"

struct dns_gateway;
struct event_base;

/* Whether the client with this tunnel address may ask for the name. */
typedef bool dns_gateway_allow_fn(void *, int, const uint8_t *, const char *);

struct dns_gateway *dns_gateway_new(struct event_base *, dns_gateway_allow_fn *,
    void *);
void		 dns_gateway_free(struct dns_gateway *);
void dns_gateway_listen(struct dns_gateway *, const struct portal_interface *);

#endif
