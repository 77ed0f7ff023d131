/*
 * check_main.h: the main() every unit test program shares (check_main.c).
 * A program defines one `const struct check_main check_main` naming its
 * suites and what it needs done around the run.
 */
#ifndef FZC_CHECK_MAIN_H
#define FZC_CHECK_MAIN_H

#include <check.h>

#define CHECK_MAIN_SUITES	4

struct check_main {
	/* The suites to run, in order, up to the first NULL. */
	Suite	*(*suites[CHECK_MAIN_SUITES])(void);
	/*
	 * Before the run: -1 fails the program; it may also exit 77 itself,
	 * automake's SKIP.  NULL: nothing to do.
	 */
	int	 (*setup)(void);
	/* After the run, before the exit.  NULL: nothing to do. */
	void	 (*teardown)(void);
	/*
	 * Every test in a child of its own even if CK_FORK=no, for tests that
	 * unshare() or otherwise change the process.
	 */
	int	 always_fork;
};

extern const struct check_main check_main;

#endif
