/**
 * The common shape of every vm map: `VmMap`. A map lives in one
 * `AddressSpace`; its values sit in regions of that space, so the pointers
 * programs get from `lookup` are real addresses that the interpreter and the
 * JIT check like any other. Each map also has a `handle`: an address reserved
 * in the space but covered by no region, which is what `lddw rX, map` loads.
 * A program that dereferences it faults.
 *
 * Two sides, as in the kernel:
 * - program side (what helpers call): `lookup`, `update`, `delete`, `push`,
 *   `pop`, `peek`, ... take addresses (or bytes) and return what the kernel's
 *   helpers return: an address or 0, 0 or a negative errno.
 * - user side (what the API and the CLI call): `lookupValue`, `updateValue`,
 *   `deleteKey`, `nextKey`, batches, ... take and return bytes, and throw a
 *   `MapError` carrying the errno the kernel's bpf(2) would give.
 */
import { MapFlag, mapTypeName } from '../../object/kinds.js';
import type { AddressSpace } from '../address-space.js';
import { round8 } from './bytes.js';
import { Errno, type ErrnoName, MapError, errnoName } from './errno.js';
import { registry } from './space.js';

export { Errno, type ErrnoName, errnoName, MapError } from './errno.js';
export { ANY, NOEXIST, EXIST, flagsOf, round8, u32At, u32Bytes, keyString } from './bytes.js';
export { mapAt, mapsIn, mapRegion, registerMap } from './space.js';

/** An address as a helper gets it (a register value) or as host code has it. */
export type Addr = number | bigint;
/** A key or value argument of a program-side operation: an address, or the bytes themselves. */
export type BytesArg = Addr | Uint8Array;
/** Per-CPU values for percpu maps, one per CPU, each `valueSize` bytes. */
export type PerCpuValues = readonly Uint8Array[];

/** What a vm map is made from: the fields of `MapSpec` that matter to it. */
export interface MapDesc {
  name: string;
  /** `enum bpf_map_type` (`MapType`). */
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** `map_flags` (`MapFlag`). */
  flags: number;
  /** `map_extra` (the bloom filter's number of hashes in its low 4 bits). */
  mapExtra?: bigint;
  /** The template of the inner maps (array_of_maps, hash_of_maps). */
  innerMap?: MapDesc | null;
  /** Initial bytes of the single value of a global-data array (`.data`, `.rodata`, ...). */
  data?: Uint8Array | null;
}

export interface MapOptions {
  /** Number of virtual CPUs: percpu maps keep one value per CPU. */
  cpus: number;
  /** Bytes each CPU's perf buffer holds before samples are lost (perf_event_array); default 256 KiB. */
  perfBufferBytes?: number;
}

/** Where a batch stopped; pass it back to continue. Opaque. */
export interface BatchCursor {
  readonly after: Uint8Array | null;
}
export interface BatchResult {
  readonly keys: Uint8Array[];
  readonly values: Uint8Array[];
  /** Where to continue, or null when the map has no more elements. */
  readonly next: BatchCursor | null;
}

const ACCESS_READ_BLOCKED = MapFlag.WRONLY;
const ACCESS_WRITE_BLOCKED = MapFlag.RDONLY;

export abstract class VmMap {
  readonly space: AddressSpace;
  readonly name: string;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly mapExtra: bigint;
  readonly cpus: number;
  /** The address `lddw rX, map` loads: reserved, never mapped. */
  readonly handle: number;
  /** A small number unique in the address space (what bpf(2) calls the map id). */
  readonly id: number;
  /** True for percpu maps: one value per CPU. */
  readonly percpu: boolean = false;
  private frozenFlag = false;

  constructor(space: AddressSpace, desc: MapDesc, opts: MapOptions) {
    this.space = space;
    this.name = desc.name;
    this.type = desc.type;
    this.keySize = desc.keySize;
    this.valueSize = desc.valueSize;
    this.maxEntries = desc.maxEntries;
    this.flags = desc.flags;
    this.mapExtra = desc.mapExtra ?? 0n;
    this.cpus = opts.cpus;
    // `createMap` registers the handle once the map is complete.
    this.handle = space.reserve(8);
    this.id = registry(space).nextId++;
  }

  get typeName(): string {
    return mapTypeName(this.type);
  }
  get frozen(): boolean {
    return this.frozenFlag;
  }

  // ---------------------------------------------------------------- program side

