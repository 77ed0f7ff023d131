/*
 * dns_doh.c: the DoH client (dns_doh.h). Queries wait, per server, until
 * its name is resolved; then each is one easy handle on a shared multi
 * handle (curl_ev.c), which keeps one connection per server and
 * multiplexes them over HTTP/2. curl never resolves a name itself: it
 * gets the addresses through CURLOPT_RESOLVE, and its resolver-start
 * callback refuses any other lookup. Sockets, TCP for curl and UDP for
 * c-ares, come from a small pool of protected ones that tunneld refills.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <arpa/inet.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <ldns/ldns.h>

#include "common/be.h"
#include "common/log.h"
#include "common/util.h"
#include "controld/curl_ev.h"
#include "controld/dns_doh.h"
#include "controld/dns_resolve.h"
#include "controld/dns_upstream.h"
#include "controld/tunneld_chan.h"

#define DOH_SERVERS	DNS_UPSTREAM_MAX
#define DOH_POOL	2	/* protected sockets kept, per type and family */
#define DOH_PENDING	16	/* socket requests in flight */
#define DOH_QUERIES	256	/* waiting or running, all servers */
#define DOH_HOST_MAX	256
#define DOH_RESOLVE_MAX	2048	/* "host:port:addr,...", for curl */
#define DOH_REFRESH_NS	(300ULL * 1000000000ULL)	/* resolved again */
#define DOH_RETRY_NS	(5ULL * 1000000000ULL)	/* after a failed lookup */
#define DOH_CTYPE	"application/dns-message"

enum { POOL_UDP, POOL_TCP };

struct doh_query {
	TAILQ_ENTRY(doh_query)	 entry;
	struct dns_doh		*doh;
	size_t			 server;
	CURL			*easy;		/* NULL while waiting */
	struct curl_slist	*resolve;
	uint8_t			 q[IPC_DNS_MAX];	/* the POST body */
	size_t			 qlen;
	struct dns_forward_query who;		/* the asker */
	uint8_t			*body;
	size_t			 blen;
	bool			 too_big;
	char			 err[CURL_ERROR_SIZE];
};
TAILQ_HEAD(doh_queries, doh_query);

struct doh_server {
	char			 url[DNS_UPSTREAM_URL_MAX];
	char			 host[DOH_HOST_MAX];	/* as in the URL */
	long			 port;
	bool			 literal;	/* an address: no lookup */
	bool			 bad;		/* a URL curl does not take */
	bool			 resolving;
	uint32_t		 gen;		/* lookups of an older list */
	char			 resolve[DOH_RESOLVE_MAX];	/* "": none */
	uint64_t		 resolved_at;
	uint64_t		 failed_at;
	bool			 failing;	/* said so in the log */
	bool			 answered;	/* once, since the list */
	struct doh_queries	 waiting;
};

struct doh_lookup {
	struct dns_doh		*doh;
	size_t			 server;
	uint32_t		 gen;
};

struct doh_request {
	uint32_t		 id;
	int			 type;
	int			 fam;
};

struct dns_doh {
	struct event_base	*base;
	struct tunneld_chan	*tc;
	char			*ca_file;
	dns_doh_answer_fn	*answer;
	void			*arg;
	struct curl_ev		*ce;
	struct curl_slist	*headers;
	struct dns_resolve	*resolver;
	struct dns_p2p_ip	 resolvers[DNS_UPSTREAM_MAX];
	size_t			 nresolvers;
	struct doh_server	 srv[DOH_SERVERS];
	size_t			 nsrv;
	struct doh_queries	 running;
	size_t			 nqueries;
	int			 pool[2][2][DOH_POOL];	/* type, family */
	struct doh_request	 req[DOH_PENDING];
	size_t			 nreq;
};

static void	doh_kick(struct dns_doh *);
static void doh_unresolved(struct dns_doh *, struct doh_server *, const char *);
static void	doh_done(void *, CURL *, CURLcode);

