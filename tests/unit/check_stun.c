/*
 * STUN codec tests: the RFC 5769 vectors parsed, verified and rebuilt byte
 * for byte, and malformed messages rejected for the right reason.
 */

#include <netinet/in.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tunneld/nat/stun.h"
#include "tests/unit/check_main.h"

/* RFC 5769 2.1: sample request, short-term credential. */
static const char *rfc_request =
    "00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
    "80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74"
    "00 24 00 04 6e 00 01 ff"
    "80 29 00 08 93 2f f9 b1 51 26 3b 36"
    "00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20"
    "00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49"
    "            c1 b5 71 a2"
    "80 28 00 04 e5 7a 3b cf";

/* RFC 5769 2.2: sample IPv4 response. */
static const char *rfc_v4_response =
    "01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
    "80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20"
    "00 20 00 08 00 01 a1 47 e1 12 a6 43"
    "00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53"
    "            f0 6b e7 d7"
    "80 28 00 04 c0 7d 4c 96";

/* RFC 5769 2.3: sample IPv6 response. */
static const char *rfc_v6_response =
    "01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
    "80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20"
    "00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5"
    "            be d2 b9 d9"
    "00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75"
    "            bf e3 ed 41"
    "80 28 00 04 c8 fb 0b 4c";

/* RFC 5769 2.4: request with long-term authentication. */
static const char *rfc_long_term =
    "00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e"
    "00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3"
    "            82 b9 00 00"
    "00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34"
    "            6f 4c 39 46 53 54 76 79 36 34 73 41"
    "00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00"
    "00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2"
    "            8c a8 96 66";

static const char *short_term_pw = "VOkJxbRl1RmTxUk/WvJxBt";
/* "マトリックス" in UTF-8; the password is the SASLprep'd form. */
static const char *lt_user = "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa"
    "\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9";
static const char *lt_pass = "TheMatrIX";
static const char *lt_realm = "example.org";
static const char *lt_nonce = "f//499k954d6OL34oL9FSTvy64sA";

static const uint8_t rfc_txid[STUN_TXID_LEN] = {
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae
};

static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t		n = 0;
	unsigned int	v;

	while (*s != '\0') {
		if (*s == ' ') {
			s++;
			continue;
		}
		ck_assert_int_eq(sscanf(s, "%2x", &v), 1);
		ck_assert_uint_lt(n, cap);
		out[n++] = v;
		s += 2;
	}
	return (n);
}

static void
check_text(const struct stun_msg *m, uint16_t type, const char *want)
{
	const struct stun_attr	*a;

	a = stun_find(m, type);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(a->len, strlen(want));
	ck_assert_mem_eq(a->val, want, a->len);
}

static void
parse_ok(struct stun_msg *m, const uint8_t *p, size_t n)
{
	const char	*why = NULL;
	int		 rv;

	rv = stun_parse(m, p, n, &why);
	ck_assert_msg(rv == 0, "parse failed: %s", why);
}

