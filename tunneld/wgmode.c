/*
 * wgmode.c: plain WireGuard mode. tunneld opens the configuration file
 * (it may be readable by root only) and passes the fd to controld, which
 * parses it and sends back the result as a fixed sequence of messages:
 * INTERFACE, its ADDRESSes, PEERs each with their ALLOWED_IPs, COMMIT.
 * Anything out of that order, or repeated, is a protocol violation. On
 * COMMIT the device comes up, with addresses and routes set through
 * rtnetlink; they are removed again on exit.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "tunneld/device.h"
#include "tunneld/netlink.h"
#include "tunneld/role.h"

enum wgmode_phase {
	WGMODE_IDLE,		/* file not sent yet */
	WGMODE_WAITING,		/* file sent, waiting for INTERFACE */
	WGMODE_ADDRESSES,
	WGMODE_PEERS,
	WGMODE_RUNNING,
};

struct wgmode_aip {
	uint32_t		 peer_id;
	struct ipc_prefix	 prefix;
};

struct wgmode {
	struct role		 r;		/* first: the base */
	int			 fd;
	enum wgmode_phase	 phase;
	struct ipc_wg_interface	 iface;
	struct ipc_prefix	*addrs;
	size_t			 naddrs;
	struct ipc_wg_peer	*peers;
	size_t			 npeers;
	struct wgmode_aip	*aips;
	size_t			 naips;
};

/* WireGuard mode's operations, below; a struct role of theirs is ours. */
static const struct role_ops	wgmode_ops;

static struct wgmode *
wgmode_of(struct role *r)
{
	return ((struct wgmode *)r);
}

struct role *
wgmode_new(struct event_base *base, const struct role_options *opt)
{
	struct wgmode	*wm;

	wm = xcalloc(1, sizeof(*wm));
	role_init(&wm->r, &wgmode_ops, base, opt);
	/* Not before controld has parsed the file and the device is up. */
	wm->r.ready = false;
	wm->fd = opt->wg_fd;
	return (&wm->r);
}

/* The file, once: without it WireGuard mode has nothing to run. */
static int
wgmode_configure(struct role *r, struct ipc_chan *ch)
{
	struct wgmode		*wm = wgmode_of(r);
	struct ipc_wg_file	 f;

	if (wm->phase != WGMODE_IDLE)
		return (0);
	memset(&f, 0, sizeof(f));
	strncpy(f.name, r->opt.wg_file, sizeof(f.name) - 1);
	if (ipc_chan_send(ch, IPC_WG_FILE, 0, &f, sizeof(f), wm->fd) == -1)
		fatal("passing %s to controld", r->opt.wg_file);
	close(wm->fd);
	wm->fd = -1;
	wm->phase = WGMODE_WAITING;
	return (0);
}

static void
prefix_str(const struct ipc_prefix *p, char *buf, size_t size)
{
	char	 a[INET6_ADDRSTRLEN];

	inet_ntop(p->family, p->addr, a, sizeof(a));
	snprintf(buf, size, "%s/%u", a, p->prefixlen);
}

static void
wgmode_wipe(struct wgmode *wm)
{
	size_t	 i;

	explicit_bzero(&wm->iface.private_key, sizeof(wm->iface.private_key));
	for (i = 0; wm->peers != NULL && i < wm->npeers; i++)
		explicit_bzero(&wm->peers[i], sizeof(wm->peers[i]));
	free(wm->peers);
	wm->peers = NULL;
}

/* Brings the configured device up. Failures here are fatal: fix config. */
static void
wgmode_apply(struct wgmode *wm)
{
	const struct role_options	*opt = &wm->r.opt;
	struct role_tun			*t = &wm->r.tun;
	struct sockaddr_in6		 ep;
	struct peer			**peers;
	const char			*why;
	char				 a[64];
	size_t				 i;
	int				 rc;

	t->dev = role_device_new(&wm->r, wm->iface.private_key,
	    opt->mtu != 0 ? opt->mtu : wm->iface.mtu, wm->iface.listen_port,
	    &why);
	if (t->dev == NULL)
		fatalx("%s: %s", opt->wg_file, why);
	peers = xcalloc(wm->npeers + 1, sizeof(*peers));
	for (i = 0; i < wm->npeers; i++) {
		if (wm->peers[i].has_endpoint)
			udp_ipc_to_v6(&wm->peers[i].endpoint, &ep);
		peers[i] = device_add_peer(t->dev, wm->peers[i].peer_id,
		    wm->peers[i].public_key,
		    sodium_is_zero(wm->peers[i].psk, WG_KEY_LEN) ? NULL :
		    wm->peers[i].psk, wm->peers[i].has_endpoint ? &ep : NULL,
		    wm->peers[i].persistent_keepalive);
		if (peers[i] == NULL)
			fatalx("%s: peer %zu: duplicate or invalid public key",
			    opt->wg_file, i + 1);
	}
	for (i = 0; i < wm->naips; i++)
		if (device_add_allowed_ip(t->dev, peers[wm->aips[i].peer_id],
		    &wm->aips[i].prefix) == -1) {
			prefix_str(&wm->aips[i].prefix, a, sizeof(a));
			fatalx("%s: allowed IP %s is given to two peers",
			    opt->wg_file, a);
		}
	free(peers);
	wgmode_wipe(wm);
	if (device_start(t->dev, &why) == -1)
		fatal("%s: %s", opt->ifname, why);

	if ((rc = netlink_open(&t->nl)) < 0) {
		errno = -rc;
		fatal("rtnetlink");
	}
	if ((t->ifindex = netlink_ifindex(t->nl, device_ifname(t->dev))) < 0)
		fatalx("%s: no such interface", device_ifname(t->dev));
	for (i = 0; i < wm->naddrs; i++)
		if ((rc = netlink_addr_add(t->nl, t->ifindex,
		    wm->addrs[i].family, wm->addrs[i].addr,
		    wm->addrs[i].prefixlen)) < 0) {
			prefix_str(&wm->addrs[i], a, sizeof(a));
			errno = -rc;
			fatal("adding address %s", a);
		}
	if ((rc = netlink_link_set(t->nl, t->ifindex, device_mtu(t->dev),
	    true)) < 0) {
		errno = -rc;
		fatal("setting %s up", device_ifname(t->dev));
	}
	for (i = 0; i < wm->naips; i++) {
		rc = netlink_route_add(t->nl, t->ifindex,
		    wm->aips[i].prefix.family, wm->aips[i].prefix.addr,
		    wm->aips[i].prefix.prefixlen, 0, 0);
		prefix_str(&wm->aips[i].prefix, a, sizeof(a));
		/* The address's own prefix route may already cover it. */
		if (rc == -EEXIST)
			log_debug("route %s exists already", a);
		else if (rc < 0) {
			errno = -rc;
			fatal("adding route %s", a);
		}
	}
	log_info("%s is up: %zu peers, %zu addresses, %zu allowed IPs, "
	    "MTU %u", device_ifname(t->dev), wm->npeers, wm->naddrs,
	    wm->naips, device_mtu(t->dev));
	wm->phase = WGMODE_RUNNING;
	wm->r.ready = true;
}

