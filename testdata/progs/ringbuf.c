// SPDX-License-Identifier: MIT
// XDP program that reports events through a BPF ring buffer.
//
//  - Every TCP segment with SYN set (IPv4 or IPv6) reserves a `syn_event`
//    with bpf_ringbuf_reserve and fills it in. A plain SYN is submitted; a
//    SYN-ACK is discarded after filling (bpf_ringbuf_discard), so only
//    connection attempts reach the reader.
//  - Every ICMP echo request (IPv4 type 8, ICMPv6 type 128) is copied out
//    as an `echo_event` with bpf_ringbuf_output.
// Every byte of an event is written (no uninitialised padding), so the ring
// content is a pure function of the packets. All frames are passed.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/icmpv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* <linux/icmp.h> pulls in libc socket headers, so declare the few bits used. */
#define ICMP_ECHO 8

struct icmp_echo {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id;
	__be16 sequence;
};

enum { EV_SYN = 1, EV_ECHO = 2 };

struct syn_event {
	__u32 kind;        /* EV_SYN */
	__u8 family;       /* 4 or 6 */
	__u8 tcp_flags;    /* byte 13 of the TCP header */
	__u16 sport;       /* host byte order */
	__u16 dport;
	__u16 pad;
	__u32 seq;         /* host byte order */
	__u32 pkt_len;     /* frame length */
	__u8 saddr[16];    /* IPv4 uses the first 4 bytes, the rest are 0 */
	__u8 daddr[16];
};

struct echo_event {
	__u32 kind;        /* EV_ECHO */
	__u8 family;
	__u8 type;
	__u16 id;          /* host byte order */
	__u16 seq;
	__u16 pad;
	__u32 pkt_len;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

enum {
	ST_SYN_SUBMITTED = 0,
	ST_SYNACK_DISCARDED = 1,
	ST_RESERVE_FAILED = 2,
	ST_ECHO_OUTPUT = 3,
	ST_OUTPUT_FAILED = 4,
	ST_MAX,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void bump(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline void on_syn(struct tcphdr *tcp, void *saddr, void *daddr, int family,
				   __u32 pkt_len)
{
	struct syn_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);

	if (!ev) {
		bump(ST_RESERVE_FAILED);
		return;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->kind = EV_SYN;
	ev->family = family;
	ev->tcp_flags = ((__u8 *)tcp)[13];
	ev->sport = bpf_ntohs(tcp->source);
	ev->dport = bpf_ntohs(tcp->dest);
	ev->seq = bpf_ntohl(tcp->seq);
	ev->pkt_len = pkt_len;
	if (family == 4) {
		__builtin_memcpy(ev->saddr, saddr, 4);
		__builtin_memcpy(ev->daddr, daddr, 4);
	} else {
		__builtin_memcpy(ev->saddr, saddr, 16);
		__builtin_memcpy(ev->daddr, daddr, 16);
	}
	if (tcp->ack) {
		bpf_ringbuf_discard(ev, 0);
		bump(ST_SYNACK_DISCARDED);
		return;
	}
	bpf_ringbuf_submit(ev, 0);
	bump(ST_SYN_SUBMITTED);
}

static __always_inline void on_echo(int family, __u8 type, __be16 id, __be16 seq, __u32 pkt_len)
{
	struct echo_event ev = {
		.kind = EV_ECHO,
		.family = family,
		.type = type,
		.id = bpf_ntohs(id),
		.seq = bpf_ntohs(seq),
		.pkt_len = pkt_len,
	};

	if (bpf_ringbuf_output(&events, &ev, sizeof(ev), 0))
		bump(ST_OUTPUT_FAILED);
	else
		bump(ST_ECHO_OUTPUT);
}

SEC("xdp")
int xdp_ringbuf(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 pkt_len = data_end - data;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;

	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		void *l4;

		if ((void *)(ip + 1) > data_end || ip->ihl < 5)
			return XDP_PASS;
		l4 = (void *)ip + ip->ihl * 4;
		if (ip->protocol == IPPROTO_TCP) {
			struct tcphdr *tcp = l4;

			if ((void *)(tcp + 1) <= data_end && tcp->syn)
				on_syn(tcp, &ip->saddr, &ip->daddr, 4, pkt_len);
		} else if (ip->protocol == IPPROTO_ICMP) {
			struct icmp_echo *icmp = l4;

			if ((void *)(icmp + 1) <= data_end && icmp->type == ICMP_ECHO)
				on_echo(4, icmp->type, icmp->id, icmp->sequence, pkt_len);
		}
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return XDP_PASS;
		if (ip6->nexthdr == IPPROTO_TCP) {
			struct tcphdr *tcp = (void *)(ip6 + 1);

			if ((void *)(tcp + 1) <= data_end && tcp->syn)
				on_syn(tcp, &ip6->saddr, &ip6->daddr, 6, pkt_len);
		} else if (ip6->nexthdr == IPPROTO_ICMPV6) {
			struct icmp6hdr *icmp6 = (void *)(ip6 + 1);

			if ((void *)(icmp6 + 1) <= data_end && icmp6->icmp6_type == ICMPV6_ECHO_REQUEST)
				on_echo(6, icmp6->icmp6_type, icmp6->icmp6_identifier,
					icmp6->icmp6_sequence, pkt_len);
		}
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
