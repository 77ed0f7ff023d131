/*
 * check_netlink.c: tunneld/netlink.c against the kernel, each test in a
 * network namespace of its own (Check forks per test), on a TUN device.
 * What the module did is read back through dumps of our own and through
 * `ip rule`, never through the module.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <linux/fib_rules.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "tunneld/netlink.h"
#include "tests/unit/check_main.h"

#define TUN_NAME	"fzctest0"
#define TABLE		51820
#define NATTR		64

enum kind {
	ADDR,
	ROUTE,
	RULE
};

/* An address, route or rule; table 0 means main, as in the module. */
struct entry {
	enum kind	 kind;
	int		 family;
	const char	*addr;		/* ADDR: address, ROUTE: destination */
	unsigned	 plen;
	uint32_t	 table;
	uint32_t	 metric;
	uint32_t	 fwmark;
	uint32_t	 priority;
	bool		 invert;
	bool		 suppress;
};

/* What fzc installs: PITFALLS 4 with our mark. */
static const struct entry entries[] = {
	{ .kind = ADDR, .family = AF_INET, .addr = "100.64.0.7", .plen = 32 },
	{ .kind = ADDR, .family = AF_INET6, .addr = "fd00:2021:1111::7",
	    .plen = 128 },
	{ .kind = ROUTE, .family = AF_INET, .addr = "100.64.0.0", .plen = 11,
	    .table = 0, .metric = 100 },
	{ .kind = ROUTE, .family = AF_INET6, .addr = "fd00:2021:1111::",
	    .plen = 107, .table = RT_TABLE_MAIN, .metric = 100 },
	{ .kind = ROUTE, .family = AF_INET, .addr = "0.0.0.0", .plen = 0,
	    .table = TABLE, .metric = 10 },
	{ .kind = ROUTE, .family = AF_INET6, .addr = "::", .plen = 0,
	    .table = TABLE, .metric = 10 },
	{ .kind = RULE, .family = AF_INET, .fwmark = FZC_FWMARK,
	    .invert = true, .table = TABLE, .priority = 100 },
	{ .kind = RULE, .family = AF_INET, .table = 0, .priority = 99,
	    .suppress = true },
	{ .kind = RULE, .family = AF_INET6, .fwmark = FZC_FWMARK,
	    .invert = true, .table = TABLE, .priority = 100 },
	{ .kind = RULE, .family = AF_INET6, .table = RT_TABLE_MAIN,
	    .priority = 99, .suppress = true },
};
#define NENTRIES	(sizeof(entries) / sizeof(entries[0]))

/* How iproute2 prints the two rules (same text for -4 and -6). */
#define IP_RULE_MARK	"100:\tnot from all fwmark 0x667a63 lookup 51820"
#define IP_RULE_MAIN	"99:\tfrom all lookup main suppress_prefixlength 0"

static struct netlink	*nl;
static int		 tunfd = -1;
static int		 tunidx;

static void
setup(void)
{
	struct ifreq	 ifr;
	int		 s;

	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	ck_assert_int_ge(s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), 0);
	ck_assert_int_eq(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	ck_assert_int_eq(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
	close(s);

	ck_assert_int_ge(tunfd = open("/dev/net/tun", O_RDWR | O_CLOEXEC), 0);
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, TUN_NAME);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	ck_assert_int_eq(ioctl(tunfd, TUNSETIFF, &ifr), 0);
	ck_assert_int_gt(tunidx = if_nametoindex(TUN_NAME), 0);

	ck_assert_int_eq(netlink_open(&nl), 0);
}

static void
teardown(void)
{
	netlink_close(nl);
	if (tunfd != -1)
		close(tunfd);
}

static int
entry_add(struct netlink *h, const struct entry *e)
{
	uint8_t	 a[16];

	switch (e->kind) {
	case ADDR:
		ck_assert_int_eq(inet_pton(e->family, e->addr, a), 1);
		return (netlink_addr_add(h, tunidx, e->family, a, e->plen));
	case ROUTE:
		ck_assert_int_eq(inet_pton(e->family, e->addr, a), 1);
		return (netlink_route_add(h, tunidx, e->family, a, e->plen,
		    e->table, e->metric));
	default:
		return (netlink_rule_add(h, e->family, e->fwmark, e->invert,
		    e->table, e->priority, e->suppress));
	}
}

