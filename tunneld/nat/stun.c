/*
 * STUN message codec (RFC 8489).  Everything here reads bytes that arrive
 * from the network before any authentication, so every length is checked
 * before it is used and a message is either accepted whole or rejected.
 */

#include <netinet/in.h>

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <zlib.h>

#include "common/be.h"
#include "tunneld/nat/stun.h"

static size_t
pad4(size_t n)
{
	return ((n + 3) & ~(size_t)3);
}

static bool
is_xor_addr(uint16_t type)
{
	return (type == STUN_A_XOR_MAPPED_ADDRESS ||
	    type == STUN_A_XOR_PEER_ADDRESS ||
	    type == STUN_A_XOR_RELAYED_ADDRESS);
}

enum stun_kind
stun_classify(const uint8_t *p, size_t len)
{
	/*
	 * A WireGuard message starts with 1..4 and three zero bytes, so the
	 * top-bits test alone would not tell it from STUN; the cookie and an
	 * exact length field together make a collision practically
	 * impossible.
	 */
	if (len >= STUN_HDR_LEN && (p[0] & 0xc0) == 0 &&
	    be_get32(p + 4) == STUN_MAGIC &&
	    (size_t)be_get16(p + 2) + STUN_HDR_LEN == len)
		return (STUN_KIND_STUN);
	if (len >= 4 && p[0] >= 64 && p[0] <= 79)
		return (STUN_KIND_CHANNELDATA);
	return (STUN_KIND_OTHER);
}

uint16_t
stun_msg_type(uint16_t method, enum stun_class class)
{
	/* The class bits C1 and C0 sit between the method bits. */
	return ((method & 0x000f) | ((class & 1) << 4) |
	    ((method & 0x0070) << 1) | ((class & 2) << 7) |
	    ((method & 0x0f80) << 2));
}

static bool
known_required(uint16_t type)
{
	switch (type) {
	case STUN_A_MAPPED_ADDRESS:
	case STUN_A_USERNAME:
	case STUN_A_MESSAGE_INTEGRITY:
	case STUN_A_ERROR_CODE:
	case STUN_A_UNKNOWN_ATTRIBUTES:
	case STUN_A_CHANNEL_NUMBER:
	case STUN_A_LIFETIME:
	case STUN_A_XOR_PEER_ADDRESS:
	case STUN_A_DATA:
	case STUN_A_REALM:
	case STUN_A_NONCE:
	case STUN_A_XOR_RELAYED_ADDRESS:
	case STUN_A_REQUESTED_TRANSPORT:
	case STUN_A_XOR_MAPPED_ADDRESS:
	case STUN_A_PRIORITY:
	case STUN_A_USE_CANDIDATE:
		return (true);
	}
	return (false);
}