START_TEST(test_rfc5769_request)
{
	uint8_t			 in[256], out[256];
	size_t			 n, outlen;
	struct stun_msg		 m;
	struct stun_builder	 b;
	uint32_t		 prio;
	uint64_t		 tie;

	n = unhex(rfc_request, in, sizeof(in));
	ck_assert_uint_eq(n, 108);
	parse_ok(&m, in, n);
	ck_assert_uint_eq(m.method, STUN_BINDING);
	ck_assert_int_eq(m.class, STUN_REQUEST);
	ck_assert_mem_eq(m.txid, rfc_txid, STUN_TXID_LEN);
	ck_assert(m.has_fingerprint);
	ck_assert_uint_eq(m.nunknown, 0);
	check_text(&m, STUN_A_SOFTWARE, "STUN test client");
	check_text(&m, STUN_A_USERNAME, "evtj:h6vY");
	ck_assert(stun_get_u32(&m, STUN_A_PRIORITY, &prio));
	ck_assert_uint_eq(prio, 0x6e0001ff);
	ck_assert(stun_get_u64(&m, STUN_A_ICE_CONTROLLED, &tie));
	ck_assert_uint_eq(tie, 0x932ff9b151263b36ULL);
	ck_assert(!stun_get_u64(&m, STUN_A_ICE_CONTROLLING, &tie));
	ck_assert(stun_check_integrity(&m, (const uint8_t *)short_term_pw,
	    strlen(short_term_pw)));
	/* One character off. */
	ck_assert(!stun_check_integrity(&m,
	    (const uint8_t *)"VOkJxbRl1RmTxUk/WvJxBu", strlen(short_term_pw)));

	/* The RFC pads with spaces; padding content is the sender's choice. */
	stun_build(&b, out, sizeof(out), STUN_BINDING, STUN_REQUEST, rfc_txid);
	b.padbyte = 0x20;
	stun_put_str(&b, STUN_A_SOFTWARE, "STUN test client");
	stun_put_u32(&b, STUN_A_PRIORITY, 0x6e0001ff);
	stun_put_u64(&b, STUN_A_ICE_CONTROLLED, 0x932ff9b151263b36ULL);
	stun_put_str(&b, STUN_A_USERNAME, "evtj:h6vY");
	stun_put_integrity(&b, (const uint8_t *)short_term_pw,
	    strlen(short_term_pw));
	stun_put_fingerprint(&b);
	ck_assert_int_eq(stun_build_end(&b, &outlen), 0);
	ck_assert_uint_eq(outlen, n);
	ck_assert_mem_eq(out, in, n);
}
END_TEST

static void
check_response(const char *hex, size_t want_len, const struct stun_addr *want)
{
	uint8_t			 in[256], out[256];
	size_t			 n, outlen;
	struct stun_msg		 m;
	struct stun_builder	 b;
	struct stun_addr	 got;

	n = unhex(hex, in, sizeof(in));
	ck_assert_uint_eq(n, want_len);
	parse_ok(&m, in, n);
	ck_assert_uint_eq(m.method, STUN_BINDING);
	ck_assert_int_eq(m.class, STUN_SUCCESS);
	ck_assert(m.has_fingerprint);
	check_text(&m, STUN_A_SOFTWARE, "test vector");
	ck_assert(stun_get_addr(&m, STUN_A_XOR_MAPPED_ADDRESS, &got));
	ck_assert(stun_addr_eq(&got, want));
	ck_assert(!stun_get_addr(&m, STUN_A_MAPPED_ADDRESS, &got));
	ck_assert(stun_check_integrity(&m, (const uint8_t *)short_term_pw,
	    strlen(short_term_pw)));
	ck_assert(!stun_check_integrity(&m, (const uint8_t *)"x", 1));

	stun_build(&b, out, sizeof(out), STUN_BINDING, STUN_SUCCESS, rfc_txid);
	b.padbyte = 0x20;
	stun_put_str(&b, STUN_A_SOFTWARE, "test vector");
	stun_put_addr(&b, STUN_A_XOR_MAPPED_ADDRESS, want);
	stun_put_integrity(&b, (const uint8_t *)short_term_pw,
	    strlen(short_term_pw));
	stun_put_fingerprint(&b);
	ck_assert_int_eq(stun_build_end(&b, &outlen), 0);
	ck_assert_uint_eq(outlen, n);
	ck_assert_mem_eq(out, in, n);
}

START_TEST(test_rfc5769_v4_response)
{
	struct stun_addr	want = { .family = AF_INET, .port = 32853,
	    .ip = { 192, 0, 2, 1 } };

	check_response(rfc_v4_response, 80, &want);
}
END_TEST

START_TEST(test_rfc5769_v6_response)
{
	struct stun_addr	want = { .family = AF_INET6, .port = 32853,
	    .ip = { 0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78,
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77 } };

	check_response(rfc_v6_response, 92, &want);
}
END_TEST