/*
 * An entry next to e that undoing e must leave alone.  Metric and priority
 * are lower than e's so that a delete which did not name them would find
 * the neighbour first.
 */
static struct entry
neighbour(const struct entry *e)
{
	struct entry	 n = *e;

	switch (e->kind) {
	case ADDR:
		n.addr = e->family == AF_INET ? "100.64.0.8" :
		    "fd00:2021:1111::8";
		break;
	case ROUTE:
		n.metric = e->metric - 1;
		break;
	default:
		n.priority = e->priority - 1;
		break;
	}
	return (n);
}

static void
add_all(void)
{
	size_t	 i;

	ck_assert_int_eq(netlink_link_set(nl, tunidx, 1280, true), 0);
	for (i = 0; i < NENTRIES; i++)
		ck_assert_int_eq(entry_add(nl, &entries[i]), 0);
	ck_assert_uint_eq(netlink_undo_count(nl), NENTRIES);
}

struct match {
	const struct entry	*e;
	uint8_t			 addr[16];
	size_t			 alen;
	int			 count;
};

static int
collect(const struct nlattr *a, void *arg)
{
	const struct nlattr	**tb = arg;

	if (mnl_attr_get_type(a) < NATTR)
		tb[mnl_attr_get_type(a)] = a;
	return (MNL_CB_OK);
}

static uint32_t
u32_or(const struct nlattr *a, uint32_t dflt)
{
	return (a == NULL ? dflt : mnl_attr_get_u32(a));
}

static bool
addr_eq(const struct nlattr *a, const struct match *m)
{
	return (a != NULL && mnl_attr_get_payload_len(a) == m->alen &&
	    memcmp(mnl_attr_get_payload(a), m->addr, m->alen) == 0);
}

static int
addr_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct match		*m = arg;
	const struct ifaddrmsg	*ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr	*tb[NATTR] = { NULL };

	ck_assert_int_eq(mnl_attr_parse(nlh, sizeof(*ifa), collect, tb),
	    MNL_CB_OK);
	if (ifa->ifa_family == m->e->family &&
	    (int)ifa->ifa_index == tunidx &&
	    ifa->ifa_prefixlen == m->e->plen &&
	    addr_eq(tb[IFA_LOCAL] != NULL ? tb[IFA_LOCAL] : tb[IFA_ADDRESS], m))
		m->count++;
	return (MNL_CB_OK);
}

static int
route_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct match		*m = arg;
	const struct rtmsg	*rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr	*tb[NATTR] = { NULL };
	uint32_t		 table = m->e->table ? m->e->table :
				    RT_TABLE_MAIN;

	ck_assert_int_eq(mnl_attr_parse(nlh, sizeof(*rtm), collect, tb),
	    MNL_CB_OK);
	if (rtm->rtm_family == m->e->family &&
	    rtm->rtm_dst_len == m->e->plen &&
	    u32_or(tb[RTA_TABLE], rtm->rtm_table) == table &&
	    u32_or(tb[RTA_OIF], 0) == (uint32_t)tunidx &&
	    u32_or(tb[RTA_PRIORITY], 0) == m->e->metric &&
	    (m->e->plen == 0 ? tb[RTA_DST] == NULL : addr_eq(tb[RTA_DST], m)))
		m->count++;
	return (MNL_CB_OK);
}

static int
rule_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct match			*m = arg;
	const struct fib_rule_hdr	*frh = mnl_nlmsg_get_payload(nlh);
	const struct nlattr		*tb[NATTR] = { NULL };
	const struct nlattr		*sup;
	uint32_t			 table = m->e->table ? m->e->table :
					    RT_TABLE_MAIN;

	ck_assert_int_eq(mnl_attr_parse(nlh, sizeof(*frh), collect, tb),
	    MNL_CB_OK);
	sup = tb[FRA_SUPPRESS_PREFIXLEN];
	if (frh->family == m->e->family && frh->action == FR_ACT_TO_TBL &&
	    u32_or(tb[FRA_TABLE], frh->table) == table &&
	    u32_or(tb[FRA_PRIORITY], 0) == m->e->priority &&
	    u32_or(tb[FRA_FWMARK], 0) == m->e->fwmark &&
	    ((frh->flags & FIB_RULE_INVERT) != 0) == m->e->invert &&
	    (sup != NULL && mnl_attr_get_u32(sup) == 0) == m->e->suppress)
		m->count++;
	return (MNL_CB_OK);
}

