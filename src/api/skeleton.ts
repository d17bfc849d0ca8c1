/**
 * The runtime of generated skeletons (`tsbpf gen skeleton`): an embedded
 * object loaded into a backend (the vm unless `backend: 'kernel'`), with
 * typed maps, typed global variables (editable before load for `.rodata`,
 * as libbpf skeletons allow) and the programs by name.
 */
import { decodeValue, encodeValue, type BtfInput, type BtfValue } from '../btf/index.js';
import { TsbpfError } from '../errors.js';
import { loadObject, type ObjectSpec } from '../object/index.js';
import type { VmCollection, VmProgram } from '../vm/index.js';
import { load, type BackendName, type Collection, type LoadOptions } from './collection.js';
import { VmBackendCollection } from './backend-vm.js';
import { TypedMap } from './typed-map.js';

/** Load options (`backend`, and the vm's or the kernel's) plus initial global values. */
export interface SkeletonOptions extends LoadOptions {
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

export interface Skeleton<M, G, P extends string> extends Disposable {
  readonly spec: ObjectSpec;
  readonly backend: BackendName;
  /** The object as loaded, through the interface both backends share (maps, `testRun`). */
  readonly loaded: Collection;
  /** The typed maps, on either backend. */
  readonly maps: M;
  /** Global variables by section key, read from the maps each time. */
  readonly globals: G;
  /** vm backend only: the vm collection (address space, hooks). Throws `EBACKEND` on the kernel. */
  readonly collection: VmCollection;
  /** vm backend only: the vm programs. Throws `EBACKEND` on the kernel; use `loaded.program(name)` on both. */
  readonly programs: Record<P, VmProgram>;
  /** Frees what the backend holds (the kernel's fds). */
  close(): void;
}

function vmOnly(what: string): never {
  throw new TsbpfError('EBACKEND', `skeleton.${what} is the vm's; this skeleton is loaded into the kernel (use skeleton.loaded)`, { backend: 'kernel' });
}

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
  const loaded = load(spec, opts);
  const maps: Record<string, unknown> = {};
  const globals: Record<string, unknown> = {};
  for (const [mapName, ms] of spec.maps) {
    const m = loaded.map(mapName);
    if (ms.data !== null) {
      const sec = btf?.find(ms.section, 'datasec');
      Object.defineProperty(globals, sectionKey(ms.section), {
        enumerable: true,
        get: () => {
          const v = m.lookup(new Uint8Array(4))!;
          return btf && sec ? decodeValue(btf, sec.id, v) : v;
        },
      });
      continue;
    }
    maps[mapName] = new TypedMap(m, btf, {
      name: mapName, keySize: ms.keySize, valueSize: ms.valueSize, keyType: ms.keyTypeId, valueType: ms.valueTypeId, perCpu: m.perCpu,
    });
  }
  const vm = loaded instanceof VmBackendCollection ? loaded.native : null;
  const programs = vm ? (Object.fromEntries(vm.programs) as Record<P, VmProgram>) : null;
  return {
    spec,
    backend: loaded.backend,
    loaded,
    maps: maps as M,
    globals: globals as G,
    get collection(): VmCollection {
      return vm ?? vmOnly('collection');
    },
    get programs(): Record<P, VmProgram> {
      return programs ?? vmOnly('programs');
    },
    close: () => loaded.close(),
    [Symbol.dispose]: () => loaded.close(),
  };
}
