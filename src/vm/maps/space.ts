/**
 * How maps live in an address space: the registry of map handles (what
 * `lddw rX, map` loads) and the regions that hold map storage.
 */
import type { AddressSpace, Region } from '../address-space.js';
import { MapError } from './errno.js';
import type { Addr, VmMap } from './map.js';

/** The largest single map region (the memory is at most 4 GiB). */
const MAX_REGION = 2 ** 31;

interface SpaceMaps {
  nextId: number;
  readonly byHandle: Map<number, VmMap>;
}
const registries = new WeakMap<AddressSpace, SpaceMaps>();

export function registry(space: AddressSpace): SpaceMaps {
  let r = registries.get(space);
  if (!r) {
    r = { nextId: 1, byHandle: new Map() };
    registries.set(space, r);
  }
  return r;
}

/** Makes `map` findable by its handle (`createMap` does this for every map it makes). */
export function registerMap(map: VmMap): void {
  registry(map.space).byHandle.set(map.handle, map);
}

/** The map whose handle is `handle` in `space`, or null. */
export function mapAt(space: AddressSpace, handle: Addr): VmMap | null {
  const h = typeof handle === 'bigint' ? (handle <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(handle) : -1) : handle;
  return registries.get(space)?.byHandle.get(h) ?? null;
}

/** Every map created in `space`, in creation order. */
export function mapsIn(space: AddressSpace): VmMap[] {
  return [...(registries.get(space)?.byHandle.values() ?? [])];
}

/**
 * Maps a region for map storage, turning a WebAssembly memory that cannot
 * grow into `ENOMEM`.
 */
export function mapRegion(space: AddressSpace, name: string, kind: 'map' | 'ringbuf', size: number, writable: boolean): Region {
  if (!Number.isSafeInteger(size) || size > MAX_REGION) {
    throw new MapError('ENOMEM', `map ${name}: ${size} bytes of storage do not fit in the vm's address space`, { map: name, size });
  }
  try {
    return space.map(name, kind, Math.max(size, 1), writable);
  } catch (e) {
    if (e instanceof RangeError) throw new MapError('ENOMEM', `map ${name}: the address space cannot grow by ${size} bytes`, { map: name, size });
    throw e;
  }
}