/* Check the value of an attribute this codec knows; NULL when it is fine. */
static const char *
check_attr(uint16_t type, const uint8_t *v, size_t len)
{
	switch (type) {
	case STUN_A_MAPPED_ADDRESS:
	case STUN_A_XOR_MAPPED_ADDRESS:
	case STUN_A_XOR_PEER_ADDRESS:
	case STUN_A_XOR_RELAYED_ADDRESS:
		if (len < 4)
			return ("short address attribute");
		if (v[1] == STUN_FAMILY_V4 && len == 8)
			return (NULL);
		if (v[1] == STUN_FAMILY_V6 && len == 20)
			return (NULL);
		return ("bad address attribute");
	case STUN_A_USERNAME:
		return (len > STUN_MAX_USERNAME ? "USERNAME too long" : NULL);
	case STUN_A_REALM:
	case STUN_A_NONCE:
	case STUN_A_SOFTWARE:
		return (len > STUN_MAX_TEXT ? "text attribute too long" :
		    NULL);
	case STUN_A_MESSAGE_INTEGRITY:
		return (len != STUN_MI_LEN ?
		    "bad MESSAGE-INTEGRITY length" : NULL);
	case STUN_A_ERROR_CODE:
		if (len < 4 || len - 4 > STUN_MAX_TEXT)
			return ("bad ERROR-CODE length");
		if ((v[2] & 7) < 3 || (v[2] & 7) > 6 || v[3] > 99)
			return ("bad ERROR-CODE value");
		return (NULL);
	case STUN_A_UNKNOWN_ATTRIBUTES:
		return (len % 2 ? "bad UNKNOWN-ATTRIBUTES length" : NULL);
	case STUN_A_CHANNEL_NUMBER:
	case STUN_A_LIFETIME:
	case STUN_A_REQUESTED_TRANSPORT:
	case STUN_A_PRIORITY:
	case STUN_A_FINGERPRINT:
		return (len != 4 ? "bad 32-bit attribute length" : NULL);
	case STUN_A_ADDITIONAL_ADDRESS_FAMILY:
		/* RFC 8656 allows only IPv6 here. */
		if (len != 4 || v[0] != STUN_FAMILY_V6)
			return ("bad ADDITIONAL-ADDRESS-FAMILY");
		return (NULL);
	case STUN_A_USE_CANDIDATE:
		return (len != 0 ? "bad USE-CANDIDATE length" : NULL);
	case STUN_A_ICE_CONTROLLED:
	case STUN_A_ICE_CONTROLLING:
		return (len != 8 ? "bad ICE role attribute length" : NULL);
	}
	return (NULL);
}

static uint32_t
fingerprint(const uint8_t *p, size_t upto)
{
	uLong crc;

	crc = crc32(0L, Z_NULL, 0);
	crc = crc32(crc, p, upto);
	return ((uint32_t)crc ^ STUN_FP_XOR);
}

/*
 * HMAC-SHA1 over p[0..upto) as if the header length field said hdrlen, the
 * value it had when the sender computed MESSAGE-INTEGRITY.  Streaming the
 * patched header first avoids copying the message.
 */
static int
hmac_sha1(const uint8_t *key, size_t keylen, const uint8_t *p, size_t upto,
    uint16_t hdrlen, uint8_t out[STUN_MI_LEN])
{
	EVP_MAC		*mac;
	EVP_MAC_CTX	*ctx = NULL;
	OSSL_PARAM	 params[2];
	uint8_t		 hdr[STUN_HDR_LEN];
	size_t		 outlen = 0;
	int		 rv = -1;

	memcpy(hdr, p, sizeof(hdr));
	be_put16(hdr + 2, hdrlen);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    "SHA1", 0);
	params[1] = OSSL_PARAM_construct_end();

	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return (-1);
	if ((ctx = EVP_MAC_CTX_new(mac)) == NULL)
		goto out;
	if (EVP_MAC_init(ctx, key, keylen, params) != 1 ||
	    EVP_MAC_update(ctx, hdr, sizeof(hdr)) != 1 ||
	    EVP_MAC_update(ctx, p + STUN_HDR_LEN, upto - STUN_HDR_LEN) != 1 ||
	    EVP_MAC_final(ctx, out, &outlen, STUN_MI_LEN) != 1 ||
	    outlen != STUN_MI_LEN)
		goto out;
	rv = 0;
 out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return (rv);
}