static int
fam_index(int family)
{
	return (family == AF_INET6);
}

/* The host for the log: neither the path nor the query. */
static const char *
srv_name(const struct doh_server *s)
{
	return (s->host);
}

static int
media_type_is(const char *ctype, const char *want)
{
	size_t	 n = strlen(want);

	if (strncasecmp(ctype, want, n) != 0)
		return (0);
	ctype += n;
	return (*ctype == '\0' || *ctype == ';' || *ctype == ' ');
}

const char *
dns_doh_check(long status, const char *ctype, const uint8_t *b, size_t len)
{
	if (status != 200)
		return ("HTTP status not 200");
	if (ctype == NULL || !media_type_is(ctype, DOH_CTYPE))
		return ("not application/dns-message");
	if (len < IPC_DNS_MIN)
		return ("shorter than a DNS header");
	if (len > DNS_DOH_BODY_MAX)
		return ("larger than a DNS message");
	/* QR: an answer; id 0 as sent (RFC 8484 4.1). */
	if ((b[2] & 0x80) == 0 || be_get16(b) != 0)
		return ("not an answer to the query");
	return (NULL);
}

int
dns_doh_servfail(const uint8_t *q, size_t len, uint8_t **out, size_t *outlen)
{
	ldns_pkt	*p = NULL, *r = NULL;
	ldns_rr		*question;
	ldns_status	 st;
	int		 rc = -1;

	if (ldns_wire2pkt(&p, q, len) != LDNS_STATUS_OK || ldns_pkt_qr(p) ||
	    ldns_pkt_qdcount(p) != 1 || (r = ldns_pkt_new()) == NULL)
		goto done;
	question = ldns_rr_list_rr(ldns_pkt_question(p), 0);
	ldns_pkt_set_id(r, ldns_pkt_id(p));
	ldns_pkt_set_qr(r, true);
	ldns_pkt_set_opcode(r, ldns_pkt_get_opcode(p));
	ldns_pkt_set_rd(r, ldns_pkt_rd(p));
	ldns_pkt_set_ra(r, true);
	ldns_pkt_set_rcode(r, LDNS_RCODE_SERVFAIL);
	ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, ldns_rr_clone(question));
	st = ldns_pkt2wire(out, r, outlen);
	rc = st == LDNS_STATUS_OK ? 0 : -1;
 done:
	ldns_pkt_free(p);
	ldns_pkt_free(r);
	return (rc);
}

/* The protected sockets. */

static int
pool_count(struct dns_doh *doh, int type, int f)
{
	size_t	 i;
	int	 n = 0;

	for (i = 0; i < DOH_POOL; i++)
		n += doh->pool[type][f][i] != -1;
	for (i = 0; i < doh->nreq; i++)
		n += doh->req[i].type == type && doh->req[i].fam == f;
	return (n);
}

static bool
need_lookups(struct dns_doh *doh)
{
	size_t	 i;

	for (i = 0; i < doh->nsrv; i++)
		if (!doh->srv[i].literal)
			return (true);
	return (false);
}

/* Asks tunneld for what the pool lacks. */
static void
pool_fill(struct dns_doh *doh)
{
	struct doh_request	*r;
	bool			 udp[2] = { false, false };
	size_t			 i;
	int			 type, f, family, socktype;

	if (doh->nsrv == 0)
		return;
	if (need_lookups(doh))
		for (i = 0; i < doh->nresolvers; i++)
			udp[fam_index(doh->resolvers[i].family)] = true;
	for (type = POOL_UDP; type <= POOL_TCP; type++)
		for (f = 0; f < 2; f++) {
			if (type == POOL_UDP && !udp[f])
				continue;
			family = f ? AF_INET6 : AF_INET;
			socktype = type == POOL_TCP ? SOCK_STREAM : SOCK_DGRAM;
			while (pool_count(doh, type, f) < DOH_POOL &&
			    doh->nreq < DOH_PENDING) {
				r = &doh->req[doh->nreq];
				if (tunneld_chan_request_socket(doh->tc, family,
					socktype, &r->id) == -1) {
					log_warn("dns: asking tunneld for a "
					    "socket");
					return;
				}
				r->type = type;
				r->fam = f;
				doh->nreq++;
			}
		}
}

