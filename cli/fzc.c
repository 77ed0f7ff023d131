/* fzc.c: the command line front-end to fzc-controld's control socket. */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli/netcheck.h"
#include "common/log.h"
#include "common/util.h"

/* The resource list of a large account runs to megabytes. */
#define REPLY_MAX	(256 * 1024 * 1024)
#define TIMEOUT_S	10

/* Exit statuses, as fzc(1) documents them. */
#define EXIT_USAGE	2
#define EXIT_NOT_RUNNING	3

struct fzc_cmd {
	const char	*name;
	const char	*args;		/* after the name, for the synopsis */
	const char	*summary;
	const char	*help;
};

/* A table, a command a few lines: clang-format would reflow it. */
/* clang-format off */
static const struct fzc_cmd cmds[] = {
	{ "status", "[--watch]",
	    "daemons, portal session, counters",
	    "Show the daemons, the portal session and the counters of each "
	    "worker.\nWith --watch: the portal state, the resources and the "
	    "peers' paths,\nagain whenever they change, until interrupted." },
	{ "resources", "",
	    "the resources the portal offers",
	    "List the resources the portal offers." },
	{ "peers", "",
	    "gateways or WireGuard peers, as wg show",
	    "Show the gateways (or WireGuard peers): path, latest "
	    "handshake,\ntransfer." },
	{ "sign-in", "",
	    "store a token from standard input, sign in",
	    "Store a token, read from standard input without echo, and sign "
	    "in\nwith it." },
	{ "sign-out", "",
	    "delete the token, end the session",
	    "Delete the token and end the portal session." },
	{ "internet", "on|off",
	    "all traffic through the Internet resource, or not",
	    "Route all traffic through the Internet resource, or not. "
	    "Kept\nacross restarts." },
	{ "settings", "[api-url URL|default [--insecure]] "
	    "[log-level LEVEL|default]",
	    "the portal's API URL and the log level the daemon keeps",
	    "Show the settings the daemon keeps, or change them: the "
	    "portal's API URL\n(wss://; ws:// only with --insecure, as it "
	    "sends the token unencrypted)\nand the log level (error, "
	    "warning, info or debug). \"default\" goes back\nto the "
	    "daemon's command line. Kept across restarts." },
	{ "netcheck", "[--relay HOST[:PORT] --username USER\n"
	    "              {--password-file FILE | --password PASSWORD} "
	    "[--relay ...]]",
	    "relays and the NAT, with or without the daemon",
	    "Check the relays and the NAT: without --relay, the portal's "
	    "relays as the\nrunning daemon sees them; with --relay, those "
	    "relays, and no daemon is\nneeded. Exits 0 when a relay allows "
	    "an allocation." },
	{ "debug", "protected-socket [inet|inet6] [udp|tcp]",
	    "check the marked sockets fzc-tunneld hands out",
	    "Check that fzc-tunneld hands out sockets with fzc's firewall "
	    "mark." },
	{ "help", "[COMMAND]",
	    "this help, or a command's",
	    "Show this help, or a command's." },
};
/* clang-format on */

static void
usage(FILE *f)
{
	size_t	 i;

	fprintf(f, "usage: fzc [--control-socket PATH] [--json] COMMAND "
	    "[ARGS]\n"
	    "       fzc --help | --version\n\n"
	    "commands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "\noptions (before or after the command):\n"
	    "  --control-socket PATH  fzc-controld's socket (default "
	    FZC_CONTROL_SOCKET ")\n"
	    "  --json                 print the daemon's answer as JSON\n"
	    "  -h, --help             this help; fzc help COMMAND for a "
	    "command's\n"
	    "  -V, --version          print the version\n\n"
	    "exit status: 0 success, 1 failure, 2 usage error, 3 the daemon "
	    "is not running\n"
	    "See fzc(1).\n");
}

static __dead void
usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "fzc: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	usage(stderr);
	exit(EXIT_USAGE);
}

