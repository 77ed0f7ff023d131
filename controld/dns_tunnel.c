/*
 * dns_tunnel.c: SRV and TXT through the tunnel (dns_tunnel.h), on a UDP
 * socket of controld's own per family, unmarked: the kernel routes the
 * gateways' tunnel addresses (100.64.0.0/11, fd00:2021:1111::/107) into
 * the TUN device, tunneld's workers send a query to the gateway's peer
 * like any packet from the client's tunnel address, and the answer comes
 * back to this socket the same way. tunneld reads no DNS and frames
 * nothing for it. A query waits here, bounded in number and time, until
 * the gateway's connection is up; sent, it goes under an id of ours, as
 * forwarded queries do (dns_forward.h), and no answer means none.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/util.h"
#include "controld/dns_forward.h"
#include "controld/dns_remote.h"
#include "controld/dns_tunnel.h"
#include "controld/session_client.h"

#define TUNNEL_HELD_MAX		32
#define TUNNEL_HOLD_NS		DNS_FORWARD_TIMEOUT_NS

/* A query waiting for its gateway's connection. */
struct tunnel_held {
	char			 resource_id[PORTAL_ID_SIZE];
	struct dns_forward_query who;		/* to answer */
	uint8_t			*msg;
	size_t			 len;
	uint64_t		 expires;
};

struct tunnel_sock {
	int			 fd;	/* -1: none yet */
	struct event		*ev;
};

struct dns_tunnel {
	struct event_base	*base;
	struct session		*session;
	dns_tunnel_reply_fn	*reply;
	void			*arg;
	struct tunnel_sock	 sock[2];	/* AF_INET, AF_INET6 */
	struct tunnel_held	 held[TUNNEL_HELD_MAX];	/* oldest first */
	size_t			 nheld;
	struct dns_forward	 fwd;
};

static void	tunnel_read_cb(evutil_socket_t, short, void *);

struct dns_tunnel *
dns_tunnel_new(struct event_base *base, struct session *session,
    dns_tunnel_reply_fn *reply, void *arg)
{
	struct dns_tunnel	*t = xcalloc(1, sizeof(*t));

	t->base = base;
	t->session = session;
	t->reply = reply;
	t->arg = arg;
	t->sock[0].fd = t->sock[1].fd = -1;
	return (t);
}

void
dns_tunnel_free(struct dns_tunnel *t)
{
	int	 i;

	if (t == NULL)
		return;
	for (i = 0; i < 2; i++) {
		if (t->sock[i].ev != NULL)
			event_free(t->sock[i].ev);
		if (t->sock[i].fd != -1)
			close(t->sock[i].fd);
	}
	while (t->nheld > 0)
		free(t->held[--t->nheld].msg);
	free(t);
}

/*
 * A gateway's tunnel address as a key of the forwarding table: its
 * offset in the device ranges (PROTOCOL 4.5), IPv6 above IPv4; -1: not
 * in them, and not routed into the tunnel.
 */
static int
tunnel_key(int family, const uint8_t *a)
{
	static const uint8_t v6[13] = { 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11 };

	if (family == AF_INET && a[0] == 100 && (a[1] & 0xe0) == 64)
		return ((a[1] & 0x1f) << 16 | a[2] << 8 | a[3]);
	if (family == AF_INET6 && memcmp(a, v6, sizeof(v6)) == 0 &&
	    (a[13] & 0xe0) == 0)
		return (1 << 21 | a[13] << 16 | a[14] << 8 | a[15]);
	return (-1);
}

