/*
 * client.c: the client role in fzc-tunneld. It holds what controld must
 * not: the WireGuard private key (controld gets the public half), the
 * root-only token file (controld gets an fd to read, and may ask for it
 * to be replaced or deleted, nothing else), and the device id in the
 * state directory. It keeps the state controld derives from the portal
 * (tunnel addresses, CIDR routes, relays), validated and acknowledged.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/timer.h"
#include "common/util.h"
#include "tunneld/client.h"
#include "tunneld/conn.h"
#include "tunneld/device.h"
#include "tunneld/netlink.h"

#define CLIENT_MAX_ROUTES	4096
#define CLIENT_MAX_RELAYS	64
#define CLIENT_MAX_GATEWAYS	256

/* An authorized gateway, its connection, and the resources it serves us. */
struct client_gateway {
	struct ipc_gateway_peer	 peer;		/* the first authorization */
	struct conn		*conn;
	char			(*resources)[IPC_ID_MAX];
	size_t			 nresources;
};

struct client {
	struct event_base	*base;
	struct client_options	 opt;
	struct ipc_chan		*chan;		/* to the current controld */
	struct device		*dev;
	struct netlink		*nl;
	int			 ifindex;
	uint8_t			*private_key;	/* sodium_malloc'd */
	uint8_t			 public_key[32];
	char			 device_id[IPC_ID_MAX];
	char			 name[IPC_NAME_MAX];
	char			*env_token;	/* FIREZONE_TOKEN, wiped */

	bool			 have_addresses;
	struct ipc_tun_addresses addresses;
	struct ipc_route	*routes;
	size_t			 nroutes;
	struct ipc_relay	*relays_kept;
	size_t			 nrelays;
	struct client_gateway	**gateways;
	size_t			 ngateways;
	struct conns		*conns;
	bool			 internet;	/* the saved switch */
	int			 default_routes;	/* 0/0 and ::/0 in */
};

/*
 * The Internet resource's default routes live in a table of their own,
 * which rules send everything to but fzc's own marked sockets; the main
 * table still wins for anything more specific than a default route.
 */
#define CLIENT_TABLE		FZC_FWMARK
#define CLIENT_RULE_MAIN	32000
#define CLIENT_RULE_TABLE	32001

/* A v4 UUID, made once and kept: the portal knows the device by it. */
static void
client_device_id(struct client *c)
{
	uint8_t	 u[16];
	char	 path[512];
	FILE	*f;
	size_t	 n;

	snprintf(path, sizeof(path), "%s/device-id", c->opt.state_dir);
	if ((f = fopen(path, "re")) != NULL) {
		n = fread(c->device_id, 1, sizeof(c->device_id) - 1, f);
		fclose(f);
		c->device_id[n] = '\0';
		c->device_id[strcspn(c->device_id, "\r\n")] = '\0';
		if (strlen(c->device_id) == 36)
			return;
		log_warnx("%s is not a UUID; making a new one", path);
	} else if (errno != ENOENT)
		fatal("reading %s", path);
	randombytes_buf(u, sizeof(u));
	u[6] = (u[6] & 0x0f) | 0x40;
	u[8] = (u[8] & 0x3f) | 0x80;
	snprintf(c->device_id, sizeof(c->device_id),
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4], u[5],
	    u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
	if (mkdir(c->opt.state_dir, 0750) == -1 && errno != EEXIST)
		fatal("creating %s", c->opt.state_dir);
	if ((f = fopen(path, "wxe")) == NULL ||
	    fprintf(f, "%s\n", c->device_id) < 0 || fclose(f) == EOF)
		fatal("writing %s", path);
	log_info("new device id in %s", path);
}

static void
client_internet_path(struct client *c, char *path, size_t len)
{
	snprintf(path, len, "%s/internet-resource", c->opt.state_dir);
}

static void
client_load_internet(struct client *c)
{
	char	 path[512], buf[8] = "";
	FILE	*f;

	client_internet_path(c, path, sizeof(path));
	if ((f = fopen(path, "re")) == NULL) {
		if (errno != ENOENT)
			log_warn("reading %s", path);
		return;
	}
	if (fgets(buf, sizeof(buf), f) != NULL)
		c->internet = strncmp(buf, "on", 2) == 0;
	fclose(f);
}

