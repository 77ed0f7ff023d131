/*
 * control.c: the local control socket of fzc-controld, used by the fzc CLI
 * and the GUI. Newline-delimited JSON: one request object per line, one
 * reply object per line; a connection that asked to watch also gets an
 * event object whenever the state it shows changes. Only root and members
 * of the fzc group get in. doc/control-protocol.md describes it all.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <jansson.h>
#include <malloc.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "controld/control.h"
#include "controld/portal_url.h"
#include "controld/session.h"
#include "controld/session_client.h"
#include "controld/tunneld_chan.h"

#define CONTROL_MAX_CONNS	32
/* Per user but root; root always has the last few connections. */
#define CONTROL_MAX_PER_UID	8
#define CONTROL_ROOT_SLOTS	4
#define CONTROL_MAX_LINE	65536
#define CONTROL_MAX_PENDING	16
#define CONTROL_MAX_GROUPS	256
/* A watcher that stops reading is dropped rather than buffered forever. */
#define CONTROL_MAX_BACKLOG	(64 * 1024 * 1024)

struct control_conn {
	LIST_ENTRY(control_conn)	 entry;
	struct control			*ctl;
	struct bufferevent		*bev;
	uid_t				 uid;
	bool				 admin;	/* root or fzc-admin */
	int				 watching;
};

struct control_pending {
	uint32_t			 id;
	int				 used;
	struct control_conn		*conn;	/* NULL once it went away */
};

enum control_wait {
	CONTROL_WAIT_STATUS,
	CONTROL_WAIT_PEERS,
	CONTROL_WAIT_RELAYS,
};

/* Clients waiting for the counters of one IPC_STATS_REQUEST. */
struct control_stats {
	int				 in_flight;
	uint32_t			 id;
	json_t				*peers;
	json_t				*workers;
	json_t				*relays;
	struct control_conn		*conn[CONTROL_MAX_CONNS];
	enum control_wait		 wait[CONTROL_MAX_CONNS];
	int				 nwait;
};

struct control {
	struct control_env		 env;
	int				 fd;
	struct event			*ev_accept;
	LIST_HEAD(, control_conn)	 conns;
	int				 nconns;
	struct control_pending		 pending[CONTROL_MAX_PENDING];
	struct control_stats		 stats;
	int				 nwatchers;
	int				 changed;	/* CONTROL_CHANGED_* */
	struct event			*ev_push;
	json_t				*last_peers;	/* as last pushed */
};

static const char *const drop_names[IPC_DROP_MAX] = {
	[IPC_DROP_NO_PEER] = "no_peer",
	[IPC_DROP_NO_SESSION] = "no_session",
	[IPC_DROP_BAD_PACKET] = "bad_packet",
	[IPC_DROP_DECRYPT] = "decrypt",
	[IPC_DROP_REPLAY] = "replay",
	[IPC_DROP_UNKNOWN_INDEX] = "unknown_index",
	[IPC_DROP_SOURCE] = "source",
	[IPC_DROP_QUEUE_FULL] = "queue_full",
	[IPC_DROP_SEND] = "send",
	[IPC_DROP_TUN_WRITE] = "tun_write",
	[IPC_DROP_UNAUTHORIZED] = "unauthorized",
};

static const struct {
	const char	*name;
	int		 value;
} families[] = {
	{ "inet", AF_INET }, { "inet6", AF_INET6 },
}, types[] = {
	{ "udp", SOCK_DGRAM }, { "tcp", SOCK_STREAM },
};

static void
control_reply(struct control_conn *cc, json_t *reply)
{
	char	*s;
	size_t	 len;

	if ((s = json_dumps(reply, JSON_COMPACT)) == NULL)
		fatalx("json_dumps");
	len = strlen(s);
	evbuffer_add(bufferevent_get_output(cc->bev), s, len);
	evbuffer_add(bufferevent_get_output(cc->bev), "\n", 1);
	free(s);
	json_decref(reply);
	/* The resource list of a large account is megabytes of tree. */
	if (len > 1024 * 1024)
		malloc_trim(0);
}

static void
control_error(struct control_conn *cc, const char *error)
{
	control_reply(cc, json_pack("{s:b, s:s}", "ok", 0, "error", error));
}

