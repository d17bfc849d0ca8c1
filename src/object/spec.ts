/**
 * `ObjectSpec`: what a libbpf-style ELF object describes, as inert data that
 * can be inspected and edited before it is loaded into a backend (the vm or
 * the kernel). Nothing here holds a file descriptor or an address.
 */
import type { Instruction } from '../isa/index.js';
import type { Btf, BtfExt } from '../btf/index.js';
import type { ProgTypeName } from './kinds.js';

/** libbpf's `pinning` attribute: `LIBBPF_PIN_NONE` or `LIBBPF_PIN_BY_NAME`. */
export type Pinning = 'none' | 'by_name';

/** One initial element of a map (a prog_array slot, a map-in-map slot, ...). */
export interface MapInit {
  /** The key as raw bytes (array-like maps: the u32 index, little-endian). */
  readonly key: Uint8Array;
  /** Raw value bytes, or the name of the program / inner map the slot refers to. */
  readonly value: Uint8Array | { readonly program: string } | { readonly map: string };
}

export interface MapSpec {
  /**
   * The map's name: the C variable for `.maps`/`maps`, and libbpf's internal
   * name for global data (the object's name, truncated, then `.rodata`,
   * `.data`, `.bss`, `.kconfig`, ...), at most 15 characters.
   */
  name: string;
  /** The ELF section the map came from (`.maps`, `maps`, `.rodata`, `.data.foo`, ...). */
  readonly section: string;
  /** `enum bpf_map_type` (see `MapType`). */
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** `map_flags` (see `MapFlag`). `.rodata` carries `RDONLY_PROG`. */
  flags: number;
  pinning: Pinning;
  /** `map_extra` (the bloom filter's hash count, arena address). */
  mapExtra: bigint;
  numaNode: number;
  /** BTF type ids of key and value in the object's BTF, when known (0 = none). */
  keyTypeId: number;
  valueTypeId: number;
  /** The template for the inner maps of array_of_maps / hash_of_maps. */
  innerMap: MapSpec | null;
  /** Initial elements (prog_array and map-in-map slots from `.values`). */
  init: MapInit[];
  /**
   * For global data (`.rodata`, `.data`, `.bss`, `.kconfig`): the single
   * value's initial bytes, which may be edited before load. `null` otherwise.
   */
  data: Uint8Array | null;
  /** For global data: the variables it holds, by name, with offset, size and BTF type id. */
  variables: GlobalVariable[];
  /** True for read-only global data (`.rodata*`, `.kconfig`), which is frozen after load. */
  readonly: boolean;
}

export interface GlobalVariable {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  /** BTF type id of the variable's type (0 when the object has no BTF). */
  readonly typeId: number;
}

/** An instruction that refers to a map: `lddw rX, map` or `lddw rX, map + offset`. */
export interface MapReference {
  /** Instruction index (an index into `ProgramSpec.insns`, not a slot). */
  readonly insn: number;
  /** The referenced map's name. */
  readonly map: string;
  /** `fd`: the instruction loads the map itself (src = PSEUDO_MAP_FD); `value`: an address inside its value (src = PSEUDO_MAP_VALUE, imm2 = offset). */
  readonly kind: 'fd' | 'value';
  readonly offset: number;
}

/** An instruction that refers to an extern (`__ksym` variable or kfunc, `__kconfig` variable). */
export interface ExternReference {
  readonly insn: number;
  readonly name: string;
}

export interface ExternSpec {
  readonly name: string;
  readonly kind: 'ksym' | 'kfunc' | 'kconfig';
  /** True for `__weak` externs, which may stay unresolved. */
  readonly weak: boolean;
  /** BTF type id of the extern's VAR or FUNC (0 without BTF). */
  readonly typeId: number;
  /** For `kconfig`: offset of the variable in the `.kconfig` map's value. */
  readonly offset: number;
  readonly size: number;
}

export interface FuncInfo {
  /** Instruction index where the function starts. */
  readonly insn: number;
  readonly typeId: number;
  readonly name: string;
}

export interface LineInfo {
  /** Instruction index the line applies to, up to the next entry. */
  readonly insn: number;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The source line's text, as BTF recorded it. */
  readonly text: string;
}

export interface CoreRelocation {
  readonly insn: number;
  /** Root type id in the object's BTF. */
  readonly typeId: number;
  /** The access string, such as `0:1:2`. */
  readonly access: string;
  /** `enum bpf_core_relo_kind` (0 = FIELD_BYTE_OFFSET ...). */
  readonly kind: number;
}

export interface ProgramSpec {
  /** The C function's name. */
  name: string;
  /** The full ELF section name (`xdp`, `tracepoint/syscalls/sys_enter_openat`, ...). */
  readonly section: string;
  /** Program type, from the section name by libbpf's rules. */
  type: ProgTypeName;
  /** `enum bpf_attach_type` to pass at load, or null. */
  expectedAttachType: number | null;
  /**
   * What the section names as the attach target: the tracepoint
   * (`syscalls/sys_enter_openat`), the uprobe (`/bin/bash:readline`), the
   * kprobe function, the iter name, or `''`.
   */
  attachTo: string;
  /** True when libbpf treats the section as sleepable (`.s` suffix). */
  sleepable: boolean;
  /**
   * The program, linked: its own instructions followed by every subprogram
   * it calls (from any section), with call offsets fixed. Map and extern
   * references keep src/imm as the loader left them; a backend resolves them
   * through `maps` and `externs`.
   */
  insns: Instruction[];
  readonly maps: MapReference[];
  readonly externs: ExternReference[];
  readonly funcInfo: FuncInfo[];
  readonly lineInfo: LineInfo[];
  readonly coreRelos: CoreRelocation[];
  license: string;
  kernelVersion: number;
}

export interface ObjectSpec {
  /** The object's name (file name without `.o`), as libbpf uses it for internal maps. */
  readonly name: string;
  /** Programs by function name, in section and offset order. */
  readonly programs: Map<string, ProgramSpec>;
  /** Maps by name: `.maps`/`maps` first, then global data, in section order. */
  readonly maps: Map<string, MapSpec>;
  readonly externs: ExternSpec[];
  license: string;
  kernelVersion: number;
  /** The object's BTF (`.BTF`), or null when it has none. */
  readonly btf: Btf | null;
  readonly btfExt: BtfExt | null;
}
