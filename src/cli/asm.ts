import { writeFileSync } from 'node:fs';
import { assemble, disassemble, type Syntax } from '../asm/index.js';
import { decode, encode } from '../isa/index.js';
import { parseArgs, UsageError } from './args.js';
import { InputError, looksLikeText, readInput, toHex } from './input.js';
import { EXIT_OK, reportError } from './report.js';

export const ASM_USAGE = `usage: tsbpf asm FILE [-o OUT]
Assembles FILE (either syntax, detected) to little-endian bytecode. Without -o,
the bytes go to stdout (as hex when stdout is a terminal).`;

export const DISASM_USAGE = `usage: tsbpf disasm FILE [--syntax llvm|ubpf]
Disassembles raw bytecode (or re-prints assembly text) in the chosen syntax.`;

export function cmdAsm(argv: readonly string[]): number {
  try {
    const p = parseArgs(argv, ['-o', '--syntax'], ['--help']);
    if (p.flags.has('--help')) { process.stdout.write(ASM_USAGE + '\n'); return EXIT_OK; }
    if (p.positionals.length !== 1) throw new UsageError(`asm takes one source file\n${ASM_USAGE}`);
    const src = readInput(p.positionals[0]!);
    const syntax = p.flags.get('--syntax');
    if (syntax !== undefined && syntax !== 'llvm' && syntax !== 'ubpf') throw new UsageError(`unknown syntax ${String(syntax)}`);
    const bytes = encode(assemble(new TextDecoder().decode(src), syntax ? { syntax: syntax as Syntax } : {}));
    const outPath = p.flags.get('-o');
    if (typeof outPath === 'string') {
      try {
        writeFileSync(outPath, bytes);
      } catch (e) {
        throw new InputError(outPath, (e as Error).message);
      }
    } else if (process.stdout.isTTY) {
      process.stdout.write(toHex(bytes).replace(/(.{16})/g, '$1\n'));
    } else {
      process.stdout.write(bytes);
    }
    return EXIT_OK;
  } catch (e) {
    return reportError(e, false);
  }
}

export function cmdDisasm(argv: readonly string[]): number {
  try {
    const p = parseArgs(argv, ['--syntax'], ['--help', '--no-labels']);
    if (p.flags.has('--help')) { process.stdout.write(DISASM_USAGE + '\n'); return EXIT_OK; }
    if (p.positionals.length !== 1) throw new UsageError(`disasm takes one bytecode file\n${DISASM_USAGE}`);
    const syntax = (p.flags.get('--syntax') ?? 'llvm') as Syntax;
    if (syntax !== 'llvm' && syntax !== 'ubpf') throw new UsageError(`unknown syntax ${String(syntax)} (llvm or ubpf)`);
    const bytes = readInput(p.positionals[0]!);
    const insns = looksLikeText(bytes) ? assemble(new TextDecoder().decode(bytes)) : decode(bytes);
    const text = disassemble(insns, { syntax, labels: !p.flags.has('--no-labels') });
    process.stdout.write(text.endsWith('\n') ? text : text + '\n');
    return EXIT_OK;
  } catch (e) {
    return reportError(e, false);
  }
}
