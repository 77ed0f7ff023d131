/*
 * role.h: the role fzc-tunneld plays: the client, the gateway (PROTOCOL 3)
 * or plain WireGuard mode (--wireguard FILE). The parent makes one with
 * its constructor and calls through its operations; client.c, gateway.c
 * and wgmode.c implement them over this base, their own state after it.
 *
 * The client and gateway roles, both driven by the portal through
 * controld, also share what is here: the identity controld must not hold
 * (the WireGuard private key, the device id in the state directory, the
 * root-only token), the tunnel addresses, the relays, the connections to
 * their peers and the messages both send to controld about them.
 */
#ifndef FZC_ROLE_H
#define FZC_ROLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/ipc.h"

struct event_base;
struct conn;
struct conns;
struct device;
struct netlink;
struct netwatch;
struct role;
struct role_peer;
struct sysdns;

/* The command line, for every role. */
struct role_options {
	const char	*ifname;	/* a name or a template (fzc%d) */
	int		 threads;
	/* WireGuard mode. */
	const char	*wg_file;
	int		 wg_fd;		/* wg_file, opened while root */
	unsigned	 mtu;		/* 0: the file's */
	/* Client and gateway roles. */
	const char	*api_url;
	const char	*ca_file;	/* NULL: system store */
	const char	*token_file;
	const char	*state_dir;
	const char	*name;		/* NULL: the host name */
	int		 log_level;	/* enum log_level */
	/* The client role's: the system's DNS (sysdns.h); NULL: none. */
	struct sysdns	*sysdns;
};

struct role_ops {
	const char	*name;		/* for the log: "client role" */
	const char	*stray;		/* why others' messages are refused */
	/* After every hello: what controld needs first. -1: not sent. */
	int		(*configure)(struct role *, struct ipc_chan *);
	/* The message types dispatch takes. */
	bool		(*owns)(uint16_t);
	/* One of them: 0, or -1 with *why when controld broke the protocol. */
	int		(*dispatch)(struct role *, struct ipc_chan *,
			    const struct ipc_msg *, const char **);
	/* Undoes and frees what the role holds beyond the base. */
	void		(*clear)(struct role *);

	/* The client and gateway roles', for role_portal_dispatch(). */
	const char	*kind;		/* "client", as in "client state" */
	const char	*peer_kind;	/* "gateway": whom it connects to */
	bool		 tokens;	/* controld may store and delete it */
	size_t		 max_peers;
	/*
	 * Keeps a state message: the errno to acknowledge it with, or
	 * ROLE_ACK_LATER when the role sends the acknowledgement itself
	 * (role_state_ack()) once what the message asked for is done.
	 */
	int		(*state)(struct role *, const struct ipc_msg *);
	/* What the log says of a state message after its type. */
	void		(*describe)(const struct ipc_msg *, char *, size_t);
	/* Forgets a peer whose connection was lost, or that said goodbye. */
	void		(*drop)(struct role *, struct role_peer *);
};

struct role_identity {
	uint8_t		*private_key;	/* sodium_malloc'd */
	uint8_t		 public_key[IPC_WG_KEY_LEN];
	char		 device_id[IPC_ID_MAX];
	char		 name[IPC_NAME_MAX];
	char		*env_token;	/* FIREZONE_TOKEN, wiped */
};

/* The relays from the portal, kept until the device is up, and after. */
struct role_relays {
	struct ipc_relay	*v;
	size_t			 n;
};

struct role_tun {
	struct device	*dev;
	struct netlink	*nl;
	int		 ifindex;
};

/*
 * A peer of the client or gateway role: a gateway the client uses, a
 * client the gateway serves. First in the role's own struct for it.
 */
struct role_peer {
	char		 id[IPC_ID_MAX];
	struct conn	*conn;		/* NULL: none yet */
};

/* The base: first in every role's own struct. */
struct role {
	const struct role_ops	*ops;
	struct event_base	*base;
	struct role_options	 opt;
	struct ipc_chan		*chan;		/* to the current controld */
	struct role_tun		 tun;
	bool			 ready;		/* false: waits on controld */

