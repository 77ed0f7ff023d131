/*
 * dns.c: the stub resolver's I/O. One protected UDP socket per address
 * family carries every forwarded query; the forwarding table (our ids,
 * the resolver asked) decides which answers are taken.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/util.h"
#include "controld/dns.h"
#include "controld/dns_doh.h"
#include "controld/dns_forward.h"
#include "controld/dns_proxy.h"
#include "controld/dns_stub.h"
#include "controld/dns_tunnel.h"
#include "controld/dns_tcp.h"
#include "controld/dns_tcpup.h"
#include "controld/dns_upstream.h"
#include "controld/session_client.h"
#include "controld/tunneld_chan.h"

#define RESOLV_MAX	8192

struct dns_sock {
	int		 fd;		/* -1: none yet */
	uint32_t	 pending;	/* request id, 0: none asked */
	struct event	*ev;
};

struct dns {
	struct event_base	*base;
	struct tunneld_chan	*tc;
	struct session		*session;
	struct dns_proxy	 proxy;
	struct dns_forward	 fwd;
	struct portal_addr	 system[DNS_UPSTREAM_MAX];
	size_t			 nsystem;
	struct dns_upstream	 up[DNS_UPSTREAM_MAX];
	size_t			 nup;
	enum dns_upstream_source src;
	struct dns_doh		*doh;		/* once a DoH server is */
	char			*ca_file;	/* NULL: the system's */
	bool			 have_interface;	/* from the portal */
	struct dns_sock		 sock[2];	/* AF_INET, AF_INET6 */
	struct dns_tunnel	*tunnel;	/* at the first SRV or TXT */
	struct dns_tcp		 tcp;		/* DNS over TCP to sentinels */
	struct event		*tcp_ev;
	struct dns_tcpup	*tcpup;		/* and to upstreams */
	bool			 tcp_draining;
};

static int
fam(int family)
{
	return (family == AF_INET6);
}

static void dns_tcp_send(void *, const struct ipc_dns *);
static void dns_tcp_drain(struct dns *);
static dns_tcpup_done_fn dns_tcpup_done;
static bool dns_retry(struct dns *, const struct dns_forward_query *,
    const uint8_t *, size_t);
static void dns_tcp_timer_cb(evutil_socket_t, short, void *);

struct dns *
dns_new(struct event_base *base, struct tunneld_chan *tc,
    struct session *session)
{
	struct dns	*d = xcalloc(1, sizeof(*d));

	d->base = base;
	d->tc = tc;
	d->session = session;
	dns_proxy_init(&d->proxy);
	d->sock[0].fd = d->sock[1].fd = -1;
	dns_tcp_init(&d->tcp, dns_tcp_send, d);
	if ((d->tcp_ev = evtimer_new(base, dns_tcp_timer_cb, d)) == NULL)
		fatalx("dns: cannot make a timer");
	d->tcpup = dns_tcpup_new(base, tc, dns_tcpup_done, d);
	return (d);
}

void
dns_free(struct dns *d)
{
	int	 i;

	if (d == NULL)
		return;
	for (i = 0; i < 2; i++) {
		if (d->sock[i].ev != NULL)
			event_free(d->sock[i].ev);
		if (d->sock[i].fd != -1)
			close(d->sock[i].fd);
	}
	dns_tunnel_free(d->tunnel);
	dns_proxy_clear(&d->proxy);
	dns_tcp_clear(&d->tcp);
	event_free(d->tcp_ev);
	dns_tcpup_free(d->tcpup);
	dns_doh_free(d->doh);
	free(d->ca_file);
	free(d);
}

static void	dns_configure(struct dns *, const struct portal_interface *);
static void	dns_answer(struct dns *, const struct ipc_sockaddr *,
    const struct ipc_sockaddr *, uint64_t, const uint8_t *, size_t);
static void	dns_reply(struct dns *, const struct ipc_sockaddr *,
    const struct ipc_sockaddr *, const uint8_t *, size_t);

/*
 * The system's resolvers, from resolv.conf as the system had it before
 * fzc changed it (tunneld's copy, IPC_SYSTEM_RESOLV): fzc itself may be
 * what the file names now.
 */
