import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  Btf, CORE_POISON, CoreError, CoreReloKind as K, applyCoreRelos, calcCoreRelo, encodeBtf, essentialName, parseBtfExt,
  resolveCoreRelo, type BtfMember, type BtfType, type CoreRelo,
} from '../src/btf/index.js';
import { OP_LDDW, decode, insn, lddwValue, slotIndex, type Instruction } from '../src/isa/index.js';
import { REPO_ROOT } from './support/conformance-data.js';
import { elfSections } from './support/elf-sections.js';
import { rebuildElsewhere } from './support/rebuild.js';

const DIR = `${REPO_ROOT}testdata/core/`;

/** Big-endian slots to the little-endian layout `decode` reads. */
function fromBigEndian(code: Uint8Array): Uint8Array {
  const out = new Uint8Array(code.length);
  for (let at = 0; at < code.length; at += 8) {
    out[at] = code[at]!;
    out[at + 1] = ((code[at + 1]! & 0x0f) << 4) | (code[at + 1]! >> 4);
    out[at + 2] = code[at + 3]!; out[at + 3] = code[at + 2]!;
    for (let k = 0; k < 4; k++) out[at + 4 + k] = code[at + 7 - k]!;
  }
  return out;
}

/** The object's BTF, one program section's instructions and its CO-RE records (instruction indices). */
function loadProgram(file: string, section: string): { btf: Btf; insns: Instruction[]; relos: CoreRelo[] } {
  const elf = elfSections(new Uint8Array(readFileSync(DIR + file)));
  const btf = Btf.parse(elf.get('.BTF'));
  const ext = parseBtfExt(elf.get('.BTF.ext'), btf);
  const code = elf.get(section);
  const insns = decode(elf.littleEndian ? code : fromBigEndian(code));
  const { pcs } = slotIndex(insns);
  const relos = ext.coreRelos.get(section)!.map((r) => ({ insn: pcs.indexOf(r.insnOff / 8), typeId: r.typeId, access: r.access, kind: r.kind }));
  assert.ok(relos.every((r) => r.insn >= 0));
  return { btf, insns, relos };
}

/** Builds a BTF type list by hand: each call returns the new type's id. */
class Types {
  readonly list: BtfType[] = [{ kind: 'void', id: 0, name: '' }];
  add(t: Record<string, unknown>): number {
    const id = this.list.length;
    this.list.push({ ...t, id } as unknown as BtfType);
    return id;
  }
  int(name: string, size: number, signed = false): number {
    return this.add({ kind: 'int', name, size, signed, char: false, bool: false, offset: 0, bits: size * 8 });
  }
  comp(kind: 'struct' | 'union', name: string, size: number, members: [string, number, number, number?][]): number {
    const ms: BtfMember[] = members.map(([n, type, bitOffset, bitSize]) => ({ name: n, type, bitOffset, bitSize: bitSize ?? 0 }));
    return this.add({ kind, name, size, bitfields: ms.some((m) => m.bitSize > 0), members: ms });
  }
  array(type: number, nelems: number): number {
    return this.add({ kind: 'array', name: '', type, indexType: 1, nelems });
  }
  ref(kind: 'ptr' | 'typedef' | 'const', type: number, name = ''): number {
    return this.add({ kind, name, type });
  }
  enum(name: string, values: [string, bigint][], size = 4): number {
    return this.add({ kind: size === 8 ? 'enum64' : 'enum', name, size, signed: false, values: values.map(([n, value]) => ({ name: n, value })) });
  }
  btf(le = true): Btf {
    // Through the encoder and parser, as a kernel BTF would arrive.
    return Btf.parse(encodeBtf(this.list, le));
  }
}

interface KernelOpts { dropA?: boolean; longA?: boolean; dropBlue?: boolean; innerLongX?: boolean; extra?: (t: Types, parts: Record<string, number>) => void }

