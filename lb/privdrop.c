/*
 * privdrop.c - switching the lbd master from root to the configured user
 * (see privdrop.h for what still works afterwards).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <unistd.h>

#include "privdrop.h"

/* Looks up `user`; 0 with *uid and *gid, or -1 with why. */
static int
privdrop_lookup(const char *user, uid_t *uid, gid_t *gid, char *why,
    size_t whylen)
{
	struct passwd	 pw, *res = NULL;
	char		 buf[4096];
	int		 rc;

	rc = getpwnam_r(user, &pw, buf, sizeof(buf), &res);
	if (res == NULL) {
		snprintf(why, whylen, "user \"%s\": %s", user,
		    rc != 0 ? strerror(rc) : "no such user");
		return -1;
	}
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return 0;
}

/*
 * Checks the switch took: all three uids and gids are the target, and
 * root cannot be had back.  0, or -1 with why.
 */
static int
privdrop_verify(uid_t uid, gid_t gid, char *why, size_t whylen)
{
	uid_t	 ru, eu, su;
	gid_t	 rg, eg, sg;

	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1) {
		snprintf(why, whylen, "getresuid: %s", strerror(errno));
		return -1;
	}
	if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid ||
	    sg != gid) {
		snprintf(why, whylen, "ids did not change (uid %u/%u/%u, "
		    "gid %u/%u/%u)", ru, eu, su, rg, eg, sg);
		return -1;
	}
	if (uid != 0 && (setuid(0) != -1 || seteuid(0) != -1)) {
		snprintf(why, whylen, "root could be regained after the drop");
		return -1;
	}
	return 0;
}

int
privdrop(const char *user, char *why, size_t whylen)
{
	uid_t	 uid;
	gid_t	 gid;

	if (user == NULL || user[0] == '\0')
		return 0;
	if (privdrop_lookup(user, &uid, &gid, why, whylen) == -1)
		return -1;
	if (geteuid() != 0) {
		if (geteuid() == uid && getuid() == uid)
			return 0;
		snprintf(why, whylen, "user \"%s\": switching users needs root "
		    "(running as uid %u)", user, (unsigned)geteuid());
		return -1;
	}
	if (setgroups(1, &gid) == -1) {
		snprintf(why, whylen, "setgroups(%u): %s", gid, strerror(errno));
		return -1;
	}
	if (setresgid(gid, gid, gid) == -1) {
		snprintf(why, whylen, "setresgid(%u): %s", gid, strerror(errno));
		return -1;
	}
	/* Without SECBIT_KEEP_CAPS this clears the permitted and effective sets. */
	if (setresuid(uid, uid, uid) == -1) {
		snprintf(why, whylen, "setresuid(%u): %s", uid, strerror(errno));
		return -1;
	}
	/* lbd never executes anything: nothing may gain privileges back. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		snprintf(why, whylen, "prctl(PR_SET_NO_NEW_PRIVS): %s",
		    strerror(errno));
		return -1;
	}
	return privdrop_verify(uid, gid, why, whylen);
}
