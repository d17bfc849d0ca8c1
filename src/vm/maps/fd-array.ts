/**
 * The kernel's "fd arrays": arrays whose values are references to other
 * objects (programs, inner maps, perf events) that bpf(2) passes as file
 * descriptors. In the vm a slot holds the object itself. Shared behaviour:
 * a u32 index key, `BPF_ANY` as the only update flag, E2BIG past the end,
 * ENOENT when deleting an empty slot, array iteration order.
 */
import type { AddressSpace } from '../address-space.js';
import { arrayNextKey } from './array.js';
import { type MapDesc, type MapOptions, type PerCpuValues, VmMap, flagsOf, u32At } from './map.js';

export abstract class FdArray<T> extends VmMap {
  /** The filled slots by index (sparse: max_entries may be large). */
  protected readonly slots = new Map<number, T>();

  constructor(space: AddressSpace, desc: MapDesc, opts: MapOptions) {
    super(space, desc, opts);
  }

  /** What this map's slots hold, for messages (`program`, `map`, `perf event`). */
  protected abstract get what(): string;

  /** The object in slot `index` (null when empty or past the end). */
  protected slot(index: number): T | null {
    return this.slots.get(index) ?? null;
  }

  /** bpf(2)-style store of an object: flags must be BPF_ANY, the index inside. */
  protected setSlot(index: number, obj: T | null, flags: number | bigint, op: string): void {
    this.canWrite(op);
    if (flagsOf(flags) !== 0n) throw this.error('EINVAL', op, `${this.what} slots take only BPF_ANY`);
    if (!Number.isInteger(index) || index < 0 || index >= this.maxEntries) {
      throw this.error('E2BIG', op, `index ${index} is past the end (${this.maxEntries} entries)`);
    }
    if (obj === null) this.slots.delete(index);
    else this.slots.set(index, obj);
  }

  override updateValue(key: Uint8Array, _value: Uint8Array | PerCpuValues, _flags: number | bigint = 0): void {
    this.userKey(key, 'update');
    throw this.error('EINVAL', 'update', `the value of a ${this.typeName} slot is a ${this.what}, not bytes`);
  }

  override deleteKey(key: Uint8Array): void {
    this.canWrite('delete');
    const i = u32At(this.userKey(key, 'delete'));
    if (i >= this.maxEntries) throw this.error('E2BIG', 'delete', `index ${i} is past the end (${this.maxEntries} entries)`);
    if (!this.slots.delete(i)) throw this.error('ENOENT', 'delete', `slot ${i} is empty`);
  }

  override nextKey(key: Uint8Array | null): Uint8Array | null {
    this.canRead('get_next_key');
    return arrayNextKey(this, key === null ? null : this.userKey(key, 'get_next_key'));
  }
}
