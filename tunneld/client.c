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
#include <event2/event.h>
#include <ifaddrs.h>
#include <net/if.h>
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
#include "tunneld/device.h"
#include "tunneld/netlink.h"
#include "tunneld/relays.h"
#include "tunneld/nat/ice.h"

#define CLIENT_MAX_ROUTES	4096
#define CLIENT_MAX_RELAYS	64
#define CLIENT_MAX_GATEWAYS	256
#define CLIENT_MAX_CANDIDATES	32	/* per gateway */
#define CLIENT_MAX_LOCAL	32

/*
 * An authorized gateway: its ICE agent (we control) looks for a path, and
 * the nominated one becomes its WireGuard peer's endpoint.
 */
struct client_gateway {
	struct client		*c;
	struct ipc_gateway_peer	 peer;
	struct ice_candidate	 remote[CLIENT_MAX_CANDIDATES];
	size_t			 nremote;
	struct ice_agent	*ice;
	struct event		*ev_ice;
	struct peer		*wg;
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

	struct relays		*relays;
	uint32_t		 next_peer_id;
	struct ice_candidate	 local[CLIENT_MAX_LOCAL];
	size_t			 nlocal;
	bool			 have_host;
};

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

static void	client_host_candidates(struct client *);
static void	client_ice_start(struct client *, struct client_gateway *);
static void	client_ice_run(struct client_gateway *);
static void	client_gateway_routes(struct client *,
		    struct client_gateway *);
static void	client_send_candidate(struct client *, const char *,
		    const struct ice_candidate *);

static struct client_gateway *
client_gateway(struct client *c, const char *id)
{
	size_t	 i;

	for (i = 0; i < c->ngateways; i++)
		if (strcmp(c->gateways[i]->peer.gateway_id, id) == 0)
			return (c->gateways[i]);
	return (NULL);
}

static int
client_gateway_peer(struct client *c, const struct ipc_gateway_peer *p)
{
	struct client_gateway	*g;
	size_t			 i;

	if ((g = client_gateway(c, p->gateway_id)) == NULL) {
		if (c->ngateways == CLIENT_MAX_GATEWAYS)
			return (ENOSPC);
		c->gateways = xreallocarray(c->gateways, c->ngateways + 1,
		    sizeof(*c->gateways));
		g = xcalloc(1, sizeof(*g));
		g->c = c;
		c->gateways[c->ngateways++] = g;
	} else if (g->wg != NULL) {
		/* Another resource through a gateway already connected. */
		g->peer = *p;
		client_gateway_routes(c, g);
		return (0);
	}
	/* A new authorization replaces credentials and candidates. */
	explicit_bzero(&g->peer, sizeof(g->peer));
	g->peer = *p;
	g->nremote = 0;
	if (c->dev != NULL)
		client_host_candidates(c);
	for (i = 0; i < c->nlocal; i++)
		client_send_candidate(c, p->gateway_id, &c->local[i]);
	if (c->dev != NULL)
		client_ice_start(c, g);
	return (0);
}

/* Parsed here too: tunneld trusts no candidate it has not read itself. */
static int
client_candidate(struct client *c, const struct ipc_candidate *m, bool add)
{
	struct client_gateway	*g;
	struct ice_candidate	 cand;
	const char		*why;
	size_t			 i;

	if ((g = client_gateway(c, m->gateway_id)) == NULL)
		return (ENOENT);
	if (ice_candidate_parse(&cand, m->candidate, &why) == -1) {
		log_warnx("candidate for gateway %s rejected: %s",
		    m->gateway_id, why);
		return (EINVAL);
	}
	for (i = 0; i < g->nremote; i++)
		if (memcmp(&g->remote[i].addr, &cand.addr,
		    sizeof(cand.addr)) == 0 && g->remote[i].type == cand.type)
			break;
	if (!add) {
		if (i == g->nremote)
			return (ENOENT);
		g->remote[i] = g->remote[--g->nremote];
		return (0);
	}
	if (i < g->nremote)
		return (EEXIST);
	if (g->nremote == CLIENT_MAX_CANDIDATES)
		return (ENOSPC);
	g->remote[g->nremote++] = cand;
	if (g->ice != NULL) {
		if (ice_add_remote(g->ice, util_now_ns(), m->candidate,
		    &why) == -1)
			log_debug("ICE: remote candidate: %s", why);
		client_ice_run(g);
	}
	return (0);
}

