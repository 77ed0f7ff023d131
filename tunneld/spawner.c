/*
 * spawner.c: the small process that alone starts fzc-controld. Forked
 * from fzc-tunneld as root before the rest narrows, it keeps only SETUID,
 * SETGID, SETPCAP (to drop each controld to its user with an empty
 * bounding set) and KILL (to signal it), and does nothing but this, on
 * request of the data-plane process over a SOCK_SEQPACKET pair:
 *
 *	SPAWN, with the channel's end as SCM_RIGHTS: start a controld,
 *	    answered SPAWNED with its pid or FAILED with an errno;
 *	SIGNAL, SIGTERM or SIGKILL: to the controld it started last,
 *	    answered DONE or FAILED;
 *	TUN: a new open file of /dev/net/tun, for a TUN queue, where the
 *	    node is root's alone (0600, as without udev), answered DONE
 *	    with it or FAILED.
 *
 * Each controld is cloned with CLONE_PARENT: it is the data plane's child,
 * which sees it exit and reaps it; the spawner holds a pidfd, so that a
 * signal can never reach a process that took the pid over. One controld
 * at a time. When the data plane closes its end, or dies, the spawner
 * stops controld, removes the control socket and exits.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <linux/capability.h>
#include <linux/sched.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "ipc/ipc.h"
#include "tunneld/privdrop.h"
#include "tunneld/spawner.h"

#define SPAWNER_STOP_GRACE_MS	3000

enum spawner_op {
	SPAWNER_SPAWN = 1,
	SPAWNER_SIGNAL,
	SPAWNER_TUN,
	SPAWNER_SPAWNED,
	SPAWNER_DONE,
	SPAWNER_FAILED,
};

struct spawner_msg {
	uint32_t	 op;
	int32_t		 arg;
};

/*
 * What controld keeps of tunneld's environment: fzc's own switches and the
 * sanitizers' options. No proxy, no certificate override (curl and
 * OpenSSL read both from the environment), no locale.
 */
static bool
spawner_env_kept(const char *e)
{
	static const char *const keep[] = {
		"FZC_",
		"ASAN_OPTIONS=",
		"UBSAN_OPTIONS=",
		"LSAN_OPTIONS=",
	};
	size_t		 i;

	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (strncmp(e, keep[i], strlen(keep[i])) == 0)
			return (true);
	return (false);
}

/*
 * In the cloned child: default signals, a session of its own (no
 * terminal's signals), stdin from /dev/null, the unprivileged user, a
 * minimal environment, then controld.
 */
static __dead void
spawner_exec(const struct spawner_conf *c, int fd)
{
	extern char	**environ;
	const char	*why;
	char		*argv[10], *envp[16];
	size_t		 n = 0;
	int		 i = 0, ipc, ctl, null;

	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if (setsid() == -1)
		fatal("setsid");
	if ((null = open("/dev/null", O_RDONLY)) == -1 ||
	    dup2(null, STDIN_FILENO) == -1)
		fatal("stdin from /dev/null");
	if (null != STDIN_FILENO)
		close(null);
	/* Either may sit on the other's number: both go high first. */
	ipc = fcntl(fd, F_DUPFD_CLOEXEC, IPC_CONTROL_FD + 1);
	ctl = fcntl(c->control_fd, F_DUPFD_CLOEXEC, IPC_CONTROL_FD + 1);
	if (ipc == -1 || ctl == -1 || dup2(ipc, IPC_CHANNEL_FD) == -1 ||
	    dup2(ctl, IPC_CONTROL_FD) == -1)
		fatal("passing the channel and the control socket");
	closefrom(IPC_CONTROL_FD + 1);
	if (privdrop_to_user(c->uid, c->gid, 0, &why) == -1)
		fatal("dropping privileges to %s: %s", c->user, why);

	argv[i++] = (char *)c->controld_path;
	argv[i++] = "--control-socket";
	argv[i++] = (char *)c->control_socket;
	argv[i++] = "--log-level";
	argv[i++] = (char *)log_level_name(c->log_level);
	if (c->max_partition[0] != '\0') {
		argv[i++] = "--max-partition-time";
		argv[i++] = (char *)c->max_partition;
	}
	argv[i] = NULL;
	for (i = 0;
	     environ[i] != NULL && n < sizeof(envp) / sizeof(envp[0]) - 1; i++)
		if (spawner_env_kept(environ[i]))
			envp[n++] = environ[i];
	envp[n] = NULL;
	execve(c->controld_path, argv, envp);
	fatal("exec %s", c->controld_path);
}

