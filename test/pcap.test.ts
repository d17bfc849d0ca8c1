import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { CaptureError, readCapture, readPcap, readPcapng, writePcap, type Capture } from '../src/pcap/index.js';
import { Pcapng, concat, pcapFile } from './support/capture-build.js';
import { REPO_ROOT } from './support/conformance-data.js';
import { needClang, rebuildElsewhere } from './support/rebuild.js';

const TESTDATA = join(REPO_ROOT, 'testdata');
const PROGS = join(TESTDATA, 'progs');
const shippedPcap = new Uint8Array(readFileSync(join(TESTDATA, 'mixed.pcap')));
const shippedPcapng = new Uint8Array(readFileSync(join(TESTDATA, 'mixed.pcapng')));

/** Success or a CaptureError; anything else fails the test. */
function readOrCaptureError(bytes: Uint8Array): Capture | CaptureError {
  try {
    return readCapture(bytes);
  } catch (e) {
    if (e instanceof CaptureError && e.code === 'EPCAP' && typeof e.where.offset === 'number') return e;
    throw e;
  }
}

function expectCaptureError(bytes: Uint8Array, pattern: RegExp): CaptureError {
  const r = readOrCaptureError(bytes);
  assert.ok(r instanceof CaptureError, `expected a CaptureError matching ${pattern}`);
  assert.match(r.message, pattern);
  return r;
}

// ------------------------------------------------------- shipped files ----

test('the shipped pcap and pcapng hold the same packets', () => {
  const a = readCapture(shippedPcap);
  const b = readCapture(shippedPcapng);
  assert.equal(a.format, 'pcap');
  assert.equal(b.format, 'pcapng');
  assert.equal(a.linkType, 1);
  assert.equal(b.linkType, 1);
  assert.ok(a.packets.length >= 300 && a.packets.length <= 600, `${a.packets.length} frames`);
  assert.equal(b.packets.length, a.packets.length);
  assert.deepEqual(b.interfaces, [{ linkType: 1, snapLen: 262144, tsResol: { base: 10, exp: 9 }, tsOffset: 0n, name: 'eth0', section: 0 }]);
  assert.deepEqual(a.interfaces[0]!.tsResol, { base: 10, exp: 6 });
  assert.equal(b.skippedBlocks, 2, 'the name resolution and statistics blocks');
  for (const [i, p] of a.packets.entries()) {
    const q = b.packets[i]!;
    assert.deepEqual(q.data, p.data, `packet ${i}`);
    assert.equal(q.origLen, p.origLen);
    assert.equal(q.tsNs, p.tsNs);
    assert.equal(p.iface, 0);
    assert.equal(q.iface, 0);
    if (i > 0) assert.ok(p.tsNs > a.packets[i - 1]!.tsNs, 'timestamps grow');
  }
  assert.equal(a.packets[0]!.tsNs / 1_000_000_000n, 1700000000n);
});

