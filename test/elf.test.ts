/**
 * The ELF64 reader (src/elf): every committed eBPF object parses, and agrees
 * with llvm-readelf-19 (when installed) on sections, symbols and relocations;
 * big-endian objects read the same as little-endian ones; every kind of
 * malformed input is an ElfError naming the section and file offset.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ElfError, EM_BPF, R_BPF, SHF, SHT, STB, STT, parseElf, type ElfFile } from '../src/elf/index.js';
import { isTsbpfError } from '../src/errors.js';
import { buildElf } from './support/elf-builder.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DIRS = ['testdata/progs', 'testdata/object'].map((d) => join(ROOT, d));
const objects = DIRS.flatMap((d) => {
  try {
    return readdirSync(d).filter((f) => f.endsWith('.o')).map((f) => join(d, f));
  } catch {
    return [];
  }
});
const read = (path: string): Uint8Array => new Uint8Array(readFileSync(path));
const fixture = (name: string): Uint8Array => read(join(ROOT, 'testdata/object', name));

function readelf(path: string): unknown[] | null {
  const r = spawnSync('llvm-readelf-19', ['--elf-output-style=JSON', '-S', '-s', '-r', path], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error || r.status !== 0) return null;
  return JSON.parse(r.stdout) as unknown[];
}

const expectElfError = (f: () => unknown, section: string | RegExp, msg?: RegExp): ElfError => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ElfError, `expected an ElfError, got ${String(e)}`);
    assert.equal(e.code, 'EELF');
    assert.ok(typeof e.where.offset === 'number');
    if (typeof section === 'string') assert.equal(e.section, section, e.message);
    else assert.match(e.section, section, e.message);
    if (msg) assert.match(e.message, msg);
    return e;
  }
  assert.fail('expected an ElfError');
};

test('every committed object parses as a little-endian EM_BPF relocatable file', () => {
  assert.ok(objects.length >= 8, `found only ${objects.length} objects`);
  for (const path of objects) {
    const elf = parseElf(read(path));
    assert.equal(elf.header.machine, EM_BPF, path);
    assert.equal(elf.header.type, 1, path);
    assert.equal(elf.littleEndian, !path.endsWith('_be.o'), path);
    assert.equal(elf.sections[0]!.type, SHT.NULL);
    assert.ok(elf.section('.symtab'), path);
    assert.ok(elf.section('.BTF'), path);
    assert.ok(elf.symbols.length > 1);
    for (const rs of elf.relocationSections) for (const r of elf.relocationsFor(rs.target.index)) assert.ok(r.symbol < elf.symbols.length);
  }
});

test('sections, symbols and relocations agree with llvm-readelf-19', (t) => {
  if (readelf(objects[0]!) === null) {
    t.skip('llvm-readelf-19 is not installed');
    return;
  }
  for (const path of objects) {
    const elf = parseElf(read(path));
    const doc = readelf(path)![0] as {
      Sections: Array<{ Section: { Index: number; Name: { Name: string }; Type: { Value: number }; Flags: { Value: number }; Offset: number; Size: number; Link: number; Info: number; EntrySize: number } }>;
      Symbols: Array<{ Symbol: { Name: { Name: string }; Value: number; Size: number; Binding: { Value: number }; Type: { Value: number }; Section: { Value: number } } }>;
      Relocations: Array<{ SectionIndex: number; Relocs: Array<{ Relocation: { Offset: number; Type: { Value: number }; Symbol: { Value: number } } }> }>;
    };
    assert.equal(elf.sections.length, doc.Sections.length, path);
    for (const { Section: s } of doc.Sections) {
      const mine = elf.sections[s.Index]!;
      assert.deepEqual(
        [mine.name, mine.type, mine.flags, mine.offset, mine.size, mine.link, mine.info, mine.entsize],
        [s.Name.Name, s.Type.Value, s.Flags.Value, s.Offset, s.Size, s.Link, s.Info, s.EntrySize],
        `${path} section ${s.Index}`,
      );
    }
    assert.equal(elf.symbols.length, doc.Symbols.length, path);
    doc.Symbols.forEach(({ Symbol: s }, i) => {
      const mine = elf.symbols[i]!;
      // readelf prints a section symbol under its section's name.
      const name = mine.type === STT.SECTION ? elf.sections[mine.shndx]!.name : mine.name;
      assert.deepEqual(
        [name, mine.value, mine.size, mine.bind, mine.type, mine.shndx],
        [s.Name.Name, s.Value, s.Size, s.Binding.Value, s.Type.Value, s.Section.Value],
        `${path} symbol ${i}`,
      );
    });
    for (const rs of doc.Relocations) {
      const sec = elf.sections[rs.SectionIndex]!;
      const mine = elf.relocationsFor(sec.info);
      const theirs = rs.Relocs.map(({ Relocation: r }) => [r.Offset, r.Type.Value, r.Symbol.Value]);
      const got = mine.map((r) => [r.offset, r.type, r.symbol]);
      for (const entry of theirs) assert.ok(got.some((g) => g.join() === entry.join()), `${path} ${sec.name}: missing ${entry.join()}`);
    }
  }
});

test('a big-endian object reads exactly like its little-endian twin', () => {
  const le = parseElf(fixture('multi.o'));
  const be = parseElf(fixture('multi_be.o'));
  assert.equal(be.littleEndian, false);
  const shape = (e: ElfFile) => ({
    sections: e.sections.map((s) => [s.name, s.type, s.flags, s.size, s.link, s.info, s.entsize]),
    symbols: e.symbols.map((s) => [s.name, s.value, s.size, s.bind, s.type, s.visibility, s.shndx]),
    relocs: e.relocationSections.map((rs) => [rs.section.name, e.relocationsFor(rs.target.index).map((r) => [r.offset, r.type, r.symbol])]),
  });
  assert.deepEqual(shape(be), shape(le));
});

test('relocations of the BPF types are decoded with their symbol', () => {
  const elf = parseElf(fixture('multi.o'));
  const xdp = elf.section('xdp')!;
  assert.ok((xdp.flags & SHF.EXECINSTR) !== 0);
  const relocs = elf.relocationsFor(xdp.index).map((r) => [r.offset, r.type, elf.symbols[r.symbol]!.name || elf.sections[elf.symbols[r.symbol]!.shndx]!.name]);
  assert.deepEqual(relocs.find((r) => r[2] === 'hits')?.[1], R_BPF.R64_64);
  assert.deepEqual(relocs.find((r) => r[2] === 'shared')?.[1], R_BPF.R64_32);
  const maps = elf.section('.maps');
  assert.ok(maps);
  const hits = elf.symbols.find((s) => s.name === 'hits')!;
  assert.equal(hits.shndx, maps.index);
  assert.equal(hits.bind, STB.GLOBAL);
  assert.equal(hits.type, STT.OBJECT);
  // RELA sections carry an explicit addend.
  const built = parseElf(buildElf({
    sections: [{ name: 'socket', flags: SHF.ALLOC | SHF.EXECINSTR, data: new Uint8Array(32) }, { name: '.data', flags: 3, data: new Uint8Array(8) }],
    symbols: [{ name: 'd', section: '.data', type: STT.OBJECT, size: 8 }],
    relocations: [{ target: 'socket', rela: true, entries: [{ offset: 8, type: R_BPF.R64_64, symbol: 'd', addend: -4 }] }],
  }));
  assert.deepEqual(built.relocationsFor(built.section('socket')!.index), [{ offset: 8, type: 1, symbol: 1, addend: -4 }]);
});

/** Copies `bytes` with a little-endian integer of `size` bytes written at `at`. */
function patch(bytes: Uint8Array, at: number, value: number | bigint, size: 1 | 2 | 4 | 8): Uint8Array {
  const out = bytes.slice();
  const v = new DataView(out.buffer);
  if (size === 1) v.setUint8(at, Number(value));
  else if (size === 2) v.setUint16(at, Number(value), true);
  else if (size === 4) v.setUint32(at, Number(value), true);
  else v.setBigUint64(at, BigInt(value), true);
  return out;
}

