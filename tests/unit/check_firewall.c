/*
 * check_firewall.c: the gateway's nft rules. The text is checked as text
 * (firewall.c is #included for its cover function); then, as root in a
 * network namespace of each test's own, real nft takes the scripts and
 * the kernel's sets are read back with `nft list`, directly and through
 * the runner that takes them off the event loop (fwrun.c).
 */
#include <sys/wait.h>

#include <check.h>
#include <event2/event.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tunneld/firewall.c"
#include "tunneld/fwrun.h"
#include "tests/unit/check_main.h"

#define C4	"100.64.0.5"
#define C6	"fd00:2021:1111::5"

static struct ipc_prefix	 cv4, cv6;
static struct fw_script		 s;

static void
prefix(struct ipc_prefix *p, const char *text)
{
	char		 a[64], *slash;

	memset(p, 0, sizeof(*p));
	snprintf(a, sizeof(a), "%s", text);
	slash = strchr(a, '/');
	*slash = '\0';
	p->family = strchr(a, ':') != NULL ? AF_INET6 : AF_INET;
	p->prefixlen = (uint8_t)atoi(slash + 1);
	ck_assert_int_eq(inet_pton(p->family, a, p->addr), 1);
}

/* cidr NULL: the Internet resource. filters: "tcp:443 udp:1-100 icmp". */
static void
mkres(struct ipc_gw_resource *r, const char *id, const char *cidr,
    const char *filters)
{
	char		 buf[512], *tok, *save, *colon;
	struct ipc_filter *f;

	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", id);
	if (cidr == NULL)
		r->type = IPC_RES_INTERNET;
	else {
		r->type = IPC_RES_CIDR;
		prefix(&r->prefix, cidr);
	}
	snprintf(buf, sizeof(buf), "%s", filters);
	for (tok = strtok_r(buf, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		f = &r->filters[r->nfilters++];
		if (strcmp(tok, "icmp") == 0) {
			f->proto = IPPROTO_ICMP;
			continue;
		}
		colon = strchr(tok, ':');
		f->proto = strncmp(tok, "tcp", 3) == 0 ? IPPROTO_TCP :
		    IPPROTO_UDP;
		f->port_start = (uint16_t)atoi(colon + 1);
		f->port_end = strchr(colon, '-') != NULL ?
		    (uint16_t)atoi(strchr(colon, '-') + 1) : f->port_start;
	}
}

static void
setup(void)
{
	prefix(&cv4, C4 "/32");
	prefix(&cv6, C6 "/128");
	memset(&s, 0, sizeof(s));
}

static void
teardown(void)
{
	fw_script_free(&s);
}

static struct firewall *
fw_tun0(void)
{
	struct firewall	*fw;
	const char	*why = NULL;

	ck_assert_ptr_nonnull(fw = firewall_new("tun0", &why));
	return (fw);
}

/* The client's set of resources is rs[0..n-1]; the script is s.text. */
static int
set_client(struct firewall *fw, const struct ipc_gw_resource *rs,
    size_t n)
{
	const struct ipc_gw_resource	*p[8] = { NULL };
	const char			*why = NULL;
	size_t				 i;

	ck_assert_uint_le(n, 8);
	for (i = 0; i < n; i++)
		p[i] = &rs[i];
	fw_script_reset(&s);
	return (firewall_client(fw, "c1", &cv4, &cv6, p, n, &s, &why));
}

START_TEST(test_ifname)
{
	const char	*bad[] = { "", "tun 0", "tun\"0", "a/b",
			    "abcdefghijklmnop", "tün" };
	const char	*why;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		ck_assert_ptr_null(firewall_new(bad[i], &why));
		ck_assert_ptr_nonnull(why);
	}
	firewall_free(fw_tun0());
}
END_TEST

