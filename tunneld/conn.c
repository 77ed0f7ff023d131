/*
 * conn.c: connections to remote peers over ICE (conn.h), for both roles.
 * The agents are sans-IO (nat/ice.c); this file is their edge: it sends
 * what they hand out, directly or through the relay owning the local
 * candidate, feeds them what the device and the relays receive, and
 * moves the WireGuard peer onto the path they nominate.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <event2/event.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timer.h"
#include "common/util.h"
#include "tunneld/conn.h"
#include "tunneld/device.h"
#include "tunneld/relays.h"
#include "tunneld/nat/stun.h"
#include "tunneld/wg/wg.h"

#define CONN_MAX		1024
#define CONN_MAX_LOCAL		ICE_MAX_LOCAL
/* How often a nominated relayed path asks whether its channel is bound. */
#define CONN_CHANNEL_POLL_MS	50

struct conn {
	struct conns		*cs;
	char			 id[IPC_ID_MAX];
	struct ice_agent	*ice;
	struct event		*ev_ice;
	struct peer		*wg;
	struct ice_path		 path;		/* nominated */
	bool			 remote_relay;	/* to the peer's relay */
	bool			 has_path;
	bool			 path_ready;	/* the peer uses it */
	/* What WireGuard uses, as IPC_PEER_PATH tells it. */
	uint8_t			 shown;		/* IPC_PATH_* */
	bool			 shown_our_relay;
	struct sockaddr_in6	 dst;
	uint64_t		 seen_bytes;	/* rx + tx, for idleness */
};

struct conns {
	struct event_base	*base;
	struct device		*dev;
	bool			 controlling;
	struct conns_callbacks	 cb;
	struct relays		*relays;
	struct ice_candidate	 local[CONN_MAX_LOCAL];
	size_t			 nlocal;
	struct conn		**v;
	size_t			 n;
	uint32_t		 next_peer_id;
};

static void	conn_run(struct conn *);

/* Tells the role what the control socket shows of the connection. */
static void
conn_tell_path(struct conn *c)
{
	struct ipc_peer_path	 m;

	if (c->cs->cb.path == NULL)
		return;
	conn_path_report(c, &m);
	c->cs->cb.path(c->cs->cb.arg, &m);
}

static void
conn_random(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	randombytes_buf(buf, len);
}

static void
sockaddr_to_stun(const struct sockaddr_in6 *sa, struct stun_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->port = ntohs(sa->sin6_port);
	if (IN6_IS_ADDR_V4MAPPED(&sa->sin6_addr)) {
		a->family = AF_INET;
		memcpy(a->ip, &sa->sin6_addr.s6_addr[12], 4);
	} else {
		a->family = AF_INET6;
		memcpy(a->ip, &sa->sin6_addr, 16);
	}
}

static void
stun_to_sockaddr(const struct stun_addr *a, struct sockaddr_in6 *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin6_family = AF_INET6;
	sa->sin6_port = htons(a->port);
	if (a->family == AF_INET) {
		sa->sin6_addr.s6_addr[10] = 0xff;
		sa->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&sa->sin6_addr.s6_addr[12], a->ip, 4);
	} else
		memcpy(&sa->sin6_addr, a->ip, 16);
}

/* Gives one local candidate to a connection's agent, and signals it. */
static void
conn_offer(struct conn *c, const struct ice_candidate *l)
{
	struct ice_candidate	 out;
	char			 s[ICE_CANDIDATE_STRLEN];

	if (ice_add_local(c->ice, util_now_ns(), l->type, &l->addr,
	    l->has_related ? &l->related : NULL, &out) == -1 ||
	    ice_candidate_format(&out, s, sizeof(s)) < 0)
		return;
	c->cs->cb.candidate(c->cs->cb.arg, c->id, s, true);
}

static void
conn_retract(struct conn *c, const struct ice_candidate *l)
{
	struct ice_candidate	 out;
	char			 s[ICE_CANDIDATE_STRLEN];

	/* Retracted as it was signalled, foundation and priority too. */
	if (ice_get_local(c->ice, l->type, &l->addr, &out) == -1 ||
	    ice_remove_local(c->ice, util_now_ns(), &l->addr) == -1)
		return;
	if (ice_candidate_format(&out, s, sizeof(s)) >= 0)
		c->cs->cb.candidate(c->cs->cb.arg, c->id, s, false);
	conn_run(c);
}

