/*
 * WebSocket client for the portal connection (PROTOCOL.md 1.3-1.6).
 *
 * libcurl 7.88 has no ws:// support, so curl only makes the TCP+TLS
 * connection (CONNECT_ONLY, through the multi interface because the easy
 * one blocks in connect), the upgrade request and its answer are handled
 * here, and wslay frames the stream on top of curl_easy_send/recv.
 * PITFALLS.md section 1 explains most of the choices below.
 */

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <wslay/wslay.h>

#include "controld/curl_ev.h"
#include "controld/ws.h"

#define WS_GUID		"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_HOST_MAX	256
/*
 * curl 7.88 has no per-address timeout: within a family, an address with
 * another after it gets half of the connect time left, the last one all
 * of it.  10 s gives two addresses 5 s each (PROTOCOL.md 1.5); the 15 s
 * deadline covers the whole handshake.
 */
#define WS_CONNECT_MS	10000
#define WS_FLUSH_MS	2000	/* for the close handshake */
#define WS_OBUF_SIZE	16384
#define WS_IBUF_SIZE	16384

enum ws_state {
	ST_CONNECTING,		/* curl: resolve, TCP, TLS */
	ST_UPGRADE,		/* request out, waiting for the 101 */
	ST_ERRBODY,		/* not 101: collecting the body */
	ST_OPEN,
	ST_CLOSING,		/* close frame out, waiting for EOF */
	ST_DEAD,		/* on_close delivered */
};

struct ws {
	struct event_base	*base;
	enum ws_state		 state;
	int			(*open_socket)(void *, int, int, int);
	void			*arg;
	void			(*on_open)(void *);
	void			(*on_text)(void *, const char *, size_t);
	void			(*on_close)(void *,
				    const struct ws_close_info *);
	int			 depth;	/* handlers on the stack */
	bool			 freeing; /* ws_close() while depth > 0 */

	struct curl_ev		*ce;
	CURL			*easy;
	struct event		*deadline;
	char			 curlerr[CURL_ERROR_SIZE];
	CURLcode		 curlrc;	/* last I/O error */
	int			 sock_errno;	/* open_socket failed */

	struct event		*rev;
	struct event		*wev;
	wslay_event_context_ptr	 wctx;
	bool			 eof;
	bool			 peer_closed;
	bool			 chunked;	/* error body */
	char			 accept[32];	/* expected */
	size_t			 body_want;	/* Content-Length */
	struct ws_close_info	 info;

	/* Upgrade answer, then the WebSocket bytes that came with it. */
	char			 ibuf[WS_IBUF_SIZE];
	size_t			 ilen;
	size_t			 ioff;

	/*
	 * Output never moves while curl_easy_send() has a write pending:
	 * OpenSSL wants the retry from the same pointer with at least the
	 * same length, so bytes are only appended until all is sent.
	 */
	uint8_t			 obuf[WS_OBUF_SIZE];
	size_t			 olen;
	size_t			 ooff;
};

static void	io_cb(evutil_socket_t, short, void *);
static void	finish(struct ws *);
static void	ws_free(struct ws *);

static void
hold(struct ws *ws)
{
	ws->depth++;
}

/* The object is gone afterwards if ws_close() was called meanwhile. */
static void
release(struct ws *ws)
{
	if (--ws->depth == 0 && ws->freeing)
		ws_free(ws);
}

static void
fail(struct ws *ws, enum ws_close_kind kind, const char *fmt, ...)
{
	va_list	 ap;

	ws->info.kind = kind;
	va_start(ap, fmt);
	vsnprintf(ws->info.error, sizeof(ws->info.error), fmt, ap);
	va_end(ap);
	finish(ws);
}

static int
b64(const uint8_t *in, size_t len, char *out, size_t outlen)
{
	if (outlen < (len + 2) / 3 * 4 + 1)
		return (-1);
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return (0);
}

static int
ws_accept_value(const char *key, char *out, size_t outlen)
{
	uint8_t		 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	char		 buf[96];

	snprintf(buf, sizeof(buf), "%s%s", key, WS_GUID);
	if (EVP_Digest(buf, strlen(buf), md, &mdlen, EVP_sha1(), NULL) != 1)
		return (-1);
	return (b64(md, mdlen, out, outlen));
}

/*
 * ws[s]://host[:port][/path][?query], split into what curl needs and what
 * the request line and Host header carry.  Strict, since the pieces end
 * up in an HTTP request: no user info, no fragment, nothing below 0x21.
 */
