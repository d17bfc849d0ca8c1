/**
 * The object loader (src/object): clang-compiled objects in testdata/progs
 * and testdata/object become ObjectSpecs as libbpf would see them (programs
 * by SEC() name, BTF and legacy maps, global data, externs, linked
 * subprograms, func/line info and CO-RE records on instruction indices), and
 * malformed objects are typed errors, never crashes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { isTsbpfError } from '../src/errors.js';
import { R_BPF, SHF, SHT, STB, STT } from '../src/elf/index.js';
import { encode, insn, OP_CALL, OP_EXIT, OP_LDDW, slotIndex, validate, type Instruction } from '../src/isa/index.js';
import {
  AttachType,
  MapFlag,
  MapType,
  ObjectError,
  PseudoSrc,
  internalMapName,
  loadObject,
  programKind,
  type ObjectSpec,
  type ProgramSpec,
} from '../src/object/index.js';
import { buildElf, type BuildSymbol } from './support/elf-builder.js';
import { loadVm } from '../src/vm/index.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PROGS = join(ROOT, 'testdata/progs');
const OBJ = join(ROOT, 'testdata/object');
const listObjects = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.o')).sort() : []);
const bytesOf = (path: string): Uint8Array => new Uint8Array(readFileSync(path));
const load = (dir: string, file: string): ObjectSpec => loadObject(bytesOf(join(dir, file)), basename(file, '.o'));
const fixture = (file: string): ObjectSpec => load(OBJ, file);

const OP_MOV64_IMM = 0xb7;
const mov = (dst: number, imm: number): Instruction => insn(OP_MOV64_IMM, { dst, imm });
const exit = (): Instruction => insn(OP_EXIT);

/**
 * Checks what must hold for every linked program: valid instructions, every
 * bpf-to-bpf call and function address landing on a function start named by
 * func_info, every map/extern reference matching its instruction, and each
 * line_info record quoting the real source line.
 */
