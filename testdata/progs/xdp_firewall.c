// SPDX-License-Identifier: MIT
// XDP firewall: drop IPv4 packets whose source address matches a prefix in
// an LPM trie.
//
// The program needs no userspace setup: a UDP datagram to port 9999 is a
// control packet. Its payload starts with
//     struct { __be32 prefixlen; __u8 addr[4]; }
// (prefix length in network byte order), which is inserted into the trie
// (a UDP payload shorter than 8 bytes or a prefix length above 32 is
// refused), and the control packet itself is dropped. Afterwards, IPv4 packets from a matching source are dropped and
// the matching rule's hit counter grows. Every verdict is counted per XDP
// action in `verdicts`.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define CONTROL_PORT 9999

struct lpm_v4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct rule {
	__u64 hits;       /* packets dropped by this rule */
	__u32 id;         /* 1, 2, ... in the order the rules arrived */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 256);
	__type(key, struct lpm_v4_key);
	__type(value, struct rule);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} blocked SEC(".maps");

/* Indexed by XDP action: 0 aborted, 1 drop, 2 pass, 3 tx, 4 redirect. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 5);
	__type(key, __u32);
	__type(value, __u64);
} verdicts SEC(".maps");

/* [0] rules inserted, [1] control packets refused (bad length/prefix). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} control SEC(".maps");

static __always_inline int count(void *map, __u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(map, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}

static __always_inline int verdict(int action)
{
	count(&verdicts, action);
	return action;
}

static __always_inline int handle_control(struct udphdr *udp, void *data_end)
{
	struct lpm_v4_key *msg = (void *)(udp + 1);
	struct lpm_v4_key key;
	struct rule r = {};
	__u32 idx = 0;
	__u64 *inserted;

	/* The UDP length, not the frame end: short frames carry padding. */
	if (bpf_ntohs(udp->len) < sizeof(*udp) + sizeof(*msg) || (void *)(msg + 1) > data_end) {
		count(&control, 1);
		return verdict(XDP_DROP);
	}
	key.prefixlen = bpf_ntohl(msg->prefixlen);
	__builtin_memcpy(key.addr, msg->addr, 4);
	if (key.prefixlen > 32) {
		count(&control, 1);
		return verdict(XDP_DROP);
	}
	inserted = bpf_map_lookup_elem(&control, &idx);
	if (!inserted)
		return verdict(XDP_ABORTED);
	r.id = (__u32)*inserted + 1;
	if (bpf_map_update_elem(&blocked, &key, &r, BPF_ANY) == 0)
		__sync_fetch_and_add(inserted, 1);
	return verdict(XDP_DROP);
}

SEC("xdp")
int xdp_firewall(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct lpm_v4_key key;
	struct iphdr *ip;
	struct rule *r;

	if ((void *)(eth + 1) > data_end)
		return verdict(XDP_PASS);
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return verdict(XDP_PASS);
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return verdict(XDP_PASS);

	if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = (void *)ip + ip->ihl * 4;

		if (ip->ihl < 5)
			return verdict(XDP_DROP);
		if ((void *)(udp + 1) > data_end)
			return verdict(XDP_PASS);
		if (udp->dest == bpf_htons(CONTROL_PORT))
			return handle_control(udp, data_end);
	}

	key.prefixlen = 32;
	__builtin_memcpy(key.addr, &ip->saddr, 4);
	r = bpf_map_lookup_elem(&blocked, &key);
	if (r) {
		__sync_fetch_and_add(&r->hits, 1);
		return verdict(XDP_DROP);
	}
	return verdict(XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
