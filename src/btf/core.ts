/**
 * CO-RE relocation: rewrites the instructions clang marked in `.BTF.ext` so
 * that field offsets and sizes, type ids and sizes, enumerator values and
 * existence checks agree with a target BTF (usually the running kernel's),
 * with the semantics of libbpf's relo_core.
 *
 * For each record the local value (what clang compiled in, from the object's
 * BTF) and the target value are computed. Candidate target types share the
 * local root type's kind and name without `___flavor` suffix; each one the
 * access matches must give the same result. When none matches, existence
 * kinds give 0 and the others cannot be resolved: that is a `CoreError`, or,
 * with `{ poison: true }`, libbpf's poisoned instruction (a call to helper
 * 0xbad2310, which the verifier rejects only if the instruction is reachable).
 */
import { TsbpfError } from '../errors.js';
import {
  CLS_ALU, CLS_ALU64, CLS_LD, CLS_LDX, CLS_ST, CLS_STX, OP_LDDW, SIZE_B, SIZE_DW, SIZE_H, SIZE_W, SRC_X,
  lddwValue, splitImm64, type Instruction,
} from '../isa/index.js';
import type { Btf } from './btf.js';
import { TooDeep, isEnum } from './core-compat.js';
import {
  CoreReloKind, candidates, coreKindName, describeSpec, isEnumvalKind, isFieldKind, isTypeKind, matchSpec, parseSpec, sizeOrFail,
  type CoreSpec, type Fail,
} from './core-spec.js';

export { CoreReloKind, coreKindName } from './core-spec.js';
export { essentialName } from './core-compat.js';

/** The helper id of a poisoned instruction ("bad relo"). */
export const CORE_POISON = 0xbad2310;

/** One relocation record (the shape of `CoreRelocation` in src/object/spec.ts). */
export interface CoreRelo {
  /** Instruction index (into the instruction list, not a slot). */
  readonly insn: number;
  /** Root type id in the local (object) BTF. */
  readonly typeId: number;
  /** The access string, such as `0:1:2`. */
  readonly access: string;
  /** `enum bpf_core_relo_kind` (`CoreReloKind`). */
  readonly kind: number;
}

export interface CoreOptions {
  /**
   * Poison instructions whose relocation cannot be resolved against the
   * target (no matching field or enumerator; a load whose size would change
   * for a signed or non-integer field) instead of throwing, as libbpf does.
   * Programs that guard such accesses with `bpf_core_field_exists()` need it.
   */
  readonly poison?: boolean;
}

/** A CO-RE relocation that cannot be applied. Names the instruction index, access string and type. */
export class CoreError extends TsbpfError {
  constructor(relo: CoreRelo, typeName: string, why: string) {
    super('ECORE', `insn ${relo.insn}: CO-RE ${coreKindName(relo.kind)} relocation of ${typeName} (access "${relo.access}"): ${why}`, {
      insn: relo.insn, typeId: relo.typeId, type: typeName, access: relo.access, kind: relo.kind,
    });
  }
}

/** What a relocation resolves to before the instruction is touched. */
export interface CoreResolution {
  /** The value clang compiled in (from the local BTF). u64, as libbpf keeps it. */
  readonly local: bigint;
  /** The value for the target; meaningless when `poison`. */
  readonly target: bigint;
  /** True when the target has no match and the kind needs one. */
  readonly poison: boolean;
  /** Why `poison` is set. */
  readonly reason: string;
  /** Whether the instruction must hold `local` now (false for bitfield aspects and type ids). */
  readonly validate: boolean;
  /** Memory access sizes for FIELD_BYTE_OFFSET on a load/store (0 otherwise). */
  readonly localSize: number;
  readonly targetSize: number;
  /** The load/store size may not change (the field is neither a pointer nor an unsigned integer). */
  readonly badSizeChange: boolean;
  /** Local and target access in C terms. */
  readonly localAccess: string;
  readonly targetAccess: string | null;
  /** The chosen candidate in the target BTF (0 when none). */
  readonly targetTypeId: number;
}

interface Aspect { value: bigint; size: number; typeId: number; validate: boolean }

/** Computes local and target values of one relocation. Throws `CoreError` for bad records and ambiguous targets. */
export function calcCoreRelo(local: Btf, target: Btf, relo: CoreRelo): CoreResolution {
  const name = (): string => {
    try { return local.typeName(relo.typeId) || `type ${relo.typeId}`; } catch { return `type ${relo.typeId}`; }
  };
  const fail: Fail = (why) => { throw new CoreError(relo, name(), why); };
  try {
    return calc(local, target, relo, fail);
  } catch (e) {
    if (e instanceof CoreError) throw e;
    if (e instanceof TooDeep || e instanceof TsbpfError) return fail(e.message);
    throw e;
  }
}

