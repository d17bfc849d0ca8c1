/**
 * `BPF_MAP_TYPE_RINGBUF`: a multi-producer, single-consumer ring of records
 * whose data area is a 'ringbuf' region of the address space, so
 * `bpf_ringbuf_reserve` hands programs a real pointer into it.
 *
 * Layout as in the kernel: each record starts with an 8-byte header (u32
 * length with the busy bit 31 and the discard bit 30, u32 page offset), its
 * data follows, and the next record starts 8-byte aligned. Positions only
 * grow; `pos % size` is the offset. The producer never gets more than
 * `size - 1` bytes ahead of the consumer, nor of the oldest uncommitted
 * record. The kernel maps the data pages twice in a row so a record that
 * crosses the end is contiguous; the vm's region is twice the ring's size for
 * the same reason, and a commit copies the part past the end back to the
 * start, where the consumer reads it.
 */
import type { AddressSpace, Region } from '../address-space.js';
import { Errno, type MapDesc, type MapOptions, type PerCpuValues, VmMap, flagsOf, mapRegion, round8 } from './map.js';

export const RINGBUF_BUSY_BIT = 0x80000000;
export const RINGBUF_DISCARD_BIT = 0x40000000;
export const RINGBUF_HDR_SZ = 8;
/** `bpf_ringbuf_submit`/`discard`/`output` flags. */
export const BPF_RB_NO_WAKEUP = 1n;
export const BPF_RB_FORCE_WAKEUP = 2n;
/** `bpf_ringbuf_query` flags. */
export const RingbufQuery = { AVAIL_DATA: 0, RING_SIZE: 1, CONS_POS: 2, PROD_POS: 3 } as const;
/** The largest record the kernel reserves. */
const MAX_RECORD = 0x3fffffff;

export class RingBufMap extends VmMap {
  /** The data area (twice the ring size; see above). */
  readonly region: Region;
  /** Bytes of data the ring holds (max_entries). */
  readonly ringSize: number;
  private consPos = 0;
  private prodPos = 0;
  /** The oldest record that may still be uncommitted. */
  private pendingPos = 0;
  /** Called whenever the kernel would wake a consumer waiting in epoll. */
  onWakeup: (() => void) | null = null;
  /** How many wakeups were signalled. */
  wakeups = 0;

  constructor(space: AddressSpace, desc: MapDesc, opts: MapOptions) {
    super(space, desc, opts);
    this.ringSize = this.maxEntries;
    this.region = mapRegion(space, this.name, 'ringbuf', 2 * this.ringSize, true);
  }

  get consumerPosition(): number {
    return this.consPos;
  }
  get producerPosition(): number {
    return this.prodPos;
  }
  /** Bytes between the consumer and the producer. */
  get availableData(): number {
    return this.prodPos - this.consPos;
  }

  private hdrAddr(pos: number): number {
    return this.region.start + (pos % this.ringSize);
  }
  private hdrLen(pos: number): number {
    return this.space.view.getUint32(this.hdrAddr(pos), true);
  }

  // ---------------------------------------------------------------- program side

  /** `bpf_ringbuf_reserve`: the address of `size` writable bytes, or 0 (no room, or flags not 0). */
  reserve(sizeArg: number | bigint, flags: number | bigint = 0): number {
    if (flagsOf(flags) !== 0n) return 0;
    const size = typeof sizeArg === 'bigint' ? (sizeArg > BigInt(MAX_RECORD) ? MAX_RECORD + 1 : Number(sizeArg)) : sizeArg;
    if (!Number.isInteger(size) || size < 0 || size > MAX_RECORD) return 0;
    const len = round8(size + RINGBUF_HDR_SZ);
    if (len > this.ringSize) return 0;
    let pend = this.pendingPos;
    while (pend < this.prodPos) {
      const h = this.hdrLen(pend);
      if (h & RINGBUF_BUSY_BIT) break;
      pend += round8((h & ~RINGBUF_DISCARD_BIT) + RINGBUF_HDR_SZ);
    }
    this.pendingPos = pend;
    const next = this.prodPos + len;
    if (next - this.consPos > this.ringSize - 1 || next - pend > this.ringSize - 1) return 0;
    const hdr = this.hdrAddr(this.prodPos);
    const view = this.space.view;
    view.setUint32(hdr, (size | RINGBUF_BUSY_BIT) >>> 0, true);
    view.setUint32(hdr + 4, (hdr - this.region.start) >>> 12, true);
    this.prodPos = next;
    return hdr + RINGBUF_HDR_SZ;
  }

  /** `bpf_ringbuf_submit`: commits a reserved record. 0, or -EINVAL for an address that is not one. */
  submit(sample: number | bigint, flags: number | bigint = 0): number {
    return this.commit(sample, false, flagsOf(flags));
  }

