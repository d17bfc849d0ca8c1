// SPDX-License-Identifier: MIT
// Programs for test/kernel-attach-net.test.ts, attached to a veth between two
// network namespaces and to a UDP socket.
//   xdp_count: counts ICMP echo requests (counts[0]) and drops UDP (counts[1]).
//   tc_ttl:    sets the IPv4 TTL to 77, fixing the header checksum with
//              bpf_l3_csum_replace, and counts the packets it rewrote (counts[2]).
//   sock_keep: keeps UDP datagrams whose payload starts with 'K', drops the
//              rest, and counts the ones it saw (counts[3]).
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define NEW_TTL 77
#define ICMP_ECHO 8

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

static __always_inline void bump(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&counts, &slot);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if (ip->protocol == IPPROTO_UDP) {
		bump(1);
		return XDP_DROP;
	}
	if (ip->protocol == IPPROTO_ICMP) {
		__u8 *icmp_type = (void *)ip + ip->ihl * 4;

		if ((void *)(icmp_type + 1) <= end && *icmp_type == ICMP_ECHO)
			bump(0);
	}
	return XDP_PASS;
}

SEC("tc")
int tc_ttl(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	__u16 old_word, new_word;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ttl == NEW_TTL)
		return TC_ACT_OK;
	// TTL and protocol share the header's fifth 16-bit word.
	old_word = *(__u16 *)&ip->ttl;
	ip->ttl = NEW_TTL;
	new_word = *(__u16 *)&ip->ttl;
	bpf_l3_csum_replace(skb, sizeof(*eth) + offsetof(struct iphdr, check), old_word, new_word, sizeof(__u16));
	bump(2);
	return TC_ACT_OK;
}

SEC("socket")
int sock_keep(struct __sk_buff *skb)
{
	__u8 first;

	bump(3);
	// From the network header: a 20-byte IPv4 header, the 8-byte UDP header, then the payload.
	if (bpf_skb_load_bytes_relative(skb, 28, &first, 1, BPF_HDR_START_NET) < 0)
		return 0;
	return first == 'K' ? skb->len : 0;
}

char _license[] SEC("license") = "GPL";
