// SPDX-License-Identifier: GPL-2.0
/*
 * umsfuse - a FUSE file system whose reads never complete (libfuse3).
 *
 * umsfuse MOUNTPOINT: mounts a file system with one file, /data (64 KiB,
 * read-only), and serves it in the foreground. Lookups, getattr and open are
 * answered; a read never is: the request thread sleeps until the process is
 * killed. A page of /data that is not in the page cache therefore can never
 * be read in, and anything that waits for such a read (a page fault on a
 * mapping of the file) waits forever: the test of `fault` never blocking the
 * sampler. The test polls /proc/mounts for the mount, and unmounts it (lazily)
 * after killing the server.
 */
#define FUSE_USE_VERSION 31
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define UMSFUSE_SIZE	(64 << 10)

static int umsfuse_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	(void)fi;
	memset(st, 0, sizeof(*st));
	if (!strcmp(path, "/")) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	if (strcmp(path, "/data"))
		return -ENOENT;
	st->st_mode = S_IFREG | 0444;
	st->st_nlink = 1;
	st->st_size = UMSFUSE_SIZE;
	return 0;
}

static int umsfuse_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
			   struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	(void)off;
	(void)fi;
	(void)flags;
	if (strcmp(path, "/"))
		return -ENOENT;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	fill(buf, "data", NULL, 0, 0);
	return 0;
}

static int umsfuse_open(const char *path, struct fuse_file_info *fi)
{
	if (strcmp(path, "/data"))
		return -ENOENT;
	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EACCES;
	return 0;
}

/* Never answers: the kernel's request waits until the connection is aborted. */
static int umsfuse_read(const char *path, char *buf, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	(void)path;
	(void)buf;
	(void)size;
	(void)off;
	(void)fi;
	for (;;)
		pause();
	return 0;
}

static const struct fuse_operations umsfuse_ops = {
	.getattr = umsfuse_getattr,
	.readdir = umsfuse_readdir,
	.open = umsfuse_open,
	.read = umsfuse_read,
};

int main(int argc, char **argv)
{
	char *args[] = { argv[0], "-f", argc > 1 ? argv[1] : NULL, NULL };

	if (argc != 2) {
		fprintf(stderr, "usage: %s MOUNTPOINT\n", argv[0]);
		return 2;
	}
	return fuse_main(3, args, &umsfuse_ops, NULL);
}
