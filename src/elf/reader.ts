/**
 * An ELF64 reader (little- and big-endian) for relocatable eBPF objects: the
 * header, section headers with their names and bytes, the symbol table and
 * REL/RELA relocations. Every malformed input raises an `ElfError` that names
 * the section and the file offset; every loop is bounded by the file's size.
 */
import { ELFCLASS64, ELFDATA2LSB, ELFDATA2MSB, EM_BPF, SHN, SHT, bpfRelocWidth } from './constants.js';
import { ElfError } from './errors.js';

export interface ElfHeader {
  readonly littleEndian: boolean;
  readonly osabi: number;
  /** `e_type` (1 = relocatable). */
  readonly type: number;
  readonly machine: number;
  readonly version: number;
  readonly entry: bigint;
  readonly flags: number;
  /** File offset of the section header table. */
  readonly shoff: number;
  readonly shentsize: number;
  /** Number of sections (extended numbering resolved). */
  readonly shnum: number;
  /** Index of the section-name string table (extended numbering resolved). */
  readonly shstrndx: number;
}

export interface ElfSection {
  readonly index: number;
  readonly name: string;
  readonly type: number;
  /** `sh_flags` (the low 53 bits, which hold every defined flag). */
  readonly flags: number;
  readonly addr: bigint;
  /** File offset of the section's bytes. */
  readonly offset: number;
  /** `sh_size`: for NOBITS sections, the size in memory. */
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly addralign: number;
  readonly entsize: number;
  /** The section's bytes (a view into the file); empty for NOBITS. */
  readonly data: Uint8Array;
}

export interface ElfSymbol {
  /** Index in the symbol table (what relocations refer to). */
  readonly index: number;
  readonly name: string;
  readonly value: number;
  readonly size: number;
  /** `STB_*`. */
  readonly bind: number;
  /** `STT_*`. */
  readonly type: number;
  /** `STV_*`. */
  readonly visibility: number;
  /** Section index (or `SHN_*`); `SHN_XINDEX` is resolved through `.symtab_shndx`. */
  readonly shndx: number;
}

export interface ElfRelocation {
  /** Offset in the target section. */
  readonly offset: number;
  /** `R_BPF_*` for eBPF objects. */
  readonly type: number;
  /** Index into `ElfFile.symbols`. */
  readonly symbol: number;
  /** The explicit addend of RELA entries; null for REL (the addend is in the patched bytes). */
  readonly addend: number | null;
}

export interface ElfRelocationSection {
  /** The SHT_REL / SHT_RELA section itself. */
  readonly section: ElfSection;
  /** The section it patches (`sh_info`). */
  readonly target: ElfSection;
  readonly rela: boolean;
}

export interface ElfOptions {
  /** The required `e_machine` (default `EM_BPF`); null accepts any machine. */
  readonly machine?: number | null;
}

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const REL_SIZE = 16;
const RELA_SIZE = 24;
const decoder = new TextDecoder('utf-8', { fatal: false });

/** A parsed ELF file. Relocation entries are decoded on first use, per target section. */
export class ElfFile {
  readonly bytes: Uint8Array;
  readonly header: ElfHeader;
  readonly sections: readonly ElfSection[];
  /** The `.symtab` symbols (index 0 is the null symbol); empty when the file has no symbol table. */
  readonly symbols: readonly ElfSymbol[];
  /** Index of the symbol table section, or 0. */
  readonly symtabIndex: number;
  readonly relocationSections: readonly ElfRelocationSection[];
  private readonly relocCache = new Map<number, ElfRelocation[]>();

  constructor(bytes: Uint8Array, header: ElfHeader, sections: ElfSection[], symtabIndex: number, symbols: ElfSymbol[], relocs: ElfRelocationSection[]) {
    this.bytes = bytes;
    this.header = header;
    this.sections = sections;
    this.symtabIndex = symtabIndex;
    this.symbols = symbols;
    this.relocationSections = relocs;
  }

  get littleEndian(): boolean {
    return this.header.littleEndian;
  }

  /** The first section with this name. */
  section(name: string): ElfSection | undefined {
    return this.sections.find((s) => s.name === name);
  }

  /** A DataView over a section's bytes. */
  view(section: ElfSection): DataView {
    return new DataView(section.data.buffer, section.data.byteOffset, section.data.byteLength);
  }

