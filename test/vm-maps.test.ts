import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { MapFlag, MapType } from '../src/object/kinds.js';
import { AddressSpace } from '../src/vm/address-space.js';
import {
  ArrayMap,
  ArrayOfMapsMap,
  BloomFilterMap,
  HashOfMapsMap,
  LpmTrieMap,
  LruHashMap,
  type MapDesc,
  MapError,
  MapTable,
  PerfEventArrayMap,
  ProgArrayMap,
  QueueStackMap,
  RingBufMap,
  UserRingBufMap,
  type VmMap,
  createMap,
  mapAt,
  mapsIn,
} from '../src/vm/maps/index.js';
import type { MapSpec } from '../src/object/spec.js';
import * as K from './support/kernel-map-raw.js';
import { hex, u32 } from './support/bytes.js';
import { needKernel } from './support/kernel.js';

// ------------------------------------------------------------------ helpers

const num = (b: Uint8Array | null): number | null => (b ? new DataView(b.buffer, b.byteOffset).getUint32(0, true) : null);

function desc(d: Partial<MapDesc> & { type: number }): MapDesc {
  return { name: 'm', keySize: 4, valueSize: 4, maxEntries: 4, flags: 0, ...d };
}
function mk<T extends VmMap = VmMap>(d: Partial<MapDesc> & { type: number }, cpus = 2, space = new AddressSpace()): T {
  return createMap(space, desc(d), { cpus }) as T;
}
/** 0 or the negative errno of a user-side call. */
function errOf(fn: () => unknown): number {
  try {
    fn();
    return 0;
  } catch (e) {
    if (e instanceof MapError) return -e.errno;
    throw e;
  }
}
function throwsErrno(fn: () => unknown, name: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MapError, `expected a MapError, got ${String(e)}`);
    assert.equal(e.code, 'EMAP');
    assert.equal(e.errnoName, name, e.message);
    assert.equal(e.where['errno'], name);
    return true;
  });
}
/** A scratch region to hold program-side arguments. */
function scratch(space: AddressSpace, size = 4096): { put(b: Uint8Array, off?: number): number; at(off: number): number } {
  const r = space.map('scratch', 'mem', size);
  return {
    put(b, off = 0) {
      space.u8.set(b, r.start + off);
      return r.start + off;
    },
    at: (off) => r.start + off,
  };
}
const read = (m: VmMap, addr: number, n: number): Uint8Array => m.space.u8.slice(addr, addr + n);

function possibleCpus(): number {
  try {
    const s = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
    let n = 0;
    for (const part of s.split(',')) {
      const [a, b] = part.split('-').map(Number);
      n += b === undefined ? 1 : b - a! + 1;
    }
    return n;
  } catch {
    return 1;
  }
}

// ------------------------------------------------------------------ creation

/** Map descriptions with the errno BPF_MAP_CREATE gives (0: created), checked against the kernel too. */
const CREATE_CASES: Array<[string, Partial<MapDesc> & { type: number }, number]> = [
  ['hash', { type: MapType.HASH }, 0],
  ['hash key 0', { type: MapType.HASH, keySize: 0 }, -22],
  ['hash value 0', { type: MapType.HASH, valueSize: 0 }, -22],
  ['hash max 0', { type: MapType.HASH, maxEntries: 0 }, -22],
  ['hash key 600', { type: MapType.HASH, keySize: 600 }, 0],
  ['hash key+value too big', { type: MapType.HASH, keySize: 4, valueSize: 4194252, maxEntries: 1 }, -7],
  ['hash MMAPABLE', { type: MapType.HASH, flags: MapFlag.MMAPABLE }, -22],
  ['hash NO_COMMON_LRU', { type: MapType.HASH, flags: MapFlag.NO_COMMON_LRU }, -22],
  ['hash NO_PREALLOC', { type: MapType.HASH, flags: MapFlag.NO_PREALLOC }, 0],
  ['hash RDONLY|WRONLY', { type: MapType.HASH, flags: MapFlag.RDONLY | MapFlag.WRONLY }, -22],
  ['hash RDONLY_PROG|WRONLY_PROG', { type: MapType.HASH, flags: MapFlag.RDONLY_PROG | MapFlag.WRONLY_PROG }, -22],
  ['hash unknown flag', { type: MapType.HASH, flags: 1 << 20 }, -22],
  ['hash map_extra', { type: MapType.HASH, mapExtra: 1n }, -22],
  ['percpu hash value 32768', { type: MapType.PERCPU_HASH, valueSize: 32768, maxEntries: 1 }, 0],
  ['percpu hash value 32769', { type: MapType.PERCPU_HASH, valueSize: 32769, maxEntries: 1 }, -7],
  ['percpu hash NUMA', { type: MapType.PERCPU_HASH, flags: MapFlag.NUMA_NODE }, -22],
  ['lru NO_PREALLOC', { type: MapType.LRU_HASH, flags: MapFlag.NO_PREALLOC }, -524],
  ['lru NO_COMMON_LRU', { type: MapType.LRU_HASH, flags: MapFlag.NO_COMMON_LRU, maxEntries: 3 }, 0],
  ['lru NO_COMMON_LRU|NUMA', { type: MapType.LRU_HASH, flags: MapFlag.NO_COMMON_LRU | MapFlag.NUMA_NODE }, -22],
  ['array', { type: MapType.ARRAY }, 0],
  ['array key 8', { type: MapType.ARRAY, keySize: 8 }, -22],
  ['array value 0', { type: MapType.ARRAY, valueSize: 0 }, -22],
  ['array max 0', { type: MapType.ARRAY, maxEntries: 0 }, -22],
  ['array NO_PREALLOC', { type: MapType.ARRAY, flags: MapFlag.NO_PREALLOC }, -22],
  ['array MMAPABLE', { type: MapType.ARRAY, flags: MapFlag.MMAPABLE }, 0],
  ['array INNER_MAP', { type: MapType.ARRAY, flags: MapFlag.INNER_MAP }, 0],
  ['array PRESERVE_ELEMS', { type: MapType.ARRAY, flags: MapFlag.PRESERVE_ELEMS }, -22],
  ['array RDONLY_PROG', { type: MapType.ARRAY, flags: MapFlag.RDONLY_PROG }, 0],
  ['percpu array MMAPABLE', { type: MapType.PERCPU_ARRAY, flags: MapFlag.MMAPABLE }, -22],
  ['percpu array INNER_MAP', { type: MapType.PERCPU_ARRAY, flags: MapFlag.INNER_MAP }, -22],
  ['percpu array value 32769', { type: MapType.PERCPU_ARRAY, valueSize: 32769 }, -7],
  ['prog array value 8', { type: MapType.PROG_ARRAY, valueSize: 8 }, -22],
  ['prog array RDONLY_PROG', { type: MapType.PROG_ARRAY, flags: MapFlag.RDONLY_PROG }, -22],
  ['prog array INNER_MAP', { type: MapType.PROG_ARRAY, flags: MapFlag.INNER_MAP }, -22],
  ['perf event array PRESERVE_ELEMS', { type: MapType.PERF_EVENT_ARRAY, flags: MapFlag.PRESERVE_ELEMS }, 0],
  ['perf event array max 0', { type: MapType.PERF_EVENT_ARRAY, maxEntries: 0 }, -22],
  ['lpm without NO_PREALLOC', { type: MapType.LPM_TRIE, keySize: 8 }, -22],
  ['lpm key 4', { type: MapType.LPM_TRIE, keySize: 4, flags: MapFlag.NO_PREALLOC }, -22],
  ['lpm key 5', { type: MapType.LPM_TRIE, keySize: 5, flags: MapFlag.NO_PREALLOC }, 0],
  ['lpm key 260', { type: MapType.LPM_TRIE, keySize: 260, flags: MapFlag.NO_PREALLOC }, 0],
  ['lpm key 261', { type: MapType.LPM_TRIE, keySize: 261, flags: MapFlag.NO_PREALLOC }, -22],
  ['lpm value 0', { type: MapType.LPM_TRIE, keySize: 8, valueSize: 0, flags: MapFlag.NO_PREALLOC }, -22],
  ['lpm ZERO_SEED', { type: MapType.LPM_TRIE, keySize: 8, flags: MapFlag.NO_PREALLOC | MapFlag.ZERO_SEED }, -22],
  ['queue', { type: MapType.QUEUE, keySize: 0 }, 0],
  ['queue key 4', { type: MapType.QUEUE }, -22],
  ['stack value 0', { type: MapType.STACK, keySize: 0, valueSize: 0 }, -22],
  ['stack NO_PREALLOC', { type: MapType.STACK, keySize: 0, flags: MapFlag.NO_PREALLOC }, -22],
  ['queue value 4 MiB + 1', { type: MapType.QUEUE, keySize: 0, valueSize: 4194305, maxEntries: 1 }, -7],
  ['ringbuf 4096', { type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 }, 0],
  ['ringbuf 12288', { type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 12288 }, -22],
  ['ringbuf 2048', { type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 2048 }, -22],
  ['ringbuf key 4', { type: MapType.RINGBUF, keySize: 4, valueSize: 0, maxEntries: 4096 }, -22],
  ['user ringbuf', { type: MapType.USER_RINGBUF, keySize: 0, valueSize: 0, maxEntries: 8192 }, 0],
  ['user ringbuf 12288', { type: MapType.USER_RINGBUF, keySize: 0, valueSize: 0, maxEntries: 12288 }, -22],
  ['ringbuf RDONLY', { type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096, flags: MapFlag.RDONLY }, -22],
  ['bloom', { type: MapType.BLOOM_FILTER, keySize: 0, mapExtra: 3n }, 0],
  ['bloom key 4', { type: MapType.BLOOM_FILTER }, -22],
  ['bloom 16 hashes', { type: MapType.BLOOM_FILTER, keySize: 0, mapExtra: 16n }, -22],
  ['bloom NO_PREALLOC', { type: MapType.BLOOM_FILTER, keySize: 0, flags: MapFlag.NO_PREALLOC }, -22],
  ['unknown type', { type: 99 }, -22],
  ['type 0', { type: 0 }, -22],
];

