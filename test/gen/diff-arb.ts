/**
 * fast-check arbitraries for differential programs (see diff-program.ts).
 * Every generated program is meant to pass the kernel verifier:
 *  - r1 (the packet) and r10 are only ever used as memory bases;
 *  - stack accesses are aligned and stay inside the initialised area;
 *  - packet accesses stay inside the bounds-checked packet;
 *  - shifts by an immediate are smaller than the width, no division or
 *    modulo by an immediate 0;
 *  - jumps go forward only, and `ja`/`gotol` only jump over code that a
 *    conditional jump also reaches (an if/else), so nothing is unreachable.
 * One pattern is shaped around a kernel bug: a 32-bit cmpxchg is always
 * followed by a 64-bit store of r0 into the packet (see `atomicOp`).
 */
import fc from 'fast-check';
import * as op from '../../src/isa/opcodes.js';
import {
  type Base, type DiffSpec, type Init, type Op, type Reg, PACKET, SCALARS, STACK, WORK,
} from './diff-program.js';

export const ALU_CODES = [
  op.ALU_ADD, op.ALU_SUB, op.ALU_MUL, op.ALU_DIV, op.ALU_OR, op.ALU_AND, op.ALU_LSH,
  op.ALU_RSH, op.ALU_MOD, op.ALU_XOR, op.ALU_MOV, op.ALU_ARSH,
] as const;
export const JMP_CONDS = [
  op.JMP_JEQ, op.JMP_JGT, op.JMP_JGE, op.JMP_JSET, op.JMP_JNE, op.JMP_JSGT, op.JMP_JSGE,
  op.JMP_JLT, op.JMP_JLE, op.JMP_JSLT, op.JMP_JSLE,
] as const;
export const SIZES = [op.SIZE_B, op.SIZE_H, op.SIZE_W, op.SIZE_DW] as const;
/** Read-modify-write atomics: 32 and 64 bit only. */
export const ATOMIC_RMW = [
  op.ATOMIC_ADD, op.ATOMIC_OR, op.ATOMIC_AND, op.ATOMIC_XOR,
  op.ATOMIC_ADD | op.ATOMIC_FETCH, op.ATOMIC_OR | op.ATOMIC_FETCH,
  op.ATOMIC_AND | op.ATOMIC_FETCH, op.ATOMIC_XOR | op.ATOMIC_FETCH,
  op.ATOMIC_XCHG, op.ATOMIC_CMPXCHG,
] as const;
/** Linux extension (6.15+): load-acquire and store-release, every size. */
export const ATOMIC_ORDERED = [op.ATOMIC_LOAD_ACQ, op.ATOMIC_STORE_REL] as const;

const reg: fc.Arbitrary<Reg> = fc.constantFrom(...SCALARS);

const imm32 = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: -0x80000000, max: 0x7fffffff }) },
  { weight: 2, arbitrary: fc.integer({ min: -16, max: 16 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(0x7fffffff, -0x80000000, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, -0x8000, 31, 32, 63, 64),
  },
);

const SPECIAL64 = [
  0n, 1n, -1n, 2n, 0x7fffffffffffffffn, -0x8000000000000000n, 0xffffffffn, 0x80000000n, 0x7fffffffn,
  0x100000000n, -0x80000000n, 0xffffffff00000000n, 0x80n, 0xffn, 0x8000n, 0xffffn, 31n, 32n, 63n, 64n,
  0x00000000ffffffffn | (0x80000000n << 32n), 0x7fffffff80000000n,
];
/** Operands for edge-case arithmetic: INT_MIN / -1, division by 0, shifts >= width. */
const EDGE64 = [0n, 1n, -1n, -(1n << 63n), -0x80000000n, 0x80000000n, 0xffffffffn, 0x100000000n, 32n, 64n, 0x7fffffffffffffffn];
const val64 = fc.oneof(
  { weight: 3, arbitrary: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }) },
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL64) },
  { weight: 1, arbitrary: fc.bigInt({ min: -300n, max: 300n }) },
);

const aluOp: fc.Arbitrary<Op> = fc
  .record({ is64: fc.boolean(), code: fc.constantFrom(...ALU_CODES), x: fc.boolean(), signed: fc.boolean(), dst: reg, src: reg, imm: imm32 })
  .map(({ is64, code, x, signed, dst, src, imm }) => {
    const cls = is64 ? op.CLS_ALU64 : op.CLS_ALU;
    const divmod = code === op.ALU_DIV || code === op.ALU_MOD;
    const off = signed && divmod ? 1 : 0;
    if (x) return { k: 'alu', opcode: cls | code | op.SRC_X, dst, src, off, imm: 0 };
    const width = is64 ? 64 : 32;
    if (code === op.ALU_LSH || code === op.ALU_RSH || code === op.ALU_ARSH) imm = ((imm % width) + width) % width;
    if (divmod && imm === 0) imm = 1; // the kernel refuses division by an immediate 0
    return { k: 'alu', opcode: cls | code, dst, src, off, imm };
  });

