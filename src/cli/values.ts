/** Values shown to users: BTF-decoded where the object has BTF, raw hex otherwise. */
import { decodeValue, toJson, type Btf } from '../btf/index.js';
import { toHex } from './hex.js';

/** A global variable's value for display (JSON-ready), or its bytes as hex without BTF. */
export function formatGlobal(btf: Btf | null, typeId: number, bytes: Uint8Array): unknown {
  if (btf === null || typeId === 0) return toHex(bytes);
  try {
    return toJson(decodeValue(btf, typeId, bytes));
  } catch {
    return toHex(bytes);
  }
}
