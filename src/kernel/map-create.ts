/**
 * BPF_MAP_CREATE: the `bpf_attr` for a map definition, the libbpf
 * conventions the kernel expects (name charset, perf_event_array sized to
 * the CPUs, BTF only where the map type accepts it) and inner-map templates.
 */
import { TsbpfError } from '../errors.js';
import { MapFlag, MapType, type MapTypeName } from '../object/kinds.js';
import { BpfCommand } from './constants.js';
import { possibleCpus } from './cpus.js';
import { KernelError } from './errors.js';
import { bpfRaw, closeFd } from './syscall.js';

/** What a map needs to be created; `MapSpec` satisfies it. */
export interface MapDefinition {
  /** Any string; it is sanitised to the kernel's 15 characters of `[A-Za-z0-9_.]`. */
  readonly name?: string;
  readonly type: number | MapTypeName;
  readonly keySize: number;
  readonly valueSize: number;
  /** 0 for a perf_event_array means one slot per possible CPU. */
  readonly maxEntries: number;
  readonly flags?: number;
  readonly mapExtra?: bigint;
  readonly numaNode?: number;
  readonly keyTypeId?: number;
  readonly valueTypeId?: number;
  /** Template of the inner maps (array_of_maps, hash_of_maps). */
  readonly innerMap?: MapDefinition | null;
}

export interface MapCreateOptions {
  /** A loaded BTF object's fd: key and value type ids are passed with it when the map type takes BTF. */
  btfFd?: number;
  /** The inner map template's fd; by default a template is created from `innerMap` and closed after. */
  innerMapFd?: number;
}

/** `sizeof(union bpf_attr)` up to and including `map_extra` (offset 64). */
const MAP_CREATE_ATTR_SIZE = 72;

/** Map types libbpf creates without key/value BTF: the kernel refuses or ignores it for them. */
const NO_BTF = new Set<number>([
  MapType.PERF_EVENT_ARRAY, MapType.CGROUP_ARRAY, MapType.STACK_TRACE, MapType.ARRAY_OF_MAPS,
  MapType.HASH_OF_MAPS, MapType.DEVMAP, MapType.DEVMAP_HASH, MapType.CPUMAP, MapType.XSKMAP,
  MapType.SOCKMAP, MapType.SOCKHASH, MapType.QUEUE, MapType.STACK, MapType.ARENA, MapType.PROG_ARRAY,
  MapType.RINGBUF, MapType.USER_RINGBUF,
]);

const PER_CPU = new Set<number>([
  MapType.PERCPU_HASH, MapType.PERCPU_ARRAY, MapType.LRU_PERCPU_HASH, MapType.PERCPU_CGROUP_STORAGE,
]);

export const isPerCpuMap = (type: number): boolean => PER_CPU.has(type);

export function resolveMapType(type: number | MapTypeName): number {
  if (typeof type === 'number') return type;
  const n = MapType[type];
  if (n === undefined) throw new TsbpfError('EARG', `unknown map type ${String(type)}`, { type });
  return n;
}

/** The kernel's map and program names: 15 characters of `[A-Za-z0-9_.]`, anything else becomes `_`. */
export function sanitizeObjectName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.]/g, '_').slice(0, 15);
}

/** The number of entries the kernel is asked for (perf_event_array 0 → possible CPUs). */
export function effectiveMaxEntries(def: MapDefinition): number {
  const type = resolveMapType(def.type);
  if (type === MapType.PERF_EVENT_ARRAY && def.maxEntries === 0) return possibleCpus();
  return def.maxEntries;
}

function createAttr(def: MapDefinition, type: number, innerFd: number, btf: { fd: number; key: number; value: number } | null): Uint8Array {
  const attr = new Uint8Array(MAP_CREATE_ATTR_SIZE);
  const v = new DataView(attr.buffer);
  const numa = def.numaNode ?? 0;
  let flags = def.flags ?? 0;
  if (numa > 0) flags |= MapFlag.NUMA_NODE;
  v.setUint32(0, type, true);
  v.setUint32(4, def.keySize, true);
  v.setUint32(8, def.valueSize, true);
  v.setUint32(12, effectiveMaxEntries(def), true);
  v.setUint32(16, flags >>> 0, true);
  v.setUint32(20, innerFd, true);
  v.setUint32(24, numa, true);
  attr.set(new TextEncoder().encode(sanitizeObjectName(def.name ?? '')), 28);
  if (btf) {
    v.setUint32(48, btf.fd, true);
    v.setUint32(52, btf.key, true);
    v.setUint32(56, btf.value, true);
  }
  v.setBigUint64(64, BigInt.asUintN(64, def.mapExtra ?? 0n), true);
  return attr;
}

export interface CreatedMap {
  fd: number;
  /** True when the kernel took the key/value BTF. */
  withBtf: boolean;
}

/**
 * Creates the map and returns its fd. BTF type ids go with it when a BTF fd
 * is given, the type takes BTF and an id is known; if the kernel refuses the
 * map with BTF, it is created again without (as libbpf does).
 */
export function createMapFd(def: MapDefinition, opts: MapCreateOptions = {}): CreatedMap {
  const type = resolveMapType(def.type);
  for (const [field, n] of [['keySize', def.keySize], ['valueSize', def.valueSize], ['maxEntries', def.maxEntries]] as const) {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
      throw new TsbpfError('EARG', `map "${def.name ?? ''}": ${field} ${n} is not a u32`, { map: def.name ?? '', field });
    }
  }
  let innerFd = opts.innerMapFd ?? 0;
  let template: number | null = null;
  const isMapInMap = type === MapType.ARRAY_OF_MAPS || type === MapType.HASH_OF_MAPS;
  if (isMapInMap && opts.innerMapFd === undefined) {
    if (!def.innerMap) {
      throw new TsbpfError('EARG', `map "${def.name ?? ''}" holds maps but has no inner map template`, { map: def.name ?? '' });
    }
    template = createMapFd({ ...def.innerMap, name: def.innerMap.name ?? `${def.name ?? ''}.inner` }, { btfFd: opts.btfFd }).fd;
    innerFd = template;
  }
  try {
    const key = def.keyTypeId ?? 0;
    const value = def.valueTypeId ?? 0;
    const btf = opts.btfFd !== undefined && opts.btfFd >= 0 && !NO_BTF.has(type) && (key !== 0 || value !== 0)
      ? { fd: opts.btfFd, key, value }
      : null;
    let ret = bpfRaw(BpfCommand.BPF_MAP_CREATE, createAttr(def, type, innerFd, btf));
    if (ret >= 0) return { fd: ret, withBtf: btf !== null };
    if (btf) {
      ret = bpfRaw(BpfCommand.BPF_MAP_CREATE, createAttr(def, type, innerFd, null));
      if (ret >= 0) return { fd: ret, withBtf: false };
    }
    throw new KernelError('BPF_MAP_CREATE', -ret, '', `map "${def.name ?? ''}"`);
  } finally {
    if (template !== null) closeFd(template);
  }
}
