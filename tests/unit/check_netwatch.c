/*
 * check_netwatch.c: tunneld/netwatch.c's sans-IO core, fed rtnetlink
 * messages built here as the kernel sends them, and clock readings.
 */
#include <sys/socket.h>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <check.h>
#include <libmnl/libmnl.h>
#include <stdint.h>
#include <string.h>

#include "common/timer.h"
#include "ipc/ipc.h"
#include "tunneld/netwatch.h"
#include "tests/unit/check_main.h"


/* The state under test, the time and whether messages answer a dump. */
static struct netwatch_state	 st;
static uint64_t			 at;
static bool			 dump;
static char			 buf[8192];

static uint64_t
S(uint64_t s)
{
	return (s * NSEC_PER_SEC);
}

static uint64_t
MS(uint64_t ms)
{
	return (ms * NSEC_PER_MSEC);
}

static const struct nlmsghdr *
link_msg(uint16_t type, int ifindex, unsigned flags)
{
	struct nlmsghdr		*nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg	*ifi;

	nlh->nlmsg_type = type;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = flags;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "eth0");
	return (nlh);
}

static const struct nlmsghdr *
addr_msg(uint16_t type, int ifindex, int family, const void *a,
    unsigned char scope, unsigned char flags)
{
	struct nlmsghdr		*nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg	*ifa;
	size_t			 len = family == AF_INET ? 4 : 16;

	nlh->nlmsg_type = type;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (unsigned char)family;
	ifa->ifa_prefixlen = family == AF_INET ? 24 : 64;
	ifa->ifa_scope = scope;
	ifa->ifa_flags = flags;
	ifa->ifa_index = (unsigned)ifindex;
	mnl_attr_put(nlh, IFA_ADDRESS, len, a);
	if (family == AF_INET)
		mnl_attr_put(nlh, IFA_LOCAL, len, a);
	return (nlh);
}

static const struct nlmsghdr *
route_msg(uint16_t type, int family, unsigned char dst_len, uint32_t table,
    int oif, const void *gw)
{
	struct nlmsghdr	*nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg	*rtm;

	nlh->nlmsg_type = type;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)family;
	rtm->rtm_dst_len = dst_len;
	rtm->rtm_table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC;
	rtm->rtm_type = RTN_UNICAST;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)oif);
	if (gw != NULL)
		mnl_attr_put(nlh, RTA_GATEWAY, family == AF_INET ? 4 : 16, gw);
	return (nlh);
}

#define UP	(IFF_UP | IFF_RUNNING)

static int
lnk(uint16_t type, int ifindex, unsigned flags)
{
	return (netwatch_input(&st, at, link_msg(type, ifindex, flags), dump));
}

static int
adr(uint16_t type, int ifindex, int family, const void *a, unsigned char scope,
    unsigned char flags)
{
	return (netwatch_input(&st, at,
	    addr_msg(type, ifindex, family, a, scope, flags), dump));
}

static int
rte(uint16_t type, unsigned char dst_len, uint32_t table, int oif,
    const void *gw)
{
	return (netwatch_input(&st, at,
	    route_msg(type, AF_INET, dst_len, table, oif, gw), dump));
}

static void
begin(void)
{
	netwatch_init(&st);
	at = 0;
	dump = false;
}

START_TEST(test_link_up)
{
	begin();
	/* What a dump says is learned: eth0 down, eth1 up. */
	at = S(1);
	dump = true;
	ck_assert_int_eq(lnk(RTM_NEWLINK, 2, IFF_UP), 0);
	ck_assert_int_eq(lnk(RTM_NEWLINK, 3, UP), IPC_NET_LINK_UP);
	ck_assert_uint_eq(netwatch_deadline(&st), TIMER_NEVER);
	/* News about a link that stays up is no change. */
	at = S(2);
	dump = false;
	ck_assert_int_eq(lnk(RTM_NEWLINK, 3, UP), 0);
	ck_assert_int_eq(lnk(RTM_NEWLINK, 2, IFF_UP), 0);
	ck_assert_uint_eq(netwatch_deadline(&st), TIMER_NEVER);
	/* eth0 gets its carrier: up. */
	at = S(3);
	ck_assert_int_eq(lnk(RTM_NEWLINK, 2, UP), IPC_NET_LINK_UP);
	ck_assert_uint_eq(netwatch_deadline(&st), S(3) + MS(500));
	ck_assert_int_eq(netwatch_due(&st, S(3) + MS(499)), 0);
	ck_assert_int_eq(netwatch_due(&st, S(3) + MS(500)), IPC_NET_LINK_UP);
	ck_assert_int_eq(netwatch_due(&st, S(4)), 0);
	/* Down and up again; loopback and our own device never count. */
	at = S(5);
	ck_assert_int_eq(lnk(RTM_NEWLINK, 2, IFF_UP), 0);
	ck_assert_int_eq(lnk(RTM_NEWLINK, 1, UP | IFF_LOOPBACK), 0);
	netwatch_ignore_link(&st, 9);
	ck_assert_int_eq(lnk(RTM_NEWLINK, 9, UP), 0);
	at = S(6);
	ck_assert_int_eq(lnk(RTM_NEWLINK, 2, UP), IPC_NET_LINK_UP);
	/* A link removed and made again comes up as new. */
	at = S(7);
	ck_assert_int_eq(lnk(RTM_DELLINK, 3, UP), 0);
	ck_assert_int_eq(lnk(RTM_NEWLINK, 3, UP), IPC_NET_LINK_UP);
}
END_TEST