  /** `bpf_ringbuf_discard`: commits a reserved record as discarded (consumers skip it). */
  discard(sample: number | bigint, flags: number | bigint = 0): number {
    return this.commit(sample, true, flagsOf(flags));
  }

  private commit(sampleArg: number | bigint, discard: boolean, flags: bigint): number {
    const sample = Number(sampleArg);
    const off = sample - RINGBUF_HDR_SZ - this.region.start;
    if (!Number.isSafeInteger(off) || off < 0 || off >= this.ringSize || off % 8 !== 0) return -Errno.EINVAL;
    const view = this.space.view;
    const hdr = this.region.start + off;
    const h = view.getUint32(hdr, true);
    if (!(h & RINGBUF_BUSY_BIT)) return -Errno.EINVAL;
    const size = h & ~(RINGBUF_BUSY_BIT | RINGBUF_DISCARD_BIT);
    const end = off + RINGBUF_HDR_SZ + size;
    if (end > this.ringSize) {
      const base = this.region.start;
      this.space.u8.copyWithin(base, base + this.ringSize, base + end);
    }
    view.setUint32(hdr, (size | (discard ? RINGBUF_DISCARD_BIT : 0)) >>> 0, true);
    const caughtUp = this.consPos % this.ringSize === off;
    if ((flags & BPF_RB_FORCE_WAKEUP) !== 0n || (caughtUp && (flags & BPF_RB_NO_WAKEUP) === 0n)) {
      this.wakeups++;
      this.onWakeup?.();
    }
    return 0;
  }

  /** `bpf_ringbuf_output`: copies `data` into a new record. 0, -EINVAL (flags) or -EAGAIN (no room). */
  output(data: Uint8Array, flags: number | bigint = 0): number {
    const f = flagsOf(flags);
    if ((f & ~(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)) !== 0n) return -Errno.EINVAL;
    const at = this.reserve(data.length);
    if (at === 0) return -Errno.EAGAIN;
    this.space.u8.set(data, at);
    return this.commit(at, false, f);
  }

  /** `bpf_ringbuf_query`. */
  query(flag: number | bigint): number {
    switch (Number(flag)) {
      case RingbufQuery.AVAIL_DATA:
        return this.prodPos - this.consPos;
      case RingbufQuery.RING_SIZE:
        return this.ringSize;
      case RingbufQuery.CONS_POS:
        return this.consPos;
      case RingbufQuery.PROD_POS:
        return this.prodPos;
      default:
        return 0;
    }
  }

  // ---------------------------------------------------------------- user side

  /**
   * Reads the committed records from the consumer position on, in order, up
   * to the first one still being written, and moves the consumer past them.
   * Discarded records are skipped.
   */
  consume(limit = Infinity): Uint8Array[] {
    const out: Uint8Array[] = [];
    while (this.consPos < this.prodPos && out.length < limit) {
      const h = this.hdrLen(this.consPos);
      if (h & RINGBUF_BUSY_BIT) break;
      const size = h & ~RINGBUF_DISCARD_BIT;
      if (!(h & RINGBUF_DISCARD_BIT)) out.push(this.readAt(this.consPos + RINGBUF_HDR_SZ, size));
      this.consPos += round8(size + RINGBUF_HDR_SZ);
    }
    return out;
  }

  /** Every record that can be read now (`consume()` without a limit). */
  drain(): Uint8Array[] {
    return this.consume();
  }

  private readAt(pos: number, size: number): Uint8Array {
    const off = pos % this.ringSize;
    const base = this.region.start;
    const u8 = this.space.u8;
    if (off + size <= this.ringSize) return u8.slice(base + off, base + off + size);
    const out = new Uint8Array(size);
    const first = this.ringSize - off;
    out.set(u8.subarray(base + off, base + this.ringSize));
    out.set(u8.subarray(base, base + size - first), first);
    return out;
  }

  override lookupValue(key: Uint8Array): Uint8Array | null {
    this.userKey(key, 'lookup');
    throw this.error('ENOTSUPP', 'lookup', 'ring buffers are read with consume()');
  }
  override updateValue(key: Uint8Array, _value: Uint8Array | PerCpuValues, _flags: number | bigint = 0): void {
    this.userKey(key, 'update');
    throw this.error('ENOTSUPP', 'update', 'ring buffers are written by programs');
  }
  override deleteKey(key: Uint8Array): void {
    this.userKey(key, 'delete');
    throw this.error('ENOTSUPP', 'delete', 'ring buffers have no keys');
  }
  override nextKey(key: Uint8Array | null): Uint8Array | null {
    if (key) this.userKey(key, 'get_next_key');
    throw this.error('ENOTSUPP', 'get_next_key', 'ring buffers have no keys');
  }
}