static const struct fzc_cmd *
cmd_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, name) == 0)
			return (&cmds[i]);
	return (NULL);
}

static void
cmd_help(const struct fzc_cmd *c)
{
	printf("usage: fzc [--control-socket PATH] [--json] %s%s%s\n\n%s\n",
	    c->name, c->args[0] != '\0' ? " " : "", c->args, c->help);
}

static int
fzc_connect(const char *path)
{
	struct sockaddr_un	 sun;
	struct timeval		 tv = { TIMEOUT_S, 0 };
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "fzc: control socket path too long\n");
		exit(1);
	}
	strncpy(sun.sun_path, path, sizeof(sun.sun_path) - 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		perror("fzc: socket");
		exit(1);
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == ENOENT || errno == ECONNREFUSED) {
			fprintf(stderr, "fzc: fzc is not running (nothing "
			    "listens on %s)\n"
			    "Start it with: systemctl start fzc\n", path);
			exit(EXIT_NOT_RUNNING);
		}
		if (errno == EACCES || errno == EPERM)
			fprintf(stderr, "fzc: permission denied on %s\n"
			    "Run fzc as root, or join group fzc: "
			    "usermod -aG fzc USER (then log in again)\n",
			    path);
		else
			fprintf(stderr, "fzc: connecting to %s: %s\n", path,
			    strerror(errno));
		exit(1);
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1)
		perror("fzc: SO_RCVTIMEO");
	return (fd);
}