/* How many times e is in the kernel's tables, by a dump of our own. */
static int
entry_count(const struct entry *e)
{
	static char		 buf[32768];
	struct mnl_socket	*sock;
	struct nlmsghdr		*nlh;
	struct match		 m;
	unsigned int		 portid;
	uint8_t			*family;
	uint16_t		 type;
	size_t			 hdrlen;
	mnl_cb_t		 cb;
	ssize_t			 n;
	int			 ret;

	memset(&m, 0, sizeof(m));
	m.e = e;
	m.alen = e->family == AF_INET ? 4 : 16;
	if (e->addr != NULL)
		ck_assert_int_eq(inet_pton(e->family, e->addr, m.addr), 1);
	switch (e->kind) {
	case ADDR:
		type = RTM_GETADDR;
		hdrlen = sizeof(struct ifaddrmsg);
		cb = addr_cb;
		break;
	case ROUTE:
		type = RTM_GETROUTE;
		hdrlen = sizeof(struct rtmsg);
		cb = route_cb;
		break;
	default:
		type = RTM_GETRULE;
		hdrlen = sizeof(struct fib_rule_hdr);
		cb = rule_cb;
		break;
	}

	ck_assert_ptr_nonnull(sock = mnl_socket_open(NETLINK_ROUTE));
	ck_assert_int_eq(mnl_socket_bind(sock, 0, MNL_SOCKET_AUTOPID), 0);
	portid = mnl_socket_get_portid(sock);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = 1;
	/* All three headers begin with the family. */
	family = mnl_nlmsg_put_extra_header(nlh, hdrlen);
	*family = e->family;
	ck_assert_int_eq(mnl_socket_sendto(sock, nlh, nlh->nlmsg_len),
	    nlh->nlmsg_len);
	do {
		n = mnl_socket_recvfrom(sock, buf, sizeof(buf));
		ck_assert_int_gt(n, 0);
		ret = mnl_cb_run(buf, n, 1, portid, cb, &m);
	} while (ret == MNL_CB_OK);
	ck_assert_int_eq(ret, MNL_CB_STOP);
	mnl_socket_close(sock);
	return (m.count);
}

/* How many lines of `ip rule` equal line: iproute2's view of the rules. */
static int
ip_rule_count(int family, const char *line)
{
	FILE	*f;
	char	 buf[256];
	int	 n = 0;

	ck_assert_ptr_nonnull(f = popen(family == AF_INET ?
	    "ip -4 rule show" : "ip -6 rule show", "r"));
	while (fgets(buf, sizeof(buf), f) != NULL) {
		buf[strcspn(buf, "\n")] = '\0';
		if (strcmp(buf, line) == 0)
			n++;
	}
	ck_assert_int_eq(pclose(f), 0);
	return (n);
}

static void
link_state(unsigned *mtu, bool *up)
{
	struct ifreq	 ifr;
	int		 s;

	ck_assert_int_ge(s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), 0);
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, TUN_NAME);
	ck_assert_int_eq(ioctl(s, SIOCGIFMTU, &ifr), 0);
	*mtu = ifr.ifr_mtu;
	ck_assert_int_eq(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	*up = (ifr.ifr_flags & IFF_UP) != 0;
	close(s);
}

