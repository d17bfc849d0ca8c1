/**
 * The JIT's host side: compiles (and caches) modules, instantiates them over a
 * VM's memory, and implements the imports with the same semantics and the same
 * errors as the interpreter.
 */
import { encode } from '../../isa/index.js';
import { helperFault, pseudoValue, resolveAccess } from '../access.js';
import { RunExit, VmFault } from '../errors.js';
import type { HelperEnv } from '../helpers.js';
import { CODE_ADDR_HI, execute, MAX_FRAMES, RAN_OFF_END, type Workspace, type ExecContext, type ExecResult } from '../interpreter.js';
import type { PreparedProgram } from '../program.js';
import type { Blocks } from './blocks.js';
import type { TrustedAccesses } from './codegen.js';
import { compileModule } from './compile.js';
import { CSTACK_FRAME, FaultKind } from './layout.js';
import { enterHost, hostTable } from './trampoline.js';

export interface JitModule {
  readonly module: WebAssembly.Module;
  readonly blocks: Blocks;
  /** Size of the generated code in bytes. */
  readonly size: number;
}

const CACHE_LIMIT = 64;
const cache = new Map<string, JitModule>();

function cacheKey(p: PreparedProgram, trusted: TrustedAccesses | null): string {
  const bytes = encode(p.insns);
  let key = trusted ? `t${[...trusted.safeSlots].sort((a, b) => a - b).join(',')}:` : 'c:';
  for (let k = 0; k < bytes.length; k++) key += String.fromCharCode(bytes[k]!);
  return key;
}

function remember(key: string, m: JitModule): JitModule {
  cache.set(key, m);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  return m;
}

/** Compiles synchronously (fine in Node and in workers), cached per program. */
export function jitModule(p: PreparedProgram, trusted: TrustedAccesses | null = null): JitModule {
  const key = cacheKey(p, trusted);
  const hit = cache.get(key);
  if (hit) return hit;
  const { bytes, blocks } = compileModule(p, trusted);
  return remember(key, { module: new WebAssembly.Module(bytes), blocks, size: bytes.length });
}

/** Compiles asynchronously: what a browser's main thread needs for modules over 4 KB. */
export async function jitModuleAsync(p: PreparedProgram, trusted: TrustedAccesses | null = null): Promise<JitModule> {
  const key = cacheKey(p, trusted);
  const hit = cache.get(key);
  if (hit) return hit;
  const { bytes, blocks } = compileModule(p, trusted);
  return remember(key, { module: await WebAssembly.compile(bytes), blocks, size: bytes.length });
}

/** A compiled program bound to one VM's address space. */
export class JitRunner {
  private readonly run: (...a: number[]) => bigint;
  private readonly host: Record<string, (...a: never[]) => unknown>;
  private readonly budgetIO: WebAssembly.Global;
  private readonly pktStart: WebAssembly.Global;
  private readonly pktLen: WebAssembly.Global;
  private readonly meter: Workspace['meter'];
  /** What helper callbacks re-enter: this context with the current packet. */
  private runCx: ExecContext;
  private packet: { start: number; len: number } | null = null;
  private lastArgs: readonly bigint[] | null = null;
  private readonly halves = new Int32Array(10);

