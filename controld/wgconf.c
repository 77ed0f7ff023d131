/*
 * wg-quick style configuration files, parsed strictly.  Lines are read in
 * place; a value is copied to the stack only to be NUL-terminated, and
 * the copy is wiped before the next line because it may be a key.
 * Messages name the key and line but never quote a value.
 */

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sodium.h>

#include "controld/wgconf.h"

#define KEY_B64_LEN	(sodium_base64_ENCODED_LEN(WGCONF_KEY_LEN, \
			    sodium_base64_VARIANT_ORIGINAL) - 1)
#define MAX_KEYNAME	20	/* longest unknown key name quoted back */
#define MTU_MIN_IPV4	576	/* RFC 791 */
#define MTU_MIN_IPV6	1280	/* RFC 8200 */
#define READ_CHUNK	16384

enum section {
	SEC_NONE,
	SEC_IFACE,
	SEC_PEER,
};

enum key {
	K_PRIVATEKEY,
	K_LISTENPORT,
	K_MTU,
	K_ADDRESS,
	K_PUBLICKEY,
	K_PRESHAREDKEY,
	K_ENDPOINT,
	K_ALLOWEDIPS,
	K_KEEPALIVE,
};

static const struct keydef {
	const char	*name;
	enum section	 sec;
	bool		 repeat;	/* may appear more than once */
	bool		 ignored;	/* wg-quick only: noted, not used */
} keys[] = {
	[K_PRIVATEKEY] = { "PrivateKey", SEC_IFACE, false, false },
	[K_LISTENPORT] = { "ListenPort", SEC_IFACE, false, false },
	[K_MTU] = { "MTU", SEC_IFACE, false, false },
	[K_ADDRESS] = { "Address", SEC_IFACE, true, false },
	[K_PUBLICKEY] = { "PublicKey", SEC_PEER, false, false },
	[K_PRESHAREDKEY] = { "PresharedKey", SEC_PEER, false, false },
	[K_ENDPOINT] = { "Endpoint", SEC_PEER, false, false },
	[K_ALLOWEDIPS] = { "AllowedIPs", SEC_PEER, true, false },
	[K_KEEPALIVE] = { "PersistentKeepalive", SEC_PEER, false, false },
	{ "DNS", SEC_IFACE, true, true },
	{ "Table", SEC_IFACE, true, true },
	{ "PreUp", SEC_IFACE, true, true },
	{ "PostUp", SEC_IFACE, true, true },
	{ "PreDown", SEC_IFACE, true, true },
	{ "PostDown", SEC_IFACE, true, true },
	{ "SaveConfig", SEC_IFACE, true, true },
	{ "FwMark", SEC_IFACE, true, true },
};
#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

struct parser {
	const char	*file;
	char		*err;
	size_t		 errlen;
	struct wgconf	*conf;
	enum section	 sec;
	unsigned	 line;
	unsigned	 sec_line;	/* header of the current section */
	unsigned	 iface_line;
	unsigned	 seen[NKEYS];	/* line of each key in this section */
	size_t		 cap_addresses;
	size_t		 cap_peers;
	size_t		 cap_allowed;	/* of the last peer */
	size_t		 cap_ignored;
};

static int __attribute__((format(printf, 3, 4)))
fail(struct parser *p, unsigned line, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (p->errlen == 0)
		return (-EINVAL);
	n = snprintf(p->err, p->errlen, "%s:%u: ", p->file, line);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - n, fmt, ap);
		va_end(ap);
	}
	return (-EINVAL);
}

static int
nomem(struct parser *p)
{
	if (p->errlen > 0)
		snprintf(p->err, p->errlen, "%s: out of memory", p->file);
	return (-ENOMEM);
}

/*
 * Room for element n.  With wipe the old block is copied and wiped by
 * hand instead of realloc'd, which could leave keys in freed memory.
 */
static void *
grow(void *arr, size_t *cap, size_t n, size_t size, bool wipe)
{
	void	*new;
	size_t	 ncap;

	if (n < *cap)
		return (arr);
	ncap = *cap == 0 ? 4 : *cap * 2;
	if (wipe) {
		if ((new = calloc(ncap, size)) == NULL)
			return (NULL);
		if (arr != NULL) {
			memcpy(new, arr, *cap * size);
			explicit_bzero(arr, *cap * size);
			free(arr);
		}
	} else {
		if ((new = reallocarray(arr, ncap, size)) == NULL)
			return (NULL);
		memset((char *)new + *cap * size, 0, (ncap - *cap) * size);
	}
	*cap = ncap;
	return (new);
}