// Ones' complement sum of 16-bit big-endian words.
function sum16(...parts: Uint8Array[]): number {
  let s = 0;
  for (const b of parts) for (let i = 0; i < b.length; i += 2) s += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

interface Frame {
  vlan: boolean;
  ethType: number;
  src?: Uint8Array;
  proto?: number;
  l4?: Uint8Array;
}

/** Parses a frame and checks every checksum it carries. */
function inspect(f: Uint8Array, i: number): Frame {
  let off = 12;
  let ethType = (f[off]! << 8) | f[off + 1]!;
  const vlan = ethType === 0x8100;
  if (vlan) {
    off += 4;
    ethType = (f[off]! << 8) | f[off + 1]!;
  }
  const l3 = f.subarray(off + 2);
  const be = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
  if (ethType === 0x0800) {
    const ihl = (l3[0]! & 15) * 4;
    assert.equal(sum16(l3.subarray(0, ihl)), 0xffff, `frame ${i}: IPv4 header checksum`);
    const proto = l3[9]!;
    const l4 = l3.subarray(ihl, be(l3, 2));
    const pseudo = concat(l3.subarray(12, 20), Uint8Array.of(0, proto, l4.length >> 8, l4.length & 0xff));
    if (proto === 6 || proto === 17) assert.equal(sum16(pseudo, l4), 0xffff, `frame ${i}: L4 checksum`);
    if (proto === 1) assert.equal(sum16(l4), 0xffff, `frame ${i}: ICMP checksum`);
    return { vlan, ethType, src: l3.subarray(12, 16), proto, l4 };
  }
  if (ethType === 0x86dd) {
    const proto = l3[6]!;
    const l4 = l3.subarray(40, 40 + be(l3, 4));
    const n = l4.length;
    const pseudo = concat(l3.subarray(8, 40), Uint8Array.of(n >>> 24, n >>> 16, n >>> 8, n, 0, 0, 0, proto));
    assert.equal(sum16(pseudo, l4), 0xffff, `frame ${i}: IPv6 L4 checksum`);
    return { vlan, ethType, proto, l4 };
  }
  return { vlan, ethType };
}

test('the shipped capture has the promised mix, with correct checksums', () => {
  const frames = readCapture(shippedPcap).packets.map((p, i) => ({ len: p.data.length, ...inspect(p.data, i) }));
  const count = (pred: (f: (typeof frames)[number]) => boolean): number => frames.filter(pred).length;
  const port = (f: Frame, o: number): number => (f.l4 ? (f.l4[o]! << 8) | f.l4[o + 1]! : -1);
  assert.ok(count((f) => f.ethType === 0x0806) >= 4, 'ARP');
  assert.ok(count((f) => f.vlan) >= 2, '802.1Q');
  assert.ok(count((f) => f.len >= 1000) >= 10, 'large frames');
  assert.ok(count((f) => f.len === 60) >= 10, 'minimum-size frames');
  assert.ok(count((f) => f.ethType === 0x86dd && f.proto === 6) > 0, 'IPv6 TCP');
  assert.ok(count((f) => f.ethType === 0x86dd && f.proto === 17) > 0, 'IPv6 UDP');
  assert.ok(count((f) => f.ethType === 0x86dd && f.proto === 58) > 0, 'ICMPv6');
  assert.ok(count((f) => f.proto === 1 && f.l4![0] === 8) > 0, 'ICMP echo');
  for (const p of [22, 80, 443]) assert.ok(count((f) => f.proto === 6 && port(f, 2) === p) > 0, `TCP to ${p}`);
  assert.ok(count((f) => f.proto === 6 && f.l4![13] === 0x02) > 0, 'SYN');
  assert.ok(count((f) => f.proto === 6 && f.l4![13] === 0x12) > 0, 'SYN-ACK');
  assert.ok(count((f) => f.proto === 17 && port(f, 2) === 53) > 0, 'DNS');

  // Firewall control datagrams: each accepted prefix has matching sources before and after it.
  const controls = frames.flatMap((f, i) => (f.proto === 17 && port(f, 2) === 9999 ? [{ i, f }] : []));
  assert.ok(controls.length >= 2);
  let accepted = 0;
  for (const { i, f } of controls) {
    const payload = f.l4!.subarray(8);
    if (payload.length < 8) continue;
    const plen = new DataView(payload.buffer, payload.byteOffset).getUint32(0);
    if (plen > 32) continue;
    accepted++;
    const prefix = payload.subarray(4, 8);
    const matches = (src: Uint8Array): boolean => {
      for (let bit = 0; bit < plen; bit++) {
        const m = 0x80 >> (bit % 8);
        if ((src[bit >> 3]! & m) !== (prefix[bit >> 3]! & m)) return false;
      }
      return true;
    };
    const from = (g: Frame): boolean => g.ethType === 0x0800 && !g.vlan && matches(g.src!);
    assert.ok(frames.slice(0, i).some(from), `traffic from /${plen} before control frame ${i}`);
    assert.ok(frames.slice(i + 1).some(from), `traffic from /${plen} after control frame ${i}`);
  }
  assert.ok(accepted >= 2, 'two accepted prefixes');
});

// ------------------------------------------------------ pcap variants ----

const frame = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

test('pcap: both byte orders, microseconds and nanoseconds', () => {
  const pkts = [
    { data: frame(60, 1), sec: 1700000000, frac: 5 },
    { data: frame(14, 2), origLen: 1514, sec: 1700000001, frac: 999999 },
  ];
  for (const le of [true, false]) {
    const us = readCapture(pcapFile(le, false, pkts));
    assert.deepEqual(us.packets.map((p) => p.tsNs), [1700000000_000005000n, 1700000001_999999000n]);
    assert.deepEqual(us.packets[1]!.data, frame(14, 2));
    assert.equal(us.packets[1]!.origLen, 1514);
    assert.equal(us.interfaces[0]!.snapLen, 65535);
    const ns = readCapture(pcapFile(le, true, pkts));
    assert.deepEqual(ns.packets.map((p) => p.tsNs), [1700000000_000000005n, 1700000001_000999999n]);
    assert.deepEqual(ns.interfaces[0]!.tsResol, { base: 10, exp: 9 });
  }
  const raw = readCapture(pcapFile(true, false, pkts, 101));
  assert.equal(raw.linkType, 101, 'other link types are reported, not refused');
  const fcs = readCapture(pcapFile(true, false, [], 1 | 0x10000000 | (2 << 29)));
  assert.equal(fcs.linkType, 1);
  assert.equal(fcs.interfaces[0]!.fcsLen, 4);
  assert.equal(readCapture(pcapFile(true, false, [])).packets.length, 0);
});

test('pcap: malformed files are CaptureErrors with the offset', () => {
  const ok = pcapFile(true, false, [{ data: frame(60, 1), sec: 1, frac: 2 }]);
  assert.equal(expectCaptureError(ok.subarray(0, 3), /too short/).offset, 0);
  expectCaptureError(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), /not a pcap file/);
  expectCaptureError(ok.subarray(0, 20), /file header/);
  assert.equal(expectCaptureError(ok.subarray(0, 30), /truncated record header/).offset, 24);
  const e = expectCaptureError(ok.subarray(0, ok.length - 1), /claims 60 bytes, 59 left/);
  assert.equal(e.where.packet, 0);
  const badVersion = ok.slice();
  badVersion[4] = 3;
  expectCaptureError(badVersion, /version 3\.4/);
  const modified = ok.slice();
  modified.set([0x34, 0xcd, 0xb2, 0xa1]);
  expectCaptureError(modified, /Kuznetzov/);
  assert.throws(() => readPcapng(ok), CaptureError);
});