static int
parse_url(const char *url, bool *tls, char *host, uint16_t *port,
    const char **target, const char **why)
{
	const char	*p, *end;
	unsigned long	 n;
	size_t		 len;
	char		*ep;

	if (strncasecmp(url, "wss://", 6) == 0) {
		*tls = true;
		p = url + 6;
	} else if (strncasecmp(url, "ws://", 5) == 0) {
		*tls = false;
		p = url + 5;
	} else {
		*why = "the URL must start with ws:// or wss://";
		return (-1);
	}
	*port = *tls ? 443 : 80;
	if (*p == '[') {
		if ((end = strchr(p, ']')) == NULL) {
			*why = "unterminated [IPv6] host in the URL";
			return (-1);
		}
		end++;
		if (strspn(p + 1, "0123456789abcdefABCDEF:.") !=
		    (size_t)(end - p - 2) || end - p < 4) {
			*why = "bad [IPv6] host in the URL";
			return (-1);
		}
	} else {
		end = p + strspn(p, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_");
		if (end == p) {
			*why = "no host in the URL";
			return (-1);
		}
	}
	len = end - p;
	if (len >= WS_HOST_MAX) {
		*why = "host name too long";
		return (-1);
	}
	memcpy(host, p, len);
	host[len] = '\0';
	p = end;
	if (*p == ':') {
		if (!isdigit((unsigned char)p[1])) {
			*why = "bad port in the URL";
			return (-1);
		}
		n = strtoul(p + 1, &ep, 10);
		if (n == 0 || n > 65535) {
			*why = "bad port in the URL";
			return (-1);
		}
		*port = (uint16_t)n;
		p = ep;
	}
	if (*p != '\0' && *p != '/' && *p != '?') {
		*why = "unexpected character after the host in the URL";
		return (-1);
	}
	for (end = p; *end != '\0'; end++) {
		if ((unsigned char)*end <= 0x20 ||
		    (unsigned char)*end >= 0x7f || *end == '#') {
			*why = "bad character in the URL path or query";
			return (-1);
		}
	}
	*target = p;
	return (0);
}

/* Names this file writes itself; a caller's copy would confuse servers. */
static const char *const reserved[] = {
	"host", "upgrade", "connection", "sec-websocket-key",
	"sec-websocket-version", "sec-websocket-extensions",
	"sec-websocket-protocol", "content-length", "transfer-encoding",
};

static bool
header_ok(const char *h)
{
	size_t	 nlen, i;

	nlen = strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789!#$%&'*+-.^_`|~");
	if (nlen == 0 || h[nlen] != ':')
		return (false);
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		if (strlen(reserved[i]) == nlen &&
		    strncasecmp(h, reserved[i], nlen) == 0)
			return (false);
	}
	for (h += nlen + 1; *h != '\0'; h++) {
		if ((unsigned char)*h < 0x20 && *h != '\t')
			return (false);
		if (*h == 0x7f)
			return (false);
	}
	return (true);
}

static int
obuf_add(struct ws *ws, const char *s)
{
	size_t	 len = strlen(s);

	if (len > sizeof(ws->obuf) - ws->olen)
		return (-1);
	memcpy(ws->obuf + ws->olen, s, len);
	ws->olen += len;
	return (0);
}

static int
build_request(struct ws *ws, const struct ws_config *cfg, const char *host,
    uint16_t port, bool tls, const char *target, char *err, size_t errlen)
{
	uint8_t		 nonce[16];
	char		 key[32], line[WS_HOST_MAX + 32];
	int		 i, r = 0;

	if (RAND_bytes(nonce, sizeof(nonce)) != 1 ||
	    b64(nonce, sizeof(nonce), key, sizeof(key)) == -1 ||
	    ws_accept_value(key, ws->accept, sizeof(ws->accept)) == -1) {
		snprintf(err, errlen, "cannot make a Sec-WebSocket-Key");
		return (-1);
	}
	r |= obuf_add(ws, "GET ");
	r |= obuf_add(ws, *target == '/' ? "" : "/");
	r |= obuf_add(ws, target);
	r |= obuf_add(ws, " HTTP/1.1\r\nHost: ");
	/*
	 * RFC 6455 4.1: the port only when it is not the default; the portal
	 * client leaves it out always, as connlib does (PROTOCOL 1.3).
	 */
	if (port == (tls ? 443 : 80) || cfg->host_without_port)
		snprintf(line, sizeof(line), "%s\r\n", host);
	else
		snprintf(line, sizeof(line), "%s:%u\r\n", host, port);
	r |= obuf_add(ws, line);
	r |= obuf_add(ws, "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: ");
	r |= obuf_add(ws, key);
	r |= obuf_add(ws, "\r\nSec-WebSocket-Version: 13\r\n");
	for (i = 0; cfg->headers != NULL && cfg->headers[i] != NULL; i++) {
		/* The index only: a header may carry the token. */
		if (!header_ok(cfg->headers[i])) {
			snprintf(err, errlen, "request header %d is malformed "
			    "or reserved", i);
			return (-1);
		}
		r |= obuf_add(ws, cfg->headers[i]);
		r |= obuf_add(ws, "\r\n");
	}
	r |= obuf_add(ws, "\r\n");
	if (r != 0) {
		snprintf(err, errlen, "request headers too long");
		return (-1);
	}
	return (0);
}

