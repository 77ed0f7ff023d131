/*
 * WireGuard timers.  Each timer is a deadline, TIMER_NEVER when not
 * armed; the rules for arming and firing them are those of the paper,
 * section 6, with the handshake attempt period made configurable
 * (PROTOCOL.md 4.4).
 */

#include <string.h>

#include <sodium.h>

#include "tunneld/wg/timers.h"

/*
 * rekey_attempt_time 0 means the default 90 s; persistent_keepalive 0
 * means off; jitter NULL means random jitter.
 */
void
wg_timers_init(struct wg_timers *t, uint64_t rekey_attempt_time,
    uint64_t persistent_keepalive, wg_timers_jitter_fn *jitter, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->rekey_attempt_time = rekey_attempt_time != 0 ?
	    rekey_attempt_time : WG_REKEY_ATTEMPT_TIME;
	t->persistent_keepalive = persistent_keepalive;
	t->jitter = jitter;
	t->jitter_arg = arg;
	t->retransmit_at = TIMER_NEVER;
	t->keepalive_at = TIMER_NEVER;
	t->new_handshake_at = TIMER_NEVER;
	t->zero_keys_at = TIMER_NEVER;
	t->persistent_at = TIMER_NEVER;
}

/* Keeps both peers from retrying handshakes in lockstep. */
static uint64_t
wg_timers_jitter(const struct wg_timers *t)
{
	uint32_t	 ms;

	if (t->jitter != NULL)
		ms = t->jitter(t->jitter_arg);
	else
		ms = randombytes_uniform(WG_REKEY_JITTER_MAX_MS + 1);
	if (ms > WG_REKEY_JITTER_MAX_MS)
		ms = WG_REKEY_JITTER_MAX_MS;
	return (ms * NSEC_PER_MSEC);
}

/*
 * A fresh (not retransmitted) initiation is wanted.  That restarts the
 * attempt period even when rate limiting suppresses the send: a peer
 * with data to send keeps trying.
 */
static int
wg_timers_want_initiation(struct wg_timers *t, uint64_t now)
{
	t->attempt_start = now;
	t->attempting = true;
	if (t->initiated_any && wg_elapsed(now, t->last_initiation) <
	    WG_REKEY_TIMEOUT)
		return (0);
	return (WG_TIMERS_SEND_INITIATION);
}

static void
wg_timers_traversed(struct wg_timers *t, uint64_t now)
{
	if (t->persistent_keepalive != 0)
		t->persistent_at = now + t->persistent_keepalive;
}

static void
wg_timers_auth_sent(struct wg_timers *t, uint64_t now)
{
	/* Whatever we sent already tells the peer we are alive. */
	t->keepalive_at = TIMER_NEVER;
	wg_timers_traversed(t, now);
}

static void
wg_timers_auth_received(struct wg_timers *t, uint64_t now)
{
	/* The peer answered: no need to re-handshake for lack of replies. */
	t->new_handshake_at = TIMER_NEVER;
	wg_timers_traversed(t, now);
}

/*
 * Reports an event.  s describes the current sending keypair (NULL if
 * none) and matters only for DATA_SENT and DATA_RECEIVED, which check
 * whether it is time to rekey.  Returns actions to carry out.
 */