static json_t *
control_peer_json(const struct ipc_peer_stats *ps)
{
	char		 key[sodium_base64_ENCODED_LEN(IPC_WG_KEY_LEN,
			    sodium_base64_VARIANT_ORIGINAL)];
	char		 a[INET6_ADDRSTRLEN], ep[INET6_ADDRSTRLEN + 16];
	json_t		*o;

	sodium_bin2base64(key, sizeof(key), ps->public_key, IPC_WG_KEY_LEN,
	    sodium_base64_VARIANT_ORIGINAL);
	o = json_pack("{s:s, s:I, s:I, s:I, s:I}", "public_key", key,
	    "latest_handshake", (json_int_t)ps->last_handshake,
	    "rx_bytes", (json_int_t)ps->rx_bytes,
	    "tx_bytes", (json_int_t)ps->tx_bytes,
	    "handshake_failures", (json_int_t)ps->handshake_failures);
	if (ps->has_endpoint) {
		inet_ntop(ps->endpoint.family, ps->endpoint.addr, a,
		    sizeof(a));
		snprintf(ep, sizeof(ep), ps->endpoint.family == AF_INET6 ?
		    "[%s]:%u" : "%s:%u", a, ps->endpoint.port);
		json_object_set_new(o, "endpoint", json_string(ep));
		json_object_set_new(o, "path", json_string(
		    ps->has_endpoint == 2 ? "relayed" : "direct"));
	}
	return (o);
}

static json_t *
control_worker_json(const struct ipc_worker_stats *ws)
{
	json_t	*o, *drops;
	int	 i;

	drops = json_object();
	for (i = 0; i < IPC_DROP_MAX; i++)
		json_object_set_new(drops, drop_names[i],
		    json_integer((json_int_t)ws->drops[i]));
	o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
	    "worker", (json_int_t)ws->worker,
	    "tx_packets", (json_int_t)ws->tx_packets,
	    "tx_bytes", (json_int_t)ws->tx_bytes,
	    "rx_packets", (json_int_t)ws->rx_packets,
	    "rx_bytes", (json_int_t)ws->rx_bytes,
	    "tx_syscalls", (json_int_t)ws->tx_syscalls,
	    "rx_syscalls", (json_int_t)ws->rx_syscalls,
	    "reorders", (json_int_t)ws->reorders,
	    "drops", drops);
	return (o);
}

static json_t *
control_addr_json(const struct ipc_sockaddr *sa)
{
	char	 a[INET6_ADDRSTRLEN], s[INET6_ADDRSTRLEN + 16];

	inet_ntop(sa->family, sa->addr, a, sizeof(a));
	snprintf(s, sizeof(s), sa->family == AF_INET6 ? "[%s]:%u" : "%s:%u",
	    a, sa->port);
	return (json_string(s));
}

static const char *const turn_states[] = {
	"idle", "binding", "allocating", "allocated", "deleting", "closed",
	"failed"
};

static const char *const turn_errors[] = {
	"", "the relay refused the credentials",
	"the relay stopped answering", "the relay refused the request",
	"the allocation expired", "the relay's answer was malformed",
	"internal error"
};

/* What `fzc netcheck` shows for a relay the portal gave. */
static json_t *
control_relay_json(const struct ipc_relay_stats *rs)
{
	json_t	*o, *rel;
	int	 i;

	o = json_pack("{s:s, s:o, s:s, s:b}", "id", rs->id,
	    "address", control_addr_json(&rs->addr),
	    "state", turn_states[rs->state],
	    "answered", rs->has_srflx || rs->state == 3);
	if (rs->error != 0)
		json_object_set_new(o, "error",
		    json_string(turn_errors[rs->error]));
	if (rs->rtt_us != 0)
		json_object_set_new(o, "rtt_ms",
		    json_real(rs->rtt_us / 1000.0));
	if (rs->has_srflx)
		json_object_set_new(o, "server_reflexive",
		    control_addr_json(&rs->srflx));
	rel = json_array();
	for (i = 0; i < rs->nrelayed; i++)
		json_array_append_new(rel,
		    control_addr_json(&rs->relayed[i]));
	json_object_set_new(o, "relayed", rel);
	return (o);
}

/* One IPC_STATS_REQUEST answers everyone who asks while it is out. */
static int
control_ask_stats(struct control *ctl)
{
	struct control_stats	*st = &ctl->stats;

	if (st->in_flight)
		return (0);
	if (tunneld_chan_request_stats(ctl->env.tc, &st->id) == -1) {
		log_warn("asking tunneld for counters");
		return (-1);
	}
	st->in_flight = 1;
	st->peers = json_array();
	st->workers = json_array();
	st->relays = json_array();
	return (0);
}

