/*
 * sandbox.c: fzc-controld's seccomp allow-list. controld already has no
 * privilege; the filter narrows what a parser bug could do with the
 * process: no exec, no ptrace, no new listening sockets, no mounts, and
 * only the address families it needs. Loaded once the control socket
 * listens and before the first byte from the network is read.
 *
 * FZC_SECCOMP=log in the environment logs violations instead of killing
 * (for finding a missing call); the sanitizer build always logs, since
 * ASan and UBSan make calls of their own.
 */
#include <sys/socket.h>

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "controld/sandbox.h"

static const int allowed[] = {
	/* stdio, files: CA file, /etc/hosts, os-release, NSS */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(close), SCMP_SYS(lseek),
	SCMP_SYS(openat), SCMP_SYS(newfstatat), SCMP_SYS(fstat),
	SCMP_SYS(statx), SCMP_SYS(access), SCMP_SYS(faccessat),
	SCMP_SYS(faccessat2), SCMP_SYS(readlink), SCMP_SYS(fcntl),
	SCMP_SYS(dup), SCMP_SYS(dup3), SCMP_SYS(pipe2), SCMP_SYS(ioctl),
	/* the control socket is removed on exit */
	SCMP_SYS(unlink),
	/* memory */
	SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mprotect),
	SCMP_SYS(mremap), SCMP_SYS(brk), SCMP_SYS(madvise),
	/* threads: curl resolves names in one; glibc's locks */
	SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
	SCMP_SYS(sched_yield), SCMP_SYS(gettid), SCMP_SYS(sched_getaffinity),
	/* signals: libevent's SIGTERM, glibc's thread signals */
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(sigaltstack), SCMP_SYS(tgkill),
	/* time and randomness */
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
	SCMP_SYS(getrandom),
	/* identity, for the log and the hello check */
	SCMP_SYS(getpid), SCMP_SYS(getppid), SCMP_SYS(getuid),
	SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid),
	SCMP_SYS(uname), SCMP_SYS(sysinfo),
	/* the event loop */
	SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait), SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(eventfd2),
	/* sockets: IPC, control clients, portal, DNS */
	SCMP_SYS(connect), SCMP_SYS(accept4), SCMP_SYS(shutdown),
	SCMP_SYS(getsockopt), SCMP_SYS(setsockopt), SCMP_SYS(getsockname),
	SCMP_SYS(getpeername), SCMP_SYS(sendto), SCMP_SYS(recvfrom),
	SCMP_SYS(sendmsg), SCMP_SYS(recvmsg), SCMP_SYS(sendmmsg),
	SCMP_SYS(recvmmsg), SCMP_SYS(socketpair), SCMP_SYS(bind),
	/* the end */
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

static void
rule(scmp_filter_ctx ctx, uint32_t action, int call, unsigned n,
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
sandbox_enter(void)
{
	struct scmp_arg_cmp	 a;
	scmp_filter_ctx		 ctx;
	const char		*mode = getenv("FZC_SECCOMP");
	uint32_t		 deflt = SCMP_ACT_KILL_PROCESS;
	size_t			 i;
	int			 rc;

#ifdef FZC_SANITIZERS
	mode = "log";
#endif
	if (mode != NULL && strcmp(mode, "log") == 0)
		deflt = SCMP_ACT_LOG;
	if ((ctx = seccomp_init(deflt)) == NULL)
		fatalx("seccomp_init");
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		rule(ctx, SCMP_ACT_ALLOW, allowed[i], 0, NULL);
	/* Only sockets of the families controld speaks. */
	a = SCMP_A0(SCMP_CMP_EQ, AF_UNIX);
	rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, &a);
	a = SCMP_A0(SCMP_CMP_EQ, AF_INET);
	rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, &a);
	a = SCMP_A0(SCMP_CMP_EQ, AF_INET6);
	rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, &a);
	a = SCMP_A0(SCMP_CMP_EQ, AF_NETLINK);	/* getaddrinfo's AI_ADDRCONFIG */
	rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, &a);
	/* Threads, not processes: clone only with CLONE_THREAD. */
	a = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);
	rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, &a);
	/* clone3 hides its flags; ENOSYS makes glibc fall back to clone. */
	rule(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0, NULL);
	if ((rc = seccomp_load(ctx)) < 0)
		fatalx("seccomp_load: %s", strerror(-rc));
	seccomp_release(ctx);
	log_debug("seccomp filter loaded%s", deflt == SCMP_ACT_LOG ?
	    " (logging only)" : "");
}