int
wg_timers_event(struct wg_timers *t, enum wg_timers_event ev, uint64_t now,
    const struct wg_timers_session *s)
{
	switch (ev) {
	case WG_TIMERS_WANT_HANDSHAKE:
		return (wg_timers_want_initiation(t, now));
	case WG_TIMERS_HANDSHAKE_INITIATED:
		if (!t->attempting) {
			t->attempt_start = now;
			t->attempting = true;
		}
		t->last_initiation = now;
		t->initiated_any = true;
		t->retransmit_at = now + WG_REKEY_TIMEOUT +
		    wg_timers_jitter(t);
		wg_timers_auth_sent(t, now);
		break;
	case WG_TIMERS_HANDSHAKE_COMPLETE:
		t->retransmit_at = TIMER_NEVER;
		t->attempting = false;
		t->sent_lastminute_handshake = false;
		break;
	case WG_TIMERS_SESSION_DERIVED:
		t->zero_keys_at = now + 3 * WG_REJECT_AFTER_TIME;
		break;
	case WG_TIMERS_AUTH_SENT:
		wg_timers_auth_sent(t, now);
		break;
	case WG_TIMERS_AUTH_RECEIVED:
		wg_timers_auth_received(t, now);
		break;
	case WG_TIMERS_KEEPALIVE_SENT:
		wg_timers_auth_sent(t, now);
		/* Data arrived while the last keepalive was pending. */
		if (t->need_another_keepalive) {
			t->need_another_keepalive = false;
			t->keepalive_at = now + WG_KEEPALIVE_TIMEOUT;
		}
		break;
	case WG_TIMERS_DATA_SENT:
		wg_timers_auth_sent(t, now);
		/* Expect an answer within this, else re-handshake. */
		if (t->new_handshake_at == TIMER_NEVER)
			t->new_handshake_at = now + WG_KEEPALIVE_TIMEOUT +
			    WG_REKEY_TIMEOUT + wg_timers_jitter(t);
		if (s != NULL && (s->send_counter > WG_REKEY_AFTER_MESSAGES ||
		    (s->initiator &&
		    wg_elapsed(now, s->birth) >= WG_REKEY_AFTER_TIME)))
			return (wg_timers_want_initiation(t, now));
		break;
	case WG_TIMERS_DATA_RECEIVED:
		wg_timers_auth_received(t, now);
		if (t->keepalive_at == TIMER_NEVER)
			t->keepalive_at = now + WG_KEEPALIVE_TIMEOUT;
		else
			t->need_another_keepalive = true;
		/*
		 * The initiator rekeys shortly before the session would be
		 * rejected, once, if it has not done so while sending.
		 */
		if (s != NULL && s->initiator &&
		    !t->sent_lastminute_handshake &&
		    wg_elapsed(now, s->birth) >= WG_REJECT_AFTER_TIME -
		    WG_KEEPALIVE_TIMEOUT - WG_REKEY_TIMEOUT) {
			t->sent_lastminute_handshake = true;
			return (wg_timers_want_initiation(t, now));
		}
		break;
	}
	return (0);
}

/* Fires every timer due at now; returns the actions they call for. */
int
wg_timers_expire(struct wg_timers *t, uint64_t now)
{
	int	 actions = 0;

	if (t->retransmit_at <= now) {
		t->retransmit_at = TIMER_NEVER;
		if (wg_elapsed(now, t->attempt_start) >=
		    t->rekey_attempt_time) {
			/* Queued data is stale by now; keys go later. */
			actions |= WG_TIMERS_GIVE_UP;
			t->attempting = false;
			t->keepalive_at = TIMER_NEVER;
			if (t->zero_keys_at == TIMER_NEVER)
				t->zero_keys_at = now +
				    3 * WG_REJECT_AFTER_TIME;
		} else
			actions |= WG_TIMERS_SEND_INITIATION;
	}
	if (t->keepalive_at <= now) {
		t->keepalive_at = TIMER_NEVER;
		actions |= WG_TIMERS_SEND_KEEPALIVE;
	}
	if (t->new_handshake_at <= now) {
		t->new_handshake_at = TIMER_NEVER;
		actions |= wg_timers_want_initiation(t, now);
	}
	if (t->zero_keys_at <= now) {
		t->zero_keys_at = TIMER_NEVER;
		actions |= WG_TIMERS_ZERO_KEYS;
	}
	if (t->persistent_at <= now) {
		t->persistent_at = TIMER_NEVER;
		actions |= WG_TIMERS_SEND_KEEPALIVE;
	}
	return (actions);
}

uint64_t
wg_timers_next_deadline(const struct wg_timers *t)
{
	uint64_t	 d = t->retransmit_at;

	if (t->keepalive_at < d)
		d = t->keepalive_at;
	if (t->new_handshake_at < d)
		d = t->new_handshake_at;
	if (t->zero_keys_at < d)
		d = t->zero_keys_at;
	if (t->persistent_at < d)
		d = t->persistent_at;
	return (d);
}
