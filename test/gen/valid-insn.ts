/**
 * fast-check arbitraries for valid eBPF instructions and programs.
 *
 * - `arbInstruction()`: one instruction that passes `validate()`, from every
 *   opcode family (ALU/ALU64 incl. sdiv/smod, movsx, addr_space_cast, neg,
 *   byte swaps; lddw with every pseudo source; LD_ABS/LD_IND; LDX incl.
 *   sign-extending; ST; STX; atomics incl. load-acquire/store-release; JMP and
 *   JMP32 conditionals; ja, gotol, may_goto, helper/local/kfunc calls, callx,
 *   exit). Jump offsets are arbitrary.
 * - `arbProgram()`: a program whose jumps, local calls and `func` references
 *   all land on the first slot of an instruction inside the program.
 */
import fc from 'fast-check';
import * as op from '../../src/isa/index.js';
import type { Instruction } from '../../src/isa/index.js';

/** An instruction plus which field, if any, holds a relative target. */
export interface GenInsn {
  insn: Instruction;
  branch?: 'off' | 'imm';
}

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;

/** 32-bit immediates, biased towards edge values. */
export const arbImm32 = (): fc.Arbitrary<number> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: I32_MIN, max: I32_MAX }) },
    { weight: 1, arbitrary: fc.constantFrom(0, 1, -1, 16, 32, 64, I32_MAX, I32_MIN, 0x7fff, -0x8000) },
    { weight: 2, arbitrary: fc.integer({ min: -300, max: 300 }) },
  );
export const arbOff16 = (): fc.Arbitrary<number> =>
  fc.oneof(fc.integer({ min: -32768, max: 32767 }), fc.constantFrom(0, -1, 1, -32768, 32767), fc.integer({ min: -64, max: 64 }));

/** Registers: any (r0-r10) and writable (r0-r9). */
const anyReg = fc.integer({ min: 0, max: 10 });
const wReg = fc.integer({ min: 0, max: 9 });
const sizes = fc.constantFrom(op.SIZE_B, op.SIZE_H, op.SIZE_W, op.SIZE_DW);
const aluCls = fc.constantFrom(op.CLS_ALU, op.CLS_ALU64);
const jmpCls = fc.constantFrom(op.CLS_JMP, op.CLS_JMP32);
const ALU_BINARY = [
  op.ALU_ADD, op.ALU_SUB, op.ALU_MUL, op.ALU_DIV, op.ALU_OR, op.ALU_AND, op.ALU_LSH,
  op.ALU_RSH, op.ALU_MOD, op.ALU_XOR, op.ALU_MOV, op.ALU_ARSH,
];
const JMP_COND = [
  op.JMP_JEQ, op.JMP_JGT, op.JMP_JGE, op.JMP_JSET, op.JMP_JNE, op.JMP_JSGT, op.JMP_JSGE,
  op.JMP_JLT, op.JMP_JLE, op.JMP_JSLT, op.JMP_JSLE,
];
const ATOMIC_OPS = [
  op.ATOMIC_ADD, op.ATOMIC_OR, op.ATOMIC_AND, op.ATOMIC_XOR,
  op.ATOMIC_ADD | op.ATOMIC_FETCH, op.ATOMIC_OR | op.ATOMIC_FETCH, op.ATOMIC_AND | op.ATOMIC_FETCH,
  op.ATOMIC_XOR | op.ATOMIC_FETCH, op.ATOMIC_XCHG, op.ATOMIC_CMPXCHG,
];

const plain = (insn: Instruction): GenInsn => ({ insn });

const alu = fc
  .record({ cls: aluCls, code: fc.constantFrom(...ALU_BINARY), x: fc.boolean(), dst: wReg, src: anyReg, imm: arbImm32(), signed: fc.boolean() })
  .map(({ cls, code, x, dst, src, imm, signed }) => {
    const off = signed && (code === op.ALU_DIV || code === op.ALU_MOD) ? 1 : 0;
    return plain(x ? op.insn(cls | code | op.SRC_X, { dst, src, off }) : op.insn(cls | code | op.SRC_K, { dst, off, imm }));
  });

const movsx = fc
  .record({ cls: aluCls, dst: wReg, src: anyReg, from: fc.constantFrom(8, 16, 32) })
  .map(({ cls, dst, src, from }) => {
    const off = cls === op.CLS_ALU && from === 32 ? 16 : from;
    return plain(op.insn(cls | op.ALU_MOV | op.SRC_X, { dst, src, off }));
  });

const addrSpaceCast = fc
  .record({ dst: wReg, src: anyReg, imm: fc.constantFrom(1, 0x10000) })
  .map(({ dst, src, imm }) => plain(op.insn(op.CLS_ALU64 | op.ALU_MOV | op.SRC_X, { dst, src, off: op.OFF_ADDR_SPACE_CAST, imm })));

const neg = fc.record({ cls: aluCls, dst: wReg }).map(({ cls, dst }) => plain(op.insn(cls | op.ALU_NEG, { dst })));

const end = fc
  .record({ code: fc.constantFrom(0xd4, 0xdc, 0xd7), dst: wReg, imm: fc.constantFrom(16, 32, 64) })
  .map(({ code, dst, imm }) => plain(op.insn(code, { dst, imm })));

const lddw = fc
  .record({ src: fc.integer({ min: 0, max: 6 }), dst: wReg, imm: arbImm32(), imm2: arbImm32(), btfImm2: fc.boolean() })
  .map(({ src, dst, imm, imm2, btfImm2 }): GenInsn => {
    const noImm2 = src === op.PSEUDO_MAP_FD || src === op.PSEUDO_FUNC || src === op.PSEUDO_MAP_IDX || (src === op.PSEUDO_BTF_ID && !btfImm2);
    const insn = op.insn(op.OP_LDDW, { dst, src, imm, imm2: noImm2 ? 0 : imm2 });
    return src === op.PSEUDO_FUNC ? { insn, branch: 'imm' } : { insn };
  });

