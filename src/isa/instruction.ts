import { OP_LDDW } from './opcodes.js';

/**
 * One eBPF instruction, as its fields. A 64-bit immediate load (`lddw`) is a
 * single `Instruction` that occupies two 8-byte slots; `imm2` holds the imm
 * field of the second slot.
 *
 * Field ranges: opcode 0..255, dst and src 0..15, off -32768..32767,
 * imm and imm2 -2^31..2^31-1 (signed, as stored in the encoding).
 */
export interface Instruction {
  opcode: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
  /** Second-slot imm of `lddw`; absent for every other instruction. */
  imm2?: number;
}

/** Number of 8-byte slots an instruction occupies. */
export const slotCount = (insn: Instruction): 1 | 2 => (insn.opcode === OP_LDDW ? 2 : 1);

/** The 64-bit value an `lddw` loads, as an unsigned bigint. */
export function lddwValue(insn: Instruction): bigint {
  return (BigInt(insn.imm >>> 0) | (BigInt((insn.imm2 ?? 0) >>> 0) << 32n));
}

/** Splits a 64-bit value into the (imm, imm2) pair of an `lddw`. */
export function splitImm64(value: bigint): { imm: number; imm2: number } {
  const v = BigInt.asUintN(64, value);
  return { imm: Number(v & 0xffffffffn) | 0, imm2: Number(v >> 32n) | 0 };
}

/** Builds an instruction with zero defaults. */
export function insn(opcode: number, fields: Partial<Omit<Instruction, 'opcode'>> = {}): Instruction {
  const i: Instruction = {
    opcode,
    dst: fields.dst ?? 0,
    src: fields.src ?? 0,
    off: fields.off ?? 0,
    imm: fields.imm ?? 0,
  };
  if (opcode === OP_LDDW) i.imm2 = fields.imm2 ?? 0;
  return i;
}

/** Slot index (pc) of each instruction in a program, plus the total slot count. */
export function slotIndex(program: readonly Instruction[]): { pcs: number[]; slots: number } {
  const pcs: number[] = [];
  let pc = 0;
  for (const i of program) {
    pcs.push(pc);
    pc += slotCount(i);
  }
  return { pcs, slots: pc };
}
