/*
 * Portal channel messages, PROTOCOL.md 2.1-2.3 and 3.  Decoders validate the
 * whole payload before the caller sees anything: a malformed message
 * yields an empty struct and a static reason, which names a field but
 * never quotes a value (values may be keys, passwords or tokens).
 *
 * Strict or lenient, choice by choice, against Firezone's own decoder
 * (connlib's serde structs, which the portal is written for):
 * - Unknown fields, events, resource and relay types: ignored, as
 *   Firezone ignores them (the portal adds fields over time).
 * - A broken element of a list (resources, relays, relay ids, ICE
 *   candidates, a gateway's authorizations, DNS servers, violated
 *   properties): skipped and counted in the message's skips, the rest
 *   kept, as Firezone skips it with a warning.  A broken resource is
 *   skipped whole: keeping it without a bad filter would open it wider.
 * - Absent lists where Firezone has a default (init's resources and
 *   relays, filters, DNS lists, authorizations): empty.  null where
 *   Firezone has an Option (search_domain, names, address_description,
 *   ip_stack, an authorization's expires_at): as absent.
 * - Strict where a wrong value would be unsafe: tunnel and peer
 *   addresses, keys and PSKs, ICE credentials, CIDRs and port ranges,
 *   relay addresses and TURN credentials, and the UUIDs that name peers
 *   and resources in tunneld.  A message missing one is dropped whole.
 * - Strict where Firezone is, though fzc keeps nothing of the field: a
 *   client's init without flow_logs, authorization_created and
 *   create_authorization without flow_logs_ingest_token are dropped, as
 *   Firezone drops them, so that fzc never acts on what Firezone refuses.
 * - Bounded where Firezone is not: lists and strings past the MAX_*
 *   below (far beyond what the portal sends) drop the message, for
 *   memory's sake.
 */

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "controld/portal_msg.h"

#define MAX_STR		1024	/* names, URLs */
#define MAX_CRED	255	/* TURN credentials: fit IPC_CRED_MAX */
#define MAX_DOMAIN	255
#define MAX_RESOURCES	100000
#define MAX_RELAYS	64
#define MAX_LIST	256	/* servers, filters, candidates, relay ids */
#define MAX_SITES	16
#define ICE_UFRAG_MIN	4	/* RFC 8445 section 5.3 */
#define ICE_PWD_MIN	22
#define ICE_MAX		255	/* with its NUL, fits IPC_CRED_MAX */
#define MAX_AUTHZ	100000	/* a gateway's init: (client, resource) pairs */
#define MAX_TOKEN	16384	/* flow_logs_ingest_token, a JWT */

static void
wipe_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static void
json_wipe_free(void *p)
{
	if (p == NULL)
		return;
	explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

/*
 * jansson frees its copies of strings without wiping them, and portal
 * payloads carry PSKs and TURN passwords: have every free wipe first.
 * Process-wide; call once, before any JSON is parsed.
 */
void
portal_msg_json_wipe(void)
{
	json_set_alloc_funcs(malloc, json_wipe_free);
}

/* Bytes a log line or a header can carry; UTF-8 beyond ASCII passes. */
static bool
printable(const char *s, bool space)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f || (*p == ' ' && !space))
			return (false);
	}
	return (true);
}

/* What tunneld's IPC checks take: printable ASCII only. */
static bool
ascii(const char *s, bool space)
{
	for (; *s != '\0'; s++) {
		if (*s < 0x20 || *s > 0x7e || (*s == ' ' && !space))
			return (false);
	}
	return (true);
}

/* A JSON string of min..max bytes without NUL, or NULL. */
static const char *
jstr(json_t *v, size_t min, size_t max)
{
	size_t	 len;

	if (!json_is_string(v))
		return (NULL);
	len = json_string_length(v);
	if (len < min || len > max || strlen(json_string_value(v)) != len)
		return (NULL);
	return (json_string_value(v));
}

/*
 * Optional string member: absent or null leaves *out NULL.  Returns false
 * when present but not a string of the allowed shape or on ENOMEM.
 */
static bool
opt_str(json_t *o, const char *key, size_t max, bool space, char **out)
{
	json_t		*v;
	const char	*s;

	*out = NULL;
	v = json_object_get(o, key);
	if (v == NULL || json_is_null(v))
		return (true);
	if ((s = jstr(v, 1, max)) == NULL || !printable(s, space))
		return (false);
	return ((*out = strdup(s)) != NULL);
}

static bool
req_str(json_t *o, const char *key, size_t min, size_t max, bool space,
    char **out)
{
	const char	*s;

	*out = NULL;
	if ((s = jstr(json_object_get(o, key), min, max)) == NULL ||
	    !printable(s, space))
		return (false);
	return ((*out = strdup(s)) != NULL);
}

/* Absent or null: *arr is NULL.  Otherwise an array of at most max. */
static bool
opt_array(json_t *o, const char *key, size_t max, json_t **arr)
{
	json_t	*v;

	*arr = NULL;
	v = json_object_get(o, key);
	if (v == NULL || json_is_null(v))
		return (true);
	if (!json_is_array(v) || json_array_size(v) > max)
		return (false);
	*arr = v;
	return (true);
}

static bool
req_array(json_t *o, const char *key, size_t max, json_t **arr)
{
	*arr = json_object_get(o, key);
	return (json_is_array(*arr) && json_array_size(*arr) <= max);
}

/* calloc that treats an empty list as "no array", not as a failure. */
static bool
alloc_list(size_t n, size_t size, void *out)
{
	void	*p = NULL;

	if (n > 0 && (p = calloc(n, size)) == NULL)
		return (false);
	memcpy(out, &p, sizeof(p));
	return (true);
}

/* A broken list element: counted and skipped, the message kept. */
static void
skip(struct portal_skips *sk, const char *why)
{
	if (sk->n++ == 0)
		sk->first = why;
}

/* Canonical 8-4-4-4-12 form, stored lower case. */
bool
portal_msg_uuid(const char *s, char out[PORTAL_ID_SIZE])
{
	size_t	 i;
	char	 c;

	if (s == NULL || strlen(s) != PORTAL_ID_SIZE - 1)
		return (false);
	for (i = 0; i < PORTAL_ID_SIZE - 1; i++) {
		c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return (false);
		} else if (c >= 'A' && c <= 'F')
			c = c - 'A' + 'a';
		else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return (false);
		out[i] = c;
	}
	out[i] = '\0';
	return (true);
}

static bool
get_uuid(json_t *o, const char *key, char out[PORTAL_ID_SIZE])
{
	return (portal_msg_uuid(jstr(json_object_get(o, key), 36, 36), out));
}

/*
 * A bare address.  With lenient set, a full-length prefix ("/32",
 * "/128") is accepted too: some payloads carry tunnel addresses that way.
 */
