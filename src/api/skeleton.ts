/**
 * The runtime of generated skeletons (`tsbpf gen skeleton`): an embedded
 * object loaded into a backend, with typed maps, typed global variables
 * (editable before load for `.rodata`, as libbpf skeletons allow) and the
 * programs by name.
 */
import { decodeValue, encodeValue, type BtfInput, type BtfValue } from '../btf/index.js';
import { TsbpfError } from '../errors.js';
import { loadObject, MapType, type ObjectSpec } from '../object/index.js';
import { loadVm, type VmCollection, type VmLoadOptions, type VmProgram } from '../vm/index.js';
import { TypedMap, vmRawMap } from './typed-map.js';

export interface SkeletonOptions extends VmLoadOptions {
  /**
   * Initial values of global variables by section key (`rodata`, `data`,
   * `bss`, `data_foo` for `.data.foo`...), written into the spec before load.
   */
  globals?: Record<string, Record<string, unknown>>;
}

/** `.rodata` → `rodata`, `.data.foo` → `data_foo`: how skeletons name a global-data section. */
export function sectionKey(section: string): string {
  return section.replace(/^\./, '').replace(/[^A-Za-z0-9_]/g, '_');
}

export interface Skeleton<M, G, P extends string> {
  readonly spec: ObjectSpec;
  readonly collection: VmCollection;
  readonly maps: M;
  /** Global variables by section key, read from the maps each time. */
  readonly globals: G;
  readonly programs: Record<P, VmProgram>;
}

const PERCPU: readonly number[] = [MapType.PERCPU_ARRAY, MapType.PERCPU_HASH, MapType.LRU_PERCPU_HASH];

function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let k = 0; k < bin.length; k++) out[k] = bin.charCodeAt(k);
  return out;
}

/** Loads the embedded object (base64) into the vm and wraps it as a skeleton. */
export function openSkeleton<M, G, P extends string>(object: string, name: string, opts: SkeletonOptions = {}): Skeleton<M, G, P> {
  const spec = loadObject(fromBase64(object), name);
  const btf = spec.btf;
  for (const [key, values] of Object.entries(opts.globals ?? {})) {
    const m = [...spec.maps.values()].find((x) => x.data !== null && sectionKey(x.section) === key);
    if (m === undefined || m.data === null) throw new TsbpfError('EARG', `the object has no global-data section ${key}`, { section: key });
    const sec = btf?.find(m.section, 'datasec');
    if (!btf || !sec) throw new TsbpfError('EARG', `section ${m.section} has no BTF, so its variables cannot be set by name`, { section: key });
    const current = decodeValue(btf, sec.id, m.data) as Record<string, BtfValue>;
    m.data = encodeValue(btf, sec.id, { ...current, ...values } as BtfInput);
  }
  const collection = loadVm(spec, opts);
  const maps: Record<string, unknown> = {};
  const globals: Record<string, unknown> = {};
  for (const [mapName, ms] of spec.maps) {
    const vm = collection.maps.get(mapName)!;
    if (ms.data !== null) {
      const sec = btf?.find(ms.section, 'datasec');
      Object.defineProperty(globals, sectionKey(ms.section), {
        enumerable: true,
        get: () => {
          const v = vm.lookupValue(new Uint8Array(4))!;
          return btf && sec ? decodeValue(btf, sec.id, v) : v;
        },
      });
      continue;
    }
    maps[mapName] = new TypedMap(vmRawMap(vm), btf, {
      name: mapName, keySize: ms.keySize, valueSize: ms.valueSize, keyType: ms.keyTypeId, valueType: ms.valueTypeId, perCpu: PERCPU.includes(ms.type),
    });
  }
  const programs = Object.fromEntries(collection.programs) as Record<P, VmProgram>;
  return { spec, collection, maps: maps as M, globals: globals as G, programs };
}