int
stun_parse(struct stun_msg *m, const uint8_t *p, size_t len,
    const char **why)
{
	const char	*err;
	size_t		 off, alen, mlen, fp_off = 0;
	uint16_t	 type, t;

	memset(m, 0, sizeof(*m));
	err = NULL;
	if (len < STUN_HDR_LEN) {
		err = "truncated header";
		goto bad;
	}
	if ((p[0] & 0xc0) != 0) {
		err = "top bits of type not zero";
		goto bad;
	}
	mlen = be_get16(p + 2);
	if (mlen % 4 != 0) {
		err = "length not a multiple of 4";
		goto bad;
	}
	if (be_get32(p + 4) != STUN_MAGIC) {
		err = "bad magic cookie";
		goto bad;
	}
	if (STUN_HDR_LEN + mlen > len) {
		err = "truncated message";
		goto bad;
	}
	if (STUN_HDR_LEN + mlen < len) {
		err = "trailing bytes after message";
		goto bad;
	}
	t = be_get16(p);
	m->method = (t & 0x000f) | ((t >> 1) & 0x0070) | ((t >> 2) & 0x0f80);
	m->class = ((t >> 4) & 1) | ((t >> 7) & 2);
	memcpy(m->txid, p + 8, STUN_TXID_LEN);

	for (off = STUN_HDR_LEN; off < len; off += 4 + pad4(alen)) {
		/* off stays a multiple of 4 below len, so 4 bytes remain. */
		type = be_get16(p + off);
		alen = be_get16(p + off + 2);
		if (pad4(alen) > len - off - 4) {
			err = "attribute overruns message";
			goto bad;
		}
		if (m->has_fingerprint) {
			err = "attribute after FINGERPRINT";
			goto bad;
		}
		if (m->mi_off != 0 && type != STUN_A_FINGERPRINT) {
			err = "attribute after MESSAGE-INTEGRITY";
			goto bad;
		}
		if (m->nattrs == STUN_MAX_ATTRS) {
			err = "too many attributes";
			goto bad;
		}
		if ((err = check_attr(type, p + off + 4, alen)) != NULL)
			goto bad;
		if (type == STUN_A_MESSAGE_INTEGRITY)
			m->mi_off = off;
		if (type == STUN_A_FINGERPRINT) {
			m->has_fingerprint = true;
			fp_off = off;
		}
		if (STUN_IS_REQUIRED(type) && !known_required(type))
			m->unknown[m->nunknown++] = type;
		m->attrs[m->nattrs].type = type;
		m->attrs[m->nattrs].len = alen;
		m->attrs[m->nattrs].val = p + off + 4;
		m->nattrs++;
	}
	/* FINGERPRINT is last, so the header length already covers it. */
	if (m->has_fingerprint &&
	    be_get32(p + fp_off + 4) != fingerprint(p, fp_off)) {
		err = "bad fingerprint";
		goto bad;
	}
	m->buf = p;
	m->len = len;
	return (0);
 bad:
	memset(m, 0, sizeof(*m));
	if (why != NULL)
		*why = err;
	return (-1);
}

const struct stun_attr *
stun_find_next(const struct stun_msg *m, uint16_t type,
    const struct stun_attr *prev)
{
	size_t	i;

	i = prev == NULL ? 0 : (size_t)(prev - m->attrs) + 1;
	for (; i < m->nattrs; i++)
		if (m->attrs[i].type == type)
			return (&m->attrs[i]);
	return (NULL);
}

const struct stun_attr *
stun_find(const struct stun_msg *m, uint16_t type)
{
	return (stun_find_next(m, type, NULL));
}

bool
stun_attr_addr(const struct stun_msg *m, const struct stun_attr *a,
    struct stun_addr *out)
{
	uint8_t	mask[16];
	size_t	n, i;
	bool	x;

	x = is_xor_addr(a->type);
	if (!x && a->type != STUN_A_MAPPED_ADDRESS)
		return (false);
	/* stun_parse() has checked family and length already. */
	n = a->val[1] == STUN_FAMILY_V4 ? 4 : 16;
	be_put32(mask, STUN_MAGIC);
	memcpy(mask + 4, m->txid, STUN_TXID_LEN);
	memset(out, 0, sizeof(*out));
	out->family = n == 4 ? AF_INET : AF_INET6;
	out->port = be_get16(a->val + 2) ^ (x ? STUN_MAGIC >> 16 : 0);
	for (i = 0; i < n; i++)
		out->ip[i] = a->val[4 + i] ^ (x ? mask[i] : 0);
	return (true);
}

bool
stun_get_addr(const struct stun_msg *m, uint16_t type, struct stun_addr *out)
{
	const struct stun_attr	*a;

	if ((a = stun_find(m, type)) == NULL)
		return (false);
	return (stun_attr_addr(m, a, out));
}

