// The readers of the real kernel: the perf event array (per-CPU perf rings
// read through mmap) and the async iteration of both it and the ring buffer,
// waiting on epoll from koffi's async calls or a worker thread.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { assemble } from '../src/asm/index.js';
import { TsbpfError } from '../src/errors.js';
import {
  KernelMap,
  type LoadedProgram,
  PerfBufferError,
  type PerfSample,
  PerfEventArrayReader,
  RingBufReader,
  WAIT_STRATEGIES,
  type WaitStrategy,
  WaitError,
  pageSize,
  progLoad,
  progTestRun,
} from '../src/kernel/index.js';
import { MapType } from '../src/object/kinds.js';
import { needKernel, openFds } from './support/kernel.js';

const XDP_DROP = 1;
const XDP_PASS = 2;
/** BPF_F_CURRENT_CPU: the perf event array slot of the CPU the program runs on. */
const CURRENT_CPU = 0xffffffff;

const onlineCpus = (): number[] => {
  const out: number[] = [];
  for (const part of readFileSync('/sys/devices/system/cpu/online', 'utf8').trim().split(',')) {
    const [lo, hi] = part.split('-').map(Number);
    for (let c = lo!; c <= (hi ?? lo!); c++) out.push(c);
  }
  return out;
};

/** bpf_perf_event_output of the packet's first (byte0 & 31) + 1 bytes, copied to the stack; XDP_DROP when it fails. */
function perfOutputProg(map: KernelMap): LoadedProgram {
  return progLoad({
    type: 'XDP',
    name: 'perf_output',
    insns: assemble(`
      r6 = r1
      r2 = *(u32 *)(r1 + 0)
      r3 = *(u32 *)(r1 + 4)
      r4 = r2
      r4 += 32
      if r4 > r3 goto fail
      r4 = *(u64 *)(r2 + 0)
      *(u64 *)(r10 - 32) = r4
      r4 = *(u64 *)(r2 + 8)
      *(u64 *)(r10 - 24) = r4
      r4 = *(u64 *)(r2 + 16)
      *(u64 *)(r10 - 16) = r4
      r4 = *(u64 *)(r2 + 24)
      *(u64 *)(r10 - 8) = r4
      r5 = *(u8 *)(r2 + 0)
      r5 &= 31
      r5 += 1
      r1 = r6
      r2 = map_fd(${map.fd}) ll
      r3 = ${CURRENT_CPU} ll
      r4 = r10
      r4 += -32
      call 25
      if r0 != 0 goto fail
      r0 = ${XDP_PASS}
      exit
    fail:
      r0 = ${XDP_DROP}
      exit
    `),
  });
}

/** bpf_ringbuf_output of the packet's first 16 bytes. */
function ringOutputProg(rb: KernelMap): LoadedProgram {
  return progLoad({
    type: 'XDP',
    name: 'rb_output16',
    insns: assemble(`
      r2 = *(u32 *)(r1 + 0)
      r3 = *(u32 *)(r1 + 4)
      r4 = r2
      r4 += 16
      if r4 > r3 goto fail
      r4 = *(u64 *)(r2 + 0)
      *(u64 *)(r10 - 16) = r4
      r4 = *(u64 *)(r2 + 8)
      *(u64 *)(r10 - 8) = r4
      r1 = map_fd(${rb.fd}) ll
      r2 = r10
      r2 += -16
      r3 = 16
      r4 = 0
      call 130
      if r0 != 0 goto fail
      r0 = ${XDP_PASS}
      exit
    fail:
      r0 = ${XDP_DROP}
      exit
    `),
  });
}

/** A 64-byte packet: byte0 picks the length ((byte0 & 31) + 1), bytes 1..4 a sequence number, then a pattern. */
function packet(seq: number, len = 32): Uint8Array {
  const p = new Uint8Array(64);
  p[0] = (len - 1) & 31;
  new DataView(p.buffer).setUint32(1, seq, true);
  for (let i = 5; i < 64; i++) p[i] = (seq * 7 + i * 13) & 0xff;
  return p;
}

/** The raw size the kernel reports for an n-byte bpf_perf_event_output: padded so that size + 4 is 8-aligned. */
const rawSize = (n: number): number => ((n + 4 + 7) & ~7) - 4;
const seqOf = (data: Uint8Array): number => new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(1, true);

function emit(prog: LoadedProgram, seq: number, len = 32): void {
  assert.equal(progTestRun(prog, { data: packet(seq, len) }).retval, XDP_PASS, `perf output ${seq} failed`);
}

