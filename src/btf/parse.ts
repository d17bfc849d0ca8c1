/**
 * Decodes a `.BTF` section (Documentation/bpf/btf.rst): a header, a type
 * section of variable-length records and a string table.
 */
import { BtfError } from './errors.js';
import { StringTable } from './strings.js';
import { KIND_NAMES, type BtfType, type FuncLinkage, type VarLinkage } from './types.js';

export const BTF_MAGIC = 0xeb9f;
const HEADER_MIN = 24;
/** A sanity bound: the kernel's own BTF has about 150,000 types. */
const MAX_TYPES = 1 << 20;

export interface RawBtf {
  types: BtfType[];
  littleEndian: boolean;
  strings: StringTable;
}

export function headerEndian(view: DataView, section: '.BTF' | '.BTF.ext'): boolean {
  if (view.byteLength < 8) throw new BtfError(section, 0, `${view.byteLength} bytes is too short for a header`);
  if (view.getUint16(0, true) === BTF_MAGIC) return true;
  if (view.getUint16(0, false) === BTF_MAGIC) return false;
  throw new BtfError(section, 0, `bad magic 0x${view.getUint16(0, true).toString(16)} (expected 0xeb9f)`);
}

const FUNC_LINKAGE: readonly FuncLinkage[] = ['static', 'global', 'extern'];
const VAR_LINKAGE: readonly VarLinkage[] = ['static', 'global', 'extern'];

