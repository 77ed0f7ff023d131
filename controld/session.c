/*
 * session.c: the portal session, what both roles share. One TLS
 * WebSocket (ws.c) on protected sockets from tunneld, one Phoenix channel
 * (phoenix.c) on the role's topic, the portal's messages decoded by
 * portal_msg.c, the reconnect rules of portal_backoff.c, the token and
 * sign-out rules, the tunnel's interface and relays, and the candidates
 * the data plane signals. What only one role does is in session_client.c
 * or session_gateway.c, plugged in as a struct session_role. The
 * portal's state is shipped to tunneld as validated IPC messages.
 */
#include <sys/socket.h>
#include <sys/utsname.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
#include <malloc.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/timer.h"
#include "common/util.h"
#include "controld/phoenix.h"
#include "controld/portal_backoff.h"
#include "controld/portal_msg.h"
#include "controld/portal_url.h"
#include "controld/session.h"
#include "controld/tunneld_chan.h"
#include "controld/ws.h"

/* Sockets per family taken from tunneld before each connection attempt. */
#define POOL_PER_FAMILY	2
#define MAX_HELD	256	/* candidate changes held while disconnected */
#define MAX_BATCH	32	/* candidates in one batched message */
#define MAX_PATHS	1024	/* peers tunneld reports a path of */
#define SESSION_KEY_B64	\
	sodium_base64_ENCODED_LEN(IPC_WG_KEY_LEN, \
	    sodium_base64_VARIANT_ORIGINAL)

/* What the data plane wants said to the portal, kept across reconnects. */
struct held {
	char		 peer_id[PORTAL_ID_SIZE];	/* gateway or client */
	char		*candidate;
	bool		 invalidate;
};

enum session_state {
	SESSION_SIGNED_OUT,
	SESSION_CONNECTING,
	SESSION_CONNECTED,
	SESSION_WAITING,
};

static const char *const state_names[] = {
	[SESSION_SIGNED_OUT] = "signed_out",
	[SESSION_CONNECTING] = "connecting",
	[SESSION_CONNECTED] = "connected",
	[SESSION_WAITING] = "waiting",
};

struct session {
	struct event_base	*base;
	struct tunneld_chan	*tc;
	const struct session_role *role;
	void			*rs;		/* the role's state */
	bool			 configured;
	struct ipc_portal_config cfg;
	char			*token;
	char			 external_id[PORTAL_EXTERNAL_ID_SIZE];

	enum session_state	 state;
	char			 reason[320];
	uint64_t		 retry_at;
	uint64_t		 max_partition;	/* ns, 0: retry forever */

	struct ws		*ws;
	struct phoenix_chan	*chan;
	struct portal_backoff	 backoff;
	struct event		*ev_tick;
	struct event		*ev_retry;

	int			 pool[2][POOL_PER_FAMILY];	/* v4, v6 */
	uint32_t		 pool_ids[2 * POOL_PER_FAMILY];
	int			 pool_waiting;

	bool			 have_init;
	struct portal_interface	 iface;
	struct portal_relay	*relays;
	size_t			 nrelays;

	struct held		 held[MAX_HELD];
	size_t			 nheld;
	struct event		*ev_held;	/* batched roles: gather them */

	uint32_t		 waiter_id;
	session_done_fn		*waiter_fn;
	void			*waiter_arg;

	session_notify_fn	*notify_fn;
	void			*notify_arg;
	session_interface_fn	*iface_fn;	/* DNS upstreams */
	void			*iface_arg;

	/* The user's settings as tunneld keeps them (IPC_SETTINGS). */
	struct ipc_settings	 settings;
	bool			 have_settings;

	/* tunneld's connections, as IPC_PEER_PATH last told each. */
	struct ipc_peer_path	*paths;
	size_t			 npaths;
};

static void	session_connect(struct session *);
static void	session_schedule(struct session *);
static void	session_flush_held(struct session *);
static void	session_stop(struct session *, const char *, bool);
static void	session_interface_changed(struct session *);
static void	session_give_up(struct session *);

static int
fam_index(int family)
{
	return (family == AF_INET6 ? 1 : 0);
}

static void
session_set_state(struct session *s, enum session_state st,
    const char *reason)
{
	if (s->state != st || (reason != NULL &&
	    strcmp(reason, s->reason) != 0))
		log_info("portal: %s%s%s", state_names[st],
		    reason != NULL ? ": " : "", reason != NULL ? reason : "");
	s->state = st;
	snprintf(s->reason, sizeof(s->reason), "%s",
	    reason != NULL ? reason : "");
	session_notify(s, SESSION_CHANGED_PORTAL);
}

static void
session_drop_ws(struct session *s)
{
	if (s->ws != NULL) {
		ws_close(s->ws);
		s->ws = NULL;
	}
	phoenix_close(s->chan);
	evtimer_del(s->ev_tick);
}

static void
session_pool_clear(struct session *s)
{
	int	 f, i;

	for (f = 0; f < 2; f++)
		for (i = 0; i < POOL_PER_FAMILY; i++)
			if (s->pool[f][i] != -1) {
				close(s->pool[f][i]);
				s->pool[f][i] = -1;
			}
}

/* curl's socket factory: only protected sockets, never our own. */
static int
session_open_socket(void *arg, int family, int type, int protocol)
{
	struct session	*s = arg;
	int		 i, fd, f = fam_index(family);

	(void)protocol;
	if (type != SOCK_STREAM || (family != AF_INET && family != AF_INET6))
		return (-1);
	for (i = 0; i < POOL_PER_FAMILY; i++)
		if ((fd = s->pool[f][i]) != -1) {
			s->pool[f][i] = -1;
			return (fd);
		}
	log_warnx("portal: no protected %s socket left for this attempt",
	    family == AF_INET ? "IPv4" : "IPv6");
	return (-1);
}