static void
client_send_candidate(struct client *c, const char *gateway_id,
    const struct ice_candidate *cand)
{
	struct ipc_candidate	 m;

	memset(&m, 0, sizeof(m));
	snprintf(m.gateway_id, sizeof(m.gateway_id), "%s", gateway_id);
	if (ice_candidate_format(cand, m.candidate, sizeof(m.candidate)) < 0)
		return;
	log_debug("local candidate for %s: %s", gateway_id, m.candidate);
	if (c->chan == NULL || ipc_chan_send(c->chan, IPC_LOCAL_CANDIDATE, 0,
	    &m, sizeof(m), -1) == -1)
		log_warnx("cannot send a local candidate to controld");
}

/* Kept once, and offered to every gateway we know, now and later. */
static void
client_local_candidate(struct client *c, const struct ice_candidate *cand)
{
	size_t	 i;

	for (i = 0; i < c->nlocal; i++)
		if (c->local[i].type == cand->type &&
		    memcmp(&c->local[i].addr, &cand->addr,
		    sizeof(cand->addr)) == 0)
			return;
	if (c->nlocal == CLIENT_MAX_LOCAL)
		return;
	c->local[c->nlocal++] = *cand;
	for (i = 0; i < c->ngateways; i++)
		client_send_candidate(c, c->gateways[i]->peer.gateway_id, cand);
}

static void
client_make_candidate(struct ice_candidate *out, enum ice_cand_type type,
    const struct stun_addr *addr, uint16_t pref)
{
	memset(out, 0, sizeof(*out));
	out->type = type;
	out->addr = *addr;
	out->priority = ice_priority(type, pref);
	/* One foundation per type and family: same base, same server. */
	snprintf(out->foundation, sizeof(out->foundation), "%c%d",
	    type == ICE_CAND_HOST ? 'h' : type == ICE_CAND_SRFLX ? 's' : 'r',
	    addr->family == AF_INET ? 4 : 6);
	if (type != ICE_CAND_HOST) {
		out->has_related = true;
		out->related.family = addr->family;
	}
}

static void
client_relay_candidate(void *arg, bool relayed, const struct stun_addr *a)
{
	struct client		*c = arg;
	struct ice_candidate	 cand;

	client_make_candidate(&cand, relayed ? ICE_CAND_RELAY :
	    ICE_CAND_SRFLX,
	    a, 65535);
	client_local_candidate(c, &cand);
}

/* Host candidates: every address but loopback, link-local and ours. */
static void
client_host_candidates(struct client *c)
{
	struct ifaddrs		*ifa, *i;
	struct ice_candidate	 cand;
	struct stun_addr	 a;
	uint16_t		 pref = 65535;

	if (c->have_host || getifaddrs(&ifa) == -1)
		return;
	c->have_host = true;
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || (i->ifa_flags & IFF_LOOPBACK) ||
		    strcmp(i->ifa_name, device_ifname(c->dev)) == 0)
			continue;
		memset(&a, 0, sizeof(a));
		a.port = device_port(c->dev);
		if (i->ifa_addr->sa_family == AF_INET) {
			a.family = AF_INET;
			memcpy(a.ip, &((struct sockaddr_in *)i->ifa_addr)->
			    sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6 &&
		    !IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)
		    i->ifa_addr)->sin6_addr)) {
			a.family = AF_INET6;
			memcpy(a.ip, &((struct sockaddr_in6 *)i->ifa_addr)->
			    sin6_addr, 16);
		} else
			continue;
		client_make_candidate(&cand, ICE_CAND_HOST, &a, pref);
		if (pref > 0)
			pref--;
		client_local_candidate(c, &cand);
	}
	freeifaddrs(ifa);
}

static void
client_sockaddr_stun(const struct sockaddr_in6 *sa, struct stun_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->port = ntohs(sa->sin6_port);
	if (IN6_IS_ADDR_V4MAPPED(&sa->sin6_addr)) {
		a->family = AF_INET;
		memcpy(a->ip, &sa->sin6_addr.s6_addr[12], 4);
	} else {
		a->family = AF_INET6;
		memcpy(a->ip, &sa->sin6_addr, 16);
	}
}

static void
client_stun_sockaddr(const struct stun_addr *a, struct sockaddr_in6 *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin6_family = AF_INET6;
	sa->sin6_port = htons(a->port);
	if (a->family == AF_INET) {
		sa->sin6_addr.s6_addr[10] = 0xff;
		sa->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&sa->sin6_addr.s6_addr[12], a->ip, 4);
	} else
		memcpy(&sa->sin6_addr, a->ip, 16);
}

