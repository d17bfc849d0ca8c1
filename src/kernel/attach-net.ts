/**
 * Attaching programs to network hooks: XDP on a device (bpf_link, or
 * netlink where links are not supported), tc through tcx links or a
 * clsact qdisc's `bpf` filter, and socket filters (SO_ATTACH_BPF). Every
 * attachment is a `Link` that detaches on `close()`.
 */
import { AttachType, ProgType, progTypeName } from '../object/kinds.js';
import { AttachError } from './attach-error.js';
import { BpfCommand } from './constants.js';
import { KernelError } from './errors.js';
import { progInfo } from './info.js';
import { Link } from './link.js';
import {
  NLM_F_CREATE,
  NLM_F_ECHO,
  NLM_F_EXCL,
  RtNetlink,
  Rtm,
  attrS32,
  attrStr,
  attrU32,
  ifinfomsg,
  nested,
  readTcmsg,
  tcmsg,
} from './netlink.js';
import { type NetInterface, ifIndex, inNetns } from './netns.js';
import { SOL_SOCKET, SO_ATTACH_BPF, SO_DETACH_BPF, dupCloexec, setsockoptInt } from './socket.js';
import { bpfRaw, closeFd } from './syscall.js';

/** A loaded program (anything with its fd, such as `LoadedProgram`) or a raw program fd. */
export type ProgramRef = number | { readonly fd: number; readonly name?: string };

/**
 * The program's fd and kernel name, after checking that it has the type the
 * hook takes (so a wrong type is a clear error, not an EINVAL from the hook).
 */
function programFor(prog: ProgramRef, type: number, hook: string): { fd: number; name: string } {
  const fd = typeof prog === 'number' ? prog : prog.fd;
  const info = progInfo(fd);
  if (info.type !== type) {
    throw new AttachError('EPROGTYPE', `program${info.name ? ` "${info.name}"` : ''} has type ${progTypeName(info.type)}; ${hook} takes ${progTypeName(type)} programs`, {
      program: info.name, type: progTypeName(info.type), expected: progTypeName(type), hook,
    });
  }
  return { fd, name: (typeof prog === 'number' ? undefined : prog.name) ?? info.name };
}

const EINVAL = 22;
const ENOSYS = 38;
const EOPNOTSUPP = 95;
const ENOTSUPP = 524;
const EEXIST = 17;
const EBADF = 9;
const ENOENT = 2;
/** Errors that mean "this kernel has no link for that hook", after which netlink is tried. */
const NO_LINK_SUPPORT = new Set([EINVAL, ENOSYS, EOPNOTSUPP, ENOTSUPP]);

/** `XDP_FLAGS_*`. */
export const XdpFlag = {
  UPDATE_IF_NOEXIST: 1,
  SKB_MODE: 2,
  DRV_MODE: 4,
  HW_MODE: 8,
  REPLACE: 16,
} as const;

export type XdpMode = 'native' | 'generic' | 'offload';
const XDP_MODE_FLAG: Record<XdpMode, number> = { native: XdpFlag.DRV_MODE, generic: XdpFlag.SKB_MODE, offload: XdpFlag.HW_MODE };

/** How to attach: a bpf_link, netlink, or a link with netlink as the fallback (`auto`, the default). */
export type NetAttachVia = 'auto' | 'link' | 'netlink';

export interface NetAttachOptions {
  /** Resolve the device and attach inside this network namespace (a name under /run/netns, or a path). */
  netns?: string;
  via?: NetAttachVia;
}

export interface XdpAttachOptions extends NetAttachOptions {
  /** Driver (`native`), `generic` (skb) or `offload` mode; by default the kernel picks native where the driver has it. */
  mode?: XdpMode;
}

