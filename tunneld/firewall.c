/*
 * firewall.c: the gateway role's nftables table, and the set elements that
 * say what each client may reach.
 *
 * nft refuses an interval element that starts inside another one of the
 * same set ("File exists"), and an element is deleted only as it was
 * added. Authorizations overlap all the time (the Internet resource and
 * any CIDR resource; a /16 with tcp/1-65535 and a host in it with
 * tcp/443), so the elements of a client are not the authorizations as
 * given but a disjoint cover of their union: destination ranges cut at
 * every boundary, each piece with the merged port ranges that cover it,
 * equal neighbours joined again. The cover is sorted, and a change is the
 * difference between the old cover and the new one.
 */
#include <sys/pidfd.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "tunneld/firewall.h"

#define FW_MAX_ELEMS		4096	/* per client */
#define FW_NFT_TIMEOUT_MS	10000
#define FW_SH			"/bin/sh"
/* Where the portal allocates device tunnel IPs (PROTOCOL 4.5). */
#define FW_TUNNEL_V4		"100.64.0.0/11"
#define FW_TUNNEL_V6		"fd00:2021:1111::/107"
/* The gateway's DNS server for SRV and TXT (PROTOCOL 4.6). */
#define FW_DNS_PORT		53535

__extension__ typedef unsigned __int128 u128;

enum fw_set {
	FW_ALL,		/* every protocol: client . destination */
	FW_ICMP,	/* ICMP and ICMPv6: client . destination */
	FW_PORT,	/* client . destination . tcp|udp . ports */
	FW_NSETS
};

static const char *const fw_set_name[FW_NSETS] = { "all", "icmp", "port" };

struct fw_elem {
	uint8_t		set;
	uint8_t		family;
	uint8_t		proto;		/* FW_PORT only */
	uint16_t	plo, phi;	/* FW_PORT only */
	u128		lo, hi;		/* destination, inclusive */
};

/* A destination range with a port range, before the cover. */
struct fw_rect {
	u128		lo, hi;
	uint16_t	plo, phi;
};

struct fw_client {
	char			 id[IPC_ID_MAX];
	struct ipc_prefix	 v4, v6;
	struct fw_elem		*elems;
	size_t			 nelems;
};

struct firewall {
	char			 ifname[IF_NAMESIZE];
	char			 table[IF_NAMESIZE + 8];
	struct fw_client	**clients;
	size_t			 nclients;
};

/* A working list of elements or rectangles, bounded. */
struct fw_list {
	struct fw_elem	*v;
	size_t		 n, size;
	bool		 full;
};

static void	fw_printf(struct fw_script *, const char *, ...)
		    __attribute__((__format__(printf, 2, 3)));