/*
 * The socket is bound to the wildcard, so the address a datagram came in
 * on is not known: the first host candidate of its family stands for it.
 */
static void
client_local_base(struct client *c, int family, struct stun_addr *a)
{
	size_t	 i;

	memset(a, 0, sizeof(*a));
	for (i = 0; i < c->nlocal; i++)
		if (c->local[i].type == ICE_CAND_HOST &&
		    c->local[i].addr.family == family) {
			*a = c->local[i].addr;
			return;
		}
}

/* The gateway's WireGuard peer routes its tunnel IPs and its resources. */
static void
client_gateway_routes(struct client *c, struct client_gateway *g)
{
	size_t	 i;

	(void)device_add_allowed_ip(c->dev, g->wg, &g->peer.gateway_ipv4);
	(void)device_add_allowed_ip(c->dev, g->wg, &g->peer.gateway_ipv6);
	for (i = 0; i < c->nroutes; i++)
		if (strcmp(c->routes[i].resource_id, g->peer.resource_id) == 0)
			(void)device_add_allowed_ip(c->dev, g->wg,
			    &c->routes[i].prefix);
}

static void
client_ice_nominated(struct client *c, struct client_gateway *g,
    const struct ice_event *ev)
{
	struct sockaddr_in6	 ep;

	if (ev->path.relayed) {
		log_warnx("ICE: gateway %s nominated a relayed path; relayed "
		    "WireGuard is not supported yet", g->peer.gateway_id);
		return;
	}
	client_stun_sockaddr(&ev->path.remote, &ep);
	if (g->wg == NULL) {
		g->wg = device_add_peer(c->dev, c->next_peer_id++,
		    g->peer.public_key, g->peer.psk, &ep, 0);
		if (g->wg == NULL) {
			log_warnx("gateway %s: cannot add its WireGuard peer",
			    g->peer.gateway_id);
			return;
		}
		client_gateway_routes(c, g);
	} else
		device_set_endpoint(g->wg, &ep);
	log_info("gateway %s: ICE nominated a direct path; handshaking",
	    g->peer.gateway_id);
	/* PROTOCOL 4.3: the client starts the handshake on nomination. */
	device_raise(g->wg, PEER_EV_WANT_HANDSHAKE);
}

static void
client_ice_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct client_gateway	*g = arg;

	(void)fd;
	(void)events;
	ice_handle_timeout(g->ice, util_now_ns());
	client_ice_run(g);
}

/* Sends what the agent hands out, acts on its events, re-arms its timer. */
static void
client_ice_run(struct client_gateway *g)
{
	struct client		*c = g->c;
	struct ice_path		 path;
	struct ice_event	 ev;
	struct sockaddr_in6	 dst;
	uint8_t			 buf[1500];
	size_t			 n;

	while ((n = ice_poll_transmit(g->ice, buf, sizeof(buf), &path)) > 0) {
		if (path.relayed)
			continue;	/* no relayed sends yet */
		client_stun_sockaddr(&path.remote, &dst);
		device_sendto(c->dev, buf, n, &dst);
	}
	while (ice_poll_event(g->ice, &ev)) {
		if (ev.type == ICE_EV_NOMINATED)
			client_ice_nominated(c, g, &ev);
		else
			log_info("ICE: gateway %s: %s", g->peer.gateway_id,
			    ice_state_name(ev.state));
	}
	timer_at(g->ev_ice, ice_next_deadline(g->ice), util_now_ns());
}

static void
client_ice_random(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	randombytes_buf(buf, len);
}

/* We are the controlling agent (PROTOCOL 4.3); host candidates only yet. */
static void
client_ice_start(struct client *c, struct client_gateway *g)
{
	struct ice_config	 cfg;
	const char		*why;
	char			 s[IPC_CANDIDATE_MAX];
	size_t			 i;

	if (g->ice != NULL)
		return;
	ice_config_defaults(&cfg, true);
	cfg.local_ufrag = g->peer.local_ufrag;
	cfg.local_pwd = g->peer.local_pwd;
	cfg.remote_ufrag = g->peer.remote_ufrag;
	cfg.remote_pwd = g->peer.remote_pwd;
	cfg.random = client_ice_random;
	if ((g->ice = ice_new(&cfg, &why)) == NULL) {
		log_warnx("ICE for gateway %s: %s", g->peer.gateway_id, why);
		return;
	}
	if ((g->ev_ice = evtimer_new(c->base, client_ice_timer_cb, g)) ==
	    NULL)
		fatalx("evtimer_new");
	ice_start(g->ice, util_now_ns());
	for (i = 0; i < c->nlocal; i++)
		if (c->local[i].type == ICE_CAND_HOST)
			(void)ice_add_local(g->ice, util_now_ns(),
			    ICE_CAND_HOST, &c->local[i].addr, NULL, NULL);
	for (i = 0; i < g->nremote; i++)
		if (ice_candidate_format(&g->remote[i], s, sizeof(s)) >= 0)
			(void)ice_add_remote(g->ice, util_now_ns(), s, &why);
	client_ice_run(g);
}

