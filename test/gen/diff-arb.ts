/**
 * fast-check arbitraries for differential programs (see diff-program.ts).
 * Every generated program is meant to pass the kernel verifier:
 *  - pointers (r1 in main: the packet; r1 in a pointer-taking subprogram: the
 *    caller's stack; r10) are only ever used as memory bases or call
 *    arguments, never as scalars;
 *  - stack accesses are aligned and stay inside the initialised area;
 *  - packet accesses stay inside the bounds-checked packet;
 *  - shifts by an immediate are smaller than the width, no division or
 *    modulo by an immediate 0;
 *  - forward jumps stay inside their scope (a function, a loop body) and
 *    never land inside a loop or between an argument and its call;
 *    `ja`/`gotol` forward only jump over code that a conditional jump also
 *    reaches (an if/else), so nothing is unreachable;
 *  - every subprogram is called (a call from main is added if needed);
 *  - after a call, r1-r5 are set again before anything reads them;
 *  - at most MAX_FNS subprograms, each calling only higher-numbered ones
 *    (no recursion, at most MAX_FNS + 1 frames of at most 96 bytes);
 *  - loops run 1..MAX_ITERS times and stay cheap to verify:
 *    counted loops on a constant counter (the verifier follows every trip)
 *    have no conditional jumps in their bodies, else the verifier's paths
 *    would double per undecided branch and trip; loops bounded only by
 *    `may_goto`, and counted loops with a `may_goto`, have bodies restricted
 *    further and are laundered afterwards (see `mgLoopArb`).
 *  - `may_goto` appears only in main, outside other loops.
 * Two patterns are shaped around kernel bugs (see `simpleArb`): a fetching
 * atomic is always preceded by a non-fetching one on the same slot, and a
 * 32-bit cmpxchg is always followed by a 64-bit store of r0.
 */
import fc from 'fast-check';
import * as op from '../../src/isa/opcodes.js';
import {
  type Base, type Cond, type DiffSpec, type FnSpec, type Init, type Op, type Reg,
  DUMP, FN_STACKS, MAX_FNS, MAX_ITERS, PACKET, SCALARS, STACK, UP, WORK,
} from './diff-program.js';

export const ALU_CODES = [
  op.ALU_ADD, op.ALU_SUB, op.ALU_MUL, op.ALU_DIV, op.ALU_OR, op.ALU_AND, op.ALU_LSH,
  op.ALU_RSH, op.ALU_MOD, op.ALU_XOR, op.ALU_MOV, op.ALU_ARSH,
] as const;
export const JMP_CONDS = [
  op.JMP_JEQ, op.JMP_JGT, op.JMP_JGE, op.JMP_JSET, op.JMP_JNE, op.JMP_JSGT, op.JMP_JSGE,
  op.JMP_JLT, op.JMP_JLE, op.JMP_JSLT, op.JMP_JSLE,
] as const;
/** Conditions of the back jump of a `may_goto` loop (`counter <cond> limit`), and the limit for a trip count. */
export const MG_CONDS = [op.JMP_JNE, op.JMP_JLT, op.JMP_JSLT, op.JMP_JLE, op.JMP_JSLE] as const;
export const SIZES = [op.SIZE_B, op.SIZE_H, op.SIZE_W, op.SIZE_DW] as const;
/** Read-modify-write atomics: 32 and 64 bit only. */
export const ATOMIC_RMW = [
  op.ATOMIC_ADD, op.ATOMIC_OR, op.ATOMIC_AND, op.ATOMIC_XOR,
  op.ATOMIC_ADD | op.ATOMIC_FETCH, op.ATOMIC_OR | op.ATOMIC_FETCH,
  op.ATOMIC_AND | op.ATOMIC_FETCH, op.ATOMIC_XOR | op.ATOMIC_FETCH,
  op.ATOMIC_XCHG, op.ATOMIC_CMPXCHG,
] as const;
/** Read-modify-write atomics that do not fetch. */
const ATOMIC_NO_FETCH = [op.ATOMIC_ADD, op.ATOMIC_OR, op.ATOMIC_AND, op.ATOMIC_XOR] as const;
/** Linux extension (6.15+): load-acquire and store-release, every size. */
export const ATOMIC_ORDERED = [op.ATOMIC_LOAD_ACQ, op.ATOMIC_STORE_REL] as const;

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

