/* ipc.c: encoding, strict decoding and fd passing for the IPC channel. */
#include <sys/socket.h>

#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/ipc.h"

enum ipc_fd_rule {
	IPC_FD_NONE,
	IPC_FD_REQUIRED,
};

struct ipc_rule {
	const char		*name;
	size_t			 len;
	enum ipc_peer		 from;	/* 0: either side */
	enum ipc_fd_rule	 fd;
	const char		*(*check)(const struct ipc_msg *);
};

static const char *
check_hello(const struct ipc_msg *m)
{
	if (m->u.hello.pid == 0)
		return ("hello: pid 0");
	return (NULL);
}

static const char *
check_family_type(int32_t family, int32_t type)
{
	if (family != AF_INET && family != AF_INET6)
		return ("socket: family not AF_INET or AF_INET6");
	if (type != SOCK_STREAM && type != SOCK_DGRAM)
		return ("socket: type not SOCK_STREAM or SOCK_DGRAM");
	return (NULL);
}

static const char *
check_socket_request(const struct ipc_msg *m)
{
	return (check_family_type(m->u.socket_request.family,
	    m->u.socket_request.type));
}

static const char *
check_socket(const struct ipc_msg *m)
{
	if (m->u.socket.reserved != 0)
		return ("socket: reserved field not zero");
	return (check_family_type(m->u.socket.family, m->u.socket.type));
}

static const char *
check_socket_failed(const struct ipc_msg *m)
{
	if (m->u.socket_failed.error < 1 || m->u.socket_failed.error > 4095)
		return ("socket failed: error out of range");
	return (NULL);
}

/* memcmp against itself, one byte on: the DNS payloads' 4 KB are hot. */
static int
all_zero(const uint8_t *p, size_t len)
{
	return (len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0));
}

/* An interface address: host bits are meaningful and allowed. */
int
ipc_address_valid(const struct ipc_prefix *p)
{
	if (p->family == AF_INET)
		return (p->prefixlen <= 32 && all_zero(p->addr + 4, 12) &&
		    all_zero(p->reserved, sizeof(p->reserved)));
	if (p->family == AF_INET6)
		return (p->prefixlen <= 128 &&
		    all_zero(p->reserved, sizeof(p->reserved)));
	return (0);
}

/* A route or allowed IP: valid, and no bits set past the prefix length. */
int
ipc_prefix_valid(const struct ipc_prefix *p)
{
	unsigned	 i, bits;

	if (!ipc_address_valid(p))
		return (0);
	for (i = 0; i < 16; i++) {
		bits = i * 8 >= p->prefixlen ? 0 :
		    p->prefixlen - i * 8 >= 8 ? 8 : p->prefixlen - i * 8;
		if ((p->addr[i] & (uint8_t)(0xff >> bits)) != 0)
			return (0);
	}
	return (1);
}

int
ipc_sockaddr_valid(const struct ipc_sockaddr *sa)
{
	if (sa->port == 0)
		return (0);
	if (sa->family == AF_INET)
		return (sa->scope_id == 0 && all_zero(sa->addr + 4, 12));
	return (sa->family == AF_INET6);
}

static const char *
check_string(const char *s, size_t size, int printable)
{
	const char	*end;

	if ((end = memchr(s, '\0', size)) == NULL)
		return ("string not NUL-terminated");
	for (; printable && s < end; s++)
		if ((*s < 0x20 && *s != '\t') || *s == 0x7f)
			return ("string has control characters");
	return (NULL);
}

/* A UUID as the portal sends it: 36 characters, NUL-terminated. */
static const char *
check_id(const char *id)
{
	const char	*why;

	if ((why = check_string(id, IPC_ID_MAX, 1)) != NULL)
		return (why);
	if (strlen(id) != 36)
		return ("id is not a UUID");
	return (NULL);
}

static const char *
check_wg_file(const struct ipc_msg *m)
{
	return (check_string(m->u.wg_file.name, IPC_NAME_MAX, 1));
}

static const char *
check_wg_error(const struct ipc_msg *m)
{
	return (check_string(m->u.wg_error.text, IPC_TEXT_MAX, 1));
}

static const char *
check_wg_interface(const struct ipc_msg *m)
{
	const struct ipc_wg_interface	*i = &m->u.wg_interface;

	if (i->mtu < 576 || i->naddrs > 256 || i->npeers > IPC_WG_MAX_PEERS ||
	    i->reserved != 0)
		return ("wg interface: mtu, address or peer count out of range");
	return (NULL);
}

static const char *
check_wg_address(const struct ipc_msg *m)
{
	if (!ipc_address_valid(&m->u.wg_address.prefix))
		return ("wg address: invalid address");
	return (NULL);
}

static const char *
check_endpoint(uint32_t has, const struct ipc_sockaddr *sa)
{
	if (has > 1)
		return ("endpoint flag not 0 or 1");
	if (has ? !ipc_sockaddr_valid(sa) : !all_zero((const void *)sa,
	    sizeof(*sa)))
		return ("invalid endpoint");
	return (NULL);
}

static const char *
check_wg_peer(const struct ipc_msg *m)
{
	const struct ipc_wg_peer	*p = &m->u.wg_peer;

	if (p->peer_id >= IPC_WG_MAX_PEERS || p->reserved != 0)
		return ("wg peer: id out of range");
	return (check_endpoint(p->has_endpoint, &p->endpoint));
}

static const char *
check_wg_allowed_ip(const struct ipc_msg *m)
{
	if (m->u.wg_allowed_ip.peer_id >= IPC_WG_MAX_PEERS)
		return ("wg allowed ip: peer id out of range");
	if (!ipc_prefix_valid(&m->u.wg_allowed_ip.prefix))
		return ("wg allowed ip: invalid prefix");
	return (NULL);
}

static const char *
check_empty(const struct ipc_msg *m)
{
	if (m->u.empty.reserved != 0)
		return ("reserved field not zero");
	return (NULL);
}

static const char *
check_network_changed(const struct ipc_msg *m)
{
	const struct ipc_network_changed	*n = &m->u.network_changed;

	if (n->reserved != 0)
		return ("network changed: reserved field not zero");
	if (n->why < IPC_NET_LINK_UP || n->why > IPC_NET_MAX)
		return ("network changed: reason out of range");
	return (NULL);
}

static const char *
check_peer_stats(const struct ipc_msg *m)
{
	uint32_t	 has = m->u.peer_stats.has_endpoint;

	/* 2: the endpoint is the relay the path goes through. */
	return (check_endpoint(has == 2 ? 1 : has,
	    &m->u.peer_stats.endpoint));
}

