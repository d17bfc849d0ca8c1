// Compiled by test/btf-core.test.ts at test time (when clang-19 and bpftool are
// present) against a vmlinux.h dumped from the running kernel, which is not
// committed. Built for this kernel, every relocation must resolve to the value
// clang compiled in (except flavors the kernel lacks and target type ids).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

__u64 out[16];

SEC("raw_tp/sys_enter")
int task(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();

	out[0] = BPF_CORE_READ(t, pid);
	out[1] = BPF_CORE_READ(t, real_parent, tgid);
	out[2] = BPF_CORE_READ(t, se.vruntime);
	out[3] = BPF_CORE_READ(t, mm, total_vm);
	out[4] = BPF_CORE_READ(t, cred, uid.val);
	out[5] = BPF_CORE_READ(t, nsproxy, pid_ns_for_children, level);
	out[6] = bpf_core_field_exists(((struct task_struct___old *)t)->state);
	out[7] = bpf_core_type_size(struct task_struct);
	out[8] = bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_HASH);
	out[9] = bpf_core_type_id_kernel(struct task_struct);
	out[10] = BPF_CORE_READ_BITFIELD_PROBED(t, sched_reset_on_fork);
	out[11] = bpf_core_type_matches(struct list_head);
	out[12] = BPF_CORE_READ(t, thread_info.flags);
	out[13] = t->mm ? 1 : 0;
	return 0;
}

char _license[] SEC("license") = "GPL";
