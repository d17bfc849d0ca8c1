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
 * an lddw; without it, `rN = K` is an ALU64 `mov` of a sign-extended 32-bit
 * immediate (as llvm-mc reads it: `r1 = -1` and `r1 = 0xffffffff` both set r1
 * to all ones) and `wN = K` is the 32-bit `mov`.
 *
 * Labels are `name:` (e.g. `LBB0_2:`). Comments: `;`, `//`, `#`, anywhere on
 * a line (`exit# done`); only the `#` of the kernel's `call NAME#N` is not one.
 *
 * Tool output reads as is:
 * - `llvm-objdump -d` / `-dr` (LLVM 14 to 19): the file and section headers
 *   and relocation lines (`0000000000000038:  R_BPF_64_64  counters`) are
 *   skipped; symbol lines (`0000000000000000 <func>:`) define labels; the
 *   index and raw bytes before an instruction are skipped, and an annotation
 *   after a jump or call target (`<LBB0_2>`, `<prog+0x2c8>`) is ignored. The
 *   raw bytes are checked: the instruction must encode to exactly the bytes
 *   shown (little- or big-endian), except that a `call` or an lddw takes its
 *   src register from them (LLVM prints `call N` for a helper, a local and a
 *   kfunc call alike). `<unknown>` (what llvm-objdump 14 prints for v4
 *   instructions) assembles to the bytes shown, read little-endian. So an
 *   edited line whose bytes were left stale is an error: delete the bytes
 *   along with the edit.
 * - The kernel verifier log: instruction lines `12: (b7) r0 = 1` (the
 *   register state after `;` is a comment) and the log_level 2 listing
 *   `  1  12: .1.345.... (b7) r0 = 1` (loop number, index, liveness marks,
 *   prune-point mark), with its header lines `func#N @M` and
 *   `Live regs before insn:`. The opcode in parentheses is checked: the
 *   instruction must assemble to it, and `(18) r1 = 0x5` is an lddw (the
 *   kernel prints lddw without `ll`). The rest of a log (register state lines
 *   such as `0: R1=ctx() R10=fp0`, `from 12 to 8:` and `mark_precise:` lines,
 *   the repeated instructions of each path) is not assembly and is refused:
 *   assemble the "Live regs" listing, which holds every instruction once.
 *   A map in a verifier log is a kernel address (`(18) r1 = 0xffff...`) and
 *   assembles as that constant; bpftool's `map[id:5]` / `map[id:5][0]+16`
 *   is refused, since a map id cannot be turned back into a file descriptor.
 *   A kfunc call prints like a helper call (`call NAME#ID`) and assembles as
 *   one.
 */
import * as op from '../isa/index.js';
import type { Instruction } from '../isa/index.js';
import { Cursor } from './cursor.js';
import { AsmError } from './errors.js';
import { clip, type IndexPrefix, splitIndexPrefix, splitLines, tokenize } from './lexer.js';
import { type Add, isReg, needWidth, reg, REG_RE, skipAnnotation, target } from './llvm-operands.js';
import { parseAssign, parseLockStore, parseStore, parseStoreRelease } from './llvm-mem.js';
import { imm32, off16, startsNum } from './numbers.js';
import { ProgramBuilder } from './program.js';
import { LLVM_ALU, LLVM_JMP } from './vocab.js';

/** `llvm-objdump -d` headers: `x.o:\tfile format elf64-bpf`, `Disassembly of section .text:`. */
const OBJDUMP_NOISE = /^\S.*:\s+file format \S+\s*$|^Disassembly of section \S+:\s*$/;
/** `llvm-objdump -dr` relocation lines: `\t\t0000000000000038:  R_BPF_64_64\tcounters`. */
const OBJDUMP_RELOC = /^\s*[0-9a-fA-F]+:\s+R_[A-Za-z0-9_]+(?:\s.*)?$/;
/** `llvm-objdump -d` symbol lines (`0000000000000000 <func>:`, `<L0>:`) define labels. */
const OBJDUMP_SYMBOL = /^\s*(?:[0-9a-fA-F]+\s+)?<([A-Za-z_.][\w.]*)>:\s*$/;
/** Verifier log headers: `func#1 @17`, `Live regs before insn:` (and its longer later forms). */
const VERIFIER_NOISE = /^\s*func#\d+ @\d+\s*$|^\s*Live regs before insn\b[^:]*:\s*$/;
/** Verifier register state: `R1=ctx() R10=fp0`, `frame1: R1=1`, `R0_w=1`. */
const VERIFIER_STATE = /^\s*(?:frame\d+:\s*)?R\d+(?:_\w+)?=/;

