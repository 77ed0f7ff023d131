/*
 * client.c: the client role in fzc-tunneld. What controld must not hold
 * (the WireGuard private key, the token, the device id) is role.c's, as
 * in the gateway role. It keeps the state controld derives from the
 * portal (tunnel addresses, CIDR routes, relays, gateways), validated and
 * acknowledged.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/timer.h"
#include "common/util.h"
#include "tunneld/conn.h"
#include "tunneld/device.h"
#include "tunneld/iphdr.h"
#include "tunneld/netlink.h"
#include "tunneld/role.h"
#include "tunneld/sentinel.h"
#include "tunneld/sysdns.h"

#define CLIENT_MAX_ROUTES	4096
#define CLIENT_MAX_GATEWAYS	256

/*
 * A name of a DNS resource, by the number controld gave it (PROTOCOL
 * 4.6): which of its proxy IPs are routed, and whether its gateway took
 * it (DomainStatus "Active"). Until then packets to it stay held,
 * authorized or not: the gateway would refuse them.
 */
struct client_name {
	char			 resource_id[IPC_ID_MAX];
	uint8_t			 routed;	/* bit i: proxy IP i */
	bool			 active;
	char			*name;		/* for a restarted controld */
};

/* An authorized gateway, its connection, and the resources it serves us. */
struct client_gateway {
	struct role_peer	 rp;		/* first: id and connection */
	struct ipc_gateway_peer	 peer;		/* the first authorization */
	char			(*resources)[IPC_ID_MAX];
	size_t			 nresources;
};

struct client {
	struct role		 r;		/* first: the base */
	struct ipc_route	*routes;
	size_t			 nroutes;
	bool			 internet;	/* the saved switch */
	int			 default_routes;	/* 0/0 and ::/0 in */
	struct ipc_dns_config	 dns;		/* the system's, while up */
	struct client_name	*names;		/* by number */
	size_t			 nnames;
};

/* The client role's operations, below; a struct role of theirs is ours. */
static const struct role_ops	client_ops;

static struct client *
client_of(struct role *r)
{
	return ((struct client *)r);
}

/*
 * The Internet resource's default routes live in a table of their own,
 * which rules send everything to but fzc's own marked sockets; the main
 * table still wins for anything more specific than a default route. Every
 * other route into the tunnel is in FZC_TABLE_TUNNEL, before the main
 * table: a resource wins over a LAN route to the same addresses.
 */
#define CLIENT_TABLE		FZC_FWMARK
#define CLIENT_RULE_MAIN	32000
#define CLIENT_RULE_TABLE	32001

static void
client_internet_path(struct client *c, char *path, size_t len)
{
	snprintf(path, len, "%s/internet-resource", c->r.opt.state_dir);
}

static void
client_load_internet(struct client *c)
{
	char	 path[512], buf[8] = "";
	FILE	*f;

	client_internet_path(c, path, sizeof(path));
	if ((f = fopen(path, "re")) == NULL) {
		if (errno != ENOENT)
			log_warn("reading %s", path);
		return;
	}
	if (fgets(buf, sizeof(buf), f) != NULL)
		c->internet = strncmp(buf, "on", 2) == 0;
	fclose(f);
}

/* Saved by rename, so that a crash leaves the old setting or the new. */
static int
client_save_internet(struct client *c, bool on)
{
	char	 path[512];

	client_internet_path(c, path, sizeof(path));
	if (util_save_file(path, on ? "on\n" : "off\n", 0644) == -1)
		return (errno);
	c->internet = on;
	log_info("Internet resource turned %s", on ? "on" : "off");
	return (0);
}

struct role *
client_new(struct event_base *base, const struct role_options *opt)
{
	struct client	*c;

	c = xcalloc(1, sizeof(*c));
	role_init(&c->r, &client_ops, base, opt);
	role_identity_init(&c->r);
	role_watch_network(&c->r);
	client_load_internet(c);
	return (&c->r);
}

/*
 * The names controld numbered before it restarted, as "k resource name"
 * lines ("-": no resource routes it now), so that each keeps its proxy
 * IPs: applications and the gateways still use them.
 */
