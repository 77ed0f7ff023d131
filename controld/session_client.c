/*
 * session_client.c: the client's portal session (PROTOCOL.md 2). The
 * portal lists resources, which become routes in tunneld; a packet for
 * one makes tunneld ask, and we ask the portal for an authorization,
 * whose gateway becomes tunneld's peer. A name of a DNS resource that the
 * stub resolver answered is routed as its proxy IPs, for that resource.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/util.h"
#include "controld/dns_p2p.h"
#include "controld/dns_pattern.h"
#include "controld/portal_msg.h"
#include "controld/portal_ratelimit.h"
#include "controld/session.h"
#include "controld/session_client.h"

#define MAX_REUSED	64	/* gateways named in one request */
#define MAX_ASKED	256	/* requests the portal has not answered */
#define MAX_DEFERRED	64	/* requests waiting for the rate limit */
/* PROTOCOL 4.6: AssignedIps again this often until the gateway answers. */
#define ASSIGN_RETRY_S	2

/* A resource's authorization as the portal last answered it. */
struct authz {
	char			 resource_id[PORTAL_ID_SIZE];
	char			 gateway_id[PORTAL_ID_SIZE];
	char			 site_id[PORTAL_ID_SIZE];	/* the gateway's */
	struct portal_addr	 gateway_ipv4, gateway_ipv6;	/* tunnel */
	bool			 authorized;
	enum portal_authz_reason failed;	/* when not authorized */
};

/*
 * A name the stub resolver answered, the resource it stands for, and what
 * the resource's gateway said of its proxy IPs (PROTOCOL 4.6).
 */
enum dns_status {
	DNS_WAITING,		/* AssignedIps due, or sent, no answer yet */
	DNS_ACTIVE,		/* the gateway translates them */
	DNS_INACTIVE,		/* the gateway refused, or could not resolve */
};

struct dns_binding {
	const struct dns_proxy_name	*pn;
	char				 resource_id[PORTAL_ID_SIZE];
	enum dns_status			 status;
	bool				 refused;	/* the last answer
							   was Inactive */
};

struct session_client {
	bool			 internet;	/* the Internet resource on */
	bool			 internet_next;	/* asked, not yet saved */
	bool			 have_init;
	struct portal_resource	*resources;
	size_t			 nresources;
	struct authz		*authz;
	size_t			 nauthz;
	struct portal_ratelimit	 ratelimit;
	/* Resources asked for on this connection, not yet answered. */
	char			 asked[MAX_ASKED][PORTAL_ID_SIZE];
	size_t			 nasked;
	/*
	 * Asked for by tunneld inside the rate limit's window: tunneld asks
	 * once per burst of packets, so a refusal would strand what it holds.
	 */
	struct session		*s;
	struct event		*ev_deferred;
	char			 deferred[MAX_DEFERRED][PORTAL_ID_SIZE];
	size_t			 ndeferred;
	struct dns_binding	*bindings;
	size_t			 nbindings;
	struct event		*ev_assign;	/* AssignedIps again */
};

static struct authz *session_client_authz(struct session_client *, const char *,
    bool);

/* NULL in the gateway role. */
static struct session_client *
session_client_of(struct session *s)
{
	if (session_role(s) != &session_client_role)
		return (NULL);
	return (session_role_state(s));
}

/*
 * The Internet resource is two default routes, shipped only while the
 * user has it on; removing them is always safe (ENOENT when absent).
 */
static void
session_client_ship_route(struct session *s, const struct portal_resource *r,
    enum ipc_type type)
{
	struct session_client	*sc = session_role_state(s);
	struct ipc_route	 rt;

	memset(&rt, 0, sizeof(rt));
	snprintf(rt.resource_id, sizeof(rt.resource_id), "%s", r->id);
	if (r->type == PORTAL_RES_INTERNET) {
		if (type == IPC_ROUTE_ADD && !sc->internet)
			return;
		rt.prefix.family = AF_INET;
		session_ipc(s, type, &rt, sizeof(rt));
		rt.prefix.family = AF_INET6;
		session_ipc(s, type, &rt, sizeof(rt));
		return;
	}
	if (r->type != PORTAL_RES_CIDR)
		return;
	session_prefix(&r->cidr.addr, r->cidr.plen, &rt.prefix);
	session_ipc(s, type, &rt, sizeof(rt));
}

static ssize_t
session_client_find_resource(struct session_client *sc, const char *id)
{
	size_t	 i;

	for (i = 0; i < sc->nresources; i++)
		if (strcmp(sc->resources[i].id, id) == 0)
			return ((ssize_t)i);
	return (-1);
}

static void
session_client_clear_resources(struct session *s, struct session_client *sc,
    bool ship)
{
	size_t	 i;

	for (i = 0; i < sc->nresources; i++) {
		if (ship)
			session_client_ship_route(s, &sc->resources[i],
			    IPC_ROUTE_DEL);
		portal_msg_resource_free(&sc->resources[i]);
	}
	free(sc->resources);
	sc->resources = NULL;
	sc->nresources = 0;
}

