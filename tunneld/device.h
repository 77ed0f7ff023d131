/*
 * device.h: the WireGuard device of fzc-tunneld and its worker threads.
 * The main thread owns the handshakes and timers; workers only encrypt,
 * decrypt and move data, and hand everything else to the main thread
 * through the tables of peer.h.
 */
#ifndef FZC_DEVICE_H
#define FZC_DEVICE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "ipc/ipc.h"
#include "tunneld/handoff.h"
#include "tunneld/peer.h"
#include "tunneld/tun.h"
#include "tunneld/udp.h"
#include "tunneld/wg/cookie.h"
#include "tunneld/wg/noise.h"

struct event_base;
struct device;

/* The largest STUN or TURN message the main thread takes from workers. */
#define DEVICE_CTL_MAX		HANDOFF_MSG_MAX

typedef void device_authz_fn(void *, const char *);
typedef void device_ctl_fn(void *, const uint8_t *, size_t,
    const struct sockaddr_in6 *);
typedef void device_goodbye_fn(void *, struct peer *);
typedef void device_dns_fn(void *, const uint8_t *, size_t);
typedef void device_p2p_fn(void *, struct peer *, const uint8_t *, size_t);
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
void device_claim_held(struct device *, struct peer *, const char *,
    const struct ipc_prefix *);
void		 device_drop_held(struct device *, const char *);
int device_proxy_route(struct device *, uint32_t, const char *, unsigned, bool);
void device_proxy_gateway(struct device *, uint32_t, struct peer *);
void		 device_proxy_drop(struct device *, uint32_t, const char *);
void		 device_set_authz_cb(struct device *, device_authz_fn *,
		    void *);
void		 device_set_ctl_cb(struct device *, device_ctl_fn *, void *);
void		 device_set_dns_cb(struct device *, device_dns_fn *, void *);
void		 device_set_p2p_cb(struct device *, device_p2p_fn *, void *);
int		 device_tun_write(struct device *, const uint8_t *, size_t);
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

void		 device_raise(struct peer *, uint32_t);
unsigned	 device_mtu(const struct device *);

#endif
