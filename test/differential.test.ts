/**
 * Differential test: random programs run by the interpreter, by the JIT and
 * by the real Linux kernel (as XDP through BPF_PROG_TEST_RUN) must leave
 * identical packets and return identical values. The programs cover every
 * ALU, jump, load, store and atomic form, plus control flow: forward jumps,
 * if/else, counted loops (backward jumps of every kind), loops bounded only by
 * `may_goto`, and bpf-to-bpf calls up to 4 frames deep, with arguments,
 * pointers to the caller's stack, and callee-saved r6-r9 checked after every
 * call. See test/gen/diff-*.ts. The test also checks that the forms and flow
 * shapes were exercised (backward jumps and call depth as seen in traced
 * interpreter runs).
 *
 * DIFF_RUNS (default 5000) and DIFF_SEED change the number of programs and
 * the seed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { encode } from '../src/isa/index.js';
import { KernelError, ProgType, probeKernel, progLoad, progTestRun } from '../src/kernel/index.js';
import { type TraceStep, runProgram } from '../src/vm/index.js';
import { diffSpec } from './gen/diff-arb.js';
import { expectedFlows, expectedForms, flowForms, formName, listing } from './gen/diff-forms.js';
import { type BuiltProgram, type DiffSpec, DUMP, PACKET, SCALARS, STACK, WORK, build } from './gen/diff-program.js';

const RUNS = Number(process.env['DIFF_RUNS'] ?? 5000);
const SEED = Number(process.env['DIFF_SEED'] ?? 0x7b9f2024);

/** Notes the forms a program has, and the flow forms its run exercised (from a traced interpreter run). */
function noteForms(spec: DiffSpec, prog: BuiltProgram, seen: Set<string>, trace?: readonly TraceStep[]): void {
  for (const i of prog.body) seen.add(formName(i));
  trace ??= runProgram(prog.body, spec.packet, { engine: 'interp', trace: true }).trace!;
  for (const f of flowForms(spec, prog, trace)) seen.add(f);
}

function missingForms(seen: Set<string>): string[] {
  return [...expectedForms(), ...expectedFlows()].filter((f) => !seen.has(f));
}

/** What a byte of the final packet holds. */
function describeByte(at: number): string {
  if (at < WORK) return `work area byte ${at}`;
  const regsEnd = DUMP + SCALARS.length * 8;
  if (at < regsEnd) return `r${SCALARS[(at - DUMP) >> 3]} byte ${(at - DUMP) & 7}`;
  return `stack byte r10${at - regsEnd - STACK}`;
}

const u64At = (b: Uint8Array, at: number): bigint => new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(at, true);
const hex = (v: bigint): string => `0x${v.toString(16).padStart(16, '0')}`;

function explainMismatch(spec: DiffSpec, prog: BuiltProgram, kRet: number, kOut: Uint8Array, vRet: number, vOut: Uint8Array): string {
  const lines = [`kernel and interpreter disagree (retval kernel ${kRet}, vm ${vRet})`];
  const diffs: number[] = [];
  for (let k = 0; k < PACKET; k++) if (kOut[k] !== vOut[k]) diffs.push(k);
  if (kOut.length !== vOut.length) lines.push(`packet length kernel ${kOut.length}, vm ${vOut.length}`);
  const shown = new Set<number>();
  for (const at of diffs.slice(0, 40)) {
    if (at >= DUMP) {
      const word = at - ((at - DUMP) & 7);
      if (shown.has(word)) continue;
      shown.add(word);
      lines.push(`  ${describeByte(word).replace(/ byte 0$/, '')}: kernel ${hex(u64At(kOut, word))}, vm ${hex(u64At(vOut, word))}`);
    } else {
      lines.push(`  ${describeByte(at)}: kernel 0x${kOut[at]!.toString(16)}, vm 0x${vOut[at]!.toString(16)}`);
    }
  }
  lines.push(`program (the body; the vm runs this with r1 = packet, r2 = ${PACKET}; subprograms start at slots ${prog.fnStarts.slice(1).join(', ') || 'none'}):`, listing(prog.body));
  lines.push(`body bytecode: ${Buffer.from(encode(prog.body)).toString('hex')}`);
  lines.push(`input packet: ${Buffer.from(spec.packet).toString('hex')}`);
  return lines.join('\n');
}