test('malformed headers are ElfErrors', () => {
  const good = fixture('multi.o');
  const elf = parseElf(good);
  expectElfError(() => parseElf(new Uint8Array(0)), '<header>', /too short/);
  expectElfError(() => parseElf(good.subarray(0, 40)), '<header>', /too short/);
  expectElfError(() => parseElf(patch(good, 0, 0x7e, 1)), '<header>', /magic/);
  expectElfError(() => parseElf(patch(good, 4, 1, 1)), '<header>', /ELFCLASS64/);
  expectElfError(() => parseElf(patch(good, 5, 3, 1)), '<header>', /data encoding/);
  expectElfError(() => parseElf(patch(good, 18, 62, 2)), '<header>', /EM_BPF/);
  assert.equal(parseElf(patch(good, 18, 62, 2), { machine: null }).header.machine, 62);
  assert.equal(parseElf(patch(good, 18, 62, 2), { machine: 62 }).sections.length, elf.sections.length);
  expectElfError(() => parseElf(patch(good, 58, 40, 2)), '<header>', /e_shentsize/);
  expectElfError(() => parseElf(patch(good, 40, good.length - 10, 8)), '<header>', /outside/);
  expectElfError(() => parseElf(patch(good, 60, 0xfff0, 2)), '<header>', /run past/);
  expectElfError(() => parseElf(patch(good, 62, elf.sections.length + 3, 2)), '<header>', /name table/);
  // The section header table cut off by truncation.
  expectElfError(() => parseElf(good.subarray(0, good.length - 20)), '<header>', /run past|outside/);
});