static int
client_send_names(struct client *c, struct ipc_chan *ch)
{
	struct ipc_empty	 e;
	FILE			*f;
	char			*buf = NULL;
	size_t			 len = 0, k;
	int			 fd = -1, rc;

	if ((f = open_memstream(&buf, &len)) == NULL) {
		log_warn("the names of DNS resources for controld");
		return (0);
	}
	for (k = 0; k < c->nnames; k++)
		if (c->names[k].name != NULL)
			fprintf(f, "%zu %s %s\n", k,
			    c->names[k].routed != 0 ? c->names[k].resource_id :
						      "-",
			    c->names[k].name);
	if (fclose(f) != 0 ||
	    (len > 0 && (fd = util_sealed_memfd("fzc-names", buf, len)) == -1))
		log_warn("the names of DNS resources for controld");
	free(buf);
	if (fd == -1)
		return (0);
	memset(&e, 0, sizeof(e));
	rc = ipc_chan_send(ch, IPC_PROXY_NAMES, 0, &e, sizeof(e), fd);
	close(fd);
	return (rc);
}

/* Sent after every hello: a restarted controld starts from scratch. */
static int
client_configure(struct role *r, struct ipc_chan *ch)
{
	struct ipc_portal_config	 pc;

	struct ipc_empty		 e;
	int				 fd, rc;

	/* First: controld forwards to these resolvers from the start. */
	if (r->opt.sysdns != NULL) {
		if ((fd = sysdns_original_fd(r->opt.sysdns)) == -1)
			log_warn("dns: the system's resolvers for controld");
		else {
			memset(&e, 0, sizeof(e));
			rc = ipc_chan_send(ch, IPC_SYSTEM_RESOLV, 0, &e,
			    sizeof(e), fd);
			close(fd);
			if (rc == -1)
				return (-1);
		}
	}
	role_portal_config(r, IPC_ROLE_CLIENT, &pc);
	pc.internet = client_of(r)->internet;
	if (role_send_config(r, ch, &pc) == -1)
		return (-1);
	/* After the role, before any query: controld binds them to it. */
	return (client_send_names(client_of(r), ch));
}

static int
client_route_index(struct client *c, const struct ipc_route *r)
{
	size_t	 i;

	for (i = 0; i < c->nroutes; i++)
		if (strcmp(c->routes[i].resource_id, r->resource_id) == 0 &&
		    memcmp(&c->routes[i].prefix, &r->prefix,
		    sizeof(r->prefix)) == 0)
			return ((int)i);
	return (-1);
}

/* The role's peers are our gateways, their struct role_peer first. */
static struct client_gateway *
client_gateway(struct client *c, const char *id)
{
	return ((struct client_gateway *)role_peer_find(&c->r, id));
}

static bool
client_gateway_serves(const struct client_gateway *g, const char *resource)
{
	size_t	 i;

	for (i = 0; i < g->nresources; i++)
		if (strcmp(g->resources[i], resource) == 0)
			return (true);
	return (false);
}

/*
 * The gateway's WireGuard peer routes its tunnel IPs and its resources'
 * routes, and the names of them it took; what was held for those follows.
 */
static void
client_gateway_routes(struct client *c, struct client_gateway *g)
{
	struct device	*dev = c->r.tun.dev;
	struct peer	*wg = conn_peer(g->rp.conn);
	size_t		 i;

	(void)device_add_allowed_ip(dev, wg, &g->peer.gateway_ipv4);
	(void)device_add_allowed_ip(dev, wg, &g->peer.gateway_ipv6);
	for (i = 0; i < c->nroutes; i++) {
		if (!client_gateway_serves(g, c->routes[i].resource_id))
			continue;
		(void)device_add_allowed_ip(dev, wg, &c->routes[i].prefix);
		device_claim_held(dev, wg, c->routes[i].resource_id,
		    &c->routes[i].prefix);
	}
	for (i = 0; i < c->nnames; i++)
		if (c->names[i].active &&
		    client_gateway_serves(g, c->names[i].resource_id))
			device_proxy_gateway(dev, (uint32_t)i, wg);
}