static struct tunnel_sock *
tunnel_sock(struct dns_tunnel *t, int family)
{
	struct tunnel_sock	*s = &t->sock[family == AF_INET6];
	int			 fd;

	if (s->fd != -1)
		return (s);
	if ((fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		log_warn("dns: a socket for SRV and TXT through the tunnel");
		return (NULL);
	}
	if ((s->ev = event_new(t->base, fd, EV_READ | EV_PERSIST,
		 tunnel_read_cb, t)) == NULL ||
	    event_add(s->ev, NULL) == -1)
		fatalx("dns: cannot watch the tunnel's DNS socket");
	s->fd = fd;
	return (s);
}

/* The query to the gateway, or no answer (for a TCP connection) at once. */
static void
tunnel_send(struct dns_tunnel *t, struct dns_forward_query *who,
    const uint8_t *data, size_t len, const struct portal_addr *gw)
{
	struct sockaddr_storage	 ss;
	struct tunnel_sock	*s;
	uint8_t			 msg[IPC_DNS_MAX];
	socklen_t		 sslen;
	int			 key;

	if ((key = tunnel_key(gw->family, gw->addr)) == -1) {
		log_warnx("dns: the gateway's tunnel address is outside the "
		    "tunnel's ranges; SRV or TXT query dropped");
		t->reply(t->arg, who, NULL, 0);
		return;
	}
	if ((s = tunnel_sock(t, gw->family)) == NULL) {
		t->reply(t->arg, who, NULL, 0);
		return;
	}
	who->upstream = key;
	memcpy(msg, data, len);
	if (dns_forward_add_random(&t->fwd, msg, len, who, util_now_ns()) ==
	    -1) {
		log_debug("dns: too many queries at gateways; dropped");
		t->reply(t->arg, who, NULL, 0);
		return;
	}
	sslen = dns_forward_sockaddr(gw, DNS_REMOTE_PORT, &ss);
	if (sendto(s->fd, msg, len, 0, (struct sockaddr *)&ss, sslen) == -1)
		log_debug("dns: sending to the gateway: %s", strerror(errno));
}

/*
 * Held query i, out of the table before anything is done with it: an
 * answer to a TCP connection may ask the next query of it at once.
 */
static struct tunnel_held
tunnel_unhold(struct dns_tunnel *t, size_t i)
{
	struct tunnel_held	 h = t->held[i];

	memmove(&t->held[i], &t->held[i + 1],
	    (t->nheld - i - 1) * sizeof(t->held[0]));
	t->nheld--;
	return (h);
}

/*
 * The held queries whose gateway is up go, in order; expired ones go
 * unanswered, as forwarded queries without an answer do (a TCP
 * connection hears that none will come).
 */
void
dns_tunnel_retry(struct dns_tunnel *t)
{
	struct tunnel_held	 h;
	struct portal_addr	 gw;
	uint64_t		 now = util_now_ns();
	size_t			 i = 0;

	while (i < t->nheld) {
		if (t->held[i].expires <= now) {
			h = tunnel_unhold(t, i);
			t->reply(t->arg, &h.who, NULL, 0);
		} else if (session_client_dns_target(t->session,
		    t->held[i].resource_id, false, &gw)) {
			h = tunnel_unhold(t, i);
			tunnel_send(t, &h.who, h.msg, h.len, &gw);
		} else {
			i++;
			continue;
		}
		free(h.msg);
	}
}

/*
 * An SRV or TXT query to a sentinel for a name of resource_id, over UDP
 * or the TCP connection conn; the gateway is asked over UDP either way.
 */
void
dns_tunnel_query(struct dns_tunnel *t, const struct ipc_dns *q, uint64_t conn,
    const char *resource_id)
{
	struct dns_forward_query who;
	struct tunnel_held	*h;
	struct portal_addr	 gw;

	memset(&who, 0, sizeof(who));
	who.conn = conn;
	who.client = q->client;
	who.sentinel = q->sentinel;
	/* First: asking may bring held queries' gateways up meanwhile. */
	if (session_client_dns_target(t->session, resource_id, true, &gw)) {
		tunnel_send(t, &who, q->data, q->len, &gw);
		return;
	}
	dns_tunnel_retry(t);
	if (t->nheld == TUNNEL_HELD_MAX) {
		log_debug("dns: %d queries wait for gateways; dropped",
		    TUNNEL_HELD_MAX);
		t->reply(t->arg, &who, NULL, 0);
		return;
	}
	h = &t->held[t->nheld++];
	memset(h, 0, sizeof(*h));
	snprintf(h->resource_id, sizeof(h->resource_id), "%s", resource_id);
	h->who = who;
	h->msg = xmalloc(q->len);
	memcpy(h->msg, q->data, q->len);
	h->len = q->len;
	h->expires = util_now_ns() + TUNNEL_HOLD_NS;
	log_debug("dns: query for resource %s waits for its gateway",
	    resource_id);
}

static void
tunnel_read_cb(evutil_socket_t fd, short events, void *arg)
{
	struct dns_tunnel		*t = arg;
	struct dns_forward_query	 q;
	struct sockaddr_storage		 ss;
	const struct sockaddr_in	*sin = (const void *)&ss;
	const struct sockaddr_in6	*sin6 = (const void *)&ss;
	uint8_t				 msg[IPC_DNS_MAX + 1];
	socklen_t			 sslen;
	ssize_t				 n;
	int				 key;

	(void)events;
	for (;;) {
		sslen = sizeof(ss);
		n = recvfrom(fd, msg, sizeof(msg), MSG_TRUNC,
		    (struct sockaddr *)&ss, &sslen);
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_debug("dns: tunnel's DNS socket: %s",
				    strerror(errno));
			return;
		}
		/* Only a gateway's port 53535, with the id it was asked. */
		key = -1;
		if (ss.ss_family == AF_INET &&
		    sin->sin_port == htons(DNS_REMOTE_PORT))
			key = tunnel_key(AF_INET, (const void *)&sin->sin_addr);
		else if (ss.ss_family == AF_INET6 &&
		    sin6->sin6_port == htons(DNS_REMOTE_PORT))
			key = tunnel_key(AF_INET6,
			    (const void *)&sin6->sin6_addr);
		if ((size_t)n > IPC_DNS_MAX || key == -1 ||
		    !dns_forward_answer(&t->fwd, msg, (size_t)n, key,
		    util_now_ns(), &q)) {
			log_debug("dns: unexpected datagram from the tunnel "
			    "dropped");
			continue;
		}
		t->reply(t->arg, &q, msg, (size_t)n);
	}
}
