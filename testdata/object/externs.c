// __kconfig and __ksym externs: kconfig values of several types and
// alignments (laid out in the .kconfig map as libbpf lays them out), typed and
// typeless kernel variables, and kfunc calls (one weak).
#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

extern int LINUX_KERNEL_VERSION __kconfig;
extern bool CONFIG_BPF_SYSCALL __kconfig;
extern enum libbpf_tristate CONFIG_XFS_FS __kconfig __weak;
extern char CONFIG_LOCALVERSION[16] __kconfig __weak;
extern unsigned long long CONFIG_HZ __kconfig __weak;

extern const int bpf_prog_active __ksym;
extern const void init_task __ksym __weak;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;
extern int bpf_no_such_kfunc(int x) __ksym __weak;

__u64 seen;

SEC("tp_btf/sched_switch")
int kconfig_reader(void *ctx)
{
	__u64 v = LINUX_KERNEL_VERSION + CONFIG_HZ;
	if (CONFIG_BPF_SYSCALL)
		v += 1;
	if (CONFIG_XFS_FS == TRI_MODULE)
		v += 2;
	v += CONFIG_LOCALVERSION[0];
	seen = v;
	return 0;
}

SEC("tp_btf/sched_switch")
int ksym_reader(void *ctx)
{
	bpf_rcu_read_lock();
	seen = (__u64)&bpf_prog_active + (__u64)&init_task;
	bpf_rcu_read_unlock();
	if (bpf_no_such_kfunc)
		seen += bpf_no_such_kfunc(1);
	return 0;
}