/* Returns -1 on a send error; bytes left over wait for EV_WRITE. */
static int
flush_out(struct ws *ws)
{
	CURLcode	 rc;
	size_t		 n;

	while (ws->ooff < ws->olen) {
		rc = curl_easy_send(ws->easy, ws->obuf + ws->ooff,
		    ws->olen - ws->ooff, &n);
		if (rc == CURLE_AGAIN || (rc == CURLE_OK && n == 0))
			return (0);
		if (rc != CURLE_OK) {
			ws->curlrc = rc;
			return (-1);
		}
		ws->ooff += n;
	}
	ws->olen = ws->ooff = 0;
	return (0);
}

static bool
out_pending(struct ws *ws)
{
	return (ws->ooff < ws->olen ||
	    (ws->wctx != NULL && wslay_event_want_write(ws->wctx)));
}

static void
update_events(struct ws *ws)
{
	bool	 rd, wr;

	if (ws->rev == NULL)
		return;
	switch (ws->state) {
	case ST_UPGRADE:
	case ST_ERRBODY:
	case ST_CLOSING:
		rd = true;
		break;
	case ST_OPEN:
		rd = wslay_event_want_read(ws->wctx);
		break;
	default:
		rd = false;
		break;
	}
	wr = out_pending(ws);
	/* Level-triggered; the read side always drains until EAGAIN. */
	if (rd && !event_pending(ws->rev, EV_READ, NULL))
		event_add(ws->rev, NULL);
	else if (!rd)
		event_del(ws->rev);
	if (wr && !event_pending(ws->wev, EV_WRITE, NULL))
		event_add(ws->wev, NULL);
	else if (!wr)
		event_del(ws->wev);
}

static ssize_t
wslay_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
    int flags, void *arg)
{
	struct ws	*ws = arg;
	CURLcode	 rc;
	size_t		 n;

	(void)flags;
	if (ws->ioff < ws->ilen) {
		n = ws->ilen - ws->ioff < len ? ws->ilen - ws->ioff : len;
		memcpy(buf, ws->ibuf + ws->ioff, n);
		ws->ioff += n;
		return ((ssize_t)n);
	}
	rc = curl_easy_recv(ws->easy, buf, len, &n);
	if (rc == CURLE_AGAIN) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return (-1);
	}
	if (rc != CURLE_OK || n == 0) {
		/* EOF must be an error: wslay reads 0 as "would block". */
		ws->curlrc = rc;
		ws->eof = rc == CURLE_OK;
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return (-1);
	}
	return ((ssize_t)n);
}

/*
 * Collects wslay's output in obuf so that a frame header and its payload
 * leave in one TLS record, and so that a retried write comes from the
 * same place.
 */
static ssize_t
wslay_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
    int flags, void *arg)
{
	struct ws	*ws = arg;
	size_t		 n;

	(void)flags;
	if (ws->olen == sizeof(ws->obuf)) {
		if (flush_out(ws) == -1) {
			wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
			return (-1);
		}
		if (ws->olen == sizeof(ws->obuf)) {
			wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
			return (-1);
		}
	}
	n = sizeof(ws->obuf) - ws->olen;
	if (n > len)
		n = len;
	memcpy(ws->obuf + ws->olen, data, n);
	ws->olen += n;
	return ((ssize_t)n);
}

static int
wslay_genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
    void *arg)
{
	(void)ctx;
	(void)arg;
	return (RAND_bytes(buf, (int)len) == 1 ? 0 : -1);
}

static void
wslay_msg_cb(wslay_event_context_ptr ctx,
    const struct wslay_event_on_msg_recv_arg *m, void *arg)
{
	struct ws	*ws = arg;
	size_t		 n;

	if (ws->freeing)
		return;
	if (m->opcode == WSLAY_CONNECTION_CLOSE) {
		ws->peer_closed = true;
		ws->info.close_code = m->status_code != 0 ? m->status_code :
		    WSLAY_CODE_NO_STATUS_RCVD;
		if (m->msg_length > 2) {
			n = m->msg_length - 2;
			if (n >= sizeof(ws->info.reason))
				n = sizeof(ws->info.reason) - 1;
			memcpy(ws->info.reason, m->msg + 2, n);
			ws->info.reason[n] = '\0';
		}
		return;
	}
	/* Binary frames are not part of the portal protocol. */
	if (m->opcode != WSLAY_TEXT_FRAME || ws->state != ST_OPEN)
		return;
	/* wslay has no buffer for an empty message. */
	ws->on_text(ws->arg, m->msg != NULL ? (const char *)m->msg : "",
	    m->msg_length);
	/* ws_close() from on_text: stop before the next message. */
	if (ws->freeing)
		wslay_event_shutdown_read(ctx);
}

