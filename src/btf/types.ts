/**
 * The BTF type model: one object per type, indexed by type id (0 is void).
 * Names are decoded strings; references are type ids. The objects are plain
 * and mutable, so a loader can fix them up (DATASEC sizes, sanitising) and
 * encode them again.
 */

export const BtfKind = {
  UNKN: 0,
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const;

export type BtfKindName =
  | 'void' | 'int' | 'ptr' | 'array' | 'struct' | 'union' | 'enum' | 'fwd' | 'typedef' | 'volatile'
  | 'const' | 'restrict' | 'func' | 'func_proto' | 'var' | 'datasec' | 'float' | 'decl_tag' | 'type_tag' | 'enum64';

export const KIND_NAMES: readonly BtfKindName[] = [
  'void', 'int', 'ptr', 'array', 'struct', 'union', 'enum', 'fwd', 'typedef', 'volatile',
  'const', 'restrict', 'func', 'func_proto', 'var', 'datasec', 'float', 'decl_tag', 'type_tag', 'enum64',
];

export interface BtfVoid { kind: 'void'; id: 0; name: '' }
export interface BtfInt {
  kind: 'int'; id: number; name: string;
  /** Bytes of storage. */
  size: number;
  signed: boolean; char: boolean; bool: boolean;
  /** Bit offset and width of the value inside its storage (bitfield-like ints). */
  offset: number; bits: number;
}
export interface BtfPtr { kind: 'ptr'; id: number; name: string; type: number }
export interface BtfArray { kind: 'array'; id: number; name: string; type: number; indexType: number; nelems: number }
export interface BtfMember {
  name: string; type: number;
  /** Offset in bits from the start of the struct. */
  bitOffset: number;
  /** Bitfield width, or 0 for a plain member. */
  bitSize: number;
}
export interface BtfComposite {
  kind: 'struct' | 'union'; id: number; name: string; size: number;
  /** True when member offsets carry bitfield sizes (the kind_flag). */
  bitfields: boolean;
  members: BtfMember[];
}
export interface BtfEnumValue { name: string; value: bigint }
export interface BtfEnum { kind: 'enum' | 'enum64'; id: number; name: string; size: number; signed: boolean; values: BtfEnumValue[] }
export interface BtfFwd { kind: 'fwd'; id: number; name: string; union: boolean }
export interface BtfRef { kind: 'typedef' | 'volatile' | 'const' | 'restrict' | 'type_tag'; id: number; name: string; type: number }
export type FuncLinkage = 'static' | 'global' | 'extern';
export interface BtfFunc { kind: 'func'; id: number; name: string; type: number; linkage: FuncLinkage }
export interface BtfParam { name: string; type: number }
export interface BtfFuncProto { kind: 'func_proto'; id: number; name: string; returnType: number; params: BtfParam[] }
export type VarLinkage = 'static' | 'global' | 'extern';
export interface BtfVar { kind: 'var'; id: number; name: string; type: number; linkage: VarLinkage }
export interface BtfVarSecinfo { type: number; offset: number; size: number }
export interface BtfDatasec { kind: 'datasec'; id: number; name: string; size: number; vars: BtfVarSecinfo[] }
export interface BtfFloat { kind: 'float'; id: number; name: string; size: number }
export interface BtfDeclTag { kind: 'decl_tag'; id: number; name: string; type: number; componentIdx: number }

export type BtfType =
  | BtfVoid | BtfInt | BtfPtr | BtfArray | BtfComposite | BtfEnum | BtfFwd | BtfRef
  | BtfFunc | BtfFuncProto | BtfVar | BtfDatasec | BtfFloat | BtfDeclTag;

/** Kinds that only qualify or rename another type. */
export const isModifier = (t: BtfType): t is BtfRef =>
  t.kind === 'typedef' || t.kind === 'const' || t.kind === 'volatile' || t.kind === 'restrict' || t.kind === 'type_tag';