/* One request line out, one reply line back. */
static json_t *
fzc_request(const char *path, json_t *req)
{
	char		*line, *buf;
	json_t		*reply;
	json_error_t	 err;
	size_t		 len = 0, cap, scanned = 0;
	ssize_t		 n;
	int		 fd;

	fd = fzc_connect(path);
	if ((line = json_dumps(req, JSON_COMPACT)) == NULL) {
		fprintf(stderr, "fzc: out of memory\n");
		exit(1);
	}
	/*
	 * A refused peer may be closed before the request is written: the
	 * reason is still waiting to be read, so EPIPE is no reason to stop.
	 */
	len = strlen(line);
	line[len++] = '\n';
	if (send(fd, line, len, MSG_NOSIGNAL) == -1 && errno != EPIPE &&
	    errno != ECONNRESET) {
		perror("fzc: sending the request");
		exit(1);
	}
	/* A sign-in request carries the token. */
	explicit_bzero(line, len);
	free(line);
	len = 0;
	cap = 65536;
	buf = xmalloc(cap);
	/* Only the bytes just read can hold the end of the line. */
	for (;;) {
		if (len > scanned && memchr(buf + scanned, '\n',
		    len - scanned) != NULL)
			break;
		scanned = len;
		if (len == cap - 1) {
			if (cap >= REPLY_MAX) {
				fprintf(stderr, "fzc: answer too long\n");
				exit(1);
			}
			cap *= 2;
			buf = xreallocarray(buf, cap, 1);
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			fprintf(stderr, "fzc: no answer from fzc-controld in "
			    "%d s\n", TIMEOUT_S);
			exit(1);
		}
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if ((reply = json_loads(buf, JSON_DISABLE_EOF_CHECK, &err)) == NULL ||
	    !json_is_object(reply)) {
		fprintf(stderr, "fzc: unreadable answer from fzc-controld%s\n",
		    len == 0 ? " (connection closed)" : "");
		exit(1);
	}
	free(buf);
	return (reply);
}

static void
fzc_uptime(char *buf, size_t size, json_int_t s)
{
	if (s >= 86400)
		snprintf(buf, size, "%lldd %lldh", s / 86400,
		    (s % 86400) / 3600);
	else if (s >= 3600)
		snprintf(buf, size, "%lldh %lldm", s / 3600, (s % 3600) / 60);
	else if (s >= 60)
		snprintf(buf, size, "%lldm %llds", s / 60, s % 60);
	else
		snprintf(buf, size, "%llds", s);
}

static void	print_workers(json_t *);

static void
print_portal(json_t *p)
{
	const char	*state, *reason, *role, *internet, *v4, *v6;
	json_t		*retry, *n;

	if (p == NULL)
		return;
	state = json_string_value(json_object_get(p, "state"));
	reason = json_string_value(json_object_get(p, "reason"));
	role = json_string_value(json_object_get(p, "role"));
	printf("portal:    %s", state != NULL ? state : "?");
	if (reason != NULL)
		printf(" (%s)", reason);
	if ((retry = json_object_get(p, "retry_in_s")) != NULL)
		printf(", retrying in %.1f s", json_number_value(retry));
	if (role != NULL)
		printf(", %s role", role);
	printf("\n");
	if ((internet = json_string_value(json_object_get(p, "internet"))) !=
	    NULL)
		printf("internet:  %s\n", internet);
	if ((n = json_object_get(p, "authorizations")) != NULL)
		printf("authorizations: %lld\n", json_integer_value(n));
	v4 = json_string_value(json_object_get(p, "tunnel_ipv4"));
	v6 = json_string_value(json_object_get(p, "tunnel_ipv6"));
	if (v4 != NULL && v6 != NULL)
		printf("tunnel:    %s, %s\n", v4, v6);
}

/* The client's DNS: who points the system at fzc, and where fzc asks. */
static void
print_dns(json_t *d)
{
	static const struct {
		const char	*key, *text;
	} sources[] = {
		{ "portal_do53", "portal" },
		{ "portal_doh", "portal, DoH" },
		{ "system", "system" },
	};
	json_t		*u;
	const char	*src, *to, *control;
	size_t		 i, j, n = sizeof(sources) / sizeof(sources[0]);

	if ((control = json_string_value(json_object_get(d, "control"))) ==
	    NULL)
		return;
	printf("dns:       system DNS control %s\n", control);
	json_array_foreach(json_object_get(d, "upstreams"), i, u) {
		src = json_string_value(json_object_get(u, "source"));
		for (j = 0; src != NULL && j < n; j++)
			if (strcmp(src, sources[j].key) == 0)
				src = sources[j].text;
		if ((to = json_string_value(json_object_get(u, "url"))) == NULL)
			to = json_string_value(json_object_get(u, "address"));
		printf("  sentinel %s -> %s (%s)\n",
		    json_string_value(json_object_get(u, "sentinel")),
		    to != NULL ? to : "?", src != NULL ? src : "?");
	}
}

static void
print_status(json_t *r)
{
	json_int_t	 tpid = 0, tup = 0, restarts = 0, cpid = 0, cup = 0;
	const char	*state = "?";
	char		 t[32], c[32];

	json_unpack(r, "{s?s, s?{s?I, s?I, s?I}, s?{s?I, s?I}}",
	    "state", &state,
	    "tunneld", "pid", &tpid, "uptime", &tup,
	    "controld_restarts", &restarts,
	    "controld", "pid", &cpid, "uptime", &cup);
	fzc_uptime(t, sizeof(t), tup);
	fzc_uptime(c, sizeof(c), cup);
	printf("daemons:   %s\n", state);
	printf("tunneld:   pid %lld, up %s\n", tpid, t);
	printf("controld:  pid %lld, up %s, restarted %lld time%s\n", cpid, c,
	    restarts, restarts == 1 ? "" : "s");
	print_workers(r);
	print_portal(json_object_get(r, "portal"));
	print_dns(json_object_get(r, "dns"));
}

static void
print_bytes(json_int_t b)
{
	const char	*units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double		 v = (double)b;
	int		 u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	printf(u == 0 ? "%.0f %s" : "%.2f %s", v, units[u]);
}

static void
print_workers(json_t *r)
{
	json_t		*w, *drops, *v;
	json_int_t	 total;
	const char	*k;
	size_t		 i;

	json_array_foreach(json_object_get(r, "workers"), i, w) {
		total = 0;
		drops = json_object_get(w, "drops");
		json_object_foreach(drops, k, v)
			total += json_integer_value(v);
		printf("worker %lld:  tx %lld pkts, rx %lld pkts, %lld drops, "
		    "%lld reorders\n",
		    json_integer_value(json_object_get(w, "worker")),
		    json_integer_value(json_object_get(w, "tx_packets")),
		    json_integer_value(json_object_get(w, "rx_packets")),
		    total,
		    json_integer_value(json_object_get(w, "reorders")));
	}
}

/*
 * A peer as people know it: the portal names no gateway, so controld
 * gives the site and the resources it serves; the key when it knows
 * neither (WireGuard mode, or a peer of an old authorization).
 */
static void
print_peer_name(json_t *p)
{
	json_t		*names, *n;
	const char	*kind, *site;
	size_t		 i;

	kind = json_string_value(json_object_get(p, "kind"));
	site = json_string_value(json_object_get(p, "site"));
	names = json_object_get(p, "resources");
	if (kind == NULL || (site == NULL && json_array_size(names) == 0)) {
		printf("%s",
		    json_string_value(json_object_get(p, "public_key")));
		return;
	}
	printf("%s", kind);
	if (site != NULL)
		printf(" in %s", site);
	json_array_foreach(names, i, n)
		printf("%s%s", i == 0 ? " (" : ", ", json_string_value(n));
	if (json_array_size(names) > 0)
		printf(")");
}

static void
print_peers(json_t *r)
{
	json_t		*p;
	json_int_t	 hs, ago;
	const char	*ep, *path, *id, *key;
	size_t		 i;

	json_array_foreach(json_object_get(r, "peers"), i, p) {
		if (i > 0)
			printf("\n");
		printf("peer: ");
		print_peer_name(p);
		printf("\n");
		if ((id = json_string_value(json_object_get(p, "id"))) != NULL)
			printf("  id: %s\n", id);
		key = json_string_value(json_object_get(p, "public_key"));
		if (json_object_get(p, "kind") != NULL)
			printf("  public key: %s\n", key);
		path = json_string_value(json_object_get(p, "path"));
		if ((ep = json_string_value(json_object_get(p,
		    "endpoint"))) != NULL)
			printf("  endpoint: %s%s\n", ep, path != NULL &&
			    strcmp(path, "relayed") == 0 ? " (relay)" : "");
		hs = json_integer_value(json_object_get(p,
		    "latest_handshake"));
		if (hs != 0) {
			ago = (json_int_t)time(NULL) - hs;
			printf("  latest handshake: %lld second%s ago\n", ago,
			    ago == 1 ? "" : "s");
		}
		printf("  transfer: ");
		print_bytes(json_integer_value(json_object_get(p,
		    "rx_bytes")));
		printf(" received, ");
		print_bytes(json_integer_value(json_object_get(p,
		    "tx_bytes")));
		printf(" sent\n");
	}
}

/* A resource's status, with the portal's reason when it refused. */
static void
print_resource_status(json_t *o)
{
	const char	*v, *why;

	v = json_string_value(json_object_get(o, "status"));
	why = json_string_value(json_object_get(o, "authorization_failed"));
	printf("%s", v != NULL ? v : "-");
	if (v != NULL && strcmp(v, "failed") == 0 && why != NULL)
		printf(" (%s)", why);
}

/* A DNS resource's names asked for so far, each with its proxy IPs. */
static void
print_dns_names(json_t *names)
{
	json_t		*n, *ip;
	const char	*sep;
	size_t		 i, j;

	json_array_foreach(names, i, n) {
		printf("  %-50s",
		    json_string_value(json_object_get(n, "name")));
		sep = " ";
		json_array_foreach(json_object_get(n, "proxy_ips"), j, ip) {
			printf("%s%s", sep, json_string_value(ip));
			sep = ", ";
		}
		printf("\n");
	}
}

static void
print_resources(json_t *r)
{
	json_t		*o;
	const char	*v;
	size_t		 i;

	json_array_foreach(json_object_get(r, "resources"), i, o) {
		v = json_string_value(json_object_get(o, "name"));
		printf("%-24s ", v != NULL ? v : "-");
		v = json_string_value(json_object_get(o, "address"));
		printf("%-28s ", v != NULL ? v : "-");
		printf("%-8s ", json_string_value(json_object_get(o, "type")));
		v = json_string_value(json_object_get(o, "site"));
		printf("%-16s ", v != NULL ? v : "-");
		print_resource_status(o);
		printf("\n");
		print_dns_names(json_object_get(o, "names"));
	}
}

/*
 * The relays the portal gave, as tunneld's TURN clients found them. One
 * server-reflexive address seen by every relay of a family means the NAT
 * maps endpoint-independently.
 */
static void
print_netcheck(json_t *r)
{
	json_t		*rl, *a;
	const char	*srflx[2] = { NULL, NULL }, *s, *err;
	size_t		 i, j;
	int		 fam, same[2] = { -1, -1 };

	if (json_array_size(json_object_get(r, "relays")) == 0)
		printf("no relays: the portal gave none yet\n");
	json_array_foreach(json_object_get(r, "relays"), i, rl) {
		printf("relay %s (%s)\n", json_string_value(json_object_get(rl,
		    "address")), json_string_value(json_object_get(rl, "id")));
		printf("  answers: %s",
		    json_is_true(json_object_get(rl, "answered")) ? "yes" :
		    "no");
		if (json_object_get(rl, "rtt_ms") != NULL)
			printf(", round trip %.1f ms", json_number_value(
			    json_object_get(rl, "rtt_ms")));
		printf("\n");
		if ((s = json_string_value(json_object_get(rl,
		    "server_reflexive"))) != NULL) {
			printf("  server-reflexive address: %s\n", s);
			fam = s[0] == '[';
			if (srflx[fam] == NULL) {
				srflx[fam] = s;
				same[fam] = 1;
			} else if (strcmp(srflx[fam], s) != 0)
				same[fam] = 0;
			else if (same[fam] == 1)
				same[fam] = 2;
		}
		printf("  allocation: %s\n", json_string_value(
		    json_object_get(rl, "state")));
		if ((err = json_string_value(json_object_get(rl, "error"))) !=
		    NULL)
			printf("  error: %s\n", err);
		json_array_foreach(json_object_get(rl, "relayed"), j, a)
			printf("  relayed address: %s\n", json_string_value(a));
	}
	for (fam = 0; fam < 2; fam++)
		if (same[fam] == 0 || same[fam] == 2)
			printf("NAT mapping (%s): endpoint-%s\n",
			    fam ? "IPv6" : "IPv4",
			    same[fam] == 2 ? "independent" : "dependent");
}

static void
print_paths(json_t *r)
{
	json_t		*p;
	const char	*path, *ep, *relay, *of;
	size_t		 i;

	if (json_array_size(json_object_get(r, "peers")) == 0)
		printf("no peers\n");
	json_array_foreach(json_object_get(r, "peers"), i, p) {
		path = json_string_value(json_object_get(p, "path"));
		ep = json_string_value(json_object_get(p, "endpoint"));
		relay = json_string_value(json_object_get(p, "relay"));
		printf("peer ");
		print_peer_name(p);
		printf(": %s%s%s", path != NULL ? path : "no path yet",
		    ep != NULL ? " via " : "", ep != NULL ? ep : "");
		of = json_string_value(json_object_get(p, "relay_of"));
		if (of != NULL)
			printf(" (%s relay%s%s)",
			    strcmp(of, "us") == 0 ? "our" : "the peer's",
			    relay != NULL ? " " : "",
			    relay != NULL ? relay : "");
		printf("\n");
	}
}

/*
 * status --watch: the daemon pushes one line per change; this prints each
 * until the daemon goes away or the user stops it.
 */
static int
fzc_watch(const char *path, int json)
{
	struct timeval	 tv = { 0, 0 };
	static const char req[] = "{\"command\":\"watch\",\"version\":1}\n";
	const char	*ev;
	char		*line = NULL;
	size_t		 cap = 0;
	json_t		*o;
	FILE		*f;
	int		 fd, first = 1;

	fd = fzc_connect(path);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) == -1 ||
	    (f = fdopen(fd, "r")) == NULL) {
		perror("fzc: watch");
		return (1);
	}
	while (getline(&line, &cap, f) > 0) {
		if ((o = json_loads(line, 0, NULL)) == NULL) {
			fprintf(stderr, "fzc: unreadable event\n");
			break;
		}
		if (first && !json_is_true(json_object_get(o, "ok"))) {
			ev = json_string_value(json_object_get(o, "error"));
			fprintf(stderr, "fzc: %s\n", ev ? ev : "watch refused");
			json_decref(o);
			break;
		}
		if (json)
			printf("%s", line);
		else if ((ev = json_string_value(json_object_get(o,
		    "event"))) != NULL) {
			printf("--- %s\n", ev);
			if (strcmp(ev, "portal") == 0)
				print_portal(json_object_get(o, "portal"));
			else if (strcmp(ev, "resources") == 0)
				print_resources(o);
			else if (strcmp(ev, "peers") == 0)
				print_paths(o);
		}
		fflush(stdout);
		first = 0;
		json_decref(o);
	}
	free(line);
	fclose(f);
	fprintf(stderr, "fzc: fzc-controld closed the connection\n");
	return (1);
}

