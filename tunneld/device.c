/*
 * device.c: the WireGuard device's main-thread half: handshakes, cookies,
 * timers and session rotation, and the workers it starts. The tables the
 * workers read are in peer.c.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <linux/virtio_net.h>

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/timer.h"
#include "common/util.h"
#include "tunneld/device.h"
#include "tunneld/qsbr.h"
#include "tunneld/udp.h"
#include "tunneld/worker.h"

#define DEVICE_HOLDOFF_US	100000
/* While a worker is inside a batch, what it may hold waits this long. */
#define DEVICE_RECLAIM_US	10000

struct device {
	struct event_base	*base;
	struct device_config	 cfg;
	struct wg_noise_identity *identity;
	struct wg_cookie_checker cookie;

	struct peer		**peers;
	size_t			 npeers;
	struct peer_tables	 tables;	/* shared with the workers */
	device_authz_fn		*authz_fn;
	void			*authz_arg;

	struct event		*ev_wake;	/* on tables.handoff.fd */
	struct event		*ev_holdoff;
	struct event		*ev_unrouted;	/* a report held back */

	device_ctl_fn		*ctl_fn;
	void			*ctl_arg;
	device_dns_fn		*dns_fn;
	void			*dns_arg;
	device_p2p_fn		*p2p_fn;
	void			*p2p_arg;
	device_goodbye_fn	*goodbye_fn;
	void			*goodbye_arg;
	device_stats_fn		*stats_fn;	/* more counters, e.g. relays */
	void			*stats_arg;

	/* Armed only while something retired waits to be freed. */
	struct event		*ev_reclaim;

	struct tun		 tun;
	int			*udp_fds;
	struct worker		**workers;
	int			 nworkers;
	uint16_t		 port;
};

static void	device_peer_timer_cb(evutil_socket_t, short, void *);
static void	device_run_timers(struct device *, struct peer *, int);

int
device_add_resource(struct device *dev, const struct ipc_prefix *p,
    const char *id)
{
	return (peer_add_resource(&dev->tables, p, id));
}

int
device_del_resource(struct device *dev, const struct ipc_prefix *p,
    const char *id)
{
	return (peer_del_resource(&dev->tables, p, id));
}

/* The portal refused the resource: what was held for it goes. */
void
device_drop_held(struct device *dev, const char *id)
{
	int	 n;

	if ((n = peer_drop_held(&dev->tables, id)) > 0)
		log_info("resource %s: %d packets held for it dropped: %s", id,
		    n, "no authorization");
}

int
device_proxy_route(struct device *dev, uint32_t k, const char *id,
    unsigned which, bool add)
{
	return (peer_proxy_route(&dev->tables, k, id, which, add));
}

/* Name k's gateway took it: what it held goes to the gateway's peer. */
void
device_proxy_gateway(struct device *dev, uint32_t k, struct peer *peer)
{
	int	 n;

	if ((n = peer_proxy_gateway(&dev->tables, k, peer)) > 0) {
		log_debug("%d packets held for a name go to peer %u", n,
		    peer->id);
		peer_raise(peer, PEER_EV_WANT_HANDSHAKE);
	}
}

/* The gateway did not take name k of resource id. */
void
device_proxy_drop(struct device *dev, uint32_t k, const char *id)
{
	int	 n;

	if ((n = peer_proxy_drop(&dev->tables, k)) > 0)
		log_info("resource %s: %d packets held for it dropped: %s", id,
		    n, "the gateway did not take the name");
}

/*
 * The packets held so far for the resource's route go to the peer now
 * authorized for it, in order, to be sent once its handshake completes.
 */
void
device_claim_held(struct device *dev, struct peer *peer, const char *id,
    const struct ipc_prefix *route)
{
	int	 n;

	if ((n = peer_claim_held(&dev->tables, peer, id, route)) > 0) {
		log_debug("%d packets held for resource %s go to peer %u", n,
		    id, peer->id);
		peer_raise(peer, PEER_EV_WANT_HANDSHAKE);
	}
}

void
device_set_authz_cb(struct device *dev, device_authz_fn *fn, void *arg)
{
	dev->authz_fn = fn;
	dev->authz_arg = arg;
}

int
device_add_allowed_ip(struct device *dev, struct peer *peer,
    const struct ipc_prefix *p)
{
	return (peer_add_allowed_ip(&dev->tables, peer, p));
}

int
device_relay_add(struct device *dev, const struct sockaddr_in6 *a)
{
	return (peer_relay_add(&dev->tables, a));
}

void
device_relay_del(struct device *dev, const struct sockaddr_in6 *a)
{
	peer_relay_del(&dev->tables, a);
}

void
device_raise(struct peer *peer, uint32_t ev)
{
	peer_raise(peer, ev);
}

void
device_set_ctl_cb(struct device *dev, device_ctl_fn *fn, void *arg)
{
	dev->ctl_fn = fn;
	dev->ctl_arg = arg;
	atomic_store(&dev->tables.take_ctl, fn != NULL);
}

