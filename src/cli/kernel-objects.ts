/**
 * What the bpftool-like commands (`prog`, `map`, `link`) share: naming an
 * object by id, pin path or name, and the JSON forms of kernel info.
 */
import {
  type KernelMap,
  type LinkInfo,
  type MapInfo,
  type ProgDetails,
  listMaps,
  listPrograms,
  mapById,
  openPinnedMap,
  programInfoById,
  getPinned,
  progDetails,
} from '../kernel/index.js';
import { mapTypeName } from '../object/index.js';
import { UsageError } from './args.js';

/** A `--json` replacer: bigints as numbers when exact, else as decimal strings; dates as ISO strings. */
export function jsonReplacer(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  return v;
}

export const toJsonLine = (v: unknown): string => JSON.stringify(v, jsonReplacer) + '\n';

/** A decimal object id, or a usage error. */
export function parseId(text: string | undefined, what: string): number {
  if (text === undefined) throw new UsageError(`${what} needs an ID`);
  if (!/^\d+$/.test(text) || Number(text) === 0 || Number(text) > 0xffffffff) throw new UsageError(`${what} ID must be a positive integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

/**
 * Opens a map named on the command line: a numeric id, a pin path (starting
 * with `/` or `.`), or the map's name when exactly one map has it.
 */
export function openMapArg(ref: string | undefined): KernelMap {
  if (ref === undefined) throw new UsageError('a map ID (or pin path, or name) is needed');
  if (/^\d+$/.test(ref)) return mapById(parseId(ref, 'map'));
  if (ref.startsWith('/') || ref.startsWith('.')) return openPinnedMap(ref);
  const found = listMaps().filter((m) => m.name === ref);
  if (found.length === 0) throw new UsageError(`no map is named "${ref}" (give an ID from \`tsbpf map list\`)`);
  if (found.length > 1) throw new UsageError(`${found.length} maps are named "${ref}" (ids ${found.map((m) => m.id).join(', ')}): give an ID`);
  return mapById(found[0]!.id);
}

/** What the kernel says about a program named on the command line: id, pin path, or a unique name. */
export function programArg(ref: string | undefined): ProgDetails {
  if (ref === undefined) throw new UsageError('a program ID (or pin path, or name) is needed');
  if (/^\d+$/.test(ref)) return programInfoById(parseId(ref, 'prog'));
  if (ref.startsWith('/') || ref.startsWith('.')) {
    const p = getPinned(ref);
    try {
      if (p.kind !== 'prog') throw new UsageError(`${ref} holds a bpf ${p.kind}, not a program`);
      return progDetails(p.fd);
    } finally {
      p.close();
    }
  }
  const found = listPrograms().filter((p) => p.name === ref);
  if (found.length === 0) throw new UsageError(`no program is named "${ref}" (give an ID from \`tsbpf prog list\`)`);
  if (found.length > 1) throw new UsageError(`${found.length} programs are named "${ref}" (ids ${found.map((p) => p.id).join(', ')}): give an ID`);
  return found[0]!;
}

/** The `--json` form of a program. */
export function progJson(p: ProgDetails): Record<string, unknown> {
  return {
    id: p.id,
    type: p.typeName,
    name: p.name,
    tag: p.tag,
    gplCompatible: p.gplCompatible,
    loadedAt: p.loadedAt?.toISOString() ?? null,
    uid: p.uid,
    bytesXlated: p.bytesXlated,
    jited: p.jited,
    bytesJited: p.bytesJited,
    mapIds: p.mapIds,
    btfId: p.btfId,
    verifiedInsns: p.verifiedInsns,
    runTimeNs: p.runTimeNs,
    runCnt: p.runCnt,
  };
}

/** The `--json` form of a map. */
export function mapJson(m: MapInfo): Record<string, unknown> {
  return {
    id: m.id,
    type: mapTypeName(m.type),
    name: m.name,
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: m.maxEntries,
    flags: m.flags,
    btfId: m.btfId,
  };
}

/** The `--json` form of a link. */
export function linkJson(l: LinkInfo): Record<string, unknown> {
  const out: Record<string, unknown> = { id: l.id, type: l.typeName, progId: l.progId };
  if (l.ifindex !== undefined) out['ifindex'] = l.ifindex;
  if (l.attachType !== undefined) out['attachType'] = l.attachType;
  return out;
}