// ---------------------------------------------------- pcapng variants ----

test('pcapng: byte orders, sections, interfaces, resolutions, SPB, skipped blocks', () => {
  const le = new Pcapng(true);
  const be = new Pcapng(false);
  const file = concat(
    le.shb(),
    le.idb(1, { name: 'eth0', tsresol: 6 }),
    le.idb(101, { tsresol: 0x80 | 10, tsoffset: 100n }), // 2^-10 s units, +100 s
    le.epb(0, 1_500_000n, frame(60, 1)), // 1.5 s in µs
    le.epb(1, 1024n * 3n, frame(20, 2), 40), // 3 s
    le.opb(0, 7n, frame(60, 3)), // obsolete: skipped
    le.block(0x0bad, (b) => b.u32(1)), // unknown: skipped
    le.spb(frame(80, 4)),
    be.shb(), // a second section, big-endian, with its own interface 0
    be.idb(1, { snapLen: 64 }), // default resolution: µs
    be.epb(0, 2n, frame(62, 5)),
    be.spb(frame(100, 6)), // cut to the snap length
    be.block(5, (b) => b.u32(0).u32(0).u32(0)),
  );
  const c = readCapture(file);
  assert.equal(c.format, 'pcapng');
  assert.equal(c.linkType, 1);
  assert.equal(c.skippedBlocks, 3);
  assert.deepEqual(c.interfaces.map((i) => [i.linkType, i.section, i.name, i.snapLen]), [
    [1, 0, 'eth0', 0], [101, 0, undefined, 0], [1, 1, undefined, 64],
  ]);
  assert.deepEqual(c.packets.map((p) => [p.iface, p.tsNs, p.data.length, p.origLen]), [
    [0, 1_500_000_000n, 60, 60],
    [1, 103_000_000_000n, 20, 40],
    [0, 0n, 80, 80],
    [2, 2000n, 62, 62],
    [2, 0n, 64, 100],
  ]);
  assert.deepEqual(c.packets[3]!.data, frame(62, 5));
  assert.deepEqual(c.packets[4]!.data, frame(100, 6).subarray(0, 64));
  // Resolutions finer than a nanosecond round down.
  const fine = readCapture(concat(le.shb(), le.idb(1, { tsresol: 12 }), le.epb(0, 123_456_789n, frame(14, 0))));
  assert.equal(fine.packets[0]!.tsNs, 123_456n);
  // A section with no interface: no link type.
  assert.equal(readCapture(le.shb()).linkType, -1);
});

