/*
 * WebSocket client against a real server: ws_server.py on Debian's
 * python3-websockets, over TLS with a CA made here with openssl(1).
 */

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <event2/event.h>

#include "controld/ws.h"
#include "tests/unit/check_main.h"

#define MAXMSG		64
#define WATCHDOG_S	20
#define UA		"Debian/12 headless-client/1.5.6 (x86_64; 6.1.0-fzc)"
#define TOKEN		"Bearer s3cr3t.T0KEN-value"

static char	 certdir[] = "/tmp/check_ws.XXXXXX";
static char	 ca_file[64], other_ca[64];

struct server {
	pid_t		 pid;
	FILE		*out;
	int		 port;
};

struct tc {
	struct event_base	*base;
	struct event		*watchdog;
	bool			 expired;
	struct ws		*ws;
	struct server		 srv;
	int			 opened;
	int			 closed;
	struct ws_close_info	 ci;
	char			*msg[MAXMSG];
	size_t			 len[MAXMSG];
	int			 nmsg;
	int			 sockets;	/* open_socket calls */
	bool			 close_on_text;
	bool			 send_on_open;
	bool			 small_sndbuf;
	bool			 no_sockets;
};

static void
server_start(struct server *s, const char *scenario, bool plain)
{
	const char	*srcdir = getenv("srcdir");
	char		 path[4096], line[128];
	int		 p[2];

	snprintf(path, sizeof(path), "%s/tests/unit/ws_server.py",
	    srcdir != NULL ? srcdir : ".");
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	s->pid = fork();
	ck_assert_int_ne(s->pid, -1);
	if (s->pid == 0) {
		/* Never outlive the test, even when an assertion ends it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(p[1], STDOUT_FILENO);
		close(p[0]);
		close(p[1]);
		execl("/usr/bin/python3", "python3", path, scenario,
		    plain ? "--plain" : certdir, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	s->out = fdopen(p[0], "r");
	ck_assert_ptr_nonnull(s->out);
	/* Lines stay in the pipe, where poll() in server_expect sees them. */
	setvbuf(s->out, NULL, _IONBF, 0);
	ck_assert_msg(fgets(line, sizeof(line), s->out) != NULL,
	    "ws_server.py did not start");
	ck_assert_int_eq(sscanf(line, "PORT %d", &s->port), 1);
}

/* Waits for the next event line of the server. */
static void
server_expect(struct server *s, const char *want)
{
	struct pollfd	 pfd = { fileno(s->out), POLLIN, 0 };
	char		 line[128];

	ck_assert_int_eq(poll(&pfd, 1, 10000), 1);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), s->out));
	line[strcspn(line, "\n")] = '\0';
	ck_assert_str_eq(line, want);
}

static void
server_stop(struct server *s)
{
	if (s->pid <= 0)
		return;
	kill(s->pid, SIGTERM);
	waitpid(s->pid, NULL, 0);
	fclose(s->out);
	s->pid = 0;
}

static void
on_open(void *arg)
{
	struct tc	*tc = arg;

	tc->opened++;
	if (tc->send_on_open)
		ck_assert_int_eq(ws_send_text(tc->ws, "from on_open", 12), 0);
}

static void
on_text(void *arg, const char *s, size_t len)
{
	struct tc	*tc = arg;

	ck_assert_int_lt(tc->nmsg, MAXMSG);
	tc->msg[tc->nmsg] = malloc(len + 1);
	ck_assert_ptr_nonnull(tc->msg[tc->nmsg]);
	memcpy(tc->msg[tc->nmsg], s, len);
	tc->msg[tc->nmsg][len] = '\0';
	tc->len[tc->nmsg++] = len;
	if (tc->close_on_text) {
		ws_close(tc->ws);
		tc->ws = NULL;
	}
}

static void
on_close(void *arg, const struct ws_close_info *ci)
{
	struct tc	*tc = arg;

	tc->closed++;
	tc->ci = *ci;
}