/* Sends what phoenix queued, and re-arms its timer. */
static void
session_flush(struct session *s)
{
	char		*frame;

	while ((frame = phoenix_next_frame(s->chan)) != NULL) {
		if (s->ws != NULL && ws_send_text(s->ws, frame,
		    strlen(frame)) == -1)
			log_warnx("portal: sending a frame failed");
		free(frame);
	}
	timer_at(s->ev_tick, phoenix_deadline(s->chan), util_now_ns());
}

/* One message to the portal, sent at once. */
void
session_push(struct session *s, const char *event, json_t *payload)
{
	phoenix_send(s->chan, event, payload);
	session_flush(s);
}

uint32_t
session_ipc(struct session *s, enum ipc_type type, const void *p,
    size_t len)
{
	return (tunneld_chan_request(s->tc, type, p, len));
}

void
session_prefix(const struct portal_addr *a, unsigned plen,
    struct ipc_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = (uint8_t)a->family;
	p->prefixlen = (uint8_t)plen;
	memcpy(p->addr, a->addr, a->family == AF_INET ? 4 : 16);
}

void
session_ice(char ufrag[IPC_CRED_MAX], char pwd[IPC_CRED_MAX],
    const struct portal_ice_creds *c)
{
	snprintf(ufrag, IPC_CRED_MAX, "%s", c->username);
	snprintf(pwd, IPC_CRED_MAX, "%s", c->password);
}

static void
session_ship_relay(struct session *s, const struct portal_relay *r)
{
	struct ipc_relay	 ir;

	if (r->type != PORTAL_RELAY_TURN)
		return;
	memset(&ir, 0, sizeof(ir));
	snprintf(ir.id, sizeof(ir.id), "%s", r->id);
	ir.addr.family = (uint16_t)r->addr.addr.family;
	ir.addr.port = r->addr.port;
	memcpy(ir.addr.addr, r->addr.addr.addr,
	    r->addr.addr.family == AF_INET ? 4 : 16);
	snprintf(ir.username, sizeof(ir.username), "%s", r->username);
	snprintf(ir.password, sizeof(ir.password), "%s", r->password);
	ir.expires_at = r->expires_at;
	session_ipc(s, IPC_RELAY_ADD, &ir, sizeof(ir));
	explicit_bzero(&ir, sizeof(ir));
}

static void
session_ship_relay_del(struct session *s, const char *id)
{
	struct ipc_relay_id	 ir;

	memset(&ir, 0, sizeof(ir));
	snprintf(ir.id, sizeof(ir.id), "%s", id);
	session_ipc(s, IPC_RELAY_DEL, &ir, sizeof(ir));
}

static void
session_ship_interface(struct session *s)
{
	struct ipc_tun_addresses	 a;

	memset(&a, 0, sizeof(a));
	session_prefix(&s->iface.ipv4, 32, &a.ipv4);
	session_prefix(&s->iface.ipv6, 128, &a.ipv6);
	session_ipc(s, IPC_TUN_ADDRESSES, &a, sizeof(a));
}

static void
session_clear_relays(struct session *s, bool ship)
{
	size_t	 i;

	for (i = 0; i < s->nrelays; i++) {
		if (ship && s->relays[i].type == PORTAL_RELAY_TURN)
			session_ship_relay_del(s, s->relays[i].id);
		portal_msg_relay_free(&s->relays[i]);
	}
	free(s->relays);
	s->relays = NULL;
	s->nrelays = 0;
}

static ssize_t
session_find_relay(struct session *s, const char *id)
{
	size_t	 i;

	for (i = 0; i < s->nrelays; i++)
		if (strcmp(s->relays[i].id, id) == 0)
			return ((ssize_t)i);
	return (-1);
}

static bool
session_relay_in(const struct portal_relay *r, const struct portal_relay *v,
    size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].id, r->id) == 0 && v[i].type == r->type &&
		    v[i].addr.port == r->addr.port &&
		    v[i].addr.addr.family == r->addr.addr.family &&
		    memcmp(v[i].addr.addr.addr, r->addr.addr.addr,
		    sizeof(r->addr.addr.addr)) == 0)
			return (true);
	return (false);
}

/*
 * Relays the new init no longer lists, at any of their old addresses,
 * are withdrawn; the others stay in tunneld, which keeps their
 * allocations when they are shipped again (a new allocation from the
 * same address would be refused while the old one lives).
 */
static void
session_withdraw_relays(struct session *s, const struct portal_init *init)
{
	size_t	 i, j;

	for (i = 0; i < s->nrelays; i++) {
		if (s->relays[i].type != PORTAL_RELAY_TURN ||
		    session_relay_in(&s->relays[i], init->relays,
		    init->nrelays))
			continue;
		/* Once per id: the id goes with all its addresses. */
		for (j = 0; j < i; j++)
			if (strcmp(s->relays[j].id, s->relays[i].id) == 0 &&
			    s->relays[j].type == PORTAL_RELAY_TURN &&
			    !session_relay_in(&s->relays[j], init->relays,
			    init->nrelays))
				break;
		if (j == i)
			session_ship_relay_del(s, s->relays[i].id);
	}
}

/* init replaces everything; what is gone is withdrawn first. */
static void
session_on_init(struct session *s, struct portal_init *init)
{
	size_t	 i;

	if (s->have_init)
		session_withdraw_relays(s, init);
	session_clear_relays(s, false);
	if (s->have_init)
		portal_msg_interface_free(&s->iface);
	s->iface = init->iface;
	memset(&init->iface, 0, sizeof(init->iface));
	s->relays = init->relays;
	s->nrelays = init->nrelays;
	init->relays = NULL;
	init->nrelays = 0;
	s->have_init = true;
	session_ship_interface(s);
	for (i = 0; i < s->nrelays; i++)
		session_ship_relay(s, &s->relays[i]);
	session_interface_changed(s);
	s->role->init(s, init);
	session_notify(s, SESSION_CHANGED_RESOURCES);
	/* A large init leaves megabytes of freed JSON tree behind. */
	malloc_trim(0);
}