static void
trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

static bool
is_digit(char c)
{
	return (c >= '0' && c <= '9');
}

static bool
is_alpha(char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}

/* Decimal digits only: no sign, space, leading zero or trailing text. */
static bool
parse_num(const char *s, unsigned min, unsigned max, unsigned *out)
{
	unsigned long	 v = 0;
	size_t		 i;

	if (s[0] == '0' && s[1] != '\0')
		return (false);
	for (i = 0; s[i] != '\0'; i++) {
		if (!is_digit(s[i]) || i >= 5)
			return (false);
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (i == 0 || v < min || v > max)
		return (false);
	*out = (unsigned)v;
	return (true);
}

static bool
parse_u16(const char *s, unsigned min, uint16_t *out)
{
	unsigned	 v;

	if (!parse_num(s, min, UINT16_MAX, &v))
		return (false);
	*out = (uint16_t)v;
	return (true);
}

/*
 * Constant-time decode; the bytes must then encode back to the same 44
 * characters, so that a key has one spelling whatever the decoder lets
 * through (libsodium 1.0.18 already refuses non-zero padding bits).
 */
static bool
parse_key(const char *s, size_t len, uint8_t key[WGCONF_KEY_LEN])
{
	char	 enc[KEY_B64_LEN + 1];
	size_t	 n;
	bool	 ok;

	if (len != KEY_B64_LEN)
		return (false);
	/* No end pointer: the decoder then fails on any byte left over. */
	ok = sodium_base642bin(key, WGCONF_KEY_LEN, s, len, NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL) == 0 && n == WGCONF_KEY_LEN;
	if (ok) {
		sodium_bin2base64(enc, sizeof(enc), key, WGCONF_KEY_LEN,
		    sodium_base64_VARIANT_ORIGINAL);
		ok = sodium_memcmp(enc, s, KEY_B64_LEN) == 0;
		explicit_bzero(enc, sizeof(enc));
	}
	if (!ok)
		explicit_bzero(key, WGCONF_KEY_LEN);
	return (ok);
}

/* "addr" or "addr/len"; inet_pton refuses shorthand such as "10.1". */
static bool
parse_prefix(const char *item, size_t len, struct wgconf_prefix *pf)
{
	char		 s[INET6_ADDRSTRLEN + sizeof("/128")], *slash;
	unsigned	 max, plen;

	memset(pf, 0, sizeof(*pf));
	if (len >= sizeof(s))
		return (false);
	memcpy(s, item, len);
	s[len] = '\0';
	if ((slash = strchr(s, '/')) != NULL)
		*slash = '\0';
	if (strchr(s, ':') != NULL) {
		pf->family = AF_INET6;
		max = 128;
	} else {
		pf->family = AF_INET;
		max = 32;
	}
	if (inet_pton(pf->family, s, pf->addr) != 1)
		return (false);
	if (slash == NULL)
		plen = max;
	else if (!parse_num(slash + 1, 0, max, &plen))
		return (false);
	pf->prefixlen = (uint8_t)plen;
	return (true);
}

static void
clear_host_bits(struct wgconf_prefix *pf)
{
	unsigned	 i, n, bit;

	n = pf->family == AF_INET ? 4 : 16;
	for (i = 0; i < n; i++) {
		bit = i * 8;
		if (pf->prefixlen <= bit)
			pf->addr[i] = 0;
		else if (pf->prefixlen < bit + 8)
			pf->addr[i] &= 0xff << (8 - (pf->prefixlen - bit));
	}
}

static bool
is_unspecified(const struct wgconf_prefix *pf)
{
	unsigned	 i;

	for (i = 0; i < sizeof(pf->addr); i++) {
		if (pf->addr[i] != 0)
			return (false);
	}
	return (true);
}

/*
 * A DNS name as getaddrinfo(3) will see it later: letter-digit-hyphen
 * labels of 1..63 bytes, 253 in all, one optional final dot.  An
 * all-numeric last label is refused so that "10.1.2" or "1.2.3.256"
 * cannot be taken for an address under inet_aton(3)'s looser rules.
 */
static bool
valid_hostname(const char *s)
{
	size_t	 len, i, lab = 0;
	bool	 numeric = true;

	len = strlen(s);
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return (false);
	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (lab == 0 || lab > 63 || s[i - 1] == '-')
				return (false);
			if (i == len && numeric)
				return (false);
			lab = 0;
			numeric = true;
			continue;
		}
		if (s[i] == '-') {
			if (lab == 0)
				return (false);
		} else if (!is_alpha(s[i]) && !is_digit(s[i]))
			return (false);
		if (!is_digit(s[i]))
			numeric = false;
		lab++;
	}
	return (true);
}

