/**
 * What the value codec needs to know about a type's memory layout: the
 * members of a struct or union as C sees them (anonymous members flattened),
 * bitfields in either byte order, and which arrays hold text.
 */
import { TsbpfError } from '../errors.js';
import type { Btf } from './btf.js';
import type { BtfComposite, BtfEnum } from './types.js';

/** A value that does not fit its BTF type, or bytes too short for it. Names the member path. */
export class BtfValueError extends TsbpfError {
  constructor(readonly path: string, why: string, where: Record<string, unknown> = {}) {
    super('EBTFVALUE', `${path === '' ? 'value' : path}: ${why}`, { path, ...where });
  }
}

/** Nesting deeper than this is treated as a loop. */
export const MAX_DEPTH = 64;

/** One member of a struct or union as C code names it (members of anonymous members included). */
export interface Field {
  readonly name: string;
  readonly typeId: number;
  /** Bits from the start of the outermost struct or union. */
  readonly bitOffset: number;
  /** Width of a bitfield (kind_flag bitfields and old-style int bitfields), or 0 for a plain member. */
  readonly bitSize: number;
}

const fieldCache = new WeakMap<Btf, Map<number, readonly Field[]>>();

/** The members of `t`, with anonymous struct/union members flattened into their parent, as C does. */
export function fieldsOf(btf: Btf, t: BtfComposite): readonly Field[] {
  let cache = fieldCache.get(btf);
  if (cache === undefined) fieldCache.set(btf, cache = new Map());
  const hit = cache.get(t.id);
  if (hit !== undefined) return hit;
  const out: Field[] = [];
  const seen = new Set<string>();
  const walk = (c: BtfComposite, base: number, depth: number): void => {
    if (depth > MAX_DEPTH) throw new BtfValueError('', `${btf.typeName(t.id)} nests anonymous members too deeply`);
    for (const m of c.members) {
      const rt = btf.resolved(m.type);
      if (m.name === '') {
        if (rt.kind === 'struct' || rt.kind === 'union') walk(rt, base + m.bitOffset, depth + 1);
        continue; // unnamed bitfield padding
      }
      if (seen.has(m.name)) continue;
      seen.add(m.name);
      let bitOffset = base + m.bitOffset;
      let bitSize = m.bitSize;
      // Old-style bitfields (no kind_flag): the int type carries the width and a bit offset.
      if (bitSize === 0 && rt.kind === 'int' && (rt.bits !== rt.size * 8 || rt.offset !== 0)) {
        bitOffset += rt.offset;
        bitSize = rt.bits;
      }
      out.push({ name: m.name, typeId: m.type, bitOffset, bitSize });
    }
  };
  walk(t, 0, 0);
  cache.set(t.id, out);
  return out;
}

/**
 * True when an array of `elemId` holds C text: a one-byte int named `char`
 * or with the char encoding, behind qualifiers but not a typedef (bpftool's rule).
 */
export function isCharType(btf: Btf, elemId: number): boolean {
  let t = btf.get(elemId);
  for (let n = 0; t.kind === 'const' || t.kind === 'volatile' || t.kind === 'restrict' || t.kind === 'type_tag'; n++) {
    if (n > MAX_DEPTH) return false;
    t = btf.get(t.type);
  }
  return t.kind === 'int' && t.size === 1 && (t.char || t.name === 'char');
}

/**
 * The text of a char array: the bytes before the first NUL, when there is a
 * NUL and every byte before it is printable ASCII; otherwise null.
 */
export function charArrayText(bytes: Uint8Array, off: number, n: number): string | null {
  for (let i = 0; i < n; i++) {
    const b = bytes[off + i]!;
    if (b === 0) return String.fromCharCode(...bytes.subarray(off, off + i));
    if (b < 0x20 || b >= 0x7f) return null;
  }
  return null;
}

/** `width` bits at bit `pos` as an unsigned bigint. Bit 0 is the least significant bit of byte 0 (little-endian) or the most significant (big-endian), as C compilers lay out bitfields. */
export function readBits(bytes: Uint8Array, pos: number, width: number, le: boolean): bigint {
  const first = Math.floor(pos / 8);
  const shift = pos % 8;
  if (shift === 0 && width % 8 === 0 && width <= 64) {
    const view = new DataView(bytes.buffer, bytes.byteOffset + first, width / 8);
    switch (width) {
      case 8: return BigInt(view.getUint8(0));
      case 16: return BigInt(view.getUint16(0, le));
      case 32: return BigInt(view.getUint32(0, le));
      case 64: return view.getBigUint64(0, le);
      default: break;
    }
  }
  const n = Math.ceil((shift + width) / 8);
  let acc = 0n;
  for (let i = 0; i < n; i++) acc = (acc << 8n) | BigInt(bytes[first + (le ? n - 1 - i : i)]!);
  const mask = (1n << BigInt(width)) - 1n;
  return (acc >> BigInt(le ? shift : n * 8 - shift - width)) & mask;
}

/** Stores the low `width` bits of `value` at bit `pos`, keeping the bits around them. */
export function writeBits(bytes: Uint8Array, pos: number, width: number, le: boolean, value: bigint): void {
  const first = Math.floor(pos / 8);
  const shift = pos % 8;
  const mask = (1n << BigInt(width)) - 1n;
  const n = Math.ceil((shift + width) / 8);
  let acc = 0n;
  for (let i = 0; i < n; i++) acc = (acc << 8n) | BigInt(bytes[first + (le ? n - 1 - i : i)]!);
  const s = BigInt(le ? shift : n * 8 - shift - width);
  acc = (acc & ~(mask << s)) | ((value & mask) << s);
  for (let i = 0; i < n; i++) {
    bytes[first + (le ? i : n - 1 - i)] = Number(acc & 0xffn);
    acc >>= 8n;
  }
}

const enumNames = new WeakMap<BtfEnum, Map<bigint, string>>();

/** The enumerator named by `value`, or undefined (the first one when several share a value). */
export function enumeratorName(t: BtfEnum, value: bigint): string | undefined {
  let names = enumNames.get(t);
  if (names === undefined) {
    names = new Map();
    for (const e of t.values) if (!names.has(e.value)) names.set(e.value, e.name);
    enumNames.set(t, names);
  }
  return names.get(value);
}

/** `sizeOf`, with a typed value error instead of a BTF error for unsized types. */
export function sizeOfValue(btf: Btf, id: number, path: string): number {
  try {
    return btf.sizeOf(id);
  } catch (e) {
    if (e instanceof TsbpfError) throw new BtfValueError(path, `type ${id} has no size: ${e.message}`, { typeId: id });
    throw e;
  }
}

/** A member path: `a.b[2].c`. */
export const memberPath = (path: string, name: string): string => (path === '' ? name : `${path}.${name}`);
