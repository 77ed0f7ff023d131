/*
 * Phoenix channel state machine, PROTOCOL.md 1.7.  No socket and no clock
 * here: every entry point takes "now" (monotonic nanoseconds).
 */

#include <sys/queue.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "controld/phoenix.h"

#define HEARTBEAT_TOPIC	"phoenix"

struct outframe {
	STAILQ_ENTRY(outframe)	 entry;
	char			*text;
};

struct pending {
	STAILQ_ENTRY(pending)	 entry;
	char			*event;
	json_t			*payload;
};

struct evq {
	STAILQ_ENTRY(evq)	 entry;
	struct phoenix_event	 ev;
};

struct phoenix_chan {
	char			*topic;
	enum phoenix_state	 state;
	uint64_t		 next_ref;
	uint64_t		 join_ref;
	uint64_t		 join_deadline;
	uint64_t		 next_heartbeat;
	uint64_t		 hb_refs[PHOENIX_MAX_UNANSWERED];
	size_t			 nhb;
	size_t			 npending;
	STAILQ_HEAD(, outframe)	 out;
	STAILQ_HEAD(, pending)	 pending;
	STAILQ_HEAD(, evq)	 events;
};

static void	clear_out(struct phoenix_chan *);
static int	push_event(struct phoenix_chan *, enum phoenix_event_type,
		    const char *, json_t *, uint64_t, const char *);
static int	push_frame(struct phoenix_chan *, const char *, const char *,
		    json_t *);
static int	send_join(struct phoenix_chan *, uint64_t);
static int	flush_pending(struct phoenix_chan *);
static int	need_reconnect(struct phoenix_chan *, const char *);
static int	on_reply(struct phoenix_chan *, uint64_t, const char *,
		    uint64_t, json_t *, const char **);
static bool	ref_number(json_t *, uint64_t *);

struct phoenix_chan *
phoenix_new(const char *topic)
{
	struct phoenix_chan	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	if ((c->topic = strdup(topic)) == NULL) {
		free(c);
		return (NULL);
	}
	c->state = PHOENIX_CLOSED;
	STAILQ_INIT(&c->out);
	STAILQ_INIT(&c->pending);
	STAILQ_INIT(&c->events);
	return (c);
}

void
phoenix_free(struct phoenix_chan *c)
{
	struct pending		*p;
	struct evq		*e;

	if (c == NULL)
		return;
	clear_out(c);
	while ((p = STAILQ_FIRST(&c->pending)) != NULL) {
		STAILQ_REMOVE_HEAD(&c->pending, entry);
		free(p->event);
		json_decref(p->payload);
		free(p);
	}
	while ((e = STAILQ_FIRST(&c->events)) != NULL) {
		STAILQ_REMOVE_HEAD(&c->events, entry);
		phoenix_event_clear(&e->ev);
		free(e);
	}
	free(c->topic);
	free(c);
}

/*
 * The WebSocket is open.  Refs restart at 0 with every connection, and the
 * join goes first.  Frames left over from the previous connection are
 * dropped; messages still waiting for a join stay queued.
 */
int
phoenix_open(struct phoenix_chan *c, uint64_t now)
{
	clear_out(c);
	c->next_ref = 0;
	c->nhb = 0;
	c->next_heartbeat = now + PHOENIX_HEARTBEAT_NS;
	return (send_join(c, now));
}

void
phoenix_close(struct phoenix_chan *c)
{
	clear_out(c);
	c->nhb = 0;
	c->state = PHOENIX_CLOSED;
}

enum phoenix_state
phoenix_state(const struct phoenix_chan *c)
{
	return (c->state);
}

uint64_t
phoenix_deadline(const struct phoenix_chan *c)
{
	uint64_t	 d;

	if (c->state == PHOENIX_CLOSED)
		return (TIMER_NEVER);
	d = c->next_heartbeat;
	if (c->state == PHOENIX_JOINING && c->join_deadline < d)
		d = c->join_deadline;
	return (d);
}

int
phoenix_tick(struct phoenix_chan *c, uint64_t now)
{
	json_t		*empty;
	int		 rv;

	if (c->state == PHOENIX_CLOSED)
		return (0);
	if (c->state == PHOENIX_JOINING && now >= c->join_deadline)
		return (need_reconnect(c, "join reply timed out"));
	if (now < c->next_heartbeat)
		return (0);

	/* This heartbeat would be the fourth one in flight. */
	if (c->nhb >= PHOENIX_MAX_UNANSWERED)
		return (need_reconnect(c, "too many unanswered heartbeats"));
	if ((empty = json_object()) == NULL)
		return (-1);
	c->hb_refs[c->nhb] = c->next_ref;
	rv = push_frame(c, HEARTBEAT_TOPIC, "heartbeat", empty);
	json_decref(empty);
	if (rv == -1)
		return (-1);
	c->nhb++;
	/* A late tick (suspend) sends one heartbeat, not a burst. */
	c->next_heartbeat += PHOENIX_HEARTBEAT_NS;
	if (c->next_heartbeat <= now)
		c->next_heartbeat = now + PHOENIX_HEARTBEAT_NS;
	return (0);
}

