// The kernel's printf for BPF (src/vm/helpers/format.ts) and bpf_csum_diff, against outputs of the
// real kernel: tables recorded on Linux 6.18, and the live kernel when bpf(2) is usable here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assemble } from '../src/asm/index.js';
import { addressOf, bpfRaw, closeFd, progLoad, progTestRun } from '../src/kernel/index.js';
import { AddressSpace, ENGINES, Vm, stackFrames, type Engine, type RunHost } from '../src/vm/index.js';
import { Errno, csumDiff } from '../src/vm/helpers/index.js';
import { needKernel } from './support/kernel.js';

type Arg = bigint | 'str' | 'ip' | 'null';
/**
 * bpf_snprintf(out, size, fmt, args, n * 8) on Linux 6.18 (a BPF_PROG_TYPE_SYSCALL program): format,
 * arguments ('str' points to "hello", 'ip' to the bytes 192.168.1.2, 'null' is 0), size, return value,
 * output up to its first NUL. -22: the kernel refused the format (at load, for snprintf).
 */
const SNPRINTF: Array<[string, Arg[], number, number, string]> = [
  ["x=%d y=%u z=%x", [-5n, -5n, 255n], 128, 23, "x=-5 y=4294967291 z=ff"],
  ["%i|%X|%x", [-2147483648n, 3735928559n, 3735928559n], 128, 30, "-2147483648|DEADBEEF|deadbeef"],
  ["%ld|%lu|%lx|%lX", [-1n, -1n, -1n, -1n], 128, 58, "-1|18446744073709551615|ffffffffffffffff|FFFFFFFFFFFFFFFF"],
  ["%lld|%llu|%llx", [-9223372036854775808n, 18446744073709551615n, 81985529216486895n], 128, 58, "-9223372036854775808|18446744073709551615|123456789abcdef"],
  ["%d", [8589934591n], 128, 3, "-1"],
  ["%-8x|%08X|%+5d|% 5d|%-+6d|", [255n, 255n, 7n, 7n, 7n], 128, 38, "ff      |000000FF|   +7|    7|+7    |"],
  ["%0-5d|%+u|% x|%05d|%3d", [42n, 9n, 9n, -42n, 12345n], 128, 22, "42   |9|9|-0042|12345"],
  ["%+05d|%- 5d|%+-5d|", [-3n, 3n, 3n], 128, 19, "-0003| 3   |+3   |"],
  ["%c%c|%5c|%-5c|", [65n, 322n, 66n, 67n], 128, 16, "AB|    B|C    |"],
  ["%10s|%-10s|%010s|%s", ["str", "str", "str", "null"], 128, 34, "     hello|hello     |     hello|"],
  ["%1s|%2s|", ["str", "str"], 128, 13, "hello|hello|"],
  ["100%% %d%%", [5n], 128, 8, "100% 5%"],
  ["%5%", [1n], 128, -22, ""],
  ["%o", [8n], 128, -22, ""],
  ["%hd", [8n], 128, -22, ""],
  ["%zu", [8n], 128, -22, ""],
  ["%#x", [8n], 128, -22, ""],
  ["%.2d", [8n], 128, -22, ""],
  ["%*d", [8n, 1n], 128, -22, ""],
  ["%n", [8n], 128, -22, ""],
  ["%pd", [8n], 128, -22, ""],
  ["%sx", ["str"], 128, -22, ""],
  ["%lu%", [1n], 128, -22, ""],
  ["%lld %", [1n], 128, -22, ""],
  ["%d %d", [1n], 128, -22, ""],
  ["\u0001", [], 128, -22, ""],
  ["tab\there\n", [], 128, 10, "tab\there\n"],
  ["%ls", ["str"], 128, -22, ""],
  ["%lc", [65n], 128, -22, ""],
  ["%llld", [1n], 128, -22, ""],
  ["%Ld", [1n], 128, -22, ""],
  ["%px|%20px|%-20px|%020px|", [4660n, 4660n, 4660n, 4660n], 128, 81, "0000000000001234|                1234|1234                |00000000000000001234|"],
  ["%ps|%pS|%pB|%20ps|", [4660n, 4660n, 4660n, 4660n], 128, 43, "0x1234|0x1234|0x1234|              0x1234|"],
  ["%pI4|%pi4|%pI6|%pi6|", ["ip", "ip", "ip", "ip"], 128, 102, "192.168.1.2|192.168.001.002|c0a8:0102:0000:0000:0000:0000:0000:0000|c0a80102000000000000000000000000|"],
  ["%pI4abc|%18pI4|%-18pI4|", ["ip", "ip", "ip"], 128, 37, "192.168.1.2|192.168.1.2|192.168.1.2|"],
  ["%pI4 %pI4", ["null", "null"], 128, 16, "0.0.0.0 0.0.0.0"],
  ["%pks|%8pks|", ["str", "str"], 128, 13, "hello|hello|"],
  ["%p|%pK", [0n, 0n], 128, 34, "0000000000000000|0000000000000000"],
  ["%p %s", [0n, "str"], 128, 23, "0000000000000000 hello"],
  ["%pX", [0n], 128, -22, ""],
  ["%pi5", [0n], 128, -22, ""],
  ["hello world", [], 5, 12, "hell"],
  ["hello %s", ["str"], 8, 12, "hello h"],
  ["%d", [12345n], 3, 6, "12"],
  ["abc", [], 1, 4, ""],
  ["abc", [], 0, 4, ""],
  ["%c", [0n], 128, 2, ""],
  ["%s%s%s", ["str", "str", "str"], 128, 16, "hellohellohello"],
  ["%x%s", [1n, "str"], 128, 7, "1hello"],
  ["%99d|", [1n], 128, 101, "                                                                                                  1|"],
  ["%5s|%-3c|%x|%+d|% d|%lx", ["str", 65n, 0n, 0n, 0n, 0n], 128, 20, "hello|A  |0|+0| 0|0"],
  ["%03d|%-05d|%+03d|%1d", [-1n, -1n, 5n, -7n], 128, 17, "-01|-1   |+05|-7"],
  ["%s.%s_x|", ["str", "str"], 128, 15, "hello.hello_x|"],
  ["%-8llx|%16llX|%020lld|", [48879n, 48879n, -48879n], 128, 48, "beef    |            BEEF|-0000000000000048879|"],
  ["%u %i %X", [4294967296n, 4294967295n, 3735928559n], 128, 14, "0 -1 DEADBEEF"],
  ["[%c]", [32n], 128, 4, "[ ]"],
  ["%%%%", [], 128, 3, "%%"],
  ["a%%b%dc", [0n], 128, 6, "a%b0c"],
  ["%s", ["str"], 3, 6, "he"],
  ["%5d", [1n], 4, 6, "   "],
  ["%pi4", ["null"], 128, 16, "000.000.000.000"],
  ["%pI6", ["null"], 128, 40, "0000:0000:0000:0000:0000:0000:0000:0000"],
];

