/*
 * fuzz_ipc_seq: fzc-tunneld's IPC handlers (tunneld/role.c, client.c,
 * gateway.c, role_settings.c) fed with sequences of messages from a
 * hostile fzc-controld, as tunneld/parent.c hands them over.  What the
 * handlers change goes to stand-ins defined here: a netlink that keeps
 * its entries as the kernel would (EEXIST, ENOENT), and a device, its
 * connections, a firewall and a network watcher that only count.
 *
 * The first input byte picks the role (bit 0: gateway) and which
 * stand-ins fail (bits 1-7: device_new, device_start, netlink_addr_add,
 * netlink_route_add, conn_new, firewall_client, firewall_nft).  The rest
 * is records (fuzz.h): op is the message type, the data its payload,
 * decoded by ipc_decode() as parent.c does; IPC_HELLO is a controld
 * (re)started, a rejected message kills it as parent.c does.
 *
 * Checked after every message: every message tunneld sends decodes as
 * tunneld's; the addresses it puts on the device lie in Firezone's tunnel
 * ranges; a route it adds has no host bits; a route of a resource that
 * was acknowledged stays while any resource that was acknowledged with it
 * stays (the reference count of issue 16); a rejection says why.  At the
 * end the role is freed, its netlink entries undone, and LeakSanitizer
 * checks that nothing is left.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <sodium.h>

#include <errno.h>
#include <fcntl.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "ipc/ipc.h"
#include "tunneld/conn.h"
#include "tunneld/device.h"
#include "tunneld/firewall.h"
#include "tunneld/fwrun.h"
#include "tunneld/netlink.h"
#include "tunneld/netwatch.h"
#include "tunneld/role.h"
#include "tunneld/sentinel.h"

#include "tests/fuzz/fuzz.h"

enum {
	FAIL_DEVICE_NEW = 1 << 1,
	FAIL_DEVICE_START = 1 << 2,
	FAIL_ADDR_ADD = 1 << 3,
	FAIL_ROUTE_ADD = 1 << 4,
	FAIL_CONN_NEW = 1 << 5,
	FAIL_FW_CLIENT = 1 << 6,
	FAIL_NFT = 1 << 7,
};

static uint8_t	 fail;

/* --- netlink, as the kernel keeps it ---------------------------------- */

#define NL_MAX	8192

enum nl_kind { NL_ADDR, NL_ROUTE, NL_RULE };

struct nl_entry {
	enum nl_kind	 kind;
	int		 ifindex;
	int		 family;
	uint8_t		 addr[16];
	unsigned	 plen;
	uint32_t	 table;
	uint32_t	 metric;
};

struct netlink {
	int		 dummy;
};

static struct nl_entry	 nl[NL_MAX];
static size_t		 nnl;
static int		 nl_handles;

static struct nl_entry
nl_make(enum nl_kind kind, int ifindex, int family, const void *a,
    unsigned plen, uint32_t table, uint32_t metric)
{
	struct nl_entry	 e;

	memset(&e, 0, sizeof(e));
	e.kind = kind;
	e.ifindex = ifindex;
	e.family = family;
	FUZZ_ASSERT(family == AF_INET || family == AF_INET6);
	memcpy(e.addr, a, family == AF_INET ? 4 : 16);
	e.plen = plen;
	e.table = table;
	e.metric = metric;
	return (e);
}

static ssize_t
nl_find(const struct nl_entry *e)
{
	size_t	 i;

	for (i = 0; i < nnl; i++) {
		if (nl[i].kind == e->kind && nl[i].family == e->family &&
		    nl[i].plen == e->plen && nl[i].table == e->table &&
		    memcmp(nl[i].addr, e->addr, 16) == 0)
			return ((ssize_t)i);
	}
	return (-1);
}

/* In any table: the default routes live in the client's own. */
static bool
nl_has_route(const struct nl_entry *e)
{
	size_t	 i;

	for (i = 0; i < nnl; i++) {
		if (nl[i].kind == NL_ROUTE && nl[i].family == e->family &&
		    nl[i].plen == e->plen &&
		    memcmp(nl[i].addr, e->addr, 16) == 0)
			return (true);
	}
	return (false);
}

