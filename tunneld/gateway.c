/*
 * gateway.c: the gateway role in fzc-tunneld (PROTOCOL 3). controld speaks
 * to the portal; here are the tunnel device, one controlled ICE connection
 * and WireGuard peer per authorized client, and the nftables rules that
 * let each client reach what it is authorized for and nothing else
 * (firewall.c). A client with no authorization left is told goodbye in
 * the tunnel (PROTOCOL 4.6) and forgotten.
 *
 * The rules change off the event loop (fwrun.c): each message's changes
 * join the open nft transaction, and the message is acknowledged when the
 * transaction that carries them has applied, so that controld tells the
 * portal a client is ready only when its rules are in place.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "tunneld/conn.h"
#include "tunneld/device.h"
#include "tunneld/dnat.h"
#include "tunneld/firewall.h"
#include "tunneld/fwrun.h"
#include "tunneld/iphdr.h"
#include "tunneld/netlink.h"
#include "tunneld/p2p.h"
#include "tunneld/role.h"

#define GATEWAY_MAX_CLIENTS	1024
#define GATEWAY_MAX_AUTHZ	128	/* per client */
#define GATEWAY_MAX_PROXY	256	/* proxy IPs translated, per client */
/* Messages waiting for their transaction; more are acknowledged at once. */
#define GATEWAY_MAX_WAITING	4096
/*
 * An open transaction grown past this (a flood of changes while nft runs)
 * is replaced by the whole state, which is bounded by the clients' limits.
 */
#define GATEWAY_SCRIPT_MAX	(4U << 20)
/* At debug level: a timer this often, its lateness logged from LATE on. */
#define GATEWAY_TICK_MS		50
#define GATEWAY_LATE_MS		50

/* One (client, resource) pair the portal authorized, until expires_at. */
struct gateway_authz {
	int64_t			 expires_at;	/* Unix s */
	struct ipc_gw_resource	 res;
};

/* A proxy IP of a name of a DNS resource, translated (PROTOCOL 4.6). */
struct gateway_proxy {
	char			 resource_id[IPC_ID_MAX];
	struct ipc_dns_pair	 pair;
};

struct gateway_client {
	struct role_peer	 rp;	/* first: id and connection */
	struct ipc_client_peer	 peer;	/* keys, credentials, tunnel IPs */
	struct gateway_authz	*authz;
	size_t			 nauthz;
	struct gateway_proxy	*proxy;
	size_t			 nproxy;
};

/* A state message acknowledged once transaction seq has applied. */
struct gateway_waiting {
	uint64_t		 seq;
	uint32_t		 id;
	uint16_t		 type;
};

struct gateway {
	struct role		 r;		/* first: the base */
	struct firewall		*fw;
	struct dnat		*dnat;		/* with fw */
	bool			 fw_installed;
	struct fwrun		*run;		/* while fw_installed */
	uint64_t		 resync_seq;	/* rebuilding the sets */
	uint64_t		 lockdown_seq;	/* emptying them */
	struct gateway_waiting	*waiting;	/* by seq */
	size_t			 nwaiting, swaiting;
	struct event		*ev_expiry;
	struct event		*ev_tick;	/* debug level only */
	uint64_t		 tick_due;	/* ns */
	/* controld's, kept for its next start; oldest first. */
	struct ipc_gw_dns_pattern *patterns;
	size_t			 npatterns;
};

/* DNS resources whose patterns tunneld keeps, at most. */
#define GATEWAY_MAX_PATTERNS	4096

/* The gateway role's operations, below; a struct role of theirs is ours. */
static const struct role_ops	gateway_ops;

static struct gateway *
gateway_of(struct role *r)
{
	return ((struct gateway *)r);
}

static void	gateway_arm_expiry(struct gateway *);

/* Forwarding is the host's decision: said once, loudly, not changed. */
static void
gateway_check_forwarding(void)
{
	static const char *const	 knobs[] = {
		"/proc/sys/net/ipv4/ip_forward",
		"/proc/sys/net/ipv6/conf/all/forwarding",
	};
	FILE				*f;
	size_t				 i;
	int				 v;

	for (i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		if ((f = fopen(knobs[i], "re")) == NULL)
			continue;
		if (fscanf(f, "%d", &v) == 1 && v == 0)
			log_warnx("%s is 0: this gateway will not forward %s "
			    "traffic to resources; set net.%s = 1 (sysctl)",
			    knobs[i], i == 0 ? "IPv4" : "IPv6", i == 0 ?
			    "ipv4.ip_forward" : "ipv6.conf.all.forwarding");
		fclose(f);
	}
}