function calc(local: Btf, target: Btf, relo: CoreRelo, fail: Fail): CoreResolution {
  if (!Number.isInteger(relo.typeId) || relo.typeId <= 0 || relo.typeId >= local.types.length) fail(`no type ${relo.typeId} in the object's BTF`);
  const spec = parseSpec(local, relo.typeId, relo.access, relo.kind, fail);
  const localAccess = describeSpec(spec);
  if (relo.kind === CoreReloKind.TYPE_ID_LOCAL) {
    const id = BigInt(relo.typeId);
    return {
      local: id, target: id, poison: false, reason: '', validate: false, localSize: 0, targetSize: 0,
      badSizeChange: false, localAccess, targetAccess: localAccess, targetTypeId: 0,
    };
  }
  const root = local.get(relo.typeId);
  if (root.name === '') fail('an anonymous type cannot be looked up in the target');
  let best: { res: CoreResolution; spec: CoreSpec } | null = null;
  for (const cand of candidates(target, root)) {
    const tspec = matchSpec(spec, target, cand, fail);
    if (tspec === null) continue;
    const res = values(spec, tspec, localAccess, fail);
    if (best === null) {
      best = { res, spec: tspec };
    } else if (tspec.bitOffset !== best.spec.bitOffset) {
      fail(`ambiguous: target candidates ${best.res.targetAccess} and ${res.targetAccess} put the field at bit ${best.spec.bitOffset} and ${tspec.bitOffset}`);
    } else if (res.poison !== best.res.poison || res.target !== best.res.target) {
      fail(`ambiguous: target candidates ${best.res.targetAccess} and ${res.targetAccess} give ${best.res.target} and ${res.target}`);
    }
  }
  return best?.res ?? values(spec, null, localAccess, fail);
}

function values(spec: CoreSpec, tspec: CoreSpec | null, localAccess: string, fail: Fail): CoreResolution {
  const kind = spec.kind;
  const base = { localAccess, targetAccess: tspec ? describeSpec(tspec) : null, targetTypeId: tspec?.root ?? 0 };
  const missing = `${isEnumvalKind(kind) ? 'enumerator' : 'field'} ${localAccess} is not in the target BTF`;
  const noSize = { localSize: 0, targetSize: 0, badSizeChange: false };
  if (kind === CoreReloKind.FIELD_EXISTS || kind === CoreReloKind.ENUMVAL_EXISTS) {
    return { ...base, ...noSize, local: 1n, target: tspec === null ? 0n : 1n, poison: false, reason: '', validate: true };
  }
  if (isFieldKind(kind)) {
    const l = fieldAspect(spec, fail);
    const t = tspec === null ? null : fieldAspect(tspec, fail);
    if (l === null || t === null) {
      return { ...base, local: l?.value ?? 0n, target: 0n, poison: true, reason: missing, validate: l?.validate ?? true, localSize: 0, targetSize: 0, badSizeChange: false };
    }
    let badSizeChange = false;
    if (l.size !== t.size) {
      const lt = spec.btf.get(l.typeId);
      const tt = tspec!.btf.get(t.typeId);
      const ok = (lt.kind === 'ptr' && tt.kind === 'ptr') || (lt.kind === 'int' && tt.kind === 'int' && !lt.signed && !tt.signed);
      badSizeChange = !ok;
    }
    return { ...base, local: l.value, target: t.value, poison: false, reason: '', validate: l.validate, localSize: l.size, targetSize: t.size, badSizeChange };
  }
  if (isTypeKind(kind)) {
    const l = typeAspect(spec, fail);
    const t = typeAspect(tspec, fail);
    return { ...base, ...noSize, local: l.value, target: t.value, poison: false, reason: '', validate: l.validate };
  }
  const l = enumAspect(spec);
  const t = enumAspect(tspec);
  if (l === null || t === null) return { ...base, ...noSize, local: l ?? 0n, target: 0n, poison: true, reason: missing, validate: true };
  return { ...base, ...noSize, local: l, target: t, poison: false, reason: '', validate: true };
}

