/* check_pace.c: the pace of a path (tunneld/pace.c). */
#include <check.h>

#include "common/timer.h"
#include "tests/unit/check_main.h"
#include "tunneld/pace.h"

/* 1 MB/s: a byte is 1000 ns. */
#define RATE	1000000

START_TEST(test_unpaced)
{
	struct pace	 p;
	int		 i;

	pace_init(&p, 0, 4096);
	for (i = 0; i < 1000; i++)
		ck_assert_uint_eq(pace_take(&p, 5, 65535), 0);
}
END_TEST

/* A burst goes at once; what follows waits its time at the rate. */
START_TEST(test_burst_then_rate)
{
	struct pace	 p;
	uint64_t	 now = 7 * NSEC_PER_SEC;
	int		 i;

	pace_init(&p, RATE, 4000);
	for (i = 0; i < 4; i++)
		ck_assert_uint_eq(pace_take(&p, now, 1000), 0);
	ck_assert_uint_eq(pace_take(&p, now, 1000), 1000000);
	ck_assert_uint_eq(pace_take(&p, now, 500), 1500000);
	/* The caller waited as told: the next one waits its own time. */
	now += 1500000;
	ck_assert_uint_eq(pace_take(&p, now, 100), 100000);
}
END_TEST

/* Idle, a path earns one burst back, never more. */
START_TEST(test_idle_earns_one_burst)
{
	struct pace	 p;
	uint64_t	 now = 1000;

	pace_init(&p, RATE, 2000);
	ck_assert_uint_eq(pace_take(&p, now, 3000), 1000000);
	now += 60 * NSEC_PER_SEC;
	ck_assert_uint_eq(pace_take(&p, now, 2000), 0);
	ck_assert_uint_eq(pace_take(&p, now, 1), 1000);
	/* Half the time of a burst idle: half a burst back. */
	now += 1000000;
	ck_assert_uint_eq(pace_take(&p, now, 1000), 1000);
}
END_TEST

/* Over a long run the bytes taken leave at the rate, whatever the sizes. */
START_TEST(test_long_run_keeps_the_rate)
{
	struct pace	 p;
	uint64_t	 now = 0, bytes = 0, w;
	size_t		 n;
	int		 i;

	pace_init(&p, 31250000, 32768);		/* 250 Mbit/s */
	for (i = 0; i < 100000; i++) {
		n = 64 + (size_t)(i * 7919) % 1400;
		w = pace_take(&p, now, n);
		now += w;
		bytes += n;
	}
	/* Within one burst of the rate's time for all the bytes. */
	ck_assert_uint_le(now, bytes * NSEC_PER_SEC / 31250000);
	ck_assert_uint_ge(now + p.burst_ns + NSEC_PER_SEC / 1000,
	    bytes * NSEC_PER_SEC / 31250000);
}
END_TEST

static Suite *
pace_suite(void)
{
	Suite	*s = suite_create("pace");
	TCase	*tc = tcase_create("gcra");

	tcase_add_test(tc, test_unpaced);
	tcase_add_test(tc, test_burst_then_rate);
	tcase_add_test(tc, test_idle_earns_one_burst);
	tcase_add_test(tc, test_long_run_keeps_the_rate);
	suite_add_tcase(s, tc);
	return (s);
}

const struct check_main check_main = {
	.suites = { pace_suite },
};
