/*
 * netcheck.c: fzc netcheck, for people whose connection will not come up.
 *
 * Every address of every relay named on the command line gets a TURN
 * client from tunneld/nat, driven here with the real clock: BINDING,
 * ALLOCATE with the long-term credentials, then REFRESH with lifetime 0
 * to delete the allocation.  All addresses of one family share one UDP
 * socket, as in tunneld, so the server-reflexive addresses the relays
 * report can be compared: if they agree, the NAT maps that socket to one
 * public address whatever the destination (endpoint-independent mapping).
 *
 * No daemon is needed; everything runs concurrently and within
 * RESOLVE_TIMEOUT + PROBE_TIMEOUT + DELETE_TIMEOUT.
 */

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/netcheck.h"
#include "common/timer.h"
#include "common/util.h"
#include "tunneld/nat/stun.h"
#include "tunneld/nat/turn.h"

#define RESOLVE_TIMEOUT	(3 * NSEC_PER_SEC)
#define PROBE_TIMEOUT	(5 * NSEC_PER_SEC)	/* per address, until allocated */
#define DELETE_TIMEOUT	(2 * NSEC_PER_SEC)	/* else the relay expires it */
#define RELAY_PORT	"3478"
#define PASSWORD_MAX	1024
#define DGRAM_MAX	2048
#define ADDR_STRLEN	(INET6_ADDRSTRLEN + 8)

struct relay {
	char		*spec;		/* as given, for the report */
	char		*host;
	char		*port;
	char		*username;
	char		*password;
	struct addrinfo	 hints;
	struct gaicb	 gai;
	const char	*error;		/* name resolution */
};

struct probe {
	struct relay		*relay;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	struct stun_addr	 addr;
	int			 fd;
	struct turn_client	*turn;
	uint64_t		 start;
	uint64_t		 deadline;
	bool			 active;	/* still driven */
	bool			 done;		/* the verdict is in */
	bool			 reachable;
	bool			 allocated;
	uint64_t		 rtt;
	struct stun_addr	 srflx;
	struct stun_addr	 relayed[2];
	size_t			 nrelayed;
	char			 error[128];
};

struct netcheck {
	struct relay	*relays;
	size_t		 nrelays;
	struct probe	*probes;
	size_t		 nprobes;
	int		 fd4;
	int		 fd6;
	bool		 gai_busy;	/* a lookup outlived gai_cancel() */
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: fzc [--json] netcheck --relay HOST[:PORT] --username USER\n"
	    "           {--password-file FILE | --password PASSWORD} "
	    "[--relay ...]\n"
	    "Credentials follow the --relay they belong to; the port "
	    "defaults to " RELAY_PORT ".\n");
}

static void
netcheck_random(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	arc4random_buf(buf, len);
}

static const char *
addr_str(const struct stun_addr *a, char *buf, size_t size)
{
	char	ip[INET6_ADDRSTRLEN];

	/* Cannot fail: only AF_INET and AF_INET6 addresses are made. */
	inet_ntop(a->family, a->ip, ip, sizeof(ip));
	snprintf(buf, size, a->family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
	    a->port);
	return (buf);
}

static bool
sa_to_stun(const struct sockaddr_storage *ss, struct stun_addr *a)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)ss;

	memset(a, 0, sizeof(*a));
	a->family = ss->ss_family;
	switch (ss->ss_family) {
	case AF_INET:
		a->port = ntohs(sin->sin_port);
		memcpy(a->ip, &sin->sin_addr, 4);
		return (true);
	case AF_INET6:
		a->port = ntohs(sin6->sin6_port);
		memcpy(a->ip, &sin6->sin6_addr, 16);
		return (true);
	}
	return (false);
}