static int
nl_add(const struct nl_entry *e)
{
	if (nl_find(e) != -1)
		return (-EEXIST);
	FUZZ_ASSERT(nnl < NL_MAX);
	nl[nnl++] = *e;
	return (0);
}

static int
nl_del(const struct nl_entry *e)
{
	ssize_t	 i;

	if ((i = nl_find(e)) == -1)
		return (-ENOENT);
	nl[i] = nl[--nnl];
	return (0);
}

static bool
in_prefix(const uint8_t *a, const uint8_t *net, unsigned plen)
{
	unsigned	 i;

	for (i = 0; i < plen; i++) {
		if (((a[i / 8] ^ net[i / 8]) >> (7 - i % 8)) & 1)
			return (false);
	}
	return (true);
}

static bool
host_bits_clear(const uint8_t *a, unsigned plen, unsigned bits)
{
	unsigned	 i;

	for (i = plen; i < bits; i++) {
		if ((a[i / 8] >> (7 - i % 8)) & 1)
			return (false);
	}
	return (true);
}

int
netlink_open(struct netlink **out)
{
	*out = xcalloc(1, sizeof(**out));
	nl_handles++;
	return (0);
}

void
netlink_close(struct netlink *h)
{
	if (h == NULL)
		return;
	nl_handles--;
	free(h);
}

int
netlink_ifindex(struct netlink *h, const char *name)
{
	(void)h;
	FUZZ_ASSERT(name != NULL && name[0] != '\0');
	return (7);
}

int
netlink_link_set(struct netlink *h, int ifindex, unsigned mtu, bool up)
{
	(void)h;
	(void)up;
	FUZZ_ASSERT(ifindex == 7);
	FUZZ_ASSERT(mtu >= 1280 && mtu <= 65535);
	return (0);
}

int
netlink_addr_add(struct netlink *h, int ifindex, int family, const void *a,
    unsigned plen)
{
	static const uint8_t	 v4[4] = { 100, 64, 0, 0 };
	static const uint8_t	 v6[16] = { 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11 };
	struct nl_entry		 e;

	(void)h;
	e = nl_make(NL_ADDR, ifindex, family, a, plen, 0, 0);
	/* Issue 16: nothing outside Firezone's tunnel ranges. */
	if (family == AF_INET)
		FUZZ_ASSERT(plen == 32 && in_prefix(e.addr, v4, 10));
	else
		FUZZ_ASSERT(plen == 128 && in_prefix(e.addr, v6, 48));
	if (fail & FAIL_ADDR_ADD)
		return (-EADDRNOTAVAIL);
	return (nl_add(&e));
}

int
netlink_addr_del(struct netlink *h, int ifindex, int family, const void *a,
    unsigned plen)
{
	struct nl_entry	 e = nl_make(NL_ADDR, ifindex, family, a, plen, 0, 0);

	(void)h;
	return (nl_del(&e));
}

int
netlink_route_add(struct netlink *h, int ifindex, int family, const void *a,
    unsigned plen, uint32_t table, uint32_t metric)
{
	struct nl_entry	 e;

	(void)h;
	e = nl_make(NL_ROUTE, ifindex, family, a, plen, table, metric);
	FUZZ_ASSERT(plen <= (family == AF_INET ? 32u : 128u));
	FUZZ_ASSERT(
	    host_bits_clear(e.addr, plen, family == AF_INET ? 32 : 128));
	if (fail & FAIL_ROUTE_ADD)
		return (-ENETUNREACH);
	return (nl_add(&e));
}

int
netlink_route_del(struct netlink *h, int ifindex, int family, const void *a,
    unsigned plen, uint32_t table, uint32_t metric)
{
	struct nl_entry	 e;

	(void)h;
	e = nl_make(NL_ROUTE, ifindex, family, a, plen, table, metric);
	return (nl_del(&e));
}

static struct nl_entry
nl_rule(int family, uint32_t mark, bool invert, uint32_t table, uint32_t prio,
    bool suppress)
{
	uint8_t	 key[16];

	memset(key, 0, sizeof(key));
	memcpy(key, &mark, sizeof(mark));
	key[4] = invert;
	key[5] = suppress;
	return (nl_make(NL_RULE, 0, family, key, prio, table, 0));
}

