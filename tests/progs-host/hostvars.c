// SPDX-License-Identifier: GPL-2.0
/*
 * hostvars.c - target of the host resolver tests (tests/host/resolve.t): variables of every
 * kind the DWARF type mapping handles.  Prints "TARGET ADDR SIZE TYPE" for each (TYPE is what
 * `umsampler add` must pick with DWARF), then "ready PID", then sleeps until stdin closes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

typedef int myint;
enum color { RED, GREEN, BLUE };
enum temp { COLD = -10, HOT = 10 };

struct point {
	uint32_t x, y;
};

struct conf {
	int a;
	uint16_t b;
	double ratio;
	char label[12];
	struct point pt;
	int arr[4];
	union {
		float uf;
		uint32_t ubits;
	};
};

volatile uint32_t counter = 1;
struct conf g_conf = { 1, 2, 0.5, "conf", { 3, 4 }, { 5, 6, 7, 8 }, { 1.0f } };
struct conf g_confs[3];
int16_t g_grid[3][4];
char g_name[16] = "hostvars";
double g_double = 497.5;
float g_float = -1.5f;
enum color g_color = BLUE;
enum temp g_temp = COLD;
myint g_myint = -7;
const volatile long g_cvlong = 5;
void *g_ptr = &g_conf;
uint8_t g_bytes[8] = { 1, 2, 3 };
int8_t g_s8 = -1;
_Bool g_bool = 1;
union { uint64_t u; double d; } g_union;
__thread int g_tls = 3;
static volatile int dup_name = 1;	/* also a static in hostlib.c */
volatile int mixed_name = 3;		/* a static in hostlib.c: this global wins */
extern uint32_t lib_shared;

/* Pointer chains: `umsampler add` turns -> and (*p) into deref= offsets. */
struct node {
	uint64_t pad;
	struct node *next;
	uint64_t value;
	char name[8];
};
struct node n3 = { 0, NULL, 33, "three" }, n2 = { 0, &n3, 22, "two" }, n1 = { 0, &n2, 11, "one" };
struct node *head = &n1;
struct holder {
	int a;
	struct node *n;
} hold = { 1, &n1 }, *g = &hold;
struct item {
	int id;
	char name[8];
} it0, it1, it2, it3;
struct item *table[4] = { &it0, &it1, &it2, &it3 };
struct point *ppt = &g_conf.pt, **pp = &ppt;
struct stats {
	uint64_t hits[4];
} st0;
struct server {
	int id;
	struct stats *stats;
} srv = { 1, &st0 };
struct opaque;
struct opaque *g_opaque;

void hostlib_print(void);

#define P(t, a, s, ty) printf("%s %p %zu %s\n", t, (void *)(a), (size_t)(s), ty)

int main(void)
{
	char c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	P("counter", &counter, sizeof(counter), "u32");
	P("g_conf", &g_conf, sizeof(g_conf), "hex");
	P("g_conf.ratio", &g_conf.ratio, 8, "f64");
	P("g_conf.label", &g_conf.label, 12, "str");
	P("g_conf.b", &g_conf.b, 2, "u16");
	P("g_conf.pt.y", &g_conf.pt.y, 4, "u32");
	P("g_conf.pt", &g_conf.pt, sizeof(g_conf.pt), "hex");
	P("g_conf.arr[2]", &g_conf.arr[2], 4, "s32");
	P("g_conf.arr", &g_conf.arr, sizeof(g_conf.arr), "hex");
	P("g_conf.uf", &g_conf.uf, 4, "f32");
	P("g_confs[1].ratio", &g_confs[1].ratio, 8, "f64");
	P("g_confs[2]", &g_confs[2], sizeof(g_confs[2]), "hex");
	P("g_confs[1].arr[3]", &g_confs[1].arr[3], 4, "s32");
	P("g_grid", &g_grid, sizeof(g_grid), "hex");
	P("g_grid[1]", &g_grid[1], sizeof(g_grid[1]), "hex");
	P("g_grid[2][3]", &g_grid[2][3], 2, "s16");
	P("g_name", &g_name, sizeof(g_name), "str");
	P("g_double", &g_double, 8, "f64");
	P("g_float", &g_float, 4, "f32");
	P("g_color", &g_color, sizeof(g_color), "u32");
	P("g_temp", &g_temp, sizeof(g_temp), "s32");
	P("g_myint", &g_myint, sizeof(g_myint), "s32");
	P("g_cvlong", &g_cvlong, sizeof(g_cvlong), "s64");
	P("g_ptr", &g_ptr, sizeof(g_ptr), "u64");
	P("g_bytes", &g_bytes, sizeof(g_bytes), "hex");
	P("g_s8", &g_s8, 1, "s8");
	P("g_bool", &g_bool, 1, "u8");
	P("g_union", &g_union, sizeof(g_union), "hex");
	P("g_conf+8", (char *)&g_conf + 8, sizeof(g_conf) - 8, "hex");
	P("mixed_name", &mixed_name, sizeof(mixed_name), "s32");
	P("exedup", &dup_name, sizeof(dup_name), "s32");
	P("lib_shared_exe", &lib_shared, sizeof(lib_shared), "u32");
	/* chain TARGET BASE LEN TYPE DEREF */
	printf("chain head->value %p 8 u64 %zu\n", (void *)&head, offsetof(struct node, value));
	printf("chain head->next->name %p 8 str %zu,%zu\n", (void *)&head,
	       offsetof(struct node, next), offsetof(struct node, name));
	printf("chain g->n->value %p 8 u64 %zu,%zu\n", (void *)&g, offsetof(struct holder, n),
	       offsetof(struct node, value));
	printf("chain table[3]->name %p 8 str %zu\n", (void *)&table[3],
	       offsetof(struct item, name));
	printf("chain (*pp)->y %p 4 u32 0,%zu\n", (void *)&pp, offsetof(struct point, y));
	printf("chain srv.stats->hits[2] %p 8 u64 %zu\n", (void *)&srv.stats,
	       offsetof(struct stats, hits[2]));
	printf("chain head->next->next->value+2 %p 6 hex %zu,%zu,%zu\n", (void *)&head,
	       offsetof(struct node, next), offsetof(struct node, next),
	       offsetof(struct node, value) + 2);
	hostlib_print();
	printf("ready %d\n", (int)getpid());
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