  /** `bpf_map_lookup_elem`: the address of the value (this CPU's, for percpu maps), or 0. */
  lookup(_key: BytesArg, _cpu = 0): number {
    return 0;
  }
  /** `bpf_map_lookup_percpu_elem`: the address of `cpu`'s value, or 0 (0 for maps that are not percpu). */
  lookupOnCpu(_key: BytesArg, _cpu: number): number {
    return 0;
  }
  /** `bpf_map_update_elem`: 0 or a negative errno. */
  update(_key: BytesArg, _value: BytesArg, _flags: number | bigint, _cpu = 0): number {
    return -Errno.EINVAL;
  }
  /** `bpf_map_delete_elem`: 0 or a negative errno. */
  delete(_key: BytesArg, _cpu = 0): number {
    return -Errno.EINVAL;
  }
  /** `bpf_map_push_elem` (queue, stack; the bloom filter adds the value). */
  push(_value: BytesArg, _flags: number | bigint, _cpu = 0): number {
    return -Errno.EINVAL;
  }
  /** `bpf_map_pop_elem`: writes the value at `dst`. */
  pop(_dst: Addr, _cpu = 0): number {
    return -Errno.EINVAL;
  }
  /** `bpf_map_peek_elem`: writes the value at `dst` (the bloom filter reads the value to test from it). */
  peek(_dst: Addr, _cpu = 0): number {
    return -Errno.EINVAL;
  }
  /**
   * The elements `bpf_for_each_map_elem` visits: key bytes and the address of
   * the value (this CPU's for percpu maps). A snapshot; callers skip keys the
   * callback deleted by checking `lookup` again if they care.
   */
  elements(_cpu = 0): Array<[Uint8Array, number]> {
    return [];
  }

  // ---------------------------------------------------------------- user side