/**
 * Where an operation may be generated: which registers it may write and
 * read, which memory it may touch, and which control flow it may use.
 */
export interface Ctx {
  /** Scalar registers the operation may write (always includes r0). */
  dsts: readonly Reg[];
  /** Scalar registers it may read. */
  srcs: readonly Reg[];
  /** Memory it may load from. */
  bases: readonly Base[];
  /** Memory it may store to (atomics: the stacks among these). */
  stores: readonly Base[];
  /** Data stack bytes of the current frame. */
  stack: number;
  /** Subprograms it may call, and whether each takes a pointer. */
  callees: readonly number[];
  fnPtr: readonly boolean[];
  /** Loops may still nest this deep. */
  loops: number;
  /** `may_goto` allowed (main, outside loops: its body is laundered through the packet afterwards). */
  mg: boolean;
  /** Conditional jumps allowed (not in `may_goto` loops, where they would stop the verifier from converging). */
  jumps: boolean;
}

const bytesOf = (size: number): number => op.sizeBytes(size);

/** A legal offset: anywhere in the packet (loads) or the work area (stores), aligned on stacks. */
function offsetFor(base: Base, size: number, seed: number, store: boolean, stack: number): number {
  const n = bytesOf(size);
  if (base === 'pkt') return seed % ((store ? WORK : PACKET) - n + 1);
  if (base === 'up') return n * (seed % (UP / n));
  return -n * (1 + (seed % (stack / n)));
}

const size = fc.constantFrom(...SIZES);
const seed = fc.nat({ max: 0xffff });
const skipArb = fc.nat({ max: 24 });

function condArb(c: Ctx): fc.Arbitrary<Cond> {
  return fc
    .record({ is32: fc.boolean(), code: fc.constantFrom(...JMP_CONDS), x: fc.boolean(), dst: fc.constantFrom(...c.srcs), src: fc.constantFrom(...c.srcs), imm: imm32 })
    .map(({ is32, code, x, dst, src, imm }) => ({
      opcode: (is32 ? op.CLS_JMP32 : op.CLS_JMP) | code | (x ? op.SRC_X : op.SRC_K),
      dst,
      src,
      imm: x ? 0 : imm,
    }));
}

