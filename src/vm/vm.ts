import { type Instruction, validate, slotIndex, DecodeError } from '../isa/index.js';
import { AddressSpace, type Region, type RegionKind } from './address-space.js';
import { defaultHelpers, type HelperRegistry, type RunHost } from './helpers.js';
import { VmFault } from './errors.js';
import {
  execute, MAX_FRAMES, STACK_SIZE, workspace, type ExecContext, type ExecResult, type Workspace, type KfuncResolver, type PseudoResolver, type TraceStep,
} from './interpreter.js';
import { prepare, type PreparedProgram } from './program.js';
import { jitModule, jitModuleAsync, JitRunner, type TrustedAccesses } from './jit/index.js';

/** `interp`: the reference interpreter. `jit`: compiled to WebAssembly (the default). */
export type Engine = 'interp' | 'jit';
export const ENGINES: readonly Engine[] = ['jit', 'interp'];

export const DEFAULT_BUDGET = 10_000_000;

export interface VmOptions {
  /** Which engine runs the program; `jit` unless said otherwise. Traced runs always use the interpreter. */
  engine?: Engine;
  /** Instructions one run may execute, helper loop iterations included. */
  budget?: number;
  helpers?: HelperRegistry;
  resolvePseudo?: PseudoResolver;
  resolveKfunc?: KfuncResolver;
  /**
   * Run in this address space, with these stack frames, instead of new ones:
   * the programs of one collection share their maps' memory.
   */
  space?: AddressSpace;
  frames?: readonly Region[];
  /** What helpers see as `env.host` (the virtual CPU, maps, hook state). */
  host?: RunHost;
}

export interface RunOptions {
  /** r1-r5 at entry. */
  args?: readonly bigint[];
  /** Record every step with the registers it changed. */
  trace?: boolean;
  /** Region that LD_ABS / LD_IND read from. */
  packet?: Region | null;
}

export interface RunResult {
  r0: bigint;
  /** The engine that ran it. */
  engine: Engine;
  /** Instructions executed. */
  insns: number;
  trace?: TraceStep[];
}

/** The stack frames a program runs in: one 512-byte region per call depth. */
export function stackFrames(space: AddressSpace): Region[] {
  const frames: Region[] = [];
  for (let k = 0; k < MAX_FRAMES; k++) frames.push(space.map(`stack[${k}]`, 'stack', STACK_SIZE));
  return frames;
}

/**
 * One program loaded into one address space. Regions for inputs are mapped
 * once and reused across runs; `run` executes in checked mode.
 */
export class Vm {
  readonly space: AddressSpace;
  readonly program: PreparedProgram;
  readonly helpers: HelperRegistry;
  readonly frames: readonly Region[];
  budget: number;
  readonly engine: Engine;
  private readonly opts: VmOptions;
  private jit: JitRunner | null = null;
  private readonly hostCx: Omit<ExecContext, 'budget' | 'packet' | 'trace'>;
  private readonly work: Workspace;

  constructor(insns: readonly Instruction[], opts: VmOptions = {}) {
    const { pcs } = slotIndex(insns);
    insns.forEach((i, k) => {
      const p = validate(i);
      if (p) throw new DecodeError(pcs[k]!, p.field, p.reason);
    });
    if (insns.length === 0) throw new DecodeError(0, 'program', 'the program is empty');
    this.program = prepare(insns);
    this.opts = opts;
    this.budget = opts.budget ?? DEFAULT_BUDGET;
    this.helpers = opts.helpers ?? defaultHelpers();
    this.engine = opts.engine ?? 'jit';
    if (this.engine !== 'jit' && this.engine !== 'interp') throw new TypeError(`unknown engine ${String(this.engine)}`);
    this.space = opts.space ?? new AddressSpace();
    this.frames = opts.frames ?? stackFrames(this.space);
    if (this.frames.length !== MAX_FRAMES) throw new TypeError(`a vm needs ${MAX_FRAMES} stack frames`);
    this.work = workspace(this.space, opts.host);
    this.hostCx = {
      prog: this.program,
      space: this.space,
      helpers: this.helpers,
      frames: this.frames,
      ...(opts.resolvePseudo ? { resolvePseudo: opts.resolvePseudo } : {}),
      ...(opts.resolveKfunc ? { resolveKfunc: opts.resolveKfunc } : {}),
    };
  }