START_TEST(test_ifindex)
{
	char	 longname[IFNAMSIZ + 1];

	ck_assert_int_eq(netlink_ifindex(nl, TUN_NAME), tunidx);
	ck_assert_int_eq(netlink_ifindex(nl, "lo"), if_nametoindex("lo"));
	ck_assert_int_eq(netlink_ifindex(nl, "fzcnosuch0"), -ENODEV);
	ck_assert_int_eq(netlink_ifindex(nl, ""), -EINVAL);
	ck_assert_int_eq(netlink_ifindex(nl, NULL), -EINVAL);
	memset(longname, 'a', IFNAMSIZ);
	longname[IFNAMSIZ] = '\0';
	ck_assert_int_eq(netlink_ifindex(nl, longname), -EINVAL);
	/* The handle still works after the kernel's error. */
	ck_assert_int_eq(netlink_ifindex(nl, TUN_NAME), tunidx);
}
END_TEST

START_TEST(test_link_set)
{
	unsigned	 mtu;
	bool		 up;

	link_state(&mtu, &up);
	ck_assert_uint_ne(mtu, 1280);
	ck_assert(!up);
	ck_assert_int_eq(netlink_link_set(nl, tunidx, 1280, true), 0);
	link_state(&mtu, &up);
	ck_assert_uint_eq(mtu, 1280);
	ck_assert(up);
	ck_assert_int_eq(netlink_link_set(nl, tunidx, 1420, false), 0);
	link_state(&mtu, &up);
	ck_assert_uint_eq(mtu, 1420);
	ck_assert(!up);
	/* Link settings are not undone: the device goes with its fd. */
	ck_assert_uint_eq(netlink_undo_count(nl), 0);
}
END_TEST

START_TEST(test_add)
{
	size_t	 i;

	for (i = 0; i < NENTRIES; i++)
		ck_assert_int_eq(entry_count(&entries[i]), 0);
	ck_assert_int_eq(ip_rule_count(AF_INET, IP_RULE_MARK), 0);
	add_all();
	for (i = 0; i < NENTRIES; i++)
		ck_assert_msg(entry_count(&entries[i]) == 1,
		    "entry %zu not installed once", i);
	ck_assert_int_eq(ip_rule_count(AF_INET, IP_RULE_MARK), 1);
	ck_assert_int_eq(ip_rule_count(AF_INET, IP_RULE_MAIN), 1);
	ck_assert_int_eq(ip_rule_count(AF_INET6, IP_RULE_MARK), 1);
	ck_assert_int_eq(ip_rule_count(AF_INET6, IP_RULE_MAIN), 1);
}
END_TEST

/* Adding twice through one handle: one entry, one record. */
START_TEST(test_duplicate_same)
{
	const struct entry	*e = &entries[_i];

	ck_assert_int_eq(netlink_link_set(nl, tunidx, 1280, true), 0);
	ck_assert_int_eq(entry_add(nl, e), 0);
	ck_assert_int_eq(entry_add(nl, e), -EEXIST);
	ck_assert_uint_eq(netlink_undo_count(nl), 1);
	ck_assert_int_eq(entry_count(e), 1);
	ck_assert_int_eq(netlink_undo_all(nl), 0);
	ck_assert_int_eq(entry_count(e), 0);
}
END_TEST

/* What another party created is reported and survives our undo. */
START_TEST(test_duplicate_preexisting)
{
	const struct entry	*e = &entries[_i];
	struct netlink		*other;

	ck_assert_int_eq(netlink_link_set(nl, tunidx, 1280, true), 0);
	ck_assert_int_eq(netlink_open(&other), 0);
	ck_assert_int_eq(entry_add(other, e), 0);
	netlink_close(other);
	ck_assert_int_eq(entry_count(e), 1);

	ck_assert_int_eq(entry_add(nl, e), -EEXIST);
	ck_assert_uint_eq(netlink_undo_count(nl), 0);
	ck_assert_int_eq(netlink_undo_all(nl), 0);
	ck_assert_int_eq(entry_count(e), 1);
}
END_TEST

