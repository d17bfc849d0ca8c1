/**
 * perf_event_open(2) and the attachment of a program to a perf event: the
 * base of tracepoint, uprobe and kprobe attachment (one event) and of
 * sampling programs (one event per CPU). Attaching prefers a bpf_link
 * (BPF_LINK_CREATE, attach type PERF_EVENT), which holds the event itself,
 * and falls back to the PERF_EVENT_IOC_SET_BPF ioctl on older kernels.
 */
import { readFileSync } from 'node:fs';
import { TsbpfError } from '../errors.js';
import { AttachType } from '../object/kinds.js';
import { AttachError } from './attach-error.js';
import { BpfCommand } from './constants.js';
import { KernelError } from './errors.js';
import { Link } from './link.js';
import { bpfRaw, closeFd, loadFfi } from './syscall.js';

/** `enum perf_type_id`. */
export const PerfType = {
  HARDWARE: 0,
  SOFTWARE: 1,
  TRACEPOINT: 2,
  HW_CACHE: 3,
  RAW: 4,
  BREAKPOINT: 5,
} as const;

/** `enum perf_sw_ids`: `config` of PERF_TYPE_SOFTWARE events, by the names perf(1) uses. */
export const SoftwareEvent = {
  'cpu-clock': 0,
  'task-clock': 1,
  'page-faults': 2,
  'context-switches': 3,
  'cpu-migrations': 4,
  'minor-faults': 5,
  'major-faults': 6,
  'alignment-faults': 7,
  'emulation-faults': 8,
  dummy: 9,
  'bpf-output': 10,
  'cgroup-switches': 11,
} as const;
export type SoftwareEventName = keyof typeof SoftwareEvent;

/** The fields of `struct perf_event_attr` that tsbpf sets. */
export interface PerfEventAttr {
  type: number;
  config: bigint | number;
  /** `config1`: also `uprobe_path` / `kprobe_func` (an address). */
  config1?: bigint;
  /** `config2`: also `probe_offset` / `kprobe_addr`. */
  config2?: bigint;
  /** Sample every N events; exclusive with `sampleFreq`. */
  samplePeriod?: bigint | number;
  /** Samples per second (sets the `freq` bit). */
  sampleFreq?: number;
  /** Open the event disabled (enable it with `PERF_EVENT_IOC_ENABLE`). */
  disabled?: boolean;
}

const ATTR_SIZE = 128;
const PERF_FLAG_FD_CLOEXEC = 8;
const SYS_PERF_EVENT_OPEN: Readonly<Record<string, number>> = { x64: 298, arm64: 241 };
const SYS_IOCTL: Readonly<Record<string, number>> = { x64: 16, arm64: 29 };
/** `_IO('$', 0)`, `_IO('$', 1)`, `_IOW('$', 8, __u32)`. */
export const PERF_EVENT_IOC_ENABLE = 0x2400;
export const PERF_EVENT_IOC_DISABLE = 0x2401;
export const PERF_EVENT_IOC_SET_BPF = 0x40042408;
const EINVAL = 22;

/** Encodes `struct perf_event_attr`. */
export function encodePerfEventAttr(a: PerfEventAttr): Uint8Array {
  const out = new Uint8Array(ATTR_SIZE);
  const v = new DataView(out.buffer);
  v.setUint32(0, a.type, true);
  v.setUint32(4, ATTR_SIZE, true);
  v.setBigUint64(8, BigInt(a.config), true);
  let flags = 0n;
  if (a.sampleFreq !== undefined) {
    v.setBigUint64(16, BigInt(a.sampleFreq), true);
    flags |= 1n << 10n; // freq
  } else if (a.samplePeriod !== undefined) {
    v.setBigUint64(16, BigInt(a.samplePeriod), true);
  }
  if (a.disabled) flags |= 1n; // disabled
  v.setBigUint64(40, flags, true);
  v.setBigUint64(56, a.config1 ?? 0n, true);
  v.setBigUint64(64, a.config2 ?? 0n, true);
  return out;
}

