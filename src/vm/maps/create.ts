/**
 * `createMap`: the vm's BPF_MAP_CREATE. It makes the kernel's creation
 * checks (each map type's `map_alloc_check`), with the kernel's errno for
 * each, then builds the map. Limits measured on Linux 6.18; the vm adds one
 * of its own: storage that does not fit its address space is ENOMEM.
 */
import { MapFlag, MapType, mapTypeName } from '../../object/kinds.js';
import type { AddressSpace } from '../address-space.js';
import { ArrayMap } from './array.js';
import { BloomFilterMap } from './bloom-filter.js';
import { HashMap } from './hash.js';
import { LpmTrieMap } from './lpm-trie.js';
import { LruHashMap } from './lru-hash.js';
import { ArrayOfMapsMap, HashOfMapsMap } from './map-in-map.js';
import { type ErrnoName, type MapDesc, MapError, type MapOptions, type VmMap, round8 } from './map.js';
import { registerMap } from './space.js';
import { PerfEventArrayMap } from './perf-event-array.js';
import { ProgArrayMap } from './prog-array.js';
import { QueueStackMap } from './queue-stack.js';
import { RingBufMap } from './ringbuf.js';
import { UserRingBufMap } from './user-ringbuf.js';

const F = MapFlag;
const ACCESS = F.RDONLY | F.WRONLY | F.RDONLY_PROG | F.WRONLY_PROG;
const KNOWN_FLAGS = (1 << 15) - 1;
/** `KMALLOC_MAX_SIZE` on x86-64 (4 MiB). */
const KMALLOC_MAX = 4 * 1024 * 1024;
/** `PCPU_MIN_UNIT_SIZE`: the largest percpu value. */
const PCPU_MAX = 32768;
/** A hash element's header: key, value and header must stay under KMALLOC_MAX (measured). */
const HTAB_ELEM = 48;
const LPM_DATA_MAX = 256;

/** The map types the vm implements. */
export const VM_MAP_TYPES: readonly number[] = [
  MapType.HASH, MapType.ARRAY, MapType.PROG_ARRAY, MapType.PERF_EVENT_ARRAY, MapType.PERCPU_HASH,
  MapType.PERCPU_ARRAY, MapType.LRU_HASH, MapType.LRU_PERCPU_HASH, MapType.LPM_TRIE, MapType.ARRAY_OF_MAPS,
  MapType.HASH_OF_MAPS, MapType.QUEUE, MapType.STACK, MapType.RINGBUF, MapType.BLOOM_FILTER, MapType.USER_RINGBUF,
];

class Check {
  constructor(private readonly desc: MapDesc) {}
  fail(errno: ErrnoName, why: string): never {
    const d = this.desc;
    throw new MapError(errno, `cannot create map ${d.name} (${mapTypeName(d.type)}): ${errno}: ${why}`, {
      map: d.name,
      op: 'create',
      type: mapTypeName(d.type),
    });
  }
  /** Flags outside `allowed` (the type's create-flag mask) are EINVAL. */
  flags(allowed: number): void {
    const extra = this.desc.flags & ~allowed;
    if (extra) this.fail('EINVAL', `flags 0x${extra.toString(16)} are not allowed for this map type`);
  }
  need(ok: boolean, why: string, errno: ErrnoName = 'EINVAL'): void {
    if (!ok) this.fail(errno, why);
  }
}

const u32ok = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;

/**
 * Checks `desc` the way BPF_MAP_CREATE does and throws the MapError the
 * kernel's errno corresponds to. `cpus` is the number of virtual CPUs.
 */
