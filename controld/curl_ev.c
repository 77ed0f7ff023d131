/*
 * curl_ev.c: libcurl's multi socket interface on libevent (curl_ev.h).
 * PITFALLS.md section 1: the easy interface blocks in connect, the multi
 * one does not.
 */
#include <stdbool.h>
#include <stdlib.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "controld/curl_ev.h"

/* A socket curl asked us to watch. */
struct curl_ev_sock {
	struct curl_ev_sock	*next;
	struct curl_ev		*ce;
	struct event		*ev;
};

struct curl_ev {
	struct event_base	*base;
	CURLM			*multi;
	struct event		*timer;
	struct curl_ev_sock	*socks;
	curl_ev_done_fn		*done;
	void			*arg;
	int			 depth;	/* handlers on the stack */
	bool			 freeing;
};

static void	ce_destroy(struct curl_ev *);

/* Each finished transfer to the owner, who may free us meanwhile. */
static void
ce_action(struct curl_ev *ce, curl_socket_t fd, int action)
{
	CURLMsg	*m;
	int	 running, left;

	ce->depth++;
	/* The socket's record may be freed in here. */
	curl_multi_socket_action(ce->multi, fd, action, &running);
	while (!ce->freeing &&
	    (m = curl_multi_info_read(ce->multi, &left)) != NULL)
		if (m->msg == CURLMSG_DONE)
			ce->done(ce->arg, m->easy_handle, m->data.result);
	if (--ce->depth == 0 && ce->freeing)
		ce_destroy(ce);
}

static void
ce_sock_cb(evutil_socket_t fd, short what, void *arg)
{
	struct curl_ev_sock	*cs = arg;
	int			 action = 0;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	ce_action(cs->ce, fd, action);
}

static void
ce_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	ce_action(arg, CURL_SOCKET_TIMEOUT, 0);
}

static void
ce_sock_free(struct curl_ev *ce, struct curl_ev_sock *cs)
{
	struct curl_ev_sock	**pp;

	for (pp = &ce->socks; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == cs) {
			*pp = cs->next;
			break;
		}
	}
	if (cs->ev != NULL)
		event_free(cs->ev);
	free(cs);
}

static int
ce_socket_fn(CURL *easy, curl_socket_t s, int what, void *arg, void *sockp)
{
	struct curl_ev		*ce = arg;
	struct curl_ev_sock	*cs = sockp;
	short			 ev = EV_PERSIST;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (cs != NULL)
			ce_sock_free(ce, cs);
		return (0);
	}
	if (cs == NULL) {
		if ((cs = calloc(1, sizeof(*cs))) == NULL)
			return (-1);
		cs->ce = ce;
		cs->next = ce->socks;
		ce->socks = cs;
		curl_multi_assign(ce->multi, s, cs);
	}
	if (cs->ev != NULL)
		event_free(cs->ev);
	if (what & CURL_POLL_IN)
		ev |= EV_READ;
	if (what & CURL_POLL_OUT)
		ev |= EV_WRITE;
	if ((cs->ev = event_new(ce->base, s, ev, ce_sock_cb, cs)) == NULL ||
	    event_add(cs->ev, NULL) == -1)
		return (-1);
	return (0);
}

static int
ce_timer_fn(CURLM *multi, long ms, void *arg)
{
	struct curl_ev	*ce = arg;
	struct timeval	 tv;

	(void)multi;
	if (ms < 0) {
		evtimer_del(ce->timer);
		return (0);
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return (evtimer_add(ce->timer, &tv));
}

struct curl_ev *
curl_ev_new(struct event_base *base, curl_ev_done_fn *done, void *arg)
{
	struct curl_ev	*ce;
	int		 r = 0;

	/* Its own reference: a deferred free outlives the owner's. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return (NULL);
	if ((ce = calloc(1, sizeof(*ce))) == NULL) {
		curl_global_cleanup();
		return (NULL);
	}
	ce->base = base;
	ce->done = done;
	ce->arg = arg;
	if ((ce->multi = curl_multi_init()) == NULL ||
	    (ce->timer = evtimer_new(base, ce_timer_cb, ce)) == NULL) {
		ce_destroy(ce);
		return (NULL);
	}
	r |= curl_multi_setopt(ce->multi, CURLMOPT_SOCKETFUNCTION,
	    ce_socket_fn);
	r |= curl_multi_setopt(ce->multi, CURLMOPT_SOCKETDATA, ce);
	r |= curl_multi_setopt(ce->multi, CURLMOPT_TIMERFUNCTION, ce_timer_fn);
	r |= curl_multi_setopt(ce->multi, CURLMOPT_TIMERDATA, ce);
	if (r != 0) {
		ce_destroy(ce);
		return (NULL);
	}
	return (ce);
}

CURLM *
curl_ev_multi(struct curl_ev *ce)
{
	return (ce->multi);
}

static void
ce_destroy(struct curl_ev *ce)
{
	/* curl closes its sockets here and may still call back. */
	if (ce->multi != NULL)
		curl_multi_cleanup(ce->multi);
	while (ce->socks != NULL)
		ce_sock_free(ce, ce->socks);
	if (ce->timer != NULL)
		event_free(ce->timer);
	free(ce);
	curl_global_cleanup();
}

void
curl_ev_free(struct curl_ev *ce)
{
	if (ce == NULL)
		return;
	if (ce->depth > 0) {
		ce->freeing = true;
		return;
	}
	ce_destroy(ce);
}
