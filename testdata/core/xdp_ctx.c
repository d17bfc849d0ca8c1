// CO-RE against a hook context (struct xdp_md, UAPI): the vm resolves it,
// since its xdp_md is laid out as the kernel's. task.c, against
// task_struct, is the counter-example the vm refuses to run.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

SEC("xdp")
int xdp_len(struct xdp_md *ctx)
{
	/* Direct ctx loads whose offsets are CO-RE relocations. */
	__u32 data = __builtin_preserve_access_index(ctx->data);
	__u32 end = __builtin_preserve_access_index(ctx->data_end);
	if (!bpf_core_field_exists(ctx->rx_queue_index))
		return XDP_ABORTED;
	return end - data > 100 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
