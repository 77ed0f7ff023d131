/*
 * STUN message codec (RFC 8489) with the attributes ICE (RFC 8445) and
 * TURN (RFC 8656) use, and the first-byte demultiplexer of PROTOCOL.md 4.1.
 *
 * A parsed message points into the caller's buffer; it is valid only as
 * long as that buffer is.  stun_parse() validates every attribute it knows,
 * so the accessors below cannot meet a malformed value.
 */

#ifndef FZC_STUN_H
#define FZC_STUN_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STUN_HDR_LEN		20
#define STUN_MAGIC		0x2112A442U
#define STUN_TXID_LEN		12
#define STUN_MAX_ATTRS		32
#define STUN_MI_LEN		20	/* HMAC-SHA1 */
#define STUN_KEY_LEN		16	/* MD5 long-term key */
#define STUN_FP_XOR		0x5354554EU
#define STUN_MAX_TEXT		763	/* REALM, NONCE, SOFTWARE, reason */
#define STUN_MAX_USERNAME	513

enum stun_class {
	STUN_REQUEST = 0,
	STUN_INDICATION = 1,
	STUN_SUCCESS = 2,
	STUN_ERROR = 3
};

/* Methods (RFC 8489, RFC 8656). */
#define STUN_BINDING		0x001
#define STUN_ALLOCATE		0x003
#define STUN_REFRESH		0x004
#define STUN_SEND		0x006
#define STUN_DATA		0x007
#define STUN_CREATE_PERMISSION	0x008
#define STUN_CHANNEL_BIND	0x009

/* Attribute types; 0x0000-0x7fff are comprehension-required. */
#define STUN_A_MAPPED_ADDRESS		0x0001
#define STUN_A_USERNAME			0x0006
#define STUN_A_MESSAGE_INTEGRITY	0x0008
#define STUN_A_ERROR_CODE		0x0009
#define STUN_A_UNKNOWN_ATTRIBUTES	0x000A
#define STUN_A_CHANNEL_NUMBER		0x000C
#define STUN_A_LIFETIME			0x000D
#define STUN_A_XOR_PEER_ADDRESS		0x0012
#define STUN_A_DATA			0x0013
#define STUN_A_REALM			0x0014
#define STUN_A_NONCE			0x0015
#define STUN_A_XOR_RELAYED_ADDRESS	0x0016
#define STUN_A_REQUESTED_TRANSPORT	0x0019
#define STUN_A_XOR_MAPPED_ADDRESS	0x0020
#define STUN_A_PRIORITY			0x0024
#define STUN_A_USE_CANDIDATE		0x0025
#define STUN_A_ADDITIONAL_ADDRESS_FAMILY 0x8000
/*
 * The same attribute under the code point of the draft before RFC 8656,
 * which is the only one coturn (4.6 included) knows; Firezone's relays
 * know only RFC 8656's. Each ignores the other's (comprehension-optional).
 */
#define STUN_A_ADDITIONAL_ADDRESS_FAMILY_DRAFT 0x8032
#define STUN_A_SOFTWARE			0x8022
#define STUN_A_FINGERPRINT		0x8028
#define STUN_A_ICE_CONTROLLED		0x8029
#define STUN_A_ICE_CONTROLLING		0x802A

#define STUN_IS_REQUIRED(t)	((t) < 0x8000)

/* Address families on the wire. */
#define STUN_FAMILY_V4		0x01
#define STUN_FAMILY_V6		0x02

/* A transport address; port in host order, family AF_INET or AF_INET6. */
struct stun_addr {
	sa_family_t	family;
	uint16_t	port;
	uint8_t		ip[16];
};

struct stun_attr {
	uint16_t	 type;
	uint16_t	 len;
	const uint8_t	*val;
};

struct stun_msg {
	const uint8_t	*buf;
	size_t		 len;
	uint16_t	 method;
	enum stun_class	 class;
	uint8_t		 txid[STUN_TXID_LEN];
	struct stun_attr attrs[STUN_MAX_ATTRS];
	size_t		 nattrs;
	/* Offset of the MESSAGE-INTEGRITY attribute header, or 0. */
	size_t		 mi_off;
	bool		 has_fingerprint;
	/* Comprehension-required attributes this codec does not know. */
	uint16_t	 unknown[STUN_MAX_ATTRS];
	size_t		 nunknown;
};

struct stun_builder {
	uint8_t		*buf;
	size_t		 cap;
	size_t		 len;
	bool		 failed;
	uint8_t		 padbyte;	/* padding content, 0 unless set */
};

/* What the first bytes of a datagram on the shared socket are. */
enum stun_kind {
	STUN_KIND_STUN,
	STUN_KIND_CHANNELDATA,
	STUN_KIND_OTHER		/* WireGuard, or garbage */
};

enum stun_kind	 stun_classify(const uint8_t *, size_t);

uint16_t	 stun_msg_type(uint16_t, enum stun_class);
int		 stun_parse(struct stun_msg *, const uint8_t *, size_t,
		    const char **);
const struct stun_attr *stun_find(const struct stun_msg *, uint16_t);
const struct stun_attr *stun_find_next(const struct stun_msg *, uint16_t,
		    const struct stun_attr *);
bool		 stun_attr_addr(const struct stun_msg *,
		    const struct stun_attr *, struct stun_addr *);
bool		 stun_get_addr(const struct stun_msg *, uint16_t,
		    struct stun_addr *);
bool		 stun_get_u32(const struct stun_msg *, uint16_t, uint32_t *);
bool		 stun_get_u64(const struct stun_msg *, uint16_t, uint64_t *);
bool		 stun_get_error(const struct stun_msg *, int *,
		    const uint8_t **, size_t *);
bool		 stun_check_integrity(const struct stun_msg *,
		    const uint8_t *, size_t);
int		 stun_long_term_key(uint8_t[STUN_KEY_LEN], const char *,
		    const char *, const char *);

void		 stun_build(struct stun_builder *, uint8_t *, size_t,
		    uint16_t, enum stun_class, const uint8_t[STUN_TXID_LEN]);
void		 stun_put(struct stun_builder *, uint16_t, const void *,
		    size_t);
void		 stun_put_str(struct stun_builder *, uint16_t, const char *);
void		 stun_put_u32(struct stun_builder *, uint16_t, uint32_t);
void		 stun_put_u64(struct stun_builder *, uint16_t, uint64_t);
void		 stun_put_addr(struct stun_builder *, uint16_t,
		    const struct stun_addr *);
void		 stun_put_error(struct stun_builder *, int, const char *);
void		 stun_put_integrity(struct stun_builder *, const uint8_t *,
		    size_t);
void		 stun_put_fingerprint(struct stun_builder *);
int		 stun_build_end(struct stun_builder *, size_t *);

bool		 stun_addr_eq(const struct stun_addr *,
		    const struct stun_addr *);

#endif /* FZC_STUN_H */