/* The DNS resource whose pattern matches name best (PROTOCOL 4.6). */
static const struct portal_resource *
session_client_dns_best(struct session_client *sc, const char *name)
{
	const struct portal_resource	*r, *best = NULL;
	size_t				 i;

	for (i = 0; i < sc->nresources; i++) {
		r = &sc->resources[i];
		if (r->type == PORTAL_RES_DNS &&
		    dns_pattern_match(r->address, name) &&
		    (best == NULL ||
		    dns_pattern_cmp(r->address, best->address) < 0))
			best = r;
	}
	return (best);
}

bool
session_client_dns_lookup(struct session *s, const char *name,
    char id[PORTAL_ID_SIZE], enum portal_ip_stack *stack)
{
	struct session_client		*sc = session_client_of(s);
	const struct portal_resource	*r;

	if (sc == NULL || (r = session_client_dns_best(sc, name)) == NULL)
		return (false);
	snprintf(id, PORTAL_ID_SIZE, "%s", r->id);
	*stack = r->ip_stack;
	return (true);
}

/* A name's proxy IPs as routes of its resource, in or out. */
static void
session_client_ship_binding(struct session *s, const struct dns_binding *b,
    enum ipc_type type)
{
	struct ipc_route	 rt;
	int			 i;

	for (i = 0; i < 2 * DNS_PROXY_PER_FAMILY; i++) {
		memset(&rt, 0, sizeof(rt));
		snprintf(rt.resource_id, sizeof(rt.resource_id), "%s",
		    b->resource_id);
		if (i < DNS_PROXY_PER_FAMILY) {
			rt.prefix.family = AF_INET;
			rt.prefix.prefixlen = 32;
			memcpy(rt.prefix.addr, b->pn->v4[i], 4);
		} else {
			rt.prefix.family = AF_INET6;
			rt.prefix.prefixlen = 128;
			memcpy(rt.prefix.addr,
			    b->pn->v6[i - DNS_PROXY_PER_FAMILY], 16);
		}
		session_ipc(s, type, &rt, sizeof(rt));
	}
}

/*
 * The gateway a resource's packets go to, when its connection is up: the
 * only time AssignedIps can reach it.
 */
static const char *
session_client_dns_gateway(struct session *s, struct session_client *sc,
    const char *resource_id)
{
	const struct ipc_peer_path	*p;
	struct authz			*z;

	if ((z = session_client_authz(sc, resource_id, false)) == NULL ||
	    !z->authorized ||
	    (p = session_find_path(s, z->gateway_id)) == NULL ||
	    (p->state != IPC_PATH_DIRECT && p->state != IPC_PATH_RELAYED))
		return (NULL);
	return (z->gateway_id);
}

/* AssignedIps for the name to its resource's gateway, if it is up. */
static bool
session_client_assign(struct session *s, struct session_client *sc,
    const struct dns_binding *b)
{
	struct dns_p2p_assigned	 a;
	struct ipc_p2p		*m;
	const char		*gw;
	char			*json;
	int			 i;

	if ((gw = session_client_dns_gateway(s, sc, b->resource_id)) == NULL)
		return (false);
	memset(&a, 0, sizeof(a));
	snprintf(a.resource_id, sizeof(a.resource_id), "%s", b->resource_id);
	snprintf(a.domain, sizeof(a.domain), "%s", b->pn->name);
	for (i = 0; i < DNS_PROXY_PER_FAMILY; i++) {
		a.ips[a.nips].family = AF_INET;
		memcpy(a.ips[a.nips++].addr, b->pn->v4[i], 4);
	}
	for (i = 0; i < DNS_PROXY_PER_FAMILY; i++) {
		a.ips[a.nips].family = AF_INET6;
		memcpy(a.ips[a.nips++].addr, b->pn->v6[i], 16);
	}
	if ((json = dns_p2p_assigned_json(&a)) == NULL)
		return (false);
	m = xcalloc(1, sizeof(*m));
	snprintf(m->peer_id, sizeof(m->peer_id), "%s", gw);
	m->event = IPC_P2P_ASSIGNED_IPS;
	m->len = (uint32_t)strlen(json);
	memcpy(m->data, json, m->len);
	session_ipc(s, IPC_P2P_SEND, m, sizeof(*m));
	log_debug("dns: AssignedIps for %s to gateway %s", b->pn->name, gw);
	free(m);
	free(json);
	return (true);
}

/* AssignedIps for one name; the timer comes back while it waits. */
static void
session_client_assign_one(struct session *s, struct session_client *sc,
    struct dns_binding *b)
{
	struct timeval	 tv = { ASSIGN_RETRY_S, 0 };

	if (b->status == DNS_INACTIVE)
		b->status = DNS_WAITING;
	if (session_client_assign(s, sc, b) && b->status == DNS_WAITING &&
	    !evtimer_pending(sc->ev_assign, NULL))
		evtimer_add(sc->ev_assign, &tv);
}

/*
 * AssignedIps for every name of resource_id (NULL: of any resource)
 * whose gateway is up: all of them when refresh, else those not active.
 */