START_TEST(test_rfc5769_long_term)
{
	static const uint8_t	 txid[STUN_TXID_LEN] = {
		0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72, 0xc0,
		0x29, 0xda, 0x41, 0x2e
	};
	uint8_t			 in[256], out[256], key[STUN_KEY_LEN];
	size_t			 n, outlen;
	struct stun_msg		 m;
	struct stun_builder	 b;

	n = unhex(rfc_long_term, in, sizeof(in));
	ck_assert_uint_eq(n, 116);
	parse_ok(&m, in, n);
	ck_assert_uint_eq(m.method, STUN_BINDING);
	ck_assert_int_eq(m.class, STUN_REQUEST);
	ck_assert(!m.has_fingerprint);
	check_text(&m, STUN_A_USERNAME, lt_user);
	check_text(&m, STUN_A_NONCE, lt_nonce);
	check_text(&m, STUN_A_REALM, lt_realm);

	ck_assert_int_eq(stun_long_term_key(key, lt_user, lt_realm, lt_pass),
	    0);
	ck_assert(stun_check_integrity(&m, key, sizeof(key)));
	ck_assert_int_eq(stun_long_term_key(key, lt_user, lt_realm,
	    "TheMatrix"), 0);
	ck_assert(!stun_check_integrity(&m, key, sizeof(key)));

	ck_assert_int_eq(stun_long_term_key(key, lt_user, lt_realm, lt_pass),
	    0);
	stun_build(&b, out, sizeof(out), STUN_BINDING, STUN_REQUEST, txid);
	stun_put_str(&b, STUN_A_USERNAME, lt_user);
	stun_put_str(&b, STUN_A_NONCE, lt_nonce);
	stun_put_str(&b, STUN_A_REALM, lt_realm);
	stun_put_integrity(&b, key, sizeof(key));
	ck_assert_int_eq(stun_build_end(&b, &outlen), 0);
	ck_assert_uint_eq(outlen, n);
	ck_assert_mem_eq(out, in, n);
}
END_TEST

/* Parse must fail with exactly this reason. */
static void
parse_bad(const uint8_t *p, size_t n, const char *want)
{
	struct stun_msg	 m;
	const char	*why = NULL;

	ck_assert_int_eq(stun_parse(&m, p, n, &why), -1);
	ck_assert_ptr_nonnull(why);
	ck_assert_str_eq(why, want);
	/* Nothing of the rejected message is left behind. */
	ck_assert_uint_eq(m.nattrs, 0);
	ck_assert_ptr_null(m.buf);
}

/* Recompute FINGERPRINT after tampering so that only the target check trips. */
static void
refinger(uint8_t *p, size_t n)
{
	struct stun_builder	b;
	size_t			len;

	/* The builder appends; rewind it onto the existing FINGERPRINT. */
	b.buf = p;
	b.cap = n;
	b.len = n - 8;
	b.failed = false;
	b.padbyte = 0;
	stun_put_fingerprint(&b);
	ck_assert_int_eq(stun_build_end(&b, &len), 0);
	ck_assert_uint_eq(len, n);
}

