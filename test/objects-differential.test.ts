// Every testdata object, run on every frame of the shipped capture in the vm
// (JIT and interpreter) and in the real kernel (BPF_PROG_TEST_RUN): return
// values, packet bytes and the final contents of every map must agree.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadObject, MapType, type MapSpec, type ObjectSpec } from '../src/object/index.js';
import { readCapture } from '../src/pcap/index.js';
import { loadVm, type VmCollection, type Engine } from '../src/vm/index.js';
import { SocketFilterHook, TcHook, XdpHook } from '../src/vm/hooks/index.js';
import { ProgArrayMap, QueueStackMap, type VmMap } from '../src/vm/maps/index.js';
import { drainEvents } from '../src/cli/map-dump.js';
import { entryPrograms } from '../src/cli/run-object.js';
import * as kernel from '../src/kernel/index.js';
import { hex } from './support/bytes.js';
import { needKernel } from './support/kernel.js';

const DIR = new URL('../../testdata/progs/', import.meta.url);
const OBJECTS = readdirSync(DIR).filter((f) => f.endsWith('.o')).sort();
const FRAMES = readCapture(new Uint8Array(readFileSync(new URL('../mixed.pcap', DIR)))).packets.map((p) => p.data);

/** What one run gives: r0 (32 bits, as the kernel reports it) and the frame after it. */
interface Outcome { ret: number; packet: string }

/** Maps as comparable text: sorted entries; percpu values summed per 8-byte word; events in order. */
type MapState = Record<string, string[]>;

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

const PERCPU: readonly number[] = [MapType.PERCPU_ARRAY, MapType.PERCPU_HASH, MapType.LRU_PERCPU_HASH];

function loadSpec(file: string): ObjectSpec {
  return loadObject(new Uint8Array(readFileSync(new URL(file, DIR))), file.replace(/\.o$/, ''));
}

function runVm(spec: ObjectSpec, engine: Engine): { outcomes: Outcome[]; maps: MapState } {
  const col: VmCollection = loadVm(spec, { engine, cpus: 2, printk: () => {} });
  const events: Record<string, string[]> = {};
  const outcomes: Outcome[] = [];
  const runners = entryPrograms(spec).map((name) => {
    const prog = col.programs.get(name)!;
    const runFn = (args: readonly bigint[], host: object, packet?: import('../src/vm/index.js').Region | null): bigint =>
      prog.run(args, { ...col.host(name), ...host } as never, packet ?? null).r0;
    switch (prog.spec.type) {
      case 'XDP': {
        const hook = new XdpHook(col.space);
        return (f: Uint8Array): Outcome => { const r = hook.run(f, runFn); return { ret: Number(r.r0 & 0xffffffffn), packet: hex(r.meta) + hex(r.packet) }; };
      }
      case 'SOCKET_FILTER': {
        const hook = new SocketFilterHook(col.space);
        return (f: Uint8Array): Outcome => { const r = hook.run(f, runFn); return { ret: Number(r.r0 & 0xffffffffn), packet: hex(r.packet) }; };
      }
      default: {
        const hook = new TcHook(col.space);
        return (f: Uint8Array): Outcome => { const r = hook.run(f, runFn); return { ret: Number(r.r0 & 0xffffffffn), packet: hex(r.packet) }; };
      }
    }
  });
  for (const f of FRAMES) {
    for (const run of runners) outcomes.push(run(f));
    for (const [name, m] of col.maps) {
      const got = drainEvents(m);
      if (got) (events[name] ??= []).push(...got.map(hex));
    }
  }
  const maps: MapState = {};
  for (const [name, m] of col.maps) maps[name] = events[name] ?? vmMapState(m, spec.maps.get(name)!);
  return { outcomes, maps };
}