static const char *
check_peer_path(const struct ipc_msg *m)
{
	const struct ipc_peer_path	*p = &m->u.peer_path;
	const char			*why;
	bool				 has;

	if ((why = check_id(p->id)) != NULL)
		return (why);
	if (p->state < IPC_PATH_CONNECTING || p->state > IPC_PATH_LOST)
		return ("peer path: state out of range");
	if (p->our_relay > (p->state == IPC_PATH_RELAYED))
		return ("peer path: relay flag without a relayed path");
	if (!all_zero(p->reserved, sizeof(p->reserved)))
		return ("peer path: reserved field not zero");
	has = p->state == IPC_PATH_DIRECT || p->state == IPC_PATH_RELAYED;
	return (check_endpoint(has, &p->endpoint));
}

static const char *
check_relay_stats(const struct ipc_msg *m)
{
	const struct ipc_relay_stats	*r = &m->u.relay_stats;
	const char			*why;
	int				 i;

	if ((why = check_string(r->id, sizeof(r->id), 1)) != NULL)
		return (why);
	if (!ipc_sockaddr_valid(&r->addr))
		return ("relay stats: invalid relay address");
	if (r->state > 6 || r->error > 6 || r->has_srflx > 1 ||
	    r->nrelayed > 2)
		return ("relay stats: field out of range");
	if ((why = check_endpoint(r->has_srflx, &r->srflx)) != NULL)
		return (why);
	for (i = 0; i < 2; i++)
		if ((why = check_endpoint(i < r->nrelayed, &r->relayed[i])) !=
		    NULL)
			return (why);
	return (NULL);
}

static const char *
check_worker_stats(const struct ipc_msg *m)
{
	if (m->u.worker_stats.reserved != 0)
		return ("reserved field not zero");
	return (NULL);
}

static const char *
check_portal_config(const struct ipc_msg *m)
{
	const struct ipc_portal_config	*c = &m->u.portal_config;
	const char			*why;

	if ((why = check_string(c->api_url, sizeof(c->api_url), 1)) ||
	    (why = check_string(c->ca_file, sizeof(c->ca_file), 1)) ||
	    (why = check_string(c->name, sizeof(c->name), 1)) ||
	    (why = check_string(c->device_id, sizeof(c->device_id), 1)))
		return (why);
	if (c->api_url[0] == '\0' || c->device_id[0] == '\0')
		return ("portal config: empty URL or device id");
	if (c->role != IPC_ROLE_CLIENT && c->role != IPC_ROLE_GATEWAY)
		return ("portal config: unknown role");
	if (c->internet > 1)
		return ("portal config: internet flag not 0 or 1");
	if (c->dns_control > IPC_DNS_CONTROL_RESOLVED ||
	    (c->role == IPC_ROLE_GATEWAY &&
		c->dns_control != IPC_DNS_CONTROL_NONE))
		return ("portal config: unknown DNS control");
	if (!all_zero(c->reserved, sizeof(c->reserved)))
		return ("portal config: reserved field not zero");
	return (NULL);
}

static const char *
check_internet(const struct ipc_msg *m)
{
	if (m->u.internet.enabled > 1)
		return ("internet: flag not 0 or 1");
	if (!all_zero(m->u.internet.reserved,
	    sizeof(m->u.internet.reserved)))
		return ("internet: reserved field not zero");
	return (NULL);
}

/* An API URL: a WebSocket URL, nothing else reaches curl. */
static const char *
check_api_url(const char *u)
{
	const char	*why;

	if ((why = check_string(u, IPC_URL_MAX, 1)) != NULL)
		return (why);
	if (*u != '\0' && strncmp(u, "wss://", 6) != 0 &&
	    strncmp(u, "ws://", 5) != 0)
		return ("settings: API URL not ws:// or wss://");
	if (strpbrk(u, " \t@") != NULL)
		return ("settings: API URL with white space or user info");
	return (NULL);
}

static const char *
check_settings_of(const struct ipc_settings *st, bool set)
{
	const char	*why;
	bool		 has;

	if ((why = check_api_url(st->api_url)) != NULL ||
	    (why = check_api_url(st->default_api_url)) != NULL)
		return (why);
	if (st->log_level > IPC_LOG_MAX)
		return ("settings: log level out of range");
	if (!all_zero(st->reserved, sizeof(st->reserved)))
		return ("settings: reserved field not zero");
	/* Only tunneld knows the defaults. */
	if (set)
		has = st->default_api_url[0] != '\0' ||
		    st->default_log_level != IPC_LOG_DEFAULT;
	else
		has = st->default_api_url[0] != '\0' &&
		    st->default_log_level != IPC_LOG_DEFAULT &&
		    st->default_log_level <= IPC_LOG_MAX;
	if (has != !set)
		return ("settings: defaults wrong for the direction");
	return (NULL);
}

static const char *
check_settings_set(const struct ipc_msg *m)
{
	return (check_settings_of(&m->u.settings, true));
}

static const char *
check_settings(const struct ipc_msg *m)
{
	return (check_settings_of(&m->u.settings, false));
}

static const char *
check_token(const struct ipc_msg *m)
{
	const char	*why;

	if ((why = check_string(m->u.token.token, IPC_TOKEN_MAX, 1)) != NULL)
		return (why);
	if (m->u.token.token[0] == '\0')
		return ("empty token");
	return (NULL);
}

static const char *
check_token_result(const struct ipc_msg *m)
{
	if (m->u.token_result.error < 0 || m->u.token_result.error > 4095 ||
	    m->u.token_result.have_token > 1)
		return ("token result out of range");
	return (NULL);
}

/* Tunnel addresses of a device: an IPv4 /32 and an IPv6 /128. */
static int
host_pair_valid(const struct ipc_prefix *v4, const struct ipc_prefix *v6)
{
	return (v4->family == AF_INET && v4->prefixlen == 32 &&
	    ipc_prefix_valid(v4) && v6->family == AF_INET6 &&
	    v6->prefixlen == 128 && ipc_prefix_valid(v6));
}

/* A peer's ICE credentials: ours, then the remote side's. */
static const char *
check_ice(const char *lufrag, const char *lpwd, const char *rufrag,
    const char *rpwd)
{
	const char	*why;

	if ((why = check_string(lufrag, IPC_CRED_MAX, 1)) ||
	    (why = check_string(lpwd, IPC_CRED_MAX, 1)) ||
	    (why = check_string(rufrag, IPC_CRED_MAX, 1)))
		return (why);
	return (check_string(rpwd, IPC_CRED_MAX, 1));
}

