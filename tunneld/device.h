/*
 * device.h: the WireGuard device of fzc-tunneld: peers, keypairs, the
 * allowed-ips and index tables, and the worker threads that move packets.
 * The main thread owns the handshakes and timers; workers only encrypt,
 * decrypt and move data, and hand everything else to the main thread.
 */
#ifndef FZC_DEVICE_H
#define FZC_DEVICE_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ipc/ipc.h"
#include "tunneld/tun.h"
#include "tunneld/udp.h"
#include "tunneld/wg/cookie.h"
#include "tunneld/wg/noise.h"
#include "tunneld/wg/timers.h"
#include "tunneld/wg/transport.h"

struct event_base;
struct event;
struct device;
struct worker;

#define DEVICE_BATCH		UDP_GSO_MAX_SEGS
#define DEVICE_STAGED_MAX	128
#define DEVICE_HSQ_MAX		256
#define DEVICE_CTLQ_MAX		64
#define DEVICE_CTL_MAX		1500
/* A TURN ChannelData header (PROTOCOL 4.1), for relayed paths. */
#define DEVICE_CHANNEL_HDR	4
/* Room in front of a packet: the headers it may get. */
#define DEVICE_HEADROOM		(DEVICE_CHANNEL_HDR + WG_TRANSPORT_HDR_LEN)
#define DEVICE_MAX_RELAYS	16
/* Dead peers are freed this long after removal: workers may still hold them. */
#define DEVICE_PEER_GRACE_NS	(10 * 1000000000ULL)
/* And behind it: padding to 16 and the AEAD tag. */
#define DEVICE_TAILROOM		(16 + WG_TAG_LEN)

/* Events workers raise for the main thread, per peer. */
#define PEER_EV_DATA_SENT	0x01
#define PEER_EV_DATA_RECEIVED	0x02
#define PEER_EV_AUTH_SENT	0x04
#define PEER_EV_AUTH_RECEIVED	0x08
#define PEER_EV_WANT_HANDSHAKE	0x10
#define PEER_EV_CONFIRMED	0x20	/* responder's next keypair in use */
#define PEER_EV_GOODBYE		0x40	/* the peer closed the connection */

/* Packets held until a session exists, oldest first. */
struct stage {
	uint8_t			*buf;		/* DEVICE_STAGED_MAX slots */
	size_t			 len[DEVICE_STAGED_MAX];
	int			 n;
	uint64_t		 since;		/* first held at, monotonic */
};

struct keypair {
	struct wg_keypair	 kp;
	_Atomic int		 refs;
	pthread_mutex_t		 replay_lock;
	struct peer		*peer;
};

struct peer {
	uint32_t		 id;
	struct device		*dev;
	uint8_t			 public_key[WG_KEY_LEN];
	uint16_t		 persistent_keepalive;

	/* Main thread only. */
	struct wg_noise_peer	*noise;
	struct wg_timers	 timers;
	struct event		*ev_timer;
	uint32_t		 hs_index;	/* 0: no initiation pending */
	bool			 warned_response;

	/* Guarded by lock: shared with the workers. */
	pthread_mutex_t		 lock;
	struct keypair		*current;
	struct keypair		*previous;
	struct keypair		*next;
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

	uint64_t		 died;		/* removed at, main thread */
};

typedef void device_authz_fn(void *, const char *);
typedef void device_ctl_fn(void *, const uint8_t *, size_t,
    const struct sockaddr_in6 *);
typedef void device_goodbye_fn(void *, struct peer *);
typedef int device_stats_fn(void *, struct ipc_chan *, uint32_t);

struct device_config {
	const char	*ifname;
	int		 nworkers;
	unsigned	 mtu;
	uint16_t	 listen_port;
	uint8_t		 private_key[WG_KEY_LEN];
};

/* device.c */
struct device	*device_new(struct event_base *, const struct device_config *,
		    const char **);
struct peer	*device_add_peer(struct device *, uint32_t,
		    const uint8_t [WG_KEY_LEN], const uint8_t *,
		    const struct sockaddr_in6 *, uint16_t);
int		 device_add_allowed_ip(struct device *, struct peer *,
		    const struct ipc_prefix *);
int		 device_start(struct device *, const char **);
void		 device_free(struct device *);
int		 device_add_resource(struct device *,
		    const struct ipc_prefix *, const char *);
int		 device_del_resource(struct device *,
		    const struct ipc_prefix *, const char *);
void		 device_claim_held(struct device *, struct peer *,
		    const char *);
void		 device_drop_held(struct device *, const char *);
void		 device_set_authz_cb(struct device *, device_authz_fn *,
		    void *);
void		 device_set_ctl_cb(struct device *, device_ctl_fn *, void *);
void		 device_sendto(struct device *, const uint8_t *, size_t,
		    const struct sockaddr_in6 *);
void		 device_set_endpoint(struct peer *,
		    const struct sockaddr_in6 *);
void		 device_set_path(struct peer *, const struct sockaddr_in6 *,
		    uint16_t, bool);
void		 device_del_peer(struct device *, struct peer *);
int		 device_peer_send(struct peer *, const uint8_t *, size_t);
void		 device_handshake_input(struct device *, const uint8_t *,
		    size_t, const struct sockaddr_in6 *);
void		 device_set_goodbye_cb(struct device *, device_goodbye_fn *,
		    void *);
void		 device_set_stats_cb(struct device *, device_stats_fn *,
		    void *);
int		 device_relay_add(struct device *,
		    const struct sockaddr_in6 *);
void		 device_relay_del(struct device *,
		    const struct sockaddr_in6 *);
int		 device_send_stats(struct device *, struct ipc_chan *,
		    uint32_t);
const char	*device_ifname(const struct device *);
uint16_t	 device_port(const struct device *);

/* Shared with worker.c. */
struct peer	*device_lookup_dst(struct device *, const uint8_t *, size_t);
bool		 device_src_allowed(struct device *, struct peer *,
		    const uint8_t *, size_t);
bool		 device_unrouted(struct device *, const uint8_t *, size_t);
bool		 device_is_relay(struct device *, const struct sockaddr_in6 *);
struct keypair	*device_keypair_get(struct device *, uint32_t);
struct keypair	*device_peer_keypair(struct peer *);
void		 device_keypair_put(struct keypair *);
void		 device_raise(struct peer *, uint32_t);
void		 device_stage(struct peer *, const uint8_t *, size_t);
void		 device_confirm(struct peer *, struct keypair *);
int		 device_queue_handshake(struct device *, const uint8_t *,
		    size_t, const struct sockaddr_in6 *);
int		 device_queue_control(struct device *, const uint8_t *,
		    size_t, const struct sockaddr_in6 *);
unsigned	 device_mtu(const struct device *);

#endif