function checkProgram(spec: ObjectSpec, prog: ProgramSpec, dir: string): void {
  const where = `${spec.name}/${prog.name}`;
  const { pcs, slots } = slotIndex(prog.insns);
  prog.insns.forEach((i, k) => assert.equal(validate(i), null, `${where} insn ${k}`));
  const funcStarts = new Set(prog.funcInfo.map((f) => pcs[f.insn]));
  if (spec.btfExt) {
    assert.ok(prog.funcInfo.length > 0, `${where}: no func_info`);
    assert.equal(prog.funcInfo[0]!.insn, 0);
    assert.equal(prog.funcInfo[0]!.name, prog.name);
  }
  prog.insns.forEach((i, k) => {
    const local = i.opcode === OP_CALL && i.src === 1;
    const func = i.opcode === OP_LDDW && i.src === PseudoSrc.FUNC;
    if (!local && !func) return;
    const target = pcs[k]! + i.imm + 1;
    assert.ok(target >= 0 && target < slots, `${where} insn ${k}: call target ${target} outside the program`);
    if (spec.btfExt) assert.ok(funcStarts.has(target), `${where} insn ${k}: call target ${target} is not a function start`);
  });
  const mapRefs = new Map(prog.maps.map((m) => [m.insn, m]));
  prog.insns.forEach((i, k) => {
    if (i.opcode !== OP_LDDW || (i.src !== PseudoSrc.MAP_FD && i.src !== PseudoSrc.MAP_VALUE)) return;
    const ref = mapRefs.get(k);
    assert.ok(ref, `${where} insn ${k}: lddw with src ${i.src} has no map reference`);
    assert.equal(ref.kind, i.src === PseudoSrc.MAP_FD ? 'fd' : 'value');
    assert.equal(i.imm, 0);
    assert.equal(i.imm2, ref.kind === 'value' ? ref.offset : 0);
  });
  for (const m of prog.maps) {
    assert.ok(spec.maps.has(m.map), `${where}: reference to unknown map ${m.map}`);
    assert.equal(prog.insns[m.insn]?.opcode, OP_LDDW);
    if (m.kind === 'value') assert.ok(m.offset >= 0 && m.offset <= spec.maps.get(m.map)!.valueSize);
  }
  for (const e of prog.externs) {
    const ext = spec.externs.find((x) => x.name === e.name);
    assert.ok(ext, `${where}: reference to unknown extern ${e.name}`);
    const i = prog.insns[e.insn]!;
    if (ext.kind === 'kfunc' && i.opcode === OP_CALL) assert.equal(i.src, 2);
    else if (ext.kind === 'kconfig') assert.equal(i.src, PseudoSrc.MAP_VALUE);
    else assert.equal(i.src, PseudoSrc.BTF_ID);
  }
  let last = -1;
  for (const l of prog.lineInfo) {
    assert.ok(l.insn >= last && l.insn < prog.insns.length, `${where}: line_info out of order or range`);
    last = l.insn;
    const src = join(dir, l.file.replace(/^\.\//, ''));
    if (!existsSync(src)) continue;
    const lines = readFileSync(src, 'utf8').split('\n');
    assert.equal(lines[l.line - 1], l.text, `${where}: line ${l.line} of ${l.file}`);
  }
  for (const r of prog.coreRelos) assert.ok(r.insn >= 0 && r.insn < prog.insns.length);
}

/** `SEC("...")` + function name pairs and `.maps` variable names, read from a C source. */
function declared(c: string): { programs: Map<string, string>; maps: string[] } {
  const programs = new Map<string, string>();
  for (const m of c.matchAll(/SEC\("([^"]+)"\)\s*\n?\s*(?:static\s+)?(?:__always_inline\s+)?[\w ]+?\b(\w+)\s*\(/g)) programs.set(m[2]!, m[1]!);
  const maps = [...c.matchAll(/\}\s*(\w+)\s+SEC\("\.maps"\)/g)].map((m) => m[1]!);
  return { programs, maps };
}

test('every object in testdata/progs loads with the programs and maps its source declares', (t) => {
  const files = listObjects(PROGS);
  if (files.length === 0) {
    t.skip('testdata/progs has no objects yet');
    return;
  }
  for (const file of files) {
    const spec = load(PROGS, file);
    const name = basename(file, '.o');
    assert.equal(spec.name, name);
    const c = readFileSync(join(PROGS, `${name}.c`), 'utf8');
    const want = declared(c);
    for (const [prog, sec] of want.programs) {
      const p = spec.programs.get(prog);
      assert.ok(p, `${file}: program ${prog} (SEC("${sec}")) is missing`);
      assert.equal(p.section, sec);
      assert.equal(p.type, programKind(sec)!.type);
    }
    assert.equal(spec.programs.size, want.programs.size, `${file}: programs ${[...spec.programs.keys()]}`);
    for (const m of want.maps) assert.ok(spec.maps.has(m), `${file}: map ${m} is missing`);
    for (const p of spec.programs.values()) {
      checkProgram(spec, p, PROGS);
      assert.ok(p.license.length > 0);
    }
    assert.ok(spec.btf && spec.btfExt);
  }
});

test('testdata/progs: global data, subprogram linking and tail-call slots', (t) => {
  if (!existsSync(join(PROGS, 'globals.o')) || !existsSync(join(PROGS, 'calls.o')) || !existsSync(join(PROGS, 'tail_calls.o'))) {
    t.skip('testdata/progs is incomplete');
    return;
  }
  const g = load(PROGS, 'globals.o');
  for (const [sec, flags, ro] of [['.rodata', MapFlag.RDONLY_PROG, true], ['.data', 0, false], ['.bss', 0, false]] as const) {
    const m = g.maps.get(`globals${sec}`);
    assert.ok(m, `globals${sec}`);
    assert.equal(m.section, sec);
    assert.deepEqual([m.type, m.keySize, m.maxEntries, m.readonly], [MapType.ARRAY, 4, 1, ro]);
    assert.equal(m.flags & ~MapFlag.MMAPABLE, flags);
    assert.equal(m.data!.length, m.valueSize);
    if (sec === '.bss') assert.ok(m.data!.every((b) => b === 0));
    assert.ok(m.variables.length > 0);
    for (const v of m.variables) assert.ok(v.offset + v.size <= m.valueSize && v.typeId > 0, v.name);
  }
  // calls.c: a program with several subprograms, each appended once after it.
  const calls = load(PROGS, 'calls.o');
  for (const p of calls.programs.values()) {
    assert.ok(p.funcInfo.length > 1, 'calls.o links subprograms');
    const names = p.funcInfo.map((f) => f.name);
    assert.equal(new Set(names).size, names.length);
    assert.ok(p.insns.length > p.funcInfo[1]!.insn);
  }
  const tail = load(PROGS, 'tail_calls.o');
  const jmp = [...tail.maps.values()].find((m) => m.type === MapType.PROG_ARRAY)!;
  assert.ok(jmp.init.length >= 2);
  for (const e of jmp.init) {
    assert.ok('program' in e.value && tail.programs.has(e.value.program));
    assert.equal(e.key.length, 4);
  }
});

test('multiple programs per section, cross-section calls, callbacks and big-endian', () => {
  const spec = fixture('multi.o');
  assert.deepEqual([...spec.programs.keys()], ['xdp_first', 'xdp_second', 'tc_first', 'tc_second', 'trace_openat']);
  assert.equal(spec.license, 'Dual BSD/GPL');
  assert.equal(spec.kernelVersion, 0x060c00);
  const p = (n: string) => spec.programs.get(n)!;
  for (const prog of spec.programs.values()) {
    checkProgram(spec, prog, OBJ);
    assert.equal(prog.kernelVersion, 0x060c00);
  }
  assert.deepEqual(p('xdp_first').funcInfo.map((f) => f.name), ['xdp_first', 'shared', 'add_one', 'triple']);
  assert.deepEqual(p('xdp_second').funcInfo.map((f) => f.name), ['xdp_second', 'count_cb', 'xdp_helper', 'triple']);
  // tc_first calls a function that lives in the xdp section.
  assert.deepEqual(p('tc_first').funcInfo.map((f) => f.name), ['tc_first', 'xdp_helper']);
  assert.deepEqual(p('tc_second').funcInfo.map((f) => f.name), ['tc_second', 'add_one', 'triple']);
  assert.equal(p('trace_openat').attachTo, 'syscalls/sys_enter_openat');
  assert.equal(p('tc_first').type, 'SCHED_CLS');
  assert.equal(p('xdp_first').expectedAttachType, AttachType.XDP);
  // bpf_loop's callback: lddw src=4 to count_cb's first instruction.
  const second = p('xdp_second');
  const k = second.insns.findIndex((i) => i.opcode === OP_LDDW && i.src === PseudoSrc.FUNC);
  const { pcs } = slotIndex(second.insns);
  const cb = second.funcInfo.find((f) => f.name === 'count_cb')!;
  assert.equal(pcs[k]! + second.insns[k]!.imm + 1, pcs[cb.insn]);
  // The .text subprograms are not programs; static xdp_helper is not either.
  assert.ok(!spec.programs.has('shared') && !spec.programs.has('xdp_helper'));
  // The big-endian build is the same spec.
  const be = fixture('multi_be.o');
  const strip = (s: ObjectSpec) => [...s.programs.values()].map((x) => ({ ...x, lineInfo: x.lineInfo.length }));
  assert.deepEqual(strip(be), strip(spec));
  assert.deepEqual([...be.maps.keys()], [...spec.maps.keys()]);
});

test('global data: .rodata.str1.1, custom .data.*/.rodata.*/.bss.* sections and libbpf map names', () => {
  const spec = fixture('rodata_str.o');
  assert.deepEqual([...spec.maps.keys()], ['rodata_s.rodata', '.data.counters', '.rodata.tuning', '.rodata.str1.1', '.bss.scratch', 'rodata_s.bss']);
  const str = spec.maps.get('.rodata.str1.1')!;
  const text = new TextDecoder().decode(str.data!);
  assert.ok(text.includes('a long packet\n\0') && text.includes('short\n\0'));
  assert.equal(str.flags, MapFlag.RDONLY_PROG);
  assert.equal(str.readonly, true);
  assert.deepEqual(str.variables, []);
  const ro = spec.maps.get('rodata_s.rodata')!;
  assert.deepEqual(ro.variables.map((v) => [v.name, v.offset, v.size]), [['threshold', 0, 4], ['table', 4, 8]]);
  assert.deepEqual([...ro.data!.subarray(4, 12)], [1, 2, 3, 5, 8, 13, 21, 34]);
  assert.equal(ro.flags, MapFlag.RDONLY_PROG | MapFlag.MMAPABLE);
  assert.equal(spec.maps.get('.data.counters')!.readonly, false);
  assert.deepEqual([...spec.maps.get('.data.counters')!.data!], [5, 0, 0, 0]);
  assert.equal(spec.maps.get('.rodata.tuning')!.readonly, true);
  assert.equal(spec.maps.get('.bss.scratch')!.valueSize, 32);
  // Only static variables: libbpf does not make the map mmap-able.
  assert.equal(spec.maps.get('rodata_s.bss')!.flags, 0);
  const prog = spec.programs.get('strings')!;
  checkProgram(spec, prog, OBJ);
  const strRefs = prog.maps.filter((m) => m.map === '.rodata.str1.1').map((m) => m.offset).sort((a, b) => a - b);
  assert.deepEqual(strRefs.map((o) => text.slice(o, text.indexOf('\0', o))), ['a long packet\n', 'short\n'].sort());
  assert.ok(prog.maps.some((m) => m.map === 'rodata_s.rodata' && m.offset === 4), 'table is read at offset 4');
});

test('internal map names follow libbpf', () => {
  assert.equal(internalMapName('globals', '.rodata'), 'globals.rodata');
  assert.equal(internalMapName('my_object_name', '.rodata'), 'my_objec.rodata');
  assert.equal(internalMapName('my_object_name', '.bss'), 'my_objec.bss');
  assert.equal(internalMapName('my_object_name', '.kconfig'), 'my_obje.kconfig');
  assert.equal(internalMapName('x', '.rodata.abracadabra'), '.rodata.abracad');
  assert.equal(internalMapName('x', '.rodata.str1.1'), '.rodata.str1.1');
  assert.equal(internalMapName('a-b c', '.data'), 'a_b_c.data');
  assert.equal(internalMapName('', '.bss'), '.bss');
  for (const n of ['a', 'abcdefghijklmnopqrstuvwxyz', 'é'.repeat(9)]) for (const s of ['.data', '.rodata', '.bss', '.kconfig', '.data.x']) {
    assert.ok(new TextEncoder().encode(internalMapName(n, s)).length <= 15);
  }
  const spec = loadObject(bytesOf(join(OBJ, 'externs.o')), 'a_very_long_object');
  assert.deepEqual([...spec.maps.keys()], ['a_very_l.bss', 'a_very_.kconfig']);
  assert.equal(loadObject(bytesOf(join(OBJ, 'multi.o'))).name, 'obj');
});

test('legacy SEC("maps") definitions', () => {
  const spec = fixture('legacy_maps.o');
  const shape = [...spec.maps.values()].map((m) => [m.name, m.section, m.type, m.keySize, m.valueSize, m.maxEntries, m.flags, m.pinning]);
  assert.deepEqual(shape, [
    ['packets', 'maps', MapType.ARRAY, 4, 8, 2, 0, 'none'],
    ['by_proto', 'maps', MapType.HASH, 4, 8, 256, MapFlag.NO_PREALLOC, 'none'],
    ['pinned', 'maps', MapType.ARRAY, 4, 4, 1, 0, 'by_name'],
  ]);
  const prog = spec.programs.get('count_packets')!;
  assert.equal(prog.type, 'SOCKET_FILTER');
  assert.equal(prog.expectedAttachType, null);
  checkProgram(spec, prog, OBJ);
  assert.deepEqual(prog.maps.map((m) => [m.map, m.kind]), [['packets', 'fd'], ['by_proto', 'fd'], ['pinned', 'fd']]);
});

test('BTF map attributes, maps of maps and prog arrays with .values', () => {
  const spec = fixture('map_in_map.o');
  const m = (n: string) => spec.maps.get(n)!;
  // In the order of their definitions in .maps (where clang put them).
  assert.deepEqual([...spec.maps.keys()].sort(), ['bloom', 'events', 'inner_a', 'inner_b', 'jumps', 'outer_arr', 'outer_hash', 'pinned_lru']);
  const outer = m('outer_arr');
  assert.deepEqual([outer.type, outer.keySize, outer.valueSize, outer.maxEntries], [MapType.ARRAY_OF_MAPS, 4, 4, 4]);
  assert.deepEqual(outer.init.map((e) => [[...e.key], e.value]), [[[0, 0, 0, 0], { map: 'inner_a' }], [[3, 0, 0, 0], { map: 'inner_b' }]]);
  assert.equal(outer.innerMap!.name, 'outer_arr.inner');
  assert.deepEqual([outer.innerMap!.type, outer.innerMap!.keySize, outer.innerMap!.valueSize, outer.innerMap!.maxEntries], [MapType.ARRAY, 4, 8, 1]);
  const hash = m('outer_hash');
  assert.deepEqual([hash.type, hash.flags, hash.maxEntries, hash.init.length], [MapType.HASH_OF_MAPS, MapFlag.NO_PREALLOC, 8, 0]);
  assert.deepEqual([hash.innerMap!.type, hash.innerMap!.keySize, hash.innerMap!.valueSize, hash.innerMap!.maxEntries], [MapType.HASH, 8, 4, 16]);
  const jumps = m('jumps');
  assert.deepEqual([jumps.type, jumps.keySize, jumps.valueSize, jumps.keyTypeId], [MapType.PROG_ARRAY, 4, 4, 0]);
  assert.deepEqual(jumps.init.map((e) => [e.key[0], e.value]), [[1, { program: 'jump_a' }], [2, { program: 'jump_b' }]]);
  const lru = m('pinned_lru');
  assert.deepEqual([lru.type, lru.pinning, lru.flags, lru.numaNode, lru.keySize, lru.valueSize], [MapType.LRU_HASH, 'by_name', MapFlag.NUMA_NODE, 0, 4, 16]);
  assert.equal(spec.btf!.typeName(lru.valueTypeId), 'struct value');
  assert.equal(spec.btf!.typeName(lru.keyTypeId), '__u32');
  const bloom = m('bloom');
  assert.deepEqual([bloom.type, bloom.keySize, bloom.valueSize, bloom.mapExtra, bloom.valueTypeId], [MapType.BLOOM_FILTER, 0, 4, 3n, 0]);
  assert.deepEqual([m('events').type, m('events').maxEntries], [MapType.RINGBUF, 4096]);
  for (const x of spec.maps.values()) assert.deepEqual([x.data, x.readonly, x.variables], [null, false, []]);
  for (const p of spec.programs.values()) checkProgram(spec, p, OBJ);
  assert.deepEqual(spec.programs.get('entry')!.maps.map((r) => r.map), ['outer_arr', 'pinned_lru', 'bloom', 'events', 'outer_hash', 'jumps']);
});

test('kconfig and ksym externs', () => {
  const spec = fixture('externs.o');
  assert.deepEqual(spec.externs.map((e) => [e.name, e.kind, e.weak, e.offset, e.size]), [
    ['CONFIG_HZ', 'kconfig', true, 0, 8],
    ['CONFIG_XFS_FS', 'kconfig', true, 8, 4],
    ['LINUX_KERNEL_VERSION', 'kconfig', false, 12, 4],
    ['CONFIG_BPF_SYSCALL', 'kconfig', false, 16, 1],
    ['CONFIG_LOCALVERSION', 'kconfig', true, 17, 16],
    ['bpf_no_such_kfunc', 'kfunc', true, 0, 0],
    ['bpf_prog_active', 'ksym', false, 0, 4],
    ['bpf_rcu_read_lock', 'kfunc', false, 0, 0],
    ['bpf_rcu_read_unlock', 'kfunc', false, 0, 0],
    ['init_task', 'ksym', true, 0, 0],
  ]);
  for (const e of spec.externs) assert.equal(spec.btf!.get(e.typeId).name, e.name);
  const kc = spec.maps.get('externs.kconfig')!;
  assert.deepEqual([kc.section, kc.valueSize, kc.readonly, kc.flags & MapFlag.RDONLY_PROG], ['.kconfig', 33, true, MapFlag.RDONLY_PROG]);
  assert.deepEqual(kc.variables.map((v) => [v.name, v.offset]), spec.externs.filter((e) => e.kind === 'kconfig').map((e) => [e.name, e.offset]));
  // The .kconfig DATASEC is laid out like the map.
  const ds = spec.btf!.get(kc.valueTypeId);
  assert.ok(ds.kind === 'datasec' && ds.size === 33);
  const reader = spec.programs.get('kconfig_reader')!;
  checkProgram(spec, reader, OBJ);
  for (const e of reader.externs) {
    const ref = reader.maps.find((m) => m.insn === e.insn)!;
    assert.deepEqual([ref.map, ref.kind, ref.offset], ['externs.kconfig', 'value', spec.externs.find((x) => x.name === e.name)!.offset]);
  }
  const ksyms = spec.programs.get('ksym_reader')!;
  checkProgram(spec, ksyms, OBJ);
  const kfuncCalls = ksyms.externs.filter((e) => ksyms.insns[e.insn]!.opcode === OP_CALL);
  assert.deepEqual(kfuncCalls.map((e) => e.name), ['bpf_rcu_read_lock', 'bpf_rcu_read_unlock', 'bpf_no_such_kfunc']);
  for (const e of kfuncCalls) assert.deepEqual([ksyms.insns[e.insn]!.src, ksyms.insns[e.insn]!.imm], [2, 0]);
  const vars = ksyms.externs.filter((e) => ksyms.insns[e.insn]!.opcode === OP_LDDW).map((e) => e.name).sort();
  assert.deepEqual(vars, ['bpf_no_such_kfunc', 'bpf_prog_active', 'init_task']);
});

test('CO-RE relocation records land on the instructions they patch', () => {
  const spec = fixture('core.o');
  const prog = spec.programs.get('core_reads')!;
  assert.equal(prog.type, 'KPROBE');
  assert.equal(prog.attachTo, 'do_nanosleep');
  checkProgram(spec, prog, OBJ);
  const btf = spec.btf!;
  const kinds = prog.coreRelos.map((r) => [btf.typeName(r.typeId), r.access, r.kind, prog.insns[r.insn]!.imm]);
  // [root type, access string, enum bpf_core_relo_kind, the value clang compiled in for the local type]
  assert.deepEqual(kinds, [
    ['struct task_struct', '0:1', 0, 4], // BPF_CORE_READ(t, tgid): byte offset
    ['struct task_struct', '0:2', 0, 8], // real_parent...
    ['struct task_struct', '0:0', 0, 0], // ...->pid
    ['struct task_struct', '0:4', 2, 1], // field exists
    ['struct task_struct', '0:3', 1, 16], // field size
    ['struct task_struct', '0', 8, 1], // type exists
    ['enum bpf_map_type', '27', 11, MapType.RINGBUF], // enum value
  ]);
});

test('section names map to libbpf program types, attach types, targets and sleepable', () => {
  const spec = fixture('sections.o');
  const table: Record<string, [string, number | null, string, boolean]> = {
    p_xdp_frags: ['XDP', AttachType.XDP, '', false],
    p_xdp_devmap: ['XDP', AttachType.XDP_DEVMAP, '', false],
    p_xdp_cpumap: ['XDP', AttachType.XDP_CPUMAP, '', false],
    p_tc_ingress: ['SCHED_CLS', AttachType.TCX_INGRESS, '', false],
    p_tc_egress: ['SCHED_CLS', AttachType.TCX_EGRESS, '', false],
    p_tcx_ingress: ['SCHED_CLS', AttachType.TCX_INGRESS, '', false],
    p_tcx_egress: ['SCHED_CLS', AttachType.TCX_EGRESS, '', false],
    p_classifier: ['SCHED_CLS', null, '', false],
    p_action: ['SCHED_ACT', null, '', false],
    p_tp: ['TRACEPOINT', null, 'sched/sched_switch', false],
    p_raw_tp: ['RAW_TRACEPOINT', null, 'sys_enter', false],
    p_raw_tracepoint: ['RAW_TRACEPOINT', null, 'sys_exit', false],
    p_uprobe: ['KPROBE', null, '/usr/bin/bash:readline+4', false],
    p_uretprobe: ['KPROBE', null, '/usr/bin/bash:readline', false],
    p_uprobe_s: ['KPROBE', null, '/usr/lib/libc.so.6:malloc', true],
    p_kprobe: ['KPROBE', null, 'do_sys_openat2', false],
    p_kretprobe: ['KPROBE', null, 'do_sys_openat2', false],
    p_perf_event: ['PERF_EVENT', null, '', false],
    p_iter: ['TRACING', AttachType.TRACE_ITER, 'task', false],
    p_iter_s: ['TRACING', AttachType.TRACE_ITER, 'task_file', true],
    p_syscall: ['SYSCALL', null, '', true],
    p_fentry: ['TRACING', AttachType.TRACE_FENTRY, 'do_unlinkat', false],
    p_fexit: ['TRACING', AttachType.TRACE_FEXIT, 'do_unlinkat', false],
    p_fentry_s: ['TRACING', AttachType.TRACE_FENTRY, 'do_unlinkat', true],
    p_lsm: ['LSM', AttachType.LSM_MAC, 'file_open', false],
    p_lsm_s: ['LSM', AttachType.LSM_MAC, 'bprm_committed_creds', true],
    p_cgroup_skb_ingress: ['CGROUP_SKB', AttachType.CGROUP_INET_INGRESS, '', false],
    p_cgroup_skb_egress: ['CGROUP_SKB', AttachType.CGROUP_INET_EGRESS, '', false],
    p_sk_skb_parser: ['SK_SKB', AttachType.SK_SKB_STREAM_PARSER, '', false],
    p_sk_skb_verdict: ['SK_SKB', AttachType.SK_SKB_STREAM_VERDICT, '', false],
    p_sk_msg: ['SK_MSG', AttachType.SK_MSG_VERDICT, '', false],
    p_flow_dissector: ['FLOW_DISSECTOR', AttachType.FLOW_DISSECTOR, '', false],
    p_struct_ops: ['STRUCT_OPS', null, 'test_1', false],
    p_socket_noautoload: ['SOCKET_FILTER', null, '', false],
  };
  assert.deepEqual([...spec.programs.keys()].sort(), Object.keys(table).sort());
  for (const [name, [type, attach, to, sleepable]] of Object.entries(table)) {
    const p = spec.programs.get(name)!;
    assert.deepEqual([p.type, p.expectedAttachType, p.attachTo, p.sleepable], [type, attach, to, sleepable], name);
  }
  assert.equal(spec.programs.get('p_socket_noautoload')!.section, '?socket');
  // Table details.
  assert.equal(programKind('xdp')!.expectedAttachType, AttachType.XDP);
  assert.equal(programKind('tp_btf/sched_switch')!.expectedAttachType, AttachType.TRACE_RAW_TP);
  assert.equal(programKind('kprobe')!.attachTo, '');
  assert.equal(programKind('xdp_foo'), null, 'libbpf matches xdp exactly');
  assert.equal(programKind('kprobes/x'), null);
  assert.equal(programKind('socket/1'), null);
  assert.equal(programKind('iter/')!.attachTo, '');
  assert.equal(programKind('xdp.frags/devmap')!.expectedAttachType, AttachType.XDP_DEVMAP);
});

/** A minimal object: one executable section with the given functions, plus extra sections and relocations. */
function object(o: {
  section?: string;
  funcs: Array<{ name: string; insns: Instruction[]; bind?: number }>;
  sections?: Parameters<typeof buildElf>[0]['sections'];
  symbols?: NonNullable<Parameters<typeof buildElf>[0]['symbols']>;
  relocations?: Array<{ offset: number; type: number; symbol: string | number; addend?: number }>;
  rela?: boolean;
}): Uint8Array {
  const section = o.section ?? 'socket';
  const codes = o.funcs.map((f) => encode(f.insns));
  const code = new Uint8Array(codes.reduce((n, c) => n + c.length, 0));
  let off = 0;
  const syms: BuildSymbol[] = [];
  o.funcs.forEach((f, i) => {
    code.set(codes[i]!, off);
    syms.push({ name: f.name, section, value: off, size: codes[i]!.length, type: STT.FUNC, bind: f.bind ?? STB.GLOBAL });
    off += codes[i]!.length;
  });
  return buildElf({
    sections: [{ name: section, flags: SHF.ALLOC | SHF.EXECINSTR, data: code }, ...(o.sections ?? [])],
    symbols: [...syms, ...(o.symbols ?? [])],
    relocations: o.relocations ? [{ target: section, rela: o.rela, entries: o.relocations }] : [],
  });
}

const expectObjectError = (f: () => unknown, section: string, msg: RegExp): void => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ObjectError, `expected an ObjectError, got ${String(e)}`);
    assert.equal(e.code, 'EOBJECT');
    assert.equal(e.where.section, section, e.message);
    assert.equal(typeof e.where.offset, 'number');
    assert.match(e.message, msg);
    return;
  }
  assert.fail('expected an ObjectError');
};

