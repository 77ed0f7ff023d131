/*
 * role.c: the base of fzc-tunneld's roles (role.h), and what the client
 * and gateway roles hold for controld and do alike. The private key never
 * leaves this process (controld gets the public half); the token is
 * handed over as an fd to read, and controld may only ask for it to be
 * replaced or deleted.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "tunneld/conn.h"
#include "tunneld/device.h"
#include "tunneld/iphdr.h"
#include "tunneld/netlink.h"
#include "tunneld/netwatch.h"
#include "tunneld/p2p.h"
#include "tunneld/role.h"
#include "tunneld/sysdns.h"

/* PROTOCOL 4.4: the inner MTU. */
#define ROLE_MTU	1280
#define ROLE_MAX_RELAYS	64	/* addresses */

/* A v4 UUID, made once and kept: the portal knows the device by it. */
static void
role_device_id(struct role_identity *id, const char *state_dir)
{
	uint8_t	 u[16];
	char	 path[512];
	FILE	*f;
	size_t	 n;

	snprintf(path, sizeof(path), "%s/device-id", state_dir);
	if ((f = fopen(path, "re")) != NULL) {
		n = fread(id->device_id, 1, sizeof(id->device_id) - 1, f);
		fclose(f);
		id->device_id[n] = '\0';
		id->device_id[strcspn(id->device_id, "\r\n")] = '\0';
		if (strlen(id->device_id) == 36)
			return;
		log_warnx("%s is not a UUID; making a new one", path);
	} else if (errno != ENOENT)
		fatal("reading %s", path);
	randombytes_buf(u, sizeof(u));
	u[6] = (u[6] & 0x0f) | 0x40;
	u[8] = (u[8] & 0x3f) | 0x80;
	snprintf(id->device_id, sizeof(id->device_id),
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4], u[5],
	    u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
	if (mkdir(state_dir, 0750) == -1 && errno != EEXIST)
		fatal("creating %s", state_dir);
	if ((f = fopen(path, "wxe")) == NULL ||
	    fprintf(f, "%s\n", id->device_id) < 0 || fclose(f) == EOF)
		fatal("writing %s", path);
	log_info("new device id in %s", path);
}

void
role_identity_init(struct role *r)
{
	struct role_identity	*id = &r->id;
	const char		*env;

	memset(id, 0, sizeof(*id));
	if ((id->private_key = sodium_malloc(32)) == NULL)
		fatal("sodium_malloc");
	/* A new key per start, as connlib does; the portal takes the latest. */
	randombytes_buf(id->private_key, 32);
	if (crypto_scalarmult_base(id->public_key, id->private_key) != 0)
		fatalx("deriving the public key");
	role_device_id(id, r->opt.state_dir);
	role_settings_load(r);
	if (r->opt.name != NULL)
		strncpy(id->name, r->opt.name, sizeof(id->name) - 1);
	else if (gethostname(id->name, sizeof(id->name) - 1) == -1)
		id->name[0] = '\0';
	/* Taken out of the environment so that controld never inherits it. */
	if ((env = getenv("FIREZONE_TOKEN")) != NULL && *env != '\0') {
		id->env_token = xstrdup(env);
		explicit_bzero((char *)env, strlen(env));
		unsetenv("FIREZONE_TOKEN");
	}
}

static void
role_forget_env_token(struct role_identity *id)
{
	if (id->env_token != NULL) {
		explicit_bzero(id->env_token, strlen(id->env_token));
		free(id->env_token);
		id->env_token = NULL;
	}
}

static void
role_identity_clear(struct role_identity *id)
{
	if (id->private_key != NULL)
		sodium_free(id->private_key);
	role_forget_env_token(id);
	memset(id, 0, sizeof(*id));
}

/*
 * The token as an fd controld can read: a memfd for FIREZONE_TOKEN, else
 * the file, which must be root's alone. -1 with errno ENOENT: no token.
 */
