/* Unit tests for tunneld/wg: one program for the suites of each module. */

#include <check.h>
#include <sodium.h>

#include "tests/unit/check_main.h"

Suite	*wg_replay_suite(void);
Suite	*wg_noise_suite(void);
Suite	*wg_timers_suite(void);
Suite	*wg_aead_suite(void);

static int
setup(void)
{
	return (sodium_init() < 0 ? -1 : 0);
}

const struct check_main check_main = {
	.suites = { wg_replay_suite, wg_noise_suite, wg_timers_suite,
	    wg_aead_suite },
	.setup = setup,
};