START_TEST(test_addresses)
{
	static const uint8_t	 a1[4] = { 10, 81, 0, 2 };
	static const uint8_t	 a2[4] = { 10, 81, 0, 3 };
	static const uint8_t	 v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 5 };
	const int		 g = RT_SCOPE_UNIVERSE;

	begin();
	at = S(1);
	dump = true;
	ck_assert_int_eq(adr(RTM_NEWADDR, 2, AF_INET, a1, g, 0),
	    IPC_NET_ADDRESS);
	ck_assert_uint_eq(netwatch_deadline(&st), TIMER_NEVER);
	/* A repeat (a lifetime refreshed) is no change. */
	at = S(2);
	dump = false;
	ck_assert_int_eq(adr(RTM_NEWADDR, 2, AF_INET, a1, g, 0), 0);
	/* Link-local scope, IPv6 temporary addresses, our device: none. */
	ck_assert_int_eq(adr(RTM_NEWADDR, 2, AF_INET, a2, RT_SCOPE_LINK, 0), 0);
	ck_assert_int_eq(adr(RTM_NEWADDR, 2, AF_INET6, v6, g, IFA_F_TEMPORARY),
	    0);
	netwatch_ignore_link(&st, 7);
	ck_assert_int_eq(adr(RTM_NEWADDR, 7, AF_INET, a2, g, 0), 0);
	ck_assert_uint_eq(netwatch_deadline(&st), TIMER_NEVER);
	/* A move: the new address, the old one gone, one burst. */
	at = S(3);
	ck_assert_int_eq(adr(RTM_NEWADDR, 2, AF_INET, a2, g, 0),
	    IPC_NET_ADDRESS);
	at = S(3) + MS(300);
	ck_assert_int_eq(adr(RTM_DELADDR, 2, AF_INET, a1, g, 0),
	    IPC_NET_ADDRESS);
	ck_assert_uint_eq(netwatch_deadline(&st), S(3) + MS(800));
	ck_assert_int_eq(netwatch_due(&st, S(3) + MS(800)), IPC_NET_ADDRESS);
	/* Deleting what was never seen is no change. */
	at = S(4);
	ck_assert_int_eq(adr(RTM_DELADDR, 2, AF_INET, a1, g, 0), 0);
	ck_assert_int_eq(adr(RTM_NEWADDR, 2, AF_INET6, v6, g, 0),
	    IPC_NET_ADDRESS);
}
END_TEST

START_TEST(test_default_routes)
{
	static const uint8_t	 gw1[4] = { 10, 81, 0, 1 };
	static const uint8_t	 gw2[4] = { 10, 81, 0, 254 };
	const uint32_t		 main = RT_TABLE_MAIN;

	begin();
	netwatch_ignore_link(&st, 9);
	at = S(1);
	dump = true;
	ck_assert_int_eq(rte(RTM_NEWROUTE, 0, main, 2, gw1), IPC_NET_ROUTE);
	/* Not default, another table, through our device: none. */
	at = S(2);
	dump = false;
	ck_assert_int_eq(rte(RTM_NEWROUTE, 24, main, 2, NULL), 0);
	ck_assert_int_eq(rte(RTM_NEWROUTE, 0, 0x2021fd02, 2, NULL), 0);
	ck_assert_int_eq(rte(RTM_NEWROUTE, 0, main, 9, NULL), 0);
	ck_assert_int_eq(rte(RTM_NEWROUTE, 0, main, 2, gw1), 0);
	ck_assert_uint_eq(netwatch_deadline(&st), TIMER_NEVER);
	/* Another gateway: a change, and the old one going is one too. */
	at = S(3);
	ck_assert_int_eq(rte(RTM_NEWROUTE, 0, main, 2, gw2), IPC_NET_ROUTE);
	ck_assert_int_eq(rte(RTM_DELROUTE, 0, main, 2, gw1), IPC_NET_ROUTE);
	ck_assert_int_eq(netwatch_due(&st, S(4)), IPC_NET_ROUTE);
}
END_TEST

