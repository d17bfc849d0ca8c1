// SPDX-License-Identifier: MIT
// Socket filter: reads the frame with LD_ABS, bpf_skb_load_bytes and
// bpf_skb_load_bytes_relative, leaves what it read in cb[] (the kernel's
// test-run returns cb) and keeps a length the frame decides.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

SEC("socket")
int socket_filter(struct __sk_buff *skb)
{
	__u32 w = 0, mac = 0, net = 0;
	long r1, r2, r3;

	r1 = bpf_skb_load_bytes(skb, 2, &w, 4);
	r2 = bpf_skb_load_bytes_relative(skb, 6, &mac, 4, BPF_HDR_START_MAC);
	r3 = bpf_skb_load_bytes_relative(skb, 0, &net, 4, BPF_HDR_START_NET);
	skb->cb[0] = w;
	skb->cb[1] = mac;
	skb->cb[2] = net;
	skb->cb[3] = (__u32)r1 ^ ((__u32)r2 << 8) ^ ((__u32)r3 << 16);
	skb->cb[4] = skb->len + skb->protocol + skb->pkt_type;
	if (skb->len < 8)
		return 0;
	/* LD_ABS: the first bytes after the Ethernet header */
	__u32 b = load_byte(skb, 0);
	__u32 h = load_half(skb, 2);
	__u32 x = load_word(skb, 4);
	skb->cb[4] ^= b + h + x;
	return (b & 1) ? 0 : h;
}

char _license[] SEC("license") = "GPL";