void
device_set_dns_cb(struct device *dev, device_dns_fn *fn, void *arg)
{
	dev->dns_fn = fn;
	dev->dns_arg = arg;
}

void
device_set_p2p_cb(struct device *dev, device_p2p_fn *fn, void *arg)
{
	dev->p2p_fn = fn;
	dev->p2p_arg = arg;
}

/* Control packets from peers, for a peer still there; the rest go. */
static void
device_p2p_packets(struct device *dev)
{
	struct handoff_dgram	 d;
	size_t			 i;

	while (handoff_pop(&dev->tables.handoff.p2p, &d) > 0) {
		for (i = 0; i < dev->npeers; i++)
			if (dev->peers[i]->id == d.peer)
				break;
		if (i < dev->npeers && dev->p2p_fn != NULL)
			dev->p2p_fn(dev->p2p_arg, dev->peers[i], d.msg, d.len);
	}
}

/* Queries to the sentinels; without a taker they go. */
static void
device_dns_queries(struct device *dev)
{
	struct handoff_dgram	 d;

	while (handoff_pop(&dev->tables.handoff.dns, &d) > 0)
		if (dev->dns_fn != NULL)
			dev->dns_fn(dev->dns_arg, d.msg, d.len);
}

/*
 * A packet the main thread makes (a DNS answer) goes to the first queue,
 * behind a virtio-net header asking for nothing when offloads are on.
 */
int
device_tun_write(struct device *dev, const uint8_t *pkt, size_t len)
{
	struct virtio_net_hdr	 vh;
	struct iovec		 iov[2];
	size_t			 hlen = dev->tun.vnet ? sizeof(vh) : 0;

	memset(&vh, 0, sizeof(vh));
	iov[0].iov_base = &vh;
	iov[0].iov_len = hlen;
	iov[1].iov_base = (void *)pkt;
	iov[1].iov_len = len;
	if (writev(dev->tun.fds[0], iov, 2) != (ssize_t)(hlen + len))
		return (-1);
	return (0);
}

static void
device_controls(struct device *dev)
{
	struct handoff_dgram	 d;

	while (handoff_pop(&dev->tables.handoff.ctl, &d) > 0)
		if (dev->ctl_fn != NULL)
			dev->ctl_fn(dev->ctl_arg, d.msg, d.len, &d.src);
}

unsigned
device_mtu(const struct device *dev)
{
	return (dev->cfg.mtu);
}

static uint64_t
wall_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec);
}

void
device_sendto(struct device *dev, const uint8_t *msg, size_t len,
    const struct sockaddr_in6 *dst)
{
	char	 a[64];

	if (sendto(dev->udp_fds[0], msg, len, 0, (const struct sockaddr *)dst,
	    sizeof(*dst)) == -1)
		log_debug("sending %zu bytes to %s: %s", len,
		    udp_addr_str(dst, a, sizeof(a)), strerror(errno));
}

/* Sends to the peer's path: through a relay, in a ChannelData message. */
static void
device_send_path(struct device *dev, const struct sockaddr_in6 *dst,
    uint16_t channel, const uint8_t *msg, size_t len)
{
	uint8_t	 buf[PEER_CHANNEL_HDR + DEVICE_CTL_MAX];

	if (channel == 0) {
		device_sendto(dev, msg, len, dst);
		return;
	}
	if (len > sizeof(buf) - PEER_CHANNEL_HDR)
		return;
	buf[0] = channel >> 8;
	buf[1] = channel & 0xff;
	buf[2] = len >> 8;
	buf[3] = len & 0xff;
	memcpy(buf + PEER_CHANNEL_HDR, msg, len);
	device_sendto(dev, buf, PEER_CHANNEL_HDR + len, dst);
	explicit_bzero(buf, sizeof(buf));
}

