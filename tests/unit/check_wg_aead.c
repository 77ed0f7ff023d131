/*
 * The transport AEAD (OpenSSL) against libsodium's ChaCha20-Poly1305
 * with the same nonce: every size class from a keepalive's empty payload
 * to the largest datagram, keys changing between packets, rejections
 * that leave the message as it came, and threads of their own.
 */

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <sodium.h>

#include "tunneld/wg/aead.h"
#include "tunneld/wg/wg.h"

Suite	*wg_aead_suite(void);

/* The largest UDP payload, less the transport header and the tag. */
#define AEAD_MAX	(65507 - WG_TRANSPORT_OVERHEAD)
#define AEAD_BUF	(AEAD_MAX + WG_TAG_LEN)

static const size_t sizes[] = { 0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 129,
	255, 256, 257, 511, 512, 513, 1024, 1280, 1420, 4096, 9000, 16384,
	AEAD_MAX };

static const uint64_t counters[] = { 0, 1, 0xff, 0x100000000ULL,
	0x0807060504030201ULL, WG_REJECT_AFTER_MESSAGES - 1 };

/* libsodium's sealing, with the nonce spelled out as the paper does. */
static void
reference_seal(uint8_t *out, const uint8_t *pt, size_t len,
    const uint8_t key[WG_KEY_LEN], uint64_t counter)
{
	uint8_t			 nonce[12];
	unsigned long long	 outlen;
	int			 i, rc;

	memset(nonce, 0, 4);
	for (i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
	rc = crypto_aead_chacha20poly1305_ietf_encrypt(out, &outlen, pt, len,
	    NULL, 0, NULL, nonce, key);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(outlen, len + WG_TAG_LEN);
}

/* Seals pt both ways, checks they agree, and opens the result. */
static void
check_roundtrip(uint8_t *buf, uint8_t *ref, const uint8_t *pt, size_t len,
    const uint8_t key[WG_KEY_LEN], uint64_t counter)
{
	memcpy(buf, pt, len);
	ck_assert_int_eq(wg_aead_seal(buf, len, key, counter), WG_OK);
	reference_seal(ref, pt, len, key, counter);
	ck_assert_mem_eq(buf, ref, len + WG_TAG_LEN);
	ck_assert_int_eq(wg_aead_open(buf, len + WG_TAG_LEN, key, counter),
	    WG_OK);
	if (len > 0)
		ck_assert_mem_eq(buf, pt, len);
}

START_TEST(test_aead_matches_libsodium)
{
	uint8_t		 key[WG_KEY_LEN], *pt, *buf, *ref;
	size_t		 i, j;

	pt = malloc(AEAD_MAX);
	buf = malloc(AEAD_BUF);
	ref = malloc(AEAD_BUF);
	ck_assert_ptr_nonnull(pt);
	ck_assert_ptr_nonnull(buf);
	ck_assert_ptr_nonnull(ref);
	randombytes_buf(pt, AEAD_MAX);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (j = 0; j < sizeof(counters) / sizeof(counters[0]); j++) {
			randombytes_buf(key, sizeof(key));
			check_roundtrip(buf, ref, pt, sizes[i], key,
			    counters[j]);
		}
	free(pt);
	free(buf);
	free(ref);
}
END_TEST

/* A context keeps its key: switching back and forth must not leak one. */
START_TEST(test_aead_key_changes)
{
	uint8_t		 k1[WG_KEY_LEN], k2[WG_KEY_LEN], pt[1280];
	uint8_t		 buf[1280 + WG_TAG_LEN], ref[1280 + WG_TAG_LEN];
	int		 i;

	randombytes_buf(k1, sizeof(k1));
	randombytes_buf(k2, sizeof(k2));
	randombytes_buf(pt, sizeof(pt));
	for (i = 0; i < 8; i++) {
		check_roundtrip(buf, ref, pt, sizeof(pt), i % 3 ? k1 : k2,
		    (uint64_t)i);
		check_roundtrip(buf, ref, pt, (size_t)i * 100, i % 2 ? k1 : k2,
		    (uint64_t)i);
	}
	/* Sealed under k1, opened under k2: rejected. */
	memcpy(buf, pt, 100);
	ck_assert_int_eq(wg_aead_seal(buf, 100, k1, 5), WG_OK);
	memcpy(ref, buf, 100 + WG_TAG_LEN);
	ck_assert_int_eq(wg_aead_open(buf, 100 + WG_TAG_LEN, k2, 5),
	    WG_ERR_DECRYPT);
	ck_assert_mem_eq(buf, ref, 100 + WG_TAG_LEN);
	ck_assert_int_eq(wg_aead_open(buf, 100 + WG_TAG_LEN, k1, 5), WG_OK);
	ck_assert_mem_eq(buf, pt, 100);
}
END_TEST

/* Opens a copy of msg and expects it refused, with the copy unchanged. */
static void
reject(const uint8_t *msg, size_t len, const uint8_t key[WG_KEY_LEN],
    uint64_t counter, int error)
{
	uint8_t		*copy;

	copy = malloc(len + 1);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, msg, len);
	ck_assert_int_eq(wg_aead_open(copy, len, key, counter), error);
	ck_assert_mem_eq(copy, msg, len);
	free(copy);
}