const negOp: fc.Arbitrary<Op> = fc
  .record({ is64: fc.boolean(), dst: reg })
  .map(({ is64, dst }) => ({ k: 'alu', opcode: (is64 ? op.CLS_ALU64 : op.CLS_ALU) | op.ALU_NEG, dst, src: 0, off: 0, imm: 0 }));

/** movsx: ALU64 with 8/16/32, ALU (32-bit) with 8/16. */
const movsxOp: fc.Arbitrary<Op> = fc
  .record({ is64: fc.boolean(), width: fc.constantFrom(8, 16, 32), dst: reg, src: reg })
  .map(({ is64, width, dst, src }) => ({
    k: 'alu',
    opcode: (is64 ? op.CLS_ALU64 : op.CLS_ALU) | op.ALU_MOV | op.SRC_X,
    dst,
    src,
    off: !is64 && width === 32 ? 16 : width,
    imm: 0,
  }));

/** le (ALU|END|K), be (ALU|END|X) and bswap (ALU64|END|K), each 16/32/64. */
const endOp: fc.Arbitrary<Op> = fc
  .record({ kind: fc.constantFrom('le', 'be', 'bswap'), width: fc.constantFrom(16, 32, 64), dst: reg })
  .map(({ kind, width, dst }) => ({
    k: 'alu',
    opcode: kind === 'bswap' ? op.CLS_ALU64 | op.ALU_END : op.CLS_ALU | op.ALU_END | (kind === 'be' ? op.SRC_X : op.SRC_K),
    dst,
    src: 0,
    off: 0,
    imm: width,
  }));

const lddwOp: fc.Arbitrary<Op> = fc.record({ dst: reg, value: val64 }).map(({ dst, value }) => ({ k: 'lddw', dst, value }));

/**
 * An ALU operation on operands just set to edge values (0, -1, INT_MIN...),
 * so that division by zero, INT_MIN / -1 and big shifts happen often.
 */
const edgeAluOp: fc.Arbitrary<Op> = fc
  .record({
    is64: fc.boolean(),
    code: fc.constantFrom(op.ALU_DIV, op.ALU_MOD, op.ALU_DIV, op.ALU_MOD, op.ALU_LSH, op.ALU_RSH, op.ALU_ARSH, op.ALU_MUL),
    signed: fc.boolean(),
    dst: reg,
    src: reg,
    a: fc.constantFrom(...EDGE64),
    b: fc.constantFrom(...EDGE64),
  })
  .map(({ is64, code, signed, dst, src, a, b }) => {
    const divmod = code === op.ALU_DIV || code === op.ALU_MOD;
    const ops: Op[] = [{ k: 'lddw', dst, value: a }];
    if (src !== dst) ops.push({ k: 'lddw', dst: src, value: b });
    const cls = is64 ? op.CLS_ALU64 : op.CLS_ALU;
    ops.push({ k: 'alu', opcode: cls | code | op.SRC_X, dst, src, off: signed && divmod ? 1 : 0, imm: 0 });
    return { k: 'seq', ops };
  });

const bytesOf = (size: number): number => op.sizeBytes(size);

/** A legal offset: anywhere in the packet (loads) or the work area (stores), aligned on the stack. */
function offsetFor(base: Base, size: number, seed: number, store: boolean): number {
  const n = bytesOf(size);
  if (base === 'pkt') return seed % ((store ? WORK : PACKET) - n + 1);
  return -n * (1 + (seed % (STACK / n)));
}

const base: fc.Arbitrary<Base> = fc.constantFrom('pkt', 'stack');
const size = fc.constantFrom(...SIZES);
const seed = fc.nat({ max: 0xffff });

const ldxOp: fc.Arbitrary<Op> = fc
  .record({ size, sx: fc.boolean(), base, seed, dst: reg })
  .map(({ size, sx, base, seed, dst }) => {
    const mode = sx && size !== op.SIZE_DW ? op.MODE_MEMSX : op.MODE_MEM;
    return { k: 'ldx', opcode: op.CLS_LDX | mode | size, dst, base, off: offsetFor(base, size, seed, false) };
  });

const stOp: fc.Arbitrary<Op> = fc
  .record({ size, base, seed, imm: imm32 })
  .map(({ size, base, seed, imm }) => ({ k: 'st', opcode: op.CLS_ST | op.MODE_MEM | size, base, off: offsetFor(base, size, seed, true), imm }));

const stxOp: fc.Arbitrary<Op> = fc
  .record({ size, base, seed, src: reg })
  .map(({ size, base, seed, src }) => ({ k: 'stx', opcode: op.CLS_STX | op.MODE_MEM | size, base, off: offsetFor(base, size, seed, true), src }));