static int
role_token_fd(struct role *r)
{
	struct role_identity	*id = &r->id;
	struct stat		 st;
	int			 fd;

	if (id->env_token != NULL) {
		return (util_sealed_memfd("fzc-token", id->env_token,
		    strlen(id->env_token)));
	}
	fd = open(r->opt.token_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return (-1);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return (-1);
	}
	if (st.st_mode & 077) {
		log_warnx("token file %s is readable by group or others: "
		    "refusing it; chmod 600 it", r->opt.token_file);
		close(fd);
		errno = EPERM;
		return (-1);
	}
	return (fd);
}

static int
role_send_token(struct role *r, struct ipc_chan *ch, uint32_t msgid,
    int error)
{
	struct ipc_token_result	 res;
	struct ipc_empty	 e;
	int			 fd, rc;

	memset(&res, 0, sizeof(res));
	res.error = error;
	if ((fd = role_token_fd(r)) == -1) {
		if (errno != ENOENT)
			log_warn("token %s", r->opt.token_file);
		return (ipc_chan_send(ch, IPC_TOKEN_RESULT, msgid, &res,
		    sizeof(res), -1));
	}
	memset(&e, 0, sizeof(e));
	rc = ipc_chan_send(ch, IPC_TOKEN, msgid, &e, sizeof(e), fd);
	close(fd);
	if (rc == 0) {
		res.have_token = 1;
		rc = ipc_chan_send(ch, IPC_TOKEN_RESULT, msgid, &res,
		    sizeof(res), -1);
	}
	return (rc);
}

/* The portal configuration but for what one role alone adds. */
void
role_portal_config(const struct role *r, uint8_t role,
    struct ipc_portal_config *pc)
{
	memset(pc, 0, sizeof(*pc));
	strncpy(pc->api_url, role_settings_api_url(r), sizeof(pc->api_url) - 1);
	if (r->opt.ca_file != NULL)
		strncpy(pc->ca_file, r->opt.ca_file, sizeof(pc->ca_file) - 1);
	memcpy(pc->name, r->id.name, sizeof(pc->name));
	memcpy(pc->device_id, r->id.device_id, sizeof(pc->device_id));
	memcpy(pc->public_key, r->id.public_key, sizeof(pc->public_key));
	pc->role = role;
	/* The client's system DNS control, for `fzc status`. */
	if (role == IPC_ROLE_CLIENT && r->opt.sysdns != NULL) {
		switch (sysdns_mode(r->opt.sysdns)) {
		case SYSDNS_RESOLVED:
			pc->dns_control = IPC_DNS_CONTROL_RESOLVED;
			break;
		case SYSDNS_RESOLV_CONF:
			pc->dns_control = IPC_DNS_CONTROL_RESOLV_CONF;
			break;
		default:
			pc->dns_control = IPC_DNS_CONTROL_DISABLED;
			break;
		}
	}
}

/* Sent after every hello: a restarted controld starts from scratch. */
int
role_send_config(struct role *r, struct ipc_chan *ch,
    const struct ipc_portal_config *pc)
{
	if (ipc_chan_send(ch, IPC_PORTAL_CONFIG, 0, pc, sizeof(*pc), -1) == -1)
		return (-1);
	if (role_settings_send(r, ch) == -1)
		return (-1);
	return (role_send_token(r, ch, 0, 0));
}

bool
role_token_owns(uint16_t type)
{
	return (type == IPC_TOKEN_DELETE || type == IPC_TOKEN_STORE ||
	    type == IPC_SETTINGS_SET);
}

static void
role_token_result(struct ipc_chan *ch, uint32_t id, int error)
{
	struct ipc_token_result	 res;

	memset(&res, 0, sizeof(res));
	res.error = error;
	if (ipc_chan_send(ch, IPC_TOKEN_RESULT, id, &res, sizeof(res), -1) ==
	    -1)
		log_warn("answering controld");
}