static bool
parse_addr(const char *s, struct portal_addr *a, bool lenient)
{
	char		 buf[INET6_ADDRSTRLEN + 5];
	char		*slash;
	size_t		 len;

	memset(a, 0, sizeof(*a));
	if (s == NULL || (len = strlen(s)) >= sizeof(buf))
		return (false);
	memcpy(buf, s, len + 1);
	if ((slash = strchr(buf, '/')) != NULL) {
		if (!lenient)
			return (false);
		*slash++ = '\0';
	}
	if (inet_pton(AF_INET, buf, a->addr) == 1) {
		a->family = AF_INET;
		if (slash != NULL && strcmp(slash, "32") != 0)
			return (false);
		return (true);
	}
	if (inet_pton(AF_INET6, buf, a->addr) == 1) {
		a->family = AF_INET6;
		if (slash != NULL && strcmp(slash, "128") != 0)
			return (false);
		return (true);
	}
	return (false);
}

/* "a.b.c.d/n" or "x::y/n"; host bits are cleared. */
static bool
parse_cidr(const char *s, struct portal_cidr *c)
{
	char		 buf[INET6_ADDRSTRLEN + 5];
	char		*slash, *p;
	size_t		 len, i, max;
	unsigned int	 plen = 0;

	memset(c, 0, sizeof(*c));
	if (s == NULL || (len = strlen(s)) >= sizeof(buf))
		return (false);
	memcpy(buf, s, len + 1);
	if ((slash = strchr(buf, '/')) == NULL)
		return (false);
	*slash++ = '\0';
	if (*slash == '\0' || strlen(slash) > 3 ||
	    (slash[0] == '0' && slash[1] != '\0'))
		return (false);
	for (p = slash; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return (false);
		plen = plen * 10 + (unsigned int)(*p - '0');
	}
	if (!parse_addr(buf, &c->addr, false))
		return (false);
	max = c->addr.family == AF_INET ? 32 : 128;
	if (plen > max)
		return (false);
	c->plen = (uint8_t)plen;
	for (i = plen; i < max; i++)
		c->addr.addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	return (true);
}

/* "1.2.3.4:3478" or "[2001:db8::1]:3478". */
static bool
parse_sockaddr(const char *s, struct portal_sockaddr *sa)
{
	char		 buf[INET6_ADDRSTRLEN + 9];
	char		*host, *port, *p;
	size_t		 len;
	unsigned long	 v = 0;

	memset(sa, 0, sizeof(*sa));
	if (s == NULL || (len = strlen(s)) >= sizeof(buf))
		return (false);
	memcpy(buf, s, len + 1);
	if (buf[0] == '[') {
		host = buf + 1;
		if ((p = strstr(host, "]:")) == NULL)
			return (false);
		*p = '\0';
		port = p + 2;
		if (inet_pton(AF_INET6, host, sa->addr.addr) != 1)
			return (false);
		sa->addr.family = AF_INET6;
	} else {
		host = buf;
		if ((p = strchr(host, ':')) == NULL)
			return (false);
		*p = '\0';
		port = p + 1;
		if (inet_pton(AF_INET, host, sa->addr.addr) != 1)
			return (false);
		sa->addr.family = AF_INET;
	}
	if (*port == '\0' || strlen(port) > 5 || port[0] == '0')
		return (false);
	for (p = port; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return (false);
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > 65535)
		return (false);
	sa->port = (uint16_t)v;
	return (true);
}

