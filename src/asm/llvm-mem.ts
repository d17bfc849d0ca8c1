/**
 * LLVM-syntax forms after `rN =` (mov, neg, movsx, byte swaps, lddw and its
 * pseudo sources, loads, atomics with a result, addr_space_cast) and the
 * store forms that start with `*(`, `lock` or `store_release`.
 */
import * as op from '../isa/index.js';
import type { Cursor } from './cursor.js';
import { clip } from './lexer.js';
import {
  type Add, type Cast, type Cols, type Reg, addr, addrInner, cast, isReg, needSame, needWidth, plusOffset, reg,
  reg64, target,
} from './llvm-operands.js';
import { imm32, signedNum, startsNum, toImm32, toImm64, u16 } from './numbers.js';
import { ATOMIC_NAMES, PSEUDO_NAMES } from './vocab.js';

const LOCK_OPS: ReadonlyMap<string, number> = new Map([
  ['+=', op.ATOMIC_ADD], ['|=', op.ATOMIC_OR], ['&=', op.ATOMIC_AND], ['^=', op.ATOMIC_XOR],
]);

/**
 * The right-hand side of `rN = ...` / `wN = ...`; `d` is the register before
 * `=`. `lddw` is true when the line's opcode (the verifier's `(18)`, or
 * objdump's bytes) says it is an lddw: the kernel prints a plain constant
 * without `ll`.
 */
export function parseAssign(c: Cursor, d: Reg, add: Add, lddw = false): void {
  const cls = d.w ? op.CLS_ALU : op.CLS_ALU64;
  const t = c.peek();
  if (!t) c.fail("expected a value after '='");
  if (c.is('-') && isReg(c, 1)) {
    c.next();
    const s = reg(c);
    needWidth(c, s, d.w, `to negate into '${d.text}'`);
    needSame(c, s, d.reg, `to negate into '${d.text}'`);
    return add(op.insn(cls | op.ALU_NEG, { dst: d.reg }), { dst: d.col });
  }
  const sx = c.is('(') && c.peek(1)?.kind === 'ident' ? /^s(8|16|32)$/.exec(c.peek(1)!.text) : null;
  if (sx && c.is(')', 2)) {
    c.next();
    c.next();
    c.next();
    const bits = Number(sx[1]);
    if (bits === 32 && d.w) c.fail(`(s32) needs a 64-bit destination, found '${d.text}'`, t);
    const s = reg(c);
    needWidth(c, s, d.w, `to sign-extend into '${d.text}'`);
    return add(op.insn(cls | op.ALU_MOV | op.SRC_X, { dst: d.reg, src: s.reg, off: bits }), { dst: d.col, src: s.col });
  }
  if (c.is('*')) return parseLoad(c, d, add);
  if (startsNum(c)) {
    const n = signedNum(c, 'a value');
    if (c.eat('ll') || lddw) {
      needWidth(c, d, false, 'for a 64-bit load (lddw)');
      const v = op.splitImm64(toImm64(c, n));
      return add(op.insn(op.OP_LDDW, { dst: d.reg, imm: v.imm, imm2: v.imm2 }), { dst: d.col, imm: n.col, imm2: n.col });
    }
    if (!d.w && (n.value > 0xffffffffn || n.value < -(1n << 31n) || (!n.hex && n.value > 0x7fffffffn))) {
      c.failAt(`immediate ${clip(n.text)} is out of 32-bit range (write '${clip(n.text)} ll' for a 64-bit load)`, n.col);
    }
    return add(op.insn(cls | op.ALU_MOV | op.SRC_K, { dst: d.reg, imm: toImm32(c, n) }), { dst: d.col, imm: n.col });
  }
  if (isReg(c)) {
    const s = reg(c);
    needWidth(c, s, d.w, `to move into '${d.text}'`);
    return add(op.insn(cls | op.ALU_MOV | op.SRC_X, { dst: d.reg, src: s.reg }), { dst: d.col, src: s.col });
  }
  if (t.kind !== 'ident') c.fail(`unexpected '${clip(t.text)}' after '='`, t);
  const name = t.text;
  let m: RegExpExecArray | null;
  if ((m = /^(be|le|bswap)(16|32|64)$/.exec(name))) {
    c.next();
    const s = reg(c);
    needSame(c, s, d.reg, `in a byte swap of '${d.text}'`);
    const code = m[1] === 'le' ? op.CLS_ALU | op.ALU_END | op.SRC_K
      : m[1] === 'be' ? op.CLS_ALU | op.ALU_END | op.SRC_X
      : op.CLS_ALU64 | op.ALU_END;
    return add(op.insn(code, { dst: d.reg, imm: Number(m[2]) }), { dst: d.col });
  }
  if ((m = /^atomic(?:64)?_fetch_(add|and|or|xor)$/.exec(name))) {
    c.next();
    c.expect('(');
    const ct = cast(c, false);
    return atomicResult(c, d, add, ct, ATOMIC_NAMES.get(m[1]!)! | op.ATOMIC_FETCH, t.col);
  }
  if ((m = /^atomic(?:64)?_(xchg|cmpxchg)$/.exec(name))) {
    c.next();
    c.expect('(');
    const ct = cast(c, false);
    return atomicResult(c, d, add, ct, m[1] === 'xchg' ? op.ATOMIC_XCHG : op.ATOMIC_CMPXCHG, t.col);
  }
  if ((m = /^(xchg|cmpxchg)(?:_64|32_32)$/.exec(name))) {
    c.next();
    c.expect('(');
    const dw = name.endsWith('_64');
    const ct: Cast = { size: dw ? op.SIZE_DW : op.SIZE_W, bits: dw ? 64 : 32, signed: false, col: t.col };
    return atomicResult(c, d, add, ct, m[1] === 'xchg' ? op.ATOMIC_XCHG : op.ATOMIC_CMPXCHG, t.col, true);
  }
  if (name === 'load_acquire') {
    c.next();
    c.expect('(');
    const ct = cast(c, false);
    const a = addr(c);
    c.expect(')');
    if (ct.bits === 64) needWidth(c, d, false, 'for a 64-bit load');
    const i = op.insn(op.CLS_STX | op.MODE_ATOMIC | ct.size, { dst: d.reg, src: a.base, off: a.off, imm: op.ATOMIC_LOAD_ACQ });
    return add(i, { dst: d.col, src: a.baseCol, off: a.offCol });
  }
  if (name === 'addr_space_cast') {
    c.next();
    c.expect('(');
    needWidth(c, d, false, 'for addr_space_cast');
    const s = reg64(c);
    c.expect(',');
    const asCol = c.col();
    const dstAs = u16(c, 'an address space');
    c.expect(',');
    const srcAs = u16(c, 'an address space');
    c.expect(')');
    const i = op.insn(op.CLS_ALU64 | op.ALU_MOV | op.SRC_X, { dst: d.reg, src: s.reg, off: op.OFF_ADDR_SPACE_CAST, imm: dstAs * 0x10000 + srcAs });
    return add(i, { dst: d.col, src: s.col, imm: asCol });
  }
  if (name === 'map' && c.is('[', 1)) {
    // bpftool prog dump xlated: `map[id:5]`, `map[id:5][0]+16`, `map[idx:0]+16`.
    if (c.is('idx', 2)) c.fail(`'map[idx:N]+M' is bpftool's spelling: write map_idx_value(N) + M ll`, t);
    c.fail(`'map[id:...]' names a map of a loaded program: map ids of a loaded program cannot be assembled (write map_fd(FD) ll or map_value(FD) + OFF ll)`, t);
  }
  const kind = PSEUDO_NAMES.get(name);
  if (kind !== undefined && c.is('(', 1)) return parsePseudo(c, d, add, kind);
  c.fail(`unexpected '${clip(name)}' after '='`, t);
}

