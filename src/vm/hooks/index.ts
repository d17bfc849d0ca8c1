/**
 * Userspace program types: each hook lays out the ctx a program type sees
 * in the vm's address space, exactly as Linux's BPF_PROG_TEST_RUN (or the
 * attach point) presents it, runs programs through a caller-supplied
 * `RunFn`, and provides the packet helpers of its type.
 */
export { HookError, vmRunner, LOOPBACK_IFINDEX, ETH_HLEN } from './common.js';
export type { RunFn, HookErrorCode } from './common.js';
export {
  XdpHook, XdpState, XdpMd, XdpAction, xdpActionName, XDP_HEADROOM, XDP_MAX_FRAME, XDP_META_MAX,
} from './xdp.js';
export type {
  XdpActionName, XdpHookOptions, XdpRunOptions, XdpResult, XdpTransmit, XdpRedirect, XdpHost, RedirectMapInfo, RedirectMapResolver,
} from './xdp.js';
export { SkBuff, SkbState, PacketType, SKB_HEADROOM, SKB_MAX_FRAME, SKB_MAX_LEN, ethTypeTrans } from './skb.js';
export type { SkbRunOptions, SkbOutput, SkbHost } from './skb.js';
export { TcHook, TcAction, tcActionName } from './tc.js';
export type { TcResult, TcActionName } from './tc.js';
export { SocketFilterHook } from './socket-filter.js';
export type { SocketFilterResult } from './socket-filter.js';
export { Tracepoints } from './tracepoint.js';
export type { TracepointLayout, TracepointEvent, FireOptions } from './tracepoint.js';
export { UprobeHook, PtRegs } from './uprobe.js';
export type { UprobeProbes, UprobeOptions, UprobeHookOptions } from './uprobe.js';
export { xdpHelpers } from './xdp-helpers.js';
export { tcHelpers, socketFilterHelpers } from './skb-helpers.js';
export { csumAdd, csumSub, csumFold, csumReplace2, csumReplace4, csumReplaceByDiff } from './checksum.js';
export { SOCKET_FILTER_HELPERS, TC_HELPERS, XDP_HELPERS, TRACING_HELPERS } from './allowed.js';
