/*
 * fuzz_stun: stun_classify() and stun_parse() on raw datagrams, then every
 * accessor on what parsed, MESSAGE-INTEGRITY with a short-term and a
 * long-term key, FINGERPRINT, and a rebuild through the builder.  The
 * first input byte asks the harness to repair the header (bit 0) and to
 * reseal MESSAGE-INTEGRITY and FINGERPRINT with the short-term (bit 1) or
 * long-term key (bit 2), so that the fuzzer gets past the HMAC and CRC;
 * the rest is the datagram.
 */
#include "tunneld/nat/stun.c"

#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/stun_fixup.h"

/* The RFC 5769 credentials, so that the seed vectors verify. */
static const char	 short_pw[] = "VOkJxbRl1RmTxUk/WvJxBt";
static uint8_t		 lt_key[STUN_KEY_LEN];

static void
check_attrs(const struct stun_msg *m)
{
	const struct stun_attr	*a, *f;
	struct stun_addr	 addr, addr2;
	const uint8_t		*reason;
	size_t			 i, k, n, reasonlen;
	uint64_t		 u64;
	uint32_t		 u32;
	int			 code;

	FUZZ_ASSERT(m->nattrs <= STUN_MAX_ATTRS);
	FUZZ_ASSERT(m->nunknown <= m->nattrs);
	for (i = 0; i < m->nattrs; i++) {
		a = &m->attrs[i];
		/* Every value lies inside the message. */
		FUZZ_ASSERT(a->val >= m->buf + STUN_HDR_LEN + 4);
		FUZZ_ASSERT(a->val + a->len <= m->buf + m->len);
		if (stun_attr_addr(m, a, &addr)) {
			FUZZ_ASSERT(addr.family == AF_INET ||
			    addr.family == AF_INET6);
			FUZZ_ASSERT(stun_addr_eq(&addr, &addr));
		}
		/* stun_find_next() visits each attribute of a type once. */
		n = 0;
		for (f = stun_find(m, a->type); f != NULL;
		    f = stun_find_next(m, a->type, f))
			n++;
		for (k = 0; k < m->nattrs; k++)
			n -= m->attrs[k].type == a->type;
		FUZZ_ASSERT(n == 0);
	}
	for (i = 0; i < m->nunknown; i++)
		FUZZ_ASSERT(STUN_IS_REQUIRED(m->unknown[i]) &&
		    !known_required(m->unknown[i]));
	(void)stun_get_addr(m, STUN_A_XOR_MAPPED_ADDRESS, &addr);
	(void)stun_get_addr(m, STUN_A_MAPPED_ADDRESS, &addr2);
	(void)stun_get_u32(m, STUN_A_LIFETIME, &u32);
	(void)stun_get_u32(m, STUN_A_PRIORITY, &u32);
	(void)stun_get_u64(m, STUN_A_ICE_CONTROLLING, &u64);
	(void)stun_get_u64(m, STUN_A_ICE_CONTROLLED, &u64);
	if (stun_get_error(m, &code, &reason, &reasonlen)) {
		FUZZ_ASSERT(code >= 300 && code <= 699);
		FUZZ_ASSERT(reasonlen <= STUN_MAX_TEXT);
		FUZZ_ASSERT(reason + reasonlen <= m->buf + m->len);
	}
}

/* Rebuild the message attribute by attribute; it must parse the same. */
static void
check_rebuild(const struct stun_msg *m)
{
	struct stun_builder	 b;
	struct stun_msg		 m2;
	const struct stun_attr	*a;
	const char		*why;
	uint8_t			*buf;
	size_t			 i, len;

	if ((buf = malloc(m->len)) == NULL)
		abort();
	stun_build(&b, buf, m->len, m->method, m->class, m->txid);
	for (i = 0; i < m->nattrs; i++) {
		a = &m->attrs[i];
		if (a->type == STUN_A_FINGERPRINT)
			stun_put_fingerprint(&b);
		else
			stun_put(&b, a->type, a->val, a->len);
	}
	FUZZ_ASSERT(stun_build_end(&b, &len) == 0);
	FUZZ_ASSERT(len == m->len);
	FUZZ_ASSERT(stun_classify(buf, len) == STUN_KIND_STUN);
	FUZZ_ASSERT(stun_parse(&m2, buf, len, &why) == 0);
	FUZZ_ASSERT(m2.method == m->method && m2.class == m->class);
	FUZZ_ASSERT(memcmp(m2.txid, m->txid, STUN_TXID_LEN) == 0);
	FUZZ_ASSERT(m2.nattrs == m->nattrs && m2.mi_off == m->mi_off &&
	    m2.has_fingerprint == m->has_fingerprint &&
	    m2.nunknown == m->nunknown);
	for (i = 0; i < m->nattrs; i++) {
		FUZZ_ASSERT(m2.attrs[i].type == m->attrs[i].type);
		FUZZ_ASSERT(m2.attrs[i].len == m->attrs[i].len);
		if (m->attrs[i].type != STUN_A_FINGERPRINT)
			FUZZ_ASSERT(memcmp(m2.attrs[i].val, m->attrs[i].val,
			    m->attrs[i].len) == 0);
	}
	free(buf);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* RFC 5769 2.4 */
	if (stun_long_term_key(lt_key, "\xe3\x83\x9e\xe3\x83\x88\xe3\x83"
	    "\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9", "example.org",
	    "TheMatrIX") == -1)
		abort();
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stun_msg	 m;
	enum stun_kind	 kind;
	const char	*why = NULL;
	uint8_t		*p, ctl;
	size_t		 len;
	bool		 ok_short, ok_long;

	if (size < 1)
		return (0);
	ctl = data[0];
	len = size - 1;
	if ((p = malloc(len > 0 ? len : 1)) == NULL)
		abort();
	memcpy(p, data + 1, len);
	if (ctl & 1)
		stun_fix_header(p, len);
	if (ctl & 2)
		stun_fix_integrity(p, len, (const uint8_t *)short_pw,
		    strlen(short_pw));
	else if (ctl & 4)
		stun_fix_integrity(p, len, lt_key, sizeof(lt_key));

	kind = stun_classify(p, len);
	if (stun_parse(&m, p, len, &why) == -1) {
		FUZZ_ASSERT(why != NULL);
		free(p);
		return (0);
	}
	/* What parses as STUN is never taken for ChannelData or WireGuard. */
	FUZZ_ASSERT(kind == STUN_KIND_STUN);
	FUZZ_ASSERT(m.buf == p && m.len == len);
	FUZZ_ASSERT(be_get16(p) == stun_msg_type(m.method, m.class));
	check_attrs(&m);

	ok_short = stun_check_integrity(&m, (const uint8_t *)short_pw,
	    strlen(short_pw));
	ok_long = stun_check_integrity(&m, lt_key, sizeof(lt_key));
	if (m.mi_off == 0)
		FUZZ_ASSERT(!ok_short && !ok_long);
	else if (ctl & 2)
		FUZZ_ASSERT(ok_short);
	else if (ctl & 4)
		FUZZ_ASSERT(ok_long);
	check_rebuild(&m);
	free(p);
	return (0);
}
