/*
 * relays.c: one TURN client (nat/turn.c) per relay the portal gives, on
 * the device's shared UDP socket: BINDING yields our server-reflexive
 * address, the allocation a relayed one, and both become local ICE
 * candidates; a relayed path ICE nominates sends through the allocation
 * that owns its local address. Runs on the main thread; workers hand over
 * what the relays send (PROTOCOL 4.1: traffic from a relay is the
 * relay's), except relayed WireGuard data, which they unwrap themselves.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <event2/event.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timer.h"
#include "common/util.h"
#include "tunneld/device.h"
#include "tunneld/nat/turn.h"
#include "tunneld/relays.h"

struct relay {
	struct relays		*rs;
	char			 id[IPC_ID_MAX];
	struct sockaddr_in6	 addr;
	struct ipc_sockaddr	 portal_addr;	/* as the portal gave it */
	/* The newest credentials, for the next allocation; secret. */
	char			 username[IPC_CRED_MAX];
	char			 password[IPC_CRED_MAX];
	bool			 renew;		/* rechecked: a failure
						   allocates anew, once */
	struct stun_addr	 srflx;		/* announced, or zero */
	struct turn_client	*turn;
	struct event		*ev;
	struct stun_addr	 relayed[2];	/* announced, v4 and v6 */
};

struct relays {
	struct event_base	*base;
	struct device		*dev;
	struct relays_callbacks	 cb;
	struct relay		**v;
	size_t			 n;
};

static void	relay_run(struct relay *);
static int	relay_start(struct relay *);

static void
relay_random(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	randombytes_buf(buf, len);
}

static void
relay_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct relay	*r = arg;

	(void)fd;
	(void)events;
	turn_handle_timeout(r->turn, util_now_ns());
	relay_run(r);
}

static int
fam_slot(int family)
{
	return (family == AF_INET ? 0 : 1);
}

/* The relayed candidates go when the allocation goes. */
static void
relay_retract(struct relay *r)
{
	int	 i;

	for (i = 0; i < 2; i++)
		if (r->relayed[i].family != 0) {
			r->rs->cb.candidate(r->rs->cb.arg, true,
			    &r->relayed[i], false);
			memset(&r->relayed[i], 0, sizeof(r->relayed[i]));
		}
}

/* Another relay still reports this server-reflexive address. */
static bool
relays_srflx_held(const struct relays *rs, const struct relay *except,
    const struct stun_addr *a)
{
	size_t	 i;

	for (i = 0; i < rs->n; i++)
		if (rs->v[i] != except && rs->v[i]->srflx.family != 0 &&
		    stun_addr_eq(&rs->v[i]->srflx, a))
			return (true);
	return (false);
}

/* Our address as this relay sees it: a new one replaces the old. */
static void
relay_srflx(struct relay *r, const struct stun_addr *a)
{
	struct relays	*rs = r->rs;

	if (r->srflx.family != 0 && !stun_addr_eq(&r->srflx, a) &&
	    !relays_srflx_held(rs, r, &r->srflx))
		rs->cb.candidate(rs->cb.arg, false, &r->srflx, false);
	r->srflx = *a;
	rs->cb.candidate(rs->cb.arg, false, a, true);
}

/* Sends what the client wants sent, reports what it learned, re-arms. */
static void
relay_run(struct relay *r)
{
	struct relays		*rs = r->rs;
	uint8_t			 buf[TURN_MAX_REQ];
	struct turn_event	 ev;
	size_t			 n;
	bool			 renew = false;

	while ((n = turn_poll_transmit(r->turn, buf, sizeof(buf))) > 0)
		device_sendto(rs->dev, buf, n, &r->addr);
	while (turn_poll_event(r->turn, &ev)) {
		switch (ev.type) {
		case TURN_EV_SRFLX:
			relay_srflx(r, &ev.addr);
			break;
		case TURN_EV_RELAYED:
			r->relayed[fam_slot(ev.addr.family)] = ev.addr;
			rs->cb.candidate(rs->cb.arg, true, &ev.addr, true);
			break;
		case TURN_EV_FAILED:
			log_warnx("relay %s: %s (STUN code %d)", r->id,
			    turn_strerror(ev.error), ev.code);
			relay_retract(r);
			renew = r->renew;
			break;
		case TURN_EV_CHANNEL_FAILED:
			log_info("relay %s: a channel to a peer was refused",
			    r->id);
			break;
		default:
			break;
		}
	}
	if (renew) {
		/*
		 * After a network change the allocation is the old
		 * address's: a new one from here, with the same credentials
		 * (connlib does the same).
		 */
		r->renew = false;
		log_info("relay %s: allocating anew from this network", r->id);
		turn_free(r->turn);
		if (relay_start(r) == -1)
			fatalx("relay %s: cannot start a TURN client", r->id);
		return;
	}
	timer_at(r->ev, turn_next_deadline(r->turn), util_now_ns());
}