void
dns_load_system(struct dns *d, int fd)
{
	struct portal_interface	 none;
	char			 buf[RESOLV_MAX];
	size_t			 len = 0;
	ssize_t			 n;

	while (len < sizeof(buf) - 1 &&
	    (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	d->nsystem = dns_upstream_parse_resolv(buf, d->system,
	    DNS_UPSTREAM_MAX);
	log_info("dns: %zu system resolvers", d->nsystem);
	/*
	 * Until the portal names its own: a controld started again must
	 * resolve the portal's name through the sentinels the system asks.
	 */
	if (!d->have_interface) {
		memset(&none, 0, sizeof(none));
		dns_configure(d, &none);
	}
}

static void dns_read_cb(evutil_socket_t, short, void *);

/* A socket for each family an upstream needs, asked of tunneld once. */
static void
dns_want_sockets(struct dns *d)
{
	struct dns_sock	*s;
	size_t		 i;

	for (i = 0; i < d->nup; i++) {
		if (d->up[i].url[0] != '\0')
			continue;
		s = &d->sock[fam(d->up[i].addr.family)];
		if (s->fd != -1 || s->pending != 0)
			continue;
		if (tunneld_chan_request_socket(d->tc, d->up[i].addr.family,
		    SOCK_DGRAM, &s->pending) == -1) {
			log_warn("dns: asking tunneld for a socket");
			s->pending = 0;
		}
	}
}

/* What the system's resolver asks while fzc runs: the sentinels in use. */
static void
dns_send_config(struct dns *d, const struct portal_interface *iface)
{
	struct ipc_dns_config	 c;
	size_t			 i;
	bool			 v4;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < d->nup && i < IPC_DNS_MAX_SERVERS; i++) {
		v4 = d->up[i].sentinel.family == AF_INET;
		c.servers[i].family = d->up[i].sentinel.family;
		c.servers[i].prefixlen = v4 ? 32 : 128;
		memcpy(c.servers[i].addr, d->up[i].sentinel.addr, v4 ? 4 : 16);
		c.n++;
	}
	if (iface->search_domain != NULL) {
		snprintf(c.search_domain, sizeof(c.search_domain), "%s",
		    iface->search_domain);
		if (!ipc_domain_valid(c.search_domain,
		    sizeof(c.search_domain))) {
			log_warnx("dns: search domain %s left out: not a name "
			    "a resolver configuration takes",
			    iface->search_domain);
			memset(c.search_domain, 0, sizeof(c.search_domain));
		}
	}
	tunneld_chan_send(d->tc, IPC_DNS_CONFIG, 0, &c, sizeof(c));
}

void
dns_set_interface(struct dns *d, const struct portal_interface *iface)
{
	d->have_interface = true;
	dns_configure(d, iface);
	dns_send_config(d, iface);
}

/* The file the portal's TLS trusts, for DoH servers too; "": the system's. */
void
dns_set_ca_file(struct dns *d, const char *ca_file)
{
	free(d->ca_file);
	d->ca_file = ca_file[0] != '\0' ? xstrdup(ca_file) : NULL;
}

static void
dns_doh_answer(void *arg, const struct dns_forward_query *q, const uint8_t *msg,
    size_t len)
{
	struct dns	*d = arg;
	uint8_t		*fit;
	size_t		 fitlen;

	if (q->conn != 0 || msg == NULL) {
		dns_answer(d, &q->client, &q->sentinel, q->conn, msg, len);
		return;
	}
	/* HTTPS has no size limit, the asker's UDP has. */
	if ((fit = dns_forward_fit(msg, len, q->udp_size, &fitlen)) != NULL)
		dns_reply(d, &q->client, &q->sentinel, fit, fitlen);
	free(fit);
}

/* The DoH client, made when a DoH server first is an upstream. */
static void
dns_configure_doh(struct dns *d)
{
	struct dns_doh_config	 cfg;
	struct dns_p2p_ip	 sys[DNS_UPSTREAM_MAX];
	const char		*urls[DNS_UPSTREAM_MAX];
	size_t			 i, n = 0;

	for (i = 0; i < d->nup; i++)
		if (d->up[i].url[0] != '\0')
			urls[n++] = d->up[i].url;
	if (n > 0 && d->doh == NULL) {
		memset(&cfg, 0, sizeof(cfg));
		memset(sys, 0, sizeof(sys));
		for (i = 0; i < d->nsystem; i++) {
			sys[i].family = d->system[i].family;
			memcpy(sys[i].addr, d->system[i].addr, 16);
		}
		cfg.base = d->base;
		cfg.tc = d->tc;
		cfg.ca_file = d->ca_file;
		cfg.resolvers = sys;
		cfg.nresolvers = d->nsystem;
		cfg.answer = dns_doh_answer;
		cfg.arg = d;
		d->doh = dns_doh_new(&cfg);
	}
	if (d->doh != NULL)
		dns_doh_set_servers(d->doh, urls, n);
}

static void
dns_configure(struct dns *d, const struct portal_interface *iface)
{
	char			 a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	size_t			 i;

	d->src = dns_upstream_effective(iface, d->system, d->nsystem, d->up,
	    &d->nup);
	log_info("dns: %zu upstream resolvers from %s", d->nup,
	    dns_upstream_source_name(d->src));
	for (i = 0; i < d->nup; i++) {
		inet_ntop(d->up[i].sentinel.family, d->up[i].sentinel.addr, b,
		    sizeof(b));
		/* The URL without its query, if it has one. */
		if (d->up[i].url[0] != '\0') {
			log_info("dns: sentinel %s forwards over HTTPS to %.*s",
			    b, (int)strcspn(d->up[i].url, "?"), d->up[i].url);
			continue;
		}
		inet_ntop(d->up[i].addr.family, d->up[i].addr.addr, a,
		    sizeof(a));
		log_info("dns: sentinel %s forwards to %s", b, a);
	}
	dns_want_sockets(d);
	dns_configure_doh(d);
}

/* For `fzc status`: the upstreams, their sentinels, their source. */
json_t *
dns_status(struct dns *d)
{
	const char	*src = dns_upstream_source_name(d->src);

	return (json_pack("{s:s, s:o}", "source", src, "upstreams",
	    dns_upstream_json(d->up, d->nup, d->src)));
}

/* An IPC_SOCKET or _FAILED answer: 1 if it was ours. */
int
dns_socket(struct dns *d, uint32_t id, int fd)
{
	struct dns_sock	*s;
	int		 i;

	if (dns_tcpup_socket(d->tcpup, id, fd) ||
	    dns_doh_socket(d->doh, id, fd))
		return (1);
	for (i = 0; i < 2; i++)
		if (d->sock[i].pending == id && id != 0)
			break;
	if (i == 2)
		return (0);
	s = &d->sock[i];
	s->pending = 0;
	if (fd == -1) {
		log_warnx("dns: tunneld gave no socket; names are not "
		    "forwarded");
		return (1);
	}
	if (evutil_make_socket_nonblocking(fd) == -1 ||
	    (s->ev = event_new(d->base, fd, EV_READ | EV_PERSIST, dns_read_cb,
		 d)) == NULL ||
	    event_add(s->ev, NULL) == -1)
		fatalx("dns: cannot watch the upstream socket");
	s->fd = fd;
	return (1);
}

static void
dns_reply(struct dns *d, const struct ipc_sockaddr *client,
    const struct ipc_sockaddr *sentinel, const uint8_t *msg, size_t len)
{
	struct ipc_dns	*r;

	if (len < IPC_DNS_MIN || len > IPC_DNS_MAX) {
		log_debug("dns: answer of %zu bytes dropped", len);
		return;
	}
	r = xcalloc(1, sizeof(*r));
	r->client = *client;
	r->sentinel = *sentinel;
	r->len = (uint32_t)len;
	memcpy(r->data, msg, len);
	tunneld_chan_send(d->tc, IPC_DNS_REPLY, 0, r, sizeof(*r));
	free(r);
}

/*
 * Over UDP, or over TCP for a query that came over TCP; false: not sent,
 * no answer will come.
 */
static bool
dns_forward(struct dns *d, const struct ipc_dns *q,
    const struct dns_forward_query *who)
{
	struct sockaddr_storage	 ss;
	int			 up = who->upstream;
	struct dns_sock		*s = &d->sock[fam(d->up[up].addr.family)];
	uint8_t			 msg[IPC_DNS_MAX];
	socklen_t		 sslen;

	if (who->conn != 0)
		return (dns_tcpup_ask(d->tcpup, &d->up[up].addr, q->data,
		    q->len, who, NULL, 0));
	if (s->fd == -1) {
		log_debug("dns: no socket to the upstream yet; dropped");
		return (false);
	}
	memcpy(msg, q->data, q->len);
	if (dns_forward_add_random(&d->fwd, msg, q->len, who, util_now_ns()) ==
	    -1) {
		log_debug("dns: too many queries waiting; dropped");
		return (false);
	}
	sslen = dns_forward_sockaddr(&d->up[up].addr, DNS_PORT, &ss);
	if (sendto(s->fd, msg, q->len, 0, (struct sockaddr *)&ss, sslen) == -1)
		log_debug("dns: sending to the upstream: %s", strerror(errno));
	return (true);
}

/*
 * The answer to a query that came over UDP (conn 0) or over the TCP
 * connection conn; msg NULL: there will be none.
 */
static void
dns_answer(struct dns *d, const struct ipc_sockaddr *client,
    const struct ipc_sockaddr *sentinel, uint64_t conn, const uint8_t *msg,
    size_t len)
{
	if (conn == 0) {
		if (msg != NULL)
			dns_reply(d, client, sentinel, msg, len);
		return;
	}
	dns_tcp_answer(&d->tcp, util_now_ns(), conn, msg, len);
	dns_tcp_drain(d);
}

/* A gateway's answer to an SRV or TXT query; msg NULL: none will come. */
static void
dns_tunnel_reply(void *arg, const struct dns_forward_query *who,
    const uint8_t *msg, size_t len)
{
	dns_answer(arg, &who->client, &who->sentinel, who->conn, msg, len);
}

/* An authorization or a connection came: held queries may go. */
void
dns_session_changed(struct dns *d)
{
	if (d != NULL && d->tunnel != NULL)
		dns_tunnel_retry(d->tunnel);
}

static bool
dns_lookup(void *arg, const char *name, char id[PORTAL_ID_SIZE],
    enum portal_ip_stack *stack)
{
	struct dns	*d = arg;

	return (session_client_dns_lookup(d->session, name, id, stack));
}

/* A name's number, for tunneld to give back to a restarted controld. */
static void
dns_keep_name(struct dns *d, const char *resource_id,
    const struct dns_proxy_name *pn)
{
	struct ipc_proxy_name	 m;
	long			 k;

	memset(&m, 0, sizeof(m));
	if ((k = ipc_proxy_name(AF_INET6, pn->v6[0], NULL)) == -1)
		return;
	m.k = (uint32_t)k;
	snprintf(m.resource_id, sizeof(m.resource_id), "%s", resource_id);
	snprintf(m.name, sizeof(m.name), "%s", pn->name);
	if (ipc_proxy_name_valid(m.name, sizeof(m.name)))
		tunneld_chan_send(d->tc, IPC_PROXY_NAME, 0, &m, sizeof(m));
	else
		log_info("dns: %s keeps its proxy IPs only while controld "
			 "runs: not a name tunneld keeps",
		    pn->name);
}

/*
 * IPC_PROXY_NAMES: the names this process's predecessor numbered, as
 * tunneld kept them ("k resource name" lines, "-": no resource), taken
 * back with their numbers and, while their resource routes them, their
 * bindings: applications and gateways still use those proxy IPs.
 */
void
dns_restore_names(struct dns *d, int fd)
{
	const struct dns_proxy_name	*pn;
	struct stat			 st;
	char				*buf, *line, *save, *end, *res, *name;
	size_t				 max, len = 0, n = 0, bad = 0;
	unsigned long			 k;
	ssize_t				 r;

	max = (size_t)IPC_PROXY_MAX_NAMES *
	    (IPC_ID_MAX + IPC_PROXY_NAME_MAX + 16);
	if (fstat(fd, &st) == -1 || st.st_size < 0 ||
	    (size_t)st.st_size > max) {
		log_warnx("dns: the names tunneld kept are not readable");
		return;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size &&
	    (r = read(fd, buf + len, (size_t)st.st_size - len)) > 0)
		len += (size_t)r;
	buf[len] = '\0';
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		/* The number, the resource up to a space, the rest. */
		k = strtoul(line, &end, 10);
		res = strtok_r(end, " ", &name);
		if (end == line || res == NULL || name == NULL ||
		    !ipc_proxy_name_valid(name, strlen(name) + 1) ||
		    (pn = dns_proxy_restore(&d->proxy, k, name)) == NULL) {
			bad++;
			continue;
		}
		n++;
		if (strcmp(res, "-") != 0)
			session_client_dns_restore(d->session, res, pn);
	}
	free(buf);
	log_info("dns: %zu names keep their proxy IPs from before the "
		 "restart",
	    n);
	if (bad > 0)
		log_warnx("dns: %zu names tunneld kept are not taken back",
		    bad);
}