/* IPC_TOKEN_DELETE and IPC_TOKEN_STORE, answered on the channel. */
static void
role_token_dispatch(struct role *r, struct ipc_chan *ch,
    const struct ipc_msg *msg)
{
	const char	*path = r->opt.token_file;
	char		 line[IPC_TOKEN_MAX + 1];
	int		 error = 0;

	if (!r->ops->tokens) {
		/* A gateway's token is the operator's: only they change it. */
		log_warnx("%s refused: the %s keeps its token",
		    ipc_type_name(msg->hdr.type), r->ops->name);
		role_token_result(ch, msg->hdr.id, EPERM);
		return;
	}
	role_forget_env_token(&r->id);
	if (msg->hdr.type == IPC_TOKEN_DELETE) {
		if (unlink(path) == -1 && errno != ENOENT)
			error = errno;
		else
			log_info("token deleted (%s)", path);
		role_token_result(ch, msg->hdr.id, error);
		return;
	}
	/* ipc.c checked that the token ends before the buffer does. */
	snprintf(line, sizeof(line), "%s\n", msg->u.token.token);
	error = util_save_file(path, line, 0600) == -1 ? errno : 0;
	explicit_bzero(line, sizeof(line));
	if (error != 0)
		log_warnx("storing the token in %s: %s", path,
		    strerror(error));
	else
		log_info("new token stored in %s", path);
	if (role_send_token(r, ch, msg->hdr.id, error) == -1)
		log_warn("sending the token to controld");
}

struct device *
role_device_new(struct role *r, const uint8_t *private_key, unsigned mtu,
    uint16_t port, const char **why)
{
	struct device_config	 cfg;
	struct device		*dev;

	memset(&cfg, 0, sizeof(cfg));
	cfg.ifname = r->opt.ifname;
	cfg.nworkers = r->opt.threads;
	cfg.mtu = mtu;
	cfg.listen_port = port;
	memcpy(cfg.private_key, private_key, sizeof(cfg.private_key));
	dev = device_new(r->base, &cfg, why);
	explicit_bzero(&cfg, sizeof(cfg));
	return (dev);
}

/* A peer's control packet (PROTOCOL 4.6) goes to controld to parse. */
static void
role_p2p_recv(void *arg, struct peer *peer, const uint8_t *pkt, size_t len)
{
	struct role	*r = arg;
	struct ipc_p2p	*m;
	size_t		 i;

	for (i = 0; i < r->npeers; i++)
		if (r->peers[i]->conn != NULL &&
		    conn_peer(r->peers[i]->conn) == peer)
			break;
	if (i == r->npeers)
		return;
	m = xcalloc(1, sizeof(*m));
	if (p2p_parse(pkt, len, m) == -1)
		log_debug("%s %s: control packet of no known kind dropped",
		    r->ops->peer_kind, r->peers[i]->id);
	else {
		memcpy(m->peer_id, r->peers[i]->id, sizeof(m->peer_id));
		if (r->chan == NULL ||
		    ipc_chan_send(r->chan, IPC_P2P_RECV, 0, m, sizeof(*m),
			-1) == -1)
			log_debug("control packet dropped: controld is not "
			    "there");
	}
	free(m);
}

/* IPC_P2P_SEND: controld's control packet to one of our peers. */
static void
role_p2p_send(struct role *r, const struct ipc_p2p *m)
{
	struct role_peer	*p;
	uint8_t			 pkt[IP6_HDR_LEN + P2P_HDR_LEN + IPC_P2P_MAX];
	size_t			 n;

	if ((p = role_peer_find(r, m->peer_id)) == NULL || p->conn == NULL ||
	    conn_peer(p->conn) == NULL) {
		log_debug("control packet for %s %s, not connected, dropped",
		    r->ops->peer_kind, m->peer_id);
		return;
	}
	if ((n = p2p_frame(m->event, m->data, m->len, pkt, sizeof(pkt))) == 0 ||
	    device_peer_send(conn_peer(p->conn), pkt, n) == -1)
		log_debug("control packet for %s %s not sent",
		    r->ops->peer_kind, m->peer_id);
}