/* Both status and peers need tunneld's counters: ask, answer later. */
static void
control_wait_stats(struct control_conn *cc, enum control_wait what)
{
	struct control_stats	*st = &cc->ctl->stats;

	if (st->nwait == CONTROL_MAX_CONNS) {
		control_error(cc, "too many requests in flight");
		return;
	}
	if (control_ask_stats(cc->ctl) == -1) {
		control_error(cc, "cannot reach tunneld");
		return;
	}
	st->conn[st->nwait] = cc;
	st->wait[st->nwait++] = what;
}

/*
 * tunneld's counters of a peer, with what the session knows of it (its
 * id, name and path), matched by key: the counters do not carry the id.
 */
static void
control_peers_named(struct control *ctl, json_t *stats)
{
	json_t		*known, *p, *k, *v;
	const char	*key, *their, *name;
	size_t		 i, j;

	known = session_peers(ctl->env.session);
	json_array_foreach(stats, i, p) {
		key = json_string_value(json_object_get(p, "public_key"));
		json_array_foreach(known, j, k) {
			their = json_string_value(
			    json_object_get(k, "public_key"));
			if (key == NULL || their == NULL ||
			    strcmp(key, their) != 0)
				continue;
			json_object_foreach(k, name, v)
				if (json_object_get(p, name) == NULL)
					json_object_set(p, name, v);
			break;
		}
	}
	json_decref(known);
}

int
control_stats(struct control *ctl, const struct ipc_msg *msg)
{
	struct control_stats	*st = &ctl->stats;
	json_t			*reply;
	int			 i;

	if (!st->in_flight || msg->hdr.id != st->id)
		return (-1);
	if (msg->hdr.type == IPC_PEER_STATS) {
		json_array_append_new(st->peers,
		    control_peer_json(&msg->u.peer_stats));
		return (0);
	}
	if (msg->hdr.type == IPC_WORKER_STATS) {
		json_array_append_new(st->workers,
		    control_worker_json(&msg->u.worker_stats));
		return (0);
	}
	if (msg->hdr.type == IPC_RELAY_STATS) {
		json_array_append_new(st->relays,
		    control_relay_json(&msg->u.relay_stats));
		return (0);
	}
	for (i = 0; i < st->nwait; i++) {
		if (st->conn[i] == NULL)
			continue;
		if (st->wait[i] == CONTROL_WAIT_PEERS) {
			control_peers_named(ctl, st->peers);
			reply = json_pack("{s:b, s:O}", "ok", 1, "peers",
			    st->peers);
		} else if (st->wait[i] == CONTROL_WAIT_RELAYS)
			reply = json_pack("{s:b, s:O}", "ok", 1, "relays",
			    st->relays);
		else
			reply = ctl->env.status(ctl->env.arg, st->workers);
		control_reply(st->conn[i], reply);
	}
	json_decref(st->peers);
	json_decref(st->workers);
	json_decref(st->relays);
	st->peers = st->workers = st->relays = NULL;
	st->nwait = 0;
	st->in_flight = 0;
	return (0);
}

static int
control_lookup(const char *s, int table, int *value)
{
	size_t	 i;

	for (i = 0; i < 2; i++) {
		if (table == 0 && strcmp(s, families[i].name) == 0) {
			*value = families[i].value;
			return (0);
		}
		if (table == 1 && strcmp(s, types[i].name) == 0) {
			*value = types[i].value;
			return (0);
		}
	}
	return (-1);
}

/* A diagnostic: ask tunneld for a protected socket and report its mark. */
static void
control_protected_socket(struct control_conn *cc, json_t *req)
{
	struct control	*ctl = cc->ctl;
	const char	*fam = "inet", *typ = "udp";
	int		 family, type, i;
	uint32_t	 id;

	if (json_unpack(req, "{s?s, s?s}", "family", &fam, "type",
	    &typ) == -1 || control_lookup(fam, 0, &family) == -1 ||
	    control_lookup(typ, 1, &type) == -1) {
		control_error(cc, "family must be inet or inet6, type udp "
		    "or tcp");
		return;
	}
	for (i = 0; i < CONTROL_MAX_PENDING; i++)
		if (!ctl->pending[i].used)
			break;
	if (i == CONTROL_MAX_PENDING) {
		control_error(cc, "too many requests in flight");
		return;
	}
	if (tunneld_chan_request_socket(ctl->env.tc, family, type,
	    &id) == -1) {
		log_warn("asking tunneld for a socket");
		control_error(cc, "cannot reach tunneld");
		return;
	}
	ctl->pending[i].used = 1;
	ctl->pending[i].id = id;
	ctl->pending[i].conn = cc;
}

