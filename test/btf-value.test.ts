import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  Btf, BtfValueError, decodeValue, encodeValue, formatValue, toJson,
  type BtfComposite, type BtfDatasec, type BtfType, type BtfValue,
} from '../src/btf/index.js';
import { REPO_ROOT } from './support/conformance-data.js';
import { elfSections } from './support/elf-sections.js';

const DIR = `${REPO_ROOT}testdata/core/`;

/** The object's BTF with `.data`'s DATASEC offsets and size filled in from the symbol table, as a loader does. */
function loadValues(file: string): { btf: Btf; data: Uint8Array; datasec: number } {
  const elf = elfSections(new Uint8Array(readFileSync(DIR + file)));
  const btf = Btf.parse(elf.get('.BTF'));
  const data = elf.get('.data');
  const ds = btf.find('.data', 'datasec') as BtfDatasec;
  ds.size = data.length;
  for (const v of ds.vars) {
    const sym = elf.symbols.find((s) => s.section === '.data' && s.name === btf.get(v.type).name)!;
    v.offset = sym.value;
  }
  return { btf, data, datasec: ds.id };
}

const recordOf = (le: boolean): Record<string, BtfValue> => ({
  id: -7,
  count: 0xfedcba9876543210n,
  delta: -5n,
  name: 'bash',
  raw: [1, 2, 0x80, 0xff],
  ptr: 0x1000n,
  col: 'GREEN',
  sign: 'MINUS',
  w: 'WIDE',
  on: true,
  x: -2,
  u1: 0x41424344,
  u2: le ? 0x44 : 0x41,
  f: { lo: 5, mid: 100, s: -9, big: 0xabcdef0123n, c: 'BLUE', ok: true, tail: 200 },
  grid: [[1, 2, 3], [-4, -5, -6]],
  fl: 1.5,
  db: -2.25,
  huge: (1n << 100n) + 7n,
});

for (const [file, le] of [['values.el.o', true], ['values.eb.o', false]] as const) {
  test(`clang-built .data decodes to the C initialisers and encodes back to the same bytes (${le ? 'little' : 'big'}-endian)`, () => {
    const { btf, data, datasec } = loadValues(file);
    assert.equal(btf.littleEndian, le);
    const v = decodeValue(btf, datasec, data);
    assert.deepEqual(v, { rec: recordOf(le), counter: 42, text: 'hi', odd: 3 });
    assert.deepEqual(encodeValue(btf, datasec, v), data);
    // One variable on its own, at its offset.
    const rec = btf.find('record', 'struct')!;
    const at = (btf.get(datasec) as BtfDatasec).vars[0]!.offset;
    assert.deepEqual(encodeValue(btf, rec.id, recordOf(le)), data.subarray(at, at + 160));
  });
}

test('bitfields: values across storage units, signed, 40-bit, enum and bool, both byte orders', () => {
  const le = loadValues('values.el.o');
  const be = loadValues('values.eb.o');
  const flags = le.btf.find('flags', 'struct')!.id;
  const want = { lo: 7, mid: 0, s: -16, big: (1n << 40n) - 1n, c: 9, ok: false, tail: 1 };
  const a = encodeValue(le.btf, flags, want);
  const b = encodeValue(be.btf, be.btf.find('flags', 'struct')!.id, want);
  assert.deepEqual(decodeValue(le.btf, flags, a), want);
  assert.deepEqual(decodeValue(be.btf, be.btf.find('flags', 'struct')!.id, b), want);
  // lo is bits 0-2: the low bits of byte 0 little-endian, the high bits big-endian.
  assert.equal(a[0]! & 0x07, 7);
  assert.equal(b[0]! >> 5, 7);
  assert.notDeepEqual(a, b);
});

