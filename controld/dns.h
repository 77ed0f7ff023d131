/*
 * dns.h: the DNS stub resolver of fzc-controld (PROTOCOL.md 4.6), the
 * I/O around the sans-IO parts: queries to the sentinels come from
 * tunneld, answers go back to it; what the stub does not answer goes to
 * the upstream resolver over a protected UDP socket from tunneld, or to
 * a DoH server (dns_doh.c).
 */
#ifndef FZC_DNS_H
#define FZC_DNS_H

#include <stdint.h>

#include <jansson.h>

#include "controld/portal_msg.h"
#include "ipc/ipc.h"

struct dns;
struct event_base;
struct session;
struct tunneld_chan;

struct dns	*dns_new(struct event_base *, struct tunneld_chan *,
		    struct session *);
void		 dns_free(struct dns *);
void		 dns_load_system(struct dns *, int);
void		 dns_restore_names(struct dns *, int);
void		 dns_set_interface(struct dns *, const struct portal_interface *);
void		 dns_query(struct dns *, const struct ipc_dns *);
int		 dns_socket(struct dns *, uint32_t, int);
void		 dns_session_changed(struct dns *);
void		 dns_set_ca_file(struct dns *, const char *);
json_t		*dns_status(struct dns *);

#endif
