/*
 * privdrop.c: the one-way narrowing of fzc-tunneld's processes: to a set
 * of capabilities (the spawner, root still), or to a user with at most a
 * few capabilities kept (the data plane: NET_ADMIN; controld: none).
 */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <linux/capability.h>

#include <errno.h>
#include <grp.h>
#include <string.h>
#include <unistd.h>

#include "tunneld/privdrop.h"

/* Permitted and effective become keep; inheritable, inh. */
static int
set_capabilities(uint64_t keep, uint64_t inh)
{
	struct __user_cap_header_struct	 hdr;
	struct __user_cap_data_struct	 data[_LINUX_CAPABILITY_U32S_3];
	int				 i;

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		data[i].permitted = (uint32_t)(keep >> (32 * i));
		data[i].effective = (uint32_t)(keep >> (32 * i));
		data[i].inheritable = (uint32_t)(inh >> (32 * i));
	}
	return ((int)syscall(SYS_capset, &hdr, data));
}

/* Needs CAP_SETPCAP, so it comes before anything that loses it. */
static int
narrow_bounding(uint64_t keep)
{
	int	 cap;

	for (cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (!(keep & (1ULL << cap)) &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1)
			return (-1);
	return (0);
}

/*
 * The process stays root (the spawner: the control socket's directory
 * is root's) but keeps only the capabilities in keep, for itself and
 * whatever it executes, and can never gain privileges by exec again.
 */
int
privdrop_narrow(uint64_t keep, const char **why)
{
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1) {
		*why = "clearing the ambient capabilities";
		return (-1);
	}
	if (narrow_bounding(keep) == -1) {
		*why = "dropping the capability bounding set";
		return (-1);
	}
	if (set_capabilities(keep, 0) == -1) {
		*why = "narrowing the capability sets";
		return (-1);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		*why = "PR_SET_NO_NEW_PRIVS";
		return (-1);
	}
	return (0);
}

/*
 * To uid and gid, keeping the capabilities in keep (none for controld).
 * Kept ones are also ambient, so that a program the process runs (the
 * gateway's nft) has them too, and nothing more. Order matters: the
 * bounding set shrinks while CAP_SETPCAP is still there; groups before
 * gid before uid, since each step needs the privilege the next one
 * removes; PR_SET_KEEPCAPS carries the kept ones over the uid change.
 * Returns -1 with *why set on the first step that fails.
 */
int
privdrop_to_user(uid_t uid, gid_t gid, uint64_t keep, const char **why)
{
	int	 cap;

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1) {
		*why = "clearing the ambient capabilities";
		return (-1);
	}
	if (narrow_bounding(keep) == -1) {
		*why = "dropping the capability bounding set";
		return (-1);
	}
	if (keep != 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1) {
		*why = "PR_SET_KEEPCAPS";
		return (-1);
	}
	if (setgroups(1, &gid) == -1) {
		*why = "setgroups";
		return (-1);
	}
	if (setresgid(gid, gid, gid) == -1) {
		*why = "setresgid";
		return (-1);
	}
	if (setresuid(uid, uid, uid) == -1) {
		*why = "setresuid";
		return (-1);
	}
	/* setresuid cleared effective (and, without keep, permitted). */
	if (set_capabilities(keep, keep) == -1) {
		*why = "setting the capability sets";
		return (-1);
	}
	for (cap = 0; cap < 64; cap++)
		if ((keep & (1ULL << cap)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) ==
		    -1) {
			*why = "raising the ambient capabilities";
			return (-1);
		}
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == -1) {
		*why = "PR_SET_KEEPCAPS";
		return (-1);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		*why = "PR_SET_NO_NEW_PRIVS";
		return (-1);
	}
	/* Trust nothing above: getting root back must now be impossible. */
	if (uid != 0 && (setuid(0) != -1 || seteuid(0) != -1)) {
		*why = "verification: setuid(0) still succeeds";
		return (-1);
	}
	if (gid != 0 && (setgid(0) != -1 || setegid(0) != -1)) {
		*why = "verification: setgid(0) still succeeds";
		return (-1);
	}
	errno = 0;
	return (0);
}
