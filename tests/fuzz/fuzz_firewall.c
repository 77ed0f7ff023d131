/*
 * fuzz_firewall: the gateway's disjoint cover of a client's authorizations
 * (fw_elements in tunneld/firewall.c), which nft needs because it refuses
 * overlapping intervals in a set. The input is up to 8 resources of
 * 24 + 6 * nfilters bytes each: type (CIDR or Internet), family, prefix
 * length, 16 address bytes, filter count, then per filter protocol and
 * port range, made valid as the IPC checks would have them.
 * Oracles: within one set, family and protocol no two elements overlap;
 * and at every point where an answer can change (each range's ends and
 * their neighbours, on both axes), an element covers the point exactly
 * when a resource allows it, worked out straight from the resources.
 */
#include "common/log.c"
#include "common/util.c"
#include "tunneld/firewall.c"

#include "tests/fuzz/fuzz.h"

#define NRES 8

static void
take_resource(const uint8_t *d, size_t n, struct ipc_gw_resource *r,
    size_t *used)
{
	static const uint8_t	 protos[] = { IPPROTO_TCP, IPPROTO_UDP,
		IPPROTO_ICMP };
	size_t			 i, len, k;

	memset(r, 0, sizeof(*r));
	*used = n;
	if (n < 24)
		return;
	r->type = d[0] & 1 ? IPC_RES_INTERNET : IPC_RES_CIDR;
	if (r->type == IPC_RES_CIDR) {
		r->prefix.family = d[1] & 1 ? AF_INET6 : AF_INET;
		len = r->prefix.family == AF_INET ? 4 : 16;
		r->prefix.prefixlen = d[2] % (len * 8 + 1);
		memcpy(r->prefix.addr, d + 3, len);
		/* Host bits zero, as ipc.c insists. */
		for (k = 0; k < len * 8; k++)
			if (k >= r->prefix.prefixlen)
				r->prefix.addr[k / 8] &= ~(0x80 >> (k % 8));
	}
	r->nfilters = d[19] % (IPC_MAX_FILTERS + 1);
	d += 24;
	n -= 24;
	for (i = 0; i < r->nfilters; i++) {
		if (n < 6) {
			r->nfilters = i;
			break;
		}
		r->filters[i].proto = protos[d[0] % 3];
		if (r->filters[i].proto != IPPROTO_ICMP) {
			r->filters[i].port_start = (uint16_t)(d[1] << 8 | d[2]);
			r->filters[i].port_end = (uint16_t)(d[3] << 8 | d[4]);
			if (r->filters[i].port_end == 0)
				r->filters[i].port_end = 1;
			if (r->filters[i].port_start > r->filters[i].port_end)
				r->filters[i].port_start =
				    r->filters[i].port_end;
		}
		d += 6;
		n -= 6;
	}
	*used = 24 + 6 * (size_t)r->nfilters;
}

/* What the resources allow at one point: the oracle, without the cover. */
static bool
allowed(struct ipc_gw_resource *const *res, size_t nres, int set, int family,
    uint8_t proto, u128 dst, uint16_t port)
{
	struct ipc_prefix	 all;
	u128			 lo, hi;
	size_t			 i, j;

	for (i = 0; i < nres; i++) {
		if (res[i]->type == IPC_RES_INTERNET) {
			memset(&all, 0, sizeof(all));
			all.family = family;
			fw_range(&all, &lo, &hi);
		} else if (res[i]->prefix.family == family)
			fw_range(&res[i]->prefix, &lo, &hi);
		else
			continue;
		if (dst < lo || dst > hi)
			continue;
		if (res[i]->nfilters == 0) {
			if (set == FW_ALL)
				return (true);
			continue;
		}
		for (j = 0; j < res[i]->nfilters; j++) {
			if (set == FW_ICMP &&
			    res[i]->filters[j].proto == IPPROTO_ICMP)
				return (true);
			if (set == FW_PORT &&
			    res[i]->filters[j].proto == proto &&
			    port >= res[i]->filters[j].port_start &&
			    port <= res[i]->filters[j].port_end)
				return (true);
		}
	}
	return (false);
}

