/*
 * ice_candidate.c: ICE candidates as the portal signals them, SDP
 * "candidate:" attribute values (RFC 8839 5.1), parsed and formatted, and
 * their priorities (RFC 8445 5.1.2.1).  The ICE agent (ice.c) and the
 * connections of tunneld (conn.c) speak this form.
 */

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tunneld/nat/ice_candidate.h"

/* Longest string parsed, after "candidate:". */
#define ICE_CANDIDATE_MAX_IN	512

#define TYPEPREF_HOST		126
#define TYPEPREF_PRFLX		110
#define TYPEPREF_SRFLX		100
#define TYPEPREF_RELAY		0

/* ice-char (RFC 8839 5.1): foundations, ufrags and passwords. */
static bool
is_ice_char(int ch)
{
	return ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '+' || ch == '/');
}

/* s is 1 to max ice-chars. */
bool
ice_candidate_chars(const char *s, size_t max)
{
	size_t	n;

	for (n = 0; s[n] != '\0'; n++)
		if (n == max || !is_ice_char((unsigned char)s[n]))
			return (false);
	return (n > 0);
}

uint32_t
ice_candidate_priority(enum ice_cand_type type, uint16_t local_pref)
{
	uint32_t	tp;

	switch (type) {
	case ICE_CAND_HOST:
		tp = TYPEPREF_HOST;
		break;
	case ICE_CAND_PRFLX:
		tp = TYPEPREF_PRFLX;
		break;
	case ICE_CAND_SRFLX:
		tp = TYPEPREF_SRFLX;
		break;
	default:
		tp = TYPEPREF_RELAY;
		break;
	}
	/* RFC 8445 5.1.2.1, component 1. */
	return (tp << 24 | (uint32_t)local_pref << 8 | (256 - 1));
}

static const char *const type_names[] = {
	[ICE_CAND_HOST] = "host",
	[ICE_CAND_SRFLX] = "srflx",
	[ICE_CAND_PRFLX] = "prflx",
	[ICE_CAND_RELAY] = "relay"
};

/* Decimal without sign or spaces, at most max. */
static bool
parse_uint(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t	v = 0;
	size_t		n;

	for (n = 0; s[n] != '\0'; n++) {
		if (s[n] < '0' || s[n] > '9' || n == 10)
			return (false);
		v = v * 10 + (uint64_t)(s[n] - '0');
	}
	if (n == 0 || v > max)
		return (false);
	*out = (uint32_t)v;
	return (true);
}

static bool
parse_ip(const char *s, struct stun_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->ip) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, s, a->ip) == 1)
		a->family = AF_INET6;
	else
		return (false);
	return (true);
}

/*
 * "candidate:<foundation> 1 udp <priority> <ip> <port> typ <type>
 * [raddr <ip> rport <port>] [<extension> <value>]..." (RFC 8839 5.1), one
 * space between tokens, nothing before or after.
 */
int
ice_candidate_parse(struct ice_candidate *out, const char *s,
    const char **why)
{
	struct ice_candidate	 c;
	char			 buf[ICE_CANDIDATE_MAX_IN + 1];
	char			*tok[64], *p;
	const char		*dummy;
	size_t			 n = 0, i, len;
	uint32_t		 v;
	uint16_t		 related_port = 0;
	bool			 rport = false;

	if (why == NULL)
		why = &dummy;
	memset(&c, 0, sizeof(c));
	if (strncmp(s, "candidate:", 10) != 0) {
		*why = "does not start with candidate:";
		return (-1);
	}
	s += 10;
	if ((len = strlen(s)) > ICE_CANDIDATE_MAX_IN) {
		*why = "candidate string too long";
		return (-1);
	}
	memcpy(buf, s, len + 1);
	for (p = buf; n < sizeof(tok) / sizeof(tok[0]); p++) {
		tok[n++] = p;
		if ((p = strchr(p, ' ')) == NULL)
			break;
		*p = '\0';
	}
	for (i = 0; i < n; i++)
		if (tok[i][0] == '\0') {
			*why = "empty field";
			return (-1);
		}
	if (p != NULL) {
		*why = "too many fields";
		return (-1);
	}
	if (n < 8 || (n - 8) % 2 != 0) {
		*why = "wrong number of fields";
		return (-1);
	}
	if (!ice_candidate_chars(tok[0], ICE_CANDIDATE_MAX_FOUNDATION)) {
		*why = "bad foundation";
		return (-1);
	}
	strcpy(c.foundation, tok[0]);
	if (!parse_uint(tok[1], 256, &v) || v != 1) {
		*why = "component is not 1";
		return (-1);
	}
	if (strcasecmp(tok[2], "udp") != 0) {
		*why = "transport is not udp";
		return (-1);
	}
	if (!parse_uint(tok[3], UINT32_MAX, &c.priority) || c.priority == 0) {
		*why = "bad priority";
		return (-1);
	}
	if (!parse_ip(tok[4], &c.addr)) {
		*why = "bad address";
		return (-1);
	}
	if (!parse_uint(tok[5], 65535, &v)) {
		*why = "bad port";
		return (-1);
	}
	c.addr.port = v;
	if (strcmp(tok[6], "typ") != 0) {
		*why = "typ missing";
		return (-1);
	}
	for (i = 0; i < 4; i++)
		if (strcmp(tok[7], type_names[i]) == 0)
			break;
	if (i == 4) {
		*why = "unknown candidate type";
		return (-1);
	}
	c.type = i;
	for (i = 8; i < n; i += 2) {
		if (strcmp(tok[i], "raddr") == 0) {
			if (c.has_related ||
			    !parse_ip(tok[i + 1], &c.related)) {
				*why = "bad raddr";
				return (-1);
			}
			c.has_related = true;
		} else if (strcmp(tok[i], "rport") == 0) {
			if (rport || !parse_uint(tok[i + 1], 65535, &v)) {
				*why = "bad rport";
				return (-1);
			}
			rport = true;
			related_port = (uint16_t)v;
		}
		/* Other extensions (generation, network-id...) are skipped. */
	}
	if (c.has_related != rport) {
		*why = "raddr without rport or rport without raddr";
		return (-1);
	}
	/* After the loop: parse_ip clears the port, in whichever order. */
	if (rport)
		c.related.port = related_port;
	*out = c;
	return (0);
}

int
ice_candidate_format(const struct ice_candidate *c, char *buf, size_t len)
{
	char	ip[INET6_ADDRSTRLEN], rip[INET6_ADDRSTRLEN];
	int	n;

	if ((unsigned int)c->type > ICE_CAND_RELAY ||
	    inet_ntop(c->addr.family, c->addr.ip, ip, sizeof(ip)) == NULL)
		return (-1);
	if (c->has_related) {
		if (inet_ntop(c->related.family, c->related.ip, rip,
		    sizeof(rip)) == NULL)
			return (-1);
		n = snprintf(buf, len,
		    "candidate:%s 1 udp %u %s %u typ %s raddr %s rport %u",
		    c->foundation, c->priority, ip, c->addr.port,
		    type_names[c->type], rip, c->related.port);
	} else
		n = snprintf(buf, len, "candidate:%s 1 udp %u %s %u typ %s",
		    c->foundation, c->priority, ip, c->addr.port,
		    type_names[c->type]);
	return (n < 0 || (size_t)n >= len ? -1 : 0);
}
