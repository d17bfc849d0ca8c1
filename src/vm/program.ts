import { type Instruction, checkTargets, slotIndex, OP_LDDW } from '../isa/index.js';

/**
 * A program laid out by slot for execution: one entry per 8-byte slot, so a
 * jump offset indexes directly. The second slot of an lddw holds its imm2.
 * One extra sentinel slot with opcode 0 (never valid) follows the last
 * instruction, so falling off the end needs no bounds check per step.
 */
export interface PreparedProgram {
  readonly insns: readonly Instruction[];
  readonly slots: number;
  readonly op: Int32Array;
  readonly dst: Int32Array;
  readonly src: Int32Array;
  readonly off: Int32Array;
  readonly imm: Int32Array;
  /** 1 where an instruction starts, 0 on the second slot of an lddw. */
  readonly starts: Uint8Array;
  /** Slot of the last instruction: the one that falls off the end, if any does. */
  readonly lastPc: number;
}

/** Checks jump targets and lays the program out by slot. */
export function prepare(insns: readonly Instruction[]): PreparedProgram {
  checkTargets(insns);
  const { slots } = slotIndex(insns);
  const p = {
    insns,
    slots,
    op: new Int32Array(slots + 1),
    dst: new Int32Array(slots + 1),
    src: new Int32Array(slots + 1),
    off: new Int32Array(slots + 1),
    imm: new Int32Array(slots + 1),
    starts: new Uint8Array(slots + 1),
    lastPc: slotIndex(insns).pcs[insns.length - 1] ?? 0,
  };
  let pc = 0;
  for (const i of insns) {
    p.starts[pc] = 1;
    p.op[pc] = i.opcode;
    p.dst[pc] = i.dst;
    p.src[pc] = i.src;
    p.off[pc] = i.off;
    p.imm[pc] = i.imm;
    pc++;
    if (i.opcode === OP_LDDW) {
      p.imm[pc] = i.imm2 ?? 0;
      pc++;
    }
  }
  return p;
}