/*
 * With a default route known, only its link is the uplink: a container's
 * link and bridge address come and go without a reset.
 */
START_TEST(test_other_links)
{
	static const uint8_t	 gw[4] = { 10, 81, 0, 1 };
	static const uint8_t	 up4[4] = { 10, 81, 0, 3 };
	static const uint8_t	 br4[4] = { 172, 17, 0, 1 };
	const int		 g = RT_SCOPE_UNIVERSE;

	begin();
	at = S(1);
	dump = true;
	ck_assert_int_eq(lnk(RTM_NEWLINK, 2, UP), IPC_NET_LINK_UP);
	ck_assert_int_eq(rte(RTM_NEWROUTE, 0, RT_TABLE_MAIN, 2, gw),
	    IPC_NET_ROUTE);
	dump = false;
	at = S(2);
	ck_assert_int_eq(lnk(RTM_NEWLINK, 5, UP), 0);
	ck_assert_int_eq(adr(RTM_NEWADDR, 5, AF_INET, br4, g, 0), 0);
	ck_assert_int_eq(adr(RTM_DELADDR, 5, AF_INET, br4, g, 0), 0);
	ck_assert_uint_eq(netwatch_deadline(&st), TIMER_NEVER);
	/* The uplink's own address and carrier still count. */
	ck_assert_int_eq(adr(RTM_NEWADDR, 2, AF_INET, up4, g, 0),
	    IPC_NET_ADDRESS);
	ck_assert_int_eq(lnk(RTM_NEWLINK, 2, IFF_UP), 0);
	ck_assert_int_eq(lnk(RTM_NEWLINK, 2, UP), IPC_NET_LINK_UP);
}
END_TEST

START_TEST(test_debounce_cap)
{
	static const uint8_t	 gw[4] = { 10, 81, 0, 1 };
	uint16_t		 type;
	int			 k;

	begin();
	/* Events every 400 ms: the burst ends 2 s after its first anyway. */
	for (k = 0, at = S(10); k < 8; k++, at += MS(400)) {
		ck_assert_int_eq(lnk(RTM_NEWLINK, 2, k % 2 ? UP : IFF_UP),
		    k % 2 ? IPC_NET_LINK_UP : 0);
		type = k % 4 ? RTM_DELROUTE : RTM_NEWROUTE;
		if (k % 2 == 0)
			(void)rte(type, 0, RT_TABLE_MAIN, 2, gw);
	}
	ck_assert_uint_eq(netwatch_deadline(&st), S(12));
	/* The first reason of the burst is the one given. */
	ck_assert_int_eq(netwatch_due(&st, S(12)), IPC_NET_ROUTE);
	ck_assert_uint_eq(netwatch_deadline(&st), TIMER_NEVER);
	netwatch_note(&st, S(20), IPC_NET_ADDRESS);
	ck_assert_int_eq(netwatch_due(&st, S(20) + MS(500)), IPC_NET_ADDRESS);
}
END_TEST

START_TEST(test_clock_jumps)
{
	uint64_t	 mono = S(100), boot = S(500);

	begin();
	ck_assert_int_eq(netwatch_clock(&st, mono, boot), 0);
	/* On time, both clocks alike. */
	mono += S(10);
	boot += S(10);
	ck_assert_int_eq(netwatch_clock(&st, mono, boot), 0);
	/* Late by less than the threshold: a busy host, no change. */
	mono += S(14);
	boot += S(14);
	ck_assert_int_eq(netwatch_clock(&st, mono, boot), 0);
	/* An hour asleep: the boot clock jumped. */
	mono += S(10);
	boot += S(3610);
	ck_assert_int_eq(netwatch_clock(&st, mono, boot), IPC_NET_RESUME);
	/* Stopped for 30 s: both ran, the check came late. */
	mono += S(30);
	boot += S(30);
	ck_assert_int_eq(netwatch_clock(&st, mono, boot), IPC_NET_RESUME);
	mono += S(10);
	boot += S(10);
	ck_assert_int_eq(netwatch_clock(&st, mono, boot), 0);
}
END_TEST

static Suite *
netwatch_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("netwatch");
	tc = tcase_create("core");
	tcase_add_test(tc, test_link_up);
	tcase_add_test(tc, test_addresses);
	tcase_add_test(tc, test_default_routes);
	tcase_add_test(tc, test_other_links);
	tcase_add_test(tc, test_debounce_cap);
	tcase_add_test(tc, test_clock_jumps);
	suite_add_tcase(s, tc);
	return (s);
}

const struct check_main check_main = {
	.suites = { netwatch_suite },
};
