/*
 * Phoenix channel state machine, driven with a fake clock.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "controld/phoenix.h"
#include "tests/unit/check_main.h"

#define S(x)	((uint64_t)(x) * NSEC_PER_SEC)
#define MS(x)	((uint64_t)(x) * NSEC_PER_MSEC)

static struct phoenix_chan *ch;

static void
setup(void)
{
	ch = phoenix_new("client");
	ck_assert_ptr_nonnull(ch);
}

static void
teardown(void)
{
	phoenix_free(ch);
}

/* Pops the next frame and checks it byte for byte. */
static void
expect_frame(const char *want)
{
	char	*f;

	f = phoenix_next_frame(ch);
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f, want);
	free(f);
}

static void
drop_frame(void)
{
	char	*f;

	f = phoenix_next_frame(ch);
	ck_assert_ptr_nonnull(f);
	free(f);
}

static void
expect_no_frame(void)
{
	char	*f;

	f = phoenix_next_frame(ch);
	ck_assert_msg(f == NULL, "unexpected frame %s", f);
}

static void
expect_event(enum phoenix_event_type type, struct phoenix_event *out)
{
	struct phoenix_event	 ev;

	ck_assert(phoenix_next_event(ch, &ev));
	ck_assert_int_eq(ev.type, type);
	if (out != NULL)
		*out = ev;
	else
		phoenix_event_clear(&ev);
}

static void
expect_no_event(void)
{
	struct phoenix_event	 ev;

	ck_assert(!phoenix_next_event(ch, &ev));
	ck_assert_int_eq(ev.type, PHOENIX_EV_NONE);
}

static int
feed(uint64_t now, const char *frame)
{
	const char	*why;

	return (phoenix_recv(ch, now, frame, strlen(frame), &why));
}

static void
join_ok(uint64_t now, int ref)
{
	char	 buf[160];

	snprintf(buf, sizeof(buf), "{\"topic\":\"client\",\"event\":"
	    "\"phx_reply\",\"ref\":%d,\"payload\":{\"status\":\"ok\","
	    "\"response\":{}}}", ref);
	ck_assert_int_eq(feed(now, buf), 0);
}

static void
hb_reply(uint64_t now, int ref)
{
	char	 buf[160];

	snprintf(buf, sizeof(buf), "{\"topic\":\"phoenix\",\"event\":"
	    "\"phx_reply\",\"ref\":%d,\"payload\":{\"status\":\"ok\","
	    "\"response\":{}}}", ref);
	ck_assert_int_eq(feed(now, buf), 0);
}

/* Opens at t=0 and completes the join; leaves no frame and no event. */
static void
joined(void)
{
	ck_assert_int_eq(phoenix_open(ch, 0), 0);
	expect_frame("{\"topic\":\"client\",\"event\":\"phx_join\","
	    "\"payload\":null,\"ref\":0}");
	join_ok(MS(100), 0);
	expect_event(PHOENIX_EV_JOINED, NULL);
	ck_assert_int_eq(phoenix_state(ch), PHOENIX_JOINED);
}

START_TEST(test_closed_is_idle)
{
	ck_assert_int_eq(phoenix_state(ch), PHOENIX_CLOSED);
	ck_assert_uint_eq(phoenix_deadline(ch), TIMER_NEVER);
	ck_assert_int_eq(phoenix_tick(ch, S(1000)), 0);
	expect_no_frame();
	expect_no_event();
}
END_TEST

START_TEST(test_join_frame_and_deadline)
{
	ck_assert_int_eq(phoenix_open(ch, S(100)), 0);
	ck_assert_int_eq(phoenix_state(ch), PHOENIX_JOINING);
	expect_frame("{\"topic\":\"client\",\"event\":\"phx_join\","
	    "\"payload\":null,\"ref\":0}");
	expect_no_frame();
	/* The join deadline (5 s) comes before the first heartbeat. */
	ck_assert_uint_eq(phoenix_deadline(ch), S(105));
	join_ok(S(101), 0);
	expect_event(PHOENIX_EV_JOINED, NULL);
	expect_no_event();
	ck_assert_uint_eq(phoenix_deadline(ch), S(110));
}
END_TEST