export function parseBtfBytes(bytes: Uint8Array): RawBtf {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = headerEndian(view, '.BTF');
  const version = view.getUint8(2);
  if (version !== 1) throw new BtfError('.BTF', 2, `unsupported version ${version}`);
  if (bytes.length < HEADER_MIN) throw new BtfError('.BTF', 0, `${bytes.length} bytes is too short for the 24-byte header`);
  const hdrLen = view.getUint32(4, le);
  if (hdrLen < HEADER_MIN || hdrLen > bytes.length) throw new BtfError('.BTF', 4, `header length ${hdrLen} is invalid`);
  const typeOff = view.getUint32(8, le);
  const typeLen = view.getUint32(12, le);
  const strOff = view.getUint32(16, le);
  const strLen = view.getUint32(20, le);
  const typeStart = hdrLen + typeOff;
  const strStart = hdrLen + strOff;
  if (typeStart + typeLen > bytes.length) throw new BtfError('.BTF', 12, `type section [${typeStart}, +${typeLen}) runs past the ${bytes.length}-byte section`);
  if (strStart + strLen > bytes.length) throw new BtfError('.BTF', 20, `string section [${strStart}, +${strLen}) runs past the ${bytes.length}-byte section`);
  if (typeLen % 4 !== 0) throw new BtfError('.BTF', 12, `type section length ${typeLen} is not a multiple of 4`);
  if (strLen > 0 && bytes[strStart + strLen - 1] !== 0) throw new BtfError('.BTF', strStart + strLen - 1, 'the string table does not end with NUL');
  const strings = new StringTable(bytes.subarray(strStart, strStart + strLen), '.BTF', strStart);

  const types: BtfType[] = [{ kind: 'void', id: 0, name: '' }];
  const end = typeStart + typeLen;
  let p = typeStart;
  const need = (n: number, what: string): void => {
    if (p + n > end) throw new BtfError('.BTF', p, `${what} runs past the end of the type section`);
  };
  const u32 = (): number => { const v = view.getUint32(p, le); p += 4; return v; };
  const i32 = (): number => { const v = view.getInt32(p, le); p += 4; return v; };
  while (p < end) {
    const at = p;
    const id = types.length;
    if (id >= MAX_TYPES) throw new BtfError('.BTF', at, `more than ${MAX_TYPES} types`);
    need(12, `type ${id}`);
    const name = strings.get(u32(), at);
    const info = u32();
    const sizeOrType = u32();
    const vlen = info & 0xffff;
    const kindNo = (info >>> 24) & 0x1f;
    const kflag = (info >>> 31) === 1;
    const kind = KIND_NAMES[kindNo];
    if (kind === undefined || kind === 'void') throw new BtfError('.BTF', at + 4, `type ${id} has unknown kind ${kindNo}`);
    switch (kind) {
      case 'int': {
        need(4, `int ${id}`);
        const e = u32();
        const enc = (e >>> 24) & 0x0f;
        types.push({
          kind, id, name, size: sizeOrType,
          signed: (enc & 1) !== 0, char: (enc & 2) !== 0, bool: (enc & 4) !== 0,
          offset: (e >>> 16) & 0xff, bits: e & 0xff,
        });
        break;
      }
      case 'ptr':
        types.push({ kind, id, name, type: sizeOrType });
        break;
      case 'array': {
        need(12, `array ${id}`);
        types.push({ kind, id, name, type: u32(), indexType: u32(), nelems: u32() });
        break;
      }
      case 'struct':
      case 'union': {
        need(12 * vlen, `${kind} ${id} members`);
        const members = [];
        for (let k = 0; k < vlen; k++) {
          const mAt = p;
          const mName = strings.get(u32(), mAt);
          const type = u32();
          const off = u32();
          members.push(kflag
            ? { name: mName, type, bitOffset: off & 0xffffff, bitSize: off >>> 24 }
            : { name: mName, type, bitOffset: off, bitSize: 0 });
        }
        types.push({ kind, id, name, size: sizeOrType, bitfields: kflag, members });
        break;
      }
      case 'enum': {
        need(8 * vlen, `enum ${id} values`);
        const values = [];
        for (let k = 0; k < vlen; k++) {
          const vAt = p;
          const vName = strings.get(u32(), vAt);
          const raw = kflag ? i32() : u32();
          values.push({ name: vName, value: BigInt(raw) });
        }
        types.push({ kind, id, name, size: sizeOrType, signed: kflag, values });
        break;
      }
      case 'enum64': {
        need(12 * vlen, `enum64 ${id} values`);
        const values = [];
        for (let k = 0; k < vlen; k++) {
          const vAt = p;
          const vName = strings.get(u32(), vAt);
          const lo = BigInt(u32());
          const hi = BigInt(u32());
          const v = (hi << 32n) | lo;
          values.push({ name: vName, value: kflag ? BigInt.asIntN(64, v) : v });
        }
        types.push({ kind, id, name, size: sizeOrType, signed: kflag, values });
        break;
      }
      case 'fwd':
        types.push({ kind, id, name, union: kflag });
        break;
      case 'typedef':
      case 'volatile':
      case 'const':
      case 'restrict':
      case 'type_tag':
        types.push({ kind, id, name, type: sizeOrType });
        break;
      case 'func': {
        const linkage = FUNC_LINKAGE[vlen];
        if (linkage === undefined) throw new BtfError('.BTF', at + 4, `func ${id} has unknown linkage ${vlen}`);
        types.push({ kind, id, name, type: sizeOrType, linkage });
        break;
      }
      case 'func_proto': {
        need(8 * vlen, `func_proto ${id} params`);
        const params = [];
        for (let k = 0; k < vlen; k++) {
          const pAt = p;
          params.push({ name: strings.get(u32(), pAt), type: u32() });
        }
        types.push({ kind, id, name, returnType: sizeOrType, params });
        break;
      }
      case 'var': {
        need(4, `var ${id}`);
        const l = u32();
        const linkage = VAR_LINKAGE[l];
        if (linkage === undefined) throw new BtfError('.BTF', p - 4, `var ${id} has unknown linkage ${l}`);
        types.push({ kind, id, name, type: sizeOrType, linkage });
        break;
      }
      case 'datasec': {
        need(12 * vlen, `datasec ${id} entries`);
        const vars = [];
        for (let k = 0; k < vlen; k++) vars.push({ type: u32(), offset: u32(), size: u32() });
        types.push({ kind, id, name, size: sizeOrType, vars });
        break;
      }
      case 'float':
        types.push({ kind, id, name, size: sizeOrType });
        break;
      case 'decl_tag': {
        need(4, `decl_tag ${id}`);
        types.push({ kind, id, name, type: sizeOrType, componentIdx: i32() });
        break;
      }
    }
  }
  // Every reference must name an existing type.
  const n = types.length;
  const check = (from: BtfType, ref: number, what: string): void => {
    if (ref < 0 || ref >= n) throw new BtfError('.BTF', typeStart, `type ${from.id} (${from.kind} ${from.name || '(anon)'}) refers to ${what} type ${ref}, but there are only ${n} types`);
  };
  for (const t of types) {
    switch (t.kind) {
      case 'ptr': case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag':
      case 'func': case 'var': case 'decl_tag':
        check(t, t.type, 'target'); break;
      case 'array': check(t, t.type, 'element'); check(t, t.indexType, 'index'); break;
      case 'struct': case 'union': for (const m of t.members) check(t, m.type, `member ${m.name}`); break;
      case 'func_proto': check(t, t.returnType, 'return'); for (const q of t.params) check(t, q.type, 'parameter'); break;
      case 'datasec': for (const v of t.vars) check(t, v.type, 'variable'); break;
      default: break;
    }
  }
  return { types, littleEndian: le, strings };
}
