import { readFileSync } from 'node:fs';
import { decode } from '../isa/index.js';
// The runner starts one process per test: import only what a run needs, not the whole vm surface.
import { ENGINES, runProgram, type Engine } from '../vm/vm.js';
import { UsageError } from './args.js';
import { parseHex } from './hex.js';
import { EXIT_BAD_INPUT, EXIT_FAULT, EXIT_OK } from './report.js';
import { TsbpfError } from '../errors.js';
import { VmFault } from '../vm/errors.js';

export const PLUGIN_USAGE = `usage: tsbpf conformance-plugin [MEMORY-HEX] [--engine jit|interp]

Speaks the plugin protocol of the bpf_conformance runner: the program arrives
on stdin as hex bytes, the input memory as the first argument (hex bytes,
possibly empty). Prints r0 in hex and exits 0, or prints the error on stderr
and exits non-zero. Options may also arrive packed in one argument, as the
runner's --plugin_options passes them.`;

/** Splits the runner's arguments into memory hex and options. */
export function parsePluginArgs(argv: readonly string[]): { memHex: string; engine: Engine } {
  const tokens = argv.flatMap((a) => a.split(/\s+/).filter((t) => t.length > 0));
  const memParts: string[] = [];
  let engine = 'jit';
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t === '--engine') {
      const v = tokens[++k];
      if (v === undefined) throw new UsageError('--engine needs a value');
      engine = v;
    } else if (t.startsWith('--engine=')) {
      engine = t.slice('--engine='.length);
    } else if (t.startsWith('-')) {
      throw new UsageError(`unknown option ${t}`);
    } else {
      memParts.push(t);
    }
  }
  if (!(ENGINES as readonly string[]).includes(engine)) throw new UsageError(`unknown engine ${engine} (available: ${ENGINES.join(', ')})`);
  return { memHex: memParts.join(''), engine: engine as Engine };
}

/** Runs one program as the runner would; returns the output line or throws. */
export function pluginRun(programHex: string, memHex: string, engine: Engine = 'jit'): string {
  const insns = decode(parseHex(programHex, 'the program on stdin'));
  const mem = parseHex(memHex, 'the memory argument');
  const { r0 } = runProgram(insns, mem, { engine });
  return `0x${r0.toString(16)}`;
}

export function cmdConformancePlugin(argv: readonly string[]): number {
  if (argv.includes('--help')) { process.stdout.write(PLUGIN_USAGE + '\n'); return EXIT_OK; }
  try {
    const { memHex, engine } = parsePluginArgs(argv);
    const program = readFileSync(0, 'utf8');
    process.stdout.write(pluginRun(program, memHex, engine) + '\n');
    return EXIT_OK;
  } catch (e) {
    const msg = e instanceof TsbpfError ? `[${e.code}] ${e.message}` : String(e);
    process.stderr.write(msg + '\n');
    return e instanceof VmFault ? EXIT_FAULT : EXIT_BAD_INPUT;
  }
}
