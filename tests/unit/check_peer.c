/*
 * The tables workers read (routes.c, peer.c) and the reclamation behind
 * them (qsbr.c): lookups by longest prefix, a table swapped while another
 * thread reads it, and objects freed only once every reader has passed a
 * quiescent state; the packets held for resources and peers (stage.c),
 * within one budget for all.
 */

#include <sys/socket.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <sodium.h>

#include "common/util.h"
#include "tests/unit/check_main.h"
#include "tunneld/peer.h"
#include "tunneld/qsbr.h"
#include "tunneld/routes.h"
#include "tunneld/stage.h"

Suite	*peer_suite(void);

/* Peers only stand for themselves in these tables. */
static struct peer	pa, pb, pc, pd;

static struct ipc_prefix
prefix(const char *addr, int len)
{
	struct ipc_prefix	 p;

	memset(&p, 0, sizeof(p));
	p.family = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;
	ck_assert_int_eq(inet_pton(p.family, addr, p.addr), 1);
	p.prefixlen = (uint8_t)len;
	return (p);
}

/* A bare IP header from src to dst; its length is returned. */
static size_t
packet(uint8_t *pkt, const char *src, const char *dst)
{
	memset(pkt, 0, 40);
	if (strchr(dst, ':') == NULL) {
		pkt[0] = 0x45;
		ck_assert_int_eq(inet_pton(AF_INET, src, pkt + 12), 1);
		ck_assert_int_eq(inet_pton(AF_INET, dst, pkt + 16), 1);
		return (20);
	}
	pkt[0] = 0x60;
	ck_assert_int_eq(inet_pton(AF_INET6, src, pkt + 8), 1);
	ck_assert_int_eq(inet_pton(AF_INET6, dst, pkt + 24), 1);
	return (40);
}

static struct peer *
dst_of(const struct routes *t, const char *dst)
{
	uint8_t	 pkt[40];
	size_t	 len;

	len = packet(pkt, strchr(dst, ':') ? "::1" : "192.0.2.1", dst);
	return (routes_lookup(t, pkt, len, false));
}

static void
add(struct routes *t, struct peer *peer, const char *addr, int len)
{
	struct ipc_prefix	 p = prefix(addr, len);

	ck_assert_int_eq(routes_add_aip(t, peer, &p), 0);
}

struct lpm_case {
	const char	*dst;
	struct peer	*want;
};