static void
session_client_assign_all(struct session *s, struct session_client *sc,
    const char *resource_id, bool refresh)
{
	struct dns_binding	*b;
	size_t			 i;

	for (i = 0; i < sc->nbindings; i++) {
		b = &sc->bindings[i];
		if (resource_id != NULL &&
		    strcmp(b->resource_id, resource_id) != 0)
			continue;
		if (refresh || b->status != DNS_ACTIVE)
			session_client_assign_one(s, sc, b);
	}
}

static void
session_client_assign_cb(evutil_socket_t fd, short events, void *arg)
{
	struct session_client	*sc = arg;

	(void)fd;
	(void)events;
	session_client_assign_all(sc->s, sc, NULL, false);
}

/*
 * Where SRV and TXT queries for a name of resource_id go (PROTOCOL 4.6):
 * true, with the gateway's tunnel address, once its connection is up;
 * else false, and with ask the portal is asked for the authorization if
 * there is none, as tunneld asks for the first packet to a resource.
 */
bool
session_client_dns_target(struct session *s, const char *resource_id, bool ask,
    struct portal_addr *gw)
{
	struct session_client	*sc = session_client_of(s);
	struct authz		*z;

	if (sc == NULL)
		return (false);
	z = session_client_authz(sc, resource_id, false);
	if (session_client_dns_gateway(s, sc, resource_id) != NULL) {
		*gw = z->gateway_ipv4.family == AF_INET ? z->gateway_ipv4 :
		    z->gateway_ipv6;
		return (gw->family != 0);
	}
	if (ask && (z == NULL || !z->authorized))
		session_client_need_authz(s, resource_id);
	return (false);
}

/* A connection came up: its gateway learns the names of its resources. */
static void
session_client_path(struct session *s, const struct ipc_peer_path *m)
{
	struct session_client	*sc = session_role_state(s);
	size_t			 i;

	if (m->state != IPC_PATH_DIRECT && m->state != IPC_PATH_RELAYED)
		return;
	for (i = 0; i < sc->nauthz; i++)
		if (sc->authz[i].authorized &&
		    strcmp(sc->authz[i].gateway_id, m->id) == 0)
			session_client_assign_all(s, sc,
			    sc->authz[i].resource_id, true);
}

/* A name's proxy IPs to tunneld: sent to the gateway now, or dropped. */
static void
session_client_proxy_state(struct session *s, const struct dns_binding *b,
    bool active)
{
	struct ipc_proxy_state	 m;
	int			 i;

	memset(&m, 0, sizeof(m));
	snprintf(m.resource_id, sizeof(m.resource_id), "%s", b->resource_id);
	m.active = active;
	for (i = 0; i < IPC_PROXY_IPS; i++) {
		if (i < DNS_PROXY_PER_FAMILY) {
			m.ips[i].family = AF_INET;
			m.ips[i].prefixlen = 32;
			memcpy(m.ips[i].addr, b->pn->v4[i], 4);
		} else {
			m.ips[i].family = AF_INET6;
			m.ips[i].prefixlen = 128;
			memcpy(m.ips[i].addr,
			    b->pn->v6[i - DNS_PROXY_PER_FAMILY], 16);
		}
	}
	session_ipc(s, IPC_PROXY_STATE, &m, sizeof(m));
}

/* DomainStatus from a gateway, for a name we sent it. */
static void
session_client_p2p(struct session *s, const struct ipc_p2p *m)
{
	struct session_client	*sc = session_role_state(s);
	struct dns_p2p_status	 st;
	struct dns_binding	*b = NULL;
	const char		*why, *gw;
	size_t			 i;

	if (m->event != IPC_P2P_DOMAIN_STATUS) {
		log_info("dns: gateway %s sent a control packet a client does "
			 "not take; dropped",
		    m->peer_id);
		return;
	}
	if (dns_p2p_parse_status(m->data, m->len, &st, &why) == -1) {
		log_warnx("dns: malformed DomainStatus from gateway %s "
			  "dropped: %s",
		    m->peer_id, why);
		return;
	}
	for (i = 0; i < sc->nbindings && b == NULL; i++)
		if (strcmp(sc->bindings[i].pn->name, st.domain) == 0 &&
		    strcmp(sc->bindings[i].resource_id, st.resource_id) == 0)
			b = &sc->bindings[i];
	gw = b == NULL ? NULL :
	    session_client_dns_gateway(s, sc, b->resource_id);
	if (gw == NULL || strcmp(gw, m->peer_id) != 0) {
		log_info("dns: DomainStatus from gateway %s for %s, which it "
			 "does not serve us, dropped",
		    m->peer_id, st.domain);
		return;
	}
	if (st.active) {
		if (b->status != DNS_ACTIVE)
			log_info("dns: %s is active at gateway %s", st.domain,
			    gw);
		b->status = DNS_ACTIVE;
	} else {
		/* Said once: held packets ask again every second or two. */
		if (!b->refused)
			log_warnx("dns: gateway %s does not take %s "
				  "(inactive); packets for it are dropped",
			    gw, st.domain);
		else
			log_debug("dns: %s still inactive at gateway %s",
			    st.domain, gw);
		b->status = DNS_INACTIVE;
	}
	b->refused = !st.active;
	session_client_proxy_state(s, b, st.active);
	session_notify(s, SESSION_CHANGED_RESOURCES);
}

