import { encode, type FieldProblem, type Instruction, OP_CALL, OP_LDDW, slotIndex, validate } from '../isa/index.js';
import { AsmError } from './errors.js';
import { clip } from './lexer.js';

type Field = FieldProblem['field'];

/** A jump, call or function reference written as a label. */
export interface LabelRef {
  name: string;
  /** Which field gets the relative target: `off` (16-bit) or `imm` (32-bit). */
  field: 'off' | 'imm';
  col: number;
}

/** One parsed instruction with where each of its operands was written. */
export interface Stmt {
  insn: Instruction;
  line: number;
  /** Column of the mnemonic (or first token). */
  col: number;
  /** Columns of the operands, used to place validation errors. */
  cols: Partial<Record<Field, number>>;
  ref?: LabelRef;
  /**
   * The bytes an `llvm-objdump -d` line shows for this instruction: the
   * assembled instruction must encode to exactly these.
   */
  shown?: ShownBytes;
}

export interface ShownBytes {
  bytes: Uint8Array;
  /** Column of the first byte. */
  col: number;
  /** The instruction text, for the error message. */
  text: string;
}

const hexBytes = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

/** One instruction's bytes, little- or big-endian (a `bpfeb` object's dump shows the latter). */
function encodeOne(i: Instruction, bigEndian: boolean): Uint8Array {
  if (!bigEndian) return encode([i]);
  const out = new Uint8Array(i.opcode === OP_LDDW ? 16 : 8);
  const view = new DataView(out.buffer);
  view.setUint8(0, i.opcode);
  view.setUint8(1, ((i.dst & 0x0f) << 4) | (i.src & 0x0f));
  view.setInt16(2, i.off, false);
  view.setInt32(4, i.imm, false);
  if (i.opcode === OP_LDDW) view.setInt32(12, i.imm2 ?? 0, false);
  return out;
}

/**
 * True when `insn` encodes to the bytes shown, in either byte order. A call
 * or an lddw written without a src register takes it from the bytes, since
 * LLVM prints none for them (`call N` is a helper, local or kfunc call).
 */
function matchShown(insn: Instruction, bytes: Uint8Array): boolean {
  const want = hexBytes(bytes);
  for (const bigEndian of [false, true]) {
    const candidate = { ...insn };
    if ((insn.opcode === OP_CALL || insn.opcode === OP_LDDW) && insn.src === 0 && bytes[0] === insn.opcode) {
      candidate.src = bigEndian ? bytes[1]! & 0x0f : bytes[1]! >> 4;
    }
    if (hexBytes(encodeOne(candidate, bigEndian)) === want) {
      insn.src = candidate.src;
      return true;
    }
  }
  return false;
}

interface LabelDef {
  /** Index of the statement the label precedes. */
  index: number;
  line: number;
  col: number;
}

/**
 * Collects the statements and labels of a program, then resolves labels into
 * relative targets and validates every instruction.
 */
export class ProgramBuilder {
  private readonly stmts: Stmt[] = [];
  private readonly labels = new Map<string, LabelDef>();
  private readonly implicit = new Map<string, number>();

  get count(): number {
    return this.stmts.length;
  }

  label(name: string, line: number, col: number): void {
    const prev = this.labels.get(name);
    if (prev) throw new AsmError(`duplicate label '${name}' (first defined on line ${prev.line})`, line, col);
    this.labels.set(name, { index: this.stmts.length, line, col });
  }

  /**
   * Defines `name` at the next statement unless it is already defined
   * implicitly; an explicit label of the same name always wins.
   */
  implicitLabel(name: string): void {
    if (!this.implicit.has(name)) this.implicit.set(name, this.stmts.length);
  }

  add(stmt: Stmt): void {
    this.stmts.push(stmt);
  }

  finish(lastLine: number): Instruction[] {
    if (this.stmts.length === 0) throw new AsmError('the program has no instructions', Math.max(1, lastLine), 1);
    const program = this.stmts.map((s) => s.insn);
    const { pcs, slots } = slotIndex(program);
    const pcOf = (index: number): number => (index < pcs.length ? pcs[index]! : slots);
    this.stmts.forEach((s, k) => {
      if (s.ref) {
        const r = s.ref;
        const index = this.labels.get(r.name)?.index ?? this.implicit.get(r.name);
        if (index === undefined) throw new AsmError(`undefined label '${r.name}'`, s.line, r.col);
        const delta = pcOf(index) - (pcs[k]! + 1);
        const [lo, hi] = r.field === 'off' ? [-32768, 32767] : [-(2 ** 31), 2 ** 31 - 1];
        if (delta < lo || delta > hi) {
          throw new AsmError(`label '${r.name}' is ${delta} slots away, out of range for a ${r.field === 'off' ? '16' : '32'}-bit target`, s.line, r.col);
        }
        s.insn[r.field] = delta;
      }
      const got = s.shown && hexBytes(encode([s.insn]));
      const matches = !s.shown || matchShown(s.insn, s.shown.bytes);
      const problem = validate(s.insn);
      if (problem) throw new AsmError(`invalid ${problem.field}: ${problem.reason}`, s.line, s.cols[problem.field] ?? s.col);
      if (!matches) {
        throw new AsmError(`'${clip(s.shown!.text)}' assembles to ${got} but the line shows ${hexBytes(s.shown!.bytes)}`, s.line, s.shown!.col);
      }
    });
    return program;
  }
}
