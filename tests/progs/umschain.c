// SPDX-License-Identifier: GPL-2.0
/*
 * umschain - the target of 15-deref.t: heap data behind pointer chains, and a
 * block published under a sequence counter (include/umsampler_seq.h). Built
 * twice: natively and as a 32-bit static program (-m32 -static, umschain32),
 * whose pointers are 4 bytes.
 *
 * A chain of NODES heap nodes: the global `head` points to node 1, node i's
 * `next` to node i + 1; node i's `value` is i * 0x1111 until changed. So the
 * value of node k is reached from &head with k offsets: k - 1 times
 * offsetof(next), then offsetof(value).
 *
 * On start it prints
 *   ptr SIZE                      (sizeof(void *))
 *   var head ADDR                 (&head)
 *   var block ADDR / var seq ADDR (the seq-guarded block and its counter)
 *   var plain ADDR                (a block written the same way, no counter)
 *   off pad N / off next N / off value N / off name N
 *   node I ADDR                   (each node, 1..NODES)
 *   ready PID
 * then answers commands from stdin, each with "ok ..." once it took effect:
 *   set K V        node K's value = V
 *   move K V       a new node K (value V, name "moved"), linked in place of
 *                  the old one, which stays allocated with its old bytes;
 *                  prints "ok move 0xNEW"
 *   null K         the pointer to node K (head for K = 1) becomes NULL
 *   bad K          the pointer to node K points into an unmapped page
 *   restore K      the pointer to node K points to node K again
 *   writer on|off  a thread rewrites `block` (and `plain`) at full speed:
 *                  every byte of an update is the same, a new one each time;
 *                  block under `seq`, plain without. "ok writer N" (updates)
 *   exit
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../include/umsampler_seq.h"

#define NODES	8
#define BLOCK	4096

struct node {
	uint64_t pad;
	struct node *next;
	uint64_t value;
	char name[16];
};

static struct node *head;
static struct node *nodes[NODES + 1];
static void *hole;	/* an unmapped page */

static struct {
	uint32_t seq;
	uint32_t pad;
	uint8_t block[BLOCK];
} __attribute__((aligned(4096))) sb;
static uint8_t plain[BLOCK] __attribute__((aligned(4096)));

static volatile int writer_run;
static volatile uint64_t updates;
static pthread_t writer_thr;

static void *writer(void *arg)
{
	static uint8_t scratch[BLOCK];
	uint8_t v = 1;

	(void)arg;
	while (writer_run) {
		ums_seq_write_begin(&sb.seq);
		memset(sb.block, v, BLOCK);
		ums_seq_write_end(&sb.seq);
		memset(plain, v, BLOCK);
		/* three times as long outside the write section: readers get their turn */
		memset(scratch, v, BLOCK);
		memset(scratch, v + 1, BLOCK);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		v = v == 255 ? 1 : v + 1;
		updates++;
	}
	return NULL;
}

/* The pointer that leads to node k: head, or node k-1's next. */
static struct node **link_to(int k)
{
	return k == 1 ? &head : &nodes[k - 1]->next;
}

int main(void)
{
	char line[256], cmd[32];
	unsigned long long v;
	int k;

	for (k = NODES; k >= 1; k--) {
		nodes[k] = calloc(1, sizeof(struct node));
		if (!nodes[k])
			return 2;
		nodes[k]->pad = 0x5a5a5a5a5a5a5a5aULL;
		nodes[k]->next = k < NODES ? nodes[k + 1] : NULL;
		nodes[k]->value = (uint64_t)k * 0x1111;
		snprintf(nodes[k]->name, sizeof(nodes[k]->name), "node%d", k);
	}
	head = nodes[1];
	hole = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (hole == MAP_FAILED || munmap(hole, 4096))
		return 2;
	memset(sb.block, 0, BLOCK);
	memset(plain, 0, BLOCK);

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ptr %zu\n", sizeof(void *));
	printf("var head %p\nvar block %p\nvar seq %p\nvar plain %p\n", (void *)&head,
	       (void *)sb.block, (void *)&sb.seq, (void *)plain);
	printf("off pad %zu\noff next %zu\noff value %zu\noff name %zu\n",
	       offsetof(struct node, pad), offsetof(struct node, next),
	       offsetof(struct node, value), offsetof(struct node, name));
	for (k = 1; k <= NODES; k++)
		printf("node %d %p\n", k, (void *)nodes[k]);
	printf("ready %d\n", (int)getpid());

	while (fgets(line, sizeof(line), stdin)) {
		v = 0;
		k = 0;
		cmd[0] = '\0';
		if (sscanf(line, "%31s %d %lli", cmd, &k, &v) < 1)
			continue;
		if (!strcmp(cmd, "exit"))
			return 0;
		if (!strcmp(cmd, "writer")) {
			if (strstr(line, " on") && !writer_run) {
				writer_run = 1;
				if (pthread_create(&writer_thr, NULL, writer, NULL)) {
					printf("err writer\n");
					continue;
				}
			} else if (strstr(line, " off") && writer_run) {
				writer_run = 0;
				pthread_join(writer_thr, NULL);
			}
			printf("ok writer %llu\n", (unsigned long long)updates);
			continue;
		}
		if (k < 1 || k > NODES) {
			printf("err node\n");
			continue;
		}
		if (!strcmp(cmd, "set")) {
			nodes[k]->value = v;
			printf("ok set\n");
		} else if (!strcmp(cmd, "move")) {
			struct node *n = malloc(sizeof(*n));

			if (!n) {
				printf("err move\n");
				continue;
			}
			*n = *nodes[k];
			n->value = v;
			snprintf(n->name, sizeof(n->name), "moved");
			/* the old node stays allocated and keeps its bytes */
			__atomic_store_n(link_to(k), n, __ATOMIC_RELEASE);
			nodes[k] = n;
			printf("ok move %p\n", (void *)n);
		} else if (!strcmp(cmd, "null")) {
			__atomic_store_n(link_to(k), NULL, __ATOMIC_RELEASE);
			printf("ok null\n");
		} else if (!strcmp(cmd, "bad")) {
			__atomic_store_n(link_to(k), (struct node *)hole, __ATOMIC_RELEASE);
			printf("ok bad\n");
		} else if (!strcmp(cmd, "restore")) {
			__atomic_store_n(link_to(k), nodes[k], __ATOMIC_RELEASE);
			printf("ok restore\n");
		} else {
			printf("err unknown command\n");
		}
	}
	return 0;
}