static const struct wslay_event_callbacks wslay_cbs = {
	.recv_callback = wslay_recv_cb,
	.send_callback = wslay_send_cb,
	.genmask_callback = wslay_genmask_cb,
	.on_msg_recv_callback = wslay_msg_cb,
};

/* Sends what wslay has queued; false when the connection failed. */
static bool
pump_write(struct ws *ws)
{
	if (wslay_event_send(ws->wctx) != 0 || flush_out(ws) == -1) {
		fail(ws, WS_CONNECT_ERROR, "send failed: %s",
		    curl_easy_strerror(ws->curlrc));
		return (false);
	}
	return (true);
}

static void	closing_done(struct ws *);

/*
 * Sends our close frame, then waits for the server to end the TCP
 * connection (RFC 6455 7.1.1), reading and dropping whatever still comes:
 * closing with unread data would reset the connection and could take the
 * close frame with it.
 */
static void
closing_step(struct ws *ws)
{
	CURLcode	 rc;
	size_t		 n;

	if (wslay_event_send(ws->wctx) != 0 || flush_out(ws) == -1) {
		/* The server is gone; what it said still stands. */
		closing_done(ws);
		return;
	}
	do {
		rc = curl_easy_recv(ws->easy, ws->ibuf, sizeof(ws->ibuf), &n);
	} while (rc == CURLE_OK && n > 0);
	if (rc != CURLE_AGAIN)
		closing_done(ws);
}

/* The read side is done and a close frame is queued. */
static void
start_closing(struct ws *ws, enum ws_close_kind kind)
{
	struct timeval	 tv = { WS_FLUSH_MS / 1000, 0 };

	ws->state = ST_CLOSING;
	ws->info.kind = kind;
	evtimer_add(ws->deadline, &tv);
}

static void
closing_done(struct ws *ws)
{
	uint16_t	 code;

	if (ws->info.kind == WS_PROTOCOL_ERROR) {
		code = wslay_event_get_status_code_sent(ws->wctx);
		ws->info.close_code = code != 0 ? code :
		    WSLAY_CODE_ABNORMAL_CLOSURE;
		if (code == WSLAY_CODE_MESSAGE_TOO_BIG)
			snprintf(ws->info.error, sizeof(ws->info.error),
			    "message longer than %d bytes", WS_MAX_MESSAGE);
		else if (code == WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA)
			snprintf(ws->info.error, sizeof(ws->info.error),
			    "text message is not UTF-8");
		else
			snprintf(ws->info.error, sizeof(ws->info.error),
			    "WebSocket protocol error");
	} else
		snprintf(ws->info.error, sizeof(ws->info.error),
		    "closed by the server (%u)", ws->info.close_code);
	finish(ws);
}

static void
do_read(struct ws *ws)
{
	int	 r;

	r = wslay_event_recv(ws->wctx);
	if (ws->freeing)
		return;
	if (r != 0) {
		if (ws->eof) {
			ws->info.close_code = WSLAY_CODE_ABNORMAL_CLOSURE;
			fail(ws, WS_CLOSED_BY_PEER,
			    "connection closed without a close frame");
		} else if (r == WSLAY_ERR_NOMEM)
			fail(ws, WS_CONNECT_ERROR, "out of memory");
		else
			fail(ws, WS_CONNECT_ERROR, "receive failed: %s",
			    curl_easy_strerror(ws->curlrc));
		return;
	}
	if (ws->peer_closed)
		start_closing(ws, WS_CLOSED_BY_PEER);
	else if (!wslay_event_want_read(ws->wctx))
		start_closing(ws, WS_PROTOCOL_ERROR);
	else
		return;
	closing_step(ws);
}

static void
open_ws(struct ws *ws, size_t hdrlen)
{
	ws->ioff = hdrlen;
	if (wslay_event_context_client_init(&ws->wctx, &wslay_cbs, ws) != 0) {
		fail(ws, WS_CONNECT_ERROR, "out of memory");
		return;
	}
	wslay_event_config_set_max_recv_msg_length(ws->wctx, WS_MAX_MESSAGE);
	evtimer_del(ws->deadline);
	ws->state = ST_OPEN;
	ws->on_open(ws->arg);
	if (ws->freeing || ws->state != ST_OPEN)
		return;
	/*
	 * Frames may already sit in ibuf or in OpenSSL's buffer, where
	 * epoll cannot see them.
	 */
	event_active(ws->rev, EV_READ, 0);
}