START_TEST(test_join_timeout)
{
	struct phoenix_event	 ev;

	ck_assert_int_eq(phoenix_open(ch, 0), 0);
	ck_assert_int_eq(phoenix_tick(ch, S(5) - 1), 0);
	expect_no_event();
	ck_assert_int_eq(phoenix_state(ch), PHOENIX_JOINING);
	ck_assert_int_eq(phoenix_tick(ch, S(5)), 0);
	expect_event(PHOENIX_EV_NEED_RECONNECT, &ev);
	ck_assert_ptr_nonnull(ev.reason);
	ck_assert_ptr_nonnull(strstr(ev.reason, "join"));
	phoenix_event_clear(&ev);
	ck_assert_int_eq(phoenix_state(ch), PHOENIX_CLOSED);
	ck_assert_uint_eq(phoenix_deadline(ch), TIMER_NEVER);
	/* Frames not yet written are useless once the socket must go. */
	expect_no_frame();
}
END_TEST

START_TEST(test_join_reply_not_empty_is_not_a_join)
{
	ck_assert_int_eq(phoenix_open(ch, 0), 0);
	drop_frame();
	ck_assert_int_eq(feed(S(1), "{\"topic\":\"client\",\"event\":"
	    "\"phx_reply\",\"ref\":0,\"payload\":{\"status\":\"ok\","
	    "\"response\":{\"x\":1}}}"), 0);
	expect_no_event();
	ck_assert_int_eq(phoenix_state(ch), PHOENIX_JOINING);
	/* A reply to another ref does not complete the join either. */
	join_ok(S(2), 5);
	expect_no_event();
	ck_assert_int_eq(phoenix_state(ch), PHOENIX_JOINING);
	ck_assert_int_eq(phoenix_tick(ch, S(5)), 0);
	expect_event(PHOENIX_EV_NEED_RECONNECT, NULL);
}
END_TEST

START_TEST(test_join_refused)
{
	struct phoenix_event	 ev;

	ck_assert_int_eq(phoenix_open(ch, 0), 0);
	ck_assert_int_eq(feed(S(1), "{\"topic\":\"client\",\"event\":"
	    "\"phx_reply\",\"ref\":0,\"payload\":{\"status\":\"error\","
	    "\"response\":{\"reason\":\"unauthorized\"}}}"), 0);
	expect_event(PHOENIX_EV_JOIN_REFUSED, &ev);
	ck_assert_str_eq(ev.name, "unauthorized");
	phoenix_event_clear(&ev);
	ck_assert_int_eq(phoenix_state(ch), PHOENIX_CLOSED);
}
END_TEST

START_TEST(test_queue_until_joined)
{
	/* Queued before the socket even exists, and while joining. */
	ck_assert_int_eq(phoenix_send(ch, "no_relays", json_object()), 0);
	ck_assert_int_eq(phoenix_open(ch, 0), 0);
	ck_assert_int_eq(phoenix_send(ch, "set_snownet_capabilities",
	    json_pack("{s:b}", "iceless", 0)), 0);
	/* Exact duplicate of a queued message: dropped. */
	ck_assert_int_eq(phoenix_send(ch, "no_relays", json_object()), 0);
	expect_frame("{\"topic\":\"client\",\"event\":\"phx_join\","
	    "\"payload\":null,\"ref\":0}");
	expect_no_frame();
	join_ok(MS(10), 0);
	expect_event(PHOENIX_EV_JOINED, NULL);
	expect_frame("{\"topic\":\"client\",\"event\":\"no_relays\","
	    "\"payload\":{},\"ref\":1}");
	expect_frame("{\"topic\":\"client\",\"event\":"
	    "\"set_snownet_capabilities\",\"payload\":{\"iceless\":false},"
	    "\"ref\":2}");
	expect_no_frame();
	/* Once joined, a message goes out at once, duplicates included. */
	ck_assert_int_eq(phoenix_send(ch, "no_relays", json_object()), 0);
	ck_assert_int_eq(phoenix_send(ch, "no_relays", json_object()), 0);
	expect_frame("{\"topic\":\"client\",\"event\":\"no_relays\","
	    "\"payload\":{},\"ref\":3}");
	expect_frame("{\"topic\":\"client\",\"event\":\"no_relays\","
	    "\"payload\":{},\"ref\":4}");
}
END_TEST

START_TEST(test_queue_bounded)
{
	int	 i;

	for (i = 0; i < PHOENIX_MAX_QUEUED; i++)
		ck_assert_int_eq(phoenix_send(ch, "x",
		    json_pack("{s:i}", "n", i)), 0);
	ck_assert_int_eq(phoenix_send(ch, "x", json_pack("{s:i}", "n", i)),
	    -1);
}
END_TEST