test('hand-built objects: RELA addends, calls through symbols, .text-only objects', () => {
  const lddw = (dst: number, src = 0, imm = 0): Instruction => insn(OP_LDDW, { dst, src, imm, imm2: 0 });
  const call = (imm: number, src = 1): Instruction => insn(OP_CALL, { src, imm });
  const data = { name: '.data', flags: SHF.ALLOC | SHF.WRITE, data: new Uint8Array(16) };
  const text = { name: '.text', flags: SHF.ALLOC | SHF.EXECINSTR, data: encode([mov(0, 5), exit()]) };
  const bytes = object({
    funcs: [{ name: 'main', insns: [lddw(1), call(-1), lddw(2, 0, 0), exit()] }],
    sections: [data, text],
    symbols: [{ name: 'counter', section: '.data', value: 8, size: 8, type: STT.OBJECT }, { name: 'helper', section: '.text', value: 0, size: 16, type: STT.FUNC, bind: STB.LOCAL }],
    relocations: [
      { offset: 0, type: R_BPF.R64_64, symbol: 'counter', addend: 4 },
      { offset: 16, type: R_BPF.R64_32, symbol: 'helper', addend: 0 },
      { offset: 24, type: R_BPF.R64_64, symbol: 'helper', addend: 0 },
    ],
    rela: true,
  });
  const spec = loadObject(bytes, 'hand');
  const main = spec.programs.get('main')!;
  assert.deepEqual(main.maps, [{ insn: 0, map: 'hand.data', kind: 'value', offset: 12 }]);
  assert.deepEqual(main.insns[0], { opcode: OP_LDDW, dst: 1, src: PseudoSrc.MAP_VALUE, off: 0, imm: 0, imm2: 12 });
  // main has 6 slots; helper is appended at slot 6: call at slot 2 -> imm 3, lddw at slot 3 -> imm 2.
  assert.equal(main.insns[1]!.imm, 3);
  assert.deepEqual([main.insns[2]!.src, main.insns[2]!.imm], [PseudoSrc.FUNC, 2]);
  assert.equal(main.insns.length, 6);
  assert.deepEqual(spec.maps.get('hand.data')!.variables, [{ name: 'counter', offset: 8, size: 8, typeId: 0 }]);
  assert.equal(spec.btf, null);
  assert.deepEqual([main.funcInfo, main.lineInfo], [[], []]);

  // Objects with only .text (no SEC()) have subprograms and no programs.
  const only = buildElf({ sections: [text], symbols: [{ name: 'f', section: '.text', size: 16, type: STT.FUNC }] });
  assert.equal(loadObject(only).programs.size, 0);

  // Calls inside one section need no relocation; both functions are programs, each linked with the other when called.
  const pair = loadObject(object({ funcs: [{ name: 'a', insns: [call(1), exit()] }, { name: 'b', insns: [mov(0, 1), exit()] }] }));
  assert.deepEqual([...pair.programs.keys()], ['a', 'b']);
  assert.equal(pair.programs.get('a')!.insns.length, 4);
  assert.equal(pair.programs.get('a')!.insns[0]!.imm, 1);
  assert.equal(pair.programs.get('b')!.insns.length, 2);
  // A local function in a program section is a subprogram, not a program.
  const local = loadObject(object({ funcs: [{ name: 'main', insns: [call(1), exit()] }, { name: 'sub', insns: [mov(0, 1), exit()], bind: STB.LOCAL }] }));
  assert.deepEqual([...local.programs.keys()], ['main']);
});

