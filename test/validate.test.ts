/**
 * Focused tests of `validate(insn)` (src/isa/validate.ts): which opcodes
 * exist, and which field values each one allows. The table of valid opcodes
 * is written out here by hand from RFC 9669 (Appendix A, "Initial Opcode
 * Values", plus the legacy packet instructions of section 5.5) and the Linux
 * extensions, independently of src/isa/opcodes.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Instruction, insn, validate } from '../src/isa/index.js';

/** RFC 9669 opcodes, by class. */
const RFC_OPCODES: Record<string, readonly number[]> = {
  // ALU (32-bit): add sub mul div/sdiv or and lsh rsh neg mod/smod xor mov/movsx arsh, K and X; le, be.
  alu: [
    0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x34, 0x3c, 0x44, 0x4c, 0x54, 0x5c, 0x64, 0x6c, 0x74, 0x7c,
    0x84, 0x94, 0x9c, 0xa4, 0xac, 0xb4, 0xbc, 0xc4, 0xcc, 0xd4, 0xdc,
  ],
  // ALU64: the same, neg K only, and bswap (0xd7).
  alu64: [
    0x07, 0x0f, 0x17, 0x1f, 0x27, 0x2f, 0x37, 0x3f, 0x47, 0x4f, 0x57, 0x5f, 0x67, 0x6f, 0x77, 0x7f,
    0x87, 0x97, 0x9f, 0xa7, 0xaf, 0xb7, 0xbf, 0xc7, 0xcf, 0xd7,
  ],
  // JMP: ja, the conditions K and X, call, exit.
  jmp: [
    0x05, 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d, 0x45, 0x4d, 0x55, 0x5d, 0x65, 0x6d, 0x75, 0x7d,
    0x85, 0x95, 0xa5, 0xad, 0xb5, 0xbd, 0xc5, 0xcd, 0xd5, 0xdd,
  ],
  // JMP32: gotol (ja with a 32-bit imm), the conditions K and X.
  jmp32: [
    0x06, 0x16, 0x1e, 0x26, 0x2e, 0x36, 0x3e, 0x46, 0x4e, 0x56, 0x5e, 0x66, 0x6e, 0x76, 0x7e,
    0xa6, 0xae, 0xb6, 0xbe, 0xc6, 0xce, 0xd6, 0xde,
  ],
  // LD: lddw; legacy packet access ABS and IND, W/H/B.
  ld: [0x18, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50],
  // LDX: MEM W/H/B/DW, MEMSX W/H/B.
  ldx: [0x61, 0x69, 0x71, 0x79, 0x81, 0x89, 0x91],
  st: [0x62, 0x6a, 0x72, 0x7a],
  // STX: MEM W/H/B/DW, ATOMIC W/DW.
  stx: [0x63, 0x6b, 0x73, 0x7b, 0xc3, 0xdb],
};

/** Linux extensions that tsbpf accepts. */
const LINUX_OPCODES: readonly number[] = [
  0x8d, // callx (call by register)
  0xe5, // JMP | JCOND: may_goto
  0xcb, 0xd3, // ATOMIC H and B: load-acquire and store-release only
];

const VALID = new Set([...Object.values(RFC_OPCODES).flat(), ...LINUX_OPCODES]);

/** Field sets to try with every opcode: whatever the opcode, one of these is a valid encoding of it, if it exists. */
const CANDIDATES: ReadonlyArray<Partial<Omit<Instruction, 'opcode'>>> = [
  {},
  { dst: 1, src: 2 },
  { imm: 16 },
  { imm: 64 },
  { imm: 0x100 },
  { imm: 0x110 },
  { off: 1 },
  { off: 8 },
  { src: 1 },
  { imm: 1 },
  { imm: 0xe1 },
  { imm: 0xf1 },
];

const hex = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;

test('the opcode table lists 125 opcode bytes of RFC 9669 and 4 Linux extensions, each once', () => {
  const rfc = Object.values(RFC_OPCODES).flat();
  assert.equal(new Set(rfc).size, rfc.length, 'an opcode is listed twice');
  assert.equal(rfc.length, 125);
  for (const o of LINUX_OPCODES) assert.ok(!rfc.includes(o));
});

