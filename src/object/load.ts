/**
 * `loadObject`: a libbpf-style eBPF ELF object (clang -target bpf) to an
 * `ObjectSpec`. Programs come from the sections libbpf knows, maps from
 * `.maps` / `maps` and the global-data sections, and each program is linked
 * with the functions it calls.
 */
import { Btf, parseBtfExt, type BtfExt } from '../btf/index.js';
import { parseElf, SHT, STT, type ElfFile, type ElfSection } from '../elf/index.js';
import { collectFuncs, isExecutable, type Func } from './code.js';
import { ObjectError } from './errors.js';
import { collectExterns, fixKconfigDatasec } from './externs.js';
import { dataKind, dataMap, fixDatasecs, kconfigMap } from './globals.js';
import { linkProgram } from './link.js';
import { applyMapInits, btfMaps, legacyMaps, type MapSite } from './maps.js';
import { relocateAll } from './relocate.js';
import { programKind } from './sections.js';
import type { MapSpec, ObjectSpec, ProgramSpec } from './spec.js';

const decoder = new TextDecoder('utf-8', { fatal: false });

function readLicense(sec: ElfSection | undefined): string {
  if (sec === undefined) return '';
  const end = sec.data.indexOf(0);
  return decoder.decode(end < 0 ? sec.data : sec.data.subarray(0, end));
}

function readVersion(elf: ElfFile, sec: ElfSection | undefined): number {
  if (sec === undefined) return 0;
  if (sec.data.length !== 4) throw new ObjectError(sec.name, 0, `the version section holds ${sec.data.length} bytes, not a u32`);
  return elf.view(sec).getUint32(0, elf.littleEndian);
}

function readBtf(elf: ElfFile): { btf: Btf | null; ext: BtfExt | null } {
  const btfSec = elf.section('.BTF');
  const extSec = elf.section('.BTF.ext');
  for (const s of [btfSec, extSec]) {
    if (s !== undefined && s.type !== SHT.PROGBITS) throw new ObjectError(s.name, 0, `${s.name} must be PROGBITS, is type ${s.type}`);
  }
  const btf = btfSec ? Btf.parse(btfSec.data) : null;
  // Like libbpf, .BTF.ext without .BTF is ignored.
  const ext = btf && extSec ? parseBtfExt(extSec.data, btf) : null;
  return { btf, ext };
}

/** Loads an ELF object into an `ObjectSpec`. `name` (default `obj`) prefixes the global-data map names. */
export function loadObject(bytes: Uint8Array, name = 'obj'): ObjectSpec {
  const elf = parseElf(bytes);
  const { btf, ext } = readBtf(elf);
  if (btf) fixDatasecs(btf, elf);
  const license = readLicense(elf.section('license'));
  const kernelVersion = readVersion(elf, elf.section('version'));
  const externs = collectExterns(elf, btf);
  fixKconfigDatasec(btf, externs);
  const funcs = collectFuncs(elf);

  // Maps: user maps in section order, then global data, then .kconfig.
  const maps = new Map<string, MapSpec>();
  const add = (m: MapSpec, sec: string, offset: number): void => {
    if (maps.has(m.name)) throw new ObjectError(sec, offset, `two maps are named ${m.name}`, { map: m.name });
    maps.set(m.name, m);
  };
  const sites: MapSite[] = [];
  let mapsSec: ElfSection | undefined;
  for (const sec of elf.sections) {
    if (sec.name === '.maps' && !isExecutable(sec)) {
      if (mapsSec !== undefined) throw new ObjectError(sec.name, 0, 'a second .maps section');
      mapsSec = sec;
      sites.push(...btfMaps(elf, sec, btf));
    } else if (sec.name === 'maps' && !isExecutable(sec)) {
      sites.push(...legacyMaps(elf, sec));
    }
  }
  for (const s of sites) add(s.spec, s.section.name, s.offset);
  const dataMaps = new Map<number, MapSpec>();
  for (const sec of elf.sections) {
    const kind = dataKind(sec);
    if (kind === null) continue;
    const m = dataMap(elf, sec, kind, name, btf);
    if (m === null) continue;
    add(m, sec.name, 0);
    dataMaps.set(sec.index, m);
  }
  const kconfig = kconfigMap(externs.list, name, btf);
  if (kconfig) add(kconfig, '.kconfig', 0);

  // Programs: the global functions of every executable section but .text.
  const mains: Array<{ func: Func; sec: ElfSection }> = [];
  for (const sec of elf.sections) {
    if (!isExecutable(sec) || sec.name === '.text') continue;
    if (programKind(sec.name) === null) throw new ObjectError(sec.name, 0, `unknown program section ${JSON.stringify(sec.name)} (libbpf's SEC() names: xdp, tc, kprobe/..., tracepoint/..., ...)`);
    for (const f of funcs.get(sec.index) ?? []) if (f.global) mains.push({ func: f, sec });
  }
  const programFuncs = new Set(mains.map((m) => m.func));
  if (mapsSec !== undefined) {
    applyMapInits(elf, mapsSec, sites, (symIdx) => {
      const sym = elf.symbols[symIdx]!;
      if (sym.type !== STT.FUNC) return null;
      const f = (funcs.get(sym.shndx) ?? []).find((x) => x.start * 8 === sym.value);
      return f !== undefined && programFuncs.has(f) ? f.name : null;
    });
  }

  const refs = relocateAll({ elf, funcs, mapSites: sites, dataMaps, externs, kconfigMap: kconfig?.name ?? null });
  const programs = new Map<string, ProgramSpec>();
  for (const { func, sec } of mains) {
    if (programs.has(func.name)) throw new ObjectError(sec.name, func.start * 8, `two programs are named ${func.name}`);
    const kind = programKind(sec.name)!;
    const linked = linkProgram(func, refs, btf, ext);
    programs.set(func.name, {
      name: func.name,
      section: sec.name,
      type: kind.type,
      expectedAttachType: kind.expectedAttachType,
      attachTo: kind.attachTo,
      sleepable: kind.sleepable,
      insns: linked.insns,
      maps: linked.maps,
      externs: linked.externs,
      funcInfo: linked.funcInfo,
      lineInfo: linked.lineInfo,
      coreRelos: linked.coreRelos,
      license,
      kernelVersion,
    });
  }
  return { name, programs, maps, externs: externs.list, license, kernelVersion, btf, btfExt: ext };
}
