/*
 * dns_doh.h: DNS over HTTPS to the portal's upstream_doh servers
 * (PROTOCOL.md 4.6, RFC 8484): each query forwarded to a DoH sentinel
 * goes out as a POST of application/dns-message, through libcurl's multi
 * interface on controld's loop (HTTP/2 when the server offers it, one
 * connection per server, reused), on protected TCP sockets from tunneld.
 * A server's name is resolved with c-ares against the resolvers the
 * system had before fzc, on protected UDP sockets: never through the
 * sentinels, which the system asks while fzc runs. Failures answer the
 * application with SERVFAIL.
 */
#ifndef FZC_DNS_DOH_H
#define FZC_DNS_DOH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controld/dns_forward.h"
#include "controld/dns_p2p.h"
#include "ipc/ipc.h"

#define DNS_DOH_TIMEOUT_MS	4000	/* a query, connect included */
#define DNS_DOH_BODY_MAX	65535	/* a DNS message's largest */

struct dns_doh;
struct event_base;
struct tunneld_chan;

/*
 * The answer to the query of the asker the query names (its upstream,
 * client, sentinel, TCP connection, UDP size), with the asker's id in
 * place, or a SERVFAIL; NULL: none will come.
 */
typedef void dns_doh_answer_fn(void *, const struct dns_forward_query *,
    const uint8_t *, size_t);

struct dns_doh_config {
	struct event_base	*base;
	struct tunneld_chan	*tc;
	const char		*ca_file;	/* NULL: the system's store */
	const struct dns_p2p_ip	*resolvers;	/* for the servers' names */
	size_t			 nresolvers;
	dns_doh_answer_fn	*answer;
	void			*arg;
};

struct dns_doh	*dns_doh_new(const struct dns_doh_config *);
void		 dns_doh_free(struct dns_doh *);
/* The servers, by index; queries for another list are dropped. */
void dns_doh_set_servers(struct dns_doh *, const char *const *, size_t);
/* A query for server n; false: not taken, no answer will come. */
bool	 dns_doh_query(struct dns_doh *, size_t, const uint8_t *, size_t,
	    const struct dns_forward_query *);
/* An IPC_SOCKET or _FAILED answer (fd -1): 1 if it was ours. */
int		 dns_doh_socket(struct dns_doh *, uint32_t, int);

/* Sans-IO parts. */
/*
 * The server's answer as an HTTP response: NULL if it is a DNS answer
 * to a query sent with id 0, else what is wrong with it.
 */
const char	*dns_doh_check(long, const char *, const uint8_t *, size_t);
/* A SERVFAIL for the query, malloc'd; -1 if it is not a query. */
int dns_doh_servfail(const uint8_t *, size_t, uint8_t **, size_t *);

#endif