int
control_socket_answer(struct control *ctl, uint32_t id, int fd, int error)
{
	struct control_pending	*p = NULL;
	json_t			*reply;
	uint32_t		 mark = 0;
	socklen_t		 len = sizeof(mark);
	int			 i, domain = 0, type = 0;

	for (i = 0; i < CONTROL_MAX_PENDING; i++)
		if (ctl->pending[i].used && ctl->pending[i].id == id)
			p = &ctl->pending[i];
	if (p == NULL) {
		if (fd != -1)
			close(fd);
		return (-1);
	}
	p->used = 0;
	if (p->conn == NULL) {
		if (fd != -1)
			close(fd);
		return (0);
	}
	if (fd == -1) {
		reply = json_pack("{s:b, s:s, s:s}", "ok", 0,
		    "error", "tunneld could not create the socket",
		    "reason", strerror(error));
	} else {
		/* Read back from the kernel, not from tunneld's message. */
		if (getsockopt(fd, SOL_SOCKET, SO_MARK, &mark, &len) == -1)
			log_warn("getsockopt SO_MARK");
		len = sizeof(domain);
		getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len);
		len = sizeof(type);
		getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
		close(fd);
		reply = json_pack("{s:b, s:s, s:s, s:I}", "ok", 1,
		    "family", domain == AF_INET6 ? "inet6" : "inet",
		    "type", type == SOCK_STREAM ? "tcp" : "udp",
		    "mark", (json_int_t)mark);
	}
	control_reply(p->conn, reply);
	return (0);
}

static void
control_token_done(void *arg, int error)
{
	struct control_conn	*cc = arg;
	char			 why[160];

	if (error == 0) {
		control_reply(cc, json_pack("{s:b}", "ok", 1));
		return;
	}
	snprintf(why, sizeof(why), "tunneld could not update the token "
	    "file: %s", strerror(error));
	control_error(cc, why);
}

static void
control_internet_done(void *arg, int error)
{
	struct control_conn	*cc = arg;
	char			 why[160];

	if (error == 0) {
		control_reply(cc, json_pack("{s:b}", "ok", 1));
		return;
	}
	snprintf(why, sizeof(why), "tunneld could not save the setting: %s",
	    strerror(error));
	control_error(cc, why);
}

static void
control_internet(struct control_conn *cc, json_t *req)
{
	json_t	*on = json_object_get(req, "enabled");

	if (!json_is_boolean(on))
		control_error(cc, "internet needs \"enabled\": true or false");
	else if (session_client_set_internet(cc->ctl->env.session,
	    json_is_true(on), control_internet_done, cc) == -1)
		control_error(cc, "not in the client role, or another change "
		    "is under way");
}

static void
control_settings_done(void *arg, int error)
{
	struct control_conn	*cc = arg;
	json_t			*cur;
	char			 why[160];

	if (error == 0) {
		cur = session_settings_json(cc->ctl->env.session);
		control_reply(cc,
		    json_pack("{s:b, s:o}", "ok", 1, "settings", cur));
		return;
	}
	snprintf(why, sizeof(why), "tunneld could not save the settings: %s",
	    strerror(error));
	control_error(cc, why);
}

/*
 * An API URL fzc can connect to, parsed as the session will. ws://
 * carries the token in the clear: only when the user says so.
 */
static const char *
control_check_url(const char *url, int insecure)
{
	struct portal_device	 dev;
	struct portal_url	 u;
	const uint8_t		 key[32] = { 0 };
	const char		*p, *why;

	if (strncmp(url, "ws://", 5) == 0 && !insecure)
		return ("ws:// sends the token unencrypted: use wss://, or "
		    "ask for it with \"insecure\": true");
	if (strncmp(url, "wss://", 6) != 0 && strncmp(url, "ws://", 5) != 0)
		return ("the API URL must start with wss://");
	if (strlen(url) >= IPC_URL_MAX)
		return ("the API URL is too long");
	for (p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '@')
			return ("the API URL has blanks, control characters "
			    "or user info");
	memset(&dev, 0, sizeof(dev));
	dev.external_id = "check";
	if (portal_url_build(url, &dev, key, &u, &why) == -1)
		return (why);
	portal_url_free(&u);
	return (NULL);
}