/* Saved by rename, so that a crash leaves the old setting or the new. */
static int
client_save_internet(struct client *c, bool on)
{
	char	 path[512], tmp[520];
	FILE	*f;
	int	 saved;

	client_internet_path(c, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	if ((f = fopen(tmp, "we")) == NULL)
		return (errno);
	if (fprintf(f, "%s\n", on ? "on" : "off") < 0 || fflush(f) == EOF ||
	    fsync(fileno(f)) == -1) {
		saved = errno;
		fclose(f);
		(void)unlink(tmp);
		return (saved);
	}
	if (fclose(f) == EOF || rename(tmp, path) == -1) {
		saved = errno;
		(void)unlink(tmp);
		return (saved);
	}
	c->internet = on;
	log_info("Internet resource turned %s", on ? "on" : "off");
	return (0);
}

struct client *
client_new(struct event_base *base, const struct client_options *opt)
{
	struct client	*c;
	const char	*env;

	c = xcalloc(1, sizeof(*c));
	c->base = base;
	c->opt = *opt;
	c->chan = NULL;
	if ((c->private_key = sodium_malloc(32)) == NULL)
		fatal("sodium_malloc");
	/* A new key per start, as connlib does; the portal takes the latest. */
	randombytes_buf(c->private_key, 32);
	if (crypto_scalarmult_base(c->public_key, c->private_key) != 0)
		fatalx("deriving the public key");
	client_device_id(c);
	client_load_internet(c);
	if (opt->name != NULL)
		strncpy(c->name, opt->name, sizeof(c->name) - 1);
	else if (gethostname(c->name, sizeof(c->name) - 1) == -1)
		c->name[0] = '\0';
	/* Taken out of the environment so that controld never inherits it. */
	if ((env = getenv("FIREZONE_TOKEN")) != NULL && *env != '\0') {
		c->env_token = xstrdup(env);
		explicit_bzero((char *)env, strlen(env));
		unsetenv("FIREZONE_TOKEN");
	}
	return (c);
}

/*
 * The token as an fd controld can read: a memfd for FIREZONE_TOKEN, else
 * the file, which must be root's alone. -1 with errno ENOENT: no token.
 */
static int
client_token_fd(struct client *c)
{
	struct stat	 st;
	int		 fd;

	if (c->env_token != NULL) {
		if ((fd = memfd_create("fzc-token", MFD_CLOEXEC)) == -1)
			return (-1);
		if (write(fd, c->env_token, strlen(c->env_token)) == -1 ||
		    lseek(fd, 0, SEEK_SET) == -1) {
			close(fd);
			return (-1);
		}
		return (fd);
	}
	fd = open(c->opt.token_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return (-1);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return (-1);
	}
	if (st.st_mode & 077) {
		log_warnx("token file %s is readable by group or others: "
		    "refusing it; chmod 600 it", c->opt.token_file);
		close(fd);
		errno = EPERM;
		return (-1);
	}
	return (fd);
}

static int
client_send_token(struct client *c, struct ipc_chan *ch, uint32_t id,
    int error)
{
	struct ipc_token_result	 r;
	struct ipc_empty	 e;
	int			 fd, rc;

	memset(&r, 0, sizeof(r));
	r.error = error;
	if ((fd = client_token_fd(c)) == -1) {
		if (errno != ENOENT)
			log_warn("token %s", c->opt.token_file);
		return (ipc_chan_send(ch, IPC_TOKEN_RESULT, id, &r, sizeof(r),
		    -1));
	}
	memset(&e, 0, sizeof(e));
	rc = ipc_chan_send(ch, IPC_TOKEN, id, &e, sizeof(e), fd);
	close(fd);
	if (rc == 0) {
		r.have_token = 1;
		rc = ipc_chan_send(ch, IPC_TOKEN_RESULT, id, &r, sizeof(r),
		    -1);
	}
	return (rc);
}

/* Sent after every hello: a restarted controld starts from scratch. */
int
client_send_config(struct client *c, struct ipc_chan *ch)
{
	struct ipc_portal_config	 pc;

	c->chan = ch;
	memset(&pc, 0, sizeof(pc));
	strncpy(pc.api_url, c->opt.api_url, sizeof(pc.api_url) - 1);
	if (c->opt.ca_file != NULL)
		strncpy(pc.ca_file, c->opt.ca_file, sizeof(pc.ca_file) - 1);
	memcpy(pc.name, c->name, sizeof(pc.name));
	memcpy(pc.device_id, c->device_id, sizeof(pc.device_id));
	memcpy(pc.public_key, c->public_key, sizeof(pc.public_key));
	pc.internet = c->internet;
	if (ipc_chan_send(ch, IPC_PORTAL_CONFIG, 0, &pc, sizeof(pc), -1) == -1)
		return (-1);
	return (client_send_token(c, ch, 0, 0));
}

static int
client_store_token(struct client *c, const char *token)
{
	char	 tmp[IPC_PATH_MAX + 8];
	size_t	 len = strlen(token);
	int	 fd, saved;

	snprintf(tmp, sizeof(tmp), "%s.new", c->opt.token_file);
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1)
		return (errno);
	if (write(fd, token, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
	    fsync(fd) == -1 || close(fd) == -1) {
		saved = errno != 0 ? errno : EIO;
		(void)unlink(tmp);
		return (saved);
	}
	if (rename(tmp, c->opt.token_file) == -1) {
		saved = errno;
		(void)unlink(tmp);
		return (saved);
	}
	return (0);
}

static void
client_forget_env_token(struct client *c)
{
	if (c->env_token != NULL) {
		explicit_bzero(c->env_token, strlen(c->env_token));
		free(c->env_token);
		c->env_token = NULL;
	}
}

static int
client_route_index(struct client *c, const struct ipc_route *r)
{
	size_t	 i;

	for (i = 0; i < c->nroutes; i++)
		if (strcmp(c->routes[i].resource_id, r->resource_id) == 0 &&
		    memcmp(&c->routes[i].prefix, &r->prefix,
		    sizeof(r->prefix)) == 0)
			return ((int)i);
	return (-1);
}

static int
client_relay_index(struct client *c, const char *id)
{
	size_t	 i;

	for (i = 0; i < c->nrelays; i++)
		if (strcmp(c->relays_kept[i].id, id) == 0)
			return ((int)i);
	return (-1);
}

static struct client_gateway *
client_gateway(struct client *c, const char *id)
{
	size_t	 i;

	for (i = 0; i < c->ngateways; i++)
		if (strcmp(c->gateways[i]->peer.gateway_id, id) == 0)
			return (c->gateways[i]);
	return (NULL);
}

static bool
client_gateway_serves(const struct client_gateway *g, const char *resource)
{
	size_t	 i;

	for (i = 0; i < g->nresources; i++)
		if (strcmp(g->resources[i], resource) == 0)
			return (true);
	return (false);
}

/* The gateway's WireGuard peer routes its tunnel IPs and its resources. */
static void
client_gateway_routes(struct client *c, struct client_gateway *g)
{
	struct peer	*wg = conn_peer(g->conn);
	size_t		 i;

	(void)device_add_allowed_ip(c->dev, wg, &g->peer.gateway_ipv4);
	(void)device_add_allowed_ip(c->dev, wg, &g->peer.gateway_ipv6);
	for (i = 0; i < c->nroutes; i++)
		if (client_gateway_serves(g, c->routes[i].resource_id))
			(void)device_add_allowed_ip(c->dev, wg,
			    &c->routes[i].prefix);
}

static void
client_gateway_free(struct client *c, struct client_gateway *g)
{
	size_t	 i;

	for (i = 0; i < c->ngateways; i++)
		if (c->gateways[i] == g) {
			c->gateways[i] = c->gateways[--c->ngateways];
			break;
		}
	conn_free(g->conn);
	free(g->resources);
	explicit_bzero(g, sizeof(*g));
	free(g);
}

static int
client_gateway_peer(struct client *c, const struct ipc_gateway_peer *p)
{
	struct conn_params	 cp;
	struct client_gateway	*g;
	const char		*why;

	if (c->conns == NULL)
		return (EAGAIN);
	if ((g = client_gateway(c, p->gateway_id)) == NULL) {
		if (c->ngateways == CLIENT_MAX_GATEWAYS)
			return (ENOSPC);
		g = xcalloc(1, sizeof(*g));
		g->peer = *p;
		memset(&cp, 0, sizeof(cp));
		cp.id = p->gateway_id;
		cp.public_key = p->public_key;
		cp.psk = p->psk;
		cp.local_ufrag = p->local_ufrag;
		cp.local_pwd = p->local_pwd;
		cp.remote_ufrag = p->remote_ufrag;
		cp.remote_pwd = p->remote_pwd;
		if ((g->conn = conn_new(c->conns, &cp, &why)) == NULL) {
			log_warnx("gateway %s: %s", p->gateway_id, why);
			explicit_bzero(g, sizeof(*g));
			free(g);
			return (EINVAL);
		}
		c->gateways = xreallocarray(c->gateways, c->ngateways + 1,
		    sizeof(*c->gateways));
		c->gateways[c->ngateways++] = g;
	}
	/* Another resource through a gateway already connected reuses it. */
	if (!client_gateway_serves(g, p->resource_id)) {
		g->resources = xreallocarray(g->resources, g->nresources + 1,
		    sizeof(*g->resources));
		memcpy(g->resources[g->nresources++], p->resource_id,
		    IPC_ID_MAX);
	}
	client_gateway_routes(c, g);
	device_claim_held(c->dev, conn_peer(g->conn), p->resource_id);
	return (0);
}

static int
client_candidate(struct client *c, const struct ipc_candidate *m, bool add)
{
	struct client_gateway	*g;
	const char		*why;

	if ((g = client_gateway(c, m->gateway_id)) == NULL)
		return (ENOENT);
	if (conn_remote_candidate(g->conn, m->candidate, add, &why) == -1) {
		log_warnx("candidate for gateway %s rejected: %s",
		    m->gateway_id, why != NULL ? why : "not known");
		return (EINVAL);
	}
	return (0);
}

static void
client_send_candidate(void *arg, const char *gateway_id, const char *cand,
    bool add)
{
	struct client		*c = arg;
	struct ipc_candidate	 m;

	memset(&m, 0, sizeof(m));
	snprintf(m.gateway_id, sizeof(m.gateway_id), "%s", gateway_id);
	snprintf(m.candidate, sizeof(m.candidate), "%s", cand);
	log_debug("local candidate for %s: %s%s", gateway_id,
	    add ? "" : "(removed) ", cand);
	if (c->chan == NULL || ipc_chan_send(c->chan, add ?
	    IPC_LOCAL_CANDIDATE : IPC_LOCAL_CANDIDATE_DEL, 0, &m, sizeof(m),
	    -1) == -1)
		log_warnx("cannot send a local candidate to controld");
}

/*
 * A gateway we lost (ICE failed or disconnected, or it said goodbye) is
 * forgotten: the next packet to one of its resources asks the portal.
 */
static bool
client_conn_state(void *arg, struct conn *conn, enum ice_state st)
{
	struct client	*c = arg;
	size_t		 i;

	if (st != ICE_FAILED && st != ICE_DISCONNECTED)
		return (false);
	for (i = 0; i < c->ngateways; i++)
		if (c->gateways[i]->conn == conn) {
			log_warnx("gateway %s: connection %s; dropped",
			    conn_id(conn), ice_state_name(st));
			client_gateway_free(c, c->gateways[i]);
			return (true);
		}
	return (false);
}

static void
client_goodbye(void *arg, struct peer *peer)
{
	struct client	*c = arg;
	struct conn	*conn;
	size_t		 i;

	if ((conn = conns_by_peer(c->conns, peer)) == NULL)
		return;
	for (i = 0; i < c->ngateways; i++)
		if (c->gateways[i]->conn == conn) {
			log_info("gateway %s said goodbye", conn_id(conn));
			client_gateway_free(c, c->gateways[i]);
			return;
		}
}

static void
client_no_relays(void *arg, const char *gateway_id)
{
	struct client		*c = arg;
	struct ipc_gateway_id	 m;

	memset(&m, 0, sizeof(m));
	snprintf(m.id, sizeof(m.id), "%s", gateway_id);
	if (c->chan == NULL || ipc_chan_send(c->chan, IPC_NO_RELAYS, 0, &m,
	    sizeof(m), -1) == -1)
		log_warnx("cannot tell controld that relays are missing");
}

static void
client_need_authz(void *arg, const char *resource_id)
{
	struct client		*c = arg;
	struct ipc_resource_id	 r;

	memset(&r, 0, sizeof(r));
	snprintf(r.id, sizeof(r.id), "%s", resource_id);
	log_debug("first packet for resource %s: asking controld",
	    resource_id);
	if (c->chan == NULL || ipc_chan_send(c->chan, IPC_NEED_AUTHZ, 0, &r,
	    sizeof(r), -1) == -1)
		log_warnx("cannot tell controld about resource %s",
		    resource_id);
}

/*
 * The tunnel device comes up with the first tunnel addresses the portal
 * gives; they do not change for a device (the portal keys them by the
 * device id), so later ones are only compared.
 */
static int
client_device_up(struct client *c, const struct ipc_tun_addresses *a)
{
	struct device_config	 cfg;
	struct conns_callbacks	 cb;
	const char		*why;
	int			 rc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.ifname = c->opt.ifname;
	cfg.nworkers = c->opt.threads;
	cfg.mtu = 1280;
	cfg.listen_port = 0;
	memcpy(cfg.private_key, c->private_key, sizeof(cfg.private_key));
	c->dev = device_new(c->base, &cfg, &why);
	explicit_bzero(&cfg, sizeof(cfg));
	if (c->dev == NULL) {
		log_warnx("tunnel device: %s", why);
		return (EINVAL);
	}
	device_set_authz_cb(c->dev, client_need_authz, c);
	if (device_start(c->dev, &why) == -1) {
		log_warn("tunnel device: %s", why);
		return (EIO);
	}
	if ((rc = netlink_open(&c->nl)) < 0 ||
	    (rc = c->ifindex = netlink_ifindex(c->nl,
	    device_ifname(c->dev))) < 0 ||
	    (rc = netlink_addr_add(c->nl, c->ifindex, AF_INET, a->ipv4.addr,
	    32)) < 0 ||
	    (rc = netlink_addr_add(c->nl, c->ifindex, AF_INET6, a->ipv6.addr,
	    128)) < 0 ||
	    (rc = netlink_link_set(c->nl, c->ifindex, 1280, true)) < 0) {
		log_warnx("configuring %s: %s", device_ifname(c->dev),
		    strerror(-rc));
		return (-rc);
	}
	log_info("%s is up", device_ifname(c->dev));
	memset(&cb, 0, sizeof(cb));
	cb.candidate = client_send_candidate;
	cb.state = client_conn_state;
	cb.no_relays = client_no_relays;
	cb.arg = c;
	c->conns = conns_new(c->base, c->dev, true, &cb);
	device_set_goodbye_cb(c->dev, client_goodbye, c);
	return (0);
}

/* The two rules go in with the first default route, out with the last. */
static int
client_rules(struct client *c, bool add)
{
	static const int	 fams[2] = { AF_INET, AF_INET6 };
	int			 i, rc = 0;

	for (i = 0; i < 2 && rc == 0; i++) {
		if (add) {
			if ((rc = netlink_rule_add(c->nl, fams[i], 0, false, 0,
			    CLIENT_RULE_MAIN, true)) == 0)
				rc = netlink_rule_add(c->nl, fams[i],
				    FZC_FWMARK, true, CLIENT_TABLE,
				    CLIENT_RULE_TABLE, false);
		} else {
			if ((rc = netlink_rule_del(c->nl, fams[i],
			    FZC_FWMARK, true, CLIENT_TABLE, CLIENT_RULE_TABLE,
			    false)) == 0)
				rc = netlink_rule_del(c->nl, fams[i], 0,
				    false, 0, CLIENT_RULE_MAIN, true);
		}
	}
	return (rc);
}

static int
client_route(struct client *c, const struct ipc_route *r, bool add)
{
	const struct ipc_prefix	*p = &r->prefix;
	uint32_t		 table = 0;
	int			 rc;

	if (c->dev == NULL || c->nl == NULL)
		return (0);
	if (p->prefixlen == 0)
		table = CLIENT_TABLE;
	if (add) {
		if (device_add_resource(c->dev, p, r->resource_id) == -1)
			return (EEXIST);
		rc = netlink_route_add(c->nl, c->ifindex, p->family, p->addr,
		    p->prefixlen, table, 0);
		if (rc == 0 && table != 0 && c->default_routes++ == 0 &&
		    (rc = client_rules(c, true)) != 0)
			log_warnx("Internet resource rules: %s",
			    strerror(-rc));
	} else {
		device_del_resource(c->dev, p, r->resource_id);
		rc = netlink_route_del(c->nl, c->ifindex, p->family, p->addr,
		    p->prefixlen, table, 0);
		if (rc == 0 && table != 0 && --c->default_routes == 0 &&
		    (rc = client_rules(c, false)) != 0)
			log_warnx("Internet resource rules: %s",
			    strerror(-rc));
	}
	/* Another resource may hold the same route: that one keeps it. */
	return (rc == -EEXIST || rc == -ENOENT ? 0 : -rc);
}

/* Keeps one state message; returns the errno to acknowledge it with. */
static int
client_state(struct client *c, const struct ipc_msg *msg)
{
	size_t	 j;
	int	 i, error;

	switch (msg->hdr.type) {
	case IPC_TUN_ADDRESSES:
		if (c->have_addresses)
			return (memcmp(&c->addresses, &msg->u.tun_addresses,
			    sizeof(c->addresses)) == 0 ? 0 : EBUSY);
		c->addresses = msg->u.tun_addresses;
		c->have_addresses = true;
		if ((error = client_device_up(c, &c->addresses)) != 0)
			return (error);
		for (j = 0; j < c->nroutes; j++)
			(void)client_route(c, &c->routes[j], true);
		for (j = 0; j < c->nrelays; j++)
			(void)conns_relay_add(c->conns, &c->relays_kept[j]);
		return (0);
	case IPC_ROUTE_ADD:
		if (client_route_index(c, &msg->u.route) != -1)
			return (EEXIST);
		if (c->nroutes == CLIENT_MAX_ROUTES)
			return (ENOSPC);
		c->routes = xreallocarray(c->routes, c->nroutes + 1,
		    sizeof(*c->routes));
		c->routes[c->nroutes++] = msg->u.route;
		return (client_route(c, &msg->u.route, true));
	case IPC_ROUTE_DEL:
		if ((i = client_route_index(c, &msg->u.route)) == -1)
			return (ENOENT);
		c->routes[i] = c->routes[--c->nroutes];
		return (client_route(c, &msg->u.route, false));
	case IPC_RELAY_ADD:
		if ((i = client_relay_index(c, msg->u.relay.id)) != -1) {
			/* New credentials for a known relay. */
			explicit_bzero(&c->relays_kept[i], sizeof(c->relays_kept[i]));
			c->relays_kept[i] = msg->u.relay;
			if (c->conns != NULL)
				(void)conns_relay_add(c->conns, &msg->u.relay);
			return (0);
		}
		if (c->nrelays == CLIENT_MAX_RELAYS)
			return (ENOSPC);
		c->relays_kept = xreallocarray(c->relays_kept, c->nrelays + 1,
		    sizeof(*c->relays_kept));
		c->relays_kept[c->nrelays++] = msg->u.relay;
		if (c->conns != NULL && conns_relay_add(c->conns,
		    &msg->u.relay) == -1)
			return (EINVAL);
		return (0);
	case IPC_GATEWAY_PEER:
		return (client_gateway_peer(c, &msg->u.gateway_peer));
	case IPC_REMOTE_CANDIDATE:
		return (client_candidate(c, &msg->u.candidate, true));
	case IPC_REMOTE_CANDIDATE_DEL:
		return (client_candidate(c, &msg->u.candidate, false));
	case IPC_INTERNET_SET:
		return (client_save_internet(c, msg->u.internet.enabled));
	case IPC_AUTHZ_FAILED:
		if (c->dev != NULL)
			device_drop_held(c->dev, msg->u.resource_id.id);
		return (0);
	default:	/* IPC_RELAY_DEL */
		if ((i = client_relay_index(c, msg->u.relay_id.id)) == -1)
			return (ENOENT);
		explicit_bzero(&c->relays_kept[i], sizeof(c->relays_kept[i]));
		c->relays_kept[i] = c->relays_kept[--c->nrelays];
		if (c->conns != NULL)
			(void)conns_relay_del(c->conns, msg->u.relay_id.id);
		return (0);
	}
}

static void
client_log_state(const struct ipc_msg *msg, int error)
{
	const struct ipc_prefix	*p = NULL;
	char			 a[INET6_ADDRSTRLEN] = "";
	const char		*what = "";

	switch (msg->hdr.type) {
	case IPC_TUN_ADDRESSES:
		p = &msg->u.tun_addresses.ipv4;
		break;
	case IPC_ROUTE_ADD:
	case IPC_ROUTE_DEL:
		p = &msg->u.route.prefix;
		what = msg->u.route.resource_id;
		break;
	case IPC_RELAY_ADD:
		what = msg->u.relay.id;
		break;
	case IPC_GATEWAY_PEER:
		p = &msg->u.gateway_peer.gateway_ipv4;
		what = msg->u.gateway_peer.gateway_id;
		break;
	case IPC_REMOTE_CANDIDATE:
	case IPC_REMOTE_CANDIDATE_DEL:
		what = msg->u.candidate.candidate;
		break;
	case IPC_INTERNET_SET:
		what = msg->u.internet.enabled ? "on" : "off";
		break;
	case IPC_AUTHZ_FAILED:
		what = msg->u.resource_id.id;
		break;
	default:
		what = msg->u.relay_id.id;
		break;
	}
	if (p != NULL)
		inet_ntop(p->family, p->addr, a, sizeof(a));
	log_debug("client state: %s %s%s%u %s%s%s", ipc_type_name(msg->hdr.type),
	    a, p != NULL ? "/" : "", p != NULL ? p->prefixlen : 0, what,
	    error != 0 ? ": " : "", error != 0 ? strerror(error) : "");
}

/* The messages client_dispatch() takes. */
bool
client_owns(uint16_t type)
{
	return (type == IPC_TOKEN_DELETE || type == IPC_TOKEN_STORE ||
	    type == IPC_INTERNET_SET ||
	    (type >= IPC_STATE_FIRST && type <= IPC_STATE_LAST));
}

/* Returns 0, or -1 with *why when controld broke the protocol. */
int
client_dispatch(struct client *c, struct ipc_chan *ch,
    const struct ipc_msg *msg,
    const char **why)
{
	struct ipc_token_result	 r;
	struct ipc_state_ack	 ack;
	int			 error = 0;

	switch (msg->hdr.type) {
	case IPC_TOKEN_DELETE:
		client_forget_env_token(c);
		if (unlink(c->opt.token_file) == -1 && errno != ENOENT)
			error = errno;
		else
			log_info("token deleted (%s)", c->opt.token_file);
		memset(&r, 0, sizeof(r));
		r.error = error;
		if (ipc_chan_send(ch, IPC_TOKEN_RESULT, msg->hdr.id, &r,
		    sizeof(r), -1) == -1)
			log_warn("answering controld");
		return (0);
	case IPC_TOKEN_STORE:
		client_forget_env_token(c);
		if ((error = client_store_token(c, msg->u.token.token)) != 0)
			log_warnx("storing the token in %s: %s",
			    c->opt.token_file, strerror(error));
		else
			log_info("new token stored in %s", c->opt.token_file);
		if (client_send_token(c, ch, msg->hdr.id, error) == -1)
			log_warn("sending the token to controld");
		return (0);
	default:
		if (!client_owns(msg->hdr.type)) {
			*why = "not a client-role message";
			return (-1);
		}
		memset(&ack, 0, sizeof(ack));
		ack.type = msg->hdr.type;
		ack.error = client_state(c, msg);
		client_log_state(msg, ack.error);
		if (ipc_chan_send(ch, IPC_STATE_ACK, msg->hdr.id, &ack,
		    sizeof(ack), -1) == -1)
			log_warn("acknowledging %s", ipc_type_name(ack.type));
		return (0);
	}
}

struct device *
client_device(const struct client *c)
{
	return (c->dev);
}

void
client_free(struct client *c)
{
	int	 rc;

	if (c == NULL)
		return;
	while (c->ngateways > 0)
		client_gateway_free(c, c->gateways[c->ngateways - 1]);
	free(c->gateways);
	conns_free(c->conns);
	if (c->nl != NULL) {
		if ((rc = netlink_undo_all(c->nl)) < 0)
			log_warnx("removing routes and addresses: %s",
			    strerror(-rc));
		netlink_close(c->nl);
	}
	device_free(c->dev);
	sodium_free(c->private_key);
	client_forget_env_token(c);
	if (c->relays_kept != NULL)
		explicit_bzero(c->relays_kept,
		    c->nrelays * sizeof(*c->relays_kept));
	free(c->relays_kept);
	free(c->routes);
	free(c);
}
