// Initialised globals whose .data bytes test/btf-value.test.ts decodes with
// the object's BTF (DATASEC) and encodes back. Built little- and big-endian.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum color { RED = 1, GREEN = 2, BLUE = 4 };
enum neg { MINUS = -3, PLUS = 3 };
enum wide { WIDE = 0x123456789ULL };

struct flags {
	unsigned int lo : 3, mid : 7;
	int s : 5;
	unsigned long long big : 40;
	enum color c : 4;
	_Bool ok : 1;
	unsigned char tail;
};

struct record {
	int id;
	unsigned long long count;
	long long delta;
	char name[12];
	unsigned char raw[4];
	void *ptr;
	enum color col;
	enum neg sign;
	enum wide w;
	_Bool on;
	struct {
		short x;
		union {
			int u1;
			char u2;
		};
	};
	struct flags f;
	int grid[2][3];
	float fl;
	double db;
	__int128 huge;
};

struct record rec = {
	.id = -7,
	.count = 0xfedcba9876543210ULL,
	.delta = -5,
	.name = "bash",
	.raw = { 1, 2, 0x80, 0xff },
	.ptr = (void *)0x1000,
	.col = GREEN,
	.sign = MINUS,
	.w = WIDE,
	.on = 1,
	.x = -2,
	.u1 = 0x41424344,
	.f = { .lo = 5, .mid = 100, .s = -9, .big = 0xabcdef0123ULL, .c = BLUE, .ok = 1, .tail = 200 },
	.grid = { { 1, 2, 3 }, { -4, -5, -6 } },
	.fl = 1.5f,
	.db = -2.25,
	.huge = ((__int128)1 << 100) + 7,
};
unsigned int counter = 42;
char text[8] = "hi";
enum color odd = (enum color)3;

SEC("socket")
int values(void *ctx)
{
	return rec.id + counter + text[0] + odd;
}

char _license[] SEC("license") = "GPL";
