import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { assemble } from '../src/asm/index.js';
import { Btf, type BtfType } from '../src/btf/index.js';
import { TsbpfError } from '../src/errors.js';
import { insn, OP_EXIT } from '../src/isa/index.js';
import {
  KernelError,
  KernelMap,
  appendBtfStrings,
  btfLoad,
  kallsymsAddress,
  kernelConfig,
  kernelVersionCode,
  parseKernelConfig,
  loadCollection,
  mapInfo,
  parseCpuList,
  possibleCpus,
  progInfo,
  progLoad,
  progTestRun,
  sanitizeBtf,
  sanitizeObjectName,
} from '../src/kernel/index.js';
import { MapFlag, MapType, UpdateFlag } from '../src/object/kinds.js';
import { loadObject } from '../src/object/index.js';
import type { MapSpec, ObjectSpec, ProgramSpec } from '../src/object/spec.js';
import { readCapture } from '../src/pcap/index.js';
import { u32 } from './support/bytes.js';
import { needKernel, openFds } from './support/kernel.js';

const u64 = (n: bigint): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n, true);
  return b;
};
const rd32 = (b: Uint8Array, at = 0): number => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at, true);
const rd64 = (b: Uint8Array, at = 0): bigint => new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(at, true);

function errno(name: string, command?: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof KernelError, `expected a KernelError, got ${String(e)}`);
    assert.equal(e.errnoName, name, e.message);
    if (command) assert.equal(e.command, command);
    return true;
  };
}

function mapSpec(p: Partial<MapSpec> & Pick<MapSpec, 'name' | 'type' | 'keySize' | 'valueSize' | 'maxEntries'>): MapSpec {
  return {
    section: '.maps', flags: 0, pinning: 'none', mapExtra: 0n, numaNode: 0, keyTypeId: 0, valueTypeId: 0,
    innerMap: null, init: [], data: null, variables: [], readonly: false, ...p,
  };
}

const xdpPass = () => progLoad({ type: 'XDP', insns: [insn(0xb7, { dst: 0, imm: 2 }), insn(OP_EXIT)] });

// ---------------------------------------------------------------- no kernel needed

test('CPU lists and object names (no kernel needed)', () => {
  assert.equal(parseCpuList('0-1\n'), 2);
  assert.equal(parseCpuList('0,2-3,8'), 4);
  assert.equal(parseCpuList('0'), 1);
  assert.throws(() => parseCpuList(''), (e: unknown) => e instanceof TsbpfError && e.code === 'ECPUS');
  assert.throws(() => parseCpuList('a-b'), (e: unknown) => e instanceof TsbpfError && e.code === 'ECPUS');
  assert.equal(sanitizeObjectName('my-map:with.long.name'), 'my_map_with.lon');
  assert.equal(sanitizeObjectName('ok_name.bss'), 'ok_name.bss');
});

test('appendBtfStrings reuses strings and appends new ones (no kernel needed)', () => {
  const btf = new Btf([{ kind: 'void', id: 0, name: '' }, { kind: 'int', id: 1, name: 'int', size: 4, signed: true, char: false, bool: false, offset: 0, bits: 32 }]);
  const enc = btf.encode();
  const { bytes, offsets } = appendBtfStrings(enc, ['int', 'file.c', 'x = 1;', 'file.c']);
  const v = new DataView(bytes.buffer);
  const strStart = 24 + v.getUint32(16, true);
  const str = (off: number): string => {
    const end = bytes.indexOf(0, strStart + off);
    return new TextDecoder().decode(bytes.subarray(strStart + off, end));
  };
  assert.equal(str(offsets.get('int')!), 'int');
  assert.equal(str(offsets.get('file.c')!), 'file.c');
  assert.equal(str(offsets.get('x = 1;')!), 'x = 1;');
  assert.equal(v.getUint32(20, true), bytes.length - strStart);
  assert.deepEqual(Btf.parse(bytes).types, btf.types, 'types unchanged');
});

// ---------------------------------------------------------------- maps

test('hash map: update flags, lookup, delete, iteration and errnos', (t) => {
  if (!needKernel(t)) return;
  using m = KernelMap.create(mapSpec({ name: 'h', type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 3 }));
  assert.equal(m.lookup(u32(1)), null, 'missing key → null (ENOENT)');
  assert.equal(m.delete(u32(1)), false);
  assert.throws(() => m.update(u32(1), u64(5n), UpdateFlag.EXIST), errno('ENOENT', 'BPF_MAP_UPDATE_ELEM'));
  m.update(u32(1), u64(10n));
  m.update(u32(2), u64(20n), UpdateFlag.NOEXIST);
  assert.throws(() => m.update(u32(2), u64(21n), UpdateFlag.NOEXIST), errno('EEXIST', 'BPF_MAP_UPDATE_ELEM'));
  m.update(u32(2), u64(22n), UpdateFlag.EXIST);
  m.update(u32(3), u64(30n));
  assert.throws(() => m.update(u32(4), u64(40n)), errno('E2BIG', 'BPF_MAP_UPDATE_ELEM'), 'full');
  assert.equal(rd64(m.lookup(u32(2))!), 22n);
  const keys = [...m.keys()].map((k) => rd32(k)).sort();
  assert.deepEqual(keys, [1, 2, 3]);
  const entries = new Map([...m.entries()].map(([k, v]) => [rd32(k), rd64(v)]));
  assert.deepEqual(entries, new Map([[1, 10n], [2, 22n], [3, 30n]]));
  assert.equal(m.nextKey(null) !== null, true);
  assert.equal(rd64(m.lookupAndDelete(u32(3))!), 30n);
  assert.equal(m.lookupAndDelete(u32(3)), null);
  assert.equal(m.delete(u32(1)), true);
  assert.deepEqual([...m.keys()].map((k) => rd32(k)), [2]);
  assert.throws(() => m.lookup(new Uint8Array(3)), (e: unknown) => e instanceof TsbpfError && e.code === 'EMAPARG');
  assert.throws(() => m.update(u32(1), u32(1)), (e: unknown) => e instanceof TsbpfError && e.code === 'EMAPARG');
  const info = m.info();
  assert.equal(info.type, MapType.HASH);
  assert.equal(info.name, 'h');
  assert.equal(info.maxEntries, 3);
  m.close();
  assert.throws(() => m.fd, (e: unknown) => e instanceof TsbpfError && e.code === 'ECLOSED');
  m.close(); // twice is fine
});

