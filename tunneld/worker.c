/*
 * worker.c: a data-plane thread. It owns one TUN queue and one UDP socket
 * and runs each batch to completion: packets the kernel steered to its
 * queue are encrypted and sent, datagrams the kernel hashed to its socket
 * are decrypted and written to its queue. One peer's datagrams all reach
 * one socket, so one worker writes all of a flow's packets, in order.
 * Flows to one peer may come from every queue: a worker seals and sends
 * a run of them under the peer's tx_lock, so that its counters leave in
 * the order they were given out whichever worker sends.
 *
 * With TUN offloads on, a read may return a TCP or UDP super-packet of up
 * to 64 KiB: it is cut into segments (gso.c), sealed into the slots of
 * the batch and sent with UDP GSO; decrypted TCP segments are coalesced
 * again (gro.c) and written as one super-packet per flow and batch.
 */
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <linux/virtio_net.h>

#include <netinet/in.h>
#include <netinet/udp.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/timer.h"
#include "common/util.h"
#include "tunneld/gro.h"
#include "tunneld/gso.h"
#include "tunneld/iphdr.h"
#include "tunneld/nat/stun.h"
#include "tunneld/p2p.h"
#include "tunneld/peer.h"
#include "tunneld/qsbr.h"
#include "tunneld/sentinel.h"
#include "tunneld/tun.h"
#include "tunneld/wg/aead.h"
#include "tunneld/worker.h"

/* Segments per UDP GSO send. */
#define TX_BATCH	UDP_GSO_MAX_SEGS
/* Sealed packets held for sending: more than one super-packet cuts into. */
#define TX_SLOTS	128
/* TUN reads per wake-up: plain packets, super-packets. */
#define TX_READS	TX_BATCH
#define TX_READS_GSO	8
/* A paced path's sender sleeps once it is this far ahead of the pace. */
#define PACE_SLEEP_MIN_NS	100000
/* One byte more than a super-packet: a read that fills it was cut short. */
#define TUN_BUF_SIZE	(GSO_VNET_LEN + GSO_PKT_MAX + 1)
#define RX_BATCH	16
#define RX_GRO_SIZE	65536
#define MAX_UDP_PAYLOAD	65507
/* How long a full socket or queue may hold a batch before it is dropped. */
#define BACKPRESSURE_MS	1000
/* Room in front of a packet: the headers it may get. */
#define HEADROOM	(PEER_CHANNEL_HDR + WG_TRANSPORT_HDR_LEN)
/* And behind it: padding to 16 and the AEAD tag. */
#define TAILROOM	(16 + WG_TAG_LEN)

struct worker_counters {
	_Atomic uint64_t	 tx_packets;
	_Atomic uint64_t	 tx_bytes;
	_Atomic uint64_t	 rx_packets;
	_Atomic uint64_t	 rx_bytes;
	_Atomic uint64_t	 tx_syscalls;
	_Atomic uint64_t	 rx_syscalls;
	_Atomic uint64_t	 reorders;
	_Atomic uint64_t	 drops[IPC_DROP_MAX];
};

struct worker {
	struct peer_tables	*tables;
	int			 id;
	int			 tun_fd;	/* the queue this worker reads */
	const int		*tun_fds;	/* every queue, for writes */
	int			 nqueues;
	int			 udp_fd;
	int			 stop_fd;
	bool			 gso;
	bool			 gro;
	bool			 vnet;	/* TUN offloads: virtio-net headers */
	pthread_t		 thread;
	bool			 running;
	unsigned		 mtu;

	/* Outbound batch: slot i holds one packet, then its ciphertext. */
	uint8_t			*tx;
	size_t			 tx_stride;
	size_t			 tx_len[TX_SLOTS];
	size_t			 tx_off[TX_SLOTS];	/* 0: ChannelData */
	struct sockaddr_in6	 tx_dst[TX_SLOTS];
	int			 ntx;
	/* With offloads: one super-packet as read, and the one being cut. */
	uint8_t			*tun_buf;
	struct gso		 gso_state;
	/* Decrypted segments waiting to be coalesced. */
	struct gro		 gro_state;