/* The undo deletes exactly our entry, not a similar one beside it. */
START_TEST(test_neighbour_kept)
{
	const struct entry	*e = &entries[_i];
	struct entry		 n = neighbour(e);
	struct netlink		*other;

	ck_assert_int_eq(netlink_link_set(nl, tunidx, 1280, true), 0);
	ck_assert_int_eq(netlink_open(&other), 0);
	ck_assert_int_eq(entry_add(other, &n), 0);
	netlink_close(other);

	ck_assert_int_eq(entry_add(nl, e), 0);
	ck_assert_int_eq(entry_count(e), 1);
	ck_assert_int_eq(netlink_undo_all(nl), 0);
	ck_assert_int_eq(entry_count(e), 0);
	ck_assert_int_eq(entry_count(&n), 1);
}
END_TEST

/* Deleting one route takes it and its record; others' routes are refused. */
START_TEST(test_route_del)
{
	const struct entry	*e = &entries[2], *f = &entries[3];
	struct netlink		*other;
	uint8_t			 a[16], b[16];

	ck_assert_int_eq(netlink_link_set(nl, tunidx, 1280, true), 0);
	ck_assert_int_eq(inet_pton(e->family, e->addr, a), 1);
	ck_assert_int_eq(inet_pton(f->family, f->addr, b), 1);
	ck_assert_int_eq(entry_add(nl, e), 0);
	ck_assert_int_eq(entry_add(nl, f), 0);
	ck_assert_uint_eq(netlink_undo_count(nl), 2);
	ck_assert_int_eq(netlink_route_del(nl, tunidx, e->family, a, e->plen,
	    e->table, e->metric), 0);
	ck_assert_int_eq(entry_count(e), 0);
	ck_assert_int_eq(entry_count(f), 1);
	ck_assert_uint_eq(netlink_undo_count(nl), 1);
	ck_assert_int_eq(netlink_route_del(nl, tunidx, e->family, a, e->plen,
	    e->table, e->metric), -ENOENT);
	/* A route another handle made is not ours to delete. */
	ck_assert_int_eq(netlink_open(&other), 0);
	ck_assert_int_eq(entry_add(other, e), 0);
	netlink_close(other);
	ck_assert_int_eq(netlink_route_del(nl, tunidx, e->family, a, e->plen,
	    e->table, e->metric), -ENOENT);
	ck_assert_int_eq(entry_count(e), 1);
	ck_assert_int_eq(netlink_route_del(nl, tunidx, f->family, b, f->plen,
	    f->table, f->metric), 0);
	ck_assert_int_eq(entry_count(f), 0);
	ck_assert_uint_eq(netlink_undo_count(nl), 0);
	ck_assert_int_eq(netlink_route_del(nl, 0, AF_INET, a, 8, 0, 0),
	    -EINVAL);
}
END_TEST

/* The Internet resource's rules go one by one when it is turned off. */
START_TEST(test_rule_del)
{
	const struct entry	*m = &entries[NENTRIES - 4];
	const struct entry	*s = &entries[NENTRIES - 3];
	struct netlink		*other;

	ck_assert_int_eq(m->kind, RULE);
	ck_assert_int_eq(entry_add(nl, m), 0);
	ck_assert_int_eq(entry_add(nl, s), 0);
	ck_assert_int_eq(ip_rule_count(AF_INET, IP_RULE_MARK), 1);
	ck_assert_int_eq(netlink_rule_del(nl, m->family, m->fwmark, m->invert,
	    m->table, m->priority, m->suppress), 0);
	ck_assert_int_eq(ip_rule_count(AF_INET, IP_RULE_MARK), 0);
	ck_assert_int_eq(ip_rule_count(AF_INET, IP_RULE_MAIN), 1);
	ck_assert_uint_eq(netlink_undo_count(nl), 1);
	ck_assert_int_eq(netlink_rule_del(nl, m->family, m->fwmark, m->invert,
	    m->table, m->priority, m->suppress), -ENOENT);
	/* A rule another handle made is not ours to delete. */
	ck_assert_int_eq(netlink_open(&other), 0);
	ck_assert_int_eq(entry_add(other, m), 0);
	netlink_close(other);
	ck_assert_int_eq(netlink_rule_del(nl, m->family, m->fwmark, m->invert,
	    m->table, m->priority, m->suppress), -ENOENT);
	ck_assert_int_eq(ip_rule_count(AF_INET, IP_RULE_MARK), 1);
	ck_assert_int_eq(netlink_rule_del(nl, s->family, s->fwmark, s->invert,
	    s->table, s->priority, s->suppress), 0);
	ck_assert_int_eq(ip_rule_count(AF_INET, IP_RULE_MAIN), 0);
	ck_assert_uint_eq(netlink_undo_count(nl), 0);
	ck_assert_int_eq(netlink_rule_del(nl, AF_INET, 0, true, 0, 100,
	    false), -EINVAL);
}
END_TEST

