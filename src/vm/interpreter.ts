/**
 * The reference interpreter: RFC 9669 semantics, every memory access checked
 * against the address space, every instruction charged to the budget.
 * Registers are (lo, hi) pairs of int32 so the hot path stays in small ints.
 */
import * as O from '../isa/opcodes.js';
import type { AddressSpace, Region } from './address-space.js';
import { RunExit, VmFault } from './errors.js';
import { badAccess, helperFault, pseudoValue } from './access.js';
import type { HelperEnv, HelperRegistry, RunHost } from './helpers.js';
import {
  out, mul64, add64, sub64, lsh64, rsh64, arsh64, udiv64, umod64, sdiv64, smod64,
  udiv32, umod32, sdiv32, smod32, bswap16, bswap32, ugt, sgt, toBig, fromBig,
} from './int64.js';
import type { PreparedProgram } from './program.js';

export const MAX_FRAMES = 8;
export const STACK_SIZE = 512;
/** `may_goto` falls through this many times per run before it jumps (as Linux). */
export const MAY_GOTO_LIMIT = 8 * 1024 * 1024;
/** High 32 bits of a function address produced by `lddw rX, func(...)`. */
export const CODE_ADDR_HI = 0x100;
/** The EBADPROG message, named at the last instruction, which fell through. */
export const RAN_OFF_END = 'execution fell through the last instruction, past the end of the program';

/** Resolves an lddw pseudo source (map fd, map value, BTF id, map index...). */
export type PseudoResolver = (src: number, imm: number, imm2: number, pc: number) => bigint;
/** A kfunc: same calling convention as a helper. */
export type KfuncResolver = (btfId: number, off: number) => ((env: HelperEnv, ...a: bigint[]) => bigint) | undefined;

export interface TraceStep {
  /** Slot index of the executed instruction. */
  pc: number;
  /** Frame depth when it executed (0 = main program). */
  depth: number;
  /** Registers it changed, with their new values. */
  changed: Array<{ reg: number; value: bigint }>;
}

export interface ExecContext {
  readonly prog: PreparedProgram;
  readonly space: AddressSpace;
  readonly helpers: HelperRegistry;
  readonly frames: readonly Region[];
  /** Input bytes that LD_ABS / LD_IND read (the packet), if any. */
  readonly packet: { start: number; len: number } | null;
  readonly budget: number;
  /** The run's whole budget, for messages, when `budget` is what is left of it. */
  readonly budgetTotal?: number;
  readonly resolvePseudo?: PseudoResolver | undefined;
  readonly resolveKfunc?: KfuncResolver | undefined;
  readonly trace?: TraceStep[] | undefined;
  /** Reusable per-VM buffers; runs allocate their own when absent. */
  readonly work?: Workspace | undefined;
}

/** The buffers one run needs, kept across runs so a run allocates nothing. */
export interface Workspace {
  readonly L: Int32Array;
  readonly H: Int32Array;
  /** Return pc per frame. */
  readonly retPc: Int32Array;
  /** Saved r6-r9 (lo, hi) per frame. */
  readonly saved: Int32Array;
  /** Helpers charge the budget through this; it is synced around each call. */
  readonly meter: Meter;
  readonly env: HelperEnv;
  /** The run in progress, which helper callbacks re-enter. */
  cx: ExecContext | null;
  /** Register files for callbacks, by frame depth. */
  readonly nested: Workspace[];
  /** The last `args` converted, and r1-r5 from them. */
  lastArgs: readonly bigint[] | null;
  readonly argL: Int32Array;
  readonly argH: Int32Array;
}

/** The budget, instruction and frame depth of the helper call in progress. */
export interface Meter { left: number; pc: number; total: number; depth: number }

/** The host of runs nobody set one for. */
export const defaultHost = (): RunHost => ({ cpu: 0 });

export function workspace(space: AddressSpace, host: RunHost = defaultHost()): Workspace {
  const meter: Meter = { left: 0, pc: 0, total: 0, depth: 0 };
  const w: Workspace = {
    L: new Int32Array(11),
    H: new Int32Array(11),
    retPc: new Int32Array(MAX_FRAMES),
    saved: new Int32Array(MAX_FRAMES * 8),
    meter,
    lastArgs: null,
    argL: new Int32Array(11),
    argH: new Int32Array(11),
    cx: null,
    nested: [],
    env: {
      space,
      host,
      get pc() { return meter.pc; },
      charge(n: number) {
        meter.left -= n;
        if (meter.left < 0) throw new VmFault('EBUDGET', `the budget of ${meter.total} instructions ran out in a helper`, meter.pc);
      },
      callback: (fn, args) => callFunction(w, fn, args),
    },
  };
  return w;
}