static void
session_on_relays(struct session *s, struct portal_relays_presence *rp)
{
	ssize_t	 j;
	size_t	 i;

	for (i = 0; i < rp->ndisconnected; i++) {
		if ((j = session_find_relay(s, rp->disconnected[i])) < 0)
			continue;
		if (s->relays[j].type == PORTAL_RELAY_TURN)
			session_ship_relay_del(s, s->relays[j].id);
		portal_msg_relay_free(&s->relays[j]);
		s->relays[j] = s->relays[--s->nrelays];
	}
	for (i = 0; i < rp->nconnected; i++) {
		if ((j = session_find_relay(s, rp->connected[i].id)) >= 0)
			portal_msg_relay_free(&s->relays[j]);
		else {
			s->relays = xreallocarray(s->relays, s->nrelays + 1,
			    sizeof(*s->relays));
			j = (ssize_t)s->nrelays++;
		}
		s->relays[j] = rp->connected[i];
		memset(&rp->connected[i], 0, sizeof(rp->connected[i]));
		session_ship_relay(s, &s->relays[j]);
	}
	log_info("portal: relays presence: %zu relays", s->nrelays);
}

static void
session_on_candidates(struct session *s, struct portal_candidates *c,
    enum ipc_type type)
{
	struct ipc_candidate	 ic;
	size_t			 i;

	for (i = 0; i < c->ncandidates; i++) {
		memset(&ic, 0, sizeof(ic));
		snprintf(ic.gateway_id, sizeof(ic.gateway_id), "%s",
		    c->peer_id);
		if (strlen(c->candidates[i]) >= sizeof(ic.candidate)) {
			log_warnx("portal: candidate for %s too long, dropped",
			    c->peer_id);
			continue;
		}
		memcpy(ic.candidate, c->candidates[i],
		    strlen(c->candidates[i]));
		session_ipc(s, type, &ic, sizeof(ic));
	}
}

static void
session_message(struct session *s, const char *event, json_t *payload)
{
	struct portal_msg	 m;
	int			 rc;

	if ((rc = s->role->decode(event, payload, &m)) == -1)
		return;
	if (rc == 0) {
		log_debug("portal: ignored event %s", event);
		return;
	}
	if (m.skips.n > 0)
		log_warnx("portal: %s: %zu broken list elements skipped, the "
		    "rest kept (first: %s)",
		    event, m.skips.n, m.skips.first);
	switch (m.type) {
	case PORTAL_MSG_INIT:
		session_on_init(s, &m.u.init);
		break;
	case PORTAL_MSG_CONFIG_CHANGED:
		if (s->have_init)
			portal_msg_interface_free(&s->iface);
		s->iface = m.u.iface;
		memset(&m.u.iface, 0, sizeof(m.u.iface));
		s->have_init = true;
		session_ship_interface(s);
		session_interface_changed(s);
		log_info("portal: configuration changed");
		break;
	case PORTAL_MSG_RELAYS_PRESENCE:
		session_on_relays(s, &m.u.relays);
		break;
	case PORTAL_MSG_DISCONNECT:
		/* phoenix reports token_expired itself; others are hiccups. */
		log_info("portal: disconnect (%s)", m.u.disconnect.reason);
		break;
	case PORTAL_MSG_CANDIDATES:
		session_on_candidates(s, &m.u.candidates,
		    IPC_REMOTE_CANDIDATE);
		break;
	case PORTAL_MSG_INVALIDATE_CANDIDATES:
		session_on_candidates(s, &m.u.candidates,
		    IPC_REMOTE_CANDIDATE_DEL);
		break;
	default:
		s->role->message(s, &m);
		break;
	}
	portal_msg_free(&m);
}

static void
session_events(struct session *s)
{
	struct phoenix_event	 ev;

	while (phoenix_next_event(s->chan, &ev)) {
		switch (ev.type) {
		case PHOENIX_EV_JOINED:
			portal_backoff_joined(&s->backoff);
			if (s->role->joined != NULL)
				s->role->joined(s);
			session_set_state(s, SESSION_CONNECTED, NULL);
			phoenix_send(s->chan, PORTAL_EV_SNOWNET_CAPABILITIES,
			    portal_msg_snownet_capabilities());
			session_flush_held(s);
			break;
		case PHOENIX_EV_MESSAGE:
			session_message(s, ev.name, ev.payload);
			break;
		case PHOENIX_EV_ERROR_REPLY:
			log_warnx("portal: error reply: %s", ev.name);
			break;
		case PHOENIX_EV_CHANNEL_ERROR:
			log_warnx("portal: channel error");
			break;
		case PHOENIX_EV_NEED_RECONNECT:
			session_drop_ws(s);
			snprintf(s->reason, sizeof(s->reason), "%s",
			    ev.reason != NULL ? ev.reason : "reconnect");
			session_schedule(s);
			break;
		case PHOENIX_EV_JOIN_REFUSED:
			session_stop(s, "the portal refused to join", false);
			break;
		case PHOENIX_EV_TOKEN_EXPIRED:
			/*
			 * A gateway token is the operator's to replace, and
			 * the portal also says this to a second instance of
			 * the gateway: stop, but keep it.
			 */
			if (s->role->gateway)
				session_stop(s, "the portal disconnected the "
				    "gateway (token_expired): its token "
				    "expired or was revoked, or another "
				    "instance connected with it", false);
			else
				session_stop(s, "token expired: sign in again",
				    true);
			break;
		default:
			break;
		}
		phoenix_event_clear(&ev);
	}
	session_flush(s);
}

static void
session_tick_cb(evutil_socket_t fd, short events, void *arg)
{
	struct session	*s = arg;

	(void)fd;
	(void)events;
	phoenix_tick(s->chan, util_now_ns());
	session_events(s);
}

static void
session_on_open(void *arg)
{
	struct session	*s = arg;

	log_info("portal: WebSocket open, joining");
	if (phoenix_open(s->chan, util_now_ns()) == -1)
		log_warnx("portal: cannot open the channel");
	session_events(s);
}

