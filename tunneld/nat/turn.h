/*
 * TURN client (RFC 8656) for one relay address, sans-IO: it reads no clock
 * and owns no socket.  The caller feeds it datagrams that came from the
 * relay and the current monotonic time, sends what turn_poll_transmit()
 * hands out to the relay, drains turn_poll_event(), and calls
 * turn_handle_timeout() at turn_next_deadline().
 */

#ifndef FZC_TURN_H
#define FZC_TURN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/timer.h"
#include "tunneld/nat/stun.h"

#define TURN_MAX_PEERS		64
#define TURN_MAX_TXN		16
#define TURN_MAX_REQ		1500	/* largest request we build */
#define TURN_CHANNEL_MIN	0x4000
#define TURN_CHANNEL_MAX	0x4FFF
#define TURN_CHANNEL_HDR	4

enum turn_state {
	TURN_IDLE,
	TURN_BINDING,		/* waiting for the first BINDING answer */
	TURN_ALLOCATING,
	TURN_ALLOCATED,
	TURN_DELETING,
	TURN_CLOSED,
	TURN_FAILED
};

enum turn_error {
	TURN_ERR_NONE,
	TURN_ERR_AUTH,		/* 401 although we sent credentials */
	TURN_ERR_TIMEOUT,	/* the relay stopped answering */
	TURN_ERR_REJECTED,	/* an error response we cannot recover from */
	TURN_ERR_EXPIRED,	/* the allocation ran out before a refresh,
				   or is not ours from where we are now */
	TURN_ERR_PROTOCOL,	/* a response lacking what it must carry */
	TURN_ERR_INTERNAL	/* out of buffers, crypto failure */
};

enum turn_event_type {
	TURN_EV_SRFLX,		/* addr: our server-reflexive address */
	TURN_EV_RELAYED,	/* addr: one relayed address (one per family) */
	TURN_EV_FAILED,		/* error, code: the client stopped */
	TURN_EV_CHANNEL_BOUND,	/* addr: peer now reachable by ChannelData */
	TURN_EV_CHANNEL_FAILED,	/* addr: peer's permission or channel refused */
	TURN_EV_PEER_EXPIRED,	/* addr: peer unused, its permission lapsed */
	TURN_EV_CLOSED		/* the allocation is deleted */
};

struct turn_event {
	enum turn_event_type	type;
	enum turn_error		error;
	int			code;	/* STUN error code, 0 if none */
	struct stun_addr	addr;
};

enum turn_input {
	TURN_IN_DROP,		/* not for us, stale or malformed */
	TURN_IN_CONSUMED,	/* a control message, fully handled */
	TURN_IN_DATA		/* relayed data from a peer */
};

enum turn_wrap {
	TURN_WRAP_OK,
	TURN_WRAP_PENDING,	/* channel being bound: hold or drop the data */
	TURN_WRAP_ERROR		/* no allocation, no peer slot, small buffer */
};

typedef void	(*turn_random_fn)(void *, uint8_t *, size_t);

struct turn_config {
	const char		*username;
	const char		*password;
	turn_random_fn		 random;	/* fills transaction ids */
	void			*random_arg;
};

struct turn_client;

struct turn_client *turn_new(const struct turn_config *);
void		 turn_free(struct turn_client *);
int		 turn_start(struct turn_client *, uint64_t);
void		 turn_close(struct turn_client *, uint64_t);
void		 turn_recheck(struct turn_client *, uint64_t);

enum turn_state	 turn_get_state(const struct turn_client *);
enum turn_error	 turn_get_error(const struct turn_client *);
const char	*turn_strerror(enum turn_error);
uint64_t	 turn_get_rtt(const struct turn_client *);
bool		 turn_get_srflx(const struct turn_client *, struct stun_addr *);
bool		 turn_get_relayed(const struct turn_client *, sa_family_t,
		    struct stun_addr *);

size_t		 turn_poll_transmit(struct turn_client *, uint8_t *, size_t);
bool		 turn_poll_event(struct turn_client *, struct turn_event *);
uint64_t	 turn_next_deadline(const struct turn_client *);
void		 turn_handle_timeout(struct turn_client *, uint64_t);
enum turn_input	 turn_handle_input(struct turn_client *, uint64_t,
		    const uint8_t *, size_t, struct stun_addr *,
		    const uint8_t **, size_t *);

int		 turn_bind_peer(struct turn_client *, uint64_t,
		    const struct stun_addr *);
uint16_t	 turn_peer_channel(struct turn_client *, uint64_t,
		    const struct stun_addr *);
enum turn_wrap	 turn_wrap(struct turn_client *, uint64_t,
		    const struct stun_addr *, const uint8_t *, size_t,
		    uint8_t *, size_t, size_t *);

#endif /* FZC_TURN_H */