/*
 * Takes the payload reference.  Until the join reply arrives messages are
 * queued; an exact duplicate of a queued one is dropped, as connlib does.
 */
int
phoenix_send(struct phoenix_chan *c, const char *event, json_t *payload)
{
	struct pending	*p;
	int		 rv;

	if (c->state == PHOENIX_JOINED) {
		rv = push_frame(c, c->topic, event, payload);
		json_decref(payload);
		return (rv);
	}
	STAILQ_FOREACH(p, &c->pending, entry) {
		if (strcmp(p->event, event) == 0 &&
		    json_equal(p->payload, payload)) {
			json_decref(payload);
			return (0);
		}
	}
	if (c->npending >= PHOENIX_MAX_QUEUED)
		goto fail;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto fail;
	if ((p->event = strdup(event)) == NULL) {
		free(p);
		goto fail;
	}
	p->payload = payload;
	STAILQ_INSERT_TAIL(&c->pending, p, entry);
	c->npending++;
	return (0);
 fail:
	json_decref(payload);
	return (-1);
}

/*
 * One received text frame.  Returns 0 when handled or ignored, 1 when the
 * frame was malformed and dropped (*why says why), -1 on allocation failure.
 */
int
phoenix_recv(struct phoenix_chan *c, uint64_t now, const char *buf,
    size_t len, const char **why)
{
	json_t		*root, *topic, *event, *payload, *ref, *reason;
	const char	*t, *ev;
	uint64_t	 refn;
	int		 rv = 0;

	*why = NULL;
	if ((root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL)) ==
	    NULL) {
		*why = "frame: not JSON";
		return (1);
	}
	if (!json_is_object(root)) {
		*why = "frame: not an object";
		goto bad;
	}
	topic = json_object_get(root, "topic");
	event = json_object_get(root, "event");
	payload = json_object_get(root, "payload");
	ref = json_object_get(root, "ref");
	if (!json_is_string(topic) || !json_is_string(event)) {
		*why = "frame: topic or event missing or not a string";
		goto bad;
	}
	if (payload == NULL || ref == NULL) {
		*why = "frame: payload or ref missing";
		goto bad;
	}
	if (!json_is_null(ref) && !json_is_integer(ref) &&
	    !json_is_string(ref)) {
		*why = "frame: ref of the wrong type";
		goto bad;
	}
	if (c->state == PHOENIX_CLOSED)
		goto done;
	t = json_string_value(topic);
	ev = json_string_value(event);

	if (strcmp(ev, "phx_reply") == 0) {
		/* Replies to refs that are not numbers are not ours. */
		if (!ref_number(ref, &refn))
			goto done;
		if (strcmp(t, HEARTBEAT_TOPIC) == 0 ||
		    strcmp(t, c->topic) == 0)
			rv = on_reply(c, now, t, refn, payload, why);
		goto done;
	}
	if (strcmp(t, c->topic) != 0)
		goto done;
	if (strcmp(ev, "phx_error") == 0)
		rv = push_event(c, PHOENIX_EV_CHANNEL_ERROR, NULL, NULL, 0,
		    "phx_error: the channel crashed on the portal");
	else if (strcmp(ev, "phx_close") == 0)
		rv = need_reconnect(c, "phx_close: the portal closed the "
		    "channel");
	else if (strcmp(ev, "disconnect") == 0 &&
	    json_is_object(payload) &&
	    (reason = json_object_get(payload, "reason")) != NULL &&
	    json_is_string(reason) &&
	    strcmp(json_string_value(reason), "token_expired") == 0) {
		phoenix_close(c);
		rv = push_event(c, PHOENIX_EV_TOKEN_EXPIRED, NULL, NULL, 0,
		    "disconnect: token expired");
	} else
		rv = push_event(c, PHOENIX_EV_MESSAGE, ev, payload, 0, NULL);
 done:
	json_decref(root);
	return (rv);
 bad:
	json_decref(root);
	return (1);
}

/*
 * A reply on the heartbeat topic or on ours.  Only an ok reply whose
 * response is exactly {} completes the join, as in connlib; anything else
 * to the join ref lets the join time out.
 */