// A hand-built BTF (ids in comments) for the cases clang does not emit.
function handBtf(le = true): Btf {
  const types: BtfType[] = [
    { kind: 'void', id: 0, name: '' },
    { kind: 'int', id: 1, name: 'int', size: 4, signed: true, char: false, bool: false, offset: 0, bits: 32 },
    { kind: 'int', id: 2, name: 'unsigned char', size: 1, signed: false, char: false, bool: false, offset: 0, bits: 8 },
    { kind: 'int', id: 3, name: 'u16', size: 2, signed: false, char: false, bool: false, offset: 0, bits: 16 },
    // Old-style bitfield: a 3-bit int at bit offset 2 of its member slot.
    { kind: 'int', id: 4, name: 'int3', size: 4, signed: true, char: false, bool: false, offset: 2, bits: 3 },
    { kind: 'float', id: 5, name: '_Float16', size: 2 },
    { kind: 'struct', id: 6, name: 'old', size: 8, bitfields: false, members: [
      { name: 'v', type: 4, bitOffset: 0, bitSize: 0 },
      { name: 'h', type: 5, bitOffset: 32, bitSize: 0 },
      { name: 'u', type: 3, bitOffset: 48, bitSize: 0 },
    ] },
    { kind: 'int', id: 7, name: 'char', size: 1, signed: true, char: false, bool: false, offset: 0, bits: 8 },
    { kind: 'array', id: 8, name: '', type: 7, indexType: 1, nelems: 4 },
    { kind: 'typedef', id: 9, name: 'u8', type: 2 },
    { kind: 'array', id: 10, name: '', type: 9, indexType: 1, nelems: 4 },
    { kind: 'struct', id: 11, name: 'texts', size: 8, bitfields: false, members: [
      { name: 'name', type: 8, bitOffset: 0, bitSize: 0 },
      { name: 'bytes', type: 10, bitOffset: 32, bitSize: 0 },
    ] },
    { kind: 'ptr', id: 12, name: '', type: 11 },
    { kind: 'const', id: 13, name: '', type: 12 },
    { kind: 'int', id: 14, name: '_Bool', size: 1, signed: false, char: false, bool: true, offset: 0, bits: 8 },
    { kind: 'struct', id: 15, name: '__proto__', size: 9, bitfields: false, members: [
      { name: '__proto__', type: 13, bitOffset: 0, bitSize: 0 },
      { name: 'constructor', type: 14, bitOffset: 64, bitSize: 0 },
    ] },
  ];
  return new Btf(types, le);
}

test('hand-built types: old-style int bitfields, half floats, char vs byte arrays, odd member names', () => {
  const btf = handBtf();
  const bytes = new Uint8Array(8);
  bytes[0] = 0b10100; // v = 0b101 at bits 2..4 = -3 as a signed 3-bit value
  new DataView(bytes.buffer).setUint16(4, 0x3e00, true); // 1.5 as binary16
  new DataView(bytes.buffer).setUint16(6, 65535, true);
  assert.deepEqual(decodeValue(btf, 6, bytes), { v: -3, h: 1.5, u: 65535 });
  assert.deepEqual(encodeValue(btf, 6, { v: -3, h: 1.5, u: 65535 }), bytes);
  for (const x of [0, -0, 1, -2.5, 65504, 2 ** -24, 2 ** -14, 0.1, Infinity, -Infinity]) {
    const back = decodeValue(btf, 6, encodeValue(btf, 6, { h: x })) as Record<string, BtfValue>;
    assert.equal(back.h, x === 0.1 ? 0.0999755859375 : x, `half ${x}`);
  }
  assert.ok(Number.isNaN((decodeValue(btf, 6, encodeValue(btf, 6, { h: NaN })) as Record<string, BtfValue>).h));

  // char[4] holding text is a string; a typedef'd byte array never is; no NUL or unprintable -> numbers.
  assert.deepEqual(decodeValue(btf, 11, Uint8Array.of(0x68, 0x69, 0, 0, 0x68, 0x69, 0, 0)), { name: 'hi', bytes: [0x68, 0x69, 0, 0] });
  assert.deepEqual(decodeValue(btf, 11, Uint8Array.of(0x61, 0x62, 0x63, 0x64, 0, 0, 0, 0)), { name: [0x61, 0x62, 0x63, 0x64], bytes: [0, 0, 0, 0] });
  assert.deepEqual(decodeValue(btf, 11, Uint8Array.of(0x61, 0x0a, 0, 0, 0, 0, 0, 0)), { name: [0x61, 0x0a, 0, 0], bytes: [0, 0, 0, 0] });
  assert.deepEqual(decodeValue(btf, 11, new Uint8Array(8)), { name: '', bytes: [0, 0, 0, 0] });
  assert.deepEqual(encodeValue(btf, 11, { name: 'abcd', bytes: Uint8Array.of(9, 8) }), Uint8Array.of(0x61, 0x62, 0x63, 0x64, 9, 8, 0, 0));
  assert.deepEqual(encodeValue(btf, 11, { name: [-1], bytes: [255] }), Uint8Array.of(255, 0, 0, 0, 255, 0, 0, 0));

  // A member named __proto__ is an own property, not a prototype change.
  const v = decodeValue(btf, 15, Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0x80, 2)) as Record<string, BtfValue>;
  assert.ok(Object.hasOwn(v, '__proto__'));
  assert.equal(v.__proto__, 0x8000000000000001n);
  assert.equal(v.constructor, 2, 'a bool byte other than 0/1 stays a number');
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
  assert.deepEqual(encodeValue(btf, 15, v), Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0x80, 2));
});