static void
gateway_expiry_cb(evutil_socket_t, short, void *);

static void
gateway_tick_arm(struct gateway *g)
{
	struct timeval	 tv = { 0, GATEWAY_TICK_MS * 1000 };

	g->tick_due = util_now_ns() + GATEWAY_TICK_MS * 1000000ULL;
	evtimer_add(g->ev_tick, &tv);
}

/*
 * How late a timer fires is how long the event loop was kept from
 * everything else (ICE, handshakes, controld): worth a line when
 * measuring, not otherwise.
 */
static void
gateway_tick_cb(evutil_socket_t fd, short events, void *arg)
{
	struct gateway	*g = arg;
	uint64_t	 now = util_now_ns();

	(void)fd;
	(void)events;
	if (now > g->tick_due + GATEWAY_LATE_MS * 1000000ULL)
		log_debug("event loop blocked for %.3f s",
		    (double)(now - g->tick_due) / 1e9);
	gateway_tick_arm(g);
}

struct role *
gateway_new(struct event_base *base, const struct role_options *opt)
{
	struct gateway	*g;

	if (access(FIREWALL_NFT, X_OK) == -1)
		fatal("the gateway role needs %s (apt-get install nftables)",
		    FIREWALL_NFT);
	g = xcalloc(1, sizeof(*g));
	role_init(&g->r, &gateway_ops, base, opt);
	role_identity_init(&g->r);
	role_watch_network(&g->r);
	if ((g->ev_expiry = evtimer_new(base, gateway_expiry_cb, g)) == NULL)
		fatalx("evtimer_new");
	if (log_getlevel() >= LOG_LEVEL_DEBUG) {
		if ((g->ev_tick = evtimer_new(base, gateway_tick_cb, g)) ==
		    NULL)
			fatalx("evtimer_new");
		gateway_tick_arm(g);
	}
	gateway_check_forwarding();
	return (&g->r);
}

static int
gateway_configure(struct role *r, struct ipc_chan *ch)
{
	struct gateway			*g = gateway_of(r);
	struct ipc_portal_config	 pc;
	struct ipc_gw_client		 m;
	const struct ipc_client_peer	*p;
	size_t				 i;

	/* Acknowledgements owed to an earlier controld mean nothing now. */
	g->nwaiting = 0;
	role_portal_config(r, IPC_ROLE_GATEWAY, &pc);
	if (role_send_config(r, ch, &pc) == -1)
		return (-1);
	/* After the role: the clients it authorized still send names. */
	for (i = 0; i < g->npatterns; i++)
		if (ipc_chan_send(ch, IPC_GW_DNS_PATTERN, 0, &g->patterns[i],
		    sizeof(g->patterns[i]), -1) == -1)
			return (-1);
	for (i = 0; i < g->r.npeers; i++) {
		p = &((struct gateway_client *)g->r.peers[i])->peer;
		memset(&m, 0, sizeof(m));
		memcpy(m.client_id, p->client_id, sizeof(m.client_id));
		m.ipv4 = p->client_ipv4;
		m.ipv6 = p->client_ipv6;
		if (ipc_chan_send(ch, IPC_GW_CLIENT, 0, &m, sizeof(m), -1) ==
		    -1)
			return (-1);
	}
	return (0);
}

/* IPC_GW_DNS_PATTERN: controld's, kept; the oldest goes when full. */
static void
gateway_dns_pattern(struct gateway *g, const struct ipc_gw_dns_pattern *m)
{
	size_t	 i;

	for (i = 0; i < g->npatterns; i++)
		if (strcmp(g->patterns[i].id, m->id) == 0)
			break;
	if (i < g->npatterns)
		memmove(&g->patterns[i], &g->patterns[i + 1],
		    (--g->npatterns - i) * sizeof(g->patterns[0]));
	if (m->pattern[0] == '\0')
		return;
	if (g->npatterns == GATEWAY_MAX_PATTERNS)
		memmove(&g->patterns[0], &g->patterns[1],
		    --g->npatterns * sizeof(g->patterns[0]));
	g->patterns = xreallocarray(g->patterns, g->npatterns + 1,
	    sizeof(g->patterns[0]));
	g->patterns[g->npatterns++] = *m;
}