START_TEST(test_undo_all)
{
	unsigned	 mtu;
	bool		 up;
	size_t		 i;

	add_all();
	ck_assert_int_eq(netlink_undo_all(nl), 0);
	for (i = 0; i < NENTRIES; i++)
		ck_assert_msg(entry_count(&entries[i]) == 0,
		    "entry %zu left behind", i);
	ck_assert_int_eq(ip_rule_count(AF_INET, IP_RULE_MARK), 0);
	ck_assert_int_eq(ip_rule_count(AF_INET, IP_RULE_MAIN), 0);
	ck_assert_int_eq(ip_rule_count(AF_INET6, IP_RULE_MARK), 0);
	ck_assert_int_eq(ip_rule_count(AF_INET6, IP_RULE_MAIN), 0);
	ck_assert_uint_eq(netlink_undo_count(nl), 0);
	ck_assert_int_eq(netlink_undo_all(nl), 0);
	/* The device itself is left as it was set. */
	link_state(&mtu, &up);
	ck_assert_uint_eq(mtu, 1280);
	ck_assert(up);
}
END_TEST

/* A crash of the data plane closes the TUN; rules stay, and must go. */
START_TEST(test_undo_tun_closed)
{
	size_t	 i;

	add_all();
	close(tunfd);
	tunfd = -1;
	ck_assert_uint_eq(if_nametoindex(TUN_NAME), 0);
	for (i = 0; i < NENTRIES; i++)
		ck_assert_int_eq(entry_count(&entries[i]),
		    entries[i].kind == RULE ? 1 : 0);
	ck_assert_int_eq(netlink_undo_all(nl), 0);
	for (i = 0; i < NENTRIES; i++)
		ck_assert_int_eq(entry_count(&entries[i]), 0);
	ck_assert_uint_eq(netlink_undo_count(nl), 0);
	ck_assert_int_eq(netlink_undo_all(nl), 0);
}
END_TEST

/* Entries someone else removed count as undone. */
START_TEST(test_undo_removed_by_other)
{
	size_t	 i;

	add_all();
	ck_assert_int_eq(system(
	    "ip -4 rule del priority 100 && ip -4 rule del priority 99 && "
	    "ip -6 rule del priority 100 && ip -6 rule del priority 99 && "
	    "ip -4 route flush table all dev " TUN_NAME " && "
	    "ip -6 route flush table all dev " TUN_NAME " && "
	    "ip addr flush dev " TUN_NAME), 0);
	for (i = 0; i < NENTRIES; i++)
		ck_assert_int_eq(entry_count(&entries[i]), 0);
	ck_assert_int_eq(netlink_undo_all(nl), 0);
	ck_assert_uint_eq(netlink_undo_count(nl), 0);
}
END_TEST

/*
 * IPv6 stores metric 0 as 1024; the undo must name 1024, since a delete
 * with metric 0 takes the first route of any metric.
 */
START_TEST(test_ip6_metric_zero)
{
	struct entry	 ours = entries[5], other = entries[5];
	struct netlink	*h;

	ck_assert_int_eq(netlink_link_set(nl, tunidx, 1280, true), 0);
	other.metric = 1023;
	ck_assert_int_eq(netlink_open(&h), 0);
	ck_assert_int_eq(entry_add(h, &other), 0);
	netlink_close(h);

	ours.metric = 0;
	ck_assert_int_eq(entry_add(nl, &ours), 0);
	ours.metric = 1024;
	ck_assert_int_eq(entry_count(&ours), 1);
	ck_assert_int_eq(netlink_undo_all(nl), 0);
	ck_assert_int_eq(entry_count(&ours), 0);
	ck_assert_int_eq(entry_count(&other), 1);
}
END_TEST