static void
peer_name(const struct peer *peer, char *buf, size_t size)
{
	char	 b64[sodium_base64_ENCODED_LEN(WG_KEY_LEN,
		    sodium_base64_VARIANT_ORIGINAL)];

	sodium_bin2base64(b64, sizeof(b64), peer->public_key, WG_KEY_LEN,
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(buf, size, "peer %u (%.8s...)", peer->id, b64);
}

static void
device_send_initiation(struct device *dev, struct peer *peer, uint64_t now)
{
	uint8_t			 msg[WG_INITIATION_LEN];
	struct sockaddr_in6	 dst;
	uint16_t		 channel;
	int			 rc;

	if (!peer_path(peer, &dst, &channel))
		return;
	if (peer->hs_index != 0)
		peer_index_remove(&dev->tables, peer->hs_index);
	peer->hs_index = peer_index_insert(&dev->tables, peer, NULL);
	rc = wg_noise_create_initiation(peer->noise, peer->hs_index,
	    wall_ns(), now, msg);
	if (rc != WG_OK) {
		log_warnx("handshake initiation: %s", wg_strerror(rc));
		return;
	}
	device_send_path(dev, &dst, channel, msg, sizeof(msg));
	wg_timers_event(&peer->timers, WG_TIMERS_HANDSHAKE_INITIATED, now,
	    NULL);
}

/* Seals and sends from the main thread: staged packets and keepalives. */
static bool
device_send_data(struct device *dev, struct peer *peer, const uint8_t *pkt,
    size_t len, uint64_t now)
{
	uint8_t			 buf[65536];
	struct sockaddr_in6	 dst;
	struct keypair		*kp;
	size_t			 outlen;
	uint16_t		 channel;
	int			 rc;

	/* In counter order with what the workers send for the peer. */
	pthread_mutex_lock(&peer->tx_lock);
	if (!peer_path(peer, &dst, &channel) ||
	    (kp = peer_current_keypair(peer)) == NULL) {
		pthread_mutex_unlock(&peer->tx_lock);
		return (false);
	}
	rc = wg_transport_encrypt(&kp->kp, pkt, len, dev->cfg.mtu, buf,
	    sizeof(buf), now, &outlen);
	if (rc == WG_OK)
		device_send_path(dev, &dst, channel, buf, outlen);
	pthread_mutex_unlock(&peer->tx_lock);
	if (rc != WG_OK)
		return (false);
	atomic_fetch_add(&peer->tx_bytes, outlen);
	wg_timers_event(&peer->timers, len == 0 ? WG_TIMERS_KEEPALIVE_SENT :
	    WG_TIMERS_DATA_SENT, now, NULL);
	explicit_bzero(buf, outlen);
	return (true);
}

static void
device_flush_staged(struct device *dev, struct peer *peer, uint64_t now)
{
	struct stage	 st;
	int		 i;

	pthread_mutex_lock(&peer->lock);
	st = peer->staged;
	memset(&peer->staged, 0, sizeof(peer->staged));
	pthread_mutex_unlock(&peer->lock);
	if (st.n == 0) {
		/* Nothing to say: a keepalive confirms the session. */
		device_send_data(dev, peer, NULL, 0, now);
	}
	for (i = 0; i < st.n; i++)
		device_send_data(dev, peer, st.pkt[i], st.len[i], now);
	stage_clear(&st);
}

static void
device_drop_staged(struct peer *peer)
{
	pthread_mutex_lock(&peer->lock);
	stage_clear(&peer->staged);
	pthread_mutex_unlock(&peer->lock);
}

static void
device_zero_keys(struct device *dev, struct peer *peer)
{
	struct keypair	*cur, *prev, *next;

	pthread_mutex_lock(&peer->lock);
	cur = peer->current;
	prev = peer->previous;
	next = peer->next;
	peer->current = peer->previous = peer->next = NULL;
	pthread_mutex_unlock(&peer->lock);
	peer_keypair_retire(&dev->tables, cur);
	peer_keypair_retire(&dev->tables, prev);
	peer_keypair_retire(&dev->tables, next);
	peer_keypair_collect(peer);
	if (peer->hs_index != 0) {
		peer_index_remove(&dev->tables, peer->hs_index);
		peer->hs_index = 0;
	}
	wg_noise_handshake_clear(&peer->noise->hs);
}

/* Roaming: where an authenticated message came from, unless ICE decides. */
void
device_set_endpoint(struct peer *peer, const struct sockaddr_in6 *src)
{
	pthread_mutex_lock(&peer->lock);
	if (!peer->fixed_path) {
		peer->endpoint = *src;
		peer->has_endpoint = true;
	}
	pthread_mutex_unlock(&peer->lock);
}

/* The path ICE nominated: direct, or through a relay's channel. */
void
device_set_path(struct peer *peer, const struct sockaddr_in6 *dst,
    uint16_t channel, bool relayed)
{
	pthread_mutex_lock(&peer->lock);
	peer->endpoint = *dst;
	peer->has_endpoint = true;
	peer->channel = channel;
	peer->relayed = relayed;
	peer->fixed_path = true;
	pthread_mutex_unlock(&peer->lock);
}

static struct wg_noise_peer *
device_noise_lookup(void *arg, const uint8_t key[WG_KEY_LEN])
{
	struct device	*dev = arg;
	size_t		 i;

	for (i = 0; i < dev->npeers; i++)
		if (sodium_memcmp(dev->peers[i]->public_key, key,
		    WG_KEY_LEN) == 0)
			return (dev->peers[i]->noise);
	return (NULL);
}

static struct peer *
device_peer_of(struct device *dev, struct wg_noise_peer *np)
{
	size_t	 i;

	for (i = 0; i < dev->npeers; i++)
		if (dev->peers[i]->noise == np)
			return (dev->peers[i]);
	return (NULL);
}

static void
device_on_initiation(struct device *dev, struct handoff_dgram *it, uint64_t now)
{
	uint8_t			 resp[WG_RESPONSE_LEN];
	struct wg_noise_peer	*np;
	struct wg_keypair	 tmp;
	struct keypair		*kp, *old;
	struct peer		*peer;
	struct sockaddr_in6	 dst;
	uint32_t		 index;
	uint16_t		 channel;
	int			 rc;

	rc = wg_noise_consume_initiation(dev->identity, device_noise_lookup,
	    dev, it->msg, it->len, now, &np);
	if (rc != WG_OK || (peer = device_peer_of(dev, np)) == NULL) {
		log_debug("handshake initiation dropped: %s",
		    wg_strerror(rc));
		return;
	}
	index = peer_index_insert(&dev->tables, peer, NULL);
	memset(&tmp, 0, sizeof(tmp));
	rc = wg_noise_create_response(np, index, now, resp, &tmp);
	if (rc != WG_OK) {
		peer_index_remove(&dev->tables, index);
		log_debug("handshake response: %s", wg_strerror(rc));
		return;
	}
	kp = peer_keypair_new(peer, &tmp);
	wg_transport_keypair_clear(&tmp);
	peer_index_set_keypair(&dev->tables, index, kp);
	pthread_mutex_lock(&peer->lock);
	old = peer->next;
	peer->next = kp;
	pthread_mutex_unlock(&peer->lock);
	peer_keypair_retire(&dev->tables, old);
	device_set_endpoint(peer, &it->src);
	/* The answer takes the peer's path (ICE may have chosen a relay). */
	if (!peer_path(peer, &dst, &channel)) {
		dst = it->src;
		channel = 0;
	}
	device_send_path(dev, &dst, channel, resp, sizeof(resp));
	wg_timers_event(&peer->timers, WG_TIMERS_AUTH_RECEIVED, now, NULL);
	wg_timers_event(&peer->timers, WG_TIMERS_SESSION_DERIVED, now, NULL);
	wg_timers_event(&peer->timers, WG_TIMERS_AUTH_SENT, now, NULL);
	device_run_timers(dev, peer, 0);
}

static void
device_on_response(struct device *dev, struct handoff_dgram *it, uint64_t now)
{
	struct wg_keypair	 tmp;
	struct keypair		*kp, *prev, *next;
	struct peer		*peer;
	uint32_t		 index = wg_get_le32(it->msg + 8);
	char			 name[64];
	int			 rc;

	if ((peer = peer_index_pending(&dev->tables, index)) == NULL ||
	    peer->hs_index != index) {
		log_debug("handshake response for unknown index %u", index);
		return;
	}
	memset(&tmp, 0, sizeof(tmp));
	rc = wg_noise_consume_response(peer->noise, it->msg, it->len, now,
	    &tmp);
	if (rc != WG_OK) {
		/* Once per attempt: the index is guessable, the log is not. */
		if (!peer->warned_response) {
			peer_name(peer, name, sizeof(name));
			log_warnx("%s: handshake response rejected (%s): wrong "
			    "preshared key or peer key?", name,
			    wg_strerror(rc));
			peer->warned_response = true;
		}
		return;
	}
	peer->warned_response = false;
	kp = peer_keypair_new(peer, &tmp);
	wg_transport_keypair_clear(&tmp);
	peer_index_set_keypair(&dev->tables, index, kp);
	peer->hs_index = 0;
	pthread_mutex_lock(&peer->lock);
	prev = peer->previous;
	next = peer->next;
	peer->previous = peer->current;
	peer->current = kp;
	peer->next = NULL;
	if (!peer->fixed_path) {
		peer->endpoint = it->src;
		peer->has_endpoint = true;
	}
	pthread_mutex_unlock(&peer->lock);
	peer_keypair_retire(&dev->tables, prev);
	peer_keypair_retire(&dev->tables, next);
	atomic_store(&peer->last_handshake, util_realtime_s());
	peer_name(peer, name, sizeof(name));
	log_info("%s: handshake completed (initiator)", name);
	wg_timers_event(&peer->timers, WG_TIMERS_AUTH_RECEIVED, now, NULL);
	wg_timers_event(&peer->timers, WG_TIMERS_HANDSHAKE_COMPLETE, now,
	    NULL);
	wg_timers_event(&peer->timers, WG_TIMERS_SESSION_DERIVED, now, NULL);
	device_flush_staged(dev, peer, now);
	device_run_timers(dev, peer, 0);
}

static void
device_on_cookie(struct device *dev, struct handoff_dgram *it, uint64_t now)
{
	struct peer	*peer;
	uint32_t	 index = wg_get_le32(it->msg + 4);
	int		 rc;

	if ((peer = peer_index_pending(&dev->tables, index)) == NULL)
		return;
	if ((rc = wg_noise_consume_cookie(peer->noise, it->msg, it->len,
	    now)) != WG_OK)
		log_debug("cookie reply dropped: %s", wg_strerror(rc));
}

/* MAC1, and under load MAC2 or a cookie reply, before any real work. */
static bool
device_check_macs(struct device *dev, struct handoff_dgram *it, bool under_load,
    uint64_t now)
{
	uint8_t		 reply[WG_COOKIE_REPLY_LEN];
	uint8_t		 src[18];
	int		 rc;

	memcpy(src, &it->src.sin6_addr, 16);
	memcpy(src + 16, &it->src.sin6_port, 2);
	rc = wg_cookie_validate(&dev->cookie, it->msg, it->len, src,
	    sizeof(src), under_load, now);
	if (rc == WG_ERR_COOKIE_REQUIRED) {
		if (wg_cookie_create_reply(&dev->cookie, it->msg, it->len, src,
		    sizeof(src), now, reply) == WG_OK)
			device_sendto(dev, reply, sizeof(reply), &it->src);
		return (false);
	}
	return (rc == WG_OK);
}

static void
device_handshakes(struct device *dev, uint64_t now)
{
	struct handoff_dgram it;
	bool		 under_load;
	int		 type, backlog;

	while ((backlog = handoff_pop(&dev->tables.handoff.hs, &it)) > 0) {
		/* A backlog means someone floods us: ask for cookies. */
		under_load = backlog > HANDOFF_HS_MAX / 8;
		type = (int)wg_get_le32(it.msg);
		if (type == WG_MSG_COOKIE_REPLY) {
			device_on_cookie(dev, &it, now);
			continue;
		}
		if (!device_check_macs(dev, &it, under_load, now))
			continue;
		if (type == WG_MSG_INITIATION)
			device_on_initiation(dev, &it, now);
		else
			device_on_response(dev, &it, now);
	}
	explicit_bzero(&it, sizeof(it));
}

static void
device_run_timers(struct device *dev, struct peer *peer, int actions)
{
	uint64_t	 now = util_now_ns();
	char		 name[64];

	actions |= wg_timers_expire(&peer->timers, now);
	if (actions & WG_TIMERS_SEND_INITIATION)
		device_send_initiation(dev, peer, now);
	if (actions & WG_TIMERS_SEND_KEEPALIVE)
		device_send_data(dev, peer, NULL, 0, now);
	if (actions & WG_TIMERS_GIVE_UP) {
		peer_name(peer, name, sizeof(name));
		log_warnx("%s: handshake did not complete in %llu s, giving "
		    "up until there is new traffic", name, (unsigned long long)
		    (peer->timers.rekey_attempt_time / NSEC_PER_SEC));
		atomic_fetch_add(&peer->handshake_failures, 1);
		device_drop_staged(peer);
	}
	if (actions & WG_TIMERS_ZERO_KEYS)
		device_zero_keys(dev, peer);
	timer_at(peer->ev_timer, wg_timers_next_deadline(&peer->timers), now);
}

static void
device_peer_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct peer	*peer = arg;

	(void)fd;
	(void)events;
	device_run_timers(peer->dev, peer, 0);
}

