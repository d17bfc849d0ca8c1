/**
 * BTF-driven value codec: bytes of a map key/value or a global variable to
 * plain JS values and back.
 *
 *   int <= 32 bits, float      number
 *   int of 64 or 128 bits      bigint
 *   bool                       boolean (a byte other than 0 or 1 stays a number)
 *   char array                 string, when it is printable text ending in a NUL; else number[]
 *   other array                array
 *   struct, union              object by member name (anonymous members flattened, as in C)
 *   bitfield                   as its type, number when <= 32 bits wide
 *   enum                       the enumerator's name, or the number when none matches
 *   pointer                    bigint
 *   typedef, qualifiers, var   followed
 *   DATASEC                    object by variable name
 */
import type { Btf } from './btf.js';
import type { BtfComposite, BtfDatasec, BtfEnum, BtfType } from './types.js';
import {
  BtfValueError, MAX_DEPTH, charArrayText, enumeratorName, fieldsOf, isCharType, memberPath,
  readBits, sizeOfValue, writeBits, type Field,
} from './value-layout.js';

export { BtfValueError } from './value-layout.js';

export type BtfValue = number | bigint | boolean | string | BtfValue[] | BtfObject;
export interface BtfObject { [name: string]: BtfValue }

/** What `encodeValue` accepts: decoded values, plus numeric strings, booleans for ints and byte arrays. */
export type BtfInput = BtfValue | Uint8Array | null | undefined | readonly BtfInput[] | { readonly [name: string]: BtfInput };

const setProp = (o: BtfObject, k: string, v: BtfValue): void => {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
};

const int = (raw: bigint, width: number, signed: boolean): number | bigint => {
  const v = signed ? BigInt.asIntN(width, raw) : raw;
  return width <= 32 ? Number(v) : v;
};

const noLayout = (btf: Btf, t: BtfType, path: string): BtfValueError =>
  new BtfValueError(path, `${btf.typeName(t.id) || t.kind} (${t.kind}) has no value layout`, { typeId: t.id });

/** Decodes the value of type `typeId` stored at `bytes[offset..]`. */
export function decodeValue(btf: Btf, typeId: number, bytes: Uint8Array, offset = 0): BtfValue {
  const size = sizeOfValue(btf, typeId, '');
  if (!Number.isInteger(offset) || offset < 0 || offset + size > bytes.length) {
    throw new BtfValueError('', `${btf.typeName(typeId)} needs ${size} bytes at offset ${offset}, but there are ${bytes.length}`, { typeId });
  }
  const le = btf.littleEndian;

  const need = (endBit: number, path: string): void => {
    if (endBit > bytes.length * 8) throw new BtfValueError(path, `runs past the end of the ${bytes.length} bytes (bad BTF layout?)`, { typeId });
  };
  const scalarBits = (id: number, pos: number, width: number, path: string): BtfValue => {
    const t = btf.resolved(id);
    need(pos + width, path);
    const raw = readBits(bytes, pos, width, le);
    switch (t.kind) {
      case 'int':
        if (t.bool && raw <= 1n) return raw === 1n;
        return int(raw, width, t.signed);
      case 'enum': case 'enum64': {
        const v = t.signed ? BigInt.asIntN(width, raw) : raw;
        return enumeratorName(t, v) ?? (width <= 32 ? Number(v) : v);
      }
      case 'ptr':
        return raw;
      default:
        throw new BtfValueError(path, `a bitfield of ${btf.typeName(id)} (${t.kind}) is not supported`, { typeId: id });
    }
  };

  const dec = (id: number, off: number, path: string, depth: number): BtfValue => {
    if (depth > MAX_DEPTH) throw new BtfValueError(path, `type ${typeId} nests too deeply`, { typeId });
    const t = btf.get(id);
    switch (t.kind) {
      case 'typedef': case 'const': case 'volatile': case 'restrict': case 'type_tag': case 'var':
        return dec(t.type, off, path, depth + 1);
      case 'int':
        if (t.bits !== t.size * 8 || t.offset !== 0) return scalarBits(id, off * 8 + t.offset, t.bits, path);
        return scalarBits(id, off * 8, t.size * 8, path);
      case 'enum': case 'enum64': case 'ptr':
        return scalarBits(id, off * 8, sizeOfValue(btf, id, path) * 8, path);
      case 'float':
        need((off + t.size) * 8, path);
        return decodeFloat(bytes, off, t.size, le);
      case 'array': {
        if (isCharType(btf, t.type)) {
          need((off + t.nelems) * 8, path);
          const s = charArrayText(bytes, off, t.nelems);
          if (s !== null) return s;
        }
        const elem = sizeOfValue(btf, t.type, path);
        const out: BtfValue[] = [];
        for (let i = 0; i < t.nelems; i++) out.push(dec(t.type, off + i * elem, `${path}[${i}]`, depth + 1));
        return out;
      }
      case 'struct': case 'union': {
        const obj: BtfObject = {};
        for (const f of fieldsOf(btf, t)) {
          const p = memberPath(path, f.name);
          if (f.bitSize > 0) setProp(obj, f.name, scalarBits(f.typeId, off * 8 + f.bitOffset, f.bitSize, p));
          else if (f.bitOffset % 8 !== 0) throw new BtfValueError(p, `member at bit offset ${f.bitOffset} is not byte-aligned`, { typeId: t.id });
          else setProp(obj, f.name, dec(f.typeId, off + f.bitOffset / 8, p, depth + 1));
        }
        return obj;
      }
      case 'datasec': {
        const obj: BtfObject = {};
        for (const v of t.vars) {
          const vt = btf.get(v.type);
          if (vt.kind !== 'var') continue;
          setProp(obj, vt.name, dec(vt.type, off + v.offset, memberPath(path, vt.name), depth + 1));
        }
        return obj;
      }
      default:
        throw noLayout(btf, t, path);
    }
  };
  return dec(typeId, offset, '', 0);
}