/* A TURN client with the relay's newest credentials, started. */
static int
relay_start(struct relay *r)
{
	struct turn_config	 tc;

	memset(&tc, 0, sizeof(tc));
	tc.username = r->username;
	tc.password = r->password;
	tc.random = relay_random;
	if ((r->turn = turn_new(&tc)) == NULL)
		return (-1);
	if (turn_start(r->turn, util_now_ns()) == -1) {
		turn_free(r->turn);
		r->turn = NULL;
		return (-1);
	}
	relay_run(r);
	return (0);
}

struct relays *
relays_new(struct event_base *base, struct device *dev,
    const struct relays_callbacks *cb)
{
	struct relays	*rs;

	rs = xcalloc(1, sizeof(*rs));
	rs->base = base;
	rs->dev = dev;
	rs->cb = *cb;
	return (rs);
}

static void
relay_free(struct relay *r)
{
	relay_retract(r);
	device_relay_del(r->rs->dev, &r->addr);
	event_free(r->ev);
	turn_free(r->turn);
	explicit_bzero(r, sizeof(*r));
	free(r);
}

/* Deletes the allocation; nobody waits for the answer. */
static void
relay_delete(struct relays *rs, size_t i)
{
	turn_close(rs->v[i]->turn, util_now_ns());
	relay_run(rs->v[i]);
	relay_free(rs->v[i]);
	rs->v[i] = rs->v[--rs->n];
}

static void
relay_credentials(struct relay *r, const struct ipc_relay *ir)
{
	snprintf(r->username, sizeof(r->username), "%s", ir->username);
	snprintf(r->password, sizeof(r->password), "%s", ir->password);
}

/*
 * One allocation per address. A known one keeps its allocation (the
 * portal repeats its relays in every init): a new allocation from the
 * same 5-tuple would be refused with 437 while the old one lives. Its
 * new credentials serve the next allocation, at once if it has none.
 */
int
relays_add(struct relays *rs, const struct ipc_relay *ir)
{
	struct relay		*r;
	size_t			 i;
	enum turn_state		 st;

	for (i = 0; i < rs->n; i++) {
		r = rs->v[i];
		if (strcmp(r->id, ir->id) != 0 ||
		    memcmp(&r->portal_addr, &ir->addr, sizeof(ir->addr)) != 0)
			continue;
		relay_credentials(r, ir);
		st = turn_get_state(r->turn);
		if (st == TURN_FAILED || st == TURN_CLOSED) {
			turn_free(r->turn);
			if (relay_start(r) == -1)
				fatalx("relay %s: cannot start a TURN client",
				    r->id);
		}
		return (0);
	}
	r = xcalloc(1, sizeof(*r));
	r->rs = rs;
	memcpy(r->id, ir->id, sizeof(r->id));
	r->portal_addr = ir->addr;
	udp_ipc_to_v6(&ir->addr, &r->addr);
	relay_credentials(r, ir);
	if ((r->ev = evtimer_new(rs->base, relay_timer_cb, r)) == NULL)
		fatalx("evtimer_new");
	if (device_relay_add(rs->dev, &r->addr) == -1) {
		relay_free(r);
		return (-1);
	}
	if (relay_start(r) == -1) {
		relay_free(r);
		return (-1);
	}
	rs->v = xreallocarray(rs->v, rs->n + 1, sizeof(*rs->v));
	rs->v[rs->n++] = r;
	return (0);
}

/*
 * The network changed: each allocation is asked about again from where
 * we are now, and one that turns out gone (or had failed) is made anew.
 */
void
relays_reset(struct relays *rs)
{
	struct relay	*r;
	size_t		 i;

	for (i = 0; i < rs->n; i++) {
		r = rs->v[i];
		switch (turn_get_state(r->turn)) {
		case TURN_ALLOCATED:
			r->renew = true;
			turn_recheck(r->turn, util_now_ns());
			relay_run(r);
			break;
		case TURN_FAILED:
		case TURN_CLOSED:
			turn_free(r->turn);
			if (relay_start(r) == -1)
				fatalx("relay %s: cannot start a TURN client",
				    r->id);
			break;
		default:
			/* Still asking: if that fails, it asks anew. */
			r->renew = true;
			break;
		}
	}
}

int
relays_del(struct relays *rs, const char *id)
{
	size_t	 i;
	int	 rc = -1;

	for (i = rs->n; i-- > 0;)
		if (strcmp(rs->v[i]->id, id) == 0) {
			relay_delete(rs, i);
			rc = 0;
		}
	return (rc);
}

/* A datagram from one of our relays is its TURN client's business. */
bool
relays_input(struct relays *rs, const uint8_t *msg, size_t len,
    const struct sockaddr_in6 *src)
{
	struct stun_addr	 peer;
	struct relay		*r;
	const uint8_t		*data;
	size_t			 i, j, dlen;

	for (i = 0; i < rs->n; i++) {
		r = rs->v[i];
		if (r->addr.sin6_port != src->sin6_port ||
		    memcmp(&r->addr.sin6_addr, &src->sin6_addr, 16) != 0)
			continue;
		if (turn_handle_input(r->turn, util_now_ns(), msg, len, &peer,
		    &data, &dlen) == TURN_IN_DATA &&
		    r->relayed[fam_slot(peer.family)].family != 0)
			rs->cb.data(rs->cb.arg,
			    &r->relayed[fam_slot(peer.family)], &peer, data,
			    dlen, &r->addr);
		/* The callback may have removed relays: look again. */
		for (j = 0; j < rs->n; j++)
			if (rs->v[j] == r)
				relay_run(r);
		return (true);
	}
	return (false);
}