static void
session_on_text(void *arg, const char *text, size_t len)
{
	struct session	*s = arg;
	const char	*why;

	switch (phoenix_recv(s->chan, util_now_ns(), text, len, &why)) {
	case 1:
		log_warnx("portal: malformed frame dropped: %s", why);
		break;
	case -1:
		log_warnx("portal: frame dropped: out of memory");
		break;
	}
	session_events(s);
}

/* Frees the dead connection outside of its own callback. */
static void
session_reap_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	ws_close(arg);
}

static void
session_on_close(void *arg, const struct ws_close_info *ci)
{
	struct session		*s = arg;
	enum portal_verdict	 v;
	uint64_t		 delay, now = util_now_ns();
	char			 why[320];

	event_base_once(s->base, -1, EV_TIMEOUT, session_reap_cb, s->ws,
	    NULL);
	s->ws = NULL;
	phoenix_close(s->chan);
	evtimer_del(s->ev_tick);
	session_pool_clear(s);
	if (ci->kind == WS_HTTP_STATUS) {
		snprintf(why, sizeof(why), "HTTP %d from the portal",
		    ci->http_status);
		v = portal_backoff_classify(ci->http_status, ci->body,
		    ci->body_len);
		if (v != PORTAL_RETRY && s->role->gateway) {
			session_stop(s, "the portal refused the gateway token "
			    "(HTTP 401)", false);
			return;
		}
		if (v != PORTAL_RETRY) {
			session_stop(s, v == PORTAL_STOP_SIGNOUT ?
			    "the portal rejected the token: sign in again" :
			    "the portal refused the connection (HTTP 401)",
			    v == PORTAL_STOP_SIGNOUT);
			return;
		}
		snprintf(s->reason, sizeof(s->reason), "%s", why);
		if (portal_backoff_delay(&s->backoff, now, ci->retry_after,
		    time(NULL), randombytes_random(), &delay)) {
			s->retry_at = now + delay;
			session_set_state(s, SESSION_WAITING, why);
			timer_in(s->ev_retry, delay);
			return;
		}
		session_give_up(s);
		return;
	}
	if (ci->kind == WS_CLOSED_BY_PEER)
		snprintf(why, sizeof(why), "closed by the portal (%u%s%.200s)",
		    ci->close_code, ci->reason[0] ? ": " : "", ci->reason);
	else
		snprintf(why, sizeof(why), "%.300s", ci->error);
	snprintf(s->reason, sizeof(s->reason), "%s", why);
	session_schedule(s);
}

/* After a hiccup: wait as the backoff says, then connect again. */
static void
session_schedule(struct session *s)
{
	uint64_t	 delay, now = util_now_ns();
	char		 reason[320];

	session_pool_clear(s);
	if (!portal_backoff_next(&s->backoff, now, randombytes_random(),
	    &delay)) {
		session_give_up(s);
		return;
	}
	snprintf(reason, sizeof(reason), "%s", s->reason);
	s->retry_at = now + delay;
	session_set_state(s, SESSION_WAITING, reason);
	timer_in(s->ev_retry, delay);
}

static void
session_retry_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	session_connect(arg);
}

/*
 * A portal that cannot be reached is no reason to sign out (only 401 and
 * token_expired are): the session ends only when the user set
 * --max-partition-time and that much time passed without the portal.
 */
static void
session_give_up(struct session *s)
{
	char	 why[400];

	snprintf(why, sizeof(why),
	    "no portal for longer than --max-partition-time (last: %.300s)",
	    s->reason);
	session_stop(s, why, false);
}

static void
session_stop(struct session *s, const char *reason, bool delete_token)
{
	struct ipc_empty	 e;

	session_drop_ws(s);
	session_pool_clear(s);
	evtimer_del(s->ev_retry);
	if (s->token != NULL) {
		explicit_bzero(s->token, strlen(s->token));
		free(s->token);
		s->token = NULL;
	}
	session_set_state(s, SESSION_SIGNED_OUT, reason);
	if (delete_token) {
		memset(&e, 0, sizeof(e));
		session_ipc(s, IPC_TOKEN_DELETE, &e, sizeof(e));
	}
}

static void
unquote(char *s)
{
	char	*d = s;

	for (; *s != '\0'; s++)
		if (*s != '"' && *s != '\'')
			*d++ = *s;
	*d = '\0';
}

/* "Debian/12 headless-client/1.5.6 (x86_64; 6.1.0-25-amd64)". */
static void
session_user_agent(char *buf, size_t len, bool gateway)
{
	struct utsname	 u;
	char		 line[256], name[64] = "", ver[64] = "", ua[200];
	FILE		*f;

	if ((f = fopen("/etc/os-release", "re")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			if (strncmp(line, "NAME=", 5) == 0)
				snprintf(name, sizeof(name), "%.63s", line + 5);
			else if (strncmp(line, "VERSION_ID=", 11) == 0)
				snprintf(ver, sizeof(ver), "%.63s", line + 11);
		}
		fclose(f);
	}
	/* os-release values may be quoted, and NAME may have spaces. */
	unquote(name);
	unquote(ver);
	name[strcspn(name, " ")] = '\0';
	if (uname(&u) == -1)
		memset(&u, 0, sizeof(u));
	if (portal_user_agent(ua, sizeof(ua), gateway, name[0] ? name : NULL,
	    ver[0] ? ver : NULL, u.machine[0] ? u.machine : NULL,
	    u.release[0] ? u.release : NULL) == -1)
		snprintf(ua, sizeof(ua), "Linux/unknown %s/%s",
		    gateway ? PORTAL_UA_GW_COMPONENT : PORTAL_UA_COMPONENT,
		    gateway ? PORTAL_UA_GW_VERSION : PORTAL_UA_VERSION);
	snprintf(buf, len, "User-Agent: %s", ua);
}

