/**
 * `BPF_MAP_TYPE_ARRAY_OF_MAPS` and `BPF_MAP_TYPE_HASH_OF_MAPS`: values are
 * other maps of the same address space. A program's lookup gives the inner
 * map's handle, which it passes on to the map helpers.
 *
 * Every inner map must match the template (`innerMap` of the spec) the way
 * the kernel's `map_meta_equal` wants: same type, key size, value size and
 * flags; plain arrays also the same max_entries, unless the template has
 * `BPF_F_INNER_MAP`. A mismatch is EINVAL. bpf(2) lookups return the inner
 * map's id (u32).
 */
import { MapFlag, MapType } from '../../object/kinds.js';
import type { AddressSpace } from '../address-space.js';
import { FdArray } from './fd-array.js';
import {
  type BytesArg,
  EXIST,
  type MapDesc,
  type MapOptions,
  NOEXIST,
  VmMap,
  flagsOf,
  keyString,
  u32At,
  u32Bytes,
} from './map.js';

/** Why `inner` cannot be a value of a map whose template is `template`, or null when it can. */
export function innerMismatch(template: MapDesc, inner: VmMap): string | null {
  if (inner.type !== template.type) return `the inner map is a ${inner.typeName}, the template a different type`;
  if (inner.keySize !== template.keySize) return `key size ${inner.keySize}, the template has ${template.keySize}`;
  if (inner.valueSize !== template.valueSize) return `value size ${inner.valueSize}, the template has ${template.valueSize}`;
  if (inner.flags !== template.flags) return `flags 0x${inner.flags.toString(16)}, the template has 0x${template.flags.toString(16)}`;
  if (template.type === MapType.ARRAY && !(template.flags & MapFlag.INNER_MAP) && inner.maxEntries !== template.maxEntries) {
    return `max_entries ${inner.maxEntries}, the template has ${template.maxEntries} (and no BPF_F_INNER_MAP)`;
  }
  return null;
}

/** The checks every map-of-maps makes on a new inner map. */
function checkInner(outer: VmMap & { readonly template: MapDesc }, inner: VmMap, fail: (msg: string) => never): void {
  if (!(inner instanceof VmMap)) fail('the value must be a vm map');
  if (inner.space !== outer.space) fail(`map ${inner.name} lives in another address space`);
  const why = innerMismatch(outer.template, inner);
  if (why) fail(why);
}

export class ArrayOfMapsMap extends FdArray<VmMap> {
  readonly template: MapDesc;

  constructor(space: AddressSpace, desc: MapDesc, opts: MapOptions) {
    super(space, desc, opts);
    this.template = desc.innerMap!;
  }

  protected get what(): string {
    return 'map';
  }

  /** The inner map at `index`, or null. */
  getMap(index: number): VmMap | null {
    return this.slot(index);
  }

  /** Puts `inner` at `index` (null empties the slot). */
  setMap(index: number, inner: VmMap | null, flags: number | bigint = 0): void {
    if (inner) checkInner(this, inner, (m) => { throw this.error('EINVAL', 'update', m); });
    this.setSlot(index, inner, flags, 'update');
  }

  override lookup(key: BytesArg): number {
    const m = this.slot(u32At(this.bytesView(key, 4, 'lookup key')));
    return m ? m.handle : 0;
  }

  override lookupValue(key: Uint8Array): Uint8Array | null {
    this.canRead('lookup');
    const m = this.slot(u32At(this.userKey(key, 'lookup')));
    return m ? u32Bytes(m.id) : null;
  }

  protected override batchOps(): { lookup: boolean; lookupAndDelete: boolean; update: boolean; delete: boolean } {
    return { lookup: true, lookupAndDelete: false, update: true, delete: false };
  }

  override elements(): Array<[Uint8Array, number]> {
    return [...this.slots.entries()].sort((a, b) => a[0] - b[0]).map(([i, m]) => [u32Bytes(i), m.handle]);
  }
}

interface Slot {
  readonly key: Uint8Array;
  readonly ks: string;
  map: VmMap;
}

export class HashOfMapsMap extends VmMap {
  readonly template: MapDesc;
  /** Insertion order is iteration order. */
  private readonly slots = new Map<string, Slot>();

  constructor(space: AddressSpace, desc: MapDesc, opts: MapOptions) {
    super(space, desc, opts);
    this.template = desc.innerMap!;
  }

  get size(): number {
    return this.slots.size;
  }

  getMap(key: Uint8Array): VmMap | null {
    return this.slots.get(keyString(this.userKey(key, 'lookup')))?.map ?? null;
  }

  /** Sets `key` to `inner`, with the hash map's flag semantics. */
  setMap(key: Uint8Array, inner: VmMap, flags: number | bigint = 0): void {
    this.canWrite('update');
    const k = this.userKey(key, 'update');
    const f = flagsOf(flags);
    if (f > EXIST) throw this.error('EINVAL', 'update', `flags 0x${f.toString(16)} are not BPF_ANY, BPF_NOEXIST or BPF_EXIST`);
    checkInner(this, inner, (m) => { throw this.error('EINVAL', 'update', m); });
    const ks = keyString(k);
    const old = this.slots.get(ks);
    if (old && f === NOEXIST) throw this.error('EEXIST', 'update', 'the key exists (BPF_NOEXIST)');
    if (!old && f === EXIST) throw this.error('ENOENT', 'update', 'no such key (BPF_EXIST)');
    if (old) {
      old.map = inner;
      return;
    }
    if (this.slots.size >= this.maxEntries) throw this.error('E2BIG', 'update', `the map is full (${this.maxEntries} entries)`);
    this.slots.set(ks, { key: k.slice(), ks, map: inner });
  }

  override lookup(key: BytesArg): number {
    const s = this.slots.get(keyString(this.bytesView(key, this.keySize, 'lookup key')));
    return s ? s.map.handle : 0;
  }

  override elements(): Array<[Uint8Array, number]> {
    return [...this.slots.values()].map((s) => [s.key.slice(), s.map.handle]);
  }

  override lookupValue(key: Uint8Array): Uint8Array | null {
    this.canRead('lookup');
    const s = this.slots.get(keyString(this.userKey(key, 'lookup')));
    return s ? u32Bytes(s.map.id) : null;
  }

  override updateValue(key: Uint8Array): void {
    this.userKey(key, 'update');
    throw this.error('EINVAL', 'update', 'the value of a hash_of_maps slot is a map (use setMap)');
  }

  override deleteKey(key: Uint8Array): void {
    this.canWrite('delete');
    if (!this.slots.delete(keyString(this.userKey(key, 'delete')))) throw this.error('ENOENT', 'delete', 'no such key');
  }

  override nextKey(key: Uint8Array | null): Uint8Array | null {
    this.canRead('get_next_key');
    const keys = [...this.slots.values()];
    if (keys.length === 0) return null;
    if (key === null) return keys[0]!.key.slice();
    const ks = keyString(this.userKey(key, 'get_next_key'));
    const i = keys.findIndex((s) => s.ks === ks);
    if (i < 0) return keys[0]!.key.slice();
    return i + 1 < keys.length ? keys[i + 1]!.key.slice() : null;
  }

  override keys(): Uint8Array[] {
    this.canRead('get_next_key');
    return [...this.slots.values()].map((s) => s.key.slice());
  }

  protected override batchOps(): { lookup: boolean; lookupAndDelete: boolean; update: boolean; delete: boolean } {
    return { lookup: true, lookupAndDelete: true, update: true, delete: true };
  }
}
