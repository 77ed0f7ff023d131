/*
 * peer.h: what the main thread shares with the workers: peers and their
 * keypairs, the index table, the allowed IPs, the resources that hold
 * packets until they are authorized, the relays, and the hand-off to the
 * main thread. The main thread (device.c) changes these tables, workers
 * (worker.c) read them without locks; this file uses neither.
 */
#ifndef FZC_PEER_H
#define FZC_PEER_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ipc/ipc.h"
#include "tunneld/handoff.h"
#include "tunneld/pace.h"
#include "tunneld/proxymap.h"
#include "tunneld/stage.h"
#include "tunneld/wg/noise.h"
#include "tunneld/wg/timers.h"
#include "tunneld/wg/transport.h"

struct device;
struct event;
struct qsbr;
struct routes;

#define PEER_INDEX_BUCKETS	1024
/* A TURN ChannelData header (PROTOCOL 4.1), for relayed paths. */
#define PEER_CHANNEL_HDR	4
/* What a paced relayed path sends at once: a quarter of coturn's buffer. */
#define PEER_PACE_BURST		32768

/* Events workers raise for the main thread, per peer. */
#define PEER_EV_DATA_SENT	0x01
#define PEER_EV_DATA_RECEIVED	0x02
#define PEER_EV_AUTH_SENT	0x04
#define PEER_EV_AUTH_RECEIVED	0x08
#define PEER_EV_WANT_HANDSHAKE	0x10
#define PEER_EV_CONFIRMED	0x20	/* responder's next keypair in use */
#define PEER_EV_GOODBYE		0x40	/* the peer closed the connection */

/*
 * Freed through the reclamation, once unreachable: workers use keypairs
 * and peers they found without taking references, within one batch.
 */
struct keypair {
	struct wg_keypair	 kp;
	pthread_mutex_t		 replay_lock;
	struct peer		*peer;
};

struct peer {
	uint32_t		 id;
	struct peer_tables	*tables;
	uint8_t			 public_key[WG_KEY_LEN];
	uint16_t		 persistent_keepalive;

	/* Main thread only. */
	struct device		*dev;
	struct wg_noise_peer	*noise;
	struct wg_timers	 timers;
	struct event		*ev_timer;
	uint32_t		 hs_index;	/* 0: no initiation pending */
	bool			 warned_response;

	/*
	 * Held while a run of the peer's packets is sealed and sent, by
	 * whichever thread sends for it: its counters then leave in the
	 * order they were given out, and the receiver sees no reordering.
	 * Taken once per GSO batch, never per packet; taken before lock.
	 */
	pthread_mutex_t		 tx_lock;
	struct pace		 pace;		/* relayed paths; tx_lock */

	/* Guarded by lock: shared with the workers. */
	pthread_mutex_t		 lock;
	struct keypair		*current;
	struct keypair		*previous;
	struct keypair		*next;
	struct keypair		*displaced;	/* main retires it */
	struct sockaddr_in6	 endpoint;	/* channel != 0: a relay */
	bool			 has_endpoint;
	uint16_t		 channel;	/* TURN channel, 0: direct */
	bool			 fixed_path;	/* set by ICE: no roaming */
	bool			 relayed;	/* via our relay or theirs */
	struct stage		 staged;

	_Atomic uint32_t	 events;
	_Atomic uint64_t	 rx_bytes;
	_Atomic uint64_t	 tx_bytes;
	_Atomic uint64_t	 last_handshake;	/* realtime s */
	_Atomic uint64_t	 handshake_failures;
};

struct peer_index;

/*
 * Changed by the main thread only, read by workers for every packet,
 * without locks: the routing table is replaced whole by an atomic pointer
 * swap, index entries are linked in and out by atomic pointer stores, and
 * what a worker may still hold is freed only through the reclamation.
 */
struct peer_tables {
	unsigned		 mtu;
	uint64_t		 relay_pace;	/* bytes/s to relays, 0: none */
	struct qsbr		*qsbr;
	struct routes *_Atomic	 routes;
	struct proxymap		 proxies;
	struct peer_index *_Atomic index[PEER_INDEX_BUCKETS];