int
netlink_rule_add(struct netlink *h, int family, uint32_t mark, bool invert,
    uint32_t table, uint32_t prio, bool suppress)
{
	struct nl_entry	 e = nl_rule(family, mark, invert, table, prio,
	    suppress);

	(void)h;
	FUZZ_ASSERT(prio > 0);
	return (nl_add(&e));
}

int
netlink_rule_del(struct netlink *h, int family, uint32_t mark, bool invert,
    uint32_t table, uint32_t prio, bool suppress)
{
	struct nl_entry	 e = nl_rule(family, mark, invert, table, prio,
	    suppress);

	(void)h;
	return (nl_del(&e));
}

int
netlink_undo_all(struct netlink *h)
{
	(void)h;
	nnl = 0;
	return (0);
}

size_t
netlink_undo_count(const struct netlink *h)
{
	(void)h;
	return (nnl);
}

/* --- the device, connections, firewall, watcher: counted ------------- */

struct device {
	char	 ifname[16];
	int	 started;
};

struct conns {
	int	 dummy;
};

struct conn {
	char		 id[IPC_ID_MAX];
	struct peer	 peer;
};

struct firewall {
	char	 table[32];
};

struct netwatch {
	int	 dummy;
};

struct device *
device_new(struct event_base *base, const struct device_config *cfg,
    const char **why)
{
	struct device	*d;

	(void)base;
	FUZZ_ASSERT(cfg->mtu >= 1280);
	if (fail & FAIL_DEVICE_NEW) {
		*why = "the harness says no";
		return (NULL);
	}
	d = xcalloc(1, sizeof(*d));
	snprintf(d->ifname, sizeof(d->ifname), "fzc0");
	return (d);
}

int
device_start(struct device *d, const char **why)
{
	if (fail & FAIL_DEVICE_START) {
		*why = "the harness says no";
		return (-1);
	}
	d->started = 1;
	return (0);
}

void
device_free(struct device *d)
{
	free(d);
}

const char *
device_ifname(const struct device *d)
{
	return (d->ifname);
}

unsigned
device_mtu(const struct device *d)
{
	(void)d;
	return (1280);
}

int
device_add_allowed_ip(struct device *d, struct peer *p,
    const struct ipc_prefix *pfx)
{
	(void)d;
	(void)p;
	FUZZ_ASSERT(ipc_prefix_valid(pfx));
	return (0);
}

int
device_add_resource(struct device *d, const struct ipc_prefix *pfx,
    const char *id)
{
	(void)d;
	FUZZ_ASSERT(ipc_prefix_valid(pfx));
	FUZZ_ASSERT(id != NULL && strlen(id) < IPC_ID_MAX);
	return (0);
}

int
device_del_resource(struct device *d, const struct ipc_prefix *pfx,
    const char *id)
{
	(void)d;
	(void)pfx;
	(void)id;
	return (0);
}

void
device_claim_held(struct device *d, struct peer *p, const char *id,
    const struct ipc_prefix *route)
{
	(void)d;
	(void)p;
	(void)id;
	FUZZ_ASSERT(ipc_prefix_valid(route));
}

void
device_drop_held(struct device *d, const char *id)
{
	(void)d;
	FUZZ_ASSERT(id != NULL && strlen(id) < IPC_ID_MAX);
}

int
device_proxy_route(struct device *d, uint32_t k, const char *id, unsigned which,
    bool add)
{
	(void)d;
	(void)add;
	FUZZ_ASSERT(k < IPC_PROXY_MAX_NAMES && which < IPC_PROXY_IPS);
	FUZZ_ASSERT(id != NULL && strlen(id) < IPC_ID_MAX);
	return (0);
}

void
device_proxy_gateway(struct device *d, uint32_t k, struct peer *p)
{
	(void)d;
	(void)p;
	FUZZ_ASSERT(k < IPC_PROXY_MAX_NAMES);
}

void
device_proxy_drop(struct device *d, uint32_t k, const char *id)
{
	(void)d;
	FUZZ_ASSERT(k < IPC_PROXY_MAX_NAMES);
	FUZZ_ASSERT(id != NULL && strlen(id) < IPC_ID_MAX);
}