/* Turns what the workers raised into timer events, in causal order. */
static bool
device_peer_events(struct device *dev, struct peer *peer, uint64_t now)
{
	struct wg_timers_session s, *sp = NULL;
	struct keypair	*kp;
	uint32_t	 ev;
	int		 actions = 0;

	ev = atomic_exchange(&peer->events, 0);
	if (ev == 0)
		return (false);
	if ((kp = peer_current_keypair(peer)) != NULL) {
		s.birth = kp->kp.birth;
		s.send_counter = atomic_load(&kp->kp.send_counter);
		s.initiator = kp->kp.initiator;
		sp = &s;
	}
	peer_keypair_collect(peer);
	if (ev & PEER_EV_CONFIRMED) {
		atomic_store(&peer->last_handshake, util_realtime_s());
		actions |= wg_timers_event(&peer->timers,
		    WG_TIMERS_HANDSHAKE_COMPLETE, now, sp);
	}
	if (ev & PEER_EV_AUTH_RECEIVED)
		actions |= wg_timers_event(&peer->timers,
		    WG_TIMERS_AUTH_RECEIVED, now, sp);
	if (ev & PEER_EV_DATA_RECEIVED)
		actions |= wg_timers_event(&peer->timers,
		    WG_TIMERS_DATA_RECEIVED, now, sp);
	if (ev & PEER_EV_AUTH_SENT)
		actions |= wg_timers_event(&peer->timers,
		    WG_TIMERS_AUTH_SENT, now, sp);
	if (ev & PEER_EV_DATA_SENT)
		actions |= wg_timers_event(&peer->timers,
		    WG_TIMERS_DATA_SENT, now, sp);
	if (ev & PEER_EV_WANT_HANDSHAKE)
		actions |= wg_timers_event(&peer->timers,
		    WG_TIMERS_WANT_HANDSHAKE, now, sp);
	device_run_timers(dev, peer, actions);
	/* Last: the callback may remove the peer. */
	if ((ev & PEER_EV_GOODBYE) && dev->goodbye_fn != NULL)
		dev->goodbye_fn(dev->goodbye_arg, peer);
	return (true);
}