/* Standard base64 with padding of exactly 32 bytes, in constant time. */
static bool
decode_key(json_t *v, uint8_t out[PORTAL_KEY_LEN])
{
	const char	*s, *end;
	size_t		 binlen;

	if ((s = jstr(v, 44, 44)) == NULL)
		goto bad;
	if (sodium_base642bin(out, PORTAL_KEY_LEN, s, 44, NULL, &binlen,
	    &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    binlen != PORTAL_KEY_LEN || end != s + 44)
		goto bad;
	return (true);
 bad:
	explicit_bzero(out, PORTAL_KEY_LEN);
	return (false);
}

void
portal_msg_interface_free(struct portal_interface *ifc)
{
	size_t	 i;

	free(ifc->search_domain);
	free(ifc->do53);
	for (i = 0; i < ifc->ndoh; i++)
		free(ifc->doh[i]);
	free(ifc->doh);
	free(ifc->upstream_dns);
	memset(ifc, 0, sizeof(*ifc));
}

static bool
dec_interface(json_t *o, struct portal_interface *ifc, struct portal_skips *sk,
    const char **why)
{
	json_t		*arr, *e;
	const char	*s;
	size_t		 i;

	memset(ifc, 0, sizeof(*ifc));
	if (!json_is_object(o)) {
		*why = "interface: missing or not an object";
		return (false);
	}
	if (!parse_addr(jstr(json_object_get(o, "ipv4"), 1, 64), &ifc->ipv4,
	    true) || ifc->ipv4.family != AF_INET) {
		*why = "interface.ipv4: missing or not an IPv4 address";
		goto fail;
	}
	if (!parse_addr(jstr(json_object_get(o, "ipv6"), 1, 64), &ifc->ipv6,
	    true) || ifc->ipv6.family != AF_INET6) {
		*why = "interface.ipv6: missing or not an IPv6 address";
		goto fail;
	}
	if (!opt_str(o, "search_domain", MAX_DOMAIN, false,
	    &ifc->search_domain)) {
		*why = "interface.search_domain: not a domain";
		goto fail;
	}

	if (!opt_array(o, "upstream_do53", MAX_LIST, &arr) ||
	    !alloc_list(json_array_size(arr), sizeof(*ifc->do53), &ifc->do53)) {
		*why = "interface.upstream_do53: not a list";
		goto fail;
	}
	json_array_foreach(arr, i, e) {
		if (!parse_addr(jstr(json_object_get(e, "ip"), 1, 64),
		    &ifc->do53[ifc->ndo53], false)) {
			skip(sk,
			    "interface.upstream_do53[].ip: not an address");
			continue;
		}
		ifc->ndo53++;
	}

	if (!opt_array(o, "upstream_doh", MAX_LIST, &arr) ||
	    !alloc_list(json_array_size(arr), sizeof(*ifc->doh), &ifc->doh)) {
		*why = "interface.upstream_doh: not a list";
		goto fail;
	}
	json_array_foreach(arr, i, e) {
		s = jstr(json_object_get(e, "url"), 9, MAX_STR);
		if (s == NULL || strncmp(s, "https://", 8) != 0 ||
		    !printable(s, false)) {
			skip(sk,
			    "interface.upstream_doh[].url: not an https URL");
			continue;
		}
		if ((ifc->doh[ifc->ndoh] = strdup(s)) == NULL) {
			*why = "out of memory";
			goto fail;
		}
		ifc->ndoh++;
	}

	/* Legacy list: only "ip_port" entries mean anything to us. */
	if (!opt_array(o, "upstream_dns", MAX_LIST, &arr) ||
	    !alloc_list(json_array_size(arr), sizeof(*ifc->upstream_dns),
	    &ifc->upstream_dns)) {
		*why = "interface.upstream_dns: not a list";
		goto fail;
	}
	json_array_foreach(arr, i, e) {
		if ((s = jstr(json_object_get(e, "protocol"), 1, 64)) ==
		    NULL) {
			skip(sk, "interface.upstream_dns[].protocol: missing");
			continue;
		}
		if (strcmp(s, "ip_port") != 0)
			continue;
		if (!parse_sockaddr(jstr(json_object_get(e, "address"), 1, 64),
		    &ifc->upstream_dns[ifc->nupstream_dns])) {
			skip(sk,
			    "interface.upstream_dns[].address: not ip:port");
			continue;
		}
		ifc->nupstream_dns++;
	}
	return (true);
 fail:
	portal_msg_interface_free(ifc);
	return (false);
}

void
portal_msg_resource_free(struct portal_resource *r)
{
	size_t	 i;

	free(r->address);
	free(r->name);
	free(r->address_description);
	free(r->filters);
	for (i = 0; i < r->nsites; i++)
		free(r->sites[i].name);
	free(r->sites);
	memset(r, 0, sizeof(*r));
}

static bool
dec_filter(json_t *o, struct portal_filter *f)
{
	const char	*p;
	json_t		*v;
	json_int_t	 start = 0, end = 65535;

	if ((p = jstr(json_object_get(o, "protocol"), 1, 16)) == NULL)
		return (false);
	if (strcmp(p, "icmp") == 0) {
		f->proto = PORTAL_PROTO_ICMP;
		return (true);
	}
	if (strcmp(p, "tcp") == 0)
		f->proto = PORTAL_PROTO_TCP;
	else if (strcmp(p, "udp") == 0)
		f->proto = PORTAL_PROTO_UDP;
	else
		return (false);
	if ((v = json_object_get(o, "port_range_start")) != NULL) {
		if (!json_is_integer(v))
			return (false);
		start = json_integer_value(v);
	}
	if ((v = json_object_get(o, "port_range_end")) != NULL) {
		if (!json_is_integer(v))
			return (false);
		end = json_integer_value(v);
	}
	if (start < 0 || end > 65535 || start > end)
		return (false);
	f->port_start = (uint16_t)start;
	f->port_end = (uint16_t)end;
	return (true);
}

static bool
dec_sites(json_t *o, struct portal_resource *r, const char **why)
{
	json_t	*arr, *e;
	size_t	 i;

	/* Old clients get "gateway_groups"; same shape. */
	if (json_object_get(o, "sites") != NULL) {
		if (!req_array(o, "sites", MAX_SITES, &arr))
			goto bad;
	} else if (!req_array(o, "gateway_groups", MAX_SITES, &arr))
		goto bad;
	if (!alloc_list(json_array_size(arr), sizeof(*r->sites), &r->sites)) {
		*why = "out of memory";
		return (false);
	}
	json_array_foreach(arr, i, e) {
		if (!get_uuid(e, "id", r->sites[i].id)) {
			*why = "resource.sites[].id: missing or not a UUID";
			return (false);
		}
		if (!opt_str(e, "name", MAX_STR, true, &r->sites[i].name)) {
			*why = "resource.sites[].name: not a string";
			return (false);
		}
		r->nsites++;
	}
	return (true);
 bad:
	*why = "resource.sites: missing or not a list";
	return (false);
}

static bool
dec_filters(json_t *o, struct portal_resource *r, const char **why)
{
	json_t	*arr, *e;
	size_t	 i;

	if (!opt_array(o, "filters", MAX_LIST, &arr)) {
		*why = "resource.filters: not a list";
		return (false);
	}
	if (!alloc_list(json_array_size(arr), sizeof(*r->filters),
	    &r->filters)) {
		*why = "out of memory";
		return (false);
	}
	json_array_foreach(arr, i, e) {
		if (!dec_filter(e, &r->filters[i])) {
			*why = "resource.filters[]: bad protocol or port range";
			return (false);
		}
		r->nfilters++;
	}
	return (true);
}

/* 1: decoded, 0: a type we do not know (ignored), -1: malformed. */
static int
dec_resource(json_t *o, struct portal_resource *r, const char **why)
{
	const char	*type, *s;
	json_t		*v;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(o)) {
		*why = "resource: not an object";
		return (-1);
	}
	if ((type = jstr(json_object_get(o, "type"), 1, 64)) == NULL) {
		*why = "resource.type: missing or not a string";
		return (-1);
	}
	if (strcmp(type, "dns") == 0)
		r->type = PORTAL_RES_DNS;
	else if (strcmp(type, "cidr") == 0)
		r->type = PORTAL_RES_CIDR;
	else if (strcmp(type, "internet") == 0)
		r->type = PORTAL_RES_INTERNET;
	else
		return (0);
	if (!get_uuid(o, "id", r->id)) {
		*why = "resource.id: missing or not a UUID";
		goto fail;
	}
	if (!dec_sites(o, r, why))
		goto fail;

	if (r->type == PORTAL_RES_INTERNET) {
		v = json_object_get(o, "can_be_disabled");
		if (v != NULL && !json_is_boolean(v)) {
			*why = "resource.can_be_disabled: not a boolean";
			goto fail;
		}
		r->can_be_disabled = json_is_true(v);
		return (1);
	}

	if (r->type == PORTAL_RES_DNS) {
		if (!req_str(o, "address", 1, MAX_DOMAIN, false,
		    &r->address)) {
			*why = "resource.address: missing or not a domain";
			goto fail;
		}
	} else if ((s = jstr(json_object_get(o, "address"), 1, 64)) == NULL ||
	    !parse_cidr(s, &r->cidr) || (r->address = strdup(s)) == NULL) {
		*why = "resource.address: missing or not a CIDR";
		goto fail;
	}
	if (!req_str(o, "name", 1, MAX_STR, true, &r->name)) {
		*why = "resource.name: missing or not a string";
		goto fail;
	}
	if (!opt_str(o, "address_description", MAX_STR, true,
	    &r->address_description)) {
		*why = "resource.address_description: not a string";
		goto fail;
	}
	if (!dec_filters(o, r, why))
		goto fail;

	if (r->type == PORTAL_RES_DNS &&
	    (v = json_object_get(o, "ip_stack")) != NULL && !json_is_null(v)) {
		if ((s = jstr(v, 1, 16)) == NULL)
			s = "";
		if (strcmp(s, "dual") == 0)
			r->ip_stack = PORTAL_STACK_DUAL;
		else if (strcmp(s, "ipv4_only") == 0)
			r->ip_stack = PORTAL_STACK_IPV4_ONLY;
		else if (strcmp(s, "ipv6_only") == 0)
			r->ip_stack = PORTAL_STACK_IPV6_ONLY;
		else {
			*why = "resource.ip_stack: unknown value";
			goto fail;
		}
	}
	return (1);
 fail:
	portal_msg_resource_free(r);
	return (-1);
}

void
portal_msg_relay_free(struct portal_relay *r)
{
	free(r->username);
	wipe_free(r->password);
	memset(r, 0, sizeof(*r));
}