static bool
spawner_alive(int pidfd)
{
	struct pollfd	 pfd = { .fd = pidfd, .events = POLLIN };

	/* A pidfd turns readable when its process exits. */
	return (pidfd != -1 && poll(&pfd, 1, 0) == 0);
}

/*
 * A fork whose child is our parent's (CLONE_PARENT), with a pidfd for it
 * (CLONE_PIDFD; the raw clone takes the pidfd's address where the parent
 * tid would go). The spawner has no threads: a raw clone is as safe here
 * as fork.
 */
static pid_t
spawner_clone(int *pidfd)
{
	return ((pid_t)syscall(SYS_clone, CLONE_PARENT | CLONE_PIDFD | SIGCHLD,
	    NULL, pidfd, NULL, NULL));
}

static int
spawner_is_channel(int fd)
{
	int		 v;
	socklen_t	 len = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) == -1 ||
	    v != AF_UNIX)
		return (0);
	len = sizeof(v);
	return (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) == 0 &&
	    v == SOCK_SEQPACKET);
}

/* One request in, at most one descriptor with it. 0: EOF, -1: error. */
static ssize_t
spawner_recv(int s, struct spawner_msg *m, int *fd)
{
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int))];
	} cbuf;
	struct msghdr	 mh;
	struct iovec	 iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct cmsghdr	*cm;
	ssize_t		 n;

	*fd = -1;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.buf;
	mh.msg_controllen = sizeof(cbuf.buf);
	do
		n = recvmsg(s, &mh, MSG_CMSG_CLOEXEC);
	while (n == -1 && errno == EINTR);
	if (n <= 0)
		return (n);
	cm = CMSG_FIRSTHDR(&mh);
	if (cm != NULL && cm->cmsg_level == SOL_SOCKET &&
	    cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(fd, CMSG_DATA(cm), sizeof(int));
	if (n != sizeof(*m) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		if (*fd != -1)
			close(*fd);
		*fd = -1;
		errno = EBADMSG;
		return (-1);
	}
	return (n);
}

static int
spawner_send(int s, uint32_t op, int32_t arg, int fd)
{
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int))];
	} cbuf;
	struct spawner_msg	 m = { .op = op, .arg = arg };
	struct msghdr		 mh;
	struct iovec		 iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct cmsghdr		*cm;
	ssize_t			 n;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd != -1) {
		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = sizeof(cbuf.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	do
		n = sendmsg(s, &mh, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	return (n == sizeof(m) ? 0 : -1);
}

static void
spawner_kill(int pidfd, int sig)
{
	if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) == -1 &&
	    errno != ESRCH)
		log_warn("signalling controld");
}

static ssize_t
spawner_tun(int s)
{
	int	 tun, rc;

	if ((tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK)) == -1)
		return (spawner_send(s, SPAWNER_FAILED, errno, -1));
	rc = spawner_send(s, SPAWNER_DONE, 0, tun);
	close(tun);
	return (rc);
}

/* The data plane is gone: controld goes too, then the socket. */
static __dead void
spawner_stop(const struct spawner_conf *c, int pidfd)
{
	struct pollfd	 pfd = { .fd = pidfd, .events = POLLIN };

	if (spawner_alive(pidfd)) {
		spawner_kill(pidfd, SIGTERM);
		if (poll(&pfd, 1, SPAWNER_STOP_GRACE_MS) == 0)
			spawner_kill(pidfd, SIGKILL);
	}
	if (unlink(c->control_socket) == -1)
		log_warn("removing %s", c->control_socket);
	exit(0);
}

