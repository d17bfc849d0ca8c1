// SPDX-License-Identifier: MIT
// Per-CPU histogram of frame sizes, from XDP.
//
// `size_log2` is a per-CPU array of 16 buckets: a frame of length L goes to
// bucket floor(log2(L)) (capped at 15). `by_ethertype` is a per-CPU hash of
// frames and bytes per EtherType (the outer one: 0x8100 for tagged frames).
// Readers sum a key's values over the CPUs; the sums do not depend on which
// CPU saw which frame.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define NBUCKETS 16

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NBUCKETS);
	__type(key, __u32);
	__type(value, __u64);
} size_log2 SEC(".maps");

struct type_counts {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 32);
	__type(key, __u16);               /* EtherType, host byte order */
	__type(value, struct type_counts);
} by_ethertype SEC(".maps");

/* floor(log2(v)) for v > 0, and 0 for v == 0; no loops, no clz. */
static __always_inline __u32 log2_u32(__u32 v)
{
	__u32 r, shift;

	r = (v > 0xffff) << 4;
	v >>= r;
	shift = (v > 0xff) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xf) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	return r | (v >> 1);
}

SEC("xdp")
int xdp_histogram(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 len = data_end - data;
	__u32 bucket = log2_u32(len);
	struct ethhdr *eth = data;
	struct type_counts *tc;
	__u64 *slot;
	__u16 type;

	if (bucket >= NBUCKETS)
		bucket = NBUCKETS - 1;
	slot = bpf_map_lookup_elem(&size_log2, &bucket);
	if (slot)
		*slot += 1;   /* per-CPU: no other CPU writes this copy */

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	type = bpf_ntohs(eth->h_proto);
	tc = bpf_map_lookup_elem(&by_ethertype, &type);
	if (tc) {
		tc->packets += 1;
		tc->bytes += len;
	} else {
		struct type_counts first = { .packets = 1, .bytes = len };

		bpf_map_update_elem(&by_ethertype, &type, &first, BPF_NOEXIST);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