/** Operations without control flow. */
function simpleArb(c: Ctx): fc.Arbitrary<Op> {
  const dst = fc.constantFrom(...c.dsts);
  const src = fc.constantFrom(...c.srcs);
  const base = fc.constantFrom(...c.bases);
  const storeBase = fc.constantFrom(...c.stores);
  const atomicBases = c.stores.filter((b): b is 'stack' | 'up' => b !== 'pkt');
  const atomicBase = fc.constantFrom(...(atomicBases.length > 0 ? atomicBases : ['stack' as const]));

  const aluOp: fc.Arbitrary<Op> = fc
    .record({ is64: fc.boolean(), code: fc.constantFrom(...ALU_CODES), x: fc.boolean(), signed: fc.boolean(), dst, src, imm: imm32 })
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
    .record({ is64: fc.boolean(), dst })
    .map(({ is64, dst }) => ({ k: 'alu', opcode: (is64 ? op.CLS_ALU64 : op.CLS_ALU) | op.ALU_NEG, dst, src: 0, off: 0, imm: 0 }));

  /** movsx: ALU64 with 8/16/32, ALU (32-bit) with 8/16. */
  const movsxOp: fc.Arbitrary<Op> = fc
    .record({ is64: fc.boolean(), width: fc.constantFrom(8, 16, 32), dst, src })
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
    .record({ kind: fc.constantFrom('le', 'be', 'bswap'), width: fc.constantFrom(16, 32, 64), dst })
    .map(({ kind, width, dst }) => ({
      k: 'alu',
      opcode: kind === 'bswap' ? op.CLS_ALU64 | op.ALU_END : op.CLS_ALU | op.ALU_END | (kind === 'be' ? op.SRC_X : op.SRC_K),
      dst,
      src: 0,
      off: 0,
      imm: width,
    }));

  const lddwOp: fc.Arbitrary<Op> = fc.record({ dst, value: val64 }).map(({ dst, value }) => ({ k: 'lddw', dst, value }));

  /**
   * An ALU operation on operands just set to edge values (0, -1, INT_MIN...),
   * so that division by zero, INT_MIN / -1 and big shifts happen often.
   */
  const edgeAluOp: fc.Arbitrary<Op> = fc
    .record({
      is64: fc.boolean(),
      code: fc.constantFrom(op.ALU_DIV, op.ALU_MOD, op.ALU_DIV, op.ALU_MOD, op.ALU_LSH, op.ALU_RSH, op.ALU_ARSH, op.ALU_MUL),
      signed: fc.boolean(),
      dst,
      src: dst, // written too
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

  const ldxOp: fc.Arbitrary<Op> = fc
    .record({ size, sx: fc.boolean(), base, seed, dst })
    .map(({ size, sx, base, seed, dst }) => {
      const mode = sx && size !== op.SIZE_DW ? op.MODE_MEMSX : op.MODE_MEM;
      return { k: 'ldx', opcode: op.CLS_LDX | mode | size, dst, base, off: offsetFor(base, size, seed, false, c.stack) };
    });

  const stOp: fc.Arbitrary<Op> = fc
    .record({ size, base: storeBase, seed, imm: imm32 })
    .map(({ size, base, seed, imm }) => ({ k: 'st', opcode: op.CLS_ST | op.MODE_MEM | size, base, off: offsetFor(base, size, seed, true, c.stack), imm }));

  const stxOp: fc.Arbitrary<Op> = fc
    .record({ size, base: storeBase, seed, src })
    .map(({ size, base, seed, src }) => ({ k: 'stx', opcode: op.CLS_STX | op.MODE_MEM | size, base, off: offsetFor(base, size, seed, true, c.stack), src }));

  /** Atomics act on stacks only (the kernel refuses them on packets); their src may be written. */
  const atomicOp: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 5,
      arbitrary: fc
        .record({
          dw: fc.boolean(), aop: fc.constantFrom(...ATOMIC_RMW), base: atomicBase, seed, src: dst,
          before: fc.record({ aop: fc.constantFrom(...ATOMIC_NO_FETCH), src: fc.constantFrom(...c.srcs) }),
        })
        .map(({ dw, aop, base, seed, src, before }): Op => {
          const sz = dw ? op.SIZE_DW : op.SIZE_W;
          const opcode = op.CLS_STX | op.MODE_ATOMIC | sz;
          const off = offsetFor(base, sz, seed, true, c.stack);
          const atomic: Op = { k: 'atomic', opcode, aop, base, off, src };
          if (!(aop & op.ATOMIC_FETCH)) return atomic;
          // Kernel bug workaround (Linux 6.18 verifier): precision tracking does
          // not follow a fetching atomic (fetch_*, xchg, cmpxchg) back to the
          // stack slot it read, so when what it fetched decides a branch, the
          // verifier may prune a path whose slot held another value, and then
          // remove as dead code instructions that path runs. A non-fetching
          // atomic on the same slot first makes the slot unknown to the verifier.
          const ops: Op[] = [{ k: 'atomic', opcode, aop: before.aop, base, off, src: before.src }, atomic];
          if (!dw && aop === op.ATOMIC_CMPXCHG) {
            // Kernel bug workaround (Linux 6.18, x86-64 JIT): a 32-bit cmpxchg that
            // succeeds leaves the upper half of r0 unchanged unless the verifier
            // inserted a zero-extension, which it only does when it sees a 64-bit
            // read of r0 on a path it does not prune. Reading r0 as 64 bits right
            // away, where no jump can land, makes the verifier always insert it.
            const where: Base = c.bases.includes('pkt') ? 'pkt' : 'stack';
            ops.push({ k: 'stx', opcode: op.CLS_STX | op.MODE_MEM | op.SIZE_DW, base: where, off: offsetFor(where, op.SIZE_DW, seed, true, c.stack), src: 0 });
          }
          return { k: 'seq', glued: true, ops };
        }),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({ size, aop: fc.constantFrom(...ATOMIC_ORDERED), base: atomicBase, seed, src: dst })
        .map(({ size, aop, base, seed, src }) => ({
          k: 'atomic', opcode: op.CLS_STX | op.MODE_ATOMIC | size, aop, base, off: offsetFor(base, size, seed, true, c.stack), src,
        })),
    },
  ) as fc.Arbitrary<Op>;

  return fc.oneof(
    { weight: 10, arbitrary: aluOp },
    { weight: 1, arbitrary: edgeAluOp },
    { weight: 1, arbitrary: negOp },
    { weight: 2, arbitrary: movsxOp },
    { weight: 2, arbitrary: endOp },
    { weight: 1, arbitrary: lddwOp },
    { weight: 4, arbitrary: ldxOp },
    { weight: 2, arbitrary: stOp },
    { weight: 3, arbitrary: stxOp },
    { weight: atomicBases.length > 0 ? 3 : 0, arbitrary: atomicOp },
  );
}