test('every opcode byte 0-255 is classified as the RFC and the Linux extensions say', () => {
  const wrong: string[] = [];
  for (let o = 0; o < 256; o++) {
    const results = CANDIDATES.map((f) => validate(insn(o, f)));
    if (VALID.has(o)) {
      if (!results.some((r) => r === null)) wrong.push(`${hex(o)} should be valid, got ${JSON.stringify(results[0])}`);
      // Whatever else is wrong with it, a valid opcode is never blamed on the opcode field.
      const blamed = results.find((r) => r?.field === 'opcode');
      if (blamed) wrong.push(`${hex(o)} is valid, but an encoding of it was rejected as: ${blamed.reason}`);
    } else {
      const bad = results.find((r) => r === null || r.field !== 'opcode');
      if (bad !== undefined) wrong.push(`${hex(o)} should be an unknown opcode, got ${JSON.stringify(bad)}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('lddw: pseudo sources 0-6 are accepted, 7 and above are rejected on src', () => {
  for (let src = 0; src <= 6; src++) assert.equal(validate(insn(0x18, { dst: 1, src, imm: 3 })), null, `src ${src}`);
  for (let src = 7; src <= 15; src++) {
    const p = validate(insn(0x18, { dst: 1, src, imm: 3 }));
    assert.equal(p?.field, 'src', `src ${src}`);
    assert.ok(p.reason.length > 0);
  }
});

test('lddw: the second slot imm is free for a constant and a map value, zero for a map, a function and a map index', () => {
  for (const src of [0, 2, 3, 6]) assert.equal(validate(insn(0x18, { dst: 1, src, imm: 3, imm2: 16 })), null, `src ${src}`);
  for (const src of [1, 4, 5]) assert.equal(validate(insn(0x18, { dst: 1, src, imm: 3, imm2: 16 }))?.field, 'imm2', `src ${src}`);
  assert.equal(validate(insn(0x18, { dst: 1, off: 1 }))?.field, 'off');
  assert.equal(validate(insn(0x18, { dst: 10 }))?.field, 'dst');
  assert.equal(validate(insn(0x18, { dst: 11 }))?.field, 'dst');
});

test('call: src 0 (helper), 1 (local) and 2 (kfunc) are accepted, 3 and above are rejected on src', () => {
  for (let src = 0; src <= 2; src++) assert.equal(validate(insn(0x85, { src, imm: 5 })), null, `src ${src}`);
  for (let src = 3; src <= 15; src++) assert.equal(validate(insn(0x85, { src, imm: 5 }))?.field, 'src', `src ${src}`);
  // The kfunc form may name a module BTF in off; helpers and local calls may not.
  assert.equal(validate(insn(0x85, { src: 2, imm: 5, off: 1 })), null);
  assert.equal(validate(insn(0x85, { src: 0, imm: 5, off: 1 }))?.field, 'off');
  assert.equal(validate(insn(0x85, { src: 1, imm: 5, off: 1 }))?.field, 'off');
  assert.equal(validate(insn(0x85, { src: 1, imm: 5, dst: 1 }))?.field, 'dst');
  // callx: the target is in dst.
  assert.equal(validate(insn(0x8d, { dst: 3 })), null);
  assert.equal(validate(insn(0x8d, { dst: 3, imm: 1 }))?.field, 'imm');
  assert.equal(validate(insn(0x8d, { dst: 11 }))?.field, 'dst');
});

test('exit, ja, gotol and may_goto: the fields they do not use must be 0', () => {
  assert.equal(validate(insn(0x95)), null);
  for (const f of ['dst', 'src', 'off', 'imm'] as const) assert.equal(validate(insn(0x95, { [f]: 1 }))?.field, f);
  assert.equal(validate(insn(0x05, { off: -3 })), null);
  assert.equal(validate(insn(0x05, { imm: 1 }))?.field, 'imm');
  assert.equal(validate(insn(0x06, { imm: -100000 })), null);
  assert.equal(validate(insn(0x06, { off: 1 }))?.field, 'off');
  assert.equal(validate(insn(0xe5, { off: 7 })), null);
  assert.equal(validate(insn(0xe5, { off: 7, src: 1 }))?.field, 'src');
  assert.equal(validate(insn(0xe5, { off: 7, imm: 1 }))?.field, 'imm');
});

test('conditional jumps: K forms take no src, X forms no imm', () => {
  assert.equal(validate(insn(0x15, { dst: 1, imm: 5, off: 2 })), null);
  assert.equal(validate(insn(0x15, { dst: 1, src: 2, imm: 5 }))?.field, 'src');
  assert.equal(validate(insn(0x1d, { dst: 1, src: 2, off: 2 })), null);
  assert.equal(validate(insn(0x1d, { dst: 1, src: 2, imm: 5 }))?.field, 'imm');
  assert.equal(validate(insn(0x1e, { dst: 1, src: 11 }))?.field, 'src');
  // Reading r10 is fine.
  assert.equal(validate(insn(0x1d, { dst: 10, src: 10 })), null);
});

test('ALU: registers, offsets and immediates', () => {
  assert.equal(validate(insn(0x07, { dst: 10, imm: 1 }))?.field, 'dst', 'r10 is read-only');
  assert.equal(validate(insn(0x07, { dst: 11, imm: 1 }))?.field, 'dst');
  assert.equal(validate(insn(0x0f, { dst: 1, src: 10 })), null, 'r10 may be read');
  assert.equal(validate(insn(0x07, { dst: 1, src: 2, imm: 1 }))?.field, 'src', 'K form with a src');
  assert.equal(validate(insn(0x0f, { dst: 1, src: 2, imm: 1 }))?.field, 'imm', 'X form with an imm');
  // off 1 selects sdiv/smod; nothing else takes an offset except mov X.
  for (const o of [0x34, 0x3c, 0x37, 0x3f, 0x94, 0x9c, 0x97, 0x9f]) {
    assert.equal(validate(insn(o, { dst: 1, src: o & 8 ? 2 : 0, imm: o & 8 ? 0 : 3, off: 1 })), null, hex(o));
    assert.equal(validate(insn(o, { dst: 1, src: o & 8 ? 2 : 0, imm: o & 8 ? 0 : 3, off: 2 }))?.field, 'off', hex(o));
  }
  assert.equal(validate(insn(0x07, { dst: 1, imm: 1, off: 1 }))?.field, 'off');
  // movsx: 8 and 16 in both widths, 32 in ALU64 only; never with K.
  for (const off of [8, 16, 32]) assert.equal(validate(insn(0xbf, { dst: 1, src: 2, off })), null, `alu64 movsx${off}`);
  for (const off of [8, 16]) assert.equal(validate(insn(0xbc, { dst: 1, src: 2, off })), null, `alu32 movsx${off}`);
  assert.equal(validate(insn(0xbc, { dst: 1, src: 2, off: 32 }))?.field, 'off');
  assert.equal(validate(insn(0xb7, { dst: 1, off: 8 }))?.field, 'off');
  // addr_space_cast: ALU64 mov X, off 1, imm 1 or 0x10000.
  assert.equal(validate(insn(0xbf, { dst: 1, src: 2, off: 1, imm: 1 })), null);
  assert.equal(validate(insn(0xbf, { dst: 1, src: 2, off: 1, imm: 0x10000 })), null);
  assert.equal(validate(insn(0xbf, { dst: 1, src: 2, off: 1, imm: 2 }))?.field, 'imm');
  // neg: nothing but dst.
  assert.equal(validate(insn(0x87, { dst: 1 })), null);
  assert.equal(validate(insn(0x87, { dst: 1, imm: 1 }))?.field, 'imm');
  // Byte swaps: 16, 32 or 64.
  for (const o of [0xd4, 0xdc, 0xd7]) {
    for (const imm of [16, 32, 64]) assert.equal(validate(insn(o, { dst: 1, imm })), null, `${hex(o)} ${imm}`);
    for (const imm of [0, 8, 24, 128]) assert.equal(validate(insn(o, { dst: 1, imm }))?.field, 'imm', `${hex(o)} ${imm}`);
  }
});

test('loads and stores: registers, modes and the fields they do not use', () => {
  assert.equal(validate(insn(0x79, { dst: 1, src: 10, off: -8 })), null);
  assert.equal(validate(insn(0x79, { dst: 10, src: 1 }))?.field, 'dst', 'a load into r10');
  assert.equal(validate(insn(0x79, { dst: 1, src: 1, imm: 1 }))?.field, 'imm');
  assert.equal(validate(insn(0x7a, { dst: 10, off: -8, imm: 7 })), null, 'a store through r10');
  assert.equal(validate(insn(0x7a, { dst: 10, src: 1 }))?.field, 'src');
  assert.equal(validate(insn(0x7b, { dst: 10, src: 10, off: -8 })), null, 'storing r10 itself');
  assert.equal(validate(insn(0x7b, { dst: 10, src: 1, imm: 1 }))?.field, 'imm');
  // MEMSX has no DW form (0x99).
  assert.equal(validate(insn(0x99, { dst: 1, src: 2 }))?.field, 'opcode');
  // Legacy packet access: ABS uses only imm, IND a src register too.
  assert.equal(validate(insn(0x20, { imm: 12 })), null);
  assert.equal(validate(insn(0x20, { src: 1, imm: 12 }))?.field, 'src');
  assert.equal(validate(insn(0x40, { src: 3, imm: 12 })), null);
  assert.equal(validate(insn(0x40, { dst: 1, src: 3 }))?.field, 'dst');
  assert.equal(validate(insn(0x38))?.field, 'opcode', 'no DW legacy load');
});

test('atomics: the operations, their sizes and the registers they write', () => {
  const rmw = [0x00, 0x40, 0x50, 0xa0, 0x01, 0x41, 0x51, 0xa1, 0xe1, 0xf1];
  for (const o of [0xc3, 0xdb]) {
    for (const imm of rmw) assert.equal(validate(insn(o, { dst: 10, src: 1, off: -8, imm })), null, `${hex(o)} ${hex(imm)}`);
    for (const imm of [0x02, 0x10, 0x20, 0xe0, 0xf0, 0x101, 0x120]) assert.equal(validate(insn(o, { dst: 10, src: 1, imm }))?.field, 'imm', `${hex(o)} ${hex(imm)}`);
  }
  // Byte and half-word atomics exist only as load-acquire and store-release.
  for (const o of [0xcb, 0xd3]) {
    assert.equal(validate(insn(o, { dst: 1, src: 10, off: -8, imm: 0x100 })), null);
    assert.equal(validate(insn(o, { dst: 10, src: 1, off: -8, imm: 0x110 })), null);
    for (const imm of rmw) assert.equal(validate(insn(o, { dst: 10, src: 1, imm }))?.field, 'imm', `${hex(o)} ${hex(imm)}`);
  }
  // The fetch forms and xchg write src, load-acquire writes dst: never r10.
  for (const imm of [0x01, 0x41, 0x51, 0xa1, 0xe1]) assert.equal(validate(insn(0xdb, { dst: 1, src: 10, imm }))?.field, 'src', hex(imm));
  for (const imm of [0x00, 0x40, 0xf1]) assert.equal(validate(insn(0xdb, { dst: 1, src: 10, imm })), null, hex(imm));
  assert.equal(validate(insn(0xdb, { dst: 10, src: 1, imm: 0x100 }))?.field, 'dst');
  assert.equal(validate(insn(0xdb, { dst: 10, src: 10, imm: 0x110 })), null);
});

test('fields outside their encodable range are rejected on that field', () => {
  const base = insn(0xb7, { dst: 1, imm: 1 });
  const cases: Array<[Partial<Instruction>, string]> = [
    [{ opcode: 256 }, 'opcode'], [{ opcode: -1 }, 'opcode'], [{ opcode: 1.5 }, 'opcode'],
    [{ dst: 16 }, 'dst'], [{ dst: -1 }, 'dst'], [{ src: 16 }, 'src'],
    [{ off: 32768 }, 'off'], [{ off: -32769 }, 'off'], [{ off: Number.NaN }, 'off'],
    [{ imm: 2 ** 31 }, 'imm'], [{ imm: -(2 ** 31) - 1 }, 'imm'],
  ];
  for (const [patch, field] of cases) assert.equal(validate({ ...base, ...patch })?.field, field, JSON.stringify(patch));
  assert.equal(validate({ ...insn(0x18, { dst: 1 }), imm2: 2 ** 32 })?.field, 'imm2');
  // The extremes themselves are fine.
  assert.equal(validate({ ...base, imm: -(2 ** 31) }), null);
  assert.equal(validate(insn(0x05, { off: -32768 })), null);
  assert.equal(validate(insn(0x05, { off: 32767 })), null);
});
