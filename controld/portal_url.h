/*
 * What the connect request to the portal carries: the URL (PROTOCOL.md
 * 1.2) and the User-Agent (1.4). Pure functions.
 */

#ifndef FZC_PORTAL_URL_H
#define FZC_PORTAL_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PORTAL_MAX_ID		255
#define PORTAL_EXTERNAL_ID_SIZE	(PORTAL_MAX_ID + 1)

/*
 * The portal decides from this version what it sends (PROTOCOL.md 1.4,
 * 5).  1.5.6 is the first headless version given "sites"/"site_id"
 * rather than the old gateway_group keys, and stays below 1.5.7 (target of
 * client-to-client connections) and 1.5.9 (device-pool resources), which
 * fzc does not implement.  Gateways 1.4.0 up to 1.6.x accept it, which
 * covers the current 1.6 release.
 */
#define PORTAL_UA_COMPONENT	"headless-client"
#define PORTAL_UA_VERSION	"1.5.6"

/*
 * The gateway role claims the same version: clients from 1.4.0 up to
 * 1.6.x find it compatible (gateway >= X.(Y-1).0 and < X.(Y+2).0).
 */
#define PORTAL_UA_GW_COMPONENT	"gateway"
#define PORTAL_UA_GW_VERSION	"1.5.6"

struct portal_device {
	bool		 gateway;	/* /gateway/v2: external_id, name and
					   public_key only */
	const char	*external_id;	/* from portal_external_id() */
	const char	*name;		/* may be NULL */
	const char	*device_serial;	/* may be NULL */
	const char	*device_uuid;	/* may be NULL */
	const char	*identifier_for_vendor;
	const char	*firebase_installation_id;
};

struct portal_url {
	bool		 tls;
	char		*host;		/* Host header, [IPv6] */
	uint16_t	 port;
	char		*target;	/* path and query */
	char		*url;		/* ws:// or wss:// URL */
};

int	portal_external_id(const char *, char [PORTAL_EXTERNAL_ID_SIZE]);
int	portal_url_build(const char *, const struct portal_device *,
	    const uint8_t [32], struct portal_url *, const char **);
void	portal_url_free(struct portal_url *);
int	portal_user_agent(char *, size_t, bool, const char *, const char *,
	    const char *, const char *);

#endif