/** How a register gets a value from the scalars in `srcs`, or a constant. */
function initArb(srcs: readonly Reg[]): fc.Arbitrary<Init> {
  const choices: Array<{ weight: number; arbitrary: fc.Arbitrary<Init> }> = [
    { weight: 1, arbitrary: imm32.map((imm) => ({ k: 'mov64', imm })) },
    { weight: 1, arbitrary: imm32.map((imm) => ({ k: 'mov32', imm })) },
    { weight: 1, arbitrary: val64.map((value) => ({ k: 'lddw', value })) },
  ];
  if (srcs.length > 0) choices.push({ weight: 2, arbitrary: fc.constantFrom(...srcs).map((src): Init => ({ k: 'reg', src })) });
  return fc.oneof(...choices);
}

/** Registers a call does not clobber, readable after it. */
const SURVIVORS: readonly Reg[] = [0, 6, 7, 8, 9];

function callArb(c: Ctx): fc.Arbitrary<Op> {
  const args = initArb(c.srcs);
  // After the call, r1 is reloaded; r2-r5 are set again from r0, r6-r9 (and r1 where it is a scalar).
  const after = initArb([...SURVIVORS, ...(c.srcs.includes(1) ? [1 as Reg] : [])].filter((r) => c.srcs.includes(r)));
  return fc
    .record({ fn: fc.constantFrom(...c.callees), args: fc.array(args, { minLength: 4, maxLength: 4 }), r1: args, after: fc.array(after, { minLength: 4, maxLength: 4 }) })
    .map(({ fn, args, r1, after }) => ({ k: 'call', fn, args, r1: c.fnPtr[fn] ? { k: 'frame' } : r1, after }));
}

const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

function condHolds(opcode: number, a: bigint, b: bigint): boolean {
  const is32 = op.cls(opcode) === op.CLS_JMP32;
  const w = is32 ? 32 : 64;
  const ua = BigInt.asUintN(w, a), ub = BigInt.asUintN(w, b);
  const sa = BigInt.asIntN(w, a), sb = BigInt.asIntN(w, b);
  switch (op.aluOp(opcode)) {
    case op.JMP_JEQ: return ua === ub;
    case op.JMP_JNE: return ua !== ub;
    case op.JMP_JSET: return (ua & ub) !== 0n;
    case op.JMP_JGT: return ua > ub;
    case op.JMP_JGE: return ua >= ub;
    case op.JMP_JLT: return ua < ub;
    case op.JMP_JLE: return ua <= ub;
    case op.JMP_JSGT: return sa > sb;
    case op.JMP_JSGE: return sa >= sb;
    case op.JMP_JSLT: return sa < sb;
    case op.JMP_JSLE: return sa <= sb;
  }
  throw new Error(`not a condition: ${opcode}`);
}