static void
conns_local(struct conns *cs, enum ice_cand_type type,
    const struct stun_addr *addr, bool add)
{
	struct ice_candidate	*l = NULL;
	size_t			 i;

	for (i = 0; i < cs->nlocal; i++)
		if (cs->local[i].type == type &&
		    memcmp(&cs->local[i].addr, addr, sizeof(*addr)) == 0)
			l = &cs->local[i];
	if (!add) {
		if (l == NULL)
			return;
		/* Downwards: a connection may go in conn_run(). */
		for (i = cs->n; i-- > 0;)
			conn_retract(cs->v[i], l);
		*l = cs->local[--cs->nlocal];
		return;
	}
	if (l != NULL || cs->nlocal == CONN_MAX_LOCAL)
		return;
	l = &cs->local[cs->nlocal++];
	memset(l, 0, sizeof(*l));
	l->type = type;
	l->addr = *addr;
	if (type != ICE_CAND_HOST) {
		/* RFC 8839: the related address may be withheld as zeros. */
		l->has_related = true;
		l->related.family = addr->family;
	}
	for (i = cs->n; i-- > 0;) {
		conn_offer(cs->v[i], l);
		conn_run(cs->v[i]);
	}
}

static void
conns_relay_candidate(void *arg, bool relayed, const struct stun_addr *a,
    bool add)
{
	conns_local(arg, relayed ? ICE_CAND_RELAY : ICE_CAND_SRFLX, a, add);
}

/*
 * Host candidates: every address of a link that is up but loopback,
 * link-local and ours. Run
 * again after a network change: those gone are retracted, new ones
 * offered, the others left alone.
 */
static void
conns_host_candidates(struct conns *cs)
{
	struct ifaddrs		*ifa, *i;
	struct stun_addr	 now[CONN_MAX_LOCAL], gone[CONN_MAX_LOCAL], a;
	const void		*ip;
	char			 s[INET6_ADDRSTRLEN];
	size_t			 n = 0, ngone = 0, k, j;

	if (getifaddrs(&ifa) == -1) {
		log_warn("getifaddrs");
		return;
	}
	for (i = ifa; i != NULL && n < CONN_MAX_LOCAL; i = i->ifa_next) {
		/* An address stays on a link that went down: not usable. */
		if (i->ifa_addr == NULL || (i->ifa_flags & IFF_LOOPBACK) ||
		    !(i->ifa_flags & IFF_UP) || !(i->ifa_flags & IFF_RUNNING) ||
		    strcmp(i->ifa_name, device_ifname(cs->dev)) == 0)
			continue;
		memset(&a, 0, sizeof(a));
		a.port = device_port(cs->dev);
		if (i->ifa_addr->sa_family == AF_INET) {
			a.family = AF_INET;
			ip = &((struct sockaddr_in *)i->ifa_addr)->sin_addr;
			memcpy(a.ip, ip, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			ip = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
			if (IN6_IS_ADDR_LINKLOCAL((const struct in6_addr *)ip))
				continue;
			a.family = AF_INET6;
			memcpy(a.ip, ip, 16);
		} else
			continue;
		now[n++] = a;
	}
	freeifaddrs(ifa);
	for (k = 0; k < cs->nlocal; k++) {
		if (cs->local[k].type != ICE_CAND_HOST)
			continue;
		for (j = 0; j < n; j++)
			if (memcmp(&now[j], &cs->local[k].addr, sizeof(a)) == 0)
				break;
		if (j == n)
			gone[ngone++] = cs->local[k].addr;
	}
	for (k = 0; k < ngone; k++) {
		inet_ntop(gone[k].family, gone[k].ip, s, sizeof(s));
		log_info("host address %s is gone", s);
		conns_local(cs, ICE_CAND_HOST, &gone[k], false);
	}
	for (k = 0; k < n; k++)
		conns_local(cs, ICE_CAND_HOST, &now[k], true);
}

/*
 * The socket is bound to the wildcard, so the address a datagram came in
 * on is not known: the first host candidate of its family stands for it.
 */
static void
conns_host_base(struct conns *cs, int family, struct stun_addr *a)
{
	size_t	 i;

	memset(a, 0, sizeof(*a));
	for (i = 0; i < cs->nlocal; i++)
		if (cs->local[i].type == ICE_CAND_HOST &&
		    cs->local[i].addr.family == family) {
			*a = cs->local[i].addr;
			return;
		}
}

static void
conn_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct conn	*c = arg;
	uint64_t	 bytes;

	(void)fd;
	(void)events;
	/* Traffic keeps the agent out of its idle mode (PROTOCOL 4.3). */
	bytes = atomic_load(&c->wg->rx_bytes) + atomic_load(&c->wg->tx_bytes);
	if (bytes != c->seen_bytes) {
		c->seen_bytes = bytes;
		ice_note_traffic(c->ice, util_now_ns());
	}
	ice_handle_timeout(c->ice, util_now_ns());
	conn_run(c);
}

