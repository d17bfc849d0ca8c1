import type { Instruction } from './instruction.js';
import * as op from './opcodes.js';

/** What is wrong with one field of an instruction. */
export interface FieldProblem {
  field: 'opcode' | 'dst' | 'src' | 'off' | 'imm' | 'imm2';
  reason: string;
}

const ALU_K_CODES = new Set([
  op.ALU_ADD, op.ALU_SUB, op.ALU_MUL, op.ALU_DIV, op.ALU_OR, op.ALU_AND, op.ALU_LSH,
  op.ALU_RSH, op.ALU_MOD, op.ALU_XOR, op.ALU_MOV, op.ALU_ARSH,
]);
const JMP_COND_CODES = new Set([
  op.JMP_JEQ, op.JMP_JGT, op.JMP_JGE, op.JMP_JSET, op.JMP_JNE, op.JMP_JSGT, op.JMP_JSGE,
  op.JMP_JLT, op.JMP_JLE, op.JMP_JSLT, op.JMP_JSLE,
]);
const ATOMIC_RMW = new Set([
  op.ATOMIC_ADD, op.ATOMIC_OR, op.ATOMIC_AND, op.ATOMIC_XOR,
  op.ATOMIC_ADD | op.ATOMIC_FETCH, op.ATOMIC_OR | op.ATOMIC_FETCH,
  op.ATOMIC_AND | op.ATOMIC_FETCH, op.ATOMIC_XOR | op.ATOMIC_FETCH,
  op.ATOMIC_XCHG, op.ATOMIC_CMPXCHG,
]);

const zero = (i: Instruction, ...fields: Array<'dst' | 'src' | 'off' | 'imm'>): FieldProblem | null => {
  for (const f of fields) {
    if (i[f] !== 0) return { field: f, reason: `must be 0 for opcode 0x${hex2(i.opcode)}, is ${i[f]}` };
  }
  return null;
};
const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

function reg(i: Instruction, f: 'dst' | 'src', writes = false): FieldProblem | null {
  const r = i[f];
  if (r > 10) return { field: f, reason: `register r${r} does not exist (r0-r10)` };
  if (writes && r === 10) return { field: f, reason: 'r10 is the read-only frame pointer' };
  return null;
}

/**
 * Checks one instruction's fields against RFC 9669 and the Linux extensions.
 * Returns the first problem, or null when the encoding is valid. Jump targets
 * are not checked here; see `checkTargets`.
 */
export function validate(i: Instruction): FieldProblem | null {
  const range = ranges(i);
  if (range) return range;
  const o = i.opcode;
  switch (op.cls(o)) {
    case op.CLS_LD: return validateLd(i);
    case op.CLS_LDX: {
      const mode = op.memMode(o);
      if (mode !== op.MODE_MEM && !(mode === op.MODE_MEMSX && op.memSize(o) !== op.SIZE_DW)) return badOpcode(o);
      return reg(i, 'dst', true) ?? reg(i, 'src') ?? zero(i, 'imm');
    }
    case op.CLS_ST:
      if (op.memMode(o) !== op.MODE_MEM) return badOpcode(o);
      return reg(i, 'dst') ?? zero(i, 'src');
    case op.CLS_STX: return validateStx(i);
    case op.CLS_ALU:
    case op.CLS_ALU64: return validateAlu(i);
    default: return validateJmp(i);
  }
}

const int = (v: unknown, lo: number, hi: number): boolean => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;

/** Every field must fit its bits: instructions built by hand may hold anything. */
function ranges(i: Instruction): FieldProblem | null {
  if (!int(i.opcode, 0, 255)) return { field: 'opcode', reason: `must be an integer 0-255, is ${String(i.opcode)}` };
  if (!int(i.dst, 0, 15)) return { field: 'dst', reason: `must be an integer 0-15, is ${String(i.dst)}` };
  if (!int(i.src, 0, 15)) return { field: 'src', reason: `must be an integer 0-15, is ${String(i.src)}` };
  if (!int(i.off, -32768, 32767)) return { field: 'off', reason: `must be an integer -32768..32767, is ${String(i.off)}` };
  if (!int(i.imm, -(2 ** 31), 2 ** 31 - 1)) return { field: 'imm', reason: `must be a signed 32-bit integer, is ${String(i.imm)}` };
  if (i.imm2 !== undefined && !int(i.imm2, -(2 ** 31), 2 ** 31 - 1)) return { field: 'imm2', reason: `must be a signed 32-bit integer, is ${String(i.imm2)}` };
  return null;
}

function badOpcode(o: number): FieldProblem {
  return { field: 'opcode', reason: `unknown opcode 0x${hex2(o)}` };
}