static bool
device_all_peer_events(struct device *dev, uint64_t now)
{
	size_t	 i;
	bool	 any = false;

	/* Downwards: a peer removed at i leaves only visited ones moved. */
	for (i = dev->npeers; i > 0; i--)
		any |= device_peer_events(dev, dev->peers[i - 1], now);
	return (any);
}

static void
device_holdoff_add(struct device *dev)
{
	struct timeval	 tv = { 0, DEVICE_HOLDOFF_US };

	if (!evtimer_pending(dev->ev_holdoff, NULL))
		evtimer_add(dev->ev_holdoff, &tv);
}

/*
 * End of a hold-off: open the gate first, so that a worker raising an
 * event after our scan wakes us; keep it closed while events still come.
 */
static void
device_holdoff_cb(evutil_socket_t fd, short events, void *arg)
{
	struct device	*dev = arg;

	(void)fd;
	(void)events;
	atomic_store(&dev->tables.timers_pending, 0);
	if (device_all_peer_events(dev, util_now_ns())) {
		atomic_store(&dev->tables.timers_pending, 1);
		device_holdoff_add(dev);
	}
}

/* Asks for what workers flagged; comes back for what had to wait. */
static void
device_unrouted(struct device *dev, uint64_t now)
{
	struct timeval	 tv;
	uint64_t	 due;

	due = peer_report_unrouted(&dev->tables, now, dev->authz_fn,
	    dev->authz_arg);
	if (due == 0 || evtimer_pending(dev->ev_unrouted, NULL))
		return;
	due = due > now ? due - now : 0;
	tv.tv_sec = due / NSEC_PER_SEC;
	tv.tv_usec = due % NSEC_PER_SEC / 1000;
	evtimer_add(dev->ev_unrouted, &tv);
}

