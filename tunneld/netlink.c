/* netlink.c: rtnetlink requests for the tunnel, with an undo log. */
#include <sys/socket.h>

#include <linux/fib_rules.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <errno.h>
#include <libmnl/libmnl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tunneld/netlink.h"

/* Large enough for any RTM_NEWLINK answer to netlink_ifindex(). */
#define NETLINK_BUFSZ		32768

/* IPv6 turns metric 0 into this; recording it keeps the delete exact. */
#define NETLINK_IP6_METRIC	1024

enum undo_kind {
	UNDO_ADDR,
	UNDO_ROUTE,
	UNDO_RULE
};

/* One change we made, with what it takes to build both add and delete. */
struct undo {
	enum undo_kind	 kind;
	int		 family;
	int		 ifindex;	/* ADDR, ROUTE */
	uint8_t		 addr[16];	/* ADDR: address, ROUTE: destination */
	unsigned	 prefixlen;	/* ADDR, ROUTE */
	uint32_t	 table;		/* ROUTE, RULE */
	uint32_t	 metric;	/* ROUTE */
	uint32_t	 fwmark;	/* RULE */
	uint32_t	 priority;	/* RULE */
	bool		 invert;	/* RULE */
	bool		 suppress;	/* RULE */
};

struct netlink {
	struct mnl_socket	*sock;
	unsigned int		 portid;
	unsigned int		 seq;
	struct undo		*log;
	size_t			 nlog;
	size_t			 caplog;
	char			 buf[NETLINK_BUFSZ];
};

static size_t
addr_len(int family)
{
	switch (family) {
	case AF_INET:
		return (4);
	case AF_INET6:
		return (16);
	default:
		return (0);
	}
}

static bool
host_bits_clear(const uint8_t *a, size_t len, unsigned prefixlen)
{
	size_t	i = prefixlen / 8;

	if (prefixlen % 8 != 0 && (a[i++] & (0xff >> (prefixlen % 8))) != 0)
		return (false);
	for (; i < len; i++)
		if (a[i] != 0)
			return (false);
	return (true);
}

/*
 * Tables fzc may touch: main or a table of its own.  The kernel's reserved
 * ids (local, default, compat) are never ours to change.
 */
static int
table_check(uint32_t *table)
{
	if (*table == RT_TABLE_UNSPEC)
		*table = RT_TABLE_MAIN;
	if (*table == RT_TABLE_LOCAL || *table == RT_TABLE_DEFAULT ||
	    *table == RT_TABLE_COMPAT)
		return (-EINVAL);
	return (0);
}