/* What workers hand over from the UDP socket that is not WireGuard. */
static void
client_control(void *arg, const uint8_t *msg, size_t len,
    const struct sockaddr_in6 *src)
{
	struct client	*c = arg;

	struct ice_path	 path;
	const char	*why;
	size_t		 i;

	if (c->relays != NULL && relays_input(c->relays, msg, len, src))
		return;
	memset(&path, 0, sizeof(path));
	client_sockaddr_stun(src, &path.remote);
	client_local_base(c, path.remote.family, &path.local);
	for (i = 0; i < c->ngateways; i++) {
		if (c->gateways[i]->ice == NULL)
			continue;
		switch (ice_handle_input(c->gateways[i]->ice, util_now_ns(),
		    msg, len, &path, &why)) {
		case ICE_IN_HANDLED:
			client_ice_run(c->gateways[i]);
			return;
		case ICE_IN_IGNORED:
			log_debug("ICE: datagram ignored: %s", why);
			return;
		default:
			break;
		}
	}
	log_debug("STUN datagram for no ICE agent dropped");
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
	device_set_ctl_cb(c->dev, client_control, c);
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
	c->relays = relays_new(c->base, c->dev, client_relay_candidate, c);
	return (0);
}

static int
client_route(struct client *c, const struct ipc_route *r, bool add)
{
	int	 rc;

	if (c->dev == NULL || c->nl == NULL)
		return (0);
	if (add) {
		if (device_add_resource(c->dev, &r->prefix,
		    r->resource_id) == -1)
			return (EEXIST);
		rc = netlink_route_add(c->nl, c->ifindex, r->prefix.family,
		    r->prefix.addr, r->prefix.prefixlen, 0, 0);
	} else {
		device_del_resource(c->dev, &r->prefix, r->resource_id);
		rc = netlink_route_del(c->nl, c->ifindex, r->prefix.family,
		    r->prefix.addr, r->prefix.prefixlen, 0, 0);
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
			(void)relays_add(c->relays, &c->relays_kept[j]);
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
			if (c->relays != NULL)
				(void)relays_add(c->relays, &msg->u.relay);
			return (0);
		}
		if (c->nrelays == CLIENT_MAX_RELAYS)
			return (ENOSPC);
		c->relays_kept = xreallocarray(c->relays_kept, c->nrelays + 1,
		    sizeof(*c->relays_kept));
		c->relays_kept[c->nrelays++] = msg->u.relay;
		if (c->relays != NULL && relays_add(c->relays,
		    &msg->u.relay) == -1)
			return (EINVAL);
		return (0);
	case IPC_GATEWAY_PEER:
		return (client_gateway_peer(c, &msg->u.gateway_peer));
	case IPC_REMOTE_CANDIDATE:
		return (client_candidate(c, &msg->u.candidate, true));
	case IPC_REMOTE_CANDIDATE_DEL:
		return (client_candidate(c, &msg->u.candidate, false));
	default:	/* IPC_RELAY_DEL */
		if ((i = client_relay_index(c, msg->u.relay_id.id)) == -1)
			return (ENOENT);
		explicit_bzero(&c->relays_kept[i], sizeof(c->relays_kept[i]));
		c->relays_kept[i] = c->relays_kept[--c->nrelays];
		if (c->relays != NULL)
			(void)relays_del(c->relays, msg->u.relay_id.id);
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
	size_t	 i;
	int	 rc;

	if (c == NULL)
		return;
	relays_free(c->relays);
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
	for (i = 0; i < c->ngateways; i++) {
		if (c->gateways[i]->ev_ice != NULL)
			event_free(c->gateways[i]->ev_ice);
		ice_free(c->gateways[i]->ice);
		explicit_bzero(c->gateways[i], sizeof(*c->gateways[i]));
		free(c->gateways[i]);
	}
	free(c->gateways);
	free(c);
}