test('hash map batches: update, lookup, lookup-and-delete, delete', (t) => {
  if (!needKernel(t)) return;
  using m = KernelMap.create(mapSpec({ name: 'hb', type: MapType.HASH, keySize: 4, valueSize: 4, maxEntries: 1000 }));
  const n = 300;
  assert.equal(m.updateBatch(Array.from({ length: n }, (_, i) => [u32(i), u32(i * 7)] as const)), n);
  const all = m.lookupBatch(16);
  assert.equal(all.length, n);
  for (const [k, v] of all) assert.equal(rd32(v), rd32(k) * 7);
  assert.equal(m.deleteBatch(Array.from({ length: 100 }, (_, i) => u32(i))), 100);
  assert.throws(() => m.deleteBatch([u32(0)]), errno('ENOENT', 'BPF_MAP_DELETE_BATCH'));
  const rest = m.lookupAndDeleteBatch(50);
  assert.equal(rest.length, n - 100);
  assert.deepEqual(rest.map(([k]) => rd32(k)).sort((a, b) => a - b), Array.from({ length: n - 100 }, (_, i) => i + 100));
  assert.equal(m.nextKey(null), null, 'empty after lookup-and-delete batch');
  assert.deepEqual(m.lookupBatch(), []);
});

test('array map: zero-filled slots, E2BIG, EINVAL on delete, batch lookup, freeze', (t) => {
  if (!needKernel(t)) return;
  using m = KernelMap.create(mapSpec({ name: 'arr', type: MapType.ARRAY, keySize: 4, valueSize: 12, maxEntries: 4 }));
  assert.deepEqual(m.lookup(u32(3)), new Uint8Array(12));
  assert.equal(m.lookup(u32(4)), null, 'out of range → ENOENT');
  assert.throws(() => m.update(u32(4), new Uint8Array(12)), errno('E2BIG'));
  assert.throws(() => m.update(u32(0), new Uint8Array(12), UpdateFlag.NOEXIST), errno('EEXIST'));
  assert.throws(() => m.delete(u32(0)), errno('EINVAL', 'BPF_MAP_DELETE_ELEM'));
  m.updateBatch([[u32(1), new Uint8Array(12).fill(1)], [u32(2), new Uint8Array(12).fill(2)]]);
  const all = m.lookupBatch(3);
  assert.deepEqual(all.map(([k, v]) => [rd32(k), v[0]]), [[0, 0], [1, 1], [2, 2], [3, 0]]);
  assert.deepEqual([...m.keys()].map((k) => rd32(k)), [0, 1, 2, 3]);
  m.freeze();
  assert.throws(() => m.update(u32(0), new Uint8Array(12)), errno('EPERM'));
  assert.equal(m.lookup(u32(1))![0], 1, 'still readable');
});

test('per-CPU maps: values are CPUs × 8-byte-rounded slots', (t) => {
  if (!needKernel(t)) return;
  const cpus = possibleCpus();
  for (const type of [MapType.PERCPU_HASH, MapType.PERCPU_ARRAY, MapType.LRU_PERCPU_HASH]) {
    using m = KernelMap.create(mapSpec({ name: 'pc', type, keySize: 4, valueSize: 4, maxEntries: 8 }));
    assert.equal(m.perCpu, true);
    assert.equal(m.slotSize, 8);
    assert.equal(m.valueBytes, 8 * cpus);
    const perCpu = Array.from({ length: cpus }, (_, c) => u32(100 + c));
    m.update(u32(1), perCpu);
    const raw = m.lookup(u32(1))!;
    assert.equal(raw.byteLength, 8 * cpus);
    for (let c = 0; c < cpus; c++) assert.equal(rd32(raw, 8 * c), 100 + c, `cpu ${c}`);
    assert.deepEqual(m.lookupPerCpu(u32(1))!.map((v) => rd32(v)), perCpu.map((v) => rd32(v)));
    // the full layout is accepted too
    const full = new Uint8Array(8 * cpus).fill(0);
    new DataView(full.buffer).setUint32(0, 7, true);
    m.update(u32(2), full);
    assert.equal(rd32(m.lookupPerCpu(u32(2))![0]!), 7);
    assert.throws(() => m.update(u32(3), u32(1)), (e: unknown) => e instanceof TsbpfError && e.code === 'EMAPARG');
    const batch = m.lookupBatch();
    assert.ok(batch.length >= 2);
    for (const [, v] of batch) assert.equal(v.byteLength, 8 * cpus);
  }
});

test('LRU hash evicts instead of E2BIG', (t) => {
  if (!needKernel(t)) return;
  using m = KernelMap.create(mapSpec({ name: 'lru', type: MapType.LRU_HASH, keySize: 4, valueSize: 4, maxEntries: 16 }));
  for (let i = 0; i < 200; i++) m.update(u32(i), u32(i));
  const n = [...m.keys()].length;
  assert.ok(n > 0 && n <= 16, `${n} entries kept`);
  assert.notEqual(m.lookup(u32(199)), null, 'the newest entry is kept');
});

