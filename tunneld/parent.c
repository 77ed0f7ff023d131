/*
 * parent.c: fzc-tunneld's main process, the data plane's. It has the
 * spawner (spawner.c) start fzc-controld as the unprivileged user over a
 * SOCK_SEQPACKET channel, is controld's parent (it sees it exit and has it
 * restarted), answers its requests (protected sockets) and has it stopped
 * on SIGTERM.
 */
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <linux/capability.h>

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "common/log.h"
#include "common/timer.h"
#include "common/util.h"
#include "ipc/ipc.h"
#include "tunneld/confine.h"
#include "tunneld/privdrop.h"
#include "tunneld/sysdns.h"
#include "tunneld/protsock.h"
#include "tunneld/role.h"
#include "tunneld/spawner.h"

#define BACKOFF_MIN_MS		250
#define BACKOFF_MAX_MS		30000
/* A controld that lived this long is healthy: the backoff starts over. */
#define BACKOFF_RESET_S		30
#define STOP_GRACE_S		3
#define PARENT_MAX_PARTITION_S	(3650ULL * 86400)

struct parent {
	struct event_base	*base;
	struct event		*ev_sigterm;
	struct event		*ev_sigint;
	struct event		*ev_sighup;
	struct event		*ev_sigchld;
	struct event		*ev_ipc;
	struct event		*ev_respawn;
	struct event		*ev_kill;

	const char		*user;
	uid_t			 uid;
	gid_t			 gid;
	const char		*tunnel_user;
	uid_t			 tunnel_uid;
	gid_t			 tunnel_gid;
	const char		*controld_path;
	const char		*control_socket;
	enum log_level		 log_level;
	char			 max_partition[24];	/* seconds, "": none */

	uint64_t		 started;
	uint64_t		 controld_started_ns;
	pid_t			 controld_pid;
	int			 ipc_fd;
	int			 control_fd;
	pid_t			 spawner_pid;
	struct ipc_chan		 chan;
	struct event		*ev_ipc_write;
	int			 controld_hello;
	uint32_t		 restarts;
	int			 backoff_ms;
	int			 ready_notified;
	int			 stopping;

	struct role_options	 opt;
	struct role		*role;
};

static void	parent_spawn(struct parent *);
static void	parent_close_channel(struct parent *);

/* controld is another user's: only the spawner may signal it. */
static void
parent_signal_controld(int sig)
{
	if (spawner_signal(sig) == -1 && errno != ESRCH)
		log_warn("asking the spawner to signal controld");
}

static __dead void	usage(FILE *, int);

static void
parent_dns_mode(const char *s, const char *what, enum sysdns_mode *mode)
{
	if (sysdns_parse_mode(s, mode) == -1) {
		fprintf(stderr,
		    "fzc-tunneld: %s %s: use systemd-resolved, "
		    "etc-resolv-conf or disabled\n",
		    what, s);
		usage(stderr, 2);
	}
}

/*
 * The mode asked for must work; the default falls back to leaving the
 * system's resolver alone, and says so.
 */
static struct sysdns *
parent_sysdns(enum sysdns_mode mode, const char *state_dir)
{
	struct sysdns	*s;
	const char	*why;

	s = sysdns_open(mode, SYSDNS_RESOLV_CONF_PATH, state_dir, &why);
	if (s == NULL) {
		if (mode != SYSDNS_DEFAULT)
			fatal("dns: %s", why);
		log_warn("dns: %s; leaving the system's resolver alone", why);
		s = sysdns_open(SYSDNS_DISABLED, SYSDNS_RESOLV_CONF_PATH,
		    state_dir, &why);
	}
	log_info("dns: system DNS control: %s",
	    sysdns_mode_name(sysdns_mode(s)));
	return (s);
}

