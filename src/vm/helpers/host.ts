/**
 * The host facilities the common helpers read from `env.host`, and checked
 * accessors for them: a helper whose facility is missing raises an EHELPER
 * fault that says which field to set, never a JavaScript TypeError.
 */
import { VmFault } from '../errors.js';
import type { HelperEnv, RunHost } from './registry.js';

/** The task a run is "current" in (tracing programs). */
export interface TaskInfo {
  pid: number;
  /** Thread group id: the process id user space sees. */
  tgid: number;
  uid: number;
  gid: number;
  /** The executable name; the kernel keeps at most 15 bytes of it. */
  comm: string;
}

/** The seq_file of an iterator program (`bpf_seq_printf`, `bpf_seq_write`). */
export interface SeqFile {
  /**
   * Appends `bytes` if they fit in the buffer; returns false (and appends
   * nothing) when they do not, as the kernel's seq_file overflows.
   */
  write(bytes: Uint8Array): boolean;
}

/** The fields of `RunHost` the helpers of `commonHelpers()` read. All optional. */
export interface HelperHost extends RunHost {
  /** Where `bpf_trace_printk` / `bpf_trace_vprintk` lines go (one call, one line, no trailing newline added). */
  printk?: (text: string) => void;
  /** The current task; absent or null means none (the task helpers return -EINVAL). */
  task?: TaskInfo | null;
  /** Tail calls already taken in this chain of runs (the runner counts them). */
  tailCalls?: number;
  /** The seq_file of the iterator program being run. */
  seq?: SeqFile;
  /** CLOCK_MONOTONIC in nanoseconds; a clock from `performance.now()` by default. */
  clock?: () => bigint;
  /** CLOCK_REALTIME in nanoseconds (and `ktime_get_tai_ns`, with a TAI offset of 0); the wall clock by default. */
  realtime?: () => bigint;
  /** Nanoseconds spent suspended, added to CLOCK_BOOTTIME (0 by default). */
  suspendedNs?: bigint;
  /** The kernel's tick rate for `bpf_jiffies64` and the coarse clock (250 by default). */
  hz?: number;
  /** A source of uniformly random u32 values for `bpf_get_prandom_u32`. */
  random?: () => number;
  /** The NUMA node of the run's CPU (0 by default). */
  numaNode?: number;
}

/** The raw host, for reading optional fields (check each one before use). */
export const hostOf = (env: HelperEnv): Partial<HelperHost> => env.host as Partial<HelperHost>;

/** The EHELPER fault for a helper that cannot run here. */
export function helperError(env: HelperEnv, helper: string, message: string): VmFault {
  return new VmFault('EHELPER', `bpf_${helper}: ${message}`, env.pc ?? -1);
}

/** The fault for a missing or mistyped host facility. */
export function missing(env: HelperEnv, helper: string, field: string, what: string): VmFault {
  const v = (env.host as Record<string, unknown>)[field];
  return helperError(env, helper, v === undefined
    ? `needs ${what}, and the run's host has no ${field}`
    : `needs ${what}, and the run's host.${field} is not one`);
}

/** `host.printk`, or the fault that says it is missing. */
export function printkOf(env: HelperEnv, helper: string): (text: string) => void {
  const p = hostOf(env).printk;
  if (typeof p !== 'function') throw missing(env, helper, 'printk', 'an output stream (host.printk: (text) => void)');
  return p;
}

/** `host.seq`, or the fault that says it is missing. */
export function seqOf(env: HelperEnv, helper: string): SeqFile {
  const s = hostOf(env).seq;
  if (typeof s !== 'object' || s === null || typeof s.write !== 'function') {
    throw missing(env, helper, 'seq', 'a seq_file (host.seq: { write(bytes): boolean }); only iterator programs have one');
  }
  return s;
}

/** The current task, or null when the run has none. A malformed task is a fault. */
export function taskOf(env: HelperEnv, helper: string): TaskInfo | null {
  const t = hostOf(env).task;
  if (t === undefined || t === null) return null;
  const ok = typeof t === 'object' && ['pid', 'tgid', 'uid', 'gid'].every((k) => Number.isInteger((t as unknown as Record<string, unknown>)[k]))
    && typeof t.comm === 'string';
  if (!ok) throw missing(env, helper, 'task', 'a task { pid, tgid, uid, gid: integers; comm: string }');
  return t;
}

/** A numeric host field, or `fallback` when absent; a field of the wrong type is a fault. */
export function numberField(env: HelperEnv, helper: string, field: 'hz' | 'numaNode' | 'tailCalls', fallback: number): number {
  const v = hostOf(env)[field];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw missing(env, helper, field, 'a non-negative integer');
  return v;
}

/** A bigint-producing host function, or `fallback` when absent. */
export function clockField(env: HelperEnv, helper: string, field: 'clock' | 'realtime', fallback: () => bigint): bigint {
  const f = hostOf(env)[field];
  if (f === undefined) return fallback();
  if (typeof f !== 'function') throw missing(env, helper, field, 'a clock (() => bigint nanoseconds)');
  const v = f();
  if (typeof v !== 'bigint') throw helperError(env, helper, `host.${field}() returned ${typeof v}, not a bigint of nanoseconds`);
  return BigInt.asUintN(64, v);
}