interface PerfFns {
  open: (nr: number, attr: Uint8Array, pid: number, cpu: number, group: number, flags: number) => number | bigint;
  ioctl: (nr: number, fd: number, req: number, arg: number) => number | bigint;
  openNr: number;
  ioctlNr: number;
}
let fns: PerfFns | undefined;

function perfFns(): PerfFns {
  if (fns) return fns;
  const { libc } = loadFfi();
  const openNr = SYS_PERF_EVENT_OPEN[process.arch];
  const ioctlNr = SYS_IOCTL[process.arch];
  if (openNr === undefined || ioctlNr === undefined) {
    throw new TsbpfError('ENOKERNEL', `no perf_event_open(2) syscall number known for ${process.arch}`, { arch: process.arch });
  }
  fns = {
    open: libc.func('long syscall(long, void *, int, int, int, unsigned long)') as PerfFns['open'],
    ioctl: libc.func('long syscall(long, int, unsigned long, unsigned long)') as PerfFns['ioctl'],
    openNr,
    ioctlNr,
  };
  return fns;
}

/**
 * perf_event_open(2) (close-on-exec): `pid` -1 and a CPU for every task on
 * that CPU, or a pid and CPU -1 for one task on every CPU. Returns the fd.
 */
export function perfEventOpen(attr: PerfEventAttr | Uint8Array, pid: number, cpu: number, groupFd = -1): number {
  const f = perfFns();
  const bytes = attr instanceof Uint8Array ? attr : encodePerfEventAttr(attr);
  const fd = Number(f.open(f.openNr, bytes, pid, cpu, groupFd, PERF_FLAG_FD_CLOEXEC));
  if (fd < 0) {
    const v = new DataView(bytes.buffer, bytes.byteOffset);
    throw new KernelError('perf_event_open', loadFfi().koffi.errno(), '',
      `type ${v.getUint32(0, true)}, config ${v.getBigUint64(8, true)}, pid ${pid}, cpu ${cpu}`);
  }
  return fd;
}

/** ioctl(2) on a perf event fd; throws a `KernelError` naming the request. */
export function perfIoctl(fd: number, request: number, arg = 0): void {
  const f = perfFns();
  if (Number(f.ioctl(f.ioctlNr, fd, request, arg)) < 0) {
    const name = request === PERF_EVENT_IOC_SET_BPF ? 'PERF_EVENT_IOC_SET_BPF' : request === PERF_EVENT_IOC_ENABLE ? 'PERF_EVENT_IOC_ENABLE' : `ioctl 0x${request.toString(16)}`;
    throw new KernelError(name, loadFfi().koffi.errno(), '', `perf event fd ${fd}`);
  }
}

/** A loaded program, or its fd. */
export type ProgramRef = number | { readonly fd: number };
export const progFdOf = (p: ProgramRef): number => (typeof p === 'number' ? p : p.fd);

export interface PerfAttachOptions {
  /** `bpf_cookie` the program reads with bpf_get_attach_cookie (bpf_link only). */
  cookie?: bigint;
}

/**
 * Attaches a program to an open perf event and takes ownership of the event
 * fd: with a bpf_link the event is then held by the link (and the fd closed),
 * otherwise (ioctl fallback) the event fd is the Link's fd. Either way the
 * event is enabled. On failure the event fd is closed.
 */