static void
device_unrouted_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	device_unrouted(arg, util_now_ns());
}

static void
device_wake_cb(evutil_socket_t fd, short events, void *arg)
{
	struct device	*dev = arg;
	uint64_t	 now;

	(void)fd;
	(void)events;
	handoff_woken(&dev->tables.handoff);
	now = util_now_ns();
	device_handshakes(dev, now);
	device_controls(dev);
	device_dns_queries(dev);
	device_p2p_packets(dev);
	device_unrouted(dev, now);
	device_all_peer_events(dev, now);
	if (atomic_load(&dev->tables.timers_pending))
		device_holdoff_add(dev);
}

/* Frees what the workers have passed; tries again while some waits. */
static void
device_reclaim_cb(evutil_socket_t fd, short events, void *arg)
{
	struct device	*dev = arg;
	struct timeval	 tv = { 0, DEVICE_RECLAIM_US };

	(void)fd;
	(void)events;
	if (qsbr_reclaim(dev->tables.qsbr) > 0)
		evtimer_add(dev->ev_reclaim, &tv);
}

/*
 * Something was retired: try at the next turn of the loop, when the
 * caller holds no pointer to it any more; idle workers let it go then.
 */
static void
device_reclaim_kick(void *arg)
{
	struct device	*dev = arg;
	struct timeval	 tv = { 0, 0 };

	evtimer_add(dev->ev_reclaim, &tv);
}

static uint32_t
device_jitter(void *arg)
{
	(void)arg;
	return (randombytes_uniform(WG_REKEY_JITTER_MAX_MS + 1));
}

/*
 * FZC_RELAY_PACE=MBIT: relayed paths are paced to that many Mbit/s (a
 * relay that drops bursts, bench/e2e.sh); unset, they are not paced.
 */
static uint64_t
device_relay_pace(void)
{
	const char	*env = getenv("FZC_RELAY_PACE"), *err;
	long long	 mbit;

	if (env == NULL)
		return (0);
	mbit = strtonum(env, 1, 100000, &err);
	if (err != NULL) {
		log_warnx("FZC_RELAY_PACE=%s: %s, relayed paths unpaced", env,
		    err);
		return (0);
	}
	log_info("relayed paths paced to %lld Mbit/s", mbit);
	return ((uint64_t)mbit * 1000000 / 8);
}

struct device *
device_new(struct event_base *base, const struct device_config *cfg,
    const char **why)
{
	struct device	*dev;

	dev = xcalloc(1, sizeof(*dev));
	dev->base = base;
	dev->cfg = *cfg;
	sodium_memzero(dev->cfg.private_key, WG_KEY_LEN);
	if (wg_noise_identity_new(&dev->identity, cfg->private_key) !=
	    WG_OK) {
		*why = "invalid private key";
		free(dev);
		return (NULL);
	}
	wg_cookie_checker_init(&dev->cookie, dev->identity->public_key);
	dev->ev_reclaim = evtimer_new(base, device_reclaim_cb, dev);
	if (dev->ev_reclaim == NULL)
		fatalx("evtimer_new");
	peer_tables_init(&dev->tables, cfg->mtu, cfg->nworkers,
	    device_reclaim_kick, dev);
	dev->tables.relay_pace = device_relay_pace();
	dev->ev_wake = event_new(base, dev->tables.handoff.fd,
	    EV_READ | EV_PERSIST, device_wake_cb, dev);
	dev->ev_holdoff = evtimer_new(base, device_holdoff_cb, dev);
	dev->ev_unrouted = evtimer_new(base, device_unrouted_cb, dev);
	if (dev->ev_wake == NULL || dev->ev_holdoff == NULL ||
	    dev->ev_unrouted == NULL || event_add(dev->ev_wake, NULL) == -1)
		fatalx("event_add");
	return (dev);
}

