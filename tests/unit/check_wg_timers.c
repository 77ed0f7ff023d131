/*
 * Timer state machine with a fake clock and a fixed jitter: each test
 * walks one rule up to just before and just at its deadline.
 */

#include <stdint.h>

#include <check.h>

#include "tunneld/wg/timers.h"
#include "tunneld/wg/wg.h"

Suite	*wg_timers_suite(void);

#define S(x)	((uint64_t)(x) * NSEC_PER_SEC)
#define MS(x)	((uint64_t)(x) * NSEC_PER_MSEC)
#define T0	S(100)

static uint32_t	 jitter_ms;

static uint32_t
fixed_jitter(void *arg)
{
	(void)arg;
	return (jitter_ms);
}

static struct wg_timers	 t;

static void
setup(void)
{
	jitter_ms = 0;
	wg_timers_init(&t, 0, 0, fixed_jitter, NULL);
}

START_TEST(test_idle)
{
	ck_assert_uint_eq(t.rekey_attempt_time, WG_REKEY_ATTEMPT_TIME);
	ck_assert_uint_eq(wg_timers_next_deadline(&t), TIMER_NEVER);
	ck_assert_int_eq(wg_timers_expire(&t, UINT64_MAX - 1), 0);
	/* Sends and receives without data arm nothing. */
	ck_assert_int_eq(wg_timers_event(&t, WG_TIMERS_AUTH_SENT, T0, NULL), 0);
	ck_assert_int_eq(wg_timers_event(&t, WG_TIMERS_AUTH_RECEIVED, T0,
	    NULL), 0);
	ck_assert_uint_eq(wg_timers_next_deadline(&t), TIMER_NEVER);
}
END_TEST

START_TEST(test_passive_keepalive)
{
	ck_assert_int_eq(wg_timers_event(&t, WG_TIMERS_DATA_RECEIVED, T0,
	    NULL), 0);
	ck_assert_uint_eq(wg_timers_next_deadline(&t),
	    T0 + WG_KEEPALIVE_TIMEOUT);
	ck_assert_int_eq(wg_timers_expire(&t, T0 + S(10) - 1), 0);
	ck_assert_int_eq(wg_timers_expire(&t, T0 + S(10)),
	    WG_TIMERS_SEND_KEEPALIVE);
	ck_assert_int_eq(wg_timers_event(&t, WG_TIMERS_KEEPALIVE_SENT,
	    T0 + S(10), NULL), 0);
	ck_assert_uint_eq(wg_timers_next_deadline(&t), TIMER_NEVER);
}
END_TEST

START_TEST(test_keepalive_cancelled_by_send)
{
	wg_timers_event(&t, WG_TIMERS_DATA_RECEIVED, T0, NULL);
	wg_timers_event(&t, WG_TIMERS_AUTH_SENT, T0 + S(1), NULL);
	ck_assert_uint_eq(wg_timers_next_deadline(&t), TIMER_NEVER);
	ck_assert_int_eq(wg_timers_expire(&t, T0 + S(10)), 0);
}
END_TEST

START_TEST(test_another_keepalive)
{
	wg_timers_event(&t, WG_TIMERS_DATA_RECEIVED, T0, NULL);
	/* Still armed from T0, not pushed back. */
	wg_timers_event(&t, WG_TIMERS_DATA_RECEIVED, T0 + S(3), NULL);
	ck_assert_uint_eq(wg_timers_next_deadline(&t), T0 + S(10));
	ck_assert_int_eq(wg_timers_expire(&t, T0 + S(10)),
	    WG_TIMERS_SEND_KEEPALIVE);
	wg_timers_event(&t, WG_TIMERS_KEEPALIVE_SENT, T0 + S(10), NULL);
	ck_assert_uint_eq(wg_timers_next_deadline(&t), T0 + S(20));
	ck_assert_int_eq(wg_timers_expire(&t, T0 + S(20)),
	    WG_TIMERS_SEND_KEEPALIVE);
	wg_timers_event(&t, WG_TIMERS_KEEPALIVE_SENT, T0 + S(20), NULL);
	ck_assert_uint_eq(wg_timers_next_deadline(&t), TIMER_NEVER);
}
END_TEST