static int
netcheck_ok(json_t *r)
{
	json_t		*rl;
	const char	*st;
	size_t		 i;

	json_array_foreach(json_object_get(r, "relays"), i, rl)
		if ((st = json_string_value(json_object_get(rl, "state"))) !=
		    NULL && strcmp(st, "allocated") == 0)
			return (1);
	return (0);
}

static void
print_ok(json_t *r)
{
	(void)r;
	printf("done\n");
}

/* The token never goes through argv; a terminal does not echo it. */
static char *
read_token(void)
{
	struct termios	 t, saved;
	char		*line = NULL;
	size_t		 cap = 0;
	ssize_t		 n;
	int		 tty = isatty(STDIN_FILENO);

	if (tty) {
		fprintf(stderr, "Token: ");
		if (tcgetattr(STDIN_FILENO, &saved) == 0) {
			t = saved;
			t.c_lflag &= ~(tcflag_t)ECHO;
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
		} else
			tty = 0;
	}
	n = getline(&line, &cap, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fprintf(stderr, "\n");
	}
	if (n <= 0) {
		fprintf(stderr, "fzc: no token on standard input\n");
		exit(1);
	}
	line[strcspn(line, "\r\n")] = '\0';
	return (line);
}

static void
print_setting(json_t *o, const char *name, const char *key)
{
	json_t	*v = json_object_get(o, key);

	printf("%-10s %s", name,
	    json_string_value(json_object_get(v, "value")));
	if (json_is_true(json_object_get(v, "custom")))
		printf(" (set; the default is %s)\n",
		    json_string_value(json_object_get(v, "default")));
	else
		printf(" (default)\n");
}

