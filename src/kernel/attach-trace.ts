/**
 * Attaching tracing programs: tracepoints and probes through perf events
 * (perf-event.ts), raw tracepoints and BTF-typed tracing programs through
 * bpf(2). Each returns a `Link` that detaches on close.
 */
import { readFileSync } from 'node:fs';
import { AttachError, KprobeUnavailableError } from './attach-error.js';
import { BpfCommand } from './constants.js';
import { KernelError } from './errors.js';
import { Link } from './link.js';
import { type PerfAttachOptions, PerfType, type ProgramRef, attachPerfEventFd, perfEventOpen, progFdOf } from './perf-event.js';
import { addressOf, bpfRaw } from './syscall.js';
import { type Tracefs, type TracefsOptions, tracefs } from './tracefs.js';
import { resolveUprobe } from './uprobe-resolve.js';

export const EVENT_SOURCES = '/sys/bus/event_source/devices';

const cString = (s: string): Uint8Array => new TextEncoder().encode(`${s}\0`);

export interface TracepointOptions extends PerfAttachOptions, TracefsOptions {
  /** The tracefs to read the id from (default: found or mounted by `tracefs()`). */
  tracefs?: Tracefs;
}

/**
 * Attaches a TRACEPOINT program to `category/name` (as in tracefs
 * `events/`): one perf event (pid -1, CPU 0, which the kernel runs the
 * program for on every CPU), then a perf bpf_link.
 */
export function attachTracepoint(prog: ProgramRef, category: string, name: string, opts: TracepointOptions = {}): Link {
  const fs = opts.tracefs ?? tracefs(opts);
  const id = fs.tracepointId(category, name);
  const fd = perfEventOpen({ type: PerfType.TRACEPOINT, config: id, samplePeriod: 1, disabled: true }, -1, 0);
  return attachPerfEventFd(prog, fd, 'tracepoint', opts);
}

export interface RawTracepointOptions {
  /** `bpf_cookie` (Linux 6.10+). */
  cookie?: bigint;
}

/** BPF_RAW_TRACEPOINT_OPEN; `name` null for BTF-typed programs, which carry their target. */
function rawTracepointOpen(prog: ProgramRef, name: string | null, kind: string, cookie = 0n): Link {
  const nameBytes = name === null ? null : cString(name);
  const attr = new Uint8Array(24);
  const v = new DataView(attr.buffer);
  v.setBigUint64(0, nameBytes ? addressOf(nameBytes) : 0n, true);
  v.setUint32(8, progFdOf(prog), true);
  v.setBigUint64(16, cookie, true);
  const fd = bpfRaw(BpfCommand.BPF_RAW_TRACEPOINT_OPEN, attr);
  if (fd < 0) throw new KernelError('BPF_RAW_TRACEPOINT_OPEN', -fd, '', name === null ? kind : `raw tracepoint "${name}"`);
  return new Link(fd, kind);
}

/** Attaches a RAW_TRACEPOINT(_WRITABLE) program to the kernel tracepoint `name` (`sys_enter`, `sched_switch`...). */
export function attachRawTracepoint(prog: ProgramRef, name: string, opts: RawTracepointOptions = {}): Link {
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new AttachError('EATTACHARG', `"${name}" is not a raw tracepoint name`, { tracepoint: name });
  return rawTracepointOpen(prog, name, 'raw_tracepoint', opts.cookie);
}

export interface TracingOptions {
  /**
   * The program's expected attach type (`AttachType.TRACE_RAW_TP` for
   * tp_btf, `TRACE_FENTRY`...): attaches with BPF_LINK_CREATE. Without it,
   * BPF_RAW_TRACEPOINT_OPEN with no name, which works for every BTF-typed
   * program but iterators (see `attachIter`).
   */
  attachType?: number;
}

/** Attaches a BTF-typed TRACING or LSM program (tp_btf, fentry/fexit, fmod_ret, lsm) to the target it was loaded for. */
export function attachTracing(prog: ProgramRef, opts: TracingOptions = {}): Link {
  if (opts.attachType === undefined) return rawTracepointOpen(prog, null, 'tracing');
  const attr = new Uint8Array(48);
  const v = new DataView(attr.buffer);
  v.setUint32(0, progFdOf(prog), true);
  v.setUint32(8, opts.attachType, true);
  const fd = bpfRaw(BpfCommand.BPF_LINK_CREATE, attr);
  if (fd < 0) throw new KernelError('BPF_LINK_CREATE', -fd, '', `tracing program, attach type ${opts.attachType}`);
  return new Link(fd, 'tracing');
}

