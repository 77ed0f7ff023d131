/*
 * What the connect request to the portal carries: the URL with the
 * device's external_id (PROTOCOL.md 1.2) and the User-Agent (1.4).
 */

#include <sys/socket.h>

#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "controld/portal_url.h"

struct sbuf {
	char	*s;
	size_t	 len;
	size_t	 cap;
	bool	 err;
};

static void
sbuf_add(struct sbuf *b, const char *p, size_t n)
{
	char	*s;
	size_t	 cap;

	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap == 0 ? 256 : b->cap;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((s = realloc(b->s, cap)) == NULL) {
			b->err = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
sbuf_str(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

/* Takes the string; NULL if anything failed on the way. */
static char *
sbuf_take(struct sbuf *b)
{
	if (b->err || b->s == NULL) {
		free(b->s);
		return (NULL);
	}
	return (b->s);
}

/*
 * application/x-www-form-urlencoded as the url crate writes it:
 * ALPHA DIGIT * - . _ stay, space becomes +, the rest %XX upper case.
 */
static void
sbuf_form(struct sbuf *b, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*p;
	char			 esc[3];

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '*' || *p == '-' ||
		    *p == '.' || *p == '_')
			sbuf_add(b, (const char *)p, 1);
		else if (*p == ' ')
			sbuf_add(b, "+", 1);
		else {
			esc[0] = '%';
			esc[1] = hex[*p >> 4];
			esc[2] = hex[*p & 0xf];
			sbuf_add(b, esc, 3);
		}
	}
}

static void
sbuf_pair(struct sbuf *b, const char *key, const char *val, bool *first)
{
	if (val == NULL)
		return;
	sbuf_add(b, *first ? "?" : "&", 1);
	*first = false;
	sbuf_form(b, key);
	sbuf_add(b, "=", 1);
	sbuf_form(b, val);
}

static bool
hexdigits(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f') ||
		    (s[i] >= 'A' && s[i] <= 'F')))
			return (false);
	}
	return (true);
}

/* The textual UUID forms connlib's parser accepts. */
static bool
is_uuid(const char *s)
{
	size_t	 len = strlen(s);

	if (len == 45 && strncasecmp(s, "urn:uuid:", 9) == 0)
		return (is_uuid(s + 9));
	if (len == 38 && s[0] == '{' && s[37] == '}') {
		char	 in[37];

		memcpy(in, s + 1, 36);
		in[36] = '\0';
		return (is_uuid(in));
	}
	if (len == 32)
		return (hexdigits(s, 32));
	if (len != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' ||
	    s[23] != '-')
		return (false);
	return (hexdigits(s, 8) && hexdigits(s + 9, 4) &&
	    hexdigits(s + 14, 4) && hexdigits(s + 19, 4) &&
	    hexdigits(s + 24, 12));
}

/*
 * external_id: a device id that is a UUID goes out as the lower-case hex
 * SHA-256 of its text exactly as stored; any other id goes out verbatim.
 */
