/**
 * Differential programs: a description (`DiffSpec`) of a random program and
 * how it is turned into
 *  - the body, which the vm runs with r1 = packet and r2 = its length, and
 *  - the kernel program: an XDP prologue that loads data/data_end, bounds-checks
 *    the packet (dropping short ones) and sets r1/r2 the same way, then the
 *    very same body.
 *
 * The body is the main function (register and stack set-up, the operations,
 * then an epilogue that dumps the state into the packet and exits) followed by
 * up to MAX_FNS subprograms that the main function (or a lower-numbered
 * subprogram) reaches with `call pc+N`. Control flow: forward conditional
 * jumps, if/else with `ja`/`gotol`, counted loops (backward jumps), loops
 * bounded only by `may_goto`, and bpf-to-bpf calls.
 *
 * Layout of the packet (PACKET bytes): the main function may load from
 * anywhere in it, stores go to [0, WORK); the epilogue dumps r0, r2-r9 and
 * the stack area (STACK bytes below r10) to [DUMP, PACKET). Loops bounded by
 * `may_goto` read their trip count from the dump area (which the body never
 * writes), so the verifier cannot bound them but the run does.
 *
 * Register discipline:
 *  - main: r1 is the packet pointer, r0 and r2-r9 are scalars;
 *  - a subprogram gets scalars in r1-r5, or, when it takes a pointer, r1 =
 *    the caller's r10 - UP (so it may read and write the caller's top UP
 *    bytes of stack) and scalars in r2-r5; it sets r0 and r6-r9 itself, and
 *    before returning folds its own stack into r0;
 *  - main (when there are subprograms) and every subprogram spill r1 at
 *    entry below their data stack; after each call r1 is reloaded and r2-r5,
 *    which the call clobbered, are set again before anything reads them.
 *    The caller's r6-r9 and its stack must survive the call: main dumps them.
 *
 * `may_goto` never takes its jump in these programs (no loop comes near
 * either limit), so the result does not depend on the budget, which differs:
 * the vm falls through MAY_GOTO_LIMIT (8M) times per run, while Linux 6.18 on
 * x86-64 gives each function invocation its own budget, and a time-based one
 * (about 250 ms, checked every 65535 fall-throughs).
 */
import { type Instruction, insn, splitImm64 } from '../../src/isa/index.js';
import * as op from '../../src/isa/opcodes.js';

export const STACK = 64;
export const SCALARS = [0, 2, 3, 4, 5, 6, 7, 8, 9] as const;
export const WORK = 136;
export const DUMP = WORK;
export const PACKET = DUMP + SCALARS.length * 8 + STACK; // 272
/** Subprograms at most; the call graph only goes from lower to higher numbers, so depth <= MAX_FNS + 1 frames. */
export const MAX_FNS = 3;
/** Bytes of the caller's stack (just below its r10) that a pointer argument covers. */
export const UP = 32;
/** Data stack sizes a subprogram may have (each >= UP). */
export const FN_STACKS = [32, 64] as const;
/** Most iterations of any generated loop. */
export const MAX_ITERS = 8;
/** Packet word (in the work area) through which `may_goto` loops launder registers. */
export const LAUNDER = WORK - 8;

export type Reg = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
/** Memory bases: the packet (r1 in main), the own stack (r10), the caller's stack (r1 in a pointer-taking subprogram). */
export type Base = 'pkt' | 'stack' | 'up';

/** How a register gets a value (initialisation, call arguments, re-initialisation after a call). */
export type Init =
  | { k: 'mov64'; imm: number }
  | { k: 'mov32'; imm: number }
  | { k: 'lddw'; value: bigint }
  | { k: 'reg'; src: Reg }
  | { k: 'keep' }; // only r2 in main: keep the packet length

/** A conditional jump's condition: `if dst <op> src|imm`. */
export interface Cond {
  opcode: number;
  dst: Reg;
  src: Reg;
  imm: number;
}