test('LPM trie: longest prefix match, NO_PREALLOC required', (t) => {
  if (!needKernel(t)) return;
  const key = (prefix: number, ip: [number, number, number, number]): Uint8Array => new Uint8Array([...u32(prefix), ...ip]);
  assert.throws(
    () => KernelMap.create(mapSpec({ name: 'lpm', type: MapType.LPM_TRIE, keySize: 8, valueSize: 4, maxEntries: 16 })),
    errno('EINVAL', 'BPF_MAP_CREATE'),
  );
  using m = KernelMap.create(mapSpec({ name: 'lpm', type: MapType.LPM_TRIE, keySize: 8, valueSize: 4, maxEntries: 16, flags: MapFlag.NO_PREALLOC }));
  m.update(key(8, [10, 0, 0, 0]), u32(8));
  m.update(key(24, [10, 1, 2, 0]), u32(24));
  assert.equal(rd32(m.lookup(key(32, [10, 1, 2, 3]))!), 24);
  assert.equal(rd32(m.lookup(key(32, [10, 9, 9, 9]))!), 8);
  assert.equal(m.lookup(key(32, [11, 0, 0, 0])), null);
  assert.equal([...m.keys()].length, 2);
});

test('queue and stack: push, peek, pop, full', (t) => {
  if (!needKernel(t)) return;
  using q = KernelMap.create(mapSpec({ name: 'q', type: MapType.QUEUE, keySize: 0, valueSize: 4, maxEntries: 3 }));
  using s = KernelMap.create(mapSpec({ name: 's', type: MapType.STACK, keySize: 0, valueSize: 4, maxEntries: 3 }));
  for (const m of [q, s]) {
    assert.equal(m.pop(), null);
    for (const v of [1, 2, 3]) m.push(u32(v));
    assert.throws(() => m.push(u32(4)), errno('E2BIG'));
    m.push(u32(4), UpdateFlag.EXIST); // replaces the oldest
  }
  assert.equal(rd32(q.peek()!), 2);
  assert.deepEqual([q.pop(), q.pop(), q.pop(), q.pop()].map((v) => (v ? rd32(v) : null)), [2, 3, 4, null]);
  assert.deepEqual([s.pop(), s.pop(), s.pop(), s.pop()].map((v) => (v ? rd32(v) : null)), [4, 3, 2, null]);
  s.push(u32(9));
  assert.throws(() => s.nextKey(null), errno('EINVAL', 'BPF_MAP_GET_NEXT_KEY'), 'no keys to iterate');
});

test('bloom filter: added values may be present, others mostly not', (t) => {
  if (!needKernel(t)) return;
  using m = KernelMap.create(mapSpec({ name: 'bloom', type: MapType.BLOOM_FILTER, keySize: 0, valueSize: 4, maxEntries: 100, mapExtra: 3n }));
  for (let i = 0; i < 50; i++) m.push(u32(i));
  for (let i = 0; i < 50; i++) assert.equal(m.mayContain(u32(i)), true);
  let falsePositives = 0;
  for (let i = 1000; i < 1200; i++) if (m.mayContain(u32(i))) falsePositives++;
  assert.ok(falsePositives < 40, `${falsePositives} false positives of 200`);
  assert.equal(m.info().mapExtra, 3n);
});

test('ringbuf, perf_event_array (max_entries 0 → CPUs) and prog_array', (t) => {
  if (!needKernel(t)) return;
  using rb = KernelMap.create(mapSpec({ name: 'rb', type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 1 << 16 }));
  assert.equal(rb.info().maxEntries, 1 << 16);
  assert.throws(() => KernelMap.create(mapSpec({ name: 'rb', type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 5000 })), errno('EINVAL', 'BPF_MAP_CREATE'));
  using pe = KernelMap.create(mapSpec({ name: 'events', type: MapType.PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: 0 }));
  assert.equal(pe.maxEntries, possibleCpus());
  assert.equal(pe.info().maxEntries, possibleCpus());
  using pa = KernelMap.create(mapSpec({ name: 'jmp', type: MapType.PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 4 }));
  using prog = xdpPass();
  pa.update(u32(1), u32(prog.fd));
  assert.equal(rd32(pa.lookup(u32(1))!), progInfo(prog.fd).id, 'user space reads the program id');
  assert.equal(pa.lookup(u32(0)), null);
  assert.equal(pa.delete(u32(1)), true);
  assert.throws(() => pa.update(u32(0), u32(999)), errno('EBADF'));
});

test('array_of_maps and hash_of_maps: inner template, slots hold map fds', (t) => {
  if (!needKernel(t)) return;
  const inner = mapSpec({ name: 'inner', type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 2 });
  const before = openFds();
  using aom = KernelMap.create(mapSpec({ name: 'aom', type: MapType.ARRAY_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 2, innerMap: inner }));
  using hom = KernelMap.create(mapSpec({ name: 'hom', type: MapType.HASH_OF_MAPS, keySize: 8, valueSize: 4, maxEntries: 2, innerMap: inner }));
  assert.equal(openFds(), before + 2, 'the inner templates are closed');
  using a = KernelMap.create(inner);
  aom.update(u32(0), u32(a.fd));
  hom.update(u64(77n), u32(a.fd));
  assert.equal(rd32(aom.lookup(u32(0))!), a.info().id);
  assert.equal(rd32(hom.lookup(u64(77n))!), a.info().id);
  using wrong = KernelMap.create(mapSpec({ name: 'wrong', type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 2 }));
  assert.throws(() => aom.update(u32(1), u32(wrong.fd)), errno('EINVAL'), 'inner maps must match the template');
  assert.throws(
    () => KernelMap.create(mapSpec({ name: 'x', type: MapType.ARRAY_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 2 })),
    (e: unknown) => e instanceof TsbpfError && e.code === 'EARG',
  );
});

