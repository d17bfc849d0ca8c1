/**
 * Differential programs: a description (`DiffSpec`) of a random straight-line
 * program with forward jumps, and how it is turned into
 *  - the body, which the vm runs with r1 = packet and r2 = its length, and
 *  - the kernel program: an XDP prologue that loads data/data_end and
 *    bounds-checks the packet, then the very same body, then a drop path.
 *
 * Layout of the packet (PACKET bytes): the body may load from anywhere in it,
 * stores go to [0, WORK); the epilogue dumps r0, r2-r9 and the stack area
 * (STACK bytes below r10) to [DUMP, PACKET).
 */
import { type Instruction, insn, splitImm64 } from '../../src/isa/index.js';
import * as op from '../../src/isa/opcodes.js';

export const STACK = 64;
export const SCALARS = [0, 2, 3, 4, 5, 6, 7, 8, 9] as const;
export const WORK = 136;
export const DUMP = WORK;
export const PACKET = DUMP + SCALARS.length * 8 + STACK; // 272

export type Reg = (typeof SCALARS)[number];
export type Base = 'pkt' | 'stack';

/** One operation of the body. Offsets are already legal for their base. */
export type Op =
  | { k: 'alu'; opcode: number; dst: Reg; src: Reg; off: number; imm: number }
  | { k: 'lddw'; dst: Reg; value: bigint }
  | { k: 'ldx'; opcode: number; dst: Reg; base: Base; off: number }
  | { k: 'st'; opcode: number; base: Base; off: number; imm: number }
  | { k: 'stx'; opcode: number; base: Base; off: number; src: Reg }
  | { k: 'atomic'; opcode: number; aop: number; off: number; src: Reg }
  | { k: 'jcond'; opcode: number; dst: Reg; src: Reg; imm: number; skip: number }
  /** Operations in a row; when `glued`, no jump may land between them. */
  | { k: 'seq'; ops: Op[]; glued?: boolean }
  | { k: 'ifelse'; cond: { opcode: number; dst: Reg; src: Reg; imm: number }; then: Op[]; else: Op[]; long: boolean };

/** How a register or stack slot gets its first value. */
export type Init =
  | { k: 'mov64'; imm: number }
  | { k: 'mov32'; imm: number }
  | { k: 'lddw'; value: bigint }
  | { k: 'keep' }; // only r2: keep the packet length

export interface DiffSpec {
  /** Initial values of r0, r2-r9, in SCALARS order. */
  regs: Init[];
  /** For each 8-byte stack slot (r10-8, r10-16, ...): an imm store, or a copy of a register. */
  stack: Array<{ k: 'imm'; imm: number } | { k: 'reg'; src: Reg }>;
  ops: Op[];
  packet: Uint8Array;
}

export interface BuiltProgram {
  /** What the vm runs (r1 = packet, r2 = PACKET). */
  body: Instruction[];
  /** What the kernel runs as XDP. */
  kernel: Instruction[];
}

const R1 = 1;
const R10 = 10;

/** A line of the body before jump offsets are known: `to` is a target line index. */
interface Line {
  insn: Instruction;
  to?: number;
  /** The target is `skip` lines after this one, clamped to the end of the body. */
  skip?: number;
  /** No jump may land here (inside a glued sequence). */
  noTarget?: boolean;
}

const lddw = (dst: number, value: bigint): Instruction => insn(op.OP_LDDW, { dst, ...splitImm64(value) });

function memBase(base: Base): number {
  return base === 'pkt' ? R1 : R10;
}

function emit(o: Op, out: Line[]): void {
  switch (o.k) {
    case 'alu':
      out.push({ insn: insn(o.opcode, { dst: o.dst, src: o.opcode & op.SRC_X && !isEnd(o.opcode) ? o.src : 0, off: o.off, imm: o.imm }) });
      return;
    case 'lddw':
      out.push({ insn: lddw(o.dst, o.value) });
      return;
    case 'ldx':
      out.push({ insn: insn(o.opcode, { dst: o.dst, src: memBase(o.base), off: o.off }) });
      return;
    case 'st':
      out.push({ insn: insn(o.opcode, { dst: memBase(o.base), off: o.off, imm: o.imm }) });
      return;
    case 'stx':
      out.push({ insn: insn(o.opcode, { dst: memBase(o.base), src: o.src, off: o.off }) });
      return;
    case 'atomic':
      if (o.aop === op.ATOMIC_LOAD_ACQ) {
        out.push({ insn: insn(o.opcode, { dst: o.src, src: R10, off: o.off, imm: o.aop }) });
      } else {
        out.push({ insn: insn(o.opcode, { dst: R10, src: o.src, off: o.off, imm: o.aop }) });
      }
      return;
    case 'seq': {
      const first = out.length;
      for (const o2 of o.ops) emit(o2, out);
      if (o.glued) for (let k = first + 1; k < out.length; k++) out[k]!.noTarget = true;
      return;
    }
    case 'jcond':
      out.push({ insn: condInsn(o), skip: o.skip });
      return;
    case 'ifelse': {
      const cond: Line = { insn: condInsn(o.cond) };
      out.push(cond);
      for (const t of o.then) emit(t, out);
      const jump: Line = { insn: o.long ? insn(op.OP_JA32) : insn(op.OP_JA) };
      out.push(jump);
      cond.to = out.length; // the else block
      for (const e of o.else) emit(e, out);
      jump.to = out.length; // after the else block
      return;
    }
  }
}

