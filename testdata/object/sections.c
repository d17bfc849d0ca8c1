// One small program for each family of libbpf section names, so that the
// type, expected attach type, attach target and sleepable flag of each can be
// checked on a real object.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define PROG(sec, name) SEC(sec) int name(void *ctx) { return 0; }

PROG("xdp.frags", p_xdp_frags)
PROG("xdp/devmap", p_xdp_devmap)
PROG("xdp/cpumap", p_xdp_cpumap)
PROG("tc/ingress", p_tc_ingress)
PROG("tc/egress", p_tc_egress)
PROG("tcx/ingress", p_tcx_ingress)
PROG("tcx/egress", p_tcx_egress)
PROG("classifier", p_classifier)
PROG("action", p_action)
PROG("tp/sched/sched_switch", p_tp)
PROG("raw_tp/sys_enter", p_raw_tp)
PROG("raw_tracepoint/sys_exit", p_raw_tracepoint)
PROG("uprobe//usr/bin/bash:readline+4", p_uprobe)
PROG("uretprobe//usr/bin/bash:readline", p_uretprobe)
PROG("uprobe.s//usr/lib/libc.so.6:malloc", p_uprobe_s)
PROG("kprobe/do_sys_openat2", p_kprobe)
PROG("kretprobe/do_sys_openat2", p_kretprobe)
PROG("perf_event", p_perf_event)
PROG("iter/task", p_iter)
PROG("iter.s/task_file", p_iter_s)
PROG("syscall", p_syscall)
PROG("fentry/do_unlinkat", p_fentry)
PROG("fexit/do_unlinkat", p_fexit)
PROG("fentry.s/do_unlinkat", p_fentry_s)
PROG("lsm/file_open", p_lsm)
PROG("lsm.s/bprm_committed_creds", p_lsm_s)
PROG("cgroup_skb/ingress", p_cgroup_skb_ingress)
PROG("cgroup_skb/egress", p_cgroup_skb_egress)
PROG("sk_skb/stream_parser", p_sk_skb_parser)
PROG("sk_skb/stream_verdict", p_sk_skb_verdict)
PROG("sk_msg", p_sk_msg)
PROG("flow_dissector", p_flow_dissector)
PROG("struct_ops/test_1", p_struct_ops)
PROG("?socket", p_socket_noautoload)
