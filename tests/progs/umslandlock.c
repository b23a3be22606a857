// SPDX-License-Identifier: GPL-2.0
/*
 * umslandlock - run a command inside a new Landlock domain.
 *
 * umslandlock CMD ARGS...: sets no_new_privs, creates a ruleset that handles
 * one harmless filesystem right (making character devices) and restricts
 * itself, then execs CMD. Landlock then also forbids the command to ptrace, or
 * read the memory of, any process outside its domain (Landlock's ptrace
 * rule), whatever its capabilities: the LSM case of the access check.
 * Exits 77 if Landlock is unavailable.
 */
#define _GNU_SOURCE
#include <linux/landlock.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct landlock_ruleset_attr attr = {
		.handled_access_fs = LANDLOCK_ACCESS_FS_MAKE_CHAR,
	};
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CMD [ARGS...]\n", argv[0]);
		return 2;
	}
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0) {
		perror("landlock_create_ruleset");
		return 77;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    syscall(SYS_landlock_restrict_self, fd, 0)) {
		perror("landlock_restrict_self");
		return 77;
	}
	close(fd);
	execvp(argv[1], argv + 1);
	perror(argv[1]);
	return 127;
}
