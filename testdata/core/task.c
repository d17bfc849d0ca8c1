// CO-RE reads of kernel task_struct fields, resolved by test/btf-core.test.ts
// against /sys/kernel/btf/vmlinux. The local types carry only the fields the
// program reads (the usual CO-RE style without vmlinux.h), so the object is
// small and independent of the kernel it was built on.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct sched_entity {
	unsigned long long vruntime;
} __attribute__((preserve_access_index));

struct mm_struct {
	unsigned long total_vm;
	unsigned long pgd;
} __attribute__((preserve_access_index));

struct task_struct {
	unsigned int __state;
	unsigned int flags;
	int prio;
	struct sched_entity se;
	struct mm_struct *mm;
	int pid;
	int tgid;
	struct task_struct *real_parent;
	char comm[16];
	unsigned long long start_time;
} __attribute__((preserve_access_index));

/* Kernels before 5.14 named __state 'state' (and made it a long). */
struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

struct out {
	int pid, tgid, ppid;
	unsigned int flags;
	unsigned long long vruntime, start_time, total_vm;
	char comm[16];
	int has_state, has_old_state;
	unsigned int comm_size;
} out;

SEC("raw_tp/sys_enter")
int task(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();

	out.pid = BPF_CORE_READ(t, pid);
	out.tgid = BPF_CORE_READ(t, tgid);
	out.ppid = BPF_CORE_READ(t, real_parent, tgid);
	out.flags = BPF_CORE_READ(t, flags);
	out.vruntime = BPF_CORE_READ(t, se.vruntime);
	out.start_time = BPF_CORE_READ(t, start_time);
	out.total_vm = BPF_CORE_READ(t, mm, total_vm);
	BPF_CORE_READ_STR_INTO(&out.comm, t, comm);
	out.has_state = bpf_core_field_exists(t->__state);
	out.has_old_state = bpf_core_field_exists(((struct task_struct___old *)t)->state);
	out.comm_size = bpf_core_field_size(t->comm);
	return 0;
}

char _license[] SEC("license") = "GPL";