test('pcapng: malformed files are CaptureErrors with the offset', () => {
  const le = new Pcapng(true);
  const shb = le.shb();
  const idb = le.idb(1);
  expectCaptureError(concat(shb, le.epb(1, 0n, frame(14, 0))), /interface 1 is not described \(section has 0\)/);
  expectCaptureError(concat(shb, le.spb(frame(14, 0))), /simple packet block before any interface/);
  const bom = shb.slice();
  bom.set([1, 2, 3, 4], 8);
  expectCaptureError(bom, /byte-order magic/);
  const version = shb.slice();
  version[12] = 2;
  expectCaptureError(version, /pcapng version 2/);
  const trailer = concat(shb, idb);
  trailer[trailer.length - 4] ^= 4;
  assert.equal(expectCaptureError(trailer, /trailing block length/).where.block, 1);
  const odd = concat(shb, idb);
  odd[shb.length + 4] = 21;
  expectCaptureError(odd, /bad block length 21/);
  const long = concat(shb, idb);
  long[shb.length + 5] = 1;
  expectCaptureError(long, /runs past the end/);
  expectCaptureError(concat(shb, idb.subarray(0, 8)), /truncated block header/);
  const epb = le.epb(0, 0n, frame(20, 0));
  const capLen = epb.slice();
  capLen[20] = 200;
  expectCaptureError(concat(shb, idb, capLen), /captured length 200 exceeds/);
  assert.throws(() => readPcapng(concat(le.idb(1), shb)), /must start with a section header/);
  const resol = le.block(1, (b) => {
    b.u16(1).u16(0).u32(0);
    le.option(b, 9, Uint8Array.of(6, 6));
  });
  expectCaptureError(concat(shb, resol), /if_tsresol of 2 bytes/);
  const opt = le.block(1, (b) => b.u16(1).u16(0).u32(0).u16(2).u16(40).u32(0));
  expectCaptureError(concat(shb, opt), /option 2 of 40 bytes runs past/);
});

// ------------------------------------------------------------- writer ----

const arbPacket = fc.record({
  data: fc.uint8Array({ minLength: 0, maxLength: 200 }),
  extra: fc.nat({ max: 2000 }),
  tsNs: fc.bigInt({ min: 0n, max: 0xffffffffn * 1_000_000_000n + 999_999_999n }),
});

test('writer -> reader round trip (microseconds and nanoseconds)', () => {
  fc.assert(
    fc.property(fc.array(arbPacket, { maxLength: 20 }), fc.boolean(), fc.integer({ min: 0, max: 0xffff }), (pkts, nanos, linkType) => {
      const input = pkts.map((p) => ({ data: p.data, origLen: p.data.length + p.extra, tsNs: p.tsNs }));
      const c = readPcap(writePcap(input, { nanos, linkType }));
      assert.equal(c.linkType, linkType);
      assert.equal(c.packets.length, input.length);
      for (const [i, p] of c.packets.entries()) {
        assert.deepEqual(p.data, input[i]!.data);
        assert.equal(p.origLen, input[i]!.origLen);
        assert.equal(p.tsNs, nanos ? input[i]!.tsNs : (input[i]!.tsNs / 1000n) * 1000n);
      }
    }),
    { numRuns: 300 },
  );
  const shipped = readCapture(shippedPcapng);
  assert.deepEqual(writePcap(shipped.packets), shippedPcap, 'the pcapng, written as pcap, is the shipped pcap');
});