#define CONTROL_NO_SETTINGS \
	"no settings: fzc runs a WireGuard file, not the client or gateway role"
#define CONTROL_BAD_URL "\"api_url\" must be a string, or null for the default"
#define CONTROL_BAD_LEVEL \
	"\"log_level\" must be error, warning, info or debug, or null for " \
	"the default"
#define CONTROL_NOT_ADMIN \
	"permission denied: changing the daemon's settings needs root or " \
	"group fzc-admin"
#define CONTROL_NO_CHANGE \
	"not in the client or gateway role, or another change is under way"

/*
 * settings: without arguments, what they are; with api_url or log_level
 * (null: back to the default), tunneld saves them first.
 */
static void
control_settings(struct control_conn *cc, json_t *req)
{
	struct session	*s = cc->ctl->env.session;
	json_t		*u, *l, *ins, *cur;
	const char	*url = NULL, *why;
	enum log_level	 lv;
	int		 level = SESSION_LEVEL_KEEP;

	u = json_object_get(req, "api_url");
	l = json_object_get(req, "log_level");
	ins = json_object_get(req, "insecure");
	if (u == NULL && l == NULL) {
		if ((cur = session_settings_json(s)) == NULL)
			control_error(cc, CONTROL_NO_SETTINGS);
		else
			control_reply(cc,
			    json_pack("{s:b, s:o}", "ok", 1, "settings", cur));
		return;
	}
	/* Where the machine signs in: the other tier's, as sign-in is. */
	if (!cc->admin) {
		control_error(cc, CONTROL_NOT_ADMIN);
		return;
	}
	if (ins != NULL && !json_is_boolean(ins)) {
		control_error(cc, "\"insecure\" must be true or false");
		return;
	}
	if (json_is_null(u))
		url = "";
	else if (u != NULL && (url = json_string_value(u)) == NULL) {
		control_error(cc, CONTROL_BAD_URL);
		return;
	} else if (url != NULL &&
	    (why = control_check_url(url, json_is_true(ins))) != NULL) {
		control_error(cc, why);
		return;
	}
	if (json_is_null(l))
		level = -1;
	else if (l != NULL) {
		if (!json_is_string(l) ||
		    log_parse_level(json_string_value(l), &lv) == -1) {
			control_error(cc, CONTROL_BAD_LEVEL);
			return;
		}
		level = (int)lv;
	}
	if (session_set_settings(s, url, level, control_settings_done, cc) != 0)
		control_error(cc, CONTROL_NO_CHANGE);
}

/* The token travels in the request body, never on a command line. */
static void
control_sign_in(struct control_conn *cc, json_t *req)
{
	const char	*token;

	if ((token = json_string_value(json_object_get(req, "token"))) ==
	    NULL || *token == '\0') {
		control_error(cc, "sign-in needs a \"token\" string");
		return;
	}
	if (session_sign_in(cc->ctl->env.session, token, control_token_done,
	    cc) == -1)
		control_error(cc, "token too long, or another sign-in or "
		    "sign-out is under way");
}

/*
 * Watchers. controld.c calls control_notify() when the session says its
 * state changed; the events go out once per turn of the event loop, each
 * holding the whole of what changed, so that a client never has to patch
 * a list.
 */
static void	control_close(struct control_conn *);

/* ev goes to one watcher, or to all of them (only == NULL). */
static void
control_push(struct control *ctl, struct control_conn *only, json_t *ev)
{
	struct control_conn	*cc, *next;
	struct evbuffer		*out;
	char			*s;
	size_t			 len;

	if ((s = json_dumps(ev, JSON_COMPACT)) == NULL)
		fatalx("json_dumps");
	json_decref(ev);
	len = strlen(s);
	s[len++] = '\n';	/* over the NUL: evbuffer_add takes a length */
	for (cc = LIST_FIRST(&ctl->conns); cc != NULL; cc = next) {
		next = LIST_NEXT(cc, entry);
		if (!cc->watching || (only != NULL && cc != only))
			continue;
		out = bufferevent_get_output(cc->bev);
		if (evbuffer_get_length(out) > CONTROL_MAX_BACKLOG) {
			log_warnx("control: uid %d does not read its events; "
			    "closing", (int)cc->uid);
			control_close(cc);
			continue;
		}
		evbuffer_add(out, s, len);
	}
	free(s);
	if (len > 1024 * 1024)
		malloc_trim(0);
}

