/*
 * Replay window: a hand-written table walking the window edges, then a
 * long pseudo-random walk checked against a naive model.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "tunneld/wg/replay.h"
#include "tunneld/wg/wg.h"

Suite	*wg_replay_suite(void);

#define W	((uint64_t)WG_REPLAY_WINDOW)
#define LIMIT	WG_REJECT_AFTER_MESSAGES

struct replay_case {
	uint64_t	 counter;
	bool		 accept;
};

static const struct replay_case replay_table[] = {
	{ 0, true },		/* counter 0 is valid once */
	{ 0, false },
	{ 1, true },
	{ 1, false },
	{ 9, true },		/* a gap */
	{ 8, true },		/* filled backwards */
	{ 7, true },
	{ 7, false },
	{ 9, false },
	{ 2, true },
	{ W, true },		/* top moves to W: 0 now falls out */
	{ 0, false },
	{ 1, false },
	{ 2, false },
	{ 3, true },		/* W - 3 < W: oldest acceptable + 2 */
	{ W + 2, true },
	{ 2, false },		/* W + 2 - 2 == W: just outside */
	{ 3, false },		/* seen */
	{ 4, true },		/* W + 2 - 4 == W - 2: inside */
	{ W + 1, true },
	{ W + 1, false },
	{ 10 * W, true },	/* far future clears the whole ring */
	{ 9 * W, false },	/* exactly one window behind */
	{ 9 * W + 1, true },	/* the oldest slot still inside */
	{ 9 * W + 1, false },
	{ 10 * W - 1, true },
	{ 10 * W, false },
	{ W + 3, false },	/* was never seen, but is long gone */
	{ 10 * W + 64, true },	/* next block boundary */
	{ 10 * W + 63, true },
	{ 10 * W + 65, true },
	{ 10 * W + 64, false },
	{ LIMIT - 2, true },	/* jump to the end of the counter space */
	{ LIMIT - 1, true },
	{ LIMIT - 1, false },
	{ LIMIT, false },	/* REJECT_AFTER_MESSAGES itself */
	{ UINT64_MAX, false },
	{ LIMIT - 1 - W, false },	/* one window behind LIMIT - 1 */
	{ LIMIT - W, true },
	{ LIMIT - 3, true },
	{ 0, false },
};

START_TEST(test_replay_table)
{
	struct wg_replay	 r;
	size_t			 i;
	bool			 ok;

	wg_replay_init(&r);
	for (i = 0; i < sizeof(replay_table) / sizeof(replay_table[0]); i++) {
		ok = wg_replay_acceptable(&r, replay_table[i].counter);
		ck_assert_msg(ok == replay_table[i].accept,
		    "acceptable, row %zu", i);
		ok = wg_replay_update(&r, replay_table[i].counter) == WG_OK;
		ck_assert_msg(ok == replay_table[i].accept,
		    "update, row %zu", i);
	}
}
END_TEST

START_TEST(test_replay_reject_changes_nothing)
{
	struct wg_replay	 r, snap;

	wg_replay_init(&r);
	ck_assert_int_eq(wg_replay_update(&r, 5000), WG_OK);
	ck_assert_int_eq(wg_replay_update(&r, 4990), WG_OK);
	memcpy(&snap, &r, sizeof(r));
	ck_assert_int_eq(wg_replay_update(&r, 4990), WG_ERR_REPLAY);
	ck_assert_int_eq(wg_replay_update(&r, 5000), WG_ERR_REPLAY);
	ck_assert_int_eq(wg_replay_update(&r, 5000 - W), WG_ERR_REPLAY);
	ck_assert_int_eq(wg_replay_update(&r, LIMIT), WG_ERR_REPLAY);
	ck_assert_mem_eq(&snap, &r, sizeof(r));
}
END_TEST

START_TEST(test_replay_window_is_large_enough)
{
	struct wg_replay	 r;
	uint64_t		 c;

	ck_assert_uint_ge(W, 2048);
	/* 2048 packets arriving in reverse order must all pass. */
	wg_replay_init(&r);
	for (c = 2048; c > 0; c--)
		ck_assert_int_eq(wg_replay_update(&r, c - 1), WG_OK);
	for (c = 0; c < 2048; c++)
		ck_assert_int_eq(wg_replay_update(&r, c), WG_ERR_REPLAY);
}
END_TEST

/*
 * Naive model: a counter is accepted when unseen and less than a window
 * behind the greatest accepted one.  Counters stay below MODEL_N.
 */
#define MODEL_N	(64 * WG_REPLAY_TOTAL_BITS)

START_TEST(test_replay_model)
{
	struct wg_replay	 r;
	uint8_t			*seen;
	uint64_t		 top = 0, c, rng = 0x9e3779b97f4a7c15ULL;
	bool			 any = false, expect;
	int			 i;

	seen = calloc(MODEL_N, 1);
	ck_assert_ptr_nonnull(seen);
	wg_replay_init(&r);
	for (i = 0; i < 200000; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		/* Mostly near the top, sometimes far ahead or far behind. */
		switch (rng % 8) {
		case 0:
			c = top + (rng >> 8) % (2 * WG_REPLAY_TOTAL_BITS);
			break;
		case 1:
			c = top - (rng >> 8) % (W + 200);
			break;
		default:
			c = top + (rng >> 8) % 64 - 48;
			break;
		}
		if (c >= MODEL_N)
			c = (rng >> 20) % MODEL_N;
		expect = !seen[c] && (!any || c > top || top - c < W);
		ck_assert_msg((wg_replay_update(&r, c) == WG_OK) == expect,
		    "step %d counter %llu top %llu", i,
		    (unsigned long long)c, (unsigned long long)top);
		if (expect) {
			seen[c] = 1;
			if (!any || c > top)
				top = c;
			any = true;
		}
	}
	free(seen);
}
END_TEST

Suite *
wg_replay_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("wg_replay");
	tc = tcase_create("replay");
	tcase_add_test(tc, test_replay_table);
	tcase_add_test(tc, test_replay_reject_changes_nothing);
	tcase_add_test(tc, test_replay_window_is_large_enough);
	tcase_add_test(tc, test_replay_model);
	suite_add_tcase(s, tc);
	return (s);
}