/* The socket pool is full (or tunneld said what it could not make). */
static void
session_dial(struct session *s)
{
	struct portal_device	 dev;
	struct portal_url	 url;
	struct ws_config	 wc;
	const char		*why, *headers[3];
	char			 ua[256], *auth = NULL, err[256];
	size_t			 len;

	memset(&dev, 0, sizeof(dev));
	dev.gateway = s->role->gateway;
	dev.external_id = s->external_id;
	dev.name = s->cfg.name[0] != '\0' ? s->cfg.name : NULL;
	if (portal_url_build(s->cfg.api_url, &dev, s->cfg.public_key, &url,
	    &why) == -1) {
		session_stop(s, why, false);
		return;
	}
	session_user_agent(ua, sizeof(ua), s->role->gateway);
	len = strlen("X-Authorization: Bearer ") + strlen(s->token) + 1;
	auth = xmalloc(len);
	snprintf(auth, len, "X-Authorization: Bearer %s", s->token);
	headers[0] = ua;
	headers[1] = auth;
	headers[2] = NULL;
	memset(&wc, 0, sizeof(wc));
	wc.url = url.url;
	wc.ca_file = s->cfg.ca_file[0] != '\0' ? s->cfg.ca_file : NULL;
	wc.headers = headers;
	wc.open_socket = session_open_socket;
	wc.host_without_port = 1;
	wc.arg = s;
	wc.on_open = session_on_open;
	wc.on_text = session_on_text;
	wc.on_close = session_on_close;
	s->ws = ws_connect(s->base, &wc, err, sizeof(err));
	explicit_bzero(auth, len);
	free(auth);
	portal_url_free(&url);
	if (s->ws == NULL) {
		snprintf(s->reason, sizeof(s->reason), "%.300s", err);
		session_schedule(s);
	}
}

static void
session_connect(struct session *s)
{
	int	 f, i, fam;

	if (s->token == NULL || !s->configured)
		return;
	session_set_state(s, SESSION_CONNECTING, NULL);
	session_pool_clear(s);
	s->pool_waiting = 0;
	for (f = 0; f < 2; f++) {
		fam = f == 0 ? AF_INET : AF_INET6;
		for (i = 0; i < POOL_PER_FAMILY; i++) {
			if (tunneld_chan_request_socket(s->tc, fam,
			    SOCK_STREAM,
			    &s->pool_ids[s->pool_waiting]) == -1) {
				log_warn("portal: asking tunneld for a socket");
				continue;
			}
			s->pool_waiting++;
		}
	}
	if (s->pool_waiting == 0)
		session_schedule(s);
}

int
session_socket(struct session *s, uint32_t id, int fd)
{
	int	 i, j, f, domain;
	socklen_t len = sizeof(domain);

	for (i = 0; i < s->pool_waiting; i++)
		if (s->pool_ids[i] == id)
			break;
	if (i == s->pool_waiting)
		return (0);
	s->pool_ids[i] = s->pool_ids[--s->pool_waiting];
	if (fd != -1) {
		if (s->state != SESSION_CONNECTING ||
		    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == -1) {
			close(fd);
		} else {
			f = fam_index(domain);
			for (j = 0; j < POOL_PER_FAMILY; j++)
				if (s->pool[f][j] == -1) {
					s->pool[f][j] = fd;
					fd = -1;
					break;
				}
			if (fd != -1)
				close(fd);
		}
	}
	if (s->pool_waiting == 0 && s->state == SESSION_CONNECTING &&
	    s->ws == NULL)
		session_dial(s);
	return (1);
}

/* The token arrived as an fd: read it, strip whitespace, connect. */
void
session_token(struct session *s, int fd)
{
	char	 buf[IPC_TOKEN_MAX + 1];
	ssize_t	 n;
	size_t	 i, j;

	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0 || n > IPC_TOKEN_MAX) {
		explicit_bzero(buf, sizeof(buf));
		session_stop(s, n > IPC_TOKEN_MAX ? "token too long" :
		    "token unreadable or empty", false);
		return;
	}
	/* PROTOCOL 1.3: all whitespace goes; nothing else may be odd. */
	for (i = j = 0; i < (size_t)n; i++) {
		if (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' ||
		    buf[i] == '\n')
			continue;
		if ((unsigned char)buf[i] < 0x21 ||
		    (unsigned char)buf[i] > 0x7e) {
			explicit_bzero(buf, sizeof(buf));
			session_stop(s, "token has invalid characters", false);
			return;
		}
		buf[j++] = buf[i];
	}
	buf[j] = '\0';
	session_drop_ws(s);
	evtimer_del(s->ev_retry);
	if (s->token != NULL) {
		explicit_bzero(s->token, strlen(s->token));
		free(s->token);
	}
	s->token = j > 0 ? xstrdup(buf) : NULL;
	explicit_bzero(buf, sizeof(buf));
	if (s->token == NULL) {
		session_stop(s, "token empty", false);
		return;
	}
	portal_backoff_init(&s->backoff, s->max_partition);
	session_connect(s);
}

void
session_token_result(struct session *s, uint32_t id,
    const struct ipc_token_result *r)
{
	session_done_fn	*fn = s->waiter_fn;

	if (!r->have_token && s->token == NULL && r->error == 0 &&
	    s->state != SESSION_SIGNED_OUT)
		session_set_state(s, SESSION_SIGNED_OUT, "no token");
	if (!r->have_token && s->state == SESSION_SIGNED_OUT &&
	    s->reason[0] == '\0')
		session_set_state(s, SESSION_SIGNED_OUT,
		    "no token: run fzc sign-in");
	if (fn != NULL && id == s->waiter_id) {
		s->waiter_fn = NULL;
		fn(s->waiter_arg, r->error);
	}
}

/* --max-partition-time, in ns; 0: keep trying forever. */
void
session_set_max_partition(struct session *s, uint64_t ns)
{
	s->max_partition = ns;
	s->backoff.budget = ns;
}

/*
 * tunneld saw the network change (a new default route or address, a link
 * up, a resume): the old connection, if any, is likely dead and a waiting
 * one has reason to try now. Connect at once, without backoff (connlib's
 * reset). Sockets already asked for belong to a fresh attempt: it goes on.
 */