/** A field aspect of a spec (not FIELD_EXISTS), or null (poison) when there is no spec. */
function fieldAspect(spec: CoreSpec | null, fail: Fail): Aspect | null {
  if (spec === null) return null;
  const kind = spec.kind;
  const btf = spec.btf;
  const acc = spec.accessors[spec.accessors.length - 1]!;
  if (acc.name === null) {
    // The access ends in an array element (or the root object itself).
    const size = sizeOrFail(btf, acc.typeId, fail);
    if (kind === CoreReloKind.FIELD_BYTE_OFFSET) return { value: BigInt(Math.floor(spec.bitOffset / 8)), size, typeId: acc.typeId, validate: true };
    if (kind === CoreReloKind.FIELD_BYTE_SIZE) return { value: BigInt(size), size: 0, typeId: 0, validate: true };
    return fail(`${coreKindName(kind)} does not apply to an array element`);
  }
  const holder = btf.get(acc.typeId);
  if (holder.kind !== 'struct' && holder.kind !== 'union') return fail(`accessor type ${acc.typeId} is not a struct or union`);
  const m = holder.members[acc.idx]!;
  const mt = btf.resolved(m.type);
  const bitOff = spec.bitOffset;
  let bitSize = m.bitSize;
  const bitfield = bitSize > 0;
  let byteSize: number;
  let byteOff: number;
  if (bitfield) {
    if (mt.kind !== 'int' && !isEnum(mt)) return fail(`bitfield ${m.name} has type ${btf.typeName(m.type)}`);
    byteSize = mt.size;
    byteOff = Math.floor(Math.floor(bitOff / 8) / byteSize) * byteSize;
    // The smallest aligned load that holds the whole bitfield.
    while (bitOff + bitSize - byteOff * 8 > byteSize * 8) {
      if (byteSize >= 8) return fail(`bitfield ${m.name} cannot be read with one 64-bit load`);
      byteSize *= 2;
      byteOff = Math.floor(Math.floor(bitOff / 8) / byteSize) * byteSize;
    }
  } else {
    byteSize = sizeOrFail(btf, mt.id, fail);
    byteOff = Math.floor(bitOff / 8);
    bitSize = byteSize * 8;
  }
  switch (kind) {
    case CoreReloKind.FIELD_BYTE_OFFSET:
      return { value: BigInt(byteOff), size: bitfield ? 0 : byteSize, typeId: bitfield ? 0 : mt.id, validate: !bitfield };
    case CoreReloKind.FIELD_BYTE_SIZE:
      return { value: BigInt(byteSize), size: 0, typeId: 0, validate: !bitfield };
    case CoreReloKind.FIELD_SIGNED: {
      const signed = (mt.kind === 'int' || isEnum(mt)) && mt.signed;
      return { value: signed ? 1n : 0n, size: 0, typeId: 0, validate: true };
    }
    case CoreReloKind.FIELD_LSHIFT_U64: {
      const v = btf.littleEndian ? 64 - (bitOff + bitSize - byteOff * 8) : (8 - byteSize) * 8 + (bitOff - byteOff * 8);
      return { value: BigInt(v), size: 0, typeId: 0, validate: !bitfield };
    }
    case CoreReloKind.FIELD_RSHIFT_U64:
      return { value: BigInt(64 - bitSize), size: 0, typeId: 0, validate: true };
    default:
      return fail('unknown field relocation kind');
  }
}

function typeAspect(spec: CoreSpec | null, fail: Fail): { value: bigint; validate: boolean } {
  if (spec === null) return { value: 0n, validate: true };
  switch (spec.kind) {
    case CoreReloKind.TYPE_ID_TARGET: return { value: BigInt(spec.root), validate: false };
    case CoreReloKind.TYPE_EXISTS: case CoreReloKind.TYPE_MATCHES: return { value: 1n, validate: true };
    case CoreReloKind.TYPE_SIZE: return { value: BigInt(sizeOrFail(spec.btf, spec.root, fail)), validate: true };
    default: return fail('unknown type relocation kind');
  }
}

function enumAspect(spec: CoreSpec | null): bigint | null {
  if (spec === null) return null;
  const acc = spec.accessors[0]!;
  const t = spec.btf.get(acc.typeId);
  if (!isEnum(t)) return null;
  const v = t.values[acc.idx]!.value;
  // A 32-bit enumerator is an s32 in BTF, widened with its sign as libbpf does.
  return BigInt.asUintN(64, t.kind === 'enum' ? BigInt.asIntN(32, v) : v);
}

const SIZE_OF: Record<number, number> = { [SIZE_B]: 1, [SIZE_H]: 2, [SIZE_W]: 4, [SIZE_DW]: 8 };
const SIZE_CODE: Record<number, number> = { 1: SIZE_B, 2: SIZE_H, 4: SIZE_W, 8: SIZE_DW };