static struct nlmsghdr *
msg_start(struct netlink *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr	*nlh;

	nlh = mnl_nlmsg_put_header(nl->buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++nl->seq;
	return (nlh);
}

/*
 * Sends one request and reads until its ACK.  mnl_cb_run checks sequence
 * number and port id, and turns an NLMSG_ERROR into errno.
 */
static int
request(struct netlink *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
{
	unsigned int	 seq = nlh->nlmsg_seq;
	ssize_t		 n;
	int		 ret;

	do
		n = mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return (-errno);
	do {
		do
			n = mnl_socket_recvfrom(nl->sock, nl->buf,
			    sizeof(nl->buf));
		while (n == -1 && errno == EINTR);
		if (n == -1)
			return (-errno);
		ret = mnl_cb_run(nl->buf, n, seq, nl->portid, cb, arg);
	} while (ret > MNL_CB_STOP);
	return (ret == MNL_CB_ERROR ? -errno : 0);
}

static struct nlmsghdr *
addr_msg(struct netlink *nl, const struct undo *u, bool add)
{
	struct nlmsghdr	*nlh;
	struct ifaddrmsg *ifa;
	size_t		 len = addr_len(u->family);

	nlh = msg_start(nl, add ? RTM_NEWADDR : RTM_DELADDR,
	    add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = u->family;
	ifa->ifa_prefixlen = u->prefixlen;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = u->ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, len, u->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, len, u->addr);
	return (nlh);
}

/*
 * The delete names dst, table, device, metric and protocol so that it
 * matches our route only, never a neighbour with another metric.
 */
static struct nlmsghdr *
route_msg(struct netlink *nl, const struct undo *u, bool add)
{
	struct nlmsghdr	*nlh;
	struct rtmsg	*rtm;

	nlh = msg_start(nl, add ? RTM_NEWROUTE : RTM_DELROUTE,
	    add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = u->family;
	rtm->rtm_dst_len = u->prefixlen;
	rtm->rtm_table = u->table < 256 ? u->table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_type = RTN_UNICAST;
	if (!add)
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
	else if (u->family == AF_INET)
		rtm->rtm_scope = RT_SCOPE_LINK;
	else
		rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	if (u->prefixlen > 0)
		mnl_attr_put(nlh, RTA_DST, addr_len(u->family), u->addr);
	mnl_attr_put_u32(nlh, RTA_TABLE, u->table);
	mnl_attr_put_u32(nlh, RTA_OIF, u->ifindex);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, u->metric);
	return (nlh);
}

static struct nlmsghdr *
rule_msg(struct netlink *nl, const struct undo *u, bool add)
{
	struct nlmsghdr		*nlh;
	struct fib_rule_hdr	*frh;

	nlh = msg_start(nl, add ? RTM_NEWRULE : RTM_DELRULE,
	    add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = u->family;
	frh->table = u->table < 256 ? u->table : RT_TABLE_UNSPEC;
	frh->action = FR_ACT_TO_TBL;
	if (u->invert)
		frh->flags |= FIB_RULE_INVERT;
	mnl_attr_put_u32(nlh, FRA_TABLE, u->table);
	mnl_attr_put_u32(nlh, FRA_PRIORITY, u->priority);
	if (u->fwmark != 0)
		mnl_attr_put_u32(nlh, FRA_FWMARK, u->fwmark);
	if (u->suppress)
		mnl_attr_put_u32(nlh, FRA_SUPPRESS_PREFIXLEN, 0);
	return (nlh);
}

static struct nlmsghdr *
undo_msg(struct netlink *nl, const struct undo *u, bool add)
{
	switch (u->kind) {
	case UNDO_ADDR:
		return (addr_msg(nl, u, add));
	case UNDO_ROUTE:
		return (route_msg(nl, u, add));
	default:
		return (rule_msg(nl, u, add));
	}
}

/* The errors a delete gets when the entry, or its device, is gone. */
static bool
undo_gone(enum undo_kind kind, int error)
{
	switch (kind) {
	case UNDO_ADDR:
		return (error == -ENODEV || error == -EADDRNOTAVAIL);
	case UNDO_ROUTE:
		return (error == -ESRCH);
	default:
		return (error == -ENOENT);
	}
}

/*
 * Room in the log is made before the request, so that a change the kernel
 * has made can always be recorded.
 */
static int
apply(struct netlink *nl, const struct undo *u)
{
	struct undo	*log;
	size_t		 cap;
	int		 error;

	if (nl->nlog == nl->caplog) {
		cap = nl->caplog == 0 ? 16 : nl->caplog * 2;
		if ((log = reallocarray(nl->log, cap, sizeof(*log))) == NULL)
			return (-errno);
		nl->log = log;
		nl->caplog = cap;
	}
	if ((error = request(nl, undo_msg(nl, u, true), NULL, NULL)) != 0)
		return (error);
	nl->log[nl->nlog++] = *u;
	return (0);
}

int
netlink_open(struct netlink **nlp)
{
	struct netlink	*nl;
	int		 error;

	if ((nl = calloc(1, sizeof(*nl))) == NULL)
		return (-errno);
	/* CLOEXEC: tunneld execs fzc-controld, which must not inherit it. */
	if ((nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC)) ==
	    NULL) {
		error = -errno;
		free(nl);
		return (error);
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) == -1) {
		error = -errno;
		mnl_socket_close(nl->sock);
		free(nl);
		return (error);
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = time(NULL);
	*nlp = nl;
	return (0);
}

void
netlink_close(struct netlink *nl)
{
	if (nl == NULL)
		return;
	mnl_socket_close(nl->sock);
	free(nl->log);
	free(nl);
}

static int
link_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct ifinfomsg	*ifi;
	int			*ifindex = arg;

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi)) {
		errno = EBADMSG;
		return (MNL_CB_ERROR);
	}
	ifi = mnl_nlmsg_get_payload(nlh);
	*ifindex = ifi->ifi_index;
	return (MNL_CB_OK);
}

