// The public API over both backends: `load(spec, { backend })`. Every
// testdata object, test-run on every frame of the shipped capture through
// `CollectionProgram.testRun`, must give the same return values, packets and
// final map contents (read through `CollectionMap`) on the vm and on the
// kernel; map operations must fail with the same errno names; ctx in and out
// must agree. Kernel parts skip with the reason when bpf(2) is unusable.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import { load, CollectionError, type Collection, type CollectionMap, type LoadOptions } from '../src/api/node.js';
import { loadObject, MapType, UpdateFlag, type MapSpec, type ObjectSpec } from '../src/object/index.js';
import { readCapture } from '../src/pcap/index.js';
import { entryPrograms } from '../src/cli/run-object.js';
import { openFds, needKernel } from './support/kernel.js';
import { hex, u32 } from './support/bytes.js';

const DIR = new URL('../../testdata/progs/', import.meta.url);
const OBJECTS = readdirSync(DIR).filter((f) => f.endsWith('.o')).sort();
const FRAMES = readCapture(new Uint8Array(readFileSync(new URL('../mixed.pcap', DIR)))).packets.map((p) => p.data);
const VM: LoadOptions = { backend: 'vm', cpus: 2, printk: () => {} };

const loadSpec = (file: string): ObjectSpec => loadObject(new Uint8Array(readFileSync(new URL(file, DIR))), file.replace(/\.o$/, ''));

/** Percpu values as one value: each 8-byte word summed over the CPUs. */
function sumWords(values: readonly Uint8Array[], size: number): string {
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  for (let w = 0; w + 8 <= size; w += 8) {
    let s = 0n;
    for (const v of values) s += new DataView(v.buffer, v.byteOffset, v.byteLength).getBigUint64(w, true);
    dv.setBigUint64(w, BigInt.asUintN(64, s), true);
  }
  return hex(out);
}

/** A map's final contents as comparable text, read only through `CollectionMap`. */
function mapState(m: CollectionMap, events: readonly string[]): string[] {
  switch (m.type) {
    case MapType.RINGBUF:
      return [...events, ...m.events().map(hex)];
    case MapType.PROG_ARRAY:
      return m.keys().map((k) => `${hex(k)}=${m.program(new DataView(k.buffer, k.byteOffset).getUint32(0, true)) ?? ''}`).sort();
    case MapType.BLOOM_FILTER:
      return [];
    case MapType.QUEUE:
    case MapType.STACK:
      return m.values().map(hex);
    default:
      if (m.perCpu) return m.keys().map((k) => `${hex(k)}=${sumWords(m.lookupPerCpu(k) ?? [], m.valueSize)}`).sort();
      return m.entries().map(([k, v]) => `${hex(k)}=${hex(v)}`).sort();
  }
}

interface Run { outcomes: string[]; maps: Record<string, string[]> }

/** Every entry program on every frame, ring buffers read after each frame, then every map. */
function runAll(col: Collection, spec: ObjectSpec): Run {
  const progs = entryPrograms(spec).map((n) => col.program(n));
  const rings = [...col.maps.values()].filter((m) => m.type === MapType.RINGBUF);
  const events: Record<string, string[]> = {};
  const outcomes: string[] = [];
  for (const f of FRAMES) {
    for (const p of progs) {
      const r = p.testRun({ data: f });
      outcomes.push(`${r.retval} ${hex(r.dataOut)}`);
    }
    for (const m of rings) (events[m.name] ??= []).push(...m.events().map(hex));
  }
  const maps: Record<string, string[]> = {};
  for (const [name, m] of col.maps) maps[name] = mapState(m, events[name] ?? []);
  return { outcomes, maps };
}

function compare(file: string, a: Run, b: Run): void {
  assert.equal(a.outcomes.length, b.outcomes.length);
  for (let k = 0; k < a.outcomes.length; k++) assert.equal(a.outcomes[k], b.outcomes[k], `${file}: run ${k} differs`);
  assert.deepEqual(a.maps, b.maps, `${file}: final maps differ`);
}