	struct handoff		 handoff;
	_Atomic bool		 take_ctl;	/* an agent reads ctl */
	/*
	 * Timer events (data sent or received) wake the main thread at most
	 * once per hold-off: under load they would otherwise wake it for
	 * every batch, for timers counted in seconds.
	 */
	_Atomic int		 timers_pending;
	/*
	 * A packet waits for a resource's authorization: the main thread
	 * looks through the resources then, and once a second for what has
	 * waited too long, not on every wake (a DNS query is one).
	 */
	_Atomic bool		 unrouted;
	uint64_t		 unrouted_scan;	/* main thread only */
};

/* What became of a STUN or TURN message a worker hands over. */
enum peer_queued {
	PEER_QUEUED,
	PEER_QUEUE_FULL,
	PEER_NOT_OURS,		/* no agent takes it: plain WireGuard mode */
};

typedef void peer_report_fn(void *, const char *);
typedef void peer_kick_fn(void *);

/* peer.c: set up and changed by the main thread */
void		 peer_tables_init(struct peer_tables *, unsigned, int,
		    peer_kick_fn *, void *);
void		 peer_tables_clear(struct peer_tables *);
void		 peer_init(struct peer *, struct peer_tables *);
void		 peer_fini(struct peer *);
uint32_t	 peer_index_insert(struct peer_tables *, struct peer *,
		    struct keypair *);
void		 peer_index_remove(struct peer_tables *, uint32_t);
void		 peer_index_set_keypair(struct peer_tables *, uint32_t,
		    struct keypair *);
struct peer	*peer_index_pending(struct peer_tables *, uint32_t);
struct keypair	*peer_keypair_new(struct peer *, const struct wg_keypair *);
void		 peer_keypair_retire(struct peer_tables *, struct keypair *);
void		 peer_keypair_collect(struct peer *);
int		 peer_add_allowed_ip(struct peer_tables *, struct peer *,
		    const struct ipc_prefix *);
void		 peer_remove_allowed_ips(struct peer_tables *,
		    const struct peer *);
int		 peer_add_resource(struct peer_tables *,
		    const struct ipc_prefix *, const char *);
int		 peer_del_resource(struct peer_tables *,
		    const struct ipc_prefix *, const char *);
int		 peer_drop_held(struct peer_tables *, const char *);
int peer_proxy_route(struct peer_tables *, uint32_t, const char *, unsigned,
    bool);
int peer_proxy_gateway(struct peer_tables *, uint32_t, struct peer *);
int		 peer_proxy_drop(struct peer_tables *, uint32_t);
int peer_claim_held(struct peer_tables *, struct peer *, const char *,
    const struct ipc_prefix *);
uint64_t peer_report_unrouted(struct peer_tables *, uint64_t, peer_report_fn *,
    void *);
int		 peer_relay_add(struct peer_tables *,
		    const struct sockaddr_in6 *);
void		 peer_relay_del(struct peer_tables *,
		    const struct sockaddr_in6 *);
bool		 peer_path(struct peer *, struct sockaddr_in6 *, uint16_t *);

/* peer.c: used by the workers too */
struct peer	*peer_lookup_dst(struct peer_tables *, const uint8_t *, size_t);
bool		 peer_src_allowed(struct peer_tables *, struct peer *,
		    const uint8_t *, size_t);
bool		 peer_unrouted(struct peer_tables *, const uint8_t *, size_t);
bool		 peer_is_relay(struct peer_tables *,
		    const struct sockaddr_in6 *);
struct keypair	*peer_keypair_by_index(struct peer_tables *, uint32_t);
struct keypair	*peer_current_keypair(struct peer *);
void		 peer_raise(struct peer *, uint32_t);
void		 peer_stage(struct peer *, const uint8_t *, size_t);
void		 peer_confirm(struct peer *, struct keypair *);
int		 peer_queue_handshake(struct peer_tables *, const uint8_t *,
		    size_t, const struct sockaddr_in6 *);
enum peer_queued peer_queue_control(struct peer_tables *, const uint8_t *,
		    size_t, const struct sockaddr_in6 *);

#endif