/**
 * Runs the BPF function at address `fn` for a helper (a `bpf_loop`
 * callback): a new frame after the helper caller's, the same budget, its own
 * registers. Always interpreted, whichever engine runs the caller.
 */
function callFunction(w: Workspace, fn: bigint, args: readonly bigint[]): bigint {
  const cx = w.cx;
  const { meter } = w;
  const pc = meter.pc, depth = meter.depth;
  if (cx === null) throw new VmFault('EHELPER', 'a helper called back into a program that is not running', pc);
  const v = BigInt.asUintN(64, fn);
  const lo = Number(v & 0xffffffffn), hi = Number(v >> 32n);
  const slot = lo / 8;
  if (hi !== CODE_ADDR_HI || lo % 8 !== 0 || slot >= cx.prog.slots || cx.prog.starts[slot] !== 1) {
    throw new VmFault('EHELPER', `callback 0x${v.toString(16)} is not the address of a function of this program`, pc);
  }
  const into = depth + 1;
  if (into >= MAX_FRAMES) throw new VmFault('ECALLDEPTH', `callback nests deeper than ${MAX_FRAMES} frames`, pc);
  const f = cx.frames[into]!;
  f.active = true;
  cx.space.u8.fill(0, f.start, f.end);
  const regs: bigint[] = [0n];
  for (let k = 0; k < 5; k++) regs.push(BigInt.asUintN(64, args[k] ?? 0n));
  regs.push(0n, 0n, 0n, 0n, BigInt(f.end));
  let inner = w.nested[into];
  if (inner === undefined) {
    inner = { ...workspace(cx.space), meter, env: w.env, nested: w.nested };
    w.nested[into] = inner;
  }
  const left = meter.left;
  try {
    const r = execute({ ...cx, budget: left, budgetTotal: meter.total, trace: undefined, work: inner }, [], {
      pc: slot, depth: into, regs, mayGoto: MAY_GOTO_LIMIT, base: into,
    });
    meter.left = left - r.insns;
    return r.r0;
  } finally {
    f.active = false;
    meter.pc = pc;
    meter.depth = depth;
    w.cx = cx;
  }
}

export interface ExecResult {
  r0: bigint;
  insns: number;
}

const TWO32 = 4294967296;

/** Per-run trace bookkeeping: the step in flight and the registers before it. */
interface TraceState {
  steps: TraceStep[];
  prevPc: number;
  prevDepth: number;
  snapL: Int32Array;
  snapH: Int32Array;
}

function recordTrace(t: TraceState, L: Int32Array, H: Int32Array, pc: number, depth: number): void {
  if (t.prevPc >= 0) {
    const changed: TraceStep['changed'] = [];
    for (let r = 0; r <= 10; r++) {
      if (L[r] !== t.snapL[r] || H[r] !== t.snapH[r]) changed.push({ reg: r, value: toBig(L[r]!, H[r]!) });
    }
    t.steps.push({ pc: t.prevPc, depth: t.prevDepth, changed });
  }
  t.snapL.set(L); t.snapH.set(H);
  t.prevPc = pc; t.prevDepth = depth;
}

/**
 * The checked effective address of register `r` + `off` for an access of
 * `size` bytes: the sum is taken in 64 bits, and the whole access must fall in
 * one active region (a writable one for writes).
 */
function ea(space: AddressSpace, L: Int32Array, H: Int32Array, r: number, off: number, size: number, write: boolean, pc: number): number {
  let a = (L[r]! >>> 0) + off;
  const hi = H[r]!;
  if (hi === -1 && a >= TWO32) a -= TWO32;
  else if (hi !== 0 || a < 0 || a >= TWO32) return badAccess(space, pc, BigInt.asUintN(64, toBig(L[r]!, hi) + BigInt(off)), size, write);
  const l = space.last;
  if (l !== null && a >= l.start && a + size <= l.end && l.active && (l.writable || !write)) return a;
  if (space.find(a, size, write) === null) return badAccess(space, pc, BigInt(a), size, write);
  return a;
}

const sizeOf = (o: number): number => {
  const s = O.memSize(o);
  return s === O.SIZE_DW ? 8 : s === O.SIZE_W ? 4 : s === O.SIZE_H ? 2 : 1;
};