static int
count_socket(void *arg, int family, int type, int protocol)
{
	struct tc	*tc = arg;
	int		 s, sz = 4096;

	tc->sockets++;
	if (tc->no_sockets) {
		errno = EACCES;
		return (-1);
	}
	s = socket(family, type, protocol);
	/* Makes writes stop half way, long before the server reads. */
	if (s != -1 && tc->small_sndbuf)
		setsockopt(s, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	return (s);
}

static void
expire(evutil_socket_t fd, short what, void *arg)
{
	struct tc	*tc = arg;

	(void)fd;
	(void)what;
	tc->expired = true;
}

static void
tc_init(struct tc *tc)
{
	struct timeval	 tv = { WATCHDOG_S, 0 };

	memset(tc, 0, sizeof(*tc));
	tc->base = event_base_new();
	ck_assert_ptr_nonnull(tc->base);
	tc->watchdog = evtimer_new(tc->base, expire, tc);
	evtimer_add(tc->watchdog, &tv);
}

static void
tc_free(struct tc *tc)
{
	int	 i;

	ws_close(tc->ws);
	server_stop(&tc->srv);
	for (i = 0; i < tc->nmsg; i++)
		free(tc->msg[i]);
	event_free(tc->watchdog);
	event_base_free(tc->base);
}

static void
tc_connect(struct tc *tc, const char *url, const char *ca,
    const char *const *headers, unsigned int timeout_ms)
{
	struct ws_config	 cfg;
	char			 err[256];

	memset(&cfg, 0, sizeof(cfg));
	cfg.url = url;
	cfg.ca_file = ca;
	cfg.headers = headers;
	cfg.open_socket = count_socket;
	cfg.timeout_ms = timeout_ms;
	cfg.arg = tc;
	cfg.on_open = on_open;
	cfg.on_text = on_text;
	cfg.on_close = on_close;
	tc->ws = ws_connect(tc->base, &cfg, err, sizeof(err));
	ck_assert_msg(tc->ws != NULL, "ws_connect: %s", err);
	/* Nothing is reported from inside ws_connect(). */
	ck_assert_int_eq(tc->opened + tc->closed, 0);
}

static void
tc_start_url(struct tc *tc, const char *scheme, const char *path,
    unsigned int timeout_ms)
{
	char	 url[256];

	snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s", scheme,
	    tc->srv.port, path);
	tc_connect(tc, url, ca_file, NULL, timeout_ms);
}

static void
tc_start(struct tc *tc, const char *scenario, bool plain, const char *path)
{
	server_start(&tc->srv, scenario, plain);
	tc_start_url(tc, plain ? "ws" : "wss", path, 0);
}

static void
run_until_open(struct tc *tc)
{
	while (!tc->opened && !tc->closed && !tc->expired)
		event_base_loop(tc->base, EVLOOP_ONCE);
	ck_assert_msg(tc->opened == 1, "not open: %s", tc->ci.error);
}

static void
run_until_msgs(struct tc *tc, int n)
{
	while (tc->nmsg < n && !tc->closed && !tc->expired)
		event_base_loop(tc->base, EVLOOP_ONCE);
	ck_assert_msg(tc->nmsg >= n, "%d messages, closed: %s", tc->nmsg,
	    tc->ci.error);
}

static void
run_until_closed(struct tc *tc)
{
	while (!tc->closed && !tc->expired)
		event_base_loop(tc->base, EVLOOP_ONCE);
	ck_assert_int_eq(tc->closed, 1);
}

static void
run_for(struct tc *tc, int ms)
{
	struct event	*stop;
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };
	bool		 expired = tc->expired;

	stop = evtimer_new(tc->base, expire, tc);
	evtimer_add(stop, &tv);
	tc->expired = false;
	while (!tc->expired)
		event_base_loop(tc->base, EVLOOP_ONCE);
	tc->expired = expired;
	event_free(stop);
}

static void
send_str(struct tc *tc, const char *s)
{
	ck_assert_int_eq(ws_send_text(tc->ws, s, strlen(s)), 0);
}

static char *
pattern(size_t len, unsigned int seed)
{
	char	*p = malloc(len);
	size_t	 i;

	ck_assert_ptr_nonnull(p);
	for (i = 0; i < len; i++)
		p[i] = 'A' + (char)((i * 7 + seed) % 26);
	return (p);
}