test('encode accepts numeric strings, booleans, enumerator names and numbers; into and offset', () => {
  const { btf } = loadValues('values.el.o');
  const rec = btf.find('record', 'struct')!.id;
  const a = encodeValue(btf, rec, { id: '-7', count: '0xfedcba9876543210', delta: -5, ptr: 4096, col: 2, sign: -3, w: '0x123456789', on: 1, f: { ok: 1 } });
  const b = encodeValue(btf, rec, { id: -7n, count: 0xfedcba9876543210n, delta: '-5', ptr: '0x1000', col: 'GREEN', sign: 'MINUS', w: 'WIDE', on: true, f: { ok: true } });
  assert.deepEqual(a, b);
  const into = new Uint8Array(200).fill(0xee);
  assert.equal(encodeValue(btf, rec, { id: 1 }, into, 20), into);
  assert.equal(into[19], 0xee);
  assert.equal(into[20], 1);
  assert.equal(into[21], 0, 'the rest of the value is zeroed');
  assert.equal(into[180], 0xee);
  assert.equal(decodeValue(btf, btf.find('int', 'int')!.id, into, 20), 1);
});

test('values that do not fit are EBTFVALUE errors naming the member path', () => {
  const { btf } = loadValues('values.el.o');
  const rec = btf.find('record', 'struct')!.id;
  const bad: [unknown, RegExp][] = [
    [{ id: 2 ** 31 }, /^id: 2147483648 does not fit in int/],
    [{ count: -1 }, /^count: -1 does not fit/],
    [{ f: { lo: 8 } }, /^f\.lo: 8 does not fit in unsigned int:3 \(0\.\.7\)/],
    [{ f: { s: -17 } }, /^f\.s: -17 does not fit/],
    [{ f: { c: 'PURPLE' } }, /^f\.c: "PURPLE" is not an enumerator of enum color/],
    [{ grid: [[1, 2, 3, 4]] }, /^grid\[0\]: 4 elements do not fit in int\[3\]/],
    [{ grid: [[1, 2.5]] }, /^grid\[0\]\[1\]: 2\.5 is not an integer/],
    [{ name: 'a very long name' }, /^name: 16-byte string does not fit in char\[12\]/],
    [{ nope: 1 }, /^nope: struct record has no member "nope"/],
    [{ f: 3 }, /^f: expected an object for struct flags, got number 3/],
    [{ x: 'x' }, /^x: "x" is not a number/],
    [{ ptr: -1 }, /^ptr: -1 does not fit/],
    [{ fl: {} }, /^fl: expected a number for float, got an object/],
    [[1], /^value: expected an object for struct record, got an array/],
  ];
  for (const [value, msg] of bad) {
    assert.throws(() => encodeValue(btf, rec, value as never), (e: unknown) => {
      assert.ok(e instanceof BtfValueError, `${String(e)}`);
      assert.equal(e.code, 'EBTFVALUE');
      assert.match(e.message, msg);
      return true;
    });
  }
  assert.throws(() => decodeValue(btf, rec, new Uint8Array(159)), /needs 160 bytes at offset 0, but there are 159/);
  assert.throws(() => encodeValue(btf, rec, {}, new Uint8Array(100)), { code: 'EBTFVALUE' });
  const fn = btf.types.find((t) => t.kind === 'func')!;
  assert.throws(() => decodeValue(btf, fn.id, new Uint8Array(8)), { code: 'EBTFVALUE' });
  // A layout that lies (a member past the struct's size, an unfixed DATASEC) is a typed error too.
  const liar = new Btf([
    { kind: 'void', id: 0, name: '' },
    { kind: 'int', id: 1, name: 'int', size: 4, signed: true, char: false, bool: false, offset: 0, bits: 32 },
    { kind: 'struct', id: 2, name: 's', size: 4, bitfields: false, members: [{ name: 'far', type: 1, bitOffset: 64, bitSize: 0 }] },
    { kind: 'var', id: 3, name: 'v', type: 1, linkage: 'global' },
    { kind: 'datasec', id: 4, name: '.data', size: 0, vars: [{ type: 3, offset: 8, size: 4 }] },
  ]);
  for (const id of [2, 4]) {
    assert.throws(() => decodeValue(liar, id, new Uint8Array(4)), { code: 'EBTFVALUE', message: /runs past the end/ });
    assert.throws(() => encodeValue(liar, id, id === 2 ? { far: 1 } : { v: 1 }), { code: 'EBTFVALUE', message: /runs past the end/ });
  }
});

