/**
 * User maps: BTF-defined maps in `.maps` (the `__uint`/`__type`/`__array`
 * encoding of bpf_helpers.h), legacy `struct bpf_map_def` maps in `maps`, and
 * the static `.values` initialisers of prog arrays and maps of maps.
 */
import type { Btf, BtfComposite } from '../btf/index.js';
import { R_BPF, STT, type ElfFile, type ElfSection } from '../elf/index.js';
import { resolvedAt, sizeAt, typeAt } from './btf-util.js';
import { symbolIn } from './symbols.js';
import { ObjectError } from './errors.js';
import { MapType } from './kinds.js';
import type { MapInit, MapSpec, Pinning } from './spec.js';

/** A map and where its definition sits in its ELF section. */
export interface MapSite {
  readonly spec: MapSpec;
  readonly section: ElfSection;
  readonly offset: number;
  readonly size: number;
  /** Byte offset of the `values` member inside the definition, or null. */
  readonly valuesOffset: number | null;
}

interface MapDef {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  numaNode: number;
  mapExtra: bigint;
  pinning: Pinning;
  keyTypeId: number;
  valueTypeId: number;
  inner: MapDef | null;
  valuesOffset: number | null;
}

const isMapInMap = (type: number): boolean => type === MapType.ARRAY_OF_MAPS || type === MapType.HASH_OF_MAPS;

export function newMapSpec(name: string, section: string, fields: Partial<MapSpec> = {}): MapSpec {
  return {
    name,
    section,
    type: 0,
    keySize: 0,
    valueSize: 0,
    maxEntries: 0,
    flags: 0,
    pinning: 'none',
    mapExtra: 0n,
    numaNode: 0,
    keyTypeId: 0,
    valueTypeId: 0,
    innerMap: null,
    init: [],
    data: null,
    variables: [],
    readonly: false,
    ...fields,
  };
}

/**
 * A ring buffer's size must be a power-of-2 multiple of the page size;
 * libbpf rounds what the object asks for up to the next one (with 4 KiB
 * pages here: the spec does not know the machine's page size).
 */
function ringbufSize(n: number): number {
  let size = 4096;
  while (size < n && size < 2 ** 30) size *= 2;
  return size;
}

function specOf(name: string, section: string, d: MapDef): MapSpec {
  return newMapSpec(name, section, {
    type: d.type,
    keySize: d.keySize,
    valueSize: d.valueSize,
    maxEntries: d.type === MapType.RINGBUF && d.maxEntries > 0 ? ringbufSize(d.maxEntries) : d.maxEntries,
    flags: d.flags,
    pinning: d.pinning,
    mapExtra: d.mapExtra,
    numaNode: d.numaNode,
    keyTypeId: d.keyTypeId,
    valueTypeId: d.valueTypeId,
    innerMap: d.inner ? specOf(`${name}.inner`, section, d.inner) : null,
  });
}