static int
parse_endpoint(struct parser *p, struct wgconf_peer *peer, char *v)
{
	char	*host, *port, *c;

	if (*v == '[') {
		if ((c = strchr(v, ']')) == NULL || c[1] != ':')
			return (fail(p, p->line,
			    "Endpoint must be [IPv6 address]:port"));
		*c = '\0';
		host = v + 1;
		port = c + 2;
		if (inet_pton(AF_INET6, host, peer->endpoint_addr) != 1)
			return (fail(p, p->line, "Endpoint has no valid IPv6 "
			    "address in brackets"));
		peer->endpoint_family = AF_INET6;
	} else {
		if ((c = strrchr(v, ':')) == NULL)
			return (fail(p, p->line, "Endpoint must be host:port"));
		*c = '\0';
		host = v;
		port = c + 1;
		if (strchr(host, ':') != NULL)
			return (fail(p, p->line, "Endpoint IPv6 address must "
			    "be in brackets, as in [2001:db8::1]:51820"));
		if (inet_pton(AF_INET, host, peer->endpoint_addr) == 1)
			peer->endpoint_family = AF_INET;
		else if (valid_hostname(host))
			peer->endpoint_family = AF_UNSPEC;
		else
			return (fail(p, p->line, "Endpoint host is neither an "
			    "IPv4 address nor a DNS name"));
	}
	if (!parse_u16(port, 1, &peer->endpoint_port))
		return (fail(p, p->line,
		    "Endpoint port must be a number from 1 to 65535"));
	if ((peer->endpoint_host = strdup(host)) == NULL)
		return (nomem(p));
	peer->has_endpoint = true;
	return (0);
}

/*
 * AllowedIPs with host bits set are normalised, not refused: wg(8) takes
 * them and the kernel masks them, so configs in use have them.  Address
 * keeps its host bits, which are the interface's own address
 * (wg-quick hands "10.0.0.2/24" to ip-address(8) as it is).
 */
static int
add_prefix(struct parser *p, enum key k, size_t item, struct wgconf_prefix *pf)
{
	struct wgconf		*c = p->conf;
	struct wgconf_peer	*peer;
	struct wgconf_prefix	*arr;
	size_t			 i;

	if (k == K_ALLOWEDIPS) {
		clear_host_bits(pf);
		peer = &c->peers[c->n_peers - 1];
		if ((arr = grow(peer->allowed_ips, &p->cap_allowed,
		    peer->n_allowed_ips, sizeof(*arr), false)) == NULL)
			return (nomem(p));
		peer->allowed_ips = arr;
		arr[peer->n_allowed_ips++] = *pf;
		return (0);
	}
	if (is_unspecified(pf))
		return (fail(p, p->line,
		    "Address item %zu is the unspecified address", item));
	for (i = 0; i < c->n_addresses; i++) {
		if (c->addresses[i].family == pf->family &&
		    memcmp(c->addresses[i].addr, pf->addr, 16) == 0)
			return (fail(p, p->line,
			    "Address item %zu is already assigned", item));
	}
	if ((arr = grow(c->addresses, &p->cap_addresses, c->n_addresses,
	    sizeof(*arr), false)) == NULL)
		return (nomem(p));
	c->addresses = arr;
	arr[c->n_addresses++] = *pf;
	return (0);
}