const packet = fc
  .record({ ind: fc.boolean(), size: fc.constantFrom(op.SIZE_B, op.SIZE_H, op.SIZE_W), src: anyReg, imm: arbImm32() })
  .map(({ ind, size, src, imm }) =>
    plain(ind ? op.insn(op.CLS_LD | op.MODE_IND | size, { src, imm }) : op.insn(op.CLS_LD | op.MODE_ABS | size, { imm })));

const ldx = fc
  .record({ size: sizes, sx: fc.boolean(), dst: wReg, src: anyReg, off: arbOff16() })
  .map(({ size, sx, dst, src, off }) => {
    const mode = sx && size !== op.SIZE_DW ? op.MODE_MEMSX : op.MODE_MEM;
    return plain(op.insn(op.CLS_LDX | mode | size, { dst, src, off }));
  });

const st = fc
  .record({ size: sizes, dst: anyReg, off: arbOff16(), imm: arbImm32() })
  .map(({ size, dst, off, imm }) => plain(op.insn(op.CLS_ST | op.MODE_MEM | size, { dst, off, imm })));

const stx = fc
  .record({ size: sizes, dst: anyReg, src: anyReg, off: arbOff16() })
  .map(({ size, dst, src, off }) => plain(op.insn(op.CLS_STX | op.MODE_MEM | size, { dst, src, off })));

const atomic = fc
  .record({ dw: fc.boolean(), dst: anyReg, src: anyReg, off: arbOff16(), imm: fc.constantFrom(...ATOMIC_OPS) })
  // The fetch forms and xchg write src, and r10 is read-only.
  .filter(({ src, imm }) => src !== 10 || (imm & op.ATOMIC_FETCH) === 0 || imm === op.ATOMIC_CMPXCHG)
  .map(({ dw, dst, src, off, imm }) =>
    plain(op.insn(op.CLS_STX | op.MODE_ATOMIC | (dw ? op.SIZE_DW : op.SIZE_W), { dst, src, off, imm })));

const acqRel = fc
  .record({ acq: fc.boolean(), size: sizes, a: anyReg, w: wReg, off: arbOff16() })
  .map(({ acq, size, a, w, off }) =>
    plain(acq
      ? op.insn(op.CLS_STX | op.MODE_ATOMIC | size, { dst: w, src: a, off, imm: op.ATOMIC_LOAD_ACQ })
      : op.insn(op.CLS_STX | op.MODE_ATOMIC | size, { dst: a, src: w, off, imm: op.ATOMIC_STORE_REL })));

const jcond = fc
  .record({ cls: jmpCls, code: fc.constantFrom(...JMP_COND), x: fc.boolean(), dst: anyReg, src: anyReg, imm: arbImm32(), off: arbOff16() })
  .map(({ cls, code, x, dst, src, imm, off }): GenInsn => ({
    insn: x ? op.insn(cls | code | op.SRC_X, { dst, src, off }) : op.insn(cls | code | op.SRC_K, { dst, imm, off }),
    branch: 'off',
  }));

const jumps = fc.oneof(
  arbOff16().map((off): GenInsn => ({ insn: op.insn(op.OP_JA, { off }), branch: 'off' })),
  arbImm32().map((imm): GenInsn => ({ insn: op.insn(op.OP_JA32, { imm }), branch: 'imm' })),
  arbOff16().map((off): GenInsn => ({ insn: op.insn(op.OP_MAY_GOTO, { off }), branch: 'off' })),
);

const calls = fc.oneof(
  arbImm32().map((imm) => plain(op.insn(op.OP_CALL, { imm }))),
  arbImm32().map((imm): GenInsn => ({ insn: op.insn(op.OP_CALL, { src: op.CALL_LOCAL, imm }), branch: 'imm' })),
  fc.record({ imm: arbImm32(), off: fc.oneof(fc.constant(0), arbOff16()) })
    .map(({ imm, off }) => plain(op.insn(op.OP_CALL, { src: op.CALL_KFUNC, imm, off }))),
  anyReg.map((dst) => plain(op.insn(op.OP_CALLX, { dst }))),
  fc.constant(plain(op.insn(op.OP_EXIT))),
);

/** One valid instruction with its branch field marked. */
export const arbGenInsn = (): fc.Arbitrary<GenInsn> =>
  fc.oneof(alu, alu, movsx, addrSpaceCast, neg, end, lddw, packet, ldx, st, stx, atomic, acqRel, jcond, jcond, jumps, calls);

/** One instruction that passes `validate()`; jump offsets are arbitrary. */
export const arbInstruction = (): fc.Arbitrary<Instruction> => arbGenInsn().map((g) => g.insn);

/**
 * A program of `minLength`..`maxLength` valid instructions whose targets all
 * land on instruction starts inside the program.
 */
export function arbProgram(opts: { minLength?: number; maxLength?: number } = {}): fc.Arbitrary<Instruction[]> {
  return fc
    .array(fc.tuple(arbGenInsn(), fc.nat()), { minLength: opts.minLength ?? 1, maxLength: opts.maxLength ?? 24 })
    .map((items) => {
      const program = items.map(([g]) => ({ ...g.insn }));
      const { pcs } = op.slotIndex(program);
      items.forEach(([g, pick], k) => {
        if (!g.branch) return;
        const to = pcs[pick % pcs.length]!;
        program[k]![g.branch] = to - (pcs[k]! + 1);
      });
      return program;
    });
}