int
portal_external_id(const char *id, char out[PORTAL_EXTERNAL_ID_SIZE])
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen, i;
	size_t			 len;

	if (id == NULL || (len = strlen(id)) == 0 || len > PORTAL_MAX_ID)
		return (-1);
	for (i = 0; i < len; i++) {
		if ((unsigned char)id[i] < 0x20 || id[i] == 0x7f)
			return (-1);
	}
	if (!is_uuid(id)) {
		memcpy(out, id, len + 1);
		return (0);
	}
	if (EVP_Digest(id, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		return (-1);
	for (i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[2 * mdlen] = '\0';
	return (0);
}

static bool
parse_port(const char *p, size_t n, uint16_t *port)
{
	unsigned long	 v = 0;
	size_t		 i;

	if (n == 0 || n > 5)
		return (false);
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return (false);
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	if (v == 0 || v > 65535)
		return (false);
	*port = (uint16_t)v;
	return (true);
}

/* Splits the authority into the Host header value and the port. */
static bool
parse_authority(const char *a, size_t n, struct portal_url *u)
{
	char		 v6[INET6_ADDRSTRLEN];
	unsigned char	 bin[16];
	const char	*end, *close;
	size_t		 hlen, i;

	if (n == 0 || memchr(a, '@', n) != NULL)
		return (false);
	if (a[0] == '[') {
		if ((close = memchr(a, ']', n)) == NULL ||
		    (size_t)(close - a - 1) >= sizeof(v6))
			return (false);
		memcpy(v6, a + 1, close - a - 1);
		v6[close - a - 1] = '\0';
		if (inet_pton(AF_INET6, v6, bin) != 1)
			return (false);
		end = close + 1;
	} else {
		if ((end = memchr(a, ':', n)) == NULL)
			end = a + n;
		if (end == a)
			return (false);
		for (i = 0; a + i < end; i++) {
			if (!((a[i] >= 'a' && a[i] <= 'z') ||
			    (a[i] >= 'A' && a[i] <= 'Z') ||
			    (a[i] >= '0' && a[i] <= '9') || a[i] == '-' ||
			    a[i] == '.' || a[i] == '_'))
				return (false);
		}
	}
	hlen = end - a;
	if ((u->host = strndup(a, hlen)) == NULL)
		return (false);
	/* Host names are case-insensitive; the URL parser lowers them. */
	for (i = 0; i < hlen; i++) {
		if (u->host[i] >= 'A' && u->host[i] <= 'Z')
			u->host[i] += 'a' - 'A';
	}
	u->port = u->tls ? 443 : 80;
	if (end == a + n)
		return (true);
	if (*end != ':')
		return (false);
	return (parse_port(end + 1, a + n - end - 1, &u->port));
}

/*
 * <ws|wss>://host[:port]<path>/client/v2/websocket?external_id=..&name=..
 * [&device_serial=..][&device_uuid=..][..]&public_key=..  The query and
 * the fragment of the configured URL are dropped.  A gateway connects to
 * /gateway/v2/websocket with external_id, name and public_key only.
 */
int
portal_url_build(const char *api, const struct portal_device *dev,
    const uint8_t pubkey[32], struct portal_url *u, const char **why)
{
	struct sbuf	 t = { NULL, 0, 0, false };
	struct sbuf	 w = { NULL, 0, 0, false };
	char		 key[sodium_base64_ENCODED_LEN(32,
			    sodium_base64_VARIANT_ORIGINAL)];
	char		 port[8];
	const char	*sep, *auth, *path;
	size_t		 alen, plen, i;
	bool		 first = true;

	memset(u, 0, sizeof(*u));
	*why = NULL;
	if (api == NULL || (sep = strstr(api, "://")) == NULL) {
		*why = "API URL has no scheme";
		return (-1);
	}
	if ((sep - api == 2 && strncasecmp(api, "ws", 2) == 0) ||
	    (sep - api == 4 && strncasecmp(api, "http", 4) == 0))
		u->tls = false;
	else if ((sep - api == 3 && strncasecmp(api, "wss", 3) == 0) ||
	    (sep - api == 5 && strncasecmp(api, "https", 5) == 0))
		u->tls = true;
	else {
		*why = "API URL scheme is not http, https, ws or wss";
		return (-1);
	}
	auth = sep + 3;
	alen = strcspn(auth, "/?#");
	if (!parse_authority(auth, alen, u)) {
		*why = "API URL has no usable host and port";
		goto fail;
	}
	path = auth + alen;
	plen = strcspn(path, "?#");
	for (i = 0; i < plen; i++) {
		if (path[i] <= ' ' || path[i] == 0x7f) {
			*why = "API URL path has blanks or control characters";
			goto fail;
		}
	}
	/* One empty last segment goes: ".../" + "client" is ".../client". */
	if (plen > 0 && path[plen - 1] == '/')
		plen--;
	if (dev == NULL || dev->external_id == NULL ||
	    dev->external_id[0] == '\0') {
		*why = "no external_id";
		goto fail;
	}
	sodium_bin2base64(key, sizeof(key), pubkey, 32,
	    sodium_base64_VARIANT_ORIGINAL);

	sbuf_add(&t, path, plen);
	sbuf_str(&t, dev->gateway ? "/gateway/v2/websocket" :
	    "/client/v2/websocket");
	sbuf_pair(&t, "external_id", dev->external_id, &first);
	sbuf_pair(&t, "name", dev->name, &first);
	if (!dev->gateway) {
		sbuf_pair(&t, "device_serial", dev->device_serial, &first);
		sbuf_pair(&t, "device_uuid", dev->device_uuid, &first);
		sbuf_pair(&t, "identifier_for_vendor",
		    dev->identifier_for_vendor, &first);
		sbuf_pair(&t, "firebase_installation_id",
		    dev->firebase_installation_id, &first);
	}
	sbuf_pair(&t, "public_key", key, &first);
	if ((u->target = sbuf_take(&t)) == NULL) {
		*why = "out of memory";
		goto fail;
	}

	sbuf_str(&w, u->tls ? "wss://" : "ws://");
	sbuf_str(&w, u->host);
	if (u->port != (u->tls ? 443 : 80)) {
		snprintf(port, sizeof(port), ":%u", (unsigned int)u->port);
		sbuf_str(&w, port);
	}
	sbuf_str(&w, u->target);
	if ((u->url = sbuf_take(&w)) == NULL) {
		*why = "out of memory";
		goto fail;
	}
	return (0);
 fail:
	portal_url_free(u);
	return (-1);
}

void
portal_url_free(struct portal_url *u)
{
	free(u->host);
	free(u->target);
	free(u->url);
	memset(u, 0, sizeof(*u));
}

/*
 * Keeps what the header and the portal's "OS/version component/version"
 * parser can take: printable ASCII only, and no separators inside a part.
 */
static void
sbuf_ua_part(struct sbuf *b, const char *s, const char *drop)
{
	for (; *s != '\0'; s++) {
		if (*s < 0x20 || *s >= 0x7f || strchr(drop, *s) != NULL)
			continue;
		sbuf_add(b, s, 1);
	}
}

/*
 * "<OS>/<OS version> headless-client/<version> (<arch>; <kernel>)", or
 * gateway/<version> for a gateway, the parenthesis shortened or left out
 * when arch or kernel is unknown.
 */
int
portal_user_agent(char *buf, size_t len, bool gateway, const char *os,
    const char *osver, const char *arch, const char *kernel)
{
	struct sbuf	 b = { NULL, 0, 0, false };
	char		*s;
	int		 rv = -1;

	sbuf_ua_part(&b, os != NULL ? os : "Linux", " /;()");
	sbuf_add(&b, "/", 1);
	sbuf_ua_part(&b, osver != NULL ? osver : "unknown", " /;()");
	sbuf_str(&b, gateway ? " " PORTAL_UA_GW_COMPONENT "/"
	    PORTAL_UA_GW_VERSION : " " PORTAL_UA_COMPONENT "/"
	    PORTAL_UA_VERSION);
	if (arch != NULL || kernel != NULL) {
		sbuf_str(&b, " (");
		if (arch != NULL)
			sbuf_ua_part(&b, arch, " ;()");
		if (arch != NULL && kernel != NULL)
			sbuf_str(&b, "; ");
		if (kernel != NULL)
			sbuf_ua_part(&b, kernel, ";()");
		sbuf_str(&b, ")");
	}
	if ((s = sbuf_take(&b)) == NULL)
		return (-1);
	if (strlen(s) < len) {
		memcpy(buf, s, strlen(s) + 1);
		rv = 0;
	}
	free(s);
	return (rv);
}