/** A "kernel" where every field of the test's struct sample has moved. Offsets in comments are bytes. */
function kernelTypes(o: KernelOpts = {}): { types: Types; ids: Record<string, number> } {
  const t = new Types();
  const int = t.int('int', 4, true);
  const uint = t.int('unsigned int', 4);
  const long = t.int('long', 8, true);
  const short = t.int('short', 2, true);
  const char = t.int('char', 1, true);
  const ll = t.int('long long', 8, true);
  const inner = t.comp('struct', 'inner', 16, [['y', ll, 0], ['x', o.innerLongX ? long : int, 64]]);
  const innerPtr = t.ref('ptr', inner);
  const blue: [string, bigint][] = o.dropBlue ? [] : [['BLUE', 8n]];
  const color = t.enum('color', [['RED', 1n], ['GREEN', 2n], ...blue, ['PURPLE', 16n]]);
  t.enum('wide', [['WIDE_ONE', 0x500000000n]], 8);
  const anonU = t.comp('union', '', 8, [['b', long, 0], ['other', int, 0]]);
  const anonS = t.comp('struct', '', 8, [['pad', short, 0], ['d', short, 16], ['c', char, 32]]);
  const members: [string, number, number, number?][] = [
    ['pad0', long, 0], // 0
    ['u32', uint, 64], // 8
    ['', anonU, 128], // 16: b
    ['', anonS, 192], // 24: d at 26
    ...(o.dropA ? [] : [['a', o.longA ? long : int, 256] as [string, number, number]]), // 32
    ['bf1', uint, 288, 3], // byte 36
    ['bf2', uint, 291, 6],
    ['sbf', int, 297, 4],
    ['arr', t.array(int, 8), 320], // 40
    ['in', inner, 576], // 72
    ['ptr', innerPtr, 704], // 88
    ['col', color, 768], // 96
    ['mat', t.array(t.array(int, 5), 4), 800], // 100
    ['small', uint, 1440], // 180
  ];
  const sample = t.comp('struct', 'sample', 184, members);
  t.ref('typedef', sample, 'sample_t');
  t.comp('union', 'un', 8, [['l', long, 0], ['i', int, 0]]);
  t.comp('struct', 'flex', 8, [['n', long, 0], ['items', t.array(int, 0), 64]]);
  const ids = { int, uint, long, sample, inner, color };
  o.extra?.(t, ids);
  return { types: t, ids };
}

/** Value an instruction carries for its relocation: the imm, the offset, or the 64-bit imm. */
function carried(i: Instruction): bigint {
  if (i.opcode === OP_LDDW) return lddwValue(i);
  const cls = i.opcode & 7;
  return BigInt(cls === 1 || cls === 2 || cls === 3 ? i.off : i.imm);
}

const local = loadProgram('fields.el.o', 'socket');

// [access in C terms, kind, local value, target value in kernelTypes()]
const EXPECTED: [string, number, bigint, bigint][] = [
  ['struct sample.a', K.FIELD_BYTE_OFFSET, 0n, 32n],
  ['struct sample.b', K.FIELD_BYTE_OFFSET, 8n, 16n],
  ['struct sample.d', K.FIELD_BYTE_OFFSET, 16n, 26n],
  ['struct sample.arr[2]', K.FIELD_BYTE_OFFSET, 32n, 48n],
  ['struct sample.in.y', K.FIELD_BYTE_OFFSET, 56n, 72n],
  ['struct sample.u32', K.FIELD_BYTE_OFFSET, 76n, 8n],
  ['struct sample.in', K.FIELD_BYTE_SIZE, 16n, 16n],
  ['struct sample___old.gone', K.FIELD_EXISTS, 1n, 0n],
  ['struct sample.sbf', K.FIELD_SIGNED, 1n, 1n],
  ['struct sample.bf2', K.FIELD_LSHIFT_U64, 56n, 55n],
  ['struct sample.bf2', K.FIELD_RSHIFT_U64, 59n, 58n],
  ['struct sample.bf2', K.FIELD_BYTE_OFFSET, 40n, 36n],
  ['struct sample.bf2', K.FIELD_BYTE_SIZE, 4n, 4n], // clang compiles in 8; libbpf's rule (smallest aligned load) says 4
  ['struct sample', K.TYPE_ID_LOCAL, 19n, 19n],
  ['struct sample', K.TYPE_ID_TARGET, 19n, -1n], // the target's id, filled in below
  ['struct sample___old', K.TYPE_EXISTS, 1n, 1n],
  ['struct sample', K.TYPE_SIZE, 112n, 184n],
  ['enum color::GREEN', K.ENUMVAL_EXISTS, 1n, 1n],
  ['enum color::BLUE', K.ENUMVAL_VALUE, 4n, 8n],
  ['struct inner', K.TYPE_MATCHES, 1n, 1n],
  ['enum wide::WIDE_ONE', K.ENUMVAL_VALUE, 0x100000000n, 0x500000000n],
  ['struct sample___old.a', K.FIELD_BYTE_OFFSET, 0n, 32n],
  ['struct sample.ptr', K.FIELD_BYTE_OFFSET, 64n, 88n],
  ['struct inner.x', K.FIELD_BYTE_OFFSET, 0n, 8n],
  ['struct sample.col', K.FIELD_SIGNED, 0n, 0n],
  ['struct sample.arr[3]', K.FIELD_BYTE_OFFSET, 36n, 52n],
  ['struct sample.mat[1]', K.FIELD_BYTE_OFFSET, 92n, 120n],
  ['sample_t.u32', K.FIELD_BYTE_OFFSET, 76n, 8n],
  ['struct sample[1].a', K.FIELD_BYTE_OFFSET, 112n, 216n],
  ['union un.l', K.FIELD_BYTE_OFFSET, 0n, 0n],
  ['struct flex.items[3]', K.FIELD_BYTE_OFFSET, 16n, 20n],
  ['struct sample.small', K.FIELD_BYTE_OFFSET, 104n, 180n],
  ['struct sample.u32', K.FIELD_BYTE_OFFSET, 76n, 8n],
  ['struct sample.small', K.FIELD_BYTE_OFFSET, 104n, 180n],
];