static json_t *
control_portal_event(struct control *ctl)
{
	return (json_pack("{s:s, s:o}", "event", "portal", "portal",
	    session_status(ctl->env.session)));
}

static json_t *
control_resources_event(struct control *ctl)
{
	return (json_pack("{s:s, s:o}", "event", "resources", "resources",
	    session_client_resources(ctl->env.session)));
}

/*
 * A watcher sees each peer's path as tunneld pushes it (IPC_PEER_PATH),
 * not its counters, which always move; only a change goes out.
 */
static void
control_push_peers(struct control *ctl, struct control_conn *only)
{
	json_t	*peers = session_peers(ctl->env.session);

	/* A new watcher's first event leaves the others' news alone. */
	if (only != NULL) {
		control_push(ctl, only,
		    json_pack("{s:s, s:o}", "event", "peers", "peers", peers));
		return;
	}
	if (ctl->last_peers != NULL && json_equal(peers, ctl->last_peers)) {
		json_decref(peers);
		return;
	}
	json_decref(ctl->last_peers);
	ctl->last_peers = peers;
	control_push(ctl, NULL, json_pack("{s:s, s:O}", "event", "peers",
	    "peers", peers));
}

static void
control_push_cb(evutil_socket_t fd, short events, void *arg)
{
	struct control	*ctl = arg;
	int		 what = ctl->changed;

	(void)fd;
	(void)events;
	ctl->changed = 0;
	if (what & CONTROL_CHANGED_PORTAL)
		control_push(ctl, NULL, control_portal_event(ctl));
	if (what & CONTROL_CHANGED_RESOURCES)
		control_push(ctl, NULL, control_resources_event(ctl));
	if (what & CONTROL_CHANGED_PEERS)
		control_push_peers(ctl, NULL);
}

void
control_notify(struct control *ctl, int what)
{
	/* The session starts before the control socket exists. */
	if (ctl == NULL || ctl->nwatchers == 0)
		return;
	ctl->changed |= what;
	event_active(ctl->ev_push, EV_TIMEOUT, 0);
}

static void
control_watch(struct control_conn *cc)
{
	struct control	*ctl = cc->ctl;

	if (cc->watching) {
		control_error(cc, "this connection already watches");
		return;
	}
	cc->watching = 1;
	ctl->nwatchers++;
	control_reply(cc, json_pack("{s:b, s:i}", "ok", 1, "version",
	    FZC_CONTROL_VERSION));
	control_push(ctl, cc, control_portal_event(ctl));
	control_push(ctl, cc, control_resources_event(ctl));
	control_push_peers(ctl, cc);
}

static void
control_unwatch(struct control_conn *cc)
{
	struct control	*ctl = cc->ctl;

	if (!cc->watching)
		return;
	cc->watching = 0;
	if (--ctl->nwatchers > 0)
		return;
	/* Nobody watches: the next one starts anew. */
	json_decref(ctl->last_peers);
	ctl->last_peers = NULL;
	ctl->changed = 0;
}

/* The commands that change who the machine is or where its traffic goes. */
static bool
control_changes(const char *cmd)
{
	static const char *const cmds[] = {
		"sign-in",
		"sign-out",
		"internet",
		"protected-socket",
	};
	size_t	 i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmd, cmds[i]) == 0)
			return (true);
	return (false);
}

