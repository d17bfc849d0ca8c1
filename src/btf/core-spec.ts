/**
 * CO-RE access specs: what a relocation's access string (`0:1:2`) reaches in
 * the object's BTF, and the same access found again in a target BTF by
 * names (Documentation/bpf/llvm_reloc.rst; libbpf's relo_core semantics).
 *
 * The raw spec is the access string's numbers. The accessors keep only what
 * carries meaning across BTFs: the first index (pointer arithmetic on the
 * root), each named member, and each array index. Anonymous struct/union
 * members are steps of the raw spec only, so a field may move in or out of
 * anonymous members between BTFs.
 */
import type { Btf } from './btf.js';
import { essentialName, fieldsCompatible, isComposite, isEnum, kindsCompatible, typesCompatible, typesMatch } from './core-compat.js';
import type { BtfArray, BtfType } from './types.js';

/** `enum bpf_core_relo_kind`. */
export const CoreReloKind = {
  FIELD_BYTE_OFFSET: 0,
  FIELD_BYTE_SIZE: 1,
  FIELD_EXISTS: 2,
  FIELD_SIGNED: 3,
  FIELD_LSHIFT_U64: 4,
  FIELD_RSHIFT_U64: 5,
  TYPE_ID_LOCAL: 6,
  TYPE_ID_TARGET: 7,
  TYPE_EXISTS: 8,
  TYPE_SIZE: 9,
  ENUMVAL_EXISTS: 10,
  ENUMVAL_VALUE: 11,
  TYPE_MATCHES: 12,
} as const;

const KIND_NAMES = [
  'field_byte_offset', 'field_byte_size', 'field_exists', 'field_signed', 'field_lshift_u64', 'field_rshift_u64',
  'type_id_local', 'type_id_target', 'type_exists', 'type_size', 'enumval_exists', 'enumval_value', 'type_matches',
];

export const coreKindName = (kind: number): string => KIND_NAMES[kind] ?? `kind ${kind}`;
export const isFieldKind = (kind: number): boolean => kind >= 0 && kind <= 5;
export const isTypeKind = (kind: number): boolean => (kind >= 6 && kind <= 9) || kind === 12;
export const isEnumvalKind = (kind: number): boolean => kind === 10 || kind === 11;

/** libbpf's bound on access string length. */
const MAX_SPEC = 64;

export interface CoreAccessor {
  /** The struct/union holding a named member, the element type of an array index, or the root for the first index. */
  readonly typeId: number;
  readonly idx: number;
  /** The member's (or enumerator's) name; null for an index. */
  readonly name: string | null;
}

export interface CoreSpec {
  readonly btf: Btf;
  /** The relocation's type id, not resolved through typedefs. */
  readonly root: number;
  readonly kind: number;
  readonly raw: number[];
  readonly accessors: CoreAccessor[];
  /** Bit offset of the field from the start of the root object (field relocations). */
  bitOffset: number;
}

export type Fail = (why: string) => never;