void
device_set_p2p_cb(struct device *d, device_p2p_fn *fn, void *arg)
{
	(void)d;
	(void)fn;
	(void)arg;
}

void
device_set_authz_cb(struct device *d, device_authz_fn *fn, void *arg)
{
	(void)d;
	(void)fn;
	(void)arg;
}

void
device_set_dns_cb(struct device *d, device_dns_fn *fn, void *arg)
{
	(void)d;
	(void)fn;
	(void)arg;
}

int
device_tun_write(struct device *d, const uint8_t *p, size_t n)
{
	(void)d;
	(void)p;
	(void)n;
	return (0);
}

int
device_peer_send(struct peer *p, const uint8_t *b, size_t n)
{
	(void)p;
	(void)b;
	(void)n;
	return (0);
}

int
device_send_stats(struct device *d, struct ipc_chan *c, uint32_t id)
{
	struct ipc_empty	 e;

	(void)d;
	memset(&e, 0, sizeof(e));
	return (ipc_chan_send(c, IPC_STATS_END, id, &e, sizeof(e), -1));
}

struct conns *
conns_new(struct event_base *base, struct device *d, bool controlling,
    const struct conns_callbacks *cb)
{
	(void)base;
	(void)d;
	(void)controlling;
	(void)cb;
	return (xcalloc(1, sizeof(struct conns)));
}

void
conns_free(struct conns *c)
{
	free(c);
}

int
conns_relay_add(struct conns *c, const struct ipc_relay *r)
{
	(void)c;
	FUZZ_ASSERT(memchr(r->id, '\0', sizeof(r->id)) != NULL);
	return (0);
}

int
conns_relay_del(struct conns *c, const char *id)
{
	(void)c;
	(void)id;
	return (0);
}

void
conns_reset(struct conns *c)
{
	(void)c;
}

