import { type FieldProblem, type Instruction, slotIndex, validate } from '../isa/index.js';
import { AsmError } from './errors.js';

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
      const problem = validate(s.insn);
      if (problem) throw new AsmError(`invalid ${problem.field}: ${problem.reason}`, s.line, s.cols[problem.field] ?? s.col);
    });
    return program;
  }
}