static void
control_handle(struct control_conn *cc, const char *line)
{
	json_t		*req, *v;
	json_error_t	 err;
	const char	*cmd;
	char		 why[256];

	if ((req = json_loads(line, 0, &err)) == NULL) {
		snprintf(why, sizeof(why), "request is not valid JSON: %s",
		    err.text);
		control_error(cc, why);
		return;
	}
	if (!json_is_object(req) ||
	    (cmd = json_string_value(json_object_get(req, "command"))) ==
	    NULL)
		control_error(cc, "request must be an object with a "
		    "\"command\" string");
	else if ((v = json_object_get(req, "version")) != NULL &&
	    json_integer_value(v) != FZC_CONTROL_VERSION) {
		snprintf(why, sizeof(why), "unsupported protocol version; "
		    "this fzc-controld speaks version %d",
		    FZC_CONTROL_VERSION);
		control_error(cc, why);
	} else if (strcmp(cmd, "status") == 0)
		control_wait_stats(cc, CONTROL_WAIT_STATUS);
	else if (strcmp(cmd, "peers") == 0)
		control_wait_stats(cc, CONTROL_WAIT_PEERS);
	else if (strcmp(cmd, "netcheck") == 0)
		control_wait_stats(cc, CONTROL_WAIT_RELAYS);
	else if (!cc->admin && control_changes(cmd))
		control_error(cc,
		    "permission denied: changing who this machine signs in "
		    "as or where its traffic goes needs root or group "
		    "fzc-admin");
	else if (strcmp(cmd, "internet") == 0)
		control_internet(cc, req);
	else if (strcmp(cmd, "resources") == 0)
		control_reply(cc, json_pack("{s:b, s:o}", "ok", 1,
		    "resources",
		    session_client_resources(cc->ctl->env.session)));
	else if ((strcmp(cmd, "sign-in") == 0 ||
	    strcmp(cmd, "sign-out") == 0) &&
	    session_keeps_token(cc->ctl->env.session))
		control_error(cc,
		    "the gateway's token is the operator's: put it in "
		    "/etc/fzc/gateway-token and restart fzc-gateway");
	else if (strcmp(cmd, "sign-in") == 0)
		control_sign_in(cc, req);
	else if (strcmp(cmd, "sign-out") == 0) {
		if (session_sign_out(cc->ctl->env.session, control_token_done,
		    cc) == -1)
			control_error(cc, "another sign-in or sign-out is "
			    "under way");
	}
	else if (strcmp(cmd, "protected-socket") == 0)
		control_protected_socket(cc, req);
	else if (strcmp(cmd, "watch") == 0)
		control_watch(cc);
	else if (strcmp(cmd, "settings") == 0)
		control_settings(cc, req);
	else {
		snprintf(why, sizeof(why), "unknown command \"%.64s\"", cmd);
		control_error(cc, why);
	}
	json_decref(req);
}

static void
control_close(struct control_conn *cc)
{
	int	 i;

	for (i = 0; i < CONTROL_MAX_PENDING; i++)
		if (cc->ctl->pending[i].conn == cc)
			cc->ctl->pending[i].conn = NULL;
	for (i = 0; i < cc->ctl->stats.nwait; i++)
		if (cc->ctl->stats.conn[i] == cc)
			cc->ctl->stats.conn[i] = NULL;
	session_forget_waiter(cc->ctl->env.session, cc);
	control_unwatch(cc);
	LIST_REMOVE(cc, entry);
	cc->ctl->nconns--;
	bufferevent_free(cc->bev);
	free(cc);
}

static void
control_read(struct bufferevent *bev, void *arg)
{
	struct control_conn	*cc = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	char			*line;
	size_t			 len;

	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) != NULL) {
		control_handle(cc, line);
		/* A sign-in line carries the token. */
		explicit_bzero(line, len);
		free(line);
	}
	if (evbuffer_get_length(in) > CONTROL_MAX_LINE) {
		log_warnx("control: uid %d sent a line over %d bytes; "
		    "closing", (int)cc->uid, CONTROL_MAX_LINE);
		control_close(cc);
	}
}

static void
control_event(struct bufferevent *bev, short events, void *arg)
{
	(void)bev;
	if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		control_close(arg);
}

/* Who may do what: reading for group fzc, changing for fzc-admin. */
enum control_tier {
	CONTROL_DENIED,
	CONTROL_READ,
	CONTROL_ADMIN,
};

/*
 * SO_PEERGROUPS gives the groups the connecting process really holds,
 * rather than what the group database says the user could hold.
 */
static enum control_tier
control_peer_tier(struct control *ctl, int fd, uid_t uid, gid_t gid)
{
	gid_t		 groups[CONTROL_MAX_GROUPS];
	socklen_t	 len = sizeof(groups);
	size_t		 i;
	bool		 member = gid == ctl->env.gid;
	bool		 admin = gid == ctl->env.admin_gid;

	if (uid == 0)
		return (CONTROL_ADMIN);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1) {
		log_warn("control: SO_PEERGROUPS");
		return (CONTROL_DENIED);
	}
	for (i = 0; i < len / sizeof(gid_t); i++) {
		member |= groups[i] == ctl->env.gid;
		admin |= groups[i] == ctl->env.admin_gid;
	}
	if (admin)
		return (CONTROL_ADMIN);
	return (member ? CONTROL_READ : CONTROL_DENIED);
}

