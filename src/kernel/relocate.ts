/**
 * Turns a ProgramSpec into what BPF_PROG_LOAD takes: map and extern
 * references resolved in a copy of the instructions, and func/line info as
 * records whose instruction offsets are slots (an `lddw` is two).
 */
import { type Instruction, OP_CALL, OP_LDDW, slotIndex, splitImm64 } from '../isa/index.js';
import { TsbpfError } from '../errors.js';
import { PseudoSrc } from '../object/kinds.js';
import type { ExternSpec, ObjectSpec, ProgramSpec } from '../object/spec.js';
import type { CoreReloRecord, FuncInfoRecord, LineInfoRecord } from './prog.js';
import { kallsymsAddress, vmlinuxTypeId } from './vmlinux.js';

/** `src` of a call to a kernel function (kfunc). */
const PSEUDO_KFUNC_CALL = 2;

export class RelocationError extends TsbpfError {
  constructor(program: string, insn: number, message: string, where: Record<string, unknown> = {}) {
    super('ERELOC', `program ${program}, instruction ${insn}: ${message}`, { program, insn, ...where });
  }
}

export interface MapFds {
  /** The fd of the named map; throws when the collection has no such map. */
  fd(name: string): number;
  /** The name of the map holding an object section's data (`.kconfig`), if any. */
  bySection(section: string): string | null;
}

function lddwAt(prog: ProgramSpec, insns: Instruction[], index: number, what: string): Instruction {
  const i = insns[index];
  if (i === undefined || i.opcode !== OP_LDDW) {
    throw new RelocationError(prog.name, index, `${what} must be an lddw, found ${i === undefined ? 'nothing' : `opcode 0x${i.opcode.toString(16)}`}`);
  }
  return i;
}

/** A copy of the program's instructions with every map and extern reference resolved. */
export function relocate(prog: ProgramSpec, spec: ObjectSpec, maps: MapFds): Instruction[] {
  const insns = prog.insns.map((i) => ({ ...i }));
  const done = new Set<number>();
  for (const ref of prog.maps) {
    const i = lddwAt(prog, insns, ref.insn, `the reference to map ${ref.map}`);
    i.imm = maps.fd(ref.map);
    i.src = ref.kind === 'fd' ? PseudoSrc.MAP_FD : PseudoSrc.MAP_VALUE;
    i.imm2 = ref.kind === 'fd' ? 0 : ref.offset;
    done.add(ref.insn);
  }
  for (const ref of prog.externs) {
    if (done.has(ref.insn)) continue;
    const ext = spec.externs.find((e) => e.name === ref.name);
    if (!ext) throw new RelocationError(prog.name, ref.insn, `extern ${ref.name} is not declared in the object`);
    resolveExtern(prog, insns, ref.insn, ext, spec, maps);
  }
  return insns;
}