/*
 * Moves the WireGuard peer onto the nominated path. A relayed one needs
 * its channel first: until it is bound, WireGuard keeps its old path.
 */
static void
conn_use_path(struct conn *c)
{
	struct conns		*cs = c->cs;
	struct sockaddr_in6	 dst;
	uint16_t		 channel = 0;
	char			 a[INET6_ADDRSTRLEN];
	int			 rc;

	if (c->path.relayed) {
		rc = relays_channel(cs->relays, &c->path.local,
		    &c->path.remote, &dst, &channel);
		if (rc == -1) {
			/* WireGuard keeps its path until ICE nominates again. */
			log_warnx("%s: the nominated relay is gone, or refused "
			    "a channel", c->id);
			c->has_path = false;
			return;
		}
		if (rc == 1)
			return;		/* polled again by conn_run() */
	} else
		stun_to_sockaddr(&c->path.remote, &dst);
	device_set_path(c->wg, &dst, channel,
	    c->path.relayed || c->remote_relay);
	c->path_ready = true;
	c->shown = c->path.relayed || c->remote_relay ? IPC_PATH_RELAYED :
	    IPC_PATH_DIRECT;
	c->shown_our_relay = c->path.relayed;
	c->dst = dst;
	conn_tell_path(c);
	inet_ntop(c->path.remote.family, c->path.remote.ip, a, sizeof(a));
	log_info("%s: WireGuard goes %s to %s port %u", c->id,
	    c->path.relayed ? "through our relay" : c->remote_relay ?
	    "to the peer's relay" : "directly", a, c->path.remote.port);
	/* PROTOCOL 4.3: the controlling side handshakes on nomination. */
	if (cs->controlling)
		device_raise(c->wg, PEER_EV_WANT_HANDSHAKE);
}

/* Sends what the agent hands out, acts on its events, re-arms its timer. */
static void
conn_run(struct conn *c)
{
	struct conns		*cs = c->cs;
	struct ice_path		 path;
	struct ice_event	 ev;
	struct sockaddr_in6	 dst;
	uint8_t			 buf[ICE_MAX_MSG];
	uint64_t		 deadline, now;
	size_t			 n;

	while ((n = ice_poll_transmit(c->ice, buf, sizeof(buf), &path)) > 0) {
		if (path.relayed)
			(void)relays_send(cs->relays, &path.local,
			    &path.remote, buf, n);
		else {
			stun_to_sockaddr(&path.remote, &dst);
			device_sendto(cs->dev, buf, n, &dst);
		}
	}
	while (ice_poll_event(c->ice, &ev)) {
		if (ev.type == ICE_EV_NOMINATED) {
			c->path = ev.path;
			c->remote_relay = ev.remote_type == ICE_CAND_RELAY ||
			    relays_host_of(cs->relays, &ev.path.remote);
			c->has_path = true;
			c->path_ready = false;
			conn_use_path(c);
			continue;
		}
		log_info("ICE with %s: %s", c->id, ice_state_name(ev.state));
		if (ev.state == ICE_FAILED && !relays_allocated(cs->relays) &&
		    cs->cb.no_relays != NULL)
			cs->cb.no_relays(cs->cb.arg, c->id);
		/* The callback may free the connection. */
		if (cs->cb.state != NULL && cs->cb.state(cs->cb.arg, c,
		    ev.state))
			return;
	}
	if (c->has_path && !c->path_ready)
		conn_use_path(c);
	now = util_now_ns();
	deadline = ice_next_deadline(c->ice);
	if (c->has_path && !c->path_ready &&
	    now + CONN_CHANNEL_POLL_MS * NSEC_PER_MSEC < deadline)
		deadline = now + CONN_CHANNEL_POLL_MS * NSEC_PER_MSEC;
	timer_at(c->ev_ice, deadline, now);
}

/* The device's Goodbye, for the connection whose peer it came from. */
static void
conns_goodbye(void *arg, struct peer *peer)
{
	struct conns	*cs = arg;
	size_t		 i;

	for (i = 0; i < cs->n; i++)
		if (cs->v[i]->wg == peer) {
			if (cs->cb.goodbye != NULL)
				cs->cb.goodbye(cs->cb.arg, cs->v[i]);
			return;
		}
}

