// The kernel's BPF helpers in the vm (src/vm/helpers): ids, results, errno returns and faults, on both engines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { assemble } from '../src/asm/index.js';
import { MapType } from '../src/object/kinds.js';
import { AddressSpace, ENGINES, RunExit, Vm, VmFault, defaultHelpers, stackFrames, type Engine, type RunHost } from '../src/vm/index.js';
import { Errno, MAX_TAIL_CALL_CNT, commonHelpers, type HelperHost, type TailCall } from '../src/vm/helpers/index.js';
import { PerfEventArrayMap, ProgArrayMap, RingBufMap, createMap, type VmMap } from '../src/vm/maps/index.js';

const neg = (errno: number): bigint => BigInt.asUintN(64, BigInt(-errno));
const enc = new TextEncoder();
const dec = new TextDecoder();

/** One address space with stack frames, a host, and programs run over them. */
class World {
  readonly space = new AddressSpace();
  readonly frames = stackFrames(this.space);
  constructor(readonly engine: Engine, public host: Partial<HelperHost> = {}) {}

  /** Maps a region holding `init` (bytes, a string without its NUL, or a size); returns its address. */
  region(init: Uint8Array | string | number, writable = true): number {
    const bytes = typeof init === 'string' ? enc.encode(init) : typeof init === 'number' ? new Uint8Array(init) : init;
    const r = this.space.map('test', 'mem', bytes.length, writable);
    this.space.u8.set(bytes, r.start);
    return r.start;
  }
  run(src: string, args: readonly (bigint | number)[] = []): bigint {
    const host = { cpu: 0, ...this.host } as RunHost;
    const vm = new Vm(assemble(src), { engine: this.engine, space: this.space, frames: this.frames, host });
    return vm.run({ args: args.map(BigInt) }).r0;
  }
  /** Runs `call id; exit` with r1-r5 = args. */
  call(id: number, ...args: (bigint | number)[]): bigint {
    return this.run(`call ${id}\nexit`, args);
  }
  read(addr: number, n: number): Uint8Array {
    return this.space.u8.slice(addr, addr + n);
  }
  u64(addr: number): bigint {
    return this.space.view.getBigUint64(addr, true);
  }
  map(type: number, keySize: number, valueSize: number, maxEntries: number): VmMap {
    return createMap(this.space, { name: `m${type}`, type, keySize, valueSize, maxEntries, flags: 0 }, { cpus: 2 });
  }
}

const fault = (code: string, insn: number, re: RegExp) => (e: unknown): boolean =>
  e instanceof VmFault && e.code === code && e.insn === insn && re.test(e.message);

test('every helper has the id of bpf_helper_defs.h, and defaultHelpers() has them all', () => {
  const helpers = commonHelpers().list();
  assert.ok(helpers.length >= 40, `${helpers.length} helpers`);
  assert.deepEqual(defaultHelpers().list().map((h) => h.id), helpers.map((h) => h.id));
  const expected = new Map<string, number>([
    ['map_lookup_elem', 1], ['trace_printk', 6], ['tail_call', 12], ['csum_diff', 28], ['strtol', 105],
    ['ringbuf_reserve', 131], ['for_each_map_elem', 164], ['snprintf', 165], ['loop', 181], ['strncmp', 182],
  ]);
  const header = '/usr/include/bpf/bpf_helper_defs.h';
  if (existsSync(header)) {
    for (const line of readFileSync(header, 'utf8').split('\n')) {
      const m = /\(\*\s*(?:const\s+)?bpf_(\w+)\)\(.*\)\s*=\s*\(void \*\)\s*(\d+);/.exec(line);
      if (m) expected.set(m[1]!, Number(m[2]));
    }
  }
  for (const h of helpers) assert.equal(h.id, expected.get(h.name), `bpf_${h.name}`);
  assert.equal(commonHelpers().byName('bpf_get_current_comm')?.id, 16);
});