bool
stun_get_u32(const struct stun_msg *m, uint16_t type, uint32_t *out)
{
	const struct stun_attr	*a;

	if ((a = stun_find(m, type)) == NULL || a->len != 4)
		return (false);
	*out = be_get32(a->val);
	return (true);
}

bool
stun_get_u64(const struct stun_msg *m, uint16_t type, uint64_t *out)
{
	const struct stun_attr	*a;

	if ((a = stun_find(m, type)) == NULL || a->len != 8)
		return (false);
	*out = (uint64_t)be_get32(a->val) << 32 | be_get32(a->val + 4);
	return (true);
}

bool
stun_get_error(const struct stun_msg *m, int *code, const uint8_t **reason,
    size_t *reasonlen)
{
	const struct stun_attr	*a;

	if ((a = stun_find(m, STUN_A_ERROR_CODE)) == NULL)
		return (false);
	*code = (a->val[2] & 7) * 100 + a->val[3];
	if (reason != NULL)
		*reason = a->val + 4;
	if (reasonlen != NULL)
		*reasonlen = a->len - 4;
	return (true);
}

bool
stun_check_integrity(const struct stun_msg *m, const uint8_t *key,
    size_t keylen)
{
	uint8_t	mac[STUN_MI_LEN];

	if (m->mi_off == 0)
		return (false);
	/* The length the sender used ends right after MESSAGE-INTEGRITY. */
	if (hmac_sha1(key, keylen, m->buf, m->mi_off,
	    m->mi_off + 4 + STUN_MI_LEN - STUN_HDR_LEN, mac) == -1)
		return (false);
	return (CRYPTO_memcmp(mac, m->buf + m->mi_off + 4, STUN_MI_LEN) == 0);
}

int
stun_long_term_key(uint8_t key[STUN_KEY_LEN], const char *username,
    const char *realm, const char *password)
{
	EVP_MD_CTX	*ctx;
	unsigned int	 n = 0;
	int		 ok;

	/*
	 * RFC 8489 wants SASLprep/OpaqueString applied first; Firezone's
	 * credentials are base64 and digits, on which it is the identity.
	 */
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return (-1);
	ok = EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, username, strlen(username)) == 1 &&
	    EVP_DigestUpdate(ctx, ":", 1) == 1 &&
	    EVP_DigestUpdate(ctx, realm, strlen(realm)) == 1 &&
	    EVP_DigestUpdate(ctx, ":", 1) == 1 &&
	    EVP_DigestUpdate(ctx, password, strlen(password)) == 1 &&
	    EVP_DigestFinal_ex(ctx, key, &n) == 1 && n == STUN_KEY_LEN;
	EVP_MD_CTX_free(ctx);
	return (ok ? 0 : -1);
}

void
stun_build(struct stun_builder *b, uint8_t *buf, size_t cap,
    uint16_t method, enum stun_class class,
    const uint8_t txid[STUN_TXID_LEN])
{
	memset(b, 0, sizeof(*b));
	b->buf = buf;
	b->cap = cap;
	if (cap < STUN_HDR_LEN) {
		b->failed = true;
		return;
	}
	be_put16(buf, stun_msg_type(method, class));
	be_put16(buf + 2, 0);
	be_put32(buf + 4, STUN_MAGIC);
	memcpy(buf + 8, txid, STUN_TXID_LEN);
	b->len = STUN_HDR_LEN;
}

/* Reserve an attribute of n value bytes; NULL (and sticky) if it won't fit. */
static uint8_t *
reserve(struct stun_builder *b, uint16_t type, size_t n)
{
	uint8_t	*v;
	size_t	 total;

	if (b->failed)
		return (NULL);
	total = 4 + pad4(n);
	if (n > 0xffff || total > b->cap - b->len ||
	    b->len + total - STUN_HDR_LEN > 0xffff) {
		b->failed = true;
		return (NULL);
	}
	v = b->buf + b->len + 4;
	be_put16(v - 4, type);
	be_put16(v - 2, (uint16_t)n);
	memset(v + n, b->padbyte, pad4(n) - n);
	b->len += total;
	be_put16(b->buf + 2, (uint16_t)(b->len - STUN_HDR_LEN));
	return (v);
}