/** How many times a counted loop runs its body, or -1 for more than MAX_ITERS. */
export function tripCount(l: Extract<Op, { k: 'loop' }>): number {
  let v = l.init.is64 ? u64(BigInt(l.init.imm)) : BigInt(l.init.imm >>> 0);
  const stepOf = (x: bigint): bigint =>
    l.step.is64 ? u64(x + BigInt(l.step.imm)) : BigInt.asUintN(32, x + BigInt(l.step.imm));
  const imm = u64(BigInt(l.cond.imm)); // sign-extended, as the kernel compares it
  let n = 0;
  for (;;) {
    if (l.shape === 'top' && condHolds(l.cond.opcode, v, imm)) return n;
    if (++n > MAX_ITERS) return -1;
    v = stepOf(v);
    if (l.shape === 'bottom' && !condHolds(l.cond.opcode, v, imm)) return n;
  }
}

/** Limits worth trying for a counted loop: the values its counter takes, give or take one, as imm. */
function limitCandidates(l: Extract<Op, { k: 'loop' }>): number[] {
  const out = new Set<number>([0, 1, -1]);
  let v = l.init.is64 ? u64(BigInt(l.init.imm)) : BigInt(l.init.imm >>> 0);
  for (let k = 0; k <= MAX_ITERS + 1; k++) {
    for (const d of [-1n, 0n, 1n]) out.add(Number(BigInt.asIntN(32, v + d)));
    v = l.step.is64 ? u64(v + BigInt(l.step.imm)) : BigInt.asUintN(32, v + BigInt(l.step.imm));
  }
  return [...out];
}

const COUNTERS_WITH_CALLS: readonly Reg[] = [6, 7, 8, 9];

function loopArb(c: Ctx): fc.Arbitrary<Op> {
  const candidates = c.dsts.filter((r) => r !== 0 && (c.callees.length === 0 || COUNTERS_WITH_CALLS.includes(r)));
  return fc
    .record({
      shape: fc.constantFrom<'bottom' | 'top'>('bottom', 'top'),
      counter: fc.constantFrom(...candidates),
      init: fc.record({ is64: fc.boolean(), imm: fc.integer({ min: -4, max: 10 }) }),
      step: fc.record({ is64: fc.boolean(), size: fc.constantFrom(1, 1, 1, 2, 3), up: fc.boolean() }),
      cond: fc.record({ is32: fc.boolean(), code: fc.constantFrom(...JMP_CONDS) }),
      /** The trip count wanted, and which of the limits giving it to take. */
      want: fc.integer({ min: 1, max: MAX_ITERS }),
      pick: fc.nat(),
      long: fc.boolean(),
      // may_goto in a counted loop: where may_goto loops are allowed (main, not
      // inside another loop, where the ways out of it would multiply the
      // verifier's paths by the outer trip count).
      mayGoto: c.mg ? fc.boolean() : fc.constant(false),
    })
    .map((r) => {
      // Count towards the limit: down while `counter > limit` (or >=) holds, up
      // while `<` holds; the other way round for the exit test of a top-tested loop.
      const code = r.cond.code;
      const greater = code === op.JMP_JGT || code === op.JMP_JGE || code === op.JMP_JSGT || code === op.JMP_JSGE;
      const less = code === op.JMP_JLT || code === op.JMP_JLE || code === op.JMP_JSLT || code === op.JMP_JSLE;
      const up = greater || less ? (greater === (r.shape === 'top')) : r.step.up;
      const step = { is64: r.step.is64, imm: up ? r.step.size : -r.step.size };
      const l = {
        k: 'loop' as const, shape: r.shape, counter: r.counter, init: r.init, step,
        cond: { opcode: (r.cond.is32 ? op.CLS_JMP32 : op.CLS_JMP) | r.cond.code, imm: 0 },
        long: r.long, mayGoto: r.mayGoto, iters: 0, body: [] as Op[],
      };
      // The limit: one that gives the wanted trip count if there is one (a jeq
      // back jump, for one, never repeats twice), else any that gives 2..MAX_ITERS
      // trips, else 1. Candidates: the counter's values, give or take one.
      const options = limitCandidates(l).map((imm) => ({ ...l, cond: { ...l.cond, imm } })).map((x) => ({ ...x, iters: tripCount(x) }));
      const pool = [
        options.filter((x) => x.iters === r.want),
        options.filter((x) => x.iters >= 2),
        options.filter((x) => x.iters >= 1),
      ].find((p) => p.length > 0);
      return pool === undefined ? null : pool[r.pick % pool.length]!;
    })
    .filter((l) => l !== null)
    .chain((l) => {
      // No conditional jumps in loop bodies: the verifier follows every trip, and
      // undecidable branches would multiply its paths by 2^branches per trip.
      // With may_goto, each trip also leaves a way out that the verifier explores
      // to the end of the program: the body is restricted as in `mgLoopArb`.
      const dsts = c.dsts.filter((r) => r !== l.counter);
      const inner: Ctx = l.mayGoto
        ? { ...c, dsts, stores: ['pkt'], callees: [], loops: 0, mg: false, jumps: false }
        : { ...c, dsts, loops: c.loops - 1, mg: false, jumps: false };
      return fc.array(opArb(inner), { minLength: 1, maxLength: 5 }).map((body): Op => ({ ...l, body }));
    });
}