test('malformed objects are typed errors naming the section and offset', () => {
  const lddw = (dst: number): Instruction => insn(OP_LDDW, { dst, imm: 0, imm2: 0 });
  const text = { name: '.text', flags: SHF.ALLOC | SHF.EXECINSTR, data: encode([mov(0, 5), exit()]) };
  expectObjectError(() => loadObject(object({ section: 'sockets', funcs: [{ name: 'f', insns: [mov(0, 0), exit()] }] })), 'sockets', /unknown program section/);
  expectObjectError(() => loadObject(object({ section: 'xdp_foo', funcs: [{ name: 'f', insns: [mov(0, 0), exit()] }] })), 'xdp_foo', /unknown program section/);
  // A relocation on an instruction that is neither call nor lddw.
  expectObjectError(() => loadObject(object({
    funcs: [{ name: 'f', insns: [mov(0, 0), exit()] }],
    sections: [{ name: '.data', flags: 3, data: new Uint8Array(4) }],
    symbols: [{ name: 'd', section: '.data', size: 4, type: STT.OBJECT }],
    relocations: [{ offset: 0, type: R_BPF.R64_64, symbol: 'd' }],
  })), 'socket', /cannot be relocated/);
  // A relocation into the second slot of an lddw; one between functions.
  expectObjectError(() => loadObject(object({
    funcs: [{ name: 'f', insns: [lddw(1), exit()] }],
    sections: [{ name: '.data', flags: 3, data: new Uint8Array(4) }],
    symbols: [{ name: 'd', section: '.data', size: 4, type: STT.OBJECT }],
    relocations: [{ offset: 8, type: R_BPF.R64_32, symbol: 'd' }],
  })), 'socket', /second half of an lddw/);
  // lddw against a symbol in a section that is neither a map nor data.
  expectObjectError(() => loadObject(object({
    funcs: [{ name: 'f', insns: [lddw(1), exit()] }],
    sections: [{ name: '.comment', flags: 0, data: new Uint8Array(4) }],
    symbols: [{ name: 'c', section: '.comment', size: 4, type: STT.OBJECT }],
    relocations: [{ offset: 0, type: R_BPF.R64_64, symbol: 'c' }],
  })), 'socket', /neither a map nor global data/);
  // A global that was never defined (and is no extern: it has a type).
  expectObjectError(() => loadObject(object({
    funcs: [{ name: 'f', insns: [lddw(1), exit()] }],
    symbols: [{ name: 'u', section: 0, type: STT.OBJECT }],
    relocations: [{ offset: 0, type: R_BPF.R64_64, symbol: 'u' }],
  })), 'socket', /not a section of this file/);
  // An extern without BTF.
  expectObjectError(() => loadObject(object({
    funcs: [{ name: 'f', insns: [insn(OP_CALL, { src: 1, imm: -1 }), exit()] }],
    symbols: [{ name: 'bpf_kfunc', section: 0 }],
    relocations: [{ offset: 0, type: R_BPF.R64_32, symbol: 'bpf_kfunc' }],
  })), '.symtab', /needs BTF|need BTF/);
  // A call whose target is not inside any function, and one past the section.
  expectObjectError(() => loadObject(object({ funcs: [{ name: 'f', insns: [insn(OP_CALL, { src: 1, imm: 5 }), exit()] }] })), 'socket', /not inside any function/);
  expectObjectError(() => loadObject(object({
    funcs: [{ name: 'f', insns: [insn(OP_CALL, { src: 1, imm: 40 }), exit()] }],
    sections: [text],
    symbols: [{ name: 't', section: '.text', size: 16, type: STT.FUNC, bind: STB.LOCAL }],
    relocations: [{ offset: 0, type: R_BPF.R64_32, symbol: 't' }],
  })), 'socket', /outside its code/);
  // A relocated call to a helper (src 0).
  expectObjectError(() => loadObject(object({
    funcs: [{ name: 'f', insns: [insn(OP_CALL, { src: 0, imm: -1 }), exit()] }],
    sections: [text],
    symbols: [{ name: 't', section: '.text', size: 16, type: STT.FUNC }],
    relocations: [{ offset: 0, type: R_BPF.R64_32, symbol: 't' }],
  })), 'socket', /bpf-to-bpf call/);
  // A function symbol that runs past its section, or has an odd size.
  const bad = buildElf({ sections: [{ name: 'xdp', flags: 6, data: encode([mov(0, 0), exit()]) }], symbols: [{ name: 'f', section: 'xdp', size: 24, type: STT.FUNC }] });
  expectObjectError(() => loadObject(bad), 'xdp', /crosses the end/);
  const odd = buildElf({ sections: [{ name: 'xdp', flags: 6, data: encode([mov(0, 0), exit()]) }], symbols: [{ name: 'f', section: 'xdp', size: 12, type: STT.FUNC }] });
  expectObjectError(() => loadObject(odd), 'xdp', /multiples of 8/);
  // Invalid instructions.
  const junk = buildElf({ sections: [{ name: 'xdp', flags: 6, data: new Uint8Array([0xff, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]) }], symbols: [{ name: 'f', section: 'xdp', size: 16, type: STT.FUNC }] });
  expectObjectError(() => loadObject(junk), 'xdp', /invalid opcode/);
  // The version section must hold a u32.
  const ver = buildElf({ sections: [text, { name: 'version', flags: 3, data: new Uint8Array(3) }], symbols: [] });
  expectObjectError(() => loadObject(ver), 'version', /u32/);
  // BTF-defined maps without BTF; a legacy map definition too small to hold struct bpf_map_def.
  const maps = buildElf({ sections: [text, { name: '.maps', flags: 3, data: new Uint8Array(32) }], symbols: [{ name: 'm', section: '.maps', size: 32, type: STT.OBJECT }] });
  expectObjectError(() => loadObject(maps), '.maps', /need a .BTF/);
  const legacy = buildElf({ sections: [text, { name: 'maps', flags: 3, data: new Uint8Array(16) }], symbols: [{ name: 'm', section: 'maps', size: 16, type: STT.OBJECT }] });
  expectObjectError(() => loadObject(legacy), 'maps', /at least 20 bytes/);
  // Data relocations pointing outside their section.
  expectObjectError(() => loadObject(object({
    funcs: [{ name: 'f', insns: [insn(OP_LDDW, { dst: 1, imm: 64, imm2: 0 }), exit()] }],
    sections: [{ name: '.bss', type: SHT.NOBITS, flags: 3, size: 8 }],
    symbols: [{ name: 'b', section: '.bss', size: 8, type: STT.OBJECT }],
    relocations: [{ offset: 0, type: R_BPF.R64_64, symbol: 'b' }],
  })), 'socket', /outside .bss/);
});