/* A query to a sentinel, over UDP or (conn) TCP. */
static void
dns_ask(struct dns *d, const struct ipc_dns *q, uint64_t conn)
{
	struct dns_stub_result	 res;
	struct portal_addr	 sentinel;
	int			 up;
	struct dns_forward_query who;
	bool			 sent;

	memset(&sentinel, 0, sizeof(sentinel));
	sentinel.family = q->sentinel.family;
	memcpy(sentinel.addr, q->sentinel.addr, 16);
	if ((up = dns_upstream_by_sentinel(d->up, d->nup, &sentinel)) == -1) {
		log_debug("dns: query to a sentinel with no upstream, "
		    "dropped");
		dns_answer(d, &q->client, &q->sentinel, conn, NULL, 0);
		return;
	}
	dns_stub_query(&d->proxy, dns_lookup, d, q->data, q->len, &res);
	switch (res.action) {
	case DNS_STUB_DROP:
		log_info("dns: malformed query dropped: %s", res.why);
		dns_answer(d, &q->client, &q->sentinel, conn, NULL, 0);
		break;
	case DNS_STUB_FORWARD:
		memset(&who, 0, sizeof(who));
		who.upstream = up;
		who.conn = conn;
		who.udp_size = res.udp_size;
		who.client = q->client;
		who.sentinel = q->sentinel;
		/* A DoH server's answer comes through dns_doh_answer(). */
		if (d->up[up].url[0] != '\0')
			sent = dns_doh_query(d->doh, (size_t)up, q->data,
			    q->len, &who);
		else
			sent = dns_forward(d, q, &who);
		if (!sent)
			dns_answer(d, &q->client, &q->sentinel, conn, NULL, 0);
		break;
	case DNS_STUB_GATEWAY:
		if (d->tunnel == NULL)
			d->tunnel = dns_tunnel_new(d->base, d->session,
			    dns_tunnel_reply, d);
		dns_tunnel_query(d->tunnel, q, conn, res.resource_id);
		break;
	case DNS_STUB_REPLY:
		/* The routes go first: the application's next packet may. */
		if (res.proxy != NULL && res.fresh)
			dns_keep_name(d, res.resource_id, res.proxy);
		if (res.proxy != NULL)
			session_client_dns_name(d->session, res.resource_id,
			    res.proxy);
		dns_answer(d, &q->client, &q->sentinel, conn, res.reply,
		    res.len);
		free(res.reply);
		break;
	}
}