START_TEST(test_heartbeats_answered)
{
	char	 want[96];
	int	 i, ref;

	joined();
	ck_assert_uint_eq(phoenix_deadline(ch), S(10));
	ck_assert_int_eq(phoenix_tick(ch, S(10) - 1), 0);
	expect_no_frame();
	for (i = 1, ref = 1; i <= 10; i++, ref++) {
		ck_assert_int_eq(phoenix_tick(ch, S(10 * i)), 0);
		snprintf(want, sizeof(want), "{\"topic\":\"phoenix\","
		    "\"event\":\"heartbeat\",\"payload\":{},\"ref\":%d}",
		    ref);
		expect_frame(want);
		expect_no_frame();
		ck_assert_uint_eq(phoenix_deadline(ch), S(10 * (i + 1)));
		hb_reply(S(10 * i) + MS(50), ref);
	}
	expect_no_event();
	ck_assert_int_eq(phoenix_state(ch), PHOENIX_JOINED);
}
END_TEST

START_TEST(test_heartbeats_missed)
{
	struct phoenix_event	 ev;
	int			 i;

	joined();
	/* A reply to a ref that was never a heartbeat does not count. */
	for (i = 1; i <= 3; i++) {
		ck_assert_int_eq(phoenix_tick(ch, S(10 * i)), 0);
		drop_frame();
		hb_reply(S(10 * i) + 1, 77);
	}
	expect_no_event();
	ck_assert_int_eq(phoenix_state(ch), PHOENIX_JOINED);
	/* The fourth would exceed 3 unanswered: reconnect instead. */
	ck_assert_int_eq(phoenix_tick(ch, S(40)), 0);
	expect_event(PHOENIX_EV_NEED_RECONNECT, &ev);
	ck_assert_ptr_nonnull(strstr(ev.reason, "heartbeat"));
	phoenix_event_clear(&ev);
	expect_no_frame();
	ck_assert_int_eq(phoenix_state(ch), PHOENIX_CLOSED);
}
END_TEST

START_TEST(test_heartbeat_late_reply_counts)
{
	char	*f;

	joined();
	ck_assert_int_eq(phoenix_tick(ch, S(10)), 0);
	drop_frame();
	ck_assert_int_eq(phoenix_tick(ch, S(20)), 0);
	drop_frame();
	ck_assert_int_eq(phoenix_tick(ch, S(30)), 0);
	drop_frame();
	/* Only the first is answered: 2 in flight, the 4th may go. */
	hb_reply(S(35), 1);
	ck_assert_int_eq(phoenix_tick(ch, S(40)), 0);
	f = phoenix_next_frame(ch);
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f, "{\"topic\":\"phoenix\",\"event\":\"heartbeat\","
	    "\"payload\":{},\"ref\":4}");
	free(f);
	expect_no_event();
	/* Now 3 in flight (refs 2, 3, 4): the next tick gives up. */
	ck_assert_int_eq(phoenix_tick(ch, S(50)), 0);
	expect_event(PHOENIX_EV_NEED_RECONNECT, NULL);
}
END_TEST

START_TEST(test_heartbeat_no_burst_after_suspend)
{
	joined();
	ck_assert_int_eq(phoenix_tick(ch, S(95)), 0);
	drop_frame();
	expect_no_frame();
	ck_assert_uint_eq(phoenix_deadline(ch), S(105));
}
END_TEST

START_TEST(test_heartbeats_while_joining)
{
	ck_assert_int_eq(phoenix_open(ch, 0), 0);
	drop_frame();
	/* A join that never completes is caught by the 5 s timeout. */
	ck_assert_int_eq(phoenix_tick(ch, S(4)), 0);
	expect_no_frame();
	expect_no_event();
}
END_TEST

START_TEST(test_unmatched_topic_rejoins)
{
	joined();
	ck_assert_int_eq(phoenix_send(ch, "no_relays", json_object()), 0);
	expect_frame("{\"topic\":\"client\",\"event\":\"no_relays\","
	    "\"payload\":{},\"ref\":1}");
	ck_assert_int_eq(feed(S(2), "{\"topic\":\"client\",\"event\":"
	    "\"phx_reply\",\"ref\":1,\"payload\":{\"status\":\"error\","
	    "\"response\":{\"reason\":\"unmatched topic\"}}}"), 0);
	expect_frame("{\"topic\":\"client\",\"event\":\"phx_join\","
	    "\"payload\":null,\"ref\":2}");
	ck_assert_int_eq(phoenix_state(ch), PHOENIX_JOINING);
	ck_assert_uint_eq(phoenix_deadline(ch), S(7));
	expect_no_event();
	/* A second unmatched reply while re-joining does not re-join again. */
	ck_assert_int_eq(feed(S(2), "{\"topic\":\"client\",\"event\":"
	    "\"phx_reply\",\"ref\":1,\"payload\":{\"status\":\"error\","
	    "\"response\":{\"reason\":\"unmatched topic\"}}}"), 0);
	expect_no_frame();
	ck_assert_int_eq(phoenix_send(ch, "no_relays", json_object()), 0);
	expect_no_frame();
	join_ok(S(3), 2);
	expect_event(PHOENIX_EV_JOINED, NULL);
	expect_frame("{\"topic\":\"client\",\"event\":\"no_relays\","
	    "\"payload\":{},\"ref\":3}");
}
END_TEST