/* What is not state: nothing is acknowledged. */
static int
gateway_dispatch(struct role *r, struct ipc_chan *ch, const struct ipc_msg *msg,
    const char **why)
{
	if (msg->hdr.type == IPC_GW_DNS_PATTERN) {
		gateway_dns_pattern(gateway_of(r), &msg->u.gw_dns_pattern);
		return (0);
	}
	return (role_portal_dispatch(r, ch, msg, why));
}

/*
 * The table's creation and removal, on the event loop: once each, when
 * no transaction runs (before the runner exists, after it is gone) and
 * before any connection is made or after all are gone.
 */
static int
gateway_nft_now(const char *what, const struct fw_script *s)
{
	char	 err[1024];

	if (firewall_nft(FIREWALL_NFT, s, err, sizeof(err)) == 0)
		return (0);
	log_warnx("nft refused the rules (%s): %s", what, err);
	return (-1);
}

/* Every message waiting for transactions up to seq, answered. */
static void
gateway_ack_upto(struct gateway *g, uint64_t seq, int error)
{
	size_t	 i;

	for (i = 0; i < g->nwaiting && g->waiting[i].seq <= seq; i++)
		role_state_ack(&g->r, g->waiting[i].type, g->waiting[i].id,
		    error);
	memmove(g->waiting, g->waiting + i,
	    (g->nwaiting - i) * sizeof(*g->waiting));
	g->nwaiting -= i;
}

/*
 * A transaction ended. When nft refused one the kernel's sets are as
 * before it, and may not be what firewall.c believes: they are refilled
 * from scratch, and if even that fails, emptied: better nothing
 * forwarded than something no longer authorized. Either replaces what
 * waited behind the refused transaction, whose messages are answered
 * when it ends.
 */
static void
gateway_fw_done(void *arg, uint64_t seq, const char *err)
{
	struct gateway	*g = arg;
	int		 error = 0;

	if (err != NULL && seq != g->lockdown_seq) {
		fwrun_discard(g->run);
		if (seq == g->resync_seq) {
			log_warnx("sets not rebuilt: %s; emptying them", err);
			firewall_lockdown(g->fw, fwrun_script(g->run));
			g->lockdown_seq = fwrun_commit(g->run);
		} else {
			log_warnx("nft refused the rules: %s", err);
			firewall_resync(g->fw, fwrun_script(g->run));
			dnat_resync(g->dnat, fwrun_script(g->run));
			g->resync_seq = fwrun_commit(g->run);
		}
		return;
	}
	if (err != NULL)
		log_warnx("nft refused to empty the sets: %s", err);
	else if (seq == g->resync_seq)
		log_info("firewall sets of %s rebuilt", firewall_table(g->fw));
	if (seq == g->lockdown_seq)
		error = EIO;
	gateway_ack_upto(g, seq, error);
}

/*
 * The changes made so far may go; the transaction that carries them, or
 * 0 if there were none.
 */
static uint64_t
gateway_commit(struct gateway *g)
{
	if (g->run == NULL)
		return (0);
	if (fwrun_script(g->run)->len > GATEWAY_SCRIPT_MAX) {
		fwrun_discard(g->run);
		firewall_resync(g->fw, fwrun_script(g->run));
		dnat_resync(g->dnat, fwrun_script(g->run));
	}
	return (fwrun_commit(g->run));
}

static int gateway_authz_index(const struct gateway_client *, const char *);

/*
 * The client's elements after a change to its authorizations or its
 * proxy IPs. A translated proxy IP's real address is authorized as the
 * DNS resource's filters say, as if a /32 or /128 resource of its own:
 * the filters see the destination after the translation.
 */
static int
gateway_client_rules(struct gateway *g, struct gateway_client *gc)
{
	const struct ipc_gw_resource
	    *res[GATEWAY_MAX_AUTHZ + GATEWAY_MAX_PROXY];
	struct ipc_gw_resource		*real = NULL;
	struct ipc_dns_pair		 pairs[GATEWAY_MAX_PROXY];
	const char			*why;
	size_t				 i, n = 0;
	int				 k, rc;

	if (g->run == NULL)
		return (0);
	for (i = 0; i < gc->nauthz; i++)
		res[n++] = &gc->authz[i].res;
	if (gc->nproxy > 0)
		real = xreallocarray(NULL, gc->nproxy, sizeof(*real));
	for (i = 0; i < gc->nproxy; i++) {
		k = gateway_authz_index(gc, gc->proxy[i].resource_id);
		real[i] = gc->authz[k].res;
		real[i].type = IPC_RES_CIDR;
		real[i].prefix = gc->proxy[i].pair.real;
		res[n++] = &real[i];
		pairs[i] = gc->proxy[i].pair;
	}
	/* Refused, it appended nothing. */
	rc = firewall_client(g->fw, gc->peer.client_id, &gc->peer.client_ipv4,
	    &gc->peer.client_ipv6, res, n, fwrun_script(g->run), &why);
	free(real);
	if (rc == -1) {
		log_warnx("client %s: %s", gc->peer.client_id, why);
		return (E2BIG);
	}
	dnat_client(g->dnat, gc->peer.client_id, &gc->peer.client_ipv4,
	    &gc->peer.client_ipv6, pairs, gc->nproxy, fwrun_script(g->run));
	return (0);
}