struct peer *
device_add_peer(struct device *dev, uint32_t id,
    const uint8_t key[WG_KEY_LEN], const uint8_t *psk,
    const struct sockaddr_in6 *endpoint, uint16_t keepalive)
{
	struct peer	*peer;

	if (device_noise_lookup(dev, key) != NULL)
		return (NULL);
	peer = xcalloc(1, sizeof(*peer));
	if (wg_noise_peer_new(&peer->noise, dev->identity, key, psk) !=
	    WG_OK) {
		free(peer);
		return (NULL);
	}
	peer->id = id;
	peer_init(peer, &dev->tables);
	peer->dev = dev;
	memcpy(peer->public_key, key, WG_KEY_LEN);
	peer->persistent_keepalive = keepalive;
	if (endpoint != NULL) {
		peer->endpoint = *endpoint;
		peer->has_endpoint = true;
	}
	wg_timers_init(&peer->timers, WG_REKEY_ATTEMPT_TIME,
	    (uint64_t)keepalive * NSEC_PER_SEC, device_jitter, NULL);
	peer->ev_timer = evtimer_new(dev->base, device_peer_timer_cb, peer);
	if (peer->ev_timer == NULL)
		fatalx("evtimer_new");
	dev->peers = xreallocarray(dev->peers, dev->npeers + 1,
	    sizeof(*dev->peers));
	dev->peers[dev->npeers++] = peer;
	return (peer);
}

int
device_start(struct device *dev, const char **why)
{
	struct udp_caps	 caps;
	const char	*env = getenv("FZC_OFFLOAD"), *offload;
	uint16_t	 port = dev->cfg.listen_port;
	size_t		 i;
	int		 n = dev->cfg.nworkers;

	/* FZC_OFFLOAD=0: plain packets on the TUN device (tests, bench). */
	if (tun_open(&dev->tun, dev->cfg.ifname, n,
	    env == NULL || strcmp(env, "0") != 0, why) == -1)
		return (-1);
	dev->udp_fds = xcalloc((size_t)n, sizeof(int));
	dev->workers = xcalloc((size_t)n, sizeof(*dev->workers));
	for (dev->nworkers = 0; dev->nworkers < n; dev->nworkers++) {
		dev->udp_fds[dev->nworkers] = udp_open(port, &port, &caps,
		    why);
		if (dev->udp_fds[dev->nworkers] == -1)
			return (-1);
		dev->workers[dev->nworkers] = worker_new(&dev->tables,
		    dev->nworkers, &dev->tun, dev->udp_fds[dev->nworkers],
		    &caps);
	}
	dev->port = port;
	offload = "off";
	if (dev->tun.offloads & TUN_OFFLOAD_USO)
		offload = "TSO and USO";
	else if (dev->tun.offloads & TUN_OFFLOAD_TSO)
		offload = "TSO";
	log_info(
	    "%s: %d workers on UDP port %u (GSO %s, GRO %s, TUN offload %s)",
	    dev->tun.name, n, port, caps.gso ? "on" : "off",
	    caps.gro ? "on" : "off", offload);
	for (i = 0; i < (size_t)n; i++)
		if (worker_start(dev->workers[i]) == -1) {
			*why = "starting a worker thread";
			return (-1);
		}
	/* Persistent keepalives start at once, as in wg(8). */
	for (i = 0; i < dev->npeers; i++)
		if (dev->peers[i]->persistent_keepalive != 0)
			device_raise(dev->peers[i], PEER_EV_WANT_HANDSHAKE);
	return (0);
}

static void
device_peer_destroy(void *arg)
{
	struct peer	*peer = arg;

	peer_fini(peer);
	event_free(peer->ev_timer);
	wg_noise_peer_free(peer->noise);
	explicit_bzero(peer, sizeof(*peer));
	free(peer);
}

/*
 * Takes a peer out of the tables at once; its memory waits until every
 * worker has been quiescent, since one may be in a batch for it.
 */
void
device_del_peer(struct device *dev, struct peer *peer)
{
	size_t	 i;

	peer_remove_allowed_ips(&dev->tables, peer);
	for (i = 0; i < dev->npeers; i++)
		if (dev->peers[i] == peer) {
			dev->peers[i] = dev->peers[--dev->npeers];
			break;
		}
	device_zero_keys(dev, peer);
	device_drop_staged(peer);
	evtimer_del(peer->ev_timer);
	qsbr_retire(dev->tables.qsbr, peer, device_peer_destroy);
}

