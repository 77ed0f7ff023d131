/* privdrop.h: the one-way drop from root to the unprivileged user. */
#ifndef FZC_PRIVDROP_H
#define FZC_PRIVDROP_H

#include <sys/types.h>

int	privdrop_to_user(uid_t, gid_t, const char **);
int	privdrop_narrow(const char **);

#endif