static int
pool_take(struct dns_doh *doh, int type, int family)
{
	size_t	 i;
	int	 fd, f;

	if (family != AF_INET && family != AF_INET6)
		return (-1);
	f = fam_index(family);
	for (i = 0; i < DOH_POOL; i++)
		if ((fd = doh->pool[type][f][i]) != -1) {
			doh->pool[type][f][i] = -1;
			pool_fill(doh);
			return (fd);
		}
	pool_fill(doh);
	return (-1);
}

int
dns_doh_socket(struct dns_doh *doh, uint32_t id, int fd)
{
	struct doh_request	 r;
	size_t			 i;

	if (doh == NULL || id == 0)
		return (0);
	for (i = 0; i < doh->nreq; i++)
		if (doh->req[i].id == id)
			break;
	if (i == doh->nreq)
		return (0);
	r = doh->req[i];
	doh->req[i] = doh->req[--doh->nreq];
	if (fd == -1) {
		/* Asked again with the next query, not at once. */
		log_debug("dns: tunneld gave no socket for DNS over HTTPS");
		doh_kick(doh);
		return (1);
	}
	for (i = 0; i < DOH_POOL; i++)
		if (doh->pool[r.type][r.fam][i] == -1) {
			doh->pool[r.type][r.fam][i] = fd;
			fd = -1;
			break;
		}
	if (fd != -1)
		close(fd);
	doh_kick(doh);
	return (1);
}

/* c-ares' sockets. */
static int
doh_udp_socket(void *arg, int family, int type)
{
	if (type != SOCK_DGRAM)
		return (-1);
	return (pool_take(arg, POOL_UDP, family));
}

/* curl's sockets. */
static curl_socket_t
doh_tcp_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	int	 fd;

	if (purpose != CURLSOCKTYPE_IPCXN || a->socktype != SOCK_STREAM)
		return (CURL_SOCKET_BAD);
	if ((fd = pool_take(arg, POOL_TCP, a->family)) == -1) {
		log_debug("dns: no protected socket for DNS over HTTPS yet");
		return (CURL_SOCKET_BAD);
	}
	return (fd);
}

/* Names are ours to resolve, never curl's: an address in the URL only. */
static int
doh_resolver_start(void *resolver, void *reserved, void *arg)
{
	const struct doh_server	*s = arg;

	(void)resolver;
	(void)reserved;
	return (s->literal ? 0 : 1);
}

/* Queries. */

static void
query_free(struct doh_query *q)
{
	if (q->easy != NULL)
		curl_easy_cleanup(q->easy);
	curl_slist_free_all(q->resolve);
	free(q->body);
	q->doh->nqueries--;
	free(q);
}

static void
query_fail(struct dns_doh *doh, struct doh_query *q)
{
	uint8_t	*r;
	size_t	 len;

	be_put16(q->q, q->who.client_id);
	if (dns_doh_servfail(q->q, q->qlen, &r, &len) == 0) {
		doh->answer(doh->arg, &q->who, r, len);
		free(r);
	} else
		doh->answer(doh->arg, &q->who, NULL, 0);
	query_free(q);
}

static void
server_state(struct doh_server *s, const char *why)
{
	if (why != NULL && !s->failing)
		log_warnx("dns: DoH server %s fails: %s", srv_name(s), why);
	else if (why == NULL && s->failing)
		log_info("dns: DoH server %s answers again", srv_name(s));
	else if (why != NULL)
		log_debug("dns: DoH server %s: %s", srv_name(s), why);
	s->failing = why != NULL;
}