test('map names are sanitised; flags, numa node and BTF ids reach the kernel', (t) => {
  if (!needKernel(t)) return;
  using m = KernelMap.create(mapSpec({ name: 'a-very:long map name', type: MapType.HASH, keySize: 4, valueSize: 4, maxEntries: 4, flags: MapFlag.NO_PREALLOC, numaNode: 0 }));
  const info = m.info();
  assert.equal(info.name, 'a_very_long_map');
  assert.equal(info.flags & MapFlag.NO_PREALLOC, MapFlag.NO_PREALLOC);
  // BTF: u32 key, u64 value
  const types: BtfType[] = [
    { kind: 'void', id: 0, name: '' },
    { kind: 'int', id: 1, name: 'unsigned int', size: 4, signed: false, char: false, bool: false, offset: 0, bits: 32 },
    { kind: 'int', id: 2, name: 'long long unsigned int', size: 8, signed: false, char: false, bool: false, offset: 0, bits: 64 },
  ];
  using btf = btfLoad(new Btf(types).encode());
  using typed = KernelMap.create(mapSpec({ name: 'typed', type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 4, keyTypeId: 1, valueTypeId: 2 }), { btfFd: btf.fd });
  assert.equal(typed.withBtf, true);
  assert.equal(typed.info().btfKeyTypeId, 1);
  assert.equal(typed.info().btfValueTypeId, 2);
  // a mismatching value type is refused with BTF, so the map is created without (libbpf's fallback)
  using untyped = KernelMap.create(mapSpec({ name: 'untyped', type: MapType.HASH, keySize: 4, valueSize: 4, maxEntries: 4, keyTypeId: 1, valueTypeId: 2 }), { btfFd: btf.fd });
  assert.equal(untyped.withBtf, false);
  assert.equal(untyped.info().btfValueTypeId, 0);
  // queue takes no BTF: not even passed
  using q = KernelMap.create(mapSpec({ name: 'q', type: MapType.QUEUE, keySize: 0, valueSize: 8, maxEntries: 4, valueTypeId: 2 }), { btfFd: btf.fd });
  assert.equal(q.withBtf, false);
});

test('BTF load errors carry the kernel log', (t) => {
  if (!needKernel(t)) return;
  const bad: BtfType[] = [
    { kind: 'void', id: 0, name: '' },
    { kind: 'ptr', id: 1, name: '', type: 1 }, // a pointer to itself is a loop
  ];
  assert.throws(() => btfLoad(new Btf(bad).encode()), (e: unknown) => {
    assert.ok(e instanceof KernelError);
    assert.equal(e.command, 'BPF_BTF_LOAD');
    assert.ok(e.log.length > 0, 'a log');
    return true;
  });
});

// ---------------------------------------------------------------- collections

const MAIN = assemble(`
  r6 = r1
  *(u32 *)(r10 - 4) = 0
  r1 = 0 ll
  r2 = r10
  r2 += -4
  call 1
  if r0 == 0 goto out
  r1 = 1
  lock *(u64 *)(r0 + 0) += r1
  r1 = 0 ll
  r0 = *(u32 *)(r1 + 0)
  r2 = 0 ll
  *(u32 *)(r2 + 0) = r0
  exit
out:
  r0 = 0
  exit
`);
const TAIL = assemble(`
  r2 = 0 ll
  r3 = 0
  call 12
  r0 = 1
  exit
`);

const int = (id: number, name: string, size: number, signed = false): BtfType =>
  ({ kind: 'int', id, name, size, signed, char: false, bool: false, offset: 0, bits: size * 8 });

/** The object's BTF as clang leaves it: DATASEC sizes and offsets 0, extern vars, a kfunc in `.ksyms`. */
function objectBtf(): Btf {
  return new Btf([
    { kind: 'void', id: 0, name: '' },
    int(1, 'unsigned int', 4),
    int(2, 'long long unsigned int', 8),
    int(3, 'int', 4, true),
    { kind: 'ptr', id: 4, name: '', type: 0 },
    { kind: 'func_proto', id: 5, name: '', returnType: 3, params: [{ name: 'ctx', type: 4 }] },
    { kind: 'func', id: 6, name: 'xdp_prog', type: 5, linkage: 'global' },
    { kind: 'const', id: 7, name: '', type: 1 },
    { kind: 'var', id: 8, name: 'ret_val', type: 7, linkage: 'global' },
    { kind: 'var', id: 9, name: 'magic', type: 2, linkage: 'global' },
    { kind: 'datasec', id: 10, name: '.rodata', size: 0, vars: [{ type: 8, offset: 0, size: 4 }, { type: 9, offset: 0, size: 8 }] },
    { kind: 'var', id: 11, name: 'out', type: 1, linkage: 'global' },
    { kind: 'datasec', id: 12, name: '.data', size: 0, vars: [{ type: 11, offset: 0, size: 4 }] },
    int(13, 'char', 1, true),
    { kind: 'array', id: 14, name: '', type: 13, indexType: 1, nelems: 4 },
    { kind: 'var', id: 15, name: 'LICENSE', type: 14, linkage: 'global' },
    { kind: 'datasec', id: 16, name: 'license', size: 0, vars: [{ type: 15, offset: 0, size: 4 }] },
    { kind: 'var', id: 17, name: 'CONFIG_HZ', type: 1, linkage: 'extern' },
    { kind: 'var', id: 18, name: 'LINUX_KERNEL_VERSION', type: 1, linkage: 'extern' },
    { kind: 'datasec', id: 19, name: '.kconfig', size: 0, vars: [{ type: 17, offset: 0, size: 4 }, { type: 18, offset: 0, size: 4 }] },
    { kind: 'func_proto', id: 20, name: '', returnType: 0, params: [] },
    { kind: 'func', id: 21, name: 'bpf_rcu_read_lock', type: 20, linkage: 'extern' },
    { kind: 'datasec', id: 22, name: '.ksyms', size: 0, vars: [{ type: 21, offset: 0, size: 0 }] },
  ]);
}

