import { DecodeError } from './errors.js';
import { type Instruction, slotCount } from './instruction.js';
import { OP_LDDW } from './opcodes.js';
import { validate } from './validate.js';

/** Size of one instruction slot in bytes. */
export const SLOT = 8;

/** Reads the raw fields of one 8-byte slot. */
function readSlot(view: DataView, at: number): Instruction {
  const regs = view.getUint8(at + 1);
  return {
    opcode: view.getUint8(at),
    dst: regs & 0x0f,
    src: regs >> 4,
    off: view.getInt16(at + 2, true),
    imm: view.getInt32(at + 4, true),
  };
}

/**
 * Decodes little-endian bytecode into instructions. Every instruction is
 * validated; the first invalid one raises a `DecodeError` that names its slot
 * index and the offending field.
 */
export function decode(bytes: Uint8Array): Instruction[] {
  if (bytes.length === 0) throw new DecodeError(0, 'program', 'the program is empty');
  if (bytes.length % SLOT !== 0) {
    throw new DecodeError(Math.floor(bytes.length / SLOT), 'length', `${bytes.length} bytes is not a multiple of 8`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const slots = bytes.length / SLOT;
  const out: Instruction[] = [];
  for (let pc = 0; pc < slots; pc++) {
    const i = readSlot(view, pc * SLOT);
    if (i.opcode === OP_LDDW) {
      if (pc + 1 >= slots) throw new DecodeError(pc, 'imm2', 'lddw is truncated: its second slot is missing');
      const next = readSlot(view, (pc + 1) * SLOT);
      if (next.opcode !== 0 || next.dst !== 0 || next.src !== 0 || next.off !== 0) {
        const field = next.opcode !== 0 ? 'opcode' : next.dst !== 0 ? 'dst' : next.src !== 0 ? 'src' : 'off';
        throw new DecodeError(pc + 1, field, 'the second slot of lddw must have opcode, dst, src and off all 0');
      }
      i.imm2 = next.imm;
    }
    const problem = validate(i);
    if (problem) throw new DecodeError(pc, problem.field, problem.reason);
    out.push(i);
    if (i.opcode === OP_LDDW) pc++;
  }
  return out;
}

/** Encodes instructions to little-endian bytecode. */
export function encode(program: readonly Instruction[]): Uint8Array {
  let slots = 0;
  for (const i of program) slots += slotCount(i);
  const bytes = new Uint8Array(slots * SLOT);
  const view = new DataView(bytes.buffer);
  let at = 0;
  for (const i of program) {
    view.setUint8(at, i.opcode);
    view.setUint8(at + 1, ((i.src & 0x0f) << 4) | (i.dst & 0x0f));
    view.setInt16(at + 2, i.off, true);
    view.setInt32(at + 4, i.imm, true);
    at += SLOT;
    if (i.opcode === OP_LDDW) {
      view.setInt32(at + 4, i.imm2 ?? 0, true);
      at += SLOT;
    }
  }
  return bytes;
}