static size_t
query_write(char *p, size_t size, size_t n, void *arg)
{
	struct doh_query	*q = arg;
	uint8_t			*b;

	n *= size;
	if (n > DNS_DOH_BODY_MAX - q->blen) {
		q->too_big = true;
		return (0);
	}
	if ((b = realloc(q->body, q->blen + n)) == NULL)
		return (0);
	memcpy(b + q->blen, p, n);
	q->body = b;
	q->blen += n;
	return (n);
}

static int
query_start(struct dns_doh *doh, struct doh_query *q)
{
	struct doh_server	*s = &doh->srv[q->server];
	CURL			*e;
	int			 r = 0;

	if ((e = q->easy = curl_easy_init()) == NULL)
		return (-1);
	if (!s->literal &&
	    (q->resolve = curl_slist_append(NULL, s->resolve)) == NULL)
		return (-1);
	r |= curl_easy_setopt(e, CURLOPT_URL, s->url);
	r |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	r |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, q->q);
	r |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)q->qlen);
	r |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, doh->headers);
	r |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, query_write);
	r |= curl_easy_setopt(e, CURLOPT_WRITEDATA, q);
	r |= curl_easy_setopt(e, CURLOPT_PRIVATE, q);
	r |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, q->err);
	r |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	r |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)DNS_DOH_TIMEOUT_MS);
	/* The server is reached directly, never through a proxy. */
	r |= curl_easy_setopt(e, CURLOPT_PROXY, "");
	/* One connection per server, its streams multiplexed. */
	r |= curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
	    (long)CURL_HTTP_VERSION_2TLS);
	r |= curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	r |= curl_easy_setopt(e, CURLOPT_SSLVERSION,
	    (long)CURL_SSLVERSION_TLSv1_2);
	r |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	r |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (doh->ca_file != NULL)
		r |= curl_easy_setopt(e, CURLOPT_CAINFO, doh->ca_file);
	r |= curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, doh_tcp_socket);
	r |= curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, doh);
	r |= curl_easy_setopt(e, CURLOPT_RESOLVER_START_FUNCTION,
	    doh_resolver_start);
	r |= curl_easy_setopt(e, CURLOPT_RESOLVER_START_DATA, s);
	if (q->resolve != NULL)
		r |= curl_easy_setopt(e, CURLOPT_RESOLVE, q->resolve);
	if (r != 0 ||
	    curl_multi_add_handle(curl_ev_multi(doh->ce), e) != CURLM_OK)
		return (-1);
	TAILQ_INSERT_TAIL(&doh->running, q, entry);
	return (0);
}

static void
query_go(struct dns_doh *doh, struct doh_query *q)
{
	if (query_start(doh, q) == -1) {
		log_warnx("dns: cannot start a DoH request");
		query_fail(doh, q);
	}
}

/* A transfer ended: the answer, or SERVFAIL and a word in the log. */
static void
doh_done(void *arg, CURL *easy, CURLcode rc)
{
	struct dns_doh		*doh = arg;
	struct doh_query	*q;
	struct doh_server	*s;
	const char		*why, *ctype = NULL;
	char			 buf[CURL_ERROR_SIZE + 64];
	char			*priv = NULL;
	long			 status = 0;

	if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv) != CURLE_OK ||
	    priv == NULL)
		return;
	q = (struct doh_query *)(void *)priv;
	TAILQ_REMOVE(&doh->running, q, entry);
	curl_multi_remove_handle(curl_ev_multi(doh->ce), easy);
	s = &doh->srv[q->server];
	if (q->too_big)
		why = "answer larger than a DNS message";
	else if (rc != CURLE_OK) {
		snprintf(buf, sizeof(buf), "%s",
		    q->err[0] != '\0' ? q->err : curl_easy_strerror(rc));
		why = buf;
		/* The address may have moved: look the name up again. */
		if (rc == CURLE_COULDNT_CONNECT)
			s->resolved_at = 0;
	} else {
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &ctype);
		why = dns_doh_check(status, ctype, q->body, q->blen);
		if (why != NULL && status != 200) {
			snprintf(buf, sizeof(buf), "HTTP status %ld", status);
			why = buf;
		}
	}
	server_state(s, why);
	if (why != NULL) {
		query_fail(doh, q);
		return;
	}
	if (!s->answered) {
		curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &status);
		log_info("dns: DoH server %s answers, over HTTP/%s",
		    srv_name(s), status == CURL_HTTP_VERSION_2_0 ? "2" : "1.1");
		s->answered = true;
	}
	be_put16(q->body, q->who.client_id);
	doh->answer(doh->arg, &q->who, q->body, q->blen);
	query_free(q);
}

