/* privdrop.h: the one-way narrowing of fzc-tunneld's processes. */
#ifndef FZC_PRIVDROP_H
#define FZC_PRIVDROP_H

#include <sys/types.h>

#include <stdint.h>

/* A capability set, bit n for capability n. */
#define PRIVDROP_CAP(n)	(1ULL << (n))

int	privdrop_to_user(uid_t, gid_t, uint64_t, const char **);
int	privdrop_narrow(uint64_t, const char **);

#endif