/* 1: decoded, 0: a relay type we do not know (ignored), -1: malformed. */
static int
dec_relay(json_t *o, struct portal_relay *r, const char **why)
{
	const char	*type;
	json_t		*v;

	memset(r, 0, sizeof(*r));
	if ((type = jstr(json_object_get(o, "type"), 1, 16)) == NULL) {
		*why = "relay.type: missing or not a string";
		return (-1);
	}
	if (strcmp(type, "turn") == 0)
		r->type = PORTAL_RELAY_TURN;
	else if (strcmp(type, "stun") == 0)
		r->type = PORTAL_RELAY_STUN;
	else
		return (0);
	if (!get_uuid(o, "id", r->id)) {
		*why = "relay.id: missing or not a UUID";
		goto fail;
	}
	if (!parse_sockaddr(jstr(json_object_get(o, "addr"), 1, 64),
	    &r->addr)) {
		*why = "relay.addr: missing or not ip:port";
		goto fail;
	}
	if (r->type == PORTAL_RELAY_STUN)
		return (1);
	/* TURN credentials go to tunneld, whose checks take ASCII only. */
	if (!req_str(o, "username", 1, MAX_CRED, false, &r->username) ||
	    !ascii(r->username, false)) {
		*why = "relay.username: missing or not an ASCII string";
		goto fail;
	}
	if (!req_str(o, "password", 1, MAX_CRED, false, &r->password) ||
	    !ascii(r->password, false)) {
		*why = "relay.password: missing or not an ASCII string";
		goto fail;
	}
	v = json_object_get(o, "expires_at");
	if (!json_is_integer(v) || json_integer_value(v) <= 0) {
		*why = "relay.expires_at: missing or not a timestamp";
		goto fail;
	}
	r->expires_at = json_integer_value(v);
	return (1);
 fail:
	portal_msg_relay_free(r);
	return (-1);
}

/*
 * Fills list[0..] with the known relays of arr (absent: none); *n counts
 * them.  A broken relay is skipped: the others still serve.
 */
static bool
dec_relay_list(json_t *arr, struct portal_relay **list, size_t *n,
    struct portal_skips *sk, const char **why)
{
	json_t		*e;
	const char	*ewhy;
	size_t		 i;
	int		 rv;

	*n = 0;
	if (!alloc_list(json_array_size(arr), sizeof(**list), list)) {
		*why = "out of memory";
		return (false);
	}
	json_array_foreach(arr, i, e) {
		if (!json_is_object(e)) {
			skip(sk, "relay: not an object");
			continue;
		}
		if ((rv = dec_relay(e, &(*list)[*n], &ewhy)) == -1)
			skip(sk, ewhy);
		else if (rv == 1)
			(*n)++;
	}
	return (true);
}

void
portal_msg_init_free(struct portal_init *in)
{
	size_t	 i;

	portal_msg_interface_free(&in->iface);
	for (i = 0; i < in->nresources; i++)
		portal_msg_resource_free(&in->resources[i]);
	free(in->resources);
	for (i = 0; i < in->nrelays; i++)
		portal_msg_relay_free(&in->relays[i]);
	free(in->relays);
	free(in->authorizations);
	free(in->account_slug);
	memset(in, 0, sizeof(*in));
}

/*
 * resources and relays may be absent (none), as in Firezone's decoder;
 * flow_logs must be there, as Firezone's client refuses an init without
 * it, although fzc keeps nothing of it.
 */
static int
dec_init(json_t *p, struct portal_init *in, struct portal_skips *sk,
    const char **why)
{
	json_t		*arr, *e;
	const char	*ewhy;
	size_t		 i;
	int		 rv;

	if (!dec_interface(json_object_get(p, "interface"), &in->iface, sk,
	    why))
		return (-1);
	if (!json_is_object(json_object_get(p, "flow_logs"))) {
		*why = "init.flow_logs: missing or not an object";
		goto fail;
	}
	if (!opt_array(p, "resources", MAX_RESOURCES, &arr)) {
		*why = "init.resources: not a list";
		goto fail;
	}
	if (!alloc_list(json_array_size(arr), sizeof(*in->resources),
	    &in->resources)) {
		*why = "out of memory";
		goto fail;
	}
	json_array_foreach(arr, i, e) {
		rv = dec_resource(e, &in->resources[in->nresources], &ewhy);
		if (rv == -1)
			skip(sk, ewhy);
		else if (rv == 1)
			in->nresources++;
	}
	if (!opt_array(p, "relays", MAX_RELAYS, &arr)) {
		*why = "init.relays: not a list";
		goto fail;
	}
	if (!dec_relay_list(arr, &in->relays, &in->nrelays, sk, why))
		goto fail;
	return (1);
 fail:
	portal_msg_init_free(in);
	return (-1);
}

void
portal_msg_relays_presence_free(struct portal_relays_presence *rp)
{
	size_t	 i;

	free(rp->disconnected);
	for (i = 0; i < rp->nconnected; i++)
		portal_msg_relay_free(&rp->connected[i]);
	free(rp->connected);
	memset(rp, 0, sizeof(*rp));
}

static int
dec_relays_presence(json_t *p, struct portal_relays_presence *rp,
    struct portal_skips *sk, const char **why)
{
	json_t	*arr, *e;
	size_t	 i;

	if (!req_array(p, "disconnected_ids", MAX_LIST, &arr) ||
	    !alloc_list(json_array_size(arr), sizeof(*rp->disconnected),
	    &rp->disconnected)) {
		*why = "relays_presence.disconnected_ids: not a list";
		goto fail;
	}
	json_array_foreach(arr, i, e) {
		if (!portal_msg_uuid(jstr(e, 36, 36),
		    rp->disconnected[rp->ndisconnected])) {
			skip(sk,
			    "relays_presence.disconnected_ids[]: not a UUID");
			continue;
		}
		rp->ndisconnected++;
	}
	if (!req_array(p, "connected", MAX_RELAYS, &arr)) {
		*why = "relays_presence.connected: missing or not a list";
		goto fail;
	}
	if (!dec_relay_list(arr, &rp->connected, &rp->nconnected, sk, why))
		goto fail;
	return (1);
 fail:
	portal_msg_relays_presence_free(rp);
	return (-1);
}

/* ice-char = ALPHA / DIGIT / "+" / "/", RFC 8445 section 5.3 */
static bool
dec_ice_str(json_t *o, const char *key, size_t min, char **out)
{
	const char	*s, *p;

	*out = NULL;
	if ((s = jstr(json_object_get(o, key), min, ICE_MAX)) == NULL)
		return (false);
	for (p = s; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '+' || *p == '/'))
			return (false);
	}
	return ((*out = strdup(s)) != NULL);
}

static bool
dec_ice_creds(json_t *o, struct portal_ice_creds *c)
{
	if (!json_is_object(o))
		return (false);
	return (dec_ice_str(o, "username", ICE_UFRAG_MIN, &c->username) &&
	    dec_ice_str(o, "password", ICE_PWD_MIN, &c->password));
}

void
portal_msg_authorization_free(struct portal_authorization *a)
{
	free(a->client_ice.username);
	wipe_free(a->client_ice.password);
	free(a->gateway_ice.username);
	wipe_free(a->gateway_ice.password);
	explicit_bzero(a, sizeof(*a));
}