static const char *
check_tun_addresses(const struct ipc_msg *m)
{
	const struct ipc_tun_addresses	*a = &m->u.tun_addresses;

	if (!host_pair_valid(&a->ipv4, &a->ipv6))
		return ("tunnel addresses: not an IPv4 /32 and IPv6 /128");
	return (NULL);
}

static const char *
check_route(const struct ipc_msg *m)
{
	const char	*why;

	if ((why = check_id(m->u.route.resource_id)) != NULL)
		return (why);
	if (!ipc_prefix_valid(&m->u.route.prefix))
		return ("route: invalid prefix");
	return (NULL);
}

static const char *
check_relay(const struct ipc_msg *m)
{
	const struct ipc_relay	*r = &m->u.relay;
	const char		*why;

	if ((why = check_id(r->id)) ||
	    (why = check_string(r->username, sizeof(r->username), 1)) ||
	    (why = check_string(r->password, sizeof(r->password), 1)))
		return (why);
	if (!ipc_sockaddr_valid(&r->addr))
		return ("relay: invalid address");
	return (NULL);
}

static const char *
check_relay_id(const struct ipc_msg *m)
{
	return (check_id(m->u.relay_id.id));
}

static const char *
check_gateway_peer(const struct ipc_msg *m)
{
	const struct ipc_gateway_peer	*g = &m->u.gateway_peer;
	const char			*why;

	if ((why = check_id(g->gateway_id)) || (why = check_id(g->resource_id)))
		return (why);
	if ((why = check_ice(g->local_ufrag, g->local_pwd, g->remote_ufrag,
	    g->remote_pwd)) != NULL)
		return (why);
	if (!host_pair_valid(&g->gateway_ipv4, &g->gateway_ipv6))
		return ("gateway peer: addresses not an IPv4 /32 and IPv6 /128");
	return (NULL);
}

static const char *
check_candidate(const struct ipc_msg *m)
{
	const char	*why;

	if ((why = check_id(m->u.candidate.gateway_id)) ||
	    (why = check_string(m->u.candidate.candidate, IPC_CANDIDATE_MAX,
	    1)))
		return (why);
	if (strncmp(m->u.candidate.candidate, "candidate:", 10) != 0)
		return ("candidate: not an SDP candidate line");
	return (NULL);
}

static const char *
check_resource_id(const struct ipc_msg *m)
{
	return (check_id(m->u.resource_id.id));
}

static const char *
check_gateway_id(const struct ipc_msg *m)
{
	return (check_id(m->u.gateway_id.id));
}

static const char *
check_state_ack(const struct ipc_msg *m)
{
	uint32_t	 t = m->u.state_ack.type;

	if (!((t >= IPC_STATE_FIRST && t <= IPC_STATE_LAST) ||
	    t == IPC_INTERNET_SET || t == IPC_SETTINGS_SET ||
	    t == IPC_DNS_CONFIG || t == IPC_GW_DNS_MAP ||
	    (t >= IPC_GW_STATE_FIRST && t <= IPC_GW_STATE_LAST)) ||
	    m->u.state_ack.error < 0 || m->u.state_ack.error > 4095)
		return ("state ack out of range");
	return (NULL);
}

static const char *
check_filter(const struct ipc_filter *f)
{
	if (f->reserved != 0)
		return ("filter: reserved field not zero");
	switch (f->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		if (f->port_end == 0 || f->port_start > f->port_end)
			return ("filter: bad port range");
		return (NULL);
	case IPPROTO_ICMP:
		if (f->port_start != 0 || f->port_end != 0)
			return ("filter: icmp with ports");
		return (NULL);
	default:
		return ("filter: protocol not tcp, udp or icmp");
	}
}

static const char *
check_gw_resource_of(const struct ipc_gw_resource *r)
{
	const char	*why;
	size_t		 i;

	if ((why = check_id(r->id)) != NULL)
		return (why);
	if (!all_zero(r->reserved, sizeof(r->reserved)))
		return ("resource: reserved field not zero");
	if (r->type == IPC_RES_CIDR) {
		if (!ipc_prefix_valid(&r->prefix))
			return ("resource: invalid CIDR");
	} else if (r->type == IPC_RES_INTERNET || r->type == IPC_RES_DNS) {
		if (!all_zero((const void *)&r->prefix, sizeof(r->prefix)))
			return (r->type == IPC_RES_DNS ?
			    "resource: dns with a prefix" :
			    "resource: internet with a prefix");
	} else
		return ("resource: unknown type");
	if (r->nfilters > IPC_MAX_FILTERS)
		return ("resource: too many filters");
	for (i = 0; i < r->nfilters; i++)
		if ((why = check_filter(&r->filters[i])) != NULL)
			return (why);
	if (!all_zero((const void *)&r->filters[i],
	    (IPC_MAX_FILTERS - i) * sizeof(r->filters[0])))
		return ("resource: unused filter slot not zero");
	return (NULL);
}

static const char *
check_gw_resource(const struct ipc_msg *m)
{
	return (check_gw_resource_of(&m->u.gw_resource));
}

static const char *
check_client_peer(const struct ipc_msg *m)
{
	const struct ipc_client_peer	*c = &m->u.client_peer;
	const char			*why;

	if ((why = check_id(c->client_id)) != NULL)
		return (why);
	if ((why = check_ice(c->local_ufrag, c->local_pwd, c->remote_ufrag,
	    c->remote_pwd)) != NULL)
		return (why);
	if (!host_pair_valid(&c->client_ipv4, &c->client_ipv6))
		return ("client peer: addresses not an IPv4 /32 and IPv6 /128");
	if (c->expires_at <= 0)
		return ("client peer: expires_at not positive");
	return (check_gw_resource_of(&c->resource));
}

static const char *
check_access_of(const struct ipc_access *a)
{
	const char	*why;

	if ((why = check_id(a->client_id)) != NULL)
		return (why);
	return (check_id(a->resource_id));
}

static const char *
check_access(const struct ipc_msg *m)
{
	return (check_access_of(&m->u.access));
}

