/*
 * session_gateway.c: the gateway's portal session (PROTOCOL.md 3). The
 * portal creates authorizations; tunneld holds the client peers. We keep
 * the (client, resource) pairs it was given, as far as we know, to take
 * them back when a resource can no longer be passed on.
 */
#include <sys/types.h>

#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/timer.h"
#include "common/util.h"
#include "controld/dns_gateway.h"
#include "controld/dns_p2p.h"
#include "controld/dns_pattern.h"
#include "controld/dns_resolve.h"
#include "controld/portal_msg.h"
#include "controld/session.h"
#include "controld/session_gateway.h"

#define MAX_PENDING	256	/* peers tunneld has not acked */
#define MAX_STATUS	256	/* names whose translations are not in yet */
/* How long a burst of candidates is gathered. */
#define BATCH_WINDOW_NS	(20 * NSEC_PER_MSEC)

/* A create_authorization waiting for tunneld's answer. */
struct pending {
	uint32_t	 ipc_id;
	char		*ref;		/* the portal's, for the ack */
	char		 client_id[PORTAL_ID_SIZE];
	char		 resource_id[PORTAL_ID_SIZE];
	int64_t		 expires_at;
	struct portal_addr ipv4, ipv6;	/* the client's tunnel addresses */
};

/* A client tunneld holds, by the tunnel addresses its packets come from. */
struct gw_client {
	char			 id[PORTAL_ID_SIZE];
	struct portal_addr	 ipv4, ipv6;
};

/* A DNS resource's name pattern, for the names clients send. */
struct gw_dns_resource {
	char			 id[PORTAL_ID_SIZE];
	char			*pattern;
};

/* A DomainStatus to send once tunneld has the name's translations in. */
struct gw_status {
	uint32_t		 ipc_id;
	char			 client_id[IPC_ID_MAX];
	char			 resource_id[PORTAL_ID_SIZE];
	char			 domain[DNS_NAME_MAX + 1];
	bool			 active;
};

struct session_gateway {
	struct pending		 pending[MAX_PENDING];
	size_t			 npending;
	struct gw_status	 status[MAX_STATUS];
	size_t			 nstatus;
	struct portal_access	*grants;	/* pairs tunneld holds */
	size_t			 ngrants;
	struct gw_dns_resource	*dns;
	size_t			 ndns;
	struct dns_resolve	*resolver;	/* made at the first name */
	struct gw_client	*clients;	/* with grants, as far as known */
	size_t			 nclients;
	struct dns_gateway	*server;	/* port 53535, after init */
};

static ssize_t
session_gateway_find_grant(struct session_gateway *g, const char *client_id,
    const char *resource_id)
{
	size_t	 i;

	for (i = 0; i < g->ngrants; i++)
		if (strcmp(g->grants[i].client_id, client_id) == 0 &&
		    strcmp(g->grants[i].resource_id, resource_id) == 0)
			return ((ssize_t)i);
	return (-1);
}

/* Expired pairs go too: tunneld drops them on its own. */
static void
session_gateway_add_grant(struct session *s, const char *client_id,
    const char *resource_id, int64_t expires_at)
{
	struct session_gateway	*g = session_role_state(s);
	int64_t			 now = (int64_t)time(NULL);
	ssize_t			 i;

	for (i = (ssize_t)g->ngrants - 1; i >= 0; i--)
		if (g->grants[i].expires_at > 0 &&
		    g->grants[i].expires_at < now)
			g->grants[i] = g->grants[--g->ngrants];
	if ((i = session_gateway_find_grant(g, client_id, resource_id)) < 0) {
		g->grants = xreallocarray(g->grants, g->ngrants + 1,
		    sizeof(*g->grants));
		i = (ssize_t)g->ngrants++;
		snprintf(g->grants[i].client_id, PORTAL_ID_SIZE, "%s",
		    client_id);
		snprintf(g->grants[i].resource_id, PORTAL_ID_SIZE, "%s",
		    resource_id);
	}
	g->grants[i].expires_at = expires_at;
	session_notify(s, SESSION_CHANGED_PORTAL | SESSION_CHANGED_PEERS);
}