/* Tries each agent: the first that knows the ufrag or transaction wins. */
static void
conns_stun(struct conns *cs, const uint8_t *msg, size_t len,
    const struct ice_path *path)
{
	const char	*why;
	size_t		 i;

	for (i = 0; i < cs->n; i++) {
		switch (ice_handle_input(cs->v[i]->ice, util_now_ns(), msg,
		    len, path, &why)) {
		case ICE_IN_HANDLED:
			conn_run(cs->v[i]);
			return;
		case ICE_IN_IGNORED:
			log_debug("ICE: datagram ignored: %s", why);
			return;
		default:
			break;
		}
	}
	log_debug("STUN datagram for no ICE agent dropped");
}

/* PROTOCOL 4.1, inside a relay: STUN for the agents, else WireGuard. */
static void
conns_relayed(void *arg, const struct stun_addr *relayed,
    const struct stun_addr *peer, const uint8_t *msg, size_t len,
    const struct sockaddr_in6 *relay)
{
	struct conns	*cs = arg;
	struct ice_path	 path;
	uint32_t	 receiver;
	int		 type;

	if (stun_classify(msg, len) == STUN_KIND_STUN) {
		memset(&path, 0, sizeof(path));
		path.local = *relayed;
		path.remote = *peer;
		path.relayed = true;
		conns_stun(cs, msg, len, &path);
		return;
	}
	type = wg_message_classify(msg, len, &receiver);
	if (type == WG_MSG_INITIATION || type == WG_MSG_RESPONSE ||
	    type == WG_MSG_COOKIE_REPLY)
		device_handshake_input(cs->dev, msg, len, relay);
	else
		log_debug("relayed datagram dropped: not STUN nor a handshake");
}

/* What workers hand over from the UDP socket that is not WireGuard. */
static void
conns_control(void *arg, const uint8_t *msg, size_t len,
    const struct sockaddr_in6 *src)
{
	struct conns	*cs = arg;
	struct ice_path	 path;

	if (relays_input(cs->relays, msg, len, src))
		return;
	if (stun_classify(msg, len) != STUN_KIND_STUN) {
		log_debug("ChannelData from no relay of ours dropped");
		return;
	}
	memset(&path, 0, sizeof(path));
	sockaddr_to_stun(src, &path.remote);
	conns_host_base(cs, path.remote.family, &path.local);
	conns_stun(cs, msg, len, &path);
}

static int
conns_stats(void *arg, struct ipc_chan *ch, uint32_t id)
{
	struct conns	*cs = arg;

	return (relays_send_stats(cs->relays, ch, id));
}

struct conns *
conns_new(struct event_base *base, struct device *dev, bool controlling,
    const struct conns_callbacks *cb)
{
	struct relays_callbacks	 rcb;
	struct conns		*cs;

	cs = xcalloc(1, sizeof(*cs));
	cs->base = base;
	cs->dev = dev;
	cs->controlling = controlling;
	cs->cb = *cb;
	cs->next_peer_id = 1;
	memset(&rcb, 0, sizeof(rcb));
	rcb.candidate = conns_relay_candidate;
	rcb.data = conns_relayed;
	rcb.arg = cs;
	cs->relays = relays_new(base, dev, &rcb);
	device_set_ctl_cb(dev, conns_control, cs);
	device_set_stats_cb(dev, conns_stats, cs);
	device_set_goodbye_cb(dev, conns_goodbye, cs);
	conns_host_candidates(cs);
	return (cs);
}

void
conns_free(struct conns *cs)
{
	if (cs == NULL)
		return;
	while (cs->n > 0)
		conn_free(cs->v[cs->n - 1]);
	relays_free(cs->relays);
	device_set_ctl_cb(cs->dev, NULL, NULL);
	device_set_stats_cb(cs->dev, NULL, NULL);
	device_set_goodbye_cb(cs->dev, NULL, NULL);
	free(cs->v);
	free(cs);
}

int
conns_relay_add(struct conns *cs, const struct ipc_relay *r)
{
	return (relays_add(cs->relays, r));
}

int
conns_relay_del(struct conns *cs, const char *id)
{
	return (relays_del(cs->relays, id));
}

/*
 * The network changed (connlib's reset): host candidates gathered again,
 * the relays asked again from the new address (new server-reflexive and
 * relayed candidates follow from their answers), and every agent checks
 * its pairs again, so that each connection finds the new path. The UDP
 * sockets are bound to the wildcard address: the kernel picks the new
 * source address for each datagram, they need no rebinding.
 */
void
conns_reset(struct conns *cs)
{
	uint64_t	 now = util_now_ns();
	size_t		 i;

	conns_host_candidates(cs);
	relays_reset(cs->relays);
	/* Downwards: a connection may go in conn_run(). */
	for (i = cs->n; i-- > 0;) {
		if (i >= cs->n)
			continue;
		ice_restart_checks(cs->v[i]->ice, now);
		conn_run(cs->v[i]);
	}
}