test('toJson: 64-bit integers are numbers below 2^53 and decimal strings from there', () => {
  assert.deepEqual(toJson({ a: 2n ** 53n - 1n, b: 2n ** 53n, c: -(2n ** 53n) + 1n, d: -(2n ** 53n), e: [1, 'x', true, NaN, -Infinity] }), {
    a: 9007199254740991, b: '9007199254740992', c: -9007199254740991, d: '-9007199254740992', e: [1, 'x', true, 'NaN', '-Infinity'],
  });
  const { btf, data, datasec } = loadValues('values.el.o');
  const json = JSON.parse(JSON.stringify(toJson(decodeValue(btf, datasec, data)))) as { rec: Record<string, unknown> };
  assert.equal(json.rec.count, '18364758544493064720');
  assert.equal(json.rec.delta, -5);
  assert.equal(json.rec.huge, ((1n << 100n) + 7n).toString());
});

test('formatValue prints the bpftool map dump form', () => {
  const { btf, data, datasec } = loadValues('values.el.o');
  const rec = btf.find('record', 'struct')!.id;
  const text = formatValue(btf, rec, data, (btf.get(datasec) as BtfDatasec).vars[0]!.offset);
  assert.equal(text, [
    '{',
    '    "id": -7,',
    '    "count": 18364758544493064720,',
    '    "delta": -5,',
    '    "name": "bash",',
    '    "raw": [1, 2, 128, 255],',
    '    "ptr": 0x1000,',
    '    "col": "GREEN",',
    '    "sign": "MINUS",',
    '    "w": "WIDE",',
    '    "on": true,',
    '    "x": -2,',
    '    "u1": 1094861636,',
    '    "u2": 68,',
    '    "f": {',
    '        "lo": 5,',
    '        "mid": 100,',
    '        "s": -9,',
    `        "big": ${0xabcdef0123n},`,
    '        "c": "BLUE",',
    '        "ok": true,',
    '        "tail": 200',
    '    },',
    '    "grid": [[1, 2, 3], [-4, -5, -6]],',
    '    "fl": 1.5,',
    '    "db": -2.25,',
    '    "huge": 1267650600228229401496703205383',
    '}',
  ].join('\n'));
});