START_TEST(test_malformed)
{
	uint8_t		in[256], p[260];
	size_t		n;
	struct stun_msg	m;

	n = unhex(rfc_request, in, sizeof(in));

	parse_bad(in, STUN_HDR_LEN - 1, "truncated header");
	parse_bad(in, 0, "truncated header");

	memcpy(p, in, n);
	p[0] |= 0x40;
	parse_bad(p, n, "top bits of type not zero");

	memcpy(p, in, n);
	p[3] = 0x59;
	parse_bad(p, n, "length not a multiple of 4");

	memcpy(p, in, n);
	p[4] = 0x22;
	parse_bad(p, n, "bad magic cookie");

	parse_bad(in, n - 4, "truncated message");

	memcpy(p, in, n);
	memset(p + n, 0, 4);
	parse_bad(p, n + 4, "trailing bytes after message");

	/* SOFTWARE claims 0x60 bytes: past the end of the message. */
	memcpy(p, in, n);
	p[23] = 0x60;
	parse_bad(p, n, "attribute overruns message");

	/* One byte of the body changed: FINGERPRINT no longer matches. */
	memcpy(p, in, n);
	p[24] ^= 0x01;
	parse_bad(p, n, "bad fingerprint");
	memcpy(p, in, n);
	p[n - 1] ^= 0x01;
	parse_bad(p, n, "bad fingerprint");

	/* Body changed and FINGERPRINT recomputed: parses, integrity fails. */
	memcpy(p, in, n);
	p[24] ^= 0x01;
	refinger(p, n);
	parse_ok(&m, p, n);
	ck_assert(!stun_check_integrity(&m, (const uint8_t *)short_term_pw,
	    strlen(short_term_pw)));
	memcpy(p, in, n);
	p[n - 9] ^= 0x80;	/* last byte of the HMAC itself */
	refinger(p, n);
	parse_ok(&m, p, n);
	ck_assert(!stun_check_integrity(&m, (const uint8_t *)short_term_pw,
	    strlen(short_term_pw)));
	/* The untouched message does pass, so the two failures above count. */
	parse_ok(&m, in, n);
	ck_assert(stun_check_integrity(&m, (const uint8_t *)short_term_pw,
	    strlen(short_term_pw)));
}
END_TEST

START_TEST(test_attribute_order)
{
	uint8_t			 p[256];
	size_t			 n;
	struct stun_builder	 b;
	struct stun_msg		 m;
	static const uint8_t	 key[4] = { 1, 2, 3, 4 };

	stun_build(&b, p, sizeof(p), STUN_BINDING, STUN_REQUEST, rfc_txid);
	stun_put_str(&b, STUN_A_USERNAME, "a:b");
	stun_put_integrity(&b, key, sizeof(key));
	stun_put_str(&b, STUN_A_SOFTWARE, "late");
	ck_assert_int_eq(stun_build_end(&b, &n), 0);
	parse_bad(p, n, "attribute after MESSAGE-INTEGRITY");

	stun_build(&b, p, sizeof(p), STUN_BINDING, STUN_REQUEST, rfc_txid);
	stun_put_str(&b, STUN_A_USERNAME, "a:b");
	stun_put_integrity(&b, key, sizeof(key));
	stun_put_fingerprint(&b);
	ck_assert_int_eq(stun_build_end(&b, &n), 0);
	parse_ok(&m, p, n);
	ck_assert(m.has_fingerprint);
	ck_assert(stun_check_integrity(&m, key, sizeof(key)));

	stun_build(&b, p, sizeof(p), STUN_BINDING, STUN_REQUEST, rfc_txid);
	stun_put_fingerprint(&b);
	stun_put_str(&b, STUN_A_SOFTWARE, "late");
	ck_assert_int_eq(stun_build_end(&b, &n), 0);
	parse_bad(p, n, "attribute after FINGERPRINT");
}
END_TEST