/** BPF_LINK_CREATE; returns the link fd or a negative errno. */
function linkCreate(prog: number, target: number, attachType: number, flags: number): number {
  const attr = new Uint8Array(64);
  const v = new DataView(attr.buffer);
  v.setUint32(0, prog, true);
  v.setUint32(4, target, true);
  v.setUint32(8, attachType, true);
  v.setUint32(12, flags, true);
  return bpfRaw(BpfCommand.BPF_LINK_CREATE, attr);
}

function checkVia(via: string): void {
  if (via !== 'auto' && via !== 'link' && via !== 'netlink') {
    throw new AttachError('EATTACHARG', `"via" must be auto, link or netlink, not "${via}"`, { via });
  }
}

const maybeInNetns = <T>(netns: string | undefined, fn: () => T): T => (netns === undefined ? fn() : inNetns(netns, fn));

/**
 * Attaches an XDP program to a device. With a bpf_link (BPF_LINK_CREATE,
 * attach type XDP) the kernel detaches it when the last fd or pin goes; when
 * the kernel has no XDP links (or `via: 'netlink'`), RTM_SETLINK attaches it
 * and `close()` removes it again (only if it is still this program).
 */
export function attachXdp(prog: ProgramRef, iface: NetInterface, opts: XdpAttachOptions = {}): Link {
  const via = opts.via ?? 'auto';
  checkVia(via);
  let modeFlag = 0;
  if (opts.mode !== undefined) {
    if (!Object.hasOwn(XDP_MODE_FLAG, opts.mode)) throw new AttachError('EATTACHARG', `XDP mode must be native, generic or offload, not "${opts.mode}"`, { mode: opts.mode });
    modeFlag = XDP_MODE_FLAG[opts.mode];
  }
  const { fd } = programFor(prog, ProgType.XDP, 'XDP');
  return maybeInNetns(opts.netns, () => {
    const ifindex = ifIndex(iface);
    if (via !== 'netlink') {
      const ret = linkCreate(fd, ifindex, AttachType.XDP, modeFlag);
      if (ret >= 0) return new Link(ret, 'xdp');
      if (via === 'link' || !NO_LINK_SUPPORT.has(-ret)) {
        throw new KernelError('BPF_LINK_CREATE', -ret, '', `XDP on ${describe(iface, ifindex)}`);
      }
    }
    return xdpNetlink(fd, iface, ifindex, modeFlag);
  });
}

const IFLA_XDP = 43;
const IFLA_XDP_FD = 1;
const IFLA_XDP_FLAGS = 3;
const IFLA_XDP_EXPECTED_FD = 8;

function describe(iface: NetInterface, ifindex: number): string {
  return typeof iface === 'string' ? `${iface} (ifindex ${ifindex})` : `ifindex ${ifindex}`;
}

function xdpNetlink(fd: number, iface: NetInterface, ifindex: number, modeFlag: number): Link {
  const nl = new RtNetlink();
  let own = -1;
  try {
    // A duplicate of the program fd names "our" program at detach time, even if the caller closed theirs.
    own = dupCloexec(fd);
    const where = `XDP on ${describe(iface, ifindex)}`;
    nl.request(Rtm.SETLINK, 0, ifinfomsg(ifindex), [
      nested(IFLA_XDP, [attrS32(IFLA_XDP_FD, fd), attrU32(IFLA_XDP_FLAGS, modeFlag | XdpFlag.UPDATE_IF_NOEXIST)]),
    ], where);
    const detach = (): void => {
      try {
        nl.request(Rtm.SETLINK, 0, ifinfomsg(ifindex), [
          nested(IFLA_XDP, [attrS32(IFLA_XDP_FD, -1), attrS32(IFLA_XDP_EXPECTED_FD, own), attrU32(IFLA_XDP_FLAGS, modeFlag | XdpFlag.REPLACE)]),
        ], `detach ${where}`);
      } catch (e) {
        // EEXIST: the device no longer runs this program (replaced or removed); ENODEV: the device is gone.
        if (!alreadyGone(e, EEXIST)) throw e;
      } finally {
        nl.close();
        closeFd(own);
      }
    };
    return Link.withoutFd('xdp', detach);
  } catch (e) {
    nl.close();
    if (own >= 0) closeFd(own);
    throw e;
  }
}

