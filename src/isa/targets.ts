import { DecodeError } from './errors.js';
import type { Instruction } from './instruction.js';
import { slotIndex } from './instruction.js';
import * as op from './opcodes.js';

/**
 * The slot a jump or local call goes to, or null when the instruction does
 * not transfer control to a fixed slot.
 */
export function branchTarget(i: Instruction, pc: number): number | null {
  const o = i.opcode;
  if (o === op.OP_JA32) return pc + 1 + i.imm;
  if (o === op.OP_CALL) return i.src === op.CALL_LOCAL ? pc + 1 + i.imm : null;
  if (o === op.OP_EXIT || o === op.OP_CALLX) return null;
  if (op.isJmp(o)) return pc + 1 + i.off;
  if (o === op.OP_LDDW && i.src === op.PSEUDO_FUNC) return pc + 1 + i.imm;
  return null;
}

/**
 * Checks that every jump, local call and function reference lands on the
 * first slot of an instruction inside the program.
 */
export function checkTargets(program: readonly Instruction[]): void {
  const { pcs, slots } = slotIndex(program);
  const starts = new Uint8Array(slots);
  for (const pc of pcs) starts[pc] = 1;
  program.forEach((i, k) => {
    const pc = pcs[k]!;
    const t = branchTarget(i, pc);
    if (t === null) return;
    const field = i.opcode === op.OP_JA32 || i.opcode === op.OP_CALL || i.opcode === op.OP_LDDW ? 'imm' : 'off';
    if (t < 0 || t >= slots) throw new DecodeError(pc, field, `target ${t} is outside the program (0-${slots - 1})`);
    if (!starts[t]) throw new DecodeError(pc, field, `target ${t} is the second slot of an lddw`);
  });
}
