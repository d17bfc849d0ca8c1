// SPDX-License-Identifier: MIT
// XDP: the frame's first 8 bytes say how to move data_meta, data and data_end
// and which action to return; the program then writes what the helpers
// returned and what it sees of xdp_md at the new start of the frame, and a
// word into the metadata. Run by the kernel and by the vm's XDP hook on the
// same frames, the outputs must be identical.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct control {
	__s16 meta;	/* bpf_xdp_adjust_meta delta */
	__s16 head;	/* bpf_xdp_adjust_head delta */
	__s16 tail;	/* bpf_xdp_adjust_tail delta */
	__u8 action;
	__u8 order;	/* bit 0: tail before head */
};

SEC("xdp")
int xdp_adjust(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct control c;
	long rm, rh, rt;

	if (data + sizeof(c) > end)
		return XDP_ABORTED;
	__builtin_memcpy(&c, data, sizeof(c));

	rm = bpf_xdp_adjust_meta(ctx, c.meta);
	if (c.order & 1) {
		rt = bpf_xdp_adjust_tail(ctx, c.tail);
		rh = bpf_xdp_adjust_head(ctx, c.head);
	} else {
		rh = bpf_xdp_adjust_head(ctx, c.head);
		rt = bpf_xdp_adjust_tail(ctx, c.tail);
	}

	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	void *meta = (void *)(long)ctx->data_meta;
	if (meta + 4 <= data)
		*(__u32 *)meta = 0xa1b2c3d4 ^ (__u32)(end - data);

	__u32 *out = data;
	if ((void *)(out + 8) > end)
		return c.action;
	out[0] = rm;
	out[1] = rh;
	out[2] = rt;
	out[3] = end - data;
	out[4] = data - meta;
	out[5] = ctx->ingress_ifindex;
	out[6] = ctx->rx_queue_index;
	out[7] = bpf_xdp_get_buff_len(ctx);
	return c.action;
}

char _license[] SEC("license") = "GPL";