test('differential generator: programs are well formed, run in the vm and cover every form (no kernel needed)', () => {
  const seen = new Set<string>();
  const specs = fc.sample(diffSpec(), { numRuns: 1000, seed: SEED ^ 0x5a5a });
  let complete = false;
  specs.forEach((spec, k) => {
    const prog = build(spec);
    const r = runProgram(prog.body, spec.packet, { engine: 'interp', trace: !complete });
    assert.equal(r.mem.length, PACKET);
    if (!complete) {
      noteForms(spec, prog, seen, r.trace);
      complete = k % 64 === 63 && missingForms(seen).length === 0;
    }
  });
  assert.deepEqual(missingForms(seen), [], 'forms the generator never produced');
});

test('differential: kernel vs interpreter vs jit', (t) => {
  const probe = probeKernel();
  if (!probe.usable) {
    const why = `differential test skipped: the kernel's eBPF is not usable (${probe.reason})`;
    console.log(why);
    t.skip(why);
    return;
  }
  const started = performance.now();
  const seen = new Set<string>();
  let compared = 0;
  let mismatches = 0;
  let kernelNs = 0;
  let complete = false;

  fc.assert(
    fc.property(diffSpec(), (spec) => {
      const prog = build(spec);
      let kRet: number;
      let kOut: Uint8Array;
      let loaded;
      try {
        loaded = progLoad({ type: ProgType.XDP, insns: prog.kernel, name: 'tsbpf_diff' });
      } catch (e) {
        if (!(e instanceof KernelError)) throw e;
        const log = e.log.length > 6000 ? `...${e.log.slice(-6000)}` : e.log;
        throw new Error(
          `the verifier rejected a generated program (a generator bug): ${e.message}\n` +
            `verifier log:\n${log}\nkernel program:\n${listing(prog.kernel)}`,
        );
      }
      try {
        const r = progTestRun(loaded, { data: spec.packet });
        kRet = r.retval;
        kOut = r.dataOut;
        kernelNs += r.duration;
      } finally {
        loaded.close();
      }
      compared++;
      // Forms are noted until every expected one has been seen.
      if (!complete) {
        noteForms(spec, prog, seen);
        complete = compared % 64 === 0 && missingForms(seen).length === 0;
      }
      // Kernel vs interpreter, then kernel vs JIT; the JIT must also give the interpreter's full 64-bit r0.
      const interp = runProgram(prog.body, spec.packet, { engine: 'interp' });
      const jit = runProgram(prog.body, spec.packet, { engine: 'jit' });
      for (const [name, v] of [['interpreter', interp], ['jit', jit]] as const) {
        const vRet = Number(BigInt.asUintN(32, v.r0));
        if (kRet !== vRet || kOut.length !== v.mem.length || kOut.some((b, k) => b !== v.mem[k])) {
          mismatches++;
          throw new Error(`kernel vs ${name}:\n${explainMismatch(spec, prog, kRet, kOut, vRet, v.mem)}`);
        }
      }
      if (jit.r0 !== interp.r0 || jit.insns !== interp.insns) {
        mismatches++;
        throw new Error(`jit vs interpreter: r0 0x${jit.r0.toString(16)} vs 0x${interp.r0.toString(16)}, insns ${jit.insns} vs ${interp.insns}\n${listing(prog.body)}`);
      }
    }),
    // A failure is shrunk, but shrinking a verifier rejection reloads programs
    // that take the verifier up to a second each: give up after a while.
    { numRuns: RUNS, seed: SEED, includeErrorInReport: true, interruptAfterTimeLimit: 300_000, markInterruptAsFailure: true },
  );

  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const msg =
    `differential: compared ${compared} programs (kernel vs interpreter vs jit), ${mismatches} mismatches, ` +
    `${seen.size} instruction and flow forms, ${seconds} s (kernel run time ${(kernelNs / 1e6).toFixed(1)} ms)`;
  t.diagnostic(msg);
  assert.ok(compared >= RUNS, `compared ${compared} programs, wanted ${RUNS}`);
  assert.deepEqual(missingForms(seen), [], 'forms the compared programs never used');
});
