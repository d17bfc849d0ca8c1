/**
 * Map contents as `tsbpf run OBJ.o` prints them: the JSON entries of the
 * `--json` contract, and a text form in the style of `bpftool map dump`.
 */
import { decodeValue, toJson, type Btf } from '../btf/index.js';
import { MapType, type MapSpec } from '../object/index.js';
import { RingBufMap, PerfEventArrayMap, type VmMap } from '../vm/maps/index.js';
import type { CollectionMap } from '../api/index.js';
import { toHex } from './hex.js';

/** One element: `{key, value, formatted}`; percpu maps give `values`; event and queue maps only `value`. */
export interface MapEntryJson {
  key?: string;
  value?: unknown;
  values?: Array<{ cpu: number; value: string }>;
  formatted?: { key?: unknown; value?: unknown; values?: Array<{ cpu: number; value: unknown }> };
}


/** BTF-decoded JSON of `bytes` as type `id`; without BTF, what `hexOrNumber` gives. */
export function formatted(btf: Btf | null, id: number, bytes: Uint8Array): unknown {
  if (btf === null || id === 0) return hexOrNumber(bytes);
  try {
    return toJson(decodeValue(btf, id, bytes));
  } catch {
    return hexOrNumber(bytes);
  }
}

/** Without BTF: 1-, 2-, 4- and 8-byte little-endian integers as numbers, anything else as hex. */
export function hexOrNumber(b: Uint8Array): unknown {
  if (b.length === 1 || b.length === 2 || b.length === 4 || b.length === 8) {
    let v = 0n;
    for (let k = b.length - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[k]!);
    return v < 2n ** 53n ? Number(v) : v.toString();
  }
  return toHex(b);
}

/** The value type of a map: its BTF value type, or for global data the DATASEC of its section. */
function valueType(spec: MapSpec, btf: Btf | null): number {
  if (spec.valueTypeId !== 0 || btf === null || spec.data === null) return spec.valueTypeId;
  return btf.find(spec.section, 'datasec')?.id ?? 0;
}

/** Reads the events a ring buffer or perf event array holds now (as a consumer would), or null for other maps. */
export function drainEvents(map: VmMap): Uint8Array[] | null {
  if (map instanceof RingBufMap) return map.drain();
  if (map instanceof PerfEventArrayMap) return map.drain().map((s) => s.data);
  return null;
}

/**
 * The entries of a map of a loaded collection as the `--json` contract
 * lists them, on either backend (the same entries for the same contents). `events` are the ring buffer or perf
 * records read during the runs.
 */
export function collectionMapEntries(map: CollectionMap, spec: MapSpec, btf: Btf | null, events: readonly Uint8Array[] = []): MapEntryJson[] {
  if (map.type === MapType.BLOOM_FILTER) return [];
  if (map.type === MapType.RINGBUF || map.type === MapType.PERF_EVENT_ARRAY) return [...events, ...map.events()].map((r) => ({ value: toHex(r) }));
  if (map.type === MapType.QUEUE || map.type === MapType.STACK) return map.values().map((v) => ({ value: toHex(v) }));
  const vt = valueType(spec, btf);
  const out: MapEntryJson[] = [];
  for (const key of map.keys()) {
    const fk = formatted(btf, spec.keyTypeId, key);
    if (map.type === MapType.PROG_ARRAY) {
      const name = map.program(new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true));
      if (name !== null) out.push({ key: toHex(key), value: name, formatted: { key: fk, value: name } });
    } else if (map.perCpu) {
      const vals = map.lookupPerCpu(key) ?? [];
      out.push({
        key: toHex(key),
        values: vals.map((v, cpu) => ({ cpu, value: toHex(v) })),
        formatted: { key: fk, values: vals.map((v, cpu) => ({ cpu, value: formatted(btf, vt, v) })) },
      });
    } else {
      const v = map.lookup(key);
      if (v === null) continue;
      out.push({ key: toHex(key), value: toHex(v), formatted: { key: fk, value: formatted(btf, vt, v) } });
    }
  }
  return out;
}

const spaced = (hex: string): string => hex.replace(/(..)(?=.)/g, '$1 ');

/** A map's entries as text lines, bpftool style. */
export function mapText(name: string, typeName: string, entries: readonly MapEntryJson[]): string[] {
  const lines = [`${name} (${typeName}, ${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}):`];
  for (const e of entries) {
    if (e.key === undefined) {
      lines.push(`  value: ${spaced(String(e.value))}`);
      continue;
    }
    const f = e.formatted;
    const show = (v: unknown): string => JSON.stringify(v);
    if (e.values) {
      lines.push(`  key: ${show(f?.key)}`);
      for (const v of f?.values ?? []) lines.push(`    cpu ${v.cpu}: ${show(v.value)}`);
    } else {
      lines.push(`  key: ${show(f?.key)}  value: ${show(f?.value)}`);
    }
  }
  return lines;
}