test('every relocation kind against a kernel where everything moved', () => {
  const { types, ids } = kernelTypes();
  const target = types.btf();
  assert.equal(local.relos.length, EXPECTED.length);
  local.relos.forEach((relo, k) => {
    const [access, kind, lv, tv] = EXPECTED[k]!;
    const res = resolveCoreRelo(local.btf, target, relo, local.insns[relo.insn]!);
    assert.equal(relo.kind, kind, `relo ${k} kind`);
    assert.equal(res.localAccess, access, `relo ${k}`);
    assert.equal(res.local, lv, `${access} (${kind}) local`);
    assert.equal(res.target, tv === -1n ? BigInt(ids.sample!) : tv, `${access} (${kind}) target`);
    assert.equal(carried(res.insn), res.target, `${access} patched`);
    assert.equal(res.poison, false);
  });
});

test('applyCoreRelos: a patched copy (input untouched), load/store sizes follow unsigned fields', () => {
  const target = kernelTypes().types.btf();
  const before = JSON.stringify(local.insns);
  const out = applyCoreRelos(local.btf, target, local.insns, local.relos);
  assert.equal(JSON.stringify(local.insns), before);
  assert.equal(out.length, local.insns.length);
  assert.notEqual(out[0], local.insns[0]);
  const small = local.relos.filter((r) => r.access === '0:11').map((r) => r.insn);
  assert.equal(small.length, 2);
  for (const at of small) {
    assert.equal(local.insns[at]!.opcode & 0x18, 0x08, 'u16 access in the object');
    assert.equal(out[at]!.opcode & 0x18, 0x00, 'u32 access after relocation');
    assert.equal(out[at]!.opcode & 0xe7, local.insns[at]!.opcode & 0xe7, 'class and mode kept');
    assert.equal(out[at]!.off, 180);
  }
  // Instructions without relocations are copied as they are.
  const relocated = new Set(local.relos.map((r) => r.insn));
  out.forEach((i, k) => { if (!relocated.has(k)) assert.deepEqual(i, local.insns[k]); });
});

test('local values agree with what clang compiled in, little- and big-endian objects', () => {
  const target = kernelTypes().types.btf();
  for (const file of ['fields.el.o', 'fields.eb.o']) {
    const obj = loadProgram(file, 'socket');
    for (const relo of obj.relos) {
      const res = calcCoreRelo(obj.btf, target, relo);
      // What libbpf does not check: type ids (they move when linking) and bitfield load size and
      // left shift, where clang loads 8 bytes and libbpf the smallest aligned unit (both consistent).
      if (!res.validate) continue;
      assert.equal(res.local, carried(obj.insns[relo.insn]!), `${file}: ${res.localAccess} (kind ${relo.kind})`);
    }
  }
});

