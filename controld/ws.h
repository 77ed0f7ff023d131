/*
 * A non-blocking WebSocket client (RFC 6455) over TLS for the portal
 * connection: libcurl's multi interface makes the TCP+TLS connection,
 * the HTTP/1.1 upgrade is written here, wslay does the framing.  All of
 * it runs from the caller's libevent loop and never blocks it.
 */

#ifndef FZC_WS_H
#define FZC_WS_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct ws;

/* PROTOCOL.md 1.5: opening handshake budget (TCP, TLS, HTTP upgrade). */
#define WS_HANDSHAKE_TIMEOUT_MS	15000
/* Longest text message delivered; a longer one closes with 1009. */
#define WS_MAX_MESSAGE		(32 * 1024 * 1024)

enum ws_close_kind {
	WS_CLOSED_BY_PEER,	/* close frame, or 1006: the stream ended */
	WS_HTTP_STATUS,		/* the upgrade answer was not 101 */
	WS_TLS_ERROR,		/* handshake or certificate verification */
	WS_CONNECT_ERROR,	/* resolve, TCP, or I/O once connected */
	WS_TIMEOUT,		/* opening handshake took too long */
	WS_PROTOCOL_ERROR,	/* bad 101, bad framing, message too big */
};

/* Fields not set for a kind are 0 or "". */
struct ws_close_info {
	enum ws_close_kind	 kind;
	int			 http_status;
	char			 retry_after[64];
	/* The first bytes of an error body, de-chunked, NUL added. */
	char			 body[512];
	size_t			 body_len;
	uint16_t		 close_code;	/* received or sent */
	char			 reason[256];	/* received */
	char			 error[256];	/* no secrets */
};

struct ws_config {
	/* wss://host[:port]/path?query, or ws:// for local portals */
	const char		 *url;
	const char		 *ca_file;	/* NULL: system CA store */
	/* "Name: value" lines (NULL-terminated); never logged */
	const char *const	 *headers;
	/*
	 * A fresh unconnected socket, or -1 with errno set; curl closes
	 * it.  Called for each address tried.  NULL: socket(2).
	 */
	int			(*open_socket)(void *, int, int, int);
	unsigned int		 timeout_ms;	/* 0: 15 s */
	int			 host_without_port;	/* connlib's Host */
	void			 *arg;
	void			(*on_open)(void *);
	/* One whole text message, valid UTF-8, not NUL-terminated. */
	void			(*on_text)(void *, const char *, size_t);
	/* Once, at the end; the connection is dead, ws_close() frees it. */
	void			(*on_close)(void *,
				    const struct ws_close_info *);
};

/*
 * Starts connecting; the outcome arrives through the callbacks, never
 * from within ws_connect() itself.  NULL with a message in err on a bad
 * configuration or when out of resources.  ws_send_text() works between
 * on_open and on_close.  ws_close() may be called from any callback; it
 * sends a close frame (1000) if the connection is open, without waiting
 * for the answer, frees everything, and no callback follows.  The caller
 * ignores SIGPIPE.
 */
struct ws	*ws_connect(struct event_base *, const struct ws_config *,
		    char *, size_t);
int		 ws_send_text(struct ws *, const char *, size_t);
void		 ws_close(struct ws *);

#endif /* FZC_WS_H */