test('creation checks: the kernel\'s errno for bad sizes and flags', () => {
  for (const [name, d, want] of CREATE_CASES) {
    const got = errOf(() => mk(d));
    assert.equal(got, want, name);
  }
  // Map-in-map templates.
  const inner = desc({ type: MapType.ARRAY });
  assert.equal(errOf(() => mk({ type: MapType.ARRAY_OF_MAPS, innerMap: inner })), 0);
  assert.equal(errOf(() => mk({ type: MapType.ARRAY_OF_MAPS })), -22, 'no template');
  assert.equal(errOf(() => mk({ type: MapType.ARRAY_OF_MAPS, valueSize: 8, innerMap: inner })), -22);
  assert.equal(errOf(() => mk({ type: MapType.HASH_OF_MAPS, innerMap: desc({ type: MapType.ARRAY_OF_MAPS, innerMap: inner }) })), -22, 'nesting');
  assert.equal(errOf(() => mk({ type: MapType.HASH_OF_MAPS, innerMap: desc({ type: MapType.PROG_ARRAY }) })), -524);
  // Types the vm does not model are ENOTSUPP, with a typed error.
  throwsErrno(() => mk({ type: MapType.DEVMAP }), 'ENOTSUPP');
  // Storage that cannot fit the address space is ENOMEM (the kernel would allocate lazily).
  throwsErrno(() => mk({ type: MapType.ARRAY, valueSize: 8, maxEntries: 0x7fffffff }), 'ENOMEM');
  // Slot maps, queues and non-preallocated hashes take no storage up front.
  for (const type of [MapType.PROG_ARRAY, MapType.PERF_EVENT_ARRAY]) assert.equal(errOf(() => mk({ type, maxEntries: 2 ** 31 })), 0);
  assert.equal(errOf(() => mk({ type: MapType.QUEUE, keySize: 0, maxEntries: 2 ** 31 })), 0);
  assert.equal(errOf(() => mk({ type: MapType.HASH, maxEntries: 2 ** 31, flags: MapFlag.NO_PREALLOC })), 0);
  // A failed create leaves no map behind.
  const space = new AddressSpace();
  assert.equal(errOf(() => createMap(space, desc({ type: MapType.ARRAY, valueSize: 8, maxEntries: 0x7fffffff }), { cpus: 1 })), -12);
  assert.deepEqual(mapsIn(space), []);
  // A MapSpec is a MapDesc.
  const fromSpec = (s: MapSpec): MapDesc => s;
  void fromSpec;
  // A per-CPU LRU has an equal share per CPU.
  assert.equal(mk({ type: MapType.LRU_HASH, flags: MapFlag.NO_COMMON_LRU, maxEntries: 3 }, 2).maxEntries, 4);
});

test('creation checks agree with BPF_MAP_CREATE', (t) => {
  if (!needKernel(t)) return;
  for (const [name, d, want] of CREATE_CASES) {
    const full = desc(d);
    const fd = K.rawMapCreate({ ...full, mapExtra: full.mapExtra ?? 0n });
    if (fd >= 0) K.rawClose(fd);
    assert.equal(fd >= 0 ? 0 : fd, want, `kernel: ${name}`);
  }
});

// ------------------------------------------------------------------ handles and the table

test('handles are reserved addresses no region covers; the table resolves them', () => {
  const space = new AddressSpace();
  const table = new MapTable(space, { cpus: 2 });
  const a = table.create(desc({ name: 'a', type: MapType.HASH }));
  const b = table.create(desc({ name: 'b', type: MapType.ARRAY }));
  assert.notEqual(a.handle, b.handle);
  assert.notEqual(a.id, b.id);
  for (const m of [a, b]) {
    assert.equal(space.find(m.handle, 1, false), null, 'a map pointer is not dereferenceable');
    assert.equal(table.byHandle(m.handle), m);
    assert.equal(table.byHandle(BigInt(m.handle)), m);
    assert.equal(mapAt(space, m.handle), m);
    assert.equal(table.byId(m.id), m);
  }
  assert.equal(table.get('a'), a);
  assert.deepEqual(table.names(), ['a', 'b']);
  assert.equal(table.byHandle(a.handle + 1), undefined);
  throwsErrno(() => table.create(desc({ name: 'a', type: MapType.HASH })), 'EEXIST');
  assert.equal(mapAt(new AddressSpace(), a.handle), null, 'handles belong to their space');
});

// ------------------------------------------------------------------ hash