static int
parse_list(struct parser *p, enum key k, char *v)
{
	struct wgconf_prefix	 pf;
	const char		*s, *e;
	char			*next;
	size_t			 item;
	int			 r;

	for (item = 1; v != NULL; item++, v = next) {
		if ((next = strchr(v, ',')) != NULL)
			*next++ = '\0';
		s = v;
		e = v + strlen(v);
		trim(&s, &e);
		if (s == e)
			return (fail(p, p->line, "%s item %zu is empty",
			    keys[k].name, item));
		if (!parse_prefix(s, e - s, &pf))
			return (fail(p, p->line, "%s item %zu is not a valid "
			    "IP address or prefix", keys[k].name, item));
		if ((r = add_prefix(p, k, item, &pf)) != 0)
			return (r);
	}
	return (0);
}

static int
set_value(struct parser *p, enum key k, char *v, size_t len)
{
	struct wgconf		*c = p->conf;
	struct wgconf_peer	*peer = NULL;
	unsigned		 u;

	if (p->sec == SEC_PEER)
		peer = &c->peers[c->n_peers - 1];
	switch (k) {
	case K_PRIVATEKEY:
		if (!parse_key(v, len, c->private_key))
			return (fail(p, p->line,
			    "PrivateKey is not a valid base64 key"));
		c->has_private_key = true;
		break;
	case K_LISTENPORT:
		if (!parse_u16(v, 1, &c->listen_port))
			return (fail(p, p->line,
			    "ListenPort must be a number from 1 to 65535"));
		c->has_listen_port = true;
		break;
	case K_MTU:
		if (!parse_num(v, MTU_MIN_IPV4, UINT16_MAX, &u))
			return (fail(p, p->line,
			    "MTU must be a number from %u to 65535",
			    MTU_MIN_IPV4));
		c->mtu = (uint16_t)u;
		break;
	case K_ADDRESS:
	case K_ALLOWEDIPS:
		return (parse_list(p, k, v));
	case K_PUBLICKEY:
		if (!parse_key(v, len, peer->public_key))
			return (fail(p, p->line,
			    "PublicKey is not a valid base64 key"));
		break;
	case K_PRESHAREDKEY:
		if (!parse_key(v, len, peer->psk))
			return (fail(p, p->line,
			    "PresharedKey is not a valid base64 key"));
		peer->has_psk = true;
		break;
	case K_ENDPOINT:
		return (parse_endpoint(p, peer, v));
	case K_KEEPALIVE:
		if (strcasecmp(v, "off") == 0)
			peer->persistent_keepalive = 0;
		else if (!parse_u16(v, 0, &peer->persistent_keepalive))
			return (fail(p, p->line, "PersistentKeepalive must be "
			    "\"off\" or a number from 0 to 65535"));
		break;
	}
	return (0);
}

static int
finish_section(struct parser *p)
{
	struct wgconf		*c = p->conf;
	struct wgconf_peer	*peer;
	size_t			 i;

	if (p->sec == SEC_IFACE) {
		if (!c->has_private_key)
			return (fail(p, p->sec_line,
			    "[Interface] has no PrivateKey"));
		for (i = 0; i < c->n_addresses; i++) {
			if (c->addresses[i].family == AF_INET6 &&
			    c->mtu != 0 && c->mtu < MTU_MIN_IPV6)
				return (fail(p, p->seen[K_MTU], "MTU must be "
				    "at least %u with an IPv6 Address",
				    MTU_MIN_IPV6));
		}
	} else if (p->sec == SEC_PEER) {
		peer = &c->peers[c->n_peers - 1];
		if (p->seen[K_PUBLICKEY] == 0)
			return (fail(p, p->sec_line,
			    "[Peer] has no PublicKey"));
		for (i = 0; i + 1 < c->n_peers; i++) {
			if (memcmp(c->peers[i].public_key, peer->public_key,
			    WGCONF_KEY_LEN) == 0)
				return (fail(p, p->seen[K_PUBLICKEY],
				    "PublicKey is already used by the peer at "
				    "line %u", c->peers[i].line));
		}
	}
	return (0);
}