/** Decodes a BTF map definition struct, as libbpf's strict mode does. */
function parseDef(btf: Btf, st: BtfComposite, mapName: string, inner: boolean, section: string, at: number): MapDef {
  const d: MapDef = {
    type: 0, keySize: 0, valueSize: 0, maxEntries: 0, flags: 0, numaNode: 0, mapExtra: 0n,
    pinning: 'none', keyTypeId: 0, valueTypeId: 0, inner: null, valuesOffset: null,
  };
  const fail = (why: string): never => {
    throw new ObjectError(section, at, `map ${mapName}: ${why}`, { map: mapName });
  };
  const intField = (m: { name: string; type: number }): number => {
    const ptr = resolvedAt(btf, m.type, section, at, `map ${mapName}: ${m.name}`);
    if (ptr.kind !== 'ptr') return fail(`${m.name} must be a pointer to an array (__uint), is ${ptr.kind}`);
    const arr = typeAt(btf, ptr.type, section, at, `map ${mapName}: ${m.name}`);
    if (arr.kind !== 'array') return fail(`${m.name} must point to an array (__uint), points to ${arr.kind}`);
    return arr.nelems;
  };
  const typeField = (m: { name: string; type: number }): { id: number; size: number } => {
    const ptr = typeAt(btf, m.type, section, at, `map ${mapName}: ${m.name}`);
    if (ptr.kind !== 'ptr') return fail(`${m.name} must be a pointer (__type), is ${ptr.kind}`);
    return { id: ptr.type, size: sizeAt(btf, ptr.type, section, at, `map ${mapName}: ${m.name}`) };
  };
  const setSize = (field: 'keySize' | 'valueSize', size: number): void => {
    if (d[field] !== 0 && d[field] !== size) fail(`conflicting ${field === 'keySize' ? 'key' : 'value'} size ${d[field]} != ${size}`);
    d[field] = size;
  };
  st.members.forEach((m, i) => {
    switch (m.name) {
      case 'type': d.type = intField(m); break;
      case 'max_entries': d.maxEntries = intField(m); break;
      case 'map_flags': d.flags = intField(m); break;
      case 'numa_node': d.numaNode = intField(m); break;
      case 'map_extra': d.mapExtra = BigInt(intField(m)); break;
      case 'key_size': setSize('keySize', intField(m)); break;
      case 'value_size': setSize('valueSize', intField(m)); break;
      case 'key': { const k = typeField(m); setSize('keySize', k.size); d.keyTypeId = k.id; break; }
      case 'value': { const v = typeField(m); setSize('valueSize', v.size); d.valueTypeId = v.id; break; }
      case 'pinning': {
        if (inner) fail('an inner map cannot be pinned');
        const p = intField(m);
        if (p > 1) fail(`invalid pinning ${p} (0 = none, 1 = by name)`);
        d.pinning = p === 1 ? 'by_name' : 'none';
        break;
      }
      case 'values': {
        if (inner) fail('inner maps cannot have values (only one level of maps of maps)');
        if (i !== st.members.length - 1) fail('values must be the last member');
        const prog = d.type === MapType.PROG_ARRAY;
        if (!isMapInMap(d.type) && !prog) fail('values needs a map of maps or a prog array');
        setSize('valueSize', 4);
        const arr = typeAt(btf, m.type, section, at, `map ${mapName}: values`);
        if (arr.kind !== 'array' || arr.nelems !== 0) fail('values must be a zero-length array (__array)');
        const ptr = resolvedAt(btf, (arr as { type: number }).type, section, at, `map ${mapName}: values`);
        if (ptr.kind !== 'ptr') return fail(`values must hold pointers, holds ${ptr.kind}`);
        const target = resolvedAt(btf, ptr.type, section, at, `map ${mapName}: values`);
        if (prog) {
          if (target.kind !== 'func_proto') fail(`prog array values must point to functions, point to ${target.kind}`);
        } else {
          if (target.kind !== 'struct') return fail(`map of maps values must point to a map definition struct, point to ${target.kind}`);
          d.inner = parseDef(btf, target, `${mapName}.inner`, true, section, at);
        }
        d.valuesOffset = Math.floor(m.bitOffset / 8);
        break;
      }
      default:
        fail(`unknown field ${m.name || `#${i}`}`);
    }
  });
  if (d.type === 0) fail('the map type is not set');
  return d;
}

/** Maps defined in `.maps` (needs BTF: the definitions are types, the section only reserves space). */
export function btfMaps(elf: ElfFile, sec: ElfSection, btf: Btf | null): MapSite[] {
  if (btf === null) throw new ObjectError(sec.name, 0, 'BTF-defined maps need a .BTF section');
  const ds = btf.types.find((t) => t.kind === 'datasec' && t.name === sec.name);
  if (ds === undefined || ds.kind !== 'datasec') throw new ObjectError(sec.name, 0, `BTF has no DATASEC ${sec.name}`);
  const sites: MapSite[] = [];
  for (const vi of ds.vars) {
    const v = typeAt(btf, vi.type, sec.name, vi.offset, 'map variable');
    if (v.kind !== 'var') throw new ObjectError(sec.name, vi.offset, `DATASEC ${sec.name} holds a ${v.kind}, not a variable`);
    const name = v.name;
    if (name === '') throw new ObjectError(sec.name, vi.offset, 'a map has no name');
    const sym = symbolIn(elf, sec.index, name);
    const offset = sym ? sym.value : vi.offset;
    const size = sym && sym.size > 0 ? sym.size : vi.size;
    if (offset + size > sec.size) throw new ObjectError(sec.name, offset, `map ${name} [${offset}, +${size}) runs past the ${sec.size}-byte section`, { map: name });
    if (v.linkage !== 'global') throw new ObjectError(sec.name, offset, `map ${name} has ${v.linkage} linkage (maps must be global)`, { map: name });
    const st = resolvedAt(btf, v.type, sec.name, offset, `map ${name}`);
    if (st.kind !== 'struct') throw new ObjectError(sec.name, offset, `map ${name} is a ${st.kind}, not a struct definition`, { map: name });
    if (st.size > size) throw new ObjectError(sec.name, offset, `map ${name}: definition of ${st.size} bytes is larger than its ${size}-byte variable`, { map: name });
    const d = parseDef(btf, st, name, false, sec.name, offset);
    sites.push({ spec: specOf(name, sec.name, d), section: sec, offset, size, valuesOffset: d.valuesOffset });
  }
  return sites.sort((a, b) => a.offset - b.offset);
}

/** Size of libbpf's `struct bpf_map_def` (type, key_size, value_size, max_entries, map_flags). */
const LEGACY_DEF_SIZE = 20;

/** Maps defined as `struct bpf_map_def` (optionally followed by `id` and `pinning`) in the `maps` section. */
export function legacyMaps(elf: ElfFile, sec: ElfSection): MapSite[] {
  const syms = elf.symbols
    .filter((s) => s.shndx === sec.index && s.name !== '' && (s.type === STT.OBJECT || s.type === STT.NOTYPE))
    .sort((a, b) => a.value - b.value);
  if (syms.length === 0) {
    if (sec.size === 0) return [];
    throw new ObjectError(sec.name, 0, 'the maps section has no map symbols');
  }
  if (sec.data.length !== sec.size) throw new ObjectError(sec.name, 0, 'the maps section has no contents');
  const view = elf.view(sec);
  const le = elf.littleEndian;
  const even = Math.floor(sec.size / syms.length);
  return syms.map((sym) => {
    const size = sym.size > 0 ? sym.size : even;
    const at = sym.value;
    if (size < LEGACY_DEF_SIZE || at + size > sec.size) {
      throw new ObjectError(sec.name, at, `map ${sym.name}: definition [${at}, +${size}) must hold at least ${LEGACY_DEF_SIZE} bytes inside the ${sec.size}-byte section`, { map: sym.name });
    }
    const u32 = (k: number): number => view.getUint32(at + 4 * k, le);
    let pinning: Pinning = 'none';
    if (size >= 28) {
      const p = u32(6);
      if (p > 2) throw new ObjectError(sec.name, at + 24, `map ${sym.name}: invalid pinning ${p}`, { map: sym.name });
      pinning = p === 0 ? 'none' : 'by_name';
    }
    const spec = newMapSpec(sym.name, sec.name, {
      type: u32(0),
      keySize: u32(1),
      valueSize: u32(2),
      maxEntries: u32(3),
      flags: u32(4),
      pinning,
    });
    if (spec.type === 0) throw new ObjectError(sec.name, at, `map ${sym.name}: the map type is 0 (unspec)`, { map: sym.name });
    return { spec, section: sec, offset: at, size, valuesOffset: null };
  });
}

const u32le = (n: number): Uint8Array => new Uint8Array([n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff]);

/**
 * Fills `init` of prog arrays and maps of maps from the relocations of
 * `.maps` (`.values = { [i] = &prog_or_map }`).
 */
export function applyMapInits(elf: ElfFile, sec: ElfSection, sites: readonly MapSite[], isProgram: (symbol: number) => string | null): void {
  for (const r of elf.relocationsFor(sec.index)) {
    if (r.type === R_BPF.NONE) continue;
    const site = sites.find((s) => s.section === sec && r.offset >= s.offset && r.offset < s.offset + s.size);
    if (!site) throw new ObjectError(sec.name, r.offset, 'relocation outside every map definition');
    const name = site.spec.name;
    const fail = (why: string): never => {
      throw new ObjectError(sec.name, r.offset, `map ${name}: ${why}`, { map: name });
    };
    if (site.valuesOffset === null) fail('relocation in a map without values');
    const rel = r.offset - site.offset - site.valuesOffset!;
    if (rel < 0 || rel % 8 !== 0) fail(`relocation at ${r.offset} is not a values slot`);
    const idx = rel / 8;
    if (idx >= site.spec.maxEntries) fail(`values slot ${idx} is past max_entries ${site.spec.maxEntries}`);
    const sym = elf.symbols[r.symbol]!;
    let value: MapInit['value'];
    if (site.spec.type === MapType.PROG_ARRAY) {
      const prog = isProgram(r.symbol);
      if (prog === null) return fail(`values slot ${idx} refers to ${sym.name || `symbol ${r.symbol}`}, which is not a program`);
      value = { program: prog };
    } else {
      const target = sites.find((s) => s.section.index === sym.shndx && s.offset === sym.value);
      if (!target || sym.type === STT.SECTION) return fail(`values slot ${idx} refers to ${sym.name || `symbol ${r.symbol}`}, which is not a map`);
      value = { map: target.spec.name };
    }
    if (site.spec.init.some((e) => e.key.length === 4 && new DataView(e.key.buffer).getUint32(0, true) === idx)) {
      fail(`values slot ${idx} is set twice`);
    }
    site.spec.init.push({ key: u32le(idx), value });
  }
  for (const s of sites) s.spec.init.sort((a, b) => new DataView(a.key.buffer).getUint32(0, true) - new DataView(b.key.buffer).getUint32(0, true));
}