function mgLoopArb(c: Ctx): fc.Arbitrary<Op> {
  const regs = c.dsts.filter((r) => r !== 0);
  return fc
    .record({
      pair: fc.uniqueArray(fc.constantFrom(...regs), { minLength: 2, maxLength: 2 }),
      is32: fc.boolean(),
      code: fc.constantFrom(...MG_CONDS),
      iters: fc.integer({ min: 1, max: MAX_ITERS }),
    })
    .chain(({ pair, is32, code, iters }) => {
      const [counter, limit] = pair as [Reg, Reg];
      const keep = (r: Reg): boolean => r !== counter && r !== limit;
      // The verifier explores the way out of a may_goto loop first, then widens
      // the registers that no decided branch depends on, until the loop's state
      // repeats. So nothing may tie a decided branch to what changes from trip
      // to trip: the body has no branches and no calls, stores only into the
      // packet, and the registers it changes are laundered through the packet
      // after the loop (see diff-program.ts).
      const inner: Ctx = {
        ...c, dsts: c.dsts.filter(keep), srcs: c.srcs.filter(keep), stores: ['pkt'], callees: [], loops: 0, mg: false, jumps: false,
      };
      return fc.array(opArb(inner), { minLength: 1, maxLength: 6 }).map((body): Op => ({
        k: 'mgloop', counter, limit, condOpcode: (is32 ? op.CLS_JMP32 : op.CLS_JMP) | code | op.SRC_X, iters, at: DUMP, body,
      }));
    });
}

const opCache = new Map<string, fc.Arbitrary<Op>>();