int
role_tun_up(struct role *r)
{
	struct role_tun			*t = &r->tun;
	const struct ipc_tun_addresses	*a = &r->addresses;
	const char			*why;
	int				 rc;

	if ((t->dev = role_device_new(r, r->id.private_key, ROLE_MTU, 0,
	    &why)) == NULL) {
		log_warnx("tunnel device: %s", why);
		return (EINVAL);
	}
	if (device_start(t->dev, &why) == -1) {
		log_warn("tunnel device: %s", why);
		return (EIO);
	}
	if ((rc = netlink_open(&t->nl)) < 0 ||
	    (rc = t->ifindex = netlink_ifindex(t->nl,
	    device_ifname(t->dev))) < 0 ||
	    (rc = netlink_addr_add(t->nl, t->ifindex, AF_INET, a->ipv4.addr,
	    32)) < 0 ||
	    (rc = netlink_addr_add(t->nl, t->ifindex, AF_INET6, a->ipv6.addr,
	    128)) < 0 ||
	    (rc = netlink_link_set(t->nl, t->ifindex, ROLE_MTU, true)) < 0) {
		log_warnx("configuring %s: %s", device_ifname(t->dev),
		    strerror(-rc));
		return (-rc);
	}
	if (r->nw != NULL)
		netwatch_ignore(r->nw, t->ifindex);
	device_set_p2p_cb(t->dev, role_p2p_recv, r);
	log_info("%s is up", device_ifname(t->dev));
	return (0);
}

/*
 * One family's address: the new one goes on before the old one comes
 * off, as a device left without an IPv4 address loses every route
 * through it.
 */
static int
role_tun_move_one(struct role_tun *t, int family, const struct ipc_prefix *from,
    const struct ipc_prefix *to)
{
	unsigned	 plen = family == AF_INET ? 32 : 128;
	int		 rc;

	if (memcmp(from->addr, to->addr, sizeof(from->addr)) == 0)
		return (0);
	rc = netlink_addr_add(t->nl, t->ifindex, family, to->addr, plen);
	if (rc < 0)
		return (rc);
	rc = netlink_addr_del(t->nl, t->ifindex, family, from->addr, plen);
	return (rc == -ENOENT ? 0 : rc);
}

int
role_tun_move(struct role *r, const struct ipc_tun_addresses *a)
{
	struct role_tun	*t = &r->tun;
	char		 v4[INET_ADDRSTRLEN], v6[INET6_ADDRSTRLEN];
	int		 rc;

	if (t->nl == NULL)
		return (EAGAIN);
	/* What moved stays recorded: a retry moves only the rest. */
	rc = role_tun_move_one(t, AF_INET, &r->addresses.ipv4, &a->ipv4);
	if (rc == 0) {
		r->addresses.ipv4 = a->ipv4;
		rc = role_tun_move_one(t, AF_INET6, &r->addresses.ipv6,
		    &a->ipv6);
	}
	if (rc < 0) {
		log_warnx("moving the tunnel addresses of %s: %s",
		    device_ifname(t->dev), strerror(-rc));
		return (-rc);
	}
	r->addresses = *a;
	inet_ntop(AF_INET, a->ipv4.addr, v4, sizeof(v4));
	inet_ntop(AF_INET6, a->ipv6.addr, v6, sizeof(v6));
	log_info("%s moved to %s and %s", device_ifname(t->dev), v4, v6);
	return (0);
}

/* PROTOCOL 4.5: where the portal puts devices' tunnel addresses. */
static const struct ipc_prefix role_device_ranges[] = {
	{ AF_INET, 11, { 0, 0 }, { 100, 64 } },
	{ AF_INET6, 107, { 0, 0 }, { 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11 } },
};

static int
role_tun_route(struct role_tun *t, const struct ipc_prefix *p)
{
	int	 rc;

	rc = netlink_route_add(t->nl, t->ifindex, p->family, p->addr,
	    p->prefixlen, FZC_TABLE_TUNNEL, 0);
	if (rc < 0 && rc != -EEXIST) {
		log_warnx("route into %s: %s", device_ifname(t->dev),
		    strerror(-rc));
		return (-rc);
	}
	return (0);
}

