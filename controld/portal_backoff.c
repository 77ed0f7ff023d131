/*
 * Whether and when to connect to the portal again: the classification of
 * a refused connect (PROTOCOL.md 1.6), Retry-After and the reconnect
 * backoff (1.8).
 */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "controld/portal_backoff.h"

/* Retry-After beyond a day is more likely a broken proxy than a plan. */
#define MAX_RETRY_AFTER_S	86400ULL

/*
 * Only 401 stops reconnecting; the problem+json "code" says whether the
 * token is worthless.  A 401 without that body (a proxy page) keeps it.
 */
enum portal_verdict
portal_backoff_classify(int status, const char *body, size_t len)
{
	json_t			*root, *code;
	const char		*c;
	enum portal_verdict	 v = PORTAL_STOP;

	if (status != 401)
		return (PORTAL_RETRY);
	if (body == NULL ||
	    (root = json_loadb(body, len, 0, NULL)) == NULL)
		return (PORTAL_STOP);
	code = json_object_get(root, "code");
	if (json_is_string(code)) {
		c = json_string_value(code);
		if (strcmp(c, "invalid_token") == 0 ||
		    strcmp(c, "missing_token") == 0)
			v = PORTAL_STOP_SIGNOUT;
	}
	json_decref(root);
	return (v);
}

static int
name_index(const char *s, const char *const *names, int n)
{
	int	 i;

	for (i = 0; i < n; i++) {
		if (strncmp(s, names[i], 3) == 0)
			return (i);
	}
	return (-1);
}

static bool
digits(const char *s, size_t n, int *out)
{
	size_t	 i;

	*out = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (false);
		*out = *out * 10 + (s[i] - '0');
	}
	return (true);
}

/* IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 5.6.7). */
static bool
parse_http_date(const char *s, time_t *out)
{
	static const char *const days[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
	};
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
		"Oct", "Nov", "Dec",
	};
	struct tm	 tm;
	int		 mon, day, year, h, m, sec;

	if (strlen(s) != 29 || name_index(s, days, 7) == -1 ||
	    strncmp(s + 3, ", ", 2) != 0 || s[7] != ' ' || s[11] != ' ' ||
	    s[16] != ' ' || s[19] != ':' || s[22] != ':' ||
	    strcmp(s + 25, " GMT") != 0)
		return (false);
	if ((mon = name_index(s + 8, months, 12)) == -1 ||
	    !digits(s + 5, 2, &day) || !digits(s + 12, 4, &year) ||
	    !digits(s + 17, 2, &h) || !digits(s + 20, 2, &m) ||
	    !digits(s + 23, 2, &sec))
		return (false);
	if (day < 1 || day > 31 || h > 23 || m > 59 || sec > 60 ||
	    year < 1970)
		return (false);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon;
	tm.tm_mday = day;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	*out = timegm(&tm);
	return (*out != (time_t)-1);
}

/*
 * Retry-After as delay-seconds or as an HTTP date, against the wall
 * clock the caller passes.  A date in the past means "now".
 */
bool
portal_backoff_retry_after(const char *v, time_t wall, uint64_t *delay)
{
	char		 buf[32];
	size_t		 len;
	uint64_t	 s = 0;
	time_t		 t;
	int		 d;

	if (v == NULL)
		return (false);
	while (*v == ' ' || *v == '\t')
		v++;
	len = strlen(v);
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	if (len == 0 || len >= sizeof(buf))
		return (false);
	memcpy(buf, v, len);
	buf[len] = '\0';
	if (buf[0] >= '0' && buf[0] <= '9') {
		for (v = buf; *v != '\0'; v++) {
			if (!digits(v, 1, &d))
				return (false);
			s = s * 10 + (uint64_t)d;
			if (s > MAX_RETRY_AFTER_S)
				s = MAX_RETRY_AFTER_S;
		}
	} else {
		if (!parse_http_date(buf, &t))
			return (false);
		s = t > wall ? (uint64_t)(t - wall) : 0;
		if (s > MAX_RETRY_AFTER_S)
			s = MAX_RETRY_AFTER_S;
	}
	*delay = s * NSEC_PER_SEC;
	return (true);
}

/*
 * budget: how long a run of failures may last before the session gives
 * up (--max-partition-time), before the first join and after it; 0:
 * forever, which is the default (PROTOCOL.md 1.8, headless client).
 */
void
portal_backoff_init(struct portal_backoff *b, uint64_t budget)
{
	memset(b, 0, sizeof(*b));
	b->budget = budget;
}

void
portal_backoff_joined(struct portal_backoff *b)
{
	b->joined_once = true;
	b->running = false;
}

static uint64_t
first_interval(const struct portal_backoff *b)
{
	return (b->joined_once ? PORTAL_BACKOFF_INITIAL_NS :
	    PORTAL_BACKOFF_FIRST_NS);
}

/*
 * The network changed: the caller connects at once, and a failure after
 * that waits the shortest delay again.  The run, and with it the budget,
 * goes on: the portal is no nearer for a new network.
 */
void
portal_backoff_reset(struct portal_backoff *b)
{
	b->interval = first_interval(b);
}

/*
 * The delay before the next attempt, or false when the budget is spent.
 * Before the first join: 1 s, no jitter, for 15 s, as connlib's first
 * connect; where connlib then gives up (its service manager restarts
 * it), fzc goes on as after a join.  After a join: 0.5 s times 1.5 per
 * failure, capped at 60 s, each delay drawn from +-50 % of the interval
 * with rnd (uniform over 32 bits), as connlib's backoff does.
 */
bool
portal_backoff_next(struct portal_backoff *b, uint64_t now, uint32_t rnd,
    uint64_t *delay)
{
	uint64_t	 elapsed, lo, span;

	if (!b->running) {
		b->running = true;
		b->start = now;
		b->interval = first_interval(b);
	}
	elapsed = now > b->start ? now - b->start : 0;
	if (b->budget != 0 && elapsed > b->budget)
		return (false);
	if (!b->joined_once && elapsed < PORTAL_BACKOFF_FIRST_FIXED_NS)
		*delay = PORTAL_BACKOFF_FIRST_NS;
	else {
		lo = b->interval - b->interval / 2;
		span = b->interval + b->interval / 2 - lo + 1;
		*delay = lo + (uint64_t)(((unsigned __int128)span * rnd) >> 32);
		if (b->interval >= PORTAL_BACKOFF_MAX_NS / 3 * 2)
			b->interval = PORTAL_BACKOFF_MAX_NS;
		else
			b->interval = b->interval * 3 / 2;
	}
	return (b->budget == 0 || elapsed + *delay <= b->budget);
}

/* A Retry-After the portal sent wins over the backoff, as in connlib. */
bool
portal_backoff_delay(struct portal_backoff *b, uint64_t now,
    const char *retry_after, time_t wall, uint32_t rnd, uint64_t *delay)
{
	if (portal_backoff_retry_after(retry_after, wall, delay))
		return (true);
	return (portal_backoff_next(b, now, rnd, delay));
}
