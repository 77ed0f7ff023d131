/*
 * Phoenix channel (serializer V1, JSON object form) for the portal
 * connection, sans-IO: the caller feeds the time and the text frames it
 * received, and drains the frames to send, the events and the next
 * deadline.  PROTOCOL.md 1.7.
 */

#ifndef FZC_PHOENIX_H
#define FZC_PHOENIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/timer.h"

#define PHOENIX_HEARTBEAT_NS	(10 * NSEC_PER_SEC)
#define PHOENIX_JOIN_TIMEOUT_NS	(5 * NSEC_PER_SEC)
#define PHOENIX_MAX_UNANSWERED	3
/* Queued only while not joined; when joined they never build up. */
#define PHOENIX_MAX_QUEUED	32

enum phoenix_state {
	PHOENIX_CLOSED = 0,	/* no socket, or the socket must go */
	PHOENIX_JOINING,	/* phx_join sent, no reply yet */
	PHOENIX_JOINED,
};

enum phoenix_event_type {
	PHOENIX_EV_NONE = 0,
	PHOENIX_EV_JOINED,		/* join reply ok: the session is up */
	PHOENIX_EV_MESSAGE,		/* push: name = event, payload */
	PHOENIX_EV_ERROR_REPLY,		/* name = reason, ref */
	PHOENIX_EV_CHANNEL_ERROR,	/* phx_error: log only */
	PHOENIX_EV_NEED_RECONNECT,	/* reason; state is now CLOSED */
	PHOENIX_EV_JOIN_REFUSED,	/* fatal; name = reason */
	PHOENIX_EV_TOKEN_EXPIRED,	/* fatal; the token must go */
};

struct phoenix_event {
	enum phoenix_event_type	 type;
	char			*name;
	json_t			*payload;
	uint64_t		 ref;
	const char		*reason;	/* static text */
};

struct phoenix_chan;

struct phoenix_chan	*phoenix_new(const char *);
void			 phoenix_free(struct phoenix_chan *);
int			 phoenix_open(struct phoenix_chan *, uint64_t);
void			 phoenix_close(struct phoenix_chan *);
int			 phoenix_recv(struct phoenix_chan *, uint64_t,
			    const char *, size_t, const char **);
int			 phoenix_tick(struct phoenix_chan *, uint64_t);
int			 phoenix_send(struct phoenix_chan *, const char *,
			    json_t *);
enum phoenix_state	 phoenix_state(const struct phoenix_chan *);
uint64_t		 phoenix_deadline(const struct phoenix_chan *);
char			*phoenix_next_frame(struct phoenix_chan *);
bool			 phoenix_next_event(struct phoenix_chan *,
			    struct phoenix_event *);
void			 phoenix_event_clear(struct phoenix_event *);
char			*phoenix_frame(const char *, const char *, json_t *,
			    uint64_t);

#endif
