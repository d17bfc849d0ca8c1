/**
 * Externs: undefined global symbols that BTF places in `.kconfig` (values the
 * loader supplies, laid out in the `.kconfig` map as libbpf lays them out) or
 * `.ksyms` (kernel variables, and kfuncs when the BTF is a FUNC).
 */
import type { Btf } from '../btf/index.js';
import { SHN, STB, STT, type ElfFile, type ElfSymbol } from '../elf/index.js';
import { alignOf, sizeAt } from './btf-util.js';
import { ObjectError } from './errors.js';
import type { ExternSpec } from './spec.js';

/** libbpf's test for an extern symbol: undefined, global or weak, no type. */
export const isExternSymbol = (s: ElfSymbol): boolean =>
  s.shndx === SHN.UNDEF && (s.bind === STB.GLOBAL || s.bind === STB.WEAK) && s.type === STT.NOTYPE && s.name !== '';

export interface Externs {
  /** kconfig first (by alignment, size, name, as libbpf orders them), then ksyms and kfuncs by name. */
  readonly list: ExternSpec[];
  readonly byName: Map<string, ExternSpec>;
}

export function collectExterns(elf: ElfFile, btf: Btf | null): Externs {
  const found: Array<ExternSpec & { align: number }> = [];
  const seen = new Set<string>();
  const symtab = elf.sections[elf.symtabIndex];
  const secName = symtab?.name ?? '.symtab';
  for (const sym of elf.symbols) {
    if (!isExternSymbol(sym) || seen.has(sym.name)) continue;
    seen.add(sym.name);
    const at = sym.index * 24;
    const fail = (why: string): never => {
      throw new ObjectError(secName, at, `extern ${sym.name}: ${why}`, { extern: sym.name });
    };
    if (btf === null) return fail('externs need BTF to say what they are');
    const id = btf.findAll(sym.name).find((i) => {
      const k = btf.types[i]!.kind;
      return k === 'var' || k === 'func';
    });
    if (id === undefined) return fail('no BTF VAR or FUNC of that name');
    const t = btf.types[id]!;
    if ((t.kind === 'var' || t.kind === 'func') && t.linkage !== 'extern') fail(`its BTF ${t.kind} has ${t.linkage} linkage, not extern`);
    const ds = btf.types.find((d) => d.kind === 'datasec' && d.vars.some((v) => v.type === id));
    if (ds === undefined) return fail('no DATASEC lists it (is it __kconfig or __ksym?)');
    const weak = sym.bind === STB.WEAK;
    if (ds.name === '.kconfig') {
      if (t.kind !== 'var') return fail('a function cannot be __kconfig');
      const size = sizeAt(btf, t.type, secName, at, `extern ${sym.name}`);
      if (size <= 0) fail('its type has no size');
      found.push({ name: sym.name, kind: 'kconfig', weak, typeId: id, offset: 0, size, align: alignOf(btf, t.type) });
    } else if (ds.name === '.ksyms') {
      let size = 0;
      if (t.kind === 'var') {
        try {
          size = btf.sizeOf(t.type);
        } catch {
          size = 0; // `const void sym __ksym`: a typeless kernel symbol
        }
      }
      found.push({ name: sym.name, kind: t.kind === 'func' ? 'kfunc' : 'ksym', weak, typeId: id, offset: 0, size, align: 1 });
    } else {
      fail(`it is in DATASEC ${ds.name}, not .kconfig or .ksyms`);
    }
  }
  const rank = (e: ExternSpec): number => (e.kind === 'kconfig' ? 0 : 1);
  found.sort((a, b) => rank(a) - rank(b) || (a.kind === 'kconfig' && b.kind === 'kconfig' ? b.align - a.align || a.size - b.size : 0) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let off = 0;
  const list: ExternSpec[] = found.map(({ align, ...e }) => {
    if (e.kind !== 'kconfig') return e;
    const offset = Math.ceil(off / align) * align;
    off = offset + e.size;
    return { ...e, offset };
  });
  return { list, byName: new Map(list.map((e) => [e.name, e])) };
}

/** Lays the `.kconfig` DATASEC out as the `.kconfig` map is: its size and each variable's offset. */
export function fixKconfigDatasec(btf: Btf | null, externs: Externs): void {
  if (btf === null) return;
  for (const t of btf.types) {
    if (t.kind !== 'datasec' || t.name !== '.kconfig') continue;
    let size = 0;
    for (const vi of t.vars) {
      const v = btf.types[vi.type];
      const e = v !== undefined ? externs.byName.get(v.name) : undefined;
      if (e === undefined || e.kind !== 'kconfig') continue;
      vi.offset = e.offset;
      vi.size = e.size;
      size = Math.max(size, e.offset + e.size);
    }
    t.size = size;
    t.vars.sort((a, b) => a.offset - b.offset);
  }
}