/*
 * A name bound to resource_id before controld restarted: tunneld routes
 * it still, so only the binding comes back. The resources the portal
 * gives next decide whether it stays (session_client_dns_rebind).
 */
void
session_client_dns_restore(struct session *s, const char *resource_id,
    const struct dns_proxy_name *pn)
{
	struct session_client	*sc = session_client_of(s);
	struct dns_binding	*b;

	if (sc == NULL)
		return;
	sc->bindings = xreallocarray(sc->bindings, sc->nbindings + 1,
	    sizeof(*sc->bindings));
	b = &sc->bindings[sc->nbindings++];
	memset(b, 0, sizeof(*b));
	b->pn = pn;
	snprintf(b->resource_id, sizeof(b->resource_id), "%s", resource_id);
	b->status = DNS_WAITING;
}

/* The stub resolver answered name for resource_id with its proxy IPs. */
void
session_client_dns_name(struct session *s, const char *resource_id,
    const struct dns_proxy_name *pn)
{
	struct session_client	*sc = session_client_of(s);
	struct dns_binding	*b = NULL;
	size_t			 i;

	if (sc == NULL)
		return;
	for (i = 0; i < sc->nbindings && b == NULL; i++)
		if (sc->bindings[i].pn == pn)
			b = &sc->bindings[i];
	/*
	 * Every query refreshes the gateway's resolution (PROTOCOL 4.6); the
	 * other names of the resource are the timer's, not every query's.
	 */
	if (b != NULL && strcmp(b->resource_id, resource_id) == 0) {
		session_client_assign_one(s, sc, b);
		return;
	}
	if (b != NULL)
		session_client_ship_binding(s, b, IPC_ROUTE_DEL);
	else {
		sc->bindings = xreallocarray(sc->bindings, sc->nbindings + 1,
		    sizeof(*sc->bindings));
		b = &sc->bindings[sc->nbindings++];
		b->pn = pn;
	}
	snprintf(b->resource_id, sizeof(b->resource_id), "%s", resource_id);
	b->status = DNS_WAITING;
	b->refused = false;
	session_client_ship_binding(s, b, IPC_ROUTE_ADD);
	log_info("dns: %s is resource %s", pn->name, resource_id);
	session_client_assign_one(s, sc, b);
}

/*
 * The resources changed: each name answered so far follows the pattern
 * that now matches it best, or loses its routes.
 */
static void
session_client_dns_rebind(struct session *s, struct session_client *sc)
{
	const struct portal_resource	*r;
	struct dns_binding		*b;
	size_t				 i = 0;

	while (i < sc->nbindings) {
		b = &sc->bindings[i];
		r = session_client_dns_best(sc, b->pn->name);
		if (r != NULL && strcmp(r->id, b->resource_id) == 0) {
			i++;
			continue;
		}
		session_client_ship_binding(s, b, IPC_ROUTE_DEL);
		if (r != NULL) {
			snprintf(b->resource_id, sizeof(b->resource_id), "%s",
			    r->id);
			b->status = DNS_WAITING;
			session_client_ship_binding(s, b, IPC_ROUTE_ADD);
			i++;
		} else
			*b = sc->bindings[--sc->nbindings];
	}
}

/* The same routes: the same resource, type and CIDR. */
static bool
session_client_same_routes(const struct portal_resource *a,
    const struct portal_resource *b)
{
	return (strcmp(a->id, b->id) == 0 && a->type == b->type &&
	    (a->type != PORTAL_RES_CIDR ||
	    (a->cidr.plen == b->cidr.plen &&
	    a->cidr.addr.family == b->cidr.addr.family &&
	    memcmp(a->cidr.addr.addr, b->cidr.addr.addr,
	    sizeof(a->cidr.addr.addr)) == 0)));
}

/*
 * init replaces the resources. Routes it keeps stay in place (tunneld
 * answers EEXIST when they are shipped again): after a reconnect, the
 * traffic on them goes on; the others are withdrawn first.
 */
static void
session_client_init(struct session *s, struct portal_init *init)
{
	struct session_client	*sc = session_role_state(s);
	size_t			 i, j;

	for (i = 0; sc->have_init && i < sc->nresources; i++) {
		for (j = 0; j < init->nresources; j++)
			if (session_client_same_routes(&sc->resources[i],
			    &init->resources[j]))
				break;
		if (j == init->nresources)
			session_client_ship_route(s, &sc->resources[i],
			    IPC_ROUTE_DEL);
	}
	session_client_clear_resources(s, sc, false);
	sc->resources = init->resources;
	sc->nresources = init->nresources;
	init->resources = NULL;
	init->nresources = 0;
	sc->have_init = true;
	for (i = 0; i < sc->nresources; i++)
		session_client_ship_route(s, &sc->resources[i],
		    IPC_ROUTE_ADD);
	session_client_dns_rebind(s, sc);
	log_info("portal: init with %zu resources and %zu relays",
	    sc->nresources, session_nrelays(s));
}

