// SPDX-License-Identifier: MIT
// Global data from XDP: .rodata configuration, initialised .data, .bss
// counters, static variables and strings.
//
//  - `const volatile` settings live in .rodata; a loader may change them
//    before load and then freezes the map, so the verifier knows the values.
//  - .data holds an initialised magic number and a name.
//  - .bss holds the counters, a static maximum and the last formatted
//    message (bpf_snprintf with a format string in .rodata).
//  - The first frame prints one line with bpf_printk.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* .rodata */
const volatile __u16 cfg_port = 443;     /* count TCP/UDP frames to this port */
const volatile __u32 cfg_small_len = 64; /* frames shorter than this are "small" */
const volatile __u8 cfg_count_vlan = 1;  /* count 802.1Q frames */
static const char msg_fmt[] = "seen=%llu port=%llu small=%llu max=%u";

/* .data */
__u32 magic = 0x74736270;                /* "tsbp" */
char name[16] = "tsbpf-globals";

/* .bss */
__u64 seen;
__u64 to_port;
__u64 small;
__u64 vlan_frames;
char last_msg[64];
static __u32 max_len;

struct l4_ports {
	__be16 source;
	__be16 dest;
};

static __always_inline int dst_port(void *l4, void *data_end)
{
	struct l4_ports *p = l4;

	if ((void *)(p + 1) > data_end)
		return -1;
	return bpf_ntohs(p->dest);
}

SEC("xdp")
int xdp_globals(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 len = data_end - data;
	__u64 args[4];
	__u64 n;
	int port = -1;

	n = __sync_add_and_fetch(&seen, 1);
	if (n == 1)
		bpf_printk("%s: first frame, %u bytes, magic %x", name, len, magic);
	if (len > max_len)
		max_len = len;
	if (len < cfg_small_len)
		__sync_fetch_and_add(&small, 1);
	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;

	if (eth->h_proto == bpf_htons(ETH_P_8021Q)) {
		if (cfg_count_vlan)
			__sync_fetch_and_add(&vlan_frames, 1);
	} else if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) <= data_end && ip->ihl >= 5 &&
		    (ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP))
			port = dst_port((void *)ip + ip->ihl * 4, data_end);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) <= data_end &&
		    (ip6->nexthdr == IPPROTO_TCP || ip6->nexthdr == IPPROTO_UDP))
			port = dst_port(ip6 + 1, data_end);
	}
	if (port == cfg_port)
		__sync_fetch_and_add(&to_port, 1);

	args[0] = n;
	args[1] = to_port;
	args[2] = small;
	args[3] = max_len;
	bpf_snprintf(last_msg, sizeof(last_msg), msg_fmt, args, sizeof(args));
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