test('the testdata objects and the capture are here', () => {
  assert.ok(OBJECTS.length >= 10, `only ${OBJECTS.length} objects`);
  assert.ok(FRAMES.length > 300);
});

for (const file of OBJECTS) {
  test(`${file}: vm and kernel agree through the public API (retvals, data out, maps)`, (t) => {
    const spec = loadSpec(file);
    const vm = runAll(load(spec, VM), spec);
    assert.ok(vm.outcomes.length >= FRAMES.length);
    if (!needKernel(t)) {
      // Without a kernel the API is still exercised: the JIT against the interpreter.
      compare(file, vm, runAll(load(spec, { ...VM, engine: 'interp' }), spec));
      return;
    }
    using kc = load(loadSpec(file), { backend: 'kernel' });
    assert.equal(kc.backend, 'kernel');
    const cpus = [...kc.maps.values()].find((m) => m.perCpu)?.cpus ?? 2;
    const v = cpus === 2 ? vm : runAll(load(spec, { ...VM, cpus }), spec);
    compare(file, v, runAll(kc, loadSpec(file)));
  });
}

// ---------------------------------------------------------------- map errors

function mapSpec(name: string, type: number, keySize: number, valueSize: number, maxEntries: number, extra: Partial<MapSpec> = {}): MapSpec {
  return {
    name, section: '.maps', type, keySize, valueSize, maxEntries, flags: 0, pinning: 'none', mapExtra: 0n, numaNode: 0,
    keyTypeId: 0, valueTypeId: 0, innerMap: null, init: [], data: null, variables: [], readonly: false, ...extra,
  };
}

/** An object with maps of many types and no programs. */
function mapsOnly(): ObjectSpec {
  const maps = [
    mapSpec('h', MapType.HASH, 4, 8, 4),
    mapSpec('a', MapType.ARRAY, 4, 4, 8),
    mapSpec('pa', MapType.PERCPU_ARRAY, 4, 12, 2),
    mapSpec('ph', MapType.PERCPU_HASH, 4, 8, 4),
    mapSpec('lpm', MapType.LPM_TRIE, 8, 4, 8, { flags: 1 /* BPF_F_NO_PREALLOC */ }),
    mapSpec('q', MapType.QUEUE, 0, 4, 2),
    mapSpec('s', MapType.STACK, 0, 4, 2),
    mapSpec('b', MapType.BLOOM_FILTER, 0, 4, 16, { mapExtra: 3n }),
    mapSpec('rb', MapType.RINGBUF, 0, 0, 4096),
    mapSpec('ro', MapType.ARRAY, 4, 8, 1, { section: '.rodata', data: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), readonly: true, flags: 0x80 /* RDONLY_PROG */ }),
  ];
  return { name: 'api_maps', programs: new Map(), maps: new Map(maps.map((m) => [m.name, m])), externs: [], license: 'GPL', kernelVersion: 0, btf: null, btfExt: null };
}

const u64 = (n: number): Uint8Array => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(n), true); return b; };
const u96 = (n: number): Uint8Array => { const b = new Uint8Array(12); new DataView(b.buffer).setUint32(8, n, true); return b; };
const none = new Uint8Array(0);
const lpmKey = (prefix: number, a: number, b: number, c: number, d: number): Uint8Array => new Uint8Array([prefix, 0, 0, 0, a, b, c, d]);