  /** The relocations that patch section `target` (from every REL/RELA section aimed at it), by offset. */
  relocationsFor(target: number): readonly ElfRelocation[] {
    const hit = this.relocCache.get(target);
    if (hit) return hit;
    const out: ElfRelocation[] = [];
    for (const rs of this.relocationSections) {
      if (rs.target.index === target) out.push(...this.decodeRelocations(rs));
    }
    out.sort((a, b) => a.offset - b.offset);
    this.relocCache.set(target, out);
    return out;
  }

  private decodeRelocations(rs: ElfRelocationSection): ElfRelocation[] {
    const { section, target, rela } = rs;
    const entSize = rela ? RELA_SIZE : REL_SIZE;
    const view = this.view(section);
    const le = this.littleEndian;
    const n = section.size / entSize;
    const out: ElfRelocation[] = [];
    const bpf = this.header.machine === EM_BPF;
    for (let k = 0; k < n; k++) {
      const at = k * entSize;
      const fileAt = section.offset + at;
      const offset = safe(view.getBigUint64(at, le), section.name, fileAt, 'r_offset');
      const info = view.getBigUint64(at + 8, le);
      const symbol = Number(info >> 32n);
      const type = Number(info & 0xffffffffn);
      const addend = rela ? safe(view.getBigInt64(at + 16, le), section.name, fileAt + 16, 'r_addend') : null;
      if (symbol >= this.symbols.length) {
        throw new ElfError(section.name, fileAt + 8, `relocation ${k} refers to symbol ${symbol}, but the symbol table has ${this.symbols.length}`);
      }
      const width = bpf ? bpfRelocWidth(type) : 0;
      if (width === undefined) throw new ElfError(section.name, fileAt + 8, `relocation ${k} has unknown BPF relocation type ${type}`);
      if (offset + width > target.size || (width === 0 && offset > target.size)) {
        throw new ElfError(section.name, fileAt, `relocation ${k} at offset ${offset} (+${width}) is outside ${target.name || `#${target.index}`} (${target.size} bytes)`);
      }
      out.push({ offset, type, symbol, addend });
    }
    return out;
  }
}

/** A u64 / i64 field as a JS number, or an ElfError when it does not fit one exactly. */
function safe(v: bigint, section: string, at: number, field: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ElfError(section, at, `${field} 0x${v.toString(16)} is too large`);
  }
  return Number(v);
}

function readHeader(bytes: Uint8Array, opts: ElfOptions): { header: ElfHeader; view: DataView } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 16) throw new ElfError('<header>', 0, `${bytes.length} bytes is too short for an ELF identification`);
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new ElfError('<header>', 0, 'bad magic (not an ELF file)');
  }
  if (bytes[4] !== ELFCLASS64) throw new ElfError('<header>', 4, `ELF class ${bytes[4]} is not ELFCLASS64 (eBPF objects are 64-bit)`);
  const data = bytes[5];
  if (data !== ELFDATA2LSB && data !== ELFDATA2MSB) throw new ElfError('<header>', 5, `unknown data encoding ${data}`);
  if (bytes[6] !== 1) throw new ElfError('<header>', 6, `unknown ELF version ${bytes[6]}`);
  if (bytes.length < EHDR_SIZE) throw new ElfError('<header>', 0, `${bytes.length} bytes is too short for the 64-byte ELF header`);
  const le = data === ELFDATA2LSB;
  const machine = view.getUint16(18, le);
  const want = opts.machine === undefined ? EM_BPF : opts.machine;
  if (want !== null && machine !== want) throw new ElfError('<header>', 18, `machine ${machine} is not ${want === EM_BPF ? 'EM_BPF (247)' : want}`);
  const ehsize = view.getUint16(52, le);
  if (ehsize < EHDR_SIZE) throw new ElfError('<header>', 52, `e_ehsize ${ehsize} is smaller than 64`);
  const shoff = safe(view.getBigUint64(40, le), '<header>', 40, 'e_shoff');
  const shentsize = view.getUint16(58, le);
  let shnum = view.getUint16(60, le);
  let shstrndx = view.getUint16(62, le);
  if (shoff !== 0 || shnum !== 0) {
    if (shentsize !== SHDR_SIZE) throw new ElfError('<header>', 58, `e_shentsize ${shentsize} is not 64`);
    if (shoff + SHDR_SIZE > bytes.length) throw new ElfError('<header>', 40, `section header table at ${shoff} is outside the ${bytes.length}-byte file`);
    // Extended numbering: the real counts live in section 0.
    if (shnum === 0) shnum = safe(view.getBigUint64(shoff + 32, le), '<section headers>', shoff + 32, 'section count');
    if (shstrndx === SHN.XINDEX) shstrndx = view.getUint32(shoff + 40, le);
    if (shnum > (bytes.length - shoff) / SHDR_SIZE) {
      throw new ElfError('<header>', 60, `${shnum} section headers at ${shoff} run past the ${bytes.length}-byte file`);
    }
  }
  const header: ElfHeader = {
    littleEndian: le,
    osabi: bytes[7]!,
    type: view.getUint16(16, le),
    machine,
    version: view.getUint32(20, le),
    entry: view.getBigUint64(24, le),
    flags: view.getUint32(48, le),
    shoff,
    shentsize,
    shnum,
    shstrndx,
  };
  return { header, view };
}

