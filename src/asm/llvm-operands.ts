/** Operand readers shared by the LLVM-syntax parsers. */
import type { Instruction } from '../isa/index.js';
import type { Cursor } from './cursor.js';
import { clip } from './lexer.js';
import { type Num, rel32, signedNum, off16, toOff16 } from './numbers.js';
import type { Stmt } from './program.js';
import { BITS_SIZE } from './vocab.js';

export type Cols = Stmt['cols'];
export type Add = (insn: Instruction, cols: Cols, ref?: Stmt['ref']) => void;

/** A register operand: `rN` (64-bit view) or `wN` (32-bit view). */
export interface Reg {
  reg: number;
  w: boolean;
  col: number;
  text: string;
}

export const REG_RE = /^([rw])(\d{1,2})$/;

/** True when the next token is a register name. */
export function isReg(c: Cursor, k = 0): boolean {
  const t = c.peek(k);
  return t !== undefined && t.kind === 'ident' && REG_RE.test(t.text);
}

export function reg(c: Cursor, what = 'a register'): Reg {
  const t = c.next(what);
  const m = t.kind === 'ident' ? REG_RE.exec(t.text) : null;
  if (!m) c.fail(`expected ${what} (r0-r10 or w0-w10), found '${clip(t.text)}'`, t);
  const n = Number(m[2]);
  if (n > 10) c.fail(`invalid register '${t.text}' (r0-r10 or w0-w10)`, t);
  return { reg: n, w: m[1] === 'w', col: t.col, text: t.text };
}

/** A register that must be a 64-bit `rN` (pointers). */
export function reg64(c: Cursor, what = 'a register'): Reg {
  const r = reg(c, what);
  if (r.w) c.fail(`expected a 64-bit register here, found '${r.text}'`, c.peek(-1));
  return r;
}

/** Fails unless `r` has the width `w` (true = 32-bit `wN`). */
export function needWidth(c: Cursor, r: Reg, w: boolean, why: string): void {
  if (r.w !== w) c.failAt(`'${r.text}' must be ${w ? 'a 32-bit wN' : 'a 64-bit rN'} register ${why}`, r.col);
}

/** Fails unless `r` names register `n`. */
export function needSame(c: Cursor, r: Reg, n: number, why: string): void {
  if (r.reg !== n) c.failAt(`'${r.text}' must be register ${n} ${why}`, r.col);
}

/** A memory cast `(u32 *)`; signed casts only when `signed` is allowed. */
export interface Cast {
  size: number;
  bits: number;
  signed: boolean;
  col: number;
}

export function cast(c: Cursor, allowSigned: boolean): Cast {
  const open = c.expect('(');
  const t = c.ident("a type such as 'u32'");
  const m = /^([us])(8|16|32|64)$/.exec(t.text);
  if (!m || (m[1] === 's' && (!allowSigned || m[2] === '64'))) c.fail(`unexpected type '${clip(t.text)}'`, t);
  c.expect('*');
  c.expect(')');
  const bits = Number(m[2]);
  return { size: BITS_SIZE.get(bits)!, bits, signed: m[1] === 's', col: open.col };
}

/** An address `rN`, `rN + off` or `rN - off` (no parentheses). */
export interface Addr {
  base: number;
  off: number;
  baseCol: number;
  offCol: number;
}

export function addrInner(c: Cursor): Addr {
  const b = reg64(c, 'a base register');
  let off = 0;
  let offCol = b.col;
  if (c.is('+') || c.is('-')) {
    offCol = c.col();
    const sign = c.next().text;
    const n = signedNum(c, 'an offset');
    off = toOff16(c, withSign(sign, n));
  }
  return { base: b.reg, off, baseCol: b.col, offCol };
}

/** `(rN + off)`. */
export function addr(c: Cursor): Addr {
  c.expect('(');
  const a = addrInner(c);
  c.expect(')');
  return a;
}

/** Applies a separate sign token (`+` or `-`) to a number read after it. */
export function withSign(sign: string, n: Num): Num {
  return sign === '-' ? { ...n, value: -n.value, text: `-${n.text}` } : n;
}

/** `+ N` / `- N` / `+ -N` after an operand. */
export function plusOffset(c: Cursor, read: (c: Cursor, n: Num) => number): number {
  const sign = c.next().text;
  return read(c, withSign(sign, signedNum(c, 'a number')));
}

export interface Target {
  value: number;
  col: number;
  ref?: Stmt['ref'];
}

/**
 * A jump target: `+N`, `-N`, `N`, `pc+N` (kernel log), or a label. An
 * `llvm-objdump` annotation (`<LBB0_2>`, `<prog+0x2c8>`) after it is ignored.
 */
export function target(c: Cursor, field: 'off' | 'imm'): Target {
  const col = c.col();
  const t = c.peek();
  let out: Target;
  if (t?.kind === 'ident' && t.text === 'pc' && (c.is('+', 1) || c.is('-', 1))) {
    c.next();
    out = { value: field === 'off' ? off16(c) : rel32(c), col };
  } else if (t?.kind === 'ident') {
    if (REG_RE.test(t.text)) c.fail(`expected a label or +offset, found register '${t.text}'`, t);
    c.next();
    out = { value: 0, col, ref: { name: t.text, field, col } };
  } else {
    out = { value: field === 'off' ? off16(c, 'a label or +offset') : rel32(c, 'a label or +offset'), col };
  }
  skipAnnotation(c);
  return out;
}

/**
 * Skips the annotation `llvm-objdump -d` prints after a jump or call target:
 * `<LBB0_2>`, or `<sym+0x58>` / `<sym-0x8>` (llvm-objdump 14 and later).
 * Anything else is left for the caller to reject.
 */
export function skipAnnotation(c: Cursor): void {
  if (!c.is('<') || c.peek(1)?.kind !== 'ident') return;
  let k = 2;
  if ((c.is('+', 2) || c.is('-', 2)) && c.peek(3)?.kind === 'num') k = 4;
  if (!c.is('>', k)) return;
  for (let j = 0; j <= k; j++) c.next();
}
