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

static __dead void
usage(void)
{
	fprintf(stderr,
	    "usage: fzc [--control-socket PATH] [--json] COMMAND\n"
	    "commands:\n"
	    "  status                          daemon state and worker counters\n"
	    "  status --watch                  the portal state, resources and "
	    "paths,\n"
	    "                                  again whenever they change\n"
	    "  peers                           WireGuard peers, as wg show\n"
	    "  resources                       resources from the portal\n"
	    "  sign-in                         store a token, read from "
	    "standard input\n"
	    "  sign-out                        delete the token, end the "
	    "session\n"
	    "  internet on|off                 route all traffic through "
	    "the Internet\n"
	    "                                  resource, or not (kept "
	    "across restarts)\n"
	    "  netcheck                        the portal's relays and the "
	    "NAT, as the daemon\n"
	    "                                  finds them\n"
	    "  netcheck --relay HOST[:PORT] --username U --password-file F\n"
	    "                                  test relays and NAT, no daemon\n"
	    "  debug protected-socket [inet|inet6] [udp|tcp]\n"
	    "                                  check that tunneld hands out "
	    "marked sockets\n");
	exit(2);
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
		if (errno == ENOENT || errno == ECONNREFUSED)
			fprintf(stderr, "fzc: fzc is not running (nothing "
			    "listens on %s)\n", path);
		else if (errno == EACCES || errno == EPERM)
			fprintf(stderr, "fzc: permission denied on %s: run "
			    "as root or as a member of group fzc\n", path);
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
	const char	*state, *reason, *role, *internet;
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

static void
print_peers(json_t *r)
{
	json_t		*p;
	json_int_t	 hs, ago;
	const char	*ep, *path;
	size_t		 i;

	json_array_foreach(json_object_get(r, "peers"), i, p) {
		if (i > 0)
			printf("\n");
		printf("peer: %s\n", json_string_value(json_object_get(p,
		    "public_key")));
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
		printf("%-16s %s\n", v != NULL ? v : "-",
		    json_is_true(json_object_get(o, "authorized")) ?
		    "authorized" : "-");
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
	const char	*path, *ep;
	size_t		 i;

	if (json_array_size(json_object_get(r, "peers")) == 0)
		printf("no peers\n");
	json_array_foreach(json_object_get(r, "peers"), i, p) {
		path = json_string_value(json_object_get(p, "path"));
		ep = json_string_value(json_object_get(p, "endpoint"));
		printf("peer %s: %s%s%s\n", json_string_value(
		    json_object_get(p, "public_key")),
		    path != NULL ? path : "no path yet",
		    ep != NULL ? " via " : "", ep != NULL ? ep : "");
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

int
main(int argc, char *argv[])
{
	static const struct option	 longopts[] = {
		{ "control-socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*path = FZC_CONTROL_SOCKET, *error = NULL;
	void		 (*print)(json_t *);
	json_t		*req, *reply;
	char		*s, *token;
	int		 ch, json = 0, ok;

	while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			path = optarg;
			break;
		case 'j':
			json = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 1 && strcmp(argv[0], "netcheck") == 0) {
		/* The relays the portal gave, through the daemon. */
		req = json_pack("{s:s}", "command", "netcheck");
		print = print_netcheck;
	} else if (argc >= 1 && strcmp(argv[0], "netcheck") == 0)
		return (netcheck_main(argc, argv, json));
	else if (argc == 2 && strcmp(argv[0], "status") == 0 &&
	    strcmp(argv[1], "--watch") == 0)
		return (fzc_watch(path, json));
	else if (argc == 1 && strcmp(argv[0], "status") == 0) {
		req = json_pack("{s:s}", "command", "status");
		print = print_status;
	} else if (argc == 1 && strcmp(argv[0], "resources") == 0) {
		req = json_pack("{s:s}", "command", "resources");
		print = print_resources;
	} else if (argc == 1 && strcmp(argv[0], "sign-in") == 0) {
		token = read_token();
		req = json_pack("{s:s, s:s}", "command", "sign-in", "token",
		    token);
		explicit_bzero(token, strlen(token));
		free(token);
		print = print_ok;
	} else if (argc == 1 && strcmp(argv[0], "sign-out") == 0) {
		req = json_pack("{s:s}", "command", "sign-out");
		print = print_ok;
	} else if (argc == 2 && strcmp(argv[0], "internet") == 0 &&
	    (strcmp(argv[1], "on") == 0 || strcmp(argv[1], "off") == 0)) {
		req = json_pack("{s:s, s:b}", "command", "internet", "enabled",
		    strcmp(argv[1], "on") == 0);
		print = print_ok;
	} else if (argc == 1 && strcmp(argv[0], "peers") == 0) {
		req = json_pack("{s:s}", "command", "peers");
		print = print_peers;
	} else if (argc >= 2 && argc <= 4 && strcmp(argv[0], "debug") == 0 &&
	    strcmp(argv[1], "protected-socket") == 0) {
		req = json_pack("{s:s, s:s, s:s}", "command",
		    "protected-socket", "family", argc > 2 ? argv[2] : "inet",
		    "type", argc > 3 ? argv[3] : "udp");
		print = print_socket;
	} else
		usage();

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
	}
	/* netcheck: success means a relay allows an allocation. */
	if (ok && print == print_netcheck)
		ok = netcheck_ok(reply);
	json_decref(reply);
	return (ok ? 0 : 1);
}