static const char *
check_authz_keep(const struct ipc_msg *m)
{
	const struct ipc_authz_keep	*k = &m->u.authz_keep;
	const char			*why;
	size_t				 i;

	if (k->reserved != 0)
		return ("authz keep: reserved field not zero");
	if (k->n > IPC_MAX_KEEP)
		return ("authz keep: count out of range");
	for (i = 0; i < k->n; i++)
		if ((why = check_access_of(&k->v[i])) != NULL)
			return (why);
	if (!all_zero((const void *)&k->v[i],
	    (IPC_MAX_KEEP - i) * sizeof(k->v[0])))
		return ("authz keep: unused slot not zero");
	return (NULL);
}

/* PROTOCOL 4.5: the sentinel ranges, IPv4 and IPv6. */
int
ipc_dns_sentinel(int family, const uint8_t *addr)
{
	static const uint8_t	 v4[3] = { 100, 100, 111 };
	static const uint8_t v6[15] = { 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11,
		0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x11, 0x00 };

	if (family == AF_INET)
		return (memcmp(addr, v4, sizeof(v4)) == 0);
	return (family == AF_INET6 && memcmp(addr, v6, sizeof(v6)) == 0);
}

/*
 * A DNS name as resolv.conf and systemd-resolved take it: labels of
 * letters, digits, '-' and '_', 1 to 63 bytes, dots between, no dot at
 * either end. Nothing else can end up in a configuration file.
 */
int
ipc_domain_valid(const char *s, size_t size)
{
	size_t	 len, label = 0, i;

	if ((len = strnlen(s, size)) == size || len == 0)
		return (false);
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0)
				return (false);
			label = 0;
		} else if (isalnum((unsigned char)s[i]) || s[i] == '-' ||
		    s[i] == '_') {
			if (++label > 63)
				return (false);
		} else
			return (false);
	}
	return (label > 0);
}

static const char *
check_dns_config(const struct ipc_msg *m)
{
	const struct ipc_dns_config	*c = &m->u.dns_config;
	size_t				 len;
	uint32_t			 i;

	if (c->n > IPC_DNS_MAX_SERVERS || c->reserved != 0)
		return ("dns config: count or reserved field out of range");
	for (i = 0; i < c->n; i++) {
		if (!ipc_address_valid(&c->servers[i]) ||
		    c->servers[i].prefixlen !=
		    (c->servers[i].family == AF_INET ? 32 : 128) ||
		    !ipc_dns_sentinel(c->servers[i].family, c->servers[i].addr))
			return ("dns config: a server that is not a sentinel");
	}
	for (; i < IPC_DNS_MAX_SERVERS; i++) {
		if (!all_zero((const void *)&c->servers[i],
		    sizeof(c->servers[i])))
			return ("dns config: unused server not zero");
	}
	if (c->search_domain[0] != '\0' &&
	    !ipc_domain_valid(c->search_domain, sizeof(c->search_domain)))
		return ("dns config: search domain not a DNS name");
	len = strnlen(c->search_domain, sizeof(c->search_domain));
	if (!all_zero((const uint8_t *)c->search_domain + len,
	    sizeof(c->search_domain) - len))
		return ("dns config: bytes after the search domain");
	return (NULL);
}

/*
 * A TCP segment between an application and a sentinel: its header fits,
 * its ports are the two ends' in the message's direction.
 */
static const char *
check_dns_tcp(bool query, const struct ipc_dns *d)
{
	const uint8_t	*t = d->data;
	uint16_t	 src = (uint16_t)(t[0] << 8 | t[1]);
	uint16_t	 dst = (uint16_t)(t[2] << 8 | t[3]);
	size_t		 off = (size_t)(t[12] >> 4) * 4;

	if (off < IPC_DNS_TCP_MIN || off > d->len)
		return ("dns: TCP header does not fit");
	if (d->client.port == 0 || src != (query ? d->client.port : 53) ||
	    dst != (query ? 53 : d->client.port))
		return ("dns: TCP ports are not the two ends'");
	return (NULL);
}

static const char *
check_dns(const struct ipc_msg *m)
{
	const struct ipc_dns	*d = &m->u.dns;

	if (!ipc_sockaddr_valid(&d->client) ||
	    !ipc_sockaddr_valid(&d->sentinel) ||
	    d->client.family != d->sentinel.family)
		return ("dns: invalid addresses");
	if (d->sentinel.port != 53 || d->sentinel.scope_id != 0 ||
	    d->client.scope_id != 0 ||
	    !ipc_dns_sentinel(d->sentinel.family, d->sentinel.addr))
		return ("dns: not a sentinel's port 53");
	if (d->flags != 0 && d->flags != IPC_DNS_TCP)
		return ("dns: unknown flags");
	if (d->len < (d->flags ? IPC_DNS_TCP_MIN : IPC_DNS_MIN) ||
	    d->len > IPC_DNS_MAX)
		return ("dns: length out of range");
	if (!all_zero(d->data + d->len, IPC_DNS_MAX - d->len))
		return ("dns: bytes past the length not zero");
	if (d->flags == IPC_DNS_TCP)
		return (check_dns_tcp(m->hdr.type == IPC_DNS_QUERY, d));
	return (NULL);
}

/* 100.96.0.0/11 and fd00:2021:1111:8000::/107: 21 bits of host each. */
#define PROXY_BITS		21
#define PROXY_V4_BASE		0x64600000u
#define PROXY_V4_SENTINELS	(0x64646f00u - PROXY_V4_BASE)

/*
 * PROTOCOL 4.6: controld numbers the proxy IPs of each family from 0, the
 * IPv4 ones from 100.96.0.1 with the sentinels' /24 skipped, the IPv6
 * ones from fd00:2021:1111:8000::, and gives name k the numbers 4k to
 * 4k+3 of both. tunneld finds a name from an address with the same sum.
 * Returns the number of addr, or -1: not a proxy IP.
 */
