// SPDX-License-Identifier: MIT
// tc: the frame after its Ethernet header says which skb helpers to call
// with which arguments; the program calls them in order and writes what they
// returned (and what the loads read) back into the frame.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct control {
	__u32 l3_off, l3_from, l3_to, l3_flags;
	__u32 l4_off, l4_from, l4_to, l4_flags;
	__u32 st_off, st_len, st_flags;
	__u8 st_data[8];
	__u32 ld_off, ld_len;
	__u32 rel_off, rel_len, rel_hdr;
	__u32 pull_len;
	__u32 hash, hash_op;
	__u32 tail_len, tail_flags;
	__u32 redir_ifindex, redir_flags;
	__u32 action;
};

struct results {
	__s32 l3, l4, st, ld, rel, pull, hash, tail, redir;
	__u32 len, skb_hash;
	__u8 ld_data[16];
	__u8 rel_data[16];
};

SEC("tc")
int tc_helpers(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct control c;
	struct results r = {};

	if (data + 14 + sizeof(c) > end)
		return TC_ACT_UNSPEC;
	__builtin_memcpy(&c, data + 14, sizeof(c));

	r.l3 = bpf_l3_csum_replace(skb, c.l3_off, c.l3_from, c.l3_to, c.l3_flags);
	r.l4 = bpf_l4_csum_replace(skb, c.l4_off, c.l4_from, c.l4_to, c.l4_flags);
	r.st = bpf_skb_store_bytes(skb, c.st_off, c.st_data, (c.st_len & 7) + 1, c.st_flags);
	r.ld = bpf_skb_load_bytes(skb, c.ld_off, r.ld_data, (c.ld_len & 15) + 1);
	r.rel = bpf_skb_load_bytes_relative(skb, c.rel_off, r.rel_data, (c.rel_len & 15) + 1, c.rel_hdr);
	r.pull = bpf_skb_pull_data(skb, c.pull_len);
	if (c.hash_op == 1)
		r.hash = bpf_set_hash(skb, c.hash);
	else if (c.hash_op == 2)
		bpf_set_hash_invalid(skb);
	r.tail = bpf_skb_change_tail(skb, c.tail_len, c.tail_flags);
	r.redir = bpf_redirect(c.redir_ifindex, c.redir_flags);
	r.len = skb->len;
	r.skb_hash = skb->hash;

	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	if (data + 14 + sizeof(r) > end)
		return 100 + (r.tail < 0);
	__builtin_memcpy(data + 14, &r, sizeof(r));
	return c.action == TC_ACT_REDIRECT ? r.redir : (int)c.action;
}

char _license[] SEC("license") = "GPL";