function loadInto(dv: DataView, a: number, size: number, L: Int32Array, H: Int32Array, d: number): void {
  switch (size) {
    case 1: L[d] = dv.getUint8(a); H[d] = 0; return;
    case 2: L[d] = dv.getUint16(a, true); H[d] = 0; return;
    case 4: L[d] = dv.getInt32(a, true); H[d] = 0; return;
    default: L[d] = dv.getInt32(a, true); H[d] = dv.getInt32(a + 4, true);
  }
}

function storeFrom(dv: DataView, a: number, size: number, lo: number, hi: number): void {
  switch (size) {
    case 1: dv.setUint8(a, lo & 0xff); return;
    case 2: dv.setUint16(a, lo & 0xffff, true); return;
    case 4: dv.setInt32(a, lo, true); return;
    default: dv.setInt32(a, lo, true); dv.setInt32(a + 4, hi, true);
  }
}

/** Atomic read-modify-write, load-acquire and store-release. */
function atomic(space: AddressSpace, L: Int32Array, H: Int32Array, o: number, d: number, s: number, off: number, imm: number, pc: number): void {
  const size = sizeOf(o);
  const dv = space.view;
  if (imm === O.ATOMIC_LOAD_ACQ) { loadInto(dv, ea(space, L, H, s, off, size, false, pc), size, L, H, d); return; }
  if (imm === O.ATOMIC_STORE_REL) { storeFrom(dv, ea(space, L, H, d, off, size, true, pc), size, L[s]!, H[s]!); return; }
  const a = ea(space, L, H, d, off, size, true, pc);
  const is64 = size === 8;
  const oldLo = dv.getInt32(a, true), oldHi = is64 ? dv.getInt32(a + 4, true) : 0;
  const sLo = L[s]!, sHi = is64 ? H[s]! : 0;
  let nLo = 0, nHi = 0;
  switch (imm & ~O.ATOMIC_FETCH) {
    case O.ATOMIC_ADD:
      if (is64) { add64(oldLo, oldHi, sLo, sHi); nLo = out[0]!; nHi = out[1]!; } else nLo = (oldLo + sLo) | 0;
      break;
    case O.ATOMIC_OR: nLo = oldLo | sLo; nHi = oldHi | sHi; break;
    case O.ATOMIC_AND: nLo = oldLo & sLo; nHi = oldHi & sHi; break;
    case O.ATOMIC_XOR: nLo = oldLo ^ sLo; nHi = oldHi ^ sHi; break;
    case O.ATOMIC_XCHG & ~O.ATOMIC_FETCH: nLo = sLo; nHi = sHi; break;
    default: { // cmpxchg: compare with r0; r0 gets the old value
      const eq = is64 ? (L[0] === oldLo && H[0] === oldHi) : L[0] === oldLo;
      storeFrom(dv, a, size, eq ? sLo : oldLo, eq ? sHi : oldHi);
      L[0] = oldLo; H[0] = oldHi;
      return;
    }
  }
  storeFrom(dv, a, size, nLo, nHi);
  if (imm & O.ATOMIC_FETCH) { L[s] = oldLo; H[s] = oldHi; }
}

/** LD_ABS / LD_IND: a network-order load from the packet; false when out of range. */
function ldPacket(cx: ExecContext, L: Int32Array, H: Int32Array, o: number, s: number, imm: number): boolean {
  const pk = cx.packet;
  const size = sizeOf(o);
  const at = O.memMode(o) === O.MODE_IND ? (L[s]! + imm) | 0 : imm;
  if (pk === null || at < 0 || at + size > pk.len) return false;
  const dv = cx.space.view, a = pk.start + at;
  L[0] = size === 4 ? dv.getInt32(a, false) : size === 2 ? dv.getUint16(a, false) : dv.getUint8(a);
  H[0] = 0;
  return true;
}

type Callable = (env: HelperEnv, r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint) => bigint;

/** Calls a helper or kfunc with r1-r5 and puts its result in r0. */
function callOut(fn: Callable, env: HelperEnv, L: Int32Array, H: Int32Array): void {
  fromBig(fn(env, toBig(L[1]!, H[1]!), toBig(L[2]!, H[2]!), toBig(L[3]!, H[3]!), toBig(L[4]!, H[4]!), toBig(L[5]!, H[5]!)));
  L[0] = out[0]!; H[0] = out[1]!;
}

/**
 * Where a run resumes instead of starting fresh: the JIT hands a run over at
 * the block where its budget runs out, so the interpreter can find the exact
 * instruction (or the earlier fault) with the same state.
 */
