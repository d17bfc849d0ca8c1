// The engines' services to helpers: callbacks into the program, the run's host, early exits, shared address spaces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../src/asm/index.js';
import { AddressSpace, ENGINES, HelperRegistry, RunExit, Vm, VmFault, defaultHelpers, stackFrames, type HelperEnv } from '../src/vm/index.js';

/** A bpf_loop-like helper (id 181): calls r2(i, r3) for i < r1 until it returns non-zero; returns the count. */
function loopHelpers(): HelperRegistry {
  return defaultHelpers().register({
    id: 181,
    name: 'loop',
    fn: (env: HelperEnv, n, fn, ctx) => {
      let i = 0n;
      for (; i < n; i++) {
        env.charge(1);
        if (env.callback(fn, [i, ctx]) !== 0n) { i++; break; }
      }
      return i;
    },
  });
}

// r6 = &sum on the stack; loop(10, cb, &sum); return sum * 1000 + count.
// cb(i, ctx): *ctx += i * i; return i == 7 (stop after i = 7).
const LOOP = `
  r1 = 0
  *(u64 *)(r10 - 8) = r1
  r3 = r10
  r3 += -8
  r1 = 10
  r2 = func(cb) ll
  r4 = 0
  call 181
  r1 = *(u64 *)(r10 - 8)
  r1 *= 1000
  r0 += r1
  exit
cb:
  r0 = r1
  r0 *= r1
  r3 = *(u64 *)(r2 + 0)
  r3 += r0
  *(u64 *)(r2 + 0) = r3
  r0 = 0
  if r1 != 7 goto out
  r0 = 1
out:
  exit
`;

for (const engine of ENGINES) {
  test(`${engine}: a helper calls back into the program, in the next frame, on the run's budget`, () => {
    const vm = new Vm(assemble(LOOP), { engine, helpers: loopHelpers() });
    const r = vm.run();
    // sum of squares 0..7 = 140, count 8
    assert.equal(r.r0, 140n * 1000n + 8n);
    const interp = new Vm(assemble(LOOP), { engine: 'interp', helpers: loopHelpers() }).run();
    assert.equal(r.insns, interp.insns);
    // The budget covers the callbacks' instructions too.
    const small = new Vm(assemble(LOOP), { engine, helpers: loopHelpers(), budget: 40 });
    assert.throws(() => small.run(), (e: unknown) => e instanceof VmFault && e.code === 'EBUDGET');
  });

  test(`${engine}: a callback that is not a function address is a typed fault`, () => {
    const prog = assemble('r1 = 3\nr2 = 12345\nr3 = 0\nr4 = 0\ncall 181\nexit');
    const vm = new Vm(prog, { engine, helpers: loopHelpers() });
    assert.throws(() => vm.run(), (e: unknown) => e instanceof VmFault && e.code === 'EHELPER' && /callback/.test(e.message) && e.insn === 4);
  });

  test(`${engine}: helpers see the run's host, and a RunExit ends the run untouched`, () => {
    const helpers = defaultHelpers().register({
      id: 12,
      name: 'tail_call',
      fn: (env, _ctx, _map, idx) => {
        if (idx === 1n) throw new RunExit('tail_call', { idx, cpu: env.host.cpu });
        return BigInt.asUintN(64, -2n);
      },
    });
    const prog = assemble('call 8\nr6 = r0\nr3 = r1\ncall 12\nr0 = r6\nexit');
    const vm = new Vm(prog, { engine, helpers, host: { cpu: 3 } });
    assert.equal(vm.run({ args: [0n] }).r0, 3n);
    vm.host = { cpu: 1 };
    assert.throws(() => vm.run({ args: [1n] }), (e: unknown) => e instanceof RunExit && (e.data as { cpu: number }).cpu === 1);
  });
}

test('programs built over one address space share its regions', () => {
  const space = new AddressSpace();
  const frames = stackFrames(space);
  const shared = space.map('counter', 'map', 8);
  const inc = assemble('r1 = *(u64 *)(r1 + 0)\nr1 += 1\nr2 = r1\nr0 = r2\nexit');
  const bump = assemble('r2 = *(u64 *)(r1 + 0)\nr2 += 5\n*(u64 *)(r1 + 0) = r2\nr0 = r2\nexit');
  const a = new Vm(bump, { space, frames, engine: 'jit' });
  const b = new Vm(bump, { space, frames, engine: 'interp' });
  const args = [BigInt(shared.start)];
  a.run({ args });
  b.run({ args });
  assert.equal(new Vm(inc, { space, frames }).run({ args }).r0, 11n);
  assert.throws(() => new Vm(inc, { space, frames: frames.slice(1) }), TypeError);
});

for (const engine of ENGINES) {
  test(`${engine}: a subprogram hands a helper a pointer into its own stack frame`, () => {
    // The helper (id 200) reads 8 bytes through r1, as map helpers read keys.
    const helpers = defaultHelpers().register({
      id: 200,
      name: 'read8',
      fn: (env, p) => {
        if (env.space.find(Number(p), 8, false) === null) throw new VmFault('EFAULT', `0x${p.toString(16)} is not readable`, 0);
        return env.space.view.getBigUint64(Number(p), true);
      },
    });
    // Main reads its input (a region lookup at depth 0), then calls sub, which
    // stores on its own stack and passes that address to the helper.
    const prog = assemble(`
      r2 = *(u64 *)(r1 + 0)
      call sub
      exit
    sub:
      *(u64 *)(r10 - 8) = r2
      r1 = r10
      r1 += -8
      call 200
      exit
    `);
    const mem = new Uint8Array(8);
    new DataView(mem.buffer).setBigUint64(0, 0x1122334455667788n, true);
    const vm = new Vm(prog, { engine, helpers });
    const region = vm.mapBytes('mem', 'mem', mem);
    assert.equal(vm.run({ args: [BigInt(region.start)] }).r0, 0x1122334455667788n);
  });
}