/* A query an application sent to a sentinel, or a TCP segment, from tunneld. */
void
dns_query(struct dns *d, const struct ipc_dns *q)
{
	if (q->flags & IPC_DNS_TCP) {
		dns_tcp_input(&d->tcp, util_now_ns(), q);
		dns_tcp_drain(d);
	} else
		dns_ask(d, q, 0);
}

static void
dns_tcp_send(void *arg, const struct ipc_dns *seg)
{
	struct dns	*d = arg;

	tunneld_chan_send(d->tc, IPC_DNS_REPLY, 0, seg, sizeof(*seg));
}

/*
 * The queries the TCP connections hold, asked one by one (an answer
 * given at once may let the next out), then the responder's timer.
 */
static void
dns_tcp_drain(struct dns *d)
{
	struct dns_tcp_query	*tq;
	struct ipc_dns		*q;
	struct timeval		 tv;
	uint64_t		 at, now;

	if (d->tcp_draining)
		return;
	d->tcp_draining = true;
	tq = xcalloc(1, sizeof(*tq));
	q = xcalloc(1, sizeof(*q));
	while (dns_tcp_query(&d->tcp, tq)) {
		memset(q, 0, sizeof(*q));
		q->client = tq->client;
		q->sentinel = tq->sentinel;
		q->len = (uint32_t)tq->len;
		memcpy(q->data, tq->msg, tq->len);
		dns_ask(d, q, tq->conn);
	}
	free(q);
	free(tq);
	d->tcp_draining = false;
	if ((at = dns_tcp_deadline(&d->tcp)) == 0) {
		evtimer_del(d->tcp_ev);
		return;
	}
	now = util_now_ns();
	at = at > now ? at - now : 0;
	tv.tv_sec = (time_t)(at / 1000000000ULL);
	tv.tv_usec = (suseconds_t)(at % 1000000000ULL / 1000 + 1);
	evtimer_add(d->tcp_ev, &tv);
}