/** The sample an emit(seq, len) gives: the first len bytes, then kernel padding (not checked). */
function assertSample(s: PerfSample, seq: number, len: number, cpu?: number): void {
  assert.equal(s.data.byteLength, rawSize(len), `sample ${seq}: raw size`);
  assert.deepEqual(s.data.subarray(0, len), packet(seq, len).subarray(0, len), `sample ${seq}: bytes`);
  if (cpu !== undefined) assert.equal(s.cpu, cpu, `sample ${seq}: CPU`);
}

type Affinity = (pid: number, size: number, mask: Uint8Array) => number;
let affinity: { get: Affinity; set: Affinity } | undefined;

/** Runs f with the calling thread pinned to `cpu`, then restores its affinity. */
function onCpu<T>(cpu: number, f: () => T): T {
  if (!affinity) {
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const libc = koffi.load('libc.so.6');
    affinity = {
      get: libc.func('int sched_getaffinity(int, size_t, _Out_ uint8_t *)') as Affinity,
      set: libc.func('int sched_setaffinity(int, size_t, const uint8_t *)') as Affinity,
    };
  }
  const { get, set } = affinity;
  const saved = new Uint8Array(128);
  assert.equal(get(0, saved.byteLength, saved), 0, 'sched_getaffinity');
  const mask = new Uint8Array(128);
  mask[cpu >> 3] = 1 << (cpu & 7);
  assert.equal(set(0, mask.byteLength, mask), 0, `sched_setaffinity to CPU ${cpu}`);
  try {
    return f();
  } finally {
    set(0, saved.byteLength, saved);
  }
}

const perfArray = (name = 'perf_events') =>
  KernelMap.create({ name, type: MapType.PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: 0 });
const ringbuf = (size: number, name = 'rb_async') =>
  KernelMap.create({ name, type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: size });
/** Threads of this process. */
const threads = (): number => readdirSync('/proc/self/task').length;

test('perf event array: N samples from each CPU arrive in order with their bytes; close releases everything', (t) => {
  if (!needKernel(t)) return;
  const before = openFds();
  const cpus = onlineCpus();
  {
    using map = perfArray();
    using prog = perfOutputProg(map);
    using reader = new PerfEventArrayReader(map);
    assert.deepEqual([...reader.cpus], cpus.filter((c) => c < map.maxEntries));
    assert.equal(reader.ringSize, 8 * pageSize());
    assert.equal(openFds(), before + 2 + reader.cpus.length, 'one perf fd per CPU');
    assert.deepEqual(reader.read(), []);
    const N = 200;
    const lens: number[] = [];
    // the first half on the first CPU, the second on the last: read() gives ring by ring
    const emitted = new Map<number, number[]>();
    for (let seq = 0; seq < N; seq++) {
      const cpu = seq < N / 2 ? reader.cpus[0]! : reader.cpus[reader.cpus.length - 1]!;
      const len = (seq % 28) + 5; // 5..32: room for the sequence number
      lens.push(len);
      onCpu(cpu, () => emit(prog, seq, len));
      emitted.set(cpu, [...(emitted.get(cpu) ?? []), seq]);
    }
    const got = reader.read();
    assert.equal(got.length, N, 'every sample arrives');
    const expectedOrder = reader.cpus.flatMap((c) => emitted.get(c) ?? []);
    assert.deepEqual(got.map((s) => seqOf(s.data)), expectedOrder, 'in order, ring by ring');
    for (const s of got) {
      const seq = seqOf(s.data);
      assertSample(s, seq, lens[seq]!, seq < N / 2 ? reader.cpus[0] : reader.cpus[reader.cpus.length - 1]);
    }
    assert.equal(reader.lost, 0);
    assert.deepEqual(reader.read(), []);
    // read(limit) stops early and resumes where it stopped
    for (let seq = 0; seq < 5; seq++) onCpu(reader.cpus[0]!, () => emit(prog, 1000 + seq));
    assert.deepEqual(reader.read(2).map((s) => seqOf(s.data)), [1000, 1001]);
    assert.deepEqual(reader.read().map((s) => seqOf(s.data)), [1002, 1003, 1004]);
    reader.close();
    assert.equal(reader.closed, true);
    assert.throws(() => reader.read(), (e: unknown) => e instanceof PerfBufferError && e.code === 'ECLOSED');
    // the map's slots are emptied: the program's output now fails (ENOENT)
    assert.equal(progTestRun(prog, { data: packet(1) }).retval, XDP_DROP);
  }
  assert.equal(openFds(), before, 'no fd left behind');
});

