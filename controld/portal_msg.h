/*
 * Portal channel messages (PROTOCOL.md 2.2, 2.3 and 3): decoders from the
 * JSON payload of a push into validated structs, and encoders for what
 * we send, in the client role (without device pools) and in the gateway
 * role (without DNS resources).
 */

#ifndef FZC_PORTAL_MSG_H
#define FZC_PORTAL_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define PORTAL_ID_SIZE		37	/* UUID text and NUL */
#define PORTAL_KEY_LEN		32

/* Event names the client sends (v2 socket). */
#define PORTAL_EV_REQUEST_AUTHORIZATION	"request_authorization"
#define PORTAL_EV_NEW_CANDIDATES	"new_gateway_ice_candidates"
#define PORTAL_EV_INVALIDATE_CANDIDATES	\
	"invalidate_gateway_ice_candidates"
#define PORTAL_EV_NO_RELAYS		"no_relays"
#define PORTAL_EV_SNOWNET_CAPABILITIES	"set_snownet_capabilities"

/* Event names the gateway sends (section 3). */
#define PORTAL_EV_GW_AUTHORIZATION_CREATED	"authorization_created"
#define PORTAL_EV_GW_CANDIDATES		"broadcast_ice_candidates"
#define PORTAL_EV_GW_INVALIDATE_CANDIDATES	\
	"broadcast_invalidated_ice_candidates"

#define PORTAL_REF_MAX		4096	/* create_authorization's ref */

struct portal_addr {
	int		 family;	/* AF_INET or AF_INET6 */
	uint8_t		 addr[16];	/* network order */
};

struct portal_cidr {
	struct portal_addr	 addr;	/* host bits cleared */
	uint8_t			 plen;
};

struct portal_sockaddr {
	struct portal_addr	 addr;
	uint16_t		 port;
};

struct portal_interface {
	struct portal_addr	 ipv4;
	struct portal_addr	 ipv6;
	char			*search_domain;	/* NULL: none */
	struct portal_addr	*do53;
	size_t			 ndo53;
	char			**doh;		/* https URLs */
	size_t			 ndoh;
	struct portal_sockaddr	*upstream_dns;	/* legacy */
	size_t			 nupstream_dns;
};

enum portal_proto {
	PORTAL_PROTO_TCP = 1,
	PORTAL_PROTO_UDP,
	PORTAL_PROTO_ICMP,
};

struct portal_filter {
	enum portal_proto	 proto;
	uint16_t		 port_start;	/* 0 for ICMP */
	uint16_t		 port_end;
};

struct portal_site {
	char			 id[PORTAL_ID_SIZE];
	char			*name;		/* may be NULL */
};

enum portal_res_type {
	PORTAL_RES_DNS = 1,
	PORTAL_RES_CIDR,
	PORTAL_RES_INTERNET,
};

enum portal_ip_stack {
	PORTAL_STACK_DUAL = 0,
	PORTAL_STACK_IPV4_ONLY,
	PORTAL_STACK_IPV6_ONLY,
};

struct portal_resource {
	enum portal_res_type	 type;
	char			 id[PORTAL_ID_SIZE];
	char			*address;	/* dns, cidr: as sent */
	struct portal_cidr	 cidr;		/* cidr only */
	char			*name;		/* internet: NULL */
	char			*address_description;	/* or NULL */
	struct portal_filter	*filters;	/* none: all allowed */
	size_t			 nfilters;
	struct portal_site	*sites;
	size_t			 nsites;
	enum portal_ip_stack	 ip_stack;	/* dns only */
	bool			 can_be_disabled;	/* internet only */
};

enum portal_relay_type {
	PORTAL_RELAY_TURN = 1,
	PORTAL_RELAY_STUN,
};

/* One address of a relay; a dual-stack relay comes as two entries. */
struct portal_relay {
	char			 id[PORTAL_ID_SIZE];
	enum portal_relay_type	 type;
	struct portal_sockaddr	 addr;
	char			*username;	/* TURN only */
	char			*password;	/* TURN only, secret */
	int64_t			 expires_at;	/* TURN, Unix time */
};

/* A (client, resource) authorization held by the gateway. */
struct portal_access {
	char			 client_id[PORTAL_ID_SIZE];
	char			 resource_id[PORTAL_ID_SIZE];
	int64_t			 expires_at;	/* init only, else 0 */
};

struct portal_init {
	struct portal_interface	 iface;
	struct portal_resource	*resources;	/* client role */
	size_t			 nresources;
	struct portal_relay	*relays;
	size_t			 nrelays;
	/* Gateway role: the pairs still authorized, if the key was there. */
	bool			 has_authorizations;
	struct portal_access	*authorizations;
	size_t			 nauthorizations;
	char			*account_slug;	/* or NULL */
};

struct portal_relays_presence {
	char			(*disconnected)[PORTAL_ID_SIZE];
	size_t			 ndisconnected;
	struct portal_relay	*connected;
	size_t			 nconnected;
};

struct portal_ice_creds {
	char			*username;
	char			*password;	/* secret */
};

