// `npm run bench`: the interpreter's speed in ns per executed instruction on
// programs written in assembly in bench/programs. One table, or --json.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { assemble } from '../src/asm/index.js';
import { Vm } from '../src/vm/index.js';

interface Row {
  program: string;
  insns_per_run: number;
  runs: number;
  ns_per_run: number;
  ns_per_insn: number;
  minsn_per_s: number;
}

const DIR = fileURLToPath(new URL('../../bench/programs/', import.meta.url));
const PROGRAMS = ['alu-loop', 'mem-loop', 'calls'];

function bench(name: string): Row {
  const insns = assemble(readFileSync(`${DIR}${name}.s`, 'utf8'));
  const vm = new Vm(insns);
  const input = new Uint8Array(64).map((_, k) => k * 7);
  const mem = vm.mapBytes('mem', 'mem', input);
  const args = [BigInt(mem.start), BigInt(input.length)];
  const once = (): number => {
    vm.space.u8.set(input, mem.start);
    return vm.run({ args, packet: mem }).insns;
  };
  const perRun = once();
  // Warm up, then take the best of several ~100 ms trials: the machines this
  // runs on are shared, and the minimum is the figure least disturbed by them.
  for (let k = 0; k < 200; k++) once();
  let runs = 0;
  let nsPerRun = Infinity;
  for (let trial = 0; trial < 7; trial++) {
    let n = 0;
    const t0 = process.hrtime.bigint();
    let elapsed = 0n;
    while (elapsed < 100_000_000n) {
      for (let k = 0; k < 20; k++) once();
      n += 20;
      elapsed = process.hrtime.bigint() - t0;
    }
    runs += n;
    nsPerRun = Math.min(nsPerRun, Number(elapsed) / n);
  }
  return {
    program: name,
    insns_per_run: perRun,
    runs,
    ns_per_run: round(nsPerRun),
    ns_per_insn: round(nsPerRun / perRun, 2),
    minsn_per_s: round(1000 / (nsPerRun / perRun)),
  };
}

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

const rows = PROGRAMS.map(bench);
if (process.argv.includes('--json')) {
  process.stdout.write(JSON.stringify({ engine: 'interp', node: process.version, results: rows }, null, 2) + '\n');
} else {
  const head = ['program', 'insns/run', 'ns/run', 'ns/insn', 'M insn/s'];
  const body = rows.map((r) => [r.program, String(r.insns_per_run), r.ns_per_run.toFixed(1), r.ns_per_insn.toFixed(2), r.minsn_per_s.toFixed(1)]);
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((b) => b[c]!.length)));
  const line = (cells: string[]): string => cells.map((x, c) => (c === 0 ? x.padEnd(widths[c]!) : x.padStart(widths[c]!))).join('  ');
  console.log(`tsbpf interpreter, ${process.version}`);
  console.log(line(head));
  for (const b of body) console.log(line(b));
}
