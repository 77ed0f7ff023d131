/*
 * dns_resolve.c: c-ares on the libevent loop. c-ares says which sockets
 * it wants watched (the socket state callback); each gets an event, and
 * one timer covers c-ares' own timeouts. ares_getaddrinfo asks for A and
 * AAAA together, as getaddrinfo would, from /etc/hosts and the resolvers
 * of /etc/resolv.conf.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <sys/uio.h>

#include <ares.h>
#include <ares_nameser.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/util.h"
#include "controld/dns_resolve.h"

#define RESOLVE_MAX_SOCKS	16

struct resolve_sock {
	ares_socket_t	 fd;
	struct event	*ev;
};

struct dns_resolve {
	struct event_base	*base;
	ares_channel		 ch;
	struct event		*ev_timer;
	struct resolve_sock	 socks[RESOLVE_MAX_SOCKS];
	size_t			 nsocks;
	dns_resolve_socket_fn	*open_socket;
	void			*sock_arg;
};

struct resolve_query {
	struct dns_resolve	*r;
	dns_resolve_fn		*fn;
	void			*arg;
};

static void	resolve_timer_arm(struct dns_resolve *);

static void
resolve_sock_cb(evutil_socket_t fd, short events, void *arg)
{
	struct dns_resolve	*r = arg;

	ares_process_fd(r->ch, (events & EV_READ) ? fd : ARES_SOCKET_BAD,
	    (events & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	resolve_timer_arm(r);
}

static void
resolve_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct dns_resolve	*r = arg;

	(void)fd;
	(void)events;
	ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	resolve_timer_arm(r);
}

static void
resolve_timer_arm(struct dns_resolve *r)
{
	struct timeval	 tv, *t;

	if ((t = ares_timeout(r->ch, NULL, &tv)) == NULL)
		evtimer_del(r->ev_timer);
	else
		evtimer_add(r->ev_timer, t);
}

/* c-ares opened, changed or closed a socket. */
static void
resolve_state_cb(void *arg, ares_socket_t fd, int readable, int writable)
{
	struct dns_resolve	*r = arg;
	struct resolve_sock	*s = NULL;
	size_t			 i;
	short			 ev = EV_PERSIST;

	for (i = 0; i < r->nsocks; i++)
		if (r->socks[i].fd == fd)
			s = &r->socks[i];
	if (s != NULL) {
		event_free(s->ev);
		*s = r->socks[--r->nsocks];
	}
	if (!readable && !writable)
		return;
	if (r->nsocks == RESOLVE_MAX_SOCKS) {
		log_warnx("dns: c-ares wants over %d sockets; one not watched",
		    RESOLVE_MAX_SOCKS);
		return;
	}
	if (readable)
		ev |= EV_READ;
	if (writable)
		ev |= EV_WRITE;
	s = &r->socks[r->nsocks];
	s->fd = fd;
	if ((s->ev = event_new(r->base, fd, ev, resolve_sock_cb, r)) == NULL ||
	    event_add(s->ev, NULL) == -1)
		fatalx("dns: cannot watch a resolver socket");
	r->nsocks++;
}

struct dns_resolve *
dns_resolve_new(struct event_base *base)
{
	static bool		 inited;
	struct ares_options	 o;
	struct dns_resolve	*r;
	int			 rc;

	if (!inited) {
		if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS)
			fatalx("c-ares: %s", ares_strerror(rc));
		inited = true;
	}
	r = xcalloc(1, sizeof(*r));
	r->base = base;
	memset(&o, 0, sizeof(o));
	o.sock_state_cb = resolve_state_cb;
	o.sock_state_cb_data = r;
	if ((rc = ares_init_options(&r->ch, &o, ARES_OPT_SOCK_STATE_CB)) !=
	    ARES_SUCCESS)
		fatalx("c-ares: %s", ares_strerror(rc));
	if ((r->ev_timer = evtimer_new(base, resolve_timer_cb, r)) == NULL)
		fatalx("evtimer_new");
	return (r);
}

static ares_socket_t
resolve_asocket(int family, int type, int protocol, void *arg)
{
	struct dns_resolve	*r = arg;
	int			 fd;

	(void)protocol;
	if ((fd = r->open_socket(r->sock_arg, family, type)) == -1)
		return (ARES_SOCKET_BAD);
	return (fd);
}

static int
resolve_aclose(ares_socket_t fd, void *arg)
{
	(void)arg;
	return (close(fd));
}

static int
resolve_aconnect(ares_socket_t fd, const struct sockaddr *sa,
    ares_socklen_t len, void *arg)
{
	(void)arg;
	return (connect(fd, sa, len));
}

static ares_ssize_t
resolve_arecvfrom(ares_socket_t fd, void *buf, size_t len, int flags,
    struct sockaddr *sa, ares_socklen_t *salen, void *arg)
{
	(void)arg;
	return (recvfrom(fd, buf, len, flags, sa, salen));
}