/*
 * IPC_PROXY_STATE: the gateway of the resource took a name's proxy IPs,
 * which now go to it, or refused them, and what waits for them goes.
 */
static void
client_proxy_state(struct client *c, const struct ipc_proxy_state *m)
{
	struct client_gateway	*g;
	struct client_name	*n;
	long			 k;
	size_t			 i;

	k = ipc_proxy_name(m->ips[0].family, m->ips[0].addr, NULL);
	if (c->r.tun.dev == NULL || k < 0 || (size_t)k >= c->nnames)
		return;
	n = &c->names[k];
	if (n->routed == 0 || strcmp(n->resource_id, m->resource_id) != 0)
		return;
	if (!m->active) {
		device_proxy_drop(c->r.tun.dev, (uint32_t)k, n->resource_id);
		return;
	}
	n->active = true;
	for (i = 0; i < c->r.npeers; i++) {
		g = (struct client_gateway *)c->r.peers[i];
		if (g->rp.conn != NULL &&
		    client_gateway_serves(g, m->resource_id))
			device_proxy_gateway(c->r.tun.dev, (uint32_t)k,
			    conn_peer(g->rp.conn));
	}
}

/* Room for name k. */
static void
client_names_grow(struct client *c, size_t k)
{
	size_t	 size;

	if (k < c->nnames)
		return;
	size = 2 * c->nnames > k ? 2 * c->nnames : k + 1;
	c->names = xreallocarray(c->names, size, sizeof(*c->names));
	memset(c->names + c->nnames, 0, (size - c->nnames) * sizeof(*c->names));
	c->nnames = size;
}

/* IPC_PROXY_NAME: what controld calls name k, kept for its next start. */
static void
client_proxy_name(struct client *c, const struct ipc_proxy_name *m)
{
	struct client_name	*n;

	client_names_grow(c, m->k);
	n = &c->names[m->k];
	free(n->name);
	n->name = xstrdup(m->name);
	if (n->routed == 0)
		memcpy(n->resource_id, m->resource_id, sizeof(n->resource_id));
}

/*
 * A route to a name's proxy IP, in or out: the name's, not the routing
 * table's (the proxy ranges go to the device as a whole).
 */
static int
client_name_route(struct client *c, const struct ipc_route *r, bool add)
{
	struct client_name	*n;
	unsigned		 which;
	long			 k;
	uint8_t			 bit;

	k = ipc_proxy_name(r->prefix.family, r->prefix.addr, &which);
	bit = 1u << which;
	if (add)
		client_names_grow(c, (size_t)k);
	if ((size_t)k >= c->nnames)
		return (ENOENT);
	n = &c->names[k];
	if (add) {
		if (n->routed != 0 &&
		    strcmp(n->resource_id, r->resource_id) != 0)
			return (EBUSY);
		if (n->routed & bit)
			return (EEXIST);
		if (n->routed == 0) {
			memcpy(n->resource_id, r->resource_id,
			    sizeof(n->resource_id));
			n->active = false;
		}
		n->routed |= bit;
	} else {
		if ((n->routed & bit) == 0 ||
		    strcmp(n->resource_id, r->resource_id) != 0)
			return (ENOENT);
		n->routed &= ~bit;
		/* A name that comes back must be taken by a gateway again. */
		if (n->routed == 0)
			n->active = false;
	}
	if (c->r.tun.dev != NULL)
		(void)device_proxy_route(c->r.tun.dev, (uint32_t)k,
		    r->resource_id, which, add);
	return (0);
}

/* A new device: the names' routes go into its map. */
static void
client_names_up(struct client *c)
{
	unsigned	 i;
	size_t		 k;

	for (k = 0; k < c->nnames; k++)
		for (i = 0; i < IPC_PROXY_IPS; i++)
			if (c->names[k].routed & (1u << i))
				(void)device_proxy_route(c->r.tun.dev,
				    (uint32_t)k, c->names[k].resource_id, i,
				    true);
}

