/**
 * Uprobes on JavaScript functions. The ctx is an x86-64 `struct pt_regs`
 * (21 u64), as a uprobe program on Linux sees the probed task's registers:
 * the first six arguments in rdi, rsi, rdx, rcx, r8, r9 and, for the return
 * probe, the return value in rax, so C written with BPF_UPROBE /
 * BPF_URETPROBE and PT_REGS_PARM1..6 / PT_REGS_RC (-D__TARGET_ARCH_x86)
 * runs unchanged. Programs may read the ctx, not write it.
 *
 * Arguments: numbers (truncated to integers), bigints and booleans are
 * passed as 64-bit integers; Uint8Array (any ArrayBufferView) and string
 * arguments (UTF-8, NUL-terminated) are copied into a read-only region whose
 * address is passed, so `bpf_probe_read_user` reads them. Anything else is 0.
 */
import type { AddressSpace, Region } from '../address-space.js';
import type { HelperDef, RunHost } from '../helpers.js';
import type { TaskInfo } from '../helpers/index.js';
import type { RunFn } from './common.js';
import { TRACING_HELPERS } from './allowed.js';

/** `struct pt_regs` offsets on x86-64. */
export const PtRegs = {
  r15: 0, r14: 8, r13: 16, r12: 24, rbp: 32, rbx: 40, r11: 48, r10: 56, r9: 64, r8: 72,
  rax: 80, rcx: 88, rdx: 96, rsi: 104, rdi: 112, origRax: 120, rip: 128, cs: 136, eflags: 144, rsp: 152, ss: 160,
  size: 168,
} as const;

/** Where the System V AMD64 ABI puts the first six integer arguments. */
const ARG_REGS = [PtRegs.rdi, PtRegs.rsi, PtRegs.rdx, PtRegs.rcx, PtRegs.r8, PtRegs.r9] as const;
/** What a user-space task's segment and flag registers hold on Linux x86-64. */
const USER_CS = 0x33n, USER_SS = 0x2bn, USER_EFLAGS = 0x246n;
/** The fake code addresses given to probed functions (`rip`), 16 bytes apart. */
const TEXT_BASE = 0x401000;

export interface UprobeProbes {
  /** Runs before the function, with its arguments. */
  entry?: RunFn;
  /** Runs after it returns, with the return value in rax (and the arguments still in their registers). */
  ret?: RunFn;
}

export interface UprobeOptions {
  /** The virtual CPU of the runs. */
  cpu?: number;
  /** More fields for `env.host` (printk, task, maps...). */
  host?: Readonly<Record<string, unknown>>;
}

export interface UprobeHookOptions {
  /** Bytes for string and byte-array arguments of one probe run (64 KiB unless said). */
  argBytes?: number;
}

type AnyFunction = (this: unknown, ...args: never[]) => unknown;

const utf8 = new TextEncoder();

/**
 * The task a probed JavaScript function runs in: this process where the
 * runtime says who it is (Node), else none (the task helpers return -EINVAL).
 * Read through `globalThis` so the hook stays usable in a browser.
 */
function currentTask(): TaskInfo | null {
  const proc = (globalThis as { process?: { pid?: number; getuid?: () => number; getgid?: () => number; title?: string; argv0?: string } }).process;
  if (proc === undefined || typeof proc.pid !== 'number') return null;
  const comm = (proc.argv0 ?? proc.title ?? 'node').split('/').pop() ?? 'node';
  return { pid: proc.pid, tgid: proc.pid, uid: proc.getuid?.() ?? 0, gid: proc.getgid?.() ?? 0, comm: comm.slice(0, 15) };
}

/** Uprobes on the JavaScript functions of one address space. */
export class UprobeHook {
  static readonly allowedHelpers: readonly number[] = TRACING_HELPERS;
  readonly ctx: Region;
  readonly args: Region;
  /** Arguments that did not fit the argument region and were passed as 0. */
  missedArgs = 0;
  private used = 0;
  private attached = 0;

  constructor(readonly space: AddressSpace, opts: UprobeHookOptions = {}) {
    this.ctx = space.map('pt_regs', 'ctx', PtRegs.size, false);
    this.args = space.map('uprobe-args', 'mem', opts.argBytes ?? 1 << 16, false);
  }

  /** Uprobe programs need no helpers beyond the common ones. */
  helpers(): HelperDef[] {
    return [];
  }

  /**
   * Wraps `fn` so that each call runs the entry probe, then `fn`, then the
   * return probe. The wrapper returns (or throws) what `fn` does; a call
   * that throws runs no return probe.
   */
  attachUprobe<F extends AnyFunction>(fn: F, probes: UprobeProbes, opts: UprobeOptions = {}): F {
    const rip = BigInt(TEXT_BASE + 16 * this.attached++);
    const hook = this;
    const wrapped = function (this: unknown, ...args: Parameters<F>): ReturnType<F> {
      if (probes.entry) hook.fire(probes.entry, args, rip, null, opts);
      const out = fn.apply(this, args) as ReturnType<F>;
      if (probes.ret) hook.fire(probes.ret, args, rip, out, opts);
      return out;
    };
    Object.defineProperty(wrapped, 'name', { value: fn.name });
    Object.defineProperty(wrapped, 'length', { value: fn.length });
    return wrapped as unknown as F;
  }

  /** Fills pt_regs for one probe run and runs the program. */
  private fire(run: RunFn, args: readonly unknown[], rip: bigint, rc: unknown, opts: UprobeOptions): bigint {
    const v = this.space.view, c = this.ctx.start;
    this.space.u8.fill(0, c, c + PtRegs.size);
    this.space.u8.fill(0, this.args.start, this.args.start + this.used);
    this.used = 0;
    for (let k = 0; k < ARG_REGS.length && k < args.length; k++) v.setBigUint64(c + ARG_REGS[k]!, this.value(args[k]), true);
    if (rc !== null) v.setBigUint64(c + PtRegs.rax, this.value(rc), true);
    v.setBigUint64(c + PtRegs.origRax, 0xffffffffffffffffn, true);
    v.setBigUint64(c + PtRegs.rip, rip, true);
    v.setBigUint64(c + PtRegs.cs, USER_CS, true);
    v.setBigUint64(c + PtRegs.eflags, USER_EFLAGS, true);
    v.setBigUint64(c + PtRegs.ss, USER_SS, true);
    const host: RunHost = { task: currentTask(), ...opts.host, cpu: opts.cpu ?? 0 };
    return run([BigInt(c)], host);
  }

  /** A JavaScript value as a register. */
  private value(x: unknown): bigint {
    switch (typeof x) {
      case 'bigint':
        return BigInt.asUintN(64, x);
      case 'number':
        return Number.isFinite(x) ? BigInt.asUintN(64, BigInt(Math.trunc(x))) : 0n;
      case 'boolean':
        return x ? 1n : 0n;
      case 'string':
        return this.place(utf8.encode(`${x}\0`));
      default:
        if (ArrayBuffer.isView(x)) return this.place(new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
        return 0n;
    }
  }

  /** Copies bytes into the argument region; their address, or 0 when they do not fit. */
  private place(bytes: Uint8Array): bigint {
    const at = (this.used + 7) & ~7;
    if (at + bytes.length > this.args.end - this.args.start) {
      this.missedArgs++;
      return 0n;
    }
    this.space.u8.set(bytes, this.args.start + at);
    this.used = at + bytes.length;
    return BigInt(this.args.start + at);
  }
}
