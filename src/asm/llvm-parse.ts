/**
 * Assembler for the LLVM / kernel syntax: what `llvm-objdump -d` and the
 * kernel verifier log print.
 *
 *   r0 = 1   w0 = w1   r0 += r1   w0 -= -3   r0 s>>= 3   r0 s/= r1   r0 s%= 3
 *   r0 = -r0   r0 = (s8)r1   w0 = (s16)w1   r0 = be16 r0   r0 = le32 r0   r0 = bswap64 r0
 *   r0 = 0x1122334455667788 ll
 *   r0 = *(u32 *)(r1 + 4)   r0 = *(s8 *)(r1 - 2)   w0 = *(u16 *)(r1 + 0)
 *   *(u32 *)(r10 - 8) = w1   *(u64 *)(r10 - 8) = 5
 *   lock *(u64 *)(r10 - 8) += r1   (also |= &= ^=)
 *   r1 = atomic_fetch_add((u64 *)(r10 - 8), r1)   (_and _or _xor; atomic64_fetch_* too)
 *   r1 = xchg_64(r10 - 8, r1)   w1 = xchg32_32(r10 - 8, w1)
 *   r0 = cmpxchg_64(r10 - 8, r0, r1)   w0 = cmpxchg32_32(r10 - 8, w0, w1)
 *   r0 = load_acquire((u64 *)(r1 + 0))   store_release((u64 *)(r1 + 0), r2)
 *   if r1 > 0x64 goto +1   if w1 s<= w2 goto label   (== != > >= < <= s> s>= s< s<= &)
 *   goto +5   gotol +100000   may_goto +3   (targets may also be `pc+5` or a label)
 *   call 1   call bpf_map_lookup_elem#1   call pc+3   call label   call kfunc 7   call kfunc 7, 1
 *   callx r2 (alias: call r2)   exit
 *
 * Extension forms (tsbpf's choice, following the kernel's printer):
 *   r0 = addr_space_cast(r1, D, S)     ALU64 MOV X off=1, imm = D << 16 | S
 *   r0 = *(u8 *)skb[12]                LD_ABS (dst is always r0)
 *   r0 = *(u16 *)skb[r3 + 12]          LD_IND
 *   r1 = map_fd(3) ll                  lddw src 1
 *   r1 = map_value(3) + 16 ll          lddw src 2, imm2 = 16
 *   r1 = btf_id(5) ll                  lddw src 3 (`+ N` when imm2 is nonzero)
 *   r1 = func(+3) ll | func(label) ll  lddw src 4, imm = relative target
 *   r1 = map_idx(0) ll                 lddw src 5
 *   r1 = map_idx_value(0) + 16 ll      lddw src 6, imm2 = 16
 * The `ll` of the pseudo forms is optional. A plain constant needs `ll` to be
 * an lddw; without it, it is a 32-bit `mov`.
 *
 * Labels are `name:` (e.g. `LBB0_2:`). Comments: `;`, `//`, `#`. A leading
 * instruction index (`12:`), with objdump's raw bytes or the verifier's
 * `(b7)` opcode after it, is skipped. `llvm-objdump -d` output reads as is:
 * its symbol lines (`0000000000000000 <func>:`) define labels, its file and
 * section headers are skipped, and a `<LBB0_2>` after a jump target is ignored.
 */
import * as op from '../isa/index.js';
import type { Instruction } from '../isa/index.js';
import { Cursor } from './cursor.js';
import { AsmError } from './errors.js';
import { clip, splitLines, stripIndexPrefix, tokenize } from './lexer.js';
import { type Add, isReg, needWidth, reg, REG_RE, target } from './llvm-operands.js';
import { parseAssign, parseLockStore, parseStore, parseStoreRelease } from './llvm-mem.js';
import { imm32, off16, startsNum } from './numbers.js';
import { ProgramBuilder } from './program.js';
import { LLVM_ALU, LLVM_JMP } from './vocab.js';

/** `llvm-objdump -d` headers: `x.o:\tfile format elf64-bpf`, `Disassembly of section .text:`. */
const OBJDUMP_NOISE = /^\S.*:\s+file format \S+\s*$|^Disassembly of section \S+:\s*$/;
/** `llvm-objdump -d` symbol lines (`0000000000000000 <func>:`, `<L0>:`) define labels. */
const OBJDUMP_SYMBOL = /^\s*(?:[0-9a-fA-F]+\s+)?<([A-Za-z_.][\w.]*)>:\s*$/;

export function parseLlvm(text: string): Instruction[] {
  const b = new ProgramBuilder();
  const lines = splitLines(text);
  lines.forEach((raw, k) => {
    const line = k + 1;
    if (OBJDUMP_NOISE.test(raw)) return;
    const sym = OBJDUMP_SYMBOL.exec(raw);
    if (sym) return b.label(sym[1]!, line, raw.indexOf('<') + 2);
    const src = stripIndexPrefix(raw);
    const dash = /^\s*--/.exec(src);
    if (dash) throw new AsmError(`unknown directive '${clip(src.trim())}'`, line, dash[0].length - 1);
    const c = new Cursor(tokenize(src, line, { hashAfterIdent: true }), line, src.length + 1);
    while (c.peek()?.kind === 'ident' && c.is(':', 1)) {
      const t = c.next();
      if (REG_RE.test(t.text)) c.fail(`'${t.text}' is a register name, not a label`, t);
      c.next();
      b.label(t.text, line, t.col);
    }
    if (!c.atEnd()) parseInsn(c, b);
  });
  return b.finish(lines.length);
}