void
session_network_changed(struct session *s)
{
	if (s->token == NULL || !s->configured ||
	    s->state == SESSION_SIGNED_OUT)
		return;
	portal_backoff_reset(&s->backoff);
	if (s->state == SESSION_CONNECTING && s->ws == NULL &&
	    s->pool_waiting > 0)
		return;
	log_info("portal: the network changed; connecting again now");
	session_drop_ws(s);
	evtimer_del(s->ev_retry);
	session_connect(s);
}

/* The role picks the channel's topic (PROTOCOL.md 1.1). */
void
session_config(struct session *s, const struct ipc_portal_config *cfg,
    const struct session_role *role)
{
	s->cfg = *cfg;
	if (portal_external_id(cfg->device_id, s->external_id) == -1)
		fatalx("tunneld sent an unusable device id");
	if (role != s->role) {
		session_drop_ws(s);
		phoenix_free(s->chan);
		if ((s->chan = phoenix_new(role->name)) == NULL)
			fatalx("phoenix_new");
		s->role->free(s->rs);
		s->role = role;
		s->rs = role->new(s);
	}
	if (s->role->config != NULL)
		s->role->config(s, cfg);
	s->configured = true;
	log_info("portal: %s role", s->role->name);
}

void
session_state_ack(struct session *s, uint32_t id,
    const struct ipc_state_ack *ack)
{
	if (ack->type == IPC_SETTINGS_SET) {
		if (session_waiting(s, id))
			session_waiter_done(s, ack->error);
		return;
	}
	if (s->role->state_ack(s, id, ack))
		return;
	if (ack->error != 0 && ack->error != EEXIST && ack->error != ENOENT)
		log_warnx("tunneld refused %s: %s", ipc_type_name(ack->type),
		    strerror(ack->error));
}

/* One change at a time whose answer someone waits for. */
int
session_send_waiting(struct session *s, enum ipc_type type,
    const void *p, size_t len, session_done_fn *fn, void *arg)
{
	if (s->waiter_fn != NULL)
		return (-1);
	s->waiter_id = session_ipc(s, type, p, len);
	s->waiter_fn = fn;
	s->waiter_arg = arg;
	return (0);
}

/* Whether id answers the change someone waits for. */
bool
session_waiting(struct session *s, uint32_t id)
{
	return (s->waiter_fn != NULL && id == s->waiter_id);
}

void
session_waiter_done(struct session *s, int error)
{
	session_done_fn	*fn = s->waiter_fn;

	s->waiter_fn = NULL;
	fn(s->waiter_arg, error);
}

/* The gateway's token is the operator's: no sign-in or sign-out there. */
bool
session_keeps_token(const struct session *s)
{
	return (s->role->gateway);
}

int
session_sign_in(struct session *s, const char *token, session_done_fn *fn,
    void *arg)
{
	struct ipc_token	 t;
	int			 rc;

	if (strlen(token) == 0 || strlen(token) >= sizeof(t.token))
		return (-1);
	memset(&t, 0, sizeof(t));
	memcpy(t.token, token, strlen(token));
	rc = session_send_waiting(s, IPC_TOKEN_STORE, &t, sizeof(t), fn, arg);
	explicit_bzero(&t, sizeof(t));
	return (rc);
}

int
session_sign_out(struct session *s, session_done_fn *fn, void *arg)
{
	struct ipc_empty	 e;

	memset(&e, 0, sizeof(e));
	if (session_send_waiting(s, IPC_TOKEN_DELETE, &e, sizeof(e), fn,
	    arg) == -1)
		return (-1);
	session_stop(s, "signed out", false);
	return (0);
}

void
session_forget_waiter(struct session *s, void *arg)
{
	if (s->waiter_arg == arg)
		s->waiter_fn = NULL;
}

/* n changes of one kind for one peer, in the role's message. */
static void
session_send_candidates(struct session *s, const struct held *h, size_t n)
{
	const char	*c[MAX_BATCH], *event;
	json_t		*payload;
	size_t		 i;

	for (i = 0; i < n; i++)
		c[i] = h[i].candidate;
	payload = s->role->candidates(h->peer_id, c, n, h->invalidate,
	    &event);
	phoenix_send(s->chan, event, payload);
}

static void
session_flush_held(struct session *s)
{
	size_t	 i, n;

	for (i = 0; i < s->nheld; i += n) {
		/* Batched roles: a run for one peer goes out as one. */
		for (n = 1; s->role->batch_ns != 0 && n < MAX_BATCH &&
		    i + n < s->nheld &&
		    s->held[i + n].invalidate == s->held[i].invalidate &&
		    strcmp(s->held[i + n].peer_id, s->held[i].peer_id) == 0;
		    n++)
			;
		session_send_candidates(s, &s->held[i], n);
	}
	while (s->nheld > 0)
		free(s->held[--s->nheld].candidate);
}

static void
session_held_cb(evutil_socket_t fd, short events, void *arg)
{
	struct session	*s = arg;

	(void)fd;
	(void)events;
	if (s->state != SESSION_CONNECTED)
		return;
	session_flush_held(s);
	session_flush(s);
}

/*
 * Local candidates go out at once, or after the next join (1.6).  In a
 * batched role (the gateway) they are gathered for a short window from
 * the first, so that tunneld's burst for a peer leaves as one message
 * even when the burst spans turns of the event loop.
 */
void
session_local_candidate(struct session *s, const struct ipc_candidate *c,
    bool invalidate)
{
	struct held	 h;

	memset(&h, 0, sizeof(h));
	snprintf(h.peer_id, sizeof(h.peer_id), "%.36s", c->gateway_id);
	h.candidate = xstrdup(c->candidate);
	h.invalidate = invalidate;
	if (s->state == SESSION_CONNECTED && s->role->batch_ns != 0) {
		if (!evtimer_pending(s->ev_held, NULL))
			timer_in(s->ev_held, s->role->batch_ns);
	}
	else if (s->state == SESSION_CONNECTED) {
		session_send_candidates(s, &h, 1);
		free(h.candidate);
		session_flush(s);
		return;
	}
	if (s->nheld == MAX_HELD) {
		log_warnx("portal: too many candidate changes held; dropping "
		    "the oldest");
		free(s->held[0].candidate);
		memmove(&s->held[0], &s->held[1],
		    (MAX_HELD - 1) * sizeof(s->held[0]));
		s->nheld--;
	}
	s->held[s->nheld++] = h;
}

