// Hostile programs: random valid instruction sequences with wild pointers,
// offsets, calls, loops and divisions by zero. Whatever they do, a run ends
// with a result or a typed VmFault within its budget — never a JS exception
// or a hang — and the JIT ends exactly as the interpreter does: the same
// result, or the same fault at the same instruction and address.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Instruction } from '../src/isa/index.js';
import { runProgram, Vm, VmFault, type Engine } from '../src/vm/index.js';
import { arbProgram } from './gen/valid-insn.js';

type Outcome =
  | { kind: 'result'; r0: bigint; insns: number; mem: string }
  | { kind: 'fault'; code: string; insn: number; address: bigint | null; region: string | null; message: string };

function outcome(prog: Instruction[], mem: Uint8Array, engine: Engine, budget: number): Outcome {
  try {
    const r = runProgram(prog, mem, { budget, engine });
    assert.ok(r.insns <= budget);
    assert.equal(r.mem.length, mem.length);
    return { kind: 'result', r0: r.r0, insns: r.insns, mem: Buffer.from(r.mem).toString('hex') };
  } catch (e) {
    if (!(e instanceof VmFault)) throw e;
    assert.ok(Number.isInteger(e.insn) && e.insn >= 0);
    return { kind: 'fault', code: e.code, insn: e.insn, address: e.address, region: e.region, message: e.message };
  }
}

test('random programs end alike in the interpreter and the JIT: a result or the same typed fault', () => {
  const counts = new Map<string, number>();
  fc.assert(
    fc.property(
      arbProgram({ minLength: 1, maxLength: 40 }),
      fc.uint8Array({ minLength: 0, maxLength: 64 }),
      fc.constantFrom(50, 1000, 20_000),
      (prog, mem, budget) => {
        const interp = outcome(prog, mem, 'interp', budget);
        const jit = outcome(prog, mem, 'jit', budget);
        assert.deepEqual(jit, interp);
        const key = interp.kind === 'result' ? 'result' : interp.code;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      },
    ),
    { numRuns: 4000, seed: 11 },
  );
  console.log(`vm fuzz: 4000 programs, interpreter and JIT agree; outcomes ${JSON.stringify(Object.fromEntries(counts))}`);
  for (const k of ['result', 'EFAULT', 'EBUDGET', 'EBADPROG', 'EHELPER', 'ECALLDEPTH']) assert.ok((counts.get(k) ?? 0) > 0, `no ${k} outcome`);
});

test('a faulting program leaves every other region of the address space untouched', () => {
  for (const engine of ['interp', 'jit'] as const) {
    fc.assert(
      fc.property(arbProgram({ minLength: 1, maxLength: 30 }), (prog) => {
        const vm = new Vm(prog, { budget: 5_000, engine });
        const canary = vm.mapBytes('canary', 'other', new Uint8Array(64).fill(0xa5), false);
        const mem = vm.mapBytes('mem', 'mem', new Uint8Array(32));
        try {
          vm.run({ args: [BigInt(mem.start), 32n] });
        } catch (e) {
          if (!(e instanceof VmFault)) throw e;
        }
        assert.ok(vm.space.bytes(canary).every((b) => b === 0xa5), `${engine}: a read-only region changed`);
      }),
      { numRuns: 1000, seed: 12 },
    );
  }
});
