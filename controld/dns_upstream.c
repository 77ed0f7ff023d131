/*
 * dns_upstream.c: which resolvers fzc forwards to, and the sentinel each
 * is asked through. Sentinels are handed out in list order, IPv4
 * resolvers and DoH servers from 100.100.111.1, IPv6 ones from
 * fd00:2021:1111:8000:100:100:111:1, so the same list gives the same
 * sentinels.
 */
#include <sys/socket.h>

#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "controld/dns_upstream.h"

static const uint8_t sentinel4[4] = { 100, 100, 111, 0 };
static const uint8_t sentinel6[16] = { 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11, 0x80,
	0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x11, 0x00, 0x00 };

bool
dns_upstream_is_sentinel(const struct portal_addr *a)
{
	if (a->family == AF_INET)
		return (memcmp(a->addr, sentinel4, 3) == 0);
	return (a->family == AF_INET6 && memcmp(a->addr, sentinel6, 15) == 0);
}

/*
 * The nameserver lines of a resolv.conf text, at most max, in order;
 * what is not an address (or has a scope) is skipped.
 */
size_t
dns_upstream_parse_resolv(const char *text, struct portal_addr *out, size_t max)
{
	char		 line[256], word[64], addr[64];
	const char	*p = text, *nl;
	size_t		 n = 0, len;

	while (*p != '\0' && n < max) {
		nl = strchr(p, '\n');
		len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (len < sizeof(line)) {
			memcpy(line, p, len);
			line[len] = '\0';
			if (sscanf(line, " %63s %63s", word, addr) == 2 &&
			    strcmp(word, "nameserver") == 0) {
				memset(&out[n], 0, sizeof(out[n]));
				if (inet_pton(AF_INET, addr, out[n].addr) == 1)
					out[n++].family = AF_INET;
				else if (inet_pton(AF_INET6, addr,
				    out[n].addr) == 1)
					out[n++].family = AF_INET6;
			}
		}
		p += len;
		if (*p == '\n')
			p++;
	}
	return (n);
}

/* The portal's DoH servers, each with an IPv4 sentinel. */
static size_t
effective_doh(const struct portal_interface *iface, struct dns_upstream *out)
{
	size_t	 i, n = 0;

	for (i = 0; i < iface->ndoh && n < DNS_UPSTREAM_MAX; i++) {
		if (strlen(iface->doh[i]) >= sizeof(out[n].url))
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		snprintf(out[n].url, sizeof(out[n].url), "%s", iface->doh[i]);
		out[n].sentinel.family = AF_INET;
		memcpy(out[n].sentinel.addr, sentinel4, 4);
		out[n].sentinel.addr[3] = (uint8_t)(n + 1);
		n++;
	}
	return (n);
}

/*
 * The effective upstreams into out (at most DNS_UPSTREAM_MAX), with
 * their sentinels. The portal's DoH list is used when it gives no Do53
 * resolvers, the system's list when it gives neither; sentinels in that
 * are ours, from an earlier run, and are left out.
 */
enum dns_upstream_source
dns_upstream_effective(const struct portal_interface *iface,
    const struct portal_addr *sys, size_t nsys, struct dns_upstream *out,
    size_t *nout)
{
	const struct portal_addr	*list = sys;
	enum dns_upstream_source	 src = DNS_UPSTREAM_SYSTEM;
	size_t				 n = nsys, i;
	uint8_t				 n4 = 0, n6 = 0;

	if (iface != NULL && iface->ndo53 > 0) {
		list = iface->do53;
		n = iface->ndo53;
		src = DNS_UPSTREAM_PORTAL_DO53;
	} else if (iface != NULL && iface->ndoh > 0) {
		if ((*nout = effective_doh(iface, out)) == 0)
			return (DNS_UPSTREAM_NONE);
		return (DNS_UPSTREAM_PORTAL_DOH);
	}
	*nout = 0;
	for (i = 0; i < n && *nout < DNS_UPSTREAM_MAX; i++) {
		if (dns_upstream_is_sentinel(&list[i]) ||
		    (list[i].family != AF_INET && list[i].family != AF_INET6))
			continue;
		memset(&out[*nout], 0, sizeof(out[*nout]));
		out[*nout].addr = list[i];
		out[*nout].sentinel.family = list[i].family;
		if (list[i].family == AF_INET) {
			memcpy(out[*nout].sentinel.addr, sentinel4, 4);
			out[*nout].sentinel.addr[3] = ++n4;
		} else {
			memcpy(out[*nout].sentinel.addr, sentinel6, 16);
			out[*nout].sentinel.addr[15] = ++n6;
		}
		(*nout)++;
	}
	return (*nout == 0 ? DNS_UPSTREAM_NONE : src);
}

/* The index of the upstream a sentinel stands for, or -1. */
int
dns_upstream_by_sentinel(const struct dns_upstream *u, size_t n,
    const struct portal_addr *sentinel)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (u[i].sentinel.family == sentinel->family &&
		    memcmp(u[i].sentinel.addr, sentinel->addr,
		    sentinel->family == AF_INET ? 4 : 16) == 0)
			return ((int)i);
	return (-1);
}

const char *
dns_upstream_source_name(enum dns_upstream_source src)
{
	static const char *const names[] = {
		[DNS_UPSTREAM_NONE] = "none",
		[DNS_UPSTREAM_PORTAL_DO53] = "portal_do53",
		[DNS_UPSTREAM_PORTAL_DOH] = "portal_doh",
		[DNS_UPSTREAM_SYSTEM] = "system",
	};

	return (names[src]);
}

/* For `fzc status`: each upstream, its sentinel, where it came from. */
json_t *
dns_upstream_json(const struct dns_upstream *u, size_t n,
    enum dns_upstream_source src)
{
	json_t	*a, *o;
	char	 s[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];
	size_t	 i;

	a = json_array();
	for (i = 0; i < n; i++) {
		inet_ntop(u[i].sentinel.family, u[i].sentinel.addr, s,
		    sizeof(s));
		if (u[i].url[0] != '\0')
			o = json_pack("{s:s, s:s, s:s}", "sentinel", s, "url",
			    u[i].url, "source", dns_upstream_source_name(src));
		else {
			inet_ntop(u[i].addr.family, u[i].addr.addr, r,
			    sizeof(r));
			o = json_pack("{s:s, s:s, s:s}", "sentinel", s,
			    "address", r, "source",
			    dns_upstream_source_name(src));
		}
		json_array_append_new(a, o);
	}
	return (a);
}
