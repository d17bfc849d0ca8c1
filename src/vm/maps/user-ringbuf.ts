/**
 * `BPF_MAP_TYPE_USER_RINGBUF`: a ring buffer user space writes and programs
 * read with `bpf_user_ringbuf_drain`. Same record layout as `ringbuf.ts`
 * (8-byte header, 8-byte aligned records, positions that only grow), same
 * size rules. Programs only read samples (the kernel hands them read-only
 * dynptrs), so the data region is read-only; it is twice the ring's size so
 * that a sample crossing the end is contiguous at the address programs get.
 */
import type { AddressSpace, Region } from '../address-space.js';
import { Errno, type MapDesc, type MapOptions, type PerCpuValues, VmMap, flagsOf, mapRegion, round8 } from './map.js';
import { BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP, RINGBUF_DISCARD_BIT, RINGBUF_HDR_SZ } from './ringbuf.js';

/** The kernel drains at most this many samples per call. */
export const MAX_USER_RINGBUF_SAMPLES = 128 * 1024;

export class UserRingBufMap extends VmMap {
  readonly region: Region;
  readonly ringSize: number;
  private consPos = 0;
  private prodPos = 0;

  constructor(space: AddressSpace, desc: MapDesc, opts: MapOptions) {
    super(space, desc, opts);
    this.ringSize = this.maxEntries;
    this.region = mapRegion(space, this.name, 'ringbuf', 2 * this.ringSize, false);
  }

  get consumerPosition(): number {
    return this.consPos;
  }
  get producerPosition(): number {
    return this.prodPos;
  }

  /**
   * Writes a record at position `pos`, contiguous in the doubled region even
   * when it crosses the ring's end: the drain reads its header below the end
   * and hands programs the address of its data as one piece.
   */
  private put(pos: number, record: Uint8Array): void {
    this.space.u8.set(record, this.region.start + (pos % this.ringSize));
  }

  // ---------------------------------------------------------------- user side

  /**
   * Writes one sample (what libbpf's user_ring_buffer reserve + submit do).
   * Throws E2BIG for a sample that can never fit, ENOSPC when the ring is
   * full until programs drain it.
   */
  write(data: Uint8Array, discard = false): void {
    this.canWrite('write');
    const len = round8(data.length + RINGBUF_HDR_SZ);
    if (len > this.ringSize) throw this.error('E2BIG', 'write', `a ${data.length}-byte sample does not fit a ${this.ringSize}-byte ring`);
    if (this.prodPos + len - this.consPos > this.ringSize) throw this.error('ENOSPC', 'write', 'the ring is full');
    const rec = new Uint8Array(len);
    const v = new DataView(rec.buffer);
    v.setUint32(0, (data.length | (discard ? RINGBUF_DISCARD_BIT : 0)) >>> 0, true);
    rec.set(data, RINGBUF_HDR_SZ);
    this.put(this.prodPos, rec);
    this.prodPos += len;
  }

  // ---------------------------------------------------------------- program side

  /**
   * `bpf_user_ringbuf_drain`: calls `callback(sampleAddress, size)` for each
   * sample in order until it returns non-zero (1 stops the drain) or the
   * ring is empty, consuming each sample; discarded samples are skipped.
   * Returns the number of samples passed, or -EINVAL for bad flags.
   */
  drain(callback: (sample: number, size: number) => bigint | number, flags: number | bigint = 0): number {
    if ((flagsOf(flags) & ~(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)) !== 0n) return -Errno.EINVAL;
    let n = 0;
    while (this.consPos < this.prodPos && n < MAX_USER_RINGBUF_SAMPLES) {
      const hdr = this.region.start + (this.consPos % this.ringSize);
      const h = this.space.view.getUint32(hdr, true);
      const size = h & ~RINGBUF_DISCARD_BIT;
      this.consPos += round8(size + RINGBUF_HDR_SZ);
      if (h & RINGBUF_DISCARD_BIT) continue;
      n++;
      const ret = callback(hdr + RINGBUF_HDR_SZ, size);
      if (BigInt(ret) !== 0n) break;
    }
    return n;
  }

  override lookupValue(key: Uint8Array): Uint8Array | null {
    this.userKey(key, 'lookup');
    throw this.error('ENOTSUPP', 'lookup', 'user ring buffers are written with write()');
  }
  override updateValue(key: Uint8Array, _value: Uint8Array | PerCpuValues, _flags: number | bigint = 0): void {
    this.userKey(key, 'update');
    throw this.error('ENOTSUPP', 'update', 'user ring buffers are written with write()');
  }
  override deleteKey(key: Uint8Array): void {
    this.userKey(key, 'delete');
    throw this.error('ENOTSUPP', 'delete', 'user ring buffers have no keys');
  }
  override nextKey(key: Uint8Array | null): Uint8Array | null {
    if (key) this.userKey(key, 'get_next_key');
    throw this.error('ENOTSUPP', 'get_next_key', 'user ring buffers have no keys');
  }
}