  /**
   * The budget left when the last helper was called: after a run a helper
   * ended with `RunExit`, how much of the budget it had used.
   */
  get budgetLeft(): number {
    return this.work.meter.left;
  }

  /** What helpers see as `env.host`; set it before a run to change the hook state. */
  get host(): RunHost {
    return this.work.env.host;
  }
  set host(h: RunHost) {
    this.work.env.host = h;
  }

  /** Maps a new region and copies `init` into it. */
  mapBytes(name: string, kind: RegionKind, init: Uint8Array | number, writable = true): Region {
    const size = typeof init === 'number' ? init : init.length;
    const r = this.space.map(name, kind, size, writable);
    if (typeof init !== 'number') this.space.u8.set(init, r.start);
    return r;
  }

  /**
   * Compiles the program for the JIT now (asynchronously, as a browser's main
   * thread requires for modules over 4 KB) instead of at the first run.
   */
  async prepareJit(): Promise<void> {
    if (this.jit === null) this.jit = new JitRunner(this.hostCx, await jitModuleAsync(this.program, this.trusted()), this.work);
  }

  /**
   * Trusted mode drops the checks a verifier proved unnecessary. There is no
   * verifier yet, so every program runs checked; this is where its proof will
   * plug in.
   */
  private trusted(): TrustedAccesses | null {
    return null;
  }

  private lastPacketRegion: Region | null = null;
  private lastPacket: { start: number; len: number } | null = null;

  run(opts: RunOptions = {}): RunResult {
    const region = opts.packet ?? null;
    if (region !== this.lastPacketRegion) {
      this.lastPacketRegion = region;
      this.lastPacket = region ? { start: region.start, len: region.end - region.start } : null;
    }
    const packet = this.lastPacket;
    const args = opts.args ?? [];
    if (this.engine === 'jit' && !opts.trace) {
      if (this.jit === null) this.jit = new JitRunner(this.hostCx, jitModule(this.program, this.trusted()), this.work);
      const r = this.jit.exec(args, this.budget, packet);
      return { r0: r.r0, insns: r.insns, engine: 'jit' };
    }
    const cx: ExecContext = {
      prog: this.program,
      space: this.space,
      helpers: this.helpers,
      frames: this.frames,
      packet,
      budget: this.budget,
      resolvePseudo: this.opts.resolvePseudo,
      resolveKfunc: this.opts.resolveKfunc,
      trace: opts.trace ? [] : undefined,
      work: this.work,
    };
    let r: ExecResult;
    try {
      r = execute(cx, args);
    } catch (e) {
      if (e instanceof VmFault && cx.trace) {
        // Keep what was traced, ending with the faulting instruction.
        const last = cx.trace[cx.trace.length - 1];
        cx.trace.push({ pc: e.insn, depth: last?.depth ?? 0, changed: [] });
        e.trace = cx.trace;
      }
      throw e;
    }
    return cx.trace ? { r0: r.r0, insns: r.insns, engine: 'interp', trace: cx.trace } : { r0: r.r0, insns: r.insns, engine: 'interp' };
  }
}

export interface MemRunResult extends RunResult {
  /** The input memory after the run. */
  mem: Uint8Array;
}

/**
 * Runs a program the way bpf_conformance does: r1 points to a copy of `mem`
 * and r2 holds its length; with no memory, r1 = r2 = 0.
 */
export function runProgram(
  insns: readonly Instruction[],
  mem: Uint8Array = new Uint8Array(0),
  opts: VmOptions & { trace?: boolean } = {},
): MemRunResult {
  const vm = new Vm(insns, opts);
  const region = mem.length > 0 ? vm.mapBytes('mem', 'mem', mem) : null;
  const args = region ? [BigInt(region.start), BigInt(mem.length)] : [0n, 0n];
  const res = vm.run({ args, packet: region, ...(opts.trace ? { trace: true } : {}) });
  return { ...res, mem: region ? vm.space.bytes(region).slice() : new Uint8Array(0) };
}
