/*
 * routes.c: the routing tables. A table is a plain value: copied, changed
 * and published whole by the main thread, never written once workers may
 * see it, so that they look up without locks.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "tunneld/iphdr.h"
#include "tunneld/routes.h"

static struct routes_aip *
aips_copy(const struct routes_aip *v, size_t n)
{
	struct routes_aip	*c;

	if (n == 0)
		return (NULL);
	c = xreallocarray(NULL, n, sizeof(*c));
	memcpy(c, v, n * sizeof(*c));
	return (c);
}

/* A changeable copy of t (an empty table for NULL). */
struct routes *
routes_copy(const struct routes *t)
{
	struct routes	*c;

	c = xcalloc(1, sizeof(*c));
	if (t == NULL)
		return (c);
	*c = *t;
	c->aip4 = aips_copy(t->aip4, t->naip4);
	c->aip6 = aips_copy(t->aip6, t->naip6);
	c->res = NULL;
	if (t->nres > 0) {
		c->res = xreallocarray(NULL, t->nres, sizeof(*c->res));
		memcpy(c->res, t->res, t->nres * sizeof(*c->res));
	}
	return (c);
}

/* The table only: its resources may live on in the next one. */
void
routes_free(void *arg)
{
	struct routes	*t = arg;

	if (t == NULL)
		return;
	free(t->aip4);
	free(t->aip6);
	free(t->res);
	free(t);
}

/* Longest prefix first, so that the first match wins. */
static int
aip_cmp(const void *a, const void *b)
{
	return ((int)((const struct routes_aip *)b)->prefixlen -
	    (int)((const struct routes_aip *)a)->prefixlen);
}

static bool
prefix_match(const uint8_t *prefix, uint8_t prefixlen, const uint8_t *addr)
{
	unsigned	 full = prefixlen / 8, rest = prefixlen % 8;

	if (memcmp(prefix, addr, full) != 0)
		return (false);
	return (rest == 0 ||
	    ((prefix[full] ^ addr[full]) & (0xff00 >> rest)) == 0);
}

/* -1: the prefix is routed already (to this peer or another). */
int
routes_add_aip(struct routes *t, struct peer *peer,
    const struct ipc_prefix *p)
{
	struct routes_aip	**v = p->family == AF_INET ? &t->aip4 :
	    &t->aip6;
	size_t			*n = p->family == AF_INET ? &t->naip4 :
	    &t->naip6;
	size_t			 i;

	for (i = 0; i < *n; i++)
		if ((*v)[i].prefixlen == p->prefixlen &&
		    memcmp((*v)[i].addr, p->addr, 16) == 0)
			return (-1);
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	memcpy((*v)[*n].addr, p->addr, 16);
	(*v)[*n].prefixlen = p->prefixlen;
	(*v)[*n].peer = peer;
	(*n)++;
	qsort(*v, *n, sizeof(**v), aip_cmp);
	return (0);
}

static void
aips_del_peer(struct routes_aip *v, size_t *n, const struct peer *peer)
{
	size_t	 i, j;

	for (i = j = 0; i < *n; i++)
		if (v[i].peer != peer)
			v[j++] = v[i];
	*n = j;
}

void
routes_del_peer(struct routes *t, const struct peer *peer)
{
	aips_del_peer(t->aip4, &t->naip4, peer);
	aips_del_peer(t->aip6, &t->naip6, peer);
}

static bool
same_resource(const struct routes_resource *r, const struct ipc_prefix *p,
    const char *id)
{
	return (strcmp(r->id, id) == 0 && r->family == p->family &&
	    r->prefixlen == p->prefixlen && memcmp(r->addr, p->addr, 16) == 0);
}