/* Resource id's pattern, or (NULL) it is no DNS resource. */
static void
session_gateway_set_pattern(struct session_gateway *g, const char *id,
    const char *pattern)
{
	size_t	 i;

	for (i = 0; i < g->ndns; i++)
		if (strcmp(g->dns[i].id, id) == 0)
			break;
	if (pattern == NULL) {
		if (i < g->ndns) {
			free(g->dns[i].pattern);
			g->dns[i] = g->dns[--g->ndns];
		}
		return;
	}
	if (i == g->ndns) {
		g->dns = xreallocarray(g->dns, g->ndns + 1, sizeof(*g->dns));
		i = g->ndns++;
		snprintf(g->dns[i].id, sizeof(g->dns[i].id), "%s", id);
	} else
		free(g->dns[i].pattern);
	g->dns[i].pattern = xstrdup(pattern);
}

/*
 * A DNS resource's pattern, as the portal last gave it; tunneld keeps it
 * for a controld started again (which the portal does not tell).
 */
static void
session_gateway_dns_pattern(struct session *s, const struct portal_resource *r)
{
	struct ipc_gw_dns_pattern	 m;
	bool				 dns = r->type == PORTAL_RES_DNS;

	session_gateway_set_pattern(session_role_state(s), r->id,
	    dns ? r->address : NULL);
	memset(&m, 0, sizeof(m));
	snprintf(m.id, sizeof(m.id), "%s", r->id);
	if (dns && strlen(r->address) < sizeof(m.pattern))
		memcpy(m.pattern, r->address, strlen(r->address));
	if (ipc_word_valid(m.pattern, sizeof(m.pattern), false))
		session_ipc(s, IPC_GW_DNS_PATTERN, &m, sizeof(m));
	else
		log_info("portal: resource %s: a pattern fzc-tunneld does not "
			 "keep; a restarted controld learns it again from the "
			 "portal",
		    r->id);
}

/* A pattern tunneld kept from before controld restarted. */
void
session_gateway_dns_kept(struct session *s, const struct ipc_gw_dns_pattern *m)
{
	if (session_role(s) != &session_gateway_role || m->pattern[0] == '\0')
		return;
	session_gateway_set_pattern(session_role_state(s), m->id, m->pattern);
}

/* DomainStatus for the client's name (PROTOCOL 4.6). */
static void
session_gateway_domain_status(struct session *s, const char *client_id,
    const char *resource_id, const char *domain, bool active)
{
	struct ipc_p2p	*m;
	char		*json;

	if ((json = dns_p2p_status_json(resource_id, domain, active)) == NULL)
		return;
	m = xcalloc(1, sizeof(*m));
	snprintf(m->peer_id, sizeof(m->peer_id), "%s", client_id);
	m->event = IPC_P2P_DOMAIN_STATUS;
	m->len = (uint32_t)strlen(json);
	memcpy(m->data, json, m->len);
	session_ipc(s, IPC_P2P_SEND, m, sizeof(*m));
	free(m);
	free(json);
}

/* Resource id's name pattern, or NULL: it is no DNS resource. */
static const char *
session_gateway_pattern(const struct session_gateway *g, const char *id)
{
	size_t	 i;

	for (i = 0; i < g->ndns; i++)
		if (strcmp(g->dns[i].id, id) == 0)
			return (g->dns[i].pattern);
	return (NULL);
}

/* A grant that has not expired at now. */
static bool
session_gateway_grant_live(const struct portal_access *a, int64_t now)
{
	return (a->expires_at <= 0 || a->expires_at > now);
}

/*
 * Why the client may not have translations for the name, or NULL: it
 * holds an authorization for the resource that has not expired, and the
 * name matches the resource's pattern.
 */
static const char *
session_gateway_dns_refusal(struct session_gateway *g, const char *client_id,
    const struct dns_p2p_assigned *a)
{
	const char	*pattern;
	ssize_t		 k;

	if ((k = session_gateway_find_grant(g, client_id, a->resource_id)) <
		0 ||
	    !session_gateway_grant_live(&g->grants[k], (int64_t)time(NULL)))
		return ("not authorized for the resource");
	if ((pattern = session_gateway_pattern(g, a->resource_id)) == NULL)
		return ("not a DNS resource");
	if (!dns_pattern_match(pattern, a->domain))
		return ("the name does not match the resource's pattern");
	return (NULL);
}

/* A lookup for a client's AssignedIps, until it ends. */
struct gw_lookup {
	struct session		*s;
	char			 client_id[IPC_ID_MAX];
	struct dns_p2p_assigned	 a;
};

