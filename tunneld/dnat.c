/*
 * dnat.c: the nftables table with the proxy-IP translations of the
 * gateway role. It is a table of its own beside firewall.c's, so that
 * each can be replaced without the other; nat chains of both tables hook
 * in, this one's destination NAT before the filter chains, firewall.c's
 * masquerade after.
 *
 * Every element is keyed by client tunnel IP and proxy IP and maps to one
 * address; a change is the difference between what a client had and what
 * it has now, deletions first, as nft refuses to add a key twice and to
 * delete one that is not there.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "tunneld/dnat.h"

struct dnat_client {
	char			 id[IPC_ID_MAX];
	struct ipc_prefix	 v4, v6;
	struct ipc_dns_pair	*pairs;
	size_t			 npairs;
};

struct dnat {
	char			 ifname[IF_NAMESIZE];
	char			 table[IF_NAMESIZE + 8];
	struct dnat_client	**clients;
	size_t			 nclients;
};

/* The firewall's rule: nothing but those characters reaches nft. */
struct dnat *
dnat_new(const char *ifname, const char **why)
{
	struct dnat	*d;
	size_t		 len = strlen(ifname);

	if (!firewall_ifname_ok(ifname, why))
		return (NULL);
	d = xcalloc(1, sizeof(*d));
	memcpy(d->ifname, ifname, len + 1);
	snprintf(d->table, sizeof(d->table), "fzcdns_%s", ifname);
	return (d);
}

static void
dnat_client_free(struct dnat_client *c)
{
	free(c->pairs);
	free(c);
}

void
dnat_free(struct dnat *d)
{
	size_t	 i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nclients; i++)
		dnat_client_free(d->clients[i]);
	free(d->clients);
	free(d);
}

const char *
dnat_table(const struct dnat *d)
{
	return (d->table);
}

void
dnat_setup(const struct dnat *d, struct fw_script *s)
{
	char	 buf[1024];
	int	 n;

	/* Creating, then deleting, replaces whatever a crash left. */
	n = snprintf(buf, sizeof(buf),
	    "table inet %s\ndelete table inet %s\n"
	    "table inet %s {\n"
	    "\tmap proxy4 {\n\t\ttype ipv4_addr . ipv4_addr : ipv4_addr\n\t}\n"
	    "\tmap proxy6 {\n\t\ttype ipv6_addr . ipv6_addr : ipv6_addr\n\t}\n"
	    "\tchain prerouting {\n"
	    "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
	    "\t\tiifname \"%s\" dnat ip to ip saddr . ip daddr map @proxy4\n"
	    "\t\tiifname \"%s\" dnat ip6 to ip6 saddr . ip6 daddr map "
	    "@proxy6\n"
	    "\t}\n}\n",
	    d->table, d->table, d->table, d->ifname, d->ifname);
	if (n < 0 || (size_t)n >= sizeof(buf))
		fatalx("formatting the proxy-IP table");
	fw_script_add(s, buf);
}

void
dnat_teardown(const struct dnat *d, struct fw_script *s)
{
	char	 buf[128];

	snprintf(buf, sizeof(buf), "delete table inet %s\n", d->table);
	fw_script_add(s, buf);
}

static void
dnat_elem(const struct dnat *d, struct fw_script *s, const char *op,
    const struct dnat_client *c, const struct ipc_dns_pair *p)
{
	const struct ipc_prefix	*ca = p->proxy.family == AF_INET ? &c->v4 :
				    &c->v6;
	char			 a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	char			 r[INET6_ADDRSTRLEN], buf[256];
	bool			 add = strcmp(op, "add") == 0;

	inet_ntop(p->proxy.family, ca->addr, a, sizeof(a));
	inet_ntop(p->proxy.family, p->proxy.addr, b, sizeof(b));
	inet_ntop(p->real.family, p->real.addr, r, sizeof(r));
	snprintf(buf, sizeof(buf),
	    "%s element inet %s proxy%d { %s . %s%s%s "
	    "}\n",
	    op, d->table, p->proxy.family == AF_INET ? 4 : 6, a, b,
	    add ? " : " : "", add ? r : "");
	fw_script_add(s, buf);
}

static bool
dnat_has(const struct ipc_dns_pair *v, size_t n, const struct ipc_dns_pair *p)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (memcmp(&v[i], p, sizeof(*p)) == 0)
			return (true);
	return (false);
}

void
dnat_client(struct dnat *d, const char *id, const struct ipc_prefix *v4,
    const struct ipc_prefix *v6, const struct ipc_dns_pair *pairs, size_t n,
    struct fw_script *s)
{
	struct dnat_client	*c = NULL;
	size_t			 i, idx = 0;
	bool			 moved;

	for (i = 0; i < d->nclients && c == NULL; i++)
		if (strcmp(d->clients[i]->id, id) == 0) {
			c = d->clients[i];
			idx = i;
		}
	if (c == NULL) {
		if (n == 0)
			return;
		c = xcalloc(1, sizeof(*c));
		snprintf(c->id, sizeof(c->id), "%s", id);
		c->v4 = *v4;
		c->v6 = *v6;
		d->clients = xreallocarray(d->clients, d->nclients + 1,
		    sizeof(*d->clients));
		idx = d->nclients;
		d->clients[d->nclients++] = c;
	}
	/* New tunnel addresses: every key is another one. */
	moved = memcmp(&c->v4, v4, sizeof(*v4)) != 0 ||
	    memcmp(&c->v6, v6, sizeof(*v6)) != 0;
	for (i = 0; i < c->npairs; i++)
		if (moved || !dnat_has(pairs, n, &c->pairs[i]))
			dnat_elem(d, s, "delete", c, &c->pairs[i]);
	c->v4 = *v4;
	c->v6 = *v6;
	for (i = 0; i < n; i++)
		if (moved || !dnat_has(c->pairs, c->npairs, &pairs[i]))
			dnat_elem(d, s, "add", c, &pairs[i]);
	free(c->pairs);
	c->pairs = NULL;
	c->npairs = n;
	if (n > 0) {
		c->pairs = xreallocarray(NULL, n, sizeof(*pairs));
		memcpy(c->pairs, pairs, n * sizeof(*pairs));
		return;
	}
	dnat_client_free(c);
	d->clients[idx] = d->clients[--d->nclients];
}

void
dnat_resync(const struct dnat *d, struct fw_script *s)
{
	char	 buf[256];
	size_t	 i, j;

	snprintf(buf, sizeof(buf),
	    "flush map inet %s proxy4\n"
	    "flush map inet %s proxy6\n",
	    d->table, d->table);
	fw_script_add(s, buf);
	for (i = 0; i < d->nclients; i++)
		for (j = 0; j < d->clients[i]->npairs; j++)
			dnat_elem(d, s, "add", d->clients[i],
			    &d->clients[i]->pairs[j]);
}