/* The relay whose allocation has this relayed address. */
static struct relay *
relays_owner(struct relays *rs, const struct stun_addr *relayed)
{
	size_t	 i;

	for (i = 0; i < rs->n; i++)
		if (memcmp(&rs->v[i]->relayed[fam_slot(relayed->family)],
		    relayed, sizeof(*relayed)) == 0)
			return (rs->v[i]);
	return (NULL);
}

/* 0: sent; 1: held back while the channel is bound; -1: no such path. */
int
relays_send(struct relays *rs, const struct stun_addr *relayed,
    const struct stun_addr *peer, const uint8_t *msg, size_t len)
{
	uint8_t		 buf[TURN_CHANNEL_HDR + DEVICE_CTL_MAX];
	struct relay	*r;
	size_t		 n;
	int		 rc = -1;

	if ((r = relays_owner(rs, relayed)) == NULL)
		return (-1);
	switch (turn_wrap(r->turn, util_now_ns(), peer, msg, len, buf,
	    sizeof(buf), &n)) {
	case TURN_WRAP_OK:
		device_sendto(rs->dev, buf, n, &r->addr);
		rc = 0;
		break;
	case TURN_WRAP_PENDING:
		rc = 1;
		break;
	default:
		break;
	}
	relay_run(r);
	return (rc);
}

/*
 * Where WireGuard goes for a relayed path: the relay and the channel bound
 * to the peer. 1 while the channel is being bound, -1 for no such path.
 */
int
relays_channel(struct relays *rs, const struct stun_addr *relayed,
    const struct stun_addr *peer, struct sockaddr_in6 *relay,
    uint16_t *channel)
{
	struct relay	*r;
	uint64_t	 now = util_now_ns();
	int		 rc;

	if ((r = relays_owner(rs, relayed)) == NULL)
		return (-1);
	*relay = r->addr;
	if ((*channel = turn_peer_channel(r->turn, now, peer)) != 0)
		return (0);
	rc = turn_bind_peer(r->turn, now, peer) == -1 ? -1 : 1;
	relay_run(r);
	return (rc);
}

static void
stun_to_ipc(const struct stun_addr *a, struct ipc_sockaddr *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->family = a->family;
	sa->port = a->port;
	memcpy(sa->addr, a->ip, a->family == AF_INET ? 4 : 16);
}

/* For `fzc netcheck`: what each relay answered; never its credentials. */
int
relays_send_stats(struct relays *rs, struct ipc_chan *ch, uint32_t id)
{
	struct ipc_relay_stats	 st;
	struct stun_addr	 a;
	struct relay		*r;
	size_t			 i;
	int			 k;

	for (i = 0; i < rs->n; i++) {
		r = rs->v[i];
		memset(&st, 0, sizeof(st));
		memcpy(st.id, r->id, sizeof(st.id));
		st.addr = r->portal_addr;
		st.state = turn_get_state(r->turn);
		st.error = turn_get_error(r->turn);
		st.rtt_us = turn_get_rtt(r->turn) / NSEC_PER_USEC;
		if (turn_get_srflx(r->turn, &a)) {
			st.has_srflx = 1;
			stun_to_ipc(&a, &st.srflx);
		}
		for (k = 0; k < 2; k++)
			if (turn_get_relayed(r->turn, k == 0 ? AF_INET :
			    AF_INET6, &a))
				stun_to_ipc(&a, &st.relayed[st.nrelayed++]);
		if (ipc_chan_send(ch, IPC_RELAY_STATS, id, &st, sizeof(st),
		    -1) == -1)
			return (-1);
	}
	return (0);
}

/*
 * Whether an address is on one of our relays' hosts: a peer's relayed
 * address learned only as peer-reflexive still means a relayed path.
 */
bool
relays_host_of(const struct relays *rs, const struct stun_addr *a)
{
	size_t	 i;

	for (i = 0; i < rs->n; i++)
		if (rs->v[i]->portal_addr.family == a->family &&
		    memcmp(rs->v[i]->portal_addr.addr, a->ip,
		    a->family == AF_INET ? 4 : 16) == 0)
			return (true);
	return (false);
}

bool
relays_allocated(const struct relays *rs)
{
	size_t	 i;

	for (i = 0; i < rs->n; i++)
		if (turn_get_state(rs->v[i]->turn) == TURN_ALLOCATED)
			return (true);
	return (false);
}

void
relays_free(struct relays *rs)
{
	if (rs == NULL)
		return;
	while (rs->n > 0)
		relay_delete(rs, rs->n - 1);
	free(rs->v);
	free(rs);
}