static int
dec_authz(json_t *p, struct portal_authorization *a, const char **why)
{
	json_t	*v;

	if (!get_uuid(p, "resource_id", a->resource_id)) {
		*why = "authorization.resource_id: missing or not a UUID";
		goto fail;
	}
	if (!get_uuid(p, "gateway_id", a->gateway_id)) {
		*why = "authorization.gateway_id: missing or not a UUID";
		goto fail;
	}
	/* Older client versions get the site as gateway_group_id. */
	if (!get_uuid(p, json_object_get(p, "site_id") != NULL ? "site_id" :
	    "gateway_group_id", a->site_id)) {
		*why = "authorization.site_id: missing or not a UUID";
		goto fail;
	}
	if (!decode_key(json_object_get(p, "gateway_public_key"),
	    a->gateway_public_key)) {
		*why = "authorization.gateway_public_key: not a base64 key";
		goto fail;
	}
	if (!parse_addr(jstr(json_object_get(p, "gateway_ipv4"), 1, 64),
	    &a->gateway_ipv4, true) || a->gateway_ipv4.family != AF_INET) {
		*why = "authorization.gateway_ipv4: missing or not IPv4";
		goto fail;
	}
	if (!parse_addr(jstr(json_object_get(p, "gateway_ipv6"), 1, 64),
	    &a->gateway_ipv6, true) || a->gateway_ipv6.family != AF_INET6) {
		*why = "authorization.gateway_ipv6: missing or not IPv6";
		goto fail;
	}
	if (!decode_key(json_object_get(p, "preshared_key"),
	    a->preshared_key)) {
		*why = "authorization.preshared_key: not a base64 key";
		goto fail;
	}
	if (!dec_ice_creds(json_object_get(p, "client_ice_credentials"),
	    &a->client_ice)) {
		*why = "authorization.client_ice_credentials: malformed";
		goto fail;
	}
	if (!dec_ice_creds(json_object_get(p, "gateway_ice_credentials"),
	    &a->gateway_ice)) {
		*why = "authorization.gateway_ice_credentials: malformed";
		goto fail;
	}
	v = json_object_get(p, "use_iceless");
	if (v != NULL && !json_is_boolean(v)) {
		*why = "authorization.use_iceless: not a boolean";
		goto fail;
	}
	a->use_iceless = json_is_true(v);
	/* Not kept (no flow logs), but Firezone's client requires it. */
	if (jstr(json_object_get(p, "flow_logs_ingest_token"), 1, MAX_TOKEN) ==
	    NULL) {
		*why = "authorization.flow_logs_ingest_token: missing or not "
		    "a string";
		goto fail;
	}
	return (1);
 fail:
	portal_msg_authorization_free(a);
	return (-1);
}

static int
dec_authz_failed(json_t *p, struct portal_authz_failed *f,
    struct portal_skips *sk, const char **why)
{
	static const struct {
		const char	*name;
		uint32_t	 bit;
	} props[] = {
		{ "remote_ip_location_region",	PORTAL_VIOL_REGION },
		{ "remote_ip",			PORTAL_VIOL_REMOTE_IP },
		{ "auth_provider_id",		PORTAL_VIOL_PROVIDER },
		{ "provider_id",		PORTAL_VIOL_PROVIDER },
		{ "current_utc_datetime",	PORTAL_VIOL_DATETIME },
		{ "client_verified",	PORTAL_VIOL_CLIENT_VERIFIED },
	};
	json_t		*arr, *e;
	const char	*s;
	size_t		 i, j;
	uint32_t	 bit;

	if (!get_uuid(p, "resource_id", f->resource_id)) {
		*why = "authorization_failed.resource_id: not a UUID";
		goto fail;
	}
	if ((s = jstr(json_object_get(p, "reason"), 1, 64)) == NULL) {
		*why = "authorization_failed.reason: missing or not a string";
		goto fail;
	}
	if (strcmp(s, "not_found") == 0)
		f->reason = PORTAL_AUTHZ_NOT_FOUND;
	else if (strcmp(s, "forbidden") == 0)
		f->reason = PORTAL_AUTHZ_FORBIDDEN;
	else if (strcmp(s, "offline") == 0)
		f->reason = PORTAL_AUTHZ_OFFLINE;
	else if (strcmp(s, "version_mismatch") == 0)
		f->reason = PORTAL_AUTHZ_VERSION_MISMATCH;
	else
		f->reason = PORTAL_AUTHZ_UNKNOWN;
	if (!opt_array(p, "violated_properties", MAX_LIST, &arr)) {
		*why = "authorization_failed.violated_properties: not a list";
		goto fail;
	}
	json_array_foreach(arr, i, e) {
		if ((s = jstr(e, 1, 64)) == NULL) {
			skip(sk,
			    "authorization_failed.violated_properties[]: "
			    "not a string");
			continue;
		}
		bit = PORTAL_VIOL_UNKNOWN;
		for (j = 0; j < sizeof(props) / sizeof(props[0]); j++) {
			if (strcmp(s, props[j].name) == 0) {
				bit = props[j].bit;
				break;
			}
		}
		f->violated |= bit;
	}
	return (1);
 fail:
	memset(f, 0, sizeof(*f));
	return (-1);
}

void
portal_msg_candidates_free(struct portal_candidates *c)
{
	size_t	 i;

	for (i = 0; i < c->ncandidates; i++)
		free(c->candidates[i]);
	free(c->candidates);
	memset(c, 0, sizeof(*c));
}

/*
 * Entries that cannot be candidates are skipped one by one.  The peer is
 * the gateway (client role) or the client (gateway role).
 */
static int
dec_candidates(json_t *p, bool gw, struct portal_candidates *c,
    struct portal_skips *sk, const char **why)
{
	const char	*key = gw ? "client_id" : "gateway_id";
	json_t		*arr, *e;
	const char	*s;
	size_t		 i;

	if (!get_uuid(p, key, c->peer_id)) {
		*why = gw ? "ice_candidates.client_id: missing or not a UUID" :
		    "ice_candidates.gateway_id: missing or not a UUID";
		goto fail;
	}
	if (!req_array(p, "candidates", MAX_LIST, &arr) ||
	    !alloc_list(json_array_size(arr), sizeof(*c->candidates),
	    &c->candidates)) {
		*why = "ice_candidates.candidates: missing or not a list";
		goto fail;
	}
	json_array_foreach(arr, i, e) {
		if ((s = jstr(e, 1, MAX_STR)) == NULL || !ascii(s, true) ||
		    strncmp(s, "candidate:", 10) != 0) {
			skip(sk, "candidates[]: not an SDP candidate");
			continue;
		}
		if ((c->candidates[c->ncandidates] = strdup(s)) == NULL) {
			*why = "out of memory";
			goto fail;
		}
		c->ncandidates++;
	}
	return (1);
 fail:
	portal_msg_candidates_free(c);
	return (-1);
}