static __dead void
usage(FILE *f, int status)
{
	fprintf(f,
	    "usage: fzc-tunneld [--user NAME] [--tunnel-user NAME] "
	    "[--controld PATH]\n"
	    "                   [--control-socket PATH]\n"
	    "                   [--log-level error|warning|info|debug]\n"
	    "                   [--api-url URL] [--ca-file FILE] "
	    "[--token-file FILE]\n"
	    "                   [--state-dir DIR] [--name NAME] "
	    "[--role client|gateway]\n"
	    "                   [--max-partition-time DURATION]\n"
	    "                   [--dns-control systemd-resolved|etc-resolv-conf|"
	    "disabled]\n"
	    "                   [--wireguard FILE [--interface NAME] "
	    "[--threads N] [--mtu MTU]]\n"
	    "       fzc-tunneld --help | --version\n");
	exit(status);
}

/*
 * A duration as Firezone's --max-partition-time takes it (humantime):
 * "30d", "5m", "1h30m", "90s" or plain seconds, up to ten years. 0 is
 * refused: it would mean giving up at the first failure.
 */
static int
parent_duration(const char *s, uint64_t *secs)
{
	static const struct {
		char		 unit;
		uint64_t	 secs;
	} units[] = {
		{ 's', 1 },
		{ 'm', 60 },
		{ 'h', 3600 },
		{ 'd', 86400 },
		{ 'w', 7 * 86400 },
	};
	uint64_t	 total = 0, n, mult;
	size_t		 i;

	if (*s == '\0')
		return (-1);
	while (*s != '\0') {
		if (*s < '0' || *s > '9')
			return (-1);
		for (n = 0; *s >= '0' && *s <= '9'; s++) {
			n = n * 10 + (uint64_t)(*s - '0');
			if (n > PARENT_MAX_PARTITION_S)
				return (-1);
		}
		mult = 0;
		if (*s == '\0')
			mult = 1;
		for (i = 0; mult == 0 && i < sizeof(units) / sizeof(units[0]);
		    i++)
			if (*s == units[i].unit) {
				mult = units[i].secs;
				s++;
			}
		if (mult == 0)
			return (-1);
		total += n * mult;
		if (total > PARENT_MAX_PARTITION_S)
			return (-1);
	}
	if (total == 0)
		return (-1);
	*secs = total;
	return (0);
}

static void
parent_max_partition(struct parent *p, const char *v, const char *from)
{
	uint64_t	 secs;

	if (parent_duration(v, &secs) == -1)
		fatalx("%s '%s': not a duration like 90s, 5m, 12h or 30d "
		    "(at most 3650d)",
		    from, v);
	snprintf(p->max_partition, sizeof(p->max_partition), "%llu",
	    (unsigned long long)secs);
}

static void
parent_send_hello(struct parent *p)
{
	struct ipc_hello	 hello;

	memset(&hello, 0, sizeof(hello));
	hello.pid = (uint32_t)getpid();
	hello.restarts = p->restarts;
	hello.started = p->started;
	if (ipc_chan_send(&p->chan, IPC_HELLO, 0, &hello, sizeof(hello),
	    -1) == -1)
		log_warn("sending hello to controld");
}

/* Malformed input from controld means it is compromised: replace it. */
static void
parent_reject(struct parent *p, const struct ipc_msg *msg, const char *why)
{
	log_warnx("controld sent a malformed %s message: %s; restarting it",
	    ipc_type_name(msg->hdr.type), why);
	parent_close_channel(p);
	if (p->controld_pid > 0)
		parent_signal_controld(SIGKILL);
}

static void
parent_socket_request(struct parent *p, const struct ipc_msg *msg)
{
	const struct ipc_socket_request	*req = &msg->u.socket_request;
	struct ipc_socket		 ans;
	struct ipc_socket_failed	 fail;
	int				 fd;

	if ((fd = protsock_open(req->family, req->type)) == -1) {
		log_warn("protected socket (family %d, type %d)",
		    req->family, req->type);
		fail.error = errno;
		if (ipc_chan_send(&p->chan, IPC_SOCKET_FAILED, msg->hdr.id,
		    &fail,
		    sizeof(fail), -1) == -1)
			log_warn("answering controld");
		return;
	}
	memset(&ans, 0, sizeof(ans));
	ans.family = req->family;
	ans.type = req->type;
	ans.mark = FZC_FWMARK;
	if (ipc_chan_send(&p->chan, IPC_SOCKET, msg->hdr.id, &ans, sizeof(ans),
	    fd) == -1)
		log_warn("passing a protected socket to controld");
	/* Our copy goes either way: on success controld owns the socket. */
	close(fd);
	log_debug("passed a protected socket (family %d, type %d, id %u)",
	    req->family, req->type, msg->hdr.id);
}