START_TEST(test_error_reply)
{
	struct phoenix_event	 ev;

	joined();
	ck_assert_int_eq(feed(S(1), "{\"topic\":\"client\",\"event\":"
	    "\"phx_reply\",\"ref\":4,\"payload\":{\"status\":\"error\","
	    "\"response\":{\"reason\":\"unknown_message\"}}}"), 0);
	expect_event(PHOENIX_EV_ERROR_REPLY, &ev);
	ck_assert_str_eq(ev.name, "unknown_message");
	ck_assert_uint_eq(ev.ref, 4);
	phoenix_event_clear(&ev);
	ck_assert_int_eq(phoenix_state(ch), PHOENIX_JOINED);
	/* Ok replies to channel messages carry nothing for the caller. */
	ck_assert_int_eq(feed(S(1), "{\"topic\":\"client\",\"event\":"
	    "\"phx_reply\",\"ref\":4,\"payload\":{\"status\":\"ok\","
	    "\"response\":{}}}"), 0);
	expect_no_event();
}
END_TEST

START_TEST(test_phx_close_and_error)
{
	struct phoenix_event	 ev;

	joined();
	ck_assert_int_eq(feed(S(1), "{\"topic\":\"client\",\"event\":"
	    "\"phx_error\",\"ref\":null,\"payload\":{}}"), 0);
	expect_event(PHOENIX_EV_CHANNEL_ERROR, NULL);
	ck_assert_int_eq(phoenix_state(ch), PHOENIX_JOINED);
	ck_assert_int_eq(feed(S(1), "{\"topic\":\"client\",\"event\":"
	    "\"phx_close\",\"ref\":null,\"payload\":{}}"), 0);
	expect_event(PHOENIX_EV_NEED_RECONNECT, &ev);
	ck_assert_ptr_nonnull(strstr(ev.reason, "phx_close"));
	phoenix_event_clear(&ev);
	ck_assert_int_eq(phoenix_state(ch), PHOENIX_CLOSED);
	/* Once closed, later frames are ignored. */
	ck_assert_int_eq(feed(S(1), "{\"topic\":\"client\",\"event\":"
	    "\"init\",\"ref\":null,\"payload\":{}}"), 0);
	expect_no_event();
}
END_TEST

START_TEST(test_disconnect)
{
	struct phoenix_event	 ev;

	joined();
	ck_assert_int_eq(feed(S(1), "{\"topic\":\"client\",\"event\":"
	    "\"disconnect\",\"ref\":null,\"payload\":{\"reason\":"
	    "\"certificate_revoked\"}}"), 0);
	expect_event(PHOENIX_EV_MESSAGE, &ev);
	ck_assert_str_eq(ev.name, "disconnect");
	phoenix_event_clear(&ev);
	ck_assert_int_eq(phoenix_state(ch), PHOENIX_JOINED);
	ck_assert_int_eq(feed(S(1), "{\"topic\":\"client\",\"event\":"
	    "\"disconnect\",\"ref\":null,\"payload\":{\"reason\":"
	    "\"token_expired\"}}"), 0);
	expect_event(PHOENIX_EV_TOKEN_EXPIRED, NULL);
	ck_assert_int_eq(phoenix_state(ch), PHOENIX_CLOSED);
	ck_assert_uint_eq(phoenix_deadline(ch), TIMER_NEVER);
}
END_TEST

START_TEST(test_push_delivered)
{
	struct phoenix_event	 ev;

	joined();
	ck_assert_int_eq(feed(S(1), "{\"topic\":\"client\",\"event\":"
	    "\"resource_deleted\",\"ref\":null,\"payload\":"
	    "\"a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7a\",\"join_ref\":null}"), 0);
	expect_event(PHOENIX_EV_MESSAGE, &ev);
	ck_assert_str_eq(ev.name, "resource_deleted");
	ck_assert(json_is_string(ev.payload));
	ck_assert_str_eq(json_string_value(ev.payload),
	    "a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7a");
	phoenix_event_clear(&ev);
	/* Other topics are not ours. */
	ck_assert_int_eq(feed(S(1), "{\"topic\":\"gateway\",\"event\":"
	    "\"init\",\"ref\":null,\"payload\":{}}"), 0);
	expect_no_event();
}
END_TEST