test('perf rings of one page wrap around records; lost records are counted', (t) => {
  if (!needKernel(t)) return;
  const before = openFds();
  {
    using map = perfArray('perf_wrap');
    using prog = perfOutputProg(map);
    const cpu = onlineCpus()[0]!;
    const lostReports: Array<[number, number]> = [];
    using reader = new PerfEventArrayReader(map, { pages: 1, cpus: [cpu], onLost: (c, n) => lostReports.push([c, n]) });
    assert.equal(reader.ringSize, pageSize());
    // 48-byte records (8 header + 4 size + 36 raw) do not divide 4096: some straddle the end
    let seq = 0;
    for (let round = 0; round < 12; round++) {
      const first = seq;
      onCpu(cpu, () => {
        for (let k = 0; k < 60; k++) emit(prog, seq++, 32);
      });
      const got = reader.read();
      assert.equal(got.length, 60, `round ${round}`);
      got.forEach((s, k) => assertSample(s, first + k, 32, cpu));
    }
    assert.ok((seq * 48) / pageSize() > 8, 'went around the ring many times');
    assert.equal(reader.lost, 0);
    // overflow: 200 records of 48 bytes into 4096 bytes
    let accepted = 0;
    onCpu(cpu, () => {
      for (let k = 0; k < 200; k++) if (progTestRun(prog, { data: packet(seq++, 32) }).retval === XDP_PASS) accepted++;
    });
    const kept = reader.read();
    assert.ok(kept.length > 50 && kept.length < 100, `a full ring holds ${kept.length}`);
    // the kernel reports the loss with the next record it can write
    onCpu(cpu, () => emit(prog, seq++, 32));
    const after = reader.read();
    assert.equal(after.length, 1);
    assert.equal(reader.lost, 200 - kept.length, 'lost = emitted - kept');
    assert.deepEqual(lostReports, [[cpu, 200 - kept.length]]);
    assert.ok(accepted >= kept.length, 'bpf_perf_event_output fails (or not) per record');
  }
  assert.equal(openFds(), before);
});

test('perf reader: typed errors for a wrong map, bad options', (t) => {
  if (!needKernel(t)) return;
  const before = openFds();
  {
    using hash = KernelMap.create({ name: 'not_perf', type: MapType.HASH, keySize: 4, valueSize: 4, maxEntries: 4 });
    assert.throws(() => new PerfEventArrayReader(hash), (e: unknown) => e instanceof PerfBufferError && e.code === 'EPERFBUF');
    using map = perfArray('perf_bad');
    assert.throws(() => new PerfEventArrayReader(map, { pages: 3 }), (e: unknown) => e instanceof PerfBufferError && e.code === 'EARG');
    assert.throws(() => new PerfEventArrayReader(map, { cpus: [4096] }), (e: unknown) => e instanceof PerfBufferError && e.code === 'EARG');
    assert.throws(() => new PerfEventArrayReader(-1), (e: unknown) => e instanceof TsbpfError && e.code === 'EARG');
  }
  assert.equal(openFds(), before, 'failed constructors close what they opened');
});

for (const strategy of WAIT_STRATEGIES) {
  test(`ring buffer events() [${strategy}]: records produced while it waits arrive; ends on abort; no leak`, async (t) => {
    if (!needKernel(t)) return;
    const before = openFds();
    const threadsBefore = threads();
    {
      using rb = ringbuf(16 * pageSize());
      using prog = ringOutputProg(rb);
      using reader = new RingBufReader(rb);
      const ac = new AbortController();
      const N = 40;
      let produced = 0;
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 2);
      // batches of 8 from a timer, every 15 ms, after the iterator is waiting
      const producer = setInterval(() => {
        for (let k = 0; k < 8 && produced < N; k++) {
          assert.equal(progTestRun(prog, { data: packet(produced++) }).retval, XDP_PASS);
        }
        if (produced >= N) clearInterval(producer);
      }, 15);
      const got: Uint8Array[] = [];
      const started = Date.now();
      for await (const rec of reader.events({ signal: ac.signal, strategy })) {
        got.push(rec);
        if (got.length === N) ac.abort();
        assert.ok(Date.now() - started < 10_000, 'events keep coming');
      }
      clearInterval(ticker);
      clearInterval(producer);
      assert.equal(got.length, N);
      got.forEach((r, k) => assert.deepEqual(r, packet(k).subarray(0, 16), `record ${k}`));
      assert.ok(ticks > 10, `the event loop kept running while waiting (${ticks} ticks)`);
      // an aborted signal ends at once; a fresh one after abort too
      for await (const _ of reader.events({ signal: ac.signal, strategy })) assert.fail('aborted signal yields nothing');
      // records written before iteration are drained first
      for (let k = 0; k < 3; k++) progTestRun(prog, { data: packet(100 + k) });
      const ac2 = new AbortController();
      const early: number[] = [];
      for await (const rec of reader.events({ signal: ac2.signal, strategy })) {
        early.push(seqOf(rec));
        if (early.length === 3) setTimeout(() => ac2.abort(), 20); // abort while waiting
      }
      assert.deepEqual(early, [100, 101, 102]);
    }
    assert.equal(openFds(), before, 'no fd left behind (epoll, eventfd)');
    // libuv's pool may have started its threads for the async strategy; a worker thread is gone once the loop ends
    if (strategy === 'worker') assert.equal(threads(), threadsBefore, 'no worker thread left behind');
  });

  test(`perf events() [${strategy}]: samples from every CPU while it waits; close() ends it; no leak`, async (t) => {
    if (!needKernel(t)) return;
    const before = openFds();
    {
      using map = perfArray('perf_async');
      using prog = perfOutputProg(map);
      const reader = new PerfEventArrayReader(map, { pages: 2 });
      const N = 30;
      let produced = 0;
      const producer = setInterval(() => {
        const cpu = reader.cpus[produced % reader.cpus.length]!;
        onCpu(cpu, () => emit(prog, produced++, 24));
        if (produced >= N) clearInterval(producer);
      }, 5);
      const got: PerfSample[] = [];
      for await (const s of reader.events({ strategy })) {
        got.push(s);
        if (got.length === N) setTimeout(() => reader.close(), 10); // close while waiting
      }
      clearInterval(producer);
      assert.equal(reader.closed, true);
      assert.equal(got.length, N);
      // each CPU's samples in order; across CPUs, ring by ring within a wake-up
      for (const cpu of reader.cpus) {
        const mine = got.filter((s) => s.cpu === cpu).map((s) => seqOf(s.data));
        assert.deepEqual(mine, [...mine].sort((x, y) => x - y), `CPU ${cpu} in order`);
      }
      const bySeq = [...got].sort((x, y) => seqOf(x.data) - seqOf(y.data));
      bySeq.forEach((s, k) => assertSample(s, k, 24, reader.cpus[k % reader.cpus.length]));
      // breaking out of the loop also releases the waiter
      using reader2 = new PerfEventArrayReader(map, { pages: 1 });
      onCpu(reader2.cpus[0]!, () => emit(prog, 7, 8));
      for await (const s of reader2.events({ strategy })) {
        assertSample(s, 7, 8);
        break;
      }
    }
    assert.equal(openFds(), before, 'no fd left behind (perf, epoll, eventfd)');
  });
}