function program(p: Partial<ProgramSpec> & Pick<ProgramSpec, 'name' | 'insns'>): ProgramSpec {
  return {
    section: 'xdp', type: 'XDP', expectedAttachType: null, attachTo: '', sleepable: false,
    maps: [], externs: [], funcInfo: [], lineInfo: [], coreRelos: [], license: 'GPL', kernelVersion: 0, ...p,
  };
}

function handSpec(opts: { btf?: boolean; main?: ProgramSpec } = {}): ObjectSpec {
  const rodata = new Uint8Array(16);
  new DataView(rodata.buffer).setBigUint64(0, 0xfeedfacecafebeefn, true);
  new DataView(rodata.buffer).setUint32(8, 2, true);
  const withBtf = opts.btf ?? true;
  const counters = mapSpec({ name: 'counters', type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, ...(withBtf ? { keyTypeId: 1, valueTypeId: 2 } : {}) });
  const maps: MapSpec[] = [
    counters,
    mapSpec({ name: 'jmp', type: MapType.PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 2, init: [{ key: u32(0), value: { program: 'xdp_prog' } }] }),
    mapSpec({ name: 'outer', type: MapType.ARRAY_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 2, innerMap: { ...counters, name: 'outer.inner' }, init: [{ key: u32(1), value: { map: 'counters' } }] }),
    mapSpec({
      name: 'obj.rodata', section: '.rodata', type: MapType.ARRAY, keySize: 4, valueSize: 16, maxEntries: 1, flags: MapFlag.RDONLY_PROG,
      data: rodata, readonly: true, valueTypeId: withBtf ? 10 : 0,
      variables: [{ name: 'magic', offset: 0, size: 8, typeId: 9 }, { name: 'ret_val', offset: 8, size: 4, typeId: 8 }],
    }),
    mapSpec({
      name: 'obj.data', section: '.data', type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1,
      data: new Uint8Array(4), valueTypeId: withBtf ? 12 : 0, variables: [{ name: 'out', offset: 0, size: 4, typeId: 11 }],
    }),
  ];
  const main = opts.main ?? program({
    name: 'xdp_prog',
    insns: MAIN,
    maps: [
      { insn: 2, map: 'counters', kind: 'fd', offset: 0 },
      { insn: 9, map: 'obj.rodata', kind: 'value', offset: 8 },
      { insn: 11, map: 'obj.data', kind: 'value', offset: 0 },
    ],
    funcInfo: withBtf ? [{ insn: 0, typeId: 6, name: 'xdp_prog' }] : [],
    // index 11 is slot 13: taken as a slot it would be the second half of the lddw at slot 10, which the kernel refuses
    lineInfo: withBtf ? [0, 2, 9, 11, 13].map((insn, k) => ({ insn, file: '/src/obj.c', line: 10 + k, column: 2, text: `line ${k};` })) : [],
  });
  const tail = program({ name: 'tail', insns: TAIL, maps: [{ insn: 0, map: 'jmp', kind: 'fd', offset: 0 }] });
  return {
    name: 'obj',
    programs: new Map([[main.name, main], [tail.name, tail]]),
    maps: new Map(maps.map((m) => [m.name, m])),
    externs: [],
    license: 'GPL',
    kernelVersion: 0,
    btf: withBtf ? objectBtf() : null,
    btfExt: null,
  };
}

test('sanitizeBtf fixes DATASECs and externs on a copy', () => {
  const spec = handSpec();
  const before = structuredClone(spec.btf!.types);
  const { types, changes } = sanitizeBtf(spec);
  assert.deepEqual(spec.btf!.types, before, 'the spec is untouched');
  const ds = (name: string) => types.find((t) => t.kind === 'datasec' && t.name === name) as Extract<BtfType, { kind: 'datasec' }>;
  assert.equal(ds('.rodata').size, 16);
  assert.deepEqual(ds('.rodata').vars, [{ type: 9, offset: 0, size: 8 }, { type: 8, offset: 8, size: 4 }]);
  assert.equal(ds('.data').size, 4);
  assert.equal(ds('license').size, 4);
  assert.deepEqual(ds('.kconfig').vars.map((v) => v.offset), [0, 4]);
  assert.equal(ds('.kconfig').size, 8);
  const ksym = types[ds('.ksyms').vars[0]!.type]!;
  assert.equal(ksym.kind, 'var');
  assert.equal(ksym.name, 'bpf_rcu_read_lock');
  assert.equal((types[17] as { linkage: string }).linkage, 'global');
  assert.equal(types.length, before.length + 2, 'an int and a var appended; no id changed');
  assert.ok(changes.length >= 5, changes.join('\n'));
});