struct conn *
conn_new(struct conns *cs, const struct conn_params *p, const char **why)
{
	struct conn	*c;

	(void)cs;
	FUZZ_ASSERT(p->id != NULL && strlen(p->id) < IPC_ID_MAX);
	if (fail & FAIL_CONN_NEW) {
		*why = "the harness says no";
		return (NULL);
	}
	c = xcalloc(1, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", p->id);
	return (c);
}

void
conn_free(struct conn *c)
{
	free(c);
}

void
conn_resignal(struct conn *c)
{
	(void)c;
}

int
conn_remote_candidate(struct conn *c, const char *cand, bool del,
    const char **why)
{
	(void)c;
	(void)del;
	FUZZ_ASSERT(cand != NULL);
	*why = NULL;
	return (0);
}

const char *
conn_id(const struct conn *c)
{
	return (c->id);
}

struct peer *
conn_peer(const struct conn *c)
{
	return ((struct peer *)&c->peer);
}

void
conn_path_report(const struct conn *c, struct ipc_peer_path *pp)
{
	memset(pp, 0, sizeof(*pp));
	snprintf(pp->id, sizeof(pp->id), "%s", c->id);
	pp->state = IPC_PATH_CONNECTING;
}

const char *
ice_state_name(enum ice_state s)
{
	(void)s;
	return ("state");
}

/* A line of script, so that a transaction has something to run. */
static void
script_add(struct fw_script *s, const char *line)
{
	size_t	 n = strlen(line);

	if (s->len + n + 1 > s->size) {
		s->size = s->len + n + 1 + 64;
		s->text = xreallocarray(s->text, s->size, 1);
	}
	memcpy(s->text + s->len, line, n + 1);
	s->len += n;
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

/* dnat.c's statements: made for real, run by no one. */
void
fw_script_add(struct fw_script *s, const char *text)
{
	(void)s;
	FUZZ_ASSERT(strchr(text, '\n') != NULL);
}

int
firewall_ifname_ok(const char *ifname, const char **why)
{
	(void)why;
	FUZZ_ASSERT(ifname != NULL && ifname[0] != '\0');
	return (1);
}

struct firewall *
firewall_new(const char *ifname, const char **why)
{
	struct firewall	*f;

	(void)why;
	f = xcalloc(1, sizeof(*f));
	snprintf(f->table, sizeof(f->table), "fzc-%s", ifname);
	return (f);
}

void
firewall_free(struct firewall *f)
{
	free(f);
}

const char *
firewall_table(const struct firewall *f)
{
	return (f->table);
}

void
firewall_setup(const struct firewall *f, struct fw_script *s)
{
	(void)f;
	script_add(s, "setup\n");
}

void
firewall_teardown(const struct firewall *f, struct fw_script *s)
{
	(void)f;
	script_add(s, "teardown\n");
}

int
firewall_client(struct firewall *f, const char *id, const struct ipc_prefix *v4,
    const struct ipc_prefix *v6, const struct ipc_gw_resource *const *res,
    size_t nres, struct fw_script *s, const char **why)
{
	size_t	 i;

	(void)f;
	FUZZ_ASSERT(id != NULL && strlen(id) < IPC_ID_MAX);
	FUZZ_ASSERT(ipc_address_valid(v4) && ipc_address_valid(v6));
	for (i = 0; i < nres; i++)
		FUZZ_ASSERT(res[i]->nfilters <= IPC_MAX_FILTERS);
	if (fail & FAIL_FW_CLIENT) {
		*why = "the harness says no";
		return (-1);
	}
	script_add(s, "client\n");
	return (1);
}

void
firewall_resync(const struct firewall *f, struct fw_script *s)
{
	(void)f;
	script_add(s, "resync\n");
}

void
firewall_lockdown(const struct firewall *f, struct fw_script *s)
{
	(void)f;
	script_add(s, "lockdown\n");
}

int
firewall_nft(const char *table, const struct fw_script *s, char *err,
    size_t errlen)
{
	(void)table;
	(void)s;
	if (fail & FAIL_NFT) {
		snprintf(err, errlen, "the harness says no");
		return (-1);
	}
	return (0);
}

/* The runner of nft transactions: each committed one ends on the loop. */
#define FWRUN_QUEUE	64

struct fwrun {
	struct fw_script	 script;
	struct event		*ev;
	fwrun_done_cb		 done;
	void			*arg;
	uint64_t		 seq;
	uint64_t		 queue[FWRUN_QUEUE];
	size_t			 nqueue;
};

static void
fwrun_ended(evutil_socket_t fd, short what, void *arg)
{
	struct fwrun	*r = arg;
	uint64_t	 q[FWRUN_QUEUE];
	size_t		 i, n = r->nqueue;

	(void)fd;
	(void)what;
	/* done() may commit again: those end on the next turn. */
	memcpy(q, r->queue, n * sizeof(*q));
	r->nqueue = 0;
	for (i = 0; i < n; i++)
		r->done(r->arg, q[i],
		    fail & FAIL_NFT ? "the harness says no" : NULL);
}

struct fwrun *
fwrun_new(struct event_base *base, const char *nft, fwrun_done_cb done,
    void *arg)
{
	struct fwrun	*r = xcalloc(1, sizeof(*r));

	FUZZ_ASSERT(nft != NULL);
	r->done = done;
	r->arg = arg;
	if ((r->ev = evtimer_new(base, fwrun_ended, r)) == NULL)
		abort();
	return (r);
}

void
fwrun_free(struct fwrun *r)
{
	if (r == NULL)
		return;
	event_free(r->ev);
	fw_script_free(&r->script);
	free(r);
}

struct fw_script *
fwrun_script(struct fwrun *r)
{
	return (&r->script);
}

uint64_t
fwrun_commit(struct fwrun *r)
{
	struct timeval	 now = { 0, 0 };

	if (r->script.len == 0)
		return (0);
	FUZZ_ASSERT(r->nqueue < FWRUN_QUEUE);
	fw_script_reset(&r->script);
	r->queue[r->nqueue++] = ++r->seq;
	evtimer_add(r->ev, &now);
	return (r->seq);
}

void
fwrun_discard(struct fwrun *r)
{
	fw_script_reset(&r->script);
}

struct netwatch *
netwatch_new(struct event_base *base, netwatch_fn *fn, void *arg)
{
	(void)base;
	(void)fn;
	(void)arg;
	return (xcalloc(1, sizeof(struct netwatch)));
}

void
netwatch_ignore(struct netwatch *w, int ifindex)
{
	(void)w;
	(void)ifindex;
}

void
netwatch_free(struct netwatch *w)
{
	free(w);
}

int
sentinel_query(const uint8_t *p, size_t n, struct ipc_dns *q)
{
	(void)p;
	(void)n;
	(void)q;
	return (-1);
}

size_t
sentinel_reply(const struct ipc_dns *q, uint8_t *p, size_t n)
{
	(void)q;
	(void)p;
	(void)n;
	return (0);
}

/* --- the harness: parent.c's part ------------------------------------ */

/* Resources acknowledged with a route: the reference count's oracle. */
#define LIVE_MAX	256

struct live_route {
	char			 id[IPC_ID_MAX];
	struct ipc_prefix	 prefix;
};

struct run {
	struct event_base	*base;
	struct role		*role;
	struct ipc_chan		 chan;
	int			 sv[2];
	uint32_t		 next_id;
	/* The ROUTE_ADD/DEL waiting for their STATE_ACK. */
	uint32_t		 pending_id;
	uint16_t		 pending_type;
	struct ipc_route	 pending;
	struct live_route	 live[LIVE_MAX];
	size_t			 nlive;
	bool			 tun_up;
};

static char	 state_dir[64];

static void
want_write(void *arg)
{
	(void)arg;
}

static void
live_apply(struct run *run)
{
	size_t	 i;

	for (i = 0; i < run->nlive; i++) {
		if (strcmp(run->live[i].id, run->pending.resource_id) == 0 &&
		    memcmp(&run->live[i].prefix, &run->pending.prefix,
		    sizeof(run->pending.prefix)) == 0)
			break;
	}
	if (run->pending_type == IPC_ROUTE_ADD && i == run->nlive &&
	    run->nlive < LIVE_MAX) {
		snprintf(run->live[i].id, sizeof(run->live[i].id), "%s",
		    run->pending.resource_id);
		run->live[i].prefix = run->pending.prefix;
		run->nlive++;
	} else if (run->pending_type == IPC_ROUTE_DEL && i < run->nlive)
		run->live[i] = run->live[--run->nlive];
}

/* Everything tunneld said: it must all be tunneld's to say. */
static void
drain(struct run *run)
{
	struct ipc_msg		*m;
	enum ipc_recv_result	 rr;
	const char		*why;

	while (ipc_chan_flush(&run->chan) == 1)
		;
	m = xmalloc(sizeof(*m));
	for (;;) {
		why = NULL;
		rr = ipc_recv(run->sv[1], IPC_PEER_CONTROLD, m, &why);
		if (rr == IPC_RECV_ERROR && errno == EAGAIN)
			break;
		FUZZ_ASSERT(rr == IPC_RECV_OK);
#ifdef FUZZ_DEBUG
		fprintf(stderr, "  <- %s (id %u)", ipc_type_name(m->hdr.type),
		    m->hdr.id);
		if (m->hdr.type == IPC_STATE_ACK)
			fprintf(stderr, " of %s: %s",
			    ipc_type_name(m->u.state_ack.type),
			    strerror(m->u.state_ack.error));
		fprintf(stderr, "\n");
#endif
		if (m->hdr.type == IPC_STATE_ACK &&
		    m->hdr.id == run->pending_id && run->pending_id != 0) {
			if (m->u.state_ack.error == 0)
				live_apply(run);
			run->pending_id = 0;
		}
		if (m->fd != -1)
			close(m->fd);
	}
	free(m);
}

/* Every acknowledged resource's route is there while the device is. */
static void
check_routes(const struct run *run)
{
	struct nl_entry	 e;
	size_t		 i;

	if (run->role->tun.dev == NULL || run->role->tun.nl == NULL ||
	    !run->role->have_addresses)
		return;
	for (i = 0; i < run->nlive; i++) {
		e = nl_make(NL_ROUTE, 7, run->live[i].prefix.family,
		    run->live[i].prefix.addr, run->live[i].prefix.prefixlen, 0,
		    0);
		FUZZ_ASSERT(nl_has_route(&e) || (fail & FAIL_ROUTE_ADD));
	}
}

static void
controld_start(struct run *run)
{
	if (run->sv[0] != -1) {
		ipc_chan_clear(&run->chan);
		close(run->sv[0]);
		close(run->sv[1]);
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, run->sv))
		abort();
	if (fcntl(run->sv[1], F_SETFL, O_NONBLOCK) == -1)
		abort();
	ipc_chan_init(&run->chan, run->sv[0], want_write, run);
	run->pending_id = 0;
	if (role_configure(run->role, &run->chan) == -1)
		return;
	drain(run);
}

static void
deliver(struct run *run, const struct fuzz_rec *r)
{
	uint8_t		 buf[IPC_MSG_MAX];
	struct ipc_msg	*m;
	const char	*why = NULL;
	size_t		 n;
	uint32_t	 id = ++run->next_id;
	int		 rc;

	if (r->op == IPC_HELLO) {
		controld_start(run);
		return;
	}
	if (r->len > IPC_MAX_PAYLOAD)
		return;
	n = ipc_encode(buf, sizeof(buf), r->op, id, r->data, r->len);
	if (n == 0)
		return;
	m = xmalloc(sizeof(*m));
	m->fd = -1;
	if (ipc_decode(IPC_PEER_TUNNELD, buf, n, 0, m, &why) != 0 ||
	    m->hdr.type == IPC_SOCKET_REQUEST) {
#ifdef FUZZ_DEBUG
		fprintf(stderr, "-> type %u refused: %s\n", r->op,
		    why != NULL ? why : "socket request");
#endif
		free(m);
		return;
	}
	if (m->hdr.type == IPC_STATS_REQUEST)
		rc = role_send_stats(run->role, &run->chan, id);
	else {
		if (m->hdr.type == IPC_ROUTE_ADD ||
		    m->hdr.type == IPC_ROUTE_DEL) {
			run->pending_id = id;
			run->pending_type = m->hdr.type;
			run->pending = m->u.route;
		}
		rc = role_dispatch(run->role, &run->chan, m, &why);
#ifdef FUZZ_DEBUG
		fprintf(stderr, "-> %s (id %u): %d %s\n",
		    ipc_type_name(m->hdr.type), id, rc, rc == -1 ? why : "");
#endif
		if (rc == -1) {
			FUZZ_ASSERT(why != NULL && why[0] != '\0');
			/* parent.c kills that controld and starts another. */
			free(m);
			controld_start(run);
			return;
		}
	}
	free(m);
	/* What ends on the loop: nft transactions, their acknowledgements. */
	event_base_loop(run->base, EVLOOP_NONBLOCK);
	drain(run);
	check_routes(run);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in		 in;
	struct fuzz_rec		 r;
	struct role_options	 opt;
	struct run		 run;
	char			 token[96];

	if (size < 1)
		return (0);
	if (state_dir[0] == '\0') {
		log_init(getenv("FUZZ_LOG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR,
		    "fuzz_ipc_seq");
		if (sodium_init() == -1)
			abort();
		snprintf(state_dir, sizeof(state_dir),
		    "/tmp/fuzz_ipc_seq.XXXXXX");
		if (mkdtemp(state_dir) == NULL)
			abort();
	}
	fail = data[0] & ~1;
	in.p = data + 1;
	in.n = size - 1;
	memset(&run, 0, sizeof(run));
	run.sv[0] = run.sv[1] = -1;
	memset(&opt, 0, sizeof(opt));
	snprintf(token, sizeof(token), "%s/token", state_dir);
	opt.ifname = "fzc%d";
	opt.threads = 1;
	opt.api_url = "wss://api.example.com";
	opt.token_file = token;
	opt.state_dir = state_dir;
	opt.name = "fuzz";
	opt.log_level = LOG_LEVEL_ERROR;
	if ((run.base = event_base_new()) == NULL)
		abort();
	run.role = data[0] & 1 ? gateway_new(run.base, &opt) :
	    client_new(run.base, &opt);
	FUZZ_ASSERT(run.role != NULL);
	controld_start(&run);
	while (fuzz_next(&in, &r))
		deliver(&run, &r);
	role_free(run.role);
	FUZZ_ASSERT(nl_handles == 0);
	nnl = 0;
	ipc_chan_clear(&run.chan);
	close(run.sv[0]);
	close(run.sv[1]);
	event_base_free(run.base);
	return (0);
}
