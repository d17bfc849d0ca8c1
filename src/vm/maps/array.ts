/**
 * `BPF_MAP_TYPE_ARRAY` and `BPF_MAP_TYPE_PERCPU_ARRAY`: `max_entries`
 * preallocated, zero-filled values indexed by a u32 key, in one region.
 * Every element always exists: delete gives EINVAL, `BPF_NOEXIST` EEXIST, an
 * index past the end E2BIG on update and "no value" on lookup. Updates are
 * in place. A program's update of a percpu array writes its own CPU's copy.
 *
 * Global data (`.data`, `.rodata`, `.bss`) are arrays of one element; a
 * program reaches them through `directValueAddress` (`lddw rX, map + off`).
 * `BPF_F_RDONLY_PROG` maps a read-only region.
 */
import type { AddressSpace, Region } from '../address-space.js';
import {
  type BytesArg,
  Errno,
  EXIST,
  type MapDesc,
  type MapOptions,
  NOEXIST,
  type PerCpuValues,
  VmMap,
  flagsOf,
  mapRegion,
  round8,
  u32At,
  u32Bytes,
} from './map.js';

const F_LOCK = 4n;

export class ArrayMap extends VmMap {
  override readonly percpu: boolean;
  readonly region: Region;
  /** Bytes of one CPU's value. */
  private readonly elem: number;
  /** Bytes per index. */
  private readonly stride: number;

  constructor(space: AddressSpace, desc: MapDesc, opts: MapOptions, percpu: boolean) {
    super(space, desc, opts);
    this.percpu = percpu;
    this.elem = round8(this.valueSize);
    this.stride = percpu ? this.elem * this.cpus : this.elem;
    this.region = mapRegion(space, this.name, 'map', this.maxEntries * this.stride, this.progCanWrite());
    if (desc.data) this.space.u8.set(desc.data.subarray(0, this.valueSize), this.region.start);
  }

  /** The address of element `index` on `cpu` (no bounds check on index beyond the map). */
  valueAddress(index: number, cpu = 0): number {
    return this.region.start + index * this.stride + (this.percpu ? cpu * this.elem : 0);
  }

  /**
   * The address `lddw rX, map + offset` loads (BPF_PSEUDO_MAP_VALUE): only
   * for single-element, non-percpu arrays, and `offset` inside the value.
   */
  directValueAddress(offset: number): number {
    if (this.percpu || this.maxEntries !== 1) throw this.error('ENOTSUPP', 'direct_value_addr', 'only single-element arrays have a direct value address');
    if (!Number.isInteger(offset) || offset < 0 || offset >= this.valueSize) {
      throw this.error('EINVAL', 'direct_value_addr', `offset ${offset} is outside the ${this.valueSize}-byte value`);
    }
    return this.region.start + offset;
  }

  // ---------------------------------------------------------------- program side

  override lookup(key: BytesArg, cpu = 0): number {
    const c = this.cpuIndex(cpu);
    const i = u32At(this.bytesView(key, 4, 'lookup key'));
    return i < this.maxEntries ? this.valueAddress(i, c) : 0;
  }

  override lookupOnCpu(key: BytesArg, cpu: number): number {
    if (!this.percpu || !Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpus) return 0;
    const i = u32At(this.bytesView(key, 4, 'lookup key'));
    return i < this.maxEntries ? this.valueAddress(i, cpu) : 0;
  }

  /**
   * The kernel's order: unknown flags, the index, BPF_NOEXIST, then
   * BPF_F_LOCK (no vm value has a spin lock). bpf(2) refuses BPF_F_LOCK
   * before anything else.
   */
  private checkUpdate(i: number, flagsArg: number | bigint, user: boolean): number {
    const flags = flagsOf(flagsArg);
    if (user && (flags & F_LOCK) !== 0n) return -Errno.EINVAL;
    if ((flags & ~F_LOCK) > EXIST) return -Errno.EINVAL;
    if (i >= this.maxEntries) return -Errno.E2BIG;
    if ((flags & NOEXIST) !== 0n) return -Errno.EEXIST;
    if ((flags & F_LOCK) !== 0n) return -Errno.EINVAL;
    return 0;
  }

