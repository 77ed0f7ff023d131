/*
 * netwatch.c: whether the network under the tunnel changed (netwatch.h).
 * What it keeps of links, addresses and default routes is only there to
 * tell a change from a repeat: the kernel also announces lifetimes
 * refreshed by router advertisements, statistics and flags nobody cares
 * about, and none of those should cost a reconnect.
 */
#include <sys/socket.h>

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <errno.h>
#include <event2/event.h>
#include <libmnl/libmnl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/timer.h"
#include "common/util.h"
#include "ipc/ipc.h"
#include "tunneld/netwatch.h"

/* What libmnl suggests for dumps; news comes in smaller pieces. */
#define NETWATCH_BUFSZ	32768
#define NETWATCH_GROUPS \
	(RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | \
	    RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE)
/* Attribute types kept from one message: more than IFA_ and RTA_MAX. */
#define NETWATCH_MAX_ATTR	64

void
netwatch_init(struct netwatch_state *st)
{
	memset(st, 0, sizeof(*st));
}

void
netwatch_ignore_link(struct netwatch_state *st, int ifindex)
{
	st->ignore = ifindex;
}

static size_t
addr_len(int family)
{
	return (family == AF_INET ? 4 : 16);
}

static int
netwatch_attr_cb(const struct nlattr *attr, void *arg)
{
	const struct nlattr	**tb = arg;

	if (mnl_attr_type_valid(attr, NETWATCH_MAX_ATTR - 1) > 0)
		tb[mnl_attr_get_type(attr)] = attr;
	return (MNL_CB_OK);
}

/* An address-sized attribute of this family, or NULL. */
static const uint8_t *
attr_addr(const struct nlattr *a, int family)
{
	if (a == NULL || mnl_attr_get_payload_len(a) != addr_len(family))
		return (NULL);
	return (mnl_attr_get_payload(a));
}

static bool
attr_u32(const struct nlattr *a, uint32_t *v)
{
	if (a == NULL || mnl_attr_validate(a, MNL_TYPE_U32) == -1)
		return (false);
	*v = mnl_attr_get_u32(a);
	return (true);
}

/*
 * Whether a link carries the uplink: a default route goes through it, or
 * no default route is known (a machine still looking for its network).
 * Links of containers and VMs coming and going are not the uplink.
 */
static bool
netwatch_uplink(const struct netwatch_state *st, int ifindex)
{
	size_t	 i;

	if (st->nroutes == 0)
		return (true);
	for (i = 0; i < st->nroutes; i++)
		if (st->routes[i].oif == ifindex)
			return (true);
	return (false);
}

/*
 * RTM_*LINK: only an uplink that was down, or unknown, coming up counts
 * (a carrier back: the routes through it stay while it is gone).
 */
static int
netwatch_link(struct netwatch_state *st, const struct nlmsghdr *nlh)
{
	const struct ifinfomsg	*ifi;
	size_t			 i;
	bool			 up, was = false, known = false;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return (0);
	ifi = mnl_nlmsg_get_payload(nlh);
	if (ifi->ifi_index == st->ignore || (ifi->ifi_flags & IFF_LOOPBACK))
		return (0);
	up = nlh->nlmsg_type == RTM_NEWLINK && (ifi->ifi_flags & IFF_UP) &&
	    (ifi->ifi_flags & IFF_RUNNING);
	for (i = 0; i < st->nlinks; i++)
		if (st->links[i].ifindex == ifi->ifi_index) {
			known = true;
			was = st->links[i].up;
			break;
		}
	if (nlh->nlmsg_type == RTM_DELLINK) {
		if (known)
			st->links[i] = st->links[--st->nlinks];
		return (0);
	}
	if (!known) {
		if (st->nlinks == NETWATCH_MAX_LINKS) {
			if (!up || !netwatch_uplink(st, ifi->ifi_index))
				return (0);
			return (IPC_NET_LINK_UP);
		}
		i = st->nlinks++;
		st->links[i].ifindex = ifi->ifi_index;
	}
	st->links[i].up = up;
	if (!up || was || !netwatch_uplink(st, ifi->ifi_index))
		return (0);
	return (IPC_NET_LINK_UP);
}

static bool
addr_eq(const struct netwatch_addr *a, const struct netwatch_addr *b)
{
	return (a->ifindex == b->ifindex && a->family == b->family &&
	    memcmp(a->addr, b->addr, addr_len(a->family)) == 0);
}

