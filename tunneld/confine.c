/*
 * confine.c: the seccomp allow-list of fzc-tunneld's data plane, loaded
 * once it runs as its own user and before it reads anything from
 * controld or the network, for all its threads (TSYNC; the workers start
 * later and inherit it). It has CAP_NET_ADMIN: the list keeps it to its
 * sockets, the TUN device and its files (its state, and /etc/resolv.conf
 * through the descriptor tunneld/sysdns.c opened while root), with no
 * ptrace, no mounts, no module loading, no BPF, no new privileges. Only
 * the gateway may execute a program (nft, which runs under this filter
 * too). Kill or log: common/sysfilter.c.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/sockios.h>

#include <sched.h>
#include <termios.h>

#include "common/sysfilter.h"
#include "tunneld/confine.h"

/* A thread, or a process in a new namespace: no fork of the gateway's. */
#define CONFINE_CLONE_NEW						\
	(CLONE_THREAD | CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS |	\
	    CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

static const int allowed[] = {
	/* stdio, files: state, token, /proc/sys (read), NSS */
	SCMP_SYS(read),
	SCMP_SYS(write),
	SCMP_SYS(readv),
	SCMP_SYS(writev),
	SCMP_SYS(pread64),
	SCMP_SYS(pwrite64),
	SCMP_SYS(close),
	SCMP_SYS(lseek),
	SCMP_SYS(openat),
	SCMP_SYS(newfstatat),
	SCMP_SYS(fstat),
	SCMP_SYS(statx),
	SCMP_SYS(access),
	SCMP_SYS(faccessat),
	SCMP_SYS(faccessat2),
	SCMP_SYS(readlink),
	SCMP_SYS(fcntl),
	SCMP_SYS(dup),
	SCMP_SYS(dup2),
	SCMP_SYS(dup3),
	SCMP_SYS(pipe2),
	SCMP_SYS(fsync),
	SCMP_SYS(ftruncate),
	SCMP_SYS(rename),
	SCMP_SYS(unlink),
	SCMP_SYS(mkdir),
	SCMP_SYS(memfd_create),
	/* memory */
	SCMP_SYS(mmap),
	SCMP_SYS(munmap),
	SCMP_SYS(mprotect),
	SCMP_SYS(mremap),
	SCMP_SYS(brk),
	SCMP_SYS(madvise),
	SCMP_SYS(mlock),
	SCMP_SYS(munlock),
	/* threads: the workers; glibc's locks */
	SCMP_SYS(futex),
	SCMP_SYS(set_robust_list),
	SCMP_SYS(rseq),
	SCMP_SYS(sched_yield),
	SCMP_SYS(gettid),
	SCMP_SYS(sched_getaffinity),
	SCMP_SYS(membarrier),
	/* signals: libevent's, glibc's thread signals */
	SCMP_SYS(rt_sigaction),
	SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn),
	SCMP_SYS(sigaltstack),
	SCMP_SYS(tgkill),
	/* a sleep or poll resumed after SIGSTOP and SIGCONT */
	SCMP_SYS(restart_syscall),
	/* controld is our child: its exit is ours to reap */
	SCMP_SYS(wait4),
	SCMP_SYS(waitid),
	/* time and randomness */
	SCMP_SYS(clock_gettime),
	SCMP_SYS(gettimeofday),
	SCMP_SYS(clock_nanosleep),
	SCMP_SYS(nanosleep),
	SCMP_SYS(getrandom),
	/* identity, for the log, the hello and the host name */
	SCMP_SYS(getpid),
	SCMP_SYS(getppid),
	SCMP_SYS(getuid),
	SCMP_SYS(geteuid),
	SCMP_SYS(getgid),
	SCMP_SYS(getegid),
	SCMP_SYS(uname),
	SCMP_SYS(sysinfo),
	/* the event loops */
	SCMP_SYS(epoll_create1),
	SCMP_SYS(epoll_ctl),
	SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait),
	SCMP_SYS(poll),
	SCMP_SYS(ppoll),
	SCMP_SYS(eventfd2),
	/* sockets: UDP, netlink, IPC, the spawner, sd_notify */
	SCMP_SYS(connect),
	SCMP_SYS(bind),
	SCMP_SYS(shutdown),
	SCMP_SYS(getsockopt),
	SCMP_SYS(setsockopt),
	SCMP_SYS(getsockname),
	SCMP_SYS(getpeername),
	SCMP_SYS(sendto),
	SCMP_SYS(recvfrom),
	SCMP_SYS(sendmsg),
	SCMP_SYS(recvmsg),
	SCMP_SYS(sendmmsg),
	SCMP_SYS(recvmmsg),
	SCMP_SYS(socketpair),
	/* the end */
	SCMP_SYS(exit),
	SCMP_SYS(exit_group),
};

/*
 * What the gateway's nft runner needs beyond the above, and the shell
 * and nft it runs, in the same filter.
 */
static const int nft_allowed[] = {
	SCMP_SYS(execve),
	SCMP_SYS(kill),
	SCMP_SYS(arch_prctl),
	SCMP_SYS(set_tid_address),
	SCMP_SYS(prlimit64),
	SCMP_SYS(getdents64),
	SCMP_SYS(pselect6),
	SCMP_SYS(setpgid),
	SCMP_SYS(pidfd_open),
	SCMP_SYS(rt_sigtimedwait),
	SCMP_SYS(vfork),
	SCMP_SYS(getcwd),
};

void
confine_enter(bool gateway)
{
	static const unsigned long ioctls[] = {
		TUNSETIFF,
		TUNGETIFF,
		TUNSETOFFLOAD,
		SIOCSIFTXQLEN,
		FIONREAD,
		FIONBIO,
		TCGETS,
	};
	static const int families[] = { AF_UNIX, AF_INET, AF_INET6 };
	struct scmp_arg_cmp	 a, nl[2], vf;
	scmp_filter_ctx		 ctx;
	size_t			 i;

	ctx = sysfilter_new();
	sysfilter_allow(ctx, allowed, sizeof(allowed) / sizeof(allowed[0]));
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		a = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)families[i]);
		sysfilter_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, &a);
	}
	/* Routes, addresses, rules, links; nft's own for the gateway. */
	nl[0] = SCMP_A0(SCMP_CMP_EQ, AF_NETLINK);
	nl[1] = SCMP_A2(SCMP_CMP_EQ, NETLINK_ROUTE);
	sysfilter_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2, nl);
	sysfilter_threads(ctx);
	if (gateway) {
		sysfilter_allow(ctx, nft_allowed,
		    sizeof(nft_allowed) / sizeof(nft_allowed[0]));
		nl[1] = SCMP_A2(SCMP_CMP_EQ, NETLINK_NETFILTER);
		sysfilter_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2, nl);
		/*
		 * posix_spawn's clone and the shell's fork around nft
		 * (tunneld/firewall.c): processes, in no new namespace.
		 */
		vf = SCMP_A0(SCMP_CMP_MASKED_EQ, CONFINE_CLONE_NEW, 0);
		sysfilter_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, &vf);
	}
	/* The TUN device's and the sockets'; no other device's. */
	for (i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]); i++) {
		a = SCMP_A1(SCMP_CMP_EQ, ioctls[i]);
		sysfilter_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, &a);
	}
	sysfilter_load(ctx);
}