export function parseLlvm(text: string): Instruction[] {
  const b = new ProgramBuilder();
  const lines = splitLines(text);
  lines.forEach((raw, k) => {
    const line = k + 1;
    if (OBJDUMP_NOISE.test(raw) || OBJDUMP_RELOC.test(raw) || VERIFIER_NOISE.test(raw)) return;
    const sym = OBJDUMP_SYMBOL.exec(raw);
    if (sym) return b.label(sym[1]!, line, raw.indexOf('<') + 2);
    const pre = splitIndexPrefix(raw);
    const src = pre.text;
    const dash = /^\s*--/.exec(src);
    if (dash) throw new AsmError(`unknown directive '${clip(src.trim())}'`, line, dash[0].length - 1);
    const state = VERIFIER_STATE.exec(src);
    if (state) {
      throw new AsmError(
        'verifier state, not an instruction: of a verifier log only the instruction lines assemble (its "Live regs before insn" listing holds them all)',
        line, state[0].search(/\S/) + 1);
    }
    const c = new Cursor(tokenize(src, line, { hashAfterIdent: true }), line, src.length + 1);
    while (c.peek()?.kind === 'ident' && c.is(':', 1)) {
      const t = c.next();
      if (REG_RE.test(t.text)) c.fail(`'${t.text}' is a register name, not a label`, t);
      c.next();
      b.label(t.text, line, t.col);
    }
    if (!c.atEnd()) parseInsn(c, b, pre, src);
    else if (pre.opcode || pre.bytes) c.fail('expected an instruction after the index');
  });
  return b.finish(lines.length);
}

/** The instruction as its bytes show it, for llvm-objdump's `<unknown>`. */
function fromBytes(c: Cursor, pre: IndexPrefix): Instruction {
  const at = c.peek()!;
  if (!pre.bytes) c.fail('<unknown>: llvm-objdump could not decode this instruction, and without its bytes there is nothing to assemble', at);
  try {
    const [i, ...rest] = op.decode(pre.bytes.value);
    if (!i || rest.length) c.failAt('the bytes shown are not one instruction', pre.bytes.col);
    return i;
  } catch (e) {
    if (e instanceof op.DecodeError) c.failAt(`<unknown>: the bytes shown are not a valid instruction: ${e.message.replace(/^instruction \d+: /, '')}`, pre.bytes.col);
    throw e;
  }
}

function parseInsn(c: Cursor, b: ProgramBuilder, pre: IndexPrefix, src: string): void {
  const first = c.peek()!;
  const shown = pre.bytes && { bytes: pre.bytes.value, col: pre.bytes.col, text: src.slice(first.col - 1).trim() };
  const add: Add = (insn, cols, ref) => {
    c.end();
    if (pre.opcode && insn.opcode !== pre.opcode.value) {
      const hex2 = (n: number): string => n.toString(16).padStart(2, '0');
      c.failAt(`the opcode (${hex2(pre.opcode.value)}) does not match the instruction, which assembles to opcode 0x${hex2(insn.opcode)}`, pre.opcode.col);
    }
    b.add({ insn, line: c.line, col: first.col, cols, ...(ref ? { ref } : {}), ...(shown ? { shown } : {}) });
  };
  if (c.is('<') && c.is('unknown', 1) && c.is('>', 2)) {
    const i = fromBytes(c, pre);
    c.next();
    c.next();
    c.next();
    c.end();
    return b.add({ insn: i, line: c.line, col: first.col, cols: {} });
  }
  const opcode = pre.opcode?.value ?? pre.bytes?.value[0];
  if (first.kind === 'ident' && REG_RE.test(first.text)) return parseRegLine(c, add, opcode === op.OP_LDDW);
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
    const imm = imm32(c, 'a helper number');
    skipAnnotation(c);
    return add(op.insn(op.OP_CALL, { imm }), { imm: col });
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
function parseRegLine(c: Cursor, add: Add, lddw: boolean): void {
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
  parseAssign(c, d, add, lddw);
}

/** True when a number (with an optional sign) starts `k` tokens ahead. */
function numAt(c: Cursor, k: number): boolean {
  const t = c.peek(k);
  if (t?.kind === 'num') return true;
  return (c.is('-', k) || c.is('+', k)) && c.peek(k + 1)?.kind === 'num';
}