int
role_tun_routes(struct role *r, const struct ipc_prefix *p, size_t n)
{
	static const int	 fams[2] = { AF_INET, AF_INET6 };
	struct role_tun		*t = &r->tun;
	size_t			 i;
	int			 rc, first = 0;

	for (i = 0; i < 2; i++) {
		rc = netlink_rule_add(t->nl, fams[i], FZC_FWMARK, true,
		    FZC_TABLE_TUNNEL, FZC_RULE_TUNNEL, false);
		if (rc < 0 && rc != -EEXIST) {
			log_warnx("rule for the routes into %s: %s",
			    device_ifname(t->dev), strerror(-rc));
			first = first != 0 ? first : -rc;
		}
	}
	for (i = 0; i < 2; i++)
		if ((rc = role_tun_route(t, &role_device_ranges[i])) != 0)
			first = first != 0 ? first : rc;
	for (i = 0; i < n; i++)
		if ((rc = role_tun_route(t, &p[i])) != 0)
			first = first != 0 ? first : rc;
	return (first);
}

void
role_tun_down(struct role *r)
{
	struct role_tun	*t = &r->tun;
	int		 rc;

	if (t->nl != NULL) {
		if ((rc = netlink_undo_all(t->nl)) < 0)
			log_warnx("removing routes and addresses: %s",
			    strerror(-rc));
		netlink_close(t->nl);
	}
	device_free(t->dev);
	memset(t, 0, sizeof(*t));
}

/* The conns callbacks that are the same for both roles. */
static void
role_send_candidate(void *arg, const char *peer_id, const char *cand,
    bool add)
{
	struct role		*r = arg;
	struct ipc_candidate	 m;

	memset(&m, 0, sizeof(m));
	snprintf(m.gateway_id, sizeof(m.gateway_id), "%s", peer_id);
	snprintf(m.candidate, sizeof(m.candidate), "%s", cand);
	log_debug("local candidate for %s: %s%s", peer_id,
	    add ? "" : "(removed) ", cand);
	if (r->chan == NULL || ipc_chan_send(r->chan, add ?
	    IPC_LOCAL_CANDIDATE : IPC_LOCAL_CANDIDATE_DEL, 0, &m, sizeof(m),
	    -1) == -1)
		log_warnx("cannot send a local candidate to controld");
}

static void
role_send_no_relays(void *arg, const char *peer_id)
{
	struct role		*r = arg;
	struct ipc_gateway_id	 m;

	memset(&m, 0, sizeof(m));
	snprintf(m.id, sizeof(m.id), "%s", peer_id);
	if (r->chan == NULL || ipc_chan_send(r->chan, IPC_NO_RELAYS, 0, &m,
	    sizeof(m), -1) == -1)
		log_warnx("cannot tell controld that relays are missing");
}

static void
role_send_path(void *arg, const struct ipc_peer_path *m)
{
	struct role	*r = arg;

	if (r->chan != NULL &&
	    ipc_chan_send(r->chan, IPC_PEER_PATH, 0, m, sizeof(*m), -1) == -1)
		log_warnx("cannot tell controld the path of %s", m->id);
}

static void
role_relays_replay(struct role *r)
{
	size_t	 i;

	for (i = 0; i < r->relays.n; i++)
		(void)conns_relay_add(r->conns, &r->relays.v[i]);
}

void *
role_peer_new(struct role *r, const char *id, size_t size)
{
	struct role_peer	*p;

	if (r->npeers == r->ops->max_peers)
		return (NULL);
	p = xcalloc(1, size);
	snprintf(p->id, sizeof(p->id), "%s", id);
	r->peers = xreallocarray(r->peers, r->npeers + 1, sizeof(*r->peers));
	r->peers[r->npeers++] = p;
	return (p);
}

struct role_peer *
role_peer_find(struct role *r, const char *id)
{
	size_t	 i;

	for (i = 0; i < r->npeers; i++)
		if (strcmp(r->peers[i]->id, id) == 0)
			return (r->peers[i]);
	return (NULL);
}