static int
on_reply(struct phoenix_chan *c, uint64_t now, const char *topic,
    uint64_t ref, json_t *payload, const char **why)
{
	json_t		*status, *response, *reason;
	const char	*st, *rs;
	size_t		 i;

	status = json_object_get(payload, "status");
	response = json_object_get(payload, "response");
	if (!json_is_string(status)) {
		*why = "phx_reply: status missing or not a string";
		return (1);
	}
	st = json_string_value(status);
	if (strcmp(topic, HEARTBEAT_TOPIC) == 0) {
		for (i = 0; i < c->nhb; i++) {
			if (c->hb_refs[i] != ref)
				continue;
			memmove(&c->hb_refs[i], &c->hb_refs[i + 1],
			    (c->nhb - i - 1) * sizeof(c->hb_refs[0]));
			c->nhb--;
			break;
		}
		return (0);
	}

	reason = json_object_get(response, "reason");
	rs = json_is_string(reason) ? json_string_value(reason) : "unknown";
	if (c->state == PHOENIX_JOINING && ref == c->join_ref) {
		if (strcmp(st, "ok") == 0) {
			if (!json_is_object(response) ||
			    json_object_size(response) != 0)
				return (0);
			c->state = PHOENIX_JOINED;
			if (push_event(c, PHOENIX_EV_JOINED, NULL, NULL, ref,
			    NULL) == -1)
				return (-1);
			return (flush_pending(c));
		}
		phoenix_close(c);
		return (push_event(c, PHOENIX_EV_JOIN_REFUSED, rs, NULL, ref,
		    "the portal refused the join"));
	}
	if (strcmp(st, "error") != 0)
		return (0);
	/* Our topic is not joined on the portal side any more. */
	if (strcmp(rs, "unmatched topic") == 0) {
		if (c->state == PHOENIX_JOINED)
			return (send_join(c, now));
		return (0);
	}
	return (push_event(c, PHOENIX_EV_ERROR_REPLY, rs, NULL, ref, NULL));
}

static bool
ref_number(json_t *ref, uint64_t *out)
{
	json_int_t	 v;

	if (!json_is_integer(ref))
		return (false);
	v = json_integer_value(ref);
	if (v < 0)
		return (false);
	*out = (uint64_t)v;
	return (true);
}

static int
need_reconnect(struct phoenix_chan *c, const char *reason)
{
	phoenix_close(c);
	return (push_event(c, PHOENIX_EV_NEED_RECONNECT, NULL, NULL, 0,
	    reason));
}

static int
send_join(struct phoenix_chan *c, uint64_t now)
{
	c->join_ref = c->next_ref;
	c->join_deadline = now + PHOENIX_JOIN_TIMEOUT_NS;
	c->state = PHOENIX_JOINING;
	return (push_frame(c, c->topic, "phx_join", NULL));
}

static int
flush_pending(struct phoenix_chan *c)
{
	struct pending	*p;

	while ((p = STAILQ_FIRST(&c->pending)) != NULL) {
		if (push_frame(c, c->topic, p->event, p->payload) == -1)
			return (-1);
		STAILQ_REMOVE_HEAD(&c->pending, entry);
		c->npending--;
		free(p->event);
		json_decref(p->payload);
		free(p);
	}
	return (0);
}

/* The four keys in the order Phoenix documents them; ref is a number. */
char *
phoenix_frame(const char *topic, const char *event, json_t *payload,
    uint64_t ref)
{
	json_t	*o;
	char	*s;

	o = json_pack("{s:s, s:s, s:O?, s:I}", "topic", topic, "event", event,
	    "payload", payload, "ref", (json_int_t)ref);
	if (o == NULL)
		return (NULL);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return (s);
}

static int
push_frame(struct phoenix_chan *c, const char *topic, const char *event,
    json_t *payload)
{
	struct outframe	*f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return (-1);
	if ((f->text = phoenix_frame(topic, event, payload, c->next_ref)) ==
	    NULL) {
		free(f);
		return (-1);
	}
	c->next_ref++;
	STAILQ_INSERT_TAIL(&c->out, f, entry);
	return (0);
}

static void
clear_out(struct phoenix_chan *c)
{
	struct outframe	*f;

	while ((f = STAILQ_FIRST(&c->out)) != NULL) {
		STAILQ_REMOVE_HEAD(&c->out, entry);
		free(f->text);
		free(f);
	}
}

static int
push_event(struct phoenix_chan *c, enum phoenix_event_type type,
    const char *name, json_t *payload, uint64_t ref, const char *reason)
{
	struct evq	*e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return (-1);
	if (name != NULL && (e->ev.name = strdup(name)) == NULL) {
		free(e);
		return (-1);
	}
	e->ev.type = type;
	e->ev.payload = json_incref(payload);
	e->ev.ref = ref;
	e->ev.reason = reason;
	STAILQ_INSERT_TAIL(&c->events, e, entry);
	return (0);
}

char *
phoenix_next_frame(struct phoenix_chan *c)
{
	struct outframe	*f;
	char		*s;

	if ((f = STAILQ_FIRST(&c->out)) == NULL)
		return (NULL);
	STAILQ_REMOVE_HEAD(&c->out, entry);
	s = f->text;
	free(f);
	return (s);
}

bool
phoenix_next_event(struct phoenix_chan *c, struct phoenix_event *ev)
{
	struct evq	*e;

	if ((e = STAILQ_FIRST(&c->events)) == NULL) {
		memset(ev, 0, sizeof(*ev));
		return (false);
	}
	STAILQ_REMOVE_HEAD(&c->events, entry);
	*ev = e->ev;
	free(e);
	return (true);
}

void
phoenix_event_clear(struct phoenix_event *ev)
{
	free(ev->name);
	json_decref(ev->payload);
	memset(ev, 0, sizeof(*ev));
}
