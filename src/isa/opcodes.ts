/**
 * Opcode field constants from RFC 9669 (BPF Instruction Set Architecture),
 * plus the Linux extensions that clang 19 and Linux 6.18 emit.
 */

// Instruction classes (low 3 bits of the opcode).
export const CLS_LD = 0x00;
export const CLS_LDX = 0x01;
export const CLS_ST = 0x02;
export const CLS_STX = 0x03;
export const CLS_ALU = 0x04;
export const CLS_JMP = 0x05;
export const CLS_JMP32 = 0x06;
export const CLS_ALU64 = 0x07;

// Source bit for ALU and JMP classes.
export const SRC_K = 0x00;
export const SRC_X = 0x08;

// ALU operation codes (high 4 bits).
export const ALU_ADD = 0x00;
export const ALU_SUB = 0x10;
export const ALU_MUL = 0x20;
export const ALU_DIV = 0x30;
export const ALU_OR = 0x40;
export const ALU_AND = 0x50;
export const ALU_LSH = 0x60;
export const ALU_RSH = 0x70;
export const ALU_NEG = 0x80;
export const ALU_MOD = 0x90;
export const ALU_XOR = 0xa0;
export const ALU_MOV = 0xb0;
export const ALU_ARSH = 0xc0;
export const ALU_END = 0xd0;

// JMP operation codes (high 4 bits).
export const JMP_JA = 0x00;
export const JMP_JEQ = 0x10;
export const JMP_JGT = 0x20;
export const JMP_JGE = 0x30;
export const JMP_JSET = 0x40;
export const JMP_JNE = 0x50;
export const JMP_JSGT = 0x60;
export const JMP_JSGE = 0x70;
export const JMP_CALL = 0x80;
export const JMP_EXIT = 0x90;
export const JMP_JLT = 0xa0;
export const JMP_JLE = 0xb0;
export const JMP_JSLT = 0xc0;
export const JMP_JSLE = 0xd0;
/** Linux extension: conditional pseudo jump (`may_goto` when src = 0). */
export const JMP_JCOND = 0xe0;

// Load/store size (bits 3-4) and mode (bits 5-7).
export const SIZE_W = 0x00;
export const SIZE_H = 0x08;
export const SIZE_B = 0x10;
export const SIZE_DW = 0x18;
export const MODE_IMM = 0x00;
export const MODE_ABS = 0x20;
export const MODE_IND = 0x40;
export const MODE_MEM = 0x60;
export const MODE_MEMSX = 0x80;
export const MODE_ATOMIC = 0xc0;

// Atomic operations (imm field of an ATOMIC instruction).
export const ATOMIC_FETCH = 0x01;
export const ATOMIC_ADD = 0x00;
export const ATOMIC_OR = 0x40;
export const ATOMIC_AND = 0x50;
export const ATOMIC_XOR = 0xa0;
export const ATOMIC_XCHG = 0xe0 | ATOMIC_FETCH;
export const ATOMIC_CMPXCHG = 0xf0 | ATOMIC_FETCH;
/** Linux extension: load-acquire and store-release. */
export const ATOMIC_LOAD_ACQ = 0x100;
export const ATOMIC_STORE_REL = 0x110;

// 64-bit immediate load pseudo sources (src field of lddw).
export const PSEUDO_IMM64 = 0;
export const PSEUDO_MAP_FD = 1;
export const PSEUDO_MAP_VALUE = 2;
export const PSEUDO_BTF_ID = 3;
export const PSEUDO_FUNC = 4;
export const PSEUDO_MAP_IDX = 5;
export const PSEUDO_MAP_IDX_VALUE = 6;

// Call kinds (src field of call).
export const CALL_HELPER = 0;
export const CALL_LOCAL = 1;
export const CALL_KFUNC = 2;

/** Linux extension: `addr_space_cast` is ALU64 MOV X with this offset. */
export const OFF_ADDR_SPACE_CAST = 1;

// Frequently used full opcodes.
export const OP_LDDW = CLS_LD | MODE_IMM | SIZE_DW; // 0x18
export const OP_CALL = CLS_JMP | JMP_CALL | SRC_K; // 0x85
export const OP_CALLX = CLS_JMP | JMP_CALL | SRC_X; // 0x8d
export const OP_EXIT = CLS_JMP | JMP_EXIT; // 0x95
export const OP_JA = CLS_JMP | JMP_JA; // 0x05
export const OP_JA32 = CLS_JMP32 | JMP_JA; // 0x06, gotol
export const OP_MAY_GOTO = CLS_JMP | JMP_JCOND; // 0xe5

export const cls = (op: number): number => op & 0x07;
export const aluOp = (op: number): number => op & 0xf0;
export const srcBit = (op: number): number => op & 0x08;
export const memSize = (op: number): number => op & 0x18;
export const memMode = (op: number): number => op & 0xe0;

/** Width in bytes of a load/store size field. */
export function sizeBytes(size: number): 1 | 2 | 4 | 8 {
  switch (size) {
    case SIZE_B: return 1;
    case SIZE_H: return 2;
    case SIZE_W: return 4;
    default: return 8;
  }
}

export const isAlu = (op: number): boolean => cls(op) === CLS_ALU || cls(op) === CLS_ALU64;
export const isJmp = (op: number): boolean => cls(op) === CLS_JMP || cls(op) === CLS_JMP32;
export const isLddw = (op: number): boolean => op === OP_LDDW;
