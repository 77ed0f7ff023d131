/*
 * sandbox.c: fzc-controld's seccomp allow-list. controld already has no
 * privilege; the filter narrows what a parser bug could do with the
 * process: no exec, no ptrace, no new listening sockets, no mounts, and
 * only the address families it needs. Loaded once the control socket
 * listens and before the first byte from the network is read. Kill or
 * log: common/sysfilter.c.
 *
 * Files are narrowed with Landlock where the kernel has it, once the CA
 * file is known (sandbox_files).
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/landlock.h>
#include <linux/netlink.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "common/log.h"
#include "common/sysfilter.h"
#include "controld/sandbox.h"

static const int allowed[] = {
	/* stdio, files: CA file, /etc/hosts, os-release, NSS */
	SCMP_SYS(read),
	SCMP_SYS(write),
	SCMP_SYS(readv),
	SCMP_SYS(writev),
	SCMP_SYS(pread64),
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
	SCMP_SYS(dup3),
	SCMP_SYS(pipe2),
	/* the control socket is removed on exit */
	SCMP_SYS(unlink),
	/* sandbox_files, later */
	SCMP_SYS(landlock_create_ruleset),
	SCMP_SYS(landlock_add_rule),
	SCMP_SYS(landlock_restrict_self),
	/* memory */
	SCMP_SYS(mmap),
	SCMP_SYS(munmap),
	SCMP_SYS(mprotect),
	SCMP_SYS(mremap),
	SCMP_SYS(brk),
	SCMP_SYS(madvise),
	/* threads: curl resolves names in one; glibc's locks */
	SCMP_SYS(futex),
	SCMP_SYS(set_robust_list),
	SCMP_SYS(rseq),
	SCMP_SYS(sched_yield),
	SCMP_SYS(gettid),
	SCMP_SYS(sched_getaffinity),
	/* signals: libevent's SIGTERM, glibc's thread signals */
	SCMP_SYS(rt_sigaction),
	SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn),
	SCMP_SYS(sigaltstack),
	SCMP_SYS(tgkill),
	/* a sleep or poll resumed after SIGSTOP and SIGCONT */
	SCMP_SYS(restart_syscall),
	/* time and randomness */
	SCMP_SYS(clock_gettime),
	SCMP_SYS(gettimeofday),
	SCMP_SYS(clock_nanosleep),
	SCMP_SYS(nanosleep),
	SCMP_SYS(getrandom),
	/* identity, for the log and the hello check */
	SCMP_SYS(getpid),
	SCMP_SYS(getppid),
	SCMP_SYS(getuid),
	SCMP_SYS(geteuid),
	SCMP_SYS(getgid),
	SCMP_SYS(getegid),
	SCMP_SYS(uname),
	SCMP_SYS(sysinfo),
	/* the event loop */
	SCMP_SYS(epoll_create1),
	SCMP_SYS(epoll_ctl),
	SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait),
	SCMP_SYS(poll),
	SCMP_SYS(ppoll),
	SCMP_SYS(eventfd2),
	/* sockets: IPC, control clients, portal, DNS */
	SCMP_SYS(connect),
	SCMP_SYS(accept4),
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
	SCMP_SYS(bind),
	/* the end */
	SCMP_SYS(exit),
	SCMP_SYS(exit_group),
};