START_TEST(test_bad_values)
{
	uint8_t			 p[512], v[20];
	size_t			 n, i;
	struct stun_builder	 b;

	memset(v, 0, sizeof(v));
	v[1] = 3;	/* no such family */
	stun_build(&b, p, sizeof(p), STUN_BINDING, STUN_SUCCESS, rfc_txid);
	stun_put(&b, STUN_A_XOR_MAPPED_ADDRESS, v, 8);
	ck_assert_int_eq(stun_build_end(&b, &n), 0);
	parse_bad(p, n, "bad address attribute");

	v[1] = STUN_FAMILY_V6;	/* v6 with a v4-sized value */
	stun_build(&b, p, sizeof(p), STUN_BINDING, STUN_SUCCESS, rfc_txid);
	stun_put(&b, STUN_A_MAPPED_ADDRESS, v, 8);
	ck_assert_int_eq(stun_build_end(&b, &n), 0);
	parse_bad(p, n, "bad address attribute");

	memset(v, 0, sizeof(v));
	v[2] = 7;	/* error class 7 */
	stun_build(&b, p, sizeof(p), STUN_ALLOCATE, STUN_ERROR, rfc_txid);
	stun_put(&b, STUN_A_ERROR_CODE, v, 4);
	ck_assert_int_eq(stun_build_end(&b, &n), 0);
	parse_bad(p, n, "bad ERROR-CODE value");

	stun_build(&b, p, sizeof(p), STUN_ALLOCATE, STUN_SUCCESS, rfc_txid);
	stun_put(&b, STUN_A_LIFETIME, v, 3);
	ck_assert_int_eq(stun_build_end(&b, &n), 0);
	parse_bad(p, n, "bad 32-bit attribute length");

	stun_build(&b, p, sizeof(p), STUN_BINDING, STUN_REQUEST, rfc_txid);
	stun_put(&b, STUN_A_MESSAGE_INTEGRITY, v, 16);
	ck_assert_int_eq(stun_build_end(&b, &n), 0);
	parse_bad(p, n, "bad MESSAGE-INTEGRITY length");

	stun_build(&b, p, sizeof(p), STUN_BINDING, STUN_REQUEST, rfc_txid);
	for (i = 0; i <= STUN_MAX_ATTRS; i++)
		stun_put(&b, STUN_A_SOFTWARE, "x", 1);
	ck_assert_int_eq(stun_build_end(&b, &n), 0);
	parse_bad(p, n, "too many attributes");
}
END_TEST

START_TEST(test_unknown_attributes)
{
	uint8_t			 p[128];
	size_t			 n;
	struct stun_builder	 b;
	struct stun_msg		 m;
	uint32_t		 lt;

	stun_build(&b, p, sizeof(p), STUN_REFRESH, STUN_SUCCESS, rfc_txid);
	stun_put(&b, 0xC001, "opt", 3);		/* optional: skipped */
	stun_put(&b, 0x0030, "req", 3);		/* required: reported */
	stun_put_u32(&b, STUN_A_LIFETIME, 600);
	ck_assert_int_eq(stun_build_end(&b, &n), 0);
	parse_ok(&m, p, n);
	ck_assert_uint_eq(m.nunknown, 1);
	ck_assert_uint_eq(m.unknown[0], 0x0030);
	ck_assert(stun_get_u32(&m, STUN_A_LIFETIME, &lt));
	ck_assert_uint_eq(lt, 600);
	ck_assert_uint_eq(m.method, STUN_REFRESH);
	ck_assert_int_eq(m.class, STUN_SUCCESS);
}
END_TEST

START_TEST(test_error_code)
{
	uint8_t			 p[128];
	size_t			 n, rlen;
	struct stun_builder	 b;
	struct stun_msg		 m;
	const uint8_t		*reason;
	int			 code;

	stun_build(&b, p, sizeof(p), STUN_ALLOCATE, STUN_ERROR, rfc_txid);
	stun_put_error(&b, 438, "Stale Nonce");
	ck_assert_int_eq(stun_build_end(&b, &n), 0);
	/* 0x0113 is the Allocate error response type of RFC 8656. */
	ck_assert_uint_eq(p[0], 0x01);
	ck_assert_uint_eq(p[1], 0x13);
	ck_assert_uint_eq(p[26], 4);
	ck_assert_uint_eq(p[27], 38);
	parse_ok(&m, p, n);
	ck_assert_uint_eq(m.method, STUN_ALLOCATE);
	ck_assert_int_eq(m.class, STUN_ERROR);
	ck_assert(stun_get_error(&m, &code, &reason, &rlen));
	ck_assert_int_eq(code, 438);
	ck_assert_uint_eq(rlen, 11);
	ck_assert_mem_eq(reason, "Stale Nonce", 11);

	stun_build(&b, p, sizeof(p), STUN_ALLOCATE, STUN_ERROR, rfc_txid);
	stun_put_error(&b, 200, "no");
	ck_assert_int_eq(stun_build_end(&b, &n), -1);
}
END_TEST

