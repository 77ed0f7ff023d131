/* sysfilter.h: what fzc's seccomp allow-lists have in common. */
#ifndef FZC_SYSFILTER_H
#define FZC_SYSFILTER_H

#include <stddef.h>
#include <stdint.h>

#include <seccomp.h>

scmp_filter_ctx	sysfilter_new(void);
void		sysfilter_rule(scmp_filter_ctx, uint32_t, int, unsigned,
		    const struct scmp_arg_cmp *);
void		sysfilter_allow(scmp_filter_ctx, const int *, size_t);
void		sysfilter_threads(scmp_filter_ctx);
void		sysfilter_load(scmp_filter_ctx);

#endif