START_TEST(test_echo)
{
	struct tc	 tc;
	char		*big;

	tc_init(&tc);
	tc_start(&tc, "echo", false, "/");
	run_until_open(&tc);
	ck_assert_int_eq(tc.sockets, 1);
	send_str(&tc, "hello");
	run_until_msgs(&tc, 1);
	ck_assert_str_eq(tc.msg[0], "hello");

	big = pattern(200 * 1024, 3);
	ck_assert_int_eq(ws_send_text(tc.ws, big, 200 * 1024), 0);
	run_until_msgs(&tc, 2);
	ck_assert_uint_eq(tc.len[1], 200 * 1024);
	ck_assert_int_eq(memcmp(tc.msg[1], big, 200 * 1024), 0);
	free(big);

	send_str(&tc, "frag");
	run_until_msgs(&tc, 3);
	ck_assert_str_eq(tc.msg[2], "fragment");
	send_str(&tc, "ping");
	run_until_msgs(&tc, 4);
	ck_assert_str_eq(tc.msg[3], "pong received");
	send_str(&tc, "binary");
	run_until_msgs(&tc, 5);
	ck_assert_str_eq(tc.msg[4], "after binary");
	/* Exactly the limit still arrives. */
	send_str(&tc, "max");
	run_until_msgs(&tc, 6);
	ck_assert_uint_eq(tc.len[5], WS_MAX_MESSAGE);
	send_str(&tc, "");
	run_until_msgs(&tc, 7);
	ck_assert_str_eq(tc.msg[6], "");
	ck_assert_uint_eq(tc.len[6], 0);
	ck_assert_int_eq(tc.nmsg, 7);
	ck_assert_int_eq(tc.closed, 0);

	/* Our close frame reaches the server with 1000. */
	ws_close(tc.ws);
	tc.ws = NULL;
	server_expect(&tc.srv, "CLOSE_RCVD 1000");
	ck_assert_int_eq(tc.closed, 0);
	tc_free(&tc);
}
END_TEST

/*
 * Many large messages queued at once fill the socket, so writes stop
 * half way and resume from the write event (OpenSSL's retry rule).
 */
START_TEST(test_burst)
{
	struct tc	 tc;
	char		*p[MAXMSG];
	const size_t	 len = 100 * 1024;
	int		 i, n = 40;

	tc_init(&tc);
	tc.send_on_open = true;
	tc.small_sndbuf = true;
	tc_start(&tc, "echo", false, "/");
	run_until_open(&tc);
	run_until_msgs(&tc, 1);
	ck_assert_str_eq(tc.msg[0], "from on_open");
	for (i = 0; i < n; i++) {
		p[i] = pattern(len, i);
		ck_assert_int_eq(ws_send_text(tc.ws, p[i], len), 0);
	}
	run_until_msgs(&tc, n + 1);
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(tc.len[i + 1], len);
		ck_assert_msg(memcmp(tc.msg[i + 1], p[i], len) == 0,
		    "message %d differs", i);
		free(p[i]);
	}
	ck_assert_int_eq(tc.closed, 0);
	tc_free(&tc);
}
END_TEST

/* Once open and quiet, the loop sleeps: nothing fires but our timer. */
START_TEST(test_idle)
{
	struct tc	 tc;
	struct event	*stop;
	struct timeval	 tv = { 1, 0 };
	int		 loops = 0;

	tc_init(&tc);
	tc_start(&tc, "echo", false, "/");
	run_until_open(&tc);
	send_str(&tc, "settle");
	run_until_msgs(&tc, 1);
	stop = evtimer_new(tc.base, expire, &tc);
	evtimer_add(stop, &tv);
	tc.expired = false;
	while (!tc.expired) {
		event_base_loop(tc.base, EVLOOP_ONCE);
		loops++;
	}
	ck_assert_int_eq(loops, 1);
	event_free(stop);
	tc_free(&tc);
}
END_TEST

START_TEST(test_plain)
{
	struct tc	 tc;

	tc_init(&tc);
	tc_start(&tc, "echo", true, "/");
	run_until_open(&tc);
	send_str(&tc, "no tls here");
	run_until_msgs(&tc, 1);
	ck_assert_str_eq(tc.msg[0], "no tls here");
	tc_free(&tc);
}
END_TEST

START_TEST(test_peer_close)
{
	struct tc	 tc;

	tc_init(&tc);
	tc_start(&tc, "close", false, "/");
	run_until_closed(&tc);
	ck_assert_int_eq(tc.opened, 1);
	ck_assert_int_eq(tc.nmsg, 1);
	ck_assert_str_eq(tc.msg[0], "hello");
	ck_assert_int_eq(tc.ci.kind, WS_CLOSED_BY_PEER);
	ck_assert_uint_eq(tc.ci.close_code, 4000);
	ck_assert_str_eq(tc.ci.reason, "bye now");
	/* The close handshake was answered with the same code. */
	server_expect(&tc.srv, "CLOSE_RCVD 4000");
	ck_assert_int_eq(ws_send_text(tc.ws, "late", 4), -1);
	tc_free(&tc);
}
END_TEST

