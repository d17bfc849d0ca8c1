import { type Instruction, validate, slotIndex, DecodeError } from '../isa/index.js';
import { AddressSpace, type Region, type RegionKind } from './address-space.js';
import { defaultHelpers, type HelperRegistry } from './helpers.js';
import {
  execute, MAX_FRAMES, STACK_SIZE, type KfuncResolver, type PseudoResolver, type TraceStep,
} from './interpreter.js';
import { prepare, type PreparedProgram } from './program.js';

export const DEFAULT_BUDGET = 10_000_000;

export interface VmOptions {
  /** Instructions one run may execute, helper loop iterations included. */
  budget?: number;
  helpers?: HelperRegistry;
  resolvePseudo?: PseudoResolver;
  resolveKfunc?: KfuncResolver;
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
  /** Instructions executed. */
  insns: number;
  trace?: TraceStep[];
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
  private readonly opts: VmOptions;

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
    this.space = new AddressSpace();
    const frames: Region[] = [];
    for (let k = 0; k < MAX_FRAMES; k++) frames.push(this.space.map(`stack[${k}]`, 'stack', STACK_SIZE));
    this.frames = frames;
  }

  /** Maps a new region and copies `init` into it. */
  mapBytes(name: string, kind: RegionKind, init: Uint8Array | number, writable = true): Region {
    const size = typeof init === 'number' ? init : init.length;
    const r = this.space.map(name, kind, size, writable);
    if (typeof init !== 'number') this.space.u8.set(init, r.start);
    return r;
  }

  run(opts: RunOptions = {}): RunResult {
    const trace: TraceStep[] | undefined = opts.trace ? [] : undefined;
    const packet = opts.packet ? { start: opts.packet.start, len: opts.packet.end - opts.packet.start } : null;
    const res = execute(
      {
        prog: this.program,
        space: this.space,
        helpers: this.helpers,
        frames: this.frames,
        packet,
        budget: this.budget,
        ...(this.opts.resolvePseudo ? { resolvePseudo: this.opts.resolvePseudo } : {}),
        ...(this.opts.resolveKfunc ? { resolveKfunc: this.opts.resolveKfunc } : {}),
        ...(trace ? { trace } : {}),
      },
      opts.args ?? [],
    );
    return trace ? { ...res, trace } : res;
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
