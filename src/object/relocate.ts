/**
 * Relocations of program code: what each relocated instruction refers to (a
 * map, global data, an extern, or another function), with the instruction
 * rewritten the way libbpf leaves it for the loader (pseudo sources set,
 * immediates that the backend fills zeroed).
 */
import { CALL_KFUNC, CALL_LOCAL, OP_CALL, OP_LDDW, PSEUDO_FUNC } from '../isa/index.js';
import { R_BPF, SHN, STT, type ElfFile, type ElfRelocation } from '../elf/index.js';
import { funcAt, isExecutable, type Func } from './code.js';
import { ObjectError } from './errors.js';
import { isExternSymbol, type Externs } from './externs.js';
import { PseudoSrc } from './kinds.js';
import type { MapSite } from './maps.js';
import type { MapSpec } from './spec.js';

export type CodeRef =
  | { readonly kind: 'map'; readonly index: number; readonly map: string; readonly mode: 'fd' | 'value'; readonly offset: number }
  | { readonly kind: 'extern'; readonly index: number; readonly name: string; readonly kconfig: { readonly map: string; readonly offset: number } | null }
  /** A bpf-to-bpf call or `lddw rX, func`: `slot` is the target's slot inside `target`. */
  | { readonly kind: 'call'; readonly index: number; readonly target: Func; readonly slot: number };

export interface RelocContext {
  readonly elf: ElfFile;
  readonly funcs: Map<number, Func[]>;
  /** User maps (`.maps`, `maps`) with their section offsets. */
  readonly mapSites: readonly MapSite[];
  /** Global-data maps by section index. */
  readonly dataMaps: Map<number, MapSpec>;
  readonly externs: Externs;
  readonly kconfigMap: string | null;
}

/** Resolves every relocation of every function, and the unrelocated calls inside a section. */
export function relocateAll(ctx: RelocContext): Map<Func, CodeRef[]> {
  const refs = new Map<Func, CodeRef[]>();
  for (const list of ctx.funcs.values()) for (const f of list) refs.set(f, []);
  for (const [secIdx, list] of ctx.funcs) {
    const sec = ctx.elf.sections[secIdx]!;
    for (const r of ctx.elf.relocationsFor(secIdx)) {
      if (r.type === R_BPF.NONE) continue;
      if (r.offset % 8 !== 0) throw new ObjectError(sec.name, r.offset, 'relocation is not on an instruction boundary');
      const f = funcAt(ctx.funcs, secIdx, r.offset / 8);
      if (f === undefined) throw new ObjectError(sec.name, r.offset, 'relocation outside every function');
      const index = f.slotToIndex[r.offset / 8 - f.start]!;
      if (index < 0) throw new ObjectError(sec.name, r.offset, `relocation points into the second half of an lddw in ${f.name}`);
      const list = refs.get(f)!;
      if (list.some((x) => x.index === index)) throw new ObjectError(sec.name, r.offset, `two relocations for one instruction in ${f.name}`);
      list.push(resolve(ctx, f, index, r));
    }
    // Calls inside one section need no relocation: their imm is already pc-relative.
    for (const f of list) {
      const list2 = refs.get(f)!;
      const done = new Set(list2.map((x) => x.index));
      f.insns.forEach((insn, index) => {
        if (done.has(index)) return;
        const isCall = insn.opcode === OP_CALL && insn.src === CALL_LOCAL;
        const isFunc = insn.opcode === OP_LDDW && insn.src === PSEUDO_FUNC;
        if (!isCall && !isFunc) return;
        const at = f.start + f.indexToSlot[index]!;
        list2.push(callRef(ctx, f, index, secIdx, at + insn.imm + 1, sec.name, at * 8));
      });
      list2.sort((a, b) => a.index - b.index);
    }
  }
  return refs;
}

function callRef(ctx: RelocContext, f: Func, index: number, secIdx: number, slot: number, section: string, at: number): CodeRef {
  const target = funcAt(ctx.funcs, secIdx, slot);
  if (target === undefined) {
    const name = ctx.elf.sections[secIdx]?.name ?? `#${secIdx}`;
    throw new ObjectError(section, at, `${f.name}: call target ${name}+${slot * 8} is not inside any function`);
  }
  const local = slot - target.start;
  if (target.slotToIndex[local]! < 0) throw new ObjectError(section, at, `${f.name}: call target is the second half of an lddw`);
  return { kind: 'call', index, target, slot: local };
}