/** Any operation allowed in `c`. */
export function opArb(c: Ctx): fc.Arbitrary<Op> {
  const key = JSON.stringify(c);
  const hit = opCache.get(key);
  if (hit) return hit;
  const simple = simpleArb(c);
  const choices: Array<{ weight: number; arbitrary: fc.Arbitrary<Op> }> = [{ weight: 12, arbitrary: simple }];
  if (c.jumps) {
    const cond = condArb(c);
    choices.push({ weight: 3, arbitrary: fc.record({ cond, skip: skipArb }).map(({ cond, skip }): Op => ({ k: 'jcond', ...cond, skip })) });
    choices.push({
      weight: 1,
      arbitrary: fc
        .record({ cond, then: fc.array(simple, { maxLength: 4 }), else: fc.array(simple, { minLength: 1, maxLength: 4 }), long: fc.boolean() })
        .map((r): Op => ({ k: 'ifelse', ...r })),
    });
  }
  if (c.callees.length > 0) choices.push({ weight: 1, arbitrary: callArb(c) });
  // Loops are built lazily: their bodies refer back to opArb.
  let loop: fc.Arbitrary<Op> | undefined;
  let mgLoop: fc.Arbitrary<Op> | undefined;
  if (c.loops > 0) choices.push({ weight: 1, arbitrary: fc.constant(null).chain(() => (loop ??= loopArb(c))) });
  if (c.mg) choices.push({ weight: 1, arbitrary: fc.constant(null).chain(() => (mgLoop ??= mgLoopArb(c))) });
  const arb = fc.oneof(...choices);
  opCache.set(key, arb);
  return arb;
}

const stackInit = (srcs: readonly Reg[]) => fc.oneof(
  imm32.map((imm) => ({ k: 'imm' as const, imm })),
  fc.constantFrom(...srcs).map((src) => ({ k: 'reg' as const, src })),
);

