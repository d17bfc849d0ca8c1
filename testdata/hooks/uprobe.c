// SPDX-License-Identifier: MIT
// Uprobes written with libbpf's tracing macros: each entry probe returns one
// argument, the return probe the return value, so a host can check where
// pt_regs puts them. libbpf 1.1 (Debian 12) names the macros BPF_KPROBE /
// BPF_KRETPROBE; later versions add BPF_UPROBE / BPF_URETPROBE as the same.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("uprobe")
int BPF_KPROBE(arg1, long a) { return a; }

SEC("uprobe")
int BPF_KPROBE(arg2, long a, long b) { return b; }

SEC("uprobe")
int BPF_KPROBE(arg3, long a, long b, long c) { return c; }

SEC("uprobe")
int BPF_KPROBE(arg4, long a, long b, long c, long d) { return d; }

SEC("uprobe")
int BPF_KPROBE(arg5, long a, long b, long c, long d, long e) { return e; }

/* libbpf 1.1 has no PT_REGS_PARM6: read r9 from the x86-64 pt_regs. */
SEC("uprobe")
int arg6(struct pt_regs *ctx) { return ctx->r9; }

SEC("uretprobe")
int BPF_KRETPROBE(ret, long rc) { return rc; }

/* The instruction pointer and the first argument read as a C string. */
SEC("uprobe")
int BPF_KPROBE(str1, const char *s)
{
	char buf[16] = {};
	long n = bpf_probe_read_user_str(buf, sizeof(buf), s);

	return n < 0 ? n : (n << 16) | ((__u8)buf[0] << 8) | (__u8)buf[1];
}

SEC("uprobe")
int BPF_KPROBE(ip) { return PT_REGS_IP(ctx); }

char _license[] SEC("license") = "GPL";