static void
client_gateway_free(struct client *c, struct client_gateway *g)
{
	role_peer_remove(&c->r, &g->rp);
	conn_free(g->rp.conn);
	free(g->resources);
	explicit_bzero(g, sizeof(*g));
	free(g);
}

/* The role lost the gateway: it goes with what it served us. */
static void
client_drop(struct role *r, struct role_peer *p)
{
	client_gateway_free(client_of(r), (struct client_gateway *)p);
}

static int
client_gateway_peer(struct client *c, const struct ipc_gateway_peer *p)
{
	struct client_gateway	*g;
	const char		*why;

	if (c->r.conns == NULL)
		return (EAGAIN);
	if ((g = client_gateway(c, p->gateway_id)) == NULL) {
		g = role_peer_new(&c->r, p->gateway_id, sizeof(*g));
		if (g == NULL)
			return (ENOSPC);
		g->peer = *p;
		g->rp.conn = conn_new(c->r.conns,
		    &CONN_PARAMS_OF(p, p->gateway_id), &why);
		if (g->rp.conn == NULL) {
			log_warnx("gateway %s: %s", p->gateway_id, why);
			client_gateway_free(c, g);
			return (EINVAL);
		}
	}
	/* Another resource through a gateway already connected reuses it. */
	if (!client_gateway_serves(g, p->resource_id)) {
		g->resources = xreallocarray(g->resources, g->nresources + 1,
		    sizeof(*g->resources));
		memcpy(g->resources[g->nresources++], p->resource_id,
		    IPC_ID_MAX);
	}
	client_gateway_routes(c, g);
	return (0);
}

static void
client_need_authz(void *arg, const char *resource_id)
{
	struct client		*c = arg;
	struct ipc_chan		*ch = c->r.chan;
	struct ipc_resource_id	 r;

	memset(&r, 0, sizeof(r));
	snprintf(r.id, sizeof(r.id), "%s", resource_id);
	log_debug("first packet for resource %s: asking controld",
	    resource_id);
	if (ch == NULL || ipc_chan_send(ch, IPC_NEED_AUTHZ, 0, &r, sizeof(r),
	    -1) == -1)
		log_warnx("cannot tell controld about resource %s",
		    resource_id);
}

/* A worker handed over a query to a sentinel: controld answers it. */
static void
client_dns_query(void *arg, const uint8_t *pkt, size_t len)
{
	struct client	*c = arg;
	struct ipc_dns	*q;

	q = xcalloc(1, sizeof(*q));
	if (sentinel_query(pkt, len, q) == -1)
		log_debug("dropped a packet to a sentinel: no DNS query");
	else if (c->r.chan == NULL ||
	    ipc_chan_send(c->r.chan, IPC_DNS_QUERY, 0, q, sizeof(*q), -1) == -1)
		log_debug("dropped a DNS query: controld is not there");
	free(q);
}

/* controld's answer to an application, from the sentinel it asked. */
static void
client_dns_reply(struct client *c, const struct ipc_dns *r)
{
	const struct ipc_tun_addresses	*a = &c->r.addresses;
	uint8_t				 pkt[IP6_HDR_LEN + 8 + IPC_DNS_MAX];
	size_t				 n;

	/* Our own addresses only: the device may have moved meanwhile. */
	if (c->r.tun.dev == NULL || !c->r.have_addresses ||
	    memcmp(r->client.addr,
		r->client.family == AF_INET ? a->ipv4.addr : a->ipv6.addr,
		r->client.family == AF_INET ? 4 : 16) != 0) {
		log_debug("DNS answer for an address not ours, dropped");
		return;
	}
	if ((n = sentinel_reply(r, pkt, sizeof(pkt))) == 0 ||
	    device_tun_write(c->r.tun.dev, pkt, n) == -1)
		log_debug("DNS answer not written to the tunnel device");
}