/** One operation of a function. Offsets are already legal for their base. */
export type Op =
  | { k: 'alu'; opcode: number; dst: Reg; src: Reg; off: number; imm: number }
  | { k: 'lddw'; dst: Reg; value: bigint }
  | { k: 'ldx'; opcode: number; dst: Reg; base: Base; off: number }
  | { k: 'st'; opcode: number; base: Base; off: number; imm: number }
  | { k: 'stx'; opcode: number; base: Base; off: number; src: Reg }
  | { k: 'atomic'; opcode: number; aop: number; base: 'stack' | 'up'; off: number; src: Reg }
  | ({ k: 'jcond'; skip: number } & Cond)
  /** Operations in a row; when `glued`, no jump may land between them. */
  | { k: 'seq'; ops: Op[]; glued?: boolean }
  | { k: 'ifelse'; cond: Cond; then: Op[]; else: Op[]; long: boolean }
  /**
   * bpf-to-bpf call of subprogram `fn`: set r2-r5 (`args`), then r1 (`r1`,
   * or the caller's r10 - UP when the callee takes a pointer), call, reload
   * r1 from the spill slot and re-initialise r2-r5 (`after`).
   */
  | { k: 'call'; fn: number; args: Init[]; r1: Init | { k: 'frame' }; after: Init[] }
  /**
   * A counted loop on `counter` (which the body never writes):
   *   bottom: counter = init; L: [may_goto out]; body; counter += step; if counter <cond> goto L; out:
   *   top:    counter = init; L: if counter <cond> goto out; [may_goto out]; body; counter += step; ja/gotol L; out:
   * `iters` is the trip count, worked out by the generator (1..MAX_ITERS).
   */
  | {
    k: 'loop'; shape: 'bottom' | 'top'; counter: Reg; init: { is64: boolean; imm: number }; step: { is64: boolean; imm: number };
    cond: { opcode: number; imm: number }; long: boolean; mayGoto: boolean; iters: number; body: Op[];
  }
  /**
   * A loop that only `may_goto` bounds for the verifier (main only):
   *   counter = 0; limit = *(u64 *)(pkt + at); L: may_goto out; body; counter += 1; if counter <cond> limit goto L; out:
   * The packet holds `limitValue` at `at` (in the dump area), so the run makes `iters` trips.
   * The body reads and writes neither register and has no conditional jumps.
   */
  | { k: 'mgloop'; counter: Reg; limit: Reg; condOpcode: number; iters: number; at: number; body: Op[] };

/** A subprogram. */
export interface FnSpec {
  /** r1 is a pointer to the caller's top UP bytes of stack. */
  ptr: boolean;
  /** Data stack bytes (FN_STACKS); r1 is spilled just below. */
  stack: number;
  /** Initial r0, r6, r7, r8, r9. */
  regs: Init[];
  /** For each 8-byte slot of the data stack. */
  slots: Array<{ k: 'imm'; imm: number } | { k: 'reg'; src: Reg }>;
  ops: Op[];
}

export interface DiffSpec {
  /** Initial values of r0, r2-r9, in SCALARS order. */
  regs: Init[];
  /** For each 8-byte stack slot (r10-8, r10-16, ...): an imm store, or a copy of a register. */
  stack: Array<{ k: 'imm'; imm: number } | { k: 'reg'; src: Reg }>;
  ops: Op[];
  /** Subprograms, numbered from 0. */
  fns: FnSpec[];
  packet: Uint8Array;
}

export interface BuiltProgram {
  /** What the vm runs (r1 = packet, r2 = PACKET). */
  body: Instruction[];
  /** What the kernel runs as XDP. */
  kernel: Instruction[];
  /** Slot of each function's first instruction in the body: main (0), then the subprograms. */
  fnStarts: number[];
}

const R1 = 1;
const R10 = 10;
/** Main's spill slot for r1 (below the dumped stack area). */
export const MAIN_SPILL = -(STACK + 8);
const spillOf = (stack: number): number => -(stack + 8);

/** Jumps may land only on lines of their own scope, or on the scope's end. */
interface Scope {
  end: number;
}

/** A line of the body before jump offsets are known. */
interface Line {
  insn: Instruction;
  scope: Scope;
  /** Target line index. */
  to?: number;
  /** The target is `skip` lines after this one, clamped to the end of the scope. */
  skip?: number;
  /** No jump may land here (inside a glued sequence). */
  noTarget?: boolean;
  /** A local call to this subprogram. */
  call?: number;
}

const lddw = (dst: number, value: bigint): Instruction => insn(op.OP_LDDW, { dst, ...splitImm64(value) });
const mov64 = (dst: number, imm: number): Instruction => insn(op.CLS_ALU64 | op.ALU_MOV | op.SRC_K, { dst, imm });
const movX = (dst: number, src: number): Instruction => insn(op.CLS_ALU64 | op.ALU_MOV | op.SRC_X, { dst, src });
const stxDw = (dst: number, src: number, off: number): Instruction => insn(op.CLS_STX | op.MODE_MEM | op.SIZE_DW, { dst, src, off });
const ldxDw = (dst: number, src: number, off: number): Instruction => insn(op.CLS_LDX | op.MODE_MEM | op.SIZE_DW, { dst, src, off });