export interface Resume {
  pc: number;
  depth: number;
  /** r0-r10 as unsigned 64-bit values. */
  regs: readonly bigint[];
  mayGoto: number;
  /** The depth whose `exit` ends the run (a callback's frame); 0 unless said. */
  base?: number;
}

/**
 * Calls a helper or kfunc for the instruction at `pc` with `budget` left;
 * returns the budget after the helper charged it. Whatever the helper throws
 * ends the run as a typed fault.
 */
function invokeHelper(fn: Callable, w: Workspace, budget: number, pc: number, depth: number): number {
  w.meter.left = budget;
  w.meter.pc = pc;
  w.meter.depth = depth;
  try {
    callOut(fn, w.env, w.L, w.H);
  } catch (e) {
    if (e instanceof RunExit) throw e;
    throw helperFault(e, pc);
  }
  return w.meter.left;
}

/** Runs the program from slot 0 with r1-r5 set to `args`, or resumes a run. */
export function execute(cx: ExecContext, args: readonly bigint[], resume?: Resume): ExecResult {
  const { prog, space, frames } = cx;
  const OP = prog.op, DST = prog.dst, SRC = prog.src, OFF = prog.off, IMM = prog.imm;
  const slots = prog.slots;
  const w = cx.work ?? workspace(space);
  w.cx = cx;
  const { L, H, retPc, saved, meter } = w;
  const base = resume?.base ?? 0;
  L.fill(0); H.fill(0);
  if (resume === undefined) {
    if (w.lastArgs !== args) {
      // Converting bigints is slow; repeated runs usually pass the same array.
      w.lastArgs = args;
      for (let k = 0; k < 5; k++) {
        fromBig(args[k] ?? 0n);
        w.argL[k + 1] = out[0]!; w.argH[k + 1] = out[1]!;
      }
    }
    L.set(w.argL); H.set(w.argH);
    for (let k = 1; k < frames.length; k++) frames[k]!.active = false;
    const f0 = frames[0]!;
    f0.active = true;
    space.u8.fill(0, f0.start, f0.end);
    L[10] = f0.end; H[10] = 0;
  } else {
    resume.regs.forEach((v, k) => { fromBig(v); L[k] = out[0]!; H[k] = out[1]!; });
    frames.forEach((f, k) => { f.active = k <= resume.depth; });
    space.last = null;
  }
  let depth = resume?.depth ?? 0;
  let budget = cx.budget;
  let mayGoto = resume?.mayGoto ?? MAY_GOTO_LIMIT;
  let pc = resume?.pc ?? 0;
  let dv = space.view;
  meter.total = cx.budgetTotal ?? cx.budget;
  const trace: TraceState | null = cx.trace === undefined ? null
    : { steps: cx.trace, prevPc: -1, prevDepth: 0, snapL: new Int32Array(11), snapH: new Int32Array(11) };
  for (;;) {
    if (trace !== null) recordTrace(trace, L, H, pc, depth);
    if (--budget < 0) throw new VmFault('EBUDGET', `the budget of ${cx.budgetTotal ?? cx.budget} instructions ran out`, pc);
    const o = OP[pc]!;
    const d = DST[pc]!;
    switch (o) {
      // ---- ALU64, immediate ----
      case 0x07: add64(L[d]!, H[d]!, IMM[pc]!, IMM[pc]! >> 31); L[d] = out[0]!; H[d] = out[1]!; break;
      case 0x17: sub64(L[d]!, H[d]!, IMM[pc]!, IMM[pc]! >> 31); L[d] = out[0]!; H[d] = out[1]!; break;
      case 0x27: mul64(L[d]!, H[d]!, IMM[pc]!, IMM[pc]! >> 31); L[d] = out[0]!; H[d] = out[1]!; break;
      case 0x37:
        if (OFF[pc] === 1) sdiv64(L[d]!, H[d]!, IMM[pc]!, IMM[pc]! >> 31); else udiv64(L[d]!, H[d]!, IMM[pc]!, IMM[pc]! >> 31);
        L[d] = out[0]!; H[d] = out[1]!; break;
      case 0x47: L[d] = L[d]! | IMM[pc]!; H[d] = H[d]! | (IMM[pc]! >> 31); break;
      case 0x57: L[d] = L[d]! & IMM[pc]!; H[d] = H[d]! & (IMM[pc]! >> 31); break;
      case 0x67: lsh64(L[d]!, H[d]!, IMM[pc]!); L[d] = out[0]!; H[d] = out[1]!; break;
      case 0x77: rsh64(L[d]!, H[d]!, IMM[pc]!); L[d] = out[0]!; H[d] = out[1]!; break;
      case 0x87: sub64(0, 0, L[d]!, H[d]!); L[d] = out[0]!; H[d] = out[1]!; break;
      case 0x97:
        if (OFF[pc] === 1) smod64(L[d]!, H[d]!, IMM[pc]!, IMM[pc]! >> 31); else umod64(L[d]!, H[d]!, IMM[pc]!, IMM[pc]! >> 31);
        L[d] = out[0]!; H[d] = out[1]!; break;
      case 0xa7: L[d] = L[d]! ^ IMM[pc]!; H[d] = H[d]! ^ (IMM[pc]! >> 31); break;
      case 0xb7: L[d] = IMM[pc]!; H[d] = IMM[pc]! >> 31; break;
      case 0xc7: arsh64(L[d]!, H[d]!, IMM[pc]!); L[d] = out[0]!; H[d] = out[1]!; break;
      case 0xd7: { // bswap16/32/64
        const w = IMM[pc]!, lo = L[d]!, hi = H[d]!;
        if (w === 16) { L[d] = bswap16(lo); H[d] = 0; } else if (w === 32) { L[d] = bswap32(lo); H[d] = 0; } else { L[d] = bswap32(hi); H[d] = bswap32(lo); }
        break;
      }
      // ---- ALU64, register ----
      case 0x0f: { const s = SRC[pc]!; add64(L[d]!, H[d]!, L[s]!, H[s]!); L[d] = out[0]!; H[d] = out[1]!; break; }
      case 0x1f: { const s = SRC[pc]!; sub64(L[d]!, H[d]!, L[s]!, H[s]!); L[d] = out[0]!; H[d] = out[1]!; break; }
      case 0x2f: { const s = SRC[pc]!; mul64(L[d]!, H[d]!, L[s]!, H[s]!); L[d] = out[0]!; H[d] = out[1]!; break; }
      case 0x3f: {
        const s = SRC[pc]!;
        if (OFF[pc] === 1) sdiv64(L[d]!, H[d]!, L[s]!, H[s]!); else udiv64(L[d]!, H[d]!, L[s]!, H[s]!);
        L[d] = out[0]!; H[d] = out[1]!; break;
      }
      case 0x4f: { const s = SRC[pc]!; L[d] = L[d]! | L[s]!; H[d] = H[d]! | H[s]!; break; }
      case 0x5f: { const s = SRC[pc]!; L[d] = L[d]! & L[s]!; H[d] = H[d]! & H[s]!; break; }
      case 0x6f: lsh64(L[d]!, H[d]!, L[SRC[pc]!]!); L[d] = out[0]!; H[d] = out[1]!; break;
      case 0x7f: rsh64(L[d]!, H[d]!, L[SRC[pc]!]!); L[d] = out[0]!; H[d] = out[1]!; break;
      case 0x9f: {
        const s = SRC[pc]!;
        if (OFF[pc] === 1) smod64(L[d]!, H[d]!, L[s]!, H[s]!); else umod64(L[d]!, H[d]!, L[s]!, H[s]!);
        L[d] = out[0]!; H[d] = out[1]!; break;
      }
      case 0xaf: { const s = SRC[pc]!; L[d] = L[d]! ^ L[s]!; H[d] = H[d]! ^ H[s]!; break; }
      case 0xbf: {
        const s = SRC[pc]!, off = OFF[pc]!;
        if (off === 0) { L[d] = L[s]!; H[d] = H[s]!; }
        else if (off === 8) { L[d] = (L[s]! << 24) >> 24; H[d] = L[d]! >> 31; }
        else if (off === 16) { L[d] = (L[s]! << 16) >> 16; H[d] = L[d]! >> 31; }
        else if (off === 32) { L[d] = L[s]!; H[d] = L[s]! >> 31; }
        // addr_space_cast: no arena is mapped, so both directions keep the low 32 bits (arena base 0).
        else { L[d] = L[s]!; H[d] = 0; }
        break;
      }
      case 0xcf: arsh64(L[d]!, H[d]!, L[SRC[pc]!]!); L[d] = out[0]!; H[d] = out[1]!; break;
      // ---- ALU32, immediate ----
      case 0x04: L[d] = (L[d]! + IMM[pc]!) | 0; H[d] = 0; break;
      case 0x14: L[d] = (L[d]! - IMM[pc]!) | 0; H[d] = 0; break;
      case 0x24: L[d] = Math.imul(L[d]!, IMM[pc]!); H[d] = 0; break;
      case 0x34: L[d] = OFF[pc] === 1 ? sdiv32(L[d]!, IMM[pc]!) : udiv32(L[d]!, IMM[pc]!); H[d] = 0; break;
      case 0x44: L[d] = L[d]! | IMM[pc]!; H[d] = 0; break;
      case 0x54: L[d] = L[d]! & IMM[pc]!; H[d] = 0; break;
      case 0x64: L[d] = L[d]! << IMM[pc]!; H[d] = 0; break;
      case 0x74: L[d] = L[d]! >>> IMM[pc]!; H[d] = 0; break;
      case 0x84: L[d] = -L[d]! | 0; H[d] = 0; break;
      case 0x94: L[d] = OFF[pc] === 1 ? smod32(L[d]!, IMM[pc]!) : umod32(L[d]!, IMM[pc]!); H[d] = 0; break;
      case 0xa4: L[d] = L[d]! ^ IMM[pc]!; H[d] = 0; break;
      case 0xb4: L[d] = IMM[pc]!; H[d] = 0; break;
      case 0xc4: L[d] = L[d]! >> IMM[pc]!; H[d] = 0; break;
      case 0xd4: { // le16/32/64: no swap on a little-endian machine, but truncation
        const w = IMM[pc]!;
        if (w === 16) { L[d] = L[d]! & 0xffff; H[d] = 0; } else if (w === 32) H[d] = 0;
        break;
      }
      case 0xdc: { // be16/32/64
        const w = IMM[pc]!, lo = L[d]!, hi = H[d]!;
        if (w === 16) { L[d] = bswap16(lo); H[d] = 0; } else if (w === 32) { L[d] = bswap32(lo); H[d] = 0; } else { L[d] = bswap32(hi); H[d] = bswap32(lo); }
        break;
      }
      // ---- ALU32, register ----
      case 0x0c: L[d] = (L[d]! + L[SRC[pc]!]!) | 0; H[d] = 0; break;
      case 0x1c: L[d] = (L[d]! - L[SRC[pc]!]!) | 0; H[d] = 0; break;
      case 0x2c: L[d] = Math.imul(L[d]!, L[SRC[pc]!]!); H[d] = 0; break;
      case 0x3c: L[d] = OFF[pc] === 1 ? sdiv32(L[d]!, L[SRC[pc]!]!) : udiv32(L[d]!, L[SRC[pc]!]!); H[d] = 0; break;
      case 0x4c: L[d] = L[d]! | L[SRC[pc]!]!; H[d] = 0; break;
      case 0x5c: L[d] = L[d]! & L[SRC[pc]!]!; H[d] = 0; break;
      case 0x6c: L[d] = L[d]! << L[SRC[pc]!]!; H[d] = 0; break;
      case 0x7c: L[d] = L[d]! >>> L[SRC[pc]!]!; H[d] = 0; break;
      case 0x9c: L[d] = OFF[pc] === 1 ? smod32(L[d]!, L[SRC[pc]!]!) : umod32(L[d]!, L[SRC[pc]!]!); H[d] = 0; break;
      case 0xac: L[d] = L[d]! ^ L[SRC[pc]!]!; H[d] = 0; break;
      case 0xbc: {
        const s = SRC[pc]!, off = OFF[pc]!;
        L[d] = off === 8 ? (L[s]! << 24) >> 24 : off === 16 ? (L[s]! << 16) >> 16 : L[s]!;
        H[d] = 0;
        break;
      }
      case 0xcc: L[d] = L[d]! >> L[SRC[pc]!]!; H[d] = 0; break;
      // ---- loads ----
      case 0x61: L[d] = dv.getInt32(ea(space, L, H, SRC[pc]!, OFF[pc]!, 4, false, pc), true); H[d] = 0; break;
      case 0x69: L[d] = dv.getUint16(ea(space, L, H, SRC[pc]!, OFF[pc]!, 2, false, pc), true); H[d] = 0; break;
      case 0x71: L[d] = dv.getUint8(ea(space, L, H, SRC[pc]!, OFF[pc]!, 1, false, pc)); H[d] = 0; break;
      case 0x79: {
        const a = ea(space, L, H, SRC[pc]!, OFF[pc]!, 8, false, pc);
        L[d] = dv.getInt32(a, true); H[d] = dv.getInt32(a + 4, true);
        break;
      }
      case 0x81: L[d] = dv.getInt32(ea(space, L, H, SRC[pc]!, OFF[pc]!, 4, false, pc), true); H[d] = L[d]! >> 31; break;
      case 0x89: L[d] = dv.getInt16(ea(space, L, H, SRC[pc]!, OFF[pc]!, 2, false, pc), true); H[d] = L[d]! >> 31; break;
      case 0x91: L[d] = dv.getInt8(ea(space, L, H, SRC[pc]!, OFF[pc]!, 1, false, pc)); H[d] = L[d]! >> 31; break;
      // ---- stores ----
      case 0x62: dv.setInt32(ea(space, L, H, d, OFF[pc]!, 4, true, pc), IMM[pc]!, true); break;
      case 0x6a: dv.setInt16(ea(space, L, H, d, OFF[pc]!, 2, true, pc), IMM[pc]!, true); break;
      case 0x72: dv.setInt8(ea(space, L, H, d, OFF[pc]!, 1, true, pc), IMM[pc]!); break;
      case 0x7a: {
        const a = ea(space, L, H, d, OFF[pc]!, 8, true, pc);
        dv.setInt32(a, IMM[pc]!, true); dv.setInt32(a + 4, IMM[pc]! >> 31, true);
        break;
      }
      case 0x63: dv.setInt32(ea(space, L, H, d, OFF[pc]!, 4, true, pc), L[SRC[pc]!]!, true); break;
      case 0x6b: dv.setInt16(ea(space, L, H, d, OFF[pc]!, 2, true, pc), L[SRC[pc]!]!, true); break;
      case 0x73: dv.setInt8(ea(space, L, H, d, OFF[pc]!, 1, true, pc), L[SRC[pc]!]!); break;
      case 0x7b: {
        const a = ea(space, L, H, d, OFF[pc]!, 8, true, pc), s = SRC[pc]!;
        dv.setInt32(a, L[s]!, true); dv.setInt32(a + 4, H[s]!, true);
        break;
      }
      case 0xc3: case 0xcb: case 0xd3: case 0xdb:
        atomic(space, L, H, o, d, SRC[pc]!, OFF[pc]!, IMM[pc]!, pc); break;
      case 0x18: {
        const s = SRC[pc]!;
        if (s === O.PSEUDO_IMM64) { L[d] = IMM[pc]!; H[d] = IMM[pc + 1]!; }
        else if (s === O.PSEUDO_FUNC) { L[d] = (pc + 1 + IMM[pc]!) * 8; H[d] = CODE_ADDR_HI; }
        else {
          const v = pseudoValue(cx.resolvePseudo, s, IMM[pc]!, IMM[pc + 1]!, pc);
          fromBig(v);
          L[d] = out[0]!; H[d] = out[1]!;
        }
        pc += 2;
        continue;
      }
      case 0x20: case 0x28: case 0x30: case 0x40: case 0x48: case 0x50:
        if (!ldPacket(cx, L, H, o, SRC[pc]!, IMM[pc]!)) {
          if (trace !== null) recordTrace(trace, L, H, -1, depth);
          return { r0: 0n, insns: cx.budget - budget };
        }
        break;
      // ---- jumps and calls ----
      case 0x05: pc += 1 + OFF[pc]!; continue;
      case 0x06: pc += 1 + IMM[pc]!; continue;
      case 0xe5:
        if (mayGoto === 0) { pc += 1 + OFF[pc]!; continue; }
        mayGoto--;
        break;
      case 0x85:
      case 0x8d: {
        let target = -1;
        if (o === 0x8d) {
          const lo = L[d]!, hi = H[d]!;
          if (hi === CODE_ADDR_HI && (lo & 7) === 0 && lo >= 0 && lo / 8 < slots && prog.starts[lo / 8] === 1) target = lo / 8;
          else if (hi === 0 && cx.helpers.get(lo) !== undefined) { budget = invokeHelper(cx.helpers.get(lo)!.fn, w, budget, pc, depth); dv = space.view; }
          else throw new VmFault('EHELPER', `callx r${d} = 0x${toBig(lo, hi).toString(16)} is neither a helper id nor a function address`, pc);
        } else if (SRC[pc] === O.CALL_LOCAL) {
          target = pc + 1 + IMM[pc]!;
        } else if (SRC[pc] === O.CALL_HELPER) {
          const h = cx.helpers.get(IMM[pc]!);
          if (h === undefined) throw new VmFault('EHELPER', `call to unknown helper ${IMM[pc]}`, pc);
          budget = invokeHelper(h.fn, w, budget, pc, depth);
          dv = space.view;
        } else {
          const fn = cx.resolveKfunc?.(IMM[pc]!, OFF[pc]!);
          if (fn === undefined) throw new VmFault('EHELPER', `call to unknown kfunc (BTF id ${IMM[pc]})`, pc);
          budget = invokeHelper(fn, w, budget, pc, depth);
          dv = space.view;
        }
        if (target < 0) break;
        // bpf-to-bpf call: save r6-r9, give the callee the next frame.
        if (depth + 1 >= MAX_FRAMES) throw new VmFault('ECALLDEPTH', `call nests deeper than ${MAX_FRAMES} frames`, pc);
        retPc[depth] = pc + 1;
        for (let r = 6, k = depth * 8; r <= 9; r++, k += 2) { saved[k] = L[r]!; saved[k + 1] = H[r]!; }
        depth++;
        const f = frames[depth]!;
        f.active = true;
        space.u8.fill(0, f.start, f.end);
        L[10] = f.end; H[10] = 0;
        pc = target;
        continue;
      }
      case 0x95:
        if (depth === base) {
          if (trace !== null) recordTrace(trace, L, H, -1, depth);
          return { r0: toBig(L[0]!, H[0]!), insns: cx.budget - budget };
        }
        frames[depth]!.active = false;
        depth--;
        for (let r = 6, k = depth * 8; r <= 9; r++, k += 2) { L[r] = saved[k]!; H[r] = saved[k + 1]!; }
        L[10] = frames[depth]!.end; H[10] = 0;
        pc = retPc[depth]!;
        continue;
      case 0x00: // the sentinel slot after the last instruction (never a valid opcode)
        throw new VmFault('EBADPROG', RAN_OFF_END, prog.lastPc);
      default:
        if (jump(o, L[d]!, H[d]!, SRC[pc]!, IMM[pc]!, L, H)) { pc += 1 + OFF[pc]!; continue; }
    }
    pc++;
  }
}