test('hash: flags, errors, full map, iteration', () => {
  const m = mk({ type: MapType.HASH, maxEntries: 2 });
  assert.equal(m.lookupValue(u32(1)), null);
  throwsErrno(() => m.updateValue(u32(1), u32(10), 2), 'ENOENT');
  m.updateValue(u32(1), u32(10));
  throwsErrno(() => m.updateValue(u32(1), u32(11), 1), 'EEXIST');
  m.updateValue(u32(1), u32(12), 2);
  m.updateValue(u32(2), u32(20), 1);
  throwsErrno(() => m.updateValue(u32(3), u32(30)), 'E2BIG');
  throwsErrno(() => m.updateValue(u32(3), u32(30), 2), 'ENOENT');
  m.updateValue(u32(1), u32(13)); // replacing in a full map works
  for (const f of [3, 4, 8, 2 ** 32]) throwsErrno(() => m.updateValue(u32(1), u32(1), f), 'EINVAL');
  assert.equal(m.update(u32(1), u32(1), 1n << 40n), -22, 'programs get -EINVAL for unknown flags');
  assert.equal(num(m.lookupValue(u32(1))), 13);
  assert.deepEqual(m.keys().map(num), [1, 2]);
  assert.equal(num(m.nextKey(null)), 1);
  assert.equal(num(m.nextKey(u32(1))), 2);
  assert.equal(m.nextKey(u32(2)), null);
  assert.equal(num(m.nextKey(u32(77))), 1, 'a missing key restarts at the first');
  throwsErrno(() => m.deleteKey(u32(5)), 'ENOENT');
  assert.equal(num(m.lookupAndDelete(u32(1))), 13);
  assert.deepEqual(m.entries().map(([k, v]) => [num(k), num(v)]), [[2, 20]]);
  throwsErrno(() => m.lookupValue(new Uint8Array(3)), 'EINVAL');
  throwsErrno(() => m.updateValue(u32(9), new Uint8Array(5)), 'EINVAL');
  m.deleteKey(u32(2));
  assert.equal(m.nextKey(null), null);
});

test('hash: programs get real pointers; replaced and deleted values stay mapped', () => {
  const space = new AddressSpace();
  const m = mk({ type: MapType.HASH, valueSize: 12, maxEntries: 3 }, 2, space);
  const s = scratch(space);
  const k = s.put(u32(7), 0);
  const v = s.put(Uint8Array.from({ length: 12 }, (_, i) => i), 16);
  assert.equal(m.lookup(k), 0);
  assert.equal(m.update(k, v, 0), 0);
  const p = m.lookup(k);
  assert.ok(p > 0);
  const r = space.find(p, 12, true);
  assert.ok(r && r.kind === 'map', 'the value is in a writable map region');
  assert.equal(r.end - r.start, 4 * 16, 'max_entries + 1 slots of round_up(12, 8) bytes');
  space.u8[p] = 99; // a program's store through the pointer
  assert.equal(m.lookupValue(u32(7))![0], 99);
  assert.equal(m.update(u32(7), new Uint8Array(12).fill(5), 0), 0);
  const p2 = m.lookup(u32(7));
  assert.notEqual(p2, p, 'a replaced value lives in a new element');
  assert.equal(space.u8[p], 99, 'the old element still holds the old value');
  assert.equal(m.delete(k), 0);
  assert.equal(m.delete(k), -2);
  assert.ok(space.find(p2, 12, false), 'a deleted element stays mapped');
  // a key address outside every region is a typed EFAULT
  throwsErrno(() => m.lookup(m.handle), 'EFAULT');
  throwsErrno(() => m.lookup(0n), 'EFAULT');
});

test('hash with BPF_F_NO_PREALLOC grows its storage on demand', () => {
  const space = new AddressSpace();
  const before = space.all().length;
  const m = mk({ type: MapType.HASH, maxEntries: 1000, flags: MapFlag.NO_PREALLOC }, 1, space);
  assert.equal(space.all().length, before, 'nothing mapped before the first element');
  const ptrs = new Set<number>();
  for (let i = 0; i < 1000; i++) {
    m.updateValue(u32(i), u32(i * 3));
    ptrs.add(m.lookup(u32(i)));
  }
  assert.equal(ptrs.size, 1000);
  throwsErrno(() => m.updateValue(u32(1000), u32(0)), 'E2BIG');
  for (let i = 0; i < 1000; i += 7) assert.equal(num(m.lookupValue(u32(i))), i * 3);
  assert.ok(space.all().length - before < 12, 'chunks double');
});

test('percpu hash and array: one value per CPU', () => {
  for (const type of [MapType.PERCPU_HASH, MapType.PERCPU_ARRAY, MapType.LRU_PERCPU_HASH]) {
    const m = mk({ type, valueSize: 4, maxEntries: 4 }, 3);
    assert.equal(m.percpu, true);
    // a program on CPU 1 inserts: the other CPUs' values are zero
    assert.equal(m.update(u32(2), u32(0xaa), 0, 1), 0);
    assert.deepEqual(m.lookupPerCpu(u32(2))!.map(num), [0, 0xaa, 0]);
    const a0 = m.lookup(u32(2), 0);
    const a1 = m.lookup(u32(2), 1);
    assert.equal(a1 - a0, 8, 'values are 8-byte aligned per CPU');
    assert.equal(num(read(m, a1, 4)), 0xaa);
    assert.equal(m.lookupOnCpu(u32(2), 2), a0 + 16);
    assert.equal(m.lookupOnCpu(u32(2), 3), 0, 'no CPU 3');
    // an update from CPU 2 touches only CPU 2
    assert.equal(m.update(u32(2), u32(0xbb), 0, 2), 0);
    assert.deepEqual(m.lookupPerCpu(u32(2))!.map(num), [0, 0xaa, 0xbb]);
    // user space writes every CPU, as one padded buffer or one value per CPU
    m.updateValue(u32(1), [u32(1), u32(2), u32(3)]);
    const all = m.lookupValue(u32(1))!;
    assert.equal(all.length, 24);
    assert.deepEqual([0, 8, 16].map((o) => num(all.subarray(o))), [1, 2, 3]);
    m.updateValue(u32(1), all.map((b) => (b === 2 ? 7 : b)));
    assert.deepEqual(m.lookupPerCpu(u32(1))!.map(num), [1, 7, 3]);
    assert.deepEqual(m.values(u32(1))!.map(num), [1, 7, 3]);
    assert.deepEqual(m.values(u32(0))?.map(num) ?? null, type === MapType.PERCPU_ARRAY ? [0, 0, 0] : null);
    throwsErrno(() => m.updateValue(u32(1), u32(1)), 'EINVAL');
    throwsErrno(() => m.updateValue(u32(1), [u32(1)]), 'EINVAL');
    assert.throws(() => m.lookup(u32(1), 3), MapError, 'CPU out of range');
  }
});

// ------------------------------------------------------------------ array

test('array: elements always exist', () => {
  const space = new AddressSpace();
  const m = mk<ArrayMap>({ type: MapType.ARRAY, valueSize: 6, maxEntries: 3 }, 2, space);
  assert.deepEqual(m.lookupValue(u32(2)), new Uint8Array(6));
  assert.equal(m.lookupValue(u32(3)), null);
  throwsErrno(() => m.updateValue(u32(3), new Uint8Array(6)), 'E2BIG');
  throwsErrno(() => m.updateValue(u32(0), new Uint8Array(6), 1), 'EEXIST');
  throwsErrno(() => m.updateValue(u32(9), new Uint8Array(6), 3), 'EINVAL');
  throwsErrno(() => m.updateValue(u32(9), new Uint8Array(6), 4), 'EINVAL');
  // a program's BPF_F_LOCK is checked after the index and BPF_NOEXIST, as in array_map_update_elem
  assert.equal(m.update(u32(9), new Uint8Array(6), 4), -7);
  assert.equal(m.update(u32(0), new Uint8Array(6), 5), -17);
  assert.equal(m.update(u32(0), new Uint8Array(6), 4), -22);
  m.updateValue(u32(0), Uint8Array.of(1, 2, 3, 4, 5, 6), 2);
  throwsErrno(() => m.deleteKey(u32(0)), 'EINVAL');
  assert.equal(m.delete(u32(0)), -22);
  throwsErrno(() => m.lookupAndDelete(u32(0)), 'ENOTSUPP');
  assert.deepEqual(m.keys().map(num), [0, 1, 2]);
  assert.equal(num(m.nextKey(u32(9))), 0);
  assert.equal(m.nextKey(u32(2)), null);
  assert.equal(m.lookup(u32(1)) - m.lookup(u32(0)), 8);
  assert.equal(m.lookup(u32(3)), 0);
  assert.equal(m.elements().length, 3);
  throwsErrno(() => m.directValueAddress(0), 'ENOTSUPP');
});

