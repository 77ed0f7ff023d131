/*
 * wireguard.c: plain WireGuard mode, controld's half. tunneld hands us the
 * configuration file as an fd; we parse it (controld is where untrusted
 * input is parsed) and send the result back as the message sequence that
 * tunneld/wgmode.c expects, or the first error with its FILE:LINE.
 */
#include <sys/socket.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "controld/tunneld_chan.h"
#include "controld/wgconf.h"
#include "controld/wireguard.h"
#include "ipc/ipc.h"

static void
wireguard_error(struct tunneld_chan *tc, const char *text)
{
	struct ipc_wg_error	 e;
	size_t			 i;

	memset(&e, 0, sizeof(e));
	strncpy(e.text, text, sizeof(e.text) - 1);
	/* tunneld refuses control characters; a file name may have some. */
	for (i = 0; e.text[i] != '\0'; i++)
		if ((unsigned char)e.text[i] < 0x20 || e.text[i] == 0x7f)
			e.text[i] = '?';
	tunneld_chan_send(tc, IPC_WG_ERROR, 0, &e, sizeof(e));
}

static void
prefix_to_ipc(const struct wgconf_prefix *in, struct ipc_prefix *out)
{
	memset(out, 0, sizeof(*out));
	out->family = (uint8_t)in->family;
	out->prefixlen = in->prefixlen;
	memcpy(out->addr, in->addr, in->family == AF_INET ? 4 : 16);
}

static int
resolve(const struct wgconf_peer *p, struct ipc_sockaddr *sa,
    const char *file, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res;
	char		 port[8];
	int		 rc;

	memset(sa, 0, sizeof(*sa));
	sa->port = p->endpoint_port;
	if (p->endpoint_family != AF_UNSPEC) {
		sa->family = (uint16_t)p->endpoint_family;
		memcpy(sa->addr, p->endpoint_addr,
		    p->endpoint_family == AF_INET ? 4 : 16);
		return (0);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_ADDRCONFIG;
	snprintf(port, sizeof(port), "%u", p->endpoint_port);
	if ((rc = getaddrinfo(p->endpoint_host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s:%u: cannot resolve endpoint %s: %s",
		    file, p->line, p->endpoint_host, gai_strerror(rc));
		return (-1);
	}
	sa->family = (uint16_t)res->ai_family;
	if (res->ai_family == AF_INET)
		memcpy(sa->addr, &((struct sockaddr_in *)res->ai_addr)->
		    sin_addr, 4);
	else
		memcpy(sa->addr, &((struct sockaddr_in6 *)res->ai_addr)->
		    sin6_addr, 16);
	freeaddrinfo(res);
	return (0);
}

void
wireguard_configure(struct tunneld_chan *tc, const struct ipc_msg *msg)
{
	struct ipc_wg_interface	 iface;
	struct ipc_wg_address	 addr;
	struct ipc_wg_peer	 peer;
	struct ipc_wg_allowed_ip aip;
	struct ipc_empty	 commit;
	struct wgconf		*conf;
	struct ipc_sockaddr	*eps = NULL;
	const char		*file = msg->u.wg_file.name;
	char			 err[IPC_TEXT_MAX];
	size_t			 i, j, n;

	if (wgconf_parse_fd(msg->fd, file, &conf, err, sizeof(err)) == -1) {
		close(msg->fd);
		log_warnx("%s", err);
		wireguard_error(tc, err);
		return;
	}
	close(msg->fd);
	for (i = 0; i < conf->n_ignored; i++)
		log_warnx("%s", conf->ignored[i]);
	if (conf->n_peers > IPC_WG_MAX_PEERS || conf->n_addresses > 256) {
		snprintf(err, sizeof(err), "%s: too many peers or addresses",
		    file);
		goto fail;
	}
	for (i = 0, n = 0; i < conf->n_peers; i++)
		n += conf->peers[i].n_allowed_ips;
	if (n > IPC_WG_MAX_ALLOWED_IPS) {
		snprintf(err, sizeof(err), "%s: %zu AllowedIPs, over %d", file,
		    n, IPC_WG_MAX_ALLOWED_IPS);
		goto fail;
	}
	/* Everything that can fail happens before the first message. */
	eps = xcalloc(conf->n_peers + 1, sizeof(*eps));
	for (i = 0; i < conf->n_peers; i++)
		if (conf->peers[i].has_endpoint &&
		    resolve(&conf->peers[i], &eps[i], file, err,
		    sizeof(err)) == -1)
			goto fail;

	memset(&iface, 0, sizeof(iface));
	memcpy(iface.private_key, conf->private_key, IPC_WG_KEY_LEN);
	iface.listen_port = conf->has_listen_port ? conf->listen_port : 0;
	iface.mtu = conf->mtu != 0 ? conf->mtu : 1280;
	iface.naddrs = (uint32_t)conf->n_addresses;
	iface.npeers = (uint32_t)conf->n_peers;
	tunneld_chan_send(tc, IPC_WG_INTERFACE, 0, &iface, sizeof(iface));
	explicit_bzero(&iface, sizeof(iface));
	for (i = 0; i < conf->n_addresses; i++) {
		prefix_to_ipc(&conf->addresses[i], &addr.prefix);
		tunneld_chan_send(tc, IPC_WG_ADDRESS, 0, &addr, sizeof(addr));
	}
	for (i = 0; i < conf->n_peers; i++) {
		memset(&peer, 0, sizeof(peer));
		peer.peer_id = (uint32_t)i;
		memcpy(peer.public_key, conf->peers[i].public_key,
		    IPC_WG_KEY_LEN);
		if (conf->peers[i].has_psk)
			memcpy(peer.psk, conf->peers[i].psk, IPC_WG_KEY_LEN);
		peer.persistent_keepalive =
		    conf->peers[i].persistent_keepalive;
		if (conf->peers[i].has_endpoint) {
			peer.has_endpoint = 1;
			peer.endpoint = eps[i];
		}
		tunneld_chan_send(tc, IPC_WG_PEER, 0, &peer, sizeof(peer));
		explicit_bzero(&peer, sizeof(peer));
		for (j = 0; j < conf->peers[i].n_allowed_ips; j++) {
			aip.peer_id = (uint32_t)i;
			prefix_to_ipc(&conf->peers[i].allowed_ips[j],
			    &aip.prefix);
			tunneld_chan_send(tc, IPC_WG_ALLOWED_IP, 0, &aip,
			    sizeof(aip));
		}
	}
	memset(&commit, 0, sizeof(commit));
	tunneld_chan_send(tc, IPC_WG_COMMIT, 0, &commit, sizeof(commit));
	log_info("%s: %zu peers configured", file, conf->n_peers);
	free(eps);
	wgconf_free(conf);
	return;
fail:
	free(eps);
	wgconf_free(conf);
	log_warnx("%s", err);
	wireguard_error(tc, err);
}