static void
parent_dispatch_controld(evutil_socket_t fd, short events, void *arg)
{
	struct parent		*p = arg;
	struct ipc_msg		 msg;
	const char		*why;
	enum ipc_recv_result	 r;
	int			 rc;

	(void)fd;
	(void)events;
	while (p->ipc_fd != -1) {
		r = ipc_recv(p->ipc_fd, IPC_PEER_TUNNELD, &msg, &why);
		if (r == IPC_RECV_ERROR) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			/* A controld that exited with our hello unread. */
			if (errno != ECONNRESET)
				log_warn("reading from controld");
			parent_close_channel(p);
			return;
		}
		if (r == IPC_RECV_EOF) {
			log_debug("controld closed the channel");
			parent_close_channel(p);
			return;
		}
		if (r == IPC_RECV_MALFORMED) {
			parent_reject(p, &msg, why);
			return;
		}
		if (!p->controld_hello && msg.hdr.type != IPC_HELLO) {
			parent_reject(p, &msg, "first message is not hello");
			return;
		}
		switch (msg.hdr.type) {
		case IPC_HELLO:
			if (p->controld_hello ||
			    msg.u.hello.pid != (uint32_t)p->controld_pid) {
				parent_reject(p, &msg,
				    "repeated hello or wrong pid");
				return;
			}
			p->controld_hello = 1;
			log_info("controld (pid %d) is up", (int)p->controld_pid);
			if (role_configure(p->role, &p->chan) == -1)
				log_warn("configuring controld");
			if (!role_ready(p->role))
				break;
			if (!p->ready_notified) {
				sd_notifyf(0, "READY=1\nSTATUS=running, "
				    "controld pid %d", (int)p->controld_pid);
				p->ready_notified = 1;
			} else
				sd_notifyf(0, "STATUS=running, controld pid %d "
				    "(restarted %u times)",
				    (int)p->controld_pid, p->restarts);
			break;
		case IPC_SOCKET_REQUEST:
			parent_socket_request(p, &msg);
			break;
		case IPC_STATS_REQUEST:
			log_debug("controld asked for the counters");
			if (role_send_stats(p->role, &p->chan,
			    msg.hdr.id) == -1)
				log_warn("sending counters to controld");
			break;
		default:
			/* ipc_decode lets through only controld's types. */
			rc = role_dispatch(p->role, &p->chan, &msg, &why);
			explicit_bzero(&msg.u, sizeof(msg.u));
			if (rc == -1) {
				parent_reject(p, &msg, why);
				return;
			}
			/* WireGuard mode's tunnel came up with this message. */
			if (role_ready(p->role) && !p->ready_notified) {
				sd_notifyf(0, "READY=1\nSTATUS=tunnel up");
				p->ready_notified = 1;
			}
		}
	}
}

static void
parent_close_channel(struct parent *p)
{
	if (p->ev_ipc != NULL) {
		event_free(p->ev_ipc);
		p->ev_ipc = NULL;
	}
	if (p->ev_ipc_write != NULL) {
		event_free(p->ev_ipc_write);
		p->ev_ipc_write = NULL;
	}
	ipc_chan_clear(&p->chan);
	if (p->ipc_fd != -1) {
		close(p->ipc_fd);
		p->ipc_fd = -1;
	}
}

static void
parent_want_write(void *arg)
{
	struct parent	*p = arg;

	if (event_add(p->ev_ipc_write, NULL) == -1)
		fatalx("event_add ipc write");
}

/* A controld that stops reading for good is broken: replace it. */
static void
parent_write_controld(evutil_socket_t fd, short events, void *arg)
{
	struct parent	*p = arg;
	int		 rc;

	(void)fd;
	(void)events;
	if ((rc = ipc_chan_flush(&p->chan)) == 1)
		parent_want_write(p);
	else if (rc == -1) {
		log_warn("writing to controld");
		parent_close_channel(p);
		if (p->controld_pid > 0)
			parent_signal_controld(SIGKILL);
	}
}

