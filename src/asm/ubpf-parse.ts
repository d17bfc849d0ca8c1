/**
 * Assembler for the uBPF / bpf_conformance syntax.
 *
 * Standard forms (as in the bpf_conformance test files):
 *   add32 %r0, -3        mov %r0, %r1        neg %r0        sdiv %r0, 3 (DIV off=1)
 *   movsx832 %r0, %r1 (movsx<from><to>)      le16 %r0   be64 %r0   bswap32 %r0 (alias swap32)
 *   lddw %r0, 0x1122334455667788
 *   ldxw %r0, [%r1+2]    ldxsb %r0, [%r10-1]  stw [%r1+2], 5       stxdw [%r10-8], %r1
 *   lock add [%r10-8], %r1    lock fetch and32 [%r1], %r2    lock xchg / lock cmpxchg
 *   ja +1  ja label  ja32 label (gotol)  jeq %r1, 5, +1  jne32 %r1, %r2, label
 *   call 5 (helper)   call local func1 / call local +3   call kfunc 7 (alias: call runtime 7)
 *   call %r2 (callx, register in dst; alias: callx %r2)   exit
 * `64` suffixes are accepted on ALU and lock mnemonics (`add64` = `add`).
 * Labels are `name:`; the first `exit` also defines the label `exit` unless an
 * explicit `exit:` exists. Comments: `#`, `;`, `//`.
 *
 * Extensions this syntax has no standard mnemonic for (tsbpf's choice):
 *   call kfunc 7, 1                 kfunc call with a nonzero off (module BTF fd index)
 *   may_goto +3 | may_goto label    JMP|JCOND (0xe5)
 *   addr_space_cast %r0, %r1, D, S  ALU64 MOV X off=1, imm = D << 16 | S (D = dst address
 *                                   space, S = src address space, as the kernel prints)
 *   ldabsb/ldabsh/ldabsw IMM        LD|ABS
 *   ldindb/ldindh/ldindw %r3, IMM   LD|IND (register in src)
 *   load_acqb/h/w/dw %r0, [%r1+0]   STX|ATOMIC imm 0x100: r0 = load_acquire(r1+0)
 *   store_relb/h/w/dw [%r1+0], %r2  STX|ATOMIC imm 0x110: store_release(r1+0, r2)
 *   lddw %r1, map_fd 3              src 1
 *   lddw %r1, map_value 3, 16       src 2, imm2 = 16
 *   lddw %r1, btf_id 5              src 3 (`btf_id 5, N` when imm2 is nonzero)
 * The `, N` (imm2) is optional for every pseudo source but func and defaults to 0.
 *   lddw %r1, func +3 | func label  src 4, imm = relative target
 *   lddw %r1, map_idx 0             src 5
 *   lddw %r1, map_idx_value 0, 16   src 6, imm2 = 16
 */
import * as op from '../isa/index.js';
import type { Instruction } from '../isa/index.js';
import { Cursor } from './cursor.js';
import { AsmError } from './errors.js';
import { clip, splitLines, stripIndexPrefix, tokenize } from './lexer.js';
import { imm32, off16, rel32, signedNum, startsNum, toImm64, u16 } from './numbers.js';
import { ProgramBuilder, type Stmt } from './program.js';
import { ATOMIC_NAMES, PSEUDO_NAMES, UBPF_ALU, UBPF_JMP, UBPF_SIZE } from './vocab.js';

export function parseUbpf(text: string): Instruction[] {
  const b = new ProgramBuilder();
  const lines = splitLines(text);
  lines.forEach((raw, k) => {
    const line = k + 1;
    const src = stripIndexPrefix(raw);
    const dash = /^\s*--/.exec(src);
    if (dash) throw new AsmError(`unknown directive '${clip(src.trim())}'`, line, dash[0].length - 1);
    const c = new Cursor(tokenize(src, line, { hashAfterIdent: false }), line, src.length + 1);
    while (c.peek()?.kind === 'ident' && c.is(':', 1)) {
      const t = c.next();
      if (t.text.startsWith('%')) c.fail(`'${clip(t.text)}' is not a valid label name`, t);
      c.next();
      b.label(t.text, line, t.col);
    }
    if (!c.atEnd()) parseInsn(c, b);
  });
  return b.finish(lines.length);
}

type Cols = Stmt['cols'];

interface Reg { reg: number; col: number }
interface Mem { base: number; off: number; baseCol: number; offCol: number }