test('batches(): one array per read, at most `batch` records each', async (t) => {
  if (!needKernel(t)) return;
  const before = openFds();
  {
    using rb = ringbuf(4 * pageSize(), 'rb_batches');
    using prog = ringOutputProg(rb);
    using reader = new RingBufReader(rb);
    for (let k = 0; k < 5; k++) progTestRun(prog, { data: packet(k) });
    const ac = new AbortController();
    const sizes: number[] = [];
    const seqs: number[] = [];
    for await (const b of reader.batches({ signal: ac.signal, batch: 2 })) {
      sizes.push(b.length);
      seqs.push(...b.map(seqOf));
      if (seqs.length === 5) setTimeout(() => progTestRun(prog, { data: packet(5) }), 10);
      if (seqs.length === 6) ac.abort();
    }
    assert.deepEqual(sizes, [2, 2, 1, 1]);
    assert.deepEqual(seqs, [0, 1, 2, 3, 4, 5]);
  }
  assert.equal(openFds(), before);
});

test('events(): an unknown wait strategy is a typed error', async (t) => {
  if (!needKernel(t)) return;
  using rb = ringbuf(pageSize(), 'rb_strategy');
  using reader = new RingBufReader(rb);
  const it = reader.events({ strategy: 'threads' as WaitStrategy });
  await assert.rejects(it.next(), (e: unknown) => e instanceof WaitError && e.code === 'EARG');
});

test('process.exit() with an iteration waiting on an idle ring does not hang, with either strategy', (t) => {
  if (!needKernel(t)) return;
  const kernel = new URL('../src/kernel/index.js', import.meta.url).href;
  for (const strategy of WAIT_STRATEGIES) {
    const code = `
      import { KernelMap, RingBufReader } from ${JSON.stringify(kernel)};
      const rb = KernelMap.create({ name: 'rb_exit', type: 27, keySize: 0, valueSize: 0, maxEntries: 4096 });
      const reader = new RingBufReader(rb);
      (async () => { for await (const _ of reader.events({ strategy: ${JSON.stringify(strategy)} })) {} })();
      setTimeout(() => { console.log(Date.now()); process.exit(3); }, 200);
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { timeout: 10_000, encoding: 'utf8' });
    const ms = Date.now() - Number(r.stdout.trim());
    assert.equal(r.status, 3, `${strategy}: exit status ${String(r.status)} (signal ${String(r.signal)}): ${r.stderr}`);
    // the exit hook wakes the blocked thread at once; without it, exit waits out epoll_wait's 1 s timeout
    assert.ok(ms < 500, `${strategy}: exiting took ${ms} ms after process.exit()`);
  }
});