/* Lookups of the servers' names. */

static void
doh_resolved(void *arg, const struct dns_p2p_ip *v, size_t n, const char *why)
{
	struct doh_lookup	*l = arg;
	struct dns_doh		*doh = l->doh;
	struct doh_server	*s;
	struct doh_query	*q;
	char			 a[INET6_ADDRSTRLEN], r[DOH_RESOLVE_MAX];
	size_t			 i, len;

	/* The resolver went away, or the list changed meanwhile. */
	if ((n == 0 && why == NULL) || l->gen != doh->srv[l->server].gen) {
		free(l);
		return;
	}
	s = &doh->srv[l->server];
	free(l);
	s->resolving = false;
	if (n == 0) {
		doh_unresolved(doh, s, why);
		return;
	}
	len = (size_t)snprintf(r, sizeof(r), "%s:%ld:", s->host, s->port);
	for (i = 0; i < n && len < sizeof(r); i++) {
		inet_ntop(v[i].family, v[i].addr, a, sizeof(a));
		len += (size_t)snprintf(r + len, sizeof(r) - len,
		    v[i].family == AF_INET6 ? "%s[%s]" : "%s%s",
		    i > 0 ? "," : "", a);
	}
	if (len >= sizeof(r)) {
		doh_unresolved(doh, s, "too many addresses");
		return;
	}
	memcpy(s->resolve, r, len + 1);
	s->resolved_at = util_now_ns();
	s->failed_at = 0;
	log_debug("dns: DoH server %s at %s", srv_name(s), s->resolve);
	while ((q = TAILQ_FIRST(&s->waiting)) != NULL) {
		TAILQ_REMOVE(&s->waiting, q, entry);
		query_go(doh, q);
	}
}

/* The name was not looked up: what waits for it fails. */
static void
doh_unresolved(struct dns_doh *doh, struct doh_server *s, const char *why)
{
	struct doh_query	*q;

	s->failed_at = util_now_ns();
	server_state(s, why);
	while ((q = TAILQ_FIRST(&s->waiting)) != NULL) {
		TAILQ_REMOVE(&s->waiting, q, entry);
		query_fail(doh, q);
	}
}

/* A UDP socket for a lookup, or one asked for. */
static bool
have_udp(struct dns_doh *doh, bool asked)
{
	size_t	 i, f;

	for (f = 0; f < 2; f++)
		for (i = 0; i < DOH_POOL; i++)
			if (doh->pool[POOL_UDP][f][i] != -1)
				return (true);
	for (i = 0; asked && i < doh->nreq; i++)
		if (doh->req[i].type == POOL_UDP)
			return (true);
	return (false);
}

/*
 * Looks up the servers' names once a socket is there: first, when the
 * addresses are old, and again after a failure (not at once).
 */