function parseInsn(c: Cursor, b: ProgramBuilder): void {
  const m = c.ident('a mnemonic');
  const name = m.text.toLowerCase();
  const add = (insn: Instruction, cols: Cols, ref?: Stmt['ref']): void => {
    c.end();
    b.add({ insn, line: c.line, col: m.col, cols, ...(ref ? { ref } : {}) });
  };
  const unknown = (): never => c.fail(`unknown mnemonic '${clip(m.text)}'`, m);
  let r: RegExpExecArray | null;

  if (name === 'exit') {
    b.implicitLabel('exit');
    return add(op.insn(op.OP_EXIT), {});
  }
  if (name === 'lock') return parseLock(c, m.col, add);
  if (name === 'call' || name === 'callx') return parseCall(c, name === 'callx', add);
  if (name === 'ja' || name === 'may_goto') {
    const t = target(c, 'off');
    return add(op.insn(name === 'ja' ? op.OP_JA : op.OP_MAY_GOTO, { off: t.value }), { off: t.col }, t.ref);
  }
  if (name === 'ja32') {
    const t = target(c, 'imm');
    return add(op.insn(op.OP_JA32, { imm: t.value }), { imm: t.col }, t.ref);
  }
  if (name === 'lddw') return parseLddw(c, add);
  if (name === 'addr_space_cast') {
    const d = reg(c);
    comma(c);
    const s = reg(c);
    comma(c);
    const asCol = c.col();
    const dstAs = u16(c, 'an address space');
    comma(c);
    const srcAs = u16(c, 'an address space');
    const i = op.insn(op.CLS_ALU64 | op.ALU_MOV | op.SRC_X, { dst: d.reg, src: s.reg, off: op.OFF_ADDR_SPACE_CAST, imm: dstAs * 0x10000 + srcAs });
    return add(i, { dst: d.col, src: s.col, imm: asCol });
  }
  if ((r = /^neg(32|64)?$/.exec(name))) {
    const d = reg(c);
    return add(op.insn(alu(r[1]) | op.ALU_NEG, { dst: d.reg }), { dst: d.col });
  }
  if ((r = /^(le|be|bswap|swap)(16|32|64)$/.exec(name))) {
    const d = reg(c);
    const code = r[1] === 'le' ? op.CLS_ALU | op.ALU_END | op.SRC_K
      : r[1] === 'be' ? op.CLS_ALU | op.ALU_END | op.SRC_X
      : op.CLS_ALU64 | op.ALU_END;
    return add(op.insn(code, { dst: d.reg, imm: Number(r[2]) }), { dst: d.col });
  }
  if ((r = /^movsx(8|16|32)(32|64)$/.exec(name))) {
    if (r[1] === '32' && r[2] === '32') unknown();
    const [d, s] = regReg(c);
    const i = op.insn(alu(r[2]) | op.ALU_MOV | op.SRC_X, { dst: d.reg, src: s.reg, off: Number(r[1]) });
    return add(i, { dst: d.col, src: s.col });
  }
  if ((r = /^ldx(s?)(b|h|w|dw)$/.exec(name))) {
    if (r[1] && r[2] === 'dw') unknown();
    const d = reg(c);
    comma(c);
    const a = mem(c);
    const i = op.insn(op.CLS_LDX | (r[1] ? op.MODE_MEMSX : op.MODE_MEM) | UBPF_SIZE.get(r[2]!)!, { dst: d.reg, src: a.base, off: a.off });
    return add(i, { dst: d.col, src: a.baseCol, off: a.offCol });
  }
  if ((r = /^st(x?)(b|h|w|dw)$/.exec(name))) {
    const a = mem(c);
    comma(c);
    const code = (r[1] ? op.CLS_STX : op.CLS_ST) | op.MODE_MEM | UBPF_SIZE.get(r[2]!)!;
    if (r[1]) {
      const s = reg(c);
      return add(op.insn(code, { dst: a.base, src: s.reg, off: a.off }), { dst: a.baseCol, src: s.col, off: a.offCol });
    }
    const immCol = c.col();
    return add(op.insn(code, { dst: a.base, off: a.off, imm: imm32(c) }), { dst: a.baseCol, off: a.offCol, imm: immCol });
  }
  if ((r = /^ld(abs|ind)(b|h|w)$/.exec(name))) {
    const size = UBPF_SIZE.get(r[2]!)!;
    if (r[1] === 'abs') {
      const immCol = c.col();
      return add(op.insn(op.CLS_LD | op.MODE_ABS | size, { imm: imm32(c) }), { imm: immCol });
    }
    const s = reg(c);
    comma(c);
    const immCol = c.col();
    return add(op.insn(op.CLS_LD | op.MODE_IND | size, { src: s.reg, imm: imm32(c) }), { src: s.col, imm: immCol });
  }
  if ((r = /^load_acq(b|h|w|dw)$/.exec(name))) {
    const d = reg(c);
    comma(c);
    const a = mem(c);
    const i = op.insn(op.CLS_STX | op.MODE_ATOMIC | UBPF_SIZE.get(r[1]!)!, { dst: d.reg, src: a.base, off: a.off, imm: op.ATOMIC_LOAD_ACQ });
    return add(i, { dst: d.col, src: a.baseCol, off: a.offCol });
  }
  if ((r = /^store_rel(b|h|w|dw)$/.exec(name))) {
    const a = mem(c);
    comma(c);
    const s = reg(c);
    const i = op.insn(op.CLS_STX | op.MODE_ATOMIC | UBPF_SIZE.get(r[1]!)!, { dst: a.base, src: s.reg, off: a.off, imm: op.ATOMIC_STORE_REL });
    return add(i, { dst: a.baseCol, src: s.col, off: a.offCol });
  }
  if ((r = /^([a-z]+?)(32|64)?$/.exec(name)) && UBPF_ALU.has(r[1]!)) {
    const a = UBPF_ALU.get(r[1]!)!;
    const d = reg(c);
    comma(c);
    const code = alu(r[2]) | a.code;
    if (isReg(c)) {
      const s = reg(c);
      return add(op.insn(code | op.SRC_X, { dst: d.reg, src: s.reg, off: a.off }), { dst: d.col, src: s.col });
    }
    const immCol = c.col();
    return add(op.insn(code | op.SRC_K, { dst: d.reg, off: a.off, imm: imm32(c) }), { dst: d.col, imm: immCol });
  }
  if ((r = /^([a-z]+?)(32)?$/.exec(name)) && UBPF_JMP.has(r[1]!)) {
    const code = (r[2] ? op.CLS_JMP32 : op.CLS_JMP) | UBPF_JMP.get(r[1]!)!;
    const d = reg(c);
    comma(c);
    let i: Instruction;
    const cols: Cols = { dst: d.col };
    if (isReg(c)) {
      const s = reg(c);
      i = op.insn(code | op.SRC_X, { dst: d.reg, src: s.reg });
      cols.src = s.col;
    } else {
      cols.imm = c.col();
      i = op.insn(code | op.SRC_K, { dst: d.reg, imm: imm32(c) });
    }
    comma(c);
    const t = target(c, 'off');
    i.off = t.value;
    cols.off = t.col;
    return add(i, cols, t.ref);
  }
  unknown();
}

