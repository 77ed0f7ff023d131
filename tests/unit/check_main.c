/* check_main.c: the one main() of the unit test programs (check_main.h). */

#include <stdlib.h>

#include <check.h>

#include "tests/unit/check_main.h"

int
main(void)
{
	SRunner	*sr;
	size_t	 i;
	int	 failed;

	/*
	 * Check's 4 s per test is a timing assertion in disguise: on a loaded
	 * machine or under the sanitizers a long property test fails it. The
	 * limit only has to catch a hang; the caller's setting still wins.
	 */
	if (setenv("CK_DEFAULT_TIMEOUT", "60", 0) == -1)
		return (EXIT_FAILURE);
	if (check_main.setup != NULL && check_main.setup() == -1)
		return (EXIT_FAILURE);
	sr = srunner_create(check_main.suites[0]());
	for (i = 1; i < CHECK_MAIN_SUITES && check_main.suites[i] != NULL; i++)
		srunner_add_suite(sr, check_main.suites[i]());
	if (check_main.always_fork)
		srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (check_main.teardown != NULL)
		check_main.teardown();
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