for (const engine of ENGINES) {
  test(`${engine}: clocks come from the host, with the kernel's relations between them`, () => {
    const w = new World(engine, { clock: () => 2_512_345_678n, realtime: () => 1_700_000_000_123_456_789n, suspendedNs: 1000n, hz: 100 });
    assert.equal(w.call(5), 2_512_345_678n);
    assert.equal(w.call(125), 2_512_346_678n);
    assert.equal(w.call(160), 2_510_000_000n, 'coarse: whole ticks of 10 ms');
    assert.equal(w.call(118), 2n ** 32n - 300n * 100n + 251n, 'jiffies from INITIAL_JIFFIES');
    assert.equal(w.call(208), 1_700_000_000_123_456_789n);
    const real = new World(engine);
    assert.ok(BigInt.asIntN(64, real.run('call 5\nr6 = r0\ncall 5\nr0 -= r6\nexit')) >= 0n, 'monotonic');
    assert.ok(real.call(125) >= real.call(5) - 1_000_000n);
    w.host = { clock: 5 as unknown as () => bigint };
    assert.throws(() => w.call(5), fault('EHELPER', 0, /bpf_ktime_get_ns: needs a clock.*host\.clock/));
  });

  test(`${engine}: prandom, CPU and NUMA node come from the host`, () => {
    const w = new World(engine, { random: () => 0xdeadbeef, cpu: 3, numaNode: 1 });
    assert.equal(w.call(7), 0xdeadbeefn);
    assert.equal(w.call(8), 3n);
    assert.equal(w.call(42), 1n);
    const r = new World(engine).call(7);
    assert.ok(r >= 0n && r < 2n ** 32n);
  });

  test(`${engine}: task helpers read host.task; without one they return -EINVAL`, () => {
    const task = { pid: 1234, tgid: 1200, uid: 1000, gid: 100, comm: 'tsbpf-test-process' };
    const w = new World(engine, { task });
    assert.equal(w.call(14), (1200n << 32n) | 1234n);
    assert.equal(w.call(15), (100n << 32n) | 1000n);
    const buf = w.region(24);
    w.space.u8.fill(0xff, buf, buf + 24);
    assert.equal(w.call(16, buf, 24), 0n);
    assert.deepEqual(w.read(buf, 24), Uint8Array.from([...enc.encode('tsbpf-test-proc'), ...new Uint8Array(9)]), '15 bytes and NULs');
    w.space.u8.fill(0xff, buf, buf + 24);
    assert.equal(w.call(16, buf, 4), 0n);
    assert.deepEqual(w.read(buf, 5), Uint8Array.from([...enc.encode('tsb'), 0, 0xff]));
    const none = new World(engine, { task: null });
    assert.equal(none.call(14), neg(Errno.EINVAL));
    assert.equal(none.call(15), neg(Errno.EINVAL));
    const nbuf = none.region(Uint8Array.of(1, 2, 3, 4));
    assert.equal(none.call(16, nbuf, 4), neg(Errno.EINVAL));
    assert.deepEqual(none.read(nbuf, 4), new Uint8Array(4), 'the buffer is zeroed');
    assert.throws(() => none.call(16, 0x20, 4), fault('EFAULT', 0, /bpf_get_current_comm: buf: write of 4 bytes at 0x20/));
    const bad = new World(engine, { task: { pid: 'x' } as unknown as HelperHost['task'] });
    assert.throws(() => bad.call(14), fault('EHELPER', 0, /host\.task/));
  });

  test(`${engine}: probe_read copies from any region; a bad source zero-fills and returns -EFAULT`, () => {
    const w = new World(engine);
    const src = w.region('hello\0world', false);
    const dst = w.region(16);
    for (const id of [4, 112, 113, 148]) {
      w.space.u8.fill(0xaa, dst, dst + 16);
      assert.equal(w.call(id, dst, 11, src), 0n);
      assert.deepEqual(w.read(dst, 12), Uint8Array.from([...enc.encode('hello\0world'), 0xaa]));
      w.space.u8.fill(0xaa, dst, dst + 16);
      assert.equal(w.call(id, dst, 8, 0x1000), neg(Errno.EFAULT));
      assert.deepEqual(w.read(dst, 9), Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0xaa]));
      assert.equal(w.call(id, dst, 12, src), neg(Errno.EFAULT), 'one byte past the region');
      assert.equal(w.call(id, dst, 0, 0), 0n);
    }
    assert.throws(() => w.run('r0 = 0\ncall 113\nexit', [src + 2, 4, src]),
      fault('EFAULT', 1, /bpf_probe_read_kernel: dst: write of 4 bytes at 0x[0-9a-f]+ into read-only region test/));
    assert.throws(() => w.call(113, dst, 17, src), fault('EFAULT', 0, /runs past the end of region test/));
  });

  test(`${engine}: probe_read_str copies up to a NUL and returns its length with the NUL`, () => {
    const w = new World(engine);
    const src = w.region('hello\0world', false);
    const noNul = w.region('abc', false);
    const dst = w.region(16);
    for (const id of [45, 114, 115]) {
      w.space.u8.fill(0xaa, dst, dst + 16);
      assert.equal(w.call(id, dst, 16, src), 6n);
      assert.deepEqual(w.read(dst, 7), Uint8Array.from([...enc.encode('hello\0'), 0xaa]), 'nothing past the NUL');
      assert.equal(w.call(id, dst, 3, src), 3n, 'truncated: size - 1 bytes and a NUL');
      assert.deepEqual(w.read(dst, 3), enc.encode('he\0'));
      assert.equal(w.call(id, dst, 8, noNul), neg(Errno.EFAULT), 'the string runs off its region');
      assert.deepEqual(w.read(dst, 8), new Uint8Array(8));
      assert.equal(w.call(id, dst, 3, noNul), 3n, 'the last byte read is the region\'s last');
      assert.deepEqual(w.read(dst, 3), enc.encode('ab\0'));
      assert.equal(w.call(id, dst, 0, 0), 0n);
    }
  });

  test(`${engine}: strtol / strtoul parse like the kernel and write the result`, () => {
    const w = new World(engine);
    const res = w.region(8);
    const cases: Array<[string, number, bigint, bigint, bigint, bigint]> = [
      // text, flags, strtol ret, strtol res, strtoul ret, strtoul res
      ['  -0x1f', 0, 7n, -31n, neg(Errno.EINVAL), 0n],
      ['123abc', 10, 3n, 123n, 3n, 123n],
      ['0777', 0, 4n, 511n, 4n, 511n],
      ['0x', 0, 1n, 0n, 1n, 0n],
      ['0x', 16, neg(Errno.EINVAL), 0n, neg(Errno.EINVAL), 0n],
      ['9223372036854775808', 10, neg(Errno.ERANGE), 0n, 19n, 2n ** 63n],
      ['-9223372036854775808', 10, 20n, -(2n ** 63n), neg(Errno.EINVAL), 0n],
      ['18446744073709551616', 10, neg(Errno.ERANGE), 0n, neg(Errno.ERANGE), 0n],
      ['\t\n 42', 0, 5n, 42n, 5n, 42n],
      ['0X1A', 16, 4n, 26n, 4n, 26n],
      ['+5', 10, neg(Errno.EINVAL), 0n, neg(Errno.EINVAL), 0n],
      ['12', 3, neg(Errno.EINVAL), 0n, neg(Errno.EINVAL), 0n],
      ['12', 0x2a, neg(Errno.EINVAL), 0n, neg(Errno.EINVAL), 0n],
      ['-', 0, neg(Errno.EINVAL), 0n, neg(Errno.EINVAL), 0n],
    ];
    for (const [text, flags, lret, lres, uret, ures] of cases) {
      const buf = w.region(text, false);
      for (const [id, r, v] of [[105, lret, lres], [106, uret, ures]] as const) {
        w.space.view.setBigUint64(res, 0x5a5a5a5an, true);
        assert.equal(w.call(id, buf, text.length, flags, res), r, `${id} ${JSON.stringify(text)}`);
        assert.equal(w.u64(res), BigInt.asUintN(64, v), `${id} ${JSON.stringify(text)} result`);
      }
    }
    const digits = w.region('12345', false);
    assert.equal(w.call(105, digits, 3, 10, res), 3n, 'only buf_len bytes are parsed');
    assert.equal(w.u64(res), 123n);
    assert.throws(() => w.call(105, digits, 3, 10, digits), fault('EFAULT', 0, /bpf_strtol: res: write of 8 bytes/));
  });

  test(`${engine}: strncmp compares at most s1_sz bytes against a constant string`, () => {
    const w = new World(engine);
    const s = (t: string): number => w.region(`${t}\0`, false);
    assert.equal(w.call(182, s('abc'), 3, s('abd')), neg(1));
    assert.equal(w.call(182, s('abc'), 2, s('abd')), 0n);
    assert.equal(w.call(182, s('b'), 1, s('a')), 1n);
    assert.equal(w.call(182, s('ab\0x'), 5, s('ab')), 0n, 'stops at the NUL');
    assert.equal(w.call(182, s('\xff'), 1, s('a')), 1n, 'bytes compare unsigned');
    assert.throws(() => w.call(182, s('a'), 1, w.region('abc', false)), fault('EFAULT', 0, /bpf_strncmp: s2 .* has no NUL/));
  });

  test(`${engine}: trace_printk formats one line into host.printk and returns its length`, () => {
    const lines: string[] = [];
    const w = new World(engine, { printk: (t) => lines.push(t) });
    const fmt = (t: string): number => w.region(`${t}\0`, false);
    const f = fmt('pid %d: %s (%lx)\n');
    const name = w.region('init\0', false);
    assert.equal(w.call(6, f, 18, 7, name, 0xbeef), 19n);
    assert.deepEqual(lines, ['pid 7: init (beef)\n']);
    // A format from the stack, as clang emits it.
    const stack = `
      r1 = 0x0a7825203d2078 ll
      *(u64 *)(r10 - 8) = r1
      r1 = r10
      r1 += -8
      r2 = 8
      r3 = 255
      call 6
      exit`;
    assert.equal(w.run(stack), 7n);
    assert.equal(lines[1], 'x = ff\n');
    assert.equal(w.call(6, fmt('%d %d %d %d'), 12, 1, 2, 3), neg(Errno.EINVAL), 'four specifiers, three arguments');
    assert.equal(w.call(6, fmt('%q'), 3, 1, 2, 3), neg(Errno.EINVAL));
    assert.equal(w.call(6, w.region('abc', false), 3, 0, 0, 0), neg(Errno.EINVAL), 'no NUL within fmt_size');
    assert.equal(lines.length, 2, 'nothing printed on errors');
    assert.equal(w.call(6, fmt('%1100d'), 7, 5, 0, 0), 1100n, 'the whole length is returned');
    assert.equal(lines[2]!.length, 1023, 'the line is cut at 1023 bytes');
    assert.throws(() => new World(engine).call(6, f, 18, 1, 2, 3), fault('EHELPER', 0, /bpf_trace_printk: needs an output stream .*host has no printk/));
  });

  test(`${engine}: trace_vprintk, snprintf, seq_printf and seq_write take their arguments as a u64 array`, () => {
    const lines: string[] = [];
    const chunks: string[] = [];
    let room = 64;
    const seq = { write: (b: Uint8Array): boolean => (b.length <= room ? ((room -= b.length), chunks.push(dec.decode(b)), true) : false) };
    const w = new World(engine, { printk: (t) => lines.push(t), seq });
    const fmt = w.region('%s=%u%c\0', false);
    const name = w.region('n\0', false);
    const data = w.region(13 * 8);
    [BigInt(name), 42n, 33n].forEach((v, k) => w.space.view.setBigUint64(data + 8 * k, v, true));
    assert.equal(w.call(177, fmt, 8, data, 24), 5n);
    assert.equal(lines[0], 'n=42!');
    assert.equal(w.call(177, fmt, 8, data, 20), neg(Errno.EINVAL), 'data_len not a multiple of 8');
    assert.equal(w.call(177, fmt, 8, data, 13 * 8), neg(Errno.EINVAL), 'more than 12 arguments');
    assert.equal(w.call(177, fmt, 8, 0, 8), neg(Errno.EINVAL), 'NULL data');
    const out = w.region(8);
    w.space.u8.fill(0xaa, out, out + 8);
    assert.equal(w.call(165, out, 4, fmt, data, 24), 6n, 'snprintf returns the whole length plus the NUL');
    assert.deepEqual(w.read(out, 5), Uint8Array.from([...enc.encode('n=4'), 0, 0xaa]));
    assert.equal(w.call(165, 0, 0, fmt, data, 24), 6n, 'a NULL buffer of size 0');
    assert.throws(() => w.call(165, out, 9, fmt, data, 24), fault('EFAULT', 0, /bpf_snprintf: str: write of 9 bytes/));
    assert.equal(w.call(126, 1, fmt, 8, data, 24), 0n);
    assert.equal(w.call(127, 1, name, 1), 0n);
    assert.deepEqual(chunks, ['n=42!', 'n']);
    room = 3;
    assert.equal(w.call(126, 1, fmt, 8, data, 24), neg(Errno.EOVERFLOW));
    assert.equal(w.call(127, 1, data, 8), neg(Errno.EOVERFLOW));
    assert.throws(() => new World(engine).call(127, 1, name, 1), fault('EHELPER', 0, /bpf_seq_write: needs a seq_file/));
  });

  test(`${engine}: csum_diff runs on program buffers and checks its pointers`, () => {
    const w = new World(engine);
    const from = w.region(Uint8Array.from([1, 2, 3, 4]), false);
    const to = w.region(Uint8Array.from([5, 6, 7, 8]), false);
    assert.equal(w.call(28, from, 4, to, 4, 0), 0x808n);
    assert.equal(w.call(28, 0, 0, 0, 0, 77), 77n, 'no data: the seed');
    assert.equal(w.call(28, from, 3, to, 3, 0), 0x408n, 'sizes need not be multiples of 4 (6.13+)');
    assert.throws(() => w.call(28, from, 8, to, 4, 0), fault('EFAULT', 0, /bpf_csum_diff: from: read of 8 bytes/));
  });

  test(`${engine}: bpf_loop calls back nr_loops times, stops on non-zero, checks flags and the limit`, () => {
    const w = new World(engine);
    // sum of i*i into *ctx; stop (return 1) at i == 7
    const loop = (n: string, flags = '0') => `
      r1 = 0
      *(u64 *)(r10 - 8) = r1
      r3 = r10
      r3 += -8
      r1 = ${n} ll
      r2 = func(cb) ll
      r4 = ${flags}
      call 181
      r1 = *(u64 *)(r10 - 8)
      r1 *= 1000
      r0 += r1
      exit
    cb:
      r0 = r1
      r0 *= r1
      r3 = *(u64 *)(r2 + 0)
      r3 += r0
      *(u64 *)(r2 + 0) = r3
      r0 = 0
      if r1 != 7 goto out
      r0 = 1
    out:
      exit`;
    assert.equal(w.run(loop('10')), 140n * 1000n + 8n);
    assert.equal(w.run(loop('5')), 30n * 1000n + 5n);
    assert.equal(w.run(loop('0')), 0n);
    assert.equal(w.run(loop('5', '1')), neg(Errno.EINVAL));
    assert.equal(w.run(loop(String((1 << 23) + 1))), neg(Errno.E2BIG));
    assert.equal(w.run(loop('0x100000005')), 30n * 1000n + 5n, 'nr_loops is a u32');
  });

  test(`${engine}: map helpers resolve the handle in r1 and check key and value pointers`, () => {
    const w = new World(engine, { cpu: 1 });
    const arr = w.map(MapType.ARRAY, 4, 8, 4);
    const prog = `
      r1 = 2
      *(u32 *)(r10 - 4) = r1
      r2 = r10
      r2 += -4
      r1 = ${arr.handle} ll
      call 1
      if r0 == 0 goto miss
      r1 = *(u64 *)(r0 + 0)
      r1 += 5
      *(u64 *)(r0 + 0) = r1
      r0 = r1
      exit
    miss:
      r0 = -1
      exit`;
    assert.equal(w.run(prog), 5n);
    assert.equal(w.run(prog), 10n);
    const key = w.region(4);
    const value = w.region(8);
    w.space.view.setUint32(key, 3, true);
    w.space.view.setBigUint64(value, 99n, true);
    assert.equal(w.call(2, arr.handle, key, value, 0), 0n);
    assert.equal(w.u64(Number(w.call(1, arr.handle, key))), 99n);
    assert.equal(w.call(2, arr.handle, key, value, 1), neg(Errno.EEXIST), 'BPF_NOEXIST on an array');
    assert.equal(w.call(3, arr.handle, key), neg(Errno.EINVAL), 'array elements cannot be deleted');
    w.space.view.setUint32(key, 4, true);
    assert.equal(w.call(1, arr.handle, key), 0n, 'past the end: NULL');
    assert.throws(() => w.call(1, 0x1234, key), fault('EHELPER', 0, /bpf_map_lookup_elem: r1 = 0x1234 is not a map/));
    assert.throws(() => w.call(1, arr.handle, 0x10), fault('EFAULT', 0, /bpf_map_lookup_elem: key: read of 4 bytes at 0x10/));
    assert.throws(() => w.call(2, arr.handle, key, key, 0), fault('EFAULT', 0, /bpf_map_update_elem: value: read of 8 bytes/));

    const hash = w.map(MapType.HASH, 4, 8, 2);
    w.space.view.setUint32(key, 7, true);
    assert.equal(w.call(2, hash.handle, key, value, 0), 0n);
    assert.equal(w.call(2, hash.handle, key, value, 1), neg(Errno.EEXIST));
    assert.equal(w.call(3, hash.handle, key), 0n);
    assert.equal(w.call(3, hash.handle, key), neg(Errno.ENOENT));

    const pcpu = w.map(MapType.PERCPU_ARRAY, 4, 8, 1);
    w.space.view.setUint32(key, 0, true);
    const mine = w.call(1, pcpu.handle, key);
    assert.equal(w.call(195, pcpu.handle, key, 1), mine, 'this CPU (1)');
    assert.notEqual(w.call(195, pcpu.handle, key, 0), mine);
    assert.equal(w.call(195, pcpu.handle, key, 2), 0n, 'no CPU 2');

    const queue = w.map(MapType.QUEUE, 0, 8, 2);
    for (const v of [11n, 22n, 33n]) {
      w.space.view.setBigUint64(value, v, true);
      assert.equal(w.call(87, queue.handle, value, 0), v === 33n ? neg(Errno.E2BIG) : 0n);
    }
    assert.equal(w.call(89, queue.handle, value), 0n);
    assert.equal(w.u64(value), 11n);
    assert.equal(w.call(88, queue.handle, value), 0n);
    assert.equal(w.call(88, queue.handle, value), 0n);
    assert.equal(w.u64(value), 22n);
    assert.equal(w.call(88, queue.handle, value), neg(Errno.ENOENT));
  });

  test(`${engine}: perf_event_output writes a sample to this CPU's slot`, () => {
    const w = new World(engine, { cpu: 1 });
    const perf = w.map(MapType.PERF_EVENT_ARRAY, 4, 4, 2) as PerfEventArrayMap;
    const data = w.region('sample', false);
    assert.equal(w.call(25, 0, perf.handle, 0xffffffffn, data, 6), 0n);
    assert.equal(w.call(25, 0, perf.handle, 0, data, 6), neg(Errno.EOPNOTSUPP), 'slot 0 is CPU 0');
    assert.equal(w.call(25, 0, perf.handle, 1n << 32n, data, 6), neg(Errno.EINVAL), 'no ctx length outside packets');
    assert.deepEqual(perf.drain().map((s) => [s.index, dec.decode(s.data)]), [[1, 'sample']]);
    const arr = w.map(MapType.ARRAY, 4, 4, 1);
    assert.throws(() => w.call(25, 0, arr.handle, 0, data, 6), fault('EHELPER', 0, /not a PERF_EVENT_ARRAY/));
  });

  test(`${engine}: ring buffer reserve / submit / discard / output / query`, () => {
    const w = new World(engine);
    const rb = w.map(MapType.RINGBUF, 0, 0, 4096) as RingBufMap;
    const prog = `
      r1 = ${rb.handle} ll
      r2 = 8
      r3 = 0
      call 131
      if r0 == 0 goto full
      r1 = 0x1122334455667788 ll
      *(u64 *)(r0 + 0) = r1
      r1 = r0
      r2 = 0
      call 132
      r0 = 1
      exit
    full:
      exit`;
    assert.equal(w.run(prog), 1n);
    const data = w.region('out!', false);
    assert.equal(w.call(130, rb.handle, data, 4, 0), 0n);
    assert.equal(w.call(130, rb.handle, data, 4, 4), neg(Errno.EINVAL), 'unknown flag');
    const dropped = w.call(131, rb.handle, 16, 0);
    assert.ok(dropped > 0n);
    assert.equal(w.call(133, dropped, 0), 0n);
    assert.equal(w.call(134, rb.handle, 1), 4096n, 'RING_SIZE');
    assert.equal(w.call(134, rb.handle, 0), 16n + 16n + 24n, 'AVAIL_DATA: three records with headers');
    assert.equal(w.call(131, rb.handle, 8, 1), 0n, 'reserve with flags: NULL');
    assert.equal(w.call(131, rb.handle, 5000, 0), 0n, 'larger than the ring: NULL');
    assert.deepEqual(rb.drain().map((r) => [...r]), [[0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11], [...enc.encode('out!')]]);
    assert.throws(() => w.call(132, dropped, 0), fault('EHELPER', 0, /bpf_ringbuf_submit: 0x[0-9a-f]+ is not a record reserved/));
    assert.throws(() => w.call(132, data, 0), fault('EHELPER', 0, /not a record reserved/));
    assert.throws(() => w.call(131, w.map(MapType.ARRAY, 4, 4, 1).handle, 8, 0), fault('EHELPER', 0, /not a RINGBUF/));
  });

  test(`${engine}: tail_call ends the run with the slot's program, or fails and lets the program go on`, () => {
    const w = new World(engine);
    const progs = w.map(MapType.PROG_ARRAY, 4, 4, 4) as ProgArrayMap;
    progs.setProgram(1, { name: 'next', id: 9 });
    const tail = (index: number) => `
      r6 = r1
      r2 = ${progs.handle} ll
      r3 = ${index}
      call 12
      r0 += 1000
      exit`;
    assert.throws(() => w.run(tail(1), [0xc0ffee]), (e: unknown) => {
      if (!(e instanceof RunExit) || e.reason !== 'tail_call') return false;
      const d = e.data as TailCall;
      return d.program.name === 'next' && d.index === 1 && d.ctx === 0xc0ffeen && d.count === 1 && d.map === progs;
    });
    assert.equal(w.run(tail(2)), BigInt(1000 - Errno.ENOENT), 'empty slot');
    assert.equal(w.run(tail(4)), BigInt(1000 - Errno.E2BIG), 'past the end');
    w.host = { tailCalls: MAX_TAIL_CALL_CNT - 1 };
    assert.throws(() => w.run(tail(1)), (e: unknown) => e instanceof RunExit && (e.data as TailCall).count === MAX_TAIL_CALL_CNT);
    w.host = { tailCalls: MAX_TAIL_CALL_CNT };
    assert.equal(w.run(tail(1)), BigInt(1000 - Errno.ELOOP), 'the 34th tail call fails');
    const arr = w.map(MapType.ARRAY, 4, 4, 1);
    assert.throws(() => w.call(12, 0, arr.handle, 0), fault('EHELPER', 0, /bpf_tail_call: map .* not a PROG_ARRAY/));
  });

  test(`${engine}: for_each_map_elem calls back with (map, &key, &value, ctx) until non-zero`, () => {
    const w = new World(engine);
    const sumUntilKey2 = (handle: number, flags = 0) => `
      r1 = 0
      *(u64 *)(r10 - 8) = r1
      r1 = ${handle} ll
      r2 = func(cb) ll
      r3 = r10
      r3 += -8
      r4 = ${flags}
      call 164
      r1 = *(u64 *)(r10 - 8)
      r1 *= 1000
      r0 += r1
      exit
    cb:
      r5 = *(u64 *)(r3 + 0)
      r6 = *(u64 *)(r4 + 0)
      r6 += r5
      *(u64 *)(r4 + 0) = r6
      r0 = 0
      r7 = *(u32 *)(r2 + 0)
      if r7 != 2 goto out
      r0 = 1
    out:
      exit`;
    const arr = w.map(MapType.ARRAY, 4, 8, 5);
    for (let i = 0; i < 5; i++) arr.updateValue(Uint8Array.of(i, 0, 0, 0), new Uint8Array(new BigUint64Array([BigInt(10 ** i)]).buffer));
    assert.equal(w.run(sumUntilKey2(arr.handle)), 111n * 1000n + 3n);
    const hash = w.map(MapType.HASH, 4, 8, 8);
    for (const k of [5, 9, 2, 4]) hash.updateValue(Uint8Array.of(k, 0, 0, 0), new Uint8Array(new BigUint64Array([BigInt(k)]).buffer));
    const visited = w.run(sumUntilKey2(hash.handle));
    assert.equal(visited % 1000n, 3n, 'stops after key 2, the third element');
    assert.equal(visited / 1000n, 16n);
    assert.equal(w.run(sumUntilKey2(arr.handle, 1)), neg(Errno.EINVAL));
    const queue = w.map(MapType.QUEUE, 0, 8, 2);
    assert.throws(() => w.run(sumUntilKey2(queue.handle)), fault('EHELPER', 9, /bpf_for_each_map_elem: .* cannot be iterated/));
  });
}