function memBase(base: Base): number {
  return base === 'stack' ? R10 : R1;
}

function initInsn(dst: Reg, init: Init): Instruction {
  switch (init.k) {
    case 'mov64': return mov64(dst, init.imm);
    case 'mov32': return insn(op.CLS_ALU | op.ALU_MOV | op.SRC_K, { dst, imm: init.imm });
    case 'lddw': return lddw(dst, init.value);
    case 'reg': return movX(dst, init.src);
    case 'keep': return mov64(dst, 0);
  }
}

class Emitter {
  readonly lines: Line[] = [];
  constructor(private scope: Scope) {}

  push(i: Instruction, extra: Partial<Omit<Line, 'insn' | 'scope'>> = {}): Line {
    const l: Line = { insn: i, scope: this.scope, ...extra };
    this.lines.push(l);
    return l;
  }

  get next(): number {
    return this.lines.length;
  }

  /** Emits `f()` in a new scope whose end is whatever line follows it. */
  nested(f: () => void): Scope {
    const outer = this.scope;
    const inner: Scope = { end: -1 };
    this.scope = inner;
    f();
    this.scope = outer;
    inner.end = this.next;
    return inner;
  }

  ops(list: readonly Op[], spill: number): void {
    for (const o of list) this.op(o, spill);
  }

  op(o: Op, spill: number): void {
    switch (o.k) {
      case 'alu':
        this.push(insn(o.opcode, { dst: o.dst, src: o.opcode & op.SRC_X && !isEnd(o.opcode) ? o.src : 0, off: o.off, imm: o.imm }));
        return;
      case 'lddw':
        this.push(lddw(o.dst, o.value));
        return;
      case 'ldx':
        this.push(insn(o.opcode, { dst: o.dst, src: memBase(o.base), off: o.off }));
        return;
      case 'st':
        this.push(insn(o.opcode, { dst: memBase(o.base), off: o.off, imm: o.imm }));
        return;
      case 'stx':
        this.push(insn(o.opcode, { dst: memBase(o.base), src: o.src, off: o.off }));
        return;
      case 'atomic':
        if (o.aop === op.ATOMIC_LOAD_ACQ) this.push(insn(o.opcode, { dst: o.src, src: memBase(o.base), off: o.off, imm: o.aop }));
        else this.push(insn(o.opcode, { dst: memBase(o.base), src: o.src, off: o.off, imm: o.aop }));
        return;
      case 'seq': {
        const first = this.next;
        this.ops(o.ops, spill);
        if (o.glued) for (let k = first + 1; k < this.next; k++) this.lines[k]!.noTarget = true;
        return;
      }
      case 'jcond':
        this.push(condInsn(o), { skip: o.skip });
        return;
      case 'ifelse': {
        const cond = this.push(condInsn(o.cond));
        this.ops(o.then, spill);
        const jump = this.push(o.long ? insn(op.OP_JA32) : insn(op.OP_JA));
        cond.to = this.next; // the else block
        this.ops(o.else, spill);
        jump.to = this.next; // after the else block
        return;
      }
      case 'call': {
        o.args.forEach((a, k) => this.push(initInsn((k + 2) as Reg, a)));
        // From setting r1 to the call, no jump may land: r1 must be the argument.
        if (o.r1.k === 'frame') {
          this.push(movX(R1, R10));
          this.push(insn(op.CLS_ALU64 | op.ALU_ADD | op.SRC_K, { dst: R1, imm: -UP }), { noTarget: true });
        } else {
          this.push(initInsn(1, o.r1));
        }
        this.push(insn(op.OP_CALL, { src: op.CALL_LOCAL }), { call: o.fn, noTarget: true });
        this.push(ldxDw(R1, R10, spill));
        o.after.forEach((a, k) => this.push(initInsn((k + 2) as Reg, a)));
        return;
      }
      case 'loop': {
        const c = o.counter;
        this.push(o.init.is64 ? mov64(c, o.init.imm) : insn(op.CLS_ALU | op.ALU_MOV | op.SRC_K, { dst: c, imm: o.init.imm }));
        const step = insn((o.step.is64 ? op.CLS_ALU64 : op.CLS_ALU) | op.ALU_ADD | op.SRC_K, { dst: c, imm: o.step.imm });
        const test = insn(o.cond.opcode, { dst: c, imm: o.cond.imm });
        const exits: Line[] = [];
        const head = this.next;
        const body = this.nested(() => {
          if (o.shape === 'top') exits.push(this.push(test));
          if (o.mayGoto) exits.push(this.push(insn(op.OP_MAY_GOTO)));
          this.ops(o.body, spill);
        });
        // The body's scope ends at the step line; the step and the back jump belong to it too.
        this.withScope(body, () => {
          this.push(step);
          if (o.shape === 'top') this.push(o.long ? insn(op.OP_JA32) : insn(op.OP_JA), { to: head });
          else this.push(test, { to: head });
        });
        for (const e of exits) e.to = this.next;
        if (o.mayGoto) this.launder([o.counter, ...written(o.body)]);
        return;
      }
      case 'mgloop': {
        this.push(mov64(o.counter, 0));
        // No jump may land between the two: the counter must start at 0.
        this.push(ldxDw(o.limit, R1, o.at), { noTarget: true });
        const head = this.next;
        let exit: Line | undefined;
        const body = this.nested(() => {
          exit = this.push(insn(op.OP_MAY_GOTO));
          this.ops(o.body, spill);
        });
        this.withScope(body, () => {
          this.push(insn(op.CLS_ALU64 | op.ALU_ADD | op.SRC_K, { dst: o.counter, imm: 1 }));
          this.push(insn(o.condOpcode, { dst: o.counter, src: o.limit }), { to: head });
        });
        exit!.to = this.next;
        // Launder what the loop changed through the packet: same values, but the
        // verifier no longer knows them, so no later branch decided on them can
        // make it tell one trip from the next (see diff-arb.ts).
        this.launder([o.counter, o.limit, ...written(o.body)]);
        return;
      }
    }
  }

