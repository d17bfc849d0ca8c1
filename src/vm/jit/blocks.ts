import * as O from '../../isa/opcodes.js';
import type { PreparedProgram } from '../program.js';

/**
 * Basic blocks of a prepared program. A block ends at every instruction that
 * can transfer control or leave the engine: jumps, exit, calls of every kind,
 * LD_ABS/LD_IND (which may end the run) and may_goto. So the instructions of
 * a block either all run or the run faults inside it, which lets the JIT
 * charge the budget once per block and stay exact.
 */
export interface Blocks {
  /** Slot where each block starts, in slot order; the last is the sentinel at `slots`. */
  readonly starts: Int32Array;
  /** Instructions (not slots) in each block. */
  readonly sizes: Int32Array;
  /** Block id of a slot that starts a block, or -1. */
  readonly blockAt: Int32Array;
}

export function isTerminator(o: number): boolean {
  const c = O.cls(o);
  if (c === O.CLS_JMP || c === O.CLS_JMP32) return true;
  if (c === O.CLS_LD && o !== O.OP_LDDW) return true; // LD_ABS / LD_IND
  return false;
}

export function findBlocks(p: PreparedProgram): Blocks {
  const slots = p.slots;
  const leader = new Uint8Array(slots + 1);
  leader[0] = 1;
  leader[slots] = 1;
  let hasCallx = false;
  for (let pc = 0; pc < slots; pc++) {
    if (!p.starts[pc]) continue;
    const o = p.op[pc]!;
    const width = o === O.OP_LDDW ? 2 : 1;
    if (o === O.OP_CALLX) hasCallx = true;
    if (isTerminator(o)) leader[pc + width] = 1;
    let t = -1;
    if (o === O.OP_JA32) t = pc + 1 + p.imm[pc]!;
    else if (o === O.OP_CALL) t = p.src[pc] === O.CALL_LOCAL ? pc + 1 + p.imm[pc]! : -1;
    else if (o === O.OP_LDDW) t = p.src[pc] === O.PSEUDO_FUNC ? pc + 1 + p.imm[pc]! : -1;
    else if ((O.cls(o) === O.CLS_JMP || O.cls(o) === O.CLS_JMP32) && o !== O.OP_EXIT && o !== O.OP_CALLX) t = pc + 1 + p.off[pc]!;
    if (t >= 0 && t <= slots) leader[t] = 1;
  }
  // callx may reach any instruction, so every instruction starts a block.
  if (hasCallx) for (let pc = 0; pc < slots; pc++) if (p.starts[pc]) leader[pc] = 1;
  const starts: number[] = [];
  for (let pc = 0; pc <= slots; pc++) if (leader[pc] && (pc === slots || p.starts[pc])) starts.push(pc);
  const blockAt = new Int32Array(slots + 1).fill(-1);
  const sizes = new Int32Array(starts.length);
  starts.forEach((s, k) => {
    blockAt[s] = k;
    const end = k + 1 < starts.length ? starts[k + 1]! : slots + 1;
    let n = 0;
    for (let pc = s; pc < end && pc < slots; pc++) if (p.starts[pc]) n++;
    sizes[k] = n;
  });
  return { starts: Int32Array.from(starts), sizes, blockAt };
}
