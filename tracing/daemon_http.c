// SPDX-License-Identifier: GPL-2.0
/*
 * daemon_http.c - the metrics server of `umsampler daemon` (cli.h: dmn_http_*): one
 * non-blocking listening socket and up to DMN_HTTP_CLIENTS non-blocking connections served
 * from the daemon's poll() loop.  GET/HEAD /metrics (Prometheus text format 0.0.4, or
 * OpenMetrics 1.0.0 when Accept names application/openmetrics-text), GET / (a pointer to
 * /metrics); 400 for a malformed or oversized request, 404 for other paths, 405 for other
 * methods.  A request may arrive in pieces; one request per connection (Connection: close);
 * a connection that has not sent its request, or not taken its answer, within
 * DMN_HTTP_TIMEOUT_MS is closed, so no client can hold the daemon.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "cli.h"

#define DMN_HTTP_CLIENTS	64
#define DMN_HTTP_REQ_MAX	8192
#define DMN_HTTP_TIMEOUT_MS	10000
#define DMN_HTTP_LINGER_MS	2000

struct dmn_client {
	int fd;
	long long deadline;	/* ms, CLOCK_MONOTONIC */
	char req[DMN_HTTP_REQ_MAX + 1];
	size_t rlen;
	char *out;		/* the answer being sent */
	size_t olen, off;
	bool draining;		/* answer sent: reading what the client still sends, until EOF */
};

struct dmn_http {
	int lfd;
	dmn_render_fn render;
	void *arg;
	struct dmn_client c[DMN_HTTP_CLIENTS];
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

struct dmn_http *dmn_http_open(const char *addr, dmn_render_fn render, void *arg, char *bound,
			       size_t bn)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST |
				  AI_NUMERICSERV | AI_PASSIVE }, *ai = NULL;
	char host[256], *port;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct dmn_http *h;
	int fd = -1, one = 1, r;

	snprintf(host, sizeof(host), "%s", addr);
	port = strrchr(host, ':');
	if (!port || port == host) {
		dmn_log("--listen '%s': expected HOST:PORT (127.0.0.1:9464, [::1]:9464)", addr);
		return NULL;
	}
	*port++ = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	r = getaddrinfo(host, port, &hints, &ai);
	if (r) {
		dmn_log("--listen '%s': %s", addr, gai_strerror(r));
		return NULL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 128) ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl)) {
		dmn_log("listen on %s: %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return NULL;
	}
	freeaddrinfo(ai);
	{
		char hb[INET6_ADDRSTRLEN] = "?";
		int p = 0;

		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			inet_ntop(AF_INET6, &s6->sin6_addr, hb, sizeof(hb));
			p = ntohs(s6->sin6_port);
			snprintf(bound, bn, "[%s]:%d", hb, p);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			inet_ntop(AF_INET, &s4->sin_addr, hb, sizeof(hb));
			p = ntohs(s4->sin_port);
			snprintf(bound, bn, "%s:%d", hb, p);
		}
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		close(fd);
		return NULL;
	}
	h->lfd = fd;
	h->render = render;
	h->arg = arg;
	for (int i = 0; i < DMN_HTTP_CLIENTS; i++)
		h->c[i].fd = -1;
	return h;
}

static void client_close(struct dmn_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	c->out = NULL;
	c->fd = -1;
	c->rlen = c->olen = c->off = 0;
	c->draining = false;
}

void dmn_http_close(struct dmn_http *h)
{
	if (!h)
		return;
	for (int i = 0; i < DMN_HTTP_CLIENTS; i++)
		client_close(&h->c[i]);
	close(h->lfd);
	free(h);
}

int dmn_http_fds(struct dmn_http *h, struct pollfd *fds, int max, int *timeout_ms)
{
	long long now = now_ms();
	int n = 0;

	if (max < 1)
		return 0;
	fds[n++] = (struct pollfd){ .fd = h->lfd, .events = POLLIN };
	for (int i = 0; i < DMN_HTTP_CLIENTS && n < max; i++) {
		struct dmn_client *c = &h->c[i];
		long long left;

		if (c->fd < 0)
			continue;
		fds[n++] = (struct pollfd){ .fd = c->fd,
					    .events = c->out && !c->draining ? POLLOUT : POLLIN };
		left = c->deadline - now;
		if (left < 0)
			left = 0;
		if (*timeout_ms < 0 || left < *timeout_ms)
			*timeout_ms = (int)left;
	}
	return n;
}

static void respond(struct dmn_client *c, int code, const char *reason, const char *ctype,
		    char *body, size_t blen, bool head)
{
	char hdr[512];
	int hl = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
			  "Content-Length: %zu\r\nConnection: close\r\n\r\n", code, reason,
			  ctype, blen);
	size_t total = (size_t)hl + (head ? 0 : blen);

	c->out = malloc(total ? total : 1);
	if (!c->out) {
		free(body);
		client_close(c);
		return;
	}
	memcpy(c->out, hdr, (size_t)hl);
	if (!head && blen)
		memcpy(c->out + hl, body, blen);
	free(body);
	c->olen = total;
	c->off = 0;
	c->deadline = now_ms() + DMN_HTTP_TIMEOUT_MS;
}

static void respond_text(struct dmn_client *c, int code, const char *reason, const char *text,
			 bool head)
{
	respond(c, code, reason, "text/plain; charset=utf-8", strdup(text), strlen(text), head);
}