test('random corruption of real objects gives a spec or a TsbpfError, never another exception', (t) => {
  const files = [...listObjects(OBJ).map((f) => join(OBJ, f)), ...listObjects(PROGS).map((f) => join(PROGS, f))];
  const blobs = files.map(bytesOf);
  const started = Date.now();
  fc.assert(
    fc.property(
      fc.nat({ max: blobs.length - 1 }),
      fc.oneof(
        fc.record({ kind: fc.constant('flip' as const), edits: fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 8 }) }),
        fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
        fc.record({ kind: fc.constant('word' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 0xff, 0xffff, 0x7fffffff, 0xffffffff, 8, 24, 64) }),
      ),
      (which, mutation) => {
        const good = blobs[which]!;
        let bytes: Uint8Array;
        if (mutation.kind === 'cut') {
          bytes = good.slice(0, mutation.at % good.length);
        } else if (mutation.kind === 'flip') {
          bytes = good.slice();
          for (const [at, v] of mutation.edits) bytes[at % bytes.length] = v;
        } else {
          bytes = good.slice();
          const at = (mutation.at % (bytes.length - 4)) & ~3;
          new DataView(bytes.buffer).setUint32(at, mutation.value >>> 0, true);
        }
        try {
          const spec = loadObject(bytes, 'fuzz');
          assert.ok(spec.programs instanceof Map);
        } catch (e) {
          if (!isTsbpfError(e)) throw e;
        }
      },
    ),
    // On a loaded machine the run stops early (and passes) rather than take more than 12 s.
    { numRuns: 2500, seed: 4242, interruptAfterTimeLimit: 12000, markInterruptAsFailure: false },
  );
  t.diagnostic(`fuzzed for ${Date.now() - started} ms`);
});