static int
parse_header(struct parser *p, const char *s, const char *e)
{
	struct wgconf		*c = p->conf;
	struct wgconf_peer	*peers;
	const char		*ns, *ne;
	enum section		 sec;
	int			 r;

	if ((ne = memchr(s, ']', e - s)) == NULL)
		return (fail(p, p->line, "section header has no ']'"));
	if (ne + 1 != e)
		return (fail(p, p->line, "unexpected text after ']'"));
	ns = s + 1;
	trim(&ns, &ne);
	if (ne - ns == 9 && strncasecmp(ns, "Interface", 9) == 0)
		sec = SEC_IFACE;
	else if (ne - ns == 4 && strncasecmp(ns, "Peer", 4) == 0)
		sec = SEC_PEER;
	else
		return (fail(p, p->line,
		    "unknown section, expected [Interface] or [Peer]"));

	if (sec == SEC_IFACE && p->iface_line != 0)
		return (fail(p, p->line, "second [Interface] section (the "
		    "first is at line %u)", p->iface_line));
	if (sec == SEC_PEER && p->iface_line == 0)
		return (fail(p, p->line, "[Peer] before [Interface]"));
	if ((r = finish_section(p)) != 0)
		return (r);

	p->sec = sec;
	p->sec_line = p->line;
	memset(p->seen, 0, sizeof(p->seen));
	if (sec == SEC_IFACE) {
		p->iface_line = p->line;
		return (0);
	}
	if ((peers = grow(c->peers, &p->cap_peers, c->n_peers,
	    sizeof(*peers), true)) == NULL)
		return (nomem(p));
	c->peers = peers;
	peers[c->n_peers++].line = p->line;
	p->cap_allowed = 0;
	return (0);
}

static int
note_ignored(struct parser *p, const char *name)
{
	struct wgconf	 *c = p->conf;
	char		**arr, *note;

	if ((arr = grow(c->ignored, &p->cap_ignored, c->n_ignored,
	    sizeof(*arr), false)) == NULL)
		return (nomem(p));
	c->ignored = arr;
	if (asprintf(&note, "%s:%u: key '%s' is not supported by fzc and "
	    "was ignored", p->file, p->line, name) == -1)
		return (nomem(p));
	arr[c->n_ignored++] = note;
	return (0);
}

/*
 * An unknown key name is quoted back only when it is short and all
 * letters, as real key names are; anything else might be a pasted key.
 */
static int
unknown_key(struct parser *p, const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len && is_alpha(s[i]); i++)
		;
	if (i == len && len <= MAX_KEYNAME)
		return (fail(p, p->line, "unknown key '%.*s'", (int)len, s));
	return (fail(p, p->line, "unknown key"));
}

static int
parse_line(struct parser *p, const char *s, const char *e)
{
	char		 val[WGCONF_MAX_LINE + 1];
	const char	*c, *ks, *ke, *vs, *ve;
	size_t		 k, vlen;
	int		 r;

	/* CRLF files from Windows editors. */
	if (e > s && e[-1] == '\r')
		e--;
	if (e - s > WGCONF_MAX_LINE)
		return (fail(p, p->line, "line is longer than %d bytes",
		    WGCONF_MAX_LINE));
	for (c = s; c < e; c++) {
		if (*c == '\0')
			return (fail(p, p->line, "NUL byte"));
		if ((*c > 0 && *c < ' ' && *c != '\t') || *c == 0x7f)
			return (fail(p, p->line, "control character"));
	}
	if ((c = memchr(s, '#', e - s)) != NULL)
		e = c;
	trim(&s, &e);
	if (s == e)
		return (0);
	if (*s == '[')
		return (parse_header(p, s, e));

	if ((c = memchr(s, '=', e - s)) == NULL)
		return (fail(p, p->line,
		    "expected 'Key = Value' or a section header"));
	ks = s;
	ke = c;
	vs = c + 1;
	ve = e;
	trim(&ks, &ke);
	trim(&vs, &ve);
	if (ks == ke)
		return (fail(p, p->line, "no key before '='"));
	for (k = 0; k < NKEYS; k++) {
		if (strlen(keys[k].name) == (size_t)(ke - ks) &&
		    strncasecmp(keys[k].name, ks, ke - ks) == 0)
			break;
	}
	if (k == NKEYS)
		return (unknown_key(p, ks, ke - ks));
	if (p->sec == SEC_NONE)
		return (fail(p, p->line, "'%s' before the [Interface] section",
		    keys[k].name));
	if (keys[k].sec != p->sec)
		return (fail(p, p->line, "'%s' is not valid in [%s]",
		    keys[k].name, p->sec == SEC_IFACE ? "Interface" : "Peer"));
	if (!keys[k].repeat && p->seen[k] != 0)
		return (fail(p, p->line, "duplicate '%s' (the first is at "
		    "line %u)", keys[k].name, p->seen[k]));
	p->seen[k] = p->line;
	if (keys[k].ignored)
		return (note_ignored(p, keys[k].name));
	if (vs == ve)
		return (fail(p, p->line, "'%s' has no value", keys[k].name));

	vlen = ve - vs;
	memcpy(val, vs, vlen);
	val[vlen] = '\0';
	r = set_value(p, k, val, vlen);
	explicit_bzero(val, vlen);
	return (r);
}

