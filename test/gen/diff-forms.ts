/**
 * Names for instruction forms ("alu64 sdiv x", "atomic w fetch_add", "le16"...)
 * so that the differential test can count which forms it exercised, check
 * that every form was covered, and print readable listings.
 */
import type { Instruction } from '../../src/isa/index.js';
import * as op from '../../src/isa/opcodes.js';
import { ALU_CODES, ATOMIC_ORDERED, ATOMIC_RMW, JMP_CONDS, SIZES } from './diff-arb.js';

const ALU_NAMES: Record<number, string> = {
  [op.ALU_ADD]: 'add', [op.ALU_SUB]: 'sub', [op.ALU_MUL]: 'mul', [op.ALU_DIV]: 'div', [op.ALU_OR]: 'or',
  [op.ALU_AND]: 'and', [op.ALU_LSH]: 'lsh', [op.ALU_RSH]: 'rsh', [op.ALU_NEG]: 'neg', [op.ALU_MOD]: 'mod',
  [op.ALU_XOR]: 'xor', [op.ALU_MOV]: 'mov', [op.ALU_ARSH]: 'arsh',
};
const JMP_NAMES: Record<number, string> = {
  [op.JMP_JEQ]: 'jeq', [op.JMP_JGT]: 'jgt', [op.JMP_JGE]: 'jge', [op.JMP_JSET]: 'jset', [op.JMP_JNE]: 'jne',
  [op.JMP_JSGT]: 'jsgt', [op.JMP_JSGE]: 'jsge', [op.JMP_JLT]: 'jlt', [op.JMP_JLE]: 'jle', [op.JMP_JSLT]: 'jslt',
  [op.JMP_JSLE]: 'jsle',
};
const SIZE_NAMES: Record<number, string> = { [op.SIZE_B]: 'b', [op.SIZE_H]: 'h', [op.SIZE_W]: 'w', [op.SIZE_DW]: 'dw' };

function atomicName(imm: number): string {
  switch (imm) {
    case op.ATOMIC_XCHG: return 'xchg';
    case op.ATOMIC_CMPXCHG: return 'cmpxchg';
    case op.ATOMIC_LOAD_ACQ: return 'load_acquire';
    case op.ATOMIC_STORE_REL: return 'store_release';
  }
  const base = { [op.ATOMIC_ADD]: 'add', [op.ATOMIC_OR]: 'or', [op.ATOMIC_AND]: 'and', [op.ATOMIC_XOR]: 'xor' }[imm & ~op.ATOMIC_FETCH];
  return `${imm & op.ATOMIC_FETCH ? 'fetch_' : ''}${base ?? `0x${imm.toString(16)}`}`;
}

/** The form of an instruction: opcode plus whatever off/imm variant changes its meaning. */
export function formName(i: Instruction): string {
  const o = i.opcode;
  const c = op.cls(o);
  const x = op.srcBit(o) === op.SRC_X ? 'x' : 'k';
  switch (c) {
    case op.CLS_ALU:
    case op.CLS_ALU64: {
      const w = c === op.CLS_ALU64 ? 'alu64' : 'alu32';
      const code = op.aluOp(o);
      if (code === op.ALU_END) {
        if (c === op.CLS_ALU64) return `bswap${i.imm}`;
        return `${x === 'x' ? 'be' : 'le'}${i.imm}`;
      }
      if (code === op.ALU_NEG) return `${w} neg`;
      if (code === op.ALU_MOV && x === 'x' && i.off !== 0) return `${w} movsx${i.off}`;
      const name = ALU_NAMES[code] ?? `alu0x${code.toString(16)}`;
      return `${w} ${i.off === 1 ? 's' : ''}${name} ${x}`;
    }
    case op.CLS_JMP:
    case op.CLS_JMP32: {
      const code = op.aluOp(o);
      if (o === op.OP_JA) return 'ja';
      if (o === op.OP_JA32) return 'gotol';
      if (o === op.OP_EXIT) return 'exit';
      return `${c === op.CLS_JMP32 ? 'jmp32' : 'jmp'} ${JMP_NAMES[code] ?? `0x${code.toString(16)}`} ${x}`;
    }
    case op.CLS_LD:
      return o === op.OP_LDDW ? 'lddw' : `ld 0x${o.toString(16)}`;
    case op.CLS_LDX:
      return `${op.memMode(o) === op.MODE_MEMSX ? 'ldxs' : 'ldx'} ${SIZE_NAMES[op.memSize(o)]}`;
    case op.CLS_ST:
      return `st ${SIZE_NAMES[op.memSize(o)]}`;
    default:
      if (op.memMode(o) === op.MODE_ATOMIC) return `atomic ${SIZE_NAMES[op.memSize(o)]} ${atomicName(i.imm)}`;
      return `stx ${SIZE_NAMES[op.memSize(o)]}`;
  }
}

/** Every form the generator promises to cover. */
export function expectedForms(): Set<string> {
  const s = new Set<string>();
  for (const w of ['alu32', 'alu64']) {
    for (const code of ALU_CODES) {
      const name = ALU_NAMES[code]!;
      for (const x of ['k', 'x']) {
        s.add(`${w} ${name} ${x}`);
        if (code === op.ALU_DIV || code === op.ALU_MOD) s.add(`${w} s${name} ${x}`);
      }
    }
    s.add(`${w} neg`);
    s.add(`${w} movsx8`);
    s.add(`${w} movsx16`);
  }
  s.add('alu64 movsx32');
  for (const width of [16, 32, 64]) for (const k of ['le', 'be', 'bswap']) s.add(`${k}${width}`);
  for (const w of ['jmp', 'jmp32']) for (const code of JMP_CONDS) for (const x of ['k', 'x']) s.add(`${w} ${JMP_NAMES[code]} ${x}`);
  s.add('ja');
  s.add('gotol');
  s.add('exit');
  s.add('lddw');
  for (const size of SIZES) {
    const n = SIZE_NAMES[size]!;
    s.add(`ldx ${n}`);
    if (size !== op.SIZE_DW) s.add(`ldxs ${n}`);
    s.add(`st ${n}`);
    s.add(`stx ${n}`);
    for (const a of ATOMIC_ORDERED) s.add(`atomic ${n} ${atomicName(a)}`);
    if (size === op.SIZE_W || size === op.SIZE_DW) for (const a of ATOMIC_RMW) s.add(`atomic ${n} ${atomicName(a)}`);
  }
  return s;
}

/** A listing, one instruction a line, with slot numbers. */
export function listing(program: readonly Instruction[], mark?: number): string {
  let pc = 0;
  const lines: string[] = [];
  for (const i of program) {
    const imm = i.opcode === op.OP_LDDW ? `0x${((BigInt((i.imm2 ?? 0) >>> 0) << 32n) | BigInt(i.imm >>> 0)).toString(16)}` : String(i.imm);
    lines.push(`${pc === mark ? '>' : ' '}${String(pc).padStart(4)}: ${formName(i).padEnd(24)} dst=r${i.dst} src=r${i.src} off=${i.off} imm=${imm}`);
    pc += i.opcode === op.OP_LDDW ? 2 : 1;
  }
  return lines.join('\n');
}