function decodeFloat(bytes: Uint8Array, off: number, size: number, le: boolean): BtfValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset + off, size);
  switch (size) {
    case 2: return halfToNumber(view.getUint16(0, le));
    case 4: return view.getFloat32(0, le);
    case 8: return view.getFloat64(0, le);
    default: return Array.from(bytes.subarray(off, off + size)); // long double: kept as its bytes
  }
}

function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function numberToHalf(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a === Infinity) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | Math.round(a * 2 ** 24); // subnormal (rounds up into the normals at the top)
  let exp = Math.floor(Math.log2(a));
  if (a / 2 ** exp >= 2) exp++; // log2 rounding
  if (a / 2 ** exp < 1) exp--;
  let frac = Math.round((a / 2 ** exp - 1) * 1024);
  if (frac === 1024) { frac = 0; exp++; }
  if (exp > 15) return sign | 0x7c00;
  return sign | ((exp + 15) << 10) | frac;
}

const NUMERIC = /^\s*([+-]?)(0x[0-9a-f]+|0o[0-7]+|0b[01]+|[0-9]+)\s*$/i;

function toBigInt(v: BtfInput, path: string, what: string): bigint {
  switch (typeof v) {
    case 'bigint': return v;
    case 'boolean': return v ? 1n : 0n;
    case 'number':
      if (!Number.isInteger(v)) throw new BtfValueError(path, `${v} is not an integer (${what})`);
      return BigInt(v);
    case 'string': {
      const m = NUMERIC.exec(v);
      if (m === null) throw new BtfValueError(path, `${JSON.stringify(v)} is not a number (${what})`);
      const n = BigInt(m[2]!);
      return m[1] === '-' ? -n : n;
    }
    default:
      throw new BtfValueError(path, `expected a number for ${what}, got ${describe(v)}`);
  }
}

function describe(v: BtfInput): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return 'a Uint8Array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

/** `v` if lo <= v < hi, as the unsigned `width`-bit pattern stored. */
function checkRange(v: bigint, width: number, lo: bigint, hi: bigint, path: string, what: string): bigint {
  if (v < lo || v >= hi) throw new BtfValueError(path, `${v} does not fit in ${what} (${lo}..${hi - 1n})`);
  return BigInt.asUintN(width, v);
}

const signedRange = (width: number): [bigint, bigint] => [-(1n << BigInt(width - 1)), 1n << BigInt(width - 1)];
const unsignedRange = (width: number): [bigint, bigint] => [0n, 1n << BigInt(width)];

const isPlainObject = (v: BtfInput): v is { readonly [name: string]: BtfInput } =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

