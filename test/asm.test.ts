import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { AsmError, assemble, detectSyntax, disassemble, formatInstruction, type Syntax } from '../src/asm/index.js';
import { encode, insn, type Instruction, slotIndex, validate } from '../src/isa/index.js';

const SHARED = new URL('../../../shared/conformance/', import.meta.url);

/** Sections of a bpf_conformance `.data` file. */
function sections(text: string): Map<string, string[]> {
  const known = /^-- (asm|raw|result|mem|error|c|no register offset)\s*$/;
  const out = new Map<string, string[]>();
  let cur: string[] | null = null;
  for (const line of text.split('\n')) {
    const m = known.exec(line);
    if (m) {
      cur = [];
      out.set(m[1]!, cur);
    } else if (cur) {
      cur.push(line);
    }
  }
  return out;
}

/** `-- raw` 64-bit words (0x...) as instruction bytes, little-endian. */
function rawBytes(lines: string[]): Uint8Array {
  const words = lines.map((l) => l.replace(/#.*/, '').trim()).filter((l) => l !== '');
  const out = new Uint8Array(words.length * 8);
  const view = new DataView(out.buffer);
  words.forEach((w, k) => view.setBigUint64(k * 8, BigInt(w), true));
  return out;
}

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const bytesOf = (p: readonly Instruction[]): string => hex(encode(p));

function files(dir: string, filter: (f: string) => boolean): Array<[string, string]> {
  const url = new URL(`${dir}/`, SHARED);
  return readdirSync(url).filter(filter).sort().map((f) => [f, readFileSync(new URL(f, url), 'utf8')]);
}

test('every conformance positive test assembles, matches -- raw, and round-trips', () => {
  const tests = files('tests', (f) => f.endsWith('.data'));
  assert.equal(tests.length, 313);
  let withRaw = 0;
  for (const [name, text] of tests) {
    const s = sections(text);
    const asm = s.get('asm');
    assert.ok(asm, `${name} has an asm section`);
    const src = asm.join('\n');
    assert.equal(detectSyntax(src), 'ubpf', name);
    const program = assemble(src);
    for (const i of program) assert.equal(validate(i), null, name);
    const raw = s.get('raw');
    if (raw) {
      withRaw++;
      assert.equal(bytesOf(program), hex(rawBytes(raw)), name);
    }
    for (const syntax of ['ubpf', 'llvm'] as const) {
      for (const labels of [true, false]) {
        const out = disassemble(program, { syntax, labels });
        assert.equal(bytesOf(assemble(out, { syntax })), bytesOf(program), `${name} via ${syntax} labels=${labels}`);
      }
    }
  }
  assert.ok(withRaw >= 1);
});

test('every invalid_* conformance negative is rejected with an AsmError', () => {
  const negatives = files('negative', (f) => f.startsWith('invalid_'));
  assert.equal(negatives.length, 11);
  for (const [name, text] of negatives) {
    const asm = sections(text).get('asm');
    assert.ok(asm, `${name} has an asm section`);
    assert.throws(() => assemble(asm.join('\n')), AsmError, name);
    assert.throws(() => assemble(asm.join('\n'), { syntax: 'ubpf' }), AsmError, name);
  }
});

test('empty programs are rejected', () => {
  for (const text of ['', '\n\n', '# only a comment\n', 'label:\n']) {
    for (const syntax of ['ubpf', 'llvm'] as const) {
      assert.throws(() => assemble(text, { syntax }), AsmError);
    }
  }
});

test('errors name the line and column', () => {
  const text = 'mov %r0, 1\n\n  add32 %r1, %r11\nexit\n';
  const e = catchAsm(() => assemble(text));
  assert.equal(e.code, 'EASM');
  assert.equal(e.line, 3);
  assert.equal(e.column, 14);
  assert.match(e.message, /^line 3, column 14: /);

  const l = catchAsm(() => assemble('r0 = 1\nif r1 > 5 goto nowhere\nexit', { syntax: 'llvm' }));
  assert.deepEqual([l.line, l.column], [2, 16]);
  assert.match(l.message, /undefined label 'nowhere'/);

  const v = catchAsm(() => assemble('r10 = *(u64 *)(r1 + 0)\nexit', { syntax: 'llvm' }));
  assert.deepEqual([v.line, v.column], [1, 1]);
  assert.match(v.message, /r10 is the read-only frame pointer/);

  const d = catchAsm(() => assemble('a:\nmov %r0, 1\na:\nexit'));
  assert.deepEqual([d.line, d.column], [3, 1]);
  assert.match(d.message, /duplicate label 'a'/);
});

function catchAsm(f: () => unknown): AsmError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof AsmError, `expected AsmError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an AsmError');
}

/** [instruction, uBPF text, LLVM text]: both parse to the instruction and both print exactly. */
const FORMS: Array<[Instruction, string, string]> = [
  [insn(0x07, { dst: 1, imm: -3 }), 'add %r1, -3', 'r1 += -3'],
  [insn(0x0c, { dst: 0, src: 1 }), 'add32 %r0, %r1', 'w0 += w1'],
  [insn(0xb7, { dst: 0, imm: 1 }), 'mov %r0, 1', 'r0 = 1'],
  [insn(0xbc, { dst: 0, src: 1 }), 'mov32 %r0, %r1', 'w0 = w1'],
  [insn(0x3f, { dst: 2, src: 3, off: 1 }), 'sdiv %r2, %r3', 'r2 s/= r3'],
  [insn(0x94, { dst: 2, imm: 7, off: 1 }), 'smod32 %r2, 7', 'w2 s%= 7'],
  [insn(0xc7, { dst: 2, imm: 3 }), 'arsh %r2, 3', 'r2 s>>= 3'],
  [insn(0x6c, { dst: 2, src: 4 }), 'lsh32 %r2, %r4', 'w2 <<= w4'],
  [insn(0x87, { dst: 5 }), 'neg %r5', 'r5 = -r5'],
  [insn(0x84, { dst: 5 }), 'neg32 %r5', 'w5 = -w5'],
  [insn(0xbf, { dst: 0, src: 1, off: 8 }), 'movsx864 %r0, %r1', 'r0 = (s8)r1'],
  [insn(0xbf, { dst: 0, src: 1, off: 32 }), 'movsx3264 %r0, %r1', 'r0 = (s32)r1'],
  [insn(0xbc, { dst: 0, src: 1, off: 16 }), 'movsx1632 %r0, %r1', 'w0 = (s16)w1'],
  [insn(0xbf, { dst: 0, src: 1, off: 1, imm: 1 }), 'addr_space_cast %r0, %r1, 0, 1', 'r0 = addr_space_cast(r1, 0, 1)'],
  [insn(0xbf, { dst: 0, src: 1, off: 1, imm: 0x10000 }), 'addr_space_cast %r0, %r1, 1, 0', 'r0 = addr_space_cast(r1, 1, 0)'],
  [insn(0xdc, { dst: 0, imm: 16 }), 'be16 %r0', 'r0 = be16 r0'],
  [insn(0xd4, { dst: 0, imm: 32 }), 'le32 %r0', 'r0 = le32 r0'],
  [insn(0xd7, { dst: 0, imm: 64 }), 'bswap64 %r0', 'r0 = bswap64 r0'],
  [insn(0x18, { dst: 0, imm: 0x55667788, imm2: 0x11223344 }), 'lddw %r0, 0x1122334455667788', 'r0 = 0x1122334455667788 ll'],
  [insn(0x18, { dst: 1, src: 1, imm: 3 }), 'lddw %r1, map_fd 3', 'r1 = map_fd(3) ll'],
  [insn(0x18, { dst: 1, src: 2, imm: 3, imm2: 16 }), 'lddw %r1, map_value 3, 16', 'r1 = map_value(3) + 16 ll'],
  [insn(0x18, { dst: 1, src: 3, imm: 5 }), 'lddw %r1, btf_id 5', 'r1 = btf_id(5) ll'],
  [insn(0x18, { dst: 1, src: 3, imm: 5, imm2: -4 }), 'lddw %r1, btf_id 5, -4', 'r1 = btf_id(5) - 4 ll'],
  [insn(0x18, { dst: 1, src: 4, imm: 3 }), 'lddw %r1, func +3', 'r1 = func(+3) ll'],
  [insn(0x18, { dst: 1, src: 5, imm: 0 }), 'lddw %r1, map_idx 0', 'r1 = map_idx(0) ll'],
  [insn(0x18, { dst: 1, src: 6, imm: 0, imm2: 16 }), 'lddw %r1, map_idx_value 0, 16', 'r1 = map_idx_value(0) + 16 ll'],
  [insn(0x30, { imm: 12 }), 'ldabsb 12', 'r0 = *(u8 *)skb[12]'],
  [insn(0x48, { src: 3, imm: 12 }), 'ldindh %r3, 12', 'r0 = *(u16 *)skb[r3 + 12]'],
  [insn(0x61, { dst: 0, src: 1, off: 4 }), 'ldxw %r0, [%r1+4]', 'r0 = *(u32 *)(r1 + 4)'],
  [insn(0x79, { dst: 0, src: 10, off: -8 }), 'ldxdw %r0, [%r10-8]', 'r0 = *(u64 *)(r10 - 8)'],
  [insn(0x91, { dst: 0, src: 1, off: -2 }), 'ldxsb %r0, [%r1-2]', 'r0 = *(s8 *)(r1 - 2)'],
  [insn(0x72, { dst: 10, off: -8, imm: 5 }), 'stb [%r10-8], 5', '*(u8 *)(r10 - 8) = 5'],
  [insn(0x7b, { dst: 10, src: 1, off: -8 }), 'stxdw [%r10-8], %r1', '*(u64 *)(r10 - 8) = r1'],
  [insn(0xdb, { dst: 10, src: 1, off: -8, imm: 0 }), 'lock add [%r10-8], %r1', 'lock *(u64 *)(r10 - 8) += r1'],
  [insn(0xc3, { dst: 10, src: 1, off: -8, imm: 0x40 }), 'lock or32 [%r10-8], %r1', 'lock *(u32 *)(r10 - 8) |= w1'],
  [insn(0xdb, { dst: 10, src: 1, off: -8, imm: 0x51 }), 'lock fetch and [%r10-8], %r1', 'r1 = atomic_fetch_and((u64 *)(r10 - 8), r1)'],
  [insn(0xc3, { dst: 10, src: 1, off: -8, imm: 0xa1 }), 'lock fetch xor32 [%r10-8], %r1', 'w1 = atomic_fetch_xor((u32 *)(r10 - 8), w1)'],
  [insn(0xdb, { dst: 10, src: 1, off: -8, imm: 0xe1 }), 'lock xchg [%r10-8], %r1', 'r1 = xchg_64(r10 - 8, r1)'],
  [insn(0xc3, { dst: 10, src: 1, off: -8, imm: 0xe1 }), 'lock xchg32 [%r10-8], %r1', 'w1 = xchg32_32(r10 - 8, w1)'],
  [insn(0xdb, { dst: 10, src: 1, off: -8, imm: 0xf1 }), 'lock cmpxchg [%r10-8], %r1', 'r0 = cmpxchg_64(r10 - 8, r0, r1)'],
  [insn(0xc3, { dst: 10, src: 1, off: -8, imm: 0xf1 }), 'lock cmpxchg32 [%r10-8], %r1', 'w0 = cmpxchg32_32(r10 - 8, w0, w1)'],
  [insn(0xdb, { dst: 0, src: 1, imm: 0x100 }), 'load_acqdw %r0, [%r1]', 'r0 = load_acquire((u64 *)(r1 + 0))'],
  [insn(0xd3, { dst: 0, src: 1, off: 2, imm: 0x100 }), 'load_acqb %r0, [%r1+2]', 'w0 = load_acquire((u8 *)(r1 + 2))'],
  [insn(0xdb, { dst: 1, src: 2, imm: 0x110 }), 'store_reldw [%r1], %r2', 'store_release((u64 *)(r1 + 0), r2)'],
  [insn(0xcb, { dst: 1, src: 2, imm: 0x110 }), 'store_relh [%r1], %r2', 'store_release((u16 *)(r1 + 0), w2)'],
  [insn(0x25, { dst: 1, imm: 100, off: 1 }), 'jgt %r1, 100, +1', 'if r1 > 100 goto +1'],
  [insn(0x6d, { dst: 1, src: 2, off: -3 }), 'jsgt %r1, %r2, -3', 'if r1 s> r2 goto -3'],
  [insn(0x16, { dst: 1, imm: 5, off: 2 }), 'jeq32 %r1, 5, +2', 'if w1 == 5 goto +2'],
  [insn(0x4e, { dst: 1, src: 2, off: 0 }), 'jset32 %r1, %r2, +0', 'if w1 & w2 goto +0'],
  [insn(0x05, { off: 5 }), 'ja +5', 'goto +5'],
  [insn(0x06, { imm: 100000 }), 'ja32 +100000', 'gotol +100000'],
  [insn(0xe5, { off: 3 }), 'may_goto +3', 'may_goto +3'],
  [insn(0x85, { imm: 1 }), 'call 1', 'call 1'],
  [insn(0x85, { src: 1, imm: 3 }), 'call local +3', 'call pc+3'],
  [insn(0x85, { src: 2, imm: 7 }), 'call kfunc 7', 'call kfunc 7'],
  [insn(0x85, { src: 2, imm: 7, off: 1 }), 'call kfunc 7, 1', 'call kfunc 7, 1'],
  [insn(0x8d, { dst: 2 }), 'call %r2', 'callx r2'],
  [insn(0x95), 'exit', 'exit'],
];

test('every form parses and prints exactly in both syntaxes', () => {
  for (const [i, ubpf, llvm] of FORMS) {
    assert.equal(validate(i), null, ubpf);
    assert.deepEqual(assemble(ubpf, { syntax: 'ubpf' }), [i], ubpf);
    assert.deepEqual(assemble(llvm, { syntax: 'llvm' }), [i], llvm);
    assert.equal(formatInstruction(i, 0, 'ubpf'), ubpf);
    assert.equal(formatInstruction(i, 0, 'llvm'), llvm);
    assert.equal(formatInstruction(i, 0), llvm);
  }
});

test('accepted aliases and alternative spellings', () => {
  const same = (syntax: Syntax, a: string, b: string): void => {
    assert.deepEqual(assemble(a, { syntax }), assemble(b, { syntax }), `${a} vs ${b}`);
  };
  same('ubpf', 'swap16 %r1', 'bswap16 %r1');
  same('ubpf', 'add64 %r1, 2', 'add %r1, 2');
  same('ubpf', 'call runtime 7', 'call kfunc 7');
  same('ubpf', 'callx %r3', 'call %r3');
  same('ubpf', 'mov32 %r0, 0xffffffff', 'mov32 %r0, -1');
  same('ubpf', 'ldxb %r0, [%r1+0x2]', 'ldxb %r0, [%r1+2]');
  same('ubpf', 'lddw %r1, map_value 3', 'lddw %r1, map_value 3, 0');
  same('ubpf', 'mov %r0, 1 ; c\n exit // c', 'mov %r0, 1 # c\nexit');
  same('llvm', '0: (b7) r0 = 1', 'r0 = 1');
  same('llvm', '       0:\tb7 00 00 00 01 00 00 00\tr0 = 1', 'r0 = 1');
  same('llvm', '  1:\t18 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00\tr1 = 0x0 ll', 'r1 = 0 ll');
  same('llvm', 'if r1 > 0x64 goto pc+1', 'if r1 > 100 goto +1');
  same('llvm', 'goto +1 <LBB0_2>\nexit\nexit', 'goto +1\nexit\nexit');
  same('llvm', 'r0 = *(u32 *)(r1 +4)', 'r0 = *(u32 *)(r1 + 4)');
  same('llvm', 'w0 = *(u32 *)(r1 + 4)', 'r0 = *(u32 *)(r1 + 4)');
  same('llvm', '*(u32 *)(r10 - 8) = r1', '*(u32 *)(r10 - 8) = w1');
  same('llvm', 'call bpf_map_lookup_elem#1', 'call 1');
  same('llvm', 'call r2', 'callx r2');
  same('llvm', 'r1 = atomic64_fetch_add((u64 *)(r10 -8), r1)', 'r1 = atomic_fetch_add((u64 *)(r10 - 8), r1)');
  same('llvm', 'r1 = atomic64_xchg((u64 *)(r10 -8), r1)', 'r1 = xchg_64(r10 - 8, r1)');
  same('llvm', 'r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r1)', 'r0 = cmpxchg_64(r10 - 8, r0, r1)');
  same('llvm', 'r1 = map_value(3)+16', 'r1 = map_value(3) + 16 ll');
  same('llvm', 'w0 = be16 w0', 'r0 = be16 r0');
});

test('llvm-objdump -d output assembles to the bytes it shows', () => {
  const text = [
    'prog.o:\tfile format elf64-bpf',
    '',
    'Disassembly of section xdp:',
    '',
    '0000000000000000 <xdp_prog>:',
    '       0:\tb7 00 00 00 02 00 00 00\tr0 = 0x2',
    '       1:\t15 01 03 00 00 00 00 00\tif r1 == 0x0 goto +0x3 <LBB0_2>',
    '       2:\t18 02 00 00 44 33 22 11 00 00 00 00 88 77 66 55\tr2 = 0x5566778811223344 ll',
    '       4:\t85 10 00 00 ff ff ff ff\tcall -0x1',
    '',
    '0000000000000028 <LBB0_2>:',
    '       5:\t95 00 00 00 00 00 00 00\texit',
  ].join('\n');
  assert.equal(detectSyntax(text), 'llvm');
  const shown = text.split('\n').flatMap((l) => /^\s*\d+:\s+((?:[0-9a-f]{2}\s)+)/.exec(l)?.[1]!.trim().split(/\s+/) ?? []).join('');
  const p = assemble(text);
  assert.equal(p[3]!.src, 1); // `call -0x1` prints a local call like a helper call; the bytes tell.
  assert.equal(bytesOf(p), shown);
  const e = catchAsm(() => assemble('r1 = 0x1122334455667788', { syntax: 'llvm' }));
  assert.match(e.message, /ll' for a 64-bit load/);
});

test('labels: llvm LBB names, the implicit exit label, and local calls', () => {
  const l = assemble('r0 = 0\nif r1 == 0 goto LBB0_2\ncall fn\nLBB0_2:\nexit\nfn:\nr1 = func(fn) ll\nexit', { syntax: 'llvm' });
  assert.deepEqual(l.map((i) => [i.opcode, i.off, i.imm, i.src]), [
    [0xb7, 0, 0, 0], [0x15, 1, 0, 0], [0x85, 0, 1, 1], [0x95, 0, 0, 0], [0x18, 0, -1, 4], [0x95, 0, 0, 0],
  ]);
  const u = assemble('jeq %r1, 0, exit\nmov %r0, 1\nexit\nmov %r0, 2\nexit');
  assert.equal(u[0]!.off, 1);
  const explicit = assemble('ja exit\nexit\nexit:\nexit');
  assert.equal(explicit[0]!.off, 1);
});

test('range checks', () => {
  const bad = (syntax: Syntax, text: string, re: RegExp): void => {
    assert.throws(() => assemble(text, { syntax }), (e: unknown) => e instanceof AsmError && re.test(e.message), text);
  };
  bad('ubpf', 'mov32 %r0, 2147483648', /32-bit range/);
  bad('ubpf', 'mov32 %r0, 0x100000000', /32-bit range/);
  bad('ubpf', 'mov32 %r0, -2147483649', /32-bit range/);
  bad('ubpf', 'ldxb %r0, [%r1+0x10000]', /16-bit range/);
  bad('ubpf', 'ldxb %r0, [%r1+32768]', /16-bit range/);
  bad('ubpf', 'lddw %r0, 0x10000000000000000', /64-bit range/);
  bad('ubpf', 'mov %r11, 1', /invalid register/);
  bad('ubpf', 'mov %r10, 1', /read-only frame pointer/);
  bad('ubpf', 'mov %r0', /expected ','/);
  bad('ubpf', 'exit %r0', /unexpected/);
  bad('ubpf', 'addr_space_cast %r0, %r1, 2, 0', /addr_space_cast imm/);
  bad('ubpf', 'lddw %r1, map_fd 3, 8', /invalid imm2/);
  bad('llvm', 'w0 = 2147483648', /32-bit range/);
  bad('llvm', 'r0 = r1 + 1', /unexpected/);
  bad('llvm', 'r0 = w1', /64-bit rN/);
  bad('llvm', 'w1 = 0x1 ll', /64-bit rN/);
  bad('llvm', 'r1 = atomic_fetch_add((u64 *)(r10 - 8), r2)', /must be register 1/);
  bad('llvm', 'r1 = map_fd(3) + 8 ll', /invalid imm2/);
  bad('llvm', 'r0 = -r1', /must be register 0/);
  assert.deepEqual(assemble('mov32 %r0, -2147483648', { syntax: 'ubpf' })[0]!.imm, -(2 ** 31));
  assert.deepEqual(assemble('ldxb %r0, [%r1-32768]', { syntax: 'ubpf' })[0]!.off, -32768);
  assert.deepEqual(assemble('lddw %r0, -1', { syntax: 'ubpf' })[0], insn(0x18, { imm: -1, imm2: -1 }));
  // A label too far for a 16-bit offset.
  const far = `ja far\n${'lddw %r0, 0\n'.repeat(20000)}far:\nexit`;
  assert.throws(() => assemble(far), (e: unknown) => e instanceof AsmError && e.line === 1 && e.column === 4);
  assert.equal(assemble(far.replace('ja far', 'ja32 far'))[0]!.imm, 40000);
});

test('detectSyntax', () => {
  assert.equal(detectSyntax('mov %r0, 1\nexit'), 'ubpf');
  assert.equal(detectSyntax('ja +0\nexit'), 'ubpf');
  assert.equal(detectSyntax('r0 = 1\nexit'), 'llvm');
  assert.equal(detectSyntax('if r1 > 2 goto +0\nexit'), 'llvm');
  assert.equal(detectSyntax('*(u64 *)(r10 - 8) = 1\nexit'), 'llvm');
  assert.equal(detectSyntax('exit'), 'llvm');
});

test('disassemble options', () => {
  const p = assemble('mov %r0, 0\nja +2\nlddw %r1, 5\nexit');
  assert.equal(disassemble(p, { syntax: 'ubpf' }), 'mov %r0, 0\nja L1\nlddw %r1, 0x5\nL1:\nexit\n');
  assert.equal(disassemble(p, { syntax: 'ubpf', labels: false, pcs: true }), '0: mov %r0, 0\n1: ja +2\n2: lddw %r1, 0x5\n4: exit\n');
  assert.equal(disassemble(p), 'r0 = 0\ngoto LBB0_1\nr1 = 0x5 ll\nLBB0_1:\nexit\n');
  assert.equal(disassemble([]), '');
  // Invalid instructions and targets outside the program do not break the printer.
  const odd = [insn(0x05, { off: 100 }), insn(0xff), insn(0x95)];
  const text = disassemble(odd, { syntax: 'ubpf' });
  assert.match(text, /^ja \+100\n\.invalid opcode=0xff/);
  assert.throws(() => assemble(text), AsmError);
});

// ---------------------------------------------------------------------------
// Real tool output: llvm-objdump dumps of clang-built objects and a kernel
// verifier log, committed under testdata/objdump/ (see rebuild.sh and
// capture-verifier-log.mjs there). Nothing here runs clang or the kernel.

const FIXTURES = new URL('../../testdata/objdump/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');

/** The bytes of every SHF_EXECINSTR section of an ELF64 little-endian object, in section order. */
function codeSections(elf: Uint8Array): Uint8Array {
  const v = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  assert.equal(v.getUint32(0, false), 0x7f454c46, 'ELF magic');
  assert.equal(elf[4], 2, 'ELFCLASS64');
  assert.equal(elf[5], 1, 'little-endian');
  const shoff = Number(v.getBigUint64(0x28, true));
  const shentsize = v.getUint16(0x3a, true);
  const shnum = v.getUint16(0x3c, true);
  const parts: Uint8Array[] = [];
  for (let k = 0; k < shnum; k++) {
    const sh = shoff + k * shentsize;
    const type = v.getUint32(sh + 4, true);
    const flags = v.getBigUint64(sh + 8, true);
    const offset = Number(v.getBigUint64(sh + 0x18, true));
    const size = Number(v.getBigUint64(sh + 0x20, true));
    const SHT_PROGBITS = 1;
    const SHF_EXECINSTR = 4n;
    if (type === SHT_PROGBITS && (flags & SHF_EXECINSTR) !== 0n && size > 0) parts.push(elf.subarray(offset, offset + size));
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The raw instruction bytes an llvm-objdump listing prints, in order. */
const dumpBytes = (text: string): string =>
  text.split('\n').flatMap((l) => /^\s*\d+:\t((?:[0-9a-f]{2} ){7,15}[0-9a-f]{2})\t/.exec(l)?.[1]!.split(' ') ?? []).join('');

test('llvm-objdump 19 and 14 -d/-dr dumps of clang objects assemble to the objects\' bytes', () => {
  const dumps = readdirSync(FIXTURES).filter((f) => /\.objdump\d+\.dr?\.txt$/.test(f)).sort();
  // The v4 object's llvm-objdump-14 dump misprints v4 instructions; see the next test.
  const good = dumps.filter((f) => f !== 'calls_v4.objdump14.dr.txt');
  assert.deepEqual(good, [
    'calls_v4.objdump19.d.txt', 'calls_v4.objdump19.dr.txt',
    'sockfilter_v1.objdump14.dr.txt', 'sockfilter_v1.objdump19.d.txt', 'sockfilter_v1.objdump19.dr.txt',
  ]);
  for (const name of good) {
    const text = fixture(name);
    const object = readFileSync(new URL(`${name.split('.')[0]}.o`, FIXTURES));
    const code = hex(codeSections(object));
    assert.ok(code.length > 0, name);
    assert.equal(dumpBytes(text), code, `${name} shows the object's code`);
    assert.equal(detectSyntax(text), 'llvm', name);
    assert.equal(bytesOf(assemble(text)), code, name);
    assert.equal(bytesOf(assemble(text, { syntax: 'llvm' })), code, name);
  }
  // What the dumps exercise: symbol+offset annotations, relocation lines (-dr),
  // local calls whose src only the bytes show, lddw, atomics, movsx, bswap.
  const v4 = fixture('calls_v4.objdump19.dr.txt');
  for (const re of [/goto \+0x4 <sum_bytes\+0x58>/, /^\t\t[0-9a-f]+:  R_BPF_64_64\tcounters$/m, /85 10 00 00 0b 00 00 00\tcall 0xb$/m,
    /atomic_fetch_add/, /= \(s16\)r0/, /bswap64/]) {
    assert.match(v4, re);
  }
  assert.match(fixture('sockfilter_v1.objdump14.dr.txt'), /goto \+10 <classify\+0x70>/);
});