test('array: global data, direct value addresses, read-only for programs, freeze', () => {
  const space = new AddressSpace();
  const ro = mk<ArrayMap>({ type: MapType.ARRAY, valueSize: 5, maxEntries: 1, flags: MapFlag.RDONLY_PROG, data: Uint8Array.of(1, 2, 3, 4, 5) }, 1, space);
  assert.deepEqual(ro.lookupValue(u32(0)), Uint8Array.of(1, 2, 3, 4, 5));
  const p = ro.directValueAddress(3);
  assert.equal(space.u8[p], 4);
  assert.ok(space.find(p, 1, false));
  assert.equal(space.find(p, 1, true), null, 'programs cannot write .rodata');
  assert.equal(ro.update(u32(0), new Uint8Array(5), 0), -13);
  throwsErrno(() => ro.directValueAddress(5), 'EINVAL');
  ro.updateValue(u32(0), new Uint8Array(5)); // user space may, until frozen
  ro.freeze();
  throwsErrno(() => ro.updateValue(u32(0), new Uint8Array(5)), 'EPERM');
  throwsErrno(() => ro.freeze(), 'EPERM'); // as Linux 6.18: a frozen map has lost write permission
  const wo = mk({ type: MapType.ARRAY, flags: MapFlag.WRONLY }, 1, space);
  throwsErrno(() => wo.lookupValue(u32(0)), 'EPERM');
  const rdonly = mk({ type: MapType.HASH, flags: MapFlag.RDONLY }, 1, space);
  throwsErrno(() => rdonly.updateValue(u32(0), u32(0)), 'EPERM');
  assert.equal(rdonly.update(u32(0), u32(0), 0), 0, 'BPF_F_RDONLY limits only user space');
});

// ------------------------------------------------------------------ LRU

test('lru hash: evicts the least recently used; program lookups count, user lookups do not', () => {
  const m = mk<LruHashMap>({ type: MapType.LRU_HASH, maxEntries: 3 });
  for (const k of [1, 2, 3]) m.updateValue(u32(k), u32(k * 10));
  assert.ok(m.lookup(u32(1)) > 0); // 1 is now the most recent
  assert.ok(m.lookupValue(u32(2))); // no effect on recency
  m.updateValue(u32(4), u32(40));
  assert.deepEqual(m.keys().map(num).sort(), [1, 3, 4], '2 was evicted');
  m.updateValue(u32(3), u32(33)); // an update is a use
  m.updateValue(u32(5), u32(50));
  assert.deepEqual(m.keys().map(num).sort(), [3, 4, 5].sort(), '1 was evicted');
  assert.deepEqual(m.recency().map(num), [4, 3, 5]);
  throwsErrno(() => m.updateValue(u32(3), u32(0), 1), 'EEXIST');
  throwsErrno(() => m.updateValue(u32(9), u32(0), 2), 'ENOENT');
  m.deleteKey(u32(4));
  m.updateValue(u32(6), u32(60));
  assert.deepEqual(m.keys().map(num).sort(), [3, 5, 6], 'room after a delete: no eviction');
  const p = mk<LruHashMap>({ type: MapType.LRU_PERCPU_HASH, maxEntries: 2 }, 2);
  for (const k of [1, 2, 3]) assert.equal(p.update(u32(k), u32(k), 0, 1), 0);
  assert.deepEqual(p.keys().map(num), [2, 3]);
  assert.deepEqual(p.lookupPerCpu(u32(3))!.map(num), [0, 3]);
});

// ------------------------------------------------------------------ LPM trie

function lpmKey(prefixlen: number, ...bytes: number[]): Uint8Array {
  const k = new Uint8Array(8);
  new DataView(k.buffer).setUint32(0, prefixlen, true);
  k.set(bytes, 4);
  return k;
}
const fmt = (k: Uint8Array): string => `${[...k.subarray(4)].join('.')}/${num(k)}`;

test('lpm trie: longest-prefix match, /0 and /32, exact update and delete, post-order iteration', () => {
  const m = mk<LpmTrieMap>({ type: MapType.LPM_TRIE, keySize: 8, maxEntries: 6, flags: MapFlag.NO_PREALLOC });
  assert.equal(m.maxPrefixlen, 32);
  m.updateValue(lpmKey(16, 192, 168), u32(16));
  m.updateValue(lpmKey(24, 192, 168, 0), u32(24));
  m.updateValue(lpmKey(24, 192, 168, 1), u32(241));
  m.updateValue(lpmKey(32, 192, 168, 1, 7), u32(32));
  const look = (...b: number[]): number | null => num(m.lookupValue(lpmKey(32, ...b)));
  assert.equal(look(10, 0, 0, 1), null, 'nothing matches yet');
  assert.equal(look(192, 168, 0, 9), 24);
  assert.equal(look(192, 168, 1, 7), 32);
  assert.equal(look(192, 168, 1, 8), 241);
  assert.equal(look(192, 168, 200, 1), 16);
  assert.equal(num(m.lookupValue(lpmKey(20, 192, 168, 1, 7))), 16, 'a lookup matches prefixes no longer than its own');
  m.updateValue(lpmKey(0), u32(0));
  assert.equal(look(10, 0, 0, 1), 0, '/0 matches everything');
  assert.deepEqual(m.keys().map(fmt), ['192.168.0.0/24', '192.168.1.7/32', '192.168.1.0/24', '192.168.0.0/16', '0.0.0.0/0']);
  assert.equal(fmt(m.nextKey(lpmKey(24, 192, 168, 0))!), '192.168.1.7/32');
  assert.equal(fmt(m.nextKey(lpmKey(12, 1))!), '192.168.0.0/24', 'a missing key restarts');
  assert.equal(m.nextKey(lpmKey(0)), null);
  // update ignores data bits past the prefix but stores the bytes given
  throwsErrno(() => m.updateValue(lpmKey(16, 192, 168, 9, 9), u32(1), 1), 'EEXIST');
  m.updateValue(lpmKey(16, 192, 168, 9, 9), u32(161), 2);
  assert.ok(m.keys().map(fmt).includes('192.168.9.9/16'));
  assert.equal(look(192, 168, 77, 1), 161);
  m.updateValue(lpmKey(8, 10), u32(8));
  throwsErrno(() => m.updateValue(lpmKey(8, 11), u32(8)), 'ENOSPC');
  throwsErrno(() => m.updateValue(lpmKey(8, 11), u32(8), 2), 'ENOENT');
  m.updateValue(lpmKey(8, 10), u32(88)); // replacing in a full trie works
  throwsErrno(() => m.updateValue(lpmKey(33, 1), u32(8)), 'EINVAL');
  throwsErrno(() => m.deleteKey(lpmKey(33, 1)), 'EINVAL');
  throwsErrno(() => m.deleteKey(lpmKey(20, 192, 168)), 'ENOENT');
  m.deleteKey(lpmKey(16, 192, 168, 1, 1)); // the /16, whatever its low bits
  assert.equal(look(192, 168, 200, 1), 0, 'falls back to /0');
  m.deleteKey(lpmKey(0));
  assert.equal(look(192, 168, 200, 1), null);
  assert.equal(m.size, 4);
  // programs: pointers to values, and an update from a program
  const space = m.space;
  assert.equal(num(read(m, m.lookup(lpmKey(32, 192, 168, 1, 7)), 4)), 32);
  m.updateValue(lpmKey(8, 20), u32(1));
  m.updateValue(lpmKey(8, 30), u32(1));
  assert.equal(m.update(lpmKey(32, 1, 2, 3, 4), u32(5), 0), -28);
  assert.equal(m.delete(lpmKey(8, 10)), 0);
  assert.equal(m.update(lpmKey(32, 1, 2, 3, 4), u32(5), 0), 0);
  assert.equal(space.u8[m.lookup(lpmKey(32, 1, 2, 3, 4))], 5);
  throwsErrno(() => m.lookupAndDelete(lpmKey(32, 1, 2, 3, 4)), 'ENOTSUPP');
});