static void
session_gateway_prefix(const struct dns_p2p_ip *ip, struct ipc_prefix *p)
{
	memset(p, 0, sizeof(*p));
	if (ip->family == 0)
		return;
	p->family = (uint8_t)ip->family;
	p->prefixlen = ip->family == AF_INET ? 32 : 128;
	memcpy(p->addr, ip->addr, ip->family == AF_INET ? 4 : 16);
}

/*
 * The name resolved (or not): tunneld translates each proxy IP to an
 * address of its family, then the client hears whether it can go on.
 */
static void
session_gateway_resolved(void *arg, const struct dns_p2p_ip *addrs, size_t n,
    const char *why)
{
	struct gw_lookup	*l = arg;
	struct session_gateway	*g;
	struct gw_status	*st;
	struct dns_p2p_ip	 real[DNS_P2P_MAX_IPS];
	struct ipc_gw_dns_map	 m;
	const char		*refused;
	size_t			 i, mapped;

	if (addrs == NULL && why == NULL)
		goto done;	/* the resolver went away */
	g = session_role_state(l->s);
	/* The authorization may have gone meanwhile. */
	if ((refused = session_gateway_dns_refusal(g, l->client_id, &l->a)) !=
	    NULL) {
		log_warnx("dns: client %s: %s refused: %s", l->client_id,
		    l->a.domain, refused);
		session_gateway_domain_status(l->s, l->client_id,
		    l->a.resource_id, l->a.domain, false);
		goto done;
	}
	mapped = dns_p2p_map(&l->a, addrs, n, real);
	memset(&m, 0, sizeof(m));
	snprintf(m.client_id, sizeof(m.client_id), "%s", l->client_id);
	snprintf(m.resource_id, sizeof(m.resource_id), "%s", l->a.resource_id);
	m.n = (uint32_t)l->a.nips;
	for (i = 0; i < l->a.nips; i++) {
		session_gateway_prefix(&l->a.ips[i], &m.v[i].proxy);
		session_gateway_prefix(&real[i], &m.v[i].real);
	}
	/*
	 * The client hears once tunneld acknowledges, when the translations
	 * are in nftables: its packets must not come before them.
	 */
	if (g->nstatus == MAX_STATUS) {
		log_warnx("dns: tunneld has not answered %d names; the oldest "
			  "goes unanswered",
		    MAX_STATUS);
		memmove(&g->status[0], &g->status[1],
		    (MAX_STATUS - 1) * sizeof(g->status[0]));
		g->nstatus--;
	}
	st = &g->status[g->nstatus++];
	st->ipc_id = session_ipc(l->s, IPC_GW_DNS_MAP, &m, sizeof(m));
	snprintf(st->client_id, sizeof(st->client_id), "%s", l->client_id);
	snprintf(st->resource_id, sizeof(st->resource_id), "%s",
	    l->a.resource_id);
	snprintf(st->domain, sizeof(st->domain), "%s", l->a.domain);
	st->active = mapped > 0;
	if (mapped == 0)
		log_warnx("dns: client %s: %s does not resolve here (%s); "
			  "inactive",
		    l->client_id, l->a.domain,
		    why != NULL ? why : "no address of the families asked");
	else
		log_info("dns: client %s: %s resolved, %zu of %zu proxy IPs "
			 "translated",
		    l->client_id, l->a.domain, mapped, l->a.nips);
done:
	free(l);
}

/* AssignedIps from a client: checked, then the name is resolved here. */
static void
session_gateway_p2p(struct session *s, const struct ipc_p2p *m)
{
	struct session_gateway	*g = session_role_state(s);
	struct dns_p2p_assigned	 a;
	struct gw_lookup	*l;
	const char		*why;

	if (m->event != IPC_P2P_ASSIGNED_IPS) {
		log_info("dns: client %s sent a control packet a gateway does "
			 "not take; dropped",
		    m->peer_id);
		return;
	}
	if (dns_p2p_parse_assigned(m->data, m->len, &a, &why) == -1) {
		log_warnx("dns: malformed AssignedIps from client %s dropped: "
			  "%s",
		    m->peer_id, why);
		return;
	}
	if ((why = session_gateway_dns_refusal(g, m->peer_id, &a)) != NULL) {
		log_warnx("dns: client %s: %s for resource %s refused: %s",
		    m->peer_id, a.domain, a.resource_id, why);
		session_gateway_domain_status(s, m->peer_id, a.resource_id,
		    a.domain, false);
		return;
	}
	if (g->resolver == NULL)
		g->resolver = dns_resolve_new(session_base(s));
	l = xcalloc(1, sizeof(*l));
	l->s = s;
	snprintf(l->client_id, sizeof(l->client_id), "%s", m->peer_id);
	l->a = a;
	log_debug("dns: client %s: resolving %s", m->peer_id, a.domain);
	dns_resolve_name(g->resolver, a.domain, session_gateway_resolved, l);
}