void
sandbox_enter(void)
{
	static const unsigned long ioctls[] = { FIONREAD, FIONBIO, TCGETS };
	struct scmp_arg_cmp	 a, nl[2];
	scmp_filter_ctx		 ctx;
	size_t			 i;

	ctx = sysfilter_new();
	sysfilter_allow(ctx, allowed, sizeof(allowed) / sizeof(allowed[0]));
	/* Only sockets of the families controld speaks. */
	a = SCMP_A0(SCMP_CMP_EQ, AF_UNIX);
	sysfilter_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, &a);
	a = SCMP_A0(SCMP_CMP_EQ, AF_INET);
	sysfilter_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, &a);
	a = SCMP_A0(SCMP_CMP_EQ, AF_INET6);
	sysfilter_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, &a);
	/* getaddrinfo's AI_ADDRCONFIG asks the routing table, nothing else. */
	nl[0] = SCMP_A0(SCMP_CMP_EQ, AF_NETLINK);
	nl[1] = SCMP_A2(SCMP_CMP_EQ, NETLINK_ROUTE);
	sysfilter_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2, nl);
	/* The ioctls libcurl, OpenSSL and stdio make; no device's. */
	for (i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]); i++) {
		a = SCMP_A1(SCMP_CMP_EQ, ioctls[i]);
		sysfilter_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, &a);
	}
	sysfilter_threads(ctx);
	sysfilter_load(ctx);
}

/* What a path may be read as: a directory's tree, or the file alone. */
static int
landlock_allow(int ruleset, const char *path)
{
	struct landlock_path_beneath_attr	 pb;
	struct stat				 st;
	int					 fd, rc;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) == -1)
		return (errno == ENOENT ? 0 : -1);
	memset(&pb, 0, sizeof(pb));
	pb.parent_fd = fd;
	pb.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		pb.allowed_access |= LANDLOCK_ACCESS_FS_READ_DIR;
	rc = (int)syscall(SYS_landlock_add_rule, ruleset,
	    LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	close(fd);
	return (rc);
}

/*
 * Files: controld reads what name resolution, TLS and the User-Agent need
 * (/etc, /usr, the resolver's file wherever /etc/resolv.conf points, the
 * CA file's directory) and nothing else, and writes, creates, removes or
 * executes nothing (its log and sockets are descriptors it already has).
 * Once: Landlock only ever narrows. Without Landlock, says so.
 */
void
sandbox_files(const char *ca_file)
{
	static bool			 done;
	struct landlock_ruleset_attr	 ra;
	char				 buf[PATH_MAX], dir[PATH_MAX];
	const char			*paths[] = {
		"/etc", "/usr", "/lib", "/lib64", "/proc/sys/crypto",
		"/sys/devices/system/cpu", "/dev/null", "/dev/urandom",
#ifdef FZC_SANITIZERS
		"/proc",	/* LeakSanitizer reads the maps at exit */
#endif
	};
	size_t				 i;
	int				 abi, rs;

	if (done)
		return;
	done = true;
	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1) {
		log_info("files: no Landlock in this kernel, not narrowed");
		return;
	}
	memset(&ra, 0, sizeof(ra));
	ra.handled_access_fs = LANDLOCK_ACCESS_FS_EXECUTE |
	    LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR |
	    LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
	    LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
	    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
	    LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;
	if (abi >= 2)
		ra.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	rs = (int)syscall(SYS_landlock_create_ruleset, &ra, sizeof(ra), 0);
	if (rs == -1)
		fatal("landlock_create_ruleset");
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (landlock_allow(rs, paths[i]) == -1)
			fatal("landlock: %s", paths[i]);
	/* systemd-resolved's resolv.conf lives in /run; it is replaced. */
	if (realpath("/etc/resolv.conf", buf) != NULL &&
	    landlock_allow(rs, dirname(buf)) == -1)
		fatal("landlock: the directory of /etc/resolv.conf");
	if (ca_file != NULL && ca_file[0] != '\0') {
		if ((size_t)snprintf(dir, sizeof(dir), "%s", ca_file) >=
			sizeof(dir) ||
		    landlock_allow(rs, dirname(dir)) == -1)
			fatal("landlock: the directory of %s", ca_file);
	}
	if (syscall(SYS_landlock_restrict_self, rs, 0) == -1)
		fatal("landlock_restrict_self");
	close(rs);
	log_info(
	    "files: narrowed by Landlock (ABI %d): read-only /etc, /usr%s%s",
	    abi,
	    ca_file != NULL && ca_file[0] != '\0' ? ", the directory of " : "",
	    ca_file != NULL ? ca_file : "");
}
