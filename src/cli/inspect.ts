/**
 * `tsbpf inspect OBJ.o`: what an object holds — programs, maps, global
 * variables, BTF types and source lines — read without loading anything.
 */
import { basename } from 'node:path';
import type { Btf } from '../btf/index.js';
import { loadObject, mapTypeName, type MapSpec, type ObjectSpec, type ProgramSpec } from '../object/index.js';
import { parseArgs, UsageError } from './args.js';
import { toHex } from './hex.js';
import { readInput } from './input.js';
import { EXIT_OK, reportError } from './report.js';
import { formatGlobal } from './values.js';

export const INSPECT_USAGE = `usage: tsbpf inspect OBJ.o [--json] [--types] [--lines]
  Lists the programs, maps and global variables of a BPF object.
  --types  also list every named BTF type
  --lines  also list each program's source lines (BTF line info)
  --json   one JSON object: {"programs": [...], "maps": [...], "globals": [...], "types": [...], "lines": {...}}`;

/** The object's name as libbpf derives it: the file name without `.o`. */
export function objectName(path: string): string {
  return basename(path).replace(/\.(bpf\.)?o$/, '').replace(/\.o$/, '') || 'obj';
}

interface ProgramInfo {
  name: string; section: string; type: string; attachTo: string; sleepable: boolean;
  insns: number; maps: string[]; funcs: string[]; license: string;
}

function programInfo(p: ProgramSpec): ProgramInfo {
  return {
    name: p.name,
    section: p.section,
    type: p.type,
    attachTo: p.attachTo,
    sleepable: p.sleepable,
    insns: p.insns.reduce((n, i) => n + (i.opcode === 0x18 ? 2 : 1), 0),
    maps: [...new Set(p.maps.map((m) => m.map))],
    funcs: p.funcInfo.map((f) => f.name),
    license: p.license,
  };
}

function typeOf(btf: Btf | null, id: number): string | null {
  if (btf === null || id === 0) return null;
  try {
    return btf.typeName(id);
  } catch {
    return null;
  }
}

function mapInfo(spec: ObjectSpec, m: MapSpec): Record<string, unknown> {
  return {
    name: m.name,
    section: m.section,
    type: mapTypeName(m.type),
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: m.maxEntries,
    flags: m.flags,
    pinning: m.pinning,
    keyType: typeOf(spec.btf, m.keyTypeId),
    valueType: typeOf(spec.btf, m.valueTypeId),
    ...(m.innerMap ? { innerMap: mapInfo(spec, m.innerMap) } : {}),
    ...(m.init.length > 0 ? { init: m.init.map((e) => ({ key: toHex(e.key), value: e.value instanceof Uint8Array ? toHex(e.value) : e.value })) } : {}),
  };
}

function globals(spec: ObjectSpec): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const m of spec.maps.values()) {
    if (m.data === null) continue;
    for (const v of m.variables) {
      out.push({
        name: v.name,
        map: m.name,
        section: m.section,
        offset: v.offset,
        size: v.size,
        type: typeOf(spec.btf, v.typeId),
        readonly: m.readonly,
        value: formatGlobal(spec.btf, v.typeId, m.data.subarray(v.offset, v.offset + v.size)),
      });
    }
  }
  return out;
}

function namedTypes(btf: Btf | null): Array<{ id: number; kind: string; name: string; size: number | null }> {
  if (btf === null) return [];
  const out = [];
  for (const t of btf.types) {
    if (t.name === '' || t.kind === 'var' || t.kind === 'datasec' || t.kind === 'func') continue;
    let size: number | null = null;
    try { size = t.kind === 'func_proto' || t.kind === 'fwd' ? null : btf.sizeOf(t.id); } catch { size = null; }
    out.push({ id: t.id, kind: t.kind, name: t.name, size });
  }
  return out;
}

function lines(spec: ObjectSpec): Record<string, Array<{ insn: number; file: string; line: number; column: number; text: string }>> {
  const out: Record<string, Array<{ insn: number; file: string; line: number; column: number; text: string }>> = {};
  for (const p of spec.programs.values()) out[p.name] = p.lineInfo.map((l) => ({ insn: l.insn, file: l.file, line: l.line, column: l.column, text: l.text }));
  return out;
}