long
ipc_proxy_number(int family, const uint8_t *addr)
{
	static const uint8_t v6[13] = { 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11,
		0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };
	uint32_t	 off;

	if (family == AF_INET) {
		off = ((uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 |
			  (uint32_t)addr[2] << 8 | addr[3]) -
		    PROXY_V4_BASE;
		if (off == 0 || off >= 1u << PROXY_BITS ||
		    (off >= PROXY_V4_SENTINELS &&
			off < PROXY_V4_SENTINELS + 256))
			return (-1);
		return (off > PROXY_V4_SENTINELS ? off - 257 : off - 1);
	}
	/* The IPv6 sentinels are outside: their byte 9 is not 0. */
	if (family != AF_INET6 || memcmp(addr, v6, sizeof(v6)) != 0 ||
	    (addr[13] & 0xe0) != 0)
		return (-1);
	return ((long)addr[13] << 16 | (long)addr[14] << 8 | addr[15]);
}

/*
 * The number of the name a proxy IP belongs to, and which of the name's
 * IPC_PROXY_IPS addresses it is, or -1: not a name's proxy IP.
 */
long
ipc_proxy_name(int family, const uint8_t *addr, unsigned *which)
{
	long	 n;

	if ((n = ipc_proxy_number(family, addr)) == -1 ||
	    n / IPC_PROXY_PER_FAMILY >= IPC_PROXY_MAX_NAMES)
		return (-1);
	if (which != NULL)
		*which = (unsigned)(n % IPC_PROXY_PER_FAMILY) +
		    (family == AF_INET6 ? IPC_PROXY_PER_FAMILY : 0);
	return (n / IPC_PROXY_PER_FAMILY);
}

/* A host route to a name's proxy IP (PROTOCOL 4.5). */
int
ipc_proxy_ip(const struct ipc_prefix *p)
{
	return (ipc_prefix_valid(p) &&
	    p->prefixlen == (p->family == AF_INET ? 32 : 128) &&
	    ipc_proxy_name(p->family, p->addr, NULL) != -1);
}

static const char *
check_p2p(const struct ipc_msg *m)
{
	const struct ipc_p2p	*p = &m->u.p2p;
	const char		*why;

	if ((why = check_id(p->peer_id)) != NULL)
		return (why);
	if (p->event != IPC_P2P_ASSIGNED_IPS &&
	    p->event != IPC_P2P_DOMAIN_STATUS)
		return ("p2p: unknown event");
	if (!all_zero(p->reserved, sizeof(p->reserved)))
		return ("p2p: reserved field not zero");
	if (p->len == 0 || p->len > IPC_P2P_MAX)
		return ("p2p: length out of range");
	if (!all_zero(p->data + p->len, IPC_P2P_MAX - p->len))
		return ("p2p: bytes past the length not zero");
	return (NULL);
}

static const char *
check_proxy_state(const struct ipc_msg *m)
{
	const struct ipc_proxy_state	*s = &m->u.proxy_state;
	const char			*why;
	unsigned			 which = IPC_PROXY_IPS;
	int				 i;

	if ((why = check_id(s->resource_id)) != NULL)
		return (why);
	if (s->active > 1 || !all_zero(s->reserved, sizeof(s->reserved)))
		return ("proxy state: bad flag or reserved field");
	for (i = 0; i < IPC_PROXY_IPS; i++) {
		if (!ipc_proxy_ip(&s->ips[i]) ||
		    s->ips[i].family !=
			(i < IPC_PROXY_IPS / 2 ? AF_INET : AF_INET6) ||
		    ipc_proxy_name(s->ips[i].family, s->ips[i].addr, &which) !=
			ipc_proxy_name(s->ips[0].family, s->ips[0].addr,
			    NULL) ||
		    which != (unsigned)i)
			return ("proxy state: not the 8 proxy IPs of a name");
	}
	return (NULL);
}

/*
 * A word of text in a fixed field: printable, no space (it may go into a
 * line of text), NUL-terminated, zero after; lower case only if lower.
 */
int
ipc_word_valid(const char *s, size_t size, bool lower)
{
	size_t	 len, i;

	if ((len = strnlen(s, size)) == size ||
	    !all_zero((const uint8_t *)s + len, size - len))
		return (0);
	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~' ||
		    (lower && s[i] >= 'A' && s[i] <= 'Z'))
			return (0);
	return (1);
}

/* A name as the stub resolver keeps it: lower case, 1 to 253 bytes. */
int
ipc_proxy_name_valid(const char *s, size_t size)
{
	return (s[0] != '\0' && ipc_word_valid(s, size, true) &&
	    strlen(s) <= IPC_PROXY_NAME_MAX);
}

static const char *
check_gw_dns_pattern(const struct ipc_msg *m)
{
	const struct ipc_gw_dns_pattern	*p = &m->u.gw_dns_pattern;
	const char			*why;

	if ((why = check_id(p->id)) != NULL)
		return (why);
	if (!ipc_word_valid(p->pattern, sizeof(p->pattern), false))
		return ("dns pattern: not a word of printable text");
	return (NULL);
}

static const char *
check_gw_client(const struct ipc_msg *m)
{
	const struct ipc_gw_client	*c = &m->u.gw_client;
	const char			*why;

	if ((why = check_id(c->client_id)) != NULL)
		return (why);
	if (!host_pair_valid(&c->ipv4, &c->ipv6))
		return ("gateway client: addresses not an IPv4 /32 and IPv6 "
			"/128");
	return (NULL);
}

static const char *
check_proxy_name(const struct ipc_msg *m)
{
	const struct ipc_proxy_name	*n = &m->u.proxy_name;
	const char			*why;

	if ((why = check_id(n->resource_id)) != NULL)
		return (why);
	if (n->k >= IPC_PROXY_MAX_NAMES || n->reserved != 0)
		return ("proxy name: number out of range");
	if (!ipc_proxy_name_valid(n->name, sizeof(n->name)))
		return ("proxy name: not a lower-case name");
	return (NULL);
}

static const char *
check_gw_dns_map(const struct ipc_msg *m)
{
	const struct ipc_gw_dns_map	*g = &m->u.gw_dns_map;
	const struct ipc_prefix		*r;
	const char			*why;
	uint32_t			 i;

	if ((why = check_id(g->client_id)) != NULL ||
	    (why = check_id(g->resource_id)) != NULL)
		return (why);
	if (g->n == 0 || g->n > IPC_PROXY_IPS || g->reserved != 0)
		return ("dns map: count out of range");
	for (i = 0; i < g->n; i++) {
		r = &g->v[i].real;
		if (!ipc_proxy_ip(&g->v[i].proxy))
			return ("dns map: not a proxy IP");
		/* All zero: the proxy IP has no translation (any longer). */
		if (all_zero((const void *)r, sizeof(*r)))
			continue;
		if (!ipc_prefix_valid(r) || r->family != g->v[i].proxy.family ||
		    r->prefixlen != (r->family == AF_INET ? 32 : 128))
			return ("dns map: not a host of the proxy IP's family");
	}
	if (!all_zero((const void *)&g->v[i],
	    (IPC_PROXY_IPS - i) * sizeof(g->v[0])))
		return ("dns map: unused pair not zero");
	return (NULL);
}