/* The role's peers are our clients, their struct role_peer first. */
static struct gateway_client *
gateway_client(struct gateway *g, const char *id)
{
	return ((struct gateway_client *)role_peer_find(&g->r, id));
}

static struct gateway_client *
gateway_client_at(struct gateway *g, size_t i)
{
	return ((struct gateway_client *)g->r.peers[i]);
}

/* PROTOCOL 4.6: IPv6 from :: to ::, next header 255, event 2. */
static void
gateway_goodbye(struct gateway_client *gc)
{
	uint8_t		 pkt[IP6_HDR_LEN + P2P_HDR_LEN];
	struct peer	*peer;

	if (gc->rp.conn == NULL || (peer = conn_peer(gc->rp.conn)) == NULL)
		return;
	if (p2p_frame(P2P_GOODBYE, NULL, 0, pkt, sizeof(pkt)) == 0 ||
	    device_peer_send(peer, pkt, sizeof(pkt)) == -1)
		log_debug("client %s: no session to say goodbye on",
		    gc->peer.client_id);
	else
		log_debug("client %s: goodbye sent", gc->peer.client_id);
}

static void
gateway_client_free(struct gateway *g, struct gateway_client *gc,
    bool goodbye)
{
	role_peer_remove(&g->r, &gc->rp);
	if (goodbye)
		gateway_goodbye(gc);
	conn_free(gc->rp.conn);
	gc->nauthz = 0;
	gc->nproxy = 0;
	(void)gateway_client_rules(g, gc);
	free(gc->authz);
	free(gc->proxy);
	explicit_bzero(gc, sizeof(*gc));
	free(gc);
}

/*
 * After authorizations went: the rules follow, and a client left with
 * none is closed (PROTOCOL 3, reject_access).
 */
static void
gateway_client_settle(struct gateway *g, struct gateway_client *gc)
{
	if (gc->nauthz > 0) {
		(void)gateway_client_rules(g, gc);
		return;
	}
	log_info("client %s: no authorization left; closing",
	    gc->peer.client_id);
	gateway_client_free(g, gc, true);
}

/* The client's translations for a resource's names go with it. */
static void
gateway_proxy_drop(struct gateway_client *gc, const char *resource_id)
{
	size_t	 i = 0;

	while (i < gc->nproxy)
		if (strcmp(gc->proxy[i].resource_id, resource_id) == 0)
			gc->proxy[i] = gc->proxy[--gc->nproxy];
		else
			i++;
}

static void
gateway_authz_drop(struct gateway_client *gc, size_t i)
{
	log_info("client %s: resource %s no longer authorized",
	    gc->peer.client_id, gc->authz[i].res.id);
	gateway_proxy_drop(gc, gc->authz[i].res.id);
	gc->authz[i] = gc->authz[--gc->nauthz];
}

static int
gateway_authz_index(const struct gateway_client *gc, const char *resource)
{
	size_t	 i;

	for (i = 0; i < gc->nauthz; i++)
		if (strcmp(gc->authz[i].res.id, resource) == 0)
			return ((int)i);
	return (-1);
}

/* The connection for a client, its tunnel IPs routed to its peer. */
static int
gateway_connect(struct gateway *g, struct gateway_client *gc)
{
	const struct ipc_client_peer	*p = &gc->peer;
	struct peer			*wg;
	const char			*why;

	gc->rp.conn = conn_new(g->r.conns, &CONN_PARAMS_OF(p, p->client_id),
	    &why);
	if (gc->rp.conn == NULL) {
		log_warnx("client %s: %s", p->client_id, why);
		return (EINVAL);
	}
	wg = conn_peer(gc->rp.conn);
	if (device_add_allowed_ip(g->r.tun.dev, wg, &p->client_ipv4) == -1 ||
	    device_add_allowed_ip(g->r.tun.dev, wg, &p->client_ipv6) == -1) {
		log_warnx("client %s: its tunnel addresses belong to another "
		    "client", p->client_id);
		conn_free(gc->rp.conn);
		gc->rp.conn = NULL;
		return (EADDRINUSE);
	}
	return (0);
}

