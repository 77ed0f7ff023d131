/* Connect-error classes, Retry-After and the reconnect backoff. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "controld/portal_backoff.h"
#include "tests/unit/check_main.h"

#define S(x)	((uint64_t)(x) * NSEC_PER_SEC)
#define MS(x)	((uint64_t)(x) * NSEC_PER_MSEC)

START_TEST(test_classify)
{
	static const char	 inv[] = "{\"type\":\"about:blank\",\"title\":"
	    "\"Unauthorized\",\"status\":401,\"detail\":\"Invalid token\","
	    "\"code\":\"invalid_token\"}";
	static const char	 mis[] = "{\"status\":401,\"code\":"
	    "\"missing_token\"}";
	static const char	 other[] = "{\"status\":401,\"code\":"
	    "\"unauthenticated\"}";
	static const char	 html[] = "<html>401</html>";
	static const int	 retry[] = { 0, 400, 402, 403, 409, 429, 500,
	    502, 503 };
	size_t			 i;

	ck_assert_int_eq(portal_backoff_classify(401, inv, strlen(inv)),
	    PORTAL_STOP_SIGNOUT);
	ck_assert_int_eq(portal_backoff_classify(401, mis, strlen(mis)),
	    PORTAL_STOP_SIGNOUT);
	ck_assert_int_eq(portal_backoff_classify(401, other, strlen(other)),
	    PORTAL_STOP);
	ck_assert_int_eq(portal_backoff_classify(401, html, strlen(html)),
	    PORTAL_STOP);
	ck_assert_int_eq(portal_backoff_classify(401, NULL, 0), PORTAL_STOP);
	for (i = 0; i < sizeof(retry) / sizeof(retry[0]); i++)
		ck_assert_int_eq(portal_backoff_classify(retry[i], inv,
		    strlen(inv)), PORTAL_RETRY);
}
END_TEST

START_TEST(test_retry_after)
{
	uint64_t	 d = 7;
	/* date -u -d "Sun, 06 Nov 1994 08:49:37 GMT" +%s */
	time_t		 date = 784111777;

	ck_assert(portal_backoff_retry_after("2", 0, &d));
	ck_assert_uint_eq(d, S(2));
	ck_assert(portal_backoff_retry_after(" 120 ", 0, &d));
	ck_assert_uint_eq(d, S(120));
	ck_assert(portal_backoff_retry_after("0", 0, &d));
	ck_assert_uint_eq(d, 0);
	ck_assert(portal_backoff_retry_after("99999999999999999999999", 0, &d));
	ck_assert_uint_eq(d, S(86400));
	ck_assert(portal_backoff_retry_after("Sun, 06 Nov 1994 08:49:37 GMT",
	    date - 10, &d));
	ck_assert_uint_eq(d, S(10));
	ck_assert(portal_backoff_retry_after("Sun, 06 Nov 1994 08:49:37 GMT",
	    date + 10, &d));
	ck_assert_uint_eq(d, 0);
	d = 7;
	ck_assert(!portal_backoff_retry_after(NULL, 0, &d));
	ck_assert(!portal_backoff_retry_after("", 0, &d));
	ck_assert(!portal_backoff_retry_after("soon", 0, &d));
	ck_assert(!portal_backoff_retry_after("-1", 0, &d));
	ck_assert(!portal_backoff_retry_after("12.5", 0, &d));
	ck_assert(!portal_backoff_retry_after("Sun, 06 Nov 1994 08:49:37 UTC",
	    0, &d));
	ck_assert(!portal_backoff_retry_after("Sun, 06 Foo 1994 08:49:37 GMT",
	    0, &d));
	ck_assert_uint_eq(d, 7);
}
END_TEST

START_TEST(test_backoff_first_connect)
{
	struct portal_backoff	 b;
	uint64_t		 d, now;
	int			 k;

	portal_backoff_init(&b, 0);
	/* Fixed 1 s, no jitter whatever the random value, for 15 s. */
	for (k = 0; k <= 14; k++) {
		ck_assert_msg(portal_backoff_next(&b, S(100 + k),
		    k % 2 ? UINT32_MAX : 0, &d), "gave up at %d s", k);
		ck_assert_uint_eq(d, S(1));
	}
	/* Then no giving up: 1 s x 1.5^n with jitter, capped at 60 s. */
	ck_assert(portal_backoff_next(&b, S(115), UINT32_C(1) << 31, &d));
	ck_assert_uint_eq(d, S(1));
	ck_assert(portal_backoff_next(&b, S(116), UINT32_C(1) << 31, &d));
	ck_assert_uint_eq(d, MS(1500));
	ck_assert(portal_backoff_next(&b, S(118), 0, &d));
	ck_assert_uint_eq(d, MS(1125));
	for (now = S(120), k = 0; k < 20; k++, now += d)
		ck_assert(portal_backoff_next(&b, now, UINT32_MAX, &d));
	ck_assert_uint_le(d, S(90));
	ck_assert_uint_ge(d, S(89));
	/* A day later it still tries, at most 90 s apart. */
	ck_assert(portal_backoff_next(&b, now + S(86400), 0, &d));
	ck_assert_uint_eq(d, S(30));
}
END_TEST

