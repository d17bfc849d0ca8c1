// SPDX-License-Identifier: MIT
// A tracepoint program on a host-defined event whose record is described by
// BTF (struct tsbpf_event, below). Like every tracepoint record it starts
// with the 8-byte common header, which programs may not read.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct tsbpf_event {
	unsigned short common_type;
	unsigned char common_flags;
	unsigned char common_preempt_count;
	int common_pid;
	__u64 ts;
	__u32 pid;
	char comm[16];
	__s32 value;
	__u16 flags;
};

SEC("tracepoint/tsbpf/event")
int on_event(struct tsbpf_event *ev)
{
	long sum = ev->value;

	sum += ev->pid * 1000;
	sum += ev->comm[0] + ev->comm[1];
	sum += ev->flags << 20;
	sum += ev->ts & 0xff;
	return sum;
}

char _license[] SEC("license") = "GPL";