/*
 * The ranges of PROTOCOL 4.5 go into the tunnel: proxy IPs and sentinels
 * (100.100.111.0/24 is inside 100.96.0.0/11), so that nothing meant for
 * them leaves by another route, and the device ranges (role.c), where the
 * gateways' tunnel addresses answer SRV and TXT queries (port 53535,
 * controld's dns_tunnel.c).
 */
static void
client_tunnel_routes(struct client *c)
{
	static const struct ipc_prefix	 r[] = {
		{ AF_INET, 11, { 0, 0 }, { 100, 96 } },
		{ AF_INET6, 107, { 0, 0 },
		    { 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11, 0x80 } },
		{ AF_INET6, 120, { 0, 0 },
		    { 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11, 0x80, 0x00, 0x01,
			0x00, 0x01, 0x00, 0x01, 0x11 } },
	};

	(void)role_tun_routes(&c->r, r, sizeof(r) / sizeof(r[0]));
}

/*
 * The tunnel device comes up with the first tunnel addresses the portal
 * gives; later ones (the portal moved the device) move the device.
 */
/*
 * The system's resolver follows controld's configuration while the device
 * is up: before, the sentinels lead nowhere.
 */
static int
client_system_dns(struct client *c)
{
	struct role	*r = &c->r;
	int		 error;

	if (r->opt.sysdns == NULL || r->tun.dev == NULL ||
	    sysdns_mode(r->opt.sysdns) == SYSDNS_DISABLED)
		return (0);
	error = sysdns_apply(r->opt.sysdns, r->tun.ifindex, &c->dns);
	if (error != 0)
		log_warnx("dns: configuring the system's resolver (%s): %s",
		    sysdns_mode_name(sysdns_mode(r->opt.sysdns)),
		    strerror(error));
	else if (c->dns.n > 0)
		log_info("dns: the system's resolver asks fzc (%s)",
		    sysdns_mode_name(sysdns_mode(r->opt.sysdns)));
	return (error);
}

static int
client_device_up(struct client *c)
{
	int	 error;

	if ((error = role_tun_up(&c->r)) != 0)
		return (error);
	device_set_authz_cb(c->r.tun.dev, client_need_authz, c);
	device_set_dns_cb(c->r.tun.dev, client_dns_query, c);
	client_tunnel_routes(c);
	role_conns_new(&c->r, true);
	(void)client_system_dns(c);
	return (0);
}

/*
 * New tunnel addresses. Routes and rules name the device, not them, and
 * stay; every gateway knows us by the old ones and goes: the next packet
 * for one of its resources asks the portal, which tells the gateway the
 * new ones.
 */
static int
client_moved(struct client *c, const struct ipc_tun_addresses *a)
{
	int	 error;

	if (memcmp(&c->r.addresses, a, sizeof(*a)) == 0)
		return (0);
	if ((error = role_tun_move(&c->r, a)) != 0)
		return (error);
	if (c->r.npeers > 0)
		log_info("%zu gateways knew the old tunnel addresses; "
		    "dropped",
		    c->r.npeers);
	while (c->r.npeers > 0)
		client_drop(&c->r, c->r.peers[c->r.npeers - 1]);
	return (0);
}

/* The two rules go in with the first default route, out with the last. */
static int
client_rules(struct client *c, bool add)
{
	static const int	 fams[2] = { AF_INET, AF_INET6 };
	struct netlink		*nl = c->r.tun.nl;
	int			 i, rc = 0;

	for (i = 0; i < 2 && rc == 0; i++) {
		if (add) {
			if ((rc = netlink_rule_add(nl, fams[i], 0, false, 0,
			    CLIENT_RULE_MAIN, true)) == 0)
				rc = netlink_rule_add(nl, fams[i], FZC_FWMARK,
				    true, CLIENT_TABLE, CLIENT_RULE_TABLE,
				    false);
		} else {
			if ((rc = netlink_rule_del(nl, fams[i], FZC_FWMARK,
			    true, CLIENT_TABLE, CLIENT_RULE_TABLE, false)) == 0)
				rc = netlink_rule_del(nl, fams[i], 0, false, 0,
				    CLIENT_RULE_MAIN, true);
		}
	}
	return (rc);
}

