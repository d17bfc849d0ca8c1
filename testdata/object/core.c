// CO-RE relocations on a local definition of a kernel struct marked
// preserve_access_index: field offsets (one through a pointer chase), field
// existence and size, type existence and an enum value.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

struct task_struct {
	int pid;
	int tgid;
	struct task_struct *real_parent;
	char comm[16];
	int no_such_field;
} __attribute__((preserve_access_index));

__u64 out[6];

SEC("kprobe/do_nanosleep")
int core_reads(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	out[0] = BPF_CORE_READ(t, tgid);
	out[1] = BPF_CORE_READ(t, real_parent, pid);
	out[2] = bpf_core_field_exists(t->no_such_field);
	out[3] = bpf_core_field_size(t->comm);
	out[4] = bpf_core_type_exists(struct task_struct);
	out[5] = bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_RINGBUF);
	return 0;
}
