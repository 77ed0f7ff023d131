/*
 * dns_pattern.h: the address patterns of DNS resources (PROTOCOL.md 4.6):
 * `*` any characters within one label, `?` exactly one character, `**`
 * any number of labels, case-insensitive; when several match a name, the
 * most specific wins.
 */
#ifndef FZC_DNS_PATTERN_H
#define FZC_DNS_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define DNS_NAME_MAX	253	/* text form, without the trailing dot */

bool	 dns_pattern_valid(const char *);
bool	 dns_pattern_match(const char *, const char *);
int	 dns_pattern_cmp(const char *, const char *);
ssize_t	 dns_pattern_best(const char *const *, size_t, const char *);

#endif