function validateLd(i: Instruction): FieldProblem | null {
  const o = i.opcode;
  if (o === op.OP_LDDW) {
    if (i.src > op.PSEUDO_MAP_IDX_VALUE) return { field: 'src', reason: `unknown lddw pseudo source ${i.src} (0-6)` };
    const p = reg(i, 'dst', true) ?? zero(i, 'off');
    if (p) return p;
    if ((i.src === op.PSEUDO_MAP_FD || i.src === op.PSEUDO_FUNC || i.src === op.PSEUDO_MAP_IDX) && (i.imm2 ?? 0) !== 0) {
      return { field: 'imm2', reason: `second slot imm must be 0 for pseudo source ${i.src}` };
    }
    return null;
  }
  const mode = op.memMode(o);
  if ((mode === op.MODE_ABS || mode === op.MODE_IND) && op.memSize(o) !== op.SIZE_DW) {
    if (mode === op.MODE_ABS) return zero(i, 'dst', 'src', 'off');
    return zero(i, 'dst', 'off') ?? reg(i, 'src');
  }
  return badOpcode(o);
}

function validateStx(i: Instruction): FieldProblem | null {
  const o = i.opcode;
  const mode = op.memMode(o);
  if (mode === op.MODE_MEM) return reg(i, 'dst') ?? reg(i, 'src') ?? zero(i, 'imm');
  if (mode !== op.MODE_ATOMIC) return badOpcode(o);
  const size = op.memSize(o);
  if (i.imm === op.ATOMIC_LOAD_ACQ) return reg(i, 'dst', true) ?? reg(i, 'src');
  if (i.imm === op.ATOMIC_STORE_REL) return reg(i, 'dst') ?? reg(i, 'src');
  if (size !== op.SIZE_W && size !== op.SIZE_DW) {
    return { field: 'imm', reason: `atomic 0x${i.imm.toString(16)} needs a 32- or 64-bit size` };
  }
  if (!ATOMIC_RMW.has(i.imm)) return { field: 'imm', reason: `unknown atomic operation 0x${(i.imm >>> 0).toString(16)}` };
  // The fetch forms and xchg write the old value into src.
  return reg(i, 'dst') ?? reg(i, 'src', (i.imm & op.ATOMIC_FETCH) !== 0 && i.imm !== op.ATOMIC_CMPXCHG);
}

function validateAlu(i: Instruction): FieldProblem | null {
  const o = i.opcode;
  const code = op.aluOp(o);
  const x = op.srcBit(o) === op.SRC_X;
  const is64 = op.cls(o) === op.CLS_ALU64;
  const d = reg(i, 'dst', true);
  if (d) return d;
  if (code === op.ALU_NEG) {
    if (x) return badOpcode(o);
    return zero(i, 'src', 'off', 'imm');
  }
  if (code === op.ALU_END) {
    if (is64 && x) return badOpcode(o);
    const p = zero(i, 'src', 'off');
    if (p) return p;
    if (i.imm !== 16 && i.imm !== 32 && i.imm !== 64) return { field: 'imm', reason: `byte swap width must be 16, 32 or 64, is ${i.imm}` };
    return null;
  }
  if (!ALU_K_CODES.has(code)) return badOpcode(o);
  // Offset: 1 selects signed div/mod; for MOV X it selects movsx or addr_space_cast.
  if (i.off !== 0) {
    const ok =
      ((code === op.ALU_DIV || code === op.ALU_MOD) && i.off === 1) ||
      (code === op.ALU_MOV && x && (i.off === 8 || i.off === 16 || (is64 && i.off === 32))) ||
      (code === op.ALU_MOV && x && is64 && i.off === op.OFF_ADDR_SPACE_CAST);
    if (!ok) return { field: 'off', reason: `must be 0 for opcode 0x${hex2(o)}, is ${i.off}` };
  }
  if (x) {
    const s = reg(i, 'src');
    if (s) return s;
    if (code === op.ALU_MOV && i.off === op.OFF_ADDR_SPACE_CAST) {
      if (i.imm !== 1 && i.imm !== 0x10000) return { field: 'imm', reason: 'addr_space_cast imm must be 1 or 0x10000' };
      return null;
    }
    return zero(i, 'imm');
  }
  return zero(i, 'src');
}

function validateJmp(i: Instruction): FieldProblem | null {
  const o = i.opcode;
  const code = op.aluOp(o);
  const is32 = op.cls(o) === op.CLS_JMP32;
  const x = op.srcBit(o) === op.SRC_X;
  if (code === op.JMP_JA) {
    if (x) return badOpcode(o);
    return is32 ? zero(i, 'dst', 'src', 'off') : zero(i, 'dst', 'src', 'imm');
  }
  if (JMP_COND_CODES.has(code)) {
    const p = reg(i, 'dst');
    if (p) return p;
    return x ? (reg(i, 'src') ?? zero(i, 'imm')) : zero(i, 'src');
  }
  if (is32) return badOpcode(o);
  if (code === op.JMP_CALL) {
    if (x) return reg(i, 'dst') ?? zero(i, 'src', 'off', 'imm');
    if (i.src > op.CALL_KFUNC) return { field: 'src', reason: `unknown call kind ${i.src} (0 helper, 1 local, 2 kfunc)` };
    return i.src === op.CALL_KFUNC ? zero(i, 'dst') : zero(i, 'dst', 'off');
  }
  if (code === op.JMP_EXIT) return x ? badOpcode(o) : zero(i, 'dst', 'src', 'off', 'imm');
  if (code === op.JMP_JCOND) return x ? badOpcode(o) : zero(i, 'dst', 'src', 'imm');
  return badOpcode(o);
}