struct portal_authorization {
	char			 resource_id[PORTAL_ID_SIZE];
	char			 gateway_id[PORTAL_ID_SIZE];
	char			 site_id[PORTAL_ID_SIZE];
	uint8_t			 gateway_public_key[PORTAL_KEY_LEN];
	struct portal_addr	 gateway_ipv4;
	struct portal_addr	 gateway_ipv6;
	uint8_t			 preshared_key[PORTAL_KEY_LEN];	/* secret */
	struct portal_ice_creds	 client_ice;
	struct portal_ice_creds	 gateway_ice;
	bool			 use_iceless;
};

enum portal_authz_reason {
	PORTAL_AUTHZ_UNKNOWN = 0,
	PORTAL_AUTHZ_NOT_FOUND,
	PORTAL_AUTHZ_FORBIDDEN,
	PORTAL_AUTHZ_OFFLINE,
	PORTAL_AUTHZ_VERSION_MISMATCH,
};

/* violated_properties, as a bit set */
#define PORTAL_VIOL_REGION		0x01
#define PORTAL_VIOL_REMOTE_IP		0x02
#define PORTAL_VIOL_PROVIDER		0x04
#define PORTAL_VIOL_DATETIME		0x08
#define PORTAL_VIOL_CLIENT_VERIFIED	0x10
#define PORTAL_VIOL_UNKNOWN		0x20

struct portal_authz_failed {
	char			 resource_id[PORTAL_ID_SIZE];
	enum portal_authz_reason reason;
	uint32_t		 violated;
};

struct portal_candidates {
	char			 peer_id[PORTAL_ID_SIZE];	/* the gateway's
						   id, or the client's */
	char			**candidates;	/* SDP, unparsed */
	size_t			 ncandidates;
};

struct portal_disconnect {
	bool			 token_expired;
	char			 reason[64];	/* printable */
};

enum portal_msg_type {
	PORTAL_MSG_NONE = 0,
	PORTAL_MSG_INIT,
	PORTAL_MSG_CONFIG_CHANGED,
	PORTAL_MSG_RESOURCE_UPSERT,
	PORTAL_MSG_RESOURCE_DELETED,
	PORTAL_MSG_RELAYS_PRESENCE,
	PORTAL_MSG_AUTHZ_CREATED,
	PORTAL_MSG_AUTHZ_FAILED,
	PORTAL_MSG_CANDIDATES,
	PORTAL_MSG_INVALIDATE_CANDIDATES,
	PORTAL_MSG_DISCONNECT,
	/* gateway role */
	PORTAL_MSG_CREATE_AUTHZ,
	PORTAL_MSG_REJECT_ACCESS,
	PORTAL_MSG_RESOURCE_UPDATED,
};

/*
 * create_authorization: a client as the gateway's peer, for a resource
 * in the gateway view (cidr or internet, no sites).
 */
struct portal_gw_authorization {
	char			*ref;		/* opaque, echoed back */
	struct portal_resource	 resource;
	char			 client_id[PORTAL_ID_SIZE];
	uint8_t			 client_public_key[PORTAL_KEY_LEN];
	uint8_t			 preshared_key[PORTAL_KEY_LEN];	/* secret */
	struct portal_addr	 client_ipv4;
	struct portal_addr	 client_ipv6;
	struct portal_ice_creds	 client_ice;
	struct portal_ice_creds	 gateway_ice;
	int64_t			 expires_at;
};

/* Broken elements of a message's lists, skipped one by one. */
struct portal_skips {
	size_t			 n;
	const char		*first;		/* why the first went */
};

struct portal_msg {
	enum portal_msg_type	 type;
	struct portal_skips	 skips;
	union {
		struct portal_init		 init;
		/* config_changed */
		struct portal_interface		 iface;
		struct portal_resource		 resource;
		char			 resource_id[PORTAL_ID_SIZE];
		struct portal_relays_presence	 relays;
		struct portal_authorization	 authz;
		struct portal_authz_failed	 authz_failed;
		struct portal_candidates	 candidates;
		struct portal_disconnect	 disconnect;
		struct portal_gw_authorization	 gw_authz;
		struct portal_access		 access;
	} u;
};

int	 portal_msg_decode(const char *, json_t *, struct portal_msg *,
	    const char **);
int	 portal_msg_decode_gateway(const char *, json_t *,
	    struct portal_msg *, const char **);
void	 portal_msg_free(struct portal_msg *);
void	 portal_msg_interface_free(struct portal_interface *);
void	 portal_msg_resource_free(struct portal_resource *);
void	 portal_msg_relay_free(struct portal_relay *);
void	 portal_msg_init_free(struct portal_init *);
void	 portal_msg_relays_presence_free(struct portal_relays_presence *);
void	 portal_msg_authorization_free(struct portal_authorization *);
void	 portal_msg_candidates_free(struct portal_candidates *);
void	 portal_msg_gw_authorization_free(struct portal_gw_authorization *);
size_t	 portal_msg_filters_merge(struct portal_filter *, size_t);

json_t	*portal_msg_request_authorization(const char *,
	    const char *const *, size_t);
json_t	*portal_msg_gateway_candidates(const char *, const char *const *,
	    size_t);
json_t	*portal_msg_client_candidates(const char *const *, size_t,
	    const char *const *, size_t);
json_t	*portal_msg_authorization_created(const char *);
json_t	*portal_msg_no_relays(void);
json_t	*portal_msg_snownet_capabilities(void);

bool	 portal_msg_uuid(const char *, char [PORTAL_ID_SIZE]);
void	 portal_msg_json_wipe(void);

#endif
