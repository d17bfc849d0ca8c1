/**
 * `KernelMap`: a map in the kernel that owns its fd, with the element
 * operations of bpf(2) on raw bytes. Batch operations live in map-batch.ts.
 */
import { TsbpfError } from '../errors.js';
import { MapType, UpdateFlag, mapTypeName } from '../object/kinds.js';
import { BpfCommand, commandName } from './constants.js';
import { possibleCpus } from './cpus.js';
import { KernelError } from './errors.js';
import { type MapInfo, mapInfo } from './info.js';
import {
  type MapCreateOptions,
  type MapDefinition,
  createMapFd,
  effectiveMaxEntries,
  isPerCpuMap,
  resolveMapType,
  sanitizeObjectName,
} from './map-create.js';
import { OwnedFd } from './owned-fd.js';
import { addressOf, bpfRaw } from './syscall.js';
import * as batch from './map-batch.js';

const ENOENT = 2;
/** `sizeof` the element-operation part of `bpf_attr` (map_fd, key, value/next_key, flags). */
const ELEM_ATTR_SIZE = 32;

export type MapValue = Uint8Array | readonly Uint8Array[];

/** A map in the kernel. Close it with `close()`, or declare it with `using`. */
export class KernelMap extends OwnedFd {
  /** The name the kernel knows (sanitised). */
  readonly name: string;
  readonly type: number;
  readonly keySize: number;
  /** The value size of one element (of one CPU's slot, for per-CPU maps). */
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  /** Per-CPU maps hold one value per possible CPU. */
  readonly perCpu: boolean;
  /** True when the kernel took the map's key/value BTF. */
  readonly withBtf: boolean;

  constructor(fd: number, def: MapDefinition, withBtf = false) {
    super(fd);
    this.name = sanitizeObjectName(def.name ?? '');
    this.type = resolveMapType(def.type);
    this.keySize = def.keySize;
    this.valueSize = def.valueSize;
    this.maxEntries = effectiveMaxEntries(def);
    this.flags = def.flags ?? 0;
    this.perCpu = isPerCpuMap(this.type);
    this.withBtf = withBtf;
  }

  /** Creates a map with BPF_MAP_CREATE (see `createMapFd` for the BTF and inner-map rules). */
  static create(def: MapDefinition, opts: MapCreateOptions = {}): KernelMap {
    const { fd, withBtf } = createMapFd(def, opts);
    return new KernelMap(fd, def, withBtf);
  }

  protected closedError(): TsbpfError {
    return new TsbpfError('ECLOSED', `map "${this.name}" has been closed`, { map: this.name });
  }

  /** What the kernel says about the map (id, name, BTF ids...). */
  info(): MapInfo {
    return mapInfo(this.fd);
  }

  get typeName(): string {
    return mapTypeName(this.type);
  }

  /** Number of CPUs a per-CPU value spans (1 for other maps). */
  get cpus(): number {
    return this.perCpu ? possibleCpus() : 1;
  }

  /** Bytes of one CPU's slot in a per-CPU value (the value size rounded up to 8). */
  get slotSize(): number {
    return this.perCpu ? (this.valueSize + 7) & ~7 : this.valueSize;
  }

  /** Bytes of a value as bpf(2) reads and writes it: the value size, or CPUs × slot size for per-CPU maps. */
  get valueBytes(): number {
    return this.perCpu ? this.cpus * this.slotSize : this.valueSize;
  }