const STR = 'hello';
const IP = [192, 168, 1, 2];
const enc = new TextEncoder();
const dec = new TextDecoder();

/** An address space with the format, the string, the IP address, the argument array and the output. */
class Fixture {
  readonly space = new AddressSpace();
  readonly frames = stackFrames(this.space);
  readonly ro = this.space.map('rodata', 'map', 512, false);
  readonly data = this.space.map('args', 'mem', 12 * 8, true);
  readonly out = this.space.map('out', 'mem', 1100, true);
  lines: string[] = [];
  constructor(readonly engine: Engine, str = STR) {
    this.space.u8.set(enc.encode(`${str}\0`), this.ro.start + 256);
    this.space.u8.set(IP, this.ro.start + 384);
  }
  arg(a: Arg): bigint {
    return a === 'str' ? BigInt(this.ro.start + 256) : a === 'ip' ? BigInt(this.ro.start + 384) : a === 'null' ? 0n : BigInt.asUintN(64, a);
  }
  setFormat(fmt: string, args: readonly Arg[]): void {
    this.space.u8.fill(0, this.ro.start, this.ro.start + 256);
    this.space.u8.set(enc.encode(fmt), this.ro.start);
    args.forEach((a, k) => this.space.view.setBigUint64(this.data.start + 8 * k, this.arg(a), true));
  }
  call(id: number, ...args: bigint[]): bigint {
    const host = { cpu: 0, printk: (t: string) => this.lines.push(t) } as RunHost;
    return new Vm(assemble(`call ${id}\nexit`), { engine: this.engine, space: this.space, frames: this.frames, host }).run({ args }).r0;
  }
  snprintf(fmt: string, args: readonly Arg[], size: number): { ret: number; text: string } {
    this.setFormat(fmt, args);
    this.space.u8.fill(0xee, this.out.start, this.out.end);
    const r = this.call(165, BigInt(this.out.start), BigInt(size), BigInt(this.ro.start), BigInt(this.data.start), BigInt(args.length * 8));
    const bytes = this.space.u8.subarray(this.out.start, this.out.start + size);
    const ret = Number(BigInt.asIntN(64, r));
    const nul = bytes.indexOf(0);
    if (size > 0 && ret > 0) assert.ok(nul >= 0, 'the output is NUL-terminated');
    if (ret < 0) assert.ok(bytes.every((b) => b === 0xee), 'nothing written on errors');
    return { ret, text: dec.decode(bytes.subarray(0, nul < 0 ? 0 : nul)) };
  }
}