/** Runs the operations and writes down what each gave: a value, or `!ERRNO`. */
function transcript(col: Collection): string[] {
  const out: string[] = [];
  const show = (v: unknown): string =>
    v === null || v === undefined ? String(v) : v instanceof Uint8Array ? hex(v) : Array.isArray(v) ? `[${v.map(show).join(' ')}]` : String(v);
  const step = (what: string, fn: () => unknown, sort = false): void => {
    try {
      let v = fn();
      if (sort && Array.isArray(v)) v = v.map(show).sort();
      out.push(`${what} -> ${show(v)}`);
    } catch (e) {
      if (!(e instanceof CollectionError)) throw e;
      assert.equal(e.code, 'ECOLLECTION');
      assert.equal(e.backend, col.backend);
      out.push(`${what} -> !${e.errnoName}`);
    }
  };
  const h = col.map('h'), a = col.map('a'), pa = col.map('pa'), ph = col.map('ph'), lpm = col.map('lpm');
  const q = col.map('q'), s = col.map('s'), b = col.map('b'), rb = col.map('rb'), ro = col.map('ro');

  step('h lookup missing', () => h.lookup(u32(1)));
  step('h update', () => h.update(u32(1), u64(10)));
  step('h update NOEXIST on existing', () => h.update(u32(1), u64(11), UpdateFlag.NOEXIST));
  step('h update EXIST on missing', () => h.update(u32(2), u64(12), UpdateFlag.EXIST));
  step('h update bad flags', () => h.update(u32(2), u64(12), 99));
  step('h lookup', () => h.lookup(u32(1)));
  step('h lookup 3-byte key', () => h.lookup(new Uint8Array(3)));
  step('h update 7-byte value', () => h.update(u32(3), new Uint8Array(7)));
  step('h update per-cpu values', () => h.update(u32(3), [u64(1), u64(2)]));
  step('h lookupPerCpu', () => h.lookupPerCpu(u32(1)));
  step('h delete missing', () => h.delete(u32(2)));
  step('h fill', () => { for (let k = 2; k <= 4; k++) h.update(u32(k), u64(k * 10)); });
  step('h update past max_entries', () => h.update(u32(5), u64(50)));
  step('h keys', () => h.keys(), true);
  step('h nextKey of a missing key', () => h.nextKey(u32(77)) !== null);
  step('h lookupAndDelete', () => h.lookupAndDelete(u32(4)));
  step('h lookupAndDelete missing', () => h.lookupAndDelete(u32(4)));
  step('h delete', () => h.delete(u32(3)));
  step('h lookupBatch', () => h.lookupBatch(1).map(([k, v]) => `${hex(k)}=${hex(v)}`), true);
  step('h updateBatch', () => h.updateBatch([[u32(7), u64(70)], [u32(8), u64(80)]]));
  step('h deleteBatch', () => h.deleteBatch([u32(7), u32(8)]));
  step('h deleteBatch missing', () => h.deleteBatch([u32(1), u32(99)]));
  step('h lookupAndDeleteBatch', () => h.lookupAndDeleteBatch().map(([k, v]) => `${hex(k)}=${hex(v)}`), true);
  step('h entries after', () => h.entries());
  step('h pop (not a queue)', () => h.pop());
  step('h events (not a ring buffer)', () => h.events());
  step('h program (not a prog_array)', () => h.program(0));

  step('a lookup', () => a.lookup(u32(0)));
  step('a lookup past the end', () => a.lookup(u32(99)));
  step('a update past the end', () => a.update(u32(8), u32(1)));
  step('a update NOEXIST', () => a.update(u32(1), u32(1), UpdateFlag.NOEXIST));
  step('a update', () => a.update(u32(1), u32(0xabcd)));
  step('a delete', () => a.delete(u32(1)));
  step('a nextKey(null)', () => a.nextKey(null));
  step('a nextKey(last)', () => a.nextKey(u32(7)));
  step('a nextKey(past the end)', () => a.nextKey(u32(99)));
  step('a keys', () => a.keys());
  step('a lookupBatch', () => a.lookupBatch(3).map(([k, v]) => `${hex(k)}=${hex(v)}`));
  step('a updateBatch', () => a.updateBatch([[u32(2), u32(2)], [u32(3), u32(3)]]));
  step('a updateBatch past the end', () => a.updateBatch([[u32(4), u32(4)], [u32(9), u32(9)]]));
  step('a lookup 4', () => a.lookup(u32(4)));
  step('a lookupAndDelete', () => a.lookupAndDelete(u32(1)));

  step('pa update', () => pa.update(u32(0), [u96(1), u96(2)]));
  step('pa update one buffer', () => pa.update(u32(1), new Uint8Array(32).fill(3)));
  step('pa update wrong count', () => pa.update(u32(1), [u96(1)]));
  step('pa update 12 bytes', () => pa.update(u32(1), u96(1)));
  step('pa lookup', () => pa.lookup(u32(0)));
  step('pa lookupPerCpu', () => pa.lookupPerCpu(u32(1)));
  step('ph lookupPerCpu missing', () => ph.lookupPerCpu(u32(1)));
  step('ph update', () => ph.update(u32(1), [u64(5), u64(6)]));
  step('ph lookupPerCpu', () => ph.lookupPerCpu(u32(1)));
  step('ph entries', () => ph.entries());

  step('lpm update', () => lpm.update(lpmKey(24, 10, 0, 0, 0), u32(24)));
  step('lpm update /8', () => lpm.update(lpmKey(8, 10, 0, 0, 0), u32(8)));
  step('lpm longest match', () => lpm.lookup(lpmKey(32, 10, 0, 0, 9)));
  step('lpm other match', () => lpm.lookup(lpmKey(32, 10, 9, 0, 9)));
  step('lpm no match', () => lpm.lookup(lpmKey(32, 11, 0, 0, 1)));
  step('lpm prefix too long', () => lpm.update(lpmKey(33, 1, 1, 1, 1), u32(1)));
  step('lpm keys', () => lpm.keys(), true);
  step('lpm delete', () => lpm.delete(lpmKey(8, 10, 0, 0, 0)));
  step('lpm delete missing', () => lpm.delete(lpmKey(8, 10, 0, 0, 0)));

  for (const [n, m] of [['q', q], ['s', s]] as const) {
    step(`${n} pop empty`, () => m.pop());
    step(`${n} peek empty`, () => m.peek());
    step(`${n} push`, () => { m.push(u32(1)); m.push(u32(2)); });
    step(`${n} push full`, () => m.push(u32(3)));
    step(`${n} push EXIST full`, () => m.push(u32(3), UpdateFlag.EXIST));
    step(`${n} values`, () => m.values());
    step(`${n} values again`, () => m.values());
    step(`${n} peek`, () => m.peek());
    step(`${n} lookup (peek)`, () => m.lookup(none));
    step(`${n} pop`, () => m.pop());
    step(`${n} update (push)`, () => m.update(none, u32(4)));
    step(`${n} lookupAndDelete (pop)`, () => m.lookupAndDelete(none));
    step(`${n} push 2 bytes`, () => m.push(new Uint8Array(2)));
    step(`${n} keys`, () => m.keys());
    step(`${n} delete`, () => m.delete(none));
  }

  step('b push', () => b.push(u32(42)));
  step('b mayContain', () => b.mayContain(u32(42)));
  step('b update (push)', () => b.update(none, u32(43)));
  step('b mayContain 43', () => b.mayContain(u32(43)));
  step('b pop', () => b.pop());
  step('b delete', () => b.delete(none));
  step('b keys', () => b.keys());

  step('rb events', () => rb.events());
  step('rb lookup', () => rb.lookup(none));
  step('rb update', () => rb.update(none, none));
  step('rb keys', () => rb.keys());
  step('rb delete', () => rb.delete(none));

  step('ro lookup', () => ro.lookup(u32(0)));
  step('ro update (frozen)', () => ro.update(u32(0), u64(1)));
  step('ro freeze again', () => ro.freeze());
  step('h freeze', () => h.freeze());
  step('h update frozen', () => h.update(u32(1), u64(1)));
  step('h lookup frozen', () => h.lookup(u32(1)));
  return out;
}

