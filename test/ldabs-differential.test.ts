// LD_ABS / LD_IND against the kernel. XDP refuses the legacy packet loads, so
// these run as socket filters, which see the frame after its Ethernet header;
// the vm gets the same bytes as its packet. Each program folds every loaded
// value into a 32-bit hash it returns, so the return value carries them all.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { insn, type Instruction } from '../src/isa/index.js';
import * as O from '../src/isa/opcodes.js';
import { progLoad, progTestRun } from '../src/kernel/index.js';
import { runProgram } from '../src/vm/index.js';
import { needKernel } from './support/kernel.js';

const ETH = 14;
const mov = (dst: number, imm: number): Instruction => insn(O.CLS_ALU64 | O.ALU_MOV | O.SRC_K, { dst, imm });

interface Load { mode: 'abs' | 'ind'; size: 1 | 2 | 4; imm: number; index: number }

const SIZE = { 1: O.SIZE_B, 2: O.SIZE_H, 4: O.SIZE_W } as const;

/** The body both engines run: r7 = r7 * 31 + load, for every load; r6 is the ctx. */
function body(loads: readonly Load[], final: number): Instruction[] {
  const out: Instruction[] = [mov(7, 17)];
  for (const l of loads) {
    if (l.mode === 'ind') out.push(mov(8, l.index));
    const mode = l.mode === 'abs' ? O.MODE_ABS : O.MODE_IND;
    out.push(insn(O.CLS_LD | mode | SIZE[l.size], { src: l.mode === 'ind' ? 8 : 0, imm: l.imm }));
    out.push(insn(O.CLS_ALU64 | O.ALU_MUL | O.SRC_K, { dst: 7, imm: 31 }));
    out.push(insn(O.CLS_ALU64 | O.ALU_ADD | O.SRC_X, { dst: 7, src: 0 }));
  }
  // Return the low 32 bits of the hash (a socket filter's retval is 32-bit), or a constant.
  out.push(insn(O.CLS_ALU64 | O.ALU_MOV | O.SRC_X, { dst: 0, src: 7 }));
  out.push(insn(O.CLS_ALU64 | O.ALU_XOR | O.SRC_K, { dst: 0, imm: final }));
  out.push(insn(O.OP_EXIT));
  return out;
}

test('LD_ABS and LD_IND agree with the kernel (socket filter test-run)', (t) => {
  if (!needKernel(t)) return;
  const PAYLOAD = 64;
  const arbLoad = fc.record({
    mode: fc.constantFrom<'abs' | 'ind'>('abs', 'ind'),
    size: fc.constantFrom<1 | 2 | 4>(1, 2, 4),
    // Mostly in range, sometimes past the end (the run then ends with 0).
    imm: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: PAYLOAD - 4 }) }, { weight: 1, arbitrary: fc.integer({ min: PAYLOAD - 3, max: PAYLOAD + 8 }) }),
    index: fc.integer({ min: 0, max: 12 }),
  });
  let compared = 0;
  let endedEarly = 0;
  fc.assert(
    fc.property(fc.array(arbLoad, { minLength: 1, maxLength: 12 }), fc.uint8Array({ minLength: PAYLOAD, maxLength: PAYLOAD }), fc.integer(), (loads, payload, final) => {
      const b = body(loads, final);
      const frame = new Uint8Array(ETH + PAYLOAD);
      frame.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
      frame.set(payload, ETH);
      // Kernel: r6 must hold the skb for LD_ABS/LD_IND.
      const kernelProg = [insn(O.CLS_ALU64 | O.ALU_MOV | O.SRC_X, { dst: 6, src: 1 }), ...b];
      using prog = progLoad({ type: 'SOCKET_FILTER', insns: kernelProg, logLevel: 0 });
      const k = progTestRun(prog, { data: frame });
      const v = runProgram(b, payload);
      assert.equal(BigInt(k.retval), BigInt.asUintN(32, v.r0), `loads ${JSON.stringify(loads)}`);
      if (v.r0 === 0n) endedEarly++;
      compared++;
    }),
    { numRuns: 400, seed: 7 },
  );
  console.log(`ld_abs/ld_ind differential: compared ${compared} socket-filter programs (${endedEarly} ended early on an out-of-range load)`);
  assert.ok(endedEarly > 0, 'some programs exercise the out-of-range exit');
});