function parseInsn(c: Cursor, b: ProgramBuilder): void {
  const first = c.peek()!;
  const add: Add = (insn, cols, ref) => {
    c.end();
    b.add({ insn, line: c.line, col: first.col, cols, ...(ref ? { ref } : {}) });
  };
  if (first.kind === 'ident' && REG_RE.test(first.text)) return parseRegLine(c, add);
  if (c.is('*')) return parseStore(c, add);
  if (first.kind !== 'ident') c.fail(`unexpected '${clip(first.text)}' at the start of an instruction`, first);
  c.next();
  switch (first.text) {
    case 'exit':
      return add(op.insn(op.OP_EXIT), {});
    case 'goto':
    case 'may_goto': {
      const t = target(c, 'off');
      return add(op.insn(first.text === 'goto' ? op.OP_JA : op.OP_MAY_GOTO, { off: t.value }), { off: t.col }, t.ref);
    }
    case 'gotol': {
      const t = target(c, 'imm');
      return add(op.insn(op.OP_JA32, { imm: t.value }), { imm: t.col }, t.ref);
    }
    case 'if':
      return parseIf(c, add);
    case 'call':
      return parseCall(c, add);
    case 'callx': {
      const d = reg(c);
      needWidth(c, d, false, 'in callx');
      return add(op.insn(op.OP_CALLX, { dst: d.reg }), { dst: d.col });
    }
    case 'lock':
      return parseLockStore(c, add);
    case 'store_release':
      return parseStoreRelease(c, add);
    default:
      c.fail(`unknown instruction '${clip(first.text)}'`, first);
  }
}

function parseIf(c: Cursor, add: Add): void {
  const d = reg(c);
  const t = c.next('a comparison operator');
  const code = t.kind === 'punct' ? LLVM_JMP.get(t.text) : undefined;
  if (code === undefined) c.fail(`expected a comparison operator (== != > >= < <= s> s>= s< s<= &), found '${clip(t.text)}'`, t);
  const cls = d.w ? op.CLS_JMP32 : op.CLS_JMP;
  let i: Instruction;
  const cols: Parameters<Add>[1] = { dst: d.col };
  if (isReg(c)) {
    const s = reg(c);
    needWidth(c, s, d.w, `to compare with '${d.text}'`);
    i = op.insn(cls | code | op.SRC_X, { dst: d.reg, src: s.reg });
    cols.src = s.col;
  } else {
    cols.imm = c.col();
    i = op.insn(cls | code | op.SRC_K, { dst: d.reg, imm: imm32(c) });
  }
  c.expect('goto');
  const tg = target(c, 'off');
  i.off = tg.value;
  cols.off = tg.col;
  add(i, cols, tg.ref);
}

function parseCall(c: Cursor, add: Add): void {
  const t = c.peek();
  if (!t) c.fail('expected a helper number, pc+N, a label, kfunc N or a register');
  if (startsNum(c)) {
    const col = c.col();
    return add(op.insn(op.OP_CALL, { imm: imm32(c, 'a helper number') }), { imm: col });
  }
  if (t.kind !== 'ident') c.fail(`expected a call target, found '${clip(t.text)}'`, t);
  if (REG_RE.test(t.text)) {
    const d = reg(c);
    needWidth(c, d, false, 'in callx');
    return add(op.insn(op.OP_CALLX, { dst: d.reg }), { dst: d.col });
  }
  if (t.text === 'kfunc' && numAt(c, 1)) {
    c.next();
    const col = c.col();
    const imm = imm32(c, 'a kfunc id');
    let off = 0;
    let offCol = col;
    if (c.eat(',')) {
      offCol = c.col();
      off = off16(c);
    }
    return add(op.insn(op.OP_CALL, { src: op.CALL_KFUNC, imm, off }), { imm: col, off: offCol });
  }
  if (c.is('#', 1)) {
    // Kernel log: `call bpf_map_lookup_elem#1`.
    c.next();
    c.next();
    const col = c.col();
    return add(op.insn(op.OP_CALL, { imm: imm32(c, 'a helper number') }), { imm: col });
  }
  const tg = target(c, 'imm');
  add(op.insn(op.OP_CALL, { src: op.CALL_LOCAL, imm: tg.value }), { imm: tg.col }, tg.ref);
}

/** Lines that start with a register: ALU, mov and every load. */
function parseRegLine(c: Cursor, add: Add): void {
  const d = reg(c);
  const t = c.next("'=' or an operator such as '+='");
  const alu = t.kind === 'punct' ? LLVM_ALU.get(t.text) : undefined;
  if (alu) {
    const cls = d.w ? op.CLS_ALU : op.CLS_ALU64;
    if (isReg(c)) {
      const s = reg(c);
      needWidth(c, s, d.w, `to combine with '${d.text}'`);
      return add(op.insn(cls | alu.code | op.SRC_X, { dst: d.reg, src: s.reg, off: alu.off }), { dst: d.col, src: s.col });
    }
    const col = c.col();
    return add(op.insn(cls | alu.code | op.SRC_K, { dst: d.reg, off: alu.off, imm: imm32(c) }), { dst: d.col, imm: col });
  }
  if (t.kind !== 'punct' || t.text !== '=') c.fail(`expected '=' or an operator such as '+=', found '${clip(t.text)}'`, t);
  parseAssign(c, d, add);
}

/** True when a number (with an optional sign) starts `k` tokens ahead. */
function numAt(c: Cursor, k: number): boolean {
  const t = c.peek(k);
  if (t?.kind === 'num') return true;
  return (c.is('-', k) || c.is('+', k)) && c.peek(k + 1)?.kind === 'num';
}
