/** Symbol look-ups the object loader repeats, indexed once per ELF file. */
import { STT, type ElfFile, type ElfSymbol } from '../elf/index.js';

const symbolIndexes = new WeakMap<ElfFile, Map<string, ElfSymbol>>();

/** The first non-section symbol with this name in section `shndx` (indexed once per file). */
export function symbolIn(elf: ElfFile, shndx: number, name: string): ElfSymbol | undefined {
  let index = symbolIndexes.get(elf);
  if (index === undefined) {
    index = new Map();
    for (const s of elf.symbols) {
      if (s.type === STT.SECTION) continue;
      const key = `${s.shndx}\0${s.name}`;
      if (!index.has(key)) index.set(key, s);
    }
    symbolIndexes.set(elf, index);
  }
  return index.get(`${shndx}\0${name}`);
}