START_TEST(test_setup_text)
{
	struct firewall	*fw = fw_tun0();

	firewall_setup(fw, &s);
	ck_assert_str_eq(firewall_table(fw), "fzc_tun0");
	ck_assert_ptr_nonnull(strstr(s.text, "table inet fzc_tun0\n"
	    "delete table inet fzc_tun0\ntable inet fzc_tun0 {\n"));
	ck_assert_ptr_nonnull(strstr(s.text,
	    "\t\tiifname \"tun0\" jump from_tunnel\n"));
	/* Port 53535 of the tunnel addresses: from the tunnel alone. */
	ck_assert_ptr_nonnull(strstr(s.text,
	    "\t\tudp dport 53535 ip daddr "
	    "100.64.0.0/11 iifname != \"tun0\" drop\n"));
	ck_assert_ptr_nonnull(strstr(s.text,
	    "\t\tudp dport 53535 ip6 daddr "
	    "fd00:2021:1111::/107 accept\n\t\tiifname \"tun0\" jump "
	    "from_tunnel\n"));
	ck_assert_ptr_nonnull(strstr(s.text,
	    "reject with icmpx type admin-prohibited\n"));
	ck_assert_ptr_nonnull(strstr(s.text, "oifname != \"tun0\" ip saddr "
	    "100.64.0.0/11 masquerade\n"));
	fw_script_reset(&s);
	firewall_teardown(fw, &s);
	ck_assert_str_eq(s.text, "delete table inet fzc_tun0\n");
	firewall_free(fw);
}
END_TEST

START_TEST(test_one_port)
{
	struct firewall		*fw = fw_tun0();
	struct ipc_gw_resource	 r;

	mkres(&r, "r1", "10.0.0.0/24", "tcp:443");
	ck_assert_int_eq(set_client(fw, &r, 1), 1);
	ck_assert_str_eq(s.text, "add element inet fzc_tun0 port4 { " C4
	    " . 10.0.0.0-10.0.0.255 . tcp . 443-443 }\n");
	/* The same again changes nothing. */
	ck_assert_int_eq(set_client(fw, &r, 1), 0);
	ck_assert_str_eq(s.text, "");
	ck_assert_int_eq(set_client(fw, NULL, 0), 1);
	ck_assert_str_eq(s.text, "delete element inet fzc_tun0 port4 { " C4
	    " . 10.0.0.0-10.0.0.255 . tcp . 443-443 }\n");
	ck_assert_uint_eq(fw->nclients, 0);
	firewall_free(fw);
}
END_TEST

START_TEST(test_internet_swallows_cidr)
{
	struct firewall		*fw = fw_tun0();
	struct ipc_gw_resource	 r[2];

	mkres(&r[0], "r1", "10.0.0.0/24", "");
	mkres(&r[1], "inet", NULL, "");
	ck_assert_int_eq(set_client(fw, r, 1), 1);
	ck_assert_int_eq(set_client(fw, r, 2), 3);
	ck_assert_str_eq(s.text,
	    "delete element inet fzc_tun0 all4 { " C4
	    " . 10.0.0.0-10.0.0.255 }\n"
	    "add element inet fzc_tun0 all4 { " C4
	    " . 0.0.0.0-255.255.255.255 }\n"
	    "add element inet fzc_tun0 all6 { " C6
	    " . ::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff }\n");
	/* The CIDR resource goes: the cover does not change. */
	ck_assert_int_eq(set_client(fw, &r[1], 1), 0);
	firewall_free(fw);
}
END_TEST