export function checkMapDesc(desc: MapDesc, cpus: number): void {
  const c: Check = new Check(desc);
  const { type, keySize: ks, valueSize: vs, maxEntries: max, flags } = desc;
  c.need(u32ok(ks) && u32ok(vs) && u32ok(max) && u32ok(flags), 'key size, value size, max_entries and flags are u32');
  c.need(Number.isInteger(cpus) && cpus >= 1, `bad CPU count ${cpus}`);
  c.need((flags & ~KNOWN_FLAGS) === 0, `unknown flags 0x${(flags & ~KNOWN_FLAGS).toString(16)}`);
  c.need((flags & (F.RDONLY | F.WRONLY)) !== (F.RDONLY | F.WRONLY), 'BPF_F_RDONLY and BPF_F_WRONLY together');
  c.need((flags & (F.RDONLY_PROG | F.WRONLY_PROG)) !== (F.RDONLY_PROG | F.WRONLY_PROG), 'BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG together');
  const extra = desc.mapExtra ?? 0n;
  if (type !== MapType.BLOOM_FILTER && type !== MapType.ARENA) c.need(extra === 0n, 'map_extra is only for bloom filters and arenas');
  switch (type) {
    case MapType.HASH:
    case MapType.PERCPU_HASH:
    case MapType.LRU_HASH:
    case MapType.LRU_PERCPU_HASH:
    case MapType.HASH_OF_MAPS: {
      const lru = type === MapType.LRU_HASH || type === MapType.LRU_PERCPU_HASH;
      const percpu = type === MapType.PERCPU_HASH || type === MapType.LRU_PERCPU_HASH;
      c.flags(F.NO_PREALLOC | F.NO_COMMON_LRU | F.NUMA_NODE | ACCESS | F.ZERO_SEED);
      c.need(lru || !(flags & F.NO_COMMON_LRU), 'BPF_F_NO_COMMON_LRU is only for LRU maps');
      c.need(!lru || !(flags & F.NO_PREALLOC), 'LRU maps are always preallocated', 'ENOTSUPP');
      c.need(!((flags & F.NUMA_NODE) && (flags & F.NO_COMMON_LRU)), 'BPF_F_NUMA_NODE with BPF_F_NO_COMMON_LRU');
      c.need(!(percpu && flags & F.NUMA_NODE), 'percpu maps take no NUMA node');
      c.need(max > 0 && ks > 0 && vs > 0, 'key size, value size and max_entries must not be 0');
      if (type === MapType.HASH_OF_MAPS) c.need(vs === 4, 'the value of a map-in-map is a u32 map fd');
      c.need(ks + vs + HTAB_ELEM < KMALLOC_MAX, `key and value (${ks} + ${vs} bytes) are too large`, 'E2BIG');
      c.need(!percpu || round8(vs) <= PCPU_MAX, `a percpu value is at most ${PCPU_MAX} bytes`, 'E2BIG');
      break;
    }
    case MapType.ARRAY:
    case MapType.PERCPU_ARRAY:
    case MapType.PROG_ARRAY:
    case MapType.PERF_EVENT_ARRAY:
    case MapType.ARRAY_OF_MAPS:
    case MapType.CGROUP_ARRAY: {
      const percpu = type === MapType.PERCPU_ARRAY;
      const fd = type !== MapType.ARRAY && !percpu;
      if (fd) {
        c.need(vs === 4, 'the value of this map type is a u32 fd');
        c.need(!(flags & (F.MMAPABLE | F.INNER_MAP | F.RDONLY_PROG | F.WRONLY_PROG)), `flags 0x${flags.toString(16)} are not allowed for this map type`);
      }
      c.flags(F.NUMA_NODE | F.MMAPABLE | ACCESS | F.PRESERVE_ELEMS | F.INNER_MAP);
      c.need(!(percpu && flags & (F.MMAPABLE | F.NUMA_NODE | F.INNER_MAP)), `flags 0x${flags.toString(16)} are not allowed for percpu arrays`);
      c.need(type === MapType.PERF_EVENT_ARRAY || !(flags & F.PRESERVE_ELEMS), 'BPF_F_PRESERVE_ELEMS is only for perf event arrays');
      c.need(max > 0 && ks === 4 && vs > 0, 'arrays need a 4-byte key, a value and max_entries > 0');
      c.need(!percpu || round8(vs) <= PCPU_MAX, `a percpu value is at most ${PCPU_MAX} bytes`, 'E2BIG');
      c.need(vs <= 0x7fffffff, 'the value is too large', 'E2BIG');
      break;
    }
    case MapType.LPM_TRIE:
      c.need(max > 0, 'max_entries must not be 0');
      c.need((flags & F.NO_PREALLOC) !== 0, 'LPM tries need BPF_F_NO_PREALLOC');
      c.flags(F.NO_PREALLOC | F.NUMA_NODE | ACCESS);
      c.need(ks >= 5 && ks <= 4 + LPM_DATA_MAX, `an LPM key is a u32 prefix length and 1 to ${LPM_DATA_MAX} bytes`);
      c.need(vs >= 1 && vs <= KMALLOC_MAX - LPM_DATA_MAX - 24, 'bad value size');
      break;
    case MapType.QUEUE:
    case MapType.STACK:
      c.need(max > 0 && ks === 0 && vs > 0, 'queues and stacks have no key, a value and max_entries > 0');
      c.flags(F.NUMA_NODE | ACCESS);
      c.need(vs <= KMALLOC_MAX, 'the value is too large', 'E2BIG');
      break;
    case MapType.BLOOM_FILTER:
      c.need(ks === 0 && vs > 0 && max > 0, 'bloom filters have no key, a value and max_entries > 0');
      c.flags(F.NUMA_NODE | F.ZERO_SEED | ACCESS);
      c.need((extra & ~0xfn) === 0n, 'map_extra holds only the number of hashes (0-15)');
      c.need(vs <= KMALLOC_MAX, 'the value is too large', 'E2BIG');
      break;
    case MapType.RINGBUF:
    case MapType.USER_RINGBUF:
      c.flags(F.NUMA_NODE);
      c.need(ks === 0 && vs === 0, 'ring buffers have no key and no value');
      c.need(max >= 4096 && (max & (max - 1)) === 0 && max % 4096 === 0, 'the size (max_entries) must be a power-of-2 multiple of 4096');
      break;
    default:
      if (type in REVERSE && type !== MapType.UNSPEC) c.fail('ENOTSUPP', 'this map type is not supported by the vm');
      c.fail('EINVAL', `unknown map type ${type}`);
  }
  c.need(VM_MAP_TYPES.includes(type), 'this map type is not supported by the vm', 'ENOTSUPP');
  if (type === MapType.ARRAY_OF_MAPS || type === MapType.HASH_OF_MAPS) {
    const inner = desc.innerMap;
    if (!inner) c.fail('EINVAL', 'a map-in-map needs an inner map template');
    c.need(inner.type !== MapType.ARRAY_OF_MAPS && inner.type !== MapType.HASH_OF_MAPS, 'maps of maps do not nest');
    c.need(inner.type !== MapType.PROG_ARRAY, 'a prog_array cannot be an inner map', 'ENOTSUPP');
    checkMapDesc(inner, cpus);
  }
}