	/* Inbound batch. */
	uint8_t			*rx;
	size_t			 rx_stride;
	struct mmsghdr		 rx_msgs[RX_BATCH];
	struct iovec		 rx_iov[RX_BATCH];
	struct sockaddr_in6	 rx_src[RX_BATCH];
	char			 rx_cmsg[RX_BATCH][CMSG_SPACE(sizeof(int))];

	struct worker_counters	 c;
};

static void
count(_Atomic uint64_t *c, uint64_t n)
{
	/* Only this thread writes; the main thread reads for status. */
	atomic_store_explicit(c, atomic_load_explicit(c,
	    memory_order_relaxed) + n, memory_order_relaxed);
}

static void
drop(struct worker *w, enum ipc_drop why)
{
	count(&w->c.drops[why], 1);
}

/* Waits for room instead of spinning or dropping at once. */
static int
wait_writable(int fd)
{
	struct pollfd	 pfd = { fd, POLLOUT, 0 };

	return (poll(&pfd, 1, BACKPRESSURE_MS) == 1 ? 0 : -1);
}

static int
send_one(struct worker *w, struct msghdr *mh)
{
	for (;;) {
		count(&w->c.tx_syscalls, 1);
		if (sendmsg(w->udp_fd, mh, 0) != -1)
			return (0);
		if (errno == EINTR)
			continue;
		if ((errno != EAGAIN && errno != ENOBUFS) ||
		    wait_writable(w->udp_fd) == -1)
			return (-1);
	}
}

/*
 * Sends slots [i, j) to one destination: with GSO as one super-datagram
 * of equal segments (the last may be shorter), else one by one.
 */
static void
flush_group(struct worker *w, int i, int j)
{
	struct iovec	 iov[TX_BATCH];
	union {
		char		buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr	align;
	} cm;
	struct cmsghdr	*cmsg;
	struct msghdr	 mh;
	uint16_t	 seg = (uint16_t)w->tx_len[i];
	size_t		 bytes = 0;
	int		 k;

	for (k = i; k < j; k++) {
		iov[k - i].iov_base = w->tx + (size_t)k * w->tx_stride +
		    w->tx_off[k];
		iov[k - i].iov_len = w->tx_len[k];
		bytes += w->tx_len[k];
	}
	memset(&mh, 0, sizeof(mh));
	mh.msg_name = &w->tx_dst[i];
	mh.msg_namelen = sizeof(w->tx_dst[i]);
	if (w->gso && j - i > 1) {
		mh.msg_iov = iov;
		mh.msg_iovlen = (size_t)(j - i);
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_level = SOL_UDP;
		cmsg->cmsg_type = UDP_SEGMENT;
		cmsg->cmsg_len = CMSG_LEN(sizeof(uint16_t));
		memcpy(CMSG_DATA(cmsg), &seg, sizeof(seg));
		if (send_one(w, &mh) == 0) {
			count(&w->c.tx_packets, (uint64_t)(j - i));
			count(&w->c.tx_bytes, bytes);
			return;
		}
		if (errno != EIO && errno != EINVAL && errno != EOPNOTSUPP) {
			drop(w, IPC_DROP_SEND);
			return;
		}
		/* The route's device cannot segment: go one by one from now. */
		log_warnx("worker %d: UDP GSO refused, sending singly",
		    w->id);
		w->gso = false;
	}
	for (k = i; k < j; k++) {
		mh.msg_iov = &iov[k - i];
		mh.msg_iovlen = 1;
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
		mh.msg_name = &w->tx_dst[k];
		if (send_one(w, &mh) == -1) {
			drop(w, IPC_DROP_SEND);
			continue;
		}
		count(&w->c.tx_packets, 1);
		count(&w->c.tx_bytes, w->tx_len[k]);
	}
}

static int
same_dst(const struct sockaddr_in6 *a, const struct sockaddr_in6 *b)
{
	return (a->sin6_port == b->sin6_port &&
	    memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)) == 0);
}