function resolve(ctx: RelocContext, f: Func, index: number, r: ElfRelocation): CodeRef {
  const { elf } = ctx;
  const insn = f.insns[index]!;
  const sec = f.section;
  const sym = elf.symbols[r.symbol]!;
  const symName = sym.name || `symbol ${r.symbol}`;
  const fail = (why: string): never => {
    throw new ObjectError(sec.name, r.offset, `${f.name}: relocation against ${symName}: ${why}`, { function: f.name, symbol: sym.name });
  };
  const isCall = insn.opcode === OP_CALL;
  const isLddw = insn.opcode === OP_LDDW;
  if (!isCall && !isLddw) return fail(`instruction opcode 0x${insn.opcode.toString(16)} cannot be relocated (only call and lddw)`);

  if (isExternSymbol(sym)) {
    const ext = ctx.externs.byName.get(sym.name);
    if (ext === undefined) return fail('unknown extern');
    if (isCall) {
      if (ext.kind !== 'kfunc') fail(`a call to ${ext.kind} extern`);
      insn.src = CALL_KFUNC;
      insn.imm = 0;
      insn.off = 0;
      return { kind: 'extern', index, name: ext.name, kconfig: null };
    }
    if (ext.kind === 'kconfig') {
      if (ctx.kconfigMap === null) return fail('no .kconfig map');
      insn.src = PseudoSrc.MAP_VALUE;
      insn.imm = 0;
      insn.imm2 = ext.offset;
      return { kind: 'extern', index, name: ext.name, kconfig: { map: ctx.kconfigMap, offset: ext.offset } };
    }
    insn.src = PseudoSrc.BTF_ID;
    insn.imm = 0;
    insn.imm2 = 0;
    return { kind: 'extern', index, name: ext.name, kconfig: null };
  }

  if (sym.shndx === SHN.UNDEF || sym.shndx >= elf.sections.length) return fail(`symbol section ${sym.shndx} is not a section of this file (an uninitialised global?)`);
  const target = elf.sections[sym.shndx]!;

  if (isCall) {
    if (insn.src !== CALL_LOCAL) fail(`a relocated call must be a bpf-to-bpf call (src 1), has src ${insn.src}`);
    if (!isExecutable(target)) fail(`call into ${target.name}, which holds no code`);
    const byte = sym.value + (r.addend ?? (insn.imm + 1) * 8);
    if (byte % 8 !== 0 || byte < 0 || byte >= target.size) fail(`call target ${target.name}+${byte} is outside its code`);
    return callRef(ctx, f, index, target.index, byte / 8, sec.name, r.offset);
  }

  const addend = r.addend ?? insn.imm;
  if (isExecutable(target)) {
    // `lddw rX, func`: the address of a function (a callback for bpf_loop...).
    const byte = sym.value + addend;
    if (byte % 8 !== 0 || byte < 0 || byte >= target.size) fail(`function address ${target.name}+${byte} is outside its code`);
    insn.src = PseudoSrc.FUNC;
    insn.imm2 = 0;
    return callRef(ctx, f, index, target.index, byte / 8, sec.name, r.offset);
  }

  const data = ctx.dataMaps.get(target.index);
  if (data !== undefined) {
    const offset = sym.value + addend;
    if (offset < 0 || offset > data.valueSize) fail(`offset ${offset} is outside ${target.name} (${data.valueSize} bytes)`);
    insn.src = PseudoSrc.MAP_VALUE;
    insn.imm = 0;
    insn.imm2 = offset;
    return { kind: 'map', index, map: data.name, mode: 'value', offset };
  }

  const mapOffset = sym.value + (sym.type === STT.SECTION ? addend : 0);
  const site = ctx.mapSites.find((s) => s.section.index === target.index && s.offset === mapOffset);
  if (site !== undefined) {
    insn.src = PseudoSrc.MAP_FD;
    insn.imm = 0;
    insn.imm2 = 0;
    return { kind: 'map', index, map: site.spec.name, mode: 'fd', offset: 0 };
  }
  return fail(`${target.name}+${mapOffset} is neither a map nor global data`);
}