export function cmdInspect(argv: readonly string[]): number {
  let json = false;
  try {
    const p = parseArgs(argv, [], ['--json', '--types', '--lines', '--help', '-h']);
    json = p.flags.has('--json');
    if (p.flags.has('--help') || p.flags.has('-h')) { process.stdout.write(INSPECT_USAGE + '\n'); return EXIT_OK; }
    if (p.positionals.length !== 1) throw new UsageError(`inspect takes one object file\n${INSPECT_USAGE}`);
    const path = p.positionals[0]!;
    const spec = loadObject(readInput(path), objectName(path));
    const progs = [...spec.programs.values()].map(programInfo);
    const maps = [...spec.maps.values()].filter((m) => m.data === null).map((m) => mapInfo(spec, m));
    const dataMaps = [...spec.maps.values()].filter((m) => m.data !== null).map((m) => mapInfo(spec, m));
    const vars = globals(spec);
    if (json) {
      process.stdout.write(JSON.stringify({
        name: spec.name,
        license: spec.license,
        kernelVersion: spec.kernelVersion,
        programs: progs,
        maps: [...maps, ...dataMaps],
        globals: vars,
        externs: spec.externs.map((e) => ({ name: e.name, kind: e.kind, weak: e.weak })),
        types: p.flags.has('--types') ? namedTypes(spec.btf) : undefined,
        lines: p.flags.has('--lines') ? lines(spec) : undefined,
      }) + '\n');
      return EXIT_OK;
    }
    const w = (s: string): void => { process.stdout.write(s + '\n'); };
    w(`object ${spec.name}: license ${JSON.stringify(spec.license)}, ${spec.btf ? `${spec.btf.types.length - 1} BTF types` : 'no BTF'}${spec.btfExt ? ', line info' : ''}`);
    w(`programs (${progs.length}):`);
    for (const g of progs) {
      w(`  ${g.name}  SEC("${g.section}")  ${g.type}${g.attachTo ? ` -> ${g.attachTo}` : ''}${g.sleepable ? ' (sleepable)' : ''}  ${g.insns} insns`);
      if (g.funcs.length > 1) w(`    functions: ${g.funcs.join(', ')}`);
      if (g.maps.length > 0) w(`    maps: ${g.maps.join(', ')}`);
    }
    w(`maps (${maps.length + dataMaps.length}):`);
    for (const m of [...maps, ...dataMaps]) {
      const kt = m['keyType'] ? ` (${String(m['keyType'])})` : '';
      const vt = m['valueType'] ? ` (${String(m['valueType'])})` : '';
      w(`  ${String(m['name'])}  ${String(m['type'])}  key ${String(m['keySize'])}${kt}  value ${String(m['valueSize'])}${vt}  max_entries ${String(m['maxEntries'])}` +
        `${m['flags'] ? `  flags 0x${(m['flags'] as number).toString(16)}` : ''}${m['pinning'] !== 'none' ? `  pinning ${String(m['pinning'])}` : ''}`);
    }
    if (vars.length > 0) {
      w(`globals (${vars.length}):`);
      for (const v of vars) w(`  ${String(v['section'])}  ${String(v['type'] ?? '?')} ${String(v['name'])}  @${String(v['offset'])}+${String(v['size'])}  = ${JSON.stringify(v['value'])}`);
    }
    if (spec.externs.length > 0) {
      w(`externs (${spec.externs.length}):`);
      for (const e of spec.externs) w(`  ${e.kind} ${e.name}${e.weak ? ' (weak)' : ''}`);
    }
    if (p.flags.has('--types')) {
      const types = namedTypes(spec.btf);
      w(`types (${types.length}):`);
      for (const t of types) w(`  [${t.id}] ${t.kind} ${t.name}${t.size === null ? '' : ` size ${t.size}`}`);
    }
    if (p.flags.has('--lines')) {
      for (const [name, ls] of Object.entries(lines(spec))) {
        w(`lines of ${name}:`);
        for (const l of ls) w(`  ${String(l.insn).padStart(5)}  ${l.file}:${l.line}:${l.column}  ${l.text.trim()}`);
      }
    }
    return EXIT_OK;
  } catch (e) {
    return reportError(e, json);
  }
}
