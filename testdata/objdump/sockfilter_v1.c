// SPDX-License-Identifier: MIT
// Fixture for test/asm.test.ts, built with clang-19's default -mcpu (v1) by
// rebuild.sh: two program sections, a switch, 32-bit arithmetic, a global
// variable (lddw with a relocation to .bss) and an atomic add.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

__u64 packets = 0;

static __attribute__((noinline)) __u32 classify(__u32 proto, __u32 len)
{
	switch (proto) {
	case 6:  return len * 3 + 1;
	case 17: return len >> 2;
	case 1:  return len ^ 0x5a5a;
	default: return len / 7;
	}
}

SEC("socket")
int filter(struct __sk_buff *skb)
{
	__u32 v = classify(skb->protocol, skb->len);
	__sync_fetch_and_add(&packets, 1);
	v = bpf_ntohl(v) + bpf_htons((__u16)skb->vlan_tci);
	for (__u32 i = 0; i < 8; i++)
		v = (v << 1) | (v >> 31);
	return v & 0xffff;
}

SEC("xdp")
int drop_all(struct xdp_md *ctx)
{
	__s64 big = 0x1122334455667788LL * (__s32)ctx->ingress_ifindex;
	if ((__s32)ctx->rx_queue_index > 5)
		big = -big;
	return big < -0x100000000LL ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
