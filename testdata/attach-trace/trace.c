// SPDX-License-Identifier: MIT
// Tracing programs for test/kernel-attach-trace.test.ts: each counts into
// the `counters` array the events of one process (target_tgid, set in
// .rodata before load), so the test can compare with what that process did.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define NR_GETPPID 110 /* x86-64 */

enum {
	C_TRACEPOINT,   /* syscalls/sys_enter_getppid hits */
	C_RAW_TP,       /* raw_tp/sys_enter with id == getppid */
	C_TP_BTF,       /* tp_btf/sys_enter with id == getppid */
	C_UPROBE,       /* tsbpf_target calls */
	C_UPROBE_ARGS,  /* sum of their first argument */
	C_URETPROBE,    /* tsbpf_target returns */
	C_URET_VALUES,  /* sum of their return values */
	C_PERF_EVENT,   /* cpu-clock samples, any task */
	C_KPROBE,
	C_MAX,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, C_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

const volatile __u32 target_tgid = 0;

static __always_inline int mine(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

static __always_inline void add(__u32 slot, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &slot);

	if (v)
		__sync_fetch_and_add(v, n);
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int count_getppid(void *ctx)
{
	if (mine())
		add(C_TRACEPOINT, 1);
	return 0;
}

SEC("raw_tp/sys_enter")
int raw_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	if (mine() && ctx->args[1] == NR_GETPPID)
		add(C_RAW_TP, 1);
	return 0;
}

struct pt_regs;

SEC("tp_btf/sys_enter")
int BPF_PROG(btf_sys_enter, struct pt_regs *regs, long id)
{
	if (mine() && id == NR_GETPPID)
		add(C_TP_BTF, 1);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(on_target, int x)
{
	if (mine()) {
		add(C_UPROBE, 1);
		add(C_UPROBE_ARGS, x);
	}
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(on_target_ret, int rc)
{
	if (mine()) {
		add(C_URETPROBE, 1);
		add(C_URET_VALUES, rc);
	}
	return 0;
}

SEC("perf_event")
int on_cpu_clock(void *ctx)
{
	add(C_PERF_EVENT, 1);
	return 0;
}

SEC("kprobe/do_nanosleep")
int on_nanosleep(void *ctx)
{
	add(C_KPROBE, 1);
	return 0;
}

/* The iterator's context and the task fields it prints, relocated against
 * the kernel's BTF (CO-RE), so no vmlinux.h is needed. */
struct seq_file;
struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 session_id;
	__u64 seq_num;
} __attribute__((preserve_access_index));
struct task_struct {
	int pid;
	int tgid;
	char comm[16];
} __attribute__((preserve_access_index));
struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
} __attribute__((preserve_access_index));

/* One line per process: "tgid comm". */
SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;

	if (!task || task->pid != task->tgid)
		return 0;
	BPF_SEQ_PRINTF(seq, "%d %s\n", task->tgid, task->comm);
	return 0;
}

char _license[] SEC("license") = "GPL";