/* HOST, HOST:PORT, [V6]:PORT, or a bare IPv6 address. */
static int
split_hostport(const char *spec, char **host, char **port)
{
	const char	*colon, *end, *p = NULL;
	char		*ep;
	long		 n;

	if (spec[0] == '[') {
		if ((end = strchr(spec, ']')) == NULL ||
		    (end[1] != '\0' && end[1] != ':'))
			return (-1);
		*host = xstrdup(spec + 1);
		(*host)[end - spec - 1] = '\0';
		if (end[1] == ':')
			p = end + 2;
	} else if ((colon = strchr(spec, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL) {
		*host = xstrdup(spec);
		(*host)[colon - spec] = '\0';
		p = colon + 1;
	} else
		*host = xstrdup(spec);
	if (p != NULL) {
		errno = 0;
		n = strtol(p, &ep, 10);
		if (p[0] < '0' || p[0] > '9' || *ep != '\0' || errno != 0 ||
		    n < 1 || n > 65535)
			return (-1);
	}
	*port = xstrdup(p != NULL ? p : RELAY_PORT);
	return ((*host)[0] == '\0' ? -1 : 0);
}

/* The first line of FILE; the copy on the stack is wiped. */
static char *
read_password_file(const char *path)
{
	char	 buf[PASSWORD_MAX + 1], *pw = NULL;
	size_t	 len = 0;
	ssize_t	 n;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "fzc netcheck: %s: %s\n", path,
		    strerror(errno));
		return (NULL);
	}
	while (len < sizeof(buf) &&
	    ((n = read(fd, buf + len, sizeof(buf) - len)) > 0 ||
	    (n == -1 && errno == EINTR)))
		if (n > 0)
			len += (size_t)n;
	if (n == -1)
		fprintf(stderr, "fzc netcheck: %s: %s\n", path,
		    strerror(errno));
	else if (len == sizeof(buf) && memchr(buf, '\n', len) == NULL)
		fprintf(stderr, "fzc netcheck: %s: first line longer than "
		    "%d bytes\n", path, PASSWORD_MAX);
	else {
		buf[len < sizeof(buf) ? len : sizeof(buf) - 1] = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
		if (buf[0] == '\0')
			fprintf(stderr, "fzc netcheck: %s: no password on "
			    "the first line\n", path);
		else
			pw = xstrdup(buf);
	}
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return (pw);
}

static void
relays_free(struct relay *relays, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(relays[i].spec);
		free(relays[i].host);
		free(relays[i].port);
		free(relays[i].username);
		if (relays[i].password != NULL) {
			explicit_bzero(relays[i].password,
			    strlen(relays[i].password));
			free(relays[i].password);
		}
		if (relays[i].gai.ar_result != NULL)
			freeaddrinfo(relays[i].gai.ar_result);
	}
	free(relays);
}

/*
 * Every --password must be read, and wiped from argv, even when the
 * command line is wrong: errors do not stop the loop, and arguments are
 * permuted so that a stray word does not end it either.
 */
