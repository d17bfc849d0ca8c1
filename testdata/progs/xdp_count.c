// SPDX-License-Identifier: MIT
// XDP packet counter by protocol.
//
// Every frame is classified by its L3 protocol (the EtherType after at most
// one 802.1Q tag) and, for IPv4 and IPv6, its L4 protocol (the IP protocol or
// IPv6 next header). A hash map keyed by that pair counts frames and bytes.
// Every frame is passed.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct proto_key {
	__u16 l3;     /* EtherType, host byte order (0x0800, 0x86dd, 0x0806...) */
	__u8 l4;      /* IP protocol / IPv6 next header; 0 when not IP */
	__u8 vlan;    /* 1 when the frame carried an 802.1Q tag */
};

struct proto_counts {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct proto_key);
	__type(value, struct proto_counts);
} proto_stats SEC(".maps");

struct vlan_tag {
	__be16 tci;
	__be16 inner_proto;
};

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct proto_key key = {};
	struct proto_counts *c;
	void *l3;
	__u16 proto;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	proto = bpf_ntohs(eth->h_proto);
	l3 = eth + 1;
	if (proto == ETH_P_8021Q) {
		struct vlan_tag *tag = l3;

		if ((void *)(tag + 1) > data_end)
			return XDP_PASS;
		proto = bpf_ntohs(tag->inner_proto);
		key.vlan = 1;
		l3 = tag + 1;
	}
	key.l3 = proto;

	if (proto == ETH_P_IP) {
		struct iphdr *ip = l3;

		if ((void *)(ip + 1) <= data_end)
			key.l4 = ip->protocol;
	} else if (proto == ETH_P_IPV6) {
		struct ipv6hdr *ip6 = l3;

		if ((void *)(ip6 + 1) <= data_end)
			key.l4 = ip6->nexthdr;
	}

	c = bpf_map_lookup_elem(&proto_stats, &key);
	if (!c) {
		struct proto_counts zero = {};

		bpf_map_update_elem(&proto_stats, &key, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&proto_stats, &key);
		if (!c)
			return XDP_PASS;
	}
	__sync_fetch_and_add(&c->packets, 1);
	__sync_fetch_and_add(&c->bytes, (__u64)(data_end - data));
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
