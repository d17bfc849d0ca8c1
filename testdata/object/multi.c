// Several programs per section, calls across sections, subprograms reached
// through section symbols with an addend, and function addresses (callbacks).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";
__u32 _version SEC("version") = 0x060c00;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

/* Static subprograms in .text: calls to them are relocated against the
 * .text section symbol, with the callee's offset in the call's imm. */
static __noinline int triple(int x)
{
	return x * 3;
}

static __noinline int add_one(int x)
{
	return triple(x) + 1;
}

/* A global subprogram in .text: relocated against its own symbol. */
__noinline int shared(int x)
{
	return add_one(x) ^ 0x55;
}

static int count_cb(__u32 index, void *ctx)
{
	*(int *)ctx += (int)index;
	return 0;
}

/* A function in a program section that is not a program itself. */
static __noinline __attribute__((section("xdp"))) int xdp_helper(int x)
{
	return x + 7;
}

SEC("xdp")
int xdp_first(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&hits, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	return shared(ctx->ingress_ifindex) > 0 ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int xdp_second(struct xdp_md *ctx)
{
	int sum = 0;
	bpf_loop(4, count_cb, &sum, 0);
	return xdp_helper(sum) + triple(1) > 0 ? XDP_PASS : XDP_ABORTED;
}

/* tc program calling a function that lives in the xdp section. */
SEC("tc")
int tc_first(struct __sk_buff *skb)
{
	return xdp_helper(skb->len) & 1;
}

SEC("tc")
int tc_second(struct __sk_buff *skb)
{
	__u32 key = 1;
	__u64 *v = bpf_map_lookup_elem(&hits, &key);
	if (v)
		*v += skb->len;
	return add_one(0);
}

SEC("tracepoint/syscalls/sys_enter_openat")
int trace_openat(void *ctx)
{
	return shared(1) > 2;
}