test('loadCollection: maps, global data, BTF, func/line info, prog_array and map-in-map slots', (t) => {
  if (!needKernel(t)) return;
  using coll = loadCollection(handSpec(), { btf: 'require' });
  assert.ok(coll.btf !== null);
  assert.deepEqual([...coll.maps.keys()], ['counters', 'jmp', 'outer', 'obj.rodata', 'obj.data']);
  assert.deepEqual([...coll.programs.keys()], ['xdp_prog', 'tail']);
  const counters = coll.map('counters');
  assert.equal(counters.withBtf, true);
  assert.equal(coll.map('obj.rodata').withBtf, true, 'the fixed .rodata DATASEC is the value type');
  assert.equal(coll.map('obj.rodata').info().btfValueTypeId, 10);
  assert.equal(coll.map('obj.rodata').info().name, 'obj.rodata');
  const info = progInfo(coll.program('xdp_prog').fd);
  assert.equal(info.nrFuncInfo, 1);
  assert.equal(info.nrLineInfo, 5);
  assert.ok(info.btfId > 0);
  assert.equal(info.name, 'xdp_prog');

  const r = progTestRun(coll.program('xdp_prog'), { data: new Uint8Array(64), repeat: 5 });
  assert.equal(r.retval, 2, 'ret_val from .rodata at offset 8');
  assert.equal(rd64(counters.lookup(u32(0))!), 5n, 'five runs counted');
  assert.equal(rd32(coll.map('obj.data').lookup(u32(0))!), 2, '.data written by the program');
  assert.equal(rd64(coll.map('obj.rodata').lookup(u32(0))!), 0xfeedfacecafebeefn, 'initial data written');
  assert.throws(() => coll.map('obj.rodata').update(u32(0), new Uint8Array(16)), errno('EPERM'), '.rodata is frozen');

  // the tail call goes through the filled prog_array slot
  const r2 = progTestRun(coll.program('tail'), { data: new Uint8Array(64) });
  assert.equal(r2.retval, 2);
  assert.equal(rd64(counters.lookup(u32(0))!), 6n);
  assert.equal(rd32(coll.map('jmp').lookup(u32(0))!), info.id);
  assert.equal(rd32(coll.map('outer').lookup(u32(1))!), counters.info().id);
  assert.equal(coll.map('outer').lookup(u32(0)), null);
  assert.throws(() => coll.map('nope'), (e: unknown) => e instanceof TsbpfError && e.code === 'ENOMAP');
});

test('loadCollection without BTF, and with a subset of programs', (t) => {
  if (!needKernel(t)) return;
  {
    using coll = loadCollection(handSpec({ btf: false }));
    assert.equal(coll.btf, null);
    assert.equal(progTestRun(coll.program('xdp_prog'), { data: new Uint8Array(64) }).retval, 2);
    assert.equal(progInfo(coll.program('xdp_prog').fd).nrLineInfo, 0);
  }
  {
    using coll = loadCollection(handSpec(), { programs: ['tail'], btf: 'none' });
    assert.deepEqual([...coll.programs.keys()], ['tail']);
    assert.equal(coll.map('jmp').lookup(u32(0)), null, 'the slot of a program left out stays empty');
    assert.equal(progTestRun(coll.program('tail'), { data: new Uint8Array(64) }).retval, 1, 'tail call falls through');
  }
  assert.throws(() => loadCollection(handSpec(), { programs: ['nope'] }), (e: unknown) => e instanceof TsbpfError && e.code === 'ENOPROG');
});

test('a verifier rejection is a KernelError with the log, and nothing leaks', (t) => {
  if (!needKernel(t)) return;
  const bad = program({ name: 'xdp_prog', insns: assemble('r0 = *(u64 *)(r1 + 1000)\nexit') });
  const before = openFds();
  assert.throws(() => loadCollection(handSpec({ main: bad })), (e: unknown) => {
    assert.ok(e instanceof KernelError);
    assert.equal(e.command, 'BPF_PROG_LOAD');
    assert.match(e.log, /invalid bpf_context access/);
    return true;
  });
  assert.equal(openFds(), before, 'every map and the BTF were closed');
  const wrongRef = program({ name: 'xdp_prog', insns: MAIN, maps: [{ insn: 3, map: 'counters', kind: 'fd', offset: 0 }] });
  assert.throws(() => loadCollection(handSpec({ main: wrongRef })), (e: unknown) => e instanceof TsbpfError && e.code === 'ERELOC');
  assert.equal(openFds(), before);
});

test('load/close cycles leave no file descriptor open', (t) => {
  if (!needKernel(t)) return;
  const spec = handSpec();
  loadCollection(spec).close(); // warm up lazily opened things (koffi, libc)
  const before = openFds();
  for (let k = 0; k < 5; k++) {
    const coll = loadCollection(spec);
    assert.ok(openFds() > before + 5);
    coll.close();
    coll.close();
  }
  assert.equal(openFds(), before);
});

test('test-run with an __sk_buff context in and out (sched_cls)', (t) => {
  if (!needKernel(t)) return;
  using prog = progLoad({
    type: 'SCHED_CLS',
    insns: assemble(`
      r0 = *(u32 *)(r1 + 8)
      r2 = 7
      *(u32 *)(r1 + 32) = r2
      exit
    `),
  });
  const ctx = new Uint8Array(192);
  new DataView(ctx.buffer).setUint32(8, 42, true); // mark
  const r = progTestRun(prog, { data: new Uint8Array(64).fill(0xab), ctxIn: ctx, ctxOut: true, repeat: 3 });
  assert.equal(r.retval, 42, 'the program read skb->mark');
  assert.ok(r.ctxOut);
  assert.equal(rd32(r.ctxOut, 32), 7, 'skb->priority written back');
  assert.equal(rd32(r.ctxOut, 8), 42);
  assert.equal(r.dataOut.byteLength, 64);
  assert.ok(r.duration >= 0);
});

// ---------------------------------------------------------------- testdata objects

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PROGS = `${ROOT}testdata/progs/`;
/** Program types BPF_PROG_TEST_RUN runs on a packet. */
const PACKET_TYPES = new Set(['XDP', 'SCHED_CLS', 'SCHED_ACT', 'SOCKET_FILTER', 'CGROUP_SKB', 'LWT_IN', 'LWT_OUT', 'LWT_XMIT']);

