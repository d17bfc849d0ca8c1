/**
 * `BPF_MAP_TYPE_HASH` and `BPF_MAP_TYPE_PERCPU_HASH` (and, through the hooks
 * `touch`/`evict`, the LRU variants in `lru-hash.ts`).
 *
 * Kernel semantics kept: flags above `BPF_EXIST` (or `BPF_F_LOCK`, as no vm
 * value has a spin lock) give EINVAL; `BPF_NOEXIST` on a present key EEXIST;
 * `BPF_EXIST` on an absent key ENOENT; a new key in a full map E2BIG.
 * Replacing a value of a (non-percpu) hash map moves it to a fresh slot, as
 * the kernel swaps in a new element: a pointer obtained before still reads
 * the old value. Percpu values are updated in place; a program's update
 * writes its own CPU's value, and zeroes the other CPUs' on insertion.
 *
 * Iteration (`nextKey`, `keys`) follows insertion order, which differs from
 * the kernel's bucket order; `nextKey` of a missing key gives the first key,
 * as in the kernel.
 */
import { MapFlag } from '../../object/kinds.js';
import type { AddressSpace } from '../address-space.js';
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
  keyString,
  round8,
} from './map.js';
import { SLOTS_FULL, SlotStore } from './slots.js';

export interface HashEntry {
  readonly key: Uint8Array;
  readonly ks: string;
  slot: number;
  /** Insertion order. */
  prev: HashEntry | null;
  next: HashEntry | null;
  /** Recency order (LRU maps only). */
  older: HashEntry | null;
  newer: HashEntry | null;
}

/** Writes a value into a freshly allocated (zeroed) or an existing slot. */
type Writer = (slotAddr: number, fresh: boolean) => void;

export class HashMap extends VmMap {
  override readonly percpu: boolean;
  /** Bytes of one CPU's value in a slot. */
  protected readonly elem: number;
  protected readonly slots: SlotStore;
  protected readonly index = new Map<string, HashEntry>();
  private first: HashEntry | null = null;
  private last: HashEntry | null = null;

  constructor(space: AddressSpace, desc: MapDesc, opts: MapOptions, percpu: boolean) {
    super(space, desc, opts);
    this.percpu = percpu;
    this.elem = round8(this.valueSize);
    const stride = percpu ? this.elem * this.cpus : this.elem;
    // A replaced (non-percpu) value goes to a fresh slot first: one spare.
    const capacity = percpu ? this.maxEntries : this.maxEntries + 1;
    const prealloc = (this.flags & MapFlag.NO_PREALLOC) === 0;
    this.slots = new SlotStore(space, this.name, stride, capacity, prealloc, this.progCanWrite());
  }

  /** Number of elements. */
  get size(): number {
    return this.index.size;
  }

  // ---------------------------------------------------------------- hooks for LRU

  /** An element was used by a program lookup or an update. */
  protected touch(_e: HashEntry): void {}
  /** Makes room for a new element in a full map; false when it cannot. */
  protected evict(): boolean {
    return false;
  }
  /** Removes `e` from the map and frees its slot. */
  protected remove(e: HashEntry): void {
    this.index.delete(e.ks);
    if (e.prev) e.prev.next = e.next;
    else this.first = e.next;
    if (e.next) e.next.prev = e.prev;
    else this.last = e.prev;
    this.slots.release(e.slot);
  }

  // ---------------------------------------------------------------- core

  private valueAddr(e: HashEntry, cpu: number): number {
    return this.slots.addr(e.slot) + (this.percpu ? cpu * this.elem : 0);
  }

  /** Inserts or replaces `key`, the kernel's checks in the kernel's order. */
  protected store(key: Uint8Array, flagsArg: number | bigint, write: Writer): number {
    const flags = flagsOf(flagsArg);
    if (flags > EXIST) return -Errno.EINVAL;
    const ks = keyString(key);
    const old = this.index.get(ks);
    if (old && flags === NOEXIST) return -Errno.EEXIST;
    if (!old && flags === EXIST) return -Errno.ENOENT;
    if (old) {
      if (this.percpu) {
        write(this.slots.addr(old.slot), false);
      } else {
        const slot = this.slots.alloc();
        if (slot < 0) return slot === SLOTS_FULL ? -Errno.E2BIG : -Errno.ENOMEM;
        write(this.slots.addr(slot), true);
        this.slots.release(old.slot);
        old.slot = slot;
      }
      this.touch(old);
      return 0;
    }
    if (this.index.size >= this.maxEntries && !this.evict()) return -Errno.E2BIG;
    const slot = this.slots.alloc();
    if (slot < 0) return slot === SLOTS_FULL ? -Errno.E2BIG : -Errno.ENOMEM;
    write(this.slots.addr(slot), true);
    const e: HashEntry = { key: key.slice(), ks, slot, prev: this.last, next: null, older: null, newer: null };
    if (this.last) this.last.next = e;
    else this.first = e;
    this.last = e;
    this.index.set(ks, e);
    this.touch(e);
    return 0;
  }

  /** A writer for one CPU's value (programs), zeroing the others on insertion. */
  private progWriter(value: Uint8Array, cpu: number): Writer {
    const u8 = (): Uint8Array => this.space.u8;
    if (!this.percpu) return (a) => u8().set(value, a);
    return (a, fresh) => {
      if (fresh) u8().fill(0, a, a + this.elem * this.cpus);
      u8().set(value, a + cpu * this.elem);
    };
  }