function resolveExtern(prog: ProgramSpec, insns: Instruction[], at: number, ext: ExternSpec, spec: ObjectSpec, maps: MapFds): void {
  switch (ext.kind) {
    case 'kconfig': {
      const i = lddwAt(prog, insns, at, `the reference to __kconfig ${ext.name}`);
      const map = maps.bySection('.kconfig');
      if (map === null) throw new RelocationError(prog.name, at, `__kconfig ${ext.name} has no .kconfig map`);
      i.src = PseudoSrc.MAP_VALUE;
      i.imm = maps.fd(map);
      i.imm2 = ext.offset;
      return;
    }
    case 'kfunc': {
      const i = insns[at];
      const id = vmlinuxTypeId(ext.name, 'func');
      if (id === 0 && !ext.weak) throw new RelocationError(prog.name, at, `the kernel has no kfunc ${ext.name}`, { extern: ext.name });
      if (i?.opcode === OP_CALL) {
        // An unresolved weak kfunc keeps imm 0: the verifier accepts it only in dead code.
        i.src = PSEUDO_KFUNC_CALL;
        i.imm = id;
        i.off = 0;
        return;
      }
      // `lddw rX, kfunc` (bpf_ksym_exists): the function's BTF id, or 0 when a weak one is missing.
      const l = lddwAt(prog, insns, at, `the reference to kfunc ${ext.name}`);
      l.src = id === 0 ? 0 : PseudoSrc.BTF_ID;
      l.imm = id;
      l.imm2 = 0;
      return;
    }
    case 'ksym': {
      const i = lddwAt(prog, insns, at, `the reference to __ksym ${ext.name}`);
      const typeless = spec.btf === null || ext.typeId === 0 || isVoidVar(spec, ext.typeId);
      const id = typeless ? 0 : vmlinuxTypeId(ext.name, 'var');
      if (id !== 0) {
        i.src = PseudoSrc.BTF_ID;
        i.imm = id;
        i.imm2 = 0;
        return;
      }
      // Typeless ksyms (and typed ones the kernel's BTF lacks) are plain addresses from kallsyms.
      const addr = kallsymsAddress(ext.name);
      if (addr === null && !ext.weak) {
        throw new RelocationError(prog.name, at, `the kernel has no ${typeless ? 'symbol' : 'variable'} ${ext.name}${typeless ? ' in /proc/kallsyms' : ''}`, { extern: ext.name });
      }
      const { imm, imm2 } = splitImm64(addr ?? 0n);
      i.src = 0;
      i.imm = imm;
      i.imm2 = imm2;
    }
  }
}

function isVoidVar(spec: ObjectSpec, typeId: number): boolean {
  const btf = spec.btf!;
  const t = btf.types[typeId];
  return t?.kind === 'var' && btf.resolve(t.type) === 0;
}

/** func_info records for BPF_PROG_LOAD: slot offsets, strictly increasing. */
export function funcInfoRecords(prog: ProgramSpec): FuncInfoRecord[] {
  const { pcs, slots } = slotIndex(prog.insns);
  const out: FuncInfoRecord[] = [];
  for (const f of [...prog.funcInfo].sort((a, b) => a.insn - b.insn)) {
    const pc = f.insn === prog.insns.length ? slots : pcs[f.insn];
    if (pc === undefined) throw new RelocationError(prog.name, f.insn, `func_info of ${f.name} is past the end of the program`);
    if (out.length && out[out.length - 1]!.insnOff === pc) continue;
    out.push({ insnOff: pc, typeId: f.typeId });
  }
  return out;
}

/** line_info records: slot offsets, strictly increasing; strings are offsets from `strOff`. */
export function lineInfoRecords(prog: ProgramSpec, strOff: (s: string) => number): LineInfoRecord[] {
  const { pcs } = slotIndex(prog.insns);
  const out: LineInfoRecord[] = [];
  for (const l of [...prog.lineInfo].sort((a, b) => a.insn - b.insn)) {
    const pc = pcs[l.insn];
    if (pc === undefined) continue;
    if (out.length && out[out.length - 1]!.insnOff === pc) continue;
    out.push({ insnOff: pc, fileNameOff: strOff(l.file), lineOff: strOff(l.text), line: l.line, column: l.column });
  }
  return out;
}

/** CO-RE relocation records for the kernel to apply; access strings are offsets from `strOff`. */
export function coreReloRecords(prog: ProgramSpec, strOff: (s: string) => number): CoreReloRecord[] {
  const { pcs } = slotIndex(prog.insns);
  return prog.coreRelos.map((r) => {
    const pc = pcs[r.insn];
    if (pc === undefined) throw new RelocationError(prog.name, r.insn, 'a CO-RE relocation is past the end of the program');
    return { insnOff: pc, typeId: r.typeId, accessStrOff: strOff(r.access), kind: r.kind };
  });
}

/** Every string line_info and CO-RE relocations need in the BTF string section. */
export function extStrings(spec: ObjectSpec): Set<string> {
  const out = new Set<string>();
  for (const p of spec.programs.values()) {
    for (const l of p.lineInfo) {
      out.add(l.file);
      out.add(l.text);
    }
    for (const r of p.coreRelos) out.add(r.access);
  }
  return out;
}