static int
dec_disconnect(json_t *p, struct portal_disconnect *d, const char **why)
{
	const char	*s;
	size_t		 i;

	if ((s = jstr(json_object_get(p, "reason"), 1, MAX_STR)) == NULL) {
		*why = "disconnect.reason: missing or not a string";
		return (-1);
	}
	d->token_expired = strcmp(s, "token_expired") == 0;
	for (i = 0; i < sizeof(d->reason) - 1 && s[i] != '\0'; i++)
		d->reason[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	d->reason[i] = '\0';
	return (1);
}

/*
 * Gateway role (section 3).  A filter list comes sorted by protocol and
 * port, with overlapping and adjacent ranges of a protocol joined: the
 * same ports, in as few entries as they take.  Returns the new count.
 */
static int
filter_cmp(const void *a, const void *b)
{
	const struct portal_filter	*x = a, *y = b;

	if (x->proto != y->proto)
		return (x->proto < y->proto ? -1 : 1);
	if (x->port_start != y->port_start)
		return (x->port_start < y->port_start ? -1 : 1);
	return (x->port_end < y->port_end ? -1 : x->port_end > y->port_end);
}

size_t
portal_msg_filters_merge(struct portal_filter *f, size_t n)
{
	size_t	 i, j;

	if (n == 0)
		return (0);
	qsort(f, n, sizeof(*f), filter_cmp);
	for (i = 1, j = 0; i < n; i++) {
		if (f[i].proto == f[j].proto &&
		    (uint32_t)f[i].port_start <= (uint32_t)f[j].port_end + 1) {
			if (f[i].port_end > f[j].port_end)
				f[j].port_end = f[i].port_end;
			continue;
		}
		f[++j] = f[i];
	}
	return (j + 1);
}

/*
 * The gateway view of a resource: {id, type, address, name, filters} for
 * cidr and dns (address a name pattern), {id, type} for internet.  1:
 * decoded; 0: a type fzc's gateway does not serve (*why says which); -1:
 * malformed.
 */
static int
dec_gw_resource(json_t *o, struct portal_resource *r, const char **why)
{
	const char	*type, *s;
	size_t		 i;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(o)) {
		*why = "resource: missing or not an object";
		return (-1);
	}
	if ((type = jstr(json_object_get(o, "type"), 1, 64)) == NULL) {
		*why = "resource.type: missing or not a string";
		return (-1);
	}
	if (strcmp(type, "dns") == 0)
		r->type = PORTAL_RES_DNS;
	else if (strcmp(type, "cidr") == 0)
		r->type = PORTAL_RES_CIDR;
	else if (strcmp(type, "internet") == 0)
		r->type = PORTAL_RES_INTERNET;
	else {
		*why = "resource.type: a type fzc's gateway does not know";
		return (0);
	}
	if (!get_uuid(o, "id", r->id)) {
		*why = "resource.id: missing or not a UUID";
		goto fail;
	}
	if (r->type == PORTAL_RES_INTERNET)
		return (1);
	if (r->type == PORTAL_RES_DNS) {
		if (!req_str(o, "address", 1, MAX_DOMAIN, false, &r->address)) {
			*why = "resource.address: missing or not a domain";
			goto fail;
		}
	} else if ((s = jstr(json_object_get(o, "address"), 1, 64)) == NULL ||
	    !parse_cidr(s, &r->cidr) || (r->address = strdup(s)) == NULL) {
		*why = "resource.address: missing or not a CIDR";
		goto fail;
	}
	if (!opt_str(o, "name", MAX_STR, true, &r->name)) {
		*why = "resource.name: not a string";
		goto fail;
	}
	if (!dec_filters(o, r, why))
		goto fail;
	/* Port 0 alone means nothing, and is no "everything" either. */
	for (i = 0; i < r->nfilters; i++) {
		if (r->filters[i].proto != PORTAL_PROTO_ICMP &&
		    r->filters[i].port_end == 0) {
			*why = "resource.filters[]: port range ends at 0";
			goto fail;
		}
	}
	r->nfilters = portal_msg_filters_merge(r->filters, r->nfilters);
	return (1);
 fail:
	portal_msg_resource_free(r);
	return (-1);
}

static int
dec_resource_updated(json_t *p, struct portal_resource *r, const char **why)
{
	int	 rv;

	/* A type we never accepted: nothing to do. */
	if ((rv = dec_gw_resource(p, r, why)) == 0)
		*why = NULL;
	return (rv);
}

/* {client_id, resource_id}: reasons[0] or [1] names the bad one. */
static bool
dec_access(json_t *o, struct portal_access *a, const char *const reasons[2],
    const char **why)
{
	memset(a, 0, sizeof(*a));
	if (!get_uuid(o, "client_id", a->client_id)) {
		*why = reasons[0];
		return (false);
	}
	if (!get_uuid(o, "resource_id", a->resource_id)) {
		memset(a, 0, sizeof(*a));
		*why = reasons[1];
		return (false);
	}
	return (true);
}

/* config: only masquerading, which fzc's gateway always does. */
static bool
dec_gw_config(json_t *o)
{
	json_t	*v;

	if (o == NULL || json_is_null(o))
		return (true);
	if (!json_is_object(o))
		return (false);
	if ((v = json_object_get(o, "ipv4_masquerade_enabled")) != NULL &&
	    !json_is_boolean(v))
		return (false);
	if ((v = json_object_get(o, "ipv6_masquerade_enabled")) != NULL &&
	    !json_is_boolean(v))
		return (false);
	return (true);
}

/* relays may be absent (none), as in Firezone's decoder. */
static int
dec_gw_init(json_t *p, struct portal_init *in, struct portal_skips *sk,
    const char **why)
{
	static const char *const reasons[2] = {
		"init.authorizations[].client_id: missing or not a UUID",
		"init.authorizations[].resource_id: missing or not a UUID",
	};
	struct portal_access	*a;
	json_t			*arr, *e, *v;
	const char		*ewhy;
	size_t			 i;

	if (!dec_interface(json_object_get(p, "interface"), &in->iface, sk,
	    why))
		return (-1);
	if (!dec_gw_config(json_object_get(p, "config"))) {
		*why = "init.config: not an object of booleans";
		goto fail;
	}
	if (!opt_array(p, "relays", MAX_RELAYS, &arr)) {
		*why = "init.relays: not a list";
		goto fail;
	}
	if (!dec_relay_list(arr, &in->relays, &in->nrelays, sk, why))
		goto fail;
	if (!opt_str(p, "account_slug", MAX_DOMAIN, false,
	    &in->account_slug)) {
		*why = "init.account_slug: not a string";
		goto fail;
	}
	if (!opt_array(p, "authorizations", MAX_AUTHZ, &arr) ||
	    !alloc_list(json_array_size(arr), sizeof(*in->authorizations),
	    &in->authorizations)) {
		*why = "init.authorizations: not a list";
		goto fail;
	}
	in->has_authorizations = arr != NULL;
	json_array_foreach(arr, i, e) {
		a = &in->authorizations[in->nauthorizations];
		if (!dec_access(e, a, reasons, &ewhy)) {
			skip(sk, ewhy);
			continue;
		}
		v = json_object_get(e, "expires_at");
		if (v != NULL && !json_is_null(v) && (!json_is_integer(v) ||
		    json_integer_value(v) <= 0)) {
			memset(a, 0, sizeof(*a));
			skip(sk,
			    "init.authorizations[].expires_at: "
			    "not a timestamp");
			continue;
		}
		a->expires_at = json_is_integer(v) ? json_integer_value(v) : 0;
		in->nauthorizations++;
	}
	return (1);
 fail:
	portal_msg_init_free(in);
	return (-1);
}

