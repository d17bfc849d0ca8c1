/**
 * Builds small ELF64 relocatable files for tests: named sections, a symbol
 * table and REL or RELA relocations, little- or big-endian. Layout: header,
 * section bytes, relocation and symbol tables, string tables, section headers.
 */

export interface BuildSection {
  readonly name: string;
  /** SHT_* (default PROGBITS). */
  readonly type?: number;
  /** SHF_* (default ALLOC). */
  readonly flags?: number;
  readonly data?: Uint8Array;
  /** sh_size for NOBITS sections. */
  readonly size?: number;
}

export interface BuildSymbol {
  readonly name: string;
  readonly value?: number;
  readonly size?: number;
  /** STB_* (default GLOBAL). */
  readonly bind?: number;
  /** STT_* (default NOTYPE). */
  readonly type?: number;
  /** Section name, or a raw index (0 = undefined). */
  readonly section?: string | number;
}

export interface BuildReloc {
  readonly offset: number;
  readonly type: number;
  /** Symbol name, or a raw symbol index. */
  readonly symbol: string | number;
  readonly addend?: number;
}

export interface BuildRelocSection {
  /** Name of the section the relocations patch. */
  readonly target: string;
  readonly rela?: boolean;
  readonly entries: readonly BuildReloc[];
}

export interface BuildOptions {
  readonly littleEndian?: boolean;
  readonly machine?: number;
  readonly sections: readonly BuildSection[];
  readonly symbols?: readonly BuildSymbol[];
  readonly relocations?: readonly BuildRelocSection[];
}

class Strings {
  private readonly parts: number[] = [0];
  private readonly seen = new Map<string, number>([['', 0]]);
  add(s: string): number {
    const hit = this.seen.get(s);
    if (hit !== undefined) return hit;
    const off = this.parts.length;
    for (const b of new TextEncoder().encode(s)) this.parts.push(b);
    this.parts.push(0);
    this.seen.set(s, off);
    return off;
  }
  bytes(): Uint8Array {
    return new Uint8Array(this.parts);
  }
}

