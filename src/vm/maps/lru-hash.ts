/**
 * `BPF_MAP_TYPE_LRU_HASH` and `BPF_MAP_TYPE_LRU_PERCPU_HASH`: hash maps that
 * never fill up: inserting into a full map evicts the least recently used
 * element. Programs' lookups and every update count as uses; bpf(2)-side
 * lookups do not (the kernel's `lookup_elem_sys_only` leaves the reference
 * bit alone).
 *
 * The vm's LRU is exact. The kernel's is approximate (per-CPU free lists,
 * active/inactive lists with reference bits, batch shrinking), so in a full
 * map it may evict another element than the vm, and may even evict when a
 * key is replaced. Code that depends on which element goes is racy on the
 * kernel anyway. `BPF_F_NO_COMMON_LRU` (per-CPU LRU lists) keeps one list
 * here; its max_entries is rounded to a multiple of the CPU count as in the
 * kernel (see `createMap`).
 */
import type { AddressSpace } from '../address-space.js';
import { HashMap, type HashEntry } from './hash.js';
import type { MapDesc, MapOptions } from './map.js';

export class LruHashMap extends HashMap {
  /** Least recently used end. */
  private oldest: HashEntry | null = null;
  /** Most recently used end. */
  private newest: HashEntry | null = null;

  constructor(space: AddressSpace, desc: MapDesc, opts: MapOptions, percpu: boolean) {
    super(space, desc, opts, percpu);
  }

  /** Keys from the least to the most recently used (for tests and tools). */
  recency(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let e = this.oldest; e; e = e.newer) out.push(e.key.slice());
    return out;
  }

  protected override touch(e: HashEntry): void {
    if (this.newest === e) return;
    this.unlinkRecency(e);
    e.older = this.newest;
    e.newer = null;
    if (this.newest) this.newest.newer = e;
    this.newest = e;
    if (!this.oldest) this.oldest = e;
  }

  protected override evict(): boolean {
    const victim = this.oldest;
    if (!victim) return false;
    this.remove(victim);
    return true;
  }

  protected override remove(e: HashEntry): void {
    this.unlinkRecency(e);
    super.remove(e);
  }

  private unlinkRecency(e: HashEntry): void {
    const linked = e.older !== null || e.newer !== null || this.oldest === e;
    if (!linked) return;
    if (e.older) e.older.newer = e.newer;
    else this.oldest = e.newer;
    if (e.newer) e.newer.older = e.older;
    else this.newest = e.older;
    e.older = null;
    e.newer = null;
  }
}