static void
session_client_on_upsert(struct session *s, struct portal_resource *r)
{
	struct session_client	*sc = session_role_state(s);
	ssize_t			 i = session_client_find_resource(sc, r->id);

	if (i >= 0) {
		session_client_ship_route(s, &sc->resources[i],
		    IPC_ROUTE_DEL);
		portal_msg_resource_free(&sc->resources[i]);
	} else {
		sc->resources = xreallocarray(sc->resources,
		    sc->nresources + 1, sizeof(*sc->resources));
		i = (ssize_t)sc->nresources++;
	}
	sc->resources[i] = *r;
	memset(r, 0, sizeof(*r));
	session_client_ship_route(s, &sc->resources[i], IPC_ROUTE_ADD);
	session_client_dns_rebind(s, sc);
	session_notify(s, SESSION_CHANGED_RESOURCES);
	log_info("portal: resource %s %s", sc->resources[i].id,
	    sc->resources[i].name != NULL ? sc->resources[i].name : "");
}

static void
session_client_on_deleted(struct session *s, const char *id)
{
	struct session_client	*sc = session_role_state(s);
	ssize_t			 i = session_client_find_resource(sc, id);

	if (i < 0) {
		log_info("portal: deleted resource %s was not known", id);
		return;
	}
	session_client_ship_route(s, &sc->resources[i], IPC_ROUTE_DEL);
	portal_msg_resource_free(&sc->resources[i]);
	sc->resources[i] = sc->resources[--sc->nresources];
	session_client_dns_rebind(s, sc);
	session_notify(s, SESSION_CHANGED_RESOURCES);
	log_info("portal: resource %s deleted", id);
}

/*
 * Whether we asked for resource_id; forgets the question, and a request
 * the rate limit held back (the answer covers it).
 */
static bool
session_client_answered(struct session_client *sc, const char *resource_id)
{
	size_t	 i;

	for (i = 0; i < sc->ndeferred; i++)
		if (strcmp(sc->deferred[i], resource_id) == 0) {
			memmove(sc->deferred[i], sc->deferred[--sc->ndeferred],
			    PORTAL_ID_SIZE);
			break;
		}
	for (i = 0; i < sc->nasked; i++)
		if (strcmp(sc->asked[i], resource_id) == 0) {
			memmove(sc->asked[i], sc->asked[--sc->nasked],
			    PORTAL_ID_SIZE);
			return (true);
		}
	return (false);
}

static void
session_client_ask(struct session_client *sc, const char *resource_id)
{
	size_t	 i;

	for (i = 0; i < sc->nasked; i++)
		if (strcmp(sc->asked[i], resource_id) == 0)
			return;
	/* The oldest question is the likeliest to stay unanswered. */
	if (sc->nasked == MAX_ASKED) {
		memmove(sc->asked[0], sc->asked[1],
		    (MAX_ASKED - 1) * PORTAL_ID_SIZE);
		sc->nasked--;
	}
	snprintf(sc->asked[sc->nasked++], PORTAL_ID_SIZE, "%s", resource_id);
}

/* The portal answers only on the connection that asked. */
static void
session_client_joined(struct session *s)
{
	struct session_client	*sc = session_role_state(s);

	sc->nasked = 0;
}

static struct authz *
session_client_authz(struct session_client *sc, const char *resource_id,
    bool create)
{
	size_t	 i;

	for (i = 0; i < sc->nauthz; i++)
		if (strcmp(sc->authz[i].resource_id, resource_id) == 0)
			return (&sc->authz[i]);
	if (!create)
		return (NULL);
	sc->authz = xreallocarray(sc->authz, sc->nauthz + 1,
	    sizeof(*sc->authz));
	memset(&sc->authz[sc->nauthz], 0, sizeof(sc->authz[0]));
	snprintf(sc->authz[sc->nauthz].resource_id, PORTAL_ID_SIZE, "%s",
	    resource_id);
	return (&sc->authz[sc->nauthz++]);
}

static void
session_client_on_authorized(struct session *s,
    struct portal_authorization *a)
{
	struct session_client	*sc = session_role_state(s);
	struct ipc_gateway_peer	 gp;
	struct authz		*z;

	/* As Firezone's client: a gateway only for what we asked for. */
	if (!session_client_answered(sc, a->resource_id)) {
		log_warnx("portal: authorization for resource %s, which fzc "
		    "did not ask for, dropped",
		    a->resource_id);
		return;
	}
	memset(&gp, 0, sizeof(gp));
	snprintf(gp.gateway_id, sizeof(gp.gateway_id), "%s", a->gateway_id);
	snprintf(gp.resource_id, sizeof(gp.resource_id), "%s",
	    a->resource_id);
	memcpy(gp.public_key, a->gateway_public_key, sizeof(gp.public_key));
	memcpy(gp.psk, a->preshared_key, sizeof(gp.psk));
	session_prefix(&a->gateway_ipv4, 32, &gp.gateway_ipv4);
	session_prefix(&a->gateway_ipv6, 128, &gp.gateway_ipv6);
	session_ice(gp.local_ufrag, gp.local_pwd, &a->client_ice);
	session_ice(gp.remote_ufrag, gp.remote_pwd, &a->gateway_ice);
	session_ipc(s, IPC_GATEWAY_PEER, &gp, sizeof(gp));
	explicit_bzero(&gp, sizeof(gp));
	z = session_client_authz(sc, a->resource_id, true);
	snprintf(z->gateway_id, sizeof(z->gateway_id), "%s", a->gateway_id);
	snprintf(z->site_id, sizeof(z->site_id), "%s", a->site_id);
	z->gateway_ipv4 = a->gateway_ipv4;
	z->gateway_ipv6 = a->gateway_ipv6;
	z->authorized = true;
	session_notify(s, SESSION_CHANGED_RESOURCES | SESSION_CHANGED_PEERS);
	log_info("portal: resource %s authorized through gateway %s",
	    a->resource_id, a->gateway_id);
}