static void
dns_tcp_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct dns	*d = arg;

	(void)fd;
	(void)events;
	dns_tcp_timeout(&d->tcp, util_now_ns());
	dns_tcp_drain(d);
}

/* The upstream a datagram came from (its port 53), or -1. */
static int
dns_from(struct dns *d, const struct sockaddr_storage *ss)
{
	const struct sockaddr_in	*sin = (const void *)ss;
	const struct sockaddr_in6	*sin6 = (const void *)ss;
	size_t				 i;

	for (i = 0; i < d->nup; i++) {
		if (d->up[i].addr.family != ss->ss_family)
			continue;
		if (ss->ss_family == AF_INET ?
			(sin->sin_port == htons(DNS_PORT) &&
			    memcmp(&sin->sin_addr, d->up[i].addr.addr, 4) ==
				0) :
			(sin6->sin6_port == htons(DNS_PORT) &&
			    memcmp(&sin6->sin6_addr, d->up[i].addr.addr, 16) ==
				0))
			return ((int)i);
	}
	return (-1);
}

static void
dns_read_cb(evutil_socket_t fd, short events, void *arg)
{
	struct dns			*d = arg;
	struct dns_forward_query	 q;
	struct sockaddr_storage		 ss;
	uint8_t				 msg[IPC_DNS_MAX + 1];
	socklen_t			 sslen;
	ssize_t				 n;
	int				 up;

	(void)events;
	for (;;) {
		sslen = sizeof(ss);
		n = recvfrom(fd, msg, sizeof(msg), MSG_TRUNC,
		    (struct sockaddr *)&ss, &sslen);
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_debug("dns: upstream socket: %s",
				    strerror(errno));
			return;
		}
		if ((up = dns_from(d, &ss)) == -1 ||
		    !dns_forward_answer(&d->fwd, msg,
			(size_t)n > sizeof(msg) ? sizeof(msg) : (size_t)n, up,
			util_now_ns(), &q)) {
			log_debug("dns: unexpected datagram dropped");
			continue;
		}
		/* Truncated (the TC bit): asked again over TCP. */
		if (q.conn == 0 && (msg[2] & 0x02) &&
		    dns_retry(d, &q, msg, (size_t)n))
			continue;
		dns_answer(d, &q.client, &q.sentinel, q.conn, msg, (size_t)n);
	}
}