test('malformed sections, strings, symbols and relocations are ElfErrors', () => {
  const good = fixture('multi.o');
  const elf = parseElf(good);
  const shdr = (i: number) => elf.header.shoff + i * 64;
  const text = elf.section('.text')!;
  // A section whose bytes lie outside the file.
  expectElfError(() => parseElf(patch(good, shdr(text.index) + 24, good.length, 8)), `#${text.index}`, /outside/);
  expectElfError(() => parseElf(patch(good, shdr(text.index) + 32, 1 << 30, 8)), `#${text.index}`, /outside/);
  // A section name past the end of .shstrtab / .strtab.
  expectElfError(() => parseElf(patch(good, shdr(text.index), 0xffffff, 4)), `#${text.index}`, /string offset/);
  // The section-name table is not a string table.
  expectElfError(() => parseElf(patch(good, shdr(elf.header.shstrndx) + 4, SHT.PROGBITS, 4)), `#${elf.header.shstrndx}`, /not a string table/);
  // A symbol name past the end of the string table; a symbol in a section that does not exist.
  const symtab = elf.sections[elf.symtabIndex]!;
  expectElfError(() => parseElf(patch(good, symtab.offset + 24 * 3, 0xffffff, 4)), '.symtab', /string offset/);
  expectElfError(() => parseElf(patch(good, symtab.offset + 24 * 3 + 6, 0x7000, 2)), '.symtab', /does not exist/);
  expectElfError(() => parseElf(patch(good, shdr(symtab.index) + 56, 16, 8)), '.symtab', /entry size/);
  // A second symbol table.
  const strtabIdx = symtab.link;
  expectElfError(() => parseElf(patch(patch(good, shdr(text.index) + 4, SHT.SYMTAB, 4), shdr(text.index) + 40, strtabIdx, 4)), /./, /second symbol table|entry size/);
  // Relocations: bad symbol index, bad target, bad entry size, outside the target, unknown BPF type.
  const rel = elf.relocationSections.find((r) => r.section.name === '.relxdp')!.section;
  const xdp = elf.section('xdp')!;
  const first = rel.offset;
  expectElfError(() => parseElf(patch(good, first + 12, 0xfffff, 4)).relocationsFor(xdp.index), '.relxdp', /symbol/);
  expectElfError(() => parseElf(patch(good, first, xdp.size, 8)).relocationsFor(xdp.index), '.relxdp', /outside/);
  expectElfError(() => parseElf(patch(good, first + 8, 77, 4)).relocationsFor(xdp.index), '.relxdp', /unknown BPF relocation type/);
  expectElfError(() => parseElf(patch(good, shdr(rel.index) + 44, 0xffff, 4)), '.relxdp', /target section/);
  expectElfError(() => parseElf(patch(good, shdr(rel.index) + 56, 24, 8)), '.relxdp', /entry size/);
  expectElfError(() => parseElf(patch(good, shdr(rel.index) + 40, 1, 4)), '.relxdp', /symbol table/);
  // Sizes too large for a JS number.
  expectElfError(() => parseElf(patch(good, shdr(text.index) + 32, 1n << 60n, 8)), `#${text.index}`, /too large/);
});

test('every truncation of an object is a spec or an ElfError, never another exception', () => {
  const good = fixture('legacy_maps.o');
  for (let n = 0; n < good.length; n += 7) {
    try {
      const elf = parseElf(good.subarray(0, n));
      for (const rs of elf.relocationSections) elf.relocationsFor(rs.target.index);
    } catch (e) {
      assert.ok(isTsbpfError(e) && e instanceof ElfError, `length ${n}: ${String(e)}`);
    }
  }
});

test('extended section numbering and symbol section indices are resolved', () => {
  // Move the section count into section 0 (e_shnum = 0) and the name-table index too (SHN_XINDEX).
  const good = fixture('multi.o');
  const elf = parseElf(good);
  let ext = patch(good, 60, 0, 2);
  ext = patch(ext, elf.header.shoff + 32, elf.sections.length, 8);
  ext = patch(ext, 62, 0xffff, 2);
  ext = patch(ext, elf.header.shoff + 40, elf.header.shstrndx, 4);
  const back = parseElf(ext);
  assert.equal(back.header.shnum, elf.sections.length);
  assert.deepEqual(back.sections.slice(1).map((s) => s.name), elf.sections.slice(1).map((s) => s.name));
  // A big-endian built file, with a symbol whose section comes from .symtab_shndx.
  const be = buildElf({
    littleEndian: false,
    sections: [{ name: '.data', flags: 3, data: new Uint8Array([1, 2, 3, 4]) }, { name: '.bss', type: SHT.NOBITS, flags: 3, size: 16 }],
    symbols: [{ name: 'x', section: '.data', type: STT.OBJECT, size: 4 }, { name: 'y', section: '.bss', value: 8, size: 8, type: STT.OBJECT }],
  });
  const parsed = parseElf(be);
  assert.equal(parsed.littleEndian, false);
  assert.deepEqual(parsed.symbols.map((s) => [s.name, s.value, s.size, s.shndx]), [['', 0, 0, 0], ['x', 0, 4, 1], ['y', 8, 8, 2]]);
  assert.equal(parsed.section('.bss')!.size, 16);
  assert.equal(parsed.section('.bss')!.data.length, 0);
  assert.deepEqual([...parsed.section('.data')!.data], [1, 2, 3, 4]);
});
