/*
 * dns.c: the stub resolver's I/O. One protected UDP socket per address
 * family carries every forwarded query; the forwarding table (our ids,
 * the resolver asked) decides which answers are taken.
 */
#include <sys/socket.h>

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
#include "controld/dns_forward.h"
#include "controld/dns_proxy.h"
#include "controld/dns_stub.h"
#include "controld/dns_tunnel.h"
#include "controld/dns_upstream.h"
#include "controld/session_client.h"
#include "controld/tunneld_chan.h"

#define DNS_PORT	53
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
	bool			 have_interface;	/* from the portal */
	struct dns_sock		 sock[2];	/* AF_INET, AF_INET6 */
	struct dns_tunnel	*tunnel;	/* at the first SRV or TXT */
};

static int
fam(int family)
{
	return (family == AF_INET6);
}

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
	free(d);
}

static void	dns_configure(struct dns *, const struct portal_interface *);

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

static void
dns_configure(struct dns *d, const struct portal_interface *iface)
{
	static const char *const from[] = { "none", "the portal",
	    "the system" };
	enum dns_upstream_source src;
	char			 a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	size_t			 i;

	if (iface->ndo53 == 0 && iface->ndoh > 0)
		log_warnx("dns: DNS over HTTPS is not supported yet; "
		    "forwarding to the system's resolvers");
	src = dns_upstream_effective(iface, d->system, d->nsystem, d->up,
	    &d->nup);
	log_info("dns: %zu upstream resolvers from %s", d->nup, from[src]);
	for (i = 0; i < d->nup; i++) {
		inet_ntop(d->up[i].addr.family, d->up[i].addr.addr, a,
		    sizeof(a));
		inet_ntop(d->up[i].sentinel.family, d->up[i].sentinel.addr, b,
		    sizeof(b));
		log_info("dns: sentinel %s forwards to %s", b, a);
	}
	dns_want_sockets(d);
}

/* An IPC_SOCKET or _FAILED answer: 1 if it was ours. */
int
dns_socket(struct dns *d, uint32_t id, int fd)
{
	struct dns_sock	*s;
	int		 i;

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
dns_sockaddr(const struct portal_addr *a, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(DNS_PORT);
		memcpy(&sin->sin_addr, a->addr, 4);
		*len = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(DNS_PORT);
		memcpy(&sin6->sin6_addr, a->addr, 16);
		*len = sizeof(*sin6);
	}
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

/* A gateway's answer to an SRV or TXT query. */
static void
dns_tunnel_reply(void *arg, const struct ipc_sockaddr *client,
    const struct ipc_sockaddr *sentinel, const uint8_t *msg, size_t len)
{
	dns_reply(arg, client, sentinel, msg, len);
}

/* An authorization or a connection came: held queries may go. */
void
dns_session_changed(struct dns *d)
{
	if (d != NULL && d->tunnel != NULL)
		dns_tunnel_retry(d->tunnel);
}

static void
dns_forward(struct dns *d, const struct ipc_dns *q, int up)
{
	struct sockaddr_storage	 ss;
	struct dns_sock		*s = &d->sock[fam(d->up[up].addr.family)];
	uint8_t			 msg[IPC_DNS_MAX];
	socklen_t		 sslen;
	int			 tries;

	if (s->fd == -1) {
		log_debug("dns: no socket to the upstream yet; dropped");
		return;
	}
	memcpy(msg, q->data, q->len);
	for (tries = 0; tries < 4; tries++)
		if (dns_forward_add(&d->fwd, msg, q->len, up, &q->client,
			&q->sentinel, (uint16_t)arc4random(),
			util_now_ns()) == 0)
			break;
	if (tries == 4) {
		log_debug("dns: too many queries waiting; dropped");
		return;
	}
	dns_sockaddr(&d->up[up].addr, &ss, &sslen);
	if (sendto(s->fd, msg, q->len, 0, (struct sockaddr *)&ss, sslen) == -1)
		log_debug("dns: sending to the upstream: %s", strerror(errno));
}

static bool
dns_lookup(void *arg, const char *name, char id[PORTAL_ID_SIZE],
    enum portal_ip_stack *stack)
{
	struct dns	*d = arg;

	return (session_client_dns_lookup(d->session, name, id, stack));
}

/* A query an application sent to a sentinel, from tunneld. */
void
dns_query(struct dns *d, const struct ipc_dns *q)
{
	struct dns_stub_result	 res;
	struct portal_addr	 sentinel;
	int			 up;

	memset(&sentinel, 0, sizeof(sentinel));
	sentinel.family = q->sentinel.family;
	memcpy(sentinel.addr, q->sentinel.addr, 16);
	if ((up = dns_upstream_by_sentinel(d->up, d->nup, &sentinel)) == -1) {
		log_debug("dns: query to a sentinel with no upstream, "
		    "dropped");
		return;
	}
	dns_stub_query(&d->proxy, dns_lookup, d, q->data, q->len, &res);
	switch (res.action) {
	case DNS_STUB_DROP:
		log_info("dns: malformed query dropped: %s", res.why);
		break;
	case DNS_STUB_FORWARD:
		dns_forward(d, q, up);
		break;
	case DNS_STUB_GATEWAY:
		if (d->tunnel == NULL)
			d->tunnel = dns_tunnel_new(d->base, d->session,
			    dns_tunnel_reply, d);
		dns_tunnel_query(d->tunnel, q, res.resource_id);
		break;
	case DNS_STUB_REPLY:
		/* The routes go first: the application's next packet may. */
		if (res.proxy != NULL)
			session_client_dns_name(d->session, res.resource_id,
			    res.proxy);
		dns_reply(d, &q->client, &q->sentinel, res.reply, res.len);
		free(res.reply);
		break;
	}
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
		dns_reply(d, &q.client, &q.sentinel, msg, (size_t)n);
	}
}
