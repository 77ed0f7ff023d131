/*
 * Per-peer WireGuard timers (paper section 6) as a state machine: the
 * caller reports events with the current time, runs wg_timers_expire() at
 * wg_timers_next_deadline(), and carries out the returned actions.
 */

#ifndef FZC_WG_TIMERS_H
#define FZC_WG_TIMERS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/timer.h"
#include "tunneld/wg/wg.h"

/* Actions, or-ed together. */
#define WG_TIMERS_SEND_INITIATION	0x01
#define WG_TIMERS_SEND_KEEPALIVE	0x02
#define WG_TIMERS_ZERO_KEYS		0x04
#define WG_TIMERS_GIVE_UP		0x08

/*
 * Report each packet once, with the most specific event: the _SENT
 * events all include AUTH_SENT, DATA_RECEIVED includes AUTH_RECEIVED.
 */
enum wg_timers_event {
	WG_TIMERS_WANT_HANDSHAKE,	/* data queued, no usable session */
	WG_TIMERS_HANDSHAKE_INITIATED,	/* a message 1 was sent */
	WG_TIMERS_HANDSHAKE_COMPLETE,	/* message 2 consumed, or first data
					   on a responder's session */
	WG_TIMERS_SESSION_DERIVED,	/* a new keypair exists */
	WG_TIMERS_AUTH_SENT,		/* other authenticated packet sent */
	WG_TIMERS_AUTH_RECEIVED,	/* authenticated, not data, received */
	WG_TIMERS_KEEPALIVE_SENT,
	WG_TIMERS_DATA_SENT,
	WG_TIMERS_DATA_RECEIVED
};

/* What the timers need to know about the current sending keypair. */
struct wg_timers_session {
	uint64_t	 birth;
	uint64_t	 send_counter;
	bool		 initiator;
};

/* Returns a jitter in milliseconds, 0..WG_REKEY_JITTER_MAX_MS. */
typedef uint32_t wg_timers_jitter_fn(void *);

struct wg_timers {
	uint64_t		 rekey_attempt_time;
	uint64_t		 persistent_keepalive;	/* 0: off */
	wg_timers_jitter_fn	*jitter;
	void			*jitter_arg;

	uint64_t		 retransmit_at;
	uint64_t		 keepalive_at;
	uint64_t		 new_handshake_at;
	uint64_t		 zero_keys_at;
	uint64_t		 persistent_at;

	uint64_t		 last_initiation;
	bool			 initiated_any;
	uint64_t		 attempt_start;
	bool			 attempting;
	bool			 need_another_keepalive;
	bool			 sent_lastminute_handshake;
};

void		wg_timers_init(struct wg_timers *, uint64_t, uint64_t,
		    wg_timers_jitter_fn *, void *);
int		wg_timers_event(struct wg_timers *, enum wg_timers_event,
		    uint64_t, const struct wg_timers_session *);
int		wg_timers_expire(struct wg_timers *, uint64_t);
uint64_t	wg_timers_next_deadline(const struct wg_timers *);

#endif /* FZC_WG_TIMERS_H */
