import { branchTarget, type Instruction, slotIndex, validate } from '../isa/index.js';
import type { Syntax } from './detect.js';
import { formatLlvm } from './llvm-print.js';
import { formatUbpf } from './ubpf-print.js';

export interface DisassembleOptions {
  /** Output syntax; default `llvm`. */
  syntax?: Syntax;
  /**
   * Name jump, call and `func` targets with generated labels (`L1:` in uBPF
   * syntax, `LBB0_1:` in LLVM syntax) so that the text re-assembles; default
   * true. Targets outside the program or inside an lddw stay relative.
   */
  labels?: boolean;
  /** Prefix each instruction with its slot index (`12: `); default false. */
  pcs?: boolean;
}

/**
 * Formats one instruction on one line; jump targets are relative (`+N` /
 * `-N`, `pc+N` for LLVM-syntax local calls). `pc` is the instruction's slot
 * index; it only matters for instructions that fail `validate()`, which are
 * printed as a line that does not assemble.
 */
export function formatInstruction(insn: Instruction, pc: number, syntax: Syntax = 'llvm'): string {
  return format(insn, pc, syntax);
}

function format(insn: Instruction, pc: number, syntax: Syntax, label?: string): string {
  const problem = validate(insn);
  if (problem) {
    const fields = `opcode=0x${insn.opcode.toString(16).padStart(2, '0')} dst=${insn.dst} src=${insn.src} off=${insn.off} imm=${insn.imm}`;
    return `.invalid ${fields}${insn.imm2 !== undefined ? ` imm2=${insn.imm2}` : ''} ; pc ${pc}: ${problem.field}: ${problem.reason}`;
  }
  return syntax === 'ubpf' ? formatUbpf(insn, label) : formatLlvm(insn, label);
}

/** Prints a program, one instruction per line, with a trailing newline. */
export function disassemble(program: readonly Instruction[], opts: DisassembleOptions = {}): string {
  const syntax = opts.syntax ?? 'llvm';
  const { pcs, slots } = slotIndex(program);
  const names = new Map<number, string>();
  if (opts.labels ?? true) {
    const starts = new Set(pcs);
    const targets = new Set<number>();
    program.forEach((insn, k) => {
      if (validate(insn)) return;
      const t = branchTarget(insn, pcs[k]!);
      if (t !== null && t >= 0 && t < slots && starts.has(t)) targets.add(t);
    });
    const prefix = syntax === 'ubpf' ? 'L' : 'LBB0_';
    [...targets].sort((a, b) => a - b).forEach((t, n) => names.set(t, `${prefix}${n + 1}`));
  }
  const width = String(Math.max(0, slots - 1)).length;
  const out: string[] = [];
  program.forEach((insn, k) => {
    const pc = pcs[k]!;
    const name = names.get(pc);
    if (name) out.push(`${name}:`);
    const t = names.size > 0 && !validate(insn) ? branchTarget(insn, pc) : null;
    const label = t === null ? undefined : names.get(t);
    const text = format(insn, pc, syntax, label);
    out.push(opts.pcs ? `${String(pc).padStart(width)}: ${text}` : text);
  });
  return out.length ? `${out.join('\n')}\n` : '';
}