START_TEST(test_new_handshake_after_silence)
{
	jitter_ms = 100;
	ck_assert_int_eq(wg_timers_event(&t, WG_TIMERS_DATA_SENT, T0, NULL),
	    0);
	ck_assert_uint_eq(wg_timers_next_deadline(&t),
	    T0 + WG_KEEPALIVE_TIMEOUT + WG_REKEY_TIMEOUT + MS(100));
	/* More data does not push the deadline back. */
	wg_timers_event(&t, WG_TIMERS_DATA_SENT, T0 + S(5), NULL);
	ck_assert_uint_eq(wg_timers_next_deadline(&t), T0 + S(15) + MS(100));
	ck_assert_int_eq(wg_timers_expire(&t, T0 + S(15) + MS(100) - 1), 0);
	ck_assert_int_eq(wg_timers_expire(&t, T0 + S(15) + MS(100)),
	    WG_TIMERS_SEND_INITIATION);
}
END_TEST

START_TEST(test_new_handshake_cancelled_by_reply)
{
	wg_timers_event(&t, WG_TIMERS_DATA_SENT, T0, NULL);
	wg_timers_event(&t, WG_TIMERS_AUTH_RECEIVED, T0 + S(14), NULL);
	ck_assert_uint_eq(wg_timers_next_deadline(&t), TIMER_NEVER);
	ck_assert_int_eq(wg_timers_expire(&t, T0 + S(20)), 0);
}
END_TEST

/* Runs handshake retries from T0 without answer; returns sends made. */
static int
retry_until_give_up(uint64_t *gave_up_at)
{
	uint64_t	 now = T0, next;
	int		 sends = 0, a;

	ck_assert_int_eq(wg_timers_event(&t, WG_TIMERS_WANT_HANDSHAKE, now,
	    NULL), WG_TIMERS_SEND_INITIATION);
	for (;;) {
		sends++;
		wg_timers_event(&t, WG_TIMERS_HANDSHAKE_INITIATED, now, NULL);
		next = wg_timers_next_deadline(&t);
		ck_assert_uint_eq(next, now + WG_REKEY_TIMEOUT +
		    MS(jitter_ms));
		ck_assert_int_eq(wg_timers_expire(&t, next - 1), 0);
		now = next;
		a = wg_timers_expire(&t, now);
		if (a != WG_TIMERS_SEND_INITIATION)
			break;
		ck_assert_int_lt(sends, 100);
	}
	ck_assert_int_eq(a, WG_TIMERS_GIVE_UP);
	*gave_up_at = now;
	return (sends);
}

START_TEST(test_retransmit_and_give_up)
{
	uint64_t	 end;

	ck_assert_int_eq(retry_until_give_up(&end), 18);
	ck_assert_uint_eq(end, T0 + WG_REKEY_ATTEMPT_TIME);
	/* Keys are wiped three reject periods after giving up. */
	ck_assert_uint_eq(wg_timers_next_deadline(&t),
	    end + 3 * WG_REJECT_AFTER_TIME);
	ck_assert_int_eq(wg_timers_expire(&t, end + S(540)),
	    WG_TIMERS_ZERO_KEYS);
}
END_TEST

START_TEST(test_retransmit_ice)
{
	uint64_t	 end;

	wg_timers_init(&t, WG_REKEY_ATTEMPT_TIME_ICE, 0, fixed_jitter, NULL);
	ck_assert_int_eq(retry_until_give_up(&end), 4);
	ck_assert_uint_eq(end, T0 + S(20));
}
END_TEST

START_TEST(test_retransmit_jitter)
{
	uint64_t	 end;

	jitter_ms = 333;
	/* 5.333 s per try: the 17th expiry, at 90.661 s, is past 90 s. */
	ck_assert_int_eq(retry_until_give_up(&end), 17);
	ck_assert_uint_eq(end, T0 + 17 * (S(5) + MS(333)));
	/* Out-of-range jitter from the callback is clamped. */
	jitter_ms = 5000;
	wg_timers_event(&t, WG_TIMERS_HANDSHAKE_INITIATED, T0, NULL);
	ck_assert_uint_eq(t.retransmit_at, T0 + S(5) + MS(333));
}
END_TEST

START_TEST(test_handshake_complete_stops_retries)
{
	wg_timers_event(&t, WG_TIMERS_WANT_HANDSHAKE, T0, NULL);
	wg_timers_event(&t, WG_TIMERS_HANDSHAKE_INITIATED, T0, NULL);
	wg_timers_event(&t, WG_TIMERS_AUTH_RECEIVED, T0 + S(1), NULL);
	wg_timers_event(&t, WG_TIMERS_HANDSHAKE_COMPLETE, T0 + S(1), NULL);
	wg_timers_event(&t, WG_TIMERS_SESSION_DERIVED, T0 + S(1), NULL);
	ck_assert_uint_eq(wg_timers_next_deadline(&t),
	    T0 + S(1) + 3 * WG_REJECT_AFTER_TIME);
	ck_assert_int_eq(wg_timers_expire(&t, T0 + S(100)), 0);
}
END_TEST