interface RawSection { type: number; nameOff: number; flags: number; addr: bigint; offset: number; size: number; link: number; info: number; addralign: number; entsize: number; at: number }

function readString(table: Uint8Array, off: number, section: string, fileBase: number, what: string): string {
  if (off >= table.length) throw new ElfError(section, fileBase, `${what}: string offset ${off} is outside the ${table.length}-byte string table`);
  const end = table.indexOf(0, off);
  if (end < 0) throw new ElfError(section, fileBase + off, `${what}: string at ${off} is not NUL-terminated`);
  return decoder.decode(table.subarray(off, end));
}

/** Parses an ELF64 file. Throws `ElfError` for anything malformed. */
export function parseElf(bytes: Uint8Array, opts: ElfOptions = {}): ElfFile {
  const { header, view } = readHeader(bytes, opts);
  const le = header.littleEndian;
  const raw: RawSection[] = [];
  for (let i = 0; i < header.shnum; i++) {
    const at = header.shoff + i * SHDR_SIZE;
    const where = `#${i}`;
    const s: RawSection = {
      nameOff: view.getUint32(at, le),
      type: view.getUint32(at + 4, le),
      flags: Number(view.getBigUint64(at + 8, le) & 0x1fffffffffffffn),
      addr: view.getBigUint64(at + 16, le),
      offset: safe(view.getBigUint64(at + 24, le), where, at + 24, 'sh_offset'),
      size: safe(view.getBigUint64(at + 32, le), where, at + 32, 'sh_size'),
      link: view.getUint32(at + 40, le),
      info: view.getUint32(at + 44, le),
      addralign: safe(view.getBigUint64(at + 48, le), where, at + 48, 'sh_addralign'),
      entsize: safe(view.getBigUint64(at + 56, le), where, at + 56, 'sh_entsize'),
      at,
    };
    if (i > 0 && s.type !== SHT.NOBITS && s.type !== SHT.NULL && s.offset + s.size > bytes.length) {
      throw new ElfError(where, at + 24, `section ${i} [${s.offset}, +${s.size}) is outside the ${bytes.length}-byte file`);
    }
    raw.push(s);
  }
  const dataOf = (s: RawSection): Uint8Array =>
    s.type === SHT.NOBITS || s.type === SHT.NULL ? new Uint8Array(0) : bytes.subarray(s.offset, s.offset + s.size);

  // Section names.
  let names: string[] = raw.map(() => '');
  if (raw.length > 0) {
    const strndx = header.shstrndx;
    if (strndx === SHN.UNDEF || strndx >= raw.length) throw new ElfError('<header>', 62, `section name table index ${strndx} is invalid (${raw.length} sections)`);
    const strSec = raw[strndx]!;
    if (strSec.type !== SHT.STRTAB) throw new ElfError(`#${strndx}`, strSec.at + 4, `section name table ${strndx} is not a string table (type ${strSec.type})`);
    const table = dataOf(strSec);
    names = raw.map((s, i) => (i === 0 && s.nameOff === 0 ? '' : readString(table, s.nameOff, `#${i}`, strSec.offset, `name of section ${i}`)));
  }
  const sections: ElfSection[] = raw.map((s, i) => ({
    index: i,
    name: names[i]!,
    type: s.type,
    flags: s.flags,
    addr: s.addr,
    offset: s.offset,
    size: s.size,
    link: s.link,
    info: s.info,
    addralign: s.addralign,
    entsize: s.entsize,
    data: dataOf(s),
  }));

  // Symbol table.
  let symtabIndex = 0;
  let symbols: ElfSymbol[] = [];
  for (const sec of sections) {
    if (sec.type !== SHT.SYMTAB) continue;
    if (symtabIndex !== 0) throw new ElfError(sec.name, raw[sec.index]!.at, `a second symbol table (the first is section ${symtabIndex})`);
    symtabIndex = sec.index;
    symbols = readSymbols(sec, sections, le);
  }

  // Relocation sections (entries are decoded on demand).
  const relocs: ElfRelocationSection[] = [];
  for (const sec of sections) {
    if (sec.type !== SHT.REL && sec.type !== SHT.RELA) continue;
    const rela = sec.type === SHT.RELA;
    const entSize = rela ? RELA_SIZE : REL_SIZE;
    const at = raw[sec.index]!.at;
    if (sec.entsize !== entSize) throw new ElfError(sec.name, at + 56, `relocation entry size ${sec.entsize} is not ${entSize}`);
    if (sec.size % entSize !== 0) throw new ElfError(sec.name, at + 32, `relocation section size ${sec.size} is not a multiple of ${entSize}`);
    if (sec.info === 0 || sec.info >= sections.length) throw new ElfError(sec.name, at + 44, `relocation target section ${sec.info} does not exist`);
    if (sec.link !== symtabIndex || symtabIndex === 0) throw new ElfError(sec.name, at + 40, `relocation symbol table ${sec.link} is not the symbol table (${symtabIndex})`);
    relocs.push({ section: sec, target: sections[sec.info]!, rela });
  }
  return new ElfFile(bytes, header, sections, symtabIndex, symbols, relocs);
}