static bool
client_prefix_routed(const struct client *c, const struct ipc_prefix *p)
{
	size_t	 i;

	for (i = 0; i < c->nroutes; i++)
		if (memcmp(&c->routes[i].prefix, p, sizeof(*p)) == 0)
			return (true);
	return (false);
}

static int
client_route(struct client *c, const struct ipc_route *r, bool add)
{
	const struct ipc_prefix	*p = &r->prefix;
	struct role_tun		*t = &c->r.tun;
	uint32_t		 table = FZC_TABLE_TUNNEL;
	int			 rc;

	if (t->dev == NULL || t->nl == NULL)
		return (0);
	if (p->prefixlen == 0)
		table = CLIENT_TABLE;
	if (add) {
		if (device_add_resource(t->dev, p, r->resource_id) == -1)
			return (EEXIST);
		rc = netlink_route_add(t->nl, t->ifindex, p->family,
		    p->addr, p->prefixlen, table, 0);
		if (rc == 0 && table == CLIENT_TABLE &&
		    c->default_routes++ == 0 &&
		    (rc = client_rules(c, true)) != 0)
			log_warnx("Internet resource rules: %s",
			    strerror(-rc));
	} else {
		device_del_resource(t->dev, p, r->resource_id);
		/* Another resource with the same address keeps the route. */
		if (client_prefix_routed(c, p))
			return (0);
		rc = netlink_route_del(t->nl, t->ifindex, p->family,
		    p->addr, p->prefixlen, table, 0);
		if (rc == 0 && table == CLIENT_TABLE &&
		    --c->default_routes == 0 &&
		    (rc = client_rules(c, false)) != 0)
			log_warnx("Internet resource rules: %s",
			    strerror(-rc));
	}
	/* Another resource may hold the same route: that one keeps it. */
	return (rc == -EEXIST || rc == -ENOENT ? 0 : -rc);
}

/* Keeps one state message; returns the errno to acknowledge it with. */
static int
client_state(struct role *r, const struct ipc_msg *msg)
{
	struct client	*c = client_of(r);
	size_t		 j;
	int		 i, error;

	switch (msg->hdr.type) {
	case IPC_TUN_ADDRESSES:
		if (r->have_addresses)
			return (client_moved(c, &msg->u.tun_addresses));
		r->addresses = msg->u.tun_addresses;
		r->have_addresses = true;
		if ((error = client_device_up(c)) != 0) {
			/* Nothing half made stays; the next try starts over. */
			conns_free(r->conns);
			r->conns = NULL;
			role_tun_down(r);
			r->have_addresses = false;
			return (error);
		}
		for (j = 0; j < c->nroutes; j++)
			(void)client_route(c, &c->routes[j], true);
		client_names_up(c);
		return (0);
	case IPC_ROUTE_ADD:
		if (ipc_proxy_ip(&msg->u.route.prefix))
			return (client_name_route(c, &msg->u.route, true));
		if (client_route_index(c, &msg->u.route) != -1)
			return (EEXIST);
		if (c->nroutes == CLIENT_MAX_ROUTES)
			return (ENOSPC);
		c->routes = xreallocarray(c->routes, c->nroutes + 1,
		    sizeof(*c->routes));
		c->routes[c->nroutes++] = msg->u.route;
		return (client_route(c, &msg->u.route, true));
	case IPC_ROUTE_DEL:
		if (ipc_proxy_ip(&msg->u.route.prefix))
			return (client_name_route(c, &msg->u.route, false));
		if ((i = client_route_index(c, &msg->u.route)) == -1)
			return (ENOENT);
		c->routes[i] = c->routes[--c->nroutes];
		return (client_route(c, &msg->u.route, false));
	case IPC_GATEWAY_PEER:
		return (client_gateway_peer(c, &msg->u.gateway_peer));
	case IPC_INTERNET_SET:
		return (client_save_internet(c, msg->u.internet.enabled));
	case IPC_AUTHZ_FAILED:
		if (r->tun.dev != NULL)
			device_drop_held(r->tun.dev, msg->u.resource_id.id);
		return (0);
	case IPC_DNS_CONFIG:
		c->dns = msg->u.dns_config;
		return (client_system_dns(c));
	default:
		return (EINVAL);
	}
}

