// SPDX-License-Identifier: MIT
// tc: writes every __sk_buff field a sched_cls program may read into the
// frame after its Ethernet header, then changes the fields it may write.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int tc_fields(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	void *meta = (void *)(long)skb->data_meta;
	__u32 *out = data + 14;

	if ((void *)(out + 32) > end)
		return TC_ACT_SHOT;
	out[0] = skb->len;
	out[1] = skb->pkt_type;
	out[2] = skb->mark;
	out[3] = skb->queue_mapping;
	out[4] = skb->protocol;
	out[5] = skb->vlan_present;
	out[6] = skb->vlan_tci;
	out[7] = skb->vlan_proto;
	out[8] = skb->priority;
	out[9] = skb->ingress_ifindex;
	out[10] = skb->ifindex;
	out[11] = skb->tc_index;
	out[12] = skb->cb[0];
	out[13] = skb->cb[1];
	out[14] = skb->cb[2];
	out[15] = skb->cb[3];
	out[16] = skb->cb[4];
	out[17] = skb->hash;
	out[18] = skb->tc_classid;
	out[19] = end - data;
	out[20] = data - meta;
	out[21] = skb->napi_id;
	out[22] = skb->tstamp;
	out[23] = skb->tstamp >> 32;
	out[24] = skb->wire_len;
	out[25] = skb->gso_segs;
	out[26] = skb->gso_size;
	out[27] = skb->tstamp_type;
	out[28] = skb->hwtstamp;
	out[29] = skb->hwtstamp >> 32;
	out[30] = *(__u16 *)((void *)skb + __builtin_offsetof(struct __sk_buff, protocol));
	out[31] = *(__u8 *)((void *)skb + __builtin_offsetof(struct __sk_buff, len));

	skb->mark = skb->mark * 3 + 1;
	skb->priority ^= 0x55;
	skb->cb[0] += 1;
	skb->cb[4] = skb->len;
	skb->tc_index = 0x1234;
	skb->tc_classid = 0x42;
	skb->tstamp = skb->tstamp + 1000;
	return skb->len & 1 ? TC_ACT_OK : TC_ACT_PIPE;
}

char _license[] SEC("license") = "GPL";