static __dead void
spawner_loop(const struct spawner_conf *c, int s)
{
	struct spawner_msg	 m;
	pid_t			 pid;
	ssize_t			 n;
	int			 fd, pidfd = -1;

	for (;;) {
		if ((n = spawner_recv(s, &m, &fd)) <= 0) {
			if (n == -1 && errno != ECONNRESET)
				log_warn("spawner: reading a request");
			spawner_stop(c, pidfd);
		}
		switch (m.op) {
		case SPAWNER_SPAWN:
			if (fd == -1 || !spawner_is_channel(fd)) {
				n = spawner_send(s, SPAWNER_FAILED, EINVAL, -1);
				break;
			}
			if (spawner_alive(pidfd)) {
				n = spawner_send(s, SPAWNER_FAILED, EBUSY, -1);
				break;
			}
			if (pidfd != -1)
				close(pidfd);
			pidfd = -1;
			if ((pid = spawner_clone(&pidfd)) == 0) {
				close(s);
				spawner_exec(c, fd);
			}
			n = pid == -1 ?
			    spawner_send(s, SPAWNER_FAILED, errno, -1) :
			    spawner_send(s, SPAWNER_SPAWNED, pid, -1);
			break;
		case SPAWNER_SIGNAL:
			if (m.arg != SIGTERM && m.arg != SIGKILL) {
				n = spawner_send(s, SPAWNER_FAILED, EINVAL, -1);
				break;
			}
			if (pidfd == -1) {
				n = spawner_send(s, SPAWNER_FAILED, ESRCH, -1);
				break;
			}
			spawner_kill(pidfd, m.arg);
			n = spawner_send(s, SPAWNER_DONE, 0, -1);
			break;
		case SPAWNER_TUN:
			n = spawner_tun(s);
			break;
		default:
			n = spawner_send(s, SPAWNER_FAILED, EINVAL, -1);
		}
		if (fd != -1)
			close(fd);
		if (n == -1)
			spawner_stop(c, pidfd);
	}
}

/* The data plane's end of the pair. */
static int	spawner_fd = -1;
static pid_t	spawner_pid = -1;

/*
 * Forks the spawner. It ignores the terminal's and the service manager's
 * signals: it ends when the data plane does (spawner_end).
 */
pid_t
spawner_start(const struct spawner_conf *c)
{
	const char	*why;
	char		*token;
	uint64_t	 keep;
	int		 sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		fatal("socketpair");
	if ((spawner_pid = fork()) == -1)
		fatal("fork");
	if (spawner_pid != 0) {
		close(sv[1]);
		spawner_fd = sv[0];
		return (spawner_pid);
	}
	close(sv[0]);
	/* The data plane keeps the token; the spawner has no use for it. */
	if ((token = getenv("FIREZONE_TOKEN")) != NULL) {
		explicit_bzero(token, strlen(token));
		unsetenv("FIREZONE_TOKEN");
	}
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	keep = PRIVDROP_CAP(CAP_SETUID) | PRIVDROP_CAP(CAP_SETGID) |
	    PRIVDROP_CAP(CAP_SETPCAP) | PRIVDROP_CAP(CAP_KILL);
	if (privdrop_narrow(keep, &why) == -1)
		fatal("spawner: %s", why);
	spawner_loop(c, sv[1]);
}

/*
 * Closes our end and waits: the spawner removes the control socket. Once
 * only; also at exit, so that a fatal error leaves no controld behind
 * for the next start to find on the socket.
 */
void
spawner_end(void)
{
	if (spawner_fd == -1)
		return;
	close(spawner_fd);
	spawner_fd = -1;
	while (waitpid(spawner_pid, NULL, 0) == -1 && errno == EINTR)
		;
}

/* The data plane's side: one request, one answer, maybe a descriptor. */
static int
spawner_call(uint32_t op, int32_t arg, int fd, int32_t *answer, int *got)
{
	struct spawner_msg	 m;
	ssize_t			 n;
	int			 rfd;

	if (spawner_send(spawner_fd, op, arg, fd) == -1)
		fatalx("the spawner is gone");
	if ((n = spawner_recv(spawner_fd, &m, &rfd)) <= 0)
		fatalx("the spawner is gone");
	if (got != NULL)
		*got = rfd;
	else if (rfd != -1)
		close(rfd);
	if (m.op == SPAWNER_FAILED) {
		if (got != NULL && rfd != -1)
			close(rfd);
		errno = m.arg;
		return (-1);
	}
	*answer = m.arg;
	return (0);
}

/* Starts a controld on the channel's end fd; its pid, or -1 and errno. */
pid_t
spawner_spawn(int fd)
{
	int32_t	 pid;

	if (spawner_call(SPAWNER_SPAWN, 0, fd, &pid, NULL) == -1)
		return (-1);
	return ((pid_t)pid);
}

int
spawner_signal(int sig)
{
	int32_t	 unused;

	return (spawner_call(SPAWNER_SIGNAL, sig, -1, &unused, NULL));
}

/* /dev/net/tun opened by the spawner, or -1 and errno. */
int
spawner_open_tun(void)
{
	int32_t	 unused;
	int	 fd;

	if (spawner_call(SPAWNER_TUN, 0, -1, &unused, &fd) == -1)
		return (-1);
	if (fd == -1)
		errno = EPROTO;
	return (fd);
}