void
session_no_relays(struct session *s, const char *peer_id)
{
	log_warnx("portal: %s %s needs a relay and none is allocated",
	    s->role->gateway ? "client" : "gateway", peer_id);
	if (s->state != SESSION_CONNECTED)
		return;
	session_push(s, PORTAL_EV_NO_RELAYS, portal_msg_no_relays());
}

/*
 * IPC_SETTINGS, after every hello and change: the log level at once; a
 * new API URL ends the portal connection and starts one to it.
 */
void
session_settings(struct session *s, const struct ipc_settings *st)
{
	const char	*url;
	uint8_t		 level;

	s->settings = *st;
	s->have_settings = true;
	level = st->log_level != IPC_LOG_DEFAULT ? st->log_level :
	    st->default_log_level;
	log_setlevel((enum log_level)(level - 1));
	url = st->api_url[0] != '\0' ? st->api_url : st->default_api_url;
	if (strcmp(url, s->cfg.api_url) == 0)
		return;
	snprintf(s->cfg.api_url, sizeof(s->cfg.api_url), "%s", url);
	/* Sockets asked for: the dial they make takes the new URL. */
	if (s->token == NULL || !s->configured || s->pool_waiting > 0)
		return;
	log_info("portal: the API URL is now %s: connecting to it", url);
	session_drop_ws(s);
	evtimer_del(s->ev_retry);
	portal_backoff_init(&s->backoff, util_now_ns());
	session_connect(s);
}

static json_t *
session_setting_json(const char *value, const char *def, bool custom)
{
	return (json_pack("{s:s, s:s, s:b}", "value", value, "default", def,
	    "custom", custom));
}

/* What `fzc settings` shows; NULL in WireGuard mode, which has none. */
json_t *
session_settings_json(struct session *s)
{
	const struct ipc_settings	*st = &s->settings;
	bool				 url, level;
	const char			*lv, *ld, *uv;

	if (!s->have_settings)
		return (NULL);
	url = st->api_url[0] != '\0';
	level = st->log_level != IPC_LOG_DEFAULT;
	ld = log_level_name((enum log_level)(st->default_log_level - 1));
	lv = level ? log_level_name((enum log_level)(st->log_level - 1)) : ld;
	uv = url ? st->api_url : st->default_api_url;
	return (json_pack("{s:o, s:o}", "api_url",
	    session_setting_json(uv, st->default_api_url, url), "log_level",
	    session_setting_json(lv, ld, level)));
}

/*
 * New settings, checked by the caller: url NULL and SESSION_LEVEL_KEEP
 * leave them as they are, "" and -1 go back to the default; else level
 * is an enum log_level.
 */
int
session_set_settings(struct session *s, const char *url, int level,
    session_done_fn *fn, void *arg)
{
	struct ipc_settings	 m;
	int			 rc;

	if (!s->have_settings)
		return (-1);
	memset(&m, 0, sizeof(m));
	memcpy(m.api_url, s->settings.api_url, sizeof(m.api_url));
	m.log_level = s->settings.log_level;
	if (url != NULL) {
		if (strlen(url) >= sizeof(m.api_url))
			return (-1);
		memset(m.api_url, 0, sizeof(m.api_url));
		memcpy(m.api_url, url, strlen(url));
	}
	if (level == -1)
		m.log_level = IPC_LOG_DEFAULT;
	else if (level != SESSION_LEVEL_KEEP)
		m.log_level = (uint8_t)(level + 1);
	rc = session_send_waiting(s, IPC_SETTINGS_SET, &m, sizeof(m), fn, arg);
	return (rc);
}

/* IPC_PEER_PATH: a connection came, moved or went. */
void
session_peer_path(struct session *s, const struct ipc_peer_path *m)
{
	size_t	 i;

	for (i = 0; i < s->npaths; i++)
		if (strcmp(s->paths[i].id, m->id) == 0)
			break;
	if (m->state == IPC_PATH_LOST) {
		if (i == s->npaths)
			return;
		s->paths[i] = s->paths[--s->npaths];
	} else if (i < s->npaths)
		s->paths[i] = *m;
	else if (s->npaths == MAX_PATHS) {
		log_warnx("tunneld reports over %d connections; %s not shown",
		    MAX_PATHS, m->id);
		return;
	} else {
		s->paths = xreallocarray(s->paths, s->npaths + 1,
		    sizeof(*s->paths));
		s->paths[s->npaths++] = *m;
	}
	if (s->role->path != NULL)
		s->role->path(s, m);
	session_notify(s, SESSION_CHANGED_PEERS | SESSION_CHANGED_RESOURCES);
}

void
session_p2p(struct session *s, const struct ipc_p2p *m)
{
	if (s->role->p2p != NULL)
		s->role->p2p(s, m);
}

const struct ipc_peer_path *
session_find_path(struct session *s, const char *id)
{
	size_t	 i;

	for (i = 0; i < s->npaths; i++)
		if (strcmp(s->paths[i].id, id) == 0)
			return (&s->paths[i]);
	return (NULL);
}

/* The portal's relay at this address, or the peer's relay on its host. */
static const char *
session_relay_at(struct session *s, const struct ipc_sockaddr *a, bool ours)
{
	const struct portal_sockaddr	*r;
	size_t				 i, len;

	for (i = 0; i < s->nrelays; i++) {
		r = &s->relays[i].addr;
		len = a->family == AF_INET ? 4 : 16;
		if (r->addr.family == a->family &&
		    memcmp(r->addr.addr, a->addr, len) == 0 &&
		    (!ours || r->port == a->port))
			return (s->relays[i].id);
	}
	return (NULL);
}