static int
parse_args(struct netcheck *nc, int argc, char *argv[])
{
	static const struct option	 longopts[] = {
		{ "relay", required_argument, NULL, 'r' },
		{ "username", required_argument, NULL, 'u' },
		{ "password", required_argument, NULL, 'p' },
		{ "password-file", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct relay	*r = NULL;
	char		*secret;
	size_t		 i;
	int		 ch, bad = 0;

	/* fzc's own getopt_long ran first: 0 makes glibc start afresh. */
	optind = 0;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		secret = NULL;
		if (ch == 'p') {
			secret = xstrdup(optarg);
			explicit_bzero(optarg, strlen(optarg));
		} else if (ch == 'P' && (secret = read_password_file(optarg)) ==
		    NULL)
			bad = 1;
		switch (ch) {
		case 'r':
			nc->relays = xreallocarray(nc->relays,
			    nc->nrelays + 1, sizeof(*nc->relays));
			r = &nc->relays[nc->nrelays++];
			memset(r, 0, sizeof(*r));
			r->spec = xstrdup(optarg);
			if (split_hostport(optarg, &r->host, &r->port) == -1) {
				fprintf(stderr, "fzc netcheck: %s: not "
				    "HOST[:PORT]\n", optarg);
				bad = 1;
			}
			break;
		case 'u':
			if (r == NULL || r->username != NULL) {
				fprintf(stderr, "fzc netcheck: --username "
				    "must follow its --relay, once\n");
				bad = 1;
			} else if (strlen(optarg) > STUN_MAX_USERNAME) {
				fprintf(stderr, "fzc netcheck: username "
				    "longer than %d bytes\n",
				    STUN_MAX_USERNAME);
				bad = 1;
			} else
				r->username = xstrdup(optarg);
			break;
		case 'p':
		case 'P':
			if (r == NULL || r->password != NULL) {
				fprintf(stderr, "fzc netcheck: a password must "
				    "follow its --relay, once\n");
				bad = 1;
			} else if (secret != NULL) {
				r->password = secret;
				secret = NULL;
			}
			break;
		default:
			bad = 1;
			break;
		}
		if (secret != NULL) {
			explicit_bzero(secret, strlen(secret));
			free(secret);
		}
	}
	if (bad) {
		usage();
		return (-1);
	}
	if (optind < argc) {
		fprintf(stderr, "fzc netcheck: unexpected argument: %s\n",
		    argv[optind]);
		usage();
		return (-1);
	}
	if (nc->nrelays == 0) {
		fprintf(stderr, "fzc netcheck: no --relay given; asking the "
		    "daemon is not supported yet\n");
		return (-1);
	}
	for (i = 0; i < nc->nrelays; i++)
		if (nc->relays[i].username == NULL ||
		    nc->relays[i].password == NULL) {
			fprintf(stderr, "fzc netcheck: %s: --username and "
			    "--password or --password-file needed\n",
			    nc->relays[i].spec);
			bad = 1;
		}
	if (bad) {
		usage();
		return (-1);
	}
	return (0);
}

/* All names at once, so a dead resolver costs RESOLVE_TIMEOUT in all. */
static void
resolve(struct netcheck *nc)
{
	struct gaicb	**list, **wait;
	struct timespec	 ts;
	struct relay	*r;
	uint64_t	 now, end;
	size_t		 i, n, pending;
	int		 e;

	list = xcalloc(nc->nrelays, sizeof(*list));
	wait = xcalloc(nc->nrelays, sizeof(*wait));
	for (i = n = 0; i < nc->nrelays; i++) {
		r = &nc->relays[i];
		r->hints.ai_socktype = SOCK_DGRAM;
		r->hints.ai_protocol = IPPROTO_UDP;
		r->hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
		/*
		 * Addresses need no resolver thread: getaddrinfo_a's threads
		 * are glibc's own, unknown to the sanitizers.
		 */
		if (getaddrinfo(r->host, r->port, &r->hints,
		    &r->gai.ar_result) == 0)
			continue;
		r->hints.ai_flags = AI_NUMERICSERV;
		r->gai.ar_name = r->host;
		r->gai.ar_service = r->port;
		r->gai.ar_request = &r->hints;
		list[n++] = &r->gai;
	}
	if (n == 0)
		goto out;
	if ((e = getaddrinfo_a(GAI_NOWAIT, list, (int)n, NULL)) != 0) {
		for (i = 0; i < nc->nrelays; i++)
			if (nc->relays[i].gai.ar_name != NULL)
				nc->relays[i].error = gai_strerror(e);
		goto out;
	}
	end = util_now_ns() + RESOLVE_TIMEOUT;
	for (;;) {
		pending = 0;
		for (i = 0; i < n; i++) {
			/* Finished ones would end gai_suspend() at once. */
			wait[i] = gai_error(list[i]) == EAI_INPROGRESS ?
			    list[i] : NULL;
			if (wait[i] != NULL)
				pending++;
		}
		if (pending == 0 || (now = util_now_ns()) >= end)
			break;
		ts.tv_sec = (end - now) / NSEC_PER_SEC;
		ts.tv_nsec = (end - now) % NSEC_PER_SEC;
		(void)gai_suspend((const struct gaicb *const *)wait, (int)n,
		    &ts);
	}
	for (i = 0; i < nc->nrelays; i++) {
		r = &nc->relays[i];
		if (r->gai.ar_name == NULL)	/* an address, done above */
			continue;
		/* One that finished in between (EAI_ALLDONE) is used. */
		if (gai_error(&r->gai) == EAI_INPROGRESS &&
		    gai_cancel(&r->gai) == EAI_NOTCANCELED) {
			nc->gai_busy = true;
			r->error = "name resolution timed out";
		} else if ((e = gai_error(&r->gai)) == EAI_CANCELED)
			r->error = "name resolution timed out";
		else if (e != 0)
			r->error = gai_strerror(e);
	}
out:
	free(wait);
	free(list);
}

static int
udp_socket(int family)
{
	int	fd, mark = FZC_FWMARK;

	if ((fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return (-1);
	/*
	 * As root, bypass the tunnel the way tunneld's own sockets do;
	 * anyone else lacks CAP_NET_ADMIN and takes the ordinary routes.
	 */
	(void)setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark));
	return (fd);
}

static void
probe_error(struct probe *p, const char *fmt, ...)
{
	va_list	ap;

	/* Once allocated, only the deletion is left: nothing to report. */
	if (p->done)
		return;
	va_start(ap, fmt);
	vsnprintf(p->error, sizeof(p->error), fmt, ap);
	va_end(ap);
	p->done = true;
}

static void
probe_init(struct netcheck *nc, struct probe *p, struct relay *r,
    const struct addrinfo *ai)
{
	struct turn_config	 cfg;
	int			*fdp;

	memset(p, 0, sizeof(*p));
	p->relay = r;
	memcpy(&p->ss, ai->ai_addr, ai->ai_addrlen);
	p->sslen = ai->ai_addrlen;
	sa_to_stun(&p->ss, &p->addr);
	fdp = ai->ai_family == AF_INET ? &nc->fd4 : &nc->fd6;
	if (*fdp == -1 && (*fdp = udp_socket(ai->ai_family)) == -1) {
		probe_error(p, "no %s socket: %s", ai->ai_family == AF_INET ?
		    "IPv4" : "IPv6", strerror(errno));
		return;
	}
	p->fd = *fdp;
	memset(&cfg, 0, sizeof(cfg));
	cfg.username = r->username;
	cfg.password = r->password;
	cfg.random = netcheck_random;
	if ((p->turn = turn_new(&cfg)) == NULL) {
		probe_error(p, "out of memory");
		return;
	}
	p->active = true;
}

static void
probes_init(struct netcheck *nc)
{
	struct addrinfo	*ai;
	struct relay	*r;
	size_t		 i, n = 0, first;

	/* A relay with an error may still be resolving: hands off. */
	for (i = 0; i < nc->nrelays; i++)
		for (ai = nc->relays[i].gai.ar_result;
		    nc->relays[i].error == NULL && ai != NULL;
		    ai = ai->ai_next)
			if (ai->ai_family == AF_INET ||
			    ai->ai_family == AF_INET6)
				n++;
	if (n > 0)
		nc->probes = xcalloc(n, sizeof(*nc->probes));
	for (i = 0; i < nc->nrelays; i++) {
		r = &nc->relays[i];
		if (r->error != NULL)
			continue;
		first = nc->nprobes;
		for (ai = r->gai.ar_result; ai != NULL; ai = ai->ai_next)
			if (ai->ai_family == AF_INET ||
			    ai->ai_family == AF_INET6)
				probe_init(nc, &nc->probes[nc->nprobes++], r,
				    ai);
		if (nc->nprobes == first)
			r->error = "no IPv4 or IPv6 address";
	}
}

/* Timers, transmissions and events of one client, at time now. */
static void
probe_step(struct probe *p, uint64_t now)
{
	uint8_t			 buf[TURN_MAX_REQ];
	struct turn_event	 ev;
	size_t			 len;

	if (now >= turn_next_deadline(p->turn))
		turn_handle_timeout(p->turn, now);
	while ((len = turn_poll_transmit(p->turn, buf, sizeof(buf))) > 0) {
		/* A full queue loses a datagram; the client retransmits. */
		if (sendto(p->fd, buf, len, 0, (struct sockaddr *)&p->ss,
		    p->sslen) != -1 || errno == EAGAIN || errno == ENOBUFS ||
		    errno == EINTR)
			continue;
		probe_error(p, "cannot send: %s", strerror(errno));
		p->active = false;
		return;
	}
	while (turn_poll_event(p->turn, &ev)) {
		switch (ev.type) {
		case TURN_EV_SRFLX:
			if (p->reachable)
				break;
			p->reachable = true;
			/* From the first BINDING, retransmissions included. */
			p->rtt = now - p->start;
			p->srflx = ev.addr;
			break;
		case TURN_EV_RELAYED:
			if (p->nrelayed < 2)
				p->relayed[p->nrelayed++] = ev.addr;
			break;
		case TURN_EV_FAILED:
			if (ev.code != 0)
				probe_error(p, "%s (STUN error %d)",
				    turn_strerror(ev.error), ev.code);
			else
				probe_error(p, "%s", turn_strerror(ev.error));
			break;
		default:
			break;
		}
	}
	switch (turn_get_state(p->turn)) {
	case TURN_ALLOCATED:
		p->allocated = p->done = true;
		break;
	case TURN_CLOSED:
	case TURN_FAILED:
		p->done = true;
		p->active = false;
		break;
	default:
		break;
	}
	if (!p->done && now >= p->deadline) {
		probe_error(p, p->reachable ? "no allocation within %llu s" :
		    "no answer within %llu s",
		    (unsigned long long)(PROBE_TIMEOUT / NSEC_PER_SEC));
		p->active = false;
	}
}

static void
receive(struct netcheck *nc, int fd, uint64_t now)
{
	uint8_t			 buf[DGRAM_MAX];
	struct sockaddr_storage	 ss;
	struct stun_addr	 from, peer;
	struct probe		*p;
	const uint8_t		*payload;
	socklen_t		 sslen;
	ssize_t			 n;
	size_t			 i, plen;

	for (;;) {
		sslen = sizeof(ss);
		if ((n = recvfrom(fd, buf, sizeof(buf), MSG_TRUNC,
		    (struct sockaddr *)&ss, &sslen)) == -1)
			return;
		if ((size_t)n > sizeof(buf) || !sa_to_stun(&ss, &from))
			continue;
		/* The same relay address given twice: each takes its own. */
		for (i = 0; i < nc->nprobes; i++) {
			p = &nc->probes[i];
			if (p->active && p->fd == fd &&
			    stun_addr_eq(&p->addr, &from) &&
			    turn_handle_input(p->turn, now, buf, (size_t)n,
			    &peer, &payload, &plen) == TURN_IN_CONSUMED)
				break;
		}
	}
}

static void
run(struct netcheck *nc)
{
	/* poll() skips a family's fd of -1. */
	struct pollfd	 pfd[2] = {
		{ .fd = nc->fd4, .events = POLLIN },
		{ .fd = nc->fd6, .events = POLLIN }
	};
	struct probe	*p;
	const char	*why;
	uint64_t	 now, next, end;
	size_t		 i;
	bool		 closing = false, busy, waiting;

	now = util_now_ns();
	end = now + PROBE_TIMEOUT + DELETE_TIMEOUT;
	for (i = 0; i < nc->nprobes; i++) {
		p = &nc->probes[i];
		p->start = now;
		p->deadline = now + PROBE_TIMEOUT;
		if (p->active && turn_start(p->turn, now) == -1) {
			probe_error(p, "%s", turn_strerror(TURN_ERR_INTERNAL));
			p->active = false;
		}
	}
	for (;;) {
		busy = waiting = false;
		for (i = 0; i < nc->nprobes; i++) {
			p = &nc->probes[i];
			if (p->active)
				probe_step(p, now);
			busy |= p->active;
			waiting |= !p->done;
		}
		if (!waiting && !closing) {
			/* Every verdict is in: delete the allocations. */
			closing = true;
			if (now + DELETE_TIMEOUT < end)
				end = now + DELETE_TIMEOUT;
			for (i = 0; i < nc->nprobes; i++) {
				p = &nc->probes[i];
				if (!p->active)
					continue;
				turn_close(p->turn, now);
				probe_step(p, now);
			}
			continue;
		}
		if (!busy || now >= end)
			return;
		next = end;
		for (i = 0; i < nc->nprobes; i++) {
			p = &nc->probes[i];
			if (!p->active)
				continue;
			if (turn_next_deadline(p->turn) < next)
				next = turn_next_deadline(p->turn);
			if (!p->done && p->deadline < next)
				next = p->deadline;
		}
		/* Rounded up: waking early would only spin. */
		if (poll(pfd, 2, next > now ? (int)((next - now +
		    NSEC_PER_MSEC - 1) / NSEC_PER_MSEC) : 0) == -1 &&
		    errno != EINTR) {
			why = strerror(errno);
			for (i = 0; i < nc->nprobes; i++)
				probe_error(&nc->probes[i], "poll: %s", why);
			return;
		}
		now = util_now_ns();
		for (i = 0; i < 2; i++)
			if (pfd[i].revents & POLLIN)
				receive(nc, pfd[i].fd, now);
	}
}

/*
 * 1 if every pair of relay addresses of one family saw the same mapping,
 * 0 if some pair did not, -1 without such a pair.
 */
static int
nat_verdict(const struct netcheck *nc)
{
	const struct probe	*p, *q;
	size_t			 i, j;
	int			 verdict = -1;

	for (i = 0; i < nc->nprobes; i++) {
		p = &nc->probes[i];
		for (j = i + 1; p->reachable && j < nc->nprobes; j++) {
			q = &nc->probes[j];
			if (!q->reachable || q->addr.family != p->addr.family ||
			    stun_addr_eq(&q->addr, &p->addr))
				continue;
			if (!stun_addr_eq(&q->srflx, &p->srflx))
				return (0);
			verdict = 1;
		}
	}
	return (verdict);
}

static json_t *
json_addr(const struct stun_addr *a)
{
	char	buf[ADDR_STRLEN];

	return (json_string(addr_str(a, buf, sizeof(buf))));
}

static json_t *
json_entry(const struct relay *r, const struct probe *p)
{
	json_t	*relayed;
	size_t	 i;

	relayed = json_array();
	for (i = 0; p != NULL && i < p->nrelayed; i++)
		json_array_append_new(relayed, json_addr(&p->relayed[i]));
	/* Microseconds are all a round trip measured here can tell. */
	return (json_pack("{s:s, s:o, s:b, s:o, s:o, s:{s:b, s:o, s:o}}",
	    "relay", r->spec,
	    "address", p != NULL ? json_addr(&p->addr) : json_null(),
	    "reachable", p != NULL && p->reachable,
	    "rtt_ms", p != NULL && p->reachable ?
	    json_real((double)(p->rtt / NSEC_PER_USEC) / 1000) : json_null(),
	    "srflx", p != NULL && p->reachable ? json_addr(&p->srflx) :
	    json_null(),
	    "allocation",
	    "ok", p != NULL && p->allocated,
	    "relayed", relayed,
	    "error", p == NULL ? json_string(r->error) :
	    p->allocated ? json_null() : json_string(p->error)));
}

static void
report_json(const struct netcheck *nc, int verdict)
{
	const struct relay	*r;
	json_t			*relays, *o;
	char			*s;
	size_t			 i, j;
	bool			 any;

	relays = json_array();
	for (i = 0; i < nc->nrelays; i++) {
		r = &nc->relays[i];
		any = false;
		for (j = 0; j < nc->nprobes; j++)
			if (nc->probes[j].relay == r) {
				json_array_append_new(relays,
				    json_entry(r, &nc->probes[j]));
				any = true;
			}
		if (!any)
			json_array_append_new(relays, json_entry(r, NULL));
	}
	o = json_pack("{s:o, s:{s:o}}", "relays", relays, "nat",
	    "endpoint_independent", verdict == -1 ? json_null() :
	    json_boolean(verdict));
	s = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(9)) :
	    NULL;
	printf("%s\n", s != NULL ? s : "{}");
	free(s);
	json_decref(o);
}

