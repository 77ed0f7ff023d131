/*
 * controld.c: fzc-controld, the unprivileged half. It is exec'd by
 * fzc-tunneld with the IPC channel on fd 3, already running as the fzc
 * user with no capabilities, and exits when the channel closes. This file
 * sits on top: it owns the channel (tunneld_chan.c), the session and the
 * control socket, and hands tunneld's messages to them.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <grp.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/timer.h"
#include "common/util.h"
#include "controld/control.h"
#include "controld/portal_msg.h"
#include "controld/dns.h"
#include "controld/sandbox.h"
#include "controld/session.h"
#include "controld/session_client.h"
#include "controld/session_gateway.h"
#include "controld/tunneld_chan.h"
#include "controld/wireguard.h"
#include "ipc/ipc.h"

/* Members may sign in and out and switch the Internet resource. */
#define CONTROLD_ADMIN_GROUP	"fzc-admin"

struct controld {
	struct event_base	*base;
	struct event		*ev_ipc;
	struct tunneld_chan	 tc;
	struct event		*ev_sigterm;
	struct event		*ev_sigint;
	int			 ipc_fd;
	int			 tunneld_hello;
	struct ipc_hello	 tunneld;
	uint64_t		 started;
	struct control		*control;
	struct session		*session;
	struct dns		*dns;
	int			 wg_configured;
	uint8_t			 dns_control;	/* IPC_DNS_CONTROL_* */
	uint8_t			 role;		/* IPC_ROLE_* */
};

static __dead void
usage(FILE *f, int status)
{
	fprintf(f,
	    "usage: fzc-controld [--control-socket PATH] "
	    "[--log-level LEVEL]\n"
	    "                   [--max-partition-time SECONDS]\n"
	    "       fzc-controld --help | --version\n"
	    "fzc-controld is started by fzc-tunneld, not by hand.\n");
	exit(status);
}

/* --max-partition-time: fzc-tunneld turned the user's duration into s. */
static uint64_t
controld_seconds(const char *s)
{
	unsigned long long	 v;
	char			*end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (s[0] < '1' || s[0] > '9' || *end != '\0' || errno != 0 ||
	    v > 3650ULL * 86400)
		fatalx("--max-partition-time %s: not a number of seconds", s);
	return (v);
}

/* The stub resolver's upstreams, and who points the system at it. */
static json_t *
controld_dns_status(struct controld *c)
{
	static const char *const modes[] = {
		[IPC_DNS_CONTROL_NONE] = "none",
		[IPC_DNS_CONTROL_DISABLED] = "disabled",
		[IPC_DNS_CONTROL_RESOLV_CONF] = "etc-resolv-conf",
		[IPC_DNS_CONTROL_RESOLVED] = "systemd-resolved",
	};
	json_t	*o = dns_status(c->dns);

	json_object_set_new(o, "control", json_string(modes[c->dns_control]));
	return (o);
}

/* What `fzc status` shows, around tunneld's worker counters. */
static json_t *
controld_status(void *arg, json_t *workers)
{
	struct controld	*c = arg;
	uint64_t	 now = util_realtime_s();
	json_t		*o;

	o = json_pack("{s:b, s:i, s:s, s:{s:I, s:I, s:I}, s:{s:I, s:I}, s:O}",
	    "ok", 1, "version", FZC_CONTROL_VERSION,
	    "state", c->tunneld_hello ? "running" : "starting",
	    "tunneld",
	    "pid", (json_int_t)c->tunneld.pid,
	    "uptime", (json_int_t)(now - c->tunneld.started),
	    "controld_restarts", (json_int_t)c->tunneld.restarts,
	    "controld",
	    "pid", (json_int_t)getpid(),
	    "uptime", (json_int_t)(now - c->started),
	    "workers", workers);
	if (!c->wg_configured)
		json_object_set_new(o, "portal", session_status(c->session));
	if (!c->wg_configured && c->role == IPC_ROLE_CLIENT)
		json_object_set_new(o, "dns", controld_dns_status(c));
	return (o);
}

