/** Encodes a type list back into a `.BTF` section (little-endian unless asked). */
import { StringBuilder } from './strings.js';
import { BtfKind, type BtfType } from './types.js';

const KIND_NO: Record<BtfType['kind'], number> = {
  void: 0, int: BtfKind.INT, ptr: BtfKind.PTR, array: BtfKind.ARRAY, struct: BtfKind.STRUCT, union: BtfKind.UNION,
  enum: BtfKind.ENUM, fwd: BtfKind.FWD, typedef: BtfKind.TYPEDEF, volatile: BtfKind.VOLATILE, const: BtfKind.CONST,
  restrict: BtfKind.RESTRICT, func: BtfKind.FUNC, func_proto: BtfKind.FUNC_PROTO, var: BtfKind.VAR,
  datasec: BtfKind.DATASEC, float: BtfKind.FLOAT, decl_tag: BtfKind.DECL_TAG, type_tag: BtfKind.TYPE_TAG, enum64: BtfKind.ENUM64,
};
const LINK = { static: 0, global: 1, extern: 2 } as const;

/** `types[0]` must be void; it is not encoded. */
export function encodeBtf(types: readonly BtfType[], littleEndian = true): Uint8Array {
  const strs = new StringBuilder();
  const words: number[] = [];
  const le = littleEndian;
  const head = (t: BtfType, vlen: number, kflag: boolean, sizeOrType: number): void => {
    words.push(strs.add(t.name), ((kflag ? 1 : 0) << 31 | KIND_NO[t.kind] << 24 | (vlen & 0xffff)) >>> 0, sizeOrType >>> 0);
  };
  for (const t of types) {
    switch (t.kind) {
      case 'void': break;
      case 'int': {
        head(t, 0, false, t.size);
        const enc = (t.signed ? 1 : 0) | (t.char ? 2 : 0) | (t.bool ? 4 : 0);
        words.push(((enc << 24) | ((t.offset & 0xff) << 16) | (t.bits & 0xff)) >>> 0);
        break;
      }
      case 'ptr': case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag':
        head(t, 0, false, t.type); break;
      case 'array': head(t, 0, false, 0); words.push(t.type, t.indexType, t.nelems); break;
      case 'struct': case 'union':
        head(t, t.members.length, t.bitfields, t.size);
        for (const m of t.members) words.push(strs.add(m.name), m.type, t.bitfields ? ((m.bitSize << 24) | (m.bitOffset & 0xffffff)) >>> 0 : m.bitOffset);
        break;
      case 'enum':
        head(t, t.values.length, t.signed, t.size);
        for (const v of t.values) words.push(strs.add(v.name), Number(BigInt.asUintN(32, v.value)));
        break;
      case 'enum64':
        head(t, t.values.length, t.signed, t.size);
        for (const v of t.values) {
          const u = BigInt.asUintN(64, v.value);
          words.push(strs.add(v.name), Number(u & 0xffffffffn), Number(u >> 32n));
        }
        break;
      case 'fwd': head(t, 0, t.union, 0); break;
      case 'func': head(t, LINK[t.linkage], false, t.type); break;
      case 'func_proto':
        head(t, t.params.length, false, t.returnType);
        for (const q of t.params) words.push(strs.add(q.name), q.type);
        break;
      case 'var': head(t, 0, false, t.type); words.push(LINK[t.linkage]); break;
      case 'datasec':
        head(t, t.vars.length, false, t.size);
        for (const v of t.vars) words.push(v.type, v.offset, v.size);
        break;
      case 'float': head(t, 0, false, t.size); break;
      case 'decl_tag': head(t, 0, false, t.type); words.push(t.componentIdx >>> 0); break;
    }
  }
  const str = strs.bytes();
  const typeLen = words.length * 4;
  const out = new Uint8Array(24 + typeLen + str.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0xeb9f, le);
  v.setUint8(2, 1);
  v.setUint8(3, 0);
  v.setUint32(4, 24, le);
  v.setUint32(8, 0, le);
  v.setUint32(12, typeLen, le);
  v.setUint32(16, typeLen, le);
  v.setUint32(20, str.length, le);
  words.forEach((w, k) => v.setUint32(24 + 4 * k, w >>> 0, le));
  out.set(str, 24 + typeLen);
  return out;
}
