/* At most one authorization request per resource every 2 s. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <check.h>

#include "common/timer.h"
#include "controld/portal_msg.h"
#include "controld/portal_ratelimit.h"
#include "tests/unit/check_main.h"

#define SEC(x)	((uint64_t)(x) * NSEC_PER_SEC)

START_TEST(test_ratelimit)
{
	struct portal_ratelimit	 rl = { NULL, 0, 0 };
	const char		*a = "0f6a8c1e-5b8e-4d5f-9a3c-11a2b3c4d5e6";
	const char		*b = "a4e2c7d9-1b3f-4e5a-8c7d-2f1e0d9c8b7a";
	char			 id[PORTAL_ID_SIZE];
	int			 i;

	ck_assert(portal_ratelimit_allow(&rl, a, SEC(100)));
	ck_assert(!portal_ratelimit_allow(&rl, a, SEC(100)));
	/* Same resource in another spelling. */
	ck_assert(!portal_ratelimit_allow(&rl,
	    "0F6A8C1E-5B8E-4D5F-9A3C-11A2B3C4D5E6", SEC(101)));
	ck_assert(portal_ratelimit_allow(&rl, b, SEC(101)));
	ck_assert(!portal_ratelimit_allow(&rl, a, SEC(102) - 1));
	ck_assert(portal_ratelimit_allow(&rl, a, SEC(102)));
	ck_assert(!portal_ratelimit_allow(&rl, b, SEC(102)));
	ck_assert(portal_ratelimit_allow(&rl, b, SEC(103)));
	ck_assert(!portal_ratelimit_allow(&rl, "nope", SEC(200)));
	/* Old entries go away: the table does not grow without bound. */
	for (i = 0; i < 100; i++) {
		snprintf(id, sizeof(id), "00000000-0000-4000-8000-%012d", i);
		ck_assert(portal_ratelimit_allow(&rl, id, SEC(300 + i)));
	}
	ck_assert_uint_le(rl.n, 3);
	portal_ratelimit_clear(&rl);
	ck_assert_uint_eq(rl.n, 0);
}
END_TEST

static Suite *
portal_ratelimit_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("portal_ratelimit");
	tc = tcase_create("ratelimit");
	tcase_add_test(tc, test_ratelimit);
	suite_add_tcase(s, tc);
	return (s);
}

const struct check_main check_main = {
	.suites = { portal_ratelimit_suite },
};