static bool
token_in(const char *v, size_t vlen, const char *tok)
{
	size_t	 tlen = strlen(tok), i = 0, j;

	while (i < vlen) {
		while (i < vlen && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		j = i;
		while (j < vlen && v[j] != ',')
			j++;
		while (j > i && (v[j - 1] == ' ' || v[j - 1] == '\t'))
			j--;
		if (j - i == tlen && strncasecmp(v + i, tok, tlen) == 0)
			return (true);
		while (j < vlen && v[j] != ',')
			j++;
		i = j;
	}
	return (false);
}

static void
body_take(struct ws *ws, const char *p, size_t n)
{
	size_t	 room = sizeof(ws->info.body) - 1 - ws->info.body_len;

	if (n > room)
		n = room;
	memcpy(ws->info.body + ws->info.body_len, p, n);
	ws->info.body_len += n;
	ws->info.body[ws->info.body_len] = '\0';
}

/*
 * Decodes the start of a chunked body; true once its last chunk is in.
 * Output never overtakes input, so out may be in.
 */
static bool
dechunk(const char *in, size_t len, char *out, size_t *outlen)
{
	const char	*eol;
	unsigned long	 size;
	size_t		 i = 0, o = 0, n;

	while (i < len && (eol = memmem(in + i, len - i, "\r\n", 2)) != NULL) {
		if (!isxdigit((unsigned char)in[i]))
			break;
		size = strtoul(in + i, NULL, 16);
		i = eol + 2 - in;
		if (size == 0) {
			*outlen = o;
			return (true);
		}
		n = size < len - i ? size : len - i;
		memmove(out + o, in + i, n);
		o += n;
		i += n + 2;
	}
	*outlen = o;
	return (false);
}

static bool
body_done(struct ws *ws)
{
	char	 tmp[sizeof(ws->info.body)];
	size_t	 n;

	if (ws->info.body_len == sizeof(ws->info.body) - 1)
		return (true);
	if (ws->chunked)
		return (dechunk(ws->info.body, ws->info.body_len, tmp, &n));
	return (ws->info.body_len >= ws->body_want);
}

static void
body_finish(struct ws *ws)
{
	if (ws->chunked) {
		dechunk(ws->info.body, ws->info.body_len, ws->info.body,
		    &ws->info.body_len);
		ws->info.body[ws->info.body_len] = '\0';
	}
	finish(ws);
}

/* Parses the answer to the upgrade, ibuf[0, hdrlen). */
static void
parse_response(struct ws *ws, size_t hdrlen)
{
	const char	*p = ws->ibuf, *end = ws->ibuf + hdrlen - 2, *eol;
	const char	*v;
	size_t		 nlen, vlen, i;
	bool		 upgrade = false, conn = false, acc = false;
	bool		 ext = false;
	int		 status;

	eol = memmem(p, end - p, "\r\n", 2);
	if (eol - p < 12 || strncmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' ||
	    !isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) ||
	    !isdigit((unsigned char)p[11]) || (eol - p > 12 && p[12] != ' ')) {
		fail(ws, WS_PROTOCOL_ERROR, "not an HTTP/1.1 response");
		return;
	}
	status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	ws->body_want = sizeof(ws->info.body);
	for (p = eol + 2; p < end; p = eol + 2) {
		eol = memmem(p, end - p, "\r\n", 2);
		v = memchr(p, ':', eol - p);
		if (v == NULL)
			continue;
		nlen = v - p;
		for (v++; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		for (vlen = eol - v; vlen > 0 &&
		    (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'); vlen--)
			;
#define IS(name)	(nlen == sizeof(name) - 1 && \
			    strncasecmp(p, name, nlen) == 0)
		if (IS("Retry-After")) {
			for (i = 0; i < vlen &&
			    i < sizeof(ws->info.retry_after) - 1; i++)
				ws->info.retry_after[i] =
				    isprint((unsigned char)v[i]) ? v[i] : '?';
			ws->info.retry_after[i] = '\0';
		} else if (IS("Content-Length")) {
			if (vlen > 0 && vlen < 10 && strspn(v, "0123456789") >=
			    vlen)
				ws->body_want = strtoul(v, NULL, 10);
		} else if (IS("Transfer-Encoding"))
			ws->chunked = token_in(v, vlen, "chunked");
		else if (IS("Upgrade"))
			upgrade = token_in(v, vlen, "websocket");
		else if (IS("Connection"))
			conn = token_in(v, vlen, "upgrade");
		else if (IS("Sec-WebSocket-Accept"))
			acc = vlen == strlen(ws->accept) &&
			    memcmp(v, ws->accept, vlen) == 0;
		else if (IS("Sec-WebSocket-Extensions") ||
		    IS("Sec-WebSocket-Protocol"))
			ext = true;
#undef IS
	}
	if (status == 101) {
		if (!upgrade || !conn)
			fail(ws, WS_PROTOCOL_ERROR, "101 without the "
			    "Upgrade/Connection headers");
		else if (!acc)
			fail(ws, WS_PROTOCOL_ERROR, "missing or wrong "
			    "Sec-WebSocket-Accept");
		else if (ext)
			fail(ws, WS_PROTOCOL_ERROR, "server chose an extension "
			    "or subprotocol that was not offered");
		else
			open_ws(ws, hdrlen);
		return;
	}
	/* RFC 9112 6.3: these never have a body. */
	if (status < 200 || status == 204 || status == 304) {
		ws->body_want = 0;
		ws->chunked = false;
	}
	ws->info.kind = WS_HTTP_STATUS;
	ws->info.http_status = status;
	snprintf(ws->info.error, sizeof(ws->info.error),
	    "upgrade refused with HTTP status %d", status);
	ws->state = ST_ERRBODY;
	body_take(ws, ws->ibuf + hdrlen, ws->ilen - hdrlen);
	ws->ilen = 0;
	if (body_done(ws))
		body_finish(ws);
}

static void
read_response(struct ws *ws)
{
	const char	*eoh;
	CURLcode	 rc;
	size_t		 n, room;
	char		*dst;

	for (;;) {
		if (ws->state == ST_ERRBODY) {
			dst = ws->ibuf;
			room = sizeof(ws->ibuf);
		} else {
			dst = ws->ibuf + ws->ilen;
			room = sizeof(ws->ibuf) - ws->ilen;
			if (room == 0) {
				fail(ws, WS_PROTOCOL_ERROR,
				    "upgrade response too long");
				return;
			}
		}
		rc = curl_easy_recv(ws->easy, dst, room, &n);
		if (rc == CURLE_AGAIN)
			return;
		if (ws->state == ST_ERRBODY) {
			/* A body cut short is still worth reporting. */
			if (rc == CURLE_OK && n > 0)
				body_take(ws, dst, n);
			if (rc != CURLE_OK || n == 0 || body_done(ws)) {
				body_finish(ws);
				return;
			}
			continue;
		}
		if (rc != CURLE_OK) {
			fail(ws, WS_CONNECT_ERROR, "reading the upgrade "
			    "response: %s", curl_easy_strerror(rc));
			return;
		}
		if (n == 0) {
			fail(ws, WS_CONNECT_ERROR, "connection closed before "
			    "the upgrade response");
			return;
		}
		ws->ilen += n;
		eoh = memmem(ws->ibuf, ws->ilen, "\r\n\r\n", 4);
		if (eoh != NULL) {
			parse_response(ws, eoh + 4 - ws->ibuf);
			if (ws->state != ST_ERRBODY)
				return;
		}
	}
}

static void
io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ws	*ws = arg;

	(void)fd;
	hold(ws);
	switch (ws->state) {
	case ST_UPGRADE:
		if ((what & EV_WRITE) && flush_out(ws) == -1) {
			fail(ws, WS_CONNECT_ERROR, "sending the upgrade "
			    "request: %s", curl_easy_strerror(ws->curlrc));
			break;
		}
		if (ws->olen == 0)
			explicit_bzero(ws->obuf, sizeof(ws->obuf));
		if (what & EV_READ)
			read_response(ws);
		break;
	case ST_ERRBODY:
		read_response(ws);
		break;
	case ST_OPEN:
		if (what & EV_READ)
			do_read(ws);
		if (ws->state == ST_OPEN && !ws->freeing && (what & EV_WRITE))
			pump_write(ws);
		break;
	case ST_CLOSING:
		closing_step(ws);
		break;
	default:
		break;
	}
	if (!ws->freeing)
		update_events(ws);
	release(ws);
}

static void
start_upgrade(struct ws *ws)
{
	curl_socket_t	 fd;

	if (curl_easy_getinfo(ws->easy, CURLINFO_ACTIVESOCKET, &fd) !=
	    CURLE_OK || fd == CURL_SOCKET_BAD) {
		fail(ws, WS_CONNECT_ERROR, "no socket after connect");
		return;
	}
	/* curl no longer watches the socket; these events do. */
	ws->rev = event_new(ws->base, fd, EV_READ | EV_PERSIST, io_cb, ws);
	ws->wev = event_new(ws->base, fd, EV_WRITE | EV_PERSIST, io_cb, ws);
	if (ws->rev == NULL || ws->wev == NULL) {
		fail(ws, WS_CONNECT_ERROR, "out of memory");
		return;
	}
	ws->state = ST_UPGRADE;
	if (flush_out(ws) == -1) {
		fail(ws, WS_CONNECT_ERROR, "sending the upgrade request: %s",
		    curl_easy_strerror(ws->curlrc));
		return;
	}
	update_events(ws);
}

static void
connect_failed(struct ws *ws, CURLcode rc)
{
	const char	*msg = ws->curlerr[0] != '\0' ? ws->curlerr :
	    curl_easy_strerror(rc);

	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		fail(ws, WS_TIMEOUT, "%s", msg);
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_USE_SSL_FAILED:
		fail(ws, WS_TLS_ERROR, "TLS: %s", msg);
		break;
	default:
		if (ws->sock_errno != 0)
			fail(ws, WS_CONNECT_ERROR, "%s (no socket: %s)", msg,
			    strerror(ws->sock_errno));
		else
			fail(ws, WS_CONNECT_ERROR, "%s", msg);
		break;
	}
}

