/*
 * dns_pattern.c: matching names against DNS resource patterns, and which
 * of several matching patterns is the most specific (PROTOCOL.md 4.6).
 * Within a label fnmatch(3) does the globbing; `**` and the labels
 * around it are ours.
 */
#include <fnmatch.h>
#include <string.h>
#include <strings.h>

#include "controld/dns_pattern.h"

#define MAX_LABELS	127
/* Each `**` multiplies the ways to match: a few are plenty. */
#define MAX_ANY		4

/* How specific a pattern label is: lower wins. */
enum rank {
	RANK_NONE = -1,		/* the pattern ran out of labels first */
	RANK_EXACT,
	RANK_ONE,		/* has `?` */
	RANK_STAR,		/* has `*` */
	RANK_ANY,		/* `**` */
};

static int
count_any(char **labels, int n)
{
	int	 i, any = 0;

	for (i = 0; i < n; i++)
		any += strcmp(labels[i], "**") == 0;
	return (any);
}

/* Splits a name into its labels, in place; -1: not a name. */
static int
split(char *s, char **labels)
{
	size_t	 len = strlen(s);
	int	 n = 0;
	char	*p;

	if (len > 0 && s[len - 1] == '.')
		s[--len] = '\0';
	if (len == 0 || len > DNS_NAME_MAX)
		return (-1);
	for (p = s; p != NULL; n++) {
		if (n == MAX_LABELS)
			return (-1);
		labels[n] = p;
		if ((p = strchr(p, '.')) != NULL)
			*p++ = '\0';
		if (*labels[n] == '\0' || strlen(labels[n]) > 63)
			return (-1);
	}
	return (n);
}

static enum rank
rank(const char *label)
{
	if (strcmp(label, "**") == 0)
		return (RANK_ANY);
	if (strchr(label, '*') != NULL)
		return (RANK_STAR);
	if (strchr(label, '?') != NULL)
		return (RANK_ONE);
	return (RANK_EXACT);
}

/* A pattern: a name whose labels may hold `*` and `?`, or be `**`. */
bool
dns_pattern_valid(const char *pattern)
{
	char	 buf[DNS_NAME_MAX + 2], *labels[MAX_LABELS];
	int	 n;

	/* fnmatch's brackets and escapes are not part of the syntax. */
	if (strlen(pattern) >= sizeof(buf) || strpbrk(pattern, "[]\\") != NULL)
		return (false);
	strcpy(buf, pattern);
	return (
	    (n = split(buf, labels)) > 0 && count_any(labels, n) <= MAX_ANY);
}

/* Pattern labels p[0..np) against name labels n[0..nn), from the right. */
static bool
match(char **p, int np, char **n, int nn)
{
	int	 k;

	if (np == 0)
		return (nn == 0);
	if (strcmp(p[np - 1], "**") == 0) {
		for (k = 0; k <= nn; k++)
			if (match(p, np - 1, n, nn - k))
				return (true);
		return (false);
	}
	/* `*.example.com` also matches example.com itself. */
	if (np == 1 && nn == 0 && strcmp(p[0], "*") == 0)
		return (true);
	if (nn == 0 || fnmatch(p[np - 1], n[nn - 1], FNM_CASEFOLD) != 0)
		return (false);
	return (match(p, np - 1, n, nn - 1));
}

bool
dns_pattern_match(const char *pattern, const char *name)
{
	char	 pbuf[DNS_NAME_MAX + 2], nbuf[DNS_NAME_MAX + 2];
	char	*p[MAX_LABELS], *n[MAX_LABELS];
	int	 np, nn;

	if (strlen(pattern) >= sizeof(pbuf) || strlen(name) >= sizeof(nbuf) ||
	    strpbrk(pattern, "[]\\") != NULL)
		return (false);
	strcpy(pbuf, pattern);
	strcpy(nbuf, name);
	if ((np = split(pbuf, p)) <= 0 || (nn = split(nbuf, n)) <= 0 ||
	    count_any(p, np) > MAX_ANY)
		return (false);
	return (match(p, np, n, nn));
}

/*
 * <0: a is more specific than b, >0: b is, 0: as specific. Labels are
 * compared from the right, the first that differs in kind decides: exact
 * before `?` before `*` before `**`; a pattern with no label left there
 * is the more specific.
 */
int
dns_pattern_cmp(const char *a, const char *b)
{
	char	 abuf[DNS_NAME_MAX + 2], bbuf[DNS_NAME_MAX + 2];
	char	*al[MAX_LABELS], *bl[MAX_LABELS];
	int	 na, nb, i;
	enum rank ra, rb;

	if (strlen(a) >= sizeof(abuf) || strlen(b) >= sizeof(bbuf))
		return (0);
	strcpy(abuf, a);
	strcpy(bbuf, b);
	if ((na = split(abuf, al)) <= 0 || (nb = split(bbuf, bl)) <= 0)
		return (0);
	for (i = 1; i <= na || i <= nb; i++) {
		ra = i <= na ? rank(al[na - i]) : RANK_NONE;
		rb = i <= nb ? rank(bl[nb - i]) : RANK_NONE;
		if (ra != rb)
			return (ra < rb ? -1 : 1);
	}
	return (0);
}

/* The index of the most specific pattern matching name, or -1. */
ssize_t
dns_pattern_best(const char *const *patterns, size_t n, const char *name)
{
	ssize_t	 best = -1;
	size_t	 i;

	for (i = 0; i < n; i++)
		if (dns_pattern_match(patterns[i], name) &&
		    (best == -1 ||
		    dns_pattern_cmp(patterns[i], patterns[best]) < 0))
			best = (ssize_t)i;
	return (best);
}
