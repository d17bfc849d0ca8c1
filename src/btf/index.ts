// BTF: the type format of eBPF objects and the kernel (.BTF and .BTF.ext).
export { Btf } from './btf.js';
export { parseBtfExt } from './ext.js';
export type { BtfExt, ExtFuncInfo, ExtLineInfo, ExtCoreRelo } from './ext.js';
export { encodeBtf } from './encode.js';
export { BtfError } from './errors.js';
export { BtfKind, KIND_NAMES, isModifier } from './types.js';
export type * from './types.js';
export { decodeValue, encodeValue, BtfValueError } from './value.js';
export type { BtfValue, BtfObject, BtfInput } from './value.js';
export { toJson, formatValue } from './value-format.js';
export {
  applyCoreRelos, resolveCoreRelo, calcCoreRelo, patchCoreInsn, poisonInstruction, CoreError, CoreReloKind, coreKindName,
  essentialName, CORE_POISON,
} from './core.js';
export type { CoreRelo, CoreOptions, CoreResolution } from './core.js';