static void
doh_kick(struct dns_doh *doh)
{
	struct doh_server	*s;
	struct doh_lookup	*l;
	char			 name[DOH_HOST_MAX + 1];
	uint64_t		 now = util_now_ns();
	size_t			 i;

	for (i = 0; i < doh->nsrv; i++) {
		s = &doh->srv[i];
		if (s->bad || s->literal || s->resolving ||
		    (s->resolve[0] != '\0' &&
			now - s->resolved_at < DOH_REFRESH_NS) ||
		    (s->failed_at != 0 && now - s->failed_at < DOH_RETRY_NS))
			continue;
		if (!have_udp(doh, false)) {
			/* None to come: queries do not wait for ever. */
			if (!have_udp(doh, true) && !TAILQ_EMPTY(&s->waiting))
				doh_unresolved(doh, s,
				    "no socket to look its name up with");
			continue;
		}
		l = xcalloc(1, sizeof(*l));
		l->doh = doh;
		l->server = i;
		l->gen = s->gen;
		s->resolving = true;
		/* Absolute: the system's search domains are not for it. */
		snprintf(name, sizeof(name), "%s.", s->host);
		dns_resolve_name(doh->resolver, name, doh_resolved, l);
	}
}

bool
dns_doh_query(struct dns_doh *doh, size_t server, const uint8_t *msg,
    size_t len, const struct dns_forward_query *who)
{
	struct doh_server	*s;
	struct doh_query	*q;
	uint64_t		 now = util_now_ns();

	if (doh == NULL || server >= doh->nsrv || len < IPC_DNS_MIN ||
	    len > IPC_DNS_MAX)
		return (false);
	s = &doh->srv[server];
	if (doh->nqueries >= DOH_QUERIES) {
		log_debug("dns: too many DoH queries waiting; dropped");
		return (false);
	}
	q = xcalloc(1, sizeof(*q));
	doh->nqueries++;
	q->doh = doh;
	q->server = server;
	memcpy(q->q, msg, len);
	q->qlen = len;
	q->who = *who;
	q->who.client_id = be_get16(q->q);
	be_put16(q->q, 0);
	pool_fill(doh);
	if (s->bad) {
		server_state(s, "not a URL");
		query_fail(doh, q);
		return (true);
	}
	if (!s->literal && doh->nresolvers == 0) {
		server_state(s, "the system has no resolver for its name");
		query_fail(doh, q);
		return (true);
	}
	if (s->literal || s->resolve[0] != '\0') {
		query_go(doh, q);
		doh_kick(doh);
		return (true);
	}
	/* A lookup failed a moment ago: no new one for each query. */
	if (!s->resolving && s->failed_at != 0 &&
	    now - s->failed_at < DOH_RETRY_NS) {
		query_fail(doh, q);
		return (true);
	}
	if (s->failed_at != 0)
		s->failed_at = 0;
	TAILQ_INSERT_TAIL(&s->waiting, q, entry);
	doh_kick(doh);
	return (true);
}

