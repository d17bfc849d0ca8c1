/**
 * Linking: a program's own instructions followed by every function it
 * reaches through calls and `lddw rX, func` (from any section), each copied
 * once, with the pc-relative immediates fixed and the `.BTF.ext` records of
 * each copied function re-based onto the linked program's instruction indices.
 */
import type { Btf, BtfExt } from '../btf/index.js';
import type { Instruction } from '../isa/index.js';
import type { Func } from './code.js';
import { ObjectError } from './errors.js';
import type { CodeRef } from './relocate.js';
import type { CoreRelocation, ExternReference, FuncInfo, LineInfo, MapReference } from './spec.js';

export interface Linked {
  readonly insns: Instruction[];
  readonly maps: MapReference[];
  readonly externs: ExternReference[];
  readonly funcInfo: FuncInfo[];
  readonly lineInfo: LineInfo[];
  readonly coreRelos: CoreRelocation[];
}

interface Placed {
  /** Index of the function's first instruction in the linked program. */
  readonly index: number;
  /** Its first slot in the linked program. */
  readonly slot: number;
}

/** `.BTF.ext` records of one section that fall inside `f`, with the instruction index each one lands on. */
function extRecords<T extends { readonly insnOff: number }>(
  records: Map<string, T[]> | undefined,
  f: Func,
  what: string,
): Array<{ rec: T; index: number }> {
  const list = records?.get(f.section.name);
  if (list === undefined) return [];
  const out: Array<{ rec: T; index: number }> = [];
  const lo = f.start * 8;
  const hi = (f.start + f.slots) * 8;
  for (const rec of list) {
    if (rec.insnOff < lo || rec.insnOff >= hi) continue;
    const local = (rec.insnOff - lo) / 8;
    const index = Number.isInteger(local) ? f.slotToIndex[local]! : -1;
    if (index < 0) throw new ObjectError('.BTF.ext', 0, `${what} record for ${f.section.name}+${rec.insnOff} is not at an instruction of ${f.name}`, { function: f.name });
    out.push({ rec, index });
  }
  return out;
}

export function linkProgram(main: Func, refs: Map<Func, CodeRef[]>, btf: Btf | null, ext: BtfExt | null): Linked {
  const placed = new Map<Func, Placed>([[main, { index: 0, slot: 0 }]]);
  const order: Func[] = [main];
  let nextIndex = main.insns.length;
  let nextSlot = main.slots;
  const out: Linked = { insns: [], maps: [], externs: [], funcInfo: [], lineInfo: [], coreRelos: [] };

  // `order` grows as calls reach new functions; each function is placed once.
  for (let k = 0; k < order.length; k++) {
    const f = order[k]!;
    const base = placed.get(f)!;
    const copy = f.insns.map((i) => ({ ...i }));
    for (const ref of refs.get(f) ?? []) {
      const at = base.index + ref.index;
      switch (ref.kind) {
        case 'map':
          out.maps.push({ insn: at, map: ref.map, kind: ref.mode, offset: ref.offset });
          break;
        case 'extern':
          out.externs.push({ insn: at, name: ref.name });
          if (ref.kconfig !== null) out.maps.push({ insn: at, map: ref.kconfig.map, kind: 'value', offset: ref.kconfig.offset });
          break;
        case 'call': {
          let p = placed.get(ref.target);
          if (p === undefined) {
            p = { index: nextIndex, slot: nextSlot };
            placed.set(ref.target, p);
            order.push(ref.target);
            nextIndex += ref.target.insns.length;
            nextSlot += ref.target.slots;
          }
          const from = base.slot + f.indexToSlot[ref.index]!;
          copy[ref.index]!.imm = p.slot + ref.slot - (from + 1);
          break;
        }
      }
    }
    out.insns.push(...copy);

    for (const { rec, index } of extRecords(ext?.funcInfo, f, 'func_info')) {
      const t = btf?.types[rec.typeId];
      out.funcInfo.push({ insn: base.index + index, typeId: rec.typeId, name: t?.name ?? '' });
    }
    for (const { rec, index } of extRecords(ext?.lineInfo, f, 'line_info')) {
      out.lineInfo.push({ insn: base.index + index, file: rec.file, line: rec.line, column: rec.column, text: rec.text });
    }
    for (const { rec, index } of extRecords(ext?.coreRelos, f, 'core_relo')) {
      out.coreRelos.push({ insn: base.index + index, typeId: rec.typeId, access: rec.access, kind: rec.kind });
    }
  }
  const byInsn = (a: { insn: number }, b: { insn: number }): number => a.insn - b.insn;
  out.maps.sort(byInsn);
  out.externs.sort(byInsn);
  out.funcInfo.sort(byInsn);
  out.lineInfo.sort(byInsn);
  out.coreRelos.sort(byInsn);
  return out;
}
