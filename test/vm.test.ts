import assert from 'node:assert/strict';
import { test } from 'node:test';
import { insn, splitImm64, type Instruction } from '../src/isa/index.js';
import * as O from '../src/isa/opcodes.js';
import { HelperRegistry, runProgram, Vm, VmFault, defaultHelpers } from '../src/vm/index.js';

const mov = (dst: number, imm: number): Instruction => insn(0xb7, { dst, imm });
const movr = (dst: number, src: number): Instruction => insn(0xbf, { dst, src });
const exit = (): Instruction => insn(O.OP_EXIT);
const lddw = (dst: number, v: bigint, src = 0): Instruction => insn(O.OP_LDDW, { dst, src, ...splitImm64(v) });
const r0of = (p: Instruction[], mem?: Uint8Array): bigint => runProgram(p, mem).r0;

function fault(p: Instruction[], mem?: Uint8Array, budget?: number): VmFault {
  try {
    runProgram(p, mem, budget === undefined ? {} : { budget });
  } catch (e) {
    assert.ok(e instanceof VmFault, `expected a VmFault, got ${String(e)}`);
    return e;
  }
  assert.fail('the program did not fault');
}

test('64-bit arithmetic wraps and carries across the halves', () => {
  assert.equal(r0of([lddw(0, 0xffffffffn), insn(0x07, { imm: 1 }), exit()]), 0x100000000n);
  assert.equal(r0of([mov(0, 0), insn(0x17, { imm: 1 }), exit()]), 0xffffffffffffffffn);
  assert.equal(r0of([lddw(0, 0x123456789abcdefn), lddw(1, 0xfedcba987654321n), insn(0x2f, { src: 1 }), exit()]),
    BigInt.asUintN(64, 0x123456789abcdefn * 0xfedcba987654321n));
  assert.equal(r0of([lddw(0, 1n << 63n), insn(0xc7, { imm: 63 }), exit()]), 0xffffffffffffffffn);
});

test('division and modulo by zero follow RFC 9669', () => {
  assert.equal(r0of([mov(0, 7), mov(1, 0), insn(0x3f, { src: 1 }), exit()]), 0n);
  assert.equal(r0of([mov(0, 7), mov(1, 0), insn(0x9f, { src: 1 }), exit()]), 7n);
  // 32-bit modulo by zero keeps the low half and zeroes the upper half.
  assert.equal(r0of([lddw(0, 0x1_0000_0007n), mov(1, 0), insn(0x9c, { src: 1 }), exit()]), 7n);
  // INT64_MIN / -1 wraps; INT64_MIN % -1 is 0.
  assert.equal(r0of([lddw(0, 1n << 63n), insn(0x37, { off: 1, imm: -1 }), exit()]), 1n << 63n);
  assert.equal(r0of([lddw(0, 1n << 63n), insn(0x97, { off: 1, imm: -1 }), exit()]), 0n);
});

test('shifts are masked and 32-bit results are zero-extended', () => {
  assert.equal(r0of([mov(0, 1), mov(1, 65), insn(0x6f, { src: 1 }), exit()]), 2n);
  assert.equal(r0of([mov(0, 1), mov(1, 33), insn(0x6c, { src: 1 }), exit()]), 2n);
  assert.equal(r0of([mov(0, -1), insn(0x04, { imm: 0 }), exit()]), 0xffffffffn);
  assert.equal(r0of([mov(1, -2), insn(0xbc, { dst: 0, src: 1, off: 8 }), exit()]), 0xfffffffen);
  assert.equal(r0of([mov(1, 0x80), insn(0xbf, { dst: 0, src: 1, off: 8 }), exit()]), 0xffffffffffffff80n);
});

test('an out-of-bounds load is a typed fault naming the instruction, address and nearest region', () => {
  const mem = new Uint8Array(8);
  const f = fault([mov(0, 0), insn(0x79, { dst: 0, src: 1, off: 4 }), exit()], mem);
  assert.equal(f.code, 'EFAULT');
  assert.equal(f.insn, 1);
  assert.equal(f.region, 'mem');
  assert.ok(f.address !== null && f.address > 0n);
  assert.match(f.message, /instruction 1: read of 8 bytes at 0x[0-9a-f]+ runs past the end of region mem/);
});

test('NULL, wild and stack-overflow accesses fault instead of touching the host', () => {
  assert.equal(fault([mov(1, 0), insn(0x61, { dst: 0, src: 1 }), exit()]).address, 0n);
  assert.equal(fault([lddw(1, 0xdeadbeef00000000n), insn(0x7a, { dst: 1, imm: 1 }), exit()]).code, 'EFAULT');
  const f = fault([insn(0x7a, { dst: 10, off: -520, imm: 1 }), mov(0, 0), exit()]);
  assert.equal(f.insn, 0);
  assert.match(f.region ?? '', /^stack/);
  // Writing above the frame pointer is outside the frame as well.
  assert.equal(fault([insn(0x62, { dst: 10, off: 0, imm: 1 }), mov(0, 0), exit()]).code, 'EFAULT');
});