test('big-endian: bitfield shifts count from the most significant bit', () => {
  const obj = loadProgram('fields.eb.o', 'socket');
  assert.equal(obj.btf.littleEndian, false);
  const target = kernelTypes().types.btf(false);
  const by = (kind: number): bigint => calcCoreRelo(obj.btf, target, obj.relos.find((r) => r.kind === kind && r.access === '0:4')!).target;
  // bf2: bits 291..296 of the target, read as the u32 at byte 36: (8 - 4) * 8 + (291 - 288).
  assert.equal(by(K.FIELD_LSHIFT_U64), 35n);
  assert.equal(by(K.FIELD_RSHIFT_U64), 58n);
  assert.equal(by(K.FIELD_BYTE_OFFSET), 36n);
});

test('missing fields: EXISTS is 0; accesses are a CoreError, or poisoned on request', () => {
  const target = kernelTypes({ dropA: true, dropBlue: true }).types.btf();
  const aLoad = local.relos.find((r) => r.access === '0:0' && r.typeId === 19)!;
  assert.throws(() => applyCoreRelos(local.btf, target, local.insns, local.relos), (e: unknown) => {
    assert.ok(e instanceof CoreError);
    assert.equal(e.code, 'ECORE');
    assert.equal(e.where.insn, aLoad.insn);
    assert.equal(e.where.access, '0:0');
    assert.equal(e.where.type, 'struct sample');
    assert.match(e.message, new RegExp(`^insn ${aLoad.insn}: CO-RE field_byte_offset relocation of struct sample \\(access "0:0"\\): field struct sample\\.a is not in the target BTF`));
    return true;
  });
  const out = applyCoreRelos(local.btf, target, local.insns, local.relos, { poison: true });
  assert.deepEqual(out[aLoad.insn], { opcode: 0x85, dst: 0, src: 0, off: 0, imm: CORE_POISON });
  // The missing enumerator's lddw keeps its two slots: lddw r10, 0xbad2310 (r10 is read-only, so the verifier rejects it if reached).
  const blue = local.relos.find((r) => r.kind === K.ENUMVAL_VALUE && r.access === '2')!;
  assert.deepEqual(out[blue.insn], { opcode: OP_LDDW, dst: 10, src: 0, off: 0, imm: CORE_POISON, imm2: 0 });
  assert.equal(slotIndex(out).slots, slotIndex(local.insns).slots);
  assert.throws(() => resolveCoreRelo(local.btf, target, blue, local.insns[blue.insn]!), /enumerator enum color::BLUE is not in the target BTF/);
  // Existence checks resolve to 0 instead.
  const ex = local.relos.find((r) => r.kind === K.ENUMVAL_EXISTS)!;
  const exists = resolveCoreRelo(local.btf, kernelTypes({ extra: (t) => t.enum('color', [['GREEN___x', 2n]]) }).types.btf(), ex, local.insns[ex.insn]!);
  assert.equal(exists.target, 1n, 'enumerator names match without flavors');
  const empty = new Btf([{ kind: 'void', id: 0, name: '' }]);
  for (const r of local.relos) {
    const res = calcCoreRelo(local.btf, empty, r);
    const existence = [K.FIELD_EXISTS, K.TYPE_EXISTS, K.TYPE_SIZE, K.TYPE_ID_TARGET, K.ENUMVAL_EXISTS, K.TYPE_MATCHES].includes(r.kind as never);
    if (r.kind === K.TYPE_ID_LOCAL) assert.equal(res.target, 19n);
    else if (existence) assert.deepEqual([res.target, res.poison], [0n, false], res.localAccess);
    else assert.equal(res.poison, true, res.localAccess);
  }
});

test('a load whose size would change for a signed field is refused (or poisoned)', () => {
  const target = kernelTypes({ longA: true }).types.btf();
  const aLoad = local.relos.find((r) => r.access === '0:0' && r.typeId === 19)!;
  assert.throws(() => resolveCoreRelo(local.btf, target, aLoad, local.insns[aLoad.insn]!), {
    code: 'ECORE', message: /the field is 4 bytes here but 8 in the target, and only pointers and unsigned integers may change size/,
  });
  assert.equal(resolveCoreRelo(local.btf, target, aLoad, local.insns[aLoad.insn]!, { poison: true }).insn.imm, CORE_POISON);
});