/*
 * The client's tunnel addresses, for its queries to port 53535. A
 * restarted controld learns those of the clients tunneld kept from it
 * (IPC_GW_CLIENT): the portal's init does not give them.
 */
static void
session_gateway_set_client(struct session_gateway *g, const char *id,
    const struct portal_addr *ipv4, const struct portal_addr *ipv6)
{
	size_t	 i;

	for (i = 0; i < g->nclients; i++)
		if (strcmp(g->clients[i].id, id) == 0)
			break;
	if (i == g->nclients) {
		g->clients = xreallocarray(g->clients, g->nclients + 1,
		    sizeof(*g->clients));
		snprintf(g->clients[g->nclients++].id, PORTAL_ID_SIZE, "%s",
		    id);
	}
	g->clients[i].ipv4 = *ipv4;
	g->clients[i].ipv6 = *ipv6;
}

/* Clients without a grant left go. */
static void
session_gateway_prune_clients(struct session_gateway *g)
{
	size_t	 i = 0, k;

	while (i < g->nclients) {
		for (k = 0; k < g->ngrants; k++)
			if (strcmp(g->grants[k].client_id, g->clients[i].id) ==
			    0)
				break;
		if (k == g->ngrants)
			g->clients[i] = g->clients[--g->nclients];
		else
			i++;
	}
}

/* A client tunneld kept from before controld restarted. */
void
session_gateway_client_kept(struct session *s, const struct ipc_gw_client *m)
{
	struct portal_addr	 a4, a6;

	if (session_role(s) != &session_gateway_role)
		return;
	memset(&a4, 0, sizeof(a4));
	memset(&a6, 0, sizeof(a6));
	a4.family = AF_INET;
	memcpy(a4.addr, m->ipv4.addr, 4);
	a6.family = AF_INET6;
	memcpy(a6.addr, m->ipv6.addr, 16);
	session_gateway_set_client(session_role_state(s), m->client_id, &a4,
	    &a6);
}

/*
 * Port 53535: the client with this tunnel address holds an authorization
 * that has not expired for a DNS resource whose pattern matches name.
 */
static bool
session_gateway_dns_allowed(void *arg, int family, const uint8_t *addr,
    const char *name)
{
	struct session_gateway	*g = session_role_state(arg);
	const struct portal_access *a;
	const struct gw_client	*c = NULL;
	const char		*pattern;
	int64_t			 now = (int64_t)time(NULL);
	size_t			 i;

	for (i = 0; i < g->nclients && c == NULL; i++)
		if (family == AF_INET ?
			(g->clients[i].ipv4.family == AF_INET &&
			    memcmp(g->clients[i].ipv4.addr, addr, 4) == 0) :
			(g->clients[i].ipv6.family == AF_INET6 &&
			    memcmp(g->clients[i].ipv6.addr, addr, 16) == 0))
			c = &g->clients[i];
	if (c == NULL)
		return (false);
	for (i = 0; i < g->ngrants; i++) {
		a = &g->grants[i];
		if (strcmp(a->client_id, c->id) == 0 &&
		    session_gateway_grant_live(a, now) &&
		    (pattern = session_gateway_pattern(g, a->resource_id)) !=
			NULL &&
		    dns_pattern_match(pattern, name))
			return (true);
	}
	return (false);
}

/* init gave the gateway's tunnel addresses: port 53535 is on them. */
void
session_gateway_interface(struct session *s,
    const struct portal_interface *iface)
{
	struct session_gateway	*g;

	if (session_role(s) != &session_gateway_role)
		return;
	g = session_role_state(s);
	if (g->server == NULL)
		g->server = dns_gateway_new(session_base(s),
		    session_gateway_dns_allowed, s);
	dns_gateway_listen(g->server, iface);
}