START_TEST(test_malformed_frames)
{
	static const char *bad[] = {
		"",
		"not json",
		"[1,2]",
		"{\"topic\":\"client\",\"event\":\"init\",\"payload\":{}}",
		"{\"topic\":\"client\",\"event\":\"init\",\"ref\":null}",
		"{\"topic\":1,\"event\":\"init\",\"payload\":{},\"ref\":null}",
		"{\"topic\":\"client\",\"event\":null,\"payload\":{},"
		    "\"ref\":null}",
		"{\"topic\":\"client\",\"event\":\"init\",\"payload\":{},"
		    "\"ref\":{}}",
		"{\"topic\":\"client\",\"topic\":\"client\",\"event\":\"x\","
		    "\"payload\":{},\"ref\":null}",
		"{\"topic\":\"client\",\"event\":\"phx_reply\",\"payload\":"
		    "{\"response\":{}},\"ref\":0}",
		"{\"topic\":\"client\",\"event\":\"x\",\"payload\":\"\xff\","
		    "\"ref\":null}",
	};
	const char	*why;
	size_t		 i;

	ck_assert_int_eq(phoenix_open(ch, 0), 0);
	drop_frame();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		ck_assert_msg(phoenix_recv(ch, 1, bad[i], strlen(bad[i]),
		    &why) == 1, "accepted %s", bad[i]);
		ck_assert_ptr_nonnull(why);
	}
	expect_no_event();
	expect_no_frame();
	ck_assert_int_eq(phoenix_state(ch), PHOENIX_JOINING);
}
END_TEST

START_TEST(test_reopen_restarts_refs)
{
	struct phoenix_event	 ev;

	joined();
	ck_assert_int_eq(phoenix_tick(ch, S(10)), 0);
	ck_assert_int_eq(feed(S(11), "{\"topic\":\"client\",\"event\":"
	    "\"phx_close\",\"ref\":null,\"payload\":{}}"), 0);
	expect_event(PHOENIX_EV_NEED_RECONNECT, &ev);
	phoenix_event_clear(&ev);
	/* The unsent heartbeat of the old connection is gone. */
	expect_no_frame();
	ck_assert_int_eq(phoenix_send(ch, "no_relays", json_object()), 0);
	expect_no_frame();
	ck_assert_int_eq(phoenix_open(ch, S(20)), 0);
	expect_frame("{\"topic\":\"client\",\"event\":\"phx_join\","
	    "\"payload\":null,\"ref\":0}");
	ck_assert_uint_eq(phoenix_deadline(ch), S(25));
	join_ok(S(21), 0);
	expect_event(PHOENIX_EV_JOINED, NULL);
	expect_frame("{\"topic\":\"client\",\"event\":\"no_relays\","
	    "\"payload\":{},\"ref\":1}");
	/* Heartbeats restart 10 s after the new socket opened. */
	ck_assert_uint_eq(phoenix_deadline(ch), S(30));
}
END_TEST

static Suite *
phoenix_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("phoenix");
	tc = tcase_create("channel");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_closed_is_idle);
	tcase_add_test(tc, test_join_frame_and_deadline);
	tcase_add_test(tc, test_join_timeout);
	tcase_add_test(tc, test_join_reply_not_empty_is_not_a_join);
	tcase_add_test(tc, test_join_refused);
	tcase_add_test(tc, test_queue_until_joined);
	tcase_add_test(tc, test_queue_bounded);
	tcase_add_test(tc, test_heartbeats_answered);
	tcase_add_test(tc, test_heartbeats_missed);
	tcase_add_test(tc, test_heartbeat_late_reply_counts);
	tcase_add_test(tc, test_heartbeat_no_burst_after_suspend);
	tcase_add_test(tc, test_heartbeats_while_joining);
	tcase_add_test(tc, test_unmatched_topic_rejoins);
	tcase_add_test(tc, test_error_reply);
	tcase_add_test(tc, test_phx_close_and_error);
	tcase_add_test(tc, test_disconnect);
	tcase_add_test(tc, test_push_delivered);
	tcase_add_test(tc, test_malformed_frames);
	tcase_add_test(tc, test_reopen_restarts_refs);
	suite_add_tcase(s, tc);
	return (s);
}

const struct check_main check_main = {
	.suites = { phoenix_suite },
};