START_TEST(test_msg_type)
{
	ck_assert_uint_eq(stun_msg_type(STUN_BINDING, STUN_REQUEST), 0x0001);
	ck_assert_uint_eq(stun_msg_type(STUN_BINDING, STUN_SUCCESS), 0x0101);
	ck_assert_uint_eq(stun_msg_type(STUN_BINDING, STUN_ERROR), 0x0111);
	ck_assert_uint_eq(stun_msg_type(STUN_DATA, STUN_INDICATION), 0x0017);
	ck_assert_uint_eq(stun_msg_type(STUN_CHANNEL_BIND, STUN_SUCCESS),
	    0x0109);
	ck_assert_uint_eq(stun_msg_type(0xfff, STUN_ERROR), 0x3fff);
}
END_TEST

START_TEST(test_builder_overflow)
{
	uint8_t			p[64], data[40];
	size_t			n = 12345;
	struct stun_builder	b;

	memset(data, 0xaa, sizeof(data));
	stun_build(&b, p, sizeof(p), STUN_BINDING, STUN_REQUEST, rfc_txid);
	stun_put(&b, STUN_A_DATA, data, sizeof(data));	/* 20 + 44: fits */
	ck_assert_int_eq(stun_build_end(&b, &n), 0);
	ck_assert_uint_eq(n, 64);
	stun_put_fingerprint(&b);		/* no room left */
	ck_assert_int_eq(stun_build_end(&b, &n), -1);
	ck_assert_uint_eq(n, 64);

	stun_build(&b, p, STUN_HDR_LEN - 1, STUN_BINDING, STUN_REQUEST,
	    rfc_txid);
	ck_assert_int_eq(stun_build_end(&b, &n), -1);
}
END_TEST

START_TEST(test_classify)
{
	uint8_t	in[256], wg[148];
	size_t	n;

	n = unhex(rfc_request, in, sizeof(in));
	ck_assert_int_eq(stun_classify(in, n), STUN_KIND_STUN);
	/* Wrong length field: not taken for STUN. */
	ck_assert_int_eq(stun_classify(in, n - 4), STUN_KIND_OTHER);
	in[5] ^= 1;
	ck_assert_int_eq(stun_classify(in, n), STUN_KIND_OTHER);

	memset(wg, 0, sizeof(wg));
	wg[0] = 1;	/* WireGuard handshake initiation */
	ck_assert_int_eq(stun_classify(wg, sizeof(wg)), STUN_KIND_OTHER);
	wg[0] = 64;
	ck_assert_int_eq(stun_classify(wg, 4), STUN_KIND_CHANNELDATA);
	wg[0] = 79;
	ck_assert_int_eq(stun_classify(wg, 8), STUN_KIND_CHANNELDATA);
	ck_assert_int_eq(stun_classify(wg, 3), STUN_KIND_OTHER);
	wg[0] = 80;
	ck_assert_int_eq(stun_classify(wg, 8), STUN_KIND_OTHER);
	wg[0] = 63;
	ck_assert_int_eq(stun_classify(wg, 8), STUN_KIND_OTHER);
}
END_TEST

static Suite *
stun_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("stun");
	tc = tcase_create("rfc5769");
	tcase_add_test(tc, test_rfc5769_request);
	tcase_add_test(tc, test_rfc5769_v4_response);
	tcase_add_test(tc, test_rfc5769_v6_response);
	tcase_add_test(tc, test_rfc5769_long_term);
	suite_add_tcase(s, tc);
	tc = tcase_create("malformed");
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_attribute_order);
	tcase_add_test(tc, test_bad_values);
	suite_add_tcase(s, tc);
	tc = tcase_create("codec");
	tcase_add_test(tc, test_unknown_attributes);
	tcase_add_test(tc, test_error_code);
	tcase_add_test(tc, test_msg_type);
	tcase_add_test(tc, test_builder_overflow);
	tcase_add_test(tc, test_classify);
	suite_add_tcase(s, tc);
	return (s);
}

const struct check_main check_main = {
	.suites = { stun_suite },
};
