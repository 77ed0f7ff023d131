/* privdrop.c: the one-way drop from root to the unprivileged user. */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <linux/capability.h>

#include <errno.h>
#include <grp.h>
#include <string.h>
#include <unistd.h>

#include "tunneld/privdrop.h"

static int
clear_capabilities(void)
{
	struct __user_cap_header_struct	 hdr;
	struct __user_cap_data_struct	 data[_LINUX_CAPABILITY_U32S_3];

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	return ((int)syscall(SYS_capset, &hdr, data));
}

/*
 * What fzc-tunneld keeps for its whole life, as fzc.service allows it:
 * NET_ADMIN for the TUN device, routes, rules, SO_MARK and the gateway's
 * nft; SETUID, SETGID and SETPCAP to start fzc-controld unprivileged;
 * KILL to signal it.
 */
static const int kept_caps[] = {
	CAP_NET_ADMIN, CAP_SETUID, CAP_SETGID, CAP_SETPCAP, CAP_KILL
};

static int
kept(int cap)
{
	size_t	 i;

	for (i = 0; i < sizeof(kept_caps) / sizeof(kept_caps[0]); i++)
		if (kept_caps[i] == cap)
			return (1);
	return (0);
}

/*
 * tunneld stays root (its files are root's), but gives up every other
 * capability, for itself and whatever it executes, and can never gain
 * privileges by exec again.
 */
int
privdrop_narrow(const char **why)
{
	struct __user_cap_header_struct	 hdr;
	struct __user_cap_data_struct	 data[_LINUX_CAPABILITY_U32S_3];
	int				 cap;

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	for (cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
		if (kept(cap)) {
			data[cap / 32].permitted |= 1U << (cap % 32);
			data[cap / 32].effective |= 1U << (cap % 32);
		} else if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1) {
			*why = "dropping the capability bounding set";
			return (-1);
		}
	}
	if (syscall(SYS_capset, &hdr, data) == -1) {
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
 * Order matters: the bounding set can only be shrunk while we still hold
 * CAP_SETPCAP, so it goes before the uid change; groups before gid before
 * uid, since each step needs the privilege the next one removes. Returns
 * -1 with *why set on the first step that fails.
 */
int
privdrop_to_user(uid_t uid, gid_t gid, const char **why)
{
	int	 cap;

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1) {
		*why = "clearing the ambient capabilities";
		return (-1);
	}
	for (cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1) {
			*why = "dropping the capability bounding set";
			return (-1);
		}
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
	/* setresuid cleared permitted and effective; this takes inheritable. */
	if (clear_capabilities() == -1) {
		*why = "clearing the capability sets";
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