START_TEST(test_backoff_first_connect_budget)
{
	struct portal_backoff	 b;
	uint64_t		 d;

	/* --max-partition-time 20s, never connected: 1 s apart, then out. */
	portal_backoff_init(&b, S(20));
	ck_assert(portal_backoff_next(&b, S(100), 0, &d));
	ck_assert_uint_eq(d, S(1));
	ck_assert(portal_backoff_next(&b, S(114), 0, &d));
	ck_assert(portal_backoff_next(&b, S(118), 0, &d));
	ck_assert(!portal_backoff_next(&b, S(121), 0, &d));
}
END_TEST

START_TEST(test_backoff_reset)
{
	struct portal_backoff	 b;
	uint64_t		 d, now = S(10);
	int			 k;

	portal_backoff_init(&b, S(600));
	portal_backoff_joined(&b);
	for (k = 0; k < 10; k++, now += d)
		ck_assert(portal_backoff_next(&b, now, UINT32_C(1) << 31, &d));
	ck_assert_uint_gt(d, S(10));
	/* A new network: the shortest delay again, the budget runs on. */
	portal_backoff_reset(&b);
	ck_assert(portal_backoff_next(&b, now, UINT32_C(1) << 31, &d));
	ck_assert_uint_eq(d, MS(500));
	ck_assert(!portal_backoff_next(&b, S(611), UINT32_C(1) << 31, &d));
}
END_TEST

START_TEST(test_backoff_after_join)
{
	static const uint64_t	 lo[] = {
		250000000ULL, 375000000ULL, 562500000ULL, 843750000ULL,
		1265625000ULL, 1898437500ULL, 2847656250ULL, 4271484375ULL,
		6407226563ULL, 9610839844ULL, 14416259765ULL, 21624389648ULL,
		30000000000ULL, 30000000000ULL, 30000000000ULL,
	};
	struct portal_backoff	 b;
	uint64_t		 d, now = S(1000);
	size_t			 i;

	portal_backoff_init(&b, 0);
	portal_backoff_joined(&b);
	/* Lowest jitter: half the interval 0.5 s x 1.5^n, capped at 60 s. */
	for (i = 0; i < sizeof(lo) / sizeof(lo[0]); i++) {
		ck_assert(portal_backoff_next(&b, now, 0, &d));
		ck_assert_uint_eq(d, lo[i]);
		now += d;
	}
	/* No budget: it keeps going, a day later too. */
	ck_assert(portal_backoff_next(&b, now + S(86400), 0, &d));
	ck_assert_uint_eq(d, S(30));

	/* A join resets it; mid jitter gives the interval itself. */
	portal_backoff_joined(&b);
	ck_assert(portal_backoff_next(&b, now, UINT32_C(1) << 31, &d));
	ck_assert_uint_eq(d, MS(500));
	ck_assert(portal_backoff_next(&b, now, UINT32_C(1) << 31, &d));
	ck_assert_uint_eq(d, MS(750));
	/* Highest jitter: 1.5 times the interval, at most. */
	ck_assert(portal_backoff_next(&b, now, UINT32_MAX, &d));
	ck_assert_uint_le(d, MS(1125) * 3 / 2);
	ck_assert_uint_ge(d, MS(1125) * 3 / 2 - 1);
}
END_TEST

START_TEST(test_backoff_budget)
{
	struct portal_backoff	 b;
	uint64_t		 d;

	portal_backoff_init(&b, S(10));
	portal_backoff_joined(&b);
	ck_assert(portal_backoff_next(&b, S(50), 0, &d));
	ck_assert(portal_backoff_next(&b, S(59), 0, &d));
	/* 9 s gone and the next delay would cross the 10 s budget. */
	ck_assert(!portal_backoff_next(&b, S(59) + MS(900), UINT32_MAX, &d));
	ck_assert(!portal_backoff_next(&b, S(61), 0, &d));
}
END_TEST

START_TEST(test_retry_after_wins)
{
	struct portal_backoff	 b;
	uint64_t		 d;

	portal_backoff_init(&b, 0);
	portal_backoff_joined(&b);
	ck_assert(portal_backoff_delay(&b, S(1), "2", 0, 0, &d));
	ck_assert_uint_eq(d, S(2));
	/* The backoff did not advance meanwhile. */
	ck_assert(portal_backoff_delay(&b, S(3), NULL, 0, 0, &d));
	ck_assert_uint_eq(d, MS(250));
	ck_assert(portal_backoff_delay(&b, S(4), "bogus", 0, 0, &d));
	ck_assert_uint_eq(d, MS(375));
}
END_TEST

static Suite *
portal_backoff_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("portal_backoff");
	tc = tcase_create("reconnect");
	tcase_add_test(tc, test_classify);
	tcase_add_test(tc, test_retry_after);
	tcase_add_test(tc, test_backoff_first_connect);
	tcase_add_test(tc, test_backoff_first_connect_budget);
	tcase_add_test(tc, test_backoff_reset);
	tcase_add_test(tc, test_backoff_after_join);
	tcase_add_test(tc, test_backoff_budget);
	tcase_add_test(tc, test_retry_after_wins);
	suite_add_tcase(s, tc);
	return (s);
}

const struct check_main check_main = {
	.suites = { portal_backoff_suite },
};