void
role_peer_remove(struct role *r, struct role_peer *p)
{
	size_t	 i;

	for (i = 0; i < r->npeers; i++)
		if (r->peers[i] == p) {
			r->peers[i] = r->peers[--r->npeers];
			return;
		}
}

/*
 * A connection carries its peer's id. NULL while conn_new() runs: the
 * peer does not hold the connection yet.
 */
static struct role_peer *
role_peer_of(struct role *r, const struct conn *c)
{
	struct role_peer	*p;

	if ((p = role_peer_find(r, conn_id(c))) == NULL || p->conn != c)
		return (NULL);
	return (p);
}

/*
 * A peer we lost (ICE failed or disconnected, or it said goodbye) is
 * forgotten: the client asks the portal at its next packet to one of the
 * gateway's resources; a client that comes back to a gateway asks the
 * portal too, which authorizes it there again.
 */
static bool
role_conn_state(void *arg, struct conn *conn, enum ice_state st)
{
	struct role		*r = arg;
	struct role_peer	*p;

	if ((st != ICE_FAILED && st != ICE_DISCONNECTED) ||
	    (p = role_peer_of(r, conn)) == NULL)
		return (false);
	log_warnx("%s %s: connection %s; dropped", r->ops->peer_kind,
	    conn_id(conn), ice_state_name(st));
	r->ops->drop(r, p);
	return (true);
}

static void
role_conn_goodbye(void *arg, struct conn *conn)
{
	struct role		*r = arg;
	struct role_peer	*p;

	if ((p = role_peer_of(r, conn)) == NULL)
		return;
	log_info("%s %s said goodbye", r->ops->peer_kind, conn_id(conn));
	r->ops->drop(r, p);
}

void
role_conns_new(struct role *r, bool controlling)
{
	struct conns_callbacks	 cb;

	memset(&cb, 0, sizeof(cb));
	cb.candidate = role_send_candidate;
	cb.state = role_conn_state;
	cb.no_relays = role_send_no_relays;
	cb.goodbye = role_conn_goodbye;
	cb.path = role_send_path;
	cb.arg = r;
	r->conns = conns_new(r->base, r->tun.dev, controlling, &cb);
	role_relays_replay(r);
}

/*
 * IPC_REMOTE_CANDIDATE(_DEL): to the connection of its peer, or taken
 * back. An errno.
 */
static int
role_remote_candidate(struct role *r, const struct ipc_msg *msg)
{
	const struct ipc_candidate	*m = &msg->u.candidate;
	struct role_peer		*p;
	const char			*why = NULL;

	if ((p = role_peer_find(r, m->gateway_id)) == NULL || p->conn == NULL)
		return (ENOENT);
	if (conn_remote_candidate(p->conn, m->candidate,
	    msg->hdr.type == IPC_REMOTE_CANDIDATE, &why) == -1) {
		log_warnx("candidate for %s %s rejected: %s",
		    r->ops->peer_kind, m->gateway_id,
		    why != NULL ? why : "not known");
		return (EINVAL);
	}
	return (0);
}

/*
 * Whether a tunnel address lies where the portal allocates them. Wider
 * than PROTOCOL 4.5's 100.64.0.0/11 and fd00:2021:1111::/107: Firezone's
 * own gateway test data holds 100.115.164.78 and fd00:2021:1111::2c:f6ab.
 * Narrow enough that controld cannot take the host's LAN or public
 * addresses.
 */
static bool
role_tunnel_address(const struct ipc_prefix *p)
{
	static const uint8_t	 v6[6] = { 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11 };

	if (p->family == AF_INET)
		return (p->addr[0] == 100 && (p->addr[1] & 0xc0) == 64);
	return (p->family == AF_INET6 && memcmp(p->addr, v6, sizeof(v6)) == 0);
}

/*
 * The meaning of a state message, beyond its format (which ipc.c checks):
 * NULL, or why it is refused. controld is assumed compromised.
 */
