/*
 * stun_fixup.h: repairs a fuzzed STUN message so that it gets past the
 * checks a fuzzer cannot satisfy by mutation alone (length field, magic
 * cookie, HMAC, CRC).  Include after tunneld/nat/stun.c: it uses that
 * file's static helpers.
 */
#ifndef FZC_STUN_FIXUP_H
#define FZC_STUN_FIXUP_H

/* Header length matches the datagram, magic cookie, top bits clear. */
static void
stun_fix_header(uint8_t *p, size_t len)
{
	if (len < STUN_HDR_LEN)
		return;
	p[0] &= 0x3f;
	be_put16(p + 2, (uint16_t)(len - STUN_HDR_LEN));
	be_put32(p + 4, STUN_MAGIC);
}

/*
 * Recompute every MESSAGE-INTEGRITY with key and every FINGERPRINT, in
 * order, walking the attributes as the sender would have written them.
 */
static void
stun_fix_integrity(uint8_t *p, size_t len, const uint8_t *key,
    size_t keylen)
{
	uint8_t	 mac[STUN_MI_LEN];
	size_t	 off, alen;
	uint16_t type;

	if (len < STUN_HDR_LEN)
		return;
	for (off = STUN_HDR_LEN; off + 4 <= len; off += 4 + pad4(alen)) {
		type = be_get16(p + off);
		alen = be_get16(p + off + 2);
		if (alen > len - off - 4)
			return;
		if (type == STUN_A_MESSAGE_INTEGRITY && alen == STUN_MI_LEN &&
		    hmac_sha1(key, keylen, p, off,
		    (uint16_t)(off + 4 + STUN_MI_LEN - STUN_HDR_LEN), mac) == 0)
			memcpy(p + off + 4, mac, STUN_MI_LEN);
		if (type == STUN_A_FINGERPRINT && alen == 4)
			be_put32(p + off + 4, fingerprint(p, off));
	}
}

#endif /* FZC_STUN_FIXUP_H */