int
netlink_ifindex(struct netlink *nl, const char *name)
{
	struct nlmsghdr		*nlh;
	struct ifinfomsg	*ifi;
	size_t			 len;
	int			 error, ifindex = 0;

	if (name == NULL || (len = strnlen(name, IFNAMSIZ)) == 0 ||
	    len == IFNAMSIZ)
		return (-EINVAL);
	nlh = msg_start(nl, RTM_GETLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if ((error = request(nl, nlh, link_cb, &ifindex)) != 0)
		return (error);
	return (ifindex > 0 ? ifindex : -EBADMSG);
}

int
netlink_link_set(struct netlink *nl, int ifindex, unsigned mtu, bool up)
{
	struct nlmsghdr		*nlh;
	struct ifinfomsg	*ifi;

	/*
	 * Below IPv6's 1280 the kernel silently drops the device's IPv6
	 * addresses; above 65535 no IP packet fits.
	 */
	if (ifindex <= 0 || mtu < 1280 || mtu > 65535)
		return (-EINVAL);
	nlh = msg_start(nl, RTM_NEWLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return (request(nl, nlh, NULL, NULL));
}

/* The record of an address. */
static int
addr_undo(struct undo *u, int ifindex, int family, const void *addr,
    unsigned prefixlen)
{
	size_t	 len = addr_len(family);

	if (ifindex <= 0 || len == 0 || addr == NULL || prefixlen == 0 ||
	    prefixlen > len * 8)
		return (-EINVAL);
	memset(u, 0, sizeof(*u));
	u->kind = UNDO_ADDR;
	u->family = family;
	u->ifindex = ifindex;
	memcpy(u->addr, addr, len);
	u->prefixlen = prefixlen;
	return (0);
}

int
netlink_addr_add(struct netlink *nl, int ifindex, int family,
    const void *addr, unsigned prefixlen)
{
	struct undo	 u;
	int		 rc;

	if ((rc = addr_undo(&u, ifindex, family, addr, prefixlen)) != 0)
		return (rc);
	return (apply(nl, &u));
}

/* The record of a route; bits past the prefix make it invalid. */
static int
route_undo(struct undo *u, int ifindex, int family, const void *dst,
    unsigned prefixlen, uint32_t table, uint32_t metric)
{
	size_t	 len = addr_len(family);

	if (ifindex <= 0 || len == 0 || dst == NULL || prefixlen > len * 8 ||
	    !host_bits_clear(dst, len, prefixlen) || table_check(&table) != 0)
		return (-EINVAL);
	memset(u, 0, sizeof(*u));
	u->kind = UNDO_ROUTE;
	u->family = family;
	u->ifindex = ifindex;
	memcpy(u->addr, dst, len);
	u->prefixlen = prefixlen;
	u->table = table;
	u->metric = metric;
	if (family == AF_INET6 && metric == 0)
		u->metric = NETLINK_IP6_METRIC;
	return (0);
}

int
netlink_route_add(struct netlink *nl, int ifindex, int family,
    const void *dst, unsigned prefixlen, uint32_t table, uint32_t metric)
{
	struct undo	 u;
	int		 rc;

	if ((rc = route_undo(&u, ifindex, family, dst, prefixlen, table,
	    metric)) != 0)
		return (rc);
	return (apply(nl, &u));
}

static bool
undo_same(const struct undo *a, const struct undo *b)
{
	return (a->kind == b->kind && a->family == b->family &&
	    a->ifindex == b->ifindex && a->prefixlen == b->prefixlen &&
	    memcmp(a->addr, b->addr, sizeof(a->addr)) == 0 &&
	    a->table == b->table && a->metric == b->metric &&
	    a->fwmark == b->fwmark && a->priority == b->priority &&
	    a->invert == b->invert && a->suppress == b->suppress);
}

/*
 * Removes an entry this handle added, and its record. One we did not add
 * is not ours to remove: -ENOENT, and nothing is sent.
 */
static int
undo_one(struct netlink *nl, const struct undo *want)
{
	size_t	 i;
	int	 error;

	for (i = 0; i < nl->nlog; i++)
		if (undo_same(&nl->log[i], want))
			break;
	if (i == nl->nlog)
		return (-ENOENT);
	error = request(nl, undo_msg(nl, &nl->log[i], false), NULL, NULL);
	if (error != 0 && !undo_gone(want->kind, error))
		return (error);
	memmove(&nl->log[i], &nl->log[i + 1],
	    (nl->nlog - i - 1) * sizeof(nl->log[0]));
	nl->nlog--;
	return (0);
}

int
netlink_addr_del(struct netlink *nl, int ifindex, int family, const void *addr,
    unsigned prefixlen)
{
	struct undo	 u;
	int		 rc;

	if ((rc = addr_undo(&u, ifindex, family, addr, prefixlen)) != 0)
		return (rc);
	return (undo_one(nl, &u));
}

int
netlink_route_del(struct netlink *nl, int ifindex, int family,
    const void *dst, unsigned prefixlen, uint32_t table, uint32_t metric)
{
	struct undo	 u;
	int		 rc;

	if ((rc = route_undo(&u, ifindex, family, dst, prefixlen, table,
	    metric)) != 0)
		return (rc);
	return (undo_one(nl, &u));
}

/*
 * Priority 0 would come before the local table and break local delivery;
 * an inverted rule without a fwmark would match nothing.
 */
static int
rule_undo(struct undo *u, int family, uint32_t fwmark, bool invert,
    uint32_t table, uint32_t priority, bool suppress)
{
	if (addr_len(family) == 0 || (invert && fwmark == 0) ||
	    priority == 0 || table_check(&table) != 0)
		return (-EINVAL);
	memset(u, 0, sizeof(*u));
	u->kind = UNDO_RULE;
	u->family = family;
	u->fwmark = fwmark;
	u->invert = invert;
	u->table = table;
	u->priority = priority;
	u->suppress = suppress;
	return (0);
}

int
netlink_rule_add(struct netlink *nl, int family, uint32_t fwmark,
    bool invert, uint32_t table, uint32_t priority, bool suppress)
{
	struct undo	 u;
	int		 rc;

	if ((rc = rule_undo(&u, family, fwmark, invert, table, priority,
	    suppress)) != 0)
		return (rc);
	return (apply(nl, &u));
}

int
netlink_rule_del(struct netlink *nl, int family, uint32_t fwmark,
    bool invert, uint32_t table, uint32_t priority, bool suppress)
{
	struct undo	 u;
	int		 rc;

	if ((rc = rule_undo(&u, family, fwmark, invert, table, priority,
	    suppress)) != 0)
		return (rc);
	return (undo_one(nl, &u));
}

int
netlink_undo_all(struct netlink *nl)
{
	size_t	 i;
	int	 error, first = 0;

	for (i = nl->nlog; i-- > 0;) {
		error = request(nl, undo_msg(nl, &nl->log[i], false), NULL,
		    NULL);
		if (error != 0 && !undo_gone(nl->log[i].kind, error)) {
			if (first == 0)
				first = error;
			continue;
		}
		memmove(&nl->log[i], &nl->log[i + 1],
		    (nl->nlog - i - 1) * sizeof(nl->log[0]));
		nl->nlog--;
	}
	return (first);
}

size_t
netlink_undo_count(const struct netlink *nl)
{
	return (nl->nlog);
}
