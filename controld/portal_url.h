/*
 * What the client needs before and between WebSocket connections to the
 * portal: the URL (PROTOCOL.md 1.2), the User-Agent (1.4), the
 * classification of connect errors (1.6) and the reconnect backoff (1.8).
 * Pure functions: time and randomness come from the caller.
 */

#ifndef FZC_PORTAL_URL_H
#define FZC_PORTAL_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define PORTAL_NSEC		1000000000ULL
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

#define PORTAL_FIRST_INTERVAL_NS	(1ULL * PORTAL_NSEC)
#define PORTAL_FIRST_BUDGET_NS		(15ULL * PORTAL_NSEC)
#define PORTAL_BACKOFF_INITIAL_NS	(PORTAL_NSEC / 2)
#define PORTAL_BACKOFF_MAX_NS		(60ULL * PORTAL_NSEC)

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

enum portal_verdict {
	PORTAL_RETRY = 0,	/* hiccup: wait, then reconnect */
	PORTAL_STOP,		/* fatal, keep the token */
	PORTAL_STOP_SIGNOUT,	/* fatal, delete the token */
};

struct portal_backoff {
	bool		 joined_once;
	bool		 running;	/* within a run of failures */
	uint64_t	 start;		/* when the run began */
	uint64_t	 interval;
	uint64_t	 budget;	/* after a join; 0: no limit */
};

int	portal_external_id(const char *, char [PORTAL_EXTERNAL_ID_SIZE]);
int	portal_url_build(const char *, const struct portal_device *,
	    const uint8_t [32], struct portal_url *, const char **);
void	portal_url_free(struct portal_url *);
int	portal_user_agent(char *, size_t, bool, const char *, const char *,
	    const char *, const char *);

enum portal_verdict	portal_classify_http(int, const char *, size_t);
bool	portal_retry_after(const char *, time_t, uint64_t *);
void	portal_backoff_init(struct portal_backoff *, uint64_t);
void	portal_backoff_joined(struct portal_backoff *);
bool	portal_backoff_next(struct portal_backoff *, uint64_t, uint32_t,
	    uint64_t *);
bool	portal_reconnect_delay(struct portal_backoff *, uint64_t,
	    const char *, time_t, uint32_t, uint64_t *);

#endif