/* A table, a message a line or two: clang-format would reflow it. */
/* clang-format off */
#define RULE(t, s, f, fd, c)	[t] = { #t, sizeof(s), f, fd, c }
static const struct ipc_rule ipc_rules[IPC_TYPE_MAX] = {
	RULE(IPC_HELLO, struct ipc_hello, 0, IPC_FD_NONE, check_hello),
	RULE(IPC_SOCKET_REQUEST, struct ipc_socket_request,
	    IPC_PEER_CONTROLD, IPC_FD_NONE, check_socket_request),
	RULE(IPC_SOCKET, struct ipc_socket, IPC_PEER_TUNNELD,
	    IPC_FD_REQUIRED, check_socket),
	RULE(IPC_SOCKET_FAILED, struct ipc_socket_failed, IPC_PEER_TUNNELD,
	    IPC_FD_NONE, check_socket_failed),
	RULE(IPC_WG_FILE, struct ipc_wg_file, IPC_PEER_TUNNELD,
	    IPC_FD_REQUIRED, check_wg_file),
	RULE(IPC_WG_ERROR, struct ipc_wg_error, IPC_PEER_CONTROLD,
	    IPC_FD_NONE, check_wg_error),
	RULE(IPC_WG_INTERFACE, struct ipc_wg_interface, IPC_PEER_CONTROLD,
	    IPC_FD_NONE, check_wg_interface),
	RULE(IPC_WG_ADDRESS, struct ipc_wg_address, IPC_PEER_CONTROLD,
	    IPC_FD_NONE, check_wg_address),
	RULE(IPC_WG_PEER, struct ipc_wg_peer, IPC_PEER_CONTROLD,
	    IPC_FD_NONE, check_wg_peer),
	RULE(IPC_WG_ALLOWED_IP, struct ipc_wg_allowed_ip, IPC_PEER_CONTROLD,
	    IPC_FD_NONE, check_wg_allowed_ip),
	RULE(IPC_WG_COMMIT, struct ipc_empty, IPC_PEER_CONTROLD,
	    IPC_FD_NONE, check_empty),
	RULE(IPC_STATS_REQUEST, struct ipc_empty, IPC_PEER_CONTROLD,
	    IPC_FD_NONE, check_empty),
	RULE(IPC_PEER_STATS, struct ipc_peer_stats, IPC_PEER_TUNNELD,
	    IPC_FD_NONE, check_peer_stats),
	RULE(IPC_PEER_PATH, struct ipc_peer_path, IPC_PEER_TUNNELD,
	    IPC_FD_NONE, check_peer_path),
	RULE(IPC_SETTINGS_SET, struct ipc_settings, IPC_PEER_CONTROLD,
	    IPC_FD_NONE, check_settings_set),
	RULE(IPC_SETTINGS, struct ipc_settings, IPC_PEER_TUNNELD,
	    IPC_FD_NONE, check_settings),
	RULE(IPC_WORKER_STATS, struct ipc_worker_stats, IPC_PEER_TUNNELD,
	    IPC_FD_NONE, check_worker_stats),
	RULE(IPC_STATS_END, struct ipc_empty, IPC_PEER_TUNNELD,
	    IPC_FD_NONE, check_empty),
	RULE(IPC_RELAY_STATS, struct ipc_relay_stats, IPC_PEER_TUNNELD,
	    IPC_FD_NONE, check_relay_stats),
	RULE(IPC_PORTAL_CONFIG, struct ipc_portal_config, IPC_PEER_TUNNELD,
	    IPC_FD_NONE, check_portal_config),
	RULE(IPC_TOKEN, struct ipc_empty, IPC_PEER_TUNNELD,
	    IPC_FD_REQUIRED, check_empty),
	RULE(IPC_TOKEN_DELETE, struct ipc_empty, IPC_PEER_CONTROLD,
	    IPC_FD_NONE, check_empty),
	RULE(IPC_TOKEN_STORE, struct ipc_token, IPC_PEER_CONTROLD,
	    IPC_FD_NONE, check_token),
	RULE(IPC_INTERNET_SET, struct ipc_internet, IPC_PEER_CONTROLD,
	    IPC_FD_NONE, check_internet),
	RULE(IPC_TOKEN_RESULT, struct ipc_token_result, IPC_PEER_TUNNELD,
	    IPC_FD_NONE, check_token_result),
	RULE(IPC_TUN_ADDRESSES, struct ipc_tun_addresses, IPC_PEER_CONTROLD,
	    IPC_FD_NONE, check_tun_addresses),
	RULE(IPC_ROUTE_ADD, struct ipc_route, IPC_PEER_CONTROLD,
	    IPC_FD_NONE, check_route),
	RULE(IPC_ROUTE_DEL, struct ipc_route, IPC_PEER_CONTROLD,
	    IPC_FD_NONE, check_route),
	RULE(IPC_RELAY_ADD, struct ipc_relay, IPC_PEER_CONTROLD,
	    IPC_FD_NONE, check_relay),
	RULE(IPC_RELAY_DEL, struct ipc_relay_id, IPC_PEER_CONTROLD,
	    IPC_FD_NONE, check_relay_id),
	RULE(IPC_GATEWAY_PEER, struct ipc_gateway_peer, IPC_PEER_CONTROLD,
	    IPC_FD_NONE, check_gateway_peer),
	RULE(IPC_REMOTE_CANDIDATE, struct ipc_candidate, IPC_PEER_CONTROLD,
	    IPC_FD_NONE, check_candidate),
	RULE(IPC_REMOTE_CANDIDATE_DEL, struct ipc_candidate,
	    IPC_PEER_CONTROLD, IPC_FD_NONE, check_candidate),
	RULE(IPC_STATE_ACK, struct ipc_state_ack, IPC_PEER_TUNNELD,
	    IPC_FD_NONE, check_state_ack),
	RULE(IPC_NEED_AUTHZ, struct ipc_resource_id, IPC_PEER_TUNNELD,
	    IPC_FD_NONE, check_resource_id),
	RULE(IPC_AUTHZ_FAILED, struct ipc_resource_id, IPC_PEER_CONTROLD,
	    IPC_FD_NONE, check_resource_id),
	RULE(IPC_LOCAL_CANDIDATE, struct ipc_candidate, IPC_PEER_TUNNELD,
	    IPC_FD_NONE, check_candidate),
	RULE(IPC_LOCAL_CANDIDATE_DEL, struct ipc_candidate, IPC_PEER_TUNNELD,
	    IPC_FD_NONE, check_candidate),
	RULE(IPC_NO_RELAYS, struct ipc_gateway_id, IPC_PEER_TUNNELD,
	    IPC_FD_NONE, check_gateway_id),
	RULE(IPC_NETWORK_CHANGED, struct ipc_network_changed,
	    IPC_PEER_TUNNELD, IPC_FD_NONE, check_network_changed),
	RULE(IPC_CLIENT_PEER, struct ipc_client_peer, IPC_PEER_CONTROLD,
	    IPC_FD_NONE, check_client_peer),
	RULE(IPC_ACCESS_DEL, struct ipc_access, IPC_PEER_CONTROLD,
	    IPC_FD_NONE, check_access),
	RULE(IPC_GW_RESOURCE, struct ipc_gw_resource, IPC_PEER_CONTROLD,
	    IPC_FD_NONE, check_gw_resource),
	RULE(IPC_AUTHZ_KEEP, struct ipc_authz_keep, IPC_PEER_CONTROLD,
	    IPC_FD_NONE, check_authz_keep),
	RULE(IPC_DNS_QUERY, struct ipc_dns, IPC_PEER_TUNNELD, IPC_FD_NONE,
	    check_dns),
	RULE(IPC_DNS_REPLY, struct ipc_dns, IPC_PEER_CONTROLD, IPC_FD_NONE,
	    check_dns),
	RULE(IPC_P2P_SEND, struct ipc_p2p, IPC_PEER_CONTROLD, IPC_FD_NONE,
	    check_p2p),
	RULE(IPC_P2P_RECV, struct ipc_p2p, IPC_PEER_TUNNELD, IPC_FD_NONE,
	    check_p2p),
	RULE(IPC_PROXY_STATE, struct ipc_proxy_state, IPC_PEER_CONTROLD,
	    IPC_FD_NONE, check_proxy_state),
	RULE(IPC_GW_DNS_MAP, struct ipc_gw_dns_map, IPC_PEER_CONTROLD,
	    IPC_FD_NONE, check_gw_dns_map),
	RULE(IPC_DNS_CONFIG, struct ipc_dns_config, IPC_PEER_CONTROLD,
	    IPC_FD_NONE, check_dns_config),
	RULE(IPC_SYSTEM_RESOLV, struct ipc_empty, IPC_PEER_TUNNELD,
	    IPC_FD_REQUIRED, check_empty),
	RULE(IPC_PROXY_NAME, struct ipc_proxy_name, IPC_PEER_CONTROLD,
	    IPC_FD_NONE, check_proxy_name),
	RULE(IPC_PROXY_NAMES, struct ipc_empty, IPC_PEER_TUNNELD,
	    IPC_FD_REQUIRED, check_empty),
	RULE(IPC_GW_DNS_PATTERN, struct ipc_gw_dns_pattern, 0, IPC_FD_NONE,
	    check_gw_dns_pattern),
	RULE(IPC_GW_CLIENT, struct ipc_gw_client, IPC_PEER_TUNNELD,
	    IPC_FD_NONE, check_gw_client),
};
#undef RULE
/* clang-format on */