const utf8 = new TextEncoder();

/**
 * Encodes `value` as type `typeId`: into `into` at `offset` (which must have
 * room), or into new zeroed bytes. The type's bytes are zeroed first, so
 * members the value leaves out are zero. Throws `BtfValueError` (code
 * `EBTFVALUE`, naming the member path) for a value that does not fit.
 */
export function encodeValue(btf: Btf, typeId: number, value: BtfInput, into?: Uint8Array, offset = 0): Uint8Array {
  const size = sizeOfValue(btf, typeId, '');
  const out = into ?? new Uint8Array(size);
  if (!Number.isInteger(offset) || offset < 0 || offset + size > out.length) {
    throw new BtfValueError('', `${btf.typeName(typeId)} needs ${size} bytes at offset ${offset}, but the buffer has ${out.length}`, { typeId });
  }
  out.fill(0, offset, offset + size);
  const le = btf.littleEndian;

  const scalarBits = (id: number, pos: number, width: number, v: BtfInput, path: string): void => {
    const t = btf.resolved(id);
    const what = `${btf.typeName(id)}${width !== sizeOfValue(btf, id, path) * 8 ? `:${width}` : ''}`;
    let raw: bigint;
    switch (t.kind) {
      case 'int':
        raw = checkRange(toBigInt(v, path, what), width, ...(t.signed ? signedRange(width) : unsignedRange(width)), path, what);
        break;
      case 'enum': case 'enum64': raw = enumBits(t, width, v, path, what); break;
      case 'ptr': raw = checkRange(toBigInt(v, path, what), width, ...unsignedRange(width), path, what); break;
      default:
        throw new BtfValueError(path, `a bitfield of ${btf.typeName(id)} (${t.kind}) is not supported`, { typeId: id });
    }
    need(pos + width, path);
    writeBits(out, pos, width, le, raw);
  };
  const need = (endBit: number, path: string): void => {
    if (endBit > out.length * 8) throw new BtfValueError(path, `runs past the end of the ${out.length}-byte buffer (bad BTF layout?)`, { typeId });
  };

  const enc = (id: number, off: number, v: BtfInput, path: string, depth: number): void => {
    if (depth > MAX_DEPTH) throw new BtfValueError(path, `type ${typeId} nests too deeply`, { typeId });
    if (v === undefined || v === null) return; // left zero
    const t = btf.get(id);
    switch (t.kind) {
      case 'typedef': case 'const': case 'volatile': case 'restrict': case 'type_tag': case 'var':
        return enc(t.type, off, v, path, depth + 1);
      case 'int':
        if (t.bits !== t.size * 8 || t.offset !== 0) return scalarBits(id, off * 8 + t.offset, t.bits, v, path);
        return scalarBits(id, off * 8, t.size * 8, v, path);
      case 'enum': case 'enum64': case 'ptr':
        return scalarBits(id, off * 8, sizeOfValue(btf, id, path) * 8, v, path);
      case 'float':
        need((off + t.size) * 8, path);
        return encodeFloat(out, off, t.size, le, v, path, btf.typeName(id));
      case 'array': {
        const elem = sizeOfValue(btf, t.type, path);
        const what = btf.typeName(id);
        if (typeof v === 'string' && isCharType(btf, t.type)) {
          const b = utf8.encode(v);
          if (b.length > t.nelems) throw new BtfValueError(path, `${b.length}-byte string does not fit in ${what}`);
          need((off + b.length) * 8, path);
          out.set(b, off);
          return;
        }
        if (v instanceof Uint8Array && elem === 1) {
          if (v.length > t.nelems) throw new BtfValueError(path, `${v.length} bytes do not fit in ${what}`);
          need((off + v.length) * 8, path);
          out.set(v, off);
          return;
        }
        if (!Array.isArray(v)) throw new BtfValueError(path, `expected an array for ${what}, got ${describe(v)}`);
        const list = v as readonly BtfInput[];
        if (list.length > t.nelems) throw new BtfValueError(path, `${list.length} elements do not fit in ${what}`);
        list.forEach((x, i) => enc(t.type, off + i * elem, x, `${path}[${i}]`, depth + 1));
        return;
      }
      case 'struct': case 'union':
        return encodeComposite(t, off, v, path, depth);
      case 'datasec':
        return encodeDatasec(t, off, v, path, depth);
      default:
        throw noLayout(btf, t, path);
    }
  };

  const encodeComposite = (t: BtfComposite, off: number, v: BtfInput, path: string, depth: number): void => {
    if (!isPlainObject(v)) throw new BtfValueError(path, `expected an object for ${btf.typeName(t.id)}, got ${describe(v)}`);
    const fields = fieldsOf(btf, t);
    const byName = new Map<string, Field>(fields.map((f) => [f.name, f]));
    for (const k of Object.keys(v)) {
      if (!byName.has(k) && v[k] !== undefined) throw new BtfValueError(memberPath(path, k), `${btf.typeName(t.id)} has no member ${JSON.stringify(k)}`, { typeId: t.id });
    }
    // Declaration order: for union members that overlap, each writes only the bytes it describes.
    for (const f of fields) {
      if (!Object.prototype.hasOwnProperty.call(v, f.name)) continue;
      const x = v[f.name];
      if (x === undefined || x === null) continue;
      const p = memberPath(path, f.name);
      if (f.bitSize > 0) scalarBits(f.typeId, off * 8 + f.bitOffset, f.bitSize, x, p);
      else if (f.bitOffset % 8 !== 0) throw new BtfValueError(p, `member at bit offset ${f.bitOffset} is not byte-aligned`, { typeId: t.id });
      else enc(f.typeId, off + f.bitOffset / 8, x, p, depth + 1);
    }
  };

  const encodeDatasec = (t: BtfDatasec, off: number, v: BtfInput, path: string, depth: number): void => {
    if (!isPlainObject(v)) throw new BtfValueError(path, `expected an object for section ${t.name}, got ${describe(v)}`);
    const vars = new Map<string, { type: number; offset: number }>();
    for (const s of t.vars) {
      const vt = btf.get(s.type);
      if (vt.kind === 'var') vars.set(vt.name, { type: vt.type, offset: s.offset });
    }
    for (const [k, x] of Object.entries(v)) {
      const s = vars.get(k);
      if (s === undefined) {
        if (x === undefined) continue;
        throw new BtfValueError(memberPath(path, k), `section ${t.name} has no variable ${JSON.stringify(k)}`, { typeId: t.id });
      }
      enc(s.type, off + s.offset, x, memberPath(path, k), depth + 1);
    }
  };

  enc(typeId, offset, value, '', 0);
  return out;
}

