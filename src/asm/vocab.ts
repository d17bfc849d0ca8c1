import * as op from '../isa/index.js';

/**
 * The names both syntaxes use for opcode fields, in both directions.
 * `off` is the offset an ALU name implies (1 for signed div/mod).
 */
export interface AluName {
  code: number;
  off: number;
}

/** uBPF ALU mnemonics (without the `32`/`64` suffix). `neg` is separate. */
export const UBPF_ALU: ReadonlyMap<string, AluName> = new Map([
  ['add', { code: op.ALU_ADD, off: 0 }],
  ['sub', { code: op.ALU_SUB, off: 0 }],
  ['mul', { code: op.ALU_MUL, off: 0 }],
  ['div', { code: op.ALU_DIV, off: 0 }],
  ['sdiv', { code: op.ALU_DIV, off: 1 }],
  ['or', { code: op.ALU_OR, off: 0 }],
  ['and', { code: op.ALU_AND, off: 0 }],
  ['lsh', { code: op.ALU_LSH, off: 0 }],
  ['rsh', { code: op.ALU_RSH, off: 0 }],
  ['mod', { code: op.ALU_MOD, off: 0 }],
  ['smod', { code: op.ALU_MOD, off: 1 }],
  ['xor', { code: op.ALU_XOR, off: 0 }],
  ['mov', { code: op.ALU_MOV, off: 0 }],
  ['arsh', { code: op.ALU_ARSH, off: 0 }],
]);

/** LLVM compound assignment operators. `=` (mov) is handled separately. */
export const LLVM_ALU: ReadonlyMap<string, AluName> = new Map([
  ['+=', { code: op.ALU_ADD, off: 0 }],
  ['-=', { code: op.ALU_SUB, off: 0 }],
  ['*=', { code: op.ALU_MUL, off: 0 }],
  ['/=', { code: op.ALU_DIV, off: 0 }],
  ['s/=', { code: op.ALU_DIV, off: 1 }],
  ['|=', { code: op.ALU_OR, off: 0 }],
  ['&=', { code: op.ALU_AND, off: 0 }],
  ['<<=', { code: op.ALU_LSH, off: 0 }],
  ['>>=', { code: op.ALU_RSH, off: 0 }],
  ['%=', { code: op.ALU_MOD, off: 0 }],
  ['s%=', { code: op.ALU_MOD, off: 1 }],
  ['^=', { code: op.ALU_XOR, off: 0 }],
  ['s>>=', { code: op.ALU_ARSH, off: 0 }],
]);

/** uBPF conditional jump mnemonics (without the `32` suffix). */
export const UBPF_JMP: ReadonlyMap<string, number> = new Map([
  ['jeq', op.JMP_JEQ], ['jgt', op.JMP_JGT], ['jge', op.JMP_JGE], ['jset', op.JMP_JSET],
  ['jne', op.JMP_JNE], ['jsgt', op.JMP_JSGT], ['jsge', op.JMP_JSGE], ['jlt', op.JMP_JLT],
  ['jle', op.JMP_JLE], ['jslt', op.JMP_JSLT], ['jsle', op.JMP_JSLE],
]);

/** LLVM comparison operators of `if a OP b goto`. */
export const LLVM_JMP: ReadonlyMap<string, number> = new Map([
  ['==', op.JMP_JEQ], ['>', op.JMP_JGT], ['>=', op.JMP_JGE], ['&', op.JMP_JSET],
  ['!=', op.JMP_JNE], ['s>', op.JMP_JSGT], ['s>=', op.JMP_JSGE], ['<', op.JMP_JLT],
  ['<=', op.JMP_JLE], ['s<', op.JMP_JSLT], ['s<=', op.JMP_JSLE],
]);

/** Size suffixes of the uBPF load/store mnemonics. */
export const UBPF_SIZE: ReadonlyMap<string, number> = new Map([
  ['b', op.SIZE_B], ['h', op.SIZE_H], ['w', op.SIZE_W], ['dw', op.SIZE_DW],
]);

/** Bit widths of the LLVM `(u8 *)`-style casts. */
export const SIZE_BITS: ReadonlyMap<number, number> = new Map([
  [op.SIZE_B, 8], [op.SIZE_H, 16], [op.SIZE_W, 32], [op.SIZE_DW, 64],
]);
export const BITS_SIZE: ReadonlyMap<number, number> = new Map([...SIZE_BITS].map(([s, b]) => [b, s]));

/** Atomic read-modify-write names (without fetch). */
export const ATOMIC_NAMES: ReadonlyMap<string, number> = new Map([
  ['add', op.ATOMIC_ADD], ['or', op.ATOMIC_OR], ['and', op.ATOMIC_AND], ['xor', op.ATOMIC_XOR],
]);

/** Names of the lddw pseudo sources, used by both syntaxes. */
export const PSEUDO_NAMES: ReadonlyMap<string, number> = new Map([
  ['map_fd', op.PSEUDO_MAP_FD],
  ['map_value', op.PSEUDO_MAP_VALUE],
  ['btf_id', op.PSEUDO_BTF_ID],
  ['func', op.PSEUDO_FUNC],
  ['map_idx', op.PSEUDO_MAP_IDX],
  ['map_idx_value', op.PSEUDO_MAP_IDX_VALUE],
]);

/** Pseudo sources whose second slot carries an offset (printed as `, N` / `+ N`). */
export const PSEUDO_WITH_OFFSET = new Set([op.PSEUDO_MAP_VALUE, op.PSEUDO_MAP_IDX_VALUE]);

/** Reverse lookup of a name table. */
export function nameOf<V>(table: ReadonlyMap<string, V>, value: V): string | undefined {
  for (const [k, v] of table) if (v === value) return k;
  return undefined;
}

/** Reverse lookup for ALU tables. */
export function aluNameOf(table: ReadonlyMap<string, AluName>, code: number, off: number): string | undefined {
  for (const [k, v] of table) if (v.code === code && v.off === off) return k;
  return undefined;
}
