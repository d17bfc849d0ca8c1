/**
 * Decodes `.BTF.ext`: per-section func_info, line_info and CO-RE relocation
 * records. Instruction offsets here are bytes, as in the section; the object
 * loader turns them into instruction indices.
 */
import { BtfError } from './errors.js';
import { headerEndian } from './parse.js';
import type { StringTable } from './strings.js';
import type { Btf } from './btf.js';

export interface ExtFuncInfo { readonly insnOff: number; readonly typeId: number }
export interface ExtLineInfo { readonly insnOff: number; readonly file: string; readonly text: string; readonly line: number; readonly column: number }
export interface ExtCoreRelo { readonly insnOff: number; readonly typeId: number; readonly access: string; readonly kind: number }

/** Records by ELF section name. */
export interface BtfExt {
  readonly funcInfo: Map<string, ExtFuncInfo[]>;
  readonly lineInfo: Map<string, ExtLineInfo[]>;
  readonly coreRelos: Map<string, ExtCoreRelo[]>;
}

/** `.BTF.ext` strings live in `.BTF`'s string table, so it needs the parsed `.BTF`. */
export function parseBtfExt(bytes: Uint8Array, btf: Btf): BtfExt {
  const strings: StringTable | null = btf.strings;
  if (strings === null) throw new BtfError('.BTF.ext', 0, 'the .BTF it refers to has no string table');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = headerEndian(view, '.BTF.ext');
  if (bytes.length < 24) throw new BtfError('.BTF.ext', 0, `${bytes.length} bytes is too short for the header`);
  const hdrLen = view.getUint32(4, le);
  if (hdrLen < 24 || hdrLen > bytes.length) throw new BtfError('.BTF.ext', 4, `header length ${hdrLen} is invalid`);
  const str = (off: number, at: number): string => {
    try {
      return strings.get(off, at);
    } catch (e) {
      throw new BtfError('.BTF.ext', at, `string offset ${off}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const block = <T>(offField: number, minRec: number, what: string, rec: (p: number) => T): Map<string, T[]> => {
    const out = new Map<string, T[]>();
    if (offField + 8 > hdrLen) return out;
    const off = view.getUint32(offField, le);
    const len = view.getUint32(offField + 4, le);
    if (len === 0) return out;
    const start = hdrLen + off;
    const end = start + len;
    if (end > bytes.length || len < 4) throw new BtfError('.BTF.ext', offField, `${what} [${start}, +${len}) runs past the ${bytes.length}-byte section`);
    const recSize = view.getUint32(start, le);
    if (recSize < minRec || recSize % 4 !== 0) throw new BtfError('.BTF.ext', start, `${what} record size ${recSize} is invalid (at least ${minRec})`);
    let p = start + 4;
    while (p < end) {
      if (p + 8 > end) throw new BtfError('.BTF.ext', p, `${what} section header runs past its block`);
      const sec = str(view.getUint32(p, le), p);
      const n = view.getUint32(p + 4, le);
      p += 8;
      if (n * recSize > end - p) throw new BtfError('.BTF.ext', p - 4, `${what} for ${sec}: ${n} records of ${recSize} bytes run past the block`);
      const list = out.get(sec) ?? [];
      for (let k = 0; k < n; k++, p += recSize) list.push(rec(p));
      out.set(sec, list);
    }
    return out;
  };
  const funcInfo = block(8, 8, 'func_info', (p) => ({ insnOff: view.getUint32(p, le), typeId: view.getUint32(p + 4, le) }));
  const lineInfo = block(16, 16, 'line_info', (p) => {
    const lc = view.getUint32(p + 12, le);
    return {
      insnOff: view.getUint32(p, le),
      file: str(view.getUint32(p + 4, le), p + 4),
      text: str(view.getUint32(p + 8, le), p + 8),
      line: lc >>> 10,
      column: lc & 0x3ff,
    };
  });
  const coreRelos = block(24, 16, 'core_relo', (p) => ({
    insnOff: view.getUint32(p, le),
    typeId: view.getUint32(p + 4, le),
    access: str(view.getUint32(p + 8, le), p + 8),
    kind: view.getUint32(p + 12, le),
  }));
  return { funcInfo, lineInfo, coreRelos };
}