/*
 * RTM_*ADDR: global addresses of uplinks, all kept. IPv6 temporary
 * addresses come and go on their own schedule without moving the uplink.
 */
static int
netwatch_addr(struct netwatch_state *st, const struct nlmsghdr *nlh)
{
	const struct ifaddrmsg	*ifa;
	const struct nlattr	*tb[NETWATCH_MAX_ATTR];
	const uint8_t		*ip;
	struct netwatch_addr	 a;
	size_t			 i;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)))
		return (0);
	ifa = mnl_nlmsg_get_payload(nlh);
	if ((ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) ||
	    (int)ifa->ifa_index == st->ignore ||
	    ifa->ifa_scope != RT_SCOPE_UNIVERSE ||
	    (ifa->ifa_family == AF_INET6 && (ifa->ifa_flags & IFA_F_TEMPORARY)))
		return (0);
	memset(tb, 0, sizeof(tb));
	if (mnl_attr_parse(nlh, sizeof(*ifa), netwatch_attr_cb, tb) == -1)
		return (0);
	/* IFA_LOCAL is ours on point-to-point links, else IFA_ADDRESS. */
	if ((ip = attr_addr(tb[IFA_LOCAL], ifa->ifa_family)) == NULL &&
	    (ip = attr_addr(tb[IFA_ADDRESS], ifa->ifa_family)) == NULL)
		return (0);
	memset(&a, 0, sizeof(a));
	a.ifindex = (int)ifa->ifa_index;
	a.family = ifa->ifa_family;
	memcpy(a.addr, ip, addr_len(a.family));
	for (i = 0; i < st->naddrs; i++)
		if (addr_eq(&st->addrs[i], &a))
			break;
	if (nlh->nlmsg_type == RTM_DELADDR) {
		if (i == st->naddrs)
			return (0);
		st->addrs[i] = st->addrs[--st->naddrs];
		return (netwatch_uplink(st, a.ifindex) ? IPC_NET_ADDRESS : 0);
	}
	if (i < st->naddrs)
		return (0);
	if (st->naddrs < NETWATCH_MAX_ADDRS)
		st->addrs[st->naddrs++] = a;
	return (netwatch_uplink(st, a.ifindex) ? IPC_NET_ADDRESS : 0);
}

static bool
route_eq(const struct netwatch_route *a, const struct netwatch_route *b)
{
	return (a->oif == b->oif && a->family == b->family &&
	    a->priority == b->priority &&
	    memcmp(a->gateway, b->gateway, addr_len(a->family)) == 0);
}

/* RTM_*ROUTE: default routes of the main table not through our device. */
static int
netwatch_route(struct netwatch_state *st, const struct nlmsghdr *nlh)
{
	const struct rtmsg	*rtm;
	const struct nlattr	*tb[NETWATCH_MAX_ATTR];
	const uint8_t		*gw;
	struct netwatch_route	 r;
	uint32_t		 table, oif;
	size_t			 i;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)))
		return (0);
	rtm = mnl_nlmsg_get_payload(nlh);
	if ((rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6) ||
	    rtm->rtm_dst_len != 0 || rtm->rtm_type != RTN_UNICAST)
		return (0);
	memset(&r, 0, sizeof(r));
	r.family = rtm->rtm_family;
	table = rtm->rtm_table;
	memset(tb, 0, sizeof(tb));
	if (mnl_attr_parse(nlh, sizeof(*rtm), netwatch_attr_cb, tb) == -1)
		return (0);
	(void)attr_u32(tb[RTA_TABLE], &table);
	if (attr_u32(tb[RTA_OIF], &oif))
		r.oif = (int)oif;
	(void)attr_u32(tb[RTA_PRIORITY], &r.priority);
	if ((gw = attr_addr(tb[RTA_GATEWAY], r.family)) != NULL)
		memcpy(r.gateway, gw, addr_len(r.family));
	if (table != RT_TABLE_MAIN || (r.oif != 0 && r.oif == st->ignore))
		return (0);
	for (i = 0; i < st->nroutes; i++)
		if (route_eq(&st->routes[i], &r))
			break;
	if (nlh->nlmsg_type == RTM_DELROUTE) {
		if (i == st->nroutes)
			return (0);
		st->routes[i] = st->routes[--st->nroutes];
		return (IPC_NET_ROUTE);
	}
	if (i < st->nroutes)
		return (0);
	if (st->nroutes < NETWATCH_MAX_ROUTES)
		st->routes[st->nroutes++] = r;
	return (IPC_NET_ROUTE);
}