  /**
   * Stores each register into the packet and loads it back: same values, but
   * the verifier no longer knows them (main only: r1 is the packet).
   */
  launder(regs: readonly Reg[]): void {
    for (const r of regs.filter((r, k, all) => all.indexOf(r) === k)) {
      this.push(stxDw(R1, r, LAUNDER));
      this.push(ldxDw(r, R1, LAUNDER));
    }
  }

  withScope(s: Scope, f: () => void): void {
    const outer = this.scope;
    this.scope = s;
    f();
    this.scope = outer;
  }
}

const isEnd = (opcode: number): boolean => op.aluOp(opcode) === op.ALU_END;

/** Registers that straight-line operations write. */
function written(ops: readonly Op[]): Reg[] {
  return ops.flatMap((o): Reg[] => {
    switch (o.k) {
      case 'alu': case 'lddw': case 'ldx': return [o.dst];
      case 'atomic': return o.aop === op.ATOMIC_CMPXCHG ? [0] : o.aop === op.ATOMIC_LOAD_ACQ || o.aop & op.ATOMIC_FETCH ? [o.src] : [];
      case 'seq': return written(o.ops);
      case 'st': case 'stx': return [];
      default: throw new Error(`unexpected ${o.k} in a may_goto loop`);
    }
  });
}

function condInsn(c: Cond): Instruction {
  const x = (c.opcode & op.SRC_X) !== 0;
  return insn(c.opcode, { dst: c.dst, src: x ? c.src : 0, imm: x ? 0 : c.imm });
}

function slotInsn(off: number, init: { k: 'imm'; imm: number } | { k: 'reg'; src: Reg }): Instruction {
  return init.k === 'imm'
    ? insn(op.CLS_ST | op.MODE_MEM | op.SIZE_DW, { dst: R10, off, imm: init.imm })
    : stxDw(R10, init.src, off);
}

