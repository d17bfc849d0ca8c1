// SPDX-License-Identifier: MIT
// XDP dispatcher that tail-calls one program per protocol.
//
// `xdp_dispatch` finds the L4 protocol, stores what it found in the XDP
// metadata area in front of the packet (bpf_xdp_adjust_meta) and tail-calls
// slot 0 (TCP), 1 (UDP) or 2 (ICMP/ICMPv6) of a program array that libbpf
// fills at load time from the static initialiser below. Slot 3 ("other":
// ARP, VLAN-tagged frames and the rest) is left empty on purpose, so those
// tail calls fail and the dispatcher counts a miss. Each target re-reads
// the metadata, counts the frame, and counts one protocol detail.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/icmpv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ICMP_ECHO 8   /* <linux/icmp.h> pulls in libc socket headers */

enum { SLOT_TCP = 0, SLOT_UDP = 1, SLOT_ICMP = 2, SLOT_OTHER = 3, SLOT_MAX };

/* Written by the dispatcher in front of the packet. */
struct pkt_meta {
	__u16 l4_off;      /* offset of the L4 header from ctx->data */
	__u8 proto;        /* IP protocol */
	__u8 family;       /* 4 or 6, 0 for non-IP */
};

struct slot_counts {
	__u64 packets;
	__u64 bytes;
	__u64 detail;      /* TCP: SYNs; UDP: to port 53; ICMP: echo requests */
	__u64 no_meta;     /* reached the target without metadata */
};

/* Indexed by slot. [SLOT_OTHER] is counted by the dispatcher after its tail
 * call fails (packets and bytes only). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SLOT_MAX);
	__type(key, __u32);
	__type(value, struct slot_counts);
} slot_stats SEC(".maps");

/* [0] tail calls that failed (empty slot), [1] adjust_meta failures. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} dispatch_stats SEC(".maps");

int xdp_tcp(struct xdp_md *ctx);
int xdp_udp(struct xdp_md *ctx);
int xdp_icmp(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, SLOT_MAX);
	__uint(key_size, sizeof(__u32));   /* no BTF key: the kernel takes none for prog arrays */
	__array(values, int (struct xdp_md *));
} jmp_table SEC(".maps") = {
	.values = {
		[SLOT_TCP] = (void *)&xdp_tcp,
		[SLOT_UDP] = (void *)&xdp_udp,
		[SLOT_ICMP] = (void *)&xdp_icmp,
	},
};

static __always_inline void bump_dispatch(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&dispatch_stats, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

/* Counts the frame in `slot`; returns the slot's counters. */
static __always_inline struct slot_counts *count_slot(struct xdp_md *ctx, __u32 slot)
{
	struct slot_counts *c = bpf_map_lookup_elem(&slot_stats, &slot);

	if (!c)
		return 0;
	__sync_fetch_and_add(&c->packets, 1);
	__sync_fetch_and_add(&c->bytes, (__u64)(ctx->data_end - ctx->data));
	return c;
}

SEC("xdp")
int xdp_dispatch(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct pkt_meta found = {};
	struct pkt_meta *meta;
	__u32 slot = SLOT_OTHER;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) <= data_end && ip->ihl >= 5) {
			found.family = 4;
			found.proto = ip->protocol;
			found.l4_off = sizeof(*eth) + ip->ihl * 4;
		}
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) <= data_end) {
			found.family = 6;
			found.proto = ip6->nexthdr;
			found.l4_off = sizeof(*eth) + sizeof(*ip6);
		}
	}
	if (found.family) {
		if (found.proto == IPPROTO_TCP)
			slot = SLOT_TCP;
		else if (found.proto == IPPROTO_UDP)
			slot = SLOT_UDP;
		else if (found.proto == IPPROTO_ICMP || found.proto == IPPROTO_ICMPV6)
			slot = SLOT_ICMP;
	}

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*meta)) == 0) {
		meta = (void *)(long)ctx->data_meta;
		if ((void *)(meta + 1) <= (void *)(long)ctx->data)
			*meta = found;
	} else {
		bump_dispatch(1);
	}

	bpf_tail_call(ctx, &jmp_table, slot);
	/* Only reached when the slot is empty. */
	bump_dispatch(0);
	count_slot(ctx, slot);
	return XDP_PASS;
}

/* The metadata, or NULL when the dispatcher could not store it. */
static __always_inline struct pkt_meta *get_meta(struct xdp_md *ctx)
{
	struct pkt_meta *meta = (void *)(long)ctx->data_meta;

	if ((void *)(meta + 1) > (void *)(long)ctx->data)
		return 0;
	return meta;
}

/* The L4 header of `len` bytes, or NULL. */
static __always_inline void *l4_header(struct xdp_md *ctx, struct pkt_meta *meta, __u32 len)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	void *l4 = data + (meta->l4_off & 0xff);

	if (l4 + len > data_end)
		return 0;
	return l4;
}

SEC("xdp")
int xdp_tcp(struct xdp_md *ctx)
{
	struct slot_counts *c = count_slot(ctx, SLOT_TCP);
	struct pkt_meta *meta = get_meta(ctx);
	struct tcphdr *tcp;

	if (!c)
		return XDP_PASS;
	if (!meta) {
		__sync_fetch_and_add(&c->no_meta, 1);
		return XDP_PASS;
	}
	tcp = l4_header(ctx, meta, sizeof(*tcp));
	if (tcp && tcp->syn && !tcp->ack)
		__sync_fetch_and_add(&c->detail, 1);
	return XDP_PASS;
}

SEC("xdp")
int xdp_udp(struct xdp_md *ctx)
{
	struct slot_counts *c = count_slot(ctx, SLOT_UDP);
	struct pkt_meta *meta = get_meta(ctx);
	struct udphdr *udp;

	if (!c)
		return XDP_PASS;
	if (!meta) {
		__sync_fetch_and_add(&c->no_meta, 1);
		return XDP_PASS;
	}
	udp = l4_header(ctx, meta, sizeof(*udp));
	if (udp && udp->dest == bpf_htons(53))
		__sync_fetch_and_add(&c->detail, 1);
	return XDP_PASS;
}

SEC("xdp")
int xdp_icmp(struct xdp_md *ctx)
{
	struct slot_counts *c = count_slot(ctx, SLOT_ICMP);
	struct pkt_meta *meta = get_meta(ctx);
	__u8 *type;

	if (!c)
		return XDP_PASS;
	if (!meta) {
		__sync_fetch_and_add(&c->no_meta, 1);
		return XDP_PASS;
	}
	type = l4_header(ctx, meta, 1);
	if (type && (*type == ICMP_ECHO || *type == ICMPV6_ECHO_REQUEST))
		__sync_fetch_and_add(&c->detail, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
