// SPDX-License-Identifier: MIT
// bpf_loop from XDP: a callback over packet bytes and one over a range.
//
// For IPv4/IPv6 TCP and UDP frames, the first 256 bytes of the L4 payload
// are scanned by a bpf_loop callback that gets the packet bounds in a
// context struct on the caller's stack: it sums the bytes and counts zero
// and printable ASCII bytes. A second bpf_loop counts the set bits of the
// frame's byte sum, one bit per iteration. The totals land in `loop_stats`.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_SCAN 256

struct scan_ctx {
	void *data;
	void *data_end;
	__u32 start;       /* payload offset from data */
	__u32 sum;
	__u32 zeros;
	__u32 printable;
	__u32 scanned;
};

struct bits_ctx {
	__u32 value;
	__u32 bits;
};

struct loop_totals {
	__u64 frames;      /* frames with a scanned payload */
	__u64 scanned;     /* payload bytes visited */
	__u64 byte_sum;
	__u64 zeros;
	__u64 printable;
	__u64 sum_bits;    /* set bits in each frame's 32-bit byte sum, added up */
	__u64 iterations;  /* bpf_loop return values, added up */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct loop_totals);
} loop_stats SEC(".maps");

static long scan_byte(__u32 i, void *arg)
{
	struct scan_ctx *c = arg;
	__u8 *p = c->data + ((c->start + i) & 0x7ff);
	__u8 b;

	if ((void *)(p + 1) > c->data_end)
		return 1;   /* end of the packet: stop */
	b = *p;
	c->sum += b;
	c->scanned++;
	if (b == 0)
		c->zeros++;
	else if (b >= 0x20 && b < 0x7f)
		c->printable++;
	return 0;
}

static long count_bit(__u32 i, void *arg)
{
	struct bits_ctx *c = arg;

	c->bits += (c->value >> (i & 31)) & 1;
	return 0;
}

/* The payload offset of a TCP/UDP frame, or 0 if there is none. */
static __always_inline __u32 payload_offset(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	__u32 off = sizeof(*eth);
	__u8 proto;

	if ((void *)(eth + 1) > data_end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end || ip->ihl < 5)
			return 0;
		proto = ip->protocol;
		off += ip->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return 0;
		proto = ip6->nexthdr;
		off += sizeof(*ip6);
	} else {
		return 0;
	}
	if (proto == IPPROTO_UDP)
		return off + sizeof(struct udphdr);
	if (proto == IPPROTO_TCP) {
		struct tcphdr *tcp = data + (off & 0xff);

		if ((void *)(tcp + 1) > data_end || tcp->doff < 5)
			return 0;
		return off + tcp->doff * 4;
	}
	return 0;
}

SEC("xdp")
int xdp_loop(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct scan_ctx sc = { .data = data, .data_end = data_end };
	struct bits_ctx bc = {};
	struct loop_totals *t;
	__u32 key = 0;
	long n1, n2;

	sc.start = payload_offset(data, data_end);
	if (!sc.start || data + sc.start >= data_end)
		return XDP_PASS;
	n1 = bpf_loop(MAX_SCAN, scan_byte, &sc, 0);
	bc.value = sc.sum;
	n2 = bpf_loop(32, count_bit, &bc, 0);

	t = bpf_map_lookup_elem(&loop_stats, &key);
	if (!t)
		return XDP_PASS;
	t->frames += 1;
	t->scanned += sc.scanned;
	t->byte_sum += sc.sum;
	t->zeros += sc.zeros;
	t->printable += sc.printable;
	t->sum_bits += bc.bits;
	if (n1 > 0)
		t->iterations += n1;
	if (n2 > 0)
		t->iterations += n2;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