/* The parts of create_authorization that make the connection. */
static bool
gateway_same_peer(const struct ipc_client_peer *a,
    const struct ipc_client_peer *b)
{
	return (memcmp(a->public_key, b->public_key, sizeof(a->public_key)) ==
	    0 && memcmp(a->psk, b->psk, sizeof(a->psk)) == 0 &&
	    memcmp(&a->client_ipv4, &b->client_ipv4, sizeof(a->client_ipv4)) ==
	    0 && memcmp(&a->client_ipv6, &b->client_ipv6,
	    sizeof(a->client_ipv6)) == 0 &&
	    strcmp(a->local_ufrag, b->local_ufrag) == 0 &&
	    strcmp(a->local_pwd, b->local_pwd) == 0 &&
	    strcmp(a->remote_ufrag, b->remote_ufrag) == 0 &&
	    strcmp(a->remote_pwd, b->remote_pwd) == 0);
}

/*
 * create_authorization: the first for a client makes its connection;
 * later ones add resources to it. New keys or credentials (the client
 * restarted) make a new connection; its authorizations carry over.
 */
static int
gateway_client_peer(struct gateway *g, const struct ipc_client_peer *p)
{
	struct gateway_client	*gc;
	struct gateway_authz	 old;
	bool			 replaced = false, kept = false;
	int			 i, error;

	if (g->r.conns == NULL)
		return (EAGAIN);	/* no tunnel addresses yet */
	if ((gc = gateway_client(g, p->client_id)) == NULL) {
		gc = role_peer_new(&g->r, p->client_id, sizeof(*gc));
		if (gc == NULL)
			return (ENOSPC);
		gc->peer = *p;
	} else if (!gateway_same_peer(&gc->peer, p)) {
		log_info("client %s: new keys or credentials; reconnecting",
		    p->client_id);
		conn_free(gc->rp.conn);
		gc->rp.conn = NULL;
		explicit_bzero(&gc->peer, sizeof(gc->peer));
		gc->peer = *p;
	} else
		kept = true;	/* its connection stays */
	/* Authorizations without a connection are of no use: all go. */
	if (gc->rp.conn == NULL && (error = gateway_connect(g, gc)) != 0) {
		gateway_client_free(g, gc, false);
		gateway_arm_expiry(g);
		return (error);
	} else if (kept)
		conn_resignal(gc->rp.conn);
	if ((i = gateway_authz_index(gc, p->resource.id)) != -1) {
		old = gc->authz[i];
		replaced = true;
	} else {
		if (gc->nauthz == GATEWAY_MAX_AUTHZ)
			return (ENOSPC);
		gc->authz = xreallocarray(gc->authz, gc->nauthz + 1,
		    sizeof(*gc->authz));
		i = (int)gc->nauthz++;
	}
	gc->authz[i].expires_at = p->expires_at;
	gc->authz[i].res = p->resource;
	if ((error = gateway_client_rules(g, gc)) == E2BIG) {
		if (replaced)
			gc->authz[i] = old;
		else
			gc->nauthz--;
		if (gc->nauthz == 0)
			gateway_client_free(g, gc, false);
		return (error);
	}
	gateway_arm_expiry(g);
	log_info("client %s: resource %s authorized until %lld",
	    p->client_id, p->resource.id, (long long)p->expires_at);
	return (error);
}

/* reject_access */
static int
gateway_access_del(struct gateway *g, const struct ipc_access *a)
{
	struct gateway_client	*gc;
	int			 i;

	if ((gc = gateway_client(g, a->client_id)) == NULL ||
	    (i = gateway_authz_index(gc, a->resource_id)) == -1)
		return (ENOENT);
	gateway_authz_drop(gc, (size_t)i);
	gateway_client_settle(g, gc);
	gateway_arm_expiry(g);
	return (0);
}

/* resource_updated: new filters (or address) for every client of it. */
static int
gateway_resource(struct gateway *g, const struct ipc_gw_resource *r)
{
	struct gateway_client	*gc;
	struct ipc_gw_resource	 old;
	size_t			 c;
	int			 i, error = 0;

	for (c = 0; c < g->r.npeers; c++) {
		gc = gateway_client_at(g, c);
		if ((i = gateway_authz_index(gc, r->id)) == -1)
			continue;
		old = gc->authz[i].res;
		gc->authz[i].res = *r;
		if (gateway_client_rules(g, gc) == E2BIG) {
			gc->authz[i].res = old;
			error = E2BIG;
		}
	}
	return (error);
}

