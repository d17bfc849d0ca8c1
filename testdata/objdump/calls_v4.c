// SPDX-License-Identifier: MIT
// Fixture for test/asm.test.ts: a loop, bpf-to-bpf calls, atomics,
// sign extension, byte swaps and a map lookup (an lddw with a relocation).
// Built with -mcpu=v4 by rebuild.sh.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __attribute__((noinline)) __u64 mix(__u64 x, __s8 small)
{
	__s64 wide = small;            /* movsx (s8) */
	__s32 half = (__s16)x;         /* movsx (s16) */
	return __builtin_bswap64(x) ^ (__u64)wide ^ (__u64)(__s64)half;
}

static __attribute__((noinline)) int sum_bytes(const __u8 *p, const __u8 *end)
{
	int s = 0;
	for (int i = 0; i < 32; i++) {
		if (p + i + 1 > end)
			break;
		s += p[i];
	}
	return s;
}

SEC("xdp")
int prog(struct xdp_md *ctx)
{
	const __u8 *data = (const __u8 *)(long)ctx->data;
	const __u8 *end = (const __u8 *)(long)ctx->data_end;
	__u32 key = ctx->rx_queue_index & 3;
	__u64 *slot = bpf_map_lookup_elem(&counters, &key);
	int s = sum_bytes(data, end);
	if (slot) {
		__sync_fetch_and_add(slot, 1);
		__u64 old = __sync_fetch_and_add(slot, mix(*slot, (__s8)s));
		if ((__s64)old < 0)
			return XDP_DROP;
	}
	return s > 1000 ? XDP_TX : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
