/**
 * Program types from ELF section names, by libbpf's rules: a section name
 * either equals an entry exactly, or (for entries written `name+`) is `name`
 * or `name/target`. A leading `?` (libbpf's "do not autoload") is ignored.
 */
import { AttachType, ProgType, type ProgTypeName } from './kinds.js';

export interface ProgramKind {
  readonly type: ProgTypeName;
  readonly expectedAttachType: number | null;
  /** What follows `name/` in a `name+` section, or `''`. */
  readonly attachTo: string;
  readonly sleepable: boolean;
}

interface SecDef {
  /** The section name; a trailing `+` allows `name/target` as well. */
  readonly name: string;
  readonly type: ProgTypeName;
  readonly attach: number | null;
  readonly sleepable?: boolean;
}

const A = AttachType;
const def = (name: string, type: ProgTypeName, attach: number | null, sleepable = false): SecDef => ({ name, type, attach, sleepable });

/** Checked in order; the first match wins (so `xdp/devmap` comes before `xdp`). */
const SEC_DEFS: readonly SecDef[] = [
  def('socket', 'SOCKET_FILTER', null),
  def('sk_reuseport/migrate', 'SK_REUSEPORT', A.SK_REUSEPORT_SELECT_OR_MIGRATE),
  def('sk_reuseport', 'SK_REUSEPORT', A.SK_REUSEPORT_SELECT),
  def('kprobe+', 'KPROBE', null),
  def('uprobe+', 'KPROBE', null),
  def('uprobe.s+', 'KPROBE', null, true),
  def('kretprobe+', 'KPROBE', null),
  def('uretprobe+', 'KPROBE', null),
  def('uretprobe.s+', 'KPROBE', null, true),
  def('kprobe.multi+', 'KPROBE', A.TRACE_KPROBE_MULTI),
  def('kretprobe.multi+', 'KPROBE', A.TRACE_KPROBE_MULTI),
  def('kprobe.session+', 'KPROBE', A.TRACE_KPROBE_SESSION),
  def('uprobe.multi+', 'KPROBE', A.TRACE_UPROBE_MULTI),
  def('uretprobe.multi+', 'KPROBE', A.TRACE_UPROBE_MULTI),
  def('uprobe.multi.s+', 'KPROBE', A.TRACE_UPROBE_MULTI, true),
  def('uretprobe.multi.s+', 'KPROBE', A.TRACE_UPROBE_MULTI, true),
  def('ksyscall+', 'KPROBE', null),
  def('kretsyscall+', 'KPROBE', null),
  def('usdt+', 'KPROBE', null),
  def('usdt.s+', 'KPROBE', null, true),
  def('tc/ingress', 'SCHED_CLS', A.TCX_INGRESS),
  def('tc/egress', 'SCHED_CLS', A.TCX_EGRESS),
  def('tcx/ingress', 'SCHED_CLS', A.TCX_INGRESS),
  def('tcx/egress', 'SCHED_CLS', A.TCX_EGRESS),
  def('tc', 'SCHED_CLS', null),
  def('classifier', 'SCHED_CLS', null),
  def('action', 'SCHED_ACT', null),
  def('netkit/primary', 'SCHED_CLS', A.NETKIT_PRIMARY),
  def('netkit/peer', 'SCHED_CLS', A.NETKIT_PEER),
  def('tracepoint+', 'TRACEPOINT', null),
  def('tp+', 'TRACEPOINT', null),
  def('raw_tracepoint+', 'RAW_TRACEPOINT', null),
  def('raw_tp+', 'RAW_TRACEPOINT', null),
  def('raw_tracepoint.w+', 'RAW_TRACEPOINT_WRITABLE', null),
  def('raw_tp.w+', 'RAW_TRACEPOINT_WRITABLE', null),
  def('tp_btf+', 'TRACING', A.TRACE_RAW_TP),
  def('fentry+', 'TRACING', A.TRACE_FENTRY),
  def('fmod_ret+', 'TRACING', A.MODIFY_RETURN),
  def('fexit+', 'TRACING', A.TRACE_FEXIT),
  def('fentry.s+', 'TRACING', A.TRACE_FENTRY, true),
  def('fmod_ret.s+', 'TRACING', A.MODIFY_RETURN, true),
  def('fexit.s+', 'TRACING', A.TRACE_FEXIT, true),
  def('freplace+', 'EXT', null),
  def('lsm+', 'LSM', A.LSM_MAC),
  def('lsm.s+', 'LSM', A.LSM_MAC, true),
  def('lsm_cgroup+', 'LSM', A.LSM_CGROUP),
  def('iter+', 'TRACING', A.TRACE_ITER),
  def('iter.s+', 'TRACING', A.TRACE_ITER, true),
  // libbpf loads `syscall` programs sleepable.
  def('syscall', 'SYSCALL', null, true),
  def('xdp.frags/devmap', 'XDP', A.XDP_DEVMAP),
  def('xdp/devmap', 'XDP', A.XDP_DEVMAP),
  def('xdp.frags/cpumap', 'XDP', A.XDP_CPUMAP),
  def('xdp/cpumap', 'XDP', A.XDP_CPUMAP),
  def('xdp.frags', 'XDP', A.XDP),
  def('xdp', 'XDP', A.XDP),
  def('perf_event', 'PERF_EVENT', null),
  def('lwt_in', 'LWT_IN', null),
  def('lwt_out', 'LWT_OUT', null),
  def('lwt_xmit', 'LWT_XMIT', null),
  def('lwt_seg6local', 'LWT_SEG6LOCAL', null),
  def('sockops', 'SOCK_OPS', A.CGROUP_SOCK_OPS),
  def('sk_skb/stream_parser', 'SK_SKB', A.SK_SKB_STREAM_PARSER),
  def('sk_skb/stream_verdict', 'SK_SKB', A.SK_SKB_STREAM_VERDICT),
  def('sk_skb/verdict', 'SK_SKB', A.SK_SKB_VERDICT),
  def('sk_skb', 'SK_SKB', null),
  def('sk_msg', 'SK_MSG', A.SK_MSG_VERDICT),
  def('lirc_mode2', 'LIRC_MODE2', A.LIRC_MODE2),
  def('flow_dissector', 'FLOW_DISSECTOR', A.FLOW_DISSECTOR),
  def('cgroup_skb/ingress', 'CGROUP_SKB', A.CGROUP_INET_INGRESS),
  def('cgroup_skb/egress', 'CGROUP_SKB', A.CGROUP_INET_EGRESS),
  def('cgroup/skb', 'CGROUP_SKB', null),
  def('cgroup/sock_create', 'CGROUP_SOCK', A.CGROUP_INET_SOCK_CREATE),
  def('cgroup/sock_release', 'CGROUP_SOCK', A.CGROUP_INET_SOCK_RELEASE),
  def('cgroup/sock', 'CGROUP_SOCK', A.CGROUP_INET_SOCK_CREATE),
  def('cgroup/post_bind4', 'CGROUP_SOCK', A.CGROUP_INET4_POST_BIND),
  def('cgroup/post_bind6', 'CGROUP_SOCK', A.CGROUP_INET6_POST_BIND),
  def('cgroup/bind4', 'CGROUP_SOCK_ADDR', A.CGROUP_INET4_BIND),
  def('cgroup/bind6', 'CGROUP_SOCK_ADDR', A.CGROUP_INET6_BIND),
  def('cgroup/connect4', 'CGROUP_SOCK_ADDR', A.CGROUP_INET4_CONNECT),
  def('cgroup/connect6', 'CGROUP_SOCK_ADDR', A.CGROUP_INET6_CONNECT),
  def('cgroup/connect_unix', 'CGROUP_SOCK_ADDR', A.CGROUP_UNIX_CONNECT),
  def('cgroup/sendmsg4', 'CGROUP_SOCK_ADDR', A.CGROUP_UDP4_SENDMSG),
  def('cgroup/sendmsg6', 'CGROUP_SOCK_ADDR', A.CGROUP_UDP6_SENDMSG),
  def('cgroup/sendmsg_unix', 'CGROUP_SOCK_ADDR', A.CGROUP_UNIX_SENDMSG),
  def('cgroup/recvmsg4', 'CGROUP_SOCK_ADDR', A.CGROUP_UDP4_RECVMSG),
  def('cgroup/recvmsg6', 'CGROUP_SOCK_ADDR', A.CGROUP_UDP6_RECVMSG),
  def('cgroup/recvmsg_unix', 'CGROUP_SOCK_ADDR', A.CGROUP_UNIX_RECVMSG),
  def('cgroup/getpeername4', 'CGROUP_SOCK_ADDR', A.CGROUP_INET4_GETPEERNAME),
  def('cgroup/getpeername6', 'CGROUP_SOCK_ADDR', A.CGROUP_INET6_GETPEERNAME),
  def('cgroup/getpeername_unix', 'CGROUP_SOCK_ADDR', A.CGROUP_UNIX_GETPEERNAME),
  def('cgroup/getsockname4', 'CGROUP_SOCK_ADDR', A.CGROUP_INET4_GETSOCKNAME),
  def('cgroup/getsockname6', 'CGROUP_SOCK_ADDR', A.CGROUP_INET6_GETSOCKNAME),
  def('cgroup/getsockname_unix', 'CGROUP_SOCK_ADDR', A.CGROUP_UNIX_GETSOCKNAME),
  def('cgroup/sysctl', 'CGROUP_SYSCTL', A.CGROUP_SYSCTL),
  def('cgroup/getsockopt', 'CGROUP_SOCKOPT', A.CGROUP_GETSOCKOPT),
  def('cgroup/setsockopt', 'CGROUP_SOCKOPT', A.CGROUP_SETSOCKOPT),
  def('cgroup/dev', 'CGROUP_DEVICE', A.CGROUP_DEVICE),
  def('struct_ops+', 'STRUCT_OPS', null),
  def('struct_ops.s+', 'STRUCT_OPS', null, true),
  def('sk_lookup', 'SK_LOOKUP', A.SK_LOOKUP),
  def('netfilter', 'NETFILTER', A.NETFILTER),
];

/** What libbpf makes of a program section name, or null when it knows no such section. */
export function programKind(section: string): ProgramKind | null {
  const name = section.startsWith('?') ? section.slice(1) : section;
  for (const d of SEC_DEFS) {
    let attachTo: string | null = null;
    if (d.name.endsWith('+')) {
      const base = d.name.slice(0, -1);
      if (name === base) attachTo = '';
      else if (name.startsWith(`${base}/`)) attachTo = name.slice(base.length + 1);
    } else if (name === d.name) {
      attachTo = '';
    }
    if (attachTo === null) continue;
    return { type: d.type, expectedAttachType: d.attach, attachTo, sleepable: d.sleepable === true };
  }
  return null;
}

/** The program type's number (`enum bpf_prog_type`). */
export const progTypeNumber = (type: ProgTypeName): number => ProgType[type];

/** The section names libbpf knows, as written in its table (`name+` takes a `/target`). */
export const knownSections = (): string[] => SEC_DEFS.map((d) => d.name);