/* PROTOCOL 4.1: relayed, a datagram goes to the relay in ChannelData. */
static size_t
channel_wrap(uint8_t *slot, uint16_t channel, size_t len)
{
	if (channel == 0)
		return (PEER_CHANNEL_HDR);
	slot[0] = channel >> 8;
	slot[1] = channel & 0xff;
	slot[2] = len >> 8;
	slot[3] = len & 0xff;
	return (0);
}

static void
flush_tx(struct worker *w)
{
	size_t	 seg, maxsegs;
	int	 i = 0, j;

	while (i < w->ntx) {
		seg = w->tx_len[i];
		maxsegs = MAX_UDP_PAYLOAD / seg;
		if (maxsegs > TX_BATCH)
			maxsegs = TX_BATCH;
		/* Equal sizes to one place; a shorter one closes the group. */
		for (j = i + 1; j < w->ntx && (size_t)(j - i) < maxsegs &&
		    w->tx_len[j - 1] == seg && w->tx_len[j] <= seg &&
		    same_dst(&w->tx_dst[j], &w->tx_dst[i]); j++)
			;
		flush_group(w, i, j);
		i = j;
	}
	w->ntx = 0;
}

/*
 * The peer a run of packets goes to, whose tx_lock is held, and what
 * sealing for it needs.
 */
struct tx_state {
	struct peer		*peer;
	struct keypair		*kp;
	struct sockaddr_in6	 dst;
	bool			 has_dst;
	uint16_t		 channel;
	bool			 paced;
	uint32_t		 ev;
	uint64_t		 now;
};

/* Sends what was sealed for the peer and lets other threads send for it. */
static void
tx_release(struct worker *w, struct tx_state *ts)
{
	if (ts->peer == NULL)
		return;
	flush_tx(w);
	if (ts->ev != 0)
		peer_raise(ts->peer, ts->ev);
	ts->ev = 0;
	pthread_mutex_unlock(&ts->peer->tx_lock);
	ts->peer = NULL;
}

static void
tx_peer(struct worker *w, struct tx_state *ts, struct peer *p)
{
	if (p == ts->peer)
		return;
	tx_release(w, ts);
	pthread_mutex_lock(&p->tx_lock);
	ts->peer = p;
	ts->kp = peer_current_keypair(p);
	pthread_mutex_lock(&p->lock);
	ts->has_dst = p->has_endpoint;
	ts->dst = p->endpoint;
	ts->channel = p->channel;
	ts->paced = p->relayed && p->pace.rate != 0;
	pthread_mutex_unlock(&p->lock);
}