void
portal_msg_gw_authorization_free(struct portal_gw_authorization *a)
{
	free(a->ref);
	portal_msg_resource_free(&a->resource);
	free(a->client_ice.username);
	wipe_free(a->client_ice.password);
	free(a->gateway_ice.username);
	wipe_free(a->gateway_ice.password);
	explicit_bzero(a, sizeof(*a));
}

static bool
dec_gw_client(json_t *o, struct portal_gw_authorization *a,
    const char **why)
{
	if (!json_is_object(o)) {
		*why = "create_authorization.client: missing or not an object";
		return (false);
	}
	if (!get_uuid(o, "id", a->client_id)) {
		*why = "create_authorization.client.id: missing or not a UUID";
		return (false);
	}
	if (!decode_key(json_object_get(o, "public_key"),
	    a->client_public_key)) {
		*why = "create_authorization.client.public_key: not a base64 "
		    "key";
		return (false);
	}
	if (!decode_key(json_object_get(o, "preshared_key"),
	    a->preshared_key)) {
		*why = "create_authorization.client.preshared_key: not a "
		    "base64 key";
		return (false);
	}
	if (!parse_addr(jstr(json_object_get(o, "ipv4"), 1, 64),
	    &a->client_ipv4, true) || a->client_ipv4.family != AF_INET) {
		*why = "create_authorization.client.ipv4: missing or not IPv4";
		return (false);
	}
	if (!parse_addr(jstr(json_object_get(o, "ipv6"), 1, 64),
	    &a->client_ipv6, true) || a->client_ipv6.family != AF_INET6) {
		*why = "create_authorization.client.ipv6: missing or not IPv6";
		return (false);
	}
	return (true);
}

static int
dec_create_authz(json_t *p, struct portal_gw_authorization *a,
    const char **why)
{
	json_t	*v;

	if (!req_str(p, "ref", 1, PORTAL_REF_MAX, false, &a->ref)) {
		*why = "create_authorization.ref: missing or not a string";
		goto fail;
	}
	/* A resource we do not serve is refused like a malformed one. */
	if (dec_gw_resource(json_object_get(p, "resource"), &a->resource,
	    why) != 1)
		goto fail;
	if (!dec_gw_client(json_object_get(p, "client"), a, why))
		goto fail;
	if (!dec_ice_creds(json_object_get(p, "client_ice_credentials"),
	    &a->client_ice)) {
		*why = "create_authorization.client_ice_credentials: "
		    "malformed";
		goto fail;
	}
	if (!dec_ice_creds(json_object_get(p, "gateway_ice_credentials"),
	    &a->gateway_ice)) {
		*why = "create_authorization.gateway_ice_credentials: "
		    "malformed";
		goto fail;
	}
	v = json_object_get(p, "expires_at");
	if (!json_is_integer(v) || json_integer_value(v) <= 0) {
		*why = "create_authorization.expires_at: missing or not a "
		    "timestamp";
		goto fail;
	}
	a->expires_at = json_integer_value(v);
	v = json_object_get(p, "use_iceless");
	if (v != NULL && !json_is_boolean(v)) {
		*why = "create_authorization.use_iceless: not a boolean";
		goto fail;
	}
	/* subject: not kept, nor the token Firezone's gateway requires. */
	if (jstr(json_object_get(p, "flow_logs_ingest_token"), 1, MAX_TOKEN) ==
	    NULL) {
		*why = "create_authorization.flow_logs_ingest_token: missing "
		    "or not a string";
		goto fail;
	}
	return (1);
 fail:
	portal_msg_gw_authorization_free(a);
	return (-1);
}

static int
dec_reject_access(json_t *p, struct portal_access *a, const char **why)
{
	static const char *const reasons[2] = {
		"reject_access.client_id: missing or not a UUID",
		"reject_access.resource_id: missing or not a UUID",
	};

	return (dec_access(p, a, reasons, why) ? 1 : -1);
}

struct event_name {
	const char		*name;
	enum portal_msg_type	 type;
};

static const struct event_name client_events[] = {
	{ "init",				PORTAL_MSG_INIT },
	{ "config_changed",			PORTAL_MSG_CONFIG_CHANGED },
	{ "resource_created_or_updated",	PORTAL_MSG_RESOURCE_UPSERT },
	{ "resource_deleted",			PORTAL_MSG_RESOURCE_DELETED },
	{ "relays_presence",			PORTAL_MSG_RELAYS_PRESENCE },
	{ "authorization_created",		PORTAL_MSG_AUTHZ_CREATED },
	{ "flow_created",			PORTAL_MSG_AUTHZ_CREATED },
	{ "authorization_creation_failed",	PORTAL_MSG_AUTHZ_FAILED },
	{ "flow_creation_failed",		PORTAL_MSG_AUTHZ_FAILED },
	{ "ice_candidates",			PORTAL_MSG_CANDIDATES },
	{ "gateway_ice_candidates",		PORTAL_MSG_CANDIDATES },
	{ "invalidate_ice_candidates",	PORTAL_MSG_INVALIDATE_CANDIDATES },
	{ "invalidate_gateway_ice_candidates",
	    PORTAL_MSG_INVALIDATE_CANDIDATES },
	{ "disconnect",				PORTAL_MSG_DISCONNECT },
	{ NULL,					PORTAL_MSG_NONE },
};

static const struct event_name gateway_events[] = {
	{ "init",				PORTAL_MSG_INIT },
	{ "relays_presence",			PORTAL_MSG_RELAYS_PRESENCE },
	{ "create_authorization",		PORTAL_MSG_CREATE_AUTHZ },
	{ "ice_candidates",			PORTAL_MSG_CANDIDATES },
	{ "invalidate_ice_candidates",	PORTAL_MSG_INVALIDATE_CANDIDATES },
	{ "reject_access",			PORTAL_MSG_REJECT_ACCESS },
	{ "resource_updated",			PORTAL_MSG_RESOURCE_UPDATED },
	{ "disconnect",				PORTAL_MSG_DISCONNECT },
	{ NULL,					PORTAL_MSG_NONE },
};