test('writer errors', () => {
  assert.throws(() => writePcap([{ data: frame(1, 0), tsNs: -1n }]), (e: unknown) => e instanceof CaptureError && e.where.packet === 0);
  assert.throws(() => writePcap([{ data: frame(1, 0), tsNs: 1n << 62n }]), CaptureError);
  assert.throws(() => writePcap([frame(1, 0), frame(9, 0)].map((data) => ({ data, origLen: 4 }))), /packet 1: original length 4/);
  assert.throws(() => writePcap([], { linkType: 70000 }), CaptureError);
  assert.throws(() => writePcap([], { snapLen: -1 }), CaptureError);
  assert.equal(new DataView(writePcap([{ data: frame(300000, 0) }]).buffer).getUint32(16, true), 300000, 'snap length grows');
});

// --------------------------------------------------------------- fuzz ----

test('fuzz: random bytes behind each magic give a capture or a CaptureError', () => {
  const prefixes = [new Uint8Array(0), shippedPcap.subarray(0, 24), pcapFile(false, true, []), new Pcapng(true).shb(), new Pcapng(false).shb()];
  fc.assert(
    fc.property(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 400 }), (prefix, tail) => {
      readOrCaptureError(concat(prefix, tail));
    }),
    { numRuns: 3000 },
  );
});

/** Offsets of every record or block header in a shipped file, where mutations matter most. */
function headerOffsets(bytes: Uint8Array, ng: boolean): number[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  for (let off = ng ? 0 : 24; off + 12 <= bytes.length;) {
    out.push(off);
    off += ng ? v.getUint32(off + 4, true) : 16 + v.getUint32(off + 8, true);
  }
  return out;
}

test('fuzz: mutated shipped files give a capture or a CaptureError', () => {
  for (const [bytes, ng] of [[shippedPcap, false], [shippedPcapng, true]] as const) {
    const heads = headerOffsets(bytes, ng);
    const edit = fc.oneof(
      fc.record({ at: fc.nat({ max: bytes.length - 1 }), value: fc.nat({ max: 255 }) }),
      fc.record({ at: fc.constantFrom(...heads).chain((h) => fc.integer({ min: h, max: h + 31 })), value: fc.nat({ max: 255 }) }),
    );
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 6 }), fc.option(fc.nat({ max: bytes.length })), (edits, cut) => {
        const m = bytes.slice(0, cut ?? bytes.length);
        for (const { at, value } of edits) if (at < m.length) m[at] = value;
        readOrCaptureError(m);
      }),
      { numRuns: 400 },
    );
  }
});

// -------------------------------------------------- reproducible inputs ----

test('testdata/progs/build.sh rebuilds every committed object byte for byte', (t) => {
  if (!needClang(t)) return;
  const sources = readdirSync(PROGS).filter((f) => f.endsWith('.c')).sort();
  const objects = readdirSync(PROGS).filter((f) => f.endsWith('.o')).sort();
  assert.ok(sources.length >= 10, `${sources.length} programs`);
  assert.deepEqual(objects, sources.map((s) => s.replace(/\.c$/, '.o')), 'one committed object per source');
  rebuildElsewhere('progs', sources, (dir) => {
    for (const o of objects) {
      assert.ok(Buffer.compare(readFileSync(join(dir, o)), readFileSync(join(PROGS, o))) === 0, `${o} differs from the committed object`);
    }
  });
});

test('testdata/gen-pcap.mjs reproduces the committed captures', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-pcap-'));
  try {
    const r = spawnSync(process.execPath, [join(TESTDATA, 'gen-pcap.mjs'), dir], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'mixed.pcap'))), shippedPcap);
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'mixed.pcapng'))), shippedPcapng);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