test('objdump lines: the shown bytes must match the text; <unknown> takes the bytes', () => {
  // llvm-objdump 14 does not know the v4 instructions: it prints movsx as a
  // plain mov (`r1 = r1` for bf 11 20 00 ...) and bswap as <unknown>.
  const text = fixture('calls_v4.objdump14.dr.txt');
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.includes('bf 11 20 00 00 00 00 00\tr1 = r1'));
  assert.ok(at > 0);
  const e = catchAsm(() => assemble(text));
  assert.equal(e.line, at + 1);
  assert.equal(e.column, lines[at]!.indexOf('bf') + 1);
  assert.match(e.reason, /'r1 = r1' assembles to bf 11 00 00 00 00 00 00 but the line shows bf 11 20 00 00 00 00 00/);
  // <unknown> with its bytes assembles to the bytes.
  assert.deepEqual(assemble('      16:\td7 00 00 00 40 00 00 00\t<unknown>', { syntax: 'llvm' }), [insn(0xd7, { imm: 64 })]);
  const u = catchAsm(() => assemble('<unknown>', { syntax: 'llvm' }));
  assert.match(u.reason, /<unknown>/);
  const bad = catchAsm(() => assemble('       0:\tff 00 00 00 00 00 00 00\t<unknown>', { syntax: 'llvm' }));
  assert.deepEqual([bad.line, bad.column], [1, 11]);
  assert.match(bad.reason, /not a valid instruction: invalid opcode/);
  // An edited text with stale bytes is reported, not silently assembled either way.
  const edited = catchAsm(() => assemble('       0:\tb7 00 00 00 01 00 00 00\tr0 = 0x2', { syntax: 'llvm' }));
  assert.deepEqual([edited.line, edited.column], [1, 11]);
  assert.match(edited.reason, /'r0 = 0x2' assembles to b7 00 00 00 02 00 00 00 but the line shows b7 00 00 00 01/);
  // Only call and lddw take their src from the bytes (LLVM prints no src for them).
  same('llvm', '  13:\t85 10 00 00 ff ff ff ff\tcall -0x1', 'call -1', (p) => { p[0]!.src = 1; });
  same('llvm', '  13:\t85 20 00 00 07 00 00 00\tcall 0x7', 'call kfunc 7');
  same('llvm', '   7:\t18 11 00 00 03 00 00 00 00 00 00 00 00 00 00 00\tr1 = 0x3 ll', 'r1 = map_fd(3) ll');
  // A bpfeb object's dump shows its bytes big-endian (clang -target bpfeb, llvm-objdump-19 -d).
  same('llvm', [
    'be.o:\tfile format elf64-bpf', '', 'Disassembly of section .text:', '', '0000000000000000 <f>:',
    '       0:\tbf 01 00 00 00 00 00 00\tr0 = r1',
    '       1:\t27 00 00 00 00 00 00 03\tr0 *= 0x3',
    '       2:\t85 01 00 00 ff ff ff ff\tcall -0x1',
    '       3:\t18 10 00 00 00 00 00 05 00 00 00 00 00 00 00 01\tr1 = 0x100000005 ll',
  ].join('\n'), 'r0 = r1\nr0 *= 3\ncall -1\nr1 = 0x100000005 ll', (p) => { p[2]!.src = 1; });
  // Annotations after any jump or call target, relocation lines in between.
  same('llvm', 'goto +0x1 <prog+0x2c8>\nexit\nexit', 'goto +1\nexit\nexit');
  same('llvm', 'if r1 > r6 goto -0x1 <prog-0x8>\nexit', 'if r1 > r6 goto -1\nexit');
  same('llvm', 'gotol +0x1 <f>\nexit\nexit', 'gotol +1\nexit\nexit');
  same('llvm', 'call 0x1 <f+0x10>\n\t\t0000000000000000:  R_BPF_64_32\t.text\nexit', 'call 1\nexit');
  assert.throws(() => assemble('r0 = r1 <f>\nexit', { syntax: 'llvm' }), AsmError);
  assert.throws(() => assemble('goto +1 <f+>\nexit', { syntax: 'llvm' }), AsmError);
});