static bool
covered(const struct fw_list *l, int set, int family, uint8_t proto, u128 dst,
    uint16_t port)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].set == set && l->v[i].family == family &&
		    l->v[i].proto == proto && dst >= l->v[i].lo &&
		    dst <= l->v[i].hi &&
		    (set != FW_PORT ||
			(port >= l->v[i].plo && port <= l->v[i].phi)))
			return (true);
	return (false);
}

static void
check_point(struct ipc_gw_resource *const *res, size_t nres,
    const struct fw_list *l, int set, int family, uint8_t proto, u128 dst,
    uint16_t port)
{
	bool	 want;

	if (dst > fw_max(family))
		return;
	want = allowed(res, nres, set, family, proto, dst, port);

	if (want != covered(l, set, family, proto, dst, port)) {
		fprintf(stderr, "set %d family %d proto %u port %u: %s\n", set,
		    family, proto, port,
		    want ? "allowed, not covered" : "covered, not allowed");
		abort();
	}
}

/* The set's protocol: none, or TCP then UDP for the port set. */
static uint8_t
proto_of(int set, size_t which)
{
	if (set != FW_PORT)
		return (0);
	return (which ? IPPROTO_UDP : IPPROTO_TCP);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_gw_resource	 store[NRES], *res[NRES];
	struct fw_list		 l;
	const struct fw_elem	*a, *b;
	u128			 d[4];
	uint16_t		 p[4];
	size_t			 nres = 0, used, i, j, x, y;

	while (size > 0 && nres < NRES) {
		take_resource(data, size, &store[nres], &used);
		if (used > size || size < 24)
			break;
		res[nres] = &store[nres];
		nres++;
		data += used;
		size -= used;
	}
	memset(&l, 0, sizeof(l));
	fw_elements((const struct ipc_gw_resource *const *)res, nres, &l);
	if (l.full) {
		free(l.v);
		return (0);
	}
	for (i = 0; i < l.n; i++) {
		a = &l.v[i];
		if (a->lo > a->hi || a->plo > a->phi)
			abort();
		for (j = i + 1; j < l.n; j++) {
			b = &l.v[j];
			if (a->set == b->set && a->family == b->family &&
			    a->proto == b->proto && a->lo <= b->hi &&
			    b->lo <= a->hi && a->plo <= b->phi &&
			    b->plo <= a->phi)
				abort();
		}
		/* The element's corners and just outside them. */
		d[0] = a->lo;
		d[1] = a->hi;
		d[2] = a->lo - 1;
		d[3] = a->hi + 1;
		p[0] = a->plo;
		p[1] = a->phi;
		p[2] = (uint16_t)(a->plo - 1);
		p[3] = (uint16_t)(a->phi + 1);
		for (x = 0; x < 4; x++)
			for (y = 0; y < 4; y++)
				check_point(res, nres, &l, a->set, a->family,
				    a->proto, d[x], p[y]);
	}
	/* And every resource's own corners, covered or not. */
	for (i = 0; i < nres; i++) {
		u128	 lo = 0, hi = fw_max(AF_INET6);
		int	 fam = AF_INET;

		if (res[i]->prefix.family != 0)
			fam = res[i]->prefix.family;
		if (res[i]->type == IPC_RES_CIDR)
			fw_range(&res[i]->prefix, &lo, &hi);
		else
			hi = fw_max(fam);
		for (j = 0; j < FW_NSETS; j++)
			for (x = 0; x < 2; x++) {
				check_point(res, nres, &l, (int)j, fam,
				    proto_of((int)j, x), lo, 80);
				check_point(res, nres, &l, (int)j, fam,
				    proto_of((int)j, x), hi, 443);
			}
	}
	free(l.v);
	return (0);
}