int
netwatch_input(struct netwatch_state *st, uint64_t now,
    const struct nlmsghdr *nlh, bool learn)
{
	int	 why;

	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		why = netwatch_link(st, nlh);
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		why = netwatch_addr(st, nlh);
		break;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		why = netwatch_route(st, nlh);
		break;
	default:
		return (0);
	}
	if (why != 0 && !learn)
		netwatch_note(st, now, why);
	return (why);
}

void
netwatch_note(struct netwatch_state *st, uint64_t now, int why)
{
	if (st->pending == 0) {
		st->pending = why;
		st->first = now;
	}
	st->last = now;
}

uint64_t
netwatch_deadline(const struct netwatch_state *st)
{
	uint64_t	 quiet, cap;

	if (st->pending == 0)
		return (TIMER_NEVER);
	quiet = st->last + NETWATCH_DEBOUNCE_NS;
	cap = st->first + NETWATCH_MAX_DELAY_NS;
	return (quiet < cap ? quiet : cap);
}

int
netwatch_due(struct netwatch_state *st, uint64_t now)
{
	int	 why = st->pending;

	if (why == 0 || now < netwatch_deadline(st))
		return (0);
	st->pending = 0;
	return (why);
}

int
netwatch_clock(struct netwatch_state *st, uint64_t mono, uint64_t boot)
{
	uint64_t	 dm, db;
	bool		 had = st->have_clock;

	dm = mono - st->mono;
	db = boot - st->boot;
	st->have_clock = true;
	st->mono = mono;
	st->boot = boot;
	if (!had)
		return (0);
	/* Asleep: the boot clock ran on, the monotonic one stood still. */
	if (db > dm + NETWATCH_JUMP_NS)
		return (IPC_NET_RESUME);
	/* Stopped (SIGSTOP, a stalled VM): the check came late. */
	if (dm > NETWATCH_CLOCK_NS + NETWATCH_JUMP_NS)
		return (IPC_NET_RESUME);
	return (0);
}

/* The IO around it. */

struct netwatch {
	struct netwatch_state	 st;
	struct mnl_socket	*sock;
	unsigned int		 portid;
	struct event		*ev_read;
	struct event		*ev_burst;
	struct event		*ev_clock;
	netwatch_fn		*fn;
	void			*arg;
	char			 buf[NETWATCH_BUFSZ];
};

static uint64_t
netwatch_boottime(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_BOOTTIME, &ts) == -1)
		fatal("clock_gettime CLOCK_BOOTTIME");
	return ((uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec);
}

static const char *
netwatch_why(int why)
{
	switch (why) {
	case IPC_NET_LINK_UP:
		return ("a link came up");
	case IPC_NET_ADDRESS:
		return ("an address changed");
	case IPC_NET_ROUTE:
		return ("a default route changed");
	default:
		return ("the host slept or the process was stopped");
	}
}

struct netwatch_cb {
	struct netwatch		*nw;
	bool			 learn;
};

static int
netwatch_msg_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct netwatch_cb	*c = arg;
	int			 why;

	/* Answers to our dumps carry a sequence number; news does not. */
	why = netwatch_input(&c->nw->st, util_now_ns(), nlh,
	    c->learn && nlh->nlmsg_seq != 0);
	if (why != 0 && !(c->learn && nlh->nlmsg_seq != 0))
		log_debug("netwatch: %s", netwatch_why(why));
	return (MNL_CB_OK);
}

static void
netwatch_arm(struct netwatch *nw)
{
	timer_at(nw->ev_burst, netwatch_deadline(&nw->st), util_now_ns());
}

static void
netwatch_read_cb(evutil_socket_t fd, short events, void *arg)
{
	struct netwatch		*nw = arg;
	struct netwatch_cb	 c = { nw, false };
	ssize_t			 n;
	int			 k;

	(void)fd;
	(void)events;
	/* A bounded number per turn: a storm must not starve the rest. */
	for (k = 0; k < 64; k++) {
		n = mnl_socket_recvfrom(nw->sock, nw->buf, sizeof(nw->buf));
		if (n == -1 && errno == ENOBUFS) {
			/* News was lost: whatever it said, assume a change. */
			log_warnx("netwatch: the kernel dropped rtnetlink "
			    "news; treating it as a change");
			netwatch_note(&nw->st, util_now_ns(), IPC_NET_ADDRESS);
			continue;
		}
		if (n <= 0)
			break;
		(void)mnl_cb_run(nw->buf, (size_t)n, 0, 0, netwatch_msg_cb, &c);
	}
	netwatch_arm(nw);
}