/** Evaluates a conditional jump (JMP and JMP32 classes). */
function jump(o: number, dlo: number, dhi: number, s: number, imm: number, L: Int32Array, H: Int32Array): boolean {
  let slo: number, shi: number;
  if (o & O.SRC_X) { slo = L[s]!; shi = H[s]!; } else { slo = imm; shi = imm >> 31; }
  if ((o & 7) === O.CLS_JMP32) {
    // Compare the low 32 bits: treat them as a sign-extended 64-bit pair.
    dhi = dlo >> 31; shi = slo >> 31;
    switch (o & 0xf0) {
      case O.JMP_JEQ: return dlo === slo;
      case O.JMP_JNE: return dlo !== slo;
      case O.JMP_JSET: return (dlo & slo) !== 0;
      case O.JMP_JGT: return (dlo >>> 0) > (slo >>> 0);
      case O.JMP_JGE: return (dlo >>> 0) >= (slo >>> 0);
      case O.JMP_JLT: return (dlo >>> 0) < (slo >>> 0);
      case O.JMP_JLE: return (dlo >>> 0) <= (slo >>> 0);
      case O.JMP_JSGT: return dlo > slo;
      case O.JMP_JSGE: return dlo >= slo;
      case O.JMP_JSLT: return dlo < slo;
      case O.JMP_JSLE: return dlo <= slo;
    }
    return false;
  }
  switch (o & 0xf0) {
    case O.JMP_JEQ: return dlo === slo && dhi === shi;
    case O.JMP_JNE: return dlo !== slo || dhi !== shi;
    case O.JMP_JSET: return (dlo & slo) !== 0 || (dhi & shi) !== 0;
    case O.JMP_JGT: return ugt(dlo, dhi, slo, shi);
    case O.JMP_JGE: return !ugt(slo, shi, dlo, dhi);
    case O.JMP_JLT: return ugt(slo, shi, dlo, dhi);
    case O.JMP_JLE: return !ugt(dlo, dhi, slo, shi);
    case O.JMP_JSGT: return sgt(dlo, dhi, slo, shi);
    case O.JMP_JSGE: return !sgt(slo, shi, dlo, dhi);
    case O.JMP_JSLT: return sgt(slo, shi, dlo, dhi);
    case O.JMP_JSLE: return !sgt(dlo, dhi, slo, shi);
  }
  return false;
}