/** ALU class from a mnemonic suffix. */
const alu = (suffix: string | undefined): number => (suffix === '32' ? op.CLS_ALU : op.CLS_ALU64);

function comma(c: Cursor): void {
  c.expect(',');
}

function isReg(c: Cursor): boolean {
  const t = c.peek();
  return t !== undefined && t.kind === 'ident' && t.text.startsWith('%');
}

function reg(c: Cursor): Reg {
  const t = c.next('a register');
  const m = t.kind === 'ident' ? /^%r(\d+)$/i.exec(t.text) : null;
  if (!m) c.fail(`expected a register (%r0-%r10), found '${clip(t.text)}'`, t);
  const n = Number(m[1]);
  if (m[1]!.length > 2 || n > 10) c.fail(`invalid register '${clip(t.text)}' (%r0-%r10)`, t);
  return { reg: n, col: t.col };
}

function regReg(c: Cursor): [Reg, Reg] {
  const d = reg(c);
  comma(c);
  return [d, reg(c)];
}

/** `[%rN]`, `[%rN+off]` or `[%rN-off]`. */
function mem(c: Cursor): Mem {
  const open = c.peek();
  if (!open || !c.is('[')) c.fail(`expected a memory operand like [%r1+8], found ${open ? `'${clip(open.text)}'` : 'end of line'}`);
  c.next();
  const r = reg(c);
  let off = 0;
  let offCol = r.col;
  if (!c.is(']')) {
    if (!c.is('+') && !c.is('-')) c.fail(`expected '+', '-' or ']' in a memory operand`);
    offCol = c.col();
    off = off16(c);
  }
  c.expect(']');
  return { base: r.reg, off, baseCol: r.col, offCol };
}

interface Target { value: number; col: number; ref?: Stmt['ref'] }