/* A truncated answer to q: its query again, over TCP. */
static bool
dns_retry(struct dns *d, const struct dns_forward_query *q, const uint8_t *msg,
    size_t len)
{
	uint8_t	*query;
	size_t	 qlen;
	bool	 ok;

	if ((query = dns_forward_retry_query(msg, len, &qlen)) == NULL)
		return (false);
	ok = dns_tcpup_ask(d->tcpup, &d->up[q->upstream].addr, query, qlen, q,
	    msg, len);
	free(query);
	return (ok);
}

/*
 * An answer over TCP from an upstream (NULL: none): for a TCP connection
 * as it is; for a truncated UDP answer, the full one if the application
 * takes it, else truncated as upstreams do; failing that, the truncated
 * one it would have had.
 */
static void
dns_tcpup_done(void *arg, const struct dns_forward_query *q, const uint8_t *msg,
    size_t len, const uint8_t *fallback, size_t fallback_len)
{
	struct dns	*d = arg;
	uint8_t		*fit = NULL;
	size_t		 fitlen;

	if (q->conn != 0) {
		dns_answer(d, &q->client, &q->sentinel, q->conn, msg, len);
		return;
	}
	if (msg != NULL &&
	    (fit = dns_forward_fit(msg, len, q->udp_size, &fitlen)) != NULL)
		dns_reply(d, &q->client, &q->sentinel, fit, fitlen);
	else if (fallback != NULL)
		dns_reply(d, &q->client, &q->sentinel, fallback, fallback_len);
	free(fit);
}