/* One member must not take every connection, nor root's. */
static bool
control_room_for(struct control *ctl, uid_t uid)
{
	struct control_conn	*cc;
	size_t			 mine = 0, others = 0;

	if (uid == 0)
		return (ctl->nconns < CONTROL_MAX_CONNS);
	LIST_FOREACH(cc, &ctl->conns, entry) {
		if (cc->uid == uid)
			mine++;
		if (cc->uid != 0)
			others++;
	}
	return (mine < CONTROL_MAX_PER_UID &&
	    others < CONTROL_MAX_CONNS - CONTROL_ROOT_SLOTS);
}

static void
control_accept(evutil_socket_t lfd, short events, void *arg)
{
	static const char	 denied[] = "{\"ok\":false,\"error\":"
	    "\"permission denied: not root and not in group fzc\"}\n";
	struct control		*ctl = arg;
	struct control_conn	*cc;
	struct ucred		 cred;
	socklen_t		 len = sizeof(cred);
	enum control_tier	 tier;
	int			 fd;

	(void)events;
	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("control: accept");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control: SO_PEERCRED");
		close(fd);
		return;
	}
	/* The file mode is the first gate; this is the one we trust. */
	if ((tier = control_peer_tier(ctl, fd, cred.uid, cred.gid)) ==
	    CONTROL_DENIED) {
		log_warnx("control: refused uid %d gid %d (pid %d): not root "
		    "and not in group fzc", (int)cred.uid, (int)cred.gid,
		    (int)cred.pid);
		if (write(fd, denied, sizeof(denied) - 1) == -1)
			log_debug("control: telling uid %d: %s",
			    (int)cred.uid, strerror(errno));
		close(fd);
		return;
	}
	if (!control_room_for(ctl, cred.uid)) {
		log_warnx("control: too many connections, refusing uid %d",
		    (int)cred.uid);
		close(fd);
		return;
	}
	cc = calloc(1, sizeof(*cc));
	if (cc == NULL ||
	    (cc->bev = bufferevent_socket_new(ctl->env.base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		log_warnx("control: out of memory, dropping a connection");
		free(cc);
		close(fd);
		return;
	}
	cc->ctl = ctl;
	cc->uid = cred.uid;
	cc->admin = tier == CONTROL_ADMIN;
	bufferevent_setcb(cc->bev, control_read, NULL, control_event, cc);
	bufferevent_enable(cc->bev, EV_READ | EV_WRITE);
	LIST_INSERT_HEAD(&ctl->conns, cc, entry);
	ctl->nconns++;
	log_debug("control: uid %d connected", (int)cred.uid);
}

/*
 * fzc-tunneld binds the socket (root may put it anywhere, and it outlives
 * a restarted controld) and passes it on IPC_CONTROL_FD; STYLE 5: check
 * that it is what it claims before use.
 */
struct control *
control_init(const struct control_env *env, int fd)
{
	struct control		*ctl;
	int			 v;
	socklen_t		 len = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) == -1 ||
	    v != AF_UNIX ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) == -1 ||
	    v != SOCK_STREAM ||
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == -1 ||
	    v != 1)
		fatalx("fd %d is not a listening control socket; "
		    "fzc-controld is started by fzc-tunneld", fd);
	if (evutil_make_socket_nonblocking(fd) == -1 ||
	    evutil_make_socket_closeonexec(fd) == -1)
		fatalx("control socket flags");
	ctl = xcalloc(1, sizeof(*ctl));
	ctl->env = *env;
	ctl->fd = fd;
	LIST_INIT(&ctl->conns);
	ctl->ev_accept = event_new(env->base, ctl->fd, EV_READ | EV_PERSIST,
	    control_accept, ctl);
	ctl->ev_push = event_new(env->base, -1, 0, control_push_cb, ctl);
	if (ctl->ev_accept == NULL || ctl->ev_push == NULL ||
	    event_add(ctl->ev_accept, NULL) == -1)
		fatalx("event_add control");
	return (ctl);
}

void
control_free(struct control *ctl)
{
	while (!LIST_EMPTY(&ctl->conns))
		control_close(LIST_FIRST(&ctl->conns));
	json_decref(ctl->stats.peers);
	json_decref(ctl->stats.workers);
	json_decref(ctl->stats.relays);
	event_free(ctl->ev_push);
	event_free(ctl->ev_accept);
	close(ctl->fd);
	free(ctl);
}