/* curl has connected, or given up; only the connect is curl's. */
static void
curl_done(void *arg, CURL *easy, CURLcode rc)
{
	struct ws	*ws = arg;

	(void)easy;
	if (ws->state != ST_CONNECTING)
		return;
	hold(ws);
	if (rc == CURLE_OK)
		start_upgrade(ws);
	else
		connect_failed(ws, rc);
	release(ws);
}

static curl_socket_t
open_socket_cb(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct ws	*ws = arg;
	int		 fd;

	if (purpose != CURLSOCKTYPE_IPCXN)
		return (CURL_SOCKET_BAD);
	fd = ws->open_socket(ws->arg, a->family, a->socktype, a->protocol);
	if (fd < 0) {
		ws->sock_errno = errno != 0 ? errno : EIO;
		return (CURL_SOCKET_BAD);
	}
	return (fd);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ws	*ws = arg;

	(void)fd;
	(void)what;
	hold(ws);
	switch (ws->state) {
	case ST_CONNECTING:
	case ST_UPGRADE:
		fail(ws, WS_TIMEOUT, "opening handshake timed out");
		break;
	case ST_ERRBODY:
		body_finish(ws);
		break;
	case ST_CLOSING:
		closing_done(ws);
		break;
	default:
		break;
	}
	release(ws);
}

