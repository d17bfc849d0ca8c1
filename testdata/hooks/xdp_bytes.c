// SPDX-License-Identifier: MIT
// XDP: bpf_xdp_load_bytes / bpf_xdp_store_bytes at offsets the frame gives,
// with the return codes written back into the frame.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct control {
	__u32 load_off;
	__u32 load_len;		/* 1..16 after masking */
	__u32 store_off;
	__u32 store_len;	/* 1..16 after masking */
};

SEC("xdp")
int xdp_bytes(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct control c;
	__u8 buf[16] = {};
	long rl, rs;

	if (data + sizeof(c) + 8 > end)
		return XDP_ABORTED;
	__builtin_memcpy(&c, data, sizeof(c));

	rl = bpf_xdp_load_bytes(ctx, c.load_off, buf, (c.load_len & 15) + 1);
	buf[0] ^= 0x5a;
	rs = bpf_xdp_store_bytes(ctx, c.store_off, buf, (c.store_len & 15) + 1);

	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	__u32 *out = data + sizeof(c);
	if ((void *)(out + 2) > end)
		return XDP_ABORTED;
	out[0] = rl;
	out[1] = rs;
	return XDP_TX;
}

char _license[] SEC("license") = "GPL";