static void
session_gateway_ship_access_del(struct session *s, const char *client_id,
    const char *resource_id)
{
	struct session_gateway	*g = session_role_state(s);
	struct ipc_access	 a;
	ssize_t			 i;

	memset(&a, 0, sizeof(a));
	snprintf(a.client_id, sizeof(a.client_id), "%s", client_id);
	snprintf(a.resource_id, sizeof(a.resource_id), "%s", resource_id);
	session_ipc(s, IPC_ACCESS_DEL, &a, sizeof(a));
	if ((i = session_gateway_find_grant(g, client_id, resource_id)) >= 0)
		g->grants[i] = g->grants[--g->ngrants];
	session_notify(s, SESSION_CHANGED_PORTAL | SESSION_CHANGED_PEERS);
}

/* After init: tunneld drops every pair the portal no longer lists. */
static void
session_gateway_init(struct session *s, struct portal_init *in)
{
	struct session_gateway	*g = session_role_state(s);
	struct ipc_authz_keep	 k;
	size_t			 i;

	log_info("portal: init with %zu relays and %zu authorizations%s%s",
	    session_nrelays(s), in->nauthorizations,
	    in->account_slug != NULL ? " for account " : "",
	    in->account_slug != NULL ? in->account_slug : "");
	if (!in->has_authorizations) {
		log_debug("portal: init lists no authorizations; tunneld "
		    "keeps what it holds");
		return;
	}
	g->ngrants = 0;
	for (i = 0; i < in->nauthorizations; i++)
		session_gateway_add_grant(s, in->authorizations[i].client_id,
		    in->authorizations[i].resource_id,
		    in->authorizations[i].expires_at);
	if (in->nauthorizations > IPC_MAX_KEEP) {
		log_debug("portal: init lists %zu authorizations, more than "
		    "IPC_AUTHZ_KEEP holds; tunneld keeps what it holds",
		    in->nauthorizations);
		return;
	}
	memset(&k, 0, sizeof(k));
	k.n = (uint32_t)in->nauthorizations;
	for (i = 0; i < in->nauthorizations; i++) {
		memcpy(k.v[i].client_id, in->authorizations[i].client_id,
		    PORTAL_ID_SIZE);
		memcpy(k.v[i].resource_id, in->authorizations[i].resource_id,
		    PORTAL_ID_SIZE);
	}
	session_ipc(s, IPC_AUTHZ_KEEP, &k, sizeof(k));
}

/* The gateway view of a resource as tunneld takes it; false: too big. */
static bool
session_gateway_resource(const struct portal_resource *r,
    struct ipc_gw_resource *g)
{
	size_t	 i;

	memset(g, 0, sizeof(*g));
	if (r->nfilters > IPC_MAX_FILTERS)
		return (false);
	snprintf(g->id, sizeof(g->id), "%s", r->id);
	if (r->type == PORTAL_RES_CIDR) {
		g->type = IPC_RES_CIDR;
		session_prefix(&r->cidr.addr, r->cidr.plen, &g->prefix);
	} else if (r->type == PORTAL_RES_DNS)
		g->type = IPC_RES_DNS;
	else
		g->type = IPC_RES_INTERNET;
	g->nfilters = (uint8_t)r->nfilters;
	for (i = 0; i < r->nfilters; i++) {
		g->filters[i].proto = r->filters[i].proto == PORTAL_PROTO_TCP ?
		    IPPROTO_TCP : r->filters[i].proto == PORTAL_PROTO_UDP ?
		    IPPROTO_UDP : IPPROTO_ICMP;
		g->filters[i].port_start = r->filters[i].port_start;
		g->filters[i].port_end = r->filters[i].port_end;
	}
	return (true);
}

static void
session_gateway_on_create_authz(struct session *s,
    struct portal_gw_authorization *a)
{
	struct session_gateway	*g = session_role_state(s);
	struct ipc_client_peer	 cp;
	struct pending		*p;