/*
 * Every authorization gone() picks goes; the clients' rules follow, and
 * the expiry timer is armed for what is left.
 */
static void
gateway_authz_sweep(struct gateway *g,
    bool (*gone)(const struct gateway_client *, const struct gateway_authz *,
    const void *), const void *arg)
{
	struct gateway_client	*gc;
	size_t			 c, i, before;

	/* Downwards: a client may go, the last one taking its place. */
	for (c = g->r.npeers; c-- > 0;) {
		gc = gateway_client_at(g, c);
		before = gc->nauthz;
		for (i = gc->nauthz; i-- > 0;)
			if (gone(gc, &gc->authz[i], arg))
				gateway_authz_drop(gc, i);
		if (gc->nauthz != before)
			gateway_client_settle(g, gc);
	}
	gateway_arm_expiry(g);
}

static bool
gateway_unlisted(const struct gateway_client *gc,
    const struct gateway_authz *a, const void *arg)
{
	const struct ipc_authz_keep	*k = arg;
	uint32_t			 i;

	for (i = 0; i < k->n && i < IPC_MAX_KEEP; i++)
		if (strcmp(k->v[i].client_id, gc->peer.client_id) == 0 &&
		    strcmp(k->v[i].resource_id, a->res.id) == 0)
			return (false);
	return (true);
}

/* After a (re)connection's init: what the portal no longer lists goes. */
static int
gateway_authz_keep(struct gateway *g, const struct ipc_authz_keep *k)
{
	gateway_authz_sweep(g, gateway_unlisted, k);
	return (0);
}

static void
gateway_arm_expiry(struct gateway *g)
{
	struct gateway_client	*gc;
	struct timeval		 tv;
	int64_t			 first = INT64_MAX, now;
	size_t			 c, i;

	for (c = 0; c < g->r.npeers; c++) {
		gc = gateway_client_at(g, c);
		for (i = 0; i < gc->nauthz; i++)
			if (gc->authz[i].expires_at < first)
				first = gc->authz[i].expires_at;
	}
	if (first == INT64_MAX) {
		evtimer_del(g->ev_expiry);
		return;
	}
	now = (int64_t)util_realtime_s();
	tv.tv_sec = first > now ? first - now : 0;
	tv.tv_usec = 0;
	evtimer_add(g->ev_expiry, &tv);
}

static bool
gateway_expired(const struct gateway_client *gc,
    const struct gateway_authz *a, const void *now)
{
	(void)gc;
	return (a->expires_at <= *(const int64_t *)now);
}

/* Authorizations end at their expires_at without a word from the portal. */
static void
gateway_expiry_cb(evutil_socket_t fd, short events, void *arg)
{
	int64_t	 now = (int64_t)util_realtime_s();

	(void)fd;
	(void)events;
	gateway_authz_sweep(arg, gateway_expired, &now);
	(void)gateway_commit(arg);
}

/* A client we lost goes with its authorizations. */
static void
gateway_drop(struct role *r, struct role_peer *p)
{
	struct gateway	*g = gateway_of(r);

	gateway_client_free(g, (struct gateway_client *)p, false);
	gateway_arm_expiry(g);
	(void)gateway_commit(g);
}

/*
 * The device comes up with the first tunnel addresses, the clients'
 * ranges routed into it and the firewall table in place; only then
 * connections. If the table cannot be installed nothing is forwarded
 * from the tunnel unchecked: no connection is ever made.
 */
static int
gateway_device_up(struct gateway *g)
{
	struct role_tun		*t = &g->r.tun;
	struct fw_script	 s;
	const char		*why;
	int			 rc, error;

	/* The clients' tunnel addresses are the device ranges. */
	if ((error = role_tun_up(&g->r)) != 0 ||
	    (error = role_tun_routes(&g->r, NULL, 0)) != 0)
		return (error);
	if ((g->fw = firewall_new(device_ifname(t->dev), &why)) == NULL ||
	    (g->dnat = dnat_new(device_ifname(t->dev), &why)) == NULL) {
		log_warnx("firewall for %s: %s", device_ifname(t->dev), why);
		return (EINVAL);
	}
	memset(&s, 0, sizeof(s));
	firewall_setup(g->fw, &s);
	dnat_setup(g->dnat, &s);
	rc = gateway_nft_now("creating the table", &s);
	fw_script_free(&s);
	if (rc == -1)
		return (EIO);
	g->fw_installed = true;
	g->run = fwrun_new(g->r.base, FIREWALL_NFT, gateway_fw_done, g);
	log_info("nftables table inet %s installed", firewall_table(g->fw));
	role_conns_new(&g->r, false);
	return (0);
}

