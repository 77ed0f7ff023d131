/*
 * curl_ev.h: a libcurl multi handle driven by a libevent loop. The
 * sockets curl wants watched get events, its timer one timer, and each
 * finished transfer comes back through a callback; nothing blocks the
 * loop. The portal's WebSocket (ws.c) and DNS over HTTPS (dns_doh.c)
 * both run their transfers on one.
 */
#ifndef FZC_CURL_EV_H
#define FZC_CURL_EV_H

#include <curl/curl.h>

struct curl_ev;
struct event_base;

/* A transfer of the multi handle ended with this code. */
typedef void curl_ev_done_fn(void *, CURL *, CURLcode);

/* NULL when out of resources. */
struct curl_ev	*curl_ev_new(struct event_base *, curl_ev_done_fn *, void *);
CURLM		*curl_ev_multi(struct curl_ev *);
/*
 * Cleans the multi handle up (its easy handles removed first by the
 * caller); from the done callback too, then once it has returned.
 */
void		 curl_ev_free(struct curl_ev *);

#endif