struct conn *
conn_new(struct conns *cs, const struct conn_params *p, const char **why)
{
	struct ice_config	 cfg;
	struct conn		*c;
	size_t			 i;

	if (cs->n == CONN_MAX) {
		*why = "too many connections";
		return (NULL);
	}
	c = xcalloc(1, sizeof(*c));
	c->cs = cs;
	snprintf(c->id, sizeof(c->id), "%s", p->id);
	ice_config_defaults(&cfg, cs->controlling);
	cfg.local_ufrag = p->local_ufrag;
	cfg.local_pwd = p->local_pwd;
	cfg.remote_ufrag = p->remote_ufrag;
	cfg.remote_pwd = p->remote_pwd;
	cfg.random = conn_random;
	if ((c->ice = ice_new(&cfg, why)) == NULL) {
		free(c);
		return (NULL);
	}
	c->wg = device_add_peer(cs->dev, cs->next_peer_id, p->public_key,
	    p->psk, NULL, 0);
	if (c->wg == NULL) {
		*why = "the peer's key is already in use, or invalid";
		ice_free(c->ice);
		free(c);
		return (NULL);
	}
	cs->next_peer_id++;
	if ((c->ev_ice = evtimer_new(cs->base, conn_timer_cb, c)) == NULL)
		fatalx("evtimer_new");
	cs->v = xreallocarray(cs->v, cs->n + 1, sizeof(*cs->v));
	cs->v[cs->n++] = c;
	ice_start(c->ice, util_now_ns());
	c->shown = IPC_PATH_CONNECTING;
	conn_tell_path(c);
	for (i = 0; i < cs->nlocal; i++)
		conn_offer(c, &cs->local[i]);
	conn_run(c);
	return (c);
}

void
conn_free(struct conn *c)
{
	struct conns	*cs;
	size_t		 i;

	if (c == NULL)
		return;
	cs = c->cs;
	c->shown = IPC_PATH_LOST;
	conn_tell_path(c);
	for (i = 0; i < cs->n; i++)
		if (cs->v[i] == c) {
			cs->v[i] = cs->v[--cs->n];
			break;
		}
	device_del_peer(cs->dev, c->wg);
	event_free(c->ev_ice);
	ice_free(c->ice);
	explicit_bzero(c, sizeof(*c));
	free(c);
}

/*
 * Every local candidate again: the peer may have a new agent (a client
 * that dropped its connection and asked anew); repeats are harmless.
 */
void
conn_resignal(struct conn *c)
{
	size_t	 i;

	for (i = 0; i < c->cs->nlocal; i++)
		conn_offer(c, &c->cs->local[i]);
	conn_run(c);
}

/* Parsed by the agent: tunneld trusts no candidate it has not read. */
int
conn_remote_candidate(struct conn *c, const char *s, bool add,
    const char **why)
{
	int	 rc;

	*why = NULL;
	rc = add ? ice_add_remote(c->ice, util_now_ns(), s, why) :
	    ice_remove_remote(c->ice, util_now_ns(), s, why);
	conn_run(c);
	return (rc);
}

const char *
conn_id(const struct conn *c)
{
	return (c->id);
}

struct peer *
conn_peer(const struct conn *c)
{
	return (c->wg);
}

enum ice_state
conn_state(const struct conn *c)
{
	return (ice_get_state(c->ice));
}

bool
conn_path(const struct conn *c, struct ice_path *path)
{
	if (!c->path_ready)
		return (false);
	*path = c->path;
	return (true);
}

/* What the peer's WireGuard traffic takes now, as IPC_PEER_PATH says. */
void
conn_path_report(const struct conn *c, struct ipc_peer_path *m)
{
	const struct sockaddr_in6	*sa = &c->dst;

	memset(m, 0, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%s", c->id);
	memcpy(m->public_key, c->wg->public_key, sizeof(m->public_key));
	m->state = c->shown;
	if (c->shown != IPC_PATH_DIRECT && c->shown != IPC_PATH_RELAYED)
		return;
	m->our_relay = c->shown_our_relay;
	m->endpoint.port = ntohs(sa->sin6_port);
	if (IN6_IS_ADDR_V4MAPPED(&sa->sin6_addr)) {
		m->endpoint.family = AF_INET;
		memcpy(m->endpoint.addr, &sa->sin6_addr.s6_addr[12], 4);
	} else {
		m->endpoint.family = AF_INET6;
		m->endpoint.scope_id = sa->sin6_scope_id;
		memcpy(m->endpoint.addr, &sa->sin6_addr, 16);
	}
}