  private readValue(e: HashEntry): Uint8Array {
    const a = this.slots.addr(e.slot);
    return this.space.u8.slice(a, a + (this.percpu ? this.elem * this.cpus : this.valueSize));
  }

  // ---------------------------------------------------------------- program side

  override lookup(key: BytesArg, cpu = 0): number {
    const c = this.cpuIndex(cpu);
    const e = this.index.get(keyString(this.bytesView(key, this.keySize, 'lookup key')));
    if (!e) return 0;
    this.touch(e);
    return this.valueAddr(e, c);
  }

  override lookupOnCpu(key: BytesArg, cpu: number): number {
    if (!this.percpu || !Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpus) return 0;
    const e = this.index.get(keyString(this.bytesView(key, this.keySize, 'lookup key')));
    if (!e) return 0;
    this.touch(e);
    return this.valueAddr(e, cpu);
  }

  override update(key: BytesArg, value: BytesArg, flags: number | bigint, cpu = 0): number {
    const c = this.cpuIndex(cpu);
    if (!this.progCanWrite()) return -Errno.EACCES;
    const k = this.bytesArg(key, this.keySize, 'update key');
    const v = this.bytesArg(value, this.valueSize, 'update value');
    return this.store(k, flags, this.progWriter(v, c));
  }

  override delete(key: BytesArg): number {
    if (!this.progCanWrite()) return -Errno.EACCES;
    const e = this.index.get(keyString(this.bytesView(key, this.keySize, 'delete key')));
    if (!e) return -Errno.ENOENT;
    this.remove(e);
    return 0;
  }

  override elements(cpu = 0): Array<[Uint8Array, number]> {
    const c = this.cpuIndex(cpu);
    const out: Array<[Uint8Array, number]> = [];
    for (let e = this.first; e; e = e.next) out.push([e.key.slice(), this.valueAddr(e, c)]);
    return out;
  }

  // ---------------------------------------------------------------- user side

  override lookupValue(key: Uint8Array): Uint8Array | null {
    this.canRead('lookup');
    const e = this.index.get(keyString(this.userKey(key, 'lookup')));
    return e ? this.readValue(e) : null;
  }

  override lookupPerCpu(key: Uint8Array): Uint8Array[] | null {
    if (!this.percpu) return super.lookupPerCpu(key);
    const all = this.lookupValue(key);
    if (!all) return null;
    return Array.from({ length: this.cpus }, (_, c) => all.slice(c * this.elem, c * this.elem + this.valueSize));
  }

  override updateValue(key: Uint8Array, value: Uint8Array | PerCpuValues, flags: number | bigint = 0): void {
    this.canWrite('update');
    const k = this.userKey(key, 'update');
    let write: Writer;
    if (this.percpu) {
      const per = this.userPerCpu(value, 'update');
      write = (a) => per.forEach((v, c) => this.space.u8.set(v, a + c * this.elem));
    } else {
      const v = this.userValue(value, 'update');
      write = (a) => this.space.u8.set(v, a);
    }
    this.check(this.store(k, flags, write), 'update', this.explain(flags));
  }

  private explain(flags: number | bigint): string {
    const f = flagsOf(flags);
    if (f > EXIST) return `flags 0x${f.toString(16)} are not BPF_ANY, BPF_NOEXIST or BPF_EXIST`;
    return f === NOEXIST ? 'the key exists (BPF_NOEXIST)' : f === EXIST ? 'no such key (BPF_EXIST)' : `the map is full (${this.maxEntries} entries)`;
  }

  override deleteKey(key: Uint8Array): void {
    this.canWrite('delete');
    const e = this.index.get(keyString(this.userKey(key, 'delete')));
    if (!e) throw this.error('ENOENT', 'delete', 'no such key');
    this.remove(e);
  }

  override lookupAndDelete(key: Uint8Array): Uint8Array {
    this.canRead('lookup_and_delete');
    this.canWrite('lookup_and_delete');
    const e = this.index.get(keyString(this.userKey(key, 'lookup_and_delete')));
    if (!e) throw this.error('ENOENT', 'lookup_and_delete', 'no such key');
    const v = this.readValue(e);
    this.remove(e);
    return v;
  }

  override nextKey(key: Uint8Array | null): Uint8Array | null {
    this.canRead('get_next_key');
    if (key === null) return this.first ? this.first.key.slice() : null;
    const e = this.index.get(keyString(this.userKey(key, 'get_next_key')));
    if (!e) return this.first ? this.first.key.slice() : null;
    return e.next ? e.next.key.slice() : null;
  }

  override keys(): Uint8Array[] {
    this.canRead('get_next_key');
    const out: Uint8Array[] = [];
    for (let e = this.first; e; e = e.next) out.push(e.key.slice());
    return out;
  }

  override entries(): Array<[Uint8Array, Uint8Array]> {
    this.canRead('lookup');
    const out: Array<[Uint8Array, Uint8Array]> = [];
    for (let e = this.first; e; e = e.next) out.push([e.key.slice(), this.readValue(e)]);
    return out;
  }

  protected override batchOps(): { lookup: boolean; lookupAndDelete: boolean; update: boolean; delete: boolean } {
    return { lookup: true, lookupAndDelete: true, update: true, delete: true };
  }
}