START_TEST(test_overlap_cut)
{
	struct firewall		*fw = fw_tun0();
	struct ipc_gw_resource	 r[2];

	mkres(&r[0], "wide", "10.0.0.0/16", "tcp:1-1000 icmp");
	mkres(&r[1], "host", "10.0.5.0/24", "tcp:443 tcp:2000 udp:53 icmp");
	ck_assert_int_eq(set_client(fw, r, 2), 4);
	ck_assert_str_eq(s.text,
	    "add element inet fzc_tun0 icmp4 { " C4
	    " . 10.0.0.0-10.0.255.255 }\n"
	    "add element inet fzc_tun0 port4 { " C4
	    " . 10.0.0.0-10.0.255.255 . tcp . 1-1000 }\n"
	    "add element inet fzc_tun0 port4 { " C4
	    " . 10.0.5.0-10.0.5.255 . tcp . 2000-2000 }\n"
	    "add element inet fzc_tun0 port4 { " C4
	    " . 10.0.5.0-10.0.5.255 . udp . 53-53 }\n");
	ck_assert_int_eq(set_client(fw, r, 1), 2);
	ck_assert_str_eq(s.text,
	    "delete element inet fzc_tun0 port4 { " C4
	    " . 10.0.5.0-10.0.5.255 . tcp . 2000-2000 }\n"
	    "delete element inet fzc_tun0 port4 { " C4
	    " . 10.0.5.0-10.0.5.255 . udp . 53-53 }\n");
	/* A port range that differs inside cuts the wide one in three. */
	mkres(&r[1], "host", "10.0.5.0/24", "tcp:1-2000");
	ck_assert_int_eq(set_client(fw, r, 2), 4);
	ck_assert_str_eq(s.text,
	    "delete element inet fzc_tun0 port4 { " C4
	    " . 10.0.0.0-10.0.255.255 . tcp . 1-1000 }\n"
	    "add element inet fzc_tun0 port4 { " C4
	    " . 10.0.0.0-10.0.4.255 . tcp . 1-1000 }\n"
	    "add element inet fzc_tun0 port4 { " C4
	    " . 10.0.5.0-10.0.5.255 . tcp . 1-2000 }\n"
	    "add element inet fzc_tun0 port4 { " C4
	    " . 10.0.6.0-10.0.255.255 . tcp . 1-1000 }\n");
	firewall_free(fw);
}
END_TEST

START_TEST(test_icmp_families)
{
	struct firewall		*fw = fw_tun0();
	struct ipc_gw_resource	 r[2];

	mkres(&r[0], "v6", "fd12::/64", "icmp udp:1-65535");
	mkres(&r[1], "inet", NULL, "icmp");
	ck_assert_int_eq(set_client(fw, r, 2), 3);
	ck_assert_str_eq(s.text,
	    "add element inet fzc_tun0 icmp4 { " C4
	    " . 0.0.0.0-255.255.255.255 }\n"
	    "add element inet fzc_tun0 icmp6 { " C6
	    " . ::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff }\n"
	    "add element inet fzc_tun0 port6 { " C6
	    " . fd12::-fd12::ffff:ffff:ffff:ffff . udp . 1-65535 }\n");
	firewall_free(fw);
}
END_TEST

START_TEST(test_moved)
{
	struct firewall		*fw = fw_tun0();
	struct ipc_gw_resource	 r;

	mkres(&r, "r1", "10.0.0.1/32", "");
	ck_assert_int_eq(set_client(fw, &r, 1), 1);
	prefix(&cv4, "100.64.0.9/32");
	ck_assert_int_eq(set_client(fw, &r, 1), 2);
	ck_assert_str_eq(s.text,
	    "delete element inet fzc_tun0 all4 { " C4
	    " . 10.0.0.1-10.0.0.1 }\n"
	    "add element inet fzc_tun0 all4 { 100.64.0.9 . 10.0.0.1-10.0.0.1 }"
	    "\n");
	firewall_free(fw);
}
END_TEST