/* The new resource, or NULL: t has it already. */
struct routes_resource *
routes_add_resource(struct routes *t, const struct ipc_prefix *p,
    const char *id)
{
	struct routes_resource	*r;
	size_t			 i;

	for (i = 0; i < t->nres; i++)
		if (same_resource(t->res[i], p, id))
			return (NULL);
	r = xcalloc(1, sizeof(*r));
	memcpy(r->addr, p->addr, sizeof(r->addr));
	r->prefixlen = p->prefixlen;
	r->family = p->family;
	snprintf(r->id, sizeof(r->id), "%s", id);
	atomic_init(&r->wanted, 0);
	pthread_mutex_init(&r->lock, NULL);
	t->res = xreallocarray(t->res, t->nres + 1, sizeof(*t->res));
	t->res[t->nres++] = r;
	return (r);
}

/* The resource taken out of t, for the caller to retire, or NULL. */
struct routes_resource *
routes_del_resource(struct routes *t, const struct ipc_prefix *p,
    const char *id)
{
	struct routes_resource	*r;
	size_t			 i;

	for (i = 0; i < t->nres; i++)
		if (same_resource(t->res[i], p, id)) {
			r = t->res[i];
			t->res[i] = t->res[--t->nres];
			return (r);
		}
	return (NULL);
}

void
routes_resource_free(void *arg)
{
	struct routes_resource	*r = arg;

	stage_clear(&r->held);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static bool
same_addr(const struct sockaddr_in6 *a, const struct sockaddr_in6 *b)
{
	return (a->sin6_port == b->sin6_port &&
	    memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)) == 0);
}

bool
routes_has_relay(const struct routes *t, const struct sockaddr_in6 *a)
{
	size_t	 i;

	for (i = 0; i < t->nrelays; i++)
		if (same_addr(&t->relays[i], a))
			return (true);
	return (false);
}

/* -1: no room for another relay. */
int
routes_add_relay(struct routes *t, const struct sockaddr_in6 *a)
{
	if (routes_has_relay(t, a))
		return (0);
	if (t->nrelays == ROUTES_MAX_RELAYS)
		return (-1);
	t->relays[t->nrelays++] = *a;
	return (0);
}

bool
routes_del_relay(struct routes *t, const struct sockaddr_in6 *a)
{
	size_t	 i;

	for (i = 0; i < t->nrelays; i++)
		if (same_addr(&t->relays[i], a)) {
			t->relays[i] = t->relays[--t->nrelays];
			return (true);
		}
	return (false);
}

/* The peer whose allowed IPs cover the packet's source or destination. */
struct peer *
routes_lookup(const struct routes *t, const uint8_t *pkt, size_t len,
    bool src)
{
	const struct routes_aip	*v;
	const uint8_t		*addr;
	size_t			 i, n;

	if (len >= IP4_HDR_MIN && iphdr_version(pkt) == IPHDR_V4) {
		v = t->aip4;
		n = t->naip4;
		addr = pkt + (src ? IP4_SRC : IP4_DST);
	} else if (len >= IP6_HDR_LEN && iphdr_version(pkt) == IPHDR_V6) {
		v = t->aip6;
		n = t->naip6;
		addr = pkt + (src ? IP6_SRC : IP6_DST);
	} else
		return (NULL);
	for (i = 0; i < n; i++)
		if (prefix_match(v[i].addr, v[i].prefixlen, addr))
			return (v[i].peer);
	return (NULL);
}

/* The most specific resource covering the packet's destination. */
struct routes_resource *
routes_resource_for(const struct routes *t, const uint8_t *pkt, size_t len)
{
	struct routes_resource	*best = NULL, *r;
	const uint8_t		*dst;
	size_t			 i;
	int			 family;

	if (len >= IP4_HDR_MIN && iphdr_version(pkt) == IPHDR_V4) {
		family = AF_INET;
		dst = pkt + IP4_DST;
	} else if (len >= IP6_HDR_LEN && iphdr_version(pkt) == IPHDR_V6) {
		family = AF_INET6;
		dst = pkt + IP6_DST;
	} else
		return (NULL);
	for (i = 0; i < t->nres; i++) {
		r = t->res[i];
		if (r->family == family &&
		    prefix_match(r->addr, r->prefixlen, dst) &&
		    (best == NULL || r->prefixlen > best->prefixlen))
			best = r;
	}
	return (best);
}
