/*
 * session.h: the portal session of fzc-controld, what both roles share
 * (session.c), and the operations by which the client's session
 * (session_client.c) and the gateway's (session_gateway.c) plug in.
 */
#ifndef FZC_SESSION_H
#define FZC_SESSION_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "controld/portal_msg.h"
#include "ipc/ipc.h"

struct event_base;
struct session;
struct tunneld_chan;

/* Called when tunneld answers a token store or delete: errno or 0. */
typedef void session_done_fn(void *, int);

/* What changed, for the one above that shows it (a watcher). */
#define SESSION_CHANGED_PORTAL		0x01	/* state, Internet switch */
#define SESSION_CHANGED_RESOURCES	0x02	/* list or authorizations */
#define SESSION_CHANGED_PEERS		0x04	/* a peer may come or go */
typedef void session_notify_fn(void *, int);
typedef void session_interface_fn(void *, const struct portal_interface *);

/*
 * One role: the channel's topic (PROTOCOL.md 1.1), its decoder, and what
 * it adds to the shared session. Its state comes from new() and is
 * reached with session_role_state().
 */
struct session_role {
	const char	*name;		/* the topic, and the role in status */
	bool		 gateway;	/* the token is the operator's */
	/* 0: a candidate goes out alone, at once; else runs are batched. */
	uint64_t	 batch_ns;
	/* 1: decoded, 0: not for us, -1: malformed, said in the log. */
	int		(*decode)(const char *, json_t *, struct portal_msg *);
	void		*(*new)(struct session *);
	void		(*free)(void *);
	void		(*config)(struct session *,
			    const struct ipc_portal_config *);
	/* After the shared part of init: interface and relays shipped. */
	void		(*init)(struct session *, struct portal_init *);
	void		(*joined)(struct session *);
	/* The messages of this role; false: not one of them. */
	bool		(*message)(struct session *, struct portal_msg *);
	bool		(*state_ack)(struct session *, uint32_t,
			    const struct ipc_state_ack *);
	/* n changes of one kind for one peer: the payload, its event. */
	json_t		*(*candidates)(const char *, const char *const *,
			    size_t, bool, const char **);
	void		(*status)(struct session *, json_t *);
	/* What the role knows of the peer with this id, added to o. */
	void		(*peer)(struct session *, const char *, json_t *);
	/* A peer's connection came, moved or went (IPC_PEER_PATH). */
	void		(*path)(struct session *, const struct ipc_peer_path *);
	/* A control packet from a peer in the tunnel (PROTOCOL 4.6). */
	void		(*p2p)(struct session *, const struct ipc_p2p *);
};

/* For controld.c and control.c. */
struct session	*session_new(struct event_base *, struct tunneld_chan *,
		    const struct session_role *);
void		 session_free(struct session *);
void		 session_set_notify(struct session *, session_notify_fn *,
		    void *);
void session_set_interface_cb(struct session *, session_interface_fn *, void *);
void		 session_config(struct session *,
		    const struct ipc_portal_config *,
		    const struct session_role *);
void		 session_token(struct session *, int);
void		 session_set_max_partition(struct session *, uint64_t);
void		 session_network_changed(struct session *);
void		 session_token_result(struct session *, uint32_t,
		    const struct ipc_token_result *);
int		 session_socket(struct session *, uint32_t, int);
void		 session_state_ack(struct session *, uint32_t,
		    const struct ipc_state_ack *);
json_t		*session_status(struct session *);
bool		 session_keeps_token(const struct session *);
int		 session_sign_in(struct session *, const char *,
		    session_done_fn *, void *);
int		 session_sign_out(struct session *, session_done_fn *, void *);
void		 session_forget_waiter(struct session *, void *);
void		 session_local_candidate(struct session *,
		    const struct ipc_candidate *, bool);
void		 session_no_relays(struct session *, const char *);
void		 session_peer_path(struct session *, const struct ipc_peer_path *);
void		 session_p2p(struct session *, const struct ipc_p2p *);
json_t		*session_peers(struct session *);
void		 session_settings(struct session *, const struct ipc_settings *);
json_t		*session_settings_json(struct session *);
/* For session_set_settings(): the level stays as it is. */
#define SESSION_LEVEL_KEEP	(-2)
int session_set_settings(struct session *, const char *, int, session_done_fn *,
    void *);

/* For the role files. */
const struct session_role *session_role(struct session *);
void		*session_role_state(struct session *);
struct event_base *session_base(struct session *);
bool		 session_connected(struct session *);
const struct ipc_peer_path *session_find_path(struct session *, const char *);
size_t		 session_nrelays(struct session *);
void		 session_notify(struct session *, int);
uint32_t	 session_ipc(struct session *, enum ipc_type, const void *,
		    size_t);
void		 session_push(struct session *, const char *, json_t *);
int		 session_send_waiting(struct session *, enum ipc_type,
		    const void *, size_t, session_done_fn *, void *);
bool		 session_waiting(struct session *, uint32_t);
void		 session_waiter_done(struct session *, int);
void		 session_prefix(const struct portal_addr *, unsigned,
		    struct ipc_prefix *);
void		 session_ice(char [IPC_CRED_MAX], char [IPC_CRED_MAX],
		    const struct portal_ice_creds *);

#endif