function emitMain(spec: DiffSpec, e: Emitter): void {
  if (spec.fns.length > 0) e.push(stxDw(R10, R1, MAIN_SPILL));
  SCALARS.forEach((r, k) => {
    const init = spec.regs[k] ?? { k: 'mov64', imm: 0 };
    if (init.k === 'keep' && r === 2) return;
    e.push(initInsn(r, init));
  });
  for (let s = 0; s < STACK / 8; s++) e.push(slotInsn(-8 * (s + 1), spec.stack[s] ?? { k: 'imm', imm: 0 }));
  e.nested(() => e.ops(spec.ops, MAIN_SPILL));
  // Epilogue: store r0, r2-r9 and the stack area into the dump area, then exit with r0.
  SCALARS.forEach((r, k) => e.push(stxDw(R1, r, DUMP + 8 * k)));
  for (let s = 0; s < STACK / 8; s++) {
    e.push(ldxDw(2, R10, -STACK + 8 * s));
    e.push(stxDw(R1, 2, DUMP + SCALARS.length * 8 + 8 * s));
  }
  e.push(insn(op.OP_EXIT));
}

const FN_REGS = [0, 6, 7, 8, 9] as const;

function emitFn(f: FnSpec, e: Emitter): void {
  const spill = spillOf(f.stack);
  e.push(stxDw(R10, R1, spill));
  FN_REGS.forEach((r, k) => e.push(initInsn(r, f.regs[k] ?? { k: 'mov64', imm: 0 })));
  for (let s = 0; s < f.stack / 8; s++) e.push(slotInsn(-8 * (s + 1), f.slots[s] ?? { k: 'imm', imm: 0 }));
  e.nested(() => e.ops(f.ops, spill));
  // Fold the data stack into r0 so that what the subprogram did to it shows.
  for (let s = 0; s < f.stack / 8; s++) {
    e.push(ldxDw(2, R10, -8 * (s + 1)));
    e.push(insn(op.CLS_ALU64 | (s % 2 ? op.ALU_XOR : op.ALU_SUB) | op.SRC_X, { dst: 0, src: 2 }));
  }
  e.push(insn(op.OP_EXIT));
}

/** Resolves line targets to slot offsets (an lddw takes two slots). */
function resolve(lines: Line[], fnLines: number[]): Instruction[] {
  const slotOf: number[] = [];
  let slot = 0;
  for (const l of lines) {
    slotOf.push(slot);
    slot += l.insn.opcode === op.OP_LDDW ? 2 : 1;
  }
  slotOf.push(slot);
  return lines.map((l, k) => {
    if (l.call !== undefined) return { ...l.insn, imm: slotOf[fnLines[l.call + 1]!]! - slotOf[k]! - 1 };
    let to = l.to;
    if (l.skip !== undefined) {
      const end = l.scope.end;
      to = Math.min(k + 1 + l.skip, end);
      while (to < end && (lines[to]!.noTarget || lines[to]!.scope !== l.scope)) to++;
    }
    if (to === undefined) return l.insn;
    const rel = slotOf[to]! - slotOf[k]! - 1;
    return l.insn.opcode === op.OP_JA32 ? { ...l.insn, imm: rel } : { ...l.insn, off: rel };
  });
}

/**
 * The kernel's XDP prologue: drops a packet shorter than PACKET, otherwise
 * sets r1 = data and r2 = PACKET, then falls into the body.
 */
export function prologue(): Instruction[] {
  return [
    insn(op.CLS_LDX | op.MODE_MEM | op.SIZE_W, { dst: 2, src: R1, off: 0 }), // r2 = ctx->data
    insn(op.CLS_LDX | op.MODE_MEM | op.SIZE_W, { dst: 3, src: R1, off: 4 }), // r3 = ctx->data_end
    movX(4, 2),
    insn(op.CLS_ALU64 | op.ALU_ADD | op.SRC_K, { dst: 4, imm: PACKET }),
    insn(op.CLS_JMP | op.JMP_JLE | op.SRC_X, { dst: 4, src: 3, off: 2 }), // long enough: skip the drop
    mov64(0, 0), // drop: r0 = XDP_ABORTED
    insn(op.OP_EXIT),
    movX(R1, 2),
    mov64(2, PACKET),
  ];
}

export function build(spec: DiffSpec): BuiltProgram {
  const e = new Emitter({ end: 0 });
  const fnLines = [0];
  emitMain(spec, e);
  for (const f of spec.fns) {
    fnLines.push(e.next);
    emitFn(f, e);
  }
  const body = resolve(e.lines, fnLines);
  const fnStarts: number[] = [];
  let slot = 0;
  body.forEach((i, k) => {
    if (fnLines.includes(k)) fnStarts.push(slot);
    slot += i.opcode === op.OP_LDDW ? 2 : 1;
  });
  return { body, kernel: [...prologue(), ...body], fnStarts };
}
