/*
 * conn.h: connections to remote peers over ICE, for both roles. A client
 * connects to gateways (it controls the ICE agent and initiates the
 * WireGuard handshake), a gateway to clients (controlled, responder).
 *
 * The set (struct conns) owns what all connections share: the TURN
 * allocations on the portal's relays, the local candidates (host ones from
 * the interfaces, server-reflexive and relayed ones from the relays), and
 * the device's control callback, through which STUN, TURN and relayed
 * handshakes reach the agents. Each connection owns an ICE agent and a
 * WireGuard peer; the nominated ICE path, direct or through a relay, is
 * the path the peer's WireGuard traffic takes.
 *
 * Main thread only.
 */
#ifndef FZC_CONN_H
#define FZC_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "ipc/ipc.h"
#include "tunneld/nat/ice.h"

struct event_base;
struct device;
struct peer;
struct conns;
struct conn;

struct conn_params {
	const char	*id;		/* the gateway's or the client's id */
	const uint8_t	*public_key;	/* the peer's, 32 bytes */
	const uint8_t	*psk;		/* 32 bytes */
	const char	*local_ufrag;
	const char	*local_pwd;
	const char	*remote_ufrag;
	const char	*remote_pwd;
};

/*
 * The parameters of the peer that an IPC_GATEWAY_PEER or IPC_CLIENT_PEER
 * names: both messages carry the key, PSK and ICE credentials under the
 * same field names.
 */
#define CONN_PARAMS_OF(p, peer_id) \
	((const struct conn_params){ .id = (peer_id), \
	    .public_key = (p)->public_key, \
	    .psk = (p)->psk, \
	    .local_ufrag = (p)->local_ufrag, \
	    .local_pwd = (p)->local_pwd, \
	    .remote_ufrag = (p)->remote_ufrag, \
	    .remote_pwd = (p)->remote_pwd })

struct conns_callbacks {
	/* A local candidate to signal to the peer with this id, or retract. */
	void	(*candidate)(void *, const char *, const char *, bool);
	/*
	 * The connection's ICE state changed (connected, failed, ...);
	 * true if the callback freed the connection.
	 */
	bool	(*state)(void *, struct conn *, enum ice_state);
	/* A connection needs a relay and none is allocated. */
	void	(*no_relays)(void *, const char *);
	/* The peer said goodbye in the tunnel (PROTOCOL 4.6). */
	void	(*goodbye)(void *, struct conn *);
	/*
	 * The connection came, WireGuard moved onto another path, or
	 * (state IPC_PATH_LOST) the connection is being freed.
	 */
	void	(*path)(void *, const struct ipc_peer_path *);
	void	 *arg;
};

struct conns	*conns_new(struct event_base *, struct device *, bool,
		    const struct conns_callbacks *);
void		 conns_free(struct conns *);
int		 conns_relay_add(struct conns *, const struct ipc_relay *);
int		 conns_relay_del(struct conns *, const char *);
void		 conns_reset(struct conns *);

struct conn	*conn_new(struct conns *, const struct conn_params *,
		    const char **);
void		 conn_free(struct conn *);
void		 conn_resignal(struct conn *);
int		 conn_remote_candidate(struct conn *, const char *, bool,
		    const char **);
const char	*conn_id(const struct conn *);
struct peer	*conn_peer(const struct conn *);
enum ice_state	 conn_state(const struct conn *);
bool		 conn_path(const struct conn *, struct ice_path *);
void		 conn_path_report(const struct conn *, struct ipc_peer_path *);

#endif