START_TEST(test_longest_prefix)
{
	static const struct lpm_case cases[] = {
		{ "10.1.2.3", &pc },		/* the /32 */
		{ "10.1.2.4", &pb },		/* the /16 */
		{ "10.1.255.255", &pb },
		{ "10.2.0.1", &pa },		/* the /8 */
		{ "10.0.0.0", &pa },
		{ "11.0.0.1", &pd },		/* the default route */
		{ "10.1.2.2", &pb },		/* /31 boundary: not .2-.3's */
		{ "fd00:1::5", &pb },
		{ "fd00:2::5", &pa },
		{ "fe80::1", NULL },		/* no v6 default */
	};
	struct routes		*t = routes_copy(NULL);
	struct ipc_prefix	 p;
	uint8_t			 pkt[40];
	size_t			 i, len;

	/* Added out of order: the table sorts them. */
	add(t, &pd, "0.0.0.0", 0);
	add(t, &pb, "10.1.0.0", 16);
	add(t, &pc, "10.1.2.3", 32);
	add(t, &pa, "10.0.0.0", 8);
	add(t, &pa, "fd00::", 8);
	add(t, &pb, "fd00:1::", 32);
	p = prefix("10.1.0.0", 16);
	ck_assert_int_eq(routes_add_aip(t, &pc, &p), -1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(dst_of(t, cases[i].dst) == cases[i].want,
		    "lookup of %s", cases[i].dst);
	/* The source side, for cryptokey routing of what peers send. */
	len = packet(pkt, "10.1.2.3", "192.0.2.1");
	ck_assert_ptr_eq(routes_lookup(t, pkt, len, true), &pc);
	/* Too short for its version: nobody's. */
	ck_assert_ptr_null(routes_lookup(t, pkt, 19, false));
	ck_assert_ptr_null(routes_lookup(t, pkt, 19, true));
	routes_del_peer(t, &pb);
	ck_assert_ptr_eq(dst_of(t, "10.1.2.4"), &pa);
	ck_assert_ptr_eq(dst_of(t, "fd00:1::5"), &pa);
	ck_assert_ptr_eq(dst_of(t, "10.1.2.3"), &pc);
	routes_free(t);
}
END_TEST

START_TEST(test_resource_most_specific)
{
	struct routes		*t = routes_copy(NULL), *c;
	struct routes_resource	*wide, *narrow;
	struct ipc_prefix	 p8 = prefix("10.0.0.0", 8);
	struct ipc_prefix	 p24 = prefix("10.9.9.0", 24);
	uint8_t			 pkt[40];
	size_t			 len;

	wide = routes_add_resource(t, &p8, "wide");
	narrow = routes_add_resource(t, &p24, "narrow");
	ck_assert_ptr_nonnull(wide);
	ck_assert_ptr_nonnull(narrow);
	ck_assert_ptr_null(routes_add_resource(t, &p8, "wide"));
	len = packet(pkt, "192.0.2.1", "10.9.9.9");
	ck_assert_ptr_eq(routes_resource_for(t, pkt, len), narrow);
	len = packet(pkt, "192.0.2.1", "10.9.8.9");
	ck_assert_ptr_eq(routes_resource_for(t, pkt, len), wide);
	len = packet(pkt, "::1", "fd00::1");
	ck_assert_ptr_null(routes_resource_for(t, pkt, len));
	/* A copy shares the resources; taking one out leaves the original. */
	c = routes_copy(t);
	ck_assert_ptr_eq(routes_del_resource(c, &p24, "narrow"), narrow);
	ck_assert_ptr_null(routes_del_resource(c, &p24, "narrow"));
	len = packet(pkt, "192.0.2.1", "10.9.9.9");
	ck_assert_ptr_eq(routes_resource_for(c, pkt, len), wide);
	ck_assert_ptr_eq(routes_resource_for(t, pkt, len), narrow);
	routes_free(c);
	routes_resource_free(wide);
	routes_resource_free(narrow);
	routes_free(t);
}
END_TEST

/* Reclamation, one step at a time: readers are slots, not threads. */

static int	freed;

static void
count_free(void *p)
{
	freed++;
	free(p);
}

static int	kicks;

static void
kick(void *arg)
{
	(void)arg;
	kicks++;
}

START_TEST(test_qsbr_waits_for_every_reader)
{
	struct qsbr	*q = qsbr_new(2, kick, NULL);

	freed = kicks = 0;
	/* Nobody reads yet: what is retired goes at once. */
	qsbr_retire(q, xmalloc(1), count_free);
	ck_assert_int_eq(kicks, 1);
	ck_assert_uint_eq(qsbr_reclaim(q), 0);
	ck_assert_int_eq(freed, 1);

	/* Reader 0 runs a batch that began before the retirement. */
	qsbr_online(q, 0);
	qsbr_retire(q, xmalloc(1), count_free);
	ck_assert_int_eq(kicks, 2);
	ck_assert_uint_eq(qsbr_reclaim(q), 1);
	ck_assert_int_eq(freed, 1);
	qsbr_quiescent(q, 0);
	ck_assert_uint_eq(qsbr_reclaim(q), 0);
	ck_assert_int_eq(freed, 2);

	/* Both run: one quiescent state is not enough. */
	qsbr_online(q, 1);
	qsbr_retire(q, xmalloc(1), count_free);
	qsbr_quiescent(q, 0);
	ck_assert_uint_eq(qsbr_reclaim(q), 1);
	ck_assert_int_eq(freed, 2);
	/* A reader going to sleep counts as having passed. */
	qsbr_offline(q, 1);
	ck_assert_uint_eq(qsbr_reclaim(q), 0);
	ck_assert_int_eq(freed, 3);

	/* Asleep and awake again since: it holds nothing older. */
	qsbr_retire(q, xmalloc(1), count_free);
	qsbr_offline(q, 0);
	qsbr_online(q, 0);
	ck_assert_uint_eq(qsbr_reclaim(q), 0);
	ck_assert_int_eq(freed, 4);

	/* Two waiting, of which a quiescent state passed only the first. */
	qsbr_retire(q, xmalloc(1), count_free);
	qsbr_quiescent(q, 0);
	qsbr_retire(q, xmalloc(1), count_free);
	ck_assert_uint_eq(qsbr_reclaim(q), 1);
	ck_assert_int_eq(freed, 5);
	/* What still waits when the readers are gone goes with the state. */
	qsbr_free(q);
	ck_assert_int_eq(freed, 6);
}
END_TEST

/* The same with a reader thread, stepped through with barriers. */

struct held {
	int			 value;
};

struct stepped {
	struct qsbr		*q;
	struct held *_Atomic	 slot;
	pthread_barrier_t	 step;
	int			 seen;
};

static void *
stepped_reader(void *arg)
{
	struct stepped	*s = arg;
	struct held	*h;

	qsbr_online(s->q, 0);
	h = atomic_load_explicit(&s->slot, memory_order_acquire);
	pthread_barrier_wait(&s->step);		/* 1: holding h */
	pthread_barrier_wait(&s->step);		/* 2: the main thread tried */
	s->seen = h->value;			/* still valid */
	qsbr_quiescent(s->q, 0);
	pthread_barrier_wait(&s->step);		/* 3: passed */
	pthread_barrier_wait(&s->step);		/* 4: done */
	qsbr_offline(s->q, 0);
	return (NULL);
}

START_TEST(test_qsbr_reader_thread)
{
	struct stepped	 s;
	struct held	*h;
	pthread_t	 th;

	freed = 0;
	s.q = qsbr_new(1, NULL, NULL);
	h = xmalloc(sizeof(*h));
	h->value = 42;
	atomic_init(&s.slot, h);
	pthread_barrier_init(&s.step, NULL, 2);
	ck_assert_int_eq(pthread_create(&th, NULL, stepped_reader, &s), 0);
	pthread_barrier_wait(&s.step);		/* 1 */
	atomic_store_explicit(&s.slot, NULL, memory_order_release);
	qsbr_retire(s.q, h, count_free);
	ck_assert_uint_eq(qsbr_reclaim(s.q), 1);
	ck_assert_int_eq(freed, 0);
	pthread_barrier_wait(&s.step);		/* 2 */
	pthread_barrier_wait(&s.step);		/* 3 */
	ck_assert_uint_eq(qsbr_reclaim(s.q), 0);
	ck_assert_int_eq(freed, 1);
	pthread_barrier_wait(&s.step);		/* 4 */
	pthread_join(th, NULL);
	ck_assert_int_eq(s.seen, 42);
	pthread_barrier_destroy(&s.step);
	qsbr_free(s.q);
}
END_TEST

/*
 * A table swapped over and over while a worker looks up: every lookup
 * finds a peer of one table or the other, never freed memory (the
 * sanitizer build checks that).
 */

#define SWAPS		2000
#define LOOKUPS		20000

struct swapper {
	struct peer_tables	*t;
	_Atomic bool		 stop;
	_Atomic bool		 bad;
	_Atomic uint64_t	 lookups;
};

static void *
swap_reader(void *arg)
{
	struct swapper	*s = arg;
	struct peer	*p;
	uint8_t		 pkt[40];
	size_t		 len;

	len = packet(pkt, "192.0.2.1", "10.1.0.1");
	qsbr_online(s->t->qsbr, 0);
	while (!atomic_load(&s->stop)) {
		p = peer_lookup_dst(s->t, pkt, len);
		if (p != &pa && p != &pb)
			atomic_store(&s->bad, true);
		if (atomic_fetch_add(&s->lookups, 1) % 64 == 63)
			qsbr_quiescent(s->t->qsbr, 0);
	}
	qsbr_offline(s->t->qsbr, 0);
	return (NULL);
}

START_TEST(test_swap_while_reading)
{
	struct peer_tables	 t;
	struct swapper		 s;
	struct ipc_prefix	 wide = prefix("10.0.0.0", 8);
	struct ipc_prefix	 narrow = prefix("10.1.0.0", 16);
	pthread_t		 th;
	int			 i;

	peer_tables_init(&t, 1280, 1, NULL, NULL);
	peer_init(&pa, &t);
	peer_init(&pb, &t);
	ck_assert_int_eq(peer_add_allowed_ip(&t, &pa, &wide), 0);
	s.t = &t;
	atomic_init(&s.lookups, 0);
	atomic_init(&s.stop, false);
	atomic_init(&s.bad, false);
	ck_assert_int_eq(pthread_create(&th, NULL, swap_reader, &s), 0);
	/* Swapping, as long as it takes the reader to look up enough. */
	while (atomic_load(&s.lookups) == 0)
		sched_yield();
	for (i = 0; i < SWAPS || atomic_load(&s.lookups) < LOOKUPS; i++) {
		ck_assert_int_eq(peer_add_allowed_ip(&t, &pb, &narrow), 0);
		peer_remove_allowed_ips(&t, &pb);
		(void)qsbr_reclaim(t.qsbr);
	}
	atomic_store(&s.stop, true);
	pthread_join(th, NULL);
	ck_assert(!atomic_load(&s.bad));
	/* The reader is asleep: every old table goes now. */
	ck_assert_uint_eq(qsbr_reclaim(t.qsbr), 0);
	peer_fini(&pa);
	peer_fini(&pb);
	peer_tables_clear(&t);
}
END_TEST

START_TEST(test_index)
{
	struct peer_tables	 t;
	struct wg_keypair	 wk;
	struct keypair		*kp;
	uint32_t		 i1, i2;

	peer_tables_init(&t, 1280, 1, NULL, NULL);
	peer_init(&pa, &t);
	i1 = peer_index_insert(&t, &pa, NULL);
	ck_assert_uint_ne(i1, 0);
	ck_assert_ptr_eq(peer_index_pending(&t, i1), &pa);
	ck_assert_ptr_null(peer_keypair_by_index(&t, i1));
	memset(&wk, 0, sizeof(wk));
	wk.local_index = i1;
	kp = peer_keypair_new(&pa, &wk);
	peer_index_set_keypair(&t, i1, kp);
	ck_assert_ptr_null(peer_index_pending(&t, i1));
	ck_assert_ptr_eq(peer_keypair_by_index(&t, i1), kp);
	i2 = peer_index_insert(&t, &pa, NULL);
	ck_assert_uint_ne(i2, i1);
	/* A worker in a batch keeps what it found until it is quiescent. */
	qsbr_online(t.qsbr, 0);
	peer_keypair_retire(&t, kp);
	ck_assert_ptr_null(peer_keypair_by_index(&t, i1));
	ck_assert_uint_eq(qsbr_reclaim(t.qsbr), 2);	/* entry, keypair */
	ck_assert_int_eq(kp->peer == &pa, 1);
	qsbr_quiescent(t.qsbr, 0);
	ck_assert_uint_eq(qsbr_reclaim(t.qsbr), 0);
	ck_assert_ptr_eq(peer_index_pending(&t, i2), &pa);
	peer_index_remove(&t, i2);
	ck_assert_ptr_null(peer_index_pending(&t, i2));
	qsbr_offline(t.qsbr, 0);
	peer_fini(&pa);
	peer_tables_clear(&t);
}
END_TEST

#define NRES		40
#define HELD_LEN	1000

/* A packet of HELD_LEN bytes to 10.r.0.1, numbered k. */
static void
held_packet(uint8_t *pkt, int r, int k)
{
	char	 dst[32];

	snprintf(dst, sizeof(dst), "10.%d.0.1", r);
	memset(pkt, 0, HELD_LEN);
	(void)packet(pkt, "100.64.0.5", dst);
	pkt[20] = (uint8_t)k;
	pkt[21] = (uint8_t)(k >> 8);
}

/*
 * Packets to resources not yet authorized are held, 128 a resource at
 * most, and STAGE_CAP bytes for all of them and the peers' together:
 * 40 resources flooded with 1000-byte packets (5 MB) get 4 MiB, the rest
 * is dropped. Claimed by a peer, the packets change hands without being
 * counted twice; dropped, they free the budget again.
 */
START_TEST(test_held_cap)
{
	struct peer_tables	 t;
	struct peer		 p;
	struct routes		*r;
	struct ipc_prefix	 pfx;
	uint8_t			 pkt[HELD_LEN];
	char			 id[IPC_ID_MAX];
	size_t			 i, held = 0;
	int			 k;

	memset(&p, 0, sizeof(p));
	peer_tables_init(&t, 1280, 1, NULL, NULL);
	peer_init(&p, &t);
	for (i = 0; i < NRES; i++) {
		snprintf(id, sizeof(id), "r%zu", i);
		pfx = prefix("10.0.0.0", 16);
		pfx.addr[1] = (uint8_t)i;
		ck_assert_int_eq(peer_add_resource(&t, &pfx, id), 0);
	}
	/* One resource alone: the oldest of 200 go, 128 stay. */
	for (k = 0; k < 200; k++) {
		held_packet(pkt, 0, k);
		ck_assert(peer_unrouted(&t, pkt, HELD_LEN));
	}
	ck_assert_uint_eq(stage_bytes(), 128 * HELD_LEN);
	for (i = 1; i < NRES; i++)
		for (k = 0; k < STAGE_MAX; k++) {
			held_packet(pkt, (int)i, k);
			ck_assert(peer_unrouted(&t, pkt, HELD_LEN));
		}
	r = atomic_load(&t.routes);
	for (i = 0; i < r->nres; i++)
		held += (size_t)r->res[i]->held.n;
	ck_assert_uint_eq(held, STAGE_CAP / HELD_LEN);
	ck_assert_uint_eq(stage_bytes(), held * HELD_LEN);
	ck_assert_uint_le(stage_bytes(), STAGE_CAP);

	/* Authorized: r0's packets go to the peer, in order, oldest first. */
	ck_assert_int_eq(peer_claim_held(&t, &p, "r0", NULL), STAGE_MAX);
	ck_assert_int_eq(p.staged.n, STAGE_MAX);
	ck_assert_uint_eq(p.staged.len[0], HELD_LEN);
	ck_assert_int_eq(p.staged.pkt[0][20] | p.staged.pkt[0][21] << 8, 72);
	ck_assert_int_eq(p.staged.pkt[STAGE_MAX - 1][20] |
		p.staged.pkt[STAGE_MAX - 1][21] << 8,
	    199);
	ck_assert_uint_eq(stage_bytes(), held * HELD_LEN);
	/* Still full: a packet for another resource is dropped. */
	held_packet(pkt, 1, 500);
	ck_assert(peer_unrouted(&t, pkt, HELD_LEN));
	ck_assert_uint_eq(stage_bytes(), held * HELD_LEN);

	/* Refused: what was held for it frees its share. */
	ck_assert_int_eq(peer_drop_held(&t, "r1"), STAGE_MAX);
	ck_assert_uint_eq(stage_bytes(), (held - STAGE_MAX) * HELD_LEN);
	held_packet(pkt, 1, 501);
	ck_assert(peer_unrouted(&t, pkt, HELD_LEN));
	ck_assert_uint_eq(stage_bytes(), (held - STAGE_MAX + 1) * HELD_LEN);
	for (i = 1; i < NRES; i++) {
		snprintf(id, sizeof(id), "r%zu", i);
		(void)peer_drop_held(&t, id);
	}
	ck_assert_uint_eq(stage_bytes(), STAGE_MAX * HELD_LEN);
	peer_fini(&p);
	ck_assert_uint_eq(stage_bytes(), 0);
	peer_tables_clear(&t);
}
END_TEST

static struct peer *
proxy_dst(struct peer_tables *t, const char *dst, bool hold)
{
	uint8_t	 pkt[40];
	size_t	 len;

	len = packet(pkt, strchr(dst, ':') ? "::1" : "192.0.2.1", dst);
	if (hold)
		ck_assert(peer_unrouted(t, pkt, len));
	return (peer_lookup_dst(t, pkt, len));
}

/* The authorization asks peer_report_unrouted() passes on, in order. */
static char	 reported[4][IPC_ID_MAX];
static int	 nreported;

static void
report(void *arg, const char *id)
{
	(void)arg;
	ck_assert_int_lt(nreported, 4);
	snprintf(reported[nreported++], IPC_ID_MAX, "%s", id);
}

/*
 * A resource is asked for at most once a second. A packet within that
 * second is not forgotten: it is asked for when the second is over, even
 * if it was the only one (the client moved, a single ping).
 */
START_TEST(test_report_held_back)
{
	struct peer_tables	 t;
	struct ipc_prefix	 pfx = prefix("10.20.0.0", 24);
	uint8_t			 pkt[HELD_LEN];
	uint64_t		 now = 5 * NSEC_PER_SEC, due;

	nreported = 0;
	peer_tables_init(&t, 1280, 1, NULL, NULL);
	ck_assert_int_eq(peer_add_resource(&t, &pfx, "r0"), 0);
	memset(pkt, 0, sizeof(pkt));
	(void)packet(pkt, "100.64.0.5", "10.20.0.2");

	ck_assert(peer_unrouted(&t, pkt, HELD_LEN));
	ck_assert_uint_eq(peer_report_unrouted(&t, now, report, NULL), 0);
	ck_assert_int_eq(nreported, 1);
	ck_assert_str_eq(reported[0], "r0");
	/* Nothing flagged: nothing asked, nothing due. */
	ck_assert_uint_eq(peer_report_unrouted(&t, now + 1, report, NULL), 0);
	ck_assert_int_eq(nreported, 1);

	/* One packet 300 ms later waits for the second to end. */
	ck_assert(peer_unrouted(&t, pkt, HELD_LEN));
	due = peer_report_unrouted(&t, now + 300000000, report, NULL);
	ck_assert_uint_eq(due, now + NSEC_PER_SEC);
	ck_assert_int_eq(nreported, 1);
	/* A scan before then asks nothing either, and says the same. */
	due = peer_report_unrouted(&t, now + 600000000, report, NULL);
	ck_assert_uint_eq(due, now + NSEC_PER_SEC);
	ck_assert_int_eq(nreported, 1);
	ck_assert_uint_eq(peer_report_unrouted(&t, due, report, NULL), 0);
	ck_assert_int_eq(nreported, 2);
	ck_assert_str_eq(reported[1], "r0");
	ck_assert_uint_eq(peer_report_unrouted(&t, due + 1, report, NULL), 0);
	ck_assert_int_eq(nreported, 2);
	(void)peer_drop_held(&t, "r0");
	peer_tables_clear(&t);
}
END_TEST

/*
 * Names of DNS resources (PROTOCOL 4.6): a proxy IP leads to its name
 * only if that IP is routed, to nothing else ever, and the name holds
 * 32 packets until its gateway takes it.
 */
START_TEST(test_proxy_names)
{
	struct peer_tables	 t;
	struct peer		 p, q;
	struct ipc_prefix	 internet = { .family = AF_INET };
	uint8_t			 pkt[40];
	size_t			 len;
	unsigned		 i;
	int			 k;

	memset(&p, 0, sizeof(p));
	memset(&q, 0, sizeof(q));
	peer_tables_init(&t, 1280, 1, NULL, NULL);
	peer_init(&p, &t);
	peer_init(&q, &t);
	/* An Internet resource does not take proxy IPs. */
	ck_assert_int_eq(peer_add_allowed_ip(&t, &q, &internet), 0);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(peer_proxy_route(&t, 0, "r0", i, true), 0);
	ck_assert_int_eq(peer_proxy_route(&t, 0, "r0", 4, true), 0);
	ck_assert_int_eq(peer_proxy_route(&t, 0, "r1", 0, true), -1);
	k = peer_proxy_route(&t, IPC_PROXY_MAX_NAMES, "r0", 0, true);
	ck_assert_int_eq(k, -1);

	for (k = 0; k < 40; k++)
		ck_assert_ptr_null(proxy_dst(&t, "100.96.0.2", true));
	ck_assert_int_eq(proxymap_get(&t.proxies, 0)->held->n,
	    PROXYMAP_HELD_MAX);
	ck_assert_ptr_null(proxy_dst(&t, "fd00:2021:1111:8000::", false));
	/* Not routed: name 0's fifth IPv6 address, name 1. */
	len = packet(pkt, "::1", "fd00:2021:1111:8000::1");
	ck_assert(!peer_unrouted(&t, pkt, len));
	len = packet(pkt, "192.0.2.1", "100.96.0.5");
	ck_assert(!peer_unrouted(&t, pkt, len));
	ck_assert_ptr_null(peer_lookup_dst(&t, pkt, len));
	ck_assert_ptr_eq(proxy_dst(&t, "100.95.255.255", false), &q);

	ck_assert_int_eq(peer_proxy_gateway(&t, 0, &p), PROXYMAP_HELD_MAX);
	ck_assert_int_eq(p.staged.n, PROXYMAP_HELD_MAX);
	ck_assert_ptr_eq(proxy_dst(&t, "100.96.0.4", false), &p);
	ck_assert_ptr_eq(proxy_dst(&t, "fd00:2021:1111:8000::", false), &p);
	len = packet(pkt, "100.96.0.3", "100.64.0.2");
	ck_assert(peer_src_allowed(&t, &p, pkt, len));
	ck_assert(!peer_src_allowed(&t, &q, pkt, len));

	peer_remove_allowed_ips(&t, &p);
	ck_assert_ptr_null(proxy_dst(&t, "100.96.0.4", false));
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(peer_proxy_route(&t, 0, "r0", i, false), 0);
	ck_assert_ptr_nonnull(proxymap_get(&t.proxies, 0));
	ck_assert_int_eq(peer_proxy_route(&t, 0, "r0", 0, false), -1);
	ck_assert_int_eq(peer_proxy_route(&t, 0, "r0", 4, false), 0);
	ck_assert_ptr_null(proxymap_get(&t.proxies, 0));
	peer_fini(&p);
	peer_fini(&q);
	peer_tables_clear(&t);
	ck_assert_uint_eq(stage_bytes(), 0);
}
END_TEST

Suite *
peer_suite(void)
{
	Suite	*s = suite_create("peer");
	TCase	*tc = tcase_create("tables");

	tcase_add_test(tc, test_longest_prefix);
	tcase_add_test(tc, test_resource_most_specific);
	tcase_add_test(tc, test_qsbr_waits_for_every_reader);
	tcase_add_test(tc, test_qsbr_reader_thread);
	tcase_add_test(tc, test_swap_while_reading);
	tcase_add_test(tc, test_index);
	tcase_add_test(tc, test_held_cap);
	tcase_add_test(tc, test_report_held_back);
	tcase_add_test(tc, test_proxy_names);
	suite_add_tcase(s, tc);
	return (s);
}

static int
setup(void)
{
	return (sodium_init() < 0 ? -1 : 0);
}

const struct check_main check_main = {
	.suites = { peer_suite },
	.setup = setup,
};