/* Every payload fits one message. */
_Static_assert(sizeof(union ipc_payload) == IPC_MAX_PAYLOAD,
    "a payload struct outgrew IPC_MAX_PAYLOAD");

const char *
ipc_type_name(uint16_t type)
{
	if (type >= IPC_TYPE_MAX || ipc_rules[type].name == NULL)
		return ("IPC_UNKNOWN");
	return (ipc_rules[type].name);
}

size_t
ipc_encode(uint8_t *buf, size_t bufsz, enum ipc_type type, uint32_t id,
    const void *payload, size_t len)
{
	struct ipc_hdr	 hdr;

	if (len > IPC_MAX_PAYLOAD || sizeof(hdr) + len > bufsz)
		return (0);
	memset(&hdr, 0, sizeof(hdr));
	hdr.type = type;
	hdr.version = IPC_VERSION;
	hdr.len = (uint32_t)len;
	hdr.id = id;
	memcpy(buf, &hdr, sizeof(hdr));
	if (len > 0)
		memcpy(buf + sizeof(hdr), payload, len);
	return (sizeof(hdr) + len);
}

int
ipc_decode(enum ipc_peer self, const uint8_t *buf, size_t n, int has_fd,
    struct ipc_msg *msg, const char **why)
{
	const struct ipc_rule	*rule;

	if (n < sizeof(msg->hdr)) {
		*why = "shorter than the header";
		return (-1);
	}
	memcpy(&msg->hdr, buf, sizeof(msg->hdr));
	if (msg->hdr.version != IPC_VERSION) {
		*why = "wrong protocol version";
		return (-1);
	}
	if (msg->hdr.type >= IPC_TYPE_MAX ||
	    ipc_rules[msg->hdr.type].name == NULL) {
		*why = "unknown message type";
		return (-1);
	}
	rule = &ipc_rules[msg->hdr.type];
	if (rule->from != 0 && rule->from == self) {
		*why = "message type not valid in this direction";
		return (-1);
	}
	if (msg->hdr.reserved != 0) {
		*why = "reserved header field not zero";
		return (-1);
	}
	if (msg->hdr.len != n - sizeof(msg->hdr)) {
		*why = "header length disagrees with message size";
		return (-1);
	}
	if (msg->hdr.len != rule->len) {
		*why = "wrong payload length for the type";
		return (-1);
	}
	if (rule->fd == IPC_FD_REQUIRED && !has_fd) {
		*why = "file descriptor expected but absent";
		return (-1);
	}
	if (rule->fd == IPC_FD_NONE && has_fd) {
		*why = "file descriptor attached to a type that takes none";
		return (-1);
	}
	memset(&msg->u, 0, sizeof(msg->u));
	memcpy(&msg->u, buf + sizeof(msg->hdr), msg->hdr.len);
	if (rule->check != NULL && (*why = rule->check(msg)) != NULL)
		return (-1);
	return (0);
}

/* One encoded message, and at most one fd, in one sendmsg. */
static int
ipc_sendraw(int sock, const uint8_t *buf, size_t n, int fd)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct cmsghdr	*cmsg;
	struct msghdr	 mh;
	struct iovec	 iov;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)buf;
	iov.iov_len = n;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd != -1) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		mh.msg_control = cmsgbuf.buf;
		mh.msg_controllen = sizeof(cmsgbuf.buf);
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	/* MSG_NOSIGNAL: a dead peer is an error to handle, not a SIGPIPE. */
	return (sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) == -1 ?
	    -1 : 0);
}

