// Hostile programs: random valid instruction sequences with random pointers,
// offsets, calls and loops. Whatever they do, a run ends with a result or a
// typed VmFault within its budget, never a JS exception or a hang, and never
// writes outside its own memory.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { runProgram, Vm, VmFault } from '../src/vm/index.js';
import { arbProgram } from './gen/valid-insn.js';

test('random programs end in a result or a typed fault, within the budget', () => {
  const codes = new Map<string, number>();
  let completed = 0;
  fc.assert(
    fc.property(arbProgram({ minLength: 1, maxLength: 40 }), fc.uint8Array({ minLength: 0, maxLength: 64 }), (prog, mem) => {
      try {
        const r = runProgram(prog, mem, { budget: 20_000 });
        assert.ok(r.insns <= 20_000);
        assert.equal(r.mem.length, mem.length);
        completed++;
      } catch (e) {
        if (!(e instanceof VmFault)) throw e;
        codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
        assert.ok(Number.isInteger(e.insn) && e.insn >= 0);
      }
    }),
    { numRuns: 5000, seed: 11 },
  );
  console.log(`vm fuzz: 5000 programs, ${completed} completed, faults: ${JSON.stringify(Object.fromEntries(codes))}`);
  assert.ok((codes.get('EFAULT') ?? 0) > 0 && completed > 0);
});

test('a faulting program leaves every other region of the address space untouched', () => {
  fc.assert(
    fc.property(arbProgram({ minLength: 1, maxLength: 30 }), (prog) => {
      const vm = new Vm(prog, { budget: 5_000 });
      const canary = vm.mapBytes('canary', 'other', new Uint8Array(64).fill(0xa5), false);
      const mem = vm.mapBytes('mem', 'mem', new Uint8Array(32));
      try {
        vm.run({ args: [BigInt(mem.start), 32n] });
      } catch (e) {
        if (!(e instanceof VmFault)) throw e;
      }
      assert.ok(vm.space.bytes(canary).every((b) => b === 0xa5), 'a read-only region changed');
    }),
    { numRuns: 2000, seed: 12 },
  );
});
