/**
 * Value storage for maps whose elements come and go (hash maps, LRU, LPM
 * trie): fixed-size slots in map regions of the address space, recycled
 * through a FIFO free list so a freed slot is reused as late as possible.
 * Freed slots stay mapped, as a kernel element stays readable until its RCU
 * grace period ends.
 *
 * Preallocated maps (the kernel's default for hash maps) get every slot in
 * one region up front; `BPF_F_NO_PREALLOC` maps grow in chunks that double.
 */
import type { AddressSpace, Region } from '../address-space.js';
import { mapRegion } from './map.js';

interface Chunk {
  readonly region: Region;
  /** Index of the chunk's first slot. */
  readonly first: number;
  readonly count: number;
}

/** `alloc` results that are not slots. */
export const SLOTS_FULL = -1;
export const SLOTS_NO_MEMORY = -2;

const FIRST_CHUNK = 16;

export class SlotStore {
  private readonly chunks: Chunk[] = [];
  /** Slots covered by chunks so far. */
  private mapped = 0;
  /** Slots ever handed out; those below are either live or free. */
  private fresh = 0;
  private free: number[] = [];
  private freeHead = 0;

  /**
   * @param stride bytes per slot (a multiple of 8)
   * @param capacity the most slots ever live at once
   */
  constructor(
    private readonly space: AddressSpace,
    private readonly name: string,
    readonly stride: number,
    readonly capacity: number,
    preallocate: boolean,
    private readonly writable: boolean,
  ) {
    if (preallocate) this.grow(capacity);
  }

  /** A zero-filled slot, or `SLOTS_FULL` / `SLOTS_NO_MEMORY`. */
  alloc(): number {
    let slot: number;
    if (this.freeHead < this.free.length) {
      slot = this.free[this.freeHead++]!;
      if (this.freeHead > 1024 && this.freeHead * 2 > this.free.length) {
        this.free = this.free.slice(this.freeHead);
        this.freeHead = 0;
      }
    } else if (this.fresh < this.capacity) {
      if (this.fresh >= this.mapped) {
        const want = Math.min(this.capacity - this.mapped, Math.max(FIRST_CHUNK, this.mapped));
        try {
          this.grow(want);
        } catch {
          return SLOTS_NO_MEMORY;
        }
      }
      slot = this.fresh++;
    } else {
      return SLOTS_FULL;
    }
    const a = this.addr(slot);
    this.space.u8.fill(0, a, a + this.stride);
    return slot;
  }

  release(slot: number): void {
    this.free.push(slot);
  }

  /** The address of a slot's first byte. */
  addr(slot: number): number {
    const cs = this.chunks;
    if (cs.length === 1) return cs[0]!.region.start + slot * this.stride;
    for (let k = cs.length - 1; k >= 0; k--) {
      const c = cs[k]!;
      if (slot >= c.first) return c.region.start + (slot - c.first) * this.stride;
    }
    return 0;
  }

  private grow(count: number): void {
    const k = this.chunks.length;
    const region = mapRegion(this.space, k === 0 ? this.name : `${this.name}#${k}`, 'map', count * this.stride, this.writable);
    this.chunks.push({ region, first: this.mapped, count });
    this.mapped += count;
  }
}