// ------------------------------------------------------------------ ring buffer

test('ringbuf: reserve, submit, discard, consume in order', () => {
  const space = new AddressSpace();
  const rb = mk<RingBufMap>({ type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 }, 1, space);
  const a = rb.reserve(5);
  const b = rb.reserve(16);
  const c = rb.reserve(3);
  assert.ok(a && b && c);
  assert.equal(b - a, 16, 'records are 8-byte aligned with an 8-byte header');
  assert.equal(space.find(a, 5, true)?.kind, 'ringbuf');
  assert.equal(space.view.getUint32(a - 8, true) >>> 0, (5 | 0x80000000) >>> 0, 'busy bit while reserved');
  space.u8.set([1, 2, 3, 4, 5], a);
  space.u8.set(new Uint8Array(16).fill(7), b);
  space.u8.set([9, 9, 9], c);
  assert.equal(rb.submit(b), 0);
  assert.deepEqual(rb.consume(), [], 'the first record is still busy');
  assert.equal(rb.discard(a), 0);
  assert.equal(space.view.getUint32(a - 8, true), 5 | 0x40000000, 'discard bit');
  assert.deepEqual(rb.consume().map(hex), [hex(new Uint8Array(16).fill(7))]);
  assert.equal(rb.query(2), 40, 'consumer position');
  assert.equal(rb.query(0), 16, 'the busy record is still unread');
  assert.equal(rb.submit(c, 1), 0);
  assert.deepEqual(rb.drain().map(hex), ['090909']);
  assert.equal(rb.query(1), 4096);
  assert.equal(rb.query(3), 56);
  assert.equal(rb.query(2), 56);
  assert.equal(rb.query(9), 0);
  assert.equal(rb.submit(c), -22, 'committing twice');
  assert.equal(rb.reserve(8, 1), 0, 'reserve takes no flags');
  assert.equal(rb.output(Uint8Array.of(1), 4), -22);
  assert.equal(rb.output(Uint8Array.of(1, 2), 2), 0);
  assert.deepEqual(rb.consume().map(hex), ['0102']);
  throwsErrno(() => rb.lookupValue(new Uint8Array(0)), 'ENOTSUPP');
});

test('ringbuf: full buffer, wraparound with contiguous pointers', () => {
  const space = new AddressSpace();
  const rb = mk<RingBufMap>({ type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 }, 1, space);
  // At most size - 1 bytes outstanding: 4088 of records.
  assert.equal(rb.reserve(4096 - 8), 0, 'a record the size of the ring never fits');
  const big = rb.reserve(4080); // 4088 bytes
  assert.ok(big);
  assert.equal(rb.reserve(0), 0, 'full');
  assert.equal(rb.output(Uint8Array.of(1)), -11);
  rb.submit(big);
  assert.equal(rb.consume()[0]!.length, 4080);
  // Now positions are at 4088: a 100-byte record crosses the end.
  let seq = 0;
  for (let round = 0; round < 50; round++) {
    const n = 1 + ((round * 37) % 300);
    const p = rb.reserve(n);
    assert.ok(p, `round ${round}`);
    const payload = Uint8Array.from({ length: n }, () => seq++ & 0xff);
    assert.ok(space.find(p, n, true), 'the whole record is writable at once');
    space.u8.set(payload, p);
    if (round % 5 === 3) rb.discard(p);
    else rb.submit(p);
    const got = rb.consume();
    assert.deepEqual(got.map(hex), round % 5 === 3 ? [] : [hex(payload)]);
  }
  assert.ok(rb.query(3) > 4096 * 2, 'positions grew past the end several times');
  // many records queued, then drained in order
  const sent: string[] = [];
  for (let i = 0; ; i++) {
    const d = Uint8Array.from({ length: 1 + (i % 40) }, (_, j) => i + j);
    if (rb.output(d) !== 0) break;
    sent.push(hex(d));
  }
  assert.ok(sent.length > 50);
  assert.deepEqual(rb.drain().map(hex), sent);
  assert.equal(rb.query(0), 0);
});

test('user ringbuf: user space writes, programs drain in order', () => {
  const space = new AddressSpace();
  const u = mk<UserRingBufMap>({ type: MapType.USER_RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 }, 1, space);
  const got: string[] = [];
  const take = (addr: number, size: number): number => {
    assert.ok(space.find(addr, size, false), 'the sample is readable in one piece');
    assert.equal(space.find(addr, 1, true), null, 'and read-only for programs');
    got.push(hex(space.u8.slice(addr, addr + size)));
    return 0;
  };
  assert.equal(u.drain(take), 0);
  u.write(Uint8Array.of(1, 2, 3));
  u.write(Uint8Array.of(4), true); // discarded
  u.write(Uint8Array.of(5, 6));
  assert.equal(u.drain(take, 4), -22);
  assert.equal(u.drain(take), 2);
  assert.deepEqual(got, ['010203', '0506']);
  // a callback returning 1 stops the drain after that sample
  u.write(Uint8Array.of(7));
  u.write(Uint8Array.of(8));
  got.length = 0;
  assert.equal(u.drain((a, n) => (take(a, n), 1)), 1);
  assert.equal(u.drain(take), 1);
  assert.deepEqual(got, ['07', '08']);
  throwsErrno(() => u.write(new Uint8Array(4096)), 'E2BIG');
  // wrap around the end many times; full ring is ENOSPC
  for (let round = 0; round < 40; round++) {
    const d = Uint8Array.from({ length: 100 + round * 13 }, (_, i) => (i + round) & 0xff);
    u.write(d);
    got.length = 0;
    assert.equal(u.drain(take), 1);
    assert.deepEqual(got, [hex(d)]);
  }
  let n = 0;
  while (errOf(() => u.write(new Uint8Array(500))) === 0) n++;
  throwsErrno(() => u.write(new Uint8Array(500)), 'ENOSPC');
  assert.equal(n, 8);
  assert.equal(u.drain(() => 0), 8);
});

test('elements(): what bpf_for_each_map_elem visits', () => {
  const h = mk({ type: MapType.PERCPU_HASH, maxEntries: 4 }, 2);
  h.updateValue(u32(3), [u32(30), u32(31)]);
  h.updateValue(u32(1), [u32(10), u32(11)]);
  assert.deepEqual(h.elements(1).map(([k, a]) => [num(k), num(read(h, a, 4))]), [[3, 31], [1, 11]]);
  const a = mk({ type: MapType.ARRAY, maxEntries: 2 });
  a.updateValue(u32(1), u32(5));
  assert.deepEqual(a.elements().map(([k, p]) => [num(k), num(read(a, p, 4))]), [[0, 0], [1, 5]]);
  assert.deepEqual(mk({ type: MapType.QUEUE, keySize: 0 }).elements(), []);
});

// ------------------------------------------------------------------ queue, stack, bloom