/** libbpf's poisoned instruction: `call 0xbad2310`; for `lddw`, a load into r10 (two slots, rejected the same way when reachable). */
export function poisonInstruction(insn: Instruction): Instruction {
  if (insn.opcode === OP_LDDW) return { opcode: OP_LDDW, dst: 10, src: 0, off: 0, imm: CORE_POISON, imm2: 0 };
  return { opcode: 0x85, dst: 0, src: 0, off: 0, imm: CORE_POISON };
}

/** Rewrites `insn` (not mutated) for a resolution. */
export function patchCoreInsn(insn: Instruction, res: CoreResolution, relo: CoreRelo, typeName: string, opts: CoreOptions = {}): Instruction {
  const fail: Fail = (why) => { throw new CoreError(relo, typeName, why); };
  if (res.poison) {
    if (opts.poison === true) return poisonInstruction(insn);
    fail(res.reason);
  }
  const cls = insn.opcode & 0x07;
  switch (cls) {
    case CLS_ALU: case CLS_ALU64: {
      if ((insn.opcode & SRC_X) !== 0) fail(`instruction ${hex(insn.opcode)} takes a register, not an immediate`);
      if (res.validate && BigInt.asUintN(64, BigInt(insn.imm)) !== res.local) fail(`instruction has imm ${insn.imm}, expected the local value ${res.local}`);
      const v = res.target;
      if (v >= 1n << 32n && BigInt.asUintN(64, BigInt.asIntN(32, v)) !== v) fail(`target value ${v} does not fit in a 32-bit immediate`);
      return { ...insn, imm: Number(BigInt.asIntN(32, v)) };
    }
    case CLS_LDX: case CLS_ST: case CLS_STX: {
      if (res.validate && BigInt.asUintN(64, BigInt(insn.off)) !== res.local) fail(`instruction has offset ${insn.off}, expected the local value ${res.local}`);
      if (res.target > 32767n) fail(`target offset ${res.target} does not fit in a 16-bit offset`);
      if (res.badSizeChange) {
        const why = `the field is ${res.localSize} bytes here but ${res.targetSize} in the target, and only pointers and unsigned integers may change size`;
        if (opts.poison === true) return poisonInstruction(insn);
        fail(why);
      }
      const out: Instruction = { ...insn, off: Number(res.target) };
      if (res.targetSize !== res.localSize) {
        const size = SIZE_OF[insn.opcode & 0x18];
        if (size !== res.localSize) fail(`instruction accesses ${size} bytes, but the field is ${res.localSize}`);
        const code = SIZE_CODE[res.targetSize];
        if (code === undefined) fail(`a ${res.targetSize}-byte field cannot be loaded or stored by one instruction`);
        out.opcode = (insn.opcode & 0xe0) | code | cls;
      }
      return out;
    }
    case CLS_LD: {
      if (insn.opcode !== OP_LDDW || insn.src !== 0 || insn.off !== 0) fail(`instruction ${hex(insn.opcode)} (src ${insn.src}) is not a plain 64-bit immediate load`);
      const now = lddwValue(insn);
      if (res.validate && now !== res.local) fail(`instruction loads ${now}, expected the local value ${res.local}`);
      return { ...insn, ...splitImm64(res.target) };
    }
    default:
      return fail(`instruction ${hex(insn.opcode)} cannot be relocated`);
  }
}

const hex = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;

/** Resolves one relocation and patches its instruction (a new object; `insn` is not mutated). */
export function resolveCoreRelo(local: Btf, target: Btf, relo: CoreRelo, insn: Instruction, opts: CoreOptions = {}): CoreResolution & { insn: Instruction } {
  const res = calcCoreRelo(local, target, relo);
  let name: string;
  try { name = local.typeName(relo.typeId); } catch { name = `type ${relo.typeId}`; }
  return { ...res, insn: patchCoreInsn(insn, res, relo, name, opts) };
}

/**
 * Applies every relocation to a copy of `insns` (indices as in
 * `ProgramSpec.insns`; an `lddw` is one instruction). The input is not
 * mutated, and the result has the same length and slot layout.
 */
export function applyCoreRelos(local: Btf, target: Btf, insns: readonly Instruction[], relos: readonly CoreRelo[], opts: CoreOptions = {}): Instruction[] {
  const out = insns.map((i) => ({ ...i }));
  for (const relo of relos) {
    const at = out[relo.insn];
    if (!Number.isInteger(relo.insn) || at === undefined) {
      throw new CoreError(relo, `type ${relo.typeId}`, `instruction ${relo.insn} is outside the ${out.length}-instruction program`);
    }
    out[relo.insn] = resolveCoreRelo(local, target, relo, at, opts).insn;
  }
  return out;
}