START_TEST(test_drop)
{
	struct tc	 tc;

	tc_init(&tc);
	tc_start(&tc, "echo", false, "/");
	run_until_open(&tc);
	send_str(&tc, "drop");
	run_until_closed(&tc);
	ck_assert_int_eq(tc.ci.kind, WS_CLOSED_BY_PEER);
	ck_assert_uint_eq(tc.ci.close_code, 1006);
	tc_free(&tc);
}
END_TEST

static void
too_big(const char *cmd, uint16_t code, const char *expect)
{
	struct tc	 tc;
	char		 line[32];

	tc_init(&tc);
	tc_start(&tc, "echo", false, "/");
	run_until_open(&tc);
	send_str(&tc, cmd);
	run_until_closed(&tc);
	ck_assert_int_eq(tc.nmsg, 0);
	ck_assert_int_eq(tc.ci.kind, WS_PROTOCOL_ERROR);
	ck_assert_uint_eq(tc.ci.close_code, code);
	ck_assert_ptr_nonnull(strstr(tc.ci.error, expect));
	snprintf(line, sizeof(line), "CLOSE_RCVD %u", code);
	server_expect(&tc.srv, line);
	tc_free(&tc);
}

START_TEST(test_too_big)
{
	too_big("toobig", 1009, "longer than");
}
END_TEST

START_TEST(test_too_big_fragments)
{
	too_big("toobig-frag", 1009, "longer than");
}
END_TEST

START_TEST(test_bad_utf8)
{
	too_big("badutf8", 1007, "UTF-8");
}
END_TEST

START_TEST(test_http_401)
{
	struct tc	 tc;
	const char	*body = "{\"error\":{\"reason\":\"invalid_token\"}}";

	tc_init(&tc);
	tc_start(&tc, "http401", false, "/");
	run_until_closed(&tc);
	ck_assert_int_eq(tc.opened, 0);
	ck_assert_msg(tc.ci.kind == WS_HTTP_STATUS, "%s", tc.ci.error);
	ck_assert_int_eq(tc.ci.http_status, 401);
	ck_assert_str_eq(tc.ci.body, body);
	ck_assert_uint_eq(tc.ci.body_len, strlen(body));
	ck_assert_str_eq(tc.ci.retry_after, "");
	tc_free(&tc);
}
END_TEST

START_TEST(test_http_503)
{
	struct tc	 tc;

	tc_init(&tc);
	tc_start(&tc, "http503", false, "/");
	run_until_closed(&tc);
	ck_assert_int_eq(tc.ci.kind, WS_HTTP_STATUS);
	ck_assert_int_eq(tc.ci.http_status, 503);
	ck_assert_str_eq(tc.ci.retry_after, "2");
	ck_assert_str_eq(tc.ci.body, "try again later\n");
	tc_free(&tc);
}
END_TEST

/* Chunked, and the server keeps the connection: the last chunk ends it. */
START_TEST(test_http_chunked)
{
	struct tc	 tc;
	struct timespec	 t0, t1;
	const char	*body = "{\"code\":\"invalid_token\"}\n";

	tc_init(&tc);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	server_start(&tc.srv, "chunked401", false);
	tc_start_url(&tc, "wss", "/", 5000);
	run_until_closed(&tc);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_eq(tc.ci.kind, WS_HTTP_STATUS);
	ck_assert_int_eq(tc.ci.http_status, 401);
	ck_assert_str_eq(tc.ci.body, body);
	ck_assert_uint_eq(tc.ci.body_len, strlen(body));
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 4);
	tc_free(&tc);
}
END_TEST

/* A status without a body is reported at once, not at the deadline. */
START_TEST(test_http_204)
{
	struct tc	 tc;
	struct timespec	 t0, t1;

	tc_init(&tc);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	server_start(&tc.srv, "http204", false);
	tc_start_url(&tc, "wss", "/", 5000);
	run_until_closed(&tc);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_eq(tc.ci.kind, WS_HTTP_STATUS);
	ck_assert_int_eq(tc.ci.http_status, 204);
	ck_assert_uint_eq(tc.ci.body_len, 0);
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 4);
	tc_free(&tc);
}
END_TEST