	memset(&cp, 0, sizeof(cp));
	if (!session_gateway_resource(&a->resource, &cp.resource)) {
		log_warnx("portal: authorization of client %s for resource %s "
		    "refused: %zu port ranges, more than fzc's gateway takes "
		    "(%d)", a->client_id, a->resource.id, a->resource.nfilters,
		    IPC_MAX_FILTERS);
		return;
	}
	snprintf(cp.client_id, sizeof(cp.client_id), "%s", a->client_id);
	memcpy(cp.public_key, a->client_public_key, sizeof(cp.public_key));
	memcpy(cp.psk, a->preshared_key, sizeof(cp.psk));
	session_prefix(&a->client_ipv4, 32, &cp.client_ipv4);
	session_prefix(&a->client_ipv6, 128, &cp.client_ipv6);
	session_ice(cp.local_ufrag, cp.local_pwd, &a->gateway_ice);
	session_ice(cp.remote_ufrag, cp.remote_pwd, &a->client_ice);
	cp.expires_at = a->expires_at;
	session_gateway_dns_pattern(s, &a->resource);
	if (g->npending == MAX_PENDING) {
		log_warnx("portal: tunneld has not answered %d authorizations;"
		    " forgetting the oldest", MAX_PENDING);
		free(g->pending[0].ref);
		memmove(&g->pending[0], &g->pending[1],
		    (MAX_PENDING - 1) * sizeof(g->pending[0]));
		g->npending--;
	}
	p = &g->pending[g->npending++];
	p->ipc_id = session_ipc(s, IPC_CLIENT_PEER, &cp, sizeof(cp));
	explicit_bzero(&cp, sizeof(cp));
	p->ref = a->ref;
	a->ref = NULL;
	memcpy(p->client_id, a->client_id, PORTAL_ID_SIZE);
	memcpy(p->resource_id, a->resource.id, PORTAL_ID_SIZE);
	p->expires_at = a->expires_at;
	p->ipv4 = a->client_ipv4;
	p->ipv6 = a->client_ipv6;
	log_info("portal: authorization of client %s for resource %s (until "
	    "%lld) passed to tunneld", a->client_id, a->resource.id,
	    (long long)a->expires_at);
}

/* tunneld has a name's translations in place, or refused them. */
static void
session_gateway_dns_ack(struct session *s, uint32_t id, int error)
{
	struct session_gateway	*g = session_role_state(s);
	struct gw_status	 st;
	size_t			 i;

	for (i = 0; i < g->nstatus; i++)
		if (g->status[i].ipc_id == id)
			break;
	if (i == g->nstatus)
		return;
	st = g->status[i];
	memmove(&g->status[i], &g->status[i + 1],
	    (g->nstatus - i - 1) * sizeof(g->status[0]));
	g->nstatus--;
	if (error != 0)
		log_warnx("dns: client %s: tunneld refused the translations "
			  "of %s: %s",
		    st.client_id, st.domain, strerror(error));
	session_gateway_domain_status(s, st.client_id, st.resource_id,
	    st.domain, st.active && error == 0);
}

/* tunneld answered an IPC_CLIENT_PEER: tell the portal, or log why not. */
static bool
session_gateway_state_ack(struct session *s, uint32_t id,
    const struct ipc_state_ack *ack)
{
	struct session_gateway	*g = session_role_state(s);
	struct pending		 p;
	size_t			 i;

	if (ack->type == IPC_GW_DNS_MAP) {
		session_gateway_dns_ack(s, id, ack->error);
		return (true);
	}
	if (ack->type != IPC_CLIENT_PEER)
		return (false);
	for (i = 0; i < g->npending; i++)
		if (g->pending[i].ipc_id == id)
			break;
	if (i == g->npending) {
		log_debug("portal: tunneld answered a forgotten authorization");
		return (true);
	}
	p = g->pending[i];
	g->pending[i] = g->pending[--g->npending];
	if (ack->error != 0)
		log_warnx("portal: tunneld refused client %s for resource %s: "
		    "%s; the portal will report the gateway offline",
		    p.client_id, p.resource_id, strerror(ack->error));
	else {
		session_gateway_add_grant(s, p.client_id, p.resource_id,
		    p.expires_at);
		session_gateway_prune_clients(g);
		session_gateway_set_client(g, p.client_id, &p.ipv4, &p.ipv6);
		/* A ref from an older connection means nothing now. */
		if (session_connected(s)) {
			log_info("portal: client %s is ready for resource %s",
			    p.client_id, p.resource_id);
			session_push(s, PORTAL_EV_GW_AUTHORIZATION_CREATED,
			    portal_msg_authorization_created(p.ref));
		} else
			log_info("portal: client %s is ready for resource %s, "
			    "but the connection that asked is gone",
			    p.client_id, p.resource_id);
	}
	free(p.ref);
	return (true);
}