  /** Splits a per-CPU value into one `valueSize` array per CPU. */
  splitPerCpu(value: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let c = 0; c < this.cpus; c++) out.push(value.slice(c * this.slotSize, c * this.slotSize + this.valueSize));
    return out;
  }

  /** Checks a key's length (null or empty for maps without keys) and copies it. */
  keyBytes(key: Uint8Array | null): Uint8Array {
    const k = key ?? new Uint8Array(0);
    if (k.byteLength !== this.keySize) {
      throw new TsbpfError('EMAPARG', `map "${this.name}" has ${this.keySize}-byte keys, got ${k.byteLength} bytes`, {
        map: this.name, keySize: this.keySize, got: k.byteLength,
      });
    }
    return k.slice();
  }

  /**
   * The bytes passed as a value: `valueSize` bytes, or for per-CPU maps the
   * full layout (`valueBytes`) or an array with one `valueSize` value per CPU.
   */
  valueBuffer(value: MapValue): Uint8Array {
    if (Array.isArray(value) || !(value instanceof Uint8Array)) {
      const parts = value as readonly Uint8Array[];
      if (!this.perCpu || parts.length !== this.cpus || parts.some((p) => p.byteLength !== this.valueSize)) {
        throw new TsbpfError('EMAPARG', `map "${this.name}" takes ${this.perCpu ? `${this.cpus} values of ${this.valueSize} bytes` : 'one value'}`, {
          map: this.name, cpus: this.cpus, valueSize: this.valueSize,
        });
      }
      const out = new Uint8Array(this.valueBytes);
      parts.forEach((p, c) => out.set(p, c * this.slotSize));
      return out;
    }
    if (value.byteLength !== this.valueBytes) {
      throw new TsbpfError('EMAPARG', `map "${this.name}" takes ${this.valueBytes}-byte values${this.perCpu ? ` (${this.cpus} CPUs × ${this.slotSize})` : ''}, got ${value.byteLength} bytes`, {
        map: this.name, valueBytes: this.valueBytes, got: value.byteLength,
      });
    }
    return value.slice();
  }

  /** One element command; returns the raw result (negative errno on failure). */
  private elem(cmd: number, key: Uint8Array | null, value: Uint8Array | null, flags: bigint): number {
    const attr = new Uint8Array(ELEM_ATTR_SIZE);
    const v = new DataView(attr.buffer);
    v.setUint32(0, this.fd, true);
    v.setBigUint64(8, key ? addressOf(key) : 0n, true);
    v.setBigUint64(16, value ? addressOf(value) : 0n, true);
    v.setBigUint64(24, flags, true);
    return bpfRaw(cmd, attr);
  }

  fail(cmd: number, errno: number): KernelError {
    return new KernelError(commandName(cmd), errno, '', `map "${this.name}" (${this.typeName})`);
  }

  /** The value at `key`, or null when there is none (ENOENT). Maps without keys (queue, stack) peek. */
  lookup(key: Uint8Array | null, flags = 0): Uint8Array | null {
    const k = this.keyBytes(key);
    const out = new Uint8Array(this.valueBytes);
    const ret = this.elem(BpfCommand.BPF_MAP_LOOKUP_ELEM, k.byteLength ? k : null, out, BigInt(flags));
    if (ret === -ENOENT) return null;
    if (ret < 0) throw this.fail(BpfCommand.BPF_MAP_LOOKUP_ELEM, -ret);
    return out;
  }

  /** Per-CPU maps: the value of each CPU, or null when there is none. */
  lookupPerCpu(key: Uint8Array): Uint8Array[] | null {
    const v = this.lookup(key);
    return v === null ? null : this.splitPerCpu(v);
  }

  /** Writes `value` at `key` (`UpdateFlag.ANY`, `NOEXIST`, `EXIST`, `F_LOCK`). */
  update(key: Uint8Array | null, value: MapValue, flags: number = UpdateFlag.ANY): void {
    const k = this.keyBytes(key);
    const val = this.valueBuffer(value);
    const ret = this.elem(BpfCommand.BPF_MAP_UPDATE_ELEM, k.byteLength ? k : null, val, BigInt(flags));
    if (ret < 0) throw this.fail(BpfCommand.BPF_MAP_UPDATE_ELEM, -ret);
  }

  /** Deletes `key`; returns false when it was not there (ENOENT). */
  delete(key: Uint8Array): boolean {
    const k = this.keyBytes(key);
    const ret = this.elem(BpfCommand.BPF_MAP_DELETE_ELEM, k, null, 0n);
    if (ret === -ENOENT) return false;
    if (ret < 0) throw this.fail(BpfCommand.BPF_MAP_DELETE_ELEM, -ret);
    return true;
  }

  /** The key after `key` (the first key for null), or null at the end. */
  nextKey(key: Uint8Array | null): Uint8Array | null {
    const k = key === null ? null : this.keyBytes(key);
    const out = new Uint8Array(this.keySize);
    const ret = this.elem(BpfCommand.BPF_MAP_GET_NEXT_KEY, k, out, 0n);
    if (ret === -ENOENT) return null;
    if (ret < 0) throw this.fail(BpfCommand.BPF_MAP_GET_NEXT_KEY, -ret);
    return out;
  }

  /** Every key, in the kernel's order (BPF_MAP_GET_NEXT_KEY). */
  *keys(): Generator<Uint8Array> {
    for (let k = this.nextKey(null); k !== null; k = this.nextKey(k)) yield k;
  }

  /** Every key with its value; keys deleted while iterating are skipped. */
  *entries(): Generator<[Uint8Array, Uint8Array]> {
    for (const k of this.keys()) {
      const v = this.lookup(k);
      if (v !== null) yield [k, v];
    }
  }

  /** Removes `key` and returns its value, or null when it was not there. Queue/stack: pop (key null). */
  lookupAndDelete(key: Uint8Array | null, flags = 0): Uint8Array | null {
    const k = this.keyBytes(key);
    const out = new Uint8Array(this.valueBytes);
    const ret = this.elem(BpfCommand.BPF_MAP_LOOKUP_AND_DELETE_ELEM, k.byteLength ? k : null, out, BigInt(flags));
    if (ret === -ENOENT) return null;
    if (ret < 0) throw this.fail(BpfCommand.BPF_MAP_LOOKUP_AND_DELETE_ELEM, -ret);
    return out;
  }

  /** Queue, stack: adds a value (`UpdateFlag.EXIST` replaces the oldest when full). Bloom filter: adds it. */
  push(value: Uint8Array, flags: number = UpdateFlag.ANY): void {
    this.update(null, value, flags);
  }

  /** Queue, stack: the next value without removing it, or null when empty. */
  peek(): Uint8Array | null {
    return this.lookup(null);
  }

  /** Queue, stack: removes and returns the next value, or null when empty. */
  pop(): Uint8Array | null {
    return this.lookupAndDelete(null);
  }

  /** Bloom filter: false when `value` was certainly never added, true when it may have been. */
  mayContain(value: Uint8Array): boolean {
    if (this.type !== MapType.BLOOM_FILTER) {
      throw new TsbpfError('EMAPARG', `map "${this.name}" is a ${this.typeName}, not a bloom filter`, { map: this.name });
    }
    const val = this.valueBuffer(value);
    const ret = this.elem(BpfCommand.BPF_MAP_LOOKUP_ELEM, null, val, 0n);
    if (ret === -ENOENT) return false;
    if (ret < 0) throw this.fail(BpfCommand.BPF_MAP_LOOKUP_ELEM, -ret);
    return true;
  }

  /** Makes the map read-only for user space (BPF_MAP_FREEZE); programs still see it as before. */
  freeze(): void {
    const attr = new Uint8Array(4);
    new DataView(attr.buffer).setUint32(0, this.fd, true);
    const ret = bpfRaw(BpfCommand.BPF_MAP_FREEZE, attr);
    if (ret < 0) throw this.fail(BpfCommand.BPF_MAP_FREEZE, -ret);
  }

  /** Every entry, fetched `chunk` at a time with BPF_MAP_LOOKUP_BATCH (element by element where unsupported). */
  lookupBatch(chunk?: number): Array<[Uint8Array, Uint8Array]> {
    return batch.lookupBatch(this, { chunk, andDelete: false });
  }

  /** Every entry, removed as it is read (BPF_MAP_LOOKUP_AND_DELETE_BATCH, or element by element). */
  lookupAndDeleteBatch(chunk?: number): Array<[Uint8Array, Uint8Array]> {
    return batch.lookupBatch(this, { chunk, andDelete: true });
  }

  /** Writes every entry (BPF_MAP_UPDATE_BATCH, or element by element); returns how many were written. */
  updateBatch(entries: Iterable<readonly [Uint8Array, MapValue]>, flags: number = UpdateFlag.ANY): number {
    return batch.updateBatch(this, entries, flags);
  }

  /** Deletes the keys (BPF_MAP_DELETE_BATCH, or element by element); returns how many were deleted. */
  deleteBatch(keys: Iterable<Uint8Array>): number {
    return batch.deleteBatch(this, keys);
  }
}