function mapSnapshot(coll: { maps: Map<string, KernelMap> }): string {
  const parts: string[] = [];
  for (const [name, m] of coll.maps) {
    if (m.type === MapType.RINGBUF || m.type === MapType.PROG_ARRAY || m.keySize === 0) continue;
    for (const [k, v] of m.entries()) parts.push(`${name}:${Buffer.from(k).toString('hex')}=${Buffer.from(v).toString('hex')}`);
  }
  return parts.join('\n');
}

test('every testdata/progs object loads into the kernel and runs on the sample packets', (t) => {
  if (!needKernel(t)) return;
  const objects = readdirSync(PROGS).filter((f) => f.endsWith('.o')).sort();
  assert.ok(objects.length >= 5, `testdata objects: ${objects.join(', ')}`);
  const packets = readCapture(new Uint8Array(readFileSync(`${ROOT}testdata/mixed.pcap`))).packets.map((p) => p.data);
  assert.ok(packets.length > 50);
  const before = openFds();
  for (const file of objects) {
    const spec = loadObject(new Uint8Array(readFileSync(PROGS + file)), file.replace(/\.o$/, ''));
    using coll = loadCollection(spec, { btf: 'require' });
    assert.equal(coll.programs.size, spec.programs.size, file);
    assert.equal(coll.maps.size, spec.maps.size, file);
    const initial = mapSnapshot(coll);
    let ran = 0;
    for (const [name, prog] of coll.programs) {
      const ps = spec.programs.get(name)!;
      const info = progInfo(prog.fd);
      assert.equal(info.nrFuncInfo, new Set(ps.funcInfo.map((f) => f.insn)).size, `${file}:${name} func_info kept`);
      assert.ok(info.nrLineInfo > 0, `${file}:${name} line_info kept`);
      if (!PACKET_TYPES.has(ps.type)) continue;
      for (const data of packets) {
        const r = progTestRun(prog, { data });
        if (ps.type === 'XDP') assert.ok(r.retval <= 4, `${file}:${name} XDP verdict ${r.retval}`);
        ran++;
      }
    }
    assert.ok(ran > 0, `${file}: a program ran`);
    assert.notEqual(mapSnapshot(coll), initial, `${file}: the programs changed their maps`);
    if (file === 'xdp_count.o') {
      let pkts = 0n;
      let bytes = 0n;
      for (const [, v] of coll.map('proto_stats').entries()) {
        pkts += rd64(v, 0);
        bytes += rd64(v, 8);
      }
      assert.equal(pkts, BigInt(packets.length));
      assert.equal(bytes, BigInt(packets.reduce((n, p) => n + p.byteLength, 0)));
    }
  }
  assert.equal(openFds(), before, 'every collection closed all its fds');
});

test('tail_calls.o: the dispatcher reaches the programs its .values initialiser put in the prog_array', (t) => {
  if (!needKernel(t)) return;
  const spec = loadObject(new Uint8Array(readFileSync(`${PROGS}tail_calls.o`)), 'tail_calls');
  const packets = readCapture(new Uint8Array(readFileSync(`${ROOT}testdata/mixed.pcap`))).packets.map((p) => p.data);
  using coll = loadCollection(spec);
  const ids = ['xdp_tcp', 'xdp_udp', 'xdp_icmp'].map((n) => progInfo(coll.program(n).fd).id);
  assert.deepEqual([0, 1, 2, 3].map((k) => coll.map('jmp_table').lookup(u32(k))).map((v) => (v ? rd32(v) : null)), [...ids, null]);
  for (const data of packets) assert.equal(progTestRun(coll.program('xdp_dispatch'), { data }).retval, 2);
  const slots = [0, 1, 2, 3].map((k) => coll.map('slot_stats').lookup(u32(k))!);
  assert.equal(slots.reduce((n, v) => n + rd64(v, 0), 0n), BigInt(packets.length), 'every frame counted in exactly one slot');
  for (const k of [0, 1, 2]) assert.ok(rd64(slots[k]!, 0) > 0n, `slot ${k} reached by a tail call`);
  assert.equal(rd64(coll.map('dispatch_stats').lookup(u32(0))!), rd64(slots[3]!, 0), 'only the empty slot misses');
});

// ---------------------------------------------------------------- externs, CO-RE, every section

const OBJECTS = `${ROOT}testdata/object/`;
const readObject = (path: string, name: string): ObjectSpec => loadObject(new Uint8Array(readFileSync(path)), name);

test('kernel config parsing and version codes (no kernel needed)', () => {
  const c = parseKernelConfig('# comment\nCONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\nCONFIG_HZ=250\nCONFIG_S="x y"\n');
  assert.deepEqual([...c], [['CONFIG_A', 'y'], ['CONFIG_B', 'm'], ['CONFIG_HZ', '250'], ['CONFIG_S', '"x y"']]);
  assert.equal(kernelVersionCode('6.18.44-fc-v669'), (6 << 16) | (18 << 8) | 44);
  assert.equal(kernelVersionCode('5.4.300'), (5 << 16) | (4 << 8) | 255);
  assert.equal(kernelVersionCode('6.1'), (6 << 16) | (1 << 8));
});

