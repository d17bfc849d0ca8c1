/**
 * Assembler and disassembler for eBPF in two syntaxes:
 *
 * - `llvm`: the LLVM / kernel syntax (`r0 = 1`, `if r1 > 5 goto +2`), as
 *   printed by `llvm-objdump -d` and the kernel verifier log.
 * - `ubpf`: the uBPF / bpf_conformance syntax (`mov %r0, 1`, `jgt %r1, 5, +2`).
 *
 * The forms of each syntax, including tsbpf's spelling of the Linux
 * extensions, are listed at the top of `llvm-parse.ts` and `ubpf-parse.ts`.
 * This module uses no Node-only API.
 */
import type { Instruction } from '../isa/index.js';
import { type Syntax, detectSyntax } from './detect.js';
import { AsmError } from './errors.js';
import { parseLlvm } from './llvm-parse.js';
import { parseUbpf } from './ubpf-parse.js';

export { AsmError } from './errors.js';
export { detectSyntax, type Syntax } from './detect.js';
export { disassemble, formatInstruction, type DisassembleOptions } from './disasm.js';

export interface AssembleOptions {
  /** Input syntax; guessed with `detectSyntax` when absent. */
  syntax?: Syntax;
}

/**
 * Assembles text into instructions. Every instruction returned passes
 * `validate()`. Any problem (bad mnemonic, register, range, label, operand
 * count, or an empty program) raises an `AsmError` with its line and column.
 */
export function assemble(text: string, opts: AssembleOptions = {}): Instruction[] {
  if (typeof text !== 'string') throw new AsmError('assembly text must be a string', 1, 1);
  const syntax = opts.syntax ?? detectSyntax(text);
  if (syntax !== 'llvm' && syntax !== 'ubpf') throw new AsmError(`unknown syntax '${String(syntax)}'`, 1, 1);
  return syntax === 'ubpf' ? parseUbpf(text) : parseLlvm(text);
}