static int
decode_event(const struct event_name *names, bool gw, const char *event,
    json_t *p, struct portal_msg *m, const char **why)
{
	int	 rv;

	memset(m, 0, sizeof(*m));
	*why = NULL;
	for (; names->name != NULL; names++)
		if (strcmp(event, names->name) == 0)
			break;
	if ((m->type = names->type) == PORTAL_MSG_NONE)
		return (0);
	if (m->type == PORTAL_MSG_RESOURCE_DELETED) {
		/* The only push whose payload is not an object. */
		if (!portal_msg_uuid(jstr(p, 36, 36), m->u.resource_id)) {
			m->type = PORTAL_MSG_NONE;
			*why = "resource_deleted: payload is not a UUID";
			return (-1);
		}
		return (1);
	}
	if (!json_is_object(p)) {
		m->type = PORTAL_MSG_NONE;
		*why = "payload is not an object";
		return (-1);
	}

	switch (m->type) {
	case PORTAL_MSG_INIT:
		rv = gw ? dec_gw_init(p, &m->u.init, &m->skips, why) :
		    dec_init(p, &m->u.init, &m->skips, why);
		break;
	case PORTAL_MSG_CONFIG_CHANGED:
		rv = -1;
		if (dec_interface(json_object_get(p, "interface"), &m->u.iface,
		    &m->skips, why))
			rv = 1;
		break;
	case PORTAL_MSG_RESOURCE_UPSERT:
		rv = dec_resource(p, &m->u.resource, why);
		break;
	case PORTAL_MSG_RELAYS_PRESENCE:
		rv = dec_relays_presence(p, &m->u.relays, &m->skips, why);
		break;
	case PORTAL_MSG_AUTHZ_CREATED:
		rv = dec_authz(p, &m->u.authz, why);
		break;
	case PORTAL_MSG_AUTHZ_FAILED:
		rv = dec_authz_failed(p, &m->u.authz_failed, &m->skips, why);
		break;
	case PORTAL_MSG_CANDIDATES:
	case PORTAL_MSG_INVALIDATE_CANDIDATES:
		rv = dec_candidates(p, gw, &m->u.candidates, &m->skips, why);
		break;
	case PORTAL_MSG_CREATE_AUTHZ:
		rv = dec_create_authz(p, &m->u.gw_authz, why);
		break;
	case PORTAL_MSG_REJECT_ACCESS:
		rv = dec_reject_access(p, &m->u.access, why);
		break;
	case PORTAL_MSG_RESOURCE_UPDATED:
		rv = dec_resource_updated(p, &m->u.resource, why);
		break;
	default:
		rv = dec_disconnect(p, &m->u.disconnect, why);
		break;
	}
	if (rv != 1) {
		/* The decoders have freed what they had built. */
		explicit_bzero(m, sizeof(*m));
		m->type = PORTAL_MSG_NONE;
	}
	return (rv);
}

/*
 * Returns 1 and fills *m for a message we understand, 0 for one we ignore
 * (unknown event, unknown resource type), -1 for a malformed one: then *m
 * is empty and *why names the field.  The client role's pushes.
 */
int
portal_msg_decode(const char *event, json_t *p, struct portal_msg *m,
    const char **why)
{
	return (decode_event(client_events, false, event, p, m, why));
}

/* The same for the gateway role's pushes (section 3). */
int
portal_msg_decode_gateway(const char *event, json_t *p,
    struct portal_msg *m, const char **why)
{
	return (decode_event(gateway_events, true, event, p, m, why));
}

void
portal_msg_free(struct portal_msg *m)
{
	switch (m->type) {
	case PORTAL_MSG_INIT:
		portal_msg_init_free(&m->u.init);
		break;
	case PORTAL_MSG_CONFIG_CHANGED:
		portal_msg_interface_free(&m->u.iface);
		break;
	case PORTAL_MSG_RESOURCE_UPSERT:
	case PORTAL_MSG_RESOURCE_UPDATED:
		portal_msg_resource_free(&m->u.resource);
		break;
	case PORTAL_MSG_RELAYS_PRESENCE:
		portal_msg_relays_presence_free(&m->u.relays);
		break;
	case PORTAL_MSG_CREATE_AUTHZ:
		portal_msg_gw_authorization_free(&m->u.gw_authz);
		break;
	case PORTAL_MSG_AUTHZ_CREATED:
		portal_msg_authorization_free(&m->u.authz);
		break;
	case PORTAL_MSG_CANDIDATES:
	case PORTAL_MSG_INVALIDATE_CANDIDATES:
		portal_msg_candidates_free(&m->u.candidates);
		break;
	default:
		break;
	}
	explicit_bzero(m, sizeof(*m));
}

static json_t *
id_list(const char *const *ids, size_t n)
{
	json_t	*arr;
	char	 id[PORTAL_ID_SIZE];
	size_t	 i;

	if ((arr = json_array()) == NULL)
		return (NULL);
	for (i = 0; i < n; i++) {
		if (!portal_msg_uuid(ids[i], id) ||
		    json_array_append_new(arr, json_string(id)) == -1) {
			json_decref(arr);
			return (NULL);
		}
	}
	return (arr);
}

/* connected_gateway_ids is always sent, [] when there is none. */
json_t *
portal_msg_request_authorization(const char *resource_id,
    const char *const *gateway_ids, size_t n)
{
	char	 id[PORTAL_ID_SIZE];
	json_t	*gws;

	if (!portal_msg_uuid(resource_id, id) ||
	    (gws = id_list(gateway_ids, n)) == NULL)
		return (NULL);
	return (json_pack("{s:s, s:o}", "resource_id", id,
	    "connected_gateway_ids", gws));
}

static json_t *
candidate_list(const char *const *cands, size_t n)
{
	json_t	*arr;
	size_t	 i;

	if ((arr = json_array()) == NULL)
		return (NULL);
	for (i = 0; i < n; i++) {
		if (cands[i] == NULL || cands[i][0] == '\0' ||
		    strlen(cands[i]) > MAX_STR || !printable(cands[i], true) ||
		    json_array_append_new(arr, json_string(cands[i])) == -1) {
			json_decref(arr);
			return (NULL);
		}
	}
	return (arr);
}

/* Payload of new_ and invalidate_gateway_ice_candidates. */
json_t *
portal_msg_gateway_candidates(const char *gateway_id,
    const char *const *cands, size_t n)
{
	char	 id[PORTAL_ID_SIZE];
	json_t	*arr;

	if (!portal_msg_uuid(gateway_id, id) ||
	    (arr = candidate_list(cands, n)) == NULL)
		return (NULL);
	return (json_pack("{s:s, s:o}", "gateway_id", id, "candidates", arr));
}

/* Gateway role: broadcast_ice_candidates and _invalidated_ (section 3). */
json_t *
portal_msg_client_candidates(const char *const *client_ids, size_t nids,
    const char *const *cands, size_t n)
{
	json_t	*ids, *arr;

	if (nids == 0 || (ids = id_list(client_ids, nids)) == NULL)
		return (NULL);
	if ((arr = candidate_list(cands, n)) == NULL) {
		json_decref(ids);
		return (NULL);
	}
	return (json_pack("{s:o, s:o}", "client_ids", ids, "candidates",
	    arr));
}

/* Gateway role: the peer is ready; the ref is create_authorization's. */
json_t *
portal_msg_authorization_created(const char *ref)
{
	if (ref == NULL || ref[0] == '\0' || strlen(ref) > PORTAL_REF_MAX ||
	    !printable(ref, false))
		return (NULL);
	return (json_pack("{s:s}", "ref", ref));
}

json_t *
portal_msg_no_relays(void)
{
	return (json_object());
}

/* Classic ICE only: the portal then never sets use_iceless. */
json_t *
portal_msg_snownet_capabilities(void)
{
	return (json_pack("{s:b}", "iceless", 0));
}