START_TEST(test_two_clients_resync)
{
	struct firewall			*fw = fw_tun0();
	struct ipc_gw_resource		 r;
	const struct ipc_gw_resource	*p = &r;
	const char			*why;

	mkres(&r, "r1", "10.0.0.1/32", "udp:53");
	ck_assert_int_eq(set_client(fw, &r, 1), 1);
	prefix(&cv4, "100.64.0.9/32");
	ck_assert_int_eq(firewall_client(fw, "c2", &cv4, &cv6, &p, 1, &s,
	    &why), 1);
	fw_script_reset(&s);
	firewall_resync(fw, &s);
	ck_assert_ptr_nonnull(strstr(s.text,
	    "flush set inet fzc_tun0 all4\n"));
	ck_assert_ptr_nonnull(strstr(s.text,
	    "flush set inet fzc_tun0 port6\n"));
	ck_assert_ptr_nonnull(strstr(s.text, "add element inet fzc_tun0 "
	    "port4 { " C4 " . 10.0.0.1-10.0.0.1 . udp . 53-53 }\n"));
	ck_assert_ptr_nonnull(strstr(s.text, "add element inet fzc_tun0 "
	    "port4 { 100.64.0.9 . 10.0.0.1-10.0.0.1 . udp . 53-53 }\n"));
	fw_script_reset(&s);
	firewall_lockdown(fw, &s);
	ck_assert_ptr_null(strstr(s.text, "add"));
	firewall_free(fw);
}
END_TEST

START_TEST(test_too_many)
{
	struct firewall			*fw = fw_tun0();
	struct ipc_gw_resource		*r;
	const struct ipc_gw_resource	**p;
	const char			*why = NULL;
	size_t				 i, j, n = FW_MAX_ELEMS / 32 + 1;

	r = calloc(n, sizeof(*r));
	p = calloc(n, sizeof(*p));
	for (i = 0; i < n; i++) {
		mkres(&r[i], "r", "10.0.0.0/32", "");
		r[i].prefix.addr[3] = (uint8_t)(2 * i);
		r[i].prefix.addr[2] = (uint8_t)(2 * i >> 8);
		r[i].nfilters = 32;
		for (j = 0; j < 32; j++) {
			r[i].filters[j].proto = IPPROTO_TCP;
			r[i].filters[j].port_start = (uint16_t)(2 * j + 1);
			r[i].filters[j].port_end = (uint16_t)(2 * j + 1);
		}
		p[i] = &r[i];
	}
	ck_assert_int_eq(firewall_client(fw, "c1", &cv4, &cv6, p, n - 1, &s,
	    &why), FW_MAX_ELEMS);
	fw_script_reset(&s);
	ck_assert_int_eq(firewall_client(fw, "c1", &cv4, &cv6, p, n, &s,
	    &why), -1);
	ck_assert_ptr_nonnull(why);
	ck_assert_str_eq(s.text, "");
	/* What was there stays. */
	ck_assert_uint_eq(fw->clients[0]->nelems, FW_MAX_ELEMS);
	free(r);
	free(p);
	firewall_free(fw);
}
END_TEST

static uint32_t	 rng = 12345;

static uint32_t
rnd(uint32_t n)
{
	rng = rng * 1103515245 + 12345;
	return ((rng >> 8) % n);
}

/*
 * Random rectangles on a small space: every point is covered by the cover
 * exactly once if some rectangle covers it, and not at all otherwise;
 * elements of one destination piece never overlap in ports.
 */
START_TEST(test_cover_property)
{
	struct fw_rect	 r[12], rc[12];
	struct fw_elem	 proto;
	struct fw_list	 l;
	size_t		 n, i, k, hits;
	u128		 a;
	unsigned	 port;
	bool		 want;
	int		 round;

	memset(&proto, 0, sizeof(proto));
	proto.set = FW_PORT;
	proto.family = AF_INET;
	proto.proto = IPPROTO_TCP;
	for (round = 0; round < 300; round++) {
		n = 1 + rnd(12);
		for (i = 0; i < n; i++) {
			r[i].lo = rnd(64);
			r[i].hi = r[i].lo + rnd(16);
			r[i].plo = (uint16_t)(1 + rnd(40));
			r[i].phi = (uint16_t)(r[i].plo + rnd(10));
		}
		memcpy(rc, r, sizeof(r));
		memset(&l, 0, sizeof(l));
		fw_cover(&l, &proto, rc, n);
		for (a = 0; a < 82; a++)
			for (port = 0; port < 52; port++) {
				want = false;
				for (i = 0; i < n; i++)
					want |= a >= r[i].lo && a <= r[i].hi &&
					    port >= r[i].plo &&
					    port <= r[i].phi;
				hits = 0;
				for (k = 0; k < l.n; k++)
					hits += a >= l.v[k].lo &&
					    a <= l.v[k].hi &&
					    port >= l.v[k].plo &&
					    port <= l.v[k].phi;
				ck_assert_uint_eq(hits, want ? 1 : 0);
			}
		/* Joined: no two pieces side by side with the same ports. */
		for (i = 0; i < l.n; i++)
			for (k = 0; k < l.n; k++)
				ck_assert(!(l.v[i].hi + 1 == l.v[k].lo &&
				    l.v[i].plo == l.v[k].plo &&
				    l.v[i].phi == l.v[k].phi));
		free(l.v);
	}
}
END_TEST