static void
print_settings(json_t *r)
{
	json_t	*o = json_object_get(r, "settings");

	print_setting(o, "api-url:", "api_url");
	print_setting(o, "log-level:", "log_level");
}

/*
 * settings [api-url URL|default] [log-level LEVEL|default] [--insecure]:
 * NULL on a malformed line. "default" is null in the request.
 */
static json_t *
settings_request(int n, char **pos)
{
	json_t		*req = json_pack("{s:s}", "command", "settings"), *v;
	const char	*key;
	int		 i;

	for (i = 1; i < n; i++) {
		if (strcmp(pos[i], "--insecure") == 0) {
			json_object_set_new(req, "insecure", json_true());
			continue;
		}
		if (strcmp(pos[i], "api-url") == 0)
			key = "api_url";
		else if (strcmp(pos[i], "log-level") == 0)
			key = "log_level";
		else
			key = NULL;
		if (i + 1 == n || key == NULL) {
			json_decref(req);
			return (NULL);
		}
		i++;
		if (strcmp(pos[i], "default") == 0)
			v = json_null();
		else
			v = json_string(pos[i]);
		json_object_set_new(req, key, v);
	}
	return (req);
}

static void
print_socket(json_t *r)
{
	const char	*family = "?", *type = "?";
	json_int_t	 mark = 0;

	json_unpack(r, "{s?s, s?s, s?I}", "family", &family, "type", &type,
	    "mark", &mark);
	printf("protected %s/%s socket received, SO_MARK 0x%llx (%s)\n",
	    family, type, mark, mark == FZC_FWMARK ? "as expected" :
	    "WRONG");
}