export function attachPerfEventFd(prog: ProgramRef, perfFd: number, kind: string, opts: PerfAttachOptions = {}): Link {
  let owned = true;
  try {
    const attr = new Uint8Array(64);
    const v = new DataView(attr.buffer);
    v.setUint32(0, progFdOf(prog), true);
    v.setUint32(4, perfFd, true);
    v.setUint32(8, AttachType.PERF_EVENT, true);
    v.setBigUint64(16, opts.cookie ?? 0n, true);
    const linkFd = bpfRaw(BpfCommand.BPF_LINK_CREATE, attr);
    if (linkFd >= 0) {
      const link = new Link(linkFd, kind);
      try {
        perfIoctl(perfFd, PERF_EVENT_IOC_ENABLE);
      } catch (e) {
        link.close();
        throw e;
      }
      owned = false;
      try {
        closeFd(perfFd);
      } catch {
        // the link holds the event; this fd is no longer needed either way
      }
      return link;
    }
    if (-linkFd !== EINVAL || opts.cookie) throw new KernelError('BPF_LINK_CREATE', -linkFd, '', `${kind} (perf event fd ${perfFd})`);
    // Kernels before 5.15 have no perf links: attach through the event itself.
    perfIoctl(perfFd, PERF_EVENT_IOC_SET_BPF, progFdOf(prog));
    perfIoctl(perfFd, PERF_EVENT_IOC_ENABLE);
    return new Link(perfFd, kind, { pinnable: false, detach: () => perfIoctl(perfFd, PERF_EVENT_IOC_DISABLE) });
  } catch (e) {
    if (owned) {
      try {
        closeFd(perfFd);
      } catch {
        // the original error matters more
      }
    }
    throw e;
  }
}

/** The online CPUs' numbers (from /sys/devices/system/cpu/online). */
export function onlineCpus(): number[] {
  let text: string;
  try {
    text = readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
  } catch (e) {
    throw new TsbpfError('ECPUS', `cannot read /sys/devices/system/cpu/online: ${(e as Error).message}`, {});
  }
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new TsbpfError('ECPUS', `"${part}" is not a CPU number or range`, { list: text });
    for (let c = Number(m[1]); c <= Number(m[2] ?? m[1]); c++) out.push(c);
  }
  return out;
}

export interface PerfEventOptions extends PerfAttachOptions {
  /** A software event by its perf(1) name (`cpu-clock`...), or any `type`/`config` pair. */
  type: SoftwareEventName | { type: number; config: bigint | number };
  /** Samples per second; the default when neither this nor `period` is given is 49. */
  frequency?: number;
  /** Sample every N events (or ns, for the clocks). */
  period?: bigint | number;
  /** Only this task (on every CPU); default: every task, one event per online CPU. */
  pid?: number;
  /** Only these CPUs (default: every online CPU). */
  cpus?: readonly number[];
}

/**
 * Attaches a PERF_EVENT program to a sampling event, one perf event per CPU
 * (or one for `pid`). The Link closes every per-CPU attachment.
 */
export function attachPerfEvent(prog: ProgramRef, opts: PerfEventOptions): Link {
  let type: number;
  let config: bigint | number;
  if (typeof opts.type === 'string') {
    const c = SoftwareEvent[opts.type];
    if (c === undefined) {
      throw new AttachError('EATTACHARG', `unknown software event "${String(opts.type)}" (known: ${Object.keys(SoftwareEvent).join(', ')})`, { event: opts.type });
    }
    type = PerfType.SOFTWARE;
    config = c;
  } else {
    ({ type, config } = opts.type);
  }
  if (opts.frequency !== undefined && opts.period !== undefined) {
    throw new AttachError('EATTACHARG', 'give a sampling frequency or a period, not both', {});
  }
  if (opts.frequency !== undefined && !(Number.isInteger(opts.frequency) && opts.frequency > 0)) {
    throw new AttachError('EATTACHARG', `sampling frequency ${opts.frequency} is not a positive integer`, {});
  }
  const attr: PerfEventAttr = { type, config, disabled: true };
  if (opts.period !== undefined) attr.samplePeriod = opts.period;
  else attr.sampleFreq = opts.frequency ?? 49;
  const targets = opts.pid !== undefined ? [[opts.pid, -1] as const] : (opts.cpus ?? onlineCpus()).map((c) => [-1, c] as const);
  const links: Link[] = [];
  try {
    for (const [pid, cpu] of targets) links.push(attachPerfEventFd(prog, perfEventOpen(attr, pid, cpu), 'perf_event', opts));
  } catch (e) {
    for (const l of links) l.close();
    throw e;
  }
  if (links.length === 1) return links[0]!;
  return Link.withoutFd('perf_event', () => {
    let first: unknown = null;
    for (const l of links) {
      try {
        l.close();
      } catch (e) {
        first ??= e;
      }
    }
    if (first !== null) throw first;
  });
}