static void
fw_printf(struct fw_script *s, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	for (;;) {
		if (s->size - s->len < 256) {
			s->size = s->size == 0 ? 4096 : s->size * 2;
			s->text = xreallocarray(s->text, s->size, 1);
		}
		va_start(ap, fmt);
		n = vsnprintf(s->text + s->len, s->size - s->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			fatalx("formatting nft rules");
		if ((size_t)n < s->size - s->len) {
			s->len += (size_t)n;
			return;
		}
		s->size *= 2;
		s->text = xreallocarray(s->text, s->size, 1);
	}
}

void
fw_script_reset(struct fw_script *s)
{
	s->len = 0;
	if (s->text != NULL)
		s->text[0] = '\0';
}

void
fw_script_free(struct fw_script *s)
{
	free(s->text);
	memset(s, 0, sizeof(*s));
}

/* Characters nft takes in a table name and a quoted interface name. */
int
firewall_ifname_ok(const char *ifname, const char **why)
{
	size_t	 i, len = strlen(ifname);

	if (len == 0 || len >= IF_NAMESIZE) {
		*why = "interface name empty or too long";
		return (0);
	}
	for (i = 0; i < len; i++)
		if (!((ifname[i] >= 'a' && ifname[i] <= 'z') ||
		    (ifname[i] >= 'A' && ifname[i] <= 'Z') ||
		    (ifname[i] >= '0' && ifname[i] <= '9') ||
		    ifname[i] == '_' || ifname[i] == '-' || ifname[i] == '.')) {
			*why = "interface name has characters other than "
			    "letters, digits, '_', '-' and '.'";
			return (0);
		}
	return (1);
}

struct firewall *
firewall_new(const char *ifname, const char **why)
{
	struct firewall	*fw;
	size_t		 len = strlen(ifname);

	if (!firewall_ifname_ok(ifname, why))
		return (NULL);
	fw = xcalloc(1, sizeof(*fw));
	memcpy(fw->ifname, ifname, len + 1);
	snprintf(fw->table, sizeof(fw->table), "fzc_%s", ifname);
	return (fw);
}

static void
fw_client_free(struct fw_client *c)
{
	free(c->elems);
	free(c);
}

void
firewall_free(struct firewall *fw)
{
	size_t	 i;

	if (fw == NULL)
		return;
	for (i = 0; i < fw->nclients; i++)
		fw_client_free(fw->clients[i]);
	free(fw->clients);
	free(fw);
}

const char *
firewall_table(const struct firewall *fw)
{
	return (fw->table);
}

/*
 * From the tunnel, both to forward and to the gateway itself (a resource
 * may be one of its own addresses, and nothing else on it is for the
 * clients): authorized or refused. Into the tunnel only answers: the
 * network behind the gateway opens nothing toward the clients, and one
 * client reaches another through the gateway not at all.
 */
void
firewall_setup(const struct firewall *fw, struct fw_script *s)
{
	const char	*t = fw->table, *i = fw->ifname;
	int		 f;

	/* Creating, then deleting, replaces whatever a crash left. */
	fw_printf(s, "table inet %s\ndelete table inet %s\n"
	    "table inet %s {\n", t, t, t);
	for (f = 4; f <= 6; f += 2) {
		fw_printf(s, "\tset all%d {\n\t\ttype ipv%d_addr . "
		    "ipv%d_addr\n\t\tflags interval\n\t}\n", f, f, f);
		fw_printf(s, "\tset icmp%d {\n\t\ttype ipv%d_addr . "
		    "ipv%d_addr\n\t\tflags interval\n\t}\n", f, f, f);
		fw_printf(s, "\tset port%d {\n\t\ttype ipv%d_addr . ipv%d_addr"
		    " . inet_proto . inet_service\n"
		    "\t\tflags interval\n\t}\n", f, f, f);
	}
	fw_printf(s, "\tchain from_tunnel {\n"
	    "\t\tmeta l4proto { icmp, ipv6-icmp } ct state related accept\n"
	    "\t\tip saddr . ip daddr @all4 accept\n"
	    "\t\tip6 saddr . ip6 daddr @all6 accept\n"
	    "\t\tmeta l4proto icmp ip saddr . ip daddr @icmp4 accept\n"
	    "\t\tmeta l4proto ipv6-icmp ip6 saddr . ip6 daddr @icmp6 accept\n"
	    "\t\tip saddr . ip daddr . meta l4proto . th dport @port4 "
	    "accept\n"
	    "\t\tip6 saddr . ip6 daddr . meta l4proto . th dport @port6 "
	    "accept\n"
	    "\t\treject with icmpx type admin-prohibited\n"
	    "\t}\n");
	fw_printf(s, "\tchain forward {\n"
	    "\t\ttype filter hook forward priority filter; policy accept;\n"
	    "\t\toifname \"%s\" ct state established,related accept\n"
	    "\t\toifname \"%s\" drop\n"
	    "\t\tiifname \"%s\" jump from_tunnel\n"
	    "\t}\n", i, i, i);
	/*
	 * Port 53535 on the gateway's tunnel addresses (the only local ones
	 * in the device ranges) answers the clients' SRV and TXT queries
	 * (PROTOCOL 4.6), and only from the tunnel, where WireGuard vouches
	 * for the source address that says which client asks.
	 */
	fw_printf(s,
	    "\tchain input {\n"
	    "\t\ttype filter hook input priority filter; policy accept;\n"
	    "\t\tiifname \"%s\" ct direction reply accept\n"
	    "\t\tudp dport %d ip daddr %s iifname != \"%s\" drop\n"
	    "\t\tudp dport %d ip6 daddr %s iifname != \"%s\" drop\n"
	    "\t\tudp dport %d ip daddr %s accept\n"
	    "\t\tudp dport %d ip6 daddr %s accept\n"
	    "\t\tiifname \"%s\" jump from_tunnel\n"
	    "\t}\n",
	    i, FW_DNS_PORT, FW_TUNNEL_V4, i, FW_DNS_PORT, FW_TUNNEL_V6, i,
	    FW_DNS_PORT, FW_TUNNEL_V4, FW_DNS_PORT, FW_TUNNEL_V6, i);
	fw_printf(s, "\tchain postrouting {\n"
	    "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
	    "\t\toifname != \"%s\" ip saddr %s masquerade\n"
	    "\t\toifname != \"%s\" ip6 saddr %s masquerade\n"
	    "\t}\n}\n", i, FW_TUNNEL_V4, i, FW_TUNNEL_V6);
}

void
firewall_teardown(const struct firewall *fw, struct fw_script *s)
{
	fw_printf(s, "delete table inet %s\n", fw->table);
}

static u128
fw_max(int family)
{
	return (family == AF_INET ? (u128)UINT32_MAX : ~(u128)0);
}

static void
fw_range(const struct ipc_prefix *p, u128 *lo, u128 *hi)
{
	unsigned	 bits = p->family == AF_INET ? 32 : 128, i;

	*lo = 0;
	for (i = 0; i < bits / 8; i++)
		*lo = (*lo << 8) | p->addr[i];
	if (p->prefixlen == 0)
		*hi = fw_max(p->family);
	else
		*hi = *lo | (((u128)1 << (bits - p->prefixlen)) - 1);
}

static void
fw_ntop(int family, u128 v, char *buf, size_t size)
{
	uint8_t	 a[16];
	int	 i, n = family == AF_INET ? 4 : 16;

	for (i = n - 1; i >= 0; i--) {
		a[i] = (uint8_t)v;
		v >>= 8;
	}
	inet_ntop(family, a, buf, size);
}

static int
fw_u128cmp(u128 a, u128 b)
{
	return (a < b ? -1 : a > b);
}

static int
fw_elem_cmp(const void *va, const void *vb)
{
	const struct fw_elem	*a = va, *b = vb;

	if (a->set != b->set)
		return (a->set < b->set ? -1 : 1);
	if (a->family != b->family)
		return (a->family < b->family ? -1 : 1);
	if (a->proto != b->proto)
		return (a->proto < b->proto ? -1 : 1);
	if (a->lo != b->lo)
		return (fw_u128cmp(a->lo, b->lo));
	if (a->hi != b->hi)
		return (fw_u128cmp(a->hi, b->hi));
	if (a->plo != b->plo)
		return (a->plo < b->plo ? -1 : 1);
	if (a->phi != b->phi)
		return (a->phi < b->phi ? -1 : 1);
	return (0);
}

static void
fw_push(struct fw_list *l, const struct fw_elem *e)
{
	if (l->n == FW_MAX_ELEMS) {
		l->full = true;
		return;
	}
	if (l->n == l->size) {
		l->size = l->size == 0 ? 16 : l->size * 2;
		l->v = xreallocarray(l->v, l->size, sizeof(*l->v));
	}
	l->v[l->n++] = *e;
}

static int
fw_rect_lo_cmp(const void *va, const void *vb)
{
	const struct fw_rect	*a = va, *b = vb;

	if (a->lo != b->lo)
		return (fw_u128cmp(a->lo, b->lo));
	return (a->plo < b->plo ? -1 : a->plo > b->plo);
}

static int
fw_port_cmp(const void *va, const void *vb)
{
	const struct fw_rect	*a = va, *b = vb;

	return (a->plo < b->plo ? -1 : a->plo > b->plo);
}

static int
fw_bound_cmp(const void *va, const void *vb)
{
	return (fw_u128cmp(*(const u128 *)va, *(const u128 *)vb));
}

/* Port ranges sorted by start, merged where they touch; returns count. */
static size_t
fw_merge_ports(struct fw_rect *p, size_t n)
{
	size_t	 i, m = 0;

	if (n == 0)
		return (0);
	qsort(p, n, sizeof(*p), fw_port_cmp);
	for (i = 1; i < n; i++) {
		if ((unsigned)p[i].plo <= (unsigned)p[m].phi + 1) {
			if (p[i].phi > p[m].phi)
				p[m].phi = p[i].phi;
		} else
			p[++m] = p[i];
	}
	return (m + 1);
}

/*
 * The disjoint cover of rectangles (destination range x port range; one
 * port range 0-0 stands for "no ports" in the sets without them). The
 * destination axis is cut at every rectangle's start and end + 1; over each
 * piece the same rectangles apply, so its port ranges are their merge. A
 * port range that goes on unchanged into the next piece stays one element.
 */
static void
fw_cover(struct fw_list *out, const struct fw_elem *proto,
    struct fw_rect *r, size_t n)
{
	struct fw_elem	 e = *proto;
	struct fw_rect	*cur, *prev;
	u128		*b, *start, *nstart, max = fw_max(proto->family), end;
	u128		 prev_end = 0;
	size_t		 nb = 0, i, j, k, m, ncur, nprev = 0;

	if (n == 0)
		return;
	qsort(r, n, sizeof(*r), fw_rect_lo_cmp);
	b = xreallocarray(NULL, 2 * n, sizeof(*b));
	for (i = 0; i < n; i++) {
		b[nb++] = r[i].lo;
		if (r[i].hi != max)
			b[nb++] = r[i].hi + 1;
	}
	qsort(b, nb, sizeof(*b), fw_bound_cmp);
	cur = xreallocarray(NULL, n, sizeof(*cur));
	prev = xreallocarray(NULL, n, sizeof(*prev));
	start = xreallocarray(NULL, n, sizeof(*start));
	nstart = xreallocarray(NULL, n, sizeof(*nstart));
	for (k = 0; k <= nb; k++) {
		if (k > 0 && k < nb && b[k] == b[k - 1])
			continue;
		ncur = 0;
		end = 0;
		if (k < nb) {
			for (i = k + 1; i < nb && b[i] == b[k]; i++)
				;
			end = i < nb ? b[i] - 1 : max;
			for (i = 0; i < n && r[i].lo <= b[k]; i++)
				if (r[i].hi >= b[k])
					cur[ncur++] = r[i];
			ncur = fw_merge_ports(cur, ncur);
		}
		/* Both sorted by port: carry the equal, close the rest. */
		for (j = 0, m = 0; j < nprev || m < ncur;) {
			if (j < nprev && m < ncur &&
			    prev[j].plo == cur[m].plo &&
			    prev[j].phi == cur[m].phi)
				nstart[m++] = start[j++];
			else if (m == ncur || (j < nprev &&
			    prev[j].plo <= cur[m].plo)) {
				e.lo = start[j];
				e.hi = prev_end;
				e.plo = prev[j].plo;
				e.phi = prev[j].phi;
				fw_push(out, &e);
				j++;
			} else
				nstart[m++] = b[k];
		}
		memcpy(prev, cur, ncur * sizeof(*cur));
		memcpy(start, nstart, ncur * sizeof(*start));
		nprev = ncur;
		prev_end = end;
	}
	free(b);
	free(cur);
	free(prev);
	free(start);
	free(nstart);
}

/* One set's rectangles from the authorized resources. */
static size_t
fw_rects(const struct ipc_gw_resource *const *res, size_t nres, int family,
    enum fw_set set, uint8_t proto, struct fw_rect *r)
{
	const struct ipc_gw_resource	*x;
	struct ipc_prefix		 all;
	u128				 lo, hi;
	size_t				 i, j, n = 0;

	for (i = 0; i < nres; i++) {
		x = res[i];
		if (x->type == IPC_RES_INTERNET) {
			memset(&all, 0, sizeof(all));
			all.family = family;
			fw_range(&all, &lo, &hi);
		} else if (x->prefix.family == family)
			fw_range(&x->prefix, &lo, &hi);
		else
			continue;
		if (x->nfilters == 0) {
			if (set == FW_ALL)
				r[n++] = (struct fw_rect){ lo, hi, 0, 0 };
			continue;
		}
		for (j = 0; j < x->nfilters && j < IPC_MAX_FILTERS; j++) {
			if (set == FW_ICMP &&
			    x->filters[j].proto == IPPROTO_ICMP)
				r[n++] = (struct fw_rect){ lo, hi, 0, 0 };
			else if (set == FW_PORT &&
			    x->filters[j].proto == proto)
				r[n++] = (struct fw_rect){ lo, hi,
				    x->filters[j].port_start,
				    x->filters[j].port_end };
		}
	}
	return (n);
}

/* What a client's authorizations come to, sorted. */
static void
fw_elements(const struct ipc_gw_resource *const *res, size_t nres,
    struct fw_list *out)
{
	static const uint8_t	 protos[] = { IPPROTO_TCP, IPPROTO_UDP };
	static const int	 families[] = { AF_INET, AF_INET6 };
	struct fw_rect		*r;
	struct fw_elem		 proto;
	size_t			 n, f, p;
	int			 set;

	if (nres == 0)
		return;
	r = xreallocarray(NULL, nres * (IPC_MAX_FILTERS + 1), sizeof(*r));
	for (f = 0; f < 2; f++)
		for (set = 0; set < FW_NSETS; set++)
			for (p = 0; p < (set == FW_PORT ? 2 : 1); p++) {
				memset(&proto, 0, sizeof(proto));
				proto.set = set;
				proto.family = families[f];
				proto.proto = set == FW_PORT ? protos[p] : 0;
				n = fw_rects(res, nres, families[f], set,
				    proto.proto, r);
				fw_cover(out, &proto, r, n);
			}
	free(r);
	if (out->n > 0)
		qsort(out->v, out->n, sizeof(*out->v), fw_elem_cmp);
}

static void
fw_elem_text(struct fw_script *s, const char *op, const struct firewall *fw,
    const struct fw_client *c, const struct fw_elem *e)
{
	const struct ipc_prefix	*cp = e->family == AF_INET ? &c->v4 : &c->v6;
	char			 ca[INET6_ADDRSTRLEN], lo[INET6_ADDRSTRLEN];
	char			 hi[INET6_ADDRSTRLEN];

	inet_ntop(e->family, cp->addr, ca, sizeof(ca));
	fw_ntop(e->family, e->lo, lo, sizeof(lo));
	fw_ntop(e->family, e->hi, hi, sizeof(hi));
	fw_printf(s, "%s element inet %s %s%d { %s . %s-%s", op, fw->table,
	    fw_set_name[e->set], e->family == AF_INET ? 4 : 6, ca, lo, hi);
	if (e->set == FW_PORT)
		fw_printf(s, " . %s . %u-%u", e->proto == IPPROTO_TCP ? "tcp" :
		    "udp", e->plo, e->phi);
	fw_printf(s, " }\n");
}

static struct fw_client *
fw_client_find(const struct firewall *fw, const char *id, size_t *idx)
{
	size_t	 i;

	for (i = 0; i < fw->nclients; i++)
		if (strcmp(fw->clients[i]->id, id) == 0) {
			if (idx != NULL)
				*idx = i;
			return (fw->clients[i]);
		}
	return (NULL);
}

int
firewall_client(struct firewall *fw, const char *id,
    const struct ipc_prefix *v4, const struct ipc_prefix *v6,
    const struct ipc_gw_resource *const *res, size_t nres,
    struct fw_script *s, const char **why)
{
	struct fw_client	*c, empty;
	struct fw_list		 l;
	size_t			 i = 0, j = 0, idx = 0;
	int			 cmp, changes = 0;
	bool			 moved;

	memset(&l, 0, sizeof(l));
	fw_elements(res, nres, &l);
	if (l.full) {
		free(l.v);
		*why = "the client's authorizations need too many firewall "
		    "elements";
		return (-1);
	}
	if ((c = fw_client_find(fw, id, &idx)) == NULL) {
		memset(&empty, 0, sizeof(empty));
		c = &empty;
	}
	/* New tunnel addresses: every element is another one. */
	moved = c != &empty && (memcmp(&c->v4, v4, sizeof(*v4)) != 0 ||
	    memcmp(&c->v6, v6, sizeof(*v6)) != 0);
	while (i < c->nelems || j < l.n) {
		if (i == c->nelems)
			cmp = 1;
		else if (j == l.n)
			cmp = -1;
		else
			cmp = moved ? -1 : fw_elem_cmp(&c->elems[i], &l.v[j]);
		if (cmp < 0)
			fw_elem_text(s, "delete", fw, c, &c->elems[i++]);
		else if (cmp == 0) {
			i++;
			j++;
			continue;
		}
		changes++;
		if (cmp > 0)
			j++;	/* added below, after every deletion */
	}
	if (c == &empty) {
		if (l.n == 0) {
			free(l.v);
			return (0);
		}
		c = xcalloc(1, sizeof(*c));
		snprintf(c->id, sizeof(c->id), "%s", id);
		fw->clients = xreallocarray(fw->clients, fw->nclients + 1,
		    sizeof(*fw->clients));
		idx = fw->nclients;
		fw->clients[fw->nclients++] = c;
	}
	/* Additions second: a piece that moves is deleted first. */
	c->v4 = *v4;
	c->v6 = *v6;
	for (i = 0, j = 0; j < l.n; j++) {
		while (!moved && i < c->nelems &&
		    fw_elem_cmp(&c->elems[i], &l.v[j]) < 0)
			i++;
		if (moved || i == c->nelems ||
		    fw_elem_cmp(&c->elems[i], &l.v[j]) != 0)
			fw_elem_text(s, "add", fw, c, &l.v[j]);
	}
	free(c->elems);
	c->elems = l.v;
	c->nelems = l.n;
	if (l.n == 0) {
		fw_client_free(c);
		fw->clients[idx] = fw->clients[--fw->nclients];
	}
	return (changes);
}

static void
fw_flush(const struct firewall *fw, struct fw_script *s)
{
	int	 set, f;

	for (f = 4; f <= 6; f += 2)
		for (set = 0; set < FW_NSETS; set++)
			fw_printf(s, "flush set inet %s %s%d\n", fw->table,
			    fw_set_name[set], f);
}

void
firewall_resync(const struct firewall *fw, struct fw_script *s)
{
	size_t	 i, j;

	fw_flush(fw, s);
	for (i = 0; i < fw->nclients; i++)
		for (j = 0; j < fw->clients[i]->nelems; j++)
			fw_elem_text(s, "add", fw, fw->clients[i],
			    &fw->clients[i]->elems[j]);
}

void
firewall_lockdown(const struct firewall *fw, struct fw_script *s)
{
	fw_flush(fw, s);
}

static int
fw_ms_left(const struct timespec *end)
{
	struct timespec	 now;
	long long	 ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (end->tv_sec - now.tv_sec) * 1000LL +
	    (end->tv_nsec - now.tv_nsec) / 1000000;
	return (ms < 0 ? 0 : (int)ms);
}

/*
 * nft runs under a shell that writes its exit status to descriptor 3:
 * tunneld's SIGCHLD handler reaps whatever child has exited with
 * waitpid(-1) on the event loop, and would take nft's status from under
 * the thread that runs it. nft is the shell's child, so its status is
 * the shell's to collect. The path is the shell's $0, never script text.
 */
static const char fw_sh_cmd[] = "\"$0\" -f - 3>&-; echo $? >&3";

/*
 * The I/O half, the one place nft is run. posix_spawn, not fork: tunneld
 * has worker threads. nft reads the whole script before it says
 * anything, but its stdin, its output and the status are still served
 * together so that none can block the others; a hung nft is killed, with
 * the shell (their own process group), after FW_NFT_TIMEOUT_MS.
 */
int
firewall_nft(const char *nft, const struct fw_script *s, char *err,
    size_t errlen)
{
	char *const argv[] = { FW_SH, "-c", (char *)fw_sh_cmd, (char *)nft,
		NULL };
	char *const			 envp[] = { "PATH=/usr/sbin:/usr/bin:"
					    "/sbin:/bin", "LC_ALL=C", NULL };
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 sa;
	siginfo_t			 si;
	struct pollfd			 pfd[3];
	struct timespec			 end, zero = { 0, 0 };
	sigset_t			 none, def, pipe, old;
	char				 junk[512], st[16];
	size_t				 off = 0, elen = 0, slen = 0;
	ssize_t				 n;
	pid_t				 pid;
	int				 in[2], out[2], sp[2], rc, pidfd, i;
	int				 status = -1;
	bool				 killed = false;

	err[0] = '\0';
	in[0] = in[1] = out[0] = out[1] = sp[0] = sp[1] = -1;
	/*
	 * A write to a shell or nft that is gone raises SIGPIPE: held for
	 * this thread and taken below, whatever the caller does with it.
	 */
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, &old);
	if (pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1 ||
	    pipe2(sp, O_CLOEXEC) == -1) {
		rc = errno;
		for (i = 0; i < 2; i++) {
			if (in[i] != -1)
				close(in[i]);
			if (out[i] != -1)
				close(out[i]);
		}
		errno = rc;
		goto fail;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDERR_FILENO);
	posix_spawn_file_actions_adddup2(&fa, sp[1], 3);
	/* Our SIGPIPE is ignored and a worker may block signals: not nft's. */
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_init(&sa);
	posix_spawnattr_setsigmask(&sa, &none);
	posix_spawnattr_setsigdefault(&sa, &def);
	posix_spawnattr_setpgroup(&sa, 0);
	posix_spawnattr_setflags(&sa,
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
		POSIX_SPAWN_SETPGROUP);
	rc = posix_spawn(&pid, FW_SH, &fa, &sa, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&sa);
	close(in[0]);
	close(out[1]);
	close(sp[1]);
	if (rc != 0) {
		close(in[1]);
		close(out[0]);
		close(sp[0]);
		errno = rc;
		goto fail;
	}
	/* To reap the shell unless the SIGCHLD handler did: never a pid. */
	pidfd = pidfd_open(pid, 0);
	(void)fcntl(in[1], F_SETFL, O_NONBLOCK);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += FW_NFT_TIMEOUT_MS / 1000;
	if (s->len == 0) {
		close(in[1]);
		in[1] = -1;
	}
	while (out[0] != -1 || sp[0] != -1) {
		pfd[0].fd = out[0];
		pfd[0].events = POLLIN;
		pfd[1].fd = sp[0];
		pfd[1].events = POLLIN;
		pfd[2].fd = in[1];
		pfd[2].events = POLLOUT;
		if ((rc = poll(pfd, 3, fw_ms_left(&end))) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (rc == 0) {
			kill(-pid, SIGKILL);
			killed = true;
			break;
		}
		if (in[1] != -1 && (pfd[2].revents & (POLLOUT | POLLERR))) {
			n = write(in[1], s->text + off, s->len - off);
			if (n > 0)
				off += (size_t)n;
			if ((n == -1 && errno != EAGAIN && errno != EINTR) ||
			    off == s->len) {
				close(in[1]);
				in[1] = -1;
			}
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (elen + 1 < errlen)
				n = read(out[0], err + elen, errlen - elen - 1);
			else
				n = read(out[0], junk, sizeof(junk));
			if (n > 0 && elen + 1 < errlen) {
				elen += (size_t)n;
				err[elen] = '\0';
			} else if (n == 0 || (n == -1 && errno != EINTR &&
			    errno != EAGAIN)) {
				close(out[0]);
				out[0] = -1;
			}
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(sp[0], st + slen, sizeof(st) - 1 - slen);
			if (n > 0)
				slen += (size_t)n;
			else if (n == 0 ||
			    (n == -1 && errno != EINTR && errno != EAGAIN)) {
				close(sp[0]);
				sp[0] = -1;
			}
		}
	}
	if (in[1] != -1)
		close(in[1]);
	if (out[0] != -1)
		close(out[0]);
	if (sp[0] != -1)
		close(sp[0]);
	while (sigtimedwait(&pipe, NULL, &zero) == SIGPIPE)
		;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pidfd != -1) {
		while (waitid(P_PIDFD, pidfd, &si, WEXITED) == -1 &&
		    errno == EINTR)
			;
		close(pidfd);
	}
	st[slen] = '\0';
	if (slen > 0 && st[slen - 1] == '\n')
		status = (int)strtol(st, NULL, 10);
	while (elen > 0 && (err[elen - 1] == '\n' || err[elen - 1] == ' '))
		err[--elen] = '\0';
	if (killed) {
		snprintf(err, errlen, "%s did not finish in %d s; killed", nft,
		    FW_NFT_TIMEOUT_MS / 1000);
		return (-1);
	}
	if (status == 0)
		return (0);
	if (elen == 0 && status == -1)
		snprintf(err, errlen, "%s ended without a status", nft);
	else if (elen == 0)
		snprintf(err, errlen, "%s %s %d", nft,
		    status > 128 ? "killed by signal" : "exited with status",
		    status > 128 ? status - 128 : status);
	return (-1);
fail:
	rc = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	snprintf(err, errlen, "running %s for %s: %s", FW_SH, nft,
	    strerror(rc));
	return (-1);
}

/* For the other tables of the gateway role (dnat.c): text made there. */
void
fw_script_add(struct fw_script *s, const char *text)
{
	fw_printf(s, "%s", text);
}
