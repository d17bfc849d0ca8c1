import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decode, DecodeError, encode, insn, validate } from '../src/isa/index.js';
import * as O from '../src/isa/opcodes.js';

const bytesOf = (...words: number[][]): Uint8Array => new Uint8Array(words.flat());

test('the decoder names the slot and the field of an invalid instruction', () => {
  // slot 0 valid, slot 1: add64 imm with a non-zero offset.
  const e = (() => {
    try { decode(bytesOf([0xb7, 0, 0, 0, 1, 0, 0, 0], [0x07, 0, 1, 0, 1, 0, 0, 0], [0x95, 0, 0, 0, 0, 0, 0, 0])); } catch (err) { return err; }
    return null;
  })();
  assert.ok(e instanceof DecodeError);
  assert.equal(e.insn, 1);
  assert.equal(e.field, 'off');
  assert.match(e.message, /^instruction 1: invalid off/);
});

test('unknown opcodes, bad registers and a truncated lddw are rejected', () => {
  const cases: Array<[Uint8Array, string]> = [
    [bytesOf([0xff, 0, 0, 0, 0, 0, 0, 0]), 'opcode'],
    [bytesOf([0xbf, 0xb0, 0, 0, 0, 0, 0, 0], [0x95, 0, 0, 0, 0, 0, 0, 0]), 'src'], // r11
    [bytesOf([0xb7, 0x0a, 0, 0, 0, 0, 0, 0]), 'dst'], // writes r10
    [bytesOf([0x18, 0, 0, 0, 1, 0, 0, 0]), 'imm2'], // lddw without its second slot
    [bytesOf([0x18, 0, 0, 0, 1, 0, 0, 0], [0x95, 0, 0, 0, 0, 0, 0, 0]), 'opcode'], // second slot is not zero
    [new Uint8Array(12), 'length'],
    [new Uint8Array(0), 'program'],
    [bytesOf([0xd4, 0, 0, 0, 17, 0, 0, 0]), 'imm'], // le17
    [bytesOf([0xdb, 0x10, 0xf8, 0xff, 0x02, 0, 0, 0]), 'imm'], // unknown atomic op
  ];
  for (const [b, field] of cases) {
    assert.throws(() => decode(b), (e: unknown) => e instanceof DecodeError && e.field === field, `expected a ${field} error`);
  }
});

test('every opcode that RFC 9669 and the Linux extensions define decodes', () => {
  const ok: Array<Parameters<typeof insn>> = [
    [0x18, { src: O.PSEUDO_MAP_VALUE, imm: 3, imm2: 16 }],
    [0x18, { src: O.PSEUDO_MAP_IDX_VALUE, imm: 0, imm2: 8 }],
    [0x18, { src: O.PSEUDO_BTF_ID, imm: 77 }],
    [0x20, { imm: 12 }], [0x48, { src: 3, imm: 2 }],
    [0x81, { dst: 1, src: 2, off: 4 }],
    [0xdb, { dst: 10, src: 1, off: -8, imm: O.ATOMIC_CMPXCHG }],
    [0xc3, { dst: 10, src: 1, off: -8, imm: O.ATOMIC_XOR | O.ATOMIC_FETCH }],
    [0xd3, { dst: 0, src: 1, imm: O.ATOMIC_LOAD_ACQ }],
    [0xcb, { dst: 1, src: 2, imm: O.ATOMIC_STORE_REL }],
    [0xbf, { dst: 1, src: 2, off: 1, imm: 1 }], // addr_space_cast
    [0xbf, { dst: 1, src: 2, off: 32 }], // movsx
    [0x3c, { dst: 1, src: 2, off: 1 }], // sdiv32
    [0xd7, { dst: 1, imm: 64 }], // bswap64
    [0x06, { imm: 100000 }], // gotol
    [0xe5, { off: 3 }], // may_goto
    [0x85, { src: O.CALL_KFUNC, imm: 1234, off: 1 }],
    [0x8d, { dst: 2 }], // callx
  ];
  for (const args of ok) {
    const i = insn(...args);
    assert.equal(validate(i), null, `0x${i.opcode.toString(16)} ${JSON.stringify(i)}`);
    assert.deepEqual(decode(encode([i])), [i]);
  }
});

test('random bytes give a program or a DecodeError, never anything else', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 96 }), (b) => {
      try {
        const p = decode(b);
        assert.deepEqual(encode(p), b);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
      }
    }),
    { numRuns: 20000, seed: 1 },
  );
});

test('random 8-byte-aligned instruction words decode or fail with a DecodeError', () => {
  // Bias toward valid opcodes so the field checks are exercised, not just the opcode table.
  const word = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 0, 1, 8, 16, 32, 0xffff), fc.constantFrom(0, 0, 1, 16, 32, 64, 0x100, 0x110, 0xe1, 0xf1, -1));
  fc.assert(
    fc.property(fc.array(word, { minLength: 1, maxLength: 8 }), (ws) => {
      const b = new Uint8Array(ws.length * 8);
      const v = new DataView(b.buffer);
      ws.forEach(([op, regs, off, imm], k) => {
        v.setUint8(k * 8, op); v.setUint8(k * 8 + 1, regs); v.setUint16(k * 8 + 2, off, true); v.setInt32(k * 8 + 4, imm, true);
      });
      try {
        const p = decode(b);
        assert.deepEqual(encode(p), b);
        for (const i of p) assert.equal(validate(i), null);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
      }
    }),
    { numRuns: 20000, seed: 2 },
  );
});
