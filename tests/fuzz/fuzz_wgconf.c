/*
 * fuzz_wgconf: wgconf_parse() on wg-quick files.  The first input byte
 * picks the error buffer (bits 0-1: 256 bytes, none, 1 byte, 17 bytes)
 * and whether the text is read from a memfd by wgconf_parse_fd() (bit 2);
 * the rest is the file.  Oracles: what was accepted is well formed, and no
 * message (error or "ignored" note) quotes a long run of the PrivateKey
 * value, since messages go to the log.
 */
#include <sys/mman.h>

#include "controld/wgconf.c"

#include "tests/fuzz/fuzz.h"

#define FILE_NAME	"fuzz.conf"
/* Longer than MAX_KEYNAME: an unknown key of 20 letters is quoted back. */
#define LEAK_RUN	(MAX_KEYNAME + 1)

static bool
is_b64(char c)
{
	return (is_alpha(c) || is_digit(c) || c == '+' || c == '/' ||
	    c == '=');
}

static bool
quotes(const char *msg, const char *v, size_t vlen)
{
	size_t	 i, j, mlen;

	if (msg == NULL || vlen < LEAK_RUN)
		return (false);
	mlen = strlen(msg);
	for (i = 0; i + LEAK_RUN <= vlen; i++) {
		for (j = 0; j < LEAK_RUN && is_b64(v[i + j]); j++)
			;
		if (j == LEAK_RUN && memmem(msg, mlen, v + i, LEAK_RUN))
			return (true);
	}
	return (false);
}

/* No message quotes a PrivateKey value of the input, as the parser sees it. */
static void
check_no_key_leak(const char *text, size_t len, const char *err,
    const struct wgconf *c)
{
	const char	*s, *e, *end = text + len, *ks, *ke, *vs, *ve, *h;
	size_t		 i;

	for (s = text; s < end; s = e + 1) {
		if ((e = memchr(s, '\n', end - s)) == NULL)
			e = end;
		ks = s;
		if ((h = memchr(s, '#', e - s)) != NULL)
			ve = h;
		else
			ve = e;
		if ((ke = memchr(s, '=', ve - s)) != NULL) {
			vs = ke + 1;
			trim(&ks, &ke);
			if (ke - ks == 10 &&
			    strncasecmp(ks, "PrivateKey", 10) == 0) {
				FUZZ_ASSERT(!quotes(err, vs, ve - vs));
				for (i = 0; c != NULL && i < c->n_ignored; i++)
					FUZZ_ASSERT(!quotes(c->ignored[i], vs,
					    ve - vs));
			}
		}
		if (e == end)
			break;
	}
}

static void
check_conf(const struct wgconf *c)
{
	const struct wgconf_peer	*p;
	const struct wgconf_prefix	*pf;
	struct wgconf_prefix		 copy;
	size_t				 i, j;

	FUZZ_ASSERT(c->has_private_key);
	FUZZ_ASSERT(c->mtu == 0 || c->mtu >= MTU_MIN_IPV4);
	FUZZ_ASSERT(!c->has_listen_port || c->listen_port != 0);
	for (i = 0; i < c->n_addresses; i++) {
		pf = &c->addresses[i];
		FUZZ_ASSERT(pf->family == AF_INET || pf->family == AF_INET6);
		FUZZ_ASSERT(pf->prefixlen <= (pf->family == AF_INET ? 32 :
		    128));
		FUZZ_ASSERT(!is_unspecified(pf));
	}
	for (i = 0; i < c->n_peers; i++) {
		p = &c->peers[i];
		FUZZ_ASSERT(p->has_endpoint == (p->endpoint_host != NULL));
		FUZZ_ASSERT(!p->has_endpoint || p->endpoint_port != 0);
		for (j = 0; j < p->n_allowed_ips; j++) {
			pf = &p->allowed_ips[j];
			FUZZ_ASSERT(pf->prefixlen <=
			    (pf->family == AF_INET ? 32 : 128));
			copy = *pf;
			clear_host_bits(&copy);
			FUZZ_ASSERT(memcmp(copy.addr, pf->addr, 16) == 0);
		}
		for (j = 0; j < i; j++)
			FUZZ_ASSERT(memcmp(c->peers[j].public_key,
			    p->public_key, WGCONF_KEY_LEN) != 0);
	}
	for (i = 0; i < c->n_ignored; i++)
		FUZZ_ASSERT(c->ignored[i] != NULL);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() == -1)
		abort();
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t	 errlens[] = { 256, 0, 1, 17 };
	struct wgconf		*c = NULL;
	char			*text, *err = NULL;
	size_t			 len, errlen;
	int			 fd, r;

	if (size < 1)
		return (0);
	len = size - 1;
	errlen = errlens[data[0] & 3];
	/* Exact sizes, so that ASan catches a read or write past either. */
	if ((text = malloc(len > 0 ? len : 1)) == NULL)
		abort();
	memcpy(text, data + 1, len);
	if (errlen > 0 && (err = malloc(errlen)) == NULL)
		abort();

	if ((data[0] & 4) && len <= 65536) {
		if ((fd = memfd_create("fuzz_wgconf", MFD_CLOEXEC)) == -1)
			abort();
		if (write(fd, text, len) != (ssize_t)len ||
		    lseek(fd, 0, SEEK_SET) != 0)
			abort();
		r = wgconf_parse_fd(fd, FILE_NAME, &c, err, errlen);
		close(fd);
	} else
		r = wgconf_parse(text, len, FILE_NAME, &c, err, errlen);

	if (err != NULL)
		FUZZ_ASSERT(memchr(err, '\0', errlen) != NULL);
	if (r == 0) {
		FUZZ_ASSERT(c != NULL);
		check_conf(c);
	} else {
		FUZZ_ASSERT(c == NULL);
		FUZZ_ASSERT(errno == EINVAL || errno == EFBIG ||
		    errno == ENOMEM);
		FUZZ_ASSERT(err == NULL || errlen < 2 || err[0] != '\0');
	}
	check_no_key_leak(text, len, err, c);
	wgconf_free(c);
	free(err);
	free(text);
	return (0);
}