static json_t *
session_sockaddr_json(const struct ipc_sockaddr *sa)
{
	char	 a[INET6_ADDRSTRLEN], ep[INET6_ADDRSTRLEN + 16];

	inet_ntop(sa->family, sa->addr, a, sizeof(a));
	snprintf(ep, sizeof(ep), sa->family == AF_INET6 ? "[%s]:%u" : "%s:%u",
	    a, sa->port);
	return (json_string(ep));
}

/*
 * What a watcher and `fzc peers` show of each connection: who it is (the
 * role names it from what the portal told), the key, and its path.
 */
json_t *
session_peers(struct session *s)
{
	const struct ipc_peer_path	*p;
	json_t				*a = json_array(), *o;
	const char			*relay, *kind, *path, *state;
	char				 key[SESSION_KEY_B64];
	size_t				 i;

	for (i = 0; i < s->npaths; i++) {
		p = &s->paths[i];
		sodium_bin2base64(key, sizeof(key), p->public_key,
		    IPC_WG_KEY_LEN, sodium_base64_VARIANT_ORIGINAL);
		kind = s->role->gateway ? "client" : "gateway";
		state = p->state == IPC_PATH_CONNECTING ? "connecting" :
		    "connected";
		o = json_pack("{s:s, s:s, s:s, s:s}", "id", p->id, "kind", kind,
		    "public_key", key, "state", state);
		if (p->state == IPC_PATH_DIRECT ||
		    p->state == IPC_PATH_RELAYED) {
			path = p->state == IPC_PATH_DIRECT ? "direct" :
			    "relayed";
			json_object_set_new(o, "path", json_string(path));
			json_object_set_new(o, "endpoint",
			    session_sockaddr_json(&p->endpoint));
		}
		if (p->state == IPC_PATH_RELAYED) {
			json_object_set_new(o, "relay_of",
			    json_string(p->our_relay ? "us" : "peer"));
			if ((relay = session_relay_at(s, &p->endpoint,
			    p->our_relay)) != NULL)
				json_object_set_new(o, "relay",
				    json_string(relay));
		}
		if (s->role->peer != NULL)
			s->role->peer(s, p->id, o);
		json_array_append_new(a, o);
	}
	return (a);
}

json_t *
session_status(struct session *s)
{
	json_t		*o;
	uint64_t	 now = util_now_ns();
	char		 a[INET6_ADDRSTRLEN];

	o = json_pack("{s:s, s:s}", "state", state_names[s->state], "role",
	    s->role->name);
	s->role->status(s, o);
	/* The portal's, as last given to tunneld: they may move. */
	if (s->have_init) {
		inet_ntop(AF_INET, s->iface.ipv4.addr, a, sizeof(a));
		json_object_set_new(o, "tunnel_ipv4", json_string(a));
		inet_ntop(AF_INET6, s->iface.ipv6.addr, a, sizeof(a));
		json_object_set_new(o, "tunnel_ipv6", json_string(a));
	}
	if (s->reason[0] != '\0')
		json_object_set_new(o, "reason", json_string(s->reason));
	if (s->state == SESSION_WAITING)
		json_object_set_new(o, "retry_in_s", json_real(
		    s->retry_at > now ? (double)(s->retry_at - now) /
		    NSEC_PER_SEC : 0));
	return (o);
}

const struct session_role *
session_role(struct session *s)
{
	return (s->role);
}

void *
session_role_state(struct session *s)
{
	return (s->rs);
}

struct event_base *
session_base(struct session *s)
{
	return (s->base);
}

bool
session_connected(struct session *s)
{
	return (s->state == SESSION_CONNECTED);
}

size_t
session_nrelays(struct session *s)
{
	return (s->nrelays);
}

void
session_set_notify(struct session *s, session_notify_fn *fn, void *arg)
{
	s->notify_fn = fn;
	s->notify_arg = arg;
}

/* init or config_changed gave the interface (DNS upstreams included). */
void
session_set_interface_cb(struct session *s, session_interface_fn *fn, void *arg)
{
	s->iface_fn = fn;
	s->iface_arg = arg;
}

static void
session_interface_changed(struct session *s)
{
	if (s->iface_fn != NULL)
		s->iface_fn(s->iface_arg, &s->iface);
}

/* SESSION_CHANGED_* bits: the state shown above has changed. */
void
session_notify(struct session *s, int what)
{
	if (s->notify_fn != NULL)
		s->notify_fn(s->notify_arg, what);
}

/* Until tunneld gives the role, it is the first one's. */
struct session *
session_new(struct event_base *base, struct tunneld_chan *tc,
    const struct session_role *role)
{
	struct session	*s;
	int		 f, i;

	s = xcalloc(1, sizeof(*s));
	s->base = base;
	s->tc = tc;
	s->role = role;
	s->rs = role->new(s);
	s->state = SESSION_SIGNED_OUT;
	if ((s->chan = phoenix_new(role->name)) == NULL)
		fatalx("phoenix_new");
	s->ev_tick = evtimer_new(base, session_tick_cb, s);
	s->ev_retry = evtimer_new(base, session_retry_cb, s);
	s->ev_held = evtimer_new(base, session_held_cb, s);
	if (s->ev_tick == NULL || s->ev_retry == NULL || s->ev_held == NULL)
		fatalx("evtimer_new");
	for (f = 0; f < 2; f++)
		for (i = 0; i < POOL_PER_FAMILY; i++)
			s->pool[f][i] = -1;
	return (s);
}

void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	session_drop_ws(s);
	session_pool_clear(s);
	s->role->free(s->rs);
	session_clear_relays(s, false);
	while (s->nheld > 0)
		free(s->held[--s->nheld].candidate);
	if (s->have_init)
		portal_msg_interface_free(&s->iface);
	if (s->token != NULL) {
		explicit_bzero(s->token, strlen(s->token));
		free(s->token);
	}
	phoenix_free(s->chan);
	event_free(s->ev_tick);
	event_free(s->ev_retry);
	event_free(s->ev_held);
	free(s->paths);
	free(s);
}
