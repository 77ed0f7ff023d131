/*
 * Strict parser for wg-quick style configuration files (wg(8) and
 * wg-quick(8) syntax), for "fzc-tunneld --wireguard FILE".  Pure: no
 * logging, no network, no name resolution.  Error messages have the form
 * "FILE:LINE: reason" and never quote a value, so key material cannot
 * reach a log.
 */

#ifndef FZC_WGCONF_H
#define FZC_WGCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WGCONF_KEY_LEN		32
#define WGCONF_MAX_SIZE		(1024 * 1024)	/* whole file */
#define WGCONF_MAX_LINE		4096		/* bytes, without newline */

struct wgconf_prefix {
	int		 family;	/* AF_INET or AF_INET6 */
	uint8_t		 addr[16];	/* network order; AF_INET uses 4 */
	uint8_t		 prefixlen;
};

struct wgconf_peer {
	uint8_t		 public_key[WGCONF_KEY_LEN];
	uint8_t		 psk[WGCONF_KEY_LEN];
	bool		 has_psk;
	char		*endpoint_host;	/* IPv6 without brackets */
	uint16_t	 endpoint_port;
	bool		 has_endpoint;
	int		 endpoint_family;	/* AF_UNSPEC: a DNS name */
	uint8_t		 endpoint_addr[16];	/* for AF_INET/AF_INET6 */
	struct wgconf_prefix	*allowed_ips;	/* host bits cleared */
	size_t		 n_allowed_ips;
	uint16_t	 persistent_keepalive;	/* seconds, 0: off */
	unsigned	 line;		/* of the [Peer] header */
};

struct wgconf {
	uint8_t		 private_key[WGCONF_KEY_LEN];
	bool		 has_private_key;	/* always true once parsed */
	uint16_t	 listen_port;
	bool		 has_listen_port;
	uint16_t	 mtu;		/* 0: not given */
	struct wgconf_prefix	*addresses;	/* host bits kept */
	size_t		 n_addresses;
	struct wgconf_peer	*peers;
	size_t		 n_peers;
	char		**ignored;	/* "FILE:LINE: key 'DNS' is ..." */
	size_t		 n_ignored;
};

/*
 * Both return 0 and set *out, or return -1 with errno set (EINVAL for a
 * malformed file, EFBIG above WGCONF_MAX_SIZE, ENOMEM, or what read(2)
 * failed with), leave *out NULL and write the reason to err.  The fd is
 * read to EOF and not closed.
 */
int	 wgconf_parse(const char *, size_t, const char *, struct wgconf **,
	    char *, size_t);
int	 wgconf_parse_fd(int, const char *, struct wgconf **, char *, size_t);
void	 wgconf_free(struct wgconf *);

#endif /* FZC_WGCONF_H */