/* An inner packet from the main thread (PROTOCOL 4.6 control packets). */
int
device_peer_send(struct peer *peer, const uint8_t *pkt, size_t len)
{
	return (device_send_data(peer->dev, peer, pkt, len, util_now_ns()) ?
	    0 : -1);
}

/* A handshake message that came through a relay, from the main thread. */
void
device_handshake_input(struct device *dev, const uint8_t *msg, size_t len,
    const struct sockaddr_in6 *src)
{
	if (len <= WG_INITIATION_LEN &&
	    handoff_push(&dev->tables.handoff.hs, msg, len, src) == 0)
		device_handshakes(dev, util_now_ns());
}

void
device_set_goodbye_cb(struct device *dev, device_goodbye_fn *fn, void *arg)
{
	dev->goodbye_fn = fn;
	dev->goodbye_arg = arg;
}

void
device_set_stats_cb(struct device *dev, device_stats_fn *fn, void *arg)
{
	dev->stats_fn = fn;
	dev->stats_arg = arg;
}

void
device_free(struct device *dev)
{
	struct peer	*peer;
	size_t		 i;
	int		 w;

	if (dev == NULL)
		return;
	for (w = 0; w < dev->nworkers; w++)
		worker_free(dev->workers[w]);
	for (w = 0; w < dev->nworkers; w++)
		close(dev->udp_fds[w]);
	free(dev->workers);
	free(dev->udp_fds);
	if (dev->tun.fds != NULL)
		tun_close(&dev->tun);
	for (i = 0; i < dev->npeers; i++) {
		peer = dev->peers[i];
		device_zero_keys(dev, peer);
		device_drop_staged(peer);
		device_peer_destroy(peer);
	}
	free(dev->peers);
	event_free(dev->ev_wake);
	event_free(dev->ev_holdoff);
	event_free(dev->ev_unrouted);
	peer_tables_clear(&dev->tables);
	event_free(dev->ev_reclaim);
	wg_cookie_checker_clear(&dev->cookie);
	wg_noise_identity_free(dev->identity);
	free(dev);
}

static void
device_peer_stats(struct device *dev, size_t i, struct ipc_peer_stats *s)
{
	struct peer		*peer = dev->peers[i];
	struct sockaddr_in6	 ep;
	uint16_t		 channel;

	memset(s, 0, sizeof(*s));
	s->peer_id = peer->id;
	memcpy(s->public_key, peer->public_key, WG_KEY_LEN);
	if (peer_path(peer, &ep, &channel)) {
		pthread_mutex_lock(&peer->lock);
		s->has_endpoint = peer->relayed ? 2 : 1;
		pthread_mutex_unlock(&peer->lock);
		s->endpoint.port = ntohs(ep.sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&ep.sin6_addr)) {
			s->endpoint.family = AF_INET;
			memcpy(s->endpoint.addr, &ep.sin6_addr.s6_addr[12], 4);
		} else {
			s->endpoint.family = AF_INET6;
			s->endpoint.scope_id = ep.sin6_scope_id;
			memcpy(s->endpoint.addr, &ep.sin6_addr, 16);
		}
	}
	s->last_handshake = atomic_load(&peer->last_handshake);
	s->rx_bytes = atomic_load(&peer->rx_bytes);
	s->tx_bytes = atomic_load(&peer->tx_bytes);
	s->handshake_failures = atomic_load(&peer->handshake_failures);
}

/* Answers IPC_STATS_REQUEST: a message per peer and worker, then END. */
int
device_send_stats(struct device *dev, struct ipc_chan *ch, uint32_t id)
{
	struct ipc_peer_stats	 ps;
	struct ipc_worker_stats	 ws;
	struct ipc_empty	 end;
	size_t			 i;
	int			 w;

	for (i = 0; dev != NULL && i < dev->npeers; i++) {
		device_peer_stats(dev, i, &ps);
		if (ipc_chan_send(ch, IPC_PEER_STATS, id, &ps, sizeof(ps),
		    -1) == -1)
			return (-1);
	}
	for (w = 0; dev != NULL && w < dev->nworkers; w++) {
		worker_stats(dev->workers[w], &ws);
		if (ipc_chan_send(ch, IPC_WORKER_STATS, id, &ws, sizeof(ws),
		    -1) == -1)
			return (-1);
	}
	if (dev != NULL && dev->stats_fn != NULL &&
	    dev->stats_fn(dev->stats_arg, ch, id) == -1)
		return (-1);
	memset(&end, 0, sizeof(end));
	return (ipc_chan_send(ch, IPC_STATS_END, id, &end, sizeof(end), -1));
}

const char *
device_ifname(const struct device *dev)
{
	return (dev->tun.name);
}

uint16_t
device_port(const struct device *dev)
{
	return (dev->port);
}