test('externs.o: __kconfig values are written into the .kconfig map; ksyms and kfuncs resolve', (t) => {
  if (!needKernel(t)) return;
  const spec = readObject(`${OBJECTS}externs.o`, 'externs');
  const cfg = kernelConfig();
  {
    using coll = loadCollection(spec, { programs: ['kconfig_reader'], btf: 'require' });
    const kc = [...coll.maps.values()].find((m) => m.name.endsWith('.kconfig'))!;
    const v = kc.lookup(u32(0))!;
    const dv = new DataView(v.buffer);
    const at = (name: string): number => spec.externs.find((e) => e.name === name)!.offset;
    assert.equal(dv.getUint32(at('LINUX_KERNEL_VERSION'), true), kernelVersionCode());
    assert.equal(dv.getUint8(at('CONFIG_BPF_SYSCALL')), 1);
    if (cfg.size > 0) {
      assert.equal(dv.getBigUint64(at('CONFIG_HZ'), true), BigInt(cfg.get('CONFIG_HZ') ?? 0));
      const xfs = cfg.get('CONFIG_XFS_FS');
      assert.equal(dv.getUint32(at('CONFIG_XFS_FS'), true), xfs === 'y' ? 1 : xfs === 'm' ? 2 : 0);
      const local = (cfg.get('CONFIG_LOCALVERSION') ?? '""').slice(1, -1);
      assert.equal(new TextDecoder().decode(v.subarray(at('CONFIG_LOCALVERSION'), at('CONFIG_LOCALVERSION') + local.length)), local);
    }
    assert.throws(() => kc.update(u32(0), v), errno('EPERM'), '.kconfig is frozen');
    assert.equal(progInfo(coll.program('kconfig_reader').fd).type, 26, 'tp_btf is a TRACING program attached by BTF id');
  }
  // ksym_reader: typed ksym (bpf_prog_active) and kfuncs through vmlinux BTF, a weak kfunc that is
  // missing, and the typeless `init_task`, which only /proc/kallsyms can give.
  if (kallsymsAddress('init_task') === null) {
    // Without CONFIG_KALLSYMS_ALL the data symbols are missing: either our
    // loader says so (typeless init_task) or the kernel does (typed bpf_prog_active).
    assert.throws(() => loadCollection(spec, { programs: ['ksym_reader'] }), (e: unknown) =>
      e instanceof TsbpfError && ((e.code === 'ERELOC' && /init_task/.test(e.message)) || /kernel symbol 'bpf_prog_active'/.test(e.message)));
  } else {
    loadCollection(spec, { programs: ['ksym_reader'] }).close();
  }
});

test('task.o: the kernel applies CO-RE relocations against its own task_struct', (t) => {
  if (!needKernel(t)) return;
  const spec = readObject(`${ROOT}testdata/core/task.o`, 'task');
  assert.ok([...spec.programs.values()][0]!.coreRelos.length > 5);
  using coll = loadCollection(spec, { btf: 'require' });
  const r = progTestRun(coll.program('task'), { ctxIn: new Uint8Array(16) });
  assert.equal(r.retval, 0);
  const out = coll.map('task.bss').lookup(u32(0))!;
  const dv = new DataView(out.buffer);
  assert.equal(dv.getInt32(0, true), process.pid, 'pid (the main thread)');
  assert.equal(dv.getInt32(4, true), process.pid, 'tgid');
  assert.equal(dv.getInt32(8, true), process.ppid, 'real_parent->tgid');
  assert.ok(dv.getBigUint64(32, true) > 0n, 'mm->total_vm');
  assert.match(new TextDecoder().decode(out.subarray(40, 56)).replace(/\0.*$/s, ''), /^(node|MainThread|node-MainThread)/);
  assert.deepEqual([dv.getInt32(56, true), dv.getInt32(60, true), dv.getUint32(64, true)], [1, 0, 16], '__state exists, state does not, comm is 16 bytes');
});

test('every section kind in sections.o and map_in_map.o loads, or fails as this kernel must', (t) => {
  if (!needKernel(t)) return;
  /** What this kernel (6.18, kprobes off, lockdown) refuses, by section prefix. */
  const refused: Array<[RegExp, string]> = [[/^(fentry|fexit|fmod_ret|lsm)/, 'EPERM'], [/^struct_ops/, 'ENOTSUPP']];
  const spec = readObject(`${OBJECTS}sections.o`, 'sections');
  const before = openFds();
  let loaded = 0;
  for (const p of spec.programs.values()) {
    const expect = refused.find(([re]) => re.test(p.section))?.[1];
    if (expect) {
      assert.throws(() => loadCollection(spec, { programs: [p.name] }), errno(expect, 'BPF_PROG_LOAD'), p.section);
      continue;
    }
    using coll = loadCollection(spec, { programs: [p.name], btf: 'require' });
    assert.ok(coll.programs.get(p.name)!.fd > 0, p.section);
    loaded++;
  }
  assert.ok(loaded >= 25, `${loaded} sections loaded`);
  {
    using all = loadCollection(spec, { programs: [...spec.programs.values()].filter((p) => !refused.some(([re]) => re.test(p.section)) && !p.section.startsWith('?')).map((p) => p.name) });
    assert.equal(all.programs.size, loaded - 1, 'all at once ("?socket" left out)');
    assert.equal(all.programs.get('p_socket_noautoload'), undefined);
  }
  const frags = spec.programs.get('p_xdp_frags');
  if (frags) {
    using coll = loadCollection(spec, { programs: ['p_xdp_frags'] });
    // A frags-aware XDP program runs on a 1500-byte packet like any other.
    assert.equal(progTestRun(coll.program('p_xdp_frags'), { data: new Uint8Array(1500) }).dataOut.byteLength, 1500);
  }

  const mim = readObject(`${OBJECTS}map_in_map.o`, 'map_in_map');
  {
    using coll = loadCollection(mim, { btf: 'require' });
    for (const m of mim.maps.values()) {
      for (const slot of m.init) {
        const got = coll.map(m.name).lookup(slot.key);
        assert.ok(got !== null, `${m.name}: slot ${Buffer.from(slot.key).toString('hex')} filled`);
        if (!(slot.value instanceof Uint8Array)) {
          const id = 'map' in slot.value ? coll.map(slot.value.map).info().id : progInfo(coll.program(slot.value.program).fd).id;
          assert.equal(rd32(got), id, `${m.name} holds ${JSON.stringify(slot.value)}`);
        }
      }
    }
  }
  assert.equal(openFds(), before);
});