/** What the transcript must say on any backend (so the vm alone is checked too). */
const EXPECTED: Record<string, string> = {
  'h lookup missing': 'null',
  'h update NOEXIST on existing': '!EEXIST',
  'h update EXIST on missing': '!ENOENT',
  'h lookup 3-byte key': '!EINVAL',
  'h update 7-byte value': '!EINVAL',
  'h delete missing': 'false',
  'h update past max_entries': '!E2BIG',
  'a update past the end': '!E2BIG',
  'a update NOEXIST': '!EEXIST',
  'a delete': '!EINVAL',
  'q pop empty': 'null',
  'q push full': '!E2BIG',
  'q values': '[02000000 03000000]',
  // BPF_EXIST on a full stack drops the oldest value, as on a queue.
  's values': '[03000000 02000000]',
  'ro update (frozen)': '!EPERM',
  'h update frozen': '!EPERM',
};

function checkExpected(lines: readonly string[]): void {
  for (const [what, want] of Object.entries(EXPECTED)) {
    const line = lines.find((l) => l.startsWith(`${what} -> `));
    assert.equal(line, `${what} -> ${want}`);
  }
}

test('map operations: the vm gives the kernel\'s results and errno names', (t) => {
  const vmLines = transcript(load(mapsOnly(), { backend: 'vm', cpus: 2 }));
  checkExpected(vmLines);
  if (!needKernel(t)) return;
  using kc = load(mapsOnly(), { backend: 'kernel' });
  if (kc.map('pa').cpus !== 2) {
    t.skip(`the transcript assumes 2 possible CPUs; this kernel has ${kc.map('pa').cpus}`);
    return;
  }
  const kLines = transcript(kc);
  checkExpected(kLines);
  assert.deepEqual(vmLines, kLines);
});