test('the budget bounds every run, infinite loops included', () => {
  const f = fault([insn(O.OP_JA, { off: -1 }), exit()], undefined, 1000);
  assert.equal(f.code, 'EBUDGET');
  const ok = runProgram([mov(0, 1), exit()], undefined, { budget: 2 });
  assert.equal(ok.insns, 2);
  assert.equal(fault([mov(0, 1), exit()], undefined, 1).code, 'EBUDGET');
});

test('bpf-to-bpf calls preserve r6-r9 and nest at most 8 frames', () => {
  const prog = [
    mov(6, 6), insn(O.OP_CALL, { src: 1, imm: 2 }), insn(0x0f, { dst: 0, src: 6 }), exit(),
    mov(6, 100), mov(0, 1), exit(),
  ];
  assert.equal(r0of(prog), 7n);
  // A function that calls itself forever hits the frame limit, not a JS stack overflow.
  const f = fault([insn(O.OP_CALL, { src: 1, imm: -1 }), exit()]);
  assert.equal(f.code, 'ECALLDEPTH');
});

test('each frame has its own 512-byte stack', () => {
  const prog = [
    insn(0x7a, { dst: 10, off: -8, imm: 11 }),
    insn(O.OP_CALL, { src: 1, imm: 2 }),
    insn(0x79, { dst: 0, src: 10, off: -8 }),
    exit(),
    insn(0x7a, { dst: 10, off: -8, imm: 22 }),
    exit(),
  ];
  assert.equal(r0of(prog), 11n);
});

test('helpers are called by kernel id; unknown ones are a typed fault', () => {
  const helpers = defaultHelpers().register({ id: 1000, name: 'add', fn: (_e, a, b) => a + b });
  const res = runProgram([mov(1, 40), mov(2, 2), insn(O.OP_CALL, { imm: 1000 }), exit()], undefined, { helpers });
  assert.equal(res.r0, 42n);
  assert.ok(r0of([insn(O.OP_CALL, { imm: 5 }), exit()]) > 0n, 'ktime_get_ns is helper 5');
  assert.equal(fault([insn(O.OP_CALL, { imm: 999 }), exit()]).code, 'EHELPER');
});

test('helpers can charge loop iterations to the budget', () => {
  const helpers = new HelperRegistry().register({ id: 181, name: 'loop', fn: (env, n) => { env.charge(Number(n)); return n; } });
  const f = (() => {
    try { runProgram([mov(1, 5000), insn(O.OP_CALL, { imm: 181 }), exit()], undefined, { helpers, budget: 1000 }); } catch (e) { return e as VmFault; }
    return null;
  })();
  assert.equal(f?.code, 'EBUDGET');
});

test('callx reaches a helper by id or a function by its lddw func address', () => {
  assert.equal(r0of([mov(2, 5), insn(O.OP_CALLX, { dst: 2 }), mov(0, 2), exit()]), 2n);
  // slots: 0-1 lddw r3 = func(+3), 2 callx r3, 3 exit, 4 r0 = 9, 5 exit
  const fn = lddw(3, 0n, O.PSEUDO_FUNC);
  fn.imm = 3;
  const prog = [fn, insn(O.OP_CALLX, { dst: 3 }), exit(), mov(0, 9), exit()];
  assert.equal(r0of(prog), 9n);
  assert.equal(fault([mov(2, 77777), insn(O.OP_CALLX, { dst: 2 }), exit()]).code, 'EHELPER');
});

test('atomics: fetch variants, xchg and cmpxchg', () => {
  const st = (v: number): Instruction => insn(0x7a, { dst: 10, off: -8, imm: v });
  const ld = insn(0x79, { dst: 0, src: 10, off: -8 });
  assert.equal(r0of([st(5), mov(1, 3), insn(0xdb, { dst: 10, src: 1, off: -8, imm: O.ATOMIC_ADD | O.ATOMIC_FETCH }), movr(0, 1), exit()]), 5n);
  assert.equal(r0of([st(5), mov(1, 3), insn(0xdb, { dst: 10, src: 1, off: -8, imm: O.ATOMIC_ADD }), ld, exit()]), 8n);
  assert.equal(r0of([st(5), mov(1, 9), mov(0, 5), insn(0xdb, { dst: 10, src: 1, off: -8, imm: O.ATOMIC_CMPXCHG }), ld, exit()]), 9n);
  assert.equal(r0of([st(5), mov(1, 9), mov(0, 4), insn(0xdb, { dst: 10, src: 1, off: -8, imm: O.ATOMIC_CMPXCHG }), exit()]), 5n);
  assert.equal(r0of([st(5), mov(1, 9), insn(0xdb, { dst: 10, src: 1, off: -8, imm: O.ATOMIC_XCHG }), movr(0, 1), exit()]), 5n);
});

