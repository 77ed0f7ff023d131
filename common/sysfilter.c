/*
 * sysfilter.c: what fzc's seccomp allow-lists (controld/sandbox.c,
 * tunneld/confine.c) have in common: a filter that kills the process on
 * any call not allowed, and the one switch for finding a missing call.
 * FZC_SECCOMP=log in the environment logs violations instead of killing
 * (the kernel's log names the call); the sanitizer build always logs,
 * since ASan and UBSan make calls of their own.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/sysfilter.h"

scmp_filter_ctx
sysfilter_new(void)
{
	scmp_filter_ctx	 ctx;
	const char	*mode = getenv("FZC_SECCOMP");
	uint32_t	 deflt = SCMP_ACT_KILL_PROCESS;

#ifdef FZC_SANITIZERS
	mode = "log";
#endif
	if (mode != NULL && strcmp(mode, "log") == 0)
		deflt = SCMP_ACT_LOG;
	if ((ctx = seccomp_init(deflt)) == NULL)
		fatalx("seccomp_init");
	return (ctx);
}

void
sysfilter_rule(scmp_filter_ctx ctx, uint32_t action, int call, unsigned n,
    const struct scmp_arg_cmp *arg)
{
	int	 rc;

	if (n == 0)
		rc = seccomp_rule_add(ctx, action, call, 0);
	else
		rc = seccomp_rule_add_array(ctx, action, call, n, arg);
	if (rc < 0)
		fatalx("seccomp: rule for syscall %d: %s", call, strerror(-rc));
}

void
sysfilter_allow(scmp_filter_ctx ctx, const int *calls, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		sysfilter_rule(ctx, SCMP_ACT_ALLOW, calls[i], 0, NULL);
}

/*
 * Threads, not processes: clone only with CLONE_THREAD. clone3 hides its
 * flags in a struct; ENOSYS makes glibc fall back to clone.
 */
void
sysfilter_threads(scmp_filter_ctx ctx)
{
	struct scmp_arg_cmp	 a;

	a = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);
	sysfilter_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, &a);
	sysfilter_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0, NULL);
}

/*
 * For every thread of the process (TSYNC), those already running too;
 * the filter is theirs and their children's for good.
 */
void
sysfilter_load(scmp_filter_ctx ctx)
{
	uint32_t	 deflt;
	int		 rc;

	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0)
		fatalx("seccomp: TSYNC: %s", strerror(-rc));
	if ((rc = seccomp_attr_get(ctx, SCMP_FLTATR_ACT_DEFAULT, &deflt)) < 0)
		fatalx("seccomp: default action: %s", strerror(-rc));
	if ((rc = seccomp_load(ctx)) < 0)
		fatalx("seccomp_load: %s", strerror(-rc));
	seccomp_release(ctx);
	log_debug("seccomp filter loaded%s",
	    deflt == SCMP_ACT_LOG ? " (logging only)" : "");
}
