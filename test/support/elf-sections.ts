/**
 * A minimal ELF64 section extractor for tests: section bytes by name, in
 * either byte order. The real reader lives in src/elf; this one only serves
 * tests that need `.BTF`, `.BTF.ext`, `.data` or a program section.
 */
export interface ElfSection {
  readonly name: string;
  readonly type: number;
  readonly data: Uint8Array;
}

export interface ElfSymbol {
  readonly name: string;
  readonly value: number;
  readonly size: number;
  /** The name of the section the symbol is defined in ('' for undefined/absolute). */
  readonly section: string;
}

export interface ElfSections {
  readonly littleEndian: boolean;
  readonly sections: Map<string, ElfSection>;
  readonly symbols: ElfSymbol[];
  /** The named section's bytes; throws when it is missing. */
  get(name: string): Uint8Array;
}

const SHT_NOBITS = 8;
const SHT_SYMTAB = 2;

export function elfSections(file: Uint8Array): ElfSections {
  if (file[0] !== 0x7f || file[1] !== 0x45 || file[2] !== 0x4c || file[3] !== 0x46) throw new Error('not an ELF file');
  if (file[4] !== 2) throw new Error('not ELF64');
  const le = file[5] === 1;
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const shoff = Number(v.getBigUint64(0x28, le));
  const shentsize = v.getUint16(0x3a, le);
  const shnum = v.getUint16(0x3c, le);
  const shstrndx = v.getUint16(0x3e, le);
  const header = (i: number): { name: number; type: number; offset: number; size: number } => {
    const at = shoff + i * shentsize;
    return {
      name: v.getUint32(at, le),
      type: v.getUint32(at + 4, le),
      offset: Number(v.getBigUint64(at + 0x18, le)),
      size: Number(v.getBigUint64(at + 0x20, le)),
    };
  };
  const strtab = header(shstrndx);
  const name = (off: number): string => {
    const start = strtab.offset + off;
    const end = file.indexOf(0, start);
    return new TextDecoder().decode(file.subarray(start, end));
  };
  const sections = new Map<string, ElfSection>();
  const names: string[] = [''];
  const symbols: ElfSymbol[] = [];
  let symtab: { offset: number; size: number; link: number } | null = null;
  for (let i = 1; i < shnum; i++) {
    const h = header(i);
    const data = h.type === SHT_NOBITS ? new Uint8Array(h.size) : file.subarray(h.offset, h.offset + h.size);
    sections.set(name(h.name), { name: name(h.name), type: h.type, data });
    names.push(name(h.name));
    if (h.type === SHT_SYMTAB) symtab = { offset: h.offset, size: h.size, link: v.getUint32(shoff + i * shentsize + 0x28, le) };
  }
  if (symtab !== null) {
    const strs = header(symtab.link);
    for (let at = symtab.offset + 24; at < symtab.offset + symtab.size; at += 24) {
      const start = strs.offset + v.getUint32(at, le);
      const shndx = v.getUint16(at + 6, le);
      symbols.push({
        name: new TextDecoder().decode(file.subarray(start, file.indexOf(0, start))),
        value: Number(v.getBigUint64(at + 8, le)),
        size: Number(v.getBigUint64(at + 16, le)),
        section: shndx > 0 && shndx < names.length ? names[shndx]! : '',
      });
    }
  }
  return {
    littleEndian: le,
    sections,
    symbols,
    get(n: string): Uint8Array {
      const s = sections.get(n);
      if (s === undefined) throw new Error(`no section ${n}`);
      return s.data;
    },
  };
}