START_TEST(test_initiation_rate_limit)
{
	ck_assert_int_eq(wg_timers_event(&t, WG_TIMERS_WANT_HANDSHAKE, T0,
	    NULL), WG_TIMERS_SEND_INITIATION);
	wg_timers_event(&t, WG_TIMERS_HANDSHAKE_INITIATED, T0, NULL);
	ck_assert_int_eq(wg_timers_event(&t, WG_TIMERS_WANT_HANDSHAKE,
	    T0 + WG_REKEY_TIMEOUT - 1, NULL), 0);
	ck_assert_int_eq(wg_timers_event(&t, WG_TIMERS_WANT_HANDSHAKE,
	    T0 + WG_REKEY_TIMEOUT, NULL), WG_TIMERS_SEND_INITIATION);
}
END_TEST

START_TEST(test_queued_data_keeps_trying)
{
	uint64_t	 now = T0;
	int		 i;

	wg_timers_event(&t, WG_TIMERS_WANT_HANDSHAKE, now, NULL);
	for (i = 0; i < 30; i++) {
		wg_timers_event(&t, WG_TIMERS_HANDSHAKE_INITIATED, now, NULL);
		now += WG_REKEY_TIMEOUT;
		/* New data restarts the attempt period. */
		wg_timers_event(&t, WG_TIMERS_WANT_HANDSHAKE, now - 1, NULL);
		ck_assert_int_eq(wg_timers_expire(&t, now),
		    WG_TIMERS_SEND_INITIATION);
	}
}
END_TEST

START_TEST(test_rekey_after_time)
{
	struct wg_timers_session s = { T0, 10, true };

	ck_assert_int_eq(wg_timers_event(&t, WG_TIMERS_DATA_SENT,
	    T0 + WG_REKEY_AFTER_TIME - 1, &s), 0);
	ck_assert_int_eq(wg_timers_event(&t, WG_TIMERS_DATA_SENT,
	    T0 + WG_REKEY_AFTER_TIME, &s), WG_TIMERS_SEND_INITIATION);
	/* A clock reading older than the session is no age at all. */
	wg_timers_init(&t, 0, 0, fixed_jitter, NULL);
	s.birth = T0 + S(1);
	ck_assert_int_eq(wg_timers_event(&t, WG_TIMERS_DATA_SENT, T0, &s), 0);
	/* The responder leaves time-based rekeying to the initiator. */
	wg_timers_init(&t, 0, 0, fixed_jitter, NULL);
	s.initiator = false;
	ck_assert_int_eq(wg_timers_event(&t, WG_TIMERS_DATA_SENT,
	    T0 + S(170), &s), 0);
}
END_TEST

START_TEST(test_rekey_after_messages)
{
	struct wg_timers_session s = { T0, WG_REKEY_AFTER_MESSAGES, false };

	ck_assert_int_eq(wg_timers_event(&t, WG_TIMERS_DATA_SENT, T0, &s), 0);
	s.send_counter++;
	ck_assert_int_eq(wg_timers_event(&t, WG_TIMERS_DATA_SENT, T0, &s),
	    WG_TIMERS_SEND_INITIATION);
}
END_TEST

START_TEST(test_rekey_before_reject)
{
	struct wg_timers_session s = { T0, 10, true };
	uint64_t	 at = T0 + WG_REJECT_AFTER_TIME - WG_KEEPALIVE_TIMEOUT -
	    WG_REKEY_TIMEOUT;

	ck_assert_int_eq(wg_timers_event(&t, WG_TIMERS_DATA_RECEIVED, at - 1,
	    &s), 0);
	ck_assert_int_eq(wg_timers_event(&t, WG_TIMERS_DATA_RECEIVED, at, &s),
	    WG_TIMERS_SEND_INITIATION);
	wg_timers_event(&t, WG_TIMERS_HANDSHAKE_INITIATED, at, NULL);
	/* Only once per session. */
	ck_assert_int_eq(wg_timers_event(&t, WG_TIMERS_DATA_RECEIVED,
	    at + S(6), &s), 0);
	wg_timers_event(&t, WG_TIMERS_HANDSHAKE_COMPLETE, at + S(7), NULL);
	ck_assert_int_eq(wg_timers_event(&t, WG_TIMERS_DATA_RECEIVED,
	    at + S(8), &s), WG_TIMERS_SEND_INITIATION);
	s.initiator = false;
	wg_timers_init(&t, 0, 0, fixed_jitter, NULL);
	ck_assert_int_eq(wg_timers_event(&t, WG_TIMERS_DATA_RECEIVED, at, &s),
	    0);
}
END_TEST

