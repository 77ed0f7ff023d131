/*
 * dns_proxy.c: the proxy-IP allocator. Name i gets the i-th group of 4
 * addresses of each range, so an address leads back to its name without
 * a second table; the IPv4 sentinel block inside the range is skipped.
 */
#include <sys/socket.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "controld/dns_proxy.h"

/* 100.96.0.0/11: 21 bits; 100.100.111.0/24, the sentinels, is inside. */
#define V4_BASE		0x64600000u
#define V4_BITS		21
#define V4_SENTINELS	(0x64646f00u - V4_BASE)
/* fd00:2021:1111:8000::/107: 21 bits in the last 3 bytes. */
static const uint8_t v6_base[16] = { 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11, 0x80,
	0x00 };
#define V6_BITS		21
#define INITIAL_BUCKETS	64

struct dns_proxy_bucket {
	struct dns_proxy_bucket	*next;
	struct dns_proxy_name	*name;
};

void
dns_proxy_init(struct dns_proxy *p)
{
	memset(p, 0, sizeof(*p));
}

void
dns_proxy_clear(struct dns_proxy *p)
{
	struct dns_proxy_bucket	*b, *next;
	size_t			 i;

	for (i = 0; i < p->nbuckets; i++)
		for (b = p->buckets[i]; b != NULL; b = next) {
			next = b->next;
			free(b);
		}
	for (i = 0; i < p->nnames; i++)
		free(p->names[i]);
	free(p->buckets);
	free(p->names);
	memset(p, 0, sizeof(*p));
}

static uint32_t
hash(const char *s)
{
	uint32_t	 h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return (h);
}

/* The offset into the IPv4 range of address k (from 0), or 0: none. */
static uint32_t
v4_offset(size_t k)
{
	/* .0 is the network's own address: the first is 100.96.0.1. */
	uint32_t	 off = (uint32_t)k + 1;

	if (off >= V4_SENTINELS)
		off += 256;
	return (off < (1u << V4_BITS) ? off : 0);
}

static void
assign(struct dns_proxy_name *n, size_t index)
{
	uint32_t	 a;
	size_t		 k, i;

	for (i = 0; i < DNS_PROXY_PER_FAMILY; i++) {
		k = index * DNS_PROXY_PER_FAMILY + i;
		a = V4_BASE + v4_offset(k);
		n->v4[i][0] = a >> 24;
		n->v4[i][1] = a >> 16;
		n->v4[i][2] = a >> 8;
		n->v4[i][3] = a;
		memcpy(n->v6[i], v6_base, 16);
		n->v6[i][13] = (k >> 16) & 0x1f;
		n->v6[i][14] = k >> 8;
		n->v6[i][15] = k;
	}
}

static void
grow(struct dns_proxy *p)
{
	struct dns_proxy_bucket	**nb, *b, *next;
	size_t n = p->nbuckets == 0 ? INITIAL_BUCKETS : p->nbuckets * 2, i, h;

	nb = xcalloc(n, sizeof(*nb));
	for (i = 0; i < p->nbuckets; i++)
		for (b = p->buckets[i]; b != NULL; b = next) {
			next = b->next;
			h = hash(b->name->name) & (n - 1);
			b->next = nb[h];
			nb[h] = b;
		}
	free(p->buckets);
	p->buckets = nb;
	p->nbuckets = n;
}

/* Lower case, without the trailing dot; false: not a name that fits. */
static bool
canonical(const char *name, char *out)
{
	size_t	 len = strlen(name), i;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > DNS_NAME_MAX)
		return (false);
	for (i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)name[i]);
	out[len] = '\0';
	return (true);
}

const struct dns_proxy_name *
dns_proxy_find(const struct dns_proxy *p, const char *name)
{
	struct dns_proxy_bucket	*b;
	char			 key[DNS_NAME_MAX + 1];

	if (p->nbuckets == 0 || !canonical(name, key))
		return (NULL);
	for (b = p->buckets[hash(key) & (p->nbuckets - 1)]; b != NULL;
	    b = b->next)
		if (strcmp(b->name->name, key) == 0)
			return (b->name);
	return (NULL);
}

/*
 * The next number's addresses for name; NULL: not a name. A NULL name
 * keeps the number from being given: no lookup finds it.
 */
static struct dns_proxy_name *
append(struct dns_proxy *p, const char *name)
{
	struct dns_proxy_name	*n;
	struct dns_proxy_bucket	*b;
	size_t			 h;

	n = xcalloc(1, sizeof(*n));
	if (name != NULL && !canonical(name, n->name)) {
		free(n);
		return (NULL);
	}
	assign(n, p->nnames);
	if (p->nnames >= p->nbuckets)
		grow(p);
	if (p->nnames == p->cap) {
		p->cap = p->cap == 0 ? INITIAL_BUCKETS : p->cap * 2;
		p->names = xreallocarray(p->names, p->cap, sizeof(*p->names));
	}
	p->names[p->nnames++] = n;
	if (name == NULL)
		return (n);
	b = xcalloc(1, sizeof(*b));
	b->name = n;
	h = hash(n->name) & (p->nbuckets - 1);
	b->next = p->buckets[h];
	p->buckets[h] = b;
	return (n);
}

/*
 * The name's addresses, given them if it had none (*fresh set then).
 * NULL: not a name, or no addresses left.
 */
const struct dns_proxy_name *
dns_proxy_get(struct dns_proxy *p, const char *name, bool *fresh)
{
	const struct dns_proxy_name	*found;
	struct dns_proxy_name		*n;

	*fresh = false;
	if ((found = dns_proxy_find(p, name)) != NULL)
		return (found);
	if (p->nnames == DNS_PROXY_MAX_NAMES)
		return (NULL);
	if ((n = append(p, name)) != NULL)
		*fresh = true;
	return (n);
}

/*
 * Name k as tunneld kept it for a restarted controld: numbers below k
 * that nobody gave back stay unused, so that no name takes another's
 * addresses. NULL: k is taken or out of range, the name is known, or it
 * is not a name.
 */
const struct dns_proxy_name *
dns_proxy_restore(struct dns_proxy *p, size_t k, const char *name)
{
	if (k < p->nnames || k >= DNS_PROXY_MAX_NAMES ||
	    dns_proxy_find(p, name) != NULL)
		return (NULL);
	while (p->nnames < k)
		(void)append(p, NULL);
	return (append(p, name));
}

/* Whether addr is in the proxy range of its family. */
bool
dns_proxy_in_range(int family, const uint8_t *addr)
{
	uint32_t	 a;

	if (family == AF_INET) {
		a = (uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 |
		    (uint32_t)addr[2] << 8 | addr[3];
		return ((a >> V4_BITS) == (V4_BASE >> V4_BITS));
	}
	return (family == AF_INET6 && memcmp(addr, v6_base, 13) == 0 &&
	    (addr[13] & 0xe0) == 0);
}

/* The name a proxy IP was given to, or NULL. */
const struct dns_proxy_name *
dns_proxy_by_addr(const struct dns_proxy *p, int family, const uint8_t *addr)
{
	long	 k;

	k = ipc_proxy_name(family, addr, NULL);
	if (k == -1 || (size_t)k >= p->nnames || p->names[k]->name[0] == '\0')
		return (NULL);
	return (p->names[k]);
}