static void
parent_spawn(struct parent *p)
{
	int	 sv[2];
	pid_t	 pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		fatal("socketpair");
	if ((pid = spawner_spawn(sv[1])) == -1)
		fatal("starting controld");
	close(sv[1]);
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1)
		fatal("fcntl");
	p->controld_pid = pid;
	p->controld_hello = 0;
	p->controld_started_ns = util_now_ns();
	p->ipc_fd = sv[0];
	p->ev_ipc = event_new(p->base, sv[0], EV_READ | EV_PERSIST,
	    parent_dispatch_controld, p);
	p->ev_ipc_write = event_new(p->base, sv[0], EV_WRITE,
	    parent_write_controld, p);
	if (p->ev_ipc == NULL || p->ev_ipc_write == NULL ||
	    event_add(p->ev_ipc, NULL) == -1)
		fatalx("event_add ipc");
	ipc_chan_init(&p->chan, sv[0], parent_want_write, p);
	parent_send_hello(p);
	log_debug("started controld, pid %d", (int)pid);
}

static void
parent_respawn_cb(evutil_socket_t fd, short events, void *arg)
{
	struct parent	*p = arg;

	(void)fd;
	(void)events;
	if (!p->stopping)
		parent_spawn(p);
}

static void
parent_controld_exited(struct parent *p, int status)
{
	struct timeval	 tv;
	uint64_t	 lived_s;

	if (WIFEXITED(status))
		log_info("controld (pid %d) exited with status %d",
		    (int)p->controld_pid, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_info("controld (pid %d) killed by signal %d",
		    (int)p->controld_pid, WTERMSIG(status));
	p->controld_pid = -1;
	parent_close_channel(p);
	/* Only WireGuard mode waits for controld, to parse its file. */
	if (!role_ready(p->role) && !p->stopping)
		fatalx("controld died before %s was configured",
		    p->opt.wg_file);
	if (p->stopping) {
		event_base_loopexit(p->base, NULL);
		return;
	}
	lived_s = (util_now_ns() - p->controld_started_ns) / NSEC_PER_SEC;
	if (lived_s >= BACKOFF_RESET_S)
		p->backoff_ms = BACKOFF_MIN_MS;
	tv.tv_sec = p->backoff_ms / 1000;
	tv.tv_usec = (p->backoff_ms % 1000) * 1000;
	log_info("restarting controld in %d ms", p->backoff_ms);
	p->backoff_ms *= 2;
	if (p->backoff_ms > BACKOFF_MAX_MS)
		p->backoff_ms = BACKOFF_MAX_MS;
	p->restarts++;
	sd_notifyf(0, "STATUS=controld died, restarting (%u restarts)",
	    p->restarts);
	event_add(p->ev_respawn, &tv);
}

static void
parent_sigchld(evutil_socket_t sig, short events, void *arg)
{
	struct parent	*p = arg;
	pid_t		 pid;
	int		 status;

	(void)sig;
	(void)events;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == p->controld_pid)
			parent_controld_exited(p, status);
		else if (pid == p->spawner_pid)
			fatalx("the spawner of controld exited");
	}
}

static void
parent_kill_cb(evutil_socket_t fd, short events, void *arg)
{
	struct parent	*p = arg;

	(void)fd;
	(void)events;
	if (p->controld_pid > 0) {
		log_warnx("controld did not stop in %d s, killing it",
		    STOP_GRACE_S);
		parent_signal_controld(SIGKILL);
	}
}

static void
parent_sigterm(evutil_socket_t sig, short events, void *arg)
{
	struct parent	*p = arg;
	struct timeval	 tv = { STOP_GRACE_S, 0 };

	(void)events;
	if (p->stopping)
		return;
	log_info("signal %d: stopping", (int)sig);
	p->stopping = 1;
	sd_notify(0, "STOPPING=1");
	event_del(p->ev_respawn);
	if (p->controld_pid <= 0) {
		event_base_loopexit(p->base, NULL);
		return;
	}
	parent_signal_controld(SIGTERM);
	event_add(p->ev_kill, &tv);
}