START_TEST(test_wrong_ca)
{
	struct tc	 tc;
	char		 url[64];

	tc_init(&tc);
	server_start(&tc.srv, "echo", false);
	snprintf(url, sizeof(url), "wss://127.0.0.1:%d/", tc.srv.port);
	tc_connect(&tc, url, other_ca, NULL, 0);
	run_until_closed(&tc);
	ck_assert_int_eq(tc.opened, 0);
	ck_assert_int_eq(tc.ci.kind, WS_TLS_ERROR);
	ck_assert_msg(strstr(tc.ci.error, "certificate") != NULL,
	    "unclear: %s", tc.ci.error);
	tc_free(&tc);
}
END_TEST

START_TEST(test_wrong_host)
{
	struct tc	 tc;
	char		 url[64];

	tc_init(&tc);
	server_start(&tc.srv, "echo", false);
	/* The certificate is for portal.test and 127.0.0.1 only. */
	snprintf(url, sizeof(url), "wss://localhost:%d/", tc.srv.port);
	tc_connect(&tc, url, ca_file, NULL, 0);
	run_until_closed(&tc);
	ck_assert_int_eq(tc.opened, 0);
	ck_assert_int_eq(tc.ci.kind, WS_TLS_ERROR);
	ck_assert_msg(strstr(tc.ci.error, "localhost") != NULL,
	    "unclear: %s", tc.ci.error);
	tc_free(&tc);
}
END_TEST

START_TEST(test_headers)
{
	struct tc		 tc;
	const char *const	 hdrs[] = { "User-Agent: " UA,
	    "x-authorization: " TOKEN, NULL };
	const char		*path = "/client/websocket?external_id=ab12"
	    "&name=my%20host&os_type=linux&public_key=%2B%2F8A%3D";
	char			 url[256], want[256];

	tc_init(&tc);
	server_start(&tc.srv, "headers", false);
	snprintf(url, sizeof(url), "wss://127.0.0.1:%d%s", tc.srv.port, path);
	tc_connect(&tc, url, ca_file, hdrs, 0);
	run_until_msgs(&tc, 4);
	snprintf(want, sizeof(want), "path=%s", path);
	ck_assert_str_eq(tc.msg[0], want);
	snprintf(want, sizeof(want), "host=127.0.0.1:%d", tc.srv.port);
	ck_assert_str_eq(tc.msg[1], want);
	ck_assert_str_eq(tc.msg[2], "ua=" UA);
	ck_assert_str_eq(tc.msg[3], "xauth=" TOKEN);
	tc_free(&tc);
}
END_TEST

/* No path at all still sends "GET /". */
START_TEST(test_empty_path)
{
	struct tc	 tc;
	char		 url[64];

	tc_init(&tc);
	server_start(&tc.srv, "headers", false);
	snprintf(url, sizeof(url), "wss://127.0.0.1:%d", tc.srv.port);
	tc_connect(&tc, url, ca_file, NULL, 0);
	run_until_msgs(&tc, 1);
	ck_assert_str_eq(tc.msg[0], "path=/");
	tc_free(&tc);
}
END_TEST

/*
 * A loopback TCP port that never speaks: listening (the kernel completes
 * the TCP handshake) or only bound (connect() is refused).
 */
static int
listener(char *url, size_t len, bool listening)
{
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof(sin);
	int			 s;

	s = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(s, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	if (listening)
		ck_assert_int_eq(listen(s, 1), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)&sin, &slen), 0);
	snprintf(url, len, "wss://127.0.0.1:%d/", ntohs(sin.sin_port));
	return (s);
}

START_TEST(test_refused)
{
	struct tc	 tc;
	char		 url[64];
	int		 s;

	tc_init(&tc);
	s = listener(url, sizeof(url), false);
	tc_connect(&tc, url, ca_file, NULL, 0);
	run_until_closed(&tc);
	ck_assert_int_eq(tc.ci.kind, WS_CONNECT_ERROR);
	ck_assert_int_eq(tc.sockets, 1);
	ck_assert_int_eq(tc.opened, 0);
	close(s);
	tc_free(&tc);
}
END_TEST