/* Returns 0 or -errno. */
static int
parse_text(const char *text, size_t len, const char *file,
    struct wgconf **out, char *err, size_t errlen)
{
	struct parser	 p;
	const char	*s, *e, *end;
	int		 r;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.file = file != NULL ? file : "(config)";
	p.err = err;
	p.errlen = err != NULL ? errlen : 0;
	if (p.errlen > 0)
		err[0] = '\0';
	if (len > WGCONF_MAX_SIZE) {
		if (p.errlen > 0)
			snprintf(err, errlen, "%s: larger than %d bytes",
			    p.file, WGCONF_MAX_SIZE);
		return (-EFBIG);
	}
	if ((p.conf = calloc(1, sizeof(*p.conf))) == NULL)
		return (nomem(&p));

	end = text + len;
	for (s = text; s < end; s = e + 1) {
		p.line++;
		if ((e = memchr(s, '\n', end - s)) == NULL)
			e = end;
		if ((r = parse_line(&p, s, e)) != 0)
			goto fail;
		if (e == end)
			break;
	}
	if (p.iface_line == 0) {
		r = fail(&p, 1, "no [Interface] section");
		goto fail;
	}
	if ((r = finish_section(&p)) != 0)
		goto fail;
	*out = p.conf;
	return (0);
fail:
	wgconf_free(p.conf);
	return (r);
}

int
wgconf_parse(const char *text, size_t len, const char *file,
    struct wgconf **out, char *err, size_t errlen)
{
	int	 r;

	if ((r = parse_text(text, len, file, out, err, errlen)) == 0)
		return (0);
	errno = -r;
	return (-1);
}

int
wgconf_parse_fd(int fd, const char *file, struct wgconf **out, char *err,
    size_t errlen)
{
	char	*buf = NULL, *nbuf;
	size_t	 len = 0, cap = 0, ncap;
	ssize_t	 n;
	int	 r;

	*out = NULL;
	if (file == NULL)
		file = "(config)";
	/* One byte past the limit is enough for wgconf_parse to refuse. */
	while (len <= WGCONF_MAX_SIZE) {
		if (len == cap) {
			ncap = cap == 0 ? READ_CHUNK : cap * 2;
			if (ncap > WGCONF_MAX_SIZE + 1)
				ncap = WGCONF_MAX_SIZE + 1;
			/* Not realloc: the old block holds the key. */
			if ((nbuf = malloc(ncap)) == NULL) {
				if (err != NULL && errlen > 0)
					snprintf(err, errlen,
					    "%s: out of memory", file);
				r = -ENOMEM;
				goto done;
			}
			if (buf != NULL) {
				memcpy(nbuf, buf, len);
				explicit_bzero(buf, len);
				free(buf);
			}
			buf = nbuf;
			cap = ncap;
		}
		if ((n = read(fd, buf + len, cap - len)) == -1) {
			if (errno == EINTR)
				continue;
			r = -errno;
			if (err != NULL && errlen > 0)
				snprintf(err, errlen, "%s: read: %s", file,
				    strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	r = parse_text(buf != NULL ? buf : "", len, file, out, err, errlen);
done:
	if (buf != NULL) {
		explicit_bzero(buf, len);
		free(buf);
	}
	if (r == 0)
		return (0);
	errno = -r;
	return (-1);
}

void
wgconf_free(struct wgconf *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n_peers; i++) {
		free(c->peers[i].endpoint_host);
		free(c->peers[i].allowed_ips);
	}
	if (c->peers != NULL) {
		explicit_bzero(c->peers, c->n_peers * sizeof(*c->peers));
		free(c->peers);
	}
	free(c->addresses);
	for (i = 0; i < c->n_ignored; i++)
		free(c->ignored[i]);
	free(c->ignored);
	explicit_bzero(c, sizeof(*c));
	free(c);
}
