/**
 * Names for instruction forms ("alu64 sdiv x", "atomic w fetch_add", "le16"...)
 * so that the differential test can count which forms it exercised, check
 * that every form was covered, and print readable listings.
 */
import { type Instruction, branchTarget } from '../../src/isa/index.js';
import * as op from '../../src/isa/opcodes.js';
import { ALU_CODES, ATOMIC_ORDERED, ATOMIC_RMW, JMP_CONDS, MG_CONDS, SIZES } from './diff-arb.js';
import type { BuiltProgram, DiffSpec, Op } from './diff-program.js';

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
      if (o === op.OP_MAY_GOTO) return i.src === 0 ? 'may_goto' : `jcond src ${i.src}`;
      if (o === op.OP_CALL) return ['call helper', 'call local', 'call kfunc'][i.src] ?? `call src ${i.src}`;
      if (o === op.OP_CALLX) return 'callx';
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
  s.add('call local');
  s.add('may_goto');
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

/** Control-flow shapes the generator promises to cover (see `flowForms`). */
export const FLOW_FEATURES = [
  'call from main', 'call from subprogram', 'call depth 4', 'call in loop',
  'pointer argument', 'load via pointer argument', 'store via pointer argument', 'atomic via pointer argument',
  'atomic in subprogram', 'loop in subprogram', 'nested loop', 'counted loop (bottom test)', 'counted loop (top test)',
  'may_goto in counted loop', 'may_goto-only loop', 'loop of 1 trip', 'loop of 8 trips',
] as const;

/** Every flow form: backward jumps of each kind (taken), and the features above. */
export function expectedFlows(): Set<string> {
  const s = new Set<string>(FLOW_FEATURES.map((f) => `flow: ${f}`));
  s.add('back ja');
  s.add('back gotol');
  for (const w of ['jmp', 'jmp32']) {
    for (const code of JMP_CONDS) s.add(`back ${w} ${JMP_NAMES[code]} k`);
    for (const code of MG_CONDS) s.add(`back ${w} ${JMP_NAMES[code]} x`);
  }
  return s;
}

/**
 * The flow forms one run of a program exercised. From the run's trace (the
 * interpreter's, slot and frame depth of every step): backward jumps taken,
 * calls made from a subprogram, the deepest frame reached. The rest from the
 * program's description (a loop of 1 trip counts as a loop even if a jump
 * went around it).
 */
export function flowForms(spec: DiffSpec, prog: BuiltProgram, trace: ReadonlyArray<{ pc: number; depth: number }>): Set<string> {
  const s = new Set<string>();
  const feature = (f: (typeof FLOW_FEATURES)[number]): void => void s.add(`flow: ${f}`);
  const at = new Map<number, Instruction>();
  let pc = 0;
  for (const i of prog.body) {
    at.set(pc, i);
    pc += i.opcode === op.OP_LDDW ? 2 : 1;
  }
  trace.forEach((step, k) => {
    const i = at.get(step.pc)!;
    if (step.depth >= 3) feature('call depth 4');
    if (i.opcode === op.OP_CALL) {
      feature(step.depth > 0 ? 'call from subprogram' : 'call from main');
      return;
    }
    const t = branchTarget(i, step.pc);
    const next = trace[k + 1];
    if (t !== null && t <= step.pc && next?.pc === t && next.depth === step.depth) s.add(`back ${formName(i)}`);
  });
  const walk = (ops: readonly Op[], where: { fn: boolean; loop: 'none' | 'loop' | 'mg' }): void => {
    for (const o of ops) {
      switch (o.k) {
        case 'call':
          if (where.loop === 'loop') feature('call in loop');
          if (o.r1.k === 'frame') feature('pointer argument');
          break;
        case 'ldx': if (o.base === 'up') feature('load via pointer argument'); break;
        case 'st': case 'stx': if (o.base === 'up') feature('store via pointer argument'); break;
        case 'atomic':
          if (o.base === 'up') feature('atomic via pointer argument');
          if (where.fn) feature('atomic in subprogram');
          break;
        case 'seq': walk(o.ops, where); break;
        case 'ifelse': walk(o.then, where); walk(o.else, where); break;
        case 'loop':
          if (where.fn) feature('loop in subprogram');
          if (where.loop !== 'none') feature('nested loop');
          feature(o.shape === 'bottom' ? 'counted loop (bottom test)' : 'counted loop (top test)');
          if (o.mayGoto) feature('may_goto in counted loop');
          if (o.iters === 1) feature('loop of 1 trip');
          if (o.iters === 8) feature('loop of 8 trips');
          walk(o.body, { ...where, loop: 'loop' });
          break;
        case 'mgloop':
          feature('may_goto-only loop');
          if (o.iters === 1) feature('loop of 1 trip');
          if (o.iters === 8) feature('loop of 8 trips');
          walk(o.body, { ...where, loop: 'mg' });
          break;
        default:
      }
    }
  };
  walk(spec.ops, { fn: false, loop: 'none' });
  for (const f of spec.fns) walk(f.ops, { fn: true, loop: 'none' });
  return s;
}