/* The refs of an older connection are void once we joined again. */
static void
session_gateway_joined(struct session *s)
{
	struct session_gateway	*g = session_role_state(s);

	while (g->npending > 0)
		free(g->pending[--g->npending].ref);
}

/* Filters changed; when tunneld cannot take them, access goes instead. */
static void
session_gateway_on_resource_updated(struct session *s,
    const struct portal_resource *r)
{
	struct session_gateway	*g = session_role_state(s);
	struct ipc_gw_resource	 gr;
	size_t			 i;

	session_gateway_dns_pattern(s, r);
	if (session_gateway_resource(r, &gr)) {
		session_ipc(s, IPC_GW_RESOURCE, &gr, sizeof(gr));
		log_info("portal: resource %s updated", r->id);
		return;
	}
	log_warnx("portal: resource %s now has %zu port ranges, more than "
	    "fzc's gateway takes (%d): its clients lose access", r->id,
	    r->nfilters, IPC_MAX_FILTERS);
	for (i = g->ngrants; i > 0; i--)
		if (strcmp(g->grants[i - 1].resource_id, r->id) == 0)
			session_gateway_ship_access_del(s,
			    g->grants[i - 1].client_id, r->id);
}

static bool
session_gateway_message(struct session *s, struct portal_msg *m)
{
	switch (m->type) {
	case PORTAL_MSG_CREATE_AUTHZ:
		session_gateway_on_create_authz(s, &m->u.gw_authz);
		return (true);
	case PORTAL_MSG_REJECT_ACCESS:
		log_info("portal: access of client %s to resource %s revoked",
		    m->u.access.client_id, m->u.access.resource_id);
		session_gateway_ship_access_del(s, m->u.access.client_id,
		    m->u.access.resource_id);
		return (true);
	case PORTAL_MSG_RESOURCE_UPDATED:
		session_gateway_on_resource_updated(s, &m->u.resource);
		return (true);
	default:
		return (false);
	}
}

static int
session_gateway_decode(const char *event, json_t *payload,
    struct portal_msg *m)
{
	const char	*why;
	int		 rc;

	if ((rc = portal_msg_decode_gateway(event, payload, m, &why)) != -1)
		return (rc);
	/* The portal tells the client "offline" after 15 s. */
	if (strcmp(event, "create_authorization") == 0)
		log_warnx("portal: create_authorization refused: %s", why);
	else
		log_warnx("portal: malformed %s dropped: %s", event, why);
	return (-1);
}

/* A run of changes for one client goes out as one broadcast. */
static json_t *
session_gateway_candidates(const char *client_id, const char *const *c,
    size_t n, bool invalidate, const char **event)
{
	*event = invalidate ? PORTAL_EV_GW_INVALIDATE_CANDIDATES :
	    PORTAL_EV_GW_CANDIDATES;
	return (portal_msg_client_candidates(&client_id, 1, c, n));
}

static void
session_gateway_status(struct session *s, json_t *o)
{
	struct session_gateway	*g = session_role_state(s);

	json_object_set_new(o, "authorizations",
	    json_integer((json_int_t)g->ngrants));
}

static void *
session_gateway_new(struct session *s)
{
	(void)s;
	return (xcalloc(1, sizeof(struct session_gateway)));
}

static void
session_gateway_free(void *arg)
{
	struct session_gateway	*g = arg;

	while (g->npending > 0)
		free(g->pending[--g->npending].ref);
	/* First: lookups still running end, with the state still here. */
	dns_resolve_free(g->resolver);
	dns_gateway_free(g->server);
	free(g->clients);
	free(g->grants);
	while (g->ndns > 0)
		free(g->dns[--g->ndns].pattern);
	free(g->dns);
	free(g);
}

const struct session_role session_gateway_role = {
	.name = "gateway",
	.gateway = true,
	.batch_ns = BATCH_WINDOW_NS,
	.decode = session_gateway_decode,
	.new = session_gateway_new,
	.free = session_gateway_free,
	.init = session_gateway_init,
	.joined = session_gateway_joined,
	.message = session_gateway_message,
	.state_ack = session_gateway_state_ack,
	.candidates = session_gateway_candidates,
	.status = session_gateway_status,
	.p2p = session_gateway_p2p,
};