/** Bits of `t` that some member describes (padding and unused bitfield bits are 0), in the BTF's byte order. */
function memberMask(btf: Btf, id: number): Uint8Array {
  const mask = new Uint8Array(btf.sizeOf(id));
  const mark = (from: number, bits: number): void => {
    for (let k = from; k < from + bits; k++) mask[k >> 3]! |= btf.littleEndian ? 1 << (k & 7) : 0x80 >> (k & 7);
  };
  const walk = (tid: number, base: number): void => {
    const t = btf.resolved(tid);
    if (t.kind === 'struct' || t.kind === 'union') {
      for (const m of t.members) {
        if (m.bitSize > 0) mark(base + m.bitOffset, m.bitSize);
        else walk(m.type, base + m.bitOffset);
      }
    } else if (t.kind === 'array') {
      const size = btf.sizeOf(t.type);
      for (let i = 0; i < t.nelems; i++) walk(t.type, base + i * size * 8);
    } else {
      mark(base, btf.sizeOf(tid) * 8);
    }
  };
  walk(id, 0);
  return mask;
}

test('property: encode(decode(bytes)) gives the bytes back, modulo padding (both byte orders)', () => {
  const cases = [loadValues('values.el.o').btf, loadValues('values.eb.o').btf].flatMap((btf) => [
    { btf, id: btf.find('flags', 'struct')!.id },
    // record without its text and float members: every other bit survives exactly.
    { btf, id: btf.find('record', 'struct')!.id, skip: ['name', 'fl', 'db'] },
  ]);
  for (const { btf, id, skip } of cases) {
    const size = btf.sizeOf(id);
    const mask = memberMask(btf, id);
    const t = btf.get(id) as BtfComposite;
    const keep = new Uint8Array(size).fill(0xff);
    for (const m of t.members) {
      if (skip?.includes(m.name)) keep.fill(0, m.bitOffset / 8, m.bitOffset / 8 + btf.sizeOf(m.type));
    }
    fc.assert(fc.property(fc.uint8Array({ minLength: size, maxLength: size }), (bytes) => {
      const v = decodeValue(btf, id, bytes) as Record<string, BtfValue>;
      for (const k of skip ?? []) delete v[k];
      const back = encodeValue(btf, id, v);
      for (let i = 0; i < size; i++) {
        const m = mask[i]! & keep[i]!;
        if ((back[i]! & m) !== (bytes[i]! & m)) return false;
        if ((back[i]! & ~mask[i]! & 0xff) !== 0) return false; // padding is written as zero
      }
      return true;
    }), { numRuns: 300 });
  }
});

test('property: decode(encode(decode(bytes))) is decode(bytes) for text and floats too', () => {
  const { btf } = loadValues('values.el.o');
  const id = btf.find('record', 'struct')!.id;
  const nameAt = (btf.get(id) as BtfComposite).members.find((m) => m.name === 'name')!.bitOffset / 8;
  fc.assert(fc.property(fc.uint8Array({ minLength: 160, maxLength: 160 }), fc.boolean(), fc.string({ maxLength: 11 }), (bytes, asText, s) => {
    const text = s.replace(/[^\x20-\x7e]/g, 'x');
    if (asText) bytes.set([...text].map((c) => c.charCodeAt(0)).concat(0), nameAt);
    const v = decodeValue(btf, id, bytes);
    assert.deepStrictEqual(decodeValue(btf, id, encodeValue(btf, id, v)), v);
  }), { numRuns: 300 });
});
