/**
 * `BPF_MAP_TYPE_QUEUE` (FIFO) and `BPF_MAP_TYPE_STACK` (LIFO): keyless maps
 * of at most `max_entries` values. Push takes `BPF_ANY` or `BPF_EXIST`
 * (anything else EINVAL); pushing onto a full map gives E2BIG, unless
 * `BPF_EXIST`, which drops the oldest value to make room. Pop and peek on an
 * empty map give ENOENT. Through bpf(2) an update (with no key) pushes, a
 * lookup peeks, lookup-and-delete pops; delete and get_next_key are EINVAL.
 *
 * Programs never get a pointer into these maps (pop and peek copy), so the
 * values live on the host side.
 */
import type { AddressSpace } from '../address-space.js';
import { MapType } from '../../object/kinds.js';
import { type Addr, type BytesArg, Errno, EXIST, type MapDesc, type MapOptions, NOEXIST, type PerCpuValues, VmMap, flagsOf } from './map.js';

export class QueueStackMap extends VmMap {
  /** Oldest first, from `head` on (a deque grown lazily: max_entries may be large). */
  private items: Uint8Array[] = [];
  private head = 0;
  readonly lifo: boolean;

  constructor(space: AddressSpace, desc: MapDesc, opts: MapOptions) {
    super(space, desc, opts);
    this.lifo = desc.type === MapType.STACK;
  }

  get size(): number {
    return this.items.length - this.head;
  }

  private pushBytes(v: Uint8Array, flagsArg: number | bigint): number {
    const flags = flagsOf(flagsArg);
    if ((flags & NOEXIST) !== 0n || flags > EXIST) return -Errno.EINVAL;
    if (this.size === this.maxEntries) {
      if (flags !== EXIST) return -Errno.E2BIG;
      this.head++; // drop the oldest
    }
    this.items.push(v.slice());
    this.compact();
    return 0;
  }

  private take(remove: boolean): Uint8Array | null {
    if (this.size === 0) return null;
    const v = this.lifo ? this.items[this.items.length - 1]! : this.items[this.head]!;
    if (remove) {
      if (this.lifo) this.items.pop();
      else this.head++;
      this.compact();
    }
    return v;
  }

  private compact(): void {
    if (this.size === 0) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  // ---------------------------------------------------------------- program side

  override push(value: BytesArg, flags: number | bigint): number {
    if (!this.progCanWrite()) return -Errno.EACCES;
    return this.pushBytes(this.bytesArg(value, this.valueSize, 'push value'), flags);
  }

  override pop(dst: Addr): number {
    return this.copyOut(dst, true);
  }

  override peek(dst: Addr): number {
    return this.copyOut(dst, false);
  }

  private copyOut(dst: Addr, remove: boolean): number {
    const a = this.addr(dst, this.valueSize, true, remove ? 'pop value' : 'peek value');
    const v = this.take(remove);
    if (!v) return -Errno.ENOENT;
    this.space.u8.set(v, a);
    return 0;
  }

  override update(_key: BytesArg, value: BytesArg, flags: number | bigint): number {
    return this.push(value, flags);
  }

  // ---------------------------------------------------------------- user side

  override pushValue(value: Uint8Array, flags: number | bigint = 0): void {
    this.canWrite('push');
    const r = this.pushBytes(this.userValue(value, 'push'), flags);
    this.check(r, 'push', r === -Errno.E2BIG ? `the ${this.lifo ? 'stack' : 'queue'} is full (${this.maxEntries} values)` : `flags 0x${flagsOf(flags).toString(16)} are not BPF_ANY or BPF_EXIST`);
  }

  override popValue(): Uint8Array {
    this.canRead('pop');
    this.canWrite('pop');
    const v = this.take(true);
    if (!v) throw this.error('ENOENT', 'pop', 'empty');
    return v.slice();
  }

  override peekValue(): Uint8Array {
    this.canRead('peek');
    const v = this.take(false);
    if (!v) throw this.error('ENOENT', 'peek', 'empty');
    return v.slice();
  }

  /** Every value, in the order pops would return them. */
  override values(): Uint8Array[] {
    const live = this.items.slice(this.head).map((v) => v.slice());
    return this.lifo ? live.reverse() : live;
  }

  /** bpf(2) lookup on a queue or stack peeks (the key is empty). */
  override lookupValue(key: Uint8Array): Uint8Array | null {
    this.userKey(key, 'lookup');
    this.canRead('lookup');
    const v = this.take(false);
    return v ? v.slice() : null;
  }

  /** bpf(2) update on a queue or stack pushes (the key is empty). */
  override updateValue(key: Uint8Array, value: Uint8Array | PerCpuValues, flags: number | bigint = 0): void {
    this.userKey(key, 'update');
    this.pushValue(this.userValue(value, 'update'), flags);
  }

  override lookupAndDelete(key: Uint8Array): Uint8Array {
    this.userKey(key, 'lookup_and_delete');
    return this.popValue();
  }

  override entries(): Array<[Uint8Array, Uint8Array]> {
    throw this.error('EINVAL', 'get_next_key', `a ${this.typeName} has no keys (use values())`);
  }
}