/* With real nft: only as root, in a network namespace of our own. */
static bool
nft_able(void)
{
	if (geteuid() != 0 || access(FIREWALL_NFT, X_OK) == -1) {
		fprintf(stderr, "check_firewall: nft tests skipped: need "
		    "root and %s\n", FIREWALL_NFT);
		return (false);
	}
	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
	return (true);
}

static void
nft_ok(void)
{
	char	 err[1024];

	if (firewall_nft(FIREWALL_NFT, &s, err, sizeof(err)) != 0)
		ck_abort_msg("nft: %s\nscript:\n%s", err, s.text);
}

/* `nft list set` output, elements only, on one line. */
static void
nft_list(const char *set, char *out, size_t size)
{
	char	 cmd[256], line[512];
	FILE	*p;
	size_t	 len = 0;
	bool	 in = false;

	snprintf(cmd, sizeof(cmd), FIREWALL_NFT " list set inet fzc_tun0 %s",
	    set);
	ck_assert_ptr_nonnull(p = popen(cmd, "r"));
	out[0] = '\0';
	while (fgets(line, sizeof(line), p) != NULL) {
		if (strstr(line, "elements = {") != NULL)
			in = true;
		if (in)
			len += (size_t)snprintf(out + len, size - len, "%s",
			    line + strspn(line, "\t "));
		if (in && strchr(line, '}') != NULL)
			in = false;
	}
	pclose(p);
	for (len = 0; out[len] != '\0'; len++)
		if (out[len] == '\n')
			out[len] = ' ';
}

START_TEST(test_nft_apply)
{
	struct firewall		*fw;
	struct ipc_gw_resource	 r[3];
	char			 got[2048];

	if (!nft_able())
		return;
	fw = fw_tun0();
	firewall_setup(fw, &s);
	nft_ok();
	/* Twice: a stale table is replaced, not an error. */
	nft_ok();
	mkres(&r[0], "wide", "10.0.0.0/16", "tcp:1-1000");
	mkres(&r[1], "host", "10.0.5.0/24", "tcp:1-2000");
	mkres(&r[2], "inet", NULL, "");
	ck_assert_int_eq(set_client(fw, r, 2), 3);
	nft_ok();
	nft_list("port4", got, sizeof(got));
	ck_assert_ptr_nonnull(strstr(got, C4 " . 10.0.5.0/24 . tcp . 1-2000"));
	ck_assert_ptr_nonnull(strstr(got, C4 " . 10.0.6.0-10.0.255.255 . "
	    "tcp . 1-1000"));
	/* Pieces deleted and their union added in one transaction. */
	ck_assert_int_eq(set_client(fw, r, 1), 4);
	nft_ok();
	nft_list("port4", got, sizeof(got));
	ck_assert_str_eq(got, "elements = { " C4 " . 10.0.0.0/16 . tcp . "
	    "1-1000 } ");
	/* The Internet resource on top of the others: nothing overlaps. */
	ck_assert_int_eq(set_client(fw, r, 3), 6);
	nft_ok();
	nft_list("all6", got, sizeof(got));
	ck_assert_str_eq(got, "elements = { " C6 " . ::/0 } ");
	/* A failed script leaves the kernel as it was; resync recovers. */
	fw_script_reset(&s);
	fw_printf(&s, "add element inet fzc_tun0 nosuchset { 1.2.3.4 }\n");
	ck_assert_int_ne(firewall_nft(FIREWALL_NFT, &s, got, sizeof(got)), 0);
	ck_assert_ptr_nonnull(strstr(got, "nosuchset"));
	fw_script_reset(&s);
	firewall_resync(fw, &s);
	nft_ok();
	nft_list("all4", got, sizeof(got));
	ck_assert_str_eq(got, "elements = { " C4 " . 0.0.0.0/0 } ");
	ck_assert_int_eq(set_client(fw, NULL, 0), 5);
	nft_ok();
	nft_list("port4", got, sizeof(got));
	ck_assert_str_eq(got, "");
	fw_script_reset(&s);
	firewall_teardown(fw, &s);
	nft_ok();
	ck_assert_int_ne(system(FIREWALL_NFT " list table inet fzc_tun0 "
	    "2>/dev/null"), 0);
	firewall_free(fw);
}
END_TEST