function vmMapState(m: VmMap, spec: MapSpec): string[] {
  if (m instanceof ProgArrayMap) return m.keys().map((k) => `${hex(k)}=${m.getProgram(new DataView(k.buffer, k.byteOffset).getUint32(0, true))?.name ?? ''}`).sort();
  if (spec.type === MapType.BLOOM_FILTER) return [];
  if (m instanceof QueueStackMap) return m.values().map(hex);
  const per = PERCPU.includes(spec.type);
  return m.keys().map((k) => `${hex(k)}=${per ? sumWords(m.lookupPerCpu(k) ?? [], spec.valueSize) : hex(m.lookupValue(k) ?? new Uint8Array(0))}`).sort();
}

function runKernel(spec: ObjectSpec): { outcomes: Outcome[]; maps: MapState } {
  using col = kernel.loadCollection(spec);
  const readers = new Map<string, kernel.RingBufReader>();
  for (const [name, m] of col.maps) if (m.type === MapType.RINGBUF) readers.set(name, new kernel.RingBufReader(m));
  const events: Record<string, string[]> = {};
  const outcomes: Outcome[] = [];
  const progs = entryPrograms(spec).map((n) => col.programs.get(n)!);
  const names = new Map(entryPrograms(spec).map((n) => [col.programs.get(n)!, n]));
  try {
    for (const f of FRAMES) {
      for (const p of progs) {
        const r = kernel.progTestRun(p, { data: f });
        // A socket filter sees the frame after its Ethernet header; the
        // kernel hands the header back zeroed.
        const out = spec.programs.get(names.get(p)!)!.type === 'SOCKET_FILTER' ? r.dataOut.subarray(14) : r.dataOut;
        outcomes.push({ ret: r.retval, packet: hex(out) });
      }
      for (const [name, rd] of readers) (events[name] ??= []).push(...rd.read().map(hex));
    }
    const ids = new Map<number, string>();
    for (const [name, p] of col.programs) ids.set(kernel.progInfo(p.fd).id, name);
    const maps: MapState = {};
    for (const [name, m] of col.maps) {
      const s = spec.maps.get(name)!;
      if (events[name]) { maps[name] = events[name]; continue; }
      if (s.type === MapType.PROG_ARRAY) {
        maps[name] = [...m.keys()].map((k) => { const v = m.lookup(k); return `${hex(k)}=${v ? ids.get(new DataView(v.buffer, v.byteOffset).getUint32(0, true)) ?? '?' : ''}`; }).sort();
      } else if (s.type === MapType.BLOOM_FILTER) {
        maps[name] = [];
      } else if (PERCPU.includes(s.type)) {
        maps[name] = [...m.keys()].map((k) => `${hex(k)}=${sumWords(m.lookupPerCpu(k) ?? [], s.valueSize)}`).sort();
      } else {
        maps[name] = [...m.entries()].map(([k, v]) => `${hex(k)}=${hex(v)}`).sort();
      }
    }
    return { outcomes, maps };
  } finally {
    for (const rd of readers.values()) rd.close();
  }
}

function compare(name: string, a: { outcomes: Outcome[]; maps: MapState }, b: { outcomes: Outcome[]; maps: MapState }, what: string): void {
  assert.equal(a.outcomes.length, b.outcomes.length);
  for (let k = 0; k < a.outcomes.length; k++) {
    assert.deepEqual(a.outcomes[k], b.outcomes[k], `${name}: run ${k} differs (${what})`);
  }
  assert.deepEqual(a.maps, b.maps, `${name}: final maps differ (${what})`);
}

test('the testdata objects are all here', () => {
  assert.ok(OBJECTS.length >= 10, `only ${OBJECTS.length} objects`);
  assert.ok(FRAMES.length > 300);
});

for (const file of OBJECTS) {
  test(`${file}: the JIT and the interpreter agree on every frame`, () => {
    const spec = loadSpec(file);
    compare(file, runVm(spec, 'jit'), runVm(spec, 'interp'), 'jit vs interp');
  });

  test(`${file}: the vm and the kernel agree on every frame (return values, packets, maps)`, (t) => {
    if (!needKernel(t)) return;
    const spec = loadSpec(file);
    const k = runKernel(spec);
    const v = runVm(spec, 'jit');
    compare(file, v, k, 'vm vs kernel');
  });
}