const ENODEV = 19;

/** True for the errors that mean a netlink attachment had already gone away when `close()` came. */
const alreadyGone = (e: unknown, errno: number): boolean => e instanceof KernelError && (e.errno === errno || e.errno === ENODEV);

export type TcDirection = 'ingress' | 'egress';

function checkDirection(direction: string): void {
  if (direction !== 'ingress' && direction !== 'egress') {
    throw new AttachError('EATTACHARG', `tc direction must be ingress or egress, not "${direction}"`, { direction });
  }
}

export interface TcxAttachOptions extends NetAttachOptions {
  /** `auto` (the default) falls back to a clsact `bpf` filter (`attachTc`) when the kernel has no tcx. */
  via?: 'auto' | 'link' | 'netlink';
}

/**
 * Attaches a `sched_cls` program to a device's tcx hook (BPF_LINK_CREATE,
 * TCX_INGRESS / TCX_EGRESS), after the programs already there. Return codes
 * are the `TC_ACT_*` / `TCX_*` verdicts.
 */
export function attachTcx(prog: ProgramRef, iface: NetInterface, direction: TcDirection, opts: TcxAttachOptions = {}): Link {
  const via = opts.via ?? 'auto';
  checkVia(via);
  checkDirection(direction);
  if (via === 'netlink') return attachTc(prog, iface, direction, { netns: opts.netns });
  const { fd } = programFor(prog, ProgType.SCHED_CLS, 'tcx');
  const type = direction === 'ingress' ? AttachType.TCX_INGRESS : AttachType.TCX_EGRESS;
  const viaLink = maybeInNetns(opts.netns, () => {
    const ifindex = ifIndex(iface);
    const ret = linkCreate(fd, ifindex, type, 0);
    if (ret >= 0) return new Link(ret, 'tcx');
    if (via === 'link' || !NO_LINK_SUPPORT.has(-ret)) {
      throw new KernelError('BPF_LINK_CREATE', -ret, '', `tcx ${direction} on ${describe(iface, ifindex)}`);
    }
    return null;
  });
  return viaLink ?? attachTc(prog, iface, direction, { netns: opts.netns });
}

export interface TcAttachOptions {
  netns?: string;
  /** Filter priority (1-65535); by default the kernel picks one. */
  priority?: number;
  /** Filter handle; by default the kernel picks one. */
  handle?: number;
  /** The filter's name as `tc filter show` lists it (default: the program's name, or `tsbpf`). */
  name?: string;
}

const TC_H_CLSACT = 0xfffffff1;
const TC_H_MIN_INGRESS = 0xfff2;
const TC_H_MIN_EGRESS = 0xfff3;
const TCA_KIND = 1;
const TCA_OPTIONS = 2;
const TCA_BPF_FD = 6;
const TCA_BPF_NAME = 7;
const TCA_BPF_FLAGS = 8;
const TCA_BPF_FLAG_ACT_DIRECT = 1;
const ETH_P_ALL_BE = 0x0300; // htons(ETH_P_ALL) as the low 16 bits of tcm_info

/**
 * Attaches a `sched_cls` program as a direct-action `bpf` filter under the
 * device's clsact qdisc (created if missing, and left in place), through
 * netlink. `close()` deletes the filter.
 */
