// SPDX-License-Identifier: MIT
// Socket filter that keeps only TCP segments to port 80 or 443.
//
// A socket filter sees the packet from the network header on (skb->data is
// the IP header, as for SO_ATTACH_BPF on an IP socket and in the kernel's
// BPF_PROG_TEST_RUN), and the EtherType in skb->protocol. Headers are read
// with bpf_skb_load_bytes. Accepted packets are kept whole (the return value
// is skb->len); everything else is cut to 0 bytes, that is dropped.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* [0] accepted, [1] rejected, [2] accepted bytes (skb->len). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} filter_stats SEC(".maps");

/* Accepted segments per destination port (host byte order). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u16);
	__type(value, __u64);
} port_hits SEC(".maps");

static __always_inline void add(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&filter_stats, &idx);

	if (v)
		__sync_fetch_and_add(v, n);
}

/* Returns the TCP header offset, or -1 when the packet is not TCP. */
static __always_inline int tcp_offset(struct __sk_buff *skb)
{
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)))
			return -1;
		if (ip.protocol != IPPROTO_TCP || ip.ihl < 5)
			return -1;
		if (ip.frag_off & bpf_htons(0x1fff))   /* not the first fragment */
			return -1;
		return ip.ihl * 4;
	}
	if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			return -1;
		if (ip6.nexthdr != IPPROTO_TCP)
			return -1;
		return sizeof(ip6);
	}
	return -1;
}

SEC("socket")
int socket_filter(struct __sk_buff *skb)
{
	__be16 ports[2];
	__u16 dport;
	__u64 one = 1, *hits;
	int off = tcp_offset(skb);

	if (off < 0)
		goto reject;
	if (bpf_skb_load_bytes(skb, off, ports, sizeof(ports)))
		goto reject;
	dport = bpf_ntohs(ports[1]);
	if (dport != 80 && dport != 443)
		goto reject;

	add(0, 1);
	add(2, skb->len);
	hits = bpf_map_lookup_elem(&port_hits, &dport);
	if (hits)
		__sync_fetch_and_add(hits, 1);
	else
		bpf_map_update_elem(&port_hits, &dport, &one, BPF_NOEXIST);
	return skb->len;
reject:
	add(1, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
