/* Unit tests for tunneld/wg: one runner for the suites of each module. */

#include <stdlib.h>

#include <check.h>
#include <sodium.h>

Suite	*wg_replay_suite(void);
Suite	*wg_noise_suite(void);
Suite	*wg_timers_suite(void);

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	if (sodium_init() < 0)
		return (EXIT_FAILURE);
	sr = srunner_create(wg_replay_suite());
	srunner_add_suite(sr, wg_noise_suite());
	srunner_add_suite(sr, wg_timers_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