static void
client_describe(const struct ipc_msg *msg, char *buf, size_t size)
{
	const struct ipc_prefix	*p = NULL;
	char			 a[INET6_ADDRSTRLEN] = "";
	const char		*what = "";

	switch (msg->hdr.type) {
	case IPC_TUN_ADDRESSES:
		p = &msg->u.tun_addresses.ipv4;
		break;
	case IPC_ROUTE_ADD:
	case IPC_ROUTE_DEL:
		p = &msg->u.route.prefix;
		what = msg->u.route.resource_id;
		break;
	case IPC_RELAY_ADD:
		what = msg->u.relay.id;
		break;
	case IPC_GATEWAY_PEER:
		p = &msg->u.gateway_peer.gateway_ipv4;
		what = msg->u.gateway_peer.gateway_id;
		break;
	case IPC_REMOTE_CANDIDATE:
	case IPC_REMOTE_CANDIDATE_DEL:
		what = msg->u.candidate.candidate;
		break;
	case IPC_INTERNET_SET:
		what = msg->u.internet.enabled ? "on" : "off";
		break;
	case IPC_AUTHZ_FAILED:
		what = msg->u.resource_id.id;
		break;
	case IPC_DNS_CONFIG:
		if (msg->u.dns_config.n > 0)
			p = &msg->u.dns_config.servers[0];
		what = msg->u.dns_config.search_domain;
		break;
	default:
		what = msg->u.relay_id.id;
		break;
	}
	if (p != NULL)
		inet_ntop(p->family, p->addr, a, sizeof(a));
	snprintf(buf, size, "%s%s%u %s", a, p != NULL ? "/" : "",
	    p != NULL ? p->prefixlen : 0, what);
}

static bool
client_owns(uint16_t type)
{
	return (role_token_owns(type) || type == IPC_INTERNET_SET ||
	    type == IPC_DNS_REPLY || type == IPC_DNS_CONFIG ||
	    type == IPC_P2P_SEND || type == IPC_PROXY_STATE ||
	    type == IPC_PROXY_NAME ||
	    (type >= IPC_STATE_FIRST && type <= IPC_STATE_LAST));
}

/*
 * DNS answers, a name's proxy state and its name are not state: nothing
 * is acknowledged (tunneld keeps the names for controld's next start).
 */
static int
client_dispatch(struct role *r, struct ipc_chan *ch, const struct ipc_msg *msg,
    const char **why)
{
	if (msg->hdr.type == IPC_DNS_REPLY) {
		client_dns_reply(client_of(r), &msg->u.dns);
		return (0);
	}
	if (msg->hdr.type == IPC_PROXY_STATE) {
		client_proxy_state(client_of(r), &msg->u.proxy_state);
		return (0);
	}
	if (msg->hdr.type == IPC_PROXY_NAME) {
		client_proxy_name(client_of(r), &msg->u.proxy_name);
		return (0);
	}
	return (role_portal_dispatch(r, ch, msg, why));
}

static void
client_clear(struct role *r)
{
	struct client	*c = client_of(r);
	size_t		 k;

	while (r->npeers > 0)
		client_drop(r, r->peers[r->npeers - 1]);
	free(c->routes);
	for (k = 0; k < c->nnames; k++)
		free(c->names[k].name);
	free(c->names);
}

static const struct role_ops client_ops = {
	.name = "client role",
	.stray = "not a client-role message",
	.configure = client_configure,
	.owns = client_owns,
	.dispatch = client_dispatch,
	.clear = client_clear,
	.kind = "client",
	.peer_kind = "gateway",
	.tokens = true,
	.max_peers = CLIENT_MAX_GATEWAYS,
	.state = client_state,
	.describe = client_describe,
	.drop = client_drop,
};