test('random corruption of the testdata objects, loaded into the vm, gives a collection or a TsbpfError', (t) => {
  const blobs = listObjects(PROGS).map((f) => bytesOf(join(PROGS, f)));
  const started = Date.now();
  let loaded = 0;
  fc.assert(
    fc.property(
      fc.nat({ max: blobs.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 4 }),
      (which, edits) => {
        const bytes = blobs[which]!.slice();
        for (const [at, v] of edits) bytes[at % bytes.length] = v;
        try {
          loadVm(loadObject(bytes, 'fuzz'));
          loaded++;
        } catch (e) {
          if (!isTsbpfError(e)) throw e;
        }
      },
    ),
    { numRuns: 800, seed: 77, interruptAfterTimeLimit: 8000, markInterruptAsFailure: false },
  );
  t.diagnostic(`${loaded} mutated objects still loaded, in ${Date.now() - started} ms`);
});

test('the committed fixtures rebuild byte for byte (when clang-19 is installed)', (t) => {
  const probe = spawnSync('clang-19', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    t.skip('clang-19 is not installed');
    return;
  }
  const out = mkdtempSync(join(tmpdir(), 'tsbpf-object-'));
  try {
    const r = spawnSync('bash', [join(OBJ, 'build.sh'), out], { encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 0, r.stderr);
    for (const f of listObjects(OBJ)) {
      assert.ok(Buffer.from(readFileSync(join(out, f))).equals(readFileSync(join(OBJ, f))), `${f} differs from its rebuild`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