test('a closed collection refuses every operation with ECLOSED, on both backends', (t) => {
  const backends: Array<'vm' | 'kernel'> = ['vm'];
  if (needKernel(t)) backends.push('kernel');
  for (const backend of backends) {
    const spec = loadSpec('xdp_count.o');
    const col = load(spec, { backend });
    const m = col.map('proto_stats');
    const p = col.program('xdp_count');
    col.close();
    col.close();
    assert.equal(col.closed, true);
    assert.throws(() => m.lookup(u32(0)), { code: 'ECLOSED' });
    assert.throws(() => p.testRun({ data: FRAMES[0]! }), { code: 'ECLOSED' });
    assert.throws(() => col.map('nope'), { code: 'ENOMAP' });
    assert.throws(() => col.program('nope'), { code: 'ENOPROG' });
  }
  assert.throws(() => load(loadSpec('xdp_count.o'), { backend: 'gpu' as never }), { code: 'EBACKEND' });
});

// ---------------------------------------------------------------- test-run ctx

const skbCtx = (fields: Record<number, number>): Uint8Array => {
  const b = new Uint8Array(192);
  const v = new DataView(b.buffer);
  for (const [at, val] of Object.entries(fields)) v.setUint32(Number(at), val, true);
  return b;
};
const xdpCtx = (data: number, dataEnd: number, extra: Record<number, number> = {}): Uint8Array => {
  const b = new Uint8Array(24);
  const v = new DataView(b.buffer);
  v.setUint32(0, data, true);
  v.setUint32(4, dataEnd, true);
  for (const [at, val] of Object.entries(extra)) v.setUint32(Number(at), val, true);
  return b;
};