/* Closes the connection and frees everything but the object itself. */
static void
teardown(struct ws *ws)
{
	if (ws->rev != NULL)
		event_free(ws->rev);
	if (ws->wev != NULL)
		event_free(ws->wev);
	ws->rev = ws->wev = NULL;
	if (ws->wctx != NULL)
		wslay_event_context_free(ws->wctx);
	ws->wctx = NULL;
	/* curl closes the socket, and may still call back while it does. */
	if (ws->ce != NULL && ws->easy != NULL)
		curl_multi_remove_handle(curl_ev_multi(ws->ce), ws->easy);
	if (ws->easy != NULL)
		curl_easy_cleanup(ws->easy);
	curl_ev_free(ws->ce);
	ws->easy = NULL;
	ws->ce = NULL;
	if (ws->deadline != NULL)
		evtimer_del(ws->deadline);
	explicit_bzero(ws->obuf, sizeof(ws->obuf));
	ws->olen = ws->ooff = 0;
}

static void
finish(struct ws *ws)
{
	ws->state = ST_DEAD;
	teardown(ws);
	if (!ws->freeing)
		ws->on_close(ws->arg, &ws->info);
}

static void
ws_free(struct ws *ws)
{
	if (ws->state == ST_OPEN && ws->wctx != NULL) {
		/* Best effort, without waiting: the caller is done. */
		wslay_event_queue_close(ws->wctx, WSLAY_CODE_NORMAL_CLOSURE,
		    NULL, 0);
		if (wslay_event_send(ws->wctx) == 0)
			flush_out(ws);
	}
	teardown(ws);
	if (ws->deadline != NULL)
		event_free(ws->deadline);
	free(ws);
	curl_global_cleanup();
}