for (const engine of ENGINES) {
  test(`${engine}: bpf_snprintf gives what Linux 6.18 gives`, () => {
    const f = new Fixture(engine);
    for (const [fmt, args, size, ret, text] of SNPRINTF) {
      const r = f.snprintf(fmt, args, size);
      assert.deepEqual(r, { ret, text: ret < 0 ? '' : text }, JSON.stringify(fmt));
    }
  });

  test(`${engine}: bpf_trace_printk checks the format at run time, as the kernel does`, () => {
    const f = new Fixture(engine);
    const printk = (fmt: string, ...args: Arg[]): bigint => {
      f.setFormat(fmt, []);
      const a = args.map((x) => f.arg(x));
      return f.call(6, BigInt(f.ro.start), BigInt(fmt.length + 1), a[0] ?? 0n, a[1] ?? 0n, a[2] ?? 0n);
    };
    for (const bad of ['%o', '%hd', '%zu', '%#x', '%.2d', '%*d', '%n', '%pd', '%sx', '%lu%', '%5%', '%d %d %d %d', '\x01', '\x80', '%llld', '%pi5']) {
      assert.equal(printk(bad, 1n, 2n, 3n), BigInt.asUintN(64, -22n), JSON.stringify(bad));
    }
    assert.deepEqual(f.lines, []);
    assert.equal(printk('%s|%5d|%pI4', 'str', 42n, 'ip'), 23n);
    assert.deepEqual(f.lines, ['hello|   42|192.168.1.2']);
  });

  test(`${engine}: %p prints a hash of the address, %px the address, NULL as zeros`, () => {
    const f = new Fixture(engine);
    const p = f.snprintf('%p', [0x1234n], 64);
    assert.match(p.text, /^00000000[0-9a-f]{8}$/);
    assert.notEqual(p.text, '0000000000001234');
    assert.deepEqual(f.snprintf('%p', [0x1234n], 64), p, 'the same address, the same hash');
    assert.notEqual(f.snprintf('%p', [0x1235n], 64).text, p.text);
    assert.equal(f.snprintf('%pK', [0x1234n], 64).text, p.text, 'kptr_restrict 0: %pK is %p');
    assert.equal(f.snprintf('%p', [-5n], 64).text, 'fffffffffffffffb', 'error pointers are not hashed');
  });

  test(`${engine}: the 512-byte argument buffer: long strings are cut, then -ENOSPC`, () => {
    const f = new Fixture(engine, 'y'.repeat(100));
    const six = Array<Arg>(6).fill('str');
    assert.equal(f.snprintf('%s%s%s%s%s%s|', six, 1024).ret, 508, 'the sixth string keeps 6 bytes');
    assert.equal(f.snprintf('%s%s%s%s%s%s%d', [...six, 7n], 1024).ret, -Errno.ENOSPC);
    assert.equal(f.snprintf('%s%s%s%s%s%s%c', [...six, 65n], 1024).ret, -Errno.ENOSPC);
    // The IP address was formatted into the 7 bytes left ("192.16"); bstr_printf copies such text only
    // while the output has room, so with a 128-byte output it adds nothing to the length.
    assert.equal(f.snprintf('%s%s%s%s%s%pI4', [...six.slice(1), 'ip'], 1024).ret, 507);
    assert.equal(f.snprintf('%s%s%s%s%s%pI4', [...six.slice(1), 'ip'], 128).ret, 501);
  });
}