static const char *
session_client_reason(enum portal_authz_reason r)
{
	switch (r) {
	case PORTAL_AUTHZ_NOT_FOUND:
		return ("not_found");
	case PORTAL_AUTHZ_FORBIDDEN:
		return ("forbidden");
	case PORTAL_AUTHZ_OFFLINE:
		return ("offline");
	case PORTAL_AUTHZ_VERSION_MISMATCH:
		return ("version_mismatch");
	default:
		return ("unknown");
	}
}

/* The portal refused: what tunneld held for the resource goes. */
static void
session_client_on_failed(struct session *s,
    const struct portal_authz_failed *f)
{
	struct session_client	*sc = session_role_state(s);
	struct ipc_resource_id	 r;
	struct authz		*z;

	session_client_answered(sc, f->resource_id);
	z = session_client_authz(sc, f->resource_id, true);
	z->authorized = false;
	z->failed = f->reason;
	session_notify(s, SESSION_CHANGED_RESOURCES);
	log_warnx("portal: authorization for %s failed: %s; packets for it "
	    "are dropped", f->resource_id, session_client_reason(f->reason));
	memset(&r, 0, sizeof(r));
	snprintf(r.id, sizeof(r.id), "%s", f->resource_id);
	session_ipc(s, IPC_AUTHZ_FAILED, &r, sizeof(r));
}

static bool
session_client_message(struct session *s, struct portal_msg *m)
{
	switch (m->type) {
	case PORTAL_MSG_RESOURCE_UPSERT:
		session_client_on_upsert(s, &m->u.resource);
		return (true);
	case PORTAL_MSG_RESOURCE_DELETED:
		session_client_on_deleted(s, m->u.resource_id);
		return (true);
	case PORTAL_MSG_AUTHZ_CREATED:
		session_client_on_authorized(s, &m->u.authz);
		return (true);
	case PORTAL_MSG_AUTHZ_FAILED:
		session_client_on_failed(s, &m->u.authz_failed);
		return (true);
	default:
		return (false);
	}
}

static int
session_client_decode(const char *event, json_t *payload,
    struct portal_msg *m)
{
	const char	*why;
	int		 rc;

	if ((rc = portal_msg_decode(event, payload, m, &why)) == -1)
		log_warnx("portal: malformed %s dropped: %s", event, why);
	return (rc);
}

/* The window has passed: ask again for what it held back. */
static void
session_client_deferred_cb(evutil_socket_t fd, short events, void *arg)
{
	struct session_client	*sc = arg;
	char			 ids[MAX_DEFERRED][PORTAL_ID_SIZE];
	size_t			 i, n = sc->ndeferred;

	(void)fd;
	(void)events;
	memcpy(ids, sc->deferred, n * PORTAL_ID_SIZE);
	sc->ndeferred = 0;
	for (i = 0; i < n; i++)
		session_client_need_authz(sc->s, ids[i]);
}

static void
session_client_defer(struct session_client *sc, const char *resource_id)
{
	struct timeval	 tv = { PORTAL_RATELIMIT_NS / NSEC_PER_SEC, 0 };
	size_t		 i;

	for (i = 0; i < sc->ndeferred; i++)
		if (strcmp(sc->deferred[i], resource_id) == 0)
			return;
	if (sc->ndeferred == MAX_DEFERRED)
		return;
	snprintf(sc->deferred[sc->ndeferred++], PORTAL_ID_SIZE, "%s",
	    resource_id);
	if (!evtimer_pending(sc->ev_deferred, NULL))
		evtimer_add(sc->ev_deferred, &tv);
}

/* tunneld saw a packet for a resource: ask, at most every 2 s. */
void
session_client_need_authz(struct session *s, const char *resource_id)
{
	struct session_client	*sc = session_client_of(s);
	const char		*gws[MAX_REUSED];
	size_t			 i, j, n = 0;
	ssize_t			 k;

	if (sc == NULL) {
		log_warnx("tunneld asked for an authorization in the gateway "
		    "role");
		return;
	}
	if ((k = session_client_find_resource(sc, resource_id)) < 0) {
		log_warnx("tunneld asked for unknown resource %s", resource_id);
		return;
	}
	/*
	 * Packets held for a name of a DNS resource whose gateway is up wait
	 * for its DomainStatus, not for the portal.
	 */
	if (sc->resources[k].type == PORTAL_RES_DNS &&
	    session_client_dns_gateway(s, sc, resource_id) != NULL) {
		session_client_assign_all(s, sc, resource_id, false);
		return;
	}
	if (!session_connected(s))
		return;
	/* The resource's status becomes "waiting". */
	session_notify(s, SESSION_CHANGED_RESOURCES);
	if (!portal_ratelimit_allow(&sc->ratelimit, resource_id,
	    util_now_ns())) {
		session_client_defer(sc, resource_id);
		return;
	}
	/* Reuse gateways we are connected to (PROTOCOL 2.3). */
	for (i = 0; i < sc->nauthz && n < MAX_REUSED; i++) {
		if (!sc->authz[i].authorized)
			continue;
		for (j = 0; j < n; j++)
			if (strcmp(gws[j], sc->authz[i].gateway_id) == 0)
				break;
		if (j == n)
			gws[n++] = sc->authz[i].gateway_id;
	}
	session_client_ask(sc, resource_id);
	log_info("portal: requesting authorization for %s", resource_id);
	session_push(s, PORTAL_EV_REQUEST_AUTHORIZATION,
	    portal_msg_request_authorization(resource_id, gws, n));
}

