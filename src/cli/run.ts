import { formatInstruction, type Syntax } from '../asm/index.js';
import { slotIndex } from '../isa/index.js';
import { ENGINES, Vm, VmFault, type Engine, type RunResult, type TraceStep } from '../vm/index.js';
import { intFlag, parseArgs, UsageError } from './args.js';
import { loadProgram, readInput, toHex } from './input.js';
import { errorJson, EXIT_FAULT, EXIT_OK, reportError } from './report.js';

/** Untimed runs before the timed ones (at most as many as --repeat asks for). */
const WARMUP_RUNS = 100;

export const RUN_USAGE = `usage: tsbpf run PROG [--mem FILE] [--json] [--trace] [--repeat N] [--budget N] [--engine jit|interp]

Runs PROG (raw little-endian bytecode, or assembly text in either syntax)
unverified, in checked mode. With --mem, r1 points to a copy of FILE and r2
holds its length; without it r1 = r2 = 0. Memory is reset before each run.
The JIT (WebAssembly) is the default engine; --trace runs the interpreter.
Before the timed runs, up to 100 untimed warm-up runs let V8 settle.`;

export async function cmdRun(argv: readonly string[]): Promise<number> {
  const json = argv.includes('--json');
  try {
    const p = parseArgs(argv, ['--mem', '--repeat', '--budget', '--engine', '--syntax'], ['--json', '--trace', '--help']);
    if (p.flags.has('--help')) { process.stdout.write(RUN_USAGE + '\n'); return EXIT_OK; }
    if (p.positionals.length !== 1) throw new UsageError(`run takes one program file\n${RUN_USAGE}`);
    const trace = p.flags.has('--trace');
    const asked = p.flags.get('--engine');
    if (asked !== undefined && !(ENGINES as readonly string[]).includes(asked as string)) {
      throw new UsageError(`unknown engine ${String(asked)} (available: ${ENGINES.join(', ')})`);
    }
    if (trace && asked === 'jit') throw new UsageError('--trace needs the interpreter (--engine interp)');
    const engine: Engine = trace ? 'interp' : ((asked ?? 'jit') as Engine);
    const repeat = intFlag(p, '--repeat', 1);
    const budget = intFlag(p, '--budget', 10_000_000);
    const syntax = (p.flags.get('--syntax') ?? 'llvm') as Syntax;
    if (syntax !== 'llvm' && syntax !== 'ubpf') throw new UsageError(`unknown syntax ${syntax} (llvm or ubpf)`);
    const { insns } = loadProgram(p.positionals[0]!);
    const memFile = p.flags.get('--mem');
    const mem = typeof memFile === 'string' ? readInput(memFile) : new Uint8Array(0);

    const vm = new Vm(insns, { budget, engine });
    const region = mem.length > 0 ? vm.mapBytes('mem', 'mem', mem) : null;
    const args = region ? [BigInt(region.start), BigInt(mem.length)] : [0n, 0n];
    let res: RunResult | undefined;
    const once = (traced: boolean): RunResult => {
      if (region) vm.space.u8.set(mem, region.start);
      return vm.run({ args, packet: region, trace: traced });
    };
    if (engine === 'jit') await vm.prepareJit(); // compilation is not part of ns_per_run
    // Warm-up runs, not timed, so ns_per_run is the engine's and not V8's start-up.
    if (!trace) for (let k = 0; k < Math.min(repeat, WARMUP_RUNS); k++) once(false);
    const t0 = process.hrtime.bigint();
    try {
      for (let k = 0; k < repeat; k++) res = once(trace && k === repeat - 1);
    } catch (e) {
      if (e instanceof VmFault && e.trace) {
        if (json) {
          process.stdout.write(JSON.stringify({ ...errorJson(e), trace: traceJson(e.trace) }) + '\n');
          return EXIT_FAULT;
        }
        process.stdout.write(traceText(e.trace, insns, syntax));
      }
      throw e;
    }
    const ns = Number(process.hrtime.bigint() - t0) / repeat;
    const out = region ? vm.space.bytes(region) : new Uint8Array(0);
    const r0 = `0x${res!.r0.toString(16).padStart(16, '0')}`;
    if (json) {
      const o: Record<string, unknown> = { r0, mem: toHex(out), insns: res!.insns, engine, ns_per_run: Math.round(ns * 10) / 10 };
      if (trace) o['trace'] = traceJson(res!.trace ?? []);
      process.stdout.write(JSON.stringify(o) + '\n');
    } else {
      if (trace) process.stdout.write(traceText(res!.trace ?? [], insns, syntax));
      process.stdout.write(`r0 = ${r0} (${res!.r0})\n`);
      if (region) process.stdout.write(`mem = ${toHex(out)}\n`);
      process.stdout.write(`${res!.insns} instructions, ${ns.toFixed(1)} ns/run over ${repeat} run${repeat > 1 ? 's' : ''} (${engine})\n`);
    }
    return EXIT_OK;
  } catch (e) {
    return reportError(e, json);
  }
}

const hex64 = (v: bigint): string => `0x${v.toString(16)}`;

function traceJson(steps: readonly TraceStep[]): unknown[] {
  return steps.map((s) => ({
    pc: s.pc,
    depth: s.depth,
    changed: Object.fromEntries(s.changed.map((c) => [`r${c.reg}`, hex64(c.value)])),
  }));
}

function traceText(steps: readonly TraceStep[], insns: Parameters<typeof slotIndex>[0], syntax: Syntax): string {
  const { pcs } = slotIndex(insns);
  const byPc = new Map(pcs.map((pc, k) => [pc, insns[k]!]));
  const lines = steps.map((s) => {
    const i = byPc.get(s.pc)!;
    const text = formatInstruction(i, s.pc, syntax);
    const ch = s.changed.map((c) => `r${c.reg}=${hex64(c.value)}`).join(' ');
    return `${'  '.repeat(s.depth)}${String(s.pc).padStart(4)}: ${text.padEnd(36)}${ch ? ` ; ${ch}` : ''}`;
  });
  return lines.join('\n') + '\n';
}