export function attachTc(prog: ProgramRef, iface: NetInterface, direction: TcDirection, opts: TcAttachOptions = {}): Link {
  checkDirection(direction);
  const priority = opts.priority ?? 0;
  const handle = opts.handle ?? 0;
  if (!Number.isInteger(priority) || priority < 0 || priority > 0xffff) {
    throw new AttachError('EATTACHARG', `tc priority must be 0-65535, not ${priority}`, { priority });
  }
  if (!Number.isInteger(handle) || handle < 0 || handle > 0xffffffff) {
    throw new AttachError('EATTACHARG', `tc handle must be a 32-bit number, not ${handle}`, { handle });
  }
  const program = programFor(prog, ProgType.SCHED_CLS, 'tc');
  const fd = program.fd;
  const name = opts.name || program.name || 'tsbpf';
  return maybeInNetns(opts.netns, () => {
    const ifindex = ifIndex(iface);
    const where = `tc ${direction} on ${describe(iface, ifindex)}`;
    const nl = new RtNetlink();
    try {
      try {
        nl.request(Rtm.NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, tcmsg(ifindex, 0xffff0000, TC_H_CLSACT, 0), [attrStr(TCA_KIND, 'clsact')], `clsact qdisc for ${where}`);
      } catch (e) {
        if (!(e instanceof KernelError && e.errno === EEXIST)) throw e;
      }
      const parent = ((TC_H_CLSACT & 0xffff0000) | (direction === 'ingress' ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS)) >>> 0;
      const info = ((priority << 16) | ETH_P_ALL_BE) >>> 0;
      const replies = nl.request(Rtm.NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO, tcmsg(ifindex, handle, parent, info), [
        attrStr(TCA_KIND, 'bpf'),
        nested(TCA_OPTIONS, [attrU32(TCA_BPF_FD, fd), attrStr(TCA_BPF_NAME, name), attrU32(TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT)]),
      ], where);
      // The echoed filter says which handle and priority the kernel chose.
      const echoed = replies.find((m) => m.type === Rtm.NEWTFILTER);
      const got = echoed ? readTcmsg(echoed.body) : { handle, info };
      const detach = (): void => {
        try {
          nl.request(Rtm.DELTFILTER, 0, tcmsg(ifindex, got.handle, parent, got.info), [attrStr(TCA_KIND, 'bpf')], `detach ${where}`);
        } catch (e) {
          // ENOENT: someone removed the filter; EINVAL: ...or the clsact qdisc ("Parent Qdisc doesn't exists");
          // ENODEV: the device is gone. The request is the one the kernel accepted at attach time.
          if (!alreadyGone(e, ENOENT) && !alreadyGone(e, EINVAL)) throw e;
        } finally {
          nl.close();
        }
      };
      return Link.withoutFd('tc', detach);
    } catch (e) {
      nl.close();
      throw e;
    }
  });
}

/** A socket: its fd, or an object that has one. */
export type SocketRef = number | { readonly fd: number };


/**
 * Attaches a socket filter program to a socket (SO_ATTACH_BPF): the socket
 * keeps a packet only if the program returns non-zero (and truncates it to
 * that many bytes). `close()` removes the filter (SO_DETACH_BPF); it is gone
 * anyway once the socket is closed.
 */
export function attachSocketFilter(prog: ProgramRef, sock: SocketRef): Link {
  const sfd = typeof sock === 'number' ? sock : sock.fd;
  if (!Number.isInteger(sfd) || sfd < 0) throw new AttachError('EATTACHARG', `not a socket fd: ${sfd}`, { socket: sfd });
  const { fd } = programFor(prog, ProgType.SOCKET_FILTER, 'a socket filter');
  setsockoptInt(sfd, SOL_SOCKET, SO_ATTACH_BPF, fd, `SO_ATTACH_BPF on fd ${sfd}`);
  return Link.withoutFd('socket_filter', () => {
    try {
      setsockoptInt(sfd, SOL_SOCKET, SO_DETACH_BPF, 0, `SO_DETACH_BPF on fd ${sfd}`);
    } catch (e) {
      // The socket is gone, or its filter already removed: nothing left to detach.
      if (!(e instanceof KernelError && (e.errno === EBADF || e.errno === ENOENT))) throw e;
    }
  });
}
