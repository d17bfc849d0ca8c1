/**
 * The VM's address space: one `WebAssembly.Memory` holding typed regions
 * (stack frames, input memory, ctx, packet, later map values and ring
 * buffers). A pointer is a plain 64-bit address into this memory. The first
 * 64 KiB are never mapped, so small integers and NULL are never valid
 * pointers. Region bounds are what checked mode enforces.
 */

export type RegionKind = 'stack' | 'mem' | 'ctx' | 'packet' | 'map' | 'global' | 'ringbuf' | 'other';

export interface Region {
  readonly name: string;
  readonly kind: RegionKind;
  /** First address. */
  readonly start: number;
  /** One past the last address. */
  readonly end: number;
  readonly writable: boolean;
  /** Inactive regions (stack frames not currently live) are not accessible. */
  active: boolean;
}

const PAGE = 65536;
/** Addresses below this are never mapped. */
export const NULL_GUARD = PAGE;
/** Bytes of unmapped space left after every region, so overflows fault. */
const GAP = 64;
const ALIGN = 16;

export class AddressSpace {
  readonly memory: WebAssembly.Memory;
  private regions: Region[] = [];
  private next = NULL_GUARD;
  /** The region the last lookup hit; the interpreter checks it first. */
  last: Region | null = null;
  u8: Uint8Array;
  view: DataView;

  constructor(initialPages = 4) {
    this.memory = new WebAssembly.Memory({ initial: initialPages, maximum: 65536 });
    this.u8 = new Uint8Array(this.memory.buffer);
    this.view = new DataView(this.memory.buffer);
  }

  /** Reserves a new region of `size` bytes, zero-filled. */
  map(name: string, kind: RegionKind, size: number, writable = true): Region {
    const start = this.alloc(size);
    const r: Region = { name, kind, start, end: start + size, writable, active: true };
    this.regions.push(r);
    return r;
  }

  /**
   * Reserves `size` bytes that belong to the host (the JIT's spill and call
   * stack areas): no region covers them, so programs can never touch them.
   */
  reserve(size: number): number {
    return this.alloc(size);
  }

  private alloc(size: number): number {
    const start = this.next;
    const end = start + size;
    const needed = end + GAP;
    if (needed > this.memory.buffer.byteLength) {
      this.memory.grow(Math.ceil((needed - this.memory.buffer.byteLength) / PAGE));
      this.u8 = new Uint8Array(this.memory.buffer);
      this.view = new DataView(this.memory.buffer);
    }
    this.next = Math.ceil(needed / ALIGN) * ALIGN;
    return start;
  }

  /**
   * The region that wholly contains [addr, addr + size), or null. A write
   * needs a writable region.
   */
  find(addr: number, size: number, write: boolean): Region | null {
    const l = this.last;
    if (l !== null && addr >= l.start && addr + size <= l.end && l.active && (l.writable || !write)) return l;
    // Regions are allocated upwards and never overlap: binary search the
    // last one starting at or below addr.
    const rs = this.regions;
    let lo = 0, hi = rs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (rs[mid]!.start <= addr) lo = mid; else hi = mid - 1;
    }
    const r = rs[lo];
    if (r === undefined || !r.active || addr < r.start || addr + size > r.end) return null;
    if (write && !r.writable) return null;
    this.last = r;
    return r;
  }

  /** The active region closest to `addr`, for error messages. */
  nearest(addr: number): Region | null {
    let best: Region | null = null;
    let bestDist = Infinity;
    for (const r of this.regions) {
      if (!r.active) continue;
      const d = addr < r.start ? r.start - addr : addr >= r.end ? addr - r.end + 1 : 0;
      if (d < bestDist) { best = r; bestDist = d; }
    }
    return best;
  }

  all(): readonly Region[] {
    return this.regions;
  }

  bytes(r: Region): Uint8Array {
    return this.u8.subarray(r.start, r.end);
  }
}
