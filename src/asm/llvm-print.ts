/**
 * Printer for the LLVM / kernel syntax. See `llvm-parse.ts` for the forms.
 * The output re-assembles to the same instruction.
 */
import * as op from '../isa/index.js';
import type { Instruction } from '../isa/index.js';
import { hex64, rel } from './numbers.js';
import { aluNameOf, ATOMIC_NAMES, LLVM_ALU, LLVM_JMP, nameOf, PSEUDO_NAMES, PSEUDO_WITH_OFFSET, SIZE_BITS } from './vocab.js';

const r = (n: number): string => `r${n}`;
const w = (n: number): string => `w${n}`;
const bits = (o: number): number => SIZE_BITS.get(op.memSize(o))!;
const addr = (base: number, off: number): string => `${r(base)} ${off < 0 ? '-' : '+'} ${Math.abs(off)}`;
const ptr = (o: number, base: number, off: number, signed = false): string =>
  `*(${signed ? 's' : 'u'}${bits(o)} *)(${addr(base, off)})`;
/** ` + N` / ` - N` after an operand. */
const plus = (n: number): string => (n < 0 ? ` - ${-n}` : ` + ${n}`);

/**
 * Formats one valid instruction. `label`, when given, replaces the relative
 * target of a jump, local call or `func` reference.
 */
export function formatLlvm(i: Instruction, label?: string): string {
  const o = i.opcode;
  const target = (n: number): string => label ?? rel(n);
  switch (op.cls(o)) {
    case op.CLS_LD:
      return o === op.OP_LDDW ? lddw(i, label) : packet(i);
    case op.CLS_LDX: {
      const sx = op.memMode(o) === op.MODE_MEMSX;
      return `${r(i.dst)} = ${ptr(o, i.src, i.off, sx)}`;
    }
    case op.CLS_ST:
      return `${ptr(o, i.dst, i.off)} = ${i.imm}`;
    case op.CLS_STX:
      if (op.memMode(o) === op.MODE_MEM) return `${ptr(o, i.dst, i.off)} = ${r(i.src)}`;
      return atomic(i);
    case op.CLS_ALU:
    case op.CLS_ALU64:
      return aluInsn(i);
    default:
      break;
  }
  if (o === op.OP_JA) return `goto ${target(i.off)}`;
  if (o === op.OP_JA32) return `gotol ${target(i.imm)}`;
  if (o === op.OP_MAY_GOTO) return `may_goto ${target(i.off)}`;
  if (o === op.OP_EXIT) return 'exit';
  if (o === op.OP_CALLX) return `callx ${r(i.dst)}`;
  if (o === op.OP_CALL) {
    if (i.src === op.CALL_LOCAL) return `call ${label ?? `pc${rel(i.imm)}`}`;
    if (i.src === op.CALL_KFUNC) return `call kfunc ${i.imm}${i.off !== 0 ? `, ${i.off}` : ''}`;
    return `call ${i.imm}`;
  }
  const reg = op.cls(o) === op.CLS_JMP32 ? w : r;
  const cmp = nameOf(LLVM_JMP, op.aluOp(o));
  const src = op.srcBit(o) === op.SRC_X ? reg(i.src) : `${i.imm}`;
  return `if ${reg(i.dst)} ${cmp} ${src} goto ${target(i.off)}`;
}

function lddw(i: Instruction, label?: string): string {
  const dst = r(i.dst);
  if (i.src === op.PSEUDO_IMM64) return `${dst} = ${hex64(op.lddwValue(i))} ll`;
  const kind = nameOf(PSEUDO_NAMES, i.src)!;
  if (i.src === op.PSEUDO_FUNC) return `${dst} = ${kind}(${label ?? rel(i.imm)}) ll`;
  const imm2 = i.imm2 ?? 0;
  const off = PSEUDO_WITH_OFFSET.has(i.src) || imm2 !== 0 ? plus(imm2) : '';
  return `${dst} = ${kind}(${i.imm})${off} ll`;
}

function packet(i: Instruction): string {
  const o = i.opcode;
  const index = op.memMode(o) === op.MODE_ABS ? `${i.imm}` : `${r(i.src)}${plus(i.imm)}`;
  return `r0 = *(u${bits(o)} *)skb[${index}]`;
}

const LOCK_SYM: Readonly<Record<string, string>> = { add: '+=', or: '|=', and: '&=', xor: '^=' };

function atomic(i: Instruction): string {
  const o = i.opcode;
  const dw = op.memSize(o) === op.SIZE_DW;
  const v = dw ? r : w;
  const cast = `(u${bits(o)} *)`;
  if (i.imm === op.ATOMIC_LOAD_ACQ) return `${v(i.dst)} = load_acquire(${cast}(${addr(i.src, i.off)}))`;
  if (i.imm === op.ATOMIC_STORE_REL) return `store_release(${cast}(${addr(i.dst, i.off)}), ${v(i.src)})`;
  if (i.imm === op.ATOMIC_XCHG) {
    return `${v(i.src)} = ${dw ? 'xchg_64' : 'xchg32_32'}(${addr(i.dst, i.off)}, ${v(i.src)})`;
  }
  if (i.imm === op.ATOMIC_CMPXCHG) {
    return `${v(0)} = ${dw ? 'cmpxchg_64' : 'cmpxchg32_32'}(${addr(i.dst, i.off)}, ${v(0)}, ${v(i.src)})`;
  }
  const name = nameOf(ATOMIC_NAMES, i.imm & ~op.ATOMIC_FETCH)!;
  if (i.imm & op.ATOMIC_FETCH) return `${v(i.src)} = atomic_fetch_${name}(${cast}(${addr(i.dst, i.off)}), ${v(i.src)})`;
  const sym = LOCK_SYM[name];
  return `lock *${cast}(${addr(i.dst, i.off)}) ${sym} ${v(i.src)}`;
}

function aluInsn(i: Instruction): string {
  const o = i.opcode;
  const is64 = op.cls(o) === op.CLS_ALU64;
  const v = is64 ? r : w;
  const code = op.aluOp(o);
  const x = op.srcBit(o) === op.SRC_X;
  if (code === op.ALU_NEG) return `${v(i.dst)} = -${v(i.dst)}`;
  if (code === op.ALU_END) {
    const name = is64 ? 'bswap' : x ? 'be' : 'le';
    return `${r(i.dst)} = ${name}${i.imm} ${r(i.dst)}`;
  }
  if (code === op.ALU_MOV) {
    if (!x) return `${v(i.dst)} = ${i.imm}`;
    if (i.off === op.OFF_ADDR_SPACE_CAST) {
      return `${r(i.dst)} = addr_space_cast(${r(i.src)}, ${i.imm >>> 16}, ${i.imm & 0xffff})`;
    }
    return `${v(i.dst)} = ${i.off !== 0 ? `(s${i.off})` : ''}${v(i.src)}`;
  }
  const sym = aluNameOf(LLVM_ALU, code, i.off)!;
  return `${v(i.dst)} ${sym} ${x ? v(i.src) : i.imm}`;
}