static int
setup_curl(struct ws *ws, const struct ws_config *cfg, bool tls,
    const char *host, uint16_t port)
{
	char	 url[WS_HOST_MAX + 32];
	int	 r = 0;

	if ((ws->ce = curl_ev_new(ws->base, curl_done, ws)) == NULL ||
	    (ws->easy = curl_easy_init()) == NULL)
		return (-1);
	/* Only scheme, host and port: the target never reaches curl. */
	snprintf(url, sizeof(url), "%s://%s:%u/", tls ? "https" : "http",
	    host, port);
	r |= curl_easy_setopt(ws->easy, CURLOPT_URL, url);
	r |= curl_easy_setopt(ws->easy, CURLOPT_CONNECT_ONLY, 1L);
	r |= curl_easy_setopt(ws->easy, CURLOPT_NOSIGNAL, 1L);
	r |= curl_easy_setopt(ws->easy, CURLOPT_ERRORBUFFER, ws->curlerr);
	r |= curl_easy_setopt(ws->easy, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(cfg->timeout_ms != 0 && cfg->timeout_ms < WS_CONNECT_MS ?
	    cfg->timeout_ms : WS_CONNECT_MS));
	/* The portal is reached directly, never through a proxy. */
	r |= curl_easy_setopt(ws->easy, CURLOPT_PROXY, "");
	/* ALPN must not offer h2: the upgrade is HTTP/1.1. */
	r |= curl_easy_setopt(ws->easy, CURLOPT_HTTP_VERSION,
	    (long)CURL_HTTP_VERSION_1_1);
	r |= curl_easy_setopt(ws->easy, CURLOPT_SSLVERSION,
	    (long)CURL_SSLVERSION_TLSv1_2);
	r |= curl_easy_setopt(ws->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	r |= curl_easy_setopt(ws->easy, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cfg->ca_file != NULL)
		r |= curl_easy_setopt(ws->easy, CURLOPT_CAINFO, cfg->ca_file);
	if (cfg->open_socket != NULL) {
		r |= curl_easy_setopt(ws->easy, CURLOPT_OPENSOCKETFUNCTION,
		    open_socket_cb);
		r |= curl_easy_setopt(ws->easy, CURLOPT_OPENSOCKETDATA, ws);
	}
	if (r != 0 ||
	    curl_multi_add_handle(curl_ev_multi(ws->ce), ws->easy) != CURLM_OK)
		return (-1);
	return (0);
}

struct ws *
ws_connect(struct event_base *base, const struct ws_config *cfg, char *err,
    size_t errlen)
{
	struct ws	*ws;
	struct timeval	 tv;
	const char	*target, *why;
	char		 host[WS_HOST_MAX];
	unsigned int	 ms;
	uint16_t	 port;
	bool		 tls;

	if (cfg->url == NULL || cfg->on_open == NULL ||
	    cfg->on_text == NULL || cfg->on_close == NULL) {
		snprintf(err, errlen, "incomplete WebSocket configuration");
		return (NULL);
	}
	if (parse_url(cfg->url, &tls, host, &port, &target, &why) == -1) {
		snprintf(err, errlen, "%s", why);
		return (NULL);
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "cannot initialise libcurl");
		return (NULL);
	}
	if ((ws = calloc(1, sizeof(*ws))) == NULL) {
		curl_global_cleanup();
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	ws->base = base;
	ws->state = ST_CONNECTING;
	ws->open_socket = cfg->open_socket;
	ws->arg = cfg->arg;
	ws->on_open = cfg->on_open;
	ws->on_text = cfg->on_text;
	ws->on_close = cfg->on_close;
	if (build_request(ws, cfg, host, port, tls, target, err, errlen) ==
	    -1) {
		ws_free(ws);
		return (NULL);
	}
	ws->deadline = evtimer_new(base, deadline_cb, ws);
	if (ws->deadline == NULL ||
	    setup_curl(ws, cfg, tls, host, port) == -1) {
		ws_free(ws);
		snprintf(err, errlen, "cannot set up the connection");
		return (NULL);
	}
	ms = cfg->timeout_ms != 0 ? cfg->timeout_ms : WS_HANDSHAKE_TIMEOUT_MS;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(ws->deadline, &tv);
	return (ws);
}

int
ws_send_text(struct ws *ws, const char *s, size_t len)
{
	struct wslay_event_msg	 m;

	if (ws->state != ST_OPEN || ws->freeing)
		return (-1);
	m.opcode = WSLAY_TEXT_FRAME;
	m.msg = (const uint8_t *)s;
	m.msg_length = len;
	if (wslay_event_queue_msg(ws->wctx, &m) != 0)
		return (-1);
	/* Sent from the loop, never from inside a caller's callback. */
	update_events(ws);
	return (0);
}

void
ws_close(struct ws *ws)
{
	if (ws == NULL)
		return;
	if (ws->depth == 0) {
		ws_free(ws);
		return;
	}
	ws->freeing = true;
}
