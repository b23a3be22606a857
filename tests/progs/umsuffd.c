// SPDX-License-Identifier: GPL-2.0
/*
 * umsuffd - a target whose memory blocks page faults forever: two anonymous
 * pages registered with userfaultfd (missing-page mode) whose faults are
 * never resolved. Any access that faults on them (by this process, or by a
 * sampler that faults) would wait indefinitely. Also holds a normal counter.
 *
 * Prints "var NAME ADDR LEN TYPE" lines like umstarget, then "ready PID", and
 * sleeps until killed. Exits 77 if userfaultfd is unavailable.
 *
 * umsuffd --read FILE: a reader that can never finish: opens FILE, prints
 * "reading PID", and read(2)s it into the blocked pages, so the kernel's
 * copy_to_user() waits forever (until the process is killed).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile uint32_t counter = 42;

int main(int argc, char **argv)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	long page = sysconf(_SC_PAGESIZE);
	void *p;
	int uffd;

	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0) {
		perror("userfaultfd");
		return 77;
	}
	if (ioctl(uffd, UFFDIO_API, &api)) {
		perror("UFFDIO_API");
		return 77;
	}
	p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	reg.range.start = (uintptr_t)p;
	reg.range.len = 2 * page;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		perror("UFFDIO_REGISTER");
		return 77;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "--read")) {
		int fd = open(argv[2], O_RDONLY);

		if (fd < 0) {
			perror(argv[2]);
			return 1;
		}
		printf("reading %d\n", (int)getpid());
		if (read(fd, p, (size_t)page) < 0)
			perror("read");
		printf("read returned\n");
		return 0;
	}
	printf("var counter %p 4 u32\n", (void *)&counter);
	printf("var blocked %p %ld hex\n", p, 2 * page);
	printf("ready %d\n", (int)getpid());
	for (;;)
		pause();
}
