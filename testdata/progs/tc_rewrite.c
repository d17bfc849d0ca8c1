// SPDX-License-Identifier: MIT
// tc classifier that rewrites headers and keeps the checksums right.
//
//  - IPv4: the TTL is decremented (when above 1); the IPv4 header checksum
//    is fixed with bpf_l3_csum_replace over the 16-bit TTL/protocol word.
//  - IPv4 TCP to port 22: the DSCP becomes 0x04 (TOS 0x10, "low delay"),
//    keeping the ECN bits; the header checksum is fixed the same way.
//  - IPv6: the hop limit is decremented (no header checksum in IPv6).
//  - UDP (IPv4 or IPv6) to port 53: the destination port becomes 5353; the
//    UDP checksum is fixed with bpf_l4_csum_replace (a zero IPv4 UDP
//    checksum stays zero, BPF_F_MARK_MANGLED_0).
// Every write goes through bpf_skb_store_bytes. Returns TC_ACT_OK always.
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum {
	RW_TTL = 0,        /* IPv4 TTL decremented */
	RW_HOPLIMIT = 1,   /* IPv6 hop limit decremented */
	RW_TOS = 2,        /* IPv4 TOS set on TCP/22 */
	RW_DNS_PORT = 3,   /* UDP/53 moved to 5353 */
	RW_NONE = 4,       /* frames left untouched */
	RW_MAX,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RW_MAX);
	__type(key, __u32);
	__type(value, __u64);
} rewrites SEC(".maps");

#define IP_CSUM_OFF (ETH_HLEN + offsetof(struct iphdr, check))
#define IP_TTL_OFF (ETH_HLEN + offsetof(struct iphdr, ttl))
#define IP_TOS_OFF (ETH_HLEN + offsetof(struct iphdr, tos))
#define IP6_HOPLIMIT_OFF (ETH_HLEN + offsetof(struct ipv6hdr, hop_limit))

static __always_inline void bump(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&rewrites, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

/* Moves UDP destination port 53 to 5353 at l4_off. Returns 1 if it did. */
static __always_inline int rewrite_dns(struct __sk_buff *skb, __u32 l4_off)
{
	__be16 old_port = bpf_htons(53);
	__be16 new_port = bpf_htons(5353);

	if (bpf_l4_csum_replace(skb, l4_off + offsetof(struct udphdr, check), old_port, new_port,
				BPF_F_MARK_MANGLED_0 | sizeof(new_port)))
		return 0;
	if (bpf_skb_store_bytes(skb, l4_off + offsetof(struct udphdr, dest), &new_port,
				sizeof(new_port), 0))
		return 0;
	bump(RW_DNS_PORT);
	return 1;
}

static __always_inline int handle_ipv4(struct __sk_buff *skb, struct iphdr *ip, void *data_end)
{
	__u8 ttl = ip->ttl, proto = ip->protocol, tos = ip->tos;
	__u8 ver_ihl = *(__u8 *)ip;
	__u32 l4_off = ETH_HLEN + ip->ihl * 4;
	int is_dns = 0, is_ssh = 0, changed = 0;

	if (ip->ihl < 5)
		return 0;
	if (proto == IPPROTO_UDP) {
		struct udphdr *udp = (void *)ip + ip->ihl * 4;

		if ((void *)(udp + 1) <= data_end && udp->dest == bpf_htons(53))
			is_dns = 1;
	} else if (proto == IPPROTO_TCP) {
		struct tcphdr *tcp = (void *)ip + ip->ihl * 4;

		if ((void *)(tcp + 1) <= data_end && tcp->dest == bpf_htons(22))
			is_ssh = 1;
	}
	/* From here on the helpers invalidate packet pointers: use the copies. */

	if (ttl > 1) {
		__u8 new_ttl = ttl - 1;

		bpf_l3_csum_replace(skb, IP_CSUM_OFF, bpf_htons((__u16)ttl << 8 | proto),
				    bpf_htons((__u16)new_ttl << 8 | proto), 2);
		bpf_skb_store_bytes(skb, IP_TTL_OFF, &new_ttl, 1, 0);
		bump(RW_TTL);
		changed = 1;
	}
	if (is_ssh) {
		__u8 new_tos = (tos & 0x03) | 0x10;

		if (new_tos != tos) {
			bpf_l3_csum_replace(skb, IP_CSUM_OFF, bpf_htons((__u16)ver_ihl << 8 | tos),
					    bpf_htons((__u16)ver_ihl << 8 | new_tos), 2);
			bpf_skb_store_bytes(skb, IP_TOS_OFF, &new_tos, 1, 0);
			bump(RW_TOS);
			changed = 1;
		}
	}
	if (is_dns)
		changed |= rewrite_dns(skb, l4_off);
	return changed;
}

static __always_inline int handle_ipv6(struct __sk_buff *skb, struct ipv6hdr *ip6, void *data_end)
{
	__u8 hops = ip6->hop_limit;
	int is_dns = 0, changed = 0;

	if (ip6->nexthdr == IPPROTO_UDP) {
		struct udphdr *udp = (void *)(ip6 + 1);

		if ((void *)(udp + 1) <= data_end && udp->dest == bpf_htons(53))
			is_dns = 1;
	}
	if (hops > 1) {
		__u8 new_hops = hops - 1;

		bpf_skb_store_bytes(skb, IP6_HOPLIMIT_OFF, &new_hops, 1, 0);
		bump(RW_HOPLIMIT);
		changed = 1;
	}
	if (is_dns)
		changed |= rewrite_dns(skb, ETH_HLEN + sizeof(struct ipv6hdr));
	return changed;
}

SEC("tc")
int tc_rewrite(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	int changed = 0;

	if ((void *)(eth + 1) > data_end)
		goto out;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) <= data_end)
			changed = handle_ipv4(skb, ip, data_end);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) <= data_end)
			changed = handle_ipv6(skb, ip6, data_end);
	}
out:
	if (!changed)
		bump(RW_NONE);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
