/**
 * The entries of a kernel map in the `--json` shape of `tsbpf run`'s maps
 * (map-dump.ts does the same for vm maps): `{key, value, formatted}`, or
 * `values` per CPU, with keys and values BTF-decoded when the map has BTF
 * (fetched from the kernel by the map's `btf_id`).
 */
import type { Btf } from '../btf/index.js';
import { TsbpfError } from '../errors.js';
import { btfById, type KernelMap, KernelError, type MapInfo, programInfoById } from '../kernel/index.js';
import { MapType } from '../object/index.js';
import { toHex } from './hex.js';
import { formatted, type MapEntryJson } from './map-dump.js';

/** Map types whose elements bpf(2) cannot list without consuming them, or that hold none. */
const NOT_LISTED = new Set<number>([
  MapType.RINGBUF, MapType.USER_RINGBUF, MapType.PERF_EVENT_ARRAY, MapType.BLOOM_FILTER,
  MapType.QUEUE, MapType.STACK, MapType.STRUCT_OPS, MapType.ARENA,
]);

/** Why a map type shows no entries, for the text form. */
export function unlistedReason(type: number): string | null {
  if (!NOT_LISTED.has(type)) return null;
  if (type === MapType.QUEUE || type === MapType.STACK) return 'a queue or stack can only be read by popping it';
  if (type === MapType.BLOOM_FILTER) return 'a bloom filter holds no elements to list';
  return 'its contents are events or memory, not elements';
}

/** The BTF a kernel map's key/value type ids refer to, or null (no BTF, or it does not parse here). */
export function mapBtf(info: MapInfo): Btf | null {
  if (info.btfId === 0) return null;
  try {
    return btfById(info.btfId);
  } catch {
    return null;
  }
}

/** How a map's bytes are shown: its BTF and key/value type ids. */
export interface EntryFormat {
  readonly btf: Btf | null;
  readonly keyTypeId: number;
  readonly valueTypeId: number;
}

export function entryFormat(info: MapInfo): EntryFormat {
  const btf = mapBtf(info);
  return { btf, keyTypeId: btf ? info.btfKeyTypeId : 0, valueTypeId: btf ? info.btfValueTypeId : 0 };
}

/** The name of the program with this id (a prog_array slot's value), or `prog#ID`. */
function programName(id: number): string {
  try {
    return programInfoById(id).name || `prog#${id}`;
  } catch {
    return `prog#${id}`;
  }
}

/** One element as a `--json` entry; `value` is what a lookup returned (all CPUs for per-CPU maps). */
export function kernelEntry(map: KernelMap, fmt: EntryFormat, key: Uint8Array, value: Uint8Array): MapEntryJson {
  const fk = formatted(fmt.btf, fmt.keyTypeId, key);
  if (map.type === MapType.PROG_ARRAY) {
    const name = programName(new DataView(value.buffer, value.byteOffset, 4).getUint32(0, true));
    return { key: toHex(key), value: name, formatted: { key: fk, value: name } };
  }
  if (map.perCpu) {
    const vals = map.splitPerCpu(value);
    return {
      key: toHex(key),
      values: vals.map((v, cpu) => ({ cpu, value: toHex(v) })),
      formatted: { key: fk, values: vals.map((v, cpu) => ({ cpu, value: formatted(fmt.btf, fmt.valueTypeId, v) })) },
    };
  }
  return { key: toHex(key), value: toHex(value), formatted: { key: fk, value: formatted(fmt.btf, fmt.valueTypeId, value) } };
}

/**
 * Every element of a kernel map as `--json` entries (empty for the types in
 * `unlistedReason`). Elements deleted while the dump runs are skipped.
 */
export function kernelMapEntries(map: KernelMap, fmt: EntryFormat): MapEntryJson[] {
  if (NOT_LISTED.has(map.type)) return [];
  const out: MapEntryJson[] = [];
  for (const key of map.keys()) {
    let value: Uint8Array | null;
    try {
      value = map.lookup(key);
    } catch (e) {
      if (e instanceof KernelError) {
        throw new TsbpfError('EMAPDUMP', `the elements of map "${map.name}" (${map.typeName}) cannot be read from user space: ${e.errnoName}`, {
          map: map.name, errno: e.errnoName,
        });
      }
      throw e;
    }
    if (value !== null) out.push(kernelEntry(map, fmt, key, value));
  }
  return out;
}