/* What was not applied yet goes with the table. */
static void
gateway_firewall_remove(struct gateway *g)
{
	struct fw_script	 s;

	if (g->fw == NULL)
		return;
	fwrun_free(g->run);
	g->run = NULL;
	if (g->fw_installed) {
		memset(&s, 0, sizeof(s));
		firewall_teardown(g->fw, &s);
		dnat_teardown(g->dnat, &s);
		if (gateway_nft_now("removing the table", &s) == 0)
			log_info("nftables table inet %s removed",
			    firewall_table(g->fw));
		fw_script_free(&s);
		g->fw_installed = false;
	}
	firewall_free(g->fw);
	g->fw = NULL;
	dnat_free(g->dnat);
	g->dnat = NULL;
}

/*
 * IPC_GW_DNS_MAP: a client's proxy IPs of one name, each translated to
 * a real address or no longer. Only for a DNS resource the client is
 * authorized for; controld checked the name against its pattern.
 */
static int
gateway_dns_map(struct gateway *g, const struct ipc_gw_dns_map *m)
{
	struct gateway_client	*gc;
	struct gateway_proxy	*p;
	size_t			 i, j;
	int			 k;

	if ((gc = gateway_client(g, m->client_id)) == NULL ||
	    (k = gateway_authz_index(gc, m->resource_id)) == -1 ||
	    gc->authz[k].res.type != IPC_RES_DNS) {
		log_warnx("client %s: proxy IPs for resource %s, which it is "
		    "not authorized for as a DNS resource; refused",
		    m->client_id, m->resource_id);
		return (EPERM);
	}
	for (i = 0; i < m->n; i++) {
		for (j = 0; j < gc->nproxy; j++)
			if (memcmp(&gc->proxy[j].pair.proxy, &m->v[i].proxy,
			    sizeof(m->v[i].proxy)) == 0)
				break;
		if (j < gc->nproxy)
			gc->proxy[j] = gc->proxy[--gc->nproxy];
		if (m->v[i].real.family == 0)
			continue;
		if (gc->nproxy == GATEWAY_MAX_PROXY) {
			log_warnx("client %s: over %d proxy IPs; the rest not "
				  "translated",
			    m->client_id, GATEWAY_MAX_PROXY);
			break;
		}
		gc->proxy = xreallocarray(gc->proxy, gc->nproxy + 1,
		    sizeof(*gc->proxy));
		p = &gc->proxy[gc->nproxy++];
		snprintf(p->resource_id, sizeof(p->resource_id), "%s",
		    m->resource_id);
		p->pair = m->v[i];
	}
	return (gateway_client_rules(g, gc));
}

/* Keeps one state message; returns the errno to acknowledge it with. */
static int
gateway_state_one(struct gateway *g, const struct ipc_msg *msg)
{
	struct role	*r = &g->r;
	int		 error;

	switch (msg->hdr.type) {
	case IPC_TUN_ADDRESSES:
		/*
		 * The portal moved the gateway: its clients reach resources,
		 * not these addresses, and keep their connections.
		 */
		if (r->have_addresses &&
		    memcmp(&r->addresses, &msg->u.tun_addresses,
		    sizeof(r->addresses)) == 0)
			return (0);
		if (r->have_addresses)
			return (role_tun_move(r, &msg->u.tun_addresses));
		r->addresses = msg->u.tun_addresses;
		r->have_addresses = true;
		if ((error = gateway_device_up(g)) != 0) {
			/* Half a gateway forwards nothing; the next try. */
			conns_free(r->conns);
			r->conns = NULL;
			gateway_firewall_remove(g);
			role_tun_down(r);
			r->have_addresses = false;
		}
		return (error);
	case IPC_CLIENT_PEER:
		return (gateway_client_peer(g, &msg->u.client_peer));
	case IPC_ACCESS_DEL:
		return (gateway_access_del(g, &msg->u.access));
	case IPC_GW_RESOURCE:
		return (gateway_resource(g, &msg->u.gw_resource));
	case IPC_GW_DNS_MAP:
		return (gateway_dns_map(g, &msg->u.gw_dns_map));
	default:	/* IPC_AUTHZ_KEEP */
		return (gateway_authz_keep(g, &msg->u.authz_keep));
	}
}