/* SIGHUP: a reset, as Firezone's headless client does on it. */
static void
parent_sighup(evutil_socket_t sig, short events, void *arg)
{
	struct parent	*p = arg;

	(void)sig;
	(void)events;
	log_info("SIGHUP: resetting the connections to the network");
	role_network_reset(p->role, IPC_NET_SIGNAL);
}

/*
 * The control socket is bound here, as root, and handed to every controld
 * on IPC_CONTROL_FD: so it may live in any directory root can write, and
 * it stays put while controld restarts. Root owns it; group fzc may use
 * it (controld checks each peer again). A missing directory (outside
 * systemd's RuntimeDirectory=) is made, one level.
 */
static void
parent_bind_control(struct parent *p)
{
	struct sockaddr_un	 sun;
	char			*copy;
	mode_t			 old;
	int			 probe;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(p->control_socket) >= sizeof(sun.sun_path))
		fatalx("control socket path too long: %s", p->control_socket);
	strncpy(sun.sun_path, p->control_socket, sizeof(sun.sun_path) - 1);
	copy = xstrdup(p->control_socket);
	/* Open to all, as RuntimeDirectoryMode=: the socket's mode decides. */
	old = umask(022);
	if (mkdir(dirname(copy), 0755) == -1 && errno != EEXIST)
		fatal("creating %s", copy);
	umask(old);
	free(copy);
	/* A socket file nobody answers on is stale; a live one is not ours. */
	if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	if (connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		fatalx("another fzc is already listening on %s",
		    p->control_socket);
	close(probe);
	if (unlink(p->control_socket) == -1 && errno != ENOENT)
		fatal("removing stale %s", p->control_socket);
	if ((p->control_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
	    0)) == -1)
		fatal("socket");
	/* Born 0660 and group fzc: nothing to change by path afterwards. */
	old = umask(0117);
	if (setegid(p->gid) == -1)
		fatal("setegid");
	if (bind(p->control_fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s", p->control_socket);
	if (setegid(0) == -1)
		fatal("setegid");
	umask(old);
	if (listen(p->control_fd, 16) == -1)
		fatal("listen %s", p->control_socket);
}

/*
 * The data plane writes its state as its own user. A missing state
 * directory is made here, 0770, and given to that user (the one chown of
 * tunneld, on a directory it has just made: run by hand as root). One
 * that exists keeps its owner: the packages' tmpfiles.d gives it, and the
 * units hold no CAP_CHOWN.
 */
static void
parent_state_dir(struct parent *p)
{
	if (mkdir(p->opt.state_dir, 0770) == -1) {
		if (errno != EEXIST)
			fatal("creating %s", p->opt.state_dir);
		return;
	}
	if (lchown(p->opt.state_dir, p->tunnel_uid, p->tunnel_gid) == -1)
		fatal("giving %s to %s", p->opt.state_dir, p->tunnel_user);
}

/* Said at start, not at the first sign-in: the files must be ours. */
static void
parent_check_files(struct parent *p)
{
	char	*copy;

	if (p->opt.wg_file != NULL)
		return;
	if (access(p->opt.state_dir, R_OK | W_OK | X_OK) == -1)
		fatal("state directory %s: not writable by user %s (chown "
		    "it to %s)",
		    p->opt.state_dir, p->tunnel_user, p->tunnel_user);
	copy = xstrdup(p->opt.token_file);
	if (access(dirname(copy), W_OK | X_OK) == -1)
		log_warn("%s: not writable by user %s: fzc sign-in cannot "
		    "store a token (chown it to %s)",
		    copy, p->tunnel_user, p->tunnel_user);
	free(copy);
	if (access(p->opt.token_file, R_OK) == -1 && errno != ENOENT)
		log_warn("token %s: not readable by user %s (chown it to %s)",
		    p->opt.token_file, p->tunnel_user, p->tunnel_user);
}

/*
 * The resolver's file is opened as root, and the copy of it a run that
 * died left in the state directory is put back then too. That directory
 * is the data plane's, and the unit gives root no CAP_DAC_OVERRIDE: root
 * gets at it through the data plane's group (its alone: the directory is
 * 0770, its files 0640), /etc/resolv.conf still as root.
 */
static struct sysdns *
parent_sysdns_root(struct parent *p, enum sysdns_mode mode)
{
	struct sysdns	*s;

	setfsgid(p->tunnel_gid);
	s = parent_sysdns(mode, p->opt.state_dir);
	setfsgid(0);
	return (s);
}

/*
 * Forked while root and alone (no threads, no event loop yet): the
 * spawner takes the control socket along for every controld; this
 * process needs it no more.
 */
static void
parent_start_spawner(struct parent *p)
{
	struct spawner_conf	 c;

	memset(&c, 0, sizeof(c));
	c.user = p->user;
	c.uid = p->uid;
	c.gid = p->gid;
	c.controld_path = p->controld_path;
	c.control_socket = p->control_socket;
	c.control_fd = p->control_fd;
	c.log_level = p->log_level;
	c.max_partition = p->max_partition;
	p->spawner_pid = spawner_start(&c);
	if (atexit(spawner_end) != 0)
		fatalx("atexit");
	close(p->control_fd);
	p->control_fd = -1;
}

/*
 * systemd's LoadCredential=token:FILE: the token, read like FIREZONE_TOKEN
 * (which the role takes out of the environment before controld starts,
 * and which a sign-in or sign-out replaces). The environment wins.
 */
static void
parent_credential_token(void)
{
	char		 path[PATH_MAX], buf[IPC_TOKEN_MAX + 2];
	const char	*dir;
	ssize_t		 n;
	int		 fd;

	if ((dir = getenv("CREDENTIALS_DIRECTORY")) == NULL ||
	    getenv("FIREZONE_TOKEN") != NULL)
		return;
	if ((size_t)snprintf(path, sizeof(path), "%s/token", dir) >=
	    sizeof(path))
		return;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno != ENOENT)
			log_warn("credential %s", path);
		return;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > IPC_TOKEN_MAX)
		log_warnx("credential %s: longer than %d bytes, ignored", path,
		    IPC_TOKEN_MAX);
	else if (n > 0) {
		buf[n] = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
		if (buf[0] != '\0' && setenv("FIREZONE_TOKEN", buf, 1) == -1)
			fatal("setenv");
		if (buf[0] != '\0')
			log_info("token from the credential %s", path);
	}
	explicit_bzero(buf, sizeof(buf));
}

