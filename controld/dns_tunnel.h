/*
 * dns_tunnel.h: the client's SRV and TXT queries for names of DNS
 * resources (PROTOCOL.md 4.6), sent through the tunnel to the resource's
 * gateway, UDP port 53535 on its tunnel address, once the authorization
 * is there and the connection up; its answer goes back to the
 * application from the sentinel it asked.
 */
#ifndef FZC_DNS_TUNNEL_H
#define FZC_DNS_TUNNEL_H

#include <stddef.h>
#include <stdint.h>

#include "controld/dns_forward.h"
#include "ipc/ipc.h"

struct dns_tunnel;
struct event_base;
struct session;

/* The answer for whoever asked (NULL: none will come). */
typedef void dns_tunnel_reply_fn(void *, const struct dns_forward_query *,
    const uint8_t *, size_t);

struct dns_tunnel *dns_tunnel_new(struct event_base *, struct session *,
		    dns_tunnel_reply_fn *, void *);
void		 dns_tunnel_free(struct dns_tunnel *);
void dns_tunnel_query(struct dns_tunnel *, const struct ipc_dns *, uint64_t,
    const char *);
void		 dns_tunnel_retry(struct dns_tunnel *);

#endif