const isEnd = (opcode: number): boolean => op.aluOp(opcode) === op.ALU_END;

function condInsn(c: { opcode: number; dst: Reg; src: Reg; imm: number }): Instruction {
  const x = (c.opcode & op.SRC_X) !== 0;
  return insn(c.opcode, { dst: c.dst, src: x ? c.src : 0, imm: x ? 0 : c.imm });
}

function initLines(spec: DiffSpec): Line[] {
  const out: Line[] = [];
  SCALARS.forEach((r, k) => {
    const init = spec.regs[k] ?? { k: 'mov64', imm: 0 };
    if (init.k === 'keep' && r === 2) return;
    if (init.k === 'mov64' || init.k === 'keep') out.push({ insn: insn(op.CLS_ALU64 | op.ALU_MOV | op.SRC_K, { dst: r, imm: init.k === 'keep' ? 0 : init.imm }) });
    else if (init.k === 'mov32') out.push({ insn: insn(op.CLS_ALU | op.ALU_MOV | op.SRC_K, { dst: r, imm: init.imm }) });
    else out.push({ insn: lddw(r, init.value) });
  });
  for (let s = 0; s < STACK / 8; s++) {
    const init = spec.stack[s] ?? { k: 'imm', imm: 0 };
    const off = -8 * (s + 1);
    out.push({
      insn: init.k === 'imm'
        ? insn(op.CLS_ST | op.MODE_MEM | op.SIZE_DW, { dst: R10, off, imm: init.imm })
        : insn(op.CLS_STX | op.MODE_MEM | op.SIZE_DW, { dst: R10, src: init.src, off }),
    });
  }
  return out;
}

/** Stores r0, r2-r9 and the stack area into the dump area, then exits with r0. */
function epilogueLines(): Line[] {
  const out: Line[] = [];
  SCALARS.forEach((r, k) => out.push({ insn: insn(op.CLS_STX | op.MODE_MEM | op.SIZE_DW, { dst: R1, src: r, off: DUMP + 8 * k }) }));
  for (let s = 0; s < STACK / 8; s++) {
    out.push({ insn: insn(op.CLS_LDX | op.MODE_MEM | op.SIZE_DW, { dst: 2, src: R10, off: -STACK + 8 * s }) });
    out.push({ insn: insn(op.CLS_STX | op.MODE_MEM | op.SIZE_DW, { dst: R1, src: 2, off: DUMP + SCALARS.length * 8 + 8 * s }) });
  }
  out.push({ insn: insn(op.OP_EXIT) });
  return out;
}

/** Resolves line targets to slot offsets (an lddw takes two slots). */
function resolve(lines: Line[], bodyEnd: number): Instruction[] {
  const slotOf: number[] = [];
  let slot = 0;
  for (const l of lines) {
    slotOf.push(slot);
    slot += l.insn.opcode === op.OP_LDDW ? 2 : 1;
  }
  slotOf.push(slot);
  return lines.map((l, k) => {
    let to = l.to;
    if (l.skip !== undefined) {
      to = Math.min(k + 1 + l.skip, bodyEnd);
      while (to < bodyEnd && lines[to]!.noTarget) to++;
    }
    if (to === undefined) return l.insn;
    const rel = slotOf[to]! - slotOf[k]! - 1;
    return l.insn.opcode === op.OP_JA32 ? { ...l.insn, imm: rel } : { ...l.insn, off: rel };
  });
}

/** The kernel's XDP prologue: r1 = data with PACKET bytes checked, r2 = PACKET. */
export function prologue(dropOffset: number): Instruction[] {
  return [
    insn(op.CLS_LDX | op.MODE_MEM | op.SIZE_W, { dst: 2, src: R1, off: 0 }), // r2 = ctx->data
    insn(op.CLS_LDX | op.MODE_MEM | op.SIZE_W, { dst: 3, src: R1, off: 4 }), // r3 = ctx->data_end
    insn(op.CLS_ALU64 | op.ALU_MOV | op.SRC_X, { dst: 4, src: 2 }),
    insn(op.CLS_ALU64 | op.ALU_ADD | op.SRC_K, { dst: 4, imm: PACKET }),
    insn(op.CLS_JMP | op.JMP_JGT | op.SRC_X, { dst: 4, src: 3, off: dropOffset + 2 }), // to drop
    insn(op.CLS_ALU64 | op.ALU_MOV | op.SRC_X, { dst: R1, src: 2 }),
    insn(op.CLS_ALU64 | op.ALU_MOV | op.SRC_K, { dst: 2, imm: PACKET }),
  ];
}

export function build(spec: DiffSpec): BuiltProgram {
  const lines = initLines(spec);
  const bodyStart = lines.length;
  for (const o of spec.ops) emit(o, lines);
  const bodyEnd = lines.length;
  for (const t of lines.slice(bodyStart)) if (t.to !== undefined && t.to > bodyEnd) throw new Error('bad target');
  lines.push(...epilogueLines());
  const body = resolve(lines, bodyEnd);
  const bodySlots = body.reduce((n, i) => n + (i.opcode === op.OP_LDDW ? 2 : 1), 0);
  const kernel = [
    ...prologue(bodySlots),
    ...body,
    insn(op.CLS_ALU64 | op.ALU_MOV | op.SRC_K, { dst: 0, imm: 0 }), // drop: r0 = XDP_ABORTED
    insn(op.OP_EXIT),
  ];
  return { body, kernel };
}
