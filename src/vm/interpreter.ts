/**
 * The reference interpreter: RFC 9669 semantics, every memory access checked
 * against the address space, every instruction charged to the budget.
 * Registers are (lo, hi) pairs of int32 so the hot path stays in small ints.
 */
import * as O from '../isa/opcodes.js';
import type { AddressSpace, Region } from './address-space.js';
import { VmFault } from './errors.js';
import type { HelperEnv, HelperRegistry } from './helpers.js';
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
  readonly resolvePseudo?: PseudoResolver;
  readonly resolveKfunc?: KfuncResolver;
  readonly trace?: TraceStep[];
}

export interface ExecResult {
  r0: bigint;
  insns: number;
}

const TWO32 = 4294967296;

/** Runs the program from slot 0 with r1-r5 set to `args`. */
export function execute(cx: ExecContext, args: readonly bigint[]): ExecResult {
  const { prog, space, frames } = cx;
  const OP = prog.op, DST = prog.dst, SRC = prog.src, OFF = prog.off, IMM = prog.imm;
  const slots = prog.slots;
  const L = new Int32Array(11), H = new Int32Array(11);
  for (let k = 0; k < args.length && k < 5; k++) {
    fromBig(args[k]!);
    L[k + 1] = out[0]!; H[k + 1] = out[1]!;
  }
  for (let k = 1; k < frames.length; k++) frames[k]!.active = false;
  const f0 = frames[0]!;
  f0.active = true;
  space.u8.fill(0, f0.start, f0.end);
  L[10] = f0.end; H[10] = 0;

  // Call stack: return pc and saved r6-r9 (lo, hi) per frame.
  const retPc = new Int32Array(MAX_FRAMES);
  const saved = new Int32Array(MAX_FRAMES * 8);
  let depth = 0;
  let budget = cx.budget;
  const start = budget;
  let mayGoto = MAY_GOTO_LIMIT;
  const trace = cx.trace;
  const snapL = new Int32Array(11), snapH = new Int32Array(11);
  let prevPc = -1, prevDepth = 0;
  let pc = 0;
  let u8 = space.u8, dv = space.view;

  const env: HelperEnv = {
    space,
    charge(n: number) {
      budget -= n;
      if (budget < 0) throw new VmFault('EBUDGET', `the budget of ${cx.budget} instructions ran out in a helper`, pc);
    },
  };

  const recordTrace = (): void => {
    if (prevPc >= 0) {
      const changed: TraceStep['changed'] = [];
      for (let r = 0; r <= 10; r++) {
        if (L[r] !== snapL[r] || H[r] !== snapH[r]) changed.push({ reg: r, value: toBig(L[r]!, H[r]!) });
      }
      trace!.push({ pc: prevPc, depth: prevDepth, changed });
    }
    snapL.set(L); snapH.set(H);
    prevPc = pc; prevDepth = depth;
  };

  /** Effective address of reg + off, or a fault. */
  const addr = (r: number, off: number, size: number, write: boolean): number => {
    let a = (L[r]! >>> 0) + off;
    const hi = H[r]!;
    if (hi === -1 && a >= TWO32) a -= TWO32;
    else if (hi !== 0 || a < 0 || a >= TWO32) return badAccess(BigInt.asUintN(64, toBig(L[r]!, hi) + BigInt(off)), size, write);
    if (space.find(a, size, write) === null) return badAccess(BigInt(a), size, write);
    return a;
  };

  const badAccess = (a: bigint, size: number, write: boolean): never => {
    const near = a < BigInt(TWO32) ? space.nearest(Number(a)) : null;
    let msg = `${write ? 'write' : 'read'} of ${size} byte${size > 1 ? 's' : ''} at 0x${a.toString(16)}`;
    if (near !== null) {
      const inside = Number(a) >= near.start && Number(a) < near.end;
      msg += inside
        ? (write && !near.writable ? ` into read-only region ${near.name}` : ` runs past the end of region ${near.name}`)
        : ` is outside every region`;
      msg += ` (nearest: ${near.name} [0x${near.start.toString(16)}, 0x${near.end.toString(16)}))`;
    } else {
      msg += ' is outside every region';
    }
    throw new VmFault('EFAULT', msg, pc, a, near?.name ?? null);
  };

  const load = (a: number, size: number, signed: boolean, d: number): void => {
    switch (size) {
      case 1: L[d] = signed ? (u8[a]! << 24) >> 24 : u8[a]!; H[d] = signed ? L[d]! >> 31 : 0; return;
      case 2: L[d] = signed ? dv.getInt16(a, true) : dv.getUint16(a, true); H[d] = signed ? L[d]! >> 31 : 0; return;
      case 4: L[d] = dv.getInt32(a, true); H[d] = signed ? L[d]! >> 31 : 0; return;
      default: L[d] = dv.getInt32(a, true); H[d] = dv.getInt32(a + 4, true);
    }
  };
  const store = (a: number, size: number, lo: number, hi: number): void => {
    switch (size) {
      case 1: u8[a] = lo; return;
      case 2: dv.setInt16(a, lo, true); return;
      case 4: dv.setInt32(a, lo, true); return;
      default: dv.setInt32(a, lo, true); dv.setInt32(a + 4, hi, true);
    }
  };

  const callHelper = (id: number): void => {
    const h = cx.helpers.get(id);
    if (h === undefined) throw new VmFault('EHELPER', `call to unknown helper ${id}`, pc);
    const r = h.fn(env, toBig(L[1]!, H[1]!), toBig(L[2]!, H[2]!), toBig(L[3]!, H[3]!), toBig(L[4]!, H[4]!), toBig(L[5]!, H[5]!));
    fromBig(r);
    L[0] = out[0]!; H[0] = out[1]!;
    u8 = space.u8; dv = space.view; // a helper may have grown memory
  };

  const callLocal = (target: number): void => {
    if (depth + 1 >= MAX_FRAMES) {
      throw new VmFault('ECALLDEPTH', `call nests deeper than ${MAX_FRAMES} frames`, pc);
    }
    retPc[depth] = pc + 1;
    const s = depth * 8;
    for (let r = 6; r <= 9; r++) { saved[s + (r - 6) * 2] = L[r]!; saved[s + (r - 6) * 2 + 1] = H[r]!; }
    depth++;
    const f = frames[depth]!;
    f.active = true;
    u8.fill(0, f.start, f.end);
    L[10] = f.end; H[10] = 0;
    pc = target;
  };

  const atomic = (o: number, d: number, s: number, off: number, imm: number): void => {
    const size = O.memSize(o) === O.SIZE_DW ? 8 : O.memSize(o) === O.SIZE_W ? 4 : O.memSize(o) === O.SIZE_H ? 2 : 1;
    if (imm === O.ATOMIC_LOAD_ACQ) { load(addr(s, off, size, false), size, false, d); return; }
    if (imm === O.ATOMIC_STORE_REL) { store(addr(d, off, size, true), size, L[s]!, H[s]!); return; }
    const a = addr(d, off, size, true);
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
      default: { // cmpxchg: compare with r0, r0 gets the old value
        const eq = is64 ? (L[0] === oldLo && H[0] === oldHi) : L[0] === oldLo;
        nLo = eq ? sLo : oldLo; nHi = eq ? sHi : oldHi;
        store(a, size, nLo, nHi);
        L[0] = oldLo; H[0] = oldHi;
        return;
      }
    }
    store(a, size, nLo, nHi);
    if (imm & O.ATOMIC_FETCH) { L[s] = oldLo; H[s] = oldHi; }
  };

  /** LD_ABS / LD_IND: network-order load from the packet; out of range ends the run with 0. */
  const ldPacket = (o: number, s: number, imm: number): boolean => {
    const pk = cx.packet;
    const size = O.memSize(o) === O.SIZE_W ? 4 : O.memSize(o) === O.SIZE_H ? 2 : 1;
    let at = imm;
    if (O.memMode(o) === O.MODE_IND) at = (L[s]! + imm) | 0;
    if (pk === null || at < 0 || at + size > pk.len) return false;
    const a = pk.start + at;
    L[0] = size === 4 ? dv.getInt32(a, false) : size === 2 ? dv.getUint16(a, false) : u8[a]!;
    H[0] = 0;
    return true;
  };

  for (;;) {
    if (trace !== undefined) recordTrace();
    if (--budget < 0) {
      throw new VmFault('EBUDGET', `the budget of ${cx.budget} instructions ran out`, pc);
    }
    if (pc >= slots) throw new VmFault('EBADPROG', 'execution ran past the last instruction', pc);
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
        else if (IMM[pc] === 0x10000) { L[d] = L[s]!; H[d] = 0; } // addr_space_cast to the user address space
        else { L[d] = L[s]!; H[d] = 0; } // addr_space_cast to the kernel: no arena is mapped, base 0
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
      case 0xd4: { // le16/32/64: no-op on a little-endian machine but truncates
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
      // ---- loads and stores ----
      case 0x61: load(addr(SRC[pc]!, OFF[pc]!, 4, false), 4, false, d); break;
      case 0x69: load(addr(SRC[pc]!, OFF[pc]!, 2, false), 2, false, d); break;
      case 0x71: load(addr(SRC[pc]!, OFF[pc]!, 1, false), 1, false, d); break;
      case 0x79: load(addr(SRC[pc]!, OFF[pc]!, 8, false), 8, false, d); break;
      case 0x81: load(addr(SRC[pc]!, OFF[pc]!, 4, false), 4, true, d); break;
      case 0x89: load(addr(SRC[pc]!, OFF[pc]!, 2, false), 2, true, d); break;
      case 0x91: load(addr(SRC[pc]!, OFF[pc]!, 1, false), 1, true, d); break;
      case 0x62: store(addr(d, OFF[pc]!, 4, true), 4, IMM[pc]!, 0); break;
      case 0x6a: store(addr(d, OFF[pc]!, 2, true), 2, IMM[pc]!, 0); break;
      case 0x72: store(addr(d, OFF[pc]!, 1, true), 1, IMM[pc]!, 0); break;
      case 0x7a: store(addr(d, OFF[pc]!, 8, true), 8, IMM[pc]!, IMM[pc]! >> 31); break;
      case 0x63: store(addr(d, OFF[pc]!, 4, true), 4, L[SRC[pc]!]!, 0); break;
      case 0x6b: store(addr(d, OFF[pc]!, 2, true), 2, L[SRC[pc]!]!, 0); break;
      case 0x73: store(addr(d, OFF[pc]!, 1, true), 1, L[SRC[pc]!]!, 0); break;
      case 0x7b: store(addr(d, OFF[pc]!, 8, true), 8, L[SRC[pc]!]!, H[SRC[pc]!]!); break;
      case 0xc3: case 0xcb: case 0xd3: case 0xdb:
        atomic(o, d, SRC[pc]!, OFF[pc]!, IMM[pc]!); break;
      case 0x18: {
        const s = SRC[pc]!;
        if (s === O.PSEUDO_IMM64) { L[d] = IMM[pc]!; H[d] = IMM[pc + 1]!; }
        else if (s === O.PSEUDO_FUNC) { L[d] = (pc + 1 + IMM[pc]!) * 8; H[d] = CODE_ADDR_HI; }
        else {
          if (cx.resolvePseudo === undefined) {
            throw new VmFault('EPSEUDO', `lddw with pseudo source ${s} (imm ${IMM[pc]}) needs maps or BTF, which this vm does not have`, pc);
          }
          fromBig(cx.resolvePseudo(s, IMM[pc]!, IMM[pc + 1]!, pc));
          L[d] = out[0]!; H[d] = out[1]!;
        }
        pc += 2;
        continue;
      }
      case 0x20: case 0x28: case 0x30: case 0x40: case 0x48: case 0x50:
        if (!ldPacket(o, SRC[pc]!, IMM[pc]!)) { L[0] = 0; H[0] = 0; return { r0: 0n, insns: start - budget }; }
        break;
      // ---- jumps ----
      case 0x05: pc += 1 + OFF[pc]!; continue;
      case 0x06: pc += 1 + IMM[pc]!; continue;
      case 0xe5:
        if (mayGoto === 0) { pc += 1 + OFF[pc]!; continue; }
        mayGoto--;
        break;
      case 0x85: {
        const s = SRC[pc]!;
        if (s === O.CALL_HELPER) callHelper(IMM[pc]!);
        else if (s === O.CALL_LOCAL) { callLocal(pc + 1 + IMM[pc]!); continue; }
        else {
          const fn = cx.resolveKfunc?.(IMM[pc]!, OFF[pc]!);
          if (fn === undefined) throw new VmFault('EHELPER', `call to unknown kfunc (BTF id ${IMM[pc]})`, pc);
          fromBig(fn(env, toBig(L[1]!, H[1]!), toBig(L[2]!, H[2]!), toBig(L[3]!, H[3]!), toBig(L[4]!, H[4]!), toBig(L[5]!, H[5]!)));
          L[0] = out[0]!; H[0] = out[1]!;
        }
        break;
      }
      case 0x8d: {
        const lo = L[d]!, hi = H[d]!;
        if (hi === CODE_ADDR_HI && (lo & 7) === 0 && lo >= 0 && lo / 8 < slots && prog.starts[lo / 8] === 1) { callLocal(lo / 8); continue; }
        if (hi !== 0 || cx.helpers.get(lo) === undefined) {
          throw new VmFault('EHELPER', `callx r${d} = 0x${toBig(lo, hi).toString(16)} is neither a helper id nor a function address`, pc);
        }
        callHelper(lo);
        break;
      }
      case 0x95:
        if (depth === 0) {
          if (trace !== undefined) { pc = -1; recordTrace(); }
          return { r0: toBig(L[0]!, H[0]!), insns: start - budget };
        }
        frames[depth]!.active = false;
        depth--;
        {
          const s = depth * 8;
          for (let r = 6; r <= 9; r++) { L[r] = saved[s + (r - 6) * 2]!; H[r] = saved[s + (r - 6) * 2 + 1]!; }
          L[10] = frames[depth]!.end; H[10] = 0;
          pc = retPc[depth]!;
        }
        continue;
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
