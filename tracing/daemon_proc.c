// SPDX-License-Identifier: GPL-2.0
/*
 * daemon_proc.c - the processes `umsampler daemon` watches (cli.h): reading /proc/PID
 * (stat, comm, exe, cmdline, cgroup), matching a process against a watch, walking /proc, and
 * the proc connector (NETLINK_CONNECTOR, CN_IDX_PROC: PROC_EVENT_EXEC and PROC_EVENT_EXIT).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include "cli.h"

/* A small /proc file, NUL-terminated, malloc'ed; *len its length.  NULL if unreadable. */
static char *read_small(const char *path, size_t *len)
{
	char *buf = malloc(8192);
	ssize_t n, got = 0;
	int fd;

	if (!buf)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return NULL;
	}
	while (got < 8191 && (n = read(fd, buf + got, (size_t)(8191 - got))) > 0)
		got += n;
	close(fd);
	buf[got] = '\0';
	if (len)
		*len = (size_t)got;
	return buf;
}

int dmn_proc_read(pid_t pid, struct dmn_proc *p)
{
	char path[64], *buf, *l, *r;
	unsigned long long start = 0;
	int tgid = -1;

	memset(p, 0, sizeof(*p));
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	buf = read_small(path, NULL);
	if (!buf)
		return -1;
	/* "pid (comm) state ppid ... starttime(22)"; comm may hold ')' and spaces */
	l = strchr(buf, '(');
	r = strrchr(buf, ')');
	if (!l || !r || r < l) {
		free(buf);
		return -1;
	}
	snprintf(p->comm, sizeof(p->comm), "%.*s", (int)(r - l - 1), l + 1);
	{
		char *s = r + 2, *save = NULL, *tok;
		int field = 3;

		for (tok = strtok_r(s, " ", &save); tok; tok = strtok_r(NULL, " ", &save), field++)
			if ((field == 3 && (*tok == 'Z' || *tok == 'X')) ||
			    (field == 9 && (strtoul(tok, NULL, 10) & 0x4))) {
				/*
				 * Exited, not reaped yet (state Z, X), or exiting
				 * (PF_EXITING in the flags; the connector's exit
				 * event comes then): its mm, exe and cmdline are
				 * gone, so it would match nothing.
				 */
				free(buf);
				return -1;
			} else if (field == 22) {
				start = strtoull(tok, NULL, 10);
				break;
			}
	}
	free(buf);
	/* a thread id also has /proc/TID: keep thread-group leaders only */
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	buf = read_small(path, NULL);
	if (buf) {
		char *t = strstr(buf, "\nTgid:");

		if (t)
			tgid = atoi(t + 6);
		free(buf);
	}
	if (tgid != (int)pid || !start)
		return -1;
	p->pid = pid;
	p->start = start;
	return 0;
}

void dmn_proc_free(struct dmn_proc *p)
{
	free(p->exe);
	free(p->cmdline);
	free(p->cgroup);
	p->exe = p->cmdline = p->cgroup = NULL;
	p->got_exe = p->got_cmdline = p->got_cgroup = false;
}

unsigned long long dmn_proc_start(pid_t pid)
{
	struct dmn_proc p;

	if (dmn_proc_read(pid, &p))
		return 0;
	return p.start;
}

static const char *proc_exe(struct dmn_proc *p)
{
	char path[64], buf[PATH_MAX];
	ssize_t n;

	if (p->got_exe)
		return p->exe;
	p->got_exe = true;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)p->pid);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	if (n > 10 && !strcmp(buf + n - 10, " (deleted)"))
		buf[n - 10] = '\0';
	p->exe = strdup(buf);
	return p->exe;
}

static const char *proc_cmdline(struct dmn_proc *p)
{
	char path[64];
	size_t n;

	if (p->got_cmdline)
		return p->cmdline;
	p->got_cmdline = true;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)p->pid);
	p->cmdline = read_small(path, &n);
	if (p->cmdline) {
		while (n && !p->cmdline[n - 1])
			p->cmdline[--n] = '\0';
		for (size_t i = 0; i < n; i++)
			if (!p->cmdline[i])
				p->cmdline[i] = ' ';
	}
	return p->cmdline;
}

/* The cgroup v2 path ("0::/system.slice/foo.service"), else the first hierarchy's. */
static const char *proc_cgroup(struct dmn_proc *p)
{
	char path[64], *buf, *save = NULL, *l, *first = NULL;

	if (p->got_cgroup)
		return p->cgroup;
	p->got_cgroup = true;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)p->pid);
	buf = read_small(path, NULL);
	if (!buf)
		return NULL;
	for (l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *c = strchr(l, ':');
		char *c2 = c ? strchr(c + 1, ':') : NULL;

		if (!c2)
			continue;
		if (!strncmp(l, "0::", 3)) {
			p->cgroup = strdup(c2 + 1);
			break;
		}
		if (!first)
			first = c2 + 1;
	}
	if (!p->cgroup && first)
		p->cgroup = strdup(first);
	free(buf);
	return p->cgroup;
}