/*
 * The options fzc takes after the command, as before it, are picked out
 * of ARGS; the rest stays in order in *pos. netcheck's own options go
 * through untouched, with their values (a password may look like an
 * option).
 */
static int
cmd_args(const struct fzc_cmd *c, int argc, char *argv[], char **pos,
    const char **path, int *json)
{
	static const char	*netcheck_valued[] = { "--relay", "--username",
	    "--password", "--password-file" };
	size_t			 k;
	int			 i, n = 0, help = 0, netcheck, valued;

	netcheck = strcmp(c->name, "netcheck") == 0;
	pos[n++] = argv[0];
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (++i < argc)
				pos[n++] = argv[i];
			break;
		}
		if (strcmp(argv[i], "--json") == 0)
			*json = 1;
		else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)
			help = 1;
		else if (strcmp(argv[i], "--control-socket") == 0) {
			if (++i == argc)
				usage_error("%s needs a PATH",
				    "--control-socket");
			*path = argv[i];
		} else if (strncmp(argv[i], "--control-socket=", 17) == 0)
			*path = argv[i] + 17;
		else if ((strcmp(c->name, "status") == 0 &&
		    strcmp(argv[i], "--watch") == 0) ||
		    (strcmp(c->name, "settings") == 0 &&
		    strcmp(argv[i], "--insecure") == 0))
			pos[n++] = argv[i];
		else if (netcheck) {
			valued = 0;
			for (k = 0; k < sizeof(netcheck_valued) /
			    sizeof(netcheck_valued[0]); k++)
				if (strcmp(argv[i], netcheck_valued[k]) == 0)
					valued = 1;
			pos[n++] = argv[i];
			if (valued && i + 1 < argc)
				pos[n++] = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "fzc %s: unknown option %s\n",
			    c->name, argv[i]);
			exit(EXIT_USAGE);
		} else
			pos[n++] = argv[i];
	}
	pos[n] = NULL;
	if (help) {
		cmd_help(c);
		exit(0);
	}
	return (n);
}

