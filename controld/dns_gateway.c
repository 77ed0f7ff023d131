/*
 * dns_gateway.c: the gateway's port 53535 (dns_gateway.h). One UDP socket
 * per tunnel address, bound with IP_FREEBIND: the address may not be on
 * the tunnel device yet. Only the tunnel reaches it (tunneld's firewall),
 * where WireGuard vouches for a client's source address, which says who
 * asks. Each query allowed goes to the system's resolvers through c-ares;
 * the loop never waits for one.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "common/log.h"
#include "common/util.h"
#include "controld/dns_forward.h"
#include "controld/dns_gateway.h"
#include "controld/dns_remote.h"
#include "controld/dns_resolve.h"

#define GW_MAX_LOOKUPS	256	/* running at once */
#define GW_QUERY_MAX	4096	/* a datagram larger is no query of ours */

#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND	78	/* Linux 4.15; Debian 12's libc lacks it */
#endif

struct gw_sock {
	int			 fd;	/* -1: none */
	struct event		*ev;
	struct portal_addr	 addr;
};

struct dns_gateway {
	struct event_base	*base;
	dns_gateway_allow_fn	*allow;
	void			*arg;
	struct gw_sock		 sock[2];	/* IPv4, IPv6 */
	struct dns_resolve	*resolver;	/* made at the first query */
	size_t			 nlookups;
};

/* A query the resolver has, and whom to answer. */
struct gw_lookup {
	struct dns_gateway	*g;
	int			 s;		/* sock[s] */
	struct sockaddr_storage	 from;
	socklen_t		 fromlen;
	struct dns_remote_query	 q;
};

static void	gw_read_cb(evutil_socket_t, short, void *);

struct dns_gateway *
dns_gateway_new(struct event_base *base, dns_gateway_allow_fn *allow, void *arg)
{
	struct dns_gateway	*g = xcalloc(1, sizeof(*g));

	g->base = base;
	g->allow = allow;
	g->arg = arg;
	g->sock[0].fd = g->sock[1].fd = -1;
	return (g);
}

static void
gw_close(struct gw_sock *s)
{
	if (s->ev != NULL)
		event_free(s->ev);
	if (s->fd != -1)
		close(s->fd);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

/* Lookups still running end first, with nothing to send. */
void
dns_gateway_free(struct dns_gateway *g)
{
	if (g == NULL)
		return;
	dns_resolve_free(g->resolver);
	gw_close(&g->sock[0]);
	gw_close(&g->sock[1]);
	free(g);
}

static void
gw_open(struct dns_gateway *g, struct gw_sock *s, const struct portal_addr *a)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 on = 1, fd;

	len = dns_forward_sockaddr(a, DNS_REMOTE_PORT, &ss);
	fd = socket(a->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd != -1 && a->family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1) {
		close(fd);
		fd = -1;
	}
	if (fd == -1 ||
	    setsockopt(fd, a->family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
		a->family == AF_INET ? IP_FREEBIND : IPV6_FREEBIND, &on,
		sizeof(on)) == -1 ||
	    bind(fd, (struct sockaddr *)&ss, len) == -1) {
		log_warn("dns: port %d on the tunnel address for SRV and TXT",
		    DNS_REMOTE_PORT);
		if (fd != -1)
			close(fd);
		return;
	}
	if ((s->ev = event_new(g->base, fd, EV_READ | EV_PERSIST, gw_read_cb,
		 g)) == NULL ||
	    event_add(s->ev, NULL) == -1)
		fatalx("dns: cannot watch port %d", DNS_REMOTE_PORT);
	s->fd = fd;
	s->addr = *a;
}

/* The tunnel addresses from the portal's init: listened on, or anew. */
void
dns_gateway_listen(struct dns_gateway *g, const struct portal_interface *iface)
{
	const struct portal_addr	*a[2] = { &iface->ipv4, &iface->ipv6 };
	int				 i;

	for (i = 0; i < 2; i++) {
		if (g->sock[i].fd != -1 &&
		    memcmp(&g->sock[i].addr, a[i], sizeof(*a[i])) == 0)
			continue;
		gw_close(&g->sock[i]);
		if (a[i]->family == (i == 0 ? AF_INET : AF_INET6))
			gw_open(g, &g->sock[i], a[i]);
	}
}

