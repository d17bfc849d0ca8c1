/**
 * Printer for the uBPF / bpf_conformance syntax. See `ubpf-parse.ts` for the
 * forms, including the ones tsbpf invented for the Linux extensions. The
 * output re-assembles to the same instruction.
 */
import * as op from '../isa/index.js';
import type { Instruction } from '../isa/index.js';
import { hex64, rel } from './numbers.js';
import { aluNameOf, ATOMIC_NAMES, nameOf, PSEUDO_NAMES, PSEUDO_WITH_OFFSET, UBPF_ALU, UBPF_JMP, UBPF_SIZE } from './vocab.js';

const r = (n: number): string => `%r${n}`;
const size = (o: number): string => nameOf(UBPF_SIZE, op.memSize(o))!;
const mem = (base: number, off: number): string => (off === 0 ? `[${r(base)}]` : `[${r(base)}${rel(off)}]`);

/**
 * Formats one valid instruction. `label`, when given, replaces the relative
 * target of a jump, local call or `func` reference.
 */
export function formatUbpf(i: Instruction, label?: string): string {
  const o = i.opcode;
  const target = (n: number): string => label ?? rel(n);
  switch (op.cls(o)) {
    case op.CLS_LD: {
      if (o === op.OP_LDDW) return lddw(i, label);
      const sz = size(o);
      return op.memMode(o) === op.MODE_ABS ? `ldabs${sz} ${i.imm}` : `ldind${sz} ${r(i.src)}, ${i.imm}`;
    }
    case op.CLS_LDX:
      return `ldx${op.memMode(o) === op.MODE_MEMSX ? 's' : ''}${size(o)} ${r(i.dst)}, ${mem(i.src, i.off)}`;
    case op.CLS_ST:
      return `st${size(o)} ${mem(i.dst, i.off)}, ${i.imm}`;
    case op.CLS_STX:
      if (op.memMode(o) === op.MODE_MEM) return `stx${size(o)} ${mem(i.dst, i.off)}, ${r(i.src)}`;
      return atomic(i);
    case op.CLS_ALU:
    case op.CLS_ALU64:
      return aluInsn(i);
    default:
      break;
  }
  const is32 = op.cls(o) === op.CLS_JMP32;
  const code = op.aluOp(o);
  if (o === op.OP_JA) return `ja ${target(i.off)}`;
  if (o === op.OP_JA32) return `ja32 ${target(i.imm)}`;
  if (o === op.OP_MAY_GOTO) return `may_goto ${target(i.off)}`;
  if (o === op.OP_EXIT) return 'exit';
  if (o === op.OP_CALLX) return `call ${r(i.dst)}`;
  if (o === op.OP_CALL) {
    if (i.src === op.CALL_LOCAL) return `call local ${target(i.imm)}`;
    if (i.src === op.CALL_KFUNC) return `call kfunc ${i.imm}${i.off !== 0 ? `, ${i.off}` : ''}`;
    return `call ${i.imm}`;
  }
  const name = `${nameOf(UBPF_JMP, code)}${is32 ? '32' : ''}`;
  const src = op.srcBit(o) === op.SRC_X ? r(i.src) : `${i.imm}`;
  return `${name} ${r(i.dst)}, ${src}, ${target(i.off)}`;
}

function lddw(i: Instruction, label?: string): string {
  const dst = r(i.dst);
  if (i.src === op.PSEUDO_IMM64) return `lddw ${dst}, ${hex64(op.lddwValue(i))}`;
  const kind = nameOf(PSEUDO_NAMES, i.src)!;
  if (i.src === op.PSEUDO_FUNC) return `lddw ${dst}, ${kind} ${label ?? rel(i.imm)}`;
  const imm2 = i.imm2 ?? 0;
  const withOff = PSEUDO_WITH_OFFSET.has(i.src) || (i.src === op.PSEUDO_BTF_ID && imm2 !== 0);
  return `lddw ${dst}, ${kind} ${i.imm}${withOff ? `, ${imm2}` : ''}`;
}

function atomic(i: Instruction): string {
  const o = i.opcode;
  const m = mem(i.dst, i.off);
  if (i.imm === op.ATOMIC_LOAD_ACQ) return `load_acq${size(o)} ${r(i.dst)}, ${mem(i.src, i.off)}`;
  if (i.imm === op.ATOMIC_STORE_REL) return `store_rel${size(o)} ${m}, ${r(i.src)}`;
  const w = op.memSize(o) === op.SIZE_W ? '32' : '';
  if (i.imm === op.ATOMIC_XCHG) return `lock xchg${w} ${m}, ${r(i.src)}`;
  if (i.imm === op.ATOMIC_CMPXCHG) return `lock cmpxchg${w} ${m}, ${r(i.src)}`;
  const fetch = i.imm & op.ATOMIC_FETCH ? 'fetch ' : '';
  return `lock ${fetch}${nameOf(ATOMIC_NAMES, i.imm & ~op.ATOMIC_FETCH)}${w} ${m}, ${r(i.src)}`;
}

function aluInsn(i: Instruction): string {
  const o = i.opcode;
  const is64 = op.cls(o) === op.CLS_ALU64;
  const w = is64 ? '' : '32';
  const code = op.aluOp(o);
  const x = op.srcBit(o) === op.SRC_X;
  if (code === op.ALU_NEG) return `neg${w} ${r(i.dst)}`;
  if (code === op.ALU_END) {
    const name = is64 ? 'bswap' : x ? 'be' : 'le';
    return `${name}${i.imm} ${r(i.dst)}`;
  }
  if (code === op.ALU_MOV && x && i.off !== 0) {
    if (i.off === op.OFF_ADDR_SPACE_CAST) {
      return `addr_space_cast ${r(i.dst)}, ${r(i.src)}, ${i.imm >>> 16}, ${i.imm & 0xffff}`;
    }
    return `movsx${i.off}${is64 ? '64' : '32'} ${r(i.dst)}, ${r(i.src)}`;
  }
  const name = aluNameOf(UBPF_ALU, code, i.off)!;
  return `${name}${w} ${r(i.dst)}, ${x ? r(i.src) : i.imm}`;
}