START_TEST(test_aead_rejects)
{
	static const size_t	 lens[] = { 0, 1, 16, 1280, AEAD_MAX };
	uint8_t			 key[WG_KEY_LEN], *msg;
	size_t			 i, len, at[3];
	int			 k;

	randombytes_buf(key, sizeof(key));
	msg = malloc(AEAD_BUF);
	ck_assert_ptr_nonnull(msg);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		len = lens[i];
		randombytes_buf(msg, len);
		ck_assert_int_eq(wg_aead_seal(msg, len, key, 7), WG_OK);
		/* First and last byte of ciphertext, last byte of the tag. */
		at[0] = 0;
		at[1] = len > 0 ? len - 1 : 0;
		at[2] = len + WG_TAG_LEN - 1;
		for (k = 0; k < 3; k++) {
			msg[at[k]] ^= 0x80;
			reject(msg, len + WG_TAG_LEN, key, 7, WG_ERR_DECRYPT);
			msg[at[k]] ^= 0x80;
		}
		reject(msg, len + WG_TAG_LEN, key, 8, WG_ERR_DECRYPT);
		key[31] ^= 1;
		reject(msg, len + WG_TAG_LEN, key, 7, WG_ERR_DECRYPT);
		key[31] ^= 1;
		if (len > 0)
			reject(msg, len + WG_TAG_LEN - 1, key, 7,
			    WG_ERR_DECRYPT);
		/* After all that, the genuine message still opens. */
		ck_assert_int_eq(wg_aead_open(msg, len + WG_TAG_LEN, key, 7),
		    WG_OK);
	}
	reject(msg, WG_TAG_LEN - 1, key, 7, WG_ERR_LENGTH);
	reject(msg, 0, key, 7, WG_ERR_LENGTH);
	free(msg);
}
END_TEST

#define THREADS		4
#define PER_THREAD	200

/*
 * Workers each get contexts of their own; the sanitizer build's leak
 * check fails this test if a thread's are not freed when it exits.
 */
static void *
aead_thread(void *arg)
{
	uint8_t		 key[WG_KEY_LEN], pt[1500];
	uint8_t		 buf[1500 + WG_TAG_LEN], ref[1500 + WG_TAG_LEN];
	size_t		 len;
	int		 i;

	randombytes_buf(key, sizeof(key));
	randombytes_buf(pt, sizeof(pt));
	for (i = 0; i < PER_THREAD; i++) {
		len = (size_t)i * 7 % sizeof(pt);
		memcpy(buf, pt, len);
		if (wg_aead_seal(buf, len, key, (uint64_t)i) != WG_OK)
			return (NULL);
		reference_seal(ref, pt, len, key, (uint64_t)i);
		if (memcmp(buf, ref, len + WG_TAG_LEN) != 0)
			return (NULL);
		if (wg_aead_open(buf, len + WG_TAG_LEN, key, (uint64_t)i) != 0)
			return (NULL);
		if (memcmp(buf, pt, len) != 0)
			return (NULL);
	}
	return (arg);
}

START_TEST(test_aead_threads)
{
	pthread_t	 th[THREADS];
	void		*ret;
	int		 i, ok = 0;

	ck_assert_int_eq(wg_aead_init(), WG_OK);
	for (i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, aead_thread, &ok),
		    0);
	for (i = 0; i < THREADS; i++) {
		ck_assert_int_eq(pthread_join(th[i], &ret), 0);
		ck_assert_ptr_eq(ret, &ok);
	}
}
END_TEST

Suite *
wg_aead_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("wg_aead");
	tc = tcase_create("aead");
	tcase_add_test(tc, test_aead_matches_libsodium);
	tcase_add_test(tc, test_aead_key_changes);
	tcase_add_test(tc, test_aead_rejects);
	tcase_add_test(tc, test_aead_threads);
	suite_add_tcase(s, tc);
	return (s);
}