/** `sizeof`, failing the relocation (not throwing a BTF error) for unsized types. */
export function sizeOrFail(btf: Btf, id: number, fail: Fail): number {
  try {
    return btf.sizeOf(id);
  } catch (e) {
    return fail(`${btf.typeName(id) || `type ${id}`} has no size (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** The spec of a relocation record against the object's own BTF. */
export function parseSpec(btf: Btf, root: number, access: string, kind: number, fail: Fail): CoreSpec {
  const spec: CoreSpec = { btf, root, kind, raw: [], accessors: [], bitOffset: 0 };
  if (isTypeKind(kind)) {
    if (access !== '0') fail(`a type relocation's access string must be "0"`);
    return spec;
  }
  if (!isFieldKind(kind) && !isEnumvalKind(kind)) fail('unknown relocation kind');
  if (!/^\d+(:\d+)*$/.test(access)) fail('malformed access string');
  spec.raw.push(...access.split(':').map(Number));
  if (spec.raw.length > MAX_SPEC) fail(`access string is longer than ${MAX_SPEC} steps`);
  let t = btf.resolved(root);
  const first = spec.raw[0]!;
  if (isEnumvalKind(kind)) {
    if (!isEnum(t)) fail(`${btf.typeName(root)} is not an enum`);
    if (spec.raw.length > 1 || first >= t.values.length) fail(`${btf.typeName(root)} has no enumerator #${access}`);
    spec.accessors.push({ typeId: t.id, idx: first, name: t.values[first]!.name });
    return spec;
  }
  spec.accessors.push({ typeId: t.id, idx: first, name: null });
  spec.bitOffset = first * sizeOrFail(btf, t.id, fail) * 8;
  for (let i = 1; i < spec.raw.length; i++) {
    const idx = spec.raw[i]!;
    if (isComposite(t)) {
      const m = t.members[idx];
      if (m === undefined) fail(`step ${i}: ${btf.typeName(t.id)} has no member #${idx}`);
      spec.bitOffset += m.bitOffset;
      if (m.name !== '') spec.accessors.push({ typeId: t.id, idx, name: m.name });
      t = btf.resolved(m.type);
    } else if (t.kind === 'array') {
      const elem = btf.resolved(t.type);
      if (!isFlexArray(btf, spec.accessors[spec.accessors.length - 1]!, t) && idx >= t.nelems) {
        fail(`step ${i}: index ${idx} is past the end of ${btf.typeName(t.id)}`);
      }
      spec.accessors.push({ typeId: elem.id, idx, name: null });
      spec.bitOffset += idx * sizeOrFail(btf, elem.id, fail) * 8;
      t = elem;
    } else {
      fail(`step ${i} indexes into ${btf.typeName(t.id) || t.kind} (${t.kind})`);
    }
  }
  return spec;
}

/** A zero-length array that is the last member of the struct holding it. */
function isFlexArray(btf: Btf, holder: CoreAccessor, arr: BtfArray): boolean {
  if (holder.name === null || arr.nelems > 0) return false;
  const t = btf.get(holder.typeId);
  return isComposite(t) && holder.idx === t.members.length - 1;
}

const candidateIndex = new WeakMap<Btf, Map<string, number[]>>();

/** Target types that may be the local type: same kind (enum and enum64 alike) and the same name without flavors. */
export function candidates(target: Btf, local: BtfType): number[] {
  let index = candidateIndex.get(target);
  if (index === undefined) {
    index = new Map();
    for (const t of target.types) {
      if (t.name === '') continue;
      const key = essentialName(t.name);
      const list = index.get(key);
      if (list) list.push(t.id); else index.set(key, [t.id]);
    }
    candidateIndex.set(target, index);
  }
  return (index.get(essentialName(local.name)) ?? []).filter((id) => kindsCompatible(target.types[id]!, local));
}

/** The local spec found again in the candidate `targetId`, or null when it is not there. */
export function matchSpec(local: CoreSpec, target: Btf, targetId: number, fail: Fail): CoreSpec | null {
  const spec: CoreSpec = { btf: target, root: targetId, kind: local.kind, raw: [], accessors: [], bitOffset: 0 };
  if (isTypeKind(local.kind)) {
    const ok = local.kind === CoreReloKind.TYPE_MATCHES
      ? typesMatch(local.btf, local.root, target, targetId)
      : typesCompatible(local.btf, local.root, target, targetId);
    return ok ? spec : null;
  }
  if (isEnumvalKind(local.kind)) {
    const t = target.resolved(targetId);
    if (!isEnum(t)) return null;
    const want = essentialName(local.accessors[0]!.name!);
    const i = t.values.findIndex((v) => essentialName(v.name) === want);
    if (i < 0) return null;
    spec.accessors.push({ typeId: t.id, idx: i, name: t.values[i]!.name });
    spec.raw.push(i);
    return spec;
  }
  let id = targetId;
  for (const [k, acc] of local.accessors.entries()) {
    const t = target.resolved(id);
    if (acc.name !== null) {
      const next = matchMember(local, acc, spec, t.id, 0, fail);
      if (next === null) return null;
      id = next;
      continue;
    }
    // An index: the first one is pointer arithmetic on the root, the others index arrays.
    id = t.id;
    if (k > 0) {
      if (t.kind !== 'array') return null;
      if (!isFlexArray(target, spec.accessors[spec.accessors.length - 1]!, t) && acc.idx >= t.nelems) return null;
      id = target.resolve(t.type);
    }
    if (spec.raw.length >= MAX_SPEC) fail(`target access is longer than ${MAX_SPEC} steps`);
    spec.accessors.push({ typeId: id, idx: acc.idx, name: null });
    spec.raw.push(acc.idx);
    spec.bitOffset += acc.idx * sizeOrFail(target, id, fail) * 8;
  }
  return spec;
}

/**
 * Finds the member the local accessor names inside target type `targetId`,
 * looking through anonymous members, and checks the two are compatible.
 * Returns the member's type id, or null.
 */
function matchMember(local: CoreSpec, acc: CoreAccessor, spec: CoreSpec, targetId: number, depth: number, fail: Fail): number | null {
  const t = spec.btf.resolved(targetId);
  if (!isComposite(t)) return null;
  if (depth > MAX_SPEC) fail('anonymous members nest too deeply');
  const holder = local.btf.get(acc.typeId);
  if (!isComposite(holder)) return fail(`accessor type ${acc.typeId} is not a struct or union`);
  const want = holder.members[acc.idx]!;
  for (const [i, m] of t.members.entries()) {
    if (spec.raw.length >= MAX_SPEC) fail(`target access is longer than ${MAX_SPEC} steps`);
    spec.bitOffset += m.bitOffset;
    spec.raw.push(i);
    if (m.name === '') {
      const found = matchMember(local, acc, spec, m.type, depth + 1, fail);
      if (found !== null) return found;
    } else if (m.name === want.name) {
      if (fieldsCompatible(local.btf, want.type, spec.btf, m.type)) {
        spec.accessors.push({ typeId: t.id, idx: i, name: m.name });
        return m.type;
      }
      spec.bitOffset -= m.bitOffset;
      spec.raw.pop();
      return null; // the name is taken by an incompatible field: no match at this level
    }
    spec.bitOffset -= m.bitOffset;
    spec.raw.pop();
  }
  return null;
}

/** The spec in C terms: `struct sample.in.y`, `struct sample[1].arr[2]`, `enum color::BLUE`. */
export function describeSpec(spec: CoreSpec): string {
  const root = spec.btf.typeName(spec.root) || `type ${spec.root}`;
  if (isEnumvalKind(spec.kind)) return `${root}::${spec.accessors[0]?.name ?? '?'}`;
  let s = root;
  spec.accessors.forEach((a, i) => {
    if (a.name !== null) s += `.${a.name}`;
    else if (i > 0 || a.idx > 0) s += `[${a.idx}]`;
  });
  return s;
}