function readSymbols(sec: ElfSection, sections: readonly ElfSection[], le: boolean): ElfSymbol[] {
  if (sec.entsize !== SYM_SIZE) throw new ElfError(sec.name, sec.offset, `symbol entry size ${sec.entsize} is not ${SYM_SIZE}`);
  if (sec.size % SYM_SIZE !== 0) throw new ElfError(sec.name, sec.offset, `symbol table size ${sec.size} is not a multiple of ${SYM_SIZE}`);
  if (sec.link === 0 || sec.link >= sections.length || sections[sec.link]!.type !== SHT.STRTAB) {
    throw new ElfError(sec.name, sec.offset, `symbol string table ${sec.link} is not a string table`);
  }
  const strtab = sections[sec.link]!;
  const shndxSec = sections.find((s) => s.type === SHT.SYMTAB_SHNDX && s.link === sec.index);
  const view = new DataView(sec.data.buffer, sec.data.byteOffset, sec.data.byteLength);
  const n = sec.size / SYM_SIZE;
  const out: ElfSymbol[] = [];
  for (let i = 0; i < n; i++) {
    const at = i * SYM_SIZE;
    const fileAt = sec.offset + at;
    const nameOff = view.getUint32(at, le);
    const info = view.getUint8(at + 4);
    const other = view.getUint8(at + 5);
    let shndx = view.getUint16(at + 6, le);
    let extended = false;
    const value = safe(view.getBigUint64(at + 8, le), sec.name, fileAt + 8, `st_value of symbol ${i}`);
    const size = safe(view.getBigUint64(at + 16, le), sec.name, fileAt + 16, `st_size of symbol ${i}`);
    if (shndx === SHN.XINDEX) {
      if (!shndxSec || (i + 1) * 4 > shndxSec.size) throw new ElfError(sec.name, fileAt + 6, `symbol ${i} needs an extended section index, which is missing`);
      shndx = new DataView(shndxSec.data.buffer, shndxSec.data.byteOffset, shndxSec.data.byteLength).getUint32(i * 4, le);
      extended = true;
    }
    if (shndx !== SHN.UNDEF && (extended || shndx < SHN.LORESERVE) && shndx >= sections.length) {
      throw new ElfError(sec.name, fileAt + 6, `symbol ${i} is in section ${shndx}, which does not exist`);
    }
    const name = nameOff === 0 ? '' : readString(strtab.data, nameOff, sec.name, strtab.offset, `name of symbol ${i}`);
    out.push({ index: i, name, value, size, bind: info >> 4, type: info & 0xf, visibility: other & 3, shndx });
  }
  return out;
}