static void
netwatch_burst_cb(evutil_socket_t fd, short events, void *arg)
{
	struct netwatch	*nw = arg;
	int		 why;

	(void)fd;
	(void)events;
	if ((why = netwatch_due(&nw->st, util_now_ns())) != 0) {
		log_info("network change: %s", netwatch_why(why));
		nw->fn(nw->arg, why);
	}
	netwatch_arm(nw);
}

static void
netwatch_clock_cb(evutil_socket_t fd, short events, void *arg)
{
	struct netwatch	*nw = arg;
	int		 why;

	(void)fd;
	(void)events;
	why = netwatch_clock(&nw->st, util_now_ns(), netwatch_boottime());
	timer_in(nw->ev_clock, NETWATCH_CLOCK_NS);
	if (why != 0) {
		log_info("network change: %s", netwatch_why(why));
		nw->fn(nw->arg, why);
	}
}

/* What is there now, learned without counting as a change. */
static int
netwatch_dump(struct netwatch *nw, uint16_t type, unsigned int seq)
{
	struct netwatch_cb	 c = { nw, true };
	char			*buf = nw->buf;
	struct nlmsghdr		*nlh;
	struct rtgenmsg		*g;
	ssize_t			 n;
	int			 rc;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->rtgen_family = AF_UNSPEC;
	if (mnl_socket_sendto(nw->sock, nlh, nlh->nlmsg_len) == -1)
		return (-1);
	do {
		n = mnl_socket_recvfrom(nw->sock, buf, NETWATCH_BUFSZ);
		if (n == -1) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			return (-1);
		}
		rc = mnl_cb_run(buf, (size_t)n, seq, nw->portid,
		    netwatch_msg_cb, &c);
	} while (rc > MNL_CB_STOP);
	return (rc == -1 ? -1 : 0);
}

struct netwatch *
netwatch_new(struct event_base *base, netwatch_fn *fn, void *arg)
{
	struct netwatch	*nw;

	nw = xcalloc(1, sizeof(*nw));
	netwatch_init(&nw->st);
	nw->fn = fn;
	nw->arg = arg;
	nw->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (nw->sock == NULL)
		fatal("netwatch: rtnetlink socket");
	if (mnl_socket_bind(nw->sock, NETWATCH_GROUPS, MNL_SOCKET_AUTOPID) < 0)
		fatal("netwatch: rtnetlink socket");
	nw->portid = mnl_socket_get_portid(nw->sock);
	if (netwatch_dump(nw, RTM_GETLINK, 1) == -1 ||
	    netwatch_dump(nw, RTM_GETADDR, 2) == -1 ||
	    netwatch_dump(nw, RTM_GETROUTE, 3) == -1)
		fatal("netwatch: reading links, addresses and routes");
	/* Whatever news came with the dumps starts no burst of its own. */
	nw->st.pending = 0;
	if (evutil_make_socket_nonblocking(mnl_socket_get_fd(nw->sock)) == -1)
		fatal("netwatch: non-blocking socket");
	nw->ev_read = event_new(base, mnl_socket_get_fd(nw->sock),
	    EV_READ | EV_PERSIST, netwatch_read_cb, nw);
	nw->ev_burst = evtimer_new(base, netwatch_burst_cb, nw);
	nw->ev_clock = evtimer_new(base, netwatch_clock_cb, nw);
	if (nw->ev_read == NULL || nw->ev_burst == NULL ||
	    nw->ev_clock == NULL || event_add(nw->ev_read, NULL) == -1)
		fatalx("netwatch: event setup");
	(void)netwatch_clock(&nw->st, util_now_ns(), netwatch_boottime());
	timer_in(nw->ev_clock, NETWATCH_CLOCK_NS);
	log_debug("netwatch: %zu links, %zu addresses, %zu default routes",
	    nw->st.nlinks, nw->st.naddrs, nw->st.nroutes);
	return (nw);
}

/* Our own device: its link, addresses and routes are not the uplink. */
void
netwatch_ignore(struct netwatch *nw, int ifindex)
{
	netwatch_ignore_link(&nw->st, ifindex);
}

void
netwatch_free(struct netwatch *nw)
{
	if (nw == NULL)
		return;
	event_free(nw->ev_read);
	event_free(nw->ev_burst);
	event_free(nw->ev_clock);
	mnl_socket_close(nw->sock);
	free(nw);
}