/*
 * A message that changed the rules is acknowledged when they are in
 * place; one refused is answered at once (what it did change still
 * goes).
 */
static int
gateway_state(struct role *r, const struct ipc_msg *msg)
{
	struct gateway	*g = gateway_of(r);
	uint64_t	 seq;
	int		 error;

	error = gateway_state_one(g, msg);
	if ((seq = gateway_commit(g)) == 0 || error != 0 ||
	    g->nwaiting == GATEWAY_MAX_WAITING)
		return (error);
	if (g->nwaiting == g->swaiting) {
		g->swaiting = g->swaiting == 0 ? 64 : g->swaiting * 2;
		g->waiting = xreallocarray(g->waiting, g->swaiting,
		    sizeof(*g->waiting));
	}
	g->waiting[g->nwaiting++] = (struct gateway_waiting){ seq, msg->hdr.id,
		msg->hdr.type };
	return (ROLE_ACK_LATER);
}

static void
gateway_describe(const struct ipc_msg *msg, char *buf, size_t size)
{
	char		 a[INET6_ADDRSTRLEN] = "", b[128] = "";
	const char	*what = "";

	switch (msg->hdr.type) {
	case IPC_TUN_ADDRESSES:
		inet_ntop(AF_INET, msg->u.tun_addresses.ipv4.addr, a,
		    sizeof(a));
		what = a;
		break;
	case IPC_RELAY_ADD:
		what = msg->u.relay.id;
		break;
	case IPC_RELAY_DEL:
		what = msg->u.relay_id.id;
		break;
	case IPC_REMOTE_CANDIDATE:
	case IPC_REMOTE_CANDIDATE_DEL:
		what = msg->u.candidate.candidate;
		break;
	case IPC_CLIENT_PEER:
		snprintf(b, sizeof(b), "%s %s", msg->u.client_peer.client_id,
		    msg->u.client_peer.resource.id);
		what = b;
		break;
	case IPC_ACCESS_DEL:
		snprintf(b, sizeof(b), "%s %s", msg->u.access.client_id,
		    msg->u.access.resource_id);
		what = b;
		break;
	case IPC_GW_RESOURCE:
		what = msg->u.gw_resource.id;
		break;
	case IPC_GW_DNS_MAP:
		snprintf(b, sizeof(b), "%s %s", msg->u.gw_dns_map.client_id,
		    msg->u.gw_dns_map.resource_id);
		what = b;
		break;
	default:
		snprintf(b, sizeof(b), "%u pairs", msg->u.authz_keep.n);
		what = b;
		break;
	}
	snprintf(buf, size, "%s", what);
}

static bool
gateway_owns(uint16_t type)
{
	switch (type) {
	case IPC_TUN_ADDRESSES:
	case IPC_RELAY_ADD:
	case IPC_RELAY_DEL:
	case IPC_REMOTE_CANDIDATE:
	case IPC_REMOTE_CANDIDATE_DEL:
	case IPC_P2P_SEND:
	case IPC_GW_DNS_MAP:
	case IPC_GW_DNS_PATTERN:
		return (true);
	default:
		return (role_token_owns(type) ||
		    (type >= IPC_GW_STATE_FIRST && type <= IPC_GW_STATE_LAST));
	}
}

/*
 * On the way out every client is told goodbye, so that none waits for us.
 * The table goes first: one nft run, not one per client.
 */
static void
gateway_clear(struct role *r)
{
	struct gateway	*g = gateway_of(r);

	gateway_firewall_remove(g);
	while (r->npeers > 0)
		gateway_client_free(g, gateway_client_at(g, r->npeers - 1),
		    true);
	free(g->waiting);
	free(g->patterns);
	event_free(g->ev_expiry);
	if (g->ev_tick != NULL)
		event_free(g->ev_tick);
}

static const struct role_ops gateway_ops = {
	.name = "gateway role",
	.stray = "not a gateway-role message",
	.configure = gateway_configure,
	.owns = gateway_owns,
	.dispatch = gateway_dispatch,
	.clear = gateway_clear,
	.kind = "gateway",
	.peer_kind = "client",
	.max_peers = GATEWAY_MAX_CLIENTS,
	.state = gateway_state,
	.describe = gateway_describe,
	.drop = gateway_drop,
};
