import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { assemble } from '../src/asm/index.js';
import { TsbpfError } from '../src/errors.js';
import {
  KernelError,
  KernelMap,
  type LoadedProgram,
  RingBufError,
  RingBufReader,
  pageSize,
  progLoad,
  progTestRun,
} from '../src/kernel/index.js';
import { MapType } from '../src/object/kinds.js';
import { needKernel, openFds } from './support/kernel.js';

const XDP_DROP = 1;
const XDP_PASS = 2;

const ringbuf = (size: number, name = 'rb') =>
  KernelMap.create({ name, type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: size });

/** bpf_ringbuf_output of the packet's first (byte0 & 15) + 1 bytes, copied to the stack; XDP_DROP when it fails. */
function outputProg(rb: KernelMap): LoadedProgram {
  return progLoad({
    type: 'XDP',
    name: 'rb_output',
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
      r3 = *(u8 *)(r2 + 0)
      r3 &= 15
      r3 += 1
      r1 = map_fd(${rb.fd}) ll
      r2 = r10
      r2 += -16
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

/** bpf_ringbuf_reserve of 16 bytes, filled with the packet's first 16; discarded when byte1 & 1, else submitted. */
function reserveProg(rb: KernelMap): LoadedProgram {
  return progLoad({
    type: 'XDP',
    name: 'rb_reserve',
    insns: assemble(`
      r7 = *(u32 *)(r1 + 0)
      r8 = *(u32 *)(r1 + 4)
      r2 = r7
      r2 += 16
      if r2 > r8 goto fail
      r1 = map_fd(${rb.fd}) ll
      r2 = 16
      r3 = 0
      call 131
      if r0 == 0 goto fail
      r1 = *(u64 *)(r7 + 0)
      *(u64 *)(r0 + 0) = r1
      r1 = *(u64 *)(r7 + 8)
      *(u64 *)(r0 + 8) = r1
      r1 = r0
      r2 = 0
      r3 = *(u8 *)(r7 + 1)
      if r3 & 1 goto discard
      call 132
      r0 = ${XDP_PASS}
      exit
    discard:
      call 133
      r0 = ${XDP_PASS}
      exit
    fail:
      r0 = ${XDP_DROP}
      exit
    `),
  });
}

/** A 64-byte packet: byte0 picks the output length, byte1 bit 0 asks for a discard, bytes 2..5 a sequence number. */
function packet(seq: number, lenSel: number, discard: boolean): Uint8Array {
  const p = new Uint8Array(64);
  p[0] = lenSel & 15;
  p[1] = discard ? 1 : 0;
  new DataView(p.buffer).setUint32(2, seq, true);
  for (let i = 6; i < 16; i++) p[i] = (seq * 31 + i) & 0xff;
  return p;
}

const recordBytes = (len: number): number => (len + 8 + 7) & ~7;

interface Op {
  kind: 'output' | 'submit' | 'discard';
  seq: number;
  lenSel: number;
}

/** Runs one operation; returns the expected record (null for a discard), or undefined when the ring was full. */
function runOp(progs: { out: LoadedProgram; res: LoadedProgram }, o: Op): { record: Uint8Array | null; bytes: number } | undefined {
  const data = packet(o.seq, o.lenSel, o.kind === 'discard');
  const r = progTestRun(o.kind === 'output' ? progs.out : progs.res, { data });
  if (r.retval === XDP_DROP) return undefined;
  assert.equal(r.retval, XDP_PASS);
  if (o.kind === 'output') {
    const len = (o.lenSel & 15) + 1;
    return { record: data.slice(0, len), bytes: recordBytes(len) };
  }
  return { record: o.kind === 'discard' ? null : data.slice(0, 16), bytes: recordBytes(16) };
}

/** Deterministic xorshift so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

function randomOp(next: () => number, seq: number): Op {
  const k = next() % 4;
  return { kind: k < 2 ? 'output' : k === 2 ? 'submit' : 'discard', seq, lenSel: next() & 15 };
}

const bpfMapMappings = (): number => readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes('bpf-map')).length;
const mapsLines = (): number => readFileSync('/proc/self/maps', 'utf8').split('\n').length;
test('records come back in order, discarded ones skipped, positions advance by 8-byte-rounded records', (t) => {
  if (!needKernel(t)) return;
  const size = 4 * pageSize();
  using rb = ringbuf(size);
  using out = outputProg(rb);
  using res = reserveProg(rb);
  using reader = new RingBufReader(rb);
  assert.equal(reader.size, size);
  assert.equal(reader.available, 0);
  assert.deepEqual(reader.read(), []);

  const next = rng(7);
  const expected: Uint8Array[] = [];
  let bytes = 0;
  let discards = 0;
  for (let seq = 0; seq < 60; seq++) {
    const o = randomOp(next, seq);
    const got = runOp({ out, res }, o);
    assert.ok(got, `op ${seq} found the ring full`);
    if (got.record) expected.push(got.record);
    else discards++;
    bytes += got.bytes;
  }
  assert.ok(discards > 5, 'some records were discarded');
  assert.equal(reader.available, bytes, 'producer - consumer counts headers, padding and discarded records');
  assert.equal(reader.producerPosition, BigInt(bytes));

  const first = reader.read(3);
  assert.deepEqual(first, expected.slice(0, 3), 'read(limit) returns the first records');
  const rest = reader.read();
  assert.deepEqual(rest, expected.slice(3));
  assert.equal(reader.available, 0);
  assert.equal(reader.consumerPosition, BigInt(bytes));
  assert.deepEqual(reader.read(), []);
  assert.deepEqual(reader.read(0), []);

  // a reader built from the bare fd asks the kernel for the size
  progTestRun(out, { data: packet(1000, 5, false) });
  using byFd = new RingBufReader(rb.fd);
  assert.equal(byFd.size, size);
  assert.deepEqual(byFd.read(), [packet(1000, 5, false).slice(0, 6)]);
  assert.equal(reader.available, 0, 'both readers share the one consumer position');
});

test('a 4096-byte ring filled to ENOSPC and drained many times wraps around', (t) => {
  if (!needKernel(t)) return;
  const size = pageSize();
  using rb = ringbuf(size, 'rb_wrap');
  using out = outputProg(rb);
  using res = reserveProg(rb);
  using reader = new RingBufReader(rb, size);
  const next = rng(12345);
  let seq = 0;
  let pos = 0;
  let straddled = 0;
  const rounds = 8;
  for (let round = 0; round < rounds; round++) {
    const expected: Uint8Array[] = [];
    // fill until the kernel refuses: some rounds stop on an output, some on a reserve
    for (;;) {
      const o = randomOp(next, seq++);
      const got = runOp({ out, res }, o);
      if (!got) break;
      if (got.record) expected.push(got.record);
      const at = pos % size;
      if (at + got.bytes > size) straddled++;
      pos += got.bytes;
      assert.ok(expected.length < size, 'the ring must fill up');
    }
    assert.ok(reader.available > size - 32, `round ${round}: the ring is nearly full (${reader.available} of ${size})`);
    // drain in two steps: a limited read first
    const head = reader.read(5);
    const tail = reader.read();
    assert.deepEqual([...head, ...tail], expected, `round ${round}`);
    assert.equal(reader.consumerPosition, BigInt(pos));
    assert.equal(reader.available, 0);
  }
  assert.ok(pos > 4 * size, `positions went ${pos / size} times around the ring`);
  assert.ok(straddled > 0, 'some record wrapped around the end of the data area');
});

test('close() unmaps; records stay valid; no fd or mapping leak', (t) => {
  if (!needKernel(t)) return;
  const beforeMappings = bpfMapMappings();
  const beforeLines = mapsLines();
  const beforeFds = openFds();
  using rb = ringbuf(2 * pageSize(), 'rb_close');
  using out = outputProg(rb);
  const fdsWithMap = openFds();
  const reader = new RingBufReader(rb);
  assert.equal(openFds(), fdsWithMap, 'the reader opens no fd');
  assert.equal(bpfMapMappings(), beforeMappings + 2, 'consumer page + producer page and data');
  progTestRun(out, { data: packet(1, 15, false) });
  const records = reader.read();
  reader.close();
  assert.equal(reader.closed, true);
  assert.equal(bpfMapMappings(), beforeMappings, 'close() unmaps both regions');
  assert.deepEqual(records, [packet(1, 15, false).slice(0, 16)], 'records are copies, readable after close');
  assert.throws(() => reader.read(), (e: unknown) => e instanceof RingBufError && e.code === 'ECLOSED');
  assert.throws(() => reader.available, (e: unknown) => e instanceof RingBufError && e.code === 'ECLOSED');
  reader.close(); // idempotent

  // many readers opened and closed leave nothing behind
  for (let k = 0; k < 50; k++) {
    using r = new RingBufReader(rb);
    r.read();
  }
  assert.equal(bpfMapMappings(), beforeMappings);
  out.close();
  rb.close();
  assert.equal(openFds(), beforeFds);
  const lines = mapsLines();
  // the heap may have grown a mapping or two meanwhile; 50 leaked readers would add 100
  assert.ok(lines <= beforeLines + 8, `/proc/self/maps went from ${beforeLines} to ${lines} lines`);
});

test('typed errors: wrong map type, bad size, mmap failure with errno, bad arguments', (t) => {
  if (!needKernel(t)) return;
  const before = bpfMapMappings();
  using arr = KernelMap.create({ name: 'not_rb', type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
  assert.throws(() => new RingBufReader(arr), (e: unknown) => e instanceof RingBufError && e.code === 'ERINGBUF' && /array/i.test(e.message));
  // told the size, the reader trusts it: mmap of an array without BPF_F_MMAPABLE fails with an errno
  assert.throws(() => new RingBufReader(arr, pageSize()), (e: unknown) => {
    assert.ok(e instanceof KernelError, String(e));
    assert.equal(e.command, 'mmap');
    assert.ok(e.errno > 0);
    return true;
  });
  using rb = ringbuf(pageSize(), 'rb_err');
  // a data area twice the real one: the consumer page maps, the producer part fails and the consumer page is unmapped again
  assert.throws(() => new RingBufReader(rb, 2 * pageSize()), (e: unknown) => e instanceof KernelError && e.command === 'mmap' && e.errno > 0);
  assert.equal(bpfMapMappings(), before, 'a failed constructor leaves no mapping');
  assert.throws(() => new RingBufReader(rb, 3000), (e: unknown) => e instanceof RingBufError && e.code === 'ERINGBUF');
  assert.throws(() => new RingBufReader(rb, 3 * pageSize()), (e: unknown) => e instanceof RingBufError && e.code === 'ERINGBUF');
  assert.throws(() => new RingBufReader(-1), (e: unknown) => e instanceof TsbpfError && e.code === 'EARG');
  using reader = new RingBufReader(rb);
  assert.throws(() => reader.read(-1), (e: unknown) => e instanceof TsbpfError && e.code === 'EARG');
  assert.throws(() => reader.read(Number.NaN), (e: unknown) => e instanceof TsbpfError && e.code === 'EARG');
});