static ares_ssize_t
resolve_asendv(ares_socket_t fd, const struct iovec *iov, int n, void *arg)
{
	(void)arg;
	return (writev(fd, iov, n));
}

static const struct ares_socket_functions resolve_sockets = {
	.asocket = resolve_asocket,
	.aclose = resolve_aclose,
	.aconnect = resolve_aconnect,
	.arecvfrom = resolve_arecvfrom,
	.asendv = resolve_asendv,
};

int
dns_resolve_set_servers(struct dns_resolve *r, const struct dns_p2p_ip *v,
    size_t n, dns_resolve_socket_fn *fn, void *arg)
{
	struct ares_addr_node	*nodes;
	size_t			 i;
	int			 rc;

	nodes = xcalloc(n > 0 ? n : 1, sizeof(*nodes));
	for (i = 0; i < n; i++) {
		nodes[i].next = i + 1 < n ? &nodes[i + 1] : NULL;
		nodes[i].family = v[i].family;
		memcpy(&nodes[i].addr, v[i].addr,
		    v[i].family == AF_INET ? 4 : 16);
	}
	rc = ares_set_servers(r->ch, n > 0 ? nodes : NULL);
	free(nodes);
	if (rc != ARES_SUCCESS)
		return (-1);
	r->open_socket = fn;
	r->sock_arg = arg;
	ares_set_socket_functions(r->ch, &resolve_sockets, r);
	return (0);
}

/* Lookups still running end with nothing for their callers. */
void
dns_resolve_free(struct dns_resolve *r)
{
	if (r == NULL)
		return;
	ares_destroy(r->ch);
	while (r->nsocks > 0)
		event_free(r->socks[--r->nsocks].ev);
	event_free(r->ev_timer);
	free(r);
}

static void
resolve_done(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct resolve_query		*q = arg;
	struct dns_p2p_ip		 v[DNS_RESOLVE_MAX];
	const struct ares_addrinfo_node	*n;
	const char			*why = NULL;
	size_t				 nv = 0, i;

	(void)timeouts;
	memset(v, 0, sizeof(v));
	if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) {
		q->fn(q->arg, NULL, 0, NULL);
		goto done;
	}
	if (status != ARES_SUCCESS)
		why = ares_strerror(status);
	for (n = res != NULL ? res->nodes : NULL;
	     n != NULL && nv < DNS_RESOLVE_MAX; n = n->ai_next) {
		if (n->ai_family == AF_INET)
			memcpy(v[nv].addr,
			    &((struct sockaddr_in *)(void *)n->ai_addr)
				 ->sin_addr,
			    4);
		else if (n->ai_family == AF_INET6)
			memcpy(v[nv].addr,
			    &((struct sockaddr_in6 *)(void *)n->ai_addr)
				 ->sin6_addr,
			    16);
		else
			continue;
		v[nv].family = n->ai_family;
		for (i = 0; i < nv; i++)
			if (memcmp(&v[i], &v[nv], sizeof(v[0])) == 0)
				break;
		if (i == nv)
			nv++;
		else
			memset(&v[nv], 0, sizeof(v[0]));
	}
	if (nv == 0 && why == NULL)
		why = "no addresses";
	q->fn(q->arg, v, nv, why);
 done:
	if (res != NULL)
		ares_freeaddrinfo(res);
	free(q);
}

void
dns_resolve_name(struct dns_resolve *r, const char *name, dns_resolve_fn *fn,
    void *arg)
{
	struct ares_addrinfo_hints	 h;
	struct resolve_query		*q = xcalloc(1, sizeof(*q));

	q->r = r;
	q->fn = fn;
	q->arg = arg;
	memset(&h, 0, sizeof(h));
	h.ai_family = AF_UNSPEC;
	h.ai_flags = ARES_AI_NOSORT;
	ares_getaddrinfo(r->ch, name, NULL, &h, resolve_done, q);
	resolve_timer_arm(r);
}

struct resolve_raw {
	dns_resolve_raw_fn	*fn;
	void			*arg;
};

static void
resolve_raw_done(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct resolve_raw	*q = arg;

	(void)timeouts;
	if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED)
		q->fn(q->arg, NULL, 0, NULL);
	else if (abuf == NULL || alen <= 0)
		q->fn(q->arg, NULL, 0, ares_strerror(status));
	else
		q->fn(q->arg, abuf, (size_t)alen, NULL);
	free(q);
}

/*
 * A query of type for name, class IN, to the system's resolvers: their
 * answer as it came (an NXDOMAIN or NODATA too), for the caller to pass
 * on. c-ares retries over TCP when the answer is truncated.
 */
void
dns_resolve_raw(struct dns_resolve *r, const char *name, int type,
    dns_resolve_raw_fn *fn, void *arg)
{
	struct resolve_raw	*q = xcalloc(1, sizeof(*q));

	q->fn = fn;
	q->arg = arg;
	ares_query(r->ch, name, C_IN, type, resolve_raw_done, q);
	resolve_timer_arm(r);
}