/* The session's state changed: watchers of the control socket see it. */
static void
controld_session_changed(void *arg, int what)
{
	struct controld	*c = arg;
	int		 ctl = 0;

	if (what & SESSION_CHANGED_PORTAL)
		ctl |= CONTROL_CHANGED_PORTAL;
	if (what & SESSION_CHANGED_RESOURCES)
		ctl |= CONTROL_CHANGED_RESOURCES;
	if (what & SESSION_CHANGED_PEERS)
		ctl |= CONTROL_CHANGED_PEERS;
	control_notify(c->control, ctl);
	/* An authorization or a connection: SRV and TXT held may go. */
	if (what & (SESSION_CHANGED_RESOURCES | SESSION_CHANGED_PEERS))
		dns_session_changed(c->dns);
}

/* STYLE 5: check what the fd really is before anyone uses it. */
/* The client's DNS upstreams come with the interface. */
static void
controld_interface(void *arg, const struct portal_interface *iface)
{
	struct controld	*c = arg;

	if (session_role(c->session) == &session_client_role)
		dns_set_interface(c->dns, iface);
	else
		session_gateway_interface(c->session, iface);
}

static void
controld_check_socket(const struct ipc_msg *msg)
{
	int		 domain, type;
	socklen_t	 len;

	len = sizeof(domain);
	if (getsockopt(msg->fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == -1)
		fatal("tunneld passed an fd that is not a socket");
	len = sizeof(type);
	if (getsockopt(msg->fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1)
		fatal("getsockopt SO_TYPE");
	if (domain != msg->u.socket.family || type != msg->u.socket.type)
		fatalx("tunneld passed a socket of family %d type %d, "
		    "announced %d/%d", domain, type, msg->u.socket.family,
		    msg->u.socket.type);
}

static void
controld_dispatch_tunneld(evutil_socket_t fd, short events, void *arg)
{
	struct controld		*c = arg;
	struct ipc_msg		 msg;
	const char		*why;
	enum ipc_recv_result	 r;

	(void)fd;
	(void)events;
	for (;;) {
		r = ipc_recv(c->ipc_fd, IPC_PEER_CONTROLD, &msg, &why);
		if (r == IPC_RECV_ERROR) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			fatal("reading from tunneld");
		}
		if (r == IPC_RECV_EOF) {
			log_info("tunneld closed the channel; exiting");
			event_base_loopexit(c->base, NULL);
			return;
		}
		if (r == IPC_RECV_MALFORMED)
			fatalx("tunneld sent a malformed %s message: %s",
			    ipc_type_name(msg.hdr.type), why);
		if (!c->tunneld_hello && msg.hdr.type != IPC_HELLO)
			fatalx("tunneld's first message is %s, not hello",
			    ipc_type_name(msg.hdr.type));
		switch (msg.hdr.type) {
		case IPC_HELLO:
			if (c->tunneld_hello ||
			    msg.u.hello.pid != (uint32_t)getppid())
				fatalx("repeated hello, or hello from a "
				    "process that is not our parent");
			c->tunneld = msg.u.hello;
			c->tunneld_hello = 1;
			log_debug("tunneld (pid %u) said hello",
			    msg.u.hello.pid);
			break;
		case IPC_SOCKET:
			controld_check_socket(&msg);
			if (session_socket(c->session, msg.hdr.id, msg.fd) ||
			    dns_socket(c->dns, msg.hdr.id, msg.fd))
				break;
			if (control_socket_answer(c->control, msg.hdr.id,
			    msg.fd, 0) == -1)
				fatalx("tunneld answered request %u, which "
				    "was never made", msg.hdr.id);
			break;
		case IPC_WG_FILE:
			if (c->wg_configured)
				fatalx("tunneld sent a second WireGuard file");
			c->wg_configured = 1;
			wireguard_configure(&c->tc, &msg);
			break;
		case IPC_PORTAL_CONFIG:
			sandbox_files(msg.u.portal_config.ca_file);
			c->dns_control = msg.u.portal_config.dns_control;
			c->role = msg.u.portal_config.role;
			dns_set_ca_file(c->dns, msg.u.portal_config.ca_file);
			session_config(c->session, &msg.u.portal_config,
			    msg.u.portal_config.role == IPC_ROLE_GATEWAY ?
			    &session_gateway_role : &session_client_role);
			break;
		case IPC_TOKEN:
			session_token(c->session, msg.fd);
			break;
		case IPC_TOKEN_RESULT:
			session_token_result(c->session, msg.hdr.id,
			    &msg.u.token_result);
			break;
		case IPC_STATE_ACK:
			session_state_ack(c->session, msg.hdr.id,
			    &msg.u.state_ack);
			break;
		case IPC_NEED_AUTHZ:
			session_client_need_authz(c->session,
			    msg.u.resource_id.id);
			break;
		case IPC_LOCAL_CANDIDATE:
		case IPC_LOCAL_CANDIDATE_DEL:
			session_local_candidate(c->session, &msg.u.candidate,
			    msg.hdr.type == IPC_LOCAL_CANDIDATE_DEL);
			break;
		case IPC_NO_RELAYS:
			session_no_relays(c->session, msg.u.gateway_id.id);
			break;
		case IPC_DNS_QUERY:
			dns_query(c->dns, &msg.u.dns);
			break;
		case IPC_P2P_RECV:
			session_p2p(c->session, &msg.u.p2p);
			break;
		case IPC_SYSTEM_RESOLV:
			dns_load_system(c->dns, msg.fd);
			close(msg.fd);
			break;
		case IPC_PROXY_NAMES:
			dns_restore_names(c->dns, msg.fd);
			close(msg.fd);
			break;
		case IPC_GW_DNS_PATTERN:
			session_gateway_dns_kept(c->session,
			    &msg.u.gw_dns_pattern);
			break;
		case IPC_GW_CLIENT:
			session_gateway_client_kept(c->session,
			    &msg.u.gw_client);
			break;
		case IPC_NETWORK_CHANGED:
			session_network_changed(c->session);
			break;
		case IPC_PEER_PATH:
			session_peer_path(c->session, &msg.u.peer_path);
			break;
		case IPC_SETTINGS:
			session_settings(c->session, &msg.u.settings);
			break;
		case IPC_PEER_STATS:
		case IPC_WORKER_STATS:
		case IPC_RELAY_STATS:
		case IPC_STATS_END:
			if (control_stats(c->control, &msg) == -1)
				fatalx("tunneld sent counters nobody asked "
				    "for");
			break;
		case IPC_SOCKET_FAILED:
			if (session_socket(c->session, msg.hdr.id, -1) ||
			    dns_socket(c->dns, msg.hdr.id, -1))
				break;
			if (control_socket_answer(c->control, msg.hdr.id, -1,
			    msg.u.socket_failed.error) == -1)
				fatalx("tunneld answered request %u, which "
				    "was never made", msg.hdr.id);
			break;
		default:
			fatalx("unhandled message %s from tunneld",
			    ipc_type_name(msg.hdr.type));
		}
	}
}

static void
controld_sigterm(evutil_socket_t sig, short events, void *arg)
{
	struct controld	*c = arg;

	(void)events;
	log_info("signal %d: exiting", (int)sig);
	event_base_loopexit(c->base, NULL);
}

static void
controld_check_channel(void)
{
	struct stat	 st;
	int		 type;
	socklen_t	 len = sizeof(type);

	if (fstat(IPC_CHANNEL_FD, &st) == -1 || !S_ISSOCK(st.st_mode) ||
	    getsockopt(IPC_CHANNEL_FD, SOL_SOCKET, SO_TYPE, &type,
	    &len) == -1 || type != SOCK_SEQPACKET)
		fatalx("fd %d is not the IPC channel; fzc-controld is "
		    "started by fzc-tunneld", IPC_CHANNEL_FD);
}

int
main(int argc, char *argv[])
{
	static const struct option	 longopts[] = {
		{ "control-socket", required_argument, NULL, 's' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "max-partition-time", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct controld		 c;
	struct control_env	 env;
	struct ipc_hello	 hello;
	struct group		*gr;
	const char		*sockpath = FZC_CONTROL_SOCKET;
	enum log_level		 level = LOG_LEVEL_INFO;
	uint64_t		 partition_s = 0;
	int			 ch;

	log_init(LOG_LEVEL_INFO, "fzc-controld");
	while ((ch = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout, 0);
		case 'V':
			printf("fzc-controld %s\n", FZC_VERSION);
			return (0);
		case 's':
			sockpath = optarg;
			break;
		case 'l':
			if (log_parse_level(optarg, &level) == -1)
				fatalx("unknown log level '%s'", optarg);
			break;
		case 'P':
			partition_s = controld_seconds(optarg);
			break;
		default:
			usage(stderr, 2);
		}
	}
	if (optind != argc)
		usage(stderr, 2);
	log_setlevel(level);

	/* All parsing of network input happens here: never as root. */
	if (getuid() == 0 || geteuid() == 0 || getgid() == 0 ||
	    getegid() == 0)
		fatalx("refusing to run as root; fzc-controld is started by "
		    "fzc-tunneld as an unprivileged user");
	controld_check_channel();
	/* The token and PSKs pass through this process: no core dumps. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("PR_SET_DUMPABLE");
	signal(SIGPIPE, SIG_IGN);

	memset(&c, 0, sizeof(c));
	c.ipc_fd = IPC_CHANNEL_FD;
	c.started = util_realtime_s();
	if ((c.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	if (evutil_make_socket_nonblocking(c.ipc_fd) == -1)
		fatalx("cannot make the IPC channel non-blocking");
	c.ev_ipc = event_new(c.base, c.ipc_fd, EV_READ | EV_PERSIST,
	    controld_dispatch_tunneld, &c);
	tunneld_chan_init(&c.tc, c.base, c.ipc_fd);
	c.ev_sigterm = evsignal_new(c.base, SIGTERM, controld_sigterm, &c);
	c.ev_sigint = evsignal_new(c.base, SIGINT, controld_sigterm, &c);
	if (c.ev_ipc == NULL || c.ev_sigterm == NULL || c.ev_sigint == NULL ||
	    event_add(c.ev_ipc, NULL) == -1 ||
	    evsignal_add(c.ev_sigterm, NULL) == -1 ||
	    evsignal_add(c.ev_sigint, NULL) == -1)
		fatalx("cannot set up the event loop");

	memset(&hello, 0, sizeof(hello));
	hello.pid = (uint32_t)getpid();
	hello.started = c.started;
	if (ipc_chan_send(&c.tc.chan, IPC_HELLO, 0, &hello, sizeof(hello),
	    -1) == -1)
		fatal("sending hello to tunneld");

	/* PSKs and TURN passwords pass through jansson: wipe its frees. */
	portal_msg_json_wipe();
	c.session = session_new(c.base, &c.tc, &session_client_role);
	session_set_max_partition(c.session, partition_s * NSEC_PER_SEC);
	memset(&env, 0, sizeof(env));
	env.base = c.base;
	env.tc = &c.tc;
	env.session = c.session;
	env.gid = getgid();
	/* Read before the sandbox; without the group only root changes. */
	env.admin_gid = (gid_t)-1;
	if ((gr = getgrnam(CONTROLD_ADMIN_GROUP)) != NULL)
		env.admin_gid = gr->gr_gid;
	env.status = controld_status;
	env.arg = &c;
	c.control = control_init(&env, IPC_CONTROL_FD);
	session_set_notify(c.session, controld_session_changed, &c);
	c.dns = dns_new(c.base, &c.tc, c.session);
	session_set_interface_cb(c.session, controld_interface, &c);
	sandbox_enter();
	log_info("running as uid %d, control socket %s", (int)getuid(),
	    sockpath);
	if (event_base_dispatch(c.base) == -1)
		fatalx("event loop failed");

	control_free(c.control);
	session_free(c.session);
	dns_free(c.dns);
	event_free(c.ev_sigint);
	event_free(c.ev_sigterm);
	event_free(c.ev_ipc);
	tunneld_chan_clear(&c.tc);
	event_base_free(c.base);
	close(c.ipc_fd);
	return (0);
}