test('flavors: local ___suffix types find the plain kernel type; several candidates must agree', () => {
  assert.equal(essentialName('task_struct___v1'), 'task_struct');
  assert.equal(essentialName('a___b___c'), 'a___b');
  assert.equal(essentialName('a____b'), 'a____b');
  assert.equal(essentialName('___x'), '___x');
  assert.equal(essentialName('x___'), 'x___');
  const aLoad = local.relos.find((r) => r.access === '0:0' && r.typeId === 19)!;
  // A second candidate (a flavor in the target) with `a` at the same offset: fine.
  const same = kernelTypes({ extra: (t, ids) => t.comp('struct', 'sample___v2', 40, [['a', ids.int!, 256]]) }).types.btf();
  assert.equal(resolveCoreRelo(local.btf, same, aLoad, local.insns[aLoad.insn]!).target, 32n);
  // ...at another offset: ambiguous.
  const other = kernelTypes({ extra: (t, ids) => t.comp('struct', 'sample___v2', 40, [['a', ids.int!, 0]]) }).types.btf();
  assert.throws(() => resolveCoreRelo(local.btf, other, aLoad, local.insns[aLoad.insn]!), { code: 'ECORE', message: /ambiguous/ });
  // A candidate where the access does not match is simply skipped.
  const skip = kernelTypes({ extra: (t, ids) => t.comp('struct', 'sample___v3', 40, [['b', ids.int!, 0]]) }).types.btf();
  assert.equal(resolveCoreRelo(local.btf, skip, aLoad, local.insns[aLoad.insn]!).target, 32n);
  // TYPE_ID_TARGET with two compatible candidates is ambiguous too.
  const tid = local.relos.find((r) => r.kind === K.TYPE_ID_TARGET)!;
  assert.throws(() => calcCoreRelo(local.btf, same, tid), /ambiguous/);
});

test('TYPE_MATCHES is stricter than TYPE_EXISTS', () => {
  const tm = local.relos.find((r) => r.kind === K.TYPE_MATCHES)!;
  const target = kernelTypes({ innerLongX: true }).types.btf();
  assert.equal(calcCoreRelo(local.btf, target, tm).target, 0n, 'inner.x is long in the target');
  const exists = { ...tm, kind: K.TYPE_EXISTS };
  assert.equal(calcCoreRelo(local.btf, target, exists).target, 1n);
  const size = { ...tm, kind: K.TYPE_SIZE };
  assert.deepEqual([calcCoreRelo(local.btf, target, size).local, calcCoreRelo(local.btf, target, size).target], [16n, 16n]);
});

test('field matching rules: incompatible kinds, array bounds, bitfield-like ints', () => {
  const arr3 = local.relos.find((r) => r.access === '0:2:3')!;
  // arr has only 2 elements in this kernel: index 3 does not match.
  const short = kernelTypes({ extra: () => undefined });
  const sample = short.types.list[short.ids.sample!] as { members: BtfMember[] };
  sample.members.find((m) => m.name === 'arr')!.type = short.types.array(short.ids.int!, 2);
  assert.equal(calcCoreRelo(local.btf, short.types.btf(), arr3).poison, true);
  // `ptr` is an int in this kernel: not compatible with a pointer.
  const ptrRelo = local.relos.find((r) => r.access === '0:7')!;
  const noPtr = kernelTypes();
  (noPtr.types.list[noPtr.ids.sample!] as { members: BtfMember[] }).members.find((m) => m.name === 'ptr')!.type = noPtr.ids.long!;
  assert.equal(calcCoreRelo(local.btf, noPtr.types.btf(), ptrRelo).poison, true);
  // Any struct is compatible with any union for a field (in is a union here).
  const inRelo = local.relos.find((r) => r.access === '0:6' && r.kind === K.FIELD_BYTE_SIZE)!;
  const uni = kernelTypes({ extra: (t, ids) => {
    const u = t.comp('union', 'inner_u', 8, [['y', ids.long!, 0]]);
    (t.list[ids.sample!] as { members: BtfMember[] }).members.find((m) => m.name === 'in')!.type = u;
  } });
  assert.equal(calcCoreRelo(local.btf, uni.types.btf(), inRelo).target, 8n);
});