/** The `type` of a dynamic PMU (`uprobe`, `kprobe`), or null when the kernel has none. */
export function pmuType(pmu: string, dir = EVENT_SOURCES): number | null {
  try {
    const n = Number(readFileSync(`${dir}/${pmu}/type`, 'utf8').trim());
    return Number.isInteger(n) ? n : null;
  } catch {
    return null;
  }
}

/** The `config` bit that makes a `uprobe`/`kprobe` PMU event a return probe (`format/retprobe`: `config:0`). */
export function pmuRetprobeBit(pmu: string, dir = EVENT_SOURCES): number {
  let text: string;
  try {
    text = readFileSync(`${dir}/${pmu}/format/retprobe`, 'utf8').trim();
  } catch {
    throw new AttachError(pmu === 'kprobe' ? 'ENOKPROBE' : 'ENOUPROBE', `the ${pmu} PMU has no retprobe format (${dir}/${pmu}/format/retprobe)`, { pmu });
  }
  const m = /^config:(\d+)$/.exec(text);
  if (!m) throw new AttachError('EATTACHARG', `${dir}/${pmu}/format/retprobe says "${text}", not config:N`, { pmu });
  return Number(m[1]);
}

export interface UprobeOptions extends PerfAttachOptions {
  /** A uretprobe: runs when the function returns. */
  retprobe?: boolean;
  /** Only in this process (default: every process that maps the binary). */
  pid?: number;
  /** Where to find the PMUs (tests point it elsewhere). */
  eventSources?: string;
}

/**
 * Attaches a KPROBE-type program as a uprobe on `symbol` (a function name,
 * `name+offset`, or a file offset) in the ELF binary `binaryPath`, which
 * may be a bare name looked up in $PATH and the library directories.
 */
export function attachUprobe(prog: ProgramRef, binaryPath: string, symbol: string | number | bigint, opts: UprobeOptions = {}): Link {
  const dir = opts.eventSources ?? EVENT_SOURCES;
  const type = pmuType('uprobe', dir);
  if (type === null) {
    throw new AttachError('ENOUPROBE', `uprobes are unavailable on this kernel: there is no uprobe PMU (${dir}/uprobe; CONFIG_UPROBE_EVENTS is off)`, { pmu: `${dir}/uprobe` });
  }
  const target = resolveUprobe(binaryPath, symbol);
  const path = cString(target.path);
  const config = opts.retprobe ? 1n << BigInt(pmuRetprobeBit('uprobe', dir)) : 0n;
  const pid = opts.pid ?? -1;
  const fd = perfEventOpen({ type, config, config1: addressOf(path), config2: target.offset, samplePeriod: 1, disabled: true }, pid, pid >= 0 ? -1 : 0);
  return attachPerfEventFd(prog, fd, opts.retprobe ? 'uretprobe' : 'uprobe', opts);
}

export interface KprobeOptions extends PerfAttachOptions {
  retprobe?: boolean;
  /** Bytes into the function (entry probes only). */
  offset?: number;
  eventSources?: string;
}

/**
 * Attaches a KPROBE program to the kernel function `fn` through the kprobe
 * PMU. Kernels built without CONFIG_KPROBES have no such PMU: this then
 * throws `KprobeUnavailableError` (code `ENOKPROBE`) before any syscall.
 */
export function attachKprobe(prog: ProgramRef, fn: string, opts: KprobeOptions = {}): Link {
  if (!/^[A-Za-z0-9_.]+$/.test(fn)) throw new AttachError('EATTACHARG', `"${fn}" is not a kernel function name`, { function: fn });
  const dir = opts.eventSources ?? EVENT_SOURCES;
  const type = pmuType('kprobe', dir);
  if (type === null) throw new KprobeUnavailableError(fn, `${dir}/kprobe`);
  if (opts.retprobe && opts.offset) throw new AttachError('EATTACHARG', 'a kretprobe cannot have an offset', { function: fn });
  const name = cString(fn);
  const config = opts.retprobe ? 1n << BigInt(pmuRetprobeBit('kprobe', dir)) : 0n;
  const fd = perfEventOpen({ type, config, config1: addressOf(name), config2: BigInt(opts.offset ?? 0), samplePeriod: 1, disabled: true }, -1, 0);
  return attachPerfEventFd(prog, fd, opts.retprobe ? 'kretprobe' : 'kprobe', opts);
}