  /** The value (percpu maps: every CPU's, each padded to 8 bytes, as bpf(2) gives it), or null when there is none. */
  lookupValue(key: Uint8Array): Uint8Array | null {
    this.userKey(key, 'lookup');
    throw this.error('ENOTSUPP', 'lookup', 'lookup is not supported');
  }
  /** Percpu maps: one value per CPU, or null when the key has none. */
  lookupPerCpu(key: Uint8Array): Uint8Array[] | null {
    this.userKey(key, 'lookup');
    throw this.error('EINVAL', 'lookup', 'not a percpu map');
  }
  /**
   * With a key: `lookupPerCpu(key)` (percpu maps). Without: a queue's or
   * stack's values in pop order. Other uses are EINVAL.
   */
  values(key?: Uint8Array): Uint8Array[] | null {
    if (key !== undefined) return this.lookupPerCpu(key);
    throw this.error('EINVAL', 'values', 'only percpu maps (with a key) and queues/stacks list values');
  }
  /** Sets a value. Percpu maps take every CPU's value, as one padded buffer or an array. */
  updateValue(key: Uint8Array, _value: Uint8Array | PerCpuValues, _flags: number | bigint = 0): void {
    this.userKey(key, 'update');
    throw this.error('ENOTSUPP', 'update', 'update is not supported');
  }
  deleteKey(key: Uint8Array): void {
    this.userKey(key, 'delete');
    throw this.error('EINVAL', 'delete', 'delete is not supported');
  }
  /** `BPF_MAP_LOOKUP_AND_DELETE_ELEM`: the value, removed (queue/stack: the popped value). */
  lookupAndDelete(key: Uint8Array): Uint8Array {
    this.userKey(key, 'lookup_and_delete');
    throw this.error('ENOTSUPP', 'lookup_and_delete', 'lookup-and-delete is not supported');
  }
  /**
   * `BPF_MAP_GET_NEXT_KEY`: the key after `key`, the first one when `key` is
   * null (or, for hash maps, not in the map), or null at the end.
   */
  nextKey(key: Uint8Array | null): Uint8Array | null {
    if (key) this.userKey(key, 'get_next_key');
    throw this.error('EINVAL', 'get_next_key', 'the map cannot be iterated');
  }
  /** Every key, in the map's iteration order (the order of `nextKey`). */
  keys(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let k = this.nextKey(null); k !== null && out.length <= this.maxEntries; k = this.nextKey(k)) out.push(k);
    return out;
  }
  /** Every key with its value (`lookupValue`'s format), skipping keys without a value. */
  entries(): Array<[Uint8Array, Uint8Array]> {
    const out: Array<[Uint8Array, Uint8Array]> = [];
    for (const k of this.keys()) {
      const v = this.lookupValue(k);
      if (v) out.push([k, v]);
    }
    return out;
  }

  /** Queue/stack: pushes a value (flags: `BPF_EXIST` overwrites the oldest when full). Bloom filter: adds it. */
  pushValue(_value: Uint8Array, _flags: number | bigint = 0): void {
    throw this.error('EINVAL', 'push', 'push is not supported');
  }
  /** Queue/stack: removes and returns the next value; throws ENOENT when empty. */
  popValue(): Uint8Array {
    throw this.error('ENOTSUPP', 'pop', 'pop is not supported');
  }
  /** Queue/stack: the next value without removing it; throws ENOENT when empty. */
  peekValue(): Uint8Array {
    throw this.error('ENOTSUPP', 'peek', 'peek is not supported');
  }

  /** `BPF_MAP_FREEZE`: bpf(2)-side writes fail with EPERM from now on. */
  freeze(): void {
    // A frozen map, like a user-read-only one, has lost write permission, which
    // the kernel checks first: EPERM (EBUSY is for maps being written).
    if (this.frozenFlag) throw this.error('EPERM', 'freeze', 'already frozen');
    this.canWrite('freeze');
    this.frozenFlag = true;
  }

  // ---------------------------------------------------------------- batches

  /** Which batch operations the kernel offers for this map type. */
  protected batchOps(): { lookup: boolean; lookupAndDelete: boolean; update: boolean; delete: boolean } {
    return { lookup: false, lookupAndDelete: false, update: false, delete: false };
  }

  /** `BPF_MAP_LOOKUP_BATCH`: up to `count` elements after `cursor` (null: from the start). */
  lookupBatch(cursor: BatchCursor | null, count: number): BatchResult {
    return this.batch(cursor, count, false);
  }
  /** `BPF_MAP_LOOKUP_AND_DELETE_BATCH`. */
  lookupAndDeleteBatch(cursor: BatchCursor | null, count: number): BatchResult {
    return this.batch(cursor, count, true);
  }

  private batch(cursor: BatchCursor | null, count: number, del: boolean): BatchResult {
    const op = del ? 'lookup_and_delete_batch' : 'lookup_batch';
    if (!(del ? this.batchOps().lookupAndDelete : this.batchOps().lookup)) throw this.error('ENOTSUPP', op, 'not supported for this map type');
    if (!Number.isSafeInteger(count) || count < 0) throw this.error('EINVAL', op, `bad count ${count}`);
    const keys: Uint8Array[] = [];
    const values: Uint8Array[] = [];
    let after = cursor ? cursor.after : null;
    while (keys.length < count) {
      const k = this.nextKey(after);
      if (k === null) return { keys, values, next: null };
      const v = this.lookupValue(k);
      if (v) {
        keys.push(k);
        values.push(v);
        if (del) this.deleteKey(k);
      }
      after = k;
    }
    return { keys, values, next: { after } };
  }

  /**
   * `BPF_MAP_UPDATE_BATCH`: updates in order and stops at the first failure,
   * throwing its MapError with `where.done` = the number of elements updated.
   */
  updateBatch(keys: readonly Uint8Array[], values: ReadonlyArray<Uint8Array | PerCpuValues>, flags: number | bigint = 0): number {
    if (!this.batchOps().update) throw this.error('ENOTSUPP', 'update_batch', 'not supported for this map type');
    if (keys.length !== values.length) throw this.error('EINVAL', 'update_batch', `${keys.length} keys but ${values.length} values`);
    keys.forEach((k, i) => this.inBatch(i, () => this.updateValue(k, values[i]!, flags)));
    return keys.length;
  }
  /** `BPF_MAP_DELETE_BATCH`: like `updateBatch`. */
  deleteBatch(keys: readonly Uint8Array[]): number {
    if (!this.batchOps().delete) throw this.error('ENOTSUPP', 'delete_batch', 'not supported for this map type');
    keys.forEach((k, i) => this.inBatch(i, () => this.deleteKey(k)));
    return keys.length;
  }
  private inBatch(done: number, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (e instanceof MapError) throw new MapError(e.errno, `${e.message} (after ${done} elements of the batch)`, { ...e.where, done });
      throw e;
    }
  }

  // ---------------------------------------------------------------- for subclasses

  protected error(errno: ErrnoName | number, op: string, message: string, where: Record<string, unknown> = {}): MapError {
    const name = typeof errno === 'number' ? errnoName(errno) : errno;
    return new MapError(errno, `map ${this.name} (${this.typeName}): ${op}: ${name}: ${message}`, { map: this.name, op, ...where });
  }
  /** Throws the MapError for a negative kernel-style result. */
  protected check(ret: number, op: string, message = ''): void {
    if (ret < 0) throw this.error(-ret, op, message || 'refused');
  }
  /** bpf(2)-side reads need read access (not `BPF_F_WRONLY`). */
  protected canRead(op: string): void {
    if (this.flags & ACCESS_READ_BLOCKED) throw this.error('EPERM', op, 'the map is write-only for user space');
  }
  /** bpf(2)-side writes need write access (not `BPF_F_RDONLY`, not frozen). */
  protected canWrite(op: string): void {
    if (this.flags & ACCESS_WRITE_BLOCKED) throw this.error('EPERM', op, 'the map is read-only for user space');
    if (this.frozenFlag) throw this.error('EPERM', op, 'the map is frozen');
  }
  /** Programs may not write maps created with `BPF_F_RDONLY_PROG`. */
  protected progCanWrite(): boolean {
    return (this.flags & MapFlag.RDONLY_PROG) === 0;
  }
  /** A user-side key: exactly `keySize` bytes. */
  protected userKey(key: Uint8Array, op: string): Uint8Array {
    if (!(key instanceof Uint8Array) || key.length !== this.keySize) {
      throw this.error('EINVAL', op, `the key must be ${this.keySize} bytes, got ${key instanceof Uint8Array ? key.length : typeof key}`);
    }
    return key;
  }
  /** A user-side value: exactly `valueSize` bytes. */
  protected userValue(value: unknown, op: string): Uint8Array {
    if (!(value instanceof Uint8Array) || value.length !== this.valueSize) {
      throw this.error('EINVAL', op, `the value must be ${this.valueSize} bytes, got ${value instanceof Uint8Array ? value.length : typeof value}`);
    }
    return value;
  }
  /**
   * A user-side percpu value as one buffer per CPU (`round8(valueSize)` bytes
   * each): either bpf(2)'s layout (CPUs back to back, each padded to 8
   * bytes) or an array of `cpus` values of `valueSize` bytes.
   */
  protected userPerCpu(value: Uint8Array | PerCpuValues, op: string): Uint8Array[] {
    const elem = round8(this.valueSize);
    if (value instanceof Uint8Array) {
      if (value.length !== elem * this.cpus) {
        throw this.error('EINVAL', op, `a percpu value is ${this.cpus} x ${elem} bytes, got ${value.length}`);
      }
      return Array.from({ length: this.cpus }, (_, c) => value.subarray(c * elem, (c + 1) * elem));
    }
    if (!Array.isArray(value) || value.length !== this.cpus) {
      throw this.error('EINVAL', op, `a percpu value needs one value for each of the ${this.cpus} CPUs`);
    }
    return value.map((v) => {
      const b = new Uint8Array(elem);
      b.set(this.userValue(v, op));
      return b;
    });
  }
  /** Bytes of a program-side argument: read from the address space (checked), or given. */
  /**
   * Like `bytesArg`, but a view into the address space instead of a copy:
   * for keys that are only read during the call (lookups, deletes).
   */
  protected bytesView(arg: BytesArg, size: number, what: string): Uint8Array {
    if (arg instanceof Uint8Array) return this.bytesArg(arg, size, what);
    const addr = this.addr(arg, size, false, what);
    return this.space.u8.subarray(addr, addr + size);
  }
  protected bytesArg(arg: BytesArg, size: number, what: string): Uint8Array {
    if (arg instanceof Uint8Array) {
      if (arg.length !== size) throw this.error('EINVAL', what, `expected ${size} bytes, got ${arg.length}`);
      return arg;
    }
    const addr = this.addr(arg, size, false, what);
    return this.space.u8.slice(addr, addr + size);
  }
  /** A checked address: `size` bytes at `a` lie in one active region (writable, for writes). */
  protected addr(a: Addr, size: number, write: boolean, what: string): number {
    const n = typeof a === 'bigint' ? (a <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(a) : -1) : a;
    if (!Number.isSafeInteger(n) || n <= 0 || this.space.find(n, Math.max(size, 1), write) === null) {
      throw new MapError('EFAULT', `map ${this.name}: ${what}: ${size} bytes at 0x${n >= 0 ? n.toString(16) : String(a)} are not ${write ? 'writable' : 'readable'}`, {
        map: this.name,
        op: what,
        address: typeof a === 'bigint' ? a : BigInt(Math.max(0, n)),
        size,
      });
    }
    return n;
  }
  /** A CPU number a program-side call runs on. */
  protected cpuIndex(cpu: number): number {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpus) {
      throw this.error('EINVAL', 'cpu', `CPU ${cpu} is not one of the ${this.cpus} virtual CPUs`);
    }
    return cpu;
  }
}