/* More entries than the log's first allocation holds. */
START_TEST(test_many)
{
	char		 dst[24];
	struct entry	 e = { .kind = ROUTE, .family = AF_INET, .plen = 32,
			    .table = TABLE, .metric = 5, .addr = dst };
	int		 i;

	ck_assert_int_eq(netlink_link_set(nl, tunidx, 1280, true), 0);
	for (i = 0; i < 100; i++) {
		snprintf(dst, sizeof(dst), "10.9.0.%d", i);
		ck_assert_int_eq(entry_add(nl, &e), 0);
	}
	ck_assert_uint_eq(netlink_undo_count(nl), 100);
	ck_assert_int_eq(netlink_undo_all(nl), 0);
	for (i = 0; i < 100; i++) {
		snprintf(dst, sizeof(dst), "10.9.0.%d", i);
		ck_assert_int_eq(entry_count(&e), 0);
	}
}
END_TEST

/* The kernel's own errors come back as -errno and are not recorded. */
START_TEST(test_kernel_errors)
{
	uint8_t	 a4[4] = { 100, 64, 0, 7 };

	ck_assert_int_eq(netlink_link_set(nl, 9999, 1280, true), -ENODEV);
	ck_assert_int_eq(netlink_addr_add(nl, 9999, AF_INET, a4, 32), -ENODEV);
	/* A route through a device that is down. */
	ck_assert_int_eq(netlink_route_add(nl, tunidx, AF_INET, a4, 32, 0, 0),
	    -ENETDOWN);
	ck_assert_uint_eq(netlink_undo_count(nl), 0);
}
END_TEST

START_TEST(test_einval)
{
	uint8_t	 a4[4] = { 100, 64, 0, 7 };
	uint8_t	 a6[16] = { 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11 };
	uint8_t	 h6[16] = { 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11, [15] = 1 };

	ck_assert_int_eq(netlink_link_set(nl, tunidx, 1280, true), 0);

	ck_assert_int_eq(netlink_link_set(nl, 0, 1280, true), -EINVAL);
	ck_assert_int_eq(netlink_link_set(nl, -1, 1280, true), -EINVAL);
	/* The kernel would take 1279, and remove the IPv6 addresses. */
	ck_assert_int_eq(netlink_link_set(nl, tunidx, 1279, true), -EINVAL);
	ck_assert_int_eq(netlink_link_set(nl, tunidx, 65536, true), -EINVAL);

	ck_assert_int_eq(netlink_addr_add(nl, 0, AF_INET, a4, 32), -EINVAL);
	ck_assert_int_eq(netlink_addr_add(nl, tunidx, AF_UNIX, a4, 32),
	    -EINVAL);
	ck_assert_int_eq(netlink_addr_add(nl, tunidx, AF_INET, NULL, 32),
	    -EINVAL);
	ck_assert_int_eq(netlink_addr_add(nl, tunidx, AF_INET, a4, 0),
	    -EINVAL);
	ck_assert_int_eq(netlink_addr_add(nl, tunidx, AF_INET, a4, 33),
	    -EINVAL);
	ck_assert_int_eq(netlink_addr_add(nl, tunidx, AF_INET6, a6, 129),
	    -EINVAL);

	ck_assert_int_eq(netlink_route_add(nl, -3, AF_INET, a4, 32, 0, 0),
	    -EINVAL);
	ck_assert_int_eq(netlink_route_add(nl, tunidx, AF_PACKET, a4, 32, 0,
	    0), -EINVAL);
	ck_assert_int_eq(netlink_route_add(nl, tunidx, AF_INET, NULL, 0, 0,
	    0), -EINVAL);
	ck_assert_int_eq(netlink_route_add(nl, tunidx, AF_INET, a4, 33, 0, 0),
	    -EINVAL);
	ck_assert_int_eq(netlink_route_add(nl, tunidx, AF_INET6, a6, 129, 0,
	    0), -EINVAL);
	/* Host bits past the prefix; IPv6 would silently mask them. */
	ck_assert_int_eq(netlink_route_add(nl, tunidx, AF_INET, a4, 11, 0, 0),
	    -EINVAL);
	ck_assert_int_eq(netlink_route_add(nl, tunidx, AF_INET6, h6, 64, 0,
	    0), -EINVAL);
	ck_assert_int_eq(netlink_route_add(nl, tunidx, AF_INET6, a6, 47, 0,
	    0), -EINVAL);
	ck_assert_int_eq(netlink_route_add(nl, tunidx, AF_INET6, a6, 48,
	    RT_TABLE_LOCAL, 0), -EINVAL);
	ck_assert_int_eq(netlink_route_add(nl, tunidx, AF_INET6, a6, 48,
	    RT_TABLE_DEFAULT, 0), -EINVAL);

	ck_assert_int_eq(netlink_rule_add(nl, AF_UNSPEC, FZC_FWMARK, true,
	    TABLE, 100, false), -EINVAL);
	ck_assert_int_eq(netlink_rule_add(nl, AF_INET, 0, true, TABLE, 100,
	    false), -EINVAL);
	ck_assert_int_eq(netlink_rule_add(nl, AF_INET, FZC_FWMARK, true,
	    TABLE, 0, false), -EINVAL);
	ck_assert_int_eq(netlink_rule_add(nl, AF_INET6, FZC_FWMARK, true,
	    RT_TABLE_LOCAL, 100, false), -EINVAL);

	ck_assert_uint_eq(netlink_undo_count(nl), 0);
	/* The valid neighbours of the rejected calls do pass. */
	ck_assert_int_eq(netlink_route_add(nl, tunidx, AF_INET6, a6, 48, 0,
	    0), 0);
	ck_assert_int_eq(netlink_addr_add(nl, tunidx, AF_INET, a4, 32), 0);
	ck_assert_uint_eq(netlink_undo_count(nl), 2);
}
END_TEST

