// CO-RE relocations of every kind against local types, for test/btf-core.test.ts.
// The target BTFs the tests resolve them against are written by hand in the test.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

enum color { RED = 1, GREEN = 2, BLUE = 4 };
enum wide { WIDE_ONE = 0x100000000ULL };

struct inner {
	int x;
	long long y;
} __attribute__((preserve_access_index));

struct sample {
	int a;
	struct {
		long b;
		union {
			char c;
			short d;
		};
	};
	int arr[4];
	unsigned int bf1 : 3, bf2 : 5;
	int sbf : 4;
	struct inner in;
	struct inner *ptr;
	enum color col;
	unsigned int u32;
	int mat[2][3];
	unsigned short small;
} __attribute__((preserve_access_index));

typedef struct sample sample_t;

union un {
	int i;
	long l;
} __attribute__((preserve_access_index));

struct flex {
	int n;
	int items[];
} __attribute__((preserve_access_index));

/* A flavor: the same kernel type under another local name, with a field some kernels lack. */
struct sample___old {
	int a;
	int gone;
} __attribute__((preserve_access_index));

__u64 out[40];

SEC("socket")
int fields(struct __sk_buff *skb)
{
	struct sample *s = (void *)(long)skb->data;
	struct sample___old *o = (void *)s;

	out[0] = s->a;                                        /* LDX, FIELD_BYTE_OFFSET */
	out[1] = s->b;                                        /* through an anonymous struct */
	out[2] = s->d;                                        /* through an anonymous union */
	out[3] = s->arr[2];                                   /* array element */
	out[4] = s->in.y;                                     /* nested struct */
	out[5] = s->u32;
	out[6] = bpf_core_field_size(s->in);                  /* FIELD_BYTE_SIZE */
	out[7] = bpf_core_field_exists(o->gone);              /* FIELD_EXISTS */
	out[8] = __builtin_preserve_field_info(s->sbf, BPF_FIELD_SIGNED);
	out[9] = __builtin_preserve_field_info(s->bf2, BPF_FIELD_LSHIFT_U64);
	out[10] = __builtin_preserve_field_info(s->bf2, BPF_FIELD_RSHIFT_U64);
	out[11] = __builtin_preserve_field_info(s->bf2, BPF_FIELD_BYTE_OFFSET);
	out[12] = __builtin_preserve_field_info(s->bf2, BPF_FIELD_BYTE_SIZE);
	out[13] = bpf_core_type_id_local(struct sample);      /* TYPE_ID_LOCAL */
	out[14] = bpf_core_type_id_kernel(struct sample);     /* TYPE_ID_TARGET */
	out[15] = bpf_core_type_exists(struct sample___old);  /* TYPE_EXISTS */
	out[16] = bpf_core_type_size(struct sample);          /* TYPE_SIZE */
	out[17] = bpf_core_enum_value_exists(enum color, GREEN);
	out[18] = bpf_core_enum_value(enum color, BLUE);
	out[19] = bpf_core_type_matches(struct inner);        /* TYPE_MATCHES */
	out[20] = bpf_core_enum_value(enum wide, WIDE_ONE);   /* 64-bit enumerator: lddw */
	out[21] = o->a;                                       /* flavor */
	out[22] = BPF_CORE_READ(s, ptr, x);                   /* pointer chase with probe reads */
	out[23] = __builtin_preserve_field_info(s->col, BPF_FIELD_SIGNED);
	out[24] = bpf_core_field_offset(s->arr[3]);
	out[25] = s->mat[1][2];                               /* two-dimensional array */
	out[26] = ((sample_t *)s)->u32;                       /* typedef as the root type */
	out[27] = s[1].a;                                     /* pointer arithmetic on the root */
	out[28] = ((union un *)s)->l;                         /* union root */
	out[29] = ((struct flex *)s)->items[3];               /* flexible array member */
	out[30] = s->small;                                   /* unsigned: the load may change size */
	s->u32 = 5;                                           /* ST */
	s->small = skb->len;                                  /* STX */
	return 0;
}

char _license[] SEC("license") = "GPL";
