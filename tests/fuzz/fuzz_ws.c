/*
 * fuzz_ws: the portal's WebSocket client (controld/ws.c) as a hostile
 * server meets it.  Each input opens a ws:// connection to a listener on
 * 127.0.0.1 that the harness plays, then is read as records (fuzz.h), by
 * op & 3:
 *
 *   0  the server writes the data as is: a part of the upgrade answer,
 *      of an error body, or WebSocket frames.
 *   1  the server writes a valid 101 answer (the right
 *      Sec-WebSocket-Accept), then the data: the frames that follow.
 *   2  the client sends the data as a text message (when open).
 *   3  the client closes (ws_close); the input ends there.
 *
 * The event loop runs between records, so the client reads in the pieces
 * the records make.  Every record's data is also given to parse_url() as
 * a URL.  At the end the server shuts its side: the client must report
 * the close exactly once, with a text message delivered only while open
 * and only as valid UTF-8, and free everything (LeakSanitizer checks).
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "controld/curl_ev.c"
#include "controld/ws.c"

#include "tests/fuzz/fuzz.h"

/* Loop turns before a stuck connection counts as a hang. */
#define TURNS	2000

struct harness {
	struct ws	*ws;
	int		 opened;
	int		 closed;
	enum ws_close_kind kind;
};

static int	 listener = -1;
static uint16_t	 lport;

static void
on_open(void *arg)
{
	struct harness	*h = arg;

	FUZZ_ASSERT(!h->opened && !h->closed);
	h->opened = 1;
}

/* RFC 3629: what wslay lets through must be UTF-8 (RFC 6455 8.1). */
static int
utf8_ok(const uint8_t *s, size_t n)
{
	size_t	 i = 0, k, more;
	uint32_t c;

	while (i < n) {
		c = s[i];
		if (c < 0x80)
			more = 0;
		else if ((c & 0xe0) == 0xc0)
			more = 1, c &= 0x1f;
		else if ((c & 0xf0) == 0xe0)
			more = 2, c &= 0x0f;
		else if ((c & 0xf8) == 0xf0)
			more = 3, c &= 0x07;
		else
			return (0);
		if (i + more >= n)
			return (0);
		for (k = 1; k <= more; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return (0);
			c = c << 6 | (s[i + k] & 0x3f);
		}
		if ((more == 1 && c < 0x80) || (more == 2 && c < 0x800) ||
		    (more == 3 && (c < 0x10000 || c > 0x10ffff)) ||
		    (c >= 0xd800 && c <= 0xdfff))
			return (0);
		i += more + 1;
	}
	return (1);
}

static void
on_text(void *arg, const char *s, size_t n)
{
	struct harness	*h = arg;

	FUZZ_ASSERT(h->opened && !h->closed);
	FUZZ_ASSERT(utf8_ok((const uint8_t *)s, n));
}

static void
on_close(void *arg, const struct ws_close_info *ci)
{
	struct harness	*h = arg;

	FUZZ_ASSERT(!h->closed);
	FUZZ_ASSERT(memchr(ci->error, '\0', sizeof(ci->error)) != NULL);
	FUZZ_ASSERT(ci->body_len < sizeof(ci->body));
	FUZZ_ASSERT(ci->body[ci->body_len] == '\0');
	FUZZ_ASSERT(memchr(ci->reason, '\0', sizeof(ci->reason)) != NULL);
	FUZZ_ASSERT(
	    memchr(ci->retry_after, '\0', sizeof(ci->retry_after)) != NULL);
	if (ci->kind == WS_HTTP_STATUS)
		FUZZ_ASSERT(ci->http_status >= 0 && ci->http_status <= 999 &&
		    ci->http_status != 101);
	h->closed = 1;
	h->kind = ci->kind;
}

static void
listen_once(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);

	if (listener != -1)
		return;
	signal(SIGPIPE, SIG_IGN);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (listener == -1 ||
	    bind(listener, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(listener, 16) == -1 ||
	    getsockname(listener, (struct sockaddr *)&sin, &len) == -1) {
		perror("fuzz_ws: listener");
		abort();
	}
	lport = ntohs(sin.sin_port);
}

/* What the client sent is read and dropped, so that nothing resets. */
static void
drain(int fd)
{
	char	 buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static void
put(int fd, const void *p, size_t n)
{
	const char	*c = p;
	ssize_t		 w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w <= 0)
			return;	/* the client is gone: EPIPE */
		c += w;
		n -= (size_t)w;
	}
}

static void
turn(struct event_base *base, int srv)
{
	event_base_loop(base, EVLOOP_NONBLOCK);
	drain(srv);
}

static void
url_check(const struct fuzz_rec *r)
{
	char		 url[512], host[WS_HOST_MAX];
	const char	*target, *why;
	uint16_t	 port;
	bool		 tls;
	size_t		 n = r->len < sizeof(url) - 1 ? r->len : sizeof(url) - 1;

	memcpy(url, r->data, n);
	url[n] = '\0';
	if (parse_url(url, &tls, host, &port, &target, &why) == 0) {
		FUZZ_ASSERT(host[0] != '\0' && port != 0);
		FUZZ_ASSERT(strchr(target, '#') == NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in		 in = { data, size };
	struct fuzz_rec		 r;
	struct harness		 h;
	struct ws_config	 cfg;
	struct event_base	*base;
	char			 url[64], err[256], ok[256];
	int			 srv = -1, i, done = 0;

	listen_once();
	memset(&h, 0, sizeof(h));
	memset(&cfg, 0, sizeof(cfg));
	snprintf(url, sizeof(url), "ws://127.0.0.1:%u/socket?x=1", lport);
	cfg.url = url;
	cfg.timeout_ms = 5000;
	cfg.arg = &h;
	cfg.on_open = on_open;
	cfg.on_text = on_text;
	cfg.on_close = on_close;
	if ((base = event_base_new()) == NULL)
		abort();
	h.ws = ws_connect(base, &cfg, err, sizeof(err));
	FUZZ_ASSERT(h.ws != NULL);
	for (i = 0; srv == -1 && i < TURNS && !h.closed; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		srv = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
		if (srv == -1)
			usleep(100);
	}
	FUZZ_ASSERT(srv != -1);
	/* The request first, so that the answer is an answer. */
	for (i = 0; i < TURNS && h.ws->state == ST_CONNECTING; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(50);
	}
	while (!done && !h.closed && fuzz_next(&in, &r)) {
		url_check(&r);
		switch (r.op & 3) {
		case 1:
			snprintf(ok, sizeof(ok),
			    "HTTP/1.1 101 Switching Protocols\r\n"
			    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
			    "Sec-WebSocket-Accept: %s\r\n\r\n",
			    h.ws->accept);
			put(srv, ok, strlen(ok));
			/* FALLTHROUGH */
		case 0:
			put(srv, r.data, r.len);
			break;
		case 2:
			if (h.opened)
				ws_send_text(h.ws, (const char *)r.data, r.len);
			break;
		case 3:
			done = 1;
			break;
		}
		turn(base, srv);
	}
	if (!h.closed && !done) {
		shutdown(srv, SHUT_WR);
		for (i = 0; i < TURNS && !h.closed; i++) {
			turn(base, srv);
			usleep(50);
		}
		/* A dead server must always end the connection. */
		FUZZ_ASSERT(h.closed);
	}
	ws_close(h.ws);
	close(srv);
	event_base_free(base);
	return (0);
}