static bool match_one(const struct dmn_match *m, struct dmn_proc *p)
{
	const char *s = NULL;
	size_t n;

	switch (m->key) {
	case DMN_COMM:
		s = p->comm;
		break;
	case DMN_EXE:
		s = proc_exe(p);
		break;
	case DMN_CMDLINE:
		s = proc_cmdline(p);
		break;
	case DMN_CGROUP:
	case DMN_UNIT:
		s = proc_cgroup(p);
		break;
	}
	if (!s)
		return false;
	if (m->regex)
		return !regexec(m->re, s, 0, NULL, 0);
	if (m->key == DMN_CGROUP) {
		n = strlen(m->value);
		while (n > 1 && m->value[n - 1] == '/')
			n--;
		return !strncmp(s, m->value, n) && (!s[n] || s[n] == '/' || n == 1);
	}
	if (m->key == DMN_UNIT) {
		n = strlen(m->value);
		for (const char *c = s; (c = strstr(c, m->value)); c++)
			if ((c == s || c[-1] == '/') && (!c[n] || c[n] == '/'))
				return true;
		return false;
	}
	return !strcmp(s, m->value);
}

bool dmn_watch_matches(const struct dmn_watch *w, struct dmn_proc *p)
{
	for (size_t i = 0; i < w->nm; i++)
		if (!match_one(&w->m[i], p))
			return false;
	return w->nm > 0;
}

void dmn_proc_each(void (*fn)(void *arg, pid_t pid), void *arg)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		fn(arg, (pid_t)pid);
	}
	closedir(d);
}

/* ---- the proc connector ---- */

/* Send PROC_CN_MCAST_LISTEN or _IGNORE with ack number ack (the kernel answers ack + 1). */
static int cn_mcast(int fd, enum proc_cn_mcast_op op, unsigned int ack)
{
	struct {
		struct nlmsghdr nl;
		struct cn_msg cn;
		enum proc_cn_mcast_op op;
	} __attribute__((packed)) req;

	memset(&req, 0, sizeof(req));
	req.nl.nlmsg_len = sizeof(req);
	req.nl.nlmsg_type = NLMSG_DONE;
	req.cn.id.idx = CN_IDX_PROC;
	req.cn.id.val = CN_VAL_PROC;
	req.cn.ack = ack;
	req.cn.len = sizeof(enum proc_cn_mcast_op);
	req.op = op;
	return send(fd, &req, sizeof(req), 0) == (ssize_t)sizeof(req) ? 0 : -1;
}

/*
 * The kernel's answer to our LISTEN (PROC_EVENT_NONE with ack.err, its cn_msg.ack our ack + 1;
 * its seq is the event counter's): 0, the errno it refused with, or ETIMEDOUT when none came:
 * a requester outside the initial namespaces is ignored, and before Linux 6.6 one without
 * CAP_NET_ADMIN is refused with EPERM in an answer sent only if someone else listens.  Either
 * way that socket would get no event at all.
 */
static int cn_ack(int fd, unsigned int ack)
{
	char buf[4096] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct pollfd p = { .fd = fd, .events = POLLIN };

	for (int tries = 0; tries < 64; tries++) {
		struct nlmsghdr *nh;
		ssize_t n;

		if (poll(&p, 1, 2000) <= 0)
			return ETIMEDOUT;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == ENOBUFS))
			continue;
		if (n <= 0)
			return n < 0 ? errno : EIO;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
			struct cn_msg cn;
			struct proc_event ev;

			if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(cn) + sizeof(ev)))
				continue;
			memcpy(&cn, NLMSG_DATA(nh), sizeof(cn));
			memcpy(&ev, (char *)NLMSG_DATA(nh) + sizeof(cn), sizeof(ev));
			if (cn.id.idx == CN_IDX_PROC && cn.ack == ack + 1 && ev.what == PROC_EVENT_NONE)
				return (int)ev.event_data.ack.err;
		}
	}
	return ETIMEDOUT;
}

int dmn_cn_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC };
	unsigned int ack = (unsigned int)getpid() * 2654435761u;
	int fd, e, rcvbuf = 4 << 20;

	fd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_CONNECTOR);
	if (fd < 0)
		return -1;
	/* room for bursts (100 execs at once); SO_RCVBUFFORCE needs CAP_NET_ADMIN, like us */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	sa.nl_pid = 0;	/* the kernel assigns our port id */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || cn_mcast(fd, PROC_CN_MCAST_LISTEN, ack))
		goto fail;
	e = cn_ack(fd, ack);
	if (e) {
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

void dmn_cn_close(int fd)
{
	/* the kernel counts listeners until told: every exec and exit pays while it counts us */
	cn_mcast(fd, PROC_CN_MCAST_IGNORE, 0);
	close(fd);
}

int dmn_cn_read(int fd, void (*fn)(void *arg, int ev, pid_t pid), void *arg)
{
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	int lost = 0;

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nh;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				lost = 1;
				continue;
			}
			return lost;	/* EAGAIN: all read */
		}
		if (n == 0)
			return lost;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
			struct cn_msg *cn;
			struct proc_event ev;	/* copied: cn->data is only 4-byte aligned */

			if (nh->nlmsg_type == NLMSG_ERROR || nh->nlmsg_type == NLMSG_NOOP)
				continue;
			if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*cn) + sizeof(ev)))
				continue;
			cn = NLMSG_DATA(nh);
			if (cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC)
				continue;
			memcpy(&ev, cn->data, sizeof(ev));
			if (ev.what == PROC_EVENT_EXEC)
				fn(arg, DMN_EV_EXEC, ev.event_data.exec.process_tgid);
			else if (ev.what == PROC_EVENT_EXIT &&
				 ev.event_data.exit.process_pid == ev.event_data.exit.process_tgid)
				fn(arg, DMN_EV_EXIT, ev.event_data.exit.process_tgid);
		}
	}
}
