// SPDX-License-Identifier: MIT
// bpf-to-bpf calls: global and static non-inlined functions.
//
// xdp_calls -> classify (global, takes the ctx)
//               -> parse_ipv4 (static) -> parse_ports (static)
//               -> hash_flow (static, reads a struct on the caller's stack)
//                    -> mix32 (global, scalars only), five times
// The flow hash of each IPv4 TCP/UDP frame picks one of 16 buckets; the
// buckets count frames and `call_stats` keeps totals and an XOR of all the
// hashes, so the result is checkable without knowing the buckets.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define NBUCKETS 16

struct flow {
	__u32 saddr;       /* network byte order, as in the packet */
	__u32 daddr;
	__u16 sport;       /* host byte order */
	__u16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NBUCKETS);
	__type(key, __u32);
	__type(value, __u64);
} flow_buckets SEC(".maps");

/* [0] frames hashed, [1] frames not hashed, [2] XOR of every hash. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} call_stats SEC(".maps");

/* One round of a small FNV-style mix. Global: verified on its own. */
__noinline __u32 mix32(__u32 h, __u32 v)
{
	h ^= v;
	h *= 0x01000193;
	h ^= h >> 15;
	return h;
}

static __noinline __u32 hash_flow(const struct flow *f, __u32 seed)
{
	__u32 h = seed;

	h = mix32(h, f->saddr);
	h = mix32(h, f->daddr);
	h = mix32(h, (__u32)f->sport << 16 | f->dport);
	h = mix32(h, f->proto);
	return mix32(h, h >> 7);
}

/* Fills the ports from the L4 header at l4. Returns 0 or -1. */
static __noinline int parse_ports(void *l4, void *data_end, __u8 proto, struct flow *f)
{
	__be16 *ports = l4;

	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return -1;
	if ((void *)(ports + 2) > data_end)
		return -1;
	f->sport = bpf_ntohs(ports[0]);
	f->dport = bpf_ntohs(ports[1]);
	f->proto = proto;
	return 0;
}

static __noinline int parse_ipv4(void *data, void *data_end, struct flow *f)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > data_end)
		return -1;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl < 5)
		return -1;
	f->saddr = ip->saddr;
	f->daddr = ip->daddr;
	return parse_ports((void *)ip + ip->ihl * 4, data_end, ip->protocol, f);
}

/* The bucket for this frame, or -1. Global: the verifier checks it alone. */
__noinline int classify(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct flow f = {};
	__u32 idx = 2, h;
	__u64 *x;

	if (parse_ipv4(data, data_end, &f) < 0)
		return -1;
	h = hash_flow(&f, 2166136261u);
	x = bpf_map_lookup_elem(&call_stats, &idx);
	if (x)
		__sync_fetch_and_xor(x, (__u64)h);
	return h % NBUCKETS;
}

SEC("xdp")
int xdp_calls(struct xdp_md *ctx)
{
	int bucket = classify(ctx);
	__u32 idx = bucket < 0 ? 1 : 0;
	__u64 *v;

	v = bpf_map_lookup_elem(&call_stats, &idx);
	if (v)
		__sync_fetch_and_add(v, 1);
	if (bucket >= 0) {
		__u32 key = bucket;

		v = bpf_map_lookup_elem(&flow_buckets, &key);
		if (v)
			__sync_fetch_and_add(v, 1);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