/** The packet: random bytes, with some 8-byte words set to edge values. */
const packetArb: fc.Arbitrary<Uint8Array> = fc
  .record({
    bytes: fc.uint8Array({ minLength: PACKET, maxLength: PACKET }),
    edges: fc.array(fc.record({ word: fc.nat({ max: PACKET / 8 - 1 }), value: fc.constantFrom(...SPECIAL64) }), { maxLength: 10 }),
  })
  .map(({ bytes, edges }) => {
    const p = bytes.slice();
    for (const { word, value } of edges) p.set(le64(value), 8 * word);
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

const MAIN_REGS: readonly Reg[] = SCALARS;

/** Where the operations of subprogram `k` are generated. */
function fnCtx(k: number, ptr: readonly boolean[], stack: number): Ctx {
  const p = ptr[k]!;
  const scalars: Reg[] = p ? [0, 2, 3, 4, 5, 6, 7, 8, 9] : [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const mem: Base[] = p ? ['stack', 'up'] : ['stack'];
  const callees = Array.from({ length: ptr.length - k - 1 }, (_, j) => k + 1 + j);
  return { dsts: scalars, srcs: scalars, bases: mem, stores: mem, stack, callees, fnPtr: ptr, loops: 1, mg: false, jumps: true };
}

function fnArb(k: number, ptr: readonly boolean[], stack: number): fc.Arbitrary<FnSpec> {
  const p = ptr[k]!;
  const c = fnCtx(k, ptr, stack);
  const scalars = c.srcs;
  return fc.record({
    ptr: fc.constant(p),
    stack: fc.constant(stack),
    regs: fc.array(initArb(scalars.filter((r) => r >= 1 && r <= 5)), { minLength: 5, maxLength: 5 }),
    slots: fc.array(stackInit(scalars), { minLength: stack / 8, maxLength: stack / 8 }),
    ops: fc.array(opArb(c), { minLength: 2, maxLength: 8 }),
  });
}

/** Every `may_goto` loop of the main function, in order (they get their own trip-count word). */
function placeMgLoops(ops: readonly Op[], packet: Uint8Array, next: { at: number }): Op[] {
  return ops.map((o): Op => {
    switch (o.k) {
      case 'seq': return { ...o, ops: placeMgLoops(o.ops, packet, next) };
      case 'ifelse': return { ...o, then: placeMgLoops(o.then, packet, next), else: placeMgLoops(o.else, packet, next) };
      case 'loop': return { ...o, body: placeMgLoops(o.body, packet, next) };
      case 'mgloop': {
        if (next.at + 8 > PACKET) throw new Error('too many may_goto loops');
        const at = next.at;
        next.at += 8;
        const code = op.aluOp(o.condOpcode);
        const limit = code === op.JMP_JLE || code === op.JMP_JSLE ? o.iters - 1 : o.iters;
        packet.set(le64(BigInt(limit)), at);
        return { ...o, at, body: placeMgLoops(o.body, packet, next) };
      }
      default: return o;
    }
  });
}

const specCache = new Map<string, fc.Arbitrary<Omit<DiffSpec, 'fns'> & { fns: FnSpec[]; fallback: Array<{ call: Op; at: number }> }>>();

/** A whole differential program description with its random packet. */
export function diffSpec(o: DiffArbOptions = {}): fc.Arbitrary<DiffSpec> {
  return fc
    .record({
      nfns: fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: fc.integer({ min: 1, max: MAX_FNS }) }),
      ptr: fc.array(fc.boolean(), { minLength: MAX_FNS, maxLength: MAX_FNS }),
      stacks: fc.array(fc.constantFrom(...FN_STACKS), { minLength: MAX_FNS, maxLength: MAX_FNS }),
    })
    .chain(({ nfns, ptr, stacks }) => {
      const ptrs = ptr.slice(0, nfns);
      const key = JSON.stringify([ptrs, stacks.slice(0, nfns), o]);
      const hit = specCache.get(key);
      if (hit) return hit;
      const main: Ctx = {
        dsts: MAIN_REGS, srcs: MAIN_REGS, bases: ['pkt', 'stack'], stores: ['pkt', 'stack'], stack: STACK,
        callees: ptrs.map((_, k) => k), fnPtr: ptrs, loops: 2, mg: true, jumps: true,
      };
      const arb = fc.record({
        regs: fc.tuple(...SCALARS.map((r) => (r === 2
          ? fc.oneof({ weight: 3, arbitrary: initArb([]) }, { weight: 1, arbitrary: fc.constant<Init>({ k: 'keep' }) })
          : initArb([])))),
        stack: fc.array(stackInit(MAIN_REGS), { minLength: STACK / 8, maxLength: STACK / 8 }),
        ops: fc.array(opArb(main), { minLength: o.minOps ?? 8, maxLength: o.maxOps ?? 30 }),
        fns: fc.tuple(...ptrs.map((_, k) => fnArb(k, ptrs, stacks[k]!))),
        // For each subprogram, a call from main (subprogram 0) or from the
        // subprogram before it, added when nothing else calls it (the verifier
        // refuses unreachable code; calling from the one before makes deep
        // call chains common).
        fallback: fc.tuple(...ptrs.map((_, k) => fc.record({
          call: callArb({ ...(k === 0 ? main : fnCtx(k - 1, ptrs, stacks[k - 1]!)), callees: [k] }),
          at: fc.nat(),
        }))),
        packet: packetArb,
      });
      specCache.set(key, arb);
      return arb;
    })
    .map((s): DiffSpec => {
      const ops = [...s.ops];
      const fns = s.fns.map((f) => ({ ...f, ops: [...f.ops] }));
      const reached = new Set<number>();
      const visit = (list: readonly Op[]): void => {
        for (const f of callsIn(list)) {
          if (reached.has(f)) continue;
          reached.add(f);
          visit(fns[f]!.ops);
        }
      };
      visit(ops);
      s.fallback.forEach(({ call, at }, k) => {
        if (reached.has(k)) return;
        const caller = k === 0 ? ops : fns[k - 1]!.ops; // reached by now
        caller.splice(at % (caller.length + 1), 0, call);
        visit([call]);
      });
      // Fill in the trip counts of may_goto loops (into a copy of the packet).
      const packet = s.packet.slice();
      return { regs: s.regs, stack: s.stack, ops: placeMgLoops(ops, packet, { at: DUMP }), fns, packet };
    });
}

/** Subprograms called directly by these operations. */
export function callsIn(ops: readonly Op[]): number[] {
  return ops.flatMap((o) => {
    switch (o.k) {
      case 'call': return [o.fn];
      case 'seq': return callsIn(o.ops);
      case 'ifelse': return [...callsIn(o.then), ...callsIn(o.else)];
      case 'loop': case 'mgloop': return callsIn(o.body);
      default: return [];
    }
  });
}
