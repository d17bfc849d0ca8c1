// ELF64: the container of eBPF objects (header, sections, symbols, relocations).
export { parseElf, ElfFile } from './reader.js';
export type { ElfHeader, ElfSection, ElfSymbol, ElfRelocation, ElfRelocationSection, ElfOptions } from './reader.js';
export { ElfError } from './errors.js';
export * from './constants.js';
