/**
 * The functions of an object's executable sections: each FUNC symbol's slice
 * of its section, decoded into instructions, with the map between 8-byte
 * slots (what ELF offsets, jumps, calls and `.BTF.ext` count) and instruction
 * indices (where `lddw` is one instruction).
 */
import { DecodeError, decode, OP_LDDW, type Instruction } from '../isa/index.js';
import { SHF, SHT, STB, STT, type ElfFile, type ElfSection } from '../elf/index.js';
import { ObjectError } from './errors.js';

export interface Func {
  readonly name: string;
  readonly section: ElfSection;
  /** First slot in the section. */
  readonly start: number;
  /** Length in slots. */
  readonly slots: number;
  /** Global or weak symbol (a candidate program outside `.text`). */
  readonly global: boolean;
  /** The decoded instructions; relocation processing edits them in place. */
  readonly insns: Instruction[];
  /** Slot (relative to `start`) to instruction index; -1 for the second slot of an lddw. */
  readonly slotToIndex: Int32Array;
  /** Instruction index to slot (relative to `start`). */
  readonly indexToSlot: Int32Array;
}

export const isExecutable = (s: ElfSection): boolean =>
  s.type === SHT.PROGBITS && (s.flags & SHF.EXECINSTR) !== 0 && s.size > 0;

/** Rewrites big-endian instruction bytes in the little-endian layout `decode` reads. */
function toLittleEndian(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let p = 0; p + 8 <= bytes.length; p += 8) {
    out[p] = bytes[p]!;
    // Big-endian objects keep dst in the high nibble of the register byte.
    const regs = bytes[p + 1]!;
    out[p + 1] = ((regs & 0x0f) << 4) | (regs >> 4);
    out[p + 2] = bytes[p + 3]!;
    out[p + 3] = bytes[p + 2]!;
    out[p + 4] = bytes[p + 7]!;
    out[p + 5] = bytes[p + 6]!;
    out[p + 6] = bytes[p + 5]!;
    out[p + 7] = bytes[p + 4]!;
  }
  return out;
}

function decodeFunc(elf: ElfFile, sec: ElfSection, name: string, start: number, slots: number, global: boolean): Func {
  let bytes = sec.data.subarray(start * 8, (start + slots) * 8);
  if (!elf.littleEndian) bytes = toLittleEndian(bytes);
  let insns: Instruction[];
  try {
    insns = decode(bytes);
  } catch (e) {
    if (e instanceof DecodeError) {
      throw new ObjectError(sec.name, (start + e.insn) * 8, `function ${name}: ${e.message}`, { function: name, insn: e.insn });
    }
    throw e;
  }
  const slotToIndex = new Int32Array(slots).fill(-1);
  const indexToSlot = new Int32Array(insns.length);
  let slot = 0;
  insns.forEach((insn, i) => {
    slotToIndex[slot] = i;
    indexToSlot[i] = slot;
    slot += insn.opcode === OP_LDDW ? 2 : 1;
  });
  return { name, section: sec, start, slots, global, insns, slotToIndex, indexToSlot };
}

/** Every function of every executable section, by section index, in offset order. */
export function collectFuncs(elf: ElfFile): Map<number, Func[]> {
  const out = new Map<number, Func[]>();
  for (const sym of elf.symbols) {
    if (sym.type !== STT.FUNC || sym.shndx === 0 || sym.shndx >= elf.sections.length) continue;
    const sec = elf.sections[sym.shndx]!;
    if (!isExecutable(sec)) continue;
    const where = `function ${sym.name || `#${sym.index}`}`;
    if (sym.value % 8 !== 0 || sym.size % 8 !== 0 || sym.size === 0) {
      throw new ObjectError(sec.name, sym.value, `${where}: offset ${sym.value} and size ${sym.size} must be non-zero multiples of 8`);
    }
    if (sym.value + sym.size > sec.size) {
      throw new ObjectError(sec.name, sym.value, `${where}: [${sym.value}, +${sym.size}) crosses the end of the ${sec.size}-byte section`);
    }
    const list = out.get(sec.index) ?? [];
    // Aliases (two symbols for the same code) share the first one's function.
    if (list.some((f) => f.start === sym.value / 8)) continue;
    const global = sym.bind === STB.GLOBAL || sym.bind === STB.WEAK;
    list.push(decodeFunc(elf, sec, sym.name, sym.value / 8, sym.size / 8, global));
    out.set(sec.index, list);
  }
  for (const list of out.values()) {
    list.sort((a, b) => a.start - b.start);
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1]!;
      const f = list[i]!;
      if (prev.start + prev.slots > f.start) {
        throw new ObjectError(f.section.name, f.start * 8, `functions ${prev.name} and ${f.name} overlap`);
      }
    }
  }
  return out;
}

/** The function whose code holds this slot of the section, or undefined. */
export function funcAt(funcs: Map<number, Func[]>, secIdx: number, slot: number): Func | undefined {
  const list = funcs.get(secIdx);
  if (!list) return undefined;
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const f = list[mid]!;
    if (slot < f.start) hi = mid - 1;
    else if (slot >= f.start + f.slots) lo = mid + 1;
    else return f;
  }
  return undefined;
}