static __dead void
cmd_usage(const struct fzc_cmd *c)
{
	fprintf(stderr, "usage: fzc %s%s%s\n", c->name,
	    c->args[0] != '\0' ? " " : "", c->args);
	exit(EXIT_USAGE);
}

int
main(int argc, char *argv[])
{
	static const struct option	 longopts[] = {
		{ "control-socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const struct fzc_cmd	*c;
	const char	*path = FZC_CONTROL_SOCKET, *error = NULL;
	void		 (*print)(json_t *) = print_ok;
	json_t		*req = NULL, *reply;
	char		**pos, *s, *token;
	int		 ch, json = 0, ok, n;

	/* "+": what follows the command is the command's to parse. */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			path = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			return (0);
		case 'V':
			printf("fzc %s\n", FZC_VERSION);
			return (0);
		case ':':
			usage_error("%s needs an argument", argv[optind - 1]);
		default:
			usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage_error("%s", "no command given");
	if ((c = cmd_find(argv[0])) == NULL)
		usage_error("unknown command '%s'", argv[0]);
	pos = xreallocarray(NULL, (size_t)argc + 1, sizeof(*pos));
	n = cmd_args(c, argc, argv, pos, &path, &json);

	if (strcmp(c->name, "help") == 0) {
		if (n == 1)
			usage(stdout);
		else if (n == 2 && (c = cmd_find(pos[1])) != NULL)
			cmd_help(c);
		else
			usage_error("help: unknown command '%s'", pos[1]);
		free(pos);
		return (0);
	}
	if (strcmp(c->name, "netcheck") == 0 && n > 1) {
		/* Relays given: no daemon. */
		ok = netcheck_main(n, pos, json);
		free(pos);
		return (ok);
	}
	if (strcmp(c->name, "netcheck") == 0) {
		req = json_pack("{s:s}", "command", "netcheck");
		print = print_netcheck;
	} else if (strcmp(c->name, "status") == 0 && n == 2 &&
	    strcmp(pos[1], "--watch") == 0) {
		free(pos);
		return (fzc_watch(path, json));
	} else if (strcmp(c->name, "status") == 0 && n == 1) {
		req = json_pack("{s:s}", "command", "status");
		print = print_status;
	} else if (strcmp(c->name, "resources") == 0 && n == 1) {
		req = json_pack("{s:s}", "command", "resources");
		print = print_resources;
	} else if (strcmp(c->name, "sign-in") == 0 && n == 1) {
		token = read_token();
		req = json_pack("{s:s, s:s}", "command", "sign-in", "token",
		    token);
		explicit_bzero(token, strlen(token));
		free(token);
	} else if (strcmp(c->name, "sign-out") == 0 && n == 1)
		req = json_pack("{s:s}", "command", "sign-out");
	else if (strcmp(c->name, "internet") == 0 && n == 2 &&
	    (strcmp(pos[1], "on") == 0 || strcmp(pos[1], "off") == 0))
		req = json_pack("{s:s, s:b}", "command", "internet", "enabled",
		    strcmp(pos[1], "on") == 0);
	else if (strcmp(c->name, "peers") == 0 && n == 1) {
		req = json_pack("{s:s}", "command", "peers");
		print = print_peers;
	} else if (strcmp(c->name, "settings") == 0) {
		req = settings_request(n, pos);
		print = print_settings;
	} else if (strcmp(c->name, "debug") == 0 && n >= 2 && n <= 4 &&
	    strcmp(pos[1], "protected-socket") == 0) {
		req = json_pack("{s:s, s:s, s:s}", "command",
		    "protected-socket", "family", n > 2 ? pos[2] : "inet",
		    "type", n > 3 ? pos[3] : "udp");
		print = print_socket;
	}
	free(pos);
	if (req == NULL)
		cmd_usage(c);

	reply = fzc_request(path, req);
	json_decref(req);
	ok = json_is_true(json_object_get(reply, "ok"));
	if (json) {
		s = json_dumps(reply, JSON_COMPACT);
		printf("%s\n", s ? s : "{}");
		free(s);
	} else if (ok)
		print(reply);
	else {
		error = json_string_value(json_object_get(reply, "error"));
		fprintf(stderr, "fzc: %s\n", error ? error : "request failed");
		if (error != NULL && strstr(error, "not in group fzc") != NULL)
			fprintf(stderr, "Join group fzc: usermod -aG fzc USER "
			    "(then log in again)\n");
	}
	/* netcheck: success means a relay allows an allocation. */
	if (ok && print == print_netcheck)
		ok = netcheck_ok(reply);
	json_decref(reply);
	return (ok ? 0 : 1);
}