export function buildElf(opts: BuildOptions): Uint8Array {
  const le = opts.littleEndian ?? true;
  const symbols = opts.symbols ?? [];
  const relocs = opts.relocations ?? [];
  const shstr = new Strings();
  const str = new Strings();
  // Section indices: 0 null, user sections, relocation sections, .symtab, .strtab, .shstrtab.
  const userIndex = new Map<string, number>();
  opts.sections.forEach((s, i) => userIndex.set(s.name, i + 1));
  const symtabIdx = opts.sections.length + relocs.length + 1;
  const strtabIdx = symtabIdx + 1;
  const shstrtabIdx = symtabIdx + 2;
  const secIndex = (s: string | number | undefined): number => {
    if (s === undefined) return 0;
    if (typeof s === 'number') return s;
    const i = userIndex.get(s);
    if (i === undefined) throw new Error(`no section ${s}`);
    return i;
  };
  // Symbol table: null symbol, then locals first as ELF requires, then the rest.
  const ordered = [...symbols.filter((s) => (s.bind ?? 1) === 0), ...symbols.filter((s) => (s.bind ?? 1) !== 0)];
  const symIndex = new Map<string, number>();
  ordered.forEach((s, i) => symIndex.set(s.name, i + 1));
  const symtab = new Uint8Array((ordered.length + 1) * 24);
  const sv = new DataView(symtab.buffer);
  ordered.forEach((s, i) => {
    const at = (i + 1) * 24;
    sv.setUint32(at, str.add(s.name), le);
    sv.setUint8(at + 4, ((s.bind ?? 1) << 4) | (s.type ?? 0));
    sv.setUint16(at + 6, secIndex(s.section), le);
    sv.setBigUint64(at + 8, BigInt(s.value ?? 0), le);
    sv.setBigUint64(at + 16, BigInt(s.size ?? 0), le);
  });
  const relocBytes = relocs.map((r) => {
    const size = r.rela ? 24 : 16;
    const out = new Uint8Array(size * r.entries.length);
    const v = new DataView(out.buffer);
    r.entries.forEach((e, i) => {
      const sym = typeof e.symbol === 'number' ? e.symbol : symIndex.get(e.symbol);
      if (sym === undefined) throw new Error(`no symbol ${String(e.symbol)}`);
      v.setBigUint64(i * size, BigInt(e.offset), le);
      v.setBigUint64(i * size + 8, (BigInt(sym) << 32n) | BigInt(e.type), le);
      if (r.rela) v.setBigInt64(i * size + 16, BigInt(e.addend ?? 0), le);
    });
    return out;
  });

  interface Hdr { name: number; type: number; flags: number; offset: number; size: number; link: number; info: number; align: number; entsize: number }
  const headers: Hdr[] = [{ name: 0, type: 0, flags: 0, offset: 0, size: 0, link: 0, info: 0, align: 0, entsize: 0 }];
  const chunks: Array<{ offset: number; bytes: Uint8Array }> = [];
  let pos = 64;
  const place = (bytes: Uint8Array): number => {
    pos = Math.ceil(pos / 8) * 8;
    const at = pos;
    chunks.push({ offset: at, bytes });
    pos += bytes.length;
    return at;
  };
  for (const s of opts.sections) {
    const type = s.type ?? 1;
    const data = s.data ?? new Uint8Array(0);
    const nobits = type === 8;
    const offset = nobits ? pos : place(data);
    headers.push({ name: shstr.add(s.name), type, flags: s.flags ?? 2, offset, size: nobits ? s.size ?? 0 : data.length, link: 0, info: 0, align: 8, entsize: 0 });
  }
  relocs.forEach((r, i) => {
    const bytes = relocBytes[i]!;
    const name = `${r.rela ? '.rela' : '.rel'}${r.target}`;
    headers.push({ name: shstr.add(name), type: r.rela ? 4 : 9, flags: 0x40, offset: place(bytes), size: bytes.length, link: symtabIdx, info: secIndex(r.target), align: 8, entsize: r.rela ? 24 : 16 });
  });
  const firstGlobal = ordered.findIndex((s) => (s.bind ?? 1) !== 0);
  headers.push({ name: shstr.add('.symtab'), type: 2, flags: 0, offset: place(symtab), size: symtab.length, link: strtabIdx, info: firstGlobal < 0 ? ordered.length + 1 : firstGlobal + 1, align: 8, entsize: 24 });
  const strBytes = str.bytes();
  headers.push({ name: shstr.add('.strtab'), type: 3, flags: 0, offset: place(strBytes), size: strBytes.length, link: 0, info: 0, align: 1, entsize: 0 });
  const shName = shstr.add('.shstrtab');
  const shBytes = shstr.bytes();
  headers.push({ name: shName, type: 3, flags: 0, offset: place(shBytes), size: shBytes.length, link: 0, info: 0, align: 1, entsize: 0 });
  pos = Math.ceil(pos / 8) * 8;
  const shoff = pos;
  const total = shoff + headers.length * 64;
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, le ? 1 : 2, 1, 0]);
  v.setUint16(16, 1, le);
  v.setUint16(18, opts.machine ?? 247, le);
  v.setUint32(20, 1, le);
  v.setBigUint64(40, BigInt(shoff), le);
  v.setUint16(52, 64, le);
  v.setUint16(58, 64, le);
  v.setUint16(60, headers.length, le);
  v.setUint16(62, shstrtabIdx, le);
  for (const c of chunks) out.set(c.bytes, c.offset);
  headers.forEach((h, i) => {
    const at = shoff + i * 64;
    v.setUint32(at, h.name, le);
    v.setUint32(at + 4, h.type, le);
    v.setBigUint64(at + 8, BigInt(h.flags), le);
    v.setBigUint64(at + 24, BigInt(h.offset), le);
    v.setBigUint64(at + 32, BigInt(h.size), le);
    v.setUint32(at + 40, h.link, le);
    v.setUint32(at + 44, h.info, le);
    v.setBigUint64(at + 48, BigInt(h.align), le);
    v.setBigUint64(at + 56, BigInt(h.entsize), le);
  });
  return out;
}