  override update(key: BytesArg, value: BytesArg, flags: number | bigint, cpu = 0): number {
    const c = this.cpuIndex(cpu);
    if (!this.progCanWrite()) return -Errno.EACCES;
    const i = u32At(this.bytesArg(key, 4, 'update key'));
    const v = this.bytesArg(value, this.valueSize, 'update value');
    const r = this.checkUpdate(i, flags, false);
    if (r === 0) this.space.u8.set(v, this.valueAddress(i, c));
    return r;
  }

  override delete(key: BytesArg): number {
    this.bytesView(key, 4, 'delete key');
    return -Errno.EINVAL;
  }

  override elements(cpu = 0): Array<[Uint8Array, number]> {
    const c = this.cpuIndex(cpu);
    return Array.from({ length: this.maxEntries }, (_, i) => [u32Bytes(i), this.valueAddress(i, c)]);
  }

  // ---------------------------------------------------------------- user side

  override lookupValue(key: Uint8Array): Uint8Array | null {
    this.canRead('lookup');
    const i = u32At(this.userKey(key, 'lookup'));
    if (i >= this.maxEntries) return null;
    const a = this.valueAddress(i);
    return this.space.u8.slice(a, a + (this.percpu ? this.stride : this.valueSize));
  }

  override lookupPerCpu(key: Uint8Array): Uint8Array[] | null {
    if (!this.percpu) return super.lookupPerCpu(key);
    const all = this.lookupValue(key);
    if (!all) return null;
    return Array.from({ length: this.cpus }, (_, c) => all.slice(c * this.elem, c * this.elem + this.valueSize));
  }

  override updateValue(key: Uint8Array, value: Uint8Array | PerCpuValues, flags: number | bigint = 0): void {
    this.canWrite('update');
    const i = u32At(this.userKey(key, 'update'));
    const per = this.percpu ? this.userPerCpu(value, 'update') : [this.userValue(value, 'update')];
    const r = this.checkUpdate(i, flags, true);
    if (r === -Errno.E2BIG) throw this.error('E2BIG', 'update', `index ${i} is past the end (${this.maxEntries} entries)`);
    if (r === -Errno.EEXIST) throw this.error('EEXIST', 'update', 'array elements always exist (BPF_NOEXIST)');
    this.check(r, 'update', `bad flags 0x${flagsOf(flags).toString(16)}`);
    const a = this.valueAddress(i);
    per.forEach((v, c) => this.space.u8.set(v, a + c * this.elem));
  }

  override deleteKey(key: Uint8Array): void {
    this.canWrite('delete');
    this.userKey(key, 'delete');
    throw this.error('EINVAL', 'delete', 'array elements cannot be deleted');
  }

  override lookupAndDelete(key: Uint8Array): Uint8Array {
    this.userKey(key, 'lookup_and_delete');
    throw this.error('ENOTSUPP', 'lookup_and_delete', 'array elements cannot be deleted');
  }

  override nextKey(key: Uint8Array | null): Uint8Array | null {
    this.canRead('get_next_key');
    return arrayNextKey(this, key === null ? null : this.userKey(key, 'get_next_key'));
  }

  protected override batchOps(): { lookup: boolean; lookupAndDelete: boolean; update: boolean; delete: boolean } {
    return { lookup: true, lookupAndDelete: false, update: true, delete: false };
  }
}

/** The kernel's array get_next_key: 0 after a missing or out-of-range index, null after the last. */
export function arrayNextKey(map: { maxEntries: number }, key: Uint8Array | null): Uint8Array | null {
  const i = key === null ? map.maxEntries : u32At(key);
  if (i >= map.maxEntries) return u32Bytes(0);
  if (i === map.maxEntries - 1) return null;
  return u32Bytes(i + 1);
}