/* The privileged daemon could not give a protected socket. */
START_TEST(test_no_socket)
{
	struct tc	 tc;

	tc_init(&tc);
	tc.no_sockets = true;
	tc_start(&tc, "echo", false, "/");
	run_until_closed(&tc);
	ck_assert_int_eq(tc.ci.kind, WS_CONNECT_ERROR);
	ck_assert_msg(strstr(tc.ci.error, strerror(EACCES)) != NULL,
	    "unclear: %s", tc.ci.error);
	ck_assert_int_eq(tc.sockets, 1);
	ck_assert_int_eq(tc.opened, 0);
	tc_free(&tc);
}
END_TEST

/* TCP accepted by the kernel, but no TLS answer ever comes. */
START_TEST(test_timeout_tls)
{
	struct tc	 tc;
	struct timespec	 t0, t1;
	char		 url[64];
	int		 s;
	long		 ms;

	tc_init(&tc);
	s = listener(url, sizeof(url), true);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	tc_connect(&tc, url, ca_file, NULL, 500);
	run_until_closed(&tc);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ck_assert_int_eq(tc.ci.kind, WS_TIMEOUT);
	ck_assert_int_ge(ms, 450);
	ck_assert_int_lt(ms, 3000);
	close(s);
	tc_free(&tc);
}
END_TEST

/* TLS up, but the 101 never comes. */
START_TEST(test_timeout_upgrade)
{
	struct tc	 tc;
	char		 url[64];

	tc_init(&tc);
	server_start(&tc.srv, "slow", false);
	snprintf(url, sizeof(url), "wss://127.0.0.1:%d/", tc.srv.port);
	tc_connect(&tc, url, ca_file, NULL, 1000);
	run_until_closed(&tc);
	ck_assert_int_eq(tc.ci.kind, WS_TIMEOUT);
	ck_assert_int_eq(tc.opened, 0);
	tc_free(&tc);
}
END_TEST

START_TEST(test_bad_accept)
{
	struct tc	 tc;

	tc_init(&tc);
	tc_start(&tc, "badaccept", false, "/");
	run_until_closed(&tc);
	ck_assert_int_eq(tc.opened, 0);
	ck_assert_int_eq(tc.ci.kind, WS_PROTOCOL_ERROR);
	ck_assert_ptr_nonnull(strstr(tc.ci.error, "Sec-WebSocket-Accept"));
	tc_free(&tc);
}
END_TEST

/* Frames that arrive with the 101 are not lost. */
START_TEST(test_eager_frames)
{
	struct tc	 tc;

	tc_init(&tc);
	tc_start(&tc, "eager", false, "/");
	run_until_msgs(&tc, 2);
	ck_assert_str_eq(tc.msg[0], "early");
	ck_assert_str_eq(tc.msg[1], "second");
	tc_free(&tc);
}
END_TEST

START_TEST(test_close_in_callback)
{
	struct tc	 tc;

	tc_init(&tc);
	tc.close_on_text = true;
	tc_start(&tc, "echo", false, "/");
	run_until_open(&tc);
	/* Two echoes may arrive in one read; only the first is seen. */
	send_str(&tc, "one");
	send_str(&tc, "two");
	run_until_msgs(&tc, 1);
	server_expect(&tc.srv, "CLOSE_RCVD 1000");
	ck_assert_int_eq(tc.nmsg, 1);
	ck_assert_str_eq(tc.msg[0], "one");
	ck_assert_int_eq(tc.closed, 0);
	tc_free(&tc);
}
END_TEST

/* Freed in the middle of the TLS handshake: nothing reported, no leak. */
START_TEST(test_close_while_connecting)
{
	struct tc	 tc;
	char		 url[64];
	int		 s;

	tc_init(&tc);
	s = listener(url, sizeof(url), true);
	tc_connect(&tc, url, ca_file, NULL, 0);
	run_for(&tc, 200);
	ck_assert_int_eq(tc.sockets, 1);
	ws_close(tc.ws);
	tc.ws = NULL;
	run_for(&tc, 200);
	ck_assert_int_eq(tc.opened + tc.closed, 0);
	close(s);
	tc_free(&tc);
}
END_TEST

