/** ELF constants used by eBPF objects (`elf.h`, and LLVM's BPF relocation types). */

export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ELFDATA2MSB = 2;

/** `e_machine` of eBPF objects. */
export const EM_BPF = 247;

export const ET_REL = 1;

/** Section header types. */
export const SHT = {
  NULL: 0,
  PROGBITS: 1,
  SYMTAB: 2,
  STRTAB: 3,
  RELA: 4,
  HASH: 5,
  DYNAMIC: 6,
  NOTE: 7,
  NOBITS: 8,
  REL: 9,
  DYNSYM: 11,
  SYMTAB_SHNDX: 18,
  LLVM_ADDRSIG: 0x6fff4c03,
} as const;

/** Section header flags. */
export const SHF = {
  WRITE: 0x1,
  ALLOC: 0x2,
  EXECINSTR: 0x4,
  MERGE: 0x10,
  STRINGS: 0x20,
} as const;

/** Special section indices. */
export const SHN = {
  UNDEF: 0,
  LORESERVE: 0xff00,
  ABS: 0xfff1,
  COMMON: 0xfff2,
  XINDEX: 0xffff,
} as const;

/** Symbol binding (`st_info >> 4`). */
export const STB = { LOCAL: 0, GLOBAL: 1, WEAK: 2 } as const;

/** Symbol type (`st_info & 0xf`). */
export const STT = { NOTYPE: 0, OBJECT: 1, FUNC: 2, SECTION: 3, FILE: 4 } as const;

/** Symbol visibility (`st_other & 3`). */
export const STV = { DEFAULT: 0, INTERNAL: 1, HIDDEN: 2, PROTECTED: 3 } as const;

/** BPF relocation types (LLVM's `BPF.def`). */
export const R_BPF = {
  NONE: 0,
  /** `lddw` imm pair: a map, global data or function address. */
  R64_64: 1,
  /** 64-bit data (pointers in `.maps` initialisers). */
  ABS64: 2,
  /** 32-bit data (DWARF, `.BTF`, `.BTF.ext`). */
  ABS32: 3,
  /** 32-bit data that a dynamic linker leaves alone (`.BTF.ext`). */
  NODYLD32: 4,
  /** `call` imm: a bpf-to-bpf call or a kfunc. */
  R64_32: 10,
} as const;

/** Bytes a BPF relocation of this type patches, from its offset; undefined for types it does not know. */
export function bpfRelocWidth(type: number): number | undefined {
  switch (type) {
    case R_BPF.NONE: return 0;
    case R_BPF.R64_64: return 16;
    case R_BPF.ABS64: return 8;
    case R_BPF.ABS32: case R_BPF.NODYLD32: return 4;
    case R_BPF.R64_32: return 8;
    default: return undefined;
  }
}