/** Atomics act on the stack only (the kernel refuses them on packets). */
const atomicOp: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .record({ dw: fc.boolean(), aop: fc.constantFrom(...ATOMIC_RMW), seed, src: reg })
      .map(({ dw, aop, seed, src }): Op => {
        const sz = dw ? op.SIZE_DW : op.SIZE_W;
        const atomic: Op = { k: 'atomic', opcode: op.CLS_STX | op.MODE_ATOMIC | sz, aop, off: offsetFor('stack', sz, seed, true), src };
        if (dw || aop !== op.ATOMIC_CMPXCHG) return atomic;
        // Kernel bug workaround (Linux 6.18, x86-64 JIT): a 32-bit cmpxchg that
        // succeeds leaves the upper half of r0 unchanged unless the verifier
        // inserted a zero-extension, which it only does when it sees a 64-bit
        // read of r0 on a path it does not prune. Reading r0 as 64 bits right
        // away, where no jump can land, makes the verifier always insert it.
        const observe: Op = { k: 'stx', opcode: op.CLS_STX | op.MODE_MEM | op.SIZE_DW, base: 'pkt', off: offsetFor('pkt', op.SIZE_DW, seed, true), src: 0 };
        return { k: 'seq', glued: true, ops: [atomic, observe] };
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ size, aop: fc.constantFrom(...ATOMIC_ORDERED), seed, src: reg })
      .map(({ size, aop, seed, src }) => ({
        k: 'atomic', opcode: op.CLS_STX | op.MODE_ATOMIC | size, aop, off: offsetFor('stack', size, seed, true), src,
      })),
  },
) as fc.Arbitrary<Op>;

const cond = fc
  .record({ is32: fc.boolean(), code: fc.constantFrom(...JMP_CONDS), x: fc.boolean(), dst: reg, src: reg, imm: imm32 })
  .map(({ is32, code, x, dst, src, imm }) => ({
    opcode: (is32 ? op.CLS_JMP32 : op.CLS_JMP) | code | (x ? op.SRC_X : op.SRC_K),
    dst,
    src,
    imm: x ? 0 : imm,
  }));

const jcondOp: fc.Arbitrary<Op> = fc
  .record({ cond, skip: fc.nat({ max: 24 }) })
  .map(({ cond, skip }) => ({ k: 'jcond', ...cond, skip }));

/** Operations without control flow. */
export const simpleOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: aluOp },
  { weight: 1, arbitrary: edgeAluOp },
  { weight: 1, arbitrary: negOp },
  { weight: 2, arbitrary: movsxOp },
  { weight: 2, arbitrary: endOp },
  { weight: 1, arbitrary: lddwOp },
  { weight: 4, arbitrary: ldxOp },
  { weight: 2, arbitrary: stOp },
  { weight: 3, arbitrary: stxOp },
  { weight: 3, arbitrary: atomicOp },
);

const ifElseOp: fc.Arbitrary<Op> = fc
  .record({
    cond,
    then: fc.array(simpleOp, { maxLength: 4 }),
    else: fc.array(simpleOp, { minLength: 1, maxLength: 4 }),
    long: fc.boolean(),
  })
  .map((r) => ({ k: 'ifelse', ...r }));

export const anyOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: simpleOp },
  { weight: 3, arbitrary: jcondOp },
  { weight: 1, arbitrary: ifElseOp },
);

function initFor(r: Reg): fc.Arbitrary<Init> {
  const choices: Array<fc.Arbitrary<Init>> = [
    imm32.map((imm) => ({ k: 'mov64', imm })),
    imm32.map((imm) => ({ k: 'mov32', imm })),
    val64.map((value) => ({ k: 'lddw', value })),
  ];
  if (r === 2) choices.push(fc.constant({ k: 'keep' }));
  return fc.oneof(...choices);
}

const stackInit = fc.oneof(
  imm32.map((imm) => ({ k: 'imm' as const, imm })),
  reg.map((src) => ({ k: 'reg' as const, src })),
);

/** The packet, as 8-byte words: mostly random bytes, some edge values. */
const packetArb: fc.Arbitrary<Uint8Array> = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.uint8Array({ minLength: 8, maxLength: 8 }) },
      { weight: 1, arbitrary: fc.constantFrom(...SPECIAL64).map(le64) },
    ),
    { minLength: PACKET / 8, maxLength: PACKET / 8 },
  )
  .map((words) => {
    const p = new Uint8Array(PACKET);
    words.forEach((w, k) => p.set(w, 8 * k));
    return p;
  });

function le64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
  return b;
}

export interface DiffArbOptions {
  minOps?: number;
  maxOps?: number;
}

/** A whole differential program description with its random packet. */
export function diffSpec(o: DiffArbOptions = {}): fc.Arbitrary<DiffSpec> {
  return fc.record({
    regs: fc.tuple(...SCALARS.map(initFor)),
    stack: fc.array(stackInit, { minLength: STACK / 8, maxLength: STACK / 8 }),
    ops: fc.array(anyOp, { minLength: o.minOps ?? 10, maxLength: o.maxOps ?? 60 }),
    packet: packetArb,
  });
}