test('queue and stack: order, full behaviour, program pop/peek', () => {
  for (const [type, order] of [[MapType.QUEUE, [2, 3, 5]], [MapType.STACK, [5, 3, 2]]] as const) {
    const space = new AddressSpace();
    const q = mk<QueueStackMap>({ type, keySize: 0, maxEntries: 3 }, 1, space);
    throwsErrno(() => q.popValue(), 'ENOENT');
    throwsErrno(() => q.peekValue(), 'ENOENT');
    throwsErrno(() => q.pushValue(u32(1), 1), 'EINVAL');
    throwsErrno(() => q.pushValue(u32(1), 3), 'EINVAL');
    for (const v of [1, 2, 3]) q.pushValue(u32(v));
    throwsErrno(() => q.pushValue(u32(4)), 'E2BIG');
    q.pushValue(u32(5), 2); // BPF_EXIST: drop the oldest
    assert.deepEqual(q.values().map(num), order);
    assert.equal(num(q.lookupValue(new Uint8Array(0))), order[0], 'bpf(2) lookup peeks');
    throwsErrno(() => q.deleteKey(new Uint8Array(0)), 'EINVAL');
    throwsErrno(() => q.nextKey(null), 'EINVAL');
    const s = scratch(space);
    const dst = s.at(0);
    assert.equal(q.peek(dst), 0);
    assert.equal(num(read(q, dst, 4)), order[0]);
    assert.equal(q.pop(dst), 0);
    assert.equal(num(q.lookupAndDelete(new Uint8Array(0))), order[1]);
    assert.equal(num(q.popValue()), order[2]);
    assert.equal(q.pop(dst), -2);
    assert.equal(q.push(s.put(u32(8), 8), 0), 0);
    q.updateValue(new Uint8Array(0), u32(9));
    assert.deepEqual(q.values().map(num), type === MapType.QUEUE ? [8, 9] : [9, 8]);
    throwsErrno(() => q.pop(q.handle), 'EFAULT');
  }
});

test('bloom filter: never a false negative, few false positives', () => {
  const space = new AddressSpace();
  const b = mk<BloomFilterMap>({ type: MapType.BLOOM_FILTER, keySize: 0, valueSize: 8, maxEntries: 1000 }, 1, space);
  assert.equal(b.hashes, 5);
  const val = (i: number): Uint8Array => {
    const v = new Uint8Array(8);
    new DataView(v.buffer).setBigUint64(0, BigInt(i) * 2654435761n, true);
    return v;
  };
  for (let i = 0; i < 1000; i++) b.pushValue(val(i));
  for (let i = 0; i < 1000; i++) assert.ok(b.contains(val(i)), `value ${i}`);
  let fp = 0;
  for (let i = 1000; i < 11000; i++) if (b.contains(val(i))) fp++;
  assert.ok(fp < 500, `${fp} false positives in 10000`);
  throwsErrno(() => b.pushValue(val(1), 1), 'EINVAL');
  const s = scratch(space);
  assert.equal(b.peek(s.put(val(3))), 0);
  assert.equal(b.push(s.put(val(123456)), 0), 0);
  assert.equal(b.peek(s.put(val(123456))), 0);
  assert.equal(b.pop(s.at(0)), -95);
  throwsErrno(() => b.deleteKey(new Uint8Array(0)), 'EOPNOTSUPP');
  throwsErrno(() => b.popValue(), 'ENOTSUPP');
  throwsErrno(() => b.nextKey(null), 'EOPNOTSUPP');
  assert.equal(mk<BloomFilterMap>({ type: MapType.BLOOM_FILTER, keySize: 0, mapExtra: 3n }).hashes, 3);
});

// ------------------------------------------------------------------ fd arrays

test('prog_array: programs by index', () => {
  const m = mk<ProgArrayMap>({ type: MapType.PROG_ARRAY, maxEntries: 4 });
  const p = { name: 'tail', id: 42 };
  m.setProgram(1, p);
  assert.equal(m.getProgram(1), p);
  assert.equal(m.getProgram(1n), p);
  assert.equal(m.getProgram(0), null);
  assert.equal(m.getProgram(4), null);
  assert.equal(m.getProgram(2n ** 40n), null);
  assert.equal(num(m.lookupValue(u32(1))), 42, 'bpf(2) lookup gives the program id');
  assert.equal(m.lookupValue(u32(0)), null);
  throwsErrno(() => m.setProgram(4, p), 'E2BIG');
  throwsErrno(() => m.setProgram(0, p, 1), 'EINVAL');
  throwsErrno(() => m.updateValue(u32(0), u32(3)), 'EINVAL');
  throwsErrno(() => m.deleteKey(u32(0)), 'ENOENT');
  throwsErrno(() => m.deleteKey(u32(4)), 'E2BIG');
  m.deleteKey(u32(1));
  assert.equal(m.getProgram(1), null);
  assert.deepEqual(m.keys().map(num), [0, 1, 2, 3]);
  assert.equal(m.lookup(u32(1)), 0, 'programs cannot look into a prog_array');
});

test('array_of_maps and hash_of_maps: inner maps by handle, template checks', () => {
  const space = new AddressSpace();
  const table = new MapTable(space, { cpus: 2 });
  const tmpl = desc({ name: 'inner', type: MapType.ARRAY, maxEntries: 4 });
  const outer = table.create(desc({ name: 'outer', type: MapType.ARRAY_OF_MAPS, maxEntries: 2, innerMap: tmpl })) as ArrayOfMapsMap;
  const in1 = table.create({ ...tmpl, name: 'in1' });
  const bigger = table.create({ ...tmpl, name: 'bigger', maxEntries: 8 });
  const hash = table.create(desc({ name: 'h', type: MapType.HASH }));
  outer.setMap(0, in1);
  throwsErrno(() => outer.setMap(1, bigger), 'EINVAL');
  throwsErrno(() => outer.setMap(1, hash), 'EINVAL');
  throwsErrno(() => outer.setMap(1, in1, 1), 'EINVAL');
  throwsErrno(() => outer.setMap(2, in1), 'E2BIG');
  throwsErrno(() => outer.setMap(1, mk({ ...tmpl, type: MapType.ARRAY })), 'EINVAL'); // another space
  const h = outer.lookup(u32(0));
  assert.equal(h, in1.handle);
  assert.equal(table.byHandle(h), in1);
  assert.equal(outer.lookup(u32(1)), 0);
  assert.equal(num(outer.lookupValue(u32(0))), in1.id, 'bpf(2) gives the inner map id');
  assert.equal(table.byId(in1.id), in1);
  // the program path: look up the inner map, then a value in it
  in1.updateValue(u32(3), u32(33));
  const inner = table.byHandle(outer.lookup(u32(0)))!;
  assert.equal(num(read(inner, inner.lookup(u32(3)), 4)), 33);
  throwsErrno(() => outer.deleteKey(u32(1)), 'ENOENT');
  throwsErrno(() => outer.deleteKey(u32(2)), 'E2BIG');
  outer.deleteKey(u32(0));
  assert.equal(outer.getMap(0), null);
  // BPF_F_INNER_MAP lets array sizes differ; hash inner maps may always differ in size
  const flex = mk<ArrayOfMapsMap>({ type: MapType.ARRAY_OF_MAPS, innerMap: { ...tmpl, flags: MapFlag.INNER_MAP } }, 2, space);
  flex.setMap(0, table.create({ ...tmpl, name: 'f8', flags: MapFlag.INNER_MAP, maxEntries: 8 }));
  const hom = mk<HashOfMapsMap>({ type: MapType.HASH_OF_MAPS, maxEntries: 2, innerMap: desc({ type: MapType.HASH }) }, 2, space);
  hom.setMap(u32(5), hash);
  hom.setMap(u32(6), table.create(desc({ name: 'h2', type: MapType.HASH, maxEntries: 99 })));
  throwsErrno(() => hom.setMap(u32(7), hash), 'E2BIG');
  throwsErrno(() => hom.setMap(u32(5), hash, 1), 'EEXIST');
  throwsErrno(() => hom.setMap(u32(8), hash, 2), 'ENOENT');
  throwsErrno(() => hom.setMap(u32(5), in1), 'EINVAL');
  assert.equal(hom.lookup(u32(5)), hash.handle);
  assert.deepEqual(hom.keys().map(num), [5, 6]);
  assert.equal(num(hom.nextKey(u32(5))), 6);
  assert.equal(num(hom.nextKey(u32(1))), 5);
  hom.deleteKey(u32(5));
  throwsErrno(() => hom.deleteKey(u32(5)), 'ENOENT');
});