/** bpf_csum_diff on Linux 6.18 (XDP): from, to (hex), seed, result. */
const CSUM: Array<[string, string, number, number]> = [
  ['', '', 0x12345678, 0x68ac], // nothing to sum: the seed, folded
  ['0000001c', '', 0x0, 0xe3ff],
  ['', '0000001c', 0x0, 0x1c00],
  ['01020304', '05060708', 0x0, 0x808],
  ['010203', '040506', 0x0, 0x306],
  ['0102030405', '', 0x0, 0xf9f6],
  ['ffffffff', '00000000', 0x1e240, 0xe241],
  ['', '', 0x4d, 0x4d],
  ['', '0102', 0x0, 0x201],
  ['ffffffff', '', 0x0, 0x0],
  ['ffffffffffffffffff', '000000000000', 0x0, 0xff00],
  ['0000', '0000', 0x0, 0xffff],
  ['', 'ffff', 0xffffffff, 0xffff],
  ['45000054', '45000058', 0x0, 0x400],
  ['cd795040', 'e0', 0x6eba6fb0, 0x252d],
  ['1c1c1c1c1c1cb88818681348d850400be090804c8ccca74c8ccc0c4c8ccc0c4c27cbc7ec', '6c2c8818687848749434549080b020d0c0f060100030a05040707bc547a22a12da02a5714c', 0x1f4ab9a4, 0x67d1],
  ['0ce7c12ec67ed64e669e766e', 'be1629dcdc77db70e090804c8ccc0c4c8ccc0c4c8ccc0c', 0x63784ce4, 0x76e0],
  ['cc0c4c8c', '0c4c8ccc0c4c8c671c1c1cb7521a424ab2faa22a12', 0x2322ea8e, 0x9dfe],
  ['0a72ba62ead29ac2669e766e06be168ea6deb6ae46fe56cee61ef6ee213dc4a404e4', '248464c4a4', 0x6784e60c, 0xa5b6],
  ['44248464c4a404e4442420d0c0f060100030a0ecac6c2cecac6c2c87ab0030a0504070e0', '80', 0x6181cae4, 0xfadd],
  ['cc0c4c8ccc0ce8f8c858a8b888b4d474bc3cbc64c4a49fe3d828380898e8f8c858a8b823', '687848d82838a398e8f8c858a8b8881868', 0x59e43b68, 0x27e8],
  ['d828380898e8f8c858a8b8248464c4a404e4442484645fda', '0a72ba62ead235c0f060100030a0504070e09080b0bc3cbc3cbc3cbc3cbc3cbc3cbc3c', 0x70840034, 0xa150],
];

const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));

/** A 16-bit ones'-complement reference: little-endian u16 words (as x86 loads them), mod 0xffff. */
function reference(from: Uint8Array, to: Uint8Array, seed: number): number {
  const sum = (b: Uint8Array): number => {
    let s = 0;
    for (let k = 0; k < b.length; k++) s += b[k]! << (8 * (k & 1));
    return s % 0xffff;
  };
  return (((seed >>> 0) % 0xffff) + sum(to) + 0xffff - sum(from)) % 0xffff;
}

test('csum_diff matches the values Linux 6.18 returned, bit for bit', () => {
  for (const [f, t, seed, want] of CSUM) assert.equal(csumDiff(hex(f), hex(t), seed), want, `${f} -> ${t} seed ${seed}`);
});

test('csum_diff is the ones\'-complement difference (reference computation)', () => {
  const bytes = fc.uint8Array({ maxLength: 64 });
  fc.assert(fc.property(bytes, bytes, fc.nat({ max: 0xffffffff }), (from, to, seed) => {
    const r = csumDiff(from, to, seed);
    if (from.length === 0 && to.length === 0) return r === csumDiff(new Uint8Array(0), new Uint8Array(0), seed) && r <= 0xffff && r % 0xffff === ((seed >>> 0) % 0xffff);
    return r >= 0 && r <= 0xffff && r % 0xffff === reference(from, to, seed);
  }), { numRuns: 500 });
});