/* What the runner said, in order. */
struct ran {
	uint64_t	 seq[8];
	bool		 ok[8];
	char		 err[8][256];
	int		 n;
};

static void
ran_cb(void *arg, uint64_t seq, const char *err)
{
	struct ran	*r = arg;

	ck_assert_int_lt(r->n, 8);
	r->seq[r->n] = seq;
	r->ok[r->n] = err == NULL;
	snprintf(r->err[r->n], sizeof(r->err[0]), "%s", err ? err : "");
	r->n++;
}

/* The event loop until the runner has said n things in all. */
static void
ran_wait(struct event_base *base, struct ran *r, int n)
{
	while (r->n < n)
		ck_assert_int_ne(event_base_loop(base, EVLOOP_ONCE), -1);
	ck_assert_int_eq(r->n, n);
}

/*
 * Through the runner: what is committed while a transaction runs goes as
 * the next one, in order; a refused transaction changes nothing, and the
 * one after it still applies.
 */
START_TEST(test_nft_runner)
{
	struct event_base	*base;
	struct fwrun		*fr;
	struct firewall		*fw;
	struct ipc_gw_resource	 r, *rp = &r;
	struct ran		 ran;
	const char		*why = NULL;
	char			 got[2048];
	struct ipc_prefix	 c2v4, c2v6;

	if (!nft_able())
		return;
	memset(&ran, 0, sizeof(ran));
	ck_assert_ptr_nonnull(base = event_base_new());
	ck_assert_ptr_nonnull(fr = fwrun_new(base, FIREWALL_NFT, ran_cb, &ran));
	fw = fw_tun0();
	prefix(&c2v4, "100.64.0.6/32");
	prefix(&c2v6, "fd00:2021:1111::6/128");
	ck_assert_uint_eq(fwrun_commit(fr), 0);
	firewall_setup(fw, fwrun_script(fr));
	ck_assert_uint_eq(fwrun_commit(fr), 1);
	/* Two clients while the table is made: one transaction, the next. */
	mkres(&r, "a", "10.1.0.0/16", "tcp:443");
	ck_assert_int_eq(firewall_client(fw, "c1", &cv4, &cv6,
			     (const struct ipc_gw_resource *const *)&rp, 1,
			     fwrun_script(fr), &why),
	    1);
	ck_assert_uint_eq(fwrun_commit(fr), 2);
	ck_assert_int_eq(firewall_client(fw, "c2", &c2v4, &c2v6,
			     (const struct ipc_gw_resource *const *)&rp, 1,
			     fwrun_script(fr), &why),
	    1);
	ck_assert_uint_eq(fwrun_commit(fr), 2);
	ran_wait(base, &ran, 2);
	ck_assert(ran.seq[0] == 1 && ran.ok[0] && ran.seq[1] == 2 && ran.ok[1]);
	nft_list("port4", got, sizeof(got));
	ck_assert_str_eq(got,
	    "elements = { " C4 " . 10.1.0.0/16 . tcp . "
	    "443, 100.64.0.6 . 10.1.0.0/16 . tcp . 443 } ");
	/* A good change and a bad one together: neither applies. */
	fw_printf(fwrun_script(fr),
	    "add element inet fzc_tun0 all4 "
	    "{ 100.64.0.9 . 10.9.0.0/16 }\n"
	    "add element inet fzc_tun0 nosuchset { 1.2.3.4 }\n");
	ck_assert_uint_eq(fwrun_commit(fr), 3);
	fw_printf(fwrun_script(fr),
	    "add element inet fzc_tun0 all4 "
	    "{ 100.64.0.10 . 10.10.0.0/16 }\n");
	ck_assert_uint_eq(fwrun_commit(fr), 4);
	ran_wait(base, &ran, 4);
	ck_assert(ran.seq[2] == 3 && !ran.ok[2]);
	ck_assert_ptr_nonnull(strstr(ran.err[2], "nosuchset"));
	ck_assert(ran.seq[3] == 4 && ran.ok[3]);
	nft_list("all4", got, sizeof(got));
	ck_assert_str_eq(got, "elements = { 100.64.0.10 . 10.10.0.0/16 } ");
	/* Discarded: committed but not started, it never runs. */
	fw_printf(fwrun_script(fr),
	    "add element inet fzc_tun0 all4 "
	    "{ 100.64.0.11 . 10.11.0.0/16 }\n");
	ck_assert_uint_eq(fwrun_commit(fr), 5);
	fw_printf(fwrun_script(fr),
	    "add element inet fzc_tun0 all4 "
	    "{ 100.64.0.12 . 10.12.0.0/16 }\n");
	ck_assert_uint_eq(fwrun_commit(fr), 6);
	fwrun_discard(fr);
	ck_assert_uint_eq(fwrun_commit(fr), 0);
	ran_wait(base, &ran, 5);
	nft_list("all4", got, sizeof(got));
	ck_assert_ptr_null(strstr(got, "10.12.0.0"));
	/* Freed with a transaction open: the thread ends, nothing leaks. */
	fw_printf(fwrun_script(fr),
	    "add element inet fzc_tun0 all4 "
	    "{ 100.64.0.13 . 10.13.0.0/16 }\n");
	ck_assert_uint_eq(fwrun_commit(fr), 6);
	fwrun_free(fr);
	firewall_free(fw);
	event_base_free(base);
}
END_TEST

START_TEST(test_nft_missing)
{
	char	 err[256];

	fw_printf(&s, "list ruleset\n");
	ck_assert_int_eq(firewall_nft("/nonexistent/nft", &s, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/nft"));
}
END_TEST

static Suite *
firewall_suite(void)
{
	Suite	*su = suite_create("firewall");
	TCase	*tc;

	tc = tcase_create("text");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ifname);
	tcase_add_test(tc, test_setup_text);
	tcase_add_test(tc, test_one_port);
	tcase_add_test(tc, test_internet_swallows_cidr);
	tcase_add_test(tc, test_overlap_cut);
	tcase_add_test(tc, test_icmp_families);
	tcase_add_test(tc, test_moved);
	tcase_add_test(tc, test_two_clients_resync);
	tcase_add_test(tc, test_too_many);
	tcase_add_test(tc, test_cover_property);
	suite_add_tcase(su, tc);

	tc = tcase_create("nft");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_nft_apply);
	tcase_add_test(tc, test_nft_runner);
	tcase_add_test(tc, test_nft_missing);
	suite_add_tcase(su, tc);
	return (su);
}

const struct check_main check_main = {
	.suites = { firewall_suite },
	/* unshare() must never reach this process. */
	.always_fork = 1,
};