/** Asserts that `a` and `b` (after `fix`) assemble to the same bytes. */
function same(syntax: Syntax, a: string, b: string, fix?: (p: Instruction[]) => void): void {
  const want = assemble(b, { syntax });
  fix?.(want);
  assert.equal(bytesOf(assemble(a, { syntax })), bytesOf(want), `${a} vs ${b}`);
}

test('verifier log: the Live regs listing of a real 6.18 log assembles to the loaded bytes', () => {
  const log = fixture('verifier-log-6.18.txt');
  const loaded = fixture('verifier-log-6.18.hex').replace(/\s+/g, '');
  const lines = log.split('\n');
  const start = lines.indexOf('Live regs before insn:');
  assert.ok(start > 0);
  let end = start + 1;
  while (/^\s*(?:\d+\s+)?\d+: [.\d]{10} \(/.test(lines[end]!)) end++;
  const listing = lines.slice(0, end).join('\n'); // with the func#N @M lines and the header
  assert.match(listing, /\(18\) r2 = 0xffffffff\n/);
  assert.match(listing, /^ {2}1 {2}\d+: [.\d]{10} \(85\) call pc\+\d+$/m);
  assert.equal(bytesOf(assemble(listing)), loaded);
  assert.equal(bytesOf(assemble(listing, { syntax: 'llvm' })), loaded);

  // Every instruction line of the walk (`N: (xx) insn ; state`) and of
  // mark_precise (`... before N: (xx) insn`) assembles alone to slot N.
  const program = assemble(listing);
  const { pcs } = slotIndex(program);
  let checked = 0;
  for (const l of lines.slice(end)) {
    const m = /(?:^|before )(\d+): (\([0-9a-f]{2}\) .*)$/.exec(l);
    if (!m) continue;
    const slot = Number(m[1]);
    const k = pcs.indexOf(slot);
    assert.ok(k >= 0, l);
    assert.equal(bytesOf(assemble(`${slot}: ${m[2]}`, { syntax: 'llvm' })), bytesOf([program[k]!]), l);
    checked++;
  }
  assert.ok(checked > 50, `${checked} walk lines`);

  // The rest of a log is not assembly: the first state line is reported.
  const e = catchAsm(() => assemble(log));
  assert.equal(e.line, end + 1);
  assert.match(e.reason, /verifier state/);
});

test('verifier log lines: the (xx) opcode must match; (18) makes an lddw', () => {
  const l = (text: string): Instruction[] => assemble(text, { syntax: 'llvm' });
  // The kernel prints lddw without `ll`: the (18) makes it one, two slots.
  assert.deepEqual(l('6: (18) r0 = 0x5'), [insn(0x18, { imm: 5, imm2: 0 })]);
  assert.deepEqual(l('3: (18) r1 = 0xffffffff'), [insn(0x18, { dst: 1, imm: -1, imm2: 0 })]);
  assert.deepEqual(l('1: (18) r0 = 0x1122334455667788'), [insn(0x18, { imm: 0x55667788, imm2: 0x11223344 })]);
  assert.deepEqual(l('1: (18) r0 = 0x1 ll'), [insn(0x18, { imm: 1, imm2: 0 })]);
  const p = l('0: (05) goto pc+2\n1: (18) r0 = 0x5\n3: (95) exit');
  assert.deepEqual(p.map((i) => i.opcode), [0x05, 0x18, 0x95]);
  assert.equal(encode(p).length, 32);
  // Any other disagreement between the prefix and the text is an error at the prefix.
  const m = catchAsm(() => l('r0 = 0\n12: (b7) w0 = 1'));
  assert.deepEqual([m.line, m.column], [2, 5]);
  assert.match(m.reason, /opcode \(b7\).*0xb4/);
  assert.match(catchAsm(() => l('0: (18) r1 = r2')).reason, /opcode \(18\)/);
  assert.match(catchAsm(() => l('0: (b7) r0 = 0x1122334455667788')).reason, /32-bit range/);
  assert.match(catchAsm(() => l('0: (18) w1 = 0x5')).reason, /64-bit rN/);
  // Map ids of a loaded program (bpftool prog dump xlated) are refused.
  for (const text of ['6: (18) r1 = map[id:5]', '6: (18) r1 = map[id:5][0]+16', 'r1 = map[id:5] ll']) {
    const e = catchAsm(() => l(text));
    assert.match(e.reason, /map ids of a loaded program cannot be assembled/, text);
    assert.equal(e.column, text.indexOf('map') + 1, text);
  }
  assert.match(catchAsm(() => l('6: (18) r1 = map[idx:0]+16')).reason, /write map_idx_value\(N\) \+ M ll/);
  // log_level 2 "Live regs" lines: SCC number, liveness marks, prune-point marks, `; zext`.
  same('llvm', '      0: .1........ (bf) r6 = r1', 'r6 = r1');
  same('llvm', '  1  10: ..2345.78. (07) r7 += 1', 'r7 += 1');
  same('llvm', ' 12 101: 0123456789 (bc) w0 = w1 ; zext', 'w0 = w1');
  same('llvm', '      7: 0..345.... p (bf) r6 = r0\n      8: ..........   (95) exit', 'r6 = r0\nexit');
  same('llvm', 'func#0 @0\nfunc#1 @2\nLive regs before insn:\n      0: .......... (95) exit', 'exit');
  same('llvm', 'Live regs before insn, prune points (p), and force checkpoints (P):\n      0: .......... P (95) exit', 'exit');
  same('llvm', '6: (85) call bpf_map_lookup_elem#1 ; R0=map_value_or_null(id=1)', 'call 1');
  same('llvm', '5: (7b) *(u64 *)(r10 -8) = r8', '*(u64 *)(r10 - 8) = r8');
  const st = catchAsm(() => l('12: R7=1'));
  assert.match(st.reason, /verifier state/);
});

test('LLVM syntax: # comments attached to text, like ; and //', () => {
  same('llvm', 'exit# done', 'exit');
  same('llvm', 'r0 = 1# one\nexit#', 'r0 = 1\nexit');
  same('llvm', 'if r1 > 2 goto +0#x\nexit', 'if r1 > 2 goto +0\nexit');
  same('llvm', 'r0 = *(u32 *)(r1 + 4)#load\nexit', 'r0 = *(u32 *)(r1 + 4)\nexit');
  same('llvm', 'call bpf_map_lookup_elem#1# lookup', 'call 1');
  same('llvm', 'call unknown#195896080', 'call 195896080');
  same('ubpf', 'exit# done', 'exit');
});

test('LLVM syntax: rN = K without ll is an ALU64 mov of a sign-extended 32-bit immediate', () => {
  assert.deepEqual(assemble('r1 = -1', { syntax: 'llvm' }), [insn(0xb7, { dst: 1, imm: -1 })]);
  assert.deepEqual(assemble('r1 = 0xffffffff', { syntax: 'llvm' }), [insn(0xb7, { dst: 1, imm: -1 })]);
  assert.deepEqual(assemble('w1 = 0xffffffff', { syntax: 'llvm' }), [insn(0xb4, { dst: 1, imm: -1 })]);
  assert.match(catchAsm(() => assemble('r1 = 0x100000000', { syntax: 'llvm' })).reason, /ll' for a 64-bit load/);
});