	/* Client and gateway roles; left empty in WireGuard mode. */
	struct role_identity	 id;
	struct ipc_settings	 settings;	/* the user's; no defaults */
	bool			 have_addresses;
	struct ipc_tun_addresses addresses;
	struct role_relays	 relays;
	struct conns		*conns;
	struct role_peer	**peers;
	size_t			 npeers;
	struct netwatch		*nw;		/* NULL: not watched */
};

/* client.c, gateway.c, wgmode.c: the roles. */
struct role	*client_new(struct event_base *, const struct role_options *);
struct role	*gateway_new(struct event_base *, const struct role_options *);
struct role	*wgmode_new(struct event_base *, const struct role_options *);

/* role.c: the parent's calls. */
const char	*role_name(const struct role *);
bool		 role_ready(const struct role *);
int		 role_configure(struct role *, struct ipc_chan *);
int		 role_dispatch(struct role *, struct ipc_chan *,
		    const struct ipc_msg *, const char **);
int		 role_send_stats(struct role *, struct ipc_chan *, uint32_t);
void		 role_free(struct role *);

/* For the roles: the base of a role that is ready from the start. */
void		 role_init(struct role *, const struct role_ops *,
		    struct event_base *, const struct role_options *);
/*
 * The tunnel device with the options' name and workers, this private key,
 * MTU and listen port (0: any), not started. NULL with *why.
 */
struct device	*role_device_new(struct role *, const uint8_t *, unsigned,
		    uint16_t, const char **);

/* The client and gateway roles' part. */
void		 role_identity_init(struct role *);
/* Network changes (netwatch.h) reset the data plane and the portal. */
void		 role_watch_network(struct role *);
/* Such a reset, for this IPC_NET_* reason; SIGHUP asks for one too. */
void		 role_network_reset(struct role *, int);
/* The messages role.c answers for both: the token's and the settings'. */
bool		 role_token_owns(uint16_t);
/* IPC_PORTAL_CONFIG with the identity and options, for this IPC_ROLE_*. */
void		 role_portal_config(const struct role *, uint8_t,
		    struct ipc_portal_config *);
/* After every hello: the portal configuration, then the token. */
int		 role_send_config(struct role *, struct ipc_chan *,
		    const struct ipc_portal_config *);
/*
 * Their dispatch: the token's messages, and state messages (relays and
 * remote candidates here, the rest by ops->state) kept, logged and
 * acknowledged.
 */
int		 role_portal_dispatch(struct role *, struct ipc_chan *,
		    const struct ipc_msg *, const char **);
#define ROLE_ACK_LATER	(-1)
/* IPC_STATE_ACK to the current controld for its message of type and id. */
void		 role_state_ack(struct role *, uint16_t, uint32_t, int);
/*
 * The tunnel device up with the tunnel addresses as /32 and /128 and MTU
 * 1280. Returns 0 or an errno value; role_tun_down() undoes what was done
 * either way.
 */
int		 role_tun_up(struct role *);
void		 role_tun_down(struct role *);
/*
 * The portal moved the device: the tunnel addresses become these, on the
 * device that is up. Returns 0 or an errno value.
 */
int		 role_tun_move(struct role *, const struct ipc_tun_addresses *);
/*
 * The device ranges (PROTOCOL 4.5, both roles) and these prefixes routed
 * into the device that is up, from FZC_TABLE_TUNNEL, and the rules to it.
 * Returns 0 or the first errno value; what failed is logged, the rest is
 * done anyway.
 */
int role_tun_routes(struct role *, const struct ipc_prefix *, size_t);
/*
 * The connections, controlling ICE or not, over the device; the kept
 * relays given to them.
 */
void		 role_conns_new(struct role *, bool);
/*
 * A new peer with this id, size bytes with its struct role_peer first,
 * zeroed but for the id; NULL when the role has ops->max_peers.
 */
void		*role_peer_new(struct role *, const char *, size_t);
struct role_peer *role_peer_find(struct role *, const char *);
/* Out of the peers, for the role to free: the last takes its place. */
void		 role_peer_remove(struct role *, struct role_peer *);

/* role_settings.c: the user's settings, kept in the state directory. */
void		 role_settings_load(struct role *);
void		 role_settings_get(const struct role *, struct ipc_settings *);
const char	*role_settings_api_url(const struct role *);
int		 role_settings_send(const struct role *, struct ipc_chan *);
int		 role_settings_set(struct role *, struct ipc_chan *,
		    const struct ipc_settings *);

#endif