const REVERSE: Record<number, true> = Object.fromEntries(Object.values(MapType).map((v) => [v, true]));

/**
 * Creates a vm map in `space` after the kernel's checks. `desc` is a
 * `MapSpec` or any object with its fields; global data (`data`) is copied
 * into the single value of an array.
 */
export function createMap(space: AddressSpace, desc: MapDesc, opts: MapOptions): VmMap {
  checkMapDesc(desc, opts.cpus);
  const d: MapDesc = { ...desc };
  if ((d.type === MapType.LRU_HASH || d.type === MapType.LRU_PERCPU_HASH) && d.flags & MapFlag.NO_COMMON_LRU) {
    // The kernel gives each CPU an equal share of a per-CPU LRU.
    const up = Math.ceil(d.maxEntries / opts.cpus) * opts.cpus;
    d.maxEntries = up <= 0xffffffff ? up : Math.floor(d.maxEntries / opts.cpus) * opts.cpus;
  }
  const map = build(space, d, opts);
  registerMap(map);
  return map;
}

function build(space: AddressSpace, d: MapDesc, opts: MapOptions): VmMap {
  switch (d.type) {
    case MapType.HASH:
      return new HashMap(space, d, opts, false);
    case MapType.PERCPU_HASH:
      return new HashMap(space, d, opts, true);
    case MapType.LRU_HASH:
      return new LruHashMap(space, d, opts, false);
    case MapType.LRU_PERCPU_HASH:
      return new LruHashMap(space, d, opts, true);
    case MapType.ARRAY:
      return new ArrayMap(space, d, opts, false);
    case MapType.PERCPU_ARRAY:
      return new ArrayMap(space, d, opts, true);
    case MapType.PROG_ARRAY:
      return new ProgArrayMap(space, d, opts);
    case MapType.PERF_EVENT_ARRAY:
      return new PerfEventArrayMap(space, d, opts);
    case MapType.LPM_TRIE:
      return new LpmTrieMap(space, d, opts);
    case MapType.ARRAY_OF_MAPS:
      return new ArrayOfMapsMap(space, d, opts);
    case MapType.HASH_OF_MAPS:
      return new HashOfMapsMap(space, d, opts);
    case MapType.QUEUE:
    case MapType.STACK:
      return new QueueStackMap(space, d, opts);
    case MapType.BLOOM_FILTER:
      return new BloomFilterMap(space, d, opts);
    case MapType.RINGBUF:
      return new RingBufMap(space, d, opts);
    case MapType.USER_RINGBUF:
      return new UserRingBufMap(space, d, opts);
    default:
      throw new MapError('ENOTSUPP', `map ${d.name}: type ${mapTypeName(d.type)} is not supported by the vm`, { map: d.name, op: 'create' });
  }
}