test('kernel: csum_diff on random buffers agrees with the vm', (t) => {
  if (!needKernel(t)) return;
  const rnd = fc.sample(fc.tuple(fc.uint8Array({ maxLength: 48 }), fc.uint8Array({ maxLength: 48 }), fc.nat({ max: 0xffffffff })), { numRuns: 12, seed: 7 });
  for (const [from, to, seed] of rnd) {
    let src = '';
    from.forEach((b, k) => (src += `r2 = ${b}\n*(u8 *)(r10 - ${256 - k}) = r2\n`));
    to.forEach((b, k) => (src += `r2 = ${b}\n*(u8 *)(r10 - ${128 - k}) = r2\n`));
    src += `r1 = r10\nr1 += -256\nr2 = ${from.length}\nr3 = r10\nr3 += -128\nr4 = ${to.length}\nr5 = ${seed} ll\n`;
    src += `${from.length ? '' : 'r1 = 0\n'}${to.length ? '' : 'r3 = 0\n'}call 28\nexit\n`;
    const prog = progLoad({ type: 'XDP', insns: assemble(src) });
    try {
      assert.equal(progTestRun(prog, { data: new Uint8Array(64) }).retval, csumDiff(from, to, seed));
    } finally {
      prog.close();
    }
  }
});

/** A frozen read-only array map holding `bytes` (what ARG_PTR_TO_CONST_STR needs); returns its fd. */
function rodataMap(bytes: Uint8Array): number {
  const attr = new Uint8Array(128);
  const view = new DataView(attr.buffer);
  [2, 4, 512, 1, 1 << 7].forEach((v, k) => view.setUint32(4 * k, v, true)); // ARRAY, key 4, value 512, 1 entry, RDONLY_PROG
  const fd = bpfRaw(0, attr);
  if (fd < 0) throw new Error(`BPF_MAP_CREATE: errno ${-fd}`);
  const key = new Uint8Array(4);
  const value = new Uint8Array(512);
  value.set(bytes);
  attr.fill(0);
  view.setUint32(0, fd, true);
  view.setBigUint64(8, addressOf(key), true);
  view.setBigUint64(16, addressOf(value), true);
  const up = bpfRaw(2, attr);
  attr.fill(0);
  view.setUint32(0, fd, true);
  const fr = bpfRaw(22, attr);
  if (up < 0 || fr < 0) {
    closeFd(fd);
    throw new Error(`map update/freeze failed: ${up} ${fr}`);
  }
  return fd;
}

test('kernel: bpf_snprintf in the live kernel gives the recorded outputs', (t) => {
  if (!needKernel(t)) return;
  for (const [fmt, args, size, ret, text] of SNPRINTF.filter((r) => r[3] > 0).slice(0, 24)) {
    const ro = new Uint8Array(512);
    ro.set(enc.encode(`${fmt}\0`));
    ro.set(enc.encode(`${STR}\0`), 256);
    ro.set(IP, 384);
    const fd = rodataMap(ro);
    try {
      let src = 'r6 = r1\n';
      args.forEach((a, k) => {
        src += a === 'str' ? `r2 = map_value(${fd}) + 256 ll\n` : a === 'ip' ? `r2 = map_value(${fd}) + 384 ll\n` : `r2 = ${a === 'null' ? 0n : BigInt.asUintN(64, a)} ll\n`;
        src += `*(u64 *)(r10 - ${96 - 8 * k}) = r2\n`;
      });
      src += 'r2 = 0\n';
      for (let k = 0; k < 16; k++) src += `*(u64 *)(r10 - ${512 - 8 * k}) = r2\n`;
      src += `r1 = r10\nr1 += -512\nr2 = ${size}\nr3 = map_value(${fd}) + 0 ll\nr4 = r10\nr4 += -96\nr5 = ${args.length * 8}\ncall 165\nr7 = r0\n`;
      for (let k = 0; k < 16; k++) src += `r2 = *(u64 *)(r10 - ${512 - 8 * k})\n*(u64 *)(r6 + ${8 * k}) = r2\n`;
      src += 'r0 = r7\nexit\n';
      const prog = progLoad({ type: 'SYSCALL', insns: assemble(src), flags: 1 << 4 }); // BPF_F_SLEEPABLE
      try {
        const ctx = new Uint8Array(128); // a syscall program's ctx comes back in place
        const r = progTestRun(prog, { ctxIn: ctx });
        const nul = ctx.indexOf(0);
        assert.deepEqual({ ret: r.retval | 0, text: dec.decode(ctx.subarray(0, nul)) }, { ret, text }, JSON.stringify(fmt));
      } finally {
        prog.close();
      }
    } finally {
      closeFd(fd);
    }
  }
});