/** `name((uS *)(rN + off), ...)` or `name(rN + off, ...)` after the `(`. */
function atomicResult(c: Cursor, d: Reg, add: Add, ct: Cast, imm: number, nameCol: number, bare = false): void {
  const a = bare ? addrInner(c) : addr(c);
  if (ct.size !== op.SIZE_W && ct.size !== op.SIZE_DW) c.failAt('atomic operations need a u32 or u64 operand', ct.col);
  c.expect(',');
  if (imm === op.ATOMIC_CMPXCHG) {
    needSame(c, d, 0, 'as the result of cmpxchg');
    const cmp = reg(c);
    needSame(c, cmp, 0, 'as the value cmpxchg compares with');
    c.expect(',');
  }
  const s = reg(c);
  c.expect(')');
  if (imm !== op.ATOMIC_CMPXCHG) needSame(c, s, d.reg, `as the result register '${d.text}'`);
  if (ct.size === op.SIZE_DW) {
    needWidth(c, d, false, 'for a 64-bit atomic');
    needWidth(c, s, false, 'for a 64-bit atomic');
  }
  const i = op.insn(op.CLS_STX | op.MODE_ATOMIC | ct.size, { dst: a.base, src: s.reg, off: a.off, imm });
  add(i, { dst: a.baseCol, src: s.col, off: a.offCol, imm: nameCol });
}