static void
report_text(const struct netcheck *nc, int verdict)
{
	const struct relay	*r;
	const struct probe	*p;
	char			 buf[ADDR_STRLEN];
	size_t			 i, j, k;

	for (i = 0; i < nc->nrelays; i++) {
		r = &nc->relays[i];
		if (r->error != NULL) {
			printf("%s\n\tnot resolved: %s\n", r->spec, r->error);
			continue;
		}
		for (j = 0; j < nc->nprobes; j++) {
			p = &nc->probes[j];
			if (p->relay != r)
				continue;
			addr_str(&p->addr, buf, sizeof(buf));
			if (strcmp(buf, r->spec) == 0)
				printf("%s\n", r->spec);
			else
				printf("%s (%s)\n", r->spec, buf);
			if (p->reachable)
				printf("\treachable:  yes, rtt %.1f ms\n"
				    "\tsrflx:      %s\n",
				    (double)p->rtt / NSEC_PER_MSEC,
				    addr_str(&p->srflx, buf, sizeof(buf)));
			else
				printf("\treachable:  no\n");
			if (!p->allocated) {
				printf("\tallocation: failed, %s\n", p->error);
				continue;
			}
			printf("\tallocation: ok, relayed");
			for (k = 0; k < p->nrelayed; k++)
				printf(" %s", addr_str(&p->relayed[k], buf,
				    sizeof(buf)));
			printf("\n");
		}
	}
	if (verdict == 1)
		printf("NAT mapping: endpoint-independent (every relay saw "
		    "the same address and port)\n");
	else if (verdict == 0)
		printf("NAT mapping: endpoint-dependent (relays saw "
		    "different addresses or ports: hole punching to peers "
		    "behind NAT will likely fail, expect relayed traffic)\n");
	else
		printf("NAT mapping: unknown (needs answers from two relay "
		    "addresses of one family)\n");
}

int
netcheck_main(int argc, char *argv[], int json)
{
	struct netcheck	 nc;
	size_t		 i;
	int		 verdict, ok = 0;

	memset(&nc, 0, sizeof(nc));
	nc.fd4 = nc.fd6 = -1;
	if (parse_args(&nc, argc, argv) == -1) {
		relays_free(nc.relays, nc.nrelays);
		return (2);
	}
	resolve(&nc);
	probes_init(&nc);
	run(&nc);
	verdict = nat_verdict(&nc);
	if (json)
		report_json(&nc, verdict);
	else
		report_text(&nc, verdict);
	for (i = 0; i < nc.nprobes; i++) {
		ok |= nc.probes[i].allocated;
		turn_free(nc.probes[i].turn);
	}
	free(nc.probes);
	if (nc.fd4 != -1)
		close(nc.fd4);
	if (nc.fd6 != -1)
		close(nc.fd6);
	/* A resolver thread may still write into the relays: leave them. */
	if (!nc.gai_busy)
		relays_free(nc.relays, nc.nrelays);
	return (ok ? 0 : 1);
}
