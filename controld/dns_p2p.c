/*
 * dns_p2p.c: AssignedIps and DomainStatus as JSON (PROTOCOL.md 4.6).
 * Parsing is strict where it matters: a UUID, a domain that is a name
 * (lower-cased, no trailing dot), proxy IPs of the proxy ranges only,
 * each once; members fzc does not know are ignored, as a newer peer may
 * send more.
 */
#include <sys/socket.h>

#include <arpa/inet.h>

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controld/dns_p2p.h"
#include "ipc/ipc.h"

#define P2P_JSON_MAX	1024	/* as IPC_P2P_MAX */

static bool
p2p_uuid(const char *s)
{
	size_t	 i;

	if (strlen(s) != 36)
		return (false);
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return (false);
		} else if (!isxdigit((unsigned char)s[i]))
			return (false);
	}
	return (true);
}

/* A host name, as the stub resolver would have answered it. */
static bool
p2p_domain(const char *s, char out[DNS_NAME_MAX + 1])
{
	size_t	 i;

	if (!ipc_domain_valid(s, DNS_NAME_MAX + 1))
		return (false);
	for (i = 0; s[i] != '\0'; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[i] = '\0';
	return (true);
}

/* 100.96.0.0/11 but the sentinels' 100.100.111.0/24; fd00:2021:1111:8000::/107. */
bool
dns_p2p_proxy_ip(const struct dns_p2p_ip *ip)
{
	static const uint8_t v6[13] = { 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11,
		0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };

	if (ip->family == AF_INET)
		return (ip->addr[0] == 100 && (ip->addr[1] & 0xe0) == 96 &&
		    !(ip->addr[1] == 100 && ip->addr[2] == 111));
	return (ip->family == AF_INET6 && memcmp(ip->addr, v6, 13) == 0 &&
	    (ip->addr[13] & 0xe0) == 0);
}

static char *
p2p_dump(json_t *o)
{
	char	*s;

	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s != NULL && strlen(s) > P2P_JSON_MAX) {
		free(s);
		return (NULL);
	}
	return (s);
}

char *
dns_p2p_assigned_json(const struct dns_p2p_assigned *a)
{
	json_t	*ips = json_array();
	char	 buf[INET6_ADDRSTRLEN];
	size_t	 i;

	for (i = 0; i < a->nips; i++) {
		inet_ntop(a->ips[i].family, a->ips[i].addr, buf, sizeof(buf));
		json_array_append_new(ips, json_string(buf));
	}
	return (p2p_dump(json_pack("{s:s, s:s, s:o}", "resource",
	    a->resource_id, "domain", a->domain, "proxy_ips", ips)));
}

char *
dns_p2p_status_json(const char *resource_id, const char *domain, bool active)
{
	return (p2p_dump(json_pack("{s:s, s:s, s:s}", "resource", resource_id,
	    "domain", domain, "status", active ? "Active" : "Inactive")));
}

/* The object, with resource and domain checked; NULL with *why. */
static json_t *
p2p_load(const uint8_t *data, size_t len, char id[DNS_P2P_ID_SIZE],
    char domain[DNS_NAME_MAX + 1], const char **why)
{
	json_error_t	 err;
	json_t		*o, *v;

	if (len == 0 || len > P2P_JSON_MAX) {
		*why = "empty or too long";
		return (NULL);
	}
	if ((o = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES,
		 &err)) == NULL ||
	    !json_is_object(o)) {
		*why = "not a JSON object";
		json_decref(o);
		return (NULL);
	}
	if ((v = json_object_get(o, "resource")) == NULL ||
	    !json_is_string(v) || !p2p_uuid(json_string_value(v))) {
		*why = "resource: missing or not a UUID";
		goto fail;
	}
	snprintf(id, DNS_P2P_ID_SIZE, "%s", json_string_value(v));
	if ((v = json_object_get(o, "domain")) == NULL || !json_is_string(v) ||
	    json_string_length(v) != strlen(json_string_value(v)) ||
	    !p2p_domain(json_string_value(v), domain)) {
		*why = "domain: missing or not a name";
		goto fail;
	}
	return (o);
 fail:
	json_decref(o);
	return (NULL);
}