START_TEST(test_bad_config)
{
	struct ws_config	 cfg;
	struct event_base	*base;
	const char *const	 crlf[] = { "x-authorization: Bearer "
	    "topsecret\r\nHost: evil", NULL };
	const char *const	 host[] = { "Host: other", NULL };
	const char *const	 urls[] = { "https://portal.test/",
	    "wss://", "wss://user@portal.test/", "wss://portal.test/#frag",
	    "wss://portal.test:0/", "wss://portal.test:70000/",
	    "wss://portal.test/a b", "wss://[::1/", "wss://portal.test\r\n/",
	    "wss://[fe80::1%25eth0]/", "wss://portal.test:443x/",
	};
	const char *const	 good[] = { "wss://[::1]:8443/x?y=1",
	    "WS://portal.test", "wss://api.firezone.dev?a=b",
	};
	struct ws		*ws;
	char			 err[256];
	size_t			 i;

	base = event_base_new();
	memset(&cfg, 0, sizeof(cfg));
	cfg.on_open = on_open;
	cfg.on_text = on_text;
	cfg.on_close = on_close;
	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		cfg.url = urls[i];
		err[0] = '\0';
		ck_assert_msg(ws_connect(base, &cfg, err, sizeof(err)) == NULL,
		    "accepted %s", urls[i]);
		ck_assert_str_ne(err, "");
	}
	cfg.url = "wss://portal.test/";
	cfg.headers = crlf;
	ck_assert_ptr_null(ws_connect(base, &cfg, err, sizeof(err)));
	ck_assert_ptr_null(strstr(err, "topsecret"));
	ck_assert_ptr_nonnull(strstr(err, "header 0"));
	cfg.headers = host;
	ck_assert_ptr_null(ws_connect(base, &cfg, err, sizeof(err)));
	cfg.headers = NULL;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cfg.url = good[i];
		ws = ws_connect(base, &cfg, err, sizeof(err));
		ck_assert_msg(ws != NULL, "refused %s: %s", good[i], err);
		ws_close(ws);
	}
	event_base_free(base);
}
END_TEST

static void
make_certs(void)
{
	char	 cmd[2048];

	if (mkdtemp(certdir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(ca_file, sizeof(ca_file), "%s/ca.pem", certdir);
	snprintf(other_ca, sizeof(other_ca), "%s/other.pem", certdir);
	snprintf(cmd, sizeof(cmd),
	    "set -e; cd %s; "
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	    "-nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=fzc test CA';"
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	    "-nodes -keyout other.key -out other.pem -days 2 "
	    "-subj '/CN=fzc other CA';"
	    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	    "-keyout key.pem -out cert.csr -subj '/CN=portal.test';"
	    "printf 'subjectAltName=DNS:portal.test,IP:127.0.0.1\\n' > ext;"
	    "openssl x509 -req -in cert.csr -CA ca.pem -CAkey ca.key "
	    "-CAcreateserial -out cert.pem -days 2 -extfile ext",
	    certdir);
	if (system(cmd) != 0) {
		fprintf(stderr, "openssl failed\n");
		exit(1);
	}
}

static void
remove_certs(void)
{
	char	 cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", certdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", certdir);
}

static Suite *
ws_suite(void)
{
	Suite	*s = suite_create("ws");
	TCase	*tc;

	tc = tcase_create("server");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_echo);
	tcase_add_test(tc, test_burst);
	tcase_add_test(tc, test_idle);
	tcase_add_test(tc, test_plain);
	tcase_add_test(tc, test_peer_close);
	tcase_add_test(tc, test_drop);
	tcase_add_test(tc, test_too_big);
	tcase_add_test(tc, test_too_big_fragments);
	tcase_add_test(tc, test_bad_utf8);
	tcase_add_test(tc, test_http_401);
	tcase_add_test(tc, test_http_503);
	tcase_add_test(tc, test_http_chunked);
	tcase_add_test(tc, test_http_204);
	tcase_add_test(tc, test_wrong_ca);
	tcase_add_test(tc, test_wrong_host);
	tcase_add_test(tc, test_headers);
	tcase_add_test(tc, test_empty_path);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_no_socket);
	tcase_add_test(tc, test_timeout_tls);
	tcase_add_test(tc, test_timeout_upgrade);
	tcase_add_test(tc, test_bad_accept);
	tcase_add_test(tc, test_eager_frames);
	tcase_add_test(tc, test_close_in_callback);
	tcase_add_test(tc, test_close_while_connecting);
	suite_add_tcase(s, tc);

	tc = tcase_create("config");
	tcase_add_test(tc, test_bad_config);
	suite_add_tcase(s, tc);
	return (s);
}

static int
setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	make_certs();
	return (0);
}

static void
teardown(void)
{
	remove_certs();
	libevent_global_shutdown();
}

const struct check_main check_main = {
	.suites = { ws_suite },
	.setup = setup,
	.teardown = teardown,
};
