/*
 * role.h: what the client and gateway roles of fzc-tunneld share: the
 * identity controld must not hold (the WireGuard private key, the device
 * id in the state directory, the root-only token), the tunnel device with
 * its addresses, and the messages both send to controld about
 * connections.
 */
#ifndef FZC_ROLE_H
#define FZC_ROLE_H

#include <stdbool.h>
#include <stdint.h>

#include "ipc/ipc.h"

struct event_base;
struct conns;
struct device;
struct netlink;

struct role_identity {
	uint8_t		*private_key;	/* sodium_malloc'd */
	uint8_t		 public_key[IPC_WG_KEY_LEN];
	char		 device_id[IPC_ID_MAX];
	char		 name[IPC_NAME_MAX];
	char		*env_token;	/* FIREZONE_TOKEN, wiped */
	const char	*state_dir;
	const char	*token_file;
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

/* State dir, token file, name (NULL: the host name). */
void	role_identity_init(struct role_identity *, const char *,
	    const char *, const char *);
void	role_identity_clear(struct role_identity *);
/* IPC_PORTAL_CONFIG with the identity, API URL, CA file (or NULL), role. */
void	role_portal_config(const struct role_identity *, const char *,
	    const char *, uint8_t, struct ipc_portal_config *);
/* After every hello: the portal configuration, then the token. */
int	role_send_config(struct role_identity *, struct ipc_chan *,
	    const struct ipc_portal_config *);
bool	role_token_owns(uint16_t);
/* IPC_TOKEN_DELETE and IPC_TOKEN_STORE, answered on the channel. */
void	role_token_dispatch(struct role_identity *, struct ipc_chan *,
	    const struct ipc_msg *);

/*
 * The tunnel device (interface name or template, workers, private key)
 * up with the tunnel addresses as /32 and /128 and MTU 1280. Returns 0 or
 * an errno value; role_tun_down() undoes what was done either way.
 */
int	role_tun_up(struct role_tun *, struct event_base *, const char *, int,
	    const uint8_t *, const struct ipc_tun_addresses *);
void	role_tun_down(struct role_tun *);

/* The conns callbacks' messages: a local candidate for a peer id; no relay. */
void	role_send_candidate(struct ipc_chan *, const char *, const char *,
	    bool);
void	role_send_no_relays(struct ipc_chan *, const char *);
/*
 * IPC_REMOTE_CANDIDATE(_DEL) to the connection of its peer (of the kind
 * named, for the log): an errno.
 */
int	role_remote_candidate(struct conns *, const struct ipc_candidate *,
	    bool, const char *);
/*
 * IPC_RELAY_ADD and IPC_RELAY_DEL: kept, and given to the connections
 * if they exist (NULL: not yet). An errno.
 */
int	role_relay(struct role_relays *, struct conns *,
	    const struct ipc_msg *);
/* The kept relays to the connections made now. */
void	role_relays_replay(const struct role_relays *, struct conns *);
void	role_relays_clear(struct role_relays *);

/* IPC_STATE_ACK for a state message, with the errno it is answered with. */
void	role_state_ack(struct ipc_chan *, const struct ipc_msg *, int);

#endif