int
dns_p2p_parse_assigned(const uint8_t *data, size_t len,
    struct dns_p2p_assigned *a, const char **why)
{
	json_t		*o, *arr, *v;
	struct dns_p2p_ip ip;
	size_t		 i, j;

	memset(a, 0, sizeof(*a));
	if ((o = p2p_load(data, len, a->resource_id, a->domain, why)) == NULL)
		return (-1);
	arr = json_object_get(o, "proxy_ips");
	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > DNS_P2P_MAX_IPS) {
		*why = "proxy_ips: not a list of 1 to 8";
		goto fail;
	}
	json_array_foreach(arr, i, v) {
		memset(&ip, 0, sizeof(ip));
		if (!json_is_string(v)) {
			*why = "proxy_ips[]: not a string";
			goto fail;
		}
		if (inet_pton(AF_INET, json_string_value(v), ip.addr) == 1)
			ip.family = AF_INET;
		else if (inet_pton(AF_INET6, json_string_value(v), ip.addr) ==
		    1)
			ip.family = AF_INET6;
		if (!dns_p2p_proxy_ip(&ip)) {
			*why = "proxy_ips[]: not a proxy IP";
			goto fail;
		}
		for (j = 0; j < a->nips; j++)
			if (memcmp(&a->ips[j], &ip, sizeof(ip)) == 0) {
				*why = "proxy_ips[]: listed twice";
				goto fail;
			}
		a->ips[a->nips++] = ip;
	}
	json_decref(o);
	return (0);
 fail:
	json_decref(o);
	memset(a, 0, sizeof(*a));
	return (-1);
}

int
dns_p2p_parse_status(const uint8_t *data, size_t len, struct dns_p2p_status *st,
    const char **why)
{
	json_t	*o, *v;

	memset(st, 0, sizeof(*st));
	if ((o = p2p_load(data, len, st->resource_id, st->domain, why)) == NULL)
		return (-1);
	if ((v = json_object_get(o, "status")) == NULL || !json_is_string(v)) {
		*why = "status: missing or not a string";
		json_decref(o);
		memset(st, 0, sizeof(*st));
		return (-1);
	}
	/* PROTOCOL 4.6: unknown values mean Inactive. */
	st->active = strcmp(json_string_value(v), "Active") == 0;
	json_decref(o);
	return (0);
}

/*
 * The gateway's translations for AssignedIps: each proxy IP to one of
 * the name's addresses of its family, in turn (PROTOCOL 4.6); a proxy IP
 * of a family the name has no address of gets none (family 0). Returns
 * how many got one.
 */
size_t
dns_p2p_map(const struct dns_p2p_assigned *a, const struct dns_p2p_ip *addrs,
    size_t n, struct dns_p2p_ip real[DNS_P2P_MAX_IPS])
{
	const struct dns_p2p_ip	*fam[2][DNS_P2P_MAX_IPS];
	size_t			 nfam[2] = { 0, 0 }, used[2] = { 0, 0 };
	size_t			 i, mapped = 0;
	int			 f;

	memset(real, 0, DNS_P2P_MAX_IPS * sizeof(*real));
	for (i = 0; i < n; i++) {
		f = addrs[i].family == AF_INET6;
		if (nfam[f] < DNS_P2P_MAX_IPS)
			fam[f][nfam[f]++] = &addrs[i];
	}
	for (i = 0; i < a->nips && i < DNS_P2P_MAX_IPS; i++) {
		f = a->ips[i].family == AF_INET6;
		if (nfam[f] == 0)
			continue;
		real[i] = *fam[f][used[f]++ % nfam[f]];
		mapped++;
	}
	return (mapped);
}