static struct event *
parent_signal(struct parent *p, int sig, event_callback_fn cb)
{
	struct event	*ev;

	if ((ev = evsignal_new(p->base, sig, cb, p)) == NULL ||
	    evsignal_add(ev, NULL) == -1)
		fatalx("evsignal_add %d", sig);
	return (ev);
}

int
main(int argc, char *argv[])
{
	static const struct option	 longopts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "tunnel-user", required_argument, NULL, 'U' },
		{ "controld", required_argument, NULL, 'c' },
		{ "control-socket", required_argument, NULL, 's' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "wireguard", required_argument, NULL, 'w' },
		{ "interface", required_argument, NULL, 'i' },
		{ "threads", required_argument, NULL, 't' },
		{ "mtu", required_argument, NULL, 'm' },
		{ "api-url", required_argument, NULL, 'A' },
		{ "ca-file", required_argument, NULL, 'C' },
		{ "token-file", required_argument, NULL, 'T' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "name", required_argument, NULL, 'N' },
		{ "role", required_argument, NULL, 'r' },
		{ "max-partition-time", required_argument, NULL, 'P' },
		{ "dns-control", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct parent	 p;
	struct passwd	*pw;
	const char	*errstr, *why;
	enum sysdns_mode dns_mode = SYSDNS_DEFAULT;
	int		 ch, gateway_role = 0;

	memset(&p, 0, sizeof(p));
	p.user = FZC_DEFAULT_USER;
	p.tunnel_user = FZC_TUNNEL_USER;
	p.controld_path = LIBEXECDIR "/fzc/fzc-controld";
	p.control_socket = FZC_CONTROL_SOCKET;
	p.log_level = LOG_LEVEL_INFO;
	p.ipc_fd = -1;
	p.control_fd = -1;
	p.controld_pid = -1;
	p.spawner_pid = -1;
	p.backoff_ms = BACKOFF_MIN_MS;
	p.opt.ifname = "fzc%d";
	p.opt.threads = 2;
	p.opt.api_url = getenv("FIREZONE_API_URL") != NULL ?
	    getenv("FIREZONE_API_URL") : "wss://api.firezone.dev";
	p.opt.name = getenv("FIREZONE_NAME");
	p.opt.token_file = "/etc/fzc/token";
	p.opt.state_dir = "/var/lib/fzc";
	log_init(LOG_LEVEL_INFO, "fzc-tunneld");
	/* Firezone's headless client reads it from this variable. */
	if (getenv("MAX_PARTITION_TIME") != NULL &&
	    getenv("MAX_PARTITION_TIME")[0] != '\0')
		parent_max_partition(&p, getenv("MAX_PARTITION_TIME"),
		    "MAX_PARTITION_TIME");

	/* Firezone's variable, with its names for the modes. */
	if (getenv("FIREZONE_DNS_CONTROL") != NULL &&
	    getenv("FIREZONE_DNS_CONTROL")[0] != '\0')
		parent_dns_mode(getenv("FIREZONE_DNS_CONTROL"),
		    "FIREZONE_DNS_CONTROL", &dns_mode);

	while ((ch = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout, 0);
		case 'V':
			printf("fzc-tunneld %s\n", FZC_VERSION);
			return (0);
		case 'u':
			p.user = optarg;
			break;
		case 'U':
			p.tunnel_user = optarg;
			break;
		case 'c':
			p.controld_path = optarg;
			break;
		case 's':
			p.control_socket = optarg;
			break;
		case 'l':
			if (log_parse_level(optarg, &p.log_level) == -1)
				fatalx("unknown log level '%s' (use error, "
				    "warning, info or debug)", optarg);
			break;
		case 'w':
			p.opt.wg_file = optarg;
			break;
		case 'i':
			p.opt.ifname = optarg;
			break;
		case 't':
			p.opt.threads = (int)strtonum(optarg, 1, 16, &errstr);
			if (errstr != NULL)
				fatalx("--threads %s: %s (1..16)", optarg,
				    errstr);
			break;
		case 'm':
			p.opt.mtu = (unsigned)strtonum(optarg, 1280, 65535,
			    &errstr);
			if (errstr != NULL)
				fatalx("--mtu %s: %s (1280..65535)", optarg,
				    errstr);
			break;
		case 'A':
			p.opt.api_url = optarg;
			break;
		case 'C':
			p.opt.ca_file = optarg;
			break;
		case 'T':
			p.opt.token_file = optarg;
			break;
		case 'S':
			p.opt.state_dir = optarg;
			break;
		case 'N':
			p.opt.name = optarg;
			break;
		case 'P':
			parent_max_partition(&p, optarg,
			    "--max-partition-time");
			break;
		case 'D':
			parent_dns_mode(optarg, "--dns-control", &dns_mode);
			break;
		case 'r':
			if (strcmp(optarg, "client") == 0)
				gateway_role = 0;
			else if (strcmp(optarg, "gateway") == 0)
				gateway_role = 1;
			else {
				fprintf(stderr, "fzc-tunneld: unknown role "
				    "'%s' (use client or gateway)\n", optarg);
				usage(stderr, 2);
			}
			break;
		default:
			usage(stderr, 2);
		}
	}
	if (optind != argc)
		usage(stderr, 2);
	if (gateway_role && p.opt.wg_file != NULL) {
		fprintf(stderr, "fzc-tunneld: --wireguard runs a plain "
		    "WireGuard tunnel: no --role gateway with it\n");
		usage(stderr, 2);
	}
	log_setlevel(p.log_level);
	p.opt.log_level = p.log_level;

	if (geteuid() != 0)
		fatalx("must be started as root: it configures the network "
		    "and drops fzc-controld to user '%s'", p.user);
	if ((pw = getpwnam(p.user)) == NULL)
		fatalx("user '%s' does not exist; create it with "
		    "'useradd --system --user-group --no-create-home "
		    "--shell /usr/sbin/nologin %s' or pass --user", p.user,
		    p.user);
	if (pw->pw_uid == 0)
		fatalx("user '%s' is root; fzc-controld must run "
		    "unprivileged", p.user);
	p.uid = pw->pw_uid;
	p.gid = pw->pw_gid;
	if ((pw = getpwnam(p.tunnel_user)) == NULL)
		fatalx("user '%s' does not exist; create it with "
		    "'useradd --system --user-group --no-create-home "
		    "--shell /usr/sbin/nologin %s' or pass --tunnel-user",
		    p.tunnel_user, p.tunnel_user);
	/* controld, assumed compromised, must not be able to signal us. */
	if (pw->pw_uid == 0 || pw->pw_uid == p.uid)
		fatalx("user '%s' is root or fzc-controld's user; the data "
		    "plane needs a user of its own",
		    p.tunnel_user);
	p.tunnel_uid = pw->pw_uid;
	p.tunnel_gid = pw->pw_gid;
	if (access(p.controld_path, X_OK) == -1)
		fatal("cannot execute fzc-controld at %s (--controld PATH)",
		    p.controld_path);
	if (p.control_socket[0] != '/')
		fatalx("--control-socket must be an absolute path");

	/*
	 * Whatever it makes is its own: the tokens, the state. Its group
	 * (its alone) may read, for root before the drop (see
	 * parent_sysdns_root).
	 */
	umask(027);
	signal(SIGPIPE, SIG_IGN);
	/* Keys and the token live here: no core dumps. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("PR_SET_DUMPABLE");
	parent_bind_control(&p);
	/* systemd's credentials are root's alone. */
	if (p.opt.wg_file == NULL)
		parent_credential_token();
	/* WireGuard mode keeps no state. */
	if (p.opt.wg_file == NULL)
		parent_state_dir(&p);
	parent_start_spawner(&p);
	/*
	 * Opened as root, after the spawner left: neither controld nor the
	 * data plane may open a 0600 WireGuard file or the resolver's.
	 */
	if (p.opt.wg_file != NULL) {
		p.opt.wg_fd = open(p.opt.wg_file,
		    O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (p.opt.wg_fd == -1)
			fatal("opening %s", p.opt.wg_file);
	}
	if (!gateway_role && p.opt.wg_file == NULL)
		p.opt.sysdns = parent_sysdns_root(&p, dns_mode);
	if (privdrop_to_user(p.tunnel_uid, p.tunnel_gid,
	    PRIVDROP_CAP(CAP_NET_ADMIN), &why) == -1)
		fatal("dropping privileges to %s: %s", p.tunnel_user, why);
	parent_check_files(&p);
	confine_enter(gateway_role);
	p.started = util_realtime_s();

	if (sodium_init() == -1)
		fatalx("libsodium failed to initialise");
	if ((p.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	if (p.opt.wg_file != NULL)
		p.role = wgmode_new(p.base, &p.opt);
	else {
		if (gateway_role)
			p.role = gateway_new(p.base, &p.opt);
		else
			p.role = client_new(p.base, &p.opt);
	}
	p.ev_sigterm = parent_signal(&p, SIGTERM, parent_sigterm);
	p.ev_sigint = parent_signal(&p, SIGINT, parent_sigterm);
	p.ev_sighup = parent_signal(&p, SIGHUP, parent_sighup);
	p.ev_sigchld = parent_signal(&p, SIGCHLD, parent_sigchld);
	p.ev_respawn = evtimer_new(p.base, parent_respawn_cb, &p);
	p.ev_kill = evtimer_new(p.base, parent_kill_cb, &p);
	if (p.ev_respawn == NULL || p.ev_kill == NULL)
		fatalx("evtimer_new");

	log_info("starting (%s, user %s, control socket %s)",
	    role_name(p.role), p.user, p.control_socket);
	parent_spawn(&p);
	if (event_base_dispatch(p.base) == -1)
		fatalx("event loop failed");

	parent_close_channel(&p);
	role_free(p.role);
	sysdns_close(p.opt.sysdns);
	event_free(p.ev_kill);
	event_free(p.ev_respawn);
	event_free(p.ev_sigchld);
	event_free(p.ev_sighup);
	event_free(p.ev_sigint);
	event_free(p.ev_sigterm);
	event_base_free(p.base);
	/* The spawner removes the control socket once it sees us go. */
	spawner_end();
	log_info("stopped");
	return (0);
}