test('LD_ABS / LD_IND read the packet in network order and end the run with 0 when out of range', () => {
  const pkt = new Uint8Array([0x12, 0x34, 0x56, 0x78]);
  assert.equal(r0of([insn(0x28, { imm: 1 }), exit()], pkt), 0x3456n);
  assert.equal(r0of([mov(3, 2), insn(0x48, { src: 3, imm: 0 }), exit()], pkt), 0x5678n);
  assert.equal(r0of([mov(0, 9), insn(0x20, { imm: 2 }), mov(0, 9), exit()], pkt), 0n);
});

test('may_goto falls through until its budget is spent, then jumps', () => {
  const res = runProgram([mov(0, 0), insn(O.OP_MAY_GOTO, { off: 2 }), insn(0x07, { imm: 1 }), insn(O.OP_JA, { off: -3 }), exit()], undefined, { budget: 100_000_000 });
  assert.equal(res.r0, BigInt(8 * 1024 * 1024));
});

test('trace mode records every step with the registers it changed', () => {
  const vm = new Vm([mov(0, 1), mov(1, 2), insn(0x0f, { dst: 0, src: 1 }), exit()]);
  const r = vm.run({ trace: true });
  assert.equal(r.r0, 3n);
  assert.deepEqual(r.trace!.map((s) => s.pc), [0, 1, 2, 3]);
  assert.deepEqual(r.trace![2]!.changed, [{ reg: 0, value: 3n }]);
  assert.deepEqual(r.trace![3]!.changed, []);
});

test('an lddw map reference without maps is a typed fault, not a crash', () => {
  assert.equal(fault([lddw(1, 3n, O.PSEUDO_MAP_FD), mov(0, 0), exit()]).code, 'EPSEUDO');
});

test('a helper that throws ends the run with a typed EHELPER fault', () => {
  const helpers = defaultHelpers().register({ id: 1001, name: 'broken', fn: () => { throw new RangeError('boom'); } });
  try {
    runProgram([insn(O.OP_CALL, { imm: 1001 }), exit()], undefined, { helpers });
    assert.fail('no fault');
  } catch (e) {
    assert.ok(e instanceof VmFault);
    assert.equal(e.code, 'EHELPER');
    assert.equal(e.insn, 0);
    assert.match(e.message, /boom/);
  }
});

test('falling off the end of the program is a typed fault', () => {
  const f = fault([mov(0, 1)]);
  assert.equal(f.code, 'EBADPROG');
  assert.equal(f.insn, 0, 'names the last instruction, which fell through');
  assert.match(f.message, /fell through the last instruction/);
});

test('a vm keeps its state across runs only where it should: the stack is zeroed for each run', () => {
  const vm = new Vm([insn(0x79, { dst: 0, src: 10, off: -8 }), insn(0x7a, { dst: 10, off: -8, imm: 42 }), exit()]);
  assert.equal(vm.run().r0, 0n);
  assert.equal(vm.run().r0, 0n);
});

test('a pointer into a finished frame faults after the return, in both engines', () => {
  // main: r6 = *mem; call f; r1 = *(u64 *)(r0 + 0) -> r0 points into f's frame, gone now
  // f: *(u64 *)(r10 - 8) = 7; r0 = r10; r0 += -8; r2 = *(u64 *)(r0 + 0); exit
  const prog = [
    insn(0x79, { dst: 6, src: 1 }),
    insn(O.OP_CALL, { src: 1, imm: 2 }),
    insn(0x79, { dst: 1, src: 0 }),
    exit(),
    insn(0x7a, { dst: 10, off: -8, imm: 7 }),
    movr(0, 10),
    insn(0x07, { dst: 0, imm: -8 }),
    insn(0x79, { dst: 2, src: 0 }),
    exit(),
  ];
  const mem = new Uint8Array(8);
  const faults = (['interp', 'jit'] as const).map((engine) => {
    try {
      runProgram(prog, mem, { engine });
    } catch (e) {
      return e as VmFault;
    }
    return null;
  });
  for (const f of faults) {
    assert.ok(f instanceof VmFault);
    assert.equal(f.code, 'EFAULT');
    assert.equal(f.insn, 2);
  }
  assert.equal(faults[0]!.message, faults[1]!.message);
});