static bool
wgmode_owns(uint16_t type)
{
	return (type >= IPC_WG_ERROR && type <= IPC_WG_COMMIT);
}

/*
 * One configuration message from controld: 0 (the device is up after
 * COMMIT), or -1 with *why for a violation.
 */
static int
wgmode_dispatch(struct role *r, struct ipc_chan *ch, const struct ipc_msg *msg,
    const char **why)
{
	struct wgmode			*wm = wgmode_of(r);
	const struct ipc_wg_allowed_ip	*aip;

	(void)ch;
	switch (msg->hdr.type) {
	case IPC_WG_ERROR:
		if (wm->phase != WGMODE_WAITING)
			break;
		fatalx("%s", msg->u.wg_error.text);
	case IPC_WG_INTERFACE:
		if (wm->phase != WGMODE_WAITING)
			break;
		wm->iface = msg->u.wg_interface;
		if (wm->iface.mtu == 0)
			wm->iface.mtu = 1280;
		wm->addrs = xcalloc(wm->iface.naddrs + 1, sizeof(*wm->addrs));
		wm->peers = xcalloc(wm->iface.npeers + 1, sizeof(*wm->peers));
		wm->phase = WGMODE_ADDRESSES;
		return (0);
	case IPC_WG_ADDRESS:
		if (wm->phase != WGMODE_ADDRESSES ||
		    wm->naddrs == wm->iface.naddrs)
			break;
		wm->addrs[wm->naddrs++] = msg->u.wg_address.prefix;
		return (0);
	case IPC_WG_PEER:
		if ((wm->phase != WGMODE_ADDRESSES &&
		    wm->phase != WGMODE_PEERS) ||
		    wm->naddrs != wm->iface.naddrs ||
		    wm->npeers == wm->iface.npeers ||
		    msg->u.wg_peer.peer_id != wm->npeers)
			break;
		wm->peers[wm->npeers++] = msg->u.wg_peer;
		wm->phase = WGMODE_PEERS;
		return (0);
	case IPC_WG_ALLOWED_IP:
		aip = &msg->u.wg_allowed_ip;
		/* Only for the peer just announced, in order. */
		if (wm->phase != WGMODE_PEERS ||
		    aip->peer_id + 1 != wm->npeers)
			break;
		if (wm->naips == IPC_WG_MAX_ALLOWED_IPS) {
			*why = "more allowed IPs than fzc takes";
			return (-1);
		}
		wm->aips = xreallocarray(wm->aips, wm->naips + 1,
		    sizeof(*wm->aips));
		wm->aips[wm->naips].peer_id = aip->peer_id;
		wm->aips[wm->naips++].prefix = aip->prefix;
		return (0);
	case IPC_WG_COMMIT:
		if ((wm->phase != WGMODE_ADDRESSES &&
		    wm->phase != WGMODE_PEERS) ||
		    wm->naddrs != wm->iface.naddrs ||
		    wm->npeers != wm->iface.npeers)
			break;
		wgmode_apply(wm);
		return (0);
	}
	*why = "configuration message out of order or repeated";
	return (-1);
}

static void
wgmode_clear(struct role *r)
{
	struct wgmode	*wm = wgmode_of(r);

	if (wm->fd != -1)
		close(wm->fd);
	wgmode_wipe(wm);
	free(wm->addrs);
	free(wm->aips);
}

static const struct role_ops wgmode_ops = {
	.name = "WireGuard mode",
	.stray = "not a WireGuard-mode message",
	.configure = wgmode_configure,
	.owns = wgmode_owns,
	.dispatch = wgmode_dispatch,
	.clear = wgmode_clear,
};