static Suite *
netlink_suite(void)
{
	Suite	*s = suite_create("netlink");
	TCase	*tc;

	tc = tcase_create("netns");
	tcase_add_checked_fixture(tc, setup, teardown);
	/* Generous for valgrind; each test runs a few dozen requests. */
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_ifindex);
	tcase_add_test(tc, test_link_set);
	tcase_add_test(tc, test_add);
	tcase_add_test(tc, test_route_del);
	tcase_add_test(tc, test_rule_del);
	tcase_add_loop_test(tc, test_duplicate_same, 0, NENTRIES);
	tcase_add_loop_test(tc, test_duplicate_preexisting, 0, NENTRIES);
	tcase_add_loop_test(tc, test_neighbour_kept, 0, NENTRIES);
	tcase_add_test(tc, test_undo_all);
	tcase_add_test(tc, test_undo_tun_closed);
	tcase_add_test(tc, test_undo_removed_by_other);
	tcase_add_test(tc, test_ip6_metric_zero);
	tcase_add_test(tc, test_many);
	tcase_add_test(tc, test_kernel_errors);
	tcase_add_test(tc, test_einval);
	suite_add_tcase(s, tc);
	return (s);
}

/*
 * Root only, in a namespace it can create and with /dev/net/tun; anything
 * else is automake's SKIP (77), with the reason.
 */
static int
skip_unless_able(void)
{
	pid_t	 pid;
	int	 status;

	if (geteuid() != 0) {
		fprintf(stderr, "check_netlink: SKIP: needs root to create "
		    "network namespaces and TUN devices\n");
		exit(77);
	}
	if ((pid = fork()) == -1) {
		perror("check_netlink: fork");
		exit(EXIT_FAILURE);
	}
	if (pid == 0)
		_exit(unshare(CLONE_NEWNET) == 0 &&
		    access("/dev/net/tun", R_OK | W_OK) == 0 ? 0 : 1);
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "check_netlink: SKIP: cannot unshare a network "
		    "namespace or open /dev/net/tun\n");
		exit(77);
	}
	return (0);
}

const struct check_main check_main = {
	.suites = { netlink_suite },
	.setup = skip_unless_able,
	/* Even if CK_FORK=no: unshare() must never reach this process. */
	.always_fork = 1,
};