test('instruction checks: wrong local value, register operand, odd lddw, offset overflow, ST imm, bad records', () => {
  const target = kernelTypes().types.btf();
  const u32 = local.relos.find((r) => r.access === '0:9')!; // LDX r1 = *(u32 *)(r7 + 76)
  const ldx = local.insns[u32.insn]!;
  assert.throws(() => resolveCoreRelo(local.btf, target, u32, { ...ldx, off: 77 }), /instruction has offset 77, expected the local value 76/);
  const st = insn(0x62, { dst: 7, off: 76, imm: 5 }); // *(u32 *)(r7 + 76) = 5
  assert.deepEqual(resolveCoreRelo(local.btf, target, u32, st).insn, { ...st, off: 8 });
  const aluReg = insn(0x0f, { dst: 1, src: 2 }); // r1 += r2
  assert.throws(() => resolveCoreRelo(local.btf, target, u32, aluReg), /takes a register/);
  const mov = insn(0xb7, { dst: 1, imm: 76 });
  assert.equal(resolveCoreRelo(local.btf, target, u32, mov).insn.imm, 8);
  const ld = insn(OP_LDDW, { dst: 1, src: 1, imm: 76 });
  assert.throws(() => resolveCoreRelo(local.btf, target, u32, ld), /not a plain 64-bit immediate load/);
  assert.equal(lddwValue(resolveCoreRelo(local.btf, target, u32, { ...ld, src: 0 }).insn), 8n);
  assert.throws(() => resolveCoreRelo(local.btf, target, u32, insn(0x95)), /cannot be relocated/);
  // A field past 32 KiB cannot be reached by a 16-bit offset.
  const far = kernelTypes();
  const s = far.types.list[far.ids.sample!] as { members: BtfMember[]; size: number };
  s.members.find((m) => m.name === 'u32')!.bitOffset = 40000 * 8;
  s.size = 40008;
  assert.throws(() => resolveCoreRelo(local.btf, far.types.btf(), u32, ldx), /target offset 40000 does not fit in a 16-bit offset/);
  assert.equal(resolveCoreRelo(local.btf, far.types.btf(), u32, mov).insn.imm, 40000, 'an ALU immediate is fine');
  // Bad records.
  const bad = (r: Partial<CoreRelo>, msg: RegExp): void => {
    assert.throws(() => calcCoreRelo(local.btf, target, { ...u32, ...r }), (e: unknown) => e instanceof CoreError && msg.test(e.message));
  };
  bad({ access: '0:99' }, /step 1: struct sample has no member #99/);
  bad({ access: '0:2:4' }, /step 2: index 4 is past the end of int\[4\]/);
  bad({ access: '0:0:1' }, /step 2 indexes into int \(int\)/);
  bad({ access: 'x' }, /malformed access string/);
  bad({ access: '' }, /malformed access string/);
  bad({ kind: 42 }, /unknown relocation kind/);
  bad({ kind: K.TYPE_SIZE, access: '0:1' }, /must be "0"/);
  bad({ typeId: 9999 }, /no type 9999/);
  bad({ kind: K.FIELD_SIGNED, access: '0:2:1' }, /field_signed does not apply to an array element/);
  const anon = local.btf.types.find((t) => t.kind === 'struct' && t.name === '')!;
  bad({ typeId: anon.id, access: '0:0' }, /anonymous type/);
  assert.throws(() => applyCoreRelos(local.btf, target, local.insns, [{ ...u32, insn: 5000 }]), { code: 'ECORE', message: /instruction 5000 is outside/ });
});

// --- The running kernel's BTF --------------------------------------------------------------------

const VMLINUX = '/sys/kernel/btf/vmlinux';
let kernelBtf: Btf | null = null;
/** The running kernel's BTF, parsed once for the tests below. */
const vmlinux = (): Btf => (kernelBtf ??= Btf.parse(new Uint8Array(readFileSync(VMLINUX))));

/** Runs a command with its output in files (not pipes); resolves with the exit code, or null when it cannot start. */
function runTo(cmd: string, args: string[], stdoutPath: string | null): Promise<number | null> {
  const fd = stdoutPath === null ? 'ignore' : openSync(stdoutPath, 'w');
  return new Promise((resolve) => {
    let done = false;
    const finish = (code: number | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (typeof fd === 'number') closeSync(fd);
      resolve(code);
    };
    const child = spawn(cmd, args, { stdio: ['ignore', fd, 'ignore'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', () => finish(null));
    child.on('close', (code) => finish(code));
  });
}

/** `bpftool btf dump file vmlinux format raw`, written to a temporary file (much faster than a pipe); null without bpftool. */
async function bpftoolRawDump(): Promise<string | null> {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-btf-core-'));
  try {
    const code = await runTo('bpftool', ['btf', 'dump', 'file', VMLINUX, 'format', 'raw'], join(dir, 'raw.txt'));
    return code === 0 ? readFileSync(join(dir, 'raw.txt'), 'utf8') : null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Byte offsets of member paths as `bpftool btf dump ... format raw` prints
 * them (`text`): an oracle independent of our parser.
 */
function bpftoolOffsets(text: string, paths: [string, string[]][]): number[] {
  interface Raw { kind: string; type: number; members: { name: string; type: number; bits: number }[] }
  // Only the few types the paths reach are parsed, found by their "[id] KIND 'name'" lines.
  const parseAt = (at: number): Raw => {
    const lines = text.slice(at, text.indexOf('\n[', at + 1)).split('\n');
    const h = /^\[\d+\] (\w+) '.*?'(?: type_id=(\d+))?/.exec(lines[0]!)!;
    const members = lines.slice(1).flatMap((line) => {
      const m = /^\t'(.*?)' type_id=(\d+) bits_offset=(\d+)/.exec(line);
      return m ? [{ name: m[1] === '(anon)' ? '' : m[1]!, type: Number(m[2]), bits: Number(m[3]) }] : [];
    });
    return { kind: h[1]!, type: Number(h[2] ?? 0), members };
  };
  const byId = (id: number): Raw => parseAt(text.startsWith(`[${id}] `) ? 0 : text.indexOf(`\n[${id}] `) + 1);
  const byName = (name: string): Raw => parseAt(text.lastIndexOf('\n[', text.indexOf(`] STRUCT '${name}' `)) + 1);
  const skip = (id: number): Raw => {
    let t = byId(id);
    while (['TYPEDEF', 'CONST', 'VOLATILE', 'RESTRICT', 'TYPE_TAG'].includes(t.kind)) t = byId(t.type);
    return t;
  };
  const find = (t: Raw, name: string): { bits: number; type: number } | null => {
    for (const m of t.members) {
      if (m.name === name) return m;
      if (m.name === '') {
        const inner = find(skip(m.type), name);
        if (inner) return { bits: m.bits + inner.bits, type: inner.type };
      }
    }
    return null;
  };
  return paths.map(([root, names]) => {
    let t = byName(root);
    let bits = 0;
    for (const n of names) {
      const m = find(t, n)!;
      bits += m.bits;
      t = skip(m.type);
    }
    return bits / 8;
  });
}

test('task_struct reads resolved against the running kernel agree with bpftool', async (t) => {
  if (!existsSync(VMLINUX)) {
    t.skip(`${VMLINUX} is absent`);
    return;
  }
  // bpftool's dump runs while we parse and relocate.
  const dump = bpftoolRawDump();
  const obj = loadProgram('task.o', 'raw_tp/sys_enter');
  const kernel = vmlinux();
  const out = applyCoreRelos(obj.btf, kernel, obj.insns, obj.relos);
  const offsets: [string, string[]][] = [
    ['task_struct', ['pid']], ['task_struct', ['tgid']], ['task_struct', ['real_parent']], ['task_struct', ['flags']],
    ['task_struct', ['se', 'vruntime']], ['task_struct', ['start_time']], ['task_struct', ['mm']],
    ['mm_struct', ['total_vm']], ['task_struct', ['comm']],
  ];
  const offRelos = obj.relos.filter((r) => r.kind === K.FIELD_BYTE_OFFSET);
  assert.equal(offRelos.length, offsets.length);
  const got = offRelos.map((r) => Number(carried(out[r.insn]!)));
  const raw = await dump;
  if (raw === null) t.diagnostic('bpftool is missing: checked the offsets are plausible only');
  else assert.deepEqual(got, bpftoolOffsets(raw, offsets));
  // Plausibility whatever the kernel: distinct, inside task_struct, comm after pid.
  const taskSize = kernel.sizeOf(kernel.find('task_struct', 'struct')!.id);
  assert.ok(got.every((o) => o >= 0 && o < taskSize));
  assert.equal(new Set(got.filter((_, k) => offsets[k]![0] === 'task_struct')).size, 8);
  // __state exists on 5.14+; `state` (the ___old flavor) does not; comm is 16 bytes.
  const exists = obj.relos.filter((r) => r.kind === K.FIELD_EXISTS).map((r) => out[r.insn]!.imm);
  assert.deepEqual(exists, [1, 0]);
  const comm = obj.relos.find((r) => r.kind === K.FIELD_BYTE_SIZE)!;
  assert.equal(out[comm.insn]!.imm, 16);
});

test('a program built against this kernel\'s vmlinux.h relocates to the values clang compiled in', async (t) => {
  if (!existsSync(VMLINUX)) {
    t.skip(`${VMLINUX} is absent`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-btf-core-'));
  try {
    if (await runTo('bpftool', ['btf', 'dump', 'file', VMLINUX, 'format', 'c'], join(dir, 'vmlinux.h')) !== 0) {
      t.skip('bpftool is missing or cannot dump vmlinux.h');
      return;
    }
    const obj = join(dir, 'task_vmlinux.o');
    const cc = await runTo('clang-19', ['-O2', '-g', '-target', 'bpf', `-I${dir}`, '-I/usr/include/x86_64-linux-gnu', '-c', `${DIR}task_vmlinux.c`, '-o', obj], null);
    if (cc === null) {
      t.skip('clang-19 is missing');
      return;
    }
    assert.equal(cc, 0, 'clang-19 compiles task_vmlinux.c');
    const elf = elfSections(new Uint8Array(readFileSync(obj)));
    const btf = Btf.parse(elf.get('.BTF'));
    const section = 'raw_tp/sys_enter';
    const insns = decode(elf.get(section));
    const { pcs } = slotIndex(insns);
    const relos = parseBtfExt(elf.get('.BTF.ext'), btf).coreRelos.get(section)!
      .map((r) => ({ insn: pcs.indexOf(r.insnOff / 8), typeId: r.typeId, access: r.access, kind: r.kind }));
    const kernel = vmlinux();
    const out = applyCoreRelos(btf, kernel, insns, relos);
    assert.ok(relos.length >= 20, `${relos.length} relocations`);
    for (const r of relos) {
      const res = calcCoreRelo(btf, kernel, r);
      if (res.localAccess === 'struct task_struct___old.state') assert.equal(res.target, 0n);
      else if (r.kind === K.TYPE_ID_TARGET) assert.equal(res.target, BigInt(kernel.find('task_struct', 'struct')!.id));
      else assert.equal(res.target, res.local, `${res.localAccess} (kind ${r.kind})`);
      // Unchanged instructions, except where libbpf does not check the compiled value (bitfield load unit).
      if (res.validate && r.kind !== K.FIELD_EXISTS) assert.equal(carried(out[r.insn]!), carried(insns[r.insn]!), res.localAccess);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('testdata/core/build.sh rebuilds the committed objects byte for byte (when clang-19 is installed)', (t) => {
  if (spawnSync('clang-19', ['--version']).status !== 0) {
    t.skip('clang-19 is not installed');
    return;
  }
  const files = readdirSync(DIR);
  rebuildElsewhere('core', files.filter((f) => f.endsWith('.c')), (dir) => {
    const objects = files.filter((f) => f.endsWith('.o'));
    assert.equal(objects.length, 6);
    for (const f of objects) assert.ok(readFileSync(join(dir, f)).equals(readFileSync(join(DIR, f))), `${f} differs from its rebuild`);
  });
});