static const char *
role_refused(const struct ipc_msg *msg)
{
	const struct ipc_prefix	*v4, *v6;

	switch (msg->hdr.type) {
	case IPC_TUN_ADDRESSES:
		v4 = &msg->u.tun_addresses.ipv4;
		v6 = &msg->u.tun_addresses.ipv6;
		break;
	case IPC_GATEWAY_PEER:
		v4 = &msg->u.gateway_peer.gateway_ipv4;
		v6 = &msg->u.gateway_peer.gateway_ipv6;
		break;
	case IPC_CLIENT_PEER:
		v4 = &msg->u.client_peer.client_ipv4;
		v6 = &msg->u.client_peer.client_ipv6;
		break;
	default:
		return (NULL);
	}
	if (!role_tunnel_address(v4) || !role_tunnel_address(v6))
		return ("a tunnel address outside 100.64.0.0/10 and "
		    "fd00:2021:1111::/48");
	return (NULL);
}

static void
role_ack(struct ipc_chan *ch, uint16_t type, uint32_t id, int error)
{
	struct ipc_state_ack	 ack;

	memset(&ack, 0, sizeof(ack));
	ack.type = type;
	ack.error = error;
	if (ipc_chan_send(ch, IPC_STATE_ACK, id, &ack, sizeof(ack), -1) == -1)
		log_warn("acknowledging %s", ipc_type_name(ack.type));
}

void
role_state_ack(struct role *r, uint16_t type, uint32_t id, int error)
{
	/* A closed channel: the controld that asked is gone. */
	if (r->chan != NULL && r->chan->fd != -1)
		role_ack(r->chan, type, id, error);
}

/*
 * IPC_RELAY_ADD and IPC_RELAY_DEL: kept, and given to the connections if
 * they exist. A relay comes once per address, under one id (PROTOCOL 2.2
 * lists its addresses), and goes by its id: a new address or new
 * credentials replace only that address's entry. An errno.
 */
static int
role_relay(struct role *r, const struct ipc_msg *msg)
{
	struct role_relays	*k = &r->relays;
	const struct ipc_relay	*rl = &msg->u.relay;
	size_t			 i;
	bool			 found = false;

	if (msg->hdr.type == IPC_RELAY_DEL) {
		for (i = k->n; i-- > 0;)
			if (strcmp(k->v[i].id, msg->u.relay_id.id) == 0) {
				explicit_bzero(&k->v[i], sizeof(k->v[i]));
				k->v[i] = k->v[--k->n];
				found = true;
			}
		if (found && r->conns != NULL)
			(void)conns_relay_del(r->conns, msg->u.relay_id.id);
		return (found ? 0 : ENOENT);
	}
	for (i = 0; i < k->n; i++)
		if (strcmp(k->v[i].id, rl->id) == 0 &&
		    memcmp(&k->v[i].addr, &rl->addr, sizeof(rl->addr)) == 0)
			break;
	if (i == k->n) {
		if (k->n == ROLE_MAX_RELAYS)
			return (ENOSPC);
		k->v = xreallocarray(k->v, k->n + 1, sizeof(*k->v));
		k->n++;
	}
	explicit_bzero(&k->v[i], sizeof(k->v[i]));
	k->v[i] = *rl;
	if (r->conns != NULL && conns_relay_add(r->conns, rl) == -1)
		return (EINVAL);
	return (0);
}

static void
role_relays_clear(struct role_relays *k)
{
	if (k->v != NULL)
		explicit_bzero(k->v, k->n * sizeof(*k->v));
	free(k->v);
	k->v = NULL;
	k->n = 0;
}