int
ipc_send(int sock, enum ipc_type type, uint32_t id, const void *payload,
    size_t len, int fd)
{
	uint8_t		 buf[IPC_MSG_MAX];
	size_t		 n;
	int		 rc, saved_errno;

	if ((n = ipc_encode(buf, sizeof(buf), type, id, payload, len)) == 0) {
		errno = EMSGSIZE;
		return (-1);
	}
	rc = ipc_sendraw(sock, buf, n, fd);
	saved_errno = errno;
	/* Some payloads carry keys: leave no copy on the stack. */
	explicit_bzero(buf, n);
	errno = saved_errno;
	return (rc);
}

struct ipc_queued {
	struct ipc_queued	*next;
	size_t			 len;
	int			 fd;	/* our own duplicate, or -1 */
	uint8_t			 buf[];
};

void
ipc_chan_init(struct ipc_chan *ch, int fd, void (*want_write)(void *),
    void *arg)
{
	memset(ch, 0, sizeof(*ch));
	ch->fd = fd;
	ch->tail = NULL;
	ch->want_write = want_write;
	ch->arg = arg;
}

static void
ipc_queued_free(struct ipc_queued *q)
{
	if (q->fd != -1)
		close(q->fd);
	explicit_bzero(q->buf, q->len);
	free(q);
}

/*
 * Sends at once when nothing waits, else queues behind what waits. The
 * caller keeps its fd either way (a queued message holds a duplicate).
 * -1 with errno: the channel is broken, or the peer too far behind.
 */
int
ipc_chan_send(struct ipc_chan *ch, enum ipc_type type, uint32_t id,
    const void *payload, size_t len, int fd)
{
	struct ipc_queued	*q;
	uint8_t			 buf[IPC_MSG_MAX];
	size_t			 n;
	int			 saved_errno;

	if (ch->head == NULL) {
		if (ipc_send(ch->fd, type, id, payload, len, fd) == 0)
			return (0);
		if (errno != EAGAIN && errno != ENOBUFS)
			return (-1);
	}
	if ((n = ipc_encode(buf, sizeof(buf), type, id, payload, len)) == 0) {
		errno = EMSGSIZE;
		return (-1);
	}
	if (ch->bytes + n > IPC_QUEUE_MAX ||
	    (q = malloc(sizeof(*q) + n)) == NULL) {
		explicit_bzero(buf, n);
		errno = ENOBUFS;
		return (-1);
	}
	q->next = NULL;
	q->len = n;
	memcpy(q->buf, buf, n);
	explicit_bzero(buf, n);
	q->fd = -1;
	if (fd != -1 && (q->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		saved_errno = errno;
		ipc_queued_free(q);
		errno = saved_errno;
		return (-1);
	}
	if (ch->head == NULL) {
		ch->head = ch->tail = q;
		if (ch->want_write != NULL)
			ch->want_write(ch->arg);
	} else {
		ch->tail->next = q;
		ch->tail = q;
	}
	ch->bytes += n;
	return (0);
}

/* Returns 0 when the queue is empty, 1 when more waits, -1 on error. */
int
ipc_chan_flush(struct ipc_chan *ch)
{
	struct ipc_queued	*q;

	while ((q = ch->head) != NULL) {
		if (ipc_sendraw(ch->fd, q->buf, q->len, q->fd) == -1)
			return (errno == EAGAIN || errno == ENOBUFS ? 1 : -1);
		ch->head = q->next;
		if (ch->head == NULL)
			ch->tail = NULL;
		ch->bytes -= q->len;
		ipc_queued_free(q);
	}
	return (0);
}

void
ipc_chan_clear(struct ipc_chan *ch)
{
	struct ipc_queued	*q;

	while ((q = ch->head) != NULL) {
		ch->head = q->next;
		ipc_queued_free(q);
	}
	ch->tail = NULL;
	ch->bytes = 0;
	/* The owner closes it; a late send must not reach its next user. */
	ch->fd = -1;
}

/* Closes every descriptor a control message brought in. */
static int
collect_fds(struct msghdr *mh, int *fd)
{
	struct cmsghdr	*cmsg;
	size_t		 i, nfds;
	int		 count = 0, f;

	*fd = -1;
	for (cmsg = CMSG_FIRSTHDR(mh); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(mh, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS) {
			count += 2;	/* anything else is unexpected */
			continue;
		}
		nfds = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++) {
			memcpy(&f, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(int));
			if (*fd == -1)
				*fd = f;
			else
				close(f);
			count++;
		}
	}
	return (count);
}

static enum ipc_recv_result ipc_recv_check(enum ipc_peer, const uint8_t *,
    ssize_t, struct msghdr *, struct ipc_msg *, const char **);

enum ipc_recv_result
ipc_recv(int sock, enum ipc_peer self, struct ipc_msg *msg, const char **why)
{
	uint8_t		 buf[IPC_MSG_MAX];
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct msghdr	 mh;
	struct iovec	 iov;
	ssize_t		 n;
	enum ipc_recv_result r;

	msg->fd = -1;
	*why = NULL;
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cmsgbuf.buf;
	mh.msg_controllen = sizeof(cmsgbuf.buf);

	/* CLOEXEC: a received fd must never leak into an exec'd child. */
	n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n == -1)
		return (IPC_RECV_ERROR);
	r = ipc_recv_check(self, buf, n, &mh, msg, why);
	/* Some payloads carry keys: the copy in msg is the caller's to wipe. */
	explicit_bzero(buf, (size_t)n);
	return (r);
}

static enum ipc_recv_result
ipc_recv_check(enum ipc_peer self, const uint8_t *buf, ssize_t n,
    struct msghdr *mh, struct ipc_msg *msg, const char **why)
{
	int	 nfds;

	nfds = collect_fds(mh, &msg->fd);
	if (n == 0 && nfds == 0)
		return (IPC_RECV_EOF);
	if (mh->msg_flags & MSG_TRUNC)
		*why = "message truncated (larger than any known type)";
	else if (mh->msg_flags & MSG_CTRUNC)
		*why = "control data truncated (more than one fd?)";
	else if (nfds > 1)
		*why = "more than one fd or unexpected control data";
	else if (ipc_decode(self, buf, (size_t)n, msg->fd != -1, msg,
	    why) == 0)
		return (IPC_RECV_OK);
	if (msg->fd != -1) {
		close(msg->fd);
		msg->fd = -1;
	}
	return (IPC_RECV_MALFORMED);
}
