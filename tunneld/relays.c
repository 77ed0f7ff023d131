/*
 * relays.c: one TURN client (nat/turn.c) per relay the portal gives, on
 * the device's shared UDP socket: BINDING yields our server-reflexive
 * address, the allocation a relayed one, and both become local ICE
 * candidates. Runs on the main thread; workers hand over what the relays
 * send (PROTOCOL 4.1: traffic from a relay is the relay's).
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
	struct turn_client	*turn;
	struct event		*ev;
};

struct relays {
	struct event_base	*base;
	struct device		*dev;
	relays_candidate_fn	*cb;
	void			*arg;
	struct relay		**v;
	size_t			 n;
};

static void	relay_run(struct relay *);

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

/* Sends what the client wants sent, reports what it learned, re-arms. */
static void
relay_run(struct relay *r)
{
	uint8_t			 buf[TURN_MAX_REQ];
	struct turn_event	 ev;
	size_t			 n;

	while ((n = turn_poll_transmit(r->turn, buf, sizeof(buf))) > 0)
		device_sendto(r->rs->dev, buf, n, &r->addr);
	while (turn_poll_event(r->turn, &ev)) {
		switch (ev.type) {
		case TURN_EV_SRFLX:
			r->rs->cb(r->rs->arg, false, &ev.addr);
			break;
		case TURN_EV_RELAYED:
			r->rs->cb(r->rs->arg, true, &ev.addr);
			break;
		case TURN_EV_FAILED:
			log_warnx("relay %s: %s (STUN code %d)", r->id,
			    turn_strerror(ev.error), ev.code);
			break;
		default:
			break;
		}
	}
	timer_at(r->ev, turn_next_deadline(r->turn), util_now_ns());
}

struct relays *
relays_new(struct event_base *base, struct device *dev,
    relays_candidate_fn *cb, void *arg)
{
	struct relays	*rs;

	rs = xcalloc(1, sizeof(*rs));
	rs->base = base;
	rs->dev = dev;
	rs->cb = cb;
	rs->arg = arg;
	return (rs);
}

static void
relay_free(struct relay *r)
{
	event_free(r->ev);
	turn_free(r->turn);
	free(r);
}

/* A known id gets its new credentials by a new allocation. */
int
relays_add(struct relays *rs, const struct ipc_relay *ir)
{
	struct turn_config	 tc;
	struct relay		*r;

	relays_del(rs, ir->id);
	r = xcalloc(1, sizeof(*r));
	r->rs = rs;
	memcpy(r->id, ir->id, sizeof(r->id));
	r->addr.sin6_family = AF_INET6;
	r->addr.sin6_port = htons(ir->addr.port);
	if (ir->addr.family == AF_INET) {
		r->addr.sin6_addr.s6_addr[10] = 0xff;
		r->addr.sin6_addr.s6_addr[11] = 0xff;
		memcpy(&r->addr.sin6_addr.s6_addr[12], ir->addr.addr, 4);
	} else
		memcpy(&r->addr.sin6_addr, ir->addr.addr, 16);
	memset(&tc, 0, sizeof(tc));
	tc.username = ir->username;
	tc.password = ir->password;
	tc.random = relay_random;
	if ((r->turn = turn_new(&tc)) == NULL ||
	    (r->ev = evtimer_new(rs->base, relay_timer_cb, r)) == NULL) {
		turn_free(r->turn);
		free(r);
		return (-1);
	}
	if (turn_start(r->turn, util_now_ns()) == -1) {
		relay_free(r);
		return (-1);
	}
	rs->v = xreallocarray(rs->v, rs->n + 1, sizeof(*rs->v));
	rs->v[rs->n++] = r;
	relay_run(r);
	return (0);
}

int
relays_del(struct relays *rs, const char *id)
{
	size_t	 i;

	for (i = 0; i < rs->n; i++)
		if (strcmp(rs->v[i]->id, id) == 0) {
			/* Delete the allocation; nobody waits for the answer. */
			turn_close(rs->v[i]->turn, util_now_ns());
			relay_run(rs->v[i]);
			relay_free(rs->v[i]);
			rs->v[i] = rs->v[--rs->n];
			return (0);
		}
	return (-1);
}

/* A datagram from one of our relays is its TURN client's business. */
bool
relays_input(struct relays *rs, const uint8_t *msg, size_t len,
    const struct sockaddr_in6 *src)
{
	struct stun_addr	 peer;
	const uint8_t		*data;
	size_t			 i, dlen;

	for (i = 0; i < rs->n; i++) {
		if (rs->v[i]->addr.sin6_port != src->sin6_port ||
		    memcmp(&rs->v[i]->addr.sin6_addr, &src->sin6_addr,
		    16) != 0)
			continue;
		/* Relayed data needs an ICE agent to go to: not yet. */
		(void)turn_handle_input(rs->v[i]->turn, util_now_ns(), msg,
		    len, &peer, &data, &dlen);
		relay_run(rs->v[i]);
		return (true);
	}
	return (false);
}

size_t
relays_count(const struct relays *rs)
{
	return (rs->n);
}

void
relays_free(struct relays *rs)
{
	if (rs == NULL)
		return;
	while (rs->n > 0)
		relays_del(rs, rs->v[rs->n - 1]->id);
	free(rs->v);
	free(rs);
}