int
role_portal_dispatch(struct role *r, struct ipc_chan *ch,
    const struct ipc_msg *msg, const char **why)
{
	char		 what[IPC_CANDIDATE_MAX + 64];
	const char	*refused;
	int		 error;

	(void)why;
	if (msg->hdr.type == IPC_SETTINGS_SET) {
		role_ack(ch, msg->hdr.type, msg->hdr.id,
		    role_settings_set(r, ch, &msg->u.settings));
		return (0);
	}
	if (role_token_owns(msg->hdr.type)) {
		role_token_dispatch(r, ch, msg);
		return (0);
	}
	/* Not state: nothing kept, nothing acknowledged. */
	if (msg->hdr.type == IPC_P2P_SEND) {
		role_p2p_send(r, &msg->u.p2p);
		return (0);
	}
	if ((refused = role_refused(msg)) != NULL) {
		log_warnx("%s refused: %s", ipc_type_name(msg->hdr.type),
		    refused);
		role_ack(ch, msg->hdr.type, msg->hdr.id, EPERM);
		return (0);
	}
	switch (msg->hdr.type) {
	case IPC_RELAY_ADD:
	case IPC_RELAY_DEL:
		error = role_relay(r, msg);
		break;
	case IPC_REMOTE_CANDIDATE:
	case IPC_REMOTE_CANDIDATE_DEL:
		error = role_remote_candidate(r, msg);
		break;
	default:
		error = r->ops->state(r, msg);
		break;
	}
	r->ops->describe(msg, what, sizeof(what));
	if (error == ROLE_ACK_LATER) {
		log_debug("%s state: %s %s: acknowledged once applied",
		    r->ops->kind, ipc_type_name(msg->hdr.type), what);
		return (0);
	}
	log_debug("%s state: %s %s%s%s", r->ops->kind,
	    ipc_type_name(msg->hdr.type), what, error != 0 ? ": " : "",
	    error != 0 ? strerror(error) : "");
	role_ack(ch, msg->hdr.type, msg->hdr.id, error);
	return (0);
}

static void
role_network_changed(void *arg, int why)
{
	role_network_reset(arg, why);
}

void
role_watch_network(struct role *r)
{
	r->nw = netwatch_new(r->base, role_network_changed, r);
}

/*
 * controld hears first, so that it drops the dead portal connection and
 * holds the candidates that follow until it has joined again.
 */
void
role_network_reset(struct role *r, int why)
{
	struct ipc_network_changed	 m;

	memset(&m, 0, sizeof(m));
	m.why = (uint32_t)why;
	if (r->chan == NULL ||
	    ipc_chan_send(r->chan, IPC_NETWORK_CHANGED, 0, &m, sizeof(m), -1) ==
	    -1)
		log_warnx("cannot tell controld that the network changed");
	if (r->conns != NULL)
		conns_reset(r->conns);
}

void
role_init(struct role *r, const struct role_ops *ops,
    struct event_base *base, const struct role_options *opt)
{
	r->ops = ops;
	r->base = base;
	r->opt = *opt;
	r->ready = true;
}

const char *
role_name(const struct role *r)
{
	return (r->ops->name);
}

bool
role_ready(const struct role *r)
{
	return (r->ready);
}

int
role_configure(struct role *r, struct ipc_chan *ch)
{
	struct ipc_peer_path	 m;
	size_t			 i;

	r->chan = ch;
	if (r->ops->configure(r, ch) == -1)
		return (-1);
	/* A restarted controld learns the connections that outlived it. */
	for (i = 0; i < r->npeers; i++) {
		if (r->peers[i]->conn == NULL)
			continue;
		conn_path_report(r->peers[i]->conn, &m);
		role_send_path(r, &m);
	}
	return (0);
}

int
role_dispatch(struct role *r, struct ipc_chan *ch, const struct ipc_msg *msg,
    const char **why)
{
	if (!r->ops->owns(msg->hdr.type)) {
		*why = r->ops->stray;
		return (-1);
	}
	return (r->ops->dispatch(r, ch, msg, why));
}

/* IPC_STATS_REQUEST: the device's counters, none before it is up. */
int
role_send_stats(struct role *r, struct ipc_chan *ch, uint32_t id)
{
	return (device_send_stats(r->tun.dev, ch, id));
}

/* What the role added goes first: it may still use the device. */
void
role_free(struct role *r)
{
	if (r == NULL)
		return;
	r->ops->clear(r);
	netwatch_free(r->nw);
	free(r->peers);
	conns_free(r->conns);
	role_tun_down(r);
	role_identity_clear(&r->id);
	role_relays_clear(&r->relays);
	free(r);
}