/* The value of header NAME in the request head (NUL-terminated copy in buf), or NULL. */
static const char *header(const char *req, const char *name, char *buf, size_t bn)
{
	size_t nl = strlen(name);
	const char *l = strchr(req, '\n');

	while (l && l[1]) {
		l++;
		if (!strncasecmp(l, name, nl) && l[nl] == ':') {
			const char *v = l + nl + 1;
			size_t n = strcspn(v, "\r\n");

			while (n && isspace((unsigned char)*v)) {
				v++;
				n--;
			}
			snprintf(buf, bn, "%.*s", (int)n, v);
			return buf;
		}
		l = strchr(l, '\n');
	}
	return NULL;
}

static void handle_request(struct dmn_http *h, struct dmn_client *c)
{
	char method[16], path[1024], proto[16], accept[1024];
	const char *a;
	bool head;

	if (sscanf(c->req, "%15s %1023s %15s", method, path, proto) != 3 ||
	    strncmp(proto, "HTTP/1.", 7) || path[0] != '/') {
		respond_text(c, 400, "Bad Request", "bad request\n", false);
		return;
	}
	head = !strcmp(method, "HEAD");
	if (strcmp(method, "GET") && !head) {
		respond_text(c, 405, "Method Not Allowed", "only GET and HEAD\n", false);
		return;
	}
	path[strcspn(path, "?")] = '\0';
	if (!strcmp(path, "/metrics")) {
		char *body = NULL;
		size_t blen = 0;
		bool om;

		a = header(c->req, "Accept", accept, sizeof(accept));
		om = a && strstr(a, "application/openmetrics-text");
		h->render(h->arg, om, &body, &blen);
		respond(c, 200, "OK", om ? "application/openmetrics-text; version=1.0.0; "
			"charset=utf-8" : "text/plain; version=0.0.4; charset=utf-8", body, blen,
			head);
		return;
	}
	if (!strcmp(path, "/")) {
		respond_text(c, 200, "OK", "umsampler daemon: metrics at /metrics\n", head);
		return;
	}
	respond_text(c, 404, "Not Found", "not found (try /metrics)\n", head);
}

static void client_write(struct dmn_client *c)
{
	while (c->off < c->olen) {
		ssize_t n = send(c->fd, c->out + c->off, c->olen - c->off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;	/* the rest when poll() says it fits */
		if (n <= 0) {
			client_close(c);
			return;
		}
		c->off += (size_t)n;
	}
	/*
	 * Sent: FIN, then read until the client closes (at most DMN_HTTP_LINGER_MS), so that what
	 * it sent after a request we answered early (a 400 for an oversized one) does not turn
	 * our close into a reset that could destroy the answer in its receive queue.
	 */
	shutdown(c->fd, SHUT_WR);
	c->draining = true;
	c->deadline = now_ms() + DMN_HTTP_LINGER_MS;
}

static void client_drain(struct dmn_client *c)
{
	char buf[4096];

	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		client_close(c);	/* EOF or error */
		return;
	}
}

static void client_read(struct dmn_http *h, struct dmn_client *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->req + c->rlen, DMN_HTTP_REQ_MAX - c->rlen, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			client_close(c);
			return;
		}
		c->rlen += (size_t)n;
		c->req[c->rlen] = '\0';
		if (memchr(c->req, '\0', c->rlen)) {
			respond_text(c, 400, "Bad Request", "bad request\n", false);
			return;
		}
		if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n")) {
			handle_request(h, c);
			return;
		}
		if (c->rlen >= DMN_HTTP_REQ_MAX) {
			respond_text(c, 400, "Bad Request", "request too large\n", false);
			return;
		}
	}
}

void dmn_http_serve(struct dmn_http *h, const struct pollfd *fds, int n)
{
	long long now = now_ms();

	for (int k = 1; k < n; k++) {
		struct dmn_client *c = NULL;

		for (int i = 0; i < DMN_HTTP_CLIENTS; i++)
			if (h->c[i].fd == fds[k].fd)
				c = &h->c[i];
		if (!c || !fds[k].revents)
			continue;
		if (c->draining)
			client_drain(c);
		else if (c->out && (fds[k].revents & (POLLOUT | POLLERR | POLLHUP)))
			client_write(c);
		else if (!c->out && (fds[k].revents & (POLLIN | POLLERR | POLLHUP))) {
			client_read(h, c);
			if (c->fd >= 0 && c->out && !c->draining)
				client_write(c);	/* most answers fit the socket at once */
		}
	}
	for (int i = 0; i < DMN_HTTP_CLIENTS; i++)
		if (h->c[i].fd >= 0 && h->c[i].deadline <= now)
			client_close(&h->c[i]);
	if (n > 0 && (fds[0].revents & POLLIN)) {
		for (;;) {
			int fd = accept4(h->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), i;

			if (fd < 0)
				break;
			for (i = 0; i < DMN_HTTP_CLIENTS && h->c[i].fd >= 0; i++)
				;
			if (i == DMN_HTTP_CLIENTS) {
				/* full: the oldest connection makes room */
				int old = 0;

				for (int k = 1; k < DMN_HTTP_CLIENTS; k++)
					if (h->c[k].deadline < h->c[old].deadline)
						old = k;
				client_close(&h->c[old]);
				i = old;
			}
			h->c[i].fd = fd;
			h->c[i].rlen = 0;
			h->c[i].deadline = now + DMN_HTTP_TIMEOUT_MS;
		}
	}
}