/** Test-runs with ctx in (good and bad), written down like the map transcript. */
function ctxTranscript(cols: Record<string, Collection>): string[] {
  const out: string[] = [];
  const step = (what: string, fn: () => { retval: number; dataOut: Uint8Array; ctxOut?: Uint8Array }): void => {
    try {
      const r = fn();
      out.push(`${what} -> ${r.retval} ${hex(r.dataOut)} ctx ${r.ctxOut ? hex(r.ctxOut) : '-'}`);
    } catch (e) {
      if (!(e instanceof CollectionError)) throw e;
      out.push(`${what} -> !${e.errnoName}`);
    }
  };
  const tc = cols['tc_rewrite']!.program('tc_rewrite');
  const sock = cols['socket_filter']!.program('socket_filter');
  const xdp = cols['xdp_count']!.program('xdp_count');
  const frames = [FRAMES[0]!, FRAMES[1]!, FRAMES[7]!, FRAMES[100]!];
  // mark 8, priority 32, ingress_ifindex 36, ifindex 40, cb 48.., tstamp 152, wire_len 160, gso_segs 164, gso_size 176
  const ctx = skbCtx({ 8: 7, 32: 3, 36: 1, 48: 11, 52: 12, 56: 13, 60: 14, 64: 15, 152: 99, 164: 2, 176: 1400 });
  for (const [k, f] of frames.entries()) {
    step(`tc ctx ${k}`, () => tc.testRun({ data: f, ctxIn: ctx }));
    step(`socket ctx ${k}`, () => sock.testRun({ data: f, ctxIn: ctx }));
    step(`tc wire_len ${k}`, () => tc.testRun({ data: f, ctxIn: skbCtx({ 160: f.length + 100 }) }));
    const meta = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const withMeta = new Uint8Array([...meta, ...f]);
    step(`xdp meta ${k}`, () => xdp.testRun({ data: withMeta, ctxIn: xdpCtx(8, withMeta.length) }));
    step(`xdp ctx lo ${k}`, () => xdp.testRun({ data: f, ctxIn: xdpCtx(0, f.length, { 12: 1 }) }));
  }
  const f = FRAMES[0]!;
  step('tc short frame', () => tc.testRun({ data: f.subarray(0, 10) }));
  step('xdp short frame', () => xdp.testRun({ data: f.subarray(0, 10) }));
  step('tc len set in ctx', () => tc.testRun({ data: f, ctxIn: skbCtx({ 0: 60 }) }));
  step('tc tc_index set in ctx', () => tc.testRun({ data: f, ctxIn: skbCtx({ 44: 1 }) }));
  step('tc unknown ifindex', () => tc.testRun({ data: f, ctxIn: skbCtx({ 40: 9999 }) }));
  step('tc wire_len too small', () => tc.testRun({ data: f, ctxIn: skbCtx({ 160: 10 }) }));
  step('tc ctx longer, zero tail', () => tc.testRun({ data: f, ctxIn: new Uint8Array(200) }));
  step('tc ctx longer, tail set', () => tc.testRun({ data: f, ctxIn: new Uint8Array(200).fill(1, 196) }));
  step('xdp data_end past the data', () => xdp.testRun({ data: f, ctxIn: xdpCtx(0, f.length + 1) }));
  step('xdp data past data_end', () => xdp.testRun({ data: f, ctxIn: xdpCtx(f.length + 4, f.length) }));
  step('xdp data_meta set', () => xdp.testRun({ data: f, ctxIn: xdpCtx(0, f.length, { 8: 4 }) }));
  step('xdp egress_ifindex set', () => xdp.testRun({ data: f, ctxIn: xdpCtx(0, f.length, { 20: 1 }) }));
  step('xdp rx queue without device', () => xdp.testRun({ data: f, ctxIn: xdpCtx(0, f.length, { 16: 1 }) }));
  step('xdp unknown device', () => xdp.testRun({ data: f, ctxIn: xdpCtx(0, f.length, { 12: 9999 }) }));
  step('xdp meta not a multiple of 4', () => xdp.testRun({ data: f, ctxIn: xdpCtx(2, f.length) }));
  step('xdp repeat 5', () => xdp.testRun({ data: f, repeat: 5 }));
  out.push(...cols['xdp_count']!.map('proto_stats').entries().map(([k, v]) => `proto_stats ${hex(k)}=${hex(v)}`).sort());
  return out;
}

function ctxCollections(backend: 'vm' | 'kernel'): Record<string, Collection> {
  const cols: Record<string, Collection> = {};
  for (const n of ['tc_rewrite', 'socket_filter', 'xdp_count']) cols[n] = load(loadSpec(`${n}.o`), backend === 'vm' ? VM : { backend });
  return cols;
}