test('perf_event_array: per-CPU samples, flags, lost samples', () => {
  const m = mk<PerfEventArrayMap>({ type: MapType.PERF_EVENT_ARRAY, maxEntries: 4 }, 2);
  const CUR = 0xffffffffn;
  assert.equal(m.output(CUR, Uint8Array.of(1), 0), 0);
  assert.equal(m.output(CUR, Uint8Array.of(2), 1), 0);
  assert.equal(m.output(1n, Uint8Array.of(3), 1), 0);
  assert.equal(m.output(0n, Uint8Array.of(4), 1), -95, 'a slot bound to another CPU');
  assert.equal(m.output(2n, Uint8Array.of(4), 0), -2, 'no event opened on slot 2');
  assert.equal(m.output(4n, Uint8Array.of(4), 0), -7);
  assert.equal(m.output(1n << 60n, Uint8Array.of(4), 0), -22);
  assert.equal(m.output(CUR | (5n << 32n), Uint8Array.of(5), 0), 0, 'ctx length bits are allowed');
  assert.deepEqual(m.drain().map((s) => [s.cpu, s.data[0]]), [[0, 1], [1, 2], [1, 3], [0, 5]]);
  assert.deepEqual(m.drain(), []);
  m.output(CUR, Uint8Array.of(6), 1);
  assert.deepEqual(m.read(1).map((d) => d[0]), [6]);
  m.deleteKey(u32(0));
  assert.equal(m.output(CUR, Uint8Array.of(7), 0), -2);
  m.open(0);
  assert.equal(m.output(CUR, Uint8Array.of(7), 0), 0);
  throwsErrno(() => m.lookupValue(u32(0)), 'ENOTSUPP');
  const small = mk<PerfEventArrayMap>({ type: MapType.PERF_EVENT_ARRAY, maxEntries: 1 }, 1, new AddressSpace());
  let ok = 0;
  while (small.output(CUR, new Uint8Array(100), 0) === 0) ok++;
  assert.equal(small.output(CUR, new Uint8Array(100), 0), -28);
  assert.equal(small.lost(0), 2);
  assert.equal(small.read(0).length, ok);
});

// ------------------------------------------------------------------ batches

test('batch operations', () => {
  const m = mk({ type: MapType.HASH, maxEntries: 10 });
  const keys = Array.from({ length: 7 }, (_, i) => u32(i * 11));
  assert.equal(m.updateBatch(keys, keys.map((k) => u32(num(k)! + 1))), 7);
  const seen: number[] = [];
  let cursor = null;
  for (let rounds = 0; rounds < 10; rounds++) {
    const r = m.lookupBatch(cursor, 3);
    r.keys.forEach((k, i) => {
      assert.equal(num(r.values[i]!), num(k)! + 1);
      seen.push(num(k)!);
    });
    if (!r.next) break;
    cursor = r.next;
  }
  assert.deepEqual(seen.sort((a, b) => a - b), [0, 11, 22, 33, 44, 55, 66]);
  // a failing element stops the batch and says how many were done
  assert.throws(() => m.updateBatch([u32(100), u32(0), u32(101)], [u32(1), u32(1), u32(1)], 1), (e: unknown) => {
    assert.ok(e instanceof MapError);
    assert.equal(e.errnoName, 'EEXIST');
    assert.equal(e.where['done'], 1);
    return true;
  });
  assert.throws(() => m.deleteBatch([u32(100), u32(999)]), (e: unknown) => e instanceof MapError && e.where['done'] === 1 && e.errnoName === 'ENOENT');
  const first = m.lookupAndDeleteBatch(null, 4);
  assert.equal(first.keys.length, 4);
  const rest = m.lookupAndDeleteBatch(first.next, 100);
  assert.equal(rest.keys.length, 3);
  assert.equal(rest.next, null);
  assert.equal(m.keys().length, 0);
  const a = mk({ type: MapType.ARRAY, maxEntries: 5 });
  a.updateBatch([u32(1), u32(4)], [u32(10), u32(40)]);
  assert.deepEqual(a.lookupBatch(null, 10).values.map(num), [0, 10, 0, 0, 40]);
  throwsErrno(() => a.deleteBatch([u32(0)]), 'ENOTSUPP');
  throwsErrno(() => a.lookupAndDeleteBatch(null, 1), 'ENOTSUPP');
  throwsErrno(() => m.updateBatch([u32(1)], []), 'EINVAL');
  throwsErrno(() => mk({ type: MapType.QUEUE, keySize: 0 }).lookupBatch(null, 1), 'ENOTSUPP');
});

// ------------------------------------------------------------------ differential against the kernel

type Op =
  | { op: 'update'; k: number; v: number; flags: number }
  | { op: 'delete'; k: number }
  | { op: 'lookup'; k: number }
  | { op: 'lookupAndDelete'; k: number }
  | { op: 'next'; k: number | null };

const RUNS = 60;

/** Creates the kernel twin of `d`, runs `body`, and always closes it. */
function withKernelMap(d: MapDesc, body: (fd: number) => void): void {
  const fd = K.rawMapCreate({ ...d, mapExtra: d.mapExtra ?? 0n });
  assert.ok(fd >= 0, `kernel map create failed: ${fd}`);
  try {
    body(fd);
  } finally {
    K.rawClose(fd);
  }
}

const sortHex = (xs: Uint8Array[]): string[] => xs.map(hex).sort();

/**
 * Random operations on a keyed map in the vm and in the kernel, comparing
 * each result and the final contents. `orderMatters`: get_next_key results
 * must agree exactly (arrays, LPM); otherwise only their success.
 */
function keyedDifferential(d: MapDesc, cpus: number, keyOf: (k: number) => Uint8Array, orderMatters: boolean, ops: fc.Arbitrary<Op[]>): void {
  const valueBytes = d.type === MapType.PERCPU_HASH || d.type === MapType.PERCPU_ARRAY ? Math.ceil(d.valueSize / 8) * 8 * cpus : d.valueSize;
  const valueOf = (v: number): Uint8Array => Uint8Array.from({ length: valueBytes }, (_, i) => (v * 7 + i * 13) & 0xff);
  fc.assert(
    fc.property(ops, (list) => {
      const vm = createMap(new AddressSpace(), d, { cpus });
      withKernelMap(d, (fd) => {
        list.forEach((o, step) => {
          const at = `step ${step}: ${JSON.stringify(o)}`;
          switch (o.op) {
            case 'update':
              assert.equal(errOf(() => vm.updateValue(keyOf(o.k), valueOf(o.v), o.flags)), K.rawUpdate(fd, keyOf(o.k), valueOf(o.v), BigInt(o.flags)), at);
              break;
            case 'delete':
              assert.equal(errOf(() => vm.deleteKey(keyOf(o.k))), K.rawDelete(fd, keyOf(o.k)), at);
              break;
            case 'lookup': {
              const kr = K.rawLookup(fd, keyOf(o.k), valueBytes);
              const v = vm.lookupValue(keyOf(o.k));
              assert.equal(v === null ? -2 : 0, kr.err, at);
              if (v) assert.equal(hex(v), hex(kr.value), at);
              break;
            }
            case 'lookupAndDelete': {
              const kr = K.rawLookupAndDelete(fd, keyOf(o.k), valueBytes);
              let v: Uint8Array | null = null;
              const err = errOf(() => (v = vm.lookupAndDelete(keyOf(o.k))));
              assert.equal(err, kr.err, at);
              if (v) assert.equal(hex(v), hex(kr.value), at);
              break;
            }
            case 'next': {
              const key = o.k === null ? null : keyOf(o.k);
              const kr = K.rawNextKey(fd, key, d.keySize);
              const n = vm.nextKey(key);
              // In bucket order and in insertion order different keys come last.
              const comparable = orderMatters || key === null || vm.lookupValue(key) === null;
              if (comparable) assert.equal(n === null ? -2 : 0, kr.err, at);
              if (n && orderMatters) assert.equal(hex(n), hex(kr.next), at);
              break;
            }
          }
        });
        const kernelKeys = K.rawKeys(fd, d.keySize);
        const vmKeys = vm.keys();
        if (orderMatters) assert.deepEqual(vmKeys.map(hex), kernelKeys.map(hex), 'final keys in order');
        else assert.deepEqual(sortHex(vmKeys), sortHex(kernelKeys), 'final keys');
        for (const k of kernelKeys) assert.equal(hex(vm.lookupValue(k)!), hex(K.rawLookup(fd, k, valueBytes).value), `value of ${hex(k)}`);
      });
    }),
    { numRuns: RUNS },
  );
}