function parsePseudo(c: Cursor, d: Reg, add: Add, kind: number): void {
  const kindCol = c.next().col;
  c.expect('(');
  needWidth(c, d, false, 'for a 64-bit load');
  const cols: Cols = { dst: d.col, src: kindCol, imm: c.col() };
  let imm: number;
  let ref;
  if (kind === op.PSEUDO_FUNC) {
    const tg = target(c, 'imm');
    imm = tg.value;
    ref = tg.ref;
  } else {
    imm = imm32(c);
  }
  c.expect(')');
  let imm2 = 0;
  if (c.is('+') || c.is('-')) {
    cols.imm2 = c.col();
    imm2 = plusOffset(c, toImm32);
  }
  c.eat('ll');
  add(op.insn(op.OP_LDDW, { dst: d.reg, src: kind, imm, imm2 }), cols, ref);
}

/** `rN = *(uS *)(rM + off)`, `*(sS *)...`, `*(uS *)skb[imm]`, `*(uS *)skb[rM + imm]`. */
function parseLoad(c: Cursor, d: Reg, add: Add): void {
  c.expect('*');
  const ct = cast(c, true);
  if (c.is('skb')) {
    c.next();
    c.expect('[');
    if (ct.signed || ct.size === op.SIZE_DW) c.failAt('packet loads are u8, u16 or u32', ct.col);
    needSame(c, d, 0, 'for a packet load (it always writes r0)');
    needWidth(c, d, false, 'for a packet load');
    let i;
    const cols: Cols = {};
    if (isReg(c)) {
      const s = reg64(c, 'an index register');
      cols.src = s.col;
      let imm = 0;
      if (c.is('+') || c.is('-')) {
        cols.imm = c.col();
        imm = plusOffset(c, toImm32);
      }
      i = op.insn(op.CLS_LD | op.MODE_IND | ct.size, { src: s.reg, imm });
    } else {
      cols.imm = c.col();
      i = op.insn(op.CLS_LD | op.MODE_ABS | ct.size, { imm: imm32(c) });
    }
    c.expect(']');
    return add(i, cols);
  }
  const a = addr(c);
  if (d.w && (ct.signed || ct.size === op.SIZE_DW)) c.failAt(`'${d.text}' must be a 64-bit register for a (${ct.signed ? 's' : 'u'}${ct.bits} *) load`, d.col);
  const mode = ct.signed ? op.MODE_MEMSX : op.MODE_MEM;
  add(op.insn(op.CLS_LDX | mode | ct.size, { dst: d.reg, src: a.base, off: a.off }), { dst: d.col, src: a.baseCol, off: a.offCol });
}

/** `*(uS *)(rN + off) = rM | wM | imm`. */
export function parseStore(c: Cursor, add: Add): void {
  c.expect('*');
  const ct = cast(c, false);
  const a = addr(c);
  c.expect('=');
  if (isReg(c)) {
    const s = reg(c);
    if (ct.size === op.SIZE_DW) needWidth(c, s, false, 'for a 64-bit store');
    const i = op.insn(op.CLS_STX | op.MODE_MEM | ct.size, { dst: a.base, src: s.reg, off: a.off });
    return add(i, { dst: a.baseCol, src: s.col, off: a.offCol });
  }
  const col = c.col();
  add(op.insn(op.CLS_ST | op.MODE_MEM | ct.size, { dst: a.base, off: a.off, imm: imm32(c) }), { dst: a.baseCol, off: a.offCol, imm: col });
}

/** `lock *(u64 *)(rN + off) += rM` (after `lock`). */
export function parseLockStore(c: Cursor, add: Add): void {
  c.expect('*');
  const ct = cast(c, false);
  const a = addr(c);
  const t = c.next("an atomic operator (+= |= &= ^=)");
  const imm = t.kind === 'punct' ? LOCK_OPS.get(t.text) : undefined;
  if (imm === undefined) c.fail(`expected an atomic operator (+= |= &= ^=), found '${clip(t.text)}'`, t);
  const s = reg(c);
  if (ct.size !== op.SIZE_W && ct.size !== op.SIZE_DW) c.failAt('atomic operations need a u32 or u64 operand', ct.col);
  if (ct.size === op.SIZE_DW) needWidth(c, s, false, 'for a 64-bit atomic');
  const i = op.insn(op.CLS_STX | op.MODE_ATOMIC | ct.size, { dst: a.base, src: s.reg, off: a.off, imm });
  add(i, { dst: a.baseCol, src: s.col, off: a.offCol, imm: t.col });
}

/** `store_release((uS *)(rN + off), rM)` (after `store_release`). */
export function parseStoreRelease(c: Cursor, add: Add): void {
  c.expect('(');
  const ct = cast(c, false);
  const a = addr(c);
  c.expect(',');
  const s = reg(c);
  c.expect(')');
  if (ct.size === op.SIZE_DW) needWidth(c, s, false, 'for a 64-bit store');
  const i = op.insn(op.CLS_STX | op.MODE_ATOMIC | ct.size, { dst: a.base, src: s.reg, off: a.off, imm: op.ATOMIC_STORE_REL });
  add(i, { dst: a.baseCol, src: s.col, off: a.offCol });
}