/*
 * The Internet switch: tunneld saves it first, then the default routes
 * come or go with it (they need the portal's authorization like any
 * resource's).
 */
int
session_client_set_internet(struct session *s, bool on, session_done_fn *fn,
    void *arg)
{
	struct session_client	*sc = session_client_of(s);
	struct ipc_internet	 m;

	if (sc == NULL)
		return (-1);
	memset(&m, 0, sizeof(m));
	m.enabled = on;
	if (session_send_waiting(s, IPC_INTERNET_SET, &m, sizeof(m), fn,
	    arg) == -1)
		return (-1);
	sc->internet_next = on;
	return (0);
}

static bool
session_client_state_ack(struct session *s, uint32_t id,
    const struct ipc_state_ack *ack)
{
	struct session_client	*sc = session_role_state(s);
	size_t			 i;

	if (ack->type != IPC_INTERNET_SET)
		return (false);
	if (!session_waiting(s, id))
		return (true);
	if (ack->error == 0 && sc->internet != sc->internet_next) {
		sc->internet = sc->internet_next;
		for (i = 0; i < sc->nresources; i++)
			if (sc->resources[i].type == PORTAL_RES_INTERNET)
				session_client_ship_route(s,
				    &sc->resources[i], sc->internet ?
				    IPC_ROUTE_ADD : IPC_ROUTE_DEL);
		session_notify(s, SESSION_CHANGED_PORTAL);
	}
	session_waiter_done(s, ack->error);
	return (true);
}

static const char *
session_client_type(enum portal_res_type t)
{
	return (t == PORTAL_RES_DNS ? "dns" : t == PORTAL_RES_CIDR ? "cidr" :
	    "internet");
}

static bool
session_client_asked(const struct session_client *sc, const char *id)
{
	size_t	 i;

	for (i = 0; i < sc->nasked; i++)
		if (strcmp(sc->asked[i], id) == 0)
			return (true);
	for (i = 0; i < sc->ndeferred; i++)
		if (strcmp(sc->deferred[i], id) == 0)
			return (true);
	return (false);
}

/*
 * What fzc can honestly say of a resource. The portal tells no site's
 * presence: only an answer to a request (PROTOCOL 2.2) and the path of
 * the connection to the gateway it chose say anything, so a resource
 * nothing was sent to yet is "unknown".
 */
static const char *
session_client_status_of(struct session *s, struct session_client *sc,
    const struct portal_resource *r, const struct authz *z)
{
	const struct ipc_peer_path	*p;

	if (session_client_asked(sc, r->id))
		return ("waiting");
	if (z == NULL)
		return ("unknown");
	if (!z->authorized)
		return ("failed");
	if ((p = session_find_path(s, z->gateway_id)) == NULL)
		return ("authorized");
	return (p->state == IPC_PATH_CONNECTING ? "connecting" : "connected");
}

static const char *
session_client_name(const struct portal_resource *r)
{
	if (r->name != NULL)
		return (r->name);
	if (r->type == PORTAL_RES_INTERNET)
		return ("Internet Resource");
	return (r->address);
}

/*
 * The names the stub resolver answered for a DNS resource, with their
 * proxy IPs as the resource's ip_stack lets applications see them.
 */
static json_t *
session_client_dns_names(const struct session_client *sc,
    const struct portal_resource *r)
{
	const struct dns_binding	*b;
	json_t				*a = json_array(), *ips, *o;
	char				 buf[INET6_ADDRSTRLEN];
	bool				 v4, v6;
	size_t				 i;
	int				 j;

	v4 = r->ip_stack != PORTAL_STACK_IPV6_ONLY;
	v6 = r->ip_stack != PORTAL_STACK_IPV4_ONLY;
	for (i = 0; i < sc->nbindings; i++) {
		b = &sc->bindings[i];
		if (strcmp(b->resource_id, r->id) != 0)
			continue;
		ips = json_array();
		for (j = 0; v4 && j < DNS_PROXY_PER_FAMILY; j++) {
			inet_ntop(AF_INET, b->pn->v4[j], buf, sizeof(buf));
			json_array_append_new(ips, json_string(buf));
		}
		for (j = 0; v6 && j < DNS_PROXY_PER_FAMILY; j++) {
			inet_ntop(AF_INET6, b->pn->v6[j], buf, sizeof(buf));
			json_array_append_new(ips, json_string(buf));
		}
		o = json_pack("{s:s, s:o, s:s}", "name", b->pn->name,
		    "proxy_ips", ips, "status",
		    b->status == DNS_ACTIVE	  ? "active" :
			b->status == DNS_INACTIVE ? "inactive" :
						    "waiting");
		json_array_append_new(a, o);
	}
	return (a);
}