function keyedOps(keySpace: number, withLookupAndDelete: boolean, len = 40): fc.Arbitrary<Op[]> {
  const k = fc.integer({ min: 0, max: keySpace - 1 });
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ op: fc.constant('update' as const), k, v: fc.integer({ min: 0, max: 255 }), flags: fc.constantFrom(0, 0, 1, 2, 3, 4) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), k }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('lookup' as const), k }) },
    { weight: withLookupAndDelete ? 1 : 0, arbitrary: fc.record({ op: fc.constant('lookupAndDelete' as const), k }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('next' as const), k: fc.option(k, { nil: null }) }) },
  );
  return fc.array(op, { maxLength: len, size: 'max' });
}

test('differential vs the kernel: hash, percpu hash, lru hash (not full)', (t) => {
  if (!needKernel(t)) return;
  const cpus = possibleCpus();
  keyedDifferential(desc({ type: MapType.HASH, keySize: 4, valueSize: 6, maxEntries: 6 }), cpus, u32, false, keyedOps(10, true));
  keyedDifferential(desc({ type: MapType.HASH, keySize: 3, valueSize: 8, maxEntries: 4, flags: MapFlag.NO_PREALLOC }), cpus, (k) => u32(k * 0x10101).subarray(0, 3), false, keyedOps(7, true));
  keyedDifferential(desc({ type: MapType.PERCPU_HASH, keySize: 4, valueSize: 5, maxEntries: 4 }), cpus, u32, false, keyedOps(6, true));
  keyedDifferential(desc({ type: MapType.LRU_HASH, keySize: 4, valueSize: 4, maxEntries: 64 }), cpus, u32, false, keyedOps(12, true));
});

test('differential vs the kernel: array and percpu array', (t) => {
  if (!needKernel(t)) return;
  const cpus = possibleCpus();
  keyedDifferential(desc({ type: MapType.ARRAY, keySize: 4, valueSize: 12, maxEntries: 5 }), cpus, u32, true, keyedOps(8, true));
  keyedDifferential(desc({ type: MapType.PERCPU_ARRAY, keySize: 4, valueSize: 4, maxEntries: 3 }), cpus, u32, true, keyedOps(5, false));
});

test('differential vs the kernel: lpm trie (lookups, order of get_next_key)', (t) => {
  if (!needKernel(t)) return;
  // 2 data bytes; prefixes drawn so that they nest and diverge often.
  const keyOf = (n: number): Uint8Array => {
    const pl = [0, 1, 3, 4, 8, 9, 12, 16, 17][n % 9]!;
    const k = new Uint8Array(6);
    new DataView(k.buffer).setUint32(0, pl, true);
    k[4] = [0x00, 0x80, 0xc0, 0xa5, 0x0f][Math.floor(n / 9) % 5]!;
    k[5] = (n * 29) & 0xff;
    return k;
  };
  keyedDifferential(desc({ type: MapType.LPM_TRIE, keySize: 6, valueSize: 3, maxEntries: 7, flags: MapFlag.NO_PREALLOC }), 1, keyOf, true, keyedOps(45, false, 60));
});

test('differential vs the kernel: queue and stack', (t) => {
  if (!needKernel(t)) return;
  type QOp = { op: 'push'; v: number; flags: number } | { op: 'pop' } | { op: 'peek' };
  const op: fc.Arbitrary<QOp> = fc.oneof(
    { weight: 3, arbitrary: fc.record({ op: fc.constant('push' as const), v: fc.integer({ min: 0, max: 0xffff }), flags: fc.constantFrom(0, 0, 1, 2, 2, 3) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('pop' as const) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('peek' as const) }) },
  );
  for (const type of [MapType.QUEUE, MapType.STACK]) {
    const d = desc({ type, keySize: 0, valueSize: 4, maxEntries: 4 });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40, size: 'max' }), (list) => {
        const vm = createMap(new AddressSpace(), d, { cpus: 1 });
        withKernelMap(d, (fd) => {
          for (const o of list) {
            if (o.op === 'push') {
              assert.equal(errOf(() => vm.pushValue(u32(o.v), o.flags)), K.rawUpdate(fd, null, u32(o.v), BigInt(o.flags)), JSON.stringify(o));
            } else {
              const kr = o.op === 'pop' ? K.rawLookupAndDelete(fd, null, 4) : K.rawLookup(fd, null, 4);
              let v: Uint8Array | null = null;
              assert.equal(errOf(() => (v = o.op === 'pop' ? vm.popValue() : vm.peekValue())), kr.err, o.op);
              if (v) assert.equal(num(v), num(kr.value));
            }
          }
          const rest: number[] = [];
          for (let r = K.rawLookupAndDelete(fd, null, 4); r.err === 0; r = K.rawLookupAndDelete(fd, null, 4)) rest.push(num(r.value)!);
          assert.deepEqual((vm as QueueStackMap).values().map(num), rest);
        });
      }),
      { numRuns: RUNS },
    );
  }
});

test('differential vs the kernel: bloom filter (same errors, no false negatives)', (t) => {
  if (!needKernel(t)) return;
  const d = desc({ type: MapType.BLOOM_FILTER, keySize: 0, valueSize: 4, maxEntries: 16, mapExtra: 3n });
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.constantFrom(0, 0, 0, 1, 2)), { maxLength: 40, size: 'max' }), fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 20 }), (pushes, probes) => {
      const vm = createMap(new AddressSpace(), d, { cpus: 1 }) as BloomFilterMap;
      withKernelMap(d, (fd) => {
        const added = new Set<number>();
        for (const [v, flags] of pushes) {
          const r = K.rawUpdate(fd, null, u32(v), BigInt(flags));
          assert.equal(errOf(() => vm.pushValue(u32(v), flags)), r);
          if (r === 0) added.add(v);
        }
        for (const v of [...added, ...probes]) {
          const kernelSays = K.rawLookupWithValue(fd, u32(v));
          if (added.has(v)) {
            assert.equal(kernelSays, 0);
            assert.equal(vm.contains(u32(v)), true, `false negative for ${v}`);
          } else {
            assert.ok(kernelSays === 0 || kernelSays === -2);
          }
        }
      });
    }),
    { numRuns: RUNS },
  );
});