static void
gw_send(struct dns_gateway *g, int s, const struct sockaddr_storage *to,
    socklen_t tolen, uint8_t *msg, size_t len)
{
	if (msg == NULL) {
		log_debug("dns: out of memory for an answer on port %d",
		    DNS_REMOTE_PORT);
		return;
	}
	if (g->sock[s].fd != -1 &&
	    sendto(g->sock[s].fd, msg, len, 0, (const struct sockaddr *)to,
		tolen) == -1)
		log_debug("dns: answering on port %d: %s", DNS_REMOTE_PORT,
		    strerror(errno));
	free(msg);
}

/* The client's tunnel address, as the allow function takes it. */
static const uint8_t *
gw_from(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const uint8_t *)&((const struct sockaddr_in *)ss)
			->sin_addr);
	return ((const uint8_t *)&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* The resolver answered (or not): the client hears, if still allowed. */
static void
gw_answer(void *arg, const uint8_t *abuf, size_t alen, const char *why)
{
	struct gw_lookup	*l = arg;
	struct dns_gateway	*g = l->g;
	uint8_t			*msg = NULL;
	size_t			 len = 0;

	if (abuf == NULL && why == NULL)
		goto done;	/* the resolver went away */
	g->nlookups--;
	/* The authorization may have gone meanwhile. */
	if (!g->allow(g->arg, l->from.ss_family, gw_from(&l->from), l->q.name))
		msg = dns_remote_error(&l->q, LDNS_RCODE_REFUSED, &len);
	else if (abuf != NULL &&
	    (msg = dns_remote_answer(&l->q, abuf, alen, &len)) != NULL)
		log_debug("dns: %s answered by the resolver", l->q.name);
	else {
		log_debug("dns: %s: no answer from the resolver (%s)",
		    l->q.name, why != NULL ? why : "not a DNS answer");
		msg = dns_remote_error(&l->q, LDNS_RCODE_SERVFAIL, &len);
	}
	gw_send(g, l->s, &l->from, l->fromlen, msg, len);
 done:
	free(l);
}

static void
gw_query(struct dns_gateway *g, int s, const struct sockaddr_storage *from,
    socklen_t fromlen, const uint8_t *msg, size_t n)
{
	struct dns_remote_query	 q;
	struct gw_lookup	*l;
	const char		*why;
	uint8_t			*reply;
	size_t			 len;

	switch (dns_remote_parse(msg, n, &q, &reply, &len, &why)) {
	case DNS_REMOTE_DROP:
		log_debug("dns: datagram on port %d dropped: %s",
		    DNS_REMOTE_PORT, why);
		return;
	case DNS_REMOTE_REPLY:
		gw_send(g, s, from, fromlen, reply, len);
		return;
	case DNS_REMOTE_ASK:
		break;
	}
	if (!g->allow(g->arg, from->ss_family, gw_from(from), q.name)) {
		log_debug("dns: %s refused: no client authorized for it there",
		    q.name);
		reply = dns_remote_error(&q, LDNS_RCODE_REFUSED, &len);
		gw_send(g, s, from, fromlen, reply, len);
		return;
	}
	if (g->nlookups == GW_MAX_LOOKUPS) {
		log_debug("dns: %d queries at the resolver; %s dropped",
		    GW_MAX_LOOKUPS, q.name);
		return;
	}
	if (g->resolver == NULL)
		g->resolver = dns_resolve_new(g->base);
	l = xcalloc(1, sizeof(*l));
	l->g = g;
	l->s = s;
	l->from = *from;
	l->fromlen = fromlen;
	l->q = q;
	g->nlookups++;
	dns_resolve_raw(g->resolver, q.asked, q.type, gw_answer, l);
}

static void
gw_read_cb(evutil_socket_t fd, short events, void *arg)
{
	struct dns_gateway	*g = arg;
	struct sockaddr_storage	 from;
	uint8_t			 msg[GW_QUERY_MAX];
	socklen_t		 fromlen;
	ssize_t			 n;
	int			 s = g->sock[0].fd == fd ? 0 : 1;

	(void)events;
	for (;;) {
		fromlen = sizeof(from);
		n = recvfrom(fd, msg, sizeof(msg), MSG_TRUNC,
		    (struct sockaddr *)&from, &fromlen);
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_debug("dns: port %d: %s", DNS_REMOTE_PORT,
				    strerror(errno));
			return;
		}
		if ((size_t)n > sizeof(msg)) {
			log_debug("dns: datagram too large on port %d dropped",
			    DNS_REMOTE_PORT);
			continue;
		}
		gw_query(g, s, &from, fromlen, msg, (size_t)n);
	}
}