/* What `fzc resources` lists; empty in the gateway role. */
json_t *
session_client_resources(struct session *s)
{
	struct session_client	*sc = session_client_of(s);
	struct portal_resource	*r;
	struct authz		*z;
	json_t			*a = json_array(), *o;
	const char		*site;
	size_t			 i;

	for (i = 0; sc != NULL && i < sc->nresources; i++) {
		r = &sc->resources[i];
		z = session_client_authz(sc, r->id, false);
		site = NULL;
		if (r->nsites > 0)
			site = r->sites[0].name != NULL ? r->sites[0].name :
			    r->sites[0].id;
		o = json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:b, s:s}", "id",
		    r->id, "type", session_client_type(r->type), "name",
		    r->name, "address", r->address, "site", site, "authorized",
		    z != NULL && z->authorized, "status",
		    session_client_status_of(s, sc, r, z));
		if (z != NULL && !z->authorized)
			json_object_set_new(o, "authorization_failed",
			    json_string(session_client_reason(z->failed)));
		if (z != NULL && z->authorized)
			json_object_set_new(o, "gateway",
			    json_string(z->gateway_id));
		if (r->type == PORTAL_RES_DNS)
			json_object_set_new(o, "names",
			    session_client_dns_names(sc, r));
		json_array_append_new(a, o);
	}
	return (a);
}

static const char *
session_client_site_name(const struct session_client *sc, const char *id)
{
	size_t	 i, j;

	for (i = 0; i < sc->nresources; i++)
		for (j = 0; j < sc->resources[i].nsites; j++)
			if (strcmp(sc->resources[i].sites[j].id, id) == 0)
				return (sc->resources[i].sites[j].name);
	return (NULL);
}

/*
 * The portal never names a gateway: it is shown by its site and by the
 * resources the portal authorized through it.
 */
static void
session_client_peer(struct session *s, const char *id, json_t *o)
{
	struct session_client	*sc = session_role_state(s);
	const struct authz	*z;
	const char		*site = NULL;
	json_t			*names = json_array();
	ssize_t			 k;
	size_t			 i;

	for (i = 0; i < sc->nauthz; i++) {
		z = &sc->authz[i];
		if (!z->authorized || strcmp(z->gateway_id, id) != 0 ||
		    (k = session_client_find_resource(sc, z->resource_id)) < 0)
			continue;
		json_array_append_new(names,
		    json_string(session_client_name(&sc->resources[k])));
		if (site == NULL)
			site = session_client_site_name(sc, z->site_id);
	}
	if (site != NULL)
		json_object_set_new(o, "site", json_string(site));
	json_object_set_new(o, "resources", names);
}

static json_t *
session_client_candidates(const char *gateway_id, const char *const *c,
    size_t n, bool invalidate, const char **event)
{
	*event = invalidate ? PORTAL_EV_INVALIDATE_CANDIDATES :
	    PORTAL_EV_NEW_CANDIDATES;
	return (portal_msg_gateway_candidates(gateway_id, c, n));
}

static void
session_client_config(struct session *s, const struct ipc_portal_config *cfg)
{
	struct session_client	*sc = session_role_state(s);

	sc->internet = cfg->internet;
}

static void
session_client_status(struct session *s, json_t *o)
{
	struct session_client	*sc = session_role_state(s);

	json_object_set_new(o, "internet", json_string(sc->internet ? "on" :
	    "off"));
}

static void *
session_client_new(struct session *s)
{
	struct session_client	*sc = xcalloc(1, sizeof(*sc));

	sc->s = s;
	if ((sc->ev_deferred = evtimer_new(session_base(s),
	    session_client_deferred_cb, sc)) == NULL ||
	    (sc->ev_assign = evtimer_new(session_base(s),
	    session_client_assign_cb, sc)) == NULL)
		fatalx("evtimer_new");
	return (sc);
}

static void
session_client_free(void *arg)
{
	struct session_client	*sc = arg;

	session_client_clear_resources(NULL, sc, false);
	free(sc->bindings);
	free(sc->authz);
	portal_ratelimit_clear(&sc->ratelimit);
	event_free(sc->ev_deferred);
	event_free(sc->ev_assign);
	free(sc);
}

const struct session_role session_client_role = {
	.name = "client",
	.gateway = false,
	.decode = session_client_decode,
	.new = session_client_new,
	.free = session_client_free,
	.config = session_client_config,
	.init = session_client_init,
	.joined = session_client_joined,
	.message = session_client_message,
	.state_ack = session_client_state_ack,
	.candidates = session_client_candidates,
	.status = session_client_status,
	.peer = session_client_peer,
	.path = session_client_path,
	.p2p = session_client_p2p,
};
