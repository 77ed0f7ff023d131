/*
 * Transport data through OpenSSL's ChaCha20-Poly1305.  Its AVX2 and
 * AVX-512 code seals a 1280-byte packet about 1.6 times as fast as
 * libsodium's here, and opens in one pass where libsodium's detached API
 * takes two (verify, then decrypt).  The handshake keeps libsodium.
 *
 * Each thread gets two cipher contexts, one per direction, on its first
 * packet; they are freed when the thread exits.  A context remembers its
 * key, so the packets of a batch for one peer key it only once.
 */

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "tunneld/wg/aead.h"

#define WG_AEAD_NONCE_LEN	12

struct wg_aead_ctx {
	EVP_CIPHER_CTX	*evp;
	uint8_t		 key[WG_KEY_LEN];
	bool		 keyed;	/* key holds the context's key */
};

struct wg_aead_thread {
	struct wg_aead_ctx	 seal;
	struct wg_aead_ctx	 open;
};

static pthread_once_t	 wg_aead_once = PTHREAD_ONCE_INIT;
static pthread_key_t	 wg_aead_key;
static EVP_CIPHER	*wg_aead_cipher;
static _Thread_local struct wg_aead_thread *wg_aead_self;

static void
wg_aead_ctx_free(struct wg_aead_ctx *c)
{
	EVP_CIPHER_CTX_free(c->evp);
	OPENSSL_cleanse(c->key, sizeof(c->key));
}

/* The key's destructor: a thread's contexts, when it exits. */
static void
wg_aead_thread_free(void *arg)
{
	struct wg_aead_thread	*t = arg;

	wg_aead_ctx_free(&t->seal);
	wg_aead_ctx_free(&t->open);
	free(t);
	wg_aead_self = NULL;
}

/* Key destructors do not run for the thread that calls exit(). */
static void
wg_aead_exit(void)
{
	if (wg_aead_self != NULL) {
		pthread_setspecific(wg_aead_key, NULL);
		wg_aead_thread_free(wg_aead_self);
	}
	EVP_CIPHER_free(wg_aead_cipher);
	wg_aead_cipher = NULL;
}

static void
wg_aead_setup(void)
{
	/*
	 * Without openssl.cnf: nothing is read from the file system later,
	 * in a sandbox, and no system setting can change the cipher.  This
	 * registers OpenSSL's exit handler before ours, which so runs first.
	 */
	if (OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL) != 1 ||
	    pthread_key_create(&wg_aead_key, wg_aead_thread_free) != 0)
		return;
	wg_aead_cipher = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	if (wg_aead_cipher != NULL && atexit(wg_aead_exit) != 0) {
		EVP_CIPHER_free(wg_aead_cipher);
		wg_aead_cipher = NULL;
	}
}

/*
 * Loads the cipher.  Threads would do it on their first packet; calling
 * it before any starts keeps OpenSSL's start-up (getrandom, allocations)
 * out of the data path and ahead of a sandbox.
 */
int
wg_aead_init(void)
{
	if (pthread_once(&wg_aead_once, wg_aead_setup) != 0 ||
	    wg_aead_cipher == NULL)
		return (WG_ERR_CRYPTO);
	return (WG_OK);
}

static struct wg_aead_thread *
wg_aead_thread(void)
{
	struct wg_aead_thread	*t;

	if (wg_aead_self != NULL)
		return (wg_aead_self);
	if (wg_aead_init() != WG_OK || (t = calloc(1, sizeof(*t))) == NULL)
		return (NULL);
	if ((t->seal.evp = EVP_CIPHER_CTX_new()) == NULL ||
	    (t->open.evp = EVP_CIPHER_CTX_new()) == NULL ||
	    pthread_setspecific(wg_aead_key, t) != 0) {
		wg_aead_thread_free(t);
		return (NULL);
	}
	wg_aead_self = t;
	return (t);
}

/* Sets direction and nonce, and the key if it is not the one in use. */
static int
wg_aead_start(struct wg_aead_ctx *c, int enc, const uint8_t key[WG_KEY_LEN],
    uint64_t counter)
{
	uint8_t			 nonce[WG_AEAD_NONCE_LEN];
	const uint8_t		*newkey = NULL;
	const EVP_CIPHER	*cipher;

	memset(nonce, 0, 4);
	wg_put_le64(nonce + 4, counter);
	if (!c->keyed || CRYPTO_memcmp(c->key, key, WG_KEY_LEN) != 0)
		newkey = key;
	cipher = c->keyed ? NULL : wg_aead_cipher;
	if (EVP_CipherInit_ex2(c->evp, cipher, newkey, nonce, enc, NULL) != 1) {
		c->keyed = false;
		return (WG_ERR_CRYPTO);
	}
	if (newkey != NULL) {
		memcpy(c->key, key, WG_KEY_LEN);
		c->keyed = true;
	}
	return (WG_OK);
}

/* Encrypts len bytes at buf in place and writes the tag behind them. */
int
wg_aead_seal(uint8_t *buf, size_t len, const uint8_t key[WG_KEY_LEN],
    uint64_t counter)
{
	struct wg_aead_thread	*t;
	EVP_CIPHER_CTX		*evp;
	int			 outl;

	if (len > INT_MAX)
		return (WG_ERR_LENGTH);
	if ((t = wg_aead_thread()) == NULL ||
	    wg_aead_start(&t->seal, 1, key, counter) != WG_OK)
		return (WG_ERR_CRYPTO);
	evp = t->seal.evp;
	if ((len > 0 &&
	    EVP_CipherUpdate(evp, buf, &outl, buf, (int)len) != 1) ||
	    EVP_CipherFinal_ex(evp, buf + len, &outl) != 1 ||
	    EVP_CIPHER_CTX_ctrl(evp, EVP_CTRL_AEAD_GET_TAG, WG_TAG_LEN,
	    buf + len) != 1)
		return (WG_ERR_CRYPTO);
	return (WG_OK);
}

/*
 * Authenticates and decrypts len bytes at buf (the tag included) in
 * place.  OpenSSL decrypts before it checks the tag, so on a mismatch the
 * keystream is applied once more: a rejected message stays as it came.
 */
int
wg_aead_open(uint8_t *buf, size_t len, const uint8_t key[WG_KEY_LEN],
    uint64_t counter)
{
	struct wg_aead_thread	*t;
	EVP_CIPHER_CTX		*evp;
	size_t			 ptlen;
	int			 outl;

	if (len < WG_TAG_LEN || len - WG_TAG_LEN > INT_MAX)
		return (WG_ERR_LENGTH);
	ptlen = len - WG_TAG_LEN;
	if ((t = wg_aead_thread()) == NULL ||
	    wg_aead_start(&t->open, 0, key, counter) != WG_OK)
		return (WG_ERR_CRYPTO);
	evp = t->open.evp;
	if (EVP_CIPHER_CTX_ctrl(evp, EVP_CTRL_AEAD_SET_TAG, WG_TAG_LEN,
	    buf + ptlen) != 1)
		return (WG_ERR_CRYPTO);
	if (ptlen > 0 &&
	    EVP_CipherUpdate(evp, buf, &outl, buf, (int)ptlen) != 1)
		return (WG_ERR_CRYPTO);
	if (EVP_CipherFinal_ex(evp, buf + ptlen, &outl) == 1)
		return (WG_OK);
	if (ptlen > 0 &&
	    (wg_aead_start(&t->open, 1, key, counter) != WG_OK ||
	    EVP_CipherUpdate(evp, buf, &outl, buf, (int)ptlen) != 1))
		return (WG_ERR_CRYPTO);
	return (WG_ERR_DECRYPT);
}
