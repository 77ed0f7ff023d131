/*
 * tunneld_chan.c: controld's end of the IPC channel to tunneld. Every
 * module below controld.c sends through it; replies come back through
 * controld.c's dispatch, matched by the ids taken here.
 */
#include <sys/socket.h>

#include <event2/event.h>
#include <string.h>

#include "common/log.h"
#include "controld/tunneld_chan.h"
#include "ipc/ipc.h"

static void
tunneld_chan_want_write(void *arg)
{
	struct tunneld_chan	*tc = arg;

	if (event_add(tc->ev_write, NULL) == -1)
		fatalx("event_add ipc write");
}

static void
tunneld_chan_write(evutil_socket_t fd, short events, void *arg)
{
	struct tunneld_chan	*tc = arg;
	int			 rc;

	(void)fd;
	(void)events;
	if ((rc = ipc_chan_flush(&tc->chan)) == 1)
		tunneld_chan_want_write(tc);
	else if (rc == -1)
		fatal("writing to tunneld");
}

void
tunneld_chan_init(struct tunneld_chan *tc, struct event_base *base, int fd)
{
	memset(tc, 0, sizeof(*tc));
	if ((tc->ev_write = event_new(base, fd, EV_WRITE, tunneld_chan_write,
	    tc)) == NULL)
		fatalx("cannot set up the event loop");
	ipc_chan_init(&tc->chan, fd, tunneld_chan_want_write, tc);
}

void
tunneld_chan_clear(struct tunneld_chan *tc)
{
	event_free(tc->ev_write);
	ipc_chan_clear(&tc->chan);
}

/* Messages to tunneld queue when it is busy; a channel gone is fatal. */
void
tunneld_chan_send(struct tunneld_chan *tc, enum ipc_type type, uint32_t id,
    const void *p, size_t len)
{
	if (ipc_chan_send(&tc->chan, type, id, p, len, -1) == -1)
		fatal("sending %s to tunneld", ipc_type_name(type));
}

/* Sends under a new id, which tunneld's answer carries. */
uint32_t
tunneld_chan_request(struct tunneld_chan *tc, enum ipc_type type,
    const void *p, size_t len)
{
	tunneld_chan_send(tc, type, ++tc->next_id, p, len);
	return (tc->next_id);
}

/* -1 with errno: the caller tells its own client, controld carries on. */
int
tunneld_chan_request_socket(struct tunneld_chan *tc, int family, int type,
    uint32_t *id)
{
	struct ipc_socket_request	 req;

	memset(&req, 0, sizeof(req));
	req.family = family;
	req.type = type;
	*id = ++tc->next_id;
	return (ipc_chan_send(&tc->chan, IPC_SOCKET_REQUEST, *id, &req,
	    sizeof(req), -1));
}

int
tunneld_chan_request_stats(struct tunneld_chan *tc, uint32_t *id)
{
	struct ipc_empty	 req;

	memset(&req, 0, sizeof(req));
	*id = ++tc->next_id;
	return (ipc_chan_send(&tc->chan, IPC_STATS_REQUEST, *id, &req,
	    sizeof(req), -1));
}
