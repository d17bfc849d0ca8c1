/**
 * Global data: `.data*`, `.rodata*`, `.bss*` sections (and the `.kconfig`
 * externs) become single-element array maps named as libbpf names its
 * internal maps, with the section's bytes as the value.
 */
import type { Btf, BtfDatasec } from '../btf/index.js';
import { SHT, STT, type ElfFile, type ElfSection } from '../elf/index.js';
import { isExecutable } from './code.js';
import { ObjectError } from './errors.js';
import { MapFlag, MapType } from './kinds.js';
import { newMapSpec } from './maps.js';
import { symbolIn } from './symbols.js';
import type { ExternSpec, GlobalVariable, MapSpec } from './spec.js';

export type DataKind = 'data' | 'rodata' | 'bss';

/**
 * The largest global-data value the loader builds (64 MiB; the kernel's own
 * limit for an array value is 4 MiB). A `.bss` size comes from the section
 * header alone, so it must be bounded before the zeroed value is allocated.
 */
export const MAX_DATA_SIZE = 1 << 26;

const hasPrefix = (name: string, base: string): boolean => name === base || name.startsWith(`${base}.`);

/** Which kind of global data a section holds, or null (libbpf's classification). */
export function dataKind(sec: ElfSection): DataKind | null {
  if (isExecutable(sec)) return null;
  if (sec.type === SHT.PROGBITS && hasPrefix(sec.name, '.data')) return 'data';
  if (sec.type === SHT.PROGBITS && hasPrefix(sec.name, '.rodata')) return 'rodata';
  if (sec.type === SHT.NOBITS && hasPrefix(sec.name, '.bss')) return 'bss';
  return null;
}

/** The kernel's limit on object names, without the NUL. */
const OBJ_NAME_MAX = 15;
const encoder = new TextEncoder();

/**
 * libbpf's internal map name: as much of the object name as fits before the
 * section name (whose first 7 characters are always kept), 15 bytes in all.
 * Sections with a second dot (`.rodata.str1.1`, `.data.foo`) get no prefix.
 * Characters the kernel refuses become `_`.
 */
export function internalMapName(objectName: string, section: string): string {
  const obj = encoder.encode(objectName);
  const real = encoder.encode(section);
  const sfx = Math.min(Math.max(7, real.length), OBJ_NAME_MAX);
  const pfx = section.indexOf('.', 1) >= 0 ? 0 : Math.min(OBJ_NAME_MAX - sfx, obj.length);
  const bytes = [...obj.subarray(0, pfx), ...real.subarray(0, sfx)].slice(0, OBJ_NAME_MAX);
  const ok = (b: number): boolean =>
    (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x5f || b === 0x2e;
  return String.fromCharCode(...bytes.map((b) => (ok(b) ? b : 0x5f)));
}

function datasecOf(btf: Btf | null, name: string): BtfDatasec | null {
  if (btf === null) return null;
  const t = btf.types.find((x) => x.kind === 'datasec' && x.name === name);
  return t !== undefined && t.kind === 'datasec' ? t : null;
}

/**
 * Fills in what clang leaves out of DATASECs, as libbpf does when it opens an
 * object: the section's size, and each variable's offset from its ELF symbol.
 * Variables are then sorted by offset.
 */
export function fixDatasecs(btf: Btf, elf: ElfFile): void {
  for (const t of btf.types) {
    if (t.kind !== 'datasec') continue;
    const sec = elf.section(t.name);
    if (sec === undefined) continue;
    if (t.size === 0) t.size = sec.size;
    for (const vi of t.vars) {
      const v = btf.types[vi.type];
      if (v === undefined || v.kind !== 'var' || v.linkage === 'extern') continue;
      const sym = symbolIn(elf, sec.index, v.name);
      if (sym !== undefined) vi.offset = sym.value;
    }
    t.vars.sort((a, b) => a.offset - b.offset);
  }
}

function variablesOf(elf: ElfFile, sec: ElfSection, btf: Btf | null, ds: BtfDatasec | null): GlobalVariable[] {
  if (ds !== null && btf !== null) {
    const out: GlobalVariable[] = [];
    for (const vi of ds.vars) {
      const v = btf.types[vi.type];
      if (v === undefined || v.kind !== 'var') continue;
      out.push({ name: v.name, offset: vi.offset, size: vi.size, typeId: v.type });
    }
    return out;
  }
  return elf.symbols
    .filter((s) => s.shndx === sec.index && s.name !== '' && (s.type === STT.OBJECT || s.type === STT.NOTYPE))
    .sort((a, b) => a.value - b.value)
    .map((s) => ({ name: s.name, offset: s.value, size: s.size, typeId: 0 }));
}

/** An internal map is mmap-able (libbpf) when its DATASEC has a non-static variable. */
function mmapable(btf: Btf | null, ds: BtfDatasec | null): boolean {
  if (btf === null || ds === null) return false;
  return ds.vars.some((vi) => {
    const v = btf.types[vi.type];
    return v !== undefined && v.kind === 'var' && v.linkage !== 'static';
  });
}

/** The global-data map of one section (null for empty sections, which libbpf skips). */
export function dataMap(elf: ElfFile, sec: ElfSection, kind: DataKind, objectName: string, btf: Btf | null): MapSpec | null {
  if (sec.size === 0) return null;
  if (sec.size > MAX_DATA_SIZE) throw new ObjectError(sec.name, 0, `${sec.size} bytes of global data is more than the ${MAX_DATA_SIZE} the loader accepts`);
  const ds = datasecOf(btf, sec.name);
  const rodata = kind === 'rodata';
  let flags = rodata ? MapFlag.RDONLY_PROG : 0;
  if (mmapable(btf, ds)) flags |= MapFlag.MMAPABLE;
  return newMapSpec(internalMapName(objectName, sec.name), sec.name, {
    type: MapType.ARRAY,
    keySize: 4,
    valueSize: sec.size,
    maxEntries: 1,
    flags,
    valueTypeId: ds?.id ?? 0,
    data: kind === 'bss' ? new Uint8Array(sec.size) : sec.data.slice(),
    variables: variablesOf(elf, sec, btf, ds),
    readonly: rodata,
  });
}

/** The `.kconfig` map that holds the values of `__kconfig` externs (null when there are none). */
export function kconfigMap(externs: readonly ExternSpec[], objectName: string, btf: Btf | null): MapSpec | null {
  const kc = externs.filter((e) => e.kind === 'kconfig');
  if (kc.length === 0) return null;
  const size = Math.max(...kc.map((e) => e.offset + e.size));
  if (size > MAX_DATA_SIZE) throw new ObjectError('.kconfig', 0, `${size} bytes of kconfig values is more than the ${MAX_DATA_SIZE} the loader accepts`);
  const ds = datasecOf(btf, '.kconfig');
  return newMapSpec(internalMapName(objectName, '.kconfig'), '.kconfig', {
    type: MapType.ARRAY,
    keySize: 4,
    valueSize: size,
    maxEntries: 1,
    // libbpf turns the externs into allocated globals, so the map is mmap-able.
    flags: MapFlag.RDONLY_PROG | MapFlag.MMAPABLE,
    valueTypeId: ds?.id ?? 0,
    data: new Uint8Array(size),
    variables: kc.map((e) => {
      const v = btf?.types[e.typeId];
      return { name: e.name, offset: e.offset, size: e.size, typeId: v !== undefined && v.kind === 'var' ? v.type : 0 };
    }),
    readonly: true,
  });
}
