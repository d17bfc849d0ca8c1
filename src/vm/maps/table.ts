/**
 * `MapTable`: the maps of one collection, by name and by handle. Helpers get
 * a map handle in r1 and resolve it here; inner maps of map-in-maps resolve
 * too, since every map of an address space is known by its handle.
 */
import type { AddressSpace } from '../address-space.js';
import { createMap } from './create.js';
import { type Addr, type MapDesc, MapError, type MapOptions, type VmMap, mapAt, mapsIn } from './map.js';

export class MapTable implements Iterable<VmMap> {
  private readonly named = new Map<string, VmMap>();

  constructor(
    readonly space: AddressSpace,
    readonly opts: MapOptions,
  ) {}

  /** Creates a map in the table's address space and adds it under its name. */
  create(desc: MapDesc): VmMap {
    if (this.named.has(desc.name)) throw new MapError('EEXIST', `a map named ${desc.name} exists already`, { map: desc.name, op: 'create' });
    const m = createMap(this.space, desc, this.opts);
    this.named.set(desc.name, m);
    return m;
  }

  /** Adds a map made elsewhere (in the same address space) under `name`. */
  add(map: VmMap, name = map.name): void {
    if (map.space !== this.space) throw new MapError('EINVAL', `map ${map.name} lives in another address space`, { map: map.name, op: 'add' });
    if (this.named.has(name)) throw new MapError('EEXIST', `a map named ${name} exists already`, { map: name, op: 'add' });
    this.named.set(name, map);
  }

  get(name: string): VmMap | undefined {
    return this.named.get(name);
  }

  /** The map whose handle `lddw rX, map` loaded (any map of the address space), or undefined. */
  byHandle(handle: Addr): VmMap | undefined {
    return mapAt(this.space, handle) ?? undefined;
  }

  /** The map of the address space with bpf(2)-style id `id` (what map-in-map lookups return). */
  byId(id: number): VmMap | undefined {
    return mapsIn(this.space).find((m) => m.id === id);
  }

  names(): string[] {
    return [...this.named.keys()];
  }

  get size(): number {
    return this.named.size;
  }

  [Symbol.iterator](): Iterator<VmMap> {
    return this.named.values();
  }
}