static void
pace_sleep(uint64_t ns)
{
	struct timespec	 ts = { (time_t)(ns / NSEC_PER_SEC),
			    (long)(ns % NSEC_PER_SEC) };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Seals the packet of n bytes at pkt into the next slot (pkt may already
 * lie there, at HEADROOM, or in any slot past the last one sealed).
 */
static void
tx_seal(struct worker *w, struct tx_state *ts, const uint8_t *pkt, size_t n)
{
	uint8_t		*slot;
	size_t		 outlen;
	uint64_t	 wait;
	int		 rc;

	wait = 0;
	if (ts->paced)
		wait = pace_take(&ts->peer->pace, util_now_ns(),
		    n + WG_TRANSPORT_OVERHEAD);
	if (wait >= PACE_SLEEP_MIN_NS) {
		/*
		 * Ahead of the pace: what was sealed leaves, then the worker
		 * waits, and the TUN queue holding the rest pushes back.
		 */
		flush_tx(w);
		pace_sleep(wait);
	}
	if (w->ntx == TX_SLOTS)
		flush_tx(w);
	slot = w->tx + (size_t)w->ntx * w->tx_stride;
	if (ts->kp == NULL)
		rc = WG_ERR_EXPIRED;
	else if (!ts->has_dst)
		rc = WG_ERR_STATE;
	else
		rc = wg_transport_encrypt(&ts->kp->kp, pkt, n, w->mtu,
		    slot + PEER_CHANNEL_HDR, w->tx_stride - PEER_CHANNEL_HDR,
		    ts->now, &outlen);
	if (rc == WG_ERR_STATE) {
		drop(w, IPC_DROP_NO_SESSION);
		return;
	}
	if (rc == WG_ERR_CRYPTO) {
		/* No cipher context (out of memory): lost like a send. */
		drop(w, IPC_DROP_SEND);
		return;
	}
	if (rc != WG_OK) {
		/* Held until the handshake the main thread starts. */
		peer_stage(ts->peer, pkt, n);
		peer_raise(ts->peer, PEER_EV_WANT_HANDSHAKE);
		return;
	}
	w->tx_off[w->ntx] = channel_wrap(slot, ts->channel, outlen);
	w->tx_len[w->ntx] = outlen + PEER_CHANNEL_HDR - w->tx_off[w->ntx];
	w->tx_dst[w->ntx] = ts->dst;
	w->ntx++;
	atomic_fetch_add_explicit(&ts->peer->tx_bytes, outlen,
	    memory_order_relaxed);
	/* Raised once per peer and batch, not per packet. */
	ts->ev = PEER_EV_DATA_SENT | PEER_EV_AUTH_SENT;
}

/*
 * The peer for an outbound packet, or NULL (counted as a drop, or a DNS
 * query handed to the main thread).
 */
static struct peer *
tx_route(struct worker *w, const uint8_t *pkt, size_t n)
{
	struct peer	*p;

	/* DNS to a sentinel is answered by controld, not a peer. */
	switch (sentinel_take(&w->tables->handoff, pkt, n)) {
	case SENTINEL_NOT:
		break;
	case SENTINEL_QUEUED:
		return (NULL);
	case SENTINEL_FULL:
		drop(w, IPC_DROP_QUEUE_FULL);
		return (NULL);
	}
	if ((p = peer_lookup_dst(w->tables, pkt, n)) != NULL)
		return (p);
	if (peer_unrouted(w->tables, pkt, n))
		drop(w, IPC_DROP_UNAUTHORIZED);
	else
		drop(w, IPC_DROP_NO_PEER);
	return (NULL);
}

/* One plain packet, read into the next slot: 0, or -1 when none. */
static int
read_plain(struct worker *w, struct tx_state *ts)
{
	struct peer	*p;
	uint8_t		*pkt;
	ssize_t		 n;

	pkt = w->tx + (size_t)w->ntx * w->tx_stride + HEADROOM;
	n = read(w->tun_fd, pkt, w->mtu);
	if (n == -1 && errno == EINTR)
		return (0);
	if (n <= 0)
		return (-1);
	if ((p = tx_route(w, pkt, (size_t)n)) == NULL)
		return (0);
	tx_peer(w, ts, p);
	tx_seal(w, ts, pkt, (size_t)n);
	return (0);
}

/* One read with offloads on, cut into segments: 0, or -1 when none. */
static int
read_super(struct worker *w, struct tx_state *ts)
{
	struct virtio_net_hdr vh;
	struct gso	*g = &w->gso_state;
	struct peer	*p;
	uint8_t		*pkt = w->tun_buf + GSO_VNET_LEN, *seg;
	size_t		 len;
	ssize_t		 n;

	n = read(w->tun_fd, w->tun_buf, TUN_BUF_SIZE);
	if (n == -1 && errno == EINTR)
		return (0);
	if (n <= 0)
		return (-1);
	if ((size_t)n <= GSO_VNET_LEN || (size_t)n == TUN_BUF_SIZE) {
		drop(w, IPC_DROP_BAD_PACKET);
		return (0);
	}
	memcpy(&vh, w->tun_buf, sizeof(vh));
	len = (size_t)n - GSO_VNET_LEN;
	if (gso_start(g, &vh, pkt, len) == -1) {
		drop(w, IPC_DROP_BAD_PACKET);
		return (0);
	}
	/* Every segment has the super-packet's addresses. */
	if ((p = tx_route(w, pkt, len)) == NULL)
		return (0);
	tx_peer(w, ts, p);
	while ((seg = gso_next(g, &len)) != NULL)
		tx_seal(w, ts, seg, len);
	return (0);
}

/* Reads what the TUN queue has (up to a batch), seals it, sends it. */
static void
worker_outbound(struct worker *w)
{
	struct tx_state	 ts;
	int		 i;

	memset(&ts, 0, sizeof(ts));
	ts.now = util_now_ns();
	for (i = 0; i < (w->vnet ? TX_READS_GSO : TX_READS); i++) {
		/*
		 * Full GSO sends go out at once, and another worker waiting
		 * to send for the same peer gets its turn.
		 */
		if (w->ntx >= (w->vnet ? TX_BATCH : TX_SLOTS))
			tx_release(w, &ts);
		if ((w->vnet ? read_super(w, &ts) : read_plain(w, &ts)) == -1)
			break;
	}
	tx_release(w, &ts);
}

/*
 * The TUN queue for an inner flow. The kernel sends a flow's outbound
 * packets to the queue its inbound packets were last written to, so
 * choosing the queue by flow spreads outbound flows over the workers,
 * while each flow still stays on one queue and is written by the one
 * worker that receives its peer's datagrams.
 */
static int
tun_queue_fd(struct worker *w, const uint8_t *p, size_t len)
{
	uint32_t	 h = 2166136261u;
	size_t		 i, n = 0, l4 = 0;
	int		 proto = 0;

	if (w->nqueues == 1)
		return (w->tun_fds[0]);
	if (iphdr_version(p) == IPHDR_V4) {
		n = IP4_SRC;
		l4 = iphdr_v4_hlen(p);
		proto = p[IP4_PROTO];
		/* Only the first fragment carries ports. */
		if ((p[IP4_FRAG] & 0x3f) != 0 || p[IP4_FRAG + 1] != 0)
			proto = 0;
	} else {
		n = IP6_SRC;
		l4 = IP6_HDR_LEN;
		proto = p[IP6_NXT];
	}
	/* Both addresses, source and destination, which follow it. */
	for (i = n; i < n + 2 * (iphdr_version(p) == IPHDR_V4 ?
	    IP4_ADDR_LEN : IP6_ADDR_LEN); i++)
		h = (h ^ p[i]) * 16777619u;
	if ((proto == 6 || proto == 17) && len >= l4 + 4)
		for (i = l4; i < l4 + 4; i++)
			h = (h ^ p[i]) * 16777619u;
	return (w->tun_fds[h % (uint32_t)w->nqueues]);
}

/* gro.c's writer: one packet or super-packet with its virtio header. */
static void
tun_writev(void *arg, const struct iovec *iov, int cnt, unsigned segs)
{
	struct worker	*w = arg;
	size_t		 len = 0;
	int		 fd, i;

	for (i = 1; i < cnt; i++)
		len += iov[i].iov_len;
	fd = tun_queue_fd(w, iov[1].iov_base, iov[1].iov_len);
	for (;;) {
		if (writev(fd, iov, cnt) != -1) {
			count(&w->c.rx_packets, segs);
			count(&w->c.rx_bytes, len);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN || wait_writable(fd) == -1) {
			drop(w, IPC_DROP_TUN_WRITE);
			return;
		}
	}
}

static void
tun_write(struct worker *w, const uint8_t *pkt, size_t len)
{
	int	 fd = tun_queue_fd(w, pkt, len);

	for (;;) {
		if (write(fd, pkt, len) != -1) {
			count(&w->c.rx_packets, 1);
			count(&w->c.rx_bytes, len);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN || wait_writable(fd) == -1) {
			drop(w, IPC_DROP_TUN_WRITE);
			return;
		}
	}
}

/* The length of the IP packet at p, or 0 if it is not one that fits. */
static size_t
ip_len(const uint8_t *p, size_t avail)
{
	size_t	 len;

	if (avail >= IP4_HDR_MIN && iphdr_version(p) == IPHDR_V4) {
		len = (size_t)p[IP4_TOTLEN] << 8 | p[IP4_TOTLEN + 1];
		if (len >= IP4_HDR_MIN && iphdr_v4_hlen(p) >= IP4_HDR_MIN &&
		    len <= avail)
			return (len);
	} else if (avail >= IP6_HDR_LEN && iphdr_version(p) == IPHDR_V6) {
		len = IP6_HDR_LEN + ((size_t)p[IP6_PAYLEN] << 8 |
		    p[IP6_PAYLEN + 1]);
		if (len <= avail)
			return (len);
	}
	return (0);
}

struct rx_state {
	uint32_t		 index;
	struct keypair		*kp;
};

static void
worker_transport(struct worker *w, struct rx_state *st, uint8_t *msg,
    size_t len, const struct sockaddr_in6 *src, uint64_t now)
{
	struct keypair	*kp;
	struct peer	*peer;
	uint64_t	 counter;
	size_t		 plain, ilen;
	uint32_t	 index = wg_get_le32(msg + 4);
	int		 rc;
	bool		 late;

	if (st->kp == NULL || st->index != index) {
		st->kp = peer_keypair_by_index(w->tables, index);
		st->index = index;
	}
	if ((kp = st->kp) == NULL) {
		drop(w, IPC_DROP_UNKNOWN_INDEX);
		return;
	}
	counter = wg_get_le64(msg + 8);
	/* Several threads may receive for one keypair when a peer roams. */
	pthread_mutex_lock(&kp->replay_lock);
	/* Reordered: a greater counter of the keypair came in before it. */
	late = counter < kp->kp.replay.top;
	rc = wg_transport_decrypt(&kp->kp, msg, len, now, &plain);
	pthread_mutex_unlock(&kp->replay_lock);
	if (rc != WG_OK) {
		drop(w, rc == WG_ERR_REPLAY ? IPC_DROP_REPLAY :
		    IPC_DROP_DECRYPT);
		return;
	}
	if (late)
		count(&w->c.reorders, 1);
	peer = kp->peer;
	atomic_fetch_add_explicit(&peer->rx_bytes, len, memory_order_relaxed);
	pthread_mutex_lock(&peer->lock);
	/* Roaming: authenticated packets move the endpoint, unless ICE. */
	if (!peer->fixed_path &&
	    (!peer->has_endpoint || !same_dst(&peer->endpoint, src))) {
		peer->endpoint = *src;
		peer->has_endpoint = true;
	}
	if (peer->next == kp) {
		pthread_mutex_unlock(&peer->lock);
		peer_confirm(peer, kp);
	} else
		pthread_mutex_unlock(&peer->lock);
	if (plain == 0) {
		peer_raise(peer, PEER_EV_AUTH_RECEIVED);
		return;
	}
	peer_raise(peer, PEER_EV_AUTH_RECEIVED | PEER_EV_DATA_RECEIVED);
	msg += WG_TRANSPORT_HDR_LEN;
	if ((ilen = ip_len(msg, plain)) == 0) {
		drop(w, IPC_DROP_BAD_PACKET);
		return;
	}
	/* PROTOCOL 4.6: the peer's control packets are for the main thread. */
	switch (p2p_classify(msg, ilen)) {
	case P2P_GOODBYE_PKT:
		peer_raise(peer, PEER_EV_GOODBYE);
		return;
	case P2P_CONTROL:
		if (handoff_push_peer(&w->tables->handoff.p2p, msg, ilen,
		    peer->id) == -1)
			drop(w, IPC_DROP_QUEUE_FULL);
		else
			handoff_wake(&w->tables->handoff);
		return;
	case P2P_NOT:
		break;
	}
	/* Cryptokey routing: the peer may only speak for its allowed IPs. */
	if (!peer_src_allowed(w->tables, peer, msg, ilen)) {
		drop(w, IPC_DROP_SOURCE);
		return;
	}
	if (w->vnet)
		gro_add(&w->gro_state, msg, ilen);
	else
		tun_write(w, msg, ilen);
}

static void
worker_datagram(struct worker *w, struct rx_state *st, uint8_t *msg,
    size_t len, const struct sockaddr_in6 *src, uint64_t now)
{
	uint32_t	 receiver;
	size_t		 clen;
	int		 type, kind;

	/*
	 * PROTOCOL 4.1: relayed WireGuard data is unwrapped here, the rest
	 * of STUN and TURN goes to the main thread's agents.
	 */
	kind = stun_classify(msg, len);
	if (kind == STUN_KIND_CHANNELDATA &&
	    (clen = (size_t)msg[2] << 8 | msg[3]) <= len - PEER_CHANNEL_HDR &&
	    wg_message_classify(msg + PEER_CHANNEL_HDR, clen, &receiver) ==
	    WG_MSG_TRANSPORT && peer_is_relay(w->tables, src)) {
		worker_transport(w, st, msg + PEER_CHANNEL_HDR, clen, src,
		    now);
		return;
	}
	if (kind != STUN_KIND_OTHER) {
		switch (peer_queue_control(w->tables, msg, len, src)) {
		case PEER_QUEUED:
			break;
		case PEER_QUEUE_FULL:
			drop(w, IPC_DROP_QUEUE_FULL);
			break;
		case PEER_NOT_OURS:
			drop(w, IPC_DROP_BAD_PACKET);
			break;
		}
		return;
	}
	if ((type = wg_message_classify(msg, len, &receiver)) < 0) {
		drop(w, IPC_DROP_BAD_PACKET);
		return;
	}
	if (type == WG_MSG_TRANSPORT)
		worker_transport(w, st, msg, len, src, now);
	else if (peer_queue_handshake(w->tables, msg, len, src) == -1)
		drop(w, IPC_DROP_QUEUE_FULL);
}

static void
worker_inbound(struct worker *w)
{
	struct rx_state	 st = { 0, NULL };
	struct cmsghdr	*cmsg;
	struct sockaddr_in6 src;
	uint64_t	 now;
	uint8_t		*buf;
	size_t		 len, seg, off;
	int		 i, n, gso;

	for (i = 0; i < RX_BATCH; i++) {
		w->rx_iov[i].iov_base = w->rx + (size_t)i * w->rx_stride;
		w->rx_iov[i].iov_len = w->rx_stride;
		memset(&w->rx_msgs[i].msg_hdr, 0, sizeof(struct msghdr));
		w->rx_msgs[i].msg_hdr.msg_iov = &w->rx_iov[i];
		w->rx_msgs[i].msg_hdr.msg_iovlen = 1;
		w->rx_msgs[i].msg_hdr.msg_name = &w->rx_src[i];
		w->rx_msgs[i].msg_hdr.msg_namelen = sizeof(w->rx_src[i]);
		w->rx_msgs[i].msg_hdr.msg_control = w->rx_cmsg[i];
		w->rx_msgs[i].msg_hdr.msg_controllen = sizeof(w->rx_cmsg[i]);
	}
	count(&w->c.rx_syscalls, 1);
	n = recvmmsg(w->udp_fd, w->rx_msgs, RX_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return;
	now = util_now_ns();
	for (i = 0; i < n; i++) {
		buf = w->rx_iov[i].iov_base;
		len = w->rx_msgs[i].msg_len;
		if (w->rx_msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
			drop(w, IPC_DROP_BAD_PACKET);
			continue;
		}
		udp_addr_to_v6((struct sockaddr *)&w->rx_src[i], &src);
		seg = len;
		for (cmsg = CMSG_FIRSTHDR(&w->rx_msgs[i].msg_hdr);
		    cmsg != NULL;
		    cmsg = CMSG_NXTHDR(&w->rx_msgs[i].msg_hdr, cmsg)) {
			if (cmsg->cmsg_level == SOL_UDP &&
			    cmsg->cmsg_type == UDP_GRO) {
				memcpy(&gso, CMSG_DATA(cmsg), sizeof(gso));
				if (gso > 0)
					seg = (size_t)gso;
			}
		}
		/* A GRO datagram is a train of seg-sized datagrams. */
		for (off = 0; off < len; off += seg)
			worker_datagram(w, &st, buf + off,
			    len - off < seg ? len - off : seg, &src, now);
	}
	/* Before the buffers are read into again. */
	if (w->vnet)
		gro_flush(&w->gro_state);
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;
	struct qsbr	*q = w->tables->qsbr;
	struct pollfd	 pfd[3];
	sigset_t	 all;
	int		 rc;

	/* Signals are the main thread's business. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pfd[0].fd = w->tun_fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = w->udp_fd;
	pfd[1].events = POLLIN;
	pfd[2].fd = w->stop_fd;
	pfd[2].events = POLLIN;
	for (;;) {
		/* Asleep, it holds nothing: the main thread need not wait. */
		qsbr_offline(q, w->id);
		rc = poll(pfd, 3, -1);
		/* A new batch: nothing found in the tables before is held. */
		qsbr_online(q, w->id);
		if (rc == -1) {
			if (errno == EINTR)
				continue;
			log_warn("worker %d: poll", w->id);
			break;
		}
		if (pfd[2].revents)
			break;
		if (pfd[1].revents & POLLIN)
			worker_inbound(w);
		if (pfd[0].revents & POLLIN)
			worker_outbound(w);
	}
	qsbr_offline(q, w->id);
	return (NULL);
}

struct worker *
worker_new(struct peer_tables *tables, int id, const struct tun *tun,
    int udp_fd, const struct udp_caps *caps)
{
	struct worker	*w;

	/* OpenSSL starts here, on the main thread, before any worker. */
	if (wg_aead_init() != WG_OK)
		fatalx("OpenSSL's ChaCha20-Poly1305 is unavailable");
	w = xcalloc(1, sizeof(*w));
	w->tables = tables;
	w->id = id;
	w->tun_fd = tun->fds[id];
	w->tun_fds = tun->fds;
	w->nqueues = tun->nqueues;
	w->udp_fd = udp_fd;
	w->gso = caps->gso;
	w->gro = caps->gro;
	w->vnet = tun->vnet;
	w->mtu = tables->mtu;
	w->tx_stride = HEADROOM + w->mtu + TAILROOM;
	w->tx = xcalloc(TX_SLOTS, w->tx_stride);
	if (w->vnet) {
		w->tun_buf = xcalloc(1, TUN_BUF_SIZE);
		gro_init(&w->gro_state, tun_writev, w);
	}
	w->rx_stride = w->gro ? RX_GRO_SIZE : w->tx_stride + 64;
	w->rx = xcalloc(RX_BATCH, w->rx_stride);
	if ((w->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		fatal("eventfd");
	return (w);
}

int
worker_start(struct worker *w)
{
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
		return (-1);
	w->running = true;
	return (0);
}

void
worker_stop(struct worker *w)
{
	uint64_t	 one = 1;

	if (!w->running)
		return;
	if (write(w->stop_fd, &one, sizeof(one)) == -1)
		fatal("worker %d: eventfd", w->id);
	pthread_join(w->thread, NULL);
	w->running = false;
}

void
worker_free(struct worker *w)
{
	worker_stop(w);
	close(w->stop_fd);
	/* Buffers held plaintext. */
	explicit_bzero(w->tx, TX_SLOTS * w->tx_stride);
	explicit_bzero(w->rx, RX_BATCH * w->rx_stride);
	if (w->tun_buf != NULL)
		explicit_bzero(w->tun_buf, TUN_BUF_SIZE);
	free(w->tx);
	free(w->rx);
	free(w->tun_buf);
	free(w);
}

void
worker_stats(struct worker *w, struct ipc_worker_stats *s)
{
	int	 i;

	memset(s, 0, sizeof(*s));
	s->worker = (uint32_t)w->id;
	s->tx_packets = atomic_load(&w->c.tx_packets);
	s->tx_bytes = atomic_load(&w->c.tx_bytes);
	s->rx_packets = atomic_load(&w->c.rx_packets);
	s->rx_bytes = atomic_load(&w->c.rx_bytes);
	s->tx_syscalls = atomic_load(&w->c.tx_syscalls);
	s->rx_syscalls = atomic_load(&w->c.rx_syscalls);
	s->reorders = atomic_load(&w->c.reorders);
	for (i = 0; i < IPC_DROP_MAX; i++)
		s->drops[i] = atomic_load(&w->c.drops[i]);
}