  /**
   * `work` is the VM's workspace: the JIT shares its helper meter and
   * environment (and so its host) with the interpreter.
   */
  constructor(private readonly cx: Omit<ExecContext, 'budget' | 'packet' | 'trace'>, jm: JitModule, work: Workspace) {
    const { space, frames, prog } = cx;
    const stride = frames.length > 1 ? frames[1]!.end - frames[0]!.end : 0;
    frames.forEach((f, k) => {
      if (f.end !== frames[0]!.end + k * stride) throw new Error('the JIT needs evenly spaced stack frames');
    });
    const scratch = space.reserve(11 * 8);
    const cstack = space.reserve(MAX_FRAMES * CSTACK_FRAME);
    this.budgetIO = new WebAssembly.Global({ value: 'f64', mutable: true }, 0);
    this.pktStart = new WebAssembly.Global({ value: 'i32', mutable: true }, 0);
    this.pktLen = new WebAssembly.Global({ value: 'i32', mutable: true }, 0);
    // The same helper meter and environment the interpreter uses.
    const { meter, env } = work;
    this.meter = meter;
    this.runCx = { ...cx, packet: null, budget: 0, work };
    const callHost = (fn: (e: HelperEnv, ...a: bigint[]) => bigint, pc: number, budget: number, depth: number, a: bigint[]): bigint => {
      meter.left = budget;
      meter.pc = pc;
      meter.depth = depth;
      // The frames the helper may be handed pointers into: the live ones. The
      // compiled code only updates these flags on a slow-path lookup.
      for (let k = 0; k < frames.length; k++) frames[k]!.active = k <= depth;
      // Callbacks re-enter the program through the interpreter.
      work.cx = this.runCx;
      let r: bigint;
      try {
        r = fn(env, ...a.map((v) => BigInt.asUintN(64, v)));
      } catch (e) {
        if (e instanceof RunExit) throw e;
        throw helperFault(e, pc);
      }
      this.budgetIO.value = meter.left;
      return BigInt.asIntN(64, r);
    };
    const host = {
        resolve: (ea: bigint, size: number, write: number, pc: number, depth: number): bigint => {
          frames.forEach((f, k) => { f.active = k <= depth; });
          const r = resolveAccess(space, BigInt.asUintN(64, ea), size, write === 1, pc);
          return BigInt(r.start) | (BigInt(r.end) << 32n);
        },
        helper: (id: number, pc: number, a1: bigint, a2: bigint, a3: bigint, a4: bigint, a5: bigint, budget: number, depth: number): bigint => {
          const h = cx.helpers.get(id);
          if (h === undefined) throw new VmFault('EHELPER', `call to unknown helper ${id}`, pc);
          return callHost(h.fn, pc, budget, depth, [a1, a2, a3, a4, a5]);
        },
        kfunc: (imm: number, off: number, pc: number, a1: bigint, a2: bigint, a3: bigint, a4: bigint, a5: bigint, budget: number, depth: number): bigint => {
          const fn = cx.resolveKfunc?.(imm, off);
          if (fn === undefined) throw new VmFault('EHELPER', `call to unknown kfunc (BTF id ${imm})`, pc);
          return callHost(fn, pc, budget, depth, [a1, a2, a3, a4, a5]);
        },
        exhaust: (pc: number, remaining: number, depth: number, mayGoto: number): void => {
          const regs: bigint[] = [];
          for (let k = 0; k <= 10; k++) regs.push(space.view.getBigUint64(scratch + k * 8, true));
          // The interpreter runs the rest of this straight-line block exactly and
          // stops at the same instruction (or an earlier fault) as it would have.
          execute({ ...cx, packet: this.packet, budget: remaining, budgetTotal: meter.total, work }, [], { pc, depth, regs, mayGoto });
          throw new Error(`internal: the budget handover at instruction ${pc} did not stop`);
        },
        fault: (kind: number, pc: number): never => {
          // pc is the sentinel slot for ranOffEnd; the fault names the last instruction.
          if (kind === FaultKind.callDepth) throw new VmFault('ECALLDEPTH', `call nests deeper than ${MAX_FRAMES} frames`, pc);
          throw new VmFault('EBADPROG', RAN_OFF_END, prog.lastPc);
        },
        pseudo: (src: number, imm: number, imm2: number, pc: number): bigint =>
          BigInt.asIntN(64, pseudoValue(cx.resolvePseudo, src, imm, imm2, pc)),
        callx: (value: bigint, pc: number): number => {
          const v = BigInt.asUintN(64, value);
          const lo = Number(v & 0xffffffffn), hi = Number(v >> 32n);
          const slot = lo / 8;
          if (hi === CODE_ADDR_HI && lo % 8 === 0 && slot < prog.slots && prog.starts[slot] === 1) return jm.blocks.blockAt[slot]!;
          if (hi === 0 && cx.helpers.get(lo) !== undefined) return -1;
          throw new VmFault('EHELPER', `callx r${prog.dst[pc]} = 0x${v.toString(16)} is neither a helper id nor a function address`, pc);
        },
    };
    this.host = host;
    const imports = {
      env: {
        memory: space.memory,
        host: hostTable(),
        budgetIO: this.budgetIO,
        frameEnd0: new WebAssembly.Global({ value: 'i32', mutable: false }, frames[0]!.end),
        frameStride: new WebAssembly.Global({ value: 'i32', mutable: false }, stride),
        cstack: new WebAssembly.Global({ value: 'i32', mutable: false }, cstack),
        scratch: new WebAssembly.Global({ value: 'i32', mutable: false }, scratch),
        pktStart: this.pktStart,
        pktLen: this.pktLen,
      },
    };
    const instance = new WebAssembly.Instance(jm.module, imports);
    this.run = instance.exports['run'] as (...a: number[]) => bigint;
  }

  /** Runs from slot 0 with r1-r5 = `args`. */
  exec(args: readonly bigint[], budget: number, packet: { start: number; len: number } | null): ExecResult {
    this.meter.total = budget;
    if (packet !== this.packet) {
      this.packet = packet;
      this.pktStart.value = packet?.start ?? 0;
      this.pktLen.value = packet?.len ?? 0;
      this.runCx = { ...this.runCx, packet };
    }
    if (args !== this.lastArgs) {
      this.lastArgs = args;
      for (let k = 0; k < 5; k++) {
        const v = BigInt.asUintN(64, args[k] ?? 0n);
        this.halves[2 * k] = Number(v & 0xffffffffn) | 0;
        this.halves[2 * k + 1] = Number(v >> 32n) | 0;
      }
    }
    const h = this.halves;
    const prev = enterHost(this.host);
    let r0: bigint;
    try {
      r0 = this.run(h[0]!, h[1]!, h[2]!, h[3]!, h[4]!, h[5]!, h[6]!, h[7]!, h[8]!, h[9]!, budget);
    } finally {
      enterHost(prev);
    }
    return { r0: r0 < 0n ? BigInt.asUintN(64, r0) : r0, insns: budget - (this.budgetIO.value as number) };
  }
}