function enumBits(t: BtfEnum, width: number, v: BtfInput, path: string, what: string): bigint {
  let n: bigint;
  if (typeof v === 'string' && !/^\s*[+-]?\d/.test(v)) {
    const e = t.values.find((x) => x.name === v);
    if (e === undefined) throw new BtfValueError(path, `${JSON.stringify(v)} is not an enumerator of ${what}`, { typeId: t.id });
    n = e.value;
  } else {
    n = toBigInt(v, path, what);
  }
  // BTF enums did not always record signedness: take either reading of the bits.
  return checkRange(n, width, signedRange(width)[0], unsignedRange(width)[1], path, what);
}

function encodeFloat(out: Uint8Array, off: number, size: number, le: boolean, v: BtfInput, path: string, what: string): void {
  if (size !== 2 && size !== 4 && size !== 8) {
    const raw = v instanceof Uint8Array ? Array.from(v) : v;
    if (!Array.isArray(raw) || raw.length > size) throw new BtfValueError(path, `${what} (${size} bytes) takes an array of at most ${size} bytes`);
    raw.forEach((b, i) => { out[off + i] = Number(checkRange(toBigInt(b, `${path}[${i}]`, 'a byte'), 8, -128n, 256n, `${path}[${i}]`, 'a byte')); });
    return;
  }
  let x: number;
  if (typeof v === 'number') x = v;
  else if (typeof v === 'bigint') x = Number(v);
  else if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) x = Number(v);
  else if (v === 'NaN') x = NaN;
  else throw new BtfValueError(path, `expected a number for ${what}, got ${describe(v)}`);
  const view = new DataView(out.buffer, out.byteOffset + off, size);
  if (size === 2) view.setUint16(0, numberToHalf(x), le);
  else if (size === 4) view.setFloat32(0, x, le);
  else view.setFloat64(0, x, le);
}