/** A jump target: a label or a relative `+N` / `-N` (`N` alone is accepted). */
function target(c: Cursor, field: 'off' | 'imm'): Target {
  const col = c.col();
  const t = c.peek();
  if (t?.kind === 'ident') {
    if (t.text.startsWith('%')) c.fail(`expected a label or +offset, found '${clip(t.text)}'`, t);
    c.next();
    return { value: 0, col, ref: { name: t.text, field, col } };
  }
  return { value: field === 'off' ? off16(c, 'a label or +offset') : rel32(c, 'a label or +offset'), col };
}

type Add = (insn: Instruction, cols: Cols, ref?: Stmt['ref']) => void;

function parseLock(c: Cursor, col: number, add: Add): void {
  if (c.atEnd()) c.failAt('invalid number of operands for lock', col);
  const fetch = c.is('fetch') ? (c.next(), op.ATOMIC_FETCH) : 0;
  const t = c.ident('an atomic operation');
  const m = /^(add|or|and|xor|xchg|cmpxchg)(32|64)?$/.exec(t.text.toLowerCase());
  if (!m) c.fail(`unknown atomic operation '${clip(t.text)}'`, t);
  const imm = m[1] === 'xchg' ? op.ATOMIC_XCHG : m[1] === 'cmpxchg' ? op.ATOMIC_CMPXCHG : ATOMIC_NAMES.get(m[1]!)! | fetch;
  if (c.atEnd()) c.failAt('invalid number of operands for lock', col);
  const a = mem(c);
  if (c.atEnd()) c.failAt('invalid number of operands for lock', col);
  comma(c);
  const s = reg(c);
  const code = op.CLS_STX | op.MODE_ATOMIC | (m[2] === '32' ? op.SIZE_W : op.SIZE_DW);
  add(op.insn(code, { dst: a.base, src: s.reg, off: a.off, imm }), { dst: a.baseCol, src: s.col, off: a.offCol, imm: t.col });
}

function parseCall(c: Cursor, callx: boolean, add: Add): void {
  if (callx || isReg(c)) {
    const d = reg(c);
    return add(op.insn(op.OP_CALLX, { dst: d.reg }), { dst: d.col });
  }
  if (c.is('local')) {
    c.next();
    const t = target(c, 'imm');
    return add(op.insn(op.OP_CALL, { src: op.CALL_LOCAL, imm: t.value }), { imm: t.col }, t.ref);
  }
  if (c.is('kfunc') || c.is('runtime')) {
    c.next();
    const immCol = c.col();
    const imm = imm32(c, 'a kfunc id');
    let off = 0;
    let offCol = immCol;
    if (c.eat(',')) {
      offCol = c.col();
      off = off16(c);
    }
    return add(op.insn(op.OP_CALL, { src: op.CALL_KFUNC, imm, off }), { imm: immCol, off: offCol });
  }
  if (!startsNum(c)) c.fail(c.atEnd() ? 'expected a helper number' : `expected a helper number, 'local NAME', 'kfunc N' or a register, found '${clip(c.peek()!.text)}'`);
  const immCol = c.col();
  add(op.insn(op.OP_CALL, { imm: imm32(c, 'a helper number') }), { imm: immCol });
}

function parseLddw(c: Cursor, add: Add): void {
  const d = reg(c);
  comma(c);
  const t = c.peek();
  const kind = t?.kind === 'ident' ? PSEUDO_NAMES.get(t.text) : undefined;
  if (t?.kind === 'ident' && kind === undefined) c.fail(`expected a 64-bit immediate or a pseudo source (${[...PSEUDO_NAMES.keys()].join(', ')}), found '${clip(t.text)}'`, t);
  if (kind === undefined) {
    const n = signedNum(c, 'a 64-bit immediate');
    const v = op.splitImm64(toImm64(c, n));
    return add(op.insn(op.OP_LDDW, { dst: d.reg, imm: v.imm, imm2: v.imm2 }), { dst: d.col, imm: n.col, imm2: n.col });
  }
  c.next();
  const cols: Cols = { dst: d.col, src: t!.col, imm: c.col() };
  if (kind === op.PSEUDO_FUNC) {
    const tg = target(c, 'imm');
    return add(op.insn(op.OP_LDDW, { dst: d.reg, src: kind, imm: tg.value, imm2: 0 }), cols, tg.ref);
  }
  const imm = imm32(c);
  let imm2 = 0;
  if (c.eat(',')) {
    cols.imm2 = c.col();
    imm2 = imm32(c, 'an offset');
  }
  add(op.insn(op.OP_LDDW, { dst: d.reg, src: kind, imm, imm2 }), cols);
}