START_TEST(test_zero_keys)
{
	wg_timers_event(&t, WG_TIMERS_SESSION_DERIVED, T0, NULL);
	ck_assert_int_eq(wg_timers_expire(&t,
	    T0 + 3 * WG_REJECT_AFTER_TIME - 1), 0);
	ck_assert_int_eq(wg_timers_expire(&t, T0 + 3 * WG_REJECT_AFTER_TIME),
	    WG_TIMERS_ZERO_KEYS);
	ck_assert_uint_eq(wg_timers_next_deadline(&t), TIMER_NEVER);
	/* A newer session pushes it back. */
	wg_timers_event(&t, WG_TIMERS_SESSION_DERIVED, T0, NULL);
	wg_timers_event(&t, WG_TIMERS_SESSION_DERIVED, T0 + S(100), NULL);
	ck_assert_int_eq(wg_timers_expire(&t, T0 + S(540)), 0);
}
END_TEST

START_TEST(test_persistent_keepalive)
{
	wg_timers_init(&t, 0, S(25), fixed_jitter, NULL);
	wg_timers_event(&t, WG_TIMERS_AUTH_SENT, T0, NULL);
	ck_assert_uint_eq(wg_timers_next_deadline(&t), T0 + S(25));
	wg_timers_event(&t, WG_TIMERS_AUTH_RECEIVED, T0 + S(10), NULL);
	ck_assert_uint_eq(wg_timers_next_deadline(&t), T0 + S(35));
	ck_assert_int_eq(wg_timers_expire(&t, T0 + S(35) - 1), 0);
	ck_assert_int_eq(wg_timers_expire(&t, T0 + S(35)),
	    WG_TIMERS_SEND_KEEPALIVE);
	wg_timers_event(&t, WG_TIMERS_KEEPALIVE_SENT, T0 + S(35), NULL);
	ck_assert_uint_eq(wg_timers_next_deadline(&t), T0 + S(60));
}
END_TEST

START_TEST(test_several_at_once)
{
	wg_timers_event(&t, WG_TIMERS_SESSION_DERIVED, T0, NULL);
	wg_timers_event(&t, WG_TIMERS_DATA_RECEIVED, T0, NULL);
	wg_timers_event(&t, WG_TIMERS_DATA_SENT, T0 + S(1), NULL);
	wg_timers_event(&t, WG_TIMERS_DATA_RECEIVED, T0 + S(2), NULL);
	/* The reply cancelled the handshake timer; the keepalive is due. */
	ck_assert_uint_eq(wg_timers_next_deadline(&t), T0 + S(12));
	ck_assert_int_eq(wg_timers_expire(&t, T0 + S(600)),
	    WG_TIMERS_SEND_KEEPALIVE | WG_TIMERS_ZERO_KEYS);
}
END_TEST

Suite *
wg_timers_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("wg_timers");
	tc = tcase_create("timers");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_idle);
	tcase_add_test(tc, test_passive_keepalive);
	tcase_add_test(tc, test_keepalive_cancelled_by_send);
	tcase_add_test(tc, test_another_keepalive);
	tcase_add_test(tc, test_new_handshake_after_silence);
	tcase_add_test(tc, test_new_handshake_cancelled_by_reply);
	tcase_add_test(tc, test_retransmit_and_give_up);
	tcase_add_test(tc, test_retransmit_ice);
	tcase_add_test(tc, test_retransmit_jitter);
	tcase_add_test(tc, test_handshake_complete_stops_retries);
	tcase_add_test(tc, test_initiation_rate_limit);
	tcase_add_test(tc, test_queued_data_keeps_trying);
	tcase_add_test(tc, test_rekey_after_time);
	tcase_add_test(tc, test_rekey_after_messages);
	tcase_add_test(tc, test_rekey_before_reject);
	tcase_add_test(tc, test_zero_keys);
	tcase_add_test(tc, test_persistent_keepalive);
	tcase_add_test(tc, test_several_at_once);
	suite_add_tcase(s, tc);
	return (s);
}