void
stun_put(struct stun_builder *b, uint16_t type, const void *val, size_t n)
{
	uint8_t	*v;

	if ((v = reserve(b, type, n)) != NULL && n > 0)
		memcpy(v, val, n);
}

void
stun_put_str(struct stun_builder *b, uint16_t type, const char *s)
{
	stun_put(b, type, s, strlen(s));
}

void
stun_put_u32(struct stun_builder *b, uint16_t type, uint32_t val)
{
	uint8_t	*v;

	if ((v = reserve(b, type, 4)) != NULL)
		be_put32(v, val);
}

void
stun_put_u64(struct stun_builder *b, uint16_t type, uint64_t val)
{
	uint8_t	*v;

	if ((v = reserve(b, type, 8)) != NULL) {
		be_put32(v, val >> 32);
		be_put32(v + 4, val & 0xffffffff);
	}
}

void
stun_put_addr(struct stun_builder *b, uint16_t type,
    const struct stun_addr *a)
{
	uint8_t	*v, mask[16];
	size_t	 n, i;
	bool	 x;

	if (a->family != AF_INET && a->family != AF_INET6) {
		b->failed = true;
		return;
	}
	n = a->family == AF_INET ? 4 : 16;
	if ((v = reserve(b, type, 4 + n)) == NULL)
		return;
	x = is_xor_addr(type);
	be_put32(mask, STUN_MAGIC);
	memcpy(mask + 4, b->buf + 8, STUN_TXID_LEN);
	v[0] = 0;
	v[1] = n == 4 ? STUN_FAMILY_V4 : STUN_FAMILY_V6;
	be_put16(v + 2, a->port ^ (x ? STUN_MAGIC >> 16 : 0));
	for (i = 0; i < n; i++)
		v[4 + i] = a->ip[i] ^ (x ? mask[i] : 0);
}

void
stun_put_error(struct stun_builder *b, int code, const char *reason)
{
	uint8_t	*v;
	size_t	 n;

	n = strlen(reason);
	if (code < 300 || code > 699 || n > STUN_MAX_TEXT) {
		b->failed = true;
		return;
	}
	if ((v = reserve(b, STUN_A_ERROR_CODE, 4 + n)) == NULL)
		return;
	v[0] = v[1] = 0;
	v[2] = code / 100;
	v[3] = code % 100;
	memcpy(v + 4, reason, n);
}

void
stun_put_integrity(struct stun_builder *b, const uint8_t *key, size_t keylen)
{
	uint8_t	mac[STUN_MI_LEN];

	if (b->failed || b->cap - b->len < 4 + STUN_MI_LEN) {
		b->failed = true;
		return;
	}
	if (hmac_sha1(key, keylen, b->buf, b->len,
	    b->len + 4 + STUN_MI_LEN - STUN_HDR_LEN, mac) == -1) {
		b->failed = true;
		return;
	}
	stun_put(b, STUN_A_MESSAGE_INTEGRITY, mac, sizeof(mac));
}

void
stun_put_fingerprint(struct stun_builder *b)
{
	uint8_t	*v;
	size_t	 upto;

	upto = b->len;
	/* reserve() sets the header length to include FINGERPRINT first. */
	if ((v = reserve(b, STUN_A_FINGERPRINT, 4)) != NULL)
		be_put32(v, fingerprint(b->buf, upto));
}

int
stun_build_end(struct stun_builder *b, size_t *len)
{
	if (b->failed)
		return (-1);
	*len = b->len;
	return (0);
}

bool
stun_addr_eq(const struct stun_addr *a, const struct stun_addr *b)
{
	if (a->family != b->family || a->port != b->port)
		return (false);
	return (memcmp(a->ip, b->ip, a->family == AF_INET ? 4 : 16) == 0);
}