test('test-run ctx in and out, and the input the kernel refuses, agree on both backends', (t) => {
  const vmCols = ctxCollections('vm');
  const vmLines = ctxTranscript(vmCols);
  const line = (what: string): string => vmLines.find((l) => l.startsWith(`${what} -> `))!;
  assert.match(line('tc short frame'), /!EINVAL$/);
  assert.match(line('tc len set in ctx'), /!EINVAL$/);
  assert.match(line('xdp data_end past the data'), /!EINVAL$/);
  assert.match(line('tc unknown ifindex'), /!ENODEV$/);
  assert.match(line('tc ctx longer, tail set'), /!E2BIG$/);
  // The XDP metadata comes back in front of the packet, and ctx out says where the packet starts.
  assert.match(line('xdp meta 0'), / 0102030405060708[0-9a-f]+ ctx 08000000/);
  // A socket filter's data comes back with the Ethernet header zeroed.
  assert.match(line('socket ctx 0'), / 0{28}[0-9a-f]+ ctx /);
  // A data_end before the end of data asks Linux 6.18 for XDP fragments, which the vm does not have.
  const f = FRAMES[0]!;
  assert.throws(() => vmCols['xdp_count']!.program('xdp_count').testRun({ data: f, ctxIn: xdpCtx(0, f.length - 1) }),
    (e: unknown) => e instanceof CollectionError && e.errnoName === 'ENOTSUPP' && /fragments/.test(e.message));
  if (!needKernel(t)) return;
  const kCols = ctxCollections('kernel');
  try {
    assert.deepEqual(vmLines, ctxTranscript(kCols));
  } finally {
    for (const c of Object.values(kCols)) c.close();
  }
});

test('prog_array slots read and written by program name, on both backends', (t) => {
  const backends: Array<'vm' | 'kernel'> = ['vm'];
  if (needKernel(t)) backends.push('kernel');
  const seen: string[][] = [];
  for (const backend of backends) {
    using col = load(loadSpec('tail_calls.o'), backend === 'vm' ? VM : { backend });
    const jt = col.map('jmp_table');
    const lines: string[] = [];
    for (let i = 0; i < jt.maxEntries; i++) lines.push(`${i}=${jt.program(i) ?? ''}`);
    const first = jt.program(0)!;
    jt.setProgram(0, null);
    lines.push(`after clear: ${jt.program(0)}`);
    jt.setProgram(0, first);
    lines.push(`after set: ${jt.program(0)}`);
    assert.throws(() => jt.setProgram(0, 'nope'), (e: unknown) => e instanceof CollectionError && e.errnoName === 'EBADF');
    assert.throws(() => jt.program(jt.maxEntries), (e: unknown) => e instanceof CollectionError && e.errnoName === 'E2BIG');
    assert.ok(lines.some((l) => /^\d+=\w+/.test(l)));
    seen.push(lines);
  }
  if (seen.length === 2) assert.deepEqual(seen[0], seen[1]);
});

test('loading and closing kernel collections through the API leaks no fds', (t: TestContext) => {
  if (!needKernel(t)) return;
  const spec = loadSpec('ringbuf.o');
  const warm = load(spec, { backend: 'kernel' });
  warm.map('events').events();
  warm.close();
  const before = openFds();
  for (let k = 0; k < 20; k++) {
    using col = load(spec, { backend: 'kernel' });
    col.program(entryPrograms(spec)[0]!).testRun({ data: FRAMES[k]! });
    col.map('events').events();
  }
  assert.equal(openFds(), before);
});

test('a generated skeleton loads into the kernel with backend: \'kernel\' and reads the same typed maps and globals', async (t) => {
  const { loadXdpCount } = await import('./skel/xdp_count.skel.js');
  const { loadGlobals } = await import('./skel/globals.skel.js');
  const backends: Array<'vm' | 'kernel'> = ['vm'];
  if (needKernel(t)) backends.push('kernel');
  for (const backend of backends) {
    using skel = loadXdpCount({ backend });
    assert.equal(skel.backend, backend);
    for (const f of FRAMES) skel.loaded.program('xdp_count').testRun({ data: f });
    assert.deepEqual(skel.maps.proto_stats.lookup({ l3: 0x0800, l4: 6, vlan: 0 }), { packets: 183n, bytes: 55840n });
    if (backend === 'kernel') assert.throws(() => skel.collection, { code: 'EBACKEND' });
    using g = loadGlobals({ backend, globals: { rodata: { cfg_port: 80 } } });
    for (const f of FRAMES) g.loaded.program('xdp_globals').testRun({ data: f });
    assert.equal(g.globals.rodata.cfg_port, 80);
    assert.equal(g.globals.bss.seen, 332n);
  }
});