/* host and port of an https URL, through curl's own parser. */
static int
parse_url(struct doh_server *s)
{
	CURLU		*u;
	char		*host = NULL, *port = NULL;
	struct in_addr	 in;
	int		 rc = -1;

	if ((u = curl_url()) == NULL)
		return (-1);
	if (curl_url_set(u, CURLUPART_URL, s->url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
		CURLUE_OK ||
	    strlen(host) >= sizeof(s->host))
		goto done;
	snprintf(s->host, sizeof(s->host), "%s", host);
	s->port = strtol(port, NULL, 10);
	s->literal = host[0] == '[' || inet_pton(AF_INET, host, &in) == 1;
	rc = 0;
 done:
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return (rc);
}

static void
servers_clear(struct dns_doh *doh)
{
	struct doh_query	*q;
	size_t			 i;

	while ((q = TAILQ_FIRST(&doh->running)) != NULL) {
		TAILQ_REMOVE(&doh->running, q, entry);
		curl_multi_remove_handle(curl_ev_multi(doh->ce), q->easy);
		query_free(q);
	}
	for (i = 0; i < DOH_SERVERS; i++) {
		while ((q = TAILQ_FIRST(&doh->srv[i].waiting)) != NULL) {
			TAILQ_REMOVE(&doh->srv[i].waiting, q, entry);
			query_free(q);
		}
		doh->srv[i].gen++;
		doh->srv[i].bad = false;
		doh->srv[i].literal = false;
		doh->srv[i].resolving = false;
		doh->srv[i].resolve[0] = '\0';
		doh->srv[i].failing = false;
		doh->srv[i].answered = false;
		doh->srv[i].failed_at = 0;
	}
	doh->nsrv = 0;
}

void
dns_doh_set_servers(struct dns_doh *doh, const char *const *urls, size_t n)
{
	struct doh_server	*s;
	size_t			 i;

	for (i = 0; i < n && i < doh->nsrv; i++)
		if (strcmp(urls[i], doh->srv[i].url) != 0)
			break;
	/* The same list (the portal said it again): connections stay. */
	if (i == n && n == doh->nsrv)
		return;
	servers_clear(doh);
	for (i = 0; i < n && doh->nsrv < DOH_SERVERS; i++) {
		s = &doh->srv[doh->nsrv];
		snprintf(s->url, sizeof(s->url), "%s", urls[i]);
		if (parse_url(s) == -1) {
			log_warnx("dns: DoH server %zu: not a URL curl takes",
			    i + 1);
			s->bad = true;
			snprintf(s->host, sizeof(s->host), "%zu", i + 1);
		}
		doh->nsrv++;
	}
	pool_fill(doh);
	doh_kick(doh);
}

struct dns_doh *
dns_doh_new(const struct dns_doh_config *cfg)
{
	struct dns_doh	*doh;
	size_t		 i;
	int		 t, f;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("dns: cannot initialise libcurl");
	doh = xcalloc(1, sizeof(*doh));
	doh->base = cfg->base;
	doh->tc = cfg->tc;
	doh->answer = cfg->answer;
	doh->arg = cfg->arg;
	if (cfg->ca_file != NULL)
		doh->ca_file = xstrdup(cfg->ca_file);
	TAILQ_INIT(&doh->running);
	for (i = 0; i < DOH_SERVERS; i++)
		TAILQ_INIT(&doh->srv[i].waiting);
	for (t = 0; t < 2; t++)
		for (f = 0; f < 2; f++)
			for (i = 0; i < DOH_POOL; i++)
				doh->pool[t][f][i] = -1;
	doh->nresolvers = cfg->nresolvers;
	if (doh->nresolvers > DNS_UPSTREAM_MAX)
		doh->nresolvers = DNS_UPSTREAM_MAX;
	memcpy(doh->resolvers, cfg->resolvers,
	    doh->nresolvers * sizeof(*doh->resolvers));
	if ((doh->ce = curl_ev_new(cfg->base, doh_done, doh)) == NULL ||
	    (doh->headers = curl_slist_append(NULL,
		"Content-Type: " DOH_CTYPE)) == NULL ||
	    (doh->headers = curl_slist_append(doh->headers,
		"Accept: " DOH_CTYPE)) == NULL)
		fatalx("dns: cannot set up DNS over HTTPS");
	doh->resolver = dns_resolve_new(cfg->base);
	if (dns_resolve_set_servers(doh->resolver, doh->resolvers,
	    doh->nresolvers, doh_udp_socket, doh) == -1)
		fatalx("dns: cannot give c-ares the system's resolvers");
	return (doh);
}

void
dns_doh_free(struct dns_doh *doh)
{
	int	 t, f, i;

	if (doh == NULL)
		return;
	/* Lookups end first, with nothing for anyone. */
	dns_resolve_free(doh->resolver);
	servers_clear(doh);
	curl_ev_free(doh->ce);
	curl_slist_free_all(doh->headers);
	for (t = 0; t < 2; t++)
		for (f = 0; f < 2; f++)
			for (i = 0; i < DOH_POOL; i++)
				if (doh->pool[t][f][i] != -1)
					close(doh->pool[t][f][i]);
	free(doh->ca_file);
	free(doh);
	curl_global_cleanup();
}
